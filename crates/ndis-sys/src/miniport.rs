//! Miniport driver registration, adapter attributes, lifecycle parameters and the miniport
//! callback types (`ndis.h`).

use core::ffi::c_void;

use crate::basic::{
    BOOLEAN, DRIVER_OBJECT, GUID, NDIS_HANDLE, NDIS_OID, NDIS_PORT_NUMBER, NDIS_STATUS, NET_IFINDEX, NET_IFTYPE,
    NET_LUID,
};
use crate::media::{
    NDIS_INTERFACE_TYPE, NDIS_MAX_PHYS_ADDRESS_LENGTH, NDIS_MEDIA_CONNECT_STATE, NDIS_MEDIA_DUPLEX_STATE, NDIS_MEDIUM,
    NDIS_PHYSICAL_MEDIUM, NET_IF_ACCESS_TYPE, NET_IF_CONNECTION_TYPE, NET_IF_DIRECTION_TYPE,
};
use crate::nbl::NET_BUFFER_LIST;
use crate::object::NDIS_OBJECT_HEADER;
use crate::oid::NDIS_OID_REQUEST;
use crate::power::{NDIS_PM_CAPABILITIES, NDIS_PNP_CAPABILITIES};
use crate::{sizeof_through_field, zeroed_default};

// ---------------------------------------------------------------------------------------------
// Versions
// ---------------------------------------------------------------------------------------------
/// `NDIS_MINIPORT_MAJOR_VERSION` for every NDIS 6.x miniport.
pub const NDIS_MINIPORT_MAJOR_VERSION: u8 = 6;
/// `NDIS_MINIPORT_MINOR_VERSION` of an NDIS 6.0 miniport (Windows Vista).
pub const NDIS_MINIPORT_MINOR_VERSION_60: u8 = 0;
/// `NDIS_MINIPORT_MINOR_VERSION` of an NDIS 6.20 miniport (Windows 7).
pub const NDIS_MINIPORT_MINOR_VERSION_620: u8 = 20;
/// `NDIS_MINIPORT_MINOR_VERSION` of an NDIS 6.30 miniport (Windows 8).
pub const NDIS_MINIPORT_MINOR_VERSION_630: u8 = 30;
/// `NDIS_MINIPORT_MINOR_VERSION` of an NDIS 6.50 miniport (Windows 10, 1507).
pub const NDIS_MINIPORT_MINOR_VERSION_650: u8 = 50;
/// `NDIS_MINIPORT_MINOR_VERSION` of an NDIS 6.80 miniport (Windows 10, 1809).
pub const NDIS_MINIPORT_MINOR_VERSION_680: u8 = 80;

/// `NDIS_RUNTIME_VERSION_*`: the value `NdisGetVersion` returns, `(major << 16) | minor`
/// (written with `+`, which is the same for minor < 0x10000).
pub const NDIS_RUNTIME_VERSION_60: u32 = 6 << 16;
pub const NDIS_RUNTIME_VERSION_61: u32 = (6 << 16) + 1;
pub const NDIS_RUNTIME_VERSION_620: u32 = (6 << 16) + 20;
pub const NDIS_RUNTIME_VERSION_630: u32 = (6 << 16) + 30;
pub const NDIS_RUNTIME_VERSION_640: u32 = (6 << 16) + 40;
pub const NDIS_RUNTIME_VERSION_650: u32 = (6 << 16) + 50;
pub const NDIS_RUNTIME_VERSION_651: u32 = (6 << 16) + 51;
pub const NDIS_RUNTIME_VERSION_660: u32 = (6 << 16) + 60;
pub const NDIS_RUNTIME_VERSION_670: u32 = (6 << 16) + 70;
pub const NDIS_RUNTIME_VERSION_680: u32 = (6 << 16) + 80;
pub const NDIS_RUNTIME_VERSION_681: u32 = (6 << 16) + 81;
pub const NDIS_RUNTIME_VERSION_682: u32 = (6 << 16) + 82;
pub const NDIS_RUNTIME_VERSION_683: u32 = (6 << 16) + 83;
pub const NDIS_RUNTIME_VERSION_684: u32 = (6 << 16) + 84;
pub const NDIS_RUNTIME_VERSION_685: u32 = (6 << 16) + 85;
pub const NDIS_RUNTIME_VERSION_686: u32 = (6 << 16) + 86;
pub const NDIS_RUNTIME_VERSION_687: u32 = (6 << 16) + 87;

// ---------------------------------------------------------------------------------------------
// Opaque types handled only by pointer
// ---------------------------------------------------------------------------------------------
/// Opaque `NDIS_RESOURCE_LIST` (`CM_PARTIAL_RESOURCE_LIST`).
#[repr(C)]
pub struct NDIS_RESOURCE_LIST {
    _opaque: [u8; 0],
}
pub type PNDIS_RESOURCE_LIST = *mut NDIS_RESOURCE_LIST;
/// Opaque `NDIS_PORT_AUTHENTICATION_PARAMETERS`.
#[repr(C)]
pub struct NDIS_PORT_AUTHENTICATION_PARAMETERS {
    _opaque: [u8; 0],
}
/// Opaque `NDIS_PCI_DEVICE_CUSTOM_PROPERTIES`.
#[repr(C)]
pub struct NDIS_PCI_DEVICE_CUSTOM_PROPERTIES {
    _opaque: [u8; 0],
}

// ---------------------------------------------------------------------------------------------
// NDIS_RECEIVE_SCALE_CAPABILITIES (`ntddndis.h`)
// ---------------------------------------------------------------------------------------------
/// Revision 1: NDIS 6.0.
pub const NDIS_RECEIVE_SCALE_CAPABILITIES_REVISION_1: u8 = 1;
/// Revision 2: NDIS 6.30 (adds `NumberOfIndirectionTableEntries`).
pub const NDIS_RECEIVE_SCALE_CAPABILITIES_REVISION_2: u8 = 2;
/// Revision 3: NDIS 6.60 (same fields as revision 2).
pub const NDIS_RECEIVE_SCALE_CAPABILITIES_REVISION_3: u8 = 3;

// `NDIS_RECEIVE_SCALE_CAPABILITIES::CapabilitiesFlags` (`NDIS_RSS_CAPS_*`).
pub const NDIS_RSS_CAPS_HASH_TYPE_TCP_IPV4: u32 = 0x0000_0100;
pub const NDIS_RSS_CAPS_HASH_TYPE_TCP_IPV6: u32 = 0x0000_0200;
pub const NDIS_RSS_CAPS_HASH_TYPE_TCP_IPV6_EX: u32 = 0x0000_0400;
pub const NDIS_RSS_CAPS_HASH_TYPE_UDP_IPV4: u32 = 0x0000_0800;
pub const NDIS_RSS_CAPS_HASH_TYPE_UDP_IPV6: u32 = 0x0000_1000;
pub const NDIS_RSS_CAPS_HASH_TYPE_UDP_IPV6_EX: u32 = 0x0000_2000;
pub const NDIS_RSS_CAPS_MESSAGE_SIGNALED_INTERRUPTS: u32 = 0x0100_0000;
pub const NDIS_RSS_CAPS_CLASSIFICATION_AT_ISR: u32 = 0x0200_0000;
pub const NDIS_RSS_CAPS_CLASSIFICATION_AT_DPC: u32 = 0x0400_0000;
pub const NDIS_RSS_CAPS_USING_MSI_X: u32 = 0x0800_0000;
pub const NDIS_RSS_CAPS_RSS_AVAILABLE_ON_PORTS: u32 = 0x1000_0000;
pub const NDIS_RSS_CAPS_SUPPORTS_MSI_X: u32 = 0x2000_0000;
pub const NDIS_RSS_CAPS_SUPPORTS_INDEPENDENT_ENTRY_MOVE: u32 = 0x4000_0000;

/// `NDIS_RECEIVE_SCALE_CAPABILITIES` (revision 2/3 layout, NDIS 6.30+).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct NDIS_RECEIVE_SCALE_CAPABILITIES {
    pub Header: NDIS_OBJECT_HEADER,
    /// `NDIS_RSS_CAPS_FLAGS`.
    pub CapabilitiesFlags: u32,
    pub NumberOfInterruptMessages: u32,
    pub NumberOfReceiveQueues: u32,
    pub NumberOfIndirectionTableEntries: u16,
}
pub type PNDIS_RECEIVE_SCALE_CAPABILITIES = *mut NDIS_RECEIVE_SCALE_CAPABILITIES;
pub const NDIS_SIZEOF_RECEIVE_SCALE_CAPABILITIES_REVISION_1: usize =
    sizeof_through_field!(NDIS_RECEIVE_SCALE_CAPABILITIES, NumberOfReceiveQueues: u32);
pub const NDIS_SIZEOF_RECEIVE_SCALE_CAPABILITIES_REVISION_2: usize =
    sizeof_through_field!(NDIS_RECEIVE_SCALE_CAPABILITIES, NumberOfIndirectionTableEntries: u16);
pub const NDIS_SIZEOF_RECEIVE_SCALE_CAPABILITIES_REVISION_3: usize =
    sizeof_through_field!(NDIS_RECEIVE_SCALE_CAPABILITIES, NumberOfIndirectionTableEntries: u16);

// ---------------------------------------------------------------------------------------------
// Callbacks
// ---------------------------------------------------------------------------------------------
/// `SET_OPTIONS` / `MINIPORT_SET_OPTIONS` (`MiniportSetOptions`).
pub type MINIPORT_SET_OPTIONS =
    unsafe extern "system" fn(NdisDriverHandle: NDIS_HANDLE, DriverContext: NDIS_HANDLE) -> NDIS_STATUS;
pub type SET_OPTIONS = MINIPORT_SET_OPTIONS;
pub type SET_OPTIONS_HANDLER = Option<SET_OPTIONS>;

/// `MINIPORT_INITIALIZE` (`MiniportInitializeEx`).
pub type MINIPORT_INITIALIZE = unsafe extern "system" fn(
    NdisMiniportHandle: NDIS_HANDLE,
    MiniportDriverContext: NDIS_HANDLE,
    MiniportInitParameters: *mut NDIS_MINIPORT_INIT_PARAMETERS,
) -> NDIS_STATUS;
pub type MINIPORT_INITIALIZE_HANDLER = Option<MINIPORT_INITIALIZE>;

/// `MINIPORT_HALT` (`MiniportHaltEx`).
pub type MINIPORT_HALT = unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, HaltAction: NDIS_HALT_ACTION);
pub type MINIPORT_HALT_HANDLER = Option<MINIPORT_HALT>;

/// `MINIPORT_UNLOAD` (`MiniportDriverUnload`).
pub type MINIPORT_UNLOAD = unsafe extern "system" fn(DriverObject: *mut DRIVER_OBJECT);
pub type MINIPORT_DRIVER_UNLOAD = Option<MINIPORT_UNLOAD>;

/// `MINIPORT_PAUSE` (`MiniportPause`).
pub type MINIPORT_PAUSE = unsafe extern "system" fn(
    MiniportAdapterContext: NDIS_HANDLE,
    PauseParameters: *mut NDIS_MINIPORT_PAUSE_PARAMETERS,
) -> NDIS_STATUS;
pub type MINIPORT_PAUSE_HANDLER = Option<MINIPORT_PAUSE>;

/// `MINIPORT_RESTART` (`MiniportRestart`).
pub type MINIPORT_RESTART = unsafe extern "system" fn(
    MiniportAdapterContext: NDIS_HANDLE,
    RestartParameters: *mut NDIS_MINIPORT_RESTART_PARAMETERS,
) -> NDIS_STATUS;
pub type MINIPORT_RESTART_HANDLER = Option<MINIPORT_RESTART>;

/// `MINIPORT_OID_REQUEST` (`MiniportOidRequest`).
pub type MINIPORT_OID_REQUEST =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, OidRequest: *mut NDIS_OID_REQUEST) -> NDIS_STATUS;
pub type MINIPORT_OID_REQUEST_HANDLER = Option<MINIPORT_OID_REQUEST>;

/// `MINIPORT_SEND_NET_BUFFER_LISTS` (`MiniportSendNetBufferLists`).
pub type MINIPORT_SEND_NET_BUFFER_LISTS = unsafe extern "system" fn(
    MiniportAdapterContext: NDIS_HANDLE,
    NetBufferList: *mut NET_BUFFER_LIST,
    PortNumber: NDIS_PORT_NUMBER,
    SendFlags: u32,
);
pub type MINIPORT_SEND_NET_BUFFER_LISTS_HANDLER = Option<MINIPORT_SEND_NET_BUFFER_LISTS>;

/// `MINIPORT_RETURN_NET_BUFFER_LISTS` (`MiniportReturnNetBufferLists`).
pub type MINIPORT_RETURN_NET_BUFFER_LISTS = unsafe extern "system" fn(
    MiniportAdapterContext: NDIS_HANDLE,
    NetBufferLists: *mut NET_BUFFER_LIST,
    ReturnFlags: u32,
);
pub type MINIPORT_RETURN_NET_BUFFER_LISTS_HANDLER = Option<MINIPORT_RETURN_NET_BUFFER_LISTS>;

/// `MINIPORT_CANCEL_SEND` (`MiniportCancelSend`).
pub type MINIPORT_CANCEL_SEND = unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, CancelId: *mut c_void);
pub type MINIPORT_CANCEL_SEND_HANDLER = Option<MINIPORT_CANCEL_SEND>;

/// `MINIPORT_CHECK_FOR_HANG` (`MiniportCheckForHangEx`).
pub type MINIPORT_CHECK_FOR_HANG = unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE) -> BOOLEAN;
pub type MINIPORT_CHECK_FOR_HANG_HANDLER = Option<MINIPORT_CHECK_FOR_HANG>;

/// `MINIPORT_RESET` (`MiniportResetEx`).
pub type MINIPORT_RESET =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, AddressingReset: *mut BOOLEAN) -> NDIS_STATUS;
pub type MINIPORT_RESET_HANDLER = Option<MINIPORT_RESET>;

/// `MINIPORT_DEVICE_PNP_EVENT_NOTIFY` (`MiniportDevicePnPEventNotify`).
pub type MINIPORT_DEVICE_PNP_EVENT_NOTIFY =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, NetDevicePnPEvent: *mut NET_DEVICE_PNP_EVENT);
pub type MINIPORT_DEVICE_PNP_EVENT_NOTIFY_HANDLER = Option<MINIPORT_DEVICE_PNP_EVENT_NOTIFY>;

/// `MINIPORT_SHUTDOWN` (`MiniportShutdownEx`).
pub type MINIPORT_SHUTDOWN =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, ShutdownAction: NDIS_SHUTDOWN_ACTION);
pub type MINIPORT_SHUTDOWN_HANDLER = Option<MINIPORT_SHUTDOWN>;

/// `MINIPORT_CANCEL_OID_REQUEST` (`MiniportCancelOidRequest`).
pub type MINIPORT_CANCEL_OID_REQUEST =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, RequestId: *mut c_void);
pub type MINIPORT_CANCEL_OID_REQUEST_HANDLER = Option<MINIPORT_CANCEL_OID_REQUEST>;

/// `MINIPORT_DIRECT_OID_REQUEST` (`MiniportDirectOidRequest`, NDIS 6.1).
pub type MINIPORT_DIRECT_OID_REQUEST =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, OidRequest: *mut NDIS_OID_REQUEST) -> NDIS_STATUS;
pub type MINIPORT_DIRECT_OID_REQUEST_HANDLER = Option<MINIPORT_DIRECT_OID_REQUEST>;

/// `MINIPORT_CANCEL_DIRECT_OID_REQUEST` (`MiniportCancelDirectOidRequest`, NDIS 6.1).
pub type MINIPORT_CANCEL_DIRECT_OID_REQUEST =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, RequestId: *mut c_void);
pub type MINIPORT_CANCEL_DIRECT_OID_REQUEST_HANDLER = Option<MINIPORT_CANCEL_DIRECT_OID_REQUEST>;

/// `MINIPORT_SYNCHRONOUS_OID_REQUEST` (`MiniportSynchronousOidRequest`, NDIS 6.80).
pub type MINIPORT_SYNCHRONOUS_OID_REQUEST =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, OidRequest: *mut NDIS_OID_REQUEST) -> NDIS_STATUS;
pub type MINIPORT_SYNCHRONOUS_OID_REQUEST_HANDLER = Option<MINIPORT_SYNCHRONOUS_OID_REQUEST>;

// ---------------------------------------------------------------------------------------------
// NDIS_MINIPORT_DRIVER_CHARACTERISTICS
// ---------------------------------------------------------------------------------------------
/// Revision 1: NDIS 6.0.
pub const NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1: u8 = 1;
/// Revision 2: NDIS 6.1 (adds the direct OID handlers).
pub const NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2: u8 = 2;
/// Revision 3: NDIS 6.80 (adds `SynchronousOidRequestHandler`).
pub const NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_3: u8 = 3;

// `NDIS_MINIPORT_DRIVER_CHARACTERISTICS::Flags`.
pub const NDIS_INTERMEDIATE_DRIVER: u32 = 0x0000_0001;
pub const NDIS_WDM_DRIVER: u32 = 0x0000_0002;
pub const NDIS_DRIVER_FLAGS_RESERVED: u32 = 0x0000_0008;

/// `NDIS_MINIPORT_DRIVER_CHARACTERISTICS` (revision 3 layout).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct NDIS_MINIPORT_DRIVER_CHARACTERISTICS {
    pub Header: NDIS_OBJECT_HEADER,
    pub MajorNdisVersion: u8,
    pub MinorNdisVersion: u8,
    pub MajorDriverVersion: u8,
    pub MinorDriverVersion: u8,
    pub Flags: u32,
    pub SetOptionsHandler: SET_OPTIONS_HANDLER,
    pub InitializeHandlerEx: MINIPORT_INITIALIZE_HANDLER,
    pub HaltHandlerEx: MINIPORT_HALT_HANDLER,
    pub UnloadHandler: MINIPORT_DRIVER_UNLOAD,
    pub PauseHandler: MINIPORT_PAUSE_HANDLER,
    pub RestartHandler: MINIPORT_RESTART_HANDLER,
    pub OidRequestHandler: MINIPORT_OID_REQUEST_HANDLER,
    pub SendNetBufferListsHandler: MINIPORT_SEND_NET_BUFFER_LISTS_HANDLER,
    pub ReturnNetBufferListsHandler: MINIPORT_RETURN_NET_BUFFER_LISTS_HANDLER,
    pub CancelSendHandler: MINIPORT_CANCEL_SEND_HANDLER,
    pub CheckForHangHandlerEx: MINIPORT_CHECK_FOR_HANG_HANDLER,
    pub ResetHandlerEx: MINIPORT_RESET_HANDLER,
    pub DevicePnPEventNotifyHandler: MINIPORT_DEVICE_PNP_EVENT_NOTIFY_HANDLER,
    pub ShutdownHandlerEx: MINIPORT_SHUTDOWN_HANDLER,
    pub CancelOidRequestHandler: MINIPORT_CANCEL_OID_REQUEST_HANDLER,
    pub DirectOidRequestHandler: MINIPORT_DIRECT_OID_REQUEST_HANDLER,
    pub CancelDirectOidRequestHandler: MINIPORT_CANCEL_DIRECT_OID_REQUEST_HANDLER,
    pub SynchronousOidRequestHandler: MINIPORT_SYNCHRONOUS_OID_REQUEST_HANDLER,
}
pub type PNDIS_MINIPORT_DRIVER_CHARACTERISTICS = *mut NDIS_MINIPORT_DRIVER_CHARACTERISTICS;
pub const NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1: usize = sizeof_through_field!(
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS,
    CancelOidRequestHandler: MINIPORT_CANCEL_OID_REQUEST_HANDLER
);
pub const NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2: usize = sizeof_through_field!(
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS,
    CancelDirectOidRequestHandler: MINIPORT_CANCEL_DIRECT_OID_REQUEST_HANDLER
);
pub const NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_3: usize = sizeof_through_field!(
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS,
    SynchronousOidRequestHandler: MINIPORT_SYNCHRONOUS_OID_REQUEST_HANDLER
);

// ---------------------------------------------------------------------------------------------
// NDIS_MINIPORT_INIT_PARAMETERS
// ---------------------------------------------------------------------------------------------
pub const NDIS_MINIPORT_INIT_PARAMETERS_REVISION_1: u8 = 1;

/// `NDIS_MINIPORT_INIT_PARAMETERS` (passed to `MiniportInitializeEx`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NDIS_MINIPORT_INIT_PARAMETERS {
    pub Header: NDIS_OBJECT_HEADER,
    pub Flags: u32,
    pub AllocatedResources: *mut NDIS_RESOURCE_LIST,
    pub IMDeviceInstanceContext: NDIS_HANDLE,
    pub MiniportAddDeviceContext: NDIS_HANDLE,
    pub IfIndex: NET_IFINDEX,
    pub NetLuid: NET_LUID,
    pub DefaultPortAuthStates: *mut NDIS_PORT_AUTHENTICATION_PARAMETERS,
    pub PciDeviceCustomProperties: *mut NDIS_PCI_DEVICE_CUSTOM_PROPERTIES,
}
pub type PNDIS_MINIPORT_INIT_PARAMETERS = *mut NDIS_MINIPORT_INIT_PARAMETERS;
pub const NDIS_SIZEOF_MINIPORT_INIT_PARAMETER_REVISION_1: usize = sizeof_through_field!(
    NDIS_MINIPORT_INIT_PARAMETERS,
    PciDeviceCustomProperties: *mut NDIS_PCI_DEVICE_CUSTOM_PROPERTIES
);

// ---------------------------------------------------------------------------------------------
// Adapter attributes (NdisMSetMiniportAttributes)
// ---------------------------------------------------------------------------------------------
pub const NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1: u8 = 1;
/// Revision 2: NDIS 6.30 (same fields; allows the NDIS 6.30 attribute flags).
pub const NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_2: u8 = 2;

/// `NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES {
    pub Header: NDIS_OBJECT_HEADER,
    pub MiniportAdapterContext: NDIS_HANDLE,
    pub AttributeFlags: u32,
    pub CheckForHangTimeInSeconds: u32,
    pub InterfaceType: NDIS_INTERFACE_TYPE,
}
pub type PNDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES = *mut NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES;
pub const NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1: usize = sizeof_through_field!(
    NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
    InterfaceType: NDIS_INTERFACE_TYPE
);
pub const NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_2: usize = sizeof_through_field!(
    NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
    InterfaceType: NDIS_INTERFACE_TYPE
);

// `NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES::AttributeFlags`.
pub const NDIS_MINIPORT_ATTRIBUTES_HARDWARE_DEVICE: u32 = 0x0000_0001;
pub const NDIS_MINIPORT_ATTRIBUTES_NDIS_WDM: u32 = 0x0000_0002;
pub const NDIS_MINIPORT_ATTRIBUTES_SURPRISE_REMOVE_OK: u32 = 0x0000_0004;
pub const NDIS_MINIPORT_ATTRIBUTES_NOT_CO_NDIS: u32 = 0x0000_0008;
pub const NDIS_MINIPORT_ATTRIBUTES_DO_NOT_BIND_TO_ALL_CO: u32 = 0x0000_0010;
pub const NDIS_MINIPORT_ATTRIBUTES_NO_HALT_ON_SUSPEND: u32 = 0x0000_0020;
pub const NDIS_MINIPORT_ATTRIBUTES_BUS_MASTER: u32 = 0x0000_0040;
pub const NDIS_MINIPORT_ATTRIBUTES_CONTROLS_DEFAULT_PORT: u32 = 0x0000_0080;
pub const NDIS_MINIPORT_ATTRIBUTES_NO_PAUSE_ON_SUSPEND: u32 = 0x0000_0100;
pub const NDIS_MINIPORT_ATTRIBUTES_NO_OID_INTERCEPT_ON_NONDEFAULT_PORTS: u32 = 0x0000_0200;
pub const NDIS_MINIPORT_ATTRIBUTES_REGISTER_BUGCHECK_CALLBACK: u32 = 0x0000_0400;

pub const NDIS_MINIPORT_ADD_DEVICE_REGISTRATION_ATTRIBUTES_REVISION_1: u8 = 1;

/// `NDIS_MINIPORT_ADD_DEVICE_REGISTRATION_ATTRIBUTES` (NDIS 6.0, used from `MiniportAddDevice`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NDIS_MINIPORT_ADD_DEVICE_REGISTRATION_ATTRIBUTES {
    pub Header: NDIS_OBJECT_HEADER,
    pub MiniportAddDeviceContext: NDIS_HANDLE,
    pub Flags: u32,
}
pub const NDIS_SIZEOF_MINIPORT_ADD_DEVICE_REGISTRATION_ATTRIBUTES_REVISION_1: usize =
    sizeof_through_field!(NDIS_MINIPORT_ADD_DEVICE_REGISTRATION_ATTRIBUTES, Flags: u32);

// `NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES::SupportedStatistics` (`NDIS_STATISTICS_*_SUPPORTED`).
pub const NDIS_STATISTICS_XMIT_OK_SUPPORTED: u32 = 0x0000_0001;
pub const NDIS_STATISTICS_RCV_OK_SUPPORTED: u32 = 0x0000_0002;
pub const NDIS_STATISTICS_XMIT_ERROR_SUPPORTED: u32 = 0x0000_0004;
pub const NDIS_STATISTICS_RCV_ERROR_SUPPORTED: u32 = 0x0000_0008;
pub const NDIS_STATISTICS_RCV_NO_BUFFER_SUPPORTED: u32 = 0x0000_0010;
pub const NDIS_STATISTICS_DIRECTED_BYTES_XMIT_SUPPORTED: u32 = 0x0000_0020;
pub const NDIS_STATISTICS_DIRECTED_FRAMES_XMIT_SUPPORTED: u32 = 0x0000_0040;
pub const NDIS_STATISTICS_MULTICAST_BYTES_XMIT_SUPPORTED: u32 = 0x0000_0080;
pub const NDIS_STATISTICS_MULTICAST_FRAMES_XMIT_SUPPORTED: u32 = 0x0000_0100;
pub const NDIS_STATISTICS_BROADCAST_BYTES_XMIT_SUPPORTED: u32 = 0x0000_0200;
pub const NDIS_STATISTICS_BROADCAST_FRAMES_XMIT_SUPPORTED: u32 = 0x0000_0400;
pub const NDIS_STATISTICS_DIRECTED_BYTES_RCV_SUPPORTED: u32 = 0x0000_0800;
pub const NDIS_STATISTICS_DIRECTED_FRAMES_RCV_SUPPORTED: u32 = 0x0000_1000;
pub const NDIS_STATISTICS_MULTICAST_BYTES_RCV_SUPPORTED: u32 = 0x0000_2000;
pub const NDIS_STATISTICS_MULTICAST_FRAMES_RCV_SUPPORTED: u32 = 0x0000_4000;
pub const NDIS_STATISTICS_BROADCAST_BYTES_RCV_SUPPORTED: u32 = 0x0000_8000;
pub const NDIS_STATISTICS_BROADCAST_FRAMES_RCV_SUPPORTED: u32 = 0x0001_0000;
pub const NDIS_STATISTICS_RCV_CRC_ERROR_SUPPORTED: u32 = 0x0002_0000;
pub const NDIS_STATISTICS_TRANSMIT_QUEUE_LENGTH_SUPPORTED: u32 = 0x0004_0000;
pub const NDIS_STATISTICS_BYTES_RCV_SUPPORTED: u32 = 0x0008_0000;
pub const NDIS_STATISTICS_BYTES_XMIT_SUPPORTED: u32 = 0x0010_0000;
pub const NDIS_STATISTICS_RCV_DISCARDS_SUPPORTED: u32 = 0x0020_0000;
pub const NDIS_STATISTICS_GEN_STATISTICS_SUPPORTED: u32 = 0x0040_0000;
pub const NDIS_STATISTICS_XMIT_DISCARDS_SUPPORTED: u32 = 0x0800_0000;

pub const NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1: u8 = 1;
/// Revision 2: NDIS 6.20 (adds `PowerManagementCapabilitiesEx`).
pub const NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2: u8 = 2;

/// `NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES` (revision 2 layout).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES {
    pub Header: NDIS_OBJECT_HEADER,
    pub Flags: u32,
    pub MediaType: NDIS_MEDIUM,
    pub PhysicalMediumType: NDIS_PHYSICAL_MEDIUM,
    pub MtuSize: u32,
    pub MaxXmitLinkSpeed: u64,
    pub XmitLinkSpeed: u64,
    pub MaxRcvLinkSpeed: u64,
    pub RcvLinkSpeed: u64,
    pub MediaConnectState: NDIS_MEDIA_CONNECT_STATE,
    pub MediaDuplexState: NDIS_MEDIA_DUPLEX_STATE,
    pub LookaheadSize: u32,
    pub PowerManagementCapabilities: *mut NDIS_PNP_CAPABILITIES,
    pub MacOptions: u32,
    pub SupportedPacketFilters: u32,
    pub MaxMulticastListSize: u32,
    pub MacAddressLength: u16,
    pub PermanentMacAddress: [u8; NDIS_MAX_PHYS_ADDRESS_LENGTH],
    pub CurrentMacAddress: [u8; NDIS_MAX_PHYS_ADDRESS_LENGTH],
    pub RecvScaleCapabilities: *mut NDIS_RECEIVE_SCALE_CAPABILITIES,
    pub AccessType: NET_IF_ACCESS_TYPE,
    pub DirectionType: NET_IF_DIRECTION_TYPE,
    pub ConnectionType: NET_IF_CONNECTION_TYPE,
    pub IfType: NET_IFTYPE,
    pub IfConnectorPresent: BOOLEAN,
    pub SupportedStatistics: u32,
    pub SupportedPauseFunctions: u32,
    pub DataBackFillSize: u32,
    pub ContextBackFillSize: u32,
    pub SupportedOidList: *mut NDIS_OID,
    pub SupportedOidListLength: u32,
    pub AutoNegotiationFlags: u32,
    pub PowerManagementCapabilitiesEx: *mut NDIS_PM_CAPABILITIES,
}
pub type PNDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES = *mut NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES;
pub const NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1: usize =
    sizeof_through_field!(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, AutoNegotiationFlags: u32);
pub const NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2: usize = sizeof_through_field!(
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
    PowerManagementCapabilitiesEx: *mut NDIS_PM_CAPABILITIES
);

/// `NDIS_MINIPORT_ADAPTER_ATTRIBUTES`, the union `NdisMSetMiniportAttributes` takes.
///
/// Only the members this project uses are bound (the C union also has offload, native 802.11,
/// hardware-assist, NDK and packet-direct members). NDIS reads `Header` to learn which member
/// was passed and never relies on the size of the union, so omitting members changes nothing
/// at the ABI: always pass a pointer to the concrete attribute structure.
#[repr(C)]
#[derive(Clone, Copy)]
pub union NDIS_MINIPORT_ADAPTER_ATTRIBUTES {
    pub Header: NDIS_OBJECT_HEADER,
    pub AddDeviceRegistrationAttributes: NDIS_MINIPORT_ADD_DEVICE_REGISTRATION_ATTRIBUTES,
    pub RegistrationAttributes: NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
    pub GeneralAttributes: NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
}
pub type PNDIS_MINIPORT_ADAPTER_ATTRIBUTES = *mut NDIS_MINIPORT_ADAPTER_ATTRIBUTES;

// ---------------------------------------------------------------------------------------------
// Halt / shutdown / PnP
// ---------------------------------------------------------------------------------------------
/// `NDIS_HALT_ACTION` (C enum).
pub type NDIS_HALT_ACTION = u32;
pub const NdisHaltDeviceDisabled: NDIS_HALT_ACTION = 0;
pub const NdisHaltDeviceInstanceDeInitialized: NDIS_HALT_ACTION = 1;
pub const NdisHaltDevicePoweredDown: NDIS_HALT_ACTION = 2;
pub const NdisHaltDeviceSurpriseRemoved: NDIS_HALT_ACTION = 3;
pub const NdisHaltDeviceFailed: NDIS_HALT_ACTION = 4;
pub const NdisHaltDeviceInitializationFailed: NDIS_HALT_ACTION = 5;
pub const NdisHaltDeviceStopped: NDIS_HALT_ACTION = 6;

/// `NDIS_SHUTDOWN_ACTION` (C enum).
pub type NDIS_SHUTDOWN_ACTION = u32;
pub const NdisShutdownPowerOff: NDIS_SHUTDOWN_ACTION = 0;
pub const NdisShutdownBugCheck: NDIS_SHUTDOWN_ACTION = 1;

/// `NDIS_DEVICE_PNP_EVENT` (C enum).
pub type NDIS_DEVICE_PNP_EVENT = u32;
pub const NdisDevicePnPEventQueryRemoved: NDIS_DEVICE_PNP_EVENT = 0;
pub const NdisDevicePnPEventRemoved: NDIS_DEVICE_PNP_EVENT = 1;
pub const NdisDevicePnPEventSurpriseRemoved: NDIS_DEVICE_PNP_EVENT = 2;
pub const NdisDevicePnPEventQueryStopped: NDIS_DEVICE_PNP_EVENT = 3;
pub const NdisDevicePnPEventStopped: NDIS_DEVICE_PNP_EVENT = 4;
pub const NdisDevicePnPEventPowerProfileChanged: NDIS_DEVICE_PNP_EVENT = 5;
pub const NdisDevicePnPEventFilterListChanged: NDIS_DEVICE_PNP_EVENT = 6;
pub const NdisDevicePnPEventMaximum: NDIS_DEVICE_PNP_EVENT = 7;

pub const NET_DEVICE_PNP_EVENT_REVISION_1: u8 = 1;

/// `NET_DEVICE_PNP_EVENT` (passed to `MiniportDevicePnPEventNotify`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NET_DEVICE_PNP_EVENT {
    pub Header: NDIS_OBJECT_HEADER,
    pub PortNumber: NDIS_PORT_NUMBER,
    pub DevicePnPEvent: NDIS_DEVICE_PNP_EVENT,
    pub InformationBuffer: *mut c_void,
    pub InformationBufferLength: u32,
    pub NdisReserved: [u8; 2 * core::mem::size_of::<*mut c_void>()],
}
pub type PNET_DEVICE_PNP_EVENT = *mut NET_DEVICE_PNP_EVENT;
pub const NDIS_SIZEOF_NET_DEVICE_PNP_EVENT_REVISION_1: usize = sizeof_through_field!(
    NET_DEVICE_PNP_EVENT,
    NdisReserved: [u8; 2 * core::mem::size_of::<*mut c_void>()]
);

// ---------------------------------------------------------------------------------------------
// Pause / restart
// ---------------------------------------------------------------------------------------------
pub const NDIS_MINIPORT_PAUSE_PARAMETERS_REVISION_1: u8 = 1;

// `NDIS_MINIPORT_PAUSE_PARAMETERS::PauseReason`.
pub const NDIS_PAUSE_NDIS_INTERNAL: u32 = 0x0000_0001;
pub const NDIS_PAUSE_LOW_POWER: u32 = 0x0000_0002;
pub const NDIS_PAUSE_BIND_PROTOCOL: u32 = 0x0000_0004;
pub const NDIS_PAUSE_UNBIND_PROTOCOL: u32 = 0x0000_0008;
pub const NDIS_PAUSE_ATTACH_FILTER: u32 = 0x0000_0010;
pub const NDIS_PAUSE_DETACH_FILTER: u32 = 0x0000_0020;
pub const NDIS_PAUSE_FILTER_RESTART_STACK: u32 = 0x0000_0040;
pub const NDIS_PAUSE_MINIPORT_DEVICE_REMOVE: u32 = 0x0000_0080;

/// `NDIS_MINIPORT_PAUSE_PARAMETERS`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct NDIS_MINIPORT_PAUSE_PARAMETERS {
    pub Header: NDIS_OBJECT_HEADER,
    pub Flags: u32,
    pub PauseReason: u32,
}
pub type PNDIS_MINIPORT_PAUSE_PARAMETERS = *mut NDIS_MINIPORT_PAUSE_PARAMETERS;
pub const NDIS_SIZEOF_MINIPORT_PAUSE_PARAMETERS_REVISION_1: usize =
    sizeof_through_field!(NDIS_MINIPORT_PAUSE_PARAMETERS, PauseReason: u32);

/// `NDIS_RESTART_ATTRIBUTES`: one entry of the restart attribute list. `Data` is a variable
/// length payload (`DataLength` bytes) aligned to `MEMORY_ALLOCATION_ALIGNMENT` (16), which is
/// why the structure carries `align(16)` and `Data` sits at offset 16.
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug)]
pub struct NDIS_RESTART_ATTRIBUTES {
    pub Next: *mut NDIS_RESTART_ATTRIBUTES,
    pub Oid: NDIS_OID,
    pub DataLength: u32,
    pub Data: [u8; 1],
}
pub type PNDIS_RESTART_ATTRIBUTES = *mut NDIS_RESTART_ATTRIBUTES;

pub const NDIS_MINIPORT_RESTART_PARAMETERS_REVISION_1: u8 = 1;

/// `NDIS_MINIPORT_RESTART_PARAMETERS`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NDIS_MINIPORT_RESTART_PARAMETERS {
    pub Header: NDIS_OBJECT_HEADER,
    pub RestartAttributes: *mut NDIS_RESTART_ATTRIBUTES,
    pub Flags: u32,
}
pub type PNDIS_MINIPORT_RESTART_PARAMETERS = *mut NDIS_MINIPORT_RESTART_PARAMETERS;
pub const NDIS_SIZEOF_MINIPORT_RESTART_PARAMETERS_REVISION_1: usize =
    sizeof_through_field!(NDIS_MINIPORT_RESTART_PARAMETERS, Flags: u32);

pub const NDIS_RESTART_GENERAL_ATTRIBUTES_REVISION_1: u8 = 1;
/// Revision 2: NDIS 6.20 (adds `MaxLookaheadSizeAccessed`).
pub const NDIS_RESTART_GENERAL_ATTRIBUTES_REVISION_2: u8 = 2;
pub const NDIS_MAX_LOOKAHEAD_SIZE_ACCESSED_UNDEFINED: i32 = -1;
pub const NDIS_RESTART_GENERAL_ATTRIBUTES_MAX_LOOKAHEAD_ACCESSED_DEFINED: u32 = 0x0000_0001;

/// `NDIS_RESTART_GENERAL_ATTRIBUTES` (revision 2 layout): the `Data` of the restart attribute
/// whose `Oid` is `OID_GEN_MINIPORT_RESTART_ATTRIBUTES`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NDIS_RESTART_GENERAL_ATTRIBUTES {
    pub Header: NDIS_OBJECT_HEADER,
    pub MtuSize: u32,
    pub MaxXmitLinkSpeed: u64,
    pub MaxRcvLinkSpeed: u64,
    pub LookaheadSize: u32,
    pub MacOptions: u32,
    pub SupportedPacketFilters: u32,
    pub MaxMulticastListSize: u32,
    pub RecvScaleCapabilities: *mut NDIS_RECEIVE_SCALE_CAPABILITIES,
    pub AccessType: NET_IF_ACCESS_TYPE,
    pub Flags: u32,
    pub ConnectionType: NET_IF_CONNECTION_TYPE,
    pub SupportedStatistics: u32,
    pub DataBackFillSize: u32,
    pub ContextBackFillSize: u32,
    pub SupportedOidList: *mut NDIS_OID,
    pub SupportedOidListLength: u32,
    pub MaxLookaheadSizeAccessed: u32,
}
pub type PNDIS_RESTART_GENERAL_ATTRIBUTES = *mut NDIS_RESTART_GENERAL_ATTRIBUTES;
pub const NDIS_SIZEOF_RESTART_GENERAL_ATTRIBUTES_REVISION_1: usize =
    sizeof_through_field!(NDIS_RESTART_GENERAL_ATTRIBUTES, SupportedOidListLength: u32);
pub const NDIS_SIZEOF_RESTART_GENERAL_ATTRIBUTES_REVISION_2: usize =
    sizeof_through_field!(NDIS_RESTART_GENERAL_ATTRIBUTES, MaxLookaheadSizeAccessed: u32);

// ---------------------------------------------------------------------------------------------
// NDIS_STATUS_INDICATION
// ---------------------------------------------------------------------------------------------
pub const NDIS_STATUS_INDICATION_REVISION_1: u8 = 1;
pub const NDIS_STATUS_INDICATION_FLAGS_NDIS_RESERVED: u32 = 0xFFF;
pub const NDIS_STATUS_INDICATION_FLAGS_MEDIA_CONNECT_TO_CONNECT: u32 = 0x1000;

/// `NDIS_STATUS_INDICATION` (passed to `NdisMIndicateStatusEx`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NDIS_STATUS_INDICATION {
    pub Header: NDIS_OBJECT_HEADER,
    pub SourceHandle: NDIS_HANDLE,
    pub PortNumber: NDIS_PORT_NUMBER,
    pub StatusCode: NDIS_STATUS,
    pub Flags: u32,
    pub DestinationHandle: NDIS_HANDLE,
    pub RequestId: *mut c_void,
    pub StatusBuffer: *mut c_void,
    pub StatusBufferSize: u32,
    pub Guid: GUID,
    pub NdisReserved: [*mut c_void; 4],
}
pub type PNDIS_STATUS_INDICATION = *mut NDIS_STATUS_INDICATION;
pub const NDIS_SIZEOF_STATUS_INDICATION_REVISION_1: usize =
    sizeof_through_field!(NDIS_STATUS_INDICATION, NdisReserved: [*mut c_void; 4]);

zeroed_default!(
    NDIS_MINIPORT_INIT_PARAMETERS,
    NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
    NDIS_MINIPORT_ADD_DEVICE_REGISTRATION_ATTRIBUTES,
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
    NDIS_MINIPORT_ADAPTER_ATTRIBUTES,
    NET_DEVICE_PNP_EVENT,
    NDIS_RESTART_ATTRIBUTES,
    NDIS_MINIPORT_RESTART_PARAMETERS,
    NDIS_RESTART_GENERAL_ATTRIBUTES,
    NDIS_STATUS_INDICATION,
);
