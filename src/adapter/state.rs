//! Moving a live adapter between states: MiniportPause, MiniportRestart, MiniportResetEx,
//! MiniportShutdownEx, MiniportDevicePnPEventNotify, power transitions, and the work items that
//! complete what cannot finish at once.
//!
//! **Pause** (Running → Pausing → Paused). The handler closes the gate (no new send is accepted
//! and no new receive registered: [`Lifecycle::begin_pause`]), completes the queued sends with
//! `NDIS_STATUS_PAUSED`, and settles: if nothing is outstanding it returns
//! `NDIS_STATUS_SUCCESS`; otherwise it returns `NDIS_STATUS_PENDING`, and the completion that
//! drains the last send or brings back the last receive NBL — and only that one — queues the
//! pause work item, which calls `NdisMPauseComplete` at PASSIVE_LEVEL. There is no timeout:
//! a pause completes when, and only when, the drain is complete (NdisMPauseComplete remarks).
//!
//! **Restart** (Paused → Restarting → Running). If the receive buffers exist, the restart
//! completes at once. If they were freed by a low-power transition, re-creating them can fail,
//! so MiniportRestart returns `NDIS_STATUS_PENDING` and the restart work item allocates them and
//! calls `NdisMRestartComplete` with `NDIS_STATUS_SUCCESS`, or, after writing an error-log
//! entry, with `NDIS_STATUS_RESOURCES`, leaving the adapter Paused with nothing started.
//!
//! **Reset** stops accepting sends, flushes the queue with `NDIS_STATUS_RESET_IN_PROGRESS`, and
//! completes once the sends in flight have completed (NDIS 6.30 requires pending sends to be
//! completed before the reset completes), through the reset work item if it had to pend; sends
//! are refused until that work item reports the reset complete.
//!
//! [`Lifecycle::begin_pause`]: rvmini_core::lifecycle::Lifecycle::begin_pause

use super::{Adapter, error_log};
use crate::datapath::send::Transmit;
use crate::hub::HUB;
use crate::log;
use crate::ndis::sys;
use core::ffi::c_void;
use rvmini_core::lifecycle::{PauseOutcome, ResetOutcome, Underflow, Wake};
use sys::{NDIS_HANDLE, NDIS_STATUS};

/// Acts on the outcome of an `end_tx`/`end_rx`: queues the completion work items it released,
/// or logs an accounting bug.
pub fn account(adapter: &Adapter, result: Result<Wake, Underflow>) {
    match result {
        Ok(wake) => on_wake(adapter, wake),
        Err(u) => log!(Error, "adapter {:p}: accounting underflow {:?}", adapter.handle, u),
    }
}

/// Queues the work items a completion released (≤ DISPATCH_LEVEL).
pub fn on_wake(adapter: &Adapter, wake: Wake) {
    if wake.pause_complete
        && let Some(w) = adapter.completions.pause.as_ref()
    {
        // SAFETY: the lifecycle releases a pause exactly once per pending pause, so the item is
        // not queued; the adapter outlives it (halt comes only after the pause completed).
        unsafe { w.queue(pause_complete_work, adapter.context()) };
    }
    if wake.reset_complete
        && let Some(w) = adapter.completions.reset.as_ref()
    {
        // SAFETY: as above, for the one pending reset.
        unsafe { w.queue(reset_complete_work, adapter.context()) };
    }
}

/// Completes a pending pause (PASSIVE_LEVEL, work item).
unsafe extern "system" fn pause_complete_work(context: *mut c_void, _item: NDIS_HANDLE) {
    // SAFETY: the work item's context is its adapter, which stays allocated until halt, and NDIS
    // does not halt before the pause completes — which is the call below, made last.
    let handle = unsafe { Adapter::from_context(context) }.handle;
    // SAFETY: a pause is pending: this work item is queued only by the completion that released
    // it. Nothing touches the adapter after this call.
    unsafe { sys::NdisMPauseComplete(handle) };
}

/// Completes a pending reset (PASSIVE_LEVEL, work item). Sends stay refused until here, so none
/// accepted after the drain can be pending when NDIS learns the reset is complete.
unsafe extern "system" fn reset_complete_work(context: *mut c_void, _item: NDIS_HANDLE) {
    // SAFETY: the work item's context is its adapter, which stays allocated until halt; NDIS
    // does not halt an adapter whose reset is pending, and the reset completes only below.
    let adapter = unsafe { Adapter::from_context(context) };
    let handle = adapter.handle;
    // Reopen the send gate first: after NdisMResetComplete the adapter may be halted.
    adapter.life.finish_reset();
    // SAFETY: a reset is pending; this is the only completion of it. Nothing touches the adapter
    // after this call.
    unsafe { sys::NdisMResetComplete(handle, sys::NDIS_STATUS_SUCCESS, 0) };
}

/// MiniportPause (PASSIVE_LEVEL).
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn pause(
    context: NDIS_HANDLE,
    _params: *mut sys::NDIS_MINIPORT_PAUSE_PARAMETERS,
) -> NDIS_STATUS {
    // SAFETY: NDIS passes the context we registered.
    let adapter = unsafe { Adapter::from_context(context) };
    if let Err(e) = adapter.life.begin_pause() {
        // NDIS pauses only a Running adapter. A pause cannot fail: report it done.
        log!(Error, "pause from state {:?}", e.from);
        return sys::NDIS_STATUS_SUCCESS;
    }
    Transmit::flush(adapter, sys::NDIS_STATUS_PAUSED);
    match adapter.life.settle_pause() {
        Ok(PauseOutcome::Complete) => sys::NDIS_STATUS_SUCCESS,
        Ok(PauseOutcome::Pending) => sys::NDIS_STATUS_PENDING,
        Err(e) => {
            log!(Error, "pause could not settle from {:?}", e.from);
            sys::NDIS_STATUS_SUCCESS
        }
    }
}

/// Checks the restart attributes NDIS passed, without changing them (MiniportRestart: "if a
/// miniport driver does not restart, it should not modify any attributes"; rvmini has nothing
/// to add or change when it does). Logs what it finds unusual.
fn check_restart_parameters(adapter: &Adapter, params: *const sys::NDIS_MINIPORT_RESTART_PARAMETERS) {
    use core::mem::{offset_of, size_of};
    // SAFETY: NDIS passes a valid parameters structure or null.
    let Some(params) = (unsafe { params.as_ref() }) else { return };
    let mut attr = params.RestartAttributes.cast_const();
    for _ in 0..16 {
        if attr.is_null() {
            return;
        }
        // The entry is a variable-length object: its fixed fields, then DataLength bytes of
        // `Data` (declared `[u8; 1]`). No reference to it is made, so nothing is read through a
        // reference that covers fewer bytes than the entry has; the fixed fields are copied out
        // through the raw pointer.
        // SAFETY: `attr` is a non-null entry of the list NDIS built for this call, live and
        // aligned as ndis.h declares it, so its fixed fields are valid for reads.
        let oid = unsafe { (*attr).Oid };
        // SAFETY: as above.
        let data_len = unsafe { (*attr).DataLength } as usize;
        // SAFETY: as above.
        let next = unsafe { (*attr).Next };
        if oid == sys::OID_GEN_MINIPORT_RESTART_ATTRIBUTES && data_len >= size_of::<sys::NDIS_OBJECT_HEADER>() {
            // Derived from `attr`, whose provenance is NDIS's whole entry (fixed fields and
            // DataLength bytes of Data), not from a place of the one-byte `Data` array.
            let data = attr.cast::<u8>().wrapping_add(offset_of!(sys::NDIS_RESTART_ATTRIBUTES, Data));
            // SAFETY: `data` is the start of the entry's Data, which NDIS fills with DataLength
            // bytes; DataLength ≥ size_of::<NDIS_OBJECT_HEADER>() (checked above), so the header
            // lies inside the entry that `attr`'s provenance covers; Data has no alignment
            // guarantee, hence the unaligned read.
            let header = unsafe { core::ptr::read_unaligned(data.cast::<sys::NDIS_OBJECT_HEADER>()) };
            let rev1 = sys::NDIS_SIZEOF_RESTART_GENERAL_ATTRIBUTES_REVISION_1;
            if header.Revision >= sys::NDIS_RESTART_GENERAL_ATTRIBUTES_REVISION_1
                && usize::from(header.Size) >= rev1
                && data_len >= rev1
            {
                let mtu_at = data.wrapping_add(offset_of!(sys::NDIS_RESTART_GENERAL_ATTRIBUTES, MtuSize));
                // SAFETY: DataLength ≥ the revision-1 size (checked just above), which ends after
                // MtuSize, so the four bytes at `mtu_at` lie inside the entry's Data, derived from
                // `attr` like `data`; read unaligned, as above.
                let mtu = unsafe { core::ptr::read_unaligned(mtu_at.cast::<u32>()) };
                if mtu as usize != adapter.id.mtu {
                    log!(Warning, "restart attributes carry MTU {} (ours {})", mtu, adapter.id.mtu);
                }
            } else {
                log!(
                    Warning,
                    "restart general attributes of unknown revision {} size {}",
                    header.Revision,
                    header.Size
                );
            }
        }
        attr = next;
    }
}

/// MiniportRestart (PASSIVE_LEVEL).
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn restart(
    context: NDIS_HANDLE,
    params: *mut sys::NDIS_MINIPORT_RESTART_PARAMETERS,
) -> NDIS_STATUS {
    // SAFETY: NDIS passes the context we registered.
    let adapter = unsafe { Adapter::from_context(context) };
    check_restart_parameters(adapter, params);
    if let Err(e) = adapter.life.begin_restart() {
        log!(Error, "restart from state {:?}", e.from);
        return sys::NDIS_STATUS_FAILURE;
    }
    if adapter.life.snapshot().low_power {
        // NDIS sets D0 before it restarts an adapter; restarting in D3 is refused.
        error_log(adapter, sys::NDIS_ERROR_CODE_HARDWARE_FAILURE, 0x3_0001);
        let _ = adapter.life.finish_restart(false);
        return sys::NDIS_STATUS_FAILURE;
    }
    if adapter.rx.present() {
        let _ = adapter.life.finish_restart(true);
        HUB.reconcile(adapter);
        return sys::NDIS_STATUS_SUCCESS;
    }
    if let Some(w) = adapter.completions.restart.as_ref() {
        // SAFETY: NDIS starts no other PnP operation while the restart is pending, so the
        // restart work item is idle; the adapter outlives it.
        unsafe { w.queue(restart_work, adapter.context()) };
        sys::NDIS_STATUS_PENDING
    } else {
        let _ = adapter.life.finish_restart(false);
        sys::NDIS_STATUS_FAILURE
    }
}

/// The pending part of a restart (PASSIVE_LEVEL, work item): re-create the receive buffers,
/// then complete the restart.
unsafe extern "system" fn restart_work(context: *mut c_void, _item: NDIS_HANDLE) {
    // SAFETY: the context is the adapter, which NDIS cannot halt while the restart is pending.
    let adapter = unsafe { Adapter::from_context(context) };
    let handle = adapter.handle;
    // SAFETY: the adapter is Restarting: no delivery can reserve a slot (a peer's DPC registers
    // a receive only while the adapter is Running) and the receive buffers were destroyed, so
    // no receive is in flight; NDIS starts no other PnP or power operation (halt, set power)
    // while this restart is pending, so nothing else creates or destroys them meanwhile.
    let status = match unsafe { adapter.rx.create(adapter) } {
        Ok(()) => {
            let _ = adapter.life.finish_restart(true);
            HUB.reconcile(adapter);
            sys::NDIS_STATUS_SUCCESS
        }
        Err(status) => {
            log!(Error, "restart: cannot re-create the receive buffers: {:#010x}", status.cast_unsigned());
            error_log(adapter, sys::NDIS_ERROR_CODE_OUT_OF_RESOURCES, status.cast_unsigned());
            let _ = adapter.life.finish_restart(false);
            sys::NDIS_STATUS_RESOURCES
        }
    };
    // SAFETY: a restart is pending (this work item is queued only by MiniportRestart when it
    // returned PENDING); this is its only completion, and nothing touches the adapter after it.
    unsafe { sys::NdisMRestartComplete(handle, status) };
}

/// MiniportResetEx (≤ DISPATCH_LEVEL).
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn reset(context: NDIS_HANDLE, addressing_reset: *mut sys::BOOLEAN) -> NDIS_STATUS {
    // SAFETY: NDIS passes the context we registered.
    let adapter = unsafe { Adapter::from_context(context) };
    // SAFETY: NDIS passes a valid BOOLEAN to write, or null.
    if let Some(a) = unsafe { addressing_reset.as_mut() } {
        // The filter and multicast list survive a reset: NDIS need not restore them.
        *a = 0;
    }
    if adapter.life.begin_reset().is_err() {
        return sys::NDIS_STATUS_RESET_IN_PROGRESS;
    }
    Transmit::flush(adapter, sys::NDIS_STATUS_RESET_IN_PROGRESS);
    match adapter.life.settle_reset() {
        Ok(ResetOutcome::Complete) => sys::NDIS_STATUS_SUCCESS,
        Ok(ResetOutcome::Pending) => sys::NDIS_STATUS_PENDING,
        Err(_) => sys::NDIS_STATUS_RESET_IN_PROGRESS,
    }
}

/// MiniportShutdownEx. Nothing is accepted or transmitted afterwards: the flag stops new sends,
/// deliveries into the adapter and the transmit DPC (which completes what it still takes with
/// `NDIS_STATUS_ADAPTER_NOT_READY`). A power-off shutdown runs at PASSIVE_LEVEL, where NDIS
/// calls are allowed, and completes the queued sends at once. A bug-check shutdown may run at
/// high IRQL: one atomic operation, no lock, no NDIS call, nothing freed.
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn shutdown(context: NDIS_HANDLE, action: sys::NDIS_SHUTDOWN_ACTION) {
    // SAFETY: NDIS passes the context we registered.
    let adapter = unsafe { Adapter::from_context(context) };
    adapter.life.mark_shutdown();
    if action == sys::NdisShutdownPowerOff {
        Transmit::flush(adapter, sys::NDIS_STATUS_ADAPTER_NOT_READY);
    }
}

/// MiniportDevicePnPEventNotify (PASSIVE_LEVEL).
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn device_pnp_event(context: NDIS_HANDLE, event: *mut sys::NET_DEVICE_PNP_EVENT) {
    // SAFETY: NDIS passes the context we registered.
    let adapter = unsafe { Adapter::from_context(context) };
    // SAFETY: NDIS passes a valid event or null.
    let Some(event) = (unsafe { event.as_ref() }) else { return };
    match event.DevicePnPEvent {
        e if e == sys::NdisDevicePnPEventSurpriseRemoved => {
            // The "device" is gone: accept nothing new, complete what is queued, and receive no
            // more status indications. NDIS pauses and halts the adapter next.
            adapter.life.mark_removed();
            HUB.mark_gone(adapter);
            Transmit::flush(adapter, sys::NDIS_STATUS_ADAPTER_REMOVED);
            log!(Warning, "adapter {:p} surprise-removed", adapter.handle);
        }
        e if e == sys::NdisDevicePnPEventPowerProfileChanged => {
            if event.InformationBufferLength as usize >= 4 && !event.InformationBuffer.is_null() {
                // SAFETY: NDIS passes a ULONG (NdisPowerProfileBattery / AcOnLine).
                let profile = unsafe { core::ptr::read_unaligned(event.InformationBuffer.cast::<u32>()) };
                log!(Info, "power profile changed: {}", profile);
            }
        }
        e => log!(Verbose, "PnP event {} ignored", e),
    }
}

/// A device power state OID_PNP_SET_POWER may set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DevicePower {
    /// D0: working.
    Working,
    /// D1, D2 or D3: low power.
    Low,
}

impl DevicePower {
    /// The state behind an `NDIS_DEVICE_POWER_STATE` value; `None` for anything but D0–D3.
    #[must_use]
    pub fn from_ndis(state: u32) -> Option<Self> {
        match state {
            sys::NdisDeviceStateD0 => Some(Self::Working),
            sys::NdisDeviceStateD1..=sys::NdisDeviceStateD3 => Some(Self::Low),
            _ => None,
        }
    }
}

/// OID_PNP_SET_POWER (PASSIVE_LEVEL): D0 restores the datapath, D1–D3 stop it. NDIS pauses the
/// adapter before a low-power state (rvmini does not ask for NO_PAUSE_ON_SUSPEND), so the
/// receive buffers are freed while nothing can be in flight; the restart after D0 re-creates
/// them. If an adapter is somehow still Running, its queue is flushed and its buffers kept.
pub fn set_power(adapter: &Adapter, power: DevicePower) {
    match power {
        DevicePower::Working => adapter.life.set_low_power(false),
        DevicePower::Low => {
            adapter.life.set_low_power(true);
            let snap = adapter.life.snapshot();
            if snap.state == rvmini_core::lifecycle::State::Paused && snap.rx == 0 {
                // SAFETY: Paused, so no delivery can reserve a slot (a peer's DPC registers a
                // receive only while the adapter is Running), and no receive is outstanding
                // (`rx == 0`: every indicated NBL returned, every reservation ended), so no
                // receive is in flight; NDIS runs this OID request serialised with the other
                // PnP operations (restart, halt), so nothing else creates or destroys the
                // buffers meanwhile.
                unsafe { adapter.rx.destroy() };
            } else {
                Transmit::flush(adapter, sys::NDIS_STATUS_LOW_POWER_STATE);
                log!(Warning, "low power while {:?}: receive buffers kept", snap.state);
            }
        }
    }
}
