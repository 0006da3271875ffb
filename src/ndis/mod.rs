//! The safe NDIS layer: small owning or borrowing types over the raw `ndis-sys` bindings.
//!
//! FFI lives in `ndis-sys` (types with layout assertions, constants, imports); everything
//! above this module speaks in these types: NBL chains and buffers ([`nbl`]), spin locks that
//! remember how they were taken ([`sync`]), OID requests with bounds-checked buffers
//! ([`oid`]), registry access ([`config`]), work items and DPCs ([`work`]), and UTF-16 keyword
//! strings ([`wstr`]).

pub mod config;
pub mod nbl;
pub mod oid;
pub mod sync;
pub mod work;
pub mod wstr;

pub use ndis_sys as sys;

/// What the caller knows about its IRQL. NDIS's `*_DISPATCH_LEVEL` flags may be passed only
/// when the caller *knows* it runs at DISPATCH_LEVEL (Microsoft, "Dispatch IRQL tracking"), so
/// every path that calls NDIS carries this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Irql {
    /// Known to be DISPATCH_LEVEL: a DPC, a spin lock held, or NDIS said so in its flags.
    Dispatch,
    /// PASSIVE_LEVEL or not known (≤ DISPATCH_LEVEL).
    AtMostDispatch,
}

impl Irql {
    /// From an NDIS flags word and the flag that means "caller at DISPATCH_LEVEL".
    #[must_use]
    pub fn from_flags(flags: u32, dispatch_flag: u32) -> Self {
        if flags & dispatch_flag != 0 { Irql::Dispatch } else { Irql::AtMostDispatch }
    }

    /// `flag` if at DISPATCH_LEVEL, else 0.
    #[must_use]
    pub fn flag(self, flag: u32) -> u32 {
        match self {
            Irql::Dispatch => flag,
            Irql::AtMostDispatch => 0,
        }
    }
}

/// Builds an `NDIS_OBJECT_HEADER`.
#[must_use]
pub fn header(kind: u8, revision: u8, size: usize) -> sys::NDIS_OBJECT_HEADER {
    sys::NDIS_OBJECT_HEADER { Type: kind, Revision: revision, Size: u16::try_from(size).unwrap_or(u16::MAX) }
}
