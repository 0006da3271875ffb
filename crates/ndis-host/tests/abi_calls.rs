//! Host ↔ driver calls through the Win64 bridge: argument passing, register preservation,
//! nesting, threads, stack measurement.

#[path = "abi_support/mod.rs"]
mod support;

use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ndis_host::abi::{self, call_driver};

type Fn12 = extern "win64" fn(u64, u64, u64, u64, u64, u64, u64, u64, u64, u64, u64, u64) -> u64;

fn mix(args: &[u64]) -> u64 {
    args.iter().enumerate().fold(0x9E37_79B9_7F4A_7C15u64, |h, (i, &a)| {
        (h ^ a.wrapping_mul(i as u64 * 2 + 1)).rotate_left(13).wrapping_mul(0x100_0000_01B3)
    })
}

extern "win64" fn driver_take12(
    a0: u64,
    a1: u64,
    a2: u64,
    a3: u64,
    a4: u64,
    a5: u64,
    a6: u64,
    a7: u64,
    a8: u64,
    a9: u64,
    a10: u64,
    a11: u64,
) -> u64 {
    mix(&[a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11])
}

extern "win64" fn driver_take0() -> u64 {
    0xD00D
}

extern "win64" fn driver_take5(a0: u64, a1: u64, a2: u64, a3: u64, a4: u64) -> u64 {
    // Argument 5 is the first stack argument (after the 32-byte home area).
    a0 ^ (a1 << 8) ^ (a2 << 16) ^ (a3 << 24) ^ (a4 << 32)
}

#[test]
fn host_to_driver_arguments_0_to_12() {
    for n in 0..=12 {
        let args: Vec<u64> = (0..n).map(|i| 0x1111_0000_0000_0000 * (i + 1) + i * 3 + 7).collect();
        let mut padded = args.clone();
        padded.resize(12, 0);
        let got = call_driver(addr!(driver_take12), &args).expect("no crash");
        assert_eq!(got, mix(&padded), "{n} arguments");
    }
    assert_eq!(call_driver(addr!(driver_take0), &[]).unwrap(), 0xD00D);
    assert_eq!(
        call_driver(addr!(driver_take5), &[1, 2, 3, 4, 5]).unwrap(),
        1 ^ (2 << 8) ^ (3 << 16) ^ (4 << 24) ^ (5 << 32)
    );
    // Full 64-bit values survive in every position.
    let max: Vec<u64> = (0..12).map(|i| u64::MAX - i).collect();
    assert_eq!(call_driver(addr!(driver_take12), &max).unwrap(), mix(&max));
}

extern "win64" fn driver_calls_import12(thunk: u64, base: u64) -> u64 {
    // SAFETY: `thunk` is an import thunk, callable as a Win64 function of any arity.
    let f: Fn12 = unsafe { std::mem::transmute::<u64, Fn12>(thunk) };
    let r = f(
        base + 1,
        base + 2,
        base + 3,
        base + 4,
        base + 5,
        base + 6,
        base + 7,
        base + 8,
        base + 9,
        base + 10,
        base + 11,
        base + 12,
    );
    r ^ 0xFFFF
}

extern "win64" fn driver_calls_import0(thunk: u64) -> u64 {
    // SAFETY: see above.
    let f: extern "win64" fn() -> u64 = unsafe { std::mem::transmute::<u64, extern "win64" fn() -> u64>(thunk) };
    f() + 1
}

#[test]
fn driver_to_host_arguments_and_return_value() {
    let seen: Arc<Mutex<Vec<Vec<u64>>>> = Arc::default();
    let s = seen.clone();
    let t12 = support::thunk("args12", move |call| {
        let v: Vec<u64> = (0..12).map(|i| call.arg(i)).collect();
        s.lock().unwrap().push(v.clone());
        mix(&v)
    });
    let base = 0xABCD_0000_0000_0000;
    let got = call_driver(addr!(driver_calls_import12), &[t12, base]).unwrap();
    let expect: Vec<u64> = (1..=12).map(|i| base + i).collect();
    assert_eq!(seen.lock().unwrap().as_slice(), std::slice::from_ref(&expect));
    assert_eq!(got, mix(&expect) ^ 0xFFFF);

    let t0 = support::thunk("args0", |_| {
        assert!(abi::is_in_driver_context());
        41
    });
    assert_eq!(call_driver(addr!(driver_calls_import0), &[t0]).unwrap(), 42);
}

#[test]
fn import_call_metadata() {
    let ra = Arc::new(AtomicU64::new(0));
    let r = ra.clone();
    let t = support::thunk("meta", move |call| {
        r.store(call.return_address(), Ordering::SeqCst);
        let (lo, hi) = abi::driver_stack_range();
        assert!(call.stack_pointer() > lo && call.stack_pointer() < hi, "driver RSP on the driver stack");
        assert_eq!(call.va_list(2).as_ptr(), call.stack_pointer() + 8 + 16);
        assert_eq!(call.arg_ptr::<u8>(0) as u64, call.arg(0));
        assert_eq!(call.arg_u32(1), 0x2222_2222);
        0
    });
    call_driver(addr!(driver_calls_import12), &[t, 0x2222_2222 - 2]).unwrap();
    let ret = ra.load(Ordering::SeqCst);
    let f = addr!(driver_calls_import12);
    assert!(ret > f && ret < f + 4096, "return address {ret:#x} inside the calling function at {f:#x}");
}

// ---------------------------------------------------------------------------------------------
// Callee-saved registers across an import thunk.

/// Win64 function: sets every Win64 non-volatile register to a known pattern, calls the thunk in
/// RCX, and returns a bit mask of the registers that did not survive (0 = all preserved).
#[unsafe(naked)]
extern "win64" fn check_callee_saved(thunk: u64) -> u64 {
    core::arch::naked_asm!(
        "push rbx", "push rbp", "push rdi", "push rsi", "push r12", "push r13", "push r14", "push r15",
        "sub rsp, 200",
        "movdqu [rsp + 32], xmm6", "movdqu [rsp + 48], xmm7", "movdqu [rsp + 64], xmm8", "movdqu [rsp + 80], xmm9",
        "movdqu [rsp + 96], xmm10", "movdqu [rsp + 112], xmm11", "movdqu [rsp + 128], xmm12", "movdqu [rsp + 144], xmm13",
        "movdqu [rsp + 160], xmm14", "movdqu [rsp + 176], xmm15",
        "mov rax, rcx",
        "lea r11, [rip + {pat}]",
        "mov rbx, [r11 + 0]", "mov rbp, [r11 + 8]", "mov rdi, [r11 + 16]", "mov rsi, [r11 + 24]",
        "mov r12, [r11 + 32]", "mov r13, [r11 + 40]", "mov r14, [r11 + 48]", "mov r15, [r11 + 56]",
        "movdqu xmm6, [r11 + 64]", "movdqu xmm7, [r11 + 80]", "movdqu xmm8, [r11 + 96]", "movdqu xmm9, [r11 + 112]",
        "movdqu xmm10, [r11 + 128]", "movdqu xmm11, [r11 + 144]", "movdqu xmm12, [r11 + 160]", "movdqu xmm13, [r11 + 176]",
        "movdqu xmm14, [r11 + 192]", "movdqu xmm15, [r11 + 208]",
        "mov rcx, 1", "mov rdx, 2", "mov r8, 3", "mov r9, 4",
        "call rax",
        "xor r10d, r10d",
        "lea r11, [rip + {pat}]",
        "cmp rbx, [r11 + 0]", "je 2f", "or r10, 0x1", "2:",
        "cmp rbp, [r11 + 8]", "je 2f", "or r10, 0x2", "2:",
        "cmp rdi, [r11 + 16]", "je 2f", "or r10, 0x4", "2:",
        "cmp rsi, [r11 + 24]", "je 2f", "or r10, 0x8", "2:",
        "cmp r12, [r11 + 32]", "je 2f", "or r10, 0x10", "2:",
        "cmp r13, [r11 + 40]", "je 2f", "or r10, 0x20", "2:",
        "cmp r14, [r11 + 48]", "je 2f", "or r10, 0x40", "2:",
        "cmp r15, [r11 + 56]", "je 2f", "or r10, 0x80", "2:",
        "movdqu xmm0, [r11 + 64]", "pcmpeqb xmm0, xmm6", "pmovmskb ecx, xmm0", "cmp ecx, 0xffff", "je 2f", "or r10, 0x100", "2:",
        "movdqu xmm0, [r11 + 80]", "pcmpeqb xmm0, xmm7", "pmovmskb ecx, xmm0", "cmp ecx, 0xffff", "je 2f", "or r10, 0x200", "2:",
        "movdqu xmm0, [r11 + 96]", "pcmpeqb xmm0, xmm8", "pmovmskb ecx, xmm0", "cmp ecx, 0xffff", "je 2f", "or r10, 0x400", "2:",
        "movdqu xmm0, [r11 + 112]", "pcmpeqb xmm0, xmm9", "pmovmskb ecx, xmm0", "cmp ecx, 0xffff", "je 2f", "or r10, 0x800", "2:",
        "movdqu xmm0, [r11 + 128]", "pcmpeqb xmm0, xmm10", "pmovmskb ecx, xmm0", "cmp ecx, 0xffff", "je 2f", "or r10, 0x1000", "2:",
        "movdqu xmm0, [r11 + 144]", "pcmpeqb xmm0, xmm11", "pmovmskb ecx, xmm0", "cmp ecx, 0xffff", "je 2f", "or r10, 0x2000", "2:",
        "movdqu xmm0, [r11 + 160]", "pcmpeqb xmm0, xmm12", "pmovmskb ecx, xmm0", "cmp ecx, 0xffff", "je 2f", "or r10, 0x4000", "2:",
        "movdqu xmm0, [r11 + 176]", "pcmpeqb xmm0, xmm13", "pmovmskb ecx, xmm0", "cmp ecx, 0xffff", "je 2f", "or r10, 0x8000", "2:",
        "movdqu xmm0, [r11 + 192]", "pcmpeqb xmm0, xmm14", "pmovmskb ecx, xmm0", "cmp ecx, 0xffff", "je 2f", "or r10, 0x10000", "2:",
        "movdqu xmm0, [r11 + 208]", "pcmpeqb xmm0, xmm15", "pmovmskb ecx, xmm0", "cmp ecx, 0xffff", "je 2f", "or r10, 0x20000", "2:",
        "mov rax, r10",
        "movdqu xmm6, [rsp + 32]", "movdqu xmm7, [rsp + 48]", "movdqu xmm8, [rsp + 64]", "movdqu xmm9, [rsp + 80]",
        "movdqu xmm10, [rsp + 96]", "movdqu xmm11, [rsp + 112]", "movdqu xmm12, [rsp + 128]", "movdqu xmm13, [rsp + 144]",
        "movdqu xmm14, [rsp + 160]", "movdqu xmm15, [rsp + 176]",
        "add rsp, 200",
        "pop r15", "pop r14", "pop r13", "pop r12", "pop rsi", "pop rdi", "pop rbp", "pop rbx",
        "ret",
        pat = sym PATTERN,
    )
}

static PATTERN: [u64; 28] = [
    0x1111_1111_1111_1111,
    0x2222_2222_2222_2222,
    0x3333_3333_3333_3333,
    0x4444_4444_4444_4444,
    0x5555_5555_5555_5555,
    0x6666_6666_6666_6666,
    0x7777_7777_7777_7777,
    0x8888_8888_8888_8888,
    0xA0A0_0606_A0A0_0606,
    0xB0B0_0606_B0B0_0606,
    0xA0A0_0707_A0A0_0707,
    0xB0B0_0707_B0B0_0707,
    0xA0A0_0808_A0A0_0808,
    0xB0B0_0808_B0B0_0808,
    0xA0A0_0909_A0A0_0909,
    0xB0B0_0909_B0B0_0909,
    0xA0A0_1010_A0A0_1010,
    0xB0B0_1010_B0B0_1010,
    0xA0A0_1111_A0A0_1111,
    0xB0B0_1111_B0B0_1111,
    0xA0A0_1212_A0A0_1212,
    0xB0B0_1212_B0B0_1212,
    0xA0A0_1313_A0A0_1313,
    0xB0B0_1313_B0B0_1313,
    0xA0A0_1414_A0A0_1414,
    0xB0B0_1414_B0B0_1414,
    0xA0A0_1515_A0A0_1515,
    0xB0B0_1515_B0B0_1515,
];

/// A deliberately broken "thunk" that clobbers RSI and XMM7: proves the checker detects it.
#[unsafe(naked)]
extern "win64" fn bad_callee() -> u64 {
    core::arch::naked_asm!("xor esi, esi", "pxor xmm7, xmm7", "xor eax, eax", "ret")
}

/// Clobber every SysV caller-saved register that is callee-saved in Win64.
#[inline(never)]
fn clobber_win64_nonvolatiles() {
    // SAFETY: only clobbers registers declared as outputs.
    unsafe {
        core::arch::asm!(
            "mov rdi, -1", "mov rsi, -1",
            "pcmpeqd xmm6, xmm6", "pcmpeqd xmm7, xmm7", "pcmpeqd xmm8, xmm8", "pcmpeqd xmm9, xmm9",
            "pcmpeqd xmm10, xmm10", "pcmpeqd xmm11, xmm11", "pcmpeqd xmm12, xmm12", "pcmpeqd xmm13, xmm13",
            "pcmpeqd xmm14, xmm14", "pcmpeqd xmm15, xmm15",
            "mov r12, -1", "mov r13, -1", "mov r14, -1", "mov r15, -1",
            out("rdi") _, out("rsi") _, out("r12") _, out("r13") _, out("r14") _, out("r15") _,
            out("xmm6") _, out("xmm7") _, out("xmm8") _, out("xmm9") _, out("xmm10") _,
            out("xmm11") _, out("xmm12") _, out("xmm13") _, out("xmm14") _, out("xmm15") _,
        );
    }
}

#[test]
fn callee_saved_registers_survive_an_import_call() {
    let t = support::thunk("clobber", |call| {
        assert_eq!((call.arg(0), call.arg(1), call.arg(2), call.arg(3)), (1, 2, 3, 4));
        // The driver's values are visible to the handler...
        let r = call.registers();
        assert_eq!((r.rbx, r.rsi, r.rdi, r.r15), (PATTERN[0], PATTERN[3], PATTERN[2], PATTERN[7]));
        // ...and the handler (SysV code) is free to destroy RDI/RSI/XMM6-15.
        clobber_win64_nonvolatiles();
        7
    });
    assert_eq!(call_driver(addr!(check_callee_saved), &[t]).unwrap(), 0, "mask of clobbered registers");
    // The checker itself works: a callee that clobbers RSI and XMM7 is caught.
    assert_eq!(call_driver(addr!(check_callee_saved), &[addr!(bad_callee)]).unwrap(), 0x8 | 0x200);
}

// ---------------------------------------------------------------------------------------------
// Nesting: driver → import → driver → import → driver.

static NEST_THUNKS: Mutex<(u64, u64)> = Mutex::new((0, 0));
static D1_RSP: AtomicU64 = AtomicU64::new(0);
static D2_LOCAL: AtomicU64 = AtomicU64::new(0);

extern "win64" fn nest_d1(thunk_a: u64, x: u64) -> u64 {
    let canary = black_box([x, x + 1, x + 2, x + 3]);
    // SAFETY: import thunk.
    let a: extern "win64" fn(u64) -> u64 =
        unsafe { std::mem::transmute::<u64, extern "win64" fn(u64) -> u64>(thunk_a) };
    let r = a(x * 10);
    // Our frame survived the nested driver call below it.
    assert_eq!(black_box(canary), [x, x + 1, x + 2, x + 3]);
    r + 1
}

extern "win64" fn nest_d2(thunk_b: u64, y: u64) -> u64 {
    let local = black_box(y);
    D2_LOCAL.store(std::ptr::from_ref(&local) as u64, Ordering::SeqCst);
    // SAFETY: import thunk.
    let b: extern "win64" fn(u64) -> u64 =
        unsafe { std::mem::transmute::<u64, extern "win64" fn(u64) -> u64>(thunk_b) };
    b(local + 5) * 2
}

extern "win64" fn nest_d3(z: u64) -> u64 {
    z + 1000
}

#[test]
fn nested_calls_depth_3() {
    let thunk_b = support::thunk("nest_b", |call| {
        assert_eq!(abi::driver_call_depth(), 2);
        call_driver(addr!(nest_d3), &[call.arg(0)]).unwrap() + 7
    });
    let thunk_a = support::thunk("nest_a", |call| {
        assert_eq!(abi::driver_call_depth(), 1);
        D1_RSP.store(call.stack_pointer(), Ordering::SeqCst);
        let tb = NEST_THUNKS.lock().unwrap().1;
        let r = call_driver(addr!(nest_d2), &[tb, call.arg(0)]).unwrap();
        assert_eq!(abi::driver_call_depth(), 1);
        r
    });
    *NEST_THUNKS.lock().unwrap() = (thunk_a, thunk_b);
    let x = 3;
    let got = call_driver(addr!(nest_d1), &[thunk_a, x]).unwrap();
    // d3: x*10+5+1000, +7 in handler b, *2 in d2, +1 in d1.
    assert_eq!(got, ((x * 10 + 5 + 1000) + 7) * 2 + 1);
    assert_eq!(abi::driver_call_depth(), 0);
    // The nested driver frame lived on the same driver stack, below the outer driver frame.
    let (lo, hi) = abi::driver_stack_range();
    let (d1, d2) = (D1_RSP.load(Ordering::SeqCst), D2_LOCAL.load(Ordering::SeqCst));
    assert!(d2 > lo && d2 < d1 && d1 < hi, "d2 local {d2:#x} below d1 rsp {d1:#x} within [{lo:#x}, {hi:#x})");
}

// ---------------------------------------------------------------------------------------------

#[test]
fn two_threads_call_concurrently() {
    let t = support::thunk("threads", |call| {
        // Call back into the driver from the handler, on whatever thread we are.
        call_driver(addr!(nest_d3), &[call.arg(0)]).unwrap()
    });
    // Both threads stay alive until both have recorded their stack: a thread that exited
    // first would free its stack, and the other could be given the same addresses.
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
    let workers: Vec<_> = (0..2u64)
        .map(|n| {
            let barrier = std::sync::Arc::clone(&barrier);
            std::thread::spawn(move || {
                let mut ranges = Vec::new();
                for i in 0..2000u64 {
                    let x = n * 1_000_000 + i;
                    let got = call_driver(addr!(nest_d1), &[t, x]).unwrap();
                    // nest_d1 → import (handler: d3(x*10) = x*10 + 1000) → +1
                    assert_eq!(got, x * 10 + 1000 + 1);
                    let args: Vec<u64> = (0..12).map(|k| x ^ k).collect();
                    assert_eq!(call_driver(addr!(driver_take12), &args).unwrap(), mix(&args));
                }
                ranges.push(abi::driver_stack_range());
                barrier.wait();
                ranges
            })
        })
        .collect();
    let ranges: Vec<_> = workers.into_iter().map(|w| w.join().unwrap()[0]).collect();
    assert_ne!(ranges[0], ranges[1], "each thread has its own driver stack");
}

// ---------------------------------------------------------------------------------------------

extern "win64" fn use_stack(bytes: u64) -> u64 {
    let mut buf = [0u8; 8192];
    let n = usize::try_from(bytes).unwrap().min(buf.len());
    for b in buf.iter_mut().take(n) {
        *b = 1;
    }
    black_box(&mut buf);
    buf.iter().map(|&b| u64::from(b)).sum()
}

#[test]
fn stack_high_water_mark() {
    call_driver(addr!(driver_take0), &[]).unwrap();
    assert!(abi::reset_driver_stack_high_water());
    call_driver(addr!(driver_take0), &[]).unwrap();
    let small = abi::max_driver_stack_depth();
    assert!(small > 0 && small < 1024, "trivial call used {small} bytes");
    call_driver(addr!(use_stack), &[8192]).unwrap();
    let big = abi::max_driver_stack_depth();
    assert!((8192..abi::DRIVER_STACK_SIZE).contains(&big), "8 KiB frame used {big} bytes");
    // Reset is refused inside a driver call.
    let t = support::thunk("reset_inside", |_| u64::from(abi::reset_driver_stack_high_water()));
    assert_eq!(call_driver(addr!(driver_calls_import0), &[t]).unwrap(), 1, "false + 1");
}

#[test]
fn kpcr_area_is_reachable_through_gs() {
    #[unsafe(naked)]
    extern "win64" fn read_gs_self() -> u64 {
        core::arch::naked_asm!("mov rax, qword ptr gs:[0x18]", "ret")
    }
    let base = abi::kpcr_base();
    assert_eq!(call_driver(addr!(read_gs_self), &[]).unwrap(), base);
}
