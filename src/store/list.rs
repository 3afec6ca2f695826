//! The list type: a sequence of byte strings with O(1) push and pop at
//! both ends.
//!
//! Redis 7.0 keeps every list in a *quicklist*, a doubly linked list of
//! listpack nodes (OBJECT ENCODING always says "quicklist"; 7.0 has no
//! small-list listpack encoding). We keep the elements in one ring buffer
//! (`VecDeque`), which gives the same costs where they matter: push and
//! pop at either end in O(1), indexing in O(1) (quicklist: O(n / node
//! size)), insertion and removal in the middle in O(n).
//!
//! Each element is a [`CompactBytes`]: up to 22 bytes live in the ring
//! buffer's own slot (24 bytes), longer ones in one exactly sized block.
//! A quicklist packs short elements tighter still (about 9 bytes for a
//! 7-byte element); a chunked packed representation behind this same API
//! would close that gap.
//!
//! The representation is private: commands (commands/lists.rs) and the RDB
//! code use only the small API below, so it could become a real quicklist
//! without touching them.
//!
//! Indexes are `usize` positions from the head; commands translate Redis's
//! negative indexes (`-1` = last) before calling in.

use std::collections::VecDeque;

use super::bytes::CompactBytes;

/// A Redis list. Commands never leave an empty list under a key: when the
/// last element goes, the key is deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct List {
    items: VecDeque<CompactBytes>,
}

impl List {
    /// An empty list.
    pub fn new() -> Self {
        List::default()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when the list has no elements.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Appends at the tail (RPUSH).
    pub fn push_back(&mut self, value: Vec<u8>) {
        self.items.push_back(value.into());
    }

    /// Prepends at the head (LPUSH).
    pub fn push_front(&mut self, value: Vec<u8>) {
        self.items.push_front(value.into());
    }

    /// Removes and returns the head element (LPOP).
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        self.items.pop_front().map(CompactBytes::into_vec)
    }

    /// Removes and returns the tail element (RPOP).
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        self.items.pop_back().map(CompactBytes::into_vec)
    }

    /// The element at position `index` from the head.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.items.get(index).map(CompactBytes::as_slice)
    }

    /// Replaces the element at `index`; false when out of range.
    pub fn set(&mut self, index: usize, value: Vec<u8>) -> bool {
        match self.items.get_mut(index) {
            Some(slot) => {
                *slot = value.into();
                true
            }
            None => false,
        }
    }

    /// Inserts `value` so that it ends up at position `index`
    /// (`index == len()` appends).
    pub fn insert(&mut self, index: usize, value: Vec<u8>) {
        self.items.insert(index.min(self.items.len()), value.into());
    }

    /// Removes and returns the element at `index`.
    pub fn remove(&mut self, index: usize) -> Option<Vec<u8>> {
        self.items.remove(index).map(CompactBytes::into_vec)
    }

    /// Keeps only the elements in positions `start..=end` (LTRIM); an
    /// empty or inverted range empties the list.
    pub fn retain_range(&mut self, start: usize, end: usize) {
        if start > end || start >= self.items.len() {
            self.items.clear();
            return;
        }
        self.items.truncate(end + 1);
        self.items.drain(..start);
    }

    /// Removes the elements for which `remove` answers true, scanning from
    /// the head (`from_tail` false) or the tail, stopping after `limit`
    /// removals (0 = no limit). Returns how many were removed (LREM).
    /// One pass, O(n), whatever the number of matches.
    pub fn remove_matching(
        &mut self,
        limit: usize,
        from_tail: bool,
        mut remove: impl FnMut(&[u8]) -> bool,
    ) -> usize {
        let mut removed = 0;
        let items = std::mem::take(&mut self.items);
        let mut kept = VecDeque::with_capacity(items.len());
        let mut consider = |e: &[u8]| {
            if (limit == 0 || removed < limit) && remove(e) {
                removed += 1;
                false
            } else {
                true
            }
        };
        if from_tail {
            for e in items.into_iter().rev() {
                if consider(&e) {
                    kept.push_front(e);
                }
            }
        } else {
            for e in items {
                if consider(&e) {
                    kept.push_back(e);
                }
            }
        }
        self.items = kept;
        removed
    }

    /// The elements from head to tail.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &[u8]> + ExactSizeIterator + '_ {
        self.items.iter().map(CompactBytes::as_slice)
    }

    /// The elements in positions `start..=end`, head to tail (LRANGE);
    /// `end` is clamped to the list, an empty or inverted range yields
    /// nothing.
    pub fn range(&self, start: usize, end: usize) -> impl Iterator<Item = &[u8]> + '_ {
        let len = self.items.len();
        let (from, to) = if start <= end && start < len {
            (start, end.min(len - 1) + 1)
        } else {
            (0, 0)
        };
        self.items.range(from..to).map(CompactBytes::as_slice)
    }
}

impl FromIterator<Vec<u8>> for List {
    fn from_iter<I: IntoIterator<Item = Vec<u8>>>(iter: I) -> Self {
        List {
            items: iter.into_iter().map(CompactBytes::from_vec).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(items: &[&str]) -> List {
        items.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    fn items(l: &List) -> Vec<String> {
        l.iter()
            .map(|b| String::from_utf8_lossy(b).into_owned())
            .collect()
    }

    #[test]
    fn push_pop_both_ends() {
        let mut l = List::new();
        assert!(l.is_empty());
        l.push_back(b"b".to_vec());
        l.push_front(b"a".to_vec());
        l.push_back(b"c".to_vec());
        assert_eq!(l.len(), 3);
        assert_eq!(l.get(1), Some(&b"b"[..]));
        assert_eq!(l.pop_front(), Some(b"a".to_vec()));
        assert_eq!(l.pop_back(), Some(b"c".to_vec()));
        assert_eq!(l.pop_back(), Some(b"b".to_vec()));
        assert_eq!(l.pop_back(), None);
    }

    #[test]
    fn retain_range_and_range() {
        let mut l = list(&["a", "b", "c", "d", "e"]);
        assert_eq!(l.range(1, 3).count(), 3);
        l.retain_range(1, 3);
        assert_eq!(items(&l), ["b", "c", "d"]);
        l.retain_range(2, 1);
        assert!(l.is_empty());
    }

    #[test]
    fn remove_matching_each_direction() {
        let mut l = list(&["x", "a", "x", "b", "x"]);
        assert_eq!(l.remove_matching(2, false, |e| e == b"x"), 2);
        assert_eq!(items(&l), ["a", "b", "x"]);
        let mut l = list(&["x", "a", "x", "b", "x"]);
        assert_eq!(l.remove_matching(2, true, |e| e == b"x"), 2);
        assert_eq!(items(&l), ["x", "a", "b"]);
        assert_eq!(l.remove_matching(0, false, |e| e == b"x"), 1);
    }

    #[test]
    fn insert_and_set() {
        let mut l = list(&["a", "c"]);
        l.insert(1, b"b".to_vec());
        l.insert(3, b"d".to_vec());
        assert!(l.set(0, b"A".to_vec()));
        assert!(!l.set(9, b"z".to_vec()));
        assert_eq!(items(&l), ["A", "b", "c", "d"]);
        assert_eq!(l.remove(1), Some(b"b".to_vec()));
    }
}
