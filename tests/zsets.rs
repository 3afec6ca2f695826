//! Sorted-set commands against the real binary: replies, errors, RESP3
//! shapes, encodings, and a randomized comparison with a simple model.
//!
//! The expected replies and error texts were taken from redis-server 7.0.15.

mod common;
use common::{bulk, Conn, Reply, Server};

/// An array of bulk strings.
fn arr(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|s| bulk(s)).collect())
}

/// Asserts that `args` fails with exactly `text`.
fn assert_err(c: &mut Conn, args: &[&str], text: &str) {
    assert_eq!(c.cmd(args), Reply::Error(text.into()), "{args:?}");
}

/// An array of bulk strings, from owned strings.
fn strs(items: &[String]) -> Reply {
    Reply::Array(items.iter().map(|s| bulk(s)).collect())
}

fn int(n: i64) -> Reply {
    Reply::Int(n)
}

#[test]
fn zadd_options_and_errors() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ZADD", "z", "1", "a", "2", "b"]), int(2));
    assert_eq!(c.cmd(&["ZADD", "z", "5", "a", "3", "c"]), int(1));
    assert_eq!(
        c.cmd(&["ZADD", "z", "CH", "6", "a", "3", "c", "4", "d"]),
        int(2)
    );
    assert_eq!(c.cmd(&["ZADD", "z", "NX", "100", "a", "7", "e"]), int(1));
    assert_eq!(c.cmd(&["ZSCORE", "z", "a"]), bulk("6"));
    assert_eq!(
        c.cmd(&["ZADD", "z", "XX", "CH", "7", "a", "1", "new"]),
        int(1)
    );
    assert_eq!(c.cmd(&["ZSCORE", "z", "new"]), Reply::Nil);
    assert_eq!(
        c.cmd(&["ZADD", "z", "GT", "CH", "1", "a", "9", "b"]),
        int(1)
    );
    assert_eq!(c.cmd(&["ZMSCORE", "z", "a", "b"]), arr(&["7", "9"]));
    assert_eq!(
        c.cmd(&["ZADD", "z", "LT", "CH", "1", "a", "90", "b"]),
        int(1)
    );
    assert_eq!(c.cmd(&["ZMSCORE", "z", "a", "b"]), arr(&["1", "9"]));
    assert_eq!(c.cmd(&["ZADD", "z", "INCR", "2.5", "a"]), bulk("3.5"));
    assert_eq!(c.cmd(&["ZADD", "z", "GT", "INCR", "-1", "a"]), Reply::Nil);
    assert_eq!(c.cmd(&["ZADD", "z", "NX", "INCR", "1", "a"]), Reply::Nil);
    assert_eq!(c.cmd(&["ZADD", "missing", "XX", "1", "a"]), int(0));
    assert_eq!(
        c.cmd(&["ZADD", "missing", "XX", "INCR", "1", "a"]),
        Reply::Nil
    );
    assert_eq!(c.cmd(&["EXISTS", "missing"]), int(0));

    assert_err(
        &mut c,
        &["ZADD", "z", "XX", "NX", "1", "a"],
        "ERR XX and NX options at the same time are not compatible",
    );
    for opts in [["GT", "LT"], ["GT", "NX"], ["LT", "NX"]] {
        assert_err(
            &mut c,
            &["ZADD", "z", opts[0], opts[1], "1", "a"],
            "ERR GT, LT, and/or NX options at the same time are not compatible",
        );
    }
    assert_err(
        &mut c,
        &["ZADD", "z", "INCR", "1", "a", "2", "b"],
        "ERR INCR option supports a single increment-element pair",
    );
    assert_err(&mut c, &["ZADD", "z", "1", "a", "2"], "ERR syntax error");
    assert_err(&mut c, &["ZADD", "z", "NX", "1"], "ERR syntax error");
    assert_err(
        &mut c,
        &["ZADD", "z", "1"],
        "ERR wrong number of arguments for 'zadd' command",
    );
    assert_err(
        &mut c,
        &["ZADD", "z", "nan", "a"],
        "ERR value is not a valid float",
    );
    // A bad score anywhere adds nothing.
    assert_err(
        &mut c,
        &["ZADD", "z2", "1", "a", "x", "b"],
        "ERR value is not a valid float",
    );
    assert_eq!(c.cmd(&["EXISTS", "z2"]), int(0));
    c.cmd(&["SET", "str", "v"]);
    assert_err(
        &mut c,
        &["ZADD", "str", "1", "a"],
        "WRONGTYPE Operation against a key holding the wrong kind of value",
    );
}

#[test]
fn zincrby_and_nan() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ZINCRBY", "z", "1.5", "a"]), bulk("1.5"));
    assert_eq!(c.cmd(&["ZINCRBY", "z", "-0.5", "a"]), bulk("1"));
    assert_eq!(
        c.cmd(&["ZINCRBY", "z", "0.1", "a"]),
        bulk("1.1000000000000001")
    );
    c.cmd(&["ZADD", "z", "+inf", "i"]);
    assert_err(
        &mut c,
        &["ZINCRBY", "z", "-inf", "i"],
        "ERR resulting score is not a number (NaN)",
    );
    assert_err(
        &mut c,
        &["ZADD", "z", "INCR", "-inf", "i"],
        "ERR resulting score is not a number (NaN)",
    );
    assert_eq!(c.cmd(&["ZSCORE", "z", "i"]), bulk("inf"));
    assert_err(
        &mut c,
        &["ZINCRBY", "z", "x", "a"],
        "ERR value is not a valid float",
    );
    assert_err(
        &mut c,
        &["ZINCRBY", "z", "1", "a", "b"],
        "ERR wrong number of arguments for 'zincrby' command",
    );
}

#[test]
fn zrem_zcard_zscore_zrank() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(c.cmd(&["ZCARD", "z"]), int(3));
    assert_eq!(c.cmd(&["ZCARD", "nokey"]), int(0));
    assert_eq!(c.cmd(&["ZRANK", "z", "c"]), int(2));
    assert_eq!(c.cmd(&["ZREVRANK", "z", "c"]), int(0));
    assert_eq!(c.cmd(&["ZRANK", "z", "x"]), Reply::Nil);
    assert_eq!(c.cmd(&["ZRANK", "nokey", "x"]), Reply::Nil);
    assert_eq!(
        c.cmd(&["ZMSCORE", "z", "x", "b"]),
        Reply::Array(vec![Reply::Nil, bulk("2")])
    );
    assert_eq!(
        c.cmd(&["ZMSCORE", "nokey", "x"]),
        Reply::Array(vec![Reply::Nil])
    );
    assert_eq!(c.cmd(&["ZREM", "z", "a", "x", "b"]), int(2));
    assert_eq!(c.cmd(&["ZREM", "z", "c"]), int(1));
    assert_eq!(c.cmd(&["EXISTS", "z"]), int(0));
    assert_eq!(c.cmd(&["ZREM", "z", "c"]), int(0));
    c.cmd(&["SET", "str", "v"]);
    for args in [
        &["ZCARD", "str"][..],
        &["ZSCORE", "str", "a"],
        &["ZRANK", "str", "a"],
        &["ZREM", "str", "a"],
        &["ZRANGE", "str", "0", "-1"],
    ] {
        assert_err(
            &mut c,
            args,
            "WRONGTYPE Operation against a key holding the wrong kind of value",
        );
    }
}

#[test]
fn zrange_forms() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "0", "-1"]),
        arr(&["a", "b", "c", "d"])
    );
    assert_eq!(c.cmd(&["ZRANGE", "z", "-2", "10"]), arr(&["c", "d"]));
    assert_eq!(c.cmd(&["ZRANGE", "z", "3", "1"]), arr(&[]));
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "0", "1", "WITHSCORES"]),
        arr(&["a", "1", "b", "2"])
    );
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "1", "REV"]), arr(&["d", "c"]));
    assert_eq!(
        c.cmd(&["ZREVRANGE", "z", "0", "1", "WITHSCORES"]),
        arr(&["d", "4", "c", "3"])
    );
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "(1", "3", "BYSCORE"]),
        arr(&["b", "c"])
    );
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "3", "(1", "BYSCORE", "REV"]),
        arr(&["c", "b"])
    );
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2"]),
        arr(&["b", "c"])
    );
    assert_eq!(
        c.cmd(&["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "-1"]),
        arr(&["b", "c", "d"])
    );
    assert_eq!(
        c.cmd(&["ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "-1", "2"]),
        arr(&[])
    );
    assert_eq!(
        c.cmd(&["ZRANGEBYSCORE", "z", "2", "3", "WITHSCORES"]),
        arr(&["b", "2", "c", "3"])
    );
    assert_eq!(
        c.cmd(&["ZREVRANGEBYSCORE", "z", "+inf", "-inf", "LIMIT", "1", "2"]),
        arr(&["c", "b"])
    );
    assert_eq!(c.cmd(&["ZRANGE", "nokey", "0", "-1"]), arr(&[]));

    c.cmd(&["ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"]);
    assert_eq!(c.cmd(&["ZRANGEBYLEX", "lex", "[b", "(d"]), arr(&["b", "c"]));
    assert_eq!(
        c.cmd(&["ZRANGEBYLEX", "lex", "-", "+", "LIMIT", "1", "2"]),
        arr(&["b", "c"])
    );
    assert_eq!(
        c.cmd(&["ZREVRANGEBYLEX", "lex", "+", "(b"]),
        arr(&["d", "c"])
    );
    assert_eq!(
        c.cmd(&["ZRANGE", "lex", "(a", "[c", "BYLEX"]),
        arr(&["b", "c"])
    );
    assert_eq!(c.cmd(&["ZLEXCOUNT", "lex", "[b", "+"]), int(3));
    assert_eq!(c.cmd(&["ZCOUNT", "z", "(1", "+inf"]), int(3));
    assert_eq!(c.cmd(&["ZCOUNT", "nokey", "-inf", "+inf"]), int(0));

    assert_err(
        &mut c,
        &["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"],
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX",
    );
    assert_err(
        &mut c,
        &["ZRANGE", "z", "a", "b", "BYLEX", "WITHSCORES"],
        "ERR syntax error, WITHSCORES not supported in combination with BYLEX",
    );
    assert_err(
        &mut c,
        &["ZRANGEBYSCORE", "z", "0", "1", "REV"],
        "ERR syntax error",
    );
    assert_err(
        &mut c,
        &["ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"],
        "ERR syntax error",
    );
    assert_err(
        &mut c,
        &["ZRANGE", "z", "a", "1"],
        "ERR value is not an integer or out of range",
    );
    assert_err(
        &mut c,
        &["ZRANGEBYSCORE", "z", "a", "1"],
        "ERR min or max is not a float",
    );
    assert_err(
        &mut c,
        &["ZRANGEBYLEX", "z", "a", "+"],
        "ERR min or max not valid string range item",
    );
    assert_err(
        &mut c,
        &["ZCOUNT", "z", "(", "x"],
        "ERR min or max is not a float",
    );
    assert_err(
        &mut c,
        &["ZLEXCOUNT", "z", "x", "+"],
        "ERR min or max not valid string range item",
    );
    assert_err(
        &mut c,
        &["ZRANGEBYSCORE", "z", "0", "1", "LIMIT", "x", "1"],
        "ERR value is not an integer or out of range",
    );
}

#[test]
fn zrangestore() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    assert_eq!(c.cmd(&["ZRANGESTORE", "d", "z", "1", "-1"]), int(2));
    assert_eq!(
        c.cmd(&["ZRANGE", "d", "0", "-1", "WITHSCORES"]),
        arr(&["b", "2", "c", "3"])
    );
    assert_eq!(
        c.cmd(&["ZRANGESTORE", "d", "z", "2", "1", "BYSCORE", "REV"]),
        int(2)
    );
    assert_eq!(c.cmd(&["ZRANGE", "d", "0", "-1"]), arr(&["a", "b"]));
    assert_eq!(
        c.cmd(&["ZRANGESTORE", "d", "z", "5", "6", "BYSCORE"]),
        int(0)
    );
    assert_eq!(c.cmd(&["EXISTS", "d"]), int(0));
    assert_eq!(c.cmd(&["ZRANGESTORE", "d", "nokey", "0", "-1"]), int(0));
    assert_err(
        &mut c,
        &["ZRANGESTORE", "d", "z", "0", "-1", "WITHSCORES"],
        "ERR syntax error",
    );
}

#[test]
fn zremrange_family() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&[
        "ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e",
    ]);
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "z", "0", "0"]), int(1));
    assert_eq!(c.cmd(&["ZREMRANGEBYRANK", "z", "10", "20"]), int(0));
    assert_eq!(c.cmd(&["ZREMRANGEBYSCORE", "z", "(2", "3"]), int(1));
    assert_eq!(c.cmd(&["ZRANGE", "z", "0", "-1"]), arr(&["b", "d", "e"]));
    c.cmd(&["ZADD", "lex", "0", "a", "0", "b", "0", "c"]);
    assert_eq!(c.cmd(&["ZREMRANGEBYLEX", "lex", "[a", "(c"]), int(2));
    assert_eq!(c.cmd(&["ZREMRANGEBYLEX", "lex", "-", "+"]), int(1));
    assert_eq!(c.cmd(&["EXISTS", "lex"]), int(0));
    assert_eq!(
        c.cmd(&["ZREMRANGEBYSCORE", "nokey", "-inf", "+inf"]),
        int(0)
    );
    assert_err(
        &mut c,
        &["ZREMRANGEBYRANK", "z", "a", "1"],
        "ERR value is not an integer or out of range",
    );
    assert_err(
        &mut c,
        &["ZREMRANGEBYSCORE", "z", "a", "1"],
        "ERR min or max is not a float",
    );
    assert_err(
        &mut c,
        &["ZREMRANGEBYLEX", "z", "a", "+"],
        "ERR min or max not valid string range item",
    );
}

#[test]
fn pops() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"]);
    assert_eq!(c.cmd(&["ZPOPMIN", "z"]), arr(&["a", "1"]));
    assert_eq!(c.cmd(&["ZPOPMAX", "z", "2"]), arr(&["d", "4", "c", "3"]));
    assert_eq!(c.cmd(&["ZPOPMIN", "z", "0"]), arr(&[]));
    assert_eq!(c.cmd(&["ZPOPMIN", "nokey"]), arr(&[]));
    assert_eq!(c.cmd(&["ZPOPMIN", "z", "5"]), arr(&["b", "2"]));
    assert_eq!(c.cmd(&["EXISTS", "z"]), int(0));
    assert_err(
        &mut c,
        &["ZPOPMIN", "z", "-1"],
        "ERR value is out of range, must be positive",
    );
    assert_err(&mut c, &["ZPOPMIN", "z", "1", "2"], "ERR syntax error");

    c.cmd(&["ZADD", "z2", "1", "a", "2", "b"]);
    let pairs =
        |items: &[(&str, &str)]| Reply::Array(items.iter().map(|(m, s)| arr(&[m, s])).collect());
    assert_eq!(
        c.cmd(&["ZMPOP", "2", "nokey", "z2", "MAX", "COUNT", "5"]),
        Reply::Array(vec![bulk("z2"), pairs(&[("b", "2"), ("a", "1")])])
    );
    assert_eq!(c.cmd(&["ZMPOP", "1", "z2", "MIN"]), Reply::Nil);
    assert_err(
        &mut c,
        &["ZMPOP", "0", "z", "MIN"],
        "ERR numkeys should be greater than 0",
    );
    assert_err(
        &mut c,
        &["ZMPOP", "a", "z", "MIN"],
        "ERR numkeys should be greater than 0",
    );
    assert_err(&mut c, &["ZMPOP", "2", "z", "MIN"], "ERR syntax error");
    assert_err(&mut c, &["ZMPOP", "1", "z", "FOO"], "ERR syntax error");
    assert_err(
        &mut c,
        &["ZMPOP", "1", "z", "MIN", "COUNT", "0"],
        "ERR count should be greater than 0",
    );
    assert_err(
        &mut c,
        &["ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "2"],
        "ERR syntax error",
    );

    // The blocking forms behave like the plain ones when there is data.
    c.cmd(&["ZADD", "z3", "1", "a", "2", "b"]);
    assert_eq!(
        c.cmd(&["BZPOPMIN", "nokey", "z3", "0"]),
        arr(&["z3", "a", "1"])
    );
    assert_eq!(c.cmd(&["BZPOPMAX", "z3", "0"]), arr(&["z3", "b", "2"]));
    c.cmd(&["ZADD", "z3", "1", "a"]);
    assert_eq!(
        c.cmd(&["BZMPOP", "0", "1", "z3", "MIN"]),
        Reply::Array(vec![bulk("z3"), pairs(&[("a", "1")])])
    );
    assert_err(&mut c, &["BZPOPMIN", "z3", "-1"], "ERR timeout is negative");
    assert_err(
        &mut c,
        &["BZPOPMIN", "z3", "a"],
        "ERR timeout is not a float or out of range",
    );
    assert_err(
        &mut c,
        &["BZMPOP", "0", "0", "z3", "MIN"],
        "ERR numkeys should be greater than 0",
    );
}

#[test]
fn resp3_shapes() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["HELLO", "3"]);
    c.cmd(&["ZADD", "z", "1", "a", "2.5", "b"]);
    let d = |s: &str| Reply::Double(s.into());
    let pair = |m: &str, s: &str| Reply::Array(vec![bulk(m), d(s)]);
    assert_eq!(c.cmd(&["ZSCORE", "z", "b"]), d("2.5"));
    assert_eq!(
        c.cmd(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]),
        Reply::Array(vec![pair("a", "1"), pair("b", "2.5")])
    );
    assert_eq!(
        c.cmd(&["ZUNION", "1", "z", "WITHSCORES"]),
        Reply::Array(vec![pair("a", "1"), pair("b", "2.5")])
    );
    assert_eq!(
        c.cmd(&["ZMSCORE", "z", "a", "x"]),
        Reply::Array(vec![d("1"), Reply::Nil])
    );
    assert_eq!(c.cmd(&["ZADD", "z", "INCR", "1", "a"]), d("2"));
    // Without count a flat pair; with count, pairs.
    assert_eq!(
        c.cmd(&["ZPOPMIN", "z"]),
        Reply::Array(vec![bulk("a"), d("2")])
    );
    assert_eq!(
        c.cmd(&["ZPOPMIN", "z", "1"]),
        Reply::Array(vec![pair("b", "2.5")])
    );
    assert_eq!(c.cmd(&["ZMPOP", "1", "z", "MIN"]), Reply::Nil);
    // ZSCAN's scores stay strings.
    c.cmd(&["ZADD", "z", "1.5", "a"]);
    assert_eq!(
        c.cmd(&["ZSCAN", "z", "0"]),
        Reply::Array(vec![bulk("0"), arr(&["a", "1.5"])])
    );
}

#[test]
fn set_algebra() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["ZADD", "z1", "1", "a", "2", "b", "3", "c"]);
    c.cmd(&["ZADD", "z2", "10", "b", "20", "c", "30", "d"]);
    assert_eq!(
        c.cmd(&["ZUNION", "2", "z1", "z2", "WITHSCORES"]),
        arr(&["a", "1", "b", "12", "c", "23", "d", "30"])
    );
    assert_eq!(
        c.cmd(&["ZINTER", "2", "z1", "z2", "WEIGHTS", "2", "1", "WITHSCORES"]),
        arr(&["b", "14", "c", "26"])
    );
    assert_eq!(
        c.cmd(&["ZINTER", "2", "z1", "z2", "AGGREGATE", "MIN", "WITHSCORES"]),
        arr(&["b", "2", "c", "3"])
    );
    assert_eq!(
        c.cmd(&["ZUNION", "2", "z1", "z2", "AGGREGATE", "MAX"]),
        arr(&["a", "b", "c", "d"])
    );
    assert_eq!(
        c.cmd(&["ZDIFF", "2", "z1", "z2", "WITHSCORES"]),
        arr(&["a", "1"])
    );
    assert_eq!(c.cmd(&["ZUNIONSTORE", "dst", "2", "z1", "z2"]), int(4));
    assert_eq!(c.cmd(&["ZINTERSTORE", "dst", "2", "z1", "z2"]), int(2));
    assert_eq!(
        c.cmd(&["ZRANGE", "dst", "0", "-1", "WITHSCORES"]),
        arr(&["b", "12", "c", "23"])
    );
    assert_eq!(c.cmd(&["ZDIFFSTORE", "dst", "2", "z1", "z1"]), int(0));
    assert_eq!(c.cmd(&["EXISTS", "dst"]), int(0));
    assert_eq!(c.cmd(&["ZINTERCARD", "2", "z1", "z2"]), int(2));
    assert_eq!(
        c.cmd(&["ZINTERCARD", "2", "z1", "z2", "LIMIT", "1"]),
        int(1)
    );
    assert_eq!(
        c.cmd(&["ZUNION", "2", "z1", "nokey"]),
        arr(&["a", "b", "c"])
    );
    // inf * 0 is NaN, which becomes 0.
    c.cmd(&["ZADD", "inf", "inf", "x"]);
    assert_eq!(
        c.cmd(&["ZUNION", "1", "inf", "WEIGHTS", "0", "WITHSCORES"]),
        arr(&["x", "0"])
    );

    assert_err(
        &mut c,
        &["ZUNION", "0", "z1"],
        "ERR at least 1 input key is needed for 'zunion' command",
    );
    assert_err(
        &mut c,
        &["ZUNIONSTORE", "d", "0", "z1"],
        "ERR at least 1 input key is needed for 'zunionstore' command",
    );
    assert_err(
        &mut c,
        &["ZINTERCARD", "0", "z1"],
        "ERR at least 1 input key is needed for 'zintercard' command",
    );
    assert_err(&mut c, &["ZUNION", "3", "z1", "z2"], "ERR syntax error");
    assert_err(
        &mut c,
        &["ZUNION", "1", "z1", "WEIGHTS", "a"],
        "ERR weight value is not a float",
    );
    assert_err(
        &mut c,
        &["ZUNION", "1", "z1", "AGGREGATE", "foo"],
        "ERR syntax error",
    );
    assert_err(
        &mut c,
        &["ZDIFF", "1", "z1", "WEIGHTS", "1"],
        "ERR syntax error",
    );
    assert_err(
        &mut c,
        &["ZUNIONSTORE", "d", "1", "z1", "WITHSCORES"],
        "ERR syntax error",
    );
    assert_err(
        &mut c,
        &["ZINTERCARD", "1", "z1", "LIMIT", "-1"],
        "ERR LIMIT can't be negative",
    );
    c.cmd(&["SET", "str", "v"]);
    assert_err(
        &mut c,
        &["ZUNION", "2", "z1", "str"],
        "WRONGTYPE Operation against a key holding the wrong kind of value",
    );
}

#[test]
fn zrandmember_and_zscan() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["ZADD", "z", "1", "a", "2", "b", "3", "c"]);
    let members = ["a", "b", "c"];
    for _ in 0..20 {
        let one = c.cmd(&["ZRANDMEMBER", "z"]).text();
        assert!(members.contains(&one.as_str()));
    }
    let Reply::Array(all) = c.cmd(&["ZRANDMEMBER", "z", "10"]) else {
        panic!()
    };
    assert_eq!(all.len(), 3);
    let Reply::Array(two) = c.cmd(&["ZRANDMEMBER", "z", "2"]) else {
        panic!()
    };
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    let Reply::Array(many) = c.cmd(&["ZRANDMEMBER", "z", "-7", "WITHSCORES"]) else {
        panic!()
    };
    assert_eq!(many.len(), 14);
    for pair in many.chunks(2) {
        let m = pair[0].text();
        let expected = (members.iter().position(|x| *x == m).unwrap() + 1).to_string();
        assert_eq!(pair[1].text(), expected);
    }
    assert_eq!(c.cmd(&["ZRANDMEMBER", "nokey"]), Reply::Nil);
    assert_eq!(c.cmd(&["ZRANDMEMBER", "nokey", "3"]), arr(&[]));
    assert_eq!(c.cmd(&["ZRANDMEMBER", "z", "0"]), arr(&[]));
    assert_err(
        &mut c,
        &["ZRANDMEMBER", "z", "1", "foo"],
        "ERR syntax error",
    );
    assert_err(
        &mut c,
        &["ZRANDMEMBER", "z", "x"],
        "ERR value is not an integer or out of range",
    );

    assert_eq!(
        c.cmd(&["ZSCAN", "z", "0", "MATCH", "[ab]"]),
        Reply::Array(vec![bulk("0"), arr(&["a", "1", "b", "2"])])
    );
    assert_eq!(
        c.cmd(&["ZSCAN", "nokey", "0"]),
        Reply::Array(vec![bulk("0"), arr(&[])])
    );
    assert_err(
        &mut c,
        &["ZSCAN", "z", "0", "COUNT", "0"],
        "ERR syntax error",
    );
}

#[test]
fn object_encoding_follows_the_listpack_limits() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["ZADD", "z", "1", "a"]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "z"]), bulk("listpack"));
    let long = "x".repeat(65);
    c.cmd(&["ZADD", "z", "2", &long]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    // Converted sets never go back by themselves...
    c.cmd(&["ZREM", "z", &long]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "z"]), bulk("skiplist"));
    // ...but a stored result is judged afresh.
    c.cmd(&["ZUNIONSTORE", "u", "1", "z"]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "u"]), bulk("listpack"));
    c.cmd(&["CONFIG", "SET", "zset-max-listpack-entries", "2"]);
    c.cmd(&["ZADD", "n", "1", "a", "2", "b"]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "n"]), bulk("listpack"));
    c.cmd(&["ZADD", "n", "3", "c"]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "n"]), bulk("skiplist"));
}

/// A tiny deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Formats a score as the server does for the halves used below.
fn fmt(score: f64) -> String {
    format!("{score}")
}

#[test]
fn randomized_against_a_model() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    // member -> score; scores are small halves so that ties are common.
    let mut model: std::collections::BTreeMap<String, f64> = Default::default();
    for step in 0..3000 {
        let member = format!("m{}", rng.below(60));
        let score = rng.below(40) as f64 / 2.0 - 5.0;
        match rng.below(10) {
            0..=4 => {
                let added = c.cmd(&["ZADD", "z", &fmt(score), &member]);
                assert_eq!(
                    added,
                    int(model.insert(member.clone(), score).is_none() as i64)
                );
            }
            5 => {
                let removed = c.cmd(&["ZREM", "z", &member]);
                assert_eq!(removed, int(model.remove(&member).is_some() as i64));
            }
            6 => {
                let new = model.get(&member).copied().unwrap_or(0.0) + score;
                assert_eq!(
                    c.cmd(&["ZINCRBY", "z", &fmt(score), &member]),
                    bulk(&fmt(new))
                );
                model.insert(member.clone(), new);
            }
            _ => {}
        }
        // The model's order: by score, then by member bytes.
        let mut sorted: Vec<(&String, f64)> = model.iter().map(|(m, s)| (m, *s)).collect();
        sorted.sort_by(|a, b| a.1.partial_cmp(&b.1).unwrap().then(a.0.cmp(b.0)));
        let n = sorted.len() as i64;
        if let Some(pos) = sorted.iter().position(|(m, _)| **m == member) {
            assert_eq!(c.cmd(&["ZRANK", "z", &member]), int(pos as i64));
            assert_eq!(c.cmd(&["ZREVRANK", "z", &member]), int(n - 1 - pos as i64));
        } else {
            assert_eq!(c.cmd(&["ZRANK", "z", &member]), Reply::Nil);
        }
        if step % 10 != 0 {
            continue;
        }
        let all: Vec<String> = sorted
            .iter()
            .flat_map(|(m, s)| [m.to_string(), fmt(*s)])
            .collect();
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        assert_eq!(c.cmd(&["ZRANGE", "z", "0", "-1", "WITHSCORES"]), arr(&all));
        // A random rank range, possibly negative.
        let (a, b) = (rng.below(80) as i64 - 40, rng.below(80) as i64 - 40);
        // Redis's clamping, written out.
        let mut start = if a < 0 { a + n } else { a };
        let mut stop = if b < 0 { b + n } else { b };
        start = start.max(0);
        let expected: Vec<&str> = if start > stop || start >= n {
            vec![]
        } else {
            stop = stop.min(n - 1);
            sorted[start as usize..=stop as usize]
                .iter()
                .map(|(m, _)| m.as_str())
                .collect()
        };
        assert_eq!(
            c.cmd(&["ZRANGE", "z", &a.to_string(), &b.to_string()]),
            arr(&expected),
            "ZRANGE {a} {b}"
        );
        // A random score range with exclusive bounds and LIMIT, both ways.
        let lo = rng.below(40) as f64 / 2.0 - 8.0;
        let hi = lo + rng.below(20) as f64 / 2.0;
        let (offset, count) = (rng.below(5), rng.below(8) as i64 - 1);
        let in_range: Vec<String> = sorted
            .iter()
            .filter(|(_, s)| *s > lo && *s <= hi)
            .map(|(m, _)| m.to_string())
            .collect();
        let take = |v: Vec<String>| -> Vec<String> {
            let rest = v.into_iter().skip(offset as usize);
            if count < 0 {
                rest.collect()
            } else {
                rest.take(count as usize).collect()
            }
        };
        let lo_arg = format!("({}", fmt(lo));
        let (off_arg, count_arg) = (offset.to_string(), count.to_string());
        assert_eq!(
            c.cmd(&[
                "ZRANGEBYSCORE",
                "z",
                &lo_arg,
                &fmt(hi),
                "LIMIT",
                &off_arg,
                &count_arg
            ]),
            strs(&take(in_range.clone()))
        );
        assert_eq!(
            c.cmd(&[
                "ZREVRANGEBYSCORE",
                "z",
                &fmt(hi),
                &lo_arg,
                "LIMIT",
                &off_arg,
                &count_arg
            ]),
            strs(&take(in_range.iter().rev().cloned().collect()))
        );
        assert_eq!(
            c.cmd(&["ZCOUNT", "z", &lo_arg, &fmt(hi)]),
            int(in_range.len() as i64)
        );
        assert_eq!(c.cmd(&["ZCARD", "z"]), int(n));
    }
}

#[test]
fn randomized_lex_ranges() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut rng = Rng(12345);
    let mut model = std::collections::BTreeSet::new();
    for _ in 0..200 {
        let m: String = (0..1 + rng.below(3))
            .map(|_| (b'a' + rng.below(5) as u8) as char)
            .collect();
        c.cmd(&["ZADD", "lex", "0", &m]);
        model.insert(m);
    }
    for _ in 0..200 {
        let pick = |rng: &mut Rng| -> (String, std::ops::Bound<String>) {
            let m: String = (0..1 + rng.below(2))
                .map(|_| (b'a' + rng.below(5) as u8) as char)
                .collect();
            if rng.below(2) == 0 {
                (format!("[{m}"), std::ops::Bound::Included(m))
            } else {
                (format!("({m}"), std::ops::Bound::Excluded(m))
            }
        };
        let (min_arg, min) = pick(&mut rng);
        let (max_arg, max) = pick(&mut rng);
        let valid = match (&min, &max) {
            (std::ops::Bound::Included(a), std::ops::Bound::Included(b)) => a <= b,
            (
                std::ops::Bound::Included(a) | std::ops::Bound::Excluded(a),
                std::ops::Bound::Included(b) | std::ops::Bound::Excluded(b),
            ) => a < b,
            _ => true,
        };
        let expected: Vec<&str> = if valid {
            model.range((min, max)).map(String::as_str).collect()
        } else {
            vec![]
        };
        assert_eq!(
            c.cmd(&["ZRANGEBYLEX", "lex", &min_arg, &max_arg]),
            arr(&expected),
            "{min_arg} {max_arg}"
        );
        assert_eq!(
            c.cmd(&["ZLEXCOUNT", "lex", &min_arg, &max_arg]),
            int(expected.len() as i64)
        );
    }
}

#[test]
fn blocking_pops_wait_for_a_push() {
    let s = Server::start(&[]);
    let mut waiter = s.conn();
    let mut c = s.conn();
    waiter.send(&["BZPOPMIN", "a", "b", "0"]);
    assert!(common::wait_for(10, || {
        c.cmd(&["INFO", "clients"])
            .text()
            .contains("blocked_clients:1")
    }));
    c.cmd(&["ZADD", "b", "5", "x", "6", "y"]);
    assert_eq!(waiter.read_reply(), arr(&["b", "x", "5"]));
    waiter.send(&["BZMPOP", "0", "1", "c", "MAX", "COUNT", "5"]);
    assert!(common::wait_for(10, || {
        c.cmd(&["INFO", "clients"])
            .text()
            .contains("blocked_clients:1")
    }));
    c.cmd(&["ZADD", "c", "1", "p", "2", "q"]);
    assert_eq!(
        waiter.read_reply(),
        Reply::Array(vec![
            bulk("c"),
            Reply::Array(vec![arr(&["q", "2"]), arr(&["p", "1"])])
        ])
    );
    // A timeout answers null.
    assert_eq!(waiter.cmd(&["BZPOPMAX", "none", "0.01"]), Reply::Nil);
}
