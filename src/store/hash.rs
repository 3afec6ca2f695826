//! The hash type. (Placeholder representation: a Dict of fields, with the
//! agreed API; the real hash replaces this file.)

use super::dict::Dict;

/// A Redis hash.
#[derive(Debug, Clone, Default)]
pub struct Hash {
    map: Dict<Vec<u8>>,
}

impl Hash {
    /// An empty hash.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `field` to `value`; true when the field is new.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        self.map.insert(field, value.to_vec()).is_none()
    }

    /// Every (field, value).
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.map.iter().map(|(k, v)| (k, v.as_slice()))
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
