//! The set type. (Placeholder representation: a Dict of members, with the
//! agreed API; the real set replaces this file.)

use super::dict::Dict;

/// A Redis set.
#[derive(Debug, Clone, Default)]
pub struct Set {
    members: Dict<()>,
}

impl Set {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `member`; true when it was not there.
    pub fn insert(&mut self, member: &[u8]) -> bool {
        self.members.insert(member, ()).is_none()
    }

    /// Every member.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.members.keys()
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}
