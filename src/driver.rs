//! Registration with NDIS: DriverEntry, MiniportDriverUnload and MiniportSetOptions.
//!
//! rvmini registers as an NDIS 6.30 miniport with revision 2 of
//! `NDIS_MINIPORT_DRIVER_CHARACTERISTICS` (the revision NDIS 6.20 and later define; revision 3
//! only adds the 6.80 synchronous OID handler, which rvmini does not use). 6.30 is the newest
//! version whose rules rvmini's handlers follow (MiniportResetEx completes pending sends before
//! the reset completes) without needing anything NDIS 6.30 lacks; see docs/DESIGN.md.
//!
//! `MiniportCheckForHangEx` is not registered: Microsoft's characteristics page asks virtual
//! miniports to leave it NULL. No direct OID handlers, no interrupts, no DMA.

use crate::hub::HUB;
use crate::ndis::{header, sys};
use crate::{adapter, datapath, log, oid};
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};
use sys::{NDIS_HANDLE, NDIS_STATUS};

/// The handle NdisMRegisterMiniportDriver returned.
static DRIVER_HANDLE: AtomicPtr<core::ffi::c_void> = AtomicPtr::new(ptr::null_mut());

/// The characteristics rvmini registers.
fn characteristics() -> sys::NDIS_MINIPORT_DRIVER_CHARACTERISTICS {
    // SAFETY: all-zero is a valid characteristics structure (no handlers, zero fields).
    let mut c: sys::NDIS_MINIPORT_DRIVER_CHARACTERISTICS = unsafe { core::mem::zeroed() };
    c.Header = header(
        sys::NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS,
        sys::NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2,
        sys::NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2,
    );
    c.MajorNdisVersion = oid::NDIS_MAJOR;
    c.MinorNdisVersion = oid::NDIS_MINOR;
    c.MajorDriverVersion = u8::try_from(oid::DRIVER_MAJOR).unwrap_or(0);
    c.MinorDriverVersion = u8::try_from(oid::DRIVER_MINOR).unwrap_or(0);
    c.SetOptionsHandler = Some(set_options);
    c.InitializeHandlerEx = Some(adapter::initialize);
    c.HaltHandlerEx = Some(adapter::halt);
    c.UnloadHandler = Some(unload);
    c.PauseHandler = Some(adapter::state::pause);
    c.RestartHandler = Some(adapter::state::restart);
    c.OidRequestHandler = Some(oid::oid_request);
    c.SendNetBufferListsHandler = Some(datapath::send::send_net_buffer_lists);
    c.ReturnNetBufferListsHandler = Some(datapath::receive::return_net_buffer_lists);
    c.CancelSendHandler = Some(datapath::send::cancel_send);
    c.CheckForHangHandlerEx = None;
    c.ResetHandlerEx = Some(adapter::state::reset);
    c.DevicePnPEventNotifyHandler = Some(adapter::state::device_pnp_event);
    c.ShutdownHandlerEx = Some(adapter::state::shutdown);
    c.CancelOidRequestHandler = Some(oid::cancel_oid_request);
    c
}

/// DriverEntry (PASSIVE_LEVEL): registers the miniport. A failed registration is returned as
/// DriverEntry's status, with nothing left allocated.
///
/// # Safety
/// Called by the I/O manager only.
#[unsafe(export_name = "DriverEntry")]
pub unsafe extern "system" fn driver_entry(
    driver_object: *mut sys::DRIVER_OBJECT,
    registry_path: *mut sys::UNICODE_STRING,
) -> NDIS_STATUS {
    // SAFETY: no adapter exists yet; the hub lock is unused.
    unsafe { HUB.allocate() };
    let mut chars = characteristics();
    let mut handle: NDIS_HANDLE = ptr::null_mut();
    // SAFETY: the characteristics are valid for the call (NDIS copies them); the other
    // arguments are the I/O manager's.
    let status = unsafe {
        sys::NdisMRegisterMiniportDriver(driver_object, registry_path, ptr::null_mut(), &raw mut chars, &raw mut handle)
    };
    if status != sys::NDIS_STATUS_SUCCESS {
        log!(Error, "NdisMRegisterMiniportDriver failed: {:#010x}", status.cast_unsigned());
        // SAFETY: the hub lock is unused.
        unsafe { HUB.free() };
        return status;
    }
    DRIVER_HANDLE.store(handle, Ordering::Release);
    log!(Info, "registered as an NDIS {}.{} miniport", oid::NDIS_MAJOR, oid::NDIS_MINOR);
    sys::NDIS_STATUS_SUCCESS
}

/// MiniportDriverUnload (PASSIVE_LEVEL; after every adapter was halted).
///
/// # Safety
/// Called by NDIS only.
unsafe extern "system" fn unload(_driver_object: *mut sys::DRIVER_OBJECT) {
    let handle = DRIVER_HANDLE.swap(ptr::null_mut(), Ordering::AcqRel);
    if !handle.is_null() {
        // SAFETY: the handle NdisMRegisterMiniportDriver returned, deregistered once.
        unsafe { sys::NdisMDeregisterMiniportDriver(handle) };
    }
    // SAFETY: every adapter was halted, so the hub lock is idle.
    unsafe { HUB.free() };
}

/// MiniportSetOptions (PASSIVE_LEVEL): rvmini registers no optional services, so there is
/// nothing to do and nothing to fail.
///
/// # Safety
/// Called by NDIS only.
unsafe extern "system" fn set_options(_driver: NDIS_HANDLE, _context: NDIS_HANDLE) -> NDIS_STATUS {
    sys::NDIS_STATUS_SUCCESS
}
