//! maxmemory and eviction: keeping the data under a memory limit.
//!
//! Before every command, when `maxmemory` is set, the dispatcher calls
//! [`before_command`]. If `used_memory` (live heap bytes, see memory.rs) is
//! above `maxmemory`, keys are evicted under the write lock according to
//! `maxmemory-policy` until it is not (Redis's `performEvictions`); if that
//! fails, commands flagged `denyoom` are refused with the OOM error while
//! reads and deletions still run:
//!
//! ```text
//! noeviction        evict nothing: "OOM command not allowed when used memory > 'maxmemory'."
//! allkeys-random    any key, at random                 ┐ one random key per round,
//! volatile-random   a key with a TTL, at random        ┘ databases taken in turn
//! allkeys-lru       the least recently used of a sample        ┐ Redis's approximation:
//! volatile-lru      the same, among keys with a TTL             │ sample maxmemory-samples
//! allkeys-lfu       the least frequently used of a sample       │ keys per database into a
//! volatile-lfu      the same, among keys with a TTL             │ pool of the best 16
//! volatile-ttl      the key with the nearest expire time        ┘ candidates, evict the best
//! ```
//!
//! Every evicted key is logged to the AOF as `DEL` (like an expired key),
//! touches WATCHers, raises the `evicted` keyspace event and counts in INFO
//! stats `evicted_keys`.
//!
//! LFU uses Redis's logarithmic 8-bit counter, kept per key by
//! `store/lru.rs` (which also holds the LFU tunables).
//!
//! The settings are process-wide atomics (one server per process), copied
//! from the configuration by [`apply_config`] whenever it changes, because
//! eviction runs after commands, far from any `Server`.

use std::sync::atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering};

use crate::commands::{Command, Ctx};
use crate::config::Config;
use crate::error::{CmdError, CmdResult};
use crate::memory::used_memory;
use crate::store::{Entry, Store};

/// Candidates kept between sampling rounds (EVPOOL_SIZE).
pub const POOL_SIZE: usize = 16;

/// A maxmemory-policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Refuse writes.
    NoEviction,
    /// Random among all keys.
    AllKeysRandom,
    /// Random among keys with a TTL.
    VolatileRandom,
    /// Least recently used among all keys.
    AllKeysLru,
    /// Least recently used among keys with a TTL.
    VolatileLru,
    /// Least frequently used among all keys.
    AllKeysLfu,
    /// Least frequently used among keys with a TTL.
    VolatileLfu,
    /// Nearest expire time.
    VolatileTtl,
}

const POLICIES: [Policy; 8] = [
    Policy::NoEviction,
    Policy::AllKeysRandom,
    Policy::VolatileRandom,
    Policy::AllKeysLru,
    Policy::VolatileLru,
    Policy::AllKeysLfu,
    Policy::VolatileLfu,
    Policy::VolatileTtl,
];

impl Policy {
    /// Parses the config value (validated by config.rs; anything else is
    /// noeviction).
    pub fn parse(name: &str) -> Policy {
        match name {
            "allkeys-random" => Policy::AllKeysRandom,
            "volatile-random" => Policy::VolatileRandom,
            "allkeys-lru" => Policy::AllKeysLru,
            "volatile-lru" => Policy::VolatileLru,
            "allkeys-lfu" => Policy::AllKeysLfu,
            "volatile-lfu" => Policy::VolatileLfu,
            "volatile-ttl" => Policy::VolatileTtl,
            _ => Policy::NoEviction,
        }
    }

    fn volatile_only(self) -> bool {
        matches!(
            self,
            Policy::VolatileRandom
                | Policy::VolatileLru
                | Policy::VolatileLfu
                | Policy::VolatileTtl
        )
    }

    /// True for the LFU policies (OBJECT FREQ is allowed then).
    pub fn is_lfu(self) -> bool {
        matches!(self, Policy::AllKeysLfu | Policy::VolatileLfu)
    }
}

// ---- settings and counters ------------------------------------------------

static MAXMEMORY_BYTES: AtomicU64 = AtomicU64::new(0);
static POLICY: AtomicU8 = AtomicU8::new(0);
static SAMPLES: AtomicUsize = AtomicUsize::new(5);
static EVICTED_KEYS: AtomicU64 = AtomicU64::new(0);
/// The database the random policies start from next (Redis's next_db).
static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// Copies maxmemory, maxmemory-policy and maxmemory-samples from the
/// configuration (after every change).
pub fn apply_config(config: &Config) {
    // The first call is the server's construction: the memory baseline.
    crate::memory::mark_startup();
    MAXMEMORY_BYTES.store(config.get_i64("maxmemory").max(0) as u64, Ordering::Relaxed);
    let policy = Policy::parse(config.get("maxmemory-policy").unwrap_or(""));
    let index = POLICIES.iter().position(|p| *p == policy).unwrap_or(0);
    POLICY.store(index as u8, Ordering::Relaxed);
    SAMPLES.store(
        config.get_i64("maxmemory-samples").clamp(1, 64) as usize,
        Ordering::Relaxed,
    );
}

/// The policy in force.
pub fn policy() -> Policy {
    POLICIES
        .get(POLICY.load(Ordering::Relaxed) as usize)
        .copied()
        .unwrap_or(Policy::NoEviction)
}

/// True when maxmemory is set with an LRU or LFU policy: Redis then stops
/// sharing the small integers (OBJECT REFCOUNT 1), since each key needs its
/// own access clock.
pub fn no_shared_integers() -> bool {
    MAXMEMORY_BYTES.load(Ordering::Relaxed) > 0
        && matches!(
            policy(),
            Policy::AllKeysLru | Policy::VolatileLru | Policy::AllKeysLfu | Policy::VolatileLfu
        )
}

/// Keys evicted since start or CONFIG RESETSTAT (INFO stats evicted_keys).
pub fn evicted_keys() -> u64 {
    EVICTED_KEYS.load(Ordering::Relaxed)
}

/// CONFIG RESETSTAT.
pub fn reset_stats() {
    EVICTED_KEYS.store(0, Ordering::Relaxed);
}

// ---- eviction -------------------------------------------------------------

/// The OOM error Redis sends when it cannot free enough memory.
pub fn oom_error() -> CmdError {
    CmdError::Raw("OOM command not allowed when used memory > 'maxmemory'.".into())
}

/// How good an eviction candidate an entry is: higher is evicted first.
fn score(policy: Policy, entry: &Entry, expire_ms: i64, now_ms: i64) -> i64 {
    match policy {
        Policy::AllKeysLru | Policy::VolatileLru => now_ms - entry.access_ms(),
        Policy::AllKeysLfu | Policy::VolatileLfu => 255 - entry.lfu_counter(now_ms) as i64,
        Policy::VolatileTtl => i64::MAX - expire_ms,
        _ => 0,
    }
}

/// Evicts keys until used_memory is at most `maxmemory_bytes`. Returns the
/// evicted keys with their database, and whether the limit was reached
/// (false: nothing more could be evicted). Called with the write lock held.
pub fn free_memory(
    store: &mut Store,
    maxmemory_bytes: usize,
    policy: Policy,
    samples: usize,
    now_ms: i64,
) -> (Vec<(usize, Vec<u8>)>, bool) {
    let mut evicted = Vec::new();
    if policy == Policy::NoEviction {
        return (evicted, used_memory() <= maxmemory_bytes);
    }
    let random = matches!(policy, Policy::AllKeysRandom | Policy::VolatileRandom);
    let ndbs = store.dbs.len();
    // Candidates: (score, db, key), best first after each round.
    let mut pool: Vec<(i64, usize, Vec<u8>)> = Vec::with_capacity(POOL_SIZE + samples);
    // As Redis: the amount to free is fixed at the start, and each eviction
    // counts what its own deletion freed. Memory that grows meanwhile (the
    // victims' names kept for the AOF and events, invalidation messages to
    // tracking clients) does not make the loop chase its own tail.
    let to_free = used_memory().saturating_sub(maxmemory_bytes);
    let mut freed = 0usize;
    while freed < to_free {
        let mut victim: Option<(usize, Vec<u8>)> = None;
        if random {
            // Take databases in turn, so one database is not emptied first.
            for _ in 0..ndbs {
                let i = NEXT_DB.fetch_add(1, Ordering::Relaxed) % ndbs.max(1);
                let db = store.db(i);
                let key = if policy.volatile_only() {
                    db.random_volatile().map(|(k, _)| k)
                } else {
                    db.random_key(i64::MIN)
                };
                if let Some(key) = key {
                    victim = Some((i, key));
                    break;
                }
            }
        } else {
            for (i, db) in store.dbs.iter().enumerate() {
                let population = if policy.volatile_only() {
                    db.expires_len()
                } else {
                    db.len()
                };
                if population == 0 {
                    continue;
                }
                for _ in 0..samples.min(population) {
                    let key = if policy.volatile_only() {
                        db.random_volatile().map(|(k, _)| k)
                    } else {
                        db.random_key(i64::MIN)
                    };
                    let Some(key) = key else { continue };
                    let Some(entry) = db.peek(&key, i64::MIN) else {
                        continue;
                    };
                    if !pool.iter().any(|(_, d, k)| *d == i && *k == key) {
                        let expire_ms = db.expire_of(&key, entry);
                        pool.push((score(policy, entry, expire_ms, now_ms), i, key));
                    }
                }
            }
            pool.sort_by_key(|c| std::cmp::Reverse(c.0));
            pool.truncate(POOL_SIZE);
            // The best candidate that still exists.
            while !pool.is_empty() {
                let (_, db, key) = pool.remove(0);
                if store.db(db).contains_any(&key) {
                    victim = Some((db, key));
                    break;
                }
            }
        }
        let Some((db, key)) = victim else {
            return (evicted, false);
        };
        let before = used_memory();
        store.db_mut(db).remove(&key);
        freed += before.saturating_sub(used_memory());
        evicted.push((db, key));
    }
    (evicted, true)
}

/// Fill ratio (entries per bucket) above which a keyspace table grows even
/// past maxmemory (Redis's HASHTABLE_MAX_LOAD_FACTOR): long chains would
/// cost more than the memory.
const MAX_LOAD_FACTOR: f64 = 1.618;

/// Fill ratio above which a keyspace table grows even while a BGSAVE
/// child runs (Redis's `dict_force_resize_ratio`).
const FORCE_RESIZE_RATIO: f64 = 5.0;

/// The keyspace tables' expand guard (Redis's `dictExpandAllowed` and
/// `dict_can_resize`). A table that is not yet too full does not double
/// when the new bucket array (`more_bytes`) would take used_memory past
/// maxmemory; otherwise one write could trigger evicting many keys just
/// to pay for the rehash. Nor while a forked child saves, unless chains
/// grow past five entries a bucket: the rehash would make the kernel copy
/// the whole table for the child.
pub fn expand_allowed(more_bytes: usize, used_ratio: f64) -> bool {
    if crate::persistence::child::save_running() && used_ratio <= FORCE_RESIZE_RATIO {
        return false;
    }
    let max = MAXMEMORY_BYTES.load(Ordering::Relaxed) as usize;
    max == 0 || used_ratio > MAX_LOAD_FACTOR || used_memory() + more_bytes <= max
}

/// True when a maxmemory limit is configured.
pub fn maxmemory_set() -> bool {
    MAXMEMORY_BYTES.load(Ordering::Relaxed) != 0
}

/// True when maxmemory is set and used_memory is over it (what the
/// eviction before this command could not fix).
pub fn out_of_memory() -> bool {
    let max = MAXMEMORY_BYTES.load(Ordering::Relaxed) as usize;
    max != 0 && used_memory() > max
}

/// The dispatcher's hook, before a command runs (after its arity, auth and
/// ACL checks): frees memory when maxmemory is exceeded, and refuses a
/// `denyoom` command with the OOM error when that is not possible. Free
/// when maxmemory is 0 or memory is under it (two atomic loads).
pub fn before_command(ctx: &mut Ctx, command: &Command, args: &[&[u8]]) -> CmdResult {
    if !perform_evictions(ctx) && crate::commands::CallKinds::of(ctx, command, args).denyoom {
        return Err(oom_error());
    }
    Ok(())
}

/// Evicts keys by the policy until used_memory is back under maxmemory
/// (Redis's `performEvictions`); false when it could not get there. Run
/// before commands, and by CONFIG SET maxmemory, which evicts at once.
pub fn perform_evictions(ctx: &mut Ctx) -> bool {
    let max = MAXMEMORY_BYTES.load(Ordering::Relaxed) as usize;
    if max == 0 || used_memory() <= max {
        return true;
    }
    let policy = policy();
    if policy == Policy::NoEviction {
        return false;
    }
    let samples = SAMPLES.load(Ordering::Relaxed);
    let (evicted, ok) = {
        let mut store = ctx.server.store.write().unwrap_or_else(|p| p.into_inner());
        let (evicted, ok) = free_memory(&mut store, max, policy, samples, ctx.now_ms);
        // Logged under the lock, so the AOF order is the execution order.
        crate::persistence::aof::feed_expired(ctx.server, &evicted);
        (evicted, ok)
    };
    after_eviction(ctx, &evicted);
    ok
}

/// Counts the evicted keys, touches WATCHers and raises `evicted` events.
fn after_eviction(ctx: &Ctx, evicted: &[(usize, Vec<u8>)]) {
    if evicted.is_empty() {
        return;
    }
    EVICTED_KEYS.fetch_add(evicted.len() as u64, Ordering::Relaxed);
    ctx.server.add_dirty(evicted.len() as u64);
    let watches = &ctx.server.watches;
    let notify = ctx.server.notify_enabled.load(Ordering::Relaxed);
    crate::tracking::invalidate_keys(
        ctx.server,
        evicted.iter().map(|(_, k)| k.as_slice()),
        ctx.client.id,
    );
    for (db, key) in evicted {
        if watches.is_active() {
            watches.touch(*db, key);
        }
        if notify {
            ctx.server
                .pubsub
                .publish_keyspace_events(*db, &[('e', "evicted", key.clone())]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse() {
        assert_eq!(Policy::parse("allkeys-lfu"), Policy::AllKeysLfu);
        assert!(Policy::parse("volatile-lfu").is_lfu());
        assert_eq!(Policy::parse("bogus"), Policy::NoEviction);
    }
}
