//! The registry keys the driver reads with `NdisReadConfiguration`: one table per device
//! (adapter instance), chosen by the test or the CLI, and written back by
//! `NdisWriteConfiguration` (so a value the driver persists survives a halt and a new
//! initialization of the same device, as under Windows' `HKR` key).

use std::collections::BTreeMap;

/// A registry value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegValue {
    /// REG_DWORD.
    Dword(u32),
    /// REG_SZ.
    String(String),
    /// REG_MULTI_SZ.
    MultiString(Vec<String>),
    /// REG_BINARY.
    Binary(Vec<u8>),
}

/// One device's keyword table. Keywords compare case-insensitively, as registry value names do.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registry {
    values: BTreeMap<String, (String, RegValue)>,
}

impl Registry {
    /// An empty table.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `keyword` (builder style).
    #[must_use]
    pub fn with(mut self, keyword: &str, value: RegValue) -> Self {
        self.set(keyword, value);
        self
    }

    /// Sets `keyword`.
    pub fn set(&mut self, keyword: &str, value: RegValue) {
        self.values.insert(keyword.to_ascii_lowercase(), (keyword.to_owned(), value));
    }

    /// Removes `keyword`.
    pub fn remove(&mut self, keyword: &str) -> Option<RegValue> {
        self.values.remove(&keyword.to_ascii_lowercase()).map(|(_, v)| v)
    }

    /// The value of `keyword`.
    #[must_use]
    pub fn get(&self, keyword: &str) -> Option<&RegValue> {
        self.values.get(&keyword.to_ascii_lowercase()).map(|(_, v)| v)
    }

    /// All values, with their keyword's original spelling.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &RegValue)> {
        self.values.values().map(|(k, v)| (k.as_str(), v))
    }
}
