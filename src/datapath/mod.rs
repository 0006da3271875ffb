//! The datapath: sends ([`send`]) and receives ([`receive`]).
//!
//! A frame's journey: MiniportSendNetBufferLists registers the NBLs with the sender's
//! lifecycle and queues them; the sender's transmit DPC validates each NET_BUFFER, delivers a
//! copy of each frame to every Running peer on the hub whose packet filter accepts it (into
//! that peer's pre-allocated receive buffers, in as many indications as the peer's free buffers
//! allow), and then completes the send NBLs. NDIS returns the receive NBLs through the peer's
//! MiniportReturnNetBufferLists, which puts the buffers back on its free list.
//!
//! No memory is allocated per frame: receive NBLs, MDLs and buffers are allocated at
//! initialization (or when a restart re-creates them after a low-power transition), and the
//! per-frame bookkeeping of a send NBL lives in the `MiniportReserved` fields NDIS gives the
//! miniport.

pub mod receive;
pub mod send;
