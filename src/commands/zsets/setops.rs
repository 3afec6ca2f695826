//! Sorted-set algebra: ZUNION, ZINTER, ZDIFF, their *STORE forms, ZINTERCARD.
//!
//! Inputs may be sorted sets or plain sets (every member of a set has score
//! 1), and a missing key is an empty input, as in Redis's
//! `zunionInterDiffGenericCommand`. Each input's scores are multiplied by
//! its WEIGHTS entry, then equal members are combined by AGGREGATE (SUM by
//! default, MIN or MAX). A NaN from `inf * 0` or `inf + -inf` becomes 0.
//!
//! ```text
//! union   every member of any input        aggregate over the inputs holding it
//! inter   members of the smallest input    kept only if every input holds them
//!         (the others are probed)
//! diff    members of the first input       kept if no other input holds them;
//!                                           score from the first, no weights
//! ```
//!
//! The result is built as a new [`ZSet`], so it comes out in score order.

use std::borrow::Cow;

use super::{reply_elements, store_result};
use crate::commands::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::store::number::parse_score;
use crate::store::set::Set;
use crate::store::zset::ZSet;
use crate::store::{Db, Store, Value};

/// Which operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Union,
    Inter,
    Diff,
}

/// How scores of equal members combine.
#[derive(Clone, Copy)]
enum Aggregate {
    Sum,
    Min,
    Max,
}

impl Aggregate {
    /// Redis's `zunionInterAggregate`.
    fn apply(self, target: f64, value: f64) -> f64 {
        match self {
            Aggregate::Sum => {
                let sum = target + value;
                if sum.is_nan() {
                    0.0
                } else {
                    sum
                }
            }
            Aggregate::Min => target.min(value),
            Aggregate::Max => target.max(value),
        }
    }
}

/// One input: a sorted set, a plain set, or nothing (missing key).
#[derive(Clone, Copy)]
enum Input<'a> {
    ZSet(&'a ZSet),
    Set(&'a Set),
    Empty,
}

// The three functions below are the only places that read the set type.

/// The members of a plain set.
fn set_members(s: &Set) -> impl Iterator<Item = Cow<'_, [u8]>> {
    s.iter()
}

/// True when the plain set holds `member`.
fn set_contains(s: &Set, member: &[u8]) -> bool {
    s.contains(member)
}

/// The number of members of a plain set.
fn set_len(s: &Set) -> usize {
    s.len()
}

impl<'a> Input<'a> {
    fn len(&self) -> usize {
        match self {
            Input::ZSet(z) => z.len(),
            Input::Set(s) => set_len(s),
            Input::Empty => 0,
        }
    }

    fn score(&self, member: &[u8]) -> Option<f64> {
        match self {
            Input::ZSet(z) => z.score(member),
            Input::Set(s) => set_contains(s, member).then_some(1.0),
            Input::Empty => None,
        }
    }

    fn elements(&self) -> Box<dyn Iterator<Item = (Cow<'a, [u8]>, f64)> + 'a> {
        match *self {
            Input::ZSet(z) => Box::new(z.iter().map(|(m, s)| (Cow::Borrowed(m), s))),
            Input::Set(s) => Box::new(set_members(s).map(|m| (m, 1.0))),
            Input::Empty => Box::new(std::iter::empty()),
        }
    }
}

/// Looks up the input keys; WRONGTYPE for anything but sets and zsets.
fn inputs<'a>(db: &'a Db, keys: &[&[u8]], now_ms: i64) -> Result<Vec<Input<'a>>, CmdError> {
    keys.iter()
        .map(|k| match db.get_value(k, now_ms) {
            None => Ok(Input::Empty),
            Some(Value::ZSet(z)) => Ok(Input::ZSet(z)),
            Some(Value::Set(s)) => Ok(Input::Set(s)),
            Some(_) => Err(CmdError::WrongType),
        })
        .collect()
}

/// `numkeys key [key ...]` at `args[0]`: the keys and where options start.
fn parse_keys<'a>(args: &[&'a [u8]], name: &str) -> Result<(Vec<&'a [u8]>, usize), CmdError> {
    let numkeys = parse_i64(args[0]).ok_or(CmdError::NotInteger)?;
    if numkeys < 1 {
        return Err(CmdError::err(format!(
            "at least 1 input key is needed for '{name}' command"
        )));
    }
    if numkeys as u64 > (args.len() - 1) as u64 {
        return Err(CmdError::Syntax);
    }
    let n = numkeys as usize;
    Ok((args[1..=n].to_vec(), n + 1))
}

/// Options after the keys.
struct Options {
    weights: Vec<f64>,
    aggregate: Aggregate,
    withscores: bool,
}

fn parse_options(opts: &[&[u8]], op: Op, setnum: usize, store: bool) -> Result<Options, CmdError> {
    let mut out = Options {
        weights: vec![1.0; setnum],
        aggregate: Aggregate::Sum,
        withscores: false,
    };
    let mut j = 0;
    while j < opts.len() {
        let remaining = opts.len() - j;
        let opt = opts[j].to_ascii_uppercase();
        if op != Op::Diff && remaining > setnum && opt == b"WEIGHTS" {
            for (i, w) in opts[j + 1..=j + setnum].iter().enumerate() {
                out.weights[i] =
                    parse_score(w).ok_or_else(|| CmdError::err("weight value is not a float"))?;
            }
            j += 1 + setnum;
        } else if op != Op::Diff && remaining >= 2 && opt == b"AGGREGATE" {
            out.aggregate = match opts[j + 1].to_ascii_uppercase().as_slice() {
                b"SUM" => Aggregate::Sum,
                b"MIN" => Aggregate::Min,
                b"MAX" => Aggregate::Max,
                _ => return Err(CmdError::Syntax),
            };
            j += 2;
        } else if !store && opt == b"WITHSCORES" {
            out.withscores = true;
            j += 1;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    Ok(out)
}

/// `weight * score`, with Redis's NaN (inf * 0) to 0.
fn weighted(weight: f64, score: f64) -> f64 {
    let v = weight * score;
    if v.is_nan() {
        0.0
    } else {
        v
    }
}

/// Computes the operation over `inputs`.
fn compute(op: Op, inputs: &[Input], opts: &Options) -> ZSet {
    let mut result = ZSet::new();
    match op {
        Op::Union => {
            for (input, &w) in inputs.iter().zip(&opts.weights) {
                for (m, s) in input.elements() {
                    let v = weighted(w, s);
                    let new = match result.score(&m) {
                        Some(cur) => opts.aggregate.apply(cur, v),
                        None => v,
                    };
                    result.insert(&m, new);
                }
            }
        }
        Op::Inter => {
            // Walk the smallest input, probe the others (Redis sorts by size).
            let mut order: Vec<usize> = (0..inputs.len()).collect();
            order.sort_by_key(|&i| inputs[i].len());
            let first = order[0];
            for (m, s) in inputs[first].elements() {
                let mut score = weighted(opts.weights[first], s);
                let mut everywhere = true;
                for &other in &order[1..] {
                    match inputs[other].score(&m) {
                        Some(o) => {
                            score = opts
                                .aggregate
                                .apply(score, weighted(opts.weights[other], o))
                        }
                        None => {
                            everywhere = false;
                            break;
                        }
                    }
                }
                if everywhere {
                    result.insert(&m, score);
                }
            }
        }
        Op::Diff => {
            for (m, s) in inputs[0].elements() {
                if inputs[1..].iter().all(|i| i.score(&m).is_none()) {
                    result.insert(&m, s);
                }
            }
        }
    }
    result
}

/// The body of ZUNIONSTORE, ZINTERSTORE and ZDIFFSTORE: `args[1]` is the
/// destination, `args[2]` numkeys.
fn zsetop_store(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]], op: Op) -> CmdResult {
    let name = String::from_utf8_lossy(args[0]).to_ascii_lowercase();
    let (keys, opts_at) = parse_keys(&args[2..], &name)?;
    let found = inputs(ctx.db(store), &keys, ctx.now_ms)?;
    let opts = parse_options(&args[2 + opts_at..], op, keys.len(), true)?;
    let result = compute(op, &found, &opts);
    let event = match op {
        Op::Union => "zunionstore",
        Op::Inter => "zinterstore",
        Op::Diff => "zdiffstore",
    };
    let n = store_result(ctx, store, args[1], result, event);
    ctx.reply.integer(n as i64);
    Ok(())
}

/// The body of ZUNION, ZINTER and ZDIFF: `args[1]` is numkeys.
fn zsetop_read(ctx: &mut Ctx, store: &Store, args: &[&[u8]], op: Op) -> CmdResult {
    let name = String::from_utf8_lossy(args[0]).to_ascii_lowercase();
    let (keys, opts_at) = parse_keys(&args[1..], &name)?;
    let found = inputs(ctx.db(store), &keys, ctx.now_ms)?;
    let opts = parse_options(&args[1 + opts_at..], op, keys.len(), false)?;
    let result = compute(op, &found, &opts);
    reply_elements(ctx, result.iter(), opts.withscores);
    Ok(())
}

/// ZUNION numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
/// [WITHSCORES] — array of the union's members in score order.
pub(super) fn zunion_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    zsetop_read(ctx, store, args, Op::Union)
}

/// ZINTER numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX]
/// [WITHSCORES] — array of the intersection's members in score order.
pub(super) fn zinter_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    zsetop_read(ctx, store, args, Op::Inter)
}

/// ZDIFF numkeys key [key ...] [WITHSCORES] — array of the members of the
/// first set that no other set holds, with the first set's scores.
pub(super) fn zdiff_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    zsetop_read(ctx, store, args, Op::Diff)
}

/// ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS w ...]
/// [AGGREGATE SUM|MIN|MAX] — integer: the size of the stored result.
pub(super) fn zunionstore_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    zsetop_store(ctx, store, args, Op::Union)
}

/// ZINTERSTORE destination numkeys key [key ...] [WEIGHTS w ...]
/// [AGGREGATE SUM|MIN|MAX] — integer: the size of the stored result.
pub(super) fn zinterstore_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    zsetop_store(ctx, store, args, Op::Inter)
}

/// ZDIFFSTORE destination numkeys key [key ...] — integer: the size of the
/// stored result.
pub(super) fn zdiffstore_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    zsetop_store(ctx, store, args, Op::Diff)
}

/// ZINTERCARD numkeys key [key ...] [LIMIT limit] — integer: the size of the
/// intersection, counting stops at limit (0 = no limit).
pub(super) fn zintercard_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let (keys, opts_at) = parse_keys(&args[1..], "zintercard")?;
    let found = inputs(ctx.db(store), &keys, ctx.now_ms)?;
    let opts = &args[1 + opts_at..];
    let mut limit = 0usize;
    let mut j = 0;
    while j < opts.len() {
        if opts[j].eq_ignore_ascii_case(b"LIMIT") && j + 1 < opts.len() {
            let n = parse_i64(opts[j + 1])
                .filter(|n| *n >= 0)
                .ok_or_else(|| CmdError::err("LIMIT can't be negative"))?;
            limit = n as usize;
            j += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    let mut order: Vec<usize> = (0..found.len()).collect();
    order.sort_by_key(|&i| found[i].len());
    let mut count = 0usize;
    for (m, _) in found[order[0]].elements() {
        if order[1..].iter().all(|&o| found[o].score(&m).is_some()) {
            count += 1;
            if limit != 0 && count >= limit {
                break;
            }
        }
    }
    ctx.reply.integer(count as i64);
    Ok(())
}
