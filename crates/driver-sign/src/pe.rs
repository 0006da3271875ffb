//! Authenticode digest of a PE image ("PE hash"), computed here without any external tool.
//!
//! The digest covers the whole file except three ranges (Authenticode PE specification,
//! "Calculating the PE Image Hash"):
//!
//! 1. the `CheckSum` field of the optional header (4 bytes);
//! 2. the certificate-table entry of the data directories (index 4, 8 bytes);
//! 3. the certificate table itself (the attribute certificates: embedded signatures).
//!
//! The specification describes the hash as "headers, then each section's raw data in file
//! order, then any data after the last section minus the certificate table". For an image whose
//! sections follow the headers without gaps, that is exactly the file with the three ranges left
//! out, which is what `osslsigncode` and the `signify` Python package hash. Images with gaps or
//! overlapping sections would make those implementations disagree with Windows, so
//! [`authenticode_digest`] rejects them instead of guessing (linkers do not produce them).
//!
//! A file that is not yet signed and whose length is not a multiple of 8 is hashed as it is
//! (no padding), as Windows and `signify` do; signing tools pad the file to 8 bytes before
//! appending the certificate table, so the digest of a *signed* image never depends on this.

use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::Error;

/// The digest algorithms the catalog and signing code use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HashAlgorithm {
    /// SHA-1 (20 bytes): the member digest of version-1 catalogs.
    Sha1,
    /// SHA-256 (32 bytes): signatures, and the member digest of version-2 catalogs.
    Sha256,
}

impl HashAlgorithm {
    /// Length of the digest in bytes.
    #[must_use]
    pub fn len(self) -> usize {
        match self {
            HashAlgorithm::Sha1 => 20,
            HashAlgorithm::Sha256 => 32,
        }
    }

    /// Always `false`: a digest is never empty (present for clippy's `len_without_is_empty`).
    #[must_use]
    pub fn is_empty(self) -> bool {
        false
    }

    /// The algorithm's name as Microsoft tools print it.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            HashAlgorithm::Sha1 => "SHA1",
            HashAlgorithm::Sha256 => "SHA256",
        }
    }

    /// Plain digest of `data`.
    #[must_use]
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlgorithm::Sha1 => Sha1::digest(data).to_vec(),
            HashAlgorithm::Sha256 => Sha256::digest(data).to_vec(),
        }
    }
}

/// Where the parts of a PE image that Authenticode skips are, with everything checked against
/// the file's length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeLayout {
    /// File offset of the optional header's `CheckSum` field.
    pub checksum_offset: usize,
    /// File offset of the certificate-table data-directory entry (8 bytes).
    pub security_dir_offset: usize,
    /// `SizeOfHeaders` from the optional header.
    pub size_of_headers: usize,
    /// The certificate table (file offset, length), if the image has one.
    pub certificate_table: Option<(usize, usize)>,
    /// `true` for PE32+ (64-bit) images.
    pub pe32_plus: bool,
}

fn read_u16(data: &[u8], off: usize) -> Result<u16, Error> {
    let end = off.checked_add(2).ok_or_else(|| Error::pe("offset overflow"))?;
    let b = data.get(off..end).ok_or_else(|| Error::pe(format!("file too short to read 2 bytes at {off:#x}")))?;
    Ok(u16::from_le_bytes([b[0], b[1]]))
}

fn read_u32(data: &[u8], off: usize) -> Result<u32, Error> {
    let end = off.checked_add(4).ok_or_else(|| Error::pe("offset overflow"))?;
    let b = data.get(off..end).ok_or_else(|| Error::pe(format!("file too short to read 4 bytes at {off:#x}")))?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

fn to_usize(v: u32) -> usize {
    // u32 always fits in usize on the 32- and 64-bit hosts this crate builds for.
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn add(a: usize, b: usize) -> Result<usize, Error> {
    a.checked_add(b).ok_or_else(|| Error::pe("offset overflow"))
}

/// Index of the certificate table in the optional header's data directories.
const IMAGE_DIRECTORY_ENTRY_SECURITY: usize = 4;

/// Parses the headers of a PE image and locates what Authenticode leaves out of the digest.
///
/// Also checks that the section raw data follow the headers without gaps or overlaps and that
/// a certificate table, if present, is the last thing in the file (see the module docs).
pub fn pe_layout(data: &[u8]) -> Result<PeLayout, Error> {
    if data.get(0..2) != Some(b"MZ".as_slice()) {
        return Err(Error::pe("no MZ signature: not a PE image"));
    }
    let pe_off = to_usize(read_u32(data, 0x3c)?);
    let sig_end = add(pe_off, 4)?;
    if data.get(pe_off..sig_end) != Some(b"PE\0\0".as_slice()) {
        return Err(Error::pe("no PE\\0\\0 signature at e_lfanew"));
    }
    let coff = sig_end;
    let number_of_sections = usize::from(read_u16(data, add(coff, 2)?)?);
    let size_of_optional_header = usize::from(read_u16(data, add(coff, 16)?)?);
    let opt = add(coff, 20)?;
    let magic = read_u16(data, opt)?;
    let (pe32_plus, rva_count_off, dirs_off) = match magic {
        0x10b => (false, 92, 96),
        0x20b => (true, 108, 112),
        other => return Err(Error::pe(format!("unknown optional header magic {other:#x}"))),
    };
    let checksum_offset = add(opt, 64)?;
    let size_of_headers = to_usize(read_u32(data, add(opt, 60)?)?);
    let rva_count = to_usize(read_u32(data, add(opt, rva_count_off)?)?);
    if rva_count <= IMAGE_DIRECTORY_ENTRY_SECURITY {
        return Err(Error::pe("the image has no certificate-table data directory (NumberOfRvaAndSizes <= 4)"));
    }
    let security_dir_offset = add(add(opt, dirs_off)?, IMAGE_DIRECTORY_ENTRY_SECURITY * 8)?;
    // The directory entry must lie inside the optional header, and the header inside the file.
    if add(security_dir_offset, 8)? > add(opt, size_of_optional_header)? {
        return Err(Error::pe("certificate-table directory entry lies outside the optional header"));
    }
    let cert_off = to_usize(read_u32(data, security_dir_offset)?);
    let cert_len = to_usize(read_u32(data, add(security_dir_offset, 4)?)?);

    if size_of_headers > data.len() {
        return Err(Error::pe("SizeOfHeaders is larger than the file"));
    }
    if add(checksum_offset, 4)? > size_of_headers || add(security_dir_offset, 8)? > size_of_headers {
        return Err(Error::pe("optional header extends past SizeOfHeaders"));
    }

    let certificate_table = if cert_off == 0 && cert_len == 0 {
        None
    } else {
        let cert_end = add(cert_off, cert_len)?;
        if cert_off < size_of_headers || cert_end != data.len() {
            return Err(Error::pe(format!(
                "certificate table at {cert_off:#x}+{cert_len:#x} is not at the end of the \
                 {:#x}-byte file",
                data.len()
            )));
        }
        Some((cert_off, cert_len))
    };
    let hashed_end = certificate_table.map_or(data.len(), |(off, _)| off);

    // Section table: raw data must tile [SizeOfHeaders, end of last section) in file order.
    let sections_off = add(opt, size_of_optional_header)?;
    let mut raw: Vec<(usize, usize)> = Vec::with_capacity(number_of_sections);
    for i in 0..number_of_sections {
        let hdr = add(sections_off, i.checked_mul(40).ok_or_else(|| Error::pe("too many sections"))?)?;
        let size = to_usize(read_u32(data, add(hdr, 16)?)?);
        let ptr = to_usize(read_u32(data, add(hdr, 20)?)?);
        if size != 0 {
            raw.push((ptr, size));
        }
    }
    raw.sort_unstable();
    let mut expected = size_of_headers;
    for &(ptr, size) in &raw {
        if ptr != expected {
            return Err(Error::pe(format!(
                "section raw data at {ptr:#x} does not start where the previous part ends \
                 ({expected:#x}); Authenticode implementations disagree on such images"
            )));
        }
        expected = add(ptr, size)?;
    }
    if expected > hashed_end {
        return Err(Error::pe("section raw data extends past the end of the image data"));
    }

    Ok(PeLayout { checksum_offset, security_dir_offset, size_of_headers, certificate_table, pe32_plus })
}

fn hash_ranges<D: Digest>(data: &[u8], layout: &PeLayout) -> Vec<u8> {
    let mut h = D::new();
    let end = layout.certificate_table.map_or(data.len(), |(off, _)| off);
    // pe_layout() proved: checksum_offset + 4 <= security_dir_offset + 8 <= SizeOfHeaders <= end.
    h.update(&data[..layout.checksum_offset]);
    h.update(&data[layout.checksum_offset + 4..layout.security_dir_offset]);
    h.update(&data[layout.security_dir_offset + 8..end]);
    h.finalize().to_vec()
}

/// The Authenticode digest of a PE image with the given algorithm.
pub fn authenticode_digest(data: &[u8], alg: HashAlgorithm) -> Result<Vec<u8>, Error> {
    let layout = pe_layout(data)?;
    if layout.security_dir_offset < layout.checksum_offset + 4 {
        return Err(Error::pe("data directories overlap the CheckSum field"));
    }
    Ok(match alg {
        HashAlgorithm::Sha1 => hash_ranges::<Sha1>(data, &layout),
        HashAlgorithm::Sha256 => hash_ranges::<Sha256>(data, &layout),
    })
}

/// The SHA-256 Authenticode digest of a PE image (what an embedded SHA-256 signature signs).
pub fn pe_authenticode_hash(data: &[u8]) -> Result<[u8; 32], Error> {
    let v = authenticode_digest(data, HashAlgorithm::Sha256)?;
    let mut out = [0u8; 32];
    out.copy_from_slice(&v);
    Ok(out)
}

/// Whether `data` starts like a PE image (MZ header pointing at a PE signature).
#[must_use]
pub fn looks_like_pe(data: &[u8]) -> bool {
    let Ok(pe_off) = read_u32(data, 0x3c) else {
        return false;
    };
    let pe_off = to_usize(pe_off);
    data.get(0..2) == Some(b"MZ".as_slice())
        && pe_off.checked_add(4).and_then(|end| data.get(pe_off..end)).is_some_and(|s| s == b"PE\0\0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_non_pe() {
        assert!(authenticode_digest(b"hello", HashAlgorithm::Sha256).is_err());
        let mut d = vec![0u8; 0x100];
        d[0] = b'M';
        d[1] = b'Z';
        d[0x3c] = 0xf0; // e_lfanew pointing near the end: PE signature cannot fit
        assert!(pe_layout(&d).is_err());
        assert!(!looks_like_pe(&d));
    }

    #[test]
    fn huge_e_lfanew_does_not_overflow() {
        let mut d = vec![0u8; 0x40];
        d[0] = b'M';
        d[1] = b'Z';
        d[0x3c..0x40].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(pe_layout(&d).is_err());
        assert!(!looks_like_pe(&d));
    }
}
