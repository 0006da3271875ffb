//! Memory the driver names: fault-tolerant reads and writes of driver pointers, and host-owned
//! blocks handed to the driver.
//!
//! Import handlers run on the host stack, so a fault there would not be recognised as a driver
//! crash and would take the whole process down. Every access to a pointer the driver passed in
//! therefore goes through [`crate::abi::mem`] (which reports an unmapped or protected range
//! instead of faulting); where Windows would bug-check on such a pointer, the `*_or_crash`
//! helpers abandon the driver call with an access violation, so the scenario ends with a crash
//! report naming the driver's call site.

use crate::abi::{self, mem};
use crate::crash::{Access, CrashKind};
use std::alloc::Layout;
use std::collections::{HashSet, VecDeque};
use std::mem::{MaybeUninit, size_of};
use std::ptr::NonNull;

/// Plain data that may be read from arbitrary bytes.
///
/// # Safety
/// Every bit pattern (including all zeroes) must be a valid value of the type: integers, raw
/// pointers, `Option<fn>` and `repr(C)` aggregates of those.
pub(crate) unsafe trait Pod: Copy {}

macro_rules! pod {
    ($($t:ty),+ $(,)?) => { $(
        // SAFETY: integers, raw pointers, Option<extern fn> and repr(C) aggregates of those only.
        unsafe impl Pod for $t {}
    )+ };
}

pod!(
    u8,
    u16,
    u32,
    u64,
    i64,
    ndis_sys::NDIS_OBJECT_HEADER,
    ndis_sys::NDIS_CONFIGURATION_OBJECT,
    ndis_sys::NET_BUFFER_LIST_POOL_PARAMETERS,
    ndis_sys::NET_BUFFER_POOL_PARAMETERS,
    ndis_sys::NDIS_TIMER_CHARACTERISTICS,
    ndis_sys::MDL,
    ndis_sys::NET_BUFFER,
    ndis_sys::UNICODE_STRING,
    ndis_sys::NDIS_CONFIGURATION_PARAMETER,
);

/// Reads a `T` at `addr`; `None` if any byte is unreadable.
pub(crate) fn read<T: Pod>(addr: u64) -> Option<T> {
    read_prefix(addr, size_of::<T>())
}

/// Reads the first `len` bytes of a `T` at `addr` (the rest zero): for versioned structures
/// whose header says how much of them the caller provided.
pub(crate) fn read_prefix<T: Pod>(addr: u64, len: usize) -> Option<T> {
    let mut value = MaybeUninit::<T>::zeroed();
    let n = len.min(size_of::<T>());
    // SAFETY: `value` is `size_of::<T>()` initialised (zeroed) bytes we own exclusively.
    let bytes = unsafe { std::slice::from_raw_parts_mut(value.as_mut_ptr().cast::<u8>(), size_of::<T>()) };
    if !mem::read(addr, &mut bytes[..n]) {
        return None;
    }
    // SAFETY: every byte is initialised (zeroed, then partly overwritten) and any bit pattern
    // is a valid `T` (the `Pod` contract).
    Some(unsafe { value.assume_init() })
}

/// Reads a `T` at `addr`, or abandons the driver call with an access violation (what Windows
/// does when a kernel routine dereferences a bad pointer).
pub(crate) fn read_or_crash<T: Pod>(addr: u64) -> T {
    match read(addr) {
        Some(v) => v,
        None => abi::abandon(CrashKind::AccessViolation { address: addr, access: Access::Read }),
    }
}

/// Writes `bytes` at `addr`, or abandons the driver call with an access violation.
pub(crate) fn write_or_crash(addr: u64, bytes: &[u8]) {
    if !mem::write(addr, bytes) {
        abi::abandon(CrashKind::AccessViolation { address: addr, access: Access::Write });
    }
}

/// Writes a little-endian `u64` at `addr`, or abandons.
pub(crate) fn write_u64_or_crash(addr: u64, v: u64) {
    write_or_crash(addr, &v.to_le_bytes());
}

/// Writes a little-endian `u32` at `addr`, or abandons.
pub(crate) fn write_u32_or_crash(addr: u64, v: u32) {
    write_or_crash(addr, &v.to_le_bytes());
}

/// Reads the `UNICODE_STRING` at `addr` and its buffer (UTF-16 code units). `None` if the
/// structure or its buffer is unreadable or the length is odd.
pub(crate) fn read_unicode(addr: u64) -> Option<Vec<u16>> {
    let s: ndis_sys::UNICODE_STRING = read(addr)?;
    if !s.Length.is_multiple_of(2) {
        return None;
    }
    if s.Length == 0 {
        return Some(Vec::new());
    }
    mem::read_u16s(s.Buffer as u64, usize::from(s.Length / 2))
}

/// A zeroed host allocation handed to the driver (pool blocks, NBLs, MDLs, configuration
/// parameters). Freed when dropped.
#[derive(Debug)]
pub(crate) struct HostBlock {
    ptr: NonNull<u8>,
    layout: Layout,
}

// SAFETY: the block is plain memory owned by this value; the host synchronises every access to
// the value itself (it lives in mutex-protected tables), and the driver's own accesses to the
// memory are the driver's business, as with real pool memory.
unsafe impl Send for HostBlock {}
// SAFETY: as above; `&HostBlock` only exposes the address and length.
unsafe impl Sync for HostBlock {}

impl HostBlock {
    /// A zeroed block of `size` bytes (at least 1) aligned to `align` (a power of two); `None`
    /// if the layout is impossible or memory is exhausted.
    pub(crate) fn zeroed(size: usize, align: usize) -> Option<Self> {
        let layout = Layout::from_size_align(size.max(1), align).ok()?;
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        NonNull::new(ptr).map(|ptr| Self { ptr, layout })
    }

    /// Address of the first byte.
    pub(crate) fn addr(&self) -> u64 {
        self.ptr.as_ptr() as u64
    }

    /// The block as a raw pointer.
    pub(crate) fn ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }

    /// A `T` pointer `offset` bytes into the block. The caller keeps `offset` aligned for `T`
    /// (blocks are at least 16-byte aligned).
    #[allow(clippy::cast_ptr_alignment)] // alignment is the caller's stated contract (debug-checked)
    pub(crate) fn at<T>(&self, offset: usize) -> *mut T {
        let p = self.ptr.as_ptr().wrapping_add(offset);
        debug_assert!((p as usize).is_multiple_of(std::mem::align_of::<T>()));
        p.cast::<T>()
    }

    /// Size of the allocation in bytes.
    pub(crate) fn len(&self) -> usize {
        self.layout.size()
    }

    /// Fills the whole block with `byte`.
    pub(crate) fn fill(&self, byte: u8) {
        // SAFETY: the block is `len()` bytes of memory we own.
        unsafe { std::ptr::write_bytes(self.ptr.as_ptr(), byte, self.layout.size()) };
    }
}

impl Drop for HostBlock {
    fn drop(&mut self) {
        // SAFETY: allocated in `zeroed` with exactly this layout and freed only here.
        unsafe { std::alloc::dealloc(self.ptr.as_ptr(), self.layout) };
    }
}

/// The byte freed memory is filled with: pointers read from it are non-canonical
/// (`0xDDDD_DDDD_DDDD_DDDD`), so a use after free faults at once.
pub(crate) const FREED_FILL: u8 = 0xDD;

/// Recently freed blocks, poisoned and kept mapped for a while so that a use after free reads
/// [`FREED_FILL`] instead of a new allocation, and a second free of the same address is
/// recognised as a double free.
#[derive(Debug)]
pub(crate) struct Quarantine {
    ring: VecDeque<HostBlock>,
    addrs: HashSet<u64>,
    bytes: usize,
    max_items: usize,
    max_bytes: usize,
}

impl Quarantine {
    pub(crate) fn new(max_items: usize, max_bytes: usize) -> Self {
        Self { ring: VecDeque::new(), addrs: HashSet::new(), bytes: 0, max_items, max_bytes }
    }

    /// Poisons `block` and keeps it; returns blocks that fell out (the caller drops them after
    /// releasing its locks, or simply lets them drop).
    pub(crate) fn push(&mut self, block: HostBlock) {
        block.fill(FREED_FILL);
        self.bytes += block.len();
        self.addrs.insert(block.addr());
        self.ring.push_back(block);
        while self.ring.len() > self.max_items || (self.bytes > self.max_bytes && self.ring.len() > 1) {
            if let Some(old) = self.ring.pop_front() {
                self.bytes -= old.len();
                self.addrs.remove(&old.addr());
            }
        }
    }

    /// True if a block starting at `addr` was freed recently.
    pub(crate) fn contains(&self, addr: u64) -> bool {
        self.addrs.contains(&addr)
    }

    /// True if `addr` lies inside a quarantined block.
    pub(crate) fn covers(&self, addr: u64) -> bool {
        self.ring.iter().any(|b| addr >= b.addr() && addr - b.addr() < b.len() as u64)
    }
}

/// A pool tag as text (`'RvMi'`), non-printable bytes as `.`.
pub(crate) fn tag_text(tag: u32) -> String {
    let s: String =
        tag.to_le_bytes().iter().map(|&b| if (0x20..0x7F).contains(&b) { b as char } else { '.' }).collect();
    format!("'{s}'")
}
