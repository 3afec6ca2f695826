//! Keyspace notifications: notify-keyspace-events flags, keyspace and
//! keyevent channels, event names of the string, generic and expire
//! commands, and expired events from lazy and active expiry.

mod common;

use common::{bulk, Conn, Reply, Server};

fn pmsg(channel: &str, payload: &str) -> Reply {
    Reply::Array(vec![
        bulk("pmessage"),
        bulk("*"),
        bulk(channel),
        bulk(payload),
    ])
}

fn listen(server: &Server) -> Conn {
    let mut c = server.conn();
    c.send(&["PSUBSCRIBE", "*"]);
    c.read_reply();
    c
}

#[test]
fn config_flags_are_normalized_like_redis() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    for (set, get) in [
        ("gKE", "gKE"),
        ("$lshzxeKE", "$lshzxeKE"),
        ("KA", "AK"),
        ("EA", "AE"),
        ("nd", "dn"),
    ] {
        assert_eq!(
            c.cmd(&["CONFIG", "SET", "notify-keyspace-events", set]),
            Reply::Status("OK".into())
        );
        assert_eq!(
            c.cmd(&["CONFIG", "GET", "notify-keyspace-events"]),
            Reply::Array(vec![bulk("notify-keyspace-events"), bulk(get)])
        );
    }
    assert!(matches!(
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Kq"]),
        Reply::Error(_)
    ));
}

#[test]
fn keyspace_and_keyevent_channels() {
    let server = Server::start(&["--notify-keyspace-events", "KEA"]);
    let mut sub = listen(&server);
    let mut c = server.conn();
    c.cmd(&["SET", "foo", "bar"]);
    assert_eq!(sub.read_reply(), pmsg("__keyspace@0__:foo", "set"));
    assert_eq!(sub.read_reply(), pmsg("__keyevent@0__:set", "foo"));
}

#[test]
fn generic_and_string_event_names() {
    let server = Server::start(&["--notify-keyspace-events", "Eg$"]);
    let mut sub = listen(&server);
    let mut c = server.conn();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["INCRBY", "a", "2"]);
    c.cmd(&["INCRBYFLOAT", "a", "1.5"]);
    c.cmd(&["APPEND", "a", "x"]);
    c.cmd(&["SETRANGE", "a", "0", "y"]);
    c.cmd(&["EXPIRE", "a", "100"]);
    c.cmd(&["PERSIST", "a"]);
    c.cmd(&["RENAME", "a", "b"]);
    c.cmd(&["COPY", "b", "c"]);
    c.cmd(&["MOVE", "c", "1"]);
    c.cmd(&["DEL", "b"]);
    for (event, key) in [
        ("set", "a"),
        ("incrby", "a"),
        ("incrbyfloat", "a"),
        ("append", "a"),
        ("setrange", "a"),
        ("expire", "a"),
        ("persist", "a"),
        ("rename_from", "a"),
        ("rename_to", "b"),
        ("copy_to", "c"),
        ("move_from", "c"),
        ("move_to", "c"),
        ("del", "b"),
    ] {
        assert_eq!(
            sub.read_reply(),
            pmsg(&format!("__keyevent@0__:{event}"), key)
        );
    }
}

#[test]
fn masked_classes_are_not_sent() {
    let server = Server::start(&["--notify-keyspace-events", "Eg"]);
    let mut sub = listen(&server);
    let mut c = server.conn();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["DEL", "a"]);
    assert_eq!(sub.read_reply(), pmsg("__keyevent@0__:del", "a"));
}

#[test]
fn expired_and_new_events() {
    let server = Server::start(&["--notify-keyspace-events", "Exn"]);
    let mut sub = listen(&server);
    let mut c = server.conn();
    c.cmd(&["SET", "k", "v", "PX", "20"]);
    assert_eq!(sub.read_reply(), pmsg("__keyevent@0__:new", "k"));
    // Active expiry deletes it and publishes the event.
    assert_eq!(sub.read_reply(), pmsg("__keyevent@0__:expired", "k"));
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["SET", "k", "w"]);
    assert_eq!(sub.read_reply(), pmsg("__keyevent@0__:new", "k"));
    // Lazy expiry on write.
    c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ex"]);
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    c.cmd(&["SET", "lazy", "v", "PX", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    c.cmd(&["SET", "lazy", "again"]);
    assert_eq!(sub.read_reply(), pmsg("__keyevent@0__:expired", "lazy"));
}

#[test]
fn events_of_a_transaction_name_each_commands_database() {
    let server = Server::start(&["--notify-keyspace-events", "E$"]);
    let mut sub = listen(&server);
    let mut c = server.conn();
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["SELECT", "2"]);
    c.cmd(&["SET", "b", "1"]);
    c.cmd(&["EXEC"]);
    assert_eq!(sub.read_reply(), pmsg("__keyevent@0__:set", "a"));
    assert_eq!(sub.read_reply(), pmsg("__keyevent@2__:set", "b"));
}
