//! `ndis-host`: run a real NDIS 6 miniport image (`rvmini.sys`) on Linux. The commands and
//! their options are in [`USAGE`] (what `ndis-host help` prints).
//!
//! `run` loads the image, runs DriverEntry, creates the adapters on the hub, initializes and
//! restarts them, runs pause/restart cycles with traffic between the adapters, then pauses,
//! halts and unloads — printing the trace of NDIS-to-miniport and miniport-to-NDIS calls as it
//! goes, a progress line on long runs, and a summary. The exit status is 0 only if the run is
//! clean ([`scenario::Report::clean`]): no finding, no crash, no frame lost, corrupted or out of
//! order, nothing left at unload, and the scenario ran to its end.

use ndis_host::host::{HostConfig, Mode};
use ndis_host::loader::{ExportTable, Image};
use ndis_host::ndis::protocol::ReturnPolicy;
use ndis_host::scenario::{self, Lifecycle};
use ndis_host::sim::Sim;
use ndis_host::trace::{Level, Trace, TraceConfig};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

/// The commands and their options.
const USAGE: &str = "usage:
  ndis-host run <image.sys> [--adapters N] [--cycles N] [--seed S | --threaded]
                [--sizes 64,512,1514] [--chain N] [--returns inline|queue|hold:MS] [--jumbo]
                [--trace off|lifecycle|datapath|kernel] [--mermaid FILE] [--log]
  ndis-host inspect <image.sys>
  ndis-host bench <image.sys> [--runs N] [--quick] [--json FILE] [--svg FILE] [--docs FILE] ...
  ndis-host rules [--markdown]";

struct RunArgs {
    image: PathBuf,
    lifecycle: Lifecycle,
    mode: Mode,
    trace: Level,
    mermaid: Option<PathBuf>,
    log: bool,
}

fn value<T: std::str::FromStr>(args: &mut impl Iterator<Item = String>, flag: &str) -> Result<T, String> {
    let v = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
    v.parse().map_err(|_| format!("{flag}: cannot parse {v:?}"))
}

fn parse_run(mut args: impl Iterator<Item = String>) -> Result<RunArgs, String> {
    let mut image = None;
    let mut lifecycle = Lifecycle { cycles: 10, ..Lifecycle::default() };
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(1, |d| u64::from(d.subsec_nanos()) ^ (d.as_secs() & 0xFFFF));
    let mut mode = Mode::Deterministic { seed };
    let mut trace = Level::Lifecycle;
    let mut mermaid = None;
    let mut log = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--adapters" => lifecycle.adapters = value(&mut args, &a)?,
            "--cycles" => lifecycle.cycles = value(&mut args, &a)?,
            "--seed" => mode = Mode::Deterministic { seed: value(&mut args, &a)? },
            "--threaded" => mode = Mode::Threaded,
            "--chain" => lifecycle.chain = value(&mut args, &a)?,
            "--returns" => {
                let v: String = value(&mut args, &a)?;
                lifecycle.policy = match v.as_str() {
                    "inline" => ReturnPolicy::Inline,
                    "queue" => ReturnPolicy::Queue,
                    h if h.starts_with("hold:") => {
                        let ms = h[5..].parse().map_err(|_| format!("--returns: bad hold time {h:?}"))?;
                        ReturnPolicy::Hold(Duration::from_millis(ms))
                    }
                    other => return Err(format!("--returns: unknown policy {other:?}")),
                };
            }
            "--jumbo" => {
                lifecycle.jumbo = Some(9014);
                lifecycle.frame_sizes.push(9014);
            }
            "--sizes" => {
                let v: String = value(&mut args, &a)?;
                lifecycle.frame_sizes = v
                    .split(',')
                    .map(|s| s.trim().parse().map_err(|_| format!("--sizes: bad size {s:?}")))
                    .collect::<Result<_, _>>()?;
            }
            "--trace" => {
                trace = match value::<String>(&mut args, &a)?.as_str() {
                    "off" => Level::Off,
                    "lifecycle" => Level::Lifecycle,
                    "datapath" => Level::Datapath,
                    "kernel" => Level::Kernel,
                    other => return Err(format!("--trace: unknown level {other:?}")),
                }
            }
            "--mermaid" => mermaid = Some(PathBuf::from(value::<String>(&mut args, &a)?)),
            "--log" => log = true,
            s if s.starts_with("--") => return Err(format!("unknown option {s}")),
            s => {
                if image.replace(PathBuf::from(s)).is_some() {
                    return Err("more than one image given".into());
                }
            }
        }
    }
    if lifecycle.adapters < 2 {
        return Err("--adapters: at least 2 (the hub needs a peer)".into());
    }
    if lifecycle.frame_sizes.is_empty() {
        return Err("--sizes: at least one size".into());
    }
    let image = image.ok_or("no image given")?;
    Ok(RunArgs { image, lifecycle, mode, trace, mermaid, log })
}

fn run(args: &RunArgs) -> ExitCode {
    let config = HostConfig {
        mode: args.mode,
        trace: TraceConfig {
            keep: if args.mermaid.is_some() { Level::Lifecycle } else { Level::Off },
            print: args.trace,
            max_kept: 100_000,
        },
        echo_driver_log: args.log,
        ..HostConfig::default()
    };
    let sim = Sim::new(config);
    if let Err(e) = sim.load(&args.image) {
        eprintln!("ndis-host: {}: {e}", args.image.display());
        return ExitCode::from(2);
    }
    match args.mode {
        Mode::Deterministic { seed } => {
            eprintln!("ndis-host: deterministic mode, seed {seed} (replay with --seed {seed})");
        }
        Mode::Threaded => eprintln!("ndis-host: threaded mode"),
    }
    let tty = std::io::stderr().is_terminal();
    let progress = |done: usize, total: usize| {
        if total < 20 {
            return;
        }
        let step = (total / 20).max(1);
        if tty {
            eprint!("\rndis-host: cycle {done}/{total}");
            let _ = std::io::stderr().flush();
            if done == total {
                eprintln!();
            }
        } else if done.is_multiple_of(step) || done == total {
            eprintln!("ndis-host: cycle {done}/{total}");
        }
    };
    let report = scenario::run_lifecycle(&sim, &args.lifecycle, &progress);
    if let Some(path) = &args.mermaid {
        let events = sim.host().trace.events();
        let text = format!("```mermaid\n{}```\n", Trace::mermaid(&events));
        if let Err(e) = std::fs::write(path, text) {
            eprintln!("ndis-host: cannot write {}: {e}", path.display());
        }
    }
    println!("--- summary ---\n{report}");
    if report.clean() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn inspect(path: Option<String>) -> ExitCode {
    let Some(path) = path else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let host = ndis_host::host::HostInner::new(HostConfig::default());
    let exports: &ExportTable = host.exports();
    match Image::load(std::path::Path::new(&path), exports) {
        Ok(image) => {
            println!(
                "{}: AMD64 kernel image, {} bytes mapped at {:#x}, entry {}",
                path,
                image.size(),
                image.base(),
                ndis_host::crash::describe(image.entry_point())
            );
            for s in image.sections() {
                println!("  section {s:?}");
            }
            for i in image.imports() {
                println!("  import {i:?}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ndis-host: {path}: {e}");
            ExitCode::from(2)
        }
    }
}

/// `ndis-host rules [--markdown]`: the verifier's rule catalogue (name, what it requires, its
/// source, the test that makes it fire); `--markdown` prints exactly the table of
/// docs/VERIFIER.md.
fn rules(args: impl Iterator<Item = String>) -> ExitCode {
    let args: Vec<String> = args.collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => print!("{}", ndis_host::verifier::text()),
        ["--markdown"] => print!("{}", ndis_host::verifier::markdown()),
        _ => {
            eprintln!("usage: ndis-host rules [--markdown]");
            return ExitCode::from(2);
        }
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("run") => match parse_run(args) {
            Ok(a) => run(&a),
            Err(e) => {
                eprintln!("ndis-host: {e}\n{USAGE}");
                ExitCode::from(2)
            }
        },
        Some("inspect") => inspect(args.next()),
        Some("rules") => rules(args),
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        Some("bench") => match ndis_host::bench::parse(args) {
            Ok(a) => match ndis_host::bench::main(&a) {
                Ok(summary) if summary.clean() => ExitCode::SUCCESS,
                Ok(_) => ExitCode::from(1),
                Err(e) => {
                    eprintln!("ndis-host bench: {e}");
                    ExitCode::from(1)
                }
            },
            Err(e) => {
                eprintln!("ndis-host bench: {e}\nusage:\n  {}", ndis_host::bench::USAGE);
                ExitCode::from(2)
            }
        },
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
