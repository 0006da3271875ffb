//! The calls NDIS makes into the miniport, with the state transitions and checks around each.
//!
//! PnP operations (initialize, restart, pause, halt) run one at a time per adapter, as NDIS
//! guarantees; [`restart`] and [`pause`] return [`Started::Pending`] when the handler returned
//! `NDIS_STATUS_PENDING`, and the operation completes when the miniport calls
//! `NdisMRestartComplete` / `NdisMPauseComplete` (see [`super::calls`]). [`wait`] blocks for
//! that in threaded mode; the deterministic scheduler instead keeps running pending work until
//! the adapter's operation is no longer pending.

use super::adapter::{Adapter, OpKind, Pending, PendingReset, Pnp};
use super::calls::{end_reset, finish_operation};
use super::names;
use crate::host::thread::PASSIVE;
use crate::host::{Abandoned, HostInner};
use crate::kernel::resources::Owner;
use crate::trace::{Dir, Level};
use crate::verifier::Rule;
use ndis_sys as sys;
use std::cell::UnsafeCell;
use std::mem::{offset_of, size_of};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// How a pause, restart or reset call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Started {
    /// Completed with this status when the handler returned.
    Done(i32),
    /// The handler returned `NDIS_STATUS_PENDING`.
    Pending,
}

/// Misuse of the host by a scenario (not a driver finding).
#[derive(Debug)]
pub struct ScenarioError(pub String);

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScenarioError {}

/// Why a call into the miniport did not produce a status.
#[derive(Debug)]
pub enum CallError {
    /// The driver crashed (see the host's crash report).
    Abandoned,
    /// The scenario asked for something NDIS would never do.
    Scenario(ScenarioError),
}

impl From<Abandoned> for CallError {
    fn from(_: Abandoned) -> Self {
        CallError::Abandoned
    }
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Abandoned => f.write_str("the driver crashed"),
            CallError::Scenario(e) => write!(f, "scenario error: {e}"),
        }
    }
}

impl std::error::Error for CallError {}

fn scenario<T>(msg: impl Into<String>) -> Result<T, CallError> {
    Err(CallError::Scenario(ScenarioError(msg.into())))
}

fn header(kind: u8, revision: u8, size: usize) -> sys::NDIS_OBJECT_HEADER {
    sys::NDIS_OBJECT_HEADER { Type: kind, Revision: revision, Size: u16::try_from(size).unwrap_or(u16::MAX) }
}

fn trace_call(host: &HostInner, a: &Adapter, name: &str, detail: impl FnOnce() -> String, status: Option<i32>) {
    host.trace.record(Level::Lifecycle, Some(a.index), Dir::ToMiniport, name, detail, status.map(names::status));
}

/// A zeroed, 16-byte aligned host buffer that stays put while the miniport may read it.
///
/// The miniport writes into it through the address NDIS handed over ([`HostBuf::addr`]) while
/// the host holds only `&HostBuf`, so the memory is interior-mutable: `UnsafeCell`s, whose
/// contents may be written through a pointer obtained from a shared reference.
#[derive(Debug)]
pub struct HostBuf(Box<[UnsafeCell<u128>]>);

impl HostBuf {
    /// `len` zeroed bytes.
    #[must_use]
    pub fn zeroed(len: usize) -> Self {
        Self((0..len.div_ceil(16).max(1)).map(|_| UnsafeCell::new(0)).collect())
    }

    /// A buffer holding `value`.
    pub fn of<T: Copy>(value: T) -> Self {
        let b = Self::zeroed(size_of::<T>());
        // SAFETY: the buffer has room for a `T` and is 16-byte aligned (enough for any NDIS
        // structure); `T: Copy` has no drop. `addr_ptr` may be written (UnsafeCell contents),
        // and nobody else has the buffer yet.
        unsafe { b.addr_ptr().cast::<T>().write(value) };
        b
    }

    /// The address.
    #[must_use]
    pub fn addr(&self) -> u64 {
        self.0.as_ptr() as u64
    }

    /// A pointer to the first byte, valid for reads and writes of the whole buffer: it derives
    /// from the slice of `UnsafeCell`s (whose contents may be mutated through a shared
    /// reference), not from a `&[u128]`.
    pub(super) fn addr_ptr(&self) -> *mut u8 {
        UnsafeCell::raw_get(self.0.as_ptr()).cast::<u8>()
    }

    /// The bytes. Call only while the miniport does not write the buffer: before it is handed
    /// over, or once the call or operation it was handed over for is complete.
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the slice covers exactly the boxed buffer, which is initialised (zeroed at
        // creation). Nothing writes it while the returned borrow lives: the host writes through
        // `addr_ptr` only before handing the buffer over, and the caller keeps to the rule
        // above for the miniport.
        unsafe { std::slice::from_raw_parts(self.addr_ptr().cast_const(), self.0.len() * 16) }
    }
}

/// MiniportInitializeEx. On success the adapter is Paused; on failure Halted, with nothing of
/// it left allocated (rule `MiniportInitializeEx.FailureLeak`).
pub fn initialize(host: &Arc<HostInner>, a: &Arc<Adapter>) -> Result<i32, CallError> {
    let reg = host
        .ndis
        .driver
        .registration()
        .ok_or_else(|| CallError::Scenario(ScenarioError("no driver registered".into())))?;
    {
        let mut st = a.lock();
        if st.pnp != Pnp::Halted {
            return scenario(format!("initialize: adapter {} is {:?}", a.index, st.pnp));
        }
        st.registration_set = false;
        st.general = None;
        st.halted = false;
        st.link_up = None;
        st.status_events.clear();
        a.context.store(0, Ordering::Release);
        a.set_pnp(&mut st, Pnp::Initializing);
    }
    // SAFETY: all-zero is a valid NDIS_MINIPORT_INIT_PARAMETERS (null pointers).
    let mut p: sys::NDIS_MINIPORT_INIT_PARAMETERS = unsafe { std::mem::zeroed() };
    p.Header = header(
        sys::NDIS_OBJECT_TYPE_MINIPORT_INIT_PARAMETERS,
        sys::NDIS_MINIPORT_INIT_PARAMETERS_REVISION_1,
        sys::NDIS_SIZEOF_MINIPORT_INIT_PARAMETER_REVISION_1,
    );
    p.IfIndex = u32::try_from(a.index + 10).unwrap_or(u32::MAX);
    let params = HostBuf::of(p);
    trace_call(host, a, "MiniportInitializeEx", || format!("handle={:#x}", a.handle), None);
    let v = host.call(
        "MiniportInitializeEx",
        Some(a.index),
        PASSIVE,
        reg.handlers.initialize,
        &[a.handle, reg.context, params.addr()],
    )?;
    let status = super::status(v);
    trace_call(host, a, "MiniportInitializeEx returned", String::new, Some(status));
    let mut st = a.lock();
    if status == sys::NDIS_STATUS_SUCCESS {
        if !st.registration_set || st.general.is_none() {
            host.finding(
                Rule::InitAttributeOrder,
                Some(a.index),
                "MiniportInitializeEx succeeded without setting registration and general attributes",
            );
        }
        a.set_pnp(&mut st, Pnp::Paused);
    } else {
        a.set_pnp(&mut st, Pnp::Halted);
        drop(st);
        let leaked = host.resources.live(|r| r.owner == Owner::Adapter(a.index));
        if !leaked.is_empty() {
            host.finding(
                Rule::InitFailureLeak,
                Some(a.index),
                format!(
                    "MiniportInitializeEx failed with {} and left {} object(s): {}",
                    names::status(status),
                    leaked.len(),
                    super::driver::summarize(&leaked)
                ),
            );
        }
    }
    Ok(status)
}

/// Builds the restart parameters with one `OID_GEN_MINIPORT_RESTART_ATTRIBUTES` entry carrying
/// `NDIS_RESTART_GENERAL_ATTRIBUTES` (revision 2) from what the miniport registered, as NDIS
/// does; or with no attributes (`RestartAttributes` NULL).
fn restart_parameters(a: &Adapter, with_attributes: bool) -> (HostBuf, Option<HostBuf>) {
    let attrs = with_attributes.then(|| {
        let g = a.lock().general.clone().unwrap_or_default();
        let data = offset_of!(sys::NDIS_RESTART_ATTRIBUTES, Data);
        let len = sys::NDIS_SIZEOF_RESTART_GENERAL_ATTRIBUTES_REVISION_2;
        let buf = HostBuf::zeroed(data + len);
        // SAFETY: all-zero is a valid NDIS_RESTART_GENERAL_ATTRIBUTES.
        let mut ga: sys::NDIS_RESTART_GENERAL_ATTRIBUTES = unsafe { std::mem::zeroed() };
        ga.Header = header(sys::NDIS_OBJECT_TYPE_DEFAULT, sys::NDIS_RESTART_GENERAL_ATTRIBUTES_REVISION_2, len);
        ga.MtuSize = g.mtu;
        ga.MaxXmitLinkSpeed = g.xmit_speed;
        ga.MaxRcvLinkSpeed = g.rcv_speed;
        ga.LookaheadSize = g.lookahead;
        ga.MacOptions = g.mac_options;
        ga.SupportedPacketFilters = g.packet_filters;
        ga.SupportedStatistics = g.statistics;
        // SAFETY: the buffer holds the attributes header followed by `len` bytes at `data`,
        // 16-byte aligned as MEMORY_ALLOCATION_ALIGNMENT requires of `Data`; `addr_ptr` may be
        // written, and the miniport does not have the buffer yet.
        unsafe {
            let base = buf.addr_ptr();
            let oid = sys::OID_GEN_MINIPORT_RESTART_ATTRIBUTES.to_le_bytes();
            let data_length = u32::try_from(len).unwrap_or(0).to_le_bytes();
            std::ptr::copy_nonoverlapping(oid.as_ptr(), base.add(offset_of!(sys::NDIS_RESTART_ATTRIBUTES, Oid)), 4);
            std::ptr::copy_nonoverlapping(
                data_length.as_ptr(),
                base.add(offset_of!(sys::NDIS_RESTART_ATTRIBUTES, DataLength)),
                4,
            );
            base.add(data).cast::<sys::NDIS_RESTART_GENERAL_ATTRIBUTES>().write_unaligned(ga);
        }
        buf
    });
    // SAFETY: all-zero is a valid NDIS_MINIPORT_RESTART_PARAMETERS.
    let mut p: sys::NDIS_MINIPORT_RESTART_PARAMETERS = unsafe { std::mem::zeroed() };
    p.Header = header(
        sys::NDIS_OBJECT_TYPE_DEFAULT,
        sys::NDIS_MINIPORT_RESTART_PARAMETERS_REVISION_1,
        sys::NDIS_SIZEOF_MINIPORT_RESTART_PARAMETERS_REVISION_1,
    );
    p.RestartAttributes =
        attrs.as_ref().map_or(std::ptr::null_mut(), |b| b.addr() as *mut sys::NDIS_RESTART_ATTRIBUTES);
    (HostBuf::of(p), attrs)
}

/// MiniportRestart (Paused → Restarting → Running).
pub fn restart(host: &Arc<HostInner>, a: &Arc<Adapter>, with_attributes: bool) -> Result<Started, CallError> {
    let handlers = host.ndis.driver.handlers();
    {
        let mut st = a.lock();
        if st.pnp != Pnp::Paused || st.pending.is_some() {
            return scenario(format!("restart: adapter {} is {:?}", a.index, st.pnp));
        }
        st.pending = Some(Pending {
            kind: OpKind::Restart,
            returned: false,
            status: 0,
            completed: None,
            started: Instant::now(),
        });
        a.set_pnp(&mut st, Pnp::Restarting);
    }
    let (params, attrs) = restart_parameters(a, with_attributes);
    let before = attrs.as_ref().map(|b| b.bytes().to_vec());
    trace_call(
        host,
        a,
        "MiniportRestart",
        || if with_attributes { "general attributes".into() } else { "no attributes".into() },
        None,
    );
    let v = host.call("MiniportRestart", Some(a.index), PASSIVE, handlers.restart, &[a.context(), params.addr()])?;
    let status = super::status(v);
    trace_call(host, a, "MiniportRestart returned", String::new, Some(status));
    let early = {
        let mut st = a.lock();
        let mut early = None;
        if let Some(p) = st.pending.as_mut() {
            p.returned = true;
            p.status = status;
            early = p.completed;
        }
        a.notify();
        early
    };
    drop(params);
    // The restart attributes must outlive the restart; NDIS frees them after it completes.
    let keep = attrs;
    let outcome = match status {
        sys::NDIS_STATUS_SUCCESS => {
            if early.is_some() {
                host.finding(
                    Rule::RestartCompleteNotPending,
                    Some(a.index),
                    "NdisMRestartComplete called although MiniportRestart returned SUCCESS",
                );
            }
            finish_operation(host, a, OpKind::Restart, status);
            Started::Done(status)
        }
        sys::NDIS_STATUS_PENDING => match early {
            Some(s) => {
                finish_operation(host, a, OpKind::Restart, s);
                Started::Done(s)
            }
            None => Started::Pending,
        },
        s => {
            if s != sys::NDIS_STATUS_RESOURCES && s != sys::NDIS_STATUS_FAILURE {
                host.finding(
                    Rule::RestartStatus,
                    Some(a.index),
                    format!("MiniportRestart returned {}", names::status(s)),
                );
            }
            finish_operation(host, a, OpKind::Restart, s);
            Started::Done(s)
        }
    };
    keep_until_done(a, keep, before.as_deref(), outcome, host);
    Ok(outcome)
}

/// Keeps the restart attributes alive until the restart is over, and checks that a failed
/// restart left them as NDIS gave them ("if a miniport driver does not restart, it should not
/// modify any attributes", MiniportRestart).
fn keep_until_done(
    a: &Arc<Adapter>,
    keep: Option<HostBuf>,
    before: Option<&[u8]>,
    outcome: Started,
    host: &Arc<HostInner>,
) {
    if let (Some(buf), Some(before), Started::Done(s)) = (&keep, before, outcome)
        && s != sys::NDIS_STATUS_SUCCESS
        && buf.bytes() != before
    {
        host.finding(Rule::RestartStatus, Some(a.index), "a failed MiniportRestart modified the restart attributes");
    }
    if let Some(buf) = keep
        && a.lock().pending.is_some()
    {
        a.park(buf);
    }
}

/// MiniportPause (Running → Pausing → Paused).
pub fn pause(host: &Arc<HostInner>, a: &Arc<Adapter>, reason: u32) -> Result<Started, CallError> {
    let handlers = host.ndis.driver.handlers();
    {
        let mut st = a.lock();
        if st.pnp != Pnp::Running || st.pending.is_some() {
            return scenario(format!("pause: adapter {} is {:?}", a.index, st.pnp));
        }
        st.pending =
            Some(Pending { kind: OpKind::Pause, returned: false, status: 0, completed: None, started: Instant::now() });
        st.pause_returned = false;
        a.set_pnp(&mut st, Pnp::Pausing);
    }
    // SAFETY: all-zero is a valid NDIS_MINIPORT_PAUSE_PARAMETERS.
    let mut p: sys::NDIS_MINIPORT_PAUSE_PARAMETERS = unsafe { std::mem::zeroed() };
    p.Header = header(
        sys::NDIS_OBJECT_TYPE_DEFAULT,
        sys::NDIS_MINIPORT_PAUSE_PARAMETERS_REVISION_1,
        sys::NDIS_SIZEOF_MINIPORT_PAUSE_PARAMETERS_REVISION_1,
    );
    p.PauseReason = reason;
    let params = HostBuf::of(p);
    trace_call(host, a, "MiniportPause", || format!("reason={reason:#x}"), None);
    let v = host.call("MiniportPause", Some(a.index), PASSIVE, handlers.pause, &[a.context(), params.addr()])?;
    let status = super::status(v);
    trace_call(host, a, "MiniportPause returned", String::new, Some(status));
    let early = {
        let mut st = a.lock();
        st.pause_returned = true;
        a.bump(&mut st);
        let mut early = None;
        if let Some(p) = st.pending.as_mut() {
            p.returned = true;
            p.status = status;
            early = p.completed;
        }
        a.notify();
        early
    };
    drop(params);
    Ok(match status {
        sys::NDIS_STATUS_PENDING => {
            a.lock().pauses_pended += 1;
            match early {
                Some(_) => {
                    finish_operation(host, a, OpKind::Pause, sys::NDIS_STATUS_SUCCESS);
                    Started::Done(sys::NDIS_STATUS_SUCCESS)
                }
                None => Started::Pending,
            }
        }
        s => {
            if s != sys::NDIS_STATUS_SUCCESS {
                host.finding(Rule::PauseReturn, Some(a.index), format!("MiniportPause returned {}", names::status(s)));
            }
            if early.is_some() {
                host.finding(
                    Rule::PauseCompleteNotPending,
                    Some(a.index),
                    "NdisMPauseComplete called although MiniportPause did not return PENDING",
                );
            }
            finish_operation(host, a, OpKind::Pause, sys::NDIS_STATUS_SUCCESS);
            Started::Done(s)
        }
    })
}

/// Threaded mode: waits up to `timeout` for the adapter's pending pause or restart to complete.
/// True if it completed; false on timeout (with a watchdog finding) or when the driver crashed.
/// How it ended is in the adapter's state (a failed restart leaves it Paused).
pub fn wait(host: &Arc<HostInner>, a: &Arc<Adapter>, timeout: Duration) -> bool {
    let st = a.lock();
    let kind = st.pending.map(|p| p.kind);
    let (st, ok) = a.wait_until(st, timeout, |s| s.pending.is_none() || host.crashed());
    drop(st);
    if !ok {
        host.finding(Rule::Watchdog, Some(a.index), format!("{kind:?} did not complete within {timeout:?}"));
        return false;
    }
    !host.crashed()
}

/// MiniportHaltEx (only from Paused). Checks that everything of the adapter was freed.
pub fn halt(host: &Arc<HostInner>, a: &Arc<Adapter>, action: u32) -> Result<(), CallError> {
    let handlers = host.ndis.driver.handlers();
    {
        let st = a.lock();
        if st.pnp != Pnp::Paused || st.pending.is_some() {
            return scenario(format!("halt: adapter {} is {:?}", a.index, st.pnp));
        }
    }
    trace_call(host, a, "MiniportHaltEx", || format!("action={action}"), None);
    host.call("MiniportHaltEx", Some(a.index), PASSIVE, handlers.halt, &[a.context(), u64::from(action)])?;
    {
        let mut st = a.lock();
        st.halted = true;
        a.set_pnp(&mut st, Pnp::Halted);
    }
    let leaked = host.resources.live(|r| r.owner == Owner::Adapter(a.index));
    if !leaked.is_empty() {
        host.finding(
            Rule::HaltLeak,
            Some(a.index),
            format!(
                "{} object(s) still allocated after MiniportHaltEx: {}",
                leaked.len(),
                super::driver::summarize(&leaked)
            ),
        );
    }
    Ok(())
}

/// MiniportResetEx.
pub fn reset(host: &Arc<HostInner>, a: &Arc<Adapter>, irql: u8) -> Result<Started, CallError> {
    let handlers = host.ndis.driver.handlers();
    if handlers.reset == 0 {
        return scenario("the miniport registered no MiniportResetEx");
    }
    {
        let mut st = a.lock();
        if st.reset.is_some() || matches!(st.pnp, Pnp::Halted | Pnp::Initializing) {
            return scenario(format!("reset: adapter {} is {:?}", a.index, st.pnp));
        }
        st.reset = Some(PendingReset { returned: false, completed: false });
    }
    let addressing = HostBuf::zeroed(8);
    trace_call(host, a, "MiniportResetEx", String::new, None);
    let v = host.call("MiniportResetEx", Some(a.index), irql, handlers.reset, &[a.context(), addressing.addr()])?;
    let status = super::status(v);
    trace_call(host, a, "MiniportResetEx returned", String::new, Some(status));
    let mut st = a.lock();
    let early = st.reset.is_some_and(|r| r.completed);
    if status == sys::NDIS_STATUS_PENDING && !early {
        // Still in progress until NdisMResetComplete: `returned` now means "returned PENDING".
        if let Some(r) = st.reset.as_mut() {
            r.returned = true;
        }
        a.notify();
        return Ok(Started::Pending);
    }
    let judged = (status == sys::NDIS_STATUS_SUCCESS).then_some("MiniportResetEx returned SUCCESS");
    end_reset(host, a, st, judged);
    Ok(Started::Done(status))
}

/// MiniportDevicePnPEventNotify.
pub fn device_pnp_event(host: &Arc<HostInner>, a: &Arc<Adapter>, event: u32, info: &[u8]) -> Result<(), CallError> {
    let handlers = host.ndis.driver.handlers();
    let data = HostBuf::zeroed(info.len().max(1));
    // SAFETY: `data` has at least `info.len()` bytes; `addr_ptr` may be written, and the miniport
    // does not have the buffer yet.
    unsafe { std::ptr::copy_nonoverlapping(info.as_ptr(), data.addr_ptr(), info.len()) };
    // SAFETY: all-zero is a valid NET_DEVICE_PNP_EVENT.
    let mut e: sys::NET_DEVICE_PNP_EVENT = unsafe { std::mem::zeroed() };
    e.Header = header(
        sys::NDIS_OBJECT_TYPE_DEFAULT,
        sys::NET_DEVICE_PNP_EVENT_REVISION_1,
        sys::NDIS_SIZEOF_NET_DEVICE_PNP_EVENT_REVISION_1,
    );
    e.DevicePnPEvent = event;
    e.InformationBuffer = if info.is_empty() { std::ptr::null_mut() } else { data.addr() as *mut core::ffi::c_void };
    e.InformationBufferLength = u32::try_from(info.len()).unwrap_or(0);
    let ev = HostBuf::of(e);
    trace_call(host, a, "MiniportDevicePnPEventNotify", || format!("event={event}"), None);
    host.call(
        "MiniportDevicePnPEventNotify",
        Some(a.index),
        PASSIVE,
        handlers.device_pnp_event,
        &[a.context(), ev.addr()],
    )?;
    Ok(())
}

/// MiniportShutdownEx.
pub fn shutdown(host: &Arc<HostInner>, a: &Arc<Adapter>, action: u32) -> Result<(), CallError> {
    let handlers = host.ndis.driver.handlers();
    trace_call(host, a, "MiniportShutdownEx", || format!("action={action}"), None);
    host.call("MiniportShutdownEx", Some(a.index), PASSIVE, handlers.shutdown, &[a.context(), u64::from(action)])?;
    Ok(())
}

/// MiniportSendNetBufferLists.
pub fn send(host: &Arc<HostInner>, a: &Adapter, head: u64, flags: u32, irql: u8) -> Result<(), Abandoned> {
    if host.trace.wants(Level::Datapath) {
        host.trace.record(
            Level::Datapath,
            Some(a.index),
            Dir::ToMiniport,
            "MiniportSendNetBufferLists",
            || format!("{head:#x} flags={flags:#x}"),
            None,
        );
    }
    host.call(
        "MiniportSendNetBufferLists",
        Some(a.index),
        irql,
        host.ndis.driver.send_handler(),
        &[a.context(), head, 0, u64::from(flags)],
    )
    .map(|_| ())
}

/// MiniportReturnNetBufferLists.
pub fn return_nbls(host: &Arc<HostInner>, a: &Adapter, head: u64, flags: u32, irql: u8) -> Result<(), Abandoned> {
    if host.trace.wants(Level::Datapath) {
        host.trace.record(
            Level::Datapath,
            Some(a.index),
            Dir::ToMiniport,
            "MiniportReturnNetBufferLists",
            || format!("{head:#x}"),
            None,
        );
    }
    host.call(
        "MiniportReturnNetBufferLists",
        Some(a.index),
        irql,
        host.ndis.driver.return_handler(),
        &[a.context(), head, u64::from(flags)],
    )
    .map(|_| ())
}

/// MiniportCancelSend.
pub fn cancel_send(host: &Arc<HostInner>, a: &Adapter, cancel_id: u64, irql: u8) -> Result<(), Abandoned> {
    let handlers = host.ndis.driver.handlers();
    host.trace.record(
        Level::Lifecycle,
        Some(a.index),
        Dir::ToMiniport,
        "MiniportCancelSend",
        || format!("id={cancel_id:#x}"),
        None,
    );
    host.call("MiniportCancelSend", Some(a.index), irql, handlers.cancel_send, &[a.context(), cancel_id]).map(|_| ())
}
