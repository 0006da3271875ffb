//! The host: one user-mode "machine" running one driver image.
//!
//! A [`HostInner`] owns everything a scenario needs: the verifier, the trace, the clock, the
//! kernel objects ([`crate::kernel`]), the NDIS state ([`crate::ndis`]), fault injection, and
//! the loaded image. Driver code reaches it through import thunks; the process-wide dispatcher
//! ([`dispatch`]) finds the host of the calling thread ([`thread::host`]) and the import's
//! [`ImportDef`], checks the documented IRQL, and runs the handler.
//!
//! Every call *into* the driver goes through [`HostInner::call`], which sets the thread's host
//! and IRQL, records the handler frame (so rules can ask "is this thread inside MiniportPause?"),
//! runs the function on the guarded driver stack, and on return checks that the handler left
//! the IRQL as it found it and released every spin lock it took. A crash in driver code ends
//! the call with [`Abandoned`] and a [`CrashReport`].

pub mod handles;
pub mod thread;

use crate::abi::{self, ImportCall};
use crate::clock::Clock;
use crate::crash::{Crash, CrashKind};
use crate::fault::{FaultInjector, FaultPlan};
use crate::imports::{self, CallClass, ImportDef};
use crate::kernel::Kernel;
use crate::kernel::pending::Pending;
use crate::kernel::resources::Resources;
use crate::loader::{ExportTable, Image};
use crate::ndis::Ndis;
use crate::trace::{Dir, Level, Trace, TraceConfig};
use crate::verifier::{Rule, Verifier, VerifierConfig};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once, PoisonError, RwLock};
use thread::Frame;

/// How the host runs the driver's concurrency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Real threads: DPC, work-item and timer workers, several sending threads.
    Threaded,
    /// One OS thread; a scheduler seeded with `seed` picks which pending action runs next.
    Deterministic {
        /// The seed; the same seed replays the same run.
        seed: u64,
    },
}

/// Host settings.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// Threaded or deterministic.
    pub mode: Mode,
    /// Verifier settings.
    pub verifier: VerifierConfig,
    /// Trace settings.
    pub trace: TraceConfig,
    /// Allocation failures to inject.
    pub faults: FaultPlan,
    /// DPC worker threads (threaded mode).
    pub dpc_threads: usize,
    /// Work-item worker threads (threaded mode).
    pub work_threads: usize,
    /// Print the driver's DbgPrint output to stderr as it comes.
    pub echo_driver_log: bool,
}

impl Default for HostConfig {
    fn default() -> Self {
        Self {
            mode: Mode::Threaded,
            verifier: VerifierConfig::default(),
            trace: TraceConfig::default(),
            faults: FaultPlan::None,
            dpc_threads: 2,
            work_threads: 2,
            echo_driver_log: false,
        }
    }
}

/// A driver call that ended abnormally; the host's [`CrashReport`] says why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Abandoned;

impl fmt::Display for Abandoned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the driver call was abandoned (see the crash report)")
    }
}

impl std::error::Error for Abandoned {}

/// A bugcheck-style report of a crash in driver code.
#[derive(Clone, Debug)]
pub struct CrashReport {
    /// The crash.
    pub crash: Crash,
    /// The handler that was running.
    pub handler: Option<&'static str>,
    /// Its adapter.
    pub adapter: Option<usize>,
    /// Host thread number.
    pub thread: u32,
    /// The thread's last NDIS calls, oldest first.
    pub recent: Vec<String>,
}

impl CrashReport {
    /// A Windows-style bugcheck code for the crash: the driver's own for `KeBugCheckEx`, else
    /// what Windows would raise (0xD1 DRIVER_IRQL_NOT_LESS_OR_EQUAL for a bad access at
    /// DISPATCH_LEVEL is not distinguished: 0x7E SYSTEM_THREAD_EXCEPTION_NOT_HANDLED is used
    /// for faults, 0x7F UNEXPECTED_KERNEL_MODE_TRAP for a stack overflow).
    #[must_use]
    pub fn bugcheck(&self) -> (u32, [u64; 4]) {
        match &self.crash.kind {
            CrashKind::BugCheck { code, params } => (*code, *params),
            CrashKind::StackOverflow => (0x7F, [0x8, 0, 0, 0]),
            CrashKind::AccessViolation { address, .. } => (0x7E, [0xC000_0005, self.crash.rip, 0, *address]),
            CrashKind::IllegalInstruction => (0x7E, [0xC000_001D, self.crash.rip, 0, 0]),
            CrashKind::Breakpoint => (0x7E, [0x8000_0003, self.crash.rip, 0, 0]),
            CrashKind::GeneralProtection => (0x7E, [0xC000_0096, self.crash.rip, 0, 0]),
            CrashKind::ArithmeticError => (0x7E, [0xC000_0094, self.crash.rip, 0, 0]),
            CrashKind::HostPanic(_) | CrashKind::Fatal(_) => (0, [0; 4]),
        }
    }
}

impl fmt::Display for CrashReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (code, p) = self.bugcheck();
        writeln!(f, "*** STOP {code:#010x} ({:#x}, {:#x}, {:#x}, {:#x})", p[0], p[1], p[2], p[3])?;
        writeln!(f, "    {}", self.crash)?;
        match (self.handler, self.adapter) {
            (Some(h), Some(a)) => writeln!(f, "    in {h} for adapter {a}, host thread {}", self.thread)?,
            (Some(h), None) => writeln!(f, "    in {h}, host thread {}", self.thread)?,
            _ => writeln!(f, "    host thread {}", self.thread)?,
        }
        let r = &self.crash.registers;
        writeln!(f, "    rax={:016x} rbx={:016x} rcx={:016x} rdx={:016x}", r.rax, r.rbx, r.rcx, r.rdx)?;
        writeln!(f, "    rsi={:016x} rdi={:016x} rbp={:016x} rsp={:016x}", r.rsi, r.rdi, r.rbp, r.rsp)?;
        writeln!(f, "    r8 ={:016x} r9 ={:016x} r10={:016x} r11={:016x}", r.r8, r.r9, r.r10, r.r11)?;
        writeln!(f, "    r12={:016x} r13={:016x} r14={:016x} r15={:016x}", r.r12, r.r13, r.r14, r.r15)?;
        if !self.recent.is_empty() {
            writeln!(f, "    last NDIS calls on this thread:")?;
            for line in &self.recent {
                writeln!(f, "      {line}")?;
            }
        }
        Ok(())
    }
}

/// Everything one host owns. See the module documentation.
pub struct HostInner {
    /// Settings.
    pub config: HostConfig,
    /// The verifier.
    pub verifier: Verifier,
    /// The trace.
    pub trace: Trace,
    /// The clock.
    pub clock: Clock,
    /// Live driver objects.
    pub resources: Resources,
    /// Queued DPCs, work items and armed timers.
    pub pending: Pending,
    /// Kernel objects and kernel/ndis support imports.
    pub kernel: Kernel,
    /// NDIS state: the driver, its adapters, the protocol side.
    pub ndis: Ndis,
    /// Fault injection.
    pub faults: FaultInjector,
    /// Opaque handle values.
    pub handles: handles::Handles,
    exports: ExportTable,
    imports: Vec<&'static ImportDef>,
    image: RwLock<Option<Arc<Image>>>,
    crash: Mutex<Option<CrashReport>>,
    crashed: AtomicBool,
}

impl fmt::Debug for HostInner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HostInner").field("mode", &self.config.mode).finish_non_exhaustive()
    }
}

static INSTALL: Once = Once::new();

impl HostInner {
    /// A host with `config`, no image loaded.
    #[must_use]
    pub fn new(config: HostConfig) -> Arc<Self> {
        INSTALL.call_once(|| {
            abi::set_dispatcher(dispatch);
        });
        let imports = imports::all();
        let mut exports = ExportTable::new();
        for (i, def) in imports.iter().enumerate() {
            let id = exports.add(def.module, def.name);
            assert_eq!(id as usize, i, "import ids are assigned in table order");
        }
        // Hot C runtime routines: images call them directly on the driver stack (same ids).
        for (module, name, address) in crate::kernel::direct_bindings() {
            exports.add_address(module, name, address);
        }
        let clock = match config.mode {
            Mode::Threaded => Clock::real(),
            Mode::Deterministic { .. } => Clock::virtual_clock(),
        };
        Arc::new(Self {
            verifier: Verifier::new(config.verifier),
            trace: Trace::new(config.trace.clone()),
            clock,
            resources: Resources::default(),
            pending: Pending::default(),
            kernel: Kernel::new(&config),
            ndis: Ndis::default(),
            faults: FaultInjector::new(config.faults.clone()),
            handles: handles::Handles::default(),
            exports,
            imports,
            image: RwLock::new(None),
            crash: Mutex::new(None),
            crashed: AtomicBool::new(false),
            config,
        })
    }

    /// The export table images are bound against.
    #[must_use]
    pub fn exports(&self) -> &ExportTable {
        &self.exports
    }

    /// The import with id `id`.
    #[must_use]
    pub fn import(&self, id: u32) -> Option<&'static ImportDef> {
        self.imports.get(id as usize).copied()
    }

    /// The thunk a synthetic driver calls to reach `module!name`.
    #[must_use]
    pub fn thunk(&self, module: &str, name: &str) -> Option<u64> {
        self.exports.lookup(module, name).map(abi::thunk_address)
    }

    /// Sets the loaded image.
    pub fn set_image(&self, image: Option<Arc<Image>>) {
        *self.image.write().unwrap_or_else(PoisonError::into_inner) = image;
    }

    /// The loaded image.
    #[must_use]
    pub fn image(&self) -> Option<Arc<Image>> {
        self.image.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// `image+0xRVA (symbol)` for a driver address.
    #[must_use]
    pub fn describe(&self, addr: u64) -> String {
        crate::crash::describe(addr)
    }

    /// True once a driver call crashed.
    #[must_use]
    pub fn crashed(&self) -> bool {
        self.crashed.load(Ordering::Acquire)
    }

    /// The first crash.
    #[must_use]
    pub fn crash_report(&self) -> Option<CrashReport> {
        self.crash.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Reports a verifier finding, stamped with the sequence number of its note in the trace
    /// (0 when the trace records no lifecycle events).
    pub fn finding(&self, rule: Rule, adapter: Option<usize>, message: impl Into<String>) {
        let message = message.into();
        let seq = self.trace.note(adapter, || format!("VERIFIER [{rule}] {message}"));
        self.verifier.report(rule, adapter, seq, message);
    }

    /// Calls the driver function `f` as handler `handler` (for `adapter`) at `irql`, with the
    /// handler-exit checks. Returns the function's RAX.
    pub fn call(
        self: &Arc<Self>,
        handler: &'static str,
        adapter: Option<usize>,
        irql: u8,
        f: u64,
        args: &[u64],
    ) -> Result<u64, Abandoned> {
        if self.crashed() {
            return Err(Abandoned);
        }
        let previous_host = thread::set_host(Some(Arc::clone(self)));
        let depth = thread::depth();
        let locks = thread::held_count();
        let previous_irql = thread::irql();
        thread::set_irql(irql);
        thread::push_frame(Frame { handler, adapter, irql, locks });
        thread::remember(thread::Recent { into_driver: true, name: handler, adapter, from: 0 });
        let result = abi::call_driver(f, args);
        let outcome = match result {
            Ok(value) => {
                thread::pop_frame();
                let exit = thread::irql();
                if exit != irql {
                    self.finding(
                        Rule::HandlerIrql,
                        adapter,
                        format!("{handler} returned at IRQL {exit}, was called at IRQL {irql}"),
                    );
                }
                let leaked = thread::truncate_locks(locks);
                if !leaked.is_empty() {
                    self.finding(
                        Rule::SpinLockBalanced,
                        adapter,
                        format!("{handler} returned holding {} spin lock(s): {leaked:x?}", leaked.len()),
                    );
                    self.kernel.force_release(&leaked);
                }
                Ok(value)
            }
            Err(crash) => {
                thread::truncate_frames(depth);
                let leaked = thread::truncate_locks(locks);
                self.kernel.force_release(&leaked);
                self.record_crash(crash, handler, adapter);
                Err(Abandoned)
            }
        };
        thread::set_irql(previous_irql);
        thread::set_host(previous_host);
        outcome
    }

    fn record_crash(&self, crash: Crash, handler: &'static str, adapter: Option<usize>) {
        let mut slot = self.crash.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            let recent = thread::recent()
                .iter()
                .map(|r| match (r.into_driver, r.adapter) {
                    (true, Some(a)) => format!("NDIS -> {} (adapter {a})", r.name),
                    (true, None) => format!("NDIS -> {}", r.name),
                    (false, _) => format!("driver -> {} from {}", r.name, self.describe(r.from)),
                })
                .collect();
            let report = CrashReport { crash, handler: Some(handler), adapter, thread: thread::id(), recent };
            self.trace.note(adapter, || format!("CRASH {}", report.crash));
            *slot = Some(report);
        }
        self.crashed.store(true, Ordering::Release);
        self.pending.notify();
    }
}

/// The process-wide import dispatcher: routes a driver's import call to its host's handler.
fn dispatch(id: u32, call: &ImportCall) -> u64 {
    let Some(host) = thread::host() else {
        // Driver code only runs under HostInner::call, which sets the thread's host.
        abi::abandon(CrashKind::Fatal(format!("import #{id} called on a thread that serves no host")));
    };
    if host.crashed() {
        abi::abandon(CrashKind::Fatal("the scenario already crashed on another thread".to_owned()));
    }
    let Some(def) = host.import(id) else {
        abi::abandon(CrashKind::Fatal(format!("import #{id} is not in the host's table")));
    };
    let check = host.verifier.enabled() && (def.class == CallClass::Lifecycle || host.verifier.per_call());
    if check {
        let irql = thread::irql();
        if !def.irql.allows(irql) {
            host.finding(
                Rule::CallIrql,
                thread::adapter(),
                format!("{} called at IRQL {irql}; its documentation allows {}", def.name, def.irql.describe()),
            );
        }
    }
    let level = match def.class {
        CallClass::Lifecycle => Level::Lifecycle,
        CallClass::Datapath => Level::Datapath,
        CallClass::Kernel => Level::Kernel,
    };
    if host.trace.wants(level) {
        host.trace.record(level, thread::adapter(), Dir::ToNdis, def.name, String::new, None);
    }
    thread::remember(thread::Recent { into_driver: false, name: def.name, adapter: None, from: call.return_address() });
    (def.handler)(&host, call)
}
