//! Shared helpers for the loader/abi integration tests (`#[path]`-included as `support`).
#![allow(dead_code)]

pub mod pe;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex, Once};

use ndis_host::abi::{self, ImportCall};
use ndis_host::loader::{ExportTable, ImportId};

type Handler = Arc<dyn Fn(&ImportCall) -> u64 + Send + Sync>;

/// One export table and one handler map per test process; every test registers its own
/// uniquely named imports, so tests running in parallel threads do not interfere.
pub static TABLE: LazyLock<Mutex<ExportTable>> = LazyLock::new(|| Mutex::new(ExportTable::new()));
static HANDLERS: LazyLock<Mutex<HashMap<ImportId, Handler>>> = LazyLock::new(|| Mutex::new(HashMap::new()));
static INSTALL: Once = Once::new();

fn dispatch(id: u32, call: &ImportCall) -> u64 {
    // Clone the handler out, so no lock is held while it runs (it may call back into the driver
    // or abandon, which skips this frame).
    let h = HANDLERS.lock().unwrap().get(&id).cloned();
    match h {
        Some(h) => h(call),
        None => panic!("test dispatcher: no handler for import #{id}"),
    }
}

/// Register `module!name` with a handler; returns its id.
pub fn register(module: &str, name: &str, handler: impl Fn(&ImportCall) -> u64 + Send + Sync + 'static) -> ImportId {
    INSTALL.call_once(|| {
        abi::set_dispatcher(dispatch);
    });
    let id = TABLE.lock().unwrap().add(module, name);
    HANDLERS.lock().unwrap().insert(id, Arc::new(handler));
    id
}

/// Register and return the callable thunk address.
pub fn thunk(name: &str, handler: impl Fn(&ImportCall) -> u64 + Send + Sync + 'static) -> u64 {
    abi::thunk_address(register("test.sys", name, handler))
}

/// `f` as an address for `call_driver`.
#[macro_export]
macro_rules! addr {
    ($f:expr) => {
        $f as *const () as usize as u64
    };
}
