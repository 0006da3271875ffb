//! The kernel imports against the real rvmini.dll: every kernel-support import it binds is
//! implemented here, the C runtime routines are bound directly, and systematic fault injection
//! (each call site once, sites told apart by unwinding the driver's stack) walks rvmini's
//! initialization failure paths until it passes.
// Import arguments and results are raw register values; the tests convert them to the C types
// they stand for (truncation and sign changes are the point).
#![allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap, clippy::cast_sign_loss)]

#[path = "abi_support/pe.rs"]
#[allow(dead_code)]
mod pe;

use ndis_host::fault::FaultPlan;
use ndis_host::host::{HostConfig, Mode};
use ndis_host::kernel::registry::Registry;
use ndis_host::kernel::resources::Owner;
use ndis_host::loader::{Binding, Image, read_imports};
use ndis_host::sim::Sim;
use std::collections::HashSet;

#[test]
fn every_kernel_support_import_of_rvmini_is_implemented() {
    let bytes = std::fs::read(pe::rvmini_dll()).unwrap();
    let imports = read_imports(&bytes).unwrap();
    let ours: HashSet<(&str, &str)> = ndis_host::kernel::IMPORTS.iter().map(|d| (d.module, d.name)).collect();
    let mut checked = 0;
    for i in &imports {
        let module = i.module.to_ascii_lowercase();
        // The NdisM* miniport calls belong to the NDIS model; everything else is kernel support.
        if module == "ndis.sys" && i.name.starts_with("NdisM") && i.name != "NdisMSleep" {
            continue;
        }
        assert!(
            ours.contains(&(module.as_str(), i.name.as_str())),
            "{}!{} is not in kernel::IMPORTS",
            i.module,
            i.name
        );
        checked += 1;
    }
    assert!(checked >= 35, "{checked} imports checked");
}

#[test]
fn images_call_the_memory_routines_directly() {
    let sim = Sim::new(HostConfig { mode: Mode::Deterministic { seed: 1 }, ..HostConfig::default() });
    let image = sim.load(&pe::rvmini_dll()).unwrap();
    let direct = ndis_host::kernel::direct_bindings();
    let mut seen = 0;
    for b in image.imports() {
        if let Some((_, _, a)) = direct.iter().find(|(m, n, _)| m.eq_ignore_ascii_case(&b.module) && *n == b.name) {
            assert_eq!(b.binding, Binding::Address(*a), "{}", b.name);
            seen += 1;
        } else {
            assert!(matches!(b.binding, Binding::Thunk(_)), "{} {:?}", b.name, b.binding);
        }
    }
    assert!(seen >= 2, "rvmini imports memcpy and memset");
}

/// One run: load, DriverEntry, one adapter's MiniportInitializeEx (halted again if it
/// succeeded). Returns (initialized, failures injected, findings).
fn run(plan: &FaultPlan) -> (bool, Vec<ndis_host::fault::Injection>, Vec<String>, Option<String>) {
    let sim =
        Sim::new(HostConfig { mode: Mode::Deterministic { seed: 3 }, faults: plan.clone(), ..HostConfig::default() });
    let _image: std::sync::Arc<Image> = sim.load(&pe::rvmini_dll()).unwrap();
    let host = sim.host();
    let mut ok = false;
    if matches!(sim.driver_entry(), Ok(0)) {
        let a = sim.add_adapter(Registry::new());
        if matches!(sim.initialize(a), Ok(0)) {
            ok = true;
            sim.halt(a).unwrap();
        } else {
            let left: Vec<_> = host.resources.live(|r| r.owner == Owner::Adapter(a));
            assert!(left.is_empty(), "a failed initialize left {left:#?}");
        }
        let _ = sim.unload();
    }
    let crash = host.crash_report().map(|c| c.to_string());
    let findings = host.verifier.findings().into_iter().map(|f| f.to_string()).collect();
    (ok, host.faults.injected(), findings, crash)
}

#[test]
fn each_site_once_walks_rvmini_initialization_failures_until_it_passes() {
    let (plan, set) = FaultPlan::each_site_once();
    let mut failures = Vec::new();
    let mut passed = false;
    let mut runs = 0;
    for _ in 0..200 {
        runs += 1;
        let (ok, injected, findings, crash) = run(&plan);
        assert!(crash.is_none(), "rvmini crashed after {failures:#?}:\n{}", crash.unwrap_or_default());
        assert!(findings.is_empty(), "after injecting {injected:#?}: {findings:#?}");
        assert!(injected.len() <= 1, "at most one new site per run: {injected:#?}");
        if injected.is_empty() {
            // No site left to fail: the run is the fault-free one.
            passed = ok;
            break;
        }
        failures.extend(injected);
    }
    assert_eq!(set.lock().unwrap().len(), failures.len());
    eprintln!("{runs} runs; failed sites:");
    for f in &failures {
        eprintln!("  {f}");
    }
    assert!(passed, "initialization never passed; injected {failures:#?}");
    let sites: HashSet<_> = failures.iter().map(|i| i.site.clone()).collect();
    assert_eq!(sites.len(), failures.len(), "each site failed once");
    assert!(failures.len() >= 5, "rvmini allocates at several sites: {failures:#?}");
    let pool_sites: Vec<_> = failures.iter().filter(|i| i.api == "ExAllocatePool2").collect();
    assert!(pool_sites.len() >= 3, "{failures:#?}");
    let image = pe::rvmini_dll();
    let image_name = image.file_name().and_then(|n| n.to_str());
    assert!(failures.iter().all(|i| i.site.image.as_deref() == image_name), "{failures:#?}");
    // The unwinder follows rvmini's frames up to the handler NDIS called.
    assert!(failures.iter().any(|i| i.site.frames.len() >= 2), "{failures:#?}");
    let apis: HashSet<&str> = failures.iter().map(|i| i.api).collect();
    for api in ["NdisOpenConfigurationEx", "NdisAllocateNetBufferListPool"] {
        assert!(apis.contains(api), "{api} was failed too: {apis:?}");
    }
}
