//! The set type: unordered unique members, in Redis's two encodings.
//!
//! Redis 7.0 stores a set of integers as an *intset*, a sorted array of
//! integers searched by bisection, and anything else as a *hashtable*
//! (7.0 has no listpack sets; 7.2 added them):
//!
//! ```text
//! intset     [-3 1 17 400]       while every member is an integer and
//!                                len <= set-max-intset-entries (512)
//!     │ a non-integer member, or one member too many
//!     ▼
//! hashtable  Dict: "a", "17" ... for good: never converted back
//! ```
//!
//! "Integer" means what Redis's `string2ll` accepts: the canonical decimal
//! form of an i64 (`"17"`, `"-3"`; not `"+1"`, `"01"`, `"-0"` or
//! `"9223372036854775808"`), so converting back to text gives the member's
//! exact bytes. OBJECT ENCODING shows the encoding and the test suite reads
//! it, so [`Set::insert`] converts exactly when Redis's `setTypeAdd` does.
//! An intset is kept sorted, so SMEMBERS lists it in ascending order as
//! Redis does. The hashtable is a [`Dict`], which gives SSCAN its cursor
//! and SPOP/SRANDMEMBER their random members.
//!
//! Members of an intset are numbers, not stored bytes, so iteration and
//! random picks hand out [`Cow`] members: borrowed bytes from a hashtable,
//! owned decimal text from an intset.

use std::borrow::Cow;

use super::dict::Dict;
use super::hash::fair_random_entry;
use crate::config::Config;
use crate::number::parse_i64;
use crate::util::random_below;

/// Redis caps set-max-intset-entries at 2^30 (intset internals).
const INTSET_ENTRIES_CAP: usize = 1 << 30;

/// The two representations.
#[derive(Debug, Clone)]
enum Repr {
    /// Sorted, distinct integers.
    Intset(Vec<i64>),
    /// Any members. Boxed so a set (and so every `Value`) stays small.
    Table(Box<Dict<()>>),
}

/// A Redis set.
#[derive(Debug, Clone)]
pub struct Set {
    repr: Repr,
}

impl Default for Set {
    fn default() -> Self {
        Self::new()
    }
}

/// The set-max-intset-entries currently configured.
pub fn max_intset_entries(config: &Config) -> usize {
    config.get_i64("set-max-intset-entries").max(0) as usize
}

/// set-max-intset-entries, copied by [`apply_config`] after every
/// configuration change so SADD does not search the configuration.
static CONFIGURED_MAX_INTSET: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(512);

/// Copies set-max-intset-entries from `config` (called by the server after
/// every configuration change).
pub fn apply_config(config: &Config) {
    CONFIGURED_MAX_INTSET.store(
        max_intset_entries(config),
        std::sync::atomic::Ordering::Relaxed,
    );
}

/// The set-max-intset-entries configured right now (see [`apply_config`]).
pub fn current_max_intset_entries() -> usize {
    CONFIGURED_MAX_INTSET.load(std::sync::atomic::Ordering::Relaxed)
}

impl Set {
    /// An empty set (intset).
    pub fn new() -> Self {
        Set {
            repr: Repr::Intset(Vec::new()),
        }
    }

    /// Redis's name for the current encoding: `intset` or `hashtable`.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Intset(_) => "intset",
            Repr::Table(_) => "hashtable",
        }
    }

    /// The members of an intset-encoded set, ascending (for the RDB
    /// writer); None for a hashtable.
    pub fn as_intset(&self) -> Option<&[i64]> {
        match &self.repr {
            Repr::Intset(v) => Some(v),
            Repr::Table(_) => None,
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Intset(v) => v.len(),
            Repr::Table(d) => d.len(),
        }
    }

    /// True when the set has no members (such a key is deleted).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when `member` is in the set.
    pub fn contains(&self, member: &[u8]) -> bool {
        match &self.repr {
            Repr::Intset(v) => parse_i64(member).is_some_and(|n| v.binary_search(&n).is_ok()),
            Repr::Table(d) => d.contains_key(member),
        }
    }

    /// Adds `member`; true when it was not there yet. An intset becomes a
    /// hashtable when `member` is not an integer or when the set grows past
    /// the configured set-max-intset-entries.
    pub fn insert(&mut self, member: &[u8]) -> bool {
        self.insert_within(member, current_max_intset_entries())
    }

    /// [`Set::insert`] with `max_intset_entries` for the limit instead of
    /// the configured one (the RDB loader's, unit tests').
    pub fn insert_within(&mut self, member: &[u8], max_intset_entries: usize) -> bool {
        let max_intset_entries = max_intset_entries.min(INTSET_ENTRIES_CAP);
        if let Repr::Intset(v) = &mut self.repr {
            if let Some(n) = parse_i64(member) {
                let Err(pos) = v.binary_search(&n) else {
                    return false;
                };
                v.insert(pos, n);
                if v.len() > max_intset_entries {
                    self.table();
                }
                return true;
            }
        }
        let d = self.table();
        if d.contains_key(member) {
            return false;
        }
        d.insert_new(member, ());
        true
    }

    /// Removes `member`; true when it was there.
    pub fn remove(&mut self, member: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Intset(v) => match parse_i64(member).map(|n| v.binary_search(&n)) {
                Some(Ok(pos)) => {
                    v.remove(pos);
                    true
                }
                _ => false,
            },
            Repr::Table(d) => d.remove(member).is_some(),
        }
    }

    /// Every member: ascending for an intset, table order for a hashtable.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Intset(v) => Iter::Intset(v.iter()),
            Repr::Table(d) => Iter::Table(d.iter()),
        }
    }

    /// A uniformly random member, or None when empty.
    pub fn random_member(&self) -> Option<Cow<'_, [u8]>> {
        match &self.repr {
            Repr::Intset(v) if v.is_empty() => None,
            Repr::Intset(v) => Some(int_member(v[random_below(v.len())])),
            Repr::Table(d) => fair_random_entry(d).map(|(k, ())| Cow::Owned(k)),
        }
    }

    /// Removes and returns a uniformly random member.
    pub fn pop_random(&mut self) -> Option<Vec<u8>> {
        if let Repr::Intset(v) = &mut self.repr {
            if v.is_empty() {
                return None;
            }
            let n = v.remove(random_below(v.len()));
            return Some(n.to_string().into_bytes());
        }
        let member = self.random_member()?.into_owned();
        self.remove(&member);
        Some(member)
    }

    /// One SSCAN step from `cursor`: calls `f` for each visited member and
    /// returns the next cursor (0 = done). An intset is returned whole in
    /// one step whatever the cursor, as Redis does; a hashtable visits one
    /// bucket per call (see [`Dict::scan`]).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8])) -> u64 {
        match &self.repr {
            Repr::Intset(v) => {
                for &n in v {
                    f(n.to_string().as_bytes());
                }
                0
            }
            Repr::Table(d) => d.scan(cursor, |k, _| f(k)),
        }
    }

    /// The hash table, after converting an intset into one first.
    fn table(&mut self) -> &mut Dict<()> {
        if let Repr::Intset(v) = &self.repr {
            let mut d = Dict::with_capacity(v.len());
            for n in v {
                d.insert_new(n.to_string().into_bytes(), ());
            }
            self.repr = Repr::Table(Box::new(d));
        }
        match &mut self.repr {
            Repr::Table(d) => d,
            Repr::Intset(_) => unreachable!("the intset was just converted"),
        }
    }
}

fn int_member<'a>(n: i64) -> Cow<'a, [u8]> {
    Cow::Owned(n.to_string().into_bytes())
}

/// Iterator over a [`Set`]'s members: owned text for intset members,
/// borrowed bytes for hashtable members.
pub enum Iter<'a> {
    /// Over an intset.
    Intset(std::slice::Iter<'a, i64>),
    /// Over a hashtable.
    Table(super::dict::Iter<'a, ()>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = Cow<'a, [u8]>;

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Intset(it) => it.next().map(|&n| int_member(n)),
            Iter::Table(it) => it.next().map(|(k, _)| Cow::Borrowed(k)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(s: &Set) -> Vec<Vec<u8>> {
        let mut v: Vec<Vec<u8>> = s.iter().map(|m| m.into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn integers_stay_an_intset_in_order() {
        let mut s = Set::new();
        for m in ["17", "-3", "400", "1", "17"] {
            s.insert(m.as_bytes());
        }
        assert_eq!(s.encoding(), "intset");
        assert_eq!(s.as_intset(), Some(&[-3, 1, 17, 400][..]));
        assert!(s.contains(b"17") && !s.contains(b"017") && !s.contains(b"x"));
    }

    #[test]
    fn non_canonical_integers_convert() {
        for m in ["+1", "01", "-0", "9223372036854775808", " 1", "a"] {
            let mut s = Set::new();
            s.insert(b"5");
            assert!(s.insert(m.as_bytes()));
            assert_eq!(s.encoding(), "hashtable", "{m}");
            assert_eq!(members(&s).len(), 2);
            assert!(s.contains(b"5"));
        }
    }

    #[test]
    fn converts_past_the_limit_and_never_back() {
        let mut s = Set::new();
        for m in ["1", "2", "3"] {
            s.insert_within(m.as_bytes(), 3);
        }
        assert_eq!(s.encoding(), "intset");
        s.insert_within(b"4", 3);
        assert_eq!(s.encoding(), "hashtable");
        s.remove(b"4");
        s.remove(b"3");
        assert_eq!(s.encoding(), "hashtable");
        assert_eq!(members(&s), vec![b"1".to_vec(), b"2".to_vec()]);
        let mut zero = Set::new();
        zero.insert_within(b"1", 0);
        assert_eq!(zero.encoding(), "hashtable");
    }

    #[test]
    fn random_and_pop_cover_every_member() {
        for big in [false, true] {
            let mut s = Set::new();
            for i in 0..10 {
                s.insert(i.to_string().as_bytes());
            }
            if big {
                s.insert(b"x");
                s.remove(b"x");
            }
            let mut seen = std::collections::HashSet::new();
            for _ in 0..1000 {
                seen.insert(s.random_member().unwrap().into_owned());
            }
            assert_eq!(seen.len(), 10);
            let mut popped = Vec::new();
            while let Some(m) = s.pop_random() {
                popped.push(m);
            }
            popped.sort();
            assert_eq!(popped.len(), 10);
            assert!(s.is_empty());
        }
    }

    #[test]
    fn scan_visits_everything() {
        let mut s = Set::new();
        for i in 0..100 {
            s.insert(format!("m{i}").as_bytes());
        }
        let mut seen = std::collections::HashSet::new();
        let mut cursor = 0;
        loop {
            cursor = s.scan(cursor, |m| {
                seen.insert(m.to_vec());
            });
            if cursor == 0 {
                break;
            }
        }
        assert_eq!(seen.len(), 100);
    }
}
