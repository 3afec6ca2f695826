//! `Dict`: the hash table behind the keyspace, hashes and sets.
//!
//! Rust's `HashMap` cannot do two things Redis needs: pick a random entry
//! in O(1) (RANDOMKEY, SPOP, the expiry and eviction samplers) and iterate
//! with a cursor that survives inserts, deletes and resizes between calls
//! (SCAN). So, like Redis's dict.c, this is a table of buckets, each a
//! singly linked chain:
//!
//! ```text
//! buckets (power of two)      chains
//! [0] -> ("b",v) -> ("q",v)
//! [1] -> None
//! [2] -> ("a",v)
//! [3] -> ("zz",v) -> ("k",v) -> ("m",v)
//! ```
//!
//! The table doubles when it holds as many entries as buckets, and halves
//! when it falls below one entry per eight buckets. A table may carry an
//! expand guard (the keyspace's, see `evict::expand_allowed`): asked before
//! doubling, it can refuse while the table is not too full, as Redis's
//! `dictExpandAllowed` keeps a rehash from pushing memory over maxmemory. Resizing happens at
//! once (Redis spreads it over many operations; a resize of a million keys
//! here costs a few tens of milliseconds).
//!
//! SCAN cursors use Redis's reverse-binary iteration: the cursor is a bucket
//! index whose bits are incremented from the most significant end. Because
//! the table size is a power of two, a bucket of the small table maps onto
//! the same-prefix buckets of the large one, so every entry present for the
//! whole scan is returned at least once even if the table grows or shrinks
//! in between (some may be returned twice).

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

use super::bytes::CompactBytes;
use crate::util::random_u64;

const MIN_BUCKETS: usize = 4;

/// The keyed hash function of a table.
///
/// Every command hashes its key at least once, so this is on the hottest
/// path there is; std's SipHash-1-3 spent about 200 instructions on a
/// 16-byte key. This is a folded-multiply hash in the style of foldhash
/// and aHash's fallback: the key is read 8 or 16 bytes at a time, each
/// block XORed with the secret seeds and multiplied as 64 x 64 -> 128 bits,
/// the two halves of the product XORed together ("folded"). A 16-byte key
/// takes about 30 instructions.
///
/// Flooding resistance comes from the seeds, drawn per table from std's
/// OS-seeded `RandomState`: without them an attacker cannot predict which
/// keys share a bucket (Redis gets the same from SipHash with a random
/// key). It is not a cryptographic MAC, and need not be.
#[derive(Clone, Copy)]
pub(crate) struct KeyHasher {
    seed: u64,
    seed2: u64,
}

/// Odd constants (digits of pi) that separate the roles of the inputs.
const K: [u64; 4] = [
    0x243f_6a88_85a3_08d3,
    0x1319_8a2e_0370_7344,
    0xa409_3822_299f_31d0,
    0x082e_fa98_ec4e_6c89,
];

fn fold(a: u64, b: u64) -> u64 {
    let product = (a as u128).wrapping_mul(b as u128);
    (product as u64) ^ ((product >> 64) as u64)
}

fn read_u64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().expect("caller passes 8 bytes"))
}

fn read_u32(b: &[u8]) -> u64 {
    u32::from_le_bytes(b[..4].try_into().expect("caller passes 4 bytes")) as u64
}

impl KeyHasher {
    pub(crate) fn new() -> Self {
        let os = RandomState::new();
        KeyHasher {
            seed: os.hash_one(1u64),
            seed2: os.hash_one(2u64),
        }
    }

    pub(crate) fn hash(&self, bytes: &[u8]) -> u64 {
        let len = bytes.len();
        let mut s = self.seed ^ (len as u64).wrapping_mul(K[0]);
        // Up to 16 bytes: two (possibly overlapping) words cover them all.
        let (a, b) = if len > 16 {
            let mut chunks = bytes[..len - 16].chunks_exact(16);
            for c in &mut chunks {
                s = fold(read_u64(c) ^ s, read_u64(&c[8..]) ^ self.seed2);
            }
            let rest = chunks.remainder();
            if rest.len() >= 8 {
                s = fold(read_u64(rest) ^ s ^ K[2], self.seed2);
            }
            let tail = &bytes[len - 16..];
            (read_u64(tail), read_u64(&tail[8..]))
        } else if len >= 8 {
            (read_u64(bytes), read_u64(&bytes[len - 8..]))
        } else if len >= 4 {
            (read_u32(bytes), read_u32(&bytes[len - 4..]))
        } else if len > 0 {
            let (x, y, z) = (bytes[0], bytes[len / 2], bytes[len - 1]);
            (x as u64, (y as u64) << 8 | z as u64)
        } else {
            (0, 0)
        };
        s = fold(a ^ s, b ^ self.seed2 ^ K[1]);
        fold(s ^ K[3], self.seed2 ^ K[0])
    }
}

/// One entry. The key is a [`CompactBytes`], so a short key lives inside
/// the node: a key and its value cost one allocation, not two or three.
struct Node<V> {
    key: CompactBytes,
    value: V,
    next: Option<Box<Node<V>>>,
}

/// A hash table from binary keys to `V` with random sampling and SCAN.
pub struct Dict<V> {
    buckets: Vec<Option<Box<Node<V>>>>,
    len: usize,
    hasher: KeyHasher,
    expand_guard: Option<ExpandGuard>,
}

/// Asked before a table grows, with the bytes the larger bucket array
/// needs and the current entries per bucket; false keeps the table as it is.
pub type ExpandGuard = fn(more_bytes: usize, used_ratio: f64) -> bool;

impl<V> Default for Dict<V> {
    fn default() -> Self {
        Self::new()
    }
}

impl<V: Clone> Clone for Dict<V> {
    fn clone(&self) -> Self {
        let mut d = Dict::with_capacity(self.len);
        d.expand_guard = self.expand_guard;
        for (k, v) in self.iter() {
            d.insert_new(k, v.clone());
        }
        d
    }
}

impl<V: std::fmt::Debug> std::fmt::Debug for Dict<V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(k, v)| (String::from_utf8_lossy(k), v)))
            .finish()
    }
}

impl<V> Drop for Dict<V> {
    fn drop(&mut self) {
        // Unlink chains iteratively so a long chain cannot overflow the stack.
        for bucket in self.buckets.iter_mut() {
            let mut cur = bucket.take();
            while let Some(mut node) = cur {
                cur = node.next.take();
            }
        }
    }
}

impl<V> Dict<V> {
    /// An empty table.
    pub fn new() -> Self {
        Dict {
            buckets: Vec::new(),
            len: 0,
            hasher: KeyHasher::new(),
            expand_guard: None,
        }
    }

    /// Sets the guard asked before every growth (the keyspace's tables).
    pub fn set_expand_guard(&mut self, guard: ExpandGuard) {
        self.expand_guard = Some(guard);
    }

    /// A table sized for `n` entries (the RDB loader's RESIZEDB hint).
    pub fn with_capacity(n: usize) -> Self {
        let mut d = Self::new();
        if n > 0 {
            d.resize(n.next_power_of_two().max(MIN_BUCKETS));
        }
        d
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of buckets (for INFO-style diagnostics and memory estimates).
    pub fn bucket_count(&self) -> usize {
        self.buckets.len()
    }

    fn index(&self, key: &[u8]) -> usize {
        (self.hasher.hash(key) as usize) & (self.buckets.len() - 1)
    }

    /// The hash of `key`, for the `*_hashed` lookups: a caller that looks a
    /// key up more than once (check, then modify) hashes it only once.
    /// Valid until the table is modified (a resize changes nothing here,
    /// since the hash, not the bucket index, is kept).
    pub fn hash(&self, key: &[u8]) -> u64 {
        self.hasher.hash(key)
    }

    /// The value stored under `key`.
    pub fn get(&self, key: &[u8]) -> Option<&V> {
        if self.len == 0 {
            return None;
        }
        self.get_hashed(self.hash(key), key)
    }

    /// [`Dict::get`] with the hash from [`Dict::hash`].
    pub fn get_hashed(&self, hash: u64, key: &[u8]) -> Option<&V> {
        if self.len == 0 {
            return None;
        }
        let idx = hash as usize & (self.buckets.len() - 1);
        let mut cur = self.buckets[idx].as_deref();
        while let Some(node) = cur {
            if &*node.key == key {
                return Some(&node.value);
            }
            cur = node.next.as_deref();
        }
        None
    }

    /// The value stored under `key`, mutably.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut V> {
        if self.len == 0 {
            return None;
        }
        self.get_mut_hashed(self.hash(key), key)
    }

    /// [`Dict::get_mut`] with the hash from [`Dict::hash`].
    pub fn get_mut_hashed(&mut self, hash: u64, key: &[u8]) -> Option<&mut V> {
        if self.len == 0 {
            return None;
        }
        let idx = hash as usize & (self.buckets.len() - 1);
        let mut cur = self.buckets[idx].as_deref_mut();
        while let Some(node) = cur {
            if &*node.key == key {
                return Some(&mut node.value);
            }
            cur = node.next.as_deref_mut();
        }
        None
    }

    /// True when `key` is present.
    pub fn contains_key(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Inserts or replaces; returns the previous value.
    pub fn insert(&mut self, key: &[u8], value: V) -> Option<V> {
        // One hash for both the search and the insert (SET's hot path).
        if !self.buckets.is_empty() {
            let idx = self.index(key);
            let mut cur = self.buckets[idx].as_deref_mut();
            while let Some(node) = cur {
                if &*node.key == key {
                    return Some(std::mem::replace(&mut node.value, value));
                }
                cur = node.next.as_deref_mut();
            }
            if self.len < self.buckets.len() {
                let next = self.buckets[idx].take();
                self.buckets[idx] = Some(Box::new(Node {
                    key: key.into(),
                    value,
                    next,
                }));
                self.len += 1;
                return None;
            }
        }
        self.insert_new(key, value);
        None
    }

    /// Inserts a key known to be absent (the caller checked).
    pub fn insert_new(&mut self, key: impl Into<CompactBytes>, value: V) {
        let key = key.into();
        if self.len >= self.buckets.len() && self.may_expand() {
            self.resize((self.buckets.len() * 2).max(MIN_BUCKETS));
        }
        let idx = self.index(&key);
        let next = self.buckets[idx].take();
        self.buckets[idx] = Some(Box::new(Node { key, value, next }));
        self.len += 1;
    }

    /// Returns the value for `key`, inserting `make()` first when absent.
    pub fn get_or_insert_with(&mut self, key: &[u8], make: impl FnOnce() -> V) -> &mut V {
        if !self.contains_key(key) {
            self.insert_new(key, make());
        }
        self.get_mut(key).expect("the key was just ensured present")
    }

    /// Removes `key`, returning its stored key and value.
    pub fn remove_entry(&mut self, key: &[u8]) -> Option<(CompactBytes, V)> {
        if self.len == 0 {
            return None;
        }
        let idx = self.index(key);
        let mut cur = &mut self.buckets[idx];
        while cur.as_ref().is_some_and(|n| &*n.key != key) {
            cur = &mut cur.as_mut().expect("checked to be Some").next;
        }
        let node = cur.take()?;
        let Node { key, value, next } = *node;
        *cur = next;
        self.len -= 1;
        if self.buckets.len() > MIN_BUCKETS && self.len * 8 < self.buckets.len() {
            self.resize(self.buckets.len() / 2);
        }
        Some((key, value))
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<V> {
        self.remove_entry(key).map(|(_, v)| v)
    }

    /// Removes everything.
    pub fn clear(&mut self) {
        *self = Dict {
            buckets: Vec::new(),
            len: 0,
            hasher: KeyHasher::new(),
            expand_guard: self.expand_guard,
        };
    }

    /// Whether the guard (if any) lets the full table double now. An empty
    /// table always gets its first buckets.
    fn may_expand(&self) -> bool {
        match self.expand_guard {
            Some(guard) if !self.buckets.is_empty() => {
                let more_bytes =
                    self.buckets.len() * 2 * std::mem::size_of::<Option<Box<Node<V>>>>();
                guard(more_bytes, self.len as f64 / self.buckets.len() as f64)
            }
            _ => true,
        }
    }

    fn resize(&mut self, new_size: usize) {
        let old = std::mem::take(&mut self.buckets);
        self.buckets = Vec::with_capacity(new_size);
        self.buckets.resize_with(new_size, || None);
        for mut chain in old {
            while let Some(mut node) = chain {
                chain = node.next.take();
                let idx = self.index(&node.key);
                node.next = self.buckets[idx].take();
                self.buckets[idx] = Some(node);
            }
        }
    }

    /// DEBUG HTSTATS's report of this table, in Redis's words: its size,
    /// how many buckets are used, and how long their chains are.
    pub fn stats(&self) -> String {
        let header = "Hash table 0 stats (main hash table):\n";
        if self.len == 0 {
            return format!("{header}No stats available for empty dictionaries\n");
        }
        // How many buckets hold a chain of each length (the last counts
        // every longer one too, as Redis's 50-slot vector does).
        const LENGTHS: usize = 50;
        let mut histogram = [0usize; LENGTHS];
        let (mut used_slots, mut longest, mut total) = (0usize, 0usize, 0usize);
        for bucket in &self.buckets {
            let mut chain = 0;
            let mut cur = bucket.as_deref();
            while let Some(node) = cur {
                chain += 1;
                cur = node.next.as_deref();
            }
            histogram[chain.min(LENGTHS - 1)] += 1;
            if chain > 0 {
                used_slots += 1;
                longest = longest.max(chain);
                total += chain;
            }
        }
        let size = self.buckets.len();
        let mut out = format!(
            "{header} table size: {size}\n number of elements: {}\n different slots: {used_slots}\n max chain length: {longest}\n avg chain length (counted): {:.2}\n avg chain length (computed): {:.2}\n Chain length distribution:\n",
            self.len,
            total as f32 / used_slots as f32,
            self.len as f32 / used_slots as f32,
        );
        for (chain, &count) in histogram.iter().enumerate().take(LENGTHS - 1) {
            if count > 0 {
                let share = count as f32 / size as f32 * 100.0;
                out.push_str(&format!("   {chain}: {count} ({share:.2}%)\n"));
            }
        }
        out
    }

    /// Every entry, in bucket order.
    pub fn iter(&self) -> Iter<'_, V> {
        Iter {
            buckets: &self.buckets,
            bucket: 0,
            node: None,
        }
    }

    /// Every key, in bucket order.
    pub fn keys(&self) -> impl Iterator<Item = &[u8]> {
        self.iter().map(|(k, _)| k)
    }

    /// Visits every value mutably.
    pub fn for_each_mut(&mut self, mut f: impl FnMut(&[u8], &mut V)) {
        for bucket in self.buckets.iter_mut() {
            let mut cur = bucket.as_deref_mut();
            while let Some(node) = cur {
                f(&node.key, &mut node.value);
                cur = node.next.as_deref_mut();
            }
        }
    }

    /// Removes every entry for which `keep` answers false.
    pub fn retain(&mut self, mut keep: impl FnMut(&[u8], &mut V) -> bool) {
        let mut doomed = Vec::new();
        self.for_each_mut(|k, v| {
            if !keep(k, v) {
                doomed.push(k.to_vec());
            }
        });
        for k in doomed {
            self.remove(&k);
        }
    }

    /// One SCAN step: visits the bucket the cursor names and returns the
    /// next cursor (0 when the iteration is complete).
    pub fn scan(&self, cursor: u64, mut f: impl FnMut(&[u8], &V)) -> u64 {
        if self.buckets.is_empty() {
            return 0;
        }
        let mask = (self.buckets.len() - 1) as u64;
        let mut cur = self.buckets[(cursor & mask) as usize].as_deref();
        while let Some(node) = cur {
            f(&node.key, &node.value);
            cur = node.next.as_deref();
        }
        // Increment the reversed cursor: set the bits above the mask so the
        // carry propagates through them, reverse, add one, reverse back.
        let mut v = cursor | !mask;
        v = v.reverse_bits();
        v = v.wrapping_add(1);
        v.reverse_bits()
    }

    /// A random entry, or None when empty. Picks random buckets until one is
    /// not empty, then a random node of its chain.
    pub fn random_entry(&self) -> Option<(&[u8], &V)> {
        if self.len == 0 {
            return None;
        }
        let mask = self.buckets.len() - 1;
        loop {
            let idx = random_u64() as usize & mask;
            if let Some(head) = self.buckets[idx].as_deref() {
                let mut chain_len = 0;
                let mut cur = Some(head);
                while let Some(n) = cur {
                    chain_len += 1;
                    cur = n.next.as_deref();
                }
                let mut pick = random_u64() as usize % chain_len;
                let mut node = head;
                while pick > 0 {
                    node = node
                        .next
                        .as_deref()
                        .expect("pick is below the chain length");
                    pick -= 1;
                }
                return Some((&node.key, &node.value));
            }
        }
    }
}

/// Iterator over a [`Dict`]'s entries.
pub struct Iter<'a, V> {
    buckets: &'a [Option<Box<Node<V>>>],
    bucket: usize,
    node: Option<&'a Node<V>>,
}

impl<'a, V> Iterator for Iter<'a, V> {
    type Item = (&'a [u8], &'a V);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(node) = self.node {
                self.node = node.next.as_deref();
                return Some((&node.key, &node.value));
            }
            let bucket = self.buckets.get(self.bucket)?;
            self.bucket += 1;
            self.node = bucket.as_deref();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn insert_get_remove() {
        let mut d = Dict::new();
        for i in 0..1000 {
            assert!(d.insert(format!("k{i}").as_bytes(), i).is_none());
        }
        assert_eq!(d.len(), 1000);
        assert_eq!(d.get(b"k500"), Some(&500));
        assert_eq!(d.insert(b"k500", 5), Some(500));
        for i in 0..1000 {
            assert!(d.remove(format!("k{i}").as_bytes()).is_some());
        }
        assert!(d.is_empty());
        assert!(d.bucket_count() <= 8);
    }

    #[test]
    fn scan_returns_every_stable_key_across_resizes() {
        let mut d = Dict::new();
        for i in 0..500 {
            d.insert(format!("stable{i}").as_bytes(), ());
        }
        let mut seen = HashSet::new();
        let mut cursor = 0;
        let mut step = 0;
        loop {
            cursor = d.scan(cursor, |k, _| {
                seen.insert(k.to_vec());
            });
            // Grow and shrink the table while the scan is in progress.
            step += 1;
            if step % 3 == 0 {
                for j in 0..200 {
                    d.insert(format!("tmp{step}-{j}").as_bytes(), ());
                }
            } else if step % 3 == 1 {
                let tmp: Vec<Vec<u8>> = d
                    .keys()
                    .filter(|k| k.starts_with(b"tmp"))
                    .map(|k| k.to_vec())
                    .collect();
                for k in tmp {
                    d.remove(&k);
                }
            }
            if cursor == 0 {
                break;
            }
        }
        for i in 0..500 {
            assert!(seen.contains(format!("stable{i}").as_bytes()), "missed {i}");
        }
    }

    #[test]
    fn key_hash_spreads_similar_keys_over_buckets() {
        // Keys that differ in one character, at every length class, must
        // fill 1024 buckets about evenly (no bucket over 4x its share).
        let h = KeyHasher::new();
        for prefix in [
            "",
            "k",
            "key:",
            "user:session:",
            "a-much-longer-prefix-of-thirty-b:",
        ] {
            let mut counts = vec![0u32; 1024];
            for i in 0..16384 {
                let key = format!("{prefix}{i}");
                counts[(h.hash(key.as_bytes()) & 1023) as usize] += 1;
            }
            let max = *counts.iter().max().unwrap();
            assert!(
                max <= 64,
                "prefix {prefix:?}: a bucket got {max} of 16 expected"
            );
        }
        // Same bytes, same hash; a different length, a different hash.
        assert_eq!(h.hash(b"abc"), h.hash(b"abc"));
        assert_ne!(h.hash(b""), h.hash(b"\0"));
        assert_ne!(h.hash(b"\0"), h.hash(b"\0\0"));
    }

    #[test]
    fn stats_describe_size_elements_and_chains() {
        let mut d: Dict<u32> = Dict::new();
        assert_eq!(
            d.stats(),
            "Hash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n"
        );
        for i in 0..100u32 {
            d.insert(format!("k{i}").as_bytes(), i);
        }
        let stats = d.stats();
        let field = |name: &str| -> usize {
            let line = stats.lines().find_map(|l| l.strip_prefix(name)).unwrap();
            line.trim().parse().unwrap()
        };
        assert!(stats.starts_with("Hash table 0 stats (main hash table):\n"));
        assert_eq!(field(" table size:"), 128);
        assert_eq!(field(" number of elements:"), 100);
        // The distribution counts every bucket once and every entry once.
        let rows: Vec<(usize, usize)> = stats
            .lines()
            .skip_while(|l| !l.starts_with(" Chain length distribution:"))
            .skip(1)
            .map(|l| {
                let (chain, rest) = l.trim().split_once(": ").unwrap();
                let count = rest.split_once(' ').unwrap().0;
                (chain.parse().unwrap(), count.parse().unwrap())
            })
            .collect();
        assert_eq!(rows.iter().map(|&(_, n)| n).sum::<usize>(), 128);
        assert_eq!(rows.iter().map(|&(len, n)| len * n).sum::<usize>(), 100);
        let empty = rows.iter().find(|&&(len, _)| len == 0).map_or(0, |r| r.1);
        assert_eq!(field(" different slots:"), 128 - empty);
        assert_eq!(field(" max chain length:"), rows.last().unwrap().0);
    }

    #[test]
    fn random_entry_reaches_every_key() {
        let mut d = Dict::new();
        for i in 0..10u8 {
            d.insert(&[i], i);
        }
        let mut seen = HashSet::new();
        for _ in 0..2000 {
            seen.insert(*d.random_entry().unwrap().1);
        }
        assert_eq!(seen.len(), 10);
    }
}
