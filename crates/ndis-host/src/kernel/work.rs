//! NDIS I/O work items: `NdisAllocateIoWorkItem`, `NdisQueueIoWorkItem`,
//! `NdisFreeIoWorkItem`.
//!
//! A work item is an opaque handle; its routine and context live in the host, shared through
//! an `Arc` so the item may be freed by its own routine, or by another thread while its
//! routine is still returning. The routine runs at PASSIVE_LEVEL as handler
//! `NDIS_IO_WORKITEM_ROUTINE(WorkItemContext, NdisIoWorkItemHandle)` on a work thread
//! (threaded mode) or when the scheduler picks it (deterministic mode), attributed to the
//! adapter whose handle allocated it. The item counts as queued until its routine starts.
//!
//! `WorkItem.Misuse` findings: queueing an item that is already queued (Windows corrupts the
//! work queue; the host ignores the second queueing), freeing a queued item (the host
//! dequeues it, the routine never runs), and using a freed item.

use super::resources::{Kind, Record};
use crate::abi::ImportCall;
use crate::host::{Abandoned, HostInner, thread};
use crate::verifier::Rule;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

#[derive(Debug)]
struct WorkItem {
    adapter: Option<usize>,
    st: Mutex<WorkState>,
}

#[derive(Debug, Default)]
struct WorkState {
    routine: u64,
    context: u64,
    queued: bool,
    freed: bool,
}

impl WorkItem {
    fn lock(&self) -> MutexGuard<'_, WorkState> {
        self.st.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The work-item table (freed items stay, marked, so their handles remain recognisable).
#[derive(Debug, Default)]
pub(crate) struct WorkItems {
    table: Mutex<HashMap<u64, Arc<WorkItem>>>,
}

impl WorkItems {
    fn get(&self, key: u64) -> Option<Arc<WorkItem>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner).get(&key).cloned()
    }

    /// Runs the work item `key` (taken off the queue by the caller).
    pub(crate) fn run(&self, host: &Arc<HostInner>, key: u64) -> Result<(), Abandoned> {
        let Some(item) = self.get(key) else {
            host.finding(Rule::WorkItemMisuse, None, format!("queued work item {key:#x} is unknown; skipped"));
            return Ok(());
        };
        let (routine, context) = {
            let mut st = item.lock();
            if st.freed {
                // Reported when it was freed while queued.
                return Ok(());
            }
            st.queued = false;
            (st.routine, st.context)
        };
        host.call("NDIS_IO_WORKITEM_ROUTINE", item.adapter, thread::PASSIVE, routine, &[context, key]).map(|_| ())
    }
}

fn live(host: &HostInner, call: &ImportCall, key: u64, api: &str) -> Option<Arc<WorkItem>> {
    // The call site is described only for a finding (it is a symbol lookup).
    let site = || host.describe(call.return_address());
    match host.kernel.work.get(key) {
        Some(item) if item.lock().freed => {
            host.finding(
                Rule::WorkItemMisuse,
                item.adapter,
                format!("{api}({key:#x}) from {}: the work item was freed", site()),
            );
            None
        }
        Some(item) => Some(item),
        None => {
            host.finding(
                Rule::InvalidHandle,
                thread::adapter(),
                format!("{api}({key:#x}) from {}: not a work item NdisAllocateIoWorkItem returned", site()),
            );
            None
        }
    }
}

/// `NdisAllocateIoWorkItem(NdisObjectHandle)`.
pub(crate) fn ndis_allocate_io_work_item(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let handle = call.arg(0);
    if host.faults.should_fail(host, call, "NdisAllocateIoWorkItem") {
        return 0;
    }
    let key = host.handles.next();
    let item = WorkItem { adapter: super::adapter_of(host, handle), st: Mutex::new(WorkState::default()) };
    host.kernel.work.table.lock().unwrap_or_else(PoisonError::into_inner).insert(key, Arc::new(item));
    host.resources.register(Record {
        kind: Kind::WorkItem,
        key,
        owner: super::owner_for(host, Some(handle)),
        site: host.describe(call.return_address()),
        detail: String::new(),
    });
    host.kernel.count_allocation();
    key
}

/// `NdisQueueIoWorkItem(NdisIoWorkItemHandle, Routine, WorkItemContext)`.
pub(crate) fn ndis_queue_io_work_item(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (key, routine, context) = (call.arg(0), call.arg(1), call.arg(2));
    let Some(item) = live(host, call, key, "NdisQueueIoWorkItem") else { return 0 };
    if routine == 0 {
        host.finding(Rule::WorkItemMisuse, item.adapter, format!("NdisQueueIoWorkItem({key:#x}) with a NULL Routine"));
        return 0;
    }
    let already = {
        let mut st = item.lock();
        if st.queued {
            true
        } else {
            st.queued = true;
            st.routine = routine;
            st.context = context;
            host.pending.push_work(key);
            false
        }
    };
    if already {
        host.finding(
            Rule::WorkItemMisuse,
            item.adapter,
            format!(
                "NdisQueueIoWorkItem({key:#x}) from {}: the work item is already queued",
                host.describe(call.return_address())
            ),
        );
    }
    0
}

/// `NdisFreeIoWorkItem(NdisIoWorkItemHandle)`.
pub(crate) fn ndis_free_io_work_item(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let key = call.arg(0);
    let Some(item) = live(host, call, key, "NdisFreeIoWorkItem") else { return 0 };
    let queued = {
        let mut st = item.lock();
        st.freed = true;
        if st.queued {
            host.pending.remove_work(key);
        }
        st.queued
    };
    host.resources.unregister(Kind::WorkItem, key);
    if queued {
        host.finding(
            Rule::WorkItemMisuse,
            item.adapter,
            format!(
                "NdisFreeIoWorkItem({key:#x}) from {}: the work item is still queued (its routine will not run)",
                host.describe(call.return_address())
            ),
        );
    }
    0
}
