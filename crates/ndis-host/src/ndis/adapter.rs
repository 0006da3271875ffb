//! NDIS's view of one miniport adapter: its PnP state, the operation that is pending, what the
//! miniport told NDIS in its attributes, and the sends and receives outstanding between them.
//!
//! States follow Microsoft's "Adapter States of a Miniport Driver": Halted → Initializing →
//! Paused ⇄ Restarting → Running → Pausing → Paused → Halted. NDIS starts no other PnP operation
//! while a pause or restart is pending; the host's scenario layer keeps to that, and asserts it.

use crate::kernel::registry::Registry;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// NDIS adapter states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pnp {
    /// Not initialized (or halted).
    Halted,
    /// Inside MiniportInitializeEx.
    Initializing,
    /// Paused.
    Paused,
    /// A restart is in progress.
    Restarting,
    /// Running.
    Running,
    /// A pause is in progress.
    Pausing,
}

/// Which operation is pending.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// MiniportPause.
    Pause,
    /// MiniportRestart.
    Restart,
}

/// A pause or restart in progress.
#[derive(Clone, Copy, Debug)]
pub struct Pending {
    /// Pause or restart.
    pub kind: OpKind,
    /// The handler has returned.
    pub returned: bool,
    /// What it returned.
    pub status: i32,
    /// The completion arrived (`NdisMPauseComplete` / `NdisMRestartComplete`).
    pub completed: Option<i32>,
    /// When the handler was called (for latency figures).
    pub started: Instant,
}

/// A reset in progress.
#[derive(Clone, Copy, Debug)]
pub struct PendingReset {
    /// MiniportResetEx has returned (with PENDING: a reset that ended at its return is no
    /// longer in progress).
    pub returned: bool,
    /// NdisMResetComplete was called before the handler returned.
    pub completed: bool,
}

/// What the general attributes said.
#[derive(Clone, Debug, Default)]
pub struct General {
    /// MTU.
    pub mtu: u32,
    /// Current address.
    pub current: [u8; 6],
    /// Supported OIDs.
    pub oids: Vec<u32>,
    /// Connected at initialization.
    pub connected: bool,
    /// MAC options.
    pub mac_options: u32,
    /// Supported packet filters.
    pub packet_filters: u32,
    /// Supported statistics flags.
    pub statistics: u32,
    /// Lookahead.
    pub lookahead: u32,
    /// Link speeds.
    pub xmit_speed: u64,
    /// Receive link speed.
    pub rcv_speed: u64,
}

/// A status indication the adapter made.
#[derive(Clone, Debug)]
pub struct StatusEvent {
    /// The status code.
    pub code: i32,
    /// For link state: connected.
    pub connected: Option<bool>,
}

/// Mutable state behind the adapter's lock.
#[derive(Debug)]
pub struct State {
    /// PnP state.
    pub pnp: Pnp,
    /// Pause or restart pending.
    pub pending: Option<Pending>,
    /// Reset pending.
    pub reset: Option<PendingReset>,
    /// MiniportPause returned during the current pause (sends after that must get PAUSED).
    pub pause_returned: bool,
    /// Registration attributes set in this initialization.
    pub registration_set: bool,
    /// General attributes.
    pub general: Option<General>,
    /// Status indications, in order.
    pub status_events: Vec<StatusEvent>,
    /// The link state last indicated (or from the general attributes).
    pub link_up: Option<bool>,
    /// Number of completed pauses / restarts, for summaries.
    pub pauses: u64,
    /// Number of pauses that pended.
    pub pauses_pended: u64,
    /// Completed restarts.
    pub restarts: u64,
    /// NdisMPauseComplete / NdisMRestartComplete calls counted by the driver context they came
    /// from: `(api, outermost driver routine)`, e.g. `("NdisMPauseComplete",
    /// "NDIS_IO_WORKITEM_ROUTINE")`; `"host thread"` when no driver routine was running.
    pub completed_from: std::collections::BTreeMap<(&'static str, &'static str), u64>,
    /// Halted at least once since the last initialize.
    pub halted: bool,
    /// How long the last pause or restart took, from the handler's call to its completion
    /// (its synchronous return, or NdisMPauseComplete / NdisMRestartComplete).
    pub last_latency: Option<Duration>,
}

/// Counters read without the lock.
#[derive(Debug, Default)]
pub struct Counters {
    /// Send NBLs handed to the miniport and not completed.
    pub sends_outstanding: AtomicI64,
    /// MiniportSendNetBufferLists calls in progress (incremented before `sends_outstanding`).
    pub send_calls: AtomicI64,
    /// Receive NBLs indicated (without RESOURCES) and not returned.
    pub rx_outstanding: AtomicI64,
    /// Send NBLs completed.
    pub completions: AtomicU64,
    /// Send NBLs completed with SUCCESS.
    pub completed_ok: AtomicU64,
    /// Receive NBLs indicated.
    pub received: AtomicU64,
    /// Receive NBLs indicated with RESOURCES.
    pub received_resources: AtomicU64,
    /// Receive NBLs returned.
    pub returned: AtomicU64,
}

/// One adapter.
#[derive(Debug)]
pub struct Adapter {
    /// Creation index.
    pub index: usize,
    /// The miniport adapter handle given to the driver.
    pub handle: u64,
    /// The device's registry.
    pub registry: Arc<Mutex<Registry>>,
    state: Mutex<State>,
    cv: Condvar,
    /// Counters.
    pub counters: Counters,
    /// Epoch shared by all adapters of a host: bumped at every PnP state change, so the
    /// protocol can tell which sends ran entirely while nothing changed state.
    pub epoch: Arc<AtomicU64>,
    /// MiniportAdapterContext from the registration attributes (0 before them); atomic for
    /// lock-free reads on the datapath.
    pub context: AtomicU64,
    /// Host buffers the miniport may still read until the pending operation completes.
    parked: Mutex<Vec<crate::ndis::miniport::HostBuf>>,
}

impl Adapter {
    /// A new, halted adapter.
    #[must_use]
    pub fn new(index: usize, handle: u64, registry: Arc<Mutex<Registry>>, epoch: Arc<AtomicU64>) -> Self {
        Self {
            index,
            handle,
            registry,
            state: Mutex::new(State {
                pnp: Pnp::Halted,
                pending: None,
                reset: None,
                pause_returned: false,
                registration_set: false,
                general: None,
                status_events: Vec::new(),
                link_up: None,
                pauses: 0,
                pauses_pended: 0,
                restarts: 0,
                completed_from: std::collections::BTreeMap::new(),
                halted: false,
                last_latency: None,
            }),
            cv: Condvar::new(),
            counters: Counters::default(),
            epoch,
            context: AtomicU64::new(0),
            parked: Mutex::new(Vec::new()),
        }
    }

    /// Locks the state.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sets the PnP state (bumps the epoch, under the state lock the caller holds) and wakes
    /// waiters. A return from MiniportPause is a change too (it makes later sends "after pause").
    pub fn set_pnp(&self, st: &mut State, pnp: Pnp) {
        st.pnp = pnp;
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.cv.notify_all();
    }

    /// Bumps the epoch (the caller holds the state lock).
    pub fn bump(&self, _st: &mut State) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
    }

    /// Wakes waiters.
    pub fn notify(&self) {
        self.cv.notify_all();
    }

    /// Waits up to `timeout` for `done(state)`; returns the guard and whether it became true.
    pub fn wait_until<'a>(
        &'a self,
        guard: MutexGuard<'a, State>,
        timeout: Duration,
        mut done: impl FnMut(&State) -> bool,
    ) -> (MutexGuard<'a, State>, bool) {
        let (guard, result) =
            self.cv.wait_timeout_while(guard, timeout, |s| !done(s)).unwrap_or_else(PoisonError::into_inner);
        (guard, !result.timed_out())
    }

    /// The condition variable every change of the state notifies (for waits that need it
    /// directly, see `calls::await_return`).
    pub(crate) fn condvar(&self) -> &Condvar {
        &self.cv
    }

    /// Keeps `buf` alive until [`Adapter::unpark`].
    pub fn park(&self, buf: crate::ndis::miniport::HostBuf) {
        self.parked.lock().unwrap_or_else(PoisonError::into_inner).push(buf);
    }

    /// Frees parked buffers (the pending operation is over).
    pub fn unpark(&self) {
        self.parked.lock().unwrap_or_else(PoisonError::into_inner).clear();
    }

    /// The PnP state.
    #[must_use]
    pub fn pnp(&self) -> Pnp {
        self.lock().pnp
    }

    /// The miniport adapter context.
    #[must_use]
    pub fn context(&self) -> u64 {
        self.context.load(Ordering::Acquire)
    }
}
