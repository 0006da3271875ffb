//! Spin locks: `NDIS_SPIN_LOCK` with the data it protects.
//!
//! Lock rules for the whole driver (each lock protects exactly the data inside it):
//! - A lock is held only for short, non-blocking work on its own data. **No NDIS call that
//!   indicates or completes anything (receive indications, send completions, status
//!   indications, work-item queueing excepted) is made while any rvmini lock is held**, and
//!   no lock is held when a handler returns.
//! - Locks are never nested: no rvmini lock is taken while another is held. The locks are the
//!   hub lock (the member list), and per adapter the transmit queue lock, the receive free-list
//!   lock and the multicast-list lock.
//! - A path known to run at DISPATCH_LEVEL takes a lock with [`SpinLock::lock_at`] and
//!   [`Irql::Dispatch`], which uses `NdisDprAcquireSpinLock` (no IRQL change); any other path
//!   uses `NdisAcquireSpinLock`, which raises to DISPATCH_LEVEL and restores on release.

use super::Irql;
use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use ndis_sys::{
    NDIS_SPIN_LOCK, NdisAcquireSpinLock, NdisAllocateSpinLock, NdisDprAcquireSpinLock, NdisDprReleaseSpinLock,
    NdisFreeSpinLock, NdisReleaseSpinLock,
};

/// An NDIS spin lock and the data it protects. Lives at a fixed address (inside a pool
/// allocation or a static) because `NDIS_SPIN_LOCK` must not move once initialised.
pub struct SpinLock<T> {
    lock: UnsafeCell<NDIS_SPIN_LOCK>,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reached only through a guard, which exists only while the NDIS spin lock
// is held, so at most one thread touches it at a time.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: as above; moving the lock between threads moves ownership of the data.
unsafe impl<T: Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    /// A lock for a `static`, not yet usable: call [`SpinLock::allocate`] before first use.
    pub const fn new(value: T) -> Self {
        Self { lock: UnsafeCell::new(NDIS_SPIN_LOCK { SpinLock: 0, OldIrql: 0 }), data: UnsafeCell::new(value) }
    }

    /// Initialises the lock of a [`SpinLock::new`] value in place (`NdisAllocateSpinLock`).
    ///
    /// # Safety
    /// The lock is not in use and is at its final address.
    pub unsafe fn allocate(&self) {
        // SAFETY: per the contract; NdisAllocateSpinLock initialises the lock in place.
        unsafe { NdisAllocateSpinLock(self.lock.get()) };
    }

    /// Initialises the lock in place (`NdisAllocateSpinLock`) and stores `value`.
    ///
    /// # Safety
    /// `this` points to writable memory for a `SpinLock<T>` at its final address, not yet
    /// initialised (or freed with [`SpinLock::free`]).
    pub unsafe fn init(this: *mut Self, value: T) {
        // SAFETY: `this` is valid for writes per the contract, so the field place is in bounds.
        let data = unsafe { &raw mut (*this).data };
        // SAFETY: as above; the data is written before the lock exists, so nobody can observe
        // it half-written.
        unsafe { data.write(UnsafeCell::new(value)) };
        // SAFETY: the lock field is valid memory; NdisAllocateSpinLock initialises it.
        let lock = unsafe { core::ptr::addr_of_mut!((*this).lock) }.cast::<NDIS_SPIN_LOCK>();
        // SAFETY: `lock` points into `this`, which the caller guarantees is writable.
        unsafe { NdisAllocateSpinLock(lock) };
    }

    /// Releases the lock's resources (`NdisFreeSpinLock`).
    ///
    /// # Safety
    /// The lock was initialised, is not held, and is not used again until re-initialised.
    pub unsafe fn free(&self) {
        // SAFETY: per the contract the lock is initialised and idle.
        unsafe { NdisFreeSpinLock(self.lock.get()) };
    }

    /// Takes the lock from a context at or below DISPATCH_LEVEL whose IRQL is `irql`.
    pub fn lock_at(&self, irql: Irql) -> Guard<'_, T> {
        match irql {
            // SAFETY: the lock was initialised, by `init` for a lock inside an adapter or by
            // `allocate` for the hub's static lock, before the structure holding it was
            // published; the caller is at DISPATCH_LEVEL.
            Irql::Dispatch => unsafe { NdisDprAcquireSpinLock(self.lock.get()) },
            // SAFETY: as above; NdisAcquireSpinLock raises to DISPATCH_LEVEL itself.
            Irql::AtMostDispatch => unsafe { NdisAcquireSpinLock(self.lock.get()) },
        }
        Guard { lock: self, how: irql }
    }

    /// Takes the lock from a context that may be below DISPATCH_LEVEL.
    pub fn lock(&self) -> Guard<'_, T> {
        self.lock_at(Irql::AtMostDispatch)
    }
}

/// Holds a [`SpinLock`]; the caller runs at DISPATCH_LEVEL until it is dropped.
pub struct Guard<'a, T> {
    lock: &'a SpinLock<T>,
    how: Irql,
}

impl<T> Deref for Guard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while the spin lock is held, so no other reference to
        // the data exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T> DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for `deref`; `&mut self` makes this reference unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T> Drop for Guard<'_, T> {
    fn drop(&mut self) {
        match self.how {
            // SAFETY: this guard acquired the lock with NdisDprAcquireSpinLock.
            Irql::Dispatch => unsafe { NdisDprReleaseSpinLock(self.lock.lock.get()) },
            // SAFETY: this guard acquired the lock with NdisAcquireSpinLock, which saved the
            // previous IRQL in the lock; release restores it.
            Irql::AtMostDispatch => unsafe { NdisReleaseSpinLock(self.lock.lock.get()) },
        }
    }
}
