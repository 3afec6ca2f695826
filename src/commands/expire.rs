//! Expiry commands: EXPIRE and friends, TTL and friends, PERSIST.
//!
//! Every TTL is stored as an absolute unix time in milliseconds; relative
//! forms are converted here, once, with Redis's overflow checks. A time in
//! the past deletes the key at once (and counts as a change), as Redis does.
//! The lazy and active deletion of expired keys is in store/mod.rs and
//! expire.rs.

use super::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::store::{Store, NO_EXPIRE};

use Handler::{Read, Write};

/// The expiry family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd(
        "expire",
        -3,
        "write fast",
        (1, 1, 1),
        Group::Generic,
        "key seconds [NX|XX|GT|LT]",
        "Set a key's time to live in seconds",
        Write(expire_command),
    ),
    cmd(
        "pexpire",
        -3,
        "write fast",
        (1, 1, 1),
        Group::Generic,
        "key milliseconds [NX|XX|GT|LT]",
        "Set a key's time to live in milliseconds",
        Write(pexpire_command),
    ),
    cmd(
        "expireat",
        -3,
        "write fast",
        (1, 1, 1),
        Group::Generic,
        "key unix-time-seconds [NX|XX|GT|LT]",
        "Set the expiration for a key as a UNIX timestamp",
        Write(expireat_command),
    ),
    cmd(
        "pexpireat",
        -3,
        "write fast",
        (1, 1, 1),
        Group::Generic,
        "key unix-time-milliseconds [NX|XX|GT|LT]",
        "Set the expiration for a key as a UNIX timestamp specified in milliseconds",
        Write(pexpireat_command),
    ),
    cmd(
        "ttl",
        2,
        "readonly fast",
        (1, 1, 1),
        Group::Generic,
        "key",
        "Get the time to live for a key in seconds",
        Read(ttl_command),
    ),
    cmd(
        "pttl",
        2,
        "readonly fast",
        (1, 1, 1),
        Group::Generic,
        "key",
        "Get the time to live for a key in milliseconds",
        Read(pttl_command),
    ),
    cmd(
        "expiretime",
        2,
        "readonly fast",
        (1, 1, 1),
        Group::Generic,
        "key",
        "Get the expiration Unix timestamp for a key",
        Read(expiretime_command),
    ),
    cmd(
        "pexpiretime",
        2,
        "readonly fast",
        (1, 1, 1),
        Group::Generic,
        "key",
        "Get the expiration Unix timestamp for a key in milliseconds",
        Read(pexpiretime_command),
    ),
    cmd(
        "persist",
        2,
        "write fast",
        (1, 1, 1),
        Group::Generic,
        "key",
        "Remove the expiration from a key",
        Write(persist_command),
    ),
];

/// The shared body of EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT.
fn expire_generic(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
    unit_s: bool,
    absolute: bool,
    name: &'static str,
) -> CmdResult {
    let when = parse_i64(args[2]).ok_or(CmdError::NotInteger)?;
    let (mut nx, mut xx, mut gt, mut lt) = (false, false, false, false);
    for opt in &args[3..] {
        match opt.to_ascii_uppercase().as_slice() {
            b"NX" => nx = true,
            b"XX" => xx = true,
            b"GT" => gt = true,
            b"LT" => lt = true,
            _ => {
                return Err(CmdError::err(format!(
                    "Unsupported option {}",
                    String::from_utf8_lossy(opt)
                )))
            }
        }
    }
    if nx && (xx || gt || lt) {
        return Err(CmdError::err(
            "NX and XX, GT or LT options at the same time are not compatible",
        ));
    }
    if gt && lt {
        return Err(CmdError::err(
            "GT and LT options at the same time are not compatible",
        ));
    }
    let ms = if unit_s {
        when.checked_mul(1000)
            .ok_or(CmdError::InvalidExpire(name))?
    } else {
        when
    };
    let now = ctx.now_ms;
    let at = if absolute {
        ms
    } else {
        ms.checked_add(now).ok_or(CmdError::InvalidExpire(name))?
    };
    let db = ctx.db_mut(store);
    if db.get_mut(args[1], now).is_none() {
        ctx.reply.integer(0);
        return Ok(());
    }
    let current = db.expire_ms(args[1]);
    let allowed = if nx {
        current == NO_EXPIRE
    } else if xx && current == NO_EXPIRE {
        false
    } else if gt {
        // A key without TTL counts as an infinite TTL.
        current != NO_EXPIRE && at > current
    } else if lt {
        current == NO_EXPIRE || at < current
    } else {
        true
    };
    if !allowed {
        ctx.reply.integer(0);
        return Ok(());
    }
    if at <= now {
        db.remove(args[1]);
        ctx.notify('g', "del", args[1]);
    } else {
        db.set_expire(args[1], at, now);
        ctx.notify('g', "expire", args[1]);
    }
    ctx.dirty += 1;
    ctx.reply.integer(1);
    Ok(())
}

/// EXPIRE key seconds [NX|XX|GT|LT] — 1 if the TTL was set, 0 otherwise.
fn expire_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, store, args, true, false, "expire")
}

/// PEXPIRE key milliseconds [NX|XX|GT|LT] — 1 if set, 0 otherwise.
fn pexpire_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, store, args, false, false, "pexpire")
}

/// EXPIREAT key unix-seconds [NX|XX|GT|LT] — 1 if set, 0 otherwise.
fn expireat_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, store, args, true, true, "expireat")
}

/// PEXPIREAT key unix-ms [NX|XX|GT|LT] — 1 if set, 0 otherwise.
fn pexpireat_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    expire_generic(ctx, store, args, false, true, "pexpireat")
}

/// The expire time of a key: None when missing, Some(NO_EXPIRE) without TTL.
fn expire_of(ctx: &Ctx, store: &Store, key: &[u8]) -> Option<i64> {
    let db = ctx.db(store);
    db.peek(key, ctx.now_ms).map(|e| db.expire_of(key, e))
}

/// Replies -2 (missing), -1 (no TTL) or `f(expire_ms)`.
fn reply_ttl(ctx: &mut Ctx, store: &Store, key: &[u8], f: impl Fn(i64, i64) -> i64) -> CmdResult {
    let v = match expire_of(ctx, store, key) {
        None => -2,
        Some(NO_EXPIRE) => -1,
        Some(at) => f(at, ctx.now_ms),
    };
    ctx.reply.integer(v);
    Ok(())
}

/// TTL key — seconds left (rounded), -1 without TTL, -2 when missing.
fn ttl_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    reply_ttl(ctx, store, args[1], |at, now| {
        ((at - now).max(0) + 500) / 1000
    })
}

/// PTTL key — milliseconds left, -1 without TTL, -2 when missing.
fn pttl_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    reply_ttl(ctx, store, args[1], |at, now| (at - now).max(0))
}

/// EXPIRETIME key — absolute unix seconds, -1 without TTL, -2 when missing.
fn expiretime_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    reply_ttl(ctx, store, args[1], |at, _| at / 1000)
}

/// PEXPIRETIME key — absolute unix ms, -1 without TTL, -2 when missing.
fn pexpiretime_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    reply_ttl(ctx, store, args[1], |at, _| at)
}

/// PERSIST key — 1 if a TTL was removed, 0 otherwise.
fn persist_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let done = ctx.db_mut(store).persist(args[1], now);
    if done {
        ctx.dirty += 1;
        ctx.notify('g', "persist", args[1]);
    }
    ctx.reply.integer(done as i64);
    Ok(())
}
