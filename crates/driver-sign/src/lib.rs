//! Test-signing a Windows driver package on any host (no Windows, no WDK).
//!
//! What it makes, for a package directory holding `rvmini.sys` and `rvmini.inf`:
//!
//! * a **signing identity** ([`identity`]): a self-signed RSA code-signing test certificate made
//!   here and kept outside the repository, or the user's PFX;
//! * an **embedded Authenticode signature** (SHA-256) in `rvmini.sys`, made by `osslsigncode`
//!   ([`authenticode`]), without a timestamp (no time-stamping server is reachable from the
//!   build machines; a test signature does not need one);
//! * a **catalog** `rvmini.cat` ([`catalog`]): a PKCS #7 SignedData whose content is a
//!   Microsoft certificate trust list with one member per file, keyed by the file's hash (the
//!   Authenticode hash for the PE image, a flat hash for the INF), with the attributes `inf2cat
//!   /os:10_x64` writes, signed here with the same identity (`cms` + `rsa`, SHA-256);
//! * the public certificate (`.cer`, DER) in the package, for `certutil -addstore`.
//!
//! [`package::sign_package`] does all of it in the required order (the image is signed first,
//! the catalog then lists the *signed* image). The `driver-sign` binary exposes the same steps as
//! subcommands.
//!
//! The PE hash is computed here ([`pe`]); the independent checks (`osslsigncode verify`, the
//! `signify` Python package) live in this crate's tests.

pub mod authenticode;
pub mod catalog;
pub mod identity;
pub mod package;
pub mod pe;

pub use authenticode::{PeSignOptions, osslsigncode_preflight, sign_pe, sign_pe_with};
pub use catalog::{
    CatalogAttribute, CatalogMember, CatalogOptions, MemberKind, ParsedCatalog, build_catalog, build_ctl, parse_catalog,
};
pub use identity::{
    IdentityOptions, IdentitySource, SigningIdentity, default_store_dir, generate_test_identity,
    load_or_create_test_identity, load_pfx,
};
pub use package::{PackageOptions, PackageSignature, sign_package};
pub use pe::{HashAlgorithm, authenticode_digest, pe_authenticode_hash};

use std::path::PathBuf;

/// Everything that can go wrong while signing.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not a PE image this crate can hash.
    #[error("not a usable PE image: {0}")]
    Pe(String),
    /// ASN.1 encoding or decoding failed.
    #[error("ASN.1/DER: {0}")]
    Der(#[from] der::Error),
    /// An RSA operation failed.
    #[error("RSA: {0}")]
    Rsa(#[from] rsa::Error),
    /// A private key could not be read or written.
    #[error("private key: {0}")]
    Key(String),
    /// A certificate could not be made, read or used.
    #[error("certificate: {0}")]
    Cert(String),
    /// The catalog could not be built or parsed.
    #[error("catalog: {0}")]
    Catalog(String),
    /// The INF does not fit the package.
    #[error("INF: {0}")]
    Inf(String),
    /// An external tool is missing or failed.
    #[error("{tool}: {message}")]
    Tool {
        /// The tool's command name.
        tool: &'static str,
        /// What happened, and what to do about it.
        message: String,
    },
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

impl Error {
    pub(crate) fn pe(msg: impl Into<String>) -> Self {
        Error::Pe(msg.into())
    }
}

/// Upper-case hex of `bytes`.
#[must_use]
pub fn hex_upper(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02X}");
        s
    })
}
