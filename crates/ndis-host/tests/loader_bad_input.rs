//! Bad inputs are refused with a one-line error naming the problem, and nothing from the image
//! runs. Inputs are the real rvmini.dll mutated, or synthetic images from `abi_support/pe.rs`.
//!
//! "Nothing ran": every synthetic image's code is `ud2` (executing it would kill the test
//! process with SIGILL, since no driver call is active), every import is registered with a
//! handler that counts calls, and each test checks the count is still zero.

#[path = "abi_support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use ndis_host::loader::{ExportTable, Image, LoadError, read_imports};
use support::pe::{self, Imp, Pe};

static CALLS: AtomicUsize = AtomicUsize::new(0);

fn counting_table(names: &[(&str, &str)]) -> ExportTable {
    for (m, n) in names {
        support::register(m, n, |_| {
            CALLS.fetch_add(1, Ordering::SeqCst);
            0
        });
    }
    support::TABLE.lock().unwrap().clone()
}

fn ud2_image() -> Pe {
    Pe { text: vec![0x0F, 0x0B, 0x0F, 0x0B], ..Pe::default() }
}

/// Load and return the error message, checking it is one line and that nothing ran.
fn refuse(bytes: &[u8], table: &ExportTable) -> (LoadError, String) {
    let err = Image::load_bytes(bytes, "bad.sys", table).expect_err("load must fail");
    let msg = err.to_string();
    assert!(!msg.contains('\n'), "one line: {msg:?}");
    assert_eq!(CALLS.load(Ordering::SeqCst), 0, "no import was called");
    (err, msg)
}

fn rvmini_bytes() -> Vec<u8> {
    std::fs::read(support::pe::rvmini_dll()).unwrap()
}

#[test]
fn not_a_pe_file() {
    let t = ExportTable::new();
    assert_eq!(refuse(b"", &t).1, "not a PE image: missing MZ signature");
    assert_eq!(refuse(b"#!/bin/sh\necho hi\n", &t).1, "not a PE image: missing MZ signature");
    let elf = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    assert_eq!(refuse(&elf, &t).1, "not a PE image: missing MZ signature");
    assert_eq!(refuse(b"MZ", &t).1, "truncated image: the DOS header needs 0x40 bytes but the file has 0x2 bytes");

    let mut f = ud2_image().build();
    f[0x40..0x44].copy_from_slice(b"NE\0\0");
    assert_eq!(refuse(&f, &t).1, "not a PE image: missing PE signature at 0x40");

    let err = Image::load(std::path::Path::new("/nonexistent/rvmini.sys"), &t).unwrap_err();
    assert!(err.to_string().starts_with("cannot read /nonexistent/rvmini.sys: "), "{err}");
}

#[test]
fn truncated_images() {
    let t = ExportTable::new();
    let full = rvmini_bytes();
    // Cut in the middle of the last section's raw data.
    let secs = pe::section_headers(&full);
    let (name, _, _, raw_size, raw_ptr, _) = secs.iter().max_by_key(|s| s.4).unwrap().clone();
    let end = raw_ptr + raw_size;
    let cut = (raw_ptr + raw_size / 2) as usize;
    assert_eq!(
        refuse(&full[..cut], &t).1,
        format!("truncated image: section {name} raw data ends at {end:#x} but the file has {cut:#x} bytes")
    );
    // Cut inside the section table.
    let table_end = secs.last().unwrap().5 + 40;
    let cut = table_end - 20;
    assert_eq!(
        refuse(&full[..cut], &t).1,
        format!("truncated image: the section table ends at {table_end:#x} but the file has {cut:#x} bytes")
    );
    // Cut inside the COFF header.
    let coff = pe::coff_offset(&full);
    let err = refuse(&full[..coff + 10], &t).0;
    assert!(matches!(err, LoadError::Truncated(_)), "{err}");
}

#[test]
fn wrong_machine() {
    let t = ExportTable::new();
    let mut f = rvmini_bytes();
    let coff = pe::coff_offset(&f);
    for (machine, msg) in [
        (0x14cu16, "unsupported machine 0x14c (i386): only AMD64 (0x8664) kernel images can be loaded"),
        (0xaa64, "unsupported machine 0xaa64 (ARM64): only AMD64 (0x8664) kernel images can be loaded"),
        (0x1c4, "unsupported machine 0x1c4 (ARMNT): only AMD64 (0x8664) kernel images can be loaded"),
        (0x1234, "unsupported machine 0x1234 (unrecognised): only AMD64 (0x8664) kernel images can be loaded"),
    ] {
        f[coff..coff + 2].copy_from_slice(&machine.to_le_bytes());
        let (err, m) = refuse(&f, &t);
        assert_eq!(err, LoadError::UnsupportedMachine { machine });
        assert_eq!(m, msg);
    }
    let img = Pe { magic: 0x10b, ..ud2_image() }.build();
    assert_eq!(
        refuse(&img, &t).1,
        "unsupported optional header magic 0x10b (PE32): only PE32+ (0x20b) images can be loaded"
    );
}

#[test]
fn forbidden_features() {
    let t = ExportTable::new();
    let tls = Pe { dir_overrides: vec![(9, pe::DATA, 0x28)], ..ud2_image() }.build();
    assert_eq!(
        refuse(&tls, &t).1,
        "unsupported image: the image has a TLS directory: kernel images must not use thread-local storage"
    );
    let delay = Pe { dir_overrides: vec![(13, pe::DATA, 0x20)], ..ud2_image() }.build();
    assert_eq!(
        refuse(&delay, &t).1,
        "unsupported image: the image uses delay-load imports, which kernel images cannot have"
    );
    let wx = Pe { data_flags: pe::DATA_RW | 0x2000_0000, ..ud2_image() }.build();
    assert_eq!(refuse(&wx, &t).1, "unsupported image: section .data is both writable and executable");
    let entry = Pe { entry_rva: pe::DATA, ..ud2_image() }.build();
    assert_eq!(refuse(&entry, &t).1, "malformed image: the entry point RVA 0x3000 is not inside an executable section");
    let no_entry = Pe { entry_rva: 0, ..ud2_image() }.build();
    assert_eq!(refuse(&no_entry, &t).1, "malformed image: the image has no entry point (AddressOfEntryPoint is 0)");
    let huge = Pe { size_of_image: Some(0x1000_0000), ..ud2_image() }.build();
    assert_eq!(refuse(&huge, &t).1, "malformed image: SizeOfImage 0x10000000 is outside 1..=0x4000000");
    let small = Pe { size_of_image: Some(0x2000), ..ud2_image() }.build();
    assert_eq!(refuse(&small, &t).1, "malformed image: section .rdata ends at RVA 0x3000, beyond SizeOfImage 0x2000");
    let align = Pe { section_alignment: 0x200, ..ud2_image() }.build();
    assert!(
        refuse(&align, &t)
            .1
            .starts_with("unsupported image: section alignment 0x200 is not a power of two of at least")
    );
    let dir = Pe { dir_overrides: vec![(1, 0x3000, 0x10_0000)], ..ud2_image() }.build();
    assert_eq!(
        refuse(&dir, &t).1,
        "malformed image: the import directory (RVA 0x3000, size 0x100000) lies outside the image"
    );
    let obj = Pe { file_characteristics: 0x2020, ..ud2_image() }.build();
    assert!(refuse(&obj, &t).1.contains("not mark the file as an executable image"));
}

#[test]
fn unsupported_relocation_type() {
    let t = ExportTable::new();
    let mut p = ud2_image();
    p.relocs = vec![(pe::DATA, 10), (pe::DATA + 8, 3)];
    p.data = vec![0; 16];
    let (err, msg) = refuse(&p.build(), &t);
    assert_eq!(err, LoadError::UnsupportedRelocation { kind: 3, rva: 0x3008 });
    assert_eq!(
        msg,
        "unsupported base relocation type 3 (HIGHLOW) at RVA 0x3008: only DIR64 and ABSOLUTE are supported"
    );
    p.relocs = vec![(0x7ff8, 10)];
    assert_eq!(refuse(&p.build(), &t).1, "malformed image: base relocation target RVA 0x7ff8 lies outside the image");
}

#[test]
fn unresolved_imports_are_all_listed() {
    // The real driver with no host exports at all: every import is named.
    let dll = rvmini_bytes();
    let wanted = read_imports(&dll).unwrap();
    assert!(!wanted.is_empty());
    let (err, msg) = refuse(&dll, &ExportTable::new());
    let expect: Vec<String> = wanted.iter().map(|i| format!("{}!{}", i.module, i.name)).collect();
    assert_eq!(err, LoadError::UnresolvedImports(expect.clone()));
    assert_eq!(msg, format!("unresolved imports: {}", expect.join(", ")));

    // A synthetic image where some imports are provided and some are not, across modules.
    let t = counting_table(&[("ndis.sys", "NdisProvided"), ("ntoskrnl.exe", "KeProvided")]);
    let p = Pe {
        imports: vec![
            ("NDIS.SYS".into(), vec![Imp::Name("NdisProvided".into()), Imp::Name("NdisFoo".into())]),
            ("ntoskrnl.exe".into(), vec![Imp::Name("KeProvided".into()), Imp::Name("Bar".into())]),
            ("hal.dll".into(), vec![Imp::Name("KeStallExecutionProcessor".into())]),
        ],
        ..ud2_image()
    };
    assert_eq!(
        refuse(&p.build(), &t).1,
        "unresolved imports: ndis.sys!NdisFoo, ntoskrnl.exe!Bar, hal.dll!KeStallExecutionProcessor"
    );
}

#[test]
fn resolver_ids_beyond_the_thunks_are_refused() {
    struct Wild;
    impl ndis_host::loader::ImportResolver for Wild {
        fn resolve(&self, _module: &str, _name: &str) -> Option<u32> {
            Some(1 << 20)
        }
    }
    let p = Pe { imports: vec![("ndis.sys".into(), vec![Imp::Name("NdisX".into())])], ..ud2_image() };
    let err = Image::load_bytes_with(&p.build(), "wild.sys", &Wild).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unsupported image: the resolver bound ndis.sys!NdisX to import id 1048576, beyond the 4096 import thunks"
    );
}

#[test]
fn imports_by_ordinal_are_refused() {
    let t = counting_table(&[("ndis.sys", "NdisOrdinalNeighbour")]);
    let p = Pe {
        imports: vec![("ndis.sys".into(), vec![Imp::Name("NdisOrdinalNeighbour".into()), Imp::Ordinal(12)])],
        ..ud2_image()
    };
    let (err, msg) = refuse(&p.build(), &t);
    assert_eq!(err, LoadError::ImportByOrdinal(vec!["ndis.sys!#12".into()]));
    assert_eq!(msg, "imports by ordinal are not supported: ndis.sys!#12");
}

#[test]
fn corrupt_tables() {
    let t = counting_table(&[("ndis.sys", "NdisCorrupt")]);
    // Import name RVA pointing outside the image.
    let p = Pe { imports: vec![("ndis.sys".into(), vec![Imp::Name("NdisCorrupt".into())])], ..ud2_image() };
    let mut f = p.build();
    let rdata = pe::section_headers(&f)[1].4 as usize;
    f[rdata + 12..rdata + 16].copy_from_slice(&0x00FF_0000u32.to_le_bytes());
    assert_eq!(refuse(&f, &t).1, "malformed image: import module name at RVA 0xff0000 lies outside the image");
    // Section raw data pointer beyond the end of the file.
    let mut f = ud2_image().build();
    let h = pe::section_headers(&f)[2].5;
    f[h + 20..h + 24].copy_from_slice(&0x0010_0000u32.to_le_bytes());
    let len = f.len();
    assert_eq!(
        refuse(&f, &t).1,
        format!("truncated image: section .data raw data ends at 0x100200 but the file has {len:#x} bytes")
    );
    // Overlapping sections.
    let mut f = ud2_image().build();
    let h = pe::section_headers(&f)[2].5;
    f[h + 12..h + 16].copy_from_slice(&0x2000u32.to_le_bytes());
    assert_eq!(
        refuse(&f, &t).1,
        "malformed image: section .data at RVA 0x2000 overlaps the headers or the previous section"
    );
    // Mutations of every header byte never panic or crash the loader.
    let good = Pe {
        imports: vec![("ndis.sys".into(), vec![Imp::Name("NdisCorrupt".into())])],
        exports: vec![("entry".into(), pe::TEXT)],
        relocs: vec![(pe::DATA, 10)],
        pdata: vec![(pe::TEXT, pe::TEXT + 4)],
        ..ud2_image()
    }
    .build();
    for i in 0..0x400 {
        for v in [0x00u8, 0xFF, 0x80] {
            let mut f = good.clone();
            f[i] = v;
            if let Err(e) = Image::load_bytes(&f, "fuzz.sys", &t) {
                assert!(!e.to_string().contains('\n'));
            }
        }
    }
    assert_eq!(CALLS.load(Ordering::SeqCst), 0);
}
