//! Debug output, bug checks, time, random numbers, the error log, sleeping and the version.
// Import arguments and results are raw register values; the tests convert them to the C types
// they stand for (truncation and sign changes are the point).
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]

#[path = "kernel_support/mod.rs"]
mod support;

use ndis_host::clock::{EPOCH_FILETIME, PERF_FREQUENCY};
use ndis_host::crash::CrashKind;
use ndis_host::host::thread::{DISPATCH, PASSIVE};
use ndis_host::host::{HostConfig, HostInner, Mode};
use ndis_host::kernel::misc::random_ex;
use ndis_host::kernel::registry::Registry;
use ndis_host::kernel::{ErrorLogEntry, NDIS_VERSION};
use ndis_host::verifier::Rule;
use std::time::{Duration, Instant};
use support::{assert_clean, det, device, drive, fired, kc, p, threaded};

#[test]
fn dbg_print_output_is_formatted_and_captured_line_by_line() {
    let host = det();
    let (idx, _) = device(&host, Registry::new());
    let f1 = c"plain %d and %s\n";
    let f2 = c"%s";
    let text = c"rvmini: two\nlines\n";
    let word = c"words";
    drive(&host, Some(idx), PASSIVE, || {
        kc("DbgPrint", &[p(f1.as_ptr()), 42, p(word.as_ptr())]);
        kc("DbgPrintEx", &[80, 2, p(f2.as_ptr()), p(text.as_ptr())]);
        0
    })
    .unwrap();
    assert_eq!(host.kernel.driver_log(), vec!["plain 42 and words", "rvmini: two", "lines"]);
    let lines = host.kernel.driver_log_lines();
    assert_eq!((lines[0].component, lines[0].level), (None, None));
    assert_eq!((lines[1].component, lines[1].level, lines[1].adapter), (Some(80), Some(2), Some(idx)));
    assert_clean(&host);
}

#[test]
fn ke_bug_check_ex_ends_the_call_with_the_drivers_code() {
    let host = det();
    let r = drive(&host, Some(1), DISPATCH, || kc("KeBugCheckEx", &[0x5256_4D50, 1, 2, 3, 4]));
    assert!(r.is_err());
    let report = host.crash_report().unwrap();
    assert_eq!(report.crash.kind, CrashKind::BugCheck { code: 0x5256_4D50, params: [1, 2, 3, 4] });
    assert_eq!(report.bugcheck(), (0x5256_4D50, [1, 2, 3, 4]));
    assert_eq!(report.adapter, Some(1));
    assert!(host.crashed());
}

#[test]
fn time_counters_follow_the_host_clock() {
    let host = det();
    host.clock.advance_by(12_345);
    let mut freq = 0i64;
    let mut time = 0i64;
    let mut r = [0u64; 2];
    drive(&host, None, DISPATCH, || {
        r[0] = kc("KeQueryPerformanceCounter", &[p(&raw mut freq)]);
        kc("NdisGetCurrentSystemTime", &[p(&raw mut time)]);
        r[1] = kc("KeQueryPerformanceCounter", &[0]);
        0
    })
    .unwrap();
    assert_eq!(freq.cast_unsigned(), PERF_FREQUENCY);
    assert_eq!(r, [12_345, 12_345], "the virtual clock does not move by itself");
    assert_eq!(time.cast_unsigned(), EPOCH_FILETIME + 12_345);
    // Threaded: the counter moves with real time.
    let host = threaded();
    let mut c = [0u64; 2];
    drive(&host, None, PASSIVE, || {
        c[0] = kc("KeQueryPerformanceCounter", &[0]);
        std::thread::sleep(Duration::from_millis(5));
        c[1] = kc("KeQueryPerformanceCounter", &[0]);
        0
    })
    .unwrap();
    assert!(c[1] - c[0] >= 50_000, "{c:?}: 5 ms is 50,000 ticks of 100 ns");
}

#[test]
fn rtl_random_ex_is_a_deterministic_function_of_the_seed() {
    let host = det();
    let mut seed = 12345u32;
    let mut out = Vec::new();
    drive(&host, None, PASSIVE, || {
        for _ in 0..1000 {
            out.push(kc("RtlRandomEx", &[p(&raw mut seed)]) as u32);
        }
        0
    })
    .unwrap();
    assert_eq!(out[0], random_ex(12345));
    assert_eq!(out[1], random_ex(out[0]), "the seed is updated to the returned value");
    assert_eq!(seed, out[999]);
    assert!(out.iter().all(|&v| v < 0x7FFF_FFFF), "range [0, MAXLONG-1]");
    let distinct: std::collections::HashSet<_> = out.iter().collect();
    assert!(distinct.len() > 990);
    assert!(out.iter().any(|&v| v > 0x4000_0000) && out.iter().any(|&v| v < 0x4000_0000));
    // RtlRandomEx is documented for IRQL < DISPATCH_LEVEL.
    drive(&host, None, DISPATCH, || kc("RtlRandomEx", &[p(&raw mut seed)])).unwrap();
    assert_eq!(fired(&host, Rule::CallIrql).len(), 1);
}

#[test]
fn error_log_entries_are_recorded_with_their_values_and_adapter() {
    let host = det();
    let (idx, handle) = device(&host, Registry::new());
    drive(&host, None, DISPATCH, || {
        kc("NdisWriteErrorLogEntry", &[handle, 0xC000_1389, 3, 7, 0xFFFF_FFFF_0000_0008, 9]);
        kc("NdisWriteErrorLogEntry", &[0x1234, 0xC000_138A, 0]);
        0
    })
    .unwrap();
    assert_eq!(
        host.kernel.error_log(),
        vec![
            ErrorLogEntry { adapter: Some(idx), code: 0xC000_1389, values: vec![7, 8, 9] },
            ErrorLogEntry { adapter: None, code: 0xC000_138A, values: vec![] },
        ]
    );
    assert!(host.trace.events().iter().any(|e| e.name.contains("error log entry 0xc0001389")));
    assert_clean(&host);
}

#[test]
fn ndis_m_sleep_advances_virtual_time_or_really_sleeps() {
    let host = det();
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = std::sync::Arc::clone(&calls);
    host.kernel.set_sleep_hook(Some(std::sync::Arc::new(move |_h: &std::sync::Arc<HostInner>| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    })));
    drive(&host, None, PASSIVE, || {
        kc("NdisMSleep", &[1500]);
        kc("NdisMSleep", &[30_000_001]);
        0
    })
    .unwrap();
    assert_eq!(host.clock.now(), 15_000 + 300_000_010);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    let f = fired(&host, Rule::StallMisuse);
    assert_eq!(f.len(), 1, "more than 30 s: {f:#?}");
    drive(&host, None, DISPATCH, || kc("NdisMSleep", &[1])).unwrap();
    assert_eq!(fired(&host, Rule::CallIrql).len(), 1, "NdisMSleep below DISPATCH_LEVEL only");
    let host = threaded();
    let t = Instant::now();
    drive(&host, None, PASSIVE, || kc("NdisMSleep", &[30_000])).unwrap();
    assert!(t.elapsed() >= Duration::from_millis(30));
}

#[test]
fn ndis_get_version_reports_6_82() {
    let host = HostInner::new(HostConfig { mode: Mode::Deterministic { seed: 0 }, ..HostConfig::default() });
    let v = drive(&host, None, DISPATCH, || kc("NdisGetVersion", &[])).unwrap();
    assert_eq!(v as u32, NDIS_VERSION);
    assert_eq!((NDIS_VERSION >> 16, NDIS_VERSION & 0xFFFF), (6, 82));
}
