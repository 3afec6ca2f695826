//! Geospatial commands: GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH(STORE), GEORADIUS*.
//!
//! A geo index is an ordinary sorted set whose scores are 52-bit geohashes
//! (see `store/geohash.rs`), so ZRANGE, ZREM and friends work on it too.
//! GEOADD is ZADD with the scores computed from the coordinates; the search
//! commands share one body, [`search_generic`], as Redis's
//! `georadiusGeneric` serves all six of them: parse the centre and shape,
//! scan the score ranges of the nine geohash boxes around the centre,
//! keep the members truly inside the shape, sort by distance when asked,
//! then reply or store the result (scores or distances) in a new sorted set.
//!
//! All access to the sorted set goes through the few small functions in
//! the "sorted-set access" section, so a change of the sorted-set type
//! touches only them.

use super::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::store::geohash::{self, Shape, ShapeKind, LAT_MAX, LAT_MIN, LONG_MAX, LONG_MIN};
use crate::store::number::strtod;
use crate::store::zset::{ScoreBound, ZSet};
use crate::store::{Db, Store, Value};

use Handler::{Read, Write};

/// The geo family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd("geoadd", -5, "write denyoom", (1, 1, 1), Group::Geo, "key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]", "Add one or more geospatial items in the geospatial index represented using a sorted set", Write(geoadd_command)),
    cmd("geodist", -4, "readonly", (1, 1, 1), Group::Geo, "key member1 member2 [M|KM|FT|MI]", "Returns the distance between two members of a geospatial index", Read(geodist_command)),
    cmd("geohash", -2, "readonly", (1, 1, 1), Group::Geo, "key [member [member ...]]", "Returns members of a geospatial index as standard geohash strings", Read(geohash_command)),
    cmd("geopos", -2, "readonly", (1, 1, 1), Group::Geo, "key [member [member ...]]", "Returns longitude and latitude of members of a geospatial index", Read(geopos_command)),
    cmd("georadius", -6, "write denyoom movablekeys", (1, 1, 1), Group::Geo, "key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key]", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point", Write(georadius_command)),
    cmd("georadius_ro", -6, "readonly", (1, 1, 1), Group::Geo, "key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]", "A read-only variant for GEORADIUS", Read(georadius_ro_command)),
    cmd("georadiusbymember", -5, "write denyoom movablekeys", (1, 1, 1), Group::Geo, "key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key]", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member", Write(georadiusbymember_command)),
    cmd("georadiusbymember_ro", -5, "readonly", (1, 1, 1), Group::Geo, "key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]", "A read-only variant for GEORADIUSBYMEMBER", Read(georadiusbymember_ro_command)),
    cmd("geosearch", -7, "readonly", (1, 1, 1), Group::Geo, "key FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.", Read(geosearch_command)),
    cmd("geosearchstore", -8, "write denyoom", (1, 2, 1), Group::Geo, "destination source FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC] [COUNT count [ANY]] [STOREDIST]", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.", Write(geosearchstore_command)),
];

// ---- sorted-set access -------------------------------------------------

/// The sorted set at `key`: None when absent, WRONGTYPE for other types.
fn zset_of<'a>(db: &'a Db, key: &[u8], now_ms: i64) -> Result<Option<&'a ZSet>, CmdError> {
    match db.get_value(key, now_ms) {
        None => Ok(None),
        Some(Value::ZSet(z)) => Ok(Some(z)),
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The sorted set at `key` for writing; created empty when absent.
fn zset_for_write<'a>(db: &'a mut Db, key: &[u8], now_ms: i64) -> Result<&'a mut ZSet, CmdError> {
    if zset_of(db, key, now_ms)?.is_none() {
        db.set(key, Value::ZSet(Box::default()), now_ms);
    }
    match db.get_value_mut(key, now_ms) {
        Some(Value::ZSet(z)) => Ok(z),
        _ => Err(CmdError::WrongType),
    }
}

/// A new sorted-set value holding `items`.
fn zset_value(items: impl Iterator<Item = (Vec<u8>, f64)>) -> Value {
    let mut z = ZSet::new();
    for (member, score) in items {
        z.insert(&member, score);
    }
    Value::ZSet(Box::new(z))
}

/// Members with `min <= score < max`, lowest score first.
fn members_in_range(z: &ZSet, min: f64, max: f64) -> impl Iterator<Item = (&[u8], f64)> {
    let ranks = z.score_range_ranks(&ScoreBound::Inclusive(min), &ScoreBound::Exclusive(max));
    z.iter_ranks(ranks)
}

// ---- argument parsing ----------------------------------------------------

/// Parses a float the way Redis's `getDoubleFromObject` does: the whole
/// argument, no spaces, no NaN.
fn parse_double(arg: &[u8]) -> Option<f64> {
    if arg.is_empty() || arg[0].is_ascii_whitespace() {
        return None;
    }
    let (v, used, _) = strtod(arg);
    (used == arg.len() && !v.is_nan()).then_some(v)
}

/// A float argument, or `ERR <msg>` (Redis's "value is not a valid float" by default).
fn double_arg(arg: &[u8], msg: Option<&str>) -> Result<f64, CmdError> {
    parse_double(arg).ok_or_else(|| match msg {
        Some(m) => CmdError::err(m),
        None => CmdError::NotFloat,
    })
}

/// Parses a longitude, latitude pair inside the indexable area.
fn parse_lon_lat(lon: &[u8], lat: &[u8]) -> Result<[f64; 2], CmdError> {
    let x = double_arg(lon, None)?;
    let y = double_arg(lat, None)?;
    if !(LONG_MIN..=LONG_MAX).contains(&x) || !(LAT_MIN..=LAT_MAX).contains(&y) {
        return Err(CmdError::err(format!(
            "invalid longitude,latitude pair {x:.6},{y:.6}"
        )));
    }
    Ok([x, y])
}

/// Metres per unit (M, KM, FT, MI).
fn parse_unit(arg: &[u8]) -> Result<f64, CmdError> {
    match arg.to_ascii_lowercase().as_slice() {
        b"m" => Ok(1.0),
        b"km" => Ok(1000.0),
        b"ft" => Ok(0.3048),
        b"mi" => Ok(1609.34),
        _ => Err(CmdError::err(
            "unsupported unit provided. please use M, KM, FT, MI",
        )),
    }
}

/// Parses `radius unit`: (radius, metres per unit).
fn parse_radius(radius: &[u8], unit: &[u8]) -> Result<(f64, f64), CmdError> {
    let r = double_arg(radius, Some("need numeric radius"))?;
    if r < 0.0 {
        return Err(CmdError::err("radius cannot be negative"));
    }
    Ok((r, parse_unit(unit)?))
}

/// Parses `width height unit`: (width, height, metres per unit).
fn parse_box(width: &[u8], height: &[u8], unit: &[u8]) -> Result<(f64, f64, f64), CmdError> {
    let w = double_arg(width, Some("need numeric width"))?;
    let h = double_arg(height, Some("need numeric height"))?;
    if h < 0.0 || w < 0.0 {
        return Err(CmdError::err("height or width cannot be negative"));
    }
    Ok((w, h, parse_unit(unit)?))
}

/// The position stored for `member`, if it is there.
fn member_position(z: &ZSet, member: &[u8]) -> Option<[f64; 2]> {
    geohash::decode_score(z.score(member)?)
}

// ---- replies ---------------------------------------------------------------

/// A distance as Redis prints it: a bulk string with four decimals.
fn reply_distance(ctx: &mut Ctx, d: f64) {
    let scaled = (d * 10_000.0).round_ties_even() as i64;
    let sign = if scaled < 0 { "-" } else { "" };
    let abs = scaled.unsigned_abs();
    let text = format!("{sign}{}.{:04}", abs / 10_000, abs % 10_000);
    ctx.reply.bulk(text.as_bytes());
}

/// A coordinate as Redis's `addReplyHumanLongDouble` prints it: 17
/// decimals with trailing zeros removed; a bulk string in RESP2, a double
/// in RESP3.
fn reply_coordinate(ctx: &mut Ctx, v: f64) {
    let mut text = format!("{v:.17}");
    while text.ends_with('0') {
        text.pop();
    }
    if text.ends_with('.') {
        text.pop();
    }
    if text == "-0" {
        text = "0".into();
    }
    if ctx.reply.resp3() {
        ctx.reply.buf.push(b',');
        ctx.reply.buf.extend_from_slice(text.as_bytes());
        ctx.reply.buf.extend_from_slice(b"\r\n");
    } else {
        ctx.reply.bulk(text.as_bytes());
    }
}

// ---- commands --------------------------------------------------------------

/// GEOADD key [NX|XX] [CH] longitude latitude member [...] — integer: the
/// number of members added (with CH, added or moved).
fn geoadd_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let (mut nx, mut xx, mut ch) = (false, false, false);
    let mut i = 2;
    while i < args.len() {
        match args[i].to_ascii_lowercase().as_slice() {
            b"nx" => nx = true,
            b"xx" => xx = true,
            b"ch" => ch = true,
            _ => break,
        }
        i += 1;
    }
    let rest = &args[i..];
    if rest.is_empty() || !rest.len().is_multiple_of(3) || (nx && xx) {
        return Err(CmdError::Syntax);
    }
    let mut points = Vec::with_capacity(rest.len() / 3);
    for triple in rest.chunks(3) {
        let [lon, lat] = parse_lon_lat(triple[0], triple[1])?;
        let score = geohash::score_of(lon, lat).unwrap_or(0.0);
        points.push((triple[2], score));
    }
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    if zset_of(db, args[1], now)?.is_none() && xx {
        ctx.reply.integer(0);
        return Ok(());
    }
    let z = zset_for_write(db, args[1], now)?;
    let (mut added, mut updated) = (0i64, 0i64);
    for (member, score) in points {
        match z.score(member) {
            Some(_) if nx => {}
            Some(old) => {
                if old != score {
                    z.insert(member, score);
                    updated += 1;
                }
            }
            None if xx => {}
            None => {
                z.insert(member, score);
                added += 1;
            }
        }
    }
    let empty = z.is_empty();
    if empty {
        // NX/XX may leave a freshly created set empty: Redis never stores one.
        db.remove(args[1]);
    }
    if added + updated > 0 {
        ctx.dirty += (added + updated) as u64;
        ctx.notify('z', "zadd", args[1]);
    }
    ctx.reply.integer(if ch { added + updated } else { added });
    Ok(())
}

/// GEODIST key member1 member2 [M|KM|FT|MI] — bulk: the distance with four
/// decimals, or null when a member or the key is missing.
fn geodist_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let to_meter = match args.len() {
        4 => 1.0,
        5 => parse_unit(args[4])?,
        _ => return Err(CmdError::Syntax),
    };
    let Some(z) = zset_of(ctx.db(store), args[1], ctx.now_ms)? else {
        ctx.reply.null();
        return Ok(());
    };
    match (member_position(z, args[2]), member_position(z, args[3])) {
        (Some(a), Some(b)) => {
            let d = geohash::distance(a[0], a[1], b[0], b[1]) / to_meter;
            reply_distance(ctx, d);
        }
        _ => ctx.reply.null(),
    }
    Ok(())
}

/// GEOHASH key [member ...] — array of 11-character geohash strings, null
/// for missing members.
fn geohash_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let z = zset_of(ctx.db(store), args[1], ctx.now_ms)?;
    ctx.reply.array(args.len() - 2);
    for member in &args[2..] {
        match z
            .and_then(|z| member_position(z, member))
            .and_then(geohash::geohash_string)
        {
            Some(h) => ctx.reply.bulk(&h),
            None => ctx.reply.null(),
        }
    }
    Ok(())
}

/// GEOPOS key [member ...] — array of [longitude, latitude] pairs, a null
/// array for missing members.
fn geopos_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let z = zset_of(ctx.db(store), args[1], ctx.now_ms)?;
    ctx.reply.array(args.len() - 2);
    for member in &args[2..] {
        match z.and_then(|z| member_position(z, member)) {
            Some([lon, lat]) => {
                ctx.reply.array(2);
                reply_coordinate(ctx, lon);
                reply_coordinate(ctx, lat);
            }
            None => ctx.reply.null_array(),
        }
    }
    Ok(())
}

/// Which search command is running (Redis's RADIUS_* / GEOSEARCH flags).
#[derive(Clone, Copy, PartialEq, Eq)]
enum SearchKind {
    /// GEORADIUS[_RO]: centre and radius as arguments.
    RadiusCoords,
    /// GEORADIUSBYMEMBER[_RO]: centre at a member.
    RadiusMember,
    /// GEOSEARCH.
    Search,
    /// GEOSEARCHSTORE.
    SearchStore,
}

/// Sort order of the results.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sort {
    None,
    Asc,
    Desc,
}

/// One member found by a search.
struct Found {
    member: Vec<u8>,
    xy: [f64; 2],
    dist: f64,
    score: f64,
}

/// Everything a search command asked for, after parsing.
struct SearchRequest {
    shape: Option<Shape>,
    store_key: Option<Vec<u8>>,
    store_dist: bool,
    with_dist: bool,
    with_hash: bool,
    with_coord: bool,
    sort: Sort,
    any: bool,
    count: usize,
}

/// Parses a search command's arguments. `src` is the source sorted set
/// (FROMMEMBER and BYMEMBER read the centre from it). Errors come in
/// Redis's order.
fn parse_search(
    args: &[&[u8]],
    kind: SearchKind,
    no_store: bool,
    src: Option<&ZSet>,
) -> Result<SearchRequest, CmdError> {
    let could_not_decode = || CmdError::err("could not decode requested zset member");
    let mut req = SearchRequest {
        shape: None,
        store_key: None,
        store_dist: false,
        with_dist: false,
        with_hash: false,
        with_coord: false,
        sort: Sort::None,
        any: false,
        count: 0,
    };
    let mut xy = [0.0; 2];
    let mut shape_kind = ShapeKind::Radius(0.0);
    let mut conversion = 1.0;
    let base = match kind {
        SearchKind::RadiusCoords => {
            xy = parse_lon_lat(args[2], args[3])?;
            let (r, c) = parse_radius(args[4], args[5])?;
            shape_kind = ShapeKind::Radius(r);
            conversion = c;
            6
        }
        SearchKind::RadiusMember => {
            if let Some(z) = src {
                xy = member_position(z, args[2]).ok_or_else(could_not_decode)?;
                let (r, c) = parse_radius(args[3], args[4])?;
                shape_kind = ShapeKind::Radius(r);
                conversion = c;
            }
            5
        }
        SearchKind::Search => 2,
        SearchKind::SearchStore => {
            req.store_key = Some(args[1].to_vec());
            3
        }
    };
    let geosearch = matches!(kind, SearchKind::Search | SearchKind::SearchStore);
    let (mut from_member, mut from_loc, mut by_radius, mut by_box) = (false, false, false, false);
    let opts = &args[base..];
    let mut i = 0;
    while i < opts.len() {
        let remaining = opts.len() - i - 1;
        match opts[i].to_ascii_lowercase().as_slice() {
            b"withdist" => req.with_dist = true,
            b"withhash" => req.with_hash = true,
            b"withcoord" => req.with_coord = true,
            b"any" => req.any = true,
            b"asc" => req.sort = Sort::Asc,
            b"desc" => req.sort = Sort::Desc,
            b"count" if remaining >= 1 => {
                let n = parse_i64(opts[i + 1]).ok_or(CmdError::NotInteger)?;
                if n <= 0 {
                    return Err(CmdError::err("COUNT must be > 0"));
                }
                req.count = n as usize;
                i += 1;
            }
            b"store" | b"storedist" if remaining >= 1 && !no_store && !geosearch => {
                req.store_dist = opts[i].eq_ignore_ascii_case(b"storedist");
                req.store_key = Some(opts[i + 1].to_vec());
                i += 1;
            }
            b"storedist" if kind == SearchKind::SearchStore => req.store_dist = true,
            b"frommember" if remaining >= 1 && geosearch && !from_loc => {
                if let Some(z) = src {
                    xy = member_position(z, opts[i + 1]).ok_or_else(could_not_decode)?;
                }
                from_member = true;
                i += 1;
            }
            b"fromlonlat" if remaining >= 2 && geosearch && !from_member => {
                xy = parse_lon_lat(opts[i + 1], opts[i + 2])?;
                from_loc = true;
                i += 2;
            }
            b"byradius" if remaining >= 2 && geosearch && !by_box => {
                let (r, c) = parse_radius(opts[i + 1], opts[i + 2])?;
                shape_kind = ShapeKind::Radius(r);
                conversion = c;
                by_radius = true;
                i += 2;
            }
            b"bybox" if remaining >= 3 && geosearch && !by_radius => {
                let (w, h, c) = parse_box(opts[i + 1], opts[i + 2], opts[i + 3])?;
                shape_kind = ShapeKind::Box {
                    width: w,
                    height: h,
                };
                conversion = c;
                by_box = true;
                i += 3;
            }
            _ => return Err(CmdError::Syntax),
        }
        i += 1;
    }
    if req.store_key.is_some() && (req.with_dist || req.with_hash || req.with_coord) {
        let what = if kind == SearchKind::SearchStore {
            "GEOSEARCHSTORE"
        } else {
            "STORE option in GEORADIUS"
        };
        return Err(CmdError::err(format!(
            "{what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
        )));
    }
    let name = String::from_utf8_lossy(args[0]);
    if geosearch && !(from_member || from_loc) {
        return Err(CmdError::err(format!(
            "exactly one of FROMMEMBER or FROMLONLAT can be specified for {name}"
        )));
    }
    if geosearch && !(by_radius || by_box) {
        return Err(CmdError::err(format!(
            "exactly one of BYRADIUS and BYBOX can be specified for {name}"
        )));
    }
    if req.any && req.count == 0 {
        return Err(CmdError::err("the ANY argument requires COUNT argument"));
    }
    if req.count != 0 && req.sort == Sort::None && !req.any {
        req.sort = Sort::Asc;
    }
    req.shape = src.map(|_| Shape {
        xy,
        kind: shape_kind,
        conversion,
    });
    Ok(req)
}

/// Scans the nine boxes around the shape's centre and returns the members
/// inside the shape, box by box in score order; with `limit` > 0 it stops
/// once that many were found (COUNT ... ANY).
fn find_members(z: &ZSet, shape: &Shape, limit: usize) -> Vec<Found> {
    let boxes = geohash::search_boxes(shape);
    let mut found = Vec::new();
    let mut last_processed = 0;
    for (i, hash) in boxes.iter().enumerate() {
        if hash.is_zero() {
            continue;
        }
        // Neighbours can coincide near the poles and the 180th meridian.
        if last_processed != 0 && *hash == boxes[last_processed] {
            continue;
        }
        if limit > 0 && found.len() >= limit {
            break;
        }
        let (min, max) = geohash::score_range(*hash);
        for (member, score) in members_in_range(z, min, max) {
            if let Some(xy) = geohash::decode_score(score) {
                if let Some(dist) = shape.contains(xy) {
                    found.push(Found {
                        member: member.to_vec(),
                        xy,
                        dist,
                        score,
                    });
                }
            }
            if limit > 0 && found.len() >= limit {
                break;
            }
        }
        last_processed = i;
    }
    found
}

/// What a search found, owned, so the database can be written afterwards.
struct SearchOutcome {
    req: SearchRequest,
    /// None when the source key does not exist.
    found: Option<Vec<Found>>,
}

/// The reading half shared by GEORADIUS, GEORADIUSBYMEMBER, their _RO
/// forms, GEOSEARCH and GEOSEARCHSTORE: parses the arguments and finds the
/// members, sorted and cut to COUNT, distances in the request's unit.
/// `src_index` is the source key's argument.
fn search_generic(
    ctx: &Ctx,
    db: &Db,
    args: &[&[u8]],
    src_index: usize,
    kind: SearchKind,
    no_store: bool,
) -> Result<SearchOutcome, CmdError> {
    let src = zset_of(db, args[src_index], ctx.now_ms)?;
    let req = parse_search(args, kind, no_store, src)?;
    let (Some(z), Some(shape)) = (src, req.shape) else {
        return Ok(SearchOutcome { req, found: None });
    };
    let limit = if req.any { req.count } else { 0 };
    let mut found = find_members(z, &shape, limit);
    let returned = if req.count == 0 {
        found.len()
    } else {
        found.len().min(req.count)
    };
    match req.sort {
        Sort::Asc => found.sort_by(|a, b| a.dist.total_cmp(&b.dist)),
        Sort::Desc => found.sort_by(|a, b| b.dist.total_cmp(&a.dist)),
        Sort::None => {}
    }
    found.truncate(returned);
    for f in &mut found {
        f.dist /= shape.conversion;
    }
    Ok(SearchOutcome {
        req,
        found: Some(found),
    })
}

/// Replies with the members found (the WITH* details as asked).
fn reply_found(ctx: &mut Ctx, req: &SearchRequest, found: &[Found]) {
    let options = req.with_dist as usize + req.with_hash as usize + req.with_coord as usize;
    ctx.reply.array(found.len());
    for f in found {
        if options > 0 {
            ctx.reply.array(options + 1);
        }
        ctx.reply.bulk(&f.member);
        if req.with_dist {
            reply_distance(ctx, f.dist);
        }
        if req.with_hash {
            ctx.reply.integer(f.score as i64);
        }
        if req.with_coord {
            ctx.reply.array(2);
            reply_coordinate(ctx, f.xy[0]);
            reply_coordinate(ctx, f.xy[1]);
        }
    }
}

/// A search that only replies.
fn search_reply(
    ctx: &mut Ctx,
    store: &Store,
    args: &[&[u8]],
    kind: SearchKind,
    no_store: bool,
) -> CmdResult {
    let outcome = search_generic(ctx, ctx.db(store), args, 1, kind, no_store)?;
    reply_found(
        ctx,
        &outcome.req,
        outcome.found.as_deref().unwrap_or_default(),
    );
    Ok(())
}

/// A search that may store its result (STORE, STOREDIST, GEOSEARCHSTORE):
/// the destination becomes a sorted set of the members with their scores
/// (or distances), or is deleted when nothing was found.
fn search_store(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
    src_index: usize,
    kind: SearchKind,
) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    db.expire_if_needed(args[src_index], now);
    let outcome = search_generic(ctx, db, args, src_index, kind, false)?;
    let SearchOutcome { req, found } = outcome;
    let Some(dest) = req.store_key.clone() else {
        reply_found(ctx, &req, found.as_deref().unwrap_or_default());
        return Ok(());
    };
    let found = found.unwrap_or_default();
    let returned = found.len();
    if found.is_empty() {
        if db.remove(&dest).is_some() {
            ctx.dirty += 1;
            ctx.notify('g', "del", &dest);
        }
    } else {
        let items = found.into_iter().map(|f| {
            let score = if req.store_dist { f.dist } else { f.score };
            (f.member, score)
        });
        db.set(&dest, zset_value(items), now);
        ctx.dirty += returned as u64;
        let event = if kind == SearchKind::SearchStore {
            "geosearchstore"
        } else {
            "georadiusstore"
        };
        ctx.notify('z', event, &dest);
    }
    ctx.reply.integer(returned as i64);
    Ok(())
}

/// GEORADIUS key longitude latitude radius unit [options] [STORE key]
/// [STOREDIST key] — array of members (with the WITH* details), or with
/// STORE/STOREDIST the number of members stored.
fn georadius_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    search_store(ctx, store, args, 1, SearchKind::RadiusCoords)
}

/// GEORADIUS_RO key longitude latitude radius unit [options] — array of members.
fn georadius_ro_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    search_reply(ctx, store, args, SearchKind::RadiusCoords, true)
}

/// GEORADIUSBYMEMBER key member radius unit [options] [STORE key]
/// [STOREDIST key] — as GEORADIUS, centred on a member.
fn georadiusbymember_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    search_store(ctx, store, args, 1, SearchKind::RadiusMember)
}

/// GEORADIUSBYMEMBER_RO key member radius unit [options] — array of members.
fn georadiusbymember_ro_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    search_reply(ctx, store, args, SearchKind::RadiusMember, true)
}

/// GEOSEARCH key FROMMEMBER member|FROMLONLAT lon lat BYRADIUS r unit|BYBOX
/// w h unit [ASC|DESC] [COUNT n [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH] —
/// array of members.
fn geosearch_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    search_reply(ctx, store, args, SearchKind::Search, false)
}

/// GEOSEARCHSTORE destination source ... [STOREDIST] — integer: the number
/// of members stored at destination (deleted when none).
fn geosearchstore_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    search_store(ctx, store, args, 2, SearchKind::SearchStore)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_parse_like_redis() {
        assert_eq!(parse_double(b"1.5"), Some(1.5));
        assert_eq!(parse_double(b" 1"), None);
        assert_eq!(parse_double(b"1x"), None);
        assert_eq!(parse_double(b""), None);
    }
}
