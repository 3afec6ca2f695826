//! Listpack: Redis's compact encoding of a small sequence of strings and
//! integers, stored as one opaque blob inside RDB files (types 16, 17, 18, 20).
//!
//! Layout (all multi-byte header fields little-endian):
//!
//! ```text
//! <total-bytes:u32> <num-elements:u16> <entry> <entry> ... <0xFF>
//! entry = <encoding+data> <backlen>
//! ```
//!
//! `num-elements` is 65535 when the count does not fit ("unknown, walk it").
//! Each entry starts with an encoding byte:
//!
//! ```text
//! 0xxxxxxx                     7-bit unsigned int 0..=127
//! 10LLLLLL <L bytes>           string up to 63 bytes
//! 110xxxxx yyyyyyyy            13-bit signed int (two's complement)
//! 1110LLLL LLLLLLLL <bytes>    string up to 4095 bytes (length big-endian)
//! 11110000 <len:u32 LE> <bytes> string of any length
//! 11110001 <i16 LE>   11110010 <i24 LE>   11110011 <i32 LE>   11110100 <i64 LE>
//! 11111111                     end of listpack
//! ```
//!
//! `backlen` is the size of `<encoding+data>` written so it can be read from
//! right to left: 7 bits per byte, the rightmost byte least significant, and
//! every byte except the leftmost carrying the 0x80 "more to the left" bit.
//! It lets Redis walk a listpack backwards; we only check it.
//!
//! Writing: Redis stores any element that is the canonical decimal form of an
//! i64 as an integer entry (`lpStringToInt64`), so [`ListpackBuilder::push`]
//! does the same; reading an integer entry gives back exactly that text.
//! Real Redis validates listpacks it loads, so the builder's output must be
//! exact: header total, count, backlens and the end byte.
//!
//! Parsing is hostile-input safe: every length is checked against the blob
//! before use, and nothing is allocated beyond what the blob can hold.
//! Redis mirrors: `src/listpack.c`.

use super::rdb::parse_canonical_int;

/// Bytes before the first entry: total length (4) and element count (2).
const HEADER_BYTES: usize = 6;
/// The byte that closes every listpack.
const END_BYTE: u8 = 0xff;
/// Element count value meaning "too many to count in 16 bits".
const COUNT_UNKNOWN: u16 = u16::MAX;

/// One element of a listpack or ziplist: these encodings keep integers in
/// binary, and the RDB data model wants their decimal text back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackedEntry<'a> {
    /// An integer entry.
    Int(i64),
    /// A string entry, borrowed from the blob.
    Bytes(&'a [u8]),
}

impl PackedEntry<'_> {
    /// The element as bytes: integers become their canonical decimal text,
    /// exactly as Redis renders them (`ll2string`).
    pub fn to_vec(&self) -> Vec<u8> {
        match self {
            PackedEntry::Int(v) => v.to_string().into_bytes(),
            PackedEntry::Bytes(b) => b.to_vec(),
        }
    }
}

/// Reads `len` bytes at `pos`, or explains that the blob is too short.
fn slice(blob: &[u8], pos: usize, len: usize) -> Result<&[u8], String> {
    pos.checked_add(len)
        .and_then(|end| blob.get(pos..end))
        .ok_or_else(|| format!("entry at byte {pos} runs past the end of the listpack"))
}

/// Sign-extends the low `bits` bits of `v`.
fn sign_extend(v: u64, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((v << shift) as i64) >> shift
}

/// Decodes every element of a listpack blob, validating its structure.
pub fn parse(blob: &[u8]) -> Result<Vec<PackedEntry<'_>>, String> {
    if blob.len() < HEADER_BYTES + 1 {
        return Err(format!("listpack of {} bytes is too short", blob.len()));
    }
    let total_bytes = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    if total_bytes != blob.len() {
        return Err(format!(
            "listpack header says {total_bytes} bytes but the blob has {}",
            blob.len()
        ));
    }
    let declared_count = u16::from_le_bytes([blob[4], blob[5]]);
    // Every entry takes at least 2 bytes, which bounds the allocation.
    let mut entries = Vec::with_capacity((declared_count as usize).min(blob.len() / 2));
    let mut pos = HEADER_BYTES;
    loop {
        let Some(&first) = blob.get(pos) else {
            return Err("listpack has no end byte".into());
        };
        if first == END_BYTE {
            break;
        }
        let start = pos;
        let (entry, data_end) = match first {
            0x00..=0x7f => (PackedEntry::Int(first as i64), pos + 1),
            0x80..=0xbf => {
                let len = (first & 0x3f) as usize;
                (
                    PackedEntry::Bytes(slice(blob, pos + 1, len)?),
                    pos + 1 + len,
                )
            }
            0xc0..=0xdf => {
                let b = slice(blob, pos + 1, 1)?[0];
                let raw = ((first & 0x1f) as u64) << 8 | b as u64;
                (PackedEntry::Int(sign_extend(raw, 13)), pos + 2)
            }
            0xe0..=0xef => {
                let b = slice(blob, pos + 1, 1)?[0];
                let len = ((first & 0x0f) as usize) << 8 | b as usize;
                (
                    PackedEntry::Bytes(slice(blob, pos + 2, len)?),
                    pos + 2 + len,
                )
            }
            0xf0 => {
                let l = slice(blob, pos + 1, 4)?;
                let len = u32::from_le_bytes([l[0], l[1], l[2], l[3]]) as usize;
                (
                    PackedEntry::Bytes(slice(blob, pos + 5, len)?),
                    pos + 5 + len,
                )
            }
            0xf1..=0xf4 => {
                let width = match first {
                    0xf1 => 2,
                    0xf2 => 3,
                    0xf3 => 4,
                    _ => 8,
                };
                let bytes = slice(blob, pos + 1, width)?;
                let mut raw = [0u8; 8];
                raw[..width].copy_from_slice(bytes);
                let value = sign_extend(u64::from_le_bytes(raw), (width * 8) as u32);
                (PackedEntry::Int(value), pos + 1 + width)
            }
            _ => {
                return Err(format!(
                    "invalid listpack encoding byte {first:#04x} at byte {pos}"
                ))
            }
        };
        let entry_len = data_end - start;
        let backlen_len = backlen_size(entry_len);
        let backlen = slice(blob, data_end, backlen_len)?;
        if backlen != encode_backlen(entry_len).as_slice() {
            return Err(format!("bad back-length after the entry at byte {start}"));
        }
        entries.push(entry);
        pos = data_end + backlen_len;
    }
    if pos + 1 != blob.len() {
        return Err(format!(
            "listpack has {} bytes after its end byte",
            blob.len() - pos - 1
        ));
    }
    if declared_count != COUNT_UNKNOWN && declared_count as usize != entries.len() {
        return Err(format!(
            "listpack header says {declared_count} elements but holds {}",
            entries.len()
        ));
    }
    Ok(entries)
}

/// How many bytes the back-length of an entry of `entry_len` bytes takes.
fn backlen_size(entry_len: usize) -> usize {
    match entry_len {
        0..=127 => 1,
        128..=16_382 => 2,
        16_383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    }
}

/// The back-length bytes, leftmost first (see the header comment).
fn encode_backlen(entry_len: usize) -> Vec<u8> {
    let size = backlen_size(entry_len);
    let mut out = vec![0u8; size];
    for (i, byte) in out.iter_mut().enumerate() {
        // Byte i from the left holds bits 7*(size-1-i).. of the length.
        let shift = 7 * (size - 1 - i);
        *byte = ((entry_len >> shift) & 0x7f) as u8;
        if i > 0 {
            *byte |= 0x80;
        }
    }
    out
}

/// Appends the encoding and data of an integer entry.
fn encode_int(out: &mut Vec<u8>, v: i64) {
    match v {
        0..=127 => out.push(v as u8),
        -4096..=4095 => {
            let raw = (v as u64) & 0x1fff;
            out.push(0xc0 | (raw >> 8) as u8);
            out.push((raw & 0xff) as u8);
        }
        -32_768..=32_767 => {
            out.push(0xf1);
            out.extend_from_slice(&(v as i16).to_le_bytes());
        }
        -8_388_608..=8_388_607 => {
            out.push(0xf2);
            out.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
        }
        -2_147_483_648..=2_147_483_647 => {
            out.push(0xf3);
            out.extend_from_slice(&(v as i32).to_le_bytes());
        }
        _ => {
            out.push(0xf4);
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

/// Appends the encoding and data of a string entry.
fn encode_string(out: &mut Vec<u8>, s: &[u8]) {
    let len = s.len();
    if len < 64 {
        out.push(0x80 | len as u8);
    } else if len < 4096 {
        out.push(0xe0 | (len >> 8) as u8);
        out.push((len & 0xff) as u8);
    } else {
        out.push(0xf0);
        out.extend_from_slice(&(len as u32).to_le_bytes());
    }
    out.extend_from_slice(s);
}

/// The number of bytes `value` will take as a listpack entry, backlen
/// included; the quicklist writer uses it to decide where a node ends.
pub fn entry_size(value: &[u8]) -> usize {
    let mut scratch = Vec::new();
    let data_len = match parse_canonical_int(value) {
        Some(v) => {
            encode_int(&mut scratch, v);
            scratch.len()
        }
        None => {
            let header = match value.len() {
                0..=63 => 1,
                64..=4095 => 2,
                _ => 5,
            };
            header + value.len()
        }
    };
    data_len + backlen_size(data_len)
}

/// Builds a valid listpack one element at a time.
#[derive(Debug, Clone)]
pub struct ListpackBuilder {
    buf: Vec<u8>,
    count: usize,
}

impl Default for ListpackBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ListpackBuilder {
    /// An empty listpack.
    pub fn new() -> Self {
        let mut buf = Vec::with_capacity(64);
        buf.extend_from_slice(&[0; HEADER_BYTES]);
        ListpackBuilder { buf, count: 0 }
    }

    /// Appends an element; canonical integers are stored as integer entries,
    /// as Redis does.
    pub fn push(&mut self, value: &[u8]) {
        let start = self.buf.len();
        match parse_canonical_int(value) {
            Some(v) => encode_int(&mut self.buf, v),
            None => encode_string(&mut self.buf, value),
        }
        let entry_len = self.buf.len() - start;
        let backlen = encode_backlen(entry_len);
        self.buf.extend_from_slice(&backlen);
        self.count += 1;
    }

    /// Number of elements pushed so far.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True when nothing has been pushed.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Size in bytes the finished listpack would have now.
    pub fn size_bytes(&self) -> usize {
        self.buf.len() + 1
    }

    /// Closes the listpack: end byte, then the header's total and count.
    pub fn finish(mut self) -> Vec<u8> {
        self.buf.push(END_BYTE);
        let total = self.buf.len() as u32;
        let count = if self.count < COUNT_UNKNOWN as usize {
            self.count as u16
        } else {
            COUNT_UNKNOWN
        };
        self.buf[0..4].copy_from_slice(&total.to_le_bytes());
        self.buf[4..6].copy_from_slice(&count.to_le_bytes());
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(items: &[&[u8]]) -> Vec<u8> {
        let mut b = ListpackBuilder::new();
        for item in items {
            b.push(item);
        }
        b.finish()
    }

    #[test]
    fn matches_redis_bytes() {
        // The listpack inside Redis 7.0's DUMP of RPUSH l a b 1 -5 1000.
        let redis =
            b"\x15\x00\x00\x00\x05\x00\x81a\x02\x81b\x02\x01\x01\xdf\xfb\x02\xc3\xe8\x02\xff";
        let ours = build(&[b"a", b"b", b"1", b"-5", b"1000"]);
        assert_eq!(ours, redis);
        let parsed: Vec<Vec<u8>> = parse(redis).unwrap().iter().map(|e| e.to_vec()).collect();
        assert_eq!(
            parsed,
            vec![
                b"a".to_vec(),
                b"b".to_vec(),
                b"1".to_vec(),
                b"-5".to_vec(),
                b"1000".to_vec()
            ]
        );
    }

    #[test]
    fn round_trips_every_encoding() {
        let long_4000 = vec![b'x'; 4000];
        let long_70000 = vec![b'y'; 70_000];
        let long_200 = vec![b'z'; 200];
        let items: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"0".to_vec(),
            b"127".to_vec(),
            b"128".to_vec(),
            b"-1".to_vec(),
            b"-4096".to_vec(),
            b"4095".to_vec(),
            b"-4097".to_vec(),
            b"32767".to_vec(),
            b"-32768".to_vec(),
            b"8388607".to_vec(),
            b"-8388608".to_vec(),
            b"2147483647".to_vec(),
            b"-2147483648".to_vec(),
            b"9223372036854775807".to_vec(),
            b"-9223372036854775808".to_vec(),
            b"9223372036854775808".to_vec(),
            b"007".to_vec(),
            b"-0".to_vec(),
            b"+5".to_vec(),
            long_200,
            long_4000,
            long_70000,
        ];
        let refs: Vec<&[u8]> = items.iter().map(|v| v.as_slice()).collect();
        let blob = build(&refs);
        let parsed: Vec<Vec<u8>> = parse(&blob).unwrap().iter().map(|e| e.to_vec()).collect();
        assert_eq!(parsed, items);
        // entry_size agrees with what the builder wrote.
        let total: usize = items.iter().map(|v| entry_size(v)).sum();
        assert_eq!(total + HEADER_BYTES + 1, blob.len());
    }

    #[test]
    fn backlen_encoding() {
        assert_eq!(encode_backlen(5), vec![5]);
        assert_eq!(encode_backlen(127), vec![127]);
        assert_eq!(encode_backlen(128), vec![1, 0x80]);
        assert_eq!(encode_backlen(200), vec![1, 0x80 | 72]);
    }

    #[test]
    fn hostile_blobs_are_errors() {
        let good = build(&[b"hello", b"12345", b"world"]);
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
        // Huge declared string length.
        let mut bad = vec![0, 0, 0, 0, 1, 0, 0xf0, 0xff, 0xff, 0xff, 0xff, 0xff];
        let len = bad.len() as u32;
        bad[0..4].copy_from_slice(&len.to_le_bytes());
        assert!(parse(&bad).is_err());
    }
}
