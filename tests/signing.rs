//! The real, test-signed driver package (`cargo xtask package`), checked with tools that share
//! no code with `driver-sign`, which made the signatures:
//!
//! * `osslsigncode verify` (C, OpenSSL): the embedded Authenticode signature of `rvmini.sys`
//!   and the catalog's own signature, with the package's `.cer` as the only trust anchor, and
//!   `rvmini.sys` as a member of `rvmini.cat`;
//! * the `signify` Python package (asn1crypto, oscrypto), through
//!   `crates/driver-sign/tests/check_catalog.py`: the catalog's signature, and the recomputed
//!   hashes of `rvmini.sys` (Authenticode) and `rvmini.inf` (flat) as members.
//!
//! Tamper tests change one byte in copies of the files and expect those checks to fail.
//!
//! The checkers and the rule for a missing one are shared with the driver-sign tests
//! (`crates/driver-sign/tests/common/tools.rs`): with `CI` set (or
//! `RVMINI_REQUIRE_SIGN_TOOLS=1`) a missing checker fails the test, otherwise it is skipped with
//! a loud message. The signify venv, when one is needed, is the same `<target-dir>/tmp/signify-venv`.

mod common;
#[path = "../crates/driver-sign/tests/common/tools.rs"]
mod tools;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use object::LittleEndian as LE;
use object::read::pe::PeFile64;
use tools::line_value;

/// The public certificate `cargo xtask package` writes (driver-sign's `PackageOptions::rvmini`).
const CER: &str = "rvmini-test-signing.cer";

/// Everything the signed package holds, sorted.
const PACKAGE_FILES: [&str; 6] = [CER, "rvmini.cat", "rvmini.inf", "rvmini.map", "rvmini.pdb", "rvmini.sys"];

fn os(text: &str) -> &OsStr {
    OsStr::new(text)
}

/// The package's `.cer` (DER) as a PEM file in `dir`, for `osslsigncode -CAfile`.
fn trust_anchor_pem(dir: &Path) -> PathBuf {
    let der = common::read_package_file(CER);
    assert_eq!(der.first(), Some(&0x30), "{CER} is not a DER certificate (no SEQUENCE tag)");
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    let encoded = base64(&der);
    for line in encoded.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    let path = dir.join("trust-anchor.pem");
    fs::write(&path, pem).unwrap();
    path
}

/// Standard base64 with padding (RFC 4648 section 4).
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let word = (u32::from(chunk[0]) << 16)
            | (u32::from(chunk.get(1).copied().unwrap_or(0)) << 8)
            | u32::from(chunk.get(2).copied().unwrap_or(0));
        for index in 0..4 {
            if index <= chunk.len() {
                out.push(char::from(ALPHABET[((word >> (18 - 6 * index)) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A fresh scratch directory under the test target directory.
fn scratch(name: &str) -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("signing-tests").join(format!("{name}-{}", std::process::id()));
    if dir.exists() {
        fs::remove_dir_all(&dir).unwrap();
    }
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Copies of the files the signature checks read, in a scratch directory.
fn copy_of_package(name: &str) -> PathBuf {
    let dir = scratch(name);
    for file in ["rvmini.sys", "rvmini.inf", "rvmini.cat", CER] {
        fs::copy(common::package_dir().join(file), dir.join(file)).unwrap();
    }
    dir
}

/// Flips the low bit of the byte at `offset` of a file.
fn flip_byte(path: &Path, offset: usize) {
    let mut bytes = fs::read(path).unwrap();
    bytes[offset] ^= 0x01;
    fs::write(path, bytes).unwrap();
}

/// File offset of a byte in the middle of `.text`'s raw data.
fn text_byte(image: &[u8]) -> usize {
    let file = PeFile64::parse(image).expect("rvmini.sys is a PE32+ image");
    let text = file
        .section_table()
        .iter()
        .find(|section| section.raw_name() == b".text")
        .expect("rvmini.sys has a .text section");
    let start = text.pointer_to_raw_data.get(LE) as usize;
    let size = text.size_of_raw_data.get(LE) as usize;
    assert!(size > 0 && start + size <= image.len(), ".text raw data lies inside the file");
    start + size / 2
}

/// `osslsigncode verify -CAfile <anchor> [extra...] -in <file>`: (success, output).
fn osslsigncode_verify(anchor: &Path, extra: &[&OsStr], file: &Path, label: &str) -> (bool, String) {
    let mut args = vec![os("verify"), os("-CAfile"), anchor.as_os_str()];
    args.extend_from_slice(extra);
    args.extend([os("-in"), file.as_os_str()]);
    let out = tools::osslsigncode(&args);
    let text = tools::show(label, &out);
    (out.status.success(), text)
}

/// Whether `osslsigncode verify` found the image's PE checksum field equal to the checksum it
/// computed; `None` if its output has no checksum lines. Both output forms are read:
///
/// * osslsigncode 2.5 always prints `Current PE checksum   : X` and `Calculated PE checksum: Y`,
///   the second with `MISMATCH!!!` appended when they differ;
/// * osslsigncode 2.9 prints one `PE checksum   : X` line when they agree, and the `Current` and
///   `Calculated` pair (without a `MISMATCH` mark) when they do not.
fn pe_checksum_agrees(text: &str) -> Option<bool> {
    if line_value(text, "PE checksum").is_some() {
        return Some(true);
    }
    let first_word = |label: &str| line_value(text, label).and_then(|value| value.split_whitespace().next());
    let current = first_word("Current PE checksum")?;
    let calculated = first_word("Calculated PE checksum")?;
    let marked = line_value(text, "Calculated PE checksum").is_some_and(|value| value.contains("MISMATCH"));
    Some(current.eq_ignore_ascii_case(calculated) && !marked)
}

/// `check_catalog.py` on `dir/rvmini.cat` with `dir`'s `.cer` as the trust anchor and the
/// `.sys` and `.inf` of `dir` as the required members: (exit code, output).
fn signify_check(py: &Path, dir: &Path, label: &str) -> (Option<i32>, String) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/driver-sign/tests/check_catalog.py");
    let out = tools::run_check_catalog(
        &script,
        py,
        &dir.join("rvmini.cat"),
        &dir.join(CER),
        &[&dir.join("rvmini.sys"), &dir.join("rvmini.inf")],
    );
    let text = tools::show(label, &out);
    (out.status.code(), text)
}

/// `[Version]` `CatalogFile` entries (plain and decorated, e.g. `CatalogFile.NTamd64`) of an INF,
/// as (key, value); `;` comments and surrounding quotes removed.
fn inf_catalog_files(text: &str) -> Vec<(String, String)> {
    let mut in_version = false;
    let mut found = Vec::new();
    for raw in text.lines() {
        let line = raw.split(';').next().unwrap_or_default().trim();
        if let Some(rest) = line.strip_prefix('[') {
            in_version = rest.split(']').next().is_some_and(|name| name.trim().eq_ignore_ascii_case("Version"));
            continue;
        }
        if let (true, Some((key, value))) = (in_version, line.split_once('=')) {
            let key = key.trim();
            let lower = key.to_ascii_lowercase();
            if lower == "catalogfile" || lower.starts_with("catalogfile.") {
                found.push((key.to_owned(), value.trim().trim_matches('"').to_owned()));
            }
        }
    }
    found
}

#[test]
fn package_holds_exactly_the_signed_driver_files_and_no_key() {
    let dir = common::package_dir();
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("listing {}: {error}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, PACKAGE_FILES, "files in {}", dir.display());
    for name in PACKAGE_FILES {
        let bytes = common::read_package_file(name);
        assert!(!bytes.is_empty(), "{name} is empty");
        let private = b"PRIVATE KEY";
        assert!(!bytes.windows(private.len()).any(|window| window == private), "{name} holds a private key");
    }
}

#[test]
fn inf_catalog_file_names_rvmini_cat() {
    let inf = String::from_utf8(common::read_package_file("rvmini.inf")).expect("rvmini.inf is UTF-8");
    let entries = inf_catalog_files(&inf);
    assert_eq!(entries, [("CatalogFile".to_owned(), "rvmini.cat".to_owned())], "[Version] CatalogFile entries");
}

#[test]
fn inf_catalog_file_parser_sees_decorations_sections_and_comments() {
    let text = "[Version]\r\nCatalogFile = a.cat ; note\r\nCatalogFile.NTamd64=\"b.cat\"\r\n; CatalogFile = c.cat\r\n\
                [Strings]\r\nCatalogFile = d.cat\r\n";
    assert_eq!(
        inf_catalog_files(text),
        [("CatalogFile".to_owned(), "a.cat".to_owned()), ("CatalogFile.NTamd64".to_owned(), "b.cat".to_owned())]
    );
}

#[test]
fn base64_matches_rfc_4648_vectors() {
    for (input, expected) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64(input.as_bytes()), expected, "{input:?}");
    }
}

#[test]
fn image_signature_verifies_with_osslsigncode_against_the_package_certificate() {
    if !tools::have_osslsigncode() {
        return;
    }
    let dir = scratch("image");
    let anchor = trust_anchor_pem(&dir);
    let image = common::driver_image();
    let (ok, text) = osslsigncode_verify(&anchor, &[], &image, "osslsigncode verify rvmini.sys");
    assert!(ok, "osslsigncode rejected the signature of {}", image.display());
    assert!(text.contains("Signature verification: ok"), "{text}");
    assert!(text.contains("Number of verified signatures: 1"), "{text}");
    assert!(line_value(&text, "Message digest algorithm").is_some_and(|v| v.eq_ignore_ascii_case("SHA256")), "{text}");
    let current = line_value(&text, "Current message digest").expect("current digest line");
    let calculated = line_value(&text, "Calculated message digest").expect("calculated digest line");
    assert_eq!(current, calculated, "the digest in the signature is not the image's");
    // The CheckSum field is outside the Authenticode hash, so osslsigncode accepts a signature
    // whatever it holds; it only reports whether the field matches the file.
    assert_eq!(pe_checksum_agrees(&text), Some(true), "osslsigncode: the PE checksum does not match\n{text}");

    // Control: the same signature does not chain to unrelated roots (the system CA bundle), so
    // it is the package's certificate that makes the check pass.
    let system_roots = Path::new("/etc/ssl/certs/ca-certificates.crt");
    if system_roots.is_file() {
        let (ok, _) = osslsigncode_verify(system_roots, &[], &image, "osslsigncode verify (system roots only)");
        assert!(!ok, "rvmini.sys verified against the system roots: the test certificate must not chain to them");
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_wrong_pe_checksum_is_reported_by_osslsigncode_and_seen_by_the_check() {
    if !tools::have_osslsigncode() {
        return;
    }
    let dir = copy_of_package("checksum");
    let anchor = trust_anchor_pem(&dir);
    let sys = dir.join("rvmini.sys");
    // IMAGE_OPTIONAL_HEADER64::CheckSum: PE signature (4) + file header (20) + 64 bytes in.
    let image = fs::read(&sys).unwrap();
    let field = PeFile64::parse(image.as_slice()).expect("rvmini.sys is a PE32+ image").dos_header().nt_headers_offset()
        as usize
        + 4
        + 20
        + 64;
    flip_byte(&sys, field);
    let (ok, text) = osslsigncode_verify(&anchor, &[], &sys, "osslsigncode verify (CheckSum field changed)");
    // The field is not hashed: the signature still verifies, so only the checksum lines tell.
    assert!(ok, "osslsigncode rejected a signature whose image differs only in the CheckSum field");
    assert_eq!(pe_checksum_agrees(&text), Some(false), "the checksum check missed a wrong CheckSum field\n{text}");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn pe_checksum_lines_of_osslsigncode_2_5_and_2_9_are_read() {
    // 2.5, agreeing and not.
    let agree = "Current PE checksum   : 00019789\nCalculated PE checksum: 00019789\n\nSignature Index: 0\n";
    let differ = "Current PE checksum   : 00019788\nCalculated PE checksum: 00019789    MISMATCH!!!\n";
    assert_eq!(pe_checksum_agrees(agree), Some(true));
    assert_eq!(pe_checksum_agrees(differ), Some(false));
    // 2.9, agreeing and not.
    assert_eq!(pe_checksum_agrees("PE checksum   : 00019789\n\nSignature Index: 0\n"), Some(true));
    let differ = "Current PE checksum   : 00019788\nCalculated PE checksum: 00019789\nWarning: invalid PE checksum\n";
    assert_eq!(pe_checksum_agrees(differ), Some(false));
    // No checksum lines at all.
    assert_eq!(pe_checksum_agrees("Signature verification: ok\n"), None);
}

#[test]
fn catalog_signature_and_image_membership_verify_with_osslsigncode() {
    if !tools::have_osslsigncode() {
        return;
    }
    let dir = scratch("catalog");
    let anchor = trust_anchor_pem(&dir);
    let package = common::package_dir();
    let (ok, text) = osslsigncode_verify(&anchor, &[], &package.join("rvmini.cat"), "osslsigncode verify rvmini.cat");
    assert!(ok && text.contains("Signature verification: ok"), "osslsigncode rejected the catalog signature");

    let catalog = package.join("rvmini.cat");
    let (ok, text) = osslsigncode_verify(
        &anchor,
        &[os("-catalog"), catalog.as_os_str()],
        &package.join("rvmini.sys"),
        "osslsigncode verify -catalog rvmini.cat -in rvmini.sys",
    );
    assert!(ok, "osslsigncode did not find rvmini.sys in rvmini.cat");
    let calculated = line_value(&text, "Calculated message digest").expect("calculated digest line");
    let current = line_value(&text, "Current message digest").expect("current digest line");
    assert_eq!(calculated, current, "{text}");
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn catalog_checked_by_signify() {
    let Some(py) = tools::have_signify() else {
        return;
    };
    let (code, text) = signify_check(&py, common::package_dir(), "check_catalog.py (package)");
    assert_eq!(code, Some(0), "signify rejected the package's catalog:\n{text}");
    assert!(text.contains("PASS signature"), "{text}");
    assert!(text.contains("PASS member rvmini.sys: SignedPEFile"), "{text}");
    assert!(text.contains("PASS member rvmini.inf: FlatFile"), "{text}");
    assert!(text.trim_end().ends_with("\"ok\": true}"), "{text}");
}

#[test]
fn one_changed_byte_in_the_image_breaks_its_signature_and_its_catalog_entry() {
    let have_osslsigncode = tools::have_osslsigncode();
    let signify = tools::have_signify();
    if !have_osslsigncode && signify.is_none() {
        return;
    }
    let dir = copy_of_package("tampered-sys");
    let anchor = trust_anchor_pem(&dir);
    let sys = dir.join("rvmini.sys");
    let cat = dir.join("rvmini.cat");
    let catalog_args = [os("-catalog"), cat.as_os_str()];

    // Control: the untouched copies pass, so a failure below comes from the changed byte.
    if have_osslsigncode {
        assert!(osslsigncode_verify(&anchor, &[], &sys, "osslsigncode verify (copy)").0);
        assert!(osslsigncode_verify(&anchor, &catalog_args, &sys, "osslsigncode verify -catalog (copy)").0);
    }
    if let Some(py) = &signify {
        assert_eq!(signify_check(py, &dir, "check_catalog.py (copy)").0, Some(0));
    }

    flip_byte(&sys, text_byte(&fs::read(&sys).unwrap()));
    if have_osslsigncode {
        let (ok, _) = osslsigncode_verify(&anchor, &[], &sys, "osslsigncode verify (tampered .sys)");
        assert!(!ok, "osslsigncode accepted rvmini.sys with one changed byte");
        let (ok, _) = osslsigncode_verify(&anchor, &catalog_args, &sys, "osslsigncode verify -catalog (tampered .sys)");
        assert!(!ok, "osslsigncode found rvmini.sys with one changed byte in the catalog");
    }
    if let Some(py) = &signify {
        let (code, text) = signify_check(py, &dir, "check_catalog.py (tampered .sys)");
        assert_eq!(code, Some(1), "{text}");
        assert!(text.contains("FAIL member rvmini.sys"), "{text}");
        assert!(text.contains("PASS member rvmini.inf"), "{text}");
        assert!(text.contains("PASS signature"), "the catalog itself is unchanged: {text}");
    }
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn one_changed_byte_in_the_inf_breaks_its_catalog_entry() {
    let Some(py) = tools::have_signify() else {
        return;
    };
    let dir = copy_of_package("tampered-inf");
    assert_eq!(signify_check(&py, &dir, "check_catalog.py (copy)").0, Some(0), "control: the untouched copy");

    let inf = dir.join("rvmini.inf");
    let length = fs::metadata(&inf).unwrap().len();
    flip_byte(&inf, usize::try_from(length / 2).unwrap());
    let (code, text) = signify_check(&py, &dir, "check_catalog.py (tampered .inf)");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("FAIL member rvmini.inf"), "{text}");
    assert!(text.contains("PASS member rvmini.sys"), "{text}");
    fs::remove_dir_all(&dir).unwrap();
}
