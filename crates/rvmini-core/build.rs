//! Build script: when cargo builds this crate for `x86_64-pc-windows-msvc` (as a dependency of
//! the driver) and the toolchain lacks the target's standard library or `rust-lld`, stop with
//! the one sentence that says what to install, instead of rustc's `E0463 can't find crate for
//! core`. The check is the driver's own (`xtask/src/toolchain.rs`, shared with the root
//! `build.rs` and `cargo xtask package`); for any other target this script does nothing.

#[path = "../../xtask/src/toolchain.rs"]
mod toolchain;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=../../xtask/src/toolchain.rs");
    toolchain::build_script_check();
}
