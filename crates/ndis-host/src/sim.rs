//! [`Sim`]: a host running one driver, the API tests, the CLI and the benchmarks use.
//!
//! ```text
//! let sim = Sim::new(HostConfig::default());
//! sim.load(Path::new("rvmini.sys"))?;
//! sim.driver_entry()?;
//! let a = sim.add_adapter(Registry::new());
//! sim.initialize(a)?; sim.restart(a)?;
//! sim.send(a, 0, &frames, 1, PASSIVE)?;
//! sim.pause(a)?; sim.halt(a)?; sim.unload()?;
//! ```
//!
//! Every call that waits (a pending pause, restart, reset or OID) waits the way the mode allows:
//! in threaded mode by polling its condition every 200 µs while the worker threads run (for at
//! most [`OPERATION_TIMEOUT`]); in deterministic mode by stepping the seeded scheduler until the
//! operation completes (running out of steps is a watchdog finding: the miniport never completed
//! it).

use crate::exec::{self, Workers};
use crate::host::{CrashReport, HostConfig, HostInner, Mode};
use crate::kernel::ErrorLogEntry;
use crate::kernel::registry::Registry;
use crate::loader::{Image, LoadError};
use crate::ndis::adapter::{Adapter, Pnp, StatusEvent};
use crate::ndis::driver;
use crate::ndis::miniport::{self, CallError, ScenarioError, Started};
use crate::ndis::oid::{self, OidResult};
use crate::ndis::protocol::{Frame, ReturnPolicy};
use crate::rng::Rng;
use crate::verifier::{Finding, Rule};
use ndis_sys as sys;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long threaded mode waits for a pending operation before a watchdog finding.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(30);
/// How many scheduler steps deterministic mode allows for a pending operation.
pub const OPERATION_STEPS: usize = 1_000_000;

/// The result of a pause.
#[derive(Clone, Copy, Debug)]
pub struct PauseResult {
    /// The handler returned PENDING.
    pub pended: bool,
    /// From the call of MiniportPause to the pause being complete (wall clock).
    pub latency: Duration,
}

/// A host running one driver.
pub struct Sim {
    host: Arc<HostInner>,
    rng: Mutex<Rng>,
    workers: Mutex<Option<Workers>>,
}

impl std::fmt::Debug for Sim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sim").field("mode", &self.host.config.mode).finish_non_exhaustive()
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Sim {
    /// A new host; in threaded mode its worker threads start now.
    #[must_use]
    pub fn new(config: HostConfig) -> Self {
        let seed = match config.mode {
            Mode::Deterministic { seed } => seed,
            Mode::Threaded => 0x5EED,
        };
        let host = HostInner::new(config);
        let workers = match host.config.mode {
            Mode::Threaded => Some(Workers::start(&host)),
            Mode::Deterministic { .. } => None,
        };
        Self { host, rng: Mutex::new(Rng::new(seed)), workers: Mutex::new(workers) }
    }

    /// The host.
    #[must_use]
    pub fn host(&self) -> &Arc<HostInner> {
        &self.host
    }

    /// True in deterministic mode.
    #[must_use]
    pub fn deterministic(&self) -> bool {
        matches!(self.host.config.mode, Mode::Deterministic { .. })
    }

    /// A random number in `0..n` from the run's generator (deterministic mode: from the seed).
    pub fn rand(&self, n: u64) -> u64 {
        self.rng.lock().unwrap_or_else(PoisonError::into_inner).below(n)
    }

    /// A seeded index in `0..n` (0 if `n` is 0).
    pub fn pick(&self, n: usize) -> usize {
        self.rng.lock().unwrap_or_else(PoisonError::into_inner).index(n)
    }

    /// Loads a driver image; nothing of it runs yet.
    pub fn load(&self, path: &Path) -> Result<Arc<Image>, LoadError> {
        let image = Arc::new(Image::load(path, self.host.exports())?);
        self.host.set_image(Some(Arc::clone(&image)));
        Ok(image)
    }

    /// Runs the loaded image's DriverEntry.
    pub fn driver_entry(&self) -> Result<i32, CallError> {
        let entry = self
            .host
            .image()
            .map(|i| i.entry_point())
            .ok_or_else(|| CallError::Scenario(ScenarioError("no image loaded".into())))?;
        self.driver_entry_at(entry)
    }

    /// Runs a DriverEntry at `entry` (a synthetic driver's Rust function in tests).
    pub fn driver_entry_at(&self, entry: u64) -> Result<i32, CallError> {
        Ok(driver::driver_entry(&self.host, entry)?)
    }

    /// Creates an adapter instance with its registry keys; returns its index.
    pub fn add_adapter(&self, registry: Registry) -> usize {
        let handle = self.host.handles.next();
        self.host.ndis.add_adapter(handle, registry)
    }

    /// The adapter with index `i`.
    ///
    /// # Panics
    /// If there is no such adapter (a scenario bug).
    #[must_use]
    pub fn adapter(&self, i: usize) -> Arc<Adapter> {
        self.host.ndis.adapter(i).unwrap_or_else(|| panic!("no adapter {i}"))
    }

    /// MiniportInitializeEx.
    pub fn initialize(&self, i: usize) -> Result<i32, CallError> {
        miniport::initialize(&self.host, &self.adapter(i))
    }

    /// MiniportRestart, waiting for completion; returns the final status.
    pub fn restart(&self, i: usize) -> Result<i32, CallError> {
        let with_attributes = !self.deterministic() || self.rand(4) != 0;
        match self.start_restart(i, with_attributes)? {
            Started::Done(s) => Ok(s),
            Started::Pending => {
                self.wait_pending(i)?;
                let running = self.adapter(i).pnp() == Pnp::Running;
                Ok(if running { sys::NDIS_STATUS_SUCCESS } else { sys::NDIS_STATUS_FAILURE })
            }
        }
    }

    /// MiniportRestart without waiting.
    pub fn start_restart(&self, i: usize, with_attributes: bool) -> Result<Started, CallError> {
        miniport::restart(&self.host, &self.adapter(i), with_attributes)
    }

    /// MiniportPause, waiting for completion.
    pub fn pause(&self, i: usize) -> Result<PauseResult, CallError> {
        let started = Instant::now();
        let pended = match self.start_pause(i)? {
            Started::Done(_) => false,
            Started::Pending => {
                self.wait_pending(i)?;
                true
            }
        };
        Ok(PauseResult { pended, latency: started.elapsed() })
    }

    /// MiniportPause without waiting.
    pub fn start_pause(&self, i: usize) -> Result<Started, CallError> {
        miniport::pause(&self.host, &self.adapter(i), sys::NDIS_PAUSE_NDIS_INTERNAL)
    }

    /// Waits until adapter `i` has no pending pause or restart.
    pub fn wait_pending(&self, i: usize) -> Result<(), CallError> {
        self.wait_operation(i, "pause or restart", &|a| a.lock().pending.is_none())
    }

    /// Waits until `done(adapter i)`; a watchdog finding naming `what` if it never happens.
    fn wait_operation(&self, i: usize, what: &str, done: &dyn Fn(&Adapter) -> bool) -> Result<(), CallError> {
        let a = self.adapter(i);
        let finished = self.wait_until(&|| done(&a));
        if self.host.crashed() {
            return Err(CallError::Abandoned);
        }
        if !finished {
            self.host.finding(Rule::Watchdog, Some(i), format!("a pending {what} never completed"));
            return Err(CallError::Scenario(ScenarioError(format!("adapter {i}: {what} never completed"))));
        }
        Ok(())
    }

    /// Waits until `done()` (threaded: polls while the workers run; deterministic: steps the
    /// scheduler). Returns false on timeout / when nothing is left to run.
    pub fn wait_until(&self, done: &dyn Fn() -> bool) -> bool {
        if self.deterministic() {
            for _ in 0..OPERATION_STEPS {
                if done() || self.host.crashed() {
                    return done();
                }
                if !self.step() {
                    return done();
                }
            }
            done()
        } else {
            let deadline = Instant::now() + OPERATION_TIMEOUT;
            while !done() {
                if Instant::now() > deadline || self.host.crashed() {
                    return false;
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            true
        }
    }

    /// Deterministic mode: runs one runnable thing; false when idle. Threaded mode: false.
    pub fn step(&self) -> bool {
        self.deterministic() && exec::step(&self.host, &self.rng)
    }

    /// MiniportHaltEx (the adapter must be Paused).
    pub fn halt(&self, i: usize) -> Result<(), CallError> {
        miniport::halt(&self.host, &self.adapter(i), sys::NdisHaltDeviceDisabled)
    }

    /// MiniportDriverUnload.
    pub fn unload(&self) -> Result<(), CallError> {
        // NDIS unloads only when nothing runs: let the workers finish queued work first.
        self.wait_until(&|| self.host.pending.is_idle());
        Ok(driver::unload(&self.host)?)
    }

    fn oid(&self, i: usize, kind: oid::Kind, oid: u32, input: &[u8], length: usize) -> Result<OidResult, CallError> {
        let a = self.adapter(i);
        oid::request(&self.host, &a, kind, oid, input, length, &|done| self.wait_until(done))
    }

    /// A query with a buffer of `length` bytes.
    pub fn query(&self, i: usize, oid: u32, length: usize) -> Result<OidResult, CallError> {
        self.oid(i, oid::Kind::Query, oid, &[], length)
    }

    /// A set with `data` as the buffer.
    pub fn set(&self, i: usize, oid: u32, data: &[u8]) -> Result<OidResult, CallError> {
        self.oid(i, oid::Kind::Set, oid, data, data.len())
    }

    /// Sets the packet filter the way a protocol does after binding.
    pub fn set_packet_filter(&self, i: usize, filter: u32) -> Result<OidResult, CallError> {
        self.set(i, sys::OID_GEN_CURRENT_PACKET_FILTER, &filter.to_le_bytes())
    }

    /// Sends `frames` on adapter `i` from `stream`, `per_nbl` frames per NBL, at `irql`.
    pub fn send(&self, i: usize, stream: u32, frames: &[Frame], per_nbl: usize, irql: u8) -> Result<usize, CallError> {
        Ok(self.host.ndis.protocol.send(&self.host, &self.adapter(i), stream, frames, per_nbl, irql, 0)?)
    }

    /// How received NBLs of adapter `i` are returned.
    pub fn set_return_policy(&self, i: usize, policy: ReturnPolicy) {
        self.host.ndis.protocol.set_policy(i, policy);
    }

    /// Returns the oldest group of held receive NBLs (see [`ReturnPolicy::Hold`]) to its
    /// miniport now, from this thread at PASSIVE_LEVEL. Returns how many NBLs went back (0 if
    /// nothing was held).
    pub fn return_oldest_held(&self) -> Result<usize, CallError> {
        let proto = &self.host.ndis.protocol;
        let Some((index, nbls)) = proto.take_held(0) else { return Ok(0) };
        if let Some(a) = self.host.ndis.adapter(index) {
            proto.return_to_miniport(&self.host, &a, &nbls, crate::host::thread::PASSIVE)?;
        }
        Ok(nbls.len())
    }

    /// The MAC address adapter `i` reported.
    #[must_use]
    pub fn mac(&self, i: usize) -> [u8; 6] {
        self.adapter(i).lock().general.as_ref().map_or([0; 6], |g| g.current)
    }

    /// Waits until every send has been completed and every held receive returned (returning
    /// them all now), and the kernel queues are idle.
    pub fn settle(&self) -> bool {
        let sends_done =
            || self.host.ndis.adapters().iter().all(|a| a.counters.sends_outstanding.load(Ordering::Acquire) == 0);
        let ok = self.wait_until(&sends_done);
        if !ok && !self.host.crashed() {
            let stuck: i64 =
                self.host.ndis.adapters().iter().map(|a| a.counters.sends_outstanding.load(Ordering::Acquire)).sum();
            let when = if self.deterministic() { "with nothing left to run" } else { "within the timeout" };
            self.host.finding(Rule::SendTimeout, None, format!("{stuck} send NBL(s) were never completed ({when})"));
        }
        let returned = crate::ndis::protocol::return_all(&self.host).is_ok();
        let idle = self.wait_until(&|| self.host.pending.is_idle() && sends_done());
        ok && returned && idle
    }

    /// The verifier's findings so far.
    #[must_use]
    pub fn findings(&self) -> Vec<Finding> {
        self.host.verifier.findings()
    }

    /// The crash report, if the driver crashed.
    #[must_use]
    pub fn crash(&self) -> Option<CrashReport> {
        self.host.crash_report()
    }

    /// Stops the worker threads (threaded mode).
    pub fn stop(&self) {
        if let Some(mut w) = self.workers.lock().unwrap_or_else(PoisonError::into_inner).take() {
            w.stop(&self.host);
        }
    }

    /// MiniportResetEx at `irql`, without waiting for a pending reset to complete.
    pub fn start_reset(&self, i: usize, irql: u8) -> Result<Started, CallError> {
        miniport::reset(&self.host, &self.adapter(i), irql)
    }

    /// Waits until adapter `i` has no reset pending (a watchdog finding if it never completes).
    pub fn wait_reset(&self, i: usize) -> Result<(), CallError> {
        self.wait_operation(i, "reset", &|a| a.lock().reset.is_none())
    }

    /// MiniportResetEx at `irql`, waiting for a pending reset to complete. Returns how the
    /// handler returned.
    pub fn reset(&self, i: usize, irql: u8) -> Result<Started, CallError> {
        let started = self.start_reset(i, irql)?;
        if started == Started::Pending {
            self.wait_reset(i)?;
        }
        Ok(started)
    }

    /// MiniportDevicePnPEventNotify with `event` and its information buffer.
    pub fn pnp_event(&self, i: usize, event: u32, info: &[u8]) -> Result<(), CallError> {
        miniport::device_pnp_event(&self.host, &self.adapter(i), event, info)
    }

    /// MiniportDevicePnPEventNotify with `NdisDevicePnPEventSurpriseRemoved`.
    pub fn surprise_remove(&self, i: usize) -> Result<(), CallError> {
        self.pnp_event(i, sys::NdisDevicePnPEventSurpriseRemoved, &[])
    }

    /// MiniportShutdownEx with `action` (`NdisShutdownPowerOff` or `NdisShutdownBugCheck`).
    pub fn shutdown(&self, i: usize, action: u32) -> Result<(), CallError> {
        miniport::shutdown(&self.host, &self.adapter(i), action)
    }

    /// MiniportCancelSend for `cancel_id` at `irql`.
    pub fn cancel_send(&self, i: usize, cancel_id: u64, irql: u8) -> Result<(), CallError> {
        Ok(miniport::cancel_send(&self.host, &self.adapter(i), cancel_id, irql)?)
    }

    /// [`Sim::send`] with `cancel_id` in every NBL's `NetBufferListCancelId` field.
    pub fn send_with_cancel_id(
        &self,
        i: usize,
        stream: u32,
        frames: &[Frame],
        per_nbl: usize,
        irql: u8,
        cancel_id: u64,
    ) -> Result<usize, CallError> {
        Ok(self.host.ndis.protocol.send(&self.host, &self.adapter(i), stream, frames, per_nbl, irql, cancel_id)?)
    }

    /// The status indications adapter `i` made since its last initialization, in order.
    #[must_use]
    pub fn status_indications(&self, i: usize) -> Vec<StatusEvent> {
        self.adapter(i).lock().status_events.clone()
    }

    /// Every `NdisWriteErrorLogEntry` the driver wrote so far.
    #[must_use]
    pub fn error_log(&self) -> Vec<ErrorLogEntry> {
        self.host.kernel.error_log()
    }
}
