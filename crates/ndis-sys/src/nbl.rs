//! `NET_BUFFER`, `NET_BUFFER_LIST` and their pools (`ndis/nbl.h`, `ndis/nblinfo.h`,
//! `ndis/nblapi.h`, `ndis/nblsend.h`, `ndis/nblreceive.h`).
//!
//! The anonymous header unions of `NET_BUFFER_LIST` and `NET_BUFFER` (whose other member is an
//! x64 `SLIST_HEADER`, 16 bytes with 16-byte alignment) are flattened into plain fields; the
//! structures carry `align(16)` so that size, alignment and every offset equal the C layout.

use core::ffi::c_void;

use crate::basic::{MDL, NDIS_HANDLE, NDIS_PHYSICAL_ADDRESS, NDIS_STATUS};
use crate::object::NDIS_OBJECT_HEADER;
use crate::{sizeof_through_field, zeroed_default};

// ---------------------------------------------------------------------------------------------
// NDIS_NET_BUFFER_LIST_INFO (`ndis/nblinfo.h`), x64 values
// ---------------------------------------------------------------------------------------------
/// `NDIS_NET_BUFFER_LIST_INFO` (C enum): indexes into `NET_BUFFER_LIST::NetBufferListInfo`.
pub type NDIS_NET_BUFFER_LIST_INFO = u32;
pub const TcpIpChecksumNetBufferListInfo: NDIS_NET_BUFFER_LIST_INFO = 0;
pub const TcpOffloadBytesTransferred: NDIS_NET_BUFFER_LIST_INFO = 0;
pub const IPsecOffloadV1NetBufferListInfo: NDIS_NET_BUFFER_LIST_INFO = 1;
pub const IPsecOffloadV2NetBufferListInfo: NDIS_NET_BUFFER_LIST_INFO = 1;
pub const TcpLargeSendNetBufferListInfo: NDIS_NET_BUFFER_LIST_INFO = 2;
pub const TcpReceiveNoPush: NDIS_NET_BUFFER_LIST_INFO = 2;
pub const ClassificationHandleNetBufferListInfo: NDIS_NET_BUFFER_LIST_INFO = 3;
pub const Ieee8021QNetBufferListInfo: NDIS_NET_BUFFER_LIST_INFO = 4;
pub const NetBufferListCancelId: NDIS_NET_BUFFER_LIST_INFO = 5;
pub const MediaSpecificInformation: NDIS_NET_BUFFER_LIST_INFO = 6;
pub const NetBufferListFrameType: NDIS_NET_BUFFER_LIST_INFO = 7;
pub const NetBufferListProtocolId: NDIS_NET_BUFFER_LIST_INFO = 7;
pub const NetBufferListHashValue: NDIS_NET_BUFFER_LIST_INFO = 8;
pub const NetBufferListHashInfo: NDIS_NET_BUFFER_LIST_INFO = 9;
pub const WfpNetBufferListInfo: NDIS_NET_BUFFER_LIST_INFO = 10;
pub const IPsecOffloadV2TunnelNetBufferListInfo: NDIS_NET_BUFFER_LIST_INFO = 11;
pub const IPsecOffloadV2HeaderNetBufferListInfo: NDIS_NET_BUFFER_LIST_INFO = 12;
pub const NetBufferListCorrelationId: NDIS_NET_BUFFER_LIST_INFO = 13;
pub const NetBufferListFilteringInfo: NDIS_NET_BUFFER_LIST_INFO = 14;
pub const MediaSpecificInformationEx: NDIS_NET_BUFFER_LIST_INFO = 15;
pub const NblOriginalInterfaceIfIndex: NDIS_NET_BUFFER_LIST_INFO = 16;
pub const NblReAuthWfpFlowContext: NDIS_NET_BUFFER_LIST_INFO = 16;
pub const TcpReceiveBytesTransferred: NDIS_NET_BUFFER_LIST_INFO = 17;
pub const NrtNameResolutionId: NDIS_NET_BUFFER_LIST_INFO = 17;
pub const UdpRecvSegCoalesceOffloadInfo: NDIS_NET_BUFFER_LIST_INFO = 17;
pub const SwitchForwardingReserved: NDIS_NET_BUFFER_LIST_INFO = 18;
pub const SwitchForwardingDetail: NDIS_NET_BUFFER_LIST_INFO = 19;
pub const VirtualSubnetInfo: NDIS_NET_BUFFER_LIST_INFO = 20;
pub const IMReserved: NDIS_NET_BUFFER_LIST_INFO = 21;
pub const TcpRecvSegCoalesceInfo: NDIS_NET_BUFFER_LIST_INFO = 22;
pub const UdpSegmentationOffloadInfo: NDIS_NET_BUFFER_LIST_INFO = 22;
pub const RscTcpTimestampDelta: NDIS_NET_BUFFER_LIST_INFO = 23;
pub const TcpSendOffloadsSupplementalNetBufferListInfo: NDIS_NET_BUFFER_LIST_INFO = 23;
pub const GftOffloadInformation: NDIS_NET_BUFFER_LIST_INFO = 24;
pub const GftFlowEntryId: NDIS_NET_BUFFER_LIST_INFO = 25;
pub const NetBufferListInfoReserved3: NDIS_NET_BUFFER_LIST_INFO = 26;
/// `MaxNetBufferListInfo` as a miniport built for NDIS 6.80 or later sees it on x64 (27 slots).
///
/// The value depends on the NDIS version the driver is built for: 11 (6.0), 13 (6.1), 18
/// (6.20), 24 (6.30, x64), 26 (6.50, x64), 27 (6.80+, x64). NDIS itself is built with
/// `NDIS_WRAPPER` and appends two private slots, so real NBLs allocated by ndis.sys have 29;
/// a miniport only ever touches the first 27.
pub const MaxNetBufferListInfo: usize = 27;

// ---------------------------------------------------------------------------------------------
// NET_BUFFER
// ---------------------------------------------------------------------------------------------
/// `NET_BUFFER` (NDIS 6.20+ layout, x64).
///
/// `DataLength` is the `ULONG` member of the C union `{ ULONG DataLength; SIZE_T
/// stDataLength; }`; `DataLengthHigh` is the upper half of that 8-byte union and is not a C
/// field of its own. NDIS reads and writes `DataLength` as a `ULONG`. The `Padding*` fields
/// make the C compiler's implicit padding explicit.
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug)]
pub struct NET_BUFFER {
    pub Next: *mut NET_BUFFER,
    pub CurrentMdl: *mut MDL,
    pub CurrentMdlOffset: u32,
    /// Alignment padding before the 8-byte `DataLength` union (not a C field).
    pub Padding0: u32,
    pub DataLength: u32,
    /// Upper half of the C union `{ ULONG DataLength; SIZE_T stDataLength; }` (not a C field).
    pub DataLengthHigh: u32,
    pub MdlChain: *mut MDL,
    pub DataOffset: u32,
    /// Tail padding of the 0x30-byte header union (not a C field).
    pub Padding1: u32,
    pub ChecksumBias: u16,
    pub Reserved: u16,
    pub NdisPoolHandle: NDIS_HANDLE,
    pub NdisReserved: [*mut c_void; 2],
    pub ProtocolReserved: [*mut c_void; 6],
    pub MiniportReserved: [*mut c_void; 4],
    pub DataPhysicalAddress: NDIS_PHYSICAL_ADDRESS,
    /// Union of `SharedMemoryInfo` (`NET_BUFFER_SHARED_MEMORY*`) and `ScatterGatherList`
    /// (`SCATTER_GATHER_LIST*`), NDIS 6.20+.
    pub SharedMemoryInfo: *mut c_void,
}
pub type PNET_BUFFER = *mut NET_BUFFER;

// ---------------------------------------------------------------------------------------------
// NET_BUFFER_LIST_CONTEXT / NET_BUFFER_LIST
// ---------------------------------------------------------------------------------------------
/// `NET_BUFFER_LIST_CONTEXT`. `ContextData` is a flexible array at offset 16.
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug)]
pub struct NET_BUFFER_LIST_CONTEXT {
    pub Next: *mut NET_BUFFER_LIST_CONTEXT,
    pub Size: u16,
    pub Offset: u16,
    /// Padding that `DECLSPEC_ALIGN(16)` on `ContextData` introduces (not a C field).
    pub Padding: u32,
    pub ContextData: [u8; 0],
}
pub type PNET_BUFFER_LIST_CONTEXT = *mut NET_BUFFER_LIST_CONTEXT;

/// `NET_BUFFER_LIST` (x64, `MaxNetBufferListInfo` = 27).
///
/// `Status` is the `NDIS_STATUS` member of the C union `{ NDIS_STATUS Status; ULONG
/// NdisReserved2; }`.
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug)]
pub struct NET_BUFFER_LIST {
    pub Next: *mut NET_BUFFER_LIST,
    pub FirstNetBuffer: *mut NET_BUFFER,
    pub Context: *mut NET_BUFFER_LIST_CONTEXT,
    pub ParentNetBufferList: *mut NET_BUFFER_LIST,
    pub NdisPoolHandle: NDIS_HANDLE,
    /// Padding introduced by `DECLSPEC_ALIGN(16)` on `NdisReserved` (not a C field).
    pub Padding0: usize,
    pub NdisReserved: [*mut c_void; 2],
    pub ProtocolReserved: [*mut c_void; 4],
    pub MiniportReserved: [*mut c_void; 2],
    pub Scratch: *mut c_void,
    pub SourceHandle: NDIS_HANDLE,
    pub NblFlags: u32,
    pub ChildRefCount: i32,
    pub Flags: u32,
    pub Status: NDIS_STATUS,
    pub NetBufferListInfo: [*mut c_void; MaxNetBufferListInfo],
}
pub type PNET_BUFFER_LIST = *mut NET_BUFFER_LIST;

// NBL flags (`ndis/nbl.h`, NDIS 6.30+ values for the reserved ranges).
pub const NBL_FLAGS_PROTOCOL_RESERVED: u32 = 0xFFF0_0003;
pub const NBL_FLAGS_MINIPORT_RESERVED: u32 = 0x0000_F000;
pub const NBL_FLAGS_SCRATCH: u32 = 0x000F_0000;
pub const NBL_FLAGS_NDIS_RESERVED: u32 = 0x0000_0FFC;
pub const NDIS_NBL_FLAGS_SEND_READ_ONLY: u32 = 0x0000_0001;
pub const NDIS_NBL_FLAGS_RECV_READ_ONLY: u32 = 0x0000_0002;
pub const NDIS_NBL_FLAGS_HD_SPLIT: u32 = 0x0000_0100;
pub const NDIS_NBL_FLAGS_IS_IPV4: u32 = 0x0000_0200;
pub const NDIS_NBL_FLAGS_IS_IPV6: u32 = 0x0000_0400;
pub const NDIS_NBL_FLAGS_IS_TCP: u32 = 0x0000_0800;
pub const NDIS_NBL_FLAGS_IS_UDP: u32 = 0x0000_1000;
pub const NDIS_NBL_FLAGS_SPLIT_AT_UPPER_LAYER_PROTOCOL_HEADER: u32 = 0x0000_2000;
pub const NDIS_NBL_FLAGS_SPLIT_AT_UPPER_LAYER_PROTOCOL_PAYLOAD: u32 = 0x0000_4000;
pub const NDIS_NBL_FLAGS_IS_LOOPBACK_PACKET: u32 = 0x0000_8000;
pub const NDIS_NBL_FLAGS_CAPTURE_TIMESTAMP_ON_TRANSMIT: u32 = 0x0001_0000;

// Send / send-complete / receive / return flags (`ndis/nblsend.h`, `ndis/nblreceive.h`).
pub const NDIS_SEND_FLAGS_DISPATCH_LEVEL: u32 = 0x0000_0001;
pub const NDIS_SEND_FLAGS_CHECK_FOR_LOOPBACK: u32 = 0x0000_0002;
pub const NDIS_SEND_FLAGS_SINGLE_QUEUE: u32 = 0x0000_0004;
pub const NDIS_SEND_FLAGS_SWITCH_DESTINATION_GROUP: u32 = 0x0000_0010;
pub const NDIS_SEND_FLAGS_SWITCH_SINGLE_SOURCE: u32 = 0x0000_0020;
pub const NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL: u32 = 0x0000_0001;
pub const NDIS_SEND_COMPLETE_FLAGS_SINGLE_QUEUE: u32 = 0x0000_0002;
pub const NDIS_SEND_COMPLETE_FLAGS_SWITCH_SINGLE_SOURCE: u32 = 0x0000_0004;
pub const NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL: u32 = 0x0000_0001;
pub const NDIS_RECEIVE_FLAGS_RESOURCES: u32 = 0x0000_0002;
pub const NDIS_RECEIVE_FLAGS_SINGLE_ETHER_TYPE: u32 = 0x0000_0100;
pub const NDIS_RECEIVE_FLAGS_SINGLE_VLAN: u32 = 0x0000_0200;
pub const NDIS_RECEIVE_FLAGS_PERFECT_FILTERED: u32 = 0x0000_0400;
pub const NDIS_RECEIVE_FLAGS_SINGLE_QUEUE: u32 = 0x0000_0800;
pub const NDIS_RECEIVE_FLAGS_SHARED_MEMORY_INFO_VALID: u32 = 0x0000_1000;
pub const NDIS_RECEIVE_FLAGS_MORE_NBLS: u32 = 0x0000_2000;
pub const NDIS_RECEIVE_FLAGS_SWITCH_DESTINATION_GROUP: u32 = 0x0000_4000;
pub const NDIS_RECEIVE_FLAGS_SWITCH_SINGLE_SOURCE: u32 = 0x0000_8000;
pub const NDIS_RETURN_FLAGS_DISPATCH_LEVEL: u32 = 0x0000_0001;
pub const NDIS_RETURN_FLAGS_SINGLE_QUEUE: u32 = 0x0000_0002;
pub const NDIS_RETURN_FLAGS_SWITCH_SINGLE_SOURCE: u32 = 0x0000_0004;

// ---------------------------------------------------------------------------------------------
// Pools (`ndis/nblapi.h`)
// ---------------------------------------------------------------------------------------------
pub const NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1: u8 = 1;
/// NDIS 6.87 (adds `Flags`).
pub const NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_2: u8 = 2;
pub const NET_BUFFER_LIST_POOL_FLAG_VERIFY: u32 = 0x0000_0001;

/// `NET_BUFFER_LIST_POOL_PARAMETERS` (current header: revision 2 with `Flags`). Drivers that
/// must run on NDIS < 6.87 fill `Header` with revision 1 and
/// `NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct NET_BUFFER_LIST_POOL_PARAMETERS {
    pub Header: NDIS_OBJECT_HEADER,
    pub ProtocolId: u8,
    pub fAllocateNetBuffer: u8,
    pub ContextSize: u16,
    pub PoolTag: u32,
    pub DataSize: u32,
    pub Flags: u32,
}
pub type PNET_BUFFER_LIST_POOL_PARAMETERS = *mut NET_BUFFER_LIST_POOL_PARAMETERS;
pub const NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1: usize =
    sizeof_through_field!(NET_BUFFER_LIST_POOL_PARAMETERS, DataSize: u32);
pub const NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_2: usize =
    sizeof_through_field!(NET_BUFFER_LIST_POOL_PARAMETERS, Flags: u32);

pub const NET_BUFFER_POOL_PARAMETERS_REVISION_1: u8 = 1;
/// NDIS 6.87 (adds `Flags`).
pub const NET_BUFFER_POOL_PARAMETERS_REVISION_2: u8 = 2;
pub const NET_BUFFER_POOL_FLAG_VERIFY: u32 = 0x0000_0001;

/// `NET_BUFFER_POOL_PARAMETERS` (current header: revision 2 with `Flags`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct NET_BUFFER_POOL_PARAMETERS {
    pub Header: NDIS_OBJECT_HEADER,
    pub PoolTag: u32,
    pub DataSize: u32,
    pub Flags: u32,
}
pub type PNET_BUFFER_POOL_PARAMETERS = *mut NET_BUFFER_POOL_PARAMETERS;
pub const NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_1: usize =
    sizeof_through_field!(NET_BUFFER_POOL_PARAMETERS, DataSize: u32);
pub const NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_2: usize =
    sizeof_through_field!(NET_BUFFER_POOL_PARAMETERS, Flags: u32);

zeroed_default!(NET_BUFFER, NET_BUFFER_LIST_CONTEXT, NET_BUFFER_LIST);
