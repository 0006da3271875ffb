//! `cargo xtask package`: build rvmini.sys, lay out the driver package folder and test-sign it.
//!
//! The folder follows the windows-drivers-rs convention,
//! `<target-dir>/x86_64-pc-windows-msvc/release/rvmini_package/`, and holds:
//! * `rvmini.sys`: the linker's `rvmini.dll` (a cdylib), renamed, with an embedded Authenticode
//!   signature;
//! * `rvmini.pdb`: its debug symbols (the image's CodeView record names this file);
//! * `rvmini.map`: the linker map (`/MAP` in `.cargo/config.toml`);
//! * `rvmini.inf`: `driver.inx` stamped as stampinf would (see `inf.rs`);
//! * `rvmini.cat`: the signed catalog over the signed `rvmini.sys` and `rvmini.inf`;
//! * `rvmini-test-signing.cer`: the signing certificate, to trust on a test machine.
//!
//! Signing is [`crate::sign`]. `--unsigned` leaves out the last two files and the signature, for
//! developers who only want the image (Windows will not install such a package).
//!
//! The folder is recreated on every run, so nothing stale survives.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::inf::{self, DriverVer};
use crate::sign;
use crate::toolchain::{self, Missing, WINDOWS_TARGET};
use crate::workspace::{self, DRIVER_PACKAGE, Workspace};
use crate::{Context, Result};

pub const COMMAND: crate::Command = crate::Command {
    name: "package",
    usage: "package [--unsigned]",
    about: "build rvmini.sys (release), stamp rvmini.inf and test-sign both (rvmini.cat) in \
            target/x86_64-pc-windows-msvc/release/rvmini_package/",
    run,
};

/// Whether `cargo xtask package` signs the package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signing {
    /// The default: embedded signature on rvmini.sys, rvmini.cat, the .cer.
    Signed,
    /// `--unsigned`: only the image, its symbols and the INF.
    Unsigned,
}

/// The INF template, relative to the workspace root.
const INX: &str = "driver.inx";
/// Architecture name stampinf uses for x86-64 (`-a amd64`).
const INF_ARCH: &str = "amd64";

fn run(args: &[String]) -> Result<()> {
    let signing = parse_args(args)?;
    let workspace = Workspace::load()?;
    let dir = build_with(&workspace, signing)?;
    println!("package: {}", dir.display());
    for entry in list(&dir)? {
        println!("  {:>10}  {}", entry.1, entry.0);
    }
    if signing == Signing::Unsigned {
        println!("package: unsigned (--unsigned): no signature and no rvmini.cat, so Windows will not install it");
    }
    Ok(())
}

fn parse_args(args: &[String]) -> Result<Signing> {
    let mut signing = Signing::Signed;
    for arg in args {
        match arg.as_str() {
            "--unsigned" => signing = Signing::Unsigned,
            other => fail!("unexpected argument `{other}` (usage: cargo xtask {})", COMMAND.usage),
        }
    }
    Ok(signing)
}

/// Build, lay out and sign the package (what `cargo xtask package` does); returns the folder.
pub fn build(workspace: &Workspace) -> Result<PathBuf> {
    build_with(workspace, Signing::Signed)
}

/// Build and lay out the package, signed or not; returns the folder.
pub fn build_with(workspace: &Workspace, signing: Signing) -> Result<PathBuf> {
    // Signing set-up errors (no osslsigncode, a bad PFX) stop us before the long build.
    let identity = match signing {
        Signing::Signed => Some(sign::prepare(workspace)?),
        Signing::Unsigned => None,
    };
    let dir = build_unsigned(workspace)?;
    if let Some(identity) = identity {
        sign::sign(&dir, &identity)?;
    }
    Ok(dir)
}

/// Build the driver and (re)create its package folder without signing; returns the folder.
fn build_unsigned(workspace: &Workspace) -> Result<PathBuf> {
    ensure_driver_toolchain(workspace)?;

    let mut cargo = workspace.cargo();
    cargo.args([
        "build",
        "--package",
        DRIVER_PACKAGE,
        "--lib",
        "--release",
        "--target",
        WINDOWS_TARGET,
        "--message-format=json-render-diagnostics",
    ]);
    let messages = workspace::capture(&mut cargo)?;
    let artifacts = driver_artifacts(&messages)?;
    let dll = artifacts
        .iter()
        .find(|path| has_extension(path, "dll"))
        .ok_or_else(|| crate::Failure::new("cargo built no rvmini.dll (is the crate type still cdylib?)"))?;
    let pdb = artifacts
        .iter()
        .find(|path| has_extension(path, "pdb"))
        .ok_or_else(|| crate::Failure::new("cargo built no rvmini.pdb (profile.release.debug must stay on)"))?;
    let out_dir = dll.parent().unwrap_or(Path::new("."));
    // lld-link writes the map next to the file it links, which is deps/rvmini.dll.
    let map = out_dir.join("deps").join(format!("{DRIVER_PACKAGE}.map"));
    if !map.is_file() {
        fail!("the linker wrote no map at {} (is /MAP still in .cargo/config.toml?)", map.display());
    }

    let dir = out_dir.join(format!("{DRIVER_PACKAGE}_package"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).context(|| format!("removing the old {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir).context(|| format!("creating {}", dir.display()))?;
    copy(dll, &dir.join(format!("{DRIVER_PACKAGE}.sys")))?;
    copy(pdb, &dir.join(format!("{DRIVER_PACKAGE}.pdb")))?;
    copy(&map, &dir.join(format!("{DRIVER_PACKAGE}.map")))?;

    let (seconds, source) = driver_date(&workspace.root)?;
    let driver_ver = DriverVer::new(seconds, &workspace.driver_version)?;
    let inx_path = workspace.root.join(INX);
    let template = std::fs::read_to_string(&inx_path).context(|| format!("reading {}", inx_path.display()))?;
    let stamped = inf::stamp(&template, INF_ARCH, &driver_ver, &format!("{DRIVER_PACKAGE}.cat"))
        .map_err(|failure| crate::Failure::new(format!("{}: {failure}", inx_path.display())))?;
    let inf_path = dir.join(format!("{DRIVER_PACKAGE}.inf"));
    std::fs::write(&inf_path, stamped).context(|| format!("writing {}", inf_path.display()))?;
    eprintln!("package: DriverVer = {driver_ver} (date from {source})");
    Ok(dir)
}

/// Files in the package folder with their sizes, sorted by name.
pub fn list(dir: &Path) -> Result<Vec<(String, u64)>> {
    let mut entries = Vec::new();
    for entry in std::fs::read_dir(dir).context(|| format!("listing {}", dir.display()))? {
        let entry = entry.context(|| format!("listing {}", dir.display()))?;
        let size = entry.metadata().context(|| format!("reading {}", entry.path().display()))?.len();
        entries.push((entry.file_name().to_string_lossy().into_owned(), size));
    }
    entries.sort();
    Ok(entries)
}

fn has_extension(path: &Path, extension: &str) -> bool {
    path.extension().is_some_and(|found| found.eq_ignore_ascii_case(extension))
}

fn copy(from: &Path, to: &Path) -> Result<()> {
    std::fs::copy(from, to).context(|| format!("copying {} to {}", from.display(), to.display()))?;
    Ok(())
}

/// The files cargo reported for the driver's cdylib in `--message-format=json` output.
fn driver_artifacts(messages: &str) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for line in messages.lines().filter(|line| line.starts_with('{')) {
        let message: serde_json::Value =
            serde_json::from_str(line).context(|| "cargo printed a build message that is not JSON".to_owned())?;
        let is_driver = message["reason"] == "compiler-artifact"
            && message["target"]["name"] == DRIVER_PACKAGE
            && message["target"]["kind"].as_array().is_some_and(|kinds| kinds.iter().any(|kind| kind == "cdylib"));
        if is_driver && let Some(names) = message["filenames"].as_array() {
            files.extend(names.iter().filter_map(serde_json::Value::as_str).map(PathBuf::from));
        }
    }
    if files.is_empty() {
        fail!("cargo reported no artifact for the {DRIVER_PACKAGE} cdylib");
    }
    Ok(files)
}

/// The date to stamp as DriverVer, in Unix seconds, and where it came from: `SOURCE_DATE_EPOCH`
/// (reproducible-builds convention), else the committer date of `HEAD`, else now.
fn driver_date(root: &Path) -> Result<(i64, &'static str)> {
    if let Some(value) = std::env::var_os("SOURCE_DATE_EPOCH") {
        let text = value.to_string_lossy();
        let Ok(seconds) = text.trim().parse::<i64>() else {
            fail!("SOURCE_DATE_EPOCH must be a number of seconds since 1970, not `{text}`");
        };
        return Ok((seconds, "SOURCE_DATE_EPOCH"));
    }
    let commit = Command::new("git")
        .current_dir(root)
        .args(["log", "-1", "--format=%ct", "HEAD"])
        .output()
        .ok()
        .filter(|output| output.status.success())
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .and_then(|text| text.trim().parse::<i64>().ok());
    if let Some(seconds) = commit {
        return Ok((seconds, "the HEAD commit"));
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).context(|| "reading the clock".to_owned())?;
    let seconds = i64::try_from(now.as_secs()).context(|| "reading the clock".to_owned())?;
    Ok((seconds, "the clock: no SOURCE_DATE_EPOCH and no git commit"))
}

/// Make sure the toolchain can cross-build the driver; add the Windows target with rustup if it
/// is the missing piece.
fn ensure_driver_toolchain(workspace: &Workspace) -> Result<()> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let host = host_triple(&rustc, &workspace.root)?;
    let rustflags: Vec<String> = std::env::var("RUSTFLAGS")
        .map(|flags| flags.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    let check = || -> Result<Option<Missing>> {
        let mut probe = Command::new(&rustc);
        probe.current_dir(&workspace.root);
        let sysroot = toolchain::sysroot(probe, &rustflags).map_err(crate::Failure::new)?;
        Ok(toolchain::missing(&sysroot, &host))
    };
    match check()? {
        None => Ok(()),
        Some(Missing::WindowsStd) => {
            eprintln!(
                "package: the {WINDOWS_TARGET} standard library is missing; running `rustup target add {WINDOWS_TARGET}`"
            );
            let mut rustup = Command::new("rustup");
            rustup.current_dir(&workspace.root).args(["target", "add", WINDOWS_TARGET]);
            match rustup.status() {
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => fail!(
                    "rvmini needs the {WINDOWS_TARGET} standard library and rustup is not installed to add it: \
                     install Rust with rustup (https://rustup.rs) and run this command again"
                ),
                Err(error) => fail!("could not run `rustup target add {WINDOWS_TARGET}`: {error}"),
                Ok(status) if !status.success() => {
                    fail!("`rustup target add {WINDOWS_TARGET}` failed ({status}); run it by hand and retry")
                }
                Ok(_) => {}
            }
            match check()? {
                None => Ok(()),
                Some(missing) => fail!("{}", missing.sentence()),
            }
        }
        Some(missing) => fail!("{}", missing.sentence()),
    }
}

/// The host triple `rustc -vV` reports.
fn host_triple(rustc: &std::ffi::OsStr, root: &Path) -> Result<String> {
    let mut command = Command::new(rustc);
    command.current_dir(root).arg("-vV");
    let text = workspace::capture(&mut command)?;
    text.lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(|host| host.trim().to_owned())
        .ok_or_else(|| crate::Failure::new(format!("`{}` reported no host triple", workspace::render(&command))))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Signing> {
        parse_args(&args.iter().map(|arg| (*arg).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn signed_by_default_unsigned_on_request() {
        assert_eq!(parse(&[]).unwrap(), Signing::Signed);
        assert_eq!(parse(&["--unsigned"]).unwrap(), Signing::Unsigned);
        assert!(parse(&["--unsigend"]).is_err());
        assert!(parse(&["--unsigned", "extra"]).is_err());
    }
}
