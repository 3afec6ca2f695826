//! Set commands: membership, random members, SMOVE, the algebra (SINTER,
//! SUNION, SDIFF and their STORE forms, SINTERCARD) and SSCAN (Redis's
//! t_set.c).
//!
//! The set type, with its intset/hashtable encodings, lives in
//! `store/set.rs`. set-max-intset-entries is read from CONFIG once per
//! writing command and handed to the sets it writes.
//!
//! Replies that are sets (SMEMBERS, SINTER, SUNION, SDIFF, SPOP with a
//! count) are RESP3 sets (`~`), arrays in RESP2; SRANDMEMBER's reply is an
//! array because a negative count may repeat members.
//!
//! The algebra follows Redis: every key is looked up and type-checked
//! first (a WRONGTYPE anywhere fails the command, even after a missing
//! key), missing keys are empty sets, results are built as a fresh set
//! (so an all-integer result is an intset), and a STORE whose result is
//! empty deletes the destination instead of storing an empty set.

use std::collections::HashSet;

use super::hashes::{count_range_error, parse_cursor, scan_collection};
use super::keys::reply_scan;
use super::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::store::set::Set;
use crate::store::{Db, Store, Value};
use crate::util::random_below;

use Handler::{Read, Write};

/// The set family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd(
        "sadd",
        -3,
        "write denyoom fast",
        (1, 1, 1),
        Group::Set,
        "key member [member ...]",
        "Add one or more members to a set",
        Write(sadd_command),
    ),
    cmd(
        "srem",
        -3,
        "write fast",
        (1, 1, 1),
        Group::Set,
        "key member [member ...]",
        "Remove one or more members from a set",
        Write(srem_command),
    ),
    cmd(
        "smembers",
        2,
        "readonly",
        (1, 1, 1),
        Group::Set,
        "key",
        "Get all the members in a set",
        Read(smembers_command),
    ),
    cmd(
        "sismember",
        3,
        "readonly fast",
        (1, 1, 1),
        Group::Set,
        "key member",
        "Determine if a given value is a member of a set",
        Read(sismember_command),
    ),
    cmd(
        "smismember",
        -3,
        "readonly fast",
        (1, 1, 1),
        Group::Set,
        "key member [member ...]",
        "Returns the membership associated with the given elements for a set",
        Read(smismember_command),
    ),
    cmd(
        "scard",
        2,
        "readonly fast",
        (1, 1, 1),
        Group::Set,
        "key",
        "Get the number of members in a set",
        Read(scard_command),
    ),
    cmd(
        "spop",
        -2,
        "write fast",
        (1, 1, 1),
        Group::Set,
        "key [count]",
        "Remove and return one or multiple random members from a set",
        Write(spop_command),
    ),
    cmd(
        "srandmember",
        -2,
        "readonly",
        (1, 1, 1),
        Group::Set,
        "key [count]",
        "Get one or multiple random members from a set",
        Read(srandmember_command),
    ),
    cmd(
        "smove",
        4,
        "write fast",
        (1, 2, 1),
        Group::Set,
        "source destination member",
        "Move a member from one set to another",
        Write(smove_command),
    ),
    cmd(
        "sinter",
        -2,
        "readonly",
        (1, -1, 1),
        Group::Set,
        "key [key ...]",
        "Intersect multiple sets",
        Read(sinter_command),
    ),
    cmd(
        "sintercard",
        -3,
        "readonly movablekeys",
        (0, 0, 0),
        Group::Set,
        "numkeys key [key ...] [LIMIT limit]",
        "Intersect multiple sets and return the cardinality of the result",
        Read(sintercard_command),
    ),
    cmd(
        "sinterstore",
        -3,
        "write denyoom",
        (1, -1, 1),
        Group::Set,
        "destination key [key ...]",
        "Intersect multiple sets and store the resulting set in a key",
        Write(sinterstore_command),
    ),
    cmd(
        "sunion",
        -2,
        "readonly",
        (1, -1, 1),
        Group::Set,
        "key [key ...]",
        "Add multiple sets",
        Read(sunion_command),
    ),
    cmd(
        "sunionstore",
        -3,
        "write denyoom",
        (1, -1, 1),
        Group::Set,
        "destination key [key ...]",
        "Add multiple sets and store the resulting set in a key",
        Write(sunionstore_command),
    ),
    cmd(
        "sdiff",
        -2,
        "readonly",
        (1, -1, 1),
        Group::Set,
        "key [key ...]",
        "Subtract multiple sets",
        Read(sdiff_command),
    ),
    cmd(
        "sdiffstore",
        -3,
        "write denyoom",
        (1, -1, 1),
        Group::Set,
        "destination key [key ...]",
        "Subtract multiple sets and store the resulting set in a key",
        Write(sdiffstore_command),
    ),
    cmd(
        "sscan",
        -3,
        "readonly",
        (1, 1, 1),
        Group::Set,
        "key cursor [MATCH pattern] [COUNT count]",
        "Incrementally iterate Set elements",
        Read(sscan_command),
    ),
];

/// The set stored at `key`; None when absent; WRONGTYPE for other types.
pub fn get_set<'a>(db: &'a Db, key: &[u8], now_ms: i64) -> Result<Option<&'a Set>, CmdError> {
    match db.get_value(key, now_ms) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The set stored at `key` for writing (expired keys are deleted first).
fn get_set_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    now_ms: i64,
) -> Result<Option<&'a mut Set>, CmdError> {
    match db.get_value_mut(key, now_ms) {
        None => Ok(None),
        Some(Value::Set(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The set at `key`, created empty when absent. Callers only use it once a
/// member is certain to be added.
fn set_or_create<'a>(db: &'a mut Db, key: &[u8], now_ms: i64) -> Result<&'a mut Set, CmdError> {
    if get_set_mut(db, key, now_ms)?.is_none() {
        db.set(key, Value::Set(Set::new()), now_ms);
    }
    Ok(get_set_mut(db, key, now_ms)?.expect("the key was just made a set"))
}

/// Writes a whole set as a set reply.
fn reply_members(ctx: &mut Ctx, set: &Set) {
    ctx.reply.set(set.len());
    for member in set.iter() {
        ctx.reply.bulk(&member);
    }
}

/// SADD key member [member ...] — integer: how many members were new.
fn sadd_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let db = ctx.db_mut(store);
    let set = set_or_create(db, args[1], ctx.now_ms)?;
    let added = args[2..].iter().filter(|m| set.insert(m)).count();
    if added > 0 {
        ctx.notify('s', "sadd", args[1]);
    }
    ctx.dirty += added as u64;
    ctx.reply.integer(added as i64);
    Ok(())
}

/// SREM key member [member ...] — integer: how many members were removed.
/// The key is deleted with its last member.
fn srem_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let db = ctx.db_mut(store);
    let Some(set) = get_set_mut(db, args[1], ctx.now_ms)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let mut removed = 0;
    for member in &args[2..] {
        if set.remove(member) {
            removed += 1;
            if set.is_empty() {
                break;
            }
        }
    }
    let key_removed = set.is_empty();
    if key_removed {
        db.remove(args[1]);
    }
    if removed > 0 {
        ctx.notify('s', "srem", args[1]);
        if key_removed {
            ctx.notify('g', "del", args[1]);
        }
        ctx.dirty += removed;
    }
    ctx.reply.integer(removed as i64);
    Ok(())
}

/// SMEMBERS key — set of every member (empty when absent). An intset
/// lists in ascending order.
fn smembers_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    match get_set(ctx.db(store), args[1], ctx.now_ms)? {
        Some(set) => reply_members(ctx, set),
        None => ctx.reply.set(0),
    }
    Ok(())
}

/// SISMEMBER key member — integer: 1 if member is in the set, else 0.
fn sismember_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let found = get_set(ctx.db(store), args[1], ctx.now_ms)?.is_some_and(|s| s.contains(args[2]));
    ctx.reply.integer(found as i64);
    Ok(())
}

/// SMISMEMBER key member [member ...] — array of 1/0, one per member.
fn smismember_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let set = get_set(ctx.db(store), args[1], ctx.now_ms)?;
    ctx.reply.array(args.len() - 2);
    for member in &args[2..] {
        ctx.reply
            .integer(set.is_some_and(|s| s.contains(member)) as i64);
    }
    Ok(())
}

/// SCARD key — integer: the number of members (0 when absent).
fn scard_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let n = get_set(ctx.db(store), args[1], ctx.now_ms)?.map_or(0, Set::len);
    ctx.reply.integer(n as i64);
    Ok(())
}

/// How many times the members left behind must outnumber the ones popped
/// for SPOP to pop one by one; otherwise it moves the survivors to a new
/// set and replies with the old one (Redis's SPOP_MOVE_STRATEGY_MUL).
const SPOP_MOVE_STRATEGY_MUL: usize = 5;

/// SPOP key [count] — without count: a random member, removed (bulk), or
/// null when the key is absent. With count: a set of up to `count` removed
/// members (empty when absent). The key is deleted with its last member.
fn spop_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let count = match args.get(2) {
        None => None,
        Some(arg) => match parse_i64(arg) {
            Some(n) if n >= 0 => Some(n as u64),
            _ => return Err(CmdError::err("value is out of range, must be positive")),
        },
    };
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let Some(set) = get_set_mut(db, args[1], now)? else {
        match count {
            None => ctx.reply.null(),
            Some(_) => ctx.reply.set(0),
        }
        return Ok(());
    };
    let size = set.len();
    let mut popped: Vec<Vec<u8>> = Vec::new();
    match count {
        None => {
            let member = set.pop_random().unwrap_or_default();
            ctx.reply.bulk(&member);
            popped.push(member);
            ctx.dirty += 1;
        }
        Some(0) => {
            ctx.reply.set(0);
            return Ok(());
        }
        Some(n) if n >= size as u64 => {
            reply_members(ctx, set);
            popped.extend(set.iter().map(|m| m.to_vec()));
            *set = Set::new();
            ctx.dirty += size as u64;
        }
        Some(n) => {
            let n = n as usize;
            let remaining = size - n;
            ctx.reply.set(n);
            if remaining * SPOP_MOVE_STRATEGY_MUL > n {
                for _ in 0..n {
                    let member = set.pop_random().unwrap_or_default();
                    ctx.reply.bulk(&member);
                    popped.push(member);
                }
            } else {
                // Move the few survivors to a new set, reply with the rest.
                let mut kept = Set::new();
                for _ in 0..remaining {
                    if let Some(member) = set.pop_random() {
                        kept.insert(&member);
                    }
                }
                for member in set.iter() {
                    ctx.reply.bulk(&member);
                    popped.push(member.to_vec());
                }
                *set = kept;
            }
            ctx.dirty += n as u64;
        }
    }
    let key_removed = set.is_empty();
    // Random: the AOF logs what happened, an SREM of the popped members.
    let mut srem = vec![b"SREM".to_vec(), args[1].to_vec()];
    srem.extend(popped);
    ctx.propagate_override(vec![srem]);
    ctx.notify('s', "spop", args[1]);
    if key_removed {
        db.remove(args[1]);
        ctx.notify('g', "del", args[1]);
    }
    Ok(())
}

/// How many times bigger than the count a set must be for SRANDMEMBER to
/// pick members at random rather than copy the set and drop members
/// (Redis's SRANDMEMBER_SUB_STRATEGY_MUL).
const SRANDMEMBER_SUB_STRATEGY_MUL: u64 = 3;

/// SRANDMEMBER key [count] — without count: a random member (bulk), or
/// null when the key is absent. With count: an array of up to `count`
/// distinct members, or with a negative count exactly `-count` members that
/// may repeat (empty when absent).
fn srandmember_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    let Some(arg) = args.get(2) else {
        match get_set(ctx.db(store), args[1], ctx.now_ms)?.and_then(Set::random_member) {
            Some(member) => ctx.reply.bulk(&member),
            None => ctx.reply.null(),
        }
        return Ok(());
    };
    let count = parse_i64(arg).ok_or(CmdError::NotInteger)?;
    if count == i64::MIN {
        return Err(count_range_error());
    }
    let Some(set) = get_set(ctx.db(store), args[1], ctx.now_ms)? else {
        ctx.reply.array(0);
        return Ok(());
    };
    let size = set.len() as u64;
    let wanted = count.unsigned_abs();
    if wanted == 0 {
        ctx.reply.array(0);
    } else if count < 0 || wanted == 1 {
        ctx.reply.array(wanted as usize);
        for _ in 0..wanted {
            if let Some(member) = set.random_member() {
                ctx.reply.bulk(&member);
            }
        }
    } else if wanted >= size {
        ctx.reply.array(size as usize);
        for member in set.iter() {
            ctx.reply.bulk(&member);
        }
    } else if wanted * SRANDMEMBER_SUB_STRATEGY_MUL > size {
        // Most of the set: shuffle the first `wanted` places of a copy.
        let mut members: Vec<_> = set.iter().collect();
        ctx.reply.array(wanted as usize);
        for i in 0..wanted as usize {
            let j = i + random_below(members.len() - i);
            members.swap(i, j);
            ctx.reply.bulk(&members[i]);
        }
    } else {
        // A small part of a big set: pick until enough distinct members.
        ctx.reply.array(wanted as usize);
        let mut picked = HashSet::new();
        while (picked.len() as u64) < wanted {
            let Some(member) = set.random_member() else {
                break;
            };
            if !picked.contains(&*member) {
                ctx.reply.bulk(&member);
                picked.insert(member.into_owned());
            }
        }
    }
    Ok(())
}

/// SMOVE source destination member — integer: 1 if moved, 0 if member was
/// not in source. A missing source answers 0 before any type check.
fn smove_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let (src, dst, member) = (args[1], args[2], args[3]);
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    db.expire_if_needed(dst, now);
    let Some(src_set) = db.get_value(src, now) else {
        db.expire_if_needed(src, now);
        ctx.reply.integer(0);
        return Ok(());
    };
    let Value::Set(src_set) = src_set else {
        return Err(CmdError::WrongType);
    };
    get_set(db, dst, now)?;
    if src == dst {
        ctx.reply.integer(src_set.contains(member) as i64);
        return Ok(());
    }
    let src_set = get_set_mut(db, src, now)?.expect("source was found above");
    if !src_set.remove(member) {
        ctx.reply.integer(0);
        return Ok(());
    }
    ctx.notify('s', "srem", src);
    if src_set.is_empty() {
        db.remove(src);
        ctx.notify('g', "del", src);
    }
    ctx.dirty += 1;
    // SMOVE signals WATCHers itself (the dispatcher skips it): the
    // destination only when the member was really added to it.
    let watches = &ctx.server.watches;
    watches.touch(ctx.client.db, src);
    if set_or_create(db, dst, now)?.insert(member) {
        ctx.dirty += 1;
        watches.touch(ctx.client.db, dst);
        ctx.notify('s', "sadd", dst);
    }
    ctx.reply.integer(1);
    Ok(())
}

/// Looks up every key as a set (None for a missing key); fails with
/// WRONGTYPE if any key holds another type.
fn lookup_sets<'a>(
    db: &'a Db,
    keys: &[&[u8]],
    now_ms: i64,
) -> Result<Vec<Option<&'a Set>>, CmdError> {
    keys.iter().map(|k| get_set(db, k, now_ms)).collect()
}

/// The intersection of `sets` (Redis's `sinterGenericCommand`): walks the
/// smallest set and keeps the members every other set has, stopping after
/// `limit` members when `limit` is not 0, and calls `keep` for each. A
/// missing key makes the intersection empty without looking further.
fn intersect<'a>(sets: &[Option<&'a Set>], limit: usize, mut keep: impl FnMut(&[u8])) {
    let Some(mut sets) = sets.iter().copied().collect::<Option<Vec<&'a Set>>>() else {
        return;
    };
    sets.sort_by_key(|s| s.len());
    let Some((first, rest)) = sets.split_first() else {
        return;
    };
    let mut found = 0;
    for member in first.iter() {
        if rest
            .iter()
            .all(|s| std::ptr::eq(*s, *first) || s.contains(&member))
        {
            keep(&member);
            found += 1;
            if limit != 0 && found >= limit {
                break;
            }
        }
    }
}

/// Stores `result` at `dst` (replacing whatever was there and its TTL) or,
/// when it is empty, deletes `dst`; replies with the result's size.
fn store_result(ctx: &mut Ctx, db: &mut Db, dst: &[u8], result: Set, event: &'static str) {
    let len = result.len();
    if len > 0 {
        db.set(dst, Value::Set(result), ctx.now_ms);
        ctx.notify('s', event, dst);
        ctx.dirty += 1;
    } else {
        db.expire_if_needed(dst, ctx.now_ms);
        if db.remove(dst).is_some() {
            ctx.notify('g', "del", dst);
            ctx.dirty += 1;
        }
    }
    ctx.reply.integer(len as i64);
}

/// SINTER key [key ...] — set of the members present in every set (a
/// missing key is empty, so the result is too).
fn sinter_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let sets = lookup_sets(ctx.db(store), &args[1..], ctx.now_ms)?;
    let mut members = Vec::new();
    intersect(&sets, 0, |m| members.push(m.to_vec()));
    ctx.reply.set(members.len());
    for m in &members {
        ctx.reply.bulk(m);
    }
    Ok(())
}

/// SINTERCARD numkeys key [key ...] [LIMIT limit] — integer: the size of
/// the intersection, counting no further than `limit` (0 = no limit).
fn sintercard_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let numkeys = match parse_i64(args[1]) {
        Some(n) if n >= 1 => n as usize,
        _ => return Err(CmdError::err("numkeys should be greater than 0")),
    };
    if numkeys > args.len() - 2 {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    let keys = &args[2..2 + numkeys];
    let mut limit = 0;
    let mut i = 2 + numkeys;
    while i < args.len() {
        match args.get(i + 1) {
            Some(value) if args[i].eq_ignore_ascii_case(b"limit") => {
                limit = match parse_i64(value) {
                    Some(n) if n >= 0 => n as usize,
                    _ => return Err(CmdError::err("LIMIT can't be negative")),
                };
                i += 2;
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    let sets = lookup_sets(ctx.db(store), keys, ctx.now_ms)?;
    let mut count = 0;
    intersect(&sets, limit, |_| count += 1);
    ctx.reply.integer(count);
    Ok(())
}

/// SINTERSTORE destination key [key ...] — integer: the size of the
/// intersection stored at destination (deleted when empty).
fn sinterstore_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let db = ctx.db_mut(store);
    let mut result = Set::new();
    let sets = lookup_sets(db, &args[2..], ctx.now_ms)?;
    intersect(&sets, 0, |m| {
        result.insert(m);
    });
    store_result(ctx, db, args[1], result, "sinterstore");
    Ok(())
}

/// Which of SUNION and SDIFF.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Union,
    Diff,
}

/// The union of `sets`, or the members of the first set that no other set
/// has (Redis's `sunionDiffGenericCommand`), as a fresh set.
fn union_or_diff(keys: &[&[u8]], sets: &[Option<&Set>], op: SetOp) -> Set {
    let mut result = Set::new();
    match op {
        SetOp::Union => {
            for set in sets.iter().flatten() {
                for member in set.iter() {
                    result.insert(&member);
                }
            }
        }
        SetOp::Diff => {
            let Some(Some(first)) = sets.first() else {
                return result;
            };
            // The first key named again: everything is subtracted.
            if keys.iter().skip(1).any(|k| *k == keys[0]) {
                return result;
            }
            let others: Vec<&Set> = sets.iter().skip(1).flatten().copied().collect();
            for member in first.iter() {
                if !others.iter().any(|s| s.contains(&member)) {
                    result.insert(&member);
                }
            }
        }
    }
    result
}

/// The shared body of SUNION and SDIFF: replies with the result as a set.
fn union_diff_generic(ctx: &mut Ctx, store: &Store, args: &[&[u8]], op: SetOp) -> CmdResult {
    let keys = &args[1..];
    let sets = lookup_sets(ctx.db(store), keys, ctx.now_ms)?;
    let result = union_or_diff(keys, &sets, op);
    reply_members(ctx, &result);
    Ok(())
}

/// The shared body of SUNIONSTORE and SDIFFSTORE.
fn union_diff_store_generic(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
    op: SetOp,
) -> CmdResult {
    let keys = &args[2..];
    let db = ctx.db_mut(store);
    let sets = lookup_sets(db, keys, ctx.now_ms)?;
    let result = union_or_diff(keys, &sets, op);
    let event = match op {
        SetOp::Union => "sunionstore",
        SetOp::Diff => "sdiffstore",
    };
    store_result(ctx, db, args[1], result, event);
    Ok(())
}

/// SUNION key [key ...] — set of the members of any of the sets.
fn sunion_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    union_diff_generic(ctx, store, args, SetOp::Union)
}

/// SUNIONSTORE destination key [key ...] — integer: the size of the union
/// stored at destination (deleted when empty).
fn sunionstore_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    union_diff_store_generic(ctx, store, args, SetOp::Union)
}

/// SDIFF key [key ...] — set of the members of the first set that are in
/// none of the others.
fn sdiff_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    union_diff_generic(ctx, store, args, SetOp::Diff)
}

/// SDIFFSTORE destination key [key ...] — integer: the size of the
/// difference stored at destination (deleted when empty).
fn sdiffstore_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    union_diff_store_generic(ctx, store, args, SetOp::Diff)
}

/// SSCAN key cursor [MATCH pattern] [COUNT count] — the next cursor and an
/// array of members. An intset comes back whole, with cursor 0.
fn sscan_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let cursor = parse_cursor(args[2])?;
    let Some(set) = get_set(ctx.db(store), args[1], ctx.now_ms)? else {
        reply_scan(ctx, 0, &[]);
        return Ok(());
    };
    scan_collection(ctx, &args[3..], cursor, false, |c, items| {
        set.scan(c, |m| items.push(m.to_vec()))
    })
}
