//! Shared scaffolding for the tests that drive the real rvmini.sys in ndis-host
//! (`tests/datapath.rs`, `tests/adapter.rs`; `tests/oids.rs` uses the frames, settling and the
//! tear-down): a host with the image loaded and DriverEntry run, adapters brought up with chosen
//! registry values and packet filters, traffic sent and counted, counters read through OIDs,
//! and a tear-down that fails the test on any verifier finding, crash, protocol error or leaked
//! object.

// Each test crate includes this module and uses a different part of it.
#![allow(dead_code)]

use ndis_host::host::thread::PASSIVE;
use ndis_host::host::{HostConfig, Mode};
use ndis_host::kernel::registry::{RegValue, Registry};
use ndis_host::ndis::adapter::Pnp;
use ndis_host::ndis::protocol::{Frame, Layout};
use ndis_host::scenario;
use ndis_host::sim::Sim;
use ndis_sys as sys;
use std::sync::atomic::Ordering;

/// Directed, multicast (list) and broadcast: what a bound protocol sets.
pub const DEFAULT_FILTER: u32 =
    sys::NDIS_PACKET_TYPE_DIRECTED | sys::NDIS_PACKET_TYPE_MULTICAST | sys::NDIS_PACKET_TYPE_BROADCAST;

/// `NdisDeviceStateD0` / `NdisDeviceStateD3` (`NDIS_DEVICE_POWER_STATE`).
pub const D0: u32 = 1;
/// See [`D0`].
pub const D3: u32 = 4;

/// A host in deterministic mode with rvmini.sys loaded and DriverEntry run.
pub fn deterministic(seed: u64) -> Sim {
    start(HostConfig { mode: Mode::Deterministic { seed }, ..HostConfig::default() })
}

/// A host in threaded mode (DPC, work-item and returner threads) with rvmini.sys loaded and
/// DriverEntry run.
pub fn threaded() -> Sim {
    start(HostConfig { mode: Mode::Threaded, ..HostConfig::default() })
}

/// Whether this process may run on at least two CPUs. Some threaded tests check that one thread
/// caught another in the middle of its work; that needs the two to run at the same time, which
/// on a single CPU is left to preemption and may never happen, so they check it only when this
/// is true.
pub fn parallel() -> bool {
    std::thread::available_parallelism().is_ok_and(|n| n.get() >= 2)
}

/// A host with `config`, the image loaded and DriverEntry run successfully.
pub fn start(config: HostConfig) -> Sim {
    let sim = Sim::new(config);
    sim.load(&common_image()).expect("rvmini.sys loads");
    assert_eq!(sim.driver_entry().expect("DriverEntry runs"), sys::NDIS_STATUS_SUCCESS);
    sim.host().ndis.protocol.grow(1024);
    sim
}

fn common_image() -> std::path::PathBuf {
    crate::common::driver_image()
}

/// A registry with `*JumboPacket` and/or `*ReceiveBuffers` set as the INF sets them (REG_SZ).
pub fn registry(jumbo: Option<u32>, receive_buffers: Option<u32>) -> Registry {
    let mut r = Registry::new();
    if let Some(j) = jumbo {
        r.set("*JumboPacket", RegValue::String(j.to_string()));
    }
    if let Some(n) = receive_buffers {
        r.set("*ReceiveBuffers", RegValue::String(n.to_string()));
    }
    r
}

/// Creates an adapter with `registry` and initializes it (it is then Paused).
pub fn add(sim: &Sim, registry: Registry) -> usize {
    let a = sim.add_adapter(registry);
    assert_eq!(sim.initialize(a).expect("MiniportInitializeEx runs"), sys::NDIS_STATUS_SUCCESS);
    a
}

/// Sets `filter` and restarts `a` (Paused → Running).
pub fn run(sim: &Sim, a: usize, filter: u32) {
    set_filter(sim, a, filter);
    assert_eq!(sim.restart(a).expect("MiniportRestart runs"), sys::NDIS_STATUS_SUCCESS);
    assert_eq!(sim.adapter(a).pnp(), Pnp::Running);
}

/// Creates, initializes, filters and restarts an adapter.
pub fn up(sim: &Sim, registry: Registry, filter: u32) -> usize {
    let a = add(sim, registry);
    run(sim, a, filter);
    a
}

/// OID_GEN_CURRENT_PACKET_FILTER.
pub fn set_filter(sim: &Sim, a: usize, filter: u32) {
    let r = sim.set_packet_filter(a, filter).expect("OID request runs");
    assert_eq!(r.status, sys::NDIS_STATUS_SUCCESS, "packet filter {filter:#x}");
}

/// OID_802_3_MULTICAST_LIST.
pub fn set_multicast(sim: &Sim, a: usize, list: &[[u8; 6]]) {
    let bytes: Vec<u8> = list.iter().flatten().copied().collect();
    let r = sim.set(a, sys::OID_802_3_MULTICAST_LIST, &bytes).expect("OID request runs");
    assert_eq!(r.status, sys::NDIS_STATUS_SUCCESS, "multicast list {list:x?}");
}

/// OID_PNP_SET_POWER.
pub fn set_power(sim: &Sim, a: usize, state: u32) -> i32 {
    sim.set(a, sys::OID_PNP_SET_POWER, &state.to_le_bytes()).expect("OID request runs").status
}

/// A counter OID answered in an 8-byte buffer.
pub fn counter(sim: &Sim, a: usize, oid: u32) -> u64 {
    let r = sim.query(a, oid, 8).expect("OID request runs");
    assert_eq!(r.status, sys::NDIS_STATUS_SUCCESS, "query {oid:#x}");
    let mut b = [0u8; 8];
    b[..r.data.len().min(8)].copy_from_slice(&r.data[..r.data.len().min(8)]);
    u64::from_le_bytes(b)
}

/// A ULONG OID.
pub fn query_u32(sim: &Sim, a: usize, oid: u32) -> u32 {
    let r = sim.query(a, oid, 4).expect("OID request runs");
    assert_eq!(r.status, sys::NDIS_STATUS_SUCCESS, "query {oid:#x}");
    u32::from_le_bytes(r.data[..4].try_into().expect("4 bytes"))
}

/// OID_GEN_STATISTICS.
pub fn statistics(sim: &Sim, a: usize) -> sys::NDIS_STATISTICS_INFO {
    let r = sim.query(a, sys::OID_GEN_STATISTICS, size_of::<sys::NDIS_STATISTICS_INFO>()).expect("OID request runs");
    assert_eq!(r.status, sys::NDIS_STATUS_SUCCESS);
    assert_eq!(r.data.len(), size_of::<sys::NDIS_STATISTICS_INFO>());
    // SAFETY: NDIS_STATISTICS_INFO is plain integers; the buffer holds exactly one, read
    // unaligned.
    unsafe { std::ptr::read_unaligned(r.data.as_ptr().cast::<sys::NDIS_STATISTICS_INFO>()) }
}

/// A test frame to `dst` of `len` bytes in one MDL.
pub fn frame(dst: [u8; 6], len: usize) -> Frame {
    Frame { dst, len, layout: Layout::Single }
}

/// `n` copies of a frame.
pub fn frames(dst: [u8; 6], len: usize, n: usize) -> Vec<Frame> {
    vec![frame(dst, len); n]
}

/// Receive NBLs indicated to adapter `a` so far (with or without RESOURCES).
pub fn received(sim: &Sim, a: usize) -> u64 {
    sim.adapter(a).counters.received.load(Ordering::Relaxed)
}

/// Receive NBLs indicated to `a` with `NDIS_RECEIVE_FLAGS_RESOURCES`.
pub fn received_resources(sim: &Sim, a: usize) -> u64 {
    sim.adapter(a).counters.received_resources.load(Ordering::Relaxed)
}

/// Receive NBLs of `a` the protocol holds.
pub fn rx_outstanding(sim: &Sim, a: usize) -> i64 {
    sim.adapter(a).counters.rx_outstanding.load(Ordering::Acquire)
}

/// Send NBLs of `a` the miniport has not completed.
pub fn sends_outstanding(sim: &Sim, a: usize) -> i64 {
    sim.adapter(a).counters.sends_outstanding.load(Ordering::Acquire)
}

/// The protocol's completion counters: (SUCCESS, PAUSED, any other status).
pub fn completions(sim: &Sim) -> (u64, u64, u64) {
    let s = &sim.host().ndis.protocol.stats;
    (
        s.completed_ok.load(Ordering::Relaxed),
        s.completed_paused.load(Ordering::Relaxed),
        s.completed_other.load(Ordering::Relaxed),
    )
}

/// Test frames the protocol received and checked byte for byte.
pub fn frames_checked(sim: &Sim) -> u64 {
    sim.host().ndis.protocol.stats.received.load(Ordering::Relaxed)
}

/// Sends `n` frames of `len` bytes from adapter `from` to `dst` (one frame per NBL, at
/// PASSIVE_LEVEL), lets them settle, checks that every one of them completed with SUCCESS, and
/// returns how many frames each adapter received meanwhile (indexed by adapter).
pub fn deliver(sim: &Sim, from: usize, dst: [u8; 6], len: usize, n: usize) -> Vec<u64> {
    let count = sim.host().ndis.adapters().len();
    let before: Vec<u64> = (0..count).map(|i| received(sim, i)).collect();
    let (ok, paused, other) = completions(sim);
    let stream = u32::try_from(from).expect("adapter index fits a stream id");
    assert_eq!(sim.send(from, stream, &frames(dst, len, n), 1, PASSIVE).expect("send"), n, "send slots");
    settle(sim);
    assert_eq!(completions(sim), (ok + n as u64, paused, other), "every send completes with SUCCESS");
    (0..count).map(|i| received(sim, i) - before[i]).collect()
}

/// Lets every send complete and every held receive return; fails the test if it cannot.
pub fn settle(sim: &Sim) {
    assert!(sim.settle(), "traffic did not settle; findings: {:#?}", sim.findings());
}

/// Asserts nothing went wrong so far: no finding, no crash, no corrupt or reordered frame.
pub fn assert_clean(sim: &Sim) {
    if let Some(c) = sim.crash() {
        panic!("the driver crashed:\n{c}");
    }
    let findings = sim.findings();
    assert!(findings.is_empty(), "verifier findings: {findings:#?}");
    let proto = &sim.host().ndis.protocol;
    assert_eq!(proto.stats.corrupt.load(Ordering::Relaxed), 0, "corrupt frames: {:#?}", proto.errors());
    assert_eq!(proto.stats.out_of_order.load(Ordering::Relaxed), 0, "reordered frames: {:#?}", proto.errors());
    assert!(proto.errors().is_empty(), "protocol errors: {:#?}", proto.errors());
}

/// Settles, pauses what runs, halts what is paused and unloads; then asserts a clean run and
/// that nothing the driver allocated is left (pool blocks, NBL pools, NBLs, MDLs, work items,
/// configuration handles) and no pool block was overrun.
pub fn finish(sim: &Sim) {
    assert_eq!(sim.host().kernel.check_pool(sim.host()), 0, "pool blocks overrun");
    scenario::tear_down(sim).expect("tear-down runs");
    for a in sim.host().ndis.adapters() {
        assert_eq!(a.pnp(), Pnp::Halted, "adapter {} is halted", a.index);
    }
    assert_clean(sim);
    let live = sim.host().resources.live(|_| true);
    assert!(live.is_empty(), "left allocated after unload: {live:#?}");
    assert_eq!(sim.host().kernel.pool_usage(), (0, 0), "pool blocks left");
}
