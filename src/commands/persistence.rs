//! Persistence commands: SAVE, BGSAVE, LASTSAVE, DUMP, RESTORE, MIGRATE,
//! SHUTDOWN, and the DEBUG RELOAD / DIGEST / POPULATE bodies.
//!
//! The work is in `persistence/mod.rs` (snapshots, atomic writes, the save
//! state); these handlers parse arguments and map results to Redis's
//! replies. DUMP and RESTORE use the RDB codec's single-value payload:
//!
//! ```text
//! <type byte> <value as in an RDB file> <RDB version: u16 LE> <CRC-64 LE>
//! ```
//!
//! so payloads move between real Redis 7.0 and us in both directions.
//! MIGRATE (in `persistence/migrate.rs`) is DUMP here plus RESTORE there.

mod migrate;

use std::sync::atomic::Ordering;

pub use migrate::migrate_cached_sockets;
use migrate::migrate_command;

use super::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::persistence::crc64::crc64;
use crate::persistence::rdb::{self, RDB_VERSION};
use crate::persistence::{self as rdb_save, SaveError, ShutdownFlags, Snapshot};
use crate::store::{Store, NO_EXPIRE};

use Handler::{Conn, Read, Write};

/// The persistence family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd(
        "save",
        1,
        "admin noscript no_async_loading no_multi",
        (0, 0, 0),
        Group::Server,
        "",
        "Synchronously save the dataset to disk",
        Conn(save_command),
    ),
    cmd(
        "bgsave",
        -1,
        "admin noscript no_async_loading",
        (0, 0, 0),
        Group::Server,
        "[SCHEDULE]",
        "Asynchronously save the dataset to disk",
        Conn(bgsave_command),
    ),
    cmd(
        "lastsave",
        1,
        "loading stale fast",
        (0, 0, 0),
        Group::Server,
        "",
        "Get the UNIX time stamp of the last successful save to disk",
        Conn(lastsave_command),
    ),
    cmd(
        "dump",
        2,
        "readonly",
        (1, 1, 1),
        Group::Generic,
        "key",
        "Return a serialized version of the value stored at the specified key.",
        Read(dump_command),
    ),
    cmd(
        "restore",
        -4,
        "write denyoom",
        (1, 1, 1),
        Group::Generic,
        "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
        "Create a key using the provided serialized value, previously obtained using DUMP.",
        Write(restore_command),
    ),
    cmd(
        "migrate",
        -6,
        "write",
        (3, 3, 1),
        Group::Generic,
        "host port key|\"\" destination-db timeout [COPY] [REPLACE] [AUTH password] [AUTH2 username password] [KEYS key [key ...]]",
        "Atomically transfer a key from a Redis instance to another one.",
        Conn(migrate_command),
    ),
    cmd(
        "shutdown",
        -1,
        "admin noscript loading stale no_multi allow_busy",
        (0, 0, 0),
        Group::Server,
        "[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]",
        "Synchronously save the dataset to disk and then shut down the server",
        Conn(shutdown_command),
    ),
];

/// SAVE — `+OK` once the dataset is on disk; `-ERR` if the write failed,
/// "ERR Background save already in progress" while a BGSAVE runs.
fn save_command(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    match rdb_save::save(ctx.server) {
        Ok(()) => ctx.reply.ok(),
        Err(SaveError::InProgress) => {
            return Err(CmdError::err("Background save already in progress"))
        }
        // Redis answers a failed SAVE with a bare "-ERR".
        Err(SaveError::Io(_)) => return Err(CmdError::Raw("ERR".into())),
    }
    Ok(())
}

/// BGSAVE [SCHEDULE] — "Background saving started" (status); with
/// SCHEDULE while one runs, "Background saving scheduled"; otherwise
/// "ERR Background save already in progress".
fn bgsave_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let schedule = match args {
        [_] => false,
        [_, opt] if opt.eq_ignore_ascii_case(b"schedule") => true,
        _ => return Err(CmdError::Syntax),
    };
    let state = &ctx.server.rdb;
    if state.bgsave_in_progress.load(Ordering::Relaxed) {
        if schedule {
            state.bgsave_scheduled.store(true, Ordering::Relaxed);
            ctx.reply.simple("Background saving scheduled");
            return Ok(());
        }
        return Err(CmdError::err("Background save already in progress"));
    }
    match rdb_save::bgsave(ctx.server) {
        Ok(()) => ctx.reply.simple("Background saving started"),
        Err(SaveError::InProgress) => {
            return Err(CmdError::err("Background save already in progress"))
        }
        Err(SaveError::Io(e)) => {
            return Err(CmdError::err(format!(
                "Background save failed to start: {e}"
            )))
        }
    }
    Ok(())
}

/// LASTSAVE — integer: unix time of the last successful save.
fn lastsave_command(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    ctx.reply
        .integer(ctx.server.last_save_s.load(Ordering::Relaxed));
    Ok(())
}

/// DUMP key — bulk: the value serialized as a DUMP payload; null when the
/// key does not exist.
fn dump_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let Some(value) = ctx.db(store).get_value(args[1], ctx.now_ms) else {
        ctx.reply.null();
        return Ok(());
    };
    let options = rdb_save::write_options(&ctx.server.config());
    let payload = rdb::encode_value(&rdb_save::to_rdb_value(value), &options);
    ctx.reply.bulk(&payload);
    Ok(())
}

/// Redis's `verifyDumpPayload`: long enough, a version we read, and (unless
/// `verify_checksum` is off) the CRC-64 of everything before it matches.
fn payload_footer_ok(payload: &[u8], verify_checksum: bool) -> bool {
    let Some(body_len) = payload.len().checked_sub(10) else {
        return false;
    };
    let version = u16::from_le_bytes([payload[body_len], payload[body_len + 1]]);
    let mut stored = [0u8; 8];
    stored.copy_from_slice(&payload[body_len + 2..]);
    version as u32 <= RDB_VERSION
        && (!verify_checksum || crc64(0, &payload[..body_len + 2]) == u64::from_le_bytes(stored))
}

/// RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds]
/// [FREQ frequency] — `+OK`.
///
/// `ttl` is milliseconds from now (0: no TTL), or a unix ms time with
/// ABSTTL; a time already past restores nothing (and with REPLACE deletes
/// the old key). Errors, in Redis's order: syntax, "BUSYKEY Target key name
/// already exists.", bad TTL, "ERR DUMP payload version or checksum are
/// wrong", "ERR Bad data format". FREQ is accepted and checked; ferredis
/// keeps no LFU counter.
fn restore_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let (mut replace, mut absttl) = (false, false);
    let mut idle_s: Option<i64> = None;
    let mut freq: Option<i64> = None;
    let mut i = 4;
    while i < args.len() {
        let opt = args[i].to_ascii_lowercase();
        let has_value = i + 1 < args.len();
        match opt.as_slice() {
            b"replace" => replace = true,
            b"absttl" => absttl = true,
            b"idletime" if has_value && freq.is_none() => {
                let v = parse_i64(args[i + 1]).ok_or(CmdError::NotInteger)?;
                if v < 0 {
                    return Err(CmdError::err("Invalid IDLETIME value, must be >= 0"));
                }
                idle_s = Some(v);
                i += 1;
            }
            b"freq" if has_value && idle_s.is_none() => {
                let v = parse_i64(args[i + 1]).ok_or(CmdError::NotInteger)?;
                if !(0..=255).contains(&v) {
                    return Err(CmdError::err("Invalid FREQ value, must be >= 0 and <= 255"));
                }
                freq = Some(v);
                i += 1;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    let key = args[1];
    let now = ctx.now_ms;
    if !replace && ctx.db_mut(store).get_mut(key, now).is_some() {
        return Err(CmdError::Raw(
            "BUSYKEY Target key name already exists.".into(),
        ));
    }
    let mut ttl = parse_i64(args[2]).ok_or(CmdError::NotInteger)?;
    if ttl < 0 {
        return Err(CmdError::err("Invalid TTL value, must be >= 0"));
    }
    let verify_checksum = !ctx.server.skip_checksum_validation.load(Ordering::Relaxed);
    if !payload_footer_ok(args[3], verify_checksum) {
        return Err(CmdError::err("DUMP payload version or checksum are wrong"));
    }
    let value = rdb::decode_value_with(args[3], verify_checksum).map_err(|e| {
        // Logged as Redis's rdbReportError does, so the cause is findable.
        log::warn!(
            "Internal error in RDB reading offset {}, function at rdb.rs -> {}",
            e.offset,
            e.message
        );
        CmdError::err("Bad data format")
    })?;
    let limits = rdb_save::write_options(&ctx.server.config()).limits;
    let db = ctx.db_mut(store);
    let deleted = replace && db.remove(key).is_some();
    if ttl != 0 && !absttl {
        ttl = ttl.saturating_add(now);
    }
    if ttl != 0 && ttl <= now {
        if deleted {
            ctx.notify('g', "del", key);
            ctx.dirty += 1;
        }
        ctx.reply.ok();
        return Ok(());
    }
    let expire_ms = if ttl != 0 { ttl } else { NO_EXPIRE };
    db.set_with_expire(
        key,
        rdb_save::from_rdb_value(value, &limits),
        expire_ms,
        now,
    );
    if let Some(entry) = db.get_mut(key, now) {
        if let Some(idle) = idle_s {
            entry.access.set_idle_ms(idle.saturating_mul(1000), now);
        }
        if let Some(f) = freq {
            entry.access.set_freq(f as u8, now);
        }
    }
    ctx.notify('g', "restore", key);
    ctx.dirty += 1;
    ctx.reply.ok();
    Ok(())
}

/// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT] — no reply on success: the
/// process saves if asked or if save points exist, then exits 0. A failed
/// save without FORCE answers "ERR Errors trying to SHUTDOWN. Check logs."
/// and the server keeps running.
fn shutdown_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut flags = ShutdownFlags::default();
    let mut abort = false;
    for arg in &args[1..] {
        match arg.to_ascii_lowercase().as_slice() {
            b"nosave" => flags.nosave = true,
            b"save" => flags.save = true,
            b"now" => flags.now = true,
            b"force" => flags.force = true,
            b"abort" => abort = true,
            _ => return Err(CmdError::Syntax),
        }
    }
    if (abort && flags != ShutdownFlags::default()) || (flags.nosave && flags.save) {
        return Err(CmdError::Syntax);
    }
    if abort {
        // Only a signal's shutdown can still be pending (we never wait for
        // replicas).
        if !rdb_save::abort_shutdown(ctx.server)
            && !crate::replication::abort_shutdown_wait(ctx.server)
        {
            return Err(CmdError::err("No shutdown in progress."));
        }
        ctx.reply.ok();
        return Ok(());
    }
    match rdb_save::prepare_for_shutdown(ctx.server, flags) {
        Ok(()) => Ok(()),
        Err(_) => Err(CmdError::err("Errors trying to SHUTDOWN. Check logs.")),
    }
}

/// `DEBUG RELOAD [NOSAVE] [NOFLUSH] [MERGE]` — save the dataset, empty the
/// store and load the file again, all under the write lock (a debugging
/// command: it stops everyone, as in Redis). `+OK`.
pub fn debug_reload(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (mut save, mut flush, mut merge) = (true, true, false);
    for arg in args {
        match arg.to_ascii_lowercase().as_slice() {
            b"nosave" => save = false,
            b"noflush" => flush = false,
            b"merge" => merge = true,
            _ => return Err(CmdError::Syntax),
        }
    }
    let server = ctx.server;
    let (path, lru, verify_checksum) = {
        let config = server.config();
        (
            rdb_save::rdb_path(&config),
            config
                .get("maxmemory-policy")
                .is_some_and(|p| p.contains("lru")),
            config.get_bool("rdbchecksum"),
        )
    };
    let limits = rdb_save::write_options(&server.config()).limits;
    let mut store = server.store.write().unwrap_or_else(|p| p.into_inner());
    if save {
        let dirty = server.dirty.load(Ordering::Relaxed);
        let mut snapshot = Snapshot::take(&store, ctx.now_ms, dirty, lru);
        snapshot.repl = crate::replication::rdb_position(server);
        if rdb_save::save_snapshot(server, &snapshot).is_err() {
            return Err(CmdError::Raw("ERR".into()));
        }
    }
    if flush {
        for db in store.dbs.iter_mut() {
            db.clear();
        }
        // The functions go too: the file's libraries replace them.
        crate::scripting::function::flush_libraries(server);
    }
    // Other clients get -LOADING meanwhile, as in Redis.
    server
        .loading
        .begin(std::fs::metadata(&path).map_or(0, |m| m.len()));
    let loaded = rdb_save::load(
        &path,
        &mut store,
        crate::util::now_ms(),
        verify_checksum,
        &limits,
    );
    server.loading.end();
    match loaded {
        Ok(Some(report)) => rdb_save::record_load(server, &path, &report),
        Ok(None) => {}
        Err(e) => {
            log::warn!("{e}");
            return Err(CmdError::err(
                "Error trying to load the RDB dump, check server logs.",
            ));
        }
    }
    // Kept functions meet the file's: a library of the same name is an
    // error unless MERGE replaces it (as Redis's function load does).
    if !flush {
        if let Err(e) = crate::scripting::function::apply_staged_beside_loaded(server, merge) {
            log::warn!("Failed loading the RDB's functions: {e}");
            return Err(CmdError::err(
                "Error trying to load the RDB dump, check server logs.",
            ));
        }
    }
    ctx.reply.ok();
    Ok(())
}

/// DEBUG DIGEST — a 40-hex-digit digest of the whole dataset, all zeros
/// when it is empty; equal datasets give equal digests whatever the order
/// of keys and of set and hash members (used to check a save/reload
/// round trip). Not Redis's SHA-1 mix, so not comparable across servers.
pub fn debug_digest(ctx: &mut Ctx) -> CmdResult {
    let store = ctx.server.store.read().unwrap_or_else(|p| p.into_inner());
    let mut digest = [0u64; 3];
    for (index, db) in store.dbs.iter().enumerate() {
        for (key, entry) in db.iter() {
            if db.is_expired(key, entry, ctx.now_ms) {
                continue;
            }
            let mut parts: Vec<Vec<u8>> = vec![index.to_string().into_bytes(), key.to_vec()];
            let mut items: Vec<Vec<u8>> = match rdb_save::to_rdb_value(&entry.value) {
                rdb::RdbValue::String(s) => vec![s],
                rdb::RdbValue::List(l) => l,
                rdb::RdbValue::Set(mut m) => {
                    m.sort();
                    m
                }
                rdb::RdbValue::Hash(mut h) => {
                    h.sort();
                    h.into_iter().flat_map(|(f, v)| [f, v]).collect()
                }
                rdb::RdbValue::ZSet(z) => z
                    .into_iter()
                    .flat_map(|(m, s)| [m, s.to_string().into_bytes()])
                    .collect(),
                rdb::RdbValue::Stream(st) => st
                    .entries
                    .iter()
                    .flat_map(|(id, fields)| {
                        std::iter::once(id.to_string().into_bytes())
                            .chain(fields.iter().flat_map(|(f, v)| [f.clone(), v.clone()]))
                    })
                    .collect(),
            };
            parts.push(entry.value.type_name().as_bytes().to_vec());
            parts.append(&mut items);
            let expire_ms = db.expire_of(key, entry);
            if expire_ms != NO_EXPIRE {
                parts.push(expire_ms.to_string().into_bytes());
            }
            for (seed, slot) in digest.iter_mut().enumerate() {
                *slot ^= crc64(seed as u64 + 1, &parts.join(&0xffu8));
            }
        }
    }
    drop(store);
    let text = format!(
        "{:016x}{:016x}{:08x}",
        digest[0], digest[1], digest[2] as u32
    );
    ctx.reply.simple(&text);
    Ok(())
}

/// `DEBUG POPULATE count [prefix] [size]` — creates keys `prefix:N` holding
/// `value:N` (padded or cut to `size` bytes when given) for N in
/// 0..count, skipping keys that exist. `+OK`.
pub fn debug_populate(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let count = args
        .first()
        .and_then(|a| parse_i64(a))
        .filter(|&n| n >= 0)
        .ok_or_else(|| CmdError::err("count must be a positive integer"))?;
    let prefix = args.get(1).copied().unwrap_or(b"key");
    let size = match args.get(2) {
        Some(a) => Some(
            parse_i64(a)
                .filter(|&n| n >= 0)
                .ok_or(CmdError::NotInteger)? as usize,
        ),
        None => None,
    };
    let now = ctx.now_ms;
    let mut store = ctx.server.store.write().unwrap_or_else(|p| p.into_inner());
    let db = store.db_mut(ctx.client.db);
    for n in 0..count {
        let mut key = prefix.to_vec();
        key.extend_from_slice(format!(":{n}").as_bytes());
        if db.contains(&key, now) {
            continue;
        }
        let mut value = format!("value:{n}").into_bytes();
        if let Some(size) = size {
            value.resize(size, 0);
        }
        db.set(&key, crate::store::Value::string(value), now);
        ctx.dirty += 1;
    }
    drop(store);
    ctx.reply.ok();
    Ok(())
}

/// DEBUG OBJECT key — Redis's one-line description of a key's value:
/// `Value at:<addr> refcount:1 encoding:<enc> serializedlength:<DUMP body
/// bytes> lru:<clock> lru_seconds_idle:<s>` (status); "ERR no such key".
pub fn debug_object(ctx: &mut Ctx, key: &[u8]) -> CmdResult {
    let store = ctx.server.store.read().unwrap_or_else(|p| p.into_inner());
    // As in Redis, a key whose TTL has passed but that is not deleted yet
    // is still shown (the lookup does not expire it).
    let entry = ctx
        .db(&store)
        .peek(key, i64::MIN)
        .ok_or(CmdError::NoSuchKey)?;
    let options = rdb_save::write_options(&ctx.server.config());
    // The payload less its 10-byte footer and type byte is the value as
    // an RDB file holds it.
    let serialized = rdb::encode_value(&rdb_save::to_rdb_value(&entry.value), &options)
        .len()
        .saturating_sub(11);
    let idle_s = entry.access.idle_ms(ctx.now_ms).max(0) / 1000;
    let mut text = format!(
        "Value at:{:p} refcount:1 encoding:{} serializedlength:{} lru:{} lru_seconds_idle:{}",
        &entry.value,
        super::keys::encoding_name(&entry.value),
        serialized,
        ((ctx.now_ms - entry.access.idle_ms(ctx.now_ms)) / 1000) & 0xff_ffff,
        idle_s
    );
    // Every list is a quicklist in Redis 7.0, and says so.
    if let crate::store::Value::List(list) = &entry.value {
        let config = ctx.server.config();
        text.push_str(&super::introspection::quicklist_debug_fields(
            list.iter(),
            config.get_i64("list-max-listpack-size"),
            config.get_i64("list-compress-depth"),
        ));
    }
    drop(store);
    ctx.reply.simple(&text);
    Ok(())
}
