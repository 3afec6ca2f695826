//! String commands: SET and its family, GET, counters, ranges, LCS.
//!
//! A Redis string is a byte array that may also be read as an integer
//! (INCR), a float (INCRBYFLOAT) or a bitmap. The SET family shares one
//! body, `set_generic`, and the counters share `incr_generic`, as in
//! Redis's t_string.c. Options are parsed and validated completely before
//! the store is touched.

use super::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::number::{format_incr_float, parse_f64, parse_i64};
use crate::store::{Db, RString, Store, Value};

use Handler::{Read, Write};

/// The string family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd("get", 2, "readonly fast", (1, 1, 1), Group::String, "key", "Get the value of a key", Read(get_command)),
    cmd("set", -3, "write denyoom", (1, 1, 1), Group::String, "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]", "Set the string value of a key", Write(set_command)),
    cmd("setnx", 3, "write denyoom fast", (1, 1, 1), Group::String, "key value", "Set the value of a key, only if the key does not exist", Write(setnx_command)),
    cmd("setex", 4, "write denyoom", (1, 1, 1), Group::String, "key seconds value", "Set the value and expiration of a key", Write(setex_command)),
    cmd("psetex", 4, "write denyoom", (1, 1, 1), Group::String, "key milliseconds value", "Set the value and expiration in milliseconds of a key", Write(psetex_command)),
    cmd("getset", 3, "write denyoom fast", (1, 1, 1), Group::String, "key value", "Set the string value of a key and return its old value", Write(getset_command)),
    cmd("getdel", 2, "write fast", (1, 1, 1), Group::String, "key", "Get the value of a key and delete the key", Write(getdel_command)),
    cmd("getex", -2, "write fast", (1, 1, 1), Group::String, "key [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|PERSIST]", "Get the value of a key and optionally set its expiration", Write(getex_command)),
    cmd("mget", -2, "readonly fast", (1, -1, 1), Group::String, "key [key ...]", "Get the values of all the given keys", Read(mget_command)),
    cmd("mset", -3, "write denyoom", (1, -1, 2), Group::String, "key value [key value ...]", "Set multiple keys to multiple values", Write(mset_command)),
    cmd("msetnx", -3, "write denyoom", (1, -1, 2), Group::String, "key value [key value ...]", "Set multiple keys to multiple values, only if none of the keys exist", Write(msetnx_command)),
    cmd("append", 3, "write denyoom fast", (1, 1, 1), Group::String, "key value", "Append a value to a key", Write(append_command)),
    cmd("strlen", 2, "readonly fast", (1, 1, 1), Group::String, "key", "Get the length of the value stored in a key", Read(strlen_command)),
    cmd("getrange", 4, "readonly", (1, 1, 1), Group::String, "key start end", "Get a substring of the string stored at a key", Read(getrange_command)),
    cmd("substr", 4, "readonly", (1, 1, 1), Group::String, "key start end", "Get a substring of the string stored at a key", Read(getrange_command)),
    cmd("setrange", 4, "write denyoom", (1, 1, 1), Group::String, "key offset value", "Overwrite part of a string at key starting at the specified offset", Write(setrange_command)),
    cmd("incr", 2, "write denyoom fast", (1, 1, 1), Group::String, "key", "Increment the integer value of a key by one", Write(incr_command)),
    cmd("decr", 2, "write denyoom fast", (1, 1, 1), Group::String, "key", "Decrement the integer value of a key by one", Write(decr_command)),
    cmd("incrby", 3, "write denyoom fast", (1, 1, 1), Group::String, "key increment", "Increment the integer value of a key by the given amount", Write(incrby_command)),
    cmd("decrby", 3, "write denyoom fast", (1, 1, 1), Group::String, "key decrement", "Decrement the integer value of a key by the given number", Write(decrby_command)),
    cmd("incrbyfloat", 3, "write denyoom fast", (1, 1, 1), Group::String, "key increment", "Increment the float value of a key by the given amount", Write(incrbyfloat_command)),
    cmd("lcs", -3, "readonly", (1, 2, 1), Group::String, "key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]", "Find longest common substring", Read(lcs_command)),
];

/// Largest string a command may build (proto-max-bulk-len's default).
const STRING_MAX_BYTES: usize = 512 * 1024 * 1024;

/// The string stored at `key`; None when absent; WRONGTYPE for other types.
pub fn get_string<'a>(db: &'a Db, key: &[u8], now_ms: i64) -> Result<Option<&'a [u8]>, CmdError> {
    match db.get_value(key, now_ms) {
        None => Ok(None),
        Some(Value::Str(s)) => Ok(Some(s.as_bytes())),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// GET key — bulk string reply, or null when the key does not exist.
fn get_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    match get_string(ctx.db(store), args[1], ctx.now_ms)? {
        Some(v) => ctx.reply.bulk(v),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// Which existence condition a SET-like command has.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Condition {
    Always,
    IfAbsent,
    IfPresent,
}

/// How the expiry of the key changes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ExpireChange {
    /// SET without options: the key loses its TTL.
    Clear,
    /// KEEPTTL (and GETEX without options): untouched.
    Keep,
    /// GETEX PERSIST.
    Persist,
    /// A new absolute time in unix ms.
    At(i64),
}

/// Options of SET and GETEX after parsing.
struct SetOptions {
    condition: Condition,
    get: bool,
    expire: ExpireChange,
}

/// Turns an EX/PX/EXAT/PXAT argument into absolute unix ms, with Redis's
/// checks: an integer, positive, and no overflow on conversion.
fn expire_at_ms(
    arg: &[u8],
    unit_s: bool,
    absolute: bool,
    now_ms: i64,
    cmd: &'static str,
) -> Result<i64, CmdError> {
    let v = parse_i64(arg).ok_or(CmdError::NotInteger)?;
    if v <= 0 {
        return Err(CmdError::InvalidExpire(cmd));
    }
    let ms = if unit_s {
        v.checked_mul(1000).ok_or(CmdError::InvalidExpire(cmd))?
    } else {
        v
    };
    if absolute {
        Ok(ms)
    } else {
        ms.checked_add(now_ms).ok_or(CmdError::InvalidExpire(cmd))
    }
}

/// Parses the options after SET's value (`for_getex`: GETEX's options).
fn parse_set_options(args: &[&[u8]], now_ms: i64, for_getex: bool) -> Result<SetOptions, CmdError> {
    let cmd_name = if for_getex { "getex" } else { "set" };
    let mut opts = SetOptions {
        condition: Condition::Always,
        get: false,
        expire: if for_getex {
            ExpireChange::Keep
        } else {
            ExpireChange::Clear
        },
    };
    let mut expire_kind: Option<Vec<u8>> = None;
    let mut keepttl = false;
    let mut i = 0;
    while i < args.len() {
        let opt = args[i].to_ascii_uppercase();
        let next = args.get(i + 1);
        let expire_option = matches!(opt.as_slice(), b"EX" | b"PX" | b"EXAT" | b"PXAT");
        match opt.as_slice() {
            b"NX" if !for_getex && opts.condition != Condition::IfPresent => {
                opts.condition = Condition::IfAbsent
            }
            b"XX" if !for_getex && opts.condition != Condition::IfAbsent => {
                opts.condition = Condition::IfPresent
            }
            b"GET" if !for_getex => opts.get = true,
            b"KEEPTTL" if !for_getex && expire_kind.is_none() => keepttl = true,
            b"PERSIST" if for_getex && expire_kind.is_none() => opts.expire = ExpireChange::Persist,
            _ if expire_option
                && !keepttl
                && opts.expire != ExpireChange::Persist
                && expire_kind.as_ref().is_none_or(|k| *k == opt)
                && next.is_some() =>
            {
                let arg = next.copied().unwrap_or_default();
                let (unit_s, absolute) = match opt.as_slice() {
                    b"EX" => (true, false),
                    b"PX" => (false, false),
                    b"EXAT" => (true, true),
                    _ => (false, true),
                };
                expire_kind = Some(opt.clone());
                opts.expire =
                    ExpireChange::At(expire_at_ms(arg, unit_s, absolute, now_ms, cmd_name)?);
                i += 1;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    if keepttl {
        opts.expire = ExpireChange::Keep;
    }
    Ok(opts)
}

/// The shared body of SET, SETNX, SETEX, PSETEX and GETSET: stores `value`
/// under `key` when `opts.condition` holds. Returns whether it stored, and
/// writes the reply for the GET option (the old value) when asked.
fn set_generic(
    ctx: &mut Ctx,
    db: &mut Db,
    key: &[u8],
    value: &[u8],
    opts: &SetOptions,
) -> Result<bool, CmdError> {
    let now = ctx.now_ms;
    // Plain SET needs no lookup before the insert (one hash, not three);
    // Db::set_with_expire still counts an expired old value as expired.
    let blind = !opts.get
        && opts.condition == Condition::Always
        && match opts.expire {
            ExpireChange::Clear => true,
            ExpireChange::At(at) => at > now,
            _ => false,
        };
    let mut exists = false;
    if !blind {
        let old = db.get_mut(key, now);
        exists = old.is_some();
        if opts.get {
            match old.map(|e| &e.value) {
                Some(Value::Str(s)) => {
                    let bytes = s.to_vec();
                    ctx.reply.bulk(&bytes);
                }
                Some(_) => return Err(CmdError::WrongType),
                None => ctx.reply.null(),
            }
        }
    }
    let allowed = match opts.condition {
        Condition::Always => true,
        Condition::IfAbsent => !exists,
        Condition::IfPresent => exists,
    };
    if !allowed {
        return Ok(false);
    }
    let v = Value::Str(RString::from_slice(value));
    match opts.expire {
        ExpireChange::Keep => db.set_keep_ttl(key, v, now),
        ExpireChange::At(at) if at <= now => {
            // Already expired: Redis stores and deletes at once.
            db.remove(key);
        }
        ExpireChange::At(at) => db.set_with_expire(key, v, at, now),
        ExpireChange::Clear | ExpireChange::Persist => db.set(key, v, now),
    }
    ctx.dirty += 1;
    ctx.notify('$', "set", key);
    if let ExpireChange::At(at) = opts.expire {
        ctx.notify('g', if at <= now { "del" } else { "expire" }, key);
    }
    Ok(true)
}

/// SET key value [NX|XX] [GET] [EX|PX|EXAT|PXAT time|KEEPTTL] — `+OK`, or
/// null when NX/XX prevented the write; with GET, the old value instead.
fn set_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let opts = parse_set_options(&args[3..], ctx.now_ms, false)?;
    let db = ctx.db_mut(store);
    let stored = set_generic(ctx, db, args[1], args[2], &opts)?;
    if !opts.get {
        if stored {
            ctx.reply.ok();
        } else {
            ctx.reply.null();
        }
    }
    Ok(())
}

/// SETNX key value — integer: 1 if set, 0 if the key existed.
fn setnx_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let opts = SetOptions {
        condition: Condition::IfAbsent,
        get: false,
        expire: ExpireChange::Clear,
    };
    let db = ctx.db_mut(store);
    let stored = set_generic(ctx, db, args[1], args[2], &opts)?;
    ctx.reply.integer(stored as i64);
    Ok(())
}

fn setex_generic(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
    unit_s: bool,
    name: &'static str,
) -> CmdResult {
    let at = expire_at_ms(args[2], unit_s, false, ctx.now_ms, name)?;
    let opts = SetOptions {
        condition: Condition::Always,
        get: false,
        expire: ExpireChange::At(at),
    };
    let db = ctx.db_mut(store);
    set_generic(ctx, db, args[1], args[3], &opts)?;
    ctx.reply.ok();
    Ok(())
}

/// SETEX key seconds value — `+OK`.
fn setex_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    setex_generic(ctx, store, args, true, "setex")
}

/// PSETEX key milliseconds value — `+OK`.
fn psetex_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    setex_generic(ctx, store, args, false, "psetex")
}

/// GETSET key value — the old value, or null.
fn getset_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let opts = SetOptions {
        condition: Condition::Always,
        get: true,
        expire: ExpireChange::Clear,
    };
    let db = ctx.db_mut(store);
    set_generic(ctx, db, args[1], args[2], &opts)?;
    Ok(())
}

/// GETDEL key — the value (deleted), or null.
fn getdel_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let db = ctx.db_mut(store);
    match get_string(db, args[1], ctx.now_ms)? {
        None => ctx.reply.null(),
        Some(v) => {
            ctx.reply.bulk(v);
            db.remove(args[1]);
            ctx.dirty += 1;
            ctx.notify('g', "del", args[1]);
        }
    }
    Ok(())
}

/// GETEX key [EX|PX|EXAT|PXAT time|PERSIST] — the value, or null; changes the TTL.
fn getex_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let opts = parse_set_options(&args[2..], ctx.now_ms, true)?;
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    db.expire_if_needed(args[1], now);
    let Some(v) = get_string(db, args[1], now)? else {
        ctx.reply.null();
        return Ok(());
    };
    ctx.reply.bulk(v);
    match opts.expire {
        ExpireChange::At(at) if at <= now => {
            db.remove(args[1]);
            ctx.dirty += 1;
            ctx.notify('g', "del", args[1]);
        }
        ExpireChange::At(at) => {
            db.set_expire(args[1], at, now);
            ctx.dirty += 1;
            ctx.notify('g', "expire", args[1]);
        }
        ExpireChange::Persist if db.persist(args[1], now) => {
            ctx.dirty += 1;
            ctx.notify('g', "persist", args[1]);
        }
        _ => {}
    }
    Ok(())
}

/// MGET key [key ...] — an array of values, null for missing or non-string keys.
fn mget_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let db = ctx.db(store);
    ctx.reply.array(args.len() - 1);
    for key in &args[1..] {
        match db.get_value(key, ctx.now_ms) {
            Some(Value::Str(s)) => ctx.reply.bulk(s),
            _ => ctx.reply.null(),
        }
    }
    Ok(())
}

fn mset_generic(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
    only_if_none: bool,
) -> Result<bool, CmdError> {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity(
            if only_if_none { "msetnx" } else { "mset" }.into(),
        ));
    }
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    if only_if_none && args[1..].chunks(2).any(|kv| db.contains(kv[0], now)) {
        return Ok(false);
    }
    for kv in args[1..].chunks(2) {
        db.set(kv[0], Value::Str(RString::from_slice(kv[1])), now);
        ctx.notify('$', "set", kv[0]);
    }
    ctx.dirty += (args.len() / 2) as u64;
    Ok(true)
}

/// MSET key value [key value ...] — `+OK`.
fn mset_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    mset_generic(ctx, store, args, false)?;
    ctx.reply.ok();
    Ok(())
}

/// MSETNX key value [key value ...] — 1 if all were set, 0 if any key existed.
fn msetnx_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let done = mset_generic(ctx, store, args, true)?;
    ctx.reply.integer(done as i64);
    Ok(())
}

fn check_string_length(len: usize) -> CmdResult {
    if len > STRING_MAX_BYTES {
        Err(CmdError::err(
            "string exceeds maximum allowed size (proto-max-bulk-len)",
        ))
    } else {
        Ok(())
    }
}

/// APPEND key value — the length after the append.
fn append_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let len = match db.get_value_mut(args[1], now) {
        None => {
            db.set(args[1], Value::Str(RString::from_slice(args[2])), now);
            args[2].len()
        }
        Some(Value::Str(s)) => {
            check_string_length(s.len() + args[2].len())?;
            let bytes = s.make_raw();
            bytes.extend_from_slice(args[2]);
            bytes.len()
        }
        Some(_) => return Err(CmdError::WrongType),
    };
    ctx.dirty += 1;
    ctx.notify('$', "append", args[1]);
    ctx.reply.integer(len as i64);
    Ok(())
}

/// STRLEN key — the length, 0 for a missing key.
fn strlen_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let len = get_string(ctx.db(store), args[1], ctx.now_ms)?.map_or(0, |v| v.len());
    ctx.reply.integer(len as i64);
    Ok(())
}

/// GETRANGE key start end — the substring (inclusive, negative from the end).
fn getrange_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let start = parse_i64(args[2]).ok_or(CmdError::NotInteger)?;
    let end = parse_i64(args[3]).ok_or(CmdError::NotInteger)?;
    let value = get_string(ctx.db(store), args[1], ctx.now_ms)?.unwrap_or_default();
    let len = value.len() as i64;
    if (start < 0 && end < 0 && start > end) || len == 0 {
        ctx.reply.bulk(b"");
        return Ok(());
    }
    let start = if start < 0 {
        (len + start).max(0)
    } else {
        start
    };
    let end = if end < 0 {
        (len + end).max(0)
    } else {
        end.min(len - 1)
    };
    if start > end || start >= len {
        ctx.reply.bulk(b"");
    } else {
        ctx.reply.bulk(&value[start as usize..=end as usize]);
    }
    Ok(())
}

/// SETRANGE key offset value — the length after the write; zero-pads.
fn setrange_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let offset = parse_i64(args[2]).ok_or(CmdError::NotInteger)?;
    if offset < 0 {
        return Err(CmdError::err("offset is out of range"));
    }
    let offset = offset as usize;
    let patch = args[3];
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let len = match db.get_value_mut(args[1], now) {
        None => {
            if patch.is_empty() {
                ctx.reply.integer(0);
                return Ok(());
            }
            check_string_length(offset + patch.len())?;
            // Exactly sized, as Redis creates it (growing a zeroed Vec
            // would double its capacity).
            let mut bytes = Vec::with_capacity(offset + patch.len());
            bytes.resize(offset, 0);
            bytes.extend_from_slice(patch);
            let len = bytes.len();
            db.set(args[1], Value::Str(RString::raw(bytes)), now);
            len
        }
        Some(Value::Str(s)) => {
            if patch.is_empty() {
                ctx.reply.integer(s.len() as i64);
                return Ok(());
            }
            check_string_length(offset + patch.len())?;
            let bytes = s.make_raw();
            if bytes.len() < offset + patch.len() {
                bytes.resize(offset + patch.len(), 0);
            }
            bytes[offset..offset + patch.len()].copy_from_slice(patch);
            bytes.len()
        }
        Some(_) => return Err(CmdError::WrongType),
    };
    ctx.dirty += 1;
    ctx.notify('$', "setrange", args[1]);
    ctx.reply.integer(len as i64);
    Ok(())
}

/// The shared body of INCR, DECR, INCRBY and DECRBY.
fn incr_generic(ctx: &mut Ctx, store: &mut Store, key: &[u8], delta: i64) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    // One lookup; an existing counter is rewritten in place (no allocation).
    let new = match db.get_mut(key, now) {
        None => {
            let mut text = Vec::with_capacity(20);
            crate::resp::writer::push_i64(&mut text, delta);
            db.set(key, Value::string(text), now);
            delta
        }
        Some(entry) => {
            let Value::Str(s) = &mut entry.value else {
                return Err(CmdError::WrongType);
            };
            let current = parse_i64(s).ok_or(CmdError::NotInteger)?;
            let new = current.checked_add(delta).ok_or(CmdError::Overflow)?;
            s.set_integer(new);
            new
        }
    };
    ctx.dirty += 1;
    ctx.notify('$', "incrby", key);
    ctx.reply.integer(new);
    Ok(())
}

/// INCR key — the value after adding one.
fn incr_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    incr_generic(ctx, store, args[1], 1)
}

/// DECR key — the value after subtracting one.
fn decr_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    incr_generic(ctx, store, args[1], -1)
}

/// INCRBY key increment — the value after the addition.
fn incrby_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let delta = parse_i64(args[2]).ok_or(CmdError::NotInteger)?;
    incr_generic(ctx, store, args[1], delta)
}

/// DECRBY key decrement — the value after the subtraction.
fn decrby_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let delta = parse_i64(args[2]).ok_or(CmdError::NotInteger)?;
    if delta == i64::MIN {
        return Err(CmdError::err("decrement would overflow"));
    }
    incr_generic(ctx, store, args[1], -delta)
}

/// INCRBYFLOAT key increment — the new value as a bulk string.
fn incrbyfloat_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let delta = parse_f64(args[2]).ok_or(CmdError::NotFloat)?;
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let current = match db.get_value(args[1], now) {
        None => 0.0,
        Some(Value::Str(s)) => parse_f64(s).ok_or(CmdError::NotFloat)?,
        Some(_) => return Err(CmdError::WrongType),
    };
    let new = current + delta;
    if !new.is_finite() {
        return Err(CmdError::err("increment would produce NaN or Infinity"));
    }
    let text = format_incr_float(new);
    db.set_keep_ttl(args[1], Value::string(text.as_bytes()), now);
    ctx.dirty += 1;
    ctx.notify('$', "incrbyfloat", args[1]);
    ctx.reply.bulk(text.as_bytes());
    Ok(())
}

/// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN] — the longest
/// common subsequence, its length, or the matching ranges.
fn lcs_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let (mut want_len, mut want_idx, mut with_len) = (false, false, false);
    let mut min_len: i64 = 0;
    let mut i = 3;
    while i < args.len() {
        match args[i].to_ascii_uppercase().as_slice() {
            b"LEN" => want_len = true,
            b"IDX" => want_idx = true,
            b"WITHMATCHLEN" => with_len = true,
            b"MINMATCHLEN" if i + 1 < args.len() => {
                min_len = parse_i64(args[i + 1]).ok_or(CmdError::NotInteger)?.max(0);
                i += 1;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    let db = ctx.db(store);
    let fetch = |key: &[u8]| match db.get_value(key, ctx.now_ms) {
        None => Ok(&[][..]),
        Some(Value::Str(s)) => Ok(s.as_bytes()),
        Some(_) => Err(CmdError::err(
            "The specified keys must contain string values",
        )),
    };
    let a = fetch(args[1])?;
    let b = fetch(args[2])?;
    if want_len && want_idx {
        return Err(CmdError::err(
            "If you want both the length and indexes, please just use IDX.",
        ));
    }
    // Dynamic programming table of LCS lengths of every prefix pair.
    let (n, m) = (a.len(), b.len());
    let cells = (n + 1).checked_mul(m + 1).filter(|&c| c <= 1 << 32);
    let Some(cells) = cells else {
        return Err(CmdError::err(
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len",
        ));
    };
    let mut dp = vec![0u32; cells];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in 1..=n {
        for j in 1..=m {
            dp[at(i, j)] = if a[i - 1] == b[j - 1] {
                dp[at(i - 1, j - 1)] + 1
            } else {
                dp[at(i - 1, j)].max(dp[at(i, j - 1)])
            };
        }
    }
    let total = dp[at(n, m)] as usize;
    if want_len {
        ctx.reply.integer(total as i64);
        return Ok(());
    }
    // Walk back from the end, collecting the string and the match ranges.
    let mut result = vec![0u8; total];
    let mut ranges: Vec<((usize, usize), (usize, usize))> = Vec::new();
    let (mut i, mut j, mut idx) = (n, m, total);
    let mut current: Option<((usize, usize), (usize, usize))> = None;
    while i > 0 && j > 0 {
        if a[i - 1] == b[j - 1] {
            idx -= 1;
            result[idx] = a[i - 1];
            match &mut current {
                Some(((a_start, _), (b_start, _))) if *a_start == i && *b_start == j => {
                    *a_start = i - 1;
                    *b_start = j - 1;
                }
                _ => {
                    if let Some(r) = current.take() {
                        ranges.push(r);
                    }
                    current = Some(((i - 1, i - 1), (j - 1, j - 1)));
                }
            }
            i -= 1;
            j -= 1;
        } else if dp[at(i - 1, j)] > dp[at(i, j - 1)] {
            i -= 1;
        } else {
            j -= 1;
        }
    }
    if let Some(r) = current.take() {
        ranges.push(r);
    }
    if !want_idx {
        ctx.reply.bulk(&result);
        return Ok(());
    }
    let kept: Vec<_> = ranges
        .into_iter()
        .filter(|((s, e), _)| (e - s + 1) as i64 >= min_len)
        .collect();
    ctx.reply.map(2);
    ctx.reply.bulk(b"matches");
    ctx.reply.array(kept.len());
    for ((a0, a1), (b0, b1)) in kept {
        ctx.reply.array(if with_len { 3 } else { 2 });
        ctx.reply.array(2);
        ctx.reply.integer(a0 as i64);
        ctx.reply.integer(a1 as i64);
        ctx.reply.array(2);
        ctx.reply.integer(b0 as i64);
        ctx.reply.integer(b1 as i64);
        if with_len {
            ctx.reply.integer((a1 - a0 + 1) as i64);
        }
    }
    ctx.reply.bulk(b"len");
    ctx.reply.integer(total as i64);
    Ok(())
}
