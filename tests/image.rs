//! Checks on the built driver image, `rvmini.sys`, and its companions in the package folder.
//!
//! Every property here is one a Windows kernel loader, the driver verifier or a debugger relies
//! on; several are easy to lose with rust-lld (which does not behave like MSVC link.exe for
//! drivers), so each has its own test.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use object::LittleEndian as LE;
use object::Object;
use object::pe;
use object::read::pe::{ImageNtHeaders, Import, PeFile64};
use pdb::FallibleIterator;

/// The image bytes, read once per test (the file is small).
fn image() -> Vec<u8> {
    common::read_package_file("rvmini.sys")
}

fn parse(data: &[u8]) -> PeFile64<'_> {
    PeFile64::parse(data).unwrap_or_else(|error| panic!("rvmini.sys is not a PE32+ image: {error}"))
}

fn optional_header<'data>(file: &PeFile64<'data>) -> &'data pe::ImageOptionalHeader64 {
    file.nt_headers().optional_header()
}

fn section_name(section: &pe::ImageSectionHeader) -> String {
    String::from_utf8_lossy(section.raw_name()).into_owned()
}

/// The PE checksum as the Windows loader and `CheckSumMappedFile` compute it: the one's
/// complement style 16-bit sum of the file, with the CheckSum field itself counted as zero,
/// folded to 16 bits, plus the file length.
fn pe_checksum(image: &[u8], checksum_offset: usize) -> u32 {
    assert!(checksum_offset.is_multiple_of(2), "the CheckSum field is word aligned");
    let mut sum: u32 = 0;
    for (index, chunk) in image.chunks(2).enumerate() {
        let offset = index * 2;
        if offset == checksum_offset || offset == checksum_offset + 2 {
            continue;
        }
        let word = u16::from_le_bytes([chunk[0], chunk.get(1).copied().unwrap_or(0)]);
        sum += u32::from(word);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum = (sum & 0xffff) + (sum >> 16);
    sum + u32::try_from(image.len()).expect("a driver image is far below 4 GiB")
}

/// File offset of `IMAGE_OPTIONAL_HEADER64::CheckSum`.
fn checksum_offset(file: &PeFile64<'_>) -> usize {
    let nt = file.dos_header().nt_headers_offset() as usize;
    // Signature (4) + IMAGE_FILE_HEADER (20) + the optional header fields before CheckSum (64).
    nt + 4 + 20 + 64
}

/// Imports as (library lower-cased, function name or `#ordinal`), from the lookup table.
fn imports(file: &PeFile64<'_>) -> Vec<(String, String, bool)> {
    let Some(table) = file.import_table().expect("the import directory parses") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let mut descriptors = table.descriptors().expect("import descriptors parse");
    while let Some(descriptor) = descriptors.next().expect("import descriptor reads") {
        let library = String::from_utf8_lossy(table.name(descriptor.name.get(LE)).expect("import library name"))
            .to_ascii_lowercase();
        let lookup = match descriptor.original_first_thunk.get(LE) {
            0 => descriptor.first_thunk.get(LE),
            rva => rva,
        };
        let mut thunks = table.thunks(lookup).expect("import lookup table");
        while let Some(thunk) = thunks.next::<pe::ImageNtHeaders64>().expect("import thunk reads") {
            match table.import::<pe::ImageNtHeaders64>(thunk).expect("import entry parses") {
                Import::Name(_hint, name) => {
                    found.push((library.clone(), String::from_utf8_lossy(name).into_owned(), true));
                }
                Import::Ordinal(ordinal) => found.push((library.clone(), format!("#{ordinal}"), false)),
            }
        }
    }
    found
}

/// RVA of the exported `DriverEntry`.
fn exported_driver_entry(file: &PeFile64<'_>) -> u32 {
    let table = file.export_table().expect("the export directory parses").expect("rvmini.sys has an export table");
    let exports = table.exports().expect("exports parse");
    let entry = exports
        .iter()
        .find(|export| export.name == Some(b"DriverEntry".as_slice()))
        .unwrap_or_else(|| panic!("DriverEntry is not exported; exports: {exports:?}"));
    match entry.target {
        object::read::pe::ExportTarget::Address(rva) => rva,
        ref other => panic!("DriverEntry export is not an address: {other:?}"),
    }
}

/// (`DriverEntry` RVA from the publics list, entry point RVA from `entry point at`) in the map.
fn map_driver_entry(map: &str, file: &PeFile64<'_>) -> (u32, u32) {
    let base = map
        .lines()
        .find_map(|line| line.trim().strip_prefix("Preferred load address is "))
        .map(|hex| u64::from_str_radix(hex.trim(), 16).expect("load address is hex"))
        .expect("the map names the preferred load address");
    let publics = map
        .lines()
        .skip_while(|line| !line.contains("Publics by Value"))
        .find_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.len() >= 3 && fields[1] == "DriverEntry").then(|| fields[2].to_owned())
        })
        .expect("the map lists DriverEntry among the publics");
    let address = u64::from_str_radix(&publics, 16).expect("Rva+Base is hex");
    let rva = u32::try_from(address - base).expect("DriverEntry lies in the image");

    let entry = map
        .lines()
        .find_map(|line| line.trim().strip_prefix("entry point at"))
        .expect("the map names the entry point")
        .trim()
        .to_owned();
    let (section, offset) = entry.split_once(':').expect("entry point is section:offset");
    let section = usize::from_str_radix(section, 16).expect("section number is hex");
    let offset = u32::from_str_radix(offset, 16).expect("offset is hex");
    let header = file.section_table().section(object::SectionIndex(section)).expect("entry point section exists");
    (rva, header.virtual_address.get(LE) + offset)
}

#[test]
fn machine_is_amd64_and_the_image_is_executable() {
    let data = image();
    let file = parse(&data);
    let header = &file.nt_headers().file_header;
    assert_eq!(header.machine.get(LE), pe::IMAGE_FILE_MACHINE_AMD64, "machine");
    let characteristics = header.characteristics.get(LE).0;
    assert_ne!(characteristics & pe::IMAGE_FILE_EXECUTABLE_IMAGE.0, 0, "EXECUTABLE_IMAGE");
    assert_eq!(characteristics & pe::IMAGE_FILE_RELOCS_STRIPPED.0, 0, "relocations must not be stripped");
}

#[test]
fn entry_point_is_driver_entry_in_export_table_pdb_and_map() {
    let data = image();
    let file = parse(&data);
    let entry = optional_header(&file).address_of_entry_point.get(LE);
    assert_ne!(entry, 0, "AddressOfEntryPoint");

    assert_eq!(exported_driver_entry(&file), entry, "exported DriverEntry vs AddressOfEntryPoint");

    let map = String::from_utf8(common::read_package_file("rvmini.map")).expect("the map is text");
    let (map_symbol, map_entry) = map_driver_entry(&map, &file);
    assert_eq!(map_symbol, entry, "DriverEntry in rvmini.map vs AddressOfEntryPoint");
    assert_eq!(map_entry, entry, "`entry point at` in rvmini.map vs AddressOfEntryPoint");

    let pdb_file = std::fs::File::open(common::package_dir().join("rvmini.pdb")).expect("open rvmini.pdb");
    let mut pdb = pdb::PDB::open(pdb_file).expect("rvmini.pdb is a PDB");
    let address_map = pdb.address_map().expect("PDB section map");
    let symbols = pdb.global_symbols().expect("PDB global symbols");
    let mut iter = symbols.iter();
    let mut pdb_entry = None;
    while let Some(symbol) = iter.next().expect("PDB symbol reads") {
        if let Ok(pdb::SymbolData::Public(public)) = symbol.parse()
            && public.name.to_string() == "DriverEntry"
        {
            pdb_entry = public.offset.to_rva(&address_map).map(|rva| rva.0);
        }
    }
    assert_eq!(pdb_entry, Some(entry), "DriverEntry public symbol in rvmini.pdb vs AddressOfEntryPoint");
}

#[test]
fn aslr_nx_and_integrity_check_are_on() {
    let data = image();
    let file = parse(&data);
    let flags = optional_header(&file).dll_characteristics.get(LE).0;
    for (bit, name) in [
        (pe::IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE, "DYNAMIC_BASE"),
        (pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT, "NX_COMPAT"),
        (pe::IMAGE_DLLCHARACTERISTICS_FORCE_INTEGRITY, "FORCE_INTEGRITY"),
    ] {
        assert_ne!(flags & bit.0, 0, "{name} missing from DllCharacteristics {flags:#06x}");
    }
}

#[test]
fn base_relocations_are_present_and_point_into_sections() {
    let data = image();
    let file = parse(&data);
    let blocks = file
        .data_directories()
        .relocation_blocks(data.as_slice(), &file.section_table())
        .expect("the base relocation directory parses");
    let Some(mut blocks) = blocks else {
        panic!(
            "rvmini.sys has no base relocation directory: with DYNAMIC_BASE the image can only be \
             loaded at another address if every absolute pointer (for example the miniport \
             characteristics' handler table) has a relocation"
        );
    };
    let mut dir64 = 0;
    while let Some(block) = blocks.next().expect("relocation block parses") {
        for relocation in block {
            match relocation.typ {
                pe::IMAGE_REL_BASED_ABSOLUTE => {}
                pe::IMAGE_REL_BASED_DIR64 => {
                    dir64 += 1;
                    assert!(
                        file.section_table().section_containing(relocation.virtual_address).is_some(),
                        "relocation at {:#x} points outside every section",
                        relocation.virtual_address
                    );
                }
                other => panic!("unexpected base relocation type {other} in an x64 image"),
            }
        }
    }
    assert!(dir64 > 0, "the base relocation directory holds no DIR64 relocation");
}

#[test]
fn checksum_is_set_and_matches_the_image() {
    let data = image();
    let file = parse(&data);
    let stored = optional_header(&file).check_sum.get(LE);
    assert_ne!(stored, 0, "CheckSum is 0: the kernel loader requires a checksum for drivers (link with /RELEASE)");
    let offset = checksum_offset(&file);
    assert_eq!(u32::from_le_bytes(data[offset..offset + 4].try_into().unwrap()), stored, "CheckSum field offset");
    assert_eq!(pe_checksum(&data, offset), stored, "CheckSum does not match the image");

    // The sum must depend on the content: change one byte outside the field and it moves.
    let mut altered = data.clone();
    let last = altered.len() - 1;
    altered[last] ^= 0x5a;
    assert_ne!(pe_checksum(&altered, offset), stored, "checksum ignores the image content");
}

#[test]
fn imports_come_only_from_kernel_modules() {
    let data = image();
    let file = parse(&data);
    let imports = imports(&file);
    assert!(!imports.is_empty(), "rvmini.sys imports nothing");
    let allowed = ["ndis.sys", "ntoskrnl.exe", "hal.dll"];
    for (library, function, _) in &imports {
        assert!(
            allowed.contains(&library.as_str()),
            "{function} is imported from {library}; a driver may only import from {allowed:?}"
        );
    }
    assert!(
        file.data_directory(pe::IMAGE_DIRECTORY_ENTRY_DELAY_IMPORT).is_none(),
        "delay-load imports need a user-mode helper and do not work in a driver"
    );
}

#[test]
fn ndis_lifecycle_functions_are_imported_by_name() {
    let data = image();
    let file = parse(&data);
    let imports = imports(&file);
    let by_name: BTreeMap<&str, (&str, bool)> =
        imports.iter().map(|(library, function, named)| (function.as_str(), (library.as_str(), *named))).collect();
    for function in
        ["NdisMRegisterMiniportDriver", "NdisMDeregisterMiniportDriver", "NdisMPauseComplete", "NdisMRestartComplete"]
    {
        assert_eq!(
            by_name.get(function),
            Some(&("ndis.sys", true)),
            "{function} must be imported by name from ndis.sys; imports: {imports:?}"
        );
    }
    for (library, function, named) in &imports {
        assert!(named, "{library} {function} is imported by ordinal");
    }
}

#[test]
fn codeview_record_names_rvmini_pdb_and_matches_it() {
    let data = image();
    let file = parse(&data);
    let codeview = file.pdb_info().expect("debug directory parses").expect("rvmini.sys has an RSDS CodeView record");
    let path = String::from_utf8_lossy(codeview.path()).into_owned();
    let file_name = path.rsplit(['/', '\\']).next().unwrap_or_default();
    assert_eq!(file_name, "rvmini.pdb", "CodeView PDB path {path}");

    let pdb_file = std::fs::File::open(common::package_dir().join("rvmini.pdb")).expect("open rvmini.pdb");
    let mut pdb = pdb::PDB::open(pdb_file).expect("rvmini.pdb is a PDB");
    let info = pdb.pdb_information().expect("PDB information stream");
    let guid = codeview.guid();
    let (d1, d2, d3, d4) = info.guid.as_fields();
    assert_eq!(
        (
            u32::from_le_bytes(guid[0..4].try_into().unwrap()),
            u16::from_le_bytes(guid[4..6].try_into().unwrap()),
            u16::from_le_bytes(guid[6..8].try_into().unwrap()),
            &guid[8..16]
        ),
        (d1, d2, d3, d4.as_slice()),
        "the image's PDB GUID differs from rvmini.pdb's: the PDB belongs to another build"
    );
    // Debuggers match the age against the DBI stream's; the PDB information stream carries one too.
    let dbi_age = pdb.debug_information().expect("PDB DBI stream").age();
    assert_eq!(dbi_age.unwrap_or(info.age), codeview.age(), "PDB age (DBI stream)");
    assert!(info.age >= codeview.age(), "PDB information-stream age is older than the image's");
}

#[test]
fn sections_are_readable_never_writable_and_executable_and_no_retplne() {
    let data = image();
    let file = parse(&data);
    let sections = file.section_table();
    assert!(!sections.is_empty(), "no sections");
    for section in sections.iter() {
        let name = section_name(section);
        let flags = section.characteristics.get(LE).0;
        assert_ne!(flags & pe::IMAGE_SCN_MEM_READ.0, 0, "section {name} ({flags:#010x}) is not readable");
        assert!(
            flags & pe::IMAGE_SCN_MEM_WRITE.0 == 0 || flags & pe::IMAGE_SCN_MEM_EXECUTE.0 == 0,
            "section {name} ({flags:#010x}) is both writable and executable"
        );
        assert_ne!(name, ".retplne", "lld left a .retplne section (merge it, see .cargo/config.toml)");
    }
}

/// The sections a driver touches at DISPATCH_LEVEL: code, read-only data (vtables, strings, the
/// miniport characteristics), writable statics, and the unwind data the kernel reads when an
/// exception is dispatched.
const NON_PAGED_SECTIONS: [&str; 4] = [".text", ".rdata", ".data", ".pdata"];

/// What is wrong with [`NON_PAGED_SECTIONS`] in `data`: a section missing, or one without
/// IMAGE_SCN_MEM_NOT_PAGED.
fn paged_sections(data: &[u8]) -> Vec<String> {
    let file = parse(data);
    let sections = file.section_table();
    NON_PAGED_SECTIONS
        .iter()
        .filter_map(|&name| {
            let Some(section) = sections.iter().find(|section| section.raw_name() == name.as_bytes()) else {
                return Some(format!("no {name} section"));
            };
            let flags = section.characteristics.get(LE).0;
            (flags & pe::IMAGE_SCN_MEM_NOT_PAGED.0 == 0).then(|| format!("{name} ({flags:#010x}) is pageable"))
        })
        .collect()
}

#[test]
fn driver_sections_are_non_paged() {
    // rust-lld marks nothing non-paged by itself: `/SECTION:<name>,...P` in .cargo/config.toml
    // does. Code or data that can be paged out faults when touched at DISPATCH_LEVEL (bug check
    // 0xD1), which the datapath is.
    let data = image();
    let problems = paged_sections(&data);
    assert!(problems.is_empty(), "sections must be non-paged: {problems:?}");

    // Control: the same image with the flag cleared on `.data` fails the check.
    let file = parse(&data);
    let index = file
        .section_table()
        .iter()
        .position(|section| section.raw_name() == b".data")
        .expect("rvmini.sys has a .data section");
    let nt = file.dos_header().nt_headers_offset() as usize;
    let size_of_optional_header = usize::from(file.nt_headers().file_header.size_of_optional_header.get(LE));
    // Section headers follow the optional header; Characteristics is the last field (offset 36).
    let field = nt + 4 + 20 + size_of_optional_header + index * 40 + 36;
    let mut altered = data.clone();
    let flags = u32::from_le_bytes(altered[field..field + 4].try_into().unwrap());
    altered[field..field + 4].copy_from_slice(&(flags & !pe::IMAGE_SCN_MEM_NOT_PAGED.0).to_le_bytes());
    let problems = paged_sections(&altered);
    assert!(
        problems.len() == 1 && problems[0].starts_with(".data "),
        "clearing NOT_PAGED on .data was not caught: {problems:?}"
    );
}

#[test]
fn subsystem_is_native_for_windows_10() {
    // `/SUBSYSTEM:NATIVE,10.00`: subsystem 1, subsystem version 10.0; lld-link writes the same
    // version as the minimum OS version.
    let data = image();
    let file = parse(&data);
    let header = optional_header(&file);
    assert_eq!(header.subsystem.get(LE), pe::IMAGE_SUBSYSTEM_NATIVE, "subsystem");
    assert_eq!(
        (header.major_subsystem_version.get(LE), header.minor_subsystem_version.get(LE)),
        (10, 0),
        "subsystem version"
    );
    assert_eq!(header.major_operating_system_version.get(LE), 10, "major operating system version");
}

#[test]
fn there_is_no_tls_directory() {
    let data = image();
    let file = parse(&data);
    assert!(
        file.data_directory(pe::IMAGE_DIRECTORY_ENTRY_TLS).is_none(),
        "a TLS directory in a kernel image is not supported by the loader"
    );
}

#[test]
fn package_folder_holds_the_driver_files() {
    let dir: &Path = common::package_dir();
    for name in ["rvmini.sys", "rvmini.pdb", "rvmini.map", "rvmini.inf"] {
        let path = dir.join(name);
        let size = std::fs::metadata(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display())).len();
        assert!(size > 0, "{} is empty", path.display());
    }
}

#[test]
fn pe_checksum_matches_a_hand_computed_value() {
    // Words 0x0201 and 0x0403 (CheckSum field at offset 4 skipped), plus length 8.
    let bytes = [0x01, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xff];
    assert_eq!(pe_checksum(&bytes, 4), 0x0201 + 0x0403 + 8);
    // Carries fold back into the low 16 bits: 0xffff + 0x0002 = 0x1_0001 -> 0x0002.
    let bytes = [0xff, 0xff, 0x02, 0x00];
    assert_eq!(pe_checksum(&bytes, 100), 0x0002 + 4);
}
