//! Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD.
//!
//! A bitmap is an ordinary string read as an array of bits, most
//! significant bit first: bit 0 is the high bit of byte 0.
//!
//! ```text
//! byte:   0                 1
//! bit:    0 1 2 3 4 5 6 7   8 9 ...
//! value:  1 0 0 0 0 0 0 0   ...        "\x80" has bit 0 set
//! ```
//!
//! Writers (SETBIT, BITFIELD SET/INCRBY) grow the string with zero bytes
//! up to the highest bit they touch, and mark it `raw` as Redis does for
//! any in-place edit. Bit offsets are limited to proto-max-bulk-len bytes
//! (512MB, so 2^32 bits, by default). As in Redis's bitops.c, a write only
//! counts as a change (dirty counter, keyspace event) when the string was
//! created or grown or a bit actually flipped.
//!
//! BITFIELD and BITFIELD_RO live in `bitops/bitfield.rs`.

use std::sync::atomic::Ordering;

use super::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::store::{Db, RString, Store, Value};

use Handler::{Read, Write};

mod bitfield;

/// The bitmap family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd("setbit", 4, "write denyoom", (1, 1, 1), Group::Bitmap, "key offset value", "Sets or clears the bit at offset in the string value stored at key", Write(setbit_command)),
    cmd("getbit", 3, "readonly fast", (1, 1, 1), Group::Bitmap, "key offset", "Returns the bit value at offset in the string value stored at key", Read(getbit_command)),
    cmd("bitcount", -2, "readonly", (1, 1, 1), Group::Bitmap, "key [start end [BYTE|BIT]]", "Count set bits in a string", Read(bitcount_command)),
    cmd("bitpos", -3, "readonly", (1, 1, 1), Group::Bitmap, "key bit [start [end [BYTE|BIT]]]", "Find first bit set or clear in a string", Read(bitpos_command)),
    cmd("bitop", -4, "write denyoom", (2, -1, 1), Group::Bitmap, "operation destkey key [key ...]", "Perform bitwise operations between strings", Write(bitop_command)),
    cmd("bitfield", -2, "write denyoom", (1, 1, 1), Group::Bitmap, "key [GET encoding offset|[OVERFLOW WRAP|SAT|FAIL] SET encoding offset value|INCRBY encoding offset increment ...]", "Perform arbitrary bitfield integer operations on strings", Write(bitfield::bitfield_command)),
    cmd("bitfield_ro", -2, "readonly fast", (1, 1, 1), Group::Bitmap, "key [GET encoding offset ...]", "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD", Read(bitfield::bitfield_ro_command)),
];

const BIT_OFFSET_ERR: &str = "bit offset is not an integer or out of range";
const BIT_VALUE_ERR: &str = "bit is not an integer or out of range";

/// Parses a bit offset; with `bits` > 0 the `#N` form means N * bits.
/// Offsets whose byte is past proto-max-bulk-len are refused.
fn parse_bit_offset(ctx: &Ctx, arg: &[u8], bits: u32) -> Result<u64, CmdError> {
    let err = || CmdError::err(BIT_OFFSET_ERR);
    let (hash, digits) = match arg.split_first() {
        Some((b'#', rest)) if bits > 0 => (true, rest),
        _ => (false, arg),
    };
    let mut offset = parse_i64(digits).ok_or_else(err)?;
    if hash {
        offset = offset.checked_mul(bits as i64).ok_or_else(err)?;
    }
    let max_bytes = ctx.server.proto_max_bulk_len.load(Ordering::Relaxed);
    if offset < 0 || (offset as u64 >> 3) >= max_bytes {
        return Err(err());
    }
    Ok(offset as u64)
}

/// The string at `key` for a bit command that reads; None when absent.
fn read_string<'a>(db: &'a Db, key: &[u8], now_ms: i64) -> Result<Option<&'a [u8]>, CmdError> {
    super::strings::get_string(db, key, now_ms)
}

/// The string at `key` grown with zeros so that bit `max_bit` exists
/// (created when absent). Also says whether it was created or grown.
fn string_for_bit_write<'a>(
    db: &'a mut Db,
    key: &[u8],
    max_bit: u64,
    now_ms: i64,
) -> Result<(&'a mut RString, bool), CmdError> {
    let len = (max_bit >> 3) as usize + 1;
    let created = match db.get_value(key, now_ms) {
        None => true,
        Some(Value::Str(_)) => false,
        Some(_) => return Err(CmdError::WrongType),
    };
    if created {
        let value = Value::Str(RString::raw(vec![0; len]));
        db.set(key, value, now_ms);
    }
    match db.get_value_mut(key, now_ms) {
        Some(Value::Str(s)) => {
            let bytes = s.make_raw();
            let grown = bytes.len() < len;
            if grown {
                bytes.resize(len, 0);
            }
            Ok((s, created || grown))
        }
        _ => Err(CmdError::WrongType),
    }
}

/// SETBIT key offset value — integer: the bit's previous value.
fn setbit_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let offset = parse_bit_offset(ctx, args[2], 0)?;
    let on = match parse_i64(args[3]) {
        Some(v @ (0 | 1)) => v as u8,
        _ => return Err(CmdError::err(BIT_VALUE_ERR)),
    };
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let (s, grown) = string_for_bit_write(db, args[1], offset, now)?;
    let byte = (offset >> 3) as usize;
    let shift = 7 - (offset & 7) as u8;
    let old = s.get(byte).map_or(0, |b| (b >> shift) & 1);
    let changed = grown || old != on;
    if changed {
        if let Some(b) = s.make_raw().get_mut(byte) {
            *b = (*b & !(1 << shift)) | (on << shift);
        }
        ctx.dirty += 1;
        ctx.notify('$', "setbit", args[1]);
    }
    ctx.reply.integer(old as i64);
    Ok(())
}

/// GETBIT key offset — integer: the bit's value (0 past the end or for a missing key).
fn getbit_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let offset = parse_bit_offset(ctx, args[2], 0)?;
    let bytes = read_string(ctx.db(store), args[1], ctx.now_ms)?.unwrap_or_default();
    let bit = bytes
        .get((offset >> 3) as usize)
        .map_or(0, |b| (b >> (7 - (offset & 7))) & 1);
    ctx.reply.integer(bit as i64);
    Ok(())
}

/// A BYTE or BIT range resolved against a string: the inclusive byte range
/// and, for BIT ranges, masks of the bits outside the range in the first
/// and last byte (Redis's first/last "negative masks").
struct BitRange {
    start: i64,
    end: i64,
    first_mask: u8,
    last_mask: u8,
}

/// Turns `start`/`end` (negative counts from the end) into a byte range
/// over a string of `len` bytes, in units of bits when `is_bit`.
fn resolve_range(len: i64, mut start: i64, mut end: i64, is_bit: bool) -> BitRange {
    let total = if is_bit { len << 3 } else { len };
    if start < 0 {
        start += total;
    }
    if end < 0 {
        end += total;
    }
    start = start.max(0);
    end = end.max(0);
    if end >= total {
        end = total - 1;
    }
    let (mut first_mask, mut last_mask) = (0, 0);
    if is_bit && start <= end {
        first_mask = !((1u16 << (8 - (start & 7))) - 1) as u8;
        last_mask = ((1u16 << (7 - (end & 7))) - 1) as u8;
        start >>= 3;
        end >>= 3;
    }
    BitRange {
        start,
        end,
        first_mask,
        last_mask,
    }
}

/// Parses an optional BYTE|BIT unit argument.
fn parse_unit(arg: &[u8]) -> Result<bool, CmdError> {
    if arg.eq_ignore_ascii_case(b"bit") {
        Ok(true)
    } else if arg.eq_ignore_ascii_case(b"byte") {
        Ok(false)
    } else {
        Err(CmdError::Syntax)
    }
}

/// BITCOUNT key [start end [BYTE|BIT]] — integer: the number of set bits.
fn bitcount_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    // Redis answers 0 for a missing key before looking at the range.
    let Some(bytes) = read_string(ctx.db(store), args[1], ctx.now_ms)? else {
        ctx.reply.integer(0);
        return Ok(());
    };
    let len = bytes.len() as i64;
    let range = match args.len() {
        2 => BitRange {
            start: 0,
            end: len - 1,
            first_mask: 0,
            last_mask: 0,
        },
        4 | 5 => {
            let start = parse_i64(args[2]).ok_or(CmdError::NotInteger)?;
            let end = parse_i64(args[3]).ok_or(CmdError::NotInteger)?;
            if start < 0 && end < 0 && start > end {
                ctx.reply.integer(0);
                return Ok(());
            }
            let is_bit = match args.get(4) {
                Some(unit) => parse_unit(unit)?,
                None => false,
            };
            resolve_range(len, start, end, is_bit)
        }
        _ => return Err(CmdError::Syntax),
    };
    if range.start > range.end {
        ctx.reply.integer(0);
        return Ok(());
    }
    let (s, e) = (range.start as usize, range.end as usize);
    let slice = bytes.get(s..=e).unwrap_or_default();
    let mut count: i64 = slice.iter().map(|b| b.count_ones() as i64).sum();
    if let Some(first) = slice.first() {
        count -= (first & range.first_mask).count_ones() as i64;
    }
    if let Some(last) = slice.last() {
        count -= (last & range.last_mask).count_ones() as i64;
    }
    ctx.reply.integer(count);
    Ok(())
}

/// Position of the first bit equal to `bit` in `bytes`; when none is found,
/// -1 for bit 1 and the bit just past the end for bit 0 (Redis's
/// `redisBitpos`, which treats the string as right-padded with zeros).
fn first_bit(bytes: &[u8], bit: u8) -> i64 {
    let skip = if bit == 1 { 0u8 } else { 0xff };
    for (i, &b) in bytes.iter().enumerate() {
        if b != skip {
            let lead = if bit == 1 {
                b.leading_zeros()
            } else {
                (!b).leading_zeros()
            };
            return (i as i64) * 8 + lead as i64;
        }
    }
    if bit == 1 {
        -1
    } else {
        bytes.len() as i64 * 8
    }
}

/// BITPOS key bit [start [end [BYTE|BIT]]] — integer: the first position of
/// `bit`, or -1. Without an explicit end, a search for 0 in an all-ones
/// string answers the first bit past the string.
fn bitpos_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let bit = match parse_i64(args[2]).ok_or(CmdError::NotInteger)? {
        b @ (0 | 1) => b as u8,
        _ => return Err(CmdError::err("The bit argument must be 1 or 0.")),
    };
    let Some(bytes) = read_string(ctx.db(store), args[1], ctx.now_ms)? else {
        ctx.reply.integer(if bit == 1 { -1 } else { 0 });
        return Ok(());
    };
    let len = bytes.len() as i64;
    let mut end_given = false;
    let range = match args.len() {
        3 => BitRange {
            start: 0,
            end: len - 1,
            first_mask: 0,
            last_mask: 0,
        },
        4..=6 => {
            let start = parse_i64(args[3]).ok_or(CmdError::NotInteger)?;
            let is_bit = match args.get(5) {
                Some(unit) => parse_unit(unit)?,
                None => false,
            };
            let end = match args.get(4) {
                Some(e) => {
                    end_given = true;
                    parse_i64(e).ok_or(CmdError::NotInteger)?
                }
                None if is_bit => (len << 3) + 7,
                None => len - 1,
            };
            resolve_range(len, start, end, is_bit)
        }
        _ => return Err(CmdError::Syntax),
    };
    if range.start > range.end {
        ctx.reply.integer(-1);
        return Ok(());
    }
    // Copy the range and force the bits outside it to the value we are
    // not looking for, so one scan answers.
    let (s, e) = (range.start as usize, range.end as usize);
    let mut window = bytes.get(s..=e).unwrap_or_default().to_vec();
    let nbits = window.len() as i64 * 8;
    let outside_ones = range.first_mask != 0 || range.last_mask != 0;
    if let Some(first) = window.first_mut() {
        *first = if bit == 1 {
            *first & !range.first_mask
        } else {
            *first | range.first_mask
        };
    }
    if let Some(last) = window.last_mut() {
        *last = if bit == 1 {
            *last & !range.last_mask
        } else {
            *last | range.last_mask
        };
    }
    let mut pos = first_bit(&window, bit);
    if bit == 0 && pos == nbits && (end_given || outside_ones) {
        // No clear bit inside an explicit range.
        pos = -1;
    }
    if pos != -1 {
        pos += (s as i64) << 3;
    }
    ctx.reply.integer(pos);
    Ok(())
}

/// BITOP AND|OR|XOR|NOT destkey key [key ...] — integer: the length of the
/// result (the longest input), stored at destkey (deleted when 0).
fn bitop_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    #[derive(PartialEq)]
    enum Op {
        And,
        Or,
        Xor,
        Not,
    }
    let op = match args[1].to_ascii_lowercase().as_slice() {
        b"and" => Op::And,
        b"or" => Op::Or,
        b"xor" => Op::Xor,
        b"not" => Op::Not,
        _ => return Err(CmdError::Syntax),
    };
    if op == Op::Not && args.len() != 4 {
        return Err(CmdError::err(
            "BITOP NOT must be called with a single source key.",
        ));
    }
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let mut sources: Vec<&[u8]> = Vec::with_capacity(args.len() - 3);
    for key in &args[3..] {
        sources.push(read_string(db, key, now)?.unwrap_or_default());
    }
    let max_len = sources.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut result = vec![0u8; max_len];
    for (i, out) in result.iter_mut().enumerate() {
        let byte_of = |s: &[u8]| s.get(i).copied().unwrap_or(0);
        let first = sources.first().map_or(0, |s| byte_of(s));
        *out = match op {
            Op::Not => !first,
            Op::And => sources[1..].iter().fold(first, |acc, s| acc & byte_of(s)),
            Op::Or => sources[1..].iter().fold(first, |acc, s| acc | byte_of(s)),
            Op::Xor => sources[1..].iter().fold(first, |acc, s| acc ^ byte_of(s)),
        };
    }
    let dest = args[2];
    if max_len > 0 {
        db.set(dest, Value::Str(RString::new(result)), now);
        ctx.dirty += 1;
        ctx.notify('$', "set", dest);
    } else if db.remove(dest).is_some() {
        ctx.dirty += 1;
        ctx.notify('g', "del", dest);
    }
    ctx.reply.integer(max_len as i64);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_bit_pads_with_zeros() {
        assert_eq!(first_bit(&[0xff, 0xf0], 0), 12);
        assert_eq!(first_bit(&[0xff], 0), 8);
        assert_eq!(first_bit(&[0, 0], 1), -1);
        assert_eq!(first_bit(&[0, 1], 1), 15);
    }
}
