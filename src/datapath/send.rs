//! MiniportSendNetBufferLists, MiniportCancelSend and the transmit DPC.
//!
//! **Send.** Every NBL NDIS hands over is registered with the adapter's lifecycle first
//! (`try_begin_tx`). If it cannot be, the whole chain is completed at once, with the
//! DISPATCH_LEVEL flag only if NDIS's send flags said so, and with the status of why:
//! `NDIS_STATUS_PAUSED` (not Running), `NDIS_STATUS_LOW_POWER_STATE`,
//! `NDIS_STATUS_ADAPTER_REMOVED` (surprise removal), `NDIS_STATUS_ADAPTER_NOT_READY` (after
//! shutdown), `NDIS_STATUS_RESET_IN_PROGRESS`, or `NDIS_STATUS_RESOURCES` (the outstanding-send
//! count would overflow). Otherwise the NBLs are queued (linked through `MiniportReserved[0]`;
//! a chain that would take the queue past [`MAX_QUEUED`] is completed with
//! `NDIS_STATUS_RESOURCES` instead) and the transmit DPC is queued: transmission happens off the
//! caller's context, so sends really are outstanding for a while, as on hardware. A send
//! completed untransmitted for any of these reasons, or later flushed from the queue or
//! cancelled, counts as a transmit discard (a malformed one as a transmit error instead).
//!
//! **Transmit DPC** (DISPATCH_LEVEL). Windows may run a DPC that was queued again while
//! running on a second processor at the same time; a [`Serial`] makes exactly one run the
//! transmitter (so an adapter's frames leave in order) without losing the work a concurrent run
//! announced. The transmitter takes up to [`BATCH`] NBLs at a time, at most [`ROUNDS`] batches
//! per run (then gives up the role and re-queues the DPC, keeping each DPC short). For a batch:
//! 1. validate every NET_BUFFER: at least an Ethernet header, at most MTU + header, and an MDL
//!    chain that really holds `DataLength` bytes; a bad NBL gets `NDIS_STATUS_INVALID_LENGTH`
//!    or `NDIS_STATUS_INVALID_DATA` and is counted as a transmit error. A valid NET_BUFFER's
//!    length and destination are noted in its `MiniportReserved` fields;
//! 2. deliver: for each Running peer on the hub, count the frames its filter accepts, then
//!    reserve receive slots for them, copy the frames in and indicate them, in as many
//!    indications as the peer's free slots allow (each accepted frame is filtered once more,
//!    in one pass, as it is copied); a frame that finds no free slot at all is dropped and
//!    counted as the peer's `rx_no_buffer`;
//! 3. complete the batch with one `NdisMSendNetBufferListsComplete` and end the accounting (the
//!    completion that drains a pausing adapter releases its pause).
//!
//! **Cancel.** MiniportCancelSend completes queued NBLs carrying the cancel ID with
//! `NDIS_STATUS_SEND_ABORTED`. An NBL the DPC has already taken is being transmitted and
//! completes normally; the queue lock makes the two exclusive (model-checked in rvmini-core).

use crate::adapter::Adapter;
use crate::adapter::state::account;
use crate::datapath::receive::Inbound;
use crate::hub::HUB;
use crate::ndis::nbl::{self, NetBuffers, SendNbl};
use crate::ndis::sync::SpinLock;
use crate::ndis::work::Dpc;
use crate::ndis::{Irql, sys};
use core::ffi::c_void;
use core::ptr::NonNull;
use rvmini_core::frame::{self, FrameError, Mac};
use rvmini_core::lifecycle::Refusal;
use rvmini_core::queue::{Chain, Fifo};
use rvmini_core::serial::Serial;
use rvmini_core::stats::{Stats, Tally};
use sys::{NDIS_HANDLE, NDIS_STATUS, NET_BUFFER, NET_BUFFER_LIST};

/// NBLs the transmit DPC takes at a time.
pub const BATCH: usize = 64;
/// Batches per DPC run.
pub const ROUNDS: usize = 4;
/// The most NBLs an adapter queues; beyond it, sends complete with `NDIS_STATUS_RESOURCES`
/// (a full transmit ring). Reported through OID_GEN_TRANSMIT_BUFFER_SPACE.
pub const MAX_QUEUED: usize = 4096;

/// The transmit side of an adapter.
pub struct Transmit {
    queue: SpinLock<Fifo<SendNbl>>,
    dpc: Dpc,
    serial: Serial,
}

impl Transmit {
    /// Initialises the queue lock and the DPC in place.
    ///
    /// # Safety
    /// `this` is zeroed memory at its final address inside `adapter`, which outlives the DPC.
    pub unsafe fn init(this: *mut Self, adapter: *mut Adapter) {
        // SAFETY: per the contract `this` is valid, so the field places are in bounds.
        let (queue, dpc) = (unsafe { &raw mut (*this).queue }, unsafe { &raw mut (*this).dpc });
        // SAFETY: the lock is at its final address and unused.
        unsafe { SpinLock::init(queue, Fifo::new()) };
        // SAFETY: the DPC is at its final address; its context, the adapter, outlives it.
        unsafe { Dpc::init(dpc, transmit_dpc, adapter.cast()) };
    }

    /// Frees the queue lock.
    ///
    /// # Safety
    /// The queue is empty and idle.
    pub unsafe fn free_locks(&self) {
        // SAFETY: per the contract.
        unsafe { self.queue.free() };
    }

    /// Stops the DPC for good (halt, PASSIVE_LEVEL): dequeues it and waits for a run in
    /// progress on another processor to finish.
    pub fn stop(&self) {
        self.dpc.cancel();
        // SAFETY: PASSIVE_LEVEL (MiniportHaltEx).
        unsafe { sys::KeFlushQueuedDpcs() };
    }

    /// Completes every queued NBL with `status` (pause, reset, surprise removal, shutdown, low
    /// power; PASSIVE_LEVEL or unknown IRQL), counting them as transmit discards.
    pub fn flush(adapter: &Adapter, status: NDIS_STATUS) {
        let chain = adapter.tx.queue.lock().take_all();
        discard(adapter, chain, status, Irql::AtMostDispatch);
    }
}

/// Hands a chain of send NBLs back to NDIS (`NdisMSendNetBufferListsComplete`) with per-NBL
/// statuses; no lock may be held. Returns how many NBLs were completed. Accounting is the
/// caller's.
fn hand_back(
    adapter: &Adapter,
    chain: Chain<SendNbl>,
    status: impl Fn(NonNull<SendNbl>) -> NDIS_STATUS,
    irql: Irql,
) -> u32 {
    let n = u32::try_from(chain.len()).unwrap_or(u32::MAX);
    if n == 0 {
        return 0;
    }
    let head = nbl::complete_chain(chain, status);
    // SAFETY: `head` is a chain of NBLs NDIS gave this adapter, each with its status set, linked
    // through `Next`; no lock is held (contract). We do not touch them afterwards.
    unsafe {
        sys::NdisMSendNetBufferListsComplete(
            adapter.handle,
            head,
            irql.flag(sys::NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL),
        );
    }
    n
}

/// Completes a chain of accepted send NBLs with per-NBL statuses, then ends their accounting.
fn complete(adapter: &Adapter, chain: Chain<SendNbl>, status: impl Fn(NonNull<SendNbl>) -> NDIS_STATUS, irql: Irql) {
    let n = hand_back(adapter, chain, status, irql);
    if n != 0 {
        account(adapter, adapter.life.end_tx(n));
    }
}

/// Completes a chain of accepted send NBLs untransmitted, all with `status`, counting them as
/// transmit discards.
fn discard(adapter: &Adapter, chain: Chain<SendNbl>, status: NDIS_STATUS, irql: Irql) {
    Stats::bump(&adapter.stats.tx_discards, chain.len() as u64);
    complete(adapter, chain, |_| status, irql);
}

/// The completion status for a refused send.
fn refusal_status(r: Refusal) -> NDIS_STATUS {
    match r {
        Refusal::NotRunning(_) => sys::NDIS_STATUS_PAUSED,
        Refusal::LowPower => sys::NDIS_STATUS_LOW_POWER_STATE,
        Refusal::Removed => sys::NDIS_STATUS_ADAPTER_REMOVED,
        Refusal::Shutdown => sys::NDIS_STATUS_ADAPTER_NOT_READY,
        Refusal::Resetting => sys::NDIS_STATUS_RESET_IN_PROGRESS,
        Refusal::TooMany => sys::NDIS_STATUS_RESOURCES,
    }
}

/// Completes a chain we never accepted (nothing registered, so no accounting), counting it as
/// transmit discards.
fn reject(adapter: &Adapter, chain: Chain<SendNbl>, status: NDIS_STATUS, irql: Irql) {
    Stats::bump(&adapter.stats.tx_discards, chain.len() as u64);
    hand_back(adapter, chain, |_| status, irql);
}

/// MiniportSendNetBufferLists (≤ DISPATCH_LEVEL).
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn send_net_buffer_lists(
    context: NDIS_HANDLE,
    nbls: *mut NET_BUFFER_LIST,
    _port: sys::NDIS_PORT_NUMBER,
    flags: u32,
) {
    // SAFETY: NDIS passes the context we registered.
    let adapter = unsafe { Adapter::from_context(context) };
    let irql = Irql::from_flags(flags, sys::NDIS_SEND_FLAGS_DISPATCH_LEVEL);
    if nbls.is_null() {
        return;
    }
    // SAFETY: NDIS hands us the chain, ours until we complete it; linking it through
    // `MiniportReserved[0]` (which the miniport owns) changes nothing NDIS reads, and the
    // completion relinks it through `Next` in the same order.
    let chain = unsafe { nbl::adopt(nbls) };
    let n = u32::try_from(chain.len()).unwrap_or(u32::MAX);
    if let Err(r) = adapter.life.try_begin_tx(n) {
        return reject(adapter, chain, refusal_status(r), irql);
    }
    let overflow = {
        let mut queue = adapter.tx.queue.lock_at(irql);
        if queue.len().saturating_add(chain.len()) > MAX_QUEUED {
            Some(chain)
        } else {
            queue.push_chain(chain);
            None
        }
    };
    match overflow {
        Some(chain) => discard(adapter, chain, sys::NDIS_STATUS_RESOURCES, irql),
        None => {
            // Already queued is fine: one run transmits everything queued by then.
            adapter.tx.dpc.queue();
        }
    }
}

/// MiniportCancelSend (≤ DISPATCH_LEVEL).
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn cancel_send(context: NDIS_HANDLE, cancel_id: *mut c_void) {
    // SAFETY: NDIS passes the context we registered.
    let adapter = unsafe { Adapter::from_context(context) };
    // SAFETY: queued NBLs are live and ours.
    let hits = adapter.tx.queue.lock().extract(|n| unsafe { nbl::cancel_id(SendNbl::raw(n)) } == cancel_id);
    // NDIS does not tell MiniportCancelSend its IRQL, so the completion flag stays clear.
    discard(adapter, hits, sys::NDIS_STATUS_SEND_ABORTED, Irql::AtMostDispatch);
}

/// The DPC routine: transmits queued sends, one run at a time.
unsafe extern "system" fn transmit_dpc(_dpc: *mut sys::KDPC, context: *mut c_void, _a1: *mut c_void, _a2: *mut c_void) {
    // SAFETY: the DPC's context is its adapter, which outlives the DPC (halt stops it first).
    let adapter = unsafe { &*context.cast::<Adapter>() };
    let tx = &adapter.tx;
    if !tx.serial.enter() {
        // Another run is transmitting and will see the announcement.
        return;
    }
    let mut rounds = 0usize;
    loop {
        tx.serial.begin_pass();
        loop {
            let batch = tx.queue.lock_at(Irql::Dispatch).take(BATCH);
            if batch.is_empty() {
                break;
            }
            transmit(adapter, batch);
            rounds = rounds.saturating_add(1);
            if rounds >= ROUNDS {
                // Yield the processor: give up the role first, then queue a new run.
                tx.serial.release();
                tx.dpc.queue();
                return;
            }
        }
        if !tx.serial.leave() {
            return;
        }
    }
}

/// What validation noted in a NET_BUFFER's `MiniportReserved` fields: `[0]` the frame length,
/// `[1]` the destination address (six bytes in a pointer-sized word).
fn note(nb: NonNull<NET_BUFFER>, len: usize, dest: &Mac) {
    let mut word = [0u8; 8];
    word[..6].copy_from_slice(dest);
    // SAFETY: the NET_BUFFER belongs to a send NBL we own; MiniportReserved is ours meanwhile.
    unsafe { (*nb.as_ptr()).MiniportReserved[0] = len as *mut c_void };
    // SAFETY: as above.
    unsafe { (*nb.as_ptr()).MiniportReserved[1] = usize::from_le_bytes(word) as *mut c_void };
}

fn noted(nb: NonNull<NET_BUFFER>) -> (usize, Mac) {
    // SAFETY: as for `note`; written by `note` during validation.
    let reserved = unsafe { (*nb.as_ptr()).MiniportReserved };
    let (len, word) = (reserved[0] as usize, reserved[1] as usize);
    let b = word.to_le_bytes();
    (len, [b[0], b[1], b[2], b[3], b[4], b[5]])
}

/// Validates an NBL's NET_BUFFERs against the MTU, noting length and destination of each.
fn validate(nbl: *mut NET_BUFFER_LIST, mtu: usize, tally: &mut Tally) -> NDIS_STATUS {
    let mut local = Tally::default();
    let mut any = false;
    // SAFETY: a send NBL we own.
    for nb in unsafe { NetBuffers::of(nbl) } {
        any = true;
        // SAFETY: the NET_BUFFER and its MDLs belong to the NBL we own.
        let checked = unsafe { nbl::measure(nb) }.and_then(|len| frame::check_length(len, mtu).map(|()| len));
        let len = match checked {
            Ok(len) => len,
            Err(FrameError::TooShort | FrameError::TooLong) => return sys::NDIS_STATUS_INVALID_LENGTH,
            Err(FrameError::Truncated) => return sys::NDIS_STATUS_INVALID_DATA,
        };
        let mut dest = [0u8; 6];
        // SAFETY: as above; the chain holds `len >= 14` bytes.
        if unsafe { nbl::copy_prefix(nb, &mut dest) } != Ok(6) {
            return sys::NDIS_STATUS_INVALID_DATA;
        }
        note(nb, len, &dest);
        local.add(frame::classify(&dest), len);
    }
    if !any {
        return sys::NDIS_STATUS_INVALID_DATA;
    }
    for (t, l) in tally.frames.iter_mut().zip(local.frames) {
        *t = t.wrapping_add(l);
    }
    for (t, l) in tally.bytes.iter_mut().zip(local.bytes) {
        *t = t.wrapping_add(l);
    }
    sys::NDIS_STATUS_SUCCESS
}

/// The good frames of a batch, as (NET_BUFFER, length, destination).
fn frames(batch: &Chain<SendNbl>) -> impl Iterator<Item = (NonNull<NET_BUFFER>, usize, Mac)> + '_ {
    batch
        .iter()
        .map(SendNbl::raw)
        // SAFETY: NBLs of the batch are ours; their status was set by `validate`.
        .filter(|nbl| unsafe { (**nbl).Status } == sys::NDIS_STATUS_SUCCESS)
        // SAFETY: as above.
        .flat_map(|nbl| unsafe { NetBuffers::of(nbl) })
        .map(|nb| {
            let (len, dest) = noted(nb);
            (nb, len, dest)
        })
}

/// Why a Running adapter may no longer put frames on the wire: surprise removal or shutdown.
/// Sends the transmit DPC takes after that (still queued at a bug-check shutdown, which may not
/// call NDIS, or queued by a send that raced with the handler's flush) are completed with this
/// status, and nothing is delivered.
fn stopped(adapter: &Adapter) -> Option<NDIS_STATUS> {
    let snap = adapter.life.snapshot();
    if snap.removed {
        Some(sys::NDIS_STATUS_ADAPTER_REMOVED)
    } else if snap.shutdown {
        Some(sys::NDIS_STATUS_ADAPTER_NOT_READY)
    } else {
        None
    }
}

/// Delivers the good frames of a validated batch to one peer (DISPATCH_LEVEL), in as many
/// indications as the peer's free buffers allow (low-resource indications give their buffers
/// back at once); drops, and counts, only what finds no buffer at all.
///
/// The first pass counts the frames the peer's filter accepts, which sizes the reservations.
/// The second pass walks the batch once with one iterator, so each frame is filtered exactly
/// once while being delivered: if the filter changes in between (an OID set on another
/// processor), no frame is delivered twice or skipped for a shift in position. Slots reserved
/// for frames the second pass no longer accepts are given back unused by
/// [`Inbound::indicate`], which ends their accounting.
fn deliver(batch: &Chain<SendNbl>, peer: &Adapter) {
    let accepted = || frames(batch).filter(|(_, _, dest)| peer.accepts(dest, Irql::Dispatch));
    let total = u32::try_from(accepted().count()).unwrap_or(u32::MAX);
    let mut pending = accepted();
    let mut reserved = 0u32;
    while reserved < total {
        let Some(mut inbound) = Inbound::open(peer, total.saturating_sub(reserved), Irql::Dispatch) else { break };
        let room = inbound.capacity();
        if room == 0 {
            Stats::bump(&peer.stats.rx_no_buffer, u64::from(total.saturating_sub(reserved)));
            inbound.indicate();
            break;
        }
        let mut taken = 0u32;
        for (nb, len, dest) in pending.by_ref().take(room as usize) {
            // SAFETY: `nb` was validated to hold `len` bytes and is still ours.
            unsafe { inbound.push(nb, len, &dest) };
            taken = taken.saturating_add(1);
        }
        reserved = reserved.saturating_add(room);
        inbound.indicate();
        if taken < room {
            // The filter now accepts fewer frames than counted: none is left to deliver.
            break;
        }
    }
}

/// Transmits one batch at DISPATCH_LEVEL: validate, deliver to the hub, complete.
fn transmit(adapter: &Adapter, batch: Chain<SendNbl>) {
    if let Some(status) = stopped(adapter) {
        discard(adapter, batch, status, Irql::Dispatch);
        return;
    }
    let mut tally = Tally::default();
    let mut errors = 0u64;
    for node in &batch {
        let raw = SendNbl::raw(node);
        let status = validate(raw, adapter.id.mtu, &mut tally);
        if status != sys::NDIS_STATUS_SUCCESS {
            errors = errors.saturating_add(1);
        }
        // SAFETY: a send NBL we own.
        unsafe { (*raw).Status = status };
    }
    let peers = HUB.peers(adapter, Irql::Dispatch);
    for peer in peers.iter() {
        deliver(&batch, peer);
    }
    drop(peers);
    adapter.stats.tx.add(&tally);
    Stats::bump(&adapter.stats.tx_errors, errors);
    // SAFETY: the statuses were set above.
    complete(adapter, batch, |n| unsafe { (*SendNbl::raw(n)).Status }, Irql::Dispatch);
}
