//! Per-thread state of the simulated kernel: which host the thread serves, its IRQL, the spin
//! locks it holds, the driver handlers it is inside, and a short ring of its recent NDIS calls
//! (for crash reports).
//!
//! Nothing here is borrowed across a call into the driver: every accessor borrows for the
//! duration of one operation (a crash abandons host frames without running their drops, see
//! `crate::abi`).

use super::HostInner;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

/// `PASSIVE_LEVEL`.
pub const PASSIVE: u8 = 0;
/// `APC_LEVEL`.
pub const APC: u8 = 1;
/// `DISPATCH_LEVEL`.
pub const DISPATCH: u8 = 2;

/// A driver handler this thread is inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The handler, e.g. `"MiniportPause"`.
    pub handler: &'static str,
    /// The adapter it runs for.
    pub adapter: Option<usize>,
    /// IRQL at entry.
    pub irql: u8,
    /// Spin locks held at entry.
    pub locks: usize,
}

const RING: usize = 32;

/// One entry of a thread's ring of recent calls (cheap to record; formatted only for a crash
/// report).
#[derive(Clone, Copy, Debug)]
pub struct Recent {
    /// True for a call into the driver, false for a driver call to an import.
    pub into_driver: bool,
    /// Handler or import name.
    pub name: &'static str,
    /// The adapter, for calls into the driver.
    pub adapter: Option<usize>,
    /// The driver's return address, for imports.
    pub from: u64,
}

struct Ctx {
    host: RefCell<Option<Arc<HostInner>>>,
    irql: Cell<u8>,
    held: RefCell<Vec<u64>>,
    frames: RefCell<Vec<Frame>>,
    ring: RefCell<VecDeque<Recent>>,
    id: u32,
}

static NEXT_ID: AtomicU32 = AtomicU32::new(1);

thread_local! {
    static CTX: Ctx = Ctx {
        host: RefCell::new(None),
        irql: Cell::new(PASSIVE),
        held: RefCell::new(Vec::new()),
        frames: RefCell::new(Vec::new()),
        ring: RefCell::new(VecDeque::with_capacity(RING)),
        id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
    };
}

/// The host this thread serves.
#[must_use]
pub fn host() -> Option<Arc<HostInner>> {
    CTX.with(|c| c.host.borrow().clone())
}

/// Makes this thread serve `host` (worker threads do this once; test threads around a call).
/// Returns the previous host.
pub fn set_host(host: Option<Arc<HostInner>>) -> Option<Arc<HostInner>> {
    CTX.with(|c| c.host.replace(host))
}

/// A small number naming this thread in traces.
#[must_use]
pub fn id() -> u32 {
    CTX.with(|c| c.id)
}

/// The thread's IRQL.
#[must_use]
pub fn irql() -> u8 {
    CTX.with(|c| c.irql.get())
}

/// Sets the thread's IRQL.
pub fn set_irql(level: u8) {
    CTX.with(|c| c.irql.set(level));
}

/// Notes that this thread acquired the spin lock at `addr`.
pub fn push_lock(addr: u64) {
    CTX.with(|c| c.held.borrow_mut().push(addr));
}

/// Notes that this thread released `addr`; false if it did not hold it.
pub fn pop_lock(addr: u64) -> bool {
    CTX.with(|c| {
        let mut held = c.held.borrow_mut();
        match held.iter().rposition(|&a| a == addr) {
            Some(i) => {
                held.remove(i);
                true
            }
            None => false,
        }
    })
}

/// True if this thread holds `addr`.
#[must_use]
pub fn holds(addr: u64) -> bool {
    CTX.with(|c| c.held.borrow().contains(&addr))
}

/// Number of spin locks this thread holds.
#[must_use]
pub fn held_count() -> usize {
    CTX.with(|c| c.held.borrow().len())
}

/// Forgets locks beyond the first `n` (after a handler left some held, or a crash).
pub fn truncate_locks(n: usize) -> Vec<u64> {
    CTX.with(|c| {
        let mut held = c.held.borrow_mut();
        if held.len() > n { held.split_off(n) } else { Vec::new() }
    })
}

/// Enters a handler frame.
pub fn push_frame(frame: Frame) {
    CTX.with(|c| c.frames.borrow_mut().push(frame));
}

/// Leaves the innermost frame.
pub fn pop_frame() -> Option<Frame> {
    CTX.with(|c| c.frames.borrow_mut().pop())
}

/// Number of frames (nesting depth of driver handlers on this thread).
#[must_use]
pub fn depth() -> usize {
    CTX.with(|c| c.frames.borrow().len())
}

/// Drops frames beyond the first `n` (after a crash skipped their exits).
pub fn truncate_frames(n: usize) {
    CTX.with(|c| c.frames.borrow_mut().truncate(n));
}

/// The innermost frame.
#[must_use]
pub fn frame() -> Option<Frame> {
    CTX.with(|c| c.frames.borrow().last().copied())
}

/// True if this thread is inside `handler` for `adapter` (at any depth).
#[must_use]
pub fn inside(handler: &str, adapter: usize) -> bool {
    CTX.with(|c| c.frames.borrow().iter().any(|f| f.handler == handler && f.adapter == Some(adapter)))
}

/// The adapter the innermost frame runs for.
#[must_use]
pub fn adapter() -> Option<usize> {
    frame().and_then(|f| f.adapter)
}

/// Remembers a call in this thread's ring of recent calls.
pub fn remember(line: Recent) {
    CTX.with(|c| {
        let mut ring = c.ring.borrow_mut();
        if ring.len() == RING {
            ring.pop_front();
        }
        ring.push_back(line);
    });
}

/// This thread's recent calls, oldest first.
#[must_use]
pub fn recent() -> Vec<Recent> {
    CTX.with(|c| c.ring.borrow().iter().copied().collect())
}
