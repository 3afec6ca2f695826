//! Pub/sub: framing of every (un)subscribe reply, subscribed-mode rules,
//! ordering under load, and the output buffer limit for slow subscribers.

mod common;

use common::{bulk, wait_for, Conn, Reply, Server};

fn arr(items: Vec<Reply>) -> Reply {
    Reply::Array(items)
}

fn conf(kind: &str, name: Option<&str>, n: i64) -> Reply {
    arr(vec![
        bulk(kind),
        name.map_or(Reply::Nil, bulk),
        Reply::Int(n),
    ])
}

fn msg(channel: &str, payload: &str) -> Reply {
    arr(vec![bulk("message"), bulk(channel), bulk(payload)])
}

#[test]
fn subscribe_publish_unsubscribe_framing() {
    let server = Server::start(&[]);
    let mut sub = server.conn();
    let mut publ = server.conn();
    sub.send(&["SUBSCRIBE", "a", "b"]);
    assert_eq!(sub.read_reply(), conf("subscribe", Some("a"), 1));
    assert_eq!(sub.read_reply(), conf("subscribe", Some("b"), 2));
    sub.send(&["PSUBSCRIBE", "a*"]);
    assert_eq!(sub.read_reply(), conf("psubscribe", Some("a*"), 3));
    assert_eq!(publ.cmd(&["PUBLISH", "a", "hi"]), Reply::Int(2));
    assert_eq!(sub.read_reply(), msg("a", "hi"));
    assert_eq!(
        sub.read_reply(),
        arr(vec![bulk("pmessage"), bulk("a*"), bulk("a"), bulk("hi")])
    );
    assert_eq!(publ.cmd(&["PUBLISH", "zzz", "x"]), Reply::Int(0));
    assert_eq!(
        publ.cmd(&["PUBSUB", "NUMSUB", "a", "zzz"]),
        arr(vec![bulk("a"), Reply::Int(1), bulk("zzz"), Reply::Int(0)])
    );
    assert_eq!(publ.cmd(&["PUBSUB", "NUMPAT"]), Reply::Int(1));
    assert_eq!(
        publ.cmd(&["PUBSUB", "CHANNELS"]),
        arr(vec![bulk("a"), bulk("b")])
    );
    sub.send(&["UNSUBSCRIBE"]);
    assert_eq!(sub.read_reply(), conf("unsubscribe", Some("a"), 2));
    assert_eq!(sub.read_reply(), conf("unsubscribe", Some("b"), 1));
    sub.send(&["PUNSUBSCRIBE"]);
    assert_eq!(sub.read_reply(), conf("punsubscribe", Some("a*"), 0));
    // No subscriptions left: one reply with a null name.
    sub.send(&["UNSUBSCRIBE"]);
    assert_eq!(sub.read_reply(), conf("unsubscribe", None, 0));
    sub.send(&["PUNSUBSCRIBE", "nope"]);
    assert_eq!(sub.read_reply(), conf("punsubscribe", Some("nope"), 0));
    assert_eq!(sub.cmd(&["PING"]), Reply::Status("PONG".into()));
}

#[test]
fn subscribed_mode_rules_in_resp2() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.send(&["SUBSCRIBE", "ch"]);
    assert_eq!(c.read_reply(), conf("subscribe", Some("ch"), 1));
    assert_eq!(c.cmd(&["PING"]), arr(vec![bulk("pong"), bulk("")]));
    assert_eq!(c.cmd(&["PING", "x"]), arr(vec![bulk("pong"), bulk("x")]));
    for cmd in ["get", "multi", "publish"] {
        let args: Vec<&str> = match cmd {
            "get" => vec!["GET", "k"],
            "multi" => vec!["MULTI"],
            _ => vec!["PUBLISH", "ch", "m"],
        };
        assert_eq!(
            c.cmd(&args),
            Reply::Error(format!("ERR Can't execute '{cmd}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"))
        );
    }
    c.send(&["SSUBSCRIBE", "s"]);
    assert_eq!(c.read_reply(), conf("ssubscribe", Some("s"), 1));
    assert_eq!(c.cmd(&["RESET"]), Reply::Status("RESET".into()));
    assert_eq!(c.cmd(&["GET", "k"]), Reply::Nil);
    let mut other = server.conn();
    assert_eq!(other.cmd(&["PUBLISH", "ch", "m"]), Reply::Int(0));
    assert_eq!(other.cmd(&["SPUBLISH", "s", "m"]), Reply::Int(0));
    c.send(&["SUBSCRIBE", "ch"]);
    c.read_reply();
    assert_eq!(c.cmd(&["QUIT"]), Reply::Status("OK".into()));
    assert!(c.is_closed());
}

#[test]
fn resp3_subscriber_gets_pushes_and_may_run_any_command() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["HELLO", "3"]);
    c.send(&["SUBSCRIBE", "ch"]);
    assert_eq!(
        c.read_reply(),
        Reply::Push(vec![bulk("subscribe"), bulk("ch"), Reply::Int(1)])
    );
    assert_eq!(c.cmd(&["SET", "k", "v"]), Reply::Status("OK".into()));
    assert_eq!(c.cmd(&["PING"]), Reply::Status("PONG".into()));
    let mut p = server.conn();
    assert_eq!(p.cmd(&["PUBLISH", "ch", "m"]), Reply::Int(1));
    assert_eq!(
        c.read_reply(),
        Reply::Push(vec![bulk("message"), bulk("ch"), bulk("m")])
    );
}

#[test]
fn sharded_channels() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.send(&["SSUBSCRIBE", "s1", "s2"]);
    assert_eq!(c.read_reply(), conf("ssubscribe", Some("s1"), 1));
    assert_eq!(c.read_reply(), conf("ssubscribe", Some("s2"), 2));
    let mut p = server.conn();
    assert_eq!(p.cmd(&["SPUBLISH", "s1", "x"]), Reply::Int(1));
    assert_eq!(p.cmd(&["PUBLISH", "s1", "x"]), Reply::Int(0));
    assert_eq!(
        c.read_reply(),
        arr(vec![bulk("smessage"), bulk("s1"), bulk("x")])
    );
    assert_eq!(
        p.cmd(&["PUBSUB", "SHARDCHANNELS"]),
        arr(vec![bulk("s1"), bulk("s2")])
    );
    assert_eq!(
        p.cmd(&["PUBSUB", "SHARDNUMSUB", "s1"]),
        arr(vec![bulk("s1"), Reply::Int(1)])
    );
    c.send(&["SUNSUBSCRIBE", "s1"]);
    assert_eq!(c.read_reply(), conf("sunsubscribe", Some("s1"), 1));
}

/// 50 subscribers (half on the channel, half on a pattern) receive every
/// one of 100,000 messages, in publish order.
#[test]
fn fifty_subscribers_receive_everything_in_order() {
    const SUBSCRIBERS: usize = 50;
    const MESSAGES: usize = 100_000;
    let server = Server::start(&[]);
    let mut readers = Vec::new();
    for i in 0..SUBSCRIBERS {
        let mut c = server.conn();
        if i % 2 == 0 {
            c.send(&["SUBSCRIBE", "load"]);
        } else {
            c.send(&["PSUBSCRIBE", "lo*"]);
        }
        c.read_reply();
        readers.push(std::thread::spawn(move || {
            for n in 0..MESSAGES {
                let Reply::Array(items) = c.read_reply() else {
                    panic!("not an array");
                };
                let expected = bulk(&n.to_string());
                assert_eq!(items.last(), Some(&expected), "subscriber {i}");
            }
        }));
    }
    let mut p = server.conn();
    // Pipelined in chunks; every PUBLISH reaches all 50.
    let mut sent = 0;
    while sent < MESSAGES {
        let chunk = (MESSAGES - sent).min(1000);
        let mut bytes = Vec::new();
        for n in sent..sent + chunk {
            let payload = n.to_string();
            bytes.extend(Conn::encode(&[b"PUBLISH", b"load", payload.as_bytes()]));
        }
        p.send_raw(&bytes);
        for _ in 0..chunk {
            assert_eq!(p.read_reply(), Reply::Int(SUBSCRIBERS as i64));
        }
        sent += chunk;
    }
    for r in readers {
        r.join().expect("subscriber thread");
    }
}

/// A subscriber that never reads is disconnected by the output buffer
/// limit, and the server's memory stays bounded.
#[test]
fn subscriber_that_never_reads_is_disconnected() {
    let server = Server::start(&["--client-output-buffer-limit", "pubsub 1mb 512kb 60"]);
    let mut slow = server.conn();
    slow.send(&["SUBSCRIBE", "flood"]);
    let mut admin = server.conn();
    assert!(wait_for(10, || {
        admin.cmd(&["PUBSUB", "NUMSUB", "flood"]) == arr(vec![bulk("flood"), Reply::Int(1)])
    }));
    assert_eq!(admin.info_field("stats", "pubsub_channels"), "1");
    let payload = "x".repeat(64 * 1024);
    let mut p = server.conn();
    // Up to 64 MB offered; the limit is 1 MB (+ socket buffers).
    for _ in 0..1024 {
        match p.cmd(&["PUBLISH", "flood", &payload]) {
            Reply::Int(0) => break,
            Reply::Int(_) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(wait_for(10, || admin.cmd(&["PUBSUB", "NUMSUB", "flood"])
        == arr(vec![bulk("flood"), Reply::Int(0)])));
    let rss: u64 = admin
        .info_field("memory", "used_memory_rss")
        .parse()
        .unwrap_or(0);
    assert!(rss < 200 * 1024 * 1024, "rss {rss}");
    let list = admin.cmd(&["CLIENT", "LIST"]).text();
    assert_eq!(list.lines().count(), 2, "{list}");
}

#[test]
fn client_list_shows_subscriptions() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.send(&["SUBSCRIBE", "a", "b"]);
    c.read_reply();
    c.read_reply();
    c.send(&["PSUBSCRIBE", "p*"]);
    c.read_reply();
    let mut admin = server.conn();
    let list = admin.cmd(&["CLIENT", "LIST"]).text();
    let line = list
        .lines()
        .find(|l| l.contains("sub=2"))
        .expect("subscriber line");
    assert!(line.contains("flags=P"), "{line}");
    assert!(line.contains("psub=1"), "{line}");
    assert!(line.contains(" omem="), "{line}");
    assert_eq!(admin.info_field("stats", "pubsub_patterns"), "1");
}
