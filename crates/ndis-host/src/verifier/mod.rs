//! The contract verifier: the rules NDIS Verifier, Driver Verifier's NDIS checks, Static Driver
//! Verifier and NDISTest enforce, checked at run time against the real driver image.
//!
//! Each [`Rule`] has a name, a one-line statement and its public source (a seed document of this
//! project, a DDI page's remarks, an SDV rule or a Driver Verifier / bugcheck parameter). The
//! verifier is on by default; a violation becomes a [`Finding`] and the scenario goes on (a
//! finding is never silently repaired). `docs/VERIFIER.md` lists the rules; a test keeps that
//! list in step with [`Rule::ALL`], and every rule has a test in `tests/verifier_rules.rs` that
//! makes it fire on a violating call sequence.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

macro_rules! rules {
    ($( $(#[$doc:meta])* $id:ident = ($name:literal, $statement:literal, $source:literal), )+) => {
        /// A contract rule.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Rule { $( $(#[$doc])* $id, )+ }

        impl Rule {
            /// Every rule.
            pub const ALL: &'static [Rule] = &[ $( Rule::$id, )+ ];

            /// The rule's name, as printed in findings and listed in docs/VERIFIER.md.
            #[must_use]
            pub fn name(self) -> &'static str {
                match self { $( Rule::$id => $name, )+ }
            }

            /// What the rule requires.
            #[must_use]
            pub fn statement(self) -> &'static str {
                match self { $( Rule::$id => $statement, )+ }
            }

            /// Where the rule comes from.
            #[must_use]
            pub fn source(self) -> &'static str {
                match self { $( Rule::$id => $source, )+ }
            }
        }
    };
}

rules! {
    // --- registration and unload ------------------------------------------------------------
    /// Characteristics handed to NdisMRegisterMiniportDriver are well formed.
    CharacteristicsValid = ("NdisMRegisterMiniportDriver.Characteristics",
        "the characteristics header has the miniport-characteristics type, a known revision and its size; every handler NDIS 6 requires is present; a virtual miniport leaves CheckForHangHandlerEx NULL",
        "DDI: NDIS_MINIPORT_DRIVER_CHARACTERISTICS (members and remarks)"),
    /// Registration happens in DriverEntry, once.
    RegisterInDriverEntry = ("NdisMRegisterMiniportDriver.InDriverEntry",
        "NdisMRegisterMiniportDriver is called from DriverEntry, once per driver",
        "DDI: NdisMRegisterMiniportDriver (remarks)"),
    /// Unload deregisters.
    UnloadDeregisters = ("MiniportDriverUnload.Deregister",
        "MiniportDriverUnload calls NdisMDeregisterMiniportDriver; a DriverEntry that fails after registering deregisters first",
        "DDI: MINIPORT_UNLOAD and NdisMRegisterMiniportDriver (remarks)"),
    /// Everything freed at unload.
    UnloadLeak = ("Unload.Leak",
        "when MiniportDriverUnload returns, every pool allocation, NBL pool, NBL, MDL, work item, timer and configuration handle the driver created is freed",
        "Driver Verifier pool tracking (bug check 0xC4, parameter 0x62); SDV NdisAllocate*/Init_NdisAllocateIoWorkItem/CancelTimerObject/NdisOpenConfigurationEx rules"),
    // --- initialize and halt -----------------------------------------------------------------
    /// Attribute order in MiniportInitializeEx.
    InitAttributeOrder = ("MiniportInitializeEx.AttributeOrder",
        "NdisMSetMiniportAttributes is called only during MiniportInitializeEx, with registration attributes first, then general attributes, then any others; both are set before a successful return",
        "DDI: MINIPORT_INITIALIZE (remarks)"),
    /// Attribute structures are valid.
    AttributesValid = ("NdisMSetMiniportAttributes.Valid",
        "each attributes structure has a known object type, revision and size, a non-null adapter context, and consistent general attributes (MAC length, OID list)",
        "DDI: NdisMSetMiniportAttributes; bug check 0x7C parameter 0x21 (invalid NDIS_OBJECT_HEADER)"),
    /// A failed initialize leaves nothing allocated.
    InitFailureLeak = ("MiniportInitializeEx.FailureLeak",
        "when MiniportInitializeEx fails, everything it allocated is freed before it returns",
        "SDV Init_NdisAllocateIoWorkItem, NdisAllocate* rules; Driver Verifier low-resources simulation"),
    /// Halt frees everything.
    HaltLeak = ("MiniportHaltEx.Leak",
        "when MiniportHaltEx returns, every resource allocated for the adapter is freed and no work item, timer or DPC of it is queued",
        "DDI: MINIPORT_HALT (remarks); SDV NdisAllocate*, CancelTimerObject rules"),
    /// No NDIS calls for a halted adapter.
    CallAfterHalt = ("Adapter.CallAfterHalt",
        "after MiniportHaltEx returns the driver makes no NDIS call with that adapter's handle",
        "DDI: MINIPORT_HALT (remarks); SDV NdisMIndicateStatusEx rule"),
    /// Handles are valid.
    InvalidHandle = ("Handle.Invalid",
        "every handle the driver passes is one NDIS gave it and is still valid",
        "DDI: each NDIS function's parameter description"),
    // --- pause, restart, reset ------------------------------------------------------------------
    /// MiniportPause returns SUCCESS or PENDING.
    PauseReturn = ("MiniportPause.Return",
        "MiniportPause returns only NDIS_STATUS_SUCCESS or NDIS_STATUS_PENDING",
        "SDV rule MiniportPause_Return"),
    /// NdisMPauseComplete only while a pause is pending.
    PauseCompleteNotPending = ("NdisMPauseComplete.NotPending",
        "NdisMPauseComplete is called only while a pause is pending, exactly once per pending pause",
        "seed NdisMPauseComplete (shared/seeds/000); bug check 0x7C parameter 0x1F"),
    /// Not before MiniportPause returned PENDING.
    PauseCompleteEarly = ("NdisMPauseComplete.BeforeReturn",
        "NdisMPauseComplete is not called before MiniportPause has returned NDIS_STATUS_PENDING",
        "seed NdisMPauseComplete (shared/seeds/000: 'if the driver returned NDIS_STATUS_PENDING'); Wintun commit bba0f6a"),
    /// The drain is complete when the pause completes.
    PauseDrain = ("Pause.Drain",
        "a pause completes only when every send NBL has been completed and every indicated receive NBL returned",
        "seed NdisMPauseComplete remarks (shared/seeds/000); seed Pausing a Filter Module (shared/seeds/002)"),
    /// NdisMRestartComplete only while a restart is pending.
    RestartCompleteNotPending = ("NdisMRestartComplete.NotPending",
        "NdisMRestartComplete is called only while a restart is pending, exactly once, with SUCCESS, RESOURCES or FAILURE",
        "seed NdisMRestartComplete (shared/seeds/001); bug check 0x7C parameter 0x1F"),
    /// Not before MiniportRestart returned PENDING.
    RestartCompleteEarly = ("NdisMRestartComplete.BeforeReturn",
        "NdisMRestartComplete is not called before MiniportRestart has returned NDIS_STATUS_PENDING",
        "seed NdisMRestartComplete (shared/seeds/001)"),
    /// MiniportRestart's failure statuses.
    RestartStatus = ("MiniportRestart.Status",
        "MiniportRestart returns SUCCESS, PENDING, RESOURCES or FAILURE, and a failed restart leaves the adapter Paused",
        "seed MINIPORT_RESTART (shared/seeds/003, return values)"),
    /// NdisMResetComplete only while a reset is pending.
    ResetCompleteNotPending = ("NdisMResetComplete.NotPending",
        "NdisMResetComplete is called only while a reset is pending (MiniportResetEx returned PENDING), exactly once",
        "bug check 0x7C parameter 0x0F"),
    /// Sends before reset completes.
    ResetDrain = ("Reset.Drain",
        "from NDIS 6.30, a reset completes only after every pending send has been completed",
        "DDI: MINIPORT_RESET (remarks)"),
    // --- send path ---------------------------------------------------------------------------------
    /// Sends while Pausing/Paused complete with NDIS_STATUS_PAUSED.
    SendWhilePaused = ("Send.Paused",
        "a send submitted while the adapter is Pausing or Paused is completed with NDIS_STATUS_PAUSED",
        "DDI: MINIPORT_PAUSE (remarks); seed Pausing a Filter Module (shared/seeds/002)"),
    /// Every send NBL is completed exactly once.
    SendDoubleComplete = ("Send.CompleteOnce",
        "every NBL passed to MiniportSendNetBufferLists is completed exactly once, by the adapter it was sent on, and only NBLs that were sent are completed",
        "DDI: NdisMSendNetBufferListsComplete and MINIPORT_SEND_NET_BUFFER_LISTS (remarks)"),
    /// Completion status is a real status.
    SendStatus = ("Send.Status",
        "a completed send NBL carries a final status (never NDIS_STATUS_PENDING) and an intact NET_BUFFER chain",
        "DDI: NET_BUFFER_LIST (Status member); MINIPORT_SEND_NET_BUFFER_LISTS (remarks)"),
    /// Not touched after completion.
    SendTouchedAfterComplete = ("Send.TouchedAfterComplete",
        "the driver does not modify an NBL after completing it",
        "DDI: NdisMSendNetBufferListsComplete (remarks: ownership returns to the overlying driver)"),
    /// Sends complete in time.
    SendTimeout = ("Send.Timeout",
        "a send NBL is completed within 30 s, and while sends are pending some send completes at least every 22 s",
        "Driver Verifier NDIS/WIFI: NdisTimedDataSend (0x0009200D), NdisTimedDataHang (0x0009200F)"),
    // --- receive path ----------------------------------------------------------------------------
    /// No receive indication while Paused.
    ReceiveWhilePaused = ("Receive.Paused",
        "no receive indication while the adapter is Paused (or Halted, Initializing)",
        "DDI: MINIPORT_PAUSE (remarks); seed MINIPORT_RESTART (shared/seeds/003)"),
    /// SourceHandle set, count right, NBLs well formed.
    ReceiveWellFormed = ("Receive.WellFormed",
        "each indicated NBL's SourceHandle is the adapter handle, NumberOfNetBufferLists equals the chain length, and every NET_BUFFER's MDL chain covers its data",
        "DDI: NdisMIndicateReceiveNetBufferLists (parameters and remarks)"),
    /// Not reused before return.
    ReceiveReuse = ("Receive.ReuseBeforeReturn",
        "an NBL indicated without NDIS_RECEIVE_FLAGS_RESOURCES is not indicated again, freed or modified before MiniportReturnNetBufferLists returns it",
        "DDI: NdisMIndicateReceiveNetBufferLists (remarks)"),
    // --- OIDs ------------------------------------------------------------------------------------------
    /// OIDs completed exactly once.
    OidDoubleComplete = ("Oid.CompleteOnce",
        "an OID request is completed exactly once: by its return value, or, after NDIS_STATUS_PENDING, by one NdisMOidRequestComplete with a final status",
        "Driver Verifier NDIS/WIFI: NdisOidDoubleComplete (0x00091002), NdisOidComplete (0x00091001); bug check 0x7C parameter 0x26; SDV DoubleComplete"),
    /// BytesWritten within the buffer.
    OidBytesWritten = ("Oid.BytesWritten",
        "BytesWritten/BytesRead never exceed InformationBufferLength, and nothing is written past the buffer",
        "bug check 0x7C parameter 0x1D"),
    /// BytesNeeded on a short buffer.
    OidBytesNeeded = ("Oid.BytesNeeded",
        "a request failed with NDIS_STATUS_BUFFER_TOO_SHORT or NDIS_STATUS_INVALID_LENGTH sets BytesNeeded to more than the buffer it was given",
        "DDI: NDIS_OID_REQUEST (BytesNeeded member)"),
    /// A successful structured set fills SupportedRevision.
    OidSupportedRevision = ("Oid.SupportedRevision",
        "a successful set of an OID whose data starts with an NDIS_OBJECT_HEADER fills in SupportedRevision",
        "DDI: NDIS_OID_REQUEST (SupportedRevision member)"),
    // --- status indications -------------------------------------------------------------------------
    /// Status indications are well formed.
    StatusIndication = ("NdisMIndicateStatusEx.Valid",
        "a status indication has a valid header, the adapter's handle as SourceHandle, a buffer of the size the status code needs, and comes while the adapter may indicate (not during initialization)",
        "bug check 0x7C parameter 0x20; DDI: NDIS_STATUS_INDICATION"),
    // --- IRQL and locks ------------------------------------------------------------------------------
    /// Each call at its documented IRQL.
    CallIrql = ("Irql.Call",
        "each NDIS and kernel function is called at the IRQL its documentation allows",
        "ndis_ddi_irql_compliance (req.irql of each DDI page); SDV Irql_*_Function rules"),
    /// Dispatch flags only at DISPATCH_LEVEL.
    DispatchFlag = ("Irql.DispatchFlag",
        "a *_DISPATCH_LEVEL flag is passed only when the caller runs at DISPATCH_LEVEL",
        "Microsoft: Dispatch IRQL tracking (network/dispatch-irql-tracking)"),
    /// IRQL restored at handler exit.
    HandlerIrql = ("Irql.HandlerExit",
        "a handler returns at the IRQL it was called at",
        "SDV Irql rules; Driver Verifier IRQL checking"),
    /// Spin locks balanced.
    SpinLockBalanced = ("SpinLock.Balanced",
        "every spin lock a handler or callback acquires is released before it returns; locks are released only by their holder, and never re-acquired by their holder",
        "SDV SpinLock, SpinLockBalanced, SpinLockRelease, SpinLockDpr rules"),
    /// No lock held across indications and completions.
    LockAcrossCall = ("SpinLock.HeldAcrossIndication",
        "no spin lock is held while calling NdisMSendNetBufferListsComplete, NdisMIndicateReceiveNetBufferLists, NdisMIndicateStatusEx or another call into overlying drivers",
        "seed NdisMWanSendComplete (shared/seeds/004: 'must release any spin lock'); DDI: NdisMIndicateReceiveNetBufferLists remarks"),
    // --- kernel objects ------------------------------------------------------------------------------
    /// Pool usage.
    PoolMisuse = ("Pool.Misuse",
        "pool is allocated with a non-zero tag, freed once, with the tag it was allocated with, and never written past its end",
        "SDV NdisAllocateMemoryWithTagPriority; bug check 0xC2 (BAD_POOL_CALLER); Driver Verifier special pool"),
    /// Work items.
    WorkItemMisuse = ("WorkItem.Misuse",
        "an I/O work item is not queued while already queued, and is not freed while queued",
        "DDI: NdisQueueIoWorkItem, NdisFreeIoWorkItem (remarks)"),
    /// Timers and DPCs.
    TimerMisuse = ("Timer.Misuse",
        "a timer object or DPC is initialised before use and not freed while queued",
        "DDI: NdisFreeTimerObject, NdisCancelTimerObject (remarks); SDV CancelTimerObject"),
    /// NBLs, NBs and MDLs.
    NblMisuse = ("Nbl.Misuse",
        "NBLs, NET_BUFFERs and MDLs are freed once, to the pool they came from, and pools are freed only when empty",
        "DDI: NdisFreeNetBufferList, NdisFreeNetBufferListPool (remarks)"),
    /// Configuration handles.
    ConfigMisuse = ("Config.Misuse",
        "configuration handles are opened and closed in pairs and used only while open",
        "SDV NdisOpenConfigurationEx rule"),
    /// Stalls and sleeps.
    StallMisuse = ("Stall.Misuse",
        "NdisMSleep is called below DISPATCH_LEVEL; NdisStallExecution stalls at most 50 us",
        "SDV NdisStallExecution_Delay; DDI: NdisMSleep"),
    /// A pending operation completes.
    Watchdog = ("Ndis.Watchdog",
        "a pending pause, restart, reset or OID request completes (NDIS's watchdog), and a DriverEntry/handler returns",
        "bug check 0x7C parameter 0x25 (NDIS watchdog); Driver Verifier NdisTimedOidComplete (0x00092003)"),
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One violation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// The rule.
    pub rule: Rule,
    /// The adapter it concerns (index in creation order), if any.
    pub adapter: Option<usize>,
    /// What happened.
    pub message: String,
    /// Trace sequence number at the time.
    pub seq: u64,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.adapter {
            Some(a) => write!(f, "[{}] adapter {}: {}", self.rule, a, self.message),
            None => write!(f, "[{}] {}", self.rule, self.message),
        }
    }
}

/// Verifier settings.
#[derive(Clone, Copy, Debug)]
pub struct VerifierConfig {
    /// Check the rules at all (on by default).
    pub enabled: bool,
    /// Per-call datapath checks (NBL ownership, IRQL of every call, dispatch flags). Turned off
    /// only to measure the driver without the verifier's cost; lifecycle checks stay on.
    pub per_call: bool,
    /// Stop the scenario at the first finding.
    pub fail_fast: bool,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        Self { enabled: true, per_call: true, fail_fast: false }
    }
}

/// Collects findings.
#[derive(Debug)]
pub struct Verifier {
    enabled: bool,
    per_call: AtomicBool,
    fail_fast: bool,
    findings: Mutex<Vec<Finding>>,
    count: AtomicU64,
}

/// Keep at most this many findings (the count goes on).
const MAX_KEPT: usize = 1000;

impl Verifier {
    /// A verifier with `config`.
    #[must_use]
    pub fn new(config: VerifierConfig) -> Self {
        Self {
            enabled: config.enabled,
            per_call: AtomicBool::new(config.enabled && config.per_call),
            fail_fast: config.fail_fast,
            findings: Mutex::new(Vec::new()),
            count: AtomicU64::new(0),
        }
    }

    /// True if rules are checked.
    #[must_use]
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// True if per-call datapath checks are on.
    #[must_use]
    pub fn per_call(&self) -> bool {
        self.per_call.load(Ordering::Relaxed)
    }

    /// Turns per-call checks on or off (lifecycle checks stay on while the verifier is enabled).
    pub fn set_per_call(&self, on: bool) {
        self.per_call.store(self.enabled && on, Ordering::Relaxed);
    }

    /// True if the first finding should stop the scenario.
    #[must_use]
    pub fn fail_fast(&self) -> bool {
        self.fail_fast
    }

    /// Records a finding (if the verifier is enabled).
    pub fn report(&self, rule: Rule, adapter: Option<usize>, seq: u64, message: impl Into<String>) {
        if !self.enabled {
            return;
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut f = self.findings.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if f.len() < MAX_KEPT {
            f.push(Finding { rule, adapter, message: message.into(), seq });
        }
    }

    /// The findings so far.
    #[must_use]
    pub fn findings(&self) -> Vec<Finding> {
        self.findings.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// How many findings were reported (including ones not kept).
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}
