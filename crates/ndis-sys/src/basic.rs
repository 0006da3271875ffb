//! Scalar typedefs and basic structures shared by NDIS and the kernel (`ntdef.h`, `wdm.h`,
//! `ifdef.h`, `guiddef.h`).

use core::ffi::c_void;

use crate::zeroed_default;

/// `NDIS_STATUS` (an `NTSTATUS` in NDIS 6).
pub type NDIS_STATUS = i32;
pub type PNDIS_STATUS = *mut NDIS_STATUS;
pub type NTSTATUS = i32;
pub type NDIS_HANDLE = *mut c_void;
pub type PNDIS_HANDLE = *mut NDIS_HANDLE;
pub type NDIS_OID = u32;
pub type PNDIS_OID = *mut NDIS_OID;
pub type NDIS_PORT_NUMBER = u32;
pub type NDIS_ERROR_CODE = u32;
pub type KIRQL = u8;
pub type KSPIN_LOCK = usize;
pub type BOOLEAN = u8;
pub type NET_IFINDEX = u32;
pub type NET_IFTYPE = u16;
pub type NDIS_NIC_SWITCH_ID = u32;
pub type NDIS_NIC_SWITCH_VPORT_ID = u32;
/// `LARGE_INTEGER` as a plain 64-bit integer.
///
/// The C type is a union of `QuadPart` and `{LowPart, HighPart}`, 8 bytes with 8-byte
/// alignment. On x64 a by-value `LARGE_INTEGER` parameter or return value travels exactly like
/// an `i64` (one integer register), so functions such as `NdisSetTimerObject` and
/// `KeQueryPerformanceCounter` take and return `i64`.
pub type LARGE_INTEGER = i64;
pub type PLARGE_INTEGER = *mut LARGE_INTEGER;
/// `NDIS_PHYSICAL_ADDRESS` (`PHYSICAL_ADDRESS`, a `LARGE_INTEGER`).
pub type NDIS_PHYSICAL_ADDRESS = i64;
pub type PHYSICAL_ADDRESS = i64;

pub const TRUE: BOOLEAN = 1;
pub const FALSE: BOOLEAN = 0;

/// `NDIS_DEFAULT_PORT_NUMBER`.
pub const NDIS_DEFAULT_PORT_NUMBER: NDIS_PORT_NUMBER = 0;

/// `UNICODE_STRING`. `Length` and `MaximumLength` are in bytes.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct UNICODE_STRING {
    pub Length: u16,
    pub MaximumLength: u16,
    pub Buffer: *mut u16,
}
pub type PUNICODE_STRING = *mut UNICODE_STRING;
pub type NDIS_STRING = UNICODE_STRING;
pub type PNDIS_STRING = *mut NDIS_STRING;

/// `LIST_ENTRY`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LIST_ENTRY {
    pub Flink: *mut LIST_ENTRY,
    pub Blink: *mut LIST_ENTRY,
}
pub type PLIST_ENTRY = *mut LIST_ENTRY;

/// `NDIS_SPIN_LOCK`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct NDIS_SPIN_LOCK {
    pub SpinLock: KSPIN_LOCK,
    pub OldIrql: KIRQL,
}
pub type PNDIS_SPIN_LOCK = *mut NDIS_SPIN_LOCK;

/// `NET_LUID` (`NET_LUID_LH`), kept as its 64-bit `Value` member.
///
/// Bits 24..48 are `NetLuidIndex`, bits 48..64 are `IfType` (see the `NET_LUID_*` helpers).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NET_LUID {
    pub Value: u64,
}
pub type PNET_LUID = *mut NET_LUID;

impl NET_LUID {
    /// The `Info.NetLuidIndex` bit field (24 bits at bit 24).
    #[must_use]
    pub const fn NetLuidIndex(self) -> u32 {
        ((self.Value >> 24) & 0x00FF_FFFF) as u32
    }
    /// The `Info.IfType` bit field (16 bits at bit 48).
    #[must_use]
    pub const fn IfType(self) -> u16 {
        (self.Value >> 48) as u16
    }
}

/// `GUID`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GUID {
    pub Data1: u32,
    pub Data2: u16,
    pub Data3: u16,
    pub Data4: [u8; 8],
}

/// `BINARY_DATA` (used by `NDIS_CONFIGURATION_PARAMETER`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct BINARY_DATA {
    pub Length: u16,
    pub Buffer: *mut c_void,
}

/// `MDL`, the memory descriptor list header (`wdm.h`).
///
/// The page-frame array that follows the header in memory is not part of this type.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct MDL {
    pub Next: *mut MDL,
    pub Size: i16,
    pub MdlFlags: i16,
    pub Process: *mut EPROCESS,
    pub MappedSystemVa: *mut c_void,
    pub StartVa: *mut c_void,
    pub ByteCount: u32,
    pub ByteOffset: u32,
}
pub type PMDL = *mut MDL;

// MDL flags (`wdm.h`), typed like `MDL::MdlFlags` (CSHORT).
pub const MDL_MAPPED_TO_SYSTEM_VA: i16 = 0x0001;
pub const MDL_PAGES_LOCKED: i16 = 0x0002;
pub const MDL_SOURCE_IS_NONPAGED_POOL: i16 = 0x0004;
pub const MDL_ALLOCATED_FIXED_SIZE: i16 = 0x0008;
pub const MDL_PARTIAL: i16 = 0x0010;
pub const MDL_PARTIAL_HAS_BEEN_MAPPED: i16 = 0x0020;
pub const MDL_IO_PAGE_READ: i16 = 0x0040;
pub const MDL_WRITE_OPERATION: i16 = 0x0080;
pub const MDL_LOCKED_PAGE_TABLES: i16 = 0x0100;
pub const MDL_PARENT_MAPPED_SYSTEM_VA: i16 = MDL_LOCKED_PAGE_TABLES;
pub const MDL_FREE_EXTRA_PTES: i16 = 0x0200;
pub const MDL_DESCRIBES_AWE: i16 = 0x0400;
pub const MDL_IO_SPACE: i16 = 0x0800;
pub const MDL_NETWORK_HEADER: i16 = 0x1000;
pub const MDL_MAPPING_CAN_FAIL: i16 = 0x2000;
pub const MDL_PAGE_CONTENTS_INVARIANT: i16 = 0x4000;
pub const MDL_ALLOCATED_MUST_SUCCEED: i16 = MDL_PAGE_CONTENTS_INVARIANT;
pub const MDL_INTERNAL: i16 = 0x8000_u16 as i16;

/// Opaque `DRIVER_OBJECT` (only ever handled by pointer).
#[repr(C)]
pub struct DRIVER_OBJECT {
    _opaque: [u8; 0],
}
pub type PDRIVER_OBJECT = *mut DRIVER_OBJECT;

/// Opaque `DEVICE_OBJECT` (only ever handled by pointer).
#[repr(C)]
pub struct DEVICE_OBJECT {
    _opaque: [u8; 0],
}
pub type PDEVICE_OBJECT = *mut DEVICE_OBJECT;

/// Opaque `EPROCESS` (only ever handled by pointer).
#[repr(C)]
pub struct EPROCESS {
    _opaque: [u8; 0],
}
pub type PEPROCESS = *mut EPROCESS;

zeroed_default!(UNICODE_STRING, LIST_ENTRY, BINARY_DATA, MDL);
