//! Fault-tolerant access to memory named by the driver.
//!
//! Driver-supplied pointers (format strings, `%s` arguments, `UNICODE_STRING` buffers, va_lists)
//! may be wild. These helpers copy through `process_vm_readv`/`process_vm_writev` on our own
//! process: the kernel checks the mapping and protection and returns `EFAULT` instead of raising
//! SIGSEGV, so a bad pointer yields `None`/`false`, never a host crash. They also respect page
//! protections (a guard page or a read-only page is reported, not bypassed).

use std::sync::atomic::{AtomicBool, Ordering};

/// Maximum bytes [`read_cstr`] and [`read_wstr`] read.
pub const STRING_CAP: usize = 4096;

static VM_SYSCALLS_BROKEN: AtomicBool = AtomicBool::new(false);

/// Copy `buf.len()` bytes from address `addr` of this process. Returns the number of bytes
/// copied before the first unreadable byte (all of them on success).
#[must_use]
pub fn read_partial(addr: u64, buf: &mut [u8]) -> usize {
    if buf.is_empty() {
        return 0;
    }
    if addr.checked_add(buf.len() as u64).is_none() {
        return 0;
    }
    // Copy page by page so that a fault in a later page still returns the earlier bytes.
    let mut done = 0usize;
    while done < buf.len() {
        let a = addr + done as u64;
        let to_page_end = 4096 - (a % 4096) as usize;
        let n = to_page_end.min(buf.len() - done);
        if !vm_copy(a, &mut buf[done..done + n]) {
            break;
        }
        done += n;
    }
    done
}

fn vm_copy(addr: u64, buf: &mut [u8]) -> bool {
    if VM_SYSCALLS_BROKEN.load(Ordering::Relaxed) {
        return false;
    }
    let local = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: buf.len() };
    let remote = libc::iovec { iov_base: super::usize_of(addr) as *mut libc::c_void, iov_len: buf.len() };
    // SAFETY: `local` describes `buf`, which we own mutably; the kernel validates `remote` and
    // reports an unreadable range as an error instead of faulting.
    let n = unsafe { libc::process_vm_readv(libc::getpid(), &raw const local, 1, &raw const remote, 1, 0) };
    if n < 0 {
        let e = std::io::Error::last_os_error().raw_os_error();
        if matches!(e, Some(libc::ENOSYS | libc::EPERM)) {
            VM_SYSCALLS_BROKEN.store(true, Ordering::Relaxed);
            eprintln!("ndis-host: process_vm_readv is unavailable ({e:?}); driver memory reads will fail");
        }
        return false;
    }
    usize::try_from(n).is_ok_and(|n| n == buf.len())
}

/// Copy exactly `buf.len()` bytes from `addr`; `false` if any byte is unreadable.
#[must_use]
pub fn read(addr: u64, buf: &mut [u8]) -> bool {
    read_partial(addr, buf) == buf.len()
}

/// Read a little-endian `u64` at `addr`.
#[must_use]
pub fn read_u64(addr: u64) -> Option<u64> {
    let mut b = [0u8; 8];
    read(addr, &mut b).then(|| u64::from_le_bytes(b))
}

/// Read a little-endian `u32` at `addr`.
#[must_use]
pub fn read_u32(addr: u64) -> Option<u32> {
    let mut b = [0u8; 4];
    read(addr, &mut b).then(|| u32::from_le_bytes(b))
}

/// Read a little-endian `u16` at `addr`.
#[must_use]
pub fn read_u16(addr: u64) -> Option<u16> {
    let mut b = [0u8; 2];
    read(addr, &mut b).then(|| u16::from_le_bytes(b))
}

/// Write `data` to address `addr` of this process; `false` if any byte is not writable (in which
/// case a prefix may have been written).
#[must_use]
pub fn write(addr: u64, data: &[u8]) -> bool {
    if data.is_empty() {
        return true;
    }
    if VM_SYSCALLS_BROKEN.load(Ordering::Relaxed) || addr.checked_add(data.len() as u64).is_none() {
        return false;
    }
    let local = libc::iovec { iov_base: data.as_ptr().cast_mut().cast(), iov_len: data.len() };
    let remote = libc::iovec { iov_base: super::usize_of(addr) as *mut libc::c_void, iov_len: data.len() };
    // SAFETY: `local` describes `data` (only read by the kernel); the kernel validates `remote`
    // and reports an unwritable range as an error instead of faulting.
    let n = unsafe { libc::process_vm_writev(libc::getpid(), &raw const local, 1, &raw const remote, 1, 0) };
    usize::try_from(n).is_ok_and(|n| n == data.len())
}

/// Read a NUL-terminated byte string at `addr`, at most `cap` bytes (without the NUL).
/// `None` if the first byte is unreadable; a string that runs into unreadable memory or past
/// `cap` is returned truncated.
#[must_use]
pub fn read_cstr(addr: u64, cap: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut a = addr;
    let mut first = true;
    while out.len() < cap {
        let chunk = (4096 - (a % 4096) as usize).min(cap - out.len());
        let mut buf = vec![0u8; chunk];
        let n = read_partial(a, &mut buf);
        if n == 0 {
            return if first { None } else { Some(out) };
        }
        first = false;
        if let Some(z) = buf[..n].iter().position(|&b| b == 0) {
            out.extend_from_slice(&buf[..z]);
            return Some(out);
        }
        out.extend_from_slice(&buf[..n]);
        if n < chunk {
            return Some(out);
        }
        a += n as u64;
    }
    Some(out)
}

/// Read a NUL-terminated UTF-16 string at `addr`, at most `cap` units (without the NUL).
/// `None` if the first unit is unreadable; truncated like [`read_cstr`].
#[must_use]
pub fn read_wstr(addr: u64, cap: usize) -> Option<Vec<u16>> {
    let mut out = Vec::new();
    let mut a = addr;
    let mut first = true;
    while out.len() < cap {
        // Up to the end of the page (at least one whole unit), at most what `cap` still allows.
        let to_page_end = (4096 - (a % 4096) as usize).max(2) & !1;
        let chunk = to_page_end.min((cap - out.len()) * 2);
        let mut buf = vec![0u8; chunk];
        let n = read_partial(a, &mut buf) & !1;
        if n == 0 {
            return if first { None } else { Some(out) };
        }
        first = false;
        for c in buf[..n].chunks_exact(2) {
            let u = u16::from_le_bytes([c[0], c[1]]);
            if u == 0 {
                return Some(out);
            }
            out.push(u);
        }
        if n < chunk {
            return Some(out);
        }
        a += n as u64;
    }
    Some(out)
}

/// Read `len` UTF-16 units at `addr` (e.g. a `UNICODE_STRING` buffer).
#[must_use]
pub fn read_u16s(addr: u64, len: usize) -> Option<Vec<u16>> {
    let mut bytes = vec![0u8; len.checked_mul(2)?];
    if !read(addr, &mut bytes) {
        return None;
    }
    Some(bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect())
}
