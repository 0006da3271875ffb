//! A small PE32+ image writer for synthetic test drivers, and helpers to locate/build the real
//! rvmini.dll and to poke at PE headers of existing files.
//!
//! Fixed layout: headers (file 0x400, memory 0x1000), `.text` at RVA 0x1000, `.rdata` at 0x2000
//! (import/export/load-config/pdata tables, then `rdata_extra`), `.data` at 0x3000, optional
//! `.reloc` at 0x4000, then any `extra_sections`. Each section must fit in 4 KiB.

use std::collections::HashMap;
use std::path::PathBuf;

pub const TEXT: u32 = 0x1000;
pub const RDATA: u32 = 0x2000;
pub const DATA: u32 = 0x3000;
pub const RELOC: u32 = 0x4000;

pub const CODE_RX: u32 = 0x6000_0020;
pub const DATA_R: u32 = 0x4000_0040;
pub const DATA_RW: u32 = 0xC000_0040;

#[derive(Clone, Debug)]
pub enum Imp {
    Name(String),
    Ordinal(u16),
}

#[derive(Clone, Debug)]
pub struct Pe {
    pub machine: u16,
    pub magic: u16,
    pub file_characteristics: u16,
    pub image_base: u64,
    pub section_alignment: u32,
    pub text: Vec<u8>,
    pub text_flags: u32,
    pub data: Vec<u8>,
    pub data_flags: u32,
    pub rdata_extra: Vec<u8>,
    pub imports: Vec<(String, Vec<Imp>)>,
    pub exports: Vec<(String, u32)>,
    /// (RVA, type); type 10 = DIR64.
    pub relocs: Vec<(u32, u16)>,
    pub entry_rva: u32,
    /// (begin, end) RVAs for `.pdata` (unwind info is a dummy).
    pub pdata: Vec<(u32, u32)>,
    /// RVA (in `.data`) of a /GS cookie named by a load config directory.
    pub security_cookie: Option<u32>,
    /// Raw data-directory overrides (index, RVA, size) applied last.
    pub dir_overrides: Vec<(usize, u32, u32)>,
    pub size_of_image: Option<u32>,
    pub extra_sections: Vec<(String, u32, Vec<u8>)>,
}

impl Default for Pe {
    fn default() -> Self {
        Self {
            machine: 0x8664,
            magic: 0x20b,
            file_characteristics: 0x2022,
            image_base: 0x1_4000_0000,
            section_alignment: 0x1000,
            text: vec![0xC3],
            text_flags: CODE_RX,
            data: vec![0; 16],
            data_flags: DATA_RW,
            rdata_extra: Vec::new(),
            imports: Vec::new(),
            exports: Vec::new(),
            relocs: Vec::new(),
            entry_rva: TEXT,
            pdata: Vec::new(),
            security_cookie: None,
            dir_overrides: Vec::new(),
            size_of_image: None,
            extra_sections: Vec::new(),
        }
    }
}

/// Where the builder put things.
#[derive(Debug, Default)]
pub struct Layout {
    pub iat: HashMap<(String, String), u32>,
    pub rdata_extra: u32,
}

fn put_u16(b: &mut [u8], off: usize, v: u16) {
    b[off..off + 2].copy_from_slice(&v.to_le_bytes());
}
fn put_u32(b: &mut [u8], off: usize, v: u32) {
    b[off..off + 4].copy_from_slice(&v.to_le_bytes());
}
fn put_u64(b: &mut [u8], off: usize, v: u64) {
    b[off..off + 8].copy_from_slice(&v.to_le_bytes());
}
fn align(v: usize, a: usize) -> usize {
    v.div_ceil(a) * a
}
fn rva(v: usize) -> u32 {
    u32::try_from(v).unwrap()
}

struct Rdata {
    bytes: Vec<u8>,
    layout: Layout,
    import_dir: (u32, u32),
    iat_dir: (u32, u32),
    export_dir: (u32, u32),
    load_config: (u32, u32),
    pdata: (u32, u32),
}

impl Pe {
    #[allow(clippy::too_many_lines)]
    fn rdata(&self) -> Rdata {
        let mut b = vec![0u8; 0];
        let mut layout = Layout::default();
        let mut import_dir = (0, 0);
        let mut iat_dir = (0, 0);
        if !self.imports.is_empty() {
            let n = self.imports.len();
            let desc_len = (n + 1) * 20;
            b.resize(align(desc_len, 8), 0);
            import_dir = (RDATA, rva(desc_len));
            // ILTs then IATs.
            let mut ilt_off = Vec::new();
            for (_, list) in &self.imports {
                ilt_off.push(b.len());
                b.resize(b.len() + (list.len() + 1) * 8, 0);
            }
            let iat_start = b.len();
            let mut iat_off = Vec::new();
            for (_, list) in &self.imports {
                iat_off.push(b.len());
                b.resize(b.len() + (list.len() + 1) * 8, 0);
            }
            iat_dir = (RDATA + rva(iat_start), rva(b.len() - iat_start));
            for (m, (module, list)) in self.imports.iter().enumerate() {
                for (i, imp) in list.iter().enumerate() {
                    let entry = match imp {
                        Imp::Ordinal(o) => (1u64 << 63) | u64::from(*o),
                        Imp::Name(name) => {
                            let at = align(b.len(), 2);
                            b.resize(at, 0);
                            b.extend_from_slice(&[0, 0]);
                            b.extend_from_slice(name.as_bytes());
                            b.push(0);
                            layout.iat.insert((module.clone(), name.clone()), RDATA + rva(iat_off[m] + 8 * i));
                            u64::from(RDATA) + at as u64
                        }
                    };
                    put_u64(&mut b, ilt_off[m] + 8 * i, entry);
                    put_u64(&mut b, iat_off[m] + 8 * i, entry);
                }
                let name_at = b.len();
                b.extend_from_slice(module.as_bytes());
                b.push(0);
                let d = m * 20;
                put_u32(&mut b, d, RDATA + rva(ilt_off[m]));
                put_u32(&mut b, d + 12, RDATA + rva(name_at));
                put_u32(&mut b, d + 16, RDATA + rva(iat_off[m]));
            }
        }
        let mut export_dir = (0, 0);
        if !self.exports.is_empty() {
            b.resize(align(b.len(), 4), 0);
            let dir = b.len();
            let n = self.exports.len();
            b.resize(dir + 40 + n * 4 + n * 4 + n * 2, 0);
            let funcs = dir + 40;
            let names = funcs + n * 4;
            let ords = names + n * 4;
            // Names must be sorted for a real loader's binary search; keep input order sorted.
            let mut sorted: Vec<_> = self.exports.iter().enumerate().collect();
            sorted.sort_by(|a, b| a.1.0.cmp(&b.1.0));
            for (i, (name, f)) in self.exports.iter().enumerate() {
                put_u32(&mut b, funcs + 4 * i, *f);
                let _ = name;
            }
            for (k, (i, (name, _))) in sorted.iter().enumerate() {
                let at = b.len();
                b.extend_from_slice(name.as_bytes());
                b.push(0);
                put_u32(&mut b, names + 4 * k, RDATA + rva(at));
                put_u16(&mut b, ords + 2 * k, u16::try_from(*i).unwrap());
            }
            let dll = b.len();
            b.extend_from_slice(b"synthetic.sys\0");
            put_u32(&mut b, dir + 12, RDATA + rva(dll));
            put_u32(&mut b, dir + 16, 1);
            put_u32(&mut b, dir + 20, rva(n));
            put_u32(&mut b, dir + 24, rva(n));
            put_u32(&mut b, dir + 28, RDATA + rva(funcs));
            put_u32(&mut b, dir + 32, RDATA + rva(names));
            put_u32(&mut b, dir + 36, RDATA + rva(ords));
            export_dir = (RDATA + rva(dir), rva(b.len() - dir));
        }
        let mut load_config = (0, 0);
        if let Some(cookie) = self.security_cookie {
            b.resize(align(b.len(), 8), 0);
            let at = b.len();
            b.resize(at + 0x70, 0);
            put_u32(&mut b, at, 0x70);
            put_u64(&mut b, at + 0x58, self.image_base + u64::from(cookie));
            load_config = (RDATA + rva(at), 0x70);
        }
        let mut pdata = (0, 0);
        if !self.pdata.is_empty() {
            b.resize(align(b.len(), 4), 0);
            let unwind = b.len();
            b.extend_from_slice(&[1, 0, 0, 0]); // UNWIND_INFO v1, no codes
            let at = b.len();
            for (s, e) in &self.pdata {
                let mut ent = [0u8; 12];
                put_u32(&mut ent, 0, *s);
                put_u32(&mut ent, 4, *e);
                put_u32(&mut ent, 8, RDATA + rva(unwind));
                b.extend_from_slice(&ent);
            }
            pdata = (RDATA + rva(at), rva(b.len() - at));
        }
        b.resize(align(b.len(), 16), 0);
        layout.rdata_extra = RDATA + rva(b.len());
        b.extend_from_slice(&self.rdata_extra);
        assert!(b.len() <= 0x1000, "rdata too large");
        Rdata { bytes: b, layout, import_dir, iat_dir, export_dir, load_config, pdata }
    }

    /// Import slot RVAs etc. (depends only on imports/exports/load config/pdata).
    pub fn layout(&self) -> Layout {
        self.rdata().layout
    }

    /// Relocations the image needs for a DIR64 pointer at `at` (in `.data`) to `target`.
    pub fn add_pointer(&mut self, at: u32, target: u32) {
        let off = (at - DATA) as usize;
        if self.data.len() < off + 8 {
            self.data.resize(off + 8, 0);
        }
        put_u64(&mut self.data, off, self.image_base + u64::from(target));
        self.relocs.push((at, 10));
    }

    pub fn build(&self) -> Vec<u8> {
        let rd = self.rdata();
        let mut reloc = Vec::new();
        if !self.relocs.is_empty() {
            let mut pages: Vec<u32> = self.relocs.iter().map(|(r, _)| r & !0xfff).collect();
            pages.sort_unstable();
            pages.dedup();
            for p in pages {
                let mut entries: Vec<u16> = self
                    .relocs
                    .iter()
                    .filter(|(r, _)| r & !0xfff == p)
                    .map(|(r, t)| (t << 12) | u16::try_from(r & 0xfff).unwrap())
                    .collect();
                if entries.len() % 2 == 1 {
                    entries.push(0);
                }
                let mut blk = vec![0u8; 8];
                put_u32(&mut blk, 0, p);
                put_u32(&mut blk, 4, rva(8 + entries.len() * 2));
                for e in entries {
                    blk.extend_from_slice(&e.to_le_bytes());
                }
                reloc.extend_from_slice(&blk);
            }
        }
        let mut sections: Vec<(String, u32, u32, Vec<u8>)> = vec![
            (".text".into(), TEXT, self.text_flags, self.text.clone()),
            (".rdata".into(), RDATA, DATA_R, rd.bytes.clone()),
            (".data".into(), DATA, self.data_flags, self.data.clone()),
        ];
        if !reloc.is_empty() {
            sections.push((".reloc".into(), RELOC, 0x4200_0040, reloc.clone()));
        }
        let mut next = if reloc.is_empty() { RELOC } else { RELOC + 0x1000 };
        for (name, flags, data) in &self.extra_sections {
            sections.push((name.clone(), next, *flags, data.clone()));
            next += 0x1000;
        }
        let size_of_image = self.size_of_image.unwrap_or(next);

        let n = sections.len();
        let mut file = vec![0u8; 0x400];
        file[0..2].copy_from_slice(b"MZ");
        put_u32(&mut file, 0x3c, 0x40);
        file[0x40..0x44].copy_from_slice(b"PE\0\0");
        let coff = 0x44;
        put_u16(&mut file, coff, self.machine);
        put_u16(&mut file, coff + 2, u16::try_from(n).unwrap());
        put_u32(&mut file, coff + 4, 0x1234_5678);
        put_u16(&mut file, coff + 16, 240);
        put_u16(&mut file, coff + 18, self.file_characteristics);
        let opt = coff + 20;
        put_u16(&mut file, opt, self.magic);
        put_u32(&mut file, opt + 16, self.entry_rva);
        put_u64(&mut file, opt + 24, self.image_base);
        put_u32(&mut file, opt + 32, self.section_alignment);
        put_u32(&mut file, opt + 36, 0x200);
        put_u32(&mut file, opt + 56, size_of_image);
        put_u32(&mut file, opt + 60, 0x400);
        put_u16(&mut file, opt + 68, 1); // native
        put_u16(&mut file, opt + 70, 0x0160);
        put_u32(&mut file, opt + 108, 16);
        let mut dirs = [(0u32, 0u32); 16];
        dirs[0] = rd.export_dir;
        dirs[1] = rd.import_dir;
        dirs[3] = rd.pdata;
        if !reloc.is_empty() {
            dirs[5] = (RELOC, rva(reloc.len()));
        }
        dirs[10] = rd.load_config;
        dirs[12] = rd.iat_dir;
        for &(i, r, s) in &self.dir_overrides {
            dirs[i] = (r, s);
        }
        for (i, (r, s)) in dirs.iter().enumerate() {
            put_u32(&mut file, opt + 112 + i * 8, *r);
            put_u32(&mut file, opt + 116 + i * 8, *s);
        }
        let table = opt + 240;
        for (i, (name, va, flags, data)) in sections.iter().enumerate() {
            let h = table + i * 40;
            let raw_ptr = file.len();
            let raw_size = align(data.len().max(1), 0x200);
            file.resize(raw_ptr + raw_size, 0);
            file[raw_ptr..raw_ptr + data.len()].copy_from_slice(data);
            let nb = name.as_bytes();
            file[h..h + nb.len().min(8)].copy_from_slice(&nb[..nb.len().min(8)]);
            put_u32(&mut file, h + 8, rva(data.len().max(1)));
            put_u32(&mut file, h + 12, *va);
            put_u32(&mut file, h + 16, rva(raw_size));
            put_u32(&mut file, h + 20, rva(raw_ptr));
            put_u32(&mut file, h + 36, *flags);
        }
        file
    }
}

/// Section headers of a PE file: (name, VirtualSize, VirtualAddress, SizeOfRawData,
/// PointerToRawData, header offset).
pub fn section_headers(file: &[u8]) -> Vec<(String, u32, u32, u32, u32, usize)> {
    let pe = u32::from_le_bytes(file[0x3c..0x40].try_into().unwrap()) as usize;
    let n = usize::from(u16::from_le_bytes(file[pe + 6..pe + 8].try_into().unwrap()));
    let size_opt = usize::from(u16::from_le_bytes(file[pe + 20..pe + 22].try_into().unwrap()));
    let table = pe + 24 + size_opt;
    (0..n)
        .map(|i| {
            let h = table + i * 40;
            let name = String::from_utf8_lossy(&file[h..h + 8]).trim_end_matches('\0').to_owned();
            let g = |o: usize| u32::from_le_bytes(file[h + o..h + o + 4].try_into().unwrap());
            (name, g(8), g(12), g(16), g(20), h)
        })
        .collect()
}

/// Offset of the COFF header (after "PE\0\0").
pub fn coff_offset(file: &[u8]) -> usize {
    u32::from_le_bytes(file[0x3c..0x40].try_into().unwrap()) as usize + 4
}

/// The rvmini.dll built from this workspace for x86_64-pc-windows-msvc (release). Uses
/// `$RVMINI_DLL` if set; otherwise builds it (a no-op when up to date) into the target directory
/// this test binary lives in.
pub fn rvmini_dll() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    if let Some(p) = std::env::var_os("RVMINI_DLL") {
        return PathBuf::from(p);
    }
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().unwrap();
            // <target>/debug/deps/<test-binary>
            let target = exe.ancestors().nth(3).unwrap().to_owned();
            let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let out = std::process::Command::new(cargo)
                .current_dir(&workspace)
                .args(["build", "--release", "--target", "x86_64-pc-windows-msvc", "-p", "rvmini"])
                .env("CARGO_TARGET_DIR", &target)
                .output()
                .expect("run cargo to build rvmini.dll");
            assert!(out.status.success(), "building rvmini.dll failed:\n{}", String::from_utf8_lossy(&out.stderr));
            let dll = target.join("x86_64-pc-windows-msvc/release/rvmini.dll");
            assert!(dll.is_file(), "{} missing after the build", dll.display());
            dll
        })
        .clone()
}
