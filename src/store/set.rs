//! The set type. (Placeholder representation: a Dict of members.)

use super::dict::Dict;

/// A Redis set.
#[derive(Debug, Clone, Default)]
pub struct Set {
    /// The members.
    pub members: Dict<()>,
}

impl Set {
    /// Every member, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.members.keys()
    }
}
