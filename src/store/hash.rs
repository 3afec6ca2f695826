//! The hash type. (Placeholder representation: a Dict of fields.)

use super::dict::Dict;

/// A Redis hash.
#[derive(Debug, Clone, Default)]
pub struct Hash {
    /// field -> value
    pub map: Dict<Vec<u8>>,
}

impl Hash {
    /// Every (field, value) pair, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.map.iter().map(|(f, v)| (f, v.as_slice()))
    }
}
