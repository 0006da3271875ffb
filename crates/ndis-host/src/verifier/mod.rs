//! The contract verifier: the rules NDIS Verifier, Driver Verifier's NDIS checks, Static Driver
//! Verifier and NDISTest enforce, checked at run time against the real driver image.
//!
//! Each [`Rule`] has a name, a statement of exactly what the host checks, its public source (a
//! seed document of this project, a DDI page's remarks, an SDV rule or a Driver Verifier /
//! bugcheck parameter) and the test that makes it fire on a violating call sequence
//! ([`Rule::test`], in `tests/verifier_rules.rs` or a `tests/kernel_*.rs`). The verifier is on
//! by default; a violation becomes a [`Finding`] and the scenario goes on (a finding is never
//! silently repaired). `docs/VERIFIER.md` lists the rules in the table [`markdown`] renders;
//! `tests/verifier_docs.rs` keeps that table in step with [`Rule::ALL`] and checks that each
//! rule's test exists and asserts that the rule fired.

mod doc;

pub use doc::{TABLE_BEGIN, TABLE_END, markdown, text};

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

macro_rules! rules {
    ($( $(#[$doc:meta])* $id:ident = ($name:literal, $statement:literal, $source:literal, $test:literal), )+) => {
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

            /// What the rule requires (exactly what the host checks).
            #[must_use]
            pub fn statement(self) -> &'static str {
                match self { $( Rule::$id => $statement, )+ }
            }

            /// Where the rule comes from.
            #[must_use]
            pub fn source(self) -> &'static str {
                match self { $( Rule::$id => $source, )+ }
            }

            /// The test that makes the rule fire, as `file.rs::function` under
            /// `crates/ndis-host/tests/` (`tests/verifier_docs.rs` checks that it exists and
            /// asserts the rule).
            #[must_use]
            pub fn test(self) -> &'static str {
                match self { $( Rule::$id => $test, )+ }
            }
        }
    };
}

rules! {
    // --- registration and unload ------------------------------------------------------------
    /// Characteristics handed to NdisMRegisterMiniportDriver are well formed.
    CharacteristicsValid = ("NdisMRegisterMiniportDriver.Characteristics",
        "the characteristics are readable, with the miniport-driver-characteristics header type, revision 1, 2 or 3 and at least that revision's size, and NDIS major version 6; every handler NDIS 6 requires is present (InitializeHandlerEx, HaltHandlerEx, UnloadHandler, PauseHandler, RestartHandler, OidRequestHandler, SendNetBufferListsHandler, ReturnNetBufferListsHandler, CancelSendHandler, DevicePnPEventNotifyHandler, ShutdownHandlerEx, CancelOidRequestHandler) and the direct-OID handlers come as a pair; the handle pointer is writable; a virtual miniport (registration attributes without NDIS_MINIPORT_ATTRIBUTES_HARDWARE_DEVICE) leaves CheckForHangHandlerEx NULL",
        "DDI: NDIS_MINIPORT_DRIVER_CHARACTERISTICS (members and remarks), NdisMRegisterMiniportDriver",
        "verifier_rules.rs::characteristics_missing_handler"),
    /// Registration happens in DriverEntry, once.
    RegisterInDriverEntry = ("NdisMRegisterMiniportDriver.InDriverEntry",
        "NdisMRegisterMiniportDriver is called from DriverEntry, once per driver",
        "DDI: NdisMRegisterMiniportDriver (remarks)",
        "verifier_rules.rs::register_twice"),
    /// Unload deregisters.
    UnloadDeregisters = ("MiniportDriverUnload.Deregister",
        "MiniportDriverUnload calls NdisMDeregisterMiniportDriver; a DriverEntry that fails after registering deregisters first",
        "DDI: MINIPORT_UNLOAD and NdisMRegisterMiniportDriver (remarks)",
        "verifier_rules.rs::unload_without_deregister"),
    /// Everything freed at unload.
    UnloadLeak = ("Unload.Leak",
        "when MiniportDriverUnload returns, nothing the driver allocated through NDIS or the kernel (for the driver or for any adapter) is still live: pool blocks, NBL and NET_BUFFER pools, NBLs, NET_BUFFERs, MDLs, work items, timer objects, configuration handles",
        "Driver Verifier pool tracking (bug check 0xC4, parameter 0x62); bug check 0x7C parameter 0x27 (leaked NBL); SDV NdisAllocateGenericObject, NdisAllocateMdl, NdisAllocateNetBuffer, Init_NdisAllocateIoWorkItem, NdisOpenConfigurationEx rules",
        "verifier_rules.rs::unload_with_driver_memory_still_allocated"),
    // --- initialize and halt -----------------------------------------------------------------
    /// Attribute order in MiniportInitializeEx.
    InitAttributeOrder = ("MiniportInitializeEx.AttributeOrder",
        "NdisMSetMiniportAttributes is called only during MiniportInitializeEx, with the registration attributes first and once, then the general attributes once, then any others; both are set before a successful return",
        "DDI: MINIPORT_INITIALIZE (remarks)",
        "verifier_rules.rs::general_attributes_before_registration_attributes"),
    /// Attribute structures are valid.
    AttributesValid = ("NdisMSetMiniportAttributes.Valid",
        "the attributes pointer is readable; registration and general attributes have revision 1 or 2 and at least that revision's size; the registration attributes carry a non-NULL MiniportAdapterContext; 802.3 general attributes give a MacAddressLength of 6; the SupportedOidList is readable and its length a multiple of 4 bytes (at most 4096)",
        "DDI: NdisMSetMiniportAttributes, NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES, NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES; bug check 0x7C parameter 0x21 (invalid NDIS_OBJECT_HEADER)",
        "verifier_rules.rs::registration_attributes_without_context"),
    /// A failed initialize leaves nothing allocated.
    InitFailureLeak = ("MiniportInitializeEx.FailureLeak",
        "when MiniportInitializeEx fails, nothing allocated for the adapter (with its handle or inside its handlers) is still live",
        "DDI: MINIPORT_INITIALIZE (remarks); SDV Init_NdisAllocateIoWorkItem and NdisAllocate* rules; bug check 0x7C parameter 0x0C (initialization failed without cancelling timers)",
        "verifier_rules.rs::initialize_fails_without_freeing"),
    /// Halt frees everything.
    HaltLeak = ("MiniportHaltEx.Leak",
        "when MiniportHaltEx returns, nothing allocated for the adapter (with its handle or inside its handlers) is still live: pool blocks, NBL and NET_BUFFER pools, NBLs, NET_BUFFERs, MDLs, work items, timer objects, configuration handles",
        "DDI: MINIPORT_HALT (remarks); SDV NdisAllocateGenericObject, NdisAllocateMdl, NdisAllocateNetBuffer, Init_NdisAllocateIoWorkItem, NdisOpenConfigurationEx rules; bug check 0x7C parameter 0x09 (halt without cancelling timers)",
        "verifier_rules.rs::halt_without_freeing_adapter_resources"),
    /// No NDIS calls for a halted adapter.
    CallAfterHalt = ("Adapter.CallAfterHalt",
        "after MiniportHaltEx returns (until the adapter is initialized again) the driver calls none of NdisMSetMiniportAttributes, NdisMPauseComplete, NdisMRestartComplete, NdisMResetComplete, NdisMOidRequestComplete, NdisMSendNetBufferListsComplete, NdisMIndicateReceiveNetBufferLists, NdisMIndicateStatusEx with that adapter's handle",
        "DDI: MINIPORT_HALT (remarks); SDV NdisMIndicateStatusEx rule",
        "verifier_rules.rs::call_after_halt"),
    /// Handles are valid.
    InvalidHandle = ("Handle.Invalid",
        "every adapter, driver, NBL/NET_BUFFER pool, work item, timer and configuration handle the driver passes is one NDIS returned to it (a handle used after it was freed is reported by that object's own rule), and NdisMDeregisterMiniportDriver is called once, with the driver's handle",
        "DDI: each NDIS function's parameter description",
        "verifier_rules.rs::invalid_handle"),
    // --- pause, restart, reset ------------------------------------------------------------------
    /// MiniportPause returns SUCCESS or PENDING.
    PauseReturn = ("MiniportPause.Return",
        "MiniportPause returns only NDIS_STATUS_SUCCESS or NDIS_STATUS_PENDING",
        "SDV rule MiniportPause_Return",
        "verifier_rules.rs::pause_returns_failure"),
    /// NdisMPauseComplete only while a pause is pending.
    PauseCompleteNotPending = ("NdisMPauseComplete.NotPending",
        "NdisMPauseComplete is called only while a pause is pending, exactly once per pending pause, and not for a MiniportPause that returned SUCCESS",
        "seed NdisMPauseComplete (shared/seeds/000); bug check 0x7C parameter 0x1F",
        "verifier_rules.rs::pause_complete_without_pause_and_twice"),
    /// Not before MiniportPause returned PENDING.
    PauseCompleteEarly = ("NdisMPauseComplete.BeforeReturn",
        "NdisMPauseComplete is not called from inside MiniportPause, before it has returned NDIS_STATUS_PENDING",
        "seed NdisMPauseComplete (shared/seeds/000: 'if the driver returned NDIS_STATUS_PENDING'); Wintun commit bba0f6a",
        "verifier_rules.rs::pause_complete_inside_the_handler"),
    /// The drain is complete when the pause completes.
    PauseDrain = ("Pause.Drain",
        "a pause completes only when every send NBL has been completed and every indicated receive NBL returned (sends are judged when no MiniportSendNetBufferLists call is in progress)",
        "seed NdisMPauseComplete remarks (shared/seeds/000); seed Pausing a Filter Module (shared/seeds/002)",
        "verifier_rules.rs::pause_completes_with_a_send_outstanding"),
    /// NdisMRestartComplete only while a restart is pending.
    RestartCompleteNotPending = ("NdisMRestartComplete.NotPending",
        "NdisMRestartComplete is called only while a restart is pending, exactly once, not for a MiniportRestart that returned SUCCESS, and with SUCCESS, RESOURCES or FAILURE",
        "seed NdisMRestartComplete (shared/seeds/001); bug check 0x7C parameter 0x1F",
        "verifier_rules.rs::restart_complete_without_restart_and_inside"),
    /// Not before MiniportRestart returned PENDING.
    RestartCompleteEarly = ("NdisMRestartComplete.BeforeReturn",
        "NdisMRestartComplete is not called from inside MiniportRestart, before it has returned NDIS_STATUS_PENDING",
        "seed NdisMRestartComplete (shared/seeds/001)",
        "verifier_rules.rs::restart_complete_without_restart_and_inside"),
    /// MiniportRestart's failure statuses.
    RestartStatus = ("MiniportRestart.Status",
        "MiniportRestart returns SUCCESS, PENDING, RESOURCES or FAILURE, and a restart that fails leaves the restart attributes NDIS passed unmodified",
        "seed MINIPORT_RESTART (shared/seeds/003: return values; 'if a miniport driver does not restart, it should not modify any attributes')",
        "verifier_rules.rs::restart_returns_an_unlisted_status"),
    /// NdisMResetComplete only while a reset is pending.
    ResetCompleteNotPending = ("NdisMResetComplete.NotPending",
        "NdisMResetComplete is called only while a reset is pending (MiniportResetEx returned PENDING), not from inside MiniportResetEx, exactly once",
        "DDI: NdisMResetComplete (remarks); bug check 0x7C parameter 0x0F",
        "verifier_rules.rs::reset_complete_without_reset"),
    /// Sends before reset completes.
    ResetDrain = ("Reset.Drain",
        "a reset completes (MiniportResetEx returns SUCCESS, or NdisMResetComplete is called) only when no send NBL is outstanding in the miniport",
        "DDI: MINIPORT_RESET (remarks: from NDIS 6.30 pending sends are completed before the reset completes)",
        "verifier_rules.rs::reset_succeeds_with_sends_outstanding"),
    // --- send path ---------------------------------------------------------------------------------
    /// Sends while Pausing/Paused complete with NDIS_STATUS_PAUSED.
    SendWhilePaused = ("Send.Paused",
        "a send submitted while the adapter is Pausing or Paused is completed with NDIS_STATUS_PAUSED (judged when no adapter changed PnP state between the send and its completion)",
        "DDI: MINIPORT_PAUSE (remarks); seed Pausing a Filter Module (shared/seeds/002)",
        "verifier_rules.rs::send_while_paused_completed_with_success"),
    /// Every send NBL is completed exactly once.
    SendDoubleComplete = ("Send.CompleteOnce",
        "every NBL passed to MiniportSendNetBufferLists is completed exactly once, by the adapter it was sent on; only readable NBLs that NDIS sent are completed, in a chain that ends",
        "DDI: NdisMSendNetBufferListsComplete and MINIPORT_SEND_NET_BUFFER_LISTS (remarks)",
        "verifier_rules.rs::send_completed_twice"),
    /// Completion status is a real status.
    SendStatus = ("Send.Status",
        "a completed send NBL carries a final status (never NDIS_STATUS_PENDING) and the NET_BUFFER chain it was sent with",
        "DDI: NET_BUFFER_LIST (Status member); NdisMSendNetBufferListsComplete (remarks: the NET_BUFFER list is not changed)",
        "verifier_rules.rs::send_completed_with_pending_status"),
    /// Not touched after completion.
    SendTouchedAfterComplete = ("Send.TouchedAfterComplete",
        "the driver does not modify an NBL after completing it (compared when NDIS next reuses the NBL)",
        "DDI: NdisMSendNetBufferListsComplete (remarks: ownership returns to the overlying driver)",
        "verifier_rules.rs::send_nbl_touched_after_completion"),
    /// Sends complete in time.
    SendTimeout = ("Send.Timeout",
        "when NDIS waits for traffic to settle, every send NBL is completed: within 30 s (threaded mode), or before the deterministic scheduler runs out of work",
        "Driver Verifier NDIS/WIFI: NdisTimedDataSend (0x0009200D)",
        "verifier_rules.rs::sends_never_completed"),
    // --- receive path ----------------------------------------------------------------------------
    /// No receive indication while Paused.
    ReceiveWhilePaused = ("Receive.Paused",
        "no receive indication while the adapter is Paused, Halted or Initializing",
        "DDI: MINIPORT_PAUSE (remarks); seed MINIPORT_RESTART (shared/seeds/003)",
        "verifier_rules.rs::receive_while_paused"),
    /// SourceHandle set, count right, NBLs well formed.
    ReceiveWellFormed = ("Receive.WellFormed",
        "the indicated chain is readable and NumberOfNetBufferLists equals its length; each NBL's SourceHandle is the adapter handle, it has a NET_BUFFER, and every NET_BUFFER's MDL chain covers its data",
        "DDI: NdisMIndicateReceiveNetBufferLists (parameters and remarks)",
        "verifier_rules.rs::receive_malformed_and_reused"),
    /// Not reused before return.
    ReceiveReuse = ("Receive.ReuseBeforeReturn",
        "an NBL indicated without NDIS_RECEIVE_FLAGS_RESOURCES is not indicated again before MiniportReturnNetBufferLists has returned it",
        "DDI: NdisMIndicateReceiveNetBufferLists (remarks)",
        "verifier_rules.rs::receive_malformed_and_reused"),
    // --- OIDs ------------------------------------------------------------------------------------------
    /// OIDs completed exactly once.
    OidDoubleComplete = ("Oid.CompleteOnce",
        "an OID request is completed exactly once: by its return value, or, after NDIS_STATUS_PENDING, by one NdisMOidRequestComplete for the pending request with a final status (never NDIS_STATUS_PENDING)",
        "Driver Verifier NDIS/WIFI: NdisOidDoubleComplete (0x00091002), NdisOidComplete (0x00091001); bug check 0x7C parameter 0x26; SDV DoubleComplete",
        "verifier_rules.rs::oid_completed_twice"),
    /// BytesWritten within the buffer.
    OidBytesWritten = ("Oid.BytesWritten",
        "BytesWritten/BytesRead never exceed InformationBufferLength, and nothing is written past the buffer",
        "bug check 0x7C parameter 0x1D",
        "verifier_rules.rs::oid_bytes_written_past_the_buffer"),
    /// BytesNeeded on a short buffer.
    OidBytesNeeded = ("Oid.BytesNeeded",
        "a request failed with NDIS_STATUS_BUFFER_TOO_SHORT or NDIS_STATUS_INVALID_LENGTH sets BytesNeeded to more than the buffer it was given",
        "DDI: NDIS_OID_REQUEST (BytesNeeded member)",
        "verifier_rules.rs::oid_short_buffer_without_bytes_needed"),
    /// A successful structured set fills SupportedRevision.
    OidSupportedRevision = ("Oid.SupportedRevision",
        "a successful set of OID_GEN_LINK_PARAMETERS or OID_GEN_INTERRUPT_MODERATION (data that starts with an NDIS_OBJECT_HEADER) fills in SupportedRevision",
        "DDI: NDIS_OID_REQUEST (SupportedRevision member)",
        "verifier_rules.rs::structured_set_without_supported_revision"),
    // --- status indications -------------------------------------------------------------------------
    /// Status indications are well formed.
    StatusIndication = ("NdisMIndicateStatusEx.Valid",
        "a status indication is readable, has the status-indication header type, revision and size and the adapter's handle as SourceHandle, and is not made while the adapter is Initializing or Halted; an NDIS_STATUS_LINK_STATE indication carries a readable NDIS_LINK_STATE (default header type, revision 1 or later, buffer of at least its size)",
        "bug check 0x7C parameter 0x20; DDI: NDIS_STATUS_INDICATION, NDIS_STATUS_LINK_STATE",
        "verifier_rules.rs::malformed_status_indication"),
    // --- IRQL and locks ------------------------------------------------------------------------------
    /// Each call at its documented IRQL.
    CallIrql = ("Irql.Call",
        "each NDIS and kernel import is called at the IRQL its documentation allows, including limits that depend on the arguments (paged pool, user-mode mappings, cancelling a periodic timer)",
        "ndis_ddi_irql_compliance (req.irql of each DDI page); SDV Irql_*_Function rules",
        "verifier_rules.rs::call_at_the_wrong_irql"),
    /// Dispatch flags only at DISPATCH_LEVEL.
    DispatchFlag = ("Irql.DispatchFlag",
        "NdisMSendNetBufferListsComplete and NdisMIndicateReceiveNetBufferLists get the *_DISPATCH_LEVEL flag only when the caller runs at DISPATCH_LEVEL",
        "Microsoft: Dispatch IRQL tracking (network/dispatch-irql-tracking)",
        "verifier_rules.rs::dispatch_flag_at_passive"),
    /// IRQL restored at handler exit.
    HandlerIrql = ("Irql.HandlerExit",
        "a handler or callback returns at the IRQL it was called at",
        "SDV Irql rules; Driver Verifier IRQL checking",
        "kernel_spinlock.rs::handler_returning_with_a_lock_held_is_reported_and_the_lock_released"),
    /// Spin locks balanced.
    SpinLockBalanced = ("SpinLock.Balanced",
        "every spin lock a handler or callback acquires is released before it returns, by its holder, with the matching variant (Ndis or NdisDpr); a lock is not re-acquired by its holder, and not re-initialised or freed while held; a lock is 8-byte aligned and, when acquired, free or held by a context that can still release it",
        "SDV SpinLock, SpinLockBalanced, SpinLockRelease, SpinLockDpr, SpinLockDprRelease rules",
        "kernel_spinlock.rs::releasing_a_lock_not_held_and_mismatched_variants"),
    /// No lock held across indications and completions.
    LockAcrossCall = ("SpinLock.HeldAcrossIndication",
        "no spin lock is held while calling NdisMSendNetBufferListsComplete, NdisMIndicateReceiveNetBufferLists or NdisMIndicateStatusEx",
        "seed NdisMWanSendComplete (shared/seeds/004: 'must release any spin lock' before completing to NDIS); DDI: NdisMResetComplete (remarks: the same for the reset completion), applied to the NDIS 6 completion and indication calls",
        "verifier_rules.rs::spin_lock_held_across_indications"),
    // --- kernel objects ------------------------------------------------------------------------------
    /// Pool usage.
    PoolMisuse = ("Pool.Misuse",
        "pool is allocated with valid pool flags, a non-zero tag of printable characters and a non-zero size; each block is freed once, through its start address, by the allocator family that allocated it (ExFreePool* or NdisFreeMemory with MemoryFlags 0), with the tag and length it was allocated with where the call gives them; no block is written past its end",
        "SDV NdisAllocateMemoryWithTagPriority; DDI: ExAllocatePool2, ExFreePoolWithTag, NdisFreeMemory; bug check 0xC2 (BAD_POOL_CALLER); Driver Verifier special pool",
        "kernel_pool.rs::pool_misuse_fires_for_zero_tag_double_free_wrong_tag_overrun_and_mixed_families"),
    /// Work items.
    WorkItemMisuse = ("WorkItem.Misuse",
        "an I/O work item is queued with a routine, not queued while already queued, not freed while queued, and not used after it was freed",
        "DDI: NdisQueueIoWorkItem, NdisFreeIoWorkItem (remarks)",
        "kernel_objects.rs::work_item_misuse_fires_for_double_queue_free_while_queued_and_use_after_free"),
    /// Timers and DPCs.
    TimerMisuse = ("Timer.Misuse",
        "a timer object is allocated with valid NDIS_TIMER_CHARACTERISTICS and a TimerFunction, set with a period of at most MAXLONG ms, not freed while queued and not used after it was freed; a DPC is initialised with a routine before it is queued, not re-initialised while queued, and its memory is not freed while it is queued",
        "DDI: NdisAllocateTimerObject, NdisSetTimerObject, NdisFreeTimerObject, NdisCancelTimerObject (remarks), KeInitializeDpc, KeInsertQueueDpc; SDV CancelTimerObject",
        "kernel_objects.rs::timer_misuse_fires_for_free_while_queued_use_after_free_bad_characteristics_and_periodic_cancel_at_dispatch"),
    /// NBLs, NBs and MDLs.
    NblMisuse = ("Nbl.Misuse",
        "NBL and NET_BUFFER pools get valid parameters and are freed only when empty and used only until freed; NBLs, NET_BUFFERs and MDLs are freed once, only if NDIS allocated them (a NET_BUFFER allocated with its NBL goes with it); allocations fit the pool (fAllocateNetBuffer, DataSize, context sizes) and their DataOffset/DataLength lie within the MDL chain; NdisAllocateMdl gets live non-paged pool; NdisGetDataBuffer's MDL chain holds the data; MmMapLockedPagesSpecifyCache is not used on an already mapped MDL",
        "DDI: NdisAllocateNetBufferListPool, NdisFreeNetBufferList, NdisFreeNetBufferListPool, NdisAllocateNetBuffer, NdisAllocateMdl, NdisGetDataBuffer, MmMapLockedPagesSpecifyCache (remarks); SDV NdisAllocateMdl, NdisAllocateNetBuffer",
        "kernel_nbl.rs::nbl_misuse_fires_for_double_free_busy_pools_bad_parameters_and_foreign_memory"),
    /// Configuration handles.
    ConfigMisuse = ("Config.Misuse",
        "NdisOpenConfigurationEx gets a valid NDIS_CONFIGURATION_OBJECT, and a configuration handle is not used or closed again after it was closed",
        "SDV NdisOpenConfigurationEx rule; DDI: NdisOpenConfigurationEx, NdisCloseConfiguration",
        "kernel_config.rs::config_misuse_fires_for_use_after_close_double_close_and_bad_objects"),
    /// Sleeps.
    StallMisuse = ("Stall.Misuse",
        "NdisMSleep is not asked to sleep more than 30,000,000 us (30 s)",
        "DDI: NdisMSleep (remarks: 'do not call NdisMSleep with a timeout of more than 30,000,000 microseconds')",
        "kernel_misc.rs::ndis_m_sleep_advances_virtual_time_or_really_sleeps"),
    /// A pending operation completes.
    Watchdog = ("Ndis.Watchdog",
        "a pending pause, restart, reset or OID request completes while NDIS waits; a handler returns while a completion waits for it; queued DPCs finish while NDIS flushes them; a contended spin lock is released while the caller spins",
        "bug check 0x7C parameter 0x25 (NDIS watchdog); Driver Verifier NdisTimedOidComplete (0x00092003)",
        "verifier_rules.rs::pending_pause_that_never_completes"),
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
    /// The sequence number of the finding's own note in the trace (numbers count the events
    /// the trace levels record; 0 when the trace records no lifecycle events).
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
