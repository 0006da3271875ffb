//! Platform-independent logic of the rvmini miniport.
//!
//! Everything here is plain Rust with no FFI, so it runs in host unit tests and under the loom
//! model checker (`--features loom`), and the driver (`src/` at the workspace root) builds its
//! NDIS handlers on top of it:
//!
//! | module | what it decides |
//! | --- | --- |
//! | [`lifecycle`] | adapter state (Paused, Restarting, Running, Pausing, ...) and the drain accounting that decides, exactly once, who completes a pending pause or reset |
//! | [`queue`] | the transmit FIFO, linked through a field the miniport owns |
//! | [`filter`] | which frames a receiving adapter accepts (packet filter, multicast list) |
//! | [`frame`] | Ethernet frame limits and destination classification |
//! | [`mac`] | MAC address generation and `NetworkAddress` validation |
//! | [`oidbuf`] | how a query answer fits the caller's buffer (short buffers, 64-bit counters) |
//! | [`serial`] | one transmit pass at a time, without lost wake-ups |
//! | [`config`] | validation of registry keywords |
//! | [`stats`] | atomic statistics counters |
#![cfg_attr(not(any(test, feature = "loom")), no_std)]
// Code that runs inside NDIS handlers must not panic and must not wrap silently.
#![cfg_attr(not(test), deny(clippy::panic, clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]
#![cfg_attr(not(test), deny(clippy::arithmetic_side_effects))]

pub mod config;
pub mod filter;
pub mod frame;
pub mod lifecycle;
pub mod mac;
pub mod oidbuf;
pub mod queue;
pub mod serial;
pub mod stats;
mod sync;
