//! Zipmap: the compact hash encoding of Redis 2.x (RDB type 9). Read only;
//! nothing since Redis 2.6 writes it, but old files can still hold it.
//!
//! Layout:
//!
//! ```text
//! <zmlen:u8> <len>key <len><free>value<free bytes> ... <0xFF>
//! len = 1 byte if < 254, else 0xFE + u32 (little-endian)
//! ```
//!
//! `zmlen` is the pair count when below 254 (otherwise unknown); `free` is a
//! single byte counting unused bytes left after the value by in-place
//! updates, which we skip. Every length is checked against the blob.
//! Redis mirrors: `src/zipmap.c`.

/// A length byte announcing a 4-byte length.
const BIG_LEN: u8 = 254;
/// The byte that closes every zipmap.
const END_BYTE: u8 = 0xff;

/// Reads a zipmap length at `*pos`, advancing past it.
fn read_len(blob: &[u8], pos: &mut usize) -> Result<usize, String> {
    let first = *blob.get(*pos).ok_or("zipmap is truncated")?;
    if first < BIG_LEN {
        *pos += 1;
        Ok(first as usize)
    } else if first == BIG_LEN {
        let b = blob.get(*pos + 1..*pos + 5).ok_or("zipmap is truncated")?;
        *pos += 5;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    } else {
        Err(format!(
            "unexpected end byte inside the zipmap entry at byte {pos}"
        ))
    }
}

/// Reads `len` bytes at `*pos`, advancing past them.
fn take<'a>(blob: &'a [u8], pos: &mut usize, len: usize) -> Result<&'a [u8], String> {
    let s = pos
        .checked_add(len)
        .and_then(|end| blob.get(*pos..end))
        .ok_or("zipmap entry runs past its end")?;
    *pos += len;
    Ok(s)
}

/// One (field, value) pair, borrowed from the blob.
pub type ZipmapPair<'a> = (&'a [u8], &'a [u8]);

/// Decodes a zipmap blob into its (field, value) pairs.
pub fn parse(blob: &[u8]) -> Result<Vec<ZipmapPair<'_>>, String> {
    let zmlen = *blob.first().ok_or("empty zipmap")?;
    let mut pairs = Vec::with_capacity((zmlen as usize).min(blob.len() / 3));
    let mut pos = 1;
    loop {
        let first = *blob.get(pos).ok_or("zipmap has no end byte")?;
        if first == END_BYTE {
            break;
        }
        let key_len = read_len(blob, &mut pos)?;
        let key = take(blob, &mut pos, key_len)?;
        let value_len = read_len(blob, &mut pos)?;
        let free = *blob.get(pos).ok_or("zipmap is truncated")? as usize;
        pos += 1;
        let value = take(blob, &mut pos, value_len)?;
        take(blob, &mut pos, free)?;
        pairs.push((key, value));
    }
    if pos + 1 != blob.len() {
        return Err("zipmap has bytes after its end byte".into());
    }
    if zmlen < BIG_LEN && zmlen as usize != pairs.len() {
        return Err(format!(
            "zipmap header says {zmlen} pairs but holds {}",
            pairs.len()
        ));
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        // From zipmap.c: "foo" => "bar", "hello" => "world", with 2 free bytes.
        let blob = b"\x02\x03foo\x03\x00bar\x05hello\x05\x02world\x00\x00\xff";
        let pairs = parse(blob).unwrap();
        assert_eq!(
            pairs,
            vec![(&b"foo"[..], &b"bar"[..]), (&b"hello"[..], &b"world"[..])]
        );
    }

    #[test]
    fn hostile_blobs_are_errors() {
        let good = b"\x02\x03foo\x03\x00bar\x05hello\x05\x02world\x00\x00\xff";
        for cut in 0..good.len() {
            assert!(parse(&good[..cut]).is_err());
        }
        for i in 0..good.len() {
            let mut bad = good.to_vec();
            bad[i] ^= 0xa5;
            let _ = parse(&bad);
        }
        assert!(parse(b"\x01\xfe\xff\xff\xff\x7f").is_err());
    }
}
