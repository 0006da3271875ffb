//! OID requests: the request type, the OID, and the information buffer as a bounds-checked
//! slice, with the `Bytes*` fields NDIS reads back.

use core::mem::MaybeUninit;
use ndis_sys::{
    NDIS_OID, NDIS_OID_REQUEST, NdisRequestMethod, NdisRequestQueryInformation, NdisRequestQueryStatistics,
    NdisRequestSetInformation,
};

/// What the request asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A query (including query-statistics).
    Query,
    /// A set.
    Set,
    /// A method request.
    Method,
    /// Anything else.
    Other(u32),
}

/// A borrowed `NDIS_OID_REQUEST` for the duration of MiniportOidRequest.
pub struct Request<'a> {
    raw: &'a mut NDIS_OID_REQUEST,
}

impl Request<'_> {
    /// # Safety
    /// `raw` is the request NDIS passed to MiniportOidRequest, valid and exclusively ours until
    /// the request is completed; its information buffer is valid for its stated length.
    pub unsafe fn new(raw: *mut NDIS_OID_REQUEST) -> Option<Self> {
        // SAFETY: per the contract (null is refused).
        unsafe { raw.as_mut() }.map(|raw| Self { raw })
    }

    /// The request type.
    #[must_use]
    pub fn kind(&self) -> Kind {
        match self.raw.RequestType {
            t if t == NdisRequestQueryInformation || t == NdisRequestQueryStatistics => Kind::Query,
            t if t == NdisRequestSetInformation => Kind::Set,
            t if t == NdisRequestMethod => Kind::Method,
            t => Kind::Other(t),
        }
    }

    /// The OID (the `Oid` member is at the same offset in all three request forms).
    #[must_use]
    pub fn oid(&self) -> NDIS_OID {
        // SAFETY: every member of the DATA union starts with the OID.
        unsafe { self.raw.DATA.QUERY_INFORMATION.Oid }
    }

    /// The information buffer: empty if NDIS passed a null pointer.
    pub fn buffer(&mut self) -> &mut [u8] {
        // SAFETY: Oid, InformationBuffer and InformationBufferLength are at the same offsets
        // in the query and set forms, which are the forms this driver handles.
        let q = unsafe { &self.raw.DATA.QUERY_INFORMATION };
        let (ptr, len) = (q.InformationBuffer, q.InformationBufferLength);
        if ptr.is_null() || len == 0 {
            return &mut [];
        }
        // SAFETY: NDIS guarantees the buffer is valid for InformationBufferLength bytes and
        // ours for the duration of the request (contract of `new`).
        unsafe { core::slice::from_raw_parts_mut(ptr.cast::<u8>(), len as usize) }
    }

    /// Records a query's outcome.
    pub fn set_query_result(&mut self, written: usize, needed: usize) {
        // SAFETY: the union holds plain integers and pointers; for a query request the QUERY
        // form is the active one, and writing its fields is what NDIS expects.
        let q = unsafe { &mut self.raw.DATA.QUERY_INFORMATION };
        q.BytesWritten = u32::try_from(written).unwrap_or(u32::MAX);
        q.BytesNeeded = u32::try_from(needed).unwrap_or(u32::MAX);
    }

    /// Records a set's outcome.
    pub fn set_set_result(&mut self, read: usize, needed: usize) {
        // SAFETY: as for `set_query_result`, with the SET form of a set request.
        let s = unsafe { &mut self.raw.DATA.SET_INFORMATION };
        s.BytesRead = u32::try_from(read).unwrap_or(u32::MAX);
        s.BytesNeeded = u32::try_from(needed).unwrap_or(u32::MAX);
    }

    /// Tells NDIS which revision of a structure a successful set understood.
    pub fn set_supported_revision(&mut self, revision: u8) {
        self.raw.SupportedRevision = revision;
    }
}

/// A value of an NDIS structure type built in zeroed memory, so every byte, padding included,
/// is initialised before it is copied into an information buffer (no uninitialised byte is
/// ever returned to NDIS).
pub struct Zeroed<T>(MaybeUninit<T>);

impl<T> Zeroed<T> {
    /// All-zero storage.
    ///
    /// # Safety
    /// The all-zero bit pattern must be a valid `T` (true of NDIS structures: integers and
    /// pointers).
    #[must_use]
    pub unsafe fn new() -> Self {
        Self(MaybeUninit::zeroed())
    }

    /// Pointer for writing fields with `(*p).Field = value` (which never touches padding).
    pub fn as_mut_ptr(&mut self) -> *mut T {
        self.0.as_mut_ptr()
    }

    /// The bytes, padding included (all initialised: zeroed, then fields written in place).
    #[must_use]
    pub fn bytes(&self) -> &[u8] {
        // SAFETY: the storage was zeroed in full and only written through field places, so all
        // `size_of::<T>()` bytes are initialised.
        unsafe { core::slice::from_raw_parts(self.0.as_ptr().cast::<u8>(), core::mem::size_of::<T>()) }
    }
}
