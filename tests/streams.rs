//! Stream commands through a real connection.

mod common;
use common::{bulk, wait_for, Conn, Reply, Server};

fn ok() -> Reply {
    Reply::Status("OK".into())
}

#[test]
fn xadd_ids_and_errors() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["XADD", "s", "1-1", "f", "v"]), bulk("1-1"));
    assert_eq!(c.cmd(&["XADD", "s", "1-*", "f", "v"]), bulk("1-2"));
    assert_eq!(
        c.cmd(&["XADD", "s", "1-1", "f", "v"]),
        Reply::Error(
            "ERR The ID specified in XADD is equal or smaller than the target stream top item"
                .into()
        )
    );
    assert_eq!(
        c.cmd(&["XADD", "t", "0-0", "f", "v"]),
        Reply::Error("ERR The ID specified in XADD must be greater than 0-0".into())
    );
    assert_eq!(
        c.cmd(&["XADD", "s", "bad", "f", "v"]),
        Reply::Error("ERR Invalid stream ID specified as stream command argument".into())
    );
    assert_eq!(
        c.cmd(&["XADD", "s", "*", "f"]),
        Reply::Error("ERR wrong number of arguments for 'xadd' command".into())
    );
    assert_eq!(
        c.cmd(&["XADD", "nokey", "NOMKSTREAM", "*", "f", "v"]),
        Reply::Nil
    );
    assert_eq!(c.cmd(&["XLEN", "s"]), Reply::Int(2));
    assert_eq!(c.cmd(&["TYPE", "s"]), Reply::Status("stream".into()));
    c.cmd(&["SET", "str", "x"]);
    assert_eq!(
        c.cmd(&["XADD", "str", "*", "f", "v"]),
        Reply::Error("WRONGTYPE Operation against a key holding the wrong kind of value".into())
    );
}

#[test]
fn ranges_and_trimming() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    for i in 1..=1000 {
        c.cmd(&["XADD", "s", &format!("{i}-0"), "n", &i.to_string()]);
    }
    let entry =
        |id: &str, n: &str| Reply::Array(vec![bulk(id), Reply::Array(vec![bulk("n"), bulk(n)])]);
    assert_eq!(
        c.cmd(&["XRANGE", "s", "-", "+", "COUNT", "1"]),
        Reply::Array(vec![entry("1-0", "1")])
    );
    assert_eq!(
        c.cmd(&["XRANGE", "s", "(1-0", "2"]),
        Reply::Array(vec![entry("2-0", "2")])
    );
    assert_eq!(
        c.cmd(&["XREVRANGE", "s", "+", "-", "COUNT", "1"]),
        Reply::Array(vec![entry("1000-0", "1000")])
    );
    // Redis's own sequence: exact, exact, then approximate in whole nodes of 100.
    assert_eq!(c.cmd(&["XTRIM", "s", "MAXLEN", "666"]), Reply::Int(334));
    assert_eq!(
        c.cmd(&["XTRIM", "s", "MAXLEN", "=", "555"]),
        Reply::Int(111)
    );
    c.cmd(&["XTRIM", "s", "MAXLEN", "~", "444"]);
    assert_eq!(c.cmd(&["XLEN", "s"]), Reply::Int(500));
    assert_eq!(
        c.cmd(&["XTRIM", "s", "MAXLEN", "10", "LIMIT", "5"]),
        Reply::Error("ERR syntax error, LIMIT cannot be used without the special ~ option".into())
    );
    assert_eq!(c.cmd(&["XDEL", "s", "999-0", "5-0"]), Reply::Int(1));
}

#[test]
fn consumer_groups() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    for i in 1..=3 {
        c.cmd(&["XADD", "s", &format!("{i}-0"), "f", "v"]);
    }
    assert_eq!(c.cmd(&["XGROUP", "CREATE", "s", "g", "0"]), ok());
    assert_eq!(
        c.cmd(&["XGROUP", "CREATE", "s", "g", "0"]),
        Reply::Error("BUSYGROUP Consumer Group name already exists".into())
    );
    match c.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "COUNT",
        "2",
        "STREAMS",
        "s",
        ">",
    ]) {
        Reply::Array(streams) => match &streams[0] {
            Reply::Array(kv) => assert_eq!(
                kv[1].clone(),
                Reply::Array(vec![
                    Reply::Array(vec![bulk("1-0"), Reply::Array(vec![bulk("f"), bulk("v")])]),
                    Reply::Array(vec![bulk("2-0"), Reply::Array(vec![bulk("f"), bulk("v")])]),
                ])
            ),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    match c.cmd(&["XPENDING", "s", "g"]) {
        Reply::Array(v) => {
            assert_eq!(v[0], Reply::Int(2));
            assert_eq!(v[1], bulk("1-0"));
            assert_eq!(v[2], bulk("2-0"));
            assert_eq!(
                v[3],
                Reply::Array(vec![Reply::Array(vec![bulk("alice"), bulk("2")])])
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.cmd(&["XACK", "s", "g", "1-0", "9-0"]), Reply::Int(1));
    assert_eq!(
        c.cmd(&["XCLAIM", "s", "g", "bob", "0", "2-0", "JUSTID"]),
        Reply::Array(vec![bulk("2-0")])
    );
    assert_eq!(
        c.cmd(&["XGROUP", "DELCONSUMER", "s", "g", "bob"]),
        Reply::Int(1)
    );
    assert_eq!(
        c.cmd(&["XREADGROUP", "GROUP", "nog", "c", "STREAMS", "s", ">"]),
        Reply::Error(
            "NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option"
                .into()
        )
    );
    assert_eq!(c.cmd(&["XGROUP", "DESTROY", "s", "g"]), Reply::Int(1));
}

// ---- blocking XREAD / XREADGROUP ------------------------------------------

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

/// `[[key, [[id, [f, v]]]]]`, the XREAD reply for one entry of one stream.
fn one_entry(key: &str, id: &str, f: &str, v: &str) -> Reply {
    Reply::Array(vec![Reply::Array(vec![
        bulk(key),
        Reply::Array(vec![Reply::Array(vec![
            bulk(id),
            Reply::Array(vec![bulk(f), bulk(v)]),
        ])]),
    ])])
}

#[test]
fn xread_block_dollar_waits_for_the_next_xadd() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut r = s.conn();
    c.cmd(&["XADD", "s", "5-0", "old", "1"]);
    r.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(&mut c, 1);
    // Entries that are not after the ID `$` stood for do not wake it ...
    c.cmd(&["DEL", "s"]);
    c.cmd(&["XADD", "s", "3-0", "f", "v"]);
    c.cmd(&["LPUSH", "other", "x"]);
    assert_eq!(blocked_clients(&mut c), 1);
    // ... an entry after 5-0 does.
    c.cmd(&["XADD", "s", "6-0", "new", "2"]);
    assert_eq!(r.read_reply(), one_entry("s", "6-0", "new", "2"));
    assert_eq!(blocked_clients(&mut c), 0);
    // Served from old data at once; timeout gives the null array.
    assert_eq!(
        r.cmd(&["XREAD", "BLOCK", "0", "STREAMS", "s", "5-0"]),
        one_entry("s", "6-0", "new", "2")
    );
    assert_eq!(
        r.cmd(&["XREAD", "BLOCK", "10", "STREAMS", "s", "$"]),
        Reply::Nil
    );
}

#[test]
fn xread_block_serves_waiters_first_come_first_served() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut first = s.conn();
    let mut second = s.conn();
    first.send(&["XREAD", "BLOCK", "0", "STREAMS", "a", "b", "$", "$"]);
    wait_blocked(&mut c, 1);
    second.send(&["XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "b", "$"]);
    wait_blocked(&mut c, 2);
    // Both streams of a MULTI: XREAD readers all see what was added.
    c.cmd(&["MULTI"]);
    c.cmd(&["XADD", "b", "1-0", "x", "1"]);
    c.cmd(&["XADD", "b", "2-0", "y", "2"]);
    c.cmd(&["EXEC"]);
    let both = Reply::Array(vec![Reply::Array(vec![
        bulk("b"),
        Reply::Array(vec![
            Reply::Array(vec![bulk("1-0"), Reply::Array(vec![bulk("x"), bulk("1")])]),
            Reply::Array(vec![bulk("2-0"), Reply::Array(vec![bulk("y"), bulk("2")])]),
        ]),
    ])]);
    assert_eq!(first.read_reply(), both);
    assert_eq!(second.read_reply(), one_entry("b", "1-0", "x", "1"));
    assert_eq!(blocked_clients(&mut c), 0);
}

#[test]
fn xreadgroup_block_delivers_to_one_consumer_at_a_time() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut alice = s.conn();
    let mut bob = s.conn();
    assert_eq!(
        c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]),
        ok()
    );
    alice.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "alice",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(&mut c, 1);
    bob.send(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "bob",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    wait_blocked(&mut c, 2);
    // A blocked consumer is not created until it is served.
    assert_eq!(
        c.cmd(&["XINFO", "CONSUMERS", "s", "g"]),
        Reply::Array(vec![])
    );
    c.cmd(&["XADD", "s", "1-0", "f", "v1"]);
    assert_eq!(alice.read_reply(), one_entry("s", "1-0", "f", "v1"));
    assert_eq!(blocked_clients(&mut c), 1);
    c.cmd(&["XADD", "s", "2-0", "f", "v2"]);
    assert_eq!(bob.read_reply(), one_entry("s", "2-0", "f", "v2"));
    // Each got its entry in its PEL.
    let pending = c.cmd(&["XPENDING", "s", "g"]);
    assert_eq!(
        pending,
        Reply::Array(vec![
            Reply::Int(2),
            bulk("1-0"),
            bulk("2-0"),
            Reply::Array(vec![
                Reply::Array(vec![bulk("alice"), bulk("1")]),
                Reply::Array(vec![bulk("bob"), bulk("1")]),
            ]),
        ])
    );
}

#[test]
fn xreadgroup_block_ends_when_key_or_group_goes() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut r1 = s.conn();
    let mut r2 = s.conn();
    let mut r3 = s.conn();
    let gone = Reply::Error("UNBLOCKED the stream key no longer exists".into());
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    let read = [
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ];
    r1.send(&read);
    r2.send(&read);
    wait_blocked(&mut c, 2);
    c.cmd(&["DEL", "s"]);
    assert_eq!(r1.read_reply(), gone);
    assert_eq!(r2.read_reply(), gone);
    // A type change.
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    r1.send(&read);
    wait_blocked(&mut c, 1);
    c.cmd(&["SET", "s", "x"]);
    assert_eq!(r1.read_reply(), gone);
    // XGROUP DESTROY: -NOGROUP, while an XREAD on the same key keeps waiting.
    c.cmd(&["DEL", "s"]);
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    r1.send(&read);
    r3.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(&mut c, 2);
    assert_eq!(c.cmd(&["XGROUP", "DESTROY", "s", "g"]), Reply::Int(1));
    assert_eq!(
        r1.read_reply(),
        Reply::Error(
            "NOGROUP the consumer group this client was blocked on no longer exists".into()
        )
    );
    assert_eq!(blocked_clients(&mut c), 1);
    c.cmd(&["XADD", "s", "9-0", "f", "v"]);
    assert_eq!(r3.read_reply(), one_entry("s", "9-0", "f", "v"));
}

#[test]
fn blocking_reads_do_not_block_inside_multi() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    c.cmd(&[
        "XREADGROUP",
        "GROUP",
        "g",
        "c",
        "BLOCK",
        "0",
        "STREAMS",
        "s",
        ">",
    ]);
    assert_eq!(c.cmd(&["EXEC"]), Reply::Array(vec![Reply::Nil, Reply::Nil]));
    assert_eq!(
        c.cmd(&["XREAD", "BLOCK", "-1", "STREAMS", "s", "$"]),
        Reply::Error("ERR timeout is negative".into())
    );
}

// ---- DUMP/RESTORE, notifications, AOF ------------------------------------

#[test]
fn dump_restore_keeps_groups_and_counters() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["XADD", "s", "1-1", "a", "1"]);
    c.cmd(&["XADD", "s", "2-1", "b", "2"]);
    c.cmd(&["XDEL", "s", "1-1"]);
    c.cmd(&["XGROUP", "CREATE", "s", "g", "0"]);
    c.cmd(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "s", ">"]);
    let Reply::Bulk(payload) = c.cmd(&["DUMP", "s"]) else {
        panic!("DUMP gave no bulk");
    };
    assert_eq!(c.cmd_bytes(&[b"RESTORE", b"t", b"0", &payload]), ok());
    assert_eq!(
        c.cmd(&["XINFO", "STREAM", "t", "FULL"]),
        c.cmd(&["XINFO", "STREAM", "s", "FULL"])
    );
}

#[test]
fn stream_commands_raise_t_events() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut sub = s.conn();
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Et"]);
    sub.cmd(&["SUBSCRIBE", "__keyevent@0__:xadd"]);
    sub.cmd(&["SUBSCRIBE", "__keyevent@0__:xtrim"]);
    sub.cmd(&["SUBSCRIBE", "__keyevent@0__:xgroup-createconsumer"]);
    c.cmd(&["XADD", "s", "1-0", "f", "v"]);
    c.cmd(&["XADD", "s", "MAXLEN", "1", "2-0", "f", "v"]);
    c.cmd(&["XGROUP", "CREATECONSUMER", "s", "g", "c"]);
    c.cmd(&["XGROUP", "CREATE", "s", "g", "0"]);
    c.cmd(&["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s", ">"]);
    let event = |name: &str| {
        Reply::Array(vec![
            bulk("message"),
            bulk(&format!("__keyevent@0__:{name}")),
            bulk("s"),
        ])
    };
    assert_eq!(sub.read_reply(), event("xadd"));
    assert_eq!(sub.read_reply(), event("xadd"));
    assert_eq!(sub.read_reply(), event("xtrim"));
    assert_eq!(sub.read_reply(), event("xgroup-createconsumer"));
}

/// The reply with every `seen-time` value zeroed: a consumer's seen time
/// is the time of the replay after a restart, in Redis too.
fn without_seen_times(reply: Reply) -> Reply {
    match reply {
        Reply::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            let mut after_seen = false;
            for item in items {
                let is_seen = item == bulk("seen-time");
                out.push(if after_seen {
                    Reply::Int(0)
                } else {
                    without_seen_times(item)
                });
                after_seen = is_seen;
            }
            Reply::Array(out)
        }
        other => other,
    }
}

#[test]
fn stream_with_groups_survives_aof_rewrite_and_restart() {
    let dir = std::env::temp_dir().join(format!(
        "ferredis-streams-aof-{}-{}",
        std::process::id(),
        common::free_port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let info;
    {
        let mut s = Server::start_in(&dir, &["--appendonly", "yes"]);
        let mut c = s.conn();
        c.cmd(&["XADD", "s", "*", "a", "1"]);
        c.cmd(&["XADD", "s", "*", "b", "2"]);
        c.cmd(&["XADD", "s", "*", "c", "3"]);
        c.cmd(&["XGROUP", "CREATE", "s", "g", "0"]);
        c.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "alice",
            "COUNT",
            "2",
            "STREAMS",
            "s",
            ">",
        ]);
        assert!(matches!(c.cmd(&["BGREWRITEAOF"]), Reply::Status(_)));
        assert!(wait_for(30, || {
            c.cmd(&["INFO", "persistence"])
                .text()
                .contains("aof_rewrite_in_progress:0")
        }));
        // Written after the rewrite: lands in the new incremental file.
        c.cmd(&[
            "XREADGROUP",
            "GROUP",
            "g",
            "bob",
            "NOACK",
            "STREAMS",
            "s",
            ">",
        ]);
        c.cmd(&["XADD", "s", "MAXLEN", "~", "2", "*", "d", "4"]);
        info = without_seen_times(c.cmd(&["XINFO", "STREAM", "s", "FULL"]));
        s.kill();
    }
    let s = Server::start_in(&dir, &["--appendonly", "yes"]);
    let mut c = s.conn();
    assert_eq!(
        without_seen_times(c.cmd(&["XINFO", "STREAM", "s", "FULL"])),
        info
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn client_unblock_ends_a_blocked_xread() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut r = s.conn();
    let Reply::Int(id) = r.cmd(&["CLIENT", "ID"]) else {
        panic!("CLIENT ID gave no integer");
    };
    let id = id.to_string();
    r.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id]), Reply::Int(1));
    assert_eq!(r.read_reply(), Reply::Nil);
    r.send(&["XREAD", "BLOCK", "0", "STREAMS", "s", "$"]);
    wait_blocked(&mut c, 1);
    assert_eq!(c.cmd(&["CLIENT", "UNBLOCK", &id, "ERROR"]), Reply::Int(1));
    assert_eq!(
        r.read_reply(),
        Reply::Error("UNBLOCKED client unblocked via CLIENT UNBLOCK".into())
    );
    assert_eq!(blocked_clients(&mut c), 0);
}

#[test]
fn error_texts_and_their_order_match_redis() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let err = |t: &str| Reply::Error(t.into());
    assert_eq!(
        c.cmd(&["XGROUP", "CREATE", "s"]),
        err("ERR wrong number of arguments for 'xgroup|create' command")
    );
    assert_eq!(
        c.cmd(&["XGROUP", "FOO"]),
        err("ERR unknown subcommand 'FOO'. Try XGROUP HELP.")
    );
    assert_eq!(
        c.cmd(&["XINFO", "GROUPS", "s", "x"]),
        err("ERR wrong number of arguments for 'xinfo|groups' command")
    );
    c.cmd(&["XADD", "s", "5-18446744073709551615", "a", "b"]);
    assert_eq!(
        c.cmd(&["XGROUP", "CREATE", "s", "g", "$", "FOO"]),
        err("ERR unknown subcommand or wrong number of arguments for 'CREATE'. Try XGROUP HELP.")
    );
    assert_eq!(
        c.cmd(&["XADD", "s", "5-*", "a", "b"]),
        err("ERR Elements are too large to be stored")
    );
    c.cmd(&[
        "XADD",
        "s",
        "18446744073709551615-18446744073709551615",
        "a",
        "b",
    ]);
    assert_eq!(
        c.cmd(&["XADD", "s", "*", "a", "b"]),
        err("ERR The stream has exhausted the last possible ID, unable to add more items")
    );
    // The ID is checked before LIMIT and the field count.
    assert_eq!(
        c.cmd(&["XADD", "s", "LIMIT", "1", "bad", "a"]),
        err("ERR Invalid stream ID specified as stream command argument")
    );
    assert_eq!(
        c.cmd(&["XADD", "s", "LIMIT", "1", "*", "a", "b"]),
        err("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
    );
    // XACK without the group acknowledges nothing, whatever the IDs;
    // XCLAIM reports the missing group before its other arguments.
    assert_eq!(c.cmd(&["XACK", "s", "nog", "bad"]), Reply::Int(0));
    assert_eq!(
        c.cmd(&["XCLAIM", "s", "nog", "c", "x", "1-1"]),
        err("NOGROUP No such key 's' or consumer group 'nog'")
    );
    assert_eq!(
        c.cmd(&["XRANGE", "s", "(-", "+"]),
        err("ERR Invalid stream ID specified as stream command argument")
    );
    assert_eq!(
        c.cmd(&["XRANGE", "s", "-", "(0-0"]),
        err("ERR invalid end ID for the interval")
    );
    assert_eq!(
        c.cmd(&["XREAD", "STREAMS", "s", "t", "0"]),
        err("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.")
    );
}
