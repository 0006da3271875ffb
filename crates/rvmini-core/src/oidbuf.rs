//! How an OID query answer fits the caller's buffer.
//!
//! NDIS rules (NDIS_OID_REQUEST and the individual OID pages): a miniport never writes past
//! `InformationBufferLength`; if the buffer is too short it writes nothing, sets `BytesNeeded`
//! to the full size and fails with `NDIS_STATUS_BUFFER_TOO_SHORT` (or
//! `NDIS_STATUS_INVALID_LENGTH` for structures NDIS documents that way). The 64-bit counters
//! (`OID_GEN_XMIT_OK`, `OID_GEN_RCV_OK`, ...) are special: given a 4-byte buffer the miniport
//! returns the low 32 bits, `BytesWritten` 4 and `BytesNeeded` 8 with `NDIS_STATUS_SUCCESS`, and
//! below 4 bytes nothing, with `BytesNeeded` 8 and `NDIS_STATUS_INVALID_LENGTH` ("Querying 64-Bit
//! Statistics OIDs"; the HLK test "1c_64BitOIDs" checks 0-, 4- and 8-byte buffers). [`Fit`] only
//! says what fits; the caller picks the status.

/// The outcome of fitting an answer into a buffer of a given length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fit {
    /// Write `written` bytes; `needed` is what the full answer takes (equal unless truncated
    /// to the low half of a 64-bit counter).
    Write {
        /// Bytes to write.
        written: usize,
        /// Bytes the full answer needs.
        needed: usize,
    },
    /// Write nothing; the caller needs `needed` bytes.
    TooShort {
        /// Bytes the answer needs.
        needed: usize,
    },
}

/// Fits an answer of `len` bytes into a buffer of `buffer_len` bytes.
#[must_use]
pub fn fit(buffer_len: usize, len: usize) -> Fit {
    if buffer_len >= len { Fit::Write { written: len, needed: len } } else { Fit::TooShort { needed: len } }
}

/// Fits a 64-bit statistics counter: 8 bytes when there is room, the low 4 bytes when the
/// buffer holds at least 4, otherwise too short.
#[must_use]
pub fn fit_counter(buffer_len: usize) -> Fit {
    if buffer_len >= 8 {
        Fit::Write { written: 8, needed: 8 }
    } else if buffer_len >= 4 {
        Fit::Write { written: 4, needed: 8 }
    } else {
        Fit::TooShort { needed: 8 }
    }
}

/// Copies an answer into `buffer` according to [`fit`]; returns the fit.
pub fn write(buffer: &mut [u8], answer: &[u8]) -> Fit {
    let f = fit(buffer.len(), answer.len());
    if let (Fit::Write { written, .. }, Some(dst)) = (f, buffer.get_mut(..answer.len())) {
        dst.copy_from_slice(answer.get(..written).unwrap_or(answer));
    }
    f
}

/// Writes a 64-bit counter according to [`fit_counter`] (little-endian, as on x64).
pub fn write_counter(buffer: &mut [u8], value: u64) -> Fit {
    let f = fit_counter(buffer.len());
    if let Fit::Write { written, .. } = f {
        let bytes = value.to_le_bytes();
        if let (Some(dst), Some(src)) = (buffer.get_mut(..written), bytes.get(..written)) {
            dst.copy_from_slice(src);
        }
    }
    f
}

#[cfg(all(test, not(feature = "loom")))]
mod tests {
    use super::*;

    #[test]
    fn plain_answers() {
        let mut buf = [0xAAu8; 8];
        assert_eq!(write(&mut buf[..3], &[1, 2, 3, 4]), Fit::TooShort { needed: 4 });
        assert_eq!(buf, [0xAA; 8], "nothing written on a short buffer");
        assert_eq!(write(&mut buf[..4], &[1, 2, 3, 4]), Fit::Write { written: 4, needed: 4 });
        assert_eq!(buf, [1, 2, 3, 4, 0xAA, 0xAA, 0xAA, 0xAA], "nothing past the answer");
        assert_eq!(write(&mut buf, &[9]), Fit::Write { written: 1, needed: 1 });
        assert_eq!(write(&mut [], &[]), Fit::Write { written: 0, needed: 0 });
    }

    #[test]
    fn counters_follow_the_64_bit_oid_rules() {
        let v = 0x1122_3344_5566_7788u64;
        let mut buf = [0u8; 12];
        assert_eq!(write_counter(&mut buf[..0], v), Fit::TooShort { needed: 8 });
        assert_eq!(write_counter(&mut buf[..3], v), Fit::TooShort { needed: 8 });
        assert_eq!(buf, [0; 12]);
        assert_eq!(write_counter(&mut buf[..4], v), Fit::Write { written: 4, needed: 8 });
        assert_eq!(u32::from_le_bytes(buf[..4].try_into().unwrap()), 0x5566_7788);
        assert_eq!(buf[4..], [0; 8]);
        assert_eq!(write_counter(&mut buf[..7], v), Fit::Write { written: 4, needed: 8 });
        assert_eq!(write_counter(&mut buf, v), Fit::Write { written: 8, needed: 8 });
        assert_eq!(u64::from_le_bytes(buf[..8].try_into().unwrap()), v);
        assert_eq!(buf[8..], [0; 4]);
    }
}
