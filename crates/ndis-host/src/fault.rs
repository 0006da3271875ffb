//! Fault injection: make allocating imports fail, as Driver Verifier's low-resources simulation
//! does. (Being written.)

/// Which allocations fail.
#[derive(Clone, Debug, Default)]
pub enum FaultPlan {
    /// None.
    #[default]
    None,
}

/// Decides, per allocating call, whether it fails.
#[derive(Debug)]
pub struct FaultInjector {
    _plan: FaultPlan,
}

impl FaultInjector {
    /// An injector for `plan`.
    #[must_use]
    pub fn new(plan: FaultPlan) -> Self {
        Self { _plan: plan }
    }
}
