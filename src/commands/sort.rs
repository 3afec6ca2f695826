//! SORT and SORT_RO: sort a list, set or sorted set, optionally by other keys.
//!
//! ```text
//! SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE dst]
//! ```
//!
//! The steps follow Redis's `sortCommandGeneric` (sort.c):
//!
//! 1. Parse the options; then look the key up (list, set or zset; a missing
//!    key sorts as an empty list).
//! 2. Load the elements. `BY` a pattern without `*` (conventionally
//!    `nosort`) means "do not sort": lists and sorted sets keep their own
//!    order (reversed by DESC) and LIMIT just cuts it; a set is sorted ALPHA
//!    anyway when the result is STOREd, so it is deterministic.
//! 3. Otherwise give each element its weight: the element itself, or the
//!    value found through the BY pattern. Numeric weights are read as C's
//!    `strtod` would, and one that does not parse fails the whole command
//!    ("One or more scores can't be converted into double"); ALPHA compares
//!    bytes. Equal numeric weights are ordered by the elements' bytes, so
//!    the result is deterministic.
//! 4. Apply LIMIT, then reply the elements, or for each one the values of
//!    the GET patterns; or STORE them as a list (an empty result deletes it).
//!
//! SORT converts a sorted set it reads to the "skiplist" encoding, as Redis
//! does (SORT_RO, under the read lock, leaves the encoding alone).
//!
//! A pattern is a key name with one `*`, replaced by the element (`weight_*`),
//! optionally followed by `->field` to read a hash field instead of a
//! string (`obj_*->price`). `#` alone is the element itself.

use std::borrow::Cow;
use std::cmp::Ordering;

use super::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::store::hash::Hash;
use crate::store::list::List;
use crate::store::number::strtod;
use crate::store::set::Set;
use crate::store::{Db, Store, Value};

use Handler::{Read, Write};

/// SORT's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd("sort", -2, "write denyoom movablekeys", (1, 1, 1), Group::Generic, "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA] [STORE destination]", "Sort the elements in a list, set or sorted set", Write(sort_command)),
    cmd("sort_ro", -2, "readonly movablekeys", (1, 1, 1), Group::Generic, "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC] [ALPHA]", "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", Read(sort_ro_command)),
];

// The three functions below are the only places that read the list, set
// and hash types, so a change of their representation touches only them.

/// A list's elements, head first.
fn list_elements(list: &List) -> impl Iterator<Item = &[u8]> {
    list.iter()
}

/// A list's elements, tail first.
fn list_elements_rev(list: &List) -> impl Iterator<Item = &[u8]> {
    list.iter_rev()
}

/// A set's members, in its own (arbitrary) order.
fn set_elements(set: &Set) -> impl Iterator<Item = Cow<'_, [u8]>> {
    set.iter()
}

/// A set's size.
fn set_len(set: &Set) -> usize {
    set.len()
}

/// A hash field's value.
fn hash_field<'a>(hash: &'a Hash, field: &[u8]) -> Option<&'a [u8]> {
    hash.get(field)
}

/// A list value holding `items` (SORT ... STORE).
fn new_list(items: Vec<Vec<u8>>) -> List {
    let mut list = List::new();
    for item in items {
        list.push_back(item);
    }
    list
}

/// Parsed options.
struct SortOptions<'a> {
    desc: bool,
    alpha: bool,
    limit: Option<(i64, i64)>,
    by: Option<&'a [u8]>,
    gets: Vec<&'a [u8]>,
    store: Option<&'a [u8]>,
}

fn parse_options<'a>(args: &[&'a [u8]], readonly: bool) -> Result<SortOptions<'a>, CmdError> {
    let mut o = SortOptions {
        desc: false,
        alpha: false,
        limit: None,
        by: None,
        gets: Vec::new(),
        store: None,
    };
    let mut j = 2;
    while j < args.len() {
        let left = args.len() - j - 1;
        match args[j].to_ascii_uppercase().as_slice() {
            b"ASC" => o.desc = false,
            b"DESC" => o.desc = true,
            b"ALPHA" => o.alpha = true,
            b"LIMIT" if left >= 2 => {
                let start = parse_i64(args[j + 1]).ok_or(CmdError::NotInteger)?;
                let count = parse_i64(args[j + 2]).ok_or(CmdError::NotInteger)?;
                o.limit = Some((start, count));
                j += 2;
            }
            b"STORE" if !readonly && left >= 1 => {
                o.store = Some(args[j + 1]);
                j += 1;
            }
            b"BY" if left >= 1 => {
                o.by = Some(args[j + 1]);
                j += 1;
            }
            b"GET" if left >= 1 => {
                o.gets.push(args[j + 1]);
                j += 1;
            }
            _ => return Err(CmdError::Syntax),
        }
        j += 1;
    }
    Ok(o)
}

/// What a pattern finds for `element` (Redis's `lookupKeyByPattern`): the
/// element itself for `#`, a string key's value, a hash field's value, or
/// nothing (no `*` in the pattern, missing key, wrong type, missing field).
fn lookup_by_pattern<'a>(
    db: &'a Db,
    pattern: &[u8],
    element: &'a [u8],
    now_ms: i64,
) -> Option<&'a [u8]> {
    if pattern == b"#" {
        return Some(element);
    }
    let star = pattern.iter().position(|&b| b == b'*')?;
    let after = &pattern[star + 1..];
    // "->" after the star, with a field name following, reads a hash field.
    let arrow = after
        .windows(2)
        .position(|w| w == b"->")
        .filter(|&a| a + 2 < after.len());
    let (postfix, field) = match arrow {
        Some(a) => (&after[..a], Some(&after[a + 2..])),
        None => (after, None),
    };
    let mut key = Vec::with_capacity(star + element.len() + postfix.len());
    key.extend_from_slice(&pattern[..star]);
    key.extend_from_slice(element);
    key.extend_from_slice(postfix);
    match (db.get_value(&key, now_ms)?, field) {
        (Value::Hash(h), Some(field)) => hash_field(h, field),
        (Value::Str(s), None) => Some(s.as_bytes()),
        _ => None,
    }
}

/// Loads the elements to sort, in the object's own order; for a "do not
/// sort" request on a list or zset, only the LIMIT range, DESC reversing.
fn load_elements(
    value: Option<&Value>,
    nosort: bool,
    desc: bool,
    range: (i64, i64),
) -> Vec<Cow<'_, [u8]>> {
    let (start, end) = range;
    let cut = |len: usize| -> (usize, usize) {
        if end >= start && start >= 0 {
            let skip = (start as usize).min(len);
            (skip, ((end - start + 1) as usize).min(len - skip))
        } else {
            (len, 0)
        }
    };
    match value {
        None => Vec::new(),
        Some(Value::List(l)) if nosort => {
            let (skip, take) = cut(l.len());
            if desc {
                list_elements_rev(l)
                    .skip(skip)
                    .take(take)
                    .map(Cow::Borrowed)
                    .collect()
            } else {
                list_elements(l)
                    .skip(skip)
                    .take(take)
                    .map(Cow::Borrowed)
                    .collect()
            }
        }
        Some(Value::ZSet(z)) if nosort => {
            let (skip, take) = cut(z.len());
            let len = z.len();
            if desc {
                z.iter_ranks(len - skip - take..len - skip)
                    .rev()
                    .map(|(m, _)| Cow::Borrowed(m))
                    .collect()
            } else {
                z.iter_ranks(skip..skip + take)
                    .map(|(m, _)| Cow::Borrowed(m))
                    .collect()
            }
        }
        Some(Value::List(l)) => list_elements(l).map(Cow::Borrowed).collect(),
        Some(Value::Set(s)) => set_elements(s).collect(),
        Some(Value::ZSet(z)) => z.iter().map(|(m, _)| Cow::Borrowed(m)).collect(),
        Some(_) => Vec::new(),
    }
}

/// The weight of one element.
enum Weight<'a> {
    Number(f64),
    Bytes(Option<&'a [u8]>),
}

/// Reads a numeric weight as Redis does (`strtod`, whole string, no range
/// error, not NaN).
fn numeric_weight(bytes: &[u8]) -> Option<f64> {
    let (v, used, range_error) = strtod(bytes);
    (used == bytes.len() && !range_error && !v.is_nan()).then_some(v)
}

/// Steps 1 to 4 of the module header, without writing anything.
fn sort_generic(
    db: &Db,
    now: i64,
    args: &[&[u8]],
    readonly: bool,
    from_script: bool,
) -> Result<SortResult, CmdError> {
    let opts = parse_options(args, readonly)?;
    let value = match db.get_value(args[1], now) {
        None => None,
        Some(v @ (Value::List(_) | Value::Set(_) | Value::ZSet(_))) => Some(v),
        Some(_) => return Err(CmdError::WrongType),
    };
    let mut nosort = opts.by.is_some_and(|p| !p.contains(&b'*'));
    let mut alpha = opts.alpha;
    let mut by = opts.by;
    if nosort && matches!(value, Some(Value::Set(_))) && (opts.store.is_some() || from_script) {
        // A stored result (or a script's, which must be deterministic)
        // must not depend on the set's hash order.
        nosort = false;
        alpha = true;
        by = None;
    }
    let len = match value {
        Some(Value::List(l)) => l.len(),
        Some(Value::Set(s)) => set_len(s),
        Some(Value::ZSet(z)) => z.len(),
        _ => 0,
    } as i64;

    // LIMIT, sanitized as sort.c does; an inclusive range that may be empty.
    let (limit_start, limit_count) = opts.limit.unwrap_or((0, -1));
    let mut start = limit_start.max(0).min(len);
    let count = limit_count.max(-1).min(len);
    let mut end = if count < 0 {
        len - 1
    } else {
        start + count - 1
    };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }

    let direct = nosort && matches!(value, Some(Value::List(_) | Value::ZSet(_)));
    let elements = load_elements(value, direct, opts.desc, (start, end));
    if direct {
        end -= start;
        start = 0;
    }

    // The output order, as indices into `elements`.
    let mut order: Vec<usize> = (0..elements.len()).collect();
    if !nosort {
        let mut weights: Vec<Weight> = Vec::with_capacity(elements.len());
        for e in &elements {
            let source = match by {
                Some(pattern) => lookup_by_pattern(db, pattern, e, now),
                None => Some(&e[..]),
            };
            let weight = if alpha {
                Weight::Bytes(source)
            } else {
                match source.map(numeric_weight) {
                    None => Weight::Number(0.0),
                    Some(Some(n)) => Weight::Number(n),
                    Some(None) => {
                        return Err(CmdError::err(
                            "One or more scores can't be converted into double",
                        ))
                    }
                }
            };
            weights.push(weight);
        }
        order.sort_by(|&a, &b| {
            let ord = match (&weights[a], &weights[b]) {
                (Weight::Number(x), Weight::Number(y)) => x
                    .partial_cmp(y)
                    .unwrap_or(Ordering::Equal)
                    .then_with(|| elements[a].cmp(&elements[b])),
                // A missing BY value sorts first.
                (Weight::Bytes(x), Weight::Bytes(y)) => x.cmp(y),
                _ => Ordering::Equal,
            };
            if opts.desc {
                ord.reverse()
            } else {
                ord
            }
        });
    }

    let selected: &[usize] = if end >= start && start >= 0 {
        order.get(start as usize..=end as usize).unwrap_or(&[])
    } else {
        &[]
    };
    let rows: Vec<Vec<Option<Vec<u8>>>> = selected
        .iter()
        .map(|&i| {
            let e = &elements[i];
            if opts.gets.is_empty() {
                vec![Some(e.to_vec())]
            } else {
                opts.gets
                    .iter()
                    .map(|p| lookup_by_pattern(db, p, e, now).map(<[u8]>::to_vec))
                    .collect()
            }
        })
        .collect();
    Ok(SortResult {
        rows,
        store: opts.store.map(<[u8]>::to_vec),
    })
}

/// The sorted output: one row per element (the element, or its GET values).
struct SortResult {
    rows: Vec<Vec<Option<Vec<u8>>>>,
    store: Option<Vec<u8>>,
}

fn reply_rows(ctx: &mut Ctx, rows: &[Vec<Option<Vec<u8>>>]) {
    ctx.reply.array(rows.iter().map(Vec::len).sum());
    for value in rows.iter().flatten() {
        match value {
            Some(v) => ctx.reply.bulk(v),
            None => ctx.reply.null(),
        }
    }
}

/// BY with a real pattern and GET read keys nobody can check in advance,
/// so Redis allows them only to users who may read every key.
fn check_pattern_acl(ctx: &Ctx, args: &[&[u8]], readonly: bool) -> CmdResult {
    let opts = parse_options(args, readonly)?;
    let by_pattern = opts.by.is_some_and(|p| p.contains(&b'*'));
    if !by_pattern && opts.gets.is_empty() {
        return Ok(());
    }
    let acl = ctx.server.acl.read().unwrap_or_else(|p| p.into_inner());
    let full = acl
        .users
        .get(&ctx.client.user)
        .is_none_or(|u| u.reads_all_keys(args));
    drop(acl);
    if full {
        Ok(())
    } else if by_pattern {
        Err(CmdError::err(
            "BY option of SORT denied due to insufficient ACL permissions.",
        ))
    } else {
        Err(CmdError::err(
            "GET option of SORT denied due to insufficient ACL permissions.",
        ))
    }
}

/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
/// [ALPHA] [STORE destination] — array of the sorted elements (or of their
/// GET values, null for missing ones); with STORE, the number of values
/// stored as a list in destination (missing GET values stored as "").
fn sort_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    check_pattern_acl(ctx, args, false)?;
    let result = sort_generic(ctx.db(store), ctx.now_ms, args, false, ctx.in_script)?;
    // Redis converts a sorted set it sorts to the skip list encoding.
    if let Some(Value::ZSet(z)) = ctx.db_mut(store).get_value_mut(args[1], ctx.now_ms) {
        z.force_skiplist();
    }
    let Some(dst) = result.store else {
        reply_rows(ctx, &result.rows);
        return Ok(());
    };
    let items: Vec<Vec<u8>> = result
        .rows
        .into_iter()
        .flatten()
        .map(Option::unwrap_or_default)
        .collect();
    let n = items.len();
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    if n > 0 {
        db.set(&dst, Value::List(new_list(items)), now);
        ctx.notify('l', "sortstore", &dst);
        ctx.dirty += n as u64;
    } else if db.get_mut(&dst, now).is_some() {
        db.remove(&dst);
        ctx.notify('g', "del", &dst);
        ctx.dirty += 1;
    }
    ctx.reply.integer(n as i64);
    Ok(())
}

/// SORT_RO key [BY pattern] [LIMIT offset count] [GET pattern ...]
/// [ASC|DESC] [ALPHA] — as SORT without STORE (which is a syntax error here).
fn sort_ro_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    check_pattern_acl(ctx, args, true)?;
    let result = sort_generic(ctx.db(store), ctx.now_ms, args, true, ctx.in_script)?;
    reply_rows(ctx, &result.rows);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_weights_follow_strtod() {
        assert_eq!(numeric_weight(b"1.5"), Some(1.5));
        assert_eq!(numeric_weight(b" 2"), Some(2.0));
        assert_eq!(numeric_weight(b""), Some(0.0));
        assert_eq!(numeric_weight(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(numeric_weight(b"abc"), None);
        assert_eq!(numeric_weight(b"1x"), None);
        assert_eq!(numeric_weight(b"nan"), None);
        assert_eq!(numeric_weight(b"1e400"), None);
    }

    #[test]
    fn patterns_substitute_the_first_star() {
        let mut db = Db::new();
        db.set(b"w_a", Value::string("5"), 0);
        let mut h = Hash::new();
        h.insert(b"f", b"v");
        db.set(b"h_a", Value::Hash(h), 0);
        assert_eq!(lookup_by_pattern(&db, b"w_*", b"a", 0), Some(&b"5"[..]));
        assert_eq!(lookup_by_pattern(&db, b"h_*->f", b"a", 0), Some(&b"v"[..]));
        assert_eq!(lookup_by_pattern(&db, b"h_*->g", b"a", 0), None);
        assert_eq!(lookup_by_pattern(&db, b"#", b"a", 0), Some(&b"a"[..]));
        assert_eq!(lookup_by_pattern(&db, b"nostar", b"a", 0), None);
        // A trailing "->" is part of the key name.
        assert_eq!(lookup_by_pattern(&db, b"h_*->", b"a", 0), None);
    }
}
