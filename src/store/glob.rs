//! Glob-style pattern matching, as KEYS, SCAN MATCH, PSUBSCRIBE and ACL key
//! patterns use it (Redis's `stringmatchlen`).
//!
//! * `*` matches any run of bytes, `?` any one byte;
//! * `[abc]`, `[a-z]`, `[^a]` match one byte from (or not from) a class;
//! * `\x` matches `x` literally, also inside a class.
//!
//! Matching works on bytes, not characters. Backtracking on `*` is bounded
//! by remembering only the last star (the classic greedy algorithm), so a
//! hostile pattern such as `*a*a*a*a*b` costs O(pattern x string), not
//! exponential time.

/// True when `string` matches `pattern`.
pub fn glob_match(pattern: &[u8], string: &[u8], nocase: bool) -> bool {
    let eq = |a: u8, b: u8| {
        if nocase {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    let (mut p, mut s) = (0usize, 0usize);
    // Where to resume after the last '*': (pattern index after it, string index).
    let mut star: Option<(usize, usize)> = None;
    while s < string.len() {
        let mut matched = false;
        let mut next_p = p;
        if let Some(&pc) = pattern.get(p) {
            match pc {
                b'*' => {
                    // Collapse consecutive stars.
                    while pattern.get(p) == Some(&b'*') {
                        p += 1;
                    }
                    if p == pattern.len() {
                        return true;
                    }
                    star = Some((p, s));
                    continue;
                }
                b'?' => {
                    matched = true;
                    next_p = p + 1;
                }
                b'[' => {
                    if let Some((ok, end)) = match_class(pattern, p, string[s], nocase) {
                        matched = ok;
                        next_p = end;
                    }
                }
                b'\\' if p + 1 < pattern.len() => {
                    matched = eq(pattern[p + 1], string[s]);
                    next_p = p + 2;
                }
                _ => {
                    matched = eq(pc, string[s]);
                    next_p = p + 1;
                }
            }
        }
        if matched {
            p = next_p;
            s += 1;
        } else if let Some((sp, ss)) = star {
            // Let the last star swallow one more byte and retry.
            p = sp;
            s = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    while pattern.get(p) == Some(&b'*') {
        p += 1;
    }
    p == pattern.len()
}

/// Matches byte `c` against the class starting at `pattern[start] == '['`.
/// Returns (matched, index after the class). An unterminated class runs to
/// the end of the pattern, as in Redis.
fn match_class(pattern: &[u8], start: usize, c: u8, nocase: bool) -> Option<(bool, usize)> {
    let fold = |b: u8| if nocase { b.to_ascii_lowercase() } else { b };
    let c = fold(c);
    let mut i = start + 1;
    let negate = pattern.get(i) == Some(&b'^');
    if negate {
        i += 1;
    }
    let mut found = false;
    loop {
        let Some(&pc) = pattern.get(i) else {
            // Unterminated: Redis treats the end of pattern as the end of the class.
            i = pattern.len();
            break;
        };
        if pc == b']' {
            i += 1;
            break;
        }
        if pc == b'\\' && i + 1 < pattern.len() {
            if fold(pattern[i + 1]) == c {
                found = true;
            }
            i += 2;
        } else if pattern.get(i + 1) == Some(&b'-') && i + 2 < pattern.len() {
            let (mut lo, mut hi) = (fold(pc), fold(pattern[i + 2]));
            if lo > hi {
                std::mem::swap(&mut lo, &mut hi);
            }
            if c >= lo && c <= hi {
                found = true;
            }
            i += 3;
        } else {
            if fold(pc) == c {
                found = true;
            }
            i += 1;
        }
    }
    Some((found != negate, i))
}

#[cfg(test)]
mod tests {
    use super::glob_match;

    #[test]
    fn redis_glob_table() {
        let table: &[(&str, &str, bool)] = &[
            ("*", "anything", true),
            ("*", "", true),
            ("h?llo", "hello", true),
            ("h?llo", "hllo", false),
            ("h*llo", "heeeello", true),
            ("h[ae]llo", "hallo", true),
            ("h[ae]llo", "hillo", false),
            ("h[^e]llo", "hallo", true),
            ("h[^e]llo", "hello", false),
            ("h[a-b]llo", "hbllo", true),
            ("h[a-b]llo", "hcllo", false),
            ("h\\*llo", "h*llo", true),
            ("h\\*llo", "hello", false),
            ("foo*bar", "foo_x_bar", true),
            ("foo*bar", "foo_x_baz", false),
            (
                "*a*a*a*a*a*b",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaac",
                false,
            ),
            ("a*", "a", true),
            ("[", "x", false),
        ];
        for (p, s, want) in table {
            assert_eq!(
                glob_match(p.as_bytes(), s.as_bytes(), false),
                *want,
                "{p} {s}"
            );
        }
        assert!(glob_match(b"HELLO", b"hello", true));
    }
}
