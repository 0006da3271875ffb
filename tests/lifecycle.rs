//! The lifecycle NDIS puts rvmini through, on the rvmini.sys built from this checkout, loaded
//! into ndis-host with the contract verifier on.
//!
//! - 10,000 pause/restart cycles of two adapters under traffic from two threads, in threaded mode
//!   and in deterministic mode: zero findings, every frame sent while both ran arrived
//!   byte-identical, nothing left allocated at unload, every pending pause completed from an
//!   NDIS I/O work item.
//! - 1000 seeds of the deterministic scheduler over a short lifecycle each (the printed seed
//!   replays a failure: `cargo run -p ndis-host -- run rvmini.sys --seed S ...`).
//! - With the protocol holding received NBLs, a pause pends and completes through
//!   NdisMPauseComplete only after the last one came back.
//!
//! `RVMINI_CYCLES` and `RVMINI_SEEDS` scale the long tests (defaults: 10,000 and 1000).

mod common;

use ndis_host::host::{HostConfig, Mode};
use ndis_host::ndis::adapter::Pnp;
use ndis_host::ndis::miniport::Started;
use ndis_host::ndis::protocol::{Frame, Layout, ReturnPolicy};
use ndis_host::scenario::{self, Lifecycle, Report};
use ndis_host::sim::Sim;
use std::sync::atomic::Ordering;
use std::time::Duration;

const WORK_ITEM: &str = "NDIS_IO_WORKITEM_ROUTINE";

fn from_env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn loaded(mode: Mode) -> Sim {
    let sim = Sim::new(HostConfig { mode, ..HostConfig::default() });
    let image = common::driver_image();
    sim.load(&image).unwrap_or_else(|e| panic!("loading {}: {e}", image.display()));
    sim
}

/// What every lifecycle run must show: no finding, crash, lost, corrupt or reordered frame, or
/// protocol error; every cycle done; every send completed with SUCCESS or PAUSED; nothing left
/// at unload; and every pended pause completed by NdisMPauseComplete from an NDIS I/O work item.
fn assert_clean(what: &str, cfg: &Lifecycle, report: &Report) {
    assert!(report.clean(), "{what}: not clean\n{report}");
    assert!(report.errors.is_empty(), "{what}: protocol errors\n{report}");
    assert_eq!(report.cycles, cfg.cycles, "{what}: stopped early\n{report}");
    assert_eq!(report.completed_other, 0, "{what}: sends completed with an unexpected status\n{report}");
    assert_eq!(report.sent, report.completed_ok + report.completed_paused, "{what}: sends unaccounted for\n{report}");
    assert_eq!(report.live_after_unload, 0, "{what}: objects left at unload\n{report}");
    // Every NdisMPauseComplete came from a work item, one per pended pause.
    let pause_completions: u64 =
        report.completed_from.iter().filter(|((api, _), _)| *api == "NdisMPauseComplete").map(|(_, n)| n).sum();
    let from_work_items = report.completed_from.get(&("NdisMPauseComplete", WORK_ITEM)).copied().unwrap_or(0);
    assert_eq!(pause_completions, report.pauses_pended, "{what}: NdisMPauseComplete calls\n{report}");
    assert_eq!(from_work_items, pause_completions, "{what}: NdisMPauseComplete outside a work item\n{report}");
}

/// The long run under threads: real contention between the senders, the transmit DPCs, the
/// returns and the pauses.
#[test]
fn ten_thousand_cycles_threaded() {
    let cfg = Lifecycle { cycles: from_env("RVMINI_CYCLES", 10_000), ..Lifecycle::default() };
    let sim = loaded(Mode::Threaded);
    let report = scenario::run_lifecycle(&sim, &cfg, &|_, _| {});
    eprintln!("threaded:\n{report}");
    assert_clean("threaded", &cfg, &report);
    // The run must have exercised what it claims to: traffic through the hub that the delivery
    // oracle checked, and pauses that had to wait for the datapath to drain.
    assert!(report.delivery_checked > 0, "no frame was checked end to end\n{report}");
    assert!(report.pauses_pended > 0, "no pause ever pended\n{report}");
}

/// The same length under the seeded scheduler: one OS thread, every interleaving chosen by the
/// seed.
#[test]
fn ten_thousand_cycles_deterministic() {
    let seed = 0x0052_564D;
    let cfg = Lifecycle { cycles: from_env("RVMINI_CYCLES", 10_000), ..Lifecycle::default() };
    let sim = loaded(Mode::Deterministic { seed });
    let report = scenario::run_lifecycle(&sim, &cfg, &|_, _| {});
    eprintln!("deterministic (seed {seed}):\n{report}");
    assert_clean(&format!("seed {seed}"), &cfg, &report);
    assert!(report.delivery_checked > 0, "no frame was checked end to end\n{report}");
    assert!(report.pauses_pended > 0, "no pause ever pended\n{report}");
}

/// Many short runs, each with its own seed: different interleavings of sends, returns, DPCs,
/// work items, pauses, restarts and OIDs. A failure names its seed.
#[test]
fn a_thousand_seeds() {
    let seeds = from_env("RVMINI_SEEDS", 1000) as u64;
    let cfg =
        Lifecycle { cycles: 6, chain: 4, frame_sizes: vec![60, 61, 1514, 512], oid_every: 3, ..Lifecycle::default() };
    let mut pended = 0;
    let mut checked = 0;
    for seed in 0..seeds {
        let sim = loaded(Mode::Deterministic { seed });
        let report = scenario::run_lifecycle(&sim, &cfg, &|_, _| {});
        assert_clean(
            &format!(
                "seed {seed} (replay: ndis-host run rvmini.sys --seed {seed} --cycles {} --chain {})",
                cfg.cycles, cfg.chain
            ),
            &cfg,
            &report,
        );
        pended += report.pauses_pended;
        checked += report.delivery_checked;
    }
    eprintln!("{seeds} seeds: {pended} pauses pended, {checked} frames checked end to end");
    assert!(pended > 0 && checked > 0, "the seeds never made a pause pend or a frame arrive");
}

/// Received NBLs the protocol holds keep a pause pending; it completes through
/// NdisMPauseComplete, from a work item, only after the last of them came back.
#[test]
fn held_receives_keep_a_pause_pending_until_the_last_return() {
    let sim = loaded(Mode::Threaded);
    let cfg = Lifecycle::default();
    let ids = scenario::bring_up(&sim, 2, &|_| scenario::registry(&cfg)).expect("bring-up");
    let (tx, rx) = (ids[0], ids[1]);
    // Held for an hour: only this test returns them.
    sim.set_return_policy(rx, ReturnPolicy::Hold(Duration::from_hours(1)));
    let frames: Vec<Frame> = (0..24).map(|_| Frame { dst: sim.mac(rx), len: 128, layout: Layout::Single }).collect();
    for chunk in frames.chunks(8) {
        sim.send(tx, 0, chunk, 1, ndis_host::host::thread::PASSIVE).expect("send");
    }
    let receiver = sim.adapter(rx);
    let proto = &sim.host().ndis.protocol;
    let arrived = sim.wait_until(&|| proto.held_nbls() >= 24);
    let stats = &sim.host().ndis.protocol.stats;
    assert!(
        arrived,
        "the frames never reached the receiving adapter: {} received, sender: {} sent, {} completed, {} ok; protocol errors {:?}",
        receiver.counters.received.load(Ordering::Acquire),
        stats.sent.load(Ordering::Acquire),
        sim.adapter(tx).counters.completions.load(Ordering::Acquire),
        sim.adapter(tx).counters.completed_ok.load(Ordering::Acquire),
        sim.host().ndis.protocol.errors()
    );

    let started = sim.start_pause(rx).expect("MiniportPause");
    assert!(matches!(started, Started::Pending), "MiniportPause returned {started:?} with receives outstanding");
    let mut returned = 0;
    while returned < 24 {
        // Give the driver every chance to complete early: it must not.
        std::thread::sleep(Duration::from_millis(20));
        assert!(receiver.lock().pending.is_some(), "the pause completed with {} NBL(s) still held", 24 - returned);
        assert_eq!(receiver.pnp(), Pnp::Pausing);
        returned += sim.return_oldest_held().expect("return");
    }
    sim.wait_pending(rx).expect("the pause completes after the last return");
    assert_eq!(receiver.pnp(), Pnp::Paused);
    let from = receiver.lock().completed_from.clone();
    assert_eq!(from.get(&("NdisMPauseComplete", WORK_ITEM)), Some(&1), "{from:?}");
    assert_eq!(from.len(), 1, "{from:?}");

    assert_eq!(sim.restart(rx).expect("restart"), ndis_sys::NDIS_STATUS_SUCCESS);
    assert!(sim.settle());
    scenario::tear_down(&sim).expect("tear down");
    assert!(sim.findings().is_empty(), "{:#?}", sim.findings());
    assert!(sim.host().resources.live(|_| true).is_empty(), "objects left at unload");
}
