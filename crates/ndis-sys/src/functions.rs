//! Imported functions of `ndis.sys` and `ntoskrnl.exe`.
//!
//! Every import is declared exactly once. On Windows targets the blocks link with `raw-dylib`
//! and `+verbatim`, so the import table names the modules exactly `ndis.sys` and
//! `ntoskrnl.exe` and no import library is needed. On other targets (the Linux host that runs
//! ndis-host and the tests) the declarations exist but nothing may call them.
//!
//! Signatures follow the WDK headers (`ndis.h`, `ndis/nblapi.h`, `ndis/mdlapi.h`, `wdm.h`) and
//! the DDI reference pages. C `UINT`/`ULONG` are `u32`, `SIZE_T`/`ULONG_PTR` are `usize`, C
//! `BOOLEAN` is `u8`, and a by-value `LARGE_INTEGER` is an `i64` (see [`crate::LARGE_INTEGER`]).
//!
//! `NdisAllocateSpinLock`, `NdisFreeSpinLock`, `Ndis[Dpr]AcquireSpinLock`,
//! `Ndis[Dpr]ReleaseSpinLock` and `NdisGetCurrentSystemTime` are macros or inline functions
//! over `Ke*` routines in the current WDK headers; ndis.sys still exports them as functions for
//! drivers built against older headers, and these declarations import those exports.

use core::ffi::{c_char, c_int, c_void};

use crate::basic::{
    BOOLEAN, DRIVER_OBJECT, LARGE_INTEGER, MDL, NDIS_ERROR_CODE, NDIS_HANDLE, NDIS_PORT_NUMBER, NDIS_SPIN_LOCK,
    NDIS_STATUS, NDIS_STRING, UNICODE_STRING,
};
use crate::config::{NDIS_CONFIGURATION_OBJECT, NDIS_CONFIGURATION_PARAMETER, NDIS_PARAMETER_TYPE};
use crate::kernel::{EX_POOL_PRIORITY, KDPC, KPROCESSOR_MODE, MEMORY_CACHING_TYPE, PKDEFERRED_ROUTINE, POOL_FLAGS};
use crate::miniport::{NDIS_MINIPORT_ADAPTER_ATTRIBUTES, NDIS_MINIPORT_DRIVER_CHARACTERISTICS, NDIS_STATUS_INDICATION};
use crate::nbl::{NET_BUFFER, NET_BUFFER_LIST, NET_BUFFER_LIST_POOL_PARAMETERS, NET_BUFFER_POOL_PARAMETERS};
use crate::oid::NDIS_OID_REQUEST;
use crate::timer::{NDIS_IO_WORKITEM_ROUTINE, NDIS_TIMER_CHARACTERISTICS};

// ---------------------------------------------------------------------------------------------
// ndis.sys
// ---------------------------------------------------------------------------------------------
#[cfg_attr(windows, link(name = "ndis.sys", kind = "raw-dylib", modifiers = "+verbatim"))]
unsafe extern "system" {
    // Driver registration and adapter attributes.
    pub fn NdisMRegisterMiniportDriver(
        DriverObject: *mut DRIVER_OBJECT,
        RegistryPath: *mut UNICODE_STRING,
        MiniportDriverContext: NDIS_HANDLE,
        MiniportDriverCharacteristics: *mut NDIS_MINIPORT_DRIVER_CHARACTERISTICS,
        NdisMiniportDriverHandle: *mut NDIS_HANDLE,
    ) -> NDIS_STATUS;
    pub fn NdisMDeregisterMiniportDriver(NdisMiniportDriverHandle: NDIS_HANDLE);
    pub fn NdisMSetMiniportAttributes(
        NdisMiniportHandle: NDIS_HANDLE,
        MiniportAttributes: *mut NDIS_MINIPORT_ADAPTER_ATTRIBUTES,
    ) -> NDIS_STATUS;

    // Completions and indications.
    pub fn NdisMPauseComplete(MiniportAdapterHandle: NDIS_HANDLE);
    pub fn NdisMRestartComplete(MiniportAdapterHandle: NDIS_HANDLE, Status: NDIS_STATUS);
    pub fn NdisMResetComplete(MiniportAdapterHandle: NDIS_HANDLE, Status: NDIS_STATUS, AddressingReset: BOOLEAN);
    pub fn NdisMOidRequestComplete(
        MiniportAdapterHandle: NDIS_HANDLE,
        OidRequest: *mut NDIS_OID_REQUEST,
        Status: NDIS_STATUS,
    );
    pub fn NdisMSendNetBufferListsComplete(
        MiniportAdapterHandle: NDIS_HANDLE,
        NetBufferList: *mut NET_BUFFER_LIST,
        SendCompleteFlags: u32,
    );
    pub fn NdisMIndicateReceiveNetBufferLists(
        MiniportAdapterHandle: NDIS_HANDLE,
        NetBufferList: *mut NET_BUFFER_LIST,
        PortNumber: NDIS_PORT_NUMBER,
        NumberOfNetBufferLists: u32,
        ReceiveFlags: u32,
    );
    pub fn NdisMIndicateStatusEx(MiniportAdapterHandle: NDIS_HANDLE, StatusIndication: *mut NDIS_STATUS_INDICATION);

    // Memory.
    pub fn NdisAllocateMemoryWithTagPriority(
        NdisHandle: NDIS_HANDLE,
        Length: u32,
        Tag: u32,
        Priority: EX_POOL_PRIORITY,
    ) -> *mut c_void;
    pub fn NdisFreeMemory(VirtualAddress: *mut c_void, Length: u32, MemoryFlags: u32);

    // NET_BUFFER_LIST / NET_BUFFER pools.
    pub fn NdisAllocateNetBufferListPool(
        NdisHandle: NDIS_HANDLE,
        Parameters: *const NET_BUFFER_LIST_POOL_PARAMETERS,
    ) -> NDIS_HANDLE;
    pub fn NdisFreeNetBufferListPool(PoolHandle: NDIS_HANDLE);
    pub fn NdisAllocateNetBufferAndNetBufferList(
        PoolHandle: NDIS_HANDLE,
        ContextSize: u16,
        ContextBackFill: u16,
        MdlChain: *mut MDL,
        DataOffset: u32,
        DataLength: usize,
    ) -> *mut NET_BUFFER_LIST;
    pub fn NdisAllocateNetBufferList(
        PoolHandle: NDIS_HANDLE,
        ContextSize: u16,
        ContextBackFill: u16,
    ) -> *mut NET_BUFFER_LIST;
    pub fn NdisFreeNetBufferList(NetBufferList: *mut NET_BUFFER_LIST);
    pub fn NdisAllocateNetBufferPool(
        NdisHandle: NDIS_HANDLE,
        Parameters: *const NET_BUFFER_POOL_PARAMETERS,
    ) -> NDIS_HANDLE;
    pub fn NdisFreeNetBufferPool(PoolHandle: NDIS_HANDLE);
    pub fn NdisAllocateNetBuffer(
        PoolHandle: NDIS_HANDLE,
        MdlChain: *mut MDL,
        DataOffset: u32,
        DataLength: usize,
    ) -> *mut NET_BUFFER;
    pub fn NdisFreeNetBuffer(NetBuffer: *mut NET_BUFFER);
    pub fn NdisAllocateMdl(NdisHandle: NDIS_HANDLE, VirtualAddress: *mut c_void, Length: u32) -> *mut MDL;
    pub fn NdisFreeMdl(Mdl: *mut MDL);
    pub fn NdisGetDataBuffer(
        NetBuffer: *mut NET_BUFFER,
        BytesNeeded: u32,
        Storage: *mut c_void,
        AlignMultiple: u32,
        AlignOffset: u32,
    ) -> *mut c_void;

    // Work items and timers.
    pub fn NdisAllocateIoWorkItem(NdisObjectHandle: NDIS_HANDLE) -> NDIS_HANDLE;
    pub fn NdisQueueIoWorkItem(
        NdisIoWorkItemHandle: NDIS_HANDLE,
        Routine: Option<NDIS_IO_WORKITEM_ROUTINE>,
        WorkItemContext: *mut c_void,
    );
    pub fn NdisFreeIoWorkItem(NdisIoWorkItemHandle: NDIS_HANDLE);
    pub fn NdisAllocateTimerObject(
        NdisHandle: NDIS_HANDLE,
        TimerCharacteristics: *mut NDIS_TIMER_CHARACTERISTICS,
        pTimerObject: *mut NDIS_HANDLE,
    ) -> NDIS_STATUS;
    /// `DueTime` is a by-value `LARGE_INTEGER` (negative: relative, in 100 ns units).
    pub fn NdisSetTimerObject(
        TimerObject: NDIS_HANDLE,
        DueTime: LARGE_INTEGER,
        MillisecondsPeriod: i32,
        FunctionContext: *mut c_void,
    ) -> BOOLEAN;
    pub fn NdisCancelTimerObject(TimerObject: NDIS_HANDLE) -> BOOLEAN;
    pub fn NdisFreeTimerObject(TimerObject: NDIS_HANDLE);

    // Spin locks (exported compatibility functions; see the module documentation).
    pub fn NdisAllocateSpinLock(SpinLock: *mut NDIS_SPIN_LOCK);
    pub fn NdisFreeSpinLock(SpinLock: *mut NDIS_SPIN_LOCK);
    pub fn NdisAcquireSpinLock(SpinLock: *mut NDIS_SPIN_LOCK);
    pub fn NdisReleaseSpinLock(SpinLock: *mut NDIS_SPIN_LOCK);
    pub fn NdisDprAcquireSpinLock(SpinLock: *mut NDIS_SPIN_LOCK);
    pub fn NdisDprReleaseSpinLock(SpinLock: *mut NDIS_SPIN_LOCK);

    // Configuration.
    pub fn NdisOpenConfigurationEx(
        ConfigObject: *mut NDIS_CONFIGURATION_OBJECT,
        ConfigurationHandle: *mut NDIS_HANDLE,
    ) -> NDIS_STATUS;
    pub fn NdisCloseConfiguration(ConfigurationHandle: NDIS_HANDLE);
    pub fn NdisReadConfiguration(
        Status: *mut NDIS_STATUS,
        ParameterValue: *mut *mut NDIS_CONFIGURATION_PARAMETER,
        ConfigurationHandle: NDIS_HANDLE,
        Keyword: *mut NDIS_STRING,
        ParameterType: NDIS_PARAMETER_TYPE,
    );
    pub fn NdisWriteConfiguration(
        Status: *mut NDIS_STATUS,
        ConfigurationHandle: NDIS_HANDLE,
        Keyword: *mut NDIS_STRING,
        ParameterValue: *mut NDIS_CONFIGURATION_PARAMETER,
    );
    pub fn NdisReadNetworkAddress(
        Status: *mut NDIS_STATUS,
        NetworkAddress: *mut *mut c_void,
        NetworkAddressLength: *mut u32,
        ConfigurationHandle: NDIS_HANDLE,
    );

    // Miscellaneous.
    pub fn NdisGetCurrentSystemTime(pSystemTime: *mut LARGE_INTEGER);
    pub fn NdisMSleep(MicrosecondsToSleep: u32);
    pub fn NdisGetVersion() -> u32;
}

#[cfg_attr(windows, link(name = "ndis.sys", kind = "raw-dylib", modifiers = "+verbatim"))]
unsafe extern "C" {
    /// `NdisWriteErrorLogEntry` (`__cdecl`, variadic): the variadic arguments are
    /// `NumberOfErrorValues` `ULONG`s.
    pub fn NdisWriteErrorLogEntry(
        NdisAdapterHandle: NDIS_HANDLE,
        ErrorCode: NDIS_ERROR_CODE,
        NumberOfErrorValues: u32,
        ...
    );
}

// ---------------------------------------------------------------------------------------------
// ntoskrnl.exe
// ---------------------------------------------------------------------------------------------
#[cfg_attr(windows, link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim"))]
unsafe extern "system" {
    /// Windows 10 2004 and later.
    pub fn ExAllocatePool2(Flags: POOL_FLAGS, NumberOfBytes: usize, Tag: u32) -> *mut c_void;
    pub fn ExFreePoolWithTag(P: *mut c_void, Tag: u32);
    pub fn ExFreePool(P: *mut c_void);
    pub fn KeBugCheckEx(
        BugCheckCode: u32,
        BugCheckParameter1: usize,
        BugCheckParameter2: usize,
        BugCheckParameter3: usize,
        BugCheckParameter4: usize,
    ) -> !;
    pub fn KeFlushQueuedDpcs();
    /// Returns the counter as a by-value `LARGE_INTEGER`.
    pub fn KeQueryPerformanceCounter(PerformanceFrequency: *mut LARGE_INTEGER) -> LARGE_INTEGER;
    /// `Priority` is an `MM_PAGE_PRIORITY` optionally OR-ed with `MdlMapping*` flags.
    pub fn MmMapLockedPagesSpecifyCache(
        MemoryDescriptorList: *mut MDL,
        AccessMode: KPROCESSOR_MODE,
        CacheType: MEMORY_CACHING_TYPE,
        RequestedAddress: *mut c_void,
        BugCheckOnFailure: u32,
        Priority: u32,
    ) -> *mut c_void;
    pub fn RtlRandomEx(Seed: *mut u32) -> u32;
    pub fn KeInitializeDpc(Dpc: *mut KDPC, DeferredRoutine: PKDEFERRED_ROUTINE, DeferredContext: *mut c_void);
    pub fn KeInsertQueueDpc(Dpc: *mut KDPC, SystemArgument1: *mut c_void, SystemArgument2: *mut c_void) -> BOOLEAN;
    pub fn KeRemoveQueueDpc(Dpc: *mut KDPC) -> BOOLEAN;
}

#[cfg_attr(windows, link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim"))]
unsafe extern "C" {
    pub fn DbgPrint(Format: *const c_char, ...) -> u32;
    pub fn DbgPrintEx(ComponentId: u32, Level: u32, Format: *const c_char, ...) -> u32;
    // The C runtime memory routines ntoskrnl.exe exports. LLVM lowers copies and fills to
    // these symbols on the msvc target, which has no C runtime in a kernel image.
    pub fn memcpy(Destination: *mut c_void, Source: *const c_void, Count: usize) -> *mut c_void;
    pub fn memmove(Destination: *mut c_void, Source: *const c_void, Count: usize) -> *mut c_void;
    pub fn memset(Destination: *mut c_void, Value: c_int, Count: usize) -> *mut c_void;
    pub fn memcmp(Buffer1: *const c_void, Buffer2: *const c_void, Count: usize) -> c_int;
}
