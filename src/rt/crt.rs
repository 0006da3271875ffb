//! Symbols the compiler expects from a C runtime.
//!
//! - `memcpy`, `memmove`, `memset` and `memcmp` are imported from `ntoskrnl.exe` (declared in
//!   `ndis-sys`); LLVM's library calls bind to those imports.
//! - `_fltused` tells the MSVC toolchain that floating point is in use; LLVM references it if
//!   any floating-point code survives. rvmini uses none, but core's formatting machinery could
//!   pull it in, so it is defined here, as an unexported symbol (a global in `.rdata`, not a
//!   `pub` Rust item, so the cdylib does not export it).
//! - `__chkstk` is not provided: no rvmini frame reaches 4 KiB (`clippy::large_stack_frames`),
//!   and the image tests check that nothing imports or references it.

core::arch::global_asm!(".section .rdata,\"dr\"", ".globl _fltused", ".p2align 2", "_fltused:", ".long 0", ".text",);
