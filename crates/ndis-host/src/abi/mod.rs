//! The Win64 call bridge between host Rust code and driver code.
//!
//! # Driver → host: import thunks
//! Every import id (see [`crate::loader::ExportTable`]) has a 32-byte machine-code thunk in one
//! process-wide RX region ([`thunk_address`]): `mov r10d, id; jmp [common_entry]`.
//! `common_entry` spills RCX/RDX/R8/R9 into the caller's home area (so argument *i* is always
//! the 8-byte slot at `driver_rsp + 8 + 8*i`, exactly a Win64 `va_list`), records the driver
//! RSP, switches to the **host** stack of this thread (below the RSP saved by the innermost
//! [`call_driver`]), saves every Win64 callee-saved register (RBX RBP RDI RSI R12–R15
//! XMM6–XMM15) and calls the process-wide dispatcher set with [`set_dispatcher`] as
//! `dispatcher(id, &ImportCall)`. The dispatcher's `u64` goes back to the driver in RAX.
//!
//! Only integer/pointer arguments are supported: floating-point arguments in XMM0–XMM3 are not
//! forwarded (no NDIS or ntoskrnl import the driver uses takes one), and a float return value
//! cannot be produced.
//!
//! A panic in the dispatcher is caught (it must never unwind through driver frames) and turned
//! into [`CrashKind::HostPanic`], abandoning the driver call. This only happens where panics
//! unwind, i.e. in `cargo test`; the workspace profiles use `panic = "abort"`, so in the CLI a
//! host panic prints its message and aborts the process.
//!
//! # Host → driver: [`call_driver`]
//! Runs a Win64 function with up to [`MAX_DRIVER_ARGS`] integer arguments on this thread's
//! **guarded driver stack**: 24 KiB (`KERNEL_STACK_SIZE`) with a 64 KiB `PROT_NONE` guard below
//! it and a read-only 4 KiB slack page above it, allocated lazily per thread and freed when the
//! thread exits. Any thread may call it, concurrently with other threads.
//!
//! **Nesting.** If a dispatcher (running on the host stack because the driver called an import)
//! calls [`call_driver`] again, the nested driver frame is placed on the same driver stack just
//! below the driver frame that made the import call, and the host side of any further import
//! continues below the nested `call_driver`'s host frame. Driver → import → driver → import …
//! therefore nests on both stacks like it would in a kernel thread.
//!
//! **Per-thread state** lives in a thread control block reached through the GS segment base
//! (`arch_prctl(ARCH_SET_GS)`; Rust std and glibc use FS). At positive GS offsets there is a
//! zeroed 64 KiB "KPCR" area ([`kpcr_base`]) with the self pointer at `gs:[0x18]` and the PRCB
//! pointer at `gs:[0x20]`, for drivers that read the KPCR; the NDIS model may fill more of it.
//!
//! # Crashes
//! A fault while this thread runs driver code (RSP in the driver stack or its guard region, or
//! RIP inside a loaded image) is caught by a `SA_ONSTACK` signal handler, recorded as a
//! [`Crash`], and the **outermost** [`call_driver`] of the thread returns `Err(crash)`. All host
//! frames between the outermost `call_driver` and the fault (dispatchers, nested `call_driver`s)
//! are skipped without running destructors: **a dispatcher must not hold a lock, a `RefCell`
//! borrow or anything else whose drop matters while it calls [`call_driver`] or [`abandon`]**.
//! [`abandon`] does the same on purpose from inside a dispatcher (`KeBugCheckEx`, fatal verifier
//! findings). Faults outside driver context are passed on to the previously installed handler
//! (Rust std's stack-overflow reporter) or the default action.
//!
//! Other signal handlers the host installs should use `SA_ONSTACK`; otherwise an asynchronous
//! signal arriving while driver code runs pushes its frame onto the small driver stack.
//!
//! Driver code must reach the host only through thunks. Calling a thunk outside `call_driver`
//! aborts the process with a message; calling [`call_driver`] from driver code directly (not from
//! a dispatcher) panics.

mod bridge;
pub mod mem;
pub mod printf;
pub(crate) mod tcb;

use core::panic::AssertUnwindSafe;
use core::ptr;
use core::sync::atomic::{AtomicUsize, Ordering};

use crate::crash::{Crash, CrashKind, Registers};

pub use printf::format;

/// Maximum number of integer arguments [`call_driver`] passes.
pub const MAX_DRIVER_ARGS: usize = 16;
/// Number of import ids that have a thunk (ids `0..MAX_IMPORTS`).
pub const MAX_IMPORTS: usize = 4096;
/// Largest argument index [`ImportCall::arg`] accepts (exclusive).
pub const MAX_IMPORT_ARGS: usize = 32;
/// Size of every thread's driver stack (`KERNEL_STACK_SIZE` on AMD64).
pub const DRIVER_STACK_SIZE: usize = tcb::DRIVER_STACK_SIZE;

const _: () = assert!(usize::BITS == 64, "ndis-host only builds for x86_64");

/// `u64` → `usize`, lossless because this crate only builds for x86_64 (asserted above).
#[allow(clippy::cast_possible_truncation)]
pub(crate) const fn usize_of(v: u64) -> usize {
    v as usize
}

/// Bytes left free below the driver RSP of an import call before a nested driver frame.
const NEST_GAP: u64 = 64;

/// What the thunk saves on the host stack (layout fixed by `bridge::common_entry`).
#[repr(C)]
pub(crate) struct ThunkFrame {
    xmm: [u64; 20],
    _pad: u64,
    r15: u64,
    r14: u64,
    r13: u64,
    r12: u64,
    rsi: u64,
    rdi: u64,
    rbp: u64,
    rbx: u64,
    /// Driver RSP at the thunk: `[driver_rsp]` is the return address, arguments follow.
    driver_rsp: u64,
}

/// One call from driver code to an import, as seen by the dispatcher.
///
/// Arguments are the Win64 integer argument slots: `arg(0..4)` came in RCX, RDX, R8, R9 (the
/// thunk spilled them into the home area), `arg(4..)` are the caller's stack arguments. Reading
/// a slot beyond the callee's real parameter count returns whatever the caller's frame holds.
pub struct ImportCall {
    /// The import id the thunk carried.
    pub id: u32,
    frame: *const ThunkFrame,
}

impl ImportCall {
    /// The import id the thunk carried.
    #[must_use]
    pub fn id(&self) -> u32 {
        self.id
    }

    fn driver_rsp(&self) -> u64 {
        // SAFETY: `frame` points at the live ThunkFrame on the host stack for as long as the
        // dispatcher (which borrows this ImportCall) runs.
        unsafe { (*self.frame).driver_rsp }
    }

    /// Integer argument slot `i` (0-based).
    ///
    /// # Panics
    /// If `i >= MAX_IMPORT_ARGS`.
    #[must_use]
    pub fn arg(&self, i: usize) -> u64 {
        assert!(i < MAX_IMPORT_ARGS, "import argument index {i} out of range");
        let slot = self.driver_rsp() + 8 + 8 * i as u64;
        // SAFETY: the slot lies at most 8 + 8*32 bytes above the driver RSP of an active driver
        // frame. Everything above that RSP up to the stack top belongs to live driver frames,
        // and above the top is the read-only slack page (4 KiB), so the read is in mapped,
        // readable memory of this thread's driver stack.
        unsafe { (slot as *const u64).read_unaligned() }
    }

    /// Argument `i` as a pointer (no validity implied).
    #[must_use]
    pub fn arg_ptr<T>(&self, i: usize) -> *mut T {
        usize_of(self.arg(i)) as *mut T
    }

    /// Low 32 bits of argument `i` (`ULONG`, `NDIS_STATUS`, `BOOLEAN` …).
    #[must_use]
    #[allow(clippy::cast_possible_truncation)] // the low half is the value by definition
    pub fn arg_u32(&self, i: usize) -> u32 {
        self.arg(i) as u32
    }

    /// The driver address the import returns to (the instruction after the call).
    #[must_use]
    pub fn return_address(&self) -> u64 {
        // SAFETY: `[driver_rsp]` is the return address pushed by the driver's `call`; it is in
        // the mapped driver stack (see `arg`).
        unsafe { (self.driver_rsp() as *const u64).read() }
    }

    /// The driver's RSP at the call (pointing at the return address).
    #[must_use]
    pub fn stack_pointer(&self) -> u64 {
        self.driver_rsp()
    }

    /// A Win64 `va_list` starting at argument slot `first_vararg_index`
    /// (e.g. `DbgPrint(fmt, ...)` → `va_list(1)`).
    #[must_use]
    pub fn va_list(&self, first_vararg_index: usize) -> VaList {
        VaList::new(self.driver_rsp() + 8 + 8 * first_vararg_index as u64)
    }

    /// Driver register state at the call: non-volatile registers as the driver had them,
    /// RCX/RDX/R8/R9 = arguments 0..4, RIP = return address, RSP = driver RSP.
    #[must_use]
    pub fn registers(&self) -> Registers {
        // SAFETY: see `driver_rsp`.
        let f = unsafe { &*self.frame };
        Registers {
            rbx: f.rbx,
            rbp: f.rbp,
            rsi: f.rsi,
            rdi: f.rdi,
            r12: f.r12,
            r13: f.r13,
            r14: f.r14,
            r15: f.r15,
            rcx: self.arg(0),
            rdx: self.arg(1),
            r8: self.arg(2),
            r9: self.arg(3),
            rsp: f.driver_rsp,
            rip: self.return_address(),
            ..Registers::default()
        }
    }
}

/// A Win64 `va_list`: a pointer to consecutive 8-byte argument slots.
///
/// Reading through it is fault-tolerant ([`mem::read_u64`]): a wild `va_list` yields `None`
/// instead of crashing the host.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VaList {
    ptr: u64,
}

impl VaList {
    /// A `va_list` whose next argument is the slot at `ptr`.
    #[must_use]
    pub fn new(ptr: u64) -> Self {
        Self { ptr }
    }

    /// Address of the next slot.
    #[must_use]
    pub fn as_ptr(&self) -> u64 {
        self.ptr
    }

    /// Read the next slot and advance; `None` if it is not readable.
    pub fn next_u64(&mut self) -> Option<u64> {
        let v = mem::read_u64(self.ptr)?;
        self.ptr = self.ptr.wrapping_add(8);
        Some(v)
    }
}

/// The dispatcher signature: `(import id, call) -> RAX`.
pub type Dispatcher = fn(u32, &ImportCall) -> u64;

static DISPATCHER: AtomicUsize = AtomicUsize::new(0);

/// Install the process-wide import dispatcher; returns the previous one. All threads and all
/// loaded images share it; it maps import ids (from the export table) to handlers.
pub fn set_dispatcher(dispatcher: Dispatcher) -> Option<Dispatcher> {
    let prev = DISPATCHER.swap(dispatcher as usize, Ordering::AcqRel);
    dispatcher_from(prev)
}

fn dispatcher_from(v: usize) -> Option<Dispatcher> {
    if v == 0 {
        None
    } else {
        // SAFETY: non-zero values stored in DISPATCHER only ever come from `Dispatcher` fn
        // pointers in `set_dispatcher`, so transmuting back yields the same function pointer.
        Some(unsafe { core::mem::transmute::<usize, Dispatcher>(v) })
    }
}

/// Called by `common_entry` on the host stack.
extern "sysv64" fn dispatch_entry(id: u32, frame: *const ThunkFrame) -> u64 {
    let tcb = tcb::current_or_init();
    let call = ImportCall { id, frame };
    let saved_frame = tcb.frame.replace(frame);
    let result =
        std::panic::catch_unwind(AssertUnwindSafe(|| match dispatcher_from(DISPATCHER.load(Ordering::Acquire)) {
            Some(d) => d(id, &call),
            None => panic!("import #{id} called but no dispatcher is installed (abi::set_dispatcher)"),
        }));
    match result {
        Ok(v) => {
            tcb.frame.set(saved_frame);
            v
        }
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "non-string panic payload".to_owned());
            drop(payload);
            abandon(CrashKind::HostPanic(msg))
        }
    }
}

/// Address of the thunk that dispatches import `id` (callable as any Win64 function from code
/// running under [`call_driver`]).
///
/// # Panics
/// If `id >= MAX_IMPORTS`.
#[must_use]
pub fn thunk_address(id: u32) -> u64 {
    bridge::thunk_address(id)
}

/// If `addr` is one of the import thunks, its import id.
#[must_use]
pub fn thunk_id_of(addr: u64) -> Option<u32> {
    bridge::thunk_id_of(addr)
}

/// Address of a host `__chkstk` (Win64 stack probe contract: size in RAX, preserves everything
/// but R10/R11/flags) to bind with [`crate::loader::ExportTable::add_address`] if an image
/// imports `ntoskrnl.exe!__chkstk`. It probes page by page, so an oversized frame hits the
/// guard region and becomes a [`CrashKind::StackOverflow`].
#[must_use]
pub fn chkstk_address() -> u64 {
    bridge::chkstk as *const () as usize as u64
}

/// Run the Win64 function at `f` with integer arguments `args` on this thread's guarded driver
/// stack and return its RAX.
///
/// Returns `Err(crash)` if the driver faulted, overflowed its stack, or a dispatcher called
/// [`abandon`] (or panicked) — only the outermost `call_driver` of a thread returns the error;
/// nested ones (called from dispatchers) are unwound past (see the module docs).
///
/// # Panics
/// If more than [`MAX_DRIVER_ARGS`] arguments are given, if called from code running on the
/// driver stack rather than from a dispatcher, or if the thread's stacks cannot be mapped.
#[allow(clippy::result_large_err)] // `Crash` is built without allocation in the signal handler
pub fn call_driver(f: u64, args: &[u64]) -> Result<u64, Crash> {
    assert!(args.len() <= MAX_DRIVER_ARGS, "call_driver: at most {MAX_DRIVER_ARGS} arguments");
    let tcb = tcb::current_or_init();
    let depth = tcb.depth.get();
    let outermost = depth == 0;
    let driver_sp = if outermost {
        tcb.stack.top as u64
    } else {
        assert!(
            !tcb.frame.get().is_null(),
            "call_driver re-entered from driver code; driver code must call imports through thunks"
        );
        tcb.driver_rsp.get() - NEST_GAP
    };
    let mut ctx = bridge::EnterCtx { func: f, driver_sp, outermost: u64::from(outermost), args: [0; MAX_DRIVER_ARGS] };
    ctx.args[..args.len()].copy_from_slice(args);

    let saved = (tcb.host_rsp.get(), tcb.driver_rsp.get(), tcb.frame.get());
    tcb.depth.set(depth + 1);
    // SAFETY: the TCB exists (GS base set by `current_or_init`); `driver_sp` is the top of this
    // thread's driver stack or lies below the live driver frame of the import being dispatched,
    // inside the same stack; `f` is driver code by this function's contract (a wrong `f` faults
    // in driver context and is reported as a crash, it cannot corrupt host frames because the
    // driver runs on its own stack).
    let ret = unsafe { bridge::enter_driver(&raw const ctx) };

    if let Some(crash) = tcb.take_pending() {
        // Only the outermost call of the thread is resumed by the landing.
        debug_assert!(outermost);
        tcb.depth.set(0);
        tcb.host_rsp.set(0);
        tcb.driver_rsp.set(0);
        tcb.abandon_rsp.set(0);
        tcb.frame.set(ptr::null());
        return Err(crash);
    }
    tcb.depth.set(depth);
    tcb.host_rsp.set(saved.0);
    tcb.driver_rsp.set(saved.1);
    tcb.frame.set(saved.2);
    if outermost {
        tcb.abandon_rsp.set(0);
    }
    Ok(ret)
}

/// Abandon the current driver call from inside a dispatcher: record a crash of `kind` whose RIP
/// is the driver's return address from the innermost import call, and make the outermost
/// [`call_driver`] of this thread return `Err`. Host frames in between are skipped without
/// running destructors (see the module docs).
///
/// # Panics
/// If the current thread is not inside an import dispatcher.
pub fn abandon(kind: CrashKind) -> ! {
    let tcb_ptr = tcb::current_ptr();
    // SAFETY: non-null CURRENT points at this thread's live TCB (see `tcb::current_ptr`).
    let tcb = unsafe { tcb_ptr.as_ref() };
    let Some(tcb) = tcb.filter(|t| t.depth.get() > 0 && !t.frame.get().is_null()) else {
        panic!("abi::abandon({kind:?}) called outside an import dispatcher");
    };
    let call = ImportCall { id: u32::MAX, frame: tcb.frame.get() };
    let registers = call.registers();
    let crash = Crash { kind, rip: registers.rip, rsp: registers.rsp, registers, driver_depth: tcb.depth.get() };
    // SAFETY: see `Tcb::take_pending`; no reference into `pending` is live.
    unsafe { *tcb.pending.get() = Some(crash) };
    // SAFETY: this thread is inside an outermost `enter_driver` (depth > 0), so `abandon_rsp`
    // holds its saved host context; the landing restores it and returns from that call.
    unsafe { bridge_jump_to_landing() }
}

/// Jump (not call) to the abandon landing.
///
/// # Safety
/// The current thread must be inside an outermost `enter_driver`.
unsafe fn bridge_jump_to_landing() -> ! {
    // SAFETY: forwarded contract; the landing never returns here.
    unsafe {
        core::arch::asm!("jmp {landing}", landing = sym bridge::abandon_landing, options(noreturn));
    }
}

/// Address of the landing, for the signal handler.
pub(crate) fn landing_address() -> u64 {
    bridge::abandon_landing as *const () as usize as u64
}

/// True if `rip` is in the part of `common_entry` that runs before the TCB check.
pub(crate) fn in_thunk_prologue(rip: u64) -> bool {
    let start = bridge::common_entry as *const () as usize as u64;
    rip >= start && rip < start + bridge::COMMON_ENTRY_PROLOGUE as u64
}

/// True if the current thread is executing a driver call (driver code or a dispatcher).
#[must_use]
pub fn is_in_driver_context() -> bool {
    // SAFETY: see `abandon`.
    unsafe { tcb::current_ptr().as_ref() }.is_some_and(|t| t.depth.get() > 0)
}

/// Number of nested [`call_driver`] levels active on this thread (0 outside driver calls).
#[must_use]
pub fn driver_call_depth() -> u32 {
    // SAFETY: see `abandon`.
    unsafe { tcb::current_ptr().as_ref() }.map_or(0, |t| t.depth.get())
}

/// Deepest driver stack use on this thread, in bytes, since the stack was allocated or since
/// [`reset_driver_stack_high_water`]: the stack is filled with a pattern and scanned for the
/// lowest overwritten word. 0 if this thread never called the driver.
#[must_use]
pub fn max_driver_stack_depth() -> usize {
    // SAFETY: see `abandon`.
    unsafe { tcb::current_ptr().as_ref() }.map_or(0, tcb::Tcb::high_water)
}

/// Refill this thread's driver stack with the measurement pattern, so that
/// [`max_driver_stack_depth`] measures from now on. Returns `false` (and does nothing) inside a
/// driver call or if the thread has no driver stack yet.
#[must_use = "the reset is refused inside a driver call"]
pub fn reset_driver_stack_high_water() -> bool {
    // SAFETY: see `abandon`.
    let Some(t) = (unsafe { tcb::current_ptr().as_ref() }) else { return false };
    if t.depth.get() > 0 {
        return false;
    }
    tcb::fill_pattern(t.stack.bottom, t.stack.top);
    true
}

/// Base of this thread's fake KPCR area (the GS base), creating the thread's TCB if needed.
/// 64 KiB of zeroed, writable memory the NDIS model may fill; `+0x18` and `+0x20` are
/// pre-filled with the KPCR self pointer and `base + 0x180` (PRCB).
#[must_use]
pub fn kpcr_base() -> u64 {
    tcb::current_or_init().kpcr() as u64
}

/// Range `[lo, hi)` of this thread's driver stack mapping including its guard region and slack
/// page, creating it if needed. For diagnostics and tests.
#[must_use]
pub fn driver_stack_range() -> (u64, u64) {
    let s = tcb::current_or_init().stack;
    (s.map_base as u64, (s.map_base + s.map_len) as u64)
}
