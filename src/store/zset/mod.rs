//! The sorted set (ZADD, ZRANGE, ZRANK ...): members ordered by score, then by bytes.
//!
//! Like Redis's `zset`, a [`ZSet`] is two structures over the same elements,
//! each in its own file:
//!
//! ```text
//!   ZSet
//!    |- index: MemberIndex   member -> node        ZSCORE, "is it there?"   O(1)
//!    |                       (index.rs: open-addressing hash of node ids)
//!    '- list:  SkipList      nodes in order        ranks and ranges         O(log n)
//!                            (skiplist.rs: arena skip list with spans; owns the members)
//! ```
//!
//! The order is Redis's: by score, and for equal scores by member bytes as
//! `memcmp` compares them. Scores are never NaN. Every operation that changes
//! the set updates both halves; `len()` of each always agree.
//!
//! Ranges by score or by lex are "count the elements below the lower bound"
//! and "count the elements within the upper bound": two O(log n) walks that
//! give a rank range. ZCOUNT is its length, and LIMIT is rank arithmetic on it,
//! so `ZRANGEBYSCORE ... LIMIT 100000 10` costs O(log n + 10), not O(offset).
//! Iterating a rank range then costs O(log n) to find its two ends and O(1)
//! per element, in either direction.
//!
//! Memory: the member bytes are stored once, in the skip list node (40 bytes);
//! the index holds 8-byte `(hash, node)` slots at most 3/4 full; one node in
//! four has upper levels, 24 bytes each, in a second arena. Measured (the
//! ignored `memory_per_member` test, 1M 13-byte members, resident memory):
//! about 97 bytes per member; redis-server 7.0 holds the same set in about 109.
//!
//! Encoding: Redis keeps a small set (at most `zset-max-listpack-entries`
//! members of at most `zset-max-listpack-value` bytes) in a listpack and
//! converts it to a skip list once it outgrows either limit, never back
//! (except when the set is rebuilt: a *STORE result, an RDB load). We always
//! use this structure, but remember which encoding Redis would be using, since
//! OBJECT ENCODING shows it: see [`ZSet::encoding`], [`ZSet::note_growth`] and
//! [`ZSet::fit_encoding`].
//!
//! Not here: the commands themselves (`commands/zsets.rs`).

use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::BuildHasher;
use std::iter::Rev;
use std::ops::Range;

use super::number;
use index::MemberIndex;
use skiplist::{NodeId, SkipList, NIL};

mod index;
mod skiplist;
#[cfg(test)]
mod tests;

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

/// A Redis sorted set: unique binary members, each with a score, kept in
/// (score, member bytes) order. See the module documentation for how.
#[derive(Clone)]
pub struct ZSet {
    list: SkipList,
    index: MemberIndex,
    /// True while Redis would still hold this set as a listpack.
    listpack: bool,
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
        ZSet {
            list: SkipList::new(hasher.hash_one("skip list seed")),
            index: MemberIndex::new(crate::store::dict::KeyHasher::new()),
            listpack: true,
        }
    }

    /// The encoding Redis would report for this set (OBJECT ENCODING):
    /// "listpack" or "skiplist".
    pub fn encoding(&self) -> &'static str {
        if self.listpack {
            "listpack"
        } else {
            "skiplist"
        }
    }

    /// Called after a command added a member of `member_bytes` bytes: converts
    /// to "skiplist" when the set now exceeds `max_entries` members or the
    /// member is longer than `max_value_bytes` (Redis's check in `zsetAdd`).
    /// A converted set never goes back.
    pub fn note_growth(&mut self, member_bytes: usize, max_entries: usize, max_value_bytes: usize) {
        if self.listpack && (self.len() > max_entries || member_bytes > max_value_bytes) {
            self.listpack = false;
        }
    }

    /// Converts to "skiplist" unconditionally: SORT does this to a sorted
    /// set it reads (Redis's `zsetConvert` in sort.c).
    pub fn force_skiplist(&mut self) {
        self.listpack = false;
    }

    /// Decides the encoding from scratch, for a set that was just built
    /// (ZUNIONSTORE and friends, ZRANGESTORE, an RDB load): "listpack" if it
    /// fits both limits, as Redis's `zsetConvertToListpackIfNeeded`.
    pub fn fit_encoding(&mut self, max_entries: usize, max_value_bytes: usize) {
        self.listpack =
            self.len() <= max_entries && self.iter().all(|(m, _)| m.len() <= max_value_bytes);
    }

    /// Number of members (ZCARD).
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// True when there are no members (Redis deletes the key then).
    pub fn is_empty(&self) -> bool {
        self.list.len() == 0
    }

    /// The score of `member` (ZSCORE), in O(1).
    pub fn score(&self, member: &[u8]) -> Option<f64> {
        self.node_of(member).map(|x| self.list.score(x))
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
        match self.node_of(member) {
            Some(x) => {
                if self.list.score(x) != score {
                    self.list.set_score(x, score);
                }
                false
            }
            None => {
                let x = self.list.insert(member.into(), score);
                self.index.insert(member, x);
                true
            }
        }
    }

    /// Removes `member` (ZREM), returning its score. O(log n).
    pub fn remove(&mut self, member: &[u8]) -> Option<f64> {
        let list = &self.list;
        let x = self.index.remove(member, |x| list.member(x))?;
        Some(self.list.remove(x).1)
    }

    /// The 0-based ascending rank of `member` (ZRANK); ZREVRANK is
    /// `len() - 1 - rank`. O(log n).
    pub fn rank(&self, member: &[u8]) -> Option<usize> {
        let score = self.list.score(self.node_of(member)?);
        Some(
            self.list
                .count_while(|s, m| s < score || (s == score && m < member)),
        )
    }

    /// The element at 0-based ascending `rank` (ZRANDMEMBER picks a random rank). O(log n).
    pub fn get_by_rank(&self, rank: usize) -> Option<(&[u8], f64)> {
        let x = self.list.node_at(rank)?;
        Some((self.list.member(x), self.list.score(x)))
    }

    /// All elements, lowest first; `.rev()` gives highest first.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            list: &self.list,
            front: self.list.first(),
            back: self.list.last(),
            remaining: self.len(),
        }
    }

    /// The elements whose ascending ranks are in `ranks` (clamped to the set),
    /// lowest first; `.rev()` walks them highest first. O(log n) to start,
    /// O(1) per element. Every range below is this plus a rank computation.
    pub fn iter_ranks(&self, ranks: Range<usize>) -> Iter<'_> {
        let end = ranks.end.min(self.len());
        let ends = (
            self.list.node_at(ranks.start),
            end.checked_sub(1).and_then(|last| self.list.node_at(last)),
        );
        match ends {
            (Some(front), Some(back)) if ranks.start < end => Iter {
                list: &self.list,
                front,
                back,
                remaining: end - ranks.start,
            },
            _ => Iter {
                list: &self.list,
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
        let len = self.len();
        let end = end_inclusive.min(len.saturating_sub(1));
        if start > end || start >= len {
            return self.iter_ranks(0..0).rev();
        }
        self.iter_ranks(len - 1 - end..len - start).rev()
    }

    /// The ascending ranks of the elements between `min` and `max` (per the
    /// bounds' inclusiveness); empty when none. O(log n). For
    /// `LIMIT offset count`, ascending: `iter_ranks(start + offset ..)`;
    /// descending: `iter_ranks(.. end - offset).rev()`, each cut to `count`.
    pub fn score_range_ranks(&self, min: &ScoreBound, max: &ScoreBound) -> Range<usize> {
        let start = self.list.count_while(|s, _| min.is_below_min(s));
        let end = self.list.count_while(|s, _| max.is_within_max(s));
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
        let start = self.list.count_while(|_, m| min.is_below_min(m));
        let end = self.list.count_while(|_, m| max.is_within_max(m));
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
        self.pop(self.list.first())
    }

    /// Removes and returns the highest element (ZPOPMAX). O(log n).
    pub fn pop_max(&mut self) -> Option<(Vec<u8>, f64)> {
        self.pop(self.list.last())
    }

    fn pop(&mut self, x: NodeId) -> Option<(Vec<u8>, f64)> {
        if x == NIL {
            return None;
        }
        let list = &self.list;
        self.index
            .remove(list.member(x), |x| list.member(x))
            .expect("every element is indexed");
        Some(self.list.remove(x))
    }

    fn node_of(&self, member: &[u8]) -> Option<NodeId> {
        self.index.find(member, |x| self.list.member(x))
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
#[derive(Clone)]
pub struct Iter<'a> {
    list: &'a SkipList,
    front: NodeId,
    back: NodeId,
    remaining: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], f64);

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining -= 1;
        let x = self.front;
        self.front = self.list.after(x);
        Some((self.list.member(x), self.list.score(x)))
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
        let x = self.back;
        self.back = self.list.before(x);
        Some((self.list.member(x), self.list.score(x)))
    }
}

impl ExactSizeIterator for Iter<'_> {}
