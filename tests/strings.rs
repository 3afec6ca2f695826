//! String commands against the real binary: every command of the family,
//! its options and its error replies, checked byte for byte against what
//! Redis 7.0 answers.

mod common;
use common::{bulk, Reply, Server};

fn ok() -> Reply {
    Reply::Status("OK".into())
}

fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

#[test]
fn set_get_and_options() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    assert_eq!(c.cmd(&["GET", "nokey"]), Reply::Nil);
    assert_eq!(c.cmd(&["SET", "k", "v2", "NX"]), Reply::Nil);
    assert_eq!(c.cmd(&["SET", "k2", "v", "XX"]), Reply::Nil);
    assert_eq!(c.cmd(&["SET", "k", "v3", "XX", "GET"]), bulk("v"));
    assert_eq!(c.cmd(&["SET", "new", "x", "NX", "GET"]), Reply::Nil);
    assert_eq!(c.cmd(&["SET", "k", "v", "EX", "100"]), ok());
    assert!(matches!(c.cmd(&["TTL", "k"]), Reply::Int(t) if (99..=100).contains(&t)));
    assert_eq!(c.cmd(&["SET", "k", "w", "KEEPTTL"]), ok());
    assert!(matches!(c.cmd(&["TTL", "k"]), Reply::Int(t) if t > 0));
    assert_eq!(c.cmd(&["SET", "k", "w"]), ok());
    assert_eq!(c.cmd(&["TTL", "k"]), Reply::Int(-1));
    assert_eq!(c.cmd(&["SET", "k", "w", "PX", "100000"]), ok());
    assert_eq!(c.cmd(&["SET", "k", "w", "EXAT", "4102444800"]), ok());
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), Reply::Int(4102444800));
    assert_eq!(c.cmd(&["SET", "k", "w", "PXAT", "4102444800000"]), ok());
    assert_eq!(c.cmd(&["PEXPIRETIME", "k"]), Reply::Int(4102444800000));
    // Invalid combinations and values.
    for bad in [
        &["SET", "k", "v", "NX", "XX"][..],
        &["SET", "k", "v", "EX", "10", "PX", "100"],
        &["SET", "k", "v", "EX", "10", "KEEPTTL"],
        &["SET", "k", "v", "EX"],
        &["SET", "k", "v", "FOO"],
    ] {
        assert_eq!(c.cmd(bad), err("ERR syntax error"), "{bad:?}");
    }
    assert_eq!(
        c.cmd(&["SET", "k", "v", "EX", "0"]),
        err("ERR invalid expire time in 'set' command")
    );
    assert_eq!(
        c.cmd(&["SET", "k", "v", "EX", "-1"]),
        err("ERR invalid expire time in 'set' command")
    );
    assert_eq!(
        c.cmd(&["SET", "k", "v", "EX", "abc"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["SET", "k"]),
        err("ERR wrong number of arguments for 'set' command")
    );
    assert_eq!(
        c.cmd(&["GET"]),
        err("ERR wrong number of arguments for 'get' command")
    );
}

#[test]
fn set_variants_and_getters() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SETNX", "a", "1"]), Reply::Int(1));
    assert_eq!(c.cmd(&["SETNX", "a", "2"]), Reply::Int(0));
    assert_eq!(c.cmd(&["SETEX", "b", "100", "x"]), ok());
    assert!(matches!(c.cmd(&["TTL", "b"]), Reply::Int(t) if t > 0));
    assert_eq!(
        c.cmd(&["SETEX", "b", "0", "x"]),
        err("ERR invalid expire time in 'setex' command")
    );
    assert_eq!(c.cmd(&["PSETEX", "c", "100000", "y"]), ok());
    assert_eq!(
        c.cmd(&["PSETEX", "c", "-5", "y"]),
        err("ERR invalid expire time in 'psetex' command")
    );
    assert_eq!(c.cmd(&["GETSET", "a", "9"]), bulk("1"));
    assert_eq!(c.cmd(&["GETSET", "none", "9"]), Reply::Nil);
    assert_eq!(c.cmd(&["GETDEL", "a"]), bulk("9"));
    assert_eq!(c.cmd(&["GETDEL", "a"]), Reply::Nil);
    assert_eq!(c.cmd(&["GETEX", "b", "PERSIST"]), bulk("x"));
    assert_eq!(c.cmd(&["TTL", "b"]), Reply::Int(-1));
    assert_eq!(c.cmd(&["GETEX", "b", "EX", "50"]), bulk("x"));
    assert!(matches!(c.cmd(&["TTL", "b"]), Reply::Int(t) if t > 0));
    assert_eq!(
        c.cmd(&["GETEX", "b", "EX", "1", "PX", "1"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["GETEX", "b", "EX", "0"]),
        err("ERR invalid expire time in 'getex' command")
    );
    assert_eq!(c.cmd(&["GETEX", "nokey"]), Reply::Nil);
    assert_eq!(c.cmd(&["MSET", "x", "1", "y", "2"]), ok());
    assert_eq!(
        c.cmd(&["MSET", "x", "1", "y"]),
        err("ERR wrong number of arguments for 'mset' command")
    );
    assert_eq!(
        c.cmd(&["MGET", "x", "nokey", "y"]),
        Reply::Array(vec![bulk("1"), Reply::Nil, bulk("2")])
    );
    assert_eq!(c.cmd(&["MSETNX", "x", "5", "z", "6"]), Reply::Int(0));
    assert_eq!(c.cmd(&["EXISTS", "z"]), Reply::Int(0));
    assert_eq!(c.cmd(&["MSETNX", "z", "6", "w", "7"]), Reply::Int(1));
}

#[test]
fn append_strlen_ranges() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["APPEND", "s", "Hello"]), Reply::Int(5));
    assert_eq!(c.cmd(&["APPEND", "s", " World"]), Reply::Int(11));
    assert_eq!(c.cmd(&["STRLEN", "s"]), Reply::Int(11));
    assert_eq!(c.cmd(&["STRLEN", "nokey"]), Reply::Int(0));
    assert_eq!(c.cmd(&["GETRANGE", "s", "0", "4"]), bulk("Hello"));
    assert_eq!(c.cmd(&["GETRANGE", "s", "-5", "-1"]), bulk("World"));
    assert_eq!(c.cmd(&["GETRANGE", "s", "5", "2"]), bulk(""));
    assert_eq!(c.cmd(&["SUBSTR", "s", "0", "0"]), bulk("H"));
    assert_eq!(
        c.cmd(&["GETRANGE", "s", "a", "1"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.cmd(&["SETRANGE", "s", "6", "Redis"]), Reply::Int(11));
    assert_eq!(c.cmd(&["GET", "s"]), bulk("Hello Redis"));
    assert_eq!(c.cmd(&["SETRANGE", "pad", "3", "x"]), Reply::Int(4));
    assert_eq!(c.cmd(&["GET", "pad"]), Reply::Bulk(b"\0\0\0x".to_vec()));
    assert_eq!(
        c.cmd(&["SETRANGE", "s", "-1", "x"]),
        err("ERR offset is out of range")
    );
    assert_eq!(
        c.cmd(&["SETRANGE", "s", "536870912", "x"]),
        err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
    );
    assert_eq!(c.cmd(&["SETRANGE", "empty", "0", ""]), Reply::Int(0));
    assert_eq!(c.cmd(&["EXISTS", "empty"]), Reply::Int(0));
}

#[test]
fn counters() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["INCR", "n"]), Reply::Int(1));
    assert_eq!(c.cmd(&["INCRBY", "n", "10"]), Reply::Int(11));
    assert_eq!(c.cmd(&["DECR", "n"]), Reply::Int(10));
    assert_eq!(c.cmd(&["DECRBY", "n", "20"]), Reply::Int(-10));
    assert_eq!(c.cmd(&["SET", "big", "9223372036854775807"]), ok());
    assert_eq!(
        c.cmd(&["INCR", "big"]),
        err("ERR increment or decrement would overflow")
    );
    assert_eq!(
        c.cmd(&["DECRBY", "n", "-9223372036854775808"]),
        err("ERR decrement would overflow")
    );
    assert_eq!(c.cmd(&["SET", "s", "abc"]), ok());
    assert_eq!(
        c.cmd(&["INCR", "s"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["INCRBY", "n", "1.5"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.cmd(&["SET", "f", "10.50"]), ok());
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f", "0.1"]), bulk("10.6"));
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f", "-5"]), bulk("5.6"));
    assert_eq!(c.cmd(&["INCRBYFLOAT", "g", "5.0e3"]), bulk("5000"));
    assert_eq!(
        c.cmd(&["INCRBYFLOAT", "f", "abc"]),
        err("ERR value is not a valid float")
    );
    assert_eq!(
        c.cmd(&["INCRBYFLOAT", "s", "1"]),
        err("ERR value is not a valid float")
    );
    assert_eq!(
        c.cmd(&["INCRBYFLOAT", "f", "inf"]),
        err("ERR increment would produce NaN or Infinity")
    );
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "n"]), bulk("int"));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "s"]), bulk("embstr"));
    assert_eq!(c.cmd(&["APPEND", "s", "d"]), Reply::Int(4));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "s"]), bulk("raw"));
}

#[test]
fn lcs() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["MSET", "a", "ohmytext", "b", "mynewtext"]);
    assert_eq!(c.cmd(&["LCS", "a", "b"]), bulk("mytext"));
    assert_eq!(c.cmd(&["LCS", "a", "b", "LEN"]), Reply::Int(6));
    let idx = c.cmd(&["LCS", "a", "b", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN"]);
    assert_eq!(
        idx,
        Reply::Array(vec![
            bulk("matches"),
            Reply::Array(vec![Reply::Array(vec![
                Reply::Array(vec![Reply::Int(4), Reply::Int(7)]),
                Reply::Array(vec![Reply::Int(5), Reply::Int(8)]),
                Reply::Int(4),
            ])]),
            bulk("len"),
            Reply::Int(6),
        ])
    );
    assert_eq!(
        c.cmd(&["LCS", "a", "b", "LEN", "IDX"]),
        err("ERR If you want both the length and indexes, please just use IDX.")
    );
    assert_eq!(c.cmd(&["LCS", "a", "b", "FOO"]), err("ERR syntax error"));
}

/// Strings around the 22-byte inline limit keep their bytes and Redis's
/// encodings: int, embstr up to 44 bytes, raw beyond or once edited in
/// place, and int again after INCR (a new integer object in Redis).
#[test]
fn inline_and_heap_strings_keep_bytes_and_encodings() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let enc = |c: &mut common::Conn, k: &str| c.cmd(&["OBJECT", "ENCODING", k]);
    for n in [0usize, 21, 22, 23, 44, 45, 100] {
        let v = "v".repeat(n);
        c.cmd(&["SET", "k", &v]);
        assert_eq!(c.cmd(&["GET", "k"]), bulk(&v), "length {n}");
        let want = if n <= 44 { "embstr" } else { "raw" };
        assert_eq!(enc(&mut c, "k"), bulk(want), "length {n}");
    }
    c.cmd(&["SET", "k", "abc"]);
    assert_eq!(
        c.cmd(&["APPEND", "k", "defghijklmnopqrstuvwxyz"]),
        Reply::Int(26)
    );
    assert_eq!(c.cmd(&["GET", "k"]), bulk("abcdefghijklmnopqrstuvwxyz"));
    assert_eq!(enc(&mut c, "k"), bulk("raw"));
    c.cmd(&["SET", "n", "41"]);
    c.cmd(&["APPEND", "n", "0"]);
    assert_eq!(enc(&mut c, "n"), bulk("raw"));
    assert_eq!(c.cmd(&["INCR", "n"]), Reply::Int(411));
    assert_eq!(enc(&mut c, "n"), bulk("int"));
    assert_eq!(
        c.cmd(&["DECRBY", "n", "-9223372036854775396"]),
        Reply::Int(i64::MAX)
    );
    assert_eq!(c.cmd(&["GET", "n"]), bulk("9223372036854775807"));
    // Keys longer than the inline limit work as well as short ones.
    let long_key = "k".repeat(300);
    c.cmd(&["SET", &long_key, "x"]);
    assert_eq!(c.cmd(&["GET", &long_key]), bulk("x"));
    assert_eq!(c.cmd(&["EXISTS", &long_key]), Reply::Int(1));
}

#[test]
fn setrange_on_a_new_key_allocates_exactly_its_length() {
    // Redis sizes the new string exactly; a doubled capacity would cost
    // twice the memory (and count twice against maxmemory).
    let server = Server::start(&[]);
    let mut c = server.conn();
    assert_eq!(
        c.cmd(&["SETRANGE", "big", "100000", "x"]),
        Reply::Int(100001)
    );
    let Reply::Int(usage) = c.cmd(&["MEMORY", "USAGE", "big"]) else {
        panic!("MEMORY USAGE must answer an integer");
    };
    assert!((100001..150000).contains(&usage), "MEMORY USAGE {usage}");
}
