//! Receive buffers, receive indications and MiniportReturnNetBufferLists.
//!
//! Each adapter owns `*ReceiveBuffers` receive slots: one NBL with one NET_BUFFER, one MDL and
//! one buffer of the largest frame size each, allocated together (the *pool*) and linked on a
//! free list under the receive lock. A slot's NBL carries the slot's address in
//! `MiniportReserved[0]`, so a returned NBL leads back to its slot.
//!
//! **Accounting.** A slot is counted in the adapter's receive count from the moment a sender's
//! DPC reserves it ([`Inbound::open`], which registers with the lifecycle only if the adapter is
//! Running) until it is back on the free list. A pause therefore completes only after every
//! indicated NBL has been returned.
//!
//! **Low resources.** When an indication would leave fewer than an eighth of the slots free, it
//! is made with `NDIS_RECEIVE_FLAGS_RESOURCES`: NDIS copies what it needs before the call
//! returns, and the slots go straight back to the free list (NDIS does not return them). A batch
//! larger than the free slots is delivered in several indications, so a frame is dropped (and
//! counted: `OID_GEN_RCV_NO_BUFFER`) only when no slot at all is free — every slot indicated and
//! held by NDIS.
//!
//! The pool is created and destroyed ([`Receive::create`], [`Receive::destroy`], both `unsafe`)
//! only while no receive can be in flight, by callers NDIS serialises: during initialization,
//! while Paused (a low-power transition), in a pending restart's work item, and in halt.

use crate::adapter::Adapter;
use crate::adapter::state::account;
use crate::log;
use crate::ndis::nbl::copy_prefix;
use crate::ndis::sync::SpinLock;
use crate::ndis::{Irql, sys};
use crate::rt::alloc::PoolBox;
use core::cell::UnsafeCell;
use core::ptr::{self, NonNull};
use core::sync::atomic::{AtomicBool, Ordering};
use rvmini_core::frame::{self, Mac};
use rvmini_core::stats::{Stats, Tally};
use sys::{MDL, NDIS_HANDLE, NDIS_STATUS, NET_BUFFER, NET_BUFFER_LIST};

/// One receive slot.
pub struct Slot {
    nbl: *mut NET_BUFFER_LIST,
    mdl: *mut MDL,
    buffer: Option<PoolBox<u8>>,
    next_free: *mut Slot,
}

/// The allocated receive resources.
struct Pool {
    nbl_pool: NDIS_HANDLE,
    slots: PoolBox<Slot>,
}

/// The free list: the free slots, and how many slots the pool has.
pub struct FreeList {
    slots: Slots,
    total: u32,
}

// SAFETY: the list holds addresses of the adapter's own slots; it is reached only under its lock.
unsafe impl Send for FreeList {}

/// The receive side of an adapter.
pub struct Receive {
    free: SpinLock<FreeList>,
    pool: UnsafeCell<Option<Pool>>,
    present: AtomicBool,
}

/// A list of slots, linked through `next_free`.
struct Slots {
    head: *mut Slot,
    len: u32,
}

impl Slots {
    const EMPTY: Slots = Slots { head: ptr::null_mut(), len: 0 };

    fn pop(&mut self) -> Option<NonNull<Slot>> {
        let slot = NonNull::new(self.head)?;
        // SAFETY: every slot on a slot list is a live slot of the adapter's pool.
        self.head = unsafe { (*slot.as_ptr()).next_free };
        self.len = self.len.saturating_sub(1);
        Some(slot)
    }

    fn push(&mut self, slot: NonNull<Slot>) {
        // SAFETY: as above; the slot is on no other list.
        unsafe { (*slot.as_ptr()).next_free = self.head };
        self.head = slot.as_ptr();
        self.len = self.len.saturating_add(1);
    }
}

impl Receive {
    /// Initialises the lock in place.
    ///
    /// # Safety
    /// `this` is zeroed memory at its final address.
    pub unsafe fn init(this: *mut Self) {
        // SAFETY: per the contract `this` is valid, so the field place is in bounds.
        let free = unsafe { &raw mut (*this).free };
        // SAFETY: the lock is at its final address and unused.
        unsafe { SpinLock::init(free, FreeList { slots: Slots::EMPTY, total: 0 }) };
    }

    /// Frees the lock.
    ///
    /// # Safety
    /// The pool is destroyed and the lock idle.
    pub unsafe fn free_locks(&self) {
        // SAFETY: per the contract.
        unsafe { self.free.free() };
    }

    /// True if the receive buffers exist.
    pub fn present(&self) -> bool {
        self.present.load(Ordering::Acquire)
    }

    /// Allocates the receive buffers (PASSIVE_LEVEL), if absent. On failure nothing stays
    /// allocated.
    ///
    /// # Safety
    /// No receive of this adapter is in flight (no slot reserved, no indicated NBL
    /// outstanding) and none can start during the call, and no other `create` or `destroy` of
    /// it runs at the same time: the pool cell is written without a lock (see the module
    /// documentation for the callers that guarantee this).
    pub unsafe fn create(&self, adapter: &Adapter) -> Result<(), NDIS_STATUS> {
        if self.present() {
            return Ok(());
        }
        let count = adapter.id.receive_buffers;
        let capacity = adapter.id.slot_len();
        let mut params = sys::NET_BUFFER_LIST_POOL_PARAMETERS {
            Header: crate::ndis::header(
                sys::NDIS_OBJECT_TYPE_DEFAULT,
                sys::NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
                sys::NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
            ),
            ProtocolId: sys::NDIS_PROTOCOL_ID_DEFAULT,
            fAllocateNetBuffer: 1,
            ContextSize: 0,
            PoolTag: crate::rt::POOL_TAG,
            DataSize: 0,
            // Revision 1 ends before `Flags`; NDIS reads no further than the header's size.
            Flags: 0,
        };
        // SAFETY: the parameters are valid for the call.
        let nbl_pool = unsafe { sys::NdisAllocateNetBufferListPool(adapter.handle, &raw mut params) };
        if nbl_pool.is_null() {
            return Err(sys::NDIS_STATUS_RESOURCES);
        }
        // SAFETY: all-zero is a valid Slot (null pointers, `None`).
        let Some(slots) = (unsafe { PoolBox::<Slot>::try_new_zeroed_slice(count as usize) }) else {
            // SAFETY: the pool is empty and ours.
            unsafe { sys::NdisFreeNetBufferListPool(nbl_pool) };
            return Err(sys::NDIS_STATUS_RESOURCES);
        };
        let pool = Pool { nbl_pool, slots };
        let mut list = Slots::EMPTY;
        for i in 0..pool.slots.len() {
            // `i` is in bounds; the slot lives as long as the pool.
            let slot = pool.slots.as_ptr().wrapping_add(i);
            // SAFETY: `slot` points into our slot array; nothing else references it yet.
            match unsafe { fill_slot(slot, adapter.handle, nbl_pool, capacity) } {
                // SAFETY: `slot` is not null: it is `i < len` elements past the start of the
                // slot array, so it points inside that live allocation, and no allocation
                // contains address 0 (the array's own start is a `NonNull` in its PoolBox).
                Ok(()) => list.push(unsafe { NonNull::new_unchecked(slot) }),
                Err(status) => {
                    // SAFETY: no slot of the pool is in use; `destroy_pool` frees the filled ones.
                    unsafe { destroy_pool(pool) };
                    return Err(status);
                }
            }
        }
        {
            let mut free = self.free.lock();
            free.total = list.len;
            free.slots = list;
        }
        // SAFETY: no receive is in flight and no other `create` or `destroy` runs (contract),
        // and nothing else reads the pool cell, so this write is unobserved.
        unsafe { *self.pool.get() = Some(pool) };
        self.present.store(true, Ordering::Release);
        Ok(())
    }

    /// Frees the receive buffers (PASSIVE_LEVEL), if present.
    ///
    /// # Safety
    /// As for [`Receive::create`]; in particular every slot is back on the free list.
    pub unsafe fn destroy(&self) {
        if !self.present.swap(false, Ordering::AcqRel) {
            return;
        }
        let (free, total) = {
            let mut list = self.free.lock();
            let counts = (list.slots.len, list.total);
            *list = FreeList { slots: Slots::EMPTY, total: 0 };
            counts
        };
        if free != total {
            log!(Error, "receive buffers freed with {} of {} outstanding", total.saturating_sub(free), total);
        }
        // SAFETY: no receive is in flight and no other `create` or `destroy` runs (contract),
        // and nothing else reads the pool cell.
        if let Some(pool) = unsafe { (*self.pool.get()).take() } {
            // SAFETY: no receive is in flight (contract), so no slot is in use.
            unsafe { destroy_pool(pool) };
        }
    }

    /// Takes up to `n` slots; also says whether the free list is now low.
    fn take(&self, n: u32, irql: Irql) -> (Slots, bool) {
        let mut list = self.free.lock_at(irql);
        let mut out = Slots::EMPTY;
        while out.len < n {
            let Some(slot) = list.slots.pop() else { break };
            out.push(slot);
        }
        let low = list.slots.len < (list.total / 8).max(1);
        (out, low)
    }

    /// Puts slots back on the free list.
    fn give_back(&self, mut slots: Slots, irql: Irql) {
        if slots.len == 0 {
            return;
        }
        let mut list = self.free.lock_at(irql);
        while let Some(slot) = slots.pop() {
            list.slots.push(slot);
        }
    }
}

/// Allocates a slot's buffer, MDL and NBL.
///
/// # Safety
/// `slot` points to a zeroed slot nobody else references.
unsafe fn fill_slot(
    slot: *mut Slot,
    adapter: NDIS_HANDLE,
    nbl_pool: NDIS_HANDLE,
    capacity: usize,
) -> Result<(), NDIS_STATUS> {
    // SAFETY: a byte buffer is valid all-zero.
    let buffer = unsafe { PoolBox::<u8>::try_new_zeroed_slice(capacity) }.ok_or(sys::NDIS_STATUS_RESOURCES)?;
    let len = u32::try_from(capacity).map_err(|_| sys::NDIS_STATUS_INVALID_LENGTH)?;
    // SAFETY: the buffer is non-paged pool memory of `len` bytes that outlives the MDL.
    let mdl = unsafe { sys::NdisAllocateMdl(adapter, buffer.as_ptr().cast(), len) };
    if mdl.is_null() {
        return Err(sys::NDIS_STATUS_RESOURCES);
    }
    // SAFETY: the pool and MDL are valid; the NBL gets one NET_BUFFER describing the MDL.
    let nbl = unsafe { sys::NdisAllocateNetBufferAndNetBufferList(nbl_pool, 0, 0, mdl, 0, 0) };
    if nbl.is_null() {
        // SAFETY: the MDL is ours and unused.
        unsafe { sys::NdisFreeMdl(mdl) };
        return Err(sys::NDIS_STATUS_RESOURCES);
    }
    // SAFETY: the NBL was just allocated and is ours.
    unsafe { (*nbl).MiniportReserved[0] = slot.cast() };
    // SAFETY: as above.
    unsafe { (*nbl).SourceHandle = adapter };
    // SAFETY: `slot` is valid for writes (contract).
    unsafe { slot.write(Slot { nbl, mdl, buffer: Some(buffer), next_free: ptr::null_mut() }) };
    Ok(())
}

/// Frees every filled slot and the NBL pool.
///
/// # Safety
/// No slot of the pool is in use.
unsafe fn destroy_pool(pool: Pool) {
    for slot in pool.slots.as_slice() {
        if !slot.nbl.is_null() {
            // SAFETY: the NBL came from our pool and is not in use.
            unsafe { sys::NdisFreeNetBufferList(slot.nbl) };
        }
        if !slot.mdl.is_null() {
            // SAFETY: the MDL came from NdisAllocateMdl and is not in use.
            unsafe { sys::NdisFreeMdl(slot.mdl) };
        }
    }
    // SAFETY: every NBL of the pool has been freed above.
    unsafe { sys::NdisFreeNetBufferListPool(pool.nbl_pool) };
    drop(pool.slots);
}

/// Frames on their way into one peer: slots reserved and registered with its lifecycle,
/// filled by [`Inbound::push`], indicated by [`Inbound::indicate`].
pub struct Inbound<'a> {
    peer: &'a Adapter,
    spare: Slots,
    head: *mut NET_BUFFER_LIST,
    tail: *mut NET_BUFFER_LIST,
    count: u32,
    low: bool,
    tally: Tally,
    irql: Irql,
}

impl<'a> Inbound<'a> {
    /// Reserves up to `wanted` slots of `peer` (at DISPATCH_LEVEL or below), if and only if it
    /// is Running. It may get fewer ([`Inbound::capacity`]); the caller delivers that many and
    /// opens again for the rest.
    pub fn open(peer: &'a Adapter, wanted: u32, irql: Irql) -> Option<Self> {
        if wanted == 0 || peer.life.try_begin_rx(wanted).is_err() {
            return None;
        }
        let (spare, low) = peer.rx.take(wanted, irql);
        let missing = wanted.saturating_sub(spare.len);
        if missing != 0 {
            account(peer, peer.life.end_rx(missing));
        }
        Some(Self {
            peer,
            spare,
            head: ptr::null_mut(),
            tail: ptr::null_mut(),
            count: 0,
            low,
            tally: Tally::default(),
            irql,
        })
    }

    /// How many frames this delivery can take.
    #[must_use]
    pub fn capacity(&self) -> u32 {
        self.spare.len
    }

    /// Copies a validated frame of `len` bytes from a send NET_BUFFER into the next slot.
    ///
    /// # Safety
    /// `nb` is a live NET_BUFFER whose MDL chain holds at least `len` bytes (validated by the
    /// sender's transmit DPC).
    pub unsafe fn push(&mut self, nb: NonNull<NET_BUFFER>, len: usize, dest: &Mac) {
        let Some(slot) = self.spare.pop() else {
            Stats::bump(&self.peer.stats.rx_no_buffer, 1);
            return;
        };
        // SAFETY: the slot is ours (reserved in `open`) and filled; we only read it.
        let slot_ref = unsafe { &*slot.as_ptr() };
        let Some(buffer) = slot_ref.buffer.as_ref() else { return self.spare.push(slot) };
        let capacity = buffer.len();
        let wire = frame::wire_len(len);
        if wire > capacity {
            // Larger than this peer's MTU: its NIC would drop it as a giant.
            Stats::bump(&self.peer.stats.rx_errors, 1);
            return self.spare.push(slot);
        }
        // SAFETY: we own the slot's buffer of `capacity` bytes; nobody else references it.
        let dst = unsafe { core::slice::from_raw_parts_mut(buffer.as_ptr(), capacity) };
        let Some(frame_dst) = dst.get_mut(..len) else { return self.spare.push(slot) };
        // SAFETY: `nb` is live and holds `len` bytes (contract); `frame_dst` is our buffer.
        if unsafe { copy_prefix(nb, frame_dst) } != Ok(len) {
            Stats::bump(&self.peer.stats.rx_errors, 1);
            return self.spare.push(slot);
        }
        if let Some(pad) = dst.get_mut(len..wire) {
            pad.fill(0);
        }
        let nbl = slot_ref.nbl;
        // SAFETY: the slot's NBL and its one NET_BUFFER are ours until indicated.
        unsafe { prepare(nbl, slot_ref.mdl, wire, self.peer.handle) };
        if self.tail.is_null() {
            self.head = nbl;
        } else {
            // SAFETY: `tail` is the previous NBL of this chain, still ours.
            unsafe { (*self.tail).Next = nbl };
        }
        self.tail = nbl;
        self.count = self.count.saturating_add(1);
        self.tally.add(frame::classify(dest), wire);
    }

    /// Indicates the frames (no lock held), then returns unused slots.
    pub fn indicate(mut self) {
        let unused = core::mem::replace(&mut self.spare, Slots::EMPTY);
        let unused_count = unused.len;
        self.peer.rx.give_back(unused, self.irql);
        if unused_count != 0 {
            account(self.peer, self.peer.life.end_rx(unused_count));
        }
        if self.count == 0 {
            return;
        }
        let mut flags = self.irql.flag(sys::NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL);
        if self.low {
            flags |= sys::NDIS_RECEIVE_FLAGS_RESOURCES;
        }
        self.peer.stats.rx.add(&self.tally);
        // SAFETY: the chain holds `count` prepared NBLs of this peer, linked through `Next`,
        // SourceHandle set; no lock is held.
        unsafe {
            sys::NdisMIndicateReceiveNetBufferLists(
                self.peer.handle,
                self.head,
                sys::NDIS_DEFAULT_PORT_NUMBER,
                self.count,
                flags,
            );
        }
        if self.low {
            // With NDIS_RECEIVE_FLAGS_RESOURCES the NBLs are ours again as soon as the call
            // returns, and NDIS will not return them.
            // SAFETY: the chain is ours again and linked through `Next`.
            unsafe { reclaim(self.peer, self.head, self.irql) };
        }
    }
}

/// Prepares a slot's NBL for indication: one NET_BUFFER of `len` bytes at the start of the
/// slot's MDL.
///
/// # Safety
/// `nbl` is a slot NBL we own, with its NET_BUFFER; `mdl` is the slot's MDL.
unsafe fn prepare(nbl: *mut NET_BUFFER_LIST, mdl: *mut MDL, len: usize, source: NDIS_HANDLE) {
    // SAFETY: per the contract.
    let nb = unsafe { (*nbl).FirstNetBuffer };
    let len = u32::try_from(len).unwrap_or(0);
    if !nb.is_null() {
        // SAFETY: the slot's own NET_BUFFER, ours until indicated; restores every field a
        // protocol may have moved (data start, current MDL) before reuse.
        unsafe {
            (*nb).Next = ptr::null_mut();
        }
        // SAFETY: as above.
        unsafe { (*nb).MdlChain = mdl };
        // SAFETY: as above.
        unsafe { (*nb).CurrentMdl = mdl };
        // SAFETY: as above.
        unsafe { (*nb).CurrentMdlOffset = 0 };
        // SAFETY: as above.
        unsafe { (*nb).DataOffset = 0 };
        // SAFETY: as above.
        unsafe { (*nb).DataLength = len };
    }
    // SAFETY: the NBL is ours until indicated.
    unsafe { (*nbl).Next = ptr::null_mut() };
    // SAFETY: as above.
    unsafe { (*nbl).Status = sys::NDIS_STATUS_SUCCESS };
    // SAFETY: as above.
    unsafe { (*nbl).SourceHandle = source };
}

/// Puts a chain of this adapter's receive NBLs back on its free list and ends their
/// accounting.
///
/// # Safety
/// `head` is a chain (through `Next`) of `adapter`'s slot NBLs that the caller owns again.
unsafe fn reclaim(adapter: &Adapter, head: *mut NET_BUFFER_LIST, irql: Irql) {
    let mut slots = Slots::EMPTY;
    // SAFETY: forwarded from the caller.
    for nbl in unsafe { crate::ndis::nbl::NdisChain::new(head) } {
        // SAFETY: the NBL is one of our slot NBLs; MiniportReserved[0] holds its slot.
        let slot = unsafe { (*nbl.as_ptr()).MiniportReserved[0] }.cast::<Slot>();
        match NonNull::new(slot) {
            Some(s) => slots.push(s),
            None => log!(Error, "returned NBL {:p} has no slot", nbl.as_ptr()),
        }
    }
    let n = slots.len;
    adapter.rx.give_back(slots, irql);
    if n != 0 {
        account(adapter, adapter.life.end_rx(n));
    }
}

/// MiniportReturnNetBufferLists (≤ DISPATCH_LEVEL).
///
/// # Safety
/// Called by NDIS only, with NBLs this adapter indicated.
pub unsafe extern "system" fn return_net_buffer_lists(context: NDIS_HANDLE, nbls: *mut NET_BUFFER_LIST, flags: u32) {
    // SAFETY: NDIS passes the context we registered, live while it owns our NBLs.
    let adapter = unsafe { Adapter::from_context(context) };
    let irql = Irql::from_flags(flags, sys::NDIS_RETURN_FLAGS_DISPATCH_LEVEL);
    // SAFETY: NDIS hands back NBLs we indicated, linked through `Next`.
    unsafe { reclaim(adapter, nbls, irql) };
}
