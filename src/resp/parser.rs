//! The request parser: turns the bytes a client sent into command arguments.
//!
//! Redis accepts two request shapes on the same port:
//!
//! ```text
//! multibulk (what every client library sends):
//!     *3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n
//!     ^ argument count, then each argument as "$<len>\r\n<bytes>\r\n"
//!
//! inline (what a human types into telnet):
//!     SET key "hello world"\r\n
//!     ^ one line, split on spaces, with "double" and 'single' quotes
//! ```
//!
//! The parser is stateless and incremental in the httparse style: it looks
//! at the start of the client's read buffer and answers one of
//!
//! * `Ok(Some(consumed))`: one complete request, `consumed` bytes long, whose
//!   arguments were written to the caller's [`Request`];
//! * `Ok(None)`: the request is not complete yet (a normal state: read more);
//! * `Err(ProtocolError)`: the bytes can never become a valid request; the
//!   connection replies with the error and is closed, as Redis does.
//!
//! Multibulk arguments are not copied: the [`Request`] records byte ranges
//! into the read buffer. Inline arguments may contain escapes, so they are
//! decoded into the request's own scratch buffer.
//!
//! Limits and error texts are Redis 7.0's (`processMultibulkBuffer` and
//! `processInlineBuffer` in networking.c describe the behaviour we mirror).

use std::ops::Range;

/// Largest inline request, or multibulk header line, Redis buffers while
/// waiting for its end of line (PROTO_INLINE_MAX_SIZE).
pub const INLINE_MAX_BYTES: usize = 64 * 1024;

/// Largest argument count a multibulk request may announce (Redis 7.0: INT_MAX).
pub const MULTIBULK_MAX_ARGS: i64 = i32::MAX as i64;

/// Upper bound on how many argument slots we reserve up front, so a client
/// announcing two billion arguments cannot make us allocate for them.
const PREALLOC_MAX_ARGS: usize = 1024;

/// A request that can never parse: the text after `-` in the error reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl ProtocolError {
    fn new(what: &str) -> Self {
        ProtocolError(format!("ERR Protocol error: {what}"))
    }
}

/// Where the arguments of a parsed request live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgSource {
    /// Ranges index the client's read buffer (multibulk).
    ReadBuffer,
    /// Ranges index [`Request::inline`] (decoded inline request).
    Inline,
}

/// The arguments of one request, reused from request to request so the hot
/// path does not allocate.
#[derive(Debug)]
pub struct Request {
    /// Byte range of each argument.
    pub ranges: Vec<Range<usize>>,
    /// Which buffer `ranges` index.
    pub source: ArgSource,
    /// Decoded bytes of an inline request's arguments.
    pub inline: Vec<u8>,
}

impl Default for Request {
    fn default() -> Self {
        Self::new()
    }
}

impl Request {
    /// An empty request.
    pub fn new() -> Self {
        Request {
            ranges: Vec::with_capacity(8),
            source: ArgSource::ReadBuffer,
            inline: Vec::new(),
        }
    }

    /// Gives back the memory of a request with many arguments once it ran
    /// (Redis frees a command's argv after each call): an idle connection
    /// keeps only a small table.
    pub fn shrink(&mut self) {
        const KEEP: usize = 64;
        if self.ranges.capacity() > KEEP {
            self.ranges.clear();
            self.ranges.shrink_to(KEEP);
        }
        if self.inline.capacity() > KEEP * 16 {
            self.inline = Vec::new();
        }
    }

    /// Number of arguments (zero for an empty line, which Redis ignores).
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// True for a request with no arguments.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Calls `f` with the arguments as slices. Up to 16 arguments are
    /// gathered on the stack, so ordinary commands cost no allocation.
    pub fn with_args<R>(&self, read_buf: &[u8], f: impl FnOnce(&[&[u8]]) -> R) -> R {
        const STACK_ARGS: usize = 16;
        let base: &[u8] = match self.source {
            ArgSource::ReadBuffer => read_buf,
            ArgSource::Inline => &self.inline,
        };
        let slice = |r: &Range<usize>| base.get(r.clone()).unwrap_or(&[]);
        if self.ranges.len() <= STACK_ARGS {
            let mut stack: [&[u8]; STACK_ARGS] = [&[]; STACK_ARGS];
            for (dst, r) in stack.iter_mut().zip(&self.ranges) {
                *dst = slice(r);
            }
            f(&stack[..self.ranges.len()])
        } else {
            let heap: Vec<&[u8]> = self.ranges.iter().map(slice).collect();
            f(&heap)
        }
    }

    /// The arguments as slices, resolved against `read_buf` when needed.
    pub fn args<'a>(&'a self, read_buf: &'a [u8], out: &mut Vec<&'a [u8]>) {
        out.clear();
        let base: &[u8] = match self.source {
            ArgSource::ReadBuffer => read_buf,
            ArgSource::Inline => &self.inline,
        };
        for r in &self.ranges {
            out.push(base.get(r.clone()).unwrap_or(&[]));
        }
    }
}

/// Parses one request from the start of `buf`. See the module header for
/// the meaning of the result. `max_bulk_bytes` is proto-max-bulk-len.
pub fn parse_request(
    buf: &[u8],
    max_bulk_bytes: usize,
    req: &mut Request,
) -> Result<Option<usize>, ProtocolError> {
    req.ranges.clear();
    match buf.first() {
        None => Ok(None),
        Some(b'*') => parse_multibulk(buf, max_bulk_bytes, false, req),
        Some(_) => parse_inline(buf, req),
    }
}

/// Largest argument count a client may send before it authenticates.
pub const UNAUTH_MAX_ARGS: i64 = 10;
/// Largest argument a client may send before it authenticates.
pub const UNAUTH_MAX_BULK_BYTES: usize = 16384;

/// [`parse_request`] for a client that must still authenticate: like
/// Redis, at most 10 arguments of at most 16 KiB each, so an anonymous
/// peer cannot make the server buffer much.
pub fn parse_request_unauthenticated(
    buf: &[u8],
    req: &mut Request,
) -> Result<Option<usize>, ProtocolError> {
    req.ranges.clear();
    match buf.first() {
        None => Ok(None),
        Some(b'*') => parse_multibulk(buf, UNAUTH_MAX_BULK_BYTES, true, req),
        Some(_) => parse_inline(buf, req),
    }
}

/// Finds the `\r\n` ending the line that starts at `from`; returns the index
/// of the `\r`.
fn find_crlf(buf: &[u8], from: usize) -> Option<usize> {
    let rest = buf.get(from..)?;
    let mut i = 0;
    while let Some(pos) = rest.get(i..)?.iter().position(|&b| b == b'\r') {
        let at = i + pos;
        match rest.get(at + 1) {
            Some(b'\n') => return Some(from + at),
            Some(_) => i = at + 1,
            None => return None,
        }
    }
    None
}

/// Parses a decimal integer the way Redis's `string2ll` does: optional `-`,
/// no `+`, no spaces, no leading zeros, fits in i64.
pub fn parse_i64(s: &[u8]) -> Option<i64> {
    let (neg, digits) = match s {
        [b'-', rest @ ..] => (true, rest),
        _ => (false, s),
    };
    if digits.is_empty() || digits.len() > 19 || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    if neg && digits == b"0" {
        return None;
    }
    let mut v: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        let digit = (d - b'0') as i64;
        v = if neg {
            v.checked_mul(10)?.checked_sub(digit)?
        } else {
            v.checked_mul(10)?.checked_add(digit)?
        };
    }
    Some(v)
}

fn parse_multibulk(
    buf: &[u8],
    max_bulk_bytes: usize,
    unauthenticated: bool,
    req: &mut Request,
) -> Result<Option<usize>, ProtocolError> {
    req.source = ArgSource::ReadBuffer;
    let Some(eol) = find_crlf(buf, 0) else {
        if buf.len() > INLINE_MAX_BYTES {
            return Err(ProtocolError::new("too big mbulk count string"));
        }
        return Ok(None);
    };
    let count = match parse_i64(&buf[1..eol]) {
        Some(n) if n <= MULTIBULK_MAX_ARGS => n,
        _ => return Err(ProtocolError::new("invalid multibulk length")),
    };
    if unauthenticated && count > UNAUTH_MAX_ARGS {
        return Err(ProtocolError::new("unauthenticated multibulk length"));
    }
    let mut pos = eol + 2;
    if count <= 0 {
        // "*0\r\n" and "*-1\r\n" are empty requests: consumed, nothing to run.
        return Ok(Some(pos));
    }
    req.ranges.reserve((count as usize).min(PREALLOC_MAX_ARGS));
    for _ in 0..count {
        let Some(eol) = find_crlf(buf, pos) else {
            if buf.len() - pos > INLINE_MAX_BYTES {
                return Err(ProtocolError::new("too big bulk count string"));
            }
            return Ok(None);
        };
        match buf.get(pos) {
            Some(b'$') => {}
            Some(&c) => {
                return Err(ProtocolError(format!(
                    "ERR Protocol error: expected '$', got '{}'",
                    c as char
                )))
            }
            None => return Ok(None),
        }
        let len = match parse_i64(&buf[pos + 1..eol]) {
            Some(n) if n >= 0 && (n as u64) <= max_bulk_bytes as u64 => n as usize,
            Some(n) if unauthenticated && n > max_bulk_bytes as i64 => {
                return Err(ProtocolError::new("unauthenticated bulk length"))
            }
            _ => return Err(ProtocolError::new("invalid bulk length")),
        };
        let start = eol + 2;
        // Like Redis, the two bytes after the data are skipped, not checked.
        let end = start + len;
        if buf.len() < end + 2 {
            return Ok(None);
        }
        req.ranges.push(start..end);
        pos = end + 2;
    }
    Ok(Some(pos))
}

fn parse_inline(buf: &[u8], req: &mut Request) -> Result<Option<usize>, ProtocolError> {
    req.source = ArgSource::Inline;
    let Some(nl) = buf.iter().position(|&b| b == b'\n') else {
        if buf.len() > INLINE_MAX_BYTES {
            return Err(ProtocolError::new("too big inline request"));
        }
        return Ok(None);
    };
    let mut line = &buf[..nl];
    if let [rest @ .., b'\r'] = line {
        line = rest;
    }
    if !split_args(line, &mut req.inline, &mut req.ranges) {
        return Err(ProtocolError::new("unbalanced quotes in request"));
    }
    Ok(Some(nl + 1))
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\r' | b'\t' | 0x0b | 0x0c)
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// Splits an inline line into arguments the way redis-cli and Redis do
/// (`sdssplitargs`): spaces separate; "double quotes" allow \n \r \t \b \a
/// \xHH and \<any>; 'single quotes' allow only \'. A closing quote must be
/// followed by a space or the end. Returns false on unbalanced quotes.
pub fn split_args(line: &[u8], out: &mut Vec<u8>, ranges: &mut Vec<Range<usize>>) -> bool {
    out.clear();
    ranges.clear();
    let mut i = 0;
    loop {
        while i < line.len() && is_space(line[i]) {
            i += 1;
        }
        if i >= line.len() {
            return true;
        }
        let start = out.len();
        let mut in_dq = false;
        let mut in_sq = false;
        loop {
            let Some(&c) = line.get(i) else {
                if in_dq || in_sq {
                    return false;
                }
                break;
            };
            if in_dq {
                if c == b'\\' && line.get(i + 1) == Some(&b'x') {
                    let hi = line.get(i + 2).copied().and_then(hex_value);
                    let lo = line.get(i + 3).copied().and_then(hex_value);
                    if let (Some(hi), Some(lo)) = (hi, lo) {
                        out.push(hi * 16 + lo);
                        i += 4;
                        continue;
                    }
                }
                if c == b'\\' && i + 1 < line.len() {
                    i += 1;
                    out.push(match line[i] {
                        b'n' => b'\n',
                        b'r' => b'\r',
                        b't' => b'\t',
                        b'b' => 0x08,
                        b'a' => 0x07,
                        other => other,
                    });
                } else if c == b'"' {
                    if line.get(i + 1).is_some_and(|&n| !is_space(n)) {
                        return false;
                    }
                    i += 1;
                    break;
                } else {
                    out.push(c);
                }
            } else if in_sq {
                if c == b'\\' && line.get(i + 1) == Some(&b'\'') {
                    i += 1;
                    out.push(b'\'');
                } else if c == b'\'' {
                    if line.get(i + 1).is_some_and(|&n| !is_space(n)) {
                        return false;
                    }
                    i += 1;
                    break;
                } else {
                    out.push(c);
                }
            } else {
                match c {
                    // Like C's sdssplitargs, a NUL byte ends the whole line.
                    0 => {
                        ranges.push(start..out.len());
                        return true;
                    }
                    b' ' | b'\n' | b'\r' | b'\t' => break,
                    b'"' => in_dq = true,
                    b'\'' => in_sq = true,
                    _ => out.push(c),
                }
            }
            i += 1;
        }
        ranges.push(start..out.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parse outcome: bytes consumed and the arguments.
    type Parsed = Option<(usize, Vec<Vec<u8>>)>;

    fn parse_all(buf: &[u8]) -> Result<Parsed, ProtocolError> {
        let mut req = Request::new();
        let r = parse_request(buf, 512 * 1024 * 1024, &mut req)?;
        Ok(r.map(|n| {
            let mut args = Vec::new();
            req.args(buf, &mut args);
            (n, args.iter().map(|a| a.to_vec()).collect())
        }))
    }

    /// Complete requests: each must parse whole, and every strict prefix of
    /// it must report "incomplete" (the httparse table style).
    #[test]
    fn complete_requests_and_every_prefix() {
        let table: &[(&[u8], &[&[u8]])] = &[
            (b"*1\r\n$4\r\nPING\r\n", &[b"PING"]),
            (
                b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n",
                &[b"SET", b"k", b""],
            ),
            (b"*2\r\n$3\r\nGET\r\n$4\r\na\r\nb\r\n", &[b"GET", b"a\r\nb"]),
            (b"PING\r\n", &[b"PING"]),
            (b"set k \"a b\"\n", &[b"set", b"k", b"a b"]),
            (
                b"echo \"\\x41\\n\" 'it\\'s'\r\n",
                &[b"echo", b"A\n", b"it's"],
            ),
            (b"  get   x  \r\n", &[b"get", b"x"]),
        ];
        for (input, expected) in table {
            let (n, args) = parse_all(input).unwrap().unwrap();
            assert_eq!(n, input.len(), "{:?}", String::from_utf8_lossy(input));
            assert_eq!(&args, expected);
            for cut in 0..input.len() {
                assert_eq!(parse_all(&input[..cut]).unwrap(), None, "prefix {cut}");
            }
        }
    }

    #[test]
    fn nul_byte_ends_an_inline_line() {
        // Found by the fuzzer: this used to loop forever.
        assert_eq!(
            parse_all(b"\x03\x00\n").unwrap(),
            Some((3, vec![b"\x03".to_vec()]))
        );
        assert_eq!(
            parse_all(b"get a\x00b c\n").unwrap(),
            Some((10, vec![b"get".to_vec(), b"a".to_vec()]))
        );
    }

    #[test]
    fn empty_requests_are_consumed() {
        assert_eq!(parse_all(b"*0\r\n").unwrap(), Some((4, vec![])));
        assert_eq!(parse_all(b"*-1\r\n").unwrap(), Some((5, vec![])));
        assert_eq!(parse_all(b"\r\n").unwrap(), Some((2, vec![])));
    }

    #[test]
    fn protocol_errors_use_redis_texts() {
        let table: &[(&[u8], &str)] = &[
            (b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
            (
                b"*3000000000\r\n",
                "ERR Protocol error: invalid multibulk length",
            ),
            (
                b"*1\r\nfoo\r\n",
                "ERR Protocol error: expected '$', got 'f'",
            ),
            (b"*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"),
            (b"*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length"),
            (
                b"*1\r\n$600000000\r\n",
                "ERR Protocol error: invalid bulk length",
            ),
            (
                b"set \"a\r\n",
                "ERR Protocol error: unbalanced quotes in request",
            ),
            (
                b"set \"a\"b\r\n",
                "ERR Protocol error: unbalanced quotes in request",
            ),
        ];
        for (input, text) in table {
            assert_eq!(parse_all(input).unwrap_err().0, *text);
        }
    }

    #[test]
    fn oversized_lines_without_newline() {
        let big = vec![b'a'; INLINE_MAX_BYTES + 1];
        assert_eq!(
            parse_all(&big).unwrap_err().0,
            "ERR Protocol error: too big inline request"
        );
        let mut mb = b"*1".to_vec();
        mb.extend(std::iter::repeat_n(b'1', INLINE_MAX_BYTES));
        assert!(parse_all(&mb).is_err());
    }

    #[test]
    fn integers_follow_string2ll() {
        assert_eq!(parse_i64(b"0"), Some(0));
        assert_eq!(parse_i64(b"-12"), Some(-12));
        assert_eq!(parse_i64(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_i64(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"+1",
            b" 1",
            b"01",
            b"-0",
            b"1a",
            b"9223372036854775808",
        ] {
            assert_eq!(parse_i64(bad), None, "{:?}", bad);
        }
    }

    #[test]
    fn garbage_never_panics() {
        let mut x: u32 = 12345;
        for _ in 0..20000 {
            let mut buf = Vec::new();
            for _ in 0..(x % 40) {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                buf.push(b"*$\r\n0123-\"' ab"[(x % 14) as usize]);
            }
            let _ = parse_all(&buf);
        }
    }

    #[test]
    fn unauthenticated_clients_get_small_limits() {
        let mut req = Request::new();
        let e = parse_request_unauthenticated(b"*100\r\n", &mut req).unwrap_err();
        assert_eq!(e.0, "ERR Protocol error: unauthenticated multibulk length");
        let e = parse_request_unauthenticated(b"*1\r\n$100000000\r\n", &mut req).unwrap_err();
        assert_eq!(e.0, "ERR Protocol error: unauthenticated bulk length");
        let ok = parse_request_unauthenticated(b"*2\r\n$4\r\nAUTH\r\n$2\r\npw\r\n", &mut req);
        assert_eq!(ok.unwrap(), Some(22));
    }
}
