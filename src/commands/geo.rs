//! Geospatial commands: GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH(STORE), GEORADIUS*.
//!
//! A geo index is an ordinary sorted set whose scores are 52-bit geohashes
//! (see `store/geohash.rs`), so ZRANGE, ZREM and friends work on it too.
//! GEOADD is ZADD with the scores computed from the coordinates; GEOPOS,
//! GEOHASH and GEODIST decode scores back. The six search commands share one
//! body, in `geo/search.rs`.
//!
//! All access to the sorted set goes through the few small functions in
//! the "sorted-set access" section, so a change of the sorted-set type
//! touches only them.

use super::zsets::Limits;
use super::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::store::geohash::{self, LAT_MAX, LAT_MIN, LONG_MAX, LONG_MIN};
use crate::store::number::strtod;
use crate::store::zset::{ScoreBound, ZSet};
use crate::store::{Db, Store, Value};

use Handler::{Read, Write};

mod search;

/// The geo family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd("geoadd", -5, "write denyoom", (1, 1, 1), Group::Geo, "key [NX|XX] [CH] longitude latitude member [longitude latitude member ...]", "Add one or more geospatial items in the geospatial index represented using a sorted set", Write(geoadd_command)),
    cmd("geodist", -4, "readonly", (1, 1, 1), Group::Geo, "key member1 member2 [M|KM|FT|MI]", "Returns the distance between two members of a geospatial index", Read(geodist_command)),
    cmd("geohash", -2, "readonly", (1, 1, 1), Group::Geo, "key [member [member ...]]", "Returns members of a geospatial index as standard geohash strings", Read(geohash_command)),
    cmd("geopos", -2, "readonly", (1, 1, 1), Group::Geo, "key [member [member ...]]", "Returns longitude and latitude of members of a geospatial index", Read(geopos_command)),
    cmd("georadius", -6, "write denyoom movablekeys", (1, 1, 1), Group::Geo, "key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key]", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a point", Write(search::georadius_command)),
    cmd("georadius_ro", -6, "readonly", (1, 1, 1), Group::Geo, "key longitude latitude radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]", "A read-only variant for GEORADIUS", Read(search::georadius_ro_command)),
    cmd("georadiusbymember", -5, "write denyoom movablekeys", (1, 1, 1), Group::Geo, "key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC] [STORE key] [STOREDIST key]", "Query a sorted set representing a geospatial index to fetch members matching a given maximum distance from a member", Write(search::georadiusbymember_command)),
    cmd("georadiusbymember_ro", -5, "readonly", (1, 1, 1), Group::Geo, "key member radius M|KM|FT|MI [WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]", "A read-only variant for GEORADIUSBYMEMBER", Read(search::georadiusbymember_ro_command)),
    cmd("geosearch", -7, "readonly", (1, 1, 1), Group::Geo, "key FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle.", Read(search::geosearch_command)),
    cmd("geosearchstore", -8, "write denyoom", (1, 2, 1), Group::Geo, "destination source FROMMEMBER member|FROMLONLAT longitude latitude BYRADIUS radius M|KM|FT|MI|BYBOX width height M|KM|FT|MI [ASC|DESC] [COUNT count [ANY]] [STOREDIST]", "Query a sorted set representing a geospatial index to fetch members inside an area of a box or a circle, and store the result in another key.", Write(search::geosearchstore_command)),
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

/// A new sorted-set value holding `items`, encoded as Redis would
/// (listpack while within the zset-max-listpack-* limits).
fn zset_value(items: impl Iterator<Item = (Vec<u8>, f64)>, limits: Limits) -> Value {
    let mut z = ZSet::new();
    for (member, score) in items {
        z.insert(&member, score);
    }
    z.fit_encoding(limits.entries, limits.value_bytes);
    Value::ZSet(Box::new(z))
}

/// Adds or moves `member` (GEOADD). The one place a member enters an
/// existing geo set, so encoding bookkeeping (listpack/skiplist) goes here.
fn zset_add(z: &mut ZSet, member: &[u8], score: f64, limits: Limits) {
    z.insert(member, score);
    z.note_growth(member.len(), limits.entries, limits.value_bytes);
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
    let limits = Limits::of(ctx);
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
                    zset_add(z, member, score, limits);
                    updated += 1;
                }
            }
            None if xx => {}
            None => {
                zset_add(z, member, score, limits);
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
