//! SORT and SORT_RO against the real binary. Sorted sets and strings are
//! enough to exercise every option; the stored result (a list) is read back
//! with `SORT dst BY nosort`, which keeps a list's order.
//!
//! The expected replies and error texts were taken from redis-server 7.0.15.

mod common;
use common::{bulk, Conn, Reply, Server};

fn arr(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|s| bulk(s)).collect())
}

fn assert_err(c: &mut Conn, args: &[&str], text: &str) {
    assert_eq!(c.cmd(args), Reply::Error(text.into()), "{args:?}");
}

/// A sorted set whose score order (c a b d) differs from the members'
/// numeric order (10 2 3 1 as set below) and alphabetical order.
fn setup(c: &mut Conn) {
    c.cmd(&["ZADD", "z", "1", "c", "2", "a", "3", "b", "4", "d"]);
    c.cmd(&["ZADD", "n", "1", "10", "2", "2", "3", "3", "4", "1"]);
    c.cmd(&["MSET", "w_a", "3", "w_b", "1", "w_c", "2", "w_d", "0.5"]);
    c.cmd(&["MSET", "o_a", "A", "o_b", "B", "o_c", "C"]);
}

#[test]
fn numeric_alpha_desc_limit() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    setup(&mut c);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "n"]), bulk("listpack"));
    assert_eq!(c.cmd(&["SORT", "n"]), arr(&["1", "2", "3", "10"]));
    // As in Redis, SORT converts the sorted set it reads.
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "n"]), bulk("skiplist"));
    assert_eq!(c.cmd(&["SORT", "n", "DESC"]), arr(&["10", "3", "2", "1"]));
    assert_eq!(c.cmd(&["SORT", "n", "ALPHA"]), arr(&["1", "10", "2", "3"]));
    assert_eq!(c.cmd(&["SORT", "n", "LIMIT", "1", "2"]), arr(&["2", "3"]));
    assert_eq!(c.cmd(&["SORT", "n", "LIMIT", "-5", "2"]), arr(&["1", "2"]));
    assert_eq!(c.cmd(&["SORT", "n", "LIMIT", "10", "2"]), arr(&[]));
    assert_eq!(
        c.cmd(&["SORT", "z", "ALPHA", "DESC", "LIMIT", "0", "-1"]),
        arr(&["d", "c", "b", "a"])
    );
    assert_eq!(c.cmd(&["SORT", "nokey"]), arr(&[]));
    assert_eq!(
        c.cmd(&["SORT_RO", "n", "DESC"]),
        arr(&["10", "3", "2", "1"])
    );
}

#[test]
fn by_and_get_patterns() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    setup(&mut c);
    assert_eq!(
        c.cmd(&["SORT", "z", "BY", "w_*"]),
        arr(&["d", "b", "c", "a"])
    );
    assert_eq!(
        c.cmd(&["SORT", "z", "BY", "w_*", "GET", "#", "GET", "o_*"]),
        Reply::Array(vec![
            bulk("d"),
            Reply::Nil,
            bulk("b"),
            bulk("B"),
            bulk("c"),
            bulk("C"),
            bulk("a"),
            bulk("A"),
        ])
    );
    // BY with ALPHA reads the weights as bytes; missing ones sort first.
    c.cmd(&["MSET", "s_a", "x", "s_b", "y"]);
    assert_eq!(
        c.cmd(&["SORT", "z", "BY", "s_*", "ALPHA", "LIMIT", "2", "2"]),
        arr(&["a", "b"])
    );
    // Missing numeric weights count as 0, ties go by the element's bytes.
    assert_eq!(
        c.cmd(&["SORT", "z", "BY", "nothing_*"]),
        arr(&["a", "b", "c", "d"])
    );
    // GET of a pattern without '*' finds nothing.
    assert_eq!(
        c.cmd(&["SORT", "n", "LIMIT", "0", "1", "GET", "const"]),
        Reply::Array(vec![Reply::Nil])
    );
}

#[test]
fn nosort_keeps_the_sorted_set_order() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    setup(&mut c);
    assert_eq!(
        c.cmd(&["SORT", "z", "BY", "nosort"]),
        arr(&["c", "a", "b", "d"])
    );
    assert_eq!(
        c.cmd(&["SORT", "z", "BY", "nosort", "DESC"]),
        arr(&["d", "b", "a", "c"])
    );
    assert_eq!(
        c.cmd(&["SORT", "z", "BY", "nosort", "LIMIT", "1", "2"]),
        arr(&["a", "b"])
    );
    assert_eq!(
        c.cmd(&["SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "2"]),
        arr(&["b", "a"])
    );
}

#[test]
fn store_writes_a_list() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    setup(&mut c);
    assert_eq!(
        c.cmd(&["SORT", "z", "BY", "w_*", "GET", "o_*", "STORE", "dst"]),
        Reply::Int(4)
    );
    assert_eq!(c.cmd(&["TYPE", "dst"]), Reply::Status("list".into()));
    // Missing GET values are stored as empty strings.
    assert_eq!(
        c.cmd(&["SORT", "dst", "BY", "nosort"]),
        arr(&["", "B", "C", "A"])
    );
    assert_eq!(c.cmd(&["SORT", "n", "STORE", "dst"]), Reply::Int(4));
    assert_eq!(
        c.cmd(&["SORT", "dst", "BY", "nosort"]),
        arr(&["1", "2", "3", "10"])
    );
    // An empty result deletes the destination.
    assert_eq!(c.cmd(&["SORT", "nokey", "STORE", "dst"]), Reply::Int(0));
    assert_eq!(c.cmd(&["EXISTS", "dst"]), Reply::Int(0));
}

#[test]
fn errors() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    setup(&mut c);
    assert_err(
        &mut c,
        &["SORT", "z"],
        "ERR One or more scores can't be converted into double",
    );
    c.cmd(&["SET", "w_a", "notanumber"]);
    assert_err(
        &mut c,
        &["SORT", "z", "BY", "w_*"],
        "ERR One or more scores can't be converted into double",
    );
    assert_err(&mut c, &["SORT", "n", "LIMIT", "1"], "ERR syntax error");
    assert_err(
        &mut c,
        &["SORT", "n", "LIMIT", "a", "1"],
        "ERR value is not an integer or out of range",
    );
    assert_err(&mut c, &["SORT", "n", "FOO"], "ERR syntax error");
    assert_err(
        &mut c,
        &["SORT_RO", "n", "STORE", "dst"],
        "ERR syntax error",
    );
    assert_err(
        &mut c,
        &["SORT", "w_b"],
        "WRONGTYPE Operation against a key holding the wrong kind of value",
    );
}

#[test]
fn lists_sets_and_hash_fields() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["RPUSH", "l", "3", "1", "2"]);
    assert_eq!(c.cmd(&["SORT", "l"]), arr(&["1", "2", "3"]));
    assert_eq!(c.cmd(&["SORT", "l", "BY", "nosort"]), arr(&["3", "1", "2"]));
    assert_eq!(
        c.cmd(&["SORT", "l", "BY", "nosort", "DESC"]),
        arr(&["2", "1", "3"])
    );
    assert_eq!(
        c.cmd(&["SORT", "l", "BY", "nosort", "LIMIT", "1", "1"]),
        arr(&["1"])
    );
    c.cmd(&["SADD", "s", "b", "c", "a"]);
    assert_eq!(c.cmd(&["SORT", "s", "ALPHA"]), arr(&["a", "b", "c"]));
    // A set stored BY nosort is sorted anyway, so the result is deterministic.
    assert_eq!(
        c.cmd(&["SORT", "s", "BY", "nosort", "STORE", "dst"]),
        Reply::Int(3)
    );
    assert_eq!(c.cmd(&["LRANGE", "dst", "0", "-1"]), arr(&["a", "b", "c"]));
    c.cmd(&["HSET", "h_1", "w", "30", "name", "one"]);
    c.cmd(&["HSET", "h_2", "w", "10", "name", "two"]);
    c.cmd(&["HSET", "h_3", "w", "20"]);
    assert_eq!(
        c.cmd(&["SORT", "l", "BY", "h_*->w", "GET", "h_*->name", "GET", "#"]),
        Reply::Array(vec![
            bulk("two"),
            bulk("2"),
            Reply::Nil,
            bulk("3"),
            bulk("one"),
            bulk("1")
        ])
    );
    // A trailing "->" is part of the key name, not a field dereference.
    assert_eq!(
        c.cmd(&["SORT", "l", "GET", "h_*->"]),
        Reply::Array(vec![Reply::Nil, Reply::Nil, Reply::Nil])
    );
}
