//! Compile-time x64 layout assertions.
//!
//! Every expected number below comes from a source that is independent of this crate, named in
//! the comment above it:
//!
//! * `ntdiff/headers@77c4a21a379edec291c939d40092d928e6d29bb6:Win10_21H1_20180/x64/System32/ndis.sys/ALL_SORTED.h`
//!   (abbreviated "ntdiff x64 ndis.sys") is a dump of the type information in the public PDB of
//!   the x64 `ndis.sys` of Windows 10 build 20180, with the offset of every member and the size
//!   of every type as the compiler laid them out.
//! * Where ndis.sys itself is built with different options than a miniport (the two private
//!   `NetBufferListInfo` slots of `NDIS_WRAPPER`) or where the current WDK added members after
//!   that build (NDIS 6.87 pool `Flags`), the number is derived from the published header and
//!   the arithmetic is written next to it. `docs/bindings.md` lists which is which.
//!
//! The runtime tests in `tests/windows_sys.rs` additionally compare the layouts that exist in
//! the `windows-sys` crate (generated from Microsoft's metadata) field by field.
#![cfg(target_pointer_width = "64")]

use core::mem::{align_of, offset_of, size_of};

#[allow(clippy::wildcard_imports)] // the assertions name most of the crate
use crate::*;

/// Asserts size, alignment and field offsets of a type at compile time.
macro_rules! layout {
    ($t:ty, size = $size:expr, align = $align:expr $(, $field:ident = $off:expr)* $(,)?) => {
        const _: () = {
            assert!(size_of::<$t>() == $size, concat!("size of ", stringify!($t)));
            assert!(align_of::<$t>() == $align, concat!("alignment of ", stringify!($t)));
            $(
                assert!(
                    offset_of!($t, $field) == $off,
                    concat!("offset of ", stringify!($t), "::", stringify!($field))
                );
            )*
        };
    };
}

// --- basic ------------------------------------------------------------------------------------

// Source: ntdiff x64 ndis.sys (`_NDIS_OBJECT_HEADER`: Type 0x0, Revision 0x1, Size 0x2, size 0x4);
// also `C_ASSERT(sizeof(NDIS_OBJECT_HEADER) == 4)` in microsoft/wdkmetadata@a4041452905eea802122861de53280a94bdd6a1a:generation/WDK/IdlHeaders/shared/ndis/objectheader.h
layout!(NDIS_OBJECT_HEADER, size = 0x4, align = 2, Type = 0x0, Revision = 0x1, Size = 0x2);

// Source: ntdiff x64 ndis.sys (`_LIST_ENTRY`: Flink 0x0, Blink 0x8, size 0x10)
layout!(LIST_ENTRY, size = 0x10, align = 8, Flink = 0x0, Blink = 0x8);

// Source: ntdiff x64 ndis.sys (`_NDIS_FILTER_DRIVER_CHARACTERISTICS`: FriendlyName 0x10,
// UniqueName 0x20, ServiceName 0x30 → one UNICODE_STRING is 0x10; `_NDIS_CONFIGURATION_PARAMETER`
// union of UNICODE_STRING/BINARY_DATA is 0x10). Buffer offset 0x8 follows from two USHORTs and
// pointer alignment (wdm.h `_UNICODE_STRING`); also compared with windows-sys in tests.
layout!(UNICODE_STRING, size = 0x10, align = 8, Length = 0x0, MaximumLength = 0x2, Buffer = 0x8);
layout!(BINARY_DATA, size = 0x10, align = 8, Length = 0x0, Buffer = 0x8);

// Source: ntdiff x64 ndis.sys (`_NDIS_SPIN_LOCK`: SpinLock 0x0, OldIrql 0x8, size 0x10)
layout!(NDIS_SPIN_LOCK, size = 0x10, align = 8, SpinLock = 0x0, OldIrql = 0x8);

// Source: ntdiff x64 ndis.sys (`_NET_LUID_LH` is a union of ULONG64 Value and a 64-bit bit
// field; `_NDIS_MINIPORT_INIT_PARAMETERS` holds it at 0x28 followed by a pointer at 0x30 → 8 bytes)
layout!(NET_LUID, size = 0x8, align = 8, Value = 0x0);

// Source: ntdiff x64 ndis.sys (`_NDIS_STATUS_INDICATION`: Guid 0x3c, NdisReserved 0x50 → GUID is
// 0x14 - 0x0 = 0x10 bytes wide at 4-byte alignment); member offsets from guiddef.h (ULONG,
// USHORT, USHORT, UCHAR[8]); also compared with windows-sys in tests.
layout!(GUID, size = 0x10, align = 4, Data1 = 0x0, Data2 = 0x4, Data3 = 0x6, Data4 = 0x8);

// Source: ntdiff x64 ndis.sys (`_MDL`: Next 0x0, Size 0x8, MdlFlags 0xa, Process 0x10,
// MappedSystemVa 0x18, StartVa 0x20, ByteCount 0x28, ByteOffset 0x2c, size 0x30; the kernel's
// private AllocationProcessorNumber/Reserved at 0xc/0xe are padding in the public wdm.h)
layout!(
    MDL,
    size = 0x30,
    align = 8,
    Next = 0x0,
    Size = 0x8,
    MdlFlags = 0xa,
    Process = 0x10,
    MappedSystemVa = 0x18,
    StartVa = 0x20,
    ByteCount = 0x28,
    ByteOffset = 0x2c,
);

// Source: ntdiff x64 ndis.sys (`_NDIS_TIMER`: KTIMER Timer 0x0, KDPC Dpc 0x40, size 0x80 → KDPC is
// 0x40 bytes). Member offsets from wdm.h `_KDPC` (ULONG union, then six pointers and
// SINGLE_LIST_ENTRY/KAFFINITY at pointer alignment); also compared with windows-sys in tests.
layout!(
    KDPC,
    size = 0x40,
    align = 8,
    TargetInfoAsUlong = 0x0,
    DpcListEntry = 0x8,
    ProcessorHistory = 0x10,
    DeferredRoutine = 0x18,
    DeferredContext = 0x20,
    SystemArgument1 = 0x28,
    SystemArgument2 = 0x30,
    DpcData = 0x38,
);

// --- NET_BUFFER / NET_BUFFER_LIST ------------------------------------------------------------

// Source: ntdiff x64 ndis.sys (`_NET_BUFFER`: Next 0x0, CurrentMdl 0x8, CurrentMdlOffset 0x10,
// DataLength 0x18, MdlChain 0x20, DataOffset 0x28, ChecksumBias 0x30, Reserved 0x32,
// NdisPoolHandle 0x38, NdisReserved 0x40, ProtocolReserved 0x50, MiniportReserved 0x80,
// DataPhysicalAddress 0xa0, SharedMemoryInfo 0xa8, size 0xb0)
layout!(
    NET_BUFFER,
    size = 0xb0,
    align = 16,
    Next = 0x0,
    CurrentMdl = 0x8,
    CurrentMdlOffset = 0x10,
    DataLength = 0x18,
    MdlChain = 0x20,
    DataOffset = 0x28,
    ChecksumBias = 0x30,
    Reserved = 0x32,
    NdisPoolHandle = 0x38,
    NdisReserved = 0x40,
    ProtocolReserved = 0x50,
    MiniportReserved = 0x80,
    DataPhysicalAddress = 0xa0,
    SharedMemoryInfo = 0xa8,
);

// Source: ntdiff x64 ndis.sys (`_NET_BUFFER_LIST`: Next 0x0, FirstNetBuffer 0x8, Context 0x10,
// ParentNetBufferList 0x18, NdisPoolHandle 0x20, NdisReserved 0x30, ProtocolReserved 0x40,
// MiniportReserved 0x60, Scratch 0x70, SourceHandle 0x78, NblFlags 0x80, ChildRefCount 0x84,
// Flags 0x88, Status 0x8c, NetBufferListInfo 0x90; size 0x180 with 29 slots).
// Size: ndis.sys is built with NDIS_WRAPPER (29 slots). A miniport built for NDIS 6.80+ on x64
// sees MaxNetBufferListInfo = 27 (microsoft/wdkmetadata@a4041452905eea802122861de53280a94bdd6a1a:
// generation/WDK/IdlHeaders/km/ndis/nblinfo.h: slots 0..=26 with NetBufferListInfoReserved3 = 26
// under NDIS_SUPPORT_NDIS680 and _WIN64, Reserved1/2 only when NDIS_WRAPPER == 1), so its size is
// 0x90 + 27 * 8 = 0x168, rounded up to the 16-byte alignment = 0x170. Header-derived size.
layout!(
    NET_BUFFER_LIST,
    size = 0x170,
    align = 16,
    Next = 0x0,
    FirstNetBuffer = 0x8,
    Context = 0x10,
    ParentNetBufferList = 0x18,
    NdisPoolHandle = 0x20,
    NdisReserved = 0x30,
    ProtocolReserved = 0x40,
    MiniportReserved = 0x60,
    Scratch = 0x70,
    SourceHandle = 0x78,
    NblFlags = 0x80,
    ChildRefCount = 0x84,
    Flags = 0x88,
    Status = 0x8c,
    NetBufferListInfo = 0x90,
);
// Source: ntdiff x64 ndis.sys (`_NDIS_NET_BUFFER_LIST_INFO`: NetBufferListInfoReserved3 = 26,
// NetBufferListInfoReserved1 = 27, NetBufferListInfoReserved2 = 28, MaxNetBufferListInfo = 29 in
// the NDIS_WRAPPER build → 27 for a miniport)
const _: () = assert!(MaxNetBufferListInfo == 29 - 2);
const _: () = assert!(NetBufferListInfoReserved3 as usize == MaxNetBufferListInfo - 1);

// Source: ntdiff x64 ndis.sys (`_NET_BUFFER_LIST_CONTEXT`: Next 0x0, Size 0x8, Offset 0xa,
// ContextData 0x10, size 0x10)
layout!(NET_BUFFER_LIST_CONTEXT, size = 0x10, align = 16, Next = 0x0, Size = 0x8, Offset = 0xa, ContextData = 0x10,);

// Source: ntdiff x64 ndis.sys (`_NET_BUFFER_LIST_POOL_PARAMETERS`: Header 0x0, ProtocolId 0x4,
// fAllocateNetBuffer 0x5, ContextSize 0x6, PoolTag 0x8, DataSize 0xc, size 0x10 — the revision 1
// layout). The NDIS 6.87 header (wdkmetadata km/ndis/nblapi.h) appends ULONG Flags: 0x10 + 4 = 0x14.
layout!(
    NET_BUFFER_LIST_POOL_PARAMETERS,
    size = 0x14,
    align = 4,
    Header = 0x0,
    ProtocolId = 0x4,
    fAllocateNetBuffer = 0x5,
    ContextSize = 0x6,
    PoolTag = 0x8,
    DataSize = 0xc,
    Flags = 0x10,
);
const _: () = assert!(NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1 == 0x10);
const _: () = assert!(NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_2 == 0x14);

// Source: ntdiff x64 ndis.sys (`_NET_BUFFER_POOL_PARAMETERS`: Header 0x0, PoolTag 0x4,
// DataSize 0x8, size 0xc — revision 1). NDIS 6.87 appends ULONG Flags: 0xc + 4 = 0x10.
layout!(NET_BUFFER_POOL_PARAMETERS, size = 0x10, align = 4, Header = 0x0, PoolTag = 0x4, DataSize = 0x8, Flags = 0xc,);
const _: () = assert!(NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_1 == 0xc);
const _: () = assert!(NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_2 == 0x10);

// --- miniport ---------------------------------------------------------------------------------

// Source: ntdiff x64 ndis.sys (`_NDIS_MINIPORT_DRIVER_CHARACTERISTICS`: Header 0x0,
// MajorNdisVersion 0x4 .. MinorDriverVersion 0x7, Flags 0x8, SetOptionsHandler 0x10 ..
// CancelOidRequestHandler 0x80, DirectOidRequestHandler 0x88, CancelDirectOidRequestHandler 0x90,
// SynchronousOidRequestHandler 0x98, size 0xa0)
layout!(
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS,
    size = 0xa0,
    align = 8,
    Header = 0x0,
    MajorNdisVersion = 0x4,
    MinorNdisVersion = 0x5,
    MajorDriverVersion = 0x6,
    MinorDriverVersion = 0x7,
    Flags = 0x8,
    SetOptionsHandler = 0x10,
    InitializeHandlerEx = 0x18,
    HaltHandlerEx = 0x20,
    UnloadHandler = 0x28,
    PauseHandler = 0x30,
    RestartHandler = 0x38,
    OidRequestHandler = 0x40,
    SendNetBufferListsHandler = 0x48,
    ReturnNetBufferListsHandler = 0x50,
    CancelSendHandler = 0x58,
    CheckForHangHandlerEx = 0x60,
    ResetHandlerEx = 0x68,
    DevicePnPEventNotifyHandler = 0x70,
    ShutdownHandlerEx = 0x78,
    CancelOidRequestHandler = 0x80,
    DirectOidRequestHandler = 0x88,
    CancelDirectOidRequestHandler = 0x90,
    SynchronousOidRequestHandler = 0x98,
);
// RTL_SIZEOF_THROUGH_FIELD of CancelOidRequestHandler / CancelDirectOidRequestHandler /
// SynchronousOidRequestHandler with the offsets above: 0x80 + 8, 0x90 + 8, 0x98 + 8.
const _: () = assert!(NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1 == 0x88);
const _: () = assert!(NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2 == 0x98);
const _: () = assert!(NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_3 == 0xa0);

// Source: ntdiff x64 ndis.sys (`_NDIS_MINIPORT_INIT_PARAMETERS`: Header 0x0, Flags 0x4,
// AllocatedResources 0x8, IMDeviceInstanceContext 0x10, MiniportAddDeviceContext 0x18,
// IfIndex 0x20, NetLuid 0x28, DefaultPortAuthStates 0x30, PciDeviceCustomProperties 0x38, size 0x40)
layout!(
    NDIS_MINIPORT_INIT_PARAMETERS,
    size = 0x40,
    align = 8,
    Header = 0x0,
    Flags = 0x4,
    AllocatedResources = 0x8,
    IMDeviceInstanceContext = 0x10,
    MiniportAddDeviceContext = 0x18,
    IfIndex = 0x20,
    NetLuid = 0x28,
    DefaultPortAuthStates = 0x30,
    PciDeviceCustomProperties = 0x38,
);
const _: () = assert!(NDIS_SIZEOF_MINIPORT_INIT_PARAMETER_REVISION_1 == 0x40);

// Source: ntdiff x64 ndis.sys (`_NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES`: Header 0x0,
// MiniportAdapterContext 0x8, AttributeFlags 0x10, CheckForHangTimeInSeconds 0x14,
// InterfaceType 0x18, size 0x20)
layout!(
    NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
    size = 0x20,
    align = 8,
    Header = 0x0,
    MiniportAdapterContext = 0x8,
    AttributeFlags = 0x10,
    CheckForHangTimeInSeconds = 0x14,
    InterfaceType = 0x18,
);
// Both revisions end at InterfaceType: 0x18 + 4.
const _: () = assert!(NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1 == 0x1c);
const _: () = assert!(NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_2 == 0x1c);

// Source: ntdiff x64 ndis.sys (`_NDIS_MINIPORT_ADD_DEVICE_REGISTRATION_ATTRIBUTES`: Header 0x0,
// MiniportAddDeviceContext 0x8, Flags 0x10, size 0x18)
layout!(
    NDIS_MINIPORT_ADD_DEVICE_REGISTRATION_ATTRIBUTES,
    size = 0x18,
    align = 8,
    Header = 0x0,
    MiniportAddDeviceContext = 0x8,
    Flags = 0x10,
);
const _: () = assert!(NDIS_SIZEOF_MINIPORT_ADD_DEVICE_REGISTRATION_ATTRIBUTES_REVISION_1 == 0x14);

// Source: ntdiff x64 ndis.sys (`_NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES`, every member offset as
// listed below, size 0xe0)
layout!(
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
    size = 0xe0,
    align = 8,
    Header = 0x0,
    Flags = 0x4,
    MediaType = 0x8,
    PhysicalMediumType = 0xc,
    MtuSize = 0x10,
    MaxXmitLinkSpeed = 0x18,
    XmitLinkSpeed = 0x20,
    MaxRcvLinkSpeed = 0x28,
    RcvLinkSpeed = 0x30,
    MediaConnectState = 0x38,
    MediaDuplexState = 0x3c,
    LookaheadSize = 0x40,
    PowerManagementCapabilities = 0x48,
    MacOptions = 0x50,
    SupportedPacketFilters = 0x54,
    MaxMulticastListSize = 0x58,
    MacAddressLength = 0x5c,
    PermanentMacAddress = 0x5e,
    CurrentMacAddress = 0x7e,
    RecvScaleCapabilities = 0xa0,
    AccessType = 0xa8,
    DirectionType = 0xac,
    ConnectionType = 0xb0,
    IfType = 0xb4,
    IfConnectorPresent = 0xb6,
    SupportedStatistics = 0xb8,
    SupportedPauseFunctions = 0xbc,
    DataBackFillSize = 0xc0,
    ContextBackFillSize = 0xc4,
    SupportedOidList = 0xc8,
    SupportedOidListLength = 0xd0,
    AutoNegotiationFlags = 0xd4,
    PowerManagementCapabilitiesEx = 0xd8,
);
// Through AutoNegotiationFlags (0xd4 + 4) and PowerManagementCapabilitiesEx (0xd8 + 8).
const _: () = assert!(NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1 == 0xd8);
const _: () = assert!(NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2 == 0xe0);

// Source: ntdiff x64 ndis.sys (`_NDIS_MINIPORT_ADAPTER_ATTRIBUTES`: union, size 0xe0 — its
// largest member is GENERAL_ATTRIBUTES; the omitted members are smaller: offload 0x28, native
// 802.11 0x40, hardware assist 0x60, NDK 0x10, packet direct 0xc)
layout!(NDIS_MINIPORT_ADAPTER_ATTRIBUTES, size = 0xe0, align = 8);

// Source: ntdiff x64 ndis.sys (`_NDIS_MINIPORT_PAUSE_PARAMETERS`: Header 0x0, Flags 0x4,
// PauseReason 0x8, size 0xc)
layout!(NDIS_MINIPORT_PAUSE_PARAMETERS, size = 0xc, align = 4, Header = 0x0, Flags = 0x4, PauseReason = 0x8);
const _: () = assert!(NDIS_SIZEOF_MINIPORT_PAUSE_PARAMETERS_REVISION_1 == 0xc);

// Source: ntdiff x64 ndis.sys (`_NDIS_MINIPORT_RESTART_PARAMETERS`: Header 0x0,
// RestartAttributes 0x8, Flags 0x10, size 0x18)
layout!(NDIS_MINIPORT_RESTART_PARAMETERS, size = 0x18, align = 8, Header = 0x0, RestartAttributes = 0x8, Flags = 0x10,);
const _: () = assert!(NDIS_SIZEOF_MINIPORT_RESTART_PARAMETERS_REVISION_1 == 0x14);

// Source: ntdiff x64 ndis.sys (`_NDIS_RESTART_ATTRIBUTES`: Next 0x0, Oid 0x8, DataLength 0xc,
// Data 0x10, 15 bytes of tail padding, size 0x20)
layout!(NDIS_RESTART_ATTRIBUTES, size = 0x20, align = 16, Next = 0x0, Oid = 0x8, DataLength = 0xc, Data = 0x10);

// Source: ntdiff x64 ndis.sys (`_NDIS_RESTART_GENERAL_ATTRIBUTES`, offsets below, size 0x58)
layout!(
    NDIS_RESTART_GENERAL_ATTRIBUTES,
    size = 0x58,
    align = 8,
    Header = 0x0,
    MtuSize = 0x4,
    MaxXmitLinkSpeed = 0x8,
    MaxRcvLinkSpeed = 0x10,
    LookaheadSize = 0x18,
    MacOptions = 0x1c,
    SupportedPacketFilters = 0x20,
    MaxMulticastListSize = 0x24,
    RecvScaleCapabilities = 0x28,
    AccessType = 0x30,
    Flags = 0x34,
    ConnectionType = 0x38,
    SupportedStatistics = 0x3c,
    DataBackFillSize = 0x40,
    ContextBackFillSize = 0x44,
    SupportedOidList = 0x48,
    SupportedOidListLength = 0x50,
    MaxLookaheadSizeAccessed = 0x54,
);
const _: () = assert!(NDIS_SIZEOF_RESTART_GENERAL_ATTRIBUTES_REVISION_1 == 0x54);
const _: () = assert!(NDIS_SIZEOF_RESTART_GENERAL_ATTRIBUTES_REVISION_2 == 0x58);

// Source: ntdiff x64 ndis.sys (`_NDIS_STATUS_INDICATION`: Header 0x0, SourceHandle 0x8,
// PortNumber 0x10, StatusCode 0x14, Flags 0x18, DestinationHandle 0x20, RequestId 0x28,
// StatusBuffer 0x30, StatusBufferSize 0x38, Guid 0x3c, NdisReserved 0x50, size 0x70)
layout!(
    NDIS_STATUS_INDICATION,
    size = 0x70,
    align = 8,
    Header = 0x0,
    SourceHandle = 0x8,
    PortNumber = 0x10,
    StatusCode = 0x14,
    Flags = 0x18,
    DestinationHandle = 0x20,
    RequestId = 0x28,
    StatusBuffer = 0x30,
    StatusBufferSize = 0x38,
    Guid = 0x3c,
    NdisReserved = 0x50,
);
const _: () = assert!(NDIS_SIZEOF_STATUS_INDICATION_REVISION_1 == 0x70);

// Source: ntdiff x64 ndis.sys (`_NET_DEVICE_PNP_EVENT`: Header 0x0, PortNumber 0x4,
// DevicePnPEvent 0x8, InformationBuffer 0x10, InformationBufferLength 0x18, NdisReserved 0x1c
// (16 bytes), size 0x30)
layout!(
    NET_DEVICE_PNP_EVENT,
    size = 0x30,
    align = 8,
    Header = 0x0,
    PortNumber = 0x4,
    DevicePnPEvent = 0x8,
    InformationBuffer = 0x10,
    InformationBufferLength = 0x18,
    NdisReserved = 0x1c,
);
const _: () = assert!(NDIS_SIZEOF_NET_DEVICE_PNP_EVENT_REVISION_1 == 0x2c);

// Source: ntdiff x64 ndis.sys (`_NDIS_RECEIVE_SCALE_CAPABILITIES`: Header 0x0,
// CapabilitiesFlags 0x4, NumberOfInterruptMessages 0x8, NumberOfReceiveQueues 0xc,
// NumberOfIndirectionTableEntries 0x10, size 0x14)
layout!(
    NDIS_RECEIVE_SCALE_CAPABILITIES,
    size = 0x14,
    align = 4,
    Header = 0x0,
    CapabilitiesFlags = 0x4,
    NumberOfInterruptMessages = 0x8,
    NumberOfReceiveQueues = 0xc,
    NumberOfIndirectionTableEntries = 0x10,
);
// Through NumberOfReceiveQueues (0xc + 4) and NumberOfIndirectionTableEntries (0x10 + 2).
const _: () = assert!(NDIS_SIZEOF_RECEIVE_SCALE_CAPABILITIES_REVISION_1 == 0x10);
const _: () = assert!(NDIS_SIZEOF_RECEIVE_SCALE_CAPABILITIES_REVISION_2 == 0x12);
const _: () = assert!(NDIS_SIZEOF_RECEIVE_SCALE_CAPABILITIES_REVISION_3 == 0x12);

// --- OID requests -----------------------------------------------------------------------------

// Source: ntdiff x64 ndis.sys (`_NDIS_OID_REQUEST`: Header 0x0, RequestType 0x4, PortNumber 0x8,
// Timeout 0xc, RequestId 0x10, RequestHandle 0x18, DATA 0x20, NdisReserved 0x48 (128 bytes),
// MiniportReserved 0xc8, SourceReserved 0xd8, SupportedRevision 0xe8, Reserved1 0xe9,
// Reserved2 0xea, SwitchId 0xec, VPortId 0xf0, Flags 0xf4, size 0xf8)
layout!(
    NDIS_OID_REQUEST,
    size = 0xf8,
    align = 8,
    Header = 0x0,
    RequestType = 0x4,
    PortNumber = 0x8,
    Timeout = 0xc,
    RequestId = 0x10,
    RequestHandle = 0x18,
    DATA = 0x20,
    NdisReserved = 0x48,
    MiniportReserved = 0xc8,
    SourceReserved = 0xd8,
    SupportedRevision = 0xe8,
    Reserved1 = 0xe9,
    Reserved2 = 0xea,
    SwitchId = 0xec,
    VPortId = 0xf0,
    Flags = 0xf4,
);
// Through Reserved2 (0xea + 2) and Flags (0xf4 + 4).
const _: () = assert!(NDIS_SIZEOF_OID_REQUEST_REVISION_1 == 0xec);
const _: () = assert!(NDIS_SIZEOF_OID_REQUEST_REVISION_2 == 0xf8);
// Source: ntdiff x64 ndis.sys (`_NDIS_OID_REQUEST::_REQUEST_DATA`: size 0x28)
layout!(NDIS_OID_REQUEST_DATA, size = 0x28, align = 8);
// Source: ntdiff x64 ndis.sys (`_REQUEST_DATA::_QUERY`: Oid 0x0, InformationBuffer 0x8,
// InformationBufferLength 0x10, BytesWritten 0x14, BytesNeeded 0x18, size 0x20)
layout!(
    NDIS_OID_REQUEST_QUERY,
    size = 0x20,
    align = 8,
    Oid = 0x0,
    InformationBuffer = 0x8,
    InformationBufferLength = 0x10,
    BytesWritten = 0x14,
    BytesNeeded = 0x18,
);
// Source: ntdiff x64 ndis.sys (`_REQUEST_DATA::_SET`: BytesRead 0x14, BytesNeeded 0x18, size 0x20)
layout!(
    NDIS_OID_REQUEST_SET,
    size = 0x20,
    align = 8,
    Oid = 0x0,
    InformationBuffer = 0x8,
    InformationBufferLength = 0x10,
    BytesRead = 0x14,
    BytesNeeded = 0x18,
);
// Source: ntdiff x64 ndis.sys (`_REQUEST_DATA::_METHOD`: Oid 0x0, InformationBuffer 0x8,
// InputBufferLength 0x10, OutputBufferLength 0x14, MethodId 0x18, BytesWritten 0x1c,
// BytesRead 0x20, BytesNeeded 0x24, size 0x28)
layout!(
    NDIS_OID_REQUEST_METHOD,
    size = 0x28,
    align = 8,
    Oid = 0x0,
    InformationBuffer = 0x8,
    InputBufferLength = 0x10,
    OutputBufferLength = 0x14,
    MethodId = 0x18,
    BytesWritten = 0x1c,
    BytesRead = 0x20,
    BytesNeeded = 0x24,
);

// --- link, statistics, interrupt moderation ---------------------------------------------------

// Source: ntdiff x64 ndis.sys (`_NDIS_LINK_STATE`: Header 0x0, MediaConnectState 0x4,
// MediaDuplexState 0x8, XmitLinkSpeed 0x10, RcvLinkSpeed 0x18, PauseFunctions 0x20,
// AutoNegotiationFlags 0x24, size 0x28)
layout!(
    NDIS_LINK_STATE,
    size = 0x28,
    align = 8,
    Header = 0x0,
    MediaConnectState = 0x4,
    MediaDuplexState = 0x8,
    XmitLinkSpeed = 0x10,
    RcvLinkSpeed = 0x18,
    PauseFunctions = 0x20,
    AutoNegotiationFlags = 0x24,
);
const _: () = assert!(NDIS_SIZEOF_LINK_STATE_REVISION_1 == 0x28);

// Source: ntdiff x64 ndis.sys (`_NDIS_LINK_PARAMETERS`: Header 0x0, MediaDuplexState 0x4,
// XmitLinkSpeed 0x8, RcvLinkSpeed 0x10, PauseFunctions 0x18, AutoNegotiationFlags 0x1c, size 0x20)
layout!(
    NDIS_LINK_PARAMETERS,
    size = 0x20,
    align = 8,
    Header = 0x0,
    MediaDuplexState = 0x4,
    XmitLinkSpeed = 0x8,
    RcvLinkSpeed = 0x10,
    PauseFunctions = 0x18,
    AutoNegotiationFlags = 0x1c,
);
const _: () = assert!(NDIS_SIZEOF_LINK_PARAMETERS_REVISION_1 == 0x20);

// Source: ntdiff x64 ndis.sys (`_NDIS_STATISTICS_INFO`: Header 0x0, SupportedStatistics 0x4, then
// eighteen ULONG64 counters at 0x8, 0x10, .. 0x90, size 0x98)
layout!(
    NDIS_STATISTICS_INFO,
    size = 0x98,
    align = 8,
    Header = 0x0,
    SupportedStatistics = 0x4,
    ifInDiscards = 0x8,
    ifInErrors = 0x10,
    ifHCInOctets = 0x18,
    ifHCInUcastPkts = 0x20,
    ifHCInMulticastPkts = 0x28,
    ifHCInBroadcastPkts = 0x30,
    ifHCOutOctets = 0x38,
    ifHCOutUcastPkts = 0x40,
    ifHCOutMulticastPkts = 0x48,
    ifHCOutBroadcastPkts = 0x50,
    ifOutErrors = 0x58,
    ifOutDiscards = 0x60,
    ifHCInUcastOctets = 0x68,
    ifHCInMulticastOctets = 0x70,
    ifHCInBroadcastOctets = 0x78,
    ifHCOutUcastOctets = 0x80,
    ifHCOutMulticastOctets = 0x88,
    ifHCOutBroadcastOctets = 0x90,
);
const _: () = assert!(NDIS_SIZEOF_STATISTICS_INFO_REVISION_1 == 0x98);

// Source: ntdiff x64 ndis.sys (`_NDIS_INTERRUPT_MODERATION_PARAMETERS`: Header 0x0, Flags 0x4,
// InterruptModeration 0x8, size 0xc)
layout!(
    NDIS_INTERRUPT_MODERATION_PARAMETERS,
    size = 0xc,
    align = 4,
    Header = 0x0,
    Flags = 0x4,
    InterruptModeration = 0x8,
);
const _: () = assert!(NDIS_SIZEOF_INTERRUPT_MODERATION_PARAMETERS_REVISION_1 == 0xc);

// --- power ------------------------------------------------------------------------------------

// Source: ntdiff x64 ndis.sys (`_NDIS_PM_WAKE_UP_CAPABILITIES`: 0x0, 0x4, 0x8, size 0xc)
layout!(
    NDIS_PM_WAKE_UP_CAPABILITIES,
    size = 0xc,
    align = 4,
    MinMagicPacketWakeUp = 0x0,
    MinPatternWakeUp = 0x4,
    MinLinkChangeWakeUp = 0x8,
);
// Source: ntdiff x64 ndis.sys (`_NDIS_PNP_CAPABILITIES`: Flags 0x0, WakeUpCapabilities 0x4, size 0x10)
layout!(NDIS_PNP_CAPABILITIES, size = 0x10, align = 4, Flags = 0x0, WakeUpCapabilities = 0x4);

// Source: ntdiff x64 ndis.sys (`_NDIS_PM_CAPABILITIES`: offsets below, size 0x3c)
layout!(
    NDIS_PM_CAPABILITIES,
    size = 0x3c,
    align = 4,
    Header = 0x0,
    Flags = 0x4,
    SupportedWoLPacketPatterns = 0x8,
    NumTotalWoLPatterns = 0xc,
    MaxWoLPatternSize = 0x10,
    MaxWoLPatternOffset = 0x14,
    MaxWoLPacketSaveBuffer = 0x18,
    SupportedProtocolOffloads = 0x1c,
    NumArpOffloadIPv4Addresses = 0x20,
    NumNSOffloadIPv6Addresses = 0x24,
    MinMagicPacketWakeUp = 0x28,
    MinPatternWakeUp = 0x2c,
    MinLinkChangeWakeUp = 0x30,
    SupportedWakeUpEvents = 0x34,
    MediaSpecificWakeUpEvents = 0x38,
);
// Through MinLinkChangeWakeUp (0x30 + 4) and MediaSpecificWakeUpEvents (0x38 + 4).
const _: () = assert!(NDIS_SIZEOF_NDIS_PM_CAPABILITIES_REVISION_1 == 0x34);
const _: () = assert!(NDIS_SIZEOF_NDIS_PM_CAPABILITIES_REVISION_2 == 0x3c);

// --- timer, configuration ---------------------------------------------------------------------

// Source: ntdiff x64 ndis.sys (`_NDIS_TIMER_CHARACTERISTICS`: Header 0x0, AllocationTag 0x4,
// TimerFunction 0x8, FunctionContext 0x10, size 0x18)
layout!(
    NDIS_TIMER_CHARACTERISTICS,
    size = 0x18,
    align = 8,
    Header = 0x0,
    AllocationTag = 0x4,
    TimerFunction = 0x8,
    FunctionContext = 0x10,
);
const _: () = assert!(NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1 == 0x18);

// Source: ntdiff x64 ndis.sys (`_NDIS_CONFIGURATION_OBJECT`: Header 0x0, NdisHandle 0x8,
// Flags 0x10, size 0x18)
layout!(NDIS_CONFIGURATION_OBJECT, size = 0x18, align = 8, Header = 0x0, NdisHandle = 0x8, Flags = 0x10);
const _: () = assert!(NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1 == 0x14);

// Source: ntdiff x64 ndis.sys (`_NDIS_CONFIGURATION_PARAMETER`: ParameterType 0x0,
// ParameterData 0x8 (union size 0x10), size 0x18)
layout!(NDIS_CONFIGURATION_PARAMETER, size = 0x18, align = 8, ParameterType = 0x0, ParameterData = 0x8);
layout!(NDIS_CONFIGURATION_PARAMETER_DATA, size = 0x10, align = 8);
