//! Embedded Authenticode signatures on PE images, made with `osslsigncode`.
//!
//! `osslsigncode sign -h sha256` writes a PKCS #7 SignedData with an `SpcIndirectDataContent`
//! holding the image's SHA-256 Authenticode digest into the image's certificate table, and
//! updates the optional header's checksum. No timestamp is requested: the build machines reach
//! no time-stamping server, and test signing on a Windows machine with `testsigning on` does not
//! need one (the signature then stays valid only while the certificate does: three years for
//! the generated test certificate).
//!
//! The certificate and key reach `osslsigncode` as files in a fresh private (0700) temporary
//! directory that is removed afterwards.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::Error;
use crate::identity::{SigningIdentity, write_file};
use crate::pe::{HashAlgorithm, authenticode_digest, pe_layout};

/// The one sentence printed when `osslsigncode` is missing.
pub const OSSLSIGNCODE_MISSING: &str = "osslsigncode is not installed: install it with \
     `sudo apt-get install osslsigncode` (Debian/Ubuntu package osslsigncode; `brew install \
     osslsigncode` on macOS).";

/// Checks that `osslsigncode` runs and returns its version line.
pub fn osslsigncode_preflight() -> Result<String, Error> {
    let out = Command::new("osslsigncode")
        .arg("--version")
        .output()
        .map_err(|_| Error::Tool { tool: "osslsigncode", message: OSSLSIGNCODE_MISSING.to_string() })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let first = text.lines().next().unwrap_or("").trim().to_string();
    if first.starts_with("osslsigncode") {
        Ok(first)
    } else {
        Err(Error::Tool {
            tool: "osslsigncode",
            message: format!("unexpected `osslsigncode --version` output: {first:?}"),
        })
    }
}

/// Options for [`sign_pe_with`].
#[derive(Clone, Debug, Default)]
pub struct PeSignOptions {
    /// Program name written into the signature (`SpcSpOpusInfo`, `-n`).
    pub description: Option<String>,
    /// URL written into the signature (`-i`).
    pub url: Option<String>,
    /// Signing time recorded in the signature (`-time`); `None` = now. Set it (for example
    /// from `SOURCE_DATE_EPOCH`) for reproducible output: RSA PKCS #1 v1.5 signatures are
    /// deterministic, so the same inputs then give the same signed image.
    pub signing_time: Option<SystemTime>,
}

/// A private temporary directory, removed on drop.
pub(crate) struct PrivateTempDir(PathBuf);

impl PrivateTempDir {
    pub(crate) fn new(tag: &str) -> Result<Self, Error> {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!("driver-sign-{tag}-{}-{nanos}", std::process::id()));
        let mut b = fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt as _;
            b.mode(0o700);
        }
        b.create(&path).map_err(|source| Error::Io { path: path.clone(), source })?;
        Ok(PrivateTempDir(path))
    }

    pub(crate) fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for PrivateTempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn run_osslsigncode(args: &[&std::ffi::OsStr]) -> Result<String, Error> {
    let out = Command::new("osslsigncode")
        .args(args)
        .output()
        .map_err(|_| Error::Tool { tool: "osslsigncode", message: OSSLSIGNCODE_MISSING.to_string() })?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(Error::Tool {
            tool: "osslsigncode",
            message: format!(
                "`osslsigncode {}` failed ({}): {}{}",
                args.first().map(|a| a.to_string_lossy()).unwrap_or_default(),
                out.status,
                stdout.trim(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        })
    }
}

/// Signs the PE image at `path` in place (SHA-256, no timestamp). An existing signature is
/// replaced.
pub fn sign_pe(path: &Path, id: &SigningIdentity) -> Result<(), Error> {
    sign_pe_with(path, id, &PeSignOptions::default())
}

/// [`sign_pe`] with options.
pub fn sign_pe_with(path: &Path, id: &SigningIdentity, opts: &PeSignOptions) -> Result<(), Error> {
    osslsigncode_preflight()?;
    let original = fs::read(path).map_err(|source| Error::Io { path: path.into(), source })?;
    // Refuse what we cannot hash before handing it on: the catalog needs our own PE hash of
    // the signed result, so the image must be one this crate understands.
    let layout = pe_layout(&original)?;

    let tmp = PrivateTempDir::new("sign")?;
    let cert = tmp.path().join("cert.pem");
    let key = tmp.path().join("key.pem");
    write_file(&cert, id.cert_pem()?.as_bytes(), false)?;
    write_file(&key, id.key_pkcs8_pem()?.expose().as_bytes(), true)?;

    let mut input = path.to_path_buf();
    if layout.certificate_table.is_some() {
        let unsigned = tmp.path().join("unsigned.bin");
        run_osslsigncode(&[
            "remove-signature".as_ref(),
            "-in".as_ref(),
            path.as_os_str(),
            "-out".as_ref(),
            unsigned.as_os_str(),
        ])?;
        input = unsigned;
    }

    let out = tmp.path().join("signed.bin");
    let time_arg;
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "sign".as_ref(),
        "-certs".as_ref(),
        cert.as_os_str(),
        "-key".as_ref(),
        key.as_os_str(),
        "-h".as_ref(),
        "sha256".as_ref(),
    ];
    if let Some(d) = &opts.description {
        args.extend([OsStr::new("-n"), OsStr::new(d)]);
    }
    if let Some(u) = &opts.url {
        args.extend([OsStr::new("-i"), OsStr::new(u)]);
    }
    if let Some(t) = opts.signing_time {
        let secs = t.duration_since(UNIX_EPOCH).map_err(|_| Error::Other("signing time before 1970".into()))?.as_secs();
        time_arg = secs.to_string();
        args.extend([OsStr::new("-time"), OsStr::new(&time_arg)]);
    }
    args.extend([OsStr::new("-in"), input.as_os_str(), OsStr::new("-out"), out.as_os_str()]);
    run_osslsigncode(&args)?;

    let signed = fs::read(&out).map_err(|source| Error::Io { path: out.clone(), source })?;
    // The result must still hash (with its certificate table now at the end) and the signature
    // must carry the same SHA-256 digest we compute.
    let ours = authenticode_digest(&signed, HashAlgorithm::Sha256)?;
    let embedded = embedded_sha256_digest(&signed)?;
    if embedded != ours {
        return Err(Error::Other(format!(
            "osslsigncode signed digest {} but this crate computes {} for the signed image",
            crate::hex_upper(&embedded),
            crate::hex_upper(&ours)
        )));
    }
    write_file(path, &signed, false)
}

/// The message digest inside the first embedded signature of a signed image (the digest in its
/// `SpcIndirectDataContent`), for cross-checking against [`authenticode_digest`].
pub fn embedded_sha256_digest(image: &[u8]) -> Result<Vec<u8>, Error> {
    use der::{Decode, Encode};
    let layout = pe_layout(image)?;
    let (off, len) = layout.certificate_table.ok_or_else(|| Error::pe("the image has no embedded signature"))?;
    // WIN_CERTIFICATE: dwLength u32, wRevision u16, wCertificateType u16, bCertificate[].
    let table = &image[off..off + len];
    if table.len() < 8 {
        return Err(Error::pe("certificate table shorter than its header"));
    }
    let dw_length = u32::from_le_bytes([table[0], table[1], table[2], table[3]]) as usize;
    let cert_type = u16::from_le_bytes([table[6], table[7]]);
    if cert_type != 2 || dw_length < 8 || dw_length > table.len() {
        return Err(Error::pe("first certificate-table entry is not a PKCS #7 signature"));
    }
    let blob = &table[8..dw_length];
    // Trailing zero padding after the DER is allowed; decode one value and ignore the rest.
    let mut reader = der::SliceReader::new(blob)?;
    let ci: cms::content_info::ContentInfo = der::Decode::decode(&mut reader)?;
    let sd = ci.content.decode_as::<cms::signed_data::SignedData>()?;
    let econtent = sd.encap_content_info.econtent.ok_or_else(|| Error::pe("signature without content"))?;
    let idc = crate::catalog::asn1::SpcIndirectDataContent::from_der(&econtent.to_der()?)?;
    Ok(idc.message_digest.digest.as_bytes().to_vec())
}
