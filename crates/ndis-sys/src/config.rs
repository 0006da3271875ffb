//! Registry configuration access (`ndis.h`).

use crate::basic::{BINARY_DATA, NDIS_HANDLE, NDIS_STRING};
use crate::object::NDIS_OBJECT_HEADER;
use crate::{sizeof_through_field, zeroed_default};

pub const NDIS_CONFIGURATION_OBJECT_REVISION_1: u8 = 1;
pub const NDIS_CONFIG_FLAG_FILTER_INSTANCE_CONFIGURATION: u32 = 0x0000_0001;

/// `NDIS_CONFIGURATION_OBJECT` (passed to `NdisOpenConfigurationEx`).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct NDIS_CONFIGURATION_OBJECT {
    pub Header: NDIS_OBJECT_HEADER,
    pub NdisHandle: NDIS_HANDLE,
    pub Flags: u32,
}
pub type PNDIS_CONFIGURATION_OBJECT = *mut NDIS_CONFIGURATION_OBJECT;
pub const NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1: usize =
    sizeof_through_field!(NDIS_CONFIGURATION_OBJECT, Flags: u32);

/// `NDIS_PARAMETER_TYPE` (C enum).
pub type NDIS_PARAMETER_TYPE = u32;
pub const NdisParameterInteger: NDIS_PARAMETER_TYPE = 0;
pub const NdisParameterHexInteger: NDIS_PARAMETER_TYPE = 1;
pub const NdisParameterString: NDIS_PARAMETER_TYPE = 2;
pub const NdisParameterMultiString: NDIS_PARAMETER_TYPE = 3;
pub const NdisParameterBinary: NDIS_PARAMETER_TYPE = 4;

/// The anonymous `ParameterData` union of `NDIS_CONFIGURATION_PARAMETER`.
#[repr(C)]
#[derive(Clone, Copy)]
pub union NDIS_CONFIGURATION_PARAMETER_DATA {
    pub IntegerData: u32,
    pub StringData: NDIS_STRING,
    pub BinaryData: BINARY_DATA,
}

/// `NDIS_CONFIGURATION_PARAMETER` (`NdisReadConfiguration` / `NdisWriteConfiguration`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct NDIS_CONFIGURATION_PARAMETER {
    pub ParameterType: NDIS_PARAMETER_TYPE,
    pub ParameterData: NDIS_CONFIGURATION_PARAMETER_DATA,
}
pub type PNDIS_CONFIGURATION_PARAMETER = *mut NDIS_CONFIGURATION_PARAMETER;

zeroed_default!(NDIS_CONFIGURATION_OBJECT, NDIS_CONFIGURATION_PARAMETER_DATA, NDIS_CONFIGURATION_PARAMETER,);
