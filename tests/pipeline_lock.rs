//! A pipelined batch runs its plain data commands on one store lock (see
//! src/client.rs). These tests send whole batches in one write and check
//! that everything that must happen between or after commands still does:
//! replies in order, other kinds of commands in the middle, lazy expiry,
//! clients blocked elsewhere, keyspace events and the AOF.

mod common;
use common::{bulk, wait_for, Conn, Reply, Server};
use std::time::Duration;

fn ok() -> Reply {
    Reply::Status("OK".into())
}

/// Sends `commands` in one write and returns their replies.
fn pipeline(c: &mut Conn, commands: &[&[&str]]) -> Vec<Reply> {
    let mut batch = Vec::new();
    for args in commands {
        let args: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        batch.extend(Conn::encode(&args));
    }
    c.send_raw(&batch);
    commands.iter().map(|_| c.read_reply()).collect()
}

#[test]
fn mixed_batch_keeps_order_and_meaning() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let replies = pipeline(
        &mut c,
        &[
            &["SET", "a", "1"],
            &["INCR", "a"],
            &["GET", "a"],
            &["SELECT", "1"],
            &["GET", "a"],
            &["SET", "a", "other"],
            &["SELECT", "0"],
            &["GET", "a"],
            &["PING"],
            &["LPUSH", "a", "x"],
            &["RPUSH", "l", "1", "2"],
            &["LRANGE", "l", "0", "-1"],
            &["CONFIG", "SET", "zset-max-listpack-entries", "1"],
            &["ZADD", "z", "1", "m1", "2", "m2"],
            &["OBJECT", "ENCODING", "z"],
            &["DBSIZE"],
        ],
    );
    assert_eq!(
        replies,
        vec![
            ok(),
            Reply::Int(2),
            bulk("2"),
            ok(),
            Reply::Nil,
            ok(),
            ok(),
            bulk("2"),
            Reply::Status("PONG".into()),
            Reply::Error(
                "WRONGTYPE Operation against a key holding the wrong kind of value".into()
            ),
            Reply::Int(2),
            Reply::Array(vec![bulk("1"), bulk("2")]),
            ok(),
            Reply::Int(2),
            bulk("skiplist"),
            Reply::Int(3),
        ]
    );
    assert_eq!(c.cmd(&["SELECT", "1"]), ok());
    assert_eq!(c.cmd(&["GET", "a"]), bulk("other"));
}

#[test]
fn batch_reads_expire_stale_keys() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "gone", "v", "PX", "1"]), ok());
    std::thread::sleep(Duration::from_millis(20));
    let replies = pipeline(
        &mut c,
        &[&["SET", "k", "v"], &["GET", "gone"], &["GET", "k"]],
    );
    assert_eq!(replies, vec![ok(), Reply::Nil, bulk("v")]);
    let stats = c.cmd(&["INFO", "stats"]).text();
    assert!(stats.contains("expired_keys:1\r\n"), "{stats}");
    assert!(stats.contains("keyspace_misses:1\r\n"), "{stats}");
    assert!(stats.contains("keyspace_hits:1\r\n"), "{stats}");
}

#[test]
fn a_batch_serves_clients_blocked_elsewhere() {
    let s = Server::start(&[]);
    let mut waiter = s.conn();
    waiter.send(&["BLPOP", "queue", "0"]);
    let mut admin = s.conn();
    assert!(wait_for(10, || admin
        .cmd(&["INFO", "clients"])
        .text()
        .contains("blocked_clients:1\r\n")));
    let mut c = s.conn();
    let replies = pipeline(
        &mut c,
        &[
            &["SET", "k", "v"],
            &["RPUSH", "queue", "job"],
            &["GET", "k"],
        ],
    );
    assert_eq!(replies, vec![ok(), Reply::Int(1), bulk("v")]);
    assert_eq!(
        waiter.read_reply(),
        Reply::Array(vec![bulk("queue"), bulk("job")])
    );
}

#[test]
fn a_blocking_command_at_the_end_of_a_batch_sees_its_own_push() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let replies = pipeline(
        &mut c,
        &[
            &["RPUSH", "l", "a"],
            &["SET", "x", "1"],
            &["BLPOP", "l", "0"],
        ],
    );
    assert_eq!(
        replies,
        vec![
            Reply::Int(1),
            ok(),
            Reply::Array(vec![bulk("l"), bulk("a")])
        ]
    );
}

#[test]
fn keyspace_events_of_a_batch_are_published() {
    let s = Server::start(&["--notify-keyspace-events", "KEA"]);
    let mut sub = s.conn();
    assert_eq!(
        sub.cmd(&["SUBSCRIBE", "__keyevent@0__:set"]),
        Reply::Array(vec![
            bulk("subscribe"),
            bulk("__keyevent@0__:set"),
            Reply::Int(1)
        ])
    );
    let mut c = s.conn();
    let replies = pipeline(&mut c, &[&["SET", "a", "1"], &["SET", "b", "2"]]);
    assert_eq!(replies, vec![ok(), ok()]);
    for key in ["a", "b"] {
        assert_eq!(
            sub.read_reply(),
            Reply::Array(vec![bulk("message"), bulk("__keyevent@0__:set"), bulk(key)])
        );
    }
}

#[test]
fn a_batch_reaches_the_aof_in_order() {
    let s = Server::start(&["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = s.conn();
    let mut commands: Vec<Vec<String>> = Vec::new();
    for i in 0..50 {
        commands.push(vec!["RPUSH".into(), "l".into(), i.to_string()]);
    }
    let refs: Vec<Vec<&str>> = commands
        .iter()
        .map(|v| v.iter().map(String::as_str).collect())
        .collect();
    let slices: Vec<&[&str]> = refs.iter().map(Vec::as_slice).collect();
    let replies = pipeline(&mut c, &slices);
    assert_eq!(replies.last(), Some(&Reply::Int(50)));
    // DEBUG LOADAOF reloads the data set from the AOF alone.
    assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]), ok());
    assert_eq!(c.cmd(&["LLEN", "l"]), Reply::Int(50));
    assert_eq!(c.cmd(&["LINDEX", "l", "49"]), bulk("49"));
}
