//! NDIS timer objects: `NdisAllocateTimerObject`, `NdisSetTimerObject`,
//! `NdisCancelTimerObject`, `NdisFreeTimerObject`.
//!
//! A timer object is an opaque handle ([`crate::host::handles`]); its function, default
//! context, current context and period live in the host. `NdisSetTimerObject` arms it in
//! [`crate::kernel::pending::Pending`] for the host-clock time of its `DueTime` (negative:
//! relative, in 100 ns; positive: absolute system time) and returns whether it was already
//! armed. When it expires its `NetTimerCallback` runs at DISPATCH_LEVEL as handler
//! `NDIS_TIMER_FUNCTION(SystemSpecific1 = NULL, FunctionContext, NULL, NULL)`. A periodic timer
//! is re-armed `MillisecondsPeriod` after its expiry *before* its callback runs, as the Windows
//! timer is re-inserted when it fires, so a cancel issued during the callback returns TRUE and
//! stops it.
//!
//! Cancelling a periodic timer must happen at PASSIVE_LEVEL (a `Irql.Call` finding otherwise)
//! and waits for running callbacks like `KeFlushQueuedDpcs`. Freeing a timer that is still
//! armed, or using a freed one, is a `Timer.Misuse` finding; an invalid characteristics
//! structure is one too, and the allocation fails with `NDIS_STATUS_BAD_CHARACTERISTICS`.

use super::dmem;
use super::resources::{Kind, Record};
use crate::abi::ImportCall;
use crate::host::{Abandoned, HostInner, thread};
use crate::verifier::Rule;
use ndis_sys::{
    NDIS_OBJECT_HEADER, NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS, NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1,
    NDIS_STATUS_BAD_CHARACTERISTICS, NDIS_STATUS_RESOURCES, NDIS_STATUS_SUCCESS, NDIS_TIMER_CHARACTERISTICS,
    NDIS_TIMER_CHARACTERISTICS_REVISION_1,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

#[derive(Debug)]
struct Timer {
    function: u64,
    default_context: u64,
    adapter: Option<usize>,
    st: Mutex<TimerState>,
}

#[derive(Debug, Default)]
struct TimerState {
    context: u64,
    period_ms: u32,
    cancelled: bool,
    freed: bool,
}

impl Timer {
    fn lock(&self) -> MutexGuard<'_, TimerState> {
        self.st.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The timer table: live and freed timers (handles are never reused, so a freed handle stays
/// recognisable).
#[derive(Debug, Default)]
pub(crate) struct Timers {
    table: Mutex<HashMap<u64, Arc<Timer>>>,
}

enum Lookup {
    Live(Arc<Timer>),
    Freed,
    Unknown,
}

impl Timers {
    fn lookup(&self, key: u64) -> Lookup {
        let t = self.table.lock().unwrap_or_else(PoisonError::into_inner);
        match t.get(&key) {
            Some(timer) if timer.lock().freed => Lookup::Freed,
            Some(timer) => Lookup::Live(Arc::clone(timer)),
            None => Lookup::Unknown,
        }
    }

    /// Runs the expired timer `key` (taken off the queue by the caller).
    pub(crate) fn run(&self, host: &Arc<HostInner>, key: u64) -> Result<(), Abandoned> {
        let timer = self.table.lock().unwrap_or_else(PoisonError::into_inner).get(&key).cloned();
        let Some(timer) = timer else {
            host.finding(Rule::TimerMisuse, None, format!("expired timer {key:#x} is unknown; skipped"));
            return Ok(());
        };
        let context = {
            let st = timer.lock();
            if st.freed {
                drop(st);
                host.finding(
                    Rule::TimerMisuse,
                    timer.adapter,
                    format!("timer {key:#x} was freed while its expiration was being dispatched; callback skipped"),
                );
                return Ok(());
            }
            if st.period_ms != 0 && !st.cancelled {
                let due = host.clock.now().saturating_add(u64::from(st.period_ms) * 10_000);
                host.pending.arm_timer(key, due);
            }
            st.context
        };
        host.call("NDIS_TIMER_FUNCTION", timer.adapter, thread::DISPATCH, timer.function, &[0, context, 0, 0])
            .map(|_| ())
    }
}

fn misuse(host: &HostInner, call: &ImportCall, key: u64, api: &str, lookup: &Lookup) {
    let site = host.describe(call.return_address());
    match lookup {
        Lookup::Freed => {
            host.finding(
                Rule::TimerMisuse,
                thread::adapter(),
                format!("{api}({key:#x}) from {site}: the timer was freed"),
            );
        }
        _ => host.finding(
            Rule::InvalidHandle,
            thread::adapter(),
            format!("{api}({key:#x}) from {site}: not a timer object NdisAllocateTimerObject returned"),
        ),
    }
}

/// `NdisAllocateTimerObject(NdisHandle, TimerCharacteristics, pTimerObject)`.
pub(crate) fn ndis_allocate_timer_object(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (handle, chars, out) = (call.arg(0), call.arg(1), call.arg(2));
    let adapter = super::adapter_of(host, handle);
    let header: NDIS_OBJECT_HEADER = dmem::read_or_crash(chars);
    let tc: Option<NDIS_TIMER_CHARACTERISTICS> = (header.Type == NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS
        && header.Revision >= NDIS_TIMER_CHARACTERISTICS_REVISION_1
        && usize::from(header.Size) >= NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1)
        .then(|| dmem::read_or_crash(chars));
    let Some(tc) = tc.filter(|tc| tc.TimerFunction.is_some()) else {
        host.finding(
            Rule::TimerMisuse,
            adapter,
            format!(
                "NdisAllocateTimerObject from {}: invalid NDIS_TIMER_CHARACTERISTICS (header {:#x}/{}/{}, need type {:#x}, revision {}, size >= {}, and a TimerFunction)",
                host.describe(call.return_address()),
                header.Type,
                header.Revision,
                header.Size,
                NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS,
                NDIS_TIMER_CHARACTERISTICS_REVISION_1,
                NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1
            ),
        );
        return super::status(NDIS_STATUS_BAD_CHARACTERISTICS);
    };
    if host.faults.should_fail(host, call, "NdisAllocateTimerObject") {
        return super::status(NDIS_STATUS_RESOURCES);
    }
    let key = host.handles.next();
    dmem::write_u64_or_crash(out, key);
    let function = tc.TimerFunction.map_or(0, |f| f as usize as u64);
    let context = tc.FunctionContext as u64;
    let timer = Timer {
        function,
        default_context: context,
        adapter,
        st: Mutex::new(TimerState { context, ..TimerState::default() }),
    };
    host.kernel.timers.table.lock().unwrap_or_else(PoisonError::into_inner).insert(key, Arc::new(timer));
    host.resources.register(Record {
        kind: Kind::Timer,
        key,
        owner: super::owner_for(host, Some(handle)),
        site: host.describe(call.return_address()),
        detail: format!("tag {}", dmem::tag_text(tc.AllocationTag)),
    });
    host.kernel.count_allocation();
    super::status(NDIS_STATUS_SUCCESS)
}

/// `NdisSetTimerObject(TimerObject, DueTime, MillisecondsPeriod, FunctionContext)`: TRUE if
/// the timer was already armed.
pub(crate) fn ndis_set_timer_object(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (key, due, period, context) = (call.arg(0), call.arg(1).cast_signed(), call.arg_u32(2), call.arg(3));
    let timer = match host.kernel.timers.lookup(key) {
        Lookup::Live(t) => t,
        other => {
            misuse(host, call, key, "NdisSetTimerObject", &other);
            return 0;
        }
    };
    if period > i32::MAX.cast_unsigned() {
        host.finding(
            Rule::TimerMisuse,
            timer.adapter,
            format!("NdisSetTimerObject({key:#x}) with MillisecondsPeriod {period}, more than MAXLONG"),
        );
    }
    let mut st = timer.lock();
    st.context = if context != 0 { context } else { timer.default_context };
    st.period_ms = period.min(i32::MAX.cast_unsigned());
    st.cancelled = false;
    let was = host.pending.arm_timer(key, host.clock.due(due));
    drop(st);
    u64::from(was)
}

/// `NdisCancelTimerObject(TimerObject)`: TRUE if the timer was armed.
pub(crate) fn ndis_cancel_timer_object(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let key = call.arg(0);
    let timer = match host.kernel.timers.lookup(key) {
        Lookup::Live(t) => t,
        other => {
            misuse(host, call, key, "NdisCancelTimerObject", &other);
            return 0;
        }
    };
    let (was, periodic) = {
        let mut st = timer.lock();
        st.cancelled = true;
        (host.pending.cancel_timer(key), st.period_ms != 0)
    };
    if periodic {
        let irql = thread::irql();
        if irql != thread::PASSIVE && host.verifier.enabled() {
            host.finding(
                Rule::CallIrql,
                timer.adapter,
                format!("NdisCancelTimerObject({key:#x}) cancels a periodic timer at IRQL {irql}; its documentation requires PASSIVE_LEVEL"),
            );
        } else {
            super::dpc::flush(host, "NdisCancelTimerObject");
        }
    }
    u64::from(was)
}

/// `NdisFreeTimerObject(TimerObject)`.
pub(crate) fn ndis_free_timer_object(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let key = call.arg(0);
    let timer = match host.kernel.timers.lookup(key) {
        Lookup::Live(t) => t,
        other => {
            misuse(host, call, key, "NdisFreeTimerObject", &other);
            return 0;
        }
    };
    let armed = {
        let mut st = timer.lock();
        st.freed = true;
        host.pending.cancel_timer(key)
    };
    host.resources.unregister(Kind::Timer, key);
    if armed {
        host.finding(
            Rule::TimerMisuse,
            timer.adapter,
            format!(
                "NdisFreeTimerObject({key:#x}) from {}: the timer is still queued (cancel it first)",
                host.describe(call.return_address())
            ),
        );
    }
    0
}
