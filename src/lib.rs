//! rvmini: an NDIS 6 virtual Ethernet miniport driver for Windows.
//!
//! Each adapter is a virtual Ethernet NIC; the driver's adapters are joined by a virtual hub,
//! so a frame sent on one adapter is received by every other adapter whose packet filter
//! accepts it. The NDIS roles live one per module:
//!
//! | module | NDIS role |
//! | --- | --- |
//! | [`driver`] | `DriverEntry`, MiniportDriverUnload, MiniportSetOptions: registration with NDIS |
//! | [`adapter`] | MiniportInitializeEx and MiniportHaltEx (one adapter's resources), and in [`adapter::state`] MiniportPause, MiniportRestart, MiniportResetEx, MiniportShutdownEx, MiniportDevicePnPEventNotify and power transitions |
//! | [`oid`] | the control path: MiniportOidRequest, MiniportCancelOidRequest |
//! | [`datapath::send`] | MiniportSendNetBufferLists, MiniportCancelSend, the transmit DPC |
//! | [`datapath::receive`] | receive buffers, indications, MiniportReturnNetBufferLists |
//! | [`hub`] | the virtual hub: which adapters exist, frame delivery, link state |
//! | [`ndis`] | safe wrappers over the raw bindings in the `ndis-sys` crate |
//! | [`rt`] | the kernel runtime: allocator, panic handler, logging |
//!
//! The platform-independent decisions (adapter state, drain accounting, filters, OID buffer
//! rules) live in the `rvmini-core` crate, where host unit tests and the loom model checker
//! reach them.
//!
//! On non-Windows targets this crate is empty: the driver exists only as the
//! `x86_64-pc-windows-msvc` kernel image `rvmini.sys`, which the tests load into `ndis-host`.
#![cfg(target_os = "windows")]
#![no_std]
// Kernel discipline: nothing reachable from NDIS may panic or wrap silently, and every unsafe
// operation is argued for on its own.
#![deny(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
#![deny(clippy::arithmetic_side_effects, clippy::multiple_unsafe_ops_per_block)]
#![deny(clippy::large_stack_frames, clippy::large_stack_arrays)]

pub mod adapter;
pub mod datapath;
pub mod driver;
pub mod hub;
pub mod ndis;
pub mod oid;
pub mod rt;
