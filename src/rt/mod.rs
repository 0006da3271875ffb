//! The kernel runtime: what a `no_std` kernel image needs that no CRT provides.
//!
//! Two implementations, chosen at build time:
//! - by default, rvmini's own thin runtime ([`panic`], [`alloc`]): a panic handler that logs and
//!   bugchecks with [`RVMINI_PANIC_BUGCHECK`], and a global allocator over `ExAllocatePool2`
//!   (non-paged, pool tag `RvMi`) that honours alignment;
//! - with the cargo feature `wdk` (Windows hosts with the WDK), the windows-drivers-rs crates:
//!   `wdk-panic` and `wdk-alloc`.
//!
//! Logging ([`log`]) goes through `DbgPrintEx` under `DPFLTR_IHVNETWORK_ID` in both cases.
//! [`crt`] provides the symbols the compiler expects from a C runtime.

pub mod alloc;
pub mod crt;
pub mod log;
#[cfg(not(feature = "wdk"))]
pub mod panic;

/// The bugcheck code rvmini's panic handler raises: ASCII `RVMP`. Parameters: address and length
/// of the source file name, line, column.
pub const RVMINI_PANIC_BUGCHECK: u32 = u32::from_be_bytes(*b"RVMP");

/// The pool tag of every rvmini allocation: `RvMi` as it appears in `!poolused` (tags are
/// stored little-endian, so the constant is the byte-reversed spelling).
pub const POOL_TAG: u32 = u32::from_le_bytes(*b"RvMi");

#[cfg(feature = "wdk")]
extern crate wdk_panic as _;
