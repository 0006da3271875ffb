//! NET_BUFFER_LIST chains, NET_BUFFERs and the MDL chains that hold their data.
//!
//! Ownership rule (as in Wintun): while rvmini owns a send NBL it links it through
//! `MiniportReserved[0]` ([`SendNbl`]), never through NDIS's own `Next` field; `Next` is
//! written only to build the chain handed back to NDIS on completion, when the NBL is NDIS's
//! again.
//!
//! Data access: a NET_BUFFER's bytes start at `CurrentMdlOffset` within `CurrentMdl` and run
//! for `DataLength` bytes through the MDL chain (NET_BUFFER structure, remarks). Every length
//! here comes from outside the driver, so [`Spans`] checks each step: an offset past its MDL, a
//! chain that ends before `DataLength` bytes, a chain longer than [`MAX_MDLS`] (or cyclic), or
//! an MDL that cannot be mapped are errors, never out-of-bounds reads.

use core::ffi::c_void;
use core::ptr::{self, NonNull};
use ndis_sys::{
    KernelMode, MDL, MDL_MAPPED_TO_SYSTEM_VA, MDL_SOURCE_IS_NONPAGED_POOL, MdlMappingNoExecute, MmCached,
    MmMapLockedPagesSpecifyCache, NDIS_STATUS, NET_BUFFER, NET_BUFFER_LIST, NetBufferListCancelId, NormalPagePriority,
};
use rvmini_core::frame::FrameError;
use rvmini_core::queue::{Chain, QueueLink};

/// The longest MDL chain rvmini walks for one NET_BUFFER.
pub const MAX_MDLS: usize = 256;

/// A send NBL while rvmini owns it. `repr(transparent)`, so `*mut NET_BUFFER_LIST` and
/// `*mut SendNbl` convert freely.
#[repr(transparent)]
pub struct SendNbl(NET_BUFFER_LIST);

// SAFETY: the link is `MiniportReserved[0]`, which NDIS reserves for the miniport that owns the
// NBL; rvmini uses it only while the NBL is queued in one of its chains.
unsafe impl QueueLink for SendNbl {
    unsafe fn next(node: NonNull<Self>) -> Option<NonNull<Self>> {
        // SAFETY: the caller guarantees `node` is a live NBL we own.
        NonNull::new(unsafe { (*node.as_ptr()).0.MiniportReserved[0] }.cast::<SendNbl>())
    }

    unsafe fn set_next(node: NonNull<Self>, next: Option<NonNull<Self>>) {
        let link = next.map_or(ptr::null_mut(), |n| n.as_ptr().cast::<c_void>());
        // SAFETY: the caller guarantees `node` is a live NBL we own.
        unsafe { (*node.as_ptr()).0.MiniportReserved[0] = link };
    }
}

impl SendNbl {
    /// The raw NBL.
    #[must_use]
    pub fn raw(node: NonNull<SendNbl>) -> *mut NET_BUFFER_LIST {
        node.as_ptr().cast()
    }
}

/// Iterates an NDIS-linked NBL chain, reading each `Next` before yielding the NBL, so the
/// caller may relink or complete the yielded NBL.
pub struct NdisChain(*mut NET_BUFFER_LIST);

impl NdisChain {
    /// # Safety
    /// `head` is null or the first NBL of a chain, linked through `Next`, that the caller owns
    /// for as long as it iterates.
    #[must_use]
    pub unsafe fn new(head: *mut NET_BUFFER_LIST) -> Self {
        Self(head)
    }
}

impl Iterator for NdisChain {
    type Item = NonNull<NET_BUFFER_LIST>;
    fn next(&mut self) -> Option<Self::Item> {
        let nbl = NonNull::new(self.0)?;
        // SAFETY: `nbl` is a live NBL of the chain the caller owns (contract of `new`).
        self.0 = unsafe { (*nbl.as_ptr()).Next };
        Some(nbl)
    }
}

/// Takes an NDIS-linked chain (as given to MiniportSendNetBufferLists) into a [`Chain`] linked
/// through `MiniportReserved[0]`, keeping order.
///
/// # Safety
/// As for [`NdisChain::new`]; the NBLs become owned by the returned chain.
#[must_use]
pub unsafe fn adopt(head: *mut NET_BUFFER_LIST) -> Chain<SendNbl> {
    let mut chain = Chain::new();
    // SAFETY: forwarded from the caller.
    for nbl in unsafe { NdisChain::new(head) } {
        // SAFETY: each NBL is live, owned by the caller, and in no other chain.
        unsafe { chain.push_back(nbl.cast::<SendNbl>()) };
    }
    chain
}

/// Sets the status of every NBL in `chain` and relinks them through `Next`, in order, for
/// `NdisMSendNetBufferListsComplete`. Returns the head (null if empty).
pub fn complete_chain(
    mut chain: Chain<SendNbl>,
    status: impl Fn(NonNull<SendNbl>) -> NDIS_STATUS,
) -> *mut NET_BUFFER_LIST {
    let mut head: *mut NET_BUFFER_LIST = ptr::null_mut();
    let mut tail: *mut NET_BUFFER_LIST = ptr::null_mut();
    while let Some(node) = chain.pop_front() {
        let s = status(node);
        let nbl = SendNbl::raw(node);
        // SAFETY: `nbl` is live and ours until completed; we clear our link and set the status
        // and NDIS link NDIS expects on completion.
        unsafe {
            (*nbl).MiniportReserved[0] = ptr::null_mut();
        }
        // SAFETY: as above.
        unsafe { (*nbl).Status = s };
        // SAFETY: as above.
        unsafe { (*nbl).Next = ptr::null_mut() };
        if tail.is_null() {
            head = nbl;
        } else {
            // SAFETY: `tail` is the previous NBL of this chain, still ours.
            unsafe { (*tail).Next = nbl };
        }
        tail = nbl;
    }
    head
}

/// The cancel ID NDIS stored in the NBL (`NDIS_GET_NET_BUFFER_LIST_CANCEL_ID`).
///
/// # Safety
/// `nbl` is a live NBL the caller owns.
#[must_use]
pub unsafe fn cancel_id(nbl: *const NET_BUFFER_LIST) -> *mut c_void {
    // SAFETY: per the contract.
    let info = unsafe { &(*nbl).NetBufferListInfo };
    info.get(NetBufferListCancelId as usize).copied().unwrap_or(ptr::null_mut())
}

/// Iterates the NET_BUFFERs of an NBL.
pub struct NetBuffers(*mut NET_BUFFER);

impl NetBuffers {
    /// # Safety
    /// `nbl` is a live NBL the caller owns while iterating.
    #[must_use]
    pub unsafe fn of(nbl: *const NET_BUFFER_LIST) -> Self {
        // SAFETY: per the contract.
        Self(unsafe { (*nbl).FirstNetBuffer })
    }
}

impl Iterator for NetBuffers {
    type Item = NonNull<NET_BUFFER>;
    fn next(&mut self) -> Option<Self::Item> {
        let nb = NonNull::new(self.0)?;
        // SAFETY: `nb` belongs to the live NBL the iterator was made from.
        self.0 = unsafe { (*nb.as_ptr()).Next };
        Some(nb)
    }
}

/// The system address of an MDL's buffer (`MmGetSystemAddressForMdlSafe` with
/// `NormalPagePriority | MdlMappingNoExecute`), or `None` if it cannot be mapped.
///
/// # Safety
/// `mdl` points to a valid MDL describing locked pages.
unsafe fn system_address(mdl: *mut MDL) -> Option<*const u8> {
    // SAFETY: per the contract.
    let flags = unsafe { (*mdl).MdlFlags };
    let va = if flags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL) != 0 {
        // SAFETY: per the contract; for these flags MappedSystemVa is the buffer's address.
        unsafe { (*mdl).MappedSystemVa }
    } else {
        // SAFETY: the MDL describes locked pages (contract); a failure returns null.
        unsafe {
            MmMapLockedPagesSpecifyCache(
                mdl,
                KernelMode,
                MmCached,
                ptr::null_mut(),
                0,
                NormalPagePriority | MdlMappingNoExecute,
            )
        }
    };
    let va = va.cast::<u8>().cast_const();
    (!va.is_null()).then_some(va)
}

/// The spans of memory that hold a NET_BUFFER's data, in order.
pub struct Spans {
    mdl: *mut MDL,
    offset: usize,
    remaining: usize,
    steps: usize,
}

impl Spans {
    /// # Safety
    /// `nb` is a live NET_BUFFER whose MDLs the caller may read while iterating.
    #[must_use]
    pub unsafe fn of(nb: NonNull<NET_BUFFER>) -> Self {
        // SAFETY: per the contract the NET_BUFFER is live and not written meanwhile.
        let nb = unsafe { nb.as_ref() };
        Self { mdl: nb.CurrentMdl, offset: nb.CurrentMdlOffset as usize, remaining: nb.DataLength as usize, steps: 0 }
    }

    /// Bytes of data the NET_BUFFER claims.
    #[must_use]
    pub fn claimed(&self) -> usize {
        self.remaining
    }

    /// The next span, or an error if the chain cannot supply the claimed bytes.
    fn next_span(&mut self) -> Option<Result<(*const u8, usize), FrameError>> {
        if self.remaining == 0 {
            return None;
        }
        loop {
            if self.mdl.is_null() || self.steps >= MAX_MDLS {
                self.remaining = 0;
                return Some(Err(FrameError::Truncated));
            }
            self.steps = self.steps.saturating_add(1);
            let mdl = self.mdl;
            // SAFETY: `mdl` is a non-null MDL of the NET_BUFFER's chain (contract of `of`).
            let header = unsafe { &*mdl };
            let (byte_count, next) = (header.ByteCount as usize, header.Next);
            self.mdl = next;
            let offset = core::mem::take(&mut self.offset);
            let Some(available) = byte_count.checked_sub(offset) else {
                self.remaining = 0;
                return Some(Err(FrameError::Truncated));
            };
            if available == 0 {
                continue;
            }
            // SAFETY: `mdl` is valid (see above).
            let Some(va) = (unsafe { system_address(mdl) }) else {
                self.remaining = 0;
                return Some(Err(FrameError::Truncated));
            };
            let len = available.min(self.remaining);
            self.remaining = self.remaining.saturating_sub(len);
            // `offset < byte_count`, so the span lies inside the MDL's buffer.
            return Some(Ok((va.wrapping_add(offset), len)));
        }
    }
}

/// Checks that a NET_BUFFER's MDL chain holds all the bytes it claims; returns the length.
///
/// # Safety
/// As for [`Spans::of`].
pub unsafe fn measure(nb: NonNull<NET_BUFFER>) -> Result<usize, FrameError> {
    // SAFETY: forwarded from the caller.
    let mut spans = unsafe { Spans::of(nb) };
    let len = spans.claimed();
    while let Some(span) = spans.next_span() {
        span?;
    }
    Ok(len)
}

/// Copies the first `dst.len()` bytes of a NET_BUFFER's data into `dst` (the whole data if
/// `dst` is at least [`Spans::claimed`] long). Returns the bytes copied.
///
/// # Safety
/// As for [`Spans::of`]; `dst` must not overlap the NET_BUFFER's data.
pub unsafe fn copy_prefix(nb: NonNull<NET_BUFFER>, dst: &mut [u8]) -> Result<usize, FrameError> {
    // SAFETY: forwarded from the caller.
    let mut spans = unsafe { Spans::of(nb) };
    let want = spans.claimed().min(dst.len());
    let mut done = 0usize;
    while done < want {
        let Some(span) = spans.next_span() else { return Err(FrameError::Truncated) };
        let (src, len) = span?;
        let take = len.min(want.saturating_sub(done));
        let Some(out) = dst.get_mut(done..done.saturating_add(take)) else { return Err(FrameError::Truncated) };
        // SAFETY: `src` is valid for `len >= take` bytes (a span of a mapped MDL), `out` is a
        // distinct buffer of exactly `take` bytes.
        unsafe { ptr::copy_nonoverlapping(src, out.as_mut_ptr(), take) };
        done = done.saturating_add(take);
    }
    Ok(done)
}
