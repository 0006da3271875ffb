//! Memory: the global allocator over `ExAllocatePool2`, and [`PoolBox`], the fallible owner
//! rvmini uses for every allocation it makes itself.
//!
//! Pool memory is non-paged (`POOL_FLAG_NON_PAGED`), because the datapath touches it at
//! DISPATCH_LEVEL, and tagged [`POOL_TAG`](super::POOL_TAG). `ExAllocatePool2` aligns blocks
//! smaller than a page to 16 bytes and page-sized blocks to a page; a request for a stricter
//! alignment is over-allocated and the original address kept just below the aligned block.
//! `ExAllocatePool2` returns zeroed memory.
//!
//! Allocation failure is an ordinary outcome in a kernel (Driver Verifier's low-resources
//! simulation makes it one): [`PoolBox::try_new_zeroed`] returns `None`, and `alloc`'s
//! infallible collections are never used.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;

#[cfg(not(feature = "wdk"))]
mod global {
    use super::{GlobalAlloc, Layout};
    use crate::rt::POOL_TAG;
    use ndis_sys::{ExAllocatePool2, ExFreePoolWithTag, POOL_FLAG_NON_PAGED};

    /// The alignment `ExAllocatePool2` guarantees for any block on x64.
    const POOL_ALIGN: usize = 16;
    const HEADER: usize = core::mem::size_of::<usize>();

    /// `ExAllocatePool2`-backed allocator.
    pub struct PoolAllocator;

    // SAFETY: `alloc` returns blocks of at least `layout.size()` bytes aligned to
    // `layout.align()` or null, and `dealloc` frees exactly the block `alloc` obtained from the
    // pool for the same layout.
    unsafe impl GlobalAlloc for PoolAllocator {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if layout.align() <= POOL_ALIGN {
                // SAFETY: plain pool allocation; failure returns null.
                return unsafe { ExAllocatePool2(POOL_FLAG_NON_PAGED, layout.size(), POOL_TAG) }.cast();
            }
            // Over-allocate, align, and keep the pool address just below the aligned block.
            let Some(total) = layout.size().checked_add(layout.align()).and_then(|t| t.checked_add(HEADER)) else {
                return core::ptr::null_mut();
            };
            // SAFETY: plain pool allocation; failure returns null.
            let raw: *mut u8 = unsafe { ExAllocatePool2(POOL_FLAG_NON_PAGED, total, POOL_TAG) }.cast();
            if raw.is_null() {
                return raw;
            }
            let start = (raw as usize).wrapping_add(HEADER);
            let aligned = start.wrapping_add(layout.align().wrapping_sub(1)) & !layout.align().wrapping_sub(1);
            let offset = aligned.wrapping_sub(raw as usize);
            // `offset` is at most HEADER + align - 1, inside the block of `total` bytes.
            let block = raw.wrapping_add(offset);
            // SAFETY: `block - HEADER` lies inside the allocation (offset >= HEADER) and is
            // usize-aligned because `block` is aligned to more than 16 bytes.
            unsafe { block.wrapping_sub(HEADER).cast::<usize>().write_unaligned(raw as usize) };
            block
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            let raw = if layout.align() <= POOL_ALIGN {
                ptr
            } else {
                // SAFETY: `alloc` stored the pool address in the word just below `ptr`.
                unsafe { ptr.wrapping_sub(HEADER).cast::<usize>().read_unaligned() as *mut u8 }
            };
            // SAFETY: `raw` is the address ExAllocatePool2 returned, with our tag.
            unsafe { ExFreePoolWithTag(raw.cast(), POOL_TAG) };
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            // SAFETY: ExAllocatePool2 zeroes every block it returns (POOL_FLAG_UNINITIALIZED is
            // not passed), so `alloc` already yields zeroed memory.
            unsafe { self.alloc(layout) }
        }
    }

    #[global_allocator]
    static ALLOCATOR: PoolAllocator = PoolAllocator;
}

#[cfg(feature = "wdk")]
#[global_allocator]
static ALLOCATOR: wdk_alloc::WdkAllocator = wdk_alloc::WdkAllocator;

extern crate alloc as alloc_crate;

/// An owned, zero-initialised allocation of one `T` (or of `len` `T`s), freed on drop.
///
/// `T` must be valid when all-zero; every type rvmini puts in a `PoolBox` is plain data
/// (integers, raw pointers, `Option` of pointers, atomics, NDIS structures).
pub struct PoolBox<T> {
    ptr: NonNull<T>,
    len: usize,
}

// SAFETY: a PoolBox owns its memory like a Box; sending or sharing it is as safe as for `T`.
unsafe impl<T: Send> Send for PoolBox<T> {}
// SAFETY: as above.
unsafe impl<T: Sync> Sync for PoolBox<T> {}

impl<T> PoolBox<T> {
    /// Allocates `len` zeroed `T`s. `None` if the pool has no memory, or if `len` is zero or
    /// the size overflows.
    ///
    /// # Safety
    /// The all-zero bit pattern must be a valid `T`.
    #[must_use]
    pub unsafe fn try_new_zeroed_slice(len: usize) -> Option<Self> {
        let layout = Layout::array::<T>(len).ok().filter(|l| l.size() != 0)?;
        // SAFETY: the layout has a non-zero size.
        let raw = unsafe { alloc_crate::alloc::alloc_zeroed(layout) };
        NonNull::new(raw.cast::<T>()).map(|ptr| Self { ptr, len })
    }

    /// Allocates one zeroed `T`.
    ///
    /// # Safety
    /// The all-zero bit pattern must be a valid `T`.
    #[must_use]
    pub unsafe fn try_new_zeroed() -> Option<Self> {
        // SAFETY: forwarded from the caller.
        unsafe { Self::try_new_zeroed_slice(1) }
    }

    /// The address of the first element; stable for the life of the box.
    #[must_use]
    pub fn as_ptr(&self) -> *mut T {
        self.ptr.as_ptr()
    }

    /// The elements.
    #[must_use]
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: `ptr` points to `len` initialised (zeroed, valid) elements we own.
        unsafe { core::slice::from_raw_parts(self.ptr.as_ptr(), self.len) }
    }

    /// Number of elements.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if empty (never, by construction).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Gives up ownership: the memory is freed later with [`PoolBox::from_raw`].
    #[must_use]
    pub fn into_raw(self) -> *mut T {
        let p = self.ptr.as_ptr();
        core::mem::forget(self);
        p
    }

    /// Takes back ownership of a single-element box given up with [`PoolBox::into_raw`].
    ///
    /// # Safety
    /// `raw` came from `into_raw` of a one-element `PoolBox<T>` and is not owned elsewhere.
    pub unsafe fn from_raw(raw: *mut T) -> Option<Self> {
        NonNull::new(raw).map(|ptr| Self { ptr, len: 1 })
    }
}

impl<T> core::ops::Deref for PoolBox<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `ptr` points to at least one initialised element we own.
        unsafe { self.ptr.as_ref() }
    }
}

impl<T> Drop for PoolBox<T> {
    fn drop(&mut self) {
        if let Ok(layout) = Layout::array::<T>(self.len) {
            // SAFETY: the elements are initialised and owned by this box alone; they are dropped
            // exactly once, here, before their memory is freed.
            unsafe { core::ptr::drop_in_place(core::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.len)) };
            // SAFETY: the block was allocated with this layout by `try_new_zeroed_slice`.
            unsafe { alloc_crate::alloc::dealloc(self.ptr.as_ptr().cast(), layout) };
        }
    }
}
