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

/// Makes `r` a replica of the master on `port` and waits for its first
/// sync to finish.
fn follow(r: &mut Conn, port: &str) {
    assert_eq!(r.cmd(&["REPLICAOF", "127.0.0.1", port]), ok());
    assert!(wait_for(10, || info_field(r, "master_link_status") == "up"));
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
    follow(&mut r, &port);
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

/// CLIENT LIST on a replica shows its master link (flag M, the master's
/// address); CLIENT KILL closes it and the replica continues with a
/// partial resync in the database the stream had selected.
#[test]
fn a_killed_master_link_resyncs_partially_in_the_selected_database() {
    let (_master, _replica, mut m, mut r) = pair();
    assert_eq!(m.cmd(&["SELECT", "9"]), ok());
    assert_eq!(m.cmd(&["SET", "k", "1"]), ok());
    let master_addr = format!("127.0.0.1:{}", _master.port);
    let list = r.cmd(&["CLIENT", "LIST"]).text();
    let link = list
        .lines()
        .find(|l| l.contains("flags=M"))
        .unwrap_or_else(|| panic!("no master client in {list}"));
    assert!(link.contains(&format!("addr={master_addr} ")), "{link}");
    assert_eq!(r.cmd(&["CLIENT", "KILL", &master_addr]), ok());
    assert!(wait_for(10, || m.info_field("stats", "sync_partial_ok") == "1"));
    // No SELECT follows a partial resync: the link must still be in db 9.
    assert_eq!(m.cmd(&["SET", "after", "2"]), ok());
    assert_eq!(r.cmd(&["SELECT", "9"]), ok());
    assert!(wait_for(10, || r.cmd(&["GET", "after"]) == bulk("2")));
    assert_eq!(r.cmd(&["SELECT", "0"]), ok());
    assert_eq!(r.cmd(&["EXISTS", "after"]), Reply::Int(0));
    assert_eq!(r.cmd(&["CLIENT", "KILL", "TYPE", "master"]), Reply::Int(1));
    assert_eq!(m.info_field("stats", "sync_full"), "1");
}

/// A replica leaves expiring its master's keys to the master: an expired
/// key reads as absent but stays until the master's DEL, and the master's
/// commands still see it. A writable replica's own writes stay out of its
/// replication offset, and keys it gave a TTL itself expire there.
#[test]
fn a_replica_leaves_expiry_of_the_masters_keys_to_the_master() {
    let (_master, replica, mut m, mut r) = pair();
    assert_eq!(m.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    assert_eq!(m.cmd(&["SET", "old", "5", "PX", "50"]), ok());
    assert!(wait_for(10, || r.cmd(&["DBSIZE"]) == Reply::Int(2)));
    std::thread::sleep(std::time::Duration::from_millis(100));
    assert_eq!(r.cmd(&["EXISTS", "old"]), Reply::Int(0));
    assert_eq!(r.cmd(&["GET", "old"]), Reply::Nil);
    assert_eq!(r.cmd(&["DBSIZE"]), Reply::Int(2));

    // The master's INCR reaches the replica after the key's TTL passed
    // there (DEBUG SLEEP holds the replica up): it still applies to that
    // key, TTL and all, instead of starting a new one.
    assert_eq!(m.cmd(&["SET", "gone", "5", "PX", "400"]), ok());
    assert!(wait_for(10, || r.cmd(&["DBSIZE"]) == Reply::Int(3)));
    let mut sleeper = replica.conn();
    sleeper.send(&["DEBUG", "SLEEP", "0.6"]);
    std::thread::sleep(std::time::Duration::from_millis(50));
    assert_eq!(m.cmd(&["INCR", "gone"]), Reply::Int(6));
    assert_eq!(sleeper.read_reply(), ok());
    let offset = info_field(&mut m, "master_repl_offset");
    assert!(wait_for(10, || info_field(&mut r, "slave_repl_offset") == offset));
    assert_eq!(r.cmd(&["EXISTS", "gone"]), Reply::Int(0));
    // Same values, same TTLs on both sides (the digest covers both).
    assert_eq!(r.cmd(&["DEBUG", "DIGEST"]), m.cmd(&["DEBUG", "DIGEST"]));
    assert_eq!(r.cmd(&["DBSIZE"]), Reply::Int(3));

    // Writable: a write deletes the expired key and writes anew; the
    // replica's own writes stay out of its offset; its own TTLs expire.
    assert_eq!(r.cmd(&["CONFIG", "SET", "replica-read-only", "no"]), ok());
    let offset = info_field(&mut r, "master_repl_offset");
    assert_eq!(r.cmd(&["INCR", "gone"]), Reply::Int(1));
    assert_eq!(r.cmd(&["TTL", "gone"]), Reply::Int(-1));
    assert_eq!(r.cmd(&["SET", "mine", "1", "PX", "50"]), ok());
    assert_eq!(r.cmd(&["DBSIZE"]), Reply::Int(4));
    assert_eq!(info_field(&mut r, "master_repl_offset"), offset);
    assert!(wait_for(10, || r.cmd(&["DBSIZE"]) == Reply::Int(3)));
}

/// When a command from the master fails on the replica (DEBUG REPLICATE
/// sends one the master never ran; a writable replica changed a key), the
/// replica logs Redis's "== CRITICAL ==" line with the error and command,
/// counts it in unexpected_error_replies, and goes on with the stream.
#[test]
fn an_error_from_the_masters_stream_is_logged_and_counted() {
    let (_master, replica, mut m, mut r) = pair();
    assert_eq!(m.cmd(&["DEBUG", "REPLICATE", "fake-command-1"]), ok());
    assert_eq!(r.cmd(&["CONFIG", "SET", "replica-read-only", "no"]), ok());
    assert_eq!(r.cmd(&["SET", "number", "foo"]), ok());
    assert_eq!(m.cmd(&["INCRBY", "number", "1"]), Reply::Int(1));
    assert_eq!(m.cmd(&["SET", "later", "1"]), ok());
    assert!(wait_for(10, || r.cmd(&["GET", "later"]) == bulk("1")));
    assert_eq!(r.cmd(&["GET", "number"]), bulk("foo"));
    assert_eq!(r.info_field("stats", "unexpected_error_replies"), "2");
    let log = std::fs::read_to_string(replica.dir.join("server.log")).expect("log");
    assert!(log.contains("== CRITICAL == This replica is sending an error to its master: 'unknown command 'fake-command-1', with args beginning with: ' after processing the command '<unknown>'"), "{log}");
    assert!(log.contains("== CRITICAL == This replica is sending an error to its master: 'value is not an integer or out of range' after processing the command 'incrby'"), "{log}");
    assert!(log.contains("Latest backlog is: '\""), "{log}");
}

/// With propagation-error-behavior panic, only a read-only replica stops
/// on an error in its master's stream. A writable one may itself have
/// written what makes the master's command fail (here its own FUNCTION LOAD
/// of the same library), so it logs the error under the command's full
/// name, as Redis does, and goes on.
#[test]
fn only_a_read_only_replica_panics_on_an_error_from_its_master() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let replica = Server::start(&[
        "--propagation-error-behavior",
        "panic",
        "--replica-read-only",
        "no",
    ]);
    let mut m = master.conn();
    let mut r = replica.conn();
    let port = master.port.to_string();
    follow(&mut r, &port);
    let library = "#!lua name=test\nredis.register_function('test', function() return 1 end)";
    assert_eq!(r.cmd(&["FUNCTION", "LOAD", library]), bulk("test"));
    assert_eq!(m.cmd(&["FUNCTION", "LOAD", library]), bulk("test"));
    assert_eq!(m.cmd(&["SET", "later", "1"]), ok());
    assert!(wait_for(10, || r.cmd(&["GET", "later"]) == bulk("1")));
    assert_eq!(r.info_field("stats", "unexpected_error_replies"), "1");
    let log = std::fs::read_to_string(replica.dir.join("server.log")).expect("log");
    assert!(log.contains("This replica is sending an error to its master: 'Library 'test' already exists' after processing the command 'function|load'"), "{log}");

    assert_eq!(r.cmd(&["CONFIG", "SET", "replica-read-only", "yes"]), ok());
    assert_eq!(m.cmd(&["DEBUG", "REPLICATE", "fake-command-1"]), ok());
    assert!(wait_for(10, || r.is_closed()));
    let log = std::fs::read_to_string(replica.dir.join("server.log")).expect("log");
    assert!(
        log.contains("This replica panicked sending an error to its master"),
        "{log}"
    );
}

/// Under repl-diskless-load swapdb, a full sync from the master the
/// replica already follows loads in the background (INFO async_loading:1):
/// the old data stays served, commands flagged no_async_loading and
/// CONFIG SET appendonly get LOADING, and the master's data replaces the
/// old once loaded.
#[test]
fn a_swapdb_replica_serves_its_old_data_while_it_loads_from_the_same_master() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let replica = Server::start(&[
        "--repl-diskless-load",
        "swapdb",
        "--replica-read-only",
        "no",
    ]);
    let mut m = master.conn();
    let mut r = replica.conn();
    assert_eq!(m.cmd(&["DEBUG", "POPULATE", "200"]), ok());
    let port = master.port.to_string();
    follow(&mut r, &port);
    assert_eq!(r.cmd(&["SET", "only-on-replica", "1"]), ok());

    // A slow RDB, and a backlog too small for a partial resync.
    assert_eq!(
        m.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "10000"]),
        ok()
    );
    assert_eq!(
        m.cmd(&["CONFIG", "SET", "repl-backlog-size", "16384"]),
        ok()
    );
    assert_eq!(m.cmd(&["MULTI"]), ok());
    m.cmd(&["CLIENT", "KILL", "TYPE", "replica"]);
    let big = "A".repeat(16384);
    for i in 0..3 {
        m.cmd(&["SET", &format!("big{i}"), &big]);
    }
    assert!(matches!(m.cmd(&["EXEC"]), Reply::Array(_)));

    assert!(wait_for(10, || r
        .info_field("persistence", "async_loading")
        == "1"));
    assert_eq!(r.info_field("persistence", "loading"), "0");
    assert_eq!(r.cmd(&["GET", "only-on-replica"]), bulk("1"));
    let loading = Reply::Error("LOADING Redis is loading the dataset in memory".into());
    assert_eq!(r.cmd(&["REPLICAOF", "NO", "ONE"]), loading);
    assert_eq!(r.cmd(&["CONFIG", "SET", "appendonly", "no"]), loading);
    assert_eq!(r.cmd(&["CONFIG", "SET", "maxmemory-clients", "0"]), ok());

    assert!(wait_for(20, || r
        .info_field("persistence", "async_loading")
        == "0"));
    assert!(wait_for(10, || info_field(&mut r, "master_link_status") == "up"));
    assert_eq!(r.cmd(&["GET", "only-on-replica"]), Reply::Nil);
    assert_eq!(r.cmd(&["DBSIZE"]), Reply::Int(203));
}

/// A replica sends only REPLCONF on its replication link: any other
/// command would have a reply, which would land in its stream, so the
/// master logs it and disconnects it, as Redis does. A PSYNC offset that is
/// not a number is refused and logged.
#[test]
fn a_replica_link_sending_a_command_is_disconnected() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let mut link = master.conn();
    link.send(&["PSYNC", "?", "-1"]);
    let mut line = String::new();
    std::io::BufRead::read_line(&mut link.reader, &mut line).expect("reply");
    assert!(line.starts_with("+FULLRESYNC "), "{line}");
    link.send(&["GET", "foo"]);
    assert!(wait_for(10, || link.is_closed()));
    let mut m = master.conn();
    assert_eq!(
        m.cmd(&["PSYNC", "someid", "offset_str"]),
        Reply::Error("ERR value is not an integer or out of range".into())
    );
    assert_eq!(m.cmd(&["PING"]), Reply::Status("PONG".into()));
    let log = std::fs::read_to_string(master.dir.join("server.log")).expect("log");
    assert!(log.contains("== CRITICAL == This master is sending an error to its replica: 'Replica can't interact with the keyspace' after processing the command 'get'"), "{log}");
    assert!(
        log.contains("Replica generated a reply to command 'get', disconnecting it: id="),
        "{log}"
    );
    assert!(
        log.contains("asks for synchronization but with a wrong offset"),
        "{log}"
    );
}

/// Why a PSYNC could not continue is logged with Redis's lines.
#[test]
fn a_refused_partial_resync_is_logged_with_its_reason() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let mut m = master.conn();
    assert_eq!(m.cmd(&["SET", "k", "v"]), ok());
    let first_id = m.info_field("replication", "master_replid");
    let psync = |id: &str, offset: &str| {
        let mut link = master.conn();
        link.send(&["PSYNC", id, offset]);
        let mut line = String::new();
        std::io::BufRead::read_line(&mut link.reader, &mut line).expect("reply");
        assert!(line.starts_with("+FULLRESYNC "), "{line}");
    };
    psync("someid", "5");
    // The backlog, made for the first replica, starts a new history.
    let replid = m.info_field("replication", "master_replid");
    assert_ne!(replid, first_id);
    psync(&replid, "999999");
    let log = std::fs::read_to_string(master.dir.join("server.log")).expect("log");
    let zeros = "0".repeat(40);
    assert!(log.contains(&format!("Partial resynchronization not accepted: Replication ID mismatch (Replica asked for 'someid', my replication IDs are '{first_id}' and '{zeros}')")), "{log}");
    assert!(
        log.contains(&format!(
            "Replication backlog created, my new replication IDs are '{replid}' and '{zeros}'"
        )),
        "{log}"
    );
    assert!(
        log.contains("for lack of backlog (Replica request was: 999999)."),
        "{log}"
    );
    assert!(
        log.contains(
            "tried to PSYNC with an offset that is greater than the master replication offset."
        ),
        "{log}"
    );
}

/// A full sync replaces the replica's function libraries with the
/// master's, as it replaces its keys.
#[test]
fn a_full_sync_replaces_the_replicas_functions_with_the_masters() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let replica = Server::start(&[]);
    let mut m = master.conn();
    let mut r = replica.conn();
    let library = |name: &str| {
        format!("#!lua name={name}\nredis.register_function('f_{name}', function() return '{name}' end)")
    };
    assert_eq!(r.cmd(&["FUNCTION", "LOAD", &library("mine")]), bulk("mine"));
    assert_eq!(
        m.cmd(&["FUNCTION", "LOAD", &library("masters")]),
        bulk("masters")
    );
    let port = master.port.to_string();
    follow(&mut r, &port);
    // FUNCTION LIST: library_name, then the library's fields.
    let listed = format!("{:?}", r.cmd(&["FUNCTION", "LIST"]));
    assert!(
        listed.contains(&format!("{:?}", bulk("masters"))),
        "{listed}"
    );
    assert!(!listed.contains(&format!("{:?}", bulk("mine"))), "{listed}");
}

/// A promoted replica's own replicas learn its new replication ID (it
/// disconnects them; they continue partially with +CONTINUE <new ID>), as
/// does the chain below a replica whose master's ID changed. Without it
/// they would keep the old ID, valid only up to the promotion's offset,
/// and need a full sync at their next change of master.
#[test]
fn replicas_below_a_promoted_replica_learn_its_new_replication_id() {
    let a = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let b = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let c = Server::start(&[]);
    let (mut ca, mut cb, mut cc) = (a.conn(), b.conn(), c.conn());
    let (a_port, b_port) = (a.port.to_string(), b.port.to_string());
    follow(&mut cb, &a_port);
    follow(&mut cc, &b_port);
    assert_eq!(ca.cmd(&["SET", "k", "1"]), ok());
    assert!(wait_for(10, || cc.cmd(&["GET", "k"]) == bulk("1")));

    // B promoted: C continues partially and takes B's new ID.
    assert_eq!(cb.cmd(&["REPLICAOF", "NO", "ONE"]), ok());
    let b_id = info_field(&mut cb, "master_replid");
    assert!(wait_for(10, || info_field(&mut cc, "master_replid") == b_id));
    assert!(wait_for(10, || info_field(&mut cc, "master_link_status") == "up"));
    assert_eq!(cb.info_field("stats", "sync_full"), "1");
    assert_eq!(cb.info_field("stats", "sync_partial_ok"), "1");

    // A follows B now: A continues partially (its ID is B's second), and
    // so the chain is A <- B -> C; then B follows A back: B gets
    // +CONTINUE with A's new ID, and C, below B, must learn it as well.
    follow(&mut ca, &b_port);
    assert_eq!(ca.cmd(&["REPLICAOF", "NO", "ONE"]), ok());
    assert_eq!(cb.cmd(&["REPLICAOF", "127.0.0.1", &a_port]), ok());
    let a_id = info_field(&mut ca, "master_replid");
    assert!(wait_for(10, || info_field(&mut cb, "master_replid") == a_id));
    assert!(wait_for(10, || info_field(&mut cc, "master_replid") == a_id));
    for conn in [&mut ca, &mut cb] {
        assert_eq!(conn.info_field("stats", "sync_full"), "1");
    }
}

/// A replica saves its replication position in its RDB (aux fields
/// repl-id, repl-offset, repl-stream-db) and CONFIG REWRITE writes its
/// replicaof line; restarted from both, it continues with a partial
/// resync instead of a full one (Redis's psync2 "restart" test).
#[test]
fn a_restarted_replica_continues_from_the_position_in_its_rdb() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let mut m = master.conn();
    let dir = common::fresh_dir("ferredis-restart");
    let conf = dir.join("replica.conf");
    std::fs::write(&conf, "").expect("conf");
    let replica = Server::start_with_config(&dir, Some(&conf), &[]);
    let mut r = replica.conn();
    let port = master.port.to_string();
    follow(&mut r, &port);
    assert_eq!(m.cmd(&["SELECT", "2"]), ok());
    assert_eq!(m.cmd(&["SET", "k", "1"]), ok());
    assert!(wait_for(10, || {
        r.cmd(&["SELECT", "2"]);
        r.cmd(&["GET", "k"]) == bulk("1")
    }));
    assert_eq!(r.cmd(&["CONFIG", "REWRITE"]), ok());
    let text = std::fs::read_to_string(&conf).expect("conf");
    assert!(
        text.contains(&format!("replicaof 127.0.0.1 {port}")),
        "{text}"
    );
    r.send(&["SHUTDOWN", "SAVE"]);
    assert!(wait_for(10, || r.is_closed()));
    drop(replica);

    let replica = Server::start_with_config(&dir, Some(&conf), &[]);
    let mut r = replica.conn();
    assert!(wait_for(10, || info_field(&mut r, "master_link_status") == "up"));
    assert_eq!(m.info_field("stats", "sync_full"), "1");
    assert_eq!(m.info_field("stats", "sync_partial_ok"), "1");
    // The stream goes on in the database it had selected.
    assert_eq!(m.cmd(&["SET", "k", "2"]), ok());
    assert!(wait_for(10, || {
        r.cmd(&["SELECT", "2"]);
        r.cmd(&["GET", "k"]) == bulk("2")
    }));
}

/// While a script of one of its clients runs past busy-reply-threshold, a
/// replica does not refuse its master's writes with -BUSY (that would lose
/// them): they wait and apply after the script.
#[test]
fn the_masters_writes_wait_for_a_busy_script_on_the_replica() {
    let (_master, replica, mut m, mut r) = pair();
    assert_eq!(
        r.cmd(&["CONFIG", "SET", "busy-reply-threshold", "50"]),
        ok()
    );
    let mut scripted = replica.conn();
    // Half a second of busy script, measured by the server's own clock.
    scripted.send(&[
        "EVAL",
        "local t = redis.call('TIME') repeat local n = redis.call('TIME') until (n[1] - t[1]) * 1000000 + (n[2] - t[2]) > 500000",
        "0",
    ]);
    std::thread::sleep(std::time::Duration::from_millis(150));
    for _ in 0..10 {
        m.cmd(&["INCR", "counter"]);
    }
    assert_eq!(scripted.read_reply(), Reply::Nil);
    assert!(wait_for(10, || r.cmd(&["GET", "counter"]) == bulk("10")));
    assert_eq!(r.info_field("stats", "unexpected_error_replies"), "0");
}

/// A master with `keys` keys whose RDB takes a second per key to produce,
/// and a replica that just started its first sync with it.
fn slow_first_sync(keys: usize) -> (Server, Server, Conn) {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let replica = Server::start(&[]);
    let mut m = master.conn();
    let mut r = replica.conn();
    assert_eq!(m.cmd(&["DEBUG", "POPULATE", &keys.to_string()]), ok());
    assert_eq!(
        m.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "1000000"]),
        ok()
    );
    let port = master.port.to_string();
    assert_eq!(r.cmd(&["REPLICAOF", "127.0.0.1", &port]), ok());
    (master, replica, m)
}

/// SHUTDOWN waits only for replicas that finished their initial sync: one
/// still receiving its RDB could take any time (Redis's isReadyToShutdown).
#[test]
fn shutdown_does_not_wait_for_a_replica_still_syncing() {
    let (master, _replica, mut m) = slow_first_sync(10);
    assert!(wait_for(10, || m
        .cmd(&["INFO", "replication"])
        .text()
        .contains("state=wait_bgsave")));
    m.send(&["SHUTDOWN", "NOSAVE"]);
    assert!(m.is_closed());
    let log_path = master.dir.join("server.log");
    assert!(wait_for(10, || std::fs::read_to_string(&log_path)
        .is_ok_and(|log| log.contains("ready to exit, bye bye"))));
    let log = std::fs::read_to_string(&log_path).expect("log");
    assert!(
        log.contains("0 of 0 replicas are in sync when shutting down."),
        "{log}"
    );
}

/// With repl-diskless-load, a replica is LOADING from +FULLRESYNC, which
/// the master sends when the transfer starts (Redis loads straight from
/// the socket); when the transfer fails it serves its old data again.
#[test]
fn a_diskless_load_replica_is_loading_during_the_transfer() {
    let master = Server::start(&["--repl-diskless-sync-delay", "0"]);
    let replica = Server::start(&["--repl-diskless-load", "swapdb"]);
    let mut m = master.conn();
    let mut r = replica.conn();
    assert_eq!(m.cmd(&["DEBUG", "POPULATE", "100", "master", "1000"]), ok());
    assert_eq!(
        m.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "100000"]),
        ok()
    );
    assert_eq!(r.cmd(&["SET", "mykey", "myvalue"]), ok());
    let port = master.port.to_string();
    assert_eq!(r.cmd(&["REPLICAOF", "127.0.0.1", &port]), ok());
    assert!(wait_for(10, || r.info_field("persistence", "loading") == "1"));
    assert!(matches!(r.cmd(&["GET", "mykey"]), Reply::Error(e) if e.starts_with("LOADING")));
    // The master gives up on the replica: the transfer fails.
    assert_eq!(
        m.cmd(&["CONFIG", "SET", "repl-diskless-sync-delay", "5"]),
        ok()
    );
    assert_eq!(m.cmd(&["CLIENT", "KILL", "TYPE", "replica"]), Reply::Int(1));
    assert!(wait_for(10, || r.info_field("persistence", "loading") == "0"));
    assert_eq!(r.cmd(&["GET", "mykey"]), bulk("myvalue"));
    assert_eq!(r.cmd(&["DBSIZE"]), Reply::Int(1));
    // The replica reconnects a second later; while the master waits out
    // its 5 s sync delay, no transfer has begun, so it is not loading.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    assert_eq!(r.info_field("persistence", "loading"), "0");
    assert_eq!(r.cmd(&["GET", "mykey"]), bulk("myvalue"));
}

/// When the master drops a replica in the middle of its sync, it stops
/// producing that replica's RDB (INFO's rdb_bgsave_in_progress goes back
/// to 0) instead of finishing a transfer nobody will read.
#[test]
fn a_killed_replica_stops_the_rdb_it_was_getting() {
    // Unstopped, the RDB would take 100 s.
    let (_master, _replica, mut m) = slow_first_sync(100);
    assert!(wait_for(10, || m
        .info_field("persistence", "rdb_bgsave_in_progress")
        == "1"));
    // Keep the replica's next attempt from starting a new RDB right away.
    assert_eq!(
        m.cmd(&["CONFIG", "SET", "repl-diskless-sync-delay", "60"]),
        ok()
    );
    assert_eq!(m.cmd(&["CLIENT", "KILL", "TYPE", "replica"]), Reply::Int(1));
    assert!(wait_for(10, || m
        .info_field("persistence", "rdb_bgsave_in_progress")
        == "0"));
}
