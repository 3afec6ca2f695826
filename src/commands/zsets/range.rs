//! ZRANGE in all its forms, ZRANGESTORE, ZCOUNT, ZLEXCOUNT and ZREMRANGEBY*.
//!
//! Redis 7.0 folded ZREVRANGE, ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX
//! and ZREVRANGEBYLEX into ZRANGE's options (`BYSCORE`, `BYLEX`, `REV`,
//! `LIMIT`); the old commands are ZRANGE with some options fixed, and so is
//! here: every form goes through [`zrange_generic`].
//!
//! Every kind of range becomes a range of ascending ranks plus a direction:
//!
//! ```text
//! by rank   start..=stop (negative counts from the end), REV: from the top
//! by score  ZSet::score_range_ranks(min, max)      } then LIMIT offset count
//! by lex    ZSet::lex_range_ranks(min, max)        } is rank arithmetic
//! ```
//!
//! so LIMIT never walks the skipped elements, and the reply length is known
//! before the first element is written.

use std::ops::Range;

use super::{remove_if_empty, reply_elements, store_result, zset_mut, zset_ref};
use crate::commands::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::store::zset::{LexBound, ScoreBound, ZSet};
use crate::store::Store;

/// What a range is over.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rank,
    Score,
    Lex,
}

/// A parsed ZRANGE-family request.
struct RangeRequest<'a> {
    kind: Kind,
    reverse: bool,
    withscores: bool,
    /// LIMIT offset count.
    limit: Option<(i64, i64)>,
    /// The range's two arguments, already put in (min, max) order.
    min: &'a [u8],
    max: &'a [u8],
}

/// A range argument after parsing.
enum Bounds {
    Rank(i64, i64),
    Score(ScoreBound, ScoreBound),
    Lex(LexBound, LexBound),
}

fn score_error() -> CmdError {
    CmdError::err("min or max is not a float")
}

fn lex_error() -> CmdError {
    CmdError::err("min or max not valid string range item")
}

/// Parses the options after `args[first_opt]` the way Redis's
/// `zrangeGenericCommand` does; `kind` / `reverse` are preset by the legacy
/// commands (then BYSCORE, BYLEX and REV are syntax errors).
fn parse_request<'a>(
    args: &[&'a [u8]],
    range_at: usize,
    kind: Option<Kind>,
    reverse: Option<bool>,
    store: bool,
) -> Result<RangeRequest<'a>, CmdError> {
    let (mut kind, mut reverse) = (kind, reverse);
    let mut withscores = false;
    let mut limit = None;
    let mut j = range_at + 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        let opt = args[j].to_ascii_uppercase();
        match opt.as_slice() {
            b"WITHSCORES" if !store => withscores = true,
            b"LIMIT" if left >= 2 => {
                let offset = parse_i64(args[j + 1]).ok_or(CmdError::NotInteger)?;
                let count = parse_i64(args[j + 2]).ok_or(CmdError::NotInteger)?;
                limit = Some((offset, count));
                j += 2;
            }
            b"REV" if reverse.is_none() => reverse = Some(true),
            b"BYLEX" if kind.is_none() => kind = Some(Kind::Lex),
            b"BYSCORE" if kind.is_none() => kind = Some(Kind::Score),
            _ => return Err(CmdError::Syntax),
        }
        j += 1;
    }
    let kind = kind.unwrap_or(Kind::Rank);
    let reverse = reverse.unwrap_or(false);
    if limit.is_some() && kind == Kind::Rank {
        return Err(CmdError::err(
            "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
        ));
    }
    if withscores && kind == Kind::Lex {
        return Err(CmdError::err(
            "syntax error, WITHSCORES not supported in combination with BYLEX",
        ));
    }
    let (mut min, mut max) = (args[range_at], args[range_at + 1]);
    if reverse && kind != Kind::Rank {
        // The reverse forms take the range as max, min.
        std::mem::swap(&mut min, &mut max);
    }
    Ok(RangeRequest {
        kind,
        reverse,
        withscores,
        limit,
        min,
        max,
    })
}

/// Parses the range arguments themselves (after the options, as Redis does).
fn parse_bounds(kind: Kind, min: &[u8], max: &[u8]) -> Result<Bounds, CmdError> {
    Ok(match kind {
        Kind::Rank => Bounds::Rank(
            parse_i64(min).ok_or(CmdError::NotInteger)?,
            parse_i64(max).ok_or(CmdError::NotInteger)?,
        ),
        Kind::Score => Bounds::Score(
            ScoreBound::parse(min).ok_or_else(score_error)?,
            ScoreBound::parse(max).ok_or_else(score_error)?,
        ),
        Kind::Lex => Bounds::Lex(
            LexBound::parse(min).ok_or_else(lex_error)?,
            LexBound::parse(max).ok_or_else(lex_error)?,
        ),
    })
}

/// Turns Redis's `start stop` rank arguments (negative from the end) into
/// ascending ranks in a set of `len`, as `zrangeGenericCommand` clamps them.
fn rank_range(start: i64, stop: i64, len: usize) -> Range<usize> {
    let len_i = len as i64;
    let mut start = if start < 0 { start + len_i } else { start };
    let mut stop = if stop < 0 { stop + len_i } else { stop };
    if start < 0 {
        start = 0;
    }
    if start > stop || start >= len_i {
        return 0..0;
    }
    if stop >= len_i {
        stop = len_i - 1;
    }
    start as usize..stop as usize + 1
}

/// Applies LIMIT offset count to the ascending ranks `r`, walked in
/// `reverse` or not. A negative offset selects nothing; a negative count
/// means "all the rest".
fn apply_limit(r: Range<usize>, reverse: bool, offset: i64, count: i64) -> Range<usize> {
    if offset < 0 {
        return 0..0;
    }
    let skip = (offset as u64).min(r.len() as u64) as usize;
    let rest = r.len() - skip;
    let take = if count < 0 {
        rest
    } else {
        (count as u64).min(rest as u64) as usize
    };
    if reverse {
        r.end - skip - take..r.end - skip
    } else {
        r.start + skip..r.start + skip + take
    }
}

/// The ascending ranks a request selects in `zs` (walk them reversed when
/// the request is).
fn select(zs: &ZSet, bounds: &Bounds, reverse: bool, limit: Option<(i64, i64)>) -> Range<usize> {
    let len = zs.len();
    let ranks = match bounds {
        Bounds::Rank(start, stop) => {
            let r = rank_range(*start, *stop, len);
            if reverse {
                len - r.end..len - r.start
            } else {
                r
            }
        }
        Bounds::Score(min, max) => zs.score_range_ranks(min, max),
        Bounds::Lex(min, max) => zs.lex_range_ranks(min, max),
    };
    match limit {
        Some((offset, count)) => apply_limit(ranks, reverse, offset, count),
        None => ranks,
    }
}

/// The body of every ZRANGE form that replies (not ZRANGESTORE).
fn zrange_generic(
    ctx: &mut Ctx,
    store: &Store,
    args: &[&[u8]],
    kind: Option<Kind>,
    reverse: Option<bool>,
) -> CmdResult {
    let req = parse_request(args, 2, kind, reverse, false)?;
    let bounds = parse_bounds(req.kind, req.min, req.max)?;
    let Some(zs) = zset_ref(ctx.db(store), args[1], ctx.now_ms)? else {
        ctx.reply.array(0);
        return Ok(());
    };
    let ranks = select(zs, &bounds, req.reverse, req.limit);
    let iter = zs.iter_ranks(ranks);
    if req.reverse {
        reply_elements(ctx, iter.rev(), req.withscores);
    } else {
        reply_elements(ctx, iter, req.withscores);
    }
    Ok(())
}

/// ZRANGE key start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count]
/// [WITHSCORES] — array of members (with scores: see `reply_elements`).
/// BYSCORE takes `min max` as ZRANGEBYSCORE, BYLEX as ZRANGEBYLEX; with REV
/// they are given as `max min`.
pub(super) fn zrange_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, store, args, None, None)
}

/// ZREVRANGE key start stop [WITHSCORES] — ranks counted from the highest.
pub(super) fn zrevrange_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, store, args, Some(Kind::Rank), Some(true))
}

/// ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count] — array.
pub(super) fn zrangebyscore_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, store, args, Some(Kind::Score), Some(false))
}

/// ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count] — array,
/// highest first.
pub(super) fn zrevrangebyscore_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, store, args, Some(Kind::Score), Some(true))
}

/// ZRANGEBYLEX key min max [LIMIT offset count] — array of members.
pub(super) fn zrangebylex_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, store, args, Some(Kind::Lex), Some(false))
}

/// ZREVRANGEBYLEX key max min [LIMIT offset count] — array, highest first.
pub(super) fn zrevrangebylex_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    zrange_generic(ctx, store, args, Some(Kind::Lex), Some(true))
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] —
/// integer: the number of elements stored in dst. An empty result deletes dst.
pub(super) fn zrangestore_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let req = parse_request(args, 3, None, None, true)?;
    let bounds = parse_bounds(req.kind, req.min, req.max)?;
    let mut result = ZSet::new();
    if let Some(zs) = zset_ref(ctx.db(store), args[2], ctx.now_ms)? {
        for (m, s) in zs.iter_ranks(select(zs, &bounds, req.reverse, req.limit)) {
            result.insert(m, s);
        }
    }
    let n = store_result(ctx, store, args[1], result, "zrangestore");
    ctx.reply.integer(n as i64);
    Ok(())
}

/// ZCOUNT key min max — integer: members with a score in the range.
pub(super) fn zcount_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let min = ScoreBound::parse(args[2]).ok_or_else(score_error)?;
    let max = ScoreBound::parse(args[3]).ok_or_else(score_error)?;
    let zs = zset_ref(ctx.db(store), args[1], ctx.now_ms)?;
    let n = zs.map_or(0, |z| z.count_in_score_range(&min, &max));
    ctx.reply.integer(n as i64);
    Ok(())
}

/// ZLEXCOUNT key min max — integer: members between the lex bounds.
pub(super) fn zlexcount_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let min = LexBound::parse(args[2]).ok_or_else(lex_error)?;
    let max = LexBound::parse(args[3]).ok_or_else(lex_error)?;
    let zs = zset_ref(ctx.db(store), args[1], ctx.now_ms)?;
    let n = zs.map_or(0, |z| z.count_in_lex_range(&min, &max));
    ctx.reply.integer(n as i64);
    Ok(())
}

/// The body of ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX.
fn zremrange_generic(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
    kind: Kind,
    event: &'static str,
) -> CmdResult {
    let bounds = parse_bounds(kind, args[2], args[3])?;
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let Some(zs) = zset_mut(db, args[1], now)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let ranks = select(zs, &bounds, false, None);
    let doomed: Vec<Vec<u8>> = zs.iter_ranks(ranks).map(|(m, _)| m.to_vec()).collect();
    for m in &doomed {
        zs.remove(m);
    }
    if !doomed.is_empty() {
        ctx.notify('z', event, args[1]);
        remove_if_empty(ctx, db, args[1]);
        ctx.dirty += doomed.len() as u64;
    }
    ctx.reply.integer(doomed.len() as i64);
    Ok(())
}

/// ZREMRANGEBYRANK key start stop — integer: members removed.
pub(super) fn zremrangebyrank_command(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
) -> CmdResult {
    zremrange_generic(ctx, store, args, Kind::Rank, "zremrangebyrank")
}

/// ZREMRANGEBYSCORE key min max — integer: members removed.
pub(super) fn zremrangebyscore_command(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
) -> CmdResult {
    zremrange_generic(ctx, store, args, Kind::Score, "zremrangebyscore")
}

/// ZREMRANGEBYLEX key min max — integer: members removed.
pub(super) fn zremrangebylex_command(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
) -> CmdResult {
    zremrange_generic(ctx, store, args, Kind::Lex, "zremrangebylex")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_ranges_clamp_like_redis() {
        assert_eq!(rank_range(0, -1, 5), 0..5);
        assert_eq!(rank_range(-2, -1, 5), 3..5);
        assert_eq!(rank_range(-10, 2, 5), 0..3);
        assert_eq!(rank_range(3, 1, 5), 0..0);
        assert_eq!(rank_range(5, 10, 5), 0..0);
        assert_eq!(rank_range(0, 100, 5), 0..5);
        assert_eq!(rank_range(0, -1, 0), 0..0);
    }

    #[test]
    fn limit_is_rank_arithmetic() {
        assert_eq!(apply_limit(2..8, false, 1, 2), 3..5);
        assert_eq!(apply_limit(2..8, true, 1, 2), 5..7);
        assert_eq!(apply_limit(2..8, false, 0, -1), 2..8);
        assert_eq!(apply_limit(2..8, false, -1, 2), 0..0);
        assert_eq!(apply_limit(2..8, true, 10, 2), 2..2);
        assert_eq!(apply_limit(2..8, false, 4, 100), 6..8);
    }
}
