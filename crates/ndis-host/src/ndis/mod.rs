//! The NDIS side: the miniport driver's registration, its adapters and their state machine,
//! OID requests, send and receive orchestration, status indications, and the protocol that
//! sends traffic and returns received NBLs. (Being written.)

use crate::host::HostConfig;
use crate::imports::ImportDef;

/// Imports implemented by this module.
pub static IMPORTS: &[ImportDef] = &[];

/// NDIS state.
#[derive(Debug, Default)]
pub struct Ndis {}

impl Ndis {
    /// New NDIS state.
    #[must_use]
    pub fn new(_config: &HostConfig) -> Self {
        Self {}
    }
}
