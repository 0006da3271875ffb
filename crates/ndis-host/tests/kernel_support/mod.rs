//! Shared helpers for the kernel-import tests (`#[path]`-included as `support`).
//!
//! Synthetic driver code is a Rust closure run by [`drive`]: the host calls a Win64
//! trampoline through `HostInner::call` (so it runs on the guarded driver stack, at the IRQL and
//! in the handler frame the test chose), and the closure reaches the host only through import
//! thunks ([`kc`]), exactly like image code. Closures must not assert (a panic is caught by the
//! trampoline and re-raised by [`drive`] after the driver call, but state may be half-done):
//! they return or record values, and the test asserts afterwards.
#![allow(dead_code, clippy::missing_panics_doc, clippy::must_use_candidate, clippy::cast_possible_truncation)]

use ndis_host::host::{Abandoned, HostConfig, HostInner, Mode};
use ndis_host::kernel::registry::Registry;
use ndis_host::verifier::{Finding, Rule};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock};

/// Thunk address of every host import by name (the same in every host of the process: ids
/// follow the import table's order).
static THUNKS: LazyLock<HashMap<String, u64>> = LazyLock::new(|| {
    let host = HostInner::new(HostConfig::default());
    host.exports().iter().map(|(_, _, name)| (name.to_owned(), host.thunk_of(name))).collect()
});

trait ThunkOf {
    fn thunk_of(&self, name: &str) -> u64;
}

impl ThunkOf for HostInner {
    fn thunk_of(&self, name: &str) -> u64 {
        ["ntoskrnl.exe", "ndis.sys", "hal.dll"].iter().find_map(|m| self.thunk(m, name)).expect("import exists")
    }
}

/// The thunk of import `name`.
pub fn thunk(name: &str) -> u64 {
    *THUNKS.get(name).unwrap_or_else(|| panic!("no import {name}"))
}

type Win64Fn8 = extern "win64" fn(u64, u64, u64, u64, u64, u64, u64, u64) -> u64;

/// Calls import `name` with up to 8 integer arguments (extra slots are zero; the callee reads
/// only its own). Only from driver code ([`drive`]). Always inlined, so each call site in a
/// test is a distinct driver call site (fault injection tells sites apart by return address).
#[inline(always)]
#[allow(clippy::inline_always)] // see above: call sites must stay distinct
pub fn kc(name: &str, args: &[u64]) -> u64 {
    let mut a = [0u64; 8];
    a[..args.len()].copy_from_slice(args);
    // SAFETY: a thunk is a Win64 function taking integer arguments and returning RAX; passing
    // more arguments than the callee reads is harmless in the Win64 convention (caller cleans).
    let f: Win64Fn8 = unsafe { std::mem::transmute::<u64, Win64Fn8>(thunk(name)) };
    f(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7])
}

thread_local! {
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

type Body<'a> = &'a mut dyn FnMut() -> u64;

extern "win64" fn trampoline(body: u64) -> u64 {
    // SAFETY: `drive` passes a pointer to a live `&mut dyn FnMut() -> u64` for the duration of
    // this call.
    let f = unsafe { &mut *(body as usize as *mut Body<'_>) };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(p) => {
            let msg = p
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| p.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            PANIC.with(|c| *c.borrow_mut() = Some(msg));
            0
        }
    }
}

/// Runs `body` as driver code: handler "Test" for `adapter` at `irql`.
pub fn drive(
    host: &Arc<HostInner>,
    adapter: Option<usize>,
    irql: u8,
    mut body: impl FnMut() -> u64,
) -> Result<u64, Abandoned> {
    let mut r: Body<'_> = &mut body;
    let p = &raw mut r as usize as u64;
    let out = host.call("Test", adapter, irql, trampoline as *const () as usize as u64, &[p]);
    if let Some(msg) = PANIC.with(|c| c.borrow_mut().take()) {
        panic!("driver code panicked: {msg}");
    }
    out
}

/// `f` as an address.
pub fn addr<T>(f: T) -> u64
where
    T: Copy,
{
    assert_eq!(std::mem::size_of::<T>(), 8);
    // SAFETY: only used with function pointers (8 bytes).
    unsafe { std::mem::transmute_copy::<T, u64>(&f) }
}

/// A host in deterministic mode.
pub fn det() -> Arc<HostInner> {
    HostInner::new(HostConfig { mode: Mode::Deterministic { seed: 7 }, ..HostConfig::default() })
}

/// A host in threaded mode.
pub fn threaded() -> Arc<HostInner> {
    HostInner::new(HostConfig::default())
}

/// A test device with `registry`: (adapter index, adapter handle).
pub fn device(host: &HostInner, registry: Registry) -> (usize, u64) {
    let handle = host.handles.next();
    host.ndis.attach_test_device(handle, registry)
}

/// Findings of `rule`.
pub fn fired(host: &HostInner, rule: Rule) -> Vec<Finding> {
    host.verifier.findings().into_iter().filter(|f| f.rule == rule).collect()
}

/// Asserts there is no finding at all.
pub fn assert_clean(host: &HostInner) {
    let f = host.verifier.findings();
    assert!(f.is_empty(), "unexpected findings: {f:#?}");
}

/// `value` as a pointer argument.
pub fn p<T>(value: *const T) -> u64 {
    value as usize as u64
}

/// A UTF-16 `NDIS_STRING` over `units` (which must outlive its use).
pub fn ndis_string(units: &[u16]) -> ndis_sys::UNICODE_STRING {
    let len = u16::try_from(units.len() * 2).unwrap();
    ndis_sys::UNICODE_STRING { Length: len, MaximumLength: len, Buffer: units.as_ptr().cast_mut() }
}

/// UTF-16 of `s`.
pub fn w(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}
