//! ZPOPMIN, ZPOPMAX, ZMPOP and their blocking forms BZPOPMIN, BZPOPMAX, BZMPOP.
//!
//! All of them end in [`pop_from`], which removes up to `count` elements
//! from one end of one set, raises "zpopmin"/"zpopmax" (and "del" when the
//! set empties) and counts the change, as Redis's `genericZpopCommand`.
//!
//! Reply shapes differ and are Redis 7.0's:
//!
//! ```text
//! ZPOPMIN k          [m, s]                 flat, also in RESP3
//! ZPOPMIN k count    [m, s, m, s]           RESP3: [[m, s], [m, s]]
//! ZMPOP / BZMPOP     [key, [[m, s], ...]]   nested in both protocols
//! BZPOPMIN           [key, m, s]            flat in both protocols
//! ```
//!
//! Blocking: when every key is empty, BZPOP* and BZMPOP wait for a push
//! (src/blocking.rs: the dispatcher waits and runs the command again).
//! Inside MULTI/EXEC (`ctx.in_exec`) they answer null at once, as the
//! non-blocking forms would. [`block_or_null`] is the single place that
//! hands a blocked command over to the blocking mechanism.

use super::{remove_if_empty, zset_mut};
use crate::blocking::{self, BlockRequest, TimeoutReply};
use crate::commands::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::store::{Db, Store};

/// Which end to pop from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Min,
    Max,
}

impl End {
    fn parse(arg: &[u8]) -> Option<End> {
        if arg.eq_ignore_ascii_case(b"MIN") {
            Some(End::Min)
        } else if arg.eq_ignore_ascii_case(b"MAX") {
            Some(End::Max)
        } else {
            None
        }
    }

    fn event(self) -> &'static str {
        match self {
            End::Min => "zpopmin",
            End::Max => "zpopmax",
        }
    }
}

/// Pops up to `count` elements from `key`'s set (which the caller found
/// non-empty or absent). Raises the events and counts the change.
fn pop_from(
    ctx: &mut Ctx,
    db: &mut Db,
    key: &[u8],
    end: End,
    count: usize,
) -> Result<Vec<(Vec<u8>, f64)>, CmdError> {
    let Some(zs) = zset_mut(db, key, ctx.now_ms)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(count.min(zs.len()));
    while out.len() < count {
        let popped = match end {
            End::Min => zs.pop_min(),
            End::Max => zs.pop_max(),
        };
        match popped {
            Some(e) => out.push(e),
            None => break,
        }
    }
    if !out.is_empty() {
        ctx.notify('z', end.event(), key);
        remove_if_empty(ctx, db, key);
        ctx.dirty += out.len() as u64;
    }
    Ok(out)
}

/// The first key in `keys` holding a non-empty sorted set; WRONGTYPE when a
/// key before it holds another type.
fn first_nonempty<'k>(
    ctx: &Ctx,
    db: &mut Db,
    keys: &[&'k [u8]],
) -> Result<Option<&'k [u8]>, CmdError> {
    for key in keys {
        if zset_mut(db, key, ctx.now_ms)?.is_some_and(|z| !z.is_empty()) {
            return Ok(Some(key));
        }
    }
    Ok(None)
}

/// `[[m, s], ...]`: pairs, in both protocols (ZMPOP, BZMPOP, ZPOP* count in RESP3).
fn reply_pairs(ctx: &mut Ctx, elements: &[(Vec<u8>, f64)]) {
    ctx.reply.array(elements.len());
    for (m, s) in elements {
        ctx.reply.array(2);
        ctx.reply.bulk(m);
        ctx.reply.double(*s);
    }
}

/// `[m, s, m, s ...]`.
fn reply_flat(ctx: &mut Ctx, elements: &[(Vec<u8>, f64)]) {
    ctx.reply.array(elements.len() * 2);
    for (m, s) in elements {
        ctx.reply.bulk(m);
        ctx.reply.double(*s);
    }
}

fn zpop_generic(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]], end: End) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = match args.get(2) {
        Some(a) => {
            let n = parse_i64(a)
                .filter(|n| *n >= 0)
                .ok_or_else(|| CmdError::err("value is out of range, must be positive"))?;
            Some(n as usize)
        }
        None => None,
    };
    let db = ctx.db_mut(store);
    let popped = pop_from(ctx, db, args[1], end, count.unwrap_or(1))?;
    if count.is_some() && ctx.reply.resp3() {
        reply_pairs(ctx, &popped);
    } else {
        reply_flat(ctx, &popped);
    }
    Ok(())
}

/// ZPOPMIN key [count] — the lowest elements, removed: a flat array `member,
/// score`; with count in RESP3, `[member, score]` pairs. Empty array when
/// the key is missing.
pub(super) fn zpopmin_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    zpop_generic(ctx, store, args, End::Min)
}

/// ZPOPMAX key [count] — as ZPOPMIN, from the highest scores.
pub(super) fn zpopmax_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    zpop_generic(ctx, store, args, End::Max)
}

/// Parsed `numkeys key [key ...] MIN|MAX [COUNT count]`.
struct MpopArgs<'a> {
    keys: Vec<&'a [u8]>,
    end: End,
    count: usize,
}

/// Parses ZMPOP's arguments from `args[0]` = numkeys (Redis's `zmpopGenericCommand`).
fn parse_mpop<'a>(args: &[&'a [u8]]) -> Result<MpopArgs<'a>, CmdError> {
    let numkeys = parse_i64(args[0])
        .filter(|n| *n > 0)
        .ok_or_else(|| CmdError::err("numkeys should be greater than 0"))? as u64;
    // numkeys, the keys, then at least MIN|MAX.
    if numkeys.saturating_add(1) >= args.len() as u64 {
        return Err(CmdError::Syntax);
    }
    let n = numkeys as usize;
    let keys = args[1..=n].to_vec();
    let end = End::parse(args[n + 1]).ok_or(CmdError::Syntax)?;
    let mut count = None;
    let mut j = n + 2;
    while j < args.len() {
        if count.is_none() && args[j].eq_ignore_ascii_case(b"COUNT") && j + 1 < args.len() {
            let c = parse_i64(args[j + 1])
                .filter(|c| *c > 0)
                .ok_or_else(|| CmdError::err("count should be greater than 0"))?;
            count = Some(c as usize);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(MpopArgs {
        keys,
        end,
        count: count.unwrap_or(1),
    })
}

/// Pops for ZMPOP/BZMPOP from the first non-empty key and replies
/// `[key, [[m, s], ...]]`; returns false (nothing written) when all are empty.
fn mpop_once(ctx: &mut Ctx, store: &mut Store, req: &MpopArgs) -> Result<bool, CmdError> {
    let db = ctx.db_mut(store);
    let Some(key) = first_nonempty(ctx, db, &req.keys)? else {
        return Ok(false);
    };
    let popped = pop_from(ctx, db, key, req.end, req.count)?;
    // Replicated and logged as the plain pop it became, with the number
    // actually popped (Redis): replaying it gives the same data.
    let pop_name: &[u8] = match req.end {
        End::Min => b"ZPOPMIN",
        End::Max => b"ZPOPMAX",
    };
    ctx.propagate_override(vec![vec![
        pop_name.to_vec(),
        key.to_vec(),
        popped.len().to_string().into_bytes(),
    ]]);
    ctx.reply.array(2);
    ctx.reply.bulk(key);
    reply_pairs(ctx, &popped);
    Ok(true)
}

/// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count] — `[key, [[member,
/// score], ...]]` from the first non-empty set, or null when all are empty.
pub(super) fn zmpop_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let req = parse_mpop(&args[1..])?;
    if !mpop_once(ctx, store, &req)? {
        ctx.reply.null_array();
    }
    Ok(())
}

/// Every key was empty: inside MULTI/EXEC answer null at once, otherwise
/// ask the dispatcher to wait for a push to one of `keys` (src/blocking.rs),
/// after which it runs the command again.
fn block_or_null(ctx: &mut Ctx, keys: &[&[u8]], deadline_ms: i64) -> CmdResult {
    blocking::block_or_timeout(
        ctx,
        BlockRequest {
            db: ctx.client.db,
            keys: keys.iter().map(|k| k.to_vec()).collect(),
            deadline_ms,
            wants: blocking::wants_zset,
            on_timeout: TimeoutReply::NullArray,
            stream: None,
        },
    );
    Ok(())
}

fn bzpop_generic(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]], end: End) -> CmdResult {
    let keys = &args[1..args.len() - 1];
    let deadline_ms = blocking::parse_timeout(args[args.len() - 1], ctx.now_ms)?;
    let db = ctx.db_mut(store);
    if let Some(key) = first_nonempty(ctx, db, keys)? {
        let popped = pop_from(ctx, db, key, end, 1)?;
        ctx.reply.array(3);
        ctx.reply.bulk(key);
        for (m, s) in &popped {
            ctx.reply.bulk(m);
            ctx.reply.double(*s);
        }
        return Ok(());
    }
    block_or_null(ctx, keys, deadline_ms)
}

/// BZPOPMIN key [key ...] timeout — `[key, member, score]` from the first
/// non-empty set; blocks up to timeout seconds (0 = forever) when all are
/// empty, then null.
pub(super) fn bzpopmin_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    bzpop_generic(ctx, store, args, End::Min)
}

/// BZPOPMAX key [key ...] timeout — as BZPOPMIN, from the highest scores.
pub(super) fn bzpopmax_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    bzpop_generic(ctx, store, args, End::Max)
}

/// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count] — as ZMPOP,
/// blocking up to timeout seconds when every set is empty.
pub(super) fn bzmpop_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let deadline_ms = blocking::parse_timeout(args[1], ctx.now_ms)?;
    let req = parse_mpop(&args[2..])?;
    if mpop_once(ctx, store, &req)? {
        return Ok(());
    }
    block_or_null(ctx, &req.keys, deadline_ms)
}
