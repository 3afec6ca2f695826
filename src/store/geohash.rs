//! Geohash: positions on Earth as 52-bit sorted-set scores, and the search areas around them.
//!
//! Redis stores a geo member as a sorted-set member whose score is an
//! interleaved geohash: longitude and latitude are each scaled to a 26-bit
//! integer (longitude over -180..180, latitude over the Web Mercator range
//! -85.05112878..85.05112878), and their bits are interleaved, latitude in
//! the even bits and longitude in the odd ones:
//!
//! ```text
//! lon bits  L25 .. L1 L0      lat bits  A25 .. A1 A0
//! score  =  L25 A25 L24 A24 ... L0 A0        (52 bits, exact in an f64)
//! ```
//!
//! A shorter prefix of the score (a smaller `step`) is a larger box, so all
//! members inside one box form one contiguous score range. A search around
//! a point therefore picks a step whose boxes are about the size of the
//! search radius, and scans the score ranges of the box holding the centre
//! and of its eight neighbours, then filters each candidate by its exact
//! distance (haversine on a sphere of radius 6372797.560856 m) or box.
//!
//! Every computation follows Redis's geohash.c and geohash_helper.c step
//! by step, in the same floating-point order, so the same coordinates give
//! the same scores, positions, distances and search results as Redis.

use std::f64::consts::PI;

/// Bits per coordinate in a stored score.
pub const STEP_MAX: u8 = 26;
/// Southernmost latitude that can be indexed.
pub const LAT_MIN: f64 = -85.051_128_78;
/// Northernmost latitude that can be indexed.
pub const LAT_MAX: f64 = 85.051_128_78;
/// Westernmost longitude.
pub const LONG_MIN: f64 = -180.0;
/// Easternmost longitude.
pub const LONG_MAX: f64 = 180.0;

/// Degrees to radians, as geohash_helper.c's `D_R`.
const D_R: f64 = PI / 180.0;
/// Earth's quadratic mean radius for WGS-84, in metres.
const EARTH_RADIUS_IN_METERS: f64 = 6_372_797.560_856;
/// Half the Mercator projection's width, in metres.
const MERCATOR_MAX: f64 = 20_037_726.37;

/// A geohash of `step` bits per coordinate. Zero bits and step mean "none".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HashBits {
    /// The interleaved bits.
    pub bits: u64,
    /// Bits per coordinate.
    pub step: u8,
}

impl HashBits {
    /// True for the "no box" value.
    pub fn is_zero(&self) -> bool {
        self.bits == 0 && self.step == 0
    }
}

/// A closed interval of degrees.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Range {
    /// Lower end.
    pub min: f64,
    /// Upper end.
    pub max: f64,
}

/// The box a geohash stands for.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Area {
    /// Longitudes covered.
    pub longitude: Range,
    /// Latitudes covered.
    pub latitude: Range,
}

const WGS84_LONG: Range = Range {
    min: LONG_MIN,
    max: LONG_MAX,
};
const WGS84_LAT: Range = Range {
    min: LAT_MIN,
    max: LAT_MAX,
};

/// Spreads the bits of `lat` over the even positions and those of `lon`
/// over the odd ones.
fn interleave64(lat: u32, lon: u32) -> u64 {
    fn spread(v: u32) -> u64 {
        let mut x = v as u64;
        x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
        x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
        x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
        x = (x | (x << 2)) & 0x3333_3333_3333_3333;
        (x | (x << 1)) & 0x5555_5555_5555_5555
    }
    spread(lat) | (spread(lon) << 1)
}

/// The inverse of [`interleave64`]: latitude in the low 32 bits of the
/// result, longitude in the high 32.
fn deinterleave64(interleaved: u64) -> u64 {
    fn squash(v: u64) -> u64 {
        let mut x = v & 0x5555_5555_5555_5555;
        x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
        x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
        x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
        x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
        (x | (x >> 16)) & 0x0000_0000_FFFF_FFFF
    }
    squash(interleaved) | (squash(interleaved >> 1) << 32)
}

/// Encodes a position with `step` bits per coordinate over the given
/// ranges; None outside the indexable area or the ranges.
pub fn encode(
    long_range: Range,
    lat_range: Range,
    longitude: f64,
    latitude: f64,
    step: u8,
) -> Option<HashBits> {
    if step == 0 || step > 32 {
        return None;
    }
    if !(LONG_MIN..=LONG_MAX).contains(&longitude) || !(LAT_MIN..=LAT_MAX).contains(&latitude) {
        return None;
    }
    if latitude < lat_range.min
        || latitude > lat_range.max
        || longitude < long_range.min
        || longitude > long_range.max
    {
        return None;
    }
    let mut lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min);
    let mut long_offset = (longitude - long_range.min) / (long_range.max - long_range.min);
    lat_offset *= (1u64 << step) as f64;
    long_offset *= (1u64 << step) as f64;
    Some(HashBits {
        bits: interleave64(lat_offset as u32, long_offset as u32),
        step,
    })
}

/// Encodes over the WGS-84 ranges that stored scores use.
pub fn encode_wgs84(longitude: f64, latitude: f64, step: u8) -> Option<HashBits> {
    encode(WGS84_LONG, WGS84_LAT, longitude, latitude, step)
}

/// The box of `hash` over the given ranges.
pub fn decode(long_range: Range, lat_range: Range, hash: HashBits) -> Option<Area> {
    if hash.is_zero() {
        return None;
    }
    let sep = deinterleave64(hash.bits);
    let lat_scale = lat_range.max - lat_range.min;
    let long_scale = long_range.max - long_range.min;
    let ilato = sep as u32;
    let ilono = (sep >> 32) as u32;
    let cells = (1u64 << hash.step) as f64;
    Some(Area {
        latitude: Range {
            min: lat_range.min + (ilato as f64 / cells) * lat_scale,
            max: lat_range.min + (ilato.wrapping_add(1) as f64 / cells) * lat_scale,
        },
        longitude: Range {
            min: long_range.min + (ilono as f64 / cells) * long_scale,
            max: long_range.min + (ilono.wrapping_add(1) as f64 / cells) * long_scale,
        },
    })
}

/// The centre of a box, clamped to the indexable area: [longitude, latitude].
fn area_center(area: &Area) -> [f64; 2] {
    let lon = ((area.longitude.min + area.longitude.max) / 2.0).clamp(LONG_MIN, LONG_MAX);
    let lat = ((area.latitude.min + area.latitude.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    [lon, lat]
}

/// The sorted-set score of a position (validated by the caller).
pub fn score_of(longitude: f64, latitude: f64) -> Option<f64> {
    encode_wgs84(longitude, latitude, STEP_MAX).map(|h| align52(h) as f64)
}

/// The position a score stands for: [longitude, latitude].
pub fn decode_score(score: f64) -> Option<[f64; 2]> {
    let hash = HashBits {
        bits: score as u64,
        step: STEP_MAX,
    };
    decode(WGS84_LONG, WGS84_LAT, hash).map(|a| area_center(&a))
}

/// The 11-character standard geohash (latitude over -90..90) of a
/// position, as GEOHASH answers; the last character is always '0'
/// because a score has only 52 bits.
pub fn geohash_string(xy: [f64; 2]) -> Option<[u8; 11]> {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let hash = encode(
        Range {
            min: -180.0,
            max: 180.0,
        },
        Range {
            min: -90.0,
            max: 90.0,
        },
        xy[0],
        xy[1],
        26,
    )?;
    let mut out = [b'0'; 11];
    for (i, c) in out.iter_mut().enumerate().take(10) {
        let idx = (hash.bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    Some(out)
}

/// A hash left-aligned to 52 bits (the score form).
pub fn align52(hash: HashBits) -> u64 {
    hash.bits << (52 - hash.step as u32 * 2)
}

fn move_x(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let mut x = hash.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64 >> (64 - hash.step as u32 * 2);
    if d > 0 {
        x = x.wrapping_add(zz + 1);
    } else {
        x |= zz;
        x = x.wrapping_sub(zz + 1);
    }
    x &= 0xaaaa_aaaa_aaaa_aaaau64 >> (64 - hash.step as u32 * 2);
    hash.bits = x | y;
}

fn move_y(hash: &mut HashBits, d: i8) {
    if d == 0 {
        return;
    }
    let x = hash.bits & 0xaaaa_aaaa_aaaa_aaaa;
    let mut y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0xaaaa_aaaa_aaaa_aaaau64 >> (64 - hash.step as u32 * 2);
    if d > 0 {
        y = y.wrapping_add(zz + 1);
    } else {
        y |= zz;
        y = y.wrapping_sub(zz + 1);
    }
    y &= 0x5555_5555_5555_5555u64 >> (64 - hash.step as u32 * 2);
    hash.bits = x | y;
}

/// The box next to `hash` that is `dx` boxes east and `dy` north.
fn neighbor(hash: HashBits, dx: i8, dy: i8) -> HashBits {
    let mut h = hash;
    move_x(&mut h, dx);
    move_y(&mut h, dy);
    h
}

/// Distance in metres between two latitudes on the same meridian.
pub fn lat_distance(lat1: f64, lat2: f64) -> f64 {
    EARTH_RADIUS_IN_METERS * ((lat2 * D_R) - (lat1 * D_R)).abs()
}

/// Great-circle (haversine) distance in metres.
pub fn distance(lon1: f64, lat1: f64, lon2: f64, lat2: f64) -> f64 {
    let lon1r = lon1 * D_R;
    let lon2r = lon2 * D_R;
    let v = ((lon2r - lon1r) / 2.0).sin();
    // A zero longitude difference is the plain latitude distance.
    if v == 0.0 {
        return lat_distance(lat1, lat2);
    }
    let lat1r = lat1 * D_R;
    let lat2r = lat2 * D_R;
    let u = ((lat2r - lat1r) / 2.0).sin();
    let a = u * u + lat1r.cos() * lat2r.cos() * v * v;
    2.0 * EARTH_RADIUS_IN_METERS * a.sqrt().asin()
}

/// What a search looks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ShapeKind {
    /// A circle of this radius (in the search unit).
    Radius(f64),
    /// A box this wide and high (in the search unit), centred on the point.
    Box {
        /// East-west size.
        width: f64,
        /// North-south size.
        height: f64,
    },
}

/// A search area: centre [longitude, latitude], kind, and metres per unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Shape {
    /// The centre: [longitude, latitude].
    pub xy: [f64; 2],
    /// Circle or box.
    pub kind: ShapeKind,
    /// Metres per unit of the sizes (1, 1000, 0.3048, 1609.34).
    pub conversion: f64,
}

impl Shape {
    /// The exact test: the distance from the centre when the position
    /// [lon, lat] is inside the shape.
    pub fn contains(&self, xy: [f64; 2]) -> Option<f64> {
        let [x1, y1] = self.xy;
        let [x2, y2] = xy;
        match self.kind {
            ShapeKind::Radius(r) => {
                let d = distance(x1, y1, x2, y2);
                (d <= r * self.conversion).then_some(d)
            }
            ShapeKind::Box { width, height } => {
                let (w, h) = (width * self.conversion, height * self.conversion);
                if lat_distance(y2, y1) > h / 2.0 {
                    return None;
                }
                if distance(x2, y2, x1, y2) > w / 2.0 {
                    return None;
                }
                Some(distance(x1, y1, x2, y2))
            }
        }
    }

    /// The bounding box [min_lon, min_lat, max_lon, max_lat] of the shape.
    fn bounding_box(&self) -> [f64; 4] {
        let [longitude, latitude] = self.xy;
        let (height, width) = match self.kind {
            ShapeKind::Radius(r) => (self.conversion * r, self.conversion * r),
            ShapeKind::Box { width, height } => (
                self.conversion * (height / 2.0),
                self.conversion * (width / 2.0),
            ),
        };
        let lat_delta = (height / EARTH_RADIUS_IN_METERS) / D_R;
        let long_delta_top =
            (width / EARTH_RADIUS_IN_METERS / ((latitude + lat_delta) * D_R).cos()) / D_R;
        let long_delta_bottom =
            (width / EARTH_RADIUS_IN_METERS / ((latitude - lat_delta) * D_R).cos()) / D_R;
        // The box is widest on the side nearer the equator.
        let long_delta = if latitude < 0.0 {
            long_delta_bottom
        } else {
            long_delta_top
        };
        [
            longitude - long_delta,
            latitude - lat_delta,
            longitude + long_delta,
            latitude + lat_delta,
        ]
    }

    /// The shape's radius in metres (half the diagonal for a box).
    fn radius_meters(&self) -> f64 {
        let r = match self.kind {
            ShapeKind::Radius(r) => r,
            ShapeKind::Box { width, height } => {
                ((width / 2.0) * (width / 2.0) + (height / 2.0) * (height / 2.0)).sqrt()
            }
        };
        r * self.conversion
    }
}

/// The step whose boxes are about as big as `range_meters` at `lat`.
fn estimate_steps_by_radius(mut range_meters: f64, lat: f64) -> u8 {
    if range_meters == 0.0 {
        return 26;
    }
    let mut step: i32 = 1;
    while range_meters < MERCATOR_MAX {
        range_meters *= 2.0;
        step += 1;
    }
    step -= 2;
    // Boxes get narrower towards the poles.
    if !(-66.0..=66.0).contains(&lat) {
        step -= 1;
        if !(-80.0..=80.0).contains(&lat) {
            step -= 1;
        }
    }
    step.clamp(1, 26) as u8
}

/// The nine boxes to scan for `shape`: the centre's box first, then north,
/// south, east, west, north-east, north-west, south-east, south-west; boxes
/// that cannot hold a match are zero ([`HashBits::is_zero`]).
pub fn search_boxes(shape: &Shape) -> [HashBits; 9] {
    let [min_lon, min_lat, max_lon, max_lat] = shape.bounding_box();
    let [longitude, latitude] = shape.xy;
    let mut steps = estimate_steps_by_radius(shape.radius_meters(), latitude);
    let around = |steps: u8| {
        let hash = encode(WGS84_LONG, WGS84_LAT, longitude, latitude, steps).unwrap_or_default();
        let n = [
            neighbor(hash, 0, 1),
            neighbor(hash, 0, -1),
            neighbor(hash, 1, 0),
            neighbor(hash, -1, 0),
            neighbor(hash, 1, 1),
            neighbor(hash, -1, 1),
            neighbor(hash, 1, -1),
            neighbor(hash, -1, -1),
        ];
        let area = decode(WGS84_LONG, WGS84_LAT, hash).unwrap_or_default();
        (hash, n, area)
    };
    let (mut hash, mut n, mut area) = around(steps);
    // If the neighbours do not cover the whole bounding box, use bigger boxes.
    let box_of = |h: HashBits| decode(WGS84_LONG, WGS84_LAT, h).unwrap_or_default();
    let decrease = box_of(n[0]).latitude.max < max_lat
        || box_of(n[1]).latitude.min > min_lat
        || box_of(n[2]).longitude.max < max_lon
        || box_of(n[3]).longitude.min > min_lon;
    if steps > 1 && decrease {
        steps -= 1;
        (hash, n, area) = around(steps);
    }
    // Drop neighbours entirely outside the bounding box.
    if steps >= 2 {
        let zero = HashBits::default();
        if area.latitude.min < min_lat {
            n[1] = zero;
            n[7] = zero;
            n[6] = zero;
        }
        if area.latitude.max > max_lat {
            n[0] = zero;
            n[4] = zero;
            n[5] = zero;
        }
        if area.longitude.min < min_lon {
            n[3] = zero;
            n[7] = zero;
            n[5] = zero;
        }
        if area.longitude.max > max_lon {
            n[2] = zero;
            n[6] = zero;
            n[4] = zero;
        }
    }
    [hash, n[0], n[1], n[2], n[3], n[4], n[5], n[6], n[7]]
}

/// The score range [min, max) of the members inside box `hash`.
pub fn score_range(hash: HashBits) -> (f64, f64) {
    let min = align52(hash);
    let next = HashBits {
        bits: hash.bits.wrapping_add(1),
        step: hash.step,
    };
    (min as f64, align52(next) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interleave_round_trips() {
        let v = interleave64(0x0123_4567, 0x089a_bcde);
        let sep = deinterleave64(v);
        assert_eq!(sep as u32, 0x0123_4567);
        assert_eq!((sep >> 32) as u32, 0x089a_bcde);
    }

    #[test]
    fn palermo_matches_redis() {
        // GEOADD Sicily 13.361389 38.115556 "Palermo"; ZSCORE -> 3479099956230698
        assert_eq!(
            score_of(13.361389, 38.115556),
            Some(3_479_099_956_230_698.0)
        );
        let xy = decode_score(3_479_099_956_230_698.0).unwrap();
        assert_eq!(format!("{:.17}", xy[0]), "13.36138933897018433");
        assert_eq!(&geohash_string(xy).unwrap(), b"sqc8b49rny0");
    }
}
