//! Fault injection: make allocating imports fail, as Driver Verifier's low-resources
//! simulation does, to exercise the driver's failure paths.
//!
//! Every allocating import (`ExAllocatePool2`, `NdisAllocateMemoryWithTagPriority`, the NBL,
//! NET_BUFFER and MDL allocators, `NdisAllocateIoWorkItem`, `NdisAllocateTimerObject`,
//! `NdisOpenConfigurationEx`, `MmMapLockedPagesSpecifyCache`) asks
//! [`FaultInjector::should_fail`] before it allocates; a `true` makes it fail exactly as it
//! documents failure (NULL, `NDIS_STATUS_RESOURCES`). Plans:
//!
//! * [`FaultPlan::Nth`]: the n-th allocating call of the run fails (counting from 1).
//! * [`FaultPlan::EachSiteOnce`]: each distinct call site fails the first time it is reached;
//!   the set of sites already failed is shared, so running the same scenario repeatedly with
//!   one set fails every reachable site once, then passes (Driver Verifier's systematic
//!   low-resources simulation). A [`Site`] is the image-relative return address of the
//!   allocating call plus the return addresses of up to [`SITE_CALLERS`] callers, found by
//!   unwinding the driver stack with the image's exception data (RVAs are stable across loads,
//!   and the callers tell apart allocations that all go through one allocator function). Code
//!   outside any loaded image (synthetic drivers in tests) is identified by its absolute
//!   return address, which is stable within one process.
//! * [`FaultPlan::Random`]: each allocating call fails with probability `permille`/1000,
//!   decided by a hash of the seed and the call's number, so a run reproduces.
//!
//! Each injected failure is recorded ([`FaultInjector::injected`]) and noted in the trace.
//! [`FaultInjector::calls`] counts allocating calls; [`crate::kernel::Kernel::allocation_count`]
//! counts allocations that succeeded.

use crate::abi::ImportCall;
use crate::host::{HostInner, thread};
use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Callers (beyond the allocating call itself) that identify a [`Site`].
pub const SITE_CALLERS: usize = 4;

/// A driver call site of an allocating import.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Site {
    /// The image's name, or `None` for code outside any loaded image.
    pub image: Option<String>,
    /// Return addresses, innermost first: RVAs inside the image, or one absolute address.
    pub frames: Vec<u64>,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.image {
            Some(name) => {
                write!(f, "{name}")?;
                for (i, rva) in self.frames.iter().enumerate() {
                    write!(f, "{}+{rva:#x}", if i == 0 { "" } else { " < " })?;
                }
                Ok(())
            }
            None => write!(f, "{:#x}", self.frames.first().copied().unwrap_or(0)),
        }
    }
}

/// Which allocations fail.
#[derive(Clone, Debug, Default)]
pub enum FaultPlan {
    /// None.
    #[default]
    None,
    /// The n-th allocating call of the run (counting from 1).
    Nth(u64),
    /// Each call site once, across the runs that share the set.
    EachSiteOnce(Arc<Mutex<HashSet<Site>>>),
    /// Each call with probability `permille`/1000, deterministically from `seed`.
    Random {
        /// Failures per thousand calls.
        permille: u32,
        /// Seed.
        seed: u64,
    },
}

impl FaultPlan {
    /// An [`FaultPlan::EachSiteOnce`] plan with a fresh set, and the set (to share with the
    /// next run's plan and to inspect).
    #[must_use]
    pub fn each_site_once() -> (Self, Arc<Mutex<HashSet<Site>>>) {
        let set = Arc::new(Mutex::new(HashSet::new()));
        (FaultPlan::EachSiteOnce(Arc::clone(&set)), set)
    }
}

/// One injected failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Injection {
    /// The import that was made to fail.
    pub api: &'static str,
    /// The call site.
    pub site: Site,
    /// The allocating call's number in the run (from 1).
    pub call: u64,
    /// The call site as `image+0xRVA (symbol+0xOFF)`.
    pub described: String,
}

impl fmt::Display for Injection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "allocating call #{}: {} failed at {}", self.call, self.api, self.described)
    }
}

/// Decides, per allocating call, whether it fails.
#[derive(Debug)]
pub struct FaultInjector {
    plan: FaultPlan,
    calls: AtomicU64,
    injected: Mutex<Vec<Injection>>,
}

fn mix(seed: u64, n: u64) -> u64 {
    let mut x = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

impl FaultInjector {
    /// An injector for `plan`.
    #[must_use]
    pub fn new(plan: FaultPlan) -> Self {
        Self { plan, calls: AtomicU64::new(0), injected: Mutex::new(Vec::new()) }
    }

    /// The plan.
    #[must_use]
    pub fn plan(&self) -> &FaultPlan {
        &self.plan
    }

    /// Allocating calls so far.
    #[must_use]
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The failures injected so far, in order.
    #[must_use]
    pub fn injected(&self) -> Vec<Injection> {
        self.injected.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The call site of the import call `call` (see [`Site`]).
    #[must_use]
    pub fn site_of(host: &HostInner, call: &ImportCall) -> Site {
        let ret = call.return_address();
        if let Some(image) = host.image()
            && image.contains(ret)
        {
            let frames = crate::kernel::unwind::return_addresses(&image, call, SITE_CALLERS + 1);
            let frames = frames.iter().map(|&a| a - image.base()).collect();
            return Site { image: Some(image.name().to_owned()), frames };
        }
        Site { image: None, frames: vec![ret] }
    }

    /// Called by every allocating import before it allocates: true if this call must fail.
    pub fn should_fail(&self, host: &HostInner, call: &ImportCall, api: &'static str) -> bool {
        let n = self.calls.fetch_add(1, Ordering::Relaxed) + 1;
        let site = match &self.plan {
            FaultPlan::None => return false,
            FaultPlan::Nth(k) => {
                if n != *k {
                    return false;
                }
                Self::site_of(host, call)
            }
            FaultPlan::Random { permille, seed } => {
                if mix(*seed, n) % 1000 >= u64::from(*permille) {
                    return false;
                }
                Self::site_of(host, call)
            }
            FaultPlan::EachSiteOnce(set) => {
                let site = Self::site_of(host, call);
                if !set.lock().unwrap_or_else(PoisonError::into_inner).insert(site.clone()) {
                    return false;
                }
                site
            }
        };
        let described = host.describe(call.return_address());
        host.trace
            .note(thread::adapter(), || format!("FAULT INJECTED: {api} fails (allocating call #{n}) at {described}"));
        self.injected.lock().unwrap_or_else(PoisonError::into_inner).push(Injection { api, site, call: n, described });
        true
    }
}
