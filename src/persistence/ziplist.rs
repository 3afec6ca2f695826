//! Ziplist: the compact list encoding Redis used before listpacks (RDB types
//! 10, 12, 13 and the nodes of type 14). We only read it: Redis 7.0 never
//! writes ziplists, but files from Redis 3.2 to 6.2 are full of them.
//!
//! Layout (header fields little-endian):
//!
//! ```text
//! <zlbytes:u32> <zltail:u32> <zllen:u16> <entry> ... <0xFF>
//! entry = <prevlen> <encoding> <data>
//! prevlen  = 1 byte if < 254, else 0xFE + u32 LE (length of the previous entry)
//! encoding = 00LLLLLL                      string, 6-bit length
//!            01LLLLLL LLLLLLLL             string, 14-bit length (big-endian)
//!            10000000 <u32 big-endian>     string, 32-bit length
//!            11000000 i16 | 11010000 i32 | 11100000 i64 | 11110000 i24 | 11111110 i8
//!            1111xxxx  (xxxx in 0001..=1101) immediate integer xxxx - 1, no data
//! ```
//!
//! `zltail` is the offset of the last entry and `zllen` the count (65535 when
//! it overflowed). Parsing checks all of them, every entry's bounds and every
//! `prevlen`, so a hostile blob yields an error instead of a panic.
//! Redis mirrors: `src/ziplist.c`.

use super::listpack::PackedEntry;

/// zlbytes + zltail + zllen.
const HEADER_BYTES: usize = 10;
/// The byte that closes every ziplist.
const END_BYTE: u8 = 0xff;
/// A prevlen first byte announcing a 4-byte length.
const BIG_PREVLEN: u8 = 0xfe;

fn slice(blob: &[u8], pos: usize, len: usize) -> Result<&[u8], String> {
    pos.checked_add(len)
        .and_then(|end| blob.get(pos..end))
        .ok_or_else(|| format!("entry at byte {pos} runs past the end of the ziplist"))
}

/// Decodes every element of a ziplist blob, validating its structure.
pub fn parse(blob: &[u8]) -> Result<Vec<PackedEntry<'_>>, String> {
    if blob.len() < HEADER_BYTES + 1 {
        return Err(format!("ziplist of {} bytes is too short", blob.len()));
    }
    let zlbytes = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    let zltail = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    let zllen = u16::from_le_bytes([blob[8], blob[9]]);
    if zlbytes != blob.len() {
        return Err(format!(
            "ziplist header says {zlbytes} bytes but the blob has {}",
            blob.len()
        ));
    }
    // Every entry takes at least 2 bytes.
    let mut entries = Vec::with_capacity((zllen as usize).min(blob.len() / 2));
    let mut pos = HEADER_BYTES;
    let mut prev_len = 0usize;
    let mut last_start = HEADER_BYTES;
    loop {
        let Some(&first) = blob.get(pos) else {
            return Err("ziplist has no end byte".into());
        };
        if first == END_BYTE {
            break;
        }
        let start = pos;
        let stored_prev = if first == BIG_PREVLEN {
            let b = slice(blob, pos + 1, 4)?;
            pos += 5;
            u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize
        } else {
            pos += 1;
            first as usize
        };
        if stored_prev != prev_len {
            return Err(format!("bad prevlen in the entry at byte {start}"));
        }
        let enc = slice(blob, pos, 1)?[0];
        let entry = match enc >> 6 {
            0 => {
                let len = (enc & 0x3f) as usize;
                let s = slice(blob, pos + 1, len)?;
                pos += 1 + len;
                PackedEntry::Bytes(s)
            }
            1 => {
                let b = slice(blob, pos + 1, 1)?[0];
                let len = ((enc & 0x3f) as usize) << 8 | b as usize;
                let s = slice(blob, pos + 2, len)?;
                pos += 2 + len;
                PackedEntry::Bytes(s)
            }
            2 => {
                if enc != 0x80 {
                    return Err(format!("invalid ziplist encoding {enc:#04x} at byte {pos}"));
                }
                let b = slice(blob, pos + 1, 4)?;
                let len = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
                let s = slice(blob, pos + 5, len)?;
                pos += 5 + len;
                PackedEntry::Bytes(s)
            }
            _ => {
                let width = match enc {
                    0xc0 => 2,
                    0xd0 => 4,
                    0xe0 => 8,
                    0xf0 => 3,
                    0xfe => 1,
                    0xf1..=0xfd => 0,
                    _ => return Err(format!("invalid ziplist encoding {enc:#04x} at byte {pos}")),
                };
                let value = if width == 0 {
                    (enc & 0x0f) as i64 - 1
                } else {
                    let bytes = slice(blob, pos + 1, width)?;
                    let mut raw = [0u8; 8];
                    raw[..width].copy_from_slice(bytes);
                    let shift = 64 - 8 * width as u32;
                    ((u64::from_le_bytes(raw) << shift) as i64) >> shift
                };
                pos += 1 + width;
                PackedEntry::Int(value)
            }
        };
        entries.push(entry);
        prev_len = pos - start;
        last_start = start;
    }
    if pos + 1 != blob.len() {
        return Err(format!(
            "ziplist has {} bytes after its end byte",
            blob.len() - pos - 1
        ));
    }
    if zltail != last_start {
        return Err(format!(
            "ziplist tail offset {zltail} should be {last_start}"
        ));
    }
    if zllen != u16::MAX && zllen as usize != entries.len() {
        return Err(format!(
            "ziplist header says {zllen} elements but holds {}",
            entries.len()
        ));
    }
    Ok(entries)
}

/// A minimal ziplist writer, for tests only (Redis 7 never writes these).
#[cfg(test)]
pub(crate) fn build(items: &[PackedEntry<'_>]) -> Vec<u8> {
    let mut buf = vec![0u8; HEADER_BYTES];
    let mut prev_len = 0usize;
    let mut tail = HEADER_BYTES;
    for item in items {
        let start = buf.len();
        tail = start;
        if prev_len < 254 {
            buf.push(prev_len as u8);
        } else {
            buf.push(BIG_PREVLEN);
            buf.extend_from_slice(&(prev_len as u32).to_le_bytes());
        }
        match item {
            PackedEntry::Int(v) => match *v {
                0..=12 => buf.push(0xf1 + *v as u8),
                -128..=127 => buf.extend_from_slice(&[0xfe, *v as u8]),
                -32768..=32767 => {
                    buf.push(0xc0);
                    buf.extend_from_slice(&(*v as i16).to_le_bytes());
                }
                -8_388_608..=8_388_607 => {
                    buf.push(0xf0);
                    buf.extend_from_slice(&(*v as i32).to_le_bytes()[..3]);
                }
                -2_147_483_648..=2_147_483_647 => {
                    buf.push(0xd0);
                    buf.extend_from_slice(&(*v as i32).to_le_bytes());
                }
                _ => {
                    buf.push(0xe0);
                    buf.extend_from_slice(&v.to_le_bytes());
                }
            },
            PackedEntry::Bytes(s) => {
                if s.len() < 64 {
                    buf.push(s.len() as u8);
                } else if s.len() < 16384 {
                    buf.push(0x40 | (s.len() >> 8) as u8);
                    buf.push(s.len() as u8);
                } else {
                    buf.push(0x80);
                    buf.extend_from_slice(&(s.len() as u32).to_be_bytes());
                }
                buf.extend_from_slice(s);
            }
        }
        prev_len = buf.len() - start;
    }
    buf.push(END_BYTE);
    let total = buf.len() as u32;
    buf[0..4].copy_from_slice(&total.to_le_bytes());
    buf[4..8].copy_from_slice(&(tail as u32).to_le_bytes());
    buf[8..10].copy_from_slice(&(items.len() as u16).to_le_bytes());
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_encoding() {
        let s300 = vec![b'q'; 300];
        let s20000 = vec![b'r'; 20000];
        let items = vec![
            PackedEntry::Bytes(b"hello"),
            PackedEntry::Int(0),
            PackedEntry::Int(12),
            PackedEntry::Int(13),
            PackedEntry::Int(-1),
            PackedEntry::Int(-300),
            PackedEntry::Int(100_000),
            PackedEntry::Int(-3_000_000_000),
            PackedEntry::Int(i64::MIN),
            PackedEntry::Int(1 << 30),
            PackedEntry::Bytes(&s300),
            PackedEntry::Bytes(&s20000),
            PackedEntry::Bytes(b""),
        ];
        let blob = build(&items);
        assert_eq!(parse(&blob).unwrap(), items);
    }

    #[test]
    fn hostile_blobs_are_errors() {
        let good = build(&[
            PackedEntry::Bytes(b"abc"),
            PackedEntry::Int(-7),
            PackedEntry::Int(5000),
        ]);
        assert!(parse(&good).is_ok());
        for cut in 0..good.len() {
            assert!(parse(&good[..cut]).is_err(), "cut at {cut}");
        }
        for i in 0..good.len() {
            for bit in 0..8 {
                let mut bad = good.clone();
                bad[i] ^= 1 << bit;
                let _ = parse(&bad);
            }
        }
    }
}
