//! Serialising a DPC that can run on two processors at once.
//!
//! A kernel DPC that is queued again while it runs may start on another processor before the
//! first run ends (`KeInsertQueueDpc` queues on the current processor). rvmini's transmit DPC
//! must not run twice at once, or one adapter's frames could overtake each other. [`Serial`]
//! lets exactly one run do the work and guarantees that work announced by a run that found the
//! worker busy is still done (no lost wake-up):
//!
//! ```text
//! if serial.enter() {            // announces work, and tries to become the worker
//!     loop {
//!         drain the queue;
//!         if !serial.leave() { break; }   // false: nothing was announced meanwhile
//!     }
//! }
//! ```
//!
//! The model checker runs this protocol with two racing DPC instances and a producer
//! (`tests/loom_races.rs`).

use crate::sync::{AtomicU64, Ordering};

const BUSY: u64 = 1;
const AGAIN: u64 = 2;

/// The worker flag and the "work was announced" flag.
#[derive(Debug)]
pub struct Serial {
    state: AtomicU64,
}

impl Default for Serial {
    fn default() -> Self {
        Self::new()
    }
}

impl Serial {
    /// Idle.
    #[must_use]
    pub fn new() -> Self {
        Self { state: AtomicU64::new(0) }
    }

    /// Announces work and tries to become the worker. True: the caller is the worker and must
    /// drain, then call [`Serial::leave`]. False: another run is the worker and will see the
    /// announcement.
    #[must_use]
    pub fn enter(&self) -> bool {
        let previous = self.state.fetch_or(BUSY | AGAIN, Ordering::AcqRel);
        previous & BUSY == 0
    }

    /// Called by the worker before it drains: consumes the announcement it is about to serve.
    pub fn begin_pass(&self) {
        self.state.fetch_and(!AGAIN, Ordering::AcqRel);
    }

    /// The worker finished a pass. True if work was announced during the pass: the caller is
    /// still the worker and must drain again. False: the caller is no longer the worker.
    #[must_use]
    pub fn leave(&self) -> bool {
        let mut current = self.state.load(Ordering::Acquire);
        loop {
            let (next, again) = if current & AGAIN != 0 { (current, true) } else { (0, false) };
            match self.state.compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return again,
                Err(actual) => current = actual,
            }
        }
    }
}

impl Serial {
    /// Gives up the worker role unconditionally, forgetting announcements. Only for a worker
    /// that stops early to yield the processor: it must make sure a new run follows by queueing
    /// the DPC *after* this call (a run that starts earlier would find the worker busy, and its
    /// announcement would be forgotten here).
    pub fn release(&self) {
        self.state.store(0, Ordering::Release);
    }
}

#[cfg(all(test, not(feature = "loom")))]
mod tests {
    use super::*;

    #[test]
    fn single_run() {
        let s = Serial::new();
        assert!(s.enter());
        s.begin_pass();
        assert!(!s.leave());
        assert!(s.enter(), "idle again");
    }

    #[test]
    fn release_makes_the_next_run_the_worker() {
        let s = Serial::new();
        assert!(s.enter());
        assert!(!s.enter());
        s.release();
        assert!(s.enter());
    }

    #[test]
    fn announcement_during_a_pass_forces_another() {
        let s = Serial::new();
        assert!(s.enter());
        s.begin_pass();
        assert!(!s.enter(), "a second run finds the worker busy");
        assert!(s.leave(), "so the worker must drain again");
        s.begin_pass();
        assert!(!s.leave());
    }
}
