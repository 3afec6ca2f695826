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
//! converts back. Our listpack ([`Listpack`]) packs the fields and values,
//! alternating, in one buffer in insertion order (the order HGETALL shows
//! for a small hash in Redis too); the
//! hashtable is a [`Dict`], which gives HSCAN its cursor and HRANDFIELD its
//! random samples.
//!
//! The limits are read at each insert, as Redis reads its configuration:
//! [`Hash::insert`] obeys the limits configured right now
//! ([`HashLimits::current`]), [`Hash::insert_within`] the ones it is given
//! (the RDB loader's, unit tests'). A hash does not store them: every byte
//! of a `Value` is paid by every key (see `store/mod.rs`).

use std::sync::atomic::{AtomicU32, Ordering};

use super::dict::Dict;
use super::listpack::{self, Listpack};
use crate::config::Config;
use crate::util::random_below;

/// The conversion thresholds of the listpack encoding. Configured values
/// beyond `u32` saturate, which is as good as unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashLimits {
    /// hash-max-listpack-entries: most fields a listpack hash holds.
    pub max_listpack_entries: u32,
    /// hash-max-listpack-value: longest field or value a listpack holds.
    pub max_listpack_value_bytes: u32,
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

/// The configured limits, copied here by [`apply_config`] after every
/// configuration change so HSET does not search the configuration (two
/// lookups by name cost more than the insert itself).
static CONFIGURED: [AtomicU32; 2] = [AtomicU32::new(512), AtomicU32::new(64)];

/// Copies hash-max-listpack-entries/-value from `config` (called by the
/// server after every configuration change).
pub fn apply_config(config: &Config) {
    let l = HashLimits::from_config(config);
    CONFIGURED[0].store(l.max_listpack_entries, Ordering::Relaxed);
    CONFIGURED[1].store(l.max_listpack_value_bytes, Ordering::Relaxed);
}

impl HashLimits {
    /// The limits configured right now (see [`apply_config`]).
    pub fn current() -> Self {
        HashLimits {
            max_listpack_entries: CONFIGURED[0].load(Ordering::Relaxed),
            max_listpack_value_bytes: CONFIGURED[1].load(Ordering::Relaxed),
        }
    }

    /// The limits currently configured (hash-max-listpack-entries and
    /// hash-max-listpack-value, also known by their old `ziplist` names).
    pub fn from_config(config: &Config) -> Self {
        let get = |name| config.get_i64(name).clamp(0, u32::MAX as i64) as u32;
        HashLimits {
            max_listpack_entries: get("hash-max-listpack-entries"),
            max_listpack_value_bytes: get("hash-max-listpack-value"),
        }
    }
}

/// The two representations.
#[derive(Debug, Clone)]
enum Repr {
    /// Fields and values alternating, in insertion order, searched linearly.
    Listpack(Listpack),
    /// A hash table, for big hashes or long strings. Boxed so a hash (and
    /// so every `Value`) stays three words.
    Table(Box<Dict<Box<[u8]>>>),
}

/// A Redis hash.
#[derive(Debug, Clone)]
pub struct Hash {
    repr: Repr,
}

impl Default for Hash {
    fn default() -> Self {
        Self::new()
    }
}

impl Hash {
    /// An empty hash (listpack).
    pub fn new() -> Self {
        Hash {
            repr: Repr::Listpack(Listpack::new()),
        }
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
            Repr::Listpack(lp) => lp.len() / 2,
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
            Repr::Listpack(lp) => pairs(lp).find(|p| p.field == field).map(|p| p.value),
            Repr::Table(d) => d.get(field).map(|v| &**v),
        }
    }

    /// True when `field` exists.
    pub fn contains(&self, field: &[u8]) -> bool {
        self.get(field).is_some()
    }

    /// Sets `field` to `value` under the configured limits; see
    /// [`Hash::insert_within`].
    pub fn insert(&mut self, field: &[u8], value: &[u8]) -> bool {
        self.insert_within(field, value, HashLimits::current())
    }

    /// Sets `field` to `value`; true when the field is new, false when an
    /// existing value was replaced. Converts to a hashtable first when the
    /// field or value is too long for a listpack, and after the insert when
    /// the hash has too many fields, by `limits`.
    pub fn insert_within(&mut self, field: &[u8], value: &[u8], limits: HashLimits) -> bool {
        let max_bytes = limits.max_listpack_value_bytes as usize;
        if matches!(self.repr, Repr::Listpack(_))
            && (field.len() > max_bytes || value.len() > max_bytes)
        {
            self.convert();
        }
        let added = match &mut self.repr {
            Repr::Listpack(lp) => match pairs(lp).find(|p| p.field == field) {
                Some(p) => {
                    let at = p.value_offset;
                    lp.replace(at, value);
                    false
                }
                None => {
                    lp.push(field);
                    lp.push(value);
                    true
                }
            },
            Repr::Table(d) => d.insert(field, value.into()).is_none(),
        };
        let max_entries = limits.max_listpack_entries as usize;
        if matches!(&self.repr, Repr::Listpack(lp) if lp.len() / 2 > max_entries) {
            self.convert();
        }
        added
    }

    /// Deletes `field`; true when it existed.
    pub fn remove(&mut self, field: &[u8]) -> bool {
        match &mut self.repr {
            Repr::Listpack(lp) => match pairs(lp).find(|p| p.field == field) {
                Some(p) => {
                    // Value first: removing the field would move it.
                    let (field_at, value_at) = (p.field_offset, p.value_offset);
                    lp.remove(value_at);
                    lp.remove(field_at);
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
            Repr::Listpack(lp) => Iter::Listpack(pairs(lp)),
            Repr::Table(d) => Iter::Table(d.iter()),
        }
    }

    /// A uniformly random (field, value), copied out; None when empty.
    pub fn random_pair(&self) -> Option<(Vec<u8>, Vec<u8>)> {
        match &self.repr {
            Repr::Listpack(lp) if lp.is_empty() => None,
            Repr::Listpack(lp) => {
                let p = pairs(lp).nth(random_below(lp.len() / 2))?;
                Some((p.field.to_vec(), p.value.to_vec()))
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
            Repr::Listpack(lp) => {
                for p in pairs(lp) {
                    f(p.field, p.value);
                }
                0
            }
            Repr::Table(d) => d.scan(cursor, |k, v| f(k, v)),
        }
    }

    /// Moves every pair into a hash table (listpack -> hashtable).
    fn convert(&mut self) {
        if let Repr::Listpack(lp) = &self.repr {
            let mut d = Dict::with_capacity(lp.len() / 2);
            for p in pairs(lp) {
                d.insert_new(p.field, Box::from(p.value));
            }
            self.repr = Repr::Table(Box::new(d));
        }
    }
}

/// Iterator over a [`Hash`](struct@Hash)'s (field, value) pairs.
pub enum Iter<'a> {
    /// Over a listpack.
    Listpack(Pairs<'a>),
    /// Over a hashtable.
    Table(super::dict::Iter<'a, Box<[u8]>>),
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a [u8], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        match self {
            Iter::Listpack(it) => it.next().map(|p| (p.field, p.value)),
            Iter::Table(it) => it.next().map(|(f, v)| (f, &**v)),
        }
    }
}

/// One field and its value in a listpack hash, with their offsets.
pub struct Pair<'a> {
    field: &'a [u8],
    value: &'a [u8],
    field_offset: usize,
    value_offset: usize,
}

/// Iterator over a listpack hash's pairs (entries two by two).
pub struct Pairs<'a>(listpack::IterOffsets<'a>);

impl<'a> Iterator for Pairs<'a> {
    type Item = Pair<'a>;

    fn next(&mut self) -> Option<Pair<'a>> {
        let (field_offset, field) = self.0.next()?;
        let (value_offset, value) = self.0.next()?;
        Some(Pair {
            field,
            value,
            field_offset,
            value_offset,
        })
    }
}

fn pairs(lp: &Listpack) -> Pairs<'_> {
    Pairs(lp.iter_offsets())
}

/// Tables with at most this many entries are sampled by counting through
/// them, which is exact and, that small, cheap.
const SMALL_TABLE_ENTRIES: usize = 16;

/// The chain length [`fair_random_entry`] assumes no chain exceeds. At a
/// load factor of at most 1 longer chains are rare enough that samples pass
/// a chi-square test of uniformity on tables of 100 to 100000 entries; a
/// bound of 4 did not.
const FAIR_CHAIN_BOUND: usize = 6;

/// A random entry of `dict` (copied out), uniform even though chains
/// differ in length.
///
/// [`Dict::random_entry`] picks a bucket, then a node of its chain, so an
/// entry alone in its bucket comes up more often than one sharing a chain;
/// HRANDFIELD and SRANDMEMBER should be uniform (the test suite checks the
/// histogram of small sets). So this samples by rejection: pick a random
/// bucket and a random slot in `0..FAIR_CHAIN_BOUND`; if the chain has a
/// node at that slot, that is the answer, otherwise try again. Every entry
/// then has the same chance per try, 1 / (buckets x bound). A chain longer
/// than the bound (rare) is sampled over its real length, which slightly
/// under-weights its entries. With the table between 1/8 and 1 full this
/// takes 6 to 48 tries of one bucket each (about a microsecond on a big
/// table); small tables are counted through instead.
pub(crate) fn fair_random_entry<V: Clone>(dict: &Dict<V>) -> Option<(Vec<u8>, V)> {
    if dict.len() <= SMALL_TABLE_ENTRIES {
        let (k, v) = dict.iter().nth(random_below(dict.len().max(1)))?;
        return Some((k.to_vec(), v.clone()));
    }
    let mask = dict.bucket_count() as u64 - 1;
    loop {
        // A SCAN step on cursor `b` visits bucket `b`.
        let bucket = crate::util::random_u64() & mask;
        let mut chain_len = 0;
        dict.scan(bucket, |_, _| chain_len += 1);
        let slot = random_below(chain_len.max(FAIR_CHAIN_BOUND));
        if slot >= chain_len {
            continue;
        }
        let mut i = 0;
        let mut chosen = None;
        dict.scan(bucket, |k, v| {
            if i == slot {
                chosen = Some((k.to_vec(), v.clone()));
            }
            i += 1;
        });
        return chosen;
    }
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
        let mut h = Hash::new();
        for f in ["a", "b", "c"] {
            h.insert_within(f.as_bytes(), b"v", small());
        }
        assert_eq!(h.encoding(), "listpack");
        h.insert_within(b"d", b"v", small());
        assert_eq!(h.encoding(), "hashtable");
        h.remove(b"d");
        h.remove(b"c");
        assert_eq!(h.encoding(), "hashtable");
        assert_eq!(h.get(b"a"), Some(&b"v"[..]));
    }

    #[test]
    fn converts_on_long_field_or_value() {
        let mut h = Hash::new();
        h.insert_within(b"abcd", b"1234", small());
        assert_eq!(h.encoding(), "listpack");
        h.insert_within(b"f", b"12345", small());
        assert_eq!(h.encoding(), "hashtable");
        let mut h = Hash::new();
        h.insert_within(b"abcde", b"1", small());
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

    #[test]
    fn fair_random_entry_is_uniform_on_a_big_table() {
        let mut d: Dict<()> = Dict::new();
        for i in 0..500 {
            d.insert(format!("m{i}").as_bytes(), ());
        }
        let mut counts = std::collections::HashMap::new();
        for _ in 0..500_000 {
            *counts
                .entry(fair_random_entry(&d).unwrap().0)
                .or_insert(0u32) += 1;
        }
        assert_eq!(counts.len(), 500);
        // Chi-square with 499 degrees of freedom: mean 499, sd about 32.
        // Picking a node of a random bucket (Dict::random_entry) gives ~100000.
        let chi2: f64 = counts
            .values()
            .map(|&c| (c as f64 - 1000.0).powi(2) / 1000.0)
            .sum();
        assert!(chi2 < 700.0, "chi2 {chi2}");
    }
}
