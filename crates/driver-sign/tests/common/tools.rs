//! The independent checkers (`osslsigncode`, the `signify` Python package via
//! `check_catalog.py`) and the rule for when a missing one fails a test.
//!
//! Shared, std-only: the driver-sign tests use it as `common::tools`, and the root test
//! `tests/signing.rs` (which checks the real package) includes it with
//! `#[path = "../crates/driver-sign/tests/common/tools.rs"]`. Both therefore run the same script
//! with the same interpreter set-up, and share one signify venv: it lives in
//! `CARGO_TARGET_TMPDIR`, which is `<target-dir>/tmp` for every test crate of the workspace.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

/// The signify release the checks are written against.
pub const SIGNIFY_REQUIREMENT: &str = "signify==0.9.3";

/// Whether a missing external checker must fail the test rather than skip it: when `CI` is set
/// (to anything but empty, `0` or `false`), or with `RVMINI_REQUIRE_SIGN_TOOLS=1`.
pub fn tools_required() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
        || std::env::var_os("RVMINI_REQUIRE_SIGN_TOOLS").is_some_and(|v| v == "1")
}

/// Reports a checker that is not installed: a test failure when [`tools_required`], otherwise
/// a loud skip. Returns `false` to make the caller return early.
pub fn missing_tool(what: &str, how: &str) -> bool {
    let rule = "CI (or RVMINI_REQUIRE_SIGN_TOOLS=1) is set, so a missing checker fails the test";
    let (verdict, why) =
        if tools_required() { ("MISSING", rule) } else { ("SKIPPED", "this independent check did not run") };
    let msg = format!(
        "\n========================================================================\n\
         {verdict}: {what} is not available; {why}.\n\
         Install it: {how}\n\
         ========================================================================\n"
    );
    assert!(!tools_required(), "{msg}");
    eprintln!("{msg}");
    false
}

/// `osslsigncode` is runnable (else [`missing_tool`]).
pub fn have_osslsigncode() -> bool {
    Command::new("osslsigncode").arg("--version").output().is_ok_and(|o| o.status.success())
        || missing_tool("osslsigncode", "apt-get install osslsigncode")
}

/// Runs osslsigncode and returns its output (never panics on a non-zero exit).
pub fn osslsigncode(args: &[&std::ffi::OsStr]) -> Output {
    Command::new("osslsigncode").args(args).output().expect("run osslsigncode")
}

/// The value after `label` on the first line of `text` that starts with it (after leading
/// blanks), as osslsigncode prints `Label : value`: the separating blanks and colon removed.
pub fn line_value<'a>(text: &'a str, label: &str) -> Option<&'a str> {
    text.lines()
        .find_map(|line| line.trim().strip_prefix(label))
        .map(|value| value.trim_start_matches([' ', ':']).trim())
}

/// Prints a command's output for the test log and returns it (stdout then stderr).
pub fn show(label: &str, out: &Output) -> String {
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    eprintln!("--- {label}: {} ---\n{text}", out.status);
    text
}

/// The Python interpreter that can import `signify`: `RVMINI_SIGNIFY_PYTHON` if set, else the
/// system `python3` if it has signify, else a venv `<target-dir>/tmp/signify-venv` into which
/// [`SIGNIFY_REQUIREMENT`] is installed from PyPI on first use (needs python3 with the `venv`
/// module; Debian: `python3-venv`). `None` if none of that works.
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
        eprintln!("signing tests: creating {} with {SIGNIFY_REQUIREMENT} from PyPI", venv.display());
        let made = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().is_ok_and(|s| s.success())
            && Command::new(&py)
                .args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check", SIGNIFY_REQUIREMENT])
                .status()
                .is_ok_and(|s| s.success());
        (made && has_signify(&py)).then_some(py)
    })
    .clone()
}

/// The signify interpreter, or [`missing_tool`] (which fails the test when tools are required).
pub fn have_signify() -> Option<PathBuf> {
    let py = signify_python();
    if py.is_none() {
        missing_tool(
            "the signify Python package",
            &format!("apt-get install python3-venv (the tests then make a venv), or pip install {SIGNIFY_REQUIREMENT}"),
        );
    }
    py
}

/// Runs `check_catalog.py` (at `script`: it is `crates/driver-sign/tests/check_catalog.py`)
/// with the interpreter `py` on a catalog, a trust-anchor certificate (PEM or DER) and the
/// files that must be its members.
pub fn run_check_catalog(script: &Path, py: &Path, cat: &Path, cert: &Path, files: &[&Path]) -> Output {
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
