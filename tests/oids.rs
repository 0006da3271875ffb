//! Every OID rvmini answers, asked of the real rvmini.sys running in ndis-host.
//!
//! The expected behaviour comes from Microsoft's OID pages (learn.microsoft.com, "NDIS OIDs"),
//! never from the driver's own answers: [`SPEC`] lists what an NDIS 6 Ethernet miniport is asked
//! and how large each answer is, and each value is checked against what the test itself set up
//! (registry keywords, the INF's defaults, frames it sent, what NDIS was told at
//! initialization). Buffer rules, from NDIS_OID_REQUEST and MINIPORT_OID_REQUEST:
//!
//! * a query with a buffer shorter than the answer fails with `NDIS_STATUS_BUFFER_TOO_SHORT`
//!   (or `NDIS_STATUS_INVALID_LENGTH`), writes nothing (BytesWritten 0) and sets BytesNeeded;
//! * an exact buffer gets the answer; a longer buffer gets the same answer, BytesWritten the
//!   answer's size, and no byte after it changes;
//! * 64-bit statistics ("Querying 64-Bit Statistics OIDs"): 8 bytes or more get the value, 4–7
//!   bytes the low 32 bits with BytesWritten 4 and BytesNeeded 8, fewer than 4 bytes
//!   `NDIS_STATUS_INVALID_LENGTH` with BytesNeeded 8;
//! * a set with too little data fails with `NDIS_STATUS_INVALID_LENGTH` and BytesNeeded;
//! * an OID the miniport does not handle gets `NDIS_STATUS_NOT_SUPPORTED`.
//!
//! Every test ends with the shared tear-down of `tests/rig` (`rig::finish`): a clean
//! pause/halt/unload with no verifier finding, crash, protocol error, corrupt or reordered frame,
//! overrun pool block or object left allocated after unload.

mod common;
mod rig;

use ndis_host::host::thread::PASSIVE;
use ndis_host::host::{HostConfig, Mode};
use ndis_host::kernel::registry::{RegValue, Registry};
use ndis_host::ndis::adapter::General;
use ndis_host::ndis::names;
use ndis_host::ndis::oid::{self as host_oid, OidResult};
use ndis_host::ndis::protocol::{Frame, Layout};
use ndis_host::scenario;
use ndis_host::sim::Sim;
use ndis_sys as sys;
use rig::frame;
use std::collections::BTreeSet;
use std::mem::offset_of;
use std::sync::atomic::Ordering;

// ---------------------------------------------------------------------------------------------
// What NDIS asks of an NDIS 6 Ethernet miniport
// ---------------------------------------------------------------------------------------------

/// Which request types an OID takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    Query,
    Set,
    QuerySet,
}

/// The size of the answer (queries) or of the data (sets).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Size {
    /// Exactly this many bytes.
    Fixed(usize),
    /// A 64-bit statistics counter (the 4-byte rules apply).
    Counter,
    /// Depends on the adapter (a list or a string).
    Variable,
}

struct Spec {
    oid: u32,
    access: Access,
    size: Size,
}

const fn spec(oid: u32, access: Access, size: Size) -> Spec {
    Spec { oid, access, size }
}

const ULONG: Size = Size::Fixed(4);

/// rvmini's virtual link runs at 10 Gbit/s (its general attributes' MaxXmitLinkSpeed).
const LINK_SPEED_BPS: u64 = 10_000_000_000;

/// Every OID rvmini is expected to answer, with its type and size as Microsoft's OID pages give
/// them (page names in the comments; all under learn.microsoft.com/windows-hardware/drivers/).
static SPEC: &[Spec] = &[
    // network/oid-gen-supported-list: array of NDIS_OID.
    spec(sys::OID_GEN_SUPPORTED_LIST, Access::Query, Size::Variable),
    // network/oid-gen-hardware-status: NDIS_HARDWARE_STATUS (ULONG).
    spec(sys::OID_GEN_HARDWARE_STATUS, Access::Query, ULONG),
    // network/oid-gen-media-supported, -media-in-use: NDIS_MEDIUM (ULONG).
    spec(sys::OID_GEN_MEDIA_SUPPORTED, Access::Query, ULONG),
    spec(sys::OID_GEN_MEDIA_IN_USE, Access::Query, ULONG),
    // network/oid-gen-physical-medium: NDIS_PHYSICAL_MEDIUM (ULONG).
    spec(sys::OID_GEN_PHYSICAL_MEDIUM, Access::Query, ULONG),
    // network/oid-gen-maximum-frame-size: bytes, header excluded.
    spec(sys::OID_GEN_MAXIMUM_FRAME_SIZE, Access::Query, ULONG),
    // network/oid-gen-maximum-total-size: bytes, header included.
    spec(sys::OID_GEN_MAXIMUM_TOTAL_SIZE, Access::Query, ULONG),
    // network/oid-gen-maximum-lookahead, -current-lookahead (set: valid sets reach the miniport).
    spec(sys::OID_GEN_MAXIMUM_LOOKAHEAD, Access::Query, ULONG),
    spec(sys::OID_GEN_CURRENT_LOOKAHEAD, Access::QuerySet, ULONG),
    // network/oid-gen-link-speed: ULONG in units of 100 bit/s.
    spec(sys::OID_GEN_LINK_SPEED, Access::Query, ULONG),
    // network/oid-gen-transmit-buffer-space, -receive-buffer-space, -*-block-size: ULONG bytes.
    spec(sys::OID_GEN_TRANSMIT_BUFFER_SPACE, Access::Query, ULONG),
    spec(sys::OID_GEN_RECEIVE_BUFFER_SPACE, Access::Query, ULONG),
    spec(sys::OID_GEN_TRANSMIT_BLOCK_SIZE, Access::Query, ULONG),
    spec(sys::OID_GEN_RECEIVE_BLOCK_SIZE, Access::Query, ULONG),
    // network/oid-gen-vendor-id: three-byte OUI + one byte; 0xFFFFFF without an OUI.
    spec(sys::OID_GEN_VENDOR_ID, Access::Query, ULONG),
    // network/oid-gen-vendor-description: NUL-terminated string.
    spec(sys::OID_GEN_VENDOR_DESCRIPTION, Access::Query, Size::Variable),
    // network/oid-gen-vendor-driver-version: major in the high half, minor in the low half.
    spec(sys::OID_GEN_VENDOR_DRIVER_VERSION, Access::Query, ULONG),
    // network/oid-gen-driver-version: USHORT, major in the high byte.
    spec(sys::OID_GEN_DRIVER_VERSION, Access::Query, Size::Fixed(2)),
    // network/oid-gen-current-packet-filter: ULONG of NDIS_PACKET_TYPE_* (set mandatory).
    spec(sys::OID_GEN_CURRENT_PACKET_FILTER, Access::QuerySet, ULONG),
    // network/oid-gen-maximum-send-packets: ULONG.
    spec(sys::OID_GEN_MAXIMUM_SEND_PACKETS, Access::Query, ULONG),
    // network/oid-gen-mac-options: ULONG of NDIS_MAC_OPTION_*.
    spec(sys::OID_GEN_MAC_OPTIONS, Access::Query, ULONG),
    // network/oid-gen-media-connect-status: NDIS_MEDIA_STATE (ULONG).
    spec(sys::OID_GEN_MEDIA_CONNECT_STATUS, Access::Query, ULONG),
    // network/oid-gen-link-state: NDIS_LINK_STATE.
    spec(sys::OID_GEN_LINK_STATE, Access::Query, Size::Fixed(sys::NDIS_SIZEOF_LINK_STATE_REVISION_1)),
    // network/oid-gen-xmit-ok, -rcv-ok, -xmit-error, -rcv-error, -rcv-no-buffer, -rcv-discards,
    // -xmit-discards: statistics counters (querying-64-bit-statistics-oids).
    spec(sys::OID_GEN_XMIT_OK, Access::Query, Size::Counter),
    spec(sys::OID_GEN_RCV_OK, Access::Query, Size::Counter),
    spec(sys::OID_GEN_XMIT_ERROR, Access::Query, Size::Counter),
    spec(sys::OID_GEN_RCV_ERROR, Access::Query, Size::Counter),
    spec(sys::OID_GEN_RCV_NO_BUFFER, Access::Query, Size::Counter),
    spec(sys::OID_GEN_RCV_DISCARDS, Access::Query, Size::Counter),
    spec(sys::OID_GEN_XMIT_DISCARDS, Access::Query, Size::Counter),
    // network/oid-gen-transmit-queue-length: ULONG.
    spec(sys::OID_GEN_TRANSMIT_QUEUE_LENGTH, Access::Query, ULONG),
    // network/oid-gen-statistics: NDIS_STATISTICS_INFO revision 1.
    spec(sys::OID_GEN_STATISTICS, Access::Query, Size::Fixed(sys::NDIS_SIZEOF_STATISTICS_INFO_REVISION_1)),
    // network/oid-gen-interrupt-moderation: NDIS_INTERRUPT_MODERATION_PARAMETERS, set and query.
    spec(
        sys::OID_GEN_INTERRUPT_MODERATION,
        Access::QuerySet,
        Size::Fixed(sys::NDIS_SIZEOF_INTERRUPT_MODERATION_PARAMETERS_REVISION_1),
    ),
    // network/oid-gen-link-parameters: NDIS_LINK_PARAMETERS, set only.
    spec(sys::OID_GEN_LINK_PARAMETERS, Access::Set, Size::Fixed(sys::NDIS_SIZEOF_LINK_PARAMETERS_REVISION_1)),
    // network/oid-802-3-permanent-address, -current-address: 6 bytes.
    spec(sys::OID_802_3_PERMANENT_ADDRESS, Access::Query, Size::Fixed(6)),
    spec(sys::OID_802_3_CURRENT_ADDRESS, Access::Query, Size::Fixed(6)),
    // network/oid-802-3-multicast-list: array of 6-byte addresses.
    spec(sys::OID_802_3_MULTICAST_LIST, Access::QuerySet, Size::Variable),
    // network/oid-802-3-maximum-list-size: ULONG.
    spec(sys::OID_802_3_MAXIMUM_LIST_SIZE, Access::Query, ULONG),
    // network/802-3-statistic-oids (and oid-802-3-rcv-error-alignment etc.): counters.
    spec(sys::OID_802_3_RCV_ERROR_ALIGNMENT, Access::Query, Size::Counter),
    spec(sys::OID_802_3_XMIT_ONE_COLLISION, Access::Query, Size::Counter),
    spec(sys::OID_802_3_XMIT_MORE_COLLISIONS, Access::Query, Size::Counter),
    spec(sys::OID_802_3_XMIT_DEFERRED, Access::Query, Size::Counter),
    spec(sys::OID_802_3_XMIT_MAX_COLLISIONS, Access::Query, Size::Counter),
    spec(sys::OID_802_3_RCV_OVERRUN, Access::Query, Size::Counter),
    spec(sys::OID_802_3_XMIT_UNDERRUN, Access::Query, Size::Counter),
    spec(sys::OID_802_3_XMIT_HEARTBEAT_FAILURE, Access::Query, Size::Counter),
    spec(sys::OID_802_3_XMIT_TIMES_CRS_LOST, Access::Query, Size::Counter),
    spec(sys::OID_802_3_XMIT_LATE_COLLISIONS, Access::Query, Size::Counter),
    // network/oid-pnp-query-power: the buffer holds the NDIS_DEVICE_POWER_STATE asked about;
    // "Miniport drivers must always return NDIS_STATUS_SUCCESS to this OID request".
    spec(sys::OID_PNP_QUERY_POWER, Access::Query, Size::Fixed(4)),
    // network/oid-pnp-set-power: NDIS_DEVICE_POWER_STATE.
    spec(sys::OID_PNP_SET_POWER, Access::Set, Size::Fixed(4)),
];

/// OIDs an NDIS 6 Ethernet miniport may leave unsupported, and rvmini does.
const UNSUPPORTED: &[u32] = &[
    sys::OID_PNP_CAPABILITIES,
    sys::OID_PNP_ENABLE_WAKE_UP,
    sys::OID_GEN_SUPPORTED_GUIDS,
    sys::OID_GEN_MEDIA_CAPABILITIES,
    sys::OID_GEN_RECEIVE_SCALE_CAPABILITIES,
    sys::OID_GEN_MEDIA_DUPLEX_STATE,
    sys::OID_GEN_DIRECTED_FRAMES_XMIT,
    sys::OID_GEN_BYTES_RCV,
    sys::OID_802_3_MAC_OPTIONS,
    sys::OID_802_3_ADD_MULTICAST_ADDRESS,
    sys::OID_TCP_OFFLOAD_CURRENT_CONFIG,
    sys::OID_OFFLOAD_ENCAPSULATION,
    0xFF00_0001, // a vendor-private OID nobody defined
];

fn find(oid: u32) -> &'static Spec {
    SPEC.iter().find(|s| s.oid == oid).unwrap_or_else(|| panic!("{} is not in SPEC", names::oid(oid)))
}

fn queryable() -> impl Iterator<Item = &'static Spec> {
    SPEC.iter().filter(|s| s.access != Access::Set)
}

// ---------------------------------------------------------------------------------------------
// The rig: the real driver image, adapters with chosen registry keywords
// ---------------------------------------------------------------------------------------------

/// One adapter's registry keywords (None: keyword absent).
#[derive(Clone, Debug, Default)]
struct Cfg {
    jumbo: Option<u32>,
    receive_buffers: Option<u32>,
    permanent: Option<[u8; 6]>,
    network_address: Option<[u8; 6]>,
}

impl Cfg {
    fn registry(&self) -> Registry {
        let mut r = Registry::new();
        if let Some(j) = self.jumbo {
            r.set("*JumboPacket", RegValue::String(j.to_string()));
        }
        if let Some(n) = self.receive_buffers {
            r.set("*ReceiveBuffers", RegValue::String(n.to_string()));
        }
        if let Some(p) = self.permanent {
            r.set("RvminiPermanentAddress", RegValue::Binary(p.to_vec()));
        }
        if let Some(m) = self.network_address {
            let text: Vec<String> = m.iter().map(|b| format!("{b:02X}")).collect();
            r.set("NetworkAddress", RegValue::String(text.join("")));
        }
        r
    }
}

struct Rig {
    sim: Sim,
    ids: Vec<usize>,
    cfgs: Vec<Cfg>,
}

fn deterministic(seed: u64) -> Mode {
    Mode::Deterministic { seed }
}

fn rig(mode: Mode, cfgs: &[Cfg]) -> Rig {
    let sim = Sim::new(HostConfig { mode, ..HostConfig::default() });
    sim.load(&common::driver_image()).unwrap_or_else(|e| panic!("loading rvmini.sys: {e}"));
    sim.host().ndis.protocol.grow(256);
    let ids = scenario::bring_up(&sim, cfgs.len(), &|i| cfgs[i].registry())
        .unwrap_or_else(|e| panic!("bring-up failed: {e}; findings {:#?}", sim.findings()));
    Rig { sim, ids, cfgs: cfgs.to_vec() }
}

/// The default-keyword value the INF gives `keyword` (what Windows stores at install).
fn inf_default(keyword: &str) -> u32 {
    let inf = String::from_utf8(common::read_package_file("rvmini.inf")).expect("rvmini.inf is ASCII");
    let key = format!("Ndi\\params\\{keyword},");
    let line = inf
        .lines()
        .find(|l| l.contains(&key) && l.contains("Default"))
        .unwrap_or_else(|| panic!("rvmini.inf has no default for {keyword}"));
    let value = line.rsplit(',').next().unwrap_or_default().trim().trim_matches('"');
    value.parse().unwrap_or_else(|e| panic!("{keyword} default {value:?}: {e}"))
}

/// The INF's device description (the string the OS shows for the adapter).
fn inf_device_description() -> String {
    let inf = String::from_utf8(common::read_package_file("rvmini.inf")).expect("rvmini.inf is ASCII");
    let line = inf
        .lines()
        .find(|l| l.trim_start().starts_with("rvmini.DeviceDesc"))
        .expect("rvmini.inf has rvmini.DeviceDesc");
    line.split_once('=').map(|(_, v)| v.trim().trim_matches('"').to_owned()).unwrap_or_default()
}

fn status_name(s: i32) -> String {
    names::status(s)
}

fn u32_at(b: &[u8], off: usize) -> u32 {
    u32::from_le_bytes(b[off..off + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], off: usize) -> u64 {
    u64::from_le_bytes(b[off..off + 8].try_into().expect("8 bytes"))
}

fn header_bytes(kind: u8, revision: u8, size: usize) -> [u8; 4] {
    let s = u16::try_from(size).expect("header size fits").to_le_bytes();
    [kind, revision, s[0], s[1]]
}

impl Rig {
    fn id(&self, i: usize) -> usize {
        self.ids[i]
    }

    fn query(&self, i: usize, oid: u32, len: usize) -> OidResult {
        self.sim.query(self.id(i), oid, len).unwrap_or_else(|e| panic!("query {}: {e}", names::oid(oid)))
    }

    fn set(&self, i: usize, oid: u32, data: &[u8]) -> OidResult {
        self.sim.set(self.id(i), oid, data).unwrap_or_else(|e| panic!("set {}: {e}", names::oid(oid)))
    }

    /// A query that must succeed; its answer.
    fn value(&self, i: usize, oid: u32, len: usize) -> Vec<u8> {
        let r = self.query(i, oid, len);
        assert_eq!(r.status, sys::NDIS_STATUS_SUCCESS, "{} ({len} bytes): {}", names::oid(oid), status_name(r.status));
        r.data
    }

    fn ulong(&self, i: usize, oid: u32) -> u32 {
        u32_at(&self.value(i, oid, 4), 0)
    }

    fn counter(&self, i: usize, oid: u32) -> u64 {
        u64_at(&self.value(i, oid, 8), 0)
    }

    fn statistics(&self, i: usize) -> Vec<u8> {
        self.value(i, sys::OID_GEN_STATISTICS, sys::NDIS_SIZEOF_STATISTICS_INFO_REVISION_1)
    }

    fn set_ok(&self, i: usize, oid: u32, data: &[u8]) {
        let r = self.set(i, oid, data);
        assert_eq!(r.status, sys::NDIS_STATUS_SUCCESS, "set {}: {}", names::oid(oid), status_name(r.status));
        assert_eq!(r.bytes as usize, data.len(), "set {}: BytesRead", names::oid(oid));
    }

    /// What NDIS was told in the general attributes.
    fn general(&self, i: usize) -> General {
        self.sim.adapter(self.id(i)).lock().general.clone().expect("general attributes were set")
    }

    /// `*JumboPacket` as configured: the largest frame, header included.
    fn total_size(&self, i: usize) -> u32 {
        self.cfgs[i].jumbo.unwrap_or_else(|| inf_default("*JumboPacket"))
    }

    fn receive_buffers(&self, i: usize) -> u32 {
        self.cfgs[i].receive_buffers.unwrap_or_else(|| inf_default("*ReceiveBuffers"))
    }

    /// The permanent address: the one the registry held, or the one the driver persisted there.
    fn permanent(&self, i: usize) -> [u8; 6] {
        if let Some(p) = self.cfgs[i].permanent {
            return p;
        }
        let registry = self.sim.adapter(self.id(i)).registry.lock().expect("registry lock").clone();
        match registry.get("RvminiPermanentAddress") {
            Some(RegValue::Binary(b)) => b.as_slice().try_into().expect("6 persisted bytes"),
            other => panic!("the driver persisted no permanent address: {other:?}"),
        }
    }

    /// The station address: `NetworkAddress` if set, else the permanent address.
    fn mac(&self, i: usize) -> [u8; 6] {
        self.cfgs[i].network_address.unwrap_or_else(|| self.permanent(i))
    }

    fn link_up(&self, i: usize) -> bool {
        self.sim.adapter(self.id(i)).lock().link_up == Some(true)
    }

    /// Sends `frames` from adapter `i`, one frame per NBL; returns the NBLs sent.
    fn send(&self, i: usize, frames: &[Frame]) -> usize {
        let n = self.sim.send(self.id(i), u32::try_from(i).expect("small"), frames, 1, PASSIVE).expect("send");
        assert_eq!(n, frames.len(), "the protocol ran out of send slots");
        n
    }

    /// Sends all of `frames` from adapter `i`, waiting for send slots to come back when the
    /// protocol's pool runs dry (threaded mode, where completions arrive concurrently).
    fn send_all(&self, i: usize, frames: &[Frame]) {
        let mut rest = frames;
        while !rest.is_empty() {
            let n = self.sim.send(self.id(i), u32::try_from(i).expect("small"), rest, 1, PASSIVE).expect("send");
            rest = &rest[n..];
            if n == 0 {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
        }
    }

    fn settle(&self) {
        rig::settle(&self.sim);
    }

    /// Frames indicated to adapter `i` so far (counted by the host protocol).
    fn received(&self, i: usize) -> u64 {
        self.sim.adapter(self.id(i)).counters.received.load(Ordering::Relaxed)
    }

    fn completed_ok(&self, i: usize) -> u64 {
        self.sim.adapter(self.id(i)).counters.completed_ok.load(Ordering::Relaxed)
    }

    /// Pauses, halts and unloads with the shared tear-down ([`rig::finish`]): no pool block
    /// overrun, no verifier finding, crash, protocol error, corrupt or reordered frame, every
    /// adapter halted, and nothing left allocated after unload.
    fn finish(self) {
        rig::finish(&self.sim);
        for &i in &self.ids {
            assert!(self.sim.adapter(i).lock().halted, "adapter {i} was not halted");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Buffer rules
// ---------------------------------------------------------------------------------------------

/// What a raw query saw: the request's result fields and the whole buffer afterwards.
struct Raw {
    status: i32,
    written: u32,
    needed: u32,
    buffer: Vec<u8>,
}

/// Bytes after the information buffer that a raw query also watches.
const TAIL: usize = 64;
/// What the buffer holds before the miniport writes.
const FILL: u8 = 0x5C;

/// A query issued straight to MiniportOidRequest with a buffer of `len` bytes filled with
/// [`FILL`] (plus [`TAIL`] more), so that every byte the miniport leaves alone can be seen.
/// rvmini completes every request before returning, so the host's OID bookkeeping (which only
/// matters for pended requests) is not needed; a PENDING return fails the test.
fn raw_query(rig: &Rig, i: usize, oid: u32, len: usize) -> Raw {
    let mut buffer = vec![FILL; len + TAIL];
    // SAFETY: all-zero is a valid NDIS_OID_REQUEST (integers and null pointers).
    let mut r: sys::NDIS_OID_REQUEST = unsafe { std::mem::zeroed() };
    r.Header = sys::NDIS_OBJECT_HEADER {
        Type: sys::NDIS_OBJECT_TYPE_OID_REQUEST,
        Revision: sys::NDIS_OID_REQUEST_REVISION_1,
        Size: u16::try_from(sys::NDIS_SIZEOF_OID_REQUEST_REVISION_1).expect("fits"),
    };
    r.RequestType = sys::NdisRequestQueryInformation;
    r.RequestId = std::ptr::without_provenance_mut(0x4F1D);
    r.DATA.QUERY_INFORMATION.Oid = oid;
    r.DATA.QUERY_INFORMATION.InformationBuffer =
        if len == 0 { std::ptr::null_mut() } else { buffer.as_mut_ptr().cast() };
    r.DATA.QUERY_INFORMATION.InformationBufferLength = u32::try_from(len).expect("fits");
    let mut request = Box::new(r);
    let adapter = rig.sim.adapter(rig.id(i));
    let handler = rig.sim.host().ndis.driver.handlers().oid_request;
    let address = std::ptr::from_mut::<sys::NDIS_OID_REQUEST>(&mut request) as u64;
    let returned = rig
        .sim
        .host()
        .call("MiniportOidRequest", Some(rig.id(i)), PASSIVE, handler, &[adapter.context(), address])
        .unwrap_or_else(|_| panic!("MiniportOidRequest({}) crashed", names::oid(oid)));
    let status = i32::from_le_bytes(returned.to_le_bytes()[..4].try_into().expect("4 bytes"));
    assert_ne!(status, sys::NDIS_STATUS_PENDING, "rvmini pended {}", names::oid(oid));
    // SAFETY: a query request: the QUERY_INFORMATION form is the one the miniport filled.
    let (written, needed) =
        unsafe { (request.DATA.QUERY_INFORMATION.BytesWritten, request.DATA.QUERY_INFORMATION.BytesNeeded) };
    Raw { status, written, needed, buffer }
}

/// Checks a fixed or variable answer against `expected` with buffers of 0, size-1, size and
/// size+13 bytes. `short` is the status a short buffer must get.
fn check_answer(rig: &Rig, i: usize, oid: u32, expected: &[u8], short: i32) {
    let name = names::oid(oid);
    let n = expected.len();
    let mut short_lengths = vec![0, n.saturating_sub(1)];
    short_lengths.dedup();
    for len in short_lengths.into_iter().filter(|l| *l < n) {
        let r = rig.query(i, oid, len);
        assert_eq!(r.status, short, "{name} with {len} of {n} bytes: {}", status_name(r.status));
        assert_eq!(r.needed as usize, n, "{name} with {len} bytes: BytesNeeded");
        assert_eq!(r.bytes, 0, "{name} with {len} bytes: BytesWritten");
    }
    let r = rig.query(i, oid, n);
    assert_eq!(r.status, sys::NDIS_STATUS_SUCCESS, "{name} with exactly {n} bytes: {}", status_name(r.status));
    assert_eq!(r.bytes as usize, n, "{name}: BytesWritten");
    assert_eq!(r.data, expected, "{name}: the answer");
    let long = n + 13;
    let raw = raw_query(rig, i, oid, long);
    assert_eq!(raw.status, sys::NDIS_STATUS_SUCCESS, "{name} with {long} bytes: {}", status_name(raw.status));
    assert_eq!(raw.written as usize, n, "{name} with {long} bytes: BytesWritten");
    assert_eq!(&raw.buffer[..n], expected, "{name} with {long} bytes: the answer");
    assert!(
        raw.buffer[n..].iter().all(|b| *b == FILL),
        "{name}: bytes after the answer changed: {:?}",
        &raw.buffer[n..]
    );
}

/// Checks a 64-bit counter whose value is `value` with every buffer length from 0 to 12.
fn check_counter(rig: &Rig, i: usize, oid: u32, value: u64) {
    let name = names::oid(oid);
    for len in 0..=12usize {
        let raw = raw_query(rig, i, oid, len);
        let host = rig.query(i, oid, len);
        assert_eq!((host.status, host.bytes, host.needed), (raw.status, raw.written, raw.needed), "{name}/{len}");
        match len {
            0..=3 => {
                assert_eq!(
                    raw.status,
                    sys::NDIS_STATUS_INVALID_LENGTH,
                    "{name} with {len} bytes: {}",
                    status_name(raw.status)
                );
                assert_eq!((raw.written, raw.needed), (0, 8), "{name} with {len} bytes");
                assert!(raw.buffer.iter().all(|b| *b == FILL), "{name} with {len} bytes wrote something");
            }
            4..=7 => {
                assert_eq!(
                    raw.status,
                    sys::NDIS_STATUS_SUCCESS,
                    "{name} with {len} bytes: {}",
                    status_name(raw.status)
                );
                assert_eq!((raw.written, raw.needed), (4, 8), "{name} with {len} bytes");
                let low = u32::try_from(value & 0xFFFF_FFFF).expect("32 bits");
                assert_eq!(u32_at(&raw.buffer, 0), low, "{name}: the low 32 bits");
                assert!(raw.buffer[4..].iter().all(|b| *b == FILL), "{name} with {len} bytes wrote past 4");
            }
            _ => {
                assert_eq!(
                    raw.status,
                    sys::NDIS_STATUS_SUCCESS,
                    "{name} with {len} bytes: {}",
                    status_name(raw.status)
                );
                assert_eq!(raw.written, 8, "{name} with {len} bytes: BytesWritten");
                assert_eq!(u64_at(&raw.buffer, 0), value, "{name}: the value");
                assert!(raw.buffer[8..].iter().all(|b| *b == FILL), "{name} with {len} bytes wrote past 8");
            }
        }
    }
}

/// Checks a set with too little data: INVALID_LENGTH, BytesRead 0, BytesNeeded `needed`.
fn check_short_set(rig: &Rig, i: usize, oid: u32, needed: usize, status: i32) {
    for len in [0, needed - 1] {
        let r = rig.set(i, oid, &vec![0u8; len]);
        assert_eq!(r.status, status, "set {} with {len} bytes: {}", names::oid(oid), status_name(r.status));
        assert_eq!(r.bytes, 0, "set {} with {len} bytes: BytesRead", names::oid(oid));
        assert_eq!(r.needed as usize, needed, "set {} with {len} bytes: BytesNeeded", names::oid(oid));
    }
}

// ---------------------------------------------------------------------------------------------
// The expected answers of an adapter at rest (no traffic since bring-up)
// ---------------------------------------------------------------------------------------------

/// What `oid` must answer on adapter `i` right after bring-up, from the test's own knowledge.
fn truth_at_rest(rig: &Rig, i: usize, oid: u32) -> Vec<u8> {
    let total = rig.total_size(i);
    let mtu = total - 14;
    let general = rig.general(i);
    let le = |v: u32| v.to_le_bytes().to_vec();
    match oid {
        sys::OID_GEN_SUPPORTED_LIST => general.oids.iter().flat_map(|o| o.to_le_bytes()).collect(),
        sys::OID_GEN_HARDWARE_STATUS => le(sys::NdisHardwareStatusReady),
        sys::OID_GEN_MEDIA_SUPPORTED | sys::OID_GEN_MEDIA_IN_USE => le(sys::NdisMedium802_3),
        sys::OID_GEN_PHYSICAL_MEDIUM => le(sys::NdisPhysicalMedium802_3),
        sys::OID_GEN_MAXIMUM_FRAME_SIZE | sys::OID_GEN_MAXIMUM_LOOKAHEAD => le(mtu),
        // NDIS learnt the lookahead from the general attributes; nobody has set it since.
        sys::OID_GEN_CURRENT_LOOKAHEAD => le(general.lookahead),
        sys::OID_GEN_MAXIMUM_TOTAL_SIZE | sys::OID_GEN_TRANSMIT_BLOCK_SIZE | sys::OID_GEN_RECEIVE_BLOCK_SIZE => {
            le(total)
        }
        // OID_GEN_LINK_SPEED: "the maximum speed of the NIC", in units of 100 bit/s.
        sys::OID_GEN_LINK_SPEED => le(u32::try_from(LINK_SPEED_BPS / 100).expect("fits")),
        // Checked against the send queue's real limit in `send_queue_limits_are_what_the_oids_say`.
        sys::OID_GEN_TRANSMIT_BUFFER_SPACE => le(rig.ulong(i, sys::OID_GEN_MAXIMUM_SEND_PACKETS) * total),
        sys::OID_GEN_RECEIVE_BUFFER_SPACE => le(rig.receive_buffers(i) * total),
        sys::OID_GEN_VENDOR_ID => le(0x00FF_FFFF),
        sys::OID_GEN_VENDOR_DESCRIPTION => {
            let mut d = inf_device_description().into_bytes();
            d.push(0);
            d
        }
        sys::OID_GEN_VENDOR_DRIVER_VERSION => {
            let major: u32 = env!("CARGO_PKG_VERSION_MAJOR").parse().expect("major");
            let minor: u32 = env!("CARGO_PKG_VERSION_MINOR").parse().expect("minor");
            le((major << 16) | minor)
        }
        sys::OID_GEN_DRIVER_VERSION => {
            let r = rig.sim.host().ndis.driver.registration().expect("registered");
            (u16::from(r.ndis_version.0) << 8 | u16::from(r.ndis_version.1)).to_le_bytes().to_vec()
        }
        // What scenario::bring_up set, as a bound protocol does.
        sys::OID_GEN_CURRENT_PACKET_FILTER => {
            le(sys::NDIS_PACKET_TYPE_DIRECTED | sys::NDIS_PACKET_TYPE_MULTICAST | sys::NDIS_PACKET_TYPE_BROADCAST)
        }
        // Checked against the send queue's real limit in `send_queue_limits_are_what_the_oids_say`.
        sys::OID_GEN_MAXIMUM_SEND_PACKETS => le(rig.ulong(i, sys::OID_GEN_MAXIMUM_SEND_PACKETS)),
        sys::OID_GEN_MAC_OPTIONS => le(general.mac_options),
        // NDIS_MEDIA_STATE: 0 connected, 1 disconnected.
        sys::OID_GEN_MEDIA_CONNECT_STATUS => le(u32::from(!rig.link_up(i))),
        sys::OID_GEN_LINK_STATE => link_state_bytes(rig.link_up(i)),
        sys::OID_GEN_TRANSMIT_QUEUE_LENGTH => le(0),
        sys::OID_GEN_STATISTICS => statistics_bytes(general.statistics, &[0; 18]),
        sys::OID_GEN_INTERRUPT_MODERATION => {
            let mut b = vec![0u8; sys::NDIS_SIZEOF_INTERRUPT_MODERATION_PARAMETERS_REVISION_1];
            b[..4].copy_from_slice(&header_bytes(
                sys::NDIS_OBJECT_TYPE_DEFAULT,
                sys::NDIS_INTERRUPT_MODERATION_PARAMETERS_REVISION_1,
                sys::NDIS_SIZEOF_INTERRUPT_MODERATION_PARAMETERS_REVISION_1,
            ));
            let at = offset_of!(sys::NDIS_INTERRUPT_MODERATION_PARAMETERS, InterruptModeration);
            b[at..at + 4].copy_from_slice(&sys::NdisInterruptModerationNotSupported.to_le_bytes());
            b
        }
        sys::OID_802_3_PERMANENT_ADDRESS => rig.permanent(i).to_vec(),
        sys::OID_802_3_CURRENT_ADDRESS => rig.mac(i).to_vec(),
        sys::OID_802_3_MULTICAST_LIST => Vec::new(),
        // Checked against the list's real limit in `multicast_list_set_query_and_effect`.
        sys::OID_802_3_MAXIMUM_LIST_SIZE => le(32),
        other => panic!("no expected value for {}", names::oid(other)),
    }
}

/// NDIS_LINK_STATE as the miniport must report it: connected, full duplex at the link's speed,
/// or disconnected with unknown duplex and speed; no pause frames on a virtual wire.
fn link_state_bytes(connected: bool) -> Vec<u8> {
    let speed = if connected { LINK_SPEED_BPS } else { sys::NDIS_LINK_SPEED_UNKNOWN };
    let (xmit, rcv) = (speed, speed);
    let mut b = vec![0u8; sys::NDIS_SIZEOF_LINK_STATE_REVISION_1];
    b[..4].copy_from_slice(&header_bytes(
        sys::NDIS_OBJECT_TYPE_DEFAULT,
        sys::NDIS_LINK_STATE_REVISION_1,
        sys::NDIS_SIZEOF_LINK_STATE_REVISION_1,
    ));
    let put = |b: &mut Vec<u8>, at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
    let (state, duplex) = if connected {
        (sys::MediaConnectStateConnected, sys::MediaDuplexStateFull)
    } else {
        (sys::MediaConnectStateDisconnected, sys::MediaDuplexStateUnknown)
    };
    put(&mut b, offset_of!(sys::NDIS_LINK_STATE, MediaConnectState), &state.to_le_bytes());
    put(&mut b, offset_of!(sys::NDIS_LINK_STATE, MediaDuplexState), &duplex.to_le_bytes());
    put(&mut b, offset_of!(sys::NDIS_LINK_STATE, XmitLinkSpeed), &xmit.to_le_bytes());
    put(&mut b, offset_of!(sys::NDIS_LINK_STATE, RcvLinkSpeed), &rcv.to_le_bytes());
    put(&mut b, offset_of!(sys::NDIS_LINK_STATE, PauseFunctions), &sys::NdisPauseFunctionsUnsupported.to_le_bytes());
    b
}

/// The 18 counters of NDIS_STATISTICS_INFO, in structure order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Stats {
    in_discards: u64,
    in_errors: u64,
    in_octets: u64,
    in_ucast: u64,
    in_mcast: u64,
    in_bcast: u64,
    out_octets: u64,
    out_ucast: u64,
    out_mcast: u64,
    out_bcast: u64,
    out_errors: u64,
    out_discards: u64,
    in_ucast_octets: u64,
    in_mcast_octets: u64,
    in_bcast_octets: u64,
    out_ucast_octets: u64,
    out_mcast_octets: u64,
    out_bcast_octets: u64,
}

impl Stats {
    fn array(&self) -> [u64; 18] {
        [
            self.in_discards,
            self.in_errors,
            self.in_octets,
            self.in_ucast,
            self.in_mcast,
            self.in_bcast,
            self.out_octets,
            self.out_ucast,
            self.out_mcast,
            self.out_bcast,
            self.out_errors,
            self.out_discards,
            self.in_ucast_octets,
            self.in_mcast_octets,
            self.in_bcast_octets,
            self.out_ucast_octets,
            self.out_mcast_octets,
            self.out_bcast_octets,
        ]
    }
}

fn statistics_bytes(supported: u32, counters: &[u64; 18]) -> Vec<u8> {
    let mut b = Vec::with_capacity(sys::NDIS_SIZEOF_STATISTICS_INFO_REVISION_1);
    b.extend_from_slice(&header_bytes(
        sys::NDIS_OBJECT_TYPE_DEFAULT,
        sys::NDIS_STATISTICS_INFO_REVISION_1,
        sys::NDIS_SIZEOF_STATISTICS_INFO_REVISION_1,
    ));
    b.extend_from_slice(&supported.to_le_bytes());
    assert_eq!(b.len(), offset_of!(sys::NDIS_STATISTICS_INFO, ifInDiscards), "no padding before the counters");
    for c in counters {
        b.extend_from_slice(&c.to_le_bytes());
    }
    assert_eq!(b.len(), sys::NDIS_SIZEOF_STATISTICS_INFO_REVISION_1);
    b
}

/// The status a short buffer gets for `oid`: `OID_GEN_STATISTICS` answers INVALID_LENGTH, as the
/// WDK's netvmini sample does (NdisOidRequest allows INVALID_LENGTH or BUFFER_TOO_SHORT);
/// everything else BUFFER_TOO_SHORT (MINIPORT_OID_REQUEST: "too small to hold the requested
/// data").
fn short_status(oid: u32) -> i32 {
    if oid == sys::OID_GEN_STATISTICS { sys::NDIS_STATUS_INVALID_LENGTH } else { sys::NDIS_STATUS_BUFFER_TOO_SHORT }
}

/// Adapter 0: every address keyword set, a non-default `*ReceiveBuffers`; adapter 1: nothing set
/// (the driver generates and persists its permanent address).
fn two_adapters() -> Vec<Cfg> {
    vec![
        Cfg {
            receive_buffers: Some(128),
            permanent: Some([0x02, 0x52, 0x56, 0x00, 0x10, 0x01]),
            network_address: Some([0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0x01]),
            ..Cfg::default()
        },
        Cfg::default(),
    ]
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn supported_list_is_exactly_the_handled_oids() {
    let rig = rig(deterministic(11), &two_adapters());
    for i in 0..2 {
        let r = rig.query(i, sys::OID_GEN_SUPPORTED_LIST, 4096);
        assert_eq!(r.status, sys::NDIS_STATUS_SUCCESS);
        let listed: Vec<u32> = r.data.chunks_exact(4).map(|c| u32_at(c, 0)).collect();
        assert_eq!(r.data.len() % 4, 0);
        let set: BTreeSet<u32> = listed.iter().copied().collect();
        assert_eq!(set.len(), listed.len(), "duplicates in the supported list");
        let expected: BTreeSet<u32> = SPEC.iter().map(|s| s.oid).collect();
        let missing: Vec<String> = expected.difference(&set).map(|o| names::oid(*o)).collect();
        let extra: Vec<String> = set.difference(&expected).map(|o| names::oid(*o)).collect();
        assert!(missing.is_empty() && extra.is_empty(), "missing {missing:?}, unexpected {extra:?}");
        assert_eq!(listed, rig.general(i).oids, "the query answers the list NDIS was given at initialization");
    }
    // Every listed OID is handled: something other than NOT_SUPPORTED for its request types, and
    // NOT_SUPPORTED for the type it does not take.
    for s in SPEC {
        let query = rig.query(0, s.oid, 512);
        let data = valid_set_data(&rig, 0, s.oid);
        let set = rig.set(0, s.oid, &data);
        let name = names::oid(s.oid);
        match s.access {
            Access::Query => {
                assert_ne!(query.status, sys::NDIS_STATUS_NOT_SUPPORTED, "query {name}");
                assert_eq!(set.status, sys::NDIS_STATUS_NOT_SUPPORTED, "set {name} (query-only)");
            }
            Access::Set => {
                assert_eq!(query.status, sys::NDIS_STATUS_NOT_SUPPORTED, "query {name} (set-only)");
                assert_ne!(set.status, sys::NDIS_STATUS_NOT_SUPPORTED, "set {name}");
            }
            Access::QuerySet => {
                assert_ne!(query.status, sys::NDIS_STATUS_NOT_SUPPORTED, "query {name}");
                assert_ne!(set.status, sys::NDIS_STATUS_NOT_SUPPORTED, "set {name}");
            }
        }
    }
    for &oid in UNSUPPORTED {
        for len in [0, 4, 64] {
            let q = rig.query(1, oid, len);
            assert_eq!(q.status, sys::NDIS_STATUS_NOT_SUPPORTED, "query {} ({len})", names::oid(oid));
            assert_eq!(q.bytes, 0);
            let s = rig.set(1, oid, &vec![0u8; len]);
            assert_eq!(s.status, sys::NDIS_STATUS_NOT_SUPPORTED, "set {} ({len})", names::oid(oid));
            assert_eq!(s.bytes, 0);
        }
    }
    rig.finish();
}

/// Data a set of `oid` accepts on adapter `i` without changing anything (for set-only and
/// query-set OIDs), or plain zeros for the others.
fn valid_set_data(rig: &Rig, i: usize, oid: u32) -> Vec<u8> {
    match oid {
        sys::OID_GEN_CURRENT_PACKET_FILTER | sys::OID_GEN_CURRENT_LOOKAHEAD => rig.value(i, oid, 4),
        sys::OID_802_3_MULTICAST_LIST => rig.value(i, oid, 6 * 32),
        sys::OID_GEN_LINK_PARAMETERS => {
            link_parameters(sys::MediaDuplexStateFull, 10_000_000_000, sys::NdisPauseFunctionsUnsupported)
        }
        sys::OID_GEN_INTERRUPT_MODERATION => rig.value(i, oid, 64),
        sys::OID_PNP_SET_POWER => sys::NdisDeviceStateD0.to_le_bytes().to_vec(),
        _ => vec![0; 8],
    }
}

fn link_parameters(duplex: u32, speed: u64, pause: u32) -> Vec<u8> {
    let mut b = vec![0u8; sys::NDIS_SIZEOF_LINK_PARAMETERS_REVISION_1];
    b[..4].copy_from_slice(&header_bytes(
        sys::NDIS_OBJECT_TYPE_DEFAULT,
        sys::NDIS_LINK_PARAMETERS_REVISION_1,
        sys::NDIS_SIZEOF_LINK_PARAMETERS_REVISION_1,
    ));
    let mut put = |at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
    put(offset_of!(sys::NDIS_LINK_PARAMETERS, MediaDuplexState), &duplex.to_le_bytes());
    put(offset_of!(sys::NDIS_LINK_PARAMETERS, XmitLinkSpeed), &speed.to_le_bytes());
    put(offset_of!(sys::NDIS_LINK_PARAMETERS, RcvLinkSpeed), &speed.to_le_bytes());
    put(offset_of!(sys::NDIS_LINK_PARAMETERS, PauseFunctions), &pause.to_le_bytes());
    b
}

#[test]
fn every_query_oid_answers_short_exact_and_long_buffers() {
    let rig = rig(deterministic(12), &two_adapters());
    for i in 0..2 {
        for s in queryable() {
            match s.size {
                Size::Counter => check_counter(&rig, i, s.oid, 0),
                _ if s.oid == sys::OID_PNP_QUERY_POWER => {}
                _ => {
                    let expected = truth_at_rest(&rig, i, s.oid);
                    if let Size::Fixed(n) = s.size {
                        assert_eq!(expected.len(), n, "{}: the documented size", names::oid(s.oid));
                    }
                    check_answer(&rig, i, s.oid, &expected, short_status(s.oid));
                }
            }
        }
    }
    // The two adapters' identities: what the registry said, and distinct.
    assert_eq!(rig.value(0, sys::OID_802_3_PERMANENT_ADDRESS, 6), [0x02, 0x52, 0x56, 0x00, 0x10, 0x01]);
    assert_eq!(rig.value(0, sys::OID_802_3_CURRENT_ADDRESS, 6), [0x02, 0xAA, 0xBB, 0xCC, 0xDD, 0x01]);
    let generated = rig.permanent(1);
    assert_eq!(generated[0] & 0x03, 0x02, "a generated address is locally administered unicast");
    assert_eq!(rig.value(1, sys::OID_802_3_CURRENT_ADDRESS, 6), generated);
    assert_eq!(rig.sim.mac(rig.id(1)), generated, "the current address NDIS was given");
    assert!(rig.link_up(0) && rig.link_up(1), "two adapters on the hub are connected");
    rig.finish();
}

#[test]
fn query_power_always_succeeds() {
    let rig = rig(deterministic(13), &two_adapters());
    // OID_PNP_QUERY_POWER: "Miniport drivers must always return NDIS_STATUS_SUCCESS to this OID
    // request. Any other return code is an error." Nothing is written back.
    for state in [sys::NdisDeviceStateD1, sys::NdisDeviceStateD2, sys::NdisDeviceStateD3] {
        let input = state.to_le_bytes();
        for len in [4, 8] {
            let r = host_oid::request(
                rig.sim.host(),
                &rig.sim.adapter(rig.id(0)),
                host_oid::Kind::Query,
                sys::OID_PNP_QUERY_POWER,
                &input,
                len,
                &|done| rig.sim.wait_until(done),
            )
            .expect("query power");
            assert_eq!((r.status, r.bytes), (sys::NDIS_STATUS_SUCCESS, 0), "D{} in {len} bytes", state - 1);
        }
    }
    let raw = raw_query(&rig, 0, sys::OID_PNP_QUERY_POWER, 4);
    assert_eq!((raw.status, raw.written), (sys::NDIS_STATUS_SUCCESS, 0));
    assert!(raw.buffer.iter().all(|b| *b == FILL), "OID_PNP_QUERY_POWER wrote into the buffer");
    let r = rig.query(0, sys::OID_PNP_QUERY_POWER, 0);
    assert_eq!(r.status, sys::NDIS_STATUS_SUCCESS, "even without a buffer");
    rig.finish();
}

#[test]
fn frame_sizes_follow_jumbo_packet() {
    let cfgs = [Cfg { jumbo: Some(9014), ..Cfg::default() }, Cfg::default()];
    let rig = rig(deterministic(14), &cfgs);
    assert_eq!(rig.ulong(0, sys::OID_GEN_MAXIMUM_FRAME_SIZE), 9000);
    assert_eq!(rig.ulong(0, sys::OID_GEN_MAXIMUM_TOTAL_SIZE), 9014);
    assert_eq!(rig.ulong(1, sys::OID_GEN_MAXIMUM_FRAME_SIZE), 1500);
    assert_eq!(rig.ulong(1, sys::OID_GEN_MAXIMUM_TOTAL_SIZE), 1514);
    for i in 0..2 {
        for oid in [
            sys::OID_GEN_MAXIMUM_FRAME_SIZE,
            sys::OID_GEN_MAXIMUM_TOTAL_SIZE,
            sys::OID_GEN_MAXIMUM_LOOKAHEAD,
            sys::OID_GEN_CURRENT_LOOKAHEAD,
            sys::OID_GEN_TRANSMIT_BLOCK_SIZE,
            sys::OID_GEN_RECEIVE_BLOCK_SIZE,
            sys::OID_GEN_RECEIVE_BUFFER_SPACE,
            sys::OID_GEN_TRANSMIT_BUFFER_SPACE,
        ] {
            check_answer(&rig, i, oid, &truth_at_rest(&rig, i, oid), sys::NDIS_STATUS_BUFFER_TOO_SHORT);
        }
        assert_eq!(rig.general(i).mtu, rig.ulong(i, sys::OID_GEN_MAXIMUM_FRAME_SIZE), "MTU told to NDIS");
    }
    // The sizes are real: the jumbo adapter sends a 9014-byte frame; the standard adapter cannot
    // hold it (a receive error, as a NIC counts a giant), and cannot send a frame above 1514.
    let (jumbo_mac, small_mac) = (rig.mac(0), rig.mac(1));
    rig.send(0, &[frame(small_mac, 9014), frame(small_mac, 1514)]);
    rig.send(1, &[frame(jumbo_mac, 1515), frame(jumbo_mac, 1514)]);
    rig.settle();
    assert_eq!(rig.counter(0, sys::OID_GEN_XMIT_OK), 2);
    assert_eq!(rig.counter(1, sys::OID_GEN_RCV_ERROR), 1, "the 9014-byte frame is a giant for a 1514 adapter");
    assert_eq!(rig.counter(1, sys::OID_GEN_RCV_OK), 1);
    assert_eq!(rig.received(1), 1);
    assert_eq!(rig.counter(1, sys::OID_GEN_XMIT_ERROR), 1, "a 1515-byte frame exceeds *JumboPacket 1514");
    assert_eq!(rig.counter(1, sys::OID_GEN_XMIT_OK), 1);
    assert_eq!(rig.counter(0, sys::OID_GEN_RCV_OK), 1);
    assert_eq!(rig.completed_ok(1), 1);
    rig.finish();
}

/// The destination class of a frame to `dst`, as NDIS_STATISTICS_INFO counts it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    Directed,
    Multicast,
    Broadcast,
}

fn class(dst: [u8; 6]) -> Class {
    if dst == [0xFF; 6] {
        Class::Broadcast
    } else if dst[0] & 1 == 1 {
        Class::Multicast
    } else {
        Class::Directed
    }
}

/// The counters a sender and a receiver must show for `frames` (all well formed) sent from the
/// sender to a receiver whose station address is `receiver` and multicast list `list`.
fn expect_traffic(frames: &[Frame], receiver: [u8; 6], list: &[[u8; 6]], tx: &mut Stats, rx: &mut Stats) {
    for f in frames {
        let len = f.len as u64;
        let wire = len.max(60);
        let c = class(f.dst);
        tx.out_octets += len;
        match c {
            Class::Directed => (tx.out_ucast, tx.out_ucast_octets) = (tx.out_ucast + 1, tx.out_ucast_octets + len),
            Class::Multicast => (tx.out_mcast, tx.out_mcast_octets) = (tx.out_mcast + 1, tx.out_mcast_octets + len),
            Class::Broadcast => (tx.out_bcast, tx.out_bcast_octets) = (tx.out_bcast + 1, tx.out_bcast_octets + len),
        }
        let accepted = match c {
            Class::Directed => f.dst == receiver,
            Class::Multicast => list.contains(&f.dst),
            Class::Broadcast => true,
        };
        if accepted {
            rx.in_octets += wire;
            match c {
                Class::Directed => {
                    (rx.in_ucast, rx.in_ucast_octets) = (rx.in_ucast + 1, rx.in_ucast_octets + wire);
                }
                Class::Multicast => {
                    (rx.in_mcast, rx.in_mcast_octets) = (rx.in_mcast + 1, rx.in_mcast_octets + wire);
                }
                Class::Broadcast => {
                    (rx.in_bcast, rx.in_bcast_octets) = (rx.in_bcast + 1, rx.in_bcast_octets + wire);
                }
            }
        }
    }
}

fn check_statistics(rig: &Rig, i: usize, expected: &Stats) {
    let general = rig.general(i);
    let got = rig.statistics(i);
    let want = statistics_bytes(general.statistics, &expected.array());
    if got != want {
        let fields: Vec<(u64, u64)> = (0..18).map(|k| (u64_at(&got, 8 + 8 * k), u64_at(&want, 8 + 8 * k))).collect();
        panic!("adapter {i}: OID_GEN_STATISTICS (got, want) per counter: {fields:?}");
    }
    // The single OIDs answer the same counts as the structure (OID_GEN_STATISTICS page: "the same
    // value that OID_GEN_RCV_DISCARDS returns", and so on).
    let frames_out = expected.out_ucast + expected.out_mcast + expected.out_bcast;
    let frames_in = expected.in_ucast + expected.in_mcast + expected.in_bcast;
    for (oid, value) in [
        (sys::OID_GEN_XMIT_OK, frames_out),
        (sys::OID_GEN_RCV_OK, frames_in),
        (sys::OID_GEN_XMIT_ERROR, expected.out_errors),
        (sys::OID_GEN_RCV_ERROR, expected.in_errors),
        (sys::OID_GEN_RCV_DISCARDS, expected.in_discards),
        (sys::OID_GEN_XMIT_DISCARDS, expected.out_discards),
        (sys::OID_GEN_RCV_NO_BUFFER, 0),
        (sys::OID_802_3_RCV_OVERRUN, 0),
    ] {
        check_counter(rig, i, oid, value);
    }
    for s in SPEC.iter().filter(|s| s.size == Size::Counter && (s.oid >> 16) == 0x0102) {
        if s.oid != sys::OID_802_3_RCV_OVERRUN {
            check_counter(rig, i, s.oid, 0);
        }
    }
}

#[test]
fn counters_match_real_traffic() {
    let rig = rig(deterministic(15), &two_adapters());
    let (a, b) = (rig.mac(0), rig.mac(1));
    let group = [0x01, 0x00, 0x5E, 0x00, 0x00, 0x01];
    let other_group = [0x01, 0x00, 0x5E, 0x7F, 0x00, 0x09];
    rig.set_ok(1, sys::OID_802_3_MULTICAST_LIST, &group);
    let mut from_a: Vec<Frame> = [60, 64, 128, 512, 1514, 42].iter().map(|&n| frame(b, n)).collect();
    from_a.extend([frame(group, 100), frame(group, 200), frame(other_group, 300)]);
    from_a.extend([frame([0xFF; 6], 60), frame([0xFF; 6], 1000)]);
    let from_b = [frame(a, 70), frame(a, 80), frame([0xFF; 6], 90), frame(group, 33)];
    let bad: Vec<Frame> =
        [100, 200, 300].iter().map(|&n| Frame { dst: b, len: n, layout: Layout::Truncated }).collect();
    let bytes_before = rig.sim.host().ndis.protocol.stats.received_bytes.load(Ordering::Relaxed);
    rig.send(0, &from_a);
    rig.send(0, &bad);
    rig.send(1, &from_b);
    rig.settle();
    let (mut sa, mut sb) = (Stats::default(), Stats::default());
    expect_traffic(&from_a, b, &[group], &mut sa, &mut sb);
    expect_traffic(&from_b, a, &[], &mut sb, &mut sa);
    sa.out_errors = 3;
    check_statistics(&rig, 0, &sa);
    check_statistics(&rig, 1, &sb);
    // The host's own counts agree: what the protocol saw indicated, and what completed.
    assert_eq!(rig.received(1), sb.in_ucast + sb.in_mcast + sb.in_bcast);
    assert_eq!(rig.received(0), sa.in_ucast + sa.in_mcast + sa.in_bcast, "no frame loops back to its sender");
    let bytes = rig.sim.host().ndis.protocol.stats.received_bytes.load(Ordering::Relaxed) - bytes_before;
    assert_eq!(bytes, sa.in_octets + sb.in_octets, "received octets are the bytes indicated");
    assert_eq!(rig.completed_ok(0), from_a.len() as u64);
    assert_eq!(rig.completed_ok(1), from_b.len() as u64);
    // Sends while Paused are discarded (completed with NDIS_STATUS_PAUSED).
    let paused_before = rig.sim.host().ndis.protocol.stats.completed_paused.load(Ordering::Relaxed);
    rig.sim.pause(rig.id(0)).expect("pause");
    rig.send(0, &[frame(b, 100), frame(b, 100), frame([0xFF; 6], 100), frame(group, 100)]);
    rig.settle();
    let paused = rig.sim.host().ndis.protocol.stats.completed_paused.load(Ordering::Relaxed) - paused_before;
    assert_eq!(paused, 4);
    assert_eq!(rig.sim.restart(rig.id(0)).expect("restart"), sys::NDIS_STATUS_SUCCESS);
    sa.out_discards = 4;
    check_statistics(&rig, 0, &sa);
    check_statistics(&rig, 1, &sb);
    rig.finish();
}

#[test]
fn send_queue_limits_are_what_the_oids_say() {
    let rig = rig(deterministic(16), &[Cfg::default(), Cfg::default()]);
    let max_send = rig.ulong(0, sys::OID_GEN_MAXIMUM_SEND_PACKETS);
    let total = rig.ulong(0, sys::OID_GEN_MAXIMUM_TOTAL_SIZE);
    assert!(max_send >= 1);
    assert_eq!(rig.ulong(0, sys::OID_GEN_TRANSMIT_BUFFER_SPACE), max_send * total);
    let n = usize::try_from(max_send).expect("fits");
    let len = usize::try_from(total).expect("fits");
    rig.sim.host().ndis.protocol.grow(n + 8);
    let to = rig.mac(1);
    let stats = &rig.sim.host().ndis.protocol.stats;
    // One NBL more than the send queue holds, in one call to an idle adapter: refused as a whole
    // with NDIS_STATUS_RESOURCES (a full transmit ring), counted as discards, nothing sent.
    let other_before = stats.completed_other.load(Ordering::Relaxed);
    rig.send(0, &vec![frame(to, len); n + 1]);
    assert_eq!(stats.completed_other.load(Ordering::Relaxed) - other_before, u64::from(max_send) + 1);
    assert_eq!(rig.counter(0, sys::OID_GEN_XMIT_DISCARDS), u64::from(max_send) + 1);
    assert_eq!(rig.counter(0, sys::OID_GEN_XMIT_OK), 0);
    assert_eq!(rig.ulong(0, sys::OID_GEN_TRANSMIT_QUEUE_LENGTH), 0);
    // Exactly as many: all accepted. Until they complete, the queue length is what the host
    // knows to be outstanding in the miniport.
    rig.send(0, &vec![frame(to, len); n]);
    let outstanding = rig.sim.adapter(rig.id(0)).counters.sends_outstanding.load(Ordering::SeqCst);
    assert_eq!(i64::from(rig.ulong(0, sys::OID_GEN_TRANSMIT_QUEUE_LENGTH)), outstanding);
    rig.settle();
    assert_eq!(rig.ulong(0, sys::OID_GEN_TRANSMIT_QUEUE_LENGTH), 0);
    assert_eq!(rig.counter(0, sys::OID_GEN_XMIT_OK), u64::from(max_send));
    assert_eq!(rig.counter(0, sys::OID_GEN_XMIT_DISCARDS), u64::from(max_send) + 1, "no more discards");
    assert_eq!(rig.counter(1, sys::OID_GEN_RCV_OK), u64::from(max_send));
    assert_eq!(rig.received(1), u64::from(max_send));
    rig.finish();
}

#[test]
fn packet_filter_set_query_and_effect() {
    let rig = rig(deterministic(17), &two_adapters());
    let oid = sys::OID_GEN_CURRENT_PACKET_FILTER;
    let to = rig.mac(1);
    // Short data: INVALID_LENGTH with BytesNeeded 4 (NDIS_OID_REQUEST, SET_INFORMATION).
    check_short_set(&rig, 1, oid, 4, sys::NDIS_STATUS_INVALID_LENGTH);
    // Directed only: broadcasts stop arriving, directed frames still do.
    rig.set_ok(1, oid, &sys::NDIS_PACKET_TYPE_DIRECTED.to_le_bytes());
    check_answer(&rig, 1, oid, &sys::NDIS_PACKET_TYPE_DIRECTED.to_le_bytes(), sys::NDIS_STATUS_BUFFER_TOO_SHORT);
    rig.send(0, &[frame(to, 100), frame([0xFF; 6], 100)]);
    rig.settle();
    assert_eq!(rig.received(1), 1, "only the directed frame");
    // Packet types rvmini cannot filter are refused and the filter stays.
    for bits in [
        sys::NDIS_PACKET_TYPE_SOURCE_ROUTING,
        sys::NDIS_PACKET_TYPE_SMT,
        sys::NDIS_PACKET_TYPE_ALL_LOCAL,
        sys::NDIS_PACKET_TYPE_GROUP,
        sys::NDIS_PACKET_TYPE_FUNCTIONAL,
        sys::NDIS_PACKET_TYPE_DIRECTED | sys::NDIS_PACKET_TYPE_MAC_FRAME,
    ] {
        let r = rig.set(1, oid, &bits.to_le_bytes());
        assert_eq!(r.status, sys::NDIS_STATUS_NOT_SUPPORTED, "filter {bits:#x}: {}", status_name(r.status));
        assert_eq!(rig.ulong(1, oid), sys::NDIS_PACKET_TYPE_DIRECTED);
    }
    // A longer buffer: the ULONG is read, BytesRead 4.
    let mut long = (sys::NDIS_PACKET_TYPE_DIRECTED | sys::NDIS_PACKET_TYPE_BROADCAST).to_le_bytes().to_vec();
    long.extend([0xEE; 8]);
    let r = rig.set(1, oid, &long);
    assert_eq!((r.status, r.bytes), (sys::NDIS_STATUS_SUCCESS, 4));
    rig.send(0, &[frame([0xFF; 6], 100)]);
    rig.settle();
    assert_eq!(rig.received(1), 2, "broadcasts arrive again");
    // Zero: nothing is indicated at all.
    rig.set_ok(1, oid, &0u32.to_le_bytes());
    rig.send(0, &[frame(to, 100), frame([0xFF; 6], 100)]);
    rig.settle();
    assert_eq!(rig.received(1), 2);
    // Promiscuous: even frames for someone else.
    rig.set_ok(1, oid, &sys::NDIS_PACKET_TYPE_PROMISCUOUS.to_le_bytes());
    rig.send(0, &[frame([0x02, 9, 9, 9, 9, 9], 100)]);
    rig.settle();
    assert_eq!(rig.received(1), 3);
    rig.finish();
}

#[test]
fn multicast_list_set_query_and_effect() {
    let rig = rig(deterministic(18), &two_adapters());
    let oid = sys::OID_802_3_MULTICAST_LIST;
    let groups: Vec<[u8; 6]> = (0..40u8).map(|k| [0x01, 0x00, 0x5E, 0x00, 0x01, k]).collect();
    let bytes = |n: usize| groups[..n].concat();
    // Two groups: the query answers them, in order; frames to them arrive, to others not.
    rig.set_ok(1, oid, &bytes(2));
    check_answer(&rig, 1, oid, &bytes(2), sys::NDIS_STATUS_BUFFER_TOO_SHORT);
    rig.send(0, &[frame(groups[0], 80), frame(groups[1], 80), frame(groups[2], 80)]);
    rig.settle();
    assert_eq!(rig.received(1), 2);
    // OID_802_3_MAXIMUM_LIST_SIZE is the real limit: that many fit, one more is MULTICAST_FULL
    // (OID_802_3_MAXIMUM_LIST_SIZE page) and the list stays as it was.
    let max = rig.ulong(1, sys::OID_802_3_MAXIMUM_LIST_SIZE) as usize;
    assert!(max >= 1 && max < groups.len());
    rig.set_ok(1, oid, &bytes(max));
    assert_eq!(rig.value(1, oid, 6 * max), bytes(max));
    let r = rig.set(1, oid, &bytes(max + 1));
    assert_eq!(r.status, sys::NDIS_STATUS_MULTICAST_FULL, "{}", status_name(r.status));
    assert_eq!(r.bytes, 0);
    assert_eq!(rig.value(1, oid, 6 * max), bytes(max), "unchanged after MULTICAST_FULL");
    // A length that is not a whole number of addresses: INVALID_LENGTH, BytesNeeded the next
    // whole number (more than was given), list unchanged.
    for len in [1, 5, 7, 13, 6 * max - 1] {
        let r = rig.set(1, oid, &bytes(max)[..len]);
        assert_eq!(r.status, sys::NDIS_STATUS_INVALID_LENGTH, "{len} bytes: {}", status_name(r.status));
        assert_eq!(r.needed as usize, len.div_ceil(6) * 6, "{len} bytes: BytesNeeded");
        assert_eq!(r.bytes, 0);
    }
    assert_eq!(rig.value(1, oid, 6 * max), bytes(max));
    // A unicast address is not a multicast group: INVALID_DATA (MINIPORT_OID_REQUEST remarks).
    let mut mixed = bytes(1);
    mixed.extend_from_slice(&rig.mac(0));
    let r = rig.set(1, oid, &mixed);
    assert_eq!(r.status, sys::NDIS_STATUS_INVALID_DATA, "{}", status_name(r.status));
    assert_eq!(rig.value(1, oid, 6 * max), bytes(max));
    // Zero length clears the list (OID_802_3_MULTICAST_LIST page).
    rig.set_ok(1, oid, &[]);
    let r = rig.query(1, oid, 64);
    assert_eq!((r.status, r.bytes), (sys::NDIS_STATUS_SUCCESS, 0));
    rig.send(0, &[frame(groups[0], 80)]);
    rig.settle();
    assert_eq!(rig.received(1), 2, "no group is enabled any more");
    rig.finish();
}

#[test]
fn lookahead_set_and_get() {
    let rig = rig(deterministic(19), &two_adapters());
    let oid = sys::OID_GEN_CURRENT_LOOKAHEAD;
    let max = rig.ulong(0, sys::OID_GEN_MAXIMUM_LOOKAHEAD);
    assert_eq!(rig.ulong(0, oid), max, "the lookahead starts at its maximum");
    for v in [256u32, 0, max] {
        rig.set_ok(0, oid, &v.to_le_bytes());
        check_answer(&rig, 0, oid, &v.to_le_bytes(), sys::NDIS_STATUS_BUFFER_TOO_SHORT);
    }
    rig.set_ok(0, oid, &128u32.to_le_bytes());
    // Larger than the maximum: out of bounds, INVALID_DATA (MINIPORT_OID_REQUEST remarks).
    for v in [max + 1, u32::MAX] {
        let r = rig.set(0, oid, &v.to_le_bytes());
        assert_eq!(r.status, sys::NDIS_STATUS_INVALID_DATA, "lookahead {v}: {}", status_name(r.status));
        assert_eq!(rig.ulong(0, oid), 128, "unchanged");
    }
    check_short_set(&rig, 0, oid, 4, sys::NDIS_STATUS_INVALID_LENGTH);
    assert_eq!(rig.ulong(0, oid), 128);
    rig.finish();
}

#[test]
fn link_parameters_and_interrupt_moderation_sets() {
    let rig = rig(deterministic(20), &two_adapters());
    let lp = sys::OID_GEN_LINK_PARAMETERS;
    let speed = LINK_SPEED_BPS;
    let full = sys::MediaDuplexStateFull;
    let none = sys::NdisPauseFunctionsUnsupported;
    // What the link is (or unknown fields): accepted, with SupportedRevision 1.
    for data in [
        link_parameters(full, speed, none),
        link_parameters(sys::MediaDuplexStateUnknown, sys::NDIS_LINK_SPEED_UNKNOWN, sys::NdisPauseFunctionsUnknown),
    ] {
        let r = rig.set(0, lp, &data);
        assert_eq!(r.status, sys::NDIS_STATUS_SUCCESS, "{}", status_name(r.status));
        assert_eq!(r.bytes as usize, sys::NDIS_SIZEOF_LINK_PARAMETERS_REVISION_1);
        assert_eq!(r.supported_revision, sys::NDIS_LINK_PARAMETERS_REVISION_1);
    }
    // A change the virtual link cannot make, or a bad header: INVALID_DATA.
    let mut bad_header = link_parameters(full, speed, none);
    bad_header[0] = 0x81;
    for data in [
        link_parameters(sys::MediaDuplexStateHalf, speed, none),
        link_parameters(full, 1_000_000_000, none),
        link_parameters(full, speed, sys::NdisPauseFunctionsSendAndReceive),
        bad_header,
    ] {
        let r = rig.set(0, lp, &data);
        assert_eq!(r.status, sys::NDIS_STATUS_INVALID_DATA, "{}", status_name(r.status));
    }
    check_short_set(&rig, 0, lp, sys::NDIS_SIZEOF_LINK_PARAMETERS_REVISION_1, sys::NDIS_STATUS_INVALID_LENGTH);
    assert_eq!(
        rig.value(0, sys::OID_GEN_LINK_STATE, 64),
        truth_at_rest(&rig, 0, sys::OID_GEN_LINK_STATE),
        "link unchanged"
    );
    // OID_GEN_INTERRUPT_MODERATION: the query says NotSupported, so a set is INVALID_DATA (page
    // remarks); too short for the structure is INVALID_LENGTH first.
    let im = sys::OID_GEN_INTERRUPT_MODERATION;
    let current = rig.value(0, im, 64);
    let r = rig.set(0, im, &current);
    assert_eq!(r.status, sys::NDIS_STATUS_INVALID_DATA, "{}", status_name(r.status));
    check_short_set(
        &rig,
        0,
        im,
        sys::NDIS_SIZEOF_INTERRUPT_MODERATION_PARAMETERS_REVISION_1,
        sys::NDIS_STATUS_INVALID_LENGTH,
    );
    assert_eq!(rig.value(0, im, 64), current);
    rig.finish();
}

#[test]
fn set_power_d3_then_d0_and_traffic_resumes() {
    let rig = rig(deterministic(21), &two_adapters());
    let (a, b) = (rig.mac(0), rig.mac(1));
    rig.send(0, &[frame(b, 200); 5]);
    rig.settle();
    let power = sys::OID_PNP_SET_POWER;
    // OID_PNP_SET_POWER page: NDIS pauses the adapter first (rvmini does not ask for
    // NDIS_MINIPORT_ATTRIBUTES_NO_PAUSE_ON_SUSPEND), then sets the low-power state.
    rig.sim.pause(rig.id(0)).expect("pause");
    let r = rig.set(0, power, &sys::NdisDeviceStateD3.to_le_bytes());
    assert_eq!((r.status, r.bytes), (sys::NDIS_STATUS_SUCCESS, 4), "{}", status_name(r.status));
    // Requests NDIS never builds: the NdisOidComplete rule allows only SUCCESS, PENDING and
    // NOT_ACCEPTED for this OID, so they are NOT_ACCEPTED (BytesNeeded 4 when short).
    check_short_set(&rig, 0, power, 4, sys::NDIS_STATUS_NOT_ACCEPTED);
    for state in [0u32, 5, 0xFFFF_FFFF] {
        let r = rig.set(0, power, &state.to_le_bytes());
        assert_eq!(r.status, sys::NDIS_STATUS_NOT_ACCEPTED, "state {state}: {}", status_name(r.status));
    }
    let r = rig.set(0, power, &sys::NdisDeviceStateD0.to_le_bytes());
    assert_eq!((r.status, r.bytes), (sys::NDIS_STATUS_SUCCESS, 4), "{}", status_name(r.status));
    assert_eq!(rig.sim.restart(rig.id(0)).expect("restart"), sys::NDIS_STATUS_SUCCESS);
    rig.send(0, &[frame(b, 300); 5]);
    rig.send(1, &[frame(a, 400); 7]);
    rig.settle();
    assert_eq!(rig.counter(0, sys::OID_GEN_XMIT_OK), 10);
    assert_eq!(rig.counter(1, sys::OID_GEN_RCV_OK), 10);
    assert_eq!(rig.counter(0, sys::OID_GEN_RCV_OK), 7, "the receive path came back after D0");
    assert_eq!(rig.received(0), 7);
    // Both adapters through a whole D3/D0 cycle once more, and the counters survive it.
    for i in 0..2 {
        rig.sim.pause(rig.id(i)).expect("pause");
        rig.set_ok(i, power, &sys::NdisDeviceStateD3.to_le_bytes());
        rig.set_ok(i, power, &sys::NdisDeviceStateD0.to_le_bytes());
        assert_eq!(rig.sim.restart(rig.id(i)).expect("restart"), sys::NDIS_STATUS_SUCCESS);
    }
    rig.send(1, &[frame(a, 64); 3]);
    rig.settle();
    assert_eq!(rig.counter(0, sys::OID_GEN_RCV_OK), 10);
    assert_eq!(rig.counter(1, sys::OID_GEN_XMIT_OK), 10);
    rig.finish();
}

#[test]
fn surprise_removed_adapter_answers_not_accepted() {
    let rig = rig(deterministic(22), &two_adapters());
    ndis_host::ndis::miniport::device_pnp_event(
        rig.sim.host(),
        &rig.sim.adapter(rig.id(0)),
        sys::NdisDevicePnPEventSurpriseRemoved,
        &[],
    )
    .expect("PnP event");
    // MINIPORT_OID_REQUEST: after a surprise removal, OID requests until MiniportHaltEx are
    // completed at once with NDIS_STATUS_NOT_ACCEPTED.
    for s in queryable() {
        let r = rig.query(0, s.oid, 256);
        assert_eq!((r.status, r.bytes), (sys::NDIS_STATUS_NOT_ACCEPTED, 0), "{}", names::oid(s.oid));
    }
    let r = rig.set(0, sys::OID_GEN_CURRENT_PACKET_FILTER, &0u32.to_le_bytes());
    assert_eq!((r.status, r.bytes), (sys::NDIS_STATUS_NOT_ACCEPTED, 0));
    // The other adapter is unaffected.
    assert_eq!(rig.value(1, sys::OID_802_3_CURRENT_ADDRESS, 6), rig.mac(1));
    rig.finish();
}

#[test]
fn threaded_smoke() {
    let rig = rig(Mode::Threaded, &two_adapters());
    let (a, b) = (rig.mac(0), rig.mac(1));
    let sizes = [60usize, 128, 600, 1514];
    let to_b: Vec<Frame> = (0..200).map(|k| frame(b, sizes[k % 4])).collect();
    let to_a: Vec<Frame> = (0..150).map(|k| frame(a, sizes[k % 4])).collect();
    std::thread::scope(|s| {
        s.spawn(|| {
            for chunk in to_b.chunks(25) {
                rig.send_all(0, chunk);
            }
        });
        s.spawn(|| {
            for chunk in to_a.chunks(25) {
                rig.send_all(1, chunk);
            }
        });
    });
    rig.settle();
    let (mut sa, mut sb) = (Stats::default(), Stats::default());
    expect_traffic(&to_b, b, &[], &mut sa, &mut sb);
    expect_traffic(&to_a, a, &[], &mut sb, &mut sa);
    check_statistics(&rig, 0, &sa);
    check_statistics(&rig, 1, &sb);
    for i in 0..2 {
        // Statistics and counters were checked above against the traffic.
        let at_rest = |s: &&Spec| {
            s.size != Size::Counter && s.oid != sys::OID_PNP_QUERY_POWER && s.oid != sys::OID_GEN_STATISTICS
        };
        for s in queryable().filter(at_rest) {
            check_answer(&rig, i, s.oid, &truth_at_rest(&rig, i, s.oid), short_status(s.oid));
        }
    }
    rig.finish();
}

#[test]
fn docs_table_lists_exactly_the_supported_oids() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs").join("OIDS.md");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let documented: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`').map(|(name, _)| name.to_owned()))
        .filter(|n| n.starts_with("OID_"))
        .collect();
    let set: BTreeSet<String> = documented.iter().cloned().collect();
    assert_eq!(set.len(), documented.len(), "an OID appears twice in the table");
    let rig = rig(deterministic(23), &[Cfg::default()]);
    let listed: BTreeSet<String> =
        rig.value(0, sys::OID_GEN_SUPPORTED_LIST, 4096).chunks_exact(4).map(|c| names::oid(u32_at(c, 0))).collect();
    assert!(listed.iter().all(|n| n.starts_with("OID_")), "ndis-host names every listed OID: {listed:?}");
    let missing: Vec<&String> = listed.difference(&set).collect();
    let extra: Vec<&String> = set.difference(&listed).collect();
    assert!(missing.is_empty() && extra.is_empty(), "docs/OIDS.md: missing {missing:?}, not supported {extra:?}");
    // Each row also names the access the SPEC gives the OID.
    for line in text.lines().filter(|l| l.starts_with("| `OID_")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`');
        let s = SPEC.iter().find(|s| names::oid(s.oid) == name).expect("in SPEC");
        let access = match s.access {
            Access::Query => "Q",
            Access::Set => "S",
            Access::QuerySet => "Q/S",
        };
        assert_eq!(cells[2], access, "docs/OIDS.md: {name} access");
    }
    rig.finish();
}

#[test]
fn spec_sizes_are_self_consistent() {
    // Sanity of the table itself: every OID once, sizes where NDIS fixes them.
    let set: BTreeSet<u32> = SPEC.iter().map(|s| s.oid).collect();
    assert_eq!(set.len(), SPEC.len());
    assert_eq!(find(sys::OID_GEN_STATISTICS).size, Size::Fixed(0x98));
    assert_eq!(find(sys::OID_GEN_LINK_STATE).size, Size::Fixed(0x28));
    assert!(UNSUPPORTED.iter().all(|o| !set.contains(o)));
}
