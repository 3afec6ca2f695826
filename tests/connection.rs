//! Connection commands against the real binary: PING, ECHO, SELECT, HELLO
//! (RESP2 and RESP3), AUTH with --requirepass, CLIENT subcommands, RESET,
//! QUIT, and the protected-mode / maxclients / timeout refusals.

mod common;
use common::{bulk, wait_for, Conn, Reply, Server};

fn ok() -> Reply {
    Reply::Status("OK".into())
}

fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

#[test]
fn ping_echo_select_quit() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["PING"]), Reply::Status("PONG".into()));
    assert_eq!(c.cmd(&["PING", "hi"]), bulk("hi"));
    assert_eq!(
        c.cmd(&["PING", "a", "b"]),
        err("ERR wrong number of arguments for 'ping' command")
    );
    assert_eq!(c.cmd(&["ECHO", "x"]), bulk("x"));
    assert_eq!(c.cmd(&["SELECT", "15"]), ok());
    assert_eq!(
        c.cmd(&["SELECT", "16"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        c.cmd(&["SELECT", "-1"]),
        err("ERR DB index is out of range")
    );
    assert_eq!(
        c.cmd(&["SELECT", "abc"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(c.cmd(&["QUIT"]), ok());
    assert!(c.is_closed());
}

#[test]
fn hello_switches_protocol() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let Reply::Map(m) = c.cmd(&["HELLO", "3"]) else {
        panic!("HELLO 3 is a map");
    };
    let get = |k: &str| {
        m.iter()
            .find(|(key, _)| key.text() == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(get("server"), Some(bulk("redis")));
    assert_eq!(get("version"), Some(bulk("7.0.15")));
    assert_eq!(get("proto"), Some(Reply::Int(3)));
    assert_eq!(get("mode"), Some(bulk("standalone")));
    assert_eq!(get("role"), Some(bulk("master")));
    // RESP3 types now: a null is `_`, a map is `%`.
    assert_eq!(c.cmd(&["GET", "nokey"]), Reply::Nil);
    assert!(matches!(c.cmd(&["CONFIG", "GET", "port"]), Reply::Map(_)));
    let Reply::Array(v) = c.cmd(&["HELLO", "2", "SETNAME", "me"]) else {
        panic!("HELLO 2 is a flat array");
    };
    assert_eq!(v.len(), 14);
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), bulk("me"));
    assert_eq!(
        c.cmd(&["HELLO", "4"]),
        err("NOPROTO unsupported protocol version")
    );
    assert_eq!(
        c.cmd(&["HELLO", "abc"]),
        err("ERR Protocol version is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["HELLO", "3", "SETNAME"]),
        err("ERR Syntax error in HELLO option 'SETNAME'")
    );
}

#[test]
fn auth_with_requirepass() {
    // (The test harness waits for PING, so the password is set after start.)
    let s = Server::start(&[]);
    let mut admin = s.conn();
    assert_eq!(admin.cmd(&["CONFIG", "SET", "requirepass", "secret"]), ok());
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GET", "k"]), err("NOAUTH Authentication required."));
    assert_eq!(
        c.cmd(&["AUTH", "wrong"]),
        err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(
        c.cmd(&["HELLO", "3"]),
        err("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
    );
    assert_eq!(c.cmd(&["AUTH", "secret"]), ok());
    assert_eq!(c.cmd(&["GET", "k"]), Reply::Nil);
    let mut c2 = s.conn();
    assert!(matches!(
        c2.cmd(&["HELLO", "3", "AUTH", "default", "secret"]),
        Reply::Map(_)
    ));
    assert_eq!(c2.cmd(&["PING"]), Reply::Status("PONG".into()));
    let mut c3 = s.conn();
    assert_eq!(c3.cmd(&["AUTH", "default", "secret"]), ok());
    // RESET logs the client out again.
    assert_eq!(c3.cmd(&["RESET"]), Reply::Status("RESET".into()));
    assert_eq!(c3.cmd(&["PING"]), err("NOAUTH Authentication required."));
}

#[test]
fn auth_without_password_configured() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["AUTH", "x"]),
        err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
    );
    assert_eq!(
        c.cmd(&["AUTH", "bob", "x"]),
        err("WRONGPASS invalid username-password pair or user is disabled.")
    );
}

#[test]
fn client_subcommands() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let Reply::Int(id) = c.cmd(&["CLIENT", "ID"]) else {
        panic!("client id");
    };
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), Reply::Nil);
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", "worker-1"]), ok());
    assert_eq!(c.cmd(&["CLIENT", "GETNAME"]), bulk("worker-1"));
    assert_eq!(
        c.cmd(&["CLIENT", "SETNAME", "a b"]),
        err("ERR Client names cannot contain spaces, newlines or special characters.")
    );
    assert_eq!(c.cmd(&["CLIENT", "SETINFO", "lib-name", "mylib"]), ok());
    let list = c.cmd(&["CLIENT", "LIST"]).text();
    let line = list
        .lines()
        .find(|l| l.starts_with(&format!("id={id} ")))
        .expect("own line");
    for field in [
        "addr=127.0.0.1:",
        "laddr=127.0.0.1:",
        "name=worker-1",
        "db=0",
        "cmd=client|list",
        "user=default",
        "resp=2",
        "lib-name=mylib",
    ] {
        assert!(line.contains(field), "{field} missing in {line}");
    }
    let info = c.cmd(&["CLIENT", "INFO"]).text();
    assert!(info.starts_with(&format!("id={id} ")), "{info}");
    assert_eq!(
        c.cmd(&["CLIENT", "LIST", "ID", "abc"]),
        err("ERR Invalid client ID")
    );
    assert_eq!(c.cmd(&["CLIENT", "LIST", "ID", "0"]), bulk(""));
    assert_eq!(
        c.cmd(&["CLIENT", "INFO", "x"]),
        err("ERR wrong number of arguments for 'client|info' command")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "FOO"]),
        err("ERR unknown subcommand 'FOO'. Try CLIENT HELP.")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "1.2.3.4:5"]),
        err("ERR No such client")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "ID", "0"]),
        err("ERR client-id should be greater than 0")
    );
    // Killing another connection closes it.
    let mut victim = s.conn();
    let Reply::Int(vid) = victim.cmd(&["CLIENT", "ID"]) else {
        panic!("client id");
    };
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "ID", &vid.to_string()]),
        Reply::Int(1)
    );
    assert!(victim.is_closed());
}

#[test]
fn maxclients_refuses_with_redis_error() {
    let s = Server::start(&["--maxclients", "2"]);
    let mut a = s.conn();
    let mut b = s.conn();
    assert_eq!(a.cmd(&["PING"]), Reply::Status("PONG".into()));
    assert_eq!(b.cmd(&["PING"]), Reply::Status("PONG".into()));
    let mut third = Conn::connect(s.port);
    assert_eq!(third.read_reply(), err("ERR max number of clients reached"));
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let s = Server::start(&["--timeout", "1"]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["PING"]), Reply::Status("PONG".into()));
    assert!(wait_for(10, || c.is_closed()));
}

#[test]
fn protected_mode_allows_loopback() {
    // Loopback clients are always let in; non-loopback ones get -DENIED
    // (not testable without a second interface, so only the setting is read).
    let s = Server::start(&["--protected-mode", "yes"]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["PING"]), Reply::Status("PONG".into()));
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "protected-mode"]),
        Reply::Array(vec![bulk("protected-mode"), bulk("yes")])
    );
}

#[test]
fn client_reply_off_skip_on() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.send_raw(b"CLIENT REPLY SKIP\r\nPING a\r\nPING b\r\nCLIENT REPLY OFF\r\nPING c\r\nCLIENT REPLY ON\r\nPING d\r\n");
    assert_eq!(c.read_reply(), bulk("b"));
    assert_eq!(c.read_reply(), ok());
    assert_eq!(c.read_reply(), bulk("d"));
}

#[test]
fn rejected_calls_are_counted_apart() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
    assert_eq!(
        c.cmd(&["SET", "x"]),
        err("ERR wrong number of arguments for 'set' command")
    );
    let stats = c.cmd(&["INFO", "commandstats"]).text();
    assert!(
        stats.contains(
            "cmdstat_set:calls=0,usec=0,usec_per_call=0.00,rejected_calls=1,failed_calls=0"
        ),
        "{stats}"
    );
    let errors = c.cmd(&["INFO", "errorstats"]).text();
    assert!(errors.contains("errorstat_ERR:count=1"), "{errors}");
}
