//! Raw NDIS 6 miniport bindings. (Skeleton: completed by the bindings work.)
#![no_std]
#![allow(non_camel_case_types, non_snake_case)]

use core::ffi::c_void;

pub type NDIS_STATUS = i32;
pub type NDIS_HANDLE = *mut c_void;
pub const NDIS_STATUS_SUCCESS: NDIS_STATUS = 0;
pub const NDIS_STATUS_FAILURE: NDIS_STATUS = 0xC000_0001_u32 as i32;

#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct NDIS_OBJECT_HEADER {
    pub Type: u8,
    pub Revision: u8,
    pub Size: u16,
}

#[cfg_attr(windows, link(name = "ndis.sys", kind = "raw-dylib", modifiers = "+verbatim"))]
unsafe extern "system" {
    pub fn NdisMDeregisterMiniportDriver(DriverHandle: NDIS_HANDLE);
}
