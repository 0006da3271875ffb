//! Kernel DPCs: `KeInitializeDpc`, `KeInsertQueueDpc`, `KeRemoveQueueDpc`,
//! `KeFlushQueuedDpcs`.
//!
//! The `KDPC` lives in driver memory and is initialised the way Windows does (type
//! `DpcObject`, medium importance, routine and context); the host keeps the authoritative
//! state (routine, context, system arguments, queued) in a table keyed by the KDPC's address
//! and queues the address in [`crate::kernel::pending::Pending`]. A DPC routine runs at
//! DISPATCH_LEVEL as handler `KDEFERRED_ROUTINE`, attributed to the adapter whose handler
//! initialised the DPC. A queued DPC runs once however often it was inserted (insert returns
//! FALSE while it is queued); it is marked not queued just before its routine runs, so the
//! routine may queue it again.
//!
//! `KeFlushQueuedDpcs` in threaded mode waits until no DPC or timer callback is queued or
//! running (at most [`FLUSH_TIMEOUT`], then an `Ndis.Watchdog` finding); in deterministic mode
//! it runs every queued DPC and due timer itself, nested, on the calling thread (there is no
//! other thread to wait for). Freeing pool memory that contains a queued DPC is a
//! `Timer.Misuse` finding and dequeues it.

use super::dmem;
use crate::abi::ImportCall;
use crate::host::{Abandoned, HostInner, Mode, thread};
use crate::kernel::pending::{Class, Item};
use crate::verifier::Rule;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

/// How long threaded `KeFlushQueuedDpcs` waits before the watchdog reports it.
pub const FLUSH_TIMEOUT: Duration = Duration::from_secs(30);
/// `DpcObject` (`KOBJECTS`).
const DPC_OBJECT: u32 = 0x13;
/// `MediumImportance`.
const MEDIUM_IMPORTANCE: u32 = 1;
/// At most this many DPCs run in one deterministic flush (a DPC that always re-queues itself
/// would otherwise never let the flush end).
const FLUSH_LIMIT: usize = 100_000;

#[derive(Debug)]
struct Dpc {
    routine: u64,
    context: u64,
    sa1: u64,
    sa2: u64,
    queued: bool,
    adapter: Option<usize>,
}

/// The DPC table.
#[derive(Debug, Default)]
pub(crate) struct Dpcs {
    table: Mutex<HashMap<u64, Dpc>>,
}

impl Dpcs {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Dpc>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Forgets DPCs inside freed memory; reports (and dequeues) queued ones.
    pub(crate) fn forget_range(&self, host: &HostInner, base: u64, len: u64) {
        let mut queued = Vec::new();
        {
            let mut t = self.lock();
            let keys: Vec<u64> = t.keys().copied().filter(|&k| k >= base && k - base < len.max(1)).collect();
            for k in keys {
                if let Some(d) = t.remove(&k)
                    && d.queued
                {
                    host.pending.remove_dpc(k);
                    queued.push((k, d.adapter));
                }
            }
        }
        for (k, adapter) in queued {
            host.finding(Rule::TimerMisuse, adapter, format!("memory holding the queued DPC {k:#x} was freed"));
        }
    }

    /// Runs the DPC `key` (taken off the queue by the caller).
    pub(crate) fn run(&self, host: &Arc<HostInner>, key: u64) -> Result<(), Abandoned> {
        let info = {
            let mut t = self.lock();
            t.get_mut(&key).map(|d| {
                d.queued = false;
                (d.routine, d.context, d.sa1, d.sa2, d.adapter)
            })
        };
        let Some((routine, context, sa1, sa2, adapter)) = info else {
            host.finding(Rule::TimerMisuse, None, format!("queued DPC {key:#x} disappeared before it ran; skipped"));
            return Ok(());
        };
        host.call("KDEFERRED_ROUTINE", adapter, thread::DISPATCH, routine, &[key, context, sa1, sa2]).map(|_| ())
    }
}

/// `KeInitializeDpc(Dpc, DeferredRoutine, DeferredContext)`.
pub(crate) fn ke_initialize_dpc(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (key, routine, context) = (call.arg(0), call.arg(1), call.arg(2));
    let adapter = thread::adapter();
    let mut kdpc = [0u8; 64];
    kdpc[0..4].copy_from_slice(&(DPC_OBJECT | (MEDIUM_IMPORTANCE << 8)).to_le_bytes());
    kdpc[24..32].copy_from_slice(&routine.to_le_bytes());
    kdpc[32..40].copy_from_slice(&context.to_le_bytes());
    dmem::write_or_crash(key, &kdpc);
    if routine == 0 {
        host.finding(Rule::TimerMisuse, adapter, format!("KeInitializeDpc({key:#x}) with a NULL DeferredRoutine"));
    }
    let was_queued = {
        let mut t = host.kernel.dpcs.lock();
        let was = t.get(&key).is_some_and(|d| d.queued);
        if was {
            host.pending.remove_dpc(key);
        }
        t.insert(key, Dpc { routine, context, sa1: 0, sa2: 0, queued: false, adapter });
        was
    };
    if was_queued {
        host.finding(Rule::TimerMisuse, adapter, format!("KeInitializeDpc({key:#x}) re-initialises a queued DPC"));
    }
    0
}

/// `KeInsertQueueDpc(Dpc, SystemArgument1, SystemArgument2)`: TRUE if it was queued now.
pub(crate) fn ke_insert_queue_dpc(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let key = call.arg(0);
    let outcome = {
        let mut t = host.kernel.dpcs.lock();
        match t.get_mut(&key) {
            None => None,
            Some(d) if d.queued => Some(false),
            Some(d) => {
                d.queued = true;
                d.sa1 = call.arg(1);
                d.sa2 = call.arg(2);
                host.pending.push_dpc(key);
                Some(true)
            }
        }
    };
    if let Some(q) = outcome {
        return u64::from(q);
    }
    host.finding(
        Rule::TimerMisuse,
        thread::adapter(),
        format!(
            "KeInsertQueueDpc({key:#x}) from {}: the DPC was not initialised with KeInitializeDpc",
            host.describe(call.return_address())
        ),
    );
    0
}

/// `KeRemoveQueueDpc(Dpc)`: TRUE if it was queued (and is no longer).
pub(crate) fn ke_remove_queue_dpc(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let key = call.arg(0);
    let mut t = host.kernel.dpcs.lock();
    match t.get_mut(&key) {
        Some(d) if d.queued && host.pending.remove_dpc(key) => {
            d.queued = false;
            1
        }
        _ => 0,
    }
}

/// `KeFlushQueuedDpcs()`.
pub(crate) fn ke_flush_queued_dpcs(host: &Arc<HostInner>, _call: &ImportCall) -> u64 {
    flush(host, "KeFlushQueuedDpcs");
    0
}

/// Waits for (threaded) or runs (deterministic) every queued DPC and due timer callback.
pub(crate) fn flush(host: &Arc<HostInner>, who: &str) {
    match host.config.mode {
        Mode::Deterministic { .. } => {
            for _ in 0..FLUSH_LIMIT {
                let (ready, _) = host.pending.ready(host.clock.now());
                let Some(item) = ready.into_iter().find(|i| matches!(i.class, Class::Dpc | Class::Timer)) else {
                    return;
                };
                if host.pending.take(item) {
                    // A crash inside abandons this whole driver call; nothing to handle here.
                    let _ = host.kernel.run(host, Item { class: item.class, key: item.key });
                }
            }
            host.finding(
                Rule::Watchdog,
                thread::adapter(),
                format!("{who}: DPCs kept re-queueing themselves; gave up after {FLUSH_LIMIT} runs"),
            );
        }
        Mode::Threaded => {
            if thread::irql() >= thread::DISPATCH {
                // Waiting here could wait for this very thread; the IRQL rule already reported it.
                return;
            }
            if !host.pending.wait_dpcs_idle(FLUSH_TIMEOUT) && !host.crashed() {
                host.finding(
                    Rule::Watchdog,
                    thread::adapter(),
                    format!("{who} waited {} s for queued and running DPCs to finish", FLUSH_TIMEOUT.as_secs()),
                );
            }
        }
    }
}
