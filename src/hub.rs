//! The virtual hub that joins the driver's adapters, like an Ethernet hub with one port per
//! adapter.
//!
//! - **Membership.** An adapter joins at the end of MiniportInitializeEx and leaves in
//!   MiniportHaltEx; at most [`MAX_ADAPTERS`] adapters. The member list is protected by the hub
//!   lock (a spin lock), held only to read or change the list.
//! - **Delivery.** The transmit DPC of a sending adapter takes a snapshot of the other members
//!   that are Running ([`Hub::peers`]), with a *hub reference* on each, releases the hub lock,
//!   and delivers to them (see `datapath::send`). A peer's halt waits until no hub reference to
//!   it remains ([`wait_for_deliveries`]), so a snapshot never points at freed memory; whether a
//!   peer may *indicate* is decided separately by its own lifecycle gate.
//! - **Link state.** An adapter's link is up when at least one other adapter is on the hub (a
//!   cable to a hub nobody else uses has no link partner). The state NDIS was told
//!   (general attributes at initialization, then `NDIS_STATUS_LINK_STATE` indications) is kept
//!   per member; when membership changes, every member whose desired state differs is told,
//!   outside the hub lock and under a hub reference. A member is told only once it has been
//!   restarted at least once (NDIS accepts no status indication before MiniportInitializeEx
//!   returns) and not after a surprise removal; the first restart reconciles.

use crate::adapter::Adapter;
use crate::ndis::oid::Zeroed;
use crate::ndis::sync::{Guard, SpinLock};
use crate::ndis::{Irql, header, sys};
use core::cell::UnsafeCell;
use core::ptr;
use core::sync::atomic::{AtomicU32, Ordering};
use rvmini_core::lifecycle::State;

/// The most adapters the hub joins.
pub const MAX_ADAPTERS: usize = 32;

/// The hub already joins [`MAX_ADAPTERS`] adapters.
#[derive(Debug)]
pub struct HubFull;
/// The most peers one adapter delivers to.
pub const MAX_PEERS: usize = MAX_ADAPTERS - 1;

/// An adapter's place on the hub.
pub struct Membership {
    links: UnsafeCell<Links>,
    /// Hub references to this adapter held outside the hub lock.
    refs: AtomicU32,
}

#[derive(Clone, Copy)]
struct Links {
    next: *const Adapter,
    prev: *const Adapter,
    /// On the member list.
    linked: bool,
    /// May receive status indications.
    ready: bool,
    /// The link state NDIS was last told: connected.
    reported: bool,
}

/// The member list.
pub struct List {
    head: *const Adapter,
    count: usize,
}

// SAFETY: the list only holds addresses of adapters that are members; it is reached only under
// the hub lock.
unsafe impl Send for List {}

/// The hub.
pub struct Hub {
    list: SpinLock<List>,
}

/// The driver's one hub. Its lock is allocated in DriverEntry and freed in MiniportDriverUnload.
pub static HUB: Hub = Hub { list: SpinLock::new(List { head: ptr::null(), count: 0 }) };

impl Membership {
    /// The links of a member, reachable only while the hub lock is held.
    #[allow(clippy::mut_from_ref)]
    fn links<'g>(&self, _hub_locked: &'g Guard<'_, List>) -> &'g mut Links {
        // SAFETY: the guard proves the hub lock is held, and callers never hold two references
        // to the links of the same adapter.
        unsafe { &mut *self.links.get() }
    }
}

/// Adapters whose link state must be indicated once the hub lock is released, each with a hub
/// reference.
struct Notices {
    list: [(*const Adapter, bool); MAX_ADAPTERS],
    len: usize,
}

impl Notices {
    fn new() -> Self {
        Self { list: [(ptr::null(), false); MAX_ADAPTERS], len: 0 }
    }

    fn push(&mut self, a: &Adapter, connected: bool) {
        if let Some(slot) = self.list.get_mut(self.len) {
            a.member.refs.fetch_add(1, Ordering::AcqRel);
            *slot = (ptr::from_ref(a), connected);
            self.len = self.len.saturating_add(1);
        }
    }

    /// Indicates each notice (PASSIVE or ≤ DISPATCH, no lock held) and drops its reference.
    fn deliver(self) {
        for &(a, connected) in self.list.iter().take(self.len) {
            // SAFETY: `push` took a hub reference, so the adapter has not been freed.
            let a = unsafe { &*a };
            indicate_link(a, connected);
            a.member.refs.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

impl Hub {
    /// Allocates the hub lock (DriverEntry).
    ///
    /// # Safety
    /// Called once, before any adapter exists.
    pub unsafe fn allocate(&self) {
        // SAFETY: per the contract the lock is unused.
        unsafe { self.list.allocate() };
    }

    /// Frees the hub lock (MiniportDriverUnload).
    ///
    /// # Safety
    /// Every adapter has been halted.
    pub unsafe fn free(&self) {
        // SAFETY: per the contract the lock is idle.
        unsafe { self.list.free() };
    }

    /// True if any adapter is a member.
    pub fn has_members(&self) -> bool {
        self.list.lock().count != 0
    }

    /// Walks the members, calling `f` with each and the lock guard.
    fn for_each(guard: &Guard<'_, List>, mut f: impl FnMut(&Adapter)) {
        let mut cursor = guard.head;
        while let Some(a) = {
            // SAFETY: every address on the list is a live member (members leave the list,
            // under this lock, before they are freed).
            unsafe { cursor.as_ref() }
        } {
            cursor = a.member.links(guard).next;
            f(a);
        }
    }

    /// Collects the members whose desired link state differs from what they were told.
    fn changed_links(guard: &Guard<'_, List>, notices: &mut Notices) {
        let connected = guard.count >= 2;
        Self::for_each(guard, |a| {
            let links = a.member.links(guard);
            if links.ready && links.reported != connected {
                links.reported = connected;
                notices.push(a, connected);
            }
        });
    }

    /// Adds `a` (end of MiniportInitializeEx). `connected` is the link state its general
    /// attributes reported. Fails if the hub is full.
    pub fn join(&self, a: &Adapter, connected: bool) -> Result<(), HubFull> {
        let mut notices = Notices::new();
        {
            let mut guard = self.list.lock();
            if guard.count >= MAX_ADAPTERS {
                return Err(HubFull);
            }
            let head = guard.head;
            *a.member.links(&guard) =
                Links { next: head, prev: ptr::null(), linked: true, ready: false, reported: connected };
            // SAFETY: `head` is null or a live member (see `for_each`).
            if let Some(h) = unsafe { head.as_ref() } {
                h.member.links(&guard).prev = ptr::from_ref(a);
            }
            guard.head = ptr::from_ref(a);
            guard.count = guard.count.saturating_add(1);
            Self::changed_links(&guard, &mut notices);
        }
        notices.deliver();
        Ok(())
    }

    /// Removes `a` (MiniportHaltEx, or a failed initialization). Idempotent.
    pub fn leave(&self, a: &Adapter) {
        let mut notices = Notices::new();
        {
            let mut guard = self.list.lock();
            let links = *a.member.links(&guard);
            if !links.linked {
                return;
            }
            // SAFETY: neighbours on the list are live members.
            match unsafe { links.prev.as_ref() } {
                Some(p) => p.member.links(&guard).next = links.next,
                None => guard.head = links.next,
            }
            // SAFETY: as above.
            if let Some(n) = unsafe { links.next.as_ref() } {
                n.member.links(&guard).prev = links.prev;
            }
            *a.member.links(&guard) =
                Links { next: ptr::null(), prev: ptr::null(), linked: false, ready: false, reported: false };
            guard.count = guard.count.saturating_sub(1);
            Self::changed_links(&guard, &mut notices);
        }
        notices.deliver();
    }

    /// MiniportRestart: `a` may receive status indications from now on; tell it its link
    /// state if that changed while it could not be told.
    pub fn reconcile(&self, a: &Adapter) {
        let mut notices = Notices::new();
        {
            let guard = self.list.lock();
            let connected = guard.count >= 2;
            let links = a.member.links(&guard);
            if links.linked {
                links.ready = true;
                if links.reported != connected {
                    links.reported = connected;
                    notices.push(a, connected);
                }
            }
        }
        notices.deliver();
    }

    /// Surprise removal: `a` receives no more status indications.
    pub fn mark_gone(&self, a: &Adapter) {
        let guard = self.list.lock();
        a.member.links(&guard).ready = false;
    }

    /// The link state last reported for `a`.
    pub fn link_reported(&self, a: &Adapter) -> bool {
        let guard = self.list.lock();
        a.member.links(&guard).reported
    }

    /// The Running members other than `sender`, each with a hub reference (released when the
    /// returned [`Peers`] is dropped).
    pub fn peers(&self, sender: &Adapter, irql: Irql) -> Peers {
        let mut peers = Peers { list: [ptr::null(); MAX_PEERS], len: 0 };
        let guard = self.list.lock_at(irql);
        Self::for_each(&guard, |a| {
            if ptr::eq(a, sender) || a.life.state() != State::Running {
                return;
            }
            if let Some(slot) = peers.list.get_mut(peers.len) {
                a.member.refs.fetch_add(1, Ordering::AcqRel);
                *slot = ptr::from_ref(a);
                peers.len = peers.len.saturating_add(1);
            }
        });
        peers
    }
}

/// A snapshot of delivery targets, each held by a hub reference.
pub struct Peers {
    list: [*const Adapter; MAX_PEERS],
    len: usize,
}

impl Peers {
    /// The peers.
    pub fn iter(&self) -> impl Iterator<Item = &Adapter> {
        // SAFETY: each address carries a hub reference taken in `Hub::peers`, so the adapter
        // stays allocated until `self` is dropped.
        self.list.iter().take(self.len).map(|a| unsafe { &**a })
    }
}

impl Drop for Peers {
    fn drop(&mut self) {
        for a in self.iter() {
            a.member.refs.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// Waits (PASSIVE_LEVEL, after leaving the hub) until no hub reference to `a` remains.
pub fn wait_for_deliveries(a: &Adapter) {
    while a.member.refs.load(Ordering::Acquire) != 0 {
        // SAFETY: NdisMSleep is callable at PASSIVE_LEVEL, which MiniportHaltEx runs at.
        unsafe { sys::NdisMSleep(50) };
    }
}

/// The `NDIS_LINK_STATE` of a connected (full duplex at [`LINK_SPEED_BPS`]) or disconnected
/// (speed and duplex unknown) virtual link, revision 1, built in zeroed memory: what
/// `NDIS_STATUS_LINK_STATE` indications carry and OID_GEN_LINK_STATE answers.
///
/// [`LINK_SPEED_BPS`]: crate::adapter::LINK_SPEED_BPS
#[must_use]
pub fn link_state(connected: bool) -> Zeroed<sys::NDIS_LINK_STATE> {
    let speed = if connected { crate::adapter::LINK_SPEED_BPS } else { sys::NDIS_LINK_SPEED_UNKNOWN };
    // SAFETY: all-zero is a valid NDIS_LINK_STATE.
    let mut state = unsafe { Zeroed::<sys::NDIS_LINK_STATE>::new() };
    let s = state.as_mut_ptr();
    // SAFETY: `s` points to our zeroed NDIS_LINK_STATE; the writes go to its fields only
    // (padding untouched, stays zero).
    unsafe {
        (*s).Header = header(
            sys::NDIS_OBJECT_TYPE_DEFAULT,
            sys::NDIS_LINK_STATE_REVISION_1,
            sys::NDIS_SIZEOF_LINK_STATE_REVISION_1,
        );
    }
    // SAFETY: as above.
    unsafe {
        (*s).MediaConnectState =
            if connected { sys::MediaConnectStateConnected } else { sys::MediaConnectStateDisconnected }
    };
    // SAFETY: as above.
    unsafe { (*s).MediaDuplexState = if connected { sys::MediaDuplexStateFull } else { sys::MediaDuplexStateUnknown } };
    // SAFETY: as above.
    unsafe { (*s).XmitLinkSpeed = speed };
    // SAFETY: as above.
    unsafe { (*s).RcvLinkSpeed = speed };
    // SAFETY: as above.
    unsafe { (*s).PauseFunctions = sys::NdisPauseFunctionsUnsupported };
    state
}

/// Indicates `NDIS_STATUS_LINK_STATE` on `a` (≤ DISPATCH_LEVEL, no lock held).
pub fn indicate_link(a: &Adapter, connected: bool) {
    let mut state = link_state(connected);
    // SAFETY: all-zero is a valid NDIS_STATUS_INDICATION.
    let mut indication: sys::NDIS_STATUS_INDICATION = unsafe { core::mem::zeroed() };
    indication.Header = header(
        sys::NDIS_OBJECT_TYPE_STATUS_INDICATION,
        sys::NDIS_STATUS_INDICATION_REVISION_1,
        sys::NDIS_SIZEOF_STATUS_INDICATION_REVISION_1,
    );
    indication.SourceHandle = a.handle;
    indication.PortNumber = sys::NDIS_DEFAULT_PORT_NUMBER;
    indication.StatusCode = sys::NDIS_STATUS_LINK_STATE;
    indication.StatusBuffer = state.as_mut_ptr().cast();
    indication.StatusBufferSize = u32::try_from(core::mem::size_of::<sys::NDIS_LINK_STATE>()).unwrap_or(0);
    crate::log!(Info, "adapter {:p}: link {}", a.handle, if connected { "up" } else { "down" });
    // SAFETY: the indication and the link state it points to are valid for the call; `a` is
    // live (hub reference or its own handler).
    unsafe { sys::NdisMIndicateStatusEx(a.handle, &raw mut indication) };
}
