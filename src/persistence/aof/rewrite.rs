//! BGREWRITEAOF: a new base file from the current data, while clients keep
//! writing, without losing a write across the switch.
//!
//! ```text
//! 1. in the caller's thread, store write lock held (no write can run):
//!      write + fsync what is pending to the old incremental file
//!      AOF on:  open appendonly.aof.<n+1>.incr.aof; writes go there from
//!               now on; persist a manifest naming old files + new incr
//!      AOF waiting for its first rewrite (CONFIG SET appendonly yes):
//!               open temp-appendonly.aof.incr instead, manifest untouched
//!      AOF off: no incremental file, only a base will be written
//!      snapshot = clone of the store; start the child process
//!    release the lock; clients go on, their writes land in the new incr
//! 2. thread aof-rewrite: write the snapshot to temp-rewriteaof-bg-<child
//!    pid>.aof, fsync (stops early when the child is killed)
//! 3. store lock again: rename it to appendonly.aof.<m+1>.base.rdb (.aof
//!    with aof-use-rdb-preamble no); the temp incr becomes the next incr;
//!    the old base and the incrs the new base covers become history;
//!    atomically replace the manifest
//! 4. delete the history files (unless aof-disable-auto-gc yes)
//! ```
//!
//! A crash before step 3 restarts from the old files plus the new incr,
//! after it from the new base plus the new incr; both hold every write.
//! The snapshot is an in-memory copy, where Redis forks: it costs memory,
//! and the lock is held only for the copy.
//!
//! # Failures, scheduling, the child
//!
//! A failed rewrite (error, or its child killed) deletes its temp base and
//! leaves the new incremental file in the manifest, so repeated failures
//! pile up incrs as in Redis; after 3 failures in a row automatic rewrites
//! back off 1, 2, 4 ... 60 minutes. While the AOF waits for its first
//! rewrite, a failure drops the temp incr and schedules another try.
//! BGREWRITEAOF while a BGSAVE runs (or inside EXEC, which holds the store
//! lock) answers "scheduled"; the `aof-cron` thread starts it once no
//! background job runs. The child process is the stand-in described in
//! `persistence::child`: it makes the job visible and killable.
//!
//! The base is written in RDB format (aux `aof-base` 1) by
//! `persistence::rdb::RdbWriter`, or as commands (SET, RPUSH, SADD, HMSET,
//! ZADD, PEXPIREAT, 64 items per command as Redis does).
//!
//! Redis mirrors: `rewriteAppendOnlyFileBackground`,
//! `backgroundRewriteDoneHandler`, `rewriteAppendOnlyFileRio`,
//! `openNewIncrAofForAppend`, `aofRewriteLimited`, `aofDelHistoryFiles`
//! in `src/aof.c`.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::base::write_base;
use super::loader::{Layout, Loaded};
use super::manifest::{sync_dir, AofFile};
use super::{lock, AofState, Pending};
use crate::persistence::standin_child::ForkChild;
use crate::server::Server;
use crate::store::Store;
use crate::util::now_ms;

/// The error BGREWRITEAOF answers while a rewrite runs.
pub const IN_PROGRESS: &str = "Background append only file rewriting already in progress";

fn incr_name(filename: &str, seq: u64) -> String {
    format!("{filename}.{seq}.incr.aof")
}

fn base_name(filename: &str, seq: u64, rdb: bool) -> String {
    format!("{filename}.{seq}.base.{}", if rdb { "rdb" } else { "aof" })
}

/// The incremental file used while the AOF waits for its first rewrite
/// (Redis's `getTempIncrAofName`).
fn temp_incr_name(filename: &str) -> String {
    format!("temp-{filename}.incr")
}

fn manifest_name(p: &Pending) -> String {
    format!("{}.manifest", p.filename)
}

fn open_append(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

/// Opens `path` empty for appending (a new incremental file).
fn open_new(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|f| f.set_len(0).map(|_| f))
}

/// Opens a new incremental file and makes it the one written to (the
/// caller persists the manifest).
fn switch_incr(p: &mut Pending) -> std::io::Result<AofFile> {
    let filename = p.filename.clone();
    let mut m = p.manifest.clone();
    let f = m.new_incr(|seq| incr_name(&filename, seq));
    let file = open_new(&p.dir.join(&f.name))?;
    sync_dir(&p.dir);
    p.manifest = m;
    p.file = Some(Arc::new(file));
    p.last_db = None;
    p.last_ts_s = None;
    Ok(f)
}

fn use_rdb_preamble(server: &Server) -> bool {
    server.config().get("aof-use-rdb-preamble") != Some("no")
}

/// Deletes the history files and drops them from the manifest (Redis's
/// `aofDelHistoryFiles`; the caller checks aof-disable-auto-gc).
pub(crate) fn delete_history(p: &mut Pending) {
    if p.manifest.history.is_empty() {
        return;
    }
    let history = std::mem::take(&mut p.manifest.history);
    for f in &history {
        log::info!("Removing the history file {} in the background", f.name);
        let _ = std::fs::remove_file(p.dir.join(&f.name));
    }
    if let Err(e) = p.manifest.save(&p.dir, &manifest_name(p)) {
        log::warn!("Error persisting the AOF manifest after deleting history files: {e}");
    }
}

/// Opens the AOF at start-up (see `aof::open_on_start`).
pub fn open_on_start(server: &Arc<Server>, loaded: &Loaded) -> std::io::Result<()> {
    let layout = Layout::from_server(server);
    std::fs::create_dir_all(&layout.dir)?;
    let rdb = use_rdb_preamble(server);
    let auto_gc = !server.config().get_bool("aof-disable-auto-gc");
    let store = server.store.write().unwrap_or_else(|p| p.into_inner());
    let aof = &server.aof;
    let mut p = lock(&aof.pending);
    p.dir = layout.dir.clone();
    p.filename = layout.filename.clone();
    p.manifest = loaded.manifest.clone().unwrap_or_default();
    p.manifest_loaded = true;
    if loaded.legacy {
        // Upgrade: the old single file becomes the base inside the directory.
        std::fs::rename(&layout.filename, layout.dir.join(&layout.filename))?;
        p.manifest = Default::default();
        p.manifest.base = Some(AofFile {
            name: layout.filename.clone(),
            seq: 1,
        });
        p.manifest.curr_base_seq = 1;
        let incr = switch_incr(&mut p)?;
        p.manifest.save(&p.dir, &manifest_name(&p))?;
        log::info!("Successfully migrated an old-style AOF into the AOF directory");
        log::info!("Creating AOF incr file {} on server start", incr.name);
        aof.base_size.store(loaded.base_size, Ordering::Relaxed);
    } else if p.manifest.base.is_some() || !p.manifest.incrs.is_empty() {
        match p.manifest.incrs.last().cloned() {
            Some(last) => {
                let file = open_append(&p.dir.join(&last.name))?;
                p.file = Some(Arc::new(file));
                p.last_db = None;
            }
            None => {
                let incr = switch_incr(&mut p)?;
                p.manifest.save(&p.dir, &manifest_name(&p))?;
                log::info!("Creating AOF incr file {} on server start", incr.name);
            }
        }
        aof.base_size.store(loaded.base_size, Ordering::Relaxed);
    } else {
        let filename = layout.filename.clone();
        let base = p.manifest.new_base(|seq| base_name(&filename, seq, rdb));
        let size = write_base(
            &store,
            &layout.dir.join(&base.name),
            rdb,
            server.config().get_bool("aof-timestamp-enabled"),
            &|| true,
        )?;
        log::info!("Creating AOF base file {} on server start", base.name);
        let incr = switch_incr(&mut p)?;
        p.manifest.save(&p.dir, &manifest_name(&p))?;
        log::info!("Creating AOF incr file {} on server start", incr.name);
        aof.base_size.store(size, Ordering::Relaxed);
    }
    if auto_gc {
        delete_history(&mut p);
    }
    let total = loaded.total_size.max(aof.base_size.load(Ordering::Relaxed));
    aof.current_size.store(total, Ordering::Relaxed);
    aof.rewrite_base_size.store(total, Ordering::Relaxed);
    drop(p);
    aof.set_state(AofState::On);
    aof.feeding.store(true, Ordering::Relaxed);
    Ok(())
}

/// The error BGREWRITEAOF answers when a rewrite cannot start.
pub const CANT_START: &str =
    "Can't execute an AOF background rewriting. Please check the server logs for more information.";

/// How BGREWRITEAOF was answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Started {
    /// The rewrite runs now.
    Now,
    /// Another background job (BGSAVE) runs, or we are inside EXEC: the
    /// rewrite starts as soon as possible.
    Scheduled,
}

/// BGREWRITEAOF (Redis's `bgrewriteaofCommand`): start a rewrite now, or
/// schedule it while a BGSAVE runs or inside a transaction.
pub fn request(server: &Arc<Server>) -> Result<Started, &'static str> {
    let aof = &server.aof;
    if aof.rewrite_in_progress.load(Ordering::Acquire) {
        return Err(IN_PROGRESS);
    }
    if server.rdb.bgsave_in_progress.load(Ordering::Relaxed) || super::in_exec() {
        // Asked by hand: the failure limit does not hold it back.
        aof.consecutive_failures.store(0, Ordering::Relaxed);
        schedule(server);
        return Ok(Started::Scheduled);
    }
    start(server).map(|_| Started::Now)
}

/// Marks a rewrite as scheduled and makes sure the `aof-cron` thread runs
/// to start it once no other background job does.
pub fn schedule(server: &Arc<Server>) {
    server.aof.rewrite_scheduled.store(true, Ordering::Relaxed);
    start_cron(server);
}

/// How often `aof-cron` looks for a scheduled rewrite (serverCron's 100 ms).
const CRON_PERIOD_MS: u64 = 100;

/// Starts the `aof-cron` thread once: it starts scheduled rewrites when no
/// BGSAVE and no rewrite runs (Redis does this in `serverCron`).
fn start_cron(server: &Arc<Server>) {
    if server.aof.cron_started.swap(true, Ordering::Relaxed) {
        return;
    }
    let server = Arc::clone(server);
    let spawned = std::thread::Builder::new()
        .name("aof-cron".into())
        .spawn(move || {
            while !server.shutdown.load(Ordering::Relaxed) {
                std::thread::sleep(std::time::Duration::from_millis(CRON_PERIOD_MS));
                let aof = &server.aof;
                if aof.rewrite_scheduled.load(Ordering::Relaxed)
                    && !aof.rewrite_in_progress.load(Ordering::Acquire)
                    && !server.rdb.bgsave_in_progress.load(Ordering::Relaxed)
                    && !rewrite_limited(aof)
                {
                    let _ = start(&server);
                }
            }
        });
    if let Err(e) = spawned {
        log::warn!("could not start the aof-cron thread: {e}");
    }
}

/// Failures in a row after which automatic rewrites are held back
/// (AOF_REWRITE_LIMITE_THRESHOLD).
const LIMIT_THRESHOLD: u64 = 3;
/// Longest hold-back, minutes (AOF_REWRITE_LIMITE_MAX_MINUTES).
const LIMIT_MAX_MINUTES: i64 = 60;

/// After repeated failures, automatic and scheduled rewrites wait 1, 2, 4
/// ... up to 60 minutes between tries (Redis's `aofRewriteLimited`).
fn rewrite_limited(aof: &super::Aof) -> bool {
    let mut limit = lock(&aof.limit);
    if aof.consecutive_failures.load(Ordering::Relaxed) < LIMIT_THRESHOLD {
        *limit = (0, 0);
        return false;
    }
    let now_s = now_ms() / 1000;
    if limit.1 != 0 {
        if now_s < limit.1 {
            return true;
        }
        limit.1 = 0;
        return false;
    }
    limit.0 = if limit.0 == 0 {
        1
    } else {
        (limit.0 * 2).min(LIMIT_MAX_MINUTES)
    };
    limit.1 = now_s + limit.0 * 60;
    log::warn!(
        "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in {} minutes",
        limit.0
    );
    true
}

/// Stops the running rewrite on purpose (appendonly no, or a rewrite that
/// must be replaced): kills its child; the rewrite thread then cleans up
/// without counting a failure.
pub fn kill_running(aof: &super::Aof) {
    if !aof.rewrite_in_progress.load(Ordering::Acquire) {
        return;
    }
    aof.rewrite_abort.store(true, Ordering::Relaxed);
    let child = lock(&aof.rewrite_child).clone();
    match child {
        Some(child) => {
            log::info!("Killing running AOF rewrite child: {}", child.pid());
            child.kill();
        }
        None => log::info!("Killing running AOF rewrite child: aof-rewrite thread"),
    }
}

/// Starts a background rewrite (Redis's `rewriteAppendOnlyFileBackground`).
/// In the calling thread: switch to a new incremental file (the temporary
/// one while the AOF waits for its first rewrite; none with appendonly
/// no), copy the store and start the child, so the caller's reply already
/// sees the new files and the child. The base is written by the
/// `aof-rewrite` thread. Fails when a rewrite runs already.
pub fn start(server: &Arc<Server>) -> Result<(), &'static str> {
    let aof = &server.aof;
    if aof
        .rewrite_in_progress
        .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        return Err(IN_PROGRESS);
    }
    match begin(server) {
        Ok(()) => Ok(()),
        Err(e) => {
            log::warn!("Can't rewrite append only file in background: {e}");
            aof.last_rewrite_ok.store(false, Ordering::Relaxed);
            aof.rewrite_in_progress.store(false, Ordering::SeqCst);
            Err(CANT_START)
        }
    }
}

/// What the base writer needs, fixed when the rewrite starts (a forked
/// child would see the configuration of that moment too).
struct Job {
    rdb: bool,
    timestamp: bool,
    key_delay_us: u64,
}

fn begin(server: &Arc<Server>) -> std::io::Result<()> {
    let aof = &server.aof;
    let layout = Layout::from_server(server);
    let job = {
        let c = server.config();
        Job {
            rdb: c.get("aof-use-rdb-preamble") != Some("no"),
            timestamp: c.get_bool("aof-timestamp-enabled"),
            key_delay_us: c.get_i64("rdb-key-save-delay").max(0) as u64,
        }
    };
    let snapshot = {
        let store = server.store.write().unwrap_or_else(|p| p.into_inner());
        aof.rewrite_abort.store(false, Ordering::Relaxed);
        // The current file must be complete before the manifest stops
        // pointing at it (one fsync per rewrite, under the lock).
        aof.flush_all();
        let mut p = lock(&aof.pending);
        if !p.manifest_loaded {
            p.manifest = layout.read_manifest().ok().flatten().unwrap_or_default();
            p.manifest_loaded = true;
        }
        p.dir = layout.dir;
        p.filename = layout.filename;
        std::fs::create_dir_all(&p.dir)?;
        match aof.state() {
            AofState::On => {
                let incr = switch_incr(&mut p)?;
                p.manifest.save(&p.dir, &manifest_name(&p))?;
                log::info!("Creating AOF incr file {} on background rewrite", incr.name);
            }
            AofState::WaitRewrite => {
                // Writes made while the base is written collect in a
                // temporary file; the manifest names it only on success.
                let name = temp_incr_name(&p.filename);
                let file = open_new(&p.dir.join(&name))?;
                p.file = Some(Arc::new(file));
                p.buf.clear();
                p.last_db = None;
                p.last_ts_s = None;
                aof.feeding.store(true, Ordering::Relaxed);
                aof.current_size.store(0, Ordering::Relaxed);
                log::info!("Creating AOF incr file {name} on background rewrite");
            }
            AofState::Off => {}
        }
        store.clone()
    };
    let child = ForkChild::spawn("AOF rewrite").map(Arc::new);
    *lock(&aof.rewrite_child) = child.clone();
    *lock(&aof.rewrite_started) = Some(Instant::now());
    aof.rewrite_scheduled.store(false, Ordering::Relaxed);
    aof.rewrites.fetch_add(1, Ordering::Relaxed);
    let pid = child.as_ref().map_or(std::process::id(), |c| c.pid());
    let s = Arc::clone(server);
    let spawned = std::thread::Builder::new()
        .name("aof-rewrite".into())
        .spawn(move || {
            let started = Instant::now();
            // Redis's child writes temp-rewriteaof-bg-<child pid>.aof in
            // the working directory.
            let temp = PathBuf::from(format!("temp-rewriteaof-bg-{pid}.aof"));
            let written = write_snapshot(&s, &snapshot, &temp, &job, child.as_deref());
            drop(snapshot);
            let signal = child.as_ref().and_then(|c| c.finish());
            done(&s, written, signal, &temp, job.rdb);
            let aof = &s.aof;
            aof.last_rewrite_time_s
                .store(started.elapsed().as_secs() as i64, Ordering::Relaxed);
            *lock(&aof.rewrite_started) = None;
            *lock(&aof.rewrite_child) = None;
            aof.rewrite_in_progress.store(false, Ordering::SeqCst);
        });
    if let Err(e) = spawned {
        *lock(&aof.rewrite_started) = None;
        if let Some(child) = lock(&aof.rewrite_child).take() {
            child.kill();
        }
        return Err(e);
    }
    log::info!("Background append only file rewriting started by pid {pid}");
    Ok(())
}

/// Step 2: the snapshot as a base file at `temp`; stops early when the
/// rewrite is aborted or its child was killed.
fn write_snapshot(
    server: &Server,
    snapshot: &Store,
    temp: &Path,
    job: &Job,
    child: Option<&ForkChild>,
) -> std::io::Result<u64> {
    let aof = &server.aof;
    let stopped = || {
        aof.rewrite_abort.load(Ordering::Relaxed)
            || child.is_some_and(|c| c.exit_signal().is_some())
    };
    let keep_going = || {
        // rdb-key-save-delay (a test knob) in short slices, so a kill is
        // seen at once.
        let started = Instant::now();
        loop {
            if stopped() {
                return false;
            }
            let left_us = (job.key_delay_us as u128).saturating_sub(started.elapsed().as_micros());
            if left_us == 0 {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_micros(left_us.min(10_000) as u64));
        }
    };
    let written = write_base(snapshot, temp, job.rdb, job.timestamp, &keep_going);
    if written.is_ok() && stopped() {
        return Err(std::io::Error::other("the rewrite was stopped"));
    }
    written
}

/// Steps 3 and 4, under the store lock so no write lands between the last
/// flush and the switch (Redis's `backgroundRewriteDoneHandler`).
fn done(
    server: &Arc<Server>,
    written: std::io::Result<u64>,
    signal: Option<i32>,
    temp: &Path,
    rdb: bool,
) {
    let _store = server.store.write().unwrap_or_else(|p| p.into_inner());
    let aof = &server.aof;
    let aborted = aof.rewrite_abort.load(Ordering::Relaxed);
    let result = match written {
        Ok(size) if !aborted && signal.is_none() => {
            log::info!("Background AOF rewrite terminated with success");
            // What accumulated in memory goes to the current file first.
            aof.flush_all();
            let mut p = lock(&aof.pending);
            match install(aof, &mut p, temp, size, rdb) {
                Ok(()) => {
                    log::info!("Background AOF rewrite finished successfully");
                    if !server.config().get_bool("aof-disable-auto-gc") {
                        delete_history(&mut p);
                    }
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            }
        }
        Ok(_) => Err(String::new()),
        Err(e) => Err(e.to_string()),
    };
    let Err(error) = result else {
        aof.consecutive_failures.store(0, Ordering::Relaxed);
        aof.last_rewrite_ok.store(true, Ordering::Relaxed);
        return;
    };
    let _ = std::fs::remove_file(temp);
    let mut p = lock(&aof.pending);
    let temp_incr = temp_incr_name(&p.filename);
    match aof.state() {
        AofState::WaitRewrite => {
            // Nothing of the temporary file is kept: the next try starts
            // from a new copy of the data.
            p.file = None;
            p.buf.clear();
            aof.feeding.store(false, Ordering::Relaxed);
            log::info!("Removing the temp incr aof file {temp_incr} in the background");
            let _ = std::fs::remove_file(p.dir.join(&temp_incr));
            // The AOF still waits for its first rewrite: try again.
            schedule(server);
        }
        AofState::Off => {
            let _ = std::fs::remove_file(p.dir.join(&temp_incr));
        }
        AofState::On => {}
    }
    drop(p);
    if aborted {
        return; // killed on purpose (Redis's SIGUSR1): not a failure
    }
    aof.consecutive_failures.fetch_add(1, Ordering::Relaxed);
    aof.last_rewrite_ok.store(false, Ordering::Relaxed);
    match signal {
        Some(sig) => log::warn!("Background AOF rewrite terminated by signal {sig}"),
        None => {
            if !error.is_empty() {
                log::warn!("Error writing the AOF base file: {error}");
            }
            log::warn!("Background AOF rewrite terminated with error");
        }
    }
}

/// Step 3 proper: the new base and, while the AOF waited for this rewrite,
/// the temporary incremental file take their names; the manifest is
/// replaced; the files the new base covers become history.
fn install(
    aof: &super::Aof,
    p: &mut Pending,
    temp: &Path,
    base_size: u64,
    rdb: bool,
) -> std::io::Result<()> {
    let filename = p.filename.clone();
    let mut m = p.manifest.clone();
    let base = m.new_base(|seq| base_name(&filename, seq, rdb));
    std::fs::rename(temp, p.dir.join(&base.name))?;
    let waited = aof.state() == AofState::WaitRewrite;
    if waited {
        let incr = m.new_incr(|seq| incr_name(&filename, seq));
        std::fs::rename(
            p.dir.join(temp_incr_name(&filename)),
            p.dir.join(&incr.name),
        )?;
    }
    m.mark_rewritten_incrs_as_history(p.file.is_some());
    m.save(&p.dir, &manifest_name(p))?;
    sync_dir(&p.dir);
    p.manifest = m;
    if waited {
        aof.set_state(AofState::On);
    }
    let incr_len = p
        .manifest
        .incrs
        .last()
        .filter(|_| p.file.is_some())
        .and_then(|c| std::fs::metadata(p.dir.join(&c.name)).ok())
        .map_or(0, |m| m.len());
    let total = base_size + incr_len;
    aof.base_size.store(base_size, Ordering::Relaxed);
    aof.current_size.store(total, Ordering::Relaxed);
    aof.rewrite_base_size.store(total, Ordering::Relaxed);
    Ok(())
}

/// Starts a rewrite when the AOF grew by auto-aof-rewrite-percentage over
/// its size after the last rewrite and is above auto-aof-rewrite-min-size.
pub fn maybe_auto_rewrite(server: &Arc<Server>) {
    let aof = &server.aof;
    if aof.state() != AofState::On
        || aof.rewrite_in_progress.load(Ordering::Relaxed)
        || server.rdb.bgsave_in_progress.load(Ordering::Relaxed)
    {
        return;
    }
    let current = aof.current_size.load(Ordering::Relaxed);
    let (perc, min) = aof.auto_rewrite_limits();
    if perc == 0 || current <= min {
        return;
    }
    let base = aof.rewrite_base_size.load(Ordering::Relaxed).max(1);
    let growth = (current.saturating_mul(100) / base).saturating_sub(100);
    if growth >= perc && !rewrite_limited(aof) {
        log::info!("Starting automatic rewriting of AOF on {growth}% growth");
        let _ = start(server);
    }
}
