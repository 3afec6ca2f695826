//! The list type: a sequence of byte strings with O(1) push and pop at
//! both ends, packed the way Redis packs them.
//!
//! Redis 7.0 keeps every list in a *quicklist*, a doubly linked list of
//! listpack nodes (OBJECT ENCODING always says "quicklist"; 7.0 has no
//! small-list listpack encoding). We do the same with a ring buffer of
//! nodes, each one byte buffer of length-prefixed elements:
//!
//! ```text
//! nodes: VecDeque<Node>
//!   [ Node { count: 3, buf: |3|abc|1|x|5|hello| } ][ Node { ... } ] ...
//!                            └ LEB128 length, then the bytes
//! ```
//!
//! A 7-byte element costs 8 bytes (Redis: 9), instead of a pointer and a
//! heap block per element. A node is filled to [`NODE_BYTES`] (allocated
//! at that size up front, so filling it never reallocates); a longer
//! element gets a node of its own.
//!
//! Costs: push and pop at either end touch one node: a push at the head
//! and a pop at the head move that node's bytes (at most [`NODE_BYTES`]),
//! a pop at the tail walks the node to find its last element (nothing
//! stores lengths backwards, as Redis's listpack does, to save the byte).
//! Indexing walks the nodes' counts from the nearer end, then one node:
//! O(n / elements per node), as in a quicklist. Insertion and removal in
//! the middle splice one node (which may grow past [`NODE_BYTES`]); LTRIM
//! and LREM rebuild the list.
//!
//! The representation is private: commands (commands/lists) and the RDB
//! code use only the small API below.
//!
//! Indexes are `usize` positions from the head; commands translate Redis's
//! negative indexes (`-1` = last) before calling in.

use std::collections::VecDeque;

use super::listpack::{push_varint, read_varint};

/// Bytes a node is filled to before the next one is started. Redis's
/// default node (list-max-listpack-size -2) is 8 KB; a smaller node keeps
/// head pushes and tail pops, which move or walk one node, cheap, and
/// still spreads the node's own overhead (about 50 bytes) thin.
pub const NODE_BYTES: usize = 1024;

/// One node: `count` elements, each a LEB128 length and its bytes.
#[derive(Clone)]
struct Node {
    buf: Vec<u8>,
    count: u32,
}

fn encoded_len(element: &[u8]) -> usize {
    let mut n = element.len();
    let mut prefix = 1;
    while n >= 0x80 {
        n >>= 7;
        prefix += 1;
    }
    prefix + element.len()
}

impl Node {
    /// An empty node with room for `bytes` (at least [`NODE_BYTES`]).
    fn with_room(bytes: usize) -> Node {
        Node {
            buf: Vec::with_capacity(bytes.max(NODE_BYTES)),
            count: 0,
        }
    }

    /// The element starting at byte `offset`, and the bytes it spans.
    fn entry_at(&self, offset: usize) -> (&[u8], usize) {
        // Elements under 128 bytes (the usual case) have a 1-byte prefix.
        let (len, prefix) = match self.buf.get(offset) {
            Some(&b) if b < 0x80 => (b as usize, 1),
            _ => read_varint(&self.buf, offset),
        };
        let start = offset + prefix;
        match self.buf.get(start..start + len) {
            Some(element) => (element, prefix + len),
            // Unreachable for a well-formed node; end the walk safely.
            None => (&[], self.buf.len().saturating_sub(offset).max(1)),
        }
    }

    /// Byte offset of the element at `index` within this node.
    fn offset_of(&self, index: usize) -> usize {
        let mut at = 0;
        for _ in 0..index {
            at += self.entry_at(at).1;
        }
        at
    }

    fn fits(&self, bytes: usize) -> bool {
        self.buf.len() + bytes <= NODE_BYTES
    }

    fn encode_into(out: &mut Vec<u8>, element: &[u8]) {
        push_varint(out, element.len());
        out.extend_from_slice(element);
    }

    /// Inserts `element` at byte `offset` (an element boundary).
    fn insert_at(&mut self, offset: usize, element: &[u8]) {
        // Open a gap and encode into it (no temporary buffer).
        let mut prefix = [0u8; 10];
        let mut n = element.len();
        let mut k = 0;
        while n >= 0x80 {
            prefix[k] = (n as u8 & 0x7f) | 0x80;
            n >>= 7;
            k += 1;
        }
        prefix[k] = n as u8;
        let gap = k + 1 + element.len();
        let old_len = self.buf.len();
        self.buf.resize(old_len + gap, 0);
        self.buf.copy_within(offset..old_len, offset + gap);
        self.buf[offset..offset + k + 1].copy_from_slice(&prefix[..k + 1]);
        self.buf[offset + k + 1..offset + gap].copy_from_slice(element);
        self.count += 1;
    }

    /// Removes the element at byte `offset`, returning it.
    fn remove_at(&mut self, offset: usize) -> Vec<u8> {
        let (element, span) = self.entry_at(offset);
        let element = element.to_vec();
        self.buf.drain(offset..offset + span);
        self.count -= 1;
        element
    }
}

/// A Redis list. Commands never leave an empty list under a key: when the
/// last element goes, the key is deleted.
///
/// The node deque is boxed so a `List` is two words: every `Value` is as
/// big as its biggest kind, and every key pays for it (see `store/mod.rs`).
/// Redis pays the same extra block for its `quicklist` header.
#[allow(clippy::box_collection)]
#[derive(Clone, Default)]
pub struct List {
    nodes: Box<VecDeque<Node>>,
    len: usize,
}

impl PartialEq for List {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && self.iter().eq(other.iter())
    }
}

impl Eq for List {}

impl std::fmt::Debug for List {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

impl List {
    /// An empty list.
    pub fn new() -> Self {
        List::default()
    }

    /// Number of nodes (packed runs of elements).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the list has no elements.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends at the tail (RPUSH).
    pub fn push_back(&mut self, value: Vec<u8>) {
        let need = encoded_len(&value);
        if !self.nodes.back().is_some_and(|n| n.fits(need)) {
            self.nodes.push_back(Node::with_room(need));
        }
        let node = self.nodes.back_mut().expect("ensured just above");
        Node::encode_into(&mut node.buf, &value);
        node.count += 1;
        self.len += 1;
    }

    /// Prepends at the head (LPUSH).
    pub fn push_front(&mut self, value: Vec<u8>) {
        let need = encoded_len(&value);
        if !self.nodes.front().is_some_and(|n| n.fits(need)) {
            self.nodes.push_front(Node::with_room(need));
        }
        let node = self.nodes.front_mut().expect("ensured just above");
        node.insert_at(0, &value);
        self.len += 1;
    }

    /// Removes and returns the head element (LPOP).
    pub fn pop_front(&mut self) -> Option<Vec<u8>> {
        let node = self.nodes.front_mut()?;
        let element = node.remove_at(0);
        if node.count == 0 {
            self.nodes.pop_front();
        }
        self.len -= 1;
        Some(element)
    }

    /// Removes and returns the tail element (RPOP).
    pub fn pop_back(&mut self) -> Option<Vec<u8>> {
        let node = self.nodes.back_mut()?;
        let at = node.offset_of(node.count as usize - 1);
        let element = node.entry_at(at).0.to_vec();
        node.buf.truncate(at);
        node.count -= 1;
        if node.count == 0 {
            self.nodes.pop_back();
        }
        self.len -= 1;
        Some(element)
    }

    /// The node holding position `index` and the position within it,
    /// walking the node counts from the nearer end.
    fn locate(&self, index: usize) -> Option<(usize, usize)> {
        if index >= self.len {
            return None;
        }
        if index < self.len / 2 {
            let mut rest = index;
            for (i, node) in self.nodes.iter().enumerate() {
                let count = node.count as usize;
                if rest < count {
                    return Some((i, rest));
                }
                rest -= count;
            }
        } else {
            let mut rest = self.len - 1 - index;
            for (i, node) in self.nodes.iter().enumerate().rev() {
                let count = node.count as usize;
                if rest < count {
                    return Some((i, count - 1 - rest));
                }
                rest -= count;
            }
        }
        None
    }

    /// The element at position `index` from the head.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        let (n, i) = self.locate(index)?;
        let node = &self.nodes[n];
        Some(node.entry_at(node.offset_of(i)).0)
    }

    /// Replaces the element at `index`; false when out of range.
    pub fn set(&mut self, index: usize, value: Vec<u8>) -> bool {
        let Some((n, i)) = self.locate(index) else {
            return false;
        };
        let node = &mut self.nodes[n];
        let at = node.offset_of(i);
        node.remove_at(at);
        node.insert_at(at, &value);
        true
    }

    /// Inserts `value` so that it ends up at position `index`
    /// (`index == len()` appends).
    pub fn insert(&mut self, index: usize, value: Vec<u8>) {
        if index == 0 {
            return self.push_front(value);
        }
        if index >= self.len {
            return self.push_back(value);
        }
        let Some((n, i)) = self.locate(index) else {
            return self.push_back(value);
        };
        let node = &mut self.nodes[n];
        let at = node.offset_of(i);
        node.insert_at(at, &value);
        self.len += 1;
    }

    /// Removes and returns the element at `index`.
    pub fn remove(&mut self, index: usize) -> Option<Vec<u8>> {
        let (n, i) = self.locate(index)?;
        let node = &mut self.nodes[n];
        let at = node.offset_of(i);
        let element = node.remove_at(at);
        if node.count == 0 {
            self.nodes.remove(n);
        }
        self.len -= 1;
        Some(element)
    }

    /// Keeps only the elements in positions `start..=end` (LTRIM); an
    /// empty or inverted range empties the list.
    pub fn retain_range(&mut self, start: usize, end: usize) {
        if start > end || start >= self.len {
            *self = List::new();
            return;
        }
        if start == 0 && end + 1 >= self.len {
            return;
        }
        let kept: List = self.range(start, end).map(<[u8]>::to_vec).collect();
        *self = kept;
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
        let mut kept = List::new();
        let mut consider = |e: &[u8]| {
            if (limit == 0 || removed < limit) && remove(e) {
                removed += 1;
                false
            } else {
                true
            }
        };
        if from_tail {
            for e in self.iter_rev() {
                if consider(e) {
                    kept.push_front(e.to_vec());
                }
            }
        } else {
            for e in self.iter() {
                if consider(e) {
                    kept.push_back(e.to_vec());
                }
            }
        }
        if removed > 0 {
            *self = kept;
        }
        removed
    }

    /// The elements from head to tail.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            nodes: self.nodes.iter(),
            buf: &[],
            offset: 0,
            remaining: self.len,
        }
    }

    /// The elements from tail to head (LPOS with a negative RANK, LREM
    /// with a negative count). Each node is walked once, forwards, to
    /// find where its elements start.
    pub fn iter_rev(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.nodes.iter().rev().flat_map(|node| {
            let mut elements = Vec::with_capacity(node.count as usize);
            let mut at = 0;
            for _ in 0..node.count {
                let (e, span) = node.entry_at(at);
                elements.push(e);
                at += span;
            }
            elements.into_iter().rev()
        })
    }

    /// The elements in positions `start..=end`, head to tail (LRANGE);
    /// `end` is clamped to the list, an empty or inverted range yields
    /// nothing.
    pub fn range(&self, start: usize, end: usize) -> Iter<'_> {
        let Some((node, i)) = (start <= end).then(|| self.locate(start)).flatten() else {
            return Iter {
                nodes: self.nodes.range(0..0),
                buf: &[],
                offset: 0,
                remaining: 0,
            };
        };
        Iter {
            nodes: self.nodes.range(node + 1..),
            buf: &self.nodes[node].buf,
            offset: self.nodes[node].offset_of(i),
            remaining: end.min(self.len - 1) + 1 - start,
        }
    }
}

/// Iterator over a [`List`]'s elements, head to tail. Keeps the current
/// node's bytes at hand, so a step is one prefix byte read and a slice.
pub struct Iter<'a> {
    nodes: std::collections::vec_deque::Iter<'a, Node>,
    buf: &'a [u8],
    offset: usize,
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.remaining == 0 {
            return None;
        }
        while self.offset >= self.buf.len() {
            self.buf = &self.nodes.next()?.buf;
            self.offset = 0;
        }
        let (len, prefix) = match self.buf[self.offset] {
            b if b < 0x80 => (b as usize, 1),
            _ => read_varint(self.buf, self.offset),
        };
        let start = self.offset + prefix;
        // A slice past the end cannot happen in a well-formed node; if it
        // did, the iteration would simply stop.
        let element = self.buf.get(start..start + len)?;
        self.offset = start + len;
        self.remaining -= 1;
        Some(element)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl FromIterator<Vec<u8>> for List {
    fn from_iter<I: IntoIterator<Item = Vec<u8>>>(iter: I) -> Self {
        let mut list = List::new();
        for e in iter {
            list.push_back(e);
        }
        list
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

    #[test]
    fn many_elements_across_nodes() {
        // Elements of every size class, pushed at both ends, then read,
        // indexed, edited and popped back: the packed nodes must agree
        // with a plain VecDeque at every step.
        let mut l = List::new();
        let mut model: VecDeque<Vec<u8>> = VecDeque::new();
        for i in 0..3000usize {
            let e = vec![b'a' + (i % 26) as u8; [0, 1, 7, 127, 128, 300, 2000][i % 7]];
            if i % 3 == 0 {
                l.push_front(e.clone());
                model.push_front(e);
            } else {
                l.push_back(e.clone());
                model.push_back(e);
            }
        }
        assert_eq!(l.len(), model.len());
        assert!(l.iter().eq(model.iter().map(Vec::as_slice)));
        assert!(l.iter_rev().eq(model.iter().rev().map(Vec::as_slice)));
        for i in [0, 1, 500, 1499, 1500, 2998, 2999] {
            assert_eq!(l.get(i), Some(&model[i][..]));
        }
        assert!(l
            .range(100, 199)
            .eq(model.range(100..200).map(Vec::as_slice)));
        assert_eq!(l.range(2990, 5000).len(), 10);
        l.insert(1234, b"mid".to_vec());
        model.insert(1234, b"mid".to_vec());
        assert!(l.set(10, b"ten".to_vec()));
        model[10] = b"ten".to_vec();
        assert_eq!(l.remove(2000), model.remove(2000));
        assert!(l.iter().eq(model.iter().map(Vec::as_slice)));
        while let Some(e) = l.pop_back() {
            assert_eq!(Some(e), model.pop_back());
            if let Some(f) = l.pop_front() {
                assert_eq!(Some(f), model.pop_front());
            }
        }
        assert!(model.is_empty() && l.is_empty());
    }
}
