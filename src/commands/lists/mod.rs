//! List commands: pushes and pops at both ends, ranges, LPOS, LSET,
//! LINSERT, LREM, LTRIM (this file), and the multi-key pops and moves with
//! their blocking forms (moves.rs).
//!
//! The list itself is [`crate::store::list::List`]; this module is Redis's
//! t_list.c. Shared bodies, as there: `push_generic` (LPUSH, RPUSH,
//! LPUSHX, RPUSHX), `pop_generic` (LPOP, RPOP), and in moves.rs
//! `mpop_generic` and `lmove_generic`.
//!
//! Invariants kept by every command: a key never holds an empty list (the
//! last pop deletes the key, with a `del` keyspace event), and every
//! argument is checked before the list is touched, in the order Redis
//! checks them, so the same bad command gets the same error.

mod moves;

use super::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::store::list::List;
use crate::store::{Db, Store, Value};

use moves::{
    blmove_command, blmpop_command, blpop_command, brpop_command, brpoplpush_command,
    lmove_command, lmpop_command, rpoplpush_command,
};
use Handler::{Read, Write};

/// The list family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd("lpush", -3, "write denyoom fast", (1, 1, 1), Group::List, "key element [element ...]", "Prepend one or multiple elements to a list", Write(lpush_command)),
    cmd("rpush", -3, "write denyoom fast", (1, 1, 1), Group::List, "key element [element ...]", "Append one or multiple elements to a list", Write(rpush_command)),
    cmd("lpushx", -3, "write denyoom fast", (1, 1, 1), Group::List, "key element [element ...]", "Prepend an element to a list, only if the list exists", Write(lpushx_command)),
    cmd("rpushx", -3, "write denyoom fast", (1, 1, 1), Group::List, "key element [element ...]", "Append an element to a list, only if the list exists", Write(rpushx_command)),
    cmd("linsert", 5, "write denyoom", (1, 1, 1), Group::List, "key BEFORE|AFTER pivot element", "Insert an element before or after another element in a list", Write(linsert_command)),
    cmd("lpop", -2, "write fast", (1, 1, 1), Group::List, "key [count]", "Remove and get the first elements in a list", Write(lpop_command)),
    cmd("rpop", -2, "write fast", (1, 1, 1), Group::List, "key [count]", "Remove and get the last elements in a list", Write(rpop_command)),
    cmd("llen", 2, "readonly fast", (1, 1, 1), Group::List, "key", "Get the length of a list", Read(llen_command)),
    cmd("lindex", 3, "readonly", (1, 1, 1), Group::List, "key index", "Get an element from a list by its index", Read(lindex_command)),
    cmd("lset", 4, "write denyoom", (1, 1, 1), Group::List, "key index element", "Set the value of an element in a list by its index", Write(lset_command)),
    cmd("lrange", 4, "readonly", (1, 1, 1), Group::List, "key start stop", "Get a range of elements from a list", Read(lrange_command)),
    cmd("ltrim", 4, "write", (1, 1, 1), Group::List, "key start stop", "Trim a list to the specified range", Write(ltrim_command)),
    cmd("lpos", -3, "readonly", (1, 1, 1), Group::List, "key element [RANK rank] [COUNT num-matches] [MAXLEN len]", "Return the index of matching elements on a list", Read(lpos_command)),
    cmd("lrem", 4, "write", (1, 1, 1), Group::List, "key count element", "Remove elements from a list", Write(lrem_command)),
    cmd("rpoplpush", 3, "write denyoom", (1, 2, 1), Group::List, "source destination", "Remove the last element in a list, prepend it to another list and return it", Write(rpoplpush_command)),
    cmd("lmove", 5, "write denyoom", (1, 2, 1), Group::List, "source destination LEFT|RIGHT LEFT|RIGHT", "Pop an element from a list, push it to another list and return it", Write(lmove_command)),
    cmd("lmpop", -4, "write movablekeys", (0, 0, 0), Group::List, "numkeys key [key ...] LEFT|RIGHT [COUNT count]", "Pop elements from a list", Write(lmpop_command)),
    cmd("blpop", -3, "write noscript blocking", (1, -2, 1), Group::List, "key [key ...] timeout", "Remove and get the first element in a list, or block until one is available", Write(blpop_command)),
    cmd("brpop", -3, "write noscript blocking", (1, -2, 1), Group::List, "key [key ...] timeout", "Remove and get the last element in a list, or block until one is available", Write(brpop_command)),
    cmd("brpoplpush", 4, "write denyoom noscript blocking", (1, 2, 1), Group::List, "source destination timeout", "Pop an element from a list, push it to another list and return it; or block until one is available", Write(brpoplpush_command)),
    cmd("blmove", 6, "write denyoom noscript blocking", (1, 2, 1), Group::List, "source destination LEFT|RIGHT LEFT|RIGHT timeout", "Pop an element from a list, push it to another list and return it; or block until one is available", Write(blmove_command)),
    cmd("blmpop", -5, "write blocking movablekeys", (0, 0, 0), Group::List, "timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]", "Pop elements from a list, or block until one is available", Write(blmpop_command)),
];

/// Which end of a list: LEFT (head) or RIGHT (tail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The head (LPUSH, LPOP, LEFT).
    Head,
    /// The tail (RPUSH, RPOP, RIGHT).
    Tail,
}

impl End {
    /// Parses LEFT / RIGHT (any case); anything else is a syntax error.
    fn parse(arg: &[u8]) -> Result<End, CmdError> {
        if arg.eq_ignore_ascii_case(b"left") {
            Ok(End::Head)
        } else if arg.eq_ignore_ascii_case(b"right") {
            Ok(End::Tail)
        } else {
            Err(CmdError::Syntax)
        }
    }

    fn push_event(self) -> &'static str {
        match self {
            End::Head => "lpush",
            End::Tail => "rpush",
        }
    }

    fn pop_event(self) -> &'static str {
        match self {
            End::Head => "lpop",
            End::Tail => "rpop",
        }
    }
}

fn push(list: &mut List, end: End, value: Vec<u8>) {
    match end {
        End::Head => list.push_front(value),
        End::Tail => list.push_back(value),
    }
}

fn pop(list: &mut List, end: End) -> Option<Vec<u8>> {
    match end {
        End::Head => list.pop_front(),
        End::Tail => list.pop_back(),
    }
}

/// The list at `key` for reading; None when absent; WRONGTYPE otherwise.
pub fn get_list<'a>(db: &'a Db, key: &[u8], now_ms: i64) -> Result<Option<&'a List>, CmdError> {
    match db.get_value(key, now_ms) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The list at `key` for writing (an expired key is deleted first).
pub fn get_list_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    now_ms: i64,
) -> Result<Option<&'a mut List>, CmdError> {
    match db.get_value_mut(key, now_ms) {
        None => Ok(None),
        Some(Value::List(l)) => Ok(Some(l)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Deletes `key` if its list became empty, with Redis's `del` event.
fn delete_if_empty(ctx: &mut Ctx, db: &mut Db, key: &[u8]) {
    let empty = matches!(db.get_value(key, ctx.now_ms), Some(Value::List(l)) if l.is_empty());
    if empty {
        db.remove(key);
        ctx.notify('g', "del", key);
    }
}

/// Turns a Redis index (negative counts from the tail) into a position.
fn position(index: i64, len: usize) -> Option<usize> {
    let len = len as i64;
    let i = if index < 0 { len + index } else { index };
    (0..len).contains(&i).then_some(i as usize)
}

/// Clamps LRANGE/LTRIM's start and stop to the list, as Redis's
/// `addListRangeReply` and `ltrimCommand` do; None for an empty range.
fn clamp_range(start: i64, end: i64, len: usize) -> Option<(usize, usize)> {
    let llen = len as i64;
    let mut start = if start < 0 {
        llen.saturating_add(start)
    } else {
        start
    };
    let mut end = if end < 0 {
        llen.saturating_add(end)
    } else {
        end
    };
    if start < 0 {
        start = 0;
    }
    if start > end || start >= llen {
        return None;
    }
    if end >= llen {
        end = llen - 1;
    }
    Some((start as usize, end as usize))
}

fn parse_int(arg: &[u8]) -> Result<i64, CmdError> {
    parse_i64(arg).ok_or(CmdError::NotInteger)
}

/// A positive-or-zero integer with one error text for every failure, as
/// Redis's `getPositiveLongFromObjectOrReply` with a message.
fn parse_non_negative(arg: &[u8], error: &str) -> Result<i64, CmdError> {
    match parse_i64(arg) {
        Some(n) if n >= 0 => Ok(n),
        _ => Err(CmdError::err(error)),
    }
}

/// An integer >= 1 (LMPOP's numkeys and COUNT), one error text for all.
fn parse_at_least_one(arg: &[u8], error: &str) -> Result<i64, CmdError> {
    match parse_i64(arg) {
        Some(n) if n >= 1 => Ok(n),
        _ => Err(CmdError::err(error)),
    }
}

// ---------------------------------------------------------------------------
// Pushes

/// Body of LPUSH, RPUSH, LPUSHX and RPUSHX: pushes `args[2..]` one by one
/// at `end`; `only_existing` (the X forms) does nothing on a missing key.
fn push_generic(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
    end: End,
    only_existing: bool,
) -> CmdResult {
    let key = args[1];
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let exists = get_list_mut(db, key, now)?.is_some();
    if !exists {
        if only_existing {
            ctx.reply.integer(0);
            return Ok(());
        }
        db.set(key, Value::List(List::new()), now);
    }
    let Some(list) = get_list_mut(db, key, now)? else {
        return Err(CmdError::NoSuchKey);
    };
    for value in &args[2..] {
        push(list, end, value.to_vec());
    }
    let len = list.len();
    ctx.dirty += (args.len() - 2) as u64;
    ctx.notify('l', end.push_event(), key);
    ctx.reply.integer(len as i64);
    Ok(())
}

/// LPUSH key element [element ...] — integer: the length after the push.
/// Elements go in one at a time, so the last one ends up first.
fn lpush_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, store, args, End::Head, false)
}

/// RPUSH key element [element ...] — integer: the length after the push.
fn rpush_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, store, args, End::Tail, false)
}

/// LPUSHX key element [element ...] — integer: the new length, 0 (and no
/// change) when the key does not exist.
fn lpushx_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, store, args, End::Head, true)
}

/// RPUSHX key element [element ...] — integer: the new length, 0 (and no
/// change) when the key does not exist.
fn rpushx_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    push_generic(ctx, store, args, End::Tail, true)
}

/// LINSERT key BEFORE|AFTER pivot element — integer: the new length, -1
/// when the pivot is not found, 0 when the key does not exist.
fn linsert_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let after = if args[2].eq_ignore_ascii_case(b"after") {
        true
    } else if args[2].eq_ignore_ascii_case(b"before") {
        false
    } else {
        return Err(CmdError::Syntax);
    };
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let Some(list) = get_list_mut(db, args[1], now)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let Some(at) = list.iter().position(|e| e == args[3]) else {
        ctx.reply.integer(-1);
        return Ok(());
    };
    list.insert(if after { at + 1 } else { at }, args[4].to_vec());
    let len = list.len();
    ctx.dirty += 1;
    ctx.notify('l', "linsert", args[1]);
    ctx.reply.integer(len as i64);
    Ok(())
}

// ---------------------------------------------------------------------------
// Pops

/// Body of LPOP and RPOP.
fn pop_generic(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]], end: End) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::WrongArity(
            String::from_utf8_lossy(args[0]).to_ascii_lowercase(),
        ));
    }
    // Redis gives this one text for a non-number and for a negative one.
    let count = match args.get(2) {
        Some(arg) => Some(parse_non_negative(
            arg,
            "value is out of range, must be positive",
        )?),
        None => None,
    };
    let key = args[1];
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let Some(list) = get_list_mut(db, key, now)? else {
        match count {
            Some(_) => ctx.reply.null_array(),
            None => ctx.reply.null(),
        }
        return Ok(());
    };
    let popped = match count {
        Some(0) => {
            ctx.reply.array(0);
            return Ok(());
        }
        None => {
            let Some(value) = pop(list, end) else {
                ctx.reply.null();
                return Ok(());
            };
            ctx.reply.bulk(&value);
            1
        }
        Some(n) => {
            let n = (n as usize).min(list.len());
            ctx.reply.array(n);
            for _ in 0..n {
                if let Some(value) = pop(list, end) {
                    ctx.reply.bulk(&value);
                }
            }
            n
        }
    };
    ctx.dirty += popped as u64;
    ctx.notify('l', end.pop_event(), key);
    delete_if_empty(ctx, db, key);
    Ok(())
}

/// LPOP key [count] — without count: bulk string, or null when the key
/// does not exist; with count: array of up to count elements, null array
/// when the key does not exist, empty array for count 0.
fn lpop_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    pop_generic(ctx, store, args, End::Head)
}

/// RPOP key [count] — as LPOP, from the tail.
fn rpop_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    pop_generic(ctx, store, args, End::Tail)
}

// ---------------------------------------------------------------------------
// Reads and edits by position

/// LLEN key — integer: the length, 0 when the key does not exist.
fn llen_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let len = get_list(ctx.db(store), args[1], ctx.now_ms)?.map_or(0, List::len);
    ctx.reply.integer(len as i64);
    Ok(())
}

/// LINDEX key index — bulk string: the element at index (negative counts
/// from the tail), null when out of range or the key does not exist.
fn lindex_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    // Redis looks the key up before it parses the index.
    let Some(list) = get_list(ctx.db(store), args[1], ctx.now_ms)? else {
        ctx.reply.null();
        return Ok(());
    };
    let index = parse_int(args[2])?;
    match position(index, list.len()).and_then(|i| list.get(i)) {
        Some(value) => ctx.reply.bulk(value),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// LSET key index element — OK; "no such key" for a missing key, "index
/// out of range" for a bad index.
fn lset_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let Some(list) = get_list_mut(db, args[1], now)? else {
        return Err(CmdError::NoSuchKey);
    };
    let index = parse_int(args[2])?;
    let at = position(index, list.len()).ok_or(CmdError::IndexOutOfRange)?;
    list.set(at, args[3].to_vec());
    ctx.dirty += 1;
    ctx.notify('l', "lset", args[1]);
    ctx.reply.ok();
    Ok(())
}

/// LRANGE key start stop — array of the elements from start to stop
/// inclusive (negative indexes count from the tail; out-of-range indexes
/// are clamped); empty when the key does not exist.
fn lrange_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let start = parse_int(args[2])?;
    let end = parse_int(args[3])?;
    let Some(list) = get_list(ctx.db(store), args[1], ctx.now_ms)? else {
        ctx.reply.array(0);
        return Ok(());
    };
    match clamp_range(start, end, list.len()) {
        None => ctx.reply.array(0),
        Some((s, e)) => {
            ctx.reply.array(e - s + 1);
            for value in list.range(s, e) {
                ctx.reply.bulk(value);
            }
        }
    }
    Ok(())
}

/// LTRIM key start stop — OK; keeps only the elements from start to stop
/// (an empty range deletes the key).
fn ltrim_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let start = parse_int(args[2])?;
    let end = parse_int(args[3])?;
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let Some(list) = get_list_mut(db, args[1], now)? else {
        ctx.reply.ok();
        return Ok(());
    };
    let before = list.len();
    match clamp_range(start, end, before) {
        None => list.retain_range(1, 0),
        Some((s, e)) => list.retain_range(s, e),
    }
    ctx.dirty += (before - list.len()) as u64;
    ctx.notify('l', "ltrim", args[1]);
    delete_if_empty(ctx, db, args[1]);
    ctx.reply.ok();
    Ok(())
}

/// LREM key count element — integer: how many were removed. count > 0:
/// the first count matches from the head; < 0: from the tail; 0: all.
fn lrem_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let count = parse_int(args[2])?;
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let Some(list) = get_list_mut(db, args[1], now)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let limit = usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX);
    let removed = list.remove_matching(limit, count < 0, |e| e == args[3]);
    if removed > 0 {
        ctx.dirty += removed as u64;
        ctx.notify('l', "lrem", args[1]);
        delete_if_empty(ctx, db, args[1]);
    }
    ctx.reply.integer(removed as i64);
    Ok(())
}

/// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len] —
/// integer: the index of the rank-th match (negative rank scans from the
/// tail), or null; with COUNT an array of up to num-matches indexes (0 =
/// all). MAXLEN limits how many elements are compared.
fn lpos_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let mut rank: i64 = 1;
    let mut count: Option<i64> = None;
    let mut maxlen: i64 = 0;
    let mut j = 3;
    while j < args.len() {
        let more = j + 1 < args.len();
        let opt = args[j];
        if opt.eq_ignore_ascii_case(b"rank") && more {
            rank = parse_int(args[j + 1])?;
            if rank == 0 {
                return Err(CmdError::err("RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"));
            }
        } else if opt.eq_ignore_ascii_case(b"count") && more {
            count = Some(parse_non_negative(args[j + 1], "COUNT can't be negative")?);
        } else if opt.eq_ignore_ascii_case(b"maxlen") && more {
            maxlen = parse_non_negative(args[j + 1], "MAXLEN can't be negative")?;
        } else {
            return Err(CmdError::Syntax);
        }
        j += 2;
    }
    let Some(list) = get_list(ctx.db(store), args[1], ctx.now_ms)? else {
        match count {
            Some(_) => ctx.reply.array(0),
            None => ctx.reply.null(),
        }
        return Ok(());
    };
    let from_tail = rank < 0;
    // Redis negates the rank in a C long: i64::MIN stays negative there and
    // so matches from the first match on.
    let rank = if rank == i64::MIN {
        1
    } else {
        rank.unsigned_abs()
    };
    let maxlen = maxlen as u64;
    let len = list.len();
    let mut found: Vec<usize> = Vec::new();
    let mut matches: u64 = 0;
    let elements: Box<dyn Iterator<Item = &[u8]>> = if from_tail {
        Box::new(list.iter_rev())
    } else {
        Box::new(list.iter())
    };
    for (scanned, element) in elements.enumerate() {
        if maxlen != 0 && scanned as u64 >= maxlen {
            break;
        }
        if element != args[2] {
            continue;
        }
        matches += 1;
        if matches < rank {
            continue;
        }
        found.push(if from_tail {
            len - scanned - 1
        } else {
            scanned
        });
        match count {
            None => break,
            Some(c) if c != 0 && found.len() as i64 >= c => break,
            Some(_) => {}
        }
    }
    match count {
        Some(_) => {
            ctx.reply.array(found.len());
            for i in found {
                ctx.reply.integer(i as i64);
            }
        }
        None => match found.first() {
            Some(&i) => ctx.reply.integer(i as i64),
            None => ctx.reply.null(),
        },
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_and_ranges() {
        assert_eq!(position(0, 3), Some(0));
        assert_eq!(position(-1, 3), Some(2));
        assert_eq!(position(-4, 3), None);
        assert_eq!(position(3, 3), None);
        assert_eq!(position(i64::MIN, 3), None);
        assert_eq!(clamp_range(0, -1, 3), Some((0, 2)));
        assert_eq!(clamp_range(-100, 100, 3), Some((0, 2)));
        assert_eq!(clamp_range(2, 1, 3), None);
        assert_eq!(clamp_range(5, 10, 3), None);
        assert_eq!(clamp_range(i64::MIN, i64::MAX, 3), Some((0, 2)));
        assert_eq!(clamp_range(0, 0, 0), None);
    }
}
