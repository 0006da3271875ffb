//! Receive filtering: which frames an adapter accepts from the hub.
//!
//! An adapter accepts a frame when its packet filter allows the frame's destination class
//! (`OID_GEN_CURRENT_PACKET_FILTER`): directed frames to its current address, multicast frames
//! in its list (`OID_802_3_MULTICAST_LIST`) or all multicast, broadcast, or everything in
//! promiscuous mode. The bit values are the `NDIS_PACKET_TYPE_*` values of ntddndis.h.

use crate::frame::{Destination, MAC_LEN, Mac, classify};

/// `NDIS_PACKET_TYPE_DIRECTED`.
pub const DIRECTED: u32 = 0x0000_0001;
/// `NDIS_PACKET_TYPE_MULTICAST`.
pub const MULTICAST: u32 = 0x0000_0002;
/// `NDIS_PACKET_TYPE_ALL_MULTICAST`.
pub const ALL_MULTICAST: u32 = 0x0000_0004;
/// `NDIS_PACKET_TYPE_BROADCAST`.
pub const BROADCAST: u32 = 0x0000_0008;
/// `NDIS_PACKET_TYPE_PROMISCUOUS`.
pub const PROMISCUOUS: u32 = 0x0000_0020;
/// Every filter rvmini implements.
pub const SUPPORTED: u32 = DIRECTED | MULTICAST | ALL_MULTICAST | BROADCAST | PROMISCUOUS;

/// Size of the multicast list (`OID_802_3_MAXIMUM_LIST_SIZE`).
pub const MAX_MULTICAST: usize = 32;

/// Why a multicast list was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListError {
    /// The buffer is not a whole number of addresses (`NDIS_STATUS_INVALID_LENGTH`).
    InvalidLength,
    /// More addresses than the list holds (`NDIS_STATUS_MULTICAST_FULL`).
    Full,
    /// An entry is not a multicast address (`NDIS_STATUS_INVALID_DATA`).
    NotMulticast,
}

/// The multicast list of one adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MulticastList {
    addresses: [Mac; MAX_MULTICAST],
    len: usize,
}

impl Default for MulticastList {
    fn default() -> Self {
        Self::new()
    }
}

impl MulticastList {
    /// An empty list.
    #[must_use]
    pub const fn new() -> Self {
        Self { addresses: [[0; MAC_LEN]; MAX_MULTICAST], len: 0 }
    }

    /// Replaces the list with the addresses in `bytes` (a set of `OID_802_3_MULTICAST_LIST`).
    /// On error the list is unchanged.
    pub fn set(&mut self, bytes: &[u8]) -> Result<(), ListError> {
        if !bytes.len().is_multiple_of(MAC_LEN) {
            return Err(ListError::InvalidLength);
        }
        let count = bytes.len() / MAC_LEN;
        if count > MAX_MULTICAST {
            return Err(ListError::Full);
        }
        let mut next = [[0; MAC_LEN]; MAX_MULTICAST];
        for (slot, chunk) in next.iter_mut().zip(bytes.chunks_exact(MAC_LEN)) {
            slot.copy_from_slice(chunk);
            if classify(slot) == Destination::Directed {
                return Err(ListError::NotMulticast);
            }
        }
        self.addresses = next;
        self.len = count;
        Ok(())
    }

    /// The addresses, in the order they were set.
    #[must_use]
    pub fn addresses(&self) -> &[Mac] {
        self.addresses.get(..self.len).unwrap_or(&[])
    }

    /// True if `mac` is in the list.
    #[must_use]
    pub fn contains(&self, mac: &Mac) -> bool {
        self.addresses().iter().any(|a| a == mac)
    }
}

/// Decides whether an adapter with `filter` and current address `own` accepts a frame sent to
/// `dest`. `in_list` says whether an address is in the adapter's multicast list; it is called
/// at most once, and only when the answer depends on it (a multicast frame under
/// [`MULTICAST`] without [`ALL_MULTICAST`] or [`PROMISCUOUS`]), so a caller may take the
/// list's lock inside it.
#[must_use]
pub fn accepts(filter: u32, own: &Mac, dest: &Mac, in_list: impl FnOnce(&Mac) -> bool) -> bool {
    if filter & PROMISCUOUS != 0 {
        return true;
    }
    match classify(dest) {
        Destination::Broadcast => filter & BROADCAST != 0,
        Destination::Multicast => filter & ALL_MULTICAST != 0 || (filter & MULTICAST != 0 && in_list(dest)),
        Destination::Directed => filter & DIRECTED != 0 && dest == own,
    }
}

#[cfg(all(test, not(feature = "loom")))]
mod tests {
    use super::*;

    const OWN: Mac = [0x02, 1, 2, 3, 4, 5];
    const OTHER: Mac = [0x02, 9, 9, 9, 9, 9];
    const MC1: Mac = [0x01, 0x00, 0x5E, 0, 0, 1];
    const MC2: Mac = [0x33, 0x33, 0, 0, 0, 2];

    /// `accepts` with the list `l` as its membership test.
    fn accepts_with(filter: u32, own: Mac, l: &MulticastList, dest: Mac) -> bool {
        accepts(filter, &own, &dest, |d| l.contains(d))
    }

    #[test]
    fn zero_filter_accepts_nothing() {
        let l = MulticastList::new();
        for d in [OWN, OTHER, MC1, [0xFF; 6]] {
            assert!(!accepts_with(0, OWN, &l, d));
        }
    }

    #[test]
    fn each_filter_bit() {
        let mut l = MulticastList::new();
        l.set(&MC1).unwrap();
        assert!(accepts_with(DIRECTED, OWN, &l, OWN));
        assert!(!accepts_with(DIRECTED, OWN, &l, OTHER));
        assert!(accepts_with(BROADCAST, OWN, &l, [0xFF; 6]));
        assert!(!accepts_with(BROADCAST, OWN, &l, MC1));
        assert!(accepts_with(MULTICAST, OWN, &l, MC1));
        assert!(!accepts_with(MULTICAST, OWN, &l, MC2));
        assert!(accepts_with(ALL_MULTICAST, OWN, &l, MC2));
        assert!(!accepts_with(ALL_MULTICAST, OWN, &l, [0xFF; 6]));
        assert!(accepts_with(PROMISCUOUS, OWN, &l, OTHER));
    }

    #[test]
    fn list_is_consulted_only_when_it_decides() {
        let calls = core::cell::Cell::new(0u32);
        let probe = |d: &Mac| {
            calls.set(calls.get() + 1);
            *d == MC1
        };
        // Decided without the list: promiscuous, all-multicast, no multicast bit, or not a
        // multicast destination.
        assert!(accepts(PROMISCUOUS | MULTICAST, &OWN, &MC1, probe));
        assert!(accepts(ALL_MULTICAST | MULTICAST, &OWN, &MC2, probe));
        assert!(!accepts(DIRECTED | BROADCAST, &OWN, &MC1, probe));
        assert!(accepts(MULTICAST | BROADCAST, &OWN, &[0xFF; 6], probe));
        assert!(accepts(MULTICAST | DIRECTED, &OWN, &OWN, probe));
        assert_eq!(calls.get(), 0);
        // Decided by the list: asked once each time.
        assert!(accepts(MULTICAST, &OWN, &MC1, probe));
        assert!(!accepts(MULTICAST | DIRECTED, &OWN, &MC2, probe));
        assert_eq!(calls.get(), 2);
    }

    #[test]
    fn list_validation() {
        let mut l = MulticastList::new();
        assert_eq!(l.set(&[1, 2, 3]), Err(ListError::InvalidLength));
        let too_many = [0x01u8; MAC_LEN * (MAX_MULTICAST + 1)];
        assert_eq!(l.set(&too_many), Err(ListError::Full));
        assert_eq!(l.set(&OWN), Err(ListError::NotMulticast));
        let mut two = [0u8; 12];
        two[..6].copy_from_slice(&MC1);
        two[6..].copy_from_slice(&MC2);
        l.set(&two).unwrap();
        assert_eq!(l.addresses(), &[MC1, MC2]);
        // A failed set leaves the list unchanged.
        assert_eq!(l.set(&[0u8; 6]), Err(ListError::NotMulticast));
        assert_eq!(l.addresses().len(), 2);
        l.set(&[]).unwrap();
        assert!(l.addresses().is_empty());
        let full = [0x01u8; MAC_LEN * MAX_MULTICAST];
        l.set(&full).unwrap();
        assert_eq!(l.addresses().len(), MAX_MULTICAST);
    }
}
