//! Intset: Redis's encoding of a small set whose members are all integers,
//! stored as one blob in RDB type 11.
//!
//! Layout (all little-endian):
//!
//! ```text
//! <encoding:u32> <length:u32> <value> <value> ...
//! ```
//!
//! `encoding` is the byte width of every value: 2, 4 or 8 (the smallest that
//! fits all members). Values are signed and sorted ascending with no
//! duplicates, which is what lets Redis binary-search them; real Redis checks
//! this when it loads a file, so the writer sorts and de-duplicates.
//! Redis mirrors: `src/intset.c`.

/// Bytes before the first value.
const HEADER_BYTES: usize = 8;

/// Decodes an intset blob, checking width, length and strict ordering.
pub fn parse(blob: &[u8]) -> Result<Vec<i64>, String> {
    if blob.len() < HEADER_BYTES {
        return Err(format!("intset of {} bytes is too short", blob.len()));
    }
    let width = u32::from_le_bytes([blob[0], blob[1], blob[2], blob[3]]) as usize;
    let count = u32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return Err(format!("invalid intset encoding {width}"));
    }
    let expected_bytes = count
        .checked_mul(width)
        .and_then(|n| n.checked_add(HEADER_BYTES));
    if expected_bytes != Some(blob.len()) {
        return Err(format!(
            "intset of {count} x {width}-byte values cannot be {} bytes",
            blob.len()
        ));
    }
    let mut values = Vec::with_capacity(count);
    for chunk in blob[HEADER_BYTES..].chunks_exact(width) {
        let value = match width {
            2 => i16::from_le_bytes([chunk[0], chunk[1]]) as i64,
            4 => i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]) as i64,
            _ => i64::from_le_bytes(chunk.try_into().expect("chunks_exact yields 8 bytes")),
        };
        if values.last().is_some_and(|&last| last >= value) {
            return Err("intset values are not sorted and unique".into());
        }
        values.push(value);
    }
    Ok(values)
}

/// Builds an intset holding `values` (sorted and de-duplicated here), in the
/// narrowest encoding that fits them all, as Redis would.
pub fn build(values: &[i64]) -> Vec<u8> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let fits = |lo: i64, hi: i64| sorted.iter().all(|&v| v >= lo && v <= hi);
    let width: usize = if fits(i16::MIN as i64, i16::MAX as i64) {
        2
    } else if fits(i32::MIN as i64, i32::MAX as i64) {
        4
    } else {
        8
    };
    let mut out = Vec::with_capacity(HEADER_BYTES + width * sorted.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(sorted.len() as u32).to_le_bytes());
    for v in sorted {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_narrowest_width() {
        assert_eq!(
            build(&[3, 1, 2, 2]),
            [2, 0, 0, 0, 3, 0, 0, 0, 1, 0, 2, 0, 3, 0]
        );
        assert_eq!(build(&[-40000])[0], 4);
        assert_eq!(build(&[1 << 40])[0], 8);
        assert_eq!(build(&[])[..], [2, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn round_trips() {
        for values in [
            vec![],
            vec![-5, 0, 7],
            vec![i16::MIN as i64, i16::MAX as i64],
            vec![-70_000, 1, 70_000],
            vec![i64::MIN, -1, i64::MAX],
        ] {
            assert_eq!(parse(&build(&values)).unwrap(), values);
        }
    }

    #[test]
    fn hostile_blobs_are_errors() {
        let good = build(&[1, 2, 300_000]);
        for cut in 0..good.len() {
            assert!(parse(&good[..cut]).is_err());
        }
        assert!(parse(&[3, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(parse(&[2, 0, 0, 0, 255, 255, 255, 255]).is_err());
        // Unsorted.
        assert!(parse(&[2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 1, 0]).is_err());
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x55;
            let _ = parse(&bad);
        }
    }
}
