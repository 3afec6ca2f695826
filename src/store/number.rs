//! Doubles as Redis reads and writes them: sorted-set scores, INCRBYFLOAT-style replies.
//!
//! Redis never invents its own float syntax; it leans on C's `strtod` to read and
//! on `printf("%.17g")` to write (Redis 7.0's `addReplyDouble`). A compatible
//! server must therefore accept and print exactly what glibc does, quirks included.
//! This file re-implements both in safe Rust.
//!
//! Reading. [`strtod`] scans the longest prefix that C's `strtod` would take:
//!
//! ```text
//!   [spaces] [+|-] ( inf | infinity | nan            -- any case
//!                  | digits [. digits] [e [+|-] digits]
//!                  | . digits [e [+|-] digits]
//!                  | 0x hexdigits [. hexdigits] [p [+|-] digits] )
//! ```
//!
//! An exponent with no digits after it ("1e") is not part of the number, so the
//! scan stops before the `e`. Decimal text is handed to Rust's correctly rounded
//! `str::parse`; hexadecimal text is rounded by hand (round half to even, with
//! subnormals) in `hex_to_f64`. Two callers then apply Redis's own checks:
//!
//! * [`parse_score`] mirrors `getDoubleFromObject` (ZADD, ZINCRBY): the whole
//!   argument must be consumed, it must not start with whitespace, NaN is refused,
//!   and so is a result out of range (overflow to ±inf, or a nonzero value that
//!   underflows to 0). The literal "inf" is fine: it is not a range error.
//! * [`parse_range_score`] mirrors `zslParseRange` (ZRANGEBYSCORE, ZCOUNT): plain
//!   `strtod` then "nothing may follow, and not NaN". So leading spaces pass,
//!   "1e400" means +inf, and the empty string means 0, exactly as in Redis 7.0.
//!
//! Writing. [`format_double`] is `%.17g`: 17 significant digits, fixed notation
//! when the decimal exponent X satisfies -4 <= X < 17, scientific otherwise, with
//! trailing zeros removed: 1.1 -> "1.1000000000000001", 3.0 -> "3",
//! 1e17 -> "1e+17", 1e-5 -> "1.0000000000000001e-05". Rust's `{:.16e}` already
//! rounds correctly to 17 significant digits; we only re-lay the digits out.
//!
//! All the test vectors below were observed from a real redis-server 7.0.15.

/// The bytes C's `isspace` accepts in the "C" locale.
fn is_c_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// Scans `s` as C's `strtod` would. Returns the value, how many bytes form the
/// number (0 when there is none, even if spaces were skipped, as C's `endptr`),
/// and whether the result is a range error (overflow, or underflow to zero).
pub fn strtod(s: &[u8]) -> (f64, usize, bool) {
    let mut i = s.iter().take_while(|&&b| is_c_space(b)).count();
    let negative = matches!(s.get(i), Some(b'-'));
    if matches!(s.get(i), Some(b'-' | b'+')) {
        i += 1;
    }
    let sign = if negative { -1.0 } else { 1.0 };
    let rest = &s[i..];
    let starts_with =
        |word: &[u8]| rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word);
    if starts_with(b"infinity") {
        return (sign * f64::INFINITY, i + 8, false);
    }
    if starts_with(b"inf") {
        return (sign * f64::INFINITY, i + 3, false);
    }
    if starts_with(b"nan") {
        return (f64::NAN, i + 3, false);
    }
    let hex = rest.len() > 2 && rest[0] == b'0' && (rest[1] | 0x20) == b'x';
    let (magnitude, used, nonzero_digit) = if hex {
        match scan_hex(&rest[2..]) {
            Some((value, used, nonzero)) => (value, used + 2, nonzero),
            // "0x" with no hex digit after it: C reads just the "0".
            None => (0.0, 1, false),
        }
    } else {
        match scan_decimal(rest) {
            Some(found) => found,
            None => return (0.0, 0, false),
        }
    };
    let range_error = magnitude.is_infinite() || (magnitude == 0.0 && nonzero_digit);
    (sign * magnitude, i + used, range_error)
}

/// Decimal mantissa and optional exponent at the start of `s` (no sign): the
/// value, the bytes used, and whether any mantissa digit was nonzero.
fn scan_decimal(s: &[u8]) -> Option<(f64, usize, bool)> {
    let digits = |from: usize| s[from..].iter().take_while(|b| b.is_ascii_digit()).count();
    let int_digits = digits(0);
    let mut end = int_digits;
    let mut frac_digits = 0;
    if s.get(end) == Some(&b'.') {
        frac_digits = digits(end + 1);
        end += 1 + frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return None;
    }
    let nonzero = s[..end].iter().any(|b| (b'1'..=b'9').contains(b));
    if matches!(s.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(s.get(end + 1), Some(b'+' | b'-')));
        let exp_digits = digits(end + 1 + sign);
        if exp_digits > 0 {
            end += 1 + sign + exp_digits;
        }
    }
    let text = std::str::from_utf8(&s[..end]).expect("scanned bytes are ASCII");
    let value = text
        .parse::<f64>()
        .expect("scanned text is a Rust float literal");
    Some((value, end, nonzero))
}

/// Hexadecimal mantissa (after "0x") and optional binary exponent. `None` when
/// there is no hex digit at all.
fn scan_hex(s: &[u8]) -> Option<(f64, usize, bool)> {
    let mut mantissa: u64 = 0;
    let mut exp2: i64 = 0;
    let mut sticky = false; // a nonzero digit was too far right to fit in `mantissa`
    let mut seen_digit = false;
    let mut seen_point = false;
    let mut i = 0;
    while let Some(&b) = s.get(i) {
        if b == b'.' && !seen_point {
            seen_point = true;
        } else if let Some(d) = (b as char).to_digit(16) {
            seen_digit = true;
            if mantissa >> 60 == 0 {
                mantissa = mantissa * 16 + u64::from(d);
                exp2 -= if seen_point { 4 } else { 0 };
            } else {
                exp2 += if seen_point { 0 } else { 4 };
                sticky |= d != 0;
            }
        } else {
            break;
        }
        i += 1;
    }
    if !seen_digit {
        return None;
    }
    if matches!(s.get(i), Some(b'p' | b'P')) {
        let negative = s.get(i + 1) == Some(&b'-');
        let sign = usize::from(matches!(s.get(i + 1), Some(b'+' | b'-')));
        let digits = &s[i + 1 + sign..];
        let count = digits.iter().take_while(|b| b.is_ascii_digit()).count();
        if count > 0 {
            // Saturate: anything beyond ±100000 is already inf or 0.
            let e = digits[..count]
                .iter()
                .fold(0i64, |e, b| (e * 10 + i64::from(b - b'0')).min(100_000));
            exp2 += if negative { -e } else { e };
            i += 1 + sign + count;
        }
    }
    let nonzero = mantissa != 0 || sticky;
    Some((hex_to_f64(mantissa, sticky, exp2), i, nonzero))
}

/// `mantissa * 2^exp2` rounded to the nearest double, ties to even. `sticky`
/// says some nonzero bits were already dropped below `mantissa`.
fn hex_to_f64(mantissa: u64, sticky: bool, exp2: i64) -> f64 {
    if mantissa == 0 {
        return 0.0;
    }
    // Normalise so bit 63 is set: the value is then in [2^top, 2^(top+1)).
    let shift = mantissa.leading_zeros();
    let m = u128::from(mantissa << shift);
    let exp2 = exp2 - i64::from(shift);
    let mut top = exp2 + 63;
    // Keep 53 bits for a normal double; a subnormal keeps only the bits at or
    // above 2^-1074, so more are dropped.
    let drop = if top >= -1022 { 11 } else { -1074 - exp2 };
    if drop > 64 {
        return 0.0; // below half of the smallest subnormal
    }
    let mut q = m >> drop;
    let rest = m & ((1u128 << drop) - 1);
    let half = 1u128 << (drop - 1);
    if rest > half || (rest == half && (sticky || q & 1 == 1)) {
        q += 1;
    }
    if top < -1022 {
        // Subnormal bits are just the count of 2^-1074 units; a carry into
        // 2^52 lands exactly on the smallest normal, which is the same encoding.
        return f64::from_bits(q as u64);
    }
    if q == 1 << 53 {
        q >>= 1;
        top += 1;
    }
    if top > 1023 {
        return f64::INFINITY;
    }
    let fraction = (q as u64) & ((1 << 52) - 1);
    f64::from_bits(((top + 1023) as u64) << 52 | fraction)
}

/// Parses a score the way ZADD and ZINCRBY accept it (Redis's
/// `getDoubleFromObject`): the whole argument must be a C float, with no
/// leading or trailing space, not NaN, and not out of range. "inf", "-inf",
/// "+Infinity" and hex floats such as "0x1p3" are accepted.
pub fn parse_score(arg: &[u8]) -> Option<f64> {
    if arg.first().is_none_or(|&b| is_c_space(b)) {
        return None;
    }
    let (value, used, range_error) = strtod(arg);
    (used == arg.len() && !value.is_nan() && !range_error).then_some(value)
}

/// Parses the number inside a ZRANGEBYSCORE / ZCOUNT bound (after any "(")
/// the way Redis's `zslParseRange` does: plain `strtod`, nothing may follow,
/// NaN refused. More lenient than [`parse_score`] on purpose, to match Redis:
/// leading spaces pass, "1e400" is +inf and the empty string is 0.
pub fn parse_range_score(arg: &[u8]) -> Option<f64> {
    let (value, used, _) = strtod(arg);
    (used == arg.len() && !value.is_nan()).then_some(value)
}

/// Formats a double like C's `printf("%.17g")`, which is what Redis 7.0 replies
/// for scores; infinities are "inf" / "-inf" as in `addReplyDouble`.
pub fn format_double(d: f64) -> String {
    if d.is_nan() {
        return "nan".to_string();
    }
    if d.is_infinite() {
        return if d > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    // "-1.2345678901234567e-5": 17 correctly rounded significant digits.
    let sci = format!("{d:.16e}");
    let (mantissa, exp) = sci.split_once('e').expect("{:e} output has an exponent");
    let exp: i32 = exp.parse().expect("{:e} exponent is an integer");
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..17).contains(&exp) {
        let (int_part, frac_part) = if exp >= 0 {
            let split = exp as usize + 1;
            (digits[..split].to_string(), digits[split..].to_string())
        } else {
            ("0".to_string(), "0".repeat((-exp - 1) as usize) + &digits)
        };
        let frac_part = frac_part.trim_end_matches('0');
        if frac_part.is_empty() {
            format!("{sign}{int_part}")
        } else {
            format!("{sign}{int_part}.{frac_part}")
        }
    } else {
        let frac_part = digits[1..].trim_end_matches('0');
        let point = if frac_part.is_empty() { "" } else { "." };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!(
            "{sign}{}{point}{frac_part}e{exp_sign}{:02}",
            &digits[..1],
            exp.abs()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (ZADD argument, ZSCORE reply) pairs observed from redis-server 7.0.15
    /// (a large sorted set, so no listpack re-encoding is involved).
    const ROUND_TRIPS: &[(&str, &str)] = &[
        ("1.1", "1.1000000000000001"),
        ("1.5", "1.5"),
        ("3.0", "3"),
        ("1e300", "1.0000000000000001e+300"),
        ("inf", "inf"),
        ("-inf", "-inf"),
        ("+inf", "inf"),
        ("Infinity", "inf"),
        ("+infinity", "inf"),
        ("-Inf", "-inf"),
        ("0.1", "0.10000000000000001"),
        ("1e-5", "1.0000000000000001e-05"),
        ("123456789012345678", "1.2345678901234568e+17"),
        ("1e21", "1e+21"),
        ("0", "0"),
        ("5e-324", "4.9406564584124654e-324"),
        ("2.2250738585072014e-308", "2.2250738585072014e-308"),
        ("1e16", "10000000000000000"),
        ("1e17", "1e+17"),
        ("123456789", "123456789"),
        ("0.000001", "9.9999999999999995e-07"),
        ("1e-7", "9.9999999999999995e-08"),
        ("100000000000000000000", "1e+20"),
        ("1.7976931348623157e308", "1.7976931348623157e+308"),
        ("0x10", "16"),
        ("-0x10", "-16"),
        ("0x1p3", "8"),
        ("0x1.8p1", "3"),
        ("0X.8P+1", "1"),
        ("1.", "1"),
        (".5", "0.5"),
        ("-.5", "-0.5"),
        ("+1", "1"),
        ("1e+2", "100"),
        ("1E2", "100"),
        ("00001", "1"),
        ("4.5e15", "4500000000000000"),
        ("9007199254740993", "9007199254740992"),
        ("12345678901234567890123", "1.2345678901234568e+22"),
        ("1e-320", "9.9998886718268301e-321"),
        ("0e-400", "0"),
        ("0x1.00001p-1075", "4.9406564584124654e-324"),
        ("0x1p-1074", "4.9406564584124654e-324"),
        ("0x1p1023", "8.9884656743115795e+307"),
        ("0x1.fffffffffffff7ffp1023", "1.7976931348623157e+308"),
        ("0x123456789abcdef0123", "5.3730036427316852e+21"),
        ("12.5e-3", "0.012500000000000001"),
        ("4.35", "4.3499999999999996"),
        ("99999999999999999", "1e+17"),
        ("0.30000000000000004", "0.30000000000000004"),
    ];

    /// Arguments redis-server 7.0.15 refuses with "ERR value is not a valid float".
    const REJECTED: &[&str] = &[
        "",
        " 1",
        "1 ",
        "\t1",
        " inf",
        "inf ",
        "nan",
        "NaN",
        "+nan",
        "1e",
        "1_0",
        "inity",
        "infinit",
        "0x",
        "0x1p",
        "1e-324",
        "1e309",
        "-1e309",
        "1e99999999999999999999",
        "1e-99999999999999999999",
        "0x1p-1075",
        "0x1p1024",
        "0x1.fffffffffffff8p1023",
        "abc",
        "-",
        ".",
        "1.2.3",
    ];

    #[test]
    fn scores_round_trip_like_redis() {
        for (arg, reply) in ROUND_TRIPS {
            let value = parse_score(arg.as_bytes()).unwrap_or_else(|| panic!("{arg:?} refused"));
            assert_eq!(format_double(value), *reply, "ZADD {arg}");
        }
    }

    #[test]
    fn bad_scores_are_refused() {
        for arg in REJECTED {
            assert_eq!(parse_score(arg.as_bytes()), None, "{arg:?} accepted");
        }
    }

    #[test]
    fn negative_zero_formats_like_printf() {
        // Redis 7.0 replies "-0" for a skiplist-encoded -0 score (see ZSet::insert
        // for why we store +0 instead).
        assert_eq!(format_double(-0.0), "-0");
        assert_eq!(format_double(-1.5e-300), "-1.5000000000000001e-300");
        assert_eq!(format_double(0.0001), "0.0001");
        assert_eq!(format_double(0.00001), "1.0000000000000001e-05");
    }

    #[test]
    fn range_scores_use_plain_strtod() {
        // Observed with ZRANGEBYSCORE / ZCOUNT on redis-server 7.0.15.
        assert_eq!(parse_range_score(b" 1"), Some(1.0));
        assert_eq!(parse_range_score(b""), Some(0.0));
        assert_eq!(parse_range_score(b"1e400"), Some(f64::INFINITY));
        assert_eq!(parse_range_score(b"1e-400"), Some(0.0));
        assert_eq!(parse_range_score(b"0x10"), Some(16.0));
        assert_eq!(parse_range_score(b"1 "), None);
        assert_eq!(parse_range_score(b"nan"), None);
        assert_eq!(parse_range_score(b"(1"), None);
        assert_eq!(parse_range_score(b"  "), None);
    }

    #[test]
    fn strtod_stops_where_c_does() {
        assert_eq!(strtod(b"1e"), (1.0, 1, false));
        assert_eq!(strtod(b"0x"), (0.0, 1, false));
        assert_eq!(strtod(b"  12abc"), (12.0, 4, false));
        assert_eq!(strtod(b"  x"), (0.0, 0, false));
        assert_eq!(strtod(b"infinit"), (f64::INFINITY, 3, false));
        assert_eq!(strtod(b"-1e999"), (f64::NEG_INFINITY, 6, true));
    }
}
