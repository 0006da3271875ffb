//! Validation of the adapter's registry keywords (the INF's advanced properties).
//!
//! A bad value never fails initialization: the driver uses the default and reports the value it
//! rejected, once, in the log. Each function returns the value to use and, when the registry
//! value was rejected, an [`Issue`] describing it.

/// A rejected registry value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Issue {
    /// The keyword.
    pub keyword: &'static str,
    /// The value found in the registry.
    pub found: u32,
    /// The value used instead.
    pub used: u32,
}

/// `*JumboPacket`: frame size including the 14-byte header, not the FCS.
pub const JUMBO_PACKET: &str = "*JumboPacket";
/// Smallest `*JumboPacket` value: standard Ethernet (jumbo frames off).
pub const JUMBO_MIN: u32 = 1514;
/// Largest `*JumboPacket` value rvmini supports.
pub const JUMBO_MAX: u32 = 9014;
/// `*ReceiveBuffers`: receive NBLs per adapter.
pub const RECEIVE_BUFFERS: &str = "*ReceiveBuffers";
/// Default `*ReceiveBuffers`.
pub const RECEIVE_BUFFERS_DEFAULT: u32 = 256;
/// Smallest `*ReceiveBuffers`.
pub const RECEIVE_BUFFERS_MIN: u32 = 64;
/// Largest `*ReceiveBuffers`.
pub const RECEIVE_BUFFERS_MAX: u32 = 4096;
/// `LogLevel`: 0 errors only, 1 warnings, 2 information, 3 verbose.
pub const LOG_LEVEL: &str = "LogLevel";
/// Largest `LogLevel`.
pub const LOG_LEVEL_MAX: u32 = 3;

fn ranged(keyword: &'static str, found: Option<u32>, min: u32, max: u32, default: u32) -> (u32, Option<Issue>) {
    match found {
        None => (default, None),
        Some(v) if (min..=max).contains(&v) => (v, None),
        Some(v) => (default, Some(Issue { keyword, found: v, used: default })),
    }
}

/// The largest frame (header included) for a `*JumboPacket` value.
#[must_use]
pub fn jumbo_packet(found: Option<u32>) -> (u32, Option<Issue>) {
    ranged(JUMBO_PACKET, found, JUMBO_MIN, JUMBO_MAX, JUMBO_MIN)
}

/// The number of receive buffers for a `*ReceiveBuffers` value.
#[must_use]
pub fn receive_buffers(found: Option<u32>) -> (u32, Option<Issue>) {
    ranged(RECEIVE_BUFFERS, found, RECEIVE_BUFFERS_MIN, RECEIVE_BUFFERS_MAX, RECEIVE_BUFFERS_DEFAULT)
}

/// The log level for a `LogLevel` value.
#[must_use]
pub fn log_level(found: Option<u32>) -> (u32, Option<Issue>) {
    ranged(LOG_LEVEL, found, 0, LOG_LEVEL_MAX, 0)
}

#[cfg(all(test, not(feature = "loom")))]
mod tests {
    use super::*;

    #[test]
    fn defaults_ranges_and_issues() {
        assert_eq!(jumbo_packet(None), (1514, None));
        assert_eq!(jumbo_packet(Some(9014)), (9014, None));
        assert_eq!(jumbo_packet(Some(4088)), (4088, None));
        assert_eq!(jumbo_packet(Some(9015)), (1514, Some(Issue { keyword: "*JumboPacket", found: 9015, used: 1514 })));
        assert_eq!(jumbo_packet(Some(0)).0, 1514);
        assert_eq!(receive_buffers(None), (256, None));
        assert_eq!(receive_buffers(Some(64)), (64, None));
        assert_eq!(receive_buffers(Some(63)).1.map(|i| i.used), Some(256));
        assert_eq!(receive_buffers(Some(u32::MAX)).0, 256);
        assert_eq!(log_level(Some(3)), (3, None));
        assert_eq!(log_level(Some(4)).0, 0);
    }
}
