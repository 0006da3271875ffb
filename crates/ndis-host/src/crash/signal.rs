//! The fault handler.
//!
//! Installed once per process (lazily, by the first thread that sets up a driver stack) for
//! SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGTRAP with `SA_SIGINFO | SA_ONSTACK`; every thread that
//! runs driver code has its own 64 KiB alternate signal stack, so even a driver stack overflow
//! can be handled.
//!
//! A signal counts as a driver fault when the thread is inside an outermost `call_driver` and
//! either RSP is in the thread's driver stack mapping (stack, guard or slack) or RIP is inside a
//! loaded image. The handler then writes a [`Crash`] into the thread's TCB and rewrites the
//! signal context so that `sigreturn` resumes at the abandon landing (which restores the host
//! context of the outermost `call_driver`). It does not allocate, lock or format.
//!
//! Everything else is chained to the handler that was installed before ours (Rust std's, which
//! reports host stack overflows) or to the default action.

use core::ffi::{c_int, c_void};
use core::ptr;
use std::sync::{Once, OnceLock};

use super::{Access, Crash, CrashKind, Registers, registry};
use crate::abi;
use crate::abi::tcb::{self, Tcb};

const SIGNALS: [c_int; 5] = [libc::SIGSEGV, libc::SIGBUS, libc::SIGILL, libc::SIGFPE, libc::SIGTRAP];

/// Previous dispositions, in the order of [`SIGNALS`].
struct OldActions([libc::sigaction; 5]);
// SAFETY: plain data (handler addresses, masks, flags) that is never mutated after publication.
unsafe impl Sync for OldActions {}
// SAFETY: as above.
unsafe impl Send for OldActions {}

static OLD: OnceLock<OldActions> = OnceLock::new();
static INSTALL: Once = Once::new();

/// Install the handler (idempotent).
pub(crate) fn install() {
    INSTALL.call_once(|| {
        // SAFETY: an all-zero `sigaction` is a valid value (SIG_DFL, empty mask, no flags).
        let mut old: [libc::sigaction; 5] = unsafe { core::mem::zeroed() };
        for (i, &sig) in SIGNALS.iter().enumerate() {
            // SAFETY: querying the current disposition only writes `old[i]`.
            unsafe { libc::sigaction(sig, ptr::null(), &raw mut old[i]) };
        }
        if OLD.set(OldActions(old)).is_err() {
            return;
        }
        for &sig in &SIGNALS {
            // SAFETY: as above, zero is a valid starting value.
            let mut act: libc::sigaction = unsafe { core::mem::zeroed() };
            act.sa_sigaction = on_signal as *const () as usize;
            act.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
            // SAFETY: `act.sa_mask` is a valid sigset_t we own.
            unsafe { libc::sigemptyset(&raw mut act.sa_mask) };
            // SAFETY: installs a handler that is async-signal-safe (see `on_signal`).
            let r = unsafe { libc::sigaction(sig, &raw const act, ptr::null_mut()) };
            assert!(r == 0, "ndis-host: cannot install the handler for signal {sig}");
        }
    });
}

/// Index of a register in `gregs` (the libc constants are small and non-negative).
#[allow(clippy::cast_sign_loss)]
const fn reg(i: c_int) -> usize {
    i as usize
}

// greg_t is i64; registers are reinterpreted bit for bit.
#[allow(clippy::cast_sign_loss, clippy::cast_possible_wrap)]
extern "C" fn on_signal(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let tcb_ptr = tcb::current_ptr();
    // SAFETY: the kernel passes a valid ucontext_t for SA_SIGINFO handlers; we are the only code
    // touching it until we return.
    let uc = unsafe { &mut *ctx.cast::<libc::ucontext_t>() };
    let gregs = &mut uc.uc_mcontext.gregs;
    let rip = gregs[reg(libc::REG_RIP)] as u64;
    let rsp = gregs[reg(libc::REG_RSP)] as u64;

    // SAFETY: a non-null CURRENT points at this thread's live TCB; the thread is interrupted, so
    // only shared (Cell) access happens here.
    if let Some(tcb) = unsafe { tcb_ptr.as_ref() }
        && tcb.depth.get() > 0
        && tcb.abandon_rsp.get() != 0
        && (tcb.stack.in_mapping(rsp) || registry::contains_code(rip))
    {
        // SAFETY: `info` is valid for SA_SIGINFO handlers.
        let (addr, code) = unsafe { ((*info).si_addr() as u64, (*info).si_code) };
        let crash = classify(sig, code, addr, gregs, tcb);
        // SAFETY: `pending` is only accessed by this thread; the interrupted code is driver code
        // (or the bridge), which never holds a reference into it. It is None here (every
        // landing is followed by `take_pending` before the next driver call), so overwriting
        // without dropping leaks nothing, and `ptr::write` avoids running a destructor in the
        // handler.
        unsafe { ptr::write(tcb.pending.get(), Some(crash)) };
        gregs[reg(libc::REG_RIP)] = abi::landing_address() as i64;
        gregs[reg(libc::REG_RSP)] = tcb.abandon_rsp.get() as i64;
        // Clear DF and TF for the host code we resume.
        gregs[reg(libc::REG_EFL)] &= !0x500;
        return;
    }

    if abi::in_thunk_prologue(rip) {
        let msg = b"ndis-host: an import thunk was called on a thread that is not inside abi::call_driver\n";
        // SAFETY: write(2) is async-signal-safe; `msg` is a valid buffer.
        unsafe { libc::write(2, msg.as_ptr().cast(), msg.len()) };
    }
    // SAFETY: forwarding the kernel-provided arguments unchanged.
    unsafe { chain(sig, info, ctx) };
}

#[allow(clippy::cast_sign_loss)] // greg_t (i64) reinterpreted as u64
fn classify(sig: c_int, code: c_int, addr: u64, g: &[libc::greg_t; 23], tcb: &Tcb) -> Crash {
    let r = |i: c_int| g[reg(i)] as u64;
    let registers = Registers {
        rax: r(libc::REG_RAX),
        rbx: r(libc::REG_RBX),
        rcx: r(libc::REG_RCX),
        rdx: r(libc::REG_RDX),
        rsi: r(libc::REG_RSI),
        rdi: r(libc::REG_RDI),
        rbp: r(libc::REG_RBP),
        rsp: r(libc::REG_RSP),
        r8: r(libc::REG_R8),
        r9: r(libc::REG_R9),
        r10: r(libc::REG_R10),
        r11: r(libc::REG_R11),
        r12: r(libc::REG_R12),
        r13: r(libc::REG_R13),
        r14: r(libc::REG_R14),
        r15: r(libc::REG_R15),
        rip: r(libc::REG_RIP),
        eflags: r(libc::REG_EFL),
    };
    let mut rip = registers.rip;
    let kind = match sig {
        libc::SIGSEGV | libc::SIGBUS => {
            if tcb.stack.in_guard(addr) || tcb.stack.in_guard(registers.rsp) {
                CrashKind::StackOverflow
            } else if code == libc::SI_KERNEL {
                CrashKind::GeneralProtection
            } else {
                // Page fault error code: bit 1 = write, bit 4 = instruction fetch.
                let access = if r(libc::REG_TRAPNO) != 14 {
                    Access::Unknown
                } else if r(libc::REG_ERR) & 0x10 != 0 {
                    Access::Execute
                } else if r(libc::REG_ERR) & 0x2 != 0 {
                    Access::Write
                } else {
                    Access::Read
                };
                CrashKind::AccessViolation { address: addr, access }
            }
        }
        libc::SIGILL => CrashKind::IllegalInstruction,
        libc::SIGFPE => CrashKind::ArithmeticError,
        _ => {
            // int3 reports RIP after the instruction; name the int3 itself.
            if code == libc::SI_KERNEL {
                rip = rip.wrapping_sub(1);
            }
            CrashKind::Breakpoint
        }
    };
    Crash { kind, rip, rsp: registers.rsp, registers, driver_depth: tcb.depth.get() }
}

/// Pass a signal that is not a driver fault on to the previous disposition.
///
/// # Safety
/// Must be called from the signal handler with the kernel-provided arguments.
unsafe fn chain(sig: c_int, info: *mut libc::siginfo_t, ctx: *mut c_void) {
    let old = OLD.get().and_then(|o| SIGNALS.iter().position(|&s| s == sig).map(|i| o.0[i]));
    let handler = old.map_or(libc::SIG_DFL, |a| a.sa_sigaction);
    if handler == libc::SIG_DFL || handler == libc::SIG_IGN {
        // SAFETY: restoring the default disposition is async-signal-safe.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
        // A fault re-executes the instruction and now gets the default action. A SIGTRAP from
        // int3 (RIP is already past it) or a signal sent by kill() would not recur: re-raise it;
        // it stays blocked until this handler returns.
        // SAFETY: `info` is valid for SA_SIGINFO handlers.
        let code = unsafe { (*info).si_code };
        if sig == libc::SIGTRAP || code <= 0 {
            // SAFETY: raise is async-signal-safe.
            unsafe { libc::raise(sig) };
        }
        return;
    }
    let flags = old.map_or(0, |a| a.sa_flags);
    if flags & libc::SA_SIGINFO != 0 {
        // SAFETY: the previous owner installed this value as an SA_SIGINFO handler.
        let f =
            unsafe { core::mem::transmute::<usize, extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void)>(handler) };
        f(sig, info, ctx);
    } else {
        // SAFETY: the previous owner installed this value as a plain handler.
        let f = unsafe { core::mem::transmute::<usize, extern "C" fn(c_int)>(handler) };
        f(sig);
    }
}
