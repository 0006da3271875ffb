//! The MSVC/ntoskrnl printf subset over Win64 va_lists built in host memory.

use ndis_host::abi::{VaList, format, mem};

/// Format with a NUL-terminated copy of `fmt` and the given 8-byte slots.
fn f(fmt: &str, slots: &[u64]) -> String {
    let mut c = fmt.as_bytes().to_vec();
    c.push(0);
    format(c.as_ptr(), VaList::new(slots.as_ptr() as u64))
}

fn p<T>(x: &T) -> u64 {
    std::ptr::from_ref(x) as u64
}

#[test]
fn integers_llp64() {
    // Only the low 32 bits of an int slot are meaningful (the caller may leave garbage above).
    assert_eq!(f("%d %i %u", &[0xDEAD_BEEF_FFFF_FFFB, 0xFFFF_FFFF_0000_0007, 0x1_FFFF_FFFF]), "-5 7 4294967295");
    // `long` is 32 bits on Win64.
    assert_eq!(f("%ld %lu %lx", &[0xFFFF_FFFF_0000_0001, u64::MAX, 0x1234_5678_9ABC_DEF0]), "1 4294967295 9abcdef0");
    assert_eq!(f("%lld %llu", &[u64::MAX, u64::MAX]), "-1 18446744073709551615");
    assert_eq!(
        f("%I64d %I64x %I64X", &[(-42i64).cast_unsigned(), 0xAB_CDEF_0123, 0xAB_CDEF_0123]),
        "-42 abcdef0123 ABCDEF0123"
    );
    assert_eq!(f("%I32x %Ix %zu %Iu", &[0x1_0000_00FF, 0x1_0000_00FF, 1 << 40, 7]), "ff 1000000ff 1099511627776 7");
    assert_eq!(f("%hd %hu %hhd %hhu %hx", &[0x1_8001, 0x12345, 0x1FF, 0x1FF, 0x00AB_CDEF]), "-32767 9029 -1 255 cdef");
    assert_eq!(f("%o %#o %#x %#X %#x", &[8, 8, 255, 255, 0]), "10 010 0xff 0XFF 0");
}

#[test]
fn flags_width_precision() {
    assert_eq!(
        f("[%5d][%-5d][%05d][%+d][% d][%+d]", &[42, 42, 42, 42, 42, (-42i64).cast_unsigned()]),
        "[   42][42   ][00042][+42][ 42][-42]"
    );
    assert_eq!(f("[%.3d][%8.3d][%-8.3x][%.0d][%08.3d]", &[7, 7, 0xa, 0, 5]), "[007][     007][00a     ][][     005]");
    assert_eq!(f("[%05d][%#010x]", &[(-42i64).cast_unsigned(), 0xbeef]), "[-0042][0x0000beef]");
    // `*` width and precision come from the argument list; a negative width left-justifies.
    assert_eq!(
        f("[%*d][%-*d][%*d][%.*d]", &[6, 1, 4, 2, (-4i64).cast_unsigned(), 3, 4, 9]),
        "[     1][2   ][3   ][0009]"
    );
    assert_eq!(f("100%% %q %n", &[]), "100% %q %n");
}

#[test]
fn characters_and_strings() {
    let narrow = b"hello\0";
    let wide: Vec<u16> = "wide é\0".encode_utf16().collect();
    assert_eq!(f("%c%c %wc %C %lc", &[u64::from(b'O'), u64::from(b'K'), 0xE9, 0x263A, 0x41]), "OK é ☺ A");
    assert_eq!(
        f("[%s][%.3s][%7s][%-7s]", &[p(narrow), p(narrow), p(narrow), p(narrow)]),
        "[hello][hel][  hello][hello  ]"
    );
    assert_eq!(
        f("[%S][%ws][%ls][%hs]", &[p(&wide[0]), p(&wide[0]), p(&wide[0]), p(narrow)]),
        "[wide é][wide é][wide é][hello]"
    );
    assert_eq!(f("[%.2ws]", &[p(&wide[0])]), "[wi]");
}

#[test]
fn counted_strings() {
    // UNICODE_STRING { USHORT Length; USHORT MaximumLength; PWSTR Buffer; } — not NUL-terminated.
    #[repr(C)]
    struct CountedString {
        length: u16,
        maximum_length: u16,
        buffer: u64,
    }
    let w: Vec<u16> = "ABCDEFGH".encode_utf16().collect();
    let us = CountedString { length: 8, maximum_length: 16, buffer: p(&w[0]) };
    let a = b"xyz123";
    let ansi = CountedString { length: 3, maximum_length: 6, buffer: p(&a[0]) };
    let empty = CountedString { length: 0, maximum_length: 0, buffer: 0 };
    assert_eq!(f("[%wZ][%Z][%wZ][%wZ]", &[p(&us), p(&ansi), p(&empty), 0]), "[ABCD][xyz][(null)][(null)]");
    let wild = CountedString { length: 8, maximum_length: 8, buffer: 0x18 };
    assert_eq!(f("%wZ", &[p(&wild)]), "<invalid 0x18>");
    assert_eq!(f("%wZ", &[0x20]), "<invalid 0x20>");
}

#[test]
fn floating_point_consumes_its_slot() {
    let d = |v: f64| v.to_bits();
    assert_eq!(
        f("%f|%.2f|%8.3f|%-8.1f|%+.0f|%d", &[d(1.5), d(2.345), d(-3.14259), d(2.25), d(7.0), 9]),
        "1.500000|2.35|  -3.143|2.2     |+7|9"
    );
    assert_eq!(
        f("%e|%.2E|%g|%g|%g|%G|%#g", &[d(1234.5), d(0.000_123), d(0.0001), d(123_456.0), d(1e20), d(2.5e-7), d(1.0)]),
        "1.234500e+03|1.23E-04|0.0001|123456|1e+20|2.5E-07|1.00000"
    );
    assert_eq!(f("%f %f %05.1f", &[d(f64::INFINITY), d(f64::NAN), d(-1.25)]), "inf nan -01.2");
}

#[test]
fn pointers() {
    assert_eq!(f("%p", &[0x1234]), "0000000000001234");
    assert_eq!(f("%p", &[0xFFFF_F780_0000_0000]), "FFFFF78000000000");
}

#[test]
fn wild_pointers_never_crash_the_host() {
    assert_eq!(f("[%s][%ws]", &[0, 0]), "[(null)][(null)]");
    assert_eq!(f("[%s][%ws]", &[0x10, 0xdead_0000]), "[<invalid 0x10>][<invalid 0xdead0000>]");
    // Non-canonical / kernel addresses.
    assert_eq!(f("%s", &[0x8000_0000_0000_0000]), "<invalid 0x8000000000000000>");
    assert_eq!(f("%s", &[0xFFFF_F780_0000_0000]), "<invalid 0xfffff78000000000>");
    // A va_list that points nowhere.
    assert_eq!(format(c"%d|%s".as_ptr().cast(), VaList::new(0x10)), "<bad va_list>0|<bad va_list>(null)");
    // A format string that points nowhere.
    assert_eq!(format(0x10 as *const u8, VaList::new(0)), "<invalid format string 0x10>");
    assert_eq!(format(std::ptr::null(), VaList::new(0)), "(null)");
}

#[test]
fn strings_running_into_a_guard_page_are_truncated() {
    // Two pages; the second is PROT_NONE. Put an unterminated string at the end of the first.
    // SAFETY: fresh anonymous mapping, unmapped at the end.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            8192,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    } as u64;
    // SAFETY: second page of our own mapping.
    assert_eq!(unsafe { libc::mprotect((base + 4096) as *mut libc::c_void, 4096, libc::PROT_NONE) }, 0);
    let s = base + 4096 - 3;
    assert!(mem::write(s, b"abc"));
    assert_eq!(f("[%s]", &[s]), "[abc]");
    let w = base + 4096 - 4;
    assert!(mem::write(w, &[b'h', 0, b'i', 0]));
    assert_eq!(f("[%ws]", &[w]), "[hi]");
    assert!(mem::read_cstr(base + 4096, 10).is_none());
    assert!(!mem::write(base + 4096, b"x"), "writes to a PROT_NONE page are refused");
    // SAFETY: our own mapping, no references remain.
    unsafe { libc::munmap(base as *mut libc::c_void, 8192) };
}
