//! Can this Rust toolchain build rvmini.sys?
//!
//! Cross-building the driver on a Linux host needs two pieces that a plain toolchain may lack:
//! the precompiled `core` for `x86_64-pc-windows-msvc` and the `rust-lld` linker. Without them the
//! build ends in a wall of "can't find crate for `core`" or "linker `rust-lld` not found" errors.
//! This module finds out which piece is missing and says so in one sentence.
//!
//! The file is shared: `cargo xtask package` uses it as a module, and the build scripts of the
//! driver (the root `build.rs`) and of its two dependencies (`crates/ndis-sys/build.rs`,
//! `crates/rvmini-core/build.rs`) include it with `#[path]` and call [`build_script_check`], so
//! all of them give the same answer. The dependencies need the check too: cargo compiles them in
//! parallel with (and often before) the driver's build script, and without a check of their own a
//! missing target library shows up first as rustc's `E0463 can't find crate for core` from them.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The target triple of the driver image.
pub const WINDOWS_TARGET: &str = "x86_64-pc-windows-msvc";

/// A piece of the toolchain that building rvmini.sys needs and that is absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    /// The sysroot has no precompiled standard library for [`WINDOWS_TARGET`].
    WindowsStd,
    /// The sysroot has no `rust-lld` for the host (the path it should be at).
    RustLld(PathBuf),
}

impl Missing {
    /// What to install, in one sentence.
    pub fn sentence(&self) -> String {
        match self {
            Missing::WindowsStd => {
                format!("rvmini needs the {WINDOWS_TARGET} standard library: run `rustup target add {WINDOWS_TARGET}`")
            }
            Missing::RustLld(path) => format!(
                "rvmini links with rust-lld, which this Rust toolchain lacks ({} does not exist): \
                 use a rustup toolchain, which ships it (`rustup toolchain install` in the repository)",
                path.display()
            ),
        }
    }
}

/// The sysroot `rustc` (a command naming the compiler, with its working directory set if that
/// matters for rustup) compiles against: a `--sysroot` in `rustflags` wins, as it does for rustc.
pub fn sysroot(mut rustc: Command, rustflags: &[String]) -> Result<PathBuf, String> {
    let mut flags = rustflags.iter();
    while let Some(flag) = flags.next() {
        if let Some(path) = flag.strip_prefix("--sysroot=") {
            return Ok(PathBuf::from(path));
        }
        if flag == "--sysroot"
            && let Some(path) = flags.next()
        {
            return Ok(PathBuf::from(path));
        }
    }
    let name = rustc.get_program().to_string_lossy().into_owned();
    let output = rustc
        .args(["--print", "sysroot"])
        .output()
        .map_err(|error| format!("could not run `{name} --print sysroot`: {error}"))?;
    if !output.status.success() {
        return Err(format!("`{name} --print sysroot` failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    let text = String::from_utf8(output.stdout).map_err(|_| "the sysroot path is not UTF-8".to_owned())?;
    Ok(PathBuf::from(text.trim()))
}

/// The first piece the driver build needs that `sysroot` lacks, if any. `host` is the triple of
/// the machine the linker runs on.
pub fn missing(sysroot: &Path, host: &str) -> Option<Missing> {
    let rustlib = sysroot.join("lib").join("rustlib");
    if !has_core(&rustlib.join(WINDOWS_TARGET).join("lib")) {
        return Some(Missing::WindowsStd);
    }
    let lld_name = if host.contains("windows") { "rust-lld.exe" } else { "rust-lld" };
    let lld = rustlib.join(host).join("bin").join(lld_name);
    if !lld.is_file() {
        return Some(Missing::RustLld(lld));
    }
    None
}

/// Does `dir` hold a precompiled `core` (`libcore-<hash>.rlib`)?
fn has_core(dir: &Path) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return false;
    };
    entries.filter_map(Result::ok).any(|entry| {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        name.starts_with("libcore-") && name.ends_with(".rlib")
    })
}

/// For build scripts: when cargo builds for [`WINDOWS_TARGET`] and the toolchain cannot build
/// the driver, print `cargo::error=<one sentence>` (which fails the build script, so cargo
/// compiles nothing that depends on it) and return `false`. Reads the variables cargo gives
/// build scripts (`TARGET`, `HOST`, `RUSTC`, `CARGO_ENCODED_RUSTFLAGS`); does nothing for other
/// targets, so host builds (`cargo check`, `cargo test`, clippy) are unaffected.
#[allow(dead_code, reason = "used by the build scripts that include this file, not by xtask")]
pub fn build_script_check() -> bool {
    if !std::env::var("TARGET").is_ok_and(|target| target == WINDOWS_TARGET) {
        return true;
    }
    let check = || -> Result<Option<Missing>, String> {
        let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
        let host = std::env::var("HOST").map_err(|_| "cargo did not set HOST for the build script".to_owned())?;
        let rustflags: Vec<String> = std::env::var("CARGO_ENCODED_RUSTFLAGS")
            .map(|flags| flags.split('\x1f').filter(|flag| !flag.is_empty()).map(str::to_owned).collect())
            .unwrap_or_default();
        let sysroot = sysroot(Command::new(rustc), &rustflags)?;
        Ok(missing(&sysroot, &host))
    };
    match check() {
        Ok(None) => true,
        Ok(Some(missing)) => {
            println!("cargo::error={}", missing.sentence());
            false
        }
        Err(sentence) => {
            println!("cargo::error={sentence}");
            false
        }
    }
}
