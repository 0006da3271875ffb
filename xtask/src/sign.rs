//! Test-signing the package folder with the `driver-sign` library.
//!
//! `cargo xtask package` calls [`prepare`] before it starts the (long) driver build, so that a
//! missing `osslsigncode`, an unreadable PFX or a key directory inside the repository stop it at
//! once, and [`sign`] after the folder is laid out. [`sign`] runs
//! [`driver_sign::sign_package`], which signs `rvmini.sys` in place (embedded Authenticode,
//! SHA-256, via `osslsigncode`), then builds and signs `rvmini.cat` over the *signed* image and
//! the stamped INF, and writes the public certificate `rvmini-test-signing.cer`.
//!
//! The identity comes from the environment, exactly as for the `driver-sign` binary:
//! `RVMINI_SIGN_PFX` (with `RVMINI_SIGN_PFX_PASSWORD`) names the user's PFX; otherwise the
//! generated test certificate in `RVMINI_SIGN_DIR`, else `$XDG_DATA_HOME/rvmini/test-signing`,
//! else `~/.local/share/rvmini/test-signing`, created there on first use. The private key never
//! enters the package folder.

use std::path::{Component, Path, PathBuf};

use driver_sign::authenticode::OSSLSIGNCODE_MISSING;
use driver_sign::identity::{ENV_PFX, ENV_STORE_DIR, STORE_KEY_PEM};
use driver_sign::{IdentityOptions, IdentitySource, PackageOptions, SigningIdentity};

use crate::workspace::{DRIVER_PACKAGE, Workspace};
use crate::{Context, Result};

/// File name of the public certificate written into the package.
pub const CER_NAME: &str = "rvmini-test-signing.cer";

/// Check that signing can work and find (or create) the signing identity; prints where the key
/// is. Runs before the build so that nothing slow happens before a setup error.
pub fn prepare(workspace: &Workspace) -> Result<SigningIdentity> {
    let version = match driver_sign::osslsigncode_preflight() {
        // "osslsigncode 2.9, using:" (the OpenSSL versions follow on the next lines).
        Ok(version) => version.split(',').next().unwrap_or_default().trim().to_owned(),
        Err(driver_sign::Error::Tool { message, .. }) if message == OSSLSIGNCODE_MISSING => fail!(
            "osslsigncode, which signs rvmini.sys, is not installed: install it with \
             `sudo apt-get install osslsigncode` (or build an unsigned image with `cargo xtask package --unsigned`)"
        ),
        Err(error) => fail!("osslsigncode does not work: {error}"),
    };
    eprintln!("package: signing with {version}");

    let mut options = IdentityOptions::from_env();
    if options.pfx.is_none() {
        // Pin the directory here so that the check below and the identity use the same one.
        let dir = match options.store_dir.take() {
            Some(dir) => absolute(&dir)?,
            None => driver_sign::default_store_dir().map_err(|error| crate::Failure::new(error.to_string()))?,
        };
        // driver-sign refuses git work trees; this also covers a checkout without `.git`.
        if is_inside(&dir, &workspace.root) {
            fail!(
                "the test signing key directory {} is inside the repository {}: set {ENV_STORE_DIR} to a \
                 directory outside it",
                dir.display(),
                workspace.root.display()
            );
        }
        if !dir.join(STORE_KEY_PEM).is_file() {
            eprintln!(
                "package: generating the test certificate and its RSA-3072 key in {} (once; this takes a few seconds)",
                dir.display()
            );
        }
        options.store_dir = Some(dir);
    }
    let identity = driver_sign::load_or_create_test_identity(&options)
        .map_err(|error| crate::Failure::new(format!("no signing identity: {error}")))?;

    let valid_until = identity.certificate().tbs_certificate.validity.not_after.to_date_time();
    match identity.source() {
        IdentitySource::Generated(dir) | IdentitySource::Reused(dir) => {
            let how =
                if matches!(identity.source(), IdentitySource::Generated(_)) { "generated now" } else { "reused" };
            eprintln!(
                "package: test signing key {} ({how}; outside the repository, never copied into the package)",
                dir.join(STORE_KEY_PEM).display()
            );
        }
        IdentitySource::Pfx(path) => {
            eprintln!("package: signing key from the PFX {} ({ENV_PFX})", path.display());
        }
        IdentitySource::Supplied => {}
    }
    eprintln!(
        "package: certificate {} (SHA-1 {}, valid until {valid_until})",
        identity.subject(),
        identity.sha1_thumbprint_hex()
    );
    Ok(identity)
}

/// Sign the package folder `dir` (see the module documentation).
pub fn sign(dir: &Path, identity: &SigningIdentity) -> Result<()> {
    let options = package_options();
    let signature = driver_sign::sign_package(dir, &options, identity)
        .map_err(|error| crate::Failure::new(format!("signing the package in {}: {error}", dir.display())))?;
    eprintln!(
        "package: signed {} (Authenticode SHA-256 {}); {} lists it (SHA-1 {}) and {} (SHA-1 {}); public certificate {}",
        options.sys_name,
        driver_sign::hex_upper(&signature.sys_authenticode_sha256),
        options.cat_name,
        driver_sign::hex_upper(&signature.sys_authenticode_sha1),
        options.inf_name,
        driver_sign::hex_upper(&signature.inf_sha1),
        options.cer_name,
    );
    Ok(())
}

/// driver-sign's rvmini package options, with the file names derived from the package name the
/// rest of xtask uses (the INF's `CatalogFile` is stamped from the same name).
fn package_options() -> PackageOptions {
    let mut options = PackageOptions::rvmini();
    options.sys_name = format!("{DRIVER_PACKAGE}.sys");
    options.inf_name = format!("{DRIVER_PACKAGE}.inf");
    options.cat_name = format!("{DRIVER_PACKAGE}.cat");
    CER_NAME.clone_into(&mut options.cer_name);
    options
}

/// `path` made absolute against the current directory.
fn absolute(path: &Path) -> Result<PathBuf> {
    std::path::absolute(path).context(|| format!("resolving {}", path.display()))
}

/// Is `path` (which need not exist yet) `root` or below it? Symbolic links in the existing part
/// of either path are resolved, so a link into the repository counts as inside.
fn is_inside(path: &Path, root: &Path) -> bool {
    let resolve = |path: &Path| -> PathBuf {
        let Ok(path) = std::path::absolute(path) else {
            return path.to_path_buf();
        };
        // Canonicalize the longest existing ancestor and append the rest lexically.
        let mut rest: Vec<Component<'_>> = Vec::new();
        for ancestor in path.ancestors() {
            if let Ok(real) = ancestor.canonicalize() {
                let mut resolved = real;
                for component in rest.iter().rev() {
                    match component {
                        Component::ParentDir => {
                            resolved.pop();
                        }
                        Component::CurDir => {}
                        other => resolved.push(other),
                    }
                }
                return resolved;
            }
            if let Some(last) = ancestor.components().next_back() {
                rest.push(last);
            }
        }
        path
    };
    resolve(path).starts_with(resolve(root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inside_and_outside_the_repository() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        assert!(is_inside(root, root));
        assert!(is_inside(&root.join("target/not-yet/created"), root));
        assert!(is_inside(&root.join("xtask/../keys"), root));
        assert!(!is_inside(&root.join("../elsewhere/keys"), root));
        assert!(!is_inside(Path::new("/"), root));
    }

    /// The names signing uses, derived from `DRIVER_PACKAGE`, are the file names the package
    /// folder and its tests expect. (The INF's `CatalogFile` is checked on the built package by
    /// `tests/inf.rs` and `tests/signing.rs`.)
    #[test]
    fn package_options_name_the_rvmini_package_files() {
        let options = package_options();
        assert_eq!(
            [options.sys_name.as_str(), &options.inf_name, &options.cat_name, &options.cer_name],
            ["rvmini.sys", "rvmini.inf", "rvmini.cat", "rvmini-test-signing.cer"]
        );
    }
}
