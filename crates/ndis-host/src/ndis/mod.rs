//! The NDIS side: the miniport driver's registration, its adapters and their state machine,
//! OID requests, send and receive orchestration, status indications, and the protocol that
//! sends traffic and returns received NBLs.
//!
//! - [`driver`]: DriverEntry, the captured characteristics, MiniportDriverUnload.
//! - [`adapter`]: NDIS's view of an adapter (state, pending operation, counters).
//! - [`miniport`]: the calls NDIS makes into the miniport (initialize, restart, pause, halt,
//!   reset, PnP events, shutdown, sends, returns, cancel), each with the checks NDIS makes.
//! - [`calls`]: the NDIS functions the miniport calls (`NdisM*`), with their rules.
//! - [`oid`]: OID requests and their checks.
//! - [`protocol`]: the protocol bound to each adapter: it sends frames, checks what it
//!   receives, and returns (or holds) received NBLs.

pub mod adapter;
pub mod calls;
pub mod driver;
pub mod miniport;
pub mod names;
pub mod oid;
pub mod protocol;

use crate::imports::ImportDef;
use crate::kernel::registry::Registry;
use adapter::Adapter;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

/// Imports implemented by this module.
pub static IMPORTS: &[ImportDef] = calls::IMPORTS;

/// NDIS state of one host.
#[derive(Debug)]
pub struct Ndis {
    /// The driver.
    pub driver: driver::Driver,
    adapters: RwLock<Vec<Arc<Adapter>>>,
    by_handle: RwLock<HashMap<u64, usize>>,
    /// The protocol bound to the adapters.
    pub protocol: protocol::Protocol,
    /// OID requests in flight.
    pub oids: oid::Oids,
    epoch: Arc<AtomicU64>,
}

impl Default for Ndis {
    /// New NDIS state: no driver registered, no adapters.
    fn default() -> Self {
        let epoch = Arc::new(AtomicU64::new(0));
        Self {
            driver: driver::Driver::default(),
            adapters: RwLock::new(Vec::new()),
            by_handle: RwLock::new(HashMap::new()),
            protocol: protocol::Protocol::new(Arc::clone(&epoch)),
            oids: oid::Oids::default(),
            epoch,
        }
    }
}

impl Ndis {
    /// Creates a device (adapter instance) with its registry and handle; it is Halted until
    /// initialized. Returns its index.
    pub fn add_adapter(&self, handle: u64, registry: Registry) -> usize {
        let mut adapters = self.adapters.write().unwrap_or_else(PoisonError::into_inner);
        let index = adapters.len();
        adapters.push(Arc::new(Adapter::new(index, handle, Arc::new(Mutex::new(registry)), Arc::clone(&self.epoch))));
        self.by_handle.write().unwrap_or_else(PoisonError::into_inner).insert(handle, index);
        index
    }

    /// The adapter with index `index`.
    #[must_use]
    pub fn adapter(&self, index: usize) -> Option<Arc<Adapter>> {
        self.adapters.read().unwrap_or_else(PoisonError::into_inner).get(index).cloned()
    }

    /// Every adapter.
    #[must_use]
    pub fn adapters(&self) -> Vec<Arc<Adapter>> {
        self.adapters.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// The adapter behind a handle.
    #[must_use]
    pub fn by_handle(&self, handle: u64) -> Option<Arc<Adapter>> {
        let index = *self.by_handle.read().unwrap_or_else(PoisonError::into_inner).get(&handle)?;
        self.adapter(index)
    }

    /// The adapter index (creation order) of an adapter handle.
    #[must_use]
    pub fn adapter_index(&self, handle: u64) -> Option<usize> {
        self.by_handle.read().unwrap_or_else(PoisonError::into_inner).get(&handle).copied()
    }

    /// The registry of the device behind an adapter handle.
    #[must_use]
    pub fn registry(&self, handle: u64) -> Option<Arc<Mutex<Registry>>> {
        self.by_handle(handle).map(|a| Arc::clone(&a.registry))
    }

    /// Test support for kernel-level tests: a device with `registry` and the given adapter
    /// handle, without any miniport behind it. Returns (index, handle).
    pub fn attach_test_device(&self, handle: u64, registry: Registry) -> (usize, u64) {
        (self.add_adapter(handle, registry), handle)
    }
}

/// An `NDIS_STATUS` from a 64-bit register or argument slot: the low 32 bits, as a signed value.
/// The win64 convention leaves the upper half of RAX undefined for a 32-bit return.
#[must_use]
#[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
pub fn status(v: u64) -> i32 {
    v as u32 as i32
}
