//! Signing a whole driver package directory.
//!
//! Order matters: the image is signed first (its Authenticode hash excludes the signature, but
//! signing also rewrites the checksum field and appends the certificate table, and the catalog
//! must describe the file as shipped), then the catalog lists the *signed* image and the INF,
//! then the public certificate is written next to them.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::Error;
use crate::authenticode::{PeSignOptions, sign_pe_with};
use crate::catalog::{CatalogMember, CatalogOptions, build_catalog, parse_catalog, verify_catalog_signature};
use crate::identity::{SigningIdentity, write_file};
use crate::pe::{HashAlgorithm, authenticode_digest};

/// What to sign in a package directory and how.
#[derive(Clone, Debug)]
pub struct PackageOptions {
    /// The driver image, e.g. `rvmini.sys`.
    pub sys_name: String,
    /// The INF, e.g. `rvmini.inf`.
    pub inf_name: String,
    /// The catalog to write, e.g. `rvmini.cat` (the INF's `CatalogFile` must name it).
    pub cat_name: String,
    /// The public certificate to write, e.g. `rvmini-test-signing.cer`.
    pub cer_name: String,
    /// Hardware IDs for the catalog's `HWIDn` attributes.
    pub hardware_ids: Vec<String>,
    /// Member `OSAttr` (`2:10.0` for Windows 10 and later).
    pub os_attr: String,
    /// Catalog `OS` attribute (`_v100_X64` for `inf2cat /os:10_x64`).
    pub os: String,
    /// Signing time of the image signature and `ctlThisUpdate` of the catalog.
    pub time: SystemTime,
    /// Program name in the image signature.
    pub description: Option<String>,
}

impl PackageOptions {
    /// The rvmini package: `rvmini.sys`, `rvmini.inf`, `rvmini.cat`, `rvmini-test-signing.cer`,
    /// hardware ID `root\rvmini`, Windows 10 x64. The time is `SOURCE_DATE_EPOCH` if set, else now.
    #[must_use]
    pub fn rvmini() -> Self {
        PackageOptions {
            sys_name: "rvmini.sys".into(),
            inf_name: "rvmini.inf".into(),
            cat_name: "rvmini.cat".into(),
            cer_name: "rvmini-test-signing.cer".into(),
            hardware_ids: vec![r"root\rvmini".into()],
            os_attr: "2:10.0".into(),
            os: "_v100_X64".into(),
            time: source_date_epoch().unwrap_or_else(SystemTime::now),
            description: Some("rvmini NDIS miniport (test-signed)".into()),
        }
    }
}

/// `SOURCE_DATE_EPOCH` as a time, if set to a number.
#[must_use]
pub fn source_date_epoch() -> Option<SystemTime> {
    let secs: u64 = std::env::var("SOURCE_DATE_EPOCH").ok()?.trim().parse().ok()?;
    SystemTime::UNIX_EPOCH.checked_add(std::time::Duration::from_secs(secs))
}

/// What [`sign_package`] produced.
#[derive(Clone, Debug)]
pub struct PackageSignature {
    /// The signed image.
    pub sys_path: PathBuf,
    /// The catalog.
    pub cat_path: PathBuf,
    /// The public certificate (DER).
    pub cer_path: PathBuf,
    /// SHA-256 Authenticode hash of the signed image (what its embedded signature signs).
    pub sys_authenticode_sha256: Vec<u8>,
    /// SHA-1 Authenticode hash of the signed image (its catalog member digest).
    pub sys_authenticode_sha1: Vec<u8>,
    /// SHA-1 hash of the INF (its catalog member digest).
    pub inf_sha1: Vec<u8>,
    /// SHA-1 thumbprint of the signing certificate.
    pub cert_thumbprint: String,
}

/// Decodes an INF's text: UTF-16LE with a byte-order mark, or UTF-8/ASCII.
pub fn inf_text(bytes: &[u8]) -> Result<String, Error> {
    if let Some(rest) = bytes.strip_prefix(&[0xff, 0xfe]) {
        if rest.len() % 2 != 0 {
            return Err(Error::Inf("odd length for UTF-16 text".into()));
        }
        let units: Vec<u16> = rest.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        return String::from_utf16(&units).map_err(|_| Error::Inf("invalid UTF-16".into()));
    }
    let rest = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
    String::from_utf8(rest.to_vec()).map_err(|_| Error::Inf("neither UTF-16LE with BOM nor UTF-8".into()))
}

/// The `CatalogFile` entries of an INF's `[Version]` section (`CatalogFile` and decorated
/// forms such as `CatalogFile.NTamd64`), as (key, value).
#[must_use]
pub fn inf_catalog_files(text: &str) -> Vec<(String, String)> {
    let mut in_version = false;
    let mut out = Vec::new();
    for raw in text.lines() {
        // Comments start with ';' outside quotes; INF values here have no quotes.
        let line = raw.split(';').next().unwrap_or("").trim();
        if line.starts_with('[') {
            in_version = line.trim_end().eq_ignore_ascii_case("[Version]");
            continue;
        }
        if !in_version {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            let key = k.trim();
            let lower = key.to_ascii_lowercase();
            if lower == "catalogfile" || lower.starts_with("catalogfile.") {
                out.push((key.to_string(), v.trim().trim_matches('"').to_string()));
            }
        }
    }
    out
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

/// Signs the package in `dir`: the image in place, then writes the catalog and the `.cer`.
///
/// Fails before changing anything if the INF's `CatalogFile` does not name `cat_name` for
/// x64 (an undecorated `CatalogFile` or `CatalogFile.NTamd64`).
pub fn sign_package(dir: &Path, opts: &PackageOptions, id: &SigningIdentity) -> Result<PackageSignature, Error> {
    let sys_path = dir.join(&opts.sys_name);
    let inf_path = dir.join(&opts.inf_name);
    let cat_path = dir.join(&opts.cat_name);
    let cer_path = dir.join(&opts.cer_name);

    let inf = read(&inf_path)?;
    let entries = inf_catalog_files(&inf_text(&inf)?);
    let names_cat = entries.iter().any(|(k, v)| {
        (k.eq_ignore_ascii_case("CatalogFile") || k.eq_ignore_ascii_case("CatalogFile.NTamd64"))
            && v.eq_ignore_ascii_case(&opts.cat_name)
    });
    if !names_cat {
        return Err(Error::Inf(format!(
            "{} has no [Version] CatalogFile = {} (found {:?})",
            inf_path.display(),
            opts.cat_name,
            entries
        )));
    }

    sign_pe_with(
        &sys_path,
        id,
        &PeSignOptions { description: opts.description.clone(), url: None, signing_time: Some(opts.time) },
    )?;
    let sys = read(&sys_path)?;
    let sys_member = CatalogMember::from_bytes(&opts.sys_name, &sys, Some(&opts.os_attr))?;
    let inf_member = CatalogMember::from_bytes(&opts.inf_name, &inf, Some(&opts.os_attr))?;
    if sys_member.kind != crate::catalog::MemberKind::PeImage {
        return Err(Error::pe(format!("{} is not a PE image", sys_path.display())));
    }

    let hwids: Vec<&str> = opts.hardware_ids.iter().map(String::as_str).collect();
    let mut cat_opts = CatalogOptions::inf2cat_10_x64(&hwids, opts.time);
    if let Some(os) = cat_opts.attributes.iter_mut().find(|a| a.name == "OS") {
        os.value.clone_from(&opts.os);
    }
    let cat = build_catalog(&[sys_member.clone(), inf_member.clone()], &cat_opts, id)?;
    // Read back what we wrote: both members present, signature good.
    let parsed = parse_catalog(&cat)?;
    verify_catalog_signature(&parsed, id.cert_der())?;
    for m in [&sys_member, &inf_member] {
        let found = parsed
            .member_by_file(&m.file_name)
            .ok_or_else(|| Error::Catalog(format!("{} missing from the catalog", m.file_name)))?;
        if found.digest != m.digest {
            return Err(Error::Catalog(format!("{} has the wrong digest in the catalog", m.file_name)));
        }
    }
    write_file(&cat_path, &cat, false)?;
    id.write_cer(&cer_path)?;

    Ok(PackageSignature {
        sys_authenticode_sha256: authenticode_digest(&sys, HashAlgorithm::Sha256)?,
        sys_authenticode_sha1: sys_member.digest,
        inf_sha1: inf_member.digest,
        cert_thumbprint: id.sha1_thumbprint_hex(),
        sys_path,
        cat_path,
        cer_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_catalog_file_entries() {
        let inf = "; comment\n[Version]\nSignature=\"$WINDOWS NT$\"\nCatalogFile = rvmini.cat ; x\n\
                   CatalogFile.NTamd64=rvmini64.cat\n[Other]\nCatalogFile=nope.cat\n";
        assert_eq!(
            inf_catalog_files(inf),
            vec![
                ("CatalogFile".to_string(), "rvmini.cat".to_string()),
                ("CatalogFile.NTamd64".to_string(), "rvmini64.cat".to_string())
            ]
        );
    }

    #[test]
    fn decodes_utf16_inf() {
        let mut b = vec![0xff, 0xfe];
        b.extend("[Version]\r\nCatalogFile=a.cat\r\n".encode_utf16().flat_map(u16::to_le_bytes));
        let t = inf_text(&b).unwrap();
        assert_eq!(inf_catalog_files(&t), vec![("CatalogFile".into(), "a.cat".into())]);
    }
}
