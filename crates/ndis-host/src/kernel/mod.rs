//! The kernel and NDIS support surface the driver imports: pool memory, spin locks and IRQL,
//! DPCs, NDIS timer objects, I/O work items, NBL/NET_BUFFER/MDL pools, registry configuration,
//! error log, debug output, time and random numbers.
//!
//! | module | imports |
//! | --- | --- |
//! | [`pool`] | `ExAllocatePool2`, `ExFreePool[WithTag]`, `NdisAllocateMemoryWithTagPriority`, `NdisFreeMemory` |
//! | [`spinlock`] | `NdisAllocateSpinLock`, `NdisFreeSpinLock`, `Ndis[Dpr]AcquireSpinLock`, `Ndis[Dpr]ReleaseSpinLock` |
//! | [`dpc`] | `KeInitializeDpc`, `KeInsertQueueDpc`, `KeRemoveQueueDpc`, `KeFlushQueuedDpcs` |
//! | [`timer`] | `NdisAllocateTimerObject`, `NdisSetTimerObject`, `NdisCancelTimerObject`, `NdisFreeTimerObject` |
//! | [`work`] | `NdisAllocateIoWorkItem`, `NdisQueueIoWorkItem`, `NdisFreeIoWorkItem` |
//! | [`netbuf`] | NBL and NET_BUFFER pools, `NdisAllocateMdl`, `NdisFreeMdl`, `NdisGetDataBuffer`, `MmMapLockedPagesSpecifyCache` |
//! | [`config`] | `NdisOpenConfigurationEx`, `NdisCloseConfiguration`, `NdisReadConfiguration`, `NdisWriteConfiguration`, `NdisReadNetworkAddress` |
//! | [`misc`] | `DbgPrint[Ex]`, `KeBugCheckEx`, `KeQueryPerformanceCounter`, `RtlRandomEx`, `mem*`, `NdisWriteErrorLogEntry`, `NdisGetCurrentSystemTime`, `NdisMSleep`, `NdisGetVersion` |
//!
//! Each module's documentation says what is simulated and how it differs from Windows. The
//! common rules: objects the driver creates are registered in [`crate::host::HostInner::resources`]
//! with their owner (the adapter whose handle was passed, else the adapter whose handler is
//! running, else the driver) and call site, and unregistered when freed; freeing something
//! unknown or freed is a finding, never a host crash; pointers the driver passes are read and
//! written fault-tolerantly ([`dmem`]) and a bad one ends the driver call with an access
//! violation, as a bug check would on Windows. No Rust lock is held while the driver runs
//! (DPC, timer and work routines run through [`crate::host::HostInner::call`] with every table
//! lock released) or across [`crate::abi::abandon`].
//!
//! [`nbl`] has host-side NBL/NET_BUFFER/MDL helpers for the protocol side of the NDIS model.

pub mod config;
pub mod dmem;
pub mod dpc;
pub mod misc;
pub mod nbl;
pub mod netbuf;
pub mod pending;
pub mod pool;
pub mod registry;
pub mod resources;
pub mod spinlock;
pub mod timer;
pub(crate) mod unwind;
pub mod work;

use crate::host::{Abandoned, HostConfig, HostInner, thread};
use crate::imports::{CallClass, ImportDef, IrqlRule};
use crate::verifier::Rule;
pub use misc::{ErrorLogEntry, direct_bindings};
use registry::Registry;
use resources::Owner;
use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The NDIS version the host reports (`NdisGetVersion`, the `NdisVersion` keyword): 6.82,
/// the NDIS of Windows 10 2004 and later (which also provides `ExAllocatePool2`).
pub const NDIS_VERSION: u32 = 0x0006_0052;

/// At most this many driver log lines are kept (the oldest are dropped).
pub const MAX_LOG_LINES: usize = 100_000;

macro_rules! import {
    ($module:literal, $name:literal, $irql:ident, $class:ident, $handler:path) => {
        ImportDef { module: $module, name: $name, irql: IrqlRule::$irql, class: CallClass::$class, handler: $handler }
    };
}

/// Imports implemented by this module. The IRQL rule of each is the `req.irql` of the DDI
/// page named in the comment (from `shared/research/ndis_ddi_irql_compliance.txt` where it is
/// listed, else from the page itself); "see Remarks" rules are checked further in the handler.
pub static IMPORTS: &[ImportDef] = &[
    // --- ntoskrnl.exe ----------------------------------------------------------------------
    // wdm/nf-wdm-exallocatepool2: "IRQL <= DISPATCH_LEVEL (see Remarks)"; POOL_FLAG_PAGED needs <= APC_LEVEL (handler).
    import!("ntoskrnl.exe", "ExAllocatePool2", AtMostDispatch, Kernel, pool::ex_allocate_pool2),
    // wdm/nf-wdm-exfreepoolwithtag: "<= DISPATCH_LEVEL (see Remarks)".
    import!("ntoskrnl.exe", "ExFreePoolWithTag", AtMostDispatch, Kernel, pool::ex_free_pool_with_tag),
    // wdm/nf-wdm-exfreepool: "<= DISPATCH_LEVEL (see Remarks)".
    import!("ntoskrnl.exe", "ExFreePool", AtMostDispatch, Kernel, pool::ex_free_pool),
    // wdm/nf-wdm-dbgprint: "IRQL <= DIRQL".
    import!("ntoskrnl.exe", "DbgPrint", Any, Kernel, misc::dbg_print),
    // wdm/nf-wdm-dbgprintex: "<= DIRQL".
    import!("ntoskrnl.exe", "DbgPrintEx", Any, Kernel, misc::dbg_print_ex),
    // wdm/nf-wdm-kebugcheckex: "Any level".
    import!("ntoskrnl.exe", "KeBugCheckEx", Any, Lifecycle, misc::ke_bug_check_ex),
    // wdm/nf-wdm-keinitializedpc: "Any level".
    import!("ntoskrnl.exe", "KeInitializeDpc", Any, Kernel, dpc::ke_initialize_dpc),
    // wdm/nf-wdm-keinsertqueuedpc: "Any level".
    import!("ntoskrnl.exe", "KeInsertQueueDpc", Any, Kernel, dpc::ke_insert_queue_dpc),
    // wdm/nf-wdm-keremovequeuedpc: "Any level".
    import!("ntoskrnl.exe", "KeRemoveQueueDpc", Any, Kernel, dpc::ke_remove_queue_dpc),
    // wdm/nf-wdm-keflushqueueddpcs: "PASSIVE_LEVEL".
    import!("ntoskrnl.exe", "KeFlushQueuedDpcs", Passive, Kernel, dpc::ke_flush_queued_dpcs),
    // wdm/nf-wdm-kequeryperformancecounter: "Any level".
    import!("ntoskrnl.exe", "KeQueryPerformanceCounter", Any, Kernel, misc::ke_query_performance_counter),
    // wdm/nf-wdm-mmmaplockedpagesspecifycache: "See Remarks": KernelMode <= DISPATCH_LEVEL,
    // UserMode <= APC_LEVEL (handler).
    import!(
        "ntoskrnl.exe",
        "MmMapLockedPagesSpecifyCache",
        AtMostDispatch,
        Datapath,
        netbuf::mm_map_locked_pages_specify_cache
    ),
    // ntifs/nf-ntifs-rtlrandomex: "< DISPATCH_LEVEL".
    import!("ntoskrnl.exe", "RtlRandomEx", AtMostApc, Kernel, misc::rtl_random_ex),
    // C runtime routines exported by ntoskrnl.exe: no DDI page; they touch only the memory
    // they are given, so any IRQL at which that memory is resident.
    import!("ntoskrnl.exe", "memcpy", Any, Kernel, misc::memcpy),
    import!("ntoskrnl.exe", "memmove", Any, Kernel, misc::memmove),
    import!("ntoskrnl.exe", "memset", Any, Kernel, misc::memset),
    import!("ntoskrnl.exe", "memcmp", Any, Kernel, misc::memcmp),
    // --- ndis.sys: memory -------------------------------------------------------------------
    // nf-ndis-ndisallocatememorywithtagpriority: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisAllocateMemoryWithTagPriority", AtMostDispatch, Kernel, pool::ndis_allocate_memory),
    // nf-ndis-ndisfreememory: "See Remarks": <= DISPATCH_LEVEL for memory that is neither
    // contiguous nor non-cached (all memory NdisAllocateMemoryWithTagPriority returns).
    import!("ndis.sys", "NdisFreeMemory", AtMostDispatch, Kernel, pool::ndis_free_memory),
    // --- ndis.sys: NBLs, NET_BUFFERs, MDLs ---------------------------------------------------
    // nf-nblapi-ndisallocatenetbufferlistpool: "<= DISPATCH_LEVEL".
    import!(
        "ndis.sys",
        "NdisAllocateNetBufferListPool",
        AtMostDispatch,
        Lifecycle,
        netbuf::ndis_allocate_net_buffer_list_pool
    ),
    // nf-nblapi-ndisfreenetbufferlistpool: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisFreeNetBufferListPool", AtMostDispatch, Lifecycle, netbuf::ndis_free_net_buffer_list_pool),
    // nf-nblapi-ndisallocatenetbufferandnetbufferlist: "<= DISPATCH_LEVEL".
    import!(
        "ndis.sys",
        "NdisAllocateNetBufferAndNetBufferList",
        AtMostDispatch,
        Kernel,
        netbuf::ndis_allocate_net_buffer_and_net_buffer_list
    ),
    // nf-nblapi-ndisallocatenetbufferlist: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisAllocateNetBufferList", AtMostDispatch, Kernel, netbuf::ndis_allocate_net_buffer_list),
    // nf-nblapi-ndisfreenetbufferlist: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisFreeNetBufferList", AtMostDispatch, Kernel, netbuf::ndis_free_net_buffer_list),
    // nf-nblapi-ndisallocatenetbufferpool: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisAllocateNetBufferPool", AtMostDispatch, Lifecycle, netbuf::ndis_allocate_net_buffer_pool),
    // nf-nblapi-ndisfreenetbufferpool: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisFreeNetBufferPool", AtMostDispatch, Lifecycle, netbuf::ndis_free_net_buffer_pool),
    // nf-nblapi-ndisallocatenetbuffer: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisAllocateNetBuffer", AtMostDispatch, Kernel, netbuf::ndis_allocate_net_buffer),
    // nf-nblapi-ndisfreenetbuffer: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisFreeNetBuffer", AtMostDispatch, Kernel, netbuf::ndis_free_net_buffer),
    // mdlapi/nf-mdlapi-ndisallocatemdl: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisAllocateMdl", AtMostDispatch, Kernel, netbuf::ndis_allocate_mdl),
    // mdlapi/nf-mdlapi-ndisfreemdl: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisFreeMdl", AtMostDispatch, Kernel, netbuf::ndis_free_mdl),
    // nf-nblapi-ndisgetdatabuffer: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisGetDataBuffer", AtMostDispatch, Datapath, netbuf::ndis_get_data_buffer),
    // --- ndis.sys: work items and timers ------------------------------------------------------
    // nf-ndis-ndisallocateioworkitem: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisAllocateIoWorkItem", AtMostDispatch, Lifecycle, work::ndis_allocate_io_work_item),
    // nf-ndis-ndisqueueioworkitem: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisQueueIoWorkItem", AtMostDispatch, Kernel, work::ndis_queue_io_work_item),
    // nf-ndis-ndisfreeioworkitem: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisFreeIoWorkItem", AtMostDispatch, Lifecycle, work::ndis_free_io_work_item),
    // nf-ndis-ndisallocatetimerobject: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisAllocateTimerObject", AtMostDispatch, Lifecycle, timer::ndis_allocate_timer_object),
    // nf-ndis-ndissettimerobject: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisSetTimerObject", AtMostDispatch, Kernel, timer::ndis_set_timer_object),
    // nf-ndis-ndiscanceltimerobject: "See Remarks": periodic timers at PASSIVE_LEVEL (handler),
    // one-shot timers at <= DISPATCH_LEVEL.
    import!("ndis.sys", "NdisCancelTimerObject", AtMostDispatch, Kernel, timer::ndis_cancel_timer_object),
    // nf-ndis-ndisfreetimerobject: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisFreeTimerObject", AtMostDispatch, Lifecycle, timer::ndis_free_timer_object),
    // --- ndis.sys: spin locks -------------------------------------------------------------------
    // nf-ndis-ndisallocatespinlock: "Any level (see Remarks)".
    import!("ndis.sys", "NdisAllocateSpinLock", Any, Kernel, spinlock::ndis_allocate_spin_lock),
    // nf-ndis-ndisfreespinlock: "Any level (see Remarks)".
    import!("ndis.sys", "NdisFreeSpinLock", Any, Kernel, spinlock::ndis_free_spin_lock),
    // nf-ndis-ndisacquirespinlock: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisAcquireSpinLock", AtMostDispatch, Kernel, spinlock::ndis_acquire_spin_lock),
    // nf-ndis-ndisreleasespinlock: "DISPATCH_LEVEL" (the caller holds the lock).
    import!("ndis.sys", "NdisReleaseSpinLock", Dispatch, Kernel, spinlock::ndis_release_spin_lock),
    // nf-ndis-ndisdpracquirespinlock: "DISPATCH_LEVEL".
    import!("ndis.sys", "NdisDprAcquireSpinLock", Dispatch, Kernel, spinlock::ndis_dpr_acquire_spin_lock),
    // nf-ndis-ndisdprreleasespinlock: "DISPATCH_LEVEL".
    import!("ndis.sys", "NdisDprReleaseSpinLock", Dispatch, Kernel, spinlock::ndis_dpr_release_spin_lock),
    // --- ndis.sys: configuration --------------------------------------------------------------
    // nf-ndis-ndisopenconfigurationex: "PASSIVE_LEVEL".
    import!("ndis.sys", "NdisOpenConfigurationEx", Passive, Lifecycle, config::ndis_open_configuration_ex),
    // nf-ndis-ndiscloseconfiguration: "PASSIVE_LEVEL".
    import!("ndis.sys", "NdisCloseConfiguration", Passive, Lifecycle, config::ndis_close_configuration),
    // nf-ndis-ndisreadconfiguration: "PASSIVE_LEVEL".
    import!("ndis.sys", "NdisReadConfiguration", Passive, Lifecycle, config::ndis_read_configuration),
    // nf-ndis-ndiswriteconfiguration: "PASSIVE_LEVEL".
    import!("ndis.sys", "NdisWriteConfiguration", Passive, Lifecycle, config::ndis_write_configuration),
    // nf-ndis-ndisreadnetworkaddress: "PASSIVE_LEVEL".
    import!("ndis.sys", "NdisReadNetworkAddress", Passive, Lifecycle, config::ndis_read_network_address),
    // --- ndis.sys: miscellaneous --------------------------------------------------------------
    // nf-ndis-ndiswriteerrorlogentry: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisWriteErrorLogEntry", AtMostDispatch, Lifecycle, misc::ndis_write_error_log_entry),
    // nf-ndis-ndisgetcurrentsystemtime: "Any level".
    import!("ndis.sys", "NdisGetCurrentSystemTime", Any, Kernel, misc::ndis_get_current_system_time),
    // nf-ndis-ndismsleep: "< DISPATCH_LEVEL".
    import!("ndis.sys", "NdisMSleep", AtMostApc, Kernel, misc::ndis_m_sleep),
    // nf-ndis-ndisgetversion: "<= DISPATCH_LEVEL".
    import!("ndis.sys", "NdisGetVersion", AtMostDispatch, Kernel, misc::ndis_get_version),
];

/// One line of driver debug output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogLine {
    /// `DbgPrintEx` component id (None for `DbgPrint`).
    pub component: Option<u32>,
    /// `DbgPrintEx` level (None for `DbgPrint`).
    pub level: Option<u32>,
    /// The adapter whose handler was running.
    pub adapter: Option<usize>,
    /// The text, without the trailing newline.
    pub text: String,
}

/// What `NdisMSleep` calls in deterministic mode after advancing the clock.
pub type SleepHook = Arc<dyn Fn(&Arc<HostInner>) + Send + Sync>;

/// Kernel object state.
pub struct Kernel {
    pub(crate) pool: pool::Pool,
    pub(crate) dpcs: dpc::Dpcs,
    pub(crate) timers: timer::Timers,
    pub(crate) work: work::WorkItems,
    pub(crate) net: netbuf::NetBuffers,
    pub(crate) configs: config::Configs,
    log: Mutex<VecDeque<LogLine>>,
    errors: Mutex<Vec<ErrorLogEntry>>,
    allocations: AtomicU64,
    echo: bool,
    sleep_hook: Mutex<Option<SleepHook>>,
}

impl fmt::Debug for Kernel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (blocks, bytes) = self.pool.usage();
        f.debug_struct("Kernel")
            .field("pool_blocks", &blocks)
            .field("pool_bytes", &bytes)
            .field("allocations", &self.allocation_count())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Kernel {
    /// New kernel state.
    #[must_use]
    pub fn new(config: &HostConfig) -> Self {
        Self {
            pool: pool::Pool::default(),
            dpcs: dpc::Dpcs::default(),
            timers: timer::Timers::default(),
            work: work::WorkItems::default(),
            net: netbuf::NetBuffers::default(),
            configs: config::Configs::default(),
            log: Mutex::new(VecDeque::new()),
            errors: Mutex::new(Vec::new()),
            allocations: AtomicU64::new(0),
            echo: config.echo_driver_log,
            sleep_hook: Mutex::new(None),
        }
    }

    /// Releases spin locks a handler left held (after the finding was reported).
    pub fn force_release(&self, locks: &[u64]) {
        spinlock::force_release(locks);
    }

    /// Runs a queued DPC, due timer or work item taken from [`pending::Pending`] (with
    /// [`pending::Pending::wait`] or [`pending::Pending::take`]) through
    /// [`HostInner::call`], then marks it done. An item whose object is gone is skipped (with a
    /// finding where the driver has not been told about it already).
    pub fn run(&self, host: &Arc<HostInner>, item: pending::Item) -> Result<(), Abandoned> {
        let result = match item.class {
            pending::Class::Dpc => self.dpcs.run(host, item.key),
            pending::Class::Timer => self.timers.run(host, item.key),
            pending::Class::Work => self.work.run(host, item.key),
        };
        host.pending.done(item.class);
        result
    }

    /// The driver's debug output so far, one entry per line.
    #[must_use]
    pub fn driver_log(&self) -> Vec<String> {
        lock(&self.log).iter().map(|l| l.text.clone()).collect()
    }

    /// The driver's debug output with component, level and adapter.
    #[must_use]
    pub fn driver_log_lines(&self) -> Vec<LogLine> {
        lock(&self.log).iter().cloned().collect()
    }

    pub(crate) fn log_line(&self, component: Option<u32>, level: Option<u32>, text: &str) {
        let adapter = thread::adapter();
        let body = text.strip_suffix('\n').unwrap_or(text);
        let mut log = lock(&self.log);
        for line in body.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if self.echo {
                eprintln!("[driver] {line}");
            }
            if log.len() >= MAX_LOG_LINES {
                log.pop_front();
            }
            log.push_back(LogLine { component, level, adapter, text: line.to_owned() });
        }
    }

    /// Every `NdisWriteErrorLogEntry` so far.
    #[must_use]
    pub fn error_log(&self) -> Vec<ErrorLogEntry> {
        lock(&self.errors).clone()
    }

    pub(crate) fn push_error(&self, e: ErrorLogEntry) {
        lock(&self.errors).push(e);
    }

    /// Allocations that succeeded (pool blocks, pools, NBLs, NET_BUFFERs, MDLs, work items,
    /// timers, configuration handles). Allocating *calls* are counted by
    /// [`crate::fault::FaultInjector::calls`].
    #[must_use]
    pub fn allocation_count(&self) -> u64 {
        self.allocations.load(Ordering::Relaxed)
    }

    pub(crate) fn count_allocation(&self) {
        self.allocations.fetch_add(1, Ordering::Relaxed);
    }

    /// Live pool blocks and their bytes.
    #[must_use]
    pub fn pool_usage(&self) -> (usize, usize) {
        self.pool.usage()
    }

    /// Checks the guard bytes of every live pool block; each modified one is a `Pool.Misuse`
    /// finding. Returns how many were found (e.g. at the end of a halt or unload).
    pub fn check_pool(&self, host: &HostInner) -> usize {
        let overruns = self.pool.overruns();
        for (addr, size, tag, off) in &overruns {
            let owner = host.resources.get(resources::Kind::Pool, *addr);
            let adapter = owner.as_ref().and_then(|r| match r.owner {
                Owner::Adapter(i) => Some(i),
                Owner::Driver => None,
            });
            let site = owner.map(|r| r.site).unwrap_or_default();
            host.finding(
                Rule::PoolMisuse,
                adapter,
                format!(
                    "live pool block {addr:#x} ({size} bytes, tag {}, allocated at {site}) was written past its end (guard byte {off} modified)",
                    dmem::tag_text(*tag)
                ),
            );
        }
        overruns.len()
    }

    /// The driver's own configuration table (what `NdisOpenConfigurationEx` opens for a
    /// handle that is not an adapter handle).
    #[must_use]
    pub fn driver_registry(&self) -> Arc<Mutex<Registry>> {
        Arc::clone(&self.configs.driver_registry)
    }

    /// Sets what `NdisMSleep` calls in deterministic mode after advancing the virtual clock
    /// (e.g. the scheduler running pending work while the driver waits).
    pub fn set_sleep_hook(&self, hook: Option<SleepHook>) {
        *lock(&self.sleep_hook) = hook;
    }

    pub(crate) fn sleep_hook(&self) -> Option<SleepHook> {
        lock(&self.sleep_hook).clone()
    }

    /// True if `nbl` is a live NBL the driver allocated from one of its NBL pools.
    #[must_use]
    pub fn is_driver_nbl(&self, nbl: u64) -> bool {
        self.net.is_driver_nbl(nbl)
    }

    /// Pool memory at `[addr, addr + len)` was freed: forget kernel objects inside it.
    pub(crate) fn forget_memory(&self, host: &HostInner, addr: u64, len: u64) {
        self.dpcs.forget_range(host, addr, len);
    }
}

/// The adapter index of an NDIS handle, else the adapter of the running handler.
pub(crate) fn adapter_of(host: &HostInner, handle: u64) -> Option<usize> {
    host.ndis.adapter_index(handle).or_else(thread::adapter)
}

/// The owner of an object created with `handle` (if any) in the current context.
pub(crate) fn owner_for(host: &HostInner, handle: Option<u64>) -> Owner {
    match handle.and_then(|h| host.ndis.adapter_index(h)).or_else(thread::adapter) {
        Some(i) => Owner::Adapter(i),
        None => Owner::Driver,
    }
}

/// An `NDIS_STATUS` as the RAX of an import.
pub(crate) fn status(s: ndis_sys::NDIS_STATUS) -> u64 {
    u64::from(s.cast_unsigned())
}
