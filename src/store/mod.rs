//! The keyspace: numbered databases of keys, their values and their TTLs.
//!
//! ```text
//! Store ─ dbs[0..16] ─ Db ─ dict:    key -> Entry { value, access, volatile }
//!                         └ expires: key -> expire time, unix ms
//!                                    (only keys with a TTL: volatile ones)
//! ```
//!
//! The whole `Store` sits behind one `RwLock` in the server: commands that
//! only read take the read lock, commands that write take the write lock,
//! once per command (see `commands/mod.rs`). Nothing here locks.
//!
//! Expire times live in their own table, as in Redis's `db->expires`: the
//! active expiry cycle samples it at random, and a key without a TTL (most
//! keys) does not pay 8 bytes for one. The entry's `volatile` flag says
//! whether the key is in `expires`, so a lookup of a key without a TTL
//! never searches the second table.
//!
//! Every key pays for its `Entry`, so its size is watched (see the test at
//! the bottom): key node = next pointer (8) + key (24) + Entry (40) = 72
//! bytes, which glibc serves from an 80-byte chunk. Each kind of `Value` is
//! kept to three words for this (lists box their node deque, hashes and
//! sets read their encoding limits from the configuration instead of
//! storing them), and the access clock is one `u32` (see `lru.rs`).
//!
//! No client command sees an expired key. Readers holding only the read
//! lock cannot delete, so [`Db::get`] simply treats an expired entry as
//! absent; writers delete it on touch ([`Db::get_mut`], lazy expiry), and
//! the background cycle in `expire.rs` deletes the ones nobody touches.
//! A replica is the exception, as in Redis: its master decides when a key
//! expires and sends a DEL, so the master's own commands still see the key
//! ([`Db::is_expired`]), and the replica's cycle only expires TTLs that
//! its own clients set on a writable replica (`local_ttls`).

pub mod bytes;
pub mod dict;
pub mod digest;
pub mod geohash;
pub mod glob;
pub mod hash;
pub mod hll;
pub mod list;
pub mod listpack;
pub mod lru;
pub mod number;
pub mod set;
pub mod stream;
pub mod value;
pub mod zset;

pub use dict::Dict;
pub use lru::Access;
pub use value::{RString, Value};

/// `expire_ms` of a key without a TTL.
pub const NO_EXPIRE: i64 = -1;

/// What is stored under one key.
///
/// The access clock is an atomic so that readers holding only the read
/// lock can still record an access (Redis updates `robj.lru` on every
/// lookup); see [`Access`]. Relaxed ordering is enough: these are
/// statistics, and a lost update only makes the approximation slightly
/// less exact, as in Redis.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The value.
    pub value: Value,
    /// Last access time or LFU counter (OBJECT IDLETIME / FREQ, eviction).
    pub access: Access,
    /// True when the key has a TTL, kept in its database's `expires` table.
    volatile: bool,
}

impl Entry {
    /// True when the key has a TTL (see [`Db::expire_of`] for its time).
    pub fn is_volatile(&self) -> bool {
        self.volatile
    }

    /// Last access time in unix ms (OBJECT IDLETIME, LRU eviction).
    pub fn access_ms(&self) -> i64 {
        self.access.last_ms()
    }

    /// The LFU counter decayed to `now_ms`, without counting an access
    /// (OBJECT FREQ, the eviction sampler).
    pub fn lfu_counter(&self, now_ms: i64) -> u8 {
        self.access.freq(now_ms).min(255) as u8
    }
}

/// One numbered database.
#[derive(Debug, Clone)]
pub struct Db {
    dict: Dict<Entry>,
    expires: Dict<i64>,
    /// On a writable replica: keys its own clients gave a TTL (see
    /// `remember_local_ttl`). Entries for keys since deleted or persisted
    /// are dropped when the active cycle meets them.
    local_ttls: Dict<()>,
    /// Keys deleted because their TTL passed (INFO stats expired_keys).
    pub expired_keys: u64,
    /// Keys deleted by expiry since the last [`Store::take_expired`]: the
    /// dispatcher and the active cycle turn them into `expired` events.
    pub expired_log: Vec<Vec<u8>>,
}

impl Default for Db {
    fn default() -> Self {
        Self::new()
    }
}

impl Db {
    /// An empty database. Its tables do not grow while that would take
    /// memory past maxmemory (Redis's `dictExpandAllowed`).
    pub fn new() -> Self {
        let mut dict = Dict::new();
        dict.set_expand_guard(crate::evict::expand_allowed);
        let mut expires = Dict::new();
        expires.set_expand_guard(crate::evict::expand_allowed);
        Db {
            dict,
            expires,
            local_ttls: Dict::new(),
            expired_keys: 0,
            expired_log: Vec::new(),
        }
    }

    /// Number of keys (expired ones not yet collected included, as in Redis).
    pub fn len(&self) -> usize {
        self.dict.len()
    }

    /// True when the database holds no keys.
    pub fn is_empty(&self) -> bool {
        self.dict.is_empty()
    }

    /// Number of keys with a TTL.
    pub fn expires_len(&self) -> usize {
        self.expires.len()
    }

    /// Looks a key up for reading and records the access (LRU/LFU), as
    /// Redis's `lookupKeyRead`; an expired entry counts as absent.
    pub fn get(&self, key: &[u8], now_ms: i64) -> Option<&Entry> {
        let entry = self.peek(key, now_ms)?;
        entry.access.touch(now_ms);
        Some(entry)
    }

    /// Looks a key up without counting it as an access (TTL, TYPE, EXISTS,
    /// OBJECT: Redis's LOOKUP_NOTOUCH); an expired entry counts as absent.
    pub fn peek(&self, key: &[u8], now_ms: i64) -> Option<&Entry> {
        self.dict
            .get(key)
            .filter(|e| !self.is_expired(key, e, now_ms))
    }

    /// True when `key` is in the table but its TTL has passed (it will be
    /// deleted by the next write lookup or the active cycle).
    pub fn is_stale(&self, key: &[u8], now_ms: i64) -> bool {
        self.dict
            .get(key)
            .is_some_and(|e| self.is_expired(key, e, now_ms))
    }

    /// The expire time of `key`, whose entry is `entry`, in unix ms, or
    /// [`NO_EXPIRE`].
    pub fn expire_of(&self, key: &[u8], entry: &Entry) -> i64 {
        if !entry.volatile {
            return NO_EXPIRE;
        }
        self.expires.get(key).copied().unwrap_or(NO_EXPIRE)
    }

    /// The expire time of `key` in unix ms, or [`NO_EXPIRE`] when it has
    /// none or does not exist (expired or not).
    pub fn expire_ms(&self, key: &[u8]) -> i64 {
        match self.dict.get(key) {
            Some(entry) => self.expire_of(key, entry),
            None => NO_EXPIRE,
        }
    }

    /// True when `key`, whose entry is `entry`, has a TTL that has passed
    /// at `now_ms`.
    ///
    /// On a replica, the commands of its master see every key: only the
    /// master decides when a key expires, and sends a DEL (Redis's
    /// `expireIfNeeded`). Its other clients see an expired key as absent.
    pub fn is_expired(&self, key: &[u8], entry: &Entry, now_ms: i64) -> bool {
        entry.volatile
            && self.expires.get(key).is_some_and(|&t| t <= now_ms)
            && !crate::replication::applying()
    }

    /// The value of a live key.
    pub fn get_value(&self, key: &[u8], now_ms: i64) -> Option<&Value> {
        self.get(key, now_ms).map(|e| &e.value)
    }

    /// Looks a key up for writing; an expired entry is deleted first.
    pub fn get_mut(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Entry> {
        // Hash once for the expiry check and the lookup itself.
        let hash = self.dict.hash(key);
        let entry = self.dict.get_hashed(hash, key)?;
        if self.is_expired(key, entry, now_ms) {
            self.expire_now(key);
            return None;
        }
        let entry = self.dict.get_mut_hashed(hash, key)?;
        entry.access.touch(now_ms);
        Some(entry)
    }

    /// The value of a live key, mutably.
    pub fn get_value_mut(&mut self, key: &[u8], now_ms: i64) -> Option<&mut Value> {
        self.get_mut(key, now_ms).map(|e| &mut e.value)
    }

    /// True when a live key exists (not an access: EXISTS does not touch).
    pub fn contains(&self, key: &[u8], now_ms: i64) -> bool {
        self.peek(key, now_ms).is_some()
    }

    /// True when `key` is in the keyspace, even if its TTL has passed.
    pub fn contains_any(&self, key: &[u8]) -> bool {
        self.dict.get(key).is_some()
    }

    /// Deletes `key` if its TTL has passed; returns true if it did.
    pub fn expire_if_needed(&mut self, key: &[u8], now_ms: i64) -> bool {
        if self.is_stale(key, now_ms) {
            self.expire_now(key);
            return true;
        }
        false
    }

    /// Deletes `key` as expired: counted, and logged for `expired` events.
    fn expire_now(&mut self, key: &[u8]) {
        if let Some(entry) = self.remove(key) {
            crate::lazyfree::free_if(&crate::lazyfree::EXPIRE, entry.value);
        }
        self.note_expired(key);
    }

    fn note_expired(&mut self, key: &[u8]) {
        self.expired_keys += 1;
        self.expired_log.push(key.to_vec());
    }

    /// Stores `value` under `key`, replacing any old value and dropping its TTL.
    pub fn set(&mut self, key: &[u8], value: Value, now_ms: i64) {
        self.set_with_expire(key, value, NO_EXPIRE, now_ms);
    }

    /// Stores `value` with an absolute expire time (or [`NO_EXPIRE`]).
    pub fn set_with_expire(&mut self, key: &[u8], value: Value, expire_ms: i64, now_ms: i64) {
        // Under an LFU policy an overwritten key keeps its counter
        // (Redis's dbOverwrite); otherwise the new value is fresh.
        // (The policy is checked first: without LFU, SET hashes the key once.)
        let old_access = if lru::lfu_policy() {
            self.dict.get(key).map(|old| old.access.clone())
        } else {
            None
        };
        let access = old_access.unwrap_or_else(|| Access::new(now_ms));
        let entry = Entry {
            value,
            access,
            volatile: expire_ms != NO_EXPIRE,
        };
        let old = self.dict.insert(key, entry);
        let old_volatile = old.as_ref().is_some_and(|o| o.volatile);
        if let Some(old) = old {
            crate::lazyfree::free_if(&crate::lazyfree::SERVER_DEL, old.value);
        }
        // The caller may not have looked the key up first (plain SET does
        // not): an old value whose TTL had passed counts as expired, as if
        // lazy expiry had deleted it just before.
        if old_volatile {
            let old_expire = self.expires.remove(key).unwrap_or(NO_EXPIRE);
            if old_expire <= now_ms {
                self.note_expired(key);
            }
        }
        if expire_ms != NO_EXPIRE {
            self.expires.insert(key, expire_ms);
            self.remember_local_ttl(key);
        }
    }

    /// On a writable replica, a TTL that one of its own clients set (not
    /// its master) is the replica's to enforce: the master knows nothing
    /// of the key. The active cycle expires these keys, and only these
    /// (Redis's `rememberSlaveKeyWithExpire`).
    fn remember_local_ttl(&mut self, key: &[u8]) {
        if crate::replication::is_replica_process() && !crate::replication::applying() {
            self.local_ttls.insert(key, ());
        }
    }

    /// Stores `value` keeping the key's current TTL (SET ... KEEPTTL).
    pub fn set_keep_ttl(&mut self, key: &[u8], value: Value, now_ms: i64) {
        match self.get_mut(key, now_ms) {
            Some(entry) => entry.value = value,
            None => self.set(key, value, now_ms),
        }
    }

    /// Removes a key, returning its entry (expired or not).
    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.take(key).map(|(entry, _)| entry)
    }

    /// Removes a key, returning its entry and its expire time (or
    /// [`NO_EXPIRE`]), for RENAME and MOVE to store elsewhere.
    pub fn take(&mut self, key: &[u8]) -> Option<(Entry, i64)> {
        let entry = self.dict.remove(key)?;
        let expire_ms = if entry.volatile {
            self.expires.remove(key).unwrap_or(NO_EXPIRE)
        } else {
            NO_EXPIRE
        };
        Some((entry, expire_ms))
    }

    /// Sets an absolute TTL on an existing key; false when the key is absent.
    pub fn set_expire(&mut self, key: &[u8], expire_ms: i64, now_ms: i64) -> bool {
        let Some(entry) = self.get_mut(key, now_ms) else {
            return false;
        };
        entry.volatile = true;
        self.expires.insert(key, expire_ms);
        self.remember_local_ttl(key);
        true
    }

    /// Removes a key's TTL; true when it had one.
    pub fn persist(&mut self, key: &[u8], now_ms: i64) -> bool {
        let Some(entry) = self.get_mut(key, now_ms) else {
            return false;
        };
        if !entry.volatile {
            return false;
        }
        entry.volatile = false;
        self.expires.remove(key);
        true
    }

    /// Removes every key, handing back the old tables so the caller can
    /// drop them elsewhere (FLUSHALL ASYNC: see `lazyfree.rs`).
    pub fn take_tables(&mut self) -> Box<dyn Send> {
        let mut fresh = Db::new();
        std::mem::swap(&mut self.dict, &mut fresh.dict);
        std::mem::swap(&mut self.expires, &mut fresh.expires);
        self.forget_local_ttls();
        Box::new((fresh.dict, fresh.expires))
    }

    /// Removes every key.
    pub fn clear(&mut self) {
        self.dict.clear();
        self.expires.clear();
        self.forget_local_ttls();
    }

    /// Every key and entry (expired ones included: callers filter).
    pub fn iter(&self) -> dict::Iter<'_, Entry> {
        self.dict.iter()
    }

    /// Every key with a TTL and its expire time.
    pub fn expires(&self) -> dict::Iter<'_, i64> {
        self.expires.iter()
    }

    /// DEBUG HTSTATS: the key table's and the expire table's statistics.
    pub fn htstats(&self) -> String {
        format!(
            "[Dictionary HT]\n{}[Expires HT]\n{}",
            self.dict.stats(),
            self.expires.stats()
        )
    }

    /// One SCAN step over the keyspace; see [`Dict::scan`].
    pub fn scan(&self, cursor: u64, f: impl FnMut(&[u8], &Entry)) -> u64 {
        self.dict.scan(cursor, f)
    }

    /// A random live key (RANDOMKEY); gives up on expired picks after a
    /// bounded number of tries, like Redis, and answers None then.
    pub fn random_key(&self, now_ms: i64) -> Option<Vec<u8>> {
        for _ in 0..100 {
            let (k, e) = self.dict.random_entry()?;
            if !self.is_expired(k, e, now_ms) {
                return Some(k.to_vec());
            }
        }
        None
    }

    /// One active-expiry step of a replica over the keys its own clients
    /// gave a TTL (Redis's `expireSlaveKeys`): samples up to `samples` of
    /// them, deletes the expired, forgets those without a TTL any more.
    /// Returns how many were sampled and how many expired.
    pub fn expire_local_ttls(&mut self, samples: usize, now_ms: i64) -> (usize, usize) {
        let mut sampled = 0;
        let mut expired = 0;
        for _ in 0..samples.min(self.local_ttls.len()) {
            let Some((key, _)) = self.local_ttls.random_entry() else {
                break;
            };
            let key = key.to_vec();
            sampled += 1;
            match self.expires.get(&key) {
                Some(&at) if at <= now_ms => {
                    self.expire_now(&key);
                    self.local_ttls.remove(&key);
                    expired += 1;
                }
                Some(_) => {}
                None => {
                    self.local_ttls.remove(&key);
                }
            }
        }
        (sampled, expired)
    }

    /// Forgets the replica's own TTL keys (the server became a master,
    /// whose active cycle covers every key).
    pub fn forget_local_ttls(&mut self) {
        if !self.local_ttls.is_empty() {
            self.local_ttls = Dict::new();
        }
    }

    /// A random key that has a TTL, with its expire time (the active
    /// expiry sampler).
    pub fn random_volatile(&self) -> Option<(Vec<u8>, i64)> {
        let (k, &expire_ms) = self.expires.random_entry()?;
        Some((k.to_vec(), expire_ms))
    }

    /// Swaps two databases' contents (SWAPDB).
    pub fn swap_contents(&mut self, other: &mut Db) {
        std::mem::swap(&mut self.dict, &mut other.dict);
        std::mem::swap(&mut self.expires, &mut other.expires);
        std::mem::swap(&mut self.local_ttls, &mut other.local_ttls);
    }

    /// Pre-sizes the table for `n` keys (RDB RESIZEDB).
    pub fn reserve(&mut self, n: usize) {
        if self.dict.is_empty() {
            self.dict = Dict::with_capacity(n);
            self.dict.set_expand_guard(crate::evict::expand_allowed);
        }
    }
}

/// All databases.
#[derive(Debug, Clone)]
pub struct Store {
    /// The numbered databases (`databases` config, 16 by default).
    pub dbs: Vec<Db>,
}

impl Store {
    /// A store of `n` empty databases.
    pub fn new(n: usize) -> Self {
        Store {
            dbs: (0..n).map(|_| Db::new()).collect(),
        }
    }

    /// Database `i` (the caller validated `i` with SELECT).
    pub fn db(&self, i: usize) -> &Db {
        &self.dbs[i]
    }

    /// Database `i`, mutably.
    pub fn db_mut(&mut self, i: usize) -> &mut Db {
        &mut self.dbs[i]
    }

    /// Total keys in every database.
    pub fn total_keys(&self) -> usize {
        self.dbs.iter().map(Db::len).sum()
    }

    /// Takes the keys deleted by expiry since the last call, with their
    /// database index (for `expired` keyspace events).
    pub fn take_expired(&mut self) -> Vec<(usize, Vec<u8>)> {
        let mut out = Vec::new();
        // Called after every write: skip the empty logs without touching
        // `out` (draining 16 empty logs cost ~700 instructions per write).
        for (i, db) in self.dbs.iter_mut().enumerate() {
            if !db.expired_log.is_empty() {
                out.extend(db.expired_log.drain(..).map(|k| (i, k)));
            }
        }
        out
    }

    /// Keys deleted by expiry, over all databases.
    pub fn expired_keys(&self) -> u64 {
        self.dbs.iter().map(|d| d.expired_keys).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A key's dict node is `next` (8 bytes), the key (24, inline up to
    /// 22 bytes) and the Entry: at most 72 bytes, glibc's 80-byte chunk.
    /// One word more and every key costs 16 bytes more (the memory rows
    /// of `make bench`).
    #[test]
    fn a_key_fits_one_80_byte_chunk() {
        assert_eq!(std::mem::size_of::<Entry>(), 40);
        assert_eq!(std::mem::size_of::<Value>(), 32);
        assert_eq!(std::mem::size_of::<bytes::CompactBytes>(), 24);
    }

    #[test]
    fn expire_times_follow_the_key() {
        let mut db = Db::new();
        db.set_with_expire(b"k", Value::string("v"), 5_000, 1_000);
        assert_eq!(db.expire_ms(b"k"), 5_000);
        assert_eq!(db.expires_len(), 1);
        assert!(db.get(b"k", 4_999).is_some());
        assert!(db.get(b"k", 5_000).is_none());
        // Overwriting without a TTL drops it; setting one adds it back.
        db.set(b"k", Value::string("w"), 1_000);
        assert_eq!((db.expire_ms(b"k"), db.expires_len()), (NO_EXPIRE, 0));
        assert!(db.set_expire(b"k", 9_000, 1_000));
        assert!(db.set_expire(b"k", 8_000, 1_000));
        assert_eq!(db.expire_ms(b"k"), 8_000);
        assert_eq!(db.random_volatile(), Some((b"k".to_vec(), 8_000)));
        // take hands the TTL over; the tables are left empty.
        let (entry, expire_ms) = db.take(b"k").unwrap();
        assert_eq!((expire_ms, db.len(), db.expires_len()), (8_000, 0, 0));
        db.set_with_expire(b"n", entry.value, expire_ms, 1_000);
        assert!(db.persist(b"n", 1_000) && !db.persist(b"n", 1_000));
        assert_eq!((db.expire_ms(b"n"), db.expires_len()), (NO_EXPIRE, 0));
    }

    #[test]
    fn an_overwritten_expired_key_counts_as_expired() {
        let mut db = Db::new();
        db.set_with_expire(b"k", Value::string("v"), 2_000, 1_000);
        db.set(b"k", Value::string("w"), 3_000);
        assert_eq!(db.expired_keys, 1);
        assert_eq!(db.expires_len(), 0);
    }
}
