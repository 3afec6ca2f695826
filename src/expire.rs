//! The active expiry cycle: deletes expired keys nobody touches.
//!
//! Lazy expiry (store/mod.rs) removes a key when a command touches it; a key
//! that is never touched again would stay in memory forever. So, as Redis
//! does in `activeExpireCycle`, a background thread named `active-expire`
//! runs about `hz` times a second and, for each database:
//!
//! ```text
//! repeat:
//!     take the write lock
//!     sample KEYS_PER_LOOP random keys that have a TTL
//!     delete the ones whose time has passed
//!     release the lock
//! while more than ACCEPTABLE_STALE_PERC of the sample was expired
//!   and the cycle's time budget is not spent
//! ```
//!
//! The write lock is held for one sample at a time (20 keys), so clients
//! wait microseconds, never the whole cycle. The statistics are Redis's
//! (`expired_keys` in INFO stats, counted in `Db::expired_keys`).
//!
//! Lazy expiry of read-only commands is here too ([`lock_for_read`]):
//! write commands delete an expired key when they look it up (`Db::get_mut`),
//! but a reader holds only the read lock. Redis deletes on any lookup, so
//! DBSIZE drops right after a GET of an expired key; to match, the
//! dispatcher asks [`lock_for_read`] for the read lock, which first deletes
//! the command's expired keys under a short write lock when there are any.
//! While CLIENT PAUSE holds writes, neither path deletes anything: an
//! expired key reads as absent and is deleted after the pause (pause.rs).
//! Nor on a replica, as in Redis: there an expired key reads as absent to
//! clients but stays until its master's DEL arrives, and the master's own
//! commands still see it. A writable replica's write commands do delete
//! it (and write anew), and its active cycle covers only the keys its own
//! clients gave a TTL.
//! It also counts `keyspace_hits` / `keyspace_misses` (INFO stats), which
//! Redis counts on every read lookup.

use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLockReadGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::commands::{Command, Ctx};
use crate::server::Server;
use crate::store::Store;
use crate::util::now_ms;

/// Takes the store's read lock for a read-only command, after deleting
/// the command's keys whose TTL has passed (each raises an `expired`
/// keyspace event), and counts a keyspace hit or miss per key.
pub fn lock_for_read<'s>(
    server: &'s Server,
    ctx: &mut Ctx,
    command: &Command,
    args: &[&[u8]],
) -> RwLockReadGuard<'s, Store> {
    let store = server.store.read().unwrap_or_else(|p| p.into_inner());
    if command.first_key <= 0 {
        return store;
    }
    let keys = command.key_positions(args.len());
    let db = store.db(ctx.client.db);
    // While writes are paused (CLIENT PAUSE) an expired key only reads as
    // absent: deleting it would change the dataset under the pause.
    let any_stale = keys.clone().any(|i| db.is_stale(args[i], ctx.now_ms));
    let store = if !any_stale || server.pause.writes_paused() || server.repl.is_replica() {
        store
    } else {
        drop(store);
        {
            let mut store = server.store.write().unwrap_or_else(|p| p.into_inner());
            delete_stale(ctx, command, args, &mut store);
        }
        server.store.read().unwrap_or_else(|p| p.into_inner())
    };
    count_hits(ctx, command, args, &store);
    store
}

/// [`lock_for_read`] for a read command of a pipelined batch that already
/// holds the write lock (see client.rs): the same expiry and counting.
pub fn prepare_read_locked(ctx: &mut Ctx, command: &Command, args: &[&[u8]], store: &mut Store) {
    if command.first_key <= 0 {
        return;
    }
    if !ctx.server.pause.writes_paused() && !ctx.server.repl.is_replica() {
        delete_stale(ctx, command, args, store);
    }
    count_hits(ctx, command, args, store);
}

/// Deletes the command's keys whose TTL has passed, and logs each as a DEL
/// (AOF, replicas) right away, as Redis does, not with the next write.
fn delete_stale(ctx: &mut Ctx, command: &Command, args: &[&[u8]], store: &mut Store) {
    let db = store.db_mut(ctx.client.db);
    for i in command.key_positions(args.len()) {
        if db.expire_if_needed(args[i], ctx.now_ms) {
            ctx.notify('x', "expired", args[i]);
            crate::tracking::invalidate_keys(ctx.server, [args[i]], ctx.client.id);
        }
    }
    let expired = store.take_expired();
    if !expired.is_empty() {
        crate::persistence::aof::feed_expired(ctx.server, &expired);
    }
}

/// Counts a keyspace hit or miss per key of a `readonly` command.
fn count_hits(ctx: &Ctx, command: &Command, args: &[&[u8]], store: &Store) {
    if !command.is_readonly() {
        return;
    }
    let keys = command.key_positions(args.len());
    let db = store.db(ctx.client.db);
    let hits = keys
        .clone()
        .filter(|&i| db.contains(args[i], ctx.now_ms))
        .count() as u64;
    let stats = &ctx.server.stats;
    stats.keyspace_hits.fetch_add(hits, Ordering::Relaxed);
    stats
        .keyspace_misses
        .fetch_add(keys.count() as u64 - hits, Ordering::Relaxed);
}

/// Keys sampled per round (ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP).
pub const KEYS_PER_LOOP: usize = 20;
/// Keep sampling while more than this share of a sample had expired.
pub const ACCEPTABLE_STALE_PERC: usize = 10;
/// Share of each cycle's period the cycle may spend (ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC).
pub const CYCLE_TIME_PERC: u32 = 25;

/// Runs one cycle over every database; returns how many keys were deleted.
pub fn active_expire_cycle(server: &Server, budget: Duration) -> usize {
    let started = Instant::now();
    let db_count = server
        .store
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .dbs
        .len();
    let mut deleted = 0;
    // A replica expires only the keys its own clients gave a TTL; its
    // master's keys go when the master's DELs arrive.
    let replica = server.repl.is_replica();
    for db_index in 0..db_count {
        loop {
            let (sampled, expired, expired_keys) = {
                let mut store = server.store.write().unwrap_or_else(|p| p.into_inner());
                let db = store.db_mut(db_index);
                if db.expires_len() == 0 {
                    break;
                }
                let now = now_ms();
                let (samples, expired) = if replica {
                    db.expire_local_ttls(KEYS_PER_LOOP, now)
                } else {
                    db.forget_local_ttls();
                    sample_and_expire(db, now)
                };
                let expired_keys = store.take_expired();
                // AOF: expired keys are logged as DEL, under the same lock.
                crate::persistence::aof::feed_expired(server, &expired_keys);
                (samples, expired, expired_keys)
            };
            crate::tracking::invalidate_keys(
                server,
                expired_keys.iter().map(|(_, k)| k.as_slice()),
                0,
            );
            crate::tracking::broadcast(server, 0);
            publish_expired(server, expired_keys);
            deleted += expired;
            if sampled == 0
                || expired * 100 <= sampled * ACCEPTABLE_STALE_PERC
                || started.elapsed() >= budget
            {
                break;
            }
        }
        if started.elapsed() >= budget {
            break;
        }
    }
    let elapsed_ms = started.elapsed().as_millis() as u64;
    crate::commands::introspection::add_latency_sample_if_needed(
        server,
        "expire-cycle",
        elapsed_ms,
    );
    deleted
}

/// One sample of the cycle on a master: up to [`KEYS_PER_LOOP`] random
/// keys with a TTL; deletes the expired ones. Returns (sampled, expired).
fn sample_and_expire(db: &mut crate::store::Db, now: i64) -> (usize, usize) {
    let samples = KEYS_PER_LOOP.min(db.expires_len());
    let mut expired = 0;
    for _ in 0..samples {
        let Some((key, at)) = db.random_volatile() else {
            break;
        };
        if at <= now && db.expire_if_needed(&key, now) {
            expired += 1;
        }
    }
    (samples, expired)
}

/// Publishes `expired` keyspace events for keys the cycle deleted (after
/// the lock is released).
fn publish_expired(server: &Server, keys: Vec<(usize, Vec<u8>)>) {
    if keys.is_empty() || !server.notify_enabled.load(Ordering::Relaxed) {
        return;
    }
    for (db, key) in keys {
        server
            .pubsub
            .publish_keyspace_events(db, &[('x', "expired", key)]);
    }
}

/// Starts the `active-expire` thread; it stops when the server shuts down.
pub fn start(server: Arc<Server>) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("active-expire".into())
        .spawn(move || {
            while !server.shutdown.load(Ordering::Relaxed) {
                let hz = server.config().get_i64("hz").clamp(1, 500) as u64;
                let period = Duration::from_millis(1000 / hz);
                // A paused server deletes nothing (CLIENT PAUSE, pause.rs).
                if server.active_expire_enabled.load(Ordering::Relaxed)
                    && !server.pause.writes_paused()
                {
                    active_expire_cycle(&server, period * CYCLE_TIME_PERC / 100);
                }
                // tracking-table-max-keys is also enforced here (serverCron).
                crate::tracking::limit_table(&server, 0);
                std::thread::sleep(period);
            }
        })
}
