//! Hand-written machine code of the call bridge: `enter_driver` (host → driver),
//! `common_entry` (driver → host, reached from the per-import thunks), the abandon landing, a
//! register-preserving `__chkstk`, and the run-time generated thunk page.
//!
//! Register conventions (AMD64):
//! * Win64 callee-saved: RBX RBP RDI RSI R12–R15 XMM6–XMM15 (low 128 bits), DF clear.
//! * SysV callee-saved:  RBX RBP R12–R15. RDI/RSI/XMM6–15 are caller-saved in SysV, so
//!   `common_entry` saves them itself before calling Rust.
//! * Every `call` is made with RSP ≡ 0 (mod 16).

use core::arch::naked_asm;
use core::mem::offset_of;
use std::sync::OnceLock;

use super::tcb::{Tcb, gs_offset};
use super::{MAX_DRIVER_ARGS, MAX_IMPORTS, ThunkFrame};

/// Bytes below the saved host RSP that the thunk leaves untouched before building its frame.
const HOST_GAP: usize = 256;
/// Stack argument slots `enter_driver` always copies (args 5..=16).
const STACK_ARG_SLOTS: usize = MAX_DRIVER_ARGS - 4;
/// Driver frame `enter_driver` allocates below the chosen start: 32-byte home area + stack args.
const ENTER_FRAME: usize = 32 + 8 * STACK_ARG_SLOTS;
const _: () = assert!(ENTER_FRAME.is_multiple_of(16));
const _: () = assert!(core::mem::size_of::<ThunkFrame>() == 240);

/// Input of [`enter_driver`].
#[repr(C)]
pub(crate) struct EnterCtx {
    pub func: u64,
    /// Highest address the new driver frame may use (exclusive); aligned down to 16.
    pub driver_sp: u64,
    /// Non-zero for the outermost call on this thread: records the abandon context.
    pub outermost: u64,
    pub args: [u64; MAX_DRIVER_ARGS],
}

/// Run `ctx.func` (a Win64 function) on the driver stack.
///
/// Saves the SysV callee-saved registers on the host stack, publishes the host RSP in the TCB
/// (`host_rsp`, and `abandon_rsp` for the outermost call), switches RSP to the driver stack,
/// builds the home area and stack arguments, calls, switches back and returns RAX.
///
/// # Safety
/// The current thread's GS base must point at its TCB, `ctx.driver_sp` must be inside this
/// thread's driver stack with room below it, and `ctx.func` must be Win64 code.
#[unsafe(naked)]
pub(crate) unsafe extern "sysv64" fn enter_driver(ctx: *const EnterCtx) -> u64 {
    // The asm only touches the host stack above the saved RSP, the TCB through GS, `*ctx`, and
    // the driver stack below `ctx.driver_sp`; see the function's safety contract.
    naked_asm!(
        "push rbx",
        "push rbp",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "sub rsp, 8",
        "mov qword ptr gs:[{host_rsp}], rsp",
        "cmp qword ptr [rdi + {outermost}], 0",
        "je 2f",
        "mov qword ptr gs:[{abandon_rsp}], rsp",
        "stmxcsr dword ptr gs:[{mxcsr}]",
        "fnstcw word ptr gs:[{fcw}]",
        "2:",
        "mov rax, qword ptr [rdi + {driver_sp}]",
        "and rax, -16",
        "sub rax, {frame}",
        "mov rsp, rax",
        "xor ecx, ecx",
        "3:",
        "mov rax, qword ptr [rdi + {args} + 32 + rcx*8]",
        "mov qword ptr [rsp + 32 + rcx*8], rax",
        "inc ecx",
        "cmp ecx, {slots}",
        "jb 3b",
        "mov r11, qword ptr [rdi + {func}]",
        "mov rcx, qword ptr [rdi + {args}]",
        "mov rdx, qword ptr [rdi + {args} + 8]",
        "mov r8, qword ptr [rdi + {args} + 16]",
        "mov r9, qword ptr [rdi + {args} + 24]",
        "cld",
        "call r11",
        "mov rsp, qword ptr gs:[{host_rsp}]",
        "add rsp, 8",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbp",
        "pop rbx",
        "ret",
        host_rsp = const gs_offset(offset_of!(Tcb, host_rsp)),
        abandon_rsp = const gs_offset(offset_of!(Tcb, abandon_rsp)),
        mxcsr = const gs_offset(offset_of!(Tcb, mxcsr)),
        fcw = const gs_offset(offset_of!(Tcb, fcw)),
        outermost = const offset_of!(EnterCtx, outermost),
        driver_sp = const offset_of!(EnterCtx, driver_sp),
        func = const offset_of!(EnterCtx, func),
        args = const offset_of!(EnterCtx, args),
        frame = const ENTER_FRAME,
        slots = const STACK_ARG_SLOTS,
    )
}

/// Where a crashed or abandoned driver call resumes: restores the host context saved by the
/// outermost [`enter_driver`] of this thread and returns from it (RAX = 0; the caller looks at
/// the TCB's pending crash to tell this apart from a normal return).
///
/// Reached either by the signal handler rewriting RIP/RSP in the signal context, or by a jump
/// from `abandon`. Never called.
#[unsafe(naked)]
pub(crate) unsafe extern "sysv64" fn abandon_landing() -> ! {
    // Restores exactly the layout `enter_driver` pushed; the caller guarantees abandon_rsp is set.
    naked_asm!(
        "mov rsp, qword ptr gs:[{abandon_rsp}]",
        "fninit",
        "fldcw word ptr gs:[{fcw}]",
        "ldmxcsr dword ptr gs:[{mxcsr}]",
        "cld",
        "add rsp, 8",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rbp",
        "pop rbx",
        "xor eax, eax",
        "ret",
        abandon_rsp = const gs_offset(offset_of!(Tcb, abandon_rsp)),
        mxcsr = const gs_offset(offset_of!(Tcb, mxcsr)),
        fcw = const gs_offset(offset_of!(Tcb, fcw)),
    )
}

/// Shared body of every import thunk. Entered by `jmp` from a thunk with R10 = import id and
/// the driver's return address at `[rsp]`.
#[unsafe(naked)]
pub(crate) unsafe extern "win64" fn common_entry() {
    // Spills the register arguments into the caller's home area, switches to the host stack of
    // the innermost `enter_driver`, saves every Win64 callee-saved register into a `ThunkFrame`,
    // calls the Rust dispatcher, restores and returns to the driver with RAX.
    naked_asm!(
        "mov qword ptr [rsp + 8], rcx",
        "mov qword ptr [rsp + 16], rdx",
        "mov qword ptr [rsp + 24], r8",
        "mov qword ptr [rsp + 32], r9",
        // Only driver code (running on this thread's driver stack) may call a thunk.
        "mov r11, rsp",
        "sub r11, qword ptr gs:[{stack_lo}]",
        "cmp r11, qword ptr gs:[{stack_len}]",
        "jae 5f",
        "mov r11, qword ptr gs:[{host_rsp}]",
        "test r11, r11",
        "jz 5f",
        "mov rax, rsp",
        "mov qword ptr gs:[{driver_rsp}], rax",
        "sub r11, {gap}",
        "and r11, -16",
        "mov rsp, r11",
        "push rax",
        "push rbx",
        "push rbp",
        "push rdi",
        "push rsi",
        "push r12",
        "push r13",
        "push r14",
        "push r15",
        "sub rsp, 168",
        "movdqu xmmword ptr [rsp + 0], xmm6",
        "movdqu xmmword ptr [rsp + 16], xmm7",
        "movdqu xmmword ptr [rsp + 32], xmm8",
        "movdqu xmmword ptr [rsp + 48], xmm9",
        "movdqu xmmword ptr [rsp + 64], xmm10",
        "movdqu xmmword ptr [rsp + 80], xmm11",
        "movdqu xmmword ptr [rsp + 96], xmm12",
        "movdqu xmmword ptr [rsp + 112], xmm13",
        "movdqu xmmword ptr [rsp + 128], xmm14",
        "movdqu xmmword ptr [rsp + 144], xmm15",
        "cld",
        "mov edi, r10d",
        "mov rsi, rsp",
        "call {dispatch}",
        "movdqu xmm6, xmmword ptr [rsp + 0]",
        "movdqu xmm7, xmmword ptr [rsp + 16]",
        "movdqu xmm8, xmmword ptr [rsp + 32]",
        "movdqu xmm9, xmmword ptr [rsp + 48]",
        "movdqu xmm10, xmmword ptr [rsp + 64]",
        "movdqu xmm11, xmmword ptr [rsp + 80]",
        "movdqu xmm12, xmmword ptr [rsp + 96]",
        "movdqu xmm13, xmmword ptr [rsp + 112]",
        "movdqu xmm14, xmmword ptr [rsp + 128]",
        "movdqu xmm15, xmmword ptr [rsp + 144]",
        "add rsp, 168",
        "pop r15",
        "pop r14",
        "pop r13",
        "pop r12",
        "pop rsi",
        "pop rdi",
        "pop rbp",
        "pop rbx",
        "pop rsp",
        "ret",
        // Not called by driver code under call_driver on this thread: report and abort (RSP is
        // a host stack, aligning it down only uses free space below the caller's frame).
        "5:",
        "and rsp, -16",
        "mov edi, r10d",
        "call {misuse}",
        "ud2",
        host_rsp = const gs_offset(offset_of!(Tcb, host_rsp)),
        driver_rsp = const gs_offset(offset_of!(Tcb, driver_rsp)),
        stack_lo = const gs_offset(offset_of!(Tcb, stack_lo)),
        stack_len = const gs_offset(offset_of!(Tcb, stack_len)),
        gap = const HOST_GAP,
        dispatch = sym super::dispatch_entry,
        misuse = sym thunk_misuse,
    )
}

/// Bytes of `common_entry` that can fault on a thread without a TCB (the GS read is the 5th
/// instruction); used by the signal handler to print a useful message.
pub(crate) const COMMON_ENTRY_PROLOGUE: usize = 64;

extern "sysv64" fn thunk_misuse(id: u32) -> ! {
    eprintln!(
        "ndis-host: import thunk #{id} was called outside driver code: thunks may only be called by \
         code running on this thread's driver stack under abi::call_driver"
    );
    std::process::abort()
}

/// `__chkstk` with the Win64 contract: RAX = bytes about to be allocated below the caller's
/// RSP; probes every page from the current one downwards in order (so that an overflow hits
/// the guard page); preserves every register except R10, R11 and the flags.
#[unsafe(naked)]
pub(crate) unsafe extern "win64" fn chkstk() {
    // Only reads stack memory between the caller's RSP and RSP - RAX.
    naked_asm!(
        "lea r10, [rsp + 8]",
        "sub r10, rax",
        "jnc 2f",
        "xor r10d, r10d",
        "2:",
        "mov r11, rsp",
        "and r11, -4096",
        "3:",
        "cmp r11, r10",
        "jbe 4f",
        "sub r11, 4096",
        "test byte ptr [r11], al",
        "jmp 3b",
        "4:",
        "ret",
    )
}

/// Bytes per generated thunk.
pub(crate) const THUNK_SIZE: usize = 32;

/// The RX page(s) holding one thunk per possible import id.
struct ThunkRegion {
    base: usize,
}

static THUNKS: OnceLock<ThunkRegion> = OnceLock::new();

fn thunk_region() -> &'static ThunkRegion {
    THUNKS.get_or_init(|| {
        // Thunks exist from now on: make sure a misused one is reported by the fault handler.
        crate::crash::signal::install();
        let len = MAX_IMPORTS * THUNK_SIZE;
        // SAFETY: fresh anonymous RW mapping; nothing else refers to it.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert!(p != libc::MAP_FAILED, "ndis-host: cannot map the import thunk page");
        let target = common_entry as *const () as usize as u64;
        for id in 0..MAX_IMPORTS {
            let mut stub = [0xCCu8; THUNK_SIZE];
            // mov r10d, imm32
            stub[0] = 0x41;
            stub[1] = 0xBA;
            stub[2..6].copy_from_slice(&u32::try_from(id).expect("MAX_IMPORTS fits u32").to_le_bytes());
            // jmp qword ptr [rip + 0]
            stub[6..12].copy_from_slice(&[0xFF, 0x25, 0, 0, 0, 0]);
            stub[12..20].copy_from_slice(&target.to_le_bytes());
            // SAFETY: `id * THUNK_SIZE + THUNK_SIZE <= len`, inside the RW mapping above.
            unsafe {
                core::ptr::copy_nonoverlapping(stub.as_ptr(), p.cast::<u8>().add(id * THUNK_SIZE), THUNK_SIZE);
            }
        }
        // SAFETY: our own mapping; from now on it is never written again (W^X).
        let r = unsafe { libc::mprotect(p, len, libc::PROT_READ | libc::PROT_EXEC) };
        assert!(r == 0, "ndis-host: cannot make the import thunk page executable");
        ThunkRegion { base: p as usize }
    })
}

/// Address of the thunk that dispatches import `id`.
pub(crate) fn thunk_address(id: u32) -> u64 {
    let idx = id as usize;
    assert!(idx < MAX_IMPORTS, "import id {id} exceeds the thunk capacity {MAX_IMPORTS}");
    (thunk_region().base + idx * THUNK_SIZE) as u64
}

/// If `addr` is inside the thunk region, the import id of that thunk.
pub(crate) fn thunk_id_of(addr: u64) -> Option<u32> {
    let r = THUNKS.get()?;
    let off = super::usize_of(addr).checked_sub(r.base)?;
    if off < MAX_IMPORTS * THUNK_SIZE { u32::try_from(off / THUNK_SIZE).ok() } else { None }
}
