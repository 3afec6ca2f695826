//! Master-replica replication between two real ferredis processes on
//! loopback: full sync, the write stream (with SELECT), read-only replicas,
//! REPLICAOF NO ONE, WAIT, INFO replication and ROLE.

mod common;

use common::{bulk, wait_for, Conn, Reply, Server};

fn ok() -> Reply {
    Reply::Status("OK".into())
}

/// The value of `field` in INFO replication, or "".
fn info_field(conn: &mut Conn, field: &str) -> String {
    let text = conn.cmd(&["INFO", "replication"]).text();
    let prefix = format!("{field}:");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or("")
        .trim()
        .to_string()
}

/// A master with one key and a replica that finished its first sync.
fn pair() -> (Server, Server, Conn, Conn) {
    // No wait for more replicas before the transfer (Redis's default is 5 s).
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let replica = Server::start(&[]);
    let mut m = master.conn();
    let mut r = replica.conn();
    assert_eq!(m.cmd(&["SET", "before", "1"]), ok());
    let port = master.port.to_string();
    assert_eq!(r.cmd(&["REPLICAOF", "127.0.0.1", &port]), ok());
    assert!(wait_for(10, || info_field(&mut r, "master_link_status") == "up"));
    (master, replica, m, r)
}

#[test]
fn data_written_on_the_master_reaches_the_replica() {
    let (_master, _replica, mut m, mut r) = pair();
    assert_eq!(r.cmd(&["GET", "before"]), bulk("1"));
    assert_eq!(m.cmd(&["SELECT", "3"]), ok());
    assert_eq!(m.cmd(&["RPUSH", "list", "a", "b"]), Reply::Int(2));
    assert_eq!(m.cmd(&["SELECT", "0"]), ok());
    assert_eq!(m.cmd(&["INCR", "before"]), Reply::Int(2));
    assert!(wait_for(10, || r.cmd(&["GET", "before"]) == bulk("2")));
    assert_eq!(r.cmd(&["SELECT", "3"]), ok());
    assert_eq!(
        r.cmd(&["LRANGE", "list", "0", "-1"]),
        Reply::Array(vec![bulk("a"), bulk("b")])
    );
    assert_eq!(info_field(&mut r, "role"), "slave");
    assert_eq!(info_field(&mut m, "connected_slaves"), "1");
    let offset = info_field(&mut m, "master_repl_offset");
    assert!(wait_for(10, || info_field(&mut r, "slave_repl_offset") == offset));
}

#[test]
fn a_replica_refuses_writes_and_replicaof_no_one_promotes_it() {
    let (_master, _replica, _m, mut r) = pair();
    assert_eq!(
        r.cmd(&["SET", "x", "1"]),
        Reply::Error("READONLY You can't write against a read only replica.".into())
    );
    match r.cmd(&["ROLE"]) {
        Reply::Array(items) => assert_eq!(items.first(), Some(&bulk("slave"))),
        other => panic!("ROLE: {other:?}"),
    }
    assert_eq!(r.cmd(&["REPLICAOF", "NO", "ONE"]), ok());
    assert_eq!(r.cmd(&["SET", "x", "1"]), ok());
    assert_eq!(info_field(&mut r, "role"), "master");
    assert_eq!(r.cmd(&["GET", "before"]), bulk("1"));
}

#[test]
fn wait_counts_replicas_that_acknowledged() {
    let (_master, _replica, mut m, _r) = pair();
    assert_eq!(m.cmd(&["SET", "k", "v"]), ok());
    assert_eq!(m.cmd(&["WAIT", "1", "5000"]), Reply::Int(1));
    // Only one replica exists: asking for two times out with one.
    assert_eq!(m.cmd(&["WAIT", "2", "200"]), Reply::Int(1));
    assert_eq!(
        m.cmd(&["WAIT", "1", "-1"]),
        Reply::Error("ERR timeout is negative".into())
    );
}

#[test]
fn replicaof_validates_the_port() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    assert_eq!(
        c.cmd(&["REPLICAOF", "127.0.0.1", "abc"]),
        Reply::Error("ERR Invalid master port".into())
    );
    assert_eq!(c.cmd(&["REPLICAOF", "NO", "ONE"]), ok());
    assert_eq!(
        c.cmd(&["REPLCONF", "foo", "bar"]),
        Reply::Error("ERR Unrecognized REPLCONF option: foo".into())
    );
}

#[test]
fn a_dropped_replica_continues_from_the_backlog() {
    let (_master, _replica, mut m, mut r) = pair();
    assert_eq!(m.cmd(&["SET", "k", "1"]), ok());
    assert_eq!(m.cmd(&["WAIT", "1", "5000"]), Reply::Int(1));
    assert_eq!(m.cmd(&["CLIENT", "KILL", "TYPE", "replica"]), Reply::Int(1));
    assert_eq!(m.cmd(&["SET", "k", "2"]), ok());
    assert!(wait_for(10, || r.cmd(&["GET", "k"]) == bulk("2")));
    let stats = m.cmd(&["INFO", "stats"]).text();
    assert!(stats.contains("sync_full:1\r\n"), "{stats}");
    assert!(stats.contains("sync_partial_ok:1\r\n"), "{stats}");
}

/// min-replicas-to-write refuses writes without enough good replicas
/// (NOREPLICAS), and EXEC is judged by the commands it would run.
#[test]
fn min_replicas_to_write_refuses_writes_and_aborts_exec() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let mut admin = server.conn();
    assert_eq!(c.cmd(&["SET", "xx", "1"]), ok());
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["INCR", "xx"]), Reply::Status("QUEUED".into()));
    admin.cmd(&["CONFIG", "SET", "min-replicas-to-write", "1"]);
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Error(
            "EXECABORT Transaction discarded because of: NOREPLICAS Not enough good replicas to write."
                .into()
        )
    );
    assert_eq!(
        c.cmd(&["SET", "xx", "2"]),
        Reply::Error("NOREPLICAS Not enough good replicas to write.".into())
    );
    assert_eq!(c.cmd(&["GET", "xx"]), bulk("1"));
}

/// A replica cut off from its master with replica-serve-stale-data no
/// answers MASTERDOWN to commands not flagged stale (GET, PING; INFO runs),
/// also when a transaction queued them before the link went down.
#[test]
fn a_stale_replica_refuses_commands_not_flagged_stale() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let mut admin = server.conn();
    let masterdown = Reply::Error(
        "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.".into(),
    );
    c.cmd(&["CONFIG", "SET", "replica-serve-stale-data", "no"]);
    c.cmd(&["SET", "xx", "1"]);
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["GET", "xx"]), Reply::Status("QUEUED".into()));
    // Nothing listens on this loopback port: the link stays down.
    let port = common::free_port().to_string();
    assert_eq!(admin.cmd(&["REPLICAOF", "127.0.0.1", &port]), ok());
    assert_eq!(
        c.cmd(&["EXEC"]),
        Reply::Error(
            "EXECABORT Transaction discarded because of: MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'."
                .into()
        )
    );
    assert_eq!(c.cmd(&["GET", "xx"]), masterdown);
    assert_eq!(c.cmd(&["PING"]), masterdown);
    assert!(matches!(c.cmd(&["INFO", "replication"]), Reply::Bulk(_)));
    assert_eq!(admin.cmd(&["REPLICAOF", "NO", "ONE"]), ok());
    assert_eq!(c.cmd(&["GET", "xx"]), bulk("1"));
}

/// PUBLISH is replicated (never written to the AOF), so a replica's own
/// subscribers get the messages published on the master.
#[test]
fn messages_published_on_the_master_reach_subscribers_of_the_replica() {
    let (_master, replica, mut m, _r) = pair();
    let mut sub = replica.conn();
    sub.send(&["SUBSCRIBE", "news"]);
    assert_eq!(
        sub.read_reply(),
        Reply::Array(vec![bulk("subscribe"), bulk("news"), Reply::Int(1)])
    );
    assert_eq!(m.cmd(&["PUBLISH", "news", "hello"]), Reply::Int(0));
    assert_eq!(
        sub.read_reply(),
        Reply::Array(vec![bulk("message"), bulk("news"), bulk("hello")])
    );
}

/// Scripts obey min-replicas-to-write too: a write inside EVAL gets
/// NOREPLICAS, and so does a function not flagged no-writes; reads pass.
#[test]
fn min_replicas_to_write_applies_inside_scripts() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["SET", "foo", "bar"]);
    c.cmd(&["CONFIG", "SET", "min-replicas-to-write", "1"]);
    let Reply::Error(e) = c.cmd(&["EVAL", "return redis.call('set','foo','x')", "0"]) else {
        panic!("a write in a script must be refused");
    };
    assert!(e.contains("NOREPLICAS"), "{e}");
    assert_eq!(
        c.cmd(&["EVAL", "return redis.call('get','foo')", "0"]),
        bulk("bar")
    );
    c.cmd(&["CONFIG", "SET", "min-replicas-to-write", "0"]);
    c.cmd(&[
        "FUNCTION",
        "LOAD",
        "#!lua name=lib\nredis.register_function('f', function() return 1 end)",
    ]);
    c.cmd(&["CONFIG", "SET", "min-replicas-to-write", "1"]);
    let Reply::Error(e) = c.cmd(&["FCALL", "f", "0"]) else {
        panic!("a function that may write must be refused");
    };
    assert!(e.contains("NOREPLICAS"), "{e}");
}

/// A read-only replica refuses a function that may write (READONLY, before
/// it runs) and a write inside EVAL; a no-writes function runs.
#[test]
fn a_read_only_replica_refuses_writing_scripts() {
    let (_master, _replica, mut m, mut r) = pair();
    let code = "#!lua name=lib\n\
                redis.register_function('w', function() return redis.call('set', 'x', '1') end)\n\
                redis.register_function{function_name='ro', callback=function() return 'ok' end, flags={'no-writes'}}";
    assert_eq!(m.cmd(&["FUNCTION", "LOAD", code]), bulk("lib"));
    assert!(wait_for(10, || r.cmd(&["FCALL", "ro", "0"]) == bulk("ok")));
    assert_eq!(
        r.cmd(&["FCALL", "w", "0"]),
        Reply::Error("READONLY You can't write against a read only replica.".into())
    );
    let Reply::Error(e) = r.cmd(&["EVAL", "return redis.call('set','x','1')", "0"]) else {
        panic!("a write inside EVAL on a replica must be refused");
    };
    assert!(e.contains("READONLY"), "{e}");
}

/// redis.set_repl chooses where a script's later writes go: REPL_NONE and
/// REPL_AOF writes do not reach the replica, REPL_ALL ones do.
#[test]
fn set_repl_selects_what_a_script_replicates() {
    let (_master, _replica, mut m, mut r) = pair();
    let script = "redis.call('set','a','1') \
                  redis.set_repl(redis.REPL_NONE) redis.call('set','b','2') \
                  redis.set_repl(redis.REPL_AOF) redis.call('set','c','3') \
                  redis.set_repl(redis.REPL_ALL) redis.call('set','d','4')";
    m.cmd(&["EVAL", script, "0"]);
    let mget = |c: &mut Conn| c.cmd(&["MGET", "a", "b", "c", "d"]);
    let all = Reply::Array(vec![bulk("1"), bulk("2"), bulk("3"), bulk("4")]);
    assert_eq!(mget(&mut m), all);
    let replicated = Reply::Array(vec![bulk("1"), Reply::Nil, Reply::Nil, bulk("4")]);
    assert!(
        wait_for(10, || mget(&mut r) == replicated),
        "{:?}",
        mget(&mut r)
    );
}

#[test]
fn a_replica_answers_loading_while_it_loads_the_masters_data() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    // A second per key: the load cannot end before CONFIG SET below.
    let replica = Server::start(&["--key-load-delay", "1000000"]);
    let mut m = master.conn();
    let mut r = replica.conn();
    for i in 0..20 {
        m.cmd(&["SET", &format!("k{i}"), "v"]);
    }
    r.cmd(&["SET", "old", "data"]);
    let port = master.port.to_string();
    assert_eq!(r.cmd(&["REPLICAOF", "127.0.0.1", &port]), ok());
    let loading = Reply::Error("LOADING Redis is loading the dataset in memory".into());
    assert!(wait_for(10, || r.cmd(&["GET", "old"]) == loading));
    let persistence = r.cmd(&["INFO", "persistence"]).text();
    assert!(persistence.contains("loading:1"), "{persistence}");
    assert_eq!(r.cmd(&["CONFIG", "SET", "key-load-delay", "0"]), ok());
    assert!(wait_for(10, || info_field(&mut r, "master_link_status") == "up"));
    assert_eq!(r.cmd(&["DBSIZE"]), Reply::Int(20));
    assert_eq!(r.cmd(&["GET", "old"]), Reply::Nil);
}
