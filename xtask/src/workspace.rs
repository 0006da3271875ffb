//! The cargo workspace xtask runs in, and helpers to run programs in it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::{Context, Result};

/// Name of the driver package (the root package of the workspace).
pub const DRIVER_PACKAGE: &str = "rvmini";

/// The rvmini workspace: where it is, which cargo drives it, the driver's version.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Directory of the workspace `Cargo.toml`.
    pub root: PathBuf,
    /// The cargo that started xtask (`$CARGO`), so nested builds use the same toolchain.
    pub cargo: OsString,
    /// `version` of the driver package in its `Cargo.toml`.
    pub driver_version: String,
}

impl Workspace {
    /// Find the workspace and ask cargo for its metadata (no network, no dependency resolution).
    pub fn load() -> Result<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map(Path::to_path_buf)
            .ok_or_else(|| crate::Failure::new("xtask is not inside the rvmini workspace"))?;
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = Command::new(&cargo);
        command.current_dir(&root).args(["metadata", "--format-version", "1", "--no-deps"]);
        let stdout = capture(&mut command)?;
        let metadata: serde_json::Value = serde_json::from_str(&stdout)
            .context(|| "`cargo metadata` printed something that is not JSON".to_owned())?;
        let driver_version = metadata["packages"]
            .as_array()
            .and_then(|packages| packages.iter().find(|package| package["name"] == DRIVER_PACKAGE))
            .and_then(|package| package["version"].as_str())
            .map(str::to_owned);
        let Some(driver_version) = driver_version else {
            fail!("`cargo metadata` lists no `{DRIVER_PACKAGE}` package in {}", root.display());
        };
        Ok(Self { root, cargo, driver_version })
    }

    /// A `cargo` command that runs in the workspace root.
    pub fn cargo(&self) -> Command {
        let mut command = Command::new(&self.cargo);
        command.current_dir(&self.root);
        command
    }
}

/// `cargo clippy --workspace` style rendering of a command for messages (program name without
/// its directory, arguments joined with spaces).
pub fn render(command: &Command) -> String {
    let program = Path::new(command.get_program())
        .file_name()
        .map_or_else(|| command.get_program().to_string_lossy(), |name| name.to_string_lossy());
    let mut text = program.into_owned();
    for arg in command.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// Run `command` with inherited stdio; fail with its rendering if it cannot start or exits non-zero.
pub fn run(command: &mut Command) -> Result<()> {
    let status = command.status().context(|| format!("could not start `{}`", render(command)))?;
    if !status.success() {
        fail!("`{}` failed ({status})", render(command));
    }
    Ok(())
}

/// Run `command`, pass its stderr through, and return its stdout; fail like [`run`].
pub fn capture(command: &mut Command) -> Result<String> {
    let output = command
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context(|| format!("could not start `{}`", render(command)))?;
    if !output.status.success() {
        fail!("`{}` failed ({})", render(command), output.status);
    }
    String::from_utf8(output.stdout).context(|| format!("`{}` printed non-UTF-8 output", render(command)))
}
