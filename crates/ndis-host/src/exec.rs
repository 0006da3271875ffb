//! Who runs the kernel's pending work and the protocol's held receives.
//!
//! **Threaded mode** ([`Workers`]): `dpc_threads` threads run DPCs and due timers at
//! DISPATCH_LEVEL, `work_threads` threads run I/O work items at PASSIVE_LEVEL, and one thread
//! returns held receive NBLs when they come due. Real threads, real contention.
//!
//! **Deterministic mode** ([`step`]): one OS thread. Each step the seeded scheduler picks one
//! runnable thing — a queued DPC, a due timer, a queued work item, or a held receive to return —
//! and runs it; when nothing is runnable it advances the virtual clock to the next timer. The
//! scenario interleaves its own actions (sends, pauses, OIDs) with these steps using the same
//! seeded generator, so a run is fully determined by its seed.

use crate::host::HostInner;
use crate::host::thread::{self, DISPATCH, PASSIVE};
use crate::kernel::pending::Class;
use crate::rng::Rng;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The worker threads of threaded mode.
#[derive(Debug)]
pub struct Workers {
    stop: Arc<AtomicBool>,
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts the workers for `host`.
    #[must_use]
    pub fn start(host: &Arc<HostInner>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let mut handles = Vec::new();
        let spawn = |name: String, classes: &'static [Class], stop: Arc<AtomicBool>, host: Arc<HostInner>| {
            std::thread::Builder::new()
                .name(name)
                .spawn(move || {
                    thread::set_host(Some(Arc::clone(&host)));
                    let now = || host.clock.now();
                    while !stop.load(Ordering::Acquire) && !host.crashed() {
                        if let Some(item) = host.pending.wait(classes, &now, Duration::from_millis(20)) {
                            let _ = host.kernel.run(&host, item);
                        }
                    }
                    thread::set_host(None);
                })
                .expect("spawn a host worker thread")
        };
        for i in 0..host.config.dpc_threads.max(1) {
            handles.push(spawn(format!("dpc-{i}"), &[Class::Dpc, Class::Timer], Arc::clone(&stop), Arc::clone(host)));
        }
        for i in 0..host.config.work_threads.max(1) {
            handles.push(spawn(format!("work-{i}"), &[Class::Work], Arc::clone(&stop), Arc::clone(host)));
        }
        let returner_stop = Arc::clone(&stop);
        let returner_host = Arc::clone(host);
        handles.push(
            std::thread::Builder::new()
                .name("returner".into())
                .spawn(move || {
                    let host = returner_host;
                    thread::set_host(Some(Arc::clone(&host)));
                    let mut flip = false;
                    while !returner_stop.load(Ordering::Acquire) && !host.crashed() {
                        host.ndis.protocol.wait_held(Duration::from_millis(20));
                        for (index, nbls) in host.ndis.protocol.take_due(Instant::now(), false) {
                            if let Some(a) = host.ndis.adapter(index) {
                                flip = !flip;
                                let irql = if flip { DISPATCH } else { PASSIVE };
                                if host.ndis.protocol.return_to_miniport(&host, &a, &nbls, irql).is_err() {
                                    break;
                                }
                            }
                        }
                    }
                    thread::set_host(None);
                })
                .expect("spawn the returner thread"),
        );
        Self { stop, handles }
    }

    /// Stops and joins the workers.
    pub fn stop(&mut self, host: &HostInner) {
        self.stop.store(true, Ordering::Release);
        host.pending.notify();
        host.ndis.protocol.notify();
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

/// Deterministic mode: runs one runnable thing picked by `rng`. Returns false if nothing at all
/// is runnable or pending (the system is idle).
pub fn step(host: &Arc<HostInner>, rng: &Mutex<Rng>) -> bool {
    if host.crashed() {
        return false;
    }
    let now = host.clock.now();
    let (items, later) = host.pending.ready(now);
    let (held, _) = host.ndis.protocol.held(Instant::now());
    let total = items.len() + held;
    if total == 0 {
        return match later {
            Some((due, _)) => {
                host.clock.advance_to(due);
                true
            }
            None => false,
        };
    }
    let (pick, dispatch) = {
        let mut r = rng.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        (r.index(total), r.chance(50))
    };
    if let Some(item) = items.get(pick) {
        if host.pending.take(*item) {
            let _ = host.kernel.run(host, *item);
        }
    } else if let Some((index, nbls)) = host.ndis.protocol.take_held(pick - items.len())
        && let Some(a) = host.ndis.adapter(index)
    {
        let irql = if dispatch { DISPATCH } else { PASSIVE };
        let _ = host.ndis.protocol.return_to_miniport(host, &a, &nbls, irql);
    }
    // Virtual time moves a little with every step, so timers with short due times come due.
    host.clock.advance_by(10);
    true
}
