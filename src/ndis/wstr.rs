//! UTF-16 strings for registry keywords, built at compile time.

/// Encodes an ASCII string literal as a NUL-terminated UTF-16 array; `N` must be the length
/// plus one. A non-ASCII literal or a wrong `N` is a compile-time error (the function is only
/// evaluated in constants).
#[must_use]
// Evaluated only in constants: an out-of-range index or overflow is a compile error, never a
// run-time panic.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
pub const fn encode<const N: usize>(s: &str) -> [u16; N] {
    let bytes = s.as_bytes();
    assert!(bytes.len() + 1 == N, "N must be the string length plus one");
    let mut out = [0u16; N];
    let mut i = 0;
    while i < bytes.len() {
        assert!(bytes[i].is_ascii(), "keywords are ASCII");
        out[i] = bytes[i] as u16;
        i += 1;
    }
    out
}

/// A `&'static [u16]` NUL-terminated keyword: `wide!("*JumboPacket")`.
#[macro_export]
macro_rules! wide {
    ($s:literal) => {{
        const W: [u16; $s.len() + 1] = $crate::ndis::wstr::encode($s);
        &W
    }};
}

/// An `NDIS_STRING` (`UNICODE_STRING`) describing a static NUL-terminated UTF-16 string.
#[must_use]
pub fn ndis_string(w: &'static [u16]) -> ndis_sys::NDIS_STRING {
    let chars = w.len().saturating_sub(1);
    let bytes = u16::try_from(chars.saturating_mul(2)).unwrap_or(0xFFFE);
    ndis_sys::NDIS_STRING {
        Length: bytes,
        MaximumLength: bytes.saturating_add(2),
        // NDIS only reads keyword strings; the pointer is `*mut` because UNICODE_STRING is.
        Buffer: w.as_ptr().cast_mut(),
    }
}
