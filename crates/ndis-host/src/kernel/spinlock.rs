//! NDIS spin locks: `NdisAllocateSpinLock`, `NdisFreeSpinLock`, `NdisAcquireSpinLock`,
//! `NdisReleaseSpinLock`, `NdisDprAcquireSpinLock`, `NdisDprReleaseSpinLock`.
//!
//! Exclusion is real: the `KSPIN_LOCK` word in the driver's `NDIS_SPIN_LOCK` is taken with an
//! atomic compare-and-swap, so two host threads running driver code exclude each other exactly
//! as two processors would. The word holds an owner token while the lock is held (bit 0 set,
//! bit 1 = taken with the `Dpr` variant, bits 2.. = the host thread number), which lets the
//! host recognise a re-acquisition by the holder and a mismatched release.
//!
//! `NdisAcquireSpinLock` saves the caller's IRQL in `NDIS_SPIN_LOCK::OldIrql` and raises the
//! thread to DISPATCH_LEVEL; `NdisReleaseSpinLock` restores it. The `Dpr` variants leave the
//! IRQL alone (their callers are at DISPATCH_LEVEL; the import table's IRQL rule checks that).
//! Every held lock is recorded on the thread ([`crate::host::thread::push_lock`]), so the
//! host's handler-exit check finds locks a handler returns holding.
//!
//! Rule `SpinLock.Balanced` fires for: releasing a lock the thread does not hold; acquiring a
//! lock the thread already holds (a deadlock on Windows: reported and the call abandoned
//! instead of hanging); releasing with the other variant than the one that acquired;
//! initialising or freeing a held lock. Waiting for a lock held elsewhere gives up after
//! [`SPIN_TIMEOUT`] with an `Ndis.Watchdog` finding (threaded mode), or at once in
//! deterministic mode, where the holder can never run while this thread spins.
//!
//! The lock pointer is checked (readable, aligned, not in a read-only image section) once per
//! thread and address and cached, so the uncontended path is one CAS plus thread-local
//! bookkeeping. A bad pointer ends the call with an access violation, as on Windows.

use super::dmem;
use crate::abi::{self, ImportCall, mem};
use crate::crash::{Access, CrashKind};
use crate::host::{HostInner, Mode, thread};
use crate::verifier::Rule;
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a thread spins for a lock held elsewhere before the watchdog gives up.
pub const SPIN_TIMEOUT: Duration = Duration::from_secs(10);

const OLD_IRQL_OFFSET: usize = 8;
const HELD: u64 = 1;
const DPR: u64 = 2;

fn token(dpr: bool) -> u64 {
    (u64::from(thread::id()) << 2) | if dpr { DPR | HELD } else { HELD }
}

fn holder_thread(word: u64) -> u64 {
    word >> 2
}

const CACHE: usize = 8;

thread_local! {
    /// Recently validated lock addresses with the pool generation they were validated at.
    static VALID: Cell<[(u64, u64); CACHE]> = const { Cell::new([(0, 0); CACHE]) };
    static NEXT: Cell<usize> = const { Cell::new(0) };
}

fn check_pointer(host: &HostInner, addr: u64) {
    let generation = host.kernel.pool.generation.load(Ordering::Acquire);
    if VALID.with(|v| v.get().iter().any(|&(a, g)| a == addr && g == generation)) {
        return;
    }
    if addr == 0 || mem::read_u64(addr).is_none() {
        abi::abandon(CrashKind::AccessViolation { address: addr, access: Access::Read });
    }
    if !addr.is_multiple_of(8) {
        host.finding(
            Rule::SpinLockBalanced,
            thread::adapter(),
            format!("spin lock at {addr:#x} is not 8-byte aligned (KSPIN_LOCK is a ULONG_PTR)"),
        );
        abi::abandon(CrashKind::Fatal(format!("misaligned spin lock at {addr:#x}")));
    }
    if let Some(image) = host.image()
        && let Some(section) = image.section_of(addr)
        && !section.is_writable()
    {
        abi::abandon(CrashKind::AccessViolation { address: addr, access: Access::Write });
    }
    VALID.with(|v| {
        let mut a = v.get();
        let i = NEXT.with(|n| {
            let i = n.get();
            n.set((i + 1) % CACHE);
            i
        });
        a[i] = (addr, generation);
        v.set(a);
    });
}

fn word(addr: u64) -> &'static AtomicU64 {
    // SAFETY: `check_pointer` established that `addr` is non-null, 8-byte aligned and mapped
    // readable and (not being in a read-only image section) writable. KSPIN_LOCK is a ULONG_PTR
    // that every party (the driver's other threads through these same imports) accesses
    // atomically. The reference does not outlive the import call in practice; 'static only
    // expresses that the host does not own the memory.
    unsafe { &*(crate::abi::usize_of(addr) as *const AtomicU64) }
}

/// `NdisAcquireSpinLock` / `NdisDprAcquireSpinLock`.
fn acquire(host: &Arc<HostInner>, call: &ImportCall, dpr: bool) -> u64 {
    let addr = call.arg(0);
    check_pointer(host, addr);
    let w = word(addr);
    let me = token(dpr);
    if w.compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed).is_err() {
        contended(host, call, addr, w, me);
    }
    if !dpr {
        let old = thread::irql();
        thread::set_irql(thread::DISPATCH);
        // SAFETY: the lock is now held by this thread, and OldIrql (offset 8 of NDIS_SPIN_LOCK)
        // belongs to the holder; the structure is 16 bytes (KSPIN_LOCK + KIRQL + padding) and
        // its start was validated.
        unsafe { ((crate::abi::usize_of(addr) + OLD_IRQL_OFFSET) as *mut u8).write_volatile(old) };
    }
    thread::push_lock(addr);
    0
}

#[cold]
fn contended(host: &Arc<HostInner>, call: &ImportCall, addr: u64, w: &AtomicU64, me: u64) {
    let name = if me & DPR != 0 { "NdisDprAcquireSpinLock" } else { "NdisAcquireSpinLock" };
    let start = Instant::now();
    let mut spins: u64 = 0;
    loop {
        let cur = w.load(Ordering::Relaxed);
        if cur == 0 {
            if w.compare_exchange_weak(0, me, Ordering::Acquire, Ordering::Relaxed).is_ok() {
                return;
            }
            continue;
        }
        if holder_thread(cur) == holder_thread(me) || thread::holds(addr) {
            host.finding(
                Rule::SpinLockBalanced,
                thread::adapter(),
                format!(
                    "{name}({addr:#x}) from {}: this thread already holds the lock (a deadlock on Windows)",
                    host.describe(call.return_address())
                ),
            );
            abi::abandon(CrashKind::Fatal(format!("spin lock {addr:#x} re-acquired by its holder (deadlock)")));
        }
        if matches!(host.config.mode, Mode::Deterministic { .. }) {
            host.finding(
                Rule::SpinLockBalanced,
                thread::adapter(),
                format!(
                    "{name}({addr:#x}) from {}: the lock word is {cur:#x}, held by a context that cannot run while this one spins (or never initialised with NdisAllocateSpinLock)",
                    host.describe(call.return_address())
                ),
            );
            abi::abandon(CrashKind::Fatal(format!("spin lock {addr:#x} can never be released")));
        }
        spins += 1;
        if spins < 256 {
            std::hint::spin_loop();
            continue;
        }
        std::thread::yield_now();
        if spins.is_multiple_of(64) {
            if host.crashed() {
                abi::abandon(CrashKind::Fatal("the scenario crashed on another thread while this one spun".to_owned()));
            }
            if start.elapsed() > SPIN_TIMEOUT {
                host.finding(
                    Rule::Watchdog,
                    thread::adapter(),
                    format!(
                        "{name}({addr:#x}) from {} spun for {} s: the lock is held by host thread {}",
                        host.describe(call.return_address()),
                        SPIN_TIMEOUT.as_secs(),
                        holder_thread(cur)
                    ),
                );
                abi::abandon(CrashKind::Fatal(format!("spin lock {addr:#x} not released within the watchdog time")));
            }
        }
    }
}

/// `NdisReleaseSpinLock` / `NdisDprReleaseSpinLock`.
fn release(host: &Arc<HostInner>, call: &ImportCall, dpr: bool) -> u64 {
    let addr = call.arg(0);
    let name = if dpr { "NdisDprReleaseSpinLock" } else { "NdisReleaseSpinLock" };
    if !thread::pop_lock(addr) {
        host.finding(
            Rule::SpinLockBalanced,
            thread::adapter(),
            format!(
                "{name}({addr:#x}) from {}: this thread does not hold the lock",
                host.describe(call.return_address())
            ),
        );
        return 0;
    }
    // The thread held it, so the pointer was validated when it was acquired.
    let w = word(addr);
    let cur = w.load(Ordering::Relaxed);
    if (cur & DPR != 0) != dpr {
        let how = if cur & DPR != 0 { "NdisDprAcquireSpinLock" } else { "NdisAcquireSpinLock" };
        host.finding(
            Rule::SpinLockBalanced,
            thread::adapter(),
            format!("{name}({addr:#x}) releases a lock taken with {how}; acquire and release must be the same variant"),
        );
    }
    if dpr {
        w.store(0, Ordering::Release);
    } else {
        // SAFETY: as in `acquire`; read before the release, while the lock is still ours.
        let old = unsafe { ((crate::abi::usize_of(addr) + OLD_IRQL_OFFSET) as *const u8).read_volatile() };
        w.store(0, Ordering::Release);
        thread::set_irql(old);
    }
    0
}

pub(crate) fn ndis_acquire_spin_lock(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    acquire(host, call, false)
}

pub(crate) fn ndis_release_spin_lock(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    release(host, call, false)
}

pub(crate) fn ndis_dpr_acquire_spin_lock(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    acquire(host, call, true)
}

pub(crate) fn ndis_dpr_release_spin_lock(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    release(host, call, true)
}

/// `NdisAllocateSpinLock(SpinLock)`: zeroes the lock.
pub(crate) fn ndis_allocate_spin_lock(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let addr = call.arg(0);
    let cur: u64 = dmem::read_or_crash(addr);
    if cur & HELD != 0 && thread::holds(addr) {
        host.finding(
            Rule::SpinLockBalanced,
            thread::adapter(),
            format!("NdisAllocateSpinLock({addr:#x}) re-initialises a lock this thread holds"),
        );
        thread::pop_lock(addr);
    }
    dmem::write_or_crash(addr, &[0u8; 9]);
    0
}

/// `NdisFreeSpinLock(SpinLock)`: nothing to free; a held lock is a finding.
pub(crate) fn ndis_free_spin_lock(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let addr = call.arg(0);
    let cur: u64 = dmem::read_or_crash(addr);
    if cur & HELD != 0 {
        host.finding(
            Rule::SpinLockBalanced,
            thread::adapter(),
            format!("NdisFreeSpinLock({addr:#x}) while the lock is held (word {cur:#x})"),
        );
    }
    0
}

/// Releases locks a handler left held: clears each lock word this thread owns.
pub(crate) fn force_release(locks: &[u64]) {
    let me = u64::from(thread::id());
    for &addr in locks {
        if mem::read_u64(addr).is_some_and(|w| w & HELD != 0 && holder_thread(w) == me) {
            word(addr).store(0, Ordering::Release);
        }
    }
}
