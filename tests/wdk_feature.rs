//! The `wdk` feature (windows-drivers-rs crates, used on Windows hosts with the WDK) must keep
//! resolving even though nothing in this repository's CI can build it: `cargo tree` on Linux
//! proves the dependency graph is sound (versions exist and agree, features are spelled right).
//!
//! `cargo tree` needs the dependencies' manifests, so on a fresh machine it downloads them from
//! crates.io (honouring `CARGO_NET_OFFLINE` / `--offline` settings of the environment); after
//! that it works offline. `--locked` keeps it from rewriting Cargo.lock.

use std::process::Command;

const WDK_CRATES: [&str; 5] = ["wdk-sys", "wdk", "wdk-alloc", "wdk-panic", "wdk-build"];

/// `cargo tree -p rvmini` with `args`, one `<depth><name> v<version>` line per dependency.
fn cargo_tree(args: &[&str]) -> Vec<(usize, String)> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--locked", "-p", "rvmini", "--prefix", "depth", "--format", "{p}"])
        .args(args)
        .output()
        .expect("cargo tree starts");
    assert!(
        output.status.success(),
        "cargo tree {args:?} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let digits = line.bytes().take_while(u8::is_ascii_digit).count();
            let depth = line[..digits].parse().ok()?;
            let name = line[digits..].split_whitespace().next()?.to_owned();
            Some((depth, name))
        })
        .collect()
}

#[test]
fn wdk_feature_resolves_for_the_windows_target() {
    let tree = cargo_tree(&["--features", "wdk", "--target", "x86_64-pc-windows-msvc", "-e", "normal,build"]);
    for name in WDK_CRATES {
        assert!(
            tree.iter().any(|(_, found)| found == name),
            "{name} is missing from the wdk dependency tree: {tree:?}"
        );
    }
    for name in ["wdk-sys", "wdk", "wdk-alloc", "wdk-panic"] {
        assert!(tree.contains(&(1, name.to_owned())), "{name} is not a direct dependency of rvmini: {tree:?}");
    }
}

#[test]
fn wdk_build_is_rvmini_build_dependency_on_windows_hosts() {
    // `[target.'cfg(windows)'.build-dependencies]` is evaluated for the host, so ask for every
    // platform to see the declaration from Linux.
    let tree = cargo_tree(&["--features", "wdk", "--target", "all", "-e", "build", "--depth", "1"]);
    assert!(tree.contains(&(1, "wdk-build".to_owned())), "rvmini does not build-depend on wdk-build: {tree:?}");
}

#[test]
fn without_the_feature_no_wdk_crate_is_in_the_graph() {
    let tree = cargo_tree(&["--target", "all", "-e", "normal,build"]);
    for name in WDK_CRATES {
        assert!(!tree.iter().any(|(_, found)| found == name), "{name} is pulled in without the wdk feature: {tree:?}");
    }
}
