//! Protocol tests: pipelining, inline commands, protocol errors.

mod common;
use common::{bulk, Reply, Server};

#[test]
fn ten_thousand_pipelined_commands_in_one_write() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let mut batch = Vec::new();
    for i in 0..10_000 {
        batch.extend(common::Conn::encode(&[b"INCR", b"counter"]));
        if i == 0 {
            batch.extend(common::Conn::encode(&[b"PING"]));
        }
    }
    c.send_raw(&batch);
    assert_eq!(c.read_reply(), Reply::Int(1));
    assert_eq!(c.read_reply(), Reply::Status("PONG".into()));
    for i in 2..=10_000 {
        assert_eq!(c.read_reply(), Reply::Int(i));
    }
}

#[test]
fn inline_commands_with_quotes() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.send_raw(b"SET k \"hello world\"\r\nGET k\r\nPING\n");
    assert_eq!(c.read_reply(), Reply::Status("OK".into()));
    assert_eq!(c.read_reply(), bulk("hello world"));
    assert_eq!(c.read_reply(), Reply::Status("PONG".into()));
}

#[test]
fn protocol_errors_close_only_their_connection() {
    let s = Server::start(&[]);
    let mut good = s.conn();
    good.cmd(&["SET", "k", "v"]);
    let cases: &[(&[u8], &str)] = &[
        (b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
        (
            b"*1\r\nfoo\r\n",
            "ERR Protocol error: expected '$', got 'f'",
        ),
        (b"*1\r\n$-5\r\n", "ERR Protocol error: invalid bulk length"),
        (
            b"SET \"a\r\n",
            "ERR Protocol error: unbalanced quotes in request",
        ),
    ];
    for (input, text) in cases {
        let mut bad = s.conn();
        bad.send_raw(input);
        assert_eq!(bad.read_reply(), Reply::Error(text.to_string()));
        assert!(bad.is_closed());
        assert_eq!(good.cmd(&["GET", "k"]), bulk("v"));
    }
}

#[test]
fn unknown_command_and_arity_errors() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["FOO", "a", "b"]),
        Reply::Error("ERR unknown command 'FOO', with args beginning with: 'a' 'b' ".into())
    );
    assert_eq!(
        c.cmd(&["GET"]),
        Reply::Error("ERR wrong number of arguments for 'get' command".into())
    );
}

#[test]
fn two_hundred_clients_increment_one_key() {
    let s = Server::start(&[]);
    let port = s.port;
    let threads: Vec<_> = (0..200)
        .map(|_| {
            std::thread::spawn(move || {
                let mut c = common::Conn::connect(port);
                for _ in 0..50 {
                    c.cmd(&["INCR", "shared"]);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(s.conn().cmd(&["GET", "shared"]), bulk("10000"));
}
