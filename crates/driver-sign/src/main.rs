//! `driver-sign`: test-sign a Windows driver package from any host.
//!
//! ```text
//! driver-sign identity [--store DIR] [--pfx FILE] [--key-bits N] [--cer OUT.cer]
//! driver-sign hash FILE... [--alg sha1|sha256]
//! driver-sign sign-pe FILE [--store DIR] [--pfx FILE]
//! driver-sign catalog --out X.cat [--hwid ID]... [--os _v100_X64] [--os-attr 2:10.0] FILE...
//! driver-sign package DIR [--sys rvmini.sys] [--inf rvmini.inf] [--cat rvmini.cat] [--cer NAME] [--hwid ID]...
//! driver-sign inspect X.cat [--cert CERT.cer]
//! ```
//!
//! The identity comes from `RVMINI_SIGN_PFX` / `RVMINI_SIGN_PFX_PASSWORD` if set, else the
//! test certificate in `RVMINI_SIGN_DIR` or `~/.local/share/rvmini/test-signing`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::SystemTime;

use clap::{Parser, Subcommand, ValueEnum};
use driver_sign::catalog::{CatalogOptions, verify_catalog_signature};
use driver_sign::package::source_date_epoch;
use driver_sign::{
    CatalogMember, Error, HashAlgorithm, IdentityOptions, IdentitySource, PackageOptions, SigningIdentity,
    authenticode_digest, build_catalog, hex_upper, load_or_create_test_identity, parse_catalog, sign_package, sign_pe,
};

#[derive(Parser)]
#[command(
    name = "driver-sign",
    version,
    about = "Test-sign a Windows driver package (Authenticode + catalog) on any host"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::Args, Clone)]
struct IdentityArgs {
    /// Directory of the generated test identity (default: $RVMINI_SIGN_DIR, else
    /// $XDG_DATA_HOME/rvmini/test-signing or ~/.local/share/rvmini/test-signing).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Sign with this PFX instead (default: $RVMINI_SIGN_PFX); password from
    /// $RVMINI_SIGN_PFX_PASSWORD.
    #[arg(long)]
    pfx: Option<PathBuf>,
    /// RSA key size for a new test key.
    #[arg(long, default_value_t = driver_sign::identity::DEFAULT_KEY_BITS)]
    key_bits: usize,
}

#[derive(Clone, Copy, ValueEnum)]
enum Alg {
    Sha1,
    Sha256,
}

#[derive(Subcommand)]
enum Cmd {
    /// Show (creating it if needed) the signing identity; optionally write its .cer.
    Identity {
        #[command(flatten)]
        id: IdentityArgs,
        /// Write the public certificate (DER) here.
        #[arg(long)]
        cer: Option<PathBuf>,
    },
    /// Print the Authenticode hash of PE images (flat hash of other files).
    Hash {
        /// Files to hash.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Digest algorithm.
        #[arg(long, value_enum, default_value_t = Alg::Sha256)]
        alg: Alg,
    },
    /// Sign a PE image in place (osslsigncode, SHA-256, no timestamp).
    SignPe {
        /// The image.
        file: PathBuf,
        #[command(flatten)]
        id: IdentityArgs,
    },
    /// Build and sign a catalog listing the given files.
    Catalog {
        /// Output .cat file.
        #[arg(long)]
        out: PathBuf,
        /// Hardware IDs (catalog attributes HWID1..n).
        #[arg(long = "hwid")]
        hwids: Vec<String>,
        /// Catalog OS attribute.
        #[arg(long, default_value = "_v100_X64")]
        os: String,
        /// Member OSAttr attribute.
        #[arg(long, default_value = "2:10.0")]
        os_attr: String,
        /// Member files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        #[command(flatten)]
        id: IdentityArgs,
    },
    /// Sign a package directory: the .sys in place, then write the .cat and the .cer.
    Package {
        /// The package directory.
        dir: PathBuf,
        #[arg(long, default_value = "rvmini.sys")]
        sys: String,
        #[arg(long, default_value = "rvmini.inf")]
        inf: String,
        #[arg(long, default_value = "rvmini.cat")]
        cat: String,
        #[arg(long, default_value = "rvmini-test-signing.cer")]
        cer: String,
        /// Hardware IDs (default: root\rvmini).
        #[arg(long = "hwid")]
        hwids: Vec<String>,
        #[command(flatten)]
        id: IdentityArgs,
    },
    /// Print a catalog's attributes and members; with --cert, also check its signature.
    Inspect {
        /// The catalog.
        cat: PathBuf,
        /// Certificate (DER or PEM) whose key must have signed the catalog.
        #[arg(long)]
        cert: Option<PathBuf>,
    },
}

fn identity(args: &IdentityArgs) -> Result<SigningIdentity, Error> {
    let mut opts = IdentityOptions::from_env();
    if let Some(p) = &args.pfx {
        opts.pfx = Some(p.clone());
    }
    if let Some(s) = &args.store {
        opts.store_dir = Some(s.clone());
    }
    opts.key_bits = args.key_bits;
    let id = load_or_create_test_identity(&opts)?;
    let how = match id.source() {
        IdentitySource::Generated(d) => format!("generated a new test certificate in {}", d.display()),
        IdentitySource::Reused(d) => format!("using the test certificate in {}", d.display()),
        IdentitySource::Pfx(p) => format!("using the PFX {}", p.display()),
        IdentitySource::Supplied => "using the given certificate".to_string(),
    };
    eprintln!("driver-sign: {how}: {} (SHA-1 {})", id.subject(), id.sha1_thumbprint_hex());
    Ok(id)
}

fn read(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

fn file_name(path: &Path) -> Result<String, Error> {
    path.file_name()
        .and_then(|n| n.to_str())
        .map(str::to_string)
        .ok_or_else(|| Error::Other(format!("{} has no UTF-8 file name", path.display())))
}

fn run(cli: Cli) -> Result<(), Error> {
    let now = source_date_epoch().unwrap_or_else(SystemTime::now);
    match cli.command {
        Cmd::Identity { id, cer } => {
            let ident = identity(&id)?;
            println!("subject:      {}", ident.subject());
            println!("sha1:         {}", ident.sha1_thumbprint_hex());
            println!("sha256:       {}", ident.sha256_fingerprint_hex());
            if let IdentitySource::Generated(d) | IdentitySource::Reused(d) = ident.source() {
                println!("certificate:  {}", d.join(driver_sign::identity::STORE_CERT_DER).display());
                println!("key:          {}", d.join(driver_sign::identity::STORE_KEY_PEM).display());
            }
            if let Some(out) = cer {
                ident.write_cer(&out)?;
                println!("wrote:        {}", out.display());
            }
        }
        Cmd::Hash { files, alg } => {
            let alg = match alg {
                Alg::Sha1 => HashAlgorithm::Sha1,
                Alg::Sha256 => HashAlgorithm::Sha256,
            };
            for f in files {
                let bytes = read(&f)?;
                let (kind, d) = if driver_sign::pe::looks_like_pe(&bytes) {
                    ("authenticode", authenticode_digest(&bytes, alg)?)
                } else {
                    ("flat", alg.digest(&bytes))
                };
                println!("{}  {} {}  {}", hex_upper(&d), alg.name(), kind, f.display());
            }
        }
        Cmd::SignPe { file, id } => {
            let ident = identity(&id)?;
            sign_pe(&file, &ident)?;
            println!("signed {}", file.display());
        }
        Cmd::Catalog { out, hwids, os, os_attr, files, id } => {
            let ident = identity(&id)?;
            let mut members = Vec::new();
            for f in &files {
                members.push(CatalogMember::from_bytes(&file_name(f)?, &read(f)?, Some(&os_attr))?);
            }
            let ids: Vec<&str> = hwids.iter().map(String::as_str).collect();
            let mut opts = CatalogOptions::inf2cat_10_x64(&ids, now);
            if let Some(a) = opts.attributes.iter_mut().find(|a| a.name == "OS") {
                a.value = os;
            }
            let cat = build_catalog(&members, &opts, &ident)?;
            std::fs::write(&out, cat).map_err(|source| Error::Io { path: out.clone(), source })?;
            println!("wrote {}", out.display());
        }
        Cmd::Package { dir, sys, inf, cat, cer, hwids, id } => {
            let ident = identity(&id)?;
            let mut opts = PackageOptions::rvmini();
            opts.sys_name = sys;
            opts.inf_name = inf;
            opts.cat_name = cat;
            opts.cer_name = cer;
            opts.time = now;
            if !hwids.is_empty() {
                opts.hardware_ids = hwids;
            }
            let sig = sign_package(&dir, &opts, &ident)?;
            println!(
                "signed image:  {} (Authenticode SHA-256 {})",
                sig.sys_path.display(),
                hex_upper(&sig.sys_authenticode_sha256)
            );
            println!("catalog:       {}", sig.cat_path.display());
            println!("certificate:   {} (SHA-1 thumbprint {})", sig.cer_path.display(), sig.cert_thumbprint);
        }
        Cmd::Inspect { cat, cert } => {
            let parsed = parse_catalog(&read(&cat)?)?;
            for a in &parsed.attributes {
                println!("catalog attribute  {} = {}", a.name, a.value);
            }
            for m in &parsed.members {
                let mut attrs: Vec<String> = m.attributes.iter().map(|a| format!("{}={}", a.name, a.value)).collect();
                attrs.sort_by_key(|a| !a.starts_with("File="));
                println!("member {}  {:?}  digest {}  {}", m.tag, m.kind, hex_upper(&m.digest), attrs.join(" "));
            }
            if let Some(c) = cert {
                let bytes = read(&c)?;
                let der_bytes = if bytes.starts_with(b"-----BEGIN") {
                    use der::DecodePem as _;
                    let text = String::from_utf8_lossy(&bytes);
                    let cert = x509_cert::Certificate::from_pem(text.as_bytes())?;
                    der::Encode::to_der(&cert)?
                } else {
                    bytes
                };
                verify_catalog_signature(&parsed, &der_bytes)?;
                println!("signature: OK (signed by the key of {})", c.display());
            }
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("driver-sign: error: {e}");
            ExitCode::FAILURE
        }
    }
}
