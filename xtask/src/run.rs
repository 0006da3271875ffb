//! `cargo xtask run`: the newcomer's command. Builds the package and loads its rvmini.sys into
//! ndis-host (release build), which creates two adapters, runs the lifecycle with traffic and
//! prints the NDIS <-> miniport trace and a summary. Arguments after `run` go to `ndis-host run`.

use crate::workspace::{self, Workspace};
use crate::{Result, package};

pub const COMMAND: crate::Command = crate::Command {
    name: "run",
    usage: "run [ndis-host run options]",
    about: "build the package and run its rvmini.sys in ndis-host: two adapters, lifecycle with traffic, \
            trace and summary (e.g. --cycles 20 --mermaid trace.md; --help lists the options)",
    run,
};

/// The package's rvmini.sys run with `ndis-host run <image> <args>`.
fn run(args: &[String]) -> Result<()> {
    if args.iter().any(|a| a == "--help" || a == "-h") {
        let workspace = Workspace::load()?;
        let mut cargo = workspace.cargo();
        cargo.args(["run", "--quiet", "--release", "--package", "ndis-host", "--", "help"]);
        return workspace::run(&mut cargo);
    }
    let workspace = Workspace::load()?;
    let dir = package::build(&workspace)?;
    let image = dir.join("rvmini.sys");
    let mut cargo = workspace.cargo();
    cargo.args(["run", "--quiet", "--release", "--package", "ndis-host", "--", "run"]).arg(&image).args(args);
    workspace::run(&mut cargo)
}
