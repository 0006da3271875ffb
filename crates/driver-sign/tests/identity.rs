//! The signing identity: generation, reuse, renewal, refusal inside a repository, PFX import,
//! and the `driver-sign` command line end to end.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use common::{build_test_pe, have_osslsigncode, identity, missing_tool, scratch, test_inf};
use driver_sign::identity::{OID_KP_CODE_SIGNING, STORE_CERT_DER, STORE_KEY_PEM, VALIDITY_DAYS};
use driver_sign::{IdentityOptions, IdentitySource, load_or_create_test_identity, load_pfx};

fn opts(dir: &Path) -> IdentityOptions {
    IdentityOptions { store_dir: Some(dir.to_path_buf()), key_bits: 2048, ..Default::default() }
}

#[test]
fn generated_certificate_is_a_code_signing_test_certificate() {
    let id = identity();
    let cert = id.certificate();
    let tbs = &cert.tbs_certificate;
    assert_eq!(tbs.issuer, tbs.subject, "self-signed");
    assert_eq!(cert.signature_algorithm.oid, const_oid::db::rfc5912::SHA_256_WITH_RSA_ENCRYPTION);
    assert_eq!(id.extended_key_usages().unwrap(), Some(vec![OID_KP_CODE_SIGNING]));
    assert!(id.subject().contains("CN=rvmini Test Signing (generated 20"), "{}", id.subject());
    let nb = tbs.validity.not_before.to_system_time();
    let na = tbs.validity.not_after.to_system_time();
    let span = na.duration_since(nb).unwrap();
    assert!(span >= Duration::from_secs(VALIDITY_DAYS * 86_400), "{span:?}");
    // The public key in the certificate is the one of the private key (checked on load too).
    assert!(driver_sign::SigningIdentity::from_parts(id.cert_der().to_vec(), id.private_key().clone()).is_ok());
    // The certificate is verified by its own key, as any self-signed root must be.
    let out_dir = scratch("selfsigned");
    let pem = out_dir.join("c.pem");
    fs::write(&pem, id.cert_pem().unwrap()).unwrap();
    if let Ok(out) = Command::new("openssl").args(["verify", "-CAfile"]).arg(&pem).arg(&pem).output() {
        assert!(out.status.success(), "openssl verify: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[test]
fn test_identity_is_reused_and_key_is_private() {
    let dir = scratch("reuse").join("store");
    let first = load_or_create_test_identity(&opts(&dir)).unwrap();
    assert_eq!(first.source(), &IdentitySource::Generated(dir.clone()));
    let second = load_or_create_test_identity(&opts(&dir)).unwrap();
    assert_eq!(second.source(), &IdentitySource::Reused(dir.clone()));
    assert_eq!(first.cert_der(), second.cert_der());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(dir.join(STORE_KEY_PEM)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "key file mode {mode:o}");
    }
    // A broken pair (certificate of another key) is replaced, not used.
    let other = driver_sign::generate_test_identity(2048, SystemTime::now()).unwrap();
    fs::write(dir.join(STORE_CERT_DER), other.cert_der()).unwrap();
    let third = load_or_create_test_identity(&opts(&dir)).unwrap();
    assert_eq!(third.source(), &IdentitySource::Generated(dir.clone()));
    assert_ne!(third.cert_der(), other.cert_der());
}

#[test]
fn expiring_test_identity_is_renewed() {
    let dir = scratch("renew");
    let long_ago = SystemTime::now() - Duration::from_secs(VALIDITY_DAYS * 86_400);
    let old = driver_sign::generate_test_identity(2048, long_ago).unwrap();
    old.write_store(&dir).unwrap();
    let id = load_or_create_test_identity(&opts(&dir)).unwrap();
    assert_eq!(id.source(), &IdentitySource::Generated(dir.clone()));
    assert_ne!(id.cert_der(), old.cert_der());
}

#[test]
fn refuses_to_keep_the_key_inside_a_git_work_tree() {
    let repo = scratch("repo");
    fs::create_dir(repo.join(".git")).unwrap();
    let store = repo.join("keys");
    let err = load_or_create_test_identity(&opts(&store)).unwrap_err();
    assert!(err.to_string().contains("inside the git work tree"), "{err}");
    assert!(!store.join(STORE_KEY_PEM).exists());
    let mut o = opts(&store);
    o.allow_store_in_repository = true;
    assert!(load_or_create_test_identity(&o).is_ok());
}

fn openssl_available() -> bool {
    Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success())
        || missing_tool("openssl", "apt-get install openssl")
}

fn make_pfx(dir: &Path, extra: &[&str], password: &str) -> std::path::PathBuf {
    let id = identity();
    let cert = dir.join("c.pem");
    let key = dir.join("k.pem");
    fs::write(&cert, id.cert_pem().unwrap()).unwrap();
    fs::write(&key, id.key_pkcs8_pem().unwrap().expose()).unwrap();
    let pfx = dir.join(format!("id{}.pfx", extra.len()));
    let out = Command::new("openssl")
        .args(["pkcs12", "-export", "-inkey"])
        .arg(&key)
        .arg("-in")
        .arg(&cert)
        .arg("-out")
        .arg(&pfx)
        .args(extra)
        .args(["-passout", "env:TEST_PFX_PASS"])
        .env("TEST_PFX_PASS", password)
        .output()
        .unwrap();
    assert!(out.status.success(), "openssl pkcs12 -export: {}", String::from_utf8_lossy(&out.stderr));
    pfx
}

#[test]
fn pfx_is_read_with_its_password() {
    if !openssl_available() {
        return;
    }
    let dir = scratch("pfx");
    let pfx = make_pfx(&dir, &[], "s3cret pass");
    let id = load_pfx(&pfx, "s3cret pass").unwrap();
    assert_eq!(id.cert_der(), identity().cert_der());
    assert_eq!(id.source(), &IdentitySource::Pfx(pfx.clone()));
    assert!(load_pfx(&pfx, "wrong").is_err());
    // Through the options, as RVMINI_SIGN_PFX / RVMINI_SIGN_PFX_PASSWORD set them.
    let o = IdentityOptions { pfx: Some(pfx), pfx_password: Some("s3cret pass".into()), ..Default::default() };
    assert_eq!(load_or_create_test_identity(&o).unwrap().cert_der(), identity().cert_der());
    // A PFX with the legacy RC2/3DES encryption Windows tools often write.
    let legacy = make_pfx(&dir, &["-legacy"], "pw");
    assert_eq!(load_pfx(&legacy, "pw").unwrap().cert_der(), identity().cert_der());
}

#[test]
fn command_line_signs_a_package_and_inspects_the_catalog() {
    if !have_osslsigncode() {
        return;
    }
    let exe = env!("CARGO_BIN_EXE_driver-sign");
    let dir = scratch("cli");
    let store = dir.join("store");
    let pkg = dir.join("pkg");
    fs::create_dir(&pkg).unwrap();
    fs::write(pkg.join("rvmini.sys"), build_test_pe(9)).unwrap();
    fs::write(pkg.join("rvmini.inf"), test_inf()).unwrap();
    let run = |args: &[&std::ffi::OsStr]| {
        let out = Command::new(exe)
            .args(args)
            .env_remove("RVMINI_SIGN_PFX")
            .env("SOURCE_DATE_EPOCH", "1790000000")
            .output()
            .unwrap();
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        eprintln!("--- driver-sign {args:?}: {} ---\n{text}", out.status);
        (out.status.success(), text)
    };
    let os = std::ffi::OsStr::new;
    let (ok, text) =
        run(&[os("package"), pkg.as_os_str(), os("--store"), store.as_os_str(), os("--key-bits"), os("2048")]);
    assert!(ok, "{text}");
    assert!(text.contains("generated a new test certificate"), "{text}");
    for f in ["rvmini.sys", "rvmini.inf", "rvmini.cat", "rvmini-test-signing.cer"] {
        assert!(pkg.join(f).is_file(), "{f} missing");
    }
    let (ok, text) = run(&[
        os("inspect"),
        pkg.join("rvmini.cat").as_os_str(),
        os("--cert"),
        pkg.join("rvmini-test-signing.cer").as_os_str(),
    ]);
    assert!(ok, "{text}");
    assert!(text.contains("catalog attribute  OS = _v100_X64"), "{text}");
    assert!(text.contains(r"catalog attribute  HWID1 = root\rvmini"), "{text}");
    assert!(text.contains("File=rvmini.sys OSAttr=2:10.0"), "{text}");
    assert!(text.contains("File=rvmini.inf OSAttr=2:10.0"), "{text}");
    assert!(text.contains("signature: OK"), "{text}");
    // The printed hash of the signed image is the catalog tag of the image.
    let (ok, hash_text) = run(&[os("hash"), os("--alg"), os("sha1"), pkg.join("rvmini.sys").as_os_str()]);
    assert!(ok);
    let sha1 = hash_text.split_whitespace().next().unwrap().to_string();
    assert!(text.contains(&format!("member {sha1}")), "{text}");
    // A second run reuses the identity.
    let (ok, text) = run(&[os("identity"), os("--store"), store.as_os_str()]);
    assert!(ok && text.contains("using the test certificate in"), "{text}");
}
