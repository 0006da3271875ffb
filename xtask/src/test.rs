//! `cargo xtask test`: everything CI checks, in order, stopping at the first failure.
//!
//! The steps are the [`STEPS`] table. To add one (a fuzzing run, a check that the generated
//! docs tables are current, ...), write a `fn(&mut Run) -> Result<()>` and add a [`Step`] line; `Run` carries what
//! earlier steps produced (the package folder) and the workspace.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::toolchain::WINDOWS_TARGET;
use crate::workspace::{self, DRIVER_PACKAGE, Workspace};
use crate::{Failure, Result, package};

pub const COMMAND: crate::Command = crate::Command {
    name: "test",
    usage: "test [--list] [--only a,b] [--skip a,b]",
    about: "build the package, run clippy (host and driver), rustfmt --check, the whole test suite and the loom \
            model checks",
    run,
};

/// Environment variable naming the package folder for the integration tests (`tests/common`).
pub const PACKAGE_DIR_ENV: &str = "RVMINI_PACKAGE_DIR";

/// State shared by the steps of one `cargo xtask test` run.
pub struct Run {
    pub workspace: Workspace,
    /// The package folder, once the `package` step has built it.
    pub package_dir: Option<PathBuf>,
}

/// One step of `cargo xtask test`.
pub struct Step {
    pub name: &'static str,
    /// What it runs, shown before it starts.
    pub describe: &'static str,
    pub run: fn(&mut Run) -> Result<()>,
}

/// The steps, in the order they run.
pub const STEPS: &[Step] = &[
    Step { name: "package", describe: "cargo xtask package", run: step_package },
    Step {
        name: "clippy-host",
        describe: "cargo clippy --workspace --all-targets -- -D warnings",
        run: step_clippy_host,
    },
    Step {
        name: "clippy-driver",
        describe: "cargo clippy -p rvmini --lib --target x86_64-pc-windows-msvc -- -D warnings",
        run: step_clippy_driver,
    },
    Step { name: "fmt", describe: "cargo fmt --all --check", run: step_fmt },
    Step {
        name: "test",
        describe: "cargo test --workspace --no-fail-fast (with RVMINI_PACKAGE_DIR set)",
        run: step_test,
    },
    Step {
        name: "loom",
        describe: "cargo test -p rvmini-core --features loom --release --test loom_races",
        run: step_loom,
    },
];

fn step_package(run: &mut Run) -> Result<()> {
    let dir = package::build(&run.workspace)?;
    for (name, size) in package::list(&dir)? {
        println!("    {size:>10}  {name}");
    }
    run.package_dir = Some(dir);
    Ok(())
}

fn step_clippy_host(run: &mut Run) -> Result<()> {
    let mut cargo = run.workspace.cargo();
    cargo.args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]);
    workspace::run(&mut cargo)
}

fn step_clippy_driver(run: &mut Run) -> Result<()> {
    let mut cargo = run.workspace.cargo();
    cargo.args(["clippy", "-p", DRIVER_PACKAGE, "--lib", "--target", WINDOWS_TARGET, "--", "-D", "warnings"]);
    workspace::run(&mut cargo)
}

fn step_fmt(run: &mut Run) -> Result<()> {
    let mut cargo = run.workspace.cargo();
    cargo.args(["fmt", "--all", "--check"]);
    workspace::run(&mut cargo).map_err(|failure| Failure::new(format!("{failure}; run `cargo fmt --all` to fix")))
}

fn step_test(run: &mut Run) -> Result<()> {
    let mut cargo = run.workspace.cargo();
    // --no-fail-fast: one failing test binary must not hide the results of the others.
    cargo.args(["test", "--workspace", "--no-fail-fast"]);
    if let Some(dir) = &run.package_dir {
        cargo.env(PACKAGE_DIR_ENV, dir);
    }
    workspace::run(&mut cargo)
}

/// The loom model checks of the lifecycle word, the transmit queue and the DPC serialiser: a
/// separate build (`--features loom` swaps the atomics for loom's), in release because loom
/// explores many interleavings.
fn step_loom(run: &mut Run) -> Result<()> {
    let mut cargo = run.workspace.cargo();
    cargo.args(["test", "-p", "rvmini-core", "--features", "loom", "--release", "--test", "loom_races"]);
    workspace::run(&mut cargo)
}

/// Which steps to run, from `--only` / `--skip` (comma-separated step names).
fn select(args: &[String]) -> Result<Option<Vec<&'static Step>>> {
    let mut only: Option<Vec<String>> = None;
    let mut skip: Vec<String> = Vec::new();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--list" => {
                for step in STEPS {
                    println!("{:14} {}", step.name, step.describe);
                }
                return Ok(None);
            }
            "--only" | "--skip" => {
                let Some(value) = args.next() else {
                    fail!("`{arg}` needs a comma-separated list of steps (see `cargo xtask test --list`)");
                };
                let names = value.split(',').map(str::trim).filter(|name| !name.is_empty()).map(str::to_owned);
                if arg == "--only" {
                    only.get_or_insert_with(Vec::new).extend(names);
                } else {
                    skip.extend(names);
                }
            }
            other => fail!("unexpected argument `{other}` (usage: cargo xtask {})", COMMAND.usage),
        }
    }
    for name in only.iter().flatten().chain(&skip) {
        if !STEPS.iter().any(|step| step.name == name) {
            fail!("there is no step `{name}` (see `cargo xtask test --list`)");
        }
    }
    let chosen = STEPS
        .iter()
        .filter(|step| only.as_ref().is_none_or(|only| only.iter().any(|name| name == step.name)))
        .filter(|step| !skip.iter().any(|name| name == step.name))
        .collect();
    Ok(Some(chosen))
}

fn seconds(duration: Duration) -> String {
    format!("{:.1} s", duration.as_secs_f64())
}

fn run(args: &[String]) -> Result<()> {
    let Some(steps) = select(args)? else {
        return Ok(());
    };
    let mut state = Run { workspace: Workspace::load()?, package_dir: None };
    let total = steps.len();
    let started = Instant::now();
    let mut done: Vec<(&str, Duration)> = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        println!("==> [{}/{total}] {}: {}", index + 1, step.name, step.describe);
        let step_started = Instant::now();
        let outcome = (step.run)(&mut state);
        let elapsed = step_started.elapsed();
        if let Err(failure) = outcome {
            println!();
            for (name, time) in &done {
                println!("    ok      {name:14} {}", seconds(*time));
            }
            println!("    FAILED  {:14} {}", step.name, seconds(elapsed));
            fail!("step `{}` failed after {}: {failure}", step.name, seconds(elapsed));
        }
        println!("    ok ({})", seconds(elapsed));
        done.push((step.name, elapsed));
    }
    println!("\nxtask test: all {total} steps passed in {}", seconds(started.elapsed()));
    for (name, time) in &done {
        println!("    ok      {name:14} {}", seconds(*time));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(args: &[&str]) -> Vec<&'static str> {
        let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
        select(&args).unwrap().unwrap().iter().map(|step| step.name).collect()
    }

    #[test]
    fn all_steps_by_default_in_order() {
        assert_eq!(names(&[]), ["package", "clippy-host", "clippy-driver", "fmt", "test", "loom"]);
    }

    #[test]
    fn only_and_skip_filter_but_keep_the_order() {
        assert_eq!(names(&["--only", "test,package"]), ["package", "test"]);
        assert_eq!(names(&["--skip", "fmt", "--skip", "clippy-host"]), ["package", "clippy-driver", "test", "loom"]);
    }

    #[test]
    fn unknown_steps_and_arguments_are_errors() {
        assert!(select(&["--only".to_owned(), "nope".to_owned()]).is_err());
        assert!(select(&["--skip".to_owned()]).is_err());
        assert!(select(&["--frobnicate".to_owned()]).is_err());
    }
}
