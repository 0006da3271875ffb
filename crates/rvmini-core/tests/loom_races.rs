//! Model checks (loom) of the concurrent parts of the lifecycle and the transmit queue.
//!
//! Run with `cargo test -p rvmini-core --features loom --release --test loom_races`.
//! Every interleaving of the threads below (up to the preemption bound) is executed.
#![cfg(feature = "loom")]

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Mutex};
use loom::thread;
use rvmini_core::lifecycle::{Lifecycle, PauseOutcome, Refusal, State, Wake};
use rvmini_core::queue::{Chain, Fifo, QueueLink};
use rvmini_core::serial::Serial;
use std::cell::Cell;
use std::ptr::NonNull;

fn model(f: impl Fn() + Send + Sync + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.check(f);
}

fn running() -> Lifecycle {
    let l = Lifecycle::new();
    l.initialized().unwrap();
    l.begin_restart().unwrap();
    l.finish_restart(true).unwrap();
    l
}

/// Counts the pause completions a set of wakes released.
fn pauses(wakes: &[Wake]) -> usize {
    wakes.iter().filter(|w| w.pause_complete).count()
}

/// The pause handler races the DPC that completes the last send and the protocol returning the
/// last receive NBL. Whatever the interleaving, the pause completes exactly once: either the
/// handler sees nothing outstanding and returns SUCCESS (and no completion path fires), or it
/// returns PENDING and exactly one of the two completions releases it, after which the adapter
/// is Paused with nothing outstanding.
#[test]
fn pause_races_last_send_completion_and_last_receive_return() {
    model(|| {
        let l = Arc::new(running());
        l.try_begin_tx(1).unwrap();
        l.try_begin_rx(1).unwrap();

        // Whoever releases the pause must see nothing outstanding at that instant (and, the
        // adapter being Paused from then on, forever after).
        let check = |l: &Lifecycle, w: Wake| {
            if w.pause_complete {
                let s = l.snapshot();
                assert_eq!((s.state, s.tx, s.rx), (State::Paused, 0, 0), "pause released early");
            }
            w
        };
        let send = {
            let l = l.clone();
            thread::spawn(move || check(&l, l.end_tx(1).unwrap()))
        };
        let ret = {
            let l = l.clone();
            thread::spawn(move || check(&l, l.end_rx(1).unwrap()))
        };
        l.begin_pause().unwrap();
        let outcome = l.settle_pause().unwrap();
        let wakes = [send.join().unwrap(), ret.join().unwrap()];

        match outcome {
            PauseOutcome::Complete => assert_eq!(pauses(&wakes), 0),
            PauseOutcome::Pending => assert_eq!(pauses(&wakes), 1),
        }
        let s = l.snapshot();
        assert_eq!((s.state, s.tx, s.rx, s.pause_waiting), (State::Paused, 0, 0, false));
    });
}

/// A restart (Paused → Restarting → Running) races a sender, and then a pause begins. A send is
/// accepted only once the adapter is Running, every accepted send is counted until completed,
/// and the later pause still completes exactly once.
#[test]
fn restart_races_new_sends_then_pause_drains_them() {
    model(|| {
        let l = Arc::new(Lifecycle::new());
        l.initialized().unwrap();

        let sender = {
            let l = l.clone();
            thread::spawn(move || {
                let mut wakes = Vec::new();
                for _ in 0..2 {
                    match l.try_begin_tx(1) {
                        Ok(()) => wakes.push(l.end_tx(1).unwrap()),
                        Err(Refusal::NotRunning(state)) => {
                            assert!(matches!(state, State::Paused | State::Restarting | State::Pausing));
                        }
                        Err(other) => panic!("unexpected refusal {other:?}"),
                    }
                }
                wakes
            })
        };
        l.begin_restart().unwrap();
        l.finish_restart(true).unwrap();
        l.begin_pause().unwrap();
        let outcome = l.settle_pause().unwrap();
        let wakes = sender.join().unwrap();
        let released = pauses(&wakes);
        assert_eq!(released, usize::from(outcome == PauseOutcome::Pending));
        assert_eq!(l.state(), State::Paused);
    });
}

struct Nbl {
    cancel_id: u32,
    link: Cell<Option<NonNull<Nbl>>>,
}

// SAFETY: the link is used only by the queue, under the queue's mutex.
unsafe impl QueueLink for Nbl {
    unsafe fn next(node: NonNull<Self>) -> Option<NonNull<Self>> {
        // SAFETY: the caller guarantees `node` is live.
        unsafe { node.as_ref() }.link.get()
    }
    unsafe fn set_next(node: NonNull<Self>, next: Option<NonNull<Self>>) {
        // SAFETY: the caller guarantees `node` is live.
        unsafe { node.as_ref() }.link.set(next);
    }
}

/// The shared adapter of the queue model: the queue under its lock, the lifecycle word, and a
/// completion counter per NBL.
struct Adapter {
    queue: Mutex<Fifo<Nbl>>,
    life: Lifecycle,
    completed: Vec<AtomicUsize>,
    nbls: Vec<Nbl>,
}

// SAFETY: the NBLs' links are touched only under `queue`'s mutex; everything else is atomic.
unsafe impl Sync for Adapter {}
// SAFETY: as above.
unsafe impl Send for Adapter {}

impl Adapter {
    fn index(&self, nbl: NonNull<Nbl>) -> usize {
        self.nbls.iter().position(|n| std::ptr::eq(n, nbl.as_ptr())).unwrap()
    }

    /// Completes every NBL of a chain (`NdisMSendNetBufferListsComplete`), then ends the sends.
    fn complete(&self, mut chain: Chain<Nbl>) -> Wake {
        let n = u32::try_from(chain.len()).unwrap();
        while let Some(nbl) = chain.pop_front() {
            self.completed[self.index(nbl)].fetch_add(1, Ordering::SeqCst);
        }
        if n == 0 { Wake::default() } else { self.life.end_tx(n).unwrap() }
    }
}

/// The transmit DPC, MiniportCancelSend and the pause flush race over one queue of three NBLs
/// (two carry the cancel ID being cancelled). Every NBL is completed exactly once, and the pause
/// completes exactly once.
#[test]
fn cancel_races_transmit_and_pause_flush() {
    model(|| {
        let nbls = (0..3).map(|i| Nbl { cancel_id: if i == 1 { 7 } else { 9 }, link: Cell::new(None) }).collect();
        let adapter = Arc::new(Adapter {
            queue: Mutex::new(Fifo::new()),
            life: running(),
            completed: (0..3).map(|_| AtomicUsize::new(0)).collect(),
            nbls,
        });
        // MiniportSendNetBufferLists: register, then queue.
        adapter.life.try_begin_tx(3).unwrap();
        {
            let mut chain = Chain::new();
            for nbl in &adapter.nbls {
                // SAFETY: each NBL is live for the whole model and queued once.
                unsafe { chain.push_back(NonNull::from(nbl)) };
            }
            adapter.queue.lock().unwrap().push_chain(chain);
        }

        let dpc = {
            let a = adapter.clone();
            thread::spawn(move || {
                let batch = a.queue.lock().unwrap().take(2);
                a.complete(batch)
            })
        };
        let cancel = {
            let a = adapter.clone();
            thread::spawn(move || {
                // SAFETY: queued NBLs are live.
                let hit = a.queue.lock().unwrap().extract(|n| unsafe { n.as_ref() }.cancel_id == 7);
                a.complete(hit)
            })
        };
        // MiniportPause: close the gate, flush what is still queued, settle.
        adapter.life.begin_pause().unwrap();
        let flushed = adapter.queue.lock().unwrap().take_all();
        let flush_wake = adapter.complete(flushed);
        assert!(!flush_wake.pause_complete, "the pause cannot complete before it is settled");
        let outcome = adapter.life.settle_pause().unwrap();
        let wakes = [dpc.join().unwrap(), cancel.join().unwrap()];

        for c in &adapter.completed {
            assert_eq!(c.load(Ordering::SeqCst), 1, "every NBL completed exactly once");
        }
        assert_eq!(pauses(&wakes), usize::from(outcome == PauseOutcome::Pending));
        assert_eq!(adapter.life.state(), State::Paused);
    });
}

/// Two instances of the transmit DPC race each other and a sender. Whatever the interleaving,
/// every queued item is processed exactly once, by one worker at a time, and nothing is left in
/// the queue when all runs have ended (no lost wake-up).
#[test]
fn serialized_dpc_runs_lose_no_work() {
    model(|| {
        let queue = Arc::new(Mutex::new(Vec::<u32>::new()));
        let serial = Arc::new(Serial::new());
        let processed = Arc::new(Mutex::new(Vec::<u32>::new()));
        let workers = Arc::new(AtomicUsize::new(0));

        let dpc = {
            let (queue, serial, processed, workers) =
                (queue.clone(), serial.clone(), processed.clone(), workers.clone());
            move || {
                if serial.enter() {
                    loop {
                        assert_eq!(workers.fetch_add(1, Ordering::SeqCst), 0, "one worker at a time");
                        serial.begin_pass();
                        loop {
                            let item = queue.lock().unwrap().pop();
                            match item {
                                Some(i) => processed.lock().unwrap().push(i),
                                None => break,
                            }
                        }
                        workers.fetch_sub(1, Ordering::SeqCst);
                        if !serial.leave() {
                            break;
                        }
                    }
                }
            }
        };
        // The sender queues an item, then queues the DPC (which runs as a second instance).
        let sender = {
            let (queue, dpc) = (queue.clone(), dpc.clone());
            thread::spawn(move || {
                queue.lock().unwrap().push(2);
                dpc();
            })
        };
        queue.lock().unwrap().push(1);
        dpc();
        sender.join().unwrap();

        assert!(queue.lock().unwrap().is_empty(), "no item left behind");
        let mut done = processed.lock().unwrap().clone();
        done.sort_unstable();
        assert_eq!(done, vec![1, 2]);
    });
}
