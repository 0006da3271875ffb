//! The per-thread driver stack, alternate signal stack and TCB are freed when the thread exits.
//! (Own test binary: nothing else maps memory concurrently that could reuse the range.)

#[path = "abi_support/mod.rs"]
mod support;

use ndis_host::abi::{self, call_driver};

extern "win64" fn ok_fn(x: u64) -> u64 {
    x * 2
}

fn mapped(lo: u64, hi: u64) -> bool {
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    maps.lines().any(|l| {
        let range = l.split_whitespace().next().unwrap();
        let (a, b) = range.split_once('-').unwrap();
        let (a, b) = (u64::from_str_radix(a, 16).unwrap(), u64::from_str_radix(b, 16).unwrap());
        a < hi && lo < b
    })
}

#[test]
fn thread_resources_are_released_on_exit() {
    for _ in 0..20 {
        let (range, kpcr) = std::thread::spawn(|| {
            assert_eq!(call_driver(addr!(ok_fn), &[21]).unwrap(), 42);
            (abi::driver_stack_range(), abi::kpcr_base())
        })
        .join()
        .unwrap();
        assert!(!mapped(range.0, range.1), "driver stack {range:x?} still mapped after thread exit");
        assert!(!mapped(kpcr, kpcr + 1), "TCB/KPCR area still mapped after thread exit");
    }
    // While a thread lives, its stack is mapped.
    let range = abi::driver_stack_range();
    assert!(mapped(range.0, range.1));
}
