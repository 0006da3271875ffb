//! rvmini: an NDIS 6 virtual Ethernet miniport driver.
#![cfg(target_os = "windows")]
#![no_std]

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {}
}

/// # Safety
/// Called by the I/O manager only.
#[unsafe(export_name = "DriverEntry")]
pub unsafe extern "system" fn driver_entry(_driver: *mut u8, _path: *mut u8) -> ndis_sys::NDIS_STATUS {
    // SAFETY: skeleton only; replaced by the real DriverEntry.
    unsafe { ndis_sys::NdisMDeregisterMiniportDriver(core::ptr::null_mut()) };
    ndis_sys::NDIS_STATUS_FAILURE
}
