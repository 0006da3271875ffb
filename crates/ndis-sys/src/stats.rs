//! Link state, link parameters, statistics and interrupt moderation (`ntddndis.h`).

use crate::media::{NDIS_MEDIA_CONNECT_STATE, NDIS_MEDIA_DUPLEX_STATE, NDIS_SUPPORTED_PAUSE_FUNCTIONS};
use crate::object::NDIS_OBJECT_HEADER;
use crate::sizeof_through_field;

pub const NDIS_LINK_STATE_REVISION_1: u8 = 1;

/// `NDIS_LINK_STATE` (`OID_GEN_LINK_STATE`, `NDIS_STATUS_LINK_STATE`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NDIS_LINK_STATE {
    pub Header: NDIS_OBJECT_HEADER,
    pub MediaConnectState: NDIS_MEDIA_CONNECT_STATE,
    pub MediaDuplexState: NDIS_MEDIA_DUPLEX_STATE,
    pub XmitLinkSpeed: u64,
    pub RcvLinkSpeed: u64,
    pub PauseFunctions: NDIS_SUPPORTED_PAUSE_FUNCTIONS,
    pub AutoNegotiationFlags: u32,
}
pub type PNDIS_LINK_STATE = *mut NDIS_LINK_STATE;
pub const NDIS_SIZEOF_LINK_STATE_REVISION_1: usize = sizeof_through_field!(NDIS_LINK_STATE, AutoNegotiationFlags: u32);

pub const NDIS_LINK_PARAMETERS_REVISION_1: u8 = 1;

/// `NDIS_LINK_PARAMETERS` (`OID_GEN_LINK_PARAMETERS`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NDIS_LINK_PARAMETERS {
    pub Header: NDIS_OBJECT_HEADER,
    pub MediaDuplexState: NDIS_MEDIA_DUPLEX_STATE,
    pub XmitLinkSpeed: u64,
    pub RcvLinkSpeed: u64,
    pub PauseFunctions: NDIS_SUPPORTED_PAUSE_FUNCTIONS,
    pub AutoNegotiationFlags: u32,
}
pub type PNDIS_LINK_PARAMETERS = *mut NDIS_LINK_PARAMETERS;
pub const NDIS_SIZEOF_LINK_PARAMETERS_REVISION_1: usize =
    sizeof_through_field!(NDIS_LINK_PARAMETERS, AutoNegotiationFlags: u32);

// `NDIS_STATISTICS_INFO::SupportedStatistics`.
pub const NDIS_STATISTICS_FLAGS_VALID_DIRECTED_FRAMES_RCV: u32 = 0x0000_0001;
pub const NDIS_STATISTICS_FLAGS_VALID_MULTICAST_FRAMES_RCV: u32 = 0x0000_0002;
pub const NDIS_STATISTICS_FLAGS_VALID_BROADCAST_FRAMES_RCV: u32 = 0x0000_0004;
pub const NDIS_STATISTICS_FLAGS_VALID_BYTES_RCV: u32 = 0x0000_0008;
pub const NDIS_STATISTICS_FLAGS_VALID_RCV_DISCARDS: u32 = 0x0000_0010;
pub const NDIS_STATISTICS_FLAGS_VALID_RCV_ERROR: u32 = 0x0000_0020;
pub const NDIS_STATISTICS_FLAGS_VALID_DIRECTED_FRAMES_XMIT: u32 = 0x0000_0040;
pub const NDIS_STATISTICS_FLAGS_VALID_MULTICAST_FRAMES_XMIT: u32 = 0x0000_0080;
pub const NDIS_STATISTICS_FLAGS_VALID_BROADCAST_FRAMES_XMIT: u32 = 0x0000_0100;
pub const NDIS_STATISTICS_FLAGS_VALID_BYTES_XMIT: u32 = 0x0000_0200;
pub const NDIS_STATISTICS_FLAGS_VALID_XMIT_ERROR: u32 = 0x0000_0400;
pub const NDIS_STATISTICS_FLAGS_VALID_XMIT_DISCARDS: u32 = 0x0000_8000;
pub const NDIS_STATISTICS_FLAGS_VALID_DIRECTED_BYTES_RCV: u32 = 0x0001_0000;
pub const NDIS_STATISTICS_FLAGS_VALID_MULTICAST_BYTES_RCV: u32 = 0x0002_0000;
pub const NDIS_STATISTICS_FLAGS_VALID_BROADCAST_BYTES_RCV: u32 = 0x0004_0000;
pub const NDIS_STATISTICS_FLAGS_VALID_DIRECTED_BYTES_XMIT: u32 = 0x0008_0000;
pub const NDIS_STATISTICS_FLAGS_VALID_MULTICAST_BYTES_XMIT: u32 = 0x0010_0000;
pub const NDIS_STATISTICS_FLAGS_VALID_BROADCAST_BYTES_XMIT: u32 = 0x0020_0000;

pub const NDIS_STATISTICS_INFO_REVISION_1: u8 = 1;

/// `NDIS_STATISTICS_INFO` (`OID_GEN_STATISTICS`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NDIS_STATISTICS_INFO {
    pub Header: NDIS_OBJECT_HEADER,
    pub SupportedStatistics: u32,
    pub ifInDiscards: u64,
    pub ifInErrors: u64,
    pub ifHCInOctets: u64,
    pub ifHCInUcastPkts: u64,
    pub ifHCInMulticastPkts: u64,
    pub ifHCInBroadcastPkts: u64,
    pub ifHCOutOctets: u64,
    pub ifHCOutUcastPkts: u64,
    pub ifHCOutMulticastPkts: u64,
    pub ifHCOutBroadcastPkts: u64,
    pub ifOutErrors: u64,
    pub ifOutDiscards: u64,
    pub ifHCInUcastOctets: u64,
    pub ifHCInMulticastOctets: u64,
    pub ifHCInBroadcastOctets: u64,
    pub ifHCOutUcastOctets: u64,
    pub ifHCOutMulticastOctets: u64,
    pub ifHCOutBroadcastOctets: u64,
}
pub type PNDIS_STATISTICS_INFO = *mut NDIS_STATISTICS_INFO;
pub const NDIS_SIZEOF_STATISTICS_INFO_REVISION_1: usize =
    sizeof_through_field!(NDIS_STATISTICS_INFO, ifHCOutBroadcastOctets: u64);

/// `NDIS_INTERRUPT_MODERATION` (C enum).
pub type NDIS_INTERRUPT_MODERATION = u32;
pub const NdisInterruptModerationUnknown: NDIS_INTERRUPT_MODERATION = 0;
pub const NdisInterruptModerationNotSupported: NDIS_INTERRUPT_MODERATION = 1;
pub const NdisInterruptModerationEnabled: NDIS_INTERRUPT_MODERATION = 2;
pub const NdisInterruptModerationDisabled: NDIS_INTERRUPT_MODERATION = 3;

// `NDIS_INTERRUPT_MODERATION_PARAMETERS::Flags`.
pub const NDIS_INTERRUPT_MODERATION_CHANGE_NEEDS_RESET: u32 = 0x0000_0001;
pub const NDIS_INTERRUPT_MODERATION_CHANGE_NEEDS_REINITIALIZE: u32 = 0x0000_0002;

pub const NDIS_INTERRUPT_MODERATION_PARAMETERS_REVISION_1: u8 = 1;

/// `NDIS_INTERRUPT_MODERATION_PARAMETERS` (`OID_GEN_INTERRUPT_MODERATION`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NDIS_INTERRUPT_MODERATION_PARAMETERS {
    pub Header: NDIS_OBJECT_HEADER,
    pub Flags: u32,
    pub InterruptModeration: NDIS_INTERRUPT_MODERATION,
}
pub type PNDIS_INTERRUPT_MODERATION_PARAMETERS = *mut NDIS_INTERRUPT_MODERATION_PARAMETERS;
pub const NDIS_SIZEOF_INTERRUPT_MODERATION_PARAMETERS_REVISION_1: usize =
    sizeof_through_field!(NDIS_INTERRUPT_MODERATION_PARAMETERS, InterruptModeration: NDIS_INTERRUPT_MODERATION);
