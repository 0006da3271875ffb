//! A small x64 stack unwinder over the loaded image's exception data (`.pdata` and the
//! `UNWIND_INFO` it points to), used to identify an allocation's call site by its caller
//! chain for fault injection ([`crate::fault`]).
//!
//! It starts from the state at an import call (the driver's RSP at the thunk and its
//! non-volatile registers) and undoes each function's prolog as its unwind codes describe
//! (`UWOP_PUSH_NONVOL`, `UWOP_ALLOC_*`, `UWOP_SET_FPREG`, `UWOP_SAVE_NONVOL*`; XMM saves do not
//! move RSP; chained unwind info is followed). A function without a `.pdata` entry is a leaf
//! (its return address is at RSP). It stops at the first return address outside the image (the
//! host's call into the driver), at a machine frame, or at anything unreadable. Stack memory
//! is read with the fault-tolerant [`crate::abi::mem`] readers.

use crate::abi::{ImportCall, mem};
use crate::loader::Image;

const RSP: usize = 4;
const UNW_FLAG_CHAININFO: u8 = 0x4;

/// Return addresses (absolute) of the import call at `call` and of up to `max - 1` callers,
/// innermost first, while they lie inside `image`.
pub(crate) fn return_addresses(image: &Image, call: &ImportCall, max: usize) -> Vec<u64> {
    let r = call.registers();
    let mut regs = [0u64; 16];
    regs[3] = r.rbx;
    regs[5] = r.rbp;
    regs[6] = r.rsi;
    regs[7] = r.rdi;
    regs[12] = r.r12;
    regs[13] = r.r13;
    regs[14] = r.r14;
    regs[15] = r.r15;
    regs[RSP] = call.stack_pointer().wrapping_add(8);
    let mut rip = call.return_address();
    let mut out = Vec::new();
    while out.len() < max && image.contains(rip) {
        out.push(rip);
        if !unwind_frame(image, rip, &mut regs) {
            break;
        }
        let Some(ret) = mem::read_u64(regs[RSP]) else { break };
        regs[RSP] = regs[RSP].wrapping_add(8);
        rip = ret;
    }
    out
}

/// Undoes the prolog of the function containing `rip`; on return `regs[RSP]` points at its
/// return address. False if the frame cannot be unwound.
fn unwind_frame(image: &Image, rip: u64, regs: &mut [u64; 16]) -> bool {
    let Some(f) = image.function_entry(rip) else { return true };
    let Some(rva) = image.rva(rip) else { return false };
    apply(image, f.unwind_info, Some(rva - f.begin), regs, 0)
}

fn read_bytes(image: &Image, rva: u32, len: usize) -> Option<Vec<u8>> {
    if u64::from(rva) + len as u64 > image.size() as u64 {
        return None;
    }
    let mut buf = vec![0u8; len];
    mem::read(image.base() + u64::from(rva), &mut buf).then_some(buf)
}

fn apply(image: &Image, info_rva: u32, offset: Option<u32>, regs: &mut [u64; 16], depth: u32) -> bool {
    if depth > 8 {
        return false;
    }
    let Some(h) = read_bytes(image, info_rva, 4) else { return false };
    let (version, flags, prolog, count) = (h[0] & 7, h[0] >> 3, u32::from(h[1]), usize::from(h[2]));
    let (frame_reg, frame_off) = (usize::from(h[3] & 0xF), u64::from(h[3] >> 4));
    let Some(raw) = read_bytes(image, info_rva + 4, count * 2) else { return false };
    let slots: Vec<u16> = raw.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
    let frame = if frame_reg != 0 { regs[frame_reg].wrapping_sub(frame_off * 16) } else { regs[RSP] };
    let slot = |i: usize| slots.get(i).copied().map_or(0, u64::from);
    let mut i = 0;
    while i < count {
        let code = slots[i];
        let (at, op, info) = (u32::from(code & 0xFF), (code >> 8) & 0xF, usize::from(code >> 12));
        let applies = offset.is_none_or(|o| o >= prolog || at <= o);
        let used = match op {
            0 => {
                if applies {
                    let Some(v) = mem::read_u64(regs[RSP]) else { return false };
                    regs[info] = v;
                    regs[RSP] = regs[RSP].wrapping_add(8);
                }
                1
            }
            1 => {
                let (size, used) =
                    if info == 0 { (slot(i + 1) * 8, 2) } else { (slot(i + 1) | (slot(i + 2) << 16), 3) };
                if applies {
                    regs[RSP] = regs[RSP].wrapping_add(size);
                }
                used
            }
            2 => {
                if applies {
                    regs[RSP] = regs[RSP].wrapping_add(info as u64 * 8 + 8);
                }
                1
            }
            3 => {
                if applies {
                    regs[RSP] = regs[frame_reg].wrapping_sub(frame_off * 16);
                }
                1
            }
            4 | 5 => {
                let (off, used) = if op == 4 { (slot(i + 1) * 8, 2) } else { (slot(i + 1) | (slot(i + 2) << 16), 3) };
                if applies {
                    let Some(v) = mem::read_u64(frame.wrapping_add(off)) else { return false };
                    regs[info] = v;
                }
                used
            }
            6 if version >= 2 => 1,
            6 | 8 => 2,
            7 | 9 => 3,
            _ => return false,
        };
        i += used;
    }
    if flags & UNW_FLAG_CHAININFO != 0 {
        let chain_at = info_rva + 4 + u32::try_from(count.next_multiple_of(2) * 2).unwrap_or(u32::MAX);
        let Some(c) = read_bytes(image, chain_at, 12) else { return false };
        let parent = u32::from_le_bytes([c[8], c[9], c[10], c[11]]);
        return apply(image, parent, None, regs, depth + 1);
    }
    true
}
