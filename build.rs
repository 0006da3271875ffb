//! Build script of the driver package (rvmini.sys).
//!
//! * Building for `x86_64-pc-windows-msvc` (the usual case: a cross build on Linux): check that the
//!   toolchain has the Windows standard library and `rust-lld`, and if not stop with one sentence
//!   that says what to install. The linker flags themselves live in `.cargo/config.toml`.
//! * Windows host with `--features wdk` (an eWDK prompt): let `wdk-build` configure the link the
//!   way windows-drivers-rs drivers do (WDK library paths, kernel-mode link arguments).
//!   `wdk-build` only compiles on Windows, so that path is cfg-gated on the host and never built
//!   by this repository's CI.
//!
//! For other targets (`cargo check` / `cargo test` on the host) the driver crate is empty and
//! this script does nothing.

#[path = "xtask/src/toolchain.rs"]
mod toolchain;

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=xtask/src/toolchain.rs");

    // Building for x86_64-pc-windows-msvc without the pieces it needs: one sentence, then stop.
    if !toolchain::build_script_check() {
        return;
    }
    wdk();
}

/// Windows host with the WDK: windows-drivers-rs' binary configuration (not exercised by CI).
#[cfg(all(windows, feature = "wdk"))]
fn wdk() {
    if let Err(error) = wdk_build::configure_wdk_binary_build() {
        println!("cargo::error=wdk-build could not configure the driver build (is this an eWDK prompt?): {error}");
    }
}

/// The `wdk` feature on a non-Windows host: the windows-drivers-rs crates cannot build here.
#[cfg(all(not(windows), feature = "wdk"))]
fn wdk() {
    println!(
        "cargo::error=the `wdk` feature builds against the Windows Driver Kit and needs a Windows host \
         (an eWDK prompt); on Linux build without it"
    );
}

/// Without the `wdk` feature the link is configured entirely by `.cargo/config.toml`.
#[cfg(not(feature = "wdk"))]
fn wdk() {}
