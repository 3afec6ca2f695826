//! Transactions: MULTI/EXEC/DISCARD/WATCH replies and errors, WATCH
//! conflicts, and atomicity under concurrent writers.

mod common;

use common::{bulk, wait_for, Reply, Server};

fn ok() -> Reply {
    Reply::Status("OK".into())
}

fn queued() -> Reply {
    Reply::Status("QUEUED".into())
}

fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

#[test]
fn multi_exec_discard_and_errors() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    assert_eq!(c.cmd(&["EXEC"]), err("ERR EXEC without MULTI"));
    assert_eq!(c.cmd(&["DISCARD"]), err("ERR DISCARD without MULTI"));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), err("ERR MULTI calls can not be nested"));
    assert_eq!(
        c.cmd(&["WATCH", "x"]),
        err("ERR WATCH inside MULTI is not allowed")
    );
    assert_eq!(c.cmd(&["SET", "k", "1"]), queued());
    assert_eq!(c.cmd(&["INCR", "k"]), queued());
    assert!(c
        .cmd(&["NOSUCHCOMMAND", "k"])
        .text()
        .starts_with("ERR unknown command"));
    assert_eq!(
        c.cmd(&["EXEC"]),
        err("EXECABORT Transaction discarded because of previous errors.")
    );
    assert_eq!(c.cmd(&["GET", "k"]), Reply::Nil);

    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(
        c.cmd(&["GET"]),
        err("ERR wrong number of arguments for 'get' command")
    );
    assert!(c.cmd(&["EXEC"]).text().starts_with("EXECABORT"));

    // Runtime errors are per command; the rest runs.
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SET", "k", "abc"]), queued());
    assert_eq!(c.cmd(&["INCR", "k"]), queued());
    assert_eq!(c.cmd(&["SET", "j", "2"]), queued());
    assert_eq!(c.cmd(&["PING"]), queued());
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Array(vec![
            ok(),
            err("ERR value is not an integer or out of range"),
            ok(),
            Reply::Status("PONG".into()),
        ])
    );
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["DEL", "j"]), queued());
    assert_eq!(c.cmd(&["DISCARD"]), ok());
    assert_eq!(c.cmd(&["GET", "j"]), bulk("2"));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["EXEC"]), Reply::Array(vec![]));
}

#[test]
fn watch_detects_other_clients_flush_swap_rename_and_expiry() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let mut other = server.conn();
    let check = |c: &mut common::Conn, expect_abort: bool| {
        assert_eq!(c.cmd(&["MULTI"]), ok());
        assert_eq!(c.cmd(&["PING"]), queued());
        let r = c.cmd(&["EXEC"]);
        if expect_abort {
            assert_eq!(r, Reply::Nil);
        } else {
            assert_eq!(r, Reply::Array(vec![Reply::Status("PONG".into())]));
        }
    };
    // Not modified.
    c.cmd(&["SET", "x", "1"]);
    c.cmd(&["WATCH", "x"]);
    check(&mut c, false);
    // Modified by another client.
    c.cmd(&["WATCH", "x"]);
    other.cmd(&["SET", "x", "2"]);
    check(&mut c, true);
    // Watches are gone after EXEC.
    other.cmd(&["SET", "x", "3"]);
    check(&mut c, false);
    // FLUSHDB of an existing watched key; FLUSHALL of an absent one does not count.
    c.cmd(&["WATCH", "x"]);
    other.cmd(&["FLUSHDB"]);
    check(&mut c, true);
    c.cmd(&["WATCH", "x"]);
    other.cmd(&["FLUSHALL"]);
    check(&mut c, false);
    // SWAPDB that brings the key in.
    other.cmd(&["SELECT", "1"]);
    other.cmd(&["SET", "x", "1"]);
    c.cmd(&["WATCH", "x"]);
    other.cmd(&["SWAPDB", "0", "1"]);
    check(&mut c, true);
    // RENAME onto the watched key.
    other.cmd(&["SELECT", "0"]);
    other.cmd(&["SET", "src", "v"]);
    c.cmd(&["WATCH", "dst"]);
    other.cmd(&["RENAME", "src", "dst"]);
    check(&mut c, true);
    // Expiry of the watched key.
    c.cmd(&["SET", "e", "v", "PX", "50"]);
    c.cmd(&["WATCH", "e"]);
    assert!(wait_for(5, || other.cmd(&["EXISTS", "e"]) == Reply::Int(0)));
    check(&mut c, true);
    // UNWATCH and DISCARD forget the keys.
    c.cmd(&["WATCH", "x"]);
    other.cmd(&["SET", "x", "9"]);
    assert_eq!(c.cmd(&["UNWATCH"]), ok());
    check(&mut c, false);
}

/// Writers hammer a counter while a client does WATCH/GET/MULTI/SET/EXEC
/// increments: every successful EXEC is one increment, every conflict is
/// seen (no lost update), and EXEC is never interleaved.
#[test]
fn watch_under_concurrent_writers_loses_no_update() {
    let server = Server::start(&[]);
    let mut setup = server.conn();
    setup.cmd(&["SET", "counter", "0"]);
    let port = server.port;
    let writers: Vec<_> = (0..4)
        .map(|_| {
            std::thread::spawn(move || {
                let mut w = common::Conn::connect(port);
                for _ in 0..500 {
                    assert!(matches!(w.cmd(&["INCR", "counter"]), Reply::Int(_)));
                }
            })
        })
        .collect();
    let mut c = server.conn();
    let mut successes = 0;
    let mut conflicts = 0;
    for _ in 0..500 {
        c.cmd(&["WATCH", "counter"]);
        let v: i64 = c.cmd(&["GET", "counter"]).text().parse().expect("number");
        c.cmd(&["MULTI"]);
        c.cmd(&["SET", "counter", &(v + 1).to_string()]);
        c.cmd(&["GET", "counter"]);
        match c.cmd(&["EXEC"]) {
            Reply::Nil => conflicts += 1,
            Reply::Array(items) => {
                // Nobody wrote between our SET and GET.
                assert_eq!(items, vec![ok(), bulk(&(v + 1).to_string())]);
                successes += 1;
            }
            other => panic!("{other:?}"),
        }
    }
    for w in writers {
        w.join().expect("writer");
    }
    assert_eq!(successes + conflicts, 500);
    assert_eq!(
        c.cmd(&["GET", "counter"]),
        bulk(&(2000 + successes).to_string())
    );
}

#[test]
fn exec_is_atomic_for_other_clients() {
    let server = Server::start(&[]);
    let port = server.port;
    let mut c = server.conn();
    c.cmd(&["SET", "a", "0"]);
    c.cmd(&["SET", "b", "0"]);
    let reader = std::thread::spawn(move || {
        let mut r = common::Conn::connect(port);
        for _ in 0..2000 {
            let Reply::Array(v) = r.cmd(&["MGET", "a", "b"]) else {
                panic!("mget");
            };
            assert_eq!(v[0], v[1], "saw half a transaction");
        }
    });
    for i in 1..=500 {
        let n = i.to_string();
        c.cmd(&["MULTI"]);
        c.cmd(&["SET", "a", &n]);
        c.cmd(&["SET", "b", &n]);
        assert!(matches!(c.cmd(&["EXEC"]), Reply::Array(_)));
    }
    reader.join().expect("reader");
}

#[test]
fn watch_sees_move_into_another_database_and_remembers_the_db() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let mut other = server.conn();
    c.cmd(&["SELECT", "1"]);
    c.cmd(&["WATCH", "k"]);
    other.cmd(&["SET", "k", "v"]);
    // A write to k in db 0 is not a change of db 1's k.
    assert_eq!(c.cmd(&["MULTI"]), ok());
    c.cmd(&["PING"]);
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Array(vec![Reply::Status("PONG".into())])
    );
    c.cmd(&["WATCH", "k"]);
    assert_eq!(other.cmd(&["MOVE", "k", "1"]), Reply::Int(1));
    assert_eq!(c.cmd(&["MULTI"]), ok());
    c.cmd(&["PING"]);
    assert_eq!(c.cmd(&["EXEC"]), Reply::Nil);
}
