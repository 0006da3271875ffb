//! The live-object table: every object the driver allocates through the host (pool blocks,
//! NBL pools, NBLs, MDLs, work items, timers, DPCs, configuration handles), with its owner and
//! the driver call site that created it. Leak rules read it at the end of MiniportHaltEx, of a
//! failed MiniportInitializeEx, and of MiniportDriverUnload.

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

/// Kinds of tracked objects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// `ExAllocatePool2` / `NdisAllocateMemoryWithTagPriority`.
    Pool,
    /// `NdisAllocateNetBufferListPool`.
    NblPool,
    /// `NdisAllocateNetBufferList` / `NdisAllocateNetBufferAndNetBufferList`.
    Nbl,
    /// `NdisAllocateNetBufferPool`.
    NbPool,
    /// `NdisAllocateNetBuffer`.
    NetBuffer,
    /// `NdisAllocateMdl`.
    Mdl,
    /// `NdisAllocateIoWorkItem`.
    WorkItem,
    /// `NdisAllocateTimerObject`.
    Timer,
    /// `NdisOpenConfigurationEx`.
    Config,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Kind::Pool => "pool block",
            Kind::NblPool => "NBL pool",
            Kind::Nbl => "NBL",
            Kind::NbPool => "NET_BUFFER pool",
            Kind::NetBuffer => "NET_BUFFER",
            Kind::Mdl => "MDL",
            Kind::WorkItem => "work item",
            Kind::Timer => "timer object",
            Kind::Config => "configuration handle",
        };
        f.write_str(s)
    }
}

/// Who an object belongs to, for leak attribution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Owner {
    /// Allocated outside any adapter's handler (DriverEntry, a DPC, ...).
    Driver,
    /// Allocated for an adapter (by its handle or inside its handler).
    Adapter(usize),
}

/// One live object.
#[derive(Clone, Debug)]
pub struct Record {
    /// Kind.
    pub kind: Kind,
    /// Address or handle.
    pub key: u64,
    /// Owner.
    pub owner: Owner,
    /// The driver's return address at the allocating call, as `image+0xRVA` text.
    pub site: String,
    /// Size, tag, or other detail.
    pub detail: String,
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {:#x} {} allocated at {}", self.kind, self.key, self.detail, self.site)
    }
}

/// The table.
#[derive(Debug, Default)]
pub struct Resources {
    live: Mutex<HashMap<(Kind, u64), Record>>,
}

impl Resources {
    /// Registers a new object. Returns the record it replaced (a host bug if `Some`).
    pub fn register(&self, record: Record) -> Option<Record> {
        self.lock().insert((record.kind, record.key), record)
    }

    /// Unregisters an object; `None` if it was not live (a double free or a foreign object).
    pub fn unregister(&self, kind: Kind, key: u64) -> Option<Record> {
        self.lock().remove(&(kind, key))
    }

    /// The record of a live object.
    #[must_use]
    pub fn get(&self, kind: Kind, key: u64) -> Option<Record> {
        self.lock().get(&(kind, key)).cloned()
    }

    /// True if the object is live.
    #[must_use]
    pub fn is_live(&self, kind: Kind, key: u64) -> bool {
        self.lock().contains_key(&(kind, key))
    }

    /// Live objects matching `filter`, sorted by kind and key.
    pub fn live(&self, filter: impl Fn(&Record) -> bool) -> Vec<Record> {
        let mut v: Vec<Record> = self.lock().values().filter(|r| filter(r)).cloned().collect();
        v.sort_by_key(|r| (r.kind, r.key));
        v
    }

    /// Number of live objects of `kind`.
    #[must_use]
    pub fn count(&self, kind: Kind) -> usize {
        self.lock().keys().filter(|(k, _)| *k == kind).count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Kind, u64), Record>> {
        self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
