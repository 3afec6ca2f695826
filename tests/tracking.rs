//! Client-side caching (CLIENT TRACKING): invalidation messages in RESP3
//! and through a RESP2 redirect client, BCAST prefixes, NOLOOP, OPTIN,
//! flushes, the CLIENT subcommands' replies and errors, and RESET. Replies
//! were checked against redis-server 7.0.15.

mod common;

use common::{bulk, wait_for, Reply, Server};

fn invalidate(keys: &[&str]) -> Reply {
    Reply::Push(vec![
        bulk("invalidate"),
        Reply::Array(keys.iter().map(|k| bulk(k)).collect()),
    ])
}

fn redirected(keys: &[&str]) -> Reply {
    Reply::Array(vec![
        bulk("message"),
        bulk("__redis__:invalidate"),
        Reply::Array(keys.iter().map(|k| bulk(k)).collect()),
    ])
}

fn ok() -> Reply {
    Reply::Status("OK".into())
}

#[test]
fn resp3_client_is_told_when_a_key_it_read_changes() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let mut other = server.conn();
    c.cmd(&["HELLO", "3"]);
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on"]), ok());
    other.cmd(&["SET", "k", "1"]);
    other.cmd(&["SET", "unread", "1"]);
    assert_eq!(c.cmd(&["GET", "k"]), bulk("1"));
    other.cmd(&["SET", "unread", "2"]);
    other.cmd(&["SET", "k", "2"]);
    assert_eq!(c.read_reply(), invalidate(&["k"]));
    // The key left the table: a second change says nothing.
    other.cmd(&["SET", "k", "3"]);
    assert_eq!(c.cmd(&["PING"]), Reply::Status("PONG".into()));
}

#[test]
fn own_write_invalidation_follows_the_reply() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["HELLO", "3"]);
    c.cmd(&["CLIENT", "TRACKING", "on"]);
    c.cmd(&["HSET", "h", "f", "1"]);
    c.cmd(&["HGET", "h", "f"]);
    assert_eq!(c.cmd(&["HDEL", "h", "f"]), Reply::Int(1));
    assert_eq!(c.read_reply(), invalidate(&["h"]));
    // Inside MULTI the message comes after EXEC's reply.
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["GET", "a"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["INCR", "a"]);
    assert_eq!(c.cmd(&["EXEC"]), Reply::Array(vec![Reply::Int(2)]));
    assert_eq!(c.read_reply(), invalidate(&["a"]));
}

#[test]
fn redirect_to_a_resp2_subscriber_and_flush() {
    let server = Server::start(&[]);
    let mut r = server.conn();
    let mut c = server.conn();
    let mut other = server.conn();
    let Reply::Int(rid) = r.cmd(&["CLIENT", "ID"]) else {
        panic!("CLIENT ID")
    };
    r.cmd(&["SUBSCRIBE", "__redis__:invalidate"]);
    let rid = rid.to_string();
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &rid]), ok());
    assert_eq!(
        c.cmd(&["CLIENT", "GETREDIR"]),
        Reply::Int(rid.parse().unwrap())
    );
    c.cmd(&["MGET", "k", "j"]);
    other.cmd(&["MSET", "k", "1", "j", "2"]);
    assert_eq!(r.read_reply(), redirected(&["k"]));
    assert_eq!(r.read_reply(), redirected(&["j"]));
    c.cmd(&["GET", "k"]);
    other.cmd(&["FLUSHALL"]);
    assert_eq!(
        r.read_reply(),
        Reply::Array(vec![
            bulk("message"),
            bulk("__redis__:invalidate"),
            Reply::Nil
        ])
    );
    let list = other.cmd(&["CLIENT", "LIST"]).text();
    assert!(list.contains("flags=t db=0"), "{list}");
    assert!(list.contains(&format!("redir={rid}")), "{list}");
}

#[test]
fn broken_redirect_is_reported_to_a_resp3_client() {
    let server = Server::start(&[]);
    let mut r = server.conn();
    let mut c = server.conn();
    let mut other = server.conn();
    let Reply::Int(rid) = r.cmd(&["CLIENT", "ID"]) else {
        panic!("CLIENT ID")
    };
    c.cmd(&["HELLO", "3"]);
    c.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", &rid.to_string()]);
    c.cmd(&["GET", "k"]);
    drop(r);
    assert!(wait_for(5, || !other
        .cmd(&["CLIENT", "LIST"])
        .text()
        .contains(&format!("id={rid} "))));
    other.cmd(&["SET", "k", "1"]);
    assert_eq!(
        c.read_reply(),
        Reply::Push(vec![bulk("tracking-redir-broken"), Reply::Int(rid)])
    );
    let info = c.cmd(&["CLIENT", "TRACKINGINFO"]);
    let Reply::Map(fields) = info else {
        panic!("{info:?}")
    };
    assert_eq!(
        fields[0].1,
        Reply::Set(vec![bulk("on"), bulk("broken_redirect")])
    );
}

#[test]
fn bcast_prefixes_and_noloop() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let mut other = server.conn();
    c.cmd(&["HELLO", "3"]);
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:", "NOLOOP"]),
        ok()
    );
    other.cmd(&["MSET", "a:1", "1", "b:1", "1", "a:2", "2"]);
    assert_eq!(c.read_reply(), invalidate(&["a:1", "a:2"]));
    // NOLOOP: our own change is not reported.
    c.cmd(&["SET", "a:3", "1"]);
    other.cmd(&["SET", "a:4", "1"]);
    assert_eq!(c.read_reply(), invalidate(&["a:4"]));
    let err = c.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:x"]);
    assert_eq!(
        err,
        Reply::Error(
            "ERR Prefix 'a:x' overlaps with an existing prefix 'a:'. Prefixes for a single client must not overlap."
                .into()
        )
    );
    let info = other.cmd(&["INFO", "stats"]).text();
    assert!(info.contains("tracking_total_prefixes:1\r\n"), "{info}");
}

#[test]
fn optin_tracks_only_after_caching_yes() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let mut other = server.conn();
    c.cmd(&["HELLO", "3"]);
    c.cmd(&["CLIENT", "TRACKING", "on", "OPTIN"]);
    c.cmd(&["GET", "skipped"]);
    assert_eq!(c.cmd(&["CLIENT", "CACHING", "yes"]), ok());
    c.cmd(&["GET", "cached"]);
    other.cmd(&["SET", "skipped", "1"]);
    other.cmd(&["SET", "cached", "1"]);
    assert_eq!(c.read_reply(), invalidate(&["cached"]));
    let stats = other.cmd(&["INFO", "stats"]).text();
    assert!(stats.contains("tracking_total_keys:0\r\n"), "{stats}");
    let clients = other.cmd(&["INFO", "clients"]).text();
    assert!(clients.contains("tracking_clients:1\r\n"), "{clients}");
}

#[test]
fn errors_match_redis() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let err = |s: &str| Reply::Error(s.into());
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "PREFIX", "a"]),
        err("ERR PREFIX option requires BCAST mode to be enabled")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "REDIRECT", "9999"]),
        err("ERR The client ID you want redirect to does not exist")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "OPTIN"]),
        err("ERR OPTIN and OPTOUT are not compatible with BCAST")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"]),
        err("ERR You can't specify both OPTIN mode and OPTOUT mode")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "maybe"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "CACHING", "yes"]),
        err("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "a"]),
        err("ERR Prefix 'ab' overlaps with another provided prefix 'a'. Prefixes for a single client must not overlap.")
    );
    assert_eq!(c.cmd(&["CLIENT", "TRACKING", "on", "OPTOUT"]), ok());
    assert_eq!(
        c.cmd(&["CLIENT", "CACHING", "yes"]),
        err("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "TRACKING", "on", "BCAST"]),
        err("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
    );
}

#[test]
fn reset_turns_tracking_off() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["CLIENT", "TRACKING", "on"]);
    assert_eq!(c.cmd(&["CLIENT", "GETREDIR"]), Reply::Int(0));
    assert_eq!(c.cmd(&["RESET"]), Reply::Status("RESET".into()));
    assert_eq!(c.cmd(&["CLIENT", "GETREDIR"]), Reply::Int(-1));
    let Reply::Array(info) = c.cmd(&["CLIENT", "TRACKINGINFO"]) else {
        panic!("TRACKINGINFO")
    };
    assert_eq!(
        info,
        vec![
            bulk("flags"),
            Reply::Array(vec![bulk("off")]),
            bulk("redirect"),
            Reply::Int(-1),
            bulk("prefixes"),
            Reply::Array(vec![]),
        ]
    );
}
