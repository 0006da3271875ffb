//! Shared helpers for the driver-sign integration tests: a test PE image, a test identity, and
//! access to the independent checkers (`osslsigncode`, `signify`; in [`tools`], which the root
//! test `tests/signing.rs` shares).

#![allow(dead_code)]

mod tools;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;
use std::time::SystemTime;

use driver_sign::SigningIdentity;
use object::pe;
use object::write::pe::{NtHeaders, Writer};

pub use tools::*;

/// A small but complete PE32+ kernel-mode image (AMD64, native subsystem, `.text`, `.rdata`,
/// `.data`, `.reloc` with a base relocation), built with `object`'s PE writer. `seed` varies
/// the content so that tests get distinct hashes.
pub fn build_test_pe(seed: u8) -> Vec<u8> {
    let mut out = Vec::new();
    let mut w = Writer::new(true, 0x1000, 0x200, &mut out);
    w.reserve_dos_header_and_stub();
    w.reserve_nt_headers(16);
    w.reserve_section_headers(4);
    // xor eax, eax ; ret ; then filler so the section has some bulk.
    let mut text = vec![0x31, 0xc0, 0xc3];
    text.extend((0..=255u8).cycle().take(700).map(|i| i.wrapping_mul(31).wrapping_add(seed)));
    let mut rdata = b"rvmini driver-sign test image\0".to_vec();
    rdata.extend(std::iter::repeat_n(seed, 40));
    let mut data = vec![0u8; 16];
    data[8] = seed;
    let text_range = w.reserve_text_section(u32::try_from(text.len()).unwrap());
    let rdata_range = w.reserve_rdata_section(u32::try_from(rdata.len()).unwrap());
    let data_range = w.reserve_data_section(0x40, u32::try_from(data.len()).unwrap());
    // One DIR64 relocation: the pointer stored at the start of .data.
    w.add_reloc(data_range.virtual_address, pe::IMAGE_REL_BASED_DIR64);
    let _reloc_range = w.reserve_reloc_section();

    w.write_dos_header_and_stub().unwrap();
    w.write_nt_headers(NtHeaders {
        machine: pe::IMAGE_FILE_MACHINE_AMD64,
        time_date_stamp: 0x6000_0000 + u32::from(seed),
        characteristics: pe::IMAGE_FILE_EXECUTABLE_IMAGE | pe::IMAGE_FILE_LARGE_ADDRESS_AWARE,
        major_linker_version: 14,
        minor_linker_version: 0,
        address_of_entry_point: text_range.virtual_address,
        image_base: 0x1_4000_0000,
        major_operating_system_version: 10,
        minor_operating_system_version: 0,
        major_image_version: 0,
        minor_image_version: 0,
        major_subsystem_version: 10,
        minor_subsystem_version: 0,
        subsystem: pe::IMAGE_SUBSYSTEM_NATIVE,
        dll_characteristics: pe::IMAGE_DLLCHARACTERISTICS_DYNAMIC_BASE
            | pe::IMAGE_DLLCHARACTERISTICS_NX_COMPAT
            | pe::IMAGE_DLLCHARACTERISTICS_FORCE_INTEGRITY,
        size_of_stack_reserve: 0x40000,
        size_of_stack_commit: 0x1000,
        size_of_heap_reserve: 0,
        size_of_heap_commit: 0,
    });
    w.write_section_headers();
    w.write_section(text_range.file_offset, &text);
    w.write_section(rdata_range.file_offset, &rdata);
    let mut data_with_ptr = data.clone();
    data_with_ptr[..8].copy_from_slice(&(0x1_4000_0000u64 + u64::from(rdata_range.virtual_address)).to_le_bytes());
    w.write_section(data_range.file_offset, &data_with_ptr);
    w.write_reloc_section();
    out
}

/// A minimal INF naming `rvmini.cat` (content only matters for hashing and `CatalogFile`).
pub fn test_inf() -> Vec<u8> {
    b"; test INF\r\n[Version]\r\nSignature = \"$WINDOWS NT$\"\r\nClass = Net\r\n\
ClassGuid = {4d36e972-e325-11ce-bfc1-08002be10318}\r\nProvider = %ProviderName%\r\n\
CatalogFile = rvmini.cat\r\nDriverVer = 11/22/2026,0.1.0.0\r\nPnpLockdown = 1\r\n\r\n\
[Strings]\r\nProviderName = \"rvmini\"\r\n"
        .to_vec()
}

/// One 2048-bit test identity per test binary, kept in a scratch directory outside the repository.
pub fn identity() -> &'static SigningIdentity {
    static ID: OnceLock<SigningIdentity> = OnceLock::new();
    ID.get_or_init(|| {
        let dir = scratch("identity");
        let opts = driver_sign::IdentityOptions { store_dir: Some(dir), key_bits: 2048, ..Default::default() };
        driver_sign::load_or_create_test_identity(&opts).expect("test identity")
    })
}

/// A fresh scratch directory in the system temporary directory. Not under the target dir: that
/// usually sits inside the repository's work tree, where the identity store refuses to keep keys.
pub fn scratch(name: &str) -> PathBuf {
    let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos();
    let d =
        std::env::temp_dir().join("rvmini-driver-sign-tests").join(format!("{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes the identity's certificate as PEM into `dir` and returns the path (`-CAfile`).
pub fn cert_pem_file(dir: &Path) -> PathBuf {
    let p = dir.join("trust-anchor.pem");
    std::fs::write(&p, identity().cert_pem().unwrap()).unwrap();
    p
}

/// Runs `tests/check_catalog.py` on a catalog and member files.
pub fn check_catalog(py: &Path, cat: &Path, cert: &Path, files: &[&Path]) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests").join("check_catalog.py");
    run_check_catalog(&script, py, cat, cert, files)
}
