//! Logging through `DbgPrintEx` under the IHV networking component (`DPFLTR_IHVNETWORK_ID`).
//!
//! Messages are formatted with `core::fmt` into a fixed 256-byte buffer on the stack (no
//! allocation, usable at DISPATCH_LEVEL) and printed with a `%s` format, so a `%` in a message
//! is never interpreted. Each message carries the driver name and, when it concerns one, the
//! adapter's NDIS handle.
//!
//! Two filters apply: rvmini's own [`set_max_level`] (from the adapter's `LogLevel` advanced
//! property, default: errors only), and Windows' component filter (`Kd_IHVNETWORK_Mask`; see
//! docs/windows-vm.md for raising it in WinDbg or the registry).

use core::fmt::{self, Write};
use core::sync::atomic::{AtomicU32, Ordering};

/// Message severity, as the `LogLevel` advanced property counts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[repr(u32)]
pub enum Level {
    /// Always printed.
    Error = 0,
    /// `LogLevel` ≥ 1.
    Warning = 1,
    /// `LogLevel` ≥ 2.
    Info = 2,
    /// `LogLevel` ≥ 3.
    Verbose = 3,
}

static MAX_LEVEL: AtomicU32 = AtomicU32::new(0);

/// Raises rvmini's log level to at least `level` (the most verbose adapter wins).
pub fn set_max_level(level: u32) {
    MAX_LEVEL.fetch_max(level, Ordering::Relaxed);
}

/// True if messages of `level` are printed.
#[must_use]
pub fn enabled(level: Level) -> bool {
    (level as u32) <= MAX_LEVEL.load(Ordering::Relaxed)
}

const CAPACITY: usize = 256;

struct Line {
    buf: [u8; CAPACITY],
    len: usize,
}

impl Write for Line {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Keep one byte for the terminating NUL; truncate silently beyond that.
        let room = CAPACITY.saturating_sub(1).saturating_sub(self.len);
        let take = s.len().min(room);
        if let (Some(dst), Some(src)) =
            (self.buf.get_mut(self.len..self.len.saturating_add(take)), s.as_bytes().get(..take))
        {
            dst.copy_from_slice(src);
            self.len = self.len.saturating_add(take);
        }
        Ok(())
    }
}

/// Formats and prints one message (no filtering by rvmini's level: see [`enabled`]).
pub fn emit(level: Level, args: fmt::Arguments<'_>) {
    let mut line = Line { buf: [0; CAPACITY], len: 0 };
    let _ = line.write_str("rvmini: ");
    let _ = line.write_fmt(args);
    let _ = line.write_str("\n");
    if let Some(nul) = line.buf.get_mut(line.len) {
        *nul = 0;
    }
    let dpflt = match level {
        Level::Error => ndis_sys::DPFLTR_ERROR_LEVEL,
        Level::Warning => ndis_sys::DPFLTR_WARNING_LEVEL,
        Level::Info => ndis_sys::DPFLTR_TRACE_LEVEL,
        Level::Verbose => ndis_sys::DPFLTR_INFO_LEVEL,
    };
    // SAFETY: both format strings are NUL-terminated, and `line.buf` is NUL-terminated within
    // its bounds; DbgPrintEx reads them only during the call. `%s` prints the buffer verbatim.
    unsafe { ndis_sys::DbgPrintEx(ndis_sys::DPFLTR_IHVNETWORK_ID, dpflt, c"%s".as_ptr(), line.buf.as_ptr()) };
}

/// Logs at a level if rvmini's log level allows it: `log!(Warning, "...", args)`.
#[macro_export]
macro_rules! log {
    ($level:ident, $($arg:tt)+) => {
        if $crate::rt::log::enabled($crate::rt::log::Level::$level) {
            $crate::rt::log::emit($crate::rt::log::Level::$level, format_args!($($arg)+));
        }
    };
}
