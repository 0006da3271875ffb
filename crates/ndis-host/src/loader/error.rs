//! Load errors. Every variant displays as one line that names the problem.

use std::fmt;

/// Why an image could not be loaded. Nothing from the image has run when this is returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The file could not be read.
    Io { path: String, message: String },
    /// Not a PE file at all (`not a PE image: missing MZ signature`).
    NotPe(String),
    /// A structure extends past the end of the file.
    Truncated(String),
    /// COFF machine other than AMD64.
    UnsupportedMachine { machine: u16 },
    /// Optional header is not PE32+.
    NotPe32Plus { magic: u16 },
    /// Inconsistent headers or tables.
    Malformed(String),
    /// Valid PE, but uses a feature a kernel image must not use or the loader does not support.
    Unsupported(String),
    /// A base relocation type other than `DIR64`/`ABSOLUTE`.
    UnsupportedRelocation { kind: u16, rva: u32 },
    /// Imports by ordinal (`module!#ordinal`).
    ImportByOrdinal(Vec<String>),
    /// Imports the host does not implement (`module!name`), all of them.
    UnresolvedImports(Vec<String>),
    /// mmap/mprotect failed.
    Map(String),
}

/// Human name of a COFF machine type.
#[must_use]
pub fn machine_name(machine: u16) -> &'static str {
    match machine {
        0x0 => "unknown",
        0x14c => "i386",
        0x8664 => "AMD64",
        0xaa64 => "ARM64",
        0xa641 => "ARM64EC",
        0xa64e => "ARM64X",
        0x1c0 => "ARM",
        0x1c4 => "ARMNT",
        0x200 => "IA64",
        0x5032 => "RISCV32",
        0x5064 => "RISCV64",
        0x6264 => "LOONGARCH64",
        0xebc => "EFI byte code",
        _ => "unrecognised",
    }
}

fn relocation_name(kind: u16) -> &'static str {
    match kind {
        1 => "HIGH",
        2 => "LOW",
        3 => "HIGHLOW",
        4 => "HIGHADJ",
        5 => "MIPS_JMPADDR/ARM_MOV32",
        7 => "THUMB_MOV32",
        9 => "MIPS_JMPADDR16",
        _ => "unknown",
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, message } => write!(f, "cannot read {path}: {message}"),
            Self::NotPe(why) => write!(f, "not a PE image: {why}"),
            Self::Truncated(why) => write!(f, "truncated image: {why}"),
            Self::UnsupportedMachine { machine } => write!(
                f,
                "unsupported machine {machine:#x} ({}): only AMD64 (0x8664) kernel images can be loaded",
                machine_name(*machine)
            ),
            Self::NotPe32Plus { magic } => {
                let kind = match magic {
                    0x10b => "PE32",
                    0x107 => "ROM",
                    _ => "unknown",
                };
                write!(
                    f,
                    "unsupported optional header magic {magic:#x} ({kind}): only PE32+ (0x20b) images can be loaded"
                )
            }
            Self::Malformed(why) => write!(f, "malformed image: {why}"),
            Self::Unsupported(why) => write!(f, "unsupported image: {why}"),
            Self::UnsupportedRelocation { kind, rva } => write!(
                f,
                "unsupported base relocation type {kind} ({}) at RVA {rva:#x}: only DIR64 and ABSOLUTE are supported",
                relocation_name(*kind)
            ),
            Self::ImportByOrdinal(list) => write!(f, "imports by ordinal are not supported: {}", list.join(", ")),
            Self::UnresolvedImports(list) => write!(f, "unresolved imports: {}", list.join(", ")),
            Self::Map(why) => write!(f, "cannot map image: {why}"),
        }
    }
}

impl std::error::Error for LoadError {}
