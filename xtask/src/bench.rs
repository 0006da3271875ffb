//! `cargo xtask bench`: benchmarks of the release rvmini.sys in ndis-host.
//!
//! Builds the package (unsigned: the image is the same, and no signing tool is needed), then
//! runs `ndis-host bench` from a release build of ndis-host on the package's rvmini.sys. That
//! command does the measuring (see `crates/ndis-host/src/bench.rs`): two adapters on the hub,
//! the send → hub → receive → return → completion loop for each frame size, chain length and
//! number of sending threads, with the verifier's per-call checks off and on, the memcpy limit,
//! pause and restart latency under load, the OID_GEN_STATISTICS round trip and allocations per
//! frame, over several runs (median and spread). It prints the table with progress while it
//! runs and writes `<target>/bench/bench.json` and `<target>/bench/performance.svg`; with
//! `--write-docs` the chart goes to `docs/performance.svg` and the figures section of
//! `docs/PERFORMANCE.md` is regenerated.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::package::{self, Signing};
use crate::workspace::{self, Workspace};
use crate::{Context, Result};

pub const COMMAND: crate::Command = crate::Command {
    name: "bench",
    usage: "bench [--runs N] [--quick] [--write-docs] [ndis-host bench options]",
    about: "benchmark the release rvmini.sys in ndis-host (throughput, memcpy limit, pause latency, OID round \
            trip, allocations per frame); --write-docs updates docs/PERFORMANCE.md and docs/performance.svg",
    run,
};

/// What `cargo xtask bench` was asked for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Args {
    /// Regenerate the figures in docs/PERFORMANCE.md and the chart in docs/.
    write_docs: bool,
    /// Everything else goes to `ndis-host bench` as given.
    pass: Vec<String>,
}

fn parse_args(args: &[String]) -> Result<Args> {
    let mut out = Args::default();
    for arg in args {
        match arg.as_str() {
            "--write-docs" => out.write_docs = true,
            "--json" | "--svg" | "--docs" | "--command" | "--commit" => {
                fail!("`{arg}` is chosen by `cargo xtask bench` itself (see `cargo xtask help`)")
            }
            _ => out.pass.push(arg.clone()),
        }
    }
    Ok(out)
}

/// `abc1234` (with `-dirty` if the work tree has changes), or empty if git cannot tell.
fn commit(root: &Path) -> String {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let Some(head) = git(&["rev-parse", "--short", "HEAD"]) else { return String::new() };
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    if dirty { format!("{head}-dirty") } else { head }
}

fn run(args: &[String]) -> Result<()> {
    let parsed = parse_args(args)?;
    let workspace = Workspace::load()?;
    let dir = package::build_with(&workspace, Signing::Unsigned)?;
    let image = dir.join("rvmini.sys");
    // <target>/x86_64-pc-windows-msvc/release/rvmini_package
    let target = dir.ancestors().nth(3).map_or_else(|| workspace.root.join("target"), Path::to_path_buf);
    let out = target.join("bench");
    std::fs::create_dir_all(&out).context(|| format!("creating {}", out.display()))?;
    let json = out.join("bench.json");
    let svg: PathBuf = if parsed.write_docs {
        workspace.root.join("docs").join("performance.svg")
    } else {
        out.join("performance.svg")
    };
    let mut shown = vec!["cargo xtask bench".to_owned()];
    shown.extend(args.iter().cloned());
    let mut cargo = workspace.cargo();
    cargo.args(["run", "--quiet", "--release", "--package", "ndis-host", "--", "bench"]).arg(&image);
    cargo.args(&parsed.pass);
    cargo.arg("--json").arg(&json).arg("--svg").arg(&svg);
    cargo.arg("--command").arg(shown.join(" ")).arg("--commit").arg(commit(&workspace.root));
    if parsed.write_docs {
        cargo.arg("--docs").arg(workspace.root.join("docs").join("PERFORMANCE.md"));
    }
    println!("bench: {}", workspace::render(&cargo));
    workspace::run(&mut cargo)?;
    println!("bench: {} and {}", json.display(), svg.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Args> {
        parse_args(&args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>())
    }

    #[test]
    fn write_docs_is_ours_and_output_paths_are_not_the_callers() {
        let a = parse(&["--write-docs", "--window", "200"]).unwrap();
        assert!(a.write_docs);
        assert_eq!(a.pass, ["--window", "200"]);
        assert!(parse(&["--json", "x.json"]).is_err());
    }
}
