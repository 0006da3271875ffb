//! A synthetic miniport written as Rust `extern "win64"` functions, for tests that need a driver
//! that breaks a rule on purpose.
//!
//! The handlers run exactly like image code: the host calls them through `call_driver` on the
//! guarded driver stack, and they reach NDIS only through the import thunks ([`import`]). What
//! each handler does is chosen per test with [`Knobs`]; by default the driver is correct (it sets
//! its attributes, pauses and restarts synchronously, answers a few OIDs, completes sends at once
//! with the right status, deregisters at unload). Knobs that make it allocate (a pool block and an
//! NBL pool per adapter, a pool block per driver) also let it free them at the right time, so a
//! test can show both the leak and the correct sequence.
//!
//! Handlers must not panic (a panic cannot unwind out of an `extern "win64"` function).
// The synthetic driver passes NDIS_STATUS values and small sizes through 64-bit argument
// registers the way C driver code does; the casts below are that convention, not lost data.
#![allow(
    dead_code,
    clippy::missing_safety_doc,
    clippy::must_use_candidate,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless,
    clippy::cast_ptr_alignment,
    clippy::ptr_as_ptr,
    clippy::many_single_char_names,
    clippy::struct_excessive_bools,
    clippy::items_after_statements
)]

use ndis_host::host::thread;
use ndis_host::host::{HostConfig, Mode};
use ndis_host::kernel::registry::Registry;
use ndis_host::sim::Sim;
use ndis_sys as sys;
use std::collections::HashMap;
use std::mem::offset_of;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// What MiniportPause does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PauseMode {
    /// Returns SUCCESS.
    #[default]
    Success,
    /// Returns PENDING; the test completes it with [`pause_complete`].
    Pending,
    /// Returns this status.
    Returns(i32),
    /// Calls NdisMPauseComplete inside the handler, then returns PENDING.
    CompleteInside,
}

/// What MiniportRestart does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RestartMode {
    /// Returns SUCCESS.
    #[default]
    Success,
    /// Returns PENDING; the test completes it.
    Pending,
    /// Returns this status.
    Returns(i32),
    /// Calls NdisMRestartComplete inside the handler, then returns PENDING.
    CompleteInside,
    /// Changes the restart attributes' MTU, then returns FAILURE.
    ModifyAndFail,
}

/// What MiniportSendNetBufferLists does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SendMode {
    /// Completes each chain at once with SUCCESS when running, PAUSED otherwise.
    #[default]
    Correct,
    /// Completes with SUCCESS always, even when paused.
    AlwaysSuccess,
    /// Keeps the NBLs; the test completes them with [`complete_held`].
    Hold,
    /// Completes each chain twice.
    Twice,
    /// Completes with NDIS_STATUS_PENDING as the NBL status.
    PendingStatus,
    /// Completes, then writes into the NBL afterwards.
    TouchAfter,
    /// Completes with the DISPATCH_LEVEL flag whatever the IRQL.
    DispatchFlagAlways,
    /// Completes correctly, but while holding the adapter's spin lock ([`Adapter::lock`]).
    CompleteHoldingLock,
}

/// Whether the synthetic driver allocates an object, and whether it frees it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Alloc {
    /// Allocates nothing.
    #[default]
    None,
    /// Allocates, and frees at the right time.
    Freed,
    /// Allocates, and never frees.
    Leaked,
}

/// What MiniportInitializeEx does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InitMode {
    /// Sets its attributes and succeeds.
    #[default]
    Success,
    /// Allocates a pool block, frees it, and fails with NDIS_STATUS_FAILURE.
    FailAfterFreeing,
    /// Allocates a pool block and fails with NDIS_STATUS_FAILURE, leaving it allocated.
    FailLeaking,
}

/// What MiniportOidRequest does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum OidMode {
    /// Answers OID_GEN_VENDOR_ID correctly (4 bytes), NOT_SUPPORTED otherwise.
    #[default]
    Correct,
    /// Claims BytesWritten larger than the buffer.
    BytesWrittenTooBig,
    /// Writes 8 bytes into a 4-byte buffer.
    WritePast,
    /// Fails with BUFFER_TOO_SHORT leaving BytesNeeded 0.
    NoBytesNeeded,
    /// Returns PENDING; the test completes it with [`oid_complete`].
    Pending,
    /// Calls NdisMOidRequestComplete inside, then returns SUCCESS.
    CompleteInsideAndReturn,
    /// Accepts OID_GEN_LINK_PARAMETERS without SupportedRevision.
    NoSupportedRevision,
}

/// Per-test behaviour.
#[derive(Clone, Copy, Debug, Default)]
pub struct Knobs {
    /// Leave CancelSendHandler NULL.
    pub missing_cancel_send: bool,
    /// Register MiniportCheckForHangEx (and no HARDWARE_DEVICE flag).
    pub check_for_hang: bool,
    /// Call NdisMRegisterMiniportDriver twice.
    pub register_twice: bool,
    /// Unload without NdisMDeregisterMiniportDriver.
    pub no_deregister: bool,
    /// Set general attributes before registration attributes.
    pub general_first: bool,
    /// Registration attributes with a NULL adapter context.
    pub null_context: bool,
    /// Pause.
    pub pause: PauseMode,
    /// Restart.
    pub restart: RestartMode,
    /// Send.
    pub send: SendMode,
    /// OID.
    pub oid: OidMode,
    /// MiniportInitializeEx.
    pub init: InitMode,
    /// A pool block DriverEntry allocates with the driver handle; MiniportDriverUnload frees it.
    pub driver_memory: Alloc,
    /// A pool block and an NBL pool MiniportInitializeEx allocates with the adapter handle;
    /// MiniportHaltEx frees them.
    pub adapter_resources: Alloc,
}

/// The synthetic driver's per-driver state.
pub struct Driver {
    pub knobs: Knobs,
    pub handle: AtomicU64,
    /// The pool block of [`Knobs::driver_memory`] (0 if none).
    pub block: AtomicU64,
}

/// The synthetic adapter context.
pub struct Adapter {
    pub driver: &'static Driver,
    pub handle: u64,
    pub running: std::sync::atomic::AtomicBool,
    pub held: Mutex<Vec<u64>>,
    pub pending_oid: AtomicU64,
    /// Address of the adapter's NDIS_SPIN_LOCK (initialised with NdisAllocateSpinLock).
    pub lock: u64,
    /// The pool block of [`Knobs::adapter_resources`] (0 if none).
    pub block: AtomicU64,
    /// The NBL pool of [`Knobs::adapter_resources`] (0 if none).
    pub nbl_pool: AtomicU64,
}

/// Pool tag of the synthetic driver's allocations ("Synt").
pub const TAG: u32 = u32::from_le_bytes(*b"Synt");

thread_local! {
    static NEXT: std::cell::Cell<Option<Knobs>> = const { std::cell::Cell::new(None) };
}

fn drivers() -> &'static Mutex<HashMap<u64, &'static Driver>> {
    static M: OnceLock<Mutex<HashMap<u64, &'static Driver>>> = OnceLock::new();
    M.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The thunk of `name` on the current host.
pub fn import(name: &str) -> u64 {
    let module = if name.starts_with("Ndis") { "ndis.sys" } else { "ntoskrnl.exe" };
    thread::host().and_then(|h| h.thunk(module, name)).unwrap_or(0)
}

type F1 = extern "win64" fn(u64) -> u64;
type F2 = extern "win64" fn(u64, u64) -> u64;
type F3 = extern "win64" fn(u64, u64, u64) -> u64;
type F4 = extern "win64" fn(u64, u64, u64, u64) -> u64;
type F5 = extern "win64" fn(u64, u64, u64, u64, u64) -> u64;

/// Calls an import with one argument.
pub fn call1(name: &str, a: u64) -> u64 {
    // SAFETY: the thunk is a win64 function taking integer arguments.
    let f: F1 = unsafe { std::mem::transmute::<usize, F1>(import(name) as usize) };
    f(a)
}
/// Two arguments.
pub fn call2(name: &str, a: u64, b: u64) -> u64 {
    // SAFETY: as above.
    let f: F2 = unsafe { std::mem::transmute::<usize, F2>(import(name) as usize) };
    f(a, b)
}
/// Three arguments.
pub fn call3(name: &str, a: u64, b: u64, c: u64) -> u64 {
    // SAFETY: as above.
    let f: F3 = unsafe { std::mem::transmute::<usize, F3>(import(name) as usize) };
    f(a, b, c)
}
/// Four arguments.
pub fn call4(name: &str, a: u64, b: u64, c: u64, d: u64) -> u64 {
    // SAFETY: as above.
    let f: F4 = unsafe { std::mem::transmute::<usize, F4>(import(name) as usize) };
    f(a, b, c, d)
}
/// Five arguments.
pub fn call5(name: &str, a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
    // SAFETY: as above.
    let f: F5 = unsafe { std::mem::transmute::<usize, F5>(import(name) as usize) };
    f(a, b, c, d, e)
}

fn header(kind: u8, revision: u8, size: usize) -> sys::NDIS_OBJECT_HEADER {
    sys::NDIS_OBJECT_HEADER { Type: kind, Revision: revision, Size: size as u16 }
}

fn adapter(ctx: u64) -> &'static Adapter {
    // SAFETY: contexts are leaked `Adapter` boxes made by `initialize`.
    unsafe { &*(ctx as *const Adapter) }
}

pub extern "win64" fn driver_entry(object: u64, path: u64) -> u64 {
    let knobs = NEXT.with(std::cell::Cell::take).unwrap_or_default();
    let driver: &'static Driver =
        Box::leak(Box::new(Driver { knobs, handle: AtomicU64::new(0), block: AtomicU64::new(0) }));
    drivers().lock().unwrap().insert(object, driver);
    // SAFETY: all-zero is a valid characteristics structure.
    let mut c: sys::NDIS_MINIPORT_DRIVER_CHARACTERISTICS = unsafe { std::mem::zeroed() };
    c.Header = header(
        sys::NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS,
        sys::NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2,
        sys::NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2,
    );
    c.MajorNdisVersion = 6;
    c.MinorNdisVersion = 30;
    let base = (&raw mut c).cast::<u8>();
    let set = |off: usize, f: u64| {
        // SAFETY: `off` is the offset of a pointer-sized handler field inside `c`.
        unsafe { base.add(off).cast::<u64>().write_unaligned(f) }
    };
    type C = sys::NDIS_MINIPORT_DRIVER_CHARACTERISTICS;
    set(offset_of!(C, InitializeHandlerEx), initialize as *const () as u64);
    set(offset_of!(C, HaltHandlerEx), halt as *const () as u64);
    set(offset_of!(C, UnloadHandler), unload as *const () as u64);
    set(offset_of!(C, PauseHandler), pause as *const () as u64);
    set(offset_of!(C, RestartHandler), restart as *const () as u64);
    set(offset_of!(C, OidRequestHandler), oid_request as *const () as u64);
    set(offset_of!(C, SendNetBufferListsHandler), send as *const () as u64);
    set(offset_of!(C, ReturnNetBufferListsHandler), return_nbls as *const () as u64);
    if !knobs.missing_cancel_send {
        set(offset_of!(C, CancelSendHandler), cancel_send as *const () as u64);
    }
    if knobs.check_for_hang {
        set(offset_of!(C, CheckForHangHandlerEx), check_for_hang as *const () as u64);
    }
    set(offset_of!(C, ResetHandlerEx), reset as *const () as u64);
    set(offset_of!(C, DevicePnPEventNotifyHandler), pnp_event as *const () as u64);
    set(offset_of!(C, ShutdownHandlerEx), shutdown as *const () as u64);
    set(offset_of!(C, CancelOidRequestHandler), cancel_oid as *const () as u64);
    let mut handle = 0u64;
    let ctx = std::ptr::from_ref(driver) as u64;
    let status = call5("NdisMRegisterMiniportDriver", object, path, ctx, (&raw mut c) as u64, (&raw mut handle) as u64);
    driver.handle.store(handle, Ordering::Release);
    if knobs.driver_memory != Alloc::None {
        let block = call4(
            "NdisAllocateMemoryWithTagPriority",
            handle,
            64,
            u64::from(TAG),
            sys::NormalPoolPriority as u32 as u64,
        );
        driver.block.store(block, Ordering::Release);
    }
    if knobs.register_twice {
        let mut h2 = 0u64;
        call5("NdisMRegisterMiniportDriver", object, path, ctx, (&raw mut c) as u64, (&raw mut h2) as u64);
    }
    status
}

extern "win64" fn unload(object: u64) -> u64 {
    let Some(d) = drivers().lock().unwrap().get(&object).copied() else { return 0 };
    let block = d.block.load(Ordering::Acquire);
    if d.knobs.driver_memory == Alloc::Freed && block != 0 {
        call3("NdisFreeMemory", block, 0, 0);
    }
    if !d.knobs.no_deregister {
        call1("NdisMDeregisterMiniportDriver", d.handle.load(Ordering::Acquire));
    }
    0
}

fn set_registration(handle: u64, ctx: u64) -> u64 {
    // SAFETY: all-zero is valid.
    let mut r: sys::NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES = unsafe { std::mem::zeroed() };
    r.Header = header(
        sys::NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
        sys::NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_2,
        sys::NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_2,
    );
    r.MiniportAdapterContext = ctx as *mut core::ffi::c_void;
    call2("NdisMSetMiniportAttributes", handle, (&raw mut r) as u64)
}

static OIDS: [u32; 2] = [sys::OID_GEN_VENDOR_ID, sys::OID_GEN_LINK_PARAMETERS];

fn set_general(handle: u64) -> u64 {
    // SAFETY: all-zero is valid.
    let mut g: sys::NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES = unsafe { std::mem::zeroed() };
    g.Header = header(
        sys::NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
        sys::NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2,
        sys::NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2,
    );
    g.MediaType = sys::NdisMedium802_3;
    g.MtuSize = 1500;
    g.MacAddressLength = 6;
    g.CurrentMacAddress[..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
    g.PermanentMacAddress[..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
    g.SupportedOidList = OIDS.as_ptr().cast_mut();
    g.SupportedOidListLength = (OIDS.len() * 4) as u32;
    call2("NdisMSetMiniportAttributes", handle, (&raw mut g) as u64)
}

extern "win64" fn initialize(handle: u64, driver_context: u64, _params: u64) -> u64 {
    // SAFETY: the driver context is the leaked Driver passed to registration.
    let driver: &'static Driver = unsafe { &*(driver_context as *const Driver) };
    match driver.knobs.init {
        InitMode::Success => {}
        InitMode::FailAfterFreeing | InitMode::FailLeaking => {
            // ExAllocatePool2 takes no handle: the block belongs to the adapter whose
            // MiniportInitializeEx is running.
            let block = call3("ExAllocatePool2", sys::POOL_FLAG_NON_PAGED, 128, u64::from(TAG));
            if driver.knobs.init == InitMode::FailAfterFreeing && block != 0 {
                call2("ExFreePoolWithTag", block, u64::from(TAG));
            }
            return sys::NDIS_STATUS_FAILURE as u32 as u64;
        }
    }
    let lock: &'static mut sys::NDIS_SPIN_LOCK = Box::leak(Box::default());
    let lock = std::ptr::from_mut(lock) as u64;
    call1("NdisAllocateSpinLock", lock);
    let a: &'static Adapter = Box::leak(Box::new(Adapter {
        driver,
        handle,
        running: std::sync::atomic::AtomicBool::new(false),
        held: Mutex::new(Vec::new()),
        pending_oid: AtomicU64::new(0),
        lock,
        block: AtomicU64::new(0),
        nbl_pool: AtomicU64::new(0),
    }));
    if driver.knobs.adapter_resources != Alloc::None {
        let block = call4(
            "NdisAllocateMemoryWithTagPriority",
            handle,
            256,
            u64::from(TAG),
            sys::NormalPoolPriority as u32 as u64,
        );
        a.block.store(block, Ordering::Release);
        let mut params = sys::NET_BUFFER_LIST_POOL_PARAMETERS {
            Header: header(
                sys::NDIS_OBJECT_TYPE_DEFAULT,
                sys::NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
                sys::NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
            ),
            ProtocolId: 0,
            fAllocateNetBuffer: 1,
            ContextSize: 0,
            PoolTag: TAG,
            DataSize: 0,
            Flags: 0,
        };
        let pool = call2("NdisAllocateNetBufferListPool", handle, (&raw mut params) as u64);
        a.nbl_pool.store(pool, Ordering::Release);
    }
    let ctx = if driver.knobs.null_context { 0 } else { std::ptr::from_ref(a) as u64 };
    if driver.knobs.general_first {
        set_general(handle);
        set_registration(handle, ctx);
    } else {
        set_registration(handle, ctx);
        set_general(handle);
    }
    0
}

extern "win64" fn halt(ctx: u64, _action: u64) -> u64 {
    let a = adapter(ctx);
    if a.driver.knobs.adapter_resources == Alloc::Freed {
        let block = a.block.swap(0, Ordering::AcqRel);
        if block != 0 {
            call3("NdisFreeMemory", block, 0, 0);
        }
        let pool = a.nbl_pool.swap(0, Ordering::AcqRel);
        if pool != 0 {
            call1("NdisFreeNetBufferListPool", pool);
        }
    }
    0
}

extern "win64" fn pause(ctx: u64, _params: u64) -> u64 {
    let a = adapter(ctx);
    a.running.store(false, Ordering::Release);
    match a.driver.knobs.pause {
        PauseMode::Success => 0,
        PauseMode::Pending => sys::NDIS_STATUS_PENDING as u32 as u64,
        PauseMode::Returns(s) => s as u32 as u64,
        PauseMode::CompleteInside => {
            call1("NdisMPauseComplete", a.handle);
            sys::NDIS_STATUS_PENDING as u32 as u64
        }
    }
}

extern "win64" fn restart(ctx: u64, params: u64) -> u64 {
    let a = adapter(ctx);
    match a.driver.knobs.restart {
        RestartMode::Success => {
            a.running.store(true, Ordering::Release);
            0
        }
        RestartMode::Pending => sys::NDIS_STATUS_PENDING as u32 as u64,
        RestartMode::Returns(s) => s as u32 as u64,
        RestartMode::CompleteInside => {
            a.running.store(true, Ordering::Release);
            call2("NdisMRestartComplete", a.handle, 0);
            sys::NDIS_STATUS_PENDING as u32 as u64
        }
        RestartMode::ModifyAndFail => {
            // SAFETY: the host passes valid restart parameters; the attributes (if any) carry
            // the general attributes at the Data offset.
            unsafe {
                let p = &*(params as *const sys::NDIS_MINIPORT_RESTART_PARAMETERS);
                if !p.RestartAttributes.is_null() {
                    let data = (p.RestartAttributes as *mut u8).add(offset_of!(sys::NDIS_RESTART_ATTRIBUTES, Data));
                    let mtu = data.add(offset_of!(sys::NDIS_RESTART_GENERAL_ATTRIBUTES, MtuSize)).cast::<u32>();
                    mtu.write_unaligned(9000);
                }
            }
            sys::NDIS_STATUS_FAILURE as u32 as u64
        }
    }
}

extern "win64" fn oid_request(ctx: u64, request: u64) -> u64 {
    let a = adapter(ctx);
    // SAFETY: the host passes a valid request it owns until completion.
    let r = unsafe { &mut *(request as *mut sys::NDIS_OID_REQUEST) };
    // SAFETY: query and set share the leading fields.
    let q = unsafe { &mut r.DATA.QUERY_INFORMATION };
    let len = q.InformationBufferLength;
    let buf = q.InformationBuffer.cast::<u8>();
    match a.driver.knobs.oid {
        OidMode::Correct => {
            if q.Oid != sys::OID_GEN_VENDOR_ID {
                return sys::NDIS_STATUS_NOT_SUPPORTED as u32 as u64;
            }
            if len < 4 {
                q.BytesNeeded = 4;
                return sys::NDIS_STATUS_BUFFER_TOO_SHORT as u32 as u64;
            }
            // SAFETY: the buffer has at least 4 bytes.
            unsafe { buf.cast::<u32>().write_unaligned(0x00FF_FFFF) };
            q.BytesWritten = 4;
            0
        }
        OidMode::BytesWrittenTooBig => {
            q.BytesWritten = len + 8;
            0
        }
        OidMode::WritePast => {
            // SAFETY: deliberately out of bounds of InformationBufferLength, but inside the
            // host's guard area (the host allocates guard bytes after the buffer).
            unsafe { buf.cast::<u64>().write_unaligned(0x1122_3344_5566_7788) };
            q.BytesWritten = len;
            0
        }
        OidMode::NoBytesNeeded => {
            q.BytesNeeded = 0;
            sys::NDIS_STATUS_BUFFER_TOO_SHORT as u32 as u64
        }
        OidMode::Pending => {
            a.pending_oid.store(request, Ordering::Release);
            sys::NDIS_STATUS_PENDING as u32 as u64
        }
        OidMode::CompleteInsideAndReturn => {
            call3("NdisMOidRequestComplete", a.handle, request, 0);
            0
        }
        OidMode::NoSupportedRevision => {
            // SAFETY: set form.
            let s = unsafe { &mut r.DATA.SET_INFORMATION };
            s.BytesRead = len;
            0
        }
    }
}

fn complete(a: &Adapter, head: u64, flags: u32) {
    call3("NdisMSendNetBufferListsComplete", a.handle, head, u64::from(flags));
}

fn set_status(head: u64, status: i32) {
    let mut p = head;
    while p != 0 {
        // SAFETY: NBLs of the chain NDIS handed us.
        unsafe {
            (*(p as *mut sys::NET_BUFFER_LIST)).Status = status;
            p = (*(p as *mut sys::NET_BUFFER_LIST)).Next as u64;
        }
    }
}

extern "win64" fn send(ctx: u64, head: u64, _port: u64, flags: u64) -> u64 {
    let a = adapter(ctx);
    let dispatch = flags as u32 & sys::NDIS_SEND_FLAGS_DISPATCH_LEVEL != 0;
    let cflag = if dispatch { sys::NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL } else { 0 };
    let running = a.running.load(Ordering::Acquire);
    match a.driver.knobs.send {
        SendMode::Correct => {
            set_status(head, if running { 0 } else { sys::NDIS_STATUS_PAUSED });
            complete(a, head, cflag);
        }
        SendMode::AlwaysSuccess => {
            set_status(head, 0);
            complete(a, head, cflag);
        }
        SendMode::Hold => a.held.lock().unwrap().push(head),
        SendMode::Twice => {
            set_status(head, 0);
            complete(a, head, cflag);
            complete(a, head, cflag);
        }
        SendMode::PendingStatus => {
            set_status(head, sys::NDIS_STATUS_PENDING);
            complete(a, head, cflag);
        }
        SendMode::TouchAfter => {
            set_status(head, 0);
            complete(a, head, cflag);
            // SAFETY: deliberately writes an NBL after giving it back (the rule's violation).
            unsafe { (*(head as *mut sys::NET_BUFFER_LIST)).MiniportReserved[1] = 0xBAD as *mut core::ffi::c_void };
        }
        SendMode::DispatchFlagAlways => {
            set_status(head, if running { 0 } else { sys::NDIS_STATUS_PAUSED });
            complete(a, head, sys::NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL);
        }
        SendMode::CompleteHoldingLock => {
            // NdisAcquireSpinLock raises to DISPATCH_LEVEL, so the flag is right.
            call1("NdisAcquireSpinLock", a.lock);
            set_status(head, if running { 0 } else { sys::NDIS_STATUS_PAUSED });
            complete(a, head, sys::NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL);
            call1("NdisReleaseSpinLock", a.lock);
        }
    }
    0
}

extern "win64" fn return_nbls(_ctx: u64, _head: u64, _flags: u64) -> u64 {
    0
}
extern "win64" fn cancel_send(_ctx: u64, _id: u64) -> u64 {
    0
}
extern "win64" fn check_for_hang(_ctx: u64) -> u64 {
    0
}
extern "win64" fn reset(_ctx: u64, addressing: u64) -> u64 {
    // SAFETY: NDIS passes a BOOLEAN to write.
    unsafe { (addressing as *mut u8).write(0) };
    0
}
extern "win64" fn pnp_event(_ctx: u64, _event: u64) -> u64 {
    0
}
extern "win64" fn shutdown(_ctx: u64, _action: u64) -> u64 {
    0
}
extern "win64" fn cancel_oid(_ctx: u64, _id: u64) -> u64 {
    0
}

// --- helpers the tests call as driver code --------------------------------------------------

/// Runs `f(args)` as driver code (on the driver stack, at `irql`, for adapter `a`).
pub fn as_driver(sim: &Sim, a: Option<usize>, irql: u8, f: u64, args: &[u64]) -> u64 {
    sim.host().call("TestDriverCode", a, irql, f, args).expect("synthetic driver code crashed")
}

pub extern "win64" fn pause_complete(handle: u64) -> u64 {
    call1("NdisMPauseComplete", handle)
}
pub extern "win64" fn restart_complete(handle: u64, status: u64) -> u64 {
    call2("NdisMRestartComplete", handle, status)
}
pub extern "win64" fn reset_complete(handle: u64) -> u64 {
    call3("NdisMResetComplete", handle, 0, 0)
}
pub extern "win64" fn oid_complete(handle: u64, request: u64, status: u64) -> u64 {
    call3("NdisMOidRequestComplete", handle, request, status)
}
pub extern "win64" fn set_attributes(handle: u64, attrs: u64) -> u64 {
    call2("NdisMSetMiniportAttributes", handle, attrs)
}
pub extern "win64" fn indicate_status(handle: u64, indication: u64) -> u64 {
    call2("NdisMIndicateStatusEx", handle, indication)
}
pub extern "win64" fn indicate(handle: u64, head: u64, count: u64, flags: u64) -> u64 {
    call5("NdisMIndicateReceiveNetBufferLists", handle, head, 0, count, flags)
}
/// NdisMIndicateReceiveNetBufferLists of the one NBL `head` while holding the spin lock at
/// `lock` (so at DISPATCH_LEVEL, which the flag says).
pub extern "win64" fn indicate_holding(lock: u64, handle: u64, head: u64) -> u64 {
    call1("NdisAcquireSpinLock", lock);
    call5("NdisMIndicateReceiveNetBufferLists", handle, head, 0, 1, u64::from(sys::NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL));
    call1("NdisReleaseSpinLock", lock);
    0
}
/// As [`indicate_holding`], but the lock is released before the indication.
pub extern "win64" fn indicate_after_releasing(lock: u64, handle: u64, head: u64) -> u64 {
    call1("NdisAcquireSpinLock", lock);
    call1("NdisReleaseSpinLock", lock);
    call5("NdisMIndicateReceiveNetBufferLists", handle, head, 0, 1, 0)
}
/// NdisMIndicateStatusEx while holding the spin lock at `lock`.
pub extern "win64" fn indicate_status_holding(lock: u64, handle: u64, indication: u64) -> u64 {
    call1("NdisAcquireSpinLock", lock);
    call2("NdisMIndicateStatusEx", handle, indication);
    call1("NdisReleaseSpinLock", lock);
    0
}
/// Completes the NBLs adapter context `ctx` holds (SendMode::Hold) with `status`.
pub extern "win64" fn complete_held(ctx: u64, status: u64) -> u64 {
    let a = adapter(ctx);
    let held: Vec<u64> = std::mem::take(&mut *a.held.lock().unwrap());
    for head in held {
        set_status(head, status as u32 as i32);
        complete(a, head, 0);
    }
    0
}

/// A host with the synthetic driver registered (DriverEntry has run).
pub fn start(knobs: Knobs) -> Sim {
    start_with(knobs, Mode::Deterministic { seed: 1 })
}

/// As [`start`], in `mode`.
pub fn start_with(knobs: Knobs, mode: Mode) -> Sim {
    let sim = Sim::new(HostConfig { mode, ..HostConfig::default() });
    NEXT.with(|n| n.set(Some(knobs)));
    let status = sim.driver_entry_at(driver_entry as *const () as u64).expect("DriverEntry crashed");
    let _ = status;
    sim
}

/// Adds and initializes an adapter; returns its index.
pub fn adapter_up(sim: &Sim) -> usize {
    let a = sim.add_adapter(Registry::new());
    sim.initialize(a).expect("initialize");
    a
}

/// Adds, initializes and restarts an adapter.
pub fn running(sim: &Sim) -> usize {
    let a = adapter_up(sim);
    sim.restart(a).expect("restart");
    a
}

/// The adapter's miniport context (the synthetic Adapter).
pub fn context(sim: &Sim, a: usize) -> u64 {
    sim.adapter(a).context()
}

/// The adapter's handle.
pub fn handle(sim: &Sim, a: usize) -> u64 {
    sim.adapter(a).handle
}

/// The address of the synthetic adapter's spin lock.
pub fn adapter_lock(sim: &Sim, a: usize) -> u64 {
    // SAFETY: the context is the synthetic adapter `initialize` leaked.
    unsafe { &*(context(sim, a) as *const Adapter) }.lock
}

/// The findings of `rule`.
pub fn findings_of(sim: &Sim, rule: ndis_host::verifier::Rule) -> Vec<ndis_host::verifier::Finding> {
    sim.findings().into_iter().filter(|f| f.rule == rule).collect()
}

/// True if the verifier reported `rule`.
pub fn fired(sim: &Sim, rule: ndis_host::verifier::Rule) -> bool {
    sim.findings().iter().any(|f| f.rule == rule)
}

/// The rules that fired, for messages.
pub fn rules(sim: &Sim) -> Vec<String> {
    sim.findings().iter().map(ToString::to_string).collect()
}
