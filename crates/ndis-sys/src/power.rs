//! Power management capabilities (`ntddndis.h`).

use crate::object::NDIS_OBJECT_HEADER;
use crate::sizeof_through_field;

/// `NDIS_DEVICE_POWER_STATE` (C enum).
pub type NDIS_DEVICE_POWER_STATE = u32;
pub const NdisDeviceStateUnspecified: NDIS_DEVICE_POWER_STATE = 0;
pub const NdisDeviceStateD0: NDIS_DEVICE_POWER_STATE = 1;
pub const NdisDeviceStateD1: NDIS_DEVICE_POWER_STATE = 2;
pub const NdisDeviceStateD2: NDIS_DEVICE_POWER_STATE = 3;
pub const NdisDeviceStateD3: NDIS_DEVICE_POWER_STATE = 4;
pub const NdisDeviceStateMaximum: NDIS_DEVICE_POWER_STATE = 5;

/// `NDIS_PM_WAKE_UP_CAPABILITIES`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct NDIS_PM_WAKE_UP_CAPABILITIES {
    pub MinMagicPacketWakeUp: NDIS_DEVICE_POWER_STATE,
    pub MinPatternWakeUp: NDIS_DEVICE_POWER_STATE,
    pub MinLinkChangeWakeUp: NDIS_DEVICE_POWER_STATE,
}
pub type PNDIS_PM_WAKE_UP_CAPABILITIES = *mut NDIS_PM_WAKE_UP_CAPABILITIES;

// `NDIS_PNP_CAPABILITIES::Flags`.
pub const NDIS_DEVICE_WAKE_UP_ENABLE: u32 = 0x0000_0001;
pub const NDIS_DEVICE_WAKE_ON_PATTERN_MATCH_ENABLE: u32 = 0x0000_0002;
pub const NDIS_DEVICE_WAKE_ON_MAGIC_PACKET_ENABLE: u32 = 0x0000_0004;

// `OID_PNP_ENABLE_WAKE_UP` bits.
pub const NDIS_PNP_WAKE_UP_MAGIC_PACKET: u32 = 0x0000_0001;
pub const NDIS_PNP_WAKE_UP_PATTERN_MATCH: u32 = 0x0000_0002;
pub const NDIS_PNP_WAKE_UP_LINK_CHANGE: u32 = 0x0000_0004;

/// `NDIS_PNP_CAPABILITIES` (`OID_PNP_CAPABILITIES`; NDIS 6.0 power management).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct NDIS_PNP_CAPABILITIES {
    pub Flags: u32,
    pub WakeUpCapabilities: NDIS_PM_WAKE_UP_CAPABILITIES,
}
pub type PNDIS_PNP_CAPABILITIES = *mut NDIS_PNP_CAPABILITIES;

/// Revision 1: NDIS 6.20.
pub const NDIS_PM_CAPABILITIES_REVISION_1: u8 = 1;
/// Revision 2: NDIS 6.30 (adds `SupportedWakeUpEvents`, `MediaSpecificWakeUpEvents`).
pub const NDIS_PM_CAPABILITIES_REVISION_2: u8 = 2;

/// `NDIS_PM_CAPABILITIES` (revision 2 layout; NDIS 6.20+ power management).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct NDIS_PM_CAPABILITIES {
    pub Header: NDIS_OBJECT_HEADER,
    pub Flags: u32,
    pub SupportedWoLPacketPatterns: u32,
    pub NumTotalWoLPatterns: u32,
    pub MaxWoLPatternSize: u32,
    pub MaxWoLPatternOffset: u32,
    pub MaxWoLPacketSaveBuffer: u32,
    pub SupportedProtocolOffloads: u32,
    pub NumArpOffloadIPv4Addresses: u32,
    pub NumNSOffloadIPv6Addresses: u32,
    pub MinMagicPacketWakeUp: NDIS_DEVICE_POWER_STATE,
    pub MinPatternWakeUp: NDIS_DEVICE_POWER_STATE,
    pub MinLinkChangeWakeUp: NDIS_DEVICE_POWER_STATE,
    pub SupportedWakeUpEvents: u32,
    pub MediaSpecificWakeUpEvents: u32,
}
pub type PNDIS_PM_CAPABILITIES = *mut NDIS_PM_CAPABILITIES;
pub const NDIS_SIZEOF_NDIS_PM_CAPABILITIES_REVISION_1: usize =
    sizeof_through_field!(NDIS_PM_CAPABILITIES, MinLinkChangeWakeUp: NDIS_DEVICE_POWER_STATE);
pub const NDIS_SIZEOF_NDIS_PM_CAPABILITIES_REVISION_2: usize =
    sizeof_through_field!(NDIS_PM_CAPABILITIES, MediaSpecificWakeUpEvents: u32);
