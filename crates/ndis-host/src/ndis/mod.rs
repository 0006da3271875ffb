//! The NDIS side: the miniport driver's registration, its adapters and their state machine,
//! OID requests, send and receive orchestration, status indications, and the protocol that
//! sends traffic and returns received NBLs. (Being written.)

use crate::host::HostConfig;
use crate::imports::ImportDef;
use crate::kernel::registry::Registry;
use std::sync::{Arc, Mutex, PoisonError};

/// Imports implemented by this module.
pub static IMPORTS: &[ImportDef] = &[];

/// A device (adapter instance): its handle while initialized, and its registry.
#[derive(Debug)]
pub struct Device {
    /// The miniport adapter handle given to the driver.
    pub handle: u64,
    /// The device's registry keys.
    pub registry: Arc<Mutex<Registry>>,
}

/// NDIS state.
#[derive(Debug, Default)]
pub struct Ndis {
    devices: Mutex<Vec<Device>>,
}

impl Ndis {
    /// New NDIS state.
    #[must_use]
    pub fn new(_config: &HostConfig) -> Self {
        Self::default()
    }

    /// The adapter index (creation order) of an adapter handle.
    #[must_use]
    pub fn adapter_index(&self, handle: u64) -> Option<usize> {
        self.devices.lock().unwrap_or_else(PoisonError::into_inner).iter().position(|d| d.handle == handle)
    }

    /// The registry of the device behind an adapter handle.
    #[must_use]
    pub fn registry(&self, handle: u64) -> Option<Arc<Mutex<Registry>>> {
        self.devices
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .find(|d| d.handle == handle)
            .map(|d| Arc::clone(&d.registry))
    }

    /// Test support for kernel-level tests: a device with `registry` and a fresh adapter
    /// handle, without any miniport behind it. Returns (index, handle).
    pub fn attach_test_device(&self, handle: u64, registry: Registry) -> (usize, u64) {
        let mut d = self.devices.lock().unwrap_or_else(PoisonError::into_inner);
        d.push(Device { handle, registry: Arc::new(Mutex::new(registry)) });
        (d.len() - 1, handle)
    }
}
