//! The adapter's registry configuration (`NdisOpenConfigurationEx` and friends). The handle is
//! closed on drop, so no path leaves it open.

use super::header;
use super::wstr::ndis_string;
use core::ffi::c_void;
use core::ptr;
use ndis_sys::{
    NDIS_CONFIGURATION_OBJECT, NDIS_CONFIGURATION_OBJECT_REVISION_1, NDIS_CONFIGURATION_PARAMETER, NDIS_HANDLE,
    NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT, NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1, NDIS_STATUS,
    NDIS_STATUS_SUCCESS, NdisCloseConfiguration, NdisOpenConfigurationEx, NdisParameterBinary, NdisParameterInteger,
    NdisReadConfiguration, NdisReadNetworkAddress, NdisWriteConfiguration,
};

/// An open configuration handle.
pub struct Config {
    handle: NDIS_HANDLE,
}

impl Config {
    /// Opens the adapter's configuration (PASSIVE_LEVEL).
    pub fn open(adapter: NDIS_HANDLE) -> Result<Self, NDIS_STATUS> {
        let mut object = NDIS_CONFIGURATION_OBJECT {
            Header: header(
                NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT,
                NDIS_CONFIGURATION_OBJECT_REVISION_1,
                NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1,
            ),
            NdisHandle: adapter,
            Flags: 0,
        };
        let mut handle: NDIS_HANDLE = ptr::null_mut();
        // SAFETY: both pointers are valid for the call; NDIS writes the handle on success.
        let status = unsafe { NdisOpenConfigurationEx(&raw mut object, &raw mut handle) };
        if status == NDIS_STATUS_SUCCESS && !handle.is_null() { Ok(Self { handle }) } else { Err(status) }
    }

    fn read(&self, keyword: &'static [u16], kind: u32) -> Option<&NDIS_CONFIGURATION_PARAMETER> {
        let mut name = ndis_string(keyword);
        let mut status: NDIS_STATUS = 0;
        let mut value: *mut NDIS_CONFIGURATION_PARAMETER = ptr::null_mut();
        // SAFETY: the handle is open; all pointers are valid for the call. On success NDIS
        // returns a parameter it owns until the configuration is closed (which `&self` outlives).
        unsafe { NdisReadConfiguration(&raw mut status, &raw mut value, self.handle, &raw mut name, kind) };
        if status != NDIS_STATUS_SUCCESS {
            return None;
        }
        // SAFETY: see above; null is refused.
        let value = unsafe { value.as_ref() }?;
        (value.ParameterType == kind).then_some(value)
    }

    /// Reads an integer keyword (REG_SZ decimal or REG_DWORD, as NDIS converts them).
    #[must_use]
    pub fn read_int(&self, keyword: &'static [u16]) -> Option<u32> {
        let p = self.read(keyword, NdisParameterInteger)?;
        // SAFETY: the parameter type is integer, so IntegerData is the valid member.
        Some(unsafe { p.ParameterData.IntegerData })
    }

    /// Reads a binary keyword into `dst`; returns the length if it fits exactly.
    pub fn read_binary(&self, keyword: &'static [u16], dst: &mut [u8]) -> Option<usize> {
        let p = self.read(keyword, NdisParameterBinary)?;
        // SAFETY: the parameter type is binary, so BinaryData is the valid member.
        let data = unsafe { p.ParameterData.BinaryData };
        let len = usize::from(data.Length);
        if data.Buffer.is_null() || len != dst.len() {
            return None;
        }
        // SAFETY: NDIS owns `len` readable bytes at Buffer until close; `dst` has `len` bytes.
        unsafe { ptr::copy_nonoverlapping(data.Buffer.cast::<u8>(), dst.as_mut_ptr(), len) };
        Some(len)
    }

    /// Writes a binary keyword.
    pub fn write_binary(&self, keyword: &'static [u16], data: &[u8]) -> Result<(), NDIS_STATUS> {
        let mut name = ndis_string(keyword);
        // SAFETY: all-zero is a valid NDIS_CONFIGURATION_PARAMETER.
        let mut value: NDIS_CONFIGURATION_PARAMETER = unsafe { core::mem::zeroed() };
        value.ParameterType = NdisParameterBinary;
        value.ParameterData.BinaryData.Length =
            u16::try_from(data.len()).map_err(|_| ndis_sys::NDIS_STATUS_INVALID_LENGTH)?;
        value.ParameterData.BinaryData.Buffer = data.as_ptr().cast_mut().cast::<c_void>();
        let mut status: NDIS_STATUS = 0;
        // SAFETY: the handle is open; NDIS only reads `value` and the data during the call.
        unsafe { NdisWriteConfiguration(&raw mut status, self.handle, &raw mut name, &raw mut value) };
        if status == NDIS_STATUS_SUCCESS { Ok(()) } else { Err(status) }
    }

    /// The `NetworkAddress` override, if configured, as NDIS parsed it (raw bytes).
    pub fn network_address(&self, dst: &mut [u8; 6]) -> Option<Result<(), usize>> {
        let mut status: NDIS_STATUS = 0;
        let mut address: *mut c_void = ptr::null_mut();
        let mut length: u32 = 0;
        // SAFETY: the handle is open; NDIS returns memory it owns until close.
        unsafe { NdisReadNetworkAddress(&raw mut status, &raw mut address, &raw mut length, self.handle) };
        if status != NDIS_STATUS_SUCCESS || address.is_null() {
            return None;
        }
        let length = length as usize;
        if length != dst.len() {
            return Some(Err(length));
        }
        // SAFETY: NDIS owns `length` (== 6) readable bytes at `address` until close.
        unsafe { ptr::copy_nonoverlapping(address.cast::<u8>(), dst.as_mut_ptr(), length) };
        Some(Ok(()))
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        // SAFETY: the handle was opened by `open` and is closed exactly once, here.
        unsafe { NdisCloseConfiguration(self.handle) };
    }
}
