//! BITFIELD and BITFIELD_RO: integers of any width from 1 to 64 bits at any bit offset.
//!
//! A field is `i<bits>` (signed, 1..=64) or `u<bits>` (unsigned, 1..=63:
//! a u64 could not be returned as a RESP integer) at a bit offset, or at
//! `#N`, meaning N times the field width. Fields are read and written most
//! significant bit first, like every bitmap command, and may straddle bytes:
//!
//! ```text
//! BITFIELD k SET u4 6 15      byte 0: ......11  byte 1: 11......
//! ```
//!
//! The sub-commands are all parsed before any runs, so a bad one leaves the
//! key untouched; then they run left to right, each with the OVERFLOW mode
//! in force where it appears (WRAP by default, SAT, or FAIL which skips the
//! write and answers null). Only writes grow the string, up to the highest
//! bit any write touches.

use super::{parse_bit_offset, read_string, string_for_bit_write};
use crate::commands::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::store::{Db, Store};

const BITFIELD_TYPE_ERR: &str =
    "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";

/// What BITFIELD does when a SET or INCRBY leaves the type's range.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Overflow {
    Wrap,
    Sat,
    Fail,
}

/// One parsed BITFIELD sub-command.
enum FieldOp {
    Get,
    Set(i64),
    IncrBy(i64),
}

/// A sub-command with its field: `bits` wide at bit `offset`.
struct Field {
    op: FieldOp,
    signed: bool,
    bits: u32,
    offset: u64,
    overflow: Overflow,
}

/// Parses a bitfield type: `i1`..`i64` or `u1`..`u63`.
fn parse_field_type(arg: &[u8]) -> Result<(bool, u32), CmdError> {
    let err = || CmdError::err(BITFIELD_TYPE_ERR);
    let (signed, digits) = match arg.split_first() {
        Some((b'i', rest)) => (true, rest),
        Some((b'u', rest)) => (false, rest),
        _ => return Err(err()),
    };
    let bits = parse_i64(digits).ok_or_else(err)?;
    let max = if signed { 64 } else { 63 };
    if !(1..=max).contains(&bits) {
        return Err(err());
    }
    Ok((signed, bits as u32))
}

/// Parses every BITFIELD sub-command after the key.
fn parse_fields(ctx: &Ctx, args: &[&[u8]]) -> Result<Vec<Field>, CmdError> {
    let mut fields = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut i = 0;
    while i < args.len() {
        let remaining = args.len() - i - 1;
        let name = args[i].to_ascii_lowercase();
        let needs = match name.as_slice() {
            b"get" if remaining >= 2 => 2,
            b"set" | b"incrby" if remaining >= 3 => 3,
            b"overflow" if remaining >= 1 => {
                overflow = match args[i + 1].to_ascii_lowercase().as_slice() {
                    b"wrap" => Overflow::Wrap,
                    b"sat" => Overflow::Sat,
                    b"fail" => Overflow::Fail,
                    _ => return Err(CmdError::err("Invalid OVERFLOW type specified")),
                };
                i += 2;
                continue;
            }
            _ => return Err(CmdError::Syntax),
        };
        let (signed, bits) = parse_field_type(args[i + 1])?;
        let offset = parse_bit_offset(ctx, args[i + 2], bits)?;
        let op = match name.as_slice() {
            b"get" => FieldOp::Get,
            b"set" => FieldOp::Set(parse_i64(args[i + 3]).ok_or(CmdError::NotInteger)?),
            _ => FieldOp::IncrBy(parse_i64(args[i + 3]).ok_or(CmdError::NotInteger)?),
        };
        fields.push(Field {
            op,
            signed,
            bits,
            offset,
            overflow,
        });
        i += 1 + needs;
    }
    Ok(fields)
}

/// Reads `bits` bits at bit `offset`, most significant first, as unsigned;
/// bits past the end of `bytes` read as zero.
fn get_field(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    let mut value = 0u64;
    for i in 0..bits as u64 {
        let pos = offset + i;
        let bit = bytes
            .get((pos >> 3) as usize)
            .map_or(0, |b| (b >> (7 - (pos & 7))) & 1);
        value = (value << 1) | bit as u64;
    }
    value
}

/// Writes the low `bits` bits of `value` at bit `offset` (the string is
/// already long enough).
fn set_field(bytes: &mut [u8], offset: u64, bits: u32, value: u64) {
    for i in 0..bits as u64 {
        let bit = ((value >> (bits as u64 - 1 - i)) & 1) as u8;
        let pos = offset + i;
        if let Some(b) = bytes.get_mut((pos >> 3) as usize) {
            let shift = 7 - (pos & 7);
            *b = (*b & !(1 << shift)) | (bit << shift);
        }
    }
}

/// Sign-extends the low `bits` bits of `raw`.
fn sign_extend(raw: u64, bits: u32) -> i64 {
    if bits == 64 {
        raw as i64
    } else {
        let shift = 64 - bits;
        ((raw << shift) as i64) >> shift
    }
}

/// The value stored in the field after adding `incr` to `value` (both as
/// the field type sees them), or None when OVERFLOW FAIL refuses it.
///
/// The range checks are Redis's `check[Un]signedBitfieldOverflow`, with its
/// wrapping 64-bit arithmetic kept on purpose: for example a signed SET of
/// a value far below the type's minimum with OVERFLOW SAT saturates to the
/// *maximum* in Redis, because `max - value` wraps around.
fn apply_overflow(value: i128, incr: i128, signed: bool, bits: u32, how: Overflow) -> Option<i128> {
    let incr = incr as i64;
    // +1: above the range, -1: below it, 0: fits.
    let (overflow, sum, max, min): (i32, u64, i128, i128) = if signed {
        let value = value as i64;
        let max = if bits == 64 {
            i64::MAX
        } else {
            (1i64 << (bits - 1)) - 1
        };
        let min = -max - 1;
        let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
        let min_incr = min.wrapping_sub(value);
        let overflow = if value > max
            || (bits != 64 && incr > max_incr)
            || (value >= 0 && incr > 0 && incr > max_incr)
        {
            1
        } else if value < min
            || (bits != 64 && incr < min_incr)
            || (value < 0 && incr < 0 && incr < min_incr)
        {
            -1
        } else {
            0
        };
        let sum = (value as u64).wrapping_add(incr as u64);
        (overflow, sum, max as i128, min as i128)
    } else {
        let value = value as u64;
        let max = if bits == 64 {
            u64::MAX
        } else {
            (1u64 << bits) - 1
        };
        let max_incr = max.wrapping_sub(value) as i64;
        let min_incr = value.wrapping_neg() as i64;
        let overflow = if value > max || (incr > 0 && incr > max_incr) {
            1
        } else if incr < 0 && incr < min_incr {
            -1
        } else {
            0
        };
        (overflow, value.wrapping_add(incr as u64), max as i128, 0)
    };
    let field = |raw: u64| -> i128 {
        if signed {
            sign_extend(raw, bits) as i128
        } else if bits == 64 {
            raw as i128
        } else {
            (raw & ((1u64 << bits) - 1)) as i128
        }
    };
    match (overflow, how) {
        (0, _) => Some(field(sum)),
        (_, Overflow::Fail) => None,
        (1, Overflow::Sat) => Some(max),
        (_, Overflow::Sat) => Some(min),
        (_, Overflow::Wrap) => Some(field(sum)),
    }
}

/// Reads a field as the type says (signed or unsigned).
fn read_typed(bytes: &[u8], f: &Field) -> i128 {
    let raw = get_field(bytes, f.offset, f.bits);
    if f.signed {
        sign_extend(raw, f.bits) as i128
    } else {
        raw as i128
    }
}

/// The shared body of BITFIELD and BITFIELD_RO once the sub-commands are
/// parsed: runs them in order, one reply element each.
fn bitfield_generic(ctx: &mut Ctx, db: &mut Db, key: &[u8], fields: &[Field]) -> CmdResult {
    let now = ctx.now_ms;
    let writes = fields.iter().any(|f| !matches!(f.op, FieldOp::Get));
    if !writes {
        let bytes = read_string(db, key, now)?.unwrap_or_default();
        ctx.reply.array(fields.len());
        for f in fields {
            ctx.reply.integer(read_typed(bytes, f) as i64);
        }
        return Ok(());
    }
    let highest = fields
        .iter()
        .filter(|f| !matches!(f.op, FieldOp::Get))
        .map(|f| f.offset + f.bits as u64 - 1)
        .max()
        .unwrap_or(0);
    let (s, grown) = string_for_bit_write(db, key, highest, now)?;
    let mut changes = 0u64;
    ctx.reply.array(fields.len());
    for f in fields {
        let old = read_typed(s.as_bytes(), f);
        let (new, reply) = match f.op {
            FieldOp::Get => {
                ctx.reply.integer(old as i64);
                continue;
            }
            FieldOp::Set(v) => {
                // An unsigned field sees the argument as its two's complement.
                let v = if f.signed {
                    v as i128
                } else {
                    v as u64 as i128
                };
                match apply_overflow(v, 0, f.signed, f.bits, f.overflow) {
                    Some(n) => (n, old),
                    None => {
                        ctx.reply.null();
                        continue;
                    }
                }
            }
            FieldOp::IncrBy(incr) => {
                match apply_overflow(old, incr as i128, f.signed, f.bits, f.overflow) {
                    Some(n) => (n, n),
                    None => {
                        ctx.reply.null();
                        continue;
                    }
                }
            }
        };
        ctx.reply.integer(reply as i64);
        set_field(s.make_raw(), f.offset, f.bits, new as u64);
        if grown || old != new {
            changes += 1;
        }
    }
    if changes > 0 {
        ctx.dirty += changes;
        ctx.notify('$', "setbit", key);
    }
    Ok(())
}

/// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type
/// offset increment] [OVERFLOW WRAP|SAT|FAIL] ... — array: one integer per
/// GET/SET/INCRBY (SET answers the old value, INCRBY the new one), null
/// where OVERFLOW FAIL refused the change.
pub(super) fn bitfield_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let fields = parse_fields(ctx, &args[2..])?;
    let db = ctx.db_mut(store);
    bitfield_generic(ctx, db, args[1], &fields)
}

/// BITFIELD_RO key [GET type offset ...] — array of integers; any other
/// sub-command is an error.
pub(super) fn bitfield_ro_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let fields = parse_fields(ctx, &args[2..])?;
    if fields.iter().any(|f| !matches!(f.op, FieldOp::Get)) {
        return Err(CmdError::err(
            "BITFIELD_RO only supports the GET subcommand",
        ));
    }
    let bytes = read_string(ctx.db(store), args[1], ctx.now_ms)?.unwrap_or_default();
    ctx.reply.array(fields.len());
    for f in &fields {
        ctx.reply.integer(read_typed(bytes, f) as i64);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip() {
        let mut b = vec![0u8; 3];
        set_field(&mut b, 3, 10, 0b10_1100_1111);
        assert_eq!(get_field(&b, 3, 10), 0b10_1100_1111);
        assert_eq!(sign_extend(get_field(&b, 3, 10), 10), -305);
    }

    #[test]
    fn overflow_modes() {
        assert_eq!(apply_overflow(250, 10, false, 8, Overflow::Wrap), Some(4));
        assert_eq!(apply_overflow(250, 10, false, 8, Overflow::Sat), Some(255));
        assert_eq!(apply_overflow(250, 10, false, 8, Overflow::Fail), None);
        assert_eq!(apply_overflow(127, 1, true, 8, Overflow::Wrap), Some(-128));
        assert_eq!(apply_overflow(-128, -1, true, 8, Overflow::Sat), Some(-128));
        assert_eq!(
            apply_overflow(i64::MAX as i128, 1, true, 64, Overflow::Wrap),
            Some(i64::MIN as i128)
        );
    }
}
