//! The list type. (Placeholder representation: a deque of byte strings,
//! with the agreed API; the real list replaces this file.)

use std::collections::VecDeque;

/// A Redis list.
#[derive(Debug, Clone, Default)]
pub struct List {
    items: VecDeque<Vec<u8>>,
}

impl List {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends at the tail.
    pub fn push_back(&mut self, item: Vec<u8>) {
        self.items.push_back(item);
    }

    /// The elements, head first.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.items.iter().map(|v| v.as_slice())
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}
