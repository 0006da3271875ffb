//! RVA → function name for a loaded image.
//!
//! Sources, in order of preference (see [`Symbols::for_image`]):
//! 1. the PDB next to the image (`<stem>.pdb`) or at the path recorded in the image's CodeView
//!    debug record, accepted only if its GUID matches the image: module procedure symbols (with
//!    sizes and readable Rust paths) plus public symbols (demangled);
//! 2. the map file lld-link writes with `/MAP` (`<stem>.map` next to the image or in `deps/`),
//!    accepted only if its timestamp matches the image's COFF timestamp;
//! 3. the image's own export table.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use pdb::FallibleIterator;

/// Where the symbols came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SymbolSource {
    Pdb(PathBuf),
    Map(PathBuf),
    Exports,
    None,
}

/// The identity of the PDB an image was linked with (its CodeView `RSDS` record).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CodeView {
    /// GUID fields as stored in the image (`Data1`, `Data2`, `Data3`, `Data4`).
    pub guid: (u32, u16, u16, [u8; 8]),
    pub age: u32,
    pub pdb_path: String,
}

#[derive(Clone, Debug)]
struct Sym {
    rva: u32,
    /// 0 = size unknown.
    len: u32,
    name: String,
}

/// A sorted symbol table for one image.
#[derive(Clone, Debug)]
pub struct Symbols {
    source: SymbolSource,
    /// Procedures with a known size.
    procs: Vec<Sym>,
    /// Public/map/export symbols without size.
    points: Vec<Sym>,
    /// Why better sources were not used.
    notes: Vec<String>,
}

impl Symbols {
    /// No symbols.
    #[must_use]
    pub fn empty() -> Self {
        Self { source: SymbolSource::None, procs: Vec::new(), points: Vec::new(), notes: Vec::new() }
    }

    /// Where these symbols came from.
    #[must_use]
    pub fn source(&self) -> &SymbolSource {
        &self.source
    }

    /// Diagnostics about sources that were tried and rejected.
    #[must_use]
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Number of symbols.
    #[must_use]
    pub fn len(&self) -> usize {
        self.procs.len() + self.points.len()
    }

    /// True if there are no symbols.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn finish(mut self) -> Self {
        self.procs.sort_by_key(|s| s.rva);
        self.points.sort_by_key(|s| s.rva);
        self.points.dedup_by_key(|s| s.rva);
        self
    }

    /// The function containing `rva` and the offset into it.
    #[must_use]
    pub fn lookup(&self, rva: u32) -> Option<(&str, u32)> {
        let i = self.procs.partition_point(|s| s.rva <= rva);
        if i > 0 {
            let s = &self.procs[i - 1];
            if rva - s.rva < s.len {
                return Some((&s.name, rva - s.rva));
            }
        }
        let i = self.points.partition_point(|s| s.rva <= rva);
        (i > 0).then(|| {
            let s = &self.points[i - 1];
            (s.name.as_str(), rva - s.rva)
        })
    }

    /// RVA of the first symbol with exactly this name (procedures first).
    #[must_use]
    pub fn rva_of(&self, name: &str) -> Option<u32> {
        self.procs.iter().chain(&self.points).find(|s| s.name == name).map(|s| s.rva)
    }

    /// Symbols from a PDB. If `expect` is given the PDB's GUID must match it.
    pub fn from_pdb(path: &Path, expect: Option<&CodeView>) -> Result<Self, String> {
        let err = |e: pdb::Error| format!("{}: {e}", path.display());
        let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut pdb = pdb::PDB::open(file).map_err(err)?;
        if let Some(cv) = expect {
            let info = pdb.pdb_information().map_err(err)?;
            let (d1, d2, d3, d4) = info.guid.as_fields();
            if (d1, d2, d3, *d4) != cv.guid {
                return Err(format!("{}: GUID {} does not match the image", path.display(), info.guid));
            }
        }
        let map = pdb.address_map().map_err(err)?;
        let mut out = Self { source: SymbolSource::Pdb(path.to_owned()), ..Self::empty() };

        let globals = pdb.global_symbols().map_err(err)?;
        let mut it = globals.iter();
        while let Some(sym) = it.next().map_err(err)? {
            if let Ok(pdb::SymbolData::Public(p)) = sym.parse()
                && let Some(rva) = p.offset.to_rva(&map)
            {
                out.points.push(Sym { rva: rva.0, len: 0, name: demangle(&p.name.to_string()) });
            }
        }
        let dbi = pdb.debug_information().map_err(err)?;
        let mut modules = dbi.modules().map_err(err)?;
        while let Some(module) = modules.next().map_err(err)? {
            let Some(info) = pdb.module_info(&module).map_err(err)? else { continue };
            let mut syms = info.symbols().map_err(err)?;
            while let Some(sym) = syms.next().map_err(err)? {
                if let Ok(pdb::SymbolData::Procedure(p)) = sym.parse()
                    && let Some(rva) = p.offset.to_rva(&map)
                {
                    out.procs.push(Sym { rva: rva.0, len: p.len, name: p.name.to_string().into_owned() });
                }
            }
        }
        Ok(out.finish())
    }

    /// Symbols from an lld-link/link.exe `/MAP` file. If `timestamp` is given, the map's
    /// "Timestamp is …" line must match it.
    pub fn from_map(path: &Path, timestamp: Option<u32>) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Self::parse_map(&text, timestamp)
            .map(|mut s| {
                s.source = SymbolSource::Map(path.to_owned());
                s
            })
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    fn parse_map(text: &str, timestamp: Option<u32>) -> Result<Self, String> {
        let mut base: Option<u64> = None;
        let mut out = Self::empty();
        for line in text.lines() {
            let t = line.trim();
            if let Some(rest) = t.strip_prefix("Timestamp is ") {
                let stamp = rest.split_whitespace().next().and_then(|h| u32::from_str_radix(h, 16).ok());
                if let (Some(want), Some(got)) = (timestamp, stamp)
                    && want != got
                {
                    return Err(format!("timestamp {got:#x} does not match the image ({want:#x})"));
                }
            } else if let Some(rest) = t.strip_prefix("Preferred load address is ") {
                base = u64::from_str_radix(rest.trim(), 16).ok();
            } else {
                // "0001:00000000       DriverEntry                0000000180001000     obj"
                let mut f = t.split_whitespace();
                let (Some(secoff), Some(name), Some(va)) = (f.next(), f.next(), f.next()) else { continue };
                let Some((sec, off)) = secoff.split_once(':') else { continue };
                if sec.len() != 4 || off.len() != 8 || u16::from_str_radix(sec, 16).is_err() || va.len() != 16 {
                    continue;
                }
                let (Some(b), Ok(va)) = (base, u64::from_str_radix(va, 16)) else { continue };
                let Some(rva) = va.checked_sub(b).and_then(|r| u32::try_from(r).ok()) else { continue };
                if rva == 0 || name.starts_with("__imp_") {
                    continue;
                }
                out.points.push(Sym { rva, len: 0, name: demangle(name) });
            }
        }
        if base.is_none() {
            return Err("no \"Preferred load address\" line".to_owned());
        }
        Ok(out.finish())
    }

    /// Symbols from an export list (`name`, `rva`).
    #[must_use]
    pub fn from_exports(exports: &[(String, u32)]) -> Self {
        let mut out = Self { source: SymbolSource::Exports, ..Self::empty() };
        out.points = exports.iter().map(|(n, r)| Sym { rva: *r, len: 0, name: n.clone() }).collect();
        out.finish()
    }

    /// Find symbols for the image file at `image_path` (see the module docs for the order).
    #[must_use]
    pub fn for_image(
        image_path: &Path,
        codeview: Option<&CodeView>,
        timestamp: u32,
        exports: &[(String, u32)],
    ) -> Self {
        let mut notes = Vec::new();
        let dir = image_path.parent().unwrap_or(Path::new("."));
        let stem = image_path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();

        let mut pdbs = vec![dir.join(format!("{stem}.pdb"))];
        if let Some(cv) = codeview {
            let p = PathBuf::from(&cv.pdb_path);
            if !pdbs.contains(&p) {
                pdbs.push(p);
            }
        }
        for p in pdbs.iter().filter(|p| p.is_file()) {
            match Self::from_pdb(p, codeview) {
                Ok(mut s) => {
                    s.notes = notes;
                    return s;
                }
                Err(e) => notes.push(e),
            }
        }
        for p in [dir.join(format!("{stem}.map")), dir.join("deps").join(format!("{stem}.map"))] {
            if p.is_file() {
                match Self::from_map(&p, Some(timestamp)) {
                    Ok(mut s) => {
                        s.notes = notes;
                        return s;
                    }
                    Err(e) => notes.push(e),
                }
            }
        }
        let mut s = Self::from_exports(exports);
        s.notes = notes;
        s
    }
}

/// Demangle a legacy Rust symbol (`_ZN…E`), dropping the hash; other names are returned as is.
#[must_use]
pub fn demangle(name: &str) -> String {
    demangle_legacy(name).unwrap_or_else(|| name.to_owned())
}

fn demangle_legacy(name: &str) -> Option<String> {
    let body = name.strip_prefix("_ZN").or_else(|| name.strip_prefix("__ZN"))?;
    let bytes = body.as_bytes();
    let mut parts: Vec<&str> = Vec::new();
    let mut i = 0;
    loop {
        if bytes.get(i) == Some(&b'E') {
            break;
        }
        let start = i;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        let len: usize = body.get(start..i)?.parse().ok()?;
        let part = body.get(i..i.checked_add(len)?)?;
        parts.push(part);
        i += len;
    }
    if let Some(last) = parts.last()
        && last.len() == 17
        && last.starts_with('h')
        && last[1..].bytes().all(|b| b.is_ascii_hexdigit())
    {
        parts.pop();
    }
    let mut out = String::new();
    for (n, part) in parts.iter().enumerate() {
        if n > 0 {
            out.push_str("::");
        }
        let p = part.strip_prefix("_$").map_or(*part, |r| &part[part.len() - r.len() - 1..]);
        unescape_into(p, &mut out);
    }
    Some(out)
}

fn unescape_into(mut p: &str, out: &mut String) {
    while !p.is_empty() {
        if let Some(rest) = p.strip_prefix("..") {
            out.push_str("::");
            p = rest;
        } else if p.starts_with('$')
            && let Some(end) = p[1..].find('$')
        {
            let code = &p[1..=end];
            let rep = match code {
                "SP" => Some('@'),
                "BP" => Some('*'),
                "RF" => Some('&'),
                "LT" => Some('<'),
                "GT" => Some('>'),
                "LP" => Some('('),
                "RP" => Some(')'),
                "C" => Some(','),
                _ => code.strip_prefix('u').and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32),
            };
            if let Some(c) = rep {
                out.push(c);
            } else {
                let _ = write!(out, "${code}$");
            }
            p = &p[end + 2..];
        } else {
            let c = p.chars().next().unwrap_or('?');
            out.push(c);
            p = &p[c.len_utf8()..];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demangles_legacy_paths() {
        assert_eq!(
            demangle("_ZN6rvmini8datapath4send8transmit17h0123456789abcdefE"),
            "rvmini::datapath::send::transmit"
        );
        assert_eq!(
            demangle("_ZN4core3ptr42drop_in_place$LT$alloc..string..String$GT$17h0123456789abcdefE"),
            "core::ptr::drop_in_place<alloc::string::String>"
        );
        assert_eq!(demangle("DriverEntry"), "DriverEntry");
        assert_eq!(demangle("_ZN3foo"), "_ZN3foo");
    }

    #[test]
    fn parses_lld_map() {
        let map = " rvmini\n\n Timestamp is 6b0256c9 (Sun Nov 22 02:43:21 2026)\n\n Preferred load address is 0000000180000000\n\n  Address         Publics by Value              Rva+Base               Lib:Object\n\n 0001:00000000       DriverEntry                0000000180001000     rvmini.o\n 0001:00000040       _ZN6rvmini3foo17h0123456789abcdefE 0000000180001040     rvmini.o\n 0002:000000c0       __imp_NdisMDeregisterMiniportDriver 00000001800020c0     ndis.sys\n";
        let s = Symbols::parse_map(map, Some(0x6b02_56c9)).unwrap();
        assert_eq!(s.lookup(0x1006), Some(("DriverEntry", 6)));
        assert_eq!(s.lookup(0x1045), Some(("rvmini::foo", 5)));
        assert_eq!(s.lookup(0x20c0), Some(("rvmini::foo", 0x1080)));
        assert!(s.lookup(0xfff).is_none());
        assert!(Symbols::parse_map(map, Some(1)).unwrap_err().contains("timestamp"));
    }
}
