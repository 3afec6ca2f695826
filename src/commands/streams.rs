//! Stream commands: XADD, XRANGE, XREAD, consumer groups and their
//! pending-entries lists (Redis's t_stream.c).
//!
//! The data model is in store/stream.rs. This file parses arguments with
//! Redis's rules and error texts, then reads or changes the stream:
//!
//! * IDs: `*` (generated from the clock), `<ms>-*` (sequence generated),
//!   `<ms>-<seq>`; in ranges also `-`, `+`, `<ms>` (sequence 0 or max) and
//!   `(id` (exclusive).
//! * Trimming (XADD, XTRIM): `MAXLEN|MINID [=|~] threshold [LIMIT n]`. With
//!   `~` Redis removes only whole listpack nodes of stream-node-max-entries
//!   entries; we remove the same number of entries, so lengths match.
//! * Groups: ">" delivers entries after the group's last-delivered ID and
//!   records them as pending for the consumer until XACK; any other ID
//!   re-reads the consumer's own pending entries.
//! * Blocking (XREAD / XREADGROUP ... BLOCK ms): the handler that finds
//!   nothing records a `BlockRequest` carrying a [`StreamWait`] (XREAD's
//!   `$` resolved to the ID of that moment, or XREADGROUP's group);
//!   blocking.rs wakes the client, oldest first, once a key has an entry
//!   after that ID, and runs the handler again with `ctx.resumed` set. The
//!   client is then served from that one stream, as Redis serves the key an
//!   XADD signalled; a blocked XREADGROUP whose key went away (or changed
//!   type) gets `-UNBLOCKED the stream key no longer exists`, one whose
//!   group was destroyed `-NOGROUP`.
//! * AOF: what Redis propagates, through `Ctx::propagate_override`: XADD
//!   with the generated ID and `~` trims made exact (`= <resulting length
//!   or first ID>`), XTRIM likewise, and reads or claims that change a
//!   group as idempotent `XCLAIM ... TIME t RETRYCOUNT n FORCE JUSTID
//!   LASTID id` / `XGROUP SETID ... ENTRIESREAD n` / `XGROUP
//!   CREATECONSUMER`.

use super::{cmd, Command, Ctx, Group, Handler};
use crate::blocking::{self, BlockRequest, TimeoutReply};
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::store::stream::{
    Fields, Group as CGroup, NodeLimits, Stream, StreamId, StreamWait, TrimBy,
};
use crate::store::{Db, Store, Value};

use Handler::{Read, Write};

/// The stream family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd("xadd", -5, "write denyoom fast", (1, 1, 1), Group::Stream, "key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]", "Appends a new entry to a stream", Write(xadd_command)),
    cmd("xlen", 2, "readonly fast", (1, 1, 1), Group::Stream, "key", "Return the number of entries in a stream", Read(xlen_command)),
    cmd("xrange", -4, "readonly", (1, 1, 1), Group::Stream, "key start end [COUNT count]", "Return a range of elements in a stream, with IDs matching the specified IDs interval", Read(xrange_command)),
    cmd("xrevrange", -4, "readonly", (1, 1, 1), Group::Stream, "key end start [COUNT count]", "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order", Read(xrevrange_command)),
    cmd("xdel", -3, "write fast", (1, 1, 1), Group::Stream, "key id [id ...]", "Removes the specified entries from the stream", Write(xdel_command)),
    cmd("xtrim", -4, "write", (1, 1, 1), Group::Stream, "key MAXLEN|MINID [=|~] threshold [LIMIT count]", "Trims the stream to (approximately if '~' is passed) a certain size", Write(xtrim_command)),
    cmd("xread", -4, "readonly blocking", (0, 0, 0), Group::Stream, "[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]", "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream", Write(xread_command)),
    cmd("xgroup", -2, "write", (2, 2, 1), Group::Stream, "CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP key group ...", "A container for consumer groups commands", Write(xgroup_command)),
    cmd("xreadgroup", -7, "write blocking", (0, 0, 0), Group::Stream, "GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key [key ...] id [id ...]", "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer", Write(xreadgroup_command)),
    cmd("xack", -4, "write fast", (1, 1, 1), Group::Stream, "key group id [id ...]", "Marks a pending message as correctly processed", Write(xack_command)),
    cmd("xpending", -3, "readonly", (1, 1, 1), Group::Stream, "key group [[IDLE min-idle-time] start end count [consumer]]", "Return information and entries from a stream consumer group pending entries list", Read(xpending_command)),
    cmd("xclaim", -6, "write fast", (1, 1, 1), Group::Stream, "key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]", "Changes (or acquires) ownership of a message in a consumer group", Write(xclaim_command)),
    cmd("xautoclaim", -6, "write fast", (1, 1, 1), Group::Stream, "key group consumer min-idle-time start [COUNT count] [JUSTID]", "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer", Write(xautoclaim_command)),
    cmd("xinfo", -2, "readonly", (2, 2, 1), Group::Stream, "STREAM key [FULL [COUNT count]]|GROUPS key|CONSUMERS key group|HELP", "A container for stream introspection commands", Read(xinfo_command)),
    cmd("xsetid", -3, "write denyoom fast", (1, 1, 1), Group::Stream, "key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]", "An internal command for replicating stream values", Write(xsetid_command)),
];

fn invalid_id() -> CmdError {
    CmdError::err("Invalid stream ID specified as stream command argument")
}

/// The stream at `key` (None when absent; WRONGTYPE for other types).
fn get_stream<'a>(db: &'a Db, key: &[u8], now_ms: i64) -> Result<Option<&'a Stream>, CmdError> {
    match db.get_value(key, now_ms) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

fn get_stream_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    now_ms: i64,
) -> Result<Option<&'a mut Stream>, CmdError> {
    match db.get_value_mut(key, now_ms) {
        None => Ok(None),
        Some(Value::Stream(s)) => Ok(Some(s)),
        Some(_) => Err(CmdError::WrongType),
    }
}

fn reply_entry(ctx: &mut Ctx, id: StreamId, fields: Option<&Fields>) {
    ctx.reply.array(2);
    ctx.reply.bulk(id.to_string().as_bytes());
    match fields {
        Some(f) => {
            ctx.reply.array(f.len() * 2);
            for (k, v) in f {
                ctx.reply.bulk(k);
                ctx.reply.bulk(v);
            }
        }
        None => ctx.reply.null_array(),
    }
}

fn reply_entries(ctx: &mut Ctx, entries: &[(StreamId, Fields)]) {
    ctx.reply.array(entries.len());
    for (id, f) in entries {
        reply_entry(ctx, *id, Some(f));
    }
}

/// Parsed `MAXLEN|MINID [=|~] threshold [LIMIT n]`.
#[derive(Clone, Copy, Default)]
struct Trim {
    maxlen: Option<u64>,
    minid: Option<StreamId>,
    approx: bool,
    limit: Option<u64>,
}

/// Parses trimming options starting at `args[*i]` (which is MAXLEN/MINID).
fn parse_trim(args: &[&[u8]], i: &mut usize, trim: &mut Trim) -> CmdResult {
    let which = args[*i].to_ascii_uppercase();
    *i += 1;
    let mut value = args.get(*i).ok_or(CmdError::Syntax)?;
    if *value == b"~" || *value == b"=" {
        trim.approx = *value == b"~";
        *i += 1;
        value = args.get(*i).ok_or(CmdError::Syntax)?;
    }
    if which == b"MAXLEN" {
        let n = parse_i64(value).ok_or(CmdError::NotInteger)?;
        if n < 0 {
            return Err(CmdError::err("The MAXLEN argument must be >= 0."));
        }
        trim.maxlen = Some(n as u64);
        trim.minid = None;
    } else {
        trim.minid = Some(StreamId::parse(value, 0).ok_or_else(invalid_id)?);
        trim.maxlen = None;
    }
    *i += 1;
    Ok(())
}

/// Applies a trim as Redis does; returns how many entries were removed.
fn apply_trim(stream: &mut Stream, trim: &Trim, limits: NodeLimits) -> u64 {
    let by = match (trim.maxlen, trim.minid) {
        (Some(max), _) => TrimBy::MaxLen(max),
        (_, Some(min)) => TrimBy::MinId(min),
        _ => return 0,
    };
    // With `~` and no LIMIT, Redis caps the work at 100 nodes.
    let limit = match (trim.approx, trim.limit) {
        (true, None) => 100 * limits.max_entries,
        (true, Some(l)) => l,
        (false, _) => 0,
    };
    stream.trim(by, trim.approx, limit)
}

fn check_trim_limit(trim: &Trim) -> CmdResult {
    if trim.limit.is_some() && trim.maxlen.is_none() && trim.minid.is_none() {
        return Err(CmdError::err(
            "syntax error, LIMIT cannot be used without specifying a trimming strategy",
        ));
    }
    if trim.limit.is_some() && !trim.approx {
        return Err(CmdError::err(
            "syntax error, LIMIT cannot be used without the special ~ option",
        ));
    }
    Ok(())
}

fn node_limits(_ctx: &Ctx) -> NodeLimits {
    use crate::config::{HotLimits, HOT_LIMITS};
    NodeLimits {
        max_entries: HotLimits::get(&HOT_LIMITS.stream_node_entries) as u64,
        max_bytes: HotLimits::get(&HOT_LIMITS.stream_node_bytes) as u64,
    }
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT n]] *|id field value ... — the new ID.
fn xadd_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let mut i = 2;
    let mut nomkstream = false;
    let mut trim = Trim::default();
    loop {
        let Some(arg) = args.get(i) else {
            return Err(CmdError::WrongArity("xadd".into()));
        };
        match arg.to_ascii_uppercase().as_slice() {
            b"NOMKSTREAM" => {
                nomkstream = true;
                i += 1;
            }
            b"MAXLEN" | b"MINID" => parse_trim(args, &mut i, &mut trim)?,
            b"LIMIT" => {
                let n = args
                    .get(i + 1)
                    .and_then(|a| parse_i64(a))
                    .ok_or(CmdError::NotInteger)?;
                if n < 0 {
                    return Err(CmdError::err("The LIMIT argument must be >= 0."));
                }
                trim.limit = Some(n as u64);
                i += 2;
            }
            _ => break,
        }
    }
    // Redis's order: the ID, then LIMIT, then the field count, then 0-0.
    let id_arg = args[i];
    let fields = &args[i + 1..];
    enum IdSpec {
        Auto,
        AutoSeq(u64),
        Explicit(StreamId),
    }
    let spec = if id_arg == b"*" {
        IdSpec::Auto
    } else if let Some(ms) = id_arg.strip_suffix(b"-*") {
        let ms = std::str::from_utf8(ms)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(invalid_id)?;
        IdSpec::AutoSeq(ms)
    } else {
        IdSpec::Explicit(StreamId::parse(id_arg, 0).ok_or_else(invalid_id)?)
    };
    check_trim_limit(&trim)?;
    if fields.is_empty() || !fields.len().is_multiple_of(2) {
        return Err(CmdError::WrongArity("xadd".into()));
    }
    if matches!(spec, IdSpec::Explicit(StreamId::MIN)) {
        return Err(CmdError::err(
            "The ID specified in XADD must be greater than 0-0",
        ));
    }
    let now = ctx.now_ms;
    let node = node_limits(ctx);
    let db = ctx.db_mut(store);
    let exists = get_stream(db, args[1], now)?.is_some();
    if !exists && nomkstream {
        ctx.reply.null();
        return Ok(());
    }
    if !exists {
        db.set(args[1], Value::Stream(Box::default()), now);
    }
    let stream = get_stream_mut(db, args[1], now)?.ok_or(CmdError::NoSuchKey)?;
    let last = stream.last_id;
    if last == StreamId::MAX {
        return Err(CmdError::err(
            "The stream has exhausted the last possible ID, unable to add more items",
        ));
    }
    let exhausted =
        || CmdError::err("The stream has exhausted the last possible ID, unable to add more items");
    let smaller = || {
        CmdError::err(
            "The ID specified in XADD is equal or smaller than the target stream top item",
        )
    };
    let id = match spec {
        IdSpec::Auto => {
            let ms = (now.max(0) as u64).max(last.ms);
            if ms == last.ms {
                last.next().ok_or_else(exhausted)?
            } else {
                StreamId::new(ms, 0)
            }
        }
        IdSpec::AutoSeq(ms) => {
            if ms < last.ms {
                return Err(smaller());
            } else if ms == last.ms {
                if last.seq == u64::MAX {
                    return Err(CmdError::err("Elements are too large to be stored"));
                }
                StreamId::new(ms, last.seq + 1)
            } else {
                StreamId::new(ms, 0)
            }
        }
        IdSpec::Explicit(id) => {
            if id <= last {
                return Err(smaller());
            }
            id
        }
    };
    let entry: Fields = fields
        .chunks(2)
        .map(|p| (p[0].to_vec(), p[1].to_vec()))
        .collect();
    stream.append(id, entry, node);
    let removed = apply_trim(stream, &trim, node);
    // The AOF gets the ID that was generated and, for `~`, the exact
    // trim that happened (Redis's streamRewriteTrimArgument).
    let id_text = id.to_string();
    let mut logged: Vec<&[u8]> = vec![b"XADD", args[1]];
    if nomkstream {
        logged.push(b"NOMKSTREAM");
    }
    let threshold = exact_trim_threshold(stream, &trim);
    if let Some((which, value)) = &threshold {
        logged.extend_from_slice(&[which, b"=", value]);
    }
    logged.push(id_text.as_bytes());
    logged.extend_from_slice(fields);
    ctx.propagate_override(vec![aof_command(&logged)]);
    ctx.dirty += 1;
    ctx.notify('t', "xadd", args[1]);
    if removed > 0 {
        ctx.notify('t', "xtrim", args[1]);
    }
    ctx.reply.bulk(id_text.as_bytes());
    Ok(())
}

/// The trim to log for a trim that ran: `(MAXLEN|MINID, threshold)`; for
/// `~` the stream's resulting length or first ID, so a replay removes the
/// same entries.
fn exact_trim_threshold(stream: &Stream, trim: &Trim) -> Option<(Vec<u8>, Vec<u8>)> {
    match (trim.maxlen, trim.minid) {
        (Some(max), _) => {
            let n = if trim.approx {
                stream.len() as u64
            } else {
                max
            };
            Some((b"MAXLEN".to_vec(), n.to_string().into_bytes()))
        }
        (_, Some(min)) => {
            let id = if trim.approx { stream.first_id() } else { min };
            Some((b"MINID".to_vec(), id.to_string().into_bytes()))
        }
        _ => None,
    }
}

/// XLEN key — the number of entries (0 when missing).
fn xlen_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let n = get_stream(ctx.db(store), args[1], ctx.now_ms)?.map_or(0, Stream::len);
    ctx.reply.integer(n as i64);
    Ok(())
}

/// Parses a range bound: `-`, `+`, `(id` (exclusive), `id`, `<ms>`.
fn parse_range_id(arg: &[u8], is_start: bool) -> Result<StreamId, CmdError> {
    match arg {
        b"-" => return Ok(StreamId::MIN),
        b"+" => return Ok(StreamId::MAX),
        _ => {}
    }
    let missing = if is_start { 0 } else { u64::MAX };
    if let Some(rest) = arg.strip_prefix(b"(") {
        let id = StreamId::parse(rest, missing).ok_or_else(invalid_id)?;
        // An exclusive bound past either end of the ID space is an error.
        return if is_start {
            id.next()
                .ok_or_else(|| CmdError::err("invalid start ID for the interval"))
        } else {
            id.prev()
                .ok_or_else(|| CmdError::err("invalid end ID for the interval"))
        };
    }
    StreamId::parse(arg, missing).ok_or_else(invalid_id)
}

fn range_generic(ctx: &mut Ctx, store: &Store, args: &[&[u8]], rev: bool) -> CmdResult {
    let (start_arg, end_arg) = if rev {
        (args[3], args[2])
    } else {
        (args[2], args[3])
    };
    let start = parse_range_id(start_arg, true)?;
    let end = parse_range_id(end_arg, false)?;
    let mut count: Option<usize> = None;
    if args.len() > 4 {
        if args.len() != 6 || !args[4].eq_ignore_ascii_case(b"COUNT") {
            return Err(CmdError::Syntax);
        }
        let n = parse_i64(args[5]).ok_or(CmdError::NotInteger)?;
        count = Some(n.max(0) as usize);
    }
    let stream = get_stream(ctx.db(store), args[1], ctx.now_ms)?;
    let entries: Vec<(StreamId, Fields)> = match (stream, start, end) {
        (Some(s), a, b) if a <= b && count != Some(0) => {
            let it = s.entries.range(a..=b);
            let take = count.unwrap_or(usize::MAX);
            if rev {
                it.rev().take(take).map(|(k, v)| (*k, v.clone())).collect()
            } else {
                it.take(take).map(|(k, v)| (*k, v.clone())).collect()
            }
        }
        _ => Vec::new(),
    };
    reply_entries(ctx, &entries);
    Ok(())
}

/// XRANGE key start end [COUNT n] — entries in ID order.
fn xrange_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    range_generic(ctx, store, args, false)
}

/// XREVRANGE key end start [COUNT n] — entries in reverse ID order.
fn xrevrange_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    range_generic(ctx, store, args, true)
}

/// XDEL key id [id ...] — how many entries were deleted.
fn xdel_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let ids: Vec<StreamId> = args[2..]
        .iter()
        .map(|a| StreamId::parse(a, 0).ok_or_else(invalid_id))
        .collect::<Result<_, _>>()?;
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let Some(stream) = get_stream_mut(db, args[1], now)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let deleted = ids.into_iter().filter(|id| stream.delete(*id)).count();
    if deleted > 0 {
        ctx.dirty += deleted as u64;
        ctx.notify('t', "xdel", args[1]);
    }
    ctx.reply.integer(deleted as i64);
    Ok(())
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT n] — how many entries were removed.
fn xtrim_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let mut trim = Trim::default();
    let mut i = 2;
    match args[i].to_ascii_uppercase().as_slice() {
        b"MAXLEN" | b"MINID" => parse_trim(args, &mut i, &mut trim)?,
        _ => return Err(CmdError::Syntax),
    }
    while i < args.len() {
        if args[i].eq_ignore_ascii_case(b"LIMIT") && i + 1 < args.len() {
            let n = parse_i64(args[i + 1]).ok_or(CmdError::NotInteger)?;
            if n < 0 {
                return Err(CmdError::err("The LIMIT argument must be >= 0."));
            }
            trim.limit = Some(n as u64);
            i += 2;
        } else {
            return Err(CmdError::Syntax);
        }
    }
    check_trim_limit(&trim)?;
    let now = ctx.now_ms;
    let node = node_limits(ctx);
    let db = ctx.db_mut(store);
    let (removed, threshold) = match get_stream_mut(db, args[1], now)? {
        Some(s) => {
            let removed = apply_trim(s, &trim, node);
            (removed, exact_trim_threshold(s, &trim))
        }
        None => (0, None),
    };
    if removed > 0 {
        if let Some((which, value)) = threshold {
            ctx.propagate_override(vec![aof_command(&[
                b"XTRIM", args[1], &which, b"=", &value,
            ])]);
        }
        ctx.dirty += removed;
        ctx.notify('t', "xtrim", args[1]);
    }
    ctx.reply.integer(removed as i64);
    Ok(())
}

/// Options of XREAD / XREADGROUP.
struct ReadOptions<'a> {
    count: Option<usize>,
    block_ms: Option<i64>,
    noack: bool,
    group: Option<(&'a [u8], &'a [u8])>,
    keys: Vec<&'a [u8]>,
    ids: Vec<&'a [u8]>,
}

fn parse_read_options<'a>(
    args: &[&'a [u8]],
    with_group: bool,
) -> Result<ReadOptions<'a>, CmdError> {
    let mut opts = ReadOptions {
        count: None,
        block_ms: None,
        noack: false,
        group: None,
        keys: Vec::new(),
        ids: Vec::new(),
    };
    let mut i = 1;
    while i < args.len() {
        match args[i].to_ascii_uppercase().as_slice() {
            b"COUNT" if i + 1 < args.len() => {
                let n = parse_i64(args[i + 1]).ok_or(CmdError::NotInteger)?;
                opts.count = if n > 0 { Some(n as usize) } else { None };
                i += 2;
            }
            b"BLOCK" if i + 1 < args.len() => {
                let ms = parse_i64(args[i + 1])
                    .ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
                if ms < 0 {
                    return Err(CmdError::err("timeout is negative"));
                }
                opts.block_ms = Some(ms);
                i += 2;
            }
            b"GROUP" if with_group && i + 2 < args.len() => {
                opts.group = Some((args[i + 1], args[i + 2]));
                i += 3;
            }
            b"NOACK" if with_group => {
                opts.noack = true;
                i += 1;
            }
            b"STREAMS" => {
                let rest = &args[i + 1..];
                if rest.is_empty() || !rest.len().is_multiple_of(2) {
                    return Err(CmdError::err("Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."));
                }
                let half = rest.len() / 2;
                opts.keys = rest[..half].to_vec();
                opts.ids = rest[half..].to_vec();
                break;
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    if opts.keys.is_empty() {
        return Err(CmdError::Syntax);
    }
    if with_group && opts.group.is_none() {
        return Err(CmdError::err("Missing GROUP option for XREADGROUP"));
    }
    Ok(opts)
}

/// Writes the XREAD-style reply: per stream with results, [key, entries].
/// Entries read from one stream; None fields for a deleted pending entry.
type StreamResult<'a> = (&'a [u8], Vec<(StreamId, Option<Fields>)>);

fn reply_streams(ctx: &mut Ctx, results: Vec<StreamResult>) {
    if results.is_empty() {
        ctx.reply.null_array();
        return;
    }
    if ctx.reply.resp3() {
        ctx.reply.map(results.len());
    } else {
        ctx.reply.array(results.len());
    }
    for (key, entries) in results {
        if !ctx.reply.resp3() {
            ctx.reply.array(2);
        }
        ctx.reply.bulk(key);
        ctx.reply.array(entries.len());
        for (id, f) in &entries {
            reply_entry(ctx, *id, f.as_ref());
        }
    }
}

/// The entries of `stream` after `after`, at most `count`.
fn entries_after(
    stream: &Stream,
    after: StreamId,
    count: usize,
) -> Vec<(StreamId, Option<Fields>)> {
    let Some(from) = after.next() else {
        return Vec::new();
    };
    stream
        .entries
        .range(from..)
        .take(count)
        .map(|(k, v)| (*k, Some(v.clone())))
        .collect()
}

/// The absolute deadline of `BLOCK ms` (0 = wait forever).
fn block_deadline(now_ms: i64, block_ms: i64) -> i64 {
    if block_ms == 0 {
        0
    } else {
        now_ms.saturating_add(block_ms)
    }
}

/// Records a wait of XREAD / XREADGROUP (inside MULTI: the null reply now).
fn block_on_streams(ctx: &mut Ctx, keys: &[&[u8]], block_ms: i64, wait: StreamWait) {
    let request = BlockRequest {
        db: ctx.client.db,
        keys: keys.iter().map(|k| k.to_vec()).collect(),
        deadline_ms: block_deadline(ctx.now_ms, block_ms),
        wants: blocking::wants_stream,
        on_timeout: TimeoutReply::NullArray,
        stream: Some(wait),
    };
    blocking::block_or_timeout(ctx, request);
}

/// After a wake-up: the first key (in the command's order) that can serve
/// the blocked client, or None, in which case the client keeps waiting.
fn first_ready<'a>(
    ctx: &mut Ctx,
    db: &Db,
    keys: &[&'a [u8]],
    wait: &StreamWait,
) -> Option<(usize, &'a [u8])> {
    let now = ctx.now_ms;
    let ready = keys
        .iter()
        .enumerate()
        .find(|(i, k)| wait.ready(*i, db.get_value(k, now)))
        .map(|(i, k)| (i, *k));
    if ready.is_none() {
        ctx.block = ctx.resumed.clone();
    }
    ready
}

/// XREAD [COUNT n] [BLOCK ms] STREAMS key ... id ... — per stream with
/// entries after its ID, `[key, entries]`; null when none (after BLOCK ms
/// without data too).
///
/// `$` stands for the stream's last ID at call time. With BLOCK the client
/// waits until an XADD gives one of the streams an entry after its ID, and
/// is then served from that stream alone, as Redis does. BLOCK 0 waits
/// forever; inside MULTI it does not wait.
fn xread_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let opts = parse_read_options(args, false)?;
    let now = ctx.now_ms;
    let count = opts.count.unwrap_or(usize::MAX);
    let db = ctx.db(store);
    if let Some(wait) = ctx.resumed.as_ref().and_then(|r| r.stream.clone()) {
        if let Some((i, key)) = first_ready(ctx, db, &opts.keys, &wait) {
            let after = wait.after.get(i).copied().unwrap_or(StreamId::MAX);
            let entries = match db.get_value(key, now) {
                Some(Value::Stream(s)) => entries_after(s, after, count),
                _ => Vec::new(),
            };
            reply_streams(ctx, vec![(key, entries)]);
        }
        return Ok(());
    }
    let mut after = Vec::with_capacity(opts.keys.len());
    let mut results = Vec::new();
    for (key, id_arg) in opts.keys.iter().zip(&opts.ids) {
        let stream = get_stream(db, key, now)?;
        let id = match *id_arg {
            b"$" => stream.map_or(StreamId::MIN, |s| s.last_id),
            b">" => return Err(CmdError::err("The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")),
            _ => StreamId::parse_loose(id_arg, 0).ok_or_else(invalid_id)?,
        };
        after.push(id);
        if let Some(stream) = stream {
            let entries = entries_after(stream, id, count);
            if !entries.is_empty() {
                results.push((*key, entries));
            }
        }
    }
    match opts.block_ms {
        Some(ms) if results.is_empty() => {
            let wait = StreamWait { after, group: None };
            block_on_streams(ctx, &opts.keys, ms, wait);
        }
        _ => reply_streams(ctx, results),
    }
    Ok(())
}

fn nogroup(key: &[u8], group: &[u8]) -> CmdError {
    CmdError::Raw(format!(
        "NOGROUP No such key '{}' or consumer group '{}'",
        String::from_utf8_lossy(key),
        String::from_utf8_lossy(group)
    ))
}

/// One argument list for the AOF.
fn aof_command(parts: &[&[u8]]) -> Vec<Vec<u8>> {
    parts.iter().map(|p| p.to_vec()).collect()
}

/// XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK] STREAMS key ... id ...
/// — per stream, `[key, entries]` delivered to consumer c; null when
/// nothing was delivered.
///
/// `>` delivers entries after the group's last-delivered ID and (unless
/// NOACK) records them as pending for c; any other ID re-reads c's own
/// pending entries after it (a deleted one comes with null fields). Only
/// `>` blocks: woken by an XADD, the client gets the new entries of that
/// stream; if the key is deleted or changes type meanwhile it gets
/// `-UNBLOCKED the stream key no longer exists`, if the group is destroyed
/// `-NOGROUP`. The AOF gets what Redis propagates: one XCLAIM per
/// delivered entry, XGROUP SETID after a NOACK read.
fn xreadgroup_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let opts = parse_read_options(args, true)?;
    let (group_name, consumer) = opts.group.ok_or(CmdError::Syntax)?;
    let now = ctx.now_ms;
    let count = opts.count.unwrap_or(usize::MAX);
    // What to read from each key: None = new entries (">"), Some(id) = the
    // consumer's pending entries after id. Everything is validated first.
    let mut plan: Vec<(&[u8], Option<StreamId>)> = Vec::new();
    {
        let db = ctx.db(store);
        if let Some(wait) = ctx.resumed.as_ref().and_then(|r| r.stream.clone()) {
            let Some((_, key)) = first_ready(ctx, db, &opts.keys, &wait) else {
                return Ok(());
            };
            match db.get_value(key, now) {
                Some(Value::Stream(s)) if s.groups.contains_key(group_name) => {
                    plan.push((key, None))
                }
                Some(Value::Stream(_)) => {
                    return Err(CmdError::Raw(
                        "NOGROUP the consumer group this client was blocked on no longer exists"
                            .into(),
                    ))
                }
                _ => {
                    return Err(CmdError::Raw(
                        "UNBLOCKED the stream key no longer exists".into(),
                    ))
                }
            }
        } else {
            for (key, id_arg) in opts.keys.iter().zip(&opts.ids) {
                let stream = get_stream(db, key, now)?;
                if !stream.is_some_and(|s| s.groups.contains_key(group_name)) {
                    return Err(CmdError::Raw(format!(
                        "NOGROUP No such key '{}' or consumer group '{}' in XREADGROUP with GROUP option",
                        String::from_utf8_lossy(key),
                        String::from_utf8_lossy(group_name)
                    )));
                }
                let id = match *id_arg {
                    b">" => None,
                    b"$" => return Err(CmdError::err("The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")),
                    _ => Some(StreamId::parse_loose(id_arg, 0).ok_or_else(invalid_id)?),
                };
                plan.push((key, id));
            }
        }
    }
    let db = ctx.db_mut(store);
    let mut results = Vec::new();
    let mut changed = 0u64;
    let mut aof: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut created_consumer_in: Vec<&[u8]> = Vec::new();
    for (key, id) in plan {
        let stream = get_stream_mut(db, key, now)?.ok_or_else(|| nogroup(key, group_name))?;
        let Stream {
            entries, groups, ..
        } = &mut *stream;
        let group = groups
            .get_mut(group_name)
            .ok_or_else(|| nogroup(key, group_name))?;
        let new: Vec<(StreamId, Fields)> = match (id, group.last_delivered.next()) {
            (None, Some(from)) => entries
                .range(from..)
                .take(count)
                .map(|(k, v)| (*k, v.clone()))
                .collect(),
            _ => Vec::new(),
        };
        if id.is_none() && new.is_empty() {
            continue;
        }
        // Redis creates the consumer only when it serves the key.
        let (c, created) = group.consumer(consumer, now);
        c.seen_ms = now;
        if created {
            changed += 1;
            created_consumer_in.push(key);
            if opts.noack {
                aof.push(aof_command(&[
                    b"XGROUP",
                    b"CREATECONSUMER",
                    key,
                    group_name,
                    consumer,
                ]));
            }
        }
        let mut out: Vec<(StreamId, Option<Fields>)> = Vec::new();
        match id {
            None => {
                for (eid, fields) in &new {
                    group.last_delivered = *eid;
                    if !opts.noack {
                        group.consumer(consumer, now).0.active_ms = now;
                        group.assign(*eid, consumer, now, 1);
                        let (id_text, time) = (eid.to_string(), now.to_string());
                        aof.push(aof_command(&[
                            b"XCLAIM",
                            key,
                            group_name,
                            consumer,
                            b"0",
                            id_text.as_bytes(),
                            b"TIME",
                            time.as_bytes(),
                            b"RETRYCOUNT",
                            b"1",
                            b"FORCE",
                            b"JUSTID",
                            b"LASTID",
                            id_text.as_bytes(),
                        ]));
                    }
                    out.push((*eid, Some(fields.clone())));
                }
            }
            Some(after) => {
                let owned: Vec<StreamId> = group
                    .consumers
                    .get(consumer)
                    .map(|c| match after.next() {
                        Some(from) => c.pel.range(from..).take(count).copied().collect(),
                        None => Vec::new(),
                    })
                    .unwrap_or_default();
                for eid in owned {
                    let fields = entries.get(&eid).cloned();
                    if fields.is_some() {
                        if let Some(p) = group.pel.get_mut(&eid) {
                            p.delivery_ms = now;
                            p.deliveries += 1;
                        }
                    }
                    out.push((eid, fields));
                }
            }
        }
        // The group's read counter, kept exact while no deleted entry lies
        // ahead, else re-estimated (Redis's streamReplyWithRange).
        if !new.is_empty() {
            let mut read = stream.groups.get(group_name).and_then(|g| g.entries_read);
            for (eid, _) in &new {
                read = match read {
                    Some(r) if !stream.has_tombstones_from(*eid) => Some(r + 1),
                    _ => stream.estimate_entries_read(*eid),
                };
            }
            if let Some(g) = stream.groups.get_mut(group_name) {
                g.entries_read = read;
                if opts.noack {
                    let read_text = read.map_or(-1, |n| n as i64).to_string();
                    let last = g.last_delivered.to_string();
                    aof.push(aof_command(&[
                        b"XGROUP",
                        b"SETID",
                        key,
                        group_name,
                        last.as_bytes(),
                        b"ENTRIESREAD",
                        read_text.as_bytes(),
                    ]));
                }
            }
        }
        changed += 1;
        results.push((key, out));
    }
    for key in created_consumer_in {
        ctx.notify('t', "xgroup-createconsumer", key);
    }
    ctx.dirty += changed;
    ctx.propagate_override(aof);
    match opts.block_ms {
        Some(ms) if results.is_empty() => {
            let wait = StreamWait {
                after: Vec::new(),
                group: Some(group_name.to_vec()),
            };
            block_on_streams(ctx, &opts.keys, ms, wait);
        }
        _ => reply_streams(ctx, results),
    }
    Ok(())
}

fn group_mut<'a>(
    db: &'a mut Db,
    key: &[u8],
    group: &[u8],
    now: i64,
) -> Result<Option<&'a mut CGroup>, CmdError> {
    Ok(get_stream_mut(db, key, now)?.and_then(|s| s.groups.get_mut(group)))
}

/// XACK key group id [id ...] — how many pending entries were acknowledged.
fn xack_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    // No key or group: nothing to acknowledge, whatever the IDs say.
    if get_stream(ctx.db(store), args[1], now)?.is_none_or(|s| !s.groups.contains_key(args[2])) {
        ctx.reply.integer(0);
        return Ok(());
    }
    let ids: Vec<StreamId> = args[3..]
        .iter()
        .map(|a| StreamId::parse(a, 0).ok_or_else(invalid_id))
        .collect::<Result<_, _>>()?;
    let db = ctx.db_mut(store);
    let acked = match group_mut(db, args[1], args[2], now)? {
        Some(g) => ids.into_iter().filter(|id| g.ack(*id)).count(),
        None => 0,
    };
    ctx.dirty += acked as u64;
    ctx.reply.integer(acked as i64);
    Ok(())
}

/// XPENDING key group [[IDLE ms] start end count [consumer]] — a summary, or the pending entries.
fn xpending_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let mut i = 3;
    let mut min_idle: Option<i64> = None;
    if args.len() > 3 && args[3].eq_ignore_ascii_case(b"IDLE") {
        let v = args
            .get(4)
            .and_then(|a| parse_i64(a))
            .ok_or(CmdError::NotInteger)?;
        min_idle = Some(v);
        i = 5;
        if args.len() < 8 {
            return Err(CmdError::Syntax);
        }
    }
    let extended = args.len() > i;
    let range = if extended {
        if args.len() < i + 3 || args.len() > i + 4 {
            return Err(CmdError::Syntax);
        }
        let start = parse_range_id(args[i], true)?;
        let end = parse_range_id(args[i + 1], false)?;
        let count = parse_i64(args[i + 2]).ok_or(CmdError::NotInteger)?;
        Some((start, end, count.max(0) as usize, args.get(i + 3).copied()))
    } else {
        None
    };
    let stream = get_stream(ctx.db(store), args[1], now)?;
    let Some(group) = stream.and_then(|s| s.groups.get(args[2])) else {
        return Err(CmdError::Raw(format!(
            "NOGROUP No such key '{}' or consumer group '{}'",
            String::from_utf8_lossy(args[1]),
            String::from_utf8_lossy(args[2])
        )));
    };
    match range {
        None => {
            if group.pel.is_empty() {
                ctx.reply.array(4);
                ctx.reply.integer(0);
                ctx.reply.null();
                ctx.reply.null();
                ctx.reply.null_array();
                return Ok(());
            }
            let first = group.pel.keys().next().copied().unwrap_or_default();
            let last = group.pel.keys().next_back().copied().unwrap_or_default();
            let owners: Vec<(Vec<u8>, usize)> = group
                .consumers
                .iter()
                .filter(|(_, c)| !c.pel.is_empty())
                .map(|(n, c)| (n.clone(), c.pel.len()))
                .collect();
            ctx.reply.array(4);
            ctx.reply.integer(group.pel.len() as i64);
            ctx.reply.bulk(first.to_string().as_bytes());
            ctx.reply.bulk(last.to_string().as_bytes());
            ctx.reply.array(owners.len());
            for (name, n) in owners {
                ctx.reply.array(2);
                ctx.reply.bulk(&name);
                ctx.reply.bulk(n.to_string().as_bytes());
            }
        }
        Some((start, end, count, consumer)) => {
            let rows: Vec<(StreamId, Vec<u8>, i64, u64)> = match (start, end) {
                (a, b) if a <= b => group
                    .pel
                    .range(a..=b)
                    .filter(|(_, p)| consumer.is_none_or(|c| p.consumer == c))
                    .filter(|(_, p)| min_idle.is_none_or(|m| now - p.delivery_ms >= m))
                    .take(count)
                    .map(|(id, p)| {
                        (
                            *id,
                            p.consumer.clone(),
                            (now - p.delivery_ms).max(0),
                            p.deliveries,
                        )
                    })
                    .collect(),
                _ => Vec::new(),
            };
            ctx.reply.array(rows.len());
            for (id, c, idle, n) in rows {
                ctx.reply.array(4);
                ctx.reply.bulk(id.to_string().as_bytes());
                ctx.reply.bulk(&c);
                ctx.reply.integer(idle);
                ctx.reply.integer(n as i64);
            }
        }
    }
    Ok(())
}

/// XCLAIM key group consumer min-idle id ... [IDLE ms] [TIME ms] [RETRYCOUNT n] [FORCE] [JUSTID] [LASTID id].
fn xclaim_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    // Redis looks the group up before parsing anything else.
    if get_stream(ctx.db(store), args[1], now)?.is_none_or(|s| !s.groups.contains_key(args[2])) {
        return Err(nogroup(args[1], args[2]));
    }
    let min_idle = parse_i64(args[4])
        .ok_or_else(|| CmdError::err("Invalid min-idle-time argument for XCLAIM"))?
        .max(0);
    let mut ids = Vec::new();
    let mut i = 5;
    while i < args.len() {
        match StreamId::parse(args[i], 0) {
            Some(id) => ids.push(id),
            None => break,
        }
        i += 1;
    }
    let (mut delivery_ms, mut retry, mut force, mut justid, mut lastid) =
        (now, None, false, false, None);
    while i < args.len() {
        let opt = args[i].to_ascii_uppercase();
        let next = args.get(i + 1);
        match opt.as_slice() {
            b"FORCE" => force = true,
            b"JUSTID" => justid = true,
            b"IDLE" | b"TIME" | b"RETRYCOUNT" | b"LASTID" if next.is_some() => {
                let v = next.copied().unwrap_or_default();
                match opt.as_slice() {
                    b"IDLE" => {
                        delivery_ms = now
                            - parse_i64(v).ok_or_else(|| {
                                CmdError::err("Invalid IDLE option argument for XCLAIM")
                            })?
                    }
                    b"TIME" => {
                        delivery_ms = parse_i64(v).ok_or_else(|| {
                            CmdError::err("Invalid TIME option argument for XCLAIM")
                        })?
                    }
                    b"RETRYCOUNT" => {
                        retry = Some(
                            parse_i64(v)
                                .ok_or_else(|| {
                                    CmdError::err("Invalid RETRYCOUNT option argument for XCLAIM")
                                })?
                                .max(0) as u64,
                        )
                    }
                    _ => lastid = Some(StreamId::parse(v, 0).ok_or_else(invalid_id)?),
                }
                i += 1;
            }
            _ => {
                return Err(CmdError::err(format!(
                    "Unrecognized XCLAIM option '{}'",
                    String::from_utf8_lossy(args[i])
                )))
            }
        }
        i += 1;
    }
    let db = ctx.db_mut(store);
    let Some(stream) = get_stream_mut(db, args[1], now)? else {
        return Err(nogroup(args[1], args[2]));
    };
    let Stream {
        entries, groups, ..
    } = &mut *stream;
    let Some(group) = groups.get_mut(args[2]) else {
        return Err(nogroup(args[1], args[2]));
    };
    let mut last_id_moved = false;
    if let Some(l) = lastid {
        if l > group.last_delivered {
            group.last_delivered = l;
            last_id_moved = true;
        }
    }
    let mut consumer_created = false;
    let mut consumer_seen = false;
    let mut aof: Vec<Vec<Vec<u8>>> = Vec::new();
    let mut claimed: Vec<(StreamId, Fields)> = Vec::new();
    for id in ids {
        if !entries.contains_key(&id) {
            // The entry was deleted: drop it from the PEL, as Redis 7 does.
            if let Some(p) = group.pel.get(&id).cloned() {
                aof.push(xclaim_propagation(
                    args[1],
                    args[2],
                    id,
                    &p,
                    group.last_delivered,
                ));
                group.ack(id);
            }
            continue;
        }
        let forced = !group.pel.contains_key(&id);
        if forced && !force {
            continue;
        }
        // A NACK FORCE creates has no owner yet: min-idle does not apply.
        if let Some(p) = group.pel.get(&id) {
            if min_idle > 0 && now - p.delivery_ms < min_idle {
                continue;
            }
        }
        if !consumer_seen {
            // Created (and its seen time refreshed) only when it claims.
            let (c, created) = group.consumer(args[3], now);
            c.seen_ms = now;
            consumer_created = created;
            consumer_seen = true;
        }
        // Redis's new NACK starts at one delivery.
        let before = group.pel.get(&id).map_or(1, |p| p.deliveries);
        let deliveries = retry.unwrap_or(if justid { before } else { before + 1 });
        group.assign(id, args[3], delivery_ms, deliveries);
        if let Some(p) = group.pel.get(&id) {
            aof.push(xclaim_propagation(
                args[1],
                args[2],
                id,
                p,
                group.last_delivered,
            ));
        }
        if let Some(f) = entries.get(&id) {
            claimed.push((id, f.clone()));
        }
    }
    if let Some(c) = group.consumers.get_mut(args[3]) {
        if !claimed.is_empty() {
            c.active_ms = now;
        }
    }
    if last_id_moved && aof.is_empty() {
        let read = group.entries_read.map_or(-1, |n| n as i64).to_string();
        let last = group.last_delivered.to_string();
        aof.push(aof_command(&[
            b"XGROUP",
            b"SETID",
            args[1],
            args[2],
            last.as_bytes(),
            b"ENTRIESREAD",
            read.as_bytes(),
        ]));
    }
    if consumer_created {
        ctx.notify('t', "xgroup-createconsumer", args[1]);
    }
    ctx.dirty += 1;
    ctx.propagate_override(aof);
    if justid {
        ctx.reply.array(claimed.len());
        for (id, _) in &claimed {
            ctx.reply.bulk(id.to_string().as_bytes());
        }
    } else {
        reply_entries(ctx, &claimed);
    }
    Ok(())
}

/// The XCLAIM Redis propagates for a claimed or dropped pending entry:
/// idempotent, with the delivery time and count it now has.
fn xclaim_propagation(
    key: &[u8],
    group: &[u8],
    id: StreamId,
    p: &crate::store::stream::Pending,
    last_id: StreamId,
) -> Vec<Vec<u8>> {
    let (id, time, count, last) = (
        id.to_string(),
        p.delivery_ms.to_string(),
        p.deliveries.to_string(),
        last_id.to_string(),
    );
    aof_command(&[
        b"XCLAIM",
        key,
        group,
        &p.consumer,
        b"0",
        id.as_bytes(),
        b"TIME",
        time.as_bytes(),
        b"RETRYCOUNT",
        count.as_bytes(),
        b"FORCE",
        b"JUSTID",
        b"LASTID",
        last.as_bytes(),
    ])
}

/// XAUTOCLAIM key group consumer min-idle start [COUNT n] [JUSTID] — [next start, claimed, deleted].
fn xautoclaim_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let min_idle = parse_i64(args[4])
        .ok_or_else(|| CmdError::err("Invalid min-idle-time argument for XAUTOCLAIM"))?
        .max(0);
    let start = parse_range_id(args[5], true)?;
    let (mut count, mut justid) = (100usize, false);
    let mut i = 6;
    while i < args.len() {
        match args[i].to_ascii_uppercase().as_slice() {
            b"COUNT" if i + 1 < args.len() => {
                let n = parse_i64(args[i + 1]).ok_or(CmdError::NotInteger)?;
                if !(1..=i64::MAX / 10).contains(&n) {
                    return Err(CmdError::err("COUNT must be > 0"));
                }
                count = n as usize;
                i += 2;
            }
            b"JUSTID" => {
                justid = true;
                i += 1;
            }
            _ => return Err(CmdError::Syntax),
        }
    }
    let db = ctx.db_mut(store);
    let Some(stream) = get_stream_mut(db, args[1], now)? else {
        return Err(nogroup(args[1], args[2]));
    };
    let Stream {
        entries, groups, ..
    } = &mut *stream;
    let Some(group) = groups.get_mut(args[2]) else {
        return Err(nogroup(args[1], args[2]));
    };
    let mut attempts = count * 10;
    let mut claimed: Vec<(StreamId, Fields)> = Vec::new();
    let mut deleted: Vec<StreamId> = Vec::new();
    let mut next = StreamId::MIN;
    let mut consumer_created = false;
    let mut consumer_seen = false;
    let mut aof: Vec<Vec<Vec<u8>>> = Vec::new();
    let candidates: Vec<(StreamId, i64, u64)> = group
        .pel
        .range(start..)
        .map(|(id, p)| (*id, p.delivery_ms, p.deliveries))
        .collect();
    let mut budget = count;
    for (id, delivered, deliveries) in candidates {
        if attempts == 0 || budget == 0 {
            next = id;
            break;
        }
        attempts -= 1;
        // Deleted entries leave the PEL whatever their idle time, and
        // count toward COUNT (Redis's xautoclaimCommand).
        if !entries.contains_key(&id) {
            if let Some(p) = group.pel.get(&id).cloned() {
                aof.push(xclaim_propagation(
                    args[1],
                    args[2],
                    id,
                    &p,
                    group.last_delivered,
                ));
            }
            group.ack(id);
            deleted.push(id);
            budget -= 1;
            continue;
        }
        if now - delivered < min_idle {
            continue;
        }
        budget -= 1;
        if !consumer_seen {
            let (c, created) = group.consumer(args[3], now);
            c.seen_ms = now;
            consumer_created = created;
            consumer_seen = true;
        }
        group.assign(
            id,
            args[3],
            now,
            if justid { deliveries } else { deliveries + 1 },
        );
        if let Some(p) = group.pel.get(&id) {
            aof.push(xclaim_propagation(
                args[1],
                args[2],
                id,
                p,
                group.last_delivered,
            ));
        }
        if let Some(f) = entries.get(&id) {
            claimed.push((id, f.clone()));
        }
    }
    if consumer_created {
        ctx.notify('t', "xgroup-createconsumer", args[1]);
    }
    ctx.dirty += 1;
    ctx.propagate_override(aof);
    ctx.reply.array(3);
    ctx.reply.bulk(next.to_string().as_bytes());
    if justid {
        ctx.reply.array(claimed.len());
        for (id, _) in &claimed {
            ctx.reply.bulk(id.to_string().as_bytes());
        }
    } else {
        reply_entries(ctx, &claimed);
    }
    ctx.reply.array(deleted.len());
    for id in deleted {
        ctx.reply.bulk(id.to_string().as_bytes());
    }
    Ok(())
}

fn parse_entries_read(args: &[&[u8]], from: usize) -> Result<Option<i64>, CmdError> {
    match args.get(from..) {
        Some([]) | None => Ok(None),
        Some([opt, v]) if opt.eq_ignore_ascii_case(b"ENTRIESREAD") => {
            let n = parse_i64(v).ok_or(CmdError::NotInteger)?;
            if n < 0 && n != -1 {
                return Err(CmdError::err(
                    "value for ENTRIESREAD must be positive or -1",
                ));
            }
            Ok(Some(n))
        }
        _ => Err(CmdError::Syntax),
    }
}

/// Redis 7.0 runs XGROUP and XINFO subcommands as commands of their own:
/// an unknown one, or a known one with the wrong arity (`arities`: name,
/// arity as in the command table), gets the dispatcher's errors.
fn check_subcommand(args: &[&[u8]], container: &str, arities: &[(&str, i32)]) -> CmdResult {
    let sub = String::from_utf8_lossy(args[1]).to_ascii_lowercase();
    match arities.iter().find(|(name, _)| *name == sub) {
        None => Err(CmdError::err(format!(
            "unknown subcommand '{}'. Try {} HELP.",
            String::from_utf8_lossy(args[1])
                .chars()
                .take(128)
                .collect::<String>(),
            container.to_ascii_uppercase()
        ))),
        Some((name, arity)) if !super::arity_ok(*arity, args.len()) => {
            Err(CmdError::WrongArity(format!("{container}|{name}")))
        }
        Some(_) => Ok(()),
    }
}

/// XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER|HELP ...
fn xgroup_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let sub = args[1].to_ascii_uppercase();
    check_subcommand(
        args,
        "xgroup",
        &[
            ("create", -5),
            ("setid", -5),
            ("destroy", 4),
            ("createconsumer", 5),
            ("delconsumer", 5),
            ("help", 2),
        ],
    )?;
    if sub == b"HELP" {
        let lines = [
            "XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CREATE <key> <groupname> <id|$> [option]",
            "    Create a new consumer group. Options are:",
            "    * MKSTREAM",
            "      Create the empty stream if it does not exist.",
            "    * ENTRIESREAD entries_read",
            "      Set the group's entries_read counter (internal use).",
            "CREATECONSUMER <key> <groupname> <consumer>",
            "    Create a new consumer in the specified group.",
            "DELCONSUMER <key> <groupname> <consumer>",
            "    Remove the specified consumer.",
            "DESTROY <key> <groupname>",
            "    Remove the specified group.",
            "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
            "    Set the current group ID and entries_read counter.",
            "HELP",
            "    Prints this help.",
        ];
        ctx.reply.array(lines.len());
        for l in lines {
            ctx.reply.simple(l);
        }
        return Ok(());
    }
    let arity_ok = match sub.as_slice() {
        b"CREATE" => (5..=8).contains(&args.len()),
        b"SETID" => args.len() == 5 || args.len() == 7,
        b"DESTROY" => args.len() == 4,
        b"CREATECONSUMER" | b"DELCONSUMER" => args.len() == 5,
        _ => false,
    };
    if !arity_ok {
        return Err(CmdError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try XGROUP HELP.",
            String::from_utf8_lossy(args[1])
        )));
    }
    let (key, group) = (args[2], args[3]);
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let mut mkstream = false;
    let mut entries_read = None;
    if sub == b"CREATE" {
        let mut i = 5;
        while i < args.len() {
            match args[i].to_ascii_uppercase().as_slice() {
                b"MKSTREAM" => i += 1,
                b"ENTRIESREAD" if i + 1 < args.len() => {
                    entries_read = parse_entries_read(args, i)?.or(entries_read);
                    i += 2;
                }
                _ => {
                    return Err(CmdError::err(format!(
                    "unknown subcommand or wrong number of arguments for '{}'. Try XGROUP HELP.",
                    String::from_utf8_lossy(args[1])
                )))
                }
            }
        }
        mkstream = args[5..]
            .iter()
            .any(|a| a.eq_ignore_ascii_case(b"MKSTREAM"));
    }
    if get_stream(db, key, now)?.is_none() {
        if sub == b"CREATE" && mkstream {
            db.set(key, Value::Stream(Box::default()), now);
        } else {
            return Err(CmdError::err("The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."));
        }
    }
    let stream = get_stream_mut(db, key, now)?.ok_or(CmdError::NoSuchKey)?;
    let no_group = || {
        CmdError::Raw(format!(
            "NOGROUP No such consumer group '{}' for key name '{}'",
            String::from_utf8_lossy(group),
            String::from_utf8_lossy(key)
        ))
    };
    match sub.as_slice() {
        b"CREATE" | b"SETID" => {
            let id = if args[4] == b"$" {
                stream.last_id
            } else {
                StreamId::parse_loose(args[4], 0).ok_or_else(invalid_id)?
            };
            if sub == b"SETID" {
                entries_read = parse_entries_read(args, 5)?;
            }
            let read = match entries_read {
                Some(n) if n >= 0 => Some(n as u64),
                _ => None,
            };
            if sub == b"CREATE" {
                if stream.groups.contains_key(group) {
                    return Err(CmdError::Raw(
                        "BUSYGROUP Consumer Group name already exists".into(),
                    ));
                }
                stream.groups.insert(
                    group.to_vec(),
                    CGroup {
                        last_delivered: id,
                        entries_read: read,
                        ..Default::default()
                    },
                );
                ctx.notify('t', "xgroup-create", key);
            } else {
                let g = stream.groups.get_mut(group).ok_or_else(no_group)?;
                g.last_delivered = id;
                g.entries_read = read;
                ctx.notify('t', "xgroup-setid", key);
            }
            ctx.dirty += 1;
            ctx.reply.ok();
        }
        b"DESTROY" => {
            let removed = stream.groups.remove(group).is_some();
            if removed {
                ctx.dirty += 1;
                ctx.notify('t', "xgroup-destroy", key);
            }
            ctx.reply.integer(removed as i64);
        }
        b"CREATECONSUMER" => {
            let g = stream.groups.get_mut(group).ok_or_else(no_group)?;
            let (_, created) = g.consumer(args[4], now);
            if created {
                ctx.dirty += 1;
                ctx.notify('t', "xgroup-createconsumer", key);
            }
            ctx.reply.integer(created as i64);
        }
        _ => {
            let g = stream.groups.get_mut(group).ok_or_else(no_group)?;
            let pending = match g.consumers.remove(args[4]) {
                Some(c) => {
                    for id in &c.pel {
                        g.pel.remove(id);
                    }
                    ctx.dirty += 1;
                    ctx.notify('t', "xgroup-delconsumer", key);
                    c.pel.len()
                }
                None => 0,
            };
            ctx.reply.integer(pending as i64);
        }
    }
    Ok(())
}

/// XINFO STREAM key [FULL [COUNT n]] | GROUPS key | CONSUMERS key group | HELP.
fn xinfo_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let sub = args[1].to_ascii_uppercase();
    check_subcommand(
        args,
        "xinfo",
        &[("stream", -3), ("groups", 3), ("consumers", 4), ("help", 2)],
    )?;
    if sub == b"HELP" {
        let lines = [
            "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CONSUMERS <key> <groupname>",
            "    Show consumers of <groupname>.",
            "GROUPS <key>",
            "    Show the stream consumer groups.",
            "STREAM <key> [FULL [COUNT <count>]",
            "    Show information about the stream.",
            "HELP",
            "    Prints this help.",
        ];
        ctx.reply.array(lines.len());
        for l in lines {
            ctx.reply.simple(l);
        }
        return Ok(());
    }
    let bad = || {
        CmdError::err(format!(
            "unknown subcommand or wrong number of arguments for '{}'. Try XINFO HELP.",
            String::from_utf8_lossy(args[1])
        ))
    };
    if args.len() < 3 {
        return Err(bad());
    }
    let now = ctx.now_ms;
    let Some(stream) = get_stream(ctx.db(store), args[2], now)? else {
        return Err(CmdError::NoSuchKey);
    };
    match sub.as_slice() {
        b"CONSUMERS" if args.len() == 4 => {
            let group = stream.groups.get(args[3]).ok_or_else(|| {
                CmdError::Raw(format!(
                    "NOGROUP No such consumer group '{}' for key name '{}'",
                    String::from_utf8_lossy(args[3]),
                    String::from_utf8_lossy(args[2])
                ))
            })?;
            ctx.reply.array(group.consumers.len());
            for (name, c) in &group.consumers {
                ctx.reply.map(3);
                ctx.reply.bulk(b"name");
                ctx.reply.bulk(name);
                ctx.reply.bulk(b"pending");
                ctx.reply.integer(c.pel.len() as i64);
                ctx.reply.bulk(b"idle");
                ctx.reply.integer((now - c.seen_ms).max(0));
            }
        }
        b"GROUPS" if args.len() == 3 => {
            ctx.reply.array(stream.groups.len());
            for (name, g) in &stream.groups {
                ctx.reply.map(6);
                ctx.reply.bulk(b"name");
                ctx.reply.bulk(name);
                ctx.reply.bulk(b"consumers");
                ctx.reply.integer(g.consumers.len() as i64);
                ctx.reply.bulk(b"pending");
                ctx.reply.integer(g.pel.len() as i64);
                ctx.reply.bulk(b"last-delivered-id");
                ctx.reply.bulk(g.last_delivered.to_string().as_bytes());
                ctx.reply.bulk(b"entries-read");
                match g.entries_read {
                    Some(n) => ctx.reply.integer(n as i64),
                    None => ctx.reply.null(),
                }
                ctx.reply.bulk(b"lag");
                match stream.group_lag(g) {
                    Some(n) => ctx.reply.integer(n as i64),
                    None => ctx.reply.null(),
                }
            }
        }
        b"STREAM" => {
            let full = args.get(3).is_some_and(|a| a.eq_ignore_ascii_case(b"FULL"));
            let mut count = 10usize;
            if full {
                match args.get(4..) {
                    Some([]) | None => {}
                    Some([c, n]) if c.eq_ignore_ascii_case(b"COUNT") => {
                        let n = parse_i64(n).ok_or(CmdError::NotInteger)?;
                        count = if n <= 0 { usize::MAX } else { n as usize };
                    }
                    _ => return Err(CmdError::Syntax),
                }
            } else if args.len() != 3 {
                return Err(bad());
            }
            reply_xinfo_stream(ctx, stream, full, count, now);
        }
        _ => return Err(bad()),
    }
    Ok(())
}

fn reply_xinfo_stream(ctx: &mut Ctx, stream: &Stream, full: bool, count: usize, now: i64) {
    let nodes = stream.nodes.len() as u64;
    ctx.reply.map(if full { 9 } else { 10 });
    ctx.reply.bulk(b"length");
    ctx.reply.integer(stream.len() as i64);
    ctx.reply.bulk(b"radix-tree-keys");
    ctx.reply.integer(nodes as i64);
    ctx.reply.bulk(b"radix-tree-nodes");
    ctx.reply.integer((nodes + 1) as i64);
    ctx.reply.bulk(b"last-generated-id");
    ctx.reply.bulk(stream.last_id.to_string().as_bytes());
    ctx.reply.bulk(b"max-deleted-entry-id");
    ctx.reply.bulk(stream.max_deleted_id.to_string().as_bytes());
    ctx.reply.bulk(b"entries-added");
    ctx.reply.integer(stream.entries_added as i64);
    ctx.reply.bulk(b"recorded-first-entry-id");
    ctx.reply.bulk(stream.first_id().to_string().as_bytes());
    if !full {
        ctx.reply.bulk(b"groups");
        ctx.reply.integer(stream.groups.len() as i64);
        ctx.reply.bulk(b"first-entry");
        match stream.entries.iter().next() {
            Some((id, f)) => reply_entry(ctx, *id, Some(f)),
            None => ctx.reply.null_array(),
        }
        ctx.reply.bulk(b"last-entry");
        match stream.entries.iter().next_back() {
            Some((id, f)) => reply_entry(ctx, *id, Some(f)),
            None => ctx.reply.null_array(),
        }
        return;
    }
    ctx.reply.bulk(b"entries");
    let entries: Vec<(StreamId, Fields)> = stream
        .entries
        .iter()
        .take(count)
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    reply_entries(ctx, &entries);
    ctx.reply.bulk(b"groups");
    ctx.reply.array(stream.groups.len());
    for (name, g) in &stream.groups {
        ctx.reply.map(7);
        ctx.reply.bulk(b"name");
        ctx.reply.bulk(name);
        ctx.reply.bulk(b"last-delivered-id");
        ctx.reply.bulk(g.last_delivered.to_string().as_bytes());
        ctx.reply.bulk(b"entries-read");
        match g.entries_read {
            Some(n) => ctx.reply.integer(n as i64),
            None => ctx.reply.null(),
        }
        ctx.reply.bulk(b"lag");
        match stream.group_lag(g) {
            Some(n) => ctx.reply.integer(n as i64),
            None => ctx.reply.null(),
        }
        ctx.reply.bulk(b"pel-count");
        ctx.reply.integer(g.pel.len() as i64);
        ctx.reply.bulk(b"pending");
        let pel: Vec<_> = g.pel.iter().take(count).collect();
        ctx.reply.array(pel.len());
        for (id, p) in pel {
            ctx.reply.array(4);
            ctx.reply.bulk(id.to_string().as_bytes());
            ctx.reply.bulk(&p.consumer);
            ctx.reply.integer(p.delivery_ms);
            ctx.reply.integer(p.deliveries as i64);
        }
        ctx.reply.bulk(b"consumers");
        ctx.reply.array(g.consumers.len());
        for (cname, c) in &g.consumers {
            ctx.reply.map(4);
            ctx.reply.bulk(b"name");
            ctx.reply.bulk(cname);
            ctx.reply.bulk(b"seen-time");
            ctx.reply.integer(c.seen_ms);
            ctx.reply.bulk(b"pel-count");
            ctx.reply.integer(c.pel.len() as i64);
            ctx.reply.bulk(b"pending");
            let own: Vec<_> = c.pel.iter().take(count).collect();
            ctx.reply.array(own.len());
            for id in own {
                let p = g.pel.get(id);
                ctx.reply.array(3);
                ctx.reply.bulk(id.to_string().as_bytes());
                ctx.reply.integer(p.map_or(0, |p| p.delivery_ms));
                ctx.reply.integer(p.map_or(0, |p| p.deliveries) as i64);
            }
        }
    }
    let _ = now;
}

/// XSETID key last-id [ENTRIESADDED n] [MAXDELETEDID id] — `+OK`.
fn xsetid_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let id = StreamId::parse(args[2], 0).ok_or_else(invalid_id)?;
    let (mut added, mut max_deleted) = (None, None);
    let mut i = 3;
    while i < args.len() {
        let v = args.get(i + 1).ok_or(CmdError::Syntax)?;
        match args[i].to_ascii_uppercase().as_slice() {
            b"ENTRIESADDED" => {
                let n = parse_i64(v).ok_or(CmdError::NotInteger)?;
                if n < 0 {
                    return Err(CmdError::err("entries_added must be positive"));
                }
                added = Some(n as u64);
            }
            b"MAXDELETEDID" => max_deleted = Some(StreamId::parse(v, 0).ok_or_else(invalid_id)?),
            _ => return Err(CmdError::Syntax),
        }
        i += 2;
    }
    if let Some(m) = max_deleted {
        if id < m {
            return Err(CmdError::err(
                "The ID specified in XSETID is smaller than the provided max_deleted_entry_id",
            ));
        }
    }
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let stream = get_stream_mut(db, args[1], now)?.ok_or(CmdError::NoSuchKey)?;
    if let Some(a) = added {
        if (stream.len() as u64) > a {
            return Err(CmdError::err(
                "The entries_added specified in XSETID is smaller than the target stream length",
            ));
        }
    }
    if !stream.is_empty() && id < stream.last_id {
        return Err(CmdError::err(
            "The ID specified in XSETID is smaller than the target stream top item",
        ));
    }
    stream.last_id = id;
    if let Some(a) = added {
        stream.entries_added = a;
    }
    if let Some(m) = max_deleted {
        stream.max_deleted_id = m;
    }
    ctx.dirty += 1;
    ctx.notify('t', "xsetid", args[1]);
    ctx.reply.ok();
    Ok(())
}
