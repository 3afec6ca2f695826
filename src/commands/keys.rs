//! Generic keyspace commands: DEL, EXISTS, TYPE, KEYS, SCAN, RENAME, MOVE,
//! COPY, FLUSHDB/FLUSHALL, SWAPDB, OBJECT ... (Redis's db.c and object.c).
//!
//! These work on any value type. SCAN's option parsing and its loop live
//! here as [`parse_scan_options`] and are shared with HSCAN/SSCAN/ZSCAN.

use super::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::store::glob::glob_match;
use crate::store::{Store, Value};

use Handler::{Read, Write};

/// The keyspace family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd(
        "del",
        -2,
        "write",
        (1, -1, 1),
        Group::Generic,
        "key [key ...]",
        "Delete a key",
        Write(del_command),
    ),
    cmd(
        "unlink",
        -2,
        "write fast",
        (1, -1, 1),
        Group::Generic,
        "key [key ...]",
        "Delete a key asynchronously in another thread",
        Write(del_command),
    ),
    cmd(
        "exists",
        -2,
        "readonly fast",
        (1, -1, 1),
        Group::Generic,
        "key [key ...]",
        "Determine if a key exists",
        Read(exists_command),
    ),
    cmd(
        "touch",
        -2,
        "readonly fast",
        (1, -1, 1),
        Group::Generic,
        "key [key ...]",
        "Alters the last access time of a key(s)",
        Read(touch_command),
    ),
    cmd(
        "type",
        2,
        "readonly fast",
        (1, 1, 1),
        Group::Generic,
        "key",
        "Determine the type stored at key",
        Read(type_command),
    ),
    cmd(
        "keys",
        2,
        "readonly",
        (0, 0, 0),
        Group::Generic,
        "pattern",
        "Find all keys matching the given pattern",
        Read(keys_command),
    ),
    cmd(
        "scan",
        -2,
        "readonly",
        (0, 0, 0),
        Group::Generic,
        "cursor [MATCH pattern] [COUNT count] [TYPE type]",
        "Incrementally iterate the keys space",
        // Write: it deletes the expired keys it meets (lazy expiry).
        Write(scan_command),
    ),
    cmd(
        "randomkey",
        1,
        "readonly",
        (0, 0, 0),
        Group::Generic,
        "",
        "Return a random key from the keyspace",
        // Write: it deletes the expired keys it draws (lazy expiry).
        Write(randomkey_command),
    ),
    cmd(
        "dbsize",
        1,
        "readonly fast",
        (0, 0, 0),
        Group::Server,
        "",
        "Return the number of keys in the selected database",
        Read(dbsize_command),
    ),
    cmd(
        "rename",
        3,
        "write",
        (1, 2, 1),
        Group::Generic,
        "key newkey",
        "Rename a key",
        Write(rename_command),
    ),
    cmd(
        "renamenx",
        3,
        "write fast",
        (1, 2, 1),
        Group::Generic,
        "key newkey",
        "Rename a key, only if the new key does not exist",
        Write(renamenx_command),
    ),
    cmd(
        "move",
        3,
        "write fast",
        (1, 1, 1),
        Group::Generic,
        "key db",
        "Move a key to another database",
        Write(move_command),
    ),
    cmd(
        "copy",
        -3,
        "write denyoom",
        (1, 2, 1),
        Group::Generic,
        "source destination [DB destination-db] [REPLACE]",
        "Copy a key",
        Write(copy_command),
    ),
    cmd(
        "flushdb",
        -1,
        "write",
        (0, 0, 0),
        Group::Server,
        "[ASYNC|SYNC]",
        "Remove all keys from the current database",
        Write(flushdb_command),
    ),
    cmd(
        "flushall",
        -1,
        "write",
        (0, 0, 0),
        Group::Server,
        "[ASYNC|SYNC]",
        "Remove all keys from all databases",
        Write(flushall_command),
    ),
    cmd(
        "swapdb",
        3,
        "write fast",
        (0, 0, 0),
        Group::Server,
        "index1 index2",
        "Swaps two Redis databases",
        Write(swapdb_command),
    ),
    cmd(
        "object",
        -2,
        "readonly",
        (2, 2, 1),
        Group::Generic,
        "ENCODING|FREQ|IDLETIME|REFCOUNT|HELP key",
        "A container for object introspection commands",
        Read(object_command),
    ),
];

/// DEL / UNLINK key [key ...] — the number of keys removed. UNLINK (and DEL
/// under lazyfree-lazy-user-del) frees big values on the lazyfree thread.
fn del_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let lazy = args[0].eq_ignore_ascii_case(b"unlink")
        || crate::lazyfree::USER_DEL.load(std::sync::atomic::Ordering::Relaxed);
    let db = ctx.db_mut(store);
    let mut removed = 0;
    for key in &args[1..] {
        db.expire_if_needed(key, now);
        if let Some(entry) = db.remove(key) {
            if lazy {
                crate::lazyfree::free(entry.value);
            }
            removed += 1;
            ctx.notify('g', "del", key);
        }
    }
    ctx.dirty += removed;
    ctx.reply.integer(removed as i64);
    Ok(())
}

/// TOUCH key [key ...] — integer: how many of the keys exist; each one's
/// last access time (and LFU counter) is updated.
fn touch_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let db = ctx.db(store);
    let n = args[1..]
        .iter()
        .filter(|k| db.get(k, ctx.now_ms).is_some())
        .count();
    ctx.reply.integer(n as i64);
    Ok(())
}

/// EXISTS key [key ...] — integer: how many of the keys exist (repeats
/// count); not an access.
fn exists_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let db = ctx.db(store);
    // TOUCH counts as an access (LRU/LFU); EXISTS does not, as in Redis.
    let touch = args[0].eq_ignore_ascii_case(b"touch");
    let n = args[1..]
        .iter()
        .filter(|k| match touch {
            true => db.get(k, ctx.now_ms).is_some(),
            false => db.contains(k, ctx.now_ms),
        })
        .count();
    ctx.reply.integer(n as i64);
    Ok(())
}

/// TYPE key — status reply: string, list, set, zset, hash, stream or none.
fn type_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let name = ctx
        .db(store)
        .peek(args[1], ctx.now_ms)
        .map_or("none", |e| e.value.type_name());
    ctx.reply.simple(name);
    Ok(())
}

/// KEYS pattern — every live key matching the glob pattern.
fn keys_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let pattern = args[1];
    let match_all = pattern == b"*";
    let now = ctx.now_ms;
    let db = ctx.db(store);
    let keys: Vec<&[u8]> = db
        .iter()
        .filter(|(k, e)| !db.is_expired(k, e, now) && (match_all || glob_match(pattern, k, false)))
        .map(|(k, _)| k)
        .collect();
    ctx.reply.array(keys.len());
    for k in keys {
        ctx.reply.bulk(k);
    }
    Ok(())
}

/// Options shared by SCAN, HSCAN, SSCAN and ZSCAN.
pub struct ScanOptions<'a> {
    /// The cursor to resume from.
    pub cursor: u64,
    /// MATCH pattern.
    pub pattern: Option<&'a [u8]>,
    /// COUNT hint (10 by default).
    pub count: usize,
    /// TYPE filter (SCAN only).
    pub type_name: Option<Vec<u8>>,
}

/// Parses `cursor [MATCH p] [COUNT n] [TYPE t]`; `args` starts at the cursor.
pub fn parse_scan_options<'a>(
    args: &[&'a [u8]],
    allow_type: bool,
) -> Result<ScanOptions<'a>, CmdError> {
    let cursor = std::str::from_utf8(args[0])
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .ok_or_else(|| CmdError::err("invalid cursor"))?;
    let mut opts = ScanOptions {
        cursor,
        pattern: None,
        count: 10,
        type_name: None,
    };
    let mut i = 1;
    while i < args.len() {
        let opt = args[i].to_ascii_uppercase();
        let Some(value) = args.get(i + 1) else {
            return Err(CmdError::Syntax);
        };
        match opt.as_slice() {
            b"MATCH" => opts.pattern = Some(*value).filter(|p| *p != b"*"),
            b"COUNT" => {
                let n = parse_i64(value).ok_or(CmdError::NotInteger)?;
                if n < 1 {
                    return Err(CmdError::Syntax);
                }
                opts.count = n as usize;
            }
            b"TYPE" if allow_type => opts.type_name = Some(value.to_ascii_lowercase()),
            _ => return Err(CmdError::Syntax),
        }
        i += 2;
    }
    Ok(opts)
}

/// Writes a SCAN-family reply: the next cursor and the elements.
pub fn reply_scan(ctx: &mut Ctx, cursor: u64, items: &[Vec<u8>]) {
    ctx.reply.array(2);
    ctx.reply.bulk(cursor.to_string().as_bytes());
    ctx.reply.array(items.len());
    for item in items {
        ctx.reply.bulk(item);
    }
}

/// SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] — the next cursor
/// and a batch of keys. Every key present for the whole iteration is
/// returned at least once (see store/dict.rs).
fn scan_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let opts = parse_scan_options(&args[1..], true)?;
    let now = ctx.now_ms;
    let may_delete = !ctx.server.pause.writes_paused();
    let db = ctx.db_mut(store);
    let mut keys = Vec::new();
    let mut stale = Vec::new();
    let mut cursor = opts.cursor;
    let mut visits = 0;
    loop {
        let view: &crate::store::Db = db;
        cursor = view.scan(cursor, |k, e| {
            if view.is_expired(k, e, now) {
                stale.push(k.to_vec());
                return;
            }
            if opts.pattern.is_some_and(|p| !glob_match(p, k, false)) {
                return;
            }
            if opts
                .type_name
                .as_ref()
                .is_some_and(|t| t.as_slice() != e.value.type_name().as_bytes())
            {
                return;
            }
            keys.push(k.to_vec());
        });
        visits += 1;
        if cursor == 0 || keys.len() >= opts.count || visits >= opts.count * 10 {
            break;
        }
    }
    // As in Redis, the expired keys met on the way are deleted (and
    // replicated as DEL, one by one, not wrapped in a transaction).
    if may_delete {
        for key in &stale {
            db.expire_if_needed(key, now);
        }
    }
    reply_scan(ctx, cursor, &keys);
    Ok(())
}

/// RANDOMKEY — a random key of the selected database, or null when empty.
/// An expired key drawn is deleted and another drawn, as in Redis (not
/// while writes are paused: then an expired key only reads as absent).
fn randomkey_command(ctx: &mut Ctx, store: &mut Store, _args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let may_delete = !ctx.server.pause.writes_paused();
    let db = ctx.db_mut(store);
    let key = if may_delete {
        loop {
            match db.random_key(i64::MIN) {
                Some(k) if db.expire_if_needed(&k, now) => continue,
                found => break found,
            }
        }
    } else {
        db.random_key(now)
    };
    match key {
        Some(k) => ctx.reply.bulk(&k),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// DBSIZE — the number of keys in the selected database.
fn dbsize_command(ctx: &mut Ctx, store: &Store, _args: &[&[u8]]) -> CmdResult {
    ctx.reply.integer(ctx.db(store).len() as i64);
    Ok(())
}

/// The shared body of RENAME and RENAMENX; returns false when NX refused.
fn rename_generic(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
    nx: bool,
) -> Result<bool, CmdError> {
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    if !db.contains(args[1], now) {
        db.expire_if_needed(args[1], now);
        return Err(CmdError::NoSuchKey);
    }
    if args[1] == args[2] {
        return Ok(!nx);
    }
    if nx && db.contains(args[2], now) {
        return Ok(false);
    }
    let (entry, expire_ms) = db.take(args[1]).ok_or(CmdError::NoSuchKey)?;
    db.remove(args[2]);
    db.set_with_expire(args[2], entry.value, expire_ms, now);
    ctx.dirty += 1;
    ctx.notify('g', "rename_from", args[1]);
    ctx.notify('g', "rename_to", args[2]);
    Ok(true)
}

/// RENAME key newkey — `+OK`; ERR no such key when the source is missing.
fn rename_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    rename_generic(ctx, store, args, false)?;
    ctx.reply.ok();
    Ok(())
}

/// RENAMENX key newkey — 1 if renamed, 0 if newkey exists.
fn renamenx_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let done = rename_generic(ctx, store, args, true)?;
    ctx.reply.integer(done as i64);
    Ok(())
}

/// Parses a database number for SELECT / MOVE / COPY / SWAPDB.
pub fn parse_db_index(arg: &[u8], store: &Store, invalid: &str) -> Result<usize, CmdError> {
    let n = parse_i64(arg).ok_or_else(|| CmdError::err(invalid))?;
    if n < 0 || n as usize >= store.dbs.len() {
        return Err(CmdError::DbIndexOutOfRange);
    }
    Ok(n as usize)
}

/// MOVE key db — 1 if moved, 0 if absent here or present there.
fn move_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let target = parse_db_index(args[2], store, "value is not an integer or out of range")?;
    let now = ctx.now_ms;
    let src = ctx.client.db;
    if target == src {
        return Err(CmdError::err("source and destination objects are the same"));
    }
    if !store.db(src).contains(args[1], now) || store.db(target).contains(args[1], now) {
        ctx.reply.integer(0);
        return Ok(());
    }
    let (entry, expire_ms) = store.db_mut(src).take(args[1]).ok_or(CmdError::NoSuchKey)?;
    store.db_mut(target).remove(args[1]);
    store
        .db_mut(target)
        .set_with_expire(args[1], entry.value, expire_ms, now);
    ctx.dirty += 1;
    ctx.notify('g', "move_from", args[1]);
    ctx.notify('g', "move_to", args[1]);
    ctx.reply.integer(1);
    Ok(())
}

/// COPY source destination [DB db] [REPLACE] — 1 if copied, 0 if not.
fn copy_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let mut target = ctx.client.db;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        match args[i].to_ascii_uppercase().as_slice() {
            b"REPLACE" => replace = true,
            b"DB" if i + 1 < args.len() => {
                target = parse_db_index(
                    args[i + 1],
                    store,
                    "value is not an integer or out of range",
                )?;
                i += 1;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    let src = ctx.client.db;
    if src == target && args[1] == args[2] {
        return Err(CmdError::err("source and destination objects are the same"));
    }
    let now = ctx.now_ms;
    let source = store.db(src);
    let Some((entry, expire_ms)) = source
        .get(args[1], now)
        .map(|e| (e.clone(), source.expire_of(args[1], e)))
    else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let dst = store.db_mut(target);
    if dst.contains(args[2], now) && !replace {
        ctx.reply.integer(0);
        return Ok(());
    }
    dst.remove(args[2]);
    dst.set_with_expire(args[2], entry.value, expire_ms, now);
    ctx.dirty += 1;
    ctx.notify('g', "copy_to", args[2]);
    ctx.reply.integer(1);
    Ok(())
}

/// Parses FLUSHALL/FLUSHDB's optional ASYNC|SYNC: true to free the keys
/// on the lazyfree thread (ASYNC, or no argument under
/// lazyfree-lazy-user-flush).
fn flush_is_async(args: &[&[u8]]) -> Result<bool, CmdError> {
    match args.get(1).map(|a| a.to_ascii_uppercase()) {
        None => Ok(crate::lazyfree::USER_FLUSH.load(std::sync::atomic::Ordering::Relaxed)),
        Some(a) if args.len() == 2 && a == b"ASYNC" => Ok(true),
        Some(a) if args.len() == 2 && a == b"SYNC" => Ok(false),
        _ => Err(CmdError::Syntax),
    }
}

/// Empties `db`, freeing its keys here or on the lazyfree thread.
fn flush_db(db: &mut crate::store::Db, lazily: bool) {
    if lazily && !db.is_empty() {
        let keys = db.len() as u64;
        crate::lazyfree::free_tables(db.take_tables(), keys);
    } else {
        db.clear();
    }
}

/// FLUSHDB [ASYNC|SYNC] — `+OK`; empties the selected database.
fn flushdb_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let lazily = flush_is_async(args)?;
    let db = ctx.db_mut(store);
    ctx.dirty += db.len() as u64;
    flush_db(db, lazily);
    ctx.reply.ok();
    Ok(())
}

/// FLUSHALL [ASYNC|SYNC] — `+OK`; empties every database.
fn flushall_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let lazily = flush_is_async(args)?;
    ctx.dirty += store.total_keys() as u64 + 1;
    for db in store.dbs.iter_mut() {
        flush_db(db, lazily);
    }
    if crate::persistence::save_after_flushall(ctx.server, store) {
        // The save reset the counter, and (as in Redis 7.0.15) the saved
        // empty dataset leaves nothing to save. The FLUSHALL is still
        // logged and replicated: it always is (aof/rules.rs).
        ctx.dirty = 0;
    }
    ctx.reply.ok();
    Ok(())
}

/// SWAPDB index1 index2 — `+OK`; clients see the other database's data.
fn swapdb_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let a = parse_db_index(args[1], store, "invalid first DB index")?;
    let b = parse_db_index(args[2], store, "invalid second DB index")?;
    if a != b {
        let (lo, hi) = (a.min(b), a.max(b));
        let (left, right) = store.dbs.split_at_mut(hi);
        left[lo].swap_contents(&mut right[0]);
        ctx.dirty += 1;
    }
    ctx.reply.ok();
    Ok(())
}

/// Redis's encoding name for a value (OBJECT ENCODING).
pub fn encoding_name(value: &Value) -> &'static str {
    match value {
        Value::Str(s) => s.encoding(),
        Value::List(_) => "quicklist",
        Value::Hash(h) => h.encoding(),
        Value::Set(s) => s.encoding(),
        Value::ZSet(z) => z.encoding(),
        Value::Stream(_) => "stream",
    }
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

/// OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key, OBJECT HELP.
fn object_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    super::server::check_subcommand("object", super::server::OBJECT_SUBCOMMANDS, args)?;
    let sub = args[1].to_ascii_uppercase();
    if sub == b"HELP" {
        ctx.reply.array(OBJECT_HELP.len());
        for line in OBJECT_HELP {
            ctx.reply.simple(line);
        }
        return Ok(());
    }
    let lfu = crate::store::lru::lfu_policy();
    let Some(entry) = ctx.db(store).peek(args[2], ctx.now_ms) else {
        ctx.reply.null();
        return Ok(());
    };
    match sub.as_slice() {
        b"ENCODING" => ctx.reply.bulk(encoding_name(&entry.value).as_bytes()),
        b"REFCOUNT" => {
            // Redis shares the integers 0..9999 between keys, except under
            // an LRU/LFU maxmemory policy (each key needs its own clock).
            let shared = !crate::evict::no_shared_integers()
                && matches!(&entry.value, Value::Str(s) if s.encoding() == "int"
                && parse_i64(s).is_some_and(|n| (0..10000).contains(&n)));
            ctx.reply.integer(if shared { i32::MAX as i64 } else { 1 });
        }
        b"IDLETIME" => {
            if lfu {
                return Err(CmdError::err("An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
            }
            ctx.reply.integer(entry.access.idle_ms(ctx.now_ms) / 1000);
        }
        _ => {
            if !lfu {
                return Err(CmdError::err("An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."));
            }
            ctx.reply.integer(entry.access.freq(ctx.now_ms) as i64);
        }
    }
    Ok(())
}
