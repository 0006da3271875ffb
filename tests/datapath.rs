//! rvmini's datapath on the real rvmini.sys in ndis-host: hub delivery by packet filter, bad
//! frames, MiniportCancelSend, receive-pool exhaustion and pauses that wait for held receives.
//!
//! Every test ends with the adapters halted and the driver unloaded, and fails on any verifier
//! finding, crash, corrupt or reordered frame, or object left allocated (`rig::finish`). The
//! protocol compares every received test frame byte for byte with what was sent (frames shorter
//! than the Ethernet minimum arrive padded with zeros); `rig::frames_checked` counts them.

mod common;
mod rig;

use ndis_host::host::thread::{DISPATCH, PASSIVE};
use ndis_host::ndis::adapter::Pnp;
use ndis_host::ndis::miniport::Started;
use ndis_host::ndis::protocol::{Frame, Layout, ReturnPolicy};
use ndis_host::sim::Sim;
use ndis_sys as sys;
use rig::{
    DEFAULT_FILTER, add, completions, counter, deliver, finish, frame, frames, frames_checked, received,
    received_resources, registry, run, rx_outstanding, sends_outstanding, set_filter, set_multicast, settle,
    statistics, up,
};
use std::time::Duration;

const M1: [u8; 6] = [0x01, 0x00, 0x5E, 0x00, 0x00, 0x01];
const M2: [u8; 6] = [0x33, 0x33, 0x00, 0x00, 0x00, 0x02];
const BROADCAST: [u8; 6] = [0xFF; 6];
/// A unicast address no adapter has.
const NOBODY: [u8; 6] = [0x02, 0xDE, 0xAD, 0xBE, 0xEF, 0x01];

fn adapters(sim: &Sim) -> usize {
    sim.host().ndis.adapters().len()
}

#[test]
fn the_hub_delivers_by_packet_filter_and_never_to_the_sender() {
    let sim = rig::deterministic(11);
    let a = up(&sim, registry(None, None), DEFAULT_FILTER);
    let b = up(&sim, registry(None, None), DEFAULT_FILTER);
    let c = up(&sim, registry(None, None), DEFAULT_FILTER);
    let (mac_b, mac_c) = (sim.mac(b), sim.mac(c));
    assert_ne!(mac_b, mac_c);
    set_multicast(&sim, b, &[M1]);
    let checked = frames_checked(&sim);

    // Directed: only the addressee.
    assert_eq!(deliver(&sim, a, mac_b, 100, 3), [0, 3, 0]);
    assert_eq!(deliver(&sim, a, mac_c, 100, 2), [0, 0, 2]);
    // To an address nobody has: nobody.
    assert_eq!(deliver(&sim, a, NOBODY, 100, 2), [0, 0, 0]);
    // Broadcast: everyone but the sender.
    assert_eq!(deliver(&sim, a, BROADCAST, 100, 2), [0, 2, 2]);
    assert_eq!(deliver(&sim, b, BROADCAST, 100, 1), [1, 0, 1]);
    // Multicast: only adapters with the address in their list.
    assert_eq!(deliver(&sim, a, M1, 100, 2), [0, 2, 0]);
    assert_eq!(deliver(&sim, a, M2, 100, 2), [0, 0, 0]);
    // ALL_MULTICAST takes every multicast address, listed or not, but not broadcast by itself.
    set_filter(&sim, c, sys::NDIS_PACKET_TYPE_ALL_MULTICAST);
    assert_eq!(deliver(&sim, a, M2, 100, 1), [0, 0, 1]);
    assert_eq!(deliver(&sim, a, M1, 100, 1), [0, 1, 1]);
    assert_eq!(deliver(&sim, a, BROADCAST, 100, 1), [0, 1, 0]);
    assert_eq!(deliver(&sim, a, mac_c, 100, 1), [0, 0, 0]);
    // MULTICAST without a list entry takes nothing multicast.
    set_filter(&sim, c, sys::NDIS_PACKET_TYPE_MULTICAST);
    assert_eq!(deliver(&sim, a, M1, 100, 1), [0, 1, 0]);
    // Promiscuous: everything, even frames to other stations.
    set_filter(&sim, c, sys::NDIS_PACKET_TYPE_PROMISCUOUS);
    assert_eq!(deliver(&sim, a, mac_b, 100, 2), [0, 2, 2]);
    assert_eq!(deliver(&sim, a, NOBODY, 100, 1), [0, 0, 1]);
    assert_eq!(deliver(&sim, a, M2, 100, 1), [0, 0, 1]);
    // The sender never receives its own frame, even promiscuous.
    assert_eq!(deliver(&sim, c, BROADCAST, 100, 2), [2, 2, 0]);
    assert_eq!(deliver(&sim, c, mac_c, 100, 1), [0, 0, 0]);
    // Filter 0: nothing at all.
    set_filter(&sim, b, 0);
    assert_eq!(deliver(&sim, a, mac_b, 100, 1), [0, 0, 1]);
    assert_eq!(deliver(&sim, a, BROADCAST, 100, 1), [0, 0, 1]);
    assert_eq!(deliver(&sim, a, M1, 100, 1), [0, 0, 1]);
    // Back to normal: the multicast list survived the filter changes.
    set_filter(&sim, b, DEFAULT_FILTER);
    set_filter(&sim, c, DEFAULT_FILTER);
    assert_eq!(deliver(&sim, c, M1, 100, 1), [0, 1, 0]);

    // Every delivered frame was compared byte for byte (no corrupt copy: `finish` checks).
    let delivered = 3 + 2 + 4 + 2 + 2 + 1 + 1 + 1 + 1 + 1 + 4 + 1 + 1 + 4 + 1 + 1 + 1 + 1;
    assert_eq!(frames_checked(&sim) - checked, delivered);
    // The receive counters classify what arrived.
    let sb = statistics(&sim, b);
    assert_eq!(sb.ifHCInUcastPkts, 3 + 2);
    assert_eq!(sb.ifHCInMulticastPkts, 2 + 1 + 1 + 1);
    assert_eq!(sb.ifHCInBroadcastPkts, 2 + 1 + 2);
    let sc = statistics(&sim, c);
    assert_eq!(sc.ifHCOutBroadcastPkts, 2);
    assert_eq!(sc.ifHCOutUcastPkts, 1);
    assert_eq!(counter(&sim, a, sys::OID_GEN_RCV_OK), 1 + 2);
    finish(&sim);
}

/// Sends one NBL of `frames` from `from`, settles, and checks that it completed with a failure
/// status, was counted as a transmit error, and delivered nothing.
fn rejected(sim: &Sim, from: usize, frames: &[Frame]) {
    let before: Vec<u64> = (0..adapters(sim)).map(|i| received(sim, i)).collect();
    let (ok, paused, other) = completions(sim);
    let errors = counter(sim, from, sys::OID_GEN_XMIT_ERROR);
    let stream = u32::try_from(from).unwrap() + 100;
    assert_eq!(sim.send(from, stream, frames, frames.len(), PASSIVE).unwrap(), 1);
    settle(sim);
    assert_eq!(completions(sim), (ok, paused, other + 1), "{frames:?} completes with a failure status");
    assert_eq!(counter(sim, from, sys::OID_GEN_XMIT_ERROR), errors + 1, "{frames:?} is a transmit error");
    let after: Vec<u64> = (0..adapters(sim)).map(|i| received(sim, i)).collect();
    assert_eq!(after, before, "{frames:?} is delivered nowhere");
}

#[test]
fn bad_frames_fail_are_counted_and_are_never_delivered() {
    let sim = rig::deterministic(12);
    let a = up(&sim, registry(None, None), DEFAULT_FILTER);
    let jumbo = up(&sim, registry(Some(9014), None), DEFAULT_FILTER);
    let c = up(&sim, registry(None, None), DEFAULT_FILTER);
    let jumbo2 = up(&sim, registry(Some(9014), None), DEFAULT_FILTER);
    // Out of range: the default (standard frames) is used.
    let wrong = add(&sim, registry(Some(9015), None));
    for (i, mtu) in [(a, 1500), (jumbo, 9000), (c, 1500), (jumbo2, 9000), (wrong, 1500)] {
        assert_eq!(rig::query_u32(&sim, i, sys::OID_GEN_MAXIMUM_FRAME_SIZE), mtu);
        assert_eq!(rig::query_u32(&sim, i, sys::OID_GEN_MAXIMUM_TOTAL_SIZE), mtu + 14);
    }
    let to_c = sim.mac(c);

    // Which status each gets (src/datapath/send.rs `validate`; the host's protocol counts any
    // status other than SUCCESS and PAUSED together, so the tests check "a failure"):
    // shorter than the header or longer than MTU + header → NDIS_STATUS_INVALID_LENGTH;
    // MDL chain shorter than DataLength, or no NET_BUFFER at all → NDIS_STATUS_INVALID_DATA.
    rejected(&sim, a, &[frame(to_c, 0)]);
    rejected(&sim, a, &[frame(to_c, 13)]);
    rejected(&sim, a, &[frame(to_c, 1515)]);
    rejected(&sim, a, &[frame(to_c, 9014)]);
    rejected(&sim, a, &[Frame { dst: to_c, len: 100, layout: Layout::Truncated }]);
    rejected(&sim, a, &[Frame { dst: to_c, len: 1514, layout: Layout::Truncated }]);
    rejected(&sim, a, &[Frame { dst: to_c, len: 100, layout: Layout::NoNetBuffer }]);
    // One bad NET_BUFFER fails its whole NBL: the good frame beside it is not sent either.
    rejected(&sim, a, &[frame(to_c, 100), frame(to_c, 13)]);
    rejected(&sim, a, &[frame(BROADCAST, 200), Frame { dst: BROADCAST, len: 64, layout: Layout::Truncated }]);
    // Jumbo frames: at most 9014 with *JumboPacket = 9014.
    rejected(&sim, jumbo, &[frame(sim.mac(jumbo2), 9015)]);
    rejected(&sim, jumbo, &[frame(sim.mac(jumbo2), 20_000)]);
    assert_eq!(counter(&sim, a, sys::OID_GEN_XMIT_ERROR), 9);
    assert_eq!(statistics(&sim, a).ifOutErrors, 9);
    assert_eq!(counter(&sim, jumbo, sys::OID_GEN_XMIT_ERROR), 2);

    // The limits themselves pass, in every layout.
    let checked = frames_checked(&sim);
    assert_eq!(deliver(&sim, a, to_c, 14, 1), [0, 0, 1, 0, 0]);
    assert_eq!(deliver(&sim, a, to_c, 1514, 2), [0, 0, 2, 0, 0]);
    for layout in [Layout::Split(3), Layout::Split(8), Layout::Offset(7)] {
        let (ok, _, _) = completions(&sim);
        sim.send(a, 7, &[Frame { dst: to_c, len: 1514, layout }, Frame { dst: to_c, len: 61, layout }], 2, PASSIVE)
            .unwrap();
        settle(&sim);
        assert_eq!(completions(&sim).0, ok + 1, "{layout:?}");
    }
    assert_eq!(deliver(&sim, jumbo, sim.mac(jumbo2), 9014, 2), [0, 0, 0, 2, 0]);
    // A jumbo broadcast reaches the other jumbo adapter; standard adapters drop it as a giant
    // and count a receive error (the sender's transmission itself succeeded).
    assert_eq!(deliver(&sim, jumbo, BROADCAST, 9014, 1), [0, 0, 0, 1, 0]);
    assert_eq!(counter(&sim, a, sys::OID_GEN_RCV_ERROR), 1);
    assert_eq!(counter(&sim, c, sys::OID_GEN_RCV_ERROR), 1);
    assert_eq!(counter(&sim, jumbo2, sys::OID_GEN_RCV_ERROR), 0);
    assert_eq!(deliver(&sim, jumbo, BROADCAST, 1514, 1), [1, 0, 1, 1, 0]);
    // Every frame that arrived was compared (the 14-byte one as its zero padding).
    assert_eq!(frames_checked(&sim) - checked, 1 + 2 + 2 * 3 + 2 + 1 + 3);
    finish(&sim);
}

#[test]
fn cancel_send_aborts_exactly_the_queued_nbls_with_that_id() {
    let sim = rig::deterministic(13);
    let a = up(&sim, registry(None, None), DEFAULT_FILTER);
    let b = up(&sim, registry(None, None), DEFAULT_FILTER);
    let to_b = sim.mac(b);
    // Deterministic mode: the transmit DPC runs only when the scheduler steps, so sends stay
    // queued in the driver until then.
    assert_eq!(sim.send_with_cancel_id(a, 1, &frames(to_b, 100, 10), 1, PASSIVE, 0x1234).unwrap(), 10);
    assert_eq!(sim.send_with_cancel_id(a, 2, &frames(to_b, 100, 5), 1, DISPATCH, 0x5678).unwrap(), 5);
    assert_eq!(sim.send(a, 3, &frames(to_b, 100, 4), 2, PASSIVE).unwrap(), 2);
    assert_eq!(sim.send_with_cancel_id(a, 1, &frames(to_b, 100, 6), 2, PASSIVE, 0x1234).unwrap(), 3);
    assert_eq!(sends_outstanding(&sim, a), 20);
    let (ok, paused, other) = completions(&sim);
    assert_eq!((ok, paused, other), (0, 0, 0));

    // An ID nobody used cancels nothing.
    sim.cancel_send(a, 0x9999, PASSIVE).unwrap();
    assert_eq!(completions(&sim), (0, 0, 0));
    // MiniportCancelSend completes the 13 NBLs carrying 0x1234 at once, with a failure status
    // (NDIS_STATUS_SEND_ABORTED: src/datapath/send.rs `cancel_send`), counted as discards.
    sim.cancel_send(a, 0x1234, DISPATCH).unwrap();
    assert_eq!(completions(&sim), (0, 0, 13));
    assert_eq!(sends_outstanding(&sim, a), 7);
    assert_eq!(counter(&sim, a, sys::OID_GEN_XMIT_DISCARDS), 13);
    // Cancelling again finds nothing: each NBL is completed once (Send.CompleteOnce).
    sim.cancel_send(a, 0x1234, PASSIVE).unwrap();
    assert_eq!(completions(&sim), (0, 0, 13));

    // The others are transmitted normally.
    settle(&sim);
    assert_eq!(completions(&sim), (7, 0, 13));
    assert_eq!(received(&sim, b), 5 + 4);
    assert_eq!(counter(&sim, a, sys::OID_GEN_XMIT_OK), 9);
    // Once transmitted, an NBL can no longer be cancelled.
    sim.cancel_send(a, 0x5678, PASSIVE).unwrap();
    assert_eq!(completions(&sim), (7, 0, 13));
    assert_eq!(counter(&sim, a, sys::OID_GEN_XMIT_DISCARDS), 13);
    finish(&sim);
}

/// Waits (threaded mode) until adapter `a` has no send outstanding.
fn drained(sim: &Sim, a: usize) {
    assert!(sim.wait_until(&|| sends_outstanding(sim, a) == 0), "sends of adapter {a} never completed");
}

#[test]
fn a_low_receive_pool_indicates_with_resources_and_recovers_after_returns() {
    // Threaded: in deterministic mode the scheduler returns held receives whenever it steps.
    let sim = rig::threaded();
    let a = up(&sim, registry(None, None), DEFAULT_FILTER);
    // The smallest pool: 64 receive slots. Low means fewer than 64 / 8 = 8 slots left free.
    let b = up(&sim, registry(None, Some(64)), DEFAULT_FILTER);
    sim.set_return_policy(b, ReturnPolicy::Hold(Duration::from_hours(1)));
    let to_b = sim.mac(b);

    // 56 frames leave 8 free: indicated normally, and held.
    sim.send(a, 1, &frames(to_b, 200, 56), 1, PASSIVE).unwrap();
    drained(&sim, a);
    assert_eq!((received(&sim, b), received_resources(&sim, b), rx_outstanding(&sim, b)), (56, 0, 56));
    // From here every indication would leave fewer than 8 free: each is made with
    // NDIS_RECEIVE_FLAGS_RESOURCES and its slots are reclaimed at once, so nothing is dropped
    // even when more frames arrive at once than there are free slots.
    sim.send(a, 1, &frames(to_b, 200, 1), 1, PASSIVE).unwrap();
    drained(&sim, a);
    assert_eq!((received(&sim, b), received_resources(&sim, b), rx_outstanding(&sim, b)), (57, 1, 56));
    sim.send(a, 1, &frames(to_b, 200, 40), 1, DISPATCH).unwrap();
    drained(&sim, a);
    assert_eq!((received(&sim, b), received_resources(&sim, b), rx_outstanding(&sim, b)), (97, 41, 56));
    assert_eq!(counter(&sim, b, sys::OID_GEN_RCV_NO_BUFFER), 0);
    assert_eq!(counter(&sim, b, sys::OID_GEN_RCV_OK), 97);
    assert_eq!(frames_checked(&sim), 97);

    // Returning the held NBLs restores the pool: 56 are again indicated normally.
    settle(&sim);
    assert_eq!(rx_outstanding(&sim, b), 0);
    sim.send(a, 1, &frames(to_b, 200, 56), 1, PASSIVE).unwrap();
    drained(&sim, a);
    assert_eq!((received(&sim, b), received_resources(&sim, b), rx_outstanding(&sim, b)), (153, 41, 56));
    assert_eq!(completions(&sim), (56 + 1 + 40 + 56, 0, 0));
    finish(&sim);
}

#[test]
fn concurrent_deliveries_into_an_exhausted_pool_drop_and_count() {
    // Several senders deliver to one receiver whose protocol holds all it can: the low-resource
    // slots are in use by one delivery while another finds none free. Every frame sent to the
    // receiver is either indicated or counted in OID_GEN_RCV_NO_BUFFER, never lost silently.
    let sim = rig::start(ndis_host::host::HostConfig {
        mode: ndis_host::host::Mode::Threaded,
        dpc_threads: 4,
        ..ndis_host::host::HostConfig::default()
    });
    let b = up(&sim, registry(None, Some(64)), DEFAULT_FILTER);
    let senders: Vec<usize> = (0..3).map(|_| up(&sim, registry(None, None), DEFAULT_FILTER)).collect();
    sim.set_return_policy(b, ReturnPolicy::Hold(Duration::from_hours(1)));
    let to_b = sim.mac(b);
    sim.send(senders[0], 0, &frames(to_b, 100, 56), 1, PASSIVE).unwrap();
    drained(&sim, senders[0]);
    assert_eq!(rx_outstanding(&sim, b), 56);

    let mut sent = 56u64;
    for round in 0..200 {
        std::thread::scope(|s| {
            for (k, &from) in senders.iter().enumerate() {
                let sim = &sim;
                s.spawn(move || {
                    let stream = u32::try_from(10 + k).unwrap();
                    for _ in 0..4 {
                        sim.send(from, stream, &frames(to_b, 100, 64), 1, DISPATCH).unwrap();
                    }
                });
            }
        });
        sent += 3 * 4 * 64;
        for &from in &senders {
            drained(&sim, from);
        }
        if counter(&sim, b, sys::OID_GEN_RCV_NO_BUFFER) > 0 && round >= 4 {
            break;
        }
    }
    let dropped = counter(&sim, b, sys::OID_GEN_RCV_NO_BUFFER);
    eprintln!("{sent} frames sent to a held pool; {dropped} dropped for want of a buffer");
    // A delivery finds the pool empty only while another one holds the last low-resource slots,
    // i.e. when two DPC threads deliver at the same time, which needs a second CPU.
    if rig::parallel() {
        assert!(dropped > 0, "200 rounds of concurrent deliveries never found the pool empty");
    } else {
        eprintln!("only one CPU available: not requiring that a concurrent delivery found the pool empty");
    }
    assert_eq!(received(&sim, b) + dropped, sent, "every frame is indicated or counted as dropped");
    assert_eq!(counter(&sim, b, sys::OID_GEN_RCV_DISCARDS), dropped);
    assert_eq!(statistics(&sim, b).ifInDiscards, dropped);
    assert_eq!(rx_outstanding(&sim, b), 56, "the protocol still holds only the first 56");
    settle(&sim);
    finish(&sim);
}

#[test]
fn a_pause_with_held_receives_completes_only_after_the_last_return() {
    let sim = rig::deterministic(14);
    let a = up(&sim, registry(None, None), DEFAULT_FILTER);
    let b = up(&sim, registry(None, None), DEFAULT_FILTER);
    sim.set_return_policy(b, ReturnPolicy::Queue);
    sim.send(a, 1, &frames(sim.mac(b), 300, 10), 1, PASSIVE).unwrap();
    // One step: the only runnable thing is A's transmit DPC, which delivers all ten.
    assert!(sim.step());
    assert_eq!(sends_outstanding(&sim, a), 0);
    assert_eq!(rx_outstanding(&sim, b), 10);

    assert_eq!(sim.start_pause(b).unwrap(), Started::Pending);
    assert_eq!(sim.adapter(b).pnp(), Pnp::Pausing);
    // While B pauses, frames to it are not delivered; its sends are completed with PAUSED.
    sim.send(a, 1, &frames(sim.mac(b), 300, 2), 1, PASSIVE).unwrap();
    sim.send(b, 2, &frames(sim.mac(a), 300, 1), 1, PASSIVE).unwrap();
    assert_eq!(completions(&sim), (10, 1, 0));

    // Return all held NBLs but one, by hand, and run everything else that is runnable.
    let proto = &sim.host().ndis.protocol;
    let mut held = Vec::new();
    while let Some((adapter, nbls)) = proto.take_held(0) {
        assert_eq!(adapter, b);
        held.extend(nbls);
    }
    assert_eq!(held.len(), 10);
    let last = held.pop().unwrap();
    let host = sim.host();
    proto.return_to_miniport(host, &sim.adapter(b), &held[..4], PASSIVE).unwrap();
    proto.return_to_miniport(host, &sim.adapter(b), &held[4..], DISPATCH).unwrap();
    while sim.step() {}
    assert_eq!(sim.adapter(b).pnp(), Pnp::Pausing, "one receive NBL is still held");
    assert_eq!(rx_outstanding(&sim, b), 1);
    assert_eq!(received(&sim, b), 10);

    // The last return completes the pause (NdisMPauseComplete from the driver's work item).
    proto.return_to_miniport(host, &sim.adapter(b), &[last], PASSIVE).unwrap();
    sim.wait_pending(b).unwrap();
    assert_eq!(sim.adapter(b).pnp(), Pnp::Paused);
    assert_eq!(sim.adapter(b).lock().pauses_pended, 1);
    // Restarted, B receives again.
    run(&sim, b, DEFAULT_FILTER);
    sim.set_return_policy(b, ReturnPolicy::Inline);
    assert_eq!(deliver(&sim, a, sim.mac(b), 300, 3), [0, 3]);
    finish(&sim);
}
