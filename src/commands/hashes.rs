//! Hash commands: HSET and friends, counters, HRANDFIELD, HSCAN (Redis's
//! t_hash.c).
//!
//! The hash type itself, with its listpack/hashtable encodings, lives in
//! `store/hash.rs`; this file looks keys up, checks their type, and turns
//! arguments into calls on [`Hash`](struct@Hash). The encoding limits are
//! read by each insert ([`Hash::insert`] uses a copy of CONFIG), so
//! `CONFIG SET hash-max-listpack-entries` takes effect on the next write, as
//! in Redis.
//!
//! As everywhere, a handler validates every argument before it creates or
//! changes a key, and a hash whose last field is deleted is deleted too
//! (Redis never stores an empty collection).

use std::collections::HashSet;

use super::keys::{parse_scan_options, reply_scan};
use super::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::number::{format_incr_float, parse_f64, parse_i64};
use crate::store::glob::glob_match;
use crate::store::hash::Hash;
use crate::store::{Db, Store, Value};
use crate::util::random_below;

use Handler::{Read, Write};

/// The hash family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd(
        "hset",
        -4,
        "write denyoom fast",
        (1, 1, 1),
        Group::Hash,
        "key field value [field value ...]",
        "Set the string value of a hash field",
        Write(hset_command),
    ),
    cmd(
        "hsetnx",
        4,
        "write denyoom fast",
        (1, 1, 1),
        Group::Hash,
        "key field value",
        "Set the value of a hash field, only if the field does not exist",
        Write(hsetnx_command),
    ),
    cmd(
        "hmset",
        -4,
        "write denyoom fast",
        (1, 1, 1),
        Group::Hash,
        "key field value [field value ...]",
        "Set multiple hash fields to multiple values",
        Write(hmset_command),
    ),
    cmd(
        "hget",
        3,
        "readonly fast",
        (1, 1, 1),
        Group::Hash,
        "key field",
        "Get the value of a hash field",
        Read(hget_command),
    ),
    cmd(
        "hmget",
        -3,
        "readonly fast",
        (1, 1, 1),
        Group::Hash,
        "key field [field ...]",
        "Get the values of all the given hash fields",
        Read(hmget_command),
    ),
    cmd(
        "hdel",
        -3,
        "write fast",
        (1, 1, 1),
        Group::Hash,
        "key field [field ...]",
        "Delete one or more hash fields",
        Write(hdel_command),
    ),
    cmd(
        "hlen",
        2,
        "readonly fast",
        (1, 1, 1),
        Group::Hash,
        "key",
        "Get the number of fields in a hash",
        Read(hlen_command),
    ),
    cmd(
        "hstrlen",
        3,
        "readonly fast",
        (1, 1, 1),
        Group::Hash,
        "key field",
        "Get the length of the value of a hash field",
        Read(hstrlen_command),
    ),
    cmd(
        "hexists",
        3,
        "readonly fast",
        (1, 1, 1),
        Group::Hash,
        "key field",
        "Determine if a hash field exists",
        Read(hexists_command),
    ),
    cmd(
        "hkeys",
        2,
        "readonly",
        (1, 1, 1),
        Group::Hash,
        "key",
        "Get all the fields in a hash",
        Read(hkeys_command),
    ),
    cmd(
        "hvals",
        2,
        "readonly",
        (1, 1, 1),
        Group::Hash,
        "key",
        "Get all the values in a hash",
        Read(hvals_command),
    ),
    cmd(
        "hgetall",
        2,
        "readonly",
        (1, 1, 1),
        Group::Hash,
        "key",
        "Get all the fields and values in a hash",
        Read(hgetall_command),
    ),
    cmd(
        "hincrby",
        4,
        "write denyoom fast",
        (1, 1, 1),
        Group::Hash,
        "key field increment",
        "Increment the integer value of a hash field by the given number",
        Write(hincrby_command),
    ),
    cmd(
        "hincrbyfloat",
        4,
        "write denyoom fast",
        (1, 1, 1),
        Group::Hash,
        "key field increment",
        "Increment the float value of a hash field by the given amount",
        Write(hincrbyfloat_command),
    ),
    cmd(
        "hrandfield",
        -2,
        "readonly",
        (1, 1, 1),
        Group::Hash,
        "key [count [WITHVALUES]]",
        "Get one or multiple random fields from a hash",
        Read(hrandfield_command),
    ),
    cmd(
        "hscan",
        -3,
        "readonly",
        (1, 1, 1),
        Group::Hash,
        "key cursor [MATCH pattern] [COUNT count]",
        "Incrementally iterate hash fields and associated values",
        Read(hscan_command),
    ),
];

/// The hash stored at `key`; None when absent; WRONGTYPE for other types.
pub fn get_hash<'a>(db: &'a Db, key: &[u8], now_ms: i64) -> Result<Option<&'a Hash>, CmdError> {
    match db.get_value(key, now_ms) {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The hash stored at `key` for writing (expired keys are deleted first);
/// None when absent; WRONGTYPE for other types.
fn get_hash_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    now_ms: i64,
) -> Result<Option<&'a mut Hash>, CmdError> {
    match db.get_value_mut(key, now_ms) {
        None => Ok(None),
        Some(Value::Hash(h)) => Ok(Some(h)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The hash at `key`, created empty when absent (Redis's
/// `hashTypeLookupWriteOrCreate`).
/// Callers only use it once the command is certain to add a field.
fn hash_or_create<'a>(db: &'a mut Db, key: &[u8], now_ms: i64) -> Result<&'a mut Hash, CmdError> {
    if get_hash_mut(db, key, now_ms)?.is_none() {
        db.set(key, Value::Hash(Hash::new()), now_ms);
    }
    Ok(get_hash_mut(db, key, now_ms)?.expect("the key was just made a hash"))
}

/// The shared body of HSET and HMSET: sets every pair, returns how many
/// fields were new.
fn hset_generic(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
    name: &str,
) -> Result<i64, CmdError> {
    if args.len() % 2 == 1 {
        return Err(CmdError::WrongArity(name.to_string()));
    }
    let db = ctx.db_mut(store);
    let hash = hash_or_create(db, args[1], ctx.now_ms)?;
    let mut created = 0;
    for pair in args[2..].chunks_exact(2) {
        created += hash.insert(pair[0], pair[1]) as i64;
    }
    ctx.notify('h', "hset", args[1]);
    ctx.dirty += (args.len() as u64 - 2) / 2;
    Ok(created)
}

/// HSET key field value [field value ...] — integer: the number of fields
/// that were added (updated ones do not count).
fn hset_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let created = hset_generic(ctx, store, args, "hset")?;
    ctx.reply.integer(created);
    Ok(())
}

/// HMSET key field value [field value ...] — `+OK` (deprecated HSET).
fn hmset_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    hset_generic(ctx, store, args, "hmset")?;
    ctx.reply.ok();
    Ok(())
}

/// HSETNX key field value — integer: 1 if the field was set, 0 if it
/// already existed.
fn hsetnx_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let db = ctx.db_mut(store);
    if get_hash_mut(db, args[1], ctx.now_ms)?.is_some_and(|h| h.contains(args[2])) {
        ctx.reply.integer(0);
        return Ok(());
    }
    hash_or_create(db, args[1], ctx.now_ms)?.insert(args[2], args[3]);
    ctx.notify('h', "hset", args[1]);
    ctx.dirty += 1;
    ctx.reply.integer(1);
    Ok(())
}

/// HGET key field — bulk string, or null when the key or field is absent.
fn hget_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    match get_hash(ctx.db(store), args[1], ctx.now_ms)?.and_then(|h| h.get(args[2])) {
        Some(v) => ctx.reply.bulk(v),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// HMGET key field [field ...] — array of values, null for each absent
/// field (all null when the key is absent).
fn hmget_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let hash = get_hash(ctx.db(store), args[1], ctx.now_ms)?;
    ctx.reply.array(args.len() - 2);
    for field in &args[2..] {
        match hash.and_then(|h| h.get(field)) {
            Some(v) => ctx.reply.bulk(v),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

/// HDEL key field [field ...] — integer: the number of fields removed. The
/// key is deleted with its last field.
fn hdel_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let db = ctx.db_mut(store);
    let Some(hash) = get_hash_mut(db, args[1], ctx.now_ms)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let mut deleted = 0;
    for field in &args[2..] {
        if hash.remove(field) {
            deleted += 1;
            if hash.is_empty() {
                break;
            }
        }
    }
    let key_removed = hash.is_empty();
    if key_removed {
        db.remove(args[1]);
    }
    if deleted > 0 {
        ctx.notify('h', "hdel", args[1]);
        if key_removed {
            ctx.notify('g', "del", args[1]);
        }
        ctx.dirty += deleted;
    }
    ctx.reply.integer(deleted as i64);
    Ok(())
}

/// HLEN key — integer: the number of fields (0 when absent).
fn hlen_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let n = get_hash(ctx.db(store), args[1], ctx.now_ms)?.map_or(0, Hash::len);
    ctx.reply.integer(n as i64);
    Ok(())
}

/// HSTRLEN key field — integer: the length of the value (0 when absent).
fn hstrlen_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let n = get_hash(ctx.db(store), args[1], ctx.now_ms)?
        .and_then(|h| h.get(args[2]))
        .map_or(0, <[u8]>::len);
    ctx.reply.integer(n as i64);
    Ok(())
}

/// HEXISTS key field — integer: 1 if the field exists, else 0.
fn hexists_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let found = get_hash(ctx.db(store), args[1], ctx.now_ms)?.is_some_and(|h| h.contains(args[2]));
    ctx.reply.integer(found as i64);
    Ok(())
}

/// What HKEYS, HVALS and HGETALL list.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parts {
    Fields,
    Values,
    Both,
}

/// The shared body of HKEYS, HVALS and HGETALL (Redis's
/// `genericHgetallCommand`): an array, or a map for HGETALL.
fn hgetall_generic(ctx: &mut Ctx, store: &Store, key: &[u8], parts: Parts) -> CmdResult {
    let hash = get_hash(ctx.db(store), key, ctx.now_ms)?;
    let len = hash.map_or(0, Hash::len);
    if parts == Parts::Both {
        ctx.reply.map(len);
    } else {
        ctx.reply.array(len);
    }
    for (field, value) in hash.into_iter().flat_map(Hash::iter) {
        if parts != Parts::Values {
            ctx.reply.bulk(field);
        }
        if parts != Parts::Fields {
            ctx.reply.bulk(value);
        }
    }
    Ok(())
}

/// HKEYS key — array of every field (empty when absent).
fn hkeys_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    hgetall_generic(ctx, store, args[1], Parts::Fields)
}

/// HVALS key — array of every value (empty when absent).
fn hvals_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    hgetall_generic(ctx, store, args[1], Parts::Values)
}

/// HGETALL key — map of fields to values (a flat array in RESP2; empty
/// when absent).
fn hgetall_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    hgetall_generic(ctx, store, args[1], Parts::Both)
}

/// HINCRBY key field increment — integer: the new value. An absent field
/// counts as 0; a value that is not an integer is "ERR hash value is not an
/// integer"; a result outside i64 is "ERR increment or decrement would
/// overflow".
fn hincrby_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let incr = parse_i64(args[3]).ok_or(CmdError::NotInteger)?;
    let db = ctx.db_mut(store);
    let old = match get_hash_mut(db, args[1], ctx.now_ms)?.and_then(|h| h.get(args[2])) {
        Some(v) => parse_i64(v).ok_or_else(|| CmdError::err("hash value is not an integer"))?,
        None => 0,
    };
    let new = old.checked_add(incr).ok_or(CmdError::Overflow)?;
    let text = new.to_string();
    hash_or_create(db, args[1], ctx.now_ms)?.insert(args[2], text.as_bytes());
    ctx.notify('h', "hincrby", args[1]);
    ctx.dirty += 1;
    ctx.reply.integer(new);
    Ok(())
}

/// HINCRBYFLOAT key field increment — bulk string: the new value, printed
/// like INCRBYFLOAT. An absent field counts as 0; a value that is not a
/// number is "ERR hash value is not a float"; an infinite increment or
/// result is refused.
fn hincrbyfloat_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let incr = parse_f64(args[3]).ok_or(CmdError::NotFloat)?;
    if !incr.is_finite() {
        return Err(CmdError::err("value is NaN or Infinity"));
    }
    let db = ctx.db_mut(store);
    let old = match get_hash_mut(db, args[1], ctx.now_ms)?.and_then(|h| h.get(args[2])) {
        Some(v) => parse_f64(v).ok_or_else(|| CmdError::err("hash value is not a float"))?,
        None => 0.0,
    };
    let new = old + incr;
    if !new.is_finite() {
        return Err(CmdError::err("increment would produce NaN or Infinity"));
    }
    let text = format_incr_float(new);
    hash_or_create(db, args[1], ctx.now_ms)?.insert(args[2], text.as_bytes());
    ctx.notify('h', "hincrbyfloat", args[1]);
    ctx.dirty += 1;
    ctx.reply.bulk(text.as_bytes());
    Ok(())
}

/// Writes one HRANDFIELD element: the field, or with WITHVALUES the field
/// and value (a two-element array in RESP3, two flat items in RESP2).
fn reply_field(ctx: &mut Ctx, field: &[u8], value: &[u8], with_values: bool) {
    if with_values && ctx.reply.resp3() {
        ctx.reply.array(2);
    }
    ctx.reply.bulk(field);
    if with_values {
        ctx.reply.bulk(value);
    }
}

/// How many times bigger than the count a hash must be for HRANDFIELD to
/// pick fields at random rather than copy the hash and drop fields
/// (Redis's HRANDFIELD_SUB_STRATEGY_MUL).
const SUB_STRATEGY_MUL: u64 = 3;

/// The range error of a count that cannot be negated.
pub(super) fn count_range_error() -> CmdError {
    CmdError::err(format!(
        "value is out of range, value must between {} and {}",
        -i64::MAX,
        i64::MAX
    ))
}

/// HRANDFIELD key [count [WITHVALUES]] — without count: a random field
/// (bulk), or null when the key is absent. With count: an array of up to
/// `count` distinct fields, or with a negative count exactly `-count`
/// fields that may repeat; WITHVALUES adds each value (RESP3: pairs).
fn hrandfield_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    if args.len() == 2 {
        match get_hash(ctx.db(store), args[1], ctx.now_ms)?.and_then(Hash::random_pair) {
            Some((field, _)) => ctx.reply.bulk(&field),
            None => ctx.reply.null(),
        }
        return Ok(());
    }
    let count = parse_i64(args[2]).ok_or(CmdError::NotInteger)?;
    if count == i64::MIN {
        return Err(count_range_error());
    }
    let with_values = match args.get(3) {
        None => false,
        Some(opt) if args.len() == 4 && opt.eq_ignore_ascii_case(b"withvalues") => true,
        Some(_) => return Err(CmdError::Syntax),
    };
    // Twice the count must fit (one field and one value per element).
    if with_values && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
        return Err(CmdError::err("value is out of range"));
    }
    let Some(hash) = get_hash(ctx.db(store), args[1], ctx.now_ms)? else {
        ctx.reply.array(0);
        return Ok(());
    };
    let size = hash.len() as u64;
    let wanted = count.unsigned_abs();
    let items_per = if with_values && !ctx.reply.resp3() {
        2
    } else {
        1
    };
    if wanted == 0 {
        ctx.reply.array(0);
    } else if count < 0 || wanted == 1 {
        // Repeats allowed: independent uniform picks.
        ctx.reply.array(wanted as usize * items_per);
        for i in 0..wanted {
            // Stop once the client is over its output limit: it will be
            // closed and the reply dropped (Redis checks CLOSE_ASAP here).
            if i % 1024 == 0 && crate::client_memory::reply_over_output_limit(ctx.server, ctx.reply)
            {
                break;
            }
            if let Some((field, value)) = hash.random_pair() {
                reply_field(ctx, &field, &value, with_values);
            }
        }
    } else if wanted >= size {
        ctx.reply.array(size as usize * items_per);
        for (field, value) in hash.iter() {
            reply_field(ctx, field, value, with_values);
        }
    } else if wanted * SUB_STRATEGY_MUL > size {
        // Most of the hash: shuffle the first `wanted` places of a copy.
        let mut pairs: Vec<(&[u8], &[u8])> = hash.iter().collect();
        ctx.reply.array(wanted as usize * items_per);
        for i in 0..wanted as usize {
            let j = i + random_below(pairs.len() - i);
            pairs.swap(i, j);
            let (field, value) = pairs[i];
            reply_field(ctx, field, value, with_values);
        }
    } else {
        // A small part of a big hash: pick until enough distinct fields.
        ctx.reply.array(wanted as usize * items_per);
        let mut picked: HashSet<Vec<u8>> = HashSet::new();
        while (picked.len() as u64) < wanted {
            let Some((field, value)) = hash.random_pair() else {
                break;
            };
            if !picked.contains(&field) {
                reply_field(ctx, &field, &value, with_values);
                picked.insert(field);
            }
        }
    }
    Ok(())
}

/// Parses a SCAN-family cursor on its own (HSCAN/SSCAN check it before
/// the key, and the options only once the key exists, as Redis does).
pub(super) fn parse_cursor(arg: &[u8]) -> Result<u64, CmdError> {
    parse_scan_options(&[arg], false).map(|o| o.cursor)
}

/// The shared loop of HSCAN and SSCAN (Redis's `scanGenericCommand` for a
/// collection): calls `step` with the cursor until COUNT items were
/// gathered, ten times COUNT steps were taken, or the scan is done; then
/// drops the items whose name does not match MATCH. `step` pushes the
/// element name first and, for a hash, its value after it.
pub(super) fn scan_collection(
    ctx: &mut Ctx,
    options: &[&[u8]],
    cursor: u64,
    pairs: bool,
    mut step: impl FnMut(u64, &mut Vec<Vec<u8>>) -> u64,
) -> CmdResult {
    let mut with_cursor = vec![&b"0"[..]];
    with_cursor.extend_from_slice(options);
    let opts = parse_scan_options(&with_cursor, false)?;
    let mut items = Vec::new();
    let mut cursor = cursor;
    let mut steps = 0;
    loop {
        cursor = step(cursor, &mut items);
        steps += 1;
        if cursor == 0 || items.len() >= opts.count || steps >= opts.count * 10 {
            break;
        }
    }
    if let Some(pattern) = opts.pattern {
        let mut kept = Vec::with_capacity(items.len());
        let mut it = items.into_iter();
        while let Some(name) = it.next() {
            let value = if pairs { it.next() } else { None };
            if glob_match(pattern, &name, false) {
                kept.push(name);
                kept.extend(value);
            }
        }
        items = kept;
    }
    reply_scan(ctx, cursor, &items);
    Ok(())
}

/// HSCAN key cursor [MATCH pattern] [COUNT count] — the next cursor and a
/// flat array of fields and values. A listpack hash comes back whole, with
/// cursor 0.
fn hscan_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(args[2])?;
    let Some(hash) = get_hash(ctx.db(store), args[1], ctx.now_ms)? else {
        reply_scan(ctx, 0, &[]);
        return Ok(());
    };
    scan_collection(ctx, &args[3..], cursor, true, |c, items| {
        hash.scan(c, |f, v| {
            items.push(f.to_vec());
            items.push(v.to_vec());
        })
    })
}
