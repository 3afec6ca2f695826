//! The append-only file: every write, as the RESP command that redoes it,
//! appended to a file so a restart can replay it (Redis 7.0's multi-part AOF).
//!
//! # The life of a write
//!
//! ```text
//! client thread                                  (store write lock held)
//!   handler mutates the store
//!   propagate(): rules.rs turns the command into what took effect
//!                (EXPIRE -> PEXPIREAT, INCRBYFLOAT -> SET .. KEEPTTL ...)
//!   append(): SELECT if the db changed, RESP bytes added to `pending.buf`;
//!             with everysec / no they are write(2)n to the file at once
//!                                               (store lock released)
//!   wait_written(): with appendfsync always, wait until a group commit
//!                   has written and fdatasynced this thread's bytes; reply.
//! ```
//!
//! Appending under the store lock keeps the file in the order the writes
//! happened. Every write(2) happens under the `pending` mutex (so the file
//! keeps that order); no fsync ever happens under a lock.
//!
//! # Group commit (appendfsync always)
//!
//! Many clients may wait at once. One of them becomes the *leader*: it
//! writes the whole pending buffer, fsyncs it, publishes the new `written`
//! / `synced` offsets and wakes everybody on a condvar. Waiters whose
//! offset is covered return at once; the others elect the next leader. So
//! under load one fsync serves many replies and `always` stays usable. With
//! `everysec` the reply follows the write(2) (a crash of the process loses
//! nothing) and the `aof-fsync` thread fsyncs once a second; with `no` the
//! OS decides when the data reaches the disk.
//!
//! # Files
//!
//! The directory layout and manifest are in [`manifest`]; loading at start
//! in [`loader`]; BGREWRITEAOF and the switch to a new incremental file in
//! [`rewrite`], what a base file holds in [`base`]; turning the AOF on and
//! off in [`switch`]; which command is logged for which write in [`rules`].
//!
//! # For other command families
//!
//! * A handler whose effect differs from its arguments (random results,
//!   SPOP, blocked pops ...) calls [`Ctx::propagate_override`] with the
//!   commands that redo what happened; an empty list logs nothing.
//! * EXEC and scripts wrap their writes in [`begin_batch`] / [`end_batch`]
//!   (while holding the store lock for the whole transaction, so no other
//!   write lands between them); the AOF and the replicas then get them
//!   inside MULTI/EXEC, or alone when there is only one (Redis 7.0).
//! * A command can go to one side only: PUBLISH to the replicas
//!   ([`propagate_to_replicas`]), and a script's writes where
//!   `redis.set_repl` says ([`set_targets`]).
//!
//! Redis mirrors: `feedAppendOnlyFile`, `flushAppendOnlyFile`,
//! `catAppendOnlyGenericCommand` in `src/aof.c`.

pub mod base;
pub mod loader;
pub mod manifest;
pub mod rewrite;
pub mod rules;
pub mod switch;

use std::cell::RefCell;
use std::fs::File;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::commands::Ctx;
use crate::error::CmdResult;
use crate::server::Server;
use crate::store::Store;

use crate::persistence::standin_child::ForkChild;
use manifest::Manifest;
pub use switch::{debug_loadaof, on_config_change, stop};

/// How often the `aof-fsync` thread fsyncs with appendfsync everysec.
pub const EVERYSEC_PERIOD_MS: u64 = 1000;

/// appendonly as the server lives it (Redis's `aof_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AofState {
    /// appendonly no.
    Off,
    /// Every write is appended to the current incremental file.
    On,
    /// appendonly yes was just set: until the first rewrite succeeds,
    /// writes go to a temporary incremental file (only while that rewrite
    /// runs); the manifest is not touched.
    WaitRewrite,
}

/// appendfsync: when written data is forced to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// fsync before every reply (group-committed).
    Always,
    /// fsync once a second from the `aof-fsync` thread.
    EverySec,
    /// never fsync; the OS flushes when it likes.
    No,
}

impl FsyncPolicy {
    fn from_config(s: &str) -> Self {
        match s {
            "always" => FsyncPolicy::Always,
            "no" => FsyncPolicy::No,
            _ => FsyncPolicy::EverySec,
        }
    }
}

/// What writers append to (under the `pending` mutex).
pub(crate) struct Pending {
    /// Bytes appended and not yet written to the file.
    pub(crate) buf: Vec<u8>,
    /// Total bytes ever appended: the offset that waiters wait for.
    pub(crate) appended: u64,
    /// The incremental file being appended to; None while the AOF is off.
    pub(crate) file: Option<Arc<File>>,
    /// Database of the last command written to the current file.
    pub(crate) last_db: Option<usize>,
    /// Second of the last `#TS:` annotation in the current file.
    pub(crate) last_ts_s: Option<i64>,
    /// The manifest describing the files on disk.
    pub(crate) manifest: Manifest,
    /// `manifest` was read from disk (at start with appendonly yes, by a
    /// rewrite or DEBUG LOADAOF); until then it is read on first use.
    pub(crate) manifest_loaded: bool,
    /// The AOF directory (appenddirname, relative to dir).
    pub(crate) dir: PathBuf,
    /// appendfilename: the prefix of every file name.
    pub(crate) filename: String,
}

/// Progress of the writes and fsyncs (under the `io` mutex).
#[derive(Default)]
struct Io {
    /// Offset up to which bytes are in the file.
    written: u64,
    /// Offset up to which bytes are fsynced.
    synced: u64,
    /// A leader is writing / fsyncing right now.
    busy: bool,
}

/// The AOF state, one per server.
pub struct Aof {
    /// Appending commands (files open, feeding on). Read under the store lock.
    pub(crate) feeding: AtomicBool,
    pub(crate) pending: Mutex<Pending>,
    io: Mutex<Io>,
    io_done: Condvar,
    policy: AtomicU8,
    /// A rewrite is running.
    pub(crate) rewrite_in_progress: AtomicBool,
    /// Set to make a running rewrite stop (CONFIG SET appendonly no).
    pub(crate) rewrite_abort: AtomicBool,
    /// Off / On / WaitRewrite, as [`AofState`].
    state: AtomicU8,
    /// The running rewrite's child process (see `persistence::child`).
    pub(crate) rewrite_child: Mutex<Option<Arc<ForkChild>>>,
    /// Rewrites that failed in a row (INFO aof_rewrites_consecutive_failures).
    pub(crate) consecutive_failures: AtomicU64,
    /// Automatic rewrites held back after repeated failures: (minutes of
    /// the current delay, unix second it ends; 0 = not limited).
    pub(crate) limit: Mutex<(i64, i64)>,
    /// DEBUG AOF-FLUSH-SLEEP: microseconds to sleep before each flush.
    pub(crate) flush_sleep_us: AtomicU64,
    /// The `aof-cron` thread (scheduled rewrites) was started.
    pub(crate) cron_started: AtomicBool,
    /// A rewrite was asked for while one ran.
    pub(crate) rewrite_scheduled: AtomicBool,
    /// Result of the last rewrite.
    pub(crate) last_rewrite_ok: AtomicBool,
    /// Result of the last write(2)/fsync.
    last_write_ok: AtomicBool,
    /// Rewrites done since start.
    pub(crate) rewrites: AtomicU64,
    /// Seconds the last rewrite took (-1: none yet).
    pub(crate) last_rewrite_time_s: AtomicI64,
    /// When the running rewrite started.
    pub(crate) rewrite_started: Mutex<Option<Instant>>,
    /// Size of the base file plus every incremental file, bytes.
    pub(crate) current_size: AtomicU64,
    /// Size of the base file.
    pub(crate) base_size: AtomicU64,
    /// current_size right after the last rewrite (auto rewrite compares to it).
    pub(crate) rewrite_base_size: AtomicU64,
    /// The `aof-fsync` thread was started.
    fsync_thread_started: AtomicBool,
    /// Unix seconds of the last everysec fsync.
    last_fsync_s: AtomicI64,
    /// aof-timestamp-enabled: write `#TS:<unix s>` annotations.
    timestamps: AtomicBool,
    /// auto-aof-rewrite-percentage (0: off).
    auto_perc: AtomicU64,
    /// auto-aof-rewrite-min-size, bytes.
    auto_min_bytes: AtomicU64,
}

impl Default for Aof {
    fn default() -> Self {
        Self::new()
    }
}

/// One command to log: the database it runs in and its arguments.
pub type Logged = (usize, Vec<Vec<u8>>);

thread_local! {
    /// The offset this thread's last command ends at in the AOF, and
    /// whether the reply must wait for it (appendfsync always).
    static WAIT_TARGET: RefCell<Option<(u64, bool)>> = const { RefCell::new(None) };
    /// Commands a handler asked to log instead of its own arguments.
    static OVERRIDE: RefCell<Option<Vec<Vec<Vec<u8>>>>> = const { RefCell::new(None) };
    /// Commands collected between begin_batch and end_batch, each with
    /// where it goes ([`TO_AOF`], [`TO_REPLICAS`]).
    static BATCH: RefCell<Option<Vec<(Logged, u8)>>> = const { RefCell::new(None) };
    /// Where this thread's writes go: redis.set_repl changes it for the
    /// rest of a script, which resets it (see [`set_targets`]).
    static TARGETS: std::cell::Cell<u8> = const { std::cell::Cell::new(TO_ALL) };
}

/// A logged command goes to the AOF.
pub const TO_AOF: u8 = 1;
/// A logged command goes to the replicas.
pub const TO_REPLICAS: u8 = 2;
/// Both, the default.
pub const TO_ALL: u8 = TO_AOF | TO_REPLICAS;

/// Where this thread's next writes are logged (Redis's redis.set_repl:
/// REPL_NONE 0, REPL_AOF 1, REPL_REPLICA 2, REPL_ALL 3). A script sets it
/// back to [`TO_ALL`] when it ends.
pub fn set_targets(targets: u8) {
    TARGETS.with(|t| t.set(targets & TO_ALL));
}

impl Ctx<'_> {
    /// Logs `commands` to the AOF instead of the running command's own
    /// arguments (an empty list logs nothing). For commands whose result is
    /// random or depends on timing: SPOP logs the SREM of the members it
    /// popped, a blocked pop the pop it became. Each command is its full
    /// argument list, name first; it runs in the client's selected database.
    pub fn propagate_override(&mut self, commands: Vec<Vec<Vec<u8>>>) {
        OVERRIDE.with(|o| *o.borrow_mut() = Some(commands));
    }
}

/// Starts collecting this thread's writes instead of appending them, so
/// EXEC can log its transaction as one MULTI ... EXEC block.
pub fn begin_batch() {
    BATCH.with(|b| *b.borrow_mut() = Some(Vec::new()));
}

/// Ends a batch without logging it (a debugging session on a copy of the
/// data: see scripting/ldb.rs).
pub fn drop_batch() {
    BATCH.with(|b| *b.borrow_mut() = None);
}

/// Appends the collected writes wrapped in MULTI/EXEC, as Redis 7.0 does:
/// nothing when the transaction wrote nothing, and a single write alone,
/// unwrapped. Each of the AOF and the replicas gets the commands meant for
/// it (see [`set_targets`]). MULTI goes in the first write's database and
/// EXEC in the last one's, so no SELECT comes between the last write and
/// EXEC. Call with the store write lock still held.
pub fn end_batch(server: &Server) {
    let Some(batch) = BATCH.with(|b| b.borrow_mut().take()) else {
        return;
    };
    let batch: Vec<(Logged, u8)> = batch.into_iter().filter(|(_, t)| *t != 0).collect();
    let wrap = batch.len() > 1;
    let wrapped = |target: u8| -> Vec<Logged> {
        let cmds: Vec<Logged> = batch
            .iter()
            .filter(|(_, t)| t & target != 0)
            .map(|(cmd, _)| cmd.clone())
            .collect();
        let (Some(first), Some(last)) = (cmds.first(), cmds.last()) else {
            return cmds;
        };
        if !wrap {
            return cmds;
        }
        let (first_db, last_db) = (first.0, last.0);
        let mut all = Vec::with_capacity(cmds.len() + 2);
        all.push((first_db, vec![b"MULTI".to_vec()]));
        all.extend(cmds);
        all.push((last_db, vec![b"EXEC".to_vec()]));
        all
    };
    if server.aof.feeding.load(Ordering::Relaxed) {
        let logged = wrapped(TO_AOF);
        if !logged.is_empty() {
            server.aof.append(&logged);
        }
    }
    crate::replication::feed(server, &wrapped(TO_REPLICAS));
}

/// Sends a command to the replicas only, never to the AOF (Redis's
/// PROPAGATE_REPL): PUBLISH and SPUBLISH, so that a replica's own
/// subscribers get the master's messages. Inside EXEC or a script it
/// takes its place in the transaction's block.
pub fn propagate_to_replicas(ctx: &Ctx, args: &[&[u8]]) {
    if !crate::replication::feeding(ctx.server) {
        return;
    }
    let cmd: Logged = (ctx.client.db, args.iter().map(|a| a.to_vec()).collect());
    let batched = BATCH.with(|b| match b.borrow_mut().as_mut() {
        Some(batch) => {
            batch.push((cmd.clone(), TO_REPLICAS));
            true
        }
        None => false,
    });
    if !batched {
        crate::replication::feed(ctx.server, &[cmd]);
    }
}

/// Appends one command in RESP (`*<n>\r\n$<len>\r\n<arg>\r\n...`).
pub fn encode_command<A: AsRef<[u8]>>(out: &mut Vec<u8>, args: &[A]) {
    out.push(b'*');
    out.extend_from_slice(args.len().to_string().as_bytes());
    out.extend_from_slice(b"\r\n");
    for a in args {
        let a = a.as_ref();
        out.push(b'$');
        out.extend_from_slice(a.len().to_string().as_bytes());
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// The dispatcher's hook, called with the write lock held right after a
/// write handler returned: logs the keys lazy expiry deleted (as DEL), then
/// what the command did (see [`rules`]).
pub fn propagate(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
    result: &CmdResult,
    changed: bool,
    expired: &[(usize, Vec<u8>)],
) {
    let override_cmds = OVERRIDE.with(|o| o.borrow_mut().take());
    let aof = &ctx.server.aof;
    let aof_feeding = aof.feeding.load(Ordering::Relaxed);
    let repl_feeding = crate::replication::feeding(ctx.server);
    if !aof_feeding && !repl_feeding {
        return;
    }
    // Keys lazy expiry deleted always go everywhere; the command's effect
    // goes where redis.set_repl says (everywhere outside scripts).
    let mut out: Vec<Logged> = Vec::new();
    collect_expired(expired, &mut out);
    let expired_count = out.len();
    if result.is_ok() {
        let db = ctx.client.db;
        match override_cmds {
            Some(cmds) => out.extend(cmds.into_iter().map(|c| (db, c))),
            None if changed || rules::always_logged(args) => {
                for c in rules::effect(store.db(db), args, ctx.now_ms) {
                    out.push((db, c));
                }
            }
            None => {}
        }
    }
    if out.is_empty() {
        return;
    }
    let targets = TARGETS.with(|t| t.get());
    let batched = BATCH.with(|b| match b.borrow_mut().as_mut() {
        Some(batch) => {
            for (i, cmd) in out.drain(..).enumerate() {
                batch.push((cmd, if i < expired_count { TO_ALL } else { targets }));
            }
            true
        }
        None => false,
    });
    if !batched {
        // (Only a script changes the targets, and a script batches; the
        // expired keys' DELs go everywhere regardless.)
        let part = |target: u8| {
            if targets & target != 0 {
                &out[..]
            } else {
                &out[..expired_count]
            }
        };
        if aof_feeding && !part(TO_AOF).is_empty() {
            aof.append(part(TO_AOF));
        }
        if repl_feeding {
            crate::replication::feed(ctx.server, part(TO_REPLICAS));
        }
    }
}

/// Turns keys deleted by expiry (db, key) into DEL commands.
fn collect_expired(expired: &[(usize, Vec<u8>)], out: &mut Vec<Logged>) {
    for (db, key) in expired {
        out.push((*db, vec![b"DEL".to_vec(), key.clone()]));
    }
}

/// Logs keys deleted outside a write command (as DEL): by the active
/// expiry cycle, a read command's lazy expiry, eviction. Called with the
/// write lock held, so the log's order is the execution order.
pub fn feed_expired(server: &Server, expired: &[(usize, Vec<u8>)]) {
    let aof_feeding = server.aof.feeding.load(Ordering::Relaxed);
    if !aof_feeding && !crate::replication::feeding(server) {
        return;
    }
    let mut out = Vec::new();
    collect_expired(expired, &mut out);
    if !out.is_empty() {
        if aof_feeding {
            server.aof.append(&out);
        }
        crate::replication::feed(server, &out);
    }
}

/// The dispatcher's hook after the store lock is released: waits until this
/// thread's last logged command is written (and, with appendfsync always,
/// fsynced), then checks whether an automatic rewrite is due.
pub fn wait_written(server: &Arc<Server>) {
    let Some((target, wait)) = WAIT_TARGET.with(|t| t.borrow_mut().take()) else {
        return;
    };
    if wait {
        server.aof.flush_to(target, true);
    }
    rewrite::maybe_auto_rewrite(server);
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Aof {
    /// AOF state with nothing open.
    pub fn new() -> Self {
        Aof {
            feeding: AtomicBool::new(false),
            pending: Mutex::new(Pending {
                buf: Vec::new(),
                appended: 0,
                file: None,
                last_db: None,
                last_ts_s: None,
                manifest: Manifest::default(),
                manifest_loaded: false,
                dir: PathBuf::from("appendonlydir"),
                filename: "appendonly.aof".into(),
            }),
            io: Mutex::new(Io::default()),
            io_done: Condvar::new(),
            policy: AtomicU8::new(1),
            rewrite_in_progress: AtomicBool::new(false),
            rewrite_abort: AtomicBool::new(false),
            state: AtomicU8::new(0),
            rewrite_child: Mutex::new(None),
            consecutive_failures: AtomicU64::new(0),
            limit: Mutex::new((0, 0)),
            flush_sleep_us: AtomicU64::new(0),
            cron_started: AtomicBool::new(false),
            rewrite_scheduled: AtomicBool::new(false),
            last_rewrite_ok: AtomicBool::new(true),
            last_write_ok: AtomicBool::new(true),
            rewrites: AtomicU64::new(0),
            last_rewrite_time_s: AtomicI64::new(-1),
            rewrite_started: Mutex::new(None),
            current_size: AtomicU64::new(0),
            base_size: AtomicU64::new(0),
            rewrite_base_size: AtomicU64::new(0),
            fsync_thread_started: AtomicBool::new(false),
            last_fsync_s: AtomicI64::new(0),
            timestamps: AtomicBool::new(false),
            auto_perc: AtomicU64::new(100),
            auto_min_bytes: AtomicU64::new(64 * 1024 * 1024),
        }
    }

    /// appendonly as the server lives it.
    pub fn state(&self) -> AofState {
        match self.state.load(Ordering::Relaxed) {
            1 => AofState::On,
            2 => AofState::WaitRewrite,
            _ => AofState::Off,
        }
    }

    pub(crate) fn set_state(&self, s: AofState) {
        let v = match s {
            AofState::Off => 0,
            AofState::On => 1,
            AofState::WaitRewrite => 2,
        };
        self.state.store(v, Ordering::Relaxed);
    }

    /// The appendfsync policy in force.
    pub fn policy(&self) -> FsyncPolicy {
        match self.policy.load(Ordering::Relaxed) {
            0 => FsyncPolicy::Always,
            2 => FsyncPolicy::No,
            _ => FsyncPolicy::EverySec,
        }
    }

    fn set_policy(&self, p: FsyncPolicy) {
        let v = match p {
            FsyncPolicy::Always => 0,
            FsyncPolicy::EverySec => 1,
            FsyncPolicy::No => 2,
        };
        self.policy.store(v, Ordering::Relaxed);
    }

    /// (auto-aof-rewrite-percentage, auto-aof-rewrite-min-size).
    pub fn auto_rewrite_limits(&self) -> (u64, u64) {
        (
            self.auto_perc.load(Ordering::Relaxed),
            self.auto_min_bytes.load(Ordering::Relaxed),
        )
    }

    /// Copies the AOF settings from the configuration into atomics.
    pub fn read_config(&self, config: &crate::config::Config) {
        self.set_policy(FsyncPolicy::from_config(
            config.get("appendfsync").unwrap_or("everysec"),
        ));
        self.timestamps
            .store(config.get_bool("aof-timestamp-enabled"), Ordering::Relaxed);
        self.auto_perc.store(
            config.get_i64("auto-aof-rewrite-percentage").max(0) as u64,
            Ordering::Relaxed,
        );
        self.auto_min_bytes.store(
            config.get_i64("auto-aof-rewrite-min-size").max(0) as u64,
            Ordering::Relaxed,
        );
    }

    /// True while commands are being appended.
    pub fn is_feeding(&self) -> bool {
        self.feeding.load(Ordering::Relaxed)
    }

    /// Appends commands (with SELECT where the database changes) to the
    /// pending buffer and records the end offset for this thread to wait
    /// on. Called with the store write lock held, which orders the file.
    pub(crate) fn append(&self, cmds: &[Logged]) {
        let mut p = lock(&self.pending);
        if p.file.is_none() {
            return;
        }
        let before = p.buf.len();
        if self.timestamps.load(Ordering::Relaxed) {
            // Redis's annotation: once per second, and at a new file's start.
            let now_s = crate::util::now_ms() / 1000;
            if p.last_ts_s != Some(now_s) {
                p.buf
                    .extend_from_slice(format!("#TS:{now_s}\r\n").as_bytes());
                p.last_ts_s = Some(now_s);
            }
        }
        for (db, args) in cmds {
            if p.last_db != Some(*db) {
                let db_text = db.to_string();
                encode_command(&mut p.buf, &[b"SELECT".as_slice(), db_text.as_bytes()]);
                p.last_db = Some(*db);
            }
            encode_command(&mut p.buf, args);
        }
        let added = (p.buf.len() - before) as u64;
        p.appended += added;
        self.current_size.fetch_add(added, Ordering::Relaxed);
        let target = p.appended;
        let always = self.policy() == FsyncPolicy::Always;
        if !always {
            // everysec / no: write(2) now, under the lock that orders the
            // file. It is a page-cache copy of a few hundred bytes; only the
            // fsync (never done under a lock) is left for later.
            let data = std::mem::take(&mut p.buf);
            self.write_out(&p, &data);
        }
        WAIT_TARGET.with(|t| *t.borrow_mut() = Some((target, always)));
    }

    /// Writes `data` to the current file; called with `pending` locked so
    /// writes land in append order. Records failures for INFO.
    fn write_out(&self, p: &Pending, data: &[u8]) -> bool {
        let (Some(file), false) = (&p.file, data.is_empty()) else {
            return true;
        };
        let ok = match (&**file).write_all(data) {
            Ok(()) => true,
            Err(e) => {
                log::warn!("Error writing to the AOF file: {e}");
                false
            }
        };
        self.last_write_ok.store(ok, Ordering::Relaxed);
        ok
    }

    /// Makes sure everything appended up to `target` is written (and
    /// fsynced when `fsync`), leading or following a group commit.
    pub(crate) fn flush_to(&self, target: u64, fsync: bool) {
        let mut io = lock(&self.io);
        loop {
            let done = io.written >= target && (!fsync || io.synced >= target);
            if done {
                return;
            }
            if io.busy {
                io = self.io_done.wait(io).unwrap_or_else(|p| p.into_inner());
                continue;
            }
            io.busy = true;
            drop(io);
            let sleep_us = self.flush_sleep_us.load(Ordering::Relaxed);
            if sleep_us > 0 {
                // DEBUG AOF-FLUSH-SLEEP: a test knob that widens the window
                // between a write and its reply.
                std::thread::sleep(Duration::from_micros(sleep_us));
            }
            // Write under the pending lock (file order), fsync outside it.
            let (end, file, mut ok) = {
                let mut p = lock(&self.pending);
                let data = std::mem::take(&mut p.buf);
                let ok = self.write_out(&p, &data);
                (p.appended, p.file.clone(), ok)
            };
            if let (Some(file), true, true) = (&file, ok, fsync) {
                if let Err(e) = file.sync_data() {
                    log::warn!("Error syncing the AOF file: {e}");
                    ok = false;
                    self.last_write_ok.store(false, Ordering::Relaxed);
                }
            }
            io = lock(&self.io);
            io.written = io.written.max(end);
            if fsync {
                io.synced = io.synced.max(end);
            }
            io.busy = false;
            self.io_done.notify_all();
            if !ok {
                // The data is lost from the buffer; do not spin on it.
                return;
            }
        }
    }

    /// Writes and fsyncs everything appended so far.
    pub(crate) fn flush_all(&self) {
        let target = lock(&self.pending).appended;
        self.flush_to(target, true);
    }

    /// INFO persistence's aof_* lines.
    pub fn info_fields(&self, enabled: bool) -> String {
        // A rewrite shows as running once its child runs (as a fork child
        // would), not from the moment a thread claimed it.
        let started = *lock(&self.rewrite_started);
        let running = started.map_or(-1, |s| s.elapsed().as_secs() as i64);
        let pending = lock(&self.pending).buf.len();
        let mut s = format!(
            "aof_enabled:{}\r\naof_rewrite_in_progress:{}\r\naof_rewrite_scheduled:{}\r\naof_last_rewrite_time_sec:{}\r\naof_current_rewrite_time_sec:{}\r\naof_last_bgrewrite_status:{}\r\naof_rewrites:{}\r\naof_rewrites_consecutive_failures:{}\r\naof_last_write_status:{}\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
            enabled as u8,
            started.is_some() as u8,
            self.rewrite_scheduled.load(Ordering::Relaxed) as u8,
            self.last_rewrite_time_s.load(Ordering::Relaxed),
            running,
            if self.last_rewrite_ok.load(Ordering::Relaxed) { "ok" } else { "err" },
            self.rewrites.load(Ordering::Relaxed),
            self.consecutive_failures.load(Ordering::Relaxed),
            if self.last_write_ok.load(Ordering::Relaxed) { "ok" } else { "err" },
        );
        if enabled {
            s.push_str(&format!(
                "aof_current_size:{}\r\naof_base_size:{}\r\naof_pending_rewrite:0\r\naof_buffer_length:{}\r\naof_pending_bio_fsync:0\r\naof_delayed_fsync:0\r\n",
                self.current_size.load(Ordering::Relaxed),
                self.base_size.load(Ordering::Relaxed),
                pending,
            ));
        }
        s
    }
}

/// True on the thread running EXEC (it holds the store write lock for the
/// whole transaction): a rewrite cannot start there and is scheduled, as
/// Redis does while `server.in_exec`.
pub fn in_exec() -> bool {
    BATCH.with(|b| b.borrow().is_some())
}

/// Opens the AOF at start-up after [`loader::load`] (appendonly yes):
/// continues the last incremental file, upgrades a legacy single file, or
/// creates a base file from the loaded data, then starts `aof-fsync`.
pub fn open_on_start(server: &Arc<Server>, loaded: &loader::Loaded) -> std::io::Result<()> {
    server.aof.read_config(&server.config());
    rewrite::open_on_start(server, loaded)?;
    start_fsync_thread(server);
    Ok(())
}

/// Starts the `aof-fsync` thread once: with appendfsync everysec it fsyncs
/// what was written, once a second.
pub fn start_fsync_thread(server: &Arc<Server>) {
    if server
        .aof
        .fsync_thread_started
        .swap(true, Ordering::Relaxed)
    {
        return;
    }
    let server = Arc::clone(server);
    let spawned = std::thread::Builder::new()
        .name("aof-fsync".into())
        .spawn(move || {
            while !server.shutdown.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(EVERYSEC_PERIOD_MS));
                let aof = &server.aof;
                if aof.is_feeding() && aof.policy() == FsyncPolicy::EverySec {
                    aof.flush_all();
                    aof.last_fsync_s
                        .store(crate::util::now_ms() / 1000, Ordering::Relaxed);
                }
            }
        });
    if let Err(e) = spawned {
        log::warn!("could not start the aof-fsync thread: {e}");
    }
}

/// `DEBUG AOF-FLUSH-SLEEP <microseconds>`: sleep that long before each
/// write of the AOF buffer (0 turns it off); a test aid.
pub fn set_flush_sleep(server: &Server, us: u64) {
    server.aof.flush_sleep_us.store(us, Ordering::Relaxed);
}
