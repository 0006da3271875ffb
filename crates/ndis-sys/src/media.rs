//! Medium, link and interface enumerations and flags (`ntddndis.h`, `ifdef.h`, `ipifcons.h`).

use crate::basic::NET_IFTYPE;

/// `NDIS_MEDIUM` (C enum).
pub type NDIS_MEDIUM = u32;
pub const NdisMedium802_3: NDIS_MEDIUM = 0;
pub const NdisMedium802_5: NDIS_MEDIUM = 1;
pub const NdisMediumFddi: NDIS_MEDIUM = 2;
pub const NdisMediumWan: NDIS_MEDIUM = 3;
pub const NdisMediumLocalTalk: NDIS_MEDIUM = 4;
pub const NdisMediumDix: NDIS_MEDIUM = 5;
pub const NdisMediumArcnetRaw: NDIS_MEDIUM = 6;
pub const NdisMediumArcnet878_2: NDIS_MEDIUM = 7;
pub const NdisMediumAtm: NDIS_MEDIUM = 8;
pub const NdisMediumWirelessWan: NDIS_MEDIUM = 9;
pub const NdisMediumIrda: NDIS_MEDIUM = 10;
pub const NdisMediumBpc: NDIS_MEDIUM = 11;
pub const NdisMediumCoWan: NDIS_MEDIUM = 12;
pub const NdisMedium1394: NDIS_MEDIUM = 13;
pub const NdisMediumInfiniBand: NDIS_MEDIUM = 14;
pub const NdisMediumTunnel: NDIS_MEDIUM = 15;
pub const NdisMediumNative802_11: NDIS_MEDIUM = 16;
pub const NdisMediumLoopback: NDIS_MEDIUM = 17;
pub const NdisMediumWiMAX: NDIS_MEDIUM = 18;
pub const NdisMediumIP: NDIS_MEDIUM = 19;
pub const NdisMediumMax: NDIS_MEDIUM = 20;

/// `NDIS_PHYSICAL_MEDIUM` (C enum).
pub type NDIS_PHYSICAL_MEDIUM = u32;
pub const NdisPhysicalMediumUnspecified: NDIS_PHYSICAL_MEDIUM = 0;
pub const NdisPhysicalMediumWirelessLan: NDIS_PHYSICAL_MEDIUM = 1;
pub const NdisPhysicalMediumCableModem: NDIS_PHYSICAL_MEDIUM = 2;
pub const NdisPhysicalMediumPhoneLine: NDIS_PHYSICAL_MEDIUM = 3;
pub const NdisPhysicalMediumPowerLine: NDIS_PHYSICAL_MEDIUM = 4;
pub const NdisPhysicalMediumDSL: NDIS_PHYSICAL_MEDIUM = 5;
pub const NdisPhysicalMediumFibreChannel: NDIS_PHYSICAL_MEDIUM = 6;
pub const NdisPhysicalMedium1394: NDIS_PHYSICAL_MEDIUM = 7;
pub const NdisPhysicalMediumWirelessWan: NDIS_PHYSICAL_MEDIUM = 8;
pub const NdisPhysicalMediumNative802_11: NDIS_PHYSICAL_MEDIUM = 9;
pub const NdisPhysicalMediumBluetooth: NDIS_PHYSICAL_MEDIUM = 10;
pub const NdisPhysicalMediumInfiniband: NDIS_PHYSICAL_MEDIUM = 11;
pub const NdisPhysicalMediumWiMax: NDIS_PHYSICAL_MEDIUM = 12;
pub const NdisPhysicalMediumUWB: NDIS_PHYSICAL_MEDIUM = 13;
pub const NdisPhysicalMedium802_3: NDIS_PHYSICAL_MEDIUM = 14;
pub const NdisPhysicalMedium802_5: NDIS_PHYSICAL_MEDIUM = 15;
pub const NdisPhysicalMediumIrda: NDIS_PHYSICAL_MEDIUM = 16;
pub const NdisPhysicalMediumWiredWAN: NDIS_PHYSICAL_MEDIUM = 17;
pub const NdisPhysicalMediumWiredCoWan: NDIS_PHYSICAL_MEDIUM = 18;
pub const NdisPhysicalMediumOther: NDIS_PHYSICAL_MEDIUM = 19;
pub const NdisPhysicalMediumNative802_15_4: NDIS_PHYSICAL_MEDIUM = 20;
pub const NdisPhysicalMediumMax: NDIS_PHYSICAL_MEDIUM = 21;

/// `NET_IF_MEDIA_CONNECT_STATE` / `NDIS_MEDIA_CONNECT_STATE` (C enum).
pub type NET_IF_MEDIA_CONNECT_STATE = u32;
pub type NDIS_MEDIA_CONNECT_STATE = NET_IF_MEDIA_CONNECT_STATE;
pub const MediaConnectStateUnknown: NDIS_MEDIA_CONNECT_STATE = 0;
pub const MediaConnectStateConnected: NDIS_MEDIA_CONNECT_STATE = 1;
pub const MediaConnectStateDisconnected: NDIS_MEDIA_CONNECT_STATE = 2;

/// `NET_IF_MEDIA_DUPLEX_STATE` / `NDIS_MEDIA_DUPLEX_STATE` (C enum).
pub type NET_IF_MEDIA_DUPLEX_STATE = u32;
pub type NDIS_MEDIA_DUPLEX_STATE = NET_IF_MEDIA_DUPLEX_STATE;
pub const MediaDuplexStateUnknown: NDIS_MEDIA_DUPLEX_STATE = 0;
pub const MediaDuplexStateHalf: NDIS_MEDIA_DUPLEX_STATE = 1;
pub const MediaDuplexStateFull: NDIS_MEDIA_DUPLEX_STATE = 2;

/// `NET_IF_LINK_SPEED_UNKNOWN` / `NDIS_LINK_SPEED_UNKNOWN`.
pub const NET_IF_LINK_SPEED_UNKNOWN: u64 = u64::MAX;
pub const NDIS_LINK_SPEED_UNKNOWN: u64 = NET_IF_LINK_SPEED_UNKNOWN;

/// `NDIS_SUPPORTED_PAUSE_FUNCTIONS` (C enum).
pub type NDIS_SUPPORTED_PAUSE_FUNCTIONS = u32;
pub const NdisPauseFunctionsUnsupported: NDIS_SUPPORTED_PAUSE_FUNCTIONS = 0;
pub const NdisPauseFunctionsSendOnly: NDIS_SUPPORTED_PAUSE_FUNCTIONS = 1;
pub const NdisPauseFunctionsReceiveOnly: NDIS_SUPPORTED_PAUSE_FUNCTIONS = 2;
pub const NdisPauseFunctionsSendAndReceive: NDIS_SUPPORTED_PAUSE_FUNCTIONS = 3;
pub const NdisPauseFunctionsUnknown: NDIS_SUPPORTED_PAUSE_FUNCTIONS = 4;

// Auto-negotiation flags (`NDIS_LINK_STATE::AutoNegotiationFlags` and friends).
pub const NDIS_LINK_STATE_XMIT_LINK_SPEED_AUTO_NEGOTIATED: u32 = 0x0000_0001;
pub const NDIS_LINK_STATE_RCV_LINK_SPEED_AUTO_NEGOTIATED: u32 = 0x0000_0002;
pub const NDIS_LINK_STATE_DUPLEX_AUTO_NEGOTIATED: u32 = 0x0000_0004;
pub const NDIS_LINK_STATE_PAUSE_FUNCTIONS_AUTO_NEGOTIATED: u32 = 0x0000_0008;

/// `NDIS_INTERFACE_TYPE` (C enum; values shared with the kernel's `INTERFACE_TYPE`).
pub type NDIS_INTERFACE_TYPE = u32;
pub const NdisInterfaceInternal: NDIS_INTERFACE_TYPE = 0;
pub const NdisInterfaceIsa: NDIS_INTERFACE_TYPE = 1;
pub const NdisInterfaceEisa: NDIS_INTERFACE_TYPE = 2;
pub const NdisInterfaceMca: NDIS_INTERFACE_TYPE = 3;
pub const NdisInterfaceTurboChannel: NDIS_INTERFACE_TYPE = 4;
pub const NdisInterfacePci: NDIS_INTERFACE_TYPE = 5;
pub const NdisInterfacePcMcia: NDIS_INTERFACE_TYPE = 8;
pub const NdisInterfaceCBus: NDIS_INTERFACE_TYPE = 9;
pub const NdisInterfaceMPIBus: NDIS_INTERFACE_TYPE = 10;
pub const NdisInterfaceMPSABus: NDIS_INTERFACE_TYPE = 11;
pub const NdisInterfaceProcessorInternal: NDIS_INTERFACE_TYPE = 12;
pub const NdisInterfaceInternalPowerBus: NDIS_INTERFACE_TYPE = 13;
pub const NdisInterfacePNPISABus: NDIS_INTERFACE_TYPE = 14;
pub const NdisInterfacePNPBus: NDIS_INTERFACE_TYPE = 15;
pub const NdisInterfaceUSB: NDIS_INTERFACE_TYPE = 16;
pub const NdisInterfaceIrda: NDIS_INTERFACE_TYPE = 17;
pub const NdisInterface1394: NDIS_INTERFACE_TYPE = 18;
pub const NdisMaximumInterfaceType: NDIS_INTERFACE_TYPE = 19;

/// `NDIS_HARDWARE_STATUS` (C enum; `OID_GEN_HARDWARE_STATUS`).
pub type NDIS_HARDWARE_STATUS = u32;
pub const NdisHardwareStatusReady: NDIS_HARDWARE_STATUS = 0;
pub const NdisHardwareStatusInitializing: NDIS_HARDWARE_STATUS = 1;
pub const NdisHardwareStatusReset: NDIS_HARDWARE_STATUS = 2;
pub const NdisHardwareStatusClosing: NDIS_HARDWARE_STATUS = 3;
pub const NdisHardwareStatusNotReady: NDIS_HARDWARE_STATUS = 4;

/// `NET_IF_ACCESS_TYPE` (C enum, `ifdef.h`).
pub type NET_IF_ACCESS_TYPE = u32;
pub const NET_IF_ACCESS_LOOPBACK: NET_IF_ACCESS_TYPE = 1;
pub const NET_IF_ACCESS_BROADCAST: NET_IF_ACCESS_TYPE = 2;
pub const NET_IF_ACCESS_POINT_TO_POINT: NET_IF_ACCESS_TYPE = 3;
pub const NET_IF_ACCESS_POINT_TO_MULTI_POINT: NET_IF_ACCESS_TYPE = 4;
pub const NET_IF_ACCESS_MAXIMUM: NET_IF_ACCESS_TYPE = 5;

/// `NET_IF_DIRECTION_TYPE` (C enum, `ifdef.h`).
pub type NET_IF_DIRECTION_TYPE = u32;
pub const NET_IF_DIRECTION_SENDRECEIVE: NET_IF_DIRECTION_TYPE = 0;
pub const NET_IF_DIRECTION_SENDONLY: NET_IF_DIRECTION_TYPE = 1;
pub const NET_IF_DIRECTION_RECEIVEONLY: NET_IF_DIRECTION_TYPE = 2;
pub const NET_IF_DIRECTION_MAXIMUM: NET_IF_DIRECTION_TYPE = 3;

/// `NET_IF_CONNECTION_TYPE` (C enum, `ifdef.h`).
pub type NET_IF_CONNECTION_TYPE = u32;
pub const NET_IF_CONNECTION_DEDICATED: NET_IF_CONNECTION_TYPE = 1;
pub const NET_IF_CONNECTION_PASSIVE: NET_IF_CONNECTION_TYPE = 2;
pub const NET_IF_CONNECTION_DEMAND: NET_IF_CONNECTION_TYPE = 3;
pub const NET_IF_CONNECTION_MAXIMUM: NET_IF_CONNECTION_TYPE = 4;

/// `IF_TYPE_ETHERNET_CSMACD` (IANA ifType 6, `ipifcons.h`).
pub const IF_TYPE_ETHERNET_CSMACD: NET_IFTYPE = 6;
/// `IF_MAX_PHYS_ADDRESS_LENGTH` / `NDIS_MAX_PHYS_ADDRESS_LENGTH`.
pub const IF_MAX_PHYS_ADDRESS_LENGTH: usize = 32;
pub const NDIS_MAX_PHYS_ADDRESS_LENGTH: usize = IF_MAX_PHYS_ADDRESS_LENGTH;

// Packet filter bits (`OID_GEN_CURRENT_PACKET_FILTER`, `SupportedPacketFilters`).
pub const NDIS_PACKET_TYPE_DIRECTED: u32 = 0x0000_0001;
pub const NDIS_PACKET_TYPE_MULTICAST: u32 = 0x0000_0002;
pub const NDIS_PACKET_TYPE_ALL_MULTICAST: u32 = 0x0000_0004;
pub const NDIS_PACKET_TYPE_BROADCAST: u32 = 0x0000_0008;
pub const NDIS_PACKET_TYPE_SOURCE_ROUTING: u32 = 0x0000_0010;
pub const NDIS_PACKET_TYPE_PROMISCUOUS: u32 = 0x0000_0020;
pub const NDIS_PACKET_TYPE_SMT: u32 = 0x0000_0040;
pub const NDIS_PACKET_TYPE_ALL_LOCAL: u32 = 0x0000_0080;
pub const NDIS_PACKET_TYPE_GROUP: u32 = 0x0000_1000;
pub const NDIS_PACKET_TYPE_ALL_FUNCTIONAL: u32 = 0x0000_2000;
pub const NDIS_PACKET_TYPE_FUNCTIONAL: u32 = 0x0000_4000;
pub const NDIS_PACKET_TYPE_MAC_FRAME: u32 = 0x0000_8000;
pub const NDIS_PACKET_TYPE_NO_LOCAL: u32 = 0x0001_0000;

// MAC option bits (`OID_GEN_MAC_OPTIONS`, `MacOptions`).
pub const NDIS_MAC_OPTION_COPY_LOOKAHEAD_DATA: u32 = 0x0000_0001;
pub const NDIS_MAC_OPTION_RECEIVE_SERIALIZED: u32 = 0x0000_0002;
pub const NDIS_MAC_OPTION_TRANSFERS_NOT_PEND: u32 = 0x0000_0004;
pub const NDIS_MAC_OPTION_NO_LOOPBACK: u32 = 0x0000_0008;
pub const NDIS_MAC_OPTION_FULL_DUPLEX: u32 = 0x0000_0010;
pub const NDIS_MAC_OPTION_EOTX_INDICATION: u32 = 0x0000_0020;
pub const NDIS_MAC_OPTION_8021P_PRIORITY: u32 = 0x0000_0040;
pub const NDIS_MAC_OPTION_SUPPORTS_MAC_ADDRESS_OVERWRITE: u32 = 0x0000_0080;
pub const NDIS_MAC_OPTION_RECEIVE_AT_DPC: u32 = 0x0000_0100;
pub const NDIS_MAC_OPTION_8021Q_VLAN: u32 = 0x0000_0200;
pub const NDIS_MAC_OPTION_RESERVED: u32 = 0x8000_0000;

// Protocol IDs (`NET_BUFFER_LIST_POOL_PARAMETERS::ProtocolId`).
pub const NDIS_PROTOCOL_ID_DEFAULT: u8 = 0x00;
pub const NDIS_PROTOCOL_ID_TCP_IP: u8 = 0x02;
pub const NDIS_PROTOCOL_ID_IP6: u8 = 0x03;
pub const NDIS_PROTOCOL_ID_IPX: u8 = 0x06;
pub const NDIS_PROTOCOL_ID_NBF: u8 = 0x07;
pub const NDIS_PROTOCOL_ID_MAX: u8 = 0x0F;
pub const NDIS_PROTOCOL_ID_MASK: u8 = 0x0F;
