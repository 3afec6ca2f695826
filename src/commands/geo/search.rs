//! The geo search commands: GEOSEARCH, GEOSEARCHSTORE, GEORADIUS, GEORADIUSBYMEMBER and the _RO forms.
//!
//! All six share one body, as Redis's `georadiusGeneric` serves them:
//!
//! ```text
//! parse_search     centre (coordinates or a member), circle or box, options,
//!                  with Redis's errors in Redis's order
//! find_members     scan the score ranges of the nine geohash boxes around
//!                  the centre; keep members truly inside the shape
//! search_generic   sort by distance if asked (COUNT implies ASC unless ANY),
//!                  cut to COUNT, convert distances to the unit
//! search_reply /   reply (WITHDIST, WITHHASH, WITHCOORD), or store the
//! search_store     members with their scores or distances (STORE,
//!                  STOREDIST, GEOSEARCHSTORE), deleting the destination
//!                  when nothing was found
//! ```
//!
//! Results are computed into owned values before the destination is
//! written, so the source and destination may be the same key.

use super::{
    member_position, members_in_range, parse_box, parse_lon_lat, parse_radius, reply_coordinate,
    reply_distance, zset_of, zset_value,
};
use crate::commands::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::store::geohash::{self, Shape, ShapeKind};
use crate::store::zset::ZSet;
use crate::store::{Db, Store};

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
    let limits = super::super::zsets::Limits::of(ctx);
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
        db.set(&dest, zset_value(items, limits), now);
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
pub(super) fn georadius_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    search_store(ctx, store, args, 1, SearchKind::RadiusCoords)
}

/// GEORADIUS_RO key longitude latitude radius unit [options] — array of members.
pub(super) fn georadius_ro_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    search_reply(ctx, store, args, SearchKind::RadiusCoords, true)
}

/// GEORADIUSBYMEMBER key member radius unit [options] [STORE key]
/// [STOREDIST key] — as GEORADIUS, centred on a member.
pub(super) fn georadiusbymember_command(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
) -> CmdResult {
    search_store(ctx, store, args, 1, SearchKind::RadiusMember)
}

/// GEORADIUSBYMEMBER_RO key member radius unit [options] — array of members.
pub(super) fn georadiusbymember_ro_command(
    ctx: &mut Ctx,
    store: &Store,
    args: &[&[u8]],
) -> CmdResult {
    search_reply(ctx, store, args, SearchKind::RadiusMember, true)
}

/// GEOSEARCH key FROMMEMBER member|FROMLONLAT lon lat BYRADIUS r unit|BYBOX
/// w h unit [ASC|DESC] [COUNT n [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH] —
/// array of members.
pub(super) fn geosearch_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    search_reply(ctx, store, args, SearchKind::Search, false)
}

/// GEOSEARCHSTORE destination source ... [STOREDIST] — integer: the number
/// of members stored at destination (deleted when none).
pub(super) fn geosearchstore_command(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
) -> CmdResult {
    search_store(ctx, store, args, 2, SearchKind::SearchStore)
}
