//! `NET_BUFFER_LIST`, `NET_BUFFER` and `MDL` helpers for the host side.
//!
//! The protocol side of the NDIS model builds the NBLs it sends to the miniport itself: they
//! belong to "the overlying driver", not to the miniport, so they are not driver resources and
//! never appear in the leak table. These functions allocate them over host memory in the exact
//! `ndis-sys` (WDK x64) layout:
//!
//! * [`alloc_net_buffer_list`] / [`free_net_buffer_list`]: a zeroed `NET_BUFFER_LIST` with the
//!   full `NetBufferListInfo` array (27 slots, what a miniport built for NDIS 6.80+ sees).
//! * [`alloc_net_buffer`] / [`free_net_buffer`]: a zeroed `NET_BUFFER`.
//! * [`alloc_mdl`] / [`free_mdl`]: an MDL (header plus page-frame array) describing host
//!   memory, with `MappedSystemVa`, a page-aligned `StartVa`, `ByteOffset` and `ByteCount` set
//!   as `MmBuildMdlForNonPagedPool` would.
//! * [`current_mdl`]: `CurrentMdl`/`CurrentMdlOffset` for a `DataOffset`, walking the chain as
//!   NDIS does (the MDL holding the first data byte), and [`set_net_buffer_data`] to fill a
//!   `NET_BUFFER`'s data fields consistently.
//! * [`mdl_system_address`]: the address a driver would get from
//!   `MmGetSystemAddressForMdlSafe`.
//!
//! MDL reads go through the fault-tolerant [`crate::abi::mem`] readers, so these helpers can
//! also inspect MDLs that came from the driver without risking the host.

use super::dmem;
use ndis_sys::{MDL, MDL_MAPPED_TO_SYSTEM_VA, MDL_SOURCE_IS_NONPAGED_POOL, NET_BUFFER, NET_BUFFER_LIST};
use std::mem::size_of;

/// Longest MDL chain the host walks (longer chains, and cycles, count as broken).
pub const MAX_MDL_CHAIN: usize = 4096;
const PAGE: u64 = 4096;

/// A zeroed `NET_BUFFER_LIST` on the host heap. Free it with [`free_net_buffer_list`].
#[must_use]
pub fn alloc_net_buffer_list() -> *mut NET_BUFFER_LIST {
    Box::into_raw(Box::<NET_BUFFER_LIST>::default())
}

/// Frees an NBL from [`alloc_net_buffer_list`] (not its NET_BUFFERs or MDLs).
///
/// # Safety
/// `nbl` came from [`alloc_net_buffer_list`], is not freed yet, and nothing uses it afterwards.
pub unsafe fn free_net_buffer_list(nbl: *mut NET_BUFFER_LIST) {
    // SAFETY: per the contract, `nbl` is a live Box allocation of this type.
    drop(unsafe { Box::from_raw(nbl) });
}

/// A zeroed `NET_BUFFER` on the host heap. Free it with [`free_net_buffer`].
#[must_use]
pub fn alloc_net_buffer() -> *mut NET_BUFFER {
    Box::into_raw(Box::<NET_BUFFER>::default())
}

/// Frees a NET_BUFFER from [`alloc_net_buffer`].
///
/// # Safety
/// `nb` came from [`alloc_net_buffer`], is not freed yet, and nothing uses it afterwards.
pub unsafe fn free_net_buffer(nb: *mut NET_BUFFER) {
    // SAFETY: per the contract, `nb` is a live Box allocation of this type.
    drop(unsafe { Box::from_raw(nb) });
}

/// Pages spanned by `len` bytes at `va` (`ADDRESS_AND_SIZE_TO_SPAN_PAGES`).
pub(crate) fn span_pages(va: u64, len: u32) -> u64 {
    ((va % PAGE) + u64::from(len)).div_ceil(PAGE)
}

/// Bytes of an MDL describing `len` bytes at `va` (header plus page-frame array), if its
/// `Size` (a CSHORT) can express it.
pub(crate) fn mdl_size(va: u64, len: u32) -> Option<usize> {
    let bytes = size_of::<MDL>() as u64 + 8 * span_pages(va, len);
    i16::try_from(bytes).ok().and_then(|b| usize::try_from(b).ok())
}

/// Fills the MDL at `mdl` (`mdl_size(va, len)` writable bytes) to describe `len` bytes at
/// `va`, with `flags`.
///
/// # Safety
/// `mdl` points to `mdl_size(va, len)` writable bytes, 8-byte aligned.
pub(crate) unsafe fn init_mdl(mdl: *mut MDL, va: u64, len: u32, flags: i16) {
    let size = mdl_size(va, len).unwrap_or(size_of::<MDL>());
    let header = MDL {
        Next: std::ptr::null_mut(),
        Size: i16::try_from(size).unwrap_or(i16::MAX),
        MdlFlags: flags,
        Process: std::ptr::null_mut(),
        MappedSystemVa: crate::abi::usize_of(va) as *mut _,
        StartVa: crate::abi::usize_of(va & !(PAGE - 1)) as *mut _,
        ByteCount: len,
        ByteOffset: u32::try_from(va % PAGE).unwrap_or(0),
    };
    // SAFETY: per the contract the header fits.
    unsafe { mdl.write(header) };
    // Page-frame numbers: stand-ins (the page number of each virtual page); nothing DMAs here.
    let pfns = mdl.wrapping_add(1).cast::<u64>();
    for i in 0..span_pages(va, len) {
        // SAFETY: the page-frame array follows the header inside the `size` bytes.
        unsafe { pfns.add(usize::try_from(i).unwrap_or(0)).write((va / PAGE) + i) };
    }
}

/// Header word before every host MDL: its allocation size in bytes.
const MDL_PREFIX: usize = 16;

/// An MDL over `len` bytes of host memory at `va`, with `flags` (pass
/// `MDL_SOURCE_IS_NONPAGED_POOL` for memory the driver may read through `MappedSystemVa`, or
/// `0` to make the driver map it with `MmMapLockedPagesSpecifyCache`). Free it with
/// [`free_mdl`]. `None` if the buffer is too large for one MDL (about 16 MiB).
#[must_use]
pub fn alloc_mdl(va: *mut u8, len: u32, flags: i16) -> Option<*mut MDL> {
    let size = mdl_size(va as u64, len)?;
    let total = size + MDL_PREFIX;
    let layout = std::alloc::Layout::from_size_align(total, 16).ok()?;
    // SAFETY: non-zero size.
    let raw = unsafe { std::alloc::alloc_zeroed(layout) };
    if raw.is_null() {
        return None;
    }
    // SAFETY: the prefix is the first 16 bytes of the fresh allocation (16-aligned).
    unsafe { raw.cast::<[u8; 8]>().write(total.to_ne_bytes()) };
    #[allow(clippy::cast_ptr_alignment)] // 16-aligned allocation plus 16
    // SAFETY: `raw + 16` has `size` bytes left, 16-aligned.
    let mdl = unsafe { raw.add(MDL_PREFIX) }.cast::<MDL>();
    // SAFETY: as above.
    unsafe { init_mdl(mdl, va as u64, len, flags) };
    Some(mdl)
}

/// Frees an MDL from [`alloc_mdl`] (not the memory it describes).
///
/// # Safety
/// `mdl` came from [`alloc_mdl`], is not freed yet, and nothing uses it afterwards.
pub unsafe fn free_mdl(mdl: *mut MDL) {
    // SAFETY: per the contract the allocation starts 16 bytes before the MDL and its first word
    // is the allocation size written by `alloc_mdl`.
    unsafe {
        let raw = mdl.cast::<u8>().sub(MDL_PREFIX);
        let total = usize::from_ne_bytes(raw.cast::<[u8; 8]>().read());
        std::alloc::dealloc(raw, std::alloc::Layout::from_size_align_unchecked(total, 16));
    }
}

/// The system address of an MDL's buffer as `MmGetSystemAddressForMdlSafe` returns it for an
/// already-mapped MDL (`MappedSystemVa` when `MDL_MAPPED_TO_SYSTEM_VA` or
/// `MDL_SOURCE_IS_NONPAGED_POOL` is set, otherwise `StartVa + ByteOffset`, which is where the
/// host's identity "mapping" puts it). `None` if the MDL is unreadable.
#[must_use]
pub fn mdl_system_address(mdl: *const MDL) -> Option<u64> {
    let m: MDL = dmem::read(mdl as u64)?;
    Some(if m.MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL) != 0 {
        m.MappedSystemVa as u64
    } else {
        (m.StartVa as u64).wrapping_add(u64::from(m.ByteOffset))
    })
}

/// `CurrentMdl` and `CurrentMdlOffset` for `data_offset` bytes into `chain`: the MDL holding
/// the first data byte and the offset in it. A `data_offset` equal to the whole chain's length
/// (no data) yields the last MDL and its `ByteCount`. `None` if the chain is shorter than
/// `data_offset`, unreadable, or longer than [`MAX_MDL_CHAIN`]; `(null, 0)` for an empty chain
/// with offset 0.
#[must_use]
pub fn current_mdl(chain: *mut MDL, data_offset: u32) -> Option<(*mut MDL, u32)> {
    let mut mdl = chain;
    let mut offset = data_offset;
    if mdl.is_null() {
        return (offset == 0).then_some((mdl, 0));
    }
    for _ in 0..MAX_MDL_CHAIN {
        let m: MDL = dmem::read(mdl as u64)?;
        if offset < m.ByteCount || (offset == m.ByteCount && m.Next.is_null()) {
            return Some((mdl, offset));
        }
        if m.Next.is_null() {
            return None;
        }
        offset -= m.ByteCount;
        mdl = m.Next;
    }
    None
}

/// Bytes the chain holds from `(mdl, offset)` on, up to `want` (stops early at the end of the
/// chain or an unreadable MDL).
#[must_use]
pub fn chain_bytes(mdl: *mut MDL, offset: u32, want: u64) -> u64 {
    let mut have = 0u64;
    let mut cur = mdl;
    let mut off = u64::from(offset);
    for _ in 0..MAX_MDL_CHAIN {
        if cur.is_null() || have >= want {
            break;
        }
        let Some(m) = dmem::read::<MDL>(cur as u64) else { break };
        have += u64::from(m.ByteCount).saturating_sub(off);
        off = 0;
        cur = m.Next;
    }
    have.min(want)
}

/// Sets a NET_BUFFER's `MdlChain`, `DataOffset`, `DataLength`, `CurrentMdl` and
/// `CurrentMdlOffset` for data `data_offset` bytes into `chain`. False (and nothing written)
/// if the chain does not hold `data_offset + data_length` bytes.
///
/// # Safety
/// `nb` points to a writable NET_BUFFER the caller owns.
pub unsafe fn set_net_buffer_data(nb: *mut NET_BUFFER, chain: *mut MDL, data_offset: u32, data_length: u32) -> bool {
    let Some((cur, cur_off)) = current_mdl(chain, data_offset) else { return false };
    if chain_bytes(cur, cur_off, u64::from(data_length)) < u64::from(data_length) {
        return false;
    }
    // SAFETY: per the contract.
    let nb = unsafe { &mut *nb };
    nb.MdlChain = chain;
    nb.DataOffset = data_offset;
    nb.DataLength = data_length;
    nb.DataLengthHigh = 0;
    nb.CurrentMdl = cur;
    nb.CurrentMdlOffset = cur_off;
    true
}
