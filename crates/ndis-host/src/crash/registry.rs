//! Process-wide list of loaded images.
//!
//! Two views: a fixed array of atomic address ranges that the signal handler can scan without
//! locks or allocation ("is RIP inside a loaded image?"), and a mutex-protected list of
//! [`ImageInfo`]s for symbolisation in ordinary code.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::loader::ImageInfo;

const SLOTS: usize = 64;
const EMPTY: u8 = 0;
const BUSY: u8 = 1;
const READY: u8 = 2;

struct Slot {
    state: AtomicU8,
    start: AtomicU64,
    end: AtomicU64,
}

static RANGES: [Slot; SLOTS] =
    [const { Slot { state: AtomicU8::new(EMPTY), start: AtomicU64::new(0), end: AtomicU64::new(0) } }; SLOTS];
static IMAGES: Mutex<Vec<Arc<ImageInfo>>> = Mutex::new(Vec::new());

/// Handle of one registration; pass back to [`unregister`].
#[derive(Debug)]
pub(crate) struct Registration {
    slot: Option<usize>,
    start: u64,
}

/// Publish a loaded image. If all signal-safe slots are taken the image is still symbolised,
/// but faults with RIP inside it are only recognised while RSP is on a driver stack.
pub(crate) fn register(info: Arc<ImageInfo>) -> Registration {
    let (start, end) = (info.base, info.base + info.size as u64);
    let mut slot = None;
    for (i, s) in RANGES.iter().enumerate() {
        if s.state.compare_exchange(EMPTY, BUSY, Ordering::AcqRel, Ordering::Acquire).is_ok() {
            s.start.store(start, Ordering::Relaxed);
            s.end.store(end, Ordering::Relaxed);
            s.state.store(READY, Ordering::Release);
            slot = Some(i);
            break;
        }
    }
    IMAGES.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(info);
    Registration { slot, start }
}

/// Withdraw an image (before it is unmapped).
pub(crate) fn unregister(reg: &Registration) {
    if let Some(i) = reg.slot {
        RANGES[i].state.store(EMPTY, Ordering::Release);
    }
    IMAGES.lock().unwrap_or_else(std::sync::PoisonError::into_inner).retain(|i| i.base != reg.start);
}

/// Async-signal-safe: is `addr` inside a registered image?
pub(crate) fn contains_code(addr: u64) -> bool {
    RANGES.iter().any(|s| {
        s.state.load(Ordering::Acquire) == READY
            && addr >= s.start.load(Ordering::Relaxed)
            && addr < s.end.load(Ordering::Relaxed)
    })
}

/// The loaded image containing `addr`.
pub(crate) fn find(addr: u64) -> Option<Arc<ImageInfo>> {
    IMAGES.lock().unwrap_or_else(std::sync::PoisonError::into_inner).iter().find(|i| i.contains(addr)).cloned()
}
