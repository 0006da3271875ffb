//! Shared helpers for the root integration tests: where the driver package is.
//!
//! `cargo xtask test` builds the package once and passes its folder in `RVMINI_PACKAGE_DIR`.
//! A plain `cargo test` has no such variable, so the first test that asks builds the package
//! itself (`cargo run -p xtask -- package`) into a target directory of its own under
//! `CARGO_TARGET_TMPDIR`: the outer `cargo test` holds the lock on the normal target directory
//! while tests run, so a nested build there would wait forever.

// Each test crate includes this module and uses a different part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Environment variable naming an already built package folder (set by `cargo xtask test`).
pub const PACKAGE_DIR_ENV: &str = "RVMINI_PACKAGE_DIR";

/// The driver package folder: `rvmini.sys`, `rvmini.pdb`, `rvmini.map`, `rvmini.inf`. Built at
/// most once per test process, however many tests ask at the same time.
pub fn package_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| match std::env::var_os(PACKAGE_DIR_ENV) {
        Some(dir) => {
            let dir = PathBuf::from(dir);
            assert!(
                dir.join("rvmini.sys").is_file(),
                "{PACKAGE_DIR_ENV}={} holds no rvmini.sys; run `cargo xtask package` or unset the variable",
                dir.display()
            );
            dir
        }
        None => build_package(),
    })
}

/// The driver image in the package folder.
pub fn driver_image() -> PathBuf {
    package_dir().join("rvmini.sys")
}

/// A file of the package folder, read whole; panics with the path if it cannot be read.
pub fn read_package_file(name: &str) -> Vec<u8> {
    let path = package_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|error| panic!("reading {}: {error}", path.display()))
}

/// Build the package with `cargo xtask package` into `$CARGO_TARGET_TMPDIR/rvmini-package`.
fn build_package() -> PathBuf {
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rvmini-package");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .args(["run", "--quiet", "--package", "xtask", "--", "package"])
        .output()
        .unwrap_or_else(|error| panic!("could not start `cargo run -p xtask -- package`: {error}"));
    assert!(
        output.status.success(),
        "`cargo run -p xtask -- package` failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let dir = target_dir.join("x86_64-pc-windows-msvc").join("release").join("rvmini_package");
    assert!(
        dir.join("rvmini.sys").is_file(),
        "`cargo xtask package` succeeded but {} holds no rvmini.sys",
        dir.display()
    );
    dir
}
