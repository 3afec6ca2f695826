//! Multi-key pops and moves: LMPOP, LMOVE, RPOPLPUSH and their blocking
//! forms BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH.
//!
//! Two shared bodies, as in Redis's t_list.c: `mpop_generic` pops from the
//! first of several keys that holds a list (LMPOP, BLMPOP, BLPOP, BRPOP),
//! `lmove_generic` pops from one list and pushes onto another (LMOVE,
//! RPOPLPUSH, BLMOVE, BRPOPLPUSH).
//!
//! A blocking command first tries exactly like its non-blocking form; when
//! every key is empty it records a wait with `block_on_lists` and replies
//! nothing. The dispatcher then waits and runs the handler again when one
//! of the keys holds a list (see blocking.rs), so these handlers never wait
//! themselves. Inside MULTI they answer the timeout reply at once.

use super::{delete_if_empty, get_list_mut, parse_at_least_one, pop, push, End};
use crate::blocking::{self, BlockRequest, TimeoutReply};
use crate::commands::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::store::list::List;
use crate::store::{Store, Value};

/// How MPOP-style commands reply.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PopReply {
    /// BLPOP/BRPOP: `[key, element]`.
    One,
    /// LMPOP/BLMPOP: `[key, [element ...]]` with up to this many elements.
    Count(usize),
}

/// Body of LMPOP, BLMPOP, BLPOP and BRPOP: pops from the first of `keys`
/// that holds a list. Returns false (and replies nothing) when every key
/// is empty; WRONGTYPE when a key before the first list holds another type.
fn mpop_generic(
    ctx: &mut Ctx,
    store: &mut Store,
    keys: &[&[u8]],
    end: End,
    how: PopReply,
) -> Result<bool, CmdError> {
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    for &key in keys {
        let Some(list) = get_list_mut(db, key, now)? else {
            continue;
        };
        if list.is_empty() {
            continue;
        }
        ctx.reply.array(2);
        ctx.reply.bulk(key);
        let popped = match how {
            PopReply::One => {
                let value = pop(list, end).unwrap_or_default();
                ctx.reply.bulk(&value);
                1
            }
            PopReply::Count(n) => {
                let n = n.min(list.len());
                ctx.reply.array(n);
                for _ in 0..n {
                    let value = pop(list, end).unwrap_or_default();
                    ctx.reply.bulk(&value);
                }
                n
            }
        };
        ctx.dirty += popped as u64;
        // The AOF logs the pop this became, whatever form was sent (BLPOP,
        // LMPOP over several keys ...): replaying it gives the same data.
        let pop_name: &[u8] = if end.pop_event() == "lpop" {
            b"LPOP"
        } else {
            b"RPOP"
        };
        ctx.propagate_override(vec![vec![
            pop_name.to_vec(),
            key.to_vec(),
            popped.to_string().into_bytes(),
        ]]);
        ctx.notify('l', end.pop_event(), key);
        delete_if_empty(ctx, db, key);
        return Ok(true);
    }
    Ok(false)
}

/// Parsed `numkeys key [key ...] LEFT|RIGHT [COUNT count]`.
struct MpopArgs<'a> {
    keys: &'a [&'a [u8]],
    end: End,
    count: usize,
}

/// Parses LMPOP's arguments starting at numkeys (`args[0]`), with Redis's
/// checks and texts.
fn parse_mpop<'a>(args: &'a [&'a [u8]]) -> Result<MpopArgs<'a>, CmdError> {
    let numkeys = parse_at_least_one(args[0], "numkeys should be greater than 0")?;
    let where_idx = usize::try_from(numkeys)
        .ok()
        .and_then(|n| n.checked_add(1))
        .filter(|&i| i < args.len())
        .ok_or(CmdError::Syntax)?;
    let end = End::parse(args[where_idx])?;
    let mut count = None;
    let mut j = where_idx + 1;
    while j < args.len() {
        if count.is_none() && args[j].eq_ignore_ascii_case(b"count") && j + 1 < args.len() {
            count = Some(parse_at_least_one(
                args[j + 1],
                "count should be greater than 0",
            )?);
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(MpopArgs {
        keys: &args[1..where_idx],
        end,
        count: usize::try_from(count.unwrap_or(1)).unwrap_or(usize::MAX),
    })
}

/// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count] — array `[key,
/// [element ...]]` from the first non-empty list, or null array.
pub(super) fn lmpop_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let parsed = parse_mpop(&args[1..])?;
    if !mpop_generic(
        ctx,
        store,
        parsed.keys,
        parsed.end,
        PopReply::Count(parsed.count),
    )? {
        ctx.reply.null_array();
    }
    Ok(())
}

/// Records a wait on `keys` for a list (or, inside EXEC, replies
/// `in_exec_reply` at once).
fn block_on_lists(ctx: &mut Ctx, keys: &[&[u8]], deadline_ms: i64, in_exec_reply: TimeoutReply) {
    if ctx.in_exec {
        in_exec_reply.write(ctx);
        return;
    }
    blocking::block_or_timeout(
        ctx,
        BlockRequest {
            db: ctx.client.db,
            keys: keys.iter().map(|k| k.to_vec()).collect(),
            deadline_ms,
            wants: blocking::wants_list,
            on_timeout: TimeoutReply::NullArray,
            stream: None,
        },
    );
}

/// Body of BLPOP and BRPOP.
fn bpop_generic(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]], end: End) -> CmdResult {
    let last = args.len() - 1;
    let deadline = blocking::parse_timeout(args[last], ctx.now_ms)?;
    let keys = &args[1..last];
    if !mpop_generic(ctx, store, keys, end, PopReply::One)? {
        block_on_lists(ctx, keys, deadline, TimeoutReply::NullArray);
    }
    Ok(())
}

/// BLPOP key [key ...] timeout — array `[key, element]` popped from the
/// head of the first non-empty list; blocks until one gets data or the
/// timeout (seconds, float, 0 = forever) passes: null array.
pub(super) fn blpop_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    bpop_generic(ctx, store, args, End::Head)
}

/// BRPOP key [key ...] timeout — as BLPOP, from the tail.
pub(super) fn brpop_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    bpop_generic(ctx, store, args, End::Tail)
}

/// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count] — as
/// LMPOP, blocking while every list is empty; null array on timeout.
pub(super) fn blmpop_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let parsed = parse_mpop(&args[2..])?;
    let deadline = blocking::parse_timeout(args[1], ctx.now_ms)?;
    if !mpop_generic(
        ctx,
        store,
        parsed.keys,
        parsed.end,
        PopReply::Count(parsed.count),
    )? {
        block_on_lists(ctx, parsed.keys, deadline, TimeoutReply::NullArray);
    }
    Ok(())
}

// Moves

/// Body of LMOVE, RPOPLPUSH and BLMOVE: pops from `from` of `src`, pushes
/// at `to` of `dst`, replies the element. Returns false (no reply) when
/// `src` does not exist. The destination's type is checked before the pop,
/// so a WRONGTYPE destination leaves the source untouched.
fn lmove_generic(
    ctx: &mut Ctx,
    store: &mut Store,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<bool, CmdError> {
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    if get_list_mut(db, src, now)?.is_none_or(|l| l.is_empty()) {
        return Ok(false);
    }
    if get_list_mut(db, dst, now)?.is_none() {
        db.set(dst, Value::List(List::new()), now);
    }
    let value = get_list_mut(db, src, now)?
        .and_then(|l| pop(l, from))
        .unwrap_or_default();
    if let Some(list) = get_list_mut(db, dst, now)? {
        push(list, to, value.clone());
    }
    // Logged as the LMOVE it became (BLMOVE, BRPOPLPUSH, RPOPLPUSH alike).
    let side = |e: End| {
        if e.pop_event() == "lpop" {
            b"LEFT".to_vec()
        } else {
            b"RIGHT".to_vec()
        }
    };
    // Redis logs (B)RPOPLPUSH as RPOPLPUSH (replicas count it so).
    let last = {
        let last_cmd = &ctx.client.info.last_cmd;
        last_cmd.is("rpoplpush") || last_cmd.is("brpoplpush")
    };
    ctx.propagate_override(vec![if last {
        vec![b"RPOPLPUSH".to_vec(), src.to_vec(), dst.to_vec()]
    } else {
        vec![
            b"LMOVE".to_vec(),
            src.to_vec(),
            dst.to_vec(),
            side(from),
            side(to),
        ]
    }]);
    ctx.notify('l', to.push_event(), dst);
    ctx.notify('l', from.pop_event(), src);
    delete_if_empty(ctx, db, src);
    ctx.dirty += 1;
    ctx.reply.bulk(&value);
    Ok(true)
}

/// LMOVE source destination LEFT|RIGHT LEFT|RIGHT — bulk string: the
/// element moved, or null when the source does not exist.
pub(super) fn lmove_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let from = End::parse(args[3])?;
    let to = End::parse(args[4])?;
    if !lmove_generic(ctx, store, args[1], args[2], from, to)? {
        ctx.reply.null();
    }
    Ok(())
}

/// RPOPLPUSH source destination — bulk string: the element moved from the
/// source's tail to the destination's head, or null.
pub(super) fn rpoplpush_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    if !lmove_generic(ctx, store, args[1], args[2], End::Tail, End::Head)? {
        ctx.reply.null();
    }
    Ok(())
}

/// Body of BLMOVE and BRPOPLPUSH.
fn bmove_generic(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
    from: End,
    to: End,
    timeout_arg: &[u8],
) -> CmdResult {
    let deadline = blocking::parse_timeout(timeout_arg, ctx.now_ms)?;
    if !lmove_generic(ctx, store, args[1], args[2], from, to)? {
        block_on_lists(ctx, &args[1..2], deadline, TimeoutReply::Null);
    }
    Ok(())
}

/// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout — bulk string:
/// the element moved; blocks while the source is empty; null array on
/// timeout (null inside MULTI).
pub(super) fn blmove_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let from = End::parse(args[3])?;
    let to = End::parse(args[4])?;
    bmove_generic(ctx, store, args, from, to, args[5])
}

/// BRPOPLPUSH source destination timeout — as BLMOVE source destination
/// RIGHT LEFT timeout.
pub(super) fn brpoplpush_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    bmove_generic(ctx, store, args, End::Tail, End::Head, args[3])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mpop_arguments() {
        let args: Vec<&[u8]> = vec![b"2", b"a", b"b", b"LEFT", b"COUNT", b"3"];
        let p = parse_mpop(&args).unwrap();
        assert_eq!(p.keys.len(), 2);
        assert_eq!(p.end, End::Head);
        assert_eq!(p.count, 3);
        let args: Vec<&[u8]> = vec![b"9223372036854775807", b"a", b"left"];
        assert_eq!(parse_mpop(&args).err(), Some(CmdError::Syntax));
    }
}
