//! One virtual Ethernet adapter: its context, MiniportInitializeEx and MiniportHaltEx.
//!
//! The lifecycle handlers that move a live adapter between states (pause, restart, reset,
//! shutdown, PnP events, power) are in [`state`].
//!
//! **Initialization order** (MiniportInitializeEx; each step undone in reverse on failure, so
//! a failed initialization leaves nothing allocated):
//! 1. the adapter context (pool), its locks and its transmit DPC;
//! 2. registration attributes (`NdisMSetMiniportAttributes`, first, as NDIS requires);
//! 3. the configuration (`*JumboPacket`, `*ReceiveBuffers`, `LogLevel`, the persisted
//!    permanent address, a `NetworkAddress` override);
//! 4. the work items that complete pauses, restarts and resets;
//! 5. the receive buffers (NBL pool, one NBL + MDL + buffer per receive slot);
//! 6. general attributes (second);
//! 7. joining the hub. The adapter is then Paused, as NDIS expects after initialization.
//!
//! **Halt** (MiniportHaltEx, only from Paused) leaves the hub, waits until no other adapter's
//! DPC is delivering to it, waits out a transmit DPC that may still be running, and frees
//! everything in reverse order.

pub mod state;

use crate::datapath::receive::Receive;
use crate::datapath::send::Transmit;
use crate::hub::{self, HUB};
use crate::ndis::config::Config;
use crate::ndis::sync::SpinLock;
use crate::ndis::work::WorkItem;
use crate::ndis::{Irql, header, sys};
use crate::rt::alloc::PoolBox;
use crate::{log, wide};
use core::ffi::c_void;
use core::sync::atomic::{AtomicU32, Ordering};
use rvmini_core::config as cfg;
use rvmini_core::filter::{self, MulticastList};
use rvmini_core::frame::{self, Mac};
use rvmini_core::lifecycle::Lifecycle;
use rvmini_core::mac;
use rvmini_core::stats::Stats;
use sys::{NDIS_HANDLE, NDIS_STATUS};

/// The link speed rvmini reports, in bits per second (10 Gbit/s).
pub const LINK_SPEED_BPS: u64 = 10_000_000_000;

/// What the configuration decided, fixed for the adapter's life.
pub struct Identity {
    /// Largest frame, header included (`*JumboPacket`).
    pub max_frame: usize,
    /// MTU: `max_frame` - 14.
    pub mtu: usize,
    /// Receive slots (`*ReceiveBuffers`).
    pub receive_buffers: u32,
    /// The generated, persisted address.
    pub permanent: Mac,
    /// The address in use: `NetworkAddress` if valid, else `permanent`.
    pub current: Mac,
}

impl Identity {
    /// Size of one receive buffer: the largest frame, and never less than the shortest frame
    /// on the wire (shorter frames are padded to it).
    #[must_use]
    pub fn slot_len(&self) -> usize {
        self.max_frame.max(frame::MIN_FRAME_LEN)
    }
}

/// Work items that finish operations NDIS lets a miniport complete later.
pub struct Completions {
    /// Runs `NdisMPauseComplete`.
    pub pause: Option<WorkItem>,
    /// Runs the pending part of a restart, then `NdisMRestartComplete`.
    pub restart: Option<WorkItem>,
    /// Runs `NdisMResetComplete`.
    pub reset: Option<WorkItem>,
}

/// The adapter context NDIS passes back to every handler (`MiniportAdapterContext`).
///
/// Allocated zeroed and initialised in place: every field is valid when all-zero (atomics,
/// raw pointers, `Option` of non-null types, NDIS structures), and the locks and the DPC must
/// not move once initialised.
pub struct Adapter {
    /// The miniport adapter handle NDIS gave MiniportInitializeEx.
    pub handle: NDIS_HANDLE,
    /// State and drain accounting.
    pub life: Lifecycle,
    /// Counters.
    pub stats: Stats,
    /// Configuration.
    pub id: Identity,
    /// `OID_GEN_CURRENT_PACKET_FILTER`.
    pub packet_filter: AtomicU32,
    /// `OID_GEN_CURRENT_LOOKAHEAD`.
    pub lookahead: AtomicU32,
    /// `OID_802_3_MULTICAST_LIST`.
    pub multicast: SpinLock<MulticastList>,
    /// The transmit queue and DPC.
    pub tx: Transmit,
    /// The receive buffers.
    pub rx: Receive,
    /// Hub membership (protected by the hub lock).
    pub member: hub::Membership,
    /// Completion work items.
    pub completions: Completions,
}

// SAFETY: the fields shared between threads are atomic (`packet_filter`, `lookahead`, the
// lifecycle word, the counters, hub references) or behind a spin lock (`multicast`, the
// transmit queue, the receive free list; a member's hub links behind the hub lock). `rx.pool`,
// an `UnsafeCell` with no lock, is written only by `Receive::create` and `Receive::destroy`,
// whose callers NDIS serialises (MiniportInitializeEx, MiniportHaltEx, OID_PNP_SET_POWER while
// Paused, and the work item of a pending restart: NDIS runs no two of these at once for an
// adapter) and which run while no receive is in flight (their `# Safety`); nothing else reads
// the cell, and the slots it owns are reached only through the free list's lock or by the one
// owner of a reserved slot. The remaining fields (`handle`, `id`, `completions`, the DPC) are
// written during initialization, before the adapter is published to NDIS or the hub, or in
// `release` after it is unpublished, and only read in between.
unsafe impl Sync for Adapter {}
// SAFETY: as above.
unsafe impl Send for Adapter {}

impl Adapter {
    /// The adapter behind an NDIS `MiniportAdapterContext`.
    ///
    /// # Safety
    /// `context` is the context rvmini registered for a live adapter.
    #[must_use]
    pub unsafe fn from_context<'a>(context: NDIS_HANDLE) -> &'a Adapter {
        // SAFETY: per the contract, the context is the address of a live Adapter.
        unsafe { &*context.cast::<Adapter>() }
    }

    /// The context value to give NDIS.
    #[must_use]
    pub fn context(&self) -> NDIS_HANDLE {
        core::ptr::from_ref(self).cast_mut().cast::<c_void>()
    }

    /// Accepts a frame to `dest` under the current packet filter. The multicast lock is taken
    /// (at `irql`) only when the multicast list decides.
    #[must_use]
    pub fn accepts(&self, dest: &Mac, irql: Irql) -> bool {
        let filter = self.packet_filter.load(Ordering::Relaxed);
        filter::accepts(filter, &self.id.current, dest, |d| self.multicast.lock_at(irql).contains(d))
    }
}

/// Writes an error-log entry (`NdisWriteErrorLogEntry`) with one value.
pub fn error_log(adapter: &Adapter, code: u32, value: u32) {
    // SAFETY: the handle is the adapter's live miniport adapter handle; the variadic part is
    // one ULONG, as NumberOfErrorValues says.
    unsafe { sys::NdisWriteErrorLogEntry(adapter.handle, code, 1, value) };
}

/// Reads the configuration: sizes, log level, the permanent address (generated and persisted
/// on first use) and a `NetworkAddress` override.
fn read_configuration(handle: NDIS_HANDLE) -> Result<Identity, NDIS_STATUS> {
    let config = Config::open(handle)?;
    let report = |issue: Option<cfg::Issue>| {
        if let Some(i) = issue {
            log!(Warning, "registry value {}={} is out of range; using {}", i.keyword, i.found, i.used);
        }
    };
    let (level, issue) = cfg::log_level(config.read_int(wide!("LogLevel")));
    crate::rt::log::set_max_level(level);
    report(issue);
    let (max_frame, issue) = cfg::jumbo_packet(config.read_int(wide!("*JumboPacket")));
    report(issue);
    let (receive_buffers, issue) = cfg::receive_buffers(config.read_int(wide!("*ReceiveBuffers")));
    report(issue);

    let mut stored = [0u8; 6];
    let permanent =
        match config.read_binary(wide!("RvminiPermanentAddress"), &mut stored).map(|_| mac::validate(&stored)) {
            Some(Ok(m)) if mac::is_locally_administered(&m) => m,
            _ => {
                let m = mac::generate(entropy(handle));
                if let Err(status) = config.write_binary(wide!("RvminiPermanentAddress"), &m) {
                    // Not fatal: the adapter works, but gets a new address next time.
                    log!(Warning, "could not persist the permanent address: {:#010x}", status);
                }
                m
            }
        };
    let mut current = permanent;
    let mut raw = [0u8; 6];
    match config.network_address(&mut raw) {
        None => {}
        Some(Err(len)) => log!(Warning, "NetworkAddress ignored: {} bytes, not 6", len),
        Some(Ok(())) => match mac::validate(&raw) {
            Ok(m) => current = m,
            Err(e) => log!(Warning, "NetworkAddress ignored: {:?}", e),
        },
    }
    let max_frame = max_frame as usize;
    Ok(Identity { max_frame, mtu: max_frame.saturating_sub(frame::HEADER_LEN), receive_buffers, permanent, current })
}

/// Entropy for a new MAC address: the time, the performance counter, the kernel's RNG and the
/// adapter handle's address (distinct per adapter). Truncating casts are the point: bits are
/// mixed, not values converted.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
fn entropy(handle: NDIS_HANDLE) -> u64 {
    let mut time: i64 = 0;
    // SAFETY: writes one LARGE_INTEGER.
    unsafe { sys::NdisGetCurrentSystemTime(&raw mut time) };
    // SAFETY: a null frequency pointer is allowed.
    let counter = unsafe { sys::KeQueryPerformanceCounter(core::ptr::null_mut()) };
    let mut seed = (counter as u32) ^ (time as u32);
    // SAFETY: RtlRandomEx updates the seed in place.
    let random = unsafe { sys::RtlRandomEx(&raw mut seed) };
    (time as u64).rotate_left(17) ^ (counter as u64) ^ (u64::from(random) << 32) ^ (handle as u64)
}

/// Sets the registration attributes: the adapter context and how NDIS should treat us.
fn set_registration_attributes(handle: NDIS_HANDLE, context: NDIS_HANDLE) -> NDIS_STATUS {
    let mut attrs = sys::NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES {
        Header: header(
            sys::NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
            sys::NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_2,
            sys::NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_2,
        ),
        MiniportAdapterContext: context,
        // No hardware: surprise removal is fine, and a suspend needs no halt (NDIS pauses the
        // adapter and sets D3 instead; see `state::set_power`).
        AttributeFlags: sys::NDIS_MINIPORT_ATTRIBUTES_SURPRISE_REMOVE_OK
            | sys::NDIS_MINIPORT_ATTRIBUTES_NO_HALT_ON_SUSPEND,
        CheckForHangTimeInSeconds: 0,
        InterfaceType: sys::NdisInterfaceInternal,
    };
    // SAFETY: the attributes structure is valid for the call; NDIS copies what it needs.
    unsafe { sys::NdisMSetMiniportAttributes(handle, (&raw mut attrs).cast()) }
}

/// Sets the general attributes: the NIC as NDIS and the protocols see it.
fn set_general_attributes(adapter: &Adapter, connected: bool) -> NDIS_STATUS {
    // SAFETY: all-zero is a valid NDIS_PM_CAPABILITIES (no wake-up support: every wake field is
    // NdisDeviceStateUnspecified).
    let mut pm: sys::NDIS_PM_CAPABILITIES = unsafe { core::mem::zeroed() };
    pm.Header = header(
        sys::NDIS_OBJECT_TYPE_DEFAULT,
        sys::NDIS_PM_CAPABILITIES_REVISION_1,
        sys::NDIS_SIZEOF_NDIS_PM_CAPABILITIES_REVISION_1,
    );
    // SAFETY: all-zero is a valid general attributes structure (null pointers, zero values).
    let mut g: sys::NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES = unsafe { core::mem::zeroed() };
    g.Header = header(
        sys::NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
        sys::NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2,
        sys::NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2,
    );
    g.MediaType = sys::NdisMedium802_3;
    g.PhysicalMediumType = sys::NdisPhysicalMedium802_3;
    g.MtuSize = u32::try_from(adapter.id.mtu).unwrap_or(0);
    g.MaxXmitLinkSpeed = LINK_SPEED_BPS;
    g.MaxRcvLinkSpeed = LINK_SPEED_BPS;
    g.XmitLinkSpeed = if connected { LINK_SPEED_BPS } else { sys::NDIS_LINK_SPEED_UNKNOWN };
    g.RcvLinkSpeed = g.XmitLinkSpeed;
    g.MediaConnectState = if connected { sys::MediaConnectStateConnected } else { sys::MediaConnectStateDisconnected };
    g.MediaDuplexState = sys::MediaDuplexStateFull;
    g.LookaheadSize = g.MtuSize;
    g.PowerManagementCapabilitiesEx = &raw mut pm;
    g.MacOptions = crate::oid::MAC_OPTIONS;
    g.SupportedPacketFilters = filter::SUPPORTED;
    g.MaxMulticastListSize = u32::try_from(filter::MAX_MULTICAST).unwrap_or(0);
    g.MacAddressLength = 6;
    g.PermanentMacAddress[..6].copy_from_slice(&adapter.id.permanent);
    g.CurrentMacAddress[..6].copy_from_slice(&adapter.id.current);
    g.RecvScaleCapabilities = core::ptr::null_mut();
    g.AccessType = sys::NET_IF_ACCESS_BROADCAST;
    g.DirectionType = sys::NET_IF_DIRECTION_SENDRECEIVE;
    g.ConnectionType = sys::NET_IF_CONNECTION_DEDICATED;
    g.IfType = sys::IF_TYPE_ETHERNET_CSMACD;
    g.IfConnectorPresent = 0;
    g.SupportedStatistics = crate::oid::SUPPORTED_STATISTICS;
    g.SupportedPauseFunctions = sys::NdisPauseFunctionsUnsupported;
    g.DataBackFillSize = 0;
    g.ContextBackFillSize = 0;
    g.SupportedOidList = crate::oid::SUPPORTED_OIDS.as_ptr().cast_mut();
    g.SupportedOidListLength = u32::try_from(core::mem::size_of_val(crate::oid::SUPPORTED_OIDS)).unwrap_or(0);
    g.AutoNegotiationFlags = 0;
    // SAFETY: the attributes and the PM capabilities they point to are valid for the call.
    unsafe { sys::NdisMSetMiniportAttributes(adapter.handle, (&raw mut g).cast()) }
}

/// MiniportInitializeEx (PASSIVE_LEVEL).
///
/// # Safety
/// Called by NDIS only, with the handles it documents.
pub unsafe extern "system" fn initialize(
    handle: NDIS_HANDLE,
    _driver_context: NDIS_HANDLE,
    _params: *mut sys::NDIS_MINIPORT_INIT_PARAMETERS,
) -> NDIS_STATUS {
    // SAFETY: every field of Adapter is valid when all-zero (see the type's documentation).
    let Some(boxed) = (unsafe { PoolBox::<Adapter>::try_new_zeroed() }) else {
        log!(Error, "initialize: no memory for the adapter context");
        return sys::NDIS_STATUS_RESOURCES;
    };
    let raw = boxed.as_ptr();
    // SAFETY: `raw` is our fresh, zeroed, exclusively owned allocation at its final address.
    unsafe { init_in_place(raw, handle) };
    // SAFETY: set up by `init_in_place`; nobody else has the pointer yet.
    match unsafe { initialize_steps(raw) } {
        Ok(()) => {
            // SAFETY: fully initialised; from now on only shared references exist.
            let adapter = unsafe { &*raw };
            log!(
                Info,
                "adapter {:p} initialized: {}",
                adapter.handle,
                core::str::from_utf8(&mac::format(&adapter.id.current)).unwrap_or("?")
            );
            // NDIS owns the context from now on; HaltEx takes it back.
            let _ = boxed.into_raw();
            sys::NDIS_STATUS_SUCCESS
        }
        Err(status) => {
            log!(Error, "initialize failed: {:#010x}", status.cast_unsigned());
            // SAFETY: the adapter was never published (not in the hub; NDIS treats the
            // initialization as failed), so we are its only user.
            unsafe { release(raw) };
            drop(boxed);
            status
        }
    }
}

/// Initialises the adapter's locks, DPC and lifecycle in place. Cannot fail.
///
/// # Safety
/// `raw` is a zeroed allocation of an Adapter at its final address, not yet shared.
unsafe fn init_in_place(raw: *mut Adapter, handle: NDIS_HANDLE) {
    // SAFETY (each field place below): per the contract `raw` is valid for writes of every
    // field, so a field place through it is in bounds.
    // SAFETY: see above.
    let life = unsafe { &raw mut (*raw).life };
    // SAFETY: see above.
    let multicast = unsafe { &raw mut (*raw).multicast };
    // SAFETY: see above.
    let tx = unsafe { &raw mut (*raw).tx };
    // SAFETY: see above.
    let rx = unsafe { &raw mut (*raw).rx };
    // SAFETY: see above.
    unsafe { (*raw).handle = handle };
    // SAFETY: `life` is a valid field place of our allocation.
    unsafe { life.write(Lifecycle::new()) };
    // SAFETY: the lock is at its final address and unused.
    unsafe { SpinLock::init(multicast, MulticastList::new()) };
    // SAFETY: as above; the adapter outlives its DPC.
    unsafe { Transmit::init(tx, raw) };
    // SAFETY: as above.
    unsafe { Receive::init(rx) };
}

/// Steps 2–7 of initialization. On error, everything a step created is released by
/// [`release`], which tolerates partial initialization.
///
/// # Safety
/// `raw` was set up by [`init_in_place`] and is not yet shared.
unsafe fn initialize_steps(raw: *mut Adapter) -> Result<(), NDIS_STATUS> {
    // SAFETY: per the contract.
    let handle = unsafe { (*raw).handle };
    let status = set_registration_attributes(handle, raw.cast());
    if status != sys::NDIS_STATUS_SUCCESS {
        return Err(status);
    }
    let id = read_configuration(handle)?;
    let lookahead = u32::try_from(id.mtu).unwrap_or(0);
    // SAFETY: not yet shared, and no reference to the adapter exists: plain field writes.
    unsafe { (*raw).id = id };
    // A failed allocation drops the work items already made.
    // SAFETY: `handle` is the live adapter handle NDIS gave InitializeEx.
    let work = || unsafe { WorkItem::new(handle) }.ok_or(sys::NDIS_STATUS_RESOURCES);
    let completions = Completions { pause: Some(work()?), restart: Some(work()?), reset: Some(work()?) };
    // SAFETY: as above.
    unsafe { (*raw).completions = completions };
    // SAFETY: from here on the adapter is only read through shared references (its mutable
    // state is atomic or behind locks).
    let adapter = unsafe { &*raw };
    adapter.lookahead.store(lookahead, Ordering::Relaxed);
    // SAFETY: the adapter is not yet published (not on the hub, unknown to NDIS until this
    // initialization returns), so no receive can be in flight and nothing else creates or
    // destroys its receive buffers.
    unsafe { adapter.rx.create(adapter) }?;
    let connected = HUB.has_members();
    let status = set_general_attributes(adapter, connected);
    if status != sys::NDIS_STATUS_SUCCESS {
        return Err(status);
    }
    HUB.join(adapter, connected).map_err(|_| sys::NDIS_STATUS_RESOURCES)?;
    if adapter.life.initialized().is_err() {
        HUB.leave(adapter);
        return Err(sys::NDIS_STATUS_FAILURE);
    }
    Ok(())
}

/// Frees everything an adapter holds except its context memory, in reverse order of creation.
/// Tolerates any prefix of initialization having run.
///
/// # Safety
/// Nobody else uses the adapter: it is out of the hub, Paused or never started, and no DPC or
/// work item of it can run. No reference to it is used after this call.
unsafe fn release(raw: *mut Adapter) {
    {
        // SAFETY: per the contract; this shared reference ends before the write below.
        let adapter = unsafe { &*raw };
        // SAFETY: per the contract nobody else uses the adapter: out of the hub (no delivery
        // can reserve a slot) and Paused or never started (every indicated NBL was returned
        // before the pause completed), so no receive is in flight.
        unsafe { adapter.rx.destroy() };
    }
    // SAFETY: per the contract nothing queued these work items; dropping them frees them.
    unsafe { (*raw).completions = Completions { pause: None, restart: None, reset: None } };
    // SAFETY: per the contract.
    let adapter = unsafe { &*raw };
    // SAFETY: per the contract the locks are initialised and idle.
    unsafe { adapter.rx.free_locks() };
    // SAFETY: as above.
    unsafe { adapter.tx.free_locks() };
    // SAFETY: as above.
    unsafe { adapter.multicast.free() };
}

/// MiniportHaltEx (PASSIVE_LEVEL; only from Paused).
///
/// # Safety
/// Called by NDIS only, with the context rvmini registered.
pub unsafe extern "system" fn halt(context: NDIS_HANDLE, _action: sys::NDIS_HALT_ACTION) {
    let raw = context.cast::<Adapter>();
    {
        // SAFETY: NDIS passes the context we registered; it stays valid until freed below.
        let adapter = unsafe { &*raw };
        if let Err(e) = adapter.life.halt() {
            // NDIS halts only a Paused adapter, whose pause completed only after every send was
            // completed and every receive returned; ndis-host's verifier checks NDIS's side.
            log!(Error, "halt from state {:?}: {:?}", e.from, adapter.life.snapshot());
        }
        HUB.leave(adapter);
        hub::wait_for_deliveries(adapter);
        adapter.tx.stop();
    }
    // SAFETY: out of the hub, no delivery in flight, transmit DPC stopped: nothing else uses it.
    unsafe { release(raw) };
    // SAFETY: `raw` is the PoolBox InitializeEx gave up; this takes it back and frees it.
    drop(unsafe { PoolBox::<Adapter>::from_raw(raw) });
}
