//! Kernel constants and enumerations used alongside NDIS (`wdm.h`, `ntddk.h`, `dpfilter.h`).

use crate::basic::KIRQL;

// IRQLs (x64, `wdm.h`).
pub const PASSIVE_LEVEL: KIRQL = 0;
pub const LOW_LEVEL: KIRQL = 0;
pub const APC_LEVEL: KIRQL = 1;
pub const DISPATCH_LEVEL: KIRQL = 2;
pub const CMCI_LEVEL: KIRQL = 5;
pub const CLOCK_LEVEL: KIRQL = 13;
pub const IPI_LEVEL: KIRQL = 14;
pub const DRS_LEVEL: KIRQL = 14;
pub const POWER_LEVEL: KIRQL = 14;
pub const PROFILE_LEVEL: KIRQL = 15;
pub const HIGH_LEVEL: KIRQL = 15;

/// `POOL_FLAGS` for `ExAllocatePool2` (a `ULONG64` bit set).
pub type POOL_FLAGS = u64;
pub const POOL_FLAG_REQUIRED_START: POOL_FLAGS = 0x0000_0000_0000_0001;
pub const POOL_FLAG_USE_QUOTA: POOL_FLAGS = 0x0000_0000_0000_0001;
pub const POOL_FLAG_UNINITIALIZED: POOL_FLAGS = 0x0000_0000_0000_0002;
pub const POOL_FLAG_SESSION: POOL_FLAGS = 0x0000_0000_0000_0004;
pub const POOL_FLAG_CACHE_ALIGNED: POOL_FLAGS = 0x0000_0000_0000_0008;
pub const POOL_FLAG_RAISE_ON_FAILURE: POOL_FLAGS = 0x0000_0000_0000_0020;
pub const POOL_FLAG_NON_PAGED: POOL_FLAGS = 0x0000_0000_0000_0040;
pub const POOL_FLAG_NON_PAGED_EXECUTE: POOL_FLAGS = 0x0000_0000_0000_0080;
pub const POOL_FLAG_PAGED: POOL_FLAGS = 0x0000_0000_0000_0100;

/// `EX_POOL_PRIORITY` (C enum).
pub type EX_POOL_PRIORITY = i32;
pub const LowPoolPriority: EX_POOL_PRIORITY = 0;
pub const LowPoolPrioritySpecialPoolOverrun: EX_POOL_PRIORITY = 8;
pub const LowPoolPrioritySpecialPoolUnderrun: EX_POOL_PRIORITY = 9;
pub const NormalPoolPriority: EX_POOL_PRIORITY = 16;
pub const NormalPoolPrioritySpecialPoolOverrun: EX_POOL_PRIORITY = 24;
pub const NormalPoolPrioritySpecialPoolUnderrun: EX_POOL_PRIORITY = 25;
pub const HighPoolPriority: EX_POOL_PRIORITY = 32;
pub const HighPoolPrioritySpecialPoolOverrun: EX_POOL_PRIORITY = 40;
pub const HighPoolPrioritySpecialPoolUnderrun: EX_POOL_PRIORITY = 41;

/// `KPROCESSOR_MODE` (a `CCHAR`); values from the `MODE` enum.
pub type KPROCESSOR_MODE = i8;
pub const KernelMode: KPROCESSOR_MODE = 0;
pub const UserMode: KPROCESSOR_MODE = 1;

/// `MEMORY_CACHING_TYPE` (C enum).
pub type MEMORY_CACHING_TYPE = i32;
pub const MmNotMapped: MEMORY_CACHING_TYPE = -1;
pub const MmNonCached: MEMORY_CACHING_TYPE = 0;
pub const MmCached: MEMORY_CACHING_TYPE = 1;
pub const MmWriteCombined: MEMORY_CACHING_TYPE = 2;
pub const MmHardwareCoherentCached: MEMORY_CACHING_TYPE = 3;
pub const MmNonCachedUnordered: MEMORY_CACHING_TYPE = 4;
pub const MmUSWCCached: MEMORY_CACHING_TYPE = 5;
pub const MmMaximumCacheType: MEMORY_CACHING_TYPE = 6;

/// `MM_PAGE_PRIORITY`, passed as the `ULONG Priority` of `MmMapLockedPagesSpecifyCache`
/// (optionally OR-ed with the `MdlMapping*` flags).
pub type MM_PAGE_PRIORITY = u32;
pub const LowPagePriority: MM_PAGE_PRIORITY = 0;
pub const NormalPagePriority: MM_PAGE_PRIORITY = 16;
pub const HighPagePriority: MM_PAGE_PRIORITY = 32;
pub const MdlMappingWithGuardPtes: u32 = 0x2000_0000;
pub const MdlMappingNoExecute: u32 = 0x4000_0000;
pub const MdlMappingNoWrite: u32 = 0x8000_0000;

// Debug print filtering (`dpfilter.h`): component IDs and levels for `DbgPrintEx`.
pub type DPFLTR_TYPE = u32;
pub const DPFLTR_IHVDRIVER_ID: DPFLTR_TYPE = 77;
pub const DPFLTR_IHVVIDEO_ID: DPFLTR_TYPE = 78;
pub const DPFLTR_IHVAUDIO_ID: DPFLTR_TYPE = 79;
pub const DPFLTR_IHVNETWORK_ID: DPFLTR_TYPE = 80;
pub const DPFLTR_IHVSTREAMING_ID: DPFLTR_TYPE = 81;
pub const DPFLTR_IHVBUS_ID: DPFLTR_TYPE = 82;
pub const DPFLTR_ERROR_LEVEL: u32 = 0;
pub const DPFLTR_WARNING_LEVEL: u32 = 1;
pub const DPFLTR_TRACE_LEVEL: u32 = 2;
pub const DPFLTR_INFO_LEVEL: u32 = 3;
pub const DPFLTR_MASK: u32 = 0x8000_0000;

// ---------------------------------------------------------------------------------------------
// DPC objects (`wdm.h`)
// ---------------------------------------------------------------------------------------------
/// `KDEFERRED_ROUTINE`: a DPC routine (runs at DISPATCH_LEVEL).
pub type KDEFERRED_ROUTINE = unsafe extern "system" fn(
    Dpc: *mut KDPC,
    DeferredContext: *mut core::ffi::c_void,
    SystemArgument1: *mut core::ffi::c_void,
    SystemArgument2: *mut core::ffi::c_void,
);
/// `PKDEFERRED_ROUTINE` (C pointer typedef).
pub type PKDEFERRED_ROUTINE = Option<KDEFERRED_ROUTINE>;

/// `KDPC` (x64). Initialise only with `KeInitializeDpc`; the fields belong to the kernel.
///
/// The first member is the C union `{ ULONG TargetInfoAsUlong; struct { UCHAR Type; UCHAR
/// Importance; volatile USHORT Number; }; }`, kept as `TargetInfoAsUlong`.
#[repr(C)]
#[derive(Debug)]
pub struct KDPC {
    pub TargetInfoAsUlong: u32,
    /// `SINGLE_LIST_ENTRY` (one pointer).
    pub DpcListEntry: *mut core::ffi::c_void,
    /// `KAFFINITY` (`ULONG_PTR`).
    pub ProcessorHistory: usize,
    pub DeferredRoutine: PKDEFERRED_ROUTINE,
    pub DeferredContext: *mut core::ffi::c_void,
    pub SystemArgument1: *mut core::ffi::c_void,
    pub SystemArgument2: *mut core::ffi::c_void,
    pub DpcData: *mut core::ffi::c_void,
}
pub type PKDPC = *mut KDPC;
pub type PRKDPC = *mut KDPC;
crate::zeroed_default!(KDPC);
