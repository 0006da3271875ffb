//! NDIS spin locks: real exclusion, IRQL handling and the SpinLock.Balanced / Irql.Call rules.
// Import arguments and results are raw register values; the tests convert them to the C types
// they stand for (truncation and sign changes are the point).
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]

#[path = "kernel_support/mod.rs"]
mod support;

use ndis_host::crash::CrashKind;
use ndis_host::host::thread::{self, DISPATCH, PASSIVE};
use ndis_host::verifier::Rule;
use ndis_sys::{NDIS_SPIN_LOCK, POOL_FLAG_NON_PAGED};
use std::sync::Arc;
use support::{assert_clean, det, drive, fired, kc, p, threaded};

/// A lock in (host) memory the test owns, as a driver would embed it in its context.
#[allow(clippy::unnecessary_box_returns)] // a heap address, like a lock in pool memory
fn new_lock() -> Box<NDIS_SPIN_LOCK> {
    Box::new(NDIS_SPIN_LOCK { SpinLock: 0xFFFF, OldIrql: 0x77 })
}

#[test]
fn acquire_raises_to_dispatch_and_release_restores() {
    let host = det();
    let lock = new_lock();
    let l = p(&raw const *lock);
    let mut seen = Vec::new();
    drive(&host, None, PASSIVE, || {
        kc("NdisAllocateSpinLock", &[l]);
        seen.push(u64::from(thread::irql()));
        kc("NdisAcquireSpinLock", &[l]);
        seen.push(u64::from(thread::irql()));
        seen.push(u64::from(thread::holds(l)));
        // SAFETY: reading the lock the driver holds.
        seen.push(unsafe { (*(l as *const NDIS_SPIN_LOCK)).SpinLock } as u64);
        kc("NdisReleaseSpinLock", &[l]);
        seen.push(u64::from(thread::irql()));
        seen.push(thread::held_count() as u64);
        kc("NdisFreeSpinLock", &[l]);
        0
    })
    .unwrap();
    assert_eq!(seen[0], 0);
    assert_eq!(seen[1], u64::from(DISPATCH));
    assert_eq!(seen[2], 1);
    assert_ne!(seen[3], 0, "the lock word is non-zero while held");
    assert_eq!(seen[4], 0, "NdisReleaseSpinLock restores PASSIVE_LEVEL");
    assert_eq!(seen[5], 0);
    assert_eq!(lock.SpinLock, 0);
    assert_eq!(lock.OldIrql, PASSIVE, "OldIrql saved in the NDIS_SPIN_LOCK");
    assert_clean(&host);
}

#[test]
fn dpr_variants_keep_the_irql_and_nest_correctly() {
    let host = det();
    let (a, b) = (new_lock(), new_lock());
    let (la, lb) = (p(&raw const *a), p(&raw const *b));
    let mut irqls = Vec::new();
    drive(&host, None, DISPATCH, || {
        kc("NdisAllocateSpinLock", &[la]);
        kc("NdisAllocateSpinLock", &[lb]);
        kc("NdisDprAcquireSpinLock", &[la]);
        kc("NdisAcquireSpinLock", &[lb]);
        irqls.push(thread::irql());
        kc("NdisReleaseSpinLock", &[lb]);
        kc("NdisDprReleaseSpinLock", &[la]);
        irqls.push(thread::irql());
        0
    })
    .unwrap();
    assert_eq!(irqls, vec![DISPATCH, DISPATCH]);
    assert_clean(&host);
}

#[test]
fn dpr_acquire_at_passive_breaks_the_irql_rule() {
    let host = det();
    let lock = new_lock();
    let l = p(&raw const *lock);
    drive(&host, None, PASSIVE, || {
        kc("NdisAllocateSpinLock", &[l]);
        kc("NdisDprAcquireSpinLock", &[l]);
        kc("NdisDprReleaseSpinLock", &[l]);
        0
    })
    .unwrap();
    let f = fired(&host, Rule::CallIrql);
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(f[0].message.contains("NdisDprAcquireSpinLock called at IRQL 0"), "{f:#?}");
    assert!(fired(&host, Rule::SpinLockBalanced).is_empty());
}

#[test]
fn releasing_a_lock_not_held_and_mismatched_variants() {
    let host = det();
    let lock = new_lock();
    let l = p(&raw const *lock);
    drive(&host, None, DISPATCH, || {
        kc("NdisAllocateSpinLock", &[l]);
        kc("NdisDprReleaseSpinLock", &[l]); // not held
        kc("NdisDprAcquireSpinLock", &[l]);
        kc("NdisReleaseSpinLock", &[l]); // acquired with the Dpr variant
        0
    })
    .unwrap();
    let f = fired(&host, Rule::SpinLockBalanced);
    assert_eq!(f.len(), 2, "{f:#?}");
    assert!(f[0].message.contains("does not hold the lock"));
    assert!(f[1].message.contains("taken with NdisDprAcquireSpinLock"));
}

#[test]
fn handler_returning_with_a_lock_held_is_reported_and_the_lock_released() {
    let host = det();
    let lock = new_lock();
    let l = p(&raw const *lock);
    drive(&host, Some(0), PASSIVE, || {
        kc("NdisAllocateSpinLock", &[l]);
        kc("NdisAcquireSpinLock", &[l]);
        0
    })
    .unwrap();
    let f = fired(&host, Rule::SpinLockBalanced);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].message.contains("returned holding 1 spin lock"));
    assert_eq!(fired(&host, Rule::HandlerIrql).len(), 1, "it also returned at DISPATCH_LEVEL");
    assert_eq!(lock.SpinLock, 0, "force-released");
    assert_eq!(thread::held_count(), 0);
    // The lock is usable again.
    drive(&host, None, PASSIVE, || {
        kc("NdisAcquireSpinLock", &[l]);
        kc("NdisReleaseSpinLock", &[l]);
        0
    })
    .unwrap();
    assert_eq!(host.verifier.findings().len(), 2);
}

#[test]
fn reacquiring_a_held_lock_is_reported_and_abandoned_not_hung() {
    let host = det();
    let lock = new_lock();
    let l = p(&raw const *lock);
    let r = drive(&host, Some(3), PASSIVE, || {
        kc("NdisAllocateSpinLock", &[l]);
        kc("NdisAcquireSpinLock", &[l]);
        kc("NdisAcquireSpinLock", &[l]);
        0
    });
    assert!(r.is_err());
    let f = fired(&host, Rule::SpinLockBalanced);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].message.contains("already holds the lock"));
    assert_eq!(f[0].adapter, Some(3));
    let crash = host.crash_report().unwrap();
    assert!(matches!(crash.crash.kind, CrashKind::Fatal(ref m) if m.contains("re-acquired")), "{crash}");
    assert_eq!(lock.SpinLock, 0, "the crashed call's locks were released");
}

#[test]
fn deterministic_mode_reports_a_lock_that_can_never_be_released() {
    let host = det();
    // Held by "host thread 999": nothing can release it while this single thread spins.
    let lock = Box::new(NDIS_SPIN_LOCK { SpinLock: (999 << 2) | 1, OldIrql: 0 });
    let l = p(&raw const *lock);
    let r = drive(&host, None, PASSIVE, || kc("NdisAcquireSpinLock", &[l]));
    assert!(r.is_err());
    let f = fired(&host, Rule::SpinLockBalanced);
    assert_eq!(f.len(), 1, "{f:#?}");
    assert!(f[0].message.contains("cannot run"), "{f:#?}");
}

#[test]
fn freeing_a_held_lock_and_bad_lock_pointers() {
    let host = det();
    let lock = new_lock();
    let l = p(&raw const *lock);
    drive(&host, None, PASSIVE, || {
        kc("NdisAllocateSpinLock", &[l]);
        kc("NdisAcquireSpinLock", &[l]);
        kc("NdisFreeSpinLock", &[l]);
        kc("NdisReleaseSpinLock", &[l]);
        0
    })
    .unwrap();
    assert_eq!(fired(&host, Rule::SpinLockBalanced).len(), 1);
    let r = drive(&host, None, PASSIVE, || kc("NdisAcquireSpinLock", &[0x10]));
    assert!(r.is_err());
    let crash = host.crash_report().unwrap();
    assert!(matches!(crash.crash.kind, CrashKind::AccessViolation { address: 0x10, .. }), "{crash}");
}

struct Shared {
    _lock: NDIS_SPIN_LOCK,
    counter: u64,
}

const ROUNDS: u64 = 100_000;

#[test]
fn two_threads_contending_for_one_lock_keep_an_exact_count() {
    let host = threaded();
    // The lock and counter live in pool memory, as in a driver.
    let mut shared = 0u64;
    drive(&host, None, PASSIVE, || {
        shared = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, std::mem::size_of::<Shared>() as u64, 0x6b_63_6f_4c]);
        kc("NdisAllocateSpinLock", &[shared]);
        0
    })
    .unwrap();
    assert_ne!(shared, 0);
    let body = move || {
        let s = shared as *mut Shared;
        let l = shared; // the NDIS_SPIN_LOCK is the first field
        for i in 0..ROUNDS {
            if i % 2 == 0 {
                kc("NdisAcquireSpinLock", &[l]);
            } else {
                // Alternate with the DISPATCH_LEVEL variant like a DPC would.
                kc("NdisDprAcquireSpinLock", &[l]);
            }
            // A deliberately non-atomic read-modify-write: only the lock makes it exact.
            // SAFETY: `counter` is guarded by the lock this thread holds.
            unsafe {
                let c = std::ptr::read_volatile(&raw const (*s).counter);
                std::hint::spin_loop();
                std::ptr::write_volatile(&raw mut (*s).counter, c + 1);
            }
            if i % 2 == 0 {
                kc("NdisReleaseSpinLock", &[l]);
            } else {
                kc("NdisDprReleaseSpinLock", &[l]);
            }
        }
        0
    };
    let threads: Vec<_> = (0..2)
        .map(|_| {
            let host = Arc::clone(&host);
            std::thread::spawn(move || {
                // Even rounds at PASSIVE through NdisAcquireSpinLock; the Dpr rounds need
                // DISPATCH_LEVEL, so run the whole loop at DISPATCH_LEVEL.
                drive(&host, None, DISPATCH, body).unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    // SAFETY: both threads are done; the block is live.
    let count = unsafe { (*(shared as *const Shared)).counter };
    assert_eq!(count, 2 * ROUNDS);
    drive(&host, None, PASSIVE, || {
        kc("ExFreePool", &[shared]);
        0
    })
    .unwrap();
    assert_clean(&host);
}
