//! The protocol bound to every adapter: what sends frames into the miniport and receives what
//! it indicates.
//!
//! **Sending.** Send NBLs come from a pool of host-owned slots (an NBL, up to [`MAX_NBS`]
//! NET_BUFFERs, each with up to [`MAX_MDLS`] MDLs over its own data buffer), so steady-state
//! traffic allocates nothing. Tests choose the frame sizes, destinations, chain lengths and MDL
//! layouts, including malformed ones. A slot's `ProtocolReserved[0]` points back to the slot and
//! `ProtocolReserved[1]` holds a check value, so a completion can be traced to its send.
//!
//! **Checks on send completion** (`Send.*` rules): each NBL completed once, by the adapter it
//! was sent on; a final status; its NET_BUFFER chain intact; `NDIS_STATUS_PAUSED` if it was sent
//! after MiniportPause returned or while Paused; and, when the NBL is reused, that the driver did
//! not write to it after completing it.
//!
//! **Checks on receive** (`Receive.*` rules): SourceHandle, count, MDL coverage, and no NBL
//! indicated again while NDIS still holds it. Every frame carrying the protocol's test
//! EtherType is compared byte for byte with what its sender sent (frames shorter than the
//! Ethernet minimum arrive padded with zeros), and checked to arrive in order per stream.
//!
//! **Delivery oracle.** A frame that was sent, delivered and completed with SUCCESS while every
//! adapter stayed Running (no PnP change anywhere in between) must have reached each adapter it
//! was addressed to and that accepted it; a missing one is recorded as lost.
//!
//! **Returning received NBLs** follows each adapter's [`ReturnPolicy`]: inline (from within the
//! indication), queued (returned by the executor), or held for a while.
//!
//! **Fast mode** ([`Protocol::fast`], for the benchmarks only): the protocol trusts the
//! miniport's pointers and reads and writes NBLs, NET_BUFFERs and MDLs directly instead of
//! through `process_vm_readv` (a system call per field), builds only the header and test tag of
//! each frame it sends, and counts received test frames from their headers without comparing
//! payload bytes. The per-call checks of the verifier still apply when they are on, except that
//! a received NET_BUFFER's MDL coverage is checked only for the first `14 + TAG` bytes (the
//! header and tag it reads).

use super::adapter::{Adapter, Pnp};
use super::miniport;
use crate::abi::mem;
use crate::host::thread::{DISPATCH, PASSIVE};
use crate::host::{Abandoned, HostInner};
use crate::verifier::Rule;
use ndis_sys as sys;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

/// The most NET_BUFFERs per send NBL.
pub const MAX_NBS: usize = 4;
/// The most MDLs per NET_BUFFER.
pub const MAX_MDLS: usize = 8;
/// Data buffer per NET_BUFFER: room for a 9014-byte jumbo frame plus offsets and test slack.
pub const BUFFER: usize = 9216 + 256;
/// Send slots allocated by the first send when nobody called [`Protocol::grow`].
pub const DEFAULT_SLOTS: usize = 64;
/// The EtherType of the protocol's test frames (IEEE 802 local experimental EtherType 1).
pub const ETHERTYPE: u16 = 0x88B5;
/// Bytes of the test tag after the Ethernet header: stream (4), sequence (8), length (4).
pub const TAG: usize = 16;
/// The most NBLs of one receive indication the host walks (whatever NumberOfNetBufferLists
/// says); a longer chain is reported as not matching the count.
pub const MAX_RECEIVE_CHAIN: usize = 1 << 16;
/// The longest received NET_BUFFER the host reads (64 KiB, above any frame the protocol sends:
/// [`BUFFER`]); a longer `DataLength` is reported as malformed instead of being allocated.
pub const MAX_RECEIVE_LENGTH: usize = 64 * 1024;
const MAGIC: u64 = 0x4E44_4953_484F_5354; // "NDISHOST"

/// When the protocol returns received NBLs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnPolicy {
    /// From within the indication (NdisReturnNetBufferLists inside ProtocolReceive).
    Inline,
    /// Queued and returned by the executor as soon as it gets to it.
    Queue,
    /// Held for this long, then returned. Threaded mode keeps to the time (the returner thread
    /// returns a group once it is due). In deterministic mode the seeded scheduler may return
    /// any held group at any step, due or not: there the duration has no effect.
    Hold(Duration),
}

/// How a frame's bytes are laid out in MDLs.
///
/// `repr(u8)` gives the enum a defined layout (a `u8` tag, 0 for the first variant, before the
/// fields), so that all-zero bytes are a valid `Layout` ([`Layout::Single`]): send slots are
/// allocated zeroed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Layout {
    /// One MDL holding the frame.
    Single,
    /// The frame split into this many MDLs of about equal size (at most [`MAX_MDLS`]).
    Split(usize),
    /// One MDL, with the data starting this many bytes into it (`DataOffset`,
    /// `CurrentMdlOffset`).
    Offset(usize),
    /// Malformed: the MDL chain holds fewer bytes than `DataLength` claims.
    Truncated,
    /// Malformed: no NET_BUFFER at all.
    NoNetBuffer,
}

/// One frame to send.
#[derive(Clone, Copy, Debug)]
pub struct Frame {
    /// Destination MAC.
    pub dst: [u8; 6],
    /// Length in bytes, header included.
    pub len: usize,
    /// Layout.
    pub layout: Layout,
}

/// Protocol-level outcomes, for tests and summaries.
#[derive(Debug, Default)]
pub struct Stats {
    /// Send NBLs submitted.
    pub sent: AtomicU64,
    /// Completed with SUCCESS.
    pub completed_ok: AtomicU64,
    /// Completed with NDIS_STATUS_PAUSED.
    pub completed_paused: AtomicU64,
    /// Completed with another status.
    pub completed_other: AtomicU64,
    /// Test frames received.
    pub received: AtomicU64,
    /// Bytes received.
    pub received_bytes: AtomicU64,
    /// Frames whose bytes differed from what was sent.
    pub corrupt: AtomicU64,
    /// Frames received out of order within their stream.
    pub out_of_order: AtomicU64,
    /// Frames that should have arrived and did not.
    pub lost: AtomicU64,
    /// Frames checked by the delivery oracle.
    pub delivered_checked: AtomicU64,
}

/// A host-owned send slot.
#[repr(C)]
struct Slot {
    nbl: sys::NET_BUFFER_LIST,
    nbs: [sys::NET_BUFFER; MAX_NBS],
    mdls: [[sys::MDL; MAX_MDLS]; MAX_NBS],
    data: [*mut u8; MAX_NBS],
    index: usize,
    adapter: usize,
    stream: u32,
    seq: [u64; MAX_NBS],
    nb_count: usize,
    frames: [Frame; MAX_NBS],
    /// The PnP epoch at submission.
    epoch: u64,
    /// The adapter was Running at submission.
    running: bool,
    /// The adapter was Paused, or Pausing after MiniportPause returned, at submission.
    after_pause: bool,
    checksum: u64,
    state: u8,
}

const IDLE: u8 = 0;
const IN_MINIPORT: u8 = 1;
const COMPLETED: u8 = 2;

/// Receive NBLs NDIS (the protocol) holds, to be returned later.
struct Held {
    adapter: usize,
    nbls: Vec<u64>,
    due: Instant,
}

#[derive(Default)]
struct Link {
    /// Sequence numbers received and not yet matched with their send completion.
    received: HashSet<u64>,
    /// The last sequence number received.
    last: Option<u64>,
}

/// The protocol.
pub struct Protocol {
    free: Mutex<Vec<usize>>,
    slots: Mutex<Vec<SlotPtr>>,
    policies: Mutex<HashMap<usize, ReturnPolicy>>,
    held: Mutex<VecDeque<Held>>,
    held_cv: Condvar,
    held_count: AtomicU64,
    links: Mutex<HashMap<(u32, usize), Link>>,
    /// NBLs NDIS holds per adapter (per-call checks only).
    owned: Mutex<HashMap<usize, HashSet<u64>>>,
    /// Outcome counters.
    pub stats: Stats,
    errors: Mutex<Vec<String>>,
    next_seq: Mutex<HashMap<u32, u64>>,
    /// Check the delivery oracle.
    pub expect_delivery: std::sync::atomic::AtomicBool,
    /// Fast mode (see the module documentation): benchmarks only.
    pub fast: std::sync::atomic::AtomicBool,
    /// Bumped at every PnP change of any adapter.
    pub epoch: Arc<AtomicU64>,
}

#[derive(Clone, Copy)]
struct SlotPtr(*mut Slot);
// SAFETY: slots are heap allocations owned by the protocol; their bookkeeping is handed between
// threads under the protocol's locks, and the NDIS fields by the NDIS ownership protocol.
unsafe impl Send for SlotPtr {}

impl std::fmt::Debug for Protocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Protocol").field("stats", &self.stats).finish_non_exhaustive()
    }
}

impl Drop for Protocol {
    fn drop(&mut self) {
        for SlotPtr(p) in self.slots.get_mut().unwrap_or_else(PoisonError::into_inner).drain(..) {
            // SAFETY: each slot and its buffers were leaked from boxes by `grow` and are freed
            // once, here; nothing else uses them after the host is dropped.
            unsafe {
                for d in (*p).data {
                    drop(Box::from_raw(std::ptr::slice_from_raw_parts_mut(d, BUFFER)));
                }
                drop(Box::from_raw(p));
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The byte at `i` of the payload of frame `seq` of `stream`.
#[must_use]
pub fn pattern(stream: u32, seq: u64, i: usize) -> u8 {
    (seq.wrapping_mul(31).wrapping_add(u64::from(stream).wrapping_mul(7)).wrapping_add(i as u64) & 0xFF) as u8
}

/// Builds the bytes of a test frame.
pub fn build_frame(out: &mut [u8], dst: [u8; 6], src: [u8; 6], stream: u32, seq: u64) {
    let len = out.len();
    for (i, b) in out.iter_mut().enumerate() {
        *b = pattern(stream, seq, i);
    }
    if len >= 6 {
        out[..6].copy_from_slice(&dst);
    }
    if len >= 12 {
        out[6..12].copy_from_slice(&src);
    }
    if len >= 14 {
        out[12..14].copy_from_slice(&ETHERTYPE.to_be_bytes());
    }
    if len >= 14 + TAG {
        out[14..18].copy_from_slice(&stream.to_le_bytes());
        out[18..26].copy_from_slice(&seq.to_le_bytes());
        out[26..30].copy_from_slice(&u32::try_from(len).unwrap_or(0).to_le_bytes());
    }
}

fn fnv(bytes: &[u8], mut h: u64) -> u64 {
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01B3);
    }
    h
}

/// A checksum of the NDIS-visible fields of a slot (NBL and NBs, without `Next` and `Status`),
/// taken at completion and compared at reuse.
fn checksum(slot: *const Slot) -> u64 {
    // SAFETY: `slot` is a live slot the protocol owns; we read plain bytes of its NDIS part.
    let nbl = unsafe {
        std::slice::from_raw_parts(std::ptr::addr_of!((*slot).nbl).cast::<u8>(), size_of::<sys::NET_BUFFER_LIST>())
    };
    // SAFETY: as above.
    let nbs = unsafe {
        std::slice::from_raw_parts(
            std::ptr::addr_of!((*slot).nbs).cast::<u8>(),
            size_of::<[sys::NET_BUFFER; MAX_NBS]>(),
        )
    };
    let next = std::mem::offset_of!(sys::NET_BUFFER_LIST, Next);
    let status = std::mem::offset_of!(sys::NET_BUFFER_LIST, Status);
    let mut h = 0xCBF2_9CE4_8422_2325;
    h = fnv(&nbl[..next], h);
    h = fnv(&nbl[next + 8..status], h);
    h = fnv(&nbl[status + 4..], h);
    fnv(nbs, h)
}

use std::mem::size_of;

/// Reads a `T` at `addr`: directly in fast mode, else through [`mem`] (a bad pointer is `None`).
fn peek<T: Copy>(fast: bool, addr: u64) -> Option<T> {
    if !fast {
        return super::calls::read_pod::<T>(addr, size_of::<T>());
    }
    if addr == 0 {
        return None;
    }
    // SAFETY: fast mode trusts the miniport (benchmarks of a driver the checked runs have
    // verified): `addr` is a live NDIS structure of the miniport's or ours. `T` is plain data
    // (integers and pointers), so any bytes are a valid value; unaligned reads are allowed.
    Some(unsafe { (crate::abi::usize_of(addr) as *const T).read_unaligned() })
}

/// Writes `value` at `addr`: directly in fast mode, else through [`mem`]; false if it failed.
fn poke_u64(fast: bool, addr: u64, value: u64) -> bool {
    if !fast {
        return mem::write(addr, &value.to_le_bytes());
    }
    if addr == 0 {
        return false;
    }
    // SAFETY: as in `peek`: a live NBL NDIS (the protocol) owns at this point.
    unsafe { (crate::abi::usize_of(addr) as *mut u64).write_unaligned(value) };
    true
}

impl Protocol {
    /// A protocol with no slots yet.
    #[must_use]
    pub fn new(epoch: Arc<AtomicU64>) -> Self {
        Self {
            free: Mutex::new(Vec::new()),
            slots: Mutex::new(Vec::new()),
            policies: Mutex::new(HashMap::new()),
            held: Mutex::new(VecDeque::new()),
            held_cv: Condvar::new(),
            held_count: AtomicU64::new(0),
            links: Mutex::new(HashMap::new()),
            owned: Mutex::new(HashMap::new()),
            stats: Stats::default(),
            errors: Mutex::new(Vec::new()),
            next_seq: Mutex::new(HashMap::new()),
            expect_delivery: std::sync::atomic::AtomicBool::new(false),
            fast: std::sync::atomic::AtomicBool::new(false),
            epoch,
        }
    }

    /// Sets how received NBLs of `adapter` are returned.
    pub fn set_policy(&self, adapter: usize, policy: ReturnPolicy) {
        lock(&self.policies).insert(adapter, policy);
    }

    fn policy(&self, adapter: usize) -> ReturnPolicy {
        lock(&self.policies).get(&adapter).copied().unwrap_or(ReturnPolicy::Inline)
    }

    /// Protocol-level errors recorded (corrupt, lost or reordered frames), first ones first.
    #[must_use]
    pub fn errors(&self) -> Vec<String> {
        lock(&self.errors).clone()
    }

    fn error(&self, text: String) {
        let mut e = lock(&self.errors);
        if e.len() < 100 {
            e.push(text);
        }
    }

    /// Allocates `n` more send slots.
    pub fn grow(&self, n: usize) {
        // Lock order, here and in `take_slots`: `slots`, then `free`.
        let mut slots = lock(&self.slots);
        let mut free = lock(&self.free);
        Self::grow_locked(&mut slots, &mut free, n);
    }

    fn grow_locked(slots: &mut Vec<SlotPtr>, free: &mut Vec<usize>, n: usize) {
        for _ in 0..n {
            let index = slots.len();
            // SAFETY: all-zero is a valid Slot: the NDIS structures are integers, raw pointers
            // and `Option`s of function pointers (null is `None`); the data pointers are null
            // until filled in below; the bookkeeping is integers, `bool`s (false) and `Frame`s,
            // whose `Layout` is `repr(u8)` with tag 0 = `Layout::Single` (no fields).
            let slot: Box<Slot> = unsafe { Box::new(std::mem::zeroed()) };
            let p = Box::into_raw(slot);
            // SAFETY: `p` is our fresh allocation.
            unsafe {
                for d in &mut (*p).data {
                    *d = Box::into_raw(vec![0u8; BUFFER].into_boxed_slice()).cast::<u8>();
                }
                (*p).index = index;
            }
            slots.push(SlotPtr(p));
            free.push(index);
        }
    }

    /// Takes up to `out.len()` free slots (one pass over the locks); returns how many. A pool
    /// nobody sized ([`Protocol::grow`]) gets [`DEFAULT_SLOTS`] first, so that a test that just
    /// sends works.
    fn take_slots(&self, host: &HostInner, out: &mut [*mut Slot]) -> usize {
        let mut n = 0;
        {
            // Lock order as in `grow`.
            let mut slots = lock(&self.slots);
            let mut free = lock(&self.free);
            if slots.is_empty() {
                Self::grow_locked(&mut slots, &mut free, DEFAULT_SLOTS);
            }
            while n < out.len() {
                let Some(index) = free.pop() else { break };
                out[n] = slots[index].0;
                n += 1;
            }
        }
        for &p in &out[..n] {
            // SAFETY: the slot is free (owned by the protocol again); compare its NDIS fields
            // with the checksum taken when it was completed.
            unsafe {
                if (*p).state == COMPLETED && host.verifier.per_call() && checksum(p) != (*p).checksum {
                    host.finding(
                        Rule::SendTouchedAfterComplete,
                        Some((*p).adapter),
                        format!(
                            "send NBL {:#x} was modified after it was completed",
                            std::ptr::addr_of!((*p).nbl) as u64
                        ),
                    );
                }
                (*p).state = IDLE;
            }
        }
        n
    }

    /// Puts completed slots back on the free list (one lock for all).
    fn release_slots(&self, indices: &[usize]) {
        if !indices.is_empty() {
            lock(&self.free).extend_from_slice(indices);
        }
    }

    /// Reserves `n` sequence numbers of `stream`; returns the one before the first.
    fn reserve_seq(&self, stream: u32, n: u64) -> u64 {
        let mut seqs = lock(&self.next_seq);
        let next = seqs.entry(stream).or_insert(0);
        let before = *next;
        *next += n;
        before
    }

    /// Fills a slot's NBL with `frames` (one per NET_BUFFER) for `adapter`, numbering them
    /// from `next + 1` on (see [`Protocol::reserve_seq`]).
    fn fill(&self, p: *mut Slot, a: &Adapter, src: [u8; 6], stream: u32, frames: &[Frame], next: &mut u64) {
        let fast = self.fast.load(Ordering::Relaxed);
        // SAFETY: the slot is owned by the protocol (taken from the free list) until submitted.
        unsafe {
            let s = &mut *p;
            s.nbl = std::mem::zeroed();
            s.nbs = std::mem::zeroed();
            s.adapter = a.index;
            s.stream = stream;
            s.nb_count = frames.len().min(MAX_NBS);
            s.nbl.ProtocolReserved[0] = p.cast();
            s.nbl.ProtocolReserved[1] = (MAGIC ^ p as u64) as *mut core::ffi::c_void;
            s.nbl.SourceHandle = std::ptr::null_mut();
            let no_nb = frames.first().is_some_and(|f| f.layout == Layout::NoNetBuffer);
            for (i, f) in frames.iter().take(MAX_NBS).enumerate() {
                *next += 1;
                s.seq[i] = *next;
                s.frames[i] = *f;
                let offset = if let Layout::Offset(o) = f.layout { o.min(BUFFER / 2) } else { 0 };
                let len = f.len.min(BUFFER - offset);
                let data = std::slice::from_raw_parts_mut(s.data[i], BUFFER);
                if fast && len >= 14 + TAG {
                    // Header and tag only; the payload keeps whatever bytes the buffer holds.
                    let head = &mut data[offset..offset + 14 + TAG];
                    build_frame(head, f.dst, src, stream, s.seq[i]);
                    head[26..30].copy_from_slice(&u32::try_from(len).unwrap_or(0).to_le_bytes());
                } else {
                    build_frame(&mut data[offset..offset + len], f.dst, src, stream, s.seq[i]);
                }
                // MDLs over the data.
                let pieces = match f.layout {
                    Layout::Split(n) => n.clamp(1, MAX_MDLS),
                    _ => 1,
                };
                let total = offset + len;
                let chunk = total.div_ceil(pieces).max(1);
                let mut start = 0;
                let mut count = 0;
                for m in 0..pieces {
                    if start >= total && m > 0 {
                        break;
                    }
                    let end = (start + chunk).min(total);
                    let mdl = &mut s.mdls[i][m];
                    let va = s.data[i].add(start);
                    *mdl = std::mem::zeroed();
                    mdl.MappedSystemVa = va.cast();
                    mdl.StartVa = ((va as u64) & !0xFFF) as *mut core::ffi::c_void;
                    mdl.ByteOffset = (va as u64 & 0xFFF) as u32;
                    mdl.ByteCount = u32::try_from(end - start).unwrap_or(0);
                    mdl.MdlFlags = sys::MDL_SOURCE_IS_NONPAGED_POOL;
                    mdl.Size = i16::try_from(size_of::<sys::MDL>()).unwrap_or(0);
                    if m > 0 {
                        s.mdls[i][m - 1].Next = mdl;
                    }
                    start = end;
                    count += 1;
                }
                if f.layout == Layout::Truncated {
                    // The MDL chain claims fewer bytes than the NET_BUFFER's DataLength.
                    s.mdls[i][count - 1].ByteCount = s.mdls[i][count - 1].ByteCount.saturating_sub(7).max(1);
                }
                let nb = &mut s.nbs[i];
                nb.MdlChain = &raw mut s.mdls[i][0];
                nb.CurrentMdl = nb.MdlChain;
                nb.CurrentMdlOffset = u32::try_from(offset).unwrap_or(0);
                nb.DataOffset = u32::try_from(offset).unwrap_or(0);
                nb.DataLength = u32::try_from(len).unwrap_or(0);
                if i > 0 {
                    s.nbs[i - 1].Next = nb;
                }
            }
            s.nbl.FirstNetBuffer = if no_nb { std::ptr::null_mut() } else { &raw mut s.nbs[0] };
        }
    }

    /// Sends `frames` on adapter `a` as one chain of NBLs, `nbs_per_nbl` frames per NBL, at
    /// `irql`, from `stream`. Returns the number of NBLs sent (fewer if the pool ran out).
    #[allow(clippy::too_many_arguments)]
    pub fn send(
        &self,
        host: &Arc<HostInner>,
        a: &Arc<Adapter>,
        stream: u32,
        frames: &[Frame],
        nbs_per_nbl: usize,
        irql: u8,
        cancel_id: u64,
    ) -> Result<usize, Abandoned> {
        let per = nbs_per_nbl.clamp(1, MAX_NBS);
        let mut head: *mut sys::NET_BUFFER_LIST = std::ptr::null_mut();
        let mut tail: *mut Slot = std::ptr::null_mut();
        let mut n = 0usize;
        // State and epoch are read together under the adapter lock (every PnP change bumps the
        // epoch under that lock), so "the epoch did not move until completion" means "the state
        // did not change while the miniport had the send". The source address comes with them.
        let (src, running, after_pause, epoch) = {
            let st = a.lock();
            (
                st.general.as_ref().map_or([0; 6], |g| g.current),
                st.pnp == Pnp::Running,
                st.pnp == Pnp::Paused || (st.pnp == Pnp::Pausing && st.pause_returned),
                self.epoch.load(Ordering::Acquire),
            )
        };
        // Slots and sequence numbers are taken a group at a time (one pass over each lock).
        let mut rest = frames;
        while !rest.is_empty() {
            let mut group = [std::ptr::null_mut::<Slot>(); 64];
            let want = rest.len().div_ceil(per).min(group.len());
            let got = self.take_slots(host, &mut group[..want]);
            let (now, later) = rest.split_at((got * per).min(rest.len()));
            let mut seq = self.reserve_seq(stream, now.len() as u64);
            for (&p, chunk) in group[..got].iter().zip(now.chunks(per)) {
                self.fill(p, a, src, stream, chunk, &mut seq);
                // SAFETY: the slot is ours until submitted.
                unsafe {
                    (*p).epoch = epoch;
                    (*p).running = running;
                    (*p).after_pause = after_pause;
                    (*p).state = IN_MINIPORT;
                    (*p).nbl.NetBufferListInfo[sys::NetBufferListCancelId as usize] =
                        cancel_id as *mut core::ffi::c_void;
                    let nbl = &raw mut (*p).nbl;
                    if tail.is_null() {
                        head = nbl;
                    } else {
                        (*tail).nbl.Next = nbl;
                    }
                }
                tail = p;
                n += 1;
            }
            rest = later;
            if got < want {
                break;
            }
        }
        if n == 0 {
            return Ok(0);
        }
        let count = i64::try_from(n).unwrap_or(i64::MAX);
        // The call counter goes up before, and down after, the outstanding count moves: a pause
        // that sees no call in progress sees every NBL the miniport could know about.
        a.counters.send_calls.fetch_add(1, Ordering::SeqCst);
        a.counters.sends_outstanding.fetch_add(count, Ordering::SeqCst);
        self.stats.sent.fetch_add(n as u64, Ordering::Relaxed);
        let flags = if irql == DISPATCH { sys::NDIS_SEND_FLAGS_DISPATCH_LEVEL } else { 0 };
        let result = miniport::send(host, a, head as u64, flags, irql);
        a.counters.send_calls.fetch_sub(1, Ordering::SeqCst);
        result?;
        Ok(n)
    }

    /// Called from NdisMSendNetBufferListsComplete.
    // One walk of the completed chain with every per-NBL check in order; see the Send.* rules.
    #[allow(clippy::too_many_lines)]
    pub fn on_send_complete(&self, host: &Arc<HostInner>, a: &Arc<Adapter>, head: u64) {
        let checks = host.verifier.per_call();
        let fast = self.fast.load(Ordering::Relaxed);
        let mut cursor = head;
        let mut guard = 0usize;
        let epoch_now = self.epoch.load(Ordering::Acquire);
        // Counted locally and published once per chain; slots go back a group at a time.
        let (mut ok, mut paused, mut other, mut done) = (0u64, 0u64, 0u64, 0u64);
        let mut released = [0usize; 64];
        let mut n_released = 0;
        while cursor != 0 {
            guard += 1;
            if guard > 1_000_000 {
                host.finding(Rule::SendDoubleComplete, Some(a.index), "completed chain does not end (cycle in Next)");
                break;
            }
            // Identify the slot: ProtocolReserved[0..2] are ours (offsets in the NBL).
            let reserved = cursor + std::mem::offset_of!(sys::NET_BUFFER_LIST, ProtocolReserved) as u64;
            let (Some(slot), Some(check)) = (peek::<u64>(fast, reserved), peek::<u64>(fast, reserved + 8)) else {
                host.finding(
                    Rule::SendDoubleComplete,
                    Some(a.index),
                    format!("completed NBL {cursor:#x} is not readable"),
                );
                break;
            };
            // `fill` stores the slot's address, which is the NBL's own (the NBL is at offset 0 of
            // the `repr(C)` Slot), and its check value.
            if slot != cursor || check != MAGIC ^ slot || slot == 0 {
                host.finding(
                    Rule::SendDoubleComplete,
                    Some(a.index),
                    format!("completed NBL {cursor:#x} was not sent by NDIS"),
                );
                break;
            }
            let p = slot as *mut Slot;
            // SAFETY: the completed NBL at `cursor` carries its own address and the matching
            // check value in ProtocolReserved, as `fill` writes them into our slots, so `p` is
            // the slot whose NBL this is. What remains assumed: that the miniport did not forge
            // that pair in memory of its own (ProtocolReserved belongs to the protocol; no
            // miniport writes it), and, in fast mode, that `cursor` is readable at all. Slots are
            // never freed while the protocol lives, and the NBL is ours again now that it is
            // completed.
            let (next, status, state, sent_on, first_nb, after_pause, running, epoch) = unsafe {
                (
                    (*p).nbl.Next as u64,
                    (*p).nbl.Status,
                    (*p).state,
                    (*p).adapter,
                    (*p).nbl.FirstNetBuffer as u64,
                    (*p).after_pause,
                    (*p).running,
                    (*p).epoch,
                )
            };
            // No PnP change anywhere while the miniport had this NBL.
            let unchanged = epoch == epoch_now;
            if state != IN_MINIPORT {
                host.finding(Rule::SendDoubleComplete, Some(a.index), format!("send NBL {cursor:#x} completed twice"));
                cursor = next;
                continue;
            }
            if sent_on != a.index {
                host.finding(
                    Rule::SendDoubleComplete,
                    Some(a.index),
                    format!("send NBL {cursor:#x} of adapter {sent_on} completed by adapter {}", a.index),
                );
            }
            if checks {
                if status == sys::NDIS_STATUS_PENDING {
                    host.finding(
                        Rule::SendStatus,
                        Some(a.index),
                        format!("send NBL {cursor:#x} completed with NDIS_STATUS_PENDING"),
                    );
                }
                // SAFETY: as above.
                let expected_first = unsafe {
                    if (*p).frames[0].layout == Layout::NoNetBuffer {
                        0
                    } else {
                        std::ptr::addr_of!((*p).nbs[0]) as u64
                    }
                };
                if first_nb != expected_first {
                    host.finding(
                        Rule::SendStatus,
                        Some(a.index),
                        format!("send NBL {cursor:#x} came back with a different NET_BUFFER chain"),
                    );
                }
                if after_pause && unchanged && status != sys::NDIS_STATUS_PAUSED {
                    host.finding(
                        Rule::SendWhilePaused,
                        Some(a.index),
                        format!("send NBL sent while pausing/paused completed with {}", super::names::status(status)),
                    );
                }
            }
            match status {
                sys::NDIS_STATUS_SUCCESS => ok += 1,
                sys::NDIS_STATUS_PAUSED => paused += 1,
                _ => other += 1,
            }
            if status == sys::NDIS_STATUS_SUCCESS && self.expect_delivery.load(Ordering::Relaxed) {
                self.check_delivery(host, p, unchanged && running);
            } else {
                self.forget_delivery(p);
            }
            done += 1;
            // SAFETY: as above.
            unsafe {
                (*p).nbl.Next = std::ptr::null_mut();
                // Without the per-call checks no checksum is taken, so reuse cannot be judged
                // (the checks may be turned on before the slot is reused).
                (*p).state = if checks { COMPLETED } else { IDLE };
                (*p).checksum = if checks { checksum(p) } else { 0 };
                released[n_released] = (*p).index;
            }
            n_released += 1;
            if n_released == released.len() {
                self.release_slots(&released);
                n_released = 0;
            }
            cursor = next;
        }
        self.release_slots(&released[..n_released]);
        self.stats.completed_ok.fetch_add(ok, Ordering::Relaxed);
        a.counters.completed_ok.fetch_add(ok, Ordering::Relaxed);
        self.stats.completed_paused.fetch_add(paused, Ordering::Relaxed);
        self.stats.completed_other.fetch_add(other, Ordering::Relaxed);
        a.counters.sends_outstanding.fetch_sub(i64::try_from(done).unwrap_or(i64::MAX), Ordering::AcqRel);
        a.counters.completions.fetch_add(done, Ordering::Relaxed);
    }

    /// The adapters a frame should reach: every other Running adapter whose current address is
    /// `dst`, or every other Running adapter for a broadcast. The adapters' packet filters are
    /// not read: the oracle assumes the filter the scenarios set (directed and broadcast
    /// accepted); multicast frames are expected nowhere.
    fn receivers(host: &HostInner, sender: usize, dst: [u8; 6]) -> Vec<usize> {
        host.ndis
            .adapters()
            .iter()
            .filter(|b| b.index != sender)
            .filter(|b| {
                let st = b.lock();
                st.pnp == Pnp::Running && st.general.as_ref().is_some_and(|g| dst == [0xFF; 6] || g.current == dst)
            })
            .map(|b| b.index)
            .collect()
    }

    fn check_delivery(&self, host: &HostInner, p: *mut Slot, unchanged: bool) {
        // SAFETY: a slot we own again.
        let (stream, sender, n, epoch) = unsafe { ((*p).stream, (*p).adapter, (*p).nb_count, (*p).epoch) };
        for i in 0..n {
            // SAFETY: as above.
            let (seq, frame) = unsafe { ((*p).seq[i], (*p).frames[i]) };
            let receivers = Self::receivers(host, sender, frame.dst);
            // The receivers were read after the completion began: a PnP change in between would
            // make them disagree with what the miniport saw. Every change bumps the epoch in the
            // same critical section, so re-reading it now tells.
            let unchanged = unchanged && self.epoch.load(Ordering::Acquire) == epoch;
            let mut links = lock(&self.links);
            for d in receivers {
                let link = links.entry((stream, d)).or_default();
                let got = link.received.remove(&seq);
                if unchanged && frame.len >= 14 + TAG {
                    self.stats.delivered_checked.fetch_add(1, Ordering::Relaxed);
                    if !got {
                        self.stats.lost.fetch_add(1, Ordering::Relaxed);
                        let last = link.last;
                        // SAFETY: a slot we own again.
                        let epoch = unsafe { (*p).epoch };
                        self.error(format!(
                            "frame {seq} of stream {stream} (adapter {sender}) never reached adapter {d} (last received there: {last:?}; epoch {epoch})"
                        ));
                    }
                }
            }
        }
    }

    fn forget_delivery(&self, p: *mut Slot) {
        if !self.expect_delivery.load(Ordering::Relaxed) {
            return;
        }
        // SAFETY: a slot we own again.
        let (stream, n) = unsafe { ((*p).stream, (*p).nb_count) };
        let mut links = lock(&self.links);
        for i in 0..n {
            // SAFETY: as above.
            let seq = unsafe { (*p).seq[i] };
            for ((s, _), link) in links.iter_mut() {
                if *s == stream {
                    link.received.remove(&seq);
                }
            }
        }
    }

    /// Called from NdisMIndicateReceiveNetBufferLists.
    pub fn on_receive(&self, host: &Arc<HostInner>, a: &Arc<Adapter>, head: u64, count: u32, flags: u32, irql: u8) {
        let checks = host.verifier.per_call();
        let fast = self.fast.load(Ordering::Relaxed);
        let resources = flags & sys::NDIS_RECEIVE_FLAGS_RESOURCES != 0;
        // The count comes from the miniport: the walk (and the capacity) stops one NBL past it,
        // and past MAX_RECEIVE_CHAIN whatever it says, so a bad count cannot exhaust memory.
        let walk = (count as usize).min(MAX_RECEIVE_CHAIN) + 1;
        let mut nbls = Vec::with_capacity(walk);
        let mut cursor = head;
        while cursor != 0 && nbls.len() < walk {
            nbls.push(cursor);
            let Some(next) = peek::<u64>(fast, cursor + std::mem::offset_of!(sys::NET_BUFFER_LIST, Next) as u64) else {
                host.finding(
                    Rule::ReceiveWellFormed,
                    Some(a.index),
                    format!("indicated NBL {cursor:#x} is not readable"),
                );
                return;
            };
            cursor = next;
        }
        if checks && nbls.len() != count as usize {
            host.finding(
                Rule::ReceiveWellFormed,
                Some(a.index),
                format!(
                    "NumberOfNetBufferLists is {count} but the chain has {}{}",
                    nbls.len(),
                    if cursor != 0 { "+" } else { "" }
                ),
            );
        }
        a.counters.received.fetch_add(nbls.len() as u64, Ordering::Relaxed);
        if resources {
            a.counters.received_resources.fetch_add(nbls.len() as u64, Ordering::Relaxed);
        }
        if checks {
            let mut owned = lock(&self.owned);
            let set = owned.entry(a.index).or_default();
            for &nbl in &nbls {
                if set.contains(&nbl) {
                    host.finding(
                        Rule::ReceiveReuse,
                        Some(a.index),
                        format!("NBL {nbl:#x} indicated again before it was returned"),
                    );
                }
                if !resources {
                    set.insert(nbl);
                }
            }
        }
        for &nbl in &nbls {
            self.inspect(host, a, nbl, checks, fast);
        }
        if resources {
            // NDIS copied what it needed; the NBLs are the miniport's again when we return.
            return;
        }
        let n = i64::try_from(nbls.len()).unwrap_or(i64::MAX);
        a.counters.rx_outstanding.fetch_add(n, Ordering::AcqRel);
        match self.policy(a.index) {
            ReturnPolicy::Inline => {
                let _ = self.return_to_miniport(host, a, &nbls, irql);
            }
            ReturnPolicy::Queue => self.hold(a.index, nbls, Instant::now()),
            ReturnPolicy::Hold(d) => self.hold(a.index, nbls, Instant::now() + d),
        }
    }

    fn hold(&self, adapter: usize, nbls: Vec<u64>, due: Instant) {
        let n = nbls.len() as u64;
        // Counted under the list's lock, as `take_due`/`take_held` uncount under it: counting
        // after the push would let a taker subtract first and wrap the count.
        {
            let mut held = lock(&self.held);
            held.push_back(Held { adapter, nbls, due });
            self.held_count.fetch_add(n, Ordering::AcqRel);
        }
        self.held_cv.notify_all();
    }

    /// Checks one received NBL: SourceHandle, MDL coverage, and a test frame's bytes.
    fn inspect(&self, host: &HostInner, a: &Adapter, nbl: u64, checks: bool, fast: bool) {
        let Some(l) = peek::<sys::NET_BUFFER_LIST>(fast, nbl) else {
            return;
        };
        if checks && l.SourceHandle as u64 != a.handle {
            host.finding(
                Rule::ReceiveWellFormed,
                Some(a.index),
                format!("NBL {nbl:#x} SourceHandle {:#x} is not the adapter handle", l.SourceHandle as u64),
            );
        }
        let mut nb = l.FirstNetBuffer as u64;
        let mut nbs = 0;
        if nb == 0 && checks {
            host.finding(Rule::ReceiveWellFormed, Some(a.index), format!("NBL {nbl:#x} has no NET_BUFFER"));
        }
        while nb != 0 && nbs < 64 {
            nbs += 1;
            let Some(b) = peek::<sys::NET_BUFFER>(fast, nb) else { return };
            if b.DataLength as usize > MAX_RECEIVE_LENGTH {
                // The length comes from the miniport; the host does not allocate it.
                if checks {
                    host.finding(
                        Rule::ReceiveWellFormed,
                        Some(a.index),
                        format!("NBL {nbl:#x}: DataLength {} exceeds {MAX_RECEIVE_LENGTH}", b.DataLength),
                    );
                }
                nb = b.Next as u64;
                continue;
            }
            if fast {
                // Header and tag only, counted without comparing the payload.
                let mut head = [0u8; 14 + TAG];
                let prefix = (b.DataLength as usize).min(head.len());
                match read_nb(&b, &mut head[..prefix], fast) {
                    Ok(()) => self.count_frame(&head[..prefix], b.DataLength as usize),
                    Err(e) => {
                        if checks {
                            host.finding(Rule::ReceiveWellFormed, Some(a.index), format!("NBL {nbl:#x}: {e}"));
                        }
                    }
                }
                nb = b.Next as u64;
                continue;
            }
            let mut frame = vec![0u8; b.DataLength as usize];
            match read_nb(&b, &mut frame, fast) {
                Ok(()) => self.check_frame(a, &frame),
                Err(e) => {
                    if checks {
                        host.finding(Rule::ReceiveWellFormed, Some(a.index), format!("NBL {nbl:#x}: {e}"));
                    }
                }
            }
            nb = b.Next as u64;
        }
    }

    /// Fast mode: counts a test frame from its header and tag (`len` bytes long); a length
    /// that disagrees with the tag counts as corrupt.
    fn count_frame(&self, head: &[u8], len: usize) {
        if head.len() < 14 + TAG || u16::from_be_bytes([head[12], head[13]]) != ETHERTYPE {
            return;
        }
        let sent = u32::from_le_bytes([head[26], head[27], head[28], head[29]]) as usize;
        self.stats.received.fetch_add(1, Ordering::Relaxed);
        self.stats.received_bytes.fetch_add(len as u64, Ordering::Relaxed);
        if len != sent.max(60) {
            self.stats.corrupt.fetch_add(1, Ordering::Relaxed);
            self.error(format!("received a frame of {len} bytes whose tag says {sent}"));
        }
    }

    fn check_frame(&self, a: &Adapter, frame: &[u8]) {
        if frame.len() < 14 + TAG || u16::from_be_bytes([frame[12], frame[13]]) != ETHERTYPE {
            return;
        }
        let stream = u32::from_le_bytes([frame[14], frame[15], frame[16], frame[17]]);
        let seq = u64::from_le_bytes(frame[18..26].try_into().unwrap_or([0; 8]));
        let len = u32::from_le_bytes([frame[26], frame[27], frame[28], frame[29]]) as usize;
        self.stats.received.fetch_add(1, Ordering::Relaxed);
        self.stats.received_bytes.fetch_add(frame.len() as u64, Ordering::Relaxed);
        let wire = len.max(60);
        let mut ok = frame.len() == wire;
        if ok {
            for (i, b) in frame.iter().enumerate().skip(30) {
                let expect = if i < len { pattern(stream, seq, i) } else { 0 };
                if *b != expect {
                    ok = false;
                    break;
                }
            }
        }
        if !ok {
            self.stats.corrupt.fetch_add(1, Ordering::Relaxed);
            self.error(format!(
                "adapter {} received a corrupt copy of frame {seq} of stream {stream} ({} bytes, sent {len})",
                a.index,
                frame.len()
            ));
        }
        let mut links = lock(&self.links);
        let link = links.entry((stream, a.index)).or_default();
        if link.last.is_some_and(|l| seq <= l) {
            self.stats.out_of_order.fetch_add(1, Ordering::Relaxed);
            self.error(format!(
                "adapter {} received frame {seq} of stream {stream} after frame {:?}",
                a.index, link.last
            ));
        }
        link.last = Some(seq);
        if self.expect_delivery.load(Ordering::Relaxed) {
            link.received.insert(seq);
        }
    }

    /// Returns NBLs to the miniport (MiniportReturnNetBufferLists), relinking them through
    /// `Next` (NDIS owns them until this call).
    pub fn return_to_miniport(
        &self,
        host: &Arc<HostInner>,
        a: &Arc<Adapter>,
        nbls: &[u64],
        irql: u8,
    ) -> Result<(), Abandoned> {
        if nbls.is_empty() {
            return Ok(());
        }
        let next_off = std::mem::offset_of!(sys::NET_BUFFER_LIST, Next) as u64;
        let fast = self.fast.load(Ordering::Relaxed);
        for w in nbls.windows(2) {
            // The protocol owns these NBLs until this call; a failed write is a host bug, and the
            // miniport would then see a broken chain, which the verifier reports.
            let _ = poke_u64(fast, w[0] + next_off, w[1]);
        }
        if let Some(last) = nbls.last() {
            let _ = poke_u64(fast, last + next_off, 0);
        }
        // Whatever the checks are now: NBLs recorded while they were on must leave the set even
        // if they were turned off since, or a later indication of them would look like reuse.
        if let Some(set) = lock(&self.owned).get_mut(&a.index) {
            for nbl in nbls {
                set.remove(nbl);
            }
        }
        let n = i64::try_from(nbls.len()).unwrap_or(i64::MAX);
        a.counters.rx_outstanding.fetch_sub(n, Ordering::AcqRel);
        a.counters.returned.fetch_add(nbls.len() as u64, Ordering::Relaxed);
        let flags = if irql == DISPATCH { sys::NDIS_RETURN_FLAGS_DISPATCH_LEVEL } else { 0 };
        miniport::return_nbls(host, a, nbls[0], flags, irql)
    }

    /// Held receives due by `now`: (adapter, NBLs) — taken off the queue.
    pub fn take_due(&self, now: Instant, all: bool) -> Vec<(usize, Vec<u64>)> {
        let mut held = lock(&self.held);
        let mut out = Vec::new();
        let mut keep = VecDeque::new();
        while let Some(h) = held.pop_front() {
            if all || h.due <= now {
                self.held_count.fetch_sub(h.nbls.len() as u64, Ordering::AcqRel);
                out.push((h.adapter, h.nbls));
            } else {
                keep.push_back(h);
            }
        }
        *held = keep;
        out
    }

    /// Takes the held receive at position `i` (the deterministic scheduler's pick).
    pub fn take_held(&self, i: usize) -> Option<(usize, Vec<u64>)> {
        let mut held = lock(&self.held);
        let h = held.remove(i)?;
        self.held_count.fetch_sub(h.nbls.len() as u64, Ordering::AcqRel);
        Some((h.adapter, h.nbls))
    }

    /// Receive NBLs held (indicated and not yet returned by the protocol).
    #[must_use]
    pub fn held_nbls(&self) -> u64 {
        self.held_count.load(Ordering::Acquire)
    }

    /// Number of held receive groups, and how many of them are due by `now`.
    #[must_use]
    pub fn held(&self, now: Instant) -> (usize, usize) {
        let held = lock(&self.held);
        (held.len(), held.iter().filter(|h| h.due <= now).count())
    }

    /// Threaded mode: waits up to `timeout` for held receives to come due.
    pub fn wait_held(&self, timeout: Duration) {
        let held = lock(&self.held);
        let wait =
            held.iter().map(|h| h.due.saturating_duration_since(Instant::now())).min().unwrap_or(timeout).min(timeout);
        if !wait.is_zero() {
            let _ = self.held_cv.wait_timeout(held, wait);
        }
    }

    /// Wakes a waiter in [`Protocol::wait_held`].
    pub fn notify(&self) {
        self.held_cv.notify_all();
    }
}

/// Reads a NET_BUFFER's data through its MDL chain (host-side check of what the miniport
/// indicated), failing if the chain does not cover `DataLength`.
fn read_nb(nb: &sys::NET_BUFFER, out: &mut [u8], fast: bool) -> Result<(), String> {
    let mut mdl = nb.CurrentMdl as u64;
    let mut offset = nb.CurrentMdlOffset as usize;
    let mut done = 0;
    let mut steps = 0;
    while done < out.len() {
        steps += 1;
        if mdl == 0 || steps > 256 {
            return Err(format!("MDL chain covers {done} of {} bytes", out.len()));
        }
        let Some(m) = peek::<sys::MDL>(fast, mdl) else {
            return Err(format!("MDL {mdl:#x} is not readable"));
        };
        let count = m.ByteCount as usize;
        if offset > count {
            return Err(format!("offset {offset} beyond MDL of {count} bytes"));
        }
        let va = if m.MappedSystemVa.is_null() {
            m.StartVa as u64 + u64::from(m.ByteOffset)
        } else {
            m.MappedSystemVa as u64
        };
        let take = (count - offset).min(out.len() - done);
        if fast && va != 0 {
            // SAFETY: fast mode trusts the miniport's MDLs (see `peek`): `va` maps `count`
            // bytes, of which we read `take` from `offset` on, into our own buffer.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    (crate::abi::usize_of(va) + offset) as *const u8,
                    out[done..].as_mut_ptr(),
                    take,
                );
            }
        } else if !mem::read(va + offset as u64, &mut out[done..done + take]) {
            return Err(format!("MDL data at {va:#x} is not readable"));
        }
        done += take;
        offset = 0;
        mdl = m.Next as u64;
    }
    Ok(())
}

/// Returns every held receive now (PASSIVE_LEVEL), e.g. before a halt.
pub fn return_all(host: &Arc<HostInner>) -> Result<(), Abandoned> {
    for (index, nbls) in host.ndis.protocol.take_due(Instant::now(), true) {
        if let Some(a) = host.ndis.adapter(index) {
            host.ndis.protocol.return_to_miniport(host, &a, &nbls, PASSIVE)?;
        }
    }
    Ok(())
}
