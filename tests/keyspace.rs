//! Keyspace commands against the real binary: DEL, EXISTS, TYPE, KEYS,
//! SCAN, RENAME, MOVE, COPY, SWAPDB, FLUSH*, OBJECT, TOUCH, RANDOMKEY,
//! DBSIZE and the INFO statistics they drive, with Redis's error replies.

mod common;
use common::{bulk, wait_for, Conn, Reply, Server};

fn ok() -> Reply {
    Reply::Status("OK".into())
}

fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

fn sorted(r: Reply) -> Vec<String> {
    let Reply::Array(items) = r else {
        panic!("not an array: {r:?}");
    };
    let mut v: Vec<String> = items.iter().map(Reply::text).collect();
    v.sort();
    v
}

#[test]
fn del_exists_type_dbsize() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]);
    assert_eq!(c.cmd(&["EXISTS", "a", "a", "nokey"]), Reply::Int(2));
    assert_eq!(c.cmd(&["TYPE", "a"]), Reply::Status("string".into()));
    assert_eq!(c.cmd(&["TYPE", "nokey"]), Reply::Status("none".into()));
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(3));
    assert_eq!(c.cmd(&["DEL", "a", "nokey"]), Reply::Int(1));
    assert_eq!(c.cmd(&["UNLINK", "b", "c"]), Reply::Int(2));
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(0));
    assert_eq!(
        c.cmd(&["DEL"]),
        err("ERR wrong number of arguments for 'del' command")
    );
    assert_eq!(c.cmd(&["RANDOMKEY"]), Reply::Nil);
    c.cmd(&["SET", "only", "1"]);
    assert_eq!(c.cmd(&["RANDOMKEY"]), bulk("only"));
}

#[test]
fn keys_and_scan() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&[
        "MSET", "foo", "1", "fab", "2", "fiz", "3", "bar", "4", "f*", "5",
    ]);
    assert_eq!(sorted(c.cmd(&["KEYS", "f?o"])), ["foo"]);
    assert_eq!(sorted(c.cmd(&["KEYS", "f[a-i]*"])), ["fab", "fiz"]);
    assert_eq!(sorted(c.cmd(&["KEYS", "f[^o]*"])), ["f*", "fab", "fiz"]);
    assert_eq!(sorted(c.cmd(&["KEYS", "f\\*"])), ["f*"]);
    assert_eq!(sorted(c.cmd(&["KEYS", "*"])).len(), 5);
    // A full SCAN returns every key.
    for i in 0..500 {
        c.cmd(&["SET", &format!("key:{i}"), "v"]);
    }
    let mut cursor = "0".to_string();
    let mut seen = std::collections::HashSet::new();
    loop {
        let Reply::Array(r) = c.cmd(&["SCAN", &cursor, "MATCH", "key:*", "COUNT", "50"]) else {
            panic!("scan reply");
        };
        cursor = r[0].text();
        if let Reply::Array(keys) = &r[1] {
            seen.extend(keys.iter().map(Reply::text));
        }
        if cursor == "0" {
            break;
        }
    }
    assert_eq!(seen.len(), 500);
    let Reply::Array(r) = c.cmd(&["SCAN", "0", "TYPE", "list", "COUNT", "1000"]) else {
        panic!("scan reply");
    };
    assert_eq!(r[1], Reply::Array(vec![]));
    assert_eq!(c.cmd(&["SCAN", "abc"]), err("ERR invalid cursor"));
    assert_eq!(c.cmd(&["SCAN", "0", "COUNT", "0"]), err("ERR syntax error"));
    assert_eq!(c.cmd(&["SCAN", "0", "FOO", "1"]), err("ERR syntax error"));
}

#[test]
fn rename_move_copy_swapdb() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["SET", "a", "1"]);
    assert_eq!(c.cmd(&["RENAME", "a", "b"]), ok());
    assert_eq!(c.cmd(&["RENAME", "nokey", "x"]), err("ERR no such key"));
    c.cmd(&["SET", "c", "3"]);
    assert_eq!(c.cmd(&["RENAMENX", "b", "c"]), Reply::Int(0));
    assert_eq!(c.cmd(&["RENAMENX", "b", "d"]), Reply::Int(1));
    assert_eq!(c.cmd(&["MOVE", "d", "1"]), Reply::Int(1));
    assert_eq!(c.cmd(&["MOVE", "d", "1"]), Reply::Int(0));
    assert_eq!(
        c.cmd(&["MOVE", "c", "0"]),
        err("ERR source and destination objects are the same")
    );
    assert_eq!(
        c.cmd(&["MOVE", "c", "99"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        c.cmd(&["MOVE", "c", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.cmd(&["SELECT", "1"]), ok());
    assert_eq!(c.cmd(&["GET", "d"]), bulk("1"));
    assert_eq!(c.cmd(&["SELECT", "0"]), ok());
    assert_eq!(c.cmd(&["COPY", "c", "e"]), Reply::Int(1));
    assert_eq!(c.cmd(&["COPY", "c", "e"]), Reply::Int(0));
    assert_eq!(c.cmd(&["COPY", "c", "e", "REPLACE"]), Reply::Int(1));
    assert_eq!(c.cmd(&["COPY", "c", "d", "DB", "1"]), Reply::Int(0));
    assert_eq!(c.cmd(&["COPY", "c", "z", "DB", "1"]), Reply::Int(1));
    assert_eq!(c.cmd(&["COPY", "c", "z", "FOO"]), err("ERR syntax error"));
    assert_eq!(c.cmd(&["SWAPDB", "0", "1"]), ok());
    assert_eq!(c.cmd(&["GET", "d"]), bulk("1"));
    assert_eq!(
        c.cmd(&["SWAPDB", "0", "100"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        c.cmd(&["SWAPDB", "a", "1"]),
        err("ERR invalid first DB index")
    );
    assert_eq!(
        c.cmd(&["SWAPDB", "0", "b"]),
        err("ERR invalid second DB index")
    );
    assert_eq!(c.cmd(&["FLUSHDB"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(0));
    assert_eq!(c.cmd(&["FLUSHALL", "ASYNC"]), ok());
    assert_eq!(c.cmd(&["FLUSHALL", "SYNC"]), ok());
    assert_eq!(c.cmd(&["FLUSHALL", "FOO"]), err("ERR syntax error"));
}

#[test]
fn object_touch_and_access_time() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["SET", "n", "12"]);
    c.cmd(&["SET", "big", "123456"]);
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "n"]), bulk("int"));
    assert_eq!(c.cmd(&["OBJECT", "REFCOUNT", "n"]), Reply::Int(2147483647));
    assert_eq!(c.cmd(&["OBJECT", "REFCOUNT", "big"]), Reply::Int(1));
    assert_eq!(c.cmd(&["OBJECT", "IDLETIME", "n"]), Reply::Int(0));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "nokey"]), Reply::Nil);
    assert_eq!(
        c.cmd(&["OBJECT", "FOO", "n"]),
        err("ERR unknown subcommand 'FOO'. Try OBJECT HELP.")
    );
    assert_eq!(
        c.cmd(&["OBJECT", "ENCODING"]),
        err("ERR wrong number of arguments for 'object|encoding' command")
    );
    assert!(c
        .cmd(&["OBJECT", "FREQ", "n"])
        .text()
        .starts_with("ERR An LFU maxmemory policy is not selected"));
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]),
        ok()
    );
    // One word per key means one thing at a time, as in Redis: the access
    // time of a key made under LRU reads as a counter of 0 under LFU.
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "n"]), Reply::Int(0));
    c.cmd(&["SET", "f", "abc"]);
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "f"]), Reply::Int(5));
    for _ in 0..20 {
        c.cmd(&["GET", "f"]);
    }
    assert!(matches!(c.cmd(&["OBJECT", "FREQ", "f"]), Reply::Int(f) if f > 5));
    assert!(c
        .cmd(&["OBJECT", "IDLETIME", "n"])
        .text()
        .starts_with("ERR An LFU maxmemory policy is selected"));
    assert_eq!(c.cmd(&["TOUCH", "n", "big", "nokey"]), Reply::Int(2));
    let Reply::Status(line) = c.cmd(&["DEBUG", "OBJECT", "big"]) else {
        panic!("debug object");
    };
    assert!(line.starts_with("Value at:") && line.contains("encoding:int"));
    assert_eq!(c.cmd(&["DEBUG", "OBJECT", "nokey"]), err("ERR no such key"));
}

#[test]
fn keyspace_hits_and_misses() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
    c.cmd(&["GET", "k"]);
    c.cmd(&["GET", "nokey"]);
    c.cmd(&["MGET", "k", "nokey", "nokey2"]);
    assert_eq!(c.info_field("stats", "keyspace_hits"), "2");
    assert_eq!(c.info_field("stats", "keyspace_misses"), "3");
}

#[test]
fn info_sections_clients_read() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["SET", "k", "v", "EX", "100"]);
    c.cmd(&["SET", "k2", "v"]);
    assert_eq!(c.info_field("server", "redis_version"), "7.0.15");
    assert_eq!(c.info_field("server", "arch_bits"), "64");
    assert_eq!(c.info_field("cluster", "cluster_enabled"), "0");
    // The start-up probe connection may still be closing: wait for it.
    assert!(common::wait_for(5, || c
        .info_field("clients", "connected_clients")
        == "1"));
    assert!(c
        .info_field("keyspace", "db0")
        .starts_with("keys=2,expires=1,"));
    let all = c.cmd(&["INFO", "everything"]).text();
    for header in [
        "# Server",
        "# Memory",
        "# Stats",
        "# Commandstats",
        "# Keyspace",
    ] {
        assert!(all.contains(header), "{header}");
    }
    assert!(c
        .cmd(&["INFO", "commandstats"])
        .text()
        .contains("cmdstat_set:calls=2,"));
    assert_eq!(c.cmd(&["INFO", "nosuchsection"]), bulk(""));
}

#[test]
fn time_lastsave_and_command_table() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let Reply::Array(t) = c.cmd(&["TIME"]) else {
        panic!("time");
    };
    assert_eq!(t.len(), 2);
    assert!(t[0].text().parse::<i64>().unwrap() > 1_600_000_000);
    assert!(matches!(c.cmd(&["LASTSAVE"]), Reply::Int(_)));
    assert!(matches!(c.cmd(&["COMMAND", "COUNT"]), Reply::Int(n) if n > 50));
    let Reply::Array(info) = c.cmd(&["COMMAND", "INFO", "get", "nosuch"]) else {
        panic!("command info");
    };
    assert_eq!(info[1], Reply::Nil);
    let Reply::Array(get) = &info[0] else {
        panic!("command info get");
    };
    assert_eq!(get[0], bulk("get"));
    assert_eq!(get[1], Reply::Int(2));
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"]),
        Reply::Array(vec![bulk("a"), bulk("b")])
    );
    assert_eq!(
        c.cmd(&["COMMAND", "COUNT", "x"]),
        err("ERR wrong number of arguments for 'command|count' command")
    );
    assert_eq!(
        c.cmd(&["FOO", "a", "b"]),
        err("ERR unknown command 'FOO', with args beginning with: 'a' 'b' ")
    );
    let Reply::Array(help) = c.cmd(&["MYHELP", "get"]) else {
        panic!("myhelp");
    };
    assert!(help[0].text().contains("GET key"), "{help:?}");
}

#[test]
fn command_list_filters() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let all = sorted(c.cmd(&["COMMAND", "LIST"]));
    assert!(all.contains(&"set".to_string()) && all.contains(&"client|list".to_string()));
    assert_eq!(
        c.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "get"]),
        Reply::Array(vec![bulk("get")])
    );
    let config = sorted(c.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "config*"]));
    assert!(config.contains(&"config|get".to_string()));
    assert_eq!(
        c.cmd(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"]),
        Reply::Array(vec![])
    );
    assert_eq!(
        c.cmd(&["COMMAND", "LIST", "FILTERBY", "MODULE", "m"]),
        Reply::Array(vec![])
    );
    assert_eq!(c.cmd(&["COMMAND", "LIST", "bad"]), err("ERR syntax error"));
}

#[test]
fn unlink_and_flush_async_free_in_the_background() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let freed = |c: &mut Conn| {
        c.info_field("memory", "lazyfreed_objects")
            .parse::<u64>()
            .expect("a count")
    };
    let fill = |c: &mut Conn, key: &str| {
        let members: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
        let mut args = vec!["SADD", key];
        args.extend(members.iter().map(String::as_str));
        assert_eq!(c.cmd(&args), Reply::Int(1000));
    };
    fill(&mut c, "big");
    c.cmd(&["SET", "small", "v"]);
    assert_eq!(c.cmd(&["UNLINK", "big", "small", "none"]), Reply::Int(2));
    assert!(wait_for(10, || freed(&mut c) == 1));
    // DEL frees in place, unless lazyfree-lazy-user-del says otherwise.
    fill(&mut c, "big");
    assert_eq!(c.cmd(&["DEL", "big"]), Reply::Int(1));
    assert_eq!(freed(&mut c), 1);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "lazyfree-lazy-user-del", "yes"]),
        ok()
    );
    fill(&mut c, "big");
    assert_eq!(c.cmd(&["DEL", "big"]), Reply::Int(1));
    assert!(wait_for(10, || freed(&mut c) == 2));
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
    assert_eq!(freed(&mut c), 0);
    // FLUSHALL ASYNC empties at once and frees the keys behind: each one
    // counts, as in Redis.
    for i in 0..100 {
        c.cmd(&["SET", &format!("k{i}"), "v"]);
    }
    assert_eq!(c.cmd(&["FLUSHALL", "ASYNC"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(0));
    assert!(wait_for(10, || freed(&mut c) == 100));
    // FLUSHDB SYNC frees in place; without an argument it follows
    // lazyfree-lazy-user-flush.
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.cmd(&["FLUSHDB", "SYNC"]), ok());
    assert_eq!(freed(&mut c), 100);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "lazyfree-lazy-user-flush", "yes"]),
        ok()
    );
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.cmd(&["FLUSHDB"]), ok());
    assert!(wait_for(10, || freed(&mut c) == 101));
    // lazyfree-lazy-server-del: a value a command replaces; -expire: a
    // key deleted by expiry.
    for setting in ["lazyfree-lazy-server-del", "lazyfree-lazy-expire"] {
        assert_eq!(c.cmd(&["CONFIG", "SET", setting, "yes"]), ok());
    }
    fill(&mut c, "big");
    assert_eq!(c.cmd(&["SET", "big", "small now"]), ok());
    assert!(wait_for(10, || freed(&mut c) == 102));
    fill(&mut c, "gone");
    assert_eq!(c.cmd(&["PEXPIRE", "gone", "1"]), Reply::Int(1));
    assert!(wait_for(10, || c.cmd(&["EXISTS", "gone"]) == Reply::Int(0)));
    assert!(wait_for(10, || freed(&mut c) == 103));
}
