//! The host's export table: which `module!function` names the host implements and what each
//! import slot gets bound to.

use std::collections::HashMap;

/// Identifier of one host export, assigned by [`ExportTable::add`] (0, 1, 2 … in order). The
/// dispatcher installed with [`crate::abi::set_dispatcher`] receives it with every call.
pub type ImportId = u32;

/// What an import address table slot is bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Binding {
    /// The thunk of this id: calls land in the dispatcher.
    Thunk(ImportId),
    /// A fixed address: a data export (e.g. `KeNumberProcessors`) or a hand-written routine
    /// with its own calling contract (e.g. [`crate::abi::chkstk_address`]).
    Address(u64),
}

/// Maps an import (module name lowercased, function name) to a host implementation.
pub trait ImportResolver {
    /// The id for `module!name`, or `None` if the host does not implement it.
    fn resolve(&self, module: &str, name: &str) -> Option<ImportId>;

    /// The binding for `module!name`. The default binds every resolved id to its thunk.
    fn resolve_binding(&self, module: &str, name: &str) -> Option<Binding> {
        self.resolve(module, name).map(Binding::Thunk)
    }
}

#[derive(Clone, Debug)]
struct Entry {
    module: String,
    name: String,
    address: Option<u64>,
}

/// Table of host exports. Ids are indices; module names are compared case-insensitively,
/// function names exactly.
#[derive(Clone, Debug, Default)]
pub struct ExportTable {
    entries: Vec<Entry>,
    index: HashMap<(String, String), ImportId>,
}

impl ExportTable {
    /// An empty table.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    fn insert(&mut self, module: &str, name: &str, address: Option<u64>) -> ImportId {
        let key = (module.to_ascii_lowercase(), name.to_owned());
        if let Some(&id) = self.index.get(&key) {
            self.entries[id as usize].address = address;
            return id;
        }
        let id = ImportId::try_from(self.entries.len()).expect("export table size fits u32");
        assert!(
            (id as usize) < crate::abi::MAX_IMPORTS,
            "export table full: at most {} exports",
            crate::abi::MAX_IMPORTS
        );
        self.entries.push(Entry { module: key.0.clone(), name: key.1.clone(), address });
        self.index.insert(key, id);
        id
    }

    /// Add `module!name`, dispatched through its thunk; returns its id (the existing id if the
    /// name is already present).
    ///
    /// # Panics
    /// If the table already has [`crate::abi::MAX_IMPORTS`] entries.
    pub fn add(&mut self, module: &str, name: &str) -> ImportId {
        self.insert(module, name, None)
    }

    /// Add `module!name` bound directly to `address` (no thunk, no dispatcher): for data
    /// exports and register-contract routines such as `__chkstk`.
    pub fn add_address(&mut self, module: &str, name: &str, address: u64) -> ImportId {
        self.insert(module, name, Some(address))
    }

    /// The id of `module!name`.
    #[must_use]
    pub fn lookup(&self, module: &str, name: &str) -> Option<ImportId> {
        self.index.get(&(module.to_ascii_lowercase(), name.to_owned())).copied()
    }

    /// `(module, name)` of an id.
    #[must_use]
    pub fn name_of(&self, id: ImportId) -> Option<(&str, &str)> {
        self.entries.get(id as usize).map(|e| (e.module.as_str(), e.name.as_str()))
    }

    /// The callable thunk of `id` (see [`crate::abi::thunk_address`]).
    #[must_use]
    pub fn thunk_address(&self, id: ImportId) -> u64 {
        crate::abi::thunk_address(id)
    }

    /// What an import slot for `id` is bound to.
    #[must_use]
    pub fn binding(&self, id: ImportId) -> Option<Binding> {
        self.entries.get(id as usize).map(|e| e.address.map_or(Binding::Thunk(id), Binding::Address))
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if empty.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All entries as `(id, module, name)`.
    pub fn iter(&self) -> impl Iterator<Item = (ImportId, &str, &str)> {
        (0..).zip(&self.entries).map(|(i, e)| (i, e.module.as_str(), e.name.as_str()))
    }
}

impl ImportResolver for ExportTable {
    fn resolve(&self, module: &str, name: &str) -> Option<ImportId> {
        self.lookup(module, name)
    }

    fn resolve_binding(&self, module: &str, name: &str) -> Option<Binding> {
        self.lookup(module, name).and_then(|id| self.binding(id))
    }
}
