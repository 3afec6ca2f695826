//! The reply buffer: every reply the server sends is built here.
//!
//! Handlers never write bytes by hand; they call methods named after RESP
//! types (`simple`, `error`, `integer`, `bulk`, `array`, `map`, `double`,
//! `null` ...). Each reply is written once, in RESP3 terms, and encoded for
//! the protocol the client chose with HELLO:
//!
//! ```text
//!              RESP2                     RESP3
//! null         $-1\r\n                  _\r\n
//! null array   *-1\r\n                  _\r\n
//! map of n     *<2n>\r\n (flat array)   %<n>\r\n
//! set of n     *<n>\r\n                 ~<n>\r\n
//! double       $<len>\r\n1.5\r\n        ,1.5\r\n
//! boolean      :1\r\n                   #t\r\n
//! push of n    *<n>\r\n                 ><n>\r\n
//! ```
//!
//! All replies of a pipelined batch accumulate in one buffer, which the
//! client loop writes to the socket with a single `write_all`.

use crate::number::format_double;

/// A growing buffer of encoded replies for one client.
#[derive(Debug)]
pub struct ReplyBuf {
    /// The encoded bytes, not yet written to the socket.
    pub buf: Vec<u8>,
    /// 2 or 3: the protocol version chosen with HELLO.
    pub proto: u8,
}

impl Default for ReplyBuf {
    fn default() -> Self {
        Self::new()
    }
}

/// Appends the decimal form of `v` without going through `fmt`.
pub fn push_i64(out: &mut Vec<u8>, v: i64) {
    // Lengths of short bulk strings and small counts: one digit.
    if (0..10).contains(&v) {
        out.push(b'0' + v as u8);
        return;
    }
    let mut buf = [0u8; 20];
    out.extend_from_slice(crate::number::i64_digits(v, &mut buf));
}

impl ReplyBuf {
    /// An empty RESP2 buffer. It allocates on the first reply and keeps
    /// its capacity between batches, so idle connections cost nothing here.
    pub fn new() -> Self {
        ReplyBuf {
            buf: Vec::new(),
            proto: 2,
        }
    }

    /// True when the client speaks RESP3.
    pub fn resp3(&self) -> bool {
        self.proto >= 3
    }

    fn header(&mut self, prefix: u8, n: i64) {
        self.buf.push(prefix);
        push_i64(&mut self.buf, n);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// `+OK`
    pub fn ok(&mut self) {
        self.buf.extend_from_slice(b"+OK\r\n");
    }

    /// A simple string: `+<s>`. `s` must not contain CR or LF.
    pub fn simple(&mut self, s: &str) {
        self.buf.push(b'+');
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An error line: `-<text>`. Newlines in `text` are replaced by spaces
    /// so the reply stays one line, as Redis does.
    pub fn error(&mut self, text: &str) {
        self.buf.push(b'-');
        self.buf.extend(
            text.bytes()
                .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
        );
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer: `:<n>`.
    pub fn integer(&mut self, n: i64) {
        self.header(b':', n);
    }

    /// A bulk string: `$<len>\r\n<bytes>\r\n`.
    pub fn bulk(&mut self, data: &[u8]) {
        self.header(b'$', data.len() as i64);
        self.buf.extend_from_slice(data);
        self.buf.extend_from_slice(b"\r\n");
    }

    /// An integer sent as a bulk string (for example a list element stored as a number).
    pub fn bulk_i64(&mut self, v: i64) {
        let mut tmp = Vec::with_capacity(20);
        push_i64(&mut tmp, v);
        self.bulk(&tmp);
    }

    /// The null bulk string (RESP2 `$-1`, RESP3 `_`).
    pub fn null(&mut self) {
        if self.resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"$-1\r\n");
        }
    }

    /// The null array (RESP2 `*-1`, RESP3 `_`).
    pub fn null_array(&mut self) {
        if self.resp3() {
            self.buf.extend_from_slice(b"_\r\n");
        } else {
            self.buf.extend_from_slice(b"*-1\r\n");
        }
    }

    /// The header of an array of `n` elements.
    pub fn array(&mut self, n: usize) {
        self.header(b'*', n as i64);
    }

    /// The header of a map of `n` key/value pairs (a flat array in RESP2).
    pub fn map(&mut self, n: usize) {
        if self.resp3() {
            self.header(b'%', n as i64);
        } else {
            self.header(b'*', 2 * n as i64);
        }
    }

    /// The header of a set of `n` elements (an array in RESP2).
    pub fn set(&mut self, n: usize) {
        if self.resp3() {
            self.header(b'~', n as i64);
        } else {
            self.header(b'*', n as i64);
        }
    }

    /// The header of an out-of-band push of `n` elements (pub/sub messages).
    pub fn push(&mut self, n: usize) {
        if self.resp3() {
            self.header(b'>', n as i64);
        } else {
            self.header(b'*', n as i64);
        }
    }

    /// A double, formatted as Redis 7.0 prints it (`%.17g`, `inf`, `-inf`).
    pub fn double(&mut self, d: f64) {
        let text = format_double(d);
        if self.resp3() {
            self.buf.push(b',');
            self.buf.extend_from_slice(text.as_bytes());
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text.as_bytes());
        }
    }

    /// A boolean (RESP2 `:1` / `:0`).
    pub fn boolean(&mut self, b: bool) {
        if self.resp3() {
            self.buf
                .extend_from_slice(if b { b"#t\r\n" } else { b"#f\r\n" });
        } else {
            self.integer(b as i64);
        }
    }

    /// A verbatim string (RESP3 `=<len>\r\ntxt:...`), a bulk string in RESP2.
    pub fn verbatim(&mut self, text: &[u8]) {
        if self.resp3() {
            self.header(b'=', text.len() as i64 + 4);
            self.buf.extend_from_slice(b"txt:");
            self.buf.extend_from_slice(text);
            self.buf.extend_from_slice(b"\r\n");
        } else {
            self.bulk(text);
        }
    }

    /// An array of bulk strings.
    pub fn bulk_array<'a, I: IntoIterator<Item = &'a [u8]>>(&mut self, items: I)
    where
        I::IntoIter: ExactSizeIterator,
    {
        let it = items.into_iter();
        self.array(it.len());
        for item in it {
            self.bulk(item);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_each_type_in_both_protocols() {
        let mut r = ReplyBuf::new();
        r.ok();
        r.integer(-42);
        r.bulk(b"hi");
        r.null();
        r.null_array();
        r.map(2);
        r.double(1.5);
        r.boolean(true);
        assert_eq!(
            r.buf,
            b"+OK\r\n:-42\r\n$2\r\nhi\r\n$-1\r\n*-1\r\n*4\r\n$3\r\n1.5\r\n:1\r\n"
        );
        let mut r = ReplyBuf::new();
        r.proto = 3;
        r.null();
        r.map(2);
        r.set(1);
        r.double(f64::INFINITY);
        r.boolean(false);
        r.push(3);
        assert_eq!(r.buf, b"_\r\n%2\r\n~1\r\n,inf\r\n#f\r\n>3\r\n");
    }

    #[test]
    fn errors_stay_on_one_line() {
        let mut r = ReplyBuf::new();
        r.error("ERR bad\r\nthing");
        assert_eq!(r.buf, b"-ERR bad  thing\r\n");
    }

    #[test]
    fn integers_at_the_limits() {
        for v in [0, 7, -7, i64::MAX, i64::MIN] {
            let mut out = Vec::new();
            push_i64(&mut out, v);
            assert_eq!(out, v.to_string().as_bytes());
        }
    }
}
