//! NDIS I/O work items (PASSIVE_LEVEL callbacks) and kernel DPCs (DISPATCH_LEVEL callbacks).

use core::ffi::c_void;
use core::ptr;
use ndis_sys::{
    KDEFERRED_ROUTINE, KDPC, KeInitializeDpc, KeInsertQueueDpc, KeRemoveQueueDpc, NDIS_HANDLE,
    NDIS_IO_WORKITEM_ROUTINE, NdisAllocateIoWorkItem, NdisFreeIoWorkItem, NdisQueueIoWorkItem,
};

/// An NDIS I/O work item (`NdisAllocateIoWorkItem`), freed on drop. Non-null, so an
/// `Option<WorkItem>` is a plain pointer whose all-zero value is `None`.
pub struct WorkItem(core::ptr::NonNull<c_void>);

// SAFETY: the handle is an opaque NDIS object usable from any thread at ≤ DISPATCH_LEVEL.
unsafe impl Send for WorkItem {}
// SAFETY: as above; queueing takes `&self` and NDIS synchronises it.
unsafe impl Sync for WorkItem {}

impl WorkItem {
    /// Allocates a work item for the adapter (`None` on allocation failure).
    ///
    /// # Safety
    /// `adapter` is a live miniport adapter handle.
    #[must_use]
    pub unsafe fn new(adapter: NDIS_HANDLE) -> Option<Self> {
        // SAFETY: `adapter` is the miniport adapter handle NDIS gave InitializeEx.
        let handle = unsafe { NdisAllocateIoWorkItem(adapter) };
        core::ptr::NonNull::new(handle).map(Self)
    }

    /// Queues `routine(context)` to run at PASSIVE_LEVEL on a system worker thread.
    ///
    /// # Safety
    /// The work item is not currently queued, and `context` stays valid until `routine` has
    /// run.
    pub unsafe fn queue(&self, routine: NDIS_IO_WORKITEM_ROUTINE, context: *mut c_void) {
        // SAFETY: per the contract; the handle is live.
        unsafe { NdisQueueIoWorkItem(self.0.as_ptr(), Some(routine), context) };
    }
}

impl Drop for WorkItem {
    fn drop(&mut self) {
        // SAFETY: the handle was allocated by `new` and is freed once; the owner drops it only
        // when the item is not queued.
        unsafe { NdisFreeIoWorkItem(self.0.as_ptr()) };
    }
}

/// A kernel DPC (`KDPC`) embedded in a structure that outlives it.
#[repr(transparent)]
pub struct Dpc(core::cell::UnsafeCell<KDPC>);

// SAFETY: the KDPC is manipulated only through the kernel's own synchronised routines.
unsafe impl Sync for Dpc {}
// SAFETY: as above.
unsafe impl Send for Dpc {}

impl Dpc {
    /// Initialises the DPC in place.
    ///
    /// # Safety
    /// `this` is writable memory at its final address; `context` outlives every run of the DPC.
    pub unsafe fn init(this: *mut Self, routine: KDEFERRED_ROUTINE, context: *mut c_void) {
        // SAFETY: per the contract; `Dpc` is a transparent cell around the KDPC.
        unsafe { KeInitializeDpc(this.cast::<KDPC>(), Some(routine), context) };
    }

    /// Queues the DPC; returns false if it was already queued (it will run once for both).
    pub fn queue(&self) -> bool {
        // SAFETY: the DPC was initialised by `init` before its owner was published.
        unsafe { KeInsertQueueDpc(self.0.get(), ptr::null_mut(), ptr::null_mut()) != 0 }
    }

    /// Removes the DPC from the queue if it is queued (it may still be running).
    pub fn cancel(&self) -> bool {
        // SAFETY: as for `queue`.
        unsafe { KeRemoveQueueDpc(self.0.get()) != 0 }
    }
}
