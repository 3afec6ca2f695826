//! BGREWRITEAOF: a new base file from the current data, while clients keep
//! writing, without losing a write across the switch.
//!
//! ```text
//! 1. store write lock held (no write can run):
//!      write + fsync what is pending to the old incremental file
//!      open appendonly.aof.<n+1>.incr.aof; from now on writes go there
//!      persist a manifest naming old base + old incrs + new incr
//!      snapshot = clone of the store
//!    release the lock; clients go on, their writes land in the new incr
//! 2. write the snapshot to temp-rewriteaof-bg-<pid>.aof, fsync, rename it
//!    to appendonly.aof.<m+1>.base.rdb (.aof with aof-use-rdb-preamble no)
//! 3. atomically replace the manifest: new base + new incr
//! 4. delete the old base and incremental files
//! ```
//!
//! A crash before step 3 restarts from the old files plus the new incr,
//! after it from the new base plus the new incr; both hold every write.
//! The snapshot is an in-memory copy, where Redis forks: it costs memory,
//! and the lock is held only for the copy.
//!
//! The base is written in RDB format (aux `aof-base` 1) by
//! `persistence::rdb::RdbWriter`, or as commands (SET, RPUSH, SADD, HMSET,
//! ZADD, PEXPIREAT, 64 items per command as Redis does).
//!
//! Redis mirrors: `rewriteAppendOnlyFileBackground`,
//! `backgroundRewriteDoneHandler`, `rewriteAppendOnlyFileRio`,
//! `openNewIncrAofForAppend` in `src/aof.c`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use super::loader::{Layout, Loaded};
use super::manifest::{sync_dir, AofFile};
use super::{encode_command, lock, Pending};
use crate::persistence::rdb::{RdbEntry, RdbValue, RdbWriter, WriteOptions};
use crate::server::Server;
use crate::store::{Store, Value, NO_EXPIRE};
use crate::util::now_ms;

/// Items per command when a collection is written as commands
/// (AOF_REWRITE_ITEMS_PER_CMD).
pub const ITEMS_PER_CMD: usize = 64;

/// The error BGREWRITEAOF answers while a rewrite runs.
pub const IN_PROGRESS: &str = "Background append only file rewriting already in progress";

/// Converts a store value to the RDB data model.
pub fn value_to_rdb(value: &Value) -> RdbValue {
    crate::persistence::to_rdb_value(value)
}

/// The commands that rebuild one key (no SELECT): how an AOF-format base
/// writes a key, and how an RDB base is replayed.
pub fn entry_commands(entry: &RdbEntry) -> Vec<Vec<Vec<u8>>> {
    let key = &entry.key;
    let mut out = Vec::new();
    let mut batched = |name: &[u8], items: Vec<Vec<u8>>, per_item: usize| {
        for chunk in items.chunks(ITEMS_PER_CMD * per_item) {
            let mut cmd = vec![name.to_vec(), key.clone()];
            cmd.extend(chunk.iter().cloned());
            out.push(cmd);
        }
    };
    match &entry.value {
        RdbValue::String(v) => batched(b"SET", vec![v.clone()], 1),
        RdbValue::List(items) => batched(b"RPUSH", items.clone(), 1),
        RdbValue::Set(items) => batched(b"SADD", items.clone(), 1),
        RdbValue::Hash(pairs) => batched(
            b"HMSET",
            pairs
                .iter()
                .flat_map(|(f, v)| [f.clone(), v.clone()])
                .collect(),
            2,
        ),
        RdbValue::Stream(stream) => out.extend(stream_commands(key, stream)),
        RdbValue::ZSet(pairs) => batched(
            b"ZADD",
            pairs
                .iter()
                .flat_map(|(m, s)| {
                    [
                        crate::store::number::format_double(*s).into_bytes(),
                        m.clone(),
                    ]
                })
                .collect(),
            2,
        ),
    }
    if let Some(at) = entry.expire_ms {
        out.push(vec![
            b"PEXPIREAT".to_vec(),
            key.clone(),
            at.to_string().into_bytes(),
        ]);
    }
    out
}

/// The commands that rebuild a stream with its groups, as Redis's AOF
/// rewrite emits them: XADD per entry (or an XADD MAXLEN 0 for an empty
/// stream), XSETID for the counters, XGROUP CREATE per group, XCLAIM ...
/// FORCE JUSTID per pending entry and CREATECONSUMER for idle consumers.
fn stream_commands(key: &[u8], s: &crate::store::stream::Stream) -> Vec<Vec<Vec<u8>>> {
    let b = |t: &str| t.as_bytes().to_vec();
    let mut out = Vec::new();
    for (id, fields) in &s.entries {
        let mut cmd = vec![b("XADD"), key.to_vec(), b(&id.to_string())];
        for (f, v) in fields {
            cmd.push(f.clone());
            cmd.push(v.clone());
        }
        out.push(cmd);
    }
    if s.entries.is_empty() {
        out.push(vec![
            b("XADD"),
            key.to_vec(),
            b("MAXLEN"),
            b("0"),
            // Any valid ID: XSETID below puts the real last ID back (it
            // may be 0-0, which XADD refuses), as Redis's rewrite does.
            b("0-1"),
            b("x"),
            b("y"),
        ]);
    }
    out.push(vec![
        b("XSETID"),
        key.to_vec(),
        b(&s.last_id.to_string()),
        b("ENTRIESADDED"),
        b(&s.entries_added.to_string()),
        b("MAXDELETEDID"),
        b(&s.max_deleted_id.to_string()),
    ]);
    for (name, g) in &s.groups {
        let read = g.entries_read.map_or(-1, |r| r as i64);
        out.push(vec![
            b("XGROUP"),
            b("CREATE"),
            key.to_vec(),
            name.clone(),
            b(&g.last_delivered.to_string()),
            b("ENTRIESREAD"),
            b(&read.to_string()),
        ]);
        for (id, p) in &g.pel {
            out.push(vec![
                b("XCLAIM"),
                key.to_vec(),
                name.clone(),
                p.consumer.clone(),
                b("0"),
                b(&id.to_string()),
                b("TIME"),
                b(&p.delivery_ms.to_string()),
                b("RETRYCOUNT"),
                b(&p.deliveries.to_string()),
                b("JUSTID"),
                b("FORCE"),
            ]);
        }
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                out.push(vec![
                    b("XGROUP"),
                    b("CREATECONSUMER"),
                    key.to_vec(),
                    name.clone(),
                    cname.clone(),
                ]);
            }
        }
    }
    out
}

/// Writes `store` as a base file at `path` (RDB when `rdb`), fsynced.
/// `keep_going` runs before each key (rdb-key-save-delay, abort checks);
/// when it answers false the write stops with an error.
pub fn write_base(
    store: &Store,
    path: &Path,
    rdb: bool,
    timestamp: bool,
    keep_going: &dyn Fn() -> bool,
) -> std::io::Result<u64> {
    let aborted = || std::io::Error::other("the rewrite was aborted");
    let file = File::create(path)?;
    let now = now_ms();
    let live = |db: &crate::store::Db| {
        db.iter()
            .filter(move |(_, e)| !e.is_expired(now))
            .map(|(k, e)| RdbEntry {
                db: 0,
                key: k.to_vec(),
                value: value_to_rdb(&e.value),
                expire_ms: (e.expire_ms != NO_EXPIRE).then_some(e.expire_ms),
                idle_s: None,
                freq: None,
            })
            .filter(|entry| !entry.value.is_empty())
            .collect::<Vec<_>>()
    };
    let file = if rdb {
        let mut w = RdbWriter::new(file, WriteOptions::default())?;
        w.write_aux(b"redis-ver", b"7.0.15")?;
        w.write_aux(b"redis-bits", b"64")?;
        w.write_aux(b"ctime", (now / 1000).to_string().as_bytes())?;
        w.write_aux(b"used-mem", b"0")?;
        w.write_aux(b"aof-base", b"1")?;
        for code in crate::scripting::function::persisted_codes() {
            w.write_function(&code)?;
        }
        for (i, db) in store.dbs.iter().enumerate() {
            if db.is_empty() {
                continue;
            }
            w.select_db(i, db.len() as u64, db.expires_len() as u64)?;
            for mut entry in live(db) {
                if !keep_going() {
                    return Err(aborted());
                }
                entry.db = i;
                w.write_entry(&entry)?;
            }
        }
        w.finish()?
    } else {
        let mut w = BufWriter::new(file);
        let mut buf = Vec::new();
        if timestamp {
            // aof-timestamp-enabled: an AOF-format base starts annotated.
            buf.extend_from_slice(format!("#TS:{}\r\n", now / 1000).as_bytes());
        }
        for code in crate::scripting::function::persisted_codes() {
            encode_command(&mut buf, &[b"FUNCTION".to_vec(), b"LOAD".to_vec(), code]);
        }
        for (i, db) in store.dbs.iter().enumerate() {
            let entries = live(db);
            if entries.is_empty() {
                continue;
            }
            encode_command(&mut buf, &[b"SELECT".to_vec(), i.to_string().into_bytes()]);
            for entry in entries {
                if !keep_going() {
                    return Err(aborted());
                }
                for cmd in entry_commands(&entry) {
                    encode_command(&mut buf, &cmd);
                }
                if buf.len() > 64 * 1024 {
                    w.write_all(&buf)?;
                    buf.clear();
                }
            }
        }
        w.write_all(&buf)?;
        w.into_inner().map_err(|e| e.into_error())?
    };
    file.sync_all()?;
    Ok(file.metadata()?.len())
}

fn incr_name(filename: &str, seq: u64) -> String {
    format!("{filename}.{seq}.incr.aof")
}

fn base_name(filename: &str, seq: u64, rdb: bool) -> String {
    format!("{filename}.{seq}.base.{}", if rdb { "rdb" } else { "aof" })
}

fn open_append(path: &Path) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
}

/// Opens a new incremental file and makes it the one written to.
fn switch_incr(p: &mut Pending) -> std::io::Result<AofFile> {
    let seq = p.manifest.incr_seq() + 1;
    let name = incr_name(&p.filename, seq);
    let file = open_append(&p.dir.join(&name))?;
    sync_dir(&p.dir);
    p.file = Some(Arc::new(file));
    p.last_db = None;
    p.last_ts_s = None;
    let f = AofFile { name, seq };
    p.manifest.incrs.push(f.clone());
    Ok(f)
}

fn use_rdb_preamble(server: &Server) -> bool {
    server.config().get("aof-use-rdb-preamble") != Some("no")
}

/// Opens the AOF at start-up (see `aof::open_on_start`).
pub fn open_on_start(server: &Arc<Server>, loaded: &Loaded) -> std::io::Result<()> {
    let layout = Layout::from_server(server);
    std::fs::create_dir_all(&layout.dir)?;
    let rdb = use_rdb_preamble(server);
    let store = server.store.write().unwrap_or_else(|p| p.into_inner());
    let aof = &server.aof;
    let mut p = lock(&aof.pending);
    p.dir = layout.dir.clone();
    p.filename = layout.filename.clone();
    let manifest = loaded.manifest.clone().unwrap_or_default();
    if loaded.legacy {
        // Upgrade: the old single file becomes the base inside the directory.
        std::fs::rename(&layout.filename, layout.dir.join(&layout.filename))?;
        p.manifest = Default::default();
        p.manifest.base = Some(AofFile {
            name: layout.filename.clone(),
            seq: 1,
        });
        let incr = switch_incr(&mut p)?;
        p.manifest
            .save(&p.dir, &format!("{}.manifest", p.filename))?;
        log::info!("Successfully migrated an old-style AOF into the AOF directory");
        log::info!("Creating AOF incr file {} on server start", incr.name);
        aof.base_size.store(loaded.base_size, Ordering::Relaxed);
    } else if manifest.base.is_some() || !manifest.incrs.is_empty() {
        p.manifest = manifest;
        match p.manifest.incrs.last().cloned() {
            Some(last) => {
                let file = open_append(&p.dir.join(&last.name))?;
                p.file = Some(Arc::new(file));
                p.last_db = None;
            }
            None => {
                let incr = switch_incr(&mut p)?;
                p.manifest
                    .save(&p.dir, &format!("{}.manifest", p.filename))?;
                log::info!("Creating AOF incr file {} on server start", incr.name);
            }
        }
        aof.base_size.store(loaded.base_size, Ordering::Relaxed);
    } else {
        let seq = manifest.base_seq() + 1;
        let name = base_name(&layout.filename, seq, rdb);
        let size = write_base(
            &store,
            &layout.dir.join(&name),
            rdb,
            server.config().get_bool("aof-timestamp-enabled"),
            &|| true,
        )?;
        log::info!("Creating AOF base file {name} on server start");
        p.manifest = Default::default();
        p.manifest.base = Some(AofFile { name, seq });
        let incr = switch_incr(&mut p)?;
        p.manifest
            .save(&p.dir, &format!("{}.manifest", p.filename))?;
        log::info!("Creating AOF incr file {} on server start", incr.name);
        aof.base_size.store(size, Ordering::Relaxed);
    }
    let total = loaded.total_size.max(aof.base_size.load(Ordering::Relaxed));
    aof.current_size.store(total, Ordering::Relaxed);
    aof.rewrite_base_size.store(total, Ordering::Relaxed);
    drop(p);
    aof.feeding.store(true, Ordering::Relaxed);
    Ok(())
}

/// Starts a background rewrite (BGREWRITEAOF, auto rewrite, or CONFIG SET
/// appendonly yes when `enabling`). Fails when one is already running.
pub fn start(server: &Arc<Server>, enabling: bool) -> Result<(), &'static str> {
    let aof = &server.aof;
    if aof
        .rewrite_in_progress
        .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
        .is_err()
    {
        return Err(IN_PROGRESS);
    }
    aof.rewrite_scheduled.store(false, Ordering::Relaxed);
    aof.rewrite_abort.store(false, Ordering::Relaxed);
    *lock(&aof.rewrite_started) = Some(Instant::now());
    let s = Arc::clone(server);
    let spawned = std::thread::Builder::new()
        .name("aof-rewrite".into())
        .spawn(move || {
            let started = Instant::now();
            let result = rewrite(&s, enabling);
            let aof = &s.aof;
            match &result {
                Ok(()) => {
                    aof.rewrites.fetch_add(1, Ordering::Relaxed);
                    log::info!("Background AOF rewrite terminated with success");
                    log::info!("Background AOF rewrite finished successfully");
                }
                Err(e) => log::warn!("Background AOF rewrite failed: {e}"),
            }
            aof.last_rewrite_ok.store(result.is_ok(), Ordering::Relaxed);
            aof.last_rewrite_time_s
                .store(started.elapsed().as_secs() as i64, Ordering::Relaxed);
            *lock(&aof.rewrite_started) = None;
            aof.rewrite_in_progress.store(false, Ordering::SeqCst);
        });
    if spawned.is_err() {
        aof.rewrite_in_progress.store(false, Ordering::SeqCst);
        return Err("ERR Can't start the background rewrite thread");
    }
    log::info!("Background append only file rewriting started");
    Ok(())
}

/// The rewrite itself (steps 1-4 of the header).
fn rewrite(server: &Arc<Server>, enabling: bool) -> std::io::Result<()> {
    let aof = &server.aof;
    let rdb = use_rdb_preamble(server);
    // Step 1: switch to a new incremental file and copy the data, atomically.
    let (snapshot, dir, filename, base_seq) = {
        let store = server.store.write().unwrap_or_else(|p| p.into_inner());
        let feeding = aof.is_feeding();
        // With appendonly no (and not turning it on), BGREWRITEAOF writes
        // only a base file and a manifest naming it, as Redis does.
        let base_only = !feeding && !enabling;
        if aof.rewrite_abort.load(Ordering::Relaxed) {
            return Err(std::io::Error::other("the rewrite was aborted"));
        }
        // fsync under the lock, once per rewrite: the old file must be
        // complete before the manifest stops pointing at it.
        aof.flush_all();
        let mut p = lock(&aof.pending);
        if !feeding {
            let layout = Layout::from_server(server);
            std::fs::create_dir_all(&layout.dir)?;
            p.manifest = layout.read_manifest().ok().flatten().unwrap_or_default();
            p.dir = layout.dir;
            p.filename = layout.filename;
        }
        if base_only {
            p.manifest.incrs.push(AofFile {
                name: String::new(),
                seq: 0,
            }); // placeholder popped in step 3: no incremental file
        } else {
            let incr = switch_incr(&mut p)?;
            if feeding {
                p.manifest
                    .save(&p.dir, &format!("{}.manifest", p.filename))?;
            } else {
                aof.current_size.store(0, Ordering::Relaxed);
            }
            log::info!("Creating AOF incr file {} on background rewrite", incr.name);
        }
        let snapshot = store.clone();
        if enabling && !feeding {
            aof.feeding.store(true, Ordering::Relaxed);
        }
        (
            snapshot,
            p.dir.clone(),
            p.filename.clone(),
            p.manifest.base_seq(),
        )
    };
    // Step 2: the new base, written while clients go on.
    let temp = dir.join(format!("temp-rewriteaof-bg-{}.aof", std::process::id()));
    let keep_going = || {
        // rdb-key-save-delay (a test knob) in short slices, so an abort or
        // a change of the delay is seen at once.
        let started = Instant::now();
        loop {
            if aof.rewrite_abort.load(Ordering::Relaxed) {
                return false;
            }
            let delay_us = server.config().get_i64("rdb-key-save-delay").max(0) as u128;
            let left_us = delay_us.saturating_sub(started.elapsed().as_micros());
            if left_us == 0 {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_micros(left_us.min(10_000) as u64));
        }
    };
    let timestamp = server.config().get_bool("aof-timestamp-enabled");
    let written = write_base(&snapshot, &temp, rdb, timestamp, &keep_going);
    drop(snapshot);
    let base_size = match written {
        Ok(size) if !aof.rewrite_abort.load(Ordering::Relaxed) => size,
        Ok(_) | Err(_) => {
            let _ = std::fs::remove_file(&temp);
            return Err(written
                .err()
                .unwrap_or_else(|| std::io::Error::other("the rewrite was aborted")));
        }
    };
    log::info!(
        "Successfully created the temporary AOF base file {}",
        temp.display()
    );
    let base = AofFile {
        name: base_name(&filename, base_seq + 1, rdb),
        seq: base_seq + 1,
    };
    std::fs::rename(&temp, dir.join(&base.name))?;
    // Step 3: the manifest now names the new base and the current incr only.
    let old: Vec<PathBuf> = {
        let mut p = lock(&aof.pending);
        let current = p.manifest.incrs.pop().filter(|f| !f.name.is_empty());
        let m = &mut p.manifest;
        let mut old: Vec<PathBuf> = std::mem::take(&mut m.incrs)
            .into_iter()
            .chain(m.base.take())
            .chain(std::mem::take(&mut m.history))
            .map(|f| dir.join(f.name))
            .collect();
        old.retain(|path| path.file_name() != Some(std::ffi::OsStr::new(&base.name)));
        p.manifest.base = Some(base);
        p.manifest.incrs.extend(current.clone());
        p.manifest.save(&dir, &format!("{filename}.manifest"))?;
        let incr_len = current
            .and_then(|c| std::fs::metadata(dir.join(c.name)).ok())
            .map_or(0, |m| m.len())
            + p.buf.len() as u64;
        let total = base_size + incr_len;
        aof.base_size.store(base_size, Ordering::Relaxed);
        aof.current_size.store(total, Ordering::Relaxed);
        aof.rewrite_base_size.store(total, Ordering::Relaxed);
        old
    };
    // Step 4: the old files are history.
    for path in old {
        if let Some(name) = path.file_name() {
            log::info!(
                "Removing the history file {} in the background",
                name.to_string_lossy()
            );
        }
        let _ = std::fs::remove_file(&path);
    }
    Ok(())
}

/// Starts a rewrite when the AOF grew by auto-aof-rewrite-percentage over
/// its size after the last rewrite and is above auto-aof-rewrite-min-size.
pub fn maybe_auto_rewrite(server: &Arc<Server>) {
    let aof = &server.aof;
    if !aof.is_feeding() || aof.rewrite_in_progress.load(Ordering::Relaxed) {
        return;
    }
    let current = aof.current_size.load(Ordering::Relaxed);
    let (perc, min) = aof.auto_rewrite_limits();
    if perc == 0 || current <= min {
        return;
    }
    let base = aof.rewrite_base_size.load(Ordering::Relaxed).max(1);
    let growth = current.saturating_mul(100) / base;
    if growth >= 100 + perc {
        log::info!(
            "Starting automatic rewriting of AOF on {}% growth",
            growth - 100
        );
        let _ = start(server, false);
    }
}
