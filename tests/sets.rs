//! Set commands against the real binary: replies, errors, empty keys,
//! RESP3 shapes and the intset -> hashtable conversions OBJECT ENCODING
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

fn sadd(c: &mut Conn, key: &str, members: &[&str]) {
    let mut args = vec!["SADD", key];
    args.extend_from_slice(members);
    c.cmd(&args);
}

#[test]
fn membership_basics() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SADD", "s", "a", "b", "a"]), int(2));
    assert_eq!(c.cmd(&["SADD", "s", "b", "c"]), int(1));
    assert_eq!(c.cmd(&["SCARD", "s"]), int(3));
    assert_eq!(c.cmd(&["SCARD", "nokey"]), int(0));
    assert_eq!(c.cmd(&["SISMEMBER", "s", "a"]), int(1));
    assert_eq!(c.cmd(&["SISMEMBER", "s", "z"]), int(0));
    assert_eq!(c.cmd(&["SISMEMBER", "nokey", "a"]), int(0));
    assert_eq!(
        c.cmd(&["SMISMEMBER", "s", "a", "z", "c"]),
        Reply::Array(vec![int(1), int(0), int(1)])
    );
    assert_eq!(
        c.cmd(&["SMISMEMBER", "nokey", "a", "b"]),
        Reply::Array(vec![int(0), int(0)])
    );
    assert_eq!(sorted(c.cmd(&["SMEMBERS", "s"])), ["a", "b", "c"]);
    assert_eq!(c.cmd(&["SMEMBERS", "nokey"]), Reply::Array(vec![]));
    assert_eq!(c.cmd(&["SREM", "s", "a", "z"]), int(1));
    assert_eq!(c.cmd(&["SREM", "nokey", "a"]), int(0));
    assert_eq!(c.cmd(&["SREM", "s", "b", "c", "d"]), int(2));
    assert_eq!(c.cmd(&["EXISTS", "s"]), int(0));
    // An intset answers in ascending order, like Redis.
    sadd(&mut c, "i", &["5", "-3", "100", "0"]);
    assert_eq!(
        c.cmd(&["SMEMBERS", "i"]),
        Reply::Array(["-3", "0", "5", "100"].map(bulk).to_vec())
    );
    // RESP3 replies SMEMBERS as a set.
    c.cmd(&["HELLO", "3"]);
    assert_eq!(
        c.cmd(&["SMEMBERS", "i"]),
        Reply::Set(["-3", "0", "5", "100"].map(bulk).to_vec())
    );
    assert_eq!(c.cmd(&["SMEMBERS", "nokey"]), Reply::Set(vec![]));
}

#[test]
fn wrong_type_errors() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["SET", "str", "x"]);
    sadd(&mut c, "s", &["a"]);
    for args in [
        &["SADD", "str", "a"][..],
        &["SREM", "str", "a"],
        &["SMEMBERS", "str"],
        &["SISMEMBER", "str", "a"],
        &["SMISMEMBER", "str", "a"],
        &["SCARD", "str"],
        &["SPOP", "str"],
        &["SPOP", "str", "2"],
        &["SRANDMEMBER", "str"],
        &["SRANDMEMBER", "str", "2"],
        &["SMOVE", "str", "s", "a"],
        &["SMOVE", "s", "str", "a"],
        &["SINTER", "nokey", "str"],
        &["SINTER", "s", "str"],
        &["SINTERCARD", "2", "nokey", "str"],
        &["SINTERSTORE", "d", "nokey", "str"],
        &["SUNION", "str", "nokey"],
        &["SUNIONSTORE", "d", "s", "str"],
        &["SDIFF", "nokey", "str"],
        &["SDIFFSTORE", "d", "s", "str"],
        &["SSCAN", "str", "0"],
    ] {
        assert_eq!(c.cmd(args), err(WRONGTYPE), "{args:?}");
    }
    assert_eq!(c.cmd(&["EXISTS", "d"]), int(0));
    // A missing source answers 0 before the destination's type is checked.
    assert_eq!(c.cmd(&["SMOVE", "nokey", "str", "a"]), int(0));
}

#[test]
fn encoding_conversions() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    sadd(&mut c, "i", &["1", "2", "3"]);
    assert_eq!(encoding(&mut c, "i"), "intset");
    sadd(&mut c, "i", &["a"]);
    assert_eq!(encoding(&mut c, "i"), "hashtable");
    c.cmd(&["SREM", "i", "a"]);
    assert_eq!(encoding(&mut c, "i"), "hashtable");
    // Only canonical 64-bit integers are intset members.
    for m in ["01", "+1", "-0", "9223372036854775808", "1.0"] {
        c.cmd(&["DEL", "x"]);
        sadd(&mut c, "x", &[m]);
        assert_eq!(encoding(&mut c, "x"), "hashtable", "{m}");
    }
    sadd(&mut c, "neg", &["-9223372036854775808"]);
    assert_eq!(encoding(&mut c, "neg"), "intset");
    // More than set-max-intset-entries (512) members.
    let members: Vec<String> = (0..512).map(|i| i.to_string()).collect();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    sadd(&mut c, "big", &refs);
    assert_eq!(encoding(&mut c, "big"), "intset");
    sadd(&mut c, "big", &["512"]);
    assert_eq!(encoding(&mut c, "big"), "hashtable");
    c.cmd(&["CONFIG", "SET", "set-max-intset-entries", "2"]);
    sadd(&mut c, "two", &["1", "2"]);
    assert_eq!(encoding(&mut c, "two"), "intset");
    sadd(&mut c, "two", &["3"]);
    assert_eq!(encoding(&mut c, "two"), "hashtable");
}

#[test]
fn spop_and_srandmember() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SPOP", "nokey"]), Reply::Nil);
    assert_eq!(c.cmd(&["SPOP", "nokey", "3"]), Reply::Array(vec![]));
    assert_eq!(c.cmd(&["SRANDMEMBER", "nokey"]), Reply::Nil);
    assert_eq!(c.cmd(&["SRANDMEMBER", "nokey", "3"]), Reply::Array(vec![]));
    let all: Vec<String> = (1..=20).map(|i| i.to_string()).collect();
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    sadd(&mut c, "s", &refs);
    assert_eq!(c.cmd(&["SPOP", "s", "0"]), Reply::Array(vec![]));
    assert_eq!(c.cmd(&["SRANDMEMBER", "s", "0"]), Reply::Array(vec![]));
    let mut popped = sorted(c.cmd(&["SPOP", "s", "2"]));
    assert_eq!(c.cmd(&["SCARD", "s"]), int(18));
    // Popping most of the set takes the "keep the survivors" path.
    popped.extend(sorted(c.cmd(&["SPOP", "s", "17"])));
    assert_eq!(c.cmd(&["SCARD", "s"]), int(1));
    popped.push(c.cmd(&["SPOP", "s"]).text());
    assert_eq!(c.cmd(&["EXISTS", "s"]), int(0));
    popped.sort();
    let mut expected = all.clone();
    expected.sort();
    assert_eq!(popped, expected);
    // A count at least the size pops everything and deletes the key.
    sadd(&mut c, "t", &["a", "b", "c"]);
    assert_eq!(sorted(c.cmd(&["SPOP", "t", "10"])), ["a", "b", "c"]);
    assert_eq!(c.cmd(&["EXISTS", "t"]), int(0));
    // SRANDMEMBER leaves the set alone.
    sadd(
        &mut c,
        "r",
        &["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"],
    );
    assert_eq!(sorted(c.cmd(&["SRANDMEMBER", "r", "50"])).len(), 10);
    for n in [2, 8] {
        let got = sorted(c.cmd(&["SRANDMEMBER", "r", &n.to_string()]));
        let mut unique = got.clone();
        unique.dedup();
        assert_eq!((got.len(), unique.len()), (n, n));
    }
    let Reply::Array(repeats) = c.cmd(&["SRANDMEMBER", "r", "-100"]) else {
        panic!("array");
    };
    assert_eq!(repeats.len(), 100);
    assert_eq!(c.cmd(&["SCARD", "r"]), int(10));
    assert_eq!(
        c.cmd(&["SPOP", "r", "-1"]),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(
        c.cmd(&["SPOP", "r", "x"]),
        err("ERR value is out of range, must be positive")
    );
    assert_eq!(c.cmd(&["SPOP", "r", "1", "2"]), err("ERR syntax error"));
    assert_eq!(
        c.cmd(&["SRANDMEMBER", "r", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["SRANDMEMBER", "r", "-9223372036854775808"]),
        err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
    );
    // RESP3: SPOP with a count is a set, SRANDMEMBER an array.
    c.cmd(&["HELLO", "3"]);
    assert!(matches!(c.cmd(&["SPOP", "r", "2"]), Reply::Set(v) if v.len() == 2));
    assert!(matches!(c.cmd(&["SRANDMEMBER", "r", "2"]), Reply::Array(v) if v.len() == 2));
    assert_eq!(c.cmd(&["SPOP", "nokey", "2"]), Reply::Set(vec![]));
}

#[test]
fn smove() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    sadd(&mut c, "src", &["1", "a", "b"]);
    sadd(&mut c, "dst", &["2", "3"]);
    assert_eq!(c.cmd(&["SMOVE", "src", "dst", "1"]), int(1));
    assert_eq!(encoding(&mut c, "dst"), "intset");
    assert_eq!(c.cmd(&["SMOVE", "src", "dst", "a"]), int(1));
    assert_eq!(encoding(&mut c, "dst"), "hashtable");
    assert_eq!(sorted(c.cmd(&["SMEMBERS", "dst"])), ["1", "2", "3", "a"]);
    assert_eq!(c.cmd(&["SMOVE", "src", "dst", "zz"]), int(0));
    assert_eq!(c.cmd(&["SMOVE", "src", "src", "b"]), int(1));
    assert_eq!(c.cmd(&["SMOVE", "src", "src", "zz"]), int(0));
    // Moving the last member deletes the source; a new destination is made.
    assert_eq!(c.cmd(&["SMOVE", "src", "new", "b"]), int(1));
    assert_eq!(c.cmd(&["EXISTS", "src"]), int(0));
    assert_eq!(sorted(c.cmd(&["SMEMBERS", "new"])), ["b"]);
    assert_eq!(c.cmd(&["SMOVE", "nokey", "dst", "a"]), int(0));
}

#[test]
fn algebra() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    sadd(&mut c, "a", &["1", "2", "3", "4", "x"]);
    sadd(&mut c, "b", &["3", "4", "5", "x"]);
    sadd(&mut c, "c", &["4", "x", "y"]);
    assert_eq!(sorted(c.cmd(&["SINTER", "a", "b", "c"])), ["4", "x"]);
    assert_eq!(
        sorted(c.cmd(&["SINTER", "a", "nokey"])),
        Vec::<String>::new()
    );
    assert_eq!(
        sorted(c.cmd(&["SUNION", "a", "nokey", "c"])),
        ["1", "2", "3", "4", "x", "y"]
    );
    assert_eq!(sorted(c.cmd(&["SDIFF", "a", "b", "nokey"])), ["1", "2"]);
    assert_eq!(
        sorted(c.cmd(&["SDIFF", "nokey", "a"])),
        Vec::<String>::new()
    );
    assert_eq!(sorted(c.cmd(&["SDIFF", "a", "a"])), Vec::<String>::new());
    assert_eq!(c.cmd(&["SINTERCARD", "3", "a", "b", "c"]), int(2));
    assert_eq!(c.cmd(&["SINTERCARD", "2", "a", "b", "LIMIT", "1"]), int(1));
    assert_eq!(c.cmd(&["SINTERCARD", "2", "a", "b", "limit", "0"]), int(3));
    assert_eq!(c.cmd(&["SINTERCARD", "1", "nokey"]), int(0));
    // STORE forms: an all-integer result is an intset; TTLs are replaced.
    c.cmd(&["SET", "d", "old"]);
    c.cmd(&["EXPIRE", "d", "100"]);
    assert_eq!(c.cmd(&["SDIFFSTORE", "d", "a", "b"]), int(2));
    assert_eq!(encoding(&mut c, "d"), "intset");
    assert_eq!(c.cmd(&["TTL", "d"]), int(-1));
    assert_eq!(c.cmd(&["SINTERSTORE", "d", "a", "b"]), int(3));
    assert_eq!(encoding(&mut c, "d"), "hashtable");
    assert_eq!(c.cmd(&["SUNIONSTORE", "d", "a", "b"]), int(6));
    assert_eq!(
        sorted(c.cmd(&["SMEMBERS", "d"])),
        ["1", "2", "3", "4", "5", "x"]
    );
    // An empty result deletes the destination.
    for store in ["SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"] {
        c.cmd(&["SET", "e", "x"]);
        assert_eq!(c.cmd(&[store, "e", "nokey1", "nokey2"]), int(0));
        assert_eq!(c.cmd(&["EXISTS", "e"]), int(0), "{store}");
    }
    // RESP3: the algebra replies sets.
    c.cmd(&["HELLO", "3"]);
    assert!(matches!(c.cmd(&["SINTER", "a", "b"]), Reply::Set(v) if v.len() == 3));
    assert_eq!(c.cmd(&["SINTER", "a", "nokey"]), Reply::Set(vec![]));
    assert!(matches!(c.cmd(&["SUNION", "a", "b"]), Reply::Set(v) if v.len() == 6));
    assert!(matches!(c.cmd(&["SDIFF", "a", "b"]), Reply::Set(v) if v.len() == 2));
}

#[test]
fn sintercard_argument_errors() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let numkeys = err("ERR numkeys should be greater than 0");
    assert_eq!(c.cmd(&["SINTERCARD", "0", "a"]), numkeys);
    assert_eq!(c.cmd(&["SINTERCARD", "x", "a"]), numkeys);
    assert_eq!(
        c.cmd(&["SINTERCARD", "2", "a"]),
        err("ERR Number of keys can't be greater than number of args")
    );
    assert_eq!(
        c.cmd(&["SINTERCARD", "1", "a", "b"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["SINTERCARD", "1", "a", "LIMIT"]),
        err("ERR syntax error")
    );
    let limit = err("ERR LIMIT can't be negative");
    assert_eq!(c.cmd(&["SINTERCARD", "1", "a", "LIMIT", "-1"]), limit);
    assert_eq!(c.cmd(&["SINTERCARD", "1", "a", "LIMIT", "x"]), limit);
    assert_eq!(
        c.cmd(&["SINTERCARD", "1"]),
        err("ERR wrong number of arguments for 'sintercard' command")
    );
}

#[test]
fn sscan() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let members: Vec<String> = (0..600).map(|i| format!("m{i}")).collect();
    let refs: Vec<&str> = members.iter().map(String::as_str).collect();
    sadd(&mut c, "big", &refs);
    let mut seen = std::collections::HashSet::new();
    let mut cursor = "0".to_string();
    loop {
        let Reply::Array(parts) = c.cmd(&["SSCAN", "big", &cursor]) else {
            panic!("SSCAN reply");
        };
        cursor = parts[0].text();
        seen.extend(sorted(parts[1].clone()));
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 600);
    sadd(&mut c, "ints", &["1", "10", "2", "20"]);
    assert_eq!(
        c.cmd(&["SSCAN", "ints", "0", "MATCH", "1*"]),
        Reply::Array(vec![
            bulk("0"),
            Reply::Array(["1", "10"].map(bulk).to_vec())
        ])
    );
    assert_eq!(
        c.cmd(&["SSCAN", "nokey", "0"]),
        Reply::Array(vec![bulk("0"), Reply::Array(vec![])])
    );
    assert_eq!(
        c.cmd(&["SSCAN", "ints", "0", "FOO"]),
        err("ERR syntax error")
    );
}

#[test]
fn srandmember_is_uniform_on_a_hashtable() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    sadd(
        &mut c,
        "s",
        &[
            "1",
            "5",
            "10",
            "50",
            "125",
            "MARY",
            "PATRICIA",
            "LINDA",
            "BARBARA",
            "ELIZABETH",
        ],
    );
    assert_eq!(encoding(&mut c, "s"), "hashtable");
    let Reply::Array(picks) = c.cmd(&["SRANDMEMBER", "s", "-10000"]) else {
        panic!("array");
    };
    let mut counts = std::collections::HashMap::new();
    for p in picks {
        *counts.entry(p.text()).or_insert(0) += 1;
    }
    assert_eq!(counts.len(), 10);
    assert!(
        counts.values().all(|&n| (800..1200).contains(&n)),
        "{counts:?}"
    );
}

#[test]
fn smove_touches_a_watched_destination_only_when_it_adds() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let mut other = server.conn();
    c.cmd(&["SADD", "src", "a", "b"]);
    c.cmd(&["SADD", "dst", "a"]);
    c.cmd(&["WATCH", "dst"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["SADD", "dst", "c"]);
    // "a" is already in dst: dst does not change, the transaction runs.
    assert_eq!(other.cmd(&["SMOVE", "src", "dst", "a"]), int(1));
    assert_eq!(c.cmd(&["EXEC"]), Reply::Array(vec![int(1)]));
    assert_eq!(c.cmd(&["SCARD", "dst"]), int(2));
    // "b" is new in dst: the transaction is aborted.
    c.cmd(&["WATCH", "dst"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["SADD", "dst", "d"]);
    assert_eq!(other.cmd(&["SMOVE", "src", "dst", "b"]), int(1));
    assert_eq!(c.cmd(&["EXEC"]), Reply::Nil);
    // The source always changes.
    c.cmd(&["SADD", "src", "x"]);
    c.cmd(&["WATCH", "src"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["PING"]);
    assert_eq!(other.cmd(&["SMOVE", "src", "dst", "x"]), int(1));
    assert_eq!(c.cmd(&["EXEC"]), Reply::Nil);
}
