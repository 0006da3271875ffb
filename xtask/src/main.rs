//! `cargo xtask <command>`: build, package and test orchestration for rvmini.
//!
//! Every command is a module with a `pub const COMMAND: Command` and one line in [`COMMANDS`].
//! To add one (say `fuzz`): write `src/fuzz.rs` with
//! `pub const COMMAND: Command = Command { name: "fuzz", .. };`, add `mod fuzz;` below and
//! `&fuzz::COMMAND` to [`COMMANDS`]. Shared helpers: [`workspace`] (cargo invocations, workspace
//! metadata), [`Failure`]/[`Context`] (one-line error messages).

/// Return early with a formatted [`Failure`]. (Defined before the modules so they can use it.)
macro_rules! fail {
    ($($arg:tt)*) => {
        return Err($crate::Failure::new(format!($($arg)*)))
    };
}

mod bench;
mod inf;
mod package;
mod run;
mod sign;
mod test;
mod toolchain;
mod workspace;

use std::fmt;
use std::process::ExitCode;

/// One `cargo xtask` subcommand.
pub struct Command {
    /// The word after `cargo xtask`.
    pub name: &'static str,
    /// Synopsis of the arguments, for `cargo xtask help`.
    pub usage: &'static str,
    /// One line saying what it does.
    pub about: &'static str,
    /// Runs the command with the arguments that follow its name.
    pub run: fn(&[String]) -> Result<()>,
}

/// All commands, in the order `cargo xtask help` lists them.
const COMMANDS: &[&Command] = &[&package::COMMAND, &run::COMMAND, &bench::COMMAND, &test::COMMAND];

/// Why a command failed: one message, printed as `xtask <command>: error: <message>`.
#[derive(Debug)]
pub struct Failure(String);

impl Failure {
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Result of xtask operations.
pub type Result<T = ()> = std::result::Result<T, Failure>;

/// Attach what was being done to a lower-level error.
pub trait Context<T> {
    fn context(self, doing: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: fmt::Display> Context<T> for std::result::Result<T, E> {
    fn context(self, doing: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|error| Failure(format!("{}: {error}", doing())))
    }
}

fn print_help() {
    println!("usage: cargo xtask <command> [arguments]\n\ncommands:");
    let width = COMMANDS.iter().map(|command| command.usage.len()).max().unwrap_or(0);
    for command in COMMANDS {
        println!("  {:width$}  {}", command.usage, command.about);
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((name, rest)) = args.split_first() else {
        print_help();
        return ExitCode::from(2);
    };
    if matches!(name.as_str(), "help" | "--help" | "-h") {
        print_help();
        return ExitCode::SUCCESS;
    }
    let Some(command) = COMMANDS.iter().find(|command| command.name == name) else {
        eprintln!("xtask: unknown command `{name}`\n");
        print_help();
        return ExitCode::from(2);
    };
    match (command.run)(rest) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("xtask {}: error: {failure}", command.name);
            ExitCode::FAILURE
        }
    }
}
