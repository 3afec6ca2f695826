//! Sorted-set commands: ZADD, ZRANGE and its family, ZPOP, set algebra.
//!
//! The structure itself is `store/zset` (a skip list plus a member index);
//! this family is the command layer over it, split by concept as Redis's
//! t_zset.c is:
//!
//! ```text
//! zsets.rs          the table; lookups; ZADD ZINCRBY ZREM ZCARD ZSCORE ZMSCORE
//!                   ZRANK ZREVRANK ZRANDMEMBER ZSCAN; reply helpers
//! zsets/range.rs    ZRANGE (BYSCORE BYLEX REV LIMIT) and its legacy forms,
//!                   ZRANGESTORE, ZCOUNT, ZLEXCOUNT, ZREMRANGEBY*
//! zsets/pop.rs      ZPOPMIN ZPOPMAX ZMPOP and the blocking BZPOPMIN BZPOPMAX BZMPOP
//! zsets/setops.rs   ZUNION ZINTER ZDIFF (and *STORE), ZINTERCARD
//! ```
//!
//! Encoding: Redis reports "listpack" for a small set and "skiplist" once it
//! outgrew `zset-max-listpack-entries` / `zset-max-listpack-value`. Every
//! command that adds members reads both limits once (`Limits::of`) and
//! tells the set ([`ZSet::note_growth`]); commands that build a new set
//! (*STORE) let it pick its encoding from its size ([`ZSet::fit_encoding`]).
//!
//! Scores are never NaN in a set: ZADD refuses a NaN argument ("not a valid
//! float") and an increment that would produce one ("resulting score is not a
//! number (NaN)"); the set algebra turns NaN into 0 as Redis does.
//!
//! Replies with scores: RESP2 gets a flat array `member, score, ...` with
//! scores as bulk strings in `%.17g`; RESP3 gets an array of `[member,
//! double]` pairs, as Redis 7.0 does (`reply_elements`).

mod pop;
mod range;
mod setops;

use super::keys::{parse_scan_options, reply_scan};
use super::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::store::glob::glob_match;
use crate::store::number::{format_double, parse_score};
use crate::store::zset::ZSet;
use crate::store::{Db, Store, Value};
use crate::util::random_below;

use Handler::{Read, Write};

/// The sorted-set family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd("zadd", -4, "write denyoom fast", (1, 1, 1), Group::SortedSet, "key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]", "Add one or more members to a sorted set, or update its score if it already exists", Write(zadd_command)),
    cmd("zincrby", 4, "write denyoom fast", (1, 1, 1), Group::SortedSet, "key increment member", "Increment the score of a member in a sorted set", Write(zincrby_command)),
    cmd("zrem", -3, "write fast", (1, 1, 1), Group::SortedSet, "key member [member ...]", "Remove one or more members from a sorted set", Write(zrem_command)),
    cmd("zcard", 2, "readonly fast", (1, 1, 1), Group::SortedSet, "key", "Get the number of members in a sorted set", Read(zcard_command)),
    cmd("zscore", 3, "readonly fast", (1, 1, 1), Group::SortedSet, "key member", "Get the score associated with the given member in a sorted set", Read(zscore_command)),
    cmd("zmscore", -3, "readonly fast", (1, 1, 1), Group::SortedSet, "key member [member ...]", "Get the score associated with the given members in a sorted set", Read(zmscore_command)),
    cmd("zrank", 3, "readonly fast", (1, 1, 1), Group::SortedSet, "key member", "Determine the index of a member in a sorted set", Read(zrank_command)),
    cmd("zrevrank", 3, "readonly fast", (1, 1, 1), Group::SortedSet, "key member", "Determine the index of a member in a sorted set, with scores ordered from high to low", Read(zrevrank_command)),
    cmd("zcount", 4, "readonly fast", (1, 1, 1), Group::SortedSet, "key min max", "Count the members in a sorted set with scores within the given values", Read(range::zcount_command)),
    cmd("zlexcount", 4, "readonly fast", (1, 1, 1), Group::SortedSet, "key min max", "Count the number of members in a sorted set between a given lexicographical range", Read(range::zlexcount_command)),
    cmd("zrange", -4, "readonly", (1, 1, 1), Group::SortedSet, "key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]", "Return a range of members in a sorted set", Read(range::zrange_command)),
    cmd("zrangestore", -5, "write denyoom", (1, 2, 1), Group::SortedSet, "dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]", "Store a range of members from sorted set into another key", Write(range::zrangestore_command)),
    cmd("zrevrange", -4, "readonly", (1, 1, 1), Group::SortedSet, "key start stop [WITHSCORES]", "Return a range of members in a sorted set, by index, with scores ordered from high to low", Read(range::zrevrange_command)),
    cmd("zrangebyscore", -4, "readonly", (1, 1, 1), Group::SortedSet, "key min max [WITHSCORES] [LIMIT offset count]", "Return a range of members in a sorted set, by score", Read(range::zrangebyscore_command)),
    cmd("zrevrangebyscore", -4, "readonly", (1, 1, 1), Group::SortedSet, "key max min [WITHSCORES] [LIMIT offset count]", "Return a range of members in a sorted set, by score, with scores ordered from high to low", Read(range::zrevrangebyscore_command)),
    cmd("zrangebylex", -4, "readonly", (1, 1, 1), Group::SortedSet, "key min max [LIMIT offset count]", "Return a range of members in a sorted set, by lexicographical range", Read(range::zrangebylex_command)),
    cmd("zrevrangebylex", -4, "readonly", (1, 1, 1), Group::SortedSet, "key max min [LIMIT offset count]", "Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings", Read(range::zrevrangebylex_command)),
    cmd("zremrangebyrank", 4, "write", (1, 1, 1), Group::SortedSet, "key start stop", "Remove all members in a sorted set within the given indexes", Write(range::zremrangebyrank_command)),
    cmd("zremrangebyscore", 4, "write", (1, 1, 1), Group::SortedSet, "key min max", "Remove all members in a sorted set within the given scores", Write(range::zremrangebyscore_command)),
    cmd("zremrangebylex", 4, "write", (1, 1, 1), Group::SortedSet, "key min max", "Remove all members in a sorted set between the given lexicographical range", Write(range::zremrangebylex_command)),
    cmd("zpopmin", -2, "write fast", (1, 1, 1), Group::SortedSet, "key [count]", "Remove and return members with the lowest scores in a sorted set", Write(pop::zpopmin_command)),
    cmd("zpopmax", -2, "write fast", (1, 1, 1), Group::SortedSet, "key [count]", "Remove and return members with the highest scores in a sorted set", Write(pop::zpopmax_command)),
    cmd("zmpop", -4, "write movablekeys", (0, 0, 0), Group::SortedSet, "numkeys key [key ...] MIN|MAX [COUNT count]", "Remove and return members with scores in a sorted set", Write(pop::zmpop_command)),
    cmd("bzpopmin", -3, "write noscript blocking fast", (1, -2, 1), Group::SortedSet, "key [key ...] timeout", "Remove and return the member with the lowest score from one or more sorted sets, or block until one is available", Write(pop::bzpopmin_command)),
    cmd("bzpopmax", -3, "write noscript blocking fast", (1, -2, 1), Group::SortedSet, "key [key ...] timeout", "Remove and return the member with the highest score from one or more sorted sets, or block until one is available", Write(pop::bzpopmax_command)),
    cmd("bzmpop", -5, "write blocking movablekeys", (0, 0, 0), Group::SortedSet, "timeout numkeys key [key ...] MIN|MAX [COUNT count]", "Remove and return members with scores in a sorted set or block until one is available", Write(pop::bzmpop_command)),
    cmd("zunion", -3, "readonly movablekeys", (0, 0, 0), Group::SortedSet, "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]", "Add multiple sorted sets", Read(setops::zunion_command)),
    cmd("zinter", -3, "readonly movablekeys", (0, 0, 0), Group::SortedSet, "numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX] [WITHSCORES]", "Intersect multiple sorted sets", Read(setops::zinter_command)),
    cmd("zdiff", -3, "readonly movablekeys", (0, 0, 0), Group::SortedSet, "numkeys key [key ...] [WITHSCORES]", "Subtract multiple sorted sets", Read(setops::zdiff_command)),
    cmd("zunionstore", -4, "write denyoom movablekeys", (1, 1, 1), Group::SortedSet, "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]", "Add multiple sorted sets and store the resulting sorted set in a new key", Write(setops::zunionstore_command)),
    cmd("zinterstore", -4, "write denyoom movablekeys", (1, 1, 1), Group::SortedSet, "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] [AGGREGATE SUM|MIN|MAX]", "Intersect multiple sorted sets and store the resulting sorted set in a new key", Write(setops::zinterstore_command)),
    cmd("zdiffstore", -4, "write denyoom movablekeys", (1, 1, 1), Group::SortedSet, "destination numkeys key [key ...]", "Subtract multiple sorted sets and store the resulting sorted set in a new key", Write(setops::zdiffstore_command)),
    cmd("zintercard", -3, "readonly movablekeys", (0, 0, 0), Group::SortedSet, "numkeys key [key ...] [LIMIT limit]", "Intersect multiple sorted sets and return the cardinality of the result", Read(setops::zintercard_command)),
    cmd("zrandmember", -2, "readonly", (1, 1, 1), Group::SortedSet, "key [count [WITHSCORES]]", "Get one or multiple random elements from a sorted set", Read(zrandmember_command)),
    cmd("zscan", -3, "readonly", (1, 1, 1), Group::SortedSet, "key cursor [MATCH pattern] [COUNT count]", "Incrementally iterate sorted sets elements and associated scores", Read(zscan_command)),
];

/// The listpack limits, as configured (see [`crate::config::HotLimits`]).
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    /// `zset-max-listpack-entries`.
    pub entries: usize,
    /// `zset-max-listpack-value`, in bytes.
    pub value_bytes: usize,
}

impl Limits {
    /// The current limits.
    pub(crate) fn of(_ctx: &Ctx) -> Limits {
        use crate::config::{HotLimits, HOT_LIMITS};
        Limits {
            entries: HotLimits::get(&HOT_LIMITS.zset_entries),
            value_bytes: HotLimits::get(&HOT_LIMITS.zset_value_bytes),
        }
    }
}

/// The sorted set at `key`; None when absent; WRONGTYPE for other types.
pub(crate) fn zset_ref<'a>(
    db: &'a Db,
    key: &[u8],
    now_ms: i64,
) -> Result<Option<&'a ZSet>, CmdError> {
    match db.get_value(key, now_ms) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The sorted set at `key` for writing; None when absent; WRONGTYPE for others.
pub(crate) fn zset_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    now_ms: i64,
) -> Result<Option<&'a mut ZSet>, CmdError> {
    match db.get_value_mut(key, now_ms) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// Deletes `key` if its set became empty (Redis never keeps an empty
/// collection), raising the "del" event. Returns true if it did.
pub(crate) fn remove_if_empty(ctx: &mut Ctx, db: &mut Db, key: &[u8]) -> bool {
    let empty = matches!(db.get_value(key, ctx.now_ms), Some(Value::ZSet(z)) if z.is_empty());
    if empty {
        db.remove(key);
        ctx.notify('g', "del", key);
    }
    empty
}

/// Stores `result` under `dst` (the *STORE commands): an empty result deletes
/// `dst` instead. Raises `event` or "del", counts the change, and returns the
/// stored cardinality (the reply of every *STORE command).
pub(crate) fn store_result(
    ctx: &mut Ctx,
    store: &mut Store,
    dst: &[u8],
    mut result: ZSet,
    event: &'static str,
) -> usize {
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let n = result.len();
    if n > 0 {
        let limits = Limits::of(ctx);
        result.fit_encoding(limits.entries, limits.value_bytes);
        db.set(dst, Value::ZSet(Box::new(result)), now);
        ctx.notify('z', event, dst);
        ctx.dirty += 1;
    } else if db.get_mut(dst, now).is_some() {
        db.remove(dst);
        ctx.notify('g', "del", dst);
        ctx.dirty += 1;
    }
    n
}

/// Writes `(member, score)` elements: members only, or with scores as a
/// flat array (RESP2) or `[member, score]` pairs (RESP3).
pub(crate) fn reply_elements<'a>(
    ctx: &mut Ctx,
    elements: impl ExactSizeIterator<Item = (&'a [u8], f64)>,
    withscores: bool,
) {
    let n = elements.len();
    if !withscores {
        ctx.reply.array(n);
        for (m, _) in elements {
            ctx.reply.bulk(m);
        }
    } else if ctx.reply.resp3() {
        ctx.reply.array(n);
        for (m, s) in elements {
            ctx.reply.array(2);
            ctx.reply.bulk(m);
            ctx.reply.double(s);
        }
    } else {
        ctx.reply.array(n * 2);
        for (m, s) in elements {
            ctx.reply.bulk(m);
            ctx.reply.double(s);
        }
    }
}

/// ZADD's options after parsing.
#[derive(Default)]
struct AddFlags {
    nx: bool,
    xx: bool,
    gt: bool,
    lt: bool,
    ch: bool,
    incr: bool,
}

/// What adding one element did.
enum AddOutcome {
    Added,
    Updated(f64),
    /// The score was already that value (counts for INCR's reply only).
    Same(f64),
    /// NX, XX, GT or LT kept it from changing.
    Skipped,
}

/// Adds or updates one element under `flags`, as Redis's `zsetAdd`.
fn add_one(
    zs: &mut ZSet,
    member: &[u8],
    score: f64,
    flags: &AddFlags,
    limits: Limits,
) -> Result<AddOutcome, CmdError> {
    match zs.score(member) {
        Some(current) => {
            if flags.nx {
                return Ok(AddOutcome::Skipped);
            }
            let new = if flags.incr { score + current } else { score };
            if new.is_nan() {
                return Err(CmdError::err("resulting score is not a number (NaN)"));
            }
            if (flags.lt && new >= current) || (flags.gt && new <= current) {
                return Ok(AddOutcome::Skipped);
            }
            if new == current {
                return Ok(AddOutcome::Same(new));
            }
            zs.insert(member, new);
            Ok(AddOutcome::Updated(new))
        }
        None if flags.xx => Ok(AddOutcome::Skipped),
        None => {
            zs.insert(member, score);
            zs.note_growth(member.len(), limits.entries, limits.value_bytes);
            Ok(AddOutcome::Added)
        }
    }
}

/// The shared body of ZADD and ZINCRBY (Redis's `zaddGenericCommand`);
/// `flags_at` is where options may start, the score-member pairs follow.
fn zadd_generic(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
    mut flags: AddFlags,
) -> CmdResult {
    let key = args[1];
    let mut i = 2;
    if !flags.incr {
        while let Some(arg) = args.get(i) {
            match arg.to_ascii_uppercase().as_slice() {
                b"NX" => flags.nx = true,
                b"XX" => flags.xx = true,
                b"GT" => flags.gt = true,
                b"LT" => flags.lt = true,
                b"CH" => flags.ch = true,
                b"INCR" => flags.incr = true,
                _ => break,
            }
            i += 1;
        }
    }
    let pairs = &args[i..];
    if pairs.is_empty() || !pairs.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    if flags.nx && flags.xx {
        return Err(CmdError::err(
            "XX and NX options at the same time are not compatible",
        ));
    }
    if (flags.nx && (flags.gt || flags.lt)) || (flags.gt && flags.lt) {
        return Err(CmdError::err(
            "GT, LT, and/or NX options at the same time are not compatible",
        ));
    }
    if flags.incr && pairs.len() > 2 {
        return Err(CmdError::err(
            "INCR option supports a single increment-element pair",
        ));
    }
    let mut elements = Vec::with_capacity(pairs.len() / 2);
    for pair in pairs.chunks_exact(2) {
        elements.push((parse_score(pair[0]).ok_or(CmdError::NotFloat)?, pair[1]));
    }

    let limits = Limits::of(ctx);
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let exists = zset_mut(db, key, now)?.is_some();
    if !exists {
        if flags.xx {
            if flags.incr {
                ctx.reply.null();
            } else {
                ctx.reply.integer(0);
            }
            return Ok(());
        }
        db.set(key, Value::ZSet(Box::default()), now);
    }
    let zs = zset_mut(db, key, now)?.expect("created above");
    let (mut added, mut updated) = (0i64, 0i64);
    let mut last_score = None;
    let mut failure = None;
    for (score, member) in elements {
        match add_one(zs, member, score, &flags, limits) {
            Ok(AddOutcome::Added) => {
                added += 1;
                last_score = Some(score);
            }
            Ok(AddOutcome::Updated(s)) => {
                updated += 1;
                last_score = Some(s);
            }
            Ok(AddOutcome::Same(s)) => last_score = Some(s),
            Ok(AddOutcome::Skipped) => {}
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    // A set created here stays only if something went in (NaN can only come
    // from an existing member, so this is for the record).
    remove_if_empty(ctx, db, key);
    if added + updated > 0 {
        ctx.notify('z', if flags.incr { "zincr" } else { "zadd" }, key);
        ctx.dirty += (added + updated) as u64;
    }
    if let Some(e) = failure {
        return Err(e);
    }
    if flags.incr {
        match last_score {
            Some(s) => ctx.reply.double(s),
            None => ctx.reply.null(),
        }
    } else {
        ctx.reply
            .integer(if flags.ch { added + updated } else { added });
    }
    Ok(())
}

/// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...] —
/// integer: members added (with CH: added or changed); with INCR, the new
/// score as a double, or null when NX/XX/GT/LT prevented the change.
fn zadd_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    zadd_generic(ctx, store, args, AddFlags::default())
}

/// ZINCRBY key increment member — the new score (double). Creates the set
/// and the member as needed; an increment giving NaN (inf + -inf) fails.
fn zincrby_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let flags = AddFlags {
        incr: true,
        ..AddFlags::default()
    };
    zadd_generic(ctx, store, args, flags)
}

/// ZREM key member [member ...] — integer: how many members were removed.
/// The key goes when its last member does.
fn zrem_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let Some(zs) = zset_mut(db, args[1], now)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let removed = args[2..].iter().filter(|m| zs.remove(m).is_some()).count();
    if removed > 0 {
        ctx.notify('z', "zrem", args[1]);
        remove_if_empty(ctx, db, args[1]);
        ctx.dirty += removed as u64;
    }
    ctx.reply.integer(removed as i64);
    Ok(())
}

/// ZCARD key — integer: the number of members (0 for a missing key).
fn zcard_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let n = zset_ref(ctx.db(store), args[1], ctx.now_ms)?.map_or(0, ZSet::len);
    ctx.reply.integer(n as i64);
    Ok(())
}

/// ZSCORE key member — the score (double), or null.
fn zscore_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    match zset_ref(ctx.db(store), args[1], ctx.now_ms)?.and_then(|z| z.score(args[2])) {
        Some(s) => ctx.reply.double(s),
        None => ctx.reply.null(),
    }
    Ok(())
}

/// ZMSCORE key member [member ...] — array of scores (doubles) and nulls.
fn zmscore_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let zs = zset_ref(ctx.db(store), args[1], ctx.now_ms)?;
    ctx.reply.array(args.len() - 2);
    for member in &args[2..] {
        match zs.and_then(|z| z.score(member)) {
            Some(s) => ctx.reply.double(s),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

fn zrank_generic(ctx: &mut Ctx, store: &Store, args: &[&[u8]], reverse: bool) -> CmdResult {
    let zs = zset_ref(ctx.db(store), args[1], ctx.now_ms)?;
    match zs.and_then(|z| z.rank(args[2]).map(|r| (r, z.len()))) {
        Some((rank, len)) => {
            let rank = if reverse { len - 1 - rank } else { rank };
            ctx.reply.integer(rank as i64);
        }
        None => ctx.reply.null(),
    }
    Ok(())
}

/// ZRANK key member — integer: the 0-based rank, lowest score first; null
/// when the key or member is missing.
fn zrank_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    zrank_generic(ctx, store, args, false)
}

/// ZREVRANK key member — integer: the 0-based rank, highest score first; or null.
fn zrevrank_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    zrank_generic(ctx, store, args, true)
}

/// ZRANDMEMBER key [count [WITHSCORES]] — without count, one random member
/// (bulk) or null. A positive count gives up to count distinct members; a
/// negative one gives exactly |count| members, possibly repeated.
fn zrandmember_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let mut withscores = false;
    let count = match args.get(2) {
        None => None,
        Some(a) => {
            let n = parse_i64(a).ok_or(CmdError::NotInteger)?;
            if n == i64::MIN {
                return Err(CmdError::err(format!(
                    "value is out of range, value must between {} and {}",
                    -i64::MAX,
                    i64::MAX
                )));
            }
            if args.len() > 4 || (args.len() == 4 && !args[3].eq_ignore_ascii_case(b"WITHSCORES")) {
                return Err(CmdError::Syntax);
            }
            withscores = args.len() == 4;
            // Room for the doubled reply, as Redis checks.
            if withscores && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&n) {
                return Err(CmdError::err("value is out of range"));
            }
            Some(n)
        }
    };
    let zs = zset_ref(ctx.db(store), args[1], ctx.now_ms)?;
    let Some(count) = count else {
        match zs.and_then(|z| z.get_by_rank(random_below(z.len().max(1)))) {
            Some((m, _)) => ctx.reply.bulk(m),
            None => ctx.reply.null(),
        }
        return Ok(());
    };
    let Some(zs) = zs.filter(|z| !z.is_empty()) else {
        ctx.reply.array(0);
        return Ok(());
    };
    let len = zs.len();
    if count < 0 {
        // Repeats allowed: written as drawn, without building a list, since
        // the count is the client's and may be huge.
        let picks = (0..count.unsigned_abs() as usize).map(|_| {
            zs.get_by_rank(random_below(len))
                .expect("a rank below len exists")
        });
        reply_elements(ctx, picks, withscores);
        return Ok(());
    }
    let ranks: Vec<usize> = if count as u64 >= len as u64 {
        (0..len).collect()
    } else if (count as usize) * 3 > len {
        // Most of the set: drop random ranks until `count` are left.
        let mut ranks: Vec<usize> = (0..len).collect();
        while ranks.len() > count as usize {
            ranks.swap_remove(random_below(ranks.len()));
        }
        ranks
    } else {
        let mut picked = std::collections::HashSet::new();
        while picked.len() < count as usize {
            picked.insert(random_below(len));
        }
        picked.into_iter().collect()
    };
    let elements: Vec<(&[u8], f64)> = ranks
        .into_iter()
        .filter_map(|r| zs.get_by_rank(r))
        .collect();
    reply_elements(ctx, elements.into_iter(), withscores);
    Ok(())
}

/// ZSCAN key cursor [MATCH pattern] [COUNT count] — the next cursor and a
/// flat array of member, score (scores as strings in both protocols).
///
/// Every call returns the whole set and cursor 0, which is what Redis does
/// for a listpack-encoded set: it satisfies SCAN's guarantees trivially. The
/// member index's open addressing moves members backwards on delete, so a
/// resumable cursor over it could miss members.
fn zscan_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let opts = parse_scan_options(&args[2..], false)?;
    let zs = zset_ref(ctx.db(store), args[1], ctx.now_ms)?;
    let mut items = Vec::new();
    for (m, s) in zs.iter().flat_map(|z| z.iter()) {
        if opts.pattern.is_some_and(|p| !glob_match(p, m, false)) {
            continue;
        }
        items.push(m.to_vec());
        items.push(format_double(s).into_bytes());
    }
    reply_scan(ctx, 0, &items);
    Ok(())
}
