//! OID requests: NDIS builds an `NDIS_OID_REQUEST`, calls MiniportOidRequest at PASSIVE_LEVEL,
//! and the request completes either by the handler's return value or, after
//! `NDIS_STATUS_PENDING`, by one `NdisMOidRequestComplete`.
//!
//! The information buffer is followed by guard bytes; a miniport that writes past
//! `InformationBufferLength` is caught when the request completes (`Oid.BytesWritten`).

use super::adapter::Adapter;
use super::calls::{adapter_for, await_return};
use super::miniport::{CallError, HostBuf};
use super::names;
use crate::abi::ImportCall;
use crate::host::HostInner;
use crate::host::thread::{self, PASSIVE};
use crate::trace::{Dir, Level};
use crate::verifier::Rule;
use ndis_sys as sys;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

/// Guard bytes after each information buffer.
const GUARD: usize = 32;
const GUARD_BYTE: u8 = 0xA5;

/// The kind of request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `NdisRequestQueryInformation`.
    Query,
    /// `NdisRequestSetInformation`.
    Set,
    /// `NdisRequestQueryStatistics`.
    Statistics,
}

/// The outcome of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidResult {
    /// Final status.
    pub status: i32,
    /// BytesWritten (query) or BytesRead (set).
    pub bytes: u32,
    /// BytesNeeded.
    pub needed: u32,
    /// The bytes written (queries), `bytes` long.
    pub data: Vec<u8>,
    /// SupportedRevision.
    pub supported_revision: u8,
    /// The handler returned PENDING.
    pub pended: bool,
}

/// A request in flight.
#[derive(Debug)]
struct Pending {
    request: u64,
    returned: bool,
    completion: Option<i32>,
}

/// OID requests pending per adapter (NDIS issues one at a time per adapter).
#[derive(Debug, Default)]
pub struct Oids {
    pending: Mutex<Vec<(usize, Pending)>>,
    cv: Condvar,
    next_id: AtomicU64,
    /// Requests (and their information buffers) that pended and never completed: the miniport
    /// may still write them whenever it completes, so they live as long as the host.
    abandoned: Mutex<Vec<(HostBuf, HostBuf)>>,
}

/// OIDs whose set data starts with an NDIS_OBJECT_HEADER (a successful set must fill
/// SupportedRevision).
const STRUCTURED: &[u32] = &[sys::OID_GEN_LINK_PARAMETERS, sys::OID_GEN_INTERRUPT_MODERATION];

/// Issues one request and waits for it to complete. `input` is copied into the buffer (for
/// sets); `length` is InformationBufferLength.
pub fn request(
    host: &Arc<HostInner>,
    a: &Arc<Adapter>,
    kind: Kind,
    oid: u32,
    input: &[u8],
    length: usize,
    wait: &dyn Fn(&dyn Fn() -> bool) -> bool,
) -> Result<OidResult, CallError> {
    let handlers = host.ndis.driver.handlers();
    let buffer = HostBuf::zeroed(length + GUARD);
    // SAFETY: the buffer has `length + GUARD` bytes; we fill the input and the guard through
    // the buffer's writable pointer before the miniport has it.
    unsafe {
        let p = buffer.addr_ptr();
        std::ptr::copy_nonoverlapping(input.as_ptr(), p, input.len().min(length));
        std::ptr::write_bytes(p.add(length), GUARD_BYTE, GUARD);
    }
    let oids = &host.ndis.oids;
    let id = oids.next_id.fetch_add(1, Ordering::Relaxed) + 1;
    let req = HostBuf::of(build(kind, oid, &buffer, length, id, host.handles.next()));
    let addr = req.addr();
    {
        let mut p = oids.lock();
        if p.iter().any(|(i, _)| *i == a.index) {
            return Err(CallError::Scenario(super::miniport::ScenarioError(format!(
                "an OID request is already pending on adapter {}",
                a.index
            ))));
        }
        p.push((a.index, Pending { request: addr, returned: false, completion: None }));
    }
    host.trace.record(
        Level::Lifecycle,
        Some(a.index),
        Dir::ToMiniport,
        "MiniportOidRequest",
        || format!("{kind:?} {} len={length}", names::oid(oid)),
        None,
    );
    let result = host.call("MiniportOidRequest", Some(a.index), PASSIVE, handlers.oid_request, &[a.context(), addr]);
    let returned = match result {
        Ok(v) => super::status(v),
        Err(e) => {
            oids.lock().retain(|(i, _)| *i != a.index);
            return Err(e.into());
        }
    };
    let early = oids.returned(a.index);
    let pended = returned == sys::NDIS_STATUS_PENDING;
    if pended && early.is_none() {
        let done = wait(&|| oids.completion(a.index).is_some() || host.crashed());
        if !done {
            host.finding(Rule::Watchdog, Some(a.index), format!("{} pended and never completed", names::oid(oid)));
        }
    }
    // The request leaves the table with its completion under one lock: a completion after this
    // finds nothing pending.
    let completion = oids.take(a.index).and_then(|e| e.completion);
    let status = if pended {
        completion.unwrap_or(sys::NDIS_STATUS_FAILURE)
    } else {
        if early.is_some() {
            host.finding(
                Rule::OidDoubleComplete,
                Some(a.index),
                format!(
                    "{} completed by NdisMOidRequestComplete and by returning {}",
                    names::oid(oid),
                    names::status(returned)
                ),
            );
        }
        returned
    };
    host.trace.record(
        Level::Lifecycle,
        Some(a.index),
        Dir::Note,
        &format!("{} done", names::oid(oid)),
        String::new,
        Some(names::status(status)),
    );
    if pended && completion.is_none() {
        // Never completed (watchdog, or the driver crashed): the miniport still owns the request
        // and its buffer and may write them at any time, so they are neither read nor freed.
        oids.abandoned.lock().unwrap_or_else(PoisonError::into_inner).push((req, buffer));
        return Ok(OidResult { status, bytes: 0, needed: 0, data: Vec::new(), supported_revision: 0, pended });
    }
    Ok(check(host, a, kind, oid, &req, &buffer, length, status, pended))
}

/// The `NDIS_OID_REQUEST` NDIS builds for `oid` over `buffer` (`length` bytes of it).
fn build(kind: Kind, oid: u32, buffer: &HostBuf, length: usize, id: u64, handle: u64) -> sys::NDIS_OID_REQUEST {
    // SAFETY: all-zero is a valid NDIS_OID_REQUEST.
    let mut r: sys::NDIS_OID_REQUEST = unsafe { std::mem::zeroed() };
    r.Header = sys::NDIS_OBJECT_HEADER {
        Type: sys::NDIS_OBJECT_TYPE_OID_REQUEST,
        Revision: sys::NDIS_OID_REQUEST_REVISION_1,
        Size: u16::try_from(sys::NDIS_SIZEOF_OID_REQUEST_REVISION_1).unwrap_or(u16::MAX),
    };
    r.RequestType = match kind {
        Kind::Query => sys::NdisRequestQueryInformation,
        Kind::Set => sys::NdisRequestSetInformation,
        Kind::Statistics => sys::NdisRequestQueryStatistics,
    };
    r.PortNumber = 0;
    r.RequestId = id as *mut core::ffi::c_void;
    r.RequestHandle = handle as *mut core::ffi::c_void;
    // The query form of the union; the set and statistics forms share its first three fields.
    r.DATA.QUERY_INFORMATION.Oid = oid;
    r.DATA.QUERY_INFORMATION.InformationBuffer =
        if length == 0 { std::ptr::null_mut() } else { buffer.addr() as *mut core::ffi::c_void };
    r.DATA.QUERY_INFORMATION.InformationBufferLength = u32::try_from(length).unwrap_or(u32::MAX);
    r
}

impl Oids {
    fn lock(&self) -> MutexGuard<'_, Vec<(usize, Pending)>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Marks the request pending on `adapter` as returned from MiniportOidRequest (waking a
    /// completion that waits for that); returns its completion if one came already.
    fn returned(&self, adapter: usize) -> Option<i32> {
        let mut p = self.lock();
        let entry = p.iter_mut().find(|(i, _)| *i == adapter).map(|(_, e)| e);
        let early = entry.as_ref().and_then(|e| e.completion);
        if let Some(e) = entry {
            e.returned = true;
        }
        self.cv.notify_all();
        early
    }

    fn completion(&self, adapter: usize) -> Option<i32> {
        self.lock().iter().find(|(i, _)| *i == adapter).and_then(|(_, e)| e.completion)
    }

    /// Removes the request pending on `adapter` from the table and returns it.
    fn take(&self, adapter: usize) -> Option<Pending> {
        let mut p = self.lock();
        let at = p.iter().position(|(i, _)| *i == adapter)?;
        Some(p.remove(at).1)
    }
}

/// Reads the request back and checks the completion rules.
#[allow(clippy::too_many_arguments)]
fn check(
    host: &HostInner,
    a: &Adapter,
    kind: Kind,
    oid: u32,
    req: &HostBuf,
    buffer: &HostBuf,
    length: usize,
    status: i32,
    pended: bool,
) -> OidResult {
    let idx = Some(a.index);
    // SAFETY: `req` holds the request we built (`addr_ptr` is readable for its whole size); the
    // miniport wrote the result fields and, the request being complete, writes it no more.
    let r: sys::NDIS_OID_REQUEST = unsafe { req.addr_ptr().cast::<sys::NDIS_OID_REQUEST>().read_unaligned() };
    // SAFETY: reading the form of the union that matches the request type (query and set share
    // offsets up to BytesNeeded).
    let (bytes, needed) = unsafe {
        match kind {
            Kind::Set => (r.DATA.SET_INFORMATION.BytesRead, r.DATA.SET_INFORMATION.BytesNeeded),
            _ => (r.DATA.QUERY_INFORMATION.BytesWritten, r.DATA.QUERY_INFORMATION.BytesNeeded),
        }
    };
    let name = names::oid(oid);
    if status == sys::NDIS_STATUS_PENDING {
        host.finding(Rule::OidDoubleComplete, idx, format!("{name} completed with NDIS_STATUS_PENDING"));
    }
    if bytes as usize > length {
        host.finding(
            Rule::OidBytesWritten,
            idx,
            format!(
                "{name}: Bytes{} {bytes} exceeds the buffer of {length}",
                if kind == Kind::Set { "Read" } else { "Written" }
            ),
        );
    }
    let all = buffer.bytes();
    if all[length..length + GUARD].iter().any(|b| *b != GUARD_BYTE) {
        host.finding(
            Rule::OidBytesWritten,
            idx,
            format!("{name}: the miniport wrote past InformationBufferLength ({length})"),
        );
    }
    if (status == sys::NDIS_STATUS_BUFFER_TOO_SHORT || status == sys::NDIS_STATUS_INVALID_LENGTH)
        && needed as usize <= length
    {
        host.finding(
            Rule::OidBytesNeeded,
            idx,
            format!(
                "{name} failed with {} but BytesNeeded is {needed} for a buffer of {length}",
                names::status(status)
            ),
        );
    }
    if kind == Kind::Set && status == sys::NDIS_STATUS_SUCCESS && STRUCTURED.contains(&oid) && r.SupportedRevision == 0
    {
        host.finding(Rule::OidSupportedRevision, idx, format!("{name} set succeeded without SupportedRevision"));
    }
    let data = if kind == Kind::Set { Vec::new() } else { all[..(bytes as usize).min(length)].to_vec() };
    OidResult { status, bytes, needed, data, supported_revision: r.SupportedRevision, pended }
}

/// NdisMOidRequestComplete.
pub fn oid_request_complete(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let Some(a) = adapter_for(host, call.arg(0), "NdisMOidRequestComplete") else { return 0 };
    let request = call.arg(1);
    let status = super::status(call.arg(2));
    let idx = Some(a.index);
    if status == sys::NDIS_STATUS_PENDING {
        host.finding(Rule::OidDoubleComplete, idx, "NdisMOidRequestComplete with NDIS_STATUS_PENDING");
    }
    let oids = &host.ndis.oids;
    let mut p = oids.lock();
    if !thread::inside("MiniportOidRequest", a.index) {
        let returned = |p: &Vec<(usize, Pending)>| !p.iter().any(|(i, e)| *i == a.index && !e.returned);
        let waiting = ("MiniportOidRequest", "NdisMOidRequestComplete");
        let Some(guard) = await_return(host, a.index, &oids.cv, p, waiting, returned) else { return 0 };
        p = guard;
    }
    match p.iter_mut().find(|(i, _)| *i == a.index) {
        Some((_, e)) if e.request == request && e.completion.is_none() => {
            e.completion = Some(status);
            oids.cv.notify_all();
            drop(p);
            a.notify();
        }
        Some((_, e)) if e.request == request => {
            drop(p);
            host.finding(Rule::OidDoubleComplete, idx, "NdisMOidRequestComplete called twice for one request");
        }
        _ => {
            drop(p);
            host.finding(Rule::OidDoubleComplete, idx, "NdisMOidRequestComplete for a request that is not pending");
        }
    }
    0
}
