//! OIDs (`ntddndis.h`), `NDIS_REQUEST_TYPE` and `NDIS_OID_REQUEST` (`ndis/oidrequest.h`).

use core::ffi::c_void;

use crate::basic::{NDIS_HANDLE, NDIS_NIC_SWITCH_ID, NDIS_NIC_SWITCH_VPORT_ID, NDIS_OID, NDIS_PORT_NUMBER};
use crate::object::NDIS_OBJECT_HEADER;
use crate::{sizeof_through_field, zeroed_default};

// ---------------------------------------------------------------------------------------------
// General operational characteristics (OID_GEN_*, 0x0001xxxx)
// ---------------------------------------------------------------------------------------------
pub const OID_GEN_SUPPORTED_LIST: NDIS_OID = 0x0001_0101;
pub const OID_GEN_HARDWARE_STATUS: NDIS_OID = 0x0001_0102;
pub const OID_GEN_MEDIA_SUPPORTED: NDIS_OID = 0x0001_0103;
pub const OID_GEN_MEDIA_IN_USE: NDIS_OID = 0x0001_0104;
pub const OID_GEN_MAXIMUM_LOOKAHEAD: NDIS_OID = 0x0001_0105;
pub const OID_GEN_MAXIMUM_FRAME_SIZE: NDIS_OID = 0x0001_0106;
pub const OID_GEN_LINK_SPEED: NDIS_OID = 0x0001_0107;
pub const OID_GEN_TRANSMIT_BUFFER_SPACE: NDIS_OID = 0x0001_0108;
pub const OID_GEN_RECEIVE_BUFFER_SPACE: NDIS_OID = 0x0001_0109;
pub const OID_GEN_TRANSMIT_BLOCK_SIZE: NDIS_OID = 0x0001_010A;
pub const OID_GEN_RECEIVE_BLOCK_SIZE: NDIS_OID = 0x0001_010B;
pub const OID_GEN_VENDOR_ID: NDIS_OID = 0x0001_010C;
pub const OID_GEN_VENDOR_DESCRIPTION: NDIS_OID = 0x0001_010D;
pub const OID_GEN_CURRENT_PACKET_FILTER: NDIS_OID = 0x0001_010E;
pub const OID_GEN_CURRENT_LOOKAHEAD: NDIS_OID = 0x0001_010F;
pub const OID_GEN_DRIVER_VERSION: NDIS_OID = 0x0001_0110;
pub const OID_GEN_MAXIMUM_TOTAL_SIZE: NDIS_OID = 0x0001_0111;
pub const OID_GEN_PROTOCOL_OPTIONS: NDIS_OID = 0x0001_0112;
pub const OID_GEN_MAC_OPTIONS: NDIS_OID = 0x0001_0113;
pub const OID_GEN_MEDIA_CONNECT_STATUS: NDIS_OID = 0x0001_0114;
pub const OID_GEN_MAXIMUM_SEND_PACKETS: NDIS_OID = 0x0001_0115;
pub const OID_GEN_VENDOR_DRIVER_VERSION: NDIS_OID = 0x0001_0116;
pub const OID_GEN_SUPPORTED_GUIDS: NDIS_OID = 0x0001_0117;
pub const OID_GEN_NETWORK_LAYER_ADDRESSES: NDIS_OID = 0x0001_0118;
pub const OID_GEN_TRANSPORT_HEADER_OFFSET: NDIS_OID = 0x0001_0119;
pub const OID_GEN_MEDIA_CAPABILITIES: NDIS_OID = 0x0001_0201;
pub const OID_GEN_PHYSICAL_MEDIUM: NDIS_OID = 0x0001_0202;
pub const OID_GEN_RECEIVE_SCALE_CAPABILITIES: NDIS_OID = 0x0001_0203;
pub const OID_GEN_RECEIVE_SCALE_PARAMETERS: NDIS_OID = 0x0001_0204;
pub const OID_GEN_MAC_ADDRESS: NDIS_OID = 0x0001_0205;
pub const OID_GEN_MAX_LINK_SPEED: NDIS_OID = 0x0001_0206;
pub const OID_GEN_LINK_STATE: NDIS_OID = 0x0001_0207;
pub const OID_GEN_LINK_PARAMETERS: NDIS_OID = 0x0001_0208;
pub const OID_GEN_INTERRUPT_MODERATION: NDIS_OID = 0x0001_0209;
pub const OID_GEN_NDIS_RESERVED_3: NDIS_OID = 0x0001_020A;
pub const OID_GEN_NDIS_RESERVED_4: NDIS_OID = 0x0001_020B;
pub const OID_GEN_NDIS_RESERVED_5: NDIS_OID = 0x0001_020C;
pub const OID_GEN_ENUMERATE_PORTS: NDIS_OID = 0x0001_020D;
pub const OID_GEN_PORT_STATE: NDIS_OID = 0x0001_020E;
pub const OID_GEN_PORT_AUTHENTICATION_PARAMETERS: NDIS_OID = 0x0001_020F;
pub const OID_GEN_TIMEOUT_DPC_REQUEST_CAPABILITIES: NDIS_OID = 0x0001_0210;
pub const OID_GEN_PCI_DEVICE_CUSTOM_PROPERTIES: NDIS_OID = 0x0001_0211;
pub const OID_GEN_NDIS_RESERVED_6: NDIS_OID = 0x0001_0212;
pub const OID_GEN_PHYSICAL_MEDIUM_EX: NDIS_OID = 0x0001_0213;
pub const OID_GEN_RECEIVE_SCALE_PARAMETERS_V2: NDIS_OID = 0x0001_0214;
pub const OID_GEN_MACHINE_NAME: NDIS_OID = 0x0001_021A;
pub const OID_GEN_RNDIS_CONFIG_PARAMETER: NDIS_OID = 0x0001_021B;
pub const OID_GEN_VLAN_ID: NDIS_OID = 0x0001_021C;
pub const OID_GEN_RECEIVE_HASH: NDIS_OID = 0x0001_021F;
pub const OID_GEN_MINIPORT_RESTART_ATTRIBUTES: NDIS_OID = 0x0001_021D;
pub const OID_GEN_HD_SPLIT_PARAMETERS: NDIS_OID = 0x0001_021E;
pub const OID_GEN_HD_SPLIT_CURRENT_CONFIG: NDIS_OID = 0x0001_0220;
pub const OID_GEN_PROMISCUOUS_MODE: NDIS_OID = 0x0001_0280;
pub const OID_GEN_LAST_CHANGE: NDIS_OID = 0x0001_0281;
pub const OID_GEN_DISCONTINUITY_TIME: NDIS_OID = 0x0001_0282;
pub const OID_GEN_OPERATIONAL_STATUS: NDIS_OID = 0x0001_0283;
pub const OID_GEN_XMIT_LINK_SPEED: NDIS_OID = 0x0001_0284;
pub const OID_GEN_RCV_LINK_SPEED: NDIS_OID = 0x0001_0285;
pub const OID_GEN_UNKNOWN_PROTOS: NDIS_OID = 0x0001_0286;
pub const OID_GEN_INTERFACE_INFO: NDIS_OID = 0x0001_0287;
pub const OID_GEN_ADMIN_STATUS: NDIS_OID = 0x0001_0288;
pub const OID_GEN_ALIAS: NDIS_OID = 0x0001_0289;
pub const OID_GEN_MEDIA_CONNECT_STATUS_EX: NDIS_OID = 0x0001_028A;
pub const OID_GEN_LINK_SPEED_EX: NDIS_OID = 0x0001_028B;
pub const OID_GEN_MEDIA_DUPLEX_STATE: NDIS_OID = 0x0001_028C;
pub const OID_GEN_IP_OPER_STATUS: NDIS_OID = 0x0001_028D;
pub const OID_GEN_RSS_SET_INDIRECTION_TABLE_ENTRIES: NDIS_OID = 0x0001_02C0;
pub const OID_GEN_ISOLATION_PARAMETERS: NDIS_OID = 0x0001_0300;

// ---------------------------------------------------------------------------------------------
// General statistics (OID_GEN_*, 0x0002xxxx)
// ---------------------------------------------------------------------------------------------
pub const OID_GEN_XMIT_OK: NDIS_OID = 0x0002_0101;
pub const OID_GEN_RCV_OK: NDIS_OID = 0x0002_0102;
pub const OID_GEN_XMIT_ERROR: NDIS_OID = 0x0002_0103;
pub const OID_GEN_RCV_ERROR: NDIS_OID = 0x0002_0104;
pub const OID_GEN_RCV_NO_BUFFER: NDIS_OID = 0x0002_0105;
pub const OID_GEN_STATISTICS: NDIS_OID = 0x0002_0106;
pub const OID_GEN_DIRECTED_BYTES_XMIT: NDIS_OID = 0x0002_0201;
pub const OID_GEN_DIRECTED_FRAMES_XMIT: NDIS_OID = 0x0002_0202;
pub const OID_GEN_MULTICAST_BYTES_XMIT: NDIS_OID = 0x0002_0203;
pub const OID_GEN_MULTICAST_FRAMES_XMIT: NDIS_OID = 0x0002_0204;
pub const OID_GEN_BROADCAST_BYTES_XMIT: NDIS_OID = 0x0002_0205;
pub const OID_GEN_BROADCAST_FRAMES_XMIT: NDIS_OID = 0x0002_0206;
pub const OID_GEN_DIRECTED_BYTES_RCV: NDIS_OID = 0x0002_0207;
pub const OID_GEN_DIRECTED_FRAMES_RCV: NDIS_OID = 0x0002_0208;
pub const OID_GEN_MULTICAST_BYTES_RCV: NDIS_OID = 0x0002_0209;
pub const OID_GEN_MULTICAST_FRAMES_RCV: NDIS_OID = 0x0002_020A;
pub const OID_GEN_BROADCAST_BYTES_RCV: NDIS_OID = 0x0002_020B;
pub const OID_GEN_BROADCAST_FRAMES_RCV: NDIS_OID = 0x0002_020C;
pub const OID_GEN_RCV_CRC_ERROR: NDIS_OID = 0x0002_020D;
pub const OID_GEN_TRANSMIT_QUEUE_LENGTH: NDIS_OID = 0x0002_020E;
pub const OID_GEN_GET_TIME_CAPS: NDIS_OID = 0x0002_020F;
pub const OID_GEN_GET_NETCARD_TIME: NDIS_OID = 0x0002_0210;
pub const OID_GEN_NETCARD_LOAD: NDIS_OID = 0x0002_0211;
pub const OID_GEN_DEVICE_PROFILE: NDIS_OID = 0x0002_0212;
pub const OID_GEN_INIT_TIME_MS: NDIS_OID = 0x0002_0213;
pub const OID_GEN_RESET_COUNTS: NDIS_OID = 0x0002_0214;
pub const OID_GEN_MEDIA_SENSE_COUNTS: NDIS_OID = 0x0002_0215;
pub const OID_GEN_FRIENDLY_NAME: NDIS_OID = 0x0002_0216;
pub const OID_GEN_NDIS_RESERVED_1: NDIS_OID = 0x0002_0217;
pub const OID_GEN_NDIS_RESERVED_2: NDIS_OID = 0x0002_0218;
pub const OID_GEN_BYTES_RCV: NDIS_OID = 0x0002_0219;
pub const OID_GEN_BYTES_XMIT: NDIS_OID = 0x0002_021A;
pub const OID_GEN_RCV_DISCARDS: NDIS_OID = 0x0002_021B;
pub const OID_GEN_XMIT_DISCARDS: NDIS_OID = 0x0002_021C;
pub const OID_GEN_NDIS_RESERVED_7: NDIS_OID = 0x0002_021E;

// ---------------------------------------------------------------------------------------------
// Ethernet (OID_802_3_*)
// ---------------------------------------------------------------------------------------------
pub const OID_802_3_PERMANENT_ADDRESS: NDIS_OID = 0x0101_0101;
pub const OID_802_3_CURRENT_ADDRESS: NDIS_OID = 0x0101_0102;
pub const OID_802_3_MULTICAST_LIST: NDIS_OID = 0x0101_0103;
pub const OID_802_3_MAXIMUM_LIST_SIZE: NDIS_OID = 0x0101_0104;
pub const OID_802_3_MAC_OPTIONS: NDIS_OID = 0x0101_0105;
pub const OID_802_3_RCV_ERROR_ALIGNMENT: NDIS_OID = 0x0102_0101;
pub const OID_802_3_XMIT_ONE_COLLISION: NDIS_OID = 0x0102_0102;
pub const OID_802_3_XMIT_MORE_COLLISIONS: NDIS_OID = 0x0102_0103;
pub const OID_802_3_XMIT_DEFERRED: NDIS_OID = 0x0102_0201;
pub const OID_802_3_XMIT_MAX_COLLISIONS: NDIS_OID = 0x0102_0202;
pub const OID_802_3_RCV_OVERRUN: NDIS_OID = 0x0102_0203;
pub const OID_802_3_XMIT_UNDERRUN: NDIS_OID = 0x0102_0204;
pub const OID_802_3_XMIT_HEARTBEAT_FAILURE: NDIS_OID = 0x0102_0205;
pub const OID_802_3_XMIT_TIMES_CRS_LOST: NDIS_OID = 0x0102_0206;
pub const OID_802_3_XMIT_LATE_COLLISIONS: NDIS_OID = 0x0102_0207;
pub const OID_802_3_ADD_MULTICAST_ADDRESS: NDIS_OID = 0x0101_0208;
pub const OID_802_3_DELETE_MULTICAST_ADDRESS: NDIS_OID = 0x0101_0209;

// ---------------------------------------------------------------------------------------------
// Power management (OID_PNP_*, OID_PM_*)
// ---------------------------------------------------------------------------------------------
pub const OID_PNP_CAPABILITIES: NDIS_OID = 0xFD01_0100;
pub const OID_PNP_SET_POWER: NDIS_OID = 0xFD01_0101;
pub const OID_PNP_QUERY_POWER: NDIS_OID = 0xFD01_0102;
pub const OID_PNP_ADD_WAKE_UP_PATTERN: NDIS_OID = 0xFD01_0103;
pub const OID_PNP_REMOVE_WAKE_UP_PATTERN: NDIS_OID = 0xFD01_0104;
pub const OID_PNP_WAKE_UP_PATTERN_LIST: NDIS_OID = 0xFD01_0105;
pub const OID_PNP_ENABLE_WAKE_UP: NDIS_OID = 0xFD01_0106;
pub const OID_PNP_WAKE_UP_OK: NDIS_OID = 0xFD02_0200;
pub const OID_PNP_WAKE_UP_ERROR: NDIS_OID = 0xFD02_0201;
pub const OID_PM_CURRENT_CAPABILITIES: NDIS_OID = 0xFD01_0107;
pub const OID_PM_HARDWARE_CAPABILITIES: NDIS_OID = 0xFD01_0108;
pub const OID_PM_PARAMETERS: NDIS_OID = 0xFD01_0109;
pub const OID_PM_ADD_WOL_PATTERN: NDIS_OID = 0xFD01_010A;
pub const OID_PM_REMOVE_WOL_PATTERN: NDIS_OID = 0xFD01_010B;
pub const OID_PM_WOL_PATTERN_LIST: NDIS_OID = 0xFD01_010C;
pub const OID_PM_ADD_PROTOCOL_OFFLOAD: NDIS_OID = 0xFD01_010D;
pub const OID_PM_GET_PROTOCOL_OFFLOAD: NDIS_OID = 0xFD01_010E;
pub const OID_PM_REMOVE_PROTOCOL_OFFLOAD: NDIS_OID = 0xFD01_010F;
pub const OID_PM_PROTOCOL_OFFLOAD_LIST: NDIS_OID = 0xFD01_0110;
pub const OID_PM_RESERVED_1: NDIS_OID = 0xFD01_0111;

// ---------------------------------------------------------------------------------------------
// Offload and hardware-assist OIDs a miniport may be asked about
// ---------------------------------------------------------------------------------------------
pub const OID_RECEIVE_FILTER_HARDWARE_CAPABILITIES: NDIS_OID = 0x0001_0221;
pub const OID_RECEIVE_FILTER_CURRENT_CAPABILITIES: NDIS_OID = 0x0001_022D;
pub const OID_NIC_SWITCH_HARDWARE_CAPABILITIES: NDIS_OID = 0x0001_022E;
pub const OID_NIC_SWITCH_CURRENT_CAPABILITIES: NDIS_OID = 0x0001_022F;
pub const OID_SRIOV_HARDWARE_CAPABILITIES: NDIS_OID = 0x0001_0249;
pub const OID_SRIOV_CURRENT_CAPABILITIES: NDIS_OID = 0x0001_0250;
pub const OID_GFT_HARDWARE_CAPABILITIES: NDIS_OID = 0x0001_0401;
pub const OID_GFT_CURRENT_CAPABILITIES: NDIS_OID = 0x0001_0402;
pub const OID_TCP_TASK_OFFLOAD: NDIS_OID = 0xFC01_0201;
pub const OID_TCP_OFFLOAD_CURRENT_CONFIG: NDIS_OID = 0xFC01_020B;
pub const OID_TCP_OFFLOAD_PARAMETERS: NDIS_OID = 0xFC01_020C;
pub const OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES: NDIS_OID = 0xFC01_020D;
pub const OID_TCP_CONNECTION_OFFLOAD_CURRENT_CONFIG: NDIS_OID = 0xFC01_020E;
pub const OID_TCP_CONNECTION_OFFLOAD_HARDWARE_CAPABILITIES: NDIS_OID = 0xFC01_020F;
pub const OID_OFFLOAD_ENCAPSULATION: NDIS_OID = 0x0101_010A;
pub const OID_QOS_HARDWARE_CAPABILITIES: NDIS_OID = 0xFC05_0001;
pub const OID_QOS_CURRENT_CAPABILITIES: NDIS_OID = 0xFC05_0002;
pub const OID_TIMESTAMP_CAPABILITY: NDIS_OID = 0x00A0_0001;
pub const OID_TIMESTAMP_CURRENT_CONFIG: NDIS_OID = 0x00A0_0002;
pub const OID_TIMESTAMP_GET_CROSSTIMESTAMP: NDIS_OID = 0x00A0_0003;
pub const NDIS_802_3_MAC_OPTION_PRIORITY: u32 = 0x0000_0001;

// ---------------------------------------------------------------------------------------------
// NDIS_REQUEST_TYPE (`ndis/oidtypes.h`)
// ---------------------------------------------------------------------------------------------
/// `NDIS_REQUEST_TYPE` (C enum).
pub type NDIS_REQUEST_TYPE = u32;
pub const NdisRequestQueryInformation: NDIS_REQUEST_TYPE = 0;
pub const NdisRequestSetInformation: NDIS_REQUEST_TYPE = 1;
pub const NdisRequestQueryStatistics: NDIS_REQUEST_TYPE = 2;
pub const NdisRequestOpen: NDIS_REQUEST_TYPE = 3;
pub const NdisRequestClose: NDIS_REQUEST_TYPE = 4;
pub const NdisRequestSend: NDIS_REQUEST_TYPE = 5;
pub const NdisRequestTransferData: NDIS_REQUEST_TYPE = 6;
pub const NdisRequestReset: NDIS_REQUEST_TYPE = 7;
pub const NdisRequestGeneric1: NDIS_REQUEST_TYPE = 8;
pub const NdisRequestGeneric2: NDIS_REQUEST_TYPE = 9;
pub const NdisRequestGeneric3: NDIS_REQUEST_TYPE = 10;
pub const NdisRequestGeneric4: NDIS_REQUEST_TYPE = 11;
pub const NdisRequestMethod: NDIS_REQUEST_TYPE = 12;

// ---------------------------------------------------------------------------------------------
// NDIS_OID_REQUEST (`ndis/oidrequest.h`)
// ---------------------------------------------------------------------------------------------
pub const NDIS_OID_REQUEST_TIMEOUT_INFINITE: u32 = 0;
pub const NDIS_OID_REQUEST_NDIS_RESERVED_SIZE: usize = 16;
pub const NDIS_OID_REQUEST_FLAGS_VPORT_ID_VALID: u32 = 0x0001;
pub const NDIS_OID_REQUEST_REVISION_1: u8 = 1;
pub const NDIS_OID_REQUEST_REVISION_2: u8 = 2;

/// `NDIS_OID_REQUEST::DATA.QUERY_INFORMATION` (`struct _QUERY`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NDIS_OID_REQUEST_QUERY {
    pub Oid: NDIS_OID,
    pub InformationBuffer: *mut c_void,
    pub InformationBufferLength: u32,
    pub BytesWritten: u32,
    pub BytesNeeded: u32,
}

/// `NDIS_OID_REQUEST::DATA.SET_INFORMATION` (`struct _SET`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NDIS_OID_REQUEST_SET {
    pub Oid: NDIS_OID,
    pub InformationBuffer: *mut c_void,
    pub InformationBufferLength: u32,
    pub BytesRead: u32,
    pub BytesNeeded: u32,
}

/// `NDIS_OID_REQUEST::DATA.METHOD_INFORMATION` (`struct _METHOD`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NDIS_OID_REQUEST_METHOD {
    pub Oid: NDIS_OID,
    pub InformationBuffer: *mut c_void,
    pub InputBufferLength: u32,
    pub OutputBufferLength: u32,
    pub MethodId: u32,
    pub BytesWritten: u32,
    pub BytesRead: u32,
    pub BytesNeeded: u32,
}

/// `NDIS_OID_REQUEST::DATA` (`union _REQUEST_DATA`). `Oid` overlays the first member of each
/// variant, so it can be read whatever the request type is.
#[repr(C)]
#[derive(Clone, Copy)]
pub union NDIS_OID_REQUEST_DATA {
    pub Oid: NDIS_OID,
    pub QUERY_INFORMATION: NDIS_OID_REQUEST_QUERY,
    pub SET_INFORMATION: NDIS_OID_REQUEST_SET,
    pub METHOD_INFORMATION: NDIS_OID_REQUEST_METHOD,
}

/// `NDIS_OID_REQUEST`. Revision 1 (NDIS 6.0) ends at `Reserved2`; revision 2 (NDIS 6.50) adds
/// `SwitchId`, `VPortId` and `Flags`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct NDIS_OID_REQUEST {
    pub Header: NDIS_OBJECT_HEADER,
    pub RequestType: NDIS_REQUEST_TYPE,
    pub PortNumber: NDIS_PORT_NUMBER,
    pub Timeout: u32,
    pub RequestId: *mut c_void,
    pub RequestHandle: NDIS_HANDLE,
    pub DATA: NDIS_OID_REQUEST_DATA,
    pub NdisReserved: [u8; NDIS_OID_REQUEST_NDIS_RESERVED_SIZE * core::mem::size_of::<*mut c_void>()],
    pub MiniportReserved: [u8; 2 * core::mem::size_of::<*mut c_void>()],
    pub SourceReserved: [u8; 2 * core::mem::size_of::<*mut c_void>()],
    pub SupportedRevision: u8,
    pub Reserved1: u8,
    pub Reserved2: u16,
    pub SwitchId: NDIS_NIC_SWITCH_ID,
    pub VPortId: NDIS_NIC_SWITCH_VPORT_ID,
    pub Flags: u32,
}
pub type PNDIS_OID_REQUEST = *mut NDIS_OID_REQUEST;

pub const NDIS_SIZEOF_OID_REQUEST_REVISION_1: usize = sizeof_through_field!(NDIS_OID_REQUEST, Reserved2: u16);
pub const NDIS_SIZEOF_OID_REQUEST_REVISION_2: usize = sizeof_through_field!(NDIS_OID_REQUEST, Flags: u32);

zeroed_default!(
    NDIS_OID_REQUEST_QUERY,
    NDIS_OID_REQUEST_SET,
    NDIS_OID_REQUEST_METHOD,
    NDIS_OID_REQUEST_DATA,
    NDIS_OID_REQUEST,
);
