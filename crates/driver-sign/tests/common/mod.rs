//! Shared helpers for the driver-sign integration tests: a test PE image, a test identity, and
//! access to the independent checkers (`osslsigncode`, `signify`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

use driver_sign::SigningIdentity;
use object::pe;
use object::write::pe::{NtHeaders, Writer};

/// A small but complete PE32+ kernel-mode image (AMD64, native subsystem, `.text`, `.rdata`,
/// `.data`, `.reloc` with a base relocation), built with `object`'s PE writer. `seed` varies
/// the content so that tests get distinct hashes.
pub fn build_test_pe(seed: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = Writer::new(true, 0x1000, 0x200, &mut out);
    w.reserve_dos_header_and_stub();
    w.reserve_nt_headers(16);
    w.reserve_section_headers(4);
    // xor eax, eax ; ret ; then filler so the section has some bulk.
    let mut text = vec![0x31, 0xc0, 0xc3];
    text.extend((0..=255u8).cycle().take(700).map(|i| i.wrapping_mul(31).wrapping_add(seed)));
    let mut rdata = b"rvmini driver-sign test image\0".to_vec();
    rdata.extend(std::iter::repeat_n(seed, 40));
    let mut data = vec![0u8; 16];
    data[8] = seed;
    let text_range = w.reserve_text_section(u32::try_from(text.len()).unwrap());
    let rdata_range = w.reserve_rdata_section(u32::try_from(rdata.len()).unwrap());
    let data_range = w.reserve_data_section(0x40, u32::try_from(data.len()).unwrap());
    // One DIR64 relocation: the pointer stored at the start of .data.
    w.add_reloc(data_range.virtual_address, pe::IMAGE_REL_BASED_DIR64);
    let _reloc_range = w.reserve_reloc_section();

    w.write_dos_header_and_stub().unwrap();
    w.write_nt_headers(NtHeaders {
        machine: pe::IMAGE_FILE_MACHINE_AMD64,
        time_date_stamp: 0x6000_0000 + u32::from(seed),
        characteristics: pe::IMAGE_FILE_EXECUTABLE_IMAGE | pe::IMAGE_FILE_LARGE_ADDRESS_AWARE,
        major_linker_version: 14,
        minor_linker_version: 0,
        address_of_entry_point: text_range.virtual_address,
        image_base: 0x1_4000_0000,
        major_operating_system_version: 10,
        minor_operating_system_version: 0,
        major_image_version: 0,
        minor_image_version: 0,
        major_subsystem_version: 10,
        minor_subsystem_version: 0,
        subsystem: pe::IMAGE_SUBSYSTEM_NATIVE,
        dll_characteristics: pe::IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE
            | pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT
            | pe::IMAGE_DLLCHARACTERISTICS_FORCE_INTEGRITY,
        size_of_stack_reserve: 0x40000,
        size_of_stack_commit: 0x1000,
        size_of_heap_reserve: 0,
        size_of_heap_commit: 0,
    });
    w.write_section_headers();
    w.write_section(text_range.file_offset, &text);
    w.write_section(rdata_range.file_offset, &rdata);
    let mut data_with_ptr = data.clone();
    data_with_ptr[..8].copy_from_slice(&(0x1_4000_0000u64 + u64::from(rdata_range.virtual_address)).to_le_bytes());
    w.write_section(data_range.file_offset, &data_with_ptr);
    w.write_reloc_section();
    out
}

/// A minimal INF naming `rvmini.cat` (content only matters for hashing and `CatalogFile`).
pub fn test_inf() -> Vec<u8> {
    b"; test INF\r\n[Version]\r\nSignature = \"$WINDOWS NT$\"\r\nClass = Net\r\n\
ClassGuid = {4d36e972-e325-11ce-bfc1-08002be10318}\r\nProvider = %ProviderName%\r\n\
CatalogFile = rvmini.cat\r\nDriverVer = 11/22/2026,0.1.0.0\r\nPnpLockdown = 1\r\n\r\n\
[Strings]\r\nProviderName = \"rvmini\"\r\n"
        .to_vec()
}

/// One 2048-bit test identity per test binary, kept in a scratch directory outside the repository.
pub fn identity() -> &'static SigningIdentity {
    static ID: OnceLock<SigningIdentity> = OnceLock::new();
    ID.get_or_init(|| {
        let dir = scratch("identity");
        let opts = driver_sign::IdentityOptions { store_dir: Some(dir), key_bits: 2048, ..Default::default() };
        driver_sign::load_or_create_test_identity(&opts).expect("test identity")
    })
}

/// A fresh scratch directory in the system temporary directory. Not under the target dir: that
/// usually sits inside the repository's work tree, where the identity store refuses to keep keys.
pub fn scratch(name: &str) -> PathBuf {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos();
    let d = std::env::temp_dir()
        .join("rvmini-driver-sign-tests")
        .join(format!("{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes the identity's certificate as PEM into `dir` and returns the path (`-CAfile`).
pub fn cert_pem_file(dir: &Path) -> PathBuf {
    let p = dir.join("trust-anchor.pem");
    std::fs::write(&p, identity().cert_pem().unwrap()).unwrap();
    p
}

/// Whether a missing external checker must fail the test rather than skip it.
pub fn tools_required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
        || std::env::var_os("RVMINI_REQUIRE_SIGN_TOOLS").is_some_and(|v| v == "1")
}

/// Reports a checker that is not installed: a test failure in CI (or with
/// `RVMINI_REQUIRE_SIGN_TOOLS=1`), otherwise a loud skip. Returns `false` to make the caller
/// return early.
pub fn missing_tool(what: &str, how: &str) -> bool {
    let msg = format!(
        "\n========================================================================\n\
         SKIPPED: {what} is not available, so this independent check did not run.\n\
         Install it: {how}\n\
         ========================================================================\n"
    );
    assert!(!tools_required(), "{msg}");
    eprintln!("{msg}");
    false
}

/// `osslsigncode` is runnable.
pub fn have_osslsigncode() -> bool {
    Command::new("osslsigncode").arg("--version").output().is_ok_and(|o| o.status.success())
        || missing_tool("osslsigncode", "apt-get install osslsigncode")
}

/// Runs osslsigncode and returns its output (never panics on a non-zero exit).
pub fn osslsigncode(args: &[&std::ffi::OsStr]) -> Output {
    Command::new("osslsigncode").args(args).output().expect("run osslsigncode")
}

/// Prints a command's output for the test log.
pub fn show(label: &str, out: &Output) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("--- {label}: {} ---\n{text}", out.status);
    text
}

/// The Python interpreter that can import `signify`: `RVMINI_SIGNIFY_PYTHON` if set, else the
/// system `python3` if it has signify, else a venv under the target directory into which
/// `signify==0.9.3` is installed from PyPI on first use. `None` if none of that works.
pub fn signify_python() -> Option<PathBuf> {
    static PY: OnceLock<Option<PathBuf>> = OnceLock::new();
    static LOCK: Mutex<()> = Mutex::new(());
    PY.get_or_init(|| {
        let _g = LOCK.lock().unwrap();
        let has_signify = |py: &Path| {
            Command::new(py)
                .args(["-c", "import signify.authenticode.trust_list"])
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .output()
                .is_ok_and(|o| {
                    // Import may fail on the oscrypto bug; the checker works around it, so only
                    // "module not found" counts as missing.
                    o.status.success() || !String::from_utf8_lossy(&o.stderr).contains("No module named")
                })
        };
        if let Some(p) = std::env::var_os("RVMINI_SIGNIFY_PYTHON") {
            let p = PathBuf::from(p);
            return has_signify(&p).then_some(p);
        }
        let system = PathBuf::from("python3");
        if has_signify(&system) {
            return Some(system);
        }
        let venv = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("signify-venv");
        let py = venv.join("bin").join("python");
        if py.exists() && has_signify(&py) {
            return Some(py);
        }
        eprintln!("driver-sign tests: creating {} with signify==0.9.3 from PyPI", venv.display());
        let made = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().is_ok_and(|s| s.success())
            && Command::new(&py)
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "signify==0.9.3"])
                .status()
                .is_ok_and(|s| s.success());
        (made && has_signify(&py)).then_some(py)
    })
    .clone()
}

/// Runs `tests/check_catalog.py` on a catalog and member files.
pub fn check_catalog(py: &Path, cat: &Path, cert: &Path, files: &[&Path]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("check_catalog.py");
    Command::new(py)
        .arg(script)
        .arg("--cat")
        .arg(cat)
        .arg("--cert")
        .arg(cert)
        .args(files)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run check_catalog.py")
}
