//! Hash commands against the real binary: replies, errors, empty keys,
//! RESP3 shapes and the listpack -> hashtable conversions OBJECT ENCODING
//! shows. Expectations were checked against redis-server 7.0.15.

mod common;
use common::{bulk, Conn, Reply, Server};

const WRONGTYPE: &str = "WRONGTYPE Operation against a key holding the wrong kind of value";

fn int(n: i64) -> Reply {
    Reply::Int(n)
}

fn err(text: &str) -> Reply {
    Reply::Error(text.to_string())
}

fn ok() -> Reply {
    Reply::Status("OK".into())
}

/// The texts of an array/set reply, sorted.
fn sorted(reply: Reply) -> Vec<String> {
    let items = match reply {
        Reply::Array(v) | Reply::Set(v) => v,
        other => panic!("not a collection: {other:?}"),
    };
    let mut texts: Vec<String> = items.iter().map(Reply::text).collect();
    texts.sort();
    texts
}

fn encoding(c: &mut Conn, key: &str) -> String {
    c.cmd(&["OBJECT", "ENCODING", key]).text()
}

#[test]
fn set_get_and_delete_fields() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["HSET", "h", "a", "1", "b", "2"]), int(2));
    assert_eq!(c.cmd(&["HSET", "h", "a", "10", "c", "3"]), int(1));
    assert_eq!(c.cmd(&["HMSET", "h", "d", "4"]), ok());
    assert_eq!(c.cmd(&["HGET", "h", "a"]), bulk("10"));
    assert_eq!(c.cmd(&["HGET", "h", "zz"]), Reply::Nil);
    assert_eq!(c.cmd(&["HGET", "nokey", "a"]), Reply::Nil);
    assert_eq!(
        c.cmd(&["HMGET", "h", "a", "zz", "b"]),
        Reply::Array(vec![bulk("10"), Reply::Nil, bulk("2")])
    );
    assert_eq!(
        c.cmd(&["HMGET", "nokey", "a", "b"]),
        Reply::Array(vec![Reply::Nil, Reply::Nil])
    );
    assert_eq!(c.cmd(&["HLEN", "h"]), int(4));
    assert_eq!(c.cmd(&["HLEN", "nokey"]), int(0));
    assert_eq!(c.cmd(&["HSTRLEN", "h", "a"]), int(2));
    assert_eq!(c.cmd(&["HSTRLEN", "h", "zz"]), int(0));
    assert_eq!(c.cmd(&["HSTRLEN", "nokey", "a"]), int(0));
    assert_eq!(c.cmd(&["HEXISTS", "h", "a"]), int(1));
    assert_eq!(c.cmd(&["HEXISTS", "h", "zz"]), int(0));
    assert_eq!(c.cmd(&["HEXISTS", "nokey", "a"]), int(0));
    assert_eq!(c.cmd(&["HSETNX", "h", "a", "x"]), int(0));
    assert_eq!(c.cmd(&["HSETNX", "h", "e", "5"]), int(1));
    assert_eq!(c.cmd(&["HSETNX", "fresh", "f", "v"]), int(1));
    assert_eq!(c.cmd(&["HGET", "fresh", "f"]), bulk("v"));
    // A listpack keeps insertion order, as in Redis.
    assert_eq!(
        c.cmd(&["HKEYS", "h"]),
        Reply::Array(["a", "b", "c", "d", "e"].map(bulk).to_vec())
    );
    assert_eq!(
        c.cmd(&["HVALS", "h"]),
        Reply::Array(["10", "2", "3", "4", "5"].map(bulk).to_vec())
    );
    assert_eq!(c.cmd(&["HDEL", "h", "a", "zz", "b"]), int(2));
    assert_eq!(c.cmd(&["HDEL", "nokey", "a"]), int(0));
    assert_eq!(
        c.cmd(&["HGETALL", "h"]),
        Reply::Array(["c", "3", "d", "4", "e", "5"].map(bulk).to_vec())
    );
    // The last field takes the key with it.
    assert_eq!(c.cmd(&["HDEL", "h", "c", "d", "e", "f"]), int(3));
    assert_eq!(c.cmd(&["EXISTS", "h"]), int(0));
    for cmd in ["HKEYS", "HVALS", "HGETALL"] {
        assert_eq!(c.cmd(&[cmd, "nokey"]), Reply::Array(vec![]));
    }
}

#[test]
fn argument_and_type_errors() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["SET", "str", "x"]);
    for args in [
        &["HSET", "str", "a", "1"][..],
        &["HSETNX", "str", "a", "1"],
        &["HGET", "str", "a"],
        &["HMGET", "str", "a"],
        &["HDEL", "str", "a"],
        &["HLEN", "str"],
        &["HSTRLEN", "str", "a"],
        &["HEXISTS", "str", "a"],
        &["HKEYS", "str"],
        &["HVALS", "str"],
        &["HGETALL", "str"],
        &["HINCRBY", "str", "a", "1"],
        &["HINCRBYFLOAT", "str", "a", "1"],
        &["HRANDFIELD", "str"],
        &["HRANDFIELD", "str", "2"],
        &["HSCAN", "str", "0"],
    ] {
        assert_eq!(c.cmd(args), err(WRONGTYPE), "{args:?}");
    }
    assert_eq!(
        c.cmd(&["HSET", "h", "a", "1", "b"]),
        err("ERR wrong number of arguments for 'hset' command")
    );
    assert_eq!(
        c.cmd(&["HMSET", "h", "a", "1", "b"]),
        err("ERR wrong number of arguments for 'hmset' command")
    );
    assert_eq!(
        c.cmd(&["HSET", "h", "a"]),
        err("ERR wrong number of arguments for 'hset' command")
    );
    assert_eq!(c.cmd(&["EXISTS", "h"]), int(0));
}

#[test]
fn counters() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["HINCRBY", "h", "n", "5"]), int(5));
    assert_eq!(c.cmd(&["HINCRBY", "h", "n", "-7"]), int(-2));
    assert_eq!(c.cmd(&["HGET", "h", "n"]), bulk("-2"));
    c.cmd(&[
        "HSET",
        "h",
        "big",
        "9223372036854775807",
        "s",
        " 11",
        "t",
        "abc",
    ]);
    assert_eq!(
        c.cmd(&["HINCRBY", "h", "big", "1"]),
        err("ERR increment or decrement would overflow")
    );
    assert_eq!(
        c.cmd(&["HINCRBY", "h", "s", "1"]),
        err("ERR hash value is not an integer")
    );
    assert_eq!(
        c.cmd(&["HINCRBY", "h", "n", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "f", "1.23"]), bulk("1.23"));
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "f", "0.77"]), bulk("2"));
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "f", "-0.1"]), bulk("1.9"));
    assert_eq!(c.cmd(&["HINCRBYFLOAT", "h", "n", "0.5"]), bulk("-1.5"));
    assert_eq!(
        c.cmd(&["HINCRBYFLOAT", "h", "t", "1"]),
        err("ERR hash value is not a float")
    );
    assert_eq!(
        c.cmd(&["HINCRBYFLOAT", "h", "f", "abc"]),
        err("ERR value is not a valid float")
    );
    assert_eq!(
        c.cmd(&["HINCRBYFLOAT", "nokey", "f", "+inf"]),
        err("ERR value is NaN or Infinity")
    );
    assert_eq!(c.cmd(&["EXISTS", "nokey"]), int(0));
    c.cmd_bytes(&[b"HSET", b"h", b"z", b"1\x002"]);
    assert_eq!(
        c.cmd(&["HINCRBYFLOAT", "h", "z", "1"]),
        err("ERR hash value is not a float")
    );
}

#[test]
fn encoding_conversions() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["HSET", "small", "a", "1"]);
    assert_eq!(encoding(&mut c, "small"), "listpack");
    // A value longer than hash-max-listpack-value (64) converts.
    c.cmd(&["HSET", "small", "long", &"x".repeat(65)]);
    assert_eq!(encoding(&mut c, "small"), "hashtable");
    // ... for good: deleting it does not convert back.
    c.cmd(&["HDEL", "small", "long"]);
    assert_eq!(encoding(&mut c, "small"), "hashtable");
    // A long field name converts too.
    c.cmd(&["HSET", "f", &"k".repeat(65), "1"]);
    assert_eq!(encoding(&mut c, "f"), "hashtable");
    // More than hash-max-listpack-entries fields (via the old alias).
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hash-max-ziplist-entries", "4"]),
        ok()
    );
    for i in 0..4 {
        c.cmd(&["HSET", "many", &format!("f{i}"), "v"]);
    }
    assert_eq!(encoding(&mut c, "many"), "listpack");
    c.cmd(&["HSET", "many", "f4", "v"]);
    assert_eq!(encoding(&mut c, "many"), "hashtable");
    assert_eq!(c.cmd(&["HLEN", "many"]), int(5));
    // HINCRBYFLOAT results obey hash-max-listpack-value too.
    c.cmd(&["CONFIG", "SET", "hash-max-listpack-value", "8"]);
    c.cmd(&["HINCRBYFLOAT", "a", "tmp", "0.000005"]);
    c.cmd(&["HINCRBYFLOAT", "b", "tmp", "0.0000005"]);
    assert_eq!(encoding(&mut c, "a"), "listpack");
    assert_eq!(encoding(&mut c, "b"), "hashtable");
    // Entries 0: even one field is too many.
    c.cmd(&["CONFIG", "SET", "hash-max-listpack-entries", "0"]);
    c.cmd(&["HSET", "zero", "a", "1"]);
    assert_eq!(encoding(&mut c, "zero"), "hashtable");
}

#[test]
fn big_hash_scan_and_getall() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut args = vec!["HSET".to_string(), "big".into()];
    for i in 0..1000 {
        args.push(format!("field:{i}"));
        args.push(format!("value:{i}"));
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(c.cmd(&refs), int(1000));
    assert_eq!(encoding(&mut c, "big"), "hashtable");
    assert_eq!(c.cmd(&["HGET", "big", "field:999"]), bulk("value:999"));
    let Reply::Array(all) = c.cmd(&["HGETALL", "big"]) else {
        panic!("HGETALL is an array in RESP2");
    };
    assert_eq!(all.len(), 2000);
    // HSCAN walks every field exactly once when nothing changes.
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let Reply::Array(parts) = c.cmd(&["HSCAN", "big", &cursor, "COUNT", "50"]) else {
            panic!("HSCAN reply");
        };
        cursor = parts[0].text();
        let Reply::Array(items) = &parts[1] else {
            panic!("HSCAN items");
        };
        for pair in items.chunks(2) {
            assert_eq!(pair[1].text(), pair[0].text().replace("field", "value"));
            assert!(seen.insert(pair[0].text()));
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 1000);
    // MATCH filters fields; a listpack answers whole with cursor 0.
    c.cmd(&["HSET", "small", "a1", "x", "b1", "y", "a2", "z"]);
    assert_eq!(
        c.cmd(&["HSCAN", "small", "0", "MATCH", "a*"]),
        Reply::Array(vec![
            bulk("0"),
            Reply::Array(["a1", "x", "a2", "z"].map(bulk).to_vec())
        ])
    );
    assert_eq!(
        c.cmd(&["HSCAN", "nokey", "0", "COUNT", "x"]),
        Reply::Array(vec![bulk("0"), Reply::Array(vec![])])
    );
    assert_eq!(c.cmd(&["HSCAN", "small", "x"]), err("ERR invalid cursor"));
    assert_eq!(
        c.cmd(&["HSCAN", "small", "0", "COUNT", "0"]),
        err("ERR syntax error")
    );
}

#[test]
fn hrandfield_counts_and_shapes() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["HSET", "h", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(c.cmd(&["HRANDFIELD", "nokey"]), Reply::Nil);
    assert_eq!(c.cmd(&["HRANDFIELD", "nokey", "3"]), Reply::Array(vec![]));
    assert_eq!(c.cmd(&["HRANDFIELD", "h", "0"]), Reply::Array(vec![]));
    let one = c.cmd(&["HRANDFIELD", "h"]).text();
    assert!(["a", "b", "c"].contains(&one.as_str()));
    assert_eq!(sorted(c.cmd(&["HRANDFIELD", "h", "10"])), ["a", "b", "c"]);
    assert_eq!(
        sorted(c.cmd(&["HRANDFIELD", "h", "10", "WITHVALUES"])),
        ["1", "2", "3", "a", "b", "c"]
    );
    let two = sorted(c.cmd(&["HRANDFIELD", "h", "2"]));
    assert_eq!(two.len(), 2);
    assert_ne!(two[0], two[1]);
    let Reply::Array(many) = c.cmd(&["HRANDFIELD", "h", "-20", "WITHVALUES"]) else {
        panic!("array");
    };
    assert_eq!(many.len(), 40);
    for pair in many.chunks(2) {
        let expected = match pair[0].text().as_str() {
            "a" => "1",
            "b" => "2",
            _ => "3",
        };
        assert_eq!(pair[1].text(), expected);
    }
    assert_eq!(
        c.cmd(&["HRANDFIELD", "h", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    assert_eq!(
        c.cmd(&["HRANDFIELD", "h", "-9223372036854770000", "WITHVALUES"]),
        err("ERR value is out of range")
    );
    assert_eq!(
        c.cmd(&["HRANDFIELD", "h", "1", "WITHSCORES"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["HRANDFIELD", "h", "x"]),
        err("ERR value is not an integer or out of range")
    );
    // RESP3: WITHVALUES gives pairs, HGETALL a map.
    c.cmd(&["HELLO", "3"]);
    let Reply::Array(pairs) = c.cmd(&["HRANDFIELD", "h", "3", "WITHVALUES"]) else {
        panic!("array");
    };
    assert_eq!(pairs.len(), 3);
    assert!(pairs
        .iter()
        .all(|p| matches!(p, Reply::Array(v) if v.len() == 2)));
    assert_eq!(
        c.cmd(&["HGETALL", "h"]),
        Reply::Map(vec![
            (bulk("a"), bulk("1")),
            (bulk("b"), bulk("2")),
            (bulk("c"), bulk("3"))
        ])
    );
    assert_eq!(c.cmd(&["HGETALL", "nokey"]), Reply::Map(vec![]));
}

#[test]
fn hrandfield_is_uniform_on_a_hashtable() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    for i in 0..10 {
        c.cmd(&["HSET", "h", &i.to_string(), &"v".repeat(100)]);
    }
    assert_eq!(encoding(&mut c, "h"), "hashtable");
    let Reply::Array(picks) = c.cmd(&["HRANDFIELD", "h", "-10000"]) else {
        panic!("array");
    };
    let mut counts = std::collections::HashMap::new();
    for p in picks {
        *counts.entry(p.text()).or_insert(0) += 1;
    }
    assert_eq!(counts.len(), 10);
    // 1000 expected each; a biased sampler gives some fields half as much.
    assert!(
        counts.values().all(|&n| (800..1200).contains(&n)),
        "{counts:?}"
    );
}

/// The packed listpack encoding: replacing a value with a longer or
/// shorter one, deleting from the middle, and keeping insertion order.
#[test]
fn listpack_edits_keep_order_and_values() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["HSET", "h", "a", "1", "b", "22", "c", "333", "d", ""]);
    assert_eq!(encoding(&mut c, "h"), "listpack");
    c.cmd(&["HSET", "h", "b", &"x".repeat(60)]);
    c.cmd(&["HSET", "h", "c", "3"]);
    assert_eq!(c.cmd(&["HDEL", "h", "a"]), int(1));
    assert_eq!(
        c.cmd(&["HGETALL", "h"]),
        Reply::Array(vec![
            bulk("b"),
            bulk(&"x".repeat(60)),
            bulk("c"),
            bulk("3"),
            bulk("d"),
            bulk(""),
        ])
    );
    assert_eq!(c.cmd(&["HLEN", "h"]), int(3));
    assert_eq!(c.cmd(&["HGET", "h", "d"]), bulk(""));
    assert_eq!(c.cmd(&["HDEL", "h", "b", "c", "d"]), int(3));
    assert_eq!(c.cmd(&["EXISTS", "h"]), int(0));
}
