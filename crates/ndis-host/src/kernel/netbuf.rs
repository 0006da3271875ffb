//! NET_BUFFER_LIST and NET_BUFFER pools, MDLs, and data access for the driver:
//! `NdisAllocateNetBufferListPool`, `NdisFreeNetBufferListPool`,
//! `NdisAllocateNetBufferAndNetBufferList`, `NdisAllocateNetBufferList`,
//! `NdisFreeNetBufferList`, `NdisAllocateNetBufferPool`, `NdisFreeNetBufferPool`,
//! `NdisAllocateNetBuffer`, `NdisFreeNetBuffer`, `NdisAllocateMdl`, `NdisFreeMdl`,
//! `NdisGetDataBuffer`, `MmMapLockedPagesSpecifyCache`.
//!
//! Pools are opaque handles; their NBLs are real `NET_BUFFER_LIST`s in the `ndis-sys` layout,
//! each in one zeroed host block together with what the pool preallocates: the NET_BUFFER
//! (`fAllocateNetBuffer`), an MDL and data buffer (`DataSize`, with `DataOffset` 0 and
//! `DataLength` = `DataSize`), and the `NET_BUFFER_LIST_CONTEXT` (`Size` = the larger of the
//! pool's `ContextSize` and `ContextSize + ContextBackFill`, `Offset` = `Size - ContextSize`, so
//! `NET_BUFFER_LIST_CONTEXT_DATA_START` is the caller's `ContextSize` bytes).
//! `NdisPoolHandle` of the NBL and of its preallocated NET_BUFFER is the pool handle.
//! `CurrentMdl`/`CurrentMdlOffset` are computed from `DataOffset` by walking the MDL chain
//! ([`super::nbl::current_mdl`]). Unlike Windows, NBLs are not recycled inside the pool: a
//! freed NBL is poisoned (`0xDD`) and quarantined, so a use after free faults and a second free
//! is recognised.
//!
//! `NdisAllocateMdl` builds an MDL like `IoAllocateMdl` + `MmBuildMdlForNonPagedPool`
//! (`MDL_ALLOCATED_FIXED_SIZE | MDL_SOURCE_IS_NONPAGED_POOL`, `MappedSystemVa` = the buffer);
//! with per-call checks on, a buffer that is not inside a live pool block is a finding (the
//! page requires non-paged pool memory, not the stack or driver globals).
//! `MmMapLockedPagesSpecifyCache` maps by identity (`StartVa + ByteOffset`) and marks the MDL
//! mapped; mapping an MDL that is already mapped or built for non-paged pool is a finding, as
//! the page forbids it. User-mode mappings are not simulated (NULL).
//!
//! `Nbl.Misuse` findings: invalid pool parameters, freeing twice or freeing something that is
//! not from an NDIS pool, freeing a pool with outstanding NBLs or NET_BUFFERs, freeing an NBL's
//! preallocated NET_BUFFER separately, data offsets and lengths the MDL chain cannot hold.

use super::dmem::{self, HostBlock, Quarantine};
use super::nbl;
use super::resources::{Kind, Owner, Record};
use crate::abi::{self, ImportCall};
use crate::crash::{Access, CrashKind};
use crate::host::{HostInner, thread};
use crate::verifier::Rule;
use ndis_sys::{
    MDL, MDL_ALLOCATED_FIXED_SIZE, MDL_MAPPED_TO_SYSTEM_VA, MDL_SOURCE_IS_NONPAGED_POOL, NDIS_OBJECT_HEADER,
    NDIS_OBJECT_TYPE_DEFAULT, NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
    NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_2, NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_1,
    NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_2, NET_BUFFER, NET_BUFFER_LIST, NET_BUFFER_LIST_CONTEXT,
    NET_BUFFER_LIST_POOL_PARAMETERS, NET_BUFFER_POOL_PARAMETERS, UserMode,
};
use std::collections::{HashMap, HashSet};
use std::mem::size_of;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// `MEMORY_ALLOCATION_ALIGNMENT` on x64.
const ALLOCATION_ALIGNMENT: u16 = 16;

#[derive(Debug, Clone, Copy)]
struct NblPool {
    owner: Owner,
    adapter: Option<usize>,
    alloc_nb: bool,
    context_size: u16,
    data_size: u32,
    live: usize,
}

#[derive(Debug, Clone, Copy)]
struct NbPool {
    owner: Owner,
    adapter: Option<usize>,
    data_size: u32,
    live: usize,
}

#[derive(Debug)]
struct Allocation {
    pool: u64,
    block: HostBlock,
    nb: u64,
}

#[derive(Debug)]
struct Net {
    nbl_pools: HashMap<u64, NblPool>,
    nb_pools: HashMap<u64, NbPool>,
    freed_pools: HashSet<u64>,
    nbls: HashMap<u64, Allocation>,
    prealloc_nbs: HashMap<u64, u64>,
    nbs: HashMap<u64, Allocation>,
    mdls: HashMap<u64, HostBlock>,
    quarantine: Quarantine,
}

/// The NBL/NB/MDL tables.
#[derive(Debug)]
pub(crate) struct NetBuffers {
    st: Mutex<Net>,
}

impl Default for NetBuffers {
    fn default() -> Self {
        Self {
            st: Mutex::new(Net {
                nbl_pools: HashMap::new(),
                nb_pools: HashMap::new(),
                freed_pools: HashSet::new(),
                nbls: HashMap::new(),
                prealloc_nbs: HashMap::new(),
                nbs: HashMap::new(),
                mdls: HashMap::new(),
                quarantine: Quarantine::new(4096, 32 << 20),
            }),
        }
    }
}

impl NetBuffers {
    fn lock(&self) -> MutexGuard<'_, Net> {
        self.st.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// True if `nbl` is a live NBL allocated by the driver from an NDIS pool.
    pub(crate) fn is_driver_nbl(&self, nbl: u64) -> bool {
        self.lock().nbls.contains_key(&nbl)
    }
}

fn round16(n: usize) -> usize {
    n.div_ceil(16) * 16
}

#[allow(clippy::needless_pass_by_value)] // every caller formats a fresh String
fn finding(host: &HostInner, adapter: Option<usize>, call: &ImportCall, text: String) {
    host.finding(Rule::NblMisuse, adapter, format!("{text} (from {})", host.describe(call.return_address())));
}

fn bad_pool(host: &HostInner, call: &ImportCall, api: &str, key: u64, freed: bool) {
    if freed {
        finding(host, thread::adapter(), call, format!("{api}({key:#x}): the pool was freed"));
    } else {
        host.finding(
            Rule::InvalidHandle,
            thread::adapter(),
            format!("{api}({key:#x}) from {}: not a pool handle NDIS returned", host.describe(call.return_address())),
        );
    }
}

fn register(host: &HostInner, call: &ImportCall, kind: Kind, key: u64, owner: Owner, detail: String) {
    host.resources.register(Record { kind, key, owner, site: host.describe(call.return_address()), detail });
    host.kernel.count_allocation();
}

/// Reads and checks a versioned pool-parameters header; `None` after reporting.
fn pool_header(host: &HostInner, call: &ImportCall, api: &str, addr: u64, rev1: usize, rev2: usize) -> Option<usize> {
    let h: NDIS_OBJECT_HEADER = dmem::read_or_crash(addr);
    let need = match h.Revision {
        1 => Some(rev1),
        r if r >= 2 => Some(rev2),
        _ => None,
    };
    match need {
        Some(n) if h.Type == NDIS_OBJECT_TYPE_DEFAULT && usize::from(h.Size) >= n => Some(usize::from(h.Size)),
        _ => {
            finding(
                host,
                thread::adapter(),
                call,
                format!(
                    "{api}: invalid parameters header {:#x}/{}/{} (need NDIS_OBJECT_TYPE_DEFAULT, revision 1 with size >= {rev1} or 2 with size >= {rev2})",
                    h.Type, h.Revision, h.Size
                ),
            );
            None
        }
    }
}

/// `NdisAllocateNetBufferListPool(NdisHandle, Parameters)`.
pub(crate) fn ndis_allocate_net_buffer_list_pool(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (handle, params) = (call.arg(0), call.arg(1));
    let api = "NdisAllocateNetBufferListPool";
    let Some(size) = pool_header(
        host,
        call,
        api,
        params,
        NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
        NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_2,
    ) else {
        return 0;
    };
    let p: NET_BUFFER_LIST_POOL_PARAMETERS = dmem::read_prefix(params, size)
        .unwrap_or_else(|| abi::abandon(CrashKind::AccessViolation { address: params, access: Access::Read }));
    let adapter = super::adapter_of(host, handle);
    if !p.ContextSize.is_multiple_of(ALLOCATION_ALIGNMENT) || (p.DataSize != 0 && p.fAllocateNetBuffer == 0) {
        finding(
            host,
            adapter,
            call,
            format!(
                "{api}: ContextSize {} must be a multiple of MEMORY_ALLOCATION_ALIGNMENT, and DataSize {} needs fAllocateNetBuffer (is {})",
                p.ContextSize, p.DataSize, p.fAllocateNetBuffer
            ),
        );
        return 0;
    }
    if host.faults.should_fail(host, call, api) {
        return 0;
    }
    let key = host.handles.next();
    let owner = super::owner_for(host, Some(handle));
    host.kernel.net.lock().nbl_pools.insert(
        key,
        NblPool {
            owner,
            adapter,
            alloc_nb: p.fAllocateNetBuffer != 0,
            context_size: p.ContextSize,
            data_size: p.DataSize,
            live: 0,
        },
    );
    register(
        host,
        call,
        Kind::NblPool,
        key,
        owner,
        format!(
            "tag {}, fAllocateNetBuffer {}, DataSize {}",
            dmem::tag_text(p.PoolTag),
            p.fAllocateNetBuffer,
            p.DataSize
        ),
    );
    key
}

/// `NdisFreeNetBufferListPool(PoolHandle)`.
pub(crate) fn ndis_free_net_buffer_list_pool(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let key = call.arg(0);
    let removed = {
        let mut n = host.kernel.net.lock();
        let p = n.nbl_pools.remove(&key);
        let freed = n.freed_pools.contains(&key);
        if p.is_some() {
            n.freed_pools.insert(key);
        }
        (p, freed)
    };
    match removed {
        (Some(p), _) => {
            host.resources.unregister(Kind::NblPool, key);
            if p.live > 0 {
                finding(
                    host,
                    p.adapter,
                    call,
                    format!("NdisFreeNetBufferListPool({key:#x}) with {} NBL(s) of the pool not freed", p.live),
                );
            }
        }
        (None, freed) => bad_pool(host, call, "NdisFreeNetBufferListPool", key, freed),
    }
    0
}

/// Offsets inside one NBL allocation.
struct NblLayout {
    nb: Option<usize>,
    mdl: Option<usize>,
    data: Option<usize>,
    context: Option<(usize, u16, u16)>,
    total: usize,
}

fn nbl_layout(alloc_nb: bool, data_size: u32, context: Option<(u16, u16)>) -> Option<NblLayout> {
    let mut at = round16(size_of::<NET_BUFFER_LIST>());
    let nb = alloc_nb.then(|| {
        let o = at;
        at += round16(size_of::<NET_BUFFER>());
        o
    });
    let (mdl, data) = if alloc_nb && data_size != 0 {
        let pages = u64::from(data_size).div_ceil(4096) + 1;
        let mdl_bytes = size_of::<MDL>() + 8 * usize::try_from(pages).ok()?;
        let m = at;
        at += round16(mdl_bytes);
        let d = at;
        at = at.checked_add(round16(usize::try_from(data_size).ok()?))?;
        (Some(m), Some(d))
    } else {
        (None, None)
    };
    let context = context.map(|(size, offset)| {
        let o = at;
        at += round16(size_of::<NET_BUFFER_LIST_CONTEXT>() + usize::from(size));
        (o, size, offset)
    });
    Some(NblLayout { nb, mdl, data, context, total: at })
}

/// Allocates an NBL from `pool_key` with what the pool preallocates; `data` sets the
/// preallocated NET_BUFFER's MDL chain, offset and length. Returns the NBL address or 0.
#[allow(clippy::too_many_lines)] // one allocation, laid out and filled in order
fn allocate_nbl(
    host: &Arc<HostInner>,
    call: &ImportCall,
    api: &'static str,
    pool_key: u64,
    context: (u16, u16),
    data: Option<(u64, u32, u64)>,
) -> u64 {
    let pool = {
        let n = host.kernel.net.lock();
        n.nbl_pools.get(&pool_key).copied().ok_or_else(|| n.freed_pools.contains(&pool_key))
    };
    let pool = match pool {
        Ok(p) => p,
        Err(freed) => {
            bad_pool(host, call, api, pool_key, freed);
            return 0;
        }
    };
    let (ctx_size, backfill) = context;
    if !ctx_size.is_multiple_of(ALLOCATION_ALIGNMENT) || !backfill.is_multiple_of(ALLOCATION_ALIGNMENT) {
        finding(
            host,
            pool.adapter,
            call,
            format!(
                "{api}: ContextSize {ctx_size} and ContextBackFill {backfill} must be multiples of MEMORY_ALLOCATION_ALIGNMENT"
            ),
        );
    }
    if let Some((chain, offset, length)) = data {
        if !pool.alloc_nb || pool.data_size != 0 {
            finding(
                host,
                pool.adapter,
                call,
                format!("{api}: the pool must have fAllocateNetBuffer TRUE and DataSize 0"),
            );
            return 0;
        }
        if chain == 0 && (offset != 0 || length != 0) {
            finding(
                host,
                pool.adapter,
                call,
                format!("{api}: no MdlChain but DataOffset {offset}, DataLength {length}"),
            );
        }
    }
    if host.faults.should_fail(host, call, api) {
        return 0;
    }
    let wanted = u32::from(ctx_size) + u32::from(backfill);
    let ctx_total = u16::try_from(wanted.max(u32::from(pool.context_size))).unwrap_or(u16::MAX);
    let context = (ctx_total != 0).then(|| (ctx_total, ctx_total.saturating_sub(ctx_size)));
    let Some(layout) = nbl_layout(pool.alloc_nb, pool.data_size, context) else { return 0 };
    let Some(block) = HostBlock::zeroed(layout.total, 16) else { return 0 };
    let nbl = block.at::<NET_BUFFER_LIST>(0);
    let pool_ptr = crate::abi::usize_of(pool_key) as *mut std::ffi::c_void;
    // SAFETY: `nbl_layout` places every part inside the zeroed block, 16-byte aligned; the
    // block is ours until it is handed to the driver below.
    unsafe {
        (*nbl).NdisPoolHandle = pool_ptr;
        if let Some(o) = layout.nb {
            let nb = block.at::<NET_BUFFER>(o);
            (*nb).NdisPoolHandle = pool_ptr;
            (*nbl).FirstNetBuffer = nb;
            if let (Some(m), Some(d)) = (layout.mdl, layout.data) {
                let mdl = block.at::<MDL>(m);
                nbl::init_mdl(
                    mdl,
                    block.addr() + d as u64,
                    pool.data_size,
                    MDL_ALLOCATED_FIXED_SIZE | MDL_SOURCE_IS_NONPAGED_POOL,
                );
                (*nb).MdlChain = mdl;
                (*nb).CurrentMdl = mdl;
                (*nb).DataLength = pool.data_size;
            }
        }
        if let Some((o, size, offset)) = layout.context {
            let ctx = block.at::<NET_BUFFER_LIST_CONTEXT>(o);
            (*ctx).Size = size;
            (*ctx).Offset = offset;
            (*nbl).Context = ctx;
        }
    }
    let nb_addr = layout.nb.map_or(0, |o| block.addr() + o as u64);
    if let Some((chain, offset, length)) = data {
        let (cur, cur_off) = nbl::current_mdl(abi::usize_of(chain) as *mut MDL, offset).unwrap_or_else(|| {
            if host.verifier.per_call() {
                finding(
                    host,
                    pool.adapter,
                    call,
                    format!("{api}: DataOffset {offset} lies beyond the MDL chain {chain:#x}"),
                );
            }
            (abi::usize_of(chain) as *mut MDL, offset)
        });
        if host.verifier.per_call() && chain != 0 {
            let have = nbl::chain_bytes(cur, cur_off, length);
            if have < length {
                finding(
                    host,
                    pool.adapter,
                    call,
                    format!(
                        "{api}: DataLength {length} but the MDL chain holds only {have} bytes after DataOffset {offset}"
                    ),
                );
            }
        }
        let nb = abi::usize_of(nb_addr) as *mut NET_BUFFER;
        // SAFETY: the preallocated NET_BUFFER is inside our block (checked: the pool
        // preallocates one, so `layout.nb` is set).
        unsafe {
            (*nb).MdlChain = abi::usize_of(chain) as *mut MDL;
            (*nb).CurrentMdl = cur;
            (*nb).CurrentMdlOffset = cur_off;
            (*nb).DataOffset = offset;
            #[allow(clippy::cast_possible_truncation)] // the two halves of the SIZE_T union
            {
                (*nb).DataLength = length as u32;
                (*nb).DataLengthHigh = (length >> 32) as u32;
            }
        }
    }
    let addr = block.addr();
    {
        let mut n = host.kernel.net.lock();
        if let Some(p) = n.nbl_pools.get_mut(&pool_key) {
            p.live += 1;
        }
        if nb_addr != 0 {
            n.prealloc_nbs.insert(nb_addr, addr);
        }
        n.nbls.insert(addr, Allocation { pool: pool_key, block, nb: nb_addr });
    }
    register(host, call, Kind::Nbl, addr, pool.owner, format!("from pool {pool_key:#x}"));
    addr
}

/// `NdisAllocateNetBufferAndNetBufferList(PoolHandle, ContextSize, ContextBackFill, MdlChain,
/// DataOffset, DataLength)`.
pub(crate) fn ndis_allocate_net_buffer_and_net_buffer_list(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    #[allow(clippy::cast_possible_truncation)] // USHORT parameters
    let context = (call.arg(1) as u16, call.arg(2) as u16);
    let data = (call.arg(3), call.arg_u32(4), call.arg(5));
    allocate_nbl(host, call, "NdisAllocateNetBufferAndNetBufferList", call.arg(0), context, Some(data))
}

/// `NdisAllocateNetBufferList(PoolHandle, ContextSize, ContextBackFill)`.
pub(crate) fn ndis_allocate_net_buffer_list(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    #[allow(clippy::cast_possible_truncation)] // USHORT parameters
    let context = (call.arg(1) as u16, call.arg(2) as u16);
    allocate_nbl(host, call, "NdisAllocateNetBufferList", call.arg(0), context, None)
}

/// `NdisFreeNetBufferList(NetBufferList)`.
pub(crate) fn ndis_free_net_buffer_list(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let addr = call.arg(0);
    let outcome = {
        let mut n = host.kernel.net.lock();
        match n.nbls.remove(&addr) {
            Some(a) => {
                let adapter = n.nbl_pools.get_mut(&a.pool).map(|p| {
                    p.live = p.live.saturating_sub(1);
                    p.adapter
                });
                n.prealloc_nbs.remove(&a.nb);
                n.quarantine.push(a.block);
                Ok(adapter.flatten())
            }
            None => Err(n.quarantine.contains(addr)),
        }
    };
    match outcome {
        Ok(_) => {
            host.resources.unregister(Kind::Nbl, addr);
        }
        Err(double) => {
            let what = if double {
                "the NBL was already freed (double free)"
            } else {
                "not an NBL the driver allocated from an NDIS pool"
            };
            finding(host, thread::adapter(), call, format!("NdisFreeNetBufferList({addr:#x}): {what}"));
        }
    }
    0
}

/// `NdisAllocateNetBufferPool(NdisHandle, Parameters)`.
pub(crate) fn ndis_allocate_net_buffer_pool(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (handle, params) = (call.arg(0), call.arg(1));
    let api = "NdisAllocateNetBufferPool";
    let Some(size) = pool_header(
        host,
        call,
        api,
        params,
        NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_1,
        NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_2,
    ) else {
        return 0;
    };
    let p: NET_BUFFER_POOL_PARAMETERS = dmem::read_prefix(params, size)
        .unwrap_or_else(|| abi::abandon(CrashKind::AccessViolation { address: params, access: Access::Read }));
    if host.faults.should_fail(host, call, api) {
        return 0;
    }
    let key = host.handles.next();
    let owner = super::owner_for(host, Some(handle));
    let adapter = super::adapter_of(host, handle);
    host.kernel.net.lock().nb_pools.insert(key, NbPool { owner, adapter, data_size: p.DataSize, live: 0 });
    register(
        host,
        call,
        Kind::NbPool,
        key,
        owner,
        format!("tag {}, DataSize {}", dmem::tag_text(p.PoolTag), p.DataSize),
    );
    key
}

/// `NdisFreeNetBufferPool(PoolHandle)`.
pub(crate) fn ndis_free_net_buffer_pool(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let key = call.arg(0);
    let removed = {
        let mut n = host.kernel.net.lock();
        let p = n.nb_pools.remove(&key);
        let freed = n.freed_pools.contains(&key);
        if p.is_some() {
            n.freed_pools.insert(key);
        }
        (p, freed)
    };
    match removed {
        (Some(p), _) => {
            host.resources.unregister(Kind::NbPool, key);
            if p.live > 0 {
                finding(
                    host,
                    p.adapter,
                    call,
                    format!("NdisFreeNetBufferPool({key:#x}) with {} NET_BUFFER(s) of the pool not freed", p.live),
                );
            }
        }
        (None, freed) => bad_pool(host, call, "NdisFreeNetBufferPool", key, freed),
    }
    0
}

/// `NdisAllocateNetBuffer(PoolHandle, MdlChain, DataOffset, DataLength)`.
pub(crate) fn ndis_allocate_net_buffer(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let api = "NdisAllocateNetBuffer";
    let (pool_key, chain, offset, length) = (call.arg(0), call.arg(1), call.arg_u32(2), call.arg(3));
    let pool = {
        let n = host.kernel.net.lock();
        n.nb_pools.get(&pool_key).copied().ok_or_else(|| n.freed_pools.contains(&pool_key))
    };
    let pool = match pool {
        Ok(p) => p,
        Err(freed) => {
            bad_pool(host, call, api, pool_key, freed);
            return 0;
        }
    };
    if pool.data_size != 0 {
        finding(
            host,
            pool.adapter,
            call,
            format!(
                "{api}: the pool has DataSize {}; its NET_BUFFERs come from NdisAllocateNetBufferMdlAndData",
                pool.data_size
            ),
        );
        return 0;
    }
    let (cur, cur_off) = nbl::current_mdl(abi::usize_of(chain) as *mut MDL, offset).unwrap_or_else(|| {
        if host.verifier.per_call() {
            finding(
                host,
                pool.adapter,
                call,
                format!("{api}: DataOffset {offset} lies beyond the MDL chain {chain:#x}"),
            );
        }
        (abi::usize_of(chain) as *mut MDL, offset)
    });
    if host.faults.should_fail(host, call, api) {
        return 0;
    }
    let Some(block) = HostBlock::zeroed(size_of::<NET_BUFFER>(), 16) else { return 0 };
    let nb = block.at::<NET_BUFFER>(0);
    // SAFETY: the block is a zeroed, 16-aligned NET_BUFFER we own.
    unsafe {
        (*nb).NdisPoolHandle = abi::usize_of(pool_key) as *mut _;
        (*nb).MdlChain = abi::usize_of(chain) as *mut MDL;
        (*nb).CurrentMdl = cur;
        (*nb).CurrentMdlOffset = cur_off;
        (*nb).DataOffset = offset;
        #[allow(clippy::cast_possible_truncation)] // the two halves of the SIZE_T union
        {
            (*nb).DataLength = length as u32;
            (*nb).DataLengthHigh = (length >> 32) as u32;
        }
    }
    let addr = block.addr();
    {
        let mut n = host.kernel.net.lock();
        if let Some(p) = n.nb_pools.get_mut(&pool_key) {
            p.live += 1;
        }
        n.nbs.insert(addr, Allocation { pool: pool_key, block, nb: 0 });
    }
    register(host, call, Kind::NetBuffer, addr, pool.owner, format!("from pool {pool_key:#x}"));
    addr
}

/// `NdisFreeNetBuffer(NetBuffer)`.
pub(crate) fn ndis_free_net_buffer(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let addr = call.arg(0);
    let outcome = {
        let mut n = host.kernel.net.lock();
        match n.nbs.remove(&addr) {
            Some(a) => {
                if let Some(p) = n.nb_pools.get_mut(&a.pool) {
                    p.live = p.live.saturating_sub(1);
                }
                n.quarantine.push(a.block);
                Ok(())
            }
            None => Err((n.prealloc_nbs.get(&addr).copied(), n.quarantine.contains(addr))),
        }
    };
    match outcome {
        Ok(()) => {
            host.resources.unregister(Kind::NetBuffer, addr);
        }
        Err((Some(nbl), _)) => finding(
            host,
            thread::adapter(),
            call,
            format!(
                "NdisFreeNetBuffer({addr:#x}): this NET_BUFFER was preallocated with NBL {nbl:#x} and is freed with it"
            ),
        ),
        Err((None, double)) => {
            let what =
                if double { "already freed (double free)" } else { "not a NET_BUFFER from NdisAllocateNetBuffer" };
            finding(host, thread::adapter(), call, format!("NdisFreeNetBuffer({addr:#x}): {what}"));
        }
    }
    0
}

/// `NdisAllocateMdl(NdisHandle, VirtualAddress, Length)`.
pub(crate) fn ndis_allocate_mdl(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (handle, va, len) = (call.arg(0), call.arg(1), call.arg_u32(2));
    if host.verifier.per_call() && host.kernel.pool.containing(va, u64::from(len)).is_none() {
        let why = if host.kernel.pool.recently_freed(va) { "freed pool memory" } else { "not a live pool block" };
        finding(
            host,
            super::adapter_of(host, handle),
            call,
            format!(
                "NdisAllocateMdl({va:#x}, {len}): the buffer is {why}; NdisAllocateMdl accepts only non-paged pool memory"
            ),
        );
    }
    let Some(size) = nbl::mdl_size(va, len) else { return 0 };
    if host.faults.should_fail(host, call, "NdisAllocateMdl") {
        return 0;
    }
    let Some(block) = HostBlock::zeroed(size, 16) else { return 0 };
    // SAFETY: the block has `mdl_size(va, len)` bytes, 16-aligned.
    unsafe { nbl::init_mdl(block.at(0), va, len, MDL_ALLOCATED_FIXED_SIZE | MDL_SOURCE_IS_NONPAGED_POOL) };
    let addr = block.addr();
    host.kernel.net.lock().mdls.insert(addr, block);
    register(host, call, Kind::Mdl, addr, super::owner_for(host, Some(handle)), format!("{len} bytes at {va:#x}"));
    addr
}

/// `NdisFreeMdl(Mdl)`.
pub(crate) fn ndis_free_mdl(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let addr = call.arg(0);
    let outcome = {
        let mut n = host.kernel.net.lock();
        match n.mdls.remove(&addr) {
            Some(block) => {
                n.quarantine.push(block);
                Ok(())
            }
            None => Err(n.quarantine.contains(addr)),
        }
    };
    match outcome {
        Ok(()) => {
            host.resources.unregister(Kind::Mdl, addr);
        }
        Err(double) => {
            let what = if double { "already freed (double free)" } else { "not an MDL from NdisAllocateMdl" };
            finding(host, thread::adapter(), call, format!("NdisFreeMdl({addr:#x}): {what}"));
        }
    }
    0
}

/// `NdisGetDataBuffer(NetBuffer, BytesNeeded, Storage, AlignMultiple, AlignOffset)`.
pub(crate) fn ndis_get_data_buffer(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (nb_addr, needed, storage, align, align_offset) =
        (call.arg(0), call.arg_u32(1), call.arg(2), u64::from(call.arg_u32(3)), u64::from(call.arg_u32(4)));
    let nb: NET_BUFFER = dmem::read_or_crash(nb_addr);
    if nb.DataLength < needed {
        return 0;
    }
    let mut mdl = nb.CurrentMdl;
    let mut offset = u64::from(nb.CurrentMdlOffset);
    // Skip exhausted MDLs to the one holding the first byte.
    let mut first: Option<(u64, u64)> = None;
    for _ in 0..nbl::MAX_MDL_CHAIN {
        if mdl.is_null() {
            break;
        }
        let m: MDL = dmem::read_or_crash(mdl as u64);
        if offset < u64::from(m.ByteCount) || needed == 0 {
            let va = nbl::mdl_system_address(mdl).unwrap_or(0);
            first = Some((va.wrapping_add(offset), u64::from(m.ByteCount).saturating_sub(offset)));
            break;
        }
        offset -= u64::from(m.ByteCount);
        mdl = m.Next;
    }
    let Some((va, contiguous)) = first else {
        if host.verifier.per_call() && needed != 0 {
            finding(
                host,
                thread::adapter(),
                call,
                format!("NdisGetDataBuffer({nb_addr:#x}): the MDL chain ends before the data"),
            );
        }
        return 0;
    };
    let aligned = align <= 1 || va.wrapping_sub(align_offset) % align == 0;
    if contiguous >= u64::from(needed) && aligned {
        return va;
    }
    if storage == 0 {
        return 0;
    }
    // Gather into a host buffer, then copy to Storage.
    let mut buf = vec![0u8; needed as usize];
    let mut done = 0usize;
    let mut cur = mdl;
    let mut off = offset;
    for _ in 0..nbl::MAX_MDL_CHAIN {
        if done == buf.len() || cur.is_null() {
            break;
        }
        let m: MDL = dmem::read_or_crash(cur as u64);
        let avail = usize::try_from(u64::from(m.ByteCount).saturating_sub(off)).unwrap_or(0);
        let take = avail.min(buf.len() - done);
        if take > 0 {
            let src = nbl::mdl_system_address(cur).unwrap_or(0).wrapping_add(off);
            if !abi::mem::read(src, &mut buf[done..done + take]) {
                abi::abandon(CrashKind::AccessViolation { address: src, access: Access::Read });
            }
            done += take;
        }
        off = 0;
        cur = m.Next;
    }
    if done < buf.len() {
        if host.verifier.per_call() {
            finding(
                host,
                thread::adapter(),
                call,
                format!(
                    "NdisGetDataBuffer({nb_addr:#x}): DataLength {} but the MDL chain holds only {done} bytes",
                    nb.DataLength
                ),
            );
        }
        return 0;
    }
    dmem::write_or_crash(storage, &buf);
    storage
}

/// `MmMapLockedPagesSpecifyCache(Mdl, AccessMode, CacheType, RequestedAddress,
/// BugCheckOnFailure, Priority)`.
pub(crate) fn mm_map_locked_pages_specify_cache(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (mdl, bugcheck) = (call.arg(0), call.arg_u32(4));
    #[allow(clippy::cast_possible_truncation)] // KPROCESSOR_MODE is a CCHAR
    let mode = call.arg(1) as i8;
    let m: MDL = dmem::read_or_crash(mdl);
    if mode == UserMode {
        if thread::irql() > thread::APC && host.verifier.enabled() {
            host.finding(
                Rule::CallIrql,
                thread::adapter(),
                format!("MmMapLockedPagesSpecifyCache(UserMode) at IRQL {}; needs IRQL <= APC_LEVEL", thread::irql()),
            );
        }
        return 0;
    }
    if m.MdlFlags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL) != 0 {
        if host.verifier.per_call() {
            finding(
                host,
                thread::adapter(),
                call,
                format!(
                    "MmMapLockedPagesSpecifyCache({mdl:#x}): the MDL is already mapped (flags {:#x}); use MmGetSystemAddressForMdlSafe",
                    m.MdlFlags
                ),
            );
        }
        return m.MappedSystemVa as u64;
    }
    if host.faults.should_fail(host, call, "MmMapLockedPagesSpecifyCache") {
        if bugcheck != 0 {
            // NO_MORE_SYSTEM_PTES.
            abi::abandon(CrashKind::BugCheck { code: 0x3F, params: [0, 0, 0, 0] });
        }
        return 0;
    }
    let va = (m.StartVa as u64).wrapping_add(u64::from(m.ByteOffset));
    dmem::write_u64_or_crash(mdl + 24, va);
    dmem::write_or_crash(mdl + 10, &(m.MdlFlags | MDL_MAPPED_TO_SYSTEM_VA).to_le_bytes());
    va
}
