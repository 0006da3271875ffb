//! Time. In threaded mode the host's clock is the monotonic clock; in deterministic mode it is
//! virtual and advances only when the scheduler fires a timer, so runs reproduce exactly.
//!
//! Units are 100 ns, as Windows counts (`KeQueryPerformanceCounter` reports a 10 MHz
//! frequency; `NdisGetCurrentSystemTime` counts from 1601-01-01).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// 2026-01-01T00:00:00Z in 100 ns units since 1601-01-01: the system time at start.
pub const EPOCH_FILETIME: u64 = 134_115_264_000_000_000;

/// The performance counter frequency reported to the driver (10 MHz).
pub const PERF_FREQUENCY: u64 = 10_000_000;

/// The host clock.
#[derive(Debug)]
pub struct Clock {
    start: Instant,
    virtual_now: Option<AtomicU64>,
}

impl Clock {
    /// A real clock.
    #[must_use]
    pub fn real() -> Self {
        Self { start: Instant::now(), virtual_now: None }
    }

    /// A virtual clock at 0.
    #[must_use]
    pub fn virtual_clock() -> Self {
        Self { start: Instant::now(), virtual_now: Some(AtomicU64::new(0)) }
    }

    /// True for a virtual clock.
    #[must_use]
    pub fn is_virtual(&self) -> bool {
        self.virtual_now.is_some()
    }

    /// Now, in 100 ns units since the host started.
    #[must_use]
    pub fn now(&self) -> u64 {
        match &self.virtual_now {
            Some(v) => v.load(Ordering::Acquire),
            None => u64::try_from(self.start.elapsed().as_nanos() / 100).unwrap_or(u64::MAX),
        }
    }

    /// Moves a virtual clock forward to `t` (never back); no effect on a real clock.
    pub fn advance_to(&self, t: u64) {
        if let Some(v) = &self.virtual_now {
            v.fetch_max(t, Ordering::AcqRel);
        }
    }

    /// Moves a virtual clock forward by `d`.
    pub fn advance_by(&self, d: u64) {
        if let Some(v) = &self.virtual_now {
            v.fetch_add(d, Ordering::AcqRel);
        }
    }

    /// System time as a Windows FILETIME (100 ns since 1601).
    #[must_use]
    pub fn system_time(&self) -> u64 {
        EPOCH_FILETIME.saturating_add(self.now())
    }

    /// Converts a Windows due time (negative: relative 100 ns; positive: absolute system time)
    /// to host clock time.
    #[must_use]
    pub fn due(&self, due_time: i64) -> u64 {
        if due_time < 0 {
            self.now().saturating_add(due_time.unsigned_abs())
        } else {
            due_time.cast_unsigned().saturating_sub(EPOCH_FILETIME)
        }
    }
}
