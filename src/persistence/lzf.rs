//! LZF compression, the format Redis uses for long strings inside RDB files.
//!
//! LZF (Marc Lehmann's liblzf) is a tiny LZ77 variant: the compressed stream
//! is a sequence of *literal runs* and *back references*, each introduced by
//! one control byte:
//!
//! ```text
//! 000LLLLL <L+1 literal bytes>              literal run of 1..=32 bytes
//! LLLooooo oooooooo                         back reference, LLL in 1..=6
//! 111ooooo LLLLLLLL oooooooo                back reference, long form
//! ```
//!
//! A back reference copies `len + 2` bytes (so 3..=264) starting `offset + 1`
//! bytes behind the current output position, where `offset` is the 13-bit
//! value formed by the five low control bits and the last byte (so the window
//! is 8 KB). The copy may overlap its own output, which is how runs of one
//! byte compress. There is no header and no end marker: the caller stores the
//! compressed and original lengths, as the RDB format does (`0xC3 <clen>
//! <len> <data>`).
//!
//! The compressor finds matches with a hash table of the last position seen
//! for each 3-byte prefix, like liblzf's default mode; any valid encoding is
//! accepted by every decompressor, so the exact choices need not match
//! liblzf byte for byte. The decompressor treats its input as hostile: every
//! control byte, length and offset is checked and a bad stream yields an
//! [`LzfError`], never a panic or an out-of-bounds copy.
//!
//! Redis mirrors: `src/lzf_c.c`, `src/lzf_d.c`, and `rdbSaveLzfStringObject`
//! (which only compresses strings longer than 20 bytes and keeps the result
//! only when it saves at least 4 bytes).

use std::fmt;

/// Longest literal run one control byte can announce.
const MAX_LITERAL_BYTES: usize = 32;
/// Farthest back a reference can reach (13 bits of offset, plus one).
const MAX_OFFSET_BYTES: usize = 1 << 13;
/// Longest match one back reference can copy (7 + 255 + 2).
const MAX_MATCH_BYTES: usize = 264;
/// log2 of the number of slots in the compressor's match-finding table.
const HASH_LOG: u32 = 14;
/// The smallest table, used for short inputs.
const MIN_HASH_LOG: u32 = 6;

/// Why a compressed stream could not be decompressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LzfError(pub String);

impl fmt::Display for LzfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid LZF data: {}", self.0)
    }
}

impl std::error::Error for LzfError {}

/// Compresses `input`, giving up (returning `None`) as soon as the output
/// would exceed `max_output_bytes`. Redis passes `len - 4` here so that a
/// string is only stored compressed when that saves space.
pub fn compress(input: &[u8], max_output_bytes: usize) -> Option<Vec<u8>> {
    let mut out: Vec<u8> = Vec::with_capacity(max_output_bytes.min(input.len() + 1));
    // Each slot holds (position + 1) of the latest 3-byte prefix with that
    // hash, 0 meaning empty; u32 halves the table next to usize. Short inputs
    // get a smaller table: zeroing 64 KB for a 30-byte string would dominate
    // the cost of saving many small values.
    let hash_log =
        (input.len().max(2).next_power_of_two().trailing_zeros()).clamp(MIN_HASH_LOG, HASH_LOG);
    let mut table = vec![0u32; 1 << hash_log];
    let hash = |p: usize| -> usize {
        let v = (input[p] as u32) << 16 | (input[p + 1] as u32) << 8 | input[p + 2] as u32;
        (v.wrapping_mul(2_654_435_761) >> (32 - hash_log)) as usize
    };

    let mut pos = 0;
    // Index in `out` of the control byte of the literal run being built.
    let mut literal_start: Option<usize> = None;
    while pos < input.len() {
        let mut match_len = 0;
        let mut distance = 0;
        if pos + 2 < input.len() {
            let slot = hash(pos);
            let candidate = table[slot] as usize;
            table[slot] = (pos + 1) as u32;
            if candidate > 0 {
                let candidate = candidate - 1;
                distance = pos - candidate;
                if distance <= MAX_OFFSET_BYTES
                    && input[candidate..candidate + 3] == input[pos..pos + 3]
                {
                    let max_len = MAX_MATCH_BYTES.min(input.len() - pos);
                    match_len = 3;
                    while match_len < max_len
                        && input[candidate + match_len] == input[pos + match_len]
                    {
                        match_len += 1;
                    }
                }
            }
        }

        if match_len >= 3 {
            literal_start = None;
            let len_code = match_len - 2;
            let offset = distance - 1;
            if len_code < 7 {
                out.push(((len_code << 5) | (offset >> 8)) as u8);
            } else {
                out.push(((7 << 5) | (offset >> 8)) as u8);
                out.push((len_code - 7) as u8);
            }
            out.push((offset & 0xff) as u8);
            // Remember the positions inside the match too, so later data can
            // refer into it; this is what makes repetitive input shrink well.
            let end = pos + match_len;
            pos += 1;
            while pos < end {
                if pos + 2 < input.len() {
                    table[hash(pos)] = (pos + 1) as u32;
                }
                pos += 1;
            }
        } else {
            match literal_start {
                Some(ctrl) if (out[ctrl] as usize) + 1 < MAX_LITERAL_BYTES => out[ctrl] += 1,
                _ => {
                    literal_start = Some(out.len());
                    out.push(0);
                }
            }
            out.push(input[pos]);
            pos += 1;
        }
        if out.len() > max_output_bytes {
            return None;
        }
    }
    Some(out)
}

/// Decompresses `input`, which must expand to exactly `expected_len` bytes
/// (the RDB format stores the original length next to the compressed data).
pub fn decompress(input: &[u8], expected_len: usize) -> Result<Vec<u8>, LzfError> {
    // Even the best back reference turns 3 bytes into 264, so a claimed length
    // beyond that ratio is a lie; checking it first stops a hostile header
    // from making us allocate gigabytes.
    let max_possible = input.len().saturating_mul(MAX_MATCH_BYTES / 3 + 1);
    if expected_len > max_possible {
        return Err(LzfError(format!(
            "{} compressed bytes cannot expand to {} bytes",
            input.len(),
            expected_len
        )));
    }
    let mut out: Vec<u8> = Vec::with_capacity(expected_len);
    let mut pos = 0;
    while pos < input.len() {
        let ctrl = input[pos] as usize;
        pos += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let Some(literal) = input.get(pos..pos + run) else {
                return Err(LzfError(format!("literal run of {run} bytes is truncated")));
            };
            if out.len() + run > expected_len {
                return Err(LzfError("output longer than declared".into()));
            }
            out.extend_from_slice(literal);
            pos += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                let Some(&extra) = input.get(pos) else {
                    return Err(LzfError("back reference length is truncated".into()));
                };
                len += extra as usize;
                pos += 1;
            }
            let Some(&low) = input.get(pos) else {
                return Err(LzfError("back reference offset is truncated".into()));
            };
            pos += 1;
            let distance = ((ctrl & 0x1f) << 8 | low as usize) + 1;
            let copy_len = len + 2;
            if distance > out.len() {
                return Err(LzfError(format!(
                    "back reference {distance} bytes behind, only {} produced",
                    out.len()
                )));
            }
            if out.len() + copy_len > expected_len {
                return Err(LzfError("output longer than declared".into()));
            }
            // Byte by byte, because source and destination may overlap.
            let start = out.len() - distance;
            for i in 0..copy_len {
                let byte = out[start + i];
                out.push(byte);
            }
        }
    }
    if out.len() != expected_len {
        return Err(LzfError(format!(
            "expanded to {} bytes, expected {}",
            out.len(),
            expected_len
        )));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(data: &[u8]) {
        let compressed = compress(data, data.len() + data.len() / 16 + 64).expect("fits");
        assert_eq!(decompress(&compressed, data.len()).unwrap(), data);
    }

    #[test]
    fn round_trips() {
        round_trip(b"");
        round_trip(b"a");
        round_trip(b"ab");
        round_trip(b"abc");
        round_trip(b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        round_trip(&[0u8; 100_000]);
        let text: Vec<u8> = b"hello world, hello redis, hello lzf! "
            .iter()
            .cycle()
            .take(10_000)
            .copied()
            .collect();
        round_trip(&text);
        // Pseudo-random bytes: incompressible, many literal runs.
        let mut x: u32 = 12345;
        let noise: Vec<u8> = (0..5000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect();
        round_trip(&noise);
        // Long-distance repeats near the 8 KB window edge.
        let mut far = noise.clone();
        far.extend_from_slice(&noise[..3000]);
        round_trip(&far);
    }

    #[test]
    fn repetitive_input_shrinks() {
        let data = vec![b'x'; 1000];
        let compressed = compress(&data, 996).expect("compressible");
        assert!(compressed.len() < 20, "got {} bytes", compressed.len());
    }

    #[test]
    fn incompressible_input_gives_up() {
        assert_eq!(compress(b"abcdefghijklmnopqrstuvwxyz", 22), None);
    }

    #[test]
    fn known_vectors() {
        // A literal run: control byte 2 announces 3 bytes.
        assert_eq!(decompress(&[2, b'a', b'b', b'c'], 3).unwrap(), b"abc");
        // "a" then a back reference of distance 1, length 3+2 = 5: six 'a's.
        assert_eq!(
            decompress(&[0, b'a', 0b011_00000, 0], 6).unwrap(),
            b"aaaaaa"
        );
        // Long form: len 7 + 1 extra = 8, copy 10 bytes.
        assert_eq!(
            decompress(&[0, b'z', 0b111_00000, 1, 0], 11).unwrap(),
            vec![b'z'; 11]
        );
        // What Redis 7.0 wrote for "a" x 30 and for "hello " x 5 minus the
        // trailing space (taken from DUMP payloads).
        let redis_a30 = [0x01, b'a', b'a', 0xe0, 0x11, 0x00, 0x01, b'a', b'a'];
        assert_eq!(decompress(&redis_a30, 30).unwrap(), vec![b'a'; 30]);
        let redis_hello = b"\x06hello h\xe0\x0b\x05\x01lo";
        assert_eq!(
            decompress(redis_hello, 29).unwrap(),
            b"hello hello hello hello hello"
        );
    }

    #[test]
    fn corrupt_input_is_an_error() {
        // Truncated literal.
        assert!(decompress(&[5, b'a'], 6).is_err());
        // Reference before the start of the output.
        assert!(decompress(&[0b001_00000, 0], 3).is_err());
        assert!(decompress(&[0, b'a', 0b001_00000, 5], 4).is_err());
        // Truncated long reference.
        assert!(decompress(&[0, b'a', 0b111_00000], 20).is_err());
        assert!(decompress(&[0, b'a', 0b111_00000, 3], 20).is_err());
        // Length mismatches.
        assert!(decompress(&[2, b'a', b'b', b'c'], 2).is_err());
        assert!(decompress(&[2, b'a', b'b', b'c'], 4).is_err());
        // Absurd declared length is refused before allocating.
        assert!(decompress(&[0, b'a'], usize::MAX).is_err());
    }

    #[test]
    fn truncation_and_flips_never_panic() {
        let data: Vec<u8> = b"the quick brown fox jumps over the lazy dog; the quick dog"
            .iter()
            .cycle()
            .take(700)
            .copied()
            .collect();
        let compressed = compress(&data, data.len()).unwrap();
        for cut in 0..compressed.len() {
            assert!(decompress(&compressed[..cut], data.len()).is_err());
        }
        for i in 0..compressed.len() {
            for bit in 0..8 {
                let mut bad = compressed.clone();
                bad[i] ^= 1 << bit;
                let _ = decompress(&bad, data.len());
            }
        }
    }
}
