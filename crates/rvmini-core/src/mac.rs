//! MAC addresses: the permanent address rvmini generates once per adapter, and validation of a
//! `NetworkAddress` override.
//!
//! A virtual adapter has no burned-in address, so rvmini generates a *locally administered*
//! unicast address (IEEE 802: bit 1 of the first octet set, bit 0 clear), as Microsoft's HLK
//! requires of virtual adapters, and persists it in the adapter's registry key so it survives
//! reboots and reinstalls of the same device.

use crate::frame::{BROADCAST, MAC_LEN, Mac};

/// Why an address was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MacError {
    /// Not exactly six bytes.
    Length(usize),
    /// The group bit is set (multicast or broadcast).
    NotUnicast,
    /// All zeros.
    Zero,
}

/// True if the address is locally administered.
#[must_use]
pub fn is_locally_administered(mac: &Mac) -> bool {
    mac[0] & 0x02 != 0
}

/// Validates a station address given as raw bytes (from `NdisReadNetworkAddress` or the
/// persisted permanent address).
pub fn validate(bytes: &[u8]) -> Result<Mac, MacError> {
    let mac: Mac = bytes.try_into().map_err(|_| MacError::Length(bytes.len()))?;
    if mac == [0; MAC_LEN] {
        Err(MacError::Zero)
    } else if mac == BROADCAST || mac[0] & 0x01 != 0 {
        Err(MacError::NotUnicast)
    } else {
        Ok(mac)
    }
}

/// Generates a locally administered unicast address from 64 bits of entropy.
#[must_use]
pub fn generate(entropy: u64) -> Mac {
    // Spread the entropy over the five octets after the first with a 64-bit mix
    // (the finaliser of SplitMix64), so that nearby seeds give unrelated addresses.
    let mut x = entropy;
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    let b = x.to_le_bytes();
    let mut mac = [b[0], b[1], b[2], b[3], b[4], b[5]];
    mac[0] = (mac[0] & 0xFC) | 0x02;
    if mac[1..] == [0; 5] {
        mac[5] = 1;
    }
    mac
}

/// Formats an address as `02-AB-CD-EF-01-23` into a fixed buffer (no allocation).
#[must_use]
pub fn format(mac: &Mac) -> [u8; 17] {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let digit = |nibble: u8| HEX.get(usize::from(nibble & 0x0F)).copied().unwrap_or(b'?');
    let mut out = [b'-'; 17];
    for (group, byte) in out.chunks_mut(3).zip(mac) {
        if let [hi, lo, ..] = group {
            *hi = digit(byte >> 4);
            *lo = digit(*byte);
        }
    }
    out
}

#[cfg(all(test, not(feature = "loom")))]
mod tests {
    use super::*;

    #[test]
    fn generated_addresses_are_local_unicast_and_spread() {
        let mut seen = std::collections::HashSet::new();
        for seed in 0..10_000u64 {
            let m = generate(seed);
            assert!(is_locally_administered(&m));
            assert_eq!(validate(&m), Ok(m));
            seen.insert(m);
        }
        assert_eq!(seen.len(), 10_000);
    }

    #[test]
    fn validation() {
        assert_eq!(validate(&[2, 0, 0, 0, 0]), Err(MacError::Length(5)));
        assert_eq!(validate(&[0; 7]), Err(MacError::Length(7)));
        assert_eq!(validate(&[0; 6]), Err(MacError::Zero));
        assert_eq!(validate(&[0xFF; 6]), Err(MacError::NotUnicast));
        assert_eq!(validate(&[0x01, 0, 0x5E, 0, 0, 1]), Err(MacError::NotUnicast));
        assert_eq!(validate(&[0x00, 0x15, 0x5D, 1, 2, 3]), Ok([0x00, 0x15, 0x5D, 1, 2, 3]));
    }

    #[test]
    fn formatting() {
        assert_eq!(&format(&[0x02, 0xAB, 0xCD, 0xEF, 0x01, 0x23]), b"02-AB-CD-EF-01-23");
    }
}
