//! Scenarios: the lifecycle NDIS puts a miniport through, with traffic, as one call.
//!
//! [`bring_up`] runs DriverEntry, creates the adapters, initializes them, sets each packet
//! filter the way a bound protocol does (directed, multicast, broadcast), and restarts them.
//! [`run_lifecycle`] then runs pause/restart cycles round-robin over the adapters while
//! traffic flows between them — from sender threads in threaded mode, or interleaved by the
//! seeded scheduler in deterministic mode — and [`tear_down`] pauses, halts and unloads.

use crate::host::CrashReport;
use crate::host::thread::{DISPATCH, PASSIVE};
use crate::kernel::registry::{RegValue, Registry};
use crate::ndis::adapter::Pnp;
use crate::ndis::miniport::CallError;
use crate::ndis::protocol::{Frame, Layout, ReturnPolicy};
use crate::sim::Sim;
use crate::verifier::Finding;
use ndis_sys as sys;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// What a lifecycle run does.
#[derive(Clone, Debug)]
pub struct Lifecycle {
    /// Adapters on the hub.
    pub adapters: usize,
    /// Pause/restart cycles in total (round-robin over the adapters).
    pub cycles: usize,
    /// Sending threads (threaded mode); in deterministic mode each adapter sends.
    pub senders: usize,
    /// Frame sizes, used in turn.
    pub frame_sizes: Vec<usize>,
    /// NBLs per send call.
    pub chain: usize,
    /// Frames per NBL.
    pub per_nbl: usize,
    /// How received NBLs are returned.
    pub policy: ReturnPolicy,
    /// Check that every frame sent while everything ran arrived.
    pub check_delivery: bool,
    /// `*JumboPacket` for every adapter (None: the driver's default).
    pub jumbo: Option<u32>,
    /// Query OID_GEN_STATISTICS every this many cycles (0: never).
    pub oid_every: usize,
    /// Send slots in the protocol's pool.
    pub slots: usize,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self {
            adapters: 2,
            cycles: 100,
            senders: 2,
            frame_sizes: vec![60, 64, 128, 512, 1514],
            chain: 8,
            per_nbl: 1,
            policy: ReturnPolicy::Queue,
            check_delivery: true,
            jumbo: None,
            oid_every: 10,
            slots: 512,
        }
    }
}

/// What happened.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Cycles completed.
    pub cycles: usize,
    /// Pauses.
    pub pauses: u64,
    /// Pauses that pended (completed with NdisMPauseComplete).
    pub pauses_pended: u64,
    /// Restarts.
    pub restarts: u64,
    /// Send NBLs submitted.
    pub sent: u64,
    /// Completed with SUCCESS.
    pub completed_ok: u64,
    /// Completed with NDIS_STATUS_PAUSED.
    pub completed_paused: u64,
    /// Completed with another status.
    pub completed_other: u64,
    /// Test frames received.
    pub received: u64,
    /// Frames checked by the delivery oracle.
    pub delivery_checked: u64,
    /// Corrupt frames.
    pub corrupt: u64,
    /// Lost frames.
    pub lost: u64,
    /// Out-of-order frames.
    pub out_of_order: u64,
    /// Pause latencies (wall clock).
    pub pause_latencies: Vec<Duration>,
    /// NdisMPauseComplete / NdisMRestartComplete calls by the driver routine they came from
    /// (summed over the adapters; see [`crate::ndis::adapter::State::completed_from`]).
    pub completed_from: std::collections::BTreeMap<(&'static str, &'static str), u64>,
    /// Objects the driver still had allocated after unload (pool blocks, NBL pools, work items,
    /// timers, ...); each is also an `Unload.Leak` finding.
    pub live_after_unload: usize,
    /// Verifier findings.
    pub findings: Vec<Finding>,
    /// Protocol errors (first ones).
    pub errors: Vec<String>,
    /// A crash, if the driver crashed.
    pub crash: Option<CrashReport>,
    /// Run time.
    pub elapsed: Duration,
}

impl Report {
    /// True if nothing went wrong: no finding, no crash, nothing left at unload, no frame
    /// corrupt, lost or out of order, and no protocol error (among them "scenario stopped: ...").
    #[must_use]
    pub fn clean(&self) -> bool {
        self.findings.is_empty()
            && self.errors.is_empty()
            && self.crash.is_none()
            && self.live_after_unload == 0
            && self.corrupt == 0
            && self.lost == 0
            && self.out_of_order == 0
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "cycles            {}", self.cycles)?;
        writeln!(
            f,
            "pauses            {} ({} pended and completed with NdisMPauseComplete)",
            self.pauses, self.pauses_pended
        )?;
        writeln!(f, "restarts          {}", self.restarts)?;
        for ((api, from), n) in &self.completed_from {
            writeln!(f, "  {api:<20} {n} from {from}")?;
        }
        writeln!(
            f,
            "send NBLs         {} sent, {} SUCCESS, {} PAUSED, {} other",
            self.sent, self.completed_ok, self.completed_paused, self.completed_other
        )?;
        writeln!(f, "frames received   {} (delivery checked for {})", self.received, self.delivery_checked)?;
        writeln!(
            f,
            "frame errors      {} corrupt, {} lost, {} out of order",
            self.corrupt, self.lost, self.out_of_order
        )?;
        if let Some(p) = percentile(&self.pause_latencies, 50) {
            writeln!(
                f,
                "pause latency     p50 {:?}, p99 {:?}, max {:?}",
                p,
                percentile(&self.pause_latencies, 99).unwrap_or_default(),
                self.pause_latencies.iter().max().copied().unwrap_or_default()
            )?;
        }
        writeln!(f, "left at unload    {} object(s)", self.live_after_unload)?;
        writeln!(f, "findings          {}", self.findings.len())?;
        for finding in self.findings.iter().take(20) {
            writeln!(f, "  {finding}")?;
        }
        for e in self.errors.iter().take(10) {
            writeln!(f, "  protocol: {e}")?;
        }
        if let Some(c) = &self.crash {
            write!(f, "{c}")?;
        }
        write!(f, "elapsed           {:?}", self.elapsed)
    }
}

/// The `p`-th percentile of `values`.
#[must_use]
pub fn percentile(values: &[Duration], p: usize) -> Option<Duration> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_unstable();
    let i = (v.len() * p).div_ceil(100).saturating_sub(1).min(v.len() - 1);
    Some(v[i])
}

/// The registry keys of adapter `i` in a scenario.
#[must_use]
pub fn registry(cfg: &Lifecycle) -> Registry {
    let mut r = Registry::new();
    if let Some(j) = cfg.jumbo {
        r.set("*JumboPacket", RegValue::String(j.to_string()));
    }
    r
}

/// DriverEntry, adapters, initialize, packet filter, restart.
pub fn bring_up(sim: &Sim, adapters: usize, registry: &dyn Fn(usize) -> Registry) -> Result<Vec<usize>, CallError> {
    let status = sim.driver_entry()?;
    if status != sys::NDIS_STATUS_SUCCESS {
        return Err(CallError::Scenario(crate::ndis::miniport::ScenarioError(format!(
            "DriverEntry returned {status:#x}"
        ))));
    }
    let mut ids = Vec::new();
    for i in 0..adapters {
        let a = sim.add_adapter(registry(i));
        let s = sim.initialize(a)?;
        if s != sys::NDIS_STATUS_SUCCESS {
            return Err(CallError::Scenario(crate::ndis::miniport::ScenarioError(format!(
                "initialize returned {s:#x}"
            ))));
        }
        ids.push(a);
    }
    for &a in &ids {
        let filter = sys::NDIS_PACKET_TYPE_DIRECTED | sys::NDIS_PACKET_TYPE_MULTICAST | sys::NDIS_PACKET_TYPE_BROADCAST;
        sim.set_packet_filter(a, filter)?;
        sim.restart(a)?;
    }
    Ok(ids)
}

/// Settles traffic, pauses what runs, halts every adapter and unloads the driver.
pub fn tear_down(sim: &Sim) -> Result<(), CallError> {
    sim.settle();
    for a in sim.host().ndis.adapters() {
        if a.pnp() == Pnp::Running {
            sim.pause(a.index)?;
        }
        if a.pnp() == Pnp::Paused {
            sim.halt(a.index)?;
        }
    }
    sim.unload()
}

fn frames_for(sim: &Sim, cfg: &Lifecycle, peer: usize, k: &mut usize, count: usize) -> Vec<Frame> {
    let dst = sim.mac(peer);
    (0..count)
        .map(|_| {
            *k += 1;
            let len = cfg.frame_sizes[*k % cfg.frame_sizes.len()];
            // Every 16th frame is a broadcast.
            let dst = if (*k).is_multiple_of(16) { [0xFF; 6] } else { dst };
            Frame { dst, len, layout: if (*k).is_multiple_of(5) { Layout::Split(3) } else { Layout::Single } }
        })
        .collect()
}

/// Runs `cfg` on a freshly created `sim` with the driver loaded: bring-up, cycles with traffic,
/// tear-down. Calls `progress(done, total)` as cycles complete.
pub fn run_lifecycle(sim: &Sim, cfg: &Lifecycle, progress: &dyn Fn(usize, usize)) -> Report {
    let started = Instant::now();
    let mut report = Report::default();
    let proto = &sim.host().ndis.protocol;
    proto.grow(cfg.slots);
    proto.expect_delivery.store(cfg.check_delivery, Ordering::Relaxed);
    let result = (|| -> Result<(), CallError> {
        let ids = bring_up(sim, cfg.adapters, &|_| registry(cfg))?;
        for &a in &ids {
            sim.set_return_policy(a, cfg.policy);
        }
        if sim.deterministic() {
            deterministic_cycles(sim, cfg, &ids, &mut report, progress)?;
        } else {
            threaded_cycles(sim, cfg, &ids, &mut report, progress)?;
        }
        tear_down(sim)
    })();
    let host = sim.host();
    let s = &proto.stats;
    report.sent = s.sent.load(Ordering::Relaxed);
    report.completed_ok = s.completed_ok.load(Ordering::Relaxed);
    report.completed_paused = s.completed_paused.load(Ordering::Relaxed);
    report.completed_other = s.completed_other.load(Ordering::Relaxed);
    report.received = s.received.load(Ordering::Relaxed);
    report.delivery_checked = s.delivered_checked.load(Ordering::Relaxed);
    report.corrupt = s.corrupt.load(Ordering::Relaxed);
    report.lost = s.lost.load(Ordering::Relaxed);
    report.out_of_order = s.out_of_order.load(Ordering::Relaxed);
    for a in host.ndis.adapters() {
        let st = a.lock();
        report.pauses += st.pauses;
        report.pauses_pended += st.pauses_pended;
        report.restarts += st.restarts;
        for (key, n) in &st.completed_from {
            *report.completed_from.entry(*key).or_default() += n;
        }
    }
    report.live_after_unload = host.resources.live(|_| true).len();
    report.findings = sim.findings();
    report.errors = proto.errors();
    report.crash = sim.crash();
    if let Err(e) = result
        && report.crash.is_none()
    {
        report.errors.push(format!("scenario stopped: {e}"));
    }
    report.elapsed = started.elapsed();
    report
}

/// True when the verifier is set to stop at the first finding and there is one.
fn stop_on_finding(sim: &Sim) -> bool {
    let verifier = &sim.host().verifier;
    verifier.fail_fast() && verifier.count() > 0
}

fn threaded_cycles(
    sim: &Sim,
    cfg: &Lifecycle,
    ids: &[usize],
    report: &mut Report,
    progress: &dyn Fn(usize, usize),
) -> Result<(), CallError> {
    let stop = Arc::new(AtomicBool::new(false));
    std::thread::scope(|scope| -> Result<(), CallError> {
        for t in 0..cfg.senders {
            let stop = Arc::clone(&stop);
            scope.spawn(move || {
                let me = ids[t % ids.len()];
                let peer = ids[(t + 1) % ids.len()];
                let mut k = 0usize;
                let mut n = 0u64;
                while !stop.load(Ordering::Acquire) && !sim.host().crashed() {
                    let frames = frames_for(sim, cfg, peer, &mut k, cfg.chain * cfg.per_nbl);
                    n += 1;
                    let irql = if n.is_multiple_of(2) { DISPATCH } else { PASSIVE };
                    match sim.send(me, u32::try_from(t).unwrap_or(0), &frames, cfg.per_nbl, irql) {
                        Ok(0) => std::thread::yield_now(),
                        Ok(_) => {}
                        Err(_) => break,
                    }
                }
            });
        }
        let stats = &sim.host().ndis.protocol.stats;
        // Each cycle waits (briefly) until frames have really moved through the hub since the
        // last restart (not merely been sent and completed with PAUSED), so that every pause
        // meets a running datapath and every restart meets senders.
        let traffic = |counter: &std::sync::atomic::AtomicU64, at_least: u64, timeout: Duration| {
            let start = counter.load(Ordering::Relaxed);
            let deadline = Instant::now() + timeout;
            while counter.load(Ordering::Relaxed) < start + at_least
                && Instant::now() < deadline
                && !sim.host().crashed()
            {
                std::thread::yield_now();
            }
        };
        let result = (|| {
            for c in 0..cfg.cycles {
                if stop_on_finding(sim) {
                    break;
                }
                let a = ids[c % ids.len()];
                traffic(&stats.received, cfg.chain as u64, Duration::from_millis(50));
                let p = sim.pause(a)?;
                report.pause_latencies.push(p.latency);
                traffic(&stats.sent, 1, Duration::from_millis(5));
                sim.restart(a)?;
                if cfg.oid_every != 0 && c % cfg.oid_every == 0 {
                    sim.query(a, sys::OID_GEN_STATISTICS, size_of::<sys::NDIS_STATISTICS_INFO>())?;
                }
                report.cycles = c + 1;
                progress(c + 1, cfg.cycles);
            }
            Ok(())
        })();
        stop.store(true, Ordering::Release);
        result
    })
}

fn deterministic_cycles(
    sim: &Sim,
    cfg: &Lifecycle,
    ids: &[usize],
    report: &mut Report,
    progress: &dyn Fn(usize, usize),
) -> Result<(), CallError> {
    let mut k = 0usize;
    let mut done = 0usize;
    let mut next = 0usize;
    let mut started: HashMap<usize, (Instant, bool)> = HashMap::new();
    let mut guard = 0usize;
    while done < cfg.cycles {
        guard += 1;
        if guard > cfg.cycles.saturating_mul(10_000).max(100_000) || sim.host().crashed() || stop_on_finding(sim) {
            break;
        }
        let r = sim.rand(100);
        if r < 40 {
            let me = ids[sim.pick(ids.len())];
            let peer = ids[(ids.iter().position(|x| *x == me).unwrap_or(0) + 1) % ids.len()];
            let frames = frames_for(sim, cfg, peer, &mut k, (cfg.chain * cfg.per_nbl).max(1));
            let irql = if sim.rand(2) == 0 { PASSIVE } else { DISPATCH };
            sim.send(me, u32::try_from(me).unwrap_or(0), &frames, cfg.per_nbl, irql)?;
        } else if r < 90 {
            sim.step();
        } else if r < 98 {
            // The next PnP step on the next adapter: pause a running one, restart a paused one.
            let a = ids[next % ids.len()];
            let adapter = sim.adapter(a);
            let (pnp, pending) = {
                let st = adapter.lock();
                (st.pnp, st.pending.is_some())
            };
            if pending {
                sim.step();
                continue;
            }
            // Record completion of what was started.
            if let Some((t, was_pause)) = started.remove(&a) {
                if was_pause {
                    report.pause_latencies.push(t.elapsed());
                } else {
                    done += 1;
                    report.cycles = done;
                    progress(done, cfg.cycles);
                    next += 1;
                    continue;
                }
            }
            match pnp {
                Pnp::Running => {
                    started.insert(a, (Instant::now(), true));
                    // Completed now or pending: recorded on the next visit either way.
                    sim.start_pause(a)?;
                }
                Pnp::Paused => {
                    let attrs = sim.rand(4) != 0;
                    started.insert(a, (Instant::now(), false));
                    let _ = sim.start_restart(a, attrs)?;
                }
                _ => {}
            }
        } else if cfg.oid_every != 0 {
            let a = ids[sim.pick(ids.len())];
            if sim.adapter(a).lock().pending.is_none() {
                sim.query(a, sys::OID_GEN_STATISTICS, size_of::<sys::NDIS_STATISTICS_INFO>())?;
            }
        }
    }
    // Let whatever is pending finish and bring every adapter back to Running.
    for &a in ids {
        sim.wait_pending(a)?;
        if sim.adapter(a).pnp() == Pnp::Paused {
            sim.restart(a)?;
        }
    }
    Ok(())
}
