//! The hash type. (Placeholder representation: a Dict of fields.)

use super::dict::Dict;

/// A Redis hash.
#[derive(Debug, Clone, Default)]
pub struct Hash {
    /// field -> value
    pub map: Dict<Vec<u8>>,
}

impl Hash {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}
