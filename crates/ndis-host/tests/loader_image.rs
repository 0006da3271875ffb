//! Loading good images: a synthetic one (relocations, imports, data imports, protections,
//! exports, .pdata, /GS cookie) and the real rvmini.dll built from this workspace (all imports
//! bound, DriverEntry called through a recording dispatcher, symbols from its PDB / map file).

#[path = "abi_support/mod.rs"]
mod support;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use ndis_host::abi::{self, call_driver, mem};
use ndis_host::crash::symbols::SymbolSource;
use ndis_host::crash::{self, Access, CrashKind};
use ndis_host::loader::{Binding, ExportTable, Image, LoadError, read_imports};
use support::pe::{self, Imp, Pe};

const VAR: u32 = pe::DATA + 8;
const PTR: u32 = pe::DATA;
const COOKIE: u32 = pe::DATA + 0x10;
const ENTRY: u32 = pe::TEXT;
const GET_PTR: u32 = pe::TEXT + 0x20;
const READ_DATA_IMPORT: u32 = pe::TEXT + 0x30;
const FAULT: u32 = pe::TEXT + 0x40;

fn disp(at_next: u32, target: u32) -> [u8; 4] {
    (i64::from(target) - i64::from(at_next)).to_le_bytes()[..4].try_into().unwrap()
}

static PROCESSORS: u8 = 6;

/// A synthetic driver:
/// * `entry(x)` = `add_one(x + *PTR)` where PTR holds the (relocated) address of VAR = 0x1234
///   and `add_one` is the import `ndis.sys!NdisSynthAddOne`;
/// * `get_ptr()` = `*PTR`;
/// * `read_data()` = `*(u8*)IAT[ntoskrnl.exe!KeNumberProcessors]` (a data import);
/// * `fault()` writes to address 8.
#[allow(clippy::many_single_char_names)]
fn synthetic() -> Pe {
    let mut p = Pe {
        imports: vec![
            ("ndis.sys".into(), vec![Imp::Name("NdisSynthAddOne".into())]),
            ("ntoskrnl.exe".into(), vec![Imp::Name("KeNumberProcessors".into())]),
        ],
        exports: vec![
            ("entry".into(), ENTRY),
            ("get_ptr".into(), GET_PTR),
            ("read_data".into(), READ_DATA_IMPORT),
            ("fault".into(), FAULT),
        ],
        pdata: vec![(ENTRY, ENTRY + 0x19), (GET_PTR, GET_PTR + 8)],
        security_cookie: Some(COOKIE),
        ..Pe::default()
    };
    p.data = vec![0; 0x20];
    p.data[8..16].copy_from_slice(&0x1234u64.to_le_bytes());
    p.data[0x10..0x18].copy_from_slice(&0x2B99_2DDF_A232u64.to_le_bytes());
    p.add_pointer(PTR, VAR);
    let l = p.layout();
    let add_one = l.iat[&("ndis.sys".to_owned(), "NdisSynthAddOne".to_owned())];
    let nproc = l.iat[&("ntoskrnl.exe".to_owned(), "KeNumberProcessors".to_owned())];
    let mut t = vec![0xCCu8; 0x50];
    let mut code = vec![0x48, 0x83, 0xEC, 0x28]; // sub rsp, 40
    code.extend([0x48, 0x8B, 0x05]); // mov rax, [rip+PTR]
    code.extend(disp(ENTRY + 0x0B, PTR));
    code.extend([0x48, 0x03, 0x08]); // add rcx, [rax]
    code.extend([0xFF, 0x15]); // call [rip+IAT]
    code.extend(disp(ENTRY + 0x14, add_one));
    code.extend([0x48, 0x83, 0xC4, 0x28, 0xC3]); // add rsp, 40; ret
    t[..code.len()].copy_from_slice(&code);
    let mut g = vec![0x48, 0x8B, 0x05];
    g.extend(disp(GET_PTR + 7, PTR));
    g.push(0xC3);
    t[0x20..0x20 + g.len()].copy_from_slice(&g);
    let mut r = vec![0x48, 0x8B, 0x05]; // mov rax, [rip+IAT]
    r.extend(disp(READ_DATA_IMPORT + 7, nproc));
    r.extend([0x0F, 0xB6, 0x00, 0xC3]); // movzx eax, byte [rax]; ret
    t[0x30..0x30 + r.len()].copy_from_slice(&r);
    t[0x40..0x49].copy_from_slice(&[0xB8, 0x08, 0, 0, 0, 0x89, 0x00, 0xC3, 0xC3]); // mov eax, 8; mov [rax], eax; ret
    p.text = t;
    p
}

fn synthetic_table() -> ExportTable {
    support::register("ndis.sys", "NdisSynthAddOne", |call| call.arg(0) + 1);
    let mut t = support::TABLE.lock().unwrap().clone();
    t.add_address("ntoskrnl.exe", "KeNumberProcessors", std::ptr::from_ref(&PROCESSORS) as u64);
    t
}

#[unsafe(naked)]
extern "win64" fn write_to(_addr: u64) {
    core::arch::naked_asm!("mov qword ptr [rcx], 1", "ret")
}

#[unsafe(naked)]
extern "win64" fn call_to(_addr: u64) {
    core::arch::naked_asm!("sub rsp, 40", "call rcx", "add rsp, 40", "ret")
}

#[test]
fn synthetic_image_relocations_imports_and_calls() {
    let table = synthetic_table();
    let img = Image::load_bytes(&synthetic().build(), "synthetic.sys", &table).unwrap();
    assert_ne!(img.base(), img.preferred_base(), "loaded away from the preferred base, so relocations matter");
    assert_eq!(img.entry_point(), img.base() + u64::from(ENTRY));
    assert_eq!(img.export("entry"), Some(img.entry_point()));
    assert_eq!(img.export("get_ptr"), Some(img.base() + u64::from(GET_PTR)));
    assert_eq!(img.export("missing"), None);
    assert_eq!(img.subsystem(), 1);

    // The relocated pointer, and code using it plus an import call.
    assert_eq!(call_driver(img.export("get_ptr").unwrap(), &[]).unwrap(), img.base() + u64::from(VAR));
    assert_eq!(call_driver(img.entry_point(), &[100]).unwrap(), 100 + 0x1234 + 1);
    // A data import bound to a host address.
    assert_eq!(call_driver(img.export("read_data").unwrap(), &[]).unwrap(), 6);

    // Bound imports: the IAT slots hold the thunk / the data address.
    let imps = img.imports();
    assert_eq!(imps.len(), 2);
    let add_one = &imps[0];
    assert_eq!((add_one.module.as_str(), add_one.name.as_str()), ("ndis.sys", "NdisSynthAddOne"));
    let Binding::Thunk(id) = add_one.binding else { panic!("{add_one:?}") };
    assert_eq!(mem::read_u64(add_one.iat_address), Some(abi::thunk_address(id)));
    assert_eq!(imps[1].binding, Binding::Address(std::ptr::from_ref(&PROCESSORS) as u64));

    // /GS cookie seeded: not the default, top 16 bits clear.
    let cookie_at = img.security_cookie().expect("cookie seeded");
    assert_eq!(cookie_at, img.base() + u64::from(COOKIE));
    let cookie = mem::read_u64(cookie_at).unwrap();
    assert_ne!(cookie, 0x2B99_2DDF_A232);
    assert_eq!(cookie >> 48, 0);

    // Metadata.
    let text = img.section_of(img.entry_point()).unwrap();
    assert_eq!(text.name, ".text");
    assert!(text.is_executable() && !text.is_writable());
    assert_eq!(img.section_of(img.base() + u64::from(VAR)).unwrap().name, ".data");
    assert_eq!(img.rva(img.base() + 0x1234), Some(0x1234));
    assert_eq!(img.rva(img.base() - 1), None);
    assert!(img.contains(img.base()) && !img.contains(img.base() + img.size() as u64));
    let f = img.function_entry(img.entry_point() + 5).unwrap();
    assert_eq!((f.begin, f.end), (ENTRY, ENTRY + 0x19));
    assert!(img.function_entry(img.entry_point() + 0x1A).is_none());
    assert_eq!(img.runtime_functions().len(), 2);

    // Symbols: exports are the fallback for an image loaded from memory.
    assert_eq!(img.describe(img.entry_point() + 5), "synthetic.sys+0x1005 (entry+0x5)");
    assert_eq!(crash::describe(img.base() + u64::from(GET_PTR) + 2), "synthetic.sys+0x1022 (get_ptr+0x2)");
    assert_eq!(crash::describe(img.base() + 0x10), "synthetic.sys+0x10");
    assert_eq!(crash::describe(abi::thunk_address(id)), format!("import thunk #{id}"));
}

#[test]
fn synthetic_image_section_protections() {
    let table = synthetic_table();
    let img = Image::load_bytes(&synthetic().build(), "protect.sys", &table).unwrap();
    let b = img.base();
    for (addr, what) in [(b, "headers"), (b + u64::from(ENTRY), ".text"), (b + u64::from(pe::RDATA), ".rdata")] {
        let c = call_driver(addr!(write_to), &[addr]).unwrap_err();
        assert_eq!(c.kind, CrashKind::AccessViolation { address: addr, access: Access::Write }, "{what}");
    }
    // .data is writable...
    call_driver(addr!(write_to), &[b + u64::from(VAR)]).unwrap();
    assert_eq!(mem::read_u64(b + u64::from(VAR)), Some(1));
    // ...but not executable.
    let c = call_driver(addr!(call_to), &[b + u64::from(pe::DATA)]).unwrap_err();
    assert_eq!(c.kind, CrashKind::AccessViolation { address: b + u64::from(pe::DATA), access: Access::Execute });
    assert!(c.to_string().contains(" at protect.sys+0x3000"), "{c}");
    // A fault in the image's own code names the instruction inside the image.
    let c = call_driver(img.export("fault").unwrap(), &[]).unwrap_err();
    assert_eq!(c.kind, CrashKind::AccessViolation { address: 8, access: Access::Write });
    assert_eq!(c.rip, b + u64::from(FAULT) + 5);
    assert_eq!(
        c.to_string(),
        format!(
            "access violation writing 0x8 at protect.sys+0x1045 (fault+0x5) (rsp {:#x}, driver call depth 1)",
            c.rsp
        )
    );
}

#[test]
fn relocs_stripped_image_needs_its_preferred_base() {
    let table = synthetic_table();
    let mut p = synthetic();
    p.file_characteristics |= 1;
    p.relocs.clear();
    p.image_base = 0x3_7700_0000;
    p.data[0..8].copy_from_slice(&(p.image_base + u64::from(VAR)).to_le_bytes());
    let bytes = p.build();
    let img = Image::load_bytes(&bytes, "fixed.sys", &table).unwrap();
    assert_eq!(img.base(), 0x3_7700_0000);
    assert_eq!(call_driver(img.export("get_ptr").unwrap(), &[]).unwrap(), img.base() + u64::from(VAR));
    let err = Image::load_bytes(&bytes, "fixed2.sys", &table).unwrap_err();
    assert!(matches!(err, LoadError::Map(_)), "{err}");
    assert!(err.to_string().contains("preferred base 0x377000000 is not available"), "{err}");
    drop(img);
    // Unmapped and unregistered on drop: the base can be used again, and is no longer described.
    assert_eq!(crash::describe(0x3_7700_1000), "0x377001000");
    let again = Image::load_bytes(&bytes, "fixed3.sys", &table).unwrap();
    assert_eq!(again.base(), 0x3_7700_0000);
}

// ---------------------------------------------------------------------------------------------
// The real driver.

#[derive(Debug)]
struct Recorded {
    name: String,
    args: [u64; 5],
    return_address: u64,
    text: Option<String>,
    /// For NdisMRegisterMiniportDriver: the characteristics' NDIS_OBJECT_HEADER.Type.
    header_type: Option<u8>,
}

static LOG: Mutex<Vec<Recorded>> = Mutex::new(Vec::new());
static DRIVER_STACK: Mutex<(u64, u64)> = Mutex::new((0, 0));

fn rvmini_table() -> ExportTable {
    let bytes = std::fs::read(support::pe::rvmini_dll()).unwrap();
    for imp in read_imports(&bytes).unwrap() {
        let name = imp.name.clone();
        support::register(&imp.module, &imp.name, move |call| {
            let text = (name == "DbgPrintEx").then(|| abi::format(call.arg_ptr(2), call.va_list(3)));
            LOG.lock().unwrap().push(Recorded {
                name: name.clone(),
                args: [call.arg(0), call.arg(1), call.arg(2), call.arg(3), call.arg(4)],
                return_address: call.return_address(),
                text,
                header_type: (name == "NdisMRegisterMiniportDriver")
                    .then(|| mem::read_u16(call.arg(3)).map_or(0, |v| v.to_le_bytes()[0])),
            });
            match name.as_str() {
                // The CRT helpers must really work: the driver's formatting relies on them.
                "memcpy" | "memmove" => {
                    let mut buf = vec![0u8; usize::try_from(call.arg(2)).unwrap()];
                    assert!(mem::read(call.arg(1), &mut buf) && mem::write(call.arg(0), &buf));
                    call.arg(0)
                }
                "memset" => {
                    let buf = vec![call.arg(1).to_le_bytes()[0]; usize::try_from(call.arg(2)).unwrap()];
                    assert!(mem::write(call.arg(0), &buf));
                    call.arg(0)
                }
                "NdisMRegisterMiniportDriver" => {
                    *DRIVER_STACK.lock().unwrap() = abi::driver_stack_range();
                    0xC000_0001 // NDIS_STATUS_FAILURE
                }
                _ => 0,
            }
        });
    }
    support::TABLE.lock().unwrap().clone()
}

#[test]
fn real_rvmini_loads_and_driver_entry_runs() {
    let dll = support::pe::rvmini_dll();
    let table = rvmini_table();
    let img = Image::load(&dll, &table).unwrap();
    let wanted = read_imports(&std::fs::read(&dll).unwrap()).unwrap();
    assert_eq!(img.imports().len(), wanted.len());
    for b in img.imports() {
        let Binding::Thunk(id) = b.binding else { panic!("{b:?}") };
        assert_eq!(table.name_of(id), Some((b.module.as_str(), b.name.as_str())));
        assert_eq!(mem::read_u64(b.iat_address), Some(abi::thunk_address(id)));
    }
    assert_eq!(img.subsystem(), 1, "IMAGE_SUBSYSTEM_NATIVE");
    assert!(img.section_of(img.entry_point()).unwrap().is_executable());

    // DriverEntry(DriverObject, RegistryPath) with host-owned stand-ins.
    let driver_object = vec![0u8; 0x150];
    let path: Vec<u16> = "\\Registry\\Machine\\System\\CurrentControlSet\\Services\\rvmini".encode_utf16().collect();
    let mut reg = [0u8; 16];
    reg[0..2].copy_from_slice(&u16::try_from(path.len() * 2).unwrap().to_le_bytes());
    reg[2..4].copy_from_slice(&u16::try_from(path.len() * 2).unwrap().to_le_bytes());
    reg[8..16].copy_from_slice(&(path.as_ptr() as u64).to_le_bytes());
    let (dobj, rpath) = (driver_object.as_ptr() as u64, reg.as_ptr() as u64);

    let status = call_driver(img.entry_point(), &[dobj, rpath]).unwrap_or_else(|c| panic!("DriverEntry crashed: {c}"));
    assert_eq!(
        status & 0xFFFF_FFFF,
        0xC000_0001,
        "DriverEntry returns the failure NdisMRegisterMiniportDriver reported"
    );

    let log = LOG.lock().unwrap();
    let reg_calls: Vec<_> = log.iter().filter(|r| r.name == "NdisMRegisterMiniportDriver").collect();
    assert_eq!(reg_calls.len(), 1, "{log:#?}");
    let r = reg_calls[0];
    assert_eq!((r.args[0], r.args[1], r.args[2]), (dobj, rpath, 0));
    // Characteristics (4th argument, R9): NDIS_OBJECT_HEADER.Type = MINIPORT_DRIVER_CHARACTERISTICS.
    assert_eq!(r.header_type, Some(0x8A));
    // The 5th argument (first stack argument) is &handle, a local on the driver stack.
    let (lo, hi) = *DRIVER_STACK.lock().unwrap();
    assert!(r.args[4] > lo && r.args[4] < hi, "5th argument {:#x} on the driver stack", r.args[4]);
    // The return address is inside DriverEntry; describe() names it from the PDB.
    assert!(img.contains(r.return_address));
    let d = img.describe(r.return_address);
    assert!(d.starts_with(&format!("rvmini.dll+{:#x} (", r.return_address - img.base())), "{d}");
    assert!(d.contains("driver_entry+0x"), "{d}");
    // Every DbgPrintEx formatted cleanly, and the failure was logged with its status.
    let texts: Vec<&str> = log.iter().filter_map(|r| r.text.as_deref()).collect();
    for t in &texts {
        assert!(!t.contains("<invalid") && !t.contains("<bad va_list>"), "{t}");
    }
    assert!(texts.iter().any(|t| t.contains("0xc0000001")), "{texts:?}");
    assert!(abi::max_driver_stack_depth() > 0);
}

#[test]
fn real_rvmini_symbols_pdb_and_map_fallback() {
    let dll = support::pe::rvmini_dll();
    let table = rvmini_table();
    let img = Image::load(&dll, &table).unwrap();
    let syms = img.symbols();
    assert_eq!(syms.source(), &SymbolSource::Pdb(dll.with_extension("pdb")), "{:?}", syms.notes());
    let entry_rva = img.rva(img.entry_point()).unwrap();
    let (name, off) = syms.lookup(entry_rva).unwrap();
    assert!(name.ends_with("driver_entry") && off == 0, "{name}+{off}");
    assert_eq!(img.describe(img.entry_point() + 3), format!("rvmini.dll+{:#x} ({name}+0x3)", entry_rva + 3));
    drop(img);

    // Without a PDB next to it: the lld-link map in deps/ (checked against the timestamp).
    let dir = temp_dir("map");
    std::fs::create_dir_all(dir.join("deps")).unwrap();
    std::fs::copy(&dll, dir.join("rvmini.dll")).unwrap();
    let map = dll.parent().unwrap().join("deps/rvmini.map");
    std::fs::copy(&map, dir.join("deps/rvmini.map")).unwrap();
    let img = Image::load(&dir.join("rvmini.dll"), &table).unwrap();
    let syms = img.symbols();
    assert_eq!(syms.source(), &SymbolSource::Map(dir.join("deps/rvmini.map")));
    assert_eq!(img.describe(img.entry_point() + 6), format!("rvmini.dll+{:#x} (DriverEntry+0x6)", entry_rva + 6));
    drop(img);

    // A PDB that does not belong to the image (GUID changed in the image's CodeView record) is
    // rejected; the map file is used instead.
    let mut bytes = std::fs::read(&dll).unwrap();
    let rsds = bytes.windows(4).position(|w| w == b"RSDS").unwrap();
    bytes[rsds + 4] ^= 0xFF;
    std::fs::write(dir.join("rvmini.dll"), &bytes).unwrap();
    std::fs::copy(dll.with_extension("pdb"), dir.join("rvmini.pdb")).unwrap();
    let img = Image::load(&dir.join("rvmini.dll"), &table).unwrap();
    let syms = img.symbols();
    assert!(matches!(syms.source(), SymbolSource::Map(_)), "{:?}", syms.source());
    assert!(syms.notes().iter().any(|n| n.contains("does not match the image")), "{:?}", syms.notes());
    drop(img);

    // No PDB, no map: exports.
    std::fs::remove_file(dir.join("deps/rvmini.map")).unwrap();
    std::fs::remove_file(dir.join("rvmini.pdb")).unwrap();
    std::fs::copy(&dll, dir.join("rvmini.dll")).unwrap();
    let img = Image::load(&dir.join("rvmini.dll"), &table).unwrap();
    assert_eq!(img.symbols().source(), &SymbolSource::Exports);
    assert_eq!(img.describe(img.entry_point()), format!("rvmini.dll+{entry_rva:#x} (DriverEntry+0x0)"));
    std::fs::remove_dir_all(&dir).unwrap();
}

fn temp_dir(tag: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let d = std::env::temp_dir().join(format!(
        "ndis-host-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn images_load_and_run_on_several_threads() {
    let table = Arc::new(synthetic_table());
    let bytes = Arc::new(synthetic().build());
    let handles: Vec<_> = (0..2)
        .map(|i| {
            let (t, b) = (table.clone(), bytes.clone());
            std::thread::spawn(move || {
                let img = Image::load_bytes(&b, &format!("t{i}.sys"), &t).unwrap();
                for x in 0..500 {
                    assert_eq!(call_driver(img.entry_point(), &[x]).unwrap(), x + 0x1234 + 1);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}
