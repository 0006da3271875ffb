//! The MSVC / ntoskrnl `printf` subset drivers use (`DbgPrint`, `DbgPrintEx`, `vDbgPrintEx`,
//! `RtlStringCbPrintfA` …), reading arguments from a Win64 [`VaList`].
//!
//! Supported: conversions `d i u x X o c C s S Z p %` and `f F e E g G` (a double in its
//! 8-byte slot; `%a` is printed in `%e` form); flags `- + space 0 #`; width and precision,
//! including `*`; length modifiers `hh h l ll w I I32 I64 z j t`. Win64 is LLP64: `long` is 32
//! bits, so `%ld`/`%lx` read 32 bits and `%lld`/`%I64x`/`%zx`/`%Ix` read 64. `%s` is a narrow
//! string (`%ls`/`%ws`/`%S` wide), `%c` a narrow character (`%lc`/`%wc`/`%C` wide), `%Z` an
//! `ANSI_STRING*` and `%wZ` a `UNICODE_STRING*`. `%p` prints 16 upper-case hex digits like MSVC.
//! `%n` is never executed (printed literally).
//!
//! All driver memory (the format string, string arguments, the va_list itself) is read with the
//! fault-tolerant readers of [`super::mem`]: a wild pointer prints `<invalid 0x…>` and never
//! crashes the host. Strings are capped at [`super::mem::STRING_CAP`] bytes/units, widths and
//! precisions at 4096, the result at 64 KiB.

use super::VaList;
use super::mem;

const MAX_FIELD: usize = 4096;
const MAX_OUTPUT: usize = 64 * 1024;

/// Format the driver's format string at `fmt` with arguments from `args`.
#[must_use]
pub fn format(fmt: *const u8, args: VaList) -> String {
    match mem::read_cstr(fmt as usize as u64, mem::STRING_CAP) {
        Some(f) => format_bytes(&f, args),
        None if fmt.is_null() => "(null)".to_owned(),
        None => format!("<invalid format string {:#x}>", fmt as usize),
    }
}

#[derive(Default, Clone, Copy)]
#[allow(clippy::struct_excessive_bools)] // the C flag characters
struct Spec {
    left: bool,
    plus: bool,
    space: bool,
    zero: bool,
    alt: bool,
    width: usize,
    precision: Option<usize>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Len {
    Default,
    Char,
    Short,
    Long,
    LongLong,
    Wide,
    Bits32,
    Bits64,
}

/// Format a host-side format string (already copied) with arguments from `args`.
#[must_use]
// Truncating casts implement C's argument conversions (`int` from a 64-bit slot, `%c` …).
#[allow(clippy::too_many_lines, clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
pub fn format_bytes(fmt: &[u8], mut args: VaList) -> String {
    let mut out = String::new();
    let mut i = 0;
    let mut next = |out: &mut String| -> u64 {
        args.next_u64().unwrap_or_else(|| {
            out.push_str("<bad va_list>");
            0
        })
    };
    while i < fmt.len() && out.len() < MAX_OUTPUT {
        let b = fmt[i];
        if b != b'%' {
            let start = i;
            while i < fmt.len() && fmt[i] != b'%' {
                i += 1;
            }
            out.push_str(&String::from_utf8_lossy(&fmt[start..i]));
            continue;
        }
        let spec_start = i;
        i += 1;
        let mut s = Spec::default();
        while let Some(&c) = fmt.get(i) {
            match c {
                b'-' => s.left = true,
                b'+' => s.plus = true,
                b' ' => s.space = true,
                b'0' => s.zero = true,
                b'#' => s.alt = true,
                _ => break,
            }
            i += 1;
        }
        if fmt.get(i) == Some(&b'*') {
            i += 1;
            let w = i64::from(next(&mut out) as u32 as i32);
            if w < 0 {
                s.left = true;
            }
            s.width = usize::try_from(w.unsigned_abs()).unwrap_or(MAX_FIELD).min(MAX_FIELD);
        } else {
            s.width = parse_num(fmt, &mut i);
        }
        if fmt.get(i) == Some(&b'.') {
            i += 1;
            if fmt.get(i) == Some(&b'*') {
                i += 1;
                let p = next(&mut out) as u32 as i32;
                s.precision = usize::try_from(p).ok().map(|p| p.min(MAX_FIELD));
            } else {
                s.precision = Some(parse_num(fmt, &mut i));
            }
        }
        let rest = &fmt[i..];
        let (len, skip) = if rest.starts_with(b"I64") {
            (Len::Bits64, 3)
        } else if rest.starts_with(b"I32") {
            (Len::Bits32, 3)
        } else if rest.starts_with(b"hh") {
            (Len::Char, 2)
        } else if rest.starts_with(b"ll") {
            (Len::LongLong, 2)
        } else {
            match rest.first() {
                Some(b'h') => (Len::Short, 1),
                Some(b'l') => (Len::Long, 1),
                Some(b'w') => (Len::Wide, 1),
                Some(b'I' | b'z' | b'j' | b't') => (Len::Bits64, 1),
                _ => (Len::Default, 0),
            }
        };
        i += skip;
        let Some(&conv) = fmt.get(i) else {
            out.push_str(&String::from_utf8_lossy(&fmt[spec_start..]));
            break;
        };
        i += 1;
        let bits = match len {
            Len::Char => 8,
            Len::Short => 16,
            Len::LongLong | Len::Bits64 => 64,
            _ => 32,
        };
        match conv {
            b'd' | b'i' => {
                let v = sign_extend(next(&mut out), bits);
                let sign = if v < 0 {
                    "-"
                } else if s.plus {
                    "+"
                } else if s.space {
                    " "
                } else {
                    ""
                };
                pad_number(&mut out, &s, sign, "", &v.unsigned_abs().to_string());
            }
            b'u' | b'x' | b'X' | b'o' => {
                let v = truncate(next(&mut out), bits);
                let (digits, prefix) = match conv {
                    b'u' => (v.to_string(), ""),
                    b'x' => (format!("{v:x}"), if s.alt && v != 0 { "0x" } else { "" }),
                    b'X' => (format!("{v:X}"), if s.alt && v != 0 { "0X" } else { "" }),
                    _ => (format!("{v:o}"), if s.alt && v != 0 { "0" } else { "" }),
                };
                pad_number(&mut out, &s, "", prefix, &digits);
            }
            b'p' => {
                let v = next(&mut out);
                let text = format!("{v:016X}");
                pad_text(&mut out, &Spec { precision: None, ..s }, &text);
            }
            b'c' | b'C' => {
                let v = next(&mut out);
                let wide = matches!(len, Len::Long | Len::Wide) || (conv == b'C' && len != Len::Short);
                let ch = if wide {
                    char::decode_utf16([v as u16]).next().and_then(Result::ok).unwrap_or('\u{FFFD}')
                } else {
                    char::from(v as u8)
                };
                pad_text(&mut out, &Spec { precision: None, ..s }, ch.encode_utf8(&mut [0; 4]));
            }
            b's' | b'S' => {
                let p = next(&mut out);
                let wide = matches!(len, Len::Long | Len::Wide) || (conv == b'S' && len != Len::Short);
                let cap = s.precision.unwrap_or(mem::STRING_CAP).min(mem::STRING_CAP);
                let text = if p == 0 {
                    "(null)".to_owned()
                } else if wide {
                    mem::read_wstr(p, cap).map_or_else(|| invalid(p), |w| String::from_utf16_lossy(&w))
                } else {
                    mem::read_cstr(p, cap).map_or_else(|| invalid(p), |b| String::from_utf8_lossy(&b).into_owned())
                };
                pad_text(&mut out, &s, &text);
            }
            b'Z' => {
                let p = next(&mut out);
                let text =
                    if p == 0 { "(null)".to_owned() } else { counted_string(p, len == Len::Wide || len == Len::Long) };
                pad_text(&mut out, &s, &text);
            }
            b'f' | b'F' | b'e' | b'E' | b'g' | b'G' | b'a' | b'A' => {
                // A double travels in an integer slot of a Win64 va_list.
                let v = f64::from_bits(next(&mut out));
                let sign = if v.is_sign_negative() && !v.is_nan() {
                    "-"
                } else if s.plus {
                    "+"
                } else if s.space {
                    " "
                } else {
                    ""
                };
                let text = format_float(v.abs(), conv, s.precision, s.alt);
                let zero = s.zero && v.is_finite();
                pad_number(&mut out, &Spec { precision: None, zero, ..s }, sign, "", &text);
            }
            b'%' => out.push('%'),
            _ => {
                // Unknown conversion or %n: print the specification literally, consume nothing.
                out.push_str(&String::from_utf8_lossy(&fmt[spec_start..i]));
            }
        }
    }
    out
}

/// `%f %e %g` (and upper-case forms) of a non-negative value, C style. `%a` is printed as `%e`.
fn format_float(v: f64, conv: u8, precision: Option<usize>, alt: bool) -> String {
    let upper = conv.is_ascii_uppercase();
    let text = if v.is_nan() {
        "nan".to_owned()
    } else if v.is_infinite() {
        "inf".to_owned()
    } else {
        let p = precision.unwrap_or(6).min(64);
        match conv.to_ascii_lowercase() {
            b'f' => {
                let mut t = format!("{v:.p$}");
                if alt && p == 0 {
                    t.push('.');
                }
                t
            }
            b'g' => {
                let p = p.max(1);
                let exp = c_exponent(v, p - 1);
                let mut t = if exp < -4 || exp >= i64::try_from(p).unwrap_or(i64::MAX) {
                    c_exp_form(v, p - 1)
                } else {
                    let frac = usize::try_from(i64::try_from(p).unwrap_or(0) - 1 - exp).unwrap_or(0);
                    format!("{v:.frac$}")
                };
                if !alt {
                    t = strip_fraction_zeros(&t);
                }
                t
            }
            _ => c_exp_form(v, p),
        }
    };
    if upper { text.to_ascii_uppercase() } else { text }
}

/// Decimal exponent of `v` once rounded to `p` fractional digits in exponent form.
fn c_exponent(v: f64, p: usize) -> i64 {
    let e = format!("{v:.p$e}");
    e.rsplit_once('e').and_then(|(_, x)| x.parse().ok()).unwrap_or(0)
}

/// `d.ddde±XX` with at least two exponent digits.
fn c_exp_form(v: f64, p: usize) -> String {
    let e = format!("{v:.p$e}");
    match e.rsplit_once('e') {
        Some((mant, exp)) => {
            let x: i64 = exp.parse().unwrap_or(0);
            format!("{mant}e{}{:02}", if x < 0 { '-' } else { '+' }, x.unsigned_abs())
        }
        None => e,
    }
}

/// Remove trailing zeros of the fraction (and a trailing point), keeping any exponent.
fn strip_fraction_zeros(t: &str) -> String {
    let (num, exp) = t.find('e').map_or((t, ""), |i| t.split_at(i));
    let num = if num.contains('.') { num.trim_end_matches('0').trim_end_matches('.') } else { num };
    format!("{num}{exp}")
}

fn invalid(p: u64) -> String {
    format!("<invalid {p:#x}>")
}

/// `UNICODE_STRING` / `ANSI_STRING`: `USHORT Length; USHORT MaximumLength; PVOID Buffer` (Buffer
/// at offset 8 on x64). `Length` is in bytes.
fn counted_string(p: u64, wide: bool) -> String {
    let (Some(length), Some(buffer)) = (mem::read_u16(p), mem::read_u64(p + 8)) else {
        return invalid(p);
    };
    if buffer == 0 {
        return "(null)".to_owned();
    }
    let length = usize::from(length);
    if wide {
        mem::read_u16s(buffer, length / 2).map_or_else(|| invalid(buffer), |w| String::from_utf16_lossy(&w))
    } else {
        let mut b = vec![0u8; length];
        if mem::read(buffer, &mut b) { String::from_utf8_lossy(&b).into_owned() } else { invalid(buffer) }
    }
}

fn parse_num(fmt: &[u8], i: &mut usize) -> usize {
    let mut v = 0usize;
    while let Some(&c) = fmt.get(*i) {
        if !c.is_ascii_digit() {
            break;
        }
        v = (v * 10 + usize::from(c - b'0')).min(MAX_FIELD);
        *i += 1;
    }
    v
}

fn truncate(v: u64, bits: u32) -> u64 {
    if bits >= 64 { v } else { v & ((1u64 << bits) - 1) }
}

#[allow(clippy::cast_possible_wrap)]
fn sign_extend(v: u64, bits: u32) -> i64 {
    if bits >= 64 {
        v as i64
    } else {
        let shift = 64 - bits;
        ((v << shift) as i64) >> shift
    }
}

fn pad_number(out: &mut String, s: &Spec, sign: &str, prefix: &str, digits: &str) {
    // Precision: minimum digits; an explicit precision of 0 prints nothing for the value 0.
    let mut body = String::new();
    let digits = if s.precision == Some(0) && digits == "0" { "" } else { digits };
    if let Some(p) = s.precision {
        body.extend(std::iter::repeat_n('0', p.saturating_sub(digits.len())));
    }
    body.push_str(digits);
    let used = sign.len() + prefix.len() + body.len();
    let fill = s.width.saturating_sub(used);
    if s.left {
        out.push_str(sign);
        out.push_str(prefix);
        out.push_str(&body);
        out.extend(std::iter::repeat_n(' ', fill));
    } else if s.zero && s.precision.is_none() {
        out.push_str(sign);
        out.push_str(prefix);
        out.extend(std::iter::repeat_n('0', fill));
        out.push_str(&body);
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(sign);
        out.push_str(prefix);
        out.push_str(&body);
    }
}

fn pad_text(out: &mut String, s: &Spec, text: &str) {
    let text: String = match s.precision {
        Some(p) => text.chars().take(p).collect(),
        None => text.to_owned(),
    };
    let fill = s.width.saturating_sub(text.chars().count());
    if s.left {
        out.push_str(&text);
        out.extend(std::iter::repeat_n(' ', fill));
    } else {
        out.extend(std::iter::repeat_n(' ', fill));
        out.push_str(&text);
    }
}
