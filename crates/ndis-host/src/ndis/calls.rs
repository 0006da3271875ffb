//! The NDIS functions a miniport calls (`NdisM*`), with the rules each one carries.
//!
//! IRQL rules (from each DDI page's requirements, `shared/research/ndis_ddi_irql_compliance.txt`):
//! registration, deregistration and `NdisMSetMiniportAttributes` at PASSIVE_LEVEL; every
//! completion and indication at `<= DISPATCH_LEVEL` (for `NdisMResetComplete` the NDIS 6.x page,
//! `nf-ndis-ndismresetcomplete-r1`: "in NDIS 6.0 and later, callers ... must run at
//! IRQL <= DISPATCH_LEVEL"; the `DISPATCH_LEVEL` in the other page's table is the NDIS 5.1 rule).

use super::adapter::{Adapter, General, OpKind, Pnp, State, StatusEvent};
use super::driver::{Handlers, Registration};
use super::names;
use crate::abi::{ImportCall, mem};
use crate::host::HostInner;
use crate::host::thread::{self, DISPATCH, PASSIVE};
use crate::imports::{CallClass, ImportDef, IrqlRule};
use crate::verifier::Rule;
use ndis_sys as sys;
use std::mem::{offset_of, size_of};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, MutexGuard, PoisonError};
use std::time::Duration;

/// How long a completion waits for the handler it completes to return on another thread (NDIS
/// serialises the two; a handler that never returns is a watchdog finding).
pub const HANDLER_RETURN_WAIT: Duration = Duration::from_secs(10);

/// NDIS serialises a completion with the return of the handler it completes: a completion made
/// on another thread while `handler` still runs waits for it to return. Waits on `cv` (which
/// every change of the state behind `guard` notifies) until `returned(state)`, for at most
/// [`HANDLER_RETURN_WAIT`]. On timeout reports a watchdog finding for adapter `index` and returns
/// `None` (the completion is then dropped); otherwise the guard, with `returned(state)` true.
pub fn await_return<'a, T>(
    host: &HostInner,
    index: usize,
    cv: &Condvar,
    guard: MutexGuard<'a, T>,
    (handler, api): (&str, &str),
    mut returned: impl FnMut(&T) -> bool,
) -> Option<MutexGuard<'a, T>> {
    let (guard, result) =
        cv.wait_timeout_while(guard, HANDLER_RETURN_WAIT, |s| !returned(s)).unwrap_or_else(PoisonError::into_inner);
    if result.timed_out() {
        drop(guard);
        host.finding(Rule::Watchdog, Some(index), format!("{handler} did not return while {api} waited"));
        return None;
    }
    Some(guard)
}

const fn def(name: &'static str, irql: IrqlRule, class: CallClass, handler: crate::imports::Handler) -> ImportDef {
    ImportDef { module: "ndis.sys", name, irql, class, handler }
}

/// The imports of this module.
pub static IMPORTS: &[ImportDef] = &[
    // nf-ndis-ndismregisterminiportdriver | PASSIVE_LEVEL
    def("NdisMRegisterMiniportDriver", IrqlRule::Passive, CallClass::Lifecycle, register_miniport_driver),
    // nf-ndis-ndismderegisterminiportdriver | PASSIVE_LEVEL
    def("NdisMDeregisterMiniportDriver", IrqlRule::Passive, CallClass::Lifecycle, deregister_miniport_driver),
    // nf-ndis-ndismsetminiportattributes | PASSIVE_LEVEL
    def("NdisMSetMiniportAttributes", IrqlRule::Passive, CallClass::Lifecycle, set_miniport_attributes),
    // nf-ndis-ndismpausecomplete | <= DISPATCH_LEVEL
    def("NdisMPauseComplete", IrqlRule::AtMostDispatch, CallClass::Lifecycle, pause_complete),
    // nf-ndis-ndismrestartcomplete | <= DISPATCH_LEVEL
    def("NdisMRestartComplete", IrqlRule::AtMostDispatch, CallClass::Lifecycle, restart_complete),
    // nf-ndis-ndismresetcomplete-r1 | <= DISPATCH_LEVEL (NDIS 6.x)
    def("NdisMResetComplete", IrqlRule::AtMostDispatch, CallClass::Lifecycle, reset_complete),
    // nf-ndis-ndismoidrequestcomplete | <= DISPATCH_LEVEL
    def("NdisMOidRequestComplete", IrqlRule::AtMostDispatch, CallClass::Lifecycle, super::oid::oid_request_complete),
    // nf-ndis-ndismsendnetbufferlistscomplete | <= DISPATCH_LEVEL
    def("NdisMSendNetBufferListsComplete", IrqlRule::AtMostDispatch, CallClass::Datapath, send_complete),
    // nf-ndis-ndismindicatereceivenetbufferlists | <= DISPATCH_LEVEL
    def("NdisMIndicateReceiveNetBufferLists", IrqlRule::AtMostDispatch, CallClass::Datapath, indicate_receive),
    // nf-ndis-ndismindicatestatusex | <= DISPATCH_LEVEL
    def("NdisMIndicateStatusEx", IrqlRule::AtMostDispatch, CallClass::Lifecycle, indicate_status),
];

/// Reads a `T` made only of integers and raw pointers from driver memory, or `None` if it is
/// not readable. `len` bytes are read (the rest stays zero), so a shorter revision reads too.
pub fn read_pod<T>(addr: u64, len: usize) -> Option<T> {
    let len = len.min(size_of::<T>());
    let mut bytes = vec![0u8; size_of::<T>()];
    if addr == 0 || !mem::read(addr, &mut bytes[..len]) {
        return None;
    }
    // SAFETY: callers use this only for NDIS structures made of integers, raw pointers and
    // `Option<extern fn>` fields, for which every bit pattern read from memory is valid except
    // that a function pointer must be non-null when `Some` — and `Option` maps null to `None`;
    // the buffer has exactly `size_of::<T>()` initialised bytes, read unaligned.
    Some(unsafe { std::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) })
}

/// The adapter behind a handle the driver passed to `api`, reporting an invalid handle or a
/// call after halt.
pub fn adapter_for(host: &Arc<HostInner>, handle: u64, api: &str) -> Option<Arc<Adapter>> {
    let Some(a) = host.ndis.by_handle(handle) else {
        host.finding(
            Rule::InvalidHandle,
            thread::adapter(),
            format!("{api} called with unknown adapter handle {handle:#x}"),
        );
        return None;
    };
    let st = a.lock();
    if st.halted && st.pnp == Pnp::Halted {
        drop(st);
        host.finding(Rule::CallAfterHalt, Some(a.index), format!("{api} called after MiniportHaltEx returned"));
        return None;
    }
    drop(st);
    Some(a)
}

/// Checks the `*_DISPATCH_LEVEL` flag against the thread's IRQL, and that no spin lock is held.
fn check_call(host: &Arc<HostInner>, adapter: usize, api: &str, flags: u32, dispatch_flag: u32) {
    if !host.verifier.per_call() {
        return;
    }
    let irql = thread::irql();
    if flags & dispatch_flag != 0 && irql != DISPATCH {
        host.finding(Rule::DispatchFlag, Some(adapter), format!("{api} passed the DISPATCH_LEVEL flag at IRQL {irql}"));
    }
    let held = thread::held_count();
    if held != 0 {
        host.finding(Rule::LockAcrossCall, Some(adapter), format!("{api} called while holding {held} spin lock(s)"));
    }
}

// One pass over the characteristics, in the order the DDI page describes them; splitting it would
// scatter the checks a reader compares with that page.
#[allow(clippy::too_many_lines)]
fn register_miniport_driver(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    type C = sys::NDIS_MINIPORT_DRIVER_CHARACTERISTICS;
    let context = call.arg(2);
    let chars_addr = call.arg(3);
    let handle_out = call.arg(4);
    let fail = {
        let st = host.ndis.driver.lock();
        if !st.in_entry {
            host.finding(Rule::RegisterInDriverEntry, None, "NdisMRegisterMiniportDriver called outside DriverEntry");
        }
        if st.registration().is_some() {
            host.finding(Rule::RegisterInDriverEntry, None, "NdisMRegisterMiniportDriver called twice");
        }
        st.fail_registration
    };
    if let Some(status) = fail {
        host.trace.note(None, || format!("registration fails on purpose with {}", names::status(status)));
        return status.cast_unsigned().into();
    }
    let Some(header) = read_pod::<sys::NDIS_OBJECT_HEADER>(chars_addr, 4) else {
        host.finding(Rule::CharacteristicsValid, None, "characteristics pointer is not readable");
        return sys::NDIS_STATUS_BAD_CHARACTERISTICS.cast_unsigned().into();
    };
    let Some(c) = read_pod::<sys::NDIS_MINIPORT_DRIVER_CHARACTERISTICS>(chars_addr, usize::from(header.Size)) else {
        host.finding(Rule::CharacteristicsValid, None, "characteristics are not readable");
        return sys::NDIS_STATUS_BAD_CHARACTERISTICS.cast_unsigned().into();
    };
    let mut problems = Vec::new();
    if header.Type != sys::NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS {
        problems.push(format!("header type {:#x}", header.Type));
    }
    let min_size = match header.Revision {
        sys::NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1 => {
            sys::NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1
        }
        sys::NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2 => {
            sys::NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2
        }
        sys::NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_3 => {
            sys::NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_3
        }
        r => {
            problems.push(format!("unknown revision {r}"));
            0
        }
    };
    if usize::from(header.Size) < min_size {
        problems.push(format!("size {} below the revision's {min_size}", header.Size));
    }
    if c.MajorNdisVersion != 6 {
        problems.push(format!("NDIS major version {}", c.MajorNdisVersion));
    }
    // The fields are typed per callback; read each as an address through a uniform view.
    let raw = |off: usize| -> u64 {
        let mut b = [0u8; 8];
        if mem::read(chars_addr + off as u64, &mut b) && off + 8 <= usize::from(header.Size) {
            u64::from_le_bytes(b)
        } else {
            0
        }
    };
    let handlers = Handlers {
        set_options: raw(offset_of!(C, SetOptionsHandler)),
        initialize: raw(offset_of!(C, InitializeHandlerEx)),
        halt: raw(offset_of!(C, HaltHandlerEx)),
        unload: raw(offset_of!(C, UnloadHandler)),
        pause: raw(offset_of!(C, PauseHandler)),
        restart: raw(offset_of!(C, RestartHandler)),
        oid_request: raw(offset_of!(C, OidRequestHandler)),
        send: raw(offset_of!(C, SendNetBufferListsHandler)),
        return_nbls: raw(offset_of!(C, ReturnNetBufferListsHandler)),
        cancel_send: raw(offset_of!(C, CancelSendHandler)),
        check_for_hang: raw(offset_of!(C, CheckForHangHandlerEx)),
        reset: raw(offset_of!(C, ResetHandlerEx)),
        device_pnp_event: raw(offset_of!(C, DevicePnPEventNotifyHandler)),
        shutdown: raw(offset_of!(C, ShutdownHandlerEx)),
        cancel_oid_request: raw(offset_of!(C, CancelOidRequestHandler)),
        direct_oid_request: raw(offset_of!(C, DirectOidRequestHandler)),
        cancel_direct_oid_request: raw(offset_of!(C, CancelDirectOidRequestHandler)),
        synchronous_oid_request: raw(offset_of!(C, SynchronousOidRequestHandler)),
    };
    for (name, value) in [
        ("InitializeHandlerEx", handlers.initialize),
        ("HaltHandlerEx", handlers.halt),
        ("UnloadHandler", handlers.unload),
        ("PauseHandler", handlers.pause),
        ("RestartHandler", handlers.restart),
        ("OidRequestHandler", handlers.oid_request),
        ("SendNetBufferListsHandler", handlers.send),
        ("ReturnNetBufferListsHandler", handlers.return_nbls),
        ("CancelSendHandler", handlers.cancel_send),
        ("DevicePnPEventNotifyHandler", handlers.device_pnp_event),
        ("ShutdownHandlerEx", handlers.shutdown),
        ("CancelOidRequestHandler", handlers.cancel_oid_request),
    ] {
        if value == 0 {
            problems.push(format!("{name} missing"));
        }
    }
    if (handlers.direct_oid_request == 0) != (handlers.cancel_direct_oid_request == 0) {
        problems.push("DirectOidRequestHandler and CancelDirectOidRequestHandler must come as a pair".to_owned());
    }
    if !problems.is_empty() {
        host.finding(Rule::CharacteristicsValid, None, problems.join("; "));
        return sys::NDIS_STATUS_BAD_CHARACTERISTICS.cast_unsigned().into();
    }
    let handle = host.handles.next();
    if !mem::write(handle_out, &handle.to_le_bytes()) {
        host.finding(Rule::CharacteristicsValid, None, "NdisMiniportDriverHandle pointer is not writable");
        return sys::NDIS_STATUS_INVALID_PARAMETER.cast_unsigned().into();
    }
    let registration =
        Registration { handle, handlers, ndis_version: (c.MajorNdisVersion, c.MinorNdisVersion), context };
    host.ndis.driver.register(registration);
    host.trace.note(None, || {
        format!(
            "registered: NDIS {}.{} miniport, characteristics revision {}, driver {}.{}",
            c.MajorNdisVersion, c.MinorNdisVersion, header.Revision, c.MajorDriverVersion, c.MinorDriverVersion
        )
    });
    // NDIS calls MiniportSetOptions within NdisMRegisterMiniportDriver.
    if handlers.set_options != 0 {
        let status = match host.call("MiniportSetOptions", None, PASSIVE, handlers.set_options, &[handle, context]) {
            Ok(v) => super::status(v),
            Err(_) => crate::abi::abandon(crate::crash::CrashKind::Fatal("MiniportSetOptions crashed".to_owned())),
        };
        host.trace.record(
            crate::trace::Level::Lifecycle,
            None,
            crate::trace::Dir::ToMiniport,
            "MiniportSetOptions",
            String::new,
            Some(names::status(status)),
        );
        if status != sys::NDIS_STATUS_SUCCESS {
            host.ndis.driver.unregister();
            return status.cast_unsigned().into();
        }
    }
    0
}

fn deregister_miniport_driver(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let handle = call.arg(0);
    let mut st = host.ndis.driver.lock();
    match st.registration() {
        Some(r) if r.handle == handle => {
            if st.deregistered {
                drop(st);
                host.finding(Rule::InvalidHandle, None, "NdisMDeregisterMiniportDriver called twice");
            } else {
                st.deregistered = true;
            }
        }
        _ => {
            drop(st);
            host.finding(
                Rule::InvalidHandle,
                None,
                format!("NdisMDeregisterMiniportDriver with unknown handle {handle:#x}"),
            );
        }
    }
    0
}

// One match arm per attribute structure, each checked against its DDI page.
#[allow(clippy::too_many_lines)]
fn set_miniport_attributes(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let ok = sys::NDIS_STATUS_SUCCESS.cast_unsigned().into();
    let Some(a) = adapter_for(host, call.arg(0), "NdisMSetMiniportAttributes") else {
        return sys::NDIS_STATUS_INVALID_PARAMETER.cast_unsigned().into();
    };
    let idx = Some(a.index);
    let addr = call.arg(1);
    if !thread::inside("MiniportInitializeEx", a.index) {
        host.finding(Rule::InitAttributeOrder, idx, "NdisMSetMiniportAttributes called outside MiniportInitializeEx");
        return sys::NDIS_STATUS_NOT_ACCEPTED.cast_unsigned().into();
    }
    let Some(header) = read_pod::<sys::NDIS_OBJECT_HEADER>(addr, 4) else {
        host.finding(Rule::AttributesValid, idx, "attributes pointer is not readable");
        return sys::NDIS_STATUS_INVALID_PARAMETER.cast_unsigned().into();
    };
    let mut st = a.lock();
    match header.Type {
        sys::NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES => {
            if st.registration_set {
                host.finding(Rule::InitAttributeOrder, idx, "registration attributes set twice");
            }
            let rev_ok = matches!(
                (header.Revision, usize::from(header.Size)),
                (sys::NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1, s) if s >= sys::NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1
            ) || matches!(
                (header.Revision, usize::from(header.Size)),
                (sys::NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_2, s) if s >= sys::NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_2
            );
            if !rev_ok {
                host.finding(
                    Rule::AttributesValid,
                    idx,
                    format!("registration attributes revision {} size {}", header.Revision, header.Size),
                );
            }
            let Some(r) =
                read_pod::<sys::NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES>(addr, usize::from(header.Size))
            else {
                return sys::NDIS_STATUS_INVALID_PARAMETER.cast_unsigned().into();
            };
            let context = r.MiniportAdapterContext as u64;
            if context == 0 {
                host.finding(Rule::AttributesValid, idx, "MiniportAdapterContext is NULL");
            }
            if r.AttributeFlags & sys::NDIS_MINIPORT_ATTRIBUTES_HARDWARE_DEVICE == 0
                && host.ndis.driver.handlers().check_for_hang != 0
            {
                host.finding(
                    Rule::CharacteristicsValid,
                    idx,
                    "a virtual miniport (no HARDWARE_DEVICE flag) registered MiniportCheckForHangEx",
                );
            }
            st.registration_set = true;
            a.context.store(context, Ordering::Release);
            ok
        }
        sys::NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES => {
            if !st.registration_set {
                host.finding(Rule::InitAttributeOrder, idx, "general attributes set before registration attributes");
            }
            if st.general.is_some() {
                host.finding(Rule::InitAttributeOrder, idx, "general attributes set twice");
            }
            let size_ok = match header.Revision {
                sys::NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1 => {
                    usize::from(header.Size) >= sys::NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1
                }
                sys::NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2 => {
                    usize::from(header.Size) >= sys::NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2
                }
                _ => false,
            };
            if !size_ok {
                host.finding(
                    Rule::AttributesValid,
                    idx,
                    format!("general attributes revision {} size {}", header.Revision, header.Size),
                );
            }
            let Some(g) = read_pod::<sys::NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES>(addr, usize::from(header.Size))
            else {
                return sys::NDIS_STATUS_INVALID_PARAMETER.cast_unsigned().into();
            };
            let mut problems = Vec::new();
            if g.MediaType == sys::NdisMedium802_3 && g.MacAddressLength != 6 {
                problems.push(format!("MacAddressLength {} for 802.3", g.MacAddressLength));
            }
            let list_len = g.SupportedOidListLength as usize;
            let mut oids = Vec::new();
            if !list_len.is_multiple_of(4) || list_len > 4096 {
                problems.push(format!("SupportedOidListLength {list_len}"));
            } else if list_len != 0 {
                let mut bytes = vec![0u8; list_len];
                if mem::read(g.SupportedOidList as u64, &mut bytes) {
                    oids = bytes.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
                } else {
                    problems.push("SupportedOidList is not readable".to_owned());
                }
            }
            if !problems.is_empty() {
                host.finding(Rule::AttributesValid, idx, problems.join("; "));
            }
            let mut current = [0u8; 6];
            current.copy_from_slice(&g.CurrentMacAddress[..6]);
            let connected = g.MediaConnectState == sys::MediaConnectStateConnected;
            st.link_up = Some(connected);
            st.general = Some(General {
                mtu: g.MtuSize,
                current,
                oids,
                connected,
                mac_options: g.MacOptions,
                packet_filters: g.SupportedPacketFilters,
                statistics: g.SupportedStatistics,
                lookahead: g.LookaheadSize,
                xmit_speed: g.XmitLinkSpeed,
                rcv_speed: g.RcvLinkSpeed,
            });
            ok
        }
        other => {
            if st.general.is_none() {
                host.finding(
                    Rule::InitAttributeOrder,
                    idx,
                    format!("attributes of type {other:#x} set before the general attributes"),
                );
            }
            ok
        }
    }
}

fn pause_complete(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    complete_operation(host, call.arg(0), OpKind::Pause, sys::NDIS_STATUS_SUCCESS);
    0
}

fn restart_complete(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let status = super::status(call.arg(1));
    complete_operation(host, call.arg(0), OpKind::Restart, status);
    0
}

/// The common part of NdisMPauseComplete and NdisMRestartComplete.
fn complete_operation(host: &Arc<HostInner>, handle: u64, kind: OpKind, status: i32) {
    let api = match kind {
        OpKind::Pause => "NdisMPauseComplete",
        OpKind::Restart => "NdisMRestartComplete",
    };
    let (early_rule, pending_rule, handler) = match kind {
        OpKind::Pause => (Rule::PauseCompleteEarly, Rule::PauseCompleteNotPending, "MiniportPause"),
        OpKind::Restart => (Rule::RestartCompleteEarly, Rule::RestartCompleteNotPending, "MiniportRestart"),
    };
    let Some(a) = adapter_for(host, handle, api) else { return };
    let idx = Some(a.index);
    // The dispatcher already traced the call itself; this note says what it completed and from
    // which driver routine.
    let context = thread::frame().map_or("host thread", |f| f.handler);
    host.trace.note(idx, || match kind {
        OpKind::Pause => format!("pause complete, from {context}"),
        OpKind::Restart => format!("restart complete with {}, from {context}", names::status(status)),
    });
    if kind == OpKind::Restart
        && ![sys::NDIS_STATUS_SUCCESS, sys::NDIS_STATUS_RESOURCES, sys::NDIS_STATUS_FAILURE].contains(&status)
    {
        host.finding(Rule::RestartCompleteNotPending, idx, format!("{api} with status {}", names::status(status)));
    }
    let same_thread = thread::inside(handler, a.index);
    if same_thread {
        host.finding(early_rule, idx, format!("{api} called from inside {handler}, before it returned"));
    }
    let mut st = a.lock();
    *st.completed_from.entry((api, context)).or_default() += 1;
    if !same_thread {
        let returned = |s: &State| !matches!(s.pending, Some(p) if p.kind == kind && !p.returned);
        let Some(guard) = await_return(host, a.index, a.condvar(), st, (handler, api), returned) else { return };
        st = guard;
    }
    match st.pending {
        Some(mut p)
            if p.kind == kind && p.completed.is_none() && (!p.returned || p.status == sys::NDIS_STATUS_PENDING) =>
        {
            // Claimed under the lock: a second completion of this operation, on any thread, finds
            // it completed and is refused below, even before `finish_operation` has ended it.
            p.completed = Some(status);
            st.pending = Some(p);
            if !p.returned {
                // Same thread, inside the handler: the handler's return finishes it.
                return;
            }
            drop(st);
            finish_operation(host, &a, kind, status);
        }
        Some(p) if p.kind == kind && p.returned && p.status != sys::NDIS_STATUS_PENDING => {
            drop(st);
            host.finding(pending_rule, idx, format!("{api} after {handler} returned {}", names::status(p.status)));
        }
        _ => {
            drop(st);
            host.finding(pending_rule, idx, format!("{api} with no {handler} pending"));
        }
    }
}

/// The send NBLs a pause or reset completion must not leave behind. A send whose
/// MiniportSendNetBufferLists call is still in progress on another thread may not have reached
/// the miniport's own accounting yet (it will be refused), so the count is judged only when no
/// send call is in progress; otherwise 0. Outstanding first, calls second: see
/// `Protocol::send` for the order that makes this sound.
pub fn sends_to_judge(a: &Adapter) -> i64 {
    let sends = a.counters.sends_outstanding.load(Ordering::SeqCst);
    let calls = a.counters.send_calls.load(Ordering::SeqCst);
    if calls == 0 { sends } else { 0 }
}

/// Completes a pause or restart: checks the drain for a pause, moves the state, wakes waiters.
pub fn finish_operation(host: &Arc<HostInner>, a: &Arc<Adapter>, kind: OpKind, status: i32) {
    let idx = Some(a.index);
    if kind == OpKind::Pause {
        let sends = sends_to_judge(a);
        let receives = a.counters.rx_outstanding.load(Ordering::Acquire);
        if sends != 0 || receives != 0 {
            host.finding(
                Rule::PauseDrain,
                idx,
                format!(
                    "pause completed with {sends} send NBL(s) not completed and {receives} receive NBL(s) not returned"
                ),
            );
        }
    }
    let mut st = a.lock();
    if let Some(p) = st.pending.take() {
        st.last_latency = Some(p.started.elapsed());
        match kind {
            OpKind::Pause => {
                st.pauses += 1;
                a.set_pnp(&mut st, Pnp::Paused);
            }
            OpKind::Restart => {
                if status == sys::NDIS_STATUS_SUCCESS {
                    st.restarts += 1;
                    a.set_pnp(&mut st, Pnp::Running);
                } else {
                    a.set_pnp(&mut st, Pnp::Paused);
                }
            }
        }
    }
    drop(st);
    a.unpark();
    a.notify();
}

/// Ends the adapter's reset: judges `Reset.Drain` when `judged` says how the reset ended (it
/// starts the finding's message), clears the reset and wakes waiters. The drain is judged and
/// reported before the reset is seen to end: once `reset` is None, a caller waiting for it may
/// already send again (and be counted).
pub fn end_reset(host: &HostInner, a: &Adapter, mut st: MutexGuard<'_, State>, judged: Option<&str>) {
    if let Some(how) = judged {
        let sends = sends_to_judge(a);
        if sends != 0 {
            host.finding(Rule::ResetDrain, Some(a.index), format!("{how} with {sends} send NBL(s) outstanding"));
        }
    }
    st.reset = None;
    drop(st);
    a.notify();
}

fn reset_complete(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let Some(a) = adapter_for(host, call.arg(0), "NdisMResetComplete") else { return 0 };
    let idx = Some(a.index);
    let inside = thread::inside("MiniportResetEx", a.index);
    if inside {
        host.finding(Rule::ResetCompleteNotPending, idx, "NdisMResetComplete called from inside MiniportResetEx");
    }
    let mut st = a.lock();
    if !inside {
        let returned = |s: &State| !matches!(s.reset, Some(r) if !r.returned);
        let waiting = ("MiniportResetEx", "NdisMResetComplete");
        let Some(guard) = await_return(host, a.index, a.condvar(), st, waiting, returned) else { return 0 };
        st = guard;
    }
    match st.reset {
        // Returned and still in progress: it returned PENDING (see `miniport::reset`).
        Some(r) if r.returned && !r.completed => end_reset(host, &a, st, Some("reset completed")),
        Some(mut r) if !r.returned => {
            r.completed = true;
            st.reset = Some(r);
        }
        _ => {
            drop(st);
            host.finding(Rule::ResetCompleteNotPending, idx, "NdisMResetComplete with no reset pending");
        }
    }
    0
}

fn send_complete(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let Some(a) = adapter_for(host, call.arg(0), "NdisMSendNetBufferListsComplete") else { return 0 };
    let flags = call.arg_u32(2);
    check_call(host, a.index, "NdisMSendNetBufferListsComplete", flags, sys::NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL);
    host.ndis.protocol.on_send_complete(host, &a, call.arg(1));
    0
}

fn indicate_receive(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let Some(a) = adapter_for(host, call.arg(0), "NdisMIndicateReceiveNetBufferLists") else { return 0 };
    let flags = call.arg_u32(4);
    check_call(host, a.index, "NdisMIndicateReceiveNetBufferLists", flags, sys::NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL);
    let pnp = a.pnp();
    if matches!(pnp, Pnp::Paused | Pnp::Halted | Pnp::Initializing) {
        host.finding(Rule::ReceiveWhilePaused, Some(a.index), format!("receive indicated while {pnp:?}"));
    }
    host.ndis.protocol.on_receive(host, &a, call.arg(1), call.arg_u32(3), flags, thread::irql());
    0
}

fn indicate_status(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let Some(a) = adapter_for(host, call.arg(0), "NdisMIndicateStatusEx") else { return 0 };
    let idx = Some(a.index);
    if host.verifier.per_call() && thread::held_count() != 0 {
        host.finding(Rule::LockAcrossCall, idx, "NdisMIndicateStatusEx called while holding a spin lock");
    }
    let addr = call.arg(1);
    let Some(header) = read_pod::<sys::NDIS_OBJECT_HEADER>(addr, 4) else {
        host.finding(Rule::StatusIndication, idx, "status indication pointer is not readable");
        return 0;
    };
    let Some(ind) = read_pod::<sys::NDIS_STATUS_INDICATION>(addr, usize::from(header.Size)) else {
        host.finding(Rule::StatusIndication, idx, "status indication is not readable");
        return 0;
    };
    let mut problems = Vec::new();
    if header.Type != sys::NDIS_OBJECT_TYPE_STATUS_INDICATION
        || header.Revision < sys::NDIS_STATUS_INDICATION_REVISION_1
        || usize::from(header.Size) < sys::NDIS_SIZEOF_STATUS_INDICATION_REVISION_1
    {
        problems.push(format!("header type {:#x} revision {} size {}", header.Type, header.Revision, header.Size));
    }
    if ind.SourceHandle as u64 != a.handle {
        problems.push(format!("SourceHandle {:#x} is not the adapter handle", ind.SourceHandle as u64));
    }
    let pnp = a.pnp();
    if matches!(pnp, Pnp::Initializing | Pnp::Halted) {
        problems.push(format!("indicated while {pnp:?}"));
    }
    let mut connected = None;
    if ind.StatusCode == sys::NDIS_STATUS_LINK_STATE {
        if (ind.StatusBufferSize as usize) < sys::NDIS_SIZEOF_LINK_STATE_REVISION_1 {
            problems.push(format!("link state buffer of {} bytes", ind.StatusBufferSize));
        } else if let Some(ls) =
            read_pod::<sys::NDIS_LINK_STATE>(ind.StatusBuffer as u64, ind.StatusBufferSize as usize)
        {
            if ls.Header.Type != sys::NDIS_OBJECT_TYPE_DEFAULT || ls.Header.Revision < sys::NDIS_LINK_STATE_REVISION_1 {
                problems.push("NDIS_LINK_STATE header".to_owned());
            }
            connected = Some(ls.MediaConnectState == sys::MediaConnectStateConnected);
        } else {
            problems.push("link state buffer is not readable".to_owned());
        }
    }
    if !problems.is_empty() {
        host.finding(Rule::StatusIndication, idx, problems.join("; "));
    }
    host.trace.note(idx, || match connected {
        Some(c) => format!("status {} (link {})", names::status(ind.StatusCode), if c { "up" } else { "down" }),
        None => format!("status {}", names::status(ind.StatusCode)),
    });
    let mut st = a.lock();
    if let Some(c) = connected {
        st.link_up = Some(c);
    }
    st.status_events.push(StatusEvent { code: ind.StatusCode, connected });
    0
}
