//! Ethernet frame limits and destination classification (IEEE 802.3).

/// Length of a MAC address.
pub const MAC_LEN: usize = 6;
/// A MAC address.
pub type Mac = [u8; MAC_LEN];
/// Destination + source + EtherType.
pub const HEADER_LEN: usize = 14;
/// The shortest frame on the wire without the FCS; shorter frames are padded with zeros.
pub const MIN_FRAME_LEN: usize = 60;
/// The largest MTU rvmini supports (`*JumboPacket` = 9014).
pub const MAX_MTU: usize = 9000;
/// The broadcast address.
pub const BROADCAST: Mac = [0xFF; MAC_LEN];

/// Where a frame is addressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Destination {
    /// To one station.
    Directed,
    /// To a group (the I/G bit is set), other than broadcast.
    Multicast,
    /// To everyone.
    Broadcast,
}

/// Classifies a destination address.
#[must_use]
pub fn classify(dest: &Mac) -> Destination {
    if *dest == BROADCAST {
        Destination::Broadcast
    } else if dest[0] & 0x01 != 0 {
        Destination::Multicast
    } else {
        Destination::Directed
    }
}

/// Why a frame cannot be sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Shorter than an Ethernet header.
    TooShort,
    /// Longer than the MTU plus the header.
    TooLong,
    /// The buffer chain does not hold as many bytes as the frame claims.
    Truncated,
}

/// The largest frame for `mtu`, header included.
#[must_use]
pub fn max_frame_len(mtu: usize) -> usize {
    mtu.saturating_add(HEADER_LEN)
}

/// Checks a frame length against the header size and the MTU.
pub fn check_length(len: usize, mtu: usize) -> Result<(), FrameError> {
    if len < HEADER_LEN {
        Err(FrameError::TooShort)
    } else if len > max_frame_len(mtu) {
        Err(FrameError::TooLong)
    } else {
        Ok(())
    }
}

/// The length a frame has on the wire: padded to the Ethernet minimum.
#[must_use]
pub fn wire_len(len: usize) -> usize {
    len.max(MIN_FRAME_LEN)
}

#[cfg(all(test, not(feature = "loom")))]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        assert_eq!(classify(&BROADCAST), Destination::Broadcast);
        assert_eq!(classify(&[0x01, 0x00, 0x5E, 0, 0, 1]), Destination::Multicast);
        assert_eq!(classify(&[0x33, 0x33, 0, 0, 0, 1]), Destination::Multicast);
        assert_eq!(classify(&[0x02, 0, 0, 0, 0, 1]), Destination::Directed);
    }

    #[test]
    fn lengths() {
        assert_eq!(check_length(13, 1500), Err(FrameError::TooShort));
        assert_eq!(check_length(14, 1500), Ok(()));
        assert_eq!(check_length(1514, 1500), Ok(()));
        assert_eq!(check_length(1515, 1500), Err(FrameError::TooLong));
        assert_eq!(check_length(9014, MAX_MTU), Ok(()));
        assert_eq!(check_length(usize::MAX, usize::MAX), Ok(()));
        assert_eq!(wire_len(14), 60);
        assert_eq!(wire_len(1514), 1514);
    }
}
