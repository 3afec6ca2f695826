//! Stream commands through a real connection.

mod common;
use common::{bulk, Reply, Server};

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
