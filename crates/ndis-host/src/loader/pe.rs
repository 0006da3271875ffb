//! PE32+ parsing and validation into a "virtual layout" buffer (the image as it will be mapped),
//! before anything is mapped. Every offset and length read from the file is bounds-checked.

use super::error::LoadError;
use crate::crash::symbols::CodeView;

/// Largest `SizeOfImage` accepted.
pub const MAX_IMAGE_SIZE: usize = 64 << 20;
const MAX_SECTIONS: usize = 96;
const MAX_IMPORT_MODULES: usize = 1024;
const MAX_IMPORTS_PER_MODULE: usize = 1 << 16;
const MAX_NAME: usize = 512;
const PAGE: u32 = 4096;

pub(crate) const IMAGE_FILE_RELOCS_STRIPPED: u16 = 0x0001;
const IMAGE_FILE_EXECUTABLE_IMAGE: u16 = 0x0002;
pub(crate) const SCN_MEM_EXECUTE: u32 = 0x2000_0000;
pub(crate) const SCN_MEM_WRITE: u32 = 0x8000_0000;
const SCN_CNT_CODE: u32 = 0x0000_0020;

/// Default /GS cookie value the MSVC toolchain puts in x64 images.
pub(crate) const DEFAULT_SECURITY_COOKIE: u64 = 0x0000_2B99_2DDF_A232;

const DIR_NAMES: [&str; 16] = [
    "export",
    "import",
    "resource",
    "exception",
    "security",
    "base relocation",
    "debug",
    "architecture",
    "global pointer",
    "TLS",
    "load config",
    "bound import",
    "IAT",
    "delay import",
    "CLR runtime",
    "reserved",
];

/// One section of a loaded image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Section {
    pub name: String,
    /// RVA of the first byte.
    pub rva: u32,
    /// Bytes covered in memory (`VirtualSize`, or `SizeOfRawData` if that is 0).
    pub virtual_size: u32,
    /// Bytes initialised from the file.
    pub raw_size: u32,
    /// `IMAGE_SCN_*` flags.
    pub characteristics: u32,
}

impl Section {
    #[must_use]
    pub fn is_executable(&self) -> bool {
        self.characteristics & (SCN_MEM_EXECUTE | SCN_CNT_CODE) != 0
    }

    #[must_use]
    pub fn is_writable(&self) -> bool {
        self.characteristics & SCN_MEM_WRITE != 0
    }

    /// True if `rva` is inside `[rva, rva + virtual_size)`.
    #[must_use]
    pub fn contains_rva(&self, rva: u32) -> bool {
        rva >= self.rva && rva - self.rva < self.virtual_size
    }
}

/// One entry of the image's `.pdata` (x64 `RUNTIME_FUNCTION`), RVAs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RuntimeFunction {
    pub begin: u32,
    pub end: u32,
    pub unwind_info: u32,
}

/// One imported function.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportRef {
    /// Module name, lowercased (`ndis.sys`).
    pub module: String,
    /// Function name, or `#ordinal` for an import by ordinal.
    pub name: String,
    /// Ordinal if imported by ordinal.
    pub ordinal: Option<u16>,
    /// RVA of its import address table slot.
    pub iat_rva: u32,
}

/// Everything parsed from the file, with the image laid out as in memory.
pub(crate) struct Parsed {
    pub preferred_base: u64,
    pub size_of_headers: usize,
    pub entry_rva: u32,
    pub timestamp: u32,
    pub characteristics: u16,
    pub subsystem: u16,
    pub sections: Vec<Section>,
    pub layout: Vec<u8>,
    pub relocs: Vec<u32>,
    pub imports: Vec<ImportRef>,
    pub exports: Vec<(String, u32)>,
    pub pdata: Vec<RuntimeFunction>,
    /// RVA of the /GS security cookie, if a load config names one.
    pub cookie_rva: Option<u32>,
    pub codeview: Option<CodeView>,
}

fn u16_at(b: &[u8], off: usize) -> Option<u16> {
    b.get(off..off.checked_add(2)?).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], off: usize) -> Option<u32> {
    b.get(off..off.checked_add(4)?).map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], off: usize) -> Option<u64> {
    let s = b.get(off..off.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    Some(u64::from_le_bytes(a))
}

fn malformed(s: impl Into<String>) -> LoadError {
    LoadError::Malformed(s.into())
}

/// A NUL-terminated printable ASCII string at `off` in the layout.
fn cstr_at(layout: &[u8], off: usize, what: &str) -> Result<String, LoadError> {
    let tail = layout.get(off..).ok_or_else(|| malformed(format!("{what} at RVA {off:#x} lies outside the image")))?;
    let tail = &tail[..tail.len().min(MAX_NAME)];
    let end = tail
        .iter()
        .position(|&b| b == 0)
        .ok_or_else(|| malformed(format!("{what} at RVA {off:#x} is not NUL-terminated within {MAX_NAME} bytes")))?;
    let s = &tail[..end];
    if s.is_empty() || !s.iter().all(u8::is_ascii_graphic) {
        return Err(malformed(format!("{what} at RVA {off:#x} is empty or not printable ASCII")));
    }
    Ok(String::from_utf8_lossy(s).into_owned())
}

fn align_up(v: u64, a: u64) -> u64 {
    v.div_ceil(a) * a
}

#[allow(clippy::too_many_lines)]
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, LoadError> {
    let len = bytes.len();
    if bytes.get(..2) != Some(b"MZ") {
        return Err(LoadError::NotPe("missing MZ signature".into()));
    }
    if len < 0x40 {
        return Err(LoadError::Truncated(format!("the DOS header needs 0x40 bytes but the file has {len:#x} bytes")));
    }
    let pe = u32_at(bytes, 0x3c).unwrap_or(0) as usize;
    let coff = pe + 4;
    let opt = coff + 20;
    if opt > len {
        return Err(LoadError::Truncated(format!(
            "the PE and COFF headers at {pe:#x} end at {opt:#x} but the file has {len:#x} bytes"
        )));
    }
    if &bytes[pe..coff] != b"PE\0\0" {
        return Err(LoadError::NotPe(format!("missing PE signature at {pe:#x}")));
    }
    let machine = u16_at(bytes, coff).unwrap_or(0);
    if machine != 0x8664 {
        return Err(LoadError::UnsupportedMachine { machine });
    }
    let nsections = usize::from(u16_at(bytes, coff + 2).unwrap_or(0));
    let timestamp = u32_at(bytes, coff + 4).unwrap_or(0);
    let size_opt = usize::from(u16_at(bytes, coff + 16).unwrap_or(0));
    let characteristics = u16_at(bytes, coff + 18).unwrap_or(0);
    if characteristics & IMAGE_FILE_EXECUTABLE_IMAGE == 0 {
        return Err(LoadError::Unsupported(
            "the COFF header does not mark the file as an executable image (an object file?)".into(),
        ));
    }
    if opt + 2 > len {
        return Err(LoadError::Truncated(format!(
            "the optional header at {opt:#x} is beyond the end of the file ({len:#x} bytes)"
        )));
    }
    let magic = u16_at(bytes, opt).unwrap_or(0);
    if magic != 0x20b {
        return Err(LoadError::NotPe32Plus { magic });
    }
    if size_opt < 112 {
        return Err(malformed(format!(
            "SizeOfOptionalHeader {size_opt:#x} is smaller than a PE32+ optional header (0x70)"
        )));
    }
    let opt_end = opt + size_opt;
    if opt_end > len {
        return Err(LoadError::Truncated(format!(
            "the optional header ends at {opt_end:#x} but the file has {len:#x} bytes"
        )));
    }
    let o = &bytes[opt..opt_end];
    let entry_rva = u32_at(o, 16).unwrap_or(0);
    let preferred_base = u64_at(o, 24).unwrap_or(0);
    let section_alignment = u32_at(o, 32).unwrap_or(0);
    let size_of_image = u32_at(o, 56).unwrap_or(0) as usize;
    let size_of_headers = u32_at(o, 60).unwrap_or(0) as usize;
    let subsystem = u16_at(o, 68).unwrap_or(0);
    let ndirs = (u32_at(o, 108).unwrap_or(0) as usize).min((size_opt - 112) / 8).min(16);

    if !section_alignment.is_power_of_two() || section_alignment < PAGE {
        return Err(LoadError::Unsupported(format!(
            "section alignment {section_alignment:#x} is not a power of two of at least the 4 KiB page size, so sections cannot get their own page protection"
        )));
    }
    if size_of_image == 0 || size_of_image > MAX_IMAGE_SIZE {
        return Err(malformed(format!("SizeOfImage {size_of_image:#x} is outside 1..={MAX_IMAGE_SIZE:#x}")));
    }
    if size_of_headers == 0 || size_of_headers > size_of_image {
        return Err(malformed(format!(
            "SizeOfHeaders {size_of_headers:#x} is 0 or larger than SizeOfImage {size_of_image:#x}"
        )));
    }

    // Section table.
    if nsections == 0 || nsections > MAX_SECTIONS {
        return Err(malformed(format!("{nsections} sections (expected 1..={MAX_SECTIONS})")));
    }
    let table_end = opt_end + nsections * 40;
    if table_end > len {
        return Err(LoadError::Truncated(format!(
            "the section table ends at {table_end:#x} but the file has {len:#x} bytes"
        )));
    }
    if size_of_headers > len {
        return Err(LoadError::Truncated(format!(
            "the headers (SizeOfHeaders) end at {size_of_headers:#x} but the file has {len:#x} bytes"
        )));
    }
    if table_end > size_of_headers {
        return Err(malformed(format!(
            "the section table ends at {table_end:#x}, beyond SizeOfHeaders {size_of_headers:#x}"
        )));
    }
    let image_len = align_up(size_of_image as u64, u64::from(PAGE));
    let mut sections: Vec<Section> = Vec::with_capacity(nsections);
    let mut raw: Vec<(usize, usize)> = Vec::with_capacity(nsections);
    let mut next_free = align_up(size_of_headers as u64, u64::from(section_alignment));
    for i in 0..nsections {
        let h = &bytes[opt_end + i * 40..opt_end + (i + 1) * 40];
        let name_raw = &h[..8];
        let name_end = name_raw.iter().position(|&b| b == 0).unwrap_or(8);
        let name = String::from_utf8_lossy(&name_raw[..name_end]).into_owned();
        let vsize = u32_at(h, 8).unwrap_or(0);
        let va = u32_at(h, 12).unwrap_or(0);
        let raw_size = u32_at(h, 16).unwrap_or(0);
        let raw_ptr = u32_at(h, 20).unwrap_or(0);
        let flags = u32_at(h, 36).unwrap_or(0);
        let mem_size = if vsize == 0 { raw_size } else { vsize };
        if !va.is_multiple_of(section_alignment) {
            return Err(malformed(format!("section {name} at RVA {va:#x} is not aligned to {section_alignment:#x}")));
        }
        if u64::from(va) < next_free {
            return Err(malformed(format!(
                "section {name} at RVA {va:#x} overlaps the headers or the previous section"
            )));
        }
        let end = u64::from(va) + align_up(u64::from(mem_size), u64::from(section_alignment));
        if end > image_len {
            return Err(malformed(format!(
                "section {name} ends at RVA {end:#x}, beyond SizeOfImage {size_of_image:#x}"
            )));
        }
        next_free = end.max(u64::from(va) + 1);
        if raw_size > 0 {
            let raw_end = u64::from(raw_ptr) + u64::from(raw_size);
            if raw_end > len as u64 {
                return Err(LoadError::Truncated(format!(
                    "section {name} raw data ends at {raw_end:#x} but the file has {len:#x} bytes"
                )));
            }
        }
        if flags & SCN_MEM_WRITE != 0 && flags & SCN_MEM_EXECUTE != 0 {
            return Err(LoadError::Unsupported(format!("section {name} is both writable and executable")));
        }
        raw.push((raw_ptr as usize, raw_size.min(mem_size) as usize));
        sections.push(Section { name, rva: va, virtual_size: mem_size, raw_size, characteristics: flags });
    }

    // Data directories.
    let mut dirs = [(0u32, 0u32); 16];
    for (i, d) in dirs.iter_mut().enumerate().take(ndirs) {
        let rva = u32_at(o, 112 + i * 8).unwrap_or(0);
        let size = u32_at(o, 116 + i * 8).unwrap_or(0);
        if i != 4 && (rva != 0 || size != 0) && u64::from(rva) + u64::from(size) > size_of_image as u64 {
            return Err(malformed(format!(
                "the {} directory (RVA {rva:#x}, size {size:#x}) lies outside the image",
                DIR_NAMES[i]
            )));
        }
        *d = (rva, size);
    }
    if dirs[9].0 != 0 {
        return Err(LoadError::Unsupported(
            "the image has a TLS directory: kernel images must not use thread-local storage".into(),
        ));
    }
    if dirs[13].0 != 0 {
        return Err(LoadError::Unsupported(
            "the image uses delay-load imports, which kernel images cannot have".into(),
        ));
    }
    if dirs[11].0 != 0 {
        return Err(LoadError::Unsupported("the image has a bound import directory".into()));
    }
    if dirs[14].0 != 0 {
        return Err(LoadError::Unsupported("the image is a .NET (CLR) image".into()));
    }

    if entry_rva == 0 {
        return Err(malformed("the image has no entry point (AddressOfEntryPoint is 0)"));
    }
    if !sections
        .iter()
        .any(|s| s.is_executable() && s.characteristics & SCN_MEM_EXECUTE != 0 && s.contains_rva(entry_rva))
    {
        return Err(malformed(format!("the entry point RVA {entry_rva:#x} is not inside an executable section")));
    }

    // Virtual layout.
    let mut layout = vec![0u8; usize::try_from(image_len).map_err(|_| malformed("image too large"))?];
    layout[..size_of_headers].copy_from_slice(&bytes[..size_of_headers]);
    for (s, &(ptr, n)) in sections.iter().zip(&raw) {
        if n > 0 {
            let dst = s.rva as usize;
            layout[dst..dst + n].copy_from_slice(&bytes[ptr..ptr + n]);
        }
    }

    let relocs = parse_relocs(&layout, dirs[5])?;
    let imports = parse_imports(&layout, dirs[1])?;
    let exports = parse_exports(&layout, dirs[0])?;
    let pdata = parse_pdata(&layout, dirs[3])?;
    let cookie_rva = parse_cookie(&layout, dirs[10], preferred_base, &sections)?;
    let codeview = parse_codeview(&layout, dirs[6]);

    Ok(Parsed {
        preferred_base,
        size_of_headers,
        entry_rva,
        timestamp,
        characteristics,
        subsystem,
        sections,
        layout,
        relocs,
        imports,
        exports,
        pdata,
        cookie_rva,
        codeview,
    })
}

fn parse_relocs(layout: &[u8], (rva, size): (u32, u32)) -> Result<Vec<u32>, LoadError> {
    let mut out = Vec::new();
    let (start, end) = (rva as usize, rva as usize + size as usize);
    let mut b = start;
    while b + 8 <= end {
        let page = u32_at(layout, b).unwrap_or(0);
        let block = u32_at(layout, b + 4).unwrap_or(0) as usize;
        if block < 8 || !block.is_multiple_of(2) || b + block > end {
            return Err(malformed(format!("base relocation block at RVA {b:#x} has invalid size {block:#x}")));
        }
        for e in (b + 8..b + block).step_by(2) {
            let v = u16_at(layout, e).unwrap_or(0);
            let kind = v >> 12;
            let target = u64::from(page) + u64::from(v & 0xfff);
            match kind {
                0 => {}
                10 => {
                    if target + 8 > layout.len() as u64 {
                        return Err(malformed(format!(
                            "base relocation target RVA {target:#x} lies outside the image"
                        )));
                    }
                    out.push(u32::try_from(target).map_err(|_| malformed("relocation RVA overflow"))?);
                }
                _ => {
                    return Err(LoadError::UnsupportedRelocation {
                        kind,
                        rva: u32::try_from(target).unwrap_or(u32::MAX),
                    });
                }
            }
        }
        b += block;
    }
    Ok(out)
}

fn parse_imports(layout: &[u8], (rva, size): (u32, u32)) -> Result<Vec<ImportRef>, LoadError> {
    let mut out = Vec::new();
    if rva == 0 {
        return Ok(out);
    }
    let mut d = rva as usize;
    for _ in 0..MAX_IMPORT_MODULES {
        if d + 20 > layout.len() {
            return Err(malformed(format!("import descriptor at RVA {d:#x} lies outside the image")));
        }
        let ilt = u32_at(layout, d).unwrap_or(0);
        let name_rva = u32_at(layout, d + 12).unwrap_or(0);
        let iat = u32_at(layout, d + 16).unwrap_or(0);
        if ilt == 0 && name_rva == 0 && iat == 0 {
            return Ok(out);
        }
        if size != 0 && d + 20 > rva as usize + size as usize + 20 {
            return Err(malformed("the import directory is not terminated by a null descriptor"));
        }
        let module = cstr_at(layout, name_rva as usize, "import module name")?.to_ascii_lowercase();
        if iat == 0 {
            return Err(malformed(format!("import descriptor for {module} has no import address table")));
        }
        let lookup = if ilt != 0 { ilt } else { iat } as usize;
        for i in 0..=MAX_IMPORTS_PER_MODULE {
            if i == MAX_IMPORTS_PER_MODULE {
                return Err(malformed(format!("import lookup table of {module} is not terminated")));
            }
            let slot = lookup + 8 * i;
            let iat_slot = iat as usize + 8 * i;
            let entry = u64_at(layout, slot)
                .ok_or_else(|| malformed(format!("import lookup table of {module} runs outside the image")))?;
            if entry == 0 {
                break;
            }
            if iat_slot + 8 > layout.len() {
                return Err(malformed(format!("import address table of {module} runs outside the image")));
            }
            let iat_rva = u32::try_from(iat_slot).map_err(|_| malformed("IAT RVA overflow"))?;
            if entry & (1 << 63) != 0 {
                let ordinal = (entry & 0xffff) as u16;
                out.push(ImportRef {
                    module: module.clone(),
                    name: format!("#{ordinal}"),
                    ordinal: Some(ordinal),
                    iat_rva,
                });
            } else {
                if entry >> 31 != 0 {
                    return Err(malformed(format!("import lookup entry {entry:#x} of {module} has reserved bits set")));
                }
                let name = cstr_at(layout, crate::abi::usize_of(entry) + 2, "import name")?;
                out.push(ImportRef { module: module.clone(), name, ordinal: None, iat_rva });
            }
        }
        d += 20;
    }
    Err(malformed(format!("more than {MAX_IMPORT_MODULES} import descriptors")))
}

fn parse_exports(layout: &[u8], (rva, size): (u32, u32)) -> Result<Vec<(String, u32)>, LoadError> {
    let mut out = Vec::new();
    if rva == 0 {
        return Ok(out);
    }
    let d = rva as usize;
    let bad = || malformed(format!("export directory at RVA {d:#x} is inconsistent"));
    let nfuncs = u32_at(layout, d + 0x14).ok_or_else(bad)? as usize;
    let nnames = u32_at(layout, d + 0x18).ok_or_else(bad)? as usize;
    let funcs = u32_at(layout, d + 0x1c).ok_or_else(bad)? as usize;
    let names = u32_at(layout, d + 0x20).ok_or_else(bad)? as usize;
    let ords = u32_at(layout, d + 0x24).ok_or_else(bad)? as usize;
    if nfuncs > 1 << 16 || nnames > nfuncs {
        return Err(bad());
    }
    for i in 0..nnames {
        let name_rva = u32_at(layout, names + 4 * i).ok_or_else(bad)? as usize;
        let ord = usize::from(u16_at(layout, ords + 2 * i).ok_or_else(bad)?);
        if ord >= nfuncs {
            return Err(bad());
        }
        let f = u32_at(layout, funcs + 4 * ord).ok_or_else(bad)?;
        if f >= rva && f < rva + size {
            continue; // forwarder
        }
        if f as usize >= layout.len() {
            return Err(bad());
        }
        out.push((cstr_at(layout, name_rva, "export name")?, f));
    }
    Ok(out)
}

fn parse_pdata(layout: &[u8], (rva, size): (u32, u32)) -> Result<Vec<RuntimeFunction>, LoadError> {
    let mut out = Vec::with_capacity(size as usize / 12);
    for e in (rva as usize..rva as usize + size as usize / 12 * 12).step_by(12) {
        let f = RuntimeFunction {
            begin: u32_at(layout, e).unwrap_or(0),
            end: u32_at(layout, e + 4).unwrap_or(0),
            unwind_info: u32_at(layout, e + 8).unwrap_or(0),
        };
        if f.begin >= f.end || f.end as usize > layout.len() {
            return Err(malformed(format!("exception table entry at RVA {e:#x} is invalid")));
        }
        out.push(f);
    }
    out.sort_by_key(|f| f.begin);
    Ok(out)
}

fn parse_cookie(
    layout: &[u8],
    (rva, size): (u32, u32),
    base: u64,
    sections: &[Section],
) -> Result<Option<u32>, LoadError> {
    if rva == 0 || size < 4 {
        return Ok(None);
    }
    let d = rva as usize;
    let lc_size = u32_at(layout, d).unwrap_or(0) as usize;
    if lc_size < 0x60 {
        return Ok(None);
    }
    let va = u64_at(layout, d + 0x58).unwrap_or(0);
    if va == 0 {
        return Ok(None);
    }
    let cookie_rva = va
        .checked_sub(base)
        .and_then(|r| u32::try_from(r).ok())
        .filter(|&r| r as usize + 8 <= layout.len())
        .ok_or_else(|| malformed(format!("the security cookie address {va:#x} lies outside the image")))?;
    if !sections.iter().any(|s| s.is_writable() && s.contains_rva(cookie_rva)) {
        return Err(malformed(format!("the security cookie at RVA {cookie_rva:#x} is not in a writable section")));
    }
    Ok(Some(cookie_rva))
}

fn parse_codeview(layout: &[u8], (rva, size): (u32, u32)) -> Option<CodeView> {
    for e in (rva as usize..rva as usize + size as usize / 28 * 28).step_by(28) {
        if u32_at(layout, e + 12)? != 2 {
            continue;
        }
        let data_size = u32_at(layout, e + 16)? as usize;
        let data = u32_at(layout, e + 20)? as usize;
        let rec = layout.get(data..data.checked_add(data_size)?)?;
        if rec.len() < 24 || &rec[..4] != b"RSDS" {
            continue;
        }
        let mut d4 = [0u8; 8];
        d4.copy_from_slice(&rec[12..20]);
        let guid = (u32_at(rec, 4)?, u16_at(rec, 8)?, u16_at(rec, 10)?, d4);
        let age = u32_at(rec, 20)?;
        let path_bytes = &rec[24..];
        let end = path_bytes.iter().position(|&b| b == 0).unwrap_or(path_bytes.len());
        return Some(CodeView { guid, age, pdb_path: String::from_utf8_lossy(&path_bytes[..end]).into_owned() });
    }
    None
}
