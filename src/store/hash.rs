//! The hash type. (Placeholder representation: a Dict of fields.)

use super::dict::Dict;

/// A Redis hash.
#[derive(Debug, Clone, Default)]
pub struct Hash {
    /// field -> value
    pub map: Dict<Vec<u8>>,
}
