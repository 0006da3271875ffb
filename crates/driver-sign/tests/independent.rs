//! The signed image and the catalog, checked by tools that share no code with this crate:
//! `osslsigncode` (C, OpenSSL) and the `signify` Python package (asn1crypto, oscrypto).
//!
//! A checker that cannot be found or installed makes its test fail under CI (`CI` set) or with
//! `RVMINI_REQUIRE_SIGN_TOOLS=1`, and skip with a loud message otherwise.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};

use common::{
    build_test_pe, cert_pem_file, check_catalog, have_osslsigncode, identity, line_value, missing_tool, osslsigncode,
    scratch, show, signify_python, test_inf,
};
use driver_sign::catalog::{asn1::SpcIndirectDataContent, parse_catalog, verify_catalog_signature};
use driver_sign::pe::{HashAlgorithm, authenticode_digest, pe_layout};
use driver_sign::{PackageOptions, PackageSignature, hex_upper, sign_package, sign_pe};

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

/// A package directory with a fresh test image and INF, signed by [`sign_package`].
fn signed_package(name: &str, seed: u8) -> (PathBuf, PackageSignature) {
    let dir = scratch(name);
    fs::write(dir.join("rvmini.sys"), build_test_pe(seed)).unwrap();
    fs::write(dir.join("rvmini.inf"), test_inf()).unwrap();
    let mut opts = PackageOptions::rvmini();
    opts.time = std::time::SystemTime::now();
    let sig = sign_package(&dir, &opts, identity()).expect("sign_package");
    (dir, sig)
}

/// Flips one byte of a file in place.
fn flip_byte(path: &Path, offset: usize) {
    let mut b = fs::read(path).unwrap();
    b[offset] ^= 0x01;
    fs::write(path, b).unwrap();
}

/// File offset of the first byte of the first section's raw data (inside `.text`).
fn text_offset(image: &[u8]) -> usize {
    pe_layout(image).unwrap().size_of_headers + 16
}

/// osslsigncode's own Authenticode hash (`alg`: `sha1` or `sha256`) of the unsigned image at
/// `image`: osslsigncode signs a copy by itself (`sign -h <alg>`, not this crate's `sign_pe`),
/// and the digest is read back from the `SpcIndirectDataContent` of the signature it made
/// (`extract-signature`). Signing adds only the certificate table and the fields Authenticode
/// leaves out of the hash (CheckSum, the certificate table's directory entry), and pads the file
/// to a multiple of 8 bytes first, so for an image whose length is already one the digest is
/// that of the unsigned file.
///
/// `extract-data`, which would hand back the data to sign without signing, only came with
/// osslsigncode 2.8 (its change log); Debian 12 has 2.5. `sign` and `extract-signature` work in
/// both.
fn osslsigncode_unsigned_digest(image: &Path, alg: &str, dir: &Path) -> Vec<u8> {
    let length = fs::metadata(image).unwrap().len();
    assert!(length.is_multiple_of(8), "{}: {length} bytes, not a multiple of 8", image.display());
    let cert = cert_pem_file(dir);
    let key = dir.join("key.pem");
    fs::write(&key, identity().key_pkcs8_pem().unwrap().expose()).unwrap();
    let signed = dir.join(format!("osslsigncode-{alg}.sys"));
    let _ = fs::remove_file(&signed);
    let out = osslsigncode(&[
        os("sign"),
        os("-certs"),
        cert.as_os_str(),
        os("-key"),
        key.as_os_str(),
        os("-h"),
        os(alg),
        os("-in"),
        image.as_os_str(),
        os("-out"),
        signed.as_os_str(),
    ]);
    show(&format!("osslsigncode sign -h {alg}"), &out);
    assert!(out.status.success(), "osslsigncode sign failed");
    let signature = dir.join(format!("osslsigncode-{alg}.p7"));
    let _ = fs::remove_file(&signature);
    let out =
        osslsigncode(&[os("extract-signature"), os("-in"), signed.as_os_str(), os("-out"), signature.as_os_str()]);
    show("osslsigncode extract-signature", &out);
    assert!(out.status.success(), "osslsigncode extract-signature failed");
    // A PKCS #7 SignedData around the indirect data. osslsigncode 2.9 writes just its DER;
    // 2.5 writes the whole WIN_CERTIFICATE: dwLength (the whole entry's length), wRevision
    // 0x0200, wCertificateType 2 (PKCS_SIGNED_DATA), then the DER, padded to 8 bytes.
    let written = fs::read(&signature).unwrap();
    let der_bytes = if written.first() == Some(&0x30) {
        written.as_slice()
    } else {
        assert_eq!(written.get(4..8), Some([0x00, 0x02, 0x02, 0x00].as_slice()), "not a WIN_CERTIFICATE");
        let length = u32::from_le_bytes(written[..4].try_into().unwrap()) as usize;
        assert_eq!(length, written.len(), "WIN_CERTIFICATE dwLength");
        let der = &written[8..];
        // The DER length of the outer SEQUENCE (long form, as any signature needs), then padding.
        assert_eq!(der[..2], [0x30, 0x82], "a SEQUENCE with a two-byte length");
        let end = 4 + usize::from(u16::from_be_bytes([der[2], der[3]]));
        assert!(der[end..].iter().all(|&b| b == 0) && der.len() - end < 8, "padding after the DER");
        &der[..end]
    };
    let ci = <cms::content_info::ContentInfo as der::Decode>::from_der(der_bytes).unwrap();
    let sd = ci.content.decode_as::<cms::signed_data::SignedData>().unwrap();
    let content = sd.encap_content_info.econtent.unwrap();
    let idc: SpcIndirectDataContent = content.decode_as().unwrap();
    idc.message_digest.digest.as_bytes().to_vec()
}

#[test]
fn unsigned_pe_hash_matches_osslsigncode() {
    if !have_osslsigncode() {
        return;
    }
    let dir = scratch("unsigned-hash");
    let image = dir.join("image.sys");
    let bytes = build_test_pe(1);
    fs::write(&image, &bytes).unwrap();
    for (alg, ours) in [("sha256", HashAlgorithm::Sha256), ("sha1", HashAlgorithm::Sha1)] {
        let theirs = osslsigncode_unsigned_digest(&image, alg, &dir);
        assert_eq!(hex_upper(&theirs), hex_upper(&authenticode_digest(&bytes, ours).unwrap()), "{alg}");
    }
}

#[test]
fn real_driver_image_hash_matches_osslsigncode_if_built() {
    // The driver as the workspace builds it, if a release build exists; the self-made image
    // above covers the algorithm either way.
    let candidates = [
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/x86_64-pc-windows-msvc/release/rvmini.dll"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/x86_64-pc-windows-msvc/debug/rvmini.dll"),
    ];
    let Some(image) = candidates.iter().find(|p| p.is_file()) else {
        eprintln!("note: no built rvmini.dll found; the real-image hash comparison did not run");
        return;
    };
    if !have_osslsigncode() {
        return;
    }
    let dir = scratch("real-image");
    let bytes = fs::read(image).unwrap();
    let copy = dir.join("rvmini.sys");
    fs::write(&copy, &bytes).unwrap();
    let theirs = osslsigncode_unsigned_digest(&copy, "sha256", &dir);
    assert_eq!(theirs, authenticode_digest(&bytes, HashAlgorithm::Sha256).unwrap());
}

#[test]
fn signed_image_verifies_with_osslsigncode_and_tampering_breaks_it() {
    if !have_osslsigncode() {
        return;
    }
    let dir = scratch("image");
    let image = dir.join("rvmini.sys");
    fs::write(&image, build_test_pe(2)).unwrap();
    sign_pe(&image, identity()).expect("sign_pe");
    let ca = cert_pem_file(&dir);

    let out = osslsigncode(&[os("verify"), os("-CAfile"), ca.as_os_str(), os("-in"), image.as_os_str()]);
    let text = show("osslsigncode verify (signed image)", &out);
    assert!(out.status.success(), "osslsigncode rejected the signed image");
    assert!(text.contains("Signature verification: ok"), "{text}");
    assert!(line_value(&text, "Message digest algorithm").is_some_and(|v| v.eq_ignore_ascii_case("SHA256")), "{text}");
    // osslsigncode's own hash of the image equals ours and the one in the signature.
    let signed = fs::read(&image).unwrap();
    let ours = hex_upper(&authenticode_digest(&signed, HashAlgorithm::Sha256).unwrap());
    let calculated = line_value(&text, "Calculated message digest").expect("calculated digest line");
    let current = line_value(&text, "Current message digest").expect("current digest line");
    assert_eq!(calculated.replace(' ', "").to_uppercase(), ours);
    assert_eq!(current.replace(' ', "").to_uppercase(), ours);

    // Another certificate as the only trust anchor: must not verify.
    let other = driver_sign::generate_test_identity(2048, std::time::SystemTime::now()).unwrap();
    let other_ca = dir.join("other.pem");
    fs::write(&other_ca, other.cert_pem().unwrap()).unwrap();
    let out = osslsigncode(&[os("verify"), os("-CAfile"), other_ca.as_os_str(), os("-in"), image.as_os_str()]);
    show("osslsigncode verify (wrong trust anchor)", &out);
    assert!(!out.status.success(), "verified against a certificate that did not sign it");

    // One changed byte in .text: must not verify.
    flip_byte(&image, text_offset(&signed));
    let out = osslsigncode(&[os("verify"), os("-CAfile"), ca.as_os_str(), os("-in"), image.as_os_str()]);
    show("osslsigncode verify (tampered image)", &out);
    assert!(!out.status.success(), "osslsigncode accepted a tampered image");
}

fn osslsigncode_catalog_check(dir: &Path, member: &str) -> (bool, String) {
    let ca = cert_pem_file(dir);
    let out = osslsigncode(&[
        os("verify"),
        os("-CAfile"),
        ca.as_os_str(),
        os("-catalog"),
        dir.join("rvmini.cat").as_os_str(),
        os("-in"),
        dir.join(member).as_os_str(),
    ]);
    let text = show(&format!("osslsigncode verify -catalog (member {member})"), &out);
    (out.status.success(), text)
}

#[test]
fn catalog_verifies_with_osslsigncode_and_tampering_breaks_it() {
    if !have_osslsigncode() {
        return;
    }
    let (dir, sig) = signed_package("cat-ossl", 3);
    let ca = cert_pem_file(&dir);

    // The catalog's own signature.
    let out =
        osslsigncode(&[os("verify"), os("-CAfile"), ca.as_os_str(), os("-in"), dir.join("rvmini.cat").as_os_str()]);
    let text = show("osslsigncode verify rvmini.cat", &out);
    assert!(out.status.success(), "osslsigncode rejected the catalog signature");
    assert!(text.contains("Signature verification: ok"), "{text}");

    // The image is a member: osslsigncode recomputes its hash with the algorithm the catalog
    // entry names (SHA-1) and finds it.
    let (ok, text) = osslsigncode_catalog_check(&dir, "rvmini.sys");
    assert!(ok, "osslsigncode: rvmini.sys is not a member of rvmini.cat");
    let calculated = line_value(&text, "Calculated message digest").expect("calculated digest line");
    assert_eq!(calculated.replace(' ', "").to_uppercase(), hex_upper(&sig.sys_authenticode_sha1));

    // osslsigncode has no parser for .inf files, so it cannot check the INF member; signify
    // does (see catalog_checked_by_signify). Record that limitation instead of assuming it.
    let (inf_ok, inf_text) = osslsigncode_catalog_check(&dir, "rvmini.inf");
    if !inf_ok {
        eprintln!("note: osslsigncode cannot check .inf members: {}", inf_text.lines().last().unwrap_or(""));
    }

    // Tamper with the image: no longer a member.
    flip_byte(&dir.join("rvmini.sys"), text_offset(&fs::read(dir.join("rvmini.sys")).unwrap()));
    let (ok, _) = osslsigncode_catalog_check(&dir, "rvmini.sys");
    assert!(!ok, "osslsigncode found a tampered image in the catalog");
}

#[test]
fn catalog_with_a_changed_byte_fails_its_signature_check() {
    if !have_osslsigncode() {
        return;
    }
    let (dir, _) = signed_package("cat-tamper", 4);
    let cat_path = dir.join("rvmini.cat");
    let cat = fs::read(&cat_path).unwrap();
    // Change one character of the File attribute of a member, inside the signed content.
    let needle: Vec<u8> = "rvmini.inf".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let at = cat.windows(needle.len()).position(|w| w == needle.as_slice()).expect("File attribute");
    flip_byte(&cat_path, at);
    let ca = cert_pem_file(&dir);
    let out = osslsigncode(&[os("verify"), os("-CAfile"), ca.as_os_str(), os("-in"), cat_path.as_os_str()]);
    show("osslsigncode verify (tampered catalog)", &out);
    assert!(!out.status.success(), "osslsigncode accepted a catalog whose content changed");
    // This crate's own check agrees.
    let parsed = parse_catalog(&fs::read(&cat_path).unwrap()).unwrap();
    assert!(verify_catalog_signature(&parsed, identity().cert_der()).is_err());

    if let Some(py) = signify_python() {
        let out = check_catalog(&py, &cat_path, &ca, &[&dir.join("rvmini.sys"), &dir.join("rvmini.inf")]);
        let text = show("check_catalog.py (tampered catalog)", &out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(text.contains("FAIL signature"), "{text}");
    } else {
        missing_tool("the signify Python package", "pip install signify==0.9.3");
    }
}

#[test]
fn catalog_checked_by_signify() {
    let Some(py) = signify_python() else {
        missing_tool("the signify Python package", "pip install signify==0.9.3");
        return;
    };
    let (dir, sig) = signed_package("cat-signify", 5);
    let ca = cert_pem_file(&dir);
    let sys = dir.join("rvmini.sys");
    let inf = dir.join("rvmini.inf");
    let cat = dir.join("rvmini.cat");

    let out = check_catalog(&py, &cat, &ca, &[&sys, &inf]);
    let text = show("check_catalog.py", &out);
    assert_eq!(out.status.code(), Some(0), "signify rejected the catalog:\n{text}");
    assert!(text.contains("PASS signature"), "{text}");
    // signify's recomputed hashes are the ones this crate put into the catalog.
    assert!(text.contains(&format!("SignedPEFile sha1 {}", hex_upper(&sig.sys_authenticode_sha1))), "{text}");
    assert!(text.contains(&format!("FlatFile sha1 {}", hex_upper(&sig.inf_sha1))), "{text}");

    // Wrong trust anchor: signature check must fail.
    let other = driver_sign::generate_test_identity(2048, std::time::SystemTime::now()).unwrap();
    let other_ca = dir.join("other.pem");
    fs::write(&other_ca, other.cert_pem().unwrap()).unwrap();
    let out = check_catalog(&py, &cat, &other_ca, &[&sys, &inf]);
    let text = show("check_catalog.py (wrong trust anchor)", &out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL signature"), "{text}");

    // One changed byte in the image: its recomputed hash is not a member.
    let pristine_sys = fs::read(&sys).unwrap();
    flip_byte(&sys, text_offset(&pristine_sys));
    let out = check_catalog(&py, &cat, &ca, &[&sys, &inf]);
    let text = show("check_catalog.py (tampered .sys)", &out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL member rvmini.sys"), "{text}");
    assert!(text.contains("PASS member rvmini.inf"), "{text}");
    fs::write(&sys, &pristine_sys).unwrap();

    // One changed byte in the INF: likewise.
    let pristine_inf = fs::read(&inf).unwrap();
    flip_byte(&inf, pristine_inf.len() / 2);
    let out = check_catalog(&py, &cat, &ca, &[&sys, &inf]);
    let text = show("check_catalog.py (tampered .inf)", &out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("FAIL member rvmini.inf"), "{text}");
    assert!(text.contains("PASS member rvmini.sys"), "{text}");
}

#[test]
fn package_contents_and_structure() {
    if !have_osslsigncode() {
        return;
    }
    let (dir, sig) = signed_package("package", 6);
    // The .cer in the package is the signing certificate, DER.
    assert_eq!(fs::read(&sig.cer_path).unwrap(), identity().cert_der());
    // The catalog lists exactly the two files with the inf2cat attributes.
    let parsed = parse_catalog(&fs::read(dir.join("rvmini.cat")).unwrap()).unwrap();
    verify_catalog_signature(&parsed, identity().cert_der()).unwrap();
    assert_eq!(parsed.members.len(), 2);
    let attr = |m: &driver_sign::catalog::ParsedMember, n: &str| {
        m.attributes.iter().find(|a| a.name == n).map(|a| a.value.clone())
    };
    let sys = parsed.member_by_file("rvmini.sys").unwrap();
    let inf = parsed.member_by_file("rvmini.inf").unwrap();
    assert_eq!(sys.kind, Some(driver_sign::MemberKind::PeImage));
    assert_eq!(inf.kind, Some(driver_sign::MemberKind::Flat));
    assert_eq!(attr(sys, "OSAttr").as_deref(), Some("2:10.0"));
    assert_eq!(attr(inf, "OSAttr").as_deref(), Some("2:10.0"));
    assert_eq!(sys.subject_guid.as_deref(), Some(driver_sign::catalog::SUBJECT_GUID_PE));
    assert_eq!(inf.subject_guid.as_deref(), Some(driver_sign::catalog::SUBJECT_GUID_FLAT));
    assert_eq!(sys.tag, hex_upper(&sig.sys_authenticode_sha1));
    assert_eq!(inf.tag, hex_upper(&sig.inf_sha1));
    let cat_attrs: Vec<(String, String)> =
        parsed.attributes.iter().map(|a| (a.name.clone(), a.value.clone())).collect();
    assert_eq!(cat_attrs, vec![("OS".into(), "_v100_X64".into()), ("HWID1".into(), r"root\rvmini".into())]);
    // Signing an INF whose CatalogFile names another catalog is refused before anything changes.
    let dir2 = scratch("wrong-catalogfile");
    fs::write(dir2.join("rvmini.sys"), build_test_pe(7)).unwrap();
    let inf_text = String::from_utf8(test_inf()).unwrap().replace("rvmini.cat", "other.cat");
    fs::write(dir2.join("rvmini.inf"), inf_text).unwrap();
    let before = fs::read(dir2.join("rvmini.sys")).unwrap();
    let err = sign_package(&dir2, &PackageOptions::rvmini(), identity()).unwrap_err();
    assert!(err.to_string().contains("CatalogFile"), "{err}");
    assert_eq!(fs::read(dir2.join("rvmini.sys")).unwrap(), before);
    assert!(!dir2.join("rvmini.cat").exists());
}
