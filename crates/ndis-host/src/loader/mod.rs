//! PE32+ kernel-image loader.
//!
//! [`Image::load`] validates a driver image (`rvmini.sys`: PE32+, AMD64), maps it into the
//! process, applies base relocations, binds every import through an [`ImportResolver`] (normally
//! the host's [`ExportTable`]) to a per-import thunk (see [`crate::abi`]) or a fixed address, and
//! applies each section's own page protection. **Nothing from the image runs during load**; the
//! NDIS model later calls [`Image::entry_point`] with [`crate::abi::call_driver`].
//!
//! Validation (each failure is a one-line [`LoadError`]): DOS and PE signatures; COFF machine
//! must be AMD64; PE32+ optional header; section table and every section's raw data inside the
//! file; sections aligned, ordered, inside `SizeOfImage` (≤ 64 MiB); section alignment ≥ 4 KiB;
//! no writable+executable section; no TLS, delay-load, bound-import or CLR directory; entry point
//! inside an executable section; base relocations only `DIR64`/`ABSOLUTE`; no import by ordinal;
//! **every import implemented by the host** — otherwise the load is refused and the error lists
//! every missing `module!name`.
//!
//! The image is placed wherever `mmap` puts it (so relocations are always exercised), except
//! that an image marked `IMAGE_FILE_RELOCS_STRIPPED` must get its preferred base. Headers are
//! read-only; sections are mapped R, RW or RX from their flags. If a load configuration names a
//! /GS security cookie that still holds the MSVC default, it is seeded with a random value whose
//! top 16 bits are zero (what the x64 cookie check expects).
//!
//! Every loaded image is registered process-wide so that the crash handler knows its code range
//! and [`crate::crash::describe`] can name addresses inside it. Symbols (PDB, then lld-link map
//! file, then exports; see [`crate::crash::symbols`]) are loaded lazily on the first
//! [`Image::describe`]. An `Image` must outlive every driver call into it.
//!
//! Import ids are assigned by the [`ExportTable`] (0, 1, 2 …), while thunks and the dispatcher
//! are process-wide (thunk *n* always dispatches id *n*): use one export table per process, or
//! tables that agree on ids.
//!
//! # Example
//! ```no_run
//! use ndis_host::abi::{self, ImportCall};
//! use ndis_host::loader::{ExportTable, Image};
//!
//! fn dispatch(id: u32, call: &ImportCall) -> u64 {
//!     // The NDIS model maps `id` to its handler; here everything "fails".
//!     let _ = (id, call.arg(0));
//!     0xC000_0001
//! }
//!
//! let mut exports = ExportTable::new();
//! exports.add("ndis.sys", "NdisMRegisterMiniportDriver");
//! exports.add_address("ntoskrnl.exe", "__chkstk", abi::chkstk_address());
//! abi::set_dispatcher(dispatch);
//! let image = Image::load("rvmini.sys".as_ref(), &exports).unwrap_or_else(|e| panic!("{e}"));
//! let (driver_object, registry_path) = (0u64, 0u64); // host-built structures in practice
//! match abi::call_driver(image.entry_point(), &[driver_object, registry_path]) {
//!     Ok(status) => println!("DriverEntry returned {:#010x}", status as u32),
//!     Err(crash) => println!("DriverEntry crashed: {crash}"), // e.g. "… at rvmini.sys+0x1a2b (…)"
//! }
//! println!("deepest driver stack use: {} bytes", abi::max_driver_stack_depth());
//! ```

mod error;
mod exports;
mod pe;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use error::{LoadError, machine_name};
pub use exports::{Binding, ExportTable, ImportId, ImportResolver};
pub use pe::{ImportRef, MAX_IMAGE_SIZE, RuntimeFunction, Section};

use crate::crash::registry;
use crate::crash::symbols::{CodeView, Symbols};

const PAGE: usize = 4096;

/// Shared, immutable description of a loaded image (also held by the process-wide registry).
#[derive(Debug)]
pub struct ImageInfo {
    name: String,
    pub(crate) base: u64,
    pub(crate) size: usize,
    path: Option<PathBuf>,
    sections: Vec<Section>,
    exports: Vec<(String, u32)>,
    codeview: Option<CodeView>,
    timestamp: u32,
    symbols: Mutex<Option<Arc<Symbols>>>,
}

impl ImageInfo {
    /// True if `addr` is inside the mapped image.
    #[must_use]
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.base && addr - self.base < self.size as u64
    }

    /// The image's symbols, loading them on first use.
    pub fn symbols(&self) -> Arc<Symbols> {
        let mut g = self.symbols.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        g.get_or_insert_with(|| {
            Arc::new(match &self.path {
                Some(p) => Symbols::for_image(p, self.codeview.as_ref(), self.timestamp, &self.exports),
                None => Symbols::from_exports(&self.exports),
            })
        })
        .clone()
    }

    /// `name+0xRVA (symbol+0xOFF)`, or `name+0xRVA` without a covering symbol.
    #[must_use]
    pub fn describe(&self, addr: u64) -> String {
        if !self.contains(addr) {
            return format!("{addr:#x}");
        }
        let rva = u32::try_from(addr - self.base).unwrap_or(u32::MAX);
        let head = format!("{}+{rva:#x}", self.name);
        match self.symbols().lookup(rva) {
            Some((sym, off)) => format!("{head} ({sym}+{off:#x})"),
            None => head,
        }
    }
}

/// An import of the image and what its IAT slot was bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoundImport {
    pub module: String,
    pub name: String,
    /// Address of the IAT slot.
    pub iat_address: u64,
    pub binding: Binding,
}

/// A mapped, relocated, bound driver image.
#[derive(Debug)]
pub struct Image {
    info: Arc<ImageInfo>,
    map_base: usize,
    map_len: usize,
    entry_rva: u32,
    preferred_base: u64,
    subsystem: u16,
    imports: Vec<BoundImport>,
    pdata: Vec<RuntimeFunction>,
    security_cookie: Option<u64>,
    registration: registry::Registration,
}

/// Parse `bytes` and list its imports without mapping anything (e.g. to build an export table
/// or report what a driver needs).
pub fn read_imports(bytes: &[u8]) -> Result<Vec<ImportRef>, LoadError> {
    pe::parse(bytes).map(|p| p.imports)
}

impl Image {
    /// Load the image file at `path`, binding imports through `exports`.
    pub fn load(path: &Path, exports: &ExportTable) -> Result<Image, LoadError> {
        Self::load_with(path, exports)
    }

    /// Load the image file at `path` with any resolver.
    pub fn load_with(path: &Path, resolver: &dyn ImportResolver) -> Result<Image, LoadError> {
        let bytes = std::fs::read(path)
            .map_err(|e| LoadError::Io { path: path.display().to_string(), message: e.to_string() })?;
        let name = path.file_name().map_or_else(|| "image".to_owned(), |n| n.to_string_lossy().into_owned());
        Self::load_impl(&bytes, name, Some(path.to_owned()), resolver)
    }

    /// Load an image from memory; `name` is used in descriptions. Symbols come from the exports
    /// only, unless [`Image::set_symbols`] is used.
    pub fn load_bytes(bytes: &[u8], name: &str, exports: &ExportTable) -> Result<Image, LoadError> {
        Self::load_impl(bytes, name.to_owned(), None, exports)
    }

    /// [`Image::load_bytes`] with any resolver.
    pub fn load_bytes_with(bytes: &[u8], name: &str, resolver: &dyn ImportResolver) -> Result<Image, LoadError> {
        Self::load_impl(bytes, name.to_owned(), None, resolver)
    }

    fn load_impl(
        bytes: &[u8],
        name: String,
        path: Option<PathBuf>,
        resolver: &dyn ImportResolver,
    ) -> Result<Image, LoadError> {
        let mut p = pe::parse(bytes)?;

        // Bind imports (all problems are collected before failing).
        let mut ordinals = Vec::new();
        let mut missing = Vec::new();
        let mut bindings = Vec::with_capacity(p.imports.len());
        for imp in &p.imports {
            if imp.ordinal.is_some() {
                ordinals.push(format!("{}!{}", imp.module, imp.name));
                continue;
            }
            match resolver.resolve_binding(&imp.module, &imp.name) {
                Some(Binding::Thunk(id)) if id as usize >= crate::abi::MAX_IMPORTS => {
                    return Err(LoadError::Unsupported(format!(
                        "the resolver bound {}!{} to import id {id}, beyond the {} import thunks",
                        imp.module,
                        imp.name,
                        crate::abi::MAX_IMPORTS
                    )));
                }
                Some(b) => bindings.push((imp, b)),
                None => missing.push(format!("{}!{}", imp.module, imp.name)),
            }
        }
        if !ordinals.is_empty() {
            return Err(LoadError::ImportByOrdinal(ordinals));
        }
        if !missing.is_empty() {
            return Err(LoadError::UnresolvedImports(missing));
        }

        // Reserve the address range.
        let map_len = p.layout.len();
        let fixed = p.characteristics & pe::IMAGE_FILE_RELOCS_STRIPPED != 0;
        let map_base = map_anonymous(map_len, fixed.then_some(p.preferred_base))?;
        let base = map_base as u64;

        // Relocate, bind, seed the cookie — all in the layout buffer.
        let delta = base.wrapping_sub(p.preferred_base);
        for &rva in &p.relocs {
            let at = rva as usize;
            let mut v = [0u8; 8];
            v.copy_from_slice(&p.layout[at..at + 8]);
            let nv = u64::from_le_bytes(v).wrapping_add(delta);
            p.layout[at..at + 8].copy_from_slice(&nv.to_le_bytes());
        }
        let mut imports = Vec::with_capacity(bindings.len());
        for (imp, b) in bindings {
            let target = match b {
                Binding::Thunk(id) => crate::abi::thunk_address(id),
                Binding::Address(a) => a,
            };
            let at = imp.iat_rva as usize;
            p.layout[at..at + 8].copy_from_slice(&target.to_le_bytes());
            imports.push(BoundImport {
                module: imp.module.clone(),
                name: imp.name.clone(),
                iat_address: base + u64::from(imp.iat_rva),
                binding: b,
            });
        }
        let mut security_cookie = None;
        if let Some(rva) = p.cookie_rva {
            let at = rva as usize;
            let mut v = [0u8; 8];
            v.copy_from_slice(&p.layout[at..at + 8]);
            if u64::from_le_bytes(v) == pe::DEFAULT_SECURITY_COOKIE {
                let cookie = random_cookie();
                p.layout[at..at + 8].copy_from_slice(&cookie.to_le_bytes());
                security_cookie = Some(base + u64::from(rva));
            }
        }

        // Copy and protect.
        // SAFETY: `map_base` is a fresh RW mapping of exactly `map_len` = layout.len() bytes.
        unsafe { core::ptr::copy_nonoverlapping(p.layout.as_ptr(), map_base as *mut u8, map_len) };
        if let Err(e) = protect(map_base, map_len, p.size_of_headers, &p.sections) {
            unmap(map_base, map_len);
            return Err(e);
        }

        let info = Arc::new(ImageInfo {
            name,
            base,
            size: map_len,
            path,
            sections: p.sections,
            exports: p.exports,
            codeview: p.codeview,
            timestamp: p.timestamp,
            symbols: Mutex::new(None),
        });
        let registration = registry::register(info.clone());
        Ok(Image {
            info,
            map_base,
            map_len,
            entry_rva: p.entry_rva,
            preferred_base: p.preferred_base,
            subsystem: p.subsystem,
            imports,
            pdata: p.pdata,
            security_cookie,
            registration,
        })
    }

    /// Load address.
    #[must_use]
    pub fn base(&self) -> u64 {
        self.info.base
    }

    /// Mapped size (`SizeOfImage` rounded up to pages).
    #[must_use]
    pub fn size(&self) -> usize {
        self.info.size
    }

    /// Address of the entry point (`DriverEntry`).
    #[must_use]
    pub fn entry_point(&self) -> u64 {
        self.base() + u64::from(self.entry_rva)
    }

    /// `ImageBase` from the optional header.
    #[must_use]
    pub fn preferred_base(&self) -> u64 {
        self.preferred_base
    }

    /// `IMAGE_SUBSYSTEM_*` (1 = native, as for drivers).
    #[must_use]
    pub fn subsystem(&self) -> u16 {
        self.subsystem
    }

    /// True if `addr` is inside the image.
    #[must_use]
    pub fn contains(&self, addr: u64) -> bool {
        self.info.contains(addr)
    }

    /// RVA of `addr`, if inside the image.
    #[must_use]
    pub fn rva(&self, addr: u64) -> Option<u32> {
        self.contains(addr).then(|| u32::try_from(addr - self.base()).unwrap_or(u32::MAX))
    }

    /// Address of a named export.
    #[must_use]
    pub fn export(&self, name: &str) -> Option<u64> {
        self.info.exports.iter().find(|(n, _)| n == name).map(|(_, r)| self.base() + u64::from(*r))
    }

    /// All named exports as `(name, RVA)`.
    #[must_use]
    pub fn exports(&self) -> &[(String, u32)] {
        &self.info.exports
    }

    /// The section containing `addr`.
    #[must_use]
    pub fn section_of(&self, addr: u64) -> Option<&Section> {
        let rva = self.rva(addr)?;
        self.info.sections.iter().find(|s| s.contains_rva(rva))
    }

    /// All sections.
    #[must_use]
    pub fn sections(&self) -> &[Section] {
        &self.info.sections
    }

    /// Name used in descriptions (the file name for [`Image::load`]).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.info.name
    }

    /// File the image was loaded from.
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        self.info.path.as_deref()
    }

    /// The bound imports.
    #[must_use]
    pub fn imports(&self) -> &[BoundImport] {
        &self.imports
    }

    /// The `.pdata` exception table (sorted by begin RVA), for unwinding.
    #[must_use]
    pub fn runtime_functions(&self) -> &[RuntimeFunction] {
        &self.pdata
    }

    /// The `.pdata` entry covering `addr`.
    #[must_use]
    pub fn function_entry(&self, addr: u64) -> Option<RuntimeFunction> {
        let rva = self.rva(addr)?;
        let i = self.pdata.partition_point(|f| f.begin <= rva);
        (i > 0).then(|| self.pdata[i - 1]).filter(|f| rva < f.end)
    }

    /// Address of the /GS security cookie if the loader seeded it.
    #[must_use]
    pub fn security_cookie(&self) -> Option<u64> {
        self.security_cookie
    }

    /// The image's CodeView (PDB identity) record.
    #[must_use]
    pub fn codeview(&self) -> Option<&CodeView> {
        self.info.codeview.as_ref()
    }

    /// The shared description (also reachable through [`crate::crash::describe`]).
    #[must_use]
    pub fn info(&self) -> Arc<ImageInfo> {
        self.info.clone()
    }

    /// The image's symbols (loaded on first use).
    #[must_use]
    pub fn symbols(&self) -> Arc<Symbols> {
        self.info.symbols()
    }

    /// Replace the image's symbols (e.g. for [`Image::load_bytes`] with a known PDB).
    pub fn set_symbols(&self, symbols: Symbols) {
        *self.info.symbols.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(symbols));
    }

    /// `rvmini.sys+0x1a2b (rvmini::datapath::send::transmit+0x3c)`.
    #[must_use]
    pub fn describe(&self, addr: u64) -> String {
        self.info.describe(addr)
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        registry::unregister(&self.registration);
        unmap(self.map_base, self.map_len);
    }
}

fn map_anonymous(len: usize, fixed: Option<u64>) -> Result<usize, LoadError> {
    let (hint, flags) = match fixed {
        Some(b) => (crate::abi::usize_of(b) as *mut libc::c_void, libc::MAP_FIXED_NOREPLACE),
        None => (core::ptr::null_mut(), 0),
    };
    // SAFETY: anonymous private mapping; MAP_FIXED_NOREPLACE never replaces existing mappings.
    let p = unsafe {
        libc::mmap(
            hint,
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | flags,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        let e = std::io::Error::last_os_error();
        return Err(match fixed {
            Some(b) => LoadError::Map(format!(
                "the image has no relocations (IMAGE_FILE_RELOCS_STRIPPED) and its preferred base {b:#x} is not available: {e}"
            )),
            None => LoadError::Map(format!("mmap of {len:#x} bytes failed: {e}")),
        });
    }
    if let Some(b) = fixed
        && p as u64 != b
    {
        unmap(p as usize, len);
        return Err(LoadError::Map(format!(
            "the image has no relocations (IMAGE_FILE_RELOCS_STRIPPED) and its preferred base {b:#x} is not available"
        )));
    }
    Ok(p as usize)
}

fn unmap(base: usize, len: usize) {
    // SAFETY: only called on a whole mapping created by `map_anonymous` that nothing uses any
    // more (the image is being dropped or was never published).
    unsafe { libc::munmap(base as *mut libc::c_void, len) };
}

fn protect(base: usize, len: usize, size_of_headers: usize, sections: &[Section]) -> Result<(), LoadError> {
    let mprotect = |off: usize, n: usize, prot: libc::c_int| -> Result<(), LoadError> {
        if n == 0 {
            return Ok(());
        }
        // SAFETY: `[base+off, base+off+n)` is page-aligned and inside our own image mapping;
        // no other code references the image yet.
        let r = unsafe { libc::mprotect((base + off) as *mut libc::c_void, n, prot) };
        if r == 0 {
            Ok(())
        } else {
            Err(LoadError::Map(format!("mprotect failed: {}", std::io::Error::last_os_error())))
        }
    };
    let round = |v: usize| v.div_ceil(PAGE) * PAGE;
    // Start with everything inaccessible, then open headers and sections.
    mprotect(0, len, libc::PROT_NONE)?;
    mprotect(0, round(size_of_headers).min(len), libc::PROT_READ)?;
    for s in sections {
        let prot = if s.characteristics & pe::SCN_MEM_EXECUTE != 0 {
            libc::PROT_READ | libc::PROT_EXEC
        } else if s.is_writable() {
            libc::PROT_READ | libc::PROT_WRITE
        } else {
            libc::PROT_READ
        };
        let start = s.rva as usize;
        let n = round(s.virtual_size as usize).min(len - start);
        mprotect(start, n, prot)?;
    }
    Ok(())
}

fn random_cookie() -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: getrandom writes at most `b.len()` bytes into `b`.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    let mut v = if n == 8 {
        u64::from_le_bytes(b)
    } else {
        // Fallback: address-space and time entropy (the cookie is a hardening aid, not a secret
        // the tests depend on).
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs().rotate_left(32) ^ u64::from(d.subsec_nanos()));
        t ^ (std::ptr::from_ref(&b) as u64).rotate_left(17)
    };
    v &= 0x0000_FFFF_FFFF_FFFF;
    if v == pe::DEFAULT_SECURITY_COOKIE || v == 0 {
        v ^= 0x0000_1357_9BDF_2468;
    }
    v
}
