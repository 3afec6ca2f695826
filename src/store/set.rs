//! The set type. (Placeholder representation: a Dict of members.)

use super::dict::Dict;

/// A Redis set.
#[derive(Debug, Clone, Default)]
pub struct Set {
    /// The members.
    pub members: Dict<()>,
}

impl Set {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}
