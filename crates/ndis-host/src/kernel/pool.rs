//! Pool memory: `ExAllocatePool2`, `ExFreePoolWithTag`, `ExFreePool`,
//! `NdisAllocateMemoryWithTagPriority` and `NdisFreeMemory`.
//!
//! Blocks are host heap allocations registered in a table by address (so interior pointers,
//! double frees and frees of foreign memory are recognised). Like the x64 pool, a block of
//! `PAGE_SIZE` bytes or more is page aligned, and a smaller one is 16-byte aligned and never
//! crosses a page (the host aligns it to the next power of two of its size, which implies
//! both). Differences from Windows, all in the direction of catching more:
//!
//! * **Red zone.** [`REDZONE`] guard bytes follow every block; they are checked when the block
//!   is freed (and by [`super::Kernel::check_pool`]) and a modified guard is a `Pool.Misuse`
//!   finding ("written past its end"), like Driver Verifier's special pool would catch.
//! * **Fill patterns.** `ExAllocatePool2` zeroes unless `POOL_FLAG_UNINITIALIZED`, as
//!   documented; uninitialised blocks and `NdisAllocateMemoryWithTagPriority` blocks (which
//!   NDIS does not zero) are filled with `0xA5`, so code that relies on zeroed memory it was
//!   not promised misbehaves visibly.
//! * **Quarantine.** Freed blocks are filled with `0xDD` and kept for a while before their
//!   memory is reused, so a use after free reads garbage pointers and faults, and a second
//!   free is recognised as such.
//! * Families are not mixed: memory from `ExAllocatePool2` is freed with `ExFreePool*`, memory
//!   from `NdisAllocateMemoryWithTagPriority` with `NdisFreeMemory` (each routine's page names
//!   its allocator); Windows would accept the mix silently.
//! * Paged and non-paged pool are the same memory here; only the IRQL rule for
//!   `POOL_FLAG_PAGED` (at most APC_LEVEL) is checked.

use super::dmem::{HostBlock, Quarantine, tag_text};
use super::resources::{Kind, Record};
use crate::abi::{self, ImportCall};
use crate::crash::CrashKind;
use crate::host::{HostInner, thread};
use crate::verifier::Rule;
use ndis_sys::{
    POOL_FLAG_CACHE_ALIGNED, POOL_FLAG_NON_PAGED, POOL_FLAG_NON_PAGED_EXECUTE, POOL_FLAG_PAGED,
    POOL_FLAG_RAISE_ON_FAILURE, POOL_FLAG_UNINITIALIZED,
};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Guard bytes after every pool block.
pub const REDZONE: usize = 16;
/// The guard bytes' value.
pub const REDZONE_FILL: u8 = 0xFD;
/// The fill of pool memory that is not promised to be zeroed.
pub const UNINIT_FILL: u8 = 0xA5;
const PAGE_SIZE: usize = 4096;
/// Blocks this large or larger are returned to the system when they leave the quarantine
/// (glibc's mmap threshold), which invalidates cached "this address is mapped" knowledge.
const LARGE_BLOCK: usize = 128 * 1024;

/// Which allocator a block came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Api {
    /// `ExAllocatePool2`.
    Ex,
    /// `NdisAllocateMemoryWithTagPriority`.
    Ndis,
}

impl Api {
    fn allocator(self) -> &'static str {
        match self {
            Api::Ex => "ExAllocatePool2",
            Api::Ndis => "NdisAllocateMemoryWithTagPriority",
        }
    }
}

#[derive(Debug)]
struct Block {
    mem: HostBlock,
    size: usize,
    tag: u32,
    api: Api,
}

impl Block {
    /// Offset of the first modified guard byte, if any.
    fn overrun(&self) -> Option<usize> {
        // SAFETY: the allocation is `size + REDZONE` bytes (see `allocate`), owned by the block.
        let guard = unsafe { std::slice::from_raw_parts(self.mem.ptr().add(self.size), REDZONE) };
        guard.iter().position(|&b| b != REDZONE_FILL)
    }
}

/// The pool.
#[derive(Debug)]
pub(crate) struct Pool {
    state: Mutex<State>,
    /// Bumped whenever memory of a large block may be unmapped.
    pub(crate) generation: AtomicU64,
}

#[derive(Debug)]
struct State {
    blocks: BTreeMap<u64, Block>,
    quarantine: Quarantine,
}

impl Default for Pool {
    fn default() -> Self {
        Self {
            state: Mutex::new(State { blocks: BTreeMap::new(), quarantine: Quarantine::new(512, 16 << 20) }),
            generation: AtomicU64::new(1),
        }
    }
}

/// Why a free was refused.
enum FreeError {
    Null,
    Double,
    Interior { base: u64, size: usize },
    Foreign,
}

struct Freed {
    size: usize,
    tag: u32,
    api: Api,
    overrun: Option<usize>,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn allocate(&self, size: usize, align_at_least: usize, zero: bool, tag: u32, api: Api) -> Option<u64> {
        let natural = if size >= PAGE_SIZE { PAGE_SIZE } else { size.max(1).next_power_of_two().clamp(16, PAGE_SIZE) };
        let align = natural.max(align_at_least);
        let mem = HostBlock::zeroed(size.checked_add(REDZONE)?, align)?;
        if !zero {
            // SAFETY: the first `size` bytes belong to the fresh block.
            unsafe { std::ptr::write_bytes(mem.ptr(), UNINIT_FILL, size) };
        }
        // SAFETY: the guard is the last REDZONE bytes of the block.
        unsafe { std::ptr::write_bytes(mem.ptr().add(size), REDZONE_FILL, REDZONE) };
        let addr = mem.addr();
        self.lock().blocks.insert(addr, Block { mem, size, tag, api });
        Some(addr)
    }

    fn free(&self, addr: u64) -> Result<Freed, FreeError> {
        if addr == 0 {
            return Err(FreeError::Null);
        }
        let mut s = self.lock();
        let Some(block) = s.blocks.remove(&addr) else {
            if s.quarantine.contains(addr) {
                return Err(FreeError::Double);
            }
            if let Some((&base, b)) = s.blocks.range(..addr).next_back()
                && addr - base < b.size.max(1) as u64
            {
                return Err(FreeError::Interior { base, size: b.size });
            }
            return Err(FreeError::Foreign);
        };
        let freed = Freed { size: block.size, tag: block.tag, api: block.api, overrun: block.overrun() };
        if block.mem.len() >= LARGE_BLOCK {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        s.quarantine.push(block.mem);
        Ok(freed)
    }

    /// The live block containing `[addr, addr + len)`, as (base, size).
    pub(crate) fn containing(&self, addr: u64, len: u64) -> Option<(u64, usize)> {
        let s = self.lock();
        let (&base, b) = s.blocks.range(..=addr).next_back()?;
        let end = addr.checked_add(len)?;
        (end <= base + b.size as u64).then_some((base, b.size))
    }

    /// True if `addr` lies in recently freed pool memory.
    pub(crate) fn recently_freed(&self, addr: u64) -> bool {
        self.lock().quarantine.covers(addr)
    }

    /// Every live block whose guard bytes were modified: (address, size, tag, offset).
    pub(crate) fn overruns(&self) -> Vec<(u64, usize, u32, usize)> {
        self.lock().blocks.iter().filter_map(|(&a, b)| b.overrun().map(|o| (a, b.size, b.tag, o))).collect()
    }

    /// Live blocks and bytes.
    pub(crate) fn usage(&self) -> (usize, usize) {
        let s = self.lock();
        (s.blocks.len(), s.blocks.values().map(|b| b.size).sum())
    }
}

fn register(host: &HostInner, call: &ImportCall, addr: u64, size: usize, tag: u32, handle: Option<u64>) {
    let owner = super::owner_for(host, handle);
    host.resources.register(Record {
        kind: Kind::Pool,
        key: addr,
        owner,
        site: host.describe(call.return_address()),
        detail: format!("{size} bytes, tag {}", tag_text(tag)),
    });
    host.kernel.count_allocation();
}

fn tag_is_printable(tag: u32) -> bool {
    tag.to_le_bytes().iter().all(|&b| b == 0 || (0x20..=0x7E).contains(&b))
}

/// `ExAllocatePool2(Flags, NumberOfBytes, Tag)`.
pub(crate) fn ex_allocate_pool2(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (flags, size, tag) = (call.arg(0), abi_usize(call.arg(1)), call.arg_u32(2));
    let adapter = thread::adapter();
    let kind = flags & (POOL_FLAG_NON_PAGED | POOL_FLAG_NON_PAGED_EXECUTE | POOL_FLAG_PAGED);
    if kind.count_ones() != 1 {
        host.finding(
            Rule::PoolMisuse,
            adapter,
            format!("ExAllocatePool2 with flags {flags:#x}: exactly one of POOL_FLAG_NON_PAGED, POOL_FLAG_NON_PAGED_EXECUTE, POOL_FLAG_PAGED is required (returns NULL)"),
        );
        return 0;
    }
    if tag == 0 {
        host.finding(Rule::PoolMisuse, adapter, "ExAllocatePool2 with tag 0 (returns NULL)");
        return 0;
    }
    if !tag_is_printable(tag) {
        host.finding(
            Rule::PoolMisuse,
            adapter,
            format!("ExAllocatePool2 tag {tag:#010x}: each tag character must be in 0x20..=0x7E"),
        );
    }
    if size == 0 {
        host.finding(Rule::PoolMisuse, adapter, "ExAllocatePool2 of 0 bytes (NumberOfBytes must be non-zero)");
        return 0;
    }
    if kind == POOL_FLAG_PAGED && thread::irql() > thread::APC && host.verifier.enabled() {
        host.finding(
            Rule::CallIrql,
            adapter,
            format!("ExAllocatePool2(POOL_FLAG_PAGED) at IRQL {}; paged pool needs IRQL <= APC_LEVEL", thread::irql()),
        );
    }
    if host.faults.should_fail(host, call, "ExAllocatePool2") {
        if flags & POOL_FLAG_RAISE_ON_FAILURE != 0 {
            abi::abandon(CrashKind::Fatal(
                "ExAllocatePool2 failed with POOL_FLAG_RAISE_ON_FAILURE: STATUS_INSUFFICIENT_RESOURCES raised and not handled".to_owned(),
            ));
        }
        return 0;
    }
    let align = if flags & POOL_FLAG_CACHE_ALIGNED != 0 { 64 } else { 16 };
    let zero = flags & POOL_FLAG_UNINITIALIZED == 0;
    match host.kernel.pool.allocate(size, align, zero, tag, Api::Ex) {
        Some(addr) => {
            register(host, call, addr, size, tag, None);
            addr
        }
        None => 0,
    }
}

/// `NdisAllocateMemoryWithTagPriority(NdisHandle, Length, Tag, Priority)`.
pub(crate) fn ndis_allocate_memory(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (handle, size, tag) = (call.arg(0), call.arg_u32(1) as usize, call.arg_u32(2));
    if tag == 0 {
        host.finding(
            Rule::PoolMisuse,
            super::adapter_of(host, handle),
            "NdisAllocateMemoryWithTagPriority with tag 0 (use a non-zero pool tag)",
        );
    }
    if host.faults.should_fail(host, call, "NdisAllocateMemoryWithTagPriority") {
        return 0;
    }
    match host.kernel.pool.allocate(size, 16, false, tag, Api::Ndis) {
        Some(addr) => {
            register(host, call, addr, size, tag, Some(handle));
            addr
        }
        None => 0,
    }
}

/// `ExFreePoolWithTag(P, Tag)`.
pub(crate) fn ex_free_pool_with_tag(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    free(host, call, "ExFreePoolWithTag", Api::Ex, Some(call.arg_u32(1)), None);
    0
}

/// `ExFreePool(P)`.
pub(crate) fn ex_free_pool(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    free(host, call, "ExFreePool", Api::Ex, None, None);
    0
}

/// `NdisFreeMemory(VirtualAddress, Length, MemoryFlags)`.
pub(crate) fn ndis_free_memory(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let flags = call.arg_u32(2);
    if flags != 0 {
        host.finding(
            Rule::PoolMisuse,
            thread::adapter(),
            format!("NdisFreeMemory with MemoryFlags {flags:#x}: memory from NdisAllocateMemoryWithTagPriority is freed with MemoryFlags 0"),
        );
    }
    free(host, call, "NdisFreeMemory", Api::Ndis, None, Some(call.arg_u32(1)));
    0
}

fn free(host: &Arc<HostInner>, call: &ImportCall, api_name: &str, api: Api, tag: Option<u32>, length: Option<u32>) {
    let addr = call.arg(0);
    let adapter = thread::adapter();
    let freed = match host.kernel.pool.free(addr) {
        Ok(f) => f,
        Err(e) => {
            let what = match e {
                FreeError::Null => "a NULL pointer".to_owned(),
                FreeError::Double => "a block that was already freed (double free)".to_owned(),
                FreeError::Interior { base, size } => {
                    format!("an address inside the {size}-byte block at {base:#x}, not its start")
                }
                FreeError::Foreign => "an address that is not a live pool block".to_owned(),
            };
            host.finding(
                Rule::PoolMisuse,
                adapter,
                format!("{api_name}({addr:#x}) from {}: {what}", host.describe(call.return_address())),
            );
            return;
        }
    };
    host.resources.unregister(Kind::Pool, addr);
    if freed.api != api {
        host.finding(
            Rule::PoolMisuse,
            adapter,
            format!("{api_name}({addr:#x}) frees memory that {} allocated", freed.api.allocator()),
        );
    }
    if let Some(t) = tag
        && t != freed.tag
    {
        host.finding(
            Rule::PoolMisuse,
            adapter,
            format!(
                "{api_name}({addr:#x}, tag {}) but the block was allocated with tag {}",
                tag_text(t),
                tag_text(freed.tag)
            ),
        );
    }
    if let Some(len) = length
        && len != 0
        && len as usize != freed.size
    {
        host.finding(
            Rule::PoolMisuse,
            adapter,
            format!("{api_name}({addr:#x}, Length {len}) but the block is {} bytes", freed.size),
        );
    }
    if let Some(off) = freed.overrun {
        host.finding(
            Rule::PoolMisuse,
            adapter,
            format!(
                "pool block {addr:#x} ({} bytes, tag {}) was written past its end (guard byte {off} modified), detected at {api_name}",
                freed.size,
                tag_text(freed.tag)
            ),
        );
    }
    host.kernel.forget_memory(host, addr, freed.size as u64);
}

fn abi_usize(v: u64) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}
