//! Registry configuration: NdisOpenConfigurationEx and friends, NdisReadNetworkAddress, and the
//! Config.Misuse / Irql.Call rules.
// Import arguments and results are raw register values; the tests convert them to the C types
// they stand for (truncation and sign changes are the point).
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]

#[path = "kernel_support/mod.rs"]
mod support;

use ndis_host::host::HostInner;
use ndis_host::host::thread::{DISPATCH, PASSIVE};
use ndis_host::kernel::registry::{RegValue, Registry};
use ndis_host::kernel::resources::{Kind, Owner};
use ndis_host::verifier::Rule;
use ndis_sys::{
    BINARY_DATA, NDIS_CONFIGURATION_OBJECT, NDIS_CONFIGURATION_OBJECT_REVISION_1, NDIS_CONFIGURATION_PARAMETER,
    NDIS_CONFIGURATION_PARAMETER_DATA, NDIS_OBJECT_HEADER, NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT,
    NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1, NDIS_STATUS_FAILURE, NDIS_STATUS_SUCCESS, NdisParameterBinary,
    NdisParameterHexInteger, NdisParameterInteger, NdisParameterMultiString, NdisParameterString,
};
use std::sync::Arc;
use support::{assert_clean, det, device, drive, fired, kc, ndis_string, p, w};

fn config_object(handle: u64) -> NDIS_CONFIGURATION_OBJECT {
    NDIS_CONFIGURATION_OBJECT {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT,
            Revision: NDIS_CONFIGURATION_OBJECT_REVISION_1,
            Size: NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1 as u16,
        },
        NdisHandle: handle as usize as *mut _,
        Flags: 0,
    }
}

/// What one NdisReadConfiguration returned: status, type, and the value decoded.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    Failed(i32),
    Int(u32, u32),
    Str(u32, Vec<u16>),
    Bin(Vec<u8>),
}

fn decode(status: i32, param: *const NDIS_CONFIGURATION_PARAMETER) -> Read {
    if status != NDIS_STATUS_SUCCESS {
        return Read::Failed(status);
    }
    // SAFETY: NDIS returned a parameter that lives until the handle is closed.
    let v = unsafe { &*param };
    // SAFETY: the union member matching ParameterType.
    unsafe {
        match v.ParameterType {
            t if t == NdisParameterInteger || t == NdisParameterHexInteger => Read::Int(t, v.ParameterData.IntegerData),
            t if t == NdisParameterString || t == NdisParameterMultiString => {
                let s = v.ParameterData.StringData;
                Read::Str(t, std::slice::from_raw_parts(s.Buffer, usize::from(s.Length / 2)).to_vec())
            }
            _ => {
                let b = v.ParameterData.BinaryData;
                Read::Bin(std::slice::from_raw_parts(b.Buffer.cast::<u8>(), usize::from(b.Length)).to_vec())
            }
        }
    }
}

fn open(host: &Arc<HostInner>, adapter: usize, handle: u64) -> u64 {
    let mut obj = config_object(handle);
    let mut h = 0u64;
    let st = drive(host, Some(adapter), PASSIVE, || kc("NdisOpenConfigurationEx", &[p(&raw mut obj), p(&raw mut h)]))
        .unwrap();
    assert_eq!(st as u32 as i32, NDIS_STATUS_SUCCESS);
    h
}

fn read(host: &Arc<HostInner>, config: u64, keyword: &str, ty: u32) -> Read {
    let units = w(keyword);
    let mut name = ndis_string(&units);
    let mut status = 0x5555_5555u32 as i32;
    let mut out: *mut NDIS_CONFIGURATION_PARAMETER = std::ptr::null_mut();
    drive(host, None, PASSIVE, || {
        kc("NdisReadConfiguration", &[p(&raw mut status), p(&raw mut out), config, p(&raw mut name), u64::from(ty)])
    })
    .unwrap();
    decode(status, out)
}

fn registry() -> Registry {
    Registry::new()
        .with("MaxFrameSize", RegValue::Dword(1514))
        .with("*ReceiveBuffers", RegValue::String("256".into()))
        .with("HexValue", RegValue::String("0x1F".into()))
        .with("LogLevel", RegValue::String("verbose".into()))
        .with("Name", RegValue::String("rvmini".into()))
        .with("Multi", RegValue::MultiString(vec!["a".into(), "bc".into()]))
        .with("Blob", RegValue::Binary(vec![1, 2, 3]))
}

#[test]
fn reads_convert_values_as_ndis_documents() {
    let host = det();
    let (idx, handle) = device(&host, registry());
    let c = open(&host, idx, handle);
    assert_eq!(
        read(&host, c, "maxframesize", NdisParameterInteger),
        Read::Int(NdisParameterInteger, 1514),
        "case-insensitive"
    );
    assert_eq!(
        read(&host, c, "MaxFrameSize", NdisParameterString),
        Read::Int(NdisParameterInteger, 1514),
        "DWORD whatever asked"
    );
    assert_eq!(read(&host, c, "*ReceiveBuffers", NdisParameterInteger), Read::Int(NdisParameterInteger, 256));
    assert_eq!(read(&host, c, "HexValue", NdisParameterHexInteger), Read::Int(NdisParameterInteger, 31));
    assert_eq!(
        read(&host, c, "LogLevel", NdisParameterInteger),
        Read::Str(NdisParameterString, w("verbose")),
        "unconvertible"
    );
    assert_eq!(read(&host, c, "Name", NdisParameterString), Read::Str(NdisParameterString, w("rvmini")));
    assert_eq!(read(&host, c, "Multi", NdisParameterMultiString), Read::Str(NdisParameterMultiString, w("a\0bc\0")));
    assert_eq!(read(&host, c, "Blob", NdisParameterBinary), Read::Bin(vec![1, 2, 3]));
    assert_eq!(read(&host, c, "Missing", NdisParameterInteger), Read::Failed(NDIS_STATUS_FAILURE));
    assert_eq!(read(&host, c, "NdisVersion", NdisParameterInteger), Read::Int(NdisParameterInteger, 0x0006_0052));
    assert_eq!(
        host.resources.get(Kind::Config, c).map(|r| r.owner),
        Some(Owner::Adapter(idx)),
        "an open handle is a resource of the adapter"
    );
    drive(&host, None, PASSIVE, || kc("NdisCloseConfiguration", &[c])).unwrap();
    assert_eq!(host.resources.count(Kind::Config), 0);
    assert_clean(&host);
}

#[test]
fn writes_persist_in_the_device_registry() {
    let host = det();
    let (idx, handle) = device(&host, Registry::new());
    let c = open(&host, idx, handle);
    let (k1, k2, k3) = (w("Count"), w("Label"), w("Mac"));
    let (mut n1, mut n2, mut n3) = (ndis_string(&k1), ndis_string(&k2), ndis_string(&k3));
    let label = w("hello");
    let mac = [2u8, 0, 0, 0, 0, 1];
    let mut v1 = NDIS_CONFIGURATION_PARAMETER {
        ParameterType: NdisParameterInteger,
        ParameterData: NDIS_CONFIGURATION_PARAMETER_DATA { IntegerData: 42 },
    };
    let mut v2 = NDIS_CONFIGURATION_PARAMETER {
        ParameterType: NdisParameterString,
        ParameterData: NDIS_CONFIGURATION_PARAMETER_DATA { StringData: ndis_string(&label) },
    };
    let mut v3 = NDIS_CONFIGURATION_PARAMETER {
        ParameterType: NdisParameterBinary,
        ParameterData: NDIS_CONFIGURATION_PARAMETER_DATA {
            BinaryData: BINARY_DATA { Length: 6, Buffer: mac.as_ptr().cast_mut().cast() },
        },
    };
    let mut st = [0i32; 3];
    drive(&host, None, PASSIVE, || {
        kc("NdisWriteConfiguration", &[p(&raw mut st[0]), c, p(&raw mut n1), p(&raw mut v1)]);
        kc("NdisWriteConfiguration", &[p(&raw mut st[1]), c, p(&raw mut n2), p(&raw mut v2)]);
        kc("NdisWriteConfiguration", &[p(&raw mut st[2]), c, p(&raw mut n3), p(&raw mut v3)]);
        kc("NdisCloseConfiguration", &[c])
    })
    .unwrap();
    assert_eq!(st, [NDIS_STATUS_SUCCESS; 3]);
    let reg = host.ndis.registry(handle).unwrap();
    let reg = reg.lock().unwrap();
    assert_eq!(reg.get("count"), Some(&RegValue::Dword(42)));
    assert_eq!(reg.get("Label"), Some(&RegValue::String("hello".into())));
    assert_eq!(reg.get("MAC"), Some(&RegValue::Binary(mac.to_vec())));
    drop(reg);
    // A second open of the same device sees them.
    let c2 = open(&host, idx, handle);
    assert_eq!(read(&host, c2, "Mac", NdisParameterBinary), Read::Bin(mac.to_vec()));
    drive(&host, None, PASSIVE, || kc("NdisCloseConfiguration", &[c2])).unwrap();
    assert_clean(&host);
}

fn network_address(host: &Arc<HostInner>, value: Option<RegValue>) -> Result<Vec<u8>, i32> {
    let reg = match value {
        Some(v) => Registry::new().with("NetworkAddress", v),
        None => Registry::new(),
    };
    let (idx, handle) = device(host, reg);
    let c = open(host, idx, handle);
    let mut status = 0i32;
    let mut addr = 0u64;
    let mut len = 0u32;
    let mut bytes = Vec::new();
    drive(host, None, PASSIVE, || {
        kc("NdisReadNetworkAddress", &[p(&raw mut status), p(&raw mut addr), p(&raw mut len), c]);
        if status == NDIS_STATUS_SUCCESS {
            // SAFETY: NDIS's buffer is valid until the handle is closed.
            bytes = unsafe { std::slice::from_raw_parts(addr as *const u8, len as usize) }.to_vec();
        }
        kc("NdisCloseConfiguration", &[c])
    })
    .unwrap();
    if status == NDIS_STATUS_SUCCESS { Ok(bytes) } else { Err(status) }
}

#[test]
fn network_address_is_parsed_as_documented() {
    let host = det();
    let mac = vec![0x02, 0x00, 0x4C, 0x4F, 0x4F, 0x50];
    assert_eq!(network_address(&host, Some(RegValue::String("02004C4F4F50".into()))), Ok(mac.clone()));
    assert_eq!(network_address(&host, Some(RegValue::String("02-00-4c-4f-4f-50".into()))), Ok(mac));
    assert_eq!(network_address(&host, Some(RegValue::String("0200".into()))), Ok(vec![2, 0]), "no length check");
    let fail = Err(NDIS_STATUS_FAILURE);
    assert_eq!(network_address(&host, None), fail);
    assert_eq!(network_address(&host, Some(RegValue::String("02:00:4C:4F:4F:50".into()))), fail);
    assert_eq!(network_address(&host, Some(RegValue::String("02004".into()))), fail);
    assert_eq!(network_address(&host, Some(RegValue::String(String::new()))), fail);
    assert_eq!(network_address(&host, Some(RegValue::Dword(5))), fail, "not a string");
    assert_clean(&host);
}

#[test]
fn config_misuse_fires_for_use_after_close_double_close_and_bad_objects() {
    let host = det();
    let (idx, handle) = device(&host, registry());
    let c = open(&host, idx, handle);
    let mut bad = config_object(handle);
    bad.Header.Revision = 0;
    let mut h = 0u64;
    let mut st = 0;
    let units = w("Name");
    let mut name = ndis_string(&units);
    let mut status = 0i32;
    let mut out: *mut NDIS_CONFIGURATION_PARAMETER = std::ptr::null_mut();
    drive(&host, Some(idx), PASSIVE, || {
        kc("NdisReadConfiguration", &[p(&raw mut status), p(&raw mut out), c, p(&raw mut name), 2]);
        kc("NdisCloseConfiguration", &[c]);
        kc("NdisCloseConfiguration", &[c]); // twice
        kc("NdisReadConfiguration", &[p(&raw mut status), p(&raw mut out), c, p(&raw mut name), 2]); // after close
        st = kc("NdisOpenConfigurationEx", &[p(&raw mut bad), p(&raw mut h)]);
        0
    })
    .unwrap();
    assert_eq!(status, NDIS_STATUS_FAILURE, "a read through a closed handle fails");
    assert_eq!(st as u32 as i32, NDIS_STATUS_FAILURE);
    let msgs: Vec<String> = fired(&host, Rule::ConfigMisuse).into_iter().map(|f| f.message).collect();
    assert_eq!(msgs.len(), 3, "{msgs:#?}");
    assert!(msgs[0].contains("NdisCloseConfiguration") && msgs[0].contains("already closed"));
    assert!(msgs[1].contains("NdisReadConfiguration") && msgs[1].contains("already closed"));
    assert!(msgs[2].contains("invalid NDIS_CONFIGURATION_OBJECT"));
    assert!(fired(&host, Rule::ConfigMisuse).iter().all(|f| f.adapter == Some(idx)));
}

#[test]
fn configuration_at_dispatch_breaks_the_irql_rule_even_without_per_call_checks() {
    let host = det();
    host.verifier.set_per_call(false);
    let (idx, handle) = device(&host, registry());
    let mut obj = config_object(handle);
    let mut h = 0u64;
    drive(&host, Some(idx), DISPATCH, || {
        kc("NdisOpenConfigurationEx", &[p(&raw mut obj), p(&raw mut h)]);
        kc("NdisCloseConfiguration", &[h])
    })
    .unwrap();
    let f = fired(&host, Rule::CallIrql);
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(f[0].message.contains("NdisOpenConfigurationEx called at IRQL 2"));
}

#[test]
fn a_handle_that_is_not_an_adapter_opens_the_driver_parameters() {
    let host = det();
    host.kernel.driver_registry().lock().unwrap().set("Global", RegValue::Dword(9));
    let mut obj = config_object(0xD1D1_0000);
    let mut h = 0u64;
    drive(&host, None, PASSIVE, || kc("NdisOpenConfigurationEx", &[p(&raw mut obj), p(&raw mut h)])).unwrap();
    assert_eq!(read(&host, h, "global", NdisParameterInteger), Read::Int(NdisParameterInteger, 9));
    assert_eq!(host.resources.get(Kind::Config, h).unwrap().owner, Owner::Driver);
    drive(&host, None, PASSIVE, || kc("NdisCloseConfiguration", &[h])).unwrap();
    assert_clean(&host);
}
