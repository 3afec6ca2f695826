//! List commands and blocking pops, against the real binary. Every
//! expectation here was checked against Redis 7.0.15.

mod common;
use common::{bulk, wait_for, Conn, Reply, Server};

fn arr(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|s| bulk(s)).collect())
}

fn ints(items: &[i64]) -> Reply {
    Reply::Array(items.iter().map(|&i| Reply::Int(i)).collect())
}

fn err(text: &str) -> Reply {
    Reply::Error(text.into())
}

fn ok() -> Reply {
    Reply::Status("OK".into())
}

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn blocked_clients(c: &mut Conn) -> i64 {
    let info = c.cmd(&["INFO", "clients"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix("blocked_clients:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("blocked_clients in INFO")
}

fn wait_blocked(c: &mut Conn, n: i64) {
    assert!(
        wait_for(10, || blocked_clients(c) == n),
        "blocked_clients never reached {n}"
    );
}

#[test]
fn push_len_range_index() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["LPUSH", "l", "a", "b", "c"]), Reply::Int(3));
    assert_eq!(c.cmd(&["RPUSH", "l", "0", "1"]), Reply::Int(5));
    assert_eq!(
        c.cmd(&["LRANGE", "l", "0", "-1"]),
        arr(&["c", "b", "a", "0", "1"])
    );
    assert_eq!(c.cmd(&["LRANGE", "l", "-2", "100"]), arr(&["0", "1"]));
    assert_eq!(c.cmd(&["LRANGE", "l", "3", "1"]), arr(&[]));
    assert_eq!(c.cmd(&["LRANGE", "nokey", "0", "-1"]), arr(&[]));
    assert_eq!(
        c.cmd(&["LRANGE", "l", "x", "1"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.cmd(&["LLEN", "l"]), Reply::Int(5));
    assert_eq!(c.cmd(&["LLEN", "nokey"]), Reply::Int(0));
    assert_eq!(c.cmd(&["LINDEX", "l", "0"]), bulk("c"));
    assert_eq!(c.cmd(&["LINDEX", "l", "-1"]), bulk("1"));
    assert_eq!(c.cmd(&["LINDEX", "l", "5"]), Reply::Nil);
    assert_eq!(c.cmd(&["LINDEX", "l", "-6"]), Reply::Nil);
    // The key is looked up before the index is parsed.
    assert_eq!(c.cmd(&["LINDEX", "nokey", "x"]), Reply::Nil);
    assert_eq!(
        c.cmd(&["LINDEX", "l", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "l"]), bulk("quicklist"));
    assert_eq!(c.cmd(&["TYPE", "l"]), Reply::Status("list".into()));
}

#[test]
fn pushx_only_on_existing_lists() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["LPUSHX", "l", "a"]), Reply::Int(0));
    assert_eq!(c.cmd(&["RPUSHX", "l", "a"]), Reply::Int(0));
    assert_eq!(c.cmd(&["EXISTS", "l"]), Reply::Int(0));
    c.cmd(&["RPUSH", "l", "m"]);
    assert_eq!(c.cmd(&["LPUSHX", "l", "b", "a"]), Reply::Int(3));
    assert_eq!(c.cmd(&["RPUSHX", "l", "y", "z"]), Reply::Int(5));
    assert_eq!(
        c.cmd(&["LRANGE", "l", "0", "-1"]),
        arr(&["a", "b", "m", "y", "z"])
    );
}

#[test]
fn wrong_type_everywhere() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["SET", "s", "x"]);
    let cases: &[&[&str]] = &[
        &["LPUSH", "s", "a"],
        &["RPUSH", "s", "a"],
        &["LPUSHX", "s", "a"],
        &["RPUSHX", "s", "a"],
        &["LLEN", "s"],
        &["LRANGE", "s", "0", "1"],
        &["LINDEX", "s", "0"],
        &["LSET", "s", "0", "a"],
        &["LINSERT", "s", "BEFORE", "a", "b"],
        &["LREM", "s", "0", "a"],
        &["LTRIM", "s", "0", "1"],
        &["LPOS", "s", "a"],
        &["LPOP", "s"],
        &["RPOP", "s", "2"],
        &["LMOVE", "s", "d", "LEFT", "LEFT"],
        &["RPOPLPUSH", "s", "d"],
        &["LMPOP", "2", "nokey", "s", "LEFT"],
        &["BLPOP", "nokey", "s", "0"],
        &["BLMOVE", "s", "d", "LEFT", "LEFT", "0"],
    ];
    for args in cases {
        assert_eq!(c.cmd(args), err(WRONGTYPE), "{args:?}");
    }
    // A WRONGTYPE destination leaves the source untouched.
    c.cmd(&["RPUSH", "src", "a"]);
    assert_eq!(c.cmd(&["RPOPLPUSH", "src", "s"]), err(WRONGTYPE));
    assert_eq!(c.cmd(&["LRANGE", "src", "0", "-1"]), arr(&["a"]));
}

#[test]
fn lpop_rpop_with_count() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["RPUSH", "l", "1", "2", "3", "4", "5"]);
    assert_eq!(c.cmd(&["LPOP", "l"]), bulk("1"));
    assert_eq!(c.cmd(&["RPOP", "l"]), bulk("5"));
    assert_eq!(c.cmd(&["LPOP", "l", "2"]), arr(&["2", "3"]));
    assert_eq!(c.cmd(&["RPOP", "l", "0"]), arr(&[]));
    assert_eq!(c.cmd(&["RPOP", "l", "10"]), arr(&["4"]));
    assert_eq!(c.cmd(&["EXISTS", "l"]), Reply::Int(0));
    assert_eq!(c.cmd(&["LPOP", "l"]), Reply::Nil);
    assert_eq!(c.cmd(&["LPOP", "l", "1"]), Reply::Nil);
    assert_eq!(c.cmd(&["LPOP", "l", "0"]), Reply::Nil);
    let range_err = err("ERR value is out of range, must be positive");
    assert_eq!(c.cmd(&["LPOP", "l", "-1"]), range_err);
    assert_eq!(c.cmd(&["LPOP", "l", "abc"]), range_err);
    assert_eq!(
        c.cmd(&["LPOP", "l", "1", "2"]),
        err("ERR wrong number of arguments for 'lpop' command")
    );
}

#[test]
fn lset_linsert_lrem_ltrim() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["LSET", "l", "0", "x"]), err("ERR no such key"));
    c.cmd(&["RPUSH", "l", "a", "b", "a", "c", "a"]);
    assert_eq!(c.cmd(&["LSET", "l", "-1", "A"]), ok());
    assert_eq!(
        c.cmd(&["LSET", "l", "5", "x"]),
        err("ERR index out of range")
    );
    assert_eq!(
        c.cmd(&["LSET", "l", "x", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.cmd(&["LINSERT", "l", "BEFORE", "b", "B"]), Reply::Int(6));
    assert_eq!(c.cmd(&["LINSERT", "l", "after", "c", "C"]), Reply::Int(7));
    assert_eq!(c.cmd(&["LINSERT", "l", "AFTER", "zz", "Q"]), Reply::Int(-1));
    assert_eq!(
        c.cmd(&["LINSERT", "nokey", "AFTER", "a", "Q"]),
        Reply::Int(0)
    );
    assert_eq!(
        c.cmd(&["LINSERT", "l", "middle", "a", "Q"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["LRANGE", "l", "0", "-1"]),
        arr(&["a", "B", "b", "a", "c", "C", "A"])
    );
    assert_eq!(c.cmd(&["LREM", "l", "-1", "a"]), Reply::Int(1));
    assert_eq!(
        c.cmd(&["LRANGE", "l", "0", "-1"]),
        arr(&["a", "B", "b", "c", "C", "A"])
    );
    assert_eq!(c.cmd(&["LREM", "l", "0", "a"]), Reply::Int(1));
    assert_eq!(c.cmd(&["LREM", "nokey", "0", "a"]), Reply::Int(0));
    assert_eq!(
        c.cmd(&["LREM", "l", "x", "a"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.cmd(&["LTRIM", "l", "1", "-2"]), ok());
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), arr(&["b", "c", "C"]));
    assert_eq!(c.cmd(&["LTRIM", "nokey", "0", "1"]), ok());
    assert_eq!(c.cmd(&["LTRIM", "l", "5", "1"]), ok());
    assert_eq!(c.cmd(&["EXISTS", "l"]), Reply::Int(0));
    c.cmd(&["RPUSH", "l", "x", "x"]);
    assert_eq!(c.cmd(&["LREM", "l", "0", "x"]), Reply::Int(2));
    assert_eq!(c.cmd(&["EXISTS", "l"]), Reply::Int(0));
}

#[test]
fn lpos_options_and_errors() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c"]);
    assert_eq!(c.cmd(&["LPOS", "l", "c"]), Reply::Int(2));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK", "2"]), Reply::Int(6));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK", "-1"]), Reply::Int(7));
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK", "9"]), Reply::Nil);
    assert_eq!(c.cmd(&["LPOS", "l", "c", "COUNT", "0"]), ints(&[2, 6, 7]));
    assert_eq!(
        c.cmd(&["LPOS", "l", "c", "COUNT", "2", "RANK", "-1"]),
        ints(&[7, 6])
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7"]),
        ints(&[2, 6])
    );
    assert_eq!(c.cmd(&["LPOS", "l", "zz"]), Reply::Nil);
    assert_eq!(c.cmd(&["LPOS", "l", "zz", "COUNT", "1"]), ints(&[]));
    assert_eq!(c.cmd(&["LPOS", "nokey", "a"]), Reply::Nil);
    assert_eq!(c.cmd(&["LPOS", "nokey", "a", "COUNT", "1"]), ints(&[]));
    assert_eq!(
        c.cmd(&["LPOS", "l", "c", "RANK", "0"]),
        err("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "c", "COUNT", "-1"]),
        err("ERR COUNT can't be negative")
    );
    assert_eq!(
        c.cmd(&["LPOS", "l", "c", "MAXLEN", "-1"]),
        err("ERR MAXLEN can't be negative")
    );
    assert_eq!(c.cmd(&["LPOS", "l", "c", "RANK"]), err("ERR syntax error"));
    assert_eq!(
        c.cmd(&["LPOS", "l", "c", "FOO", "1"]),
        err("ERR syntax error")
    );
}

#[test]
fn lmove_rpoplpush_lmpop() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["RPUSH", "src", "1", "2", "3"]);
    assert_eq!(c.cmd(&["LMOVE", "src", "dst", "LEFT", "RIGHT"]), bulk("1"));
    assert_eq!(c.cmd(&["LMOVE", "src", "dst", "right", "left"]), bulk("3"));
    assert_eq!(c.cmd(&["LRANGE", "dst", "0", "-1"]), arr(&["3", "1"]));
    assert_eq!(
        c.cmd(&["LMOVE", "src", "dst", "up", "left"]),
        err("ERR syntax error")
    );
    // A one-element list rotated onto itself survives.
    assert_eq!(c.cmd(&["RPOPLPUSH", "src", "src"]), bulk("2"));
    assert_eq!(c.cmd(&["RPOPLPUSH", "src", "dst"]), bulk("2"));
    assert_eq!(c.cmd(&["EXISTS", "src"]), Reply::Int(0));
    assert_eq!(c.cmd(&["RPOPLPUSH", "src", "dst"]), Reply::Nil);
    assert_eq!(c.cmd(&["LMOVE", "src", "dst", "LEFT", "LEFT"]), Reply::Nil);

    assert_eq!(
        c.cmd(&["LMPOP", "2", "nokey", "dst", "LEFT"]),
        Reply::Array(vec![bulk("dst"), arr(&["2"])])
    );
    assert_eq!(
        c.cmd(&["LMPOP", "2", "nokey", "dst", "RIGHT", "COUNT", "10"]),
        Reply::Array(vec![bulk("dst"), arr(&["1", "3"])])
    );
    assert_eq!(c.cmd(&["LMPOP", "1", "dst", "LEFT"]), Reply::Nil);
    let numkeys = err("ERR numkeys should be greater than 0");
    assert_eq!(c.cmd(&["LMPOP", "0", "a", "LEFT"]), numkeys);
    assert_eq!(c.cmd(&["LMPOP", "x", "a", "LEFT"]), numkeys);
    assert_eq!(c.cmd(&["LMPOP", "2", "a", "LEFT"]), err("ERR syntax error"));
    assert_eq!(
        c.cmd(&["LMPOP", "1", "a", "middle"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["LMPOP", "1", "a", "LEFT", "COUNT", "0"]),
        err("ERR count should be greater than 0")
    );
    assert_eq!(
        c.cmd(&["LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1"]),
        err("ERR syntax error")
    );
}

#[test]
fn blocking_pops_serve_existing_data_and_check_timeouts() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["RPUSH", "b", "x", "y", "z"]);
    assert_eq!(c.cmd(&["BLPOP", "nokey", "b", "0"]), arr(&["b", "x"]));
    assert_eq!(c.cmd(&["BRPOP", "b", "0"]), arr(&["b", "z"]));
    assert_eq!(
        c.cmd(&["BLMOVE", "b", "d", "LEFT", "RIGHT", "0"]),
        bulk("y")
    );
    assert_eq!(c.cmd(&["EXISTS", "b"]), Reply::Int(0));
    assert_eq!(
        c.cmd(&["BLMPOP", "0", "2", "nokey", "d", "LEFT", "COUNT", "5"]),
        Reply::Array(vec![bulk("d"), arr(&["y"])])
    );
    assert_eq!(c.cmd(&["BLPOP", "nokey", "0.01"]), Reply::Nil);
    assert_eq!(c.cmd(&["BRPOPLPUSH", "nokey", "d", "0.01"]), Reply::Nil);
    assert_eq!(
        c.cmd(&["BLPOP", "nokey", "-1"]),
        err("ERR timeout is negative")
    );
    assert_eq!(
        c.cmd(&["BLPOP", "nokey", "abc"]),
        err("ERR timeout is not a float or out of range")
    );
    assert_eq!(
        c.cmd(&["BLMOVE", "a", "b", "up", "left", "0"]),
        err("ERR syntax error")
    );
    // BLMPOP checks its other arguments before the timeout.
    assert_eq!(
        c.cmd(&["BLMPOP", "-1", "1", "a", "middle"]),
        err("ERR syntax error")
    );
    assert_eq!(blocked_clients(&mut c), 0);
}

#[test]
fn waiters_are_served_first_come_first_served() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut w1 = s.conn();
    let mut w2 = s.conn();
    w1.send(&["BLPOP", "k", "0"]);
    wait_blocked(&mut c, 1);
    w2.send(&["BLPOP", "k", "0"]);
    wait_blocked(&mut c, 2);
    assert_eq!(c.cmd(&["RPUSH", "k", "first"]), Reply::Int(1));
    assert_eq!(w1.read_reply(), arr(&["k", "first"]));
    assert_eq!(blocked_clients(&mut c), 1);
    assert_eq!(c.cmd(&["RPUSH", "k", "second"]), Reply::Int(1));
    assert_eq!(w2.read_reply(), arr(&["k", "second"]));
    assert_eq!(blocked_clients(&mut c), 0);
    assert_eq!(c.cmd(&["EXISTS", "k"]), Reply::Int(0));
}

#[test]
fn one_push_serves_several_waiters_before_the_pusher_replies() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut w1 = s.conn();
    let mut w2 = s.conn();
    let mut w3 = s.conn();
    w1.send(&["BLPOP", "k", "0"]);
    wait_blocked(&mut c, 1);
    w2.send(&["BRPOP", "k", "0"]);
    wait_blocked(&mut c, 2);
    w3.send(&["BLMPOP", "0", "1", "k", "LEFT", "COUNT", "5"]);
    wait_blocked(&mut c, 3);
    assert_eq!(c.cmd(&["RPUSH", "k", "a", "b", "c", "d"]), Reply::Int(4));
    // Served before RPUSH replied: nothing is left.
    assert_eq!(c.cmd(&["EXISTS", "k"]), Reply::Int(0));
    assert_eq!(w1.read_reply(), arr(&["k", "a"]));
    assert_eq!(w2.read_reply(), arr(&["k", "d"]));
    assert_eq!(
        w3.read_reply(),
        Reply::Array(vec![bulk("k"), arr(&["b", "c"])])
    );
    assert_eq!(blocked_clients(&mut c), 0);
}

#[test]
fn timeout_replies_null_and_unblocks() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut w = s.conn();
    w.send(&["BRPOPLPUSH", "src", "dst", "0.2"]);
    assert_eq!(w.read_reply(), Reply::Nil);
    assert!(wait_for(10, || blocked_clients(&mut c) == 0));
    // The connection still works.
    assert_eq!(w.cmd(&["PING"]), Reply::Status("PONG".into()));
}

#[test]
fn disconnected_waiter_is_forgotten() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut gone = s.conn();
    let mut stays = s.conn();
    gone.send(&["BLPOP", "k", "0"]);
    wait_blocked(&mut c, 1);
    stays.send(&["BLPOP", "k", "0"]);
    wait_blocked(&mut c, 2);
    drop(gone);
    wait_blocked(&mut c, 1);
    c.cmd(&["RPUSH", "k", "v1", "v2"]);
    assert_eq!(stays.read_reply(), arr(&["k", "v1"]));
    assert_eq!(c.cmd(&["LRANGE", "k", "0", "-1"]), arr(&["v2"]));
    assert_eq!(blocked_clients(&mut c), 0);
}

#[test]
fn blmove_chains_into_a_client_waiting_on_the_target() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut popper = s.conn();
    let mut mover = s.conn();
    popper.send(&["BLPOP", "target", "0"]);
    wait_blocked(&mut c, 1);
    mover.send(&["BLMOVE", "src", "target", "RIGHT", "LEFT", "0"]);
    wait_blocked(&mut c, 2);
    c.cmd(&["RPUSH", "src", "foo"]);
    // The whole chain ran before RPUSH replied.
    assert_eq!(c.cmd(&["EXISTS", "src", "target"]), Reply::Int(0));
    assert_eq!(mover.read_reply(), bulk("foo"));
    assert_eq!(popper.read_reply(), arr(&["target", "foo"]));
}

#[test]
fn linked_and_circular_moves() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut m1 = s.conn();
    let mut m2 = s.conn();
    m1.send(&["BRPOPLPUSH", "list1", "list2", "0"]);
    wait_blocked(&mut c, 1);
    m2.send(&["BRPOPLPUSH", "list2", "list1", "0"]);
    wait_blocked(&mut c, 2);
    c.cmd(&["RPUSH", "list1", "foo"]);
    assert_eq!(c.cmd(&["LRANGE", "list1", "0", "-1"]), arr(&["foo"]));
    assert_eq!(c.cmd(&["EXISTS", "list2"]), Reply::Int(0));
    assert_eq!(m1.read_reply(), bulk("foo"));
    assert_eq!(m2.read_reply(), bulk("foo"));
}

#[test]
fn wrong_type_destination_while_blocked() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut w = s.conn();
    c.cmd(&["SET", "dst", "string"]);
    w.send(&["BRPOPLPUSH", "src", "dst", "0"]);
    wait_blocked(&mut c, 1);
    c.cmd(&["RPUSH", "src", "foo"]);
    assert_eq!(w.read_reply(), err(WRONGTYPE));
    assert_eq!(c.cmd(&["LRANGE", "src", "0", "-1"]), arr(&["foo"]));
    assert_eq!(blocked_clients(&mut c), 0);
}

#[test]
fn a_key_renamed_into_place_wakes_the_waiter() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut w = s.conn();
    w.send(&["BLPOP", "foo", "0"]);
    wait_blocked(&mut c, 1);
    // Another type under the key does not serve (nor fail) the waiter.
    c.cmd(&["SET", "foo", "string"]);
    c.cmd(&["DEL", "foo"]);
    c.cmd(&["LPUSH", "bob", "abc", "def", "hij"]);
    c.cmd(&["RENAME", "bob", "foo"]);
    assert_eq!(w.read_reply(), arr(&["foo", "hij"]));
}

#[test]
fn resp3_null_replies() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["LPOP", "nokey"]), Reply::Nil);
    assert_eq!(c.cmd(&["LPOP", "nokey", "1"]), Reply::Nil);
    assert_eq!(c.cmd(&["BLPOP", "nokey", "0.01"]), Reply::Nil);
}

#[test]
fn client_unblock() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut w = s.conn();
    let Reply::Int(id) = w.cmd(&["CLIENT", "ID"]) else {
        panic!("CLIENT ID")
    };
    let id = id.to_string();
    w.send(&["BLPOP", "l", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id]), Reply::Int(1));
    assert_eq!(w.read_reply(), Reply::Nil);
    w.send(&["BLMPOP", "0", "1", "l", "RIGHT"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id, "TIMEOUT"]), Reply::Int(1));
    assert_eq!(w.read_reply(), Reply::Nil);
    w.send(&["BRPOP", "l", "0"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]), Reply::Int(1));
    assert_eq!(
        w.read_reply(),
        err("UNBLOCKED client unblocked via CLIENT UNBLOCK")
    );
    assert_eq!(blocked_clients(&mut c), 0);
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id]), Reply::Int(0));
    assert_eq!(
        c.cmd(&["CLIENT", "UNBLOCK", "asd"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "UNBLOCK", &id, "LATER"]),
        err("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
    );
    // Still usable afterwards.
    w.send(&["BLPOP", "l", "0"]);
    wait_blocked(&mut c, 1);
    c.cmd(&["RPUSH", "l", "x"]);
    assert_eq!(w.read_reply(), arr(&["l", "x"]));
}

#[test]
fn input_sent_while_blocked_runs_after_the_reply() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut w = s.conn();
    w.send(&["BLPOP", "k", "0"]);
    wait_blocked(&mut c, 1);
    w.send(&["PING"]);
    w.send(&["ECHO", "after"]);
    c.cmd(&["RPUSH", "k", "v"]);
    assert_eq!(w.read_reply(), arr(&["k", "v"]));
    assert_eq!(w.read_reply(), Reply::Status("PONG".into()));
    assert_eq!(w.read_reply(), bulk("after"));
}

#[test]
fn a_waiter_that_sent_more_and_left_is_forgotten() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut w = s.conn();
    w.send(&["BRPOPLPUSH", "a", "b", "0"]);
    wait_blocked(&mut c, 1);
    w.send(&["BRPOPLPUSH", "a", "b", "0"]);
    drop(w);
    wait_blocked(&mut c, 0);
    c.cmd(&["RPUSH", "a", "data"]);
    assert_eq!(c.cmd(&["LRANGE", "a", "0", "-1"]), arr(&["data"]));
}

#[test]
fn replies_before_a_blocked_command_in_a_pipeline_are_sent_at_once() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut w = s.conn();
    let mut batch = Conn::encode(&[b"RPUSH", b"a", b"x"]);
    batch.extend(Conn::encode(&[b"BRPOPLPUSH", b"a", b"b", b"0"]));
    batch.extend(Conn::encode(&[b"BRPOPLPUSH", b"a", b"b", b"0"]));
    w.send_raw(&batch);
    assert_eq!(w.read_reply(), Reply::Int(1));
    assert_eq!(w.read_reply(), bulk("x"));
    wait_blocked(&mut c, 1);
    c.cmd(&["RPUSH", "a", "y"]);
    assert_eq!(w.read_reply(), bulk("y"));
    assert_eq!(c.cmd(&["LRANGE", "b", "0", "-1"]), arr(&["y", "x"]));
}

/// A list long enough to span many packed nodes, with elements of every
/// length class (empty, short, 127/128 bytes at the length-prefix boundary,
/// longer than a node): every read and edit must see one sequence.
#[test]
fn long_list_spanning_many_nodes() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let sizes = [0usize, 1, 7, 127, 128, 300, 2000];
    let mut model: Vec<String> = Vec::new();
    for i in 0..700 {
        let e = format!("{i}:{}", "x".repeat(sizes[i % sizes.len()]));
        if i % 3 == 0 {
            c.cmd(&["LPUSH", "l", &e]);
            model.insert(0, e);
        } else {
            c.cmd(&["RPUSH", "l", &e]);
            model.push(e);
        }
    }
    assert_eq!(c.cmd(&["LLEN", "l"]), Reply::Int(700));
    for i in [0usize, 1, 349, 350, 698, 699] {
        assert_eq!(c.cmd(&["LINDEX", "l", &i.to_string()]), bulk(&model[i]));
    }
    assert_eq!(c.cmd(&["LINDEX", "l", "-1"]), bulk(&model[699]));
    let want: Vec<&str> = model[100..=150].iter().map(String::as_str).collect();
    assert_eq!(c.cmd(&["LRANGE", "l", "100", "150"]), arr(&want));
    assert_eq!(c.cmd(&["LSET", "l", "200", "changed"]), ok());
    model[200] = "changed".into();
    let pivot = model[300].clone();
    assert_eq!(
        c.cmd(&["LINSERT", "l", "BEFORE", &pivot, "ins"]),
        Reply::Int(701)
    );
    model.insert(300, "ins".into());
    // LPOS from the tail walks the nodes backwards.
    c.cmd(&["RPUSH", "l", "dup"]);
    c.cmd(&["LPUSH", "l", "dup"]);
    model.push("dup".into());
    model.insert(0, "dup".into());
    assert_eq!(c.cmd(&["LPOS", "l", "dup", "RANK", "-1"]), Reply::Int(702));
    assert_eq!(c.cmd(&["LREM", "l", "-1", "dup"]), Reply::Int(1));
    model.pop();
    assert_eq!(c.cmd(&["LTRIM", "l", "1", "-2"]), ok());
    model.remove(0);
    model.pop();
    let all: Vec<&str> = model.iter().map(String::as_str).collect();
    assert_eq!(c.cmd(&["LRANGE", "l", "0", "-1"]), arr(&all));
    assert_eq!(c.cmd(&["RPOP", "l"]), bulk(&model[model.len() - 1]));
    assert_eq!(c.cmd(&["LPOP", "l"]), bulk(&model[0]));
}

/// CLIENT LIST flags a client blocked in BRPOP with `b`, until it is served.
#[test]
fn a_blocked_client_is_flagged_b() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let mut waiter = server.conn();
    let Reply::Int(id) = waiter.cmd(&["CLIENT", "ID"]) else {
        panic!("CLIENT ID");
    };
    let id = id.to_string();
    waiter.send(&["BRPOP", "k", "0"]);
    let flags = |c: &mut common::Conn| {
        let line = c.cmd(&["CLIENT", "LIST", "ID", &id]).text();
        line.split(' ')
            .find_map(|f| f.strip_prefix("flags="))
            .map(str::to_string)
            .expect("flags field")
    };
    assert!(wait_for(10, || flags(&mut c) == "b"));
    c.cmd(&["RPUSH", "k", "v"]);
    assert_eq!(
        waiter.read_reply(),
        Reply::Array(vec![bulk("k"), bulk("v")])
    );
    assert_eq!(flags(&mut c), "N");
}

/// SWAPDB brings an expired key under a blocked BRPOP: the key is deleted
/// (as Redis's attempt to serve the client deletes it) and the client
/// stays blocked.
#[test]
fn an_expired_key_swapped_in_under_a_waiter_is_deleted() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    c.cmd(&["SELECT", "1"]);
    c.cmd(&["RPUSH", "k", "hello"]);
    c.cmd(&["PEXPIRE", "k", "20"]);
    let mut waiter = server.conn();
    waiter.cmd(&["SELECT", "9"]);
    let Reply::Int(id) = waiter.cmd(&["CLIENT", "ID"]) else {
        panic!("CLIENT ID");
    };
    waiter.send(&["BRPOP", "k", "0"]);
    assert!(wait_for(10, || c
        .cmd(&["INFO", "clients"])
        .text()
        .contains("blocked_clients:1")));
    std::thread::sleep(std::time::Duration::from_millis(30));
    assert_eq!(c.cmd(&["SWAPDB", "1", "9"]), Reply::Status("OK".into()));
    c.cmd(&["SELECT", "9"]);
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(0));
    let line = c.cmd(&["CLIENT", "LIST", "ID", &id.to_string()]).text();
    assert!(line.contains("flags=b"), "{line}");
    assert_eq!(
        c.cmd(&["CLIENT", "UNBLOCK", &id.to_string()]),
        Reply::Int(1)
    );
    assert_eq!(waiter.read_reply(), Reply::Nil);
}
