//! The control path: MiniportOidRequest and MiniportCancelOidRequest.
//!
//! Every request is completed synchronously (rvmini never returns `NDIS_STATUS_PENDING` from
//! MiniportOidRequest), so there is never a pending request for MiniportCancelOidRequest to
//! cancel. The OIDs answered are exactly [`SUPPORTED_OIDS`]; docs/OIDS.md lists each with its
//! type, size and meaning.
//!
//! Buffer rules (rvmini-core's `oidbuf`): nothing is written past `InformationBufferLength`
//! and nothing past the answer; a query with a short buffer gets `NDIS_STATUS_BUFFER_TOO_SHORT`
//! with `BytesNeeded` and writes nothing; 64-bit counters answer the low 32 bits in a 4-byte
//! buffer and `NDIS_STATUS_INVALID_LENGTH` below 4 bytes; `OID_GEN_STATISTICS` and sets with a
//! short buffer get `NDIS_STATUS_INVALID_LENGTH` with `BytesNeeded`; answers are built in zeroed
//! memory, so no uninitialised byte is returned; unknown OIDs get `NDIS_STATUS_NOT_SUPPORTED`.
//! The exceptions NDIS documents are noted where they apply (OID_PNP_QUERY_POWER always
//! succeeds; OID_PNP_SET_POWER fails only with `NDIS_STATUS_NOT_ACCEPTED`).

use crate::adapter::state::{DevicePower, set_power};
use crate::adapter::{Adapter, LINK_SPEED_BPS};
use crate::datapath::send::MAX_QUEUED;
use crate::hub::{self, HUB};
use crate::ndis::oid::{Kind, Request, Zeroed};
use crate::ndis::{Irql, header, sys};
use core::sync::atomic::Ordering;
use rvmini_core::filter::{self, ListError};
use rvmini_core::frame;
use rvmini_core::oidbuf::{self, Fit};
use rvmini_core::stats::Stats;
// The OID handlers speak ndis.h: importing its names wholesale keeps them readable.
#[allow(clippy::wildcard_imports)]
use sys::*;

/// `NDIS_MEDIA_STATE` values (ntddndis.h) answered by OID_GEN_MEDIA_CONNECT_STATUS.
const NDIS_MEDIA_STATE_CONNECTED: u32 = 0;
const NDIS_MEDIA_STATE_DISCONNECTED: u32 = 1;

/// The NDIS version rvmini is written for: 6.30 (see docs/DESIGN.md).
pub const NDIS_MAJOR: u8 = 6;
/// Minor part of [`NDIS_MAJOR`].
pub const NDIS_MINOR: u8 = 30;

/// MAC options: frames are copied into receive buffers, sends complete without the lookahead
/// pend, and a frame is never looped back to its sender.
pub const MAC_OPTIONS: u32 =
    NDIS_MAC_OPTION_COPY_LOOKAHEAD_DATA | NDIS_MAC_OPTION_TRANSFERS_NOT_PEND | NDIS_MAC_OPTION_NO_LOOPBACK;

/// The counters OID_GEN_STATISTICS fills.
pub const SUPPORTED_STATISTICS: u32 = NDIS_STATISTICS_FLAGS_VALID_DIRECTED_FRAMES_RCV
    | NDIS_STATISTICS_FLAGS_VALID_MULTICAST_FRAMES_RCV
    | NDIS_STATISTICS_FLAGS_VALID_BROADCAST_FRAMES_RCV
    | NDIS_STATISTICS_FLAGS_VALID_BYTES_RCV
    | NDIS_STATISTICS_FLAGS_VALID_RCV_DISCARDS
    | NDIS_STATISTICS_FLAGS_VALID_RCV_ERROR
    | NDIS_STATISTICS_FLAGS_VALID_DIRECTED_FRAMES_XMIT
    | NDIS_STATISTICS_FLAGS_VALID_MULTICAST_FRAMES_XMIT
    | NDIS_STATISTICS_FLAGS_VALID_BROADCAST_FRAMES_XMIT
    | NDIS_STATISTICS_FLAGS_VALID_BYTES_XMIT
    | NDIS_STATISTICS_FLAGS_VALID_XMIT_ERROR
    | NDIS_STATISTICS_FLAGS_VALID_XMIT_DISCARDS
    | NDIS_STATISTICS_FLAGS_VALID_DIRECTED_BYTES_RCV
    | NDIS_STATISTICS_FLAGS_VALID_MULTICAST_BYTES_RCV
    | NDIS_STATISTICS_FLAGS_VALID_BROADCAST_BYTES_RCV
    | NDIS_STATISTICS_FLAGS_VALID_DIRECTED_BYTES_XMIT
    | NDIS_STATISTICS_FLAGS_VALID_MULTICAST_BYTES_XMIT
    | NDIS_STATISTICS_FLAGS_VALID_BROADCAST_BYTES_XMIT;

/// Exactly the OIDs [`oid_request`] handles (docs/OIDS.md describes each).
pub static SUPPORTED_OIDS: &[NDIS_OID] = &SUPPORTED;

/// The OIDs behind [`SUPPORTED_OIDS`], as an array so that the answer's size is a constant.
const SUPPORTED: [NDIS_OID; 50] = [
    OID_GEN_SUPPORTED_LIST,
    OID_GEN_HARDWARE_STATUS,
    OID_GEN_MEDIA_SUPPORTED,
    OID_GEN_MEDIA_IN_USE,
    OID_GEN_PHYSICAL_MEDIUM,
    OID_GEN_MAXIMUM_FRAME_SIZE,
    OID_GEN_MAXIMUM_TOTAL_SIZE,
    OID_GEN_MAXIMUM_LOOKAHEAD,
    OID_GEN_CURRENT_LOOKAHEAD,
    OID_GEN_LINK_SPEED,
    OID_GEN_TRANSMIT_BUFFER_SPACE,
    OID_GEN_RECEIVE_BUFFER_SPACE,
    OID_GEN_TRANSMIT_BLOCK_SIZE,
    OID_GEN_RECEIVE_BLOCK_SIZE,
    OID_GEN_VENDOR_ID,
    OID_GEN_VENDOR_DESCRIPTION,
    OID_GEN_VENDOR_DRIVER_VERSION,
    OID_GEN_DRIVER_VERSION,
    OID_GEN_CURRENT_PACKET_FILTER,
    OID_GEN_MAXIMUM_SEND_PACKETS,
    OID_GEN_MAC_OPTIONS,
    OID_GEN_MEDIA_CONNECT_STATUS,
    OID_GEN_LINK_STATE,
    OID_GEN_XMIT_OK,
    OID_GEN_RCV_OK,
    OID_GEN_XMIT_ERROR,
    OID_GEN_RCV_ERROR,
    OID_GEN_RCV_NO_BUFFER,
    OID_GEN_RCV_DISCARDS,
    OID_GEN_XMIT_DISCARDS,
    OID_GEN_TRANSMIT_QUEUE_LENGTH,
    OID_GEN_STATISTICS,
    OID_GEN_INTERRUPT_MODERATION,
    OID_GEN_LINK_PARAMETERS,
    OID_802_3_PERMANENT_ADDRESS,
    OID_802_3_CURRENT_ADDRESS,
    OID_802_3_MULTICAST_LIST,
    OID_802_3_MAXIMUM_LIST_SIZE,
    OID_802_3_RCV_ERROR_ALIGNMENT,
    OID_802_3_XMIT_ONE_COLLISION,
    OID_802_3_XMIT_MORE_COLLISIONS,
    OID_802_3_XMIT_DEFERRED,
    OID_802_3_XMIT_MAX_COLLISIONS,
    OID_802_3_RCV_OVERRUN,
    OID_802_3_XMIT_UNDERRUN,
    OID_802_3_XMIT_HEARTBEAT_FAILURE,
    OID_802_3_XMIT_TIMES_CRS_LOST,
    OID_802_3_XMIT_LATE_COLLISIONS,
    OID_PNP_QUERY_POWER,
    OID_PNP_SET_POWER,
];

// Evaluated only in constants (a malformed version is a compile error, never a run-time panic).
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn parse_version(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut v: u32 = 0;
    let mut i = 0;
    while i < b.len() {
        v = v * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    v
}

/// The driver's version, major part: the crate's (`CARGO_PKG_VERSION_MAJOR`).
pub const DRIVER_MAJOR: u32 = parse_version(env!("CARGO_PKG_VERSION_MAJOR"));
/// The driver's version, minor part: the crate's (`CARGO_PKG_VERSION_MINOR`).
pub const DRIVER_MINOR: u32 = parse_version(env!("CARGO_PKG_VERSION_MINOR"));

/// `OID_GEN_VENDOR_DRIVER_VERSION`: major in the high word, minor in the low word.
#[allow(clippy::arithmetic_side_effects)]
const VENDOR_DRIVER_VERSION: u32 = (DRIVER_MAJOR << 16) | DRIVER_MINOR;

/// `OID_GEN_VENDOR_DESCRIPTION`: the INF's device description, an ANSI string with its NUL (what
/// the WDK's netvmini sample answers; ReactOS's NDIS maps this OID to WMI as an ANSI string).
const VENDOR_DESCRIPTION: &[u8] = b"rvmini Virtual Ethernet Adapter\0";

/// Answers a query with fixed bytes.
fn answer(req: &mut Request<'_>, value: &[u8]) -> NDIS_STATUS {
    match oidbuf::write(req.buffer(), value) {
        Fit::Write { written, needed } => {
            req.set_query_result(written, needed);
            NDIS_STATUS_SUCCESS
        }
        Fit::TooShort { needed } => {
            req.set_query_result(0, needed);
            NDIS_STATUS_BUFFER_TOO_SHORT
        }
    }
}

fn answer_u32(req: &mut Request<'_>, v: u32) -> NDIS_STATUS {
    answer(req, &v.to_le_bytes())
}

/// Answers a 64-bit counter: the full value in 8 bytes, the low 32 bits in a 4-byte buffer
/// (BytesWritten 4, BytesNeeded 8, SUCCESS), and `NDIS_STATUS_INVALID_LENGTH` with BytesNeeded 8
/// for fewer than 4 bytes ("Querying 64-Bit Statistics OIDs", learn.microsoft.com).
fn answer_counter(req: &mut Request<'_>, v: u64) -> NDIS_STATUS {
    match oidbuf::write_counter(req.buffer(), v) {
        Fit::Write { written, needed } => {
            req.set_query_result(written, needed);
            NDIS_STATUS_SUCCESS
        }
        Fit::TooShort { needed } => {
            req.set_query_result(0, needed);
            NDIS_STATUS_INVALID_LENGTH
        }
    }
}

fn statistics(a: &Adapter) -> Zeroed<NDIS_STATISTICS_INFO> {
    let s = &a.stats;
    let r = |c: &core::sync::atomic::AtomicU64| Stats::read(c);
    // SAFETY: all-zero is a valid NDIS_STATISTICS_INFO.
    let mut info = unsafe { Zeroed::<NDIS_STATISTICS_INFO>::new() };
    let p = info.as_mut_ptr();
    let values = NDIS_STATISTICS_INFO {
        Header: header(
            NDIS_OBJECT_TYPE_DEFAULT,
            NDIS_STATISTICS_INFO_REVISION_1,
            NDIS_SIZEOF_STATISTICS_INFO_REVISION_1,
        ),
        SupportedStatistics: SUPPORTED_STATISTICS,
        ifInDiscards: r(&s.rx_no_buffer),
        ifInErrors: r(&s.rx_errors),
        ifHCInOctets: s.rx.bytes(),
        ifHCInUcastPkts: r(&s.rx.ucast_frames),
        ifHCInMulticastPkts: r(&s.rx.mcast_frames),
        ifHCInBroadcastPkts: r(&s.rx.bcast_frames),
        ifHCOutOctets: s.tx.bytes(),
        ifHCOutUcastPkts: r(&s.tx.ucast_frames),
        ifHCOutMulticastPkts: r(&s.tx.mcast_frames),
        ifHCOutBroadcastPkts: r(&s.tx.bcast_frames),
        ifOutErrors: r(&s.tx_errors),
        ifOutDiscards: r(&s.tx_discards),
        ifHCInUcastOctets: r(&s.rx.ucast_bytes),
        ifHCInMulticastOctets: r(&s.rx.mcast_bytes),
        ifHCInBroadcastOctets: r(&s.rx.bcast_bytes),
        ifHCOutUcastOctets: r(&s.tx.ucast_bytes),
        ifHCOutMulticastOctets: r(&s.tx.mcast_bytes),
        ifHCOutBroadcastOctets: r(&s.tx.bcast_bytes),
    };
    // SAFETY: `p` points to our zeroed storage; NDIS_STATISTICS_INFO has no padding (header,
    // one ULONG, then 18 ULONG64s), so writing the whole value initialises every byte.
    unsafe { p.write(values) };
    info
}

fn query(a: &Adapter, req: &mut Request<'_>) -> NDIS_STATUS {
    let s = &a.stats;
    let mtu = u32::try_from(a.id.mtu).unwrap_or(0);
    let max_frame = u32::try_from(a.id.max_frame).unwrap_or(0);
    let slot_len = u32::try_from(a.id.slot_len()).unwrap_or(0);
    match req.oid() {
        OID_GEN_SUPPORTED_LIST => {
            let mut bytes = [0u8; 4 * SUPPORTED.len()];
            for (chunk, oid) in bytes.chunks_exact_mut(4).zip(SUPPORTED) {
                chunk.copy_from_slice(&oid.to_le_bytes());
            }
            answer(req, &bytes)
        }
        OID_GEN_HARDWARE_STATUS => answer_u32(req, NdisHardwareStatusReady),
        OID_GEN_MEDIA_SUPPORTED | OID_GEN_MEDIA_IN_USE => answer_u32(req, NdisMedium802_3),
        OID_GEN_PHYSICAL_MEDIUM => answer_u32(req, NdisPhysicalMedium802_3),
        OID_GEN_MAXIMUM_FRAME_SIZE | OID_GEN_MAXIMUM_LOOKAHEAD => answer_u32(req, mtu),
        OID_GEN_CURRENT_LOOKAHEAD => answer_u32(req, a.lookahead.load(Ordering::Relaxed)),
        OID_GEN_MAXIMUM_TOTAL_SIZE | OID_GEN_TRANSMIT_BLOCK_SIZE => answer_u32(req, max_frame),
        OID_GEN_RECEIVE_BLOCK_SIZE => answer_u32(req, slot_len),
        // In units of 100 bit/s.
        OID_GEN_LINK_SPEED => answer_u32(req, u32::try_from(LINK_SPEED_BPS / 100).unwrap_or(u32::MAX)),
        OID_GEN_TRANSMIT_BUFFER_SPACE => {
            answer_u32(req, u32::try_from(MAX_QUEUED).unwrap_or(0).saturating_mul(max_frame))
        }
        OID_GEN_RECEIVE_BUFFER_SPACE => answer_u32(req, a.id.receive_buffers.saturating_mul(slot_len)),
        // No IEEE OUI: the low three bytes 0xFFFFFF as NDIS documents for "none".
        OID_GEN_VENDOR_ID => answer_u32(req, 0x00FF_FFFF),
        OID_GEN_VENDOR_DESCRIPTION => answer(req, VENDOR_DESCRIPTION),
        OID_GEN_VENDOR_DRIVER_VERSION => answer_u32(req, VENDOR_DRIVER_VERSION),
        OID_GEN_DRIVER_VERSION => answer(req, &((u16::from(NDIS_MAJOR) << 8) | u16::from(NDIS_MINOR)).to_le_bytes()),
        OID_GEN_CURRENT_PACKET_FILTER => answer_u32(req, a.packet_filter.load(Ordering::Relaxed)),
        OID_GEN_MAXIMUM_SEND_PACKETS => answer_u32(req, u32::try_from(MAX_QUEUED).unwrap_or(0)),
        OID_GEN_MAC_OPTIONS => answer_u32(req, MAC_OPTIONS),
        OID_GEN_MEDIA_CONNECT_STATUS => answer_u32(
            req,
            if HUB.link_reported(a) { NDIS_MEDIA_STATE_CONNECTED } else { NDIS_MEDIA_STATE_DISCONNECTED },
        ),
        OID_GEN_LINK_STATE => answer(req, hub::link_state(HUB.link_reported(a)).bytes()),
        OID_GEN_XMIT_OK => answer_counter(req, s.tx.frames()),
        OID_GEN_RCV_OK => answer_counter(req, s.rx.frames()),
        OID_GEN_XMIT_ERROR => answer_counter(req, Stats::read(&s.tx_errors)),
        OID_GEN_RCV_ERROR => answer_counter(req, Stats::read(&s.rx_errors)),
        // A frame dropped for want of a receive buffer is rvmini's only receive discard.
        OID_GEN_RCV_NO_BUFFER | OID_802_3_RCV_OVERRUN | OID_GEN_RCV_DISCARDS => {
            answer_counter(req, Stats::read(&s.rx_no_buffer))
        }
        OID_GEN_XMIT_DISCARDS => answer_counter(req, Stats::read(&s.tx_discards)),
        OID_GEN_TRANSMIT_QUEUE_LENGTH => answer_u32(req, a.life.snapshot().tx),
        OID_GEN_STATISTICS => match answer(req, statistics(a).bytes()) {
            NDIS_STATUS_BUFFER_TOO_SHORT => NDIS_STATUS_INVALID_LENGTH,
            other => other,
        },
        OID_GEN_INTERRUPT_MODERATION => {
            // SAFETY: all-zero is valid.
            let mut z = unsafe { Zeroed::<NDIS_INTERRUPT_MODERATION_PARAMETERS>::new() };
            let p = z.as_mut_ptr();
            // SAFETY: field writes into our zeroed storage.
            unsafe {
                (*p).Header = header(
                    NDIS_OBJECT_TYPE_DEFAULT,
                    NDIS_INTERRUPT_MODERATION_PARAMETERS_REVISION_1,
                    NDIS_SIZEOF_INTERRUPT_MODERATION_PARAMETERS_REVISION_1,
                );
            }
            // SAFETY: as above.
            unsafe { (*p).InterruptModeration = NdisInterruptModerationNotSupported };
            answer(req, z.bytes())
        }
        OID_802_3_PERMANENT_ADDRESS => answer(req, &a.id.permanent),
        OID_802_3_CURRENT_ADDRESS => answer(req, &a.id.current),
        OID_802_3_MULTICAST_LIST => {
            let mut bytes = [0u8; 6 * filter::MAX_MULTICAST];
            let len = {
                let list = a.multicast.lock();
                let mut len = 0usize;
                for (chunk, mac) in bytes.chunks_exact_mut(6).zip(list.addresses()) {
                    chunk.copy_from_slice(mac);
                    len = len.saturating_add(6);
                }
                len
            };
            answer(req, bytes.get(..len).unwrap_or(&[]))
        }
        OID_802_3_MAXIMUM_LIST_SIZE => answer_u32(req, u32::try_from(filter::MAX_MULTICAST).unwrap_or(0)),
        // A virtual wire has no collisions, alignment errors, underruns or carrier loss.
        OID_802_3_RCV_ERROR_ALIGNMENT
        | OID_802_3_XMIT_ONE_COLLISION
        | OID_802_3_XMIT_MORE_COLLISIONS
        | OID_802_3_XMIT_DEFERRED
        | OID_802_3_XMIT_MAX_COLLISIONS
        | OID_802_3_XMIT_UNDERRUN
        | OID_802_3_XMIT_HEARTBEAT_FAILURE
        | OID_802_3_XMIT_TIMES_CRS_LOST
        | OID_802_3_XMIT_LATE_COLLISIONS => answer_counter(req, 0),
        // Any power state can be entered: nothing to prepare. NDIS documents SUCCESS as the only
        // valid answer (OID_PNP_QUERY_POWER: "Any other return code is an error"); the buffer
        // holds the state NDIS asks about and nothing is written back.
        OID_PNP_QUERY_POWER => {
            req.set_query_result(0, 0);
            NDIS_STATUS_SUCCESS
        }
        _ => NDIS_STATUS_NOT_SUPPORTED,
    }
}

/// Reads a ULONG set value: `Ok` with BytesRead 4, or, for fewer than 4 bytes,
/// `NDIS_STATUS_INVALID_LENGTH` with BytesNeeded 4 (NDIS_OID_REQUEST, SET_INFORMATION.BytesNeeded).
fn set_u32(req: &mut Request<'_>) -> Result<u32, NDIS_STATUS> {
    let value = req.buffer().first_chunk::<4>().map(|b| u32::from_le_bytes(*b));
    if let Some(v) = value {
        req.set_set_result(4, 0);
        Ok(v)
    } else {
        req.set_set_result(0, 4);
        Err(NDIS_STATUS_INVALID_LENGTH)
    }
}

fn set(a: &Adapter, req: &mut Request<'_>) -> NDIS_STATUS {
    match req.oid() {
        OID_GEN_CURRENT_PACKET_FILTER => match set_u32(req) {
            // A packet type rvmini cannot filter (source routing, functional, group, ...) is
            // refused as the WDK's netvmini sample does, and the filter stays as it was.
            Ok(v) if v & !filter::SUPPORTED != 0 => {
                req.set_set_result(0, 0);
                NDIS_STATUS_NOT_SUPPORTED
            }
            Ok(v) => {
                a.packet_filter.store(v, Ordering::Relaxed);
                NDIS_STATUS_SUCCESS
            }
            Err(s) => s,
        },
        OID_GEN_CURRENT_LOOKAHEAD => match set_u32(req) {
            // Out of bounds: MINIPORT_OID_REQUEST remarks ask for NDIS_STATUS_INVALID_DATA.
            Ok(v) if v as usize > a.id.mtu => {
                req.set_set_result(0, 0);
                NDIS_STATUS_INVALID_DATA
            }
            Ok(v) => {
                a.lookahead.store(v, Ordering::Relaxed);
                NDIS_STATUS_SUCCESS
            }
            Err(s) => s,
        },
        OID_802_3_MULTICAST_LIST => set_multicast_list(a, req),
        OID_GEN_LINK_PARAMETERS => set_link_parameters(req),
        // Interrupt moderation is not supported (the query says so): OID_GEN_INTERRUPT_MODERATION
        // asks for NDIS_STATUS_INVALID_DATA on a set; a buffer too short for the structure is
        // an invalid length first.
        OID_GEN_INTERRUPT_MODERATION => {
            let needed = NDIS_SIZEOF_INTERRUPT_MODERATION_PARAMETERS_REVISION_1;
            if req.buffer().len() < needed {
                req.set_set_result(0, needed);
                NDIS_STATUS_INVALID_LENGTH
            } else {
                req.set_set_result(0, 0);
                NDIS_STATUS_INVALID_DATA
            }
        }
        OID_PNP_SET_POWER => set_power_state(a, req),
        _ => NDIS_STATUS_NOT_SUPPORTED,
    }
}

/// OID_PNP_SET_POWER. Driver Verifier's NdisOidComplete rule allows only SUCCESS, PENDING and
/// NOT_ACCEPTED for this OID, so a request NDIS would never build (fewer than 4 bytes, or no
/// D0–D3 state) is refused with `NDIS_STATUS_NOT_ACCEPTED` (BytesNeeded 4 when short) and
/// changes nothing.
fn set_power_state(a: &Adapter, req: &mut Request<'_>) -> NDIS_STATUS {
    match set_u32(req).map(DevicePower::from_ndis) {
        Ok(Some(power)) => {
            set_power(a, power);
            NDIS_STATUS_SUCCESS
        }
        Ok(None) => {
            req.set_set_result(0, 0);
            NDIS_STATUS_NOT_ACCEPTED
        }
        Err(_) => NDIS_STATUS_NOT_ACCEPTED,
    }
}

/// OID_802_3_MULTICAST_LIST: replaces the list (an empty buffer clears it). More than
/// [`filter::MAX_MULTICAST`] addresses → `NDIS_STATUS_MULTICAST_FULL`; a length that is not a
/// whole number of addresses → `NDIS_STATUS_INVALID_LENGTH` with BytesNeeded the next whole
/// number (always more than was given); a unicast address → `NDIS_STATUS_INVALID_DATA`. On any
/// error the list is unchanged.
fn set_multicast_list(a: &Adapter, req: &mut Request<'_>) -> NDIS_STATUS {
    const MAX_BYTES: usize = frame::MAC_LEN * filter::MAX_MULTICAST;
    let len = req.buffer().len();
    // Too many addresses is decided first, whether or not the length is a whole number of
    // addresses; the list itself would check the length first.
    let result = if len > MAX_BYTES {
        Err(ListError::Full)
    } else {
        let buf = req.buffer();
        a.multicast.lock_at(Irql::AtMostDispatch).set(buf)
    };
    match result {
        Ok(()) => {
            req.set_set_result(len, 0);
            NDIS_STATUS_SUCCESS
        }
        Err(ListError::InvalidLength) => {
            // Not a whole number of addresses, so 0 < `len` ≤ MAX_BYTES: the next whole number
            // is at least one address and at most MAX_BYTES.
            let whole = len.div_ceil(frame::MAC_LEN).saturating_mul(frame::MAC_LEN);
            req.set_set_result(0, whole);
            NDIS_STATUS_INVALID_LENGTH
        }
        Err(ListError::Full) => {
            req.set_set_result(0, MAX_BYTES);
            NDIS_STATUS_MULTICAST_FULL
        }
        Err(ListError::NotMulticast) => {
            req.set_set_result(0, 0);
            NDIS_STATUS_INVALID_DATA
        }
    }
}

/// OID_GEN_LINK_PARAMETERS: the virtual link is full duplex at a fixed speed without flow
/// control; a request that asks for exactly that (or leaves a field unknown) is accepted, any
/// other change is refused with `NDIS_STATUS_INVALID_DATA`.
fn set_link_parameters(req: &mut Request<'_>) -> NDIS_STATUS {
    let needed = NDIS_SIZEOF_LINK_PARAMETERS_REVISION_1;
    let buf = req.buffer();
    if buf.len() < needed {
        req.set_set_result(0, needed);
        return NDIS_STATUS_INVALID_LENGTH;
    }
    // SAFETY: the buffer holds at least a revision-1 NDIS_LINK_PARAMETERS; read unaligned.
    let p = unsafe { core::ptr::read_unaligned(buf.as_ptr().cast::<NDIS_LINK_PARAMETERS>()) };
    if p.Header.Type != NDIS_OBJECT_TYPE_DEFAULT
        || p.Header.Revision < NDIS_LINK_PARAMETERS_REVISION_1
        || usize::from(p.Header.Size) < needed
    {
        return NDIS_STATUS_INVALID_DATA;
    }
    let duplex_ok = p.MediaDuplexState == MediaDuplexStateUnknown || p.MediaDuplexState == MediaDuplexStateFull;
    let speed_ok = |v: u64| v == NDIS_LINK_SPEED_UNKNOWN || v == LINK_SPEED_BPS;
    let pause_ok = p.PauseFunctions == NdisPauseFunctionsUnknown || p.PauseFunctions == NdisPauseFunctionsUnsupported;
    if duplex_ok && speed_ok(p.XmitLinkSpeed) && speed_ok(p.RcvLinkSpeed) && pause_ok {
        req.set_set_result(needed, 0);
        req.set_supported_revision(NDIS_LINK_PARAMETERS_REVISION_1);
        NDIS_STATUS_SUCCESS
    } else {
        NDIS_STATUS_INVALID_DATA
    }
}

/// MiniportOidRequest (PASSIVE_LEVEL).
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn oid_request(context: NDIS_HANDLE, request: *mut NDIS_OID_REQUEST) -> NDIS_STATUS {
    // SAFETY: NDIS passes the context we registered.
    let adapter = unsafe { Adapter::from_context(context) };
    // SAFETY: NDIS passes a valid request, ours until we return (we never pend).
    let Some(mut req) = (unsafe { Request::new(request) }) else { return NDIS_STATUS_INVALID_PARAMETER };
    let status = if adapter.life.snapshot().removed {
        // MINIPORT_OID_REQUEST: after a surprise removal, complete every request at once with
        // NDIS_STATUS_NOT_ACCEPTED until MiniportHaltEx.
        match req.kind() {
            Kind::Set => req.set_set_result(0, 0),
            Kind::Query => req.set_query_result(0, 0),
            Kind::Method | Kind::Other(_) => {}
        }
        NDIS_STATUS_NOT_ACCEPTED
    } else {
        match req.kind() {
            Kind::Query => query(adapter, &mut req),
            Kind::Set => set(adapter, &mut req),
            Kind::Method | Kind::Other(_) => NDIS_STATUS_NOT_SUPPORTED,
        }
    };
    crate::log!(Verbose, "OID {:#010x} {:?} -> {:#010x}", req.oid(), req.kind(), status.cast_unsigned());
    status
}

/// MiniportCancelOidRequest (≤ DISPATCH_LEVEL). rvmini completes every OID request before
/// MiniportOidRequest returns, so no request is ever pending here: there is nothing to cancel.
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn cancel_oid_request(_context: NDIS_HANDLE, _request_id: *mut core::ffi::c_void) {}
