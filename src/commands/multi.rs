//! Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH (Redis's multi.c).
//!
//! After MULTI the dispatcher queues every command except EXEC, DISCARD,
//! MULTI, WATCH, QUIT and RESET and answers `+QUEUED` ([`queue_if_in_multi`]).
//! A command rejected while queuing (unknown, wrong arity, not allowed in
//! subscribed mode or in a transaction) flags the transaction
//! ([`reject`]) and EXEC then answers EXECABORT. EXEC takes the
//! store's write lock once and runs every queued command under it through
//! [`super::run_with_store`], so no other client sees or interleaves with a
//! half-done transaction; an error in one command is that command's reply
//! and the others still run.
//!
//! # WATCH
//!
//! Optimistic locking is a version check. The [`WatchRegistry`] keeps, only
//! for keys somebody watches, a version number per `(db, key)` and an
//! epoch per database:
//!
//! ```text
//! WATCH k        record (db, k, version, epoch, live-now?, stale-now?)
//! write of k     dispatcher: registry.touch(db, k)   -> version += 1
//! FLUSHDB/ALL,   dispatcher: registry.touch_db(db)   -> epoch += 1
//!   SWAPDB
//! EXEC           under the write lock, for each watched key:
//!                  version moved                      -> abort (null array)
//!                  epoch moved and the key existed at
//!                    WATCH time or exists now          -> abort
//!                  live at WATCH time, gone or expired
//!                    now (TTL passed)                  -> abort
//! ```
//!
//! When nobody watches anything, `touch` is a single atomic load, so the
//! GET/SET path pays nothing. A key already expired when WATCHed ("stale")
//! does not fail EXEC when it is merely deleted, as in Redis 7.0.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::{cmd, lookup, Command, Ctx, Group, Handler};
use crate::client::ClientState;
use crate::error::{CmdError, CmdResult};
use crate::server::Server;
use crate::store::Store;

use Handler::Conn;

/// The transactions family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd(
        "multi",
        1,
        "noscript loading stale fast allow_busy",
        (0, 0, 0),
        Group::Transactions,
        "",
        "Mark the start of a transaction block",
        Conn(multi_command),
    ),
    cmd(
        "exec",
        1,
        "noscript loading stale skip_slowlog",
        (0, 0, 0),
        Group::Transactions,
        "",
        "Execute all commands issued after MULTI",
        Conn(exec_command),
    ),
    cmd(
        "discard",
        1,
        "noscript loading stale fast allow_busy",
        (0, 0, 0),
        Group::Transactions,
        "",
        "Discard all commands issued after MULTI",
        Conn(discard_command),
    ),
    cmd(
        "watch",
        -2,
        "noscript loading stale fast allow_busy",
        (1, -1, 1),
        Group::Transactions,
        "key [key ...]",
        "Watch the given keys to determine execution of the MULTI/EXEC block",
        Conn(watch_command),
    ),
    cmd(
        "unwatch",
        1,
        "noscript loading stale fast allow_busy",
        (0, 0, 0),
        Group::Transactions,
        "",
        "Forget about all watched keys",
        Conn(unwatch_command),
    ),
];

/// Commands that run immediately even inside MULTI.
const NOT_QUEUED: &[&str] = &["exec", "discard", "multi", "watch", "quit", "reset"];

/// Commands refused inside MULTI ("no-multi" in Redis's table).
const NO_MULTI: &[&str] = &["save", "shutdown", "sync", "psync"];

/// One key a client WATCHes, with what it looked like then.
#[derive(Debug, Clone)]
pub struct WatchedKey {
    db: usize,
    key: Vec<u8>,
    version: u64,
    epoch: u64,
    /// The key existed and had not expired.
    live: bool,
    /// The key was in the keyspace but its TTL had passed.
    stale: bool,
}

/// A client's transaction state (lives in `ClientState`).
#[derive(Debug, Default)]
pub struct TxState {
    /// Commands queued since MULTI; None outside MULTI.
    pub queue: Option<Vec<Vec<Vec<u8>>>>,
    /// A command was rejected while queuing: EXEC will answer EXECABORT.
    pub aborted: bool,
    /// WATCHed keys.
    pub watched: Vec<WatchedKey>,
}

#[derive(Debug, Default)]
struct WatchInner {
    /// (db, key) -> (number of watching clients, version).
    keys: HashMap<(usize, Vec<u8>), (usize, u64)>,
    /// db -> epoch (bumped by FLUSHDB, FLUSHALL, SWAPDB).
    epochs: HashMap<usize, u64>,
}

/// Versions of watched keys, shared by every client.
#[derive(Debug, Default)]
pub struct WatchRegistry {
    /// Number of watched (db, key) pairs; 0 makes every touch free.
    watched: AtomicUsize,
    inner: Mutex<WatchInner>,
}

impl WatchRegistry {
    fn lock(&self) -> std::sync::MutexGuard<'_, WatchInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True when some client watches some key.
    pub fn is_active(&self) -> bool {
        self.watched.load(Ordering::Relaxed) > 0
    }

    fn watch(&self, db: usize, key: &[u8]) -> (u64, u64) {
        let mut inner = self.lock();
        let epoch = inner.epochs.get(&db).copied().unwrap_or(0);
        let entry = inner.keys.entry((db, key.to_vec())).or_insert_with(|| {
            self.watched.fetch_add(1, Ordering::Relaxed);
            (0, 0)
        });
        entry.0 += 1;
        (entry.1, epoch)
    }

    fn unwatch(&self, db: usize, key: &[u8]) {
        let mut inner = self.lock();
        let k = (db, key.to_vec());
        if let Some(entry) = inner.keys.get_mut(&k) {
            entry.0 -= 1;
            if entry.0 == 0 {
                inner.keys.remove(&k);
                self.watched.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    fn current(&self, db: usize, key: &[u8]) -> (u64, u64) {
        let inner = self.lock();
        let version = inner.keys.get(&(db, key.to_vec())).map_or(0, |e| e.1);
        (version, inner.epochs.get(&db).copied().unwrap_or(0))
    }

    /// Signals that `key` in `db` was modified (Redis's touchWatchedKey).
    pub fn touch(&self, db: usize, key: &[u8]) {
        if !self.is_active() {
            return;
        }
        if let Some(entry) = self.lock().keys.get_mut(&(db, key.to_vec())) {
            entry.1 += 1;
        }
    }

    /// Signals that database `db` was emptied or swapped.
    pub fn touch_db(&self, db: usize) {
        if !self.is_active() {
            return;
        }
        *self.lock().epochs.entry(db).or_insert(0) += 1;
    }
}

/// The dispatcher's queuing rule: inside MULTI, queues the command and
/// answers `+QUEUED`; returns false when the command must run now.
pub fn queue_if_in_multi(ctx: &mut Ctx, command: &Command, args: &[&[u8]]) -> bool {
    if NOT_QUEUED.contains(&command.name) {
        return false;
    }
    let Some(queue) = ctx.client.tx.queue.as_mut() else {
        return false;
    };
    queue.push(args.iter().map(|a| a.to_vec()).collect());
    ctx.client
        .info
        .multi_len
        .store(queue.len() as i64, Ordering::Relaxed);
    ctx.reply.simple("QUEUED");
    true
}

/// The dispatcher's check for commands refused inside MULTI.
pub fn refuse_in_multi(ctx: &Ctx, command: &Command) -> Option<CmdError> {
    if ctx.client.tx.queue.is_some() && NO_MULTI.contains(&command.name) {
        return Some(CmdError::err("Command not allowed inside a transaction"));
    }
    None
}

/// A command rejected before it could run or be queued (Redis's
/// rejectCommand): inside MULTI this flags the transaction, and a rejected
/// EXEC discards it with `EXECABORT Transaction discarded because of: ...`.
pub fn reject(ctx: &mut Ctx, command: Option<&Command>, err: CmdError) -> CmdError {
    if ctx.client.tx.queue.is_none() {
        return err;
    }
    if command.is_some_and(|c| c.name == "exec") {
        reset(ctx.server, ctx.client);
        let text = err.to_string();
        let text = text.strip_prefix("ERR ").unwrap_or(&text).to_string();
        return CmdError::Raw(format!(
            "EXECABORT Transaction discarded because of: {text}"
        ));
    }
    ctx.client.tx.aborted = true;
    err
}

/// Leaves MULTI state (EXEC, DISCARD, RESET).
fn leave_multi(client: &mut ClientState) {
    client.tx.queue = None;
    client.tx.aborted = false;
    client.info.multi_len.store(-1, Ordering::Relaxed);
}

/// Forgets every watched key of a client (UNWATCH, EXEC, DISCARD, exit).
pub fn unwatch_all(server: &Server, client: &mut ClientState) {
    for w in client.tx.watched.drain(..) {
        server.watches.unwatch(w.db, &w.key);
    }
}

/// RESET's share: discard the transaction and the watched keys.
pub fn reset(server: &Server, client: &mut ClientState) {
    leave_multi(client);
    unwatch_all(server, client);
}

/// True when a watched key changed since WATCH (checked with the lock held).
fn watched_keys_changed(ctx: &Ctx, store: &Store) -> bool {
    let registry = &ctx.server.watches;
    ctx.client.tx.watched.iter().any(|w| {
        let Some(db) = store.dbs.get(w.db) else {
            return true;
        };
        let (version, epoch) = registry.current(w.db, &w.key);
        let exists_now = db.contains(&w.key, ctx.now_ms);
        // A stale key that was merely deleted is no logical change.
        let stale_deleted = w.stale && !exists_now;
        if version != w.version && !stale_deleted {
            return true;
        }
        if epoch != w.epoch && (w.live || exists_now) {
            return true;
        }
        w.live && !exists_now
    })
}

/// MULTI — `+OK`; following commands are queued until EXEC or DISCARD.
fn multi_command(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    if ctx.client.tx.queue.is_some() {
        return Err(CmdError::err("MULTI calls can not be nested"));
    }
    ctx.client.tx.queue = Some(Vec::new());
    ctx.client.tx.aborted = false;
    ctx.client.info.multi_len.store(0, Ordering::Relaxed);
    ctx.reply.ok();
    Ok(())
}

/// DISCARD — `+OK`; drops the queue and unwatches every key.
fn discard_command(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    if ctx.client.tx.queue.is_none() {
        return Err(CmdError::err("DISCARD without MULTI"));
    }
    reset(ctx.server, ctx.client);
    ctx.reply.ok();
    Ok(())
}

/// EXEC — an array with each queued command's reply (errors included);
/// null array when a WATCHed key changed; EXECABORT when queuing failed.
fn exec_command(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let Some(queue) = ctx.client.tx.queue.take() else {
        return Err(CmdError::err("EXEC without MULTI"));
    };
    let aborted = ctx.client.tx.aborted;
    leave_multi(ctx.client);
    if aborted {
        unwatch_all(ctx.server, ctx.client);
        return Err(CmdError::Raw(
            "EXECABORT Transaction discarded because of previous errors.".into(),
        ));
    }
    let server = ctx.server;
    let mut store = server.store.write().unwrap_or_else(|p| p.into_inner());
    let changed = watched_keys_changed(ctx, &store);
    unwatch_all(ctx.server, ctx.client);
    if changed {
        ctx.reply.null_array();
        return Ok(());
    }
    ctx.in_exec = true;
    // The AOF gets the transaction's writes as one MULTI ... EXEC block.
    crate::persistence::aof::begin_batch();
    ctx.reply.array(queue.len());
    // Keyspace events per database (a queued SELECT changes it), published
    // once the lock is released.
    let mut events = Vec::new();
    for argv in &queue {
        let args: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
        let Some((index, command)) = args.first().and_then(|name| lookup(name)) else {
            ctx.reply.error("ERR unknown command");
            continue;
        };
        let mark = ctx.reply.buf.len();
        let started = std::time::Instant::now();
        ctx.now_ms = crate::util::now_ms();
        let db = ctx.client.db;
        let result = super::run_with_store(ctx, command, &args, &mut store);
        if !ctx.events.is_empty() {
            events.push((db, std::mem::take(&mut ctx.events)));
        }
        if let Err(e) = &result {
            ctx.reply.buf.truncate(mark);
            let text = e.to_string();
            if crate::replication::applying() {
                let name = super::acl::full_name(command, &args);
                crate::replication::replica::error_from_master(server, Some(&name), &text);
            }
            ctx.reply.error(&text);
        }
        let elapsed_us = started.elapsed().as_micros() as u64;
        server
            .stats
            .record_command(Some(index), &args, elapsed_us, result.as_ref().err());
        super::introspection::record_slow_command(ctx, Some((index, command)), &args, elapsed_us);
        super::introspection::feed_monitors(ctx, command, &args, &result, false);
    }
    ctx.in_exec = false;
    crate::persistence::aof::end_batch(server);
    drop(store);
    for (db, list) in events {
        server.pubsub.publish_keyspace_events(db, &list);
    }
    Ok(())
}

/// WATCH key [key ...] — `+OK`; EXEC will fail if any of them changes.
fn watch_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if ctx.client.tx.queue.is_some() {
        return Err(CmdError::err("WATCH inside MULTI is not allowed"));
    }
    let db_index = ctx.client.db;
    let store = ctx.server.store.read().unwrap_or_else(|p| p.into_inner());
    for key in &args[1..] {
        if ctx
            .client
            .tx
            .watched
            .iter()
            .any(|w| w.db == db_index && w.key == *key)
        {
            continue;
        }
        let db = store.db(db_index);
        let live = db.contains(key, ctx.now_ms);
        let stale = !live && db.contains_any(key);
        let (version, epoch) = ctx.server.watches.watch(db_index, key);
        ctx.client.tx.watched.push(WatchedKey {
            db: db_index,
            key: key.to_vec(),
            version,
            epoch,
            live,
            stale,
        });
    }
    drop(store);
    ctx.reply.ok();
    Ok(())
}

/// UNWATCH — `+OK`; forgets every watched key.
fn unwatch_command(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    unwatch_all(ctx.server, ctx.client);
    ctx.reply.ok();
    Ok(())
}
