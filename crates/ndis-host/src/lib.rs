//! ndis-host: a user-mode NDIS for running a real miniport image on Linux.
pub mod abi;
pub mod crash;
pub mod loader;
