//! Loading an RDB file into the store, at start-up and for DEBUG RELOAD.
//!
//! The reader ([`super::rdb::RdbReader`]) streams events; this file turns
//! each key into a store entry through [`super::from_rdb_value`], drops keys
//! whose TTL has already passed (as a master does; the count shows in INFO
//! as rdb_last_load_keys_expired), pre-sizes tables from RESIZEDB hints and
//! logs a progress line every million keys. Any error names the file and
//! the byte offset, and the caller refuses to start: an unreadable file is
//! never replaced by an empty save.
//!
//! While the server loads its data at start-up it already accepts clients,
//! as Redis does, and [`Loading`] is on: commands not flagged `loading`
//! (most of them; INFO, CONFIG, PING-less health checks ... are) get
//! `-LOADING Redis is loading the dataset in memory`, INFO shows the
//! progress, and SHUTDOWN does not save (a save would write the part
//! loaded so far over the file). The thread that loads, replaying the AOF
//! through the dispatcher, is exempt.

use std::cell::Cell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::from_rdb_value;
use super::rdb::{RdbError, RdbEvent, RdbReader, ReadOptions};
use crate::server::Server;
use crate::store::{Store, NO_EXPIRE};

/// Loading logs a progress line every this many keys.
const LOAD_PROGRESS_KEYS: u64 = 1_000_000;

/// The error of a command refused while loading.
pub const LOADING_ERROR: &str = "LOADING Redis is loading the dataset in memory";

thread_local! {
    /// True on the thread that loads (see [`Loading::begin`]).
    static LOADER: Cell<bool> = const { Cell::new(false) };
}

/// Whether the server is loading its data, and how far it got (INFO's
/// `loading*` fields).
#[derive(Debug, Default)]
pub struct Loading {
    /// key-load-delay, copied from the configuration (CONFIG SET works
    /// during a load: CONFIG is flagged `loading`).
    pub key_load_delay: AtomicI64,
    on: AtomicBool,
    start_s: AtomicI64,
    total_bytes: AtomicU64,
    loaded_bytes: AtomicU64,
}

impl Loading {
    /// Starts a load of `total_bytes` on the calling thread, which stays
    /// free to run commands (the AOF replay) while others are refused.
    pub fn begin(&self, total_bytes: u64) {
        self.start_s
            .store(crate::util::now_ms() / 1000, Ordering::Relaxed);
        self.total_bytes.store(total_bytes, Ordering::Relaxed);
        self.loaded_bytes.store(0, Ordering::Relaxed);
        LOADER.with(|l| l.set(true));
        self.on.store(true, Ordering::Release);
    }

    /// Records how far the load got after `keys` keys and `loaded_bytes`
    /// bytes, then waits key-load-delay.
    pub fn progress(&self, keys: u64, loaded_bytes: u64) {
        self.loaded_bytes.store(loaded_bytes, Ordering::Relaxed);
        key_load_delay(self.key_load_delay.load(Ordering::Relaxed), keys);
    }

    /// Ends the load: every command is served again.
    pub fn end(&self) {
        self.on.store(false, Ordering::Release);
        LOADER.with(|l| l.set(false));
    }

    /// True while a load is in progress.
    pub fn is_on(&self) -> bool {
        self.on.load(Ordering::Acquire)
    }

    /// True when a command that is not flagged `loading` must be refused
    /// on this thread: a load is in progress and this is not the loader.
    pub fn refuses_here(&self) -> bool {
        self.is_on() && !LOADER.with(|l| l.get())
    }

    /// INFO persistence's lines about the load in progress (none when idle).
    pub fn info_lines(&self) -> String {
        if !self.is_on() {
            return String::new();
        }
        let start_s = self.start_s.load(Ordering::Relaxed);
        let total = self.total_bytes.load(Ordering::Relaxed);
        let loaded = self.loaded_bytes.load(Ordering::Relaxed);
        let perc = if total > 0 {
            loaded as f64 * 100.0 / total as f64
        } else {
            0.0
        };
        let elapsed_s = (crate::util::now_ms() / 1000 - start_s).max(0) as u64;
        let eta = if loaded > 0 && elapsed_s > 0 {
            (elapsed_s as f64 * (total.saturating_sub(loaded)) as f64 / loaded as f64) as i64
        } else {
            1
        };
        format!(
            "loading_start_time:{start_s}\r\nloading_total_bytes:{total}\r\nloading_rdb_used_mem:0\r\nloading_loaded_bytes:{loaded}\r\nloading_loaded_perc:{perc:.2}\r\nloading_eta_seconds:{eta}\r\n"
        )
    }
}

/// key-load-delay: microseconds to sleep after each key loaded, or when
/// negative, one microsecond every `-delay` keys (Redis's `debugDelay`, a
/// testing knob that makes a load slow enough to watch).
fn key_load_delay(delay: i64, keys_loaded: u64) {
    match delay {
        0 => {}
        d if d > 0 => std::thread::sleep(Duration::from_micros(d as u64)),
        d => {
            if keys_loaded.is_multiple_of(d.unsigned_abs()) {
                std::thread::sleep(Duration::from_micros(1));
            }
        }
    }
}

/// Why the RDB file could not be loaded: the file, the offset and the cause.
#[derive(Debug)]
pub struct LoadError {
    /// The file.
    pub path: PathBuf,
    /// Byte offset of the problem (0 for I/O errors opening the file).
    pub offset: u64,
    /// What was wrong.
    pub message: String,
    /// True when the file's contents were bad (not an I/O error): Redis then
    /// says "Terminating server after rdb file reading failure.".
    pub corrupt: bool,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Fatal error loading the DB from '{}' at offset {}: {}. {}",
            self.path.display(),
            self.offset,
            self.message,
            if self.corrupt {
                "Terminating server after rdb file reading failure."
            } else {
                "Exiting."
            }
        )
    }
}

impl std::error::Error for LoadError {}

/// What a load found.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Keys loaded per database number (index = db).
    pub keys_per_db: Vec<u64>,
    /// Keys skipped because their TTL had already passed.
    pub expired_skipped: u64,
    /// Keys holding an empty collection, skipped as Redis 7.0 does.
    pub empty_skipped: u64,
    /// Keys in databases beyond `databases`, skipped.
    pub out_of_range_skipped: u64,
    /// How long it took.
    pub elapsed: Duration,
    /// The replication position saved with the data (aux fields repl-id,
    /// repl-offset, repl-stream-db), when there was one: a replica
    /// restarted from this file continues from it with PSYNC.
    pub repl: Option<ReplPosition>,
}

/// Where a replication stream stood when an RDB was saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplPosition {
    /// The replication ID.
    pub id: String,
    /// The replication offset.
    pub offset: u64,
    /// The database the stream had selected.
    pub db: usize,
}

impl LoadReport {
    /// Total keys loaded.
    pub fn total_keys(&self) -> u64 {
        self.keys_per_db.iter().sum()
    }
}

/// Loads an RDB file into `store` (which should be empty). Returns
/// `Ok(None)` when the file does not exist. Keys whose TTL has passed are
/// dropped, as a master does; keys of databases beyond the store's count
/// are an error, as in Redis.
/// `verify_checksum` is the `rdbchecksum` setting.
pub fn load(
    path: &Path,
    store: &mut Store,
    now_ms: i64,
    verify_checksum: bool,
    limits: &crate::persistence::rdb::EncodingLimits,
) -> Result<Option<LoadReport>, LoadError> {
    load_observed(path, store, now_ms, verify_checksum, limits, &mut |_, _| {})
}

/// [`load`], calling `on_key(keys read, bytes read)` after each key (the
/// start-up load's progress and key-load-delay).
pub fn load_observed(
    path: &Path,
    store: &mut Store,
    now_ms: i64,
    verify_checksum: bool,
    limits: &crate::persistence::rdb::EncodingLimits,
    on_key: &mut dyn FnMut(u64, u64),
) -> Result<Option<LoadReport>, LoadError> {
    let started = Instant::now();
    let fail = |offset: u64, message: String| LoadError {
        path: path.to_path_buf(),
        offset,
        message,
        corrupt: false,
    };
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(0, e.to_string())),
    };
    let from_rdb = |e: RdbError| {
        // Redis's rdbReportError line, then the fatal line from the caller.
        log::warn!(
            "Internal error in RDB reading offset {}, function at rdb.rs -> {}",
            e.offset,
            e.message
        );
        LoadError {
            path: path.to_path_buf(),
            offset: e.offset,
            // Redis's words for this case, which tools and tests look for.
            message: if e.message.starts_with("wrong RDB checksum") {
                format!("{} (RDB CRC error)", e.message)
            } else {
                e.message
            },
            corrupt: true,
        }
    };
    let options = ReadOptions { verify_checksum };
    let mut reader = RdbReader::with_options(file, options).map_err(from_rdb)?;
    let mut report = LoadReport {
        keys_per_db: vec![0; store.dbs.len()],
        ..Default::default()
    };
    let mut seen = 0u64;
    let (mut repl_id, mut repl_offset, mut repl_db) = (None, None, None);
    while let Some(event) = reader.next_event().map_err(from_rdb)? {
        match event {
            RdbEvent::ResizeDb { db, db_size, .. } => {
                if let Some(d) = store.dbs.get_mut(db) {
                    d.reserve(db_size.min(1 << 26) as usize);
                }
            }
            RdbEvent::Entry(entry) => {
                seen += 1;
                on_key(seen, reader.offset());
                if seen.is_multiple_of(LOAD_PROGRESS_KEYS) {
                    log::info!("Loading RDB: {seen} keys read so far");
                }
                let Some(db) = store.dbs.get_mut(entry.db) else {
                    return Err(fail(
                        reader.offset(),
                        format!(
                            "database {} is out of range (databases is {})",
                            entry.db,
                            report.keys_per_db.len()
                        ),
                    ));
                };
                let expire_ms = entry.expire_ms.unwrap_or(NO_EXPIRE);
                // A replica loading its master's data keeps keys whose TTL
                // has passed: they go when the master's DEL arrives, as in
                // Redis, so both data sets stay the same.
                if entry.expire_ms.is_some_and(|t| t <= now_ms) && !crate::replication::applying() {
                    report.expired_skipped += 1;
                    continue;
                }
                let (idle_s, freq) = (entry.idle_s, entry.freq);
                db.set_with_expire(
                    &entry.key,
                    from_rdb_value(entry.value, limits),
                    expire_ms,
                    now_ms,
                );
                if let Some(e) = db.get_mut(&entry.key, now_ms) {
                    if let Some(idle) = idle_s {
                        e.access
                            .set_idle_ms((idle as i64).saturating_mul(1000), now_ms);
                    }
                    if let Some(f) = freq {
                        e.access.set_freq(f, now_ms);
                    }
                }
                report.keys_per_db[entry.db] += 1;
            }
            RdbEvent::Aux { key, value } => {
                let text = String::from_utf8_lossy(&value).into_owned();
                match key.as_slice() {
                    b"repl-id" => repl_id = Some(text),
                    b"repl-offset" => repl_offset = text.parse().ok(),
                    b"repl-stream-db" => repl_db = text.parse().ok(),
                    _ => {}
                }
            }
        }
    }
    if let (Some(id), Some(offset)) = (repl_id, repl_offset) {
        if id.len() == 40 {
            report.repl = Some(ReplPosition {
                id,
                offset,
                db: repl_db.unwrap_or(0),
            });
        }
    }
    report.elapsed = started.elapsed();
    report.empty_skipped = reader.empty_keys_skipped();
    Ok(Some(report))
}

/// Logs a load and keeps its counts for INFO (rdb_last_load_keys_loaded,
/// rdb_last_load_keys_expired).
pub fn record_load(server: &Server, path: &Path, report: &LoadReport) {
    log_load(path, report);
    let state = &server.rdb;
    state
        .last_load_keys_loaded
        .store(report.total_keys(), Ordering::Relaxed);
    state
        .last_load_keys_expired
        .store(report.expired_skipped, Ordering::Relaxed);
}

/// Logs a load the way the issue asks: keys per database and time taken.
pub fn log_load(path: &Path, report: &LoadReport) {
    let per_db: Vec<String> = report
        .keys_per_db
        .iter()
        .enumerate()
        .filter(|(_, &n)| n > 0)
        .map(|(db, n)| format!("db{db}={n}"))
        .collect();
    log::info!(
        "DB loaded from disk: {} keys from '{}' in {:.3} seconds ({}){}",
        report.total_keys(),
        path.display(),
        report.elapsed.as_secs_f64(),
        if per_db.is_empty() {
            "empty".to_string()
        } else {
            per_db.join(", ")
        },
        if report.expired_skipped > 0 {
            format!(", {} expired keys skipped", report.expired_skipped)
        } else {
            String::new()
        }
    );
    if report.empty_skipped > 0 {
        // Redis's "Done loading RDB, ... empty keys skipped: N." words.
        log::info!(
            "Done loading RDB, empty keys skipped: {}.",
            report.empty_skipped
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persistence::rdb::{RdbEntry, RdbValue, RdbWriter, WriteOptions};

    fn entry(db: usize, key: &str, expire_ms: Option<i64>) -> RdbEntry {
        RdbEntry {
            db,
            key: key.as_bytes().to_vec(),
            value: RdbValue::String(b"v".to_vec()),
            expire_ms,
            idle_s: None,
            freq: None,
        }
    }

    #[test]
    fn missing_file_is_none_and_expired_keys_are_dropped() {
        let dir = std::env::temp_dir().join(format!("ferredis-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("dump.rdb");
        let _ = std::fs::remove_file(&path);
        let mut store = Store::new(16);
        assert!(load(&path, &mut store, 1000, true, &Default::default())
            .expect("no error")
            .is_none());

        let file = std::fs::File::create(&path).expect("create");
        let mut writer = RdbWriter::new(file, WriteOptions::default()).expect("header");
        for e in [
            entry(0, "live", Some(5000)),
            entry(0, "dead", Some(10)),
            entry(3, "x", None),
        ] {
            writer.write_entry(&e).expect("write");
        }
        writer.finish().expect("finish");
        let report = load(&path, &mut store, 1000, true, &Default::default())
            .expect("loads")
            .expect("file exists");
        assert_eq!(report.total_keys(), 2);
        assert_eq!(report.expired_skipped, 1);
        assert_eq!(report.keys_per_db[3], 1);
        assert!(store.db(0).get(b"live", 1000).is_some());
        assert_eq!(store.db(0).expire_ms(b"live"), 5000);

        let mut small = Store::new(2);
        let err = load(&path, &mut small, 1000, true, &Default::default())
            .expect_err("db 3 out of range");
        assert!(err.to_string().contains("dump.rdb"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
