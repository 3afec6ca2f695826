//! maxmemory accounting, as Redis's unit/maxmemory checks it: the keyspace
//! table does not double (and so trigger evictions) when that alone would
//! cross maxmemory, and a big reply does not stay counted in used_memory.

mod common;

use common::{bulk, Conn, Reply, Server};

fn used_memory(c: &mut Conn) -> i64 {
    let text = c.cmd(&["INFO"]).text();
    text.lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .expect("used_memory in INFO")
}

#[test]
fn no_rehash_past_maxmemory() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["CONFIG", "SET", "latency-tracking", "no"]);
    c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-random"]);
    // 4096 keys fill the 4096-bucket table: the next new key would double it.
    let mut filler = server.conn();
    let mut batch = Vec::new();
    for i in 0..4096 {
        let key = i.to_string();
        batch.extend(Conn::encode(&[b"SET", key.as_bytes(), b"A"]));
    }
    filler.send_raw(&batch);
    for _ in 0..4096 {
        assert_eq!(filler.read_reply(), Reply::Status("OK".into()));
    }
    drop(filler);
    let used = used_memory(&mut c);
    // The larger table would take 64 KB: more than the room left.
    let limit = (used + 10 * 1024).to_string();
    c.cmd(&["CONFIG", "SET", "maxmemory", &limit]);
    c.cmd(&["SET", "k1", "v1"]);
    c.cmd(&["SET", "k2", "v2"]);
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(4098));
}

#[test]
fn info_reply_does_not_stay_in_used_memory() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let first = used_memory(&mut c);
    let second = used_memory(&mut c);
    // The first INFO's reply buffer is given back once written, so the
    // second reading does not include it (allow small fluctuations).
    assert!(second - first < 2048, "{first} -> {second}");
}

/// CONFIG SET maxmemory below the memory in use evicts at once, as Redis's
/// `updateMaxmemory` does: a subscriber gets the `evicted` event without
/// any further command being sent.
#[test]
fn lowering_maxmemory_evicts_at_once() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ee"]);
    c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lru"]);
    c.cmd(&["SET", "foo", "bar"]);
    let mut sub = server.conn();
    sub.send(&["PSUBSCRIBE", "*"]);
    assert_eq!(
        sub.read_reply(),
        Reply::Array(vec![bulk("psubscribe"), bulk("*"), Reply::Int(1)])
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory", "1"]),
        Reply::Status("OK".into())
    );
    assert_eq!(
        sub.read_reply(),
        Reply::Array(vec![
            bulk("pmessage"),
            bulk("*"),
            bulk("__keyevent@0__:evicted"),
            bulk("foo")
        ])
    );
    c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
    assert_eq!(c.cmd(&["EXISTS", "foo"]), Reply::Int(0));
}

/// A container's subcommand has its own flags: FUNCTION LOAD is `denyoom`
/// and gets OOM over maxmemory, FUNCTION LIST is not and still answers.
#[test]
fn subcommand_flags_decide_oom() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["CONFIG", "SET", "maxmemory", "1"]);
    assert_eq!(
        c.cmd(&[
            "FUNCTION",
            "LOAD",
            "#!lua name=t\nredis.register_function('f1', function() return 1 end)"
        ]),
        Reply::Error("OOM command not allowed when used memory > 'maxmemory'.".into())
    );
    assert_eq!(c.cmd(&["FUNCTION", "LIST"]), Reply::Array(vec![]));
    c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
}
