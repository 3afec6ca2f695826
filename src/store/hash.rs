//! The hash type: a map of fields to values, in Redis's two encodings.
//!
//! Redis keeps a small hash as a *listpack*, one flat byte array of
//! alternating fields and values searched linearly, and turns it into a
//! *hashtable* once it grows past two limits from the configuration:
//!
//! ```text
//! listpack   [f1 v1 f2 v2 f3 v3]           while len <= hash-max-listpack-entries (512)
//!                                          and every field and value is
//!                                          <= hash-max-listpack-value (64) bytes
//!     │ one insert breaks a limit
//!     ▼
//! hashtable  Dict: f1 -> v1, f2 -> v2 ...  for good: never converted back
//! ```
//!
//! OBJECT ENCODING shows which one a key uses and Redis's test suite reads
//! it, so this file follows the same rules: a new hash starts as a listpack,
//! [`Hash::insert`] converts before storing a field or value that is too
//! long and after an insert that makes the hash too big, and deleting never
//! converts back. Our "listpack" is a small `Vec` of pairs in insertion
//! order (the order HGETALL shows for a small hash in Redis too); the
//! hashtable is a [`Dict`], which gives HSCAN its cursor and HRANDFIELD its
//! random samples.
//!
//! The limits travel with the hash ([`HashLimits`]): commands refresh them
//! from CONFIG once per command ([`Hash::set_limits`]), the RDB loader builds
//! with the limits it was given ([`Hash::with_limits`]).

use super::dict::Dict;
use crate::config::Config;
use crate::util::random_below;

/// The conversion thresholds of the listpack encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    /// hash-max-listpack-entries: most fields a listpack hash holds.
    pub max_listpack_entries: usize,
    /// hash-max-listpack-value: longest field or value a listpack holds.
    pub max_listpack_value_bytes: usize,
}

impl Default for HashLimits {
    /// Redis 7.0's defaults: 512 entries, 64 bytes.
    fn default() -> Self {
        HashLimits {
            max_listpack_entries: 512,
            max_listpack_value_bytes: 64,
        }
    }
}

impl HashLimits {
    /// The limits currently configured (hash-max-listpack-entries and
    /// hash-max-listpack-value, also known by their old `ziplist` names).
    pub fn from_config(config: &Config) -> Self {
        HashLimits {
            max_listpack_entries: config.get_i64("hash-max-listpack-entries").max(0) as usize,
            max_listpack_value_bytes: config.get_i64("hash-max-listpack-value").max(0) as usize,
        }
    }
}

/// One field and its value, as a listpack holds them.
type Pair = (Box<[u8]>, Box<[u8]>);

/// The two representations.
#[derive(Debug, Clone)]
enum Repr {
    /// Fields and values in insertion order, searched linearly.
    Listpack(Vec<Pair>),
    /// A hash table, for big hashes or long strings.
    Table(Dict<Box<[u8]>>),
}

/// A Redis hash.
#[derive(Debug, Clone)]
pub struct Hash {
    repr: Repr,
    limits: HashLimits,
}

impl Default for Hash {
    fn default() -> Self {
        Self::new()
    }
}

impl Hash {
    /// An empty hash (listpack) with the default limits.
    pub fn new() -> Self {
        Self::with_limits(HashLimits::default())
    }

    /// An empty hash (listpack) that converts according to `limits`.
    pub fn with_limits(limits: HashLimits) -> Self {
        Hash {
            repr: Repr::Listpack(Vec::new()),
            limits,
        }
    }

    /// Replaces the limits later inserts obey. Does not convert by itself:
    /// like Redis, a hash only changes encoding when something is written.
    pub fn set_limits(&mut self, limits: HashLimits) {
        self.limits = limits;
    }

    /// The limits this hash converts by.
    pub fn limits(&self) -> HashLimits {
        self.limits
    }

    /// Redis's name for the current encoding: `listpack` or `hashtable`.
    pub fn encoding(&self) -> &'static str {
        match self.repr {
            Repr::Listpack(_) => "listpack",
            Repr::Table(_) => "hashtable",
        }
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Listpack(pairs) => pairs.len(),
            Repr::Table(d) => d.len(),
        }
    }

    /// True when the hash has no fields (such a key is deleted).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value of `field`.
    pub fn get(&self, field: &[u8]) -> Option<&[u8]> {
        match &self.repr {
            Repr::Listpack(pairs) => pairs.iter().find(|(f, _)| &**f == field).map(|(_, v)| &**v),
            Repr::Table(d) => d.get(field).map(|v| &**v),
        }
    }

    /// True when `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Sets `field` to `value`; true when the field is new, false when an
    /// existing value was replaced. Converts to a hashtable first when the
    /// field or value is too long for a listpack, and after the insert when
    /// the hash has too many fields.
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        let max_bytes = self.limits.max_listpack_value_bytes;
        if matches!(self.repr, Repr::Listpack(_))
            && (field.len() > max_bytes || value.len() > max_bytes)
        {
            self.convert();
        }
        let added = match &mut self.repr {
            Repr::Listpack(pairs) => match pairs.iter_mut().find(|(f, _)| &**f == field) {
                Some((_, v)) => {
                    *v = value.into();
                    false
                }
                None => {
                    pairs.push((field.into(), value.into()));
                    true
                }
            },
            Repr::Table(d) => d.insert(field, value.into()).is_none(),
        };
        if matches!(&self.repr, Repr::Listpack(p) if p.len() > self.limits.max_listpack_entries) {
            self.convert();
        }
        added
    }

    /// Deletes `field`; true when it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(pairs) => match pairs.iter().position(|(f, _)| &**f == field) {
                Some(i) => {
                    // `remove`, not `swap_remove`: a listpack keeps its order.
                    pairs.remove(i);
                    true
                }
                None => false,
            },
            Repr::Table(d) => d.remove(field).is_some(),
        }
    }

    /// Every (field, value): insertion order for a listpack, table order
    /// for a hashtable.
    pub fn iter(&self) -> Iter<'_> {
        match &self.repr {
            Repr::Listpack(pairs) => Iter::Listpack(pairs.iter()),
            Repr::Table(d) => Iter::Table(d.iter()),
        }
    }

    /// A uniformly random (field, value), copied out; None when empty.
    pub fn random_pair(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        match &self.repr {
            Repr::Listpack(pairs) if pairs.is_empty() => None,
            Repr::Listpack(pairs) => {
                let (f, v) = &pairs[random_below(pairs.len())];
                Some((f.to_vec(), v.to_vec()))
            }
            Repr::Table(d) => fair_random_entry(d).map(|(f, v)| (f, v.into_vec())),
        }
    }

    /// One HSCAN step from `cursor`: calls `f` for each visited pair and
    /// returns the next cursor (0 = done). A listpack is returned whole in
    /// one step whatever the cursor, as Redis does; a hashtable visits one
    /// bucket per call (see [`Dict::scan`]).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &[u8])) -> u64 {
        match &self.repr {
            Repr::Listpack(pairs) => {
                for (k, v) in pairs {
                    f(k, v);
                }
                0
            }
            Repr::Table(d) => d.scan(cursor, |k, v| f(k, v)),
        }
    }

    /// Moves every pair into a hash table (listpack -> hashtable).
    fn convert(&mut self) {
        if let Repr::Listpack(pairs) = &mut self.repr {
            let mut d = Dict::with_capacity(pairs.len());
            for (f, v) in std::mem::take(pairs) {
                d.insert_new(f, v);
            }
            self.repr = Repr::Table(d);
        }
    }
}

/// Iterator over a [`Hash`]'s (field, value) pairs.
pub enum Iter<'a> {
    /// Over a listpack.
    Listpack(std::slice::Iter<'a, Pair>),
    /// Over a hashtable.
    Table(super::dict::Iter<'a, Box<[u8]>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(it) => it.next().map(|(f, v)| (&**f, &**v)),
            Iter::Table(it) => it.next().map(|(f, v)| (f, &**v)),
        }
    }
}

/// How many entries [`fair_random_entry`] gathers before choosing.
const FAIR_SAMPLE_ENTRIES: usize = 16;

/// A random entry of `dict` (copied out), fair even when chains differ in
/// length.
///
/// [`Dict::random_entry`] picks a bucket, then a node of its chain, so an
/// entry alone in its bucket comes up more often than one sharing a chain;
/// HRANDFIELD and SRANDMEMBER must be uniform (the test suite checks the
/// histogram). Like Redis's `dictGetFairRandomKey`, this starts at a random
/// bucket, walks buckets in SCAN order until it has seen at least
/// [`FAIR_SAMPLE_ENTRIES`] entries (or the whole table), and picks one of
/// them uniformly by reservoir sampling. A table smaller than the sample is
/// therefore sampled exactly uniformly, a larger one nearly so.
pub(crate) fn fair_random_entry<V: Clone>(dict: &Dict<V>) -> Option<(Vec<u8>, V)> {
    if dict.is_empty() {
        return None;
    }
    let buckets = dict.bucket_count();
    let mut cursor = crate::util::random_u64() & (buckets as u64 - 1);
    let mut seen = 0usize;
    let mut chosen: Option<(Vec<u8>, V)> = None;
    for _ in 0..buckets {
        cursor = dict.scan(cursor, |k, v| {
            seen += 1;
            if random_below(seen) == 0 {
                chosen = Some((k.to_vec(), v.clone()));
            }
        });
        if seen >= FAIR_SAMPLE_ENTRIES {
            break;
        }
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> HashLimits {
        HashLimits {
            max_listpack_entries: 3,
            max_listpack_value_bytes: 4,
        }
    }

    #[test]
    fn listpack_keeps_insertion_order_and_updates_in_place() {
        let mut h = Hash::new();
        assert!(h.insert(b"b", b"1"));
        assert!(h.insert(b"a", b"2"));
        assert!(!h.insert(b"b", b"3"));
        assert_eq!(h.encoding(), "listpack");
        let pairs: Vec<_> = h.iter().collect();
        assert_eq!(pairs, vec![(&b"b"[..], &b"3"[..]), (&b"a"[..], &b"2"[..])]);
        assert_eq!(h.get(b"a"), Some(&b"2"[..]));
        assert!(h.remove(b"b") && !h.remove(b"b"));
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn converts_on_too_many_entries() {
        let mut h = Hash::with_limits(small());
        for f in ["a", "b", "c"] {
            h.insert(f.as_bytes(), b"v");
        }
        assert_eq!(h.encoding(), "listpack");
        h.insert(b"d", b"v");
        assert_eq!(h.encoding(), "hashtable");
        h.remove(b"d");
        h.remove(b"c");
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"a"), Some(&b"v"[..]));
    }

    #[test]
    fn converts_on_long_field_or_value() {
        let mut h = Hash::with_limits(small());
        h.insert(b"abcd", b"1234");
        assert_eq!(h.encoding(), "listpack");
        h.insert(b"f", b"12345");
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::with_limits(small());
        h.insert(b"abcde", b"1");
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.len(), 1);
    }

    #[test]
    fn random_pair_is_fair_for_both_encodings() {
        for table in [false, true] {
            let mut h = Hash::new();
            for i in 0..10 {
                h.insert(i.to_string().as_bytes(), b"v");
            }
            if table {
                h.insert(&[b'x'; 100], b"v");
                h.remove(&[b'x'; 100]);
                assert_eq!(h.encoding(), "hashtable");
            }
            let mut counts = std::collections::HashMap::new();
            for _ in 0..10000 {
                *counts.entry(h.random_pair().unwrap().0).or_insert(0) += 1;
            }
            assert_eq!(counts.len(), 10);
            // Each field expects 1000 picks; a chain bias would give 500 or 2000.
            assert!(
                counts.values().all(|&c| (800..1200).contains(&c)),
                "{counts:?}"
            );
        }
    }
}
