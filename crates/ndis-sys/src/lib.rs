//! Raw NDIS 6 miniport bindings for x86_64 Windows kernel images.
//!
//! Everything here mirrors the WDK headers (`ndis.h`, `wdm.h`, `ntddndis.h`, `objectheader.h`,
//! `nblinfo.h`) by name and by layout: types, fields, constants and imported functions keep
//! their C spelling, so `ndis_sys::NET_BUFFER_LIST` is the C `NET_BUFFER_LIST`.
//!
//! Conventions:
//! * Scalar typedefs are type aliases (`NDIS_STATUS = i32`, `NDIS_HANDLE = *mut c_void`, ...).
//! * C enums are integer type aliases plus `pub const` values, never Rust enums: a value that
//!   NDIS (or a newer Windows) hands us that we do not know must not be undefined behaviour.
//! * Structures are `#[repr(C)]` and carry compile-time x64 layout assertions whose expected
//!   numbers come from independent public sources named next to them (see `docs/bindings.md`).
//! * Callback types: `MINIPORT_INITIALIZE` (and friends) is the bare
//!   `unsafe extern "system" fn(...)` type, mirroring the C function typedef; the matching
//!   `*_HANDLER` alias is `Option<...>` (the C pointer typedef) and is what the
//!   characteristics structures store.
//! * By-value `LARGE_INTEGER` parameters and results are `i64`: on x64 an 8-byte union is
//!   passed and returned exactly like a 64-bit integer.
//!
//! Functions are declared in [`functions`] with `raw-dylib` imports from `ndis.sys` and
//! `ntoskrnl.exe` (only when compiling for Windows; on other targets the declarations exist
//! but must never be called).
//!
//! The crate contains no logic beyond `const fn` helpers.
#![no_std]
#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]
// Hexadecimal constants are spelled exactly like the headers, so they can be compared by eye.
#![allow(clippy::unreadable_literal)]
// NTSTATUS-style codes are written as their unsigned bit pattern and reinterpreted as `i32`.
#![allow(clippy::cast_possible_wrap)]
// Field names such as `NdisReserved` repeat the C spelling on purpose.
#![allow(clippy::struct_field_names)]
// Doc comments quote C identifiers freely.
#![allow(clippy::doc_markdown)]

pub mod basic;
pub mod config;
pub mod functions;
pub mod kernel;
mod layout;
pub mod media;
pub mod miniport;
pub mod nbl;
pub mod object;
pub mod oid;
pub mod power;
pub mod stats;
pub mod status;
pub mod timer;

pub use crate::basic::*;
pub use crate::config::*;
pub use crate::functions::*;
pub use crate::kernel::*;
pub use crate::media::*;
pub use crate::miniport::*;
pub use crate::nbl::*;
pub use crate::object::*;
pub use crate::oid::*;
pub use crate::power::*;
pub use crate::stats::*;
pub use crate::status::*;
pub use crate::timer::*;

/// Implements `Default` as the all-zero value for plain-old-data FFI types.
///
/// Only for types whose fields are integers, raw pointers, `Option<fn>` and arrays, structs or
/// unions made only of those: for all of them the all-zero bit pattern is a valid value (null
/// pointers, `None`).
macro_rules! zeroed_default {
    ($($t:ty),+ $(,)?) => {
        $(
            impl Default for $t {
                fn default() -> Self {
                    // SAFETY: the macro is only invoked for `repr(C)` types made of integers,
                    // raw pointers, `Option<extern fn>` and aggregates of those; the all-zero
                    // bit pattern is a valid value of each of them (0, null, `None`).
                    unsafe { core::mem::zeroed() }
                }
            }
        )+
    };
}
pub(crate) use zeroed_default;

/// `RTL_SIZEOF_THROUGH_FIELD(type, field)`: the offset of `field` plus its size, as `usize`.
///
/// The header macros `NDIS_SIZEOF_*_REVISION_n` are defined this way; the field's type is
/// spelled out because Rust has no `sizeof` for a field expression. Every value also fits the
/// `u16` of `NDIS_OBJECT_HEADER::Size`, which the macro checks at compile time.
macro_rules! sizeof_through_field {
    ($t:ty, $field:ident : $fty:ty) => {{
        let n = core::mem::offset_of!($t, $field) + core::mem::size_of::<$fty>();
        assert!(n <= u16::MAX as usize);
        n
    }};
}
pub(crate) use sizeof_through_field;
