//! DPCs, timer objects and I/O work items: queueing, running through `Kernel::run`, and the
//! Timer.Misuse / WorkItem.Misuse rules.
// Import arguments and results are raw register values; the tests convert them to the C types
// they stand for (truncation and sign changes are the point).
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]

#[path = "kernel_support/mod.rs"]
mod support;

use ndis_host::host::HostInner;
use ndis_host::host::thread::{self, DISPATCH, PASSIVE};
use ndis_host::kernel::pending::Class;
use ndis_host::kernel::registry::Registry;
use ndis_host::kernel::resources::{Kind, Owner};
use ndis_host::verifier::Rule;
use ndis_sys::{
    KDPC, NDIS_OBJECT_HEADER, NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS, NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1,
    NDIS_STATUS_BAD_CHARACTERISTICS, NDIS_STATUS_SUCCESS, NDIS_TIMER_CHARACTERISTICS,
    NDIS_TIMER_CHARACTERISTICS_REVISION_1,
};
use std::ffi::c_void;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use support::{addr, assert_clean, det, device, drive, fired, kc, p, threaded};

/// What a callback saw.
/// (IRQL, handler, adapter, arguments) of one callback run.
type Run = (u8, Option<&'static str>, Option<usize>, [u64; 4]);

#[derive(Debug, Default)]
struct Seen {
    runs: AtomicU64,
    log: Mutex<Vec<Run>>,
}

impl Seen {
    fn record(&self, args: [u64; 4]) {
        self.runs.fetch_add(1, Ordering::SeqCst);
        let f = thread::frame();
        self.log.lock().unwrap().push((thread::irql(), f.map(|f| f.handler), f.and_then(|f| f.adapter), args));
    }
}

extern "win64" fn dpc_routine(dpc: *mut KDPC, ctx: *mut c_void, a1: *mut c_void, a2: *mut c_void) {
    // SAFETY: the tests pass a live `Seen` as the context.
    let seen = unsafe { &*ctx.cast::<Seen>() };
    seen.record([dpc as u64, ctx as u64, a1 as u64, a2 as u64]);
}

fn run_ready(host: &Arc<HostInner>, class: Class) -> usize {
    let mut n = 0;
    loop {
        let (ready, _) = host.pending.ready(host.clock.now());
        let Some(item) = ready.into_iter().find(|i| i.class == class) else { return n };
        assert!(host.pending.take(item));
        host.kernel.run(host, item).unwrap();
        n += 1;
    }
}

#[test]
fn dpcs_queue_once_run_at_dispatch_and_can_be_removed() {
    let host = det();
    let (idx, _) = device(&host, Registry::new());
    let mut kdpc = Box::new(KDPC::default());
    let seen = Seen::default();
    let (d, c) = (p(&raw const *kdpc), p(&raw const seen));
    let mut r = Vec::new();
    drive(&host, Some(idx), PASSIVE, || {
        kc("KeInitializeDpc", &[d, addr(dpc_routine as extern "win64" fn(_, _, _, _)), c]);
        r.push(kc("KeInsertQueueDpc", &[d, 11, 22]) & 0xFF);
        r.push(kc("KeInsertQueueDpc", &[d, 33, 44]) & 0xFF);
        r.push(kc("KeRemoveQueueDpc", &[d]) & 0xFF);
        r.push(kc("KeRemoveQueueDpc", &[d]) & 0xFF);
        r.push(kc("KeInsertQueueDpc", &[d, 55, 66]) & 0xFF);
        0
    })
    .unwrap();
    assert_eq!(r, vec![1, 0, 1, 0, 1]);
    assert_eq!(
        kdpc.DeferredRoutine.map(|f| f as usize as u64),
        Some(addr(dpc_routine as extern "win64" fn(_, _, _, _)))
    );
    assert_eq!(kdpc.DeferredContext as u64, c);
    assert_eq!(kdpc.TargetInfoAsUlong & 0xFF, 0x13, "DpcObject");
    assert!(host.pending.is_queued(Class::Dpc, d));
    assert_eq!(run_ready(&host, Class::Dpc), 1);
    let log = seen.log.lock().unwrap().clone();
    assert_eq!(log, vec![(DISPATCH, Some("KDEFERRED_ROUTINE"), Some(idx), [d, c, 55, 66])]);
    kdpc.DeferredContext = std::ptr::null_mut(); // silence "unused mut" on the Box
    assert_clean(&host);
}

#[test]
fn deterministic_flush_runs_queued_dpcs_and_uninitialised_dpcs_are_reported() {
    let host = det();
    let kdpc = Box::new(KDPC::default());
    let other = Box::new(KDPC::default());
    let seen = Seen::default();
    let (d, c, o) = (p(&raw const *kdpc), p(&raw const seen), p(&raw const *other));
    let mut before = 0;
    let mut queued = 1;
    drive(&host, None, PASSIVE, || {
        kc("KeInitializeDpc", &[d, addr(dpc_routine as extern "win64" fn(_, _, _, _)), c]);
        kc("KeInsertQueueDpc", &[d, 0, 0]);
        before = seen.runs.load(Ordering::SeqCst);
        kc("KeFlushQueuedDpcs", &[]);
        queued = kc("KeInsertQueueDpc", &[o, 0, 0]) & 0xFF;
        0
    })
    .unwrap();
    assert_eq!(before, 0);
    assert_eq!(seen.runs.load(Ordering::SeqCst), 1, "the flush ran the DPC");
    assert_eq!(queued, 0);
    let f = fired(&host, Rule::TimerMisuse);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].message.contains("not initialised"));
    assert!(host.pending.is_idle());
}

#[test]
fn freeing_pool_that_holds_a_queued_dpc_is_reported() {
    let host = det();
    let seen = Seen::default();
    let c = p(&raw const seen);
    drive(&host, None, PASSIVE, || {
        let block = kc("ExAllocatePool2", &[ndis_sys::POOL_FLAG_NON_PAGED, 128, 0x6370_6444]);
        kc("KeInitializeDpc", &[block + 64, addr(dpc_routine as extern "win64" fn(_, _, _, _)), c]);
        kc("KeInsertQueueDpc", &[block + 64, 0, 0]);
        kc("ExFreePool", &[block]);
        0
    })
    .unwrap();
    let f = fired(&host, Rule::TimerMisuse);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].message.contains("queued DPC"));
    assert!(host.pending.is_idle(), "the dangling DPC was dequeued");
}

extern "win64" fn timer_fn(s1: *mut c_void, ctx: *mut c_void, s2: *mut c_void, s3: *mut c_void) {
    // SAFETY: the tests pass a live `Seen` as the context.
    let seen = unsafe { &*ctx.cast::<Seen>() };
    seen.record([s1 as u64, ctx as u64, s2 as u64, s3 as u64]);
}

fn timer_chars(seen: &Seen) -> NDIS_TIMER_CHARACTERISTICS {
    NDIS_TIMER_CHARACTERISTICS {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS,
            Revision: NDIS_TIMER_CHARACTERISTICS_REVISION_1,
            Size: NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1 as u16,
        },
        AllocationTag: 0x726d_6954,
        // SAFETY: only the address is stored; the host calls it with the Win64 convention it has
        // (ndis-sys spells the type `extern "system"`, which is Win64 only on Windows).
        TimerFunction: Some(unsafe {
            std::mem::transmute::<
                extern "win64" fn(*mut c_void, *mut c_void, *mut c_void, *mut c_void),
                ndis_sys::NDIS_TIMER_FUNCTION,
            >(timer_fn)
        }),
        FunctionContext: (&raw const *seen).cast_mut().cast(),
    }
}

#[test]
fn timers_fire_at_their_due_time_with_their_context_and_periodic_ones_rearm() {
    let host = det();
    let (idx, handle) = device(&host, Registry::new());
    let seen = Seen::default();
    let mut chars = timer_chars(&seen);
    let mut timer = 0u64;
    let mut r = Vec::new();
    drive(&host, None, PASSIVE, || {
        r.push(kc("NdisAllocateTimerObject", &[handle, p(&raw mut chars), p(&raw mut timer)]));
        r.push(kc("NdisSetTimerObject", &[timer, (-100_000i64).cast_unsigned(), 0, 0]) & 0xFF); // 10 ms
        r.push(kc("NdisSetTimerObject", &[timer, (-200_000i64).cast_unsigned(), 0, 0]) & 0xFF); // re-arm: 20 ms
        0
    })
    .unwrap();
    assert_eq!(r, vec![NDIS_STATUS_SUCCESS as u64, 0, 1]);
    assert_eq!(host.resources.get(Kind::Timer, timer).unwrap().owner, Owner::Adapter(idx));
    host.clock.advance_by(150_000);
    assert_eq!(run_ready(&host, Class::Timer), 0, "not due after 15 ms");
    host.clock.advance_by(50_000);
    assert_eq!(run_ready(&host, Class::Timer), 1);
    let log = seen.log.lock().unwrap().clone();
    assert_eq!(log[0].0, DISPATCH);
    assert_eq!(log[0].1, Some("NDIS_TIMER_FUNCTION"));
    assert_eq!(log[0].2, Some(idx));
    assert_eq!(log[0].3, [0, p(&raw const seen), 0, 0]);
    // Periodic, with an explicit context: re-armed before each callback.
    let other = Seen::default();
    let mut cancel = 9;
    drive(&host, None, PASSIVE, || {
        kc("NdisSetTimerObject", &[timer, (-10_000i64).cast_unsigned(), 5, p(&raw const other)]);
        0
    })
    .unwrap();
    for _ in 0..3 {
        host.clock.advance_by(50_000);
        assert_eq!(run_ready(&host, Class::Timer), 1);
    }
    assert_eq!(other.runs.load(Ordering::SeqCst), 3);
    assert!(host.pending.is_queued(Class::Timer, timer), "periodic timer re-armed");
    drive(&host, None, PASSIVE, || {
        cancel = kc("NdisCancelTimerObject", &[timer]) & 0xFF;
        kc("NdisFreeTimerObject", &[timer]);
        0
    })
    .unwrap();
    assert_eq!(cancel, 1);
    assert!(host.resources.get(Kind::Timer, timer).is_none());
    assert!(host.pending.is_idle());
    assert_clean(&host);
}

#[test]
fn timer_misuse_fires_for_free_while_queued_use_after_free_bad_characteristics_and_periodic_cancel_at_dispatch() {
    let host = det();
    let (_, handle) = device(&host, Registry::new());
    let seen = Seen::default();
    let mut chars = timer_chars(&seen);
    let mut bad = timer_chars(&seen);
    bad.Header.Type = 0x80;
    let (mut t1, mut t2, mut t3) = (0u64, 0u64, 0u64);
    let mut st = 0;
    drive(&host, None, PASSIVE, || {
        st = kc("NdisAllocateTimerObject", &[handle, p(&raw mut bad), p(&raw mut t3)]);
        kc("NdisAllocateTimerObject", &[handle, p(&raw mut chars), p(&raw mut t1)]);
        kc("NdisAllocateTimerObject", &[handle, p(&raw mut chars), p(&raw mut t2)]);
        kc("NdisSetTimerObject", &[t1, (-10_000i64).cast_unsigned(), 0, 0]);
        kc("NdisFreeTimerObject", &[t1]); // still queued
        kc("NdisSetTimerObject", &[t1, (-10_000i64).cast_unsigned(), 0, 0]); // use after free
        kc("NdisSetTimerObject", &[t2, (-10_000i64).cast_unsigned(), 10, 0]);
        0
    })
    .unwrap();
    assert_eq!(st as u32 as i32, NDIS_STATUS_BAD_CHARACTERISTICS);
    assert_eq!(t3, 0);
    drive(&host, None, DISPATCH, || {
        kc("NdisCancelTimerObject", &[t2]); // periodic: PASSIVE_LEVEL only
        kc("NdisFreeTimerObject", &[t2]);
        0
    })
    .unwrap();
    let msgs: Vec<String> = fired(&host, Rule::TimerMisuse).into_iter().map(|f| f.message).collect();
    assert_eq!(msgs.len(), 3, "{msgs:#?}");
    assert!(msgs[0].contains("invalid NDIS_TIMER_CHARACTERISTICS"));
    assert!(msgs[1].contains("still queued"));
    assert!(msgs[2].contains("the timer was freed"));
    let irql = fired(&host, Rule::CallIrql);
    assert_eq!(irql.len(), 1);
    assert!(irql[0].message.contains("periodic"));
    assert!(host.pending.is_idle());
}

extern "win64" fn work_routine(ctx: *mut c_void, handle: *mut c_void) {
    // SAFETY: the tests pass a live `Seen` as the context.
    let seen = unsafe { &*ctx.cast::<Seen>() };
    seen.record([ctx as u64, handle as u64, 0, 0]);
}

extern "win64" fn work_routine_frees_itself(ctx: *mut c_void, handle: *mut c_void) {
    work_routine(ctx, handle);
    support::kc("NdisFreeIoWorkItem", &[handle as u64]);
}

#[test]
fn work_items_run_at_passive_for_their_adapter_and_may_free_themselves() {
    let host = det();
    let (idx, handle) = device(&host, Registry::new());
    let seen = Seen::default();
    let c = p(&raw const seen);
    let mut wi = 0;
    drive(&host, None, DISPATCH, || {
        wi = kc("NdisAllocateIoWorkItem", &[handle]);
        kc("NdisQueueIoWorkItem", &[wi, addr(work_routine_frees_itself as extern "win64" fn(_, _)), c]);
        0
    })
    .unwrap();
    assert_eq!(host.resources.get(Kind::WorkItem, wi).unwrap().owner, Owner::Adapter(idx));
    assert!(host.pending.is_queued(Class::Work, wi));
    assert_eq!(run_ready(&host, Class::Work), 1);
    let log = seen.log.lock().unwrap().clone();
    assert_eq!(log, vec![(PASSIVE, Some("NDIS_IO_WORKITEM_ROUTINE"), Some(idx), [c, wi, 0, 0])]);
    assert!(host.resources.get(Kind::WorkItem, wi).is_none(), "freed by its own routine");
    assert_clean(&host);
}

#[test]
fn work_item_misuse_fires_for_double_queue_free_while_queued_and_use_after_free() {
    let host = det();
    let (_, handle) = device(&host, Registry::new());
    let seen = Seen::default();
    let c = p(&raw const seen);
    let routine = addr(work_routine as extern "win64" fn(_, _));
    drive(&host, None, PASSIVE, || {
        let wi = kc("NdisAllocateIoWorkItem", &[handle]);
        kc("NdisQueueIoWorkItem", &[wi, routine, c]);
        kc("NdisQueueIoWorkItem", &[wi, routine, c]); // already queued
        kc("NdisFreeIoWorkItem", &[wi]); // still queued
        kc("NdisQueueIoWorkItem", &[wi, routine, c]); // freed
        0
    })
    .unwrap();
    let msgs: Vec<String> = fired(&host, Rule::WorkItemMisuse).into_iter().map(|f| f.message).collect();
    assert_eq!(msgs.len(), 3, "{msgs:#?}");
    assert!(msgs[0].contains("already queued"));
    assert!(msgs[1].contains("still queued"));
    assert!(msgs[2].contains("was freed"));
    assert!(host.pending.is_idle(), "the freed item was dequeued");
    assert_eq!(seen.runs.load(Ordering::SeqCst), 0);
}

/// Threaded mode: a worker thread runs DPCs and work items as the lead's executors do, and
/// KeFlushQueuedDpcs really waits for a DPC that is running on it.
#[test]
fn threaded_workers_run_items_and_flush_waits_for_running_dpcs() {
    extern "win64" fn slow_dpc(_: *mut KDPC, ctx: *mut c_void, _: *mut c_void, _: *mut c_void) {
        std::thread::sleep(Duration::from_millis(100));
        // SAFETY: the test passes a live `Seen`.
        unsafe { &*ctx.cast::<Seen>() }.record([0; 4]);
    }
    let host = threaded();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let worker = {
        let (host, stop) = (Arc::clone(&host), Arc::clone(&stop));
        std::thread::spawn(move || {
            thread::set_host(Some(Arc::clone(&host)));
            let now = || host.clock.now();
            while !stop.load(Ordering::Acquire) {
                if let Some(item) =
                    host.pending.wait(&[Class::Dpc, Class::Timer, Class::Work], &now, Duration::from_millis(10))
                {
                    host.kernel.run(&host, item).unwrap();
                }
            }
            thread::set_host(None);
        })
    };
    let kdpc = Box::new(KDPC::default());
    let seen = Seen::default();
    let (d, c) = (p(&raw const *kdpc), p(&raw const seen));
    let mut after_flush = 0;
    drive(&host, None, PASSIVE, || {
        kc("KeInitializeDpc", &[d, addr(slow_dpc as extern "win64" fn(_, _, _, _)), c]);
        kc("KeInsertQueueDpc", &[d, 0, 0]);
        // Give the worker time to take it, so the flush waits for a *running* DPC.
        std::thread::sleep(Duration::from_millis(20));
        kc("KeFlushQueuedDpcs", &[]);
        after_flush = seen.runs.load(Ordering::SeqCst);
        let wi = kc("NdisAllocateIoWorkItem", &[0]);
        kc("NdisQueueIoWorkItem", &[wi, addr(work_routine_frees_itself as extern "win64" fn(_, _)), c]);
        kc("NdisMSleep", &[20_000]);
        0
    })
    .unwrap();
    assert_eq!(after_flush, 1, "KeFlushQueuedDpcs returned only after the DPC finished");
    for _ in 0..200 {
        if seen.runs.load(Ordering::SeqCst) == 2 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    stop.store(true, Ordering::Release);
    worker.join().unwrap();
    assert_eq!(seen.runs.load(Ordering::SeqCst), 2);
    let log = seen.log.lock().unwrap().clone();
    assert_eq!(log[1].0, PASSIVE);
    assert!(host.pending.is_idle());
    assert_eq!(host.resources.count(Kind::WorkItem), 0);
    assert_clean(&host);
}
