//! The panic handler: log the message, then stop the machine with a driver-specific bugcheck.
//!
//! rvmini is written so that no path reachable from NDIS panics (the crate denies `unwrap`,
//! `expect`, indexing and unchecked arithmetic). If one ever does, continuing would risk
//! corrupting NDIS state, so the handler does what Windows does for a fatal driver error.

use super::RVMINI_PANIC_BUGCHECK;
use core::panic::PanicInfo;

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    crate::rt::log::emit(crate::rt::log::Level::Error, format_args!("panic: {}", info.message()));
    let (file, line, column) = match info.location() {
        Some(l) => (l.file(), l.line(), l.column()),
        None => ("", 0, 0),
    };
    // SAFETY: KeBugCheckEx never returns; its parameters are plain values (the file name's
    // address and length are only printed by the debugger).
    unsafe {
        ndis_sys::KeBugCheckEx(
            RVMINI_PANIC_BUGCHECK,
            file.as_ptr() as usize,
            file.len(),
            line as usize,
            column as usize,
        )
    }
}
