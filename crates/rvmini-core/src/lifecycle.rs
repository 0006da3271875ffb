//! Adapter lifecycle and drain accounting.
//!
//! NDIS moves a miniport adapter through the states Halted → Initializing → Paused ⇄ Restarting
//! → Running → Pausing → Paused → Halted (Microsoft, "Adapter States of a Miniport Driver").
//! While an adapter is Pausing it must complete every send it owns and wait until NDIS has
//! returned every receive NBL it indicated; only then is the pause complete, either by returning
//! `NDIS_STATUS_SUCCESS` from MiniportPause or, if the handler returned `NDIS_STATUS_PENDING`, by a
//! later call to `NdisMPauseComplete` (NdisMPauseComplete, remarks).
//!
//! [`Lifecycle`] keeps all of that in one 64-bit atomic word, so that every decision is a single
//! compare-and-swap and cannot interleave badly:
//!
//! | bits | meaning |
//! | --- | --- |
//! | 0..24 | sends the adapter owns (NBLs accepted and not yet completed) |
//! | 24..48 | receives outstanding (NBLs indicated and not returned, plus deliveries in flight) |
//! | 48..51 | [`State`] |
//! | 51 | a pause returned PENDING and waits for both counts to reach zero |
//! | 52 | a reset returned PENDING and waits for the send count to reach zero |
//! | 53..56 | low power (D1–D3), surprise removed, shut down |
//! | 56 | a reset is in progress (no new send is accepted until it completes) |
//!
//! The rules this gives, by construction:
//! - A send or a delivery is *registered before use* ([`Lifecycle::try_begin_tx`],
//!   [`Lifecycle::try_begin_rx`]): it is counted only if the adapter is Running at that instant,
//!   so once a pause has begun no new work can slip in behind the drain check.
//! - The pause waiter is armed only by the pause handler itself ([`Lifecycle::settle_pause`]),
//!   after it has flushed its queue. If nothing is outstanding at that moment the handler returns
//!   SUCCESS and nobody else ever completes the pause; otherwise exactly one later
//!   [`Lifecycle::end_tx`] / [`Lifecycle::end_rx`] — the one that brings both counts to zero —
//!   receives [`Wake::pause_complete`], and the adapter is Paused from that instant. The driver
//!   then calls `NdisMPauseComplete` from an NDIS I/O work item.
//! - A reset stops accepting sends ([`Lifecycle::begin_reset`]), lets its handler flush the
//!   queue, and then either completes at once or waits for the send count alone, the same way
//!   ([`Lifecycle::settle_reset`]); the completion that drains the last send releases the reset,
//!   and the gate reopens when the driver is about to report it complete
//!   ([`Lifecycle::finish_reset`]).

use crate::sync::{AtomicU64, Ordering};

const COUNT_BITS: u32 = 24;
const COUNT_MASK: u64 = (1 << COUNT_BITS) - 1;
const TX_SHIFT: u32 = 0;
const RX_SHIFT: u32 = COUNT_BITS;
const STATE_SHIFT: u32 = 48;
const STATE_MASK: u64 = 0b111 << STATE_SHIFT;
const PAUSE_WAITER: u64 = 1 << 51;
const RESET_WAITER: u64 = 1 << 52;
const LOW_POWER: u64 = 1 << 53;
const REMOVED: u64 = 1 << 54;
const SHUTDOWN: u64 = 1 << 55;
const RESETTING: u64 = 1 << 56;

/// The most sends (or receives) an adapter can have outstanding at once.
pub const MAX_OUTSTANDING: u32 = (1 << COUNT_BITS) - 1;

/// Miniport adapter states as NDIS defines them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum State {
    /// Not initialized, or halted.
    Halted = 0,
    /// Inside MiniportInitializeEx.
    Initializing = 1,
    /// Initialized or paused: no sends accepted, no receives indicated.
    Paused = 2,
    /// Inside a restart that has not completed.
    Restarting = 3,
    /// Sends and receives flow.
    Running = 4,
    /// Inside a pause that has not completed.
    Pausing = 5,
}

impl State {
    fn from_bits(bits: u64) -> State {
        match (bits & STATE_MASK) >> STATE_SHIFT {
            1 => State::Initializing,
            2 => State::Paused,
            3 => State::Restarting,
            4 => State::Running,
            5 => State::Pausing,
            _ => State::Halted,
        }
    }

    fn bits(self) -> u64 {
        (self as u64) << STATE_SHIFT
    }
}

/// Why a send or a delivery was not accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The adapter is not Running (Pausing, Paused, Restarting, ...).
    NotRunning(State),
    /// The adapter is in a low-power state.
    LowPower,
    /// The device was surprise-removed.
    Removed,
    /// MiniportShutdownEx has run.
    Shutdown,
    /// A reset is in progress.
    Resetting,
    /// The counter would overflow.
    TooMany,
}

/// Which waiters a completion released. The caller must act on every `true` field exactly once.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[must_use = "a released waiter must be completed"]
pub struct Wake {
    /// The pending pause is now complete: call `NdisMPauseComplete` (from a work item).
    pub pause_complete: bool,
    /// The pending reset is now complete: call `NdisMResetComplete`.
    pub reset_complete: bool,
}

/// A state change that is not legal from the current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadTransition {
    /// The state the adapter was in.
    pub from: State,
    /// The operation that was refused.
    pub operation: &'static str,
}

/// More completions were reported than work was registered: a driver bug, never silently fixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Underflow {
    /// What was outstanding.
    pub outstanding: u32,
    /// What the caller tried to end.
    pub ended: u32,
}

/// What the pause handler must return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PauseOutcome {
    /// Nothing was outstanding: the adapter is Paused; return `NDIS_STATUS_SUCCESS`.
    Complete,
    /// Work is outstanding: return `NDIS_STATUS_PENDING`; the completion that drains the last
    /// of it receives [`Wake::pause_complete`].
    Pending,
}

/// What the reset handler must return.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResetOutcome {
    /// No send is outstanding: return `NDIS_STATUS_SUCCESS`.
    Complete,
    /// Return `NDIS_STATUS_PENDING`; the completion of the last send receives
    /// [`Wake::reset_complete`].
    Pending,
}

/// A reset was requested while one is in progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResetInProgress;

/// A snapshot of the word, read in one atomic load. The driver decides from it (whether a
/// queued send may still leave, whether a restart is refused in low power, whether a low-power
/// transition may free the receive buffers, whether an OID request is refused after surprise
/// removal) and answers OID_GEN_TRANSMIT_QUEUE_LENGTH with it; logs and tests read it too.
#[allow(clippy::struct_excessive_bools)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The state.
    pub state: State,
    /// Sends outstanding.
    pub tx: u32,
    /// Receives outstanding.
    pub rx: u32,
    /// A pending pause waits.
    pub pause_waiting: bool,
    /// A pending reset waits.
    pub reset_waiting: bool,
    /// Low-power state.
    pub low_power: bool,
    /// Surprise removed.
    pub removed: bool,
    /// Shut down.
    pub shutdown: bool,
    /// A reset is in progress.
    pub resetting: bool,
}

/// The lifecycle and drain word of one adapter. See the module documentation.
#[derive(Debug)]
pub struct Lifecycle {
    word: AtomicU64,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self::new()
    }
}

fn count(word: u64, shift: u32) -> u32 {
    // The mask keeps 24 bits, so the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation)]
    let c = ((word >> shift) & COUNT_MASK) as u32;
    c
}

fn with_count(word: u64, shift: u32, value: u32) -> u64 {
    (word & !(COUNT_MASK << shift)) | ((u64::from(value) & COUNT_MASK) << shift)
}

impl Lifecycle {
    /// A new adapter, in the Initializing state.
    #[must_use]
    pub fn new() -> Self {
        Self { word: AtomicU64::new(State::Initializing.bits()) }
    }

    /// Applies `f` atomically. `f` returns the new word and a result, or an error that leaves the
    /// word unchanged.
    fn update<R, E>(&self, mut f: impl FnMut(u64) -> Result<(u64, R), E>) -> Result<R, E> {
        let mut current = self.word.load(Ordering::Acquire);
        loop {
            let (new, result) = f(current)?;
            match self.word.compare_exchange_weak(current, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return Ok(result),
                Err(actual) => current = actual,
            }
        }
    }

    /// The current state.
    #[must_use]
    pub fn state(&self) -> State {
        State::from_bits(self.word.load(Ordering::Acquire))
    }

    /// Everything at once.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot {
        let w = self.word.load(Ordering::Acquire);
        Snapshot {
            state: State::from_bits(w),
            tx: count(w, TX_SHIFT),
            rx: count(w, RX_SHIFT),
            pause_waiting: w & PAUSE_WAITER != 0,
            reset_waiting: w & RESET_WAITER != 0,
            low_power: w & LOW_POWER != 0,
            removed: w & REMOVED != 0,
            shutdown: w & SHUTDOWN != 0,
            resetting: w & RESETTING != 0,
        }
    }

    fn gate(word: u64, shift: u32) -> Result<(), Refusal> {
        let state = State::from_bits(word);
        if state != State::Running {
            return Err(Refusal::NotRunning(state));
        }
        if word & REMOVED != 0 {
            return Err(Refusal::Removed);
        }
        if word & SHUTDOWN != 0 {
            return Err(Refusal::Shutdown);
        }
        if word & LOW_POWER != 0 {
            return Err(Refusal::LowPower);
        }
        if shift == TX_SHIFT && word & RESETTING != 0 {
            return Err(Refusal::Resetting);
        }
        Ok(())
    }

    fn try_begin(&self, shift: u32, n: u32) -> Result<(), Refusal> {
        self.update(|w| {
            Self::gate(w, shift)?;
            let total = count(w, shift).checked_add(n).filter(|t| *t <= MAX_OUTSTANDING).ok_or(Refusal::TooMany)?;
            Ok((with_count(w, shift, total), ()))
        })
    }

    fn end(&self, shift: u32, n: u32) -> Result<Wake, Underflow> {
        self.update(|w| {
            let outstanding = count(w, shift);
            let left = outstanding.checked_sub(n).ok_or(Underflow { outstanding, ended: n })?;
            let mut new = with_count(w, shift, left);
            let mut wake = Wake::default();
            if left == 0 {
                if shift == TX_SHIFT && new & RESET_WAITER != 0 {
                    // The gate stays closed until the driver reports the reset complete
                    // (`finish_reset`): a send accepted before that would be pending when
                    // NdisMResetComplete is called.
                    new &= !RESET_WAITER;
                    wake.reset_complete = true;
                }
                let other = if shift == TX_SHIFT { count(w, RX_SHIFT) } else { count(w, TX_SHIFT) };
                if other == 0 && new & PAUSE_WAITER != 0 {
                    new = (new & !PAUSE_WAITER & !STATE_MASK) | State::Paused.bits();
                    wake.pause_complete = true;
                }
            }
            Ok((new, wake))
        })
    }

    /// Registers `n` sends, if and only if the adapter is Running and able to transmit.
    pub fn try_begin_tx(&self, n: u32) -> Result<(), Refusal> {
        self.try_begin(TX_SHIFT, n)
    }

    /// Reports `n` sends completed (after `NdisMSendNetBufferListsComplete` returned).
    pub fn end_tx(&self, n: u32) -> Result<Wake, Underflow> {
        self.end(TX_SHIFT, n)
    }

    /// Registers `n` receives (or a delivery in flight to this adapter), if and only if the
    /// adapter is Running.
    pub fn try_begin_rx(&self, n: u32) -> Result<(), Refusal> {
        self.try_begin(RX_SHIFT, n)
    }

    /// Reports `n` receives returned (or deliveries finished).
    pub fn end_rx(&self, n: u32) -> Result<Wake, Underflow> {
        self.end(RX_SHIFT, n)
    }

    fn transition(&self, operation: &'static str, from: &[State], to: State) -> Result<(), BadTransition> {
        self.update(|w| {
            let state = State::from_bits(w);
            if from.contains(&state) {
                Ok(((w & !STATE_MASK) | to.bits(), ()))
            } else {
                Err(BadTransition { from: state, operation })
            }
        })
    }

    /// MiniportInitializeEx succeeded: Initializing → Paused.
    pub fn initialized(&self) -> Result<(), BadTransition> {
        self.transition("initialized", &[State::Initializing], State::Paused)
    }

    /// MiniportPause was called: Running → Pausing. From now on no send or receive is accepted.
    pub fn begin_pause(&self) -> Result<(), BadTransition> {
        self.transition("pause", &[State::Running], State::Pausing)
    }

    /// The pause handler has stopped everything it can stop itself; decide whether the pause is
    /// complete now or must pend. Must be the handler's last decision.
    pub fn settle_pause(&self) -> Result<PauseOutcome, BadTransition> {
        self.update(|w| {
            let state = State::from_bits(w);
            if state != State::Pausing || w & PAUSE_WAITER != 0 {
                return Err(BadTransition { from: state, operation: "settle pause" });
            }
            if count(w, TX_SHIFT) == 0 && count(w, RX_SHIFT) == 0 {
                Ok(((w & !STATE_MASK) | State::Paused.bits(), PauseOutcome::Complete))
            } else {
                Ok((w | PAUSE_WAITER, PauseOutcome::Pending))
            }
        })
    }

    /// MiniportRestart was called: Paused → Restarting.
    pub fn begin_restart(&self) -> Result<(), BadTransition> {
        self.transition("restart", &[State::Paused], State::Restarting)
    }

    /// The restart finished: Restarting → Running on success, back to Paused on failure.
    pub fn finish_restart(&self, success: bool) -> Result<(), BadTransition> {
        let to = if success { State::Running } else { State::Paused };
        self.transition("finish restart", &[State::Restarting], to)
    }

    /// MiniportResetEx begins: from now on no send is accepted until the reset completes.
    pub fn begin_reset(&self) -> Result<(), ResetInProgress> {
        self.update(|w| if w & RESETTING != 0 { Err(ResetInProgress) } else { Ok((w | RESETTING, ())) })
    }

    /// The reset handler has flushed its queue; decide whether the reset completes now or
    /// waits for the sends still in flight. Must be the handler's last decision.
    pub fn settle_reset(&self) -> Result<ResetOutcome, ResetInProgress> {
        self.update(|w| {
            if w & RESETTING == 0 || w & RESET_WAITER != 0 {
                Err(ResetInProgress)
            } else if count(w, TX_SHIFT) == 0 {
                Ok((w & !RESETTING, ResetOutcome::Complete))
            } else {
                Ok((w | RESET_WAITER, ResetOutcome::Pending))
            }
        })
    }

    /// A pending reset released by [`Wake::reset_complete`] is about to be reported complete
    /// (`NdisMResetComplete`): sends are accepted again. Idempotent.
    pub fn finish_reset(&self) {
        self.update(|w| {
            if w & RESET_WAITER != 0 {
                // Still draining: not this caller's to finish.
                Err(())
            } else {
                Ok((w & !RESETTING, ()))
            }
        })
        .unwrap_or(());
    }

    /// MiniportHaltEx: Paused → Halted. Refused (and nothing changes) unless the adapter is
    /// Paused with nothing outstanding and nobody waiting.
    pub fn halt(&self) -> Result<(), BadTransition> {
        self.update(|w| {
            let state = State::from_bits(w);
            let busy = count(w, TX_SHIFT) != 0
                || count(w, RX_SHIFT) != 0
                || w & (PAUSE_WAITER | RESET_WAITER | RESETTING) != 0;
            if state != State::Paused || busy {
                return Err(BadTransition { from: state, operation: "halt" });
            }
            Ok(((w & !STATE_MASK) | State::Halted.bits(), ()))
        })
    }

    fn set_flag(&self, flag: u64, on: bool) {
        if on {
            self.word.fetch_or(flag, Ordering::AcqRel);
        } else {
            self.word.fetch_and(!flag, Ordering::AcqRel);
        }
    }

    /// Enters or leaves a low-power state (OID_PNP_SET_POWER).
    pub fn set_low_power(&self, on: bool) {
        self.set_flag(LOW_POWER, on);
    }

    /// The device was surprise-removed: nothing new is accepted from now on.
    pub fn mark_removed(&self) {
        self.set_flag(REMOVED, true);
    }

    /// MiniportShutdownEx ran: nothing new is accepted from now on. A single atomic OR, safe at
    /// any IRQL.
    pub fn mark_shutdown(&self) {
        self.set_flag(SHUTDOWN, true);
    }
}

#[cfg(all(test, not(feature = "loom")))]
mod tests {
    use super::*;

    fn running() -> Lifecycle {
        let l = Lifecycle::new();
        l.initialized().unwrap();
        l.begin_restart().unwrap();
        l.finish_restart(true).unwrap();
        l
    }

    #[test]
    fn new_adapter_accepts_nothing_until_running() {
        let l = Lifecycle::new();
        assert_eq!(l.try_begin_tx(1), Err(Refusal::NotRunning(State::Initializing)));
        l.initialized().unwrap();
        assert_eq!(l.try_begin_rx(1), Err(Refusal::NotRunning(State::Paused)));
        l.begin_restart().unwrap();
        assert_eq!(l.try_begin_tx(1), Err(Refusal::NotRunning(State::Restarting)));
        l.finish_restart(true).unwrap();
        assert_eq!(l.try_begin_tx(3), Ok(()));
        assert_eq!(l.snapshot().tx, 3);
    }

    #[test]
    fn idle_pause_completes_synchronously() {
        let l = running();
        l.begin_pause().unwrap();
        assert_eq!(l.settle_pause(), Ok(PauseOutcome::Complete));
        assert_eq!(l.state(), State::Paused);
        assert_eq!(l.halt(), Ok(()));
        assert_eq!(l.state(), State::Halted);
    }

    #[test]
    fn busy_pause_pends_until_last_send_and_last_return() {
        let l = running();
        l.try_begin_tx(2).unwrap();
        l.try_begin_rx(1).unwrap();
        l.begin_pause().unwrap();
        assert_eq!(l.try_begin_tx(1), Err(Refusal::NotRunning(State::Pausing)));
        assert_eq!(l.try_begin_rx(1), Err(Refusal::NotRunning(State::Pausing)));
        assert_eq!(l.settle_pause(), Ok(PauseOutcome::Pending));
        assert_eq!(l.end_tx(2), Ok(Wake::default()));
        assert_eq!(l.state(), State::Pausing);
        assert_eq!(l.halt().map_err(|e| e.from), Err(State::Pausing));
        let wake = l.end_rx(1).unwrap();
        assert!(wake.pause_complete && !wake.reset_complete);
        assert_eq!(l.state(), State::Paused);
        // The waiter fires once only.
        l.begin_restart().unwrap();
        l.finish_restart(true).unwrap();
        l.try_begin_tx(1).unwrap();
        assert_eq!(l.end_tx(1), Ok(Wake::default()));
    }

    #[test]
    fn completions_before_settle_do_not_complete_the_pause() {
        let l = running();
        l.try_begin_tx(1).unwrap();
        l.begin_pause().unwrap();
        // The last send completes while the pause handler is still running and has not armed.
        assert_eq!(l.end_tx(1), Ok(Wake::default()));
        assert_eq!(l.state(), State::Pausing);
        assert_eq!(l.settle_pause(), Ok(PauseOutcome::Complete));
        assert_eq!(l.settle_pause().map_err(|e| e.from), Err(State::Paused));
    }

    #[test]
    fn underflow_is_reported_and_changes_nothing() {
        let l = running();
        l.try_begin_tx(1).unwrap();
        assert_eq!(l.end_tx(2), Err(Underflow { outstanding: 1, ended: 2 }));
        assert_eq!(l.snapshot().tx, 1);
        assert_eq!(l.end_rx(1), Err(Underflow { outstanding: 0, ended: 1 }));
    }

    #[test]
    fn counters_refuse_overflow() {
        let l = running();
        l.try_begin_tx(MAX_OUTSTANDING).unwrap();
        assert_eq!(l.try_begin_tx(1), Err(Refusal::TooMany));
        assert_eq!(l.try_begin_rx(MAX_OUTSTANDING), Ok(()));
        assert_eq!(l.try_begin_rx(u32::MAX), Err(Refusal::TooMany));
        let s = l.snapshot();
        assert_eq!((s.tx, s.rx, s.state), (MAX_OUTSTANDING, MAX_OUTSTANDING, State::Running));
    }

    #[test]
    fn reset_waits_for_sends_only_and_can_overlap_a_pause() {
        let l = running();
        l.try_begin_tx(1).unwrap();
        l.try_begin_rx(1).unwrap();
        l.begin_reset().unwrap();
        assert_eq!(l.begin_reset(), Err(ResetInProgress));
        assert_eq!(l.try_begin_tx(1), Err(Refusal::Resetting));
        assert_eq!(l.try_begin_rx(1), Ok(()), "receives continue during a reset");
        assert_eq!(l.end_rx(1), Ok(Wake::default()));
        assert_eq!(l.settle_reset(), Ok(ResetOutcome::Pending));
        assert_eq!(l.settle_reset(), Err(ResetInProgress));
        l.begin_pause().unwrap();
        assert_eq!(l.settle_pause(), Ok(PauseOutcome::Pending));
        let wake = l.end_tx(1).unwrap();
        assert_eq!(wake, Wake { pause_complete: false, reset_complete: true });
        assert!(l.snapshot().resetting, "closed until the reset is reported complete");
        assert_eq!(l.begin_reset(), Err(ResetInProgress));
        l.finish_reset();
        assert!(!l.snapshot().resetting);
        let wake = l.end_rx(1).unwrap();
        assert_eq!(wake, Wake { pause_complete: true, reset_complete: false });
    }

    #[test]
    fn a_pending_reset_refuses_sends_until_it_is_reported_complete() {
        let l = running();
        l.try_begin_tx(2).unwrap();
        l.begin_reset().unwrap();
        assert_eq!(l.settle_reset(), Ok(ResetOutcome::Pending));
        l.finish_reset();
        assert_eq!(l.try_begin_tx(1), Err(Refusal::Resetting), "still draining: finish_reset is a no-op");
        assert_eq!(l.end_tx(1), Ok(Wake::default()));
        assert_eq!(l.end_tx(1), Ok(Wake { pause_complete: false, reset_complete: true }));
        assert_eq!(l.try_begin_tx(1), Err(Refusal::Resetting), "drained, not yet reported complete");
        l.finish_reset();
        assert_eq!(l.try_begin_tx(1), Ok(()));
        l.finish_reset();
        assert_eq!(l.snapshot().tx, 1);
    }

    #[test]
    fn idle_reset_completes_and_reopens_the_gate() {
        let l = running();
        l.begin_reset().unwrap();
        assert_eq!(l.try_begin_tx(1), Err(Refusal::Resetting));
        assert_eq!(l.settle_reset(), Ok(ResetOutcome::Complete));
        assert_eq!(l.try_begin_tx(1), Ok(()));
        assert_eq!(l.settle_reset(), Err(ResetInProgress), "no reset to settle");
    }

    #[test]
    fn both_waiters_can_fire_on_one_completion() {
        let l = running();
        l.try_begin_tx(1).unwrap();
        l.begin_reset().unwrap();
        assert_eq!(l.settle_reset(), Ok(ResetOutcome::Pending));
        l.begin_pause().unwrap();
        assert_eq!(l.settle_pause(), Ok(PauseOutcome::Pending));
        assert_eq!(l.end_tx(1), Ok(Wake { pause_complete: true, reset_complete: true }));
        assert!(l.halt().is_err(), "the reset is not reported complete yet");
        l.finish_reset();
        assert_eq!(l.halt(), Ok(()));
    }

    #[test]
    fn flags_close_the_gates() {
        let l = running();
        l.set_low_power(true);
        assert_eq!(l.try_begin_tx(1), Err(Refusal::LowPower));
        l.set_low_power(false);
        l.try_begin_tx(1).unwrap();
        l.mark_removed();
        assert_eq!(l.try_begin_rx(1), Err(Refusal::Removed));
        // Work registered earlier still drains.
        assert_eq!(l.end_tx(1), Ok(Wake::default()));
        let l = running();
        l.mark_shutdown();
        assert_eq!(l.try_begin_tx(1), Err(Refusal::Shutdown));
    }

    #[test]
    fn failed_restart_returns_to_paused() {
        let l = Lifecycle::new();
        l.initialized().unwrap();
        l.begin_restart().unwrap();
        l.finish_restart(false).unwrap();
        assert_eq!(l.state(), State::Paused);
        assert_eq!(l.begin_pause().map_err(|e| e.from), Err(State::Paused));
        assert_eq!(l.halt(), Ok(()));
    }

    #[test]
    fn halt_refused_while_busy() {
        let l = running();
        l.try_begin_rx(1).unwrap();
        l.begin_pause().unwrap();
        assert_eq!(l.settle_pause(), Ok(PauseOutcome::Pending));
        assert!(l.halt().is_err());
        assert!(l.end_rx(1).unwrap().pause_complete);
        assert_eq!(l.halt(), Ok(()));
    }
}
