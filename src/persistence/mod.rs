//! Persistence: Redis's RDB snapshots, connected to the store.
//!
//! The codec lives below and knows nothing of the store: [`rdb`] turns an
//! RDB file into a stream of plain decoded keys and back, using the blob
//! encodings in [`listpack`], [`ziplist`], [`intset`] and [`zipmap`], the
//! [`lzf`] string compression and the [`crc64`] checksum.
//!
//! This file is the orchestration on top of it:
//!
//! ```text
//! start-up   main.rs ─> load.rs: RdbReader ─> from_rdb_value ─> Store
//! SAVE       Snapshot::take (read lock) ─> snapshot::write_atomically ─> dump.rdb
//! BGSAVE     Snapshot::take (read lock) ─> thread "bgsave" ─> fork: the child
//!            writes temp-<child pid>.rdb, the thread renames it (child.rs)
//! save points  thread "save-points", once a second: dirty >= changes and
//!              seconds since the last save >= seconds ─> BGSAVE
//! SHUTDOWN / SIGTERM / SIGINT ─> prepare_for_shutdown: SAVE if configured, exit 0
//! ```
//!
//! [`SaveState`] (one per server, `server.rdb`) holds what INFO persistence
//! reports and what MISCONF and the save-point thread decide on. The dirty
//! counter (`server.dirty`, changes since the last save) is read when a
//! snapshot is taken and, only when that save succeeds, reduced by the
//! amount read then: changes made while a BGSAVE was writing stay counted.
//!
//! Values cross between the store and the codec in exactly one pair of
//! functions, [`to_rdb_value`] and [`from_rdb_value`], written against the
//! small public APIs of the value types.
//!
//! Redis mirrors: `rdbSave`, `rdbSaveBackground`, `rdbLoad`, the save-point
//! check in `serverCron`, `prepareForShutdown`.

pub mod aof;
pub mod child;
pub mod crc64;
pub mod intset;
pub mod listpack;
pub mod load;
pub mod lzf;
pub mod rdb;
pub mod snapshot;
pub mod standin_child;
pub mod ziplist;
pub mod zipmap;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::Config;
use crate::server::Server;
use crate::store::hash::{Hash, HashLimits};
use crate::store::list::List;
use crate::store::set::Set;
use crate::store::zset::ZSet;
use crate::store::{Store, Value};
use crate::util::now_ms;
pub use load::{
    load, load_observed, log_load, record_load, LoadError, LoadReport, Loading, LOADING_ERROR,
};
use rdb::{EncodingLimits, RdbValue, WriteOptions};
pub use snapshot::Snapshot;

/// How often the save-point thread looks at the counters.
const SAVE_POINT_CHECK_INTERVAL: Duration = Duration::from_millis(1000);
/// After a failed BGSAVE, save points wait this long before trying again
/// (Redis's CONFIG_BGSAVE_RETRY_DELAY).
const BGSAVE_RETRY_DELAY_S: i64 = 5;

/// The RDB side of the server state: what INFO persistence shows and what
/// the save paths coordinate through. Every field is atomic or locked, so
/// any thread may read it without the store lock.
#[derive(Debug, Default)]
pub struct SaveState {
    /// True while a `bgsave` thread is writing.
    pub bgsave_in_progress: AtomicBool,
    /// BGSAVE SCHEDULE was asked while one was running: start one after it.
    pub bgsave_scheduled: AtomicBool,
    /// False after a failed save, until one succeeds (rdb_last_bgsave_status).
    pub last_save_failed: AtomicBool,
    /// Duration of the last BGSAVE in seconds, -1 before the first one.
    pub last_bgsave_time_s: AtomicI64,
    /// Unix ms when the running BGSAVE started (0: none running).
    pub bgsave_started_ms: AtomicI64,
    /// Unix seconds of the last BGSAVE attempt, successful or not.
    pub last_bgsave_try_s: AtomicI64,
    /// Successful saves since start (rdb_saves).
    pub saves: AtomicU64,
    /// Keys in the save being written.
    pub save_keys_total: AtomicU64,
    /// Keys written so far by the running BGSAVE.
    pub save_keys_processed: AtomicU64,
    /// The running BGSAVE child's copy-on-write bytes (its private dirty
    /// memory), sampled once a second (INFO current_cow_size).
    pub cow_size: AtomicU64,
    /// The highest `cow_size` of the running child (current_cow_peak).
    pub cow_peak: AtomicU64,
    /// Unix ms of the last `cow_size` sample (current_cow_size_age).
    pub cow_sampled_ms: AtomicI64,
    /// The last finished child's copy-on-write bytes (rdb_last_cow_size).
    pub last_cow_size: AtomicU64,
    /// Set to make the running BGSAVE stop (FLUSHALL kills it, as in Redis).
    pub bgsave_abort: AtomicBool,
    /// Keys loaded and keys dropped as expired by the last load.
    pub last_load_keys_loaded: AtomicU64,
    /// See `last_load_keys_loaded`.
    pub last_load_keys_expired: AtomicU64,
    /// The pid of the running BGSAVE's child process (0: none).
    pub bgsave_child_pid: AtomicI32,
    /// The temporary file a running BGSAVE writes, removed on shutdown.
    pub bgsave_temp_file: Mutex<Option<PathBuf>>,
    /// Held by a foreground save (SAVE, SHUTDOWN, FLUSHALL, DEBUG RELOAD)
    /// while it writes, so two never share the temporary file, and by a
    /// BGSAVE around its last abort check and rename, so an aborted one
    /// never lands after FLUSHALL's save. Taken after the store lock, never
    /// before it.
    pub sync_save: Mutex<()>,
    /// A signal started a shutdown that has not finished (a second signal
    /// then exits at once).
    pub shutdown_in_progress: AtomicBool,
    /// A signal asked for a shutdown that has not begun yet (Redis's
    /// `shutdown_asap`): SHUTDOWN ABORT can still cancel it.
    pub shutdown_pending: AtomicBool,
    /// DEBUG PAUSE-CRON 1: periodic work, including starting a shutdown a
    /// signal asked for, waits until PAUSE-CRON 0.
    pub cron_paused: AtomicBool,
}

impl SaveState {
    /// Fresh state: no save yet, last status ok.
    pub fn new() -> Self {
        SaveState {
            last_bgsave_time_s: AtomicI64::new(-1),
            ..Default::default()
        }
    }
}

// ---------------------------------------------------------------------------
// Values: the one place where store types meet the codec's data model.

/// Copies a value into the codec's plain form.
pub fn to_rdb_value(value: &Value) -> RdbValue {
    match value {
        Value::Str(s) => RdbValue::String(s.to_vec()),
        Value::List(list) => RdbValue::List(list.iter().map(|item| item.to_vec()).collect()),
        Value::Set(set) => RdbValue::Set(set.iter().map(|m| m.to_vec()).collect()),
        Value::Hash(hash) => {
            RdbValue::Hash(hash.iter().map(|(f, v)| (f.to_vec(), v.to_vec())).collect())
        }
        Value::ZSet(zset) => RdbValue::ZSet(zset.iter().map(|(m, s)| (m.to_vec(), s)).collect()),
        Value::Stream(stream) => RdbValue::Stream(stream.clone()),
    }
}

/// Builds a store value from the codec's plain form, choosing compact or
/// plain encodings by the current limits, as Redis does on load.
pub fn from_rdb_value(value: RdbValue, limits: &EncodingLimits) -> Value {
    match value {
        RdbValue::String(bytes) => Value::string(bytes),
        RdbValue::List(items) => {
            let mut list = List::new();
            for item in items {
                list.push_back(item);
            }
            Value::List(list)
        }
        RdbValue::Set(members) => {
            let mut set = Set::new();
            for m in &members {
                set.insert_within(m, limits.set_max_intset_entries);
            }
            Value::Set(set)
        }
        RdbValue::Hash(pairs) => {
            let hash_limits = HashLimits {
                max_listpack_entries: limits.hash_max_listpack_entries as u32,
                max_listpack_value_bytes: limits.hash_max_listpack_value_bytes as u32,
            };
            let mut hash = Hash::new();
            for (f, v) in &pairs {
                hash.insert_within(f, v, hash_limits);
            }
            Value::Hash(hash)
        }
        RdbValue::ZSet(pairs) => {
            let mut zset = ZSet::new();
            for (m, score) in &pairs {
                zset.insert(m, *score);
            }
            zset.fit_encoding(
                limits.zset_max_listpack_entries,
                limits.zset_max_listpack_value_bytes,
            );
            Value::ZSet(Box::new(zset))
        }
        RdbValue::Stream(stream) => Value::Stream(stream),
    }
}

/// Writer settings from the configuration: rdbcompression, rdbchecksum and
/// the encoding thresholds that choose compact encodings.
pub fn write_options(config: &Config) -> WriteOptions {
    let limit = |name: &str| config.get_i64(name).max(0) as usize;
    WriteOptions {
        compression: config.get_bool("rdbcompression"),
        checksum: config.get_bool("rdbchecksum"),
        limits: EncodingLimits {
            hash_max_listpack_entries: limit("hash-max-listpack-entries"),
            hash_max_listpack_value_bytes: limit("hash-max-listpack-value"),
            zset_max_listpack_entries: limit("zset-max-listpack-entries"),
            zset_max_listpack_value_bytes: limit("zset-max-listpack-value"),
            set_max_intset_entries: limit("set-max-intset-entries"),
            list_max_listpack_size: config.get_i64("list-max-listpack-size"),
        },
    }
}

/// The RDB file's path: `dbfilename` in the working directory (start-up
/// changed into `dir`).
pub fn rdb_path(config: &Config) -> PathBuf {
    PathBuf::from(config.get("dbfilename").unwrap_or("dump.rdb"))
}

/// The configured save points as (seconds, changes) pairs.
pub fn save_points(config: &Config) -> Vec<(i64, u64)> {
    let words: Vec<&str> = config
        .get("save")
        .unwrap_or("")
        .split_whitespace()
        .collect();
    words
        .chunks(2)
        .filter_map(|pair| match pair {
            [s, c] => Some((s.parse().ok()?, c.parse().ok()?)),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Saving.

/// Why a save could not start or failed.
#[derive(Debug)]
pub enum SaveError {
    /// A BGSAVE is already running.
    InProgress,
    /// Writing the file failed.
    Io(std::io::Error),
}

impl fmt::Display for SaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SaveError::InProgress => f.write_str("Background save already in progress"),
            SaveError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Takes a snapshot of the store under the read lock: writers wait for the
/// copy (see `snapshot.rs` for the figures), readers do not.
pub fn take_snapshot(server: &Server) -> Snapshot {
    let lru = server
        .config()
        .get("maxmemory-policy")
        .is_some_and(|p| p.contains("lru"));
    let store = server.store.read().unwrap_or_else(|p| p.into_inner());
    // Read under the lock: every change counted so far is in the copy.
    let dirty = server.dirty.load(Ordering::Relaxed);
    let mut snapshot = Snapshot::take(&store, now_ms(), dirty, lru);
    snapshot.repl = crate::replication::rdb_position(server);
    snapshot
}

/// Records a finished save: on success resets the dirty counter by the
/// changes the snapshot held and stamps LASTSAVE; on failure marks the
/// status that INFO and MISCONF read.
fn record_save(
    server: &Server,
    snapshot_dirty: u64,
    result: &std::io::Result<u64>,
    background: bool,
) {
    let state = &server.rdb;
    match result {
        Ok(_) => {
            let _ = server
                .dirty
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |d| {
                    Some(d.saturating_sub(snapshot_dirty))
                });
            server.last_save_s.store(now_ms() / 1000, Ordering::Relaxed);
            state.last_save_failed.store(false, Ordering::Relaxed);
            state.saves.fetch_add(1, Ordering::Relaxed);
        }
        // As in Redis, only a failed BGSAVE turns the status to err.
        Err(_) if background => state.last_save_failed.store(true, Ordering::Relaxed),
        Err(_) => {}
    }
}

/// SAVE: snapshot and write in the calling thread. Refused while a BGSAVE
/// runs, as in Redis.
pub fn save(server: &Server) -> Result<(), SaveError> {
    if server.rdb.bgsave_in_progress.load(Ordering::Relaxed) {
        return Err(SaveError::InProgress);
    }
    save_now(server)
}

/// Snapshot and write in the calling thread, whether or not a BGSAVE runs
/// (SHUTDOWN: the two write different temporary files and the last rename
/// wins).
pub fn save_now(server: &Server) -> Result<(), SaveError> {
    save_snapshot(server, &take_snapshot(server))
}

/// Writes `snapshot` to the RDB file in the calling thread and records the
/// result (dirty counter, LASTSAVE, rdb_saves, the log).
pub fn save_snapshot(server: &Server, snapshot: &Snapshot) -> Result<(), SaveError> {
    let (path, options, key_delay_us) = {
        let config = server.config();
        (
            rdb_path(&config),
            write_options(&config),
            config.get_i64("rdb-key-save-delay").max(0) as u64,
        )
    };
    let control = snapshot::WriteControl {
        key_delay_us,
        ..Default::default()
    };
    let guard = server
        .rdb
        .sync_save
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let result = snapshot::write_atomically(snapshot, &path, options, control, None);
    drop(guard);
    record_save(server, snapshot.dirty, &result, false);
    match result {
        Ok(bytes) => {
            log::info!("DB saved on disk ({bytes} bytes)");
            Ok(())
        }
        Err(e) => {
            log::warn!("Failed saving the DB to '{}': {e}", path.display());
            Err(SaveError::Io(e))
        }
    }
}

/// FLUSHALL's persistence step (Redis's `flushAllDataAndResetRDB`): with
/// save points configured, saves the now empty `store` (called with the
/// write lock held) so an old dump.rdb cannot bring the data back. Returns
/// true when it saved, and the caller then counts one change.
pub fn save_after_flushall(server: &Server, store: &Store) -> bool {
    // The snapshot being written is of data that no longer exists.
    if server.rdb.bgsave_in_progress.load(Ordering::Relaxed) {
        server.rdb.bgsave_abort.store(true, Ordering::Relaxed);
        log::info!("Killing running BGSAVE: FLUSHALL");
    }
    if save_points(&server.config()).is_empty() {
        return false;
    }
    let dirty = server.dirty.load(Ordering::Relaxed);
    let mut snapshot = Snapshot::take(store, now_ms(), dirty, false);
    snapshot.repl = crate::replication::rdb_position(server);
    save_snapshot(server, &snapshot).is_ok()
}

/// BGSAVE: takes the snapshot now and starts the `bgsave` thread to write
/// it. Errs with [`SaveError::InProgress`] if one is already running.
pub fn bgsave(server: &Arc<Server>) -> Result<(), SaveError> {
    let state = &server.rdb;
    if state
        .bgsave_in_progress
        .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
        .is_err()
    {
        return Err(SaveError::InProgress);
    }
    child::set_save_running(true);
    let started_ms = now_ms();
    state.bgsave_started_ms.store(started_ms, Ordering::Relaxed);
    state
        .last_bgsave_try_s
        .store(started_ms / 1000, Ordering::Relaxed);
    let copy_started = Instant::now();
    let snapshot = take_snapshot(server);
    log::info!(
        "Snapshot of {} keys taken in {:.1} ms (writers waited for it)",
        snapshot.key_count(),
        copy_started.elapsed().as_secs_f64() * 1000.0
    );
    state
        .save_keys_total
        .store(snapshot.key_count(), Ordering::Relaxed);
    let (path, options, key_delay_us) = {
        let config = server.config();
        (
            rdb_path(&config),
            write_options(&config),
            config.get_i64("rdb-key-save-delay").max(0) as u64,
        )
    };
    state.save_keys_processed.store(0, Ordering::Relaxed);
    state.bgsave_abort.store(false, Ordering::Relaxed);
    let thread_server = Arc::clone(server);
    let spawned = std::thread::Builder::new()
        .name("bgsave".into())
        .spawn(move || {
            let server = thread_server;
            let state = &server.rdb;
            let result = child::write_in_child(&snapshot, &path, options, key_delay_us, state);
            let killed_by = result.as_ref().err().and_then(child::killed_by);
            if state.bgsave_abort.load(Ordering::Relaxed) {
                // Killed on purpose (FLUSHALL): not a failure, as in Redis.
                log::info!("Background saving terminated by request");
            } else if let Some(sig) = killed_by {
                log::warn!("Background saving terminated by signal {sig}");
                record_save(&server, snapshot.dirty, &result, true);
            } else {
                record_save(&server, snapshot.dirty, &result, true);
            }
            let elapsed_s = (now_ms() - started_ms + 500) / 1000;
            state.last_bgsave_time_s.store(elapsed_s, Ordering::Relaxed);
            match &result {
                Ok(bytes) => {
                    log::info!("Background saving terminated with success ({bytes} bytes)")
                }
                Err(e) => log::warn!(
                    "Background saving error: {e} (writing '{}')",
                    path.display()
                ),
            }
            drop(snapshot);
            state.bgsave_started_ms.store(0, Ordering::Relaxed);
            state.bgsave_in_progress.store(false, Ordering::Release);
            child::set_save_running(false);
        });
    match spawned {
        Ok(_) => {
            log::info!("Background saving started");
            Ok(())
        }
        Err(e) => {
            state.bgsave_in_progress.store(false, Ordering::Release);
            child::set_save_running(false);
            state.last_save_failed.store(true, Ordering::Relaxed);
            Err(SaveError::Io(e))
        }
    }
}

/// True when writes must be refused with MISCONF: save points exist,
/// stop-writes-on-bgsave-error is on, and the last save failed
/// (`writeCommandsDeniedByDiskError`).
pub fn writes_denied(server: &Server) -> bool {
    if !server.rdb.last_save_failed.load(Ordering::Relaxed) {
        return false;
    }
    let config = server.config();
    config.get_bool("stop-writes-on-bgsave-error") && !save_points(&config).is_empty()
}

/// One look at the save points (Redis's `serverCron` check): starts a
/// BGSAVE when one point is reached, or when one was scheduled.
pub fn check_save_points(server: &Arc<Server>) {
    let state = &server.rdb;
    if state.bgsave_in_progress.load(Ordering::Relaxed) {
        return;
    }
    if state.bgsave_scheduled.swap(false, Ordering::Relaxed) {
        let _ = bgsave(server);
        return;
    }
    let points = save_points(&server.config());
    let now_s = now_ms() / 1000;
    let dirty = server.dirty.load(Ordering::Relaxed);
    let since_save = now_s - server.last_save_s.load(Ordering::Relaxed);
    let may_retry = !state.last_save_failed.load(Ordering::Relaxed)
        || now_s - state.last_bgsave_try_s.load(Ordering::Relaxed) > BGSAVE_RETRY_DELAY_S;
    for (seconds, changes) in points {
        if dirty >= changes && since_save >= seconds && may_retry {
            log::info!("{changes} changes in {seconds} seconds. Saving...");
            let _ = bgsave(server);
            return;
        }
    }
}

/// Starts the `save-points` thread, which checks the save points about
/// once a second until shutdown.
pub fn start_save_points(server: Arc<Server>) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("save-points".into())
        .spawn(move || {
            while !server.shutdown.load(Ordering::Relaxed) {
                std::thread::sleep(SAVE_POINT_CHECK_INTERVAL);
                check_save_points(&server);
            }
        })
}

/// Exits at once after a second shutdown signal (Redis's "You insist"),
/// removing the temporary files of saves in progress first.
pub fn exit_now(server: &Server) -> ! {
    log::warn!("You insist... exiting now.");
    child::kill_child(&server.rdb);
    let dir = Path::new(".");
    let _ = std::fs::remove_file(snapshot::temp_path(dir, false));
    if let Some(temp) = server
        .rdb
        .bgsave_temp_file
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    {
        let _ = std::fs::remove_file(temp);
    }
    log::logger().flush();
    std::process::exit(1);
}

/// How often a signal's pending shutdown looks at DEBUG PAUSE-CRON and
/// SHUTDOWN ABORT (Redis's serverCron would act on it at its next tick).
const PENDING_SHUTDOWN_POLL: Duration = Duration::from_millis(10);

/// A shutdown asked for by a signal: waits while DEBUG PAUSE-CRON holds
/// periodic work, then shuts down unless SHUTDOWN ABORT cancelled it first.
/// Returns only when it was aborted or the save failed.
pub fn pending_shutdown(server: &Server, flags: ShutdownFlags) -> Result<(), SaveError> {
    loop {
        if !server.rdb.shutdown_pending.load(Ordering::Acquire) {
            // SHUTDOWN ABORT took it back.
            return Ok(());
        }
        if !server.rdb.cron_paused.load(Ordering::Relaxed)
            && server
                .rdb
                .shutdown_pending
                .compare_exchange(true, false, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            return prepare_for_shutdown(server, flags);
        }
        std::thread::sleep(PENDING_SHUTDOWN_POLL);
    }
}

/// SHUTDOWN ABORT: cancels a shutdown a signal asked for that has not
/// begun; false when there is none.
pub fn abort_shutdown(server: &Server) -> bool {
    let aborted = server
        .rdb
        .shutdown_pending
        .compare_exchange(true, false, Ordering::AcqRel, Ordering::Acquire)
        .is_ok();
    if aborted {
        server
            .rdb
            .shutdown_in_progress
            .store(false, Ordering::Release);
        log::info!("Shutdown manually aborted.");
    }
    aborted
}

/// How SHUTDOWN (or a signal) asked to stop.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownFlags {
    /// NOSAVE: do not save even with save points.
    pub nosave: bool,
    /// SAVE: save even without save points.
    pub save: bool,
    /// NOW: do not wait for replicas (we have none).
    pub now: bool,
    /// FORCE: exit even if the save fails.
    pub force: bool,
}

/// The persistence side of stopping (Redis's `prepareForShutdown`): saves
/// when save points are configured or SAVE was given (unless NOSAVE),
/// removes a running BGSAVE's temporary file and the pidfile, then exits
/// the process with status 0. Returns only when the save failed without
/// FORCE: the caller reports the error and the server keeps running.
pub fn prepare_for_shutdown(server: &Server, flags: ShutdownFlags) -> Result<(), SaveError> {
    log::info!("User requested shutdown...");
    if !crate::replication::wait_before_shutdown(server, flags.now) {
        return Err(SaveError::Io(std::io::Error::other("shutdown aborted")));
    }
    // Just after appendonly yes, the data is in no AOF until the first
    // rewrite ends: exiting now would lose it (unless FORCE).
    if server.aof.state() == crate::persistence::aof::AofState::WaitRewrite
        && server.aof.rewrite_in_progress.load(Ordering::Relaxed)
    {
        if !flags.force {
            log::warn!("Writing initial AOF, can't exit.");
            log::warn!(
                "Errors trying to shut down the server. Check the logs for more information."
            );
            return Err(SaveError::Io(std::io::Error::other(
                "initial AOF being written",
            )));
        }
        log::warn!("Writing initial AOF. Exit anyway.");
    }
    let (points, pidfile) = {
        let config = server.config();
        (
            !save_points(&config).is_empty(),
            config.get("pidfile").unwrap_or("").to_string(),
        )
    };
    if let Some(temp) = server
        .rdb
        .bgsave_temp_file
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    {
        log::info!("There is a child saving an .rdb. Killing it!");
        child::kill_child(&server.rdb);
        let _ = std::fs::remove_file(temp);
    }
    // While loading, the store holds only part of the data (or none): a
    // save would write that over the file, so none is made, as in Redis.
    if (points || flags.save) && !flags.nosave && !server.loading.is_on() {
        log::info!("Saving the final RDB snapshot before exiting.");
        if let Err(e) = save_now(server) {
            if !flags.force {
                log::warn!("Error trying to save the DB, can't exit.");
                log::warn!(
                    "Errors trying to shut down the server. Check the logs for more information."
                );
                return Err(e);
            }
            log::warn!("Error trying to save the DB, exiting anyway (FORCE).");
        }
    }
    if !pidfile.is_empty() {
        let _ = std::fs::remove_file(&pidfile);
    }
    server.shutdown.store(true, Ordering::Relaxed);
    log::warn!("ferredis is now ready to exit, bye bye...");
    log::logger().flush();
    std::process::exit(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_converts_both_ways() {
        let values = [
            RdbValue::String(b"hello".to_vec()),
            RdbValue::List(vec![b"a".to_vec(), b"b".to_vec(), b"a".to_vec()]),
            RdbValue::Set(vec![b"x".to_vec()]),
            RdbValue::Hash(vec![(b"f".to_vec(), b"v".to_vec())]),
            RdbValue::ZSet(vec![(b"m".to_vec(), 1.5), (b"n".to_vec(), 2.0)]),
        ];
        for v in values {
            assert_eq!(
                to_rdb_value(&from_rdb_value(v.clone(), &EncodingLimits::default())),
                v
            );
        }
    }

    #[test]
    fn save_points_parse_pairs() {
        let mut config = Config::new();
        assert_eq!(
            save_points(&config),
            vec![(3600, 1), (300, 100), (60, 10000)]
        );
        config.set("save", "", false).expect("empty save is valid");
        assert!(save_points(&config).is_empty());
    }
}
