//! The sorted set (ZADD, ZRANGE, ZRANK ...): members ordered by score, then by bytes.
//!
//! Like Redis's `zset`, a [`ZSet`] is two structures over the same elements:
//! a hash index from member to element (ZSCORE, "is it there?" in O(1)) and a
//! skip list keeping the elements in order (ranks and ranges in O(log n)).
//! The order is Redis's: by score, and for equal scores by member bytes as
//! `memcmp` compares them. Scores are never NaN.
//!
//! # The skip list
//!
//! Every element sits on level 0, a sorted doubly linked list. Each element
//! also gets a random height: a quarter of them reach level 1, a sixteenth
//! level 2, and so on (Redis's `ZSKIPLIST_P = 0.25`). A higher level is an
//! express lane that skips many elements, so a search starts at the top of the
//! head node and drops down a level whenever the next hop would overshoot:
//! about log4(n) levels, a couple of hops each. Each link also records its
//! *span*, the number of level-0 steps it jumps; adding the spans of the hops
//! taken gives the rank of where the search stopped. Here, with five elements:
//!
//! ```text
//!   level 2   HEAD ---------- 3 ----------> c ----------------------------> NIL
//!   level 1   HEAD -- 1 --> a ---- 2 -----> c ---- 1 ---> d ---------------> NIL
//!   level 0   HEAD -- 1 --> a -1-> b -1---> c ---- 1 ---> d ---- 1 ---> e -> NIL
//!   backward          NIL <-a <--- b <----- c <-------- d <--------- e = tail
//!
//!   element (score):   a (1)   b (2)   c (2)   d (5)   e (9)
//!   rank:               0       1       2       3       4
//! ```
//!
//! Rank of d: from HEAD take the level-2 hop to c (span 3), c's level-2 link
//! goes to NIL so drop to level 1, hop to d (span 1): 3 + 1 = 4th element, so
//! rank 3. Inserting finds, per level, the last node before the new element
//! (`update[i]`) and the rank of that node (`rank[i]`), splices the new node
//! in on its levels and fixes the spans; deleting is the reverse. A link to
//! NIL also keeps a span (as in Redis: to the virtual position `len`), which
//! keeps the arithmetic simple when a later insert splits that link.
//!
//! Ranges by score or by lex are "count the elements below the lower bound"
//! and "count the elements within the upper bound" (two O(log n) searches
//! with the same span-adding walk, see `count_while`), which gives a rank
//! range; ZCOUNT is its length and LIMIT is rank arithmetic, so
//! `ZRANGEBYSCORE ... LIMIT 100000 10` costs O(log n), not O(offset).
//!
//! # Memory
//!
//! Nodes live in one `Vec<Node>` arena and point to each other with `u32`
//! indices instead of pointers: no `unsafe`, no `Rc` cycles, half the size of a
//! pointer. Index 0 is the head. Freed slots are chained into a free list through
//! their level-0 link and reused by the next insert. A node is 48 bytes: the
//! member (`Box<[u8]>`, stored only here), the score, the backward and level-0
//! links inline, and a boxed slice for levels 1 and up, which is empty, hence
//! not allocated, for three nodes in four. Level 0's span is always 1 (or 0
//! for the last node) so it is not stored.
//!
//! The member index stores no member either: it is an open-addressing hash table
//! (linear probing, at most 3/4 full) of `(hash, node index)` slots, 8 bytes
//! each; a lookup hashes the member, walks the slots from its home position and
//! compares bytes with the member held by the node. Deleting shifts the
//! following slots back instead of leaving tombstones. Altogether about
//! 48 (node) + 8 (upper levels, amortised) + ~11 (index slots) + the member's
//! own heap block, which measures at about 100 bytes per member for short
//! members (see the ignored `memory_per_member` test), in line with Redis.

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::iter::Rev;
use std::ops::Range;

use super::number;

/// "No node": the end of a list, or an empty index slot.
const NIL: u32 = u32::MAX;
/// The head node's index in the arena; it holds no element.
const HEAD: u32 = 0;
/// Redis's `ZSKIPLIST_MAXLEVEL`, enough for 2^64 elements at p = 1/4.
const MAX_LEVEL: usize = 32;

/// One end of a score range, as ZRANGEBYSCORE and ZCOUNT take it. "-inf" and
/// "+inf" are `Inclusive(f64::NEG_INFINITY)` and `Inclusive(f64::INFINITY)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ScoreBound {
    /// `1.5`: the score itself is in the range.
    Inclusive(f64),
    /// `(1.5`: the score itself is not in the range.
    Exclusive(f64),
}

impl ScoreBound {
    /// Parses a bound argument ("1.5", "(1.5", "-inf", "(+inf") the way
    /// Redis's `zslParseRange` does; `None` is "min or max is not a float".
    pub fn parse(arg: &[u8]) -> Option<ScoreBound> {
        match arg.split_first() {
            Some((b'(', rest)) => number::parse_range_score(rest).map(ScoreBound::Exclusive),
            _ => number::parse_range_score(arg).map(ScoreBound::Inclusive),
        }
    }

    /// Used as a minimum: is `score` still below the range?
    fn is_below_min(&self, score: f64) -> bool {
        match *self {
            ScoreBound::Inclusive(min) => score < min,
            ScoreBound::Exclusive(min) => score <= min,
        }
    }

    /// Used as a maximum: is `score` not yet past the range?
    fn is_within_max(&self, score: f64) -> bool {
        match *self {
            ScoreBound::Inclusive(max) => score <= max,
            ScoreBound::Exclusive(max) => score < max,
        }
    }
}

/// One end of a lexicographic range, as ZRANGEBYLEX and ZLEXCOUNT take it.
/// Lex ranges are meaningful when all scores are equal, as in Redis.
#[derive(Clone, Debug, PartialEq)]
pub enum LexBound {
    /// `[abc`: the member itself is in the range.
    Inclusive(Vec<u8>),
    /// `(abc`: the member itself is not in the range.
    Exclusive(Vec<u8>),
    /// `-`: below every member.
    NegInf,
    /// `+`: above every member.
    PosInf,
}

impl LexBound {
    /// Parses "[abc", "(abc", "-" or "+" as Redis's `zslParseLexRangeItem`;
    /// `None` is "min or max not valid string range item".
    pub fn parse(arg: &[u8]) -> Option<LexBound> {
        match arg {
            b"-" => Some(LexBound::NegInf),
            b"+" => Some(LexBound::PosInf),
            [b'[', rest @ ..] => Some(LexBound::Inclusive(rest.to_vec())),
            [b'(', rest @ ..] => Some(LexBound::Exclusive(rest.to_vec())),
            _ => None,
        }
    }

    fn is_below_min(&self, member: &[u8]) -> bool {
        match self {
            LexBound::Inclusive(min) => member < min.as_slice(),
            LexBound::Exclusive(min) => member <= min.as_slice(),
            LexBound::NegInf => false,
            LexBound::PosInf => true,
        }
    }

    fn is_within_max(&self, member: &[u8]) -> bool {
        match self {
            LexBound::Inclusive(max) => member <= max.as_slice(),
            LexBound::Exclusive(max) => member < max.as_slice(),
            LexBound::NegInf => false,
            LexBound::PosInf => true,
        }
    }
}

/// A link on levels 1 and up: the next node there and how many elements it skips.
#[derive(Clone, Copy)]
struct Level {
    next: u32,
    span: u32,
}

/// One element (or the head, or a free slot) in the arena.
#[derive(Clone)]
struct Node {
    member: Box<[u8]>,
    score: f64,
    /// The previous element on level 0; NIL for the first one.
    backward: u32,
    /// The next element on level 0; in a free slot, the next free slot.
    next0: u32,
    /// Levels 1.. of this node; its height is `upper.len() + 1`.
    upper: Box<[Level]>,
}

/// The member -> node hash index: open addressing, linear probing.
#[derive(Clone)]
struct MemberIndex {
    /// A power-of-two number of slots (or none yet).
    slots: Vec<Slot>,
    used: usize,
    hasher: RandomState,
}

/// The low 32 bits of the member's hash (enough to find its home slot again
/// when growing, and to skip most byte comparisons) and its node.
#[derive(Clone, Copy)]
struct Slot {
    hash: u32,
    node: u32,
}

const EMPTY_SLOT: Slot = Slot { hash: 0, node: NIL };

impl MemberIndex {
    fn hash(&self, member: &[u8]) -> u32 {
        self.hasher.hash_one(member) as u32
    }

    fn home(&self, hash: u32) -> usize {
        hash as usize & (self.slots.len() - 1)
    }

    /// The slot position holding `member`, whose bytes live in `nodes`.
    fn find(&self, member: &[u8], nodes: &[Node]) -> Option<usize> {
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
            if slot.hash == hash && *nodes[slot.node as usize].member == *member {
                return Some(pos);
            }
            pos = (pos + 1) & (self.slots.len() - 1);
        }
    }

    /// Adds `member` (known to be absent) pointing at `node`.
    fn insert(&mut self, member: &[u8], node: u32) {
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

    fn place(&mut self, slot: Slot) {
        let mut pos = self.home(slot.hash);
        while self.slots[pos].node != NIL {
            pos = (pos + 1) & (self.slots.len() - 1);
        }
        self.slots[pos] = slot;
    }

    /// Empties slot `hole`, then moves back each following slot of the probe
    /// run that may live there, so lookups never meet a false "empty".
    fn remove_at(&mut self, mut hole: usize) {
        let mask = self.slots.len() - 1;
        let mut pos = hole;
        loop {
            pos = (pos + 1) & mask;
            let slot = self.slots[pos];
            if slot.node == NIL {
                break;
            }
            // It may move if the hole lies between its home and where it is.
            let from_home = pos.wrapping_sub(self.home(slot.hash)) & mask;
            let from_hole = pos.wrapping_sub(hole) & mask;
            if from_home >= from_hole {
                self.slots[hole] = slot;
                hole = pos;
            }
        }
        self.slots[hole] = EMPTY_SLOT;
        self.used -= 1;
    }
}

/// A Redis sorted set: unique binary members, each with a score, kept in
/// (score, member bytes) order. See the module documentation for how.
#[derive(Clone)]
pub struct ZSet {
    /// The arena; `nodes[HEAD]` is the head, whose `upper` has at least `level - 1` links.
    nodes: Vec<Node>,
    /// First free arena slot, chained through `next0`.
    free: u32,
    /// The last element, NIL when empty.
    tail: u32,
    /// Levels in use (1 when empty), as Redis's `zsl->level`.
    level: usize,
    len: usize,
    index: MemberIndex,
    /// xorshift64 state for node heights.
    rng: u64,
}

impl Default for ZSet {
    fn default() -> Self {
        ZSet::new()
    }
}

impl ZSet {
    /// An empty sorted set.
    pub fn new() -> ZSet {
        let hasher = RandomState::new();
        let head = Node {
            member: Box::default(),
            score: 0.0,
            backward: NIL,
            next0: NIL,
            upper: Box::default(),
        };
        ZSet {
            nodes: vec![head],
            free: NIL,
            tail: NIL,
            level: 1,
            len: 0,
            rng: hasher.hash_one(0x5eed_u32) | 1,
            index: MemberIndex {
                slots: Vec::new(),
                used: 0,
                hasher,
            },
        }
    }

    /// Number of members (ZCARD).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no members (Redis deletes the key then).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The score of `member` (ZSCORE), in O(1).
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.node_of(member).map(|x| self.nodes[x as usize].score)
    }

    /// Adds `member` with `score`, or moves an existing member to `score`.
    /// Returns true if the member is new. O(log n).
    ///
    /// A score of -0.0 is stored as 0.0: Redis 7.0 keeps small sets in a
    /// listpack, which reads back -0 as "0", so that is what clients see in
    /// the common case. Panics on NaN; callers reject it first, as Redis does.
    pub fn insert(&mut self, member: &[u8], score: f64) -> bool {
        assert!(!score.is_nan(), "a sorted-set score is never NaN");
        let score = score + 0.0; // turns -0.0 into +0.0 and nothing else
        if let Some(x) = self.node_of(member) {
            if self.nodes[x as usize].score != score {
                if self.fits_in_place(x, score) {
                    self.nodes[x as usize].score = score;
                } else {
                    self.unlink(x);
                    self.nodes[x as usize].score = score;
                    self.link(x);
                }
            }
            return false;
        }
        let height = self.random_level();
        let x = self.alloc_node(member.into(), score, height);
        self.link(x);
        self.index.insert(member, x);
        true
    }

    /// Removes `member` (ZREM), returning its score. O(log n).
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let x = self.node_of(member)?;
        Some(self.remove_node(x).1)
    }

    /// The 0-based ascending rank of `member` (ZRANK); ZREVRANK is
    /// `len() - 1 - rank`. O(log n).
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let node = &self.nodes[self.node_of(member)? as usize];
        Some(self.count_while(|n| {
            n.score < node.score || (n.score == node.score && n.member < node.member)
        }))
    }

    /// The element at 0-based ascending `rank` (ZRANDMEMBER picks a random rank). O(log n).
    pub fn get_by_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        let x = self.node_at(rank)?;
        let node = &self.nodes[x as usize];
        Some((&node.member, node.score))
    }

    /// All elements, lowest first; `.rev()` gives highest first.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            set: self,
            front: self.nodes[HEAD as usize].next0,
            back: self.tail,
            remaining: self.len,
        }
    }

    /// The elements whose ascending ranks are in `ranks` (clamped to the set),
    /// lowest first; `.rev()` walks them highest first. O(log n) to start,
    /// O(1) per element. This is the primitive behind every range below.
    pub fn iter_ranks(&self, ranks: Range<usize>) -> Iter<'_> {
        let end = ranks.end.min(self.len);
        match (
            self.node_at(ranks.start),
            end.checked_sub(1).and_then(|last| self.node_at(last)),
        ) {
            (Some(front), Some(back)) if ranks.start < end => Iter {
                set: self,
                front,
                back,
                remaining: end - ranks.start,
            },
            _ => Iter {
                set: self,
                front: NIL,
                back: NIL,
                remaining: 0,
            },
        }
    }

    /// ZRANGE start end: ascending ranks `start..=end_inclusive`, already
    /// made non-negative by the caller; `end_inclusive` may exceed the set.
    pub fn range_by_rank(&self, start: usize, end_inclusive: usize) -> Iter<'_> {
        self.iter_ranks(start..end_inclusive.saturating_add(1))
    }

    /// ZREVRANGE start end: ranks counted from the highest score (0 = highest),
    /// yielded highest first.
    pub fn rev_range_by_rank(&self, start: usize, end_inclusive: usize) -> Rev<Iter<'_>> {
        let end = end_inclusive.min(self.len.saturating_sub(1));
        if start > end || start >= self.len {
            return self.iter_ranks(0..0).rev();
        }
        self.iter_ranks(self.len - 1 - end..self.len - start).rev()
    }

    /// The ascending ranks of the elements with `min <= score <= max` (per the
    /// bounds' inclusiveness); empty when none. O(log n). For
    /// `LIMIT offset count`, ascending: `start + offset ..`; descending: `.. end - offset`.
    pub fn score_range_ranks(&self, min: &ScoreBound, max: &ScoreBound) -> Range<usize> {
        let start = self.count_while(|n| min.is_below_min(n.score));
        let end = self.count_while(|n| max.is_within_max(n.score));
        start..end.max(start)
    }

    /// ZRANGEBYSCORE min max: lowest first.
    pub fn range_by_score(&self, min: &ScoreBound, max: &ScoreBound) -> Iter<'_> {
        self.iter_ranks(self.score_range_ranks(min, max))
    }

    /// ZREVRANGEBYSCORE max min: the same elements, highest first. Note the
    /// arguments are still (min, max).
    pub fn rev_range_by_score(&self, min: &ScoreBound, max: &ScoreBound) -> Rev<Iter<'_>> {
        self.range_by_score(min, max).rev()
    }

    /// ZCOUNT min max, in O(log n).
    pub fn count_in_score_range(&self, min: &ScoreBound, max: &ScoreBound) -> usize {
        self.score_range_ranks(min, max).len()
    }

    /// The ascending ranks of the members between `min` and `max` by bytes.
    /// As in Redis, only meaningful when all scores are equal. O(log n).
    pub fn lex_range_ranks(&self, min: &LexBound, max: &LexBound) -> Range<usize> {
        let start = self.count_while(|n| min.is_below_min(&n.member));
        let end = self.count_while(|n| max.is_within_max(&n.member));
        start..end.max(start)
    }

    /// ZRANGEBYLEX min max: lowest first.
    pub fn range_by_lex(&self, min: &LexBound, max: &LexBound) -> Iter<'_> {
        self.iter_ranks(self.lex_range_ranks(min, max))
    }

    /// ZREVRANGEBYLEX max min: highest first; arguments still (min, max).
    pub fn rev_range_by_lex(&self, min: &LexBound, max: &LexBound) -> Rev<Iter<'_>> {
        self.range_by_lex(min, max).rev()
    }

    /// ZLEXCOUNT min max, in O(log n).
    pub fn count_in_lex_range(&self, min: &LexBound, max: &LexBound) -> usize {
        self.lex_range_ranks(min, max).len()
    }

    /// Removes and returns the lowest element (ZPOPMIN). O(log n).
    pub fn pop_min(&mut self) -> Option<(Vec<u8>, f64)> {
        let first = self.nodes[HEAD as usize].next0;
        (first != NIL).then(|| self.remove_node(first))
    }

    /// Removes and returns the highest element (ZPOPMAX). O(log n).
    pub fn pop_max(&mut self) -> Option<(Vec<u8>, f64)> {
        let last = self.tail;
        (last != NIL).then(|| self.remove_node(last))
    }

    // ---- internals: arena, links, searches ----

    fn node_of(&self, member: &[u8]) -> Option<u32> {
        let pos = self.index.find(member, &self.nodes)?;
        Some(self.index.slots[pos].node)
    }

    fn next(&self, x: u32, level: usize) -> u32 {
        let node = &self.nodes[x as usize];
        if level == 0 {
            node.next0
        } else {
            node.upper[level - 1].next
        }
    }

    fn span(&self, x: u32, level: usize) -> usize {
        let node = &self.nodes[x as usize];
        if level == 0 {
            usize::from(node.next0 != NIL)
        } else {
            node.upper[level - 1].span as usize
        }
    }

    /// Points `x`'s link on `level` at `next`; the span is implied on level 0.
    fn set_link(&mut self, x: u32, level: usize, next: u32, span: usize) {
        let node = &mut self.nodes[x as usize];
        if level == 0 {
            node.next0 = next;
        } else {
            // Fits: len < u32::MAX is enforced by alloc_node.
            node.upper[level - 1] = Level {
                next,
                span: span as u32,
            };
        }
    }

    /// Is element `x` ordered before (score, member)?
    fn precedes(&self, x: u32, score: f64, member: &[u8]) -> bool {
        let node = &self.nodes[x as usize];
        node.score < score || (node.score == score && *node.member < *member)
    }

    /// How many leading elements satisfy `pred`, which must be true for a
    /// prefix of the order and false after it. One top-down walk adding spans.
    fn count_while(&self, pred: impl Fn(&Node) -> bool) -> usize {
        let (mut x, mut rank) = (HEAD, 0);
        for level in (0..self.level).rev() {
            loop {
                let next = self.next(x, level);
                if next == NIL || !pred(&self.nodes[next as usize]) {
                    break;
                }
                rank += self.span(x, level);
                x = next;
            }
        }
        rank
    }

    /// The node at 0-based ascending `rank`, like Redis's `zslGetElementByRank`.
    fn node_at(&self, rank: usize) -> Option<u32> {
        if rank >= self.len {
            return None;
        }
        let (mut x, mut traversed) = (HEAD, 0);
        for level in (0..self.level).rev() {
            while self.next(x, level) != NIL && traversed + self.span(x, level) <= rank + 1 {
                traversed += self.span(x, level);
                x = self.next(x, level);
            }
            if traversed == rank + 1 {
                return Some(x);
            }
        }
        unreachable!("spans add up to len, so rank {rank} < len is reached")
    }

    /// Per level, the last node before (score, member) and its 1-based
    /// position (0 for the head): Redis's `update[]` and `rank[]`.
    fn find_update(&self, score: f64, member: &[u8]) -> ([u32; MAX_LEVEL], [usize; MAX_LEVEL]) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0; MAX_LEVEL];
        let mut x = HEAD;
        for level in (0..self.level).rev() {
            rank[level] = rank.get(level + 1).copied().unwrap_or(0);
            loop {
                let next = self.next(x, level);
                if next == NIL || !self.precedes(next, score, member) {
                    break;
                }
                rank[level] += self.span(x, level);
                x = next;
            }
            update[level] = x;
        }
        (update, rank)
    }

    /// Splices node `x` (member, score and height set, not linked) into its place.
    fn link(&mut self, x: u32) {
        let (update, rank) = {
            let node = &self.nodes[x as usize];
            self.find_update(node.score, &node.member)
        };
        let height = self.nodes[x as usize].upper.len() + 1;
        if height > self.level {
            let head = &mut self.nodes[HEAD as usize];
            if head.upper.len() < height - 1 {
                let mut upper = std::mem::take(&mut head.upper).into_vec();
                upper.resize(height - 1, Level { next: NIL, span: 0 });
                head.upper = upper.into_boxed_slice();
            }
            // New levels start as one head -> NIL link over the whole set.
            for level in self.level..height {
                self.set_link(HEAD, level, NIL, self.len);
            }
            self.level = height;
        }
        for level in 0..height {
            let before = update[level];
            let skipped = rank[0] - rank[level];
            self.set_link(
                x,
                level,
                self.next(before, level),
                self.span(before, level) - skipped,
            );
            self.set_link(before, level, x, skipped + 1);
        }
        // Links above x's height now jump over one more element.
        for (level, &before) in update.iter().enumerate().take(self.level).skip(height) {
            self.set_link(
                before,
                level,
                self.next(before, level),
                self.span(before, level) + 1,
            );
        }
        let next = self.nodes[x as usize].next0;
        self.nodes[x as usize].backward = if update[0] == HEAD { NIL } else { update[0] };
        if next == NIL {
            self.tail = x;
        } else {
            self.nodes[next as usize].backward = x;
        }
        self.len += 1;
    }

    /// Takes node `x` out of the lists; it stays in the arena and the index.
    fn unlink(&mut self, x: u32) {
        let (update, _) = {
            let node = &self.nodes[x as usize];
            self.find_update(node.score, &node.member)
        };
        for (level, &before) in update.iter().enumerate().take(self.level) {
            if self.next(before, level) == x {
                let span = self.span(before, level) + self.span(x, level) - 1;
                self.set_link(before, level, self.next(x, level), span);
            } else {
                self.set_link(
                    before,
                    level,
                    self.next(before, level),
                    self.span(before, level) - 1,
                );
            }
        }
        let Node {
            backward, next0, ..
        } = self.nodes[x as usize];
        if next0 == NIL {
            self.tail = backward;
        } else {
            self.nodes[next0 as usize].backward = backward;
        }
        while self.level > 1 && self.next(HEAD, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    /// Can `x` take `score` without moving (Redis's `zslUpdateScore` shortcut)?
    fn fits_in_place(&self, x: u32, score: f64) -> bool {
        let node = &self.nodes[x as usize];
        (node.backward == NIL || self.precedes(node.backward, score, &node.member))
            && (node.next0 == NIL || !self.precedes(node.next0, score, &node.member))
    }

    /// Unlinks, unindexes and frees element `x`, handing back its member and score.
    fn remove_node(&mut self, x: u32) -> (Vec<u8>, f64) {
        let pos = self
            .index
            .find(&self.nodes[x as usize].member, &self.nodes)
            .expect("every element is indexed");
        self.index.remove_at(pos);
        self.unlink(x);
        let node = &mut self.nodes[x as usize];
        let member = std::mem::take(&mut node.member);
        node.upper = Box::default();
        node.next0 = self.free;
        self.free = x;
        (member.into_vec(), node.score)
    }

    fn alloc_node(&mut self, member: Box<[u8]>, score: f64, height: usize) -> u32 {
        let upper = vec![Level { next: NIL, span: 0 }; height - 1].into_boxed_slice();
        let node = Node {
            member,
            score,
            backward: NIL,
            next0: NIL,
            upper,
        };
        if self.free != NIL {
            let x = self.free;
            self.free = self.nodes[x as usize].next0;
            self.nodes[x as usize] = node;
            return x;
        }
        let x = u32::try_from(self.nodes.len()).ok().filter(|&x| x != NIL);
        self.nodes.push(node);
        x.expect("a sorted set holds fewer than 2^32 - 1 members")
    }

    /// A height of 1 + one per pair of low zero bits: P(height > k) = 4^-k.
    fn random_level(&mut self) -> usize {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        (1 + x.trailing_zeros() as usize / 2).min(MAX_LEVEL)
    }
}

impl fmt::Debug for ZSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(m, s)| (String::from_utf8_lossy(m), s)))
            .finish()
    }
}

/// Elements in order as `(member, score)`: lowest first, or highest first
/// from the back (`.rev()`). Made by [`ZSet::iter`] and the range methods.
pub struct Iter<'a> {
    set: &'a ZSet,
    front: u32,
    back: u32,
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let node = &self.set.nodes[self.front as usize];
        self.front = node.next0;
        Some((&node.member, node.score))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let node = &self.set.nodes[self.back as usize];
        self.back = node.backward;
        Some((&node.member, node.score))
    }
}

impl ExactSizeIterator for Iter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn members<'a>(iter: impl Iterator<Item = (&'a [u8], f64)>) -> Vec<String> {
        iter.map(|(m, _)| String::from_utf8_lossy(m).into_owned())
            .collect()
    }

    fn set_of(pairs: &[(&str, f64)]) -> ZSet {
        let mut set = ZSet::new();
        for (member, score) in pairs {
            set.insert(member.as_bytes(), *score);
        }
        set
    }

    /// Walks every level and checks order, spans (NIL at position len),
    /// backward links, tail, len and the hash index against the lists.
    fn check_invariants(set: &ZSet) {
        let mut position = std::collections::HashMap::new();
        position.insert(HEAD, 0);
        let (mut x, mut pos, mut prev) = (set.nodes[0].next0, 0, NIL);
        while x != NIL {
            pos += 1;
            position.insert(x, pos);
            let node = &set.nodes[x as usize];
            assert_eq!(node.backward, prev);
            if prev != NIL {
                assert!(set.precedes(prev, node.score, &node.member), "out of order");
            }
            assert_eq!(set.score(&node.member), Some(node.score), "index disagrees");
            prev = x;
            x = node.next0;
        }
        assert_eq!((pos, set.tail, set.index.used), (set.len, prev, set.len));
        assert!(set.level == 1 || set.next(HEAD, set.level - 1) != NIL);
        for level in 1..set.level {
            let mut x = HEAD;
            loop {
                let next = set.next(x, level);
                let to = if next == NIL {
                    set.len
                } else {
                    position[&next]
                };
                assert_eq!(
                    set.span(x, level),
                    to - position[&x],
                    "span at level {level}"
                );
                if next == NIL {
                    break;
                }
                assert!(set.nodes[next as usize].upper.len() >= level);
                x = next;
            }
        }
    }

    #[test]
    fn orders_by_score_then_member_bytes() {
        let set = set_of(&[
            ("b", 2.0),
            ("a", 2.0),
            ("c", 1.0),
            ("\u{0}", 2.0),
            ("B", 2.0),
            ("z", f64::NEG_INFINITY),
        ]);
        assert_eq!(members(set.iter()), ["z", "c", "\u{0}", "B", "a", "b"]);
        assert_eq!(
            members(set.iter().rev()),
            ["b", "a", "B", "\u{0}", "c", "z"]
        );
        assert_eq!(set.rank(b"a"), Some(4));
        assert_eq!(set.rank(b"nope"), None);
        assert_eq!(set.get_by_rank(1), Some((&b"c"[..], 1.0)));
        assert_eq!(set.get_by_rank(6), None);
        check_invariants(&set);
    }

    #[test]
    fn insert_updates_and_moves_members() {
        let mut set = set_of(&[("a", 1.0), ("b", 2.0), ("c", 3.0)]);
        assert!(!set.insert(b"a", 10.0));
        assert!(!set.insert(b"b", 2.5)); // stays in place
        assert!(set.insert(b"d", 0.0));
        assert_eq!(members(set.iter()), ["d", "b", "c", "a"]);
        assert_eq!(
            (set.score(b"a"), set.score(b"b"), set.len()),
            (Some(10.0), Some(2.5), 4)
        );
        assert!(!set.insert(b"d", -0.0));
        assert!(set.score(b"d").unwrap().is_sign_positive());
        assert_eq!(set.remove(b"b"), Some(2.5));
        assert_eq!(set.remove(b"b"), None);
        assert_eq!(members(set.iter()), ["d", "c", "a"]);
        check_invariants(&set);
    }

    #[test]
    fn empty_set_answers_nothing() {
        let mut set = ZSet::new();
        let all = (
            ScoreBound::Inclusive(f64::NEG_INFINITY),
            ScoreBound::Inclusive(f64::INFINITY),
        );
        assert!(set.is_empty());
        assert_eq!(
            set.iter().count() + set.range_by_rank(0, usize::MAX).count(),
            0
        );
        assert_eq!(
            set.rev_range_by_rank(0, 5).count() + set.range_by_score(&all.0, &all.1).count(),
            0
        );
        assert_eq!(
            set.count_in_lex_range(&LexBound::NegInf, &LexBound::PosInf),
            0
        );
        assert_eq!(
            (set.pop_min(), set.pop_max(), set.rank(b"x")),
            (None, None, None)
        );
        check_invariants(&set);
    }

    #[test]
    fn ranks_and_reverse_ranks() {
        let set = set_of(&[("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0), ("e", 5.0)]);
        assert_eq!(members(set.range_by_rank(1, 3)), ["b", "c", "d"]);
        assert_eq!(members(set.range_by_rank(3, 100)), ["d", "e"]);
        assert_eq!(members(set.range_by_rank(3, 1)), Vec::<String>::new());
        assert_eq!(members(set.range_by_rank(5, 9)), Vec::<String>::new());
        assert_eq!(members(set.rev_range_by_rank(0, 1)), ["e", "d"]);
        assert_eq!(members(set.rev_range_by_rank(3, 100)), ["b", "a"]);
        assert_eq!(members(set.rev_range_by_rank(5, 100)), Vec::<String>::new());
    }

    #[test]
    fn score_ranges_honour_bounds() {
        use ScoreBound::*;
        let set = set_of(&[
            ("ninf", f64::NEG_INFINITY),
            ("one", 1.0),
            ("two", 2.0),
            ("2b", 2.0),
            ("pinf", f64::INFINITY),
        ]);
        let range = |min: ScoreBound, max: ScoreBound| members(set.range_by_score(&min, &max));
        assert_eq!(range(Inclusive(1.0), Inclusive(2.0)), ["one", "2b", "two"]);
        assert_eq!(range(Exclusive(1.0), Inclusive(2.0)), ["2b", "two"]);
        assert_eq!(range(Inclusive(1.0), Exclusive(2.0)), ["one"]);
        assert_eq!(range(Exclusive(2.0), Exclusive(2.0)), Vec::<String>::new());
        assert_eq!(range(Inclusive(2.0), Inclusive(1.0)), Vec::<String>::new());
        assert_eq!(
            range(Exclusive(f64::NEG_INFINITY), Exclusive(f64::INFINITY)),
            ["one", "2b", "two"]
        );
        assert_eq!(
            range(Inclusive(f64::INFINITY), Inclusive(f64::INFINITY)),
            ["pinf"]
        );
        assert_eq!(
            members(set.rev_range_by_score(&Inclusive(1.0), &Inclusive(2.0))),
            ["two", "2b", "one"]
        );
        assert_eq!(
            set.count_in_score_range(&Inclusive(f64::NEG_INFINITY), &Inclusive(f64::INFINITY)),
            5
        );
        assert_eq!(
            set.score_range_ranks(&Exclusive(1.0), &Inclusive(f64::INFINITY)),
            2..5
        );
    }

    #[test]
    fn bounds_parse_like_redis() {
        // Observed with ZRANGEBYSCORE / ZRANGEBYLEX on redis-server 7.0.15.
        use ScoreBound::*;
        assert_eq!(ScoreBound::parse(b"(1"), Some(Exclusive(1.0)));
        assert_eq!(ScoreBound::parse(b"( 1"), Some(Exclusive(1.0)));
        assert_eq!(
            ScoreBound::parse(b"-inf"),
            Some(Inclusive(f64::NEG_INFINITY))
        );
        assert_eq!(ScoreBound::parse(b"(+inf"), Some(Exclusive(f64::INFINITY)));
        assert_eq!(ScoreBound::parse(b"("), Some(Exclusive(0.0)));
        assert_eq!(ScoreBound::parse(b"((1"), None);
        assert_eq!(ScoreBound::parse(b"[1"), None);
        assert_eq!(ScoreBound::parse(b"(nan"), None);
        assert_eq!(
            LexBound::parse(b"[a"),
            Some(LexBound::Inclusive(b"a".to_vec()))
        );
        assert_eq!(LexBound::parse(b"("), Some(LexBound::Exclusive(Vec::new())));
        assert_eq!(
            (LexBound::parse(b"-"), LexBound::parse(b"+")),
            (Some(LexBound::NegInf), Some(LexBound::PosInf))
        );
        for bad in [&b"a"[..], b"", b"-a", b"+a"] {
            assert_eq!(LexBound::parse(bad), None);
        }
    }

    #[test]
    fn lex_ranges_on_equal_scores() {
        use LexBound::*;
        let set = set_of(&[("a", 0.0), ("b", 0.0), ("bb", 0.0), ("c", 0.0)]);
        let range = |min: LexBound, max: LexBound| members(set.range_by_lex(&min, &max));
        assert_eq!(range(NegInf, PosInf), ["a", "b", "bb", "c"]);
        assert_eq!(
            range(Inclusive(b"b".to_vec()), Exclusive(b"c".to_vec())),
            ["b", "bb"]
        );
        assert_eq!(range(Exclusive(b"b".to_vec()), PosInf), ["bb", "c"]);
        assert_eq!(range(PosInf, PosInf), Vec::<String>::new());
        assert_eq!(range(NegInf, NegInf), Vec::<String>::new());
        assert_eq!(
            members(set.rev_range_by_lex(&NegInf, &Inclusive(b"b".to_vec()))),
            ["b", "a"]
        );
        assert_eq!(
            set.count_in_lex_range(&Inclusive(Vec::new()), &Exclusive(b"bc".to_vec())),
            3
        );
    }

    #[test]
    fn pops_take_the_ends() {
        let mut set = set_of(&[("a", 1.0), ("b", 2.0), ("c", 3.0)]);
        assert_eq!(set.pop_min(), Some((b"a".to_vec(), 1.0)));
        assert_eq!(set.pop_max(), Some((b"c".to_vec(), 3.0)));
        assert_eq!(set.pop_max(), Some((b"b".to_vec(), 2.0)));
        assert_eq!(set.pop_min(), None);
        assert!(set.insert(b"a", 5.0)); // reuses a freed arena slot
        assert_eq!(set.nodes.len(), 4);
        check_invariants(&set);
    }

    /// xorshift64: a tiny deterministic generator, so failures replay.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    /// 20,000 random operations against a sorted Vec model, checking every query
    /// after each batch. With `equal_scores` every score is 0, to test lex ranges.
    fn random_against_model(seed: u64, equal_scores: bool) {
        let mut rng = Rng(seed);
        let mut set = ZSet::new();
        let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
        const SCORES: [f64; 7] = [f64::NEG_INFINITY, -1.5, 0.0, 1.0, 2.0, 7.25, f64::INFINITY];
        let random_member = |rng: &mut Rng| {
            let (n, len) = (rng.below(400), rng.below(3));
            let mut member = vec![b'a' + (n % 26) as u8, (n / 26) as u8 * 17];
            member.truncate(len + 1);
            member
        };
        let random_score = |rng: &mut Rng| {
            if equal_scores {
                0.0
            } else {
                SCORES[rng.below(SCORES.len())]
            }
        };
        for batch in 0..200 {
            for _ in 0..100 {
                match rng.below(10) {
                    0..=5 => {
                        let (member, score) = (random_member(&mut rng), random_score(&mut rng));
                        let old = model.iter().position(|(_, m)| *m == member);
                        assert_eq!(set.insert(&member, score), old.is_none());
                        if let Some(i) = old {
                            model.remove(i);
                        }
                        model.push((score, member));
                        model.sort_by(|a, b| a.partial_cmp(b).unwrap());
                    }
                    6 | 7 => {
                        let member = random_member(&mut rng);
                        let old = model
                            .iter()
                            .position(|(_, m)| *m == member)
                            .map(|i| model.remove(i).0);
                        assert_eq!(set.remove(&member), old);
                    }
                    8 => assert_eq!(
                        set.pop_min(),
                        (!model.is_empty())
                            .then(|| model.remove(0))
                            .map(|(s, m)| (m, s))
                    ),
                    _ => assert_eq!(set.pop_max(), model.pop().map(|(s, m)| (m, s))),
                }
            }
            check_invariants(&set);
            let as_model = |iter: &mut dyn Iterator<Item = (&[u8], f64)>| -> Vec<(f64, Vec<u8>)> {
                iter.map(|(m, s)| (s, m.to_vec())).collect()
            };
            assert_eq!(as_model(&mut set.iter()), model, "batch {batch}");
            for (rank, (_, member)) in model.iter().enumerate() {
                assert_eq!(set.rank(member), Some(rank));
            }
            for _ in 0..20 {
                let (a, b) = (rng.below(model.len() + 3), rng.below(model.len() + 3));
                let expect: Vec<_> = model
                    .iter()
                    .skip(a)
                    .take((b + 1).saturating_sub(a))
                    .cloned()
                    .collect();
                assert_eq!(as_model(&mut set.range_by_rank(a, b)), expect);
                let mut expect_rev: Vec<_> = model
                    .iter()
                    .rev()
                    .skip(a)
                    .take((b + 1).saturating_sub(a))
                    .cloned()
                    .collect();
                assert_eq!(as_model(&mut set.rev_range_by_rank(a, b)), expect_rev);

                let mut bound = || {
                    let score = SCORES[rng.below(SCORES.len())];
                    if rng.below(2) == 0 {
                        ScoreBound::Inclusive(score)
                    } else {
                        ScoreBound::Exclusive(score)
                    }
                };
                let (min, max) = (bound(), bound());
                let expect: Vec<_> = model
                    .iter()
                    .filter(|(s, _)| !min.is_below_min(*s) && max.is_within_max(*s))
                    .cloned()
                    .collect();
                assert_eq!(as_model(&mut set.range_by_score(&min, &max)), expect);
                assert_eq!(set.count_in_score_range(&min, &max), expect.len());
                expect_rev = expect.into_iter().rev().collect();
                assert_eq!(
                    as_model(&mut set.rev_range_by_score(&min, &max)),
                    expect_rev
                );

                if equal_scores {
                    let mut lex = || {
                        let member = random_member(&mut rng);
                        match rng.below(6) {
                            0 => LexBound::NegInf,
                            1 => LexBound::PosInf,
                            2 | 3 => LexBound::Inclusive(member),
                            _ => LexBound::Exclusive(member),
                        }
                    };
                    let (min, max) = (lex(), lex());
                    let expect: Vec<_> = model
                        .iter()
                        .filter(|(_, m)| !min.is_below_min(m) && max.is_within_max(m))
                        .cloned()
                        .collect();
                    assert_eq!(as_model(&mut set.range_by_lex(&min, &max)), expect);
                    assert_eq!(set.count_in_lex_range(&min, &max), expect.len());
                    expect_rev = expect.into_iter().rev().collect();
                    assert_eq!(as_model(&mut set.rev_range_by_lex(&min, &max)), expect_rev);
                }
            }
        }
    }

    #[test]
    fn random_operations_match_a_sorted_vec() {
        random_against_model(0x9e37_79b9_7f4a_7c15, false);
    }

    #[test]
    fn random_lex_operations_match_a_sorted_vec() {
        random_against_model(0x2545_f491_4f6c_dd1d, true);
    }

    #[test]
    fn many_members_keep_logarithmic_levels() {
        let mut set = ZSet::new();
        for i in 0..50_000u32 {
            set.insert(&i.to_be_bytes(), f64::from(i % 1000));
        }
        check_invariants(&set);
        assert!((6..=16).contains(&set.level), "level {}", set.level);
        assert_eq!(set.get_by_rank(49_999).map(|(_, s)| s), Some(999.0));
        for i in 0..50_000u32 {
            assert_eq!(set.remove(&i.to_be_bytes()), Some(f64::from(i % 1000)));
        }
        check_invariants(&set);
        assert_eq!(set.level, 1);
    }

    /// Resident memory per member for 1M 13-byte members. Run alone:
    /// `cargo test --release --lib memory_per_member -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn memory_per_member() {
        let resident_bytes = || {
            let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
            let pages: usize = statm
                .split_whitespace()
                .nth(1)
                .and_then(|p| p.parse().ok())
                .expect("statm field 2");
            pages * 4096
        };
        let before = resident_bytes();
        let mut set = ZSet::new();
        for i in 0..1_000_000u32 {
            set.insert(format!("member:{i:06}").as_bytes(), f64::from(i));
        }
        let per_member = (resident_bytes() - before) as f64 / 1e6;
        println!("{per_member:.1} bytes per member (13-byte members)");
        assert!(per_member < 160.0);
    }
}
