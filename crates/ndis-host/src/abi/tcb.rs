//! The per-thread control block (TCB): guarded driver stack, alternate signal stack, the
//! bookkeeping the assembly bridge reads through the GS segment, and the fake KPCR area.
//!
//! Memory layout of one TCB mapping (`TCB_AREA + KPCR_AREA` bytes, page aligned):
//!
//! ```text
//!   area                          area + TCB_AREA = GS base
//!   |  Tcb (host private, 1 page)  |  fake KPCR area (zeroed, 64 KiB)  |
//! ```
//!
//! The assembly addresses the [`Tcb`] fields with *negative* GS displacements
//! (`gs:[offset_of!(Tcb, f) - TCB_AREA]`), so positive GS offsets stay free for a driver that
//! reads the KPCR (`gs:[0x18]` = KPCR self pointer, `gs:[0x20]` = current PRCB, ...).
//!
//! Ownership: the TCB is created lazily by the first [`super::call_driver`] on a thread and freed
//! by a thread-local destructor when the thread exits. Only its own thread (and signal handlers
//! running on that thread) ever touch it.

use core::cell::{Cell, UnsafeCell};
use core::ptr;

use crate::abi::ThunkFrame;
use crate::crash::Crash;

/// Bytes reserved below the GS base for the [`Tcb`].
pub(crate) const TCB_AREA: usize = 4096;
/// Bytes of zeroed "KPCR" memory at and above the GS base.
pub(crate) const KPCR_AREA: usize = 64 * 1024;
/// Usable driver stack: `KERNEL_STACK_SIZE` on AMD64.
pub(crate) const DRIVER_STACK_SIZE: usize = 0x6000;
/// `PROT_NONE` region directly below the driver stack. Larger than one page so that a frame
/// that skips a few pages without probing still lands in it.
pub(crate) const GUARD_SIZE: usize = 64 * 1024;
/// Read-only zero page above the stack top, so that reading a few argument slots beyond the
/// outermost frame (a va_list, `ImportCall::arg`) never faults.
pub(crate) const SLACK_SIZE: usize = 4096;
/// Alternate signal stack of every thread that runs driver code.
const ALTSTACK_SIZE: usize = 64 * 1024;
/// Fill pattern for the high-water measurement.
pub(crate) const STACK_PATTERN: u64 = 0x57AC_D00D_57AC_D00D;

const ARCH_SET_GS: libc::c_int = 0x1001;
const PAGE: usize = 4096;

/// Conventional x64 KPCR offsets we pre-fill so that `gs:`-relative self lookups work.
const KPCR_SELF: usize = 0x18;
const KPCR_CURRENT_PRCB: usize = 0x20;
const KPCR_PRCB: usize = 0x180;

/// One guarded driver stack mapping.
#[derive(Clone, Copy, Debug)]
pub(crate) struct StackRegion {
    /// Start of the whole mapping (= lowest guard byte).
    pub map_base: usize,
    pub map_len: usize,
    /// Lowest usable byte (= end of the guard region).
    pub bottom: usize,
    /// One past the highest usable byte; the initial RSP of an outermost call.
    pub top: usize,
}

impl StackRegion {
    /// True if `addr` lies in the guard region below the stack.
    pub fn in_guard(&self, addr: u64) -> bool {
        let a = super::usize_of(addr);
        a >= self.map_base && a < self.bottom
    }

    /// True if `addr` lies anywhere in the mapping (guard, stack or slack).
    pub fn in_mapping(&self, addr: u64) -> bool {
        let a = super::usize_of(addr);
        a >= self.map_base && a - self.map_base < self.map_len
    }
}

/// Per-thread state. `#[repr(C)]` because the assembly reads the first fields at fixed offsets.
#[repr(C)]
pub(crate) struct Tcb {
    // ---- read/written by the assembly (see `super::bridge`) ----
    /// Host RSP of the innermost active `enter_driver`; 0 when no driver call is active.
    pub host_rsp: Cell<u64>,
    /// Driver RSP recorded by the innermost import thunk (points at the driver's return address).
    pub driver_rsp: Cell<u64>,
    /// Host RSP of the outermost `enter_driver`: where a crash or `abandon` lands.
    pub abandon_rsp: Cell<u64>,
    /// MXCSR and x87 control word at the outermost call, restored by the landing.
    pub mxcsr: Cell<u32>,
    pub fcw: Cell<u16>,
    /// Driver stack mapping `[stack_lo, stack_lo + stack_len)`: a thunk called with RSP outside
    /// it was not called by driver code.
    pub stack_lo: u64,
    pub stack_len: u64,
    // ---- Rust only ----
    /// Number of active (nested) `call_driver` levels.
    pub depth: Cell<u32>,
    /// Innermost active import frame (host stack), null outside an import handler.
    pub frame: Cell<*const ThunkFrame>,
    /// Crash recorded by the signal handler or `abandon`, taken by the outermost `call_driver`.
    pub pending: UnsafeCell<Option<Crash>>,
    pub stack: StackRegion,
    altstack: (usize, usize),
    /// Base of the TCB+KPCR mapping.
    area: usize,
}

const _: () = assert!(core::mem::size_of::<Tcb>() <= TCB_AREA);

/// GS displacement of a [`Tcb`] field, for the assembly.
#[allow(clippy::cast_possible_wrap)] // both values are below TCB_AREA (4096)
pub(crate) const fn gs_offset(field_offset: usize) -> isize {
    field_offset as isize - TCB_AREA as isize
}

struct Owner(Cell<*mut Tcb>);

impl Drop for Owner {
    fn drop(&mut self) {
        let tcb = self.0.replace(ptr::null_mut());
        if !tcb.is_null() {
            CURRENT.with(|c| c.set(ptr::null()));
            // SAFETY: `tcb` was created by `create()` on this thread, is no longer published in
            // CURRENT, and the thread is exiting: no driver call can be active (a driver call
            // keeps a Rust frame of this thread alive), so nothing references it any more.
            unsafe { destroy(tcb) };
        }
    }
}

thread_local! {
    /// The current thread's TCB, readable from a signal handler (const-initialised, no destructor).
    static CURRENT: Cell<*const Tcb> = const { Cell::new(ptr::null()) };
    /// Owns the TCB and frees it when the thread exits.
    static OWNER: Owner = const { Owner(Cell::new(ptr::null_mut())) };
}

/// The current thread's TCB, or null if this thread never called into the driver.
/// Async-signal-safe.
pub(crate) fn current_ptr() -> *const Tcb {
    CURRENT.with(Cell::get)
}

/// The current thread's TCB, creating it (stacks, GS base, signal handlers) on first use.
///
/// The returned reference is valid until this thread's thread-local destructors run; it must not
/// be sent to another thread (`Tcb` is neither `Send` nor `Sync`).
pub(crate) fn current_or_init() -> &'static Tcb {
    let existing = current_ptr();
    if !existing.is_null() {
        // SAFETY: a non-null CURRENT always points at a live TCB created by `create()`; it is
        // cleared before the TCB is destroyed at thread exit. Only this thread sees it.
        return unsafe { &*existing };
    }
    crate::crash::signal::install();
    let tcb = create().unwrap_or_else(|e| panic!("ndis-host: cannot set up driver stacks: {e}"));
    let registered = OWNER.try_with(|o| o.0.set(tcb)).is_ok();
    assert!(registered, "ndis-host: call_driver used while the thread is exiting");
    CURRENT.with(|c| c.set(tcb));
    // SAFETY: `create()` returned a fully initialised TCB that lives until thread exit.
    unsafe { &*tcb }
}

fn mmap_anon(len: usize, prot: libc::c_int) -> std::io::Result<usize> {
    // SAFETY: anonymous private mapping at a kernel-chosen address; no existing memory affected.
    let p = unsafe {
        libc::mmap(ptr::null_mut(), len, prot, libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE, -1, 0)
    };
    if p == libc::MAP_FAILED { Err(std::io::Error::last_os_error()) } else { Ok(p as usize) }
}

fn mprotect(addr: usize, len: usize, prot: libc::c_int) -> std::io::Result<()> {
    // SAFETY: only called on page ranges inside mappings this module created and still owns.
    let r = unsafe { libc::mprotect(addr as *mut libc::c_void, len, prot) };
    if r == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

fn munmap(addr: usize, len: usize) {
    // SAFETY: only called on whole mappings this module created, once, when nothing uses them.
    unsafe { libc::munmap(addr as *mut libc::c_void, len) };
}

/// Allocate and install a TCB for the current thread.
fn create() -> std::io::Result<*mut Tcb> {
    // Driver stack: [guard | stack | slack].
    let map_len = GUARD_SIZE + DRIVER_STACK_SIZE + SLACK_SIZE;
    let map_base = mmap_anon(map_len, libc::PROT_READ | libc::PROT_WRITE)?;
    let stack = StackRegion {
        map_base,
        map_len,
        bottom: map_base + GUARD_SIZE,
        top: map_base + GUARD_SIZE + DRIVER_STACK_SIZE,
    };
    let guard_ok =
        mprotect(map_base, GUARD_SIZE, libc::PROT_NONE).and_then(|()| mprotect(stack.top, SLACK_SIZE, libc::PROT_READ));
    if let Err(e) = guard_ok {
        munmap(map_base, map_len);
        return Err(e);
    }
    fill_pattern(stack.bottom, stack.top);

    // Alternate signal stack with its own guard page, so a stack overflow on the driver stack
    // can still be handled.
    let alt_len = ALTSTACK_SIZE + PAGE;
    let alt_base = match mmap_anon(alt_len, libc::PROT_READ | libc::PROT_WRITE) {
        Ok(a) => a,
        Err(e) => {
            munmap(map_base, map_len);
            return Err(e);
        }
    };
    let _ = mprotect(alt_base, PAGE, libc::PROT_NONE);
    let ss = libc::stack_t { ss_sp: (alt_base + PAGE) as *mut libc::c_void, ss_flags: 0, ss_size: ALTSTACK_SIZE };
    // SAFETY: `ss` describes a mapping we own that stays alive until `destroy` disables it.
    if unsafe { libc::sigaltstack(&raw const ss, ptr::null_mut()) } != 0 {
        let e = std::io::Error::last_os_error();
        munmap(alt_base, alt_len);
        munmap(map_base, map_len);
        return Err(e);
    }

    // TCB + KPCR area.
    let area = match mmap_anon(TCB_AREA + KPCR_AREA, libc::PROT_READ | libc::PROT_WRITE) {
        Ok(a) => a,
        Err(e) => {
            disable_altstack_if(alt_base + PAGE);
            munmap(alt_base, alt_len);
            munmap(map_base, map_len);
            return Err(e);
        }
    };
    let tcb = area as *mut Tcb;
    // SAFETY: `area` is a fresh, page-aligned, writable mapping of at least size_of::<Tcb>()
    // bytes (checked at compile time), so writing a Tcb there is in bounds and aligned.
    unsafe {
        tcb.write(Tcb {
            host_rsp: Cell::new(0),
            driver_rsp: Cell::new(0),
            abandon_rsp: Cell::new(0),
            mxcsr: Cell::new(0x1F80),
            fcw: Cell::new(0x037F),
            stack_lo: map_base as u64,
            stack_len: map_len as u64,
            depth: Cell::new(0),
            frame: Cell::new(ptr::null()),
            pending: UnsafeCell::new(None),
            stack,
            altstack: (alt_base, alt_len),
            area,
        });
    }
    let gs_base = area + TCB_AREA;
    // SAFETY: the KPCR area is writable and the offsets are far below KPCR_AREA.
    unsafe {
        ((gs_base + KPCR_SELF) as *mut u64).write(gs_base as u64);
        ((gs_base + KPCR_CURRENT_PRCB) as *mut u64).write((gs_base + KPCR_PRCB) as u64);
    }
    // SAFETY: ARCH_SET_GS only changes this thread's GS base. Rust std and glibc use FS for
    // thread-local storage; nothing else in the process uses GS.
    let r = unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_SET_GS, gs_base) };
    if r != 0 {
        let e = std::io::Error::last_os_error();
        // SAFETY: the TCB was fully written above and is not published anywhere yet.
        unsafe { destroy(tcb) };
        return Err(e);
    }
    Ok(tcb)
}

fn disable_altstack_if(sp: usize) {
    let mut cur = libc::stack_t { ss_sp: ptr::null_mut(), ss_flags: 0, ss_size: 0 };
    // SAFETY: querying the alternate stack only writes `cur`.
    if unsafe { libc::sigaltstack(ptr::null(), &raw mut cur) } == 0
        && cur.ss_sp as usize == sp
        && cur.ss_flags & libc::SS_DISABLE == 0
    {
        let off = libc::stack_t { ss_sp: ptr::null_mut(), ss_flags: libc::SS_DISABLE, ss_size: 0 };
        // SAFETY: disabling the alternate stack has no memory effects. We are not running on it
        // (this is ordinary thread code, not a signal handler).
        unsafe { libc::sigaltstack(&raw const off, ptr::null_mut()) };
    }
}

/// Free a TCB and its mappings and clear the GS base.
///
/// # Safety
/// `tcb` must come from `create()` on this thread, must not be published in CURRENT, and no
/// reference to it may be used afterwards.
unsafe fn destroy(tcb: *mut Tcb) {
    // SAFETY: clearing this thread's GS base; the TCB is no longer used by any code.
    unsafe { libc::syscall(libc::SYS_arch_prctl, ARCH_SET_GS, 0usize) };
    // SAFETY: caller guarantees `tcb` is a live, initialised TCB owned by us.
    let (stack, (alt_base, alt_len), area) = unsafe { ((*tcb).stack, (*tcb).altstack, (*tcb).area) };
    disable_altstack_if(alt_base + PAGE);
    // SAFETY: drop the Rust-owned parts (a pending crash) exactly once, then unmap.
    unsafe { ptr::drop_in_place(tcb) };
    munmap(alt_base, alt_len);
    munmap(stack.map_base, stack.map_len);
    munmap(area, TCB_AREA + KPCR_AREA);
}

/// Fill `[lo, hi)` (8-byte aligned) with [`STACK_PATTERN`].
pub(crate) fn fill_pattern(lo: usize, hi: usize) {
    let mut a = lo;
    while a + 8 <= hi {
        // SAFETY: callers pass a range inside this thread's writable driver stack that holds no
        // live frame (no driver call is active below `hi`).
        unsafe { (a as *mut u64).write_volatile(STACK_PATTERN) };
        a += 8;
    }
}

impl Tcb {
    /// Lowest driver-stack address written since the pattern was last filled.
    pub(crate) fn high_water(&self) -> usize {
        let mut a = self.stack.bottom;
        while a < self.stack.top {
            // SAFETY: `[bottom, top)` is this thread's mapped, readable driver stack.
            let v = unsafe { (a as *const u64).read_volatile() };
            if v != STACK_PATTERN {
                return self.stack.top - a;
            }
            a += 8;
        }
        0
    }

    /// Base address of the fake KPCR area (the GS base).
    pub(crate) fn kpcr(&self) -> usize {
        self.area + TCB_AREA
    }

    /// Take the crash recorded by the signal handler or `abandon`.
    pub(crate) fn take_pending(&self) -> Option<Crash> {
        // SAFETY: `pending` is only accessed by this thread: by ordinary code here and in
        // `abandon`, and by the signal handler, which runs only while driver code (not this
        // function) is executing on this thread. No reference into it is held across calls.
        unsafe { (*self.pending.get()).take() }
    }
}
