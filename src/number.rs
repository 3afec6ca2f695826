//! How Redis reads and prints numbers.
//!
//! Redis is strict about numeric arguments: integers follow `string2ll` (no
//! spaces, no `+`, no leading zeros) and floats follow `strtod` on the whole
//! argument (no spaces, no NaN). Doubles are printed with C's `%.17g` in
//! Redis 7.0 (so 1.1 prints as `1.1000000000000001`), and INCRBYFLOAT prints
//! its result in plain decimal notation with no exponent.

pub use crate::resp::parser::parse_i64;
pub use crate::store::number::format_double;

/// The decimal form of `n`, written into `buf` (on the caller's stack, no
/// allocation: reply writers, INCR, a forked child); i64::MIN takes all 20.
#[inline]
pub fn i64_digits(n: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    let mut rest = n.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// Parses a float argument as Redis's `string2ld`/`strtod` accept it:
/// decimal or exponent notation, `inf`/`-inf`/`+inf`/`infinity`, no leading
/// or trailing space, never NaN.
pub fn parse_f64(s: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(s).ok()?;
    if text.is_empty() || text.starts_with(|c: char| c.is_whitespace()) {
        return None;
    }
    if text.ends_with(|c: char| c.is_whitespace()) {
        return None;
    }
    let lower = text.to_ascii_lowercase();
    let body = lower.trim_start_matches(['+', '-']);
    if body.starts_with("nan") {
        return None;
    }
    // Rust accepts "infinity" and "inf" like strtod; it rejects hex floats,
    // which Redis also rejects for scores.
    let v: f64 = lower.parse().ok()?;
    if v.is_nan() {
        None
    } else {
        Some(v)
    }
}

/// Formats the result of INCRBYFLOAT / HINCRBYFLOAT: plain decimal, no
/// exponent, no trailing zeros (Redis prints `%.17Lf` and trims; the
/// shortest round-trip form gives the same text for ordinary values).
pub fn format_incr_float(d: f64) -> String {
    let s = format!("{}", d);
    if s == "-0" {
        "0".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i64_digits_cover_the_range() {
        let mut buf = [0u8; 20];
        for n in [0, 7, -7, 10, 1234567890, i64::MAX, i64::MIN] {
            assert_eq!(i64_digits(n, &mut buf), n.to_string().as_bytes());
        }
    }

    #[test]
    fn float_parsing_is_strict() {
        assert_eq!(parse_f64(b"1.5"), Some(1.5));
        assert_eq!(parse_f64(b"-inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_f64(b"+inf"), Some(f64::INFINITY));
        assert_eq!(parse_f64(b"1e3"), Some(1000.0));
        for bad in [&b""[..], b" 1", b"1 ", b"nan", b"abc", b"1.5x"] {
            assert_eq!(parse_f64(bad), None);
        }
    }
}
