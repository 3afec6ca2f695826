//! How Redis reads and prints numbers.
//!
//! Redis is strict about numeric arguments: integers follow `string2ll` (no
//! spaces, no `+`, no leading zeros) and floats follow `strtod` on the whole
//! argument (no spaces, no NaN). Doubles are printed with C's `%.17g` in
//! Redis 7.0 (so 1.1 prints as `1.1000000000000001`), and INCRBYFLOAT prints
//! its result in plain decimal notation with no exponent.

pub use crate::resp::parser::parse_i64;

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

/// Formats a double like C's `printf("%.17g")`, with `inf` and `-inf`.
pub fn format_double(d: f64) -> String {
    if d.is_infinite() {
        return if d > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if d.is_nan() {
        return "nan".into();
    }
    if d == 0.0 {
        return if d.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // 17 significant digits in exponent form: "d.dddddddddddddddde<exp>".
    let sci = format!("{:.16e}", d);
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let neg = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let mut out = String::with_capacity(24);
    if neg {
        out.push('-');
    }
    if (-4..17).contains(&exp) {
        // Fixed notation with 17 significant digits, trailing zeros removed.
        if exp >= 0 {
            let int_len = exp as usize + 1;
            out.push_str(&digits[..int_len]);
            let frac = digits[int_len..].trim_end_matches('0');
            if !frac.is_empty() {
                out.push('.');
                out.push_str(frac);
            }
        } else {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(digits.trim_end_matches('0'));
        }
    } else {
        out.push_str(&digits[..1]);
        let frac = digits[1..].trim_end_matches('0');
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        let e = exp.unsigned_abs();
        if e < 10 {
            out.push('0');
        }
        out.push_str(&e.to_string());
    }
    out
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
    fn percent_17g_vectors() {
        let table: &[(f64, &str)] = &[
            (1.5, "1.5"),
            (3.0, "3"),
            (1.1, "1.1000000000000001"),
            (0.1, "0.10000000000000001"),
            (1e-5, "1.0000000000000001e-05"),
            (1e300, "1.0000000000000001e+300"),
            (-2.5, "-2.5"),
            (123456789.0, "123456789"),
            (1e17, "1e+17"),
            (0.0001, "0.0001"),
        ];
        for (v, s) in table {
            assert_eq!(format_double(*v), *s, "{v}");
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
