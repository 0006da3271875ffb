//! The import table: every `module!function` the host implements, with the IRQL its
//! documentation allows and the handler that implements it.
//!
//! The IRQL rules come from the `req.irql` metadata of each DDI page (collected in
//! `shared/research/ndis_ddi_irql_compliance.txt`); the host checks them on every call (rule
//! `Irql.Call`), datapath calls only when the verifier's per-call checks are on.

use crate::abi::ImportCall;
use crate::host::HostInner;
use crate::host::thread::{APC, DISPATCH, PASSIVE};
use std::sync::Arc;

/// An import handler: the host, the call; returns RAX.
pub type Handler = fn(&Arc<HostInner>, &ImportCall) -> u64;

/// The IRQL a function may be called at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IrqlRule {
    /// PASSIVE_LEVEL only.
    Passive,
    /// At most APC_LEVEL.
    AtMostApc,
    /// At most DISPATCH_LEVEL.
    AtMostDispatch,
    /// Exactly DISPATCH_LEVEL.
    Dispatch,
    /// Any IRQL.
    Any,
}

impl IrqlRule {
    /// True if `irql` is allowed.
    #[must_use]
    pub fn allows(self, irql: u8) -> bool {
        match self {
            IrqlRule::Passive => irql == PASSIVE,
            IrqlRule::AtMostApc => irql <= APC,
            IrqlRule::AtMostDispatch => irql <= DISPATCH,
            IrqlRule::Dispatch => irql == DISPATCH,
            IrqlRule::Any => true,
        }
    }

    /// The rule as the documentation states it.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            IrqlRule::Passive => "PASSIVE_LEVEL",
            IrqlRule::AtMostApc => "<= APC_LEVEL",
            IrqlRule::AtMostDispatch => "<= DISPATCH_LEVEL",
            IrqlRule::Dispatch => "DISPATCH_LEVEL",
            IrqlRule::Any => "any IRQL",
        }
    }
}

/// How a call is traced and checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallClass {
    /// Lifecycle and control calls: always checked, traced at the lifecycle level.
    Lifecycle,
    /// Per-packet calls: checked with per-call checks on, traced at the datapath level.
    Datapath,
    /// Kernel support calls (pool, DPCs, work items, locks, logging): checked with per-call
    /// checks on, traced at the kernel level.
    Kernel,
}

/// One import.
#[derive(Clone, Copy, Debug)]
pub struct ImportDef {
    /// Module, lowercase (`ndis.sys`, `ntoskrnl.exe`, `hal.dll`).
    pub module: &'static str,
    /// Function name.
    pub name: &'static str,
    /// Allowed IRQL.
    pub irql: IrqlRule,
    /// Class.
    pub class: CallClass,
    /// Implementation.
    pub handler: Handler,
}

/// Every import the host implements, in id order.
#[must_use]
pub fn all() -> Vec<&'static ImportDef> {
    crate::kernel::IMPORTS.iter().chain(crate::ndis::IMPORTS.iter()).collect()
}
