//! Pool memory imports, the C runtime memory routines and fault injection.
// Import arguments and results are raw register values; the tests convert them to the C types
// they stand for (truncation and sign changes are the point).
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]

#[path = "kernel_support/mod.rs"]
mod support;

use ndis_host::fault::FaultPlan;
use ndis_host::host::thread::{DISPATCH, PASSIVE};
use ndis_host::host::{HostConfig, HostInner, Mode};
use ndis_host::kernel::pool::{REDZONE_FILL, UNINIT_FILL};
use ndis_host::kernel::registry::Registry;
use ndis_host::kernel::resources::{Kind, Owner};
use ndis_host::verifier::Rule;
use ndis_sys::{POOL_FLAG_NON_PAGED, POOL_FLAG_PAGED, POOL_FLAG_UNINITIALIZED};
use support::{assert_clean, det, device, drive, fired, kc};

const TAG: u64 = u32::from_le_bytes(*b"Test") as u64;

#[test]
fn allocations_are_aligned_zeroed_tracked_and_freed() {
    let host = det();
    let (idx, _) = device(&host, Registry::new());
    let mut blocks = Vec::new();
    drive(&host, Some(idx), PASSIVE, || {
        for size in [1u64, 15, 100, 1500, 4095, 4096, 10000] {
            blocks.push((size, kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, size, TAG])));
        }
        0
    })
    .unwrap();
    for &(size, a) in &blocks {
        assert_ne!(a, 0, "{size} bytes");
        if size >= 4096 {
            assert_eq!(a % 4096, 0, "{size} bytes page aligned");
        } else {
            assert_eq!(a % 16, 0, "{size} bytes 16-byte aligned");
            assert!(a % 4096 + size <= 4096, "{size} bytes within one page");
        }
        // SAFETY: the block is `size` bytes of live host memory.
        let bytes = unsafe { std::slice::from_raw_parts(a as *const u8, size as usize) };
        assert!(bytes.iter().all(|&b| b == 0), "{size} bytes zeroed");
        let rec = host.resources.get(Kind::Pool, a).expect("registered");
        assert_eq!(rec.owner, Owner::Adapter(idx));
        assert!(rec.detail.contains("'Test'"), "{}", rec.detail);
    }
    assert_eq!(host.resources.count(Kind::Pool), blocks.len());
    assert_eq!(host.kernel.allocation_count(), blocks.len() as u64);
    drive(&host, None, DISPATCH, || {
        for &(_, a) in &blocks {
            kc("ExFreePoolWithTag", &[a, TAG]);
        }
        0
    })
    .unwrap();
    assert_eq!(host.resources.count(Kind::Pool), 0);
    assert_eq!(host.kernel.pool_usage(), (0, 0));
    assert_clean(&host);
}

#[test]
fn uninitialized_and_ndis_memory_are_not_zeroed_and_owner_follows_the_handle() {
    let host = det();
    let (idx, handle) = device(&host, Registry::new());
    let (mut a, mut b) = (0, 0);
    // Outside any adapter's handler, but with the adapter's handle.
    drive(&host, None, PASSIVE, || {
        a = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED | POOL_FLAG_UNINITIALIZED, 64, TAG]);
        b = kc("NdisAllocateMemoryWithTagPriority", &[handle, 64, TAG, 16]);
        0
    })
    .unwrap();
    // SAFETY: both blocks are 64 live bytes.
    let (sa, sb) =
        unsafe { (std::slice::from_raw_parts(a as *const u8, 64), std::slice::from_raw_parts(b as *const u8, 64)) };
    assert!(sa.iter().all(|&x| x == UNINIT_FILL));
    assert!(sb.iter().all(|&x| x == UNINIT_FILL));
    assert_eq!(host.resources.get(Kind::Pool, a).unwrap().owner, Owner::Driver);
    assert_eq!(host.resources.get(Kind::Pool, b).unwrap().owner, Owner::Adapter(idx));
    drive(&host, None, PASSIVE, || {
        kc("ExFreePool", &[a]);
        kc("NdisFreeMemory", &[b, 64, 0]);
        0
    })
    .unwrap();
    assert_clean(&host);
}

#[test]
fn pool_misuse_fires_for_zero_tag_double_free_wrong_tag_overrun_and_mixed_families() {
    let host = det();
    let (idx, handle) = device(&host, Registry::new());
    let mut zero_tag = 1;
    drive(&host, Some(idx), PASSIVE, || {
        zero_tag = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, 32, 0]);
        let first = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, 32, TAG]);
        kc("ExFreePoolWithTag", &[first, TAG]);
        kc("ExFreePoolWithTag", &[first, TAG]); // double free
        let second = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, 32, TAG]);
        kc("ExFreePoolWithTag", &[second, u64::from(u32::from_le_bytes(*b"Oops"))]); // wrong tag
        let c = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, 40, TAG]);
        // SAFETY: a driver bug on purpose, but memory-safe: the byte past the 40-byte block is
        // the first of the host's guard bytes, inside the same allocation.
        unsafe { ((c + 40) as *mut u8).write(0x11) };
        kc("ExFreePool", &[c]);
        let d = kc("NdisAllocateMemoryWithTagPriority", &[handle, 16, TAG, 16]);
        kc("ExFreePool", &[d]); // wrong family
        kc("ExFreePool", &[0x1234_5670]); // not pool at all
        let e = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, 64, TAG]);
        kc("ExFreePool", &[e + 16]); // interior pointer
        kc("ExFreePool", &[e]);
        0
    })
    .unwrap();
    assert_eq!(zero_tag, 0, "ExAllocatePool2 with tag 0 returns NULL");
    let msgs: Vec<String> = fired(&host, Rule::PoolMisuse).into_iter().map(|f| f.message).collect();
    let has = |s: &str| msgs.iter().any(|m| m.contains(s));
    assert!(has("tag 0"), "{msgs:#?}");
    assert!(has("double free"), "{msgs:#?}");
    assert!(has("allocated with tag 'Test'"), "{msgs:#?}");
    assert!(has("written past its end (guard byte 0 modified)"), "{msgs:#?}");
    assert!(has("frees memory that NdisAllocateMemoryWithTagPriority allocated"), "{msgs:#?}");
    assert!(has("not a live pool block"), "{msgs:#?}");
    assert!(has("inside the 64-byte block"), "{msgs:#?}");
    assert_eq!(msgs.len(), 7, "{msgs:#?}");
    assert!(fired(&host, Rule::PoolMisuse).iter().all(|f| f.adapter == Some(idx)));
}

#[test]
fn live_overruns_are_found_by_check_pool_and_ndis_free_length_is_checked() {
    let host = det();
    let (idx, handle) = device(&host, Registry::new());
    let mut a = 0;
    drive(&host, Some(idx), PASSIVE, || {
        a = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, 24, TAG]);
        let b = kc("NdisAllocateMemoryWithTagPriority", &[handle, 100, TAG, 16]);
        kc("NdisFreeMemory", &[b, 99, 0]);
        0
    })
    .unwrap();
    assert_eq!(host.kernel.check_pool(&host), 0);
    // SAFETY: writes the third guard byte of the live block (a driver overrun).
    unsafe { ((a + 24 + 2) as *mut u8).write(!REDZONE_FILL) };
    assert_eq!(host.kernel.check_pool(&host), 1);
    let msgs: Vec<String> = fired(&host, Rule::PoolMisuse).into_iter().map(|f| f.message).collect();
    assert!(msgs.iter().any(|m| m.contains("Length 99") && m.contains("100 bytes")), "{msgs:#?}");
    assert!(msgs.iter().any(|m| m.contains("guard byte 2 modified")), "{msgs:#?}");
}

#[test]
fn paged_pool_at_dispatch_and_invalid_flags() {
    let host = det();
    let mut r = (1, 1);
    drive(&host, None, DISPATCH, || {
        let paged = kc("ExAllocatePool2", &[POOL_FLAG_PAGED, 8, TAG]);
        kc("ExFreePool", &[paged]);
        r.0 = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED, 8, TAG]);
        r.1 = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, 0, TAG]);
        0
    })
    .unwrap();
    assert_eq!(r, (0, 0));
    assert_eq!(fired(&host, Rule::CallIrql).len(), 1);
    assert_eq!(fired(&host, Rule::PoolMisuse).len(), 2);
}

#[test]
#[allow(clippy::many_single_char_names)]
fn memory_routines_copy_fill_and_compare() {
    type Cpy = extern "win64" fn(*mut u8, *const u8, usize) -> *mut u8;
    let host = det();
    let mut src: Vec<u8> = (0..=255).collect();
    let mut dst = vec![0u8; 256];
    let (s, d) = (src.as_mut_ptr() as u64, dst.as_mut_ptr() as u64);
    let mut out = [0u64; 6];
    drive(&host, None, DISPATCH, || {
        out[0] = kc("memcpy", &[d, s, 256]);
        out[1] = kc("memcmp", &[d, s, 256]);
        kc("memset", &[d + 10, 0x1AB, 5]); // (unsigned char)0x1AB == 0xAB
        out[2] = kc("memcmp", &[d, s, 256]);
        out[3] = kc("memmove", &[s + 1, s, 100]); // overlapping
        out[4] = kc("memcmp", &[s, d, 0]);
        0
    })
    .unwrap();
    assert_eq!(out[0], d);
    assert_eq!(out[1] as u32, 0);
    assert_eq!(&dst[10..15], &[0xAB; 5]);
    assert_eq!(dst[9], 9);
    assert!((out[2] as u32).cast_signed() > 0, "0xAB > 10");
    assert_eq!(out[3], s + 1);
    assert_eq!(&src[1..6], &[0, 1, 2, 3, 4]);
    assert_eq!(out[4] as u32, 0);
    // The direct bindings images get are the same routines.
    let direct: Vec<_> = ndis_host::kernel::direct_bindings();
    let memcpy = direct.iter().find(|(_, n, _)| *n == "memcpy").unwrap().2;
    let from = [1u8, 2, 3, 4];
    let mut to = [0u8; 4];
    // SAFETY: the direct memcpy is a Win64 function with this signature.
    let copy: Cpy = unsafe { std::mem::transmute::<u64, Cpy>(memcpy) };
    drive(&host, None, PASSIVE, || copy(to.as_mut_ptr(), from.as_ptr(), 4) as u64).unwrap();
    assert_eq!(from, to);
    assert_clean(&host);
}

fn faulty(plan: FaultPlan) -> std::sync::Arc<HostInner> {
    HostInner::new(HostConfig { mode: Mode::Deterministic { seed: 1 }, faults: plan, ..HostConfig::default() })
}

#[test]
fn nth_allocation_fails_and_is_recorded() {
    let host = faulty(FaultPlan::Nth(3));
    let (_, handle) = device(&host, Registry::new());
    let mut got = Vec::new();
    drive(&host, None, PASSIVE, || {
        got.push(kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, 8, TAG]));
        got.push(kc("NdisAllocateMemoryWithTagPriority", &[handle, 8, TAG, 16]));
        got.push(kc("NdisAllocateIoWorkItem", &[handle])); // the third allocating call
        got.push(kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, 8, TAG]));
        0
    })
    .unwrap();
    assert!(got[0] != 0 && got[1] != 0 && got[3] != 0);
    assert_eq!(got[2], 0, "the third allocating call fails");
    let inj = host.faults.injected();
    assert_eq!(inj.len(), 1);
    assert_eq!(inj[0].api, "NdisAllocateIoWorkItem");
    assert_eq!(inj[0].call, 3);
    assert_eq!(host.faults.calls(), 4);
    assert_eq!(host.kernel.allocation_count(), 3);
    assert!(host.trace.events().iter().any(|e| e.name.contains("FAULT INJECTED: NdisAllocateIoWorkItem")));
}

/// A small "MiniportInitializeEx" that allocates at three sites and, like a correct driver,
/// frees what it got and fails if any allocation failed. Returns 0 on success.
fn init_three_sites(handle: u64) -> u64 {
    let a = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, 32, TAG]);
    if a == 0 {
        return 1;
    }
    let b = kc("NdisAllocateMemoryWithTagPriority", &[handle, 64, TAG, 16]);
    if b == 0 {
        kc("ExFreePool", &[a]);
        return 2;
    }
    let c = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, 128, TAG]);
    if c == 0 {
        kc("NdisFreeMemory", &[b, 0, 0]);
        kc("ExFreePool", &[a]);
        return 3;
    }
    kc("ExFreePool", &[c]);
    kc("NdisFreeMemory", &[b, 0, 0]);
    kc("ExFreePool", &[a]);
    0
}

#[test]
fn each_site_once_fails_every_site_once_then_passes() {
    let (plan, set) = FaultPlan::each_site_once();
    let mut outcomes = Vec::new();
    let mut sites = Vec::new();
    for _ in 0..6 {
        let host = faulty(plan.clone());
        let (idx, handle) = device(&host, Registry::new());
        let r = drive(&host, Some(idx), PASSIVE, || init_three_sites(handle)).unwrap();
        outcomes.push(r);
        sites.extend(host.faults.injected().into_iter().map(|i| (i.api, i.site)));
        assert_eq!(host.resources.count(Kind::Pool), 0, "nothing leaks on the failure path");
        assert_clean(&host);
    }
    assert_eq!(outcomes, vec![1, 2, 3, 0, 0, 0], "each site fails once, in order, then init passes");
    assert_eq!(sites.len(), 3);
    assert_eq!(sites[0].0, "ExAllocatePool2");
    assert_eq!(sites[1].0, "NdisAllocateMemoryWithTagPriority");
    assert_eq!(sites[2].0, "ExAllocatePool2");
    assert_ne!(sites[0].1, sites[2].1, "two ExAllocatePool2 call sites are distinct sites");
    assert_eq!(set.lock().unwrap().len(), 3);
}

#[test]
fn random_plan_is_reproducible() {
    let run = |seed| {
        let host = faulty(FaultPlan::Random { permille: 300, seed });
        let mut pattern = Vec::new();
        drive(&host, None, PASSIVE, || {
            for _ in 0..64 {
                let a = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, 8, TAG]);
                pattern.push(a != 0);
                if a != 0 {
                    kc("ExFreePool", &[a]);
                }
            }
            0
        })
        .unwrap();
        pattern
    };
    let (a, b, c) = (run(5), run(5), run(6));
    assert_eq!(a, b);
    assert_ne!(a, c);
    let failed = a.iter().filter(|ok| !**ok).count();
    assert!((5..=40).contains(&failed), "about 30% of 64 fail, got {failed}");
}
