//! ndis-host: a user-mode NDIS for running a real NDIS 6 miniport image on Linux.
//!
//! | module | role |
//! | --- | --- |
//! | [`loader`] | maps a PE32+ kernel image, relocates it, binds its imports |
//! | [`bench`] | the benchmarks (`ndis-host bench`, `cargo xtask bench`) |
//! | [`abi`] | the win64 bridge: import thunks, guarded 24 KiB driver stacks, `call_driver` |
//! | [`crash`] | crash capture in driver code and symbolisation from the PDB or map |
//! | [`host`] | one host: dispatcher, driver calls with handler-exit checks, crash reports |
//! | [`imports`] | the table of implemented imports and their documented IRQL |
//! | [`kernel`] | pool, locks, DPCs, timers, work items, NBL/MDL pools, registry, error log |
//! | [`ndis`] | the miniport driver, its adapters, OIDs, sends and receives, the protocol |
//! | [`verifier`] | the NDIS contract rules and findings |
//! | [`trace`] | the call trace and its Mermaid rendering |
//! | [`fault`] | allocation fault injection |
//! | [`clock`] | real or virtual time |
//! | [`exec`] | worker threads (threaded mode) and the seeded scheduler (deterministic mode) |
//! | [`sim`] | the API tests, the CLI and the benchmarks drive a host with |
//! | [`scenario`] | the lifecycle with traffic, as one call |
// Host functions often return something callers may ignore (previous values, "was it queued").
#![allow(clippy::must_use_candidate)]

pub mod abi;
pub mod bench;
pub mod clock;
pub mod crash;
pub mod exec;
pub mod fault;
pub mod host;
pub mod imports;
pub mod kernel;
pub mod loader;
pub mod ndis;
pub mod rng;
pub mod scenario;
pub mod sim;
pub mod trace;
pub mod verifier;
