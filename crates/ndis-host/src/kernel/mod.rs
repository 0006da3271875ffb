//! The kernel and NDIS support surface the driver imports: pool memory, spin locks and IRQL,
//! DPCs, NDIS timer objects, I/O work items, NBL/NET_BUFFER/MDL pools, registry configuration,
//! error log, debug output, time and random numbers.
//!
//! (Being written: this module is the skeleton the implementation fills in.)

pub mod pending;
pub mod registry;
pub mod resources;

use crate::host::{Abandoned, HostConfig, HostInner};
use crate::imports::ImportDef;
use std::sync::Arc;

/// Imports implemented by this module.
pub static IMPORTS: &[ImportDef] = &[];

/// Kernel object state.
#[derive(Debug, Default)]
pub struct Kernel {}

impl Kernel {
    /// New kernel state.
    #[must_use]
    pub fn new(_config: &HostConfig) -> Self {
        Self {}
    }

    /// Releases spin locks a handler left held (after the finding was reported).
    pub fn force_release(&self, _locks: &[u64]) {}

    /// Runs a queued DPC, due timer or work item taken from [`pending::Pending`].
    pub fn run(&self, _host: &Arc<HostInner>, _item: pending::Item) -> Result<(), Abandoned> {
        Ok(())
    }
}
