//! The miniport driver: DriverEntry, the characteristics it registers, and unload.
//!
//! The host builds a zeroed `DRIVER_OBJECT` and the service's registry path, calls the image's
//! entry point at PASSIVE_LEVEL, and captures what `NdisMRegisterMiniportDriver` receives
//! ([`Registration`]). NDIS copies the characteristics, so the handler addresses are read once
//! there; every later call into the miniport uses them.

use crate::host::thread::PASSIVE;
use crate::host::{Abandoned, HostInner};
use crate::kernel::resources::Record;
use crate::verifier::Rule;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// The service registry path passed to DriverEntry.
pub const REGISTRY_PATH: &str = r"\Registry\Machine\System\CurrentControlSet\Services\rvmini";

/// Size of the zeroed `DRIVER_OBJECT` the host passes (x64 `sizeof(DRIVER_OBJECT)` is 0x150).
const DRIVER_OBJECT_SIZE: usize = 0x150;

/// The handler addresses of `NDIS_MINIPORT_DRIVER_CHARACTERISTICS` (0 = not registered).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)]
pub struct Handlers {
    pub set_options: u64,
    pub initialize: u64,
    pub halt: u64,
    pub unload: u64,
    pub pause: u64,
    pub restart: u64,
    pub oid_request: u64,
    pub send: u64,
    pub return_nbls: u64,
    pub cancel_send: u64,
    pub check_for_hang: u64,
    pub reset: u64,
    pub device_pnp_event: u64,
    pub shutdown: u64,
    pub cancel_oid_request: u64,
    pub direct_oid_request: u64,
    pub cancel_direct_oid_request: u64,
    pub synchronous_oid_request: u64,
}

/// What NdisMRegisterMiniportDriver captured.
#[derive(Clone, Copy, Debug)]
pub struct Registration {
    /// The driver handle returned to the miniport.
    pub handle: u64,
    /// The handlers.
    pub handlers: Handlers,
    /// NDIS version the miniport was written for.
    pub ndis_version: (u8, u8),
    /// MiniportDriverContext.
    pub context: u64,
}

/// Mutable driver state.
#[derive(Debug, Default)]
pub struct State {
    /// DriverEntry is running.
    pub in_entry: bool,
    /// The registration, once made: set and cleared only by [`Driver::register`] and
    /// [`Driver::unregister`], which keep the datapath's copy of two handlers in step.
    registration: Option<Registration>,
    /// NdisMDeregisterMiniportDriver was called.
    pub deregistered: bool,
    /// Test hook: make NdisMRegisterMiniportDriver fail with this status.
    pub fail_registration: Option<i32>,
    /// What DriverEntry returned.
    pub entry_status: Option<i32>,
    driver_object: Option<Box<[u64]>>,
    registry_path: Option<RegistryPath>,
}

impl State {
    /// The registration, once made.
    #[must_use]
    pub fn registration(&self) -> Option<Registration> {
        self.registration
    }
}

/// The UNICODE_STRING handed to DriverEntry (as two quadwords) and the UTF-16 text it points to;
/// both stay alive for as long as the driver is loaded.
type RegistryPath = (Box<[u64; 2]>, Box<[u16]>);

/// The driver.
#[derive(Debug, Default)]
pub struct Driver {
    state: Mutex<State>,
    /// MiniportSendNetBufferLists, copied from the registration so that every send reads it
    /// without taking the state lock (0 = not registered).
    send: AtomicU64,
    /// MiniportReturnNetBufferLists, likewise.
    return_nbls: AtomicU64,
}

impl Driver {
    /// Locks the state.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The registration.
    #[must_use]
    pub fn registration(&self) -> Option<Registration> {
        self.lock().registration
    }

    /// Records the registration NdisMRegisterMiniportDriver accepted.
    pub fn register(&self, registration: Registration) {
        let mut st = self.lock();
        self.send.store(registration.handlers.send, Ordering::Release);
        self.return_nbls.store(registration.handlers.return_nbls, Ordering::Release);
        st.registration = Some(registration);
    }

    /// Forgets the registration (MiniportSetOptions failed it).
    pub fn unregister(&self) {
        let mut st = self.lock();
        st.registration = None;
        self.send.store(0, Ordering::Release);
        self.return_nbls.store(0, Ordering::Release);
    }

    /// MiniportSendNetBufferLists (0 before registration), without the state lock.
    #[must_use]
    pub fn send_handler(&self) -> u64 {
        self.send.load(Ordering::Acquire)
    }

    /// MiniportReturnNetBufferLists (0 before registration), without the state lock.
    #[must_use]
    pub fn return_handler(&self) -> u64 {
        self.return_nbls.load(Ordering::Acquire)
    }

    /// The handlers (all zero before registration).
    #[must_use]
    pub fn handlers(&self) -> Handlers {
        self.lock().registration.map(|r| r.handlers).unwrap_or_default()
    }

    /// The address of the host's DRIVER_OBJECT.
    #[must_use]
    pub fn driver_object(&self) -> u64 {
        self.lock().driver_object.as_ref().map_or(0, |b| b.as_ptr() as u64)
    }
}

/// Runs the image's entry point (DriverEntry) and returns its status.
pub fn driver_entry(host: &Arc<HostInner>, entry: u64) -> Result<i32, Abandoned> {
    let (object, path) = {
        let mut st = host.ndis.driver.lock();
        let object: Box<[u64]> = vec![0u64; DRIVER_OBJECT_SIZE / 8].into_boxed_slice();
        let wide: Box<[u16]> = REGISTRY_PATH.encode_utf16().chain(std::iter::once(0)).collect();
        let len = u16::try_from((wide.len() - 1) * 2).unwrap_or(u16::MAX);
        // UNICODE_STRING { USHORT Length; USHORT MaximumLength; PWSTR Buffer } on x64.
        let header = u64::from(len) | (u64::from(len + 2) << 16);
        let unicode = Box::new([header, wide.as_ptr() as u64]);
        let addrs = (object.as_ptr() as u64, unicode.as_ptr() as u64);
        st.driver_object = Some(object);
        st.registry_path = Some((unicode, wide));
        st.in_entry = true;
        addrs
    };
    host.trace.record(
        crate::trace::Level::Lifecycle,
        None,
        crate::trace::Dir::ToMiniport,
        "DriverEntry",
        || format!("DriverObject={object:#x}, {REGISTRY_PATH}"),
        None,
    );
    let result = host.call("DriverEntry", None, PASSIVE, entry, &[object, path]);
    let mut st = host.ndis.driver.lock();
    st.in_entry = false;
    let status = result.map(super::status);
    if let Ok(s) = status {
        st.entry_status = Some(s);
        host.trace.note(None, || format!("DriverEntry returned {}", super::names::status(s)));
        if s != ndis_sys::NDIS_STATUS_SUCCESS && st.registration.is_some() && !st.deregistered {
            host.finding(
                Rule::UnloadDeregisters,
                None,
                "DriverEntry failed after registering without calling NdisMDeregisterMiniportDriver",
            );
        }
    }
    status
}

/// Calls MiniportDriverUnload, then checks that the driver deregistered and freed everything.
pub fn unload(host: &Arc<HostInner>) -> Result<(), Abandoned> {
    let (handler, object) = {
        let st = host.ndis.driver.lock();
        (st.registration.map_or(0, |r| r.handlers.unload), st.driver_object.as_ref().map_or(0, |b| b.as_ptr() as u64))
    };
    if handler != 0 {
        host.trace.record(
            crate::trace::Level::Lifecycle,
            None,
            crate::trace::Dir::ToMiniport,
            "MiniportDriverUnload",
            String::new,
            None,
        );
        host.call("MiniportDriverUnload", None, PASSIVE, handler, &[object])?;
    }
    let deregistered = host.ndis.driver.lock().deregistered;
    if !deregistered {
        host.finding(
            Rule::UnloadDeregisters,
            None,
            "MiniportDriverUnload returned without NdisMDeregisterMiniportDriver",
        );
    }
    let leaked: Vec<Record> = host.resources.live(|_| true);
    if !leaked.is_empty() {
        host.finding(
            Rule::UnloadLeak,
            None,
            format!("{} object(s) still allocated at unload: {}", leaked.len(), summarize(&leaked)),
        );
    }
    Ok(())
}

/// A short list of records for a finding.
#[must_use]
pub fn summarize(records: &[Record]) -> String {
    let mut parts: Vec<String> = records.iter().take(6).map(ToString::to_string).collect();
    if records.len() > 6 {
        parts.push(format!("and {} more", records.len() - 6));
    }
    parts.join("; ")
}
