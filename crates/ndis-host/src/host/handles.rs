//! Opaque handle values for the driver.
//!
//! NDIS handles (adapter handles, pool handles, work items, timers, configuration handles) are
//! opaque to a miniport. The host hands out values inside one reserved, inaccessible address
//! range (1 GiB mapped `PROT_NONE`, once per process), so a driver that dereferences a handle
//! faults at once and gets a crash report, and handle values are deterministic: the n-th
//! handle of a host is always the same offset.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

const REGION: usize = 1 << 30;
const STRIDE: u64 = 0x40;

static BASE: OnceLock<u64> = OnceLock::new();

fn base() -> u64 {
    *BASE.get_or_init(|| {
        // SAFETY: an anonymous, private, inaccessible reservation; nothing else uses it, and it
        // is never unmapped (it lives as long as the process).
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                REGION,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        assert!(p != libc::MAP_FAILED, "cannot reserve the handle region");
        p as u64
    })
}

/// Hands out handle values for one host.
#[derive(Debug)]
pub struct Handles {
    next: AtomicU64,
    start: u64,
}

/// Each host gets its own slice of the region.
static HOST_SLICE: AtomicU64 = AtomicU64::new(0);
const SLICE: u64 = 1 << 24;

impl Default for Handles {
    fn default() -> Self {
        let slice = HOST_SLICE.fetch_add(1, Ordering::Relaxed) % ((REGION as u64) / SLICE);
        Self { next: AtomicU64::new(1), start: base() + slice * SLICE }
    }
}

impl Handles {
    /// A new handle value (never null, never reused within the host).
    pub fn next(&self) -> u64 {
        let n = self.next.fetch_add(1, Ordering::Relaxed) % (SLICE / STRIDE);
        self.start + n.max(1) * STRIDE
    }

    /// True if `value` lies in the handle region (of any host).
    #[must_use]
    pub fn is_handle(value: u64) -> bool {
        let b = base();
        value >= b && value < b + REGION as u64
    }
}
