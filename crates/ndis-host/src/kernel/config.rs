//! Registry configuration: `NdisOpenConfigurationEx`, `NdisCloseConfiguration`,
//! `NdisReadConfiguration`, `NdisWriteConfiguration`, `NdisReadNetworkAddress`.
//!
//! A configuration handle opened with an adapter handle reads and writes that device's
//! [`Registry`] (so values written survive a halt and re-initialisation, as under `HKR`);
//! opened with any other NDIS handle (the driver handle) it uses the driver's own `Parameters`
//! table ([`super::Kernel::driver_registry`]). Keywords compare case-insensitively.
//!
//! `NdisReadConfiguration` follows the documented conversions: `REG_DWORD` values come back as
//! `NdisParameterInteger` whatever type was asked for (the `ParameterType` argument "is
//! ignored" on NT); a `REG_SZ` value asked for as an integer is converted (decimal for
//! `NdisParameterInteger`, hexadecimal with an optional `0x` for `NdisParameterHexInteger`, both
//! returned as `NdisParameterInteger`), and comes back as `NdisParameterString` if it does not
//! convert; `REG_MULTI_SZ` is `NdisParameterMultiString` (the strings with their terminating
//! NULs, `Length` excluding the final extra NUL); `REG_BINARY` is `NdisParameterBinary`. The
//! predefined keywords `NdisVersion` and `ProcessorType` (`NdisProcessorAmd64`) are answered by
//! NDIS. Every returned parameter block, and the `NdisReadNetworkAddress` buffer, is host
//! memory that stays valid until `NdisCloseConfiguration` (then it is poisoned and freed).
//!
//! `NdisReadNetworkAddress` converts the `NetworkAddress` `REG_SZ` as its page describes: hex
//! digit pairs, hyphens discarded, one byte per pair, no length check. The host refuses
//! (`NDIS_STATUS_FAILURE`) a value that is not a string, is empty, has an odd number of digits,
//! or has any other character (colons included); what real NDIS makes of those is not
//! documented.
//!
//! `Config.Misuse` (the SDV NdisOpenConfigurationEx rule): a handle used or closed after it was
//! closed, and an invalid configuration object. Open handles are driver resources (leak rules).

use super::dmem::{self, HostBlock};
use super::registry::{RegValue, Registry};
use super::resources::{Kind, Record};
use crate::abi::ImportCall;
use crate::host::{HostInner, thread};
use crate::verifier::Rule;
use ndis_sys::{
    NDIS_CONFIGURATION_OBJECT, NDIS_CONFIGURATION_OBJECT_REVISION_1, NDIS_OBJECT_HEADER,
    NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT, NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1, NDIS_STATUS,
    NDIS_STATUS_FAILURE, NDIS_STATUS_NOT_SUPPORTED, NDIS_STATUS_RESOURCES, NDIS_STATUS_SUCCESS, NdisParameterBinary,
    NdisParameterHexInteger, NdisParameterInteger, NdisParameterMultiString, NdisParameterString,
};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// `NdisProcessorAmd64` (`NDIS_PROCESSOR_TYPE`).
const NDIS_PROCESSOR_AMD64: u32 = 4;

#[derive(Debug)]
struct Handle {
    registry: Arc<Mutex<Registry>>,
    adapter: Option<usize>,
    blocks: Vec<HostBlock>,
    closed: bool,
}

/// Open (and closed) configuration handles.
#[derive(Debug, Default)]
pub(crate) struct Configs {
    table: Mutex<HashMap<u64, Handle>>,
    pub(crate) driver_registry: Arc<Mutex<Registry>>,
}

impl Configs {
    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Handle>> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn reg_lock(r: &Mutex<Registry>) -> MutexGuard<'_, Registry> {
    r.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The registry and adapter of an open handle, or `None` after reporting the misuse.
fn open_handle(
    host: &HostInner,
    call: &ImportCall,
    key: u64,
    api: &str,
) -> Option<(Arc<Mutex<Registry>>, Option<usize>)> {
    let state = host.kernel.configs.lock().get(&key).map(|h| (Arc::clone(&h.registry), h.adapter, h.closed));
    let site = host.describe(call.return_address());
    match state {
        Some((registry, adapter, false)) => Some((registry, adapter)),
        Some((_, adapter, true)) => {
            host.finding(
                Rule::ConfigMisuse,
                adapter,
                format!("{api}({key:#x}) from {site}: the configuration handle was already closed"),
            );
            None
        }
        None => {
            host.finding(
                Rule::InvalidHandle,
                thread::adapter(),
                format!("{api}({key:#x}) from {site}: not a handle NdisOpenConfigurationEx returned"),
            );
            None
        }
    }
}

fn keep(host: &HostInner, key: u64, block: HostBlock) -> u64 {
    let addr = block.addr();
    if let Some(h) = host.kernel.configs.lock().get_mut(&key) {
        h.blocks.push(block);
    }
    addr
}

fn set_status(addr: u64, status: NDIS_STATUS) {
    dmem::write_u32_or_crash(addr, status.cast_unsigned());
}

/// `NdisOpenConfigurationEx(ConfigObject, ConfigurationHandle)`.
pub(crate) fn ndis_open_configuration_ex(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (object, out) = (call.arg(0), call.arg(1));
    let header: NDIS_OBJECT_HEADER = dmem::read_or_crash(object);
    if header.Type != NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT
        || header.Revision < NDIS_CONFIGURATION_OBJECT_REVISION_1
        || usize::from(header.Size) < NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1
    {
        host.finding(
            Rule::ConfigMisuse,
            thread::adapter(),
            format!(
                "NdisOpenConfigurationEx from {}: invalid NDIS_CONFIGURATION_OBJECT header {:#x}/{}/{} (need type {:#x}, revision {}, size >= {})",
                host.describe(call.return_address()),
                header.Type,
                header.Revision,
                header.Size,
                NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT,
                NDIS_CONFIGURATION_OBJECT_REVISION_1,
                NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1
            ),
        );
        return super::status(NDIS_STATUS_FAILURE);
    }
    let obj: NDIS_CONFIGURATION_OBJECT = dmem::read_or_crash(object);
    let handle = obj.NdisHandle as u64;
    let adapter = host.ndis.adapter_index(handle);
    let registry = host.ndis.registry(handle).unwrap_or_else(|| Arc::clone(&host.kernel.configs.driver_registry));
    if host.faults.should_fail(host, call, "NdisOpenConfigurationEx") {
        return super::status(NDIS_STATUS_RESOURCES);
    }
    let key = host.handles.next();
    dmem::write_u64_or_crash(out, key);
    host.kernel.configs.lock().insert(key, Handle { registry, adapter, blocks: Vec::new(), closed: false });
    host.resources.register(Record {
        kind: Kind::Config,
        key,
        owner: super::owner_for(host, Some(handle)),
        site: host.describe(call.return_address()),
        detail: String::new(),
    });
    host.kernel.count_allocation();
    super::status(NDIS_STATUS_SUCCESS)
}

/// `NdisCloseConfiguration(ConfigurationHandle)`.
pub(crate) fn ndis_close_configuration(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let key = call.arg(0);
    if open_handle(host, call, key, "NdisCloseConfiguration").is_none() {
        return 0;
    }
    let blocks = host.kernel.configs.lock().get_mut(&key).map(|h| {
        h.closed = true;
        std::mem::take(&mut h.blocks)
    });
    for b in blocks.into_iter().flatten() {
        b.fill(dmem::FREED_FILL);
    }
    host.resources.unregister(Kind::Config, key);
    0
}

/// A parameter block: `NDIS_CONFIGURATION_PARAMETER` (24 bytes) followed by its data.
fn parameter_block(kind: u32, value: &ParamData) -> Option<HostBlock> {
    const DATA: usize = 24;
    let payload: Vec<u8> = match value {
        ParamData::Integer(_) => Vec::new(),
        ParamData::String(units) => units.iter().flat_map(|u| u.to_le_bytes()).collect(),
        ParamData::Binary(bytes) => bytes.clone(),
    };
    let block = HostBlock::zeroed(DATA + payload.len() + 2, 16)?;
    let mut head = [0u8; DATA];
    head[0..4].copy_from_slice(&kind.to_le_bytes());
    let buffer = block.addr() + DATA as u64;
    match value {
        ParamData::Integer(v) => head[8..12].copy_from_slice(&v.to_le_bytes()),
        ParamData::String(units) => {
            let len = u16::try_from(units.len() * 2).ok()?;
            head[8..10].copy_from_slice(&len.to_le_bytes());
            head[10..12].copy_from_slice(&len.saturating_add(2).to_le_bytes());
            head[16..24].copy_from_slice(&buffer.to_le_bytes());
        }
        ParamData::Binary(bytes) => {
            let len = u16::try_from(bytes.len()).ok()?;
            head[8..10].copy_from_slice(&len.to_le_bytes());
            head[16..24].copy_from_slice(&buffer.to_le_bytes());
        }
    }
    // SAFETY: the block holds DATA + payload + 2 bytes; both copies stay inside it.
    unsafe {
        std::ptr::copy_nonoverlapping(head.as_ptr(), block.ptr(), DATA);
        std::ptr::copy_nonoverlapping(payload.as_ptr(), block.ptr().add(DATA), payload.len());
    }
    Some(block)
}

enum ParamData {
    Integer(u32),
    String(Vec<u16>),
    Binary(Vec<u8>),
}

fn parse_integer(s: &str, hex: bool) -> Option<u32> {
    let t = s.trim();
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = if hex {
        let d = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")).unwrap_or(digits);
        u32::from_str_radix(d, 16).ok()?
    } else {
        digits.parse::<u32>().ok()?
    };
    Some(if negative { v.wrapping_neg() } else { v })
}

fn convert(value: RegValue, requested: u32) -> (u32, ParamData) {
    match value {
        RegValue::Dword(v) => (NdisParameterInteger, ParamData::Integer(v)),
        RegValue::String(s) => {
            if (requested == NdisParameterInteger || requested == NdisParameterHexInteger)
                && let Some(v) = parse_integer(&s, requested == NdisParameterHexInteger)
            {
                return (NdisParameterInteger, ParamData::Integer(v));
            }
            (NdisParameterString, ParamData::String(s.encode_utf16().collect()))
        }
        RegValue::MultiString(list) => {
            let mut units = Vec::new();
            for s in &list {
                units.extend(s.encode_utf16());
                units.push(0);
            }
            (NdisParameterMultiString, ParamData::String(units))
        }
        RegValue::Binary(b) => (NdisParameterBinary, ParamData::Binary(b)),
    }
}

/// `NdisReadConfiguration(Status, ParameterValue, ConfigurationHandle, Keyword, ParameterType)`.
pub(crate) fn ndis_read_configuration(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (status, out, key, keyword, requested) = (call.arg(0), call.arg(1), call.arg(2), call.arg(3), call.arg_u32(4));
    let Some((registry, _)) = open_handle(host, call, key, "NdisReadConfiguration") else {
        set_status(status, NDIS_STATUS_FAILURE);
        return 0;
    };
    let Some(units) = dmem::read_unicode(keyword) else {
        crate::abi::abandon(crate::crash::CrashKind::AccessViolation {
            address: keyword,
            access: crate::crash::Access::Read,
        });
    };
    let name = String::from_utf16_lossy(&units);
    let value = if name.eq_ignore_ascii_case("NdisVersion") {
        Some(RegValue::Dword(super::NDIS_VERSION))
    } else if name.eq_ignore_ascii_case("ProcessorType") {
        Some(RegValue::Dword(NDIS_PROCESSOR_AMD64))
    } else {
        reg_lock(&registry).get(&name).cloned()
    };
    let Some(value) = value else {
        set_status(status, NDIS_STATUS_FAILURE);
        return 0;
    };
    let (kind, data) = convert(value, requested);
    let Some(block) = parameter_block(kind, &data) else {
        set_status(status, NDIS_STATUS_RESOURCES);
        return 0;
    };
    let addr = keep(host, key, block);
    dmem::write_u64_or_crash(out, addr);
    set_status(status, NDIS_STATUS_SUCCESS);
    0
}

/// `NdisWriteConfiguration(Status, ConfigurationHandle, Keyword, ParameterValue)`.
pub(crate) fn ndis_write_configuration(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (status, key, keyword, param) = (call.arg(0), call.arg(1), call.arg(2), call.arg(3));
    let Some((registry, _)) = open_handle(host, call, key, "NdisWriteConfiguration") else {
        set_status(status, NDIS_STATUS_FAILURE);
        return 0;
    };
    let crash = |address| -> ! {
        crate::abi::abandon(crate::crash::CrashKind::AccessViolation { address, access: crate::crash::Access::Read })
    };
    let Some(units) = dmem::read_unicode(keyword) else { crash(keyword) };
    let name = String::from_utf16_lossy(&units);
    let kind: u32 = dmem::read_or_crash(param);
    let value = match kind {
        k if k == NdisParameterInteger || k == NdisParameterHexInteger => {
            RegValue::Dword(dmem::read_or_crash::<u32>(param + 8))
        }
        k if k == NdisParameterString || k == NdisParameterMultiString => {
            let Some(units) = dmem::read_unicode(param + 8) else { crash(param + 8) };
            if k == NdisParameterString {
                RegValue::String(String::from_utf16_lossy(&units))
            } else {
                let list = units.split(|&u| u == 0).filter(|s| !s.is_empty()).map(String::from_utf16_lossy).collect();
                RegValue::MultiString(list)
            }
        }
        k if k == NdisParameterBinary => {
            let len: u16 = dmem::read_or_crash(param + 8);
            let buffer: u64 = dmem::read_or_crash(param + 16);
            let mut bytes = vec![0u8; usize::from(len)];
            if !crate::abi::mem::read(buffer, &mut bytes) {
                crash(buffer);
            }
            RegValue::Binary(bytes)
        }
        _ => {
            set_status(status, NDIS_STATUS_NOT_SUPPORTED);
            return 0;
        }
    };
    reg_lock(&registry).set(&name, value);
    set_status(status, NDIS_STATUS_SUCCESS);
    0
}

/// Parses a `NetworkAddress` string: hex digit pairs, hyphens discarded.
pub(crate) fn parse_network_address(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s
        .chars()
        .filter(|&c| c != '-')
        .map(|c| c.to_digit(16).and_then(|d| u8::try_from(d).ok()))
        .collect::<Option<_>>()?;
    if digits.is_empty() || !digits.len().is_multiple_of(2) {
        return None;
    }
    Some(digits.chunks_exact(2).map(|p| (p[0] << 4) | p[1]).collect())
}

/// `NdisReadNetworkAddress(Status, NetworkAddress, NetworkAddressLength, ConfigurationHandle)`.
pub(crate) fn ndis_read_network_address(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (status, out, out_len, key) = (call.arg(0), call.arg(1), call.arg(2), call.arg(3));
    let Some((registry, _)) = open_handle(host, call, key, "NdisReadNetworkAddress") else {
        set_status(status, NDIS_STATUS_FAILURE);
        return 0;
    };
    let value = reg_lock(&registry).get("NetworkAddress").cloned();
    let bytes = match value {
        Some(RegValue::String(s)) => parse_network_address(&s),
        _ => None,
    };
    let Some(bytes) = bytes else {
        set_status(status, NDIS_STATUS_FAILURE);
        return 0;
    };
    let Some(block) = HostBlock::zeroed(bytes.len(), 16) else {
        set_status(status, NDIS_STATUS_RESOURCES);
        return 0;
    };
    // SAFETY: the block has room for `bytes`.
    unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), block.ptr(), bytes.len()) };
    let addr = keep(host, key, block);
    dmem::write_u64_or_crash(out, addr);
    dmem::write_u32_or_crash(out_len, u32::try_from(bytes.len()).unwrap_or(u32::MAX));
    set_status(status, NDIS_STATUS_SUCCESS);
    0
}
