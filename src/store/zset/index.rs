//! The sorted set's member -> node lookup: a hash table that stores no member.
//!
//! Redis keeps a `dict` from member to score beside its skip list, sharing the
//! member string between the two. Here the member bytes live once, in the skip
//! list node, and this table only maps them to the node's index. It is open
//! addressing with linear probing: a power-of-two array of 8-byte slots, each
//! holding the low 32 bits of the member's hash and the node index. A member's
//! *home* is `hash & (slots - 1)`; it sits in the first free slot from there.
//!
//! ```text
//!   slot:   0      1      2      3      4      5      6      7
//!         [    ] [h,n7] [h,n2] [h,n9] [    ] [    ] [h,n4] [    ]
//!                  home 1  home 1  home 2           home 6
//! ```
//!
//! A lookup starts at the home and walks right (wrapping) until it finds the
//! member (same hash bits, then same bytes, read through the caller's
//! `member_of`) or an empty slot. The table doubles when it would pass 3/4
//! full, so runs stay short; the stored hash bits give each slot's new home
//! without rehashing any member. Deleting does not leave a tombstone: it
//! empties the slot and moves back each later slot of the run that is allowed
//! to live in the hole (its home is at or before the hole), the
//! "backward shift" that keeps every member reachable from its home.
//!
//! The hasher is the keyspace's own keyed hash (`dict.rs`'s `KeyHasher`,
//! with random seeds per set), so clients cannot choose members that all
//! collide.

use crate::store::dict::KeyHasher;

use super::skiplist::{NodeId, NIL};

#[derive(Clone, Copy)]
struct Slot {
    hash: u32,
    node: NodeId,
}

const EMPTY_SLOT: Slot = Slot { hash: 0, node: NIL };

/// A set of node indices, found by their member bytes.
#[derive(Clone)]
pub(super) struct MemberIndex {
    /// A power-of-two number of slots, or none yet.
    slots: Vec<Slot>,
    used: usize,
    hasher: KeyHasher,
}

impl MemberIndex {
    pub(super) fn new(hasher: KeyHasher) -> MemberIndex {
        MemberIndex {
            slots: Vec::new(),
            used: 0,
            hasher,
        }
    }

    /// Number of members indexed.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.used
    }

    /// The node holding `member`; `member_of` reads a node's member bytes.
    pub(super) fn find<'a>(
        &self,
        member: &[u8],
        member_of: impl Fn(NodeId) -> &'a [u8],
    ) -> Option<NodeId> {
        self.position(member, member_of)
            .map(|pos| self.slots[pos].node)
    }

    /// Adds `member`, known to be absent, held by `node`.
    pub(super) fn insert(&mut self, member: &[u8], node: NodeId) {
        if (self.used + 1) * 4 > self.slots.len() * 3 {
            let bigger = vec![EMPTY_SLOT; (self.slots.len() * 2).max(8)];
            for slot in std::mem::replace(&mut self.slots, bigger) {
                if slot.node != NIL {
                    self.place(slot);
                }
            }
        }
        let hash = self.hash(member);
        self.place(Slot { hash, node });
        self.used += 1;
    }

    /// Forgets `member`, returning the node that held it.
    pub(super) fn remove<'a>(
        &mut self,
        member: &[u8],
        member_of: impl Fn(NodeId) -> &'a [u8],
    ) -> Option<NodeId> {
        let mut hole = self.position(member, member_of)?;
        let node = self.slots[hole].node;
        let mask = self.slots.len() - 1;
        let mut pos = hole;
        loop {
            pos = (pos + 1) & mask;
            let slot = self.slots[pos];
            if slot.node == NIL {
                break;
            }
            // It may move back if the hole lies between its home and where it is.
            let from_home = pos.wrapping_sub(self.home(slot.hash)) & mask;
            let from_hole = pos.wrapping_sub(hole) & mask;
            if from_home >= from_hole {
                self.slots[hole] = slot;
                hole = pos;
            }
        }
        self.slots[hole] = EMPTY_SLOT;
        self.used -= 1;
        Some(node)
    }

    fn hash(&self, member: &[u8]) -> u32 {
        // Truncation on purpose: 32 bits address up to 2^32 slots.
        self.hasher.hash(member) as u32
    }

    fn home(&self, hash: u32) -> usize {
        hash as usize & (self.slots.len() - 1)
    }

    fn position<'a>(&self, member: &[u8], member_of: impl Fn(NodeId) -> &'a [u8]) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let hash = self.hash(member);
        let mut pos = self.home(hash);
        loop {
            let slot = self.slots[pos];
            if slot.node == NIL {
                return None;
            }
            if slot.hash == hash && member_of(slot.node) == member {
                return Some(pos);
            }
            pos = (pos + 1) & (self.slots.len() - 1);
        }
    }

    /// Puts `slot` in the first free slot from its home.
    fn place(&mut self, slot: Slot) {
        let mut pos = self.home(slot.hash);
        while self.slots[pos].node != NIL {
            pos = (pos + 1) & (self.slots.len() - 1);
        }
        self.slots[pos] = slot;
    }
}
