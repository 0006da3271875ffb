//! Crash capture and symbolisation.
//!
//! * [`Crash`] / [`CrashKind`]: what [`crate::abi::call_driver`] returns when a driver call ends
//!   abnormally (fault, stack overflow, bug check, host panic in an import handler, …).
//! * [`describe`]: turn any address into `rvmini.sys+0x1a2b (rvmini::path::func+0x3c)` using the
//!   symbols of the loaded image that contains it (see [`symbols`]).
//! * `signal` (internal): the `SIGSEGV`/`SIGBUS`/`SIGILL`/`SIGFPE`/`SIGTRAP` handler that turns a
//!   fault in driver context into a [`Crash`] and chains every other fault to the previous
//!   handler (Rust std's stack-overflow reporter) or the default action.

pub(crate) mod registry;
pub(crate) mod signal;
pub mod symbols;

use std::fmt;

/// Kind of memory access that faulted, derived from the page-fault error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
    Execute,
    /// Not a page fault, or the kernel did not say.
    Unknown,
}

/// Why a driver call was abandoned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrashKind {
    /// Page fault on an unmapped or protected address.
    AccessViolation { address: u64, access: Access },
    /// The driver ran past the bottom of its 24 KiB stack into the guard region.
    StackOverflow,
    /// `ud2` or another invalid opcode (SIGILL).
    IllegalInstruction,
    /// `int3` (SIGTRAP).
    Breakpoint,
    /// `KeBugCheckEx` (reported by the NDIS model through [`crate::abi::abandon`]).
    BugCheck { code: u32, params: [u64; 4] },
    /// A host import handler panicked.
    HostPanic(String),
    /// General-protection fault (SIGSEGV without a fault address): a privileged instruction
    /// (`cli`, `mov cr8`, `hlt`, `in`/`out`, `int 2c` …) or a non-canonical address.
    GeneralProtection,
    /// Integer divide error or overflow (SIGFPE).
    ArithmeticError,
    /// A fatal finding the host reports through [`crate::abi::abandon`] (e.g. the verifier).
    Fatal(String),
}

impl fmt::Display for CrashKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AccessViolation { address, access } => {
                let what = match access {
                    Access::Read => "reading",
                    Access::Write => "writing",
                    Access::Execute => "executing",
                    Access::Unknown => "accessing",
                };
                write!(f, "access violation {what} {address:#x}")
            }
            Self::StackOverflow => {
                write!(f, "driver stack overflow ({} KiB kernel stack exhausted)", crate::abi::DRIVER_STACK_SIZE / 1024)
            }
            Self::IllegalInstruction => f.write_str("illegal instruction"),
            Self::Breakpoint => f.write_str("breakpoint (int3)"),
            Self::BugCheck { code, params } => write!(
                f,
                "bug check {code:#010x} ({:#x}, {:#x}, {:#x}, {:#x})",
                params[0], params[1], params[2], params[3]
            ),
            Self::HostPanic(m) => write!(f, "host panic in an import handler: {m}"),
            Self::GeneralProtection => {
                f.write_str("general protection fault (privileged instruction or non-canonical address)")
            }
            Self::ArithmeticError => f.write_str("integer divide error"),
            Self::Fatal(m) => f.write_str(m),
        }
    }
}

/// General-purpose register snapshot. For faults it is the full context of the faulting
/// instruction; for [`crate::abi::abandon`] it is the driver's state at the import call (the
/// volatile RAX, R10, R11 and EFLAGS are 0 there).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Registers {
    pub rax: u64,
    pub rbx: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    pub rbp: u64,
    pub rsp: u64,
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rip: u64,
    pub eflags: u64,
}

/// An abnormal end of a driver call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crash {
    pub kind: CrashKind,
    /// Faulting instruction (for `abandon`: the driver's return address from the import call;
    /// for `int3`: the address of the `int3`).
    pub rip: u64,
    /// Stack pointer at the fault.
    pub rsp: u64,
    pub registers: Registers,
    /// Number of nested `call_driver` levels that were active on the thread.
    pub driver_depth: u32,
}

impl fmt::Display for Crash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at {} (rsp {:#x}, driver call depth {})",
            self.kind,
            describe(self.rip),
            self.rsp,
            self.driver_depth
        )
    }
}

impl std::error::Error for Crash {}

/// Describe an address: `image+0xRVA (symbol+0xOFF)` inside a loaded image, `import thunk #N`
/// for a thunk, otherwise the plain hexadecimal address.
#[must_use]
pub fn describe(addr: u64) -> String {
    if let Some(info) = registry::find(addr) {
        return info.describe(addr);
    }
    if let Some(id) = crate::abi::thunk_id_of(addr) {
        return format!("import thunk #{id}");
    }
    format!("{addr:#x}")
}
