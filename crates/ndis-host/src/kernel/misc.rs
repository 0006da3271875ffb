//! Debug output, bug checks, time, random numbers, the error log, sleeping, the NDIS version,
//! and the C runtime memory routines: `DbgPrint`, `DbgPrintEx`, `KeBugCheckEx`,
//! `KeQueryPerformanceCounter`, `RtlRandomEx`, `memcpy`, `memmove`, `memset`, `memcmp`,
//! `NdisWriteErrorLogEntry`, `NdisGetCurrentSystemTime`, `NdisMSleep`, `NdisGetVersion`.
//!
//! Notes on what differs from Windows:
//! * `DbgPrintEx` output is captured whatever the component filter mask says (Windows shows
//!   only what `Kd_<component>_Mask` enables); the component and level are kept with the line.
//! * `RtlRandomEx` is a deterministic function of the seed with the documented range
//!   `[0, MAXLONG - 1]`, but not Windows' exact sequence.
//! * `NdisMSleep` really sleeps in threaded mode; in deterministic mode it advances the virtual
//!   clock and calls the sleep hook ([`super::Kernel::set_sleep_hook`]), through which the
//!   scheduler may run other pending work, as other processors would during the wait.
//! * The memory routines copy with `core::ptr` on the raw addresses: no allocation, no lock, no
//!   range validation. Through the dispatcher a bad pointer would fault in host code and end
//!   the process, so images are bound to [`direct_bindings`] instead: the same routines as
//!   plain Win64 functions that run on the driver's stack, where a fault is recognised as a
//!   driver crash (with a crash report) like any other.

use super::dmem;
use crate::abi::{self, ImportCall};
use crate::clock::PERF_FREQUENCY;
use crate::crash::CrashKind;
use crate::host::{HostInner, Mode, thread};
use crate::verifier::Rule;
use std::sync::Arc;
use std::time::Duration;

/// The longest `NdisMSleep` its documentation allows (30 s).
pub const MAX_SLEEP_US: u32 = 30_000_000;
/// At most this many error values are kept per error log entry (the I/O error log packet is
/// limited to `ERROR_LOG_MAXIMUM_SIZE` bytes anyway).
pub const MAX_ERROR_VALUES: u32 = 64;

/// `DbgPrint(Format, ...)`.
pub(crate) fn dbg_print(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let text = abi::format(call.arg_ptr(0), call.va_list(1));
    host.kernel.log_line(None, None, &text);
    0
}

/// `DbgPrintEx(ComponentId, Level, Format, ...)`.
pub(crate) fn dbg_print_ex(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let text = abi::format(call.arg_ptr(2), call.va_list(3));
    host.kernel.log_line(Some(call.arg_u32(0)), Some(call.arg_u32(1)), &text);
    0
}

/// `KeBugCheckEx(BugCheckCode, P1, P2, P3, P4)`: ends the scenario with the driver's bug check.
pub(crate) fn ke_bug_check_ex(_host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    abi::abandon(CrashKind::BugCheck {
        code: call.arg_u32(0),
        params: [call.arg(1), call.arg(2), call.arg(3), call.arg(4)],
    })
}

/// `KeQueryPerformanceCounter(PerformanceFrequency)`: the host clock at 10 MHz.
pub(crate) fn ke_query_performance_counter(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let freq = call.arg(0);
    if freq != 0 {
        dmem::write_u64_or_crash(freq, PERF_FREQUENCY);
    }
    host.clock.now()
}

/// The next `RtlRandomEx` value for `seed`: uniform in `[0, 0x7FFF_FFFE]`.
#[must_use]
pub fn random_ex(seed: u32) -> u32 {
    let mut x = u64::from(seed).wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    u32::try_from(x % 0x7FFF_FFFF).unwrap_or(0)
}

/// `RtlRandomEx(Seed)`: returns the next value and stores it as the new seed.
pub(crate) fn rtl_random_ex(_host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let addr = call.arg(0);
    let seed: u32 = dmem::read_or_crash(addr);
    let v = random_ex(seed);
    dmem::write_u32_or_crash(addr, v);
    u64::from(v)
}

fn ptr_of(v: u64) -> *mut u8 {
    abi::usize_of(v) as *mut u8
}

/// `memcpy(Destination, Source, Count)` (copies like `memmove`: overlapping ranges are safe).
pub(crate) fn memcpy(_host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (d, s, n) = (call.arg(0), call.arg(1), abi::usize_of(call.arg(2)));
    if n != 0 {
        // SAFETY: the driver's contract with memcpy: both ranges are `n` bytes of memory it may
        // access. Not validated (hot path; see the module documentation).
        unsafe { core::ptr::copy(ptr_of(s), ptr_of(d), n) };
    }
    d
}

/// `memmove(Destination, Source, Count)`.
pub(crate) fn memmove(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    memcpy(host, call)
}

/// `memset(Destination, Value, Count)`.
pub(crate) fn memset(_host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (d, n) = (call.arg(0), abi::usize_of(call.arg(2)));
    #[allow(clippy::cast_possible_truncation)] // memset stores the value converted to unsigned char
    let v = call.arg(1) as u8;
    if n != 0 {
        // SAFETY: the driver's contract with memset: `n` writable bytes at `d`.
        unsafe { core::ptr::write_bytes(ptr_of(d), v, n) };
    }
    d
}

fn compare(first: *const u8, second: *const u8, len: usize) -> i32 {
    if len == 0 {
        return 0;
    }
    // SAFETY: the caller's contract: `len` readable bytes at each address.
    let (left, right) = unsafe { (std::slice::from_raw_parts(first, len), std::slice::from_raw_parts(second, len)) };
    match left.iter().zip(right).find(|(l, r)| l != r) {
        Some((l, r)) => i32::from(*l) - i32::from(*r),
        None => 0,
    }
}

/// `memcmp(Buffer1, Buffer2, Count)`.
pub(crate) fn memcmp(_host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (a, b, n) = (call.arg(0), call.arg(1), abi::usize_of(call.arg(2)));
    u64::from(compare(ptr_of(a), ptr_of(b), n).cast_unsigned())
}

unsafe extern "win64" fn direct_memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    if n != 0 {
        // SAFETY: the caller's contract with memcpy; runs on the driver stack, where a fault
        // is a driver crash.
        unsafe { core::ptr::copy(s, d, n) };
    }
    d
}

unsafe extern "win64" fn direct_memset(d: *mut u8, v: i32, n: usize) -> *mut u8 {
    if n != 0 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // C: (unsigned char)v
        // SAFETY: the caller's contract with memset; see `direct_memcpy`.
        unsafe {
            core::ptr::write_bytes(d, v as u8, n);
        }
    }
    d
}

unsafe extern "win64" fn direct_memcmp(a: *const u8, b: *const u8, n: usize) -> i32 {
    compare(a, b, n)
}

/// Routines images are bound to directly (no thunk, no dispatcher): `(module, name, address)`.
/// The host's export table keeps their import ids (and thunks, used by synthetic drivers), but
/// a loaded image calls these.
#[must_use]
pub fn direct_bindings() -> Vec<(&'static str, &'static str, u64)> {
    let cpy = direct_memcpy as *const () as usize as u64;
    vec![
        ("ntoskrnl.exe", "memcpy", cpy),
        ("ntoskrnl.exe", "memmove", cpy),
        ("ntoskrnl.exe", "memset", direct_memset as *const () as usize as u64),
        ("ntoskrnl.exe", "memcmp", direct_memcmp as *const () as usize as u64),
    ]
}

/// One `NdisWriteErrorLogEntry`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorLogEntry {
    /// The adapter whose handle was passed (None for another handle).
    pub adapter: Option<usize>,
    /// `ErrorCode` (an `NDIS_ERROR_CODE_*`).
    pub code: u32,
    /// The `NumberOfErrorValues` ULONG values (at most [`MAX_ERROR_VALUES`]).
    pub values: Vec<u32>,
}

/// `NdisWriteErrorLogEntry(NdisAdapterHandle, ErrorCode, NumberOfErrorValues, ...)`.
pub(crate) fn ndis_write_error_log_entry(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let (handle, code, count) = (call.arg(0), call.arg_u32(1), call.arg_u32(2));
    let mut va = call.va_list(3);
    let mut values = Vec::new();
    for _ in 0..count.min(MAX_ERROR_VALUES) {
        #[allow(clippy::cast_possible_truncation)] // each ULONG travels in an 8-byte slot
        match va.next_u64() {
            Some(v) => values.push(v as u32),
            None => break,
        }
    }
    let adapter = host.ndis.adapter_index(handle);
    host.trace.note(adapter, || format!("error log entry {code:#010x} values {values:x?}"));
    host.kernel.push_error(ErrorLogEntry { adapter, code, values });
    0
}

/// `NdisGetCurrentSystemTime(pSystemTime)`: FILETIME from the host clock.
pub(crate) fn ndis_get_current_system_time(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    dmem::write_u64_or_crash(call.arg(0), host.clock.system_time());
    0
}

/// `NdisMSleep(MicrosecondsToSleep)`.
pub(crate) fn ndis_m_sleep(host: &Arc<HostInner>, call: &ImportCall) -> u64 {
    let us = call.arg_u32(0);
    if us > MAX_SLEEP_US {
        host.finding(
            Rule::StallMisuse,
            thread::adapter(),
            format!("NdisMSleep({us}) from {}: more than 30 s", host.describe(call.return_address())),
        );
    }
    match host.config.mode {
        Mode::Threaded => std::thread::sleep(Duration::from_micros(u64::from(us))),
        Mode::Deterministic { .. } => {
            host.clock.advance_by(u64::from(us) * 10);
            if let Some(hook) = host.kernel.sleep_hook() {
                hook(host);
            }
        }
    }
    0
}

/// `NdisGetVersion()`.
pub(crate) fn ndis_get_version(_host: &Arc<HostInner>, _call: &ImportCall) -> u64 {
    u64::from(super::NDIS_VERSION)
}
