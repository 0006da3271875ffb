//! NBL and NET_BUFFER pools, MDLs, NdisGetDataBuffer, MmMapLockedPagesSpecifyCache, the
//! host-side NBL helpers, and the Nbl.Misuse rule.
// Import arguments and results are raw register values; the tests convert them to the C types
// they stand for (truncation and sign changes are the point).
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]

#[path = "kernel_support/mod.rs"]
mod support;

use ndis_host::host::thread::{DISPATCH, PASSIVE};
use ndis_host::kernel::nbl;
use ndis_host::kernel::registry::Registry;
use ndis_host::kernel::resources::{Kind, Owner};
use ndis_host::verifier::Rule;
use ndis_sys::{
    MDL, MDL_MAPPED_TO_SYSTEM_VA, MDL_SOURCE_IS_NONPAGED_POOL, NDIS_OBJECT_HEADER, NDIS_OBJECT_TYPE_DEFAULT,
    NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1, NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_1,
    NET_BUFFER, NET_BUFFER_LIST, NET_BUFFER_LIST_CONTEXT, NET_BUFFER_LIST_POOL_PARAMETERS,
    NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1, NET_BUFFER_POOL_PARAMETERS, NET_BUFFER_POOL_PARAMETERS_REVISION_1,
    POOL_FLAG_NON_PAGED,
};
use support::{assert_clean, det, device, drive, fired, kc, p};

const TAG: u64 = 0x4c42_4e54;

fn nbl_params(alloc_nb: bool, context: u16, data: u32) -> NET_BUFFER_LIST_POOL_PARAMETERS {
    NET_BUFFER_LIST_POOL_PARAMETERS {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_DEFAULT,
            Revision: NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
            Size: NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1 as u16,
        },
        ProtocolId: 0,
        fAllocateNetBuffer: u8::from(alloc_nb),
        ContextSize: context,
        PoolTag: TAG as u32,
        DataSize: data,
        Flags: 0,
    }
}

fn read<T: Copy>(a: u64) -> T {
    // SAFETY: the tests read structures the host allocated and has not freed.
    unsafe { (a as *const T).read() }
}

#[test]
fn nbl_and_net_buffer_with_an_mdl_chain_are_laid_out_like_ndis() {
    let host = det();
    let (idx, handle) = device(&host, Registry::new());
    let mut params = nbl_params(true, 0, 0);
    let mut v = [0u64; 8];
    drive(&host, Some(idx), PASSIVE, || {
        let pool = kc("NdisAllocateNetBufferListPool", &[handle, p(&raw mut params)]);
        let b1 = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, 100, TAG]);
        let b2 = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, 200, TAG]);
        let m1 = kc("NdisAllocateMdl", &[handle, b1, 100]);
        let m2 = kc("NdisAllocateMdl", &[handle, b2, 200]);
        // SAFETY: chaining the driver's own MDLs.
        unsafe { (*(m1 as *mut MDL)).Next = m2 as *mut MDL };
        // Data starts 130 bytes in: 30 bytes into the second MDL; context 32 + backfill 16.
        let nbl = kc("NdisAllocateNetBufferAndNetBufferList", &[pool, 32, 16, m1, 130, 150]);
        v = [pool, b1, b2, m1, m2, nbl, 0, 0];
        0
    })
    .unwrap();
    let [pool, _b1, b2, m1, m2, nbl_addr, _, _] = v;
    assert_ne!(nbl_addr, 0);
    assert_eq!(nbl_addr % 16, 0);
    let n: NET_BUFFER_LIST = read(nbl_addr);
    assert_eq!(n.NdisPoolHandle as u64, pool);
    assert!(n.Next.is_null() && n.SourceHandle.is_null() && n.NetBufferListInfo.iter().all(|x| x.is_null()));
    let nb: NET_BUFFER = read(n.FirstNetBuffer as u64);
    assert!(nb.Next.is_null());
    assert_eq!(nb.MdlChain as u64, m1);
    assert_eq!(nb.CurrentMdl as u64, m2);
    assert_eq!(nb.CurrentMdlOffset, 30);
    assert_eq!(nb.DataOffset, 130);
    assert_eq!(nb.DataLength, 150);
    assert_eq!(nb.NdisPoolHandle as u64, pool);
    let ctx: NET_BUFFER_LIST_CONTEXT = read(n.Context as u64);
    assert_eq!((ctx.Size, ctx.Offset), (48, 16), "ContextSize 32 + ContextBackFill 16");
    let mdl: MDL = read(m2);
    assert_eq!(mdl.MappedSystemVa as u64, b2);
    assert_eq!(mdl.StartVa as u64, b2 & !0xFFF);
    assert_eq!(u64::from(mdl.ByteOffset), b2 & 0xFFF);
    assert_eq!(mdl.ByteCount, 200);
    assert_ne!(mdl.MdlFlags & MDL_SOURCE_IS_NONPAGED_POOL, 0);
    let rec = host.resources.get(Kind::Nbl, nbl_addr).unwrap();
    assert_eq!(rec.owner, Owner::Adapter(idx));
    assert_eq!(host.resources.count(Kind::Mdl), 2);
    assert_eq!(host.resources.count(Kind::NblPool), 1);
    // NdisGetDataBuffer: contiguous inside the second MDL.
    let mut storage = [0u8; 64];
    let (mut direct, mut copied, mut none, mut short) = (0, 0, 1, 1);
    // Fill the buffers so copies can be checked: byte i of the chain is i.
    for i in 0..100u64 {
        // SAFETY: writing the driver's own pool buffers.
        unsafe { ((v[1] + i) as *mut u8).write(i as u8) };
    }
    for i in 0..200u64 {
        // SAFETY: as above.
        unsafe { ((b2 + i) as *mut u8).write((100 + i) as u8) };
    }
    let st = p(storage.as_mut_ptr());
    drive(&host, Some(idx), DISPATCH, || {
        let nbp = n.FirstNetBuffer as u64;
        direct = kc("NdisGetDataBuffer", &[nbp, 14, st, 1, 0]);
        none = kc("NdisGetDataBuffer", &[nbp, 14, 0, 4096, 1]); // misaligned, no storage
        short = kc("NdisGetDataBuffer", &[nbp, 151, st, 1, 0]); // more than DataLength
        // Make the data span both MDLs: move the NET_BUFFER's start to offset 90.
        // SAFETY: the driver owns the NET_BUFFER it allocated.
        unsafe {
            let nbm = nbp as *mut NET_BUFFER;
            (*nbm).DataOffset = 90;
            (*nbm).CurrentMdl = m1 as *mut MDL;
            (*nbm).CurrentMdlOffset = 90;
        }
        copied = kc("NdisGetDataBuffer", &[nbp, 20, st, 1, 0]);
        kc("NdisFreeNetBufferList", &[nbl_addr]);
        kc("NdisFreeMdl", &[m1]);
        kc("NdisFreeMdl", &[m2]);
        kc("ExFreePool", &[v[1]]);
        kc("ExFreePool", &[b2]);
        kc("NdisFreeNetBufferListPool", &[pool]);
        0
    })
    .unwrap();
    assert_eq!(direct, b2 + 30);
    assert_eq!(none, 0);
    assert_eq!(short, 0);
    assert_eq!(copied, st);
    assert_eq!(&storage[..20], &(90u8..110).collect::<Vec<_>>()[..]);
    for k in [Kind::Nbl, Kind::Mdl, Kind::NblPool, Kind::Pool] {
        assert_eq!(host.resources.count(k), 0, "{k}");
    }
    assert_clean(&host);
}

#[test]
fn data_size_pools_and_net_buffer_pools() {
    let host = det();
    let (_, handle) = device(&host, Registry::new());
    let mut params = nbl_params(true, 16, 1514);
    let mut nb_params = NET_BUFFER_POOL_PARAMETERS {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_DEFAULT,
            Revision: NET_BUFFER_POOL_PARAMETERS_REVISION_1,
            Size: NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_1 as u16,
        },
        PoolTag: TAG as u32,
        DataSize: 0,
        Flags: 0,
    };
    let mut v = [0u64; 6];
    drive(&host, None, PASSIVE, || {
        let pool = kc("NdisAllocateNetBufferListPool", &[handle, p(&raw mut params)]);
        let nbl = kc("NdisAllocateNetBufferList", &[pool, 0, 0]);
        let nbpool = kc("NdisAllocateNetBufferPool", &[handle, p(&raw mut nb_params)]);
        let buf = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, 64, TAG]);
        let mdl = kc("NdisAllocateMdl", &[handle, buf, 64]);
        let nb = kc("NdisAllocateNetBuffer", &[nbpool, mdl, 4, 60]);
        v = [pool, nbl, nbpool, buf, mdl, nb];
        0
    })
    .unwrap();
    let [pool, nbl_addr, nbpool, buf, mdl, nb_addr] = v;
    let n: NET_BUFFER_LIST = read(nbl_addr);
    let nb: NET_BUFFER = read(n.FirstNetBuffer as u64);
    assert_eq!(nb.DataLength, 1514);
    let m: MDL = read(nb.MdlChain as u64);
    assert_eq!(m.ByteCount, 1514);
    assert_eq!(nbl::mdl_system_address(nb.MdlChain), Some(m.MappedSystemVa as u64));
    let ctx: NET_BUFFER_LIST_CONTEXT = read(n.Context as u64);
    assert_eq!((ctx.Size, ctx.Offset), (16, 16), "the pool's preallocated 16 bytes, none asked for");
    let own: NET_BUFFER = read(nb_addr);
    assert_eq!((own.MdlChain as u64, own.CurrentMdl as u64, own.CurrentMdlOffset), (mdl, mdl, 4));
    assert_eq!(own.NdisPoolHandle as u64, nbpool);
    assert_eq!(host.resources.count(Kind::NetBuffer), 1);
    drive(&host, None, PASSIVE, || {
        kc("NdisFreeNetBuffer", &[nb_addr]);
        kc("NdisFreeNetBufferPool", &[nbpool]);
        kc("NdisFreeMdl", &[mdl]);
        kc("ExFreePool", &[buf]);
        kc("NdisFreeNetBufferList", &[nbl_addr]);
        kc("NdisFreeNetBufferListPool", &[pool]);
        0
    })
    .unwrap();
    assert_clean(&host);
}

#[test]
fn nbl_misuse_fires_for_double_free_busy_pools_bad_parameters_and_foreign_memory() {
    let host = det();
    let (idx, handle) = device(&host, Registry::new());
    let mut good = nbl_params(true, 0, 0);
    let mut bad_header = nbl_params(true, 0, 0);
    bad_header.Header.Type = 0x99;
    let mut bad_context = nbl_params(true, 8, 0);
    let mut nulls = (1, 1, 1);
    let mut on_stack = [0u8; 32];
    let stack = p(on_stack.as_mut_ptr());
    drive(&host, Some(idx), PASSIVE, || {
        nulls.0 = kc("NdisAllocateNetBufferListPool", &[handle, p(&raw mut bad_header)]);
        nulls.1 = kc("NdisAllocateNetBufferListPool", &[handle, p(&raw mut bad_context)]);
        let pool = kc("NdisAllocateNetBufferListPool", &[handle, p(&raw mut good)]);
        let a = kc("NdisAllocateNetBufferAndNetBufferList", &[pool, 0, 0, 0, 0, 0]);
        let b = kc("NdisAllocateNetBufferAndNetBufferList", &[pool, 0, 0, 0, 0, 0]);
        kc("NdisFreeNetBufferList", &[a]);
        kc("NdisFreeNetBufferList", &[a]); // double free
        // SAFETY: reading the NBL the driver owns.
        let pre = unsafe { (*(b as *const NET_BUFFER_LIST)).FirstNetBuffer } as u64;
        kc("NdisFreeNetBuffer", &[pre]); // preallocated with the NBL
        kc("NdisFreeNetBufferListPool", &[pool]); // b still allocated
        kc("NdisFreeNetBufferListPool", &[pool]); // freed twice
        kc("NdisFreeNetBufferList", &[b]);
        let m = kc("NdisAllocateMdl", &[handle, stack, 32]); // not pool memory
        kc("NdisFreeMdl", &[m]);
        kc("NdisFreeMdl", &[m]); // double free
        nulls.2 = kc("NdisFreeNetBufferList", &[stack]); // not an NBL
        0
    })
    .unwrap();
    assert_eq!((nulls.0, nulls.1), (0, 0));
    let msgs: Vec<String> = fired(&host, Rule::NblMisuse).into_iter().map(|f| f.message).collect();
    let has = |s: &str| msgs.iter().filter(|m| m.contains(s)).count();
    assert_eq!(has("invalid parameters header"), 1, "{msgs:#?}");
    assert_eq!(has("multiple of MEMORY_ALLOCATION_ALIGNMENT"), 1, "{msgs:#?}");
    assert_eq!(has("already freed (double free)"), 2, "{msgs:#?}");
    assert_eq!(has("preallocated with NBL"), 1, "{msgs:#?}");
    assert_eq!(has("1 NBL(s) of the pool not freed"), 1, "{msgs:#?}");
    assert_eq!(has("the pool was freed"), 1, "{msgs:#?}");
    assert_eq!(has("accepts only non-paged pool memory"), 1, "{msgs:#?}");
    assert_eq!(has("not an NBL the driver allocated"), 1, "{msgs:#?}");
    assert_eq!(msgs.len(), 9, "{msgs:#?}");
    assert!(fired(&host, Rule::NblMisuse).iter().all(|f| f.adapter == Some(idx)));
}

#[test]
fn data_offsets_beyond_the_chain_are_reported() {
    let host = det();
    let (_, handle) = device(&host, Registry::new());
    let mut params = nbl_params(true, 0, 0);
    drive(&host, None, PASSIVE, || {
        let pool = kc("NdisAllocateNetBufferListPool", &[handle, p(&raw mut params)]);
        let buf = kc("ExAllocatePool2", &[POOL_FLAG_NON_PAGED, 64, TAG]);
        let mdl = kc("NdisAllocateMdl", &[handle, buf, 64]);
        let a = kc("NdisAllocateNetBufferAndNetBufferList", &[pool, 0, 0, mdl, 70, 0]); // offset past the end
        let b = kc("NdisAllocateNetBufferAndNetBufferList", &[pool, 0, 0, mdl, 10, 60]); // 70 > 64
        let c = kc("NdisAllocateNetBufferAndNetBufferList", &[pool, 0, 0, mdl, 64, 0]); // all backfill: fine
        for x in [a, b, c] {
            kc("NdisFreeNetBufferList", &[x]);
        }
        kc("NdisFreeMdl", &[mdl]);
        kc("ExFreePool", &[buf]);
        kc("NdisFreeNetBufferListPool", &[pool]);
        0
    })
    .unwrap();
    let msgs: Vec<String> = fired(&host, Rule::NblMisuse).into_iter().map(|f| f.message).collect();
    assert_eq!(msgs.len(), 2, "{msgs:#?}");
    assert!(msgs[0].contains("DataOffset 70 lies beyond"));
    assert!(msgs[1].contains("holds only 54 bytes"));
}

#[test]
fn mm_map_locked_pages_maps_unmapped_mdls_and_flags_remapping() {
    let host = det();
    let mut data = vec![7u8; 5000];
    let va = data.as_mut_ptr();
    let locked = nbl::alloc_mdl(va, 5000, 0).unwrap(); // locked pages, not mapped
    let pool_mdl = nbl::alloc_mdl(va, 100, MDL_SOURCE_IS_NONPAGED_POOL).unwrap();
    let mut r = [0u64; 3];
    drive(&host, None, DISPATCH, || {
        r[0] = kc("MmMapLockedPagesSpecifyCache", &[p(locked), 0, 1, 0, 0, 16]);
        r[1] = kc("MmMapLockedPagesSpecifyCache", &[p(locked), 0, 1, 0, 0, 16]); // mapped twice
        r[2] = kc("MmMapLockedPagesSpecifyCache", &[p(pool_mdl), 0, 1, 0, 0, 16]);
        0
    })
    .unwrap();
    assert_eq!(r, [va as u64; 3]);
    let m: MDL = read(p(locked));
    assert_ne!(m.MdlFlags & MDL_MAPPED_TO_SYSTEM_VA, 0);
    assert_eq!(m.MappedSystemVa as u64, va as u64);
    assert_eq!(fired(&host, Rule::NblMisuse).len(), 2);
    // SAFETY: both came from alloc_mdl.
    unsafe {
        nbl::free_mdl(locked);
        nbl::free_mdl(pool_mdl);
    }
}

#[test]
fn host_side_helpers_build_consistent_net_buffers() {
    let mut a = vec![1u8; 10];
    let mut b = vec![2u8; 20];
    let ma = nbl::alloc_mdl(a.as_mut_ptr(), 10, MDL_SOURCE_IS_NONPAGED_POOL).unwrap();
    let mb = nbl::alloc_mdl(b.as_mut_ptr(), 20, MDL_SOURCE_IS_NONPAGED_POOL).unwrap();
    // SAFETY: linking our own MDLs.
    unsafe { (*ma).Next = mb };
    assert_eq!(nbl::current_mdl(ma, 0), Some((ma, 0)));
    assert_eq!(nbl::current_mdl(ma, 9), Some((ma, 9)));
    assert_eq!(nbl::current_mdl(ma, 10), Some((mb, 0)), "an offset at an MDL's end starts the next one");
    assert_eq!(nbl::current_mdl(ma, 30), Some((mb, 20)), "all backfill");
    assert_eq!(nbl::current_mdl(ma, 31), None);
    assert_eq!(nbl::current_mdl(std::ptr::null_mut(), 0), Some((std::ptr::null_mut(), 0)));
    assert_eq!(nbl::chain_bytes(ma, 3, 100), 27);
    let nb = nbl::alloc_net_buffer();
    let list = nbl::alloc_net_buffer_list();
    // SAFETY: our own NET_BUFFER and NBL.
    unsafe {
        assert!(nbl::set_net_buffer_data(nb, ma, 12, 18));
        assert!(!nbl::set_net_buffer_data(nb, ma, 12, 19), "the chain holds only 18 bytes after offset 12");
        assert_eq!(((*nb).CurrentMdl, (*nb).CurrentMdlOffset, (*nb).DataLength, (*nb).DataOffset), (mb, 2, 18, 12));
        (*list).FirstNetBuffer = nb;
        assert_eq!((*list).NetBufferListInfo.len(), 27);
        nbl::free_net_buffer_list(list);
        nbl::free_net_buffer(nb);
        nbl::free_mdl(ma);
        nbl::free_mdl(mb);
    }
    // A 16 MiB buffer cannot be described by one MDL (its Size is a CSHORT).
    assert!(nbl::alloc_mdl(std::ptr::null_mut(), 16 << 20, 0).is_none());
}
