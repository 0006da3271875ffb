//! Crashes in driver context: captured, reported, survivable; faults outside driver context
//! keep their normal (fatal) behaviour.

#[path = "abi_support/mod.rs"]
mod support;

use std::hint::black_box;
use std::os::unix::process::ExitStatusExt;
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use ndis_host::abi::{self, call_driver};
use ndis_host::crash::{Access, CrashKind};

extern "win64" fn ok_fn(x: u64) -> u64 {
    x + 1
}

extern "win64" fn recurse(n: u64) -> u64 {
    let mut buf = [0u8; 256];
    buf[usize::try_from(n % 256).unwrap()] = 1;
    black_box(&mut buf);
    if n == 0 { 0 } else { recurse(n - 1) + u64::from(buf[3]) }
}

#[test]
fn stack_overflow_is_reported_and_the_thread_survives() {
    let (lo, hi) = abi::driver_stack_range();
    for _ in 0..3 {
        let crash = call_driver(addr!(recurse), &[1_000_000]).unwrap_err();
        assert_eq!(crash.kind, CrashKind::StackOverflow, "{crash}");
        assert!(crash.rsp >= lo && crash.rsp < hi, "rsp {:#x} in the driver stack mapping", crash.rsp);
        assert_eq!(crash.driver_depth, 1);
        assert!(!abi::is_in_driver_context());
        // The same thread can call the driver again.
        assert_eq!(call_driver(addr!(ok_fn), &[41]).unwrap(), 42);
    }
    assert_eq!(abi::max_driver_stack_depth(), abi::DRIVER_STACK_SIZE);
}

#[unsafe(naked)]
extern "win64" fn write_to(_addr: u64) {
    core::arch::naked_asm!("mov qword ptr [rcx], 1", "ret")
}

#[unsafe(naked)]
extern "win64" fn read_from(_addr: u64) -> u64 {
    core::arch::naked_asm!("mov rax, qword ptr [rcx]", "ret")
}

#[unsafe(naked)]
extern "win64" fn jump_to(_addr: u64) {
    core::arch::naked_asm!("sub rsp, 40", "call rcx", "add rsp, 40", "ret")
}

#[test]
fn null_pointer_write_is_an_access_violation_with_the_address() {
    let crash = call_driver(addr!(write_to), &[0]).unwrap_err();
    assert_eq!(crash.kind, CrashKind::AccessViolation { address: 0, access: Access::Write });
    assert_eq!(crash.rip, addr!(write_to), "faulting instruction is the first of write_to");
    assert_eq!(crash.registers.rcx, 0);
    assert!(crash.to_string().starts_with("access violation writing 0x0 at "), "{crash}");

    let crash = call_driver(addr!(read_from), &[0xdead_0000]).unwrap_err();
    assert_eq!(crash.kind, CrashKind::AccessViolation { address: 0xdead_0000, access: Access::Read });

    let crash = call_driver(addr!(jump_to), &[0x1000]).unwrap_err();
    assert_eq!(crash.kind, CrashKind::AccessViolation { address: 0x1000, access: Access::Execute });
    assert_eq!(crash.rip, 0x1000);

    // Writing to the thread's own read-only slack page above the stack top.
    let (_, hi) = abi::driver_stack_range();
    let crash = call_driver(addr!(write_to), &[hi - 8]).unwrap_err();
    assert_eq!(crash.kind, CrashKind::AccessViolation { address: hi - 8, access: Access::Write });
}

#[unsafe(naked)]
extern "win64" fn do_int3() {
    core::arch::naked_asm!("nop", "int3", "ret")
}

#[unsafe(naked)]
extern "win64" fn do_ud2() {
    core::arch::naked_asm!("ud2")
}

#[unsafe(naked)]
extern "win64" fn do_cli() {
    core::arch::naked_asm!("cli", "ret")
}

#[unsafe(naked)]
extern "win64" fn do_div(_a: u64, _b: u64) -> u64 {
    core::arch::naked_asm!("mov rax, rcx", "xor edx, edx", "div r8", "ret")
}

#[test]
fn other_fault_kinds() {
    let c = call_driver(addr!(do_int3), &[]).unwrap_err();
    assert_eq!(c.kind, CrashKind::Breakpoint);
    assert_eq!(c.rip, addr!(do_int3) + 1, "rip names the int3 itself");

    let c = call_driver(addr!(do_ud2), &[]).unwrap_err();
    assert_eq!((c.kind, c.rip), (CrashKind::IllegalInstruction, addr!(do_ud2)));

    let c = call_driver(addr!(do_cli), &[]).unwrap_err();
    assert_eq!(c.kind, CrashKind::GeneralProtection);

    let c = call_driver(addr!(do_div), &[7, 0, 0]).unwrap_err();
    assert_eq!(c.kind, CrashKind::ArithmeticError);
    assert_eq!(call_driver(addr!(do_div), &[7, 0, 7]).unwrap(), 1);
}

// ---------------------------------------------------------------------------------------------
// abandon() and host panics during nested calls.

static THUNK_B: AtomicU64 = AtomicU64::new(0);
static THUNK_PANIC: AtomicU64 = AtomicU64::new(0);
static EVENTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

extern "win64" fn outer(thunk_a: u64, x: u64) -> u64 {
    // SAFETY: import thunk.
    let a: extern "win64" fn(u64) -> u64 =
        unsafe { std::mem::transmute::<u64, extern "win64" fn(u64) -> u64>(thunk_a) };
    a(x) + 1
}

extern "win64" fn inner(thunk_b: u64, y: u64) -> u64 {
    // SAFETY: import thunk.
    let b: extern "win64" fn(u64) -> u64 =
        unsafe { std::mem::transmute::<u64, extern "win64" fn(u64) -> u64>(thunk_b) };
    b(y) + 1
}

#[test]
fn abandon_from_a_nested_import_handler() {
    let thunk_b = support::thunk("bugcheck", |call| {
        EVENTS.lock().unwrap().push(format!("b depth {}", abi::driver_call_depth()));
        if call.arg(0) == 0x7C {
            abi::abandon(CrashKind::BugCheck { code: 0x7C, params: [1, 2, 3, call.arg(0)] });
        }
        call.arg(0)
    });
    THUNK_B.store(thunk_b, Ordering::SeqCst);
    let thunk_a = support::thunk("nest_then_bugcheck", |call| {
        let r = call_driver(addr!(inner), &[THUNK_B.load(Ordering::SeqCst), call.arg(0)]);
        // Only reached when the nested call did not abandon.
        EVENTS.lock().unwrap().push("a resumed".into());
        r.unwrap()
    });

    let crash = call_driver(addr!(outer), &[thunk_a, 0x7C]).unwrap_err();
    assert_eq!(crash.kind, CrashKind::BugCheck { code: 0x7C, params: [1, 2, 3, 0x7C] });
    assert_eq!(crash.driver_depth, 2);
    let f = addr!(inner);
    assert!(
        crash.rip > f && crash.rip < f + 4096,
        "rip {:#x} is the return address inside `inner` ({f:#x})",
        crash.rip
    );
    assert_eq!(EVENTS.lock().unwrap().as_slice(), ["b depth 2"], "handler a was skipped");
    assert!(!abi::is_in_driver_context());
    assert_eq!(abi::driver_call_depth(), 0);
    assert!(crash.to_string().starts_with("bug check 0x0000007c (0x1, 0x2, 0x3, 0x7c) at "), "{crash}");

    // The thread is fully usable again, including nesting.
    EVENTS.lock().unwrap().clear();
    assert_eq!(call_driver(addr!(outer), &[thunk_a, 5]).unwrap(), 5 + 1 + 1);
    assert_eq!(EVENTS.lock().unwrap().as_slice(), ["b depth 2", "a resumed"]);
}

#[test]
fn a_fault_in_a_nested_driver_call_unwinds_to_the_outermost_call() {
    let t = support::thunk("nest_then_fault", |call| {
        let r = call_driver(addr!(write_to), &[call.arg(0)]);
        panic!("not reached: {r:?}");
    });
    let crash = call_driver(addr!(outer), &[t, 0x8]).unwrap_err();
    assert_eq!(crash.kind, CrashKind::AccessViolation { address: 0x8, access: Access::Write });
    assert_eq!(crash.driver_depth, 2);
    assert_eq!(call_driver(addr!(ok_fn), &[1]).unwrap(), 2);
}

#[test]
fn host_panic_in_an_import_handler() {
    let t = support::thunk("panics", |call| {
        let v = call.arg(0);
        assert!(v < 10, "value {v} too large");
        v
    });
    THUNK_PANIC.store(t, Ordering::SeqCst);
    assert_eq!(call_driver(addr!(outer), &[t, 3]).unwrap(), 4);
    let crash = call_driver(addr!(outer), &[t, 99]).unwrap_err();
    assert_eq!(crash.kind, CrashKind::HostPanic("value 99 too large".into()));
    assert_eq!(call_driver(addr!(outer), &[t, 4]).unwrap(), 5);
}

#[test]
#[should_panic(expected = "outside an import dispatcher")]
fn abandon_outside_a_driver_call_panics() {
    abi::abandon(CrashKind::Fatal("x".into()));
}

// ---------------------------------------------------------------------------------------------
// __chkstk

#[unsafe(naked)]
extern "win64" fn big_frame(_size: u64) -> u64 {
    // Allocate `size` bytes the MSVC way: probe with __chkstk, then sub rsp.
    core::arch::naked_asm!(
        "push rbx",
        "mov rbx, rcx",
        "mov rax, rcx",
        "call qword ptr [rip + {chk}]",
        "sub rsp, rbx",
        "mov qword ptr [rsp], rbx",
        "mov rax, qword ptr [rsp]",
        "add rsp, rbx",
        "pop rbx",
        "ret",
        chk = sym CHKSTK,
    )
}

static CHKSTK: AtomicU64 = AtomicU64::new(0);

#[test]
fn chkstk_probes_and_detects_overflow() {
    let chk = abi::chkstk_address();
    CHKSTK.store(chk, Ordering::SeqCst);
    assert_eq!(call_driver(addr!(big_frame), &[0x3000]).unwrap(), 0x3000);
    let crash = call_driver(addr!(big_frame), &[0x20000]).unwrap_err();
    assert_eq!(crash.kind, CrashKind::StackOverflow);
    assert!(crash.rip >= chk && crash.rip < chk + 64, "fault inside __chkstk");
    assert_eq!(call_driver(addr!(big_frame), &[0x100]).unwrap(), 0x100);
}

// ---------------------------------------------------------------------------------------------
// Faults outside driver context keep their default behaviour (run in a child process).

fn run_child(test: &str) -> std::process::Output {
    Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", test, "--nocapture", "--test-threads=1"])
        .env("NDIS_HOST_CRASH_CHILD", "1")
        .output()
        .unwrap()
}

fn child() -> bool {
    std::env::var_os("NDIS_HOST_CRASH_CHILD").is_some()
}

#[test]
#[ignore = "child process of host_fault_outside_driver_context_is_fatal"]
fn child_host_segfault() {
    if child() {
        call_driver(addr!(ok_fn), &[1]).unwrap(); // installs the handler
        // SAFETY: deliberately faults outside driver context.
        unsafe { core::arch::asm!("mov qword ptr [{p}], 1", p = in(reg) 16usize) };
    }
}

#[test]
#[ignore = "child process of host_stack_overflow_still_reported_by_std"]
fn child_host_stack_overflow() {
    fn deep(n: u64) -> u64 {
        let b = black_box([n; 64]);
        if n == 0 { 0 } else { deep(n - 1) + b[1] }
    }
    if child() {
        call_driver(addr!(ok_fn), &[1]).unwrap();
        std::thread::Builder::new().stack_size(256 * 1024).spawn(|| deep(u64::MAX)).unwrap().join().unwrap();
    }
}

#[test]
#[ignore = "child process of thunk_called_outside_call_driver_aborts"]
fn child_thunk_outside_call_driver() {
    if child() {
        let t = support::thunk("misuse", |_| 0);
        // Give this thread a TCB but call the thunk from plain host code.
        call_driver(addr!(ok_fn), &[1]).unwrap();
        // SAFETY: deliberately misuses a thunk.
        let f: extern "win64" fn() -> u64 = unsafe { std::mem::transmute::<u64, extern "win64" fn() -> u64>(t) };
        f();
    }
}

#[test]
#[ignore = "child process of thunk_called_outside_call_driver_aborts"]
fn child_thunk_from_dispatcher() {
    if child() {
        let inner = support::thunk("misuse_inner", |_| 0);
        let outer = support::thunk("misuse_outer", move |_| {
            // SAFETY: deliberately misuses a thunk from host code.
            let f: extern "win64" fn() -> u64 =
                unsafe { std::mem::transmute::<u64, extern "win64" fn() -> u64>(inner) };
            f()
        });
        call_driver(addr!(outer_calls), &[outer]).unwrap();
    }
}

extern "win64" fn outer_calls(thunk: u64) -> u64 {
    // SAFETY: import thunk.
    let f: extern "win64" fn() -> u64 = unsafe { std::mem::transmute::<u64, extern "win64" fn() -> u64>(thunk) };
    f()
}

#[test]
#[ignore = "child process of thunk_called_outside_call_driver_aborts"]
fn child_thunk_on_fresh_thread() {
    if child() {
        let t = support::thunk("misuse_fresh", |_| 0);
        std::thread::spawn(move || {
            // SAFETY: deliberately misuses a thunk on a thread without a TCB.
            let f: extern "win64" fn() -> u64 = unsafe { std::mem::transmute::<u64, extern "win64" fn() -> u64>(t) };
            f()
        })
        .join()
        .unwrap();
    }
}

#[test]
fn host_fault_outside_driver_context_is_fatal() {
    let out = run_child("child_host_segfault");
    assert_eq!(out.status.signal(), Some(libc::SIGSEGV), "{out:?}");
}

#[test]
fn host_stack_overflow_still_reported_by_std() {
    let out = run_child("child_host_stack_overflow");
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("has overflowed its stack"), "{out:?}");
}

#[test]
fn thunk_called_outside_call_driver_aborts() {
    let out = run_child("child_thunk_outside_call_driver");
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("was called outside driver code"), "{out:?}");

    // From host code inside a dispatcher (depth > 0, but RSP is on the host stack).
    let out = run_child("child_thunk_from_dispatcher");
    assert_eq!(out.status.signal(), Some(libc::SIGABRT), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("was called outside driver code"), "{out:?}");

    let out = run_child("child_thunk_on_fresh_thread");
    assert_eq!(out.status.signal(), Some(libc::SIGSEGV), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not inside abi::call_driver"), "{out:?}");
}
