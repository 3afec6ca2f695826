//! Replication between ferredis and Debian's real redis-server, both ways:
//! a redis-server replica of our master, and our replica of a redis-server
//! master. Each direction runs with both ways of framing the RDB of a full
//! sync: `$<len>` (repl-diskless-sync no) and, streamed, `$EOF:<mark>`
//! (repl-diskless-sync yes, Redis's default).
//!
//! Skipped with a note when redis-server is not installed, unless
//! FERREDIS_REQUIRE_REDIS is set (`make test` sets it after installing it).

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};

use common::{bulk, free_port, wait_for, Conn, Reply, Server};

const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// A redis-server child on a free loopback port, killed on drop.
struct RedisServer {
    port: u16,
    child: Child,
}

impl RedisServer {
    fn start(dir: &Path, extra: &[&str]) -> RedisServer {
        std::fs::create_dir_all(dir).expect("dir");
        let port = free_port();
        let child = Command::new(REDIS_SERVER)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(dir)
            .arg("--logfile")
            .arg(dir.join("redis.log"))
            .args(extra)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server");
        let server = RedisServer { port, child };
        assert!(wait_for(10, || Conn::try_connect(port).is_ok()));
        server
    }

    fn conn(&self) -> Conn {
        Conn::connect(self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn ok() -> Reply {
    Reply::Status("OK".into())
}

fn link_up(conn: &mut Conn) -> bool {
    conn.cmd(&["INFO", "replication"])
        .text()
        .contains("master_link_status:up")
}

/// Writes one key of each type and 1000 strings (enough for several
/// chunks of a streamed RDB).
fn fill(m: &mut Conn) {
    assert_eq!(m.cmd(&["SELECT", "3"]), ok());
    assert_eq!(m.cmd(&["SET", "in-db-3", "x"]), ok());
    assert_eq!(m.cmd(&["SELECT", "0"]), ok());
    for i in 0..1000 {
        let key = format!("key:{i}");
        let value = format!("value-{i}-{}", "v".repeat(i % 50));
        assert_eq!(m.cmd(&["SET", &key, &value]), ok());
    }
    assert_eq!(m.cmd(&["RPUSH", "list", "a", "b", "c"]), Reply::Int(3));
    assert_eq!(
        m.cmd(&["HSET", "hash", "f1", "1", "f2", "2"]),
        Reply::Int(2)
    );
    assert_eq!(m.cmd(&["SADD", "set", "x", "y"]), Reply::Int(2));
    assert_eq!(
        m.cmd(&["ZADD", "zset", "1.5", "a", "2", "b"]),
        Reply::Int(2)
    );
    assert_eq!(m.cmd(&["XADD", "stream", "1-1", "f", "v"]), bulk("1-1"));
    assert_eq!(m.cmd(&["SET", "ttl", "t", "EX", "1000"]), ok());
}

/// The replica holds what [`fill`] wrote, and then what the master's
/// stream carries.
fn check(m: &mut Conn, r: &mut Conn) {
    assert_eq!(r.cmd(&["DBSIZE"]), Reply::Int(1006));
    assert_eq!(
        r.cmd(&["GET", "key:999"]),
        bulk(&format!("value-999-{}", "v".repeat(49)))
    );
    assert_eq!(
        r.cmd(&["LRANGE", "list", "0", "-1"]),
        Reply::Array(vec![bulk("a"), bulk("b"), bulk("c")])
    );
    assert_eq!(r.cmd(&["HGET", "hash", "f2"]), bulk("2"));
    assert_eq!(r.cmd(&["SISMEMBER", "set", "y"]), Reply::Int(1));
    assert_eq!(r.cmd(&["ZSCORE", "zset", "a"]), bulk("1.5"));
    assert_eq!(r.cmd(&["XLEN", "stream"]), Reply::Int(1));
    assert!(matches!(r.cmd(&["TTL", "ttl"]), Reply::Int(t) if t > 900));
    assert_eq!(r.cmd(&["SELECT", "3"]), ok());
    assert_eq!(r.cmd(&["GET", "in-db-3"]), bulk("x"));
    assert_eq!(r.cmd(&["SELECT", "0"]), ok());
    assert_eq!(m.cmd(&["INCR", "after-sync"]), Reply::Int(1));
    assert!(wait_for(10, || r.cmd(&["GET", "after-sync"]) == bulk("1")));
}

/// A master's options: repl-diskless-sync `diskless`, and no wait for more
/// replicas before a transfer.
fn master_args(diskless: &str) -> [&str; 4] {
    [
        "--repl-diskless-sync",
        diskless,
        "--repl-diskless-sync-delay",
        "0",
    ]
}

/// Makes `r` a replica of the master on `master_port` (whose data [`fill`]
/// wrote), checks the data and the stream, and that the replica's log
/// names the framing repl-diskless-sync `diskless` calls for.
fn sync_and_check(
    m: &mut Conn,
    master_port: u16,
    r: &mut Conn,
    replica_log: &Path,
    diskless: &str,
) {
    let port = master_port.to_string();
    assert_eq!(r.cmd(&["REPLICAOF", "127.0.0.1", &port]), ok());
    assert!(wait_for(20, || link_up(r)), "diskless {diskless}");
    check(m, r);
    let log = std::fs::read_to_string(replica_log).expect("log");
    let framing = match diskless {
        "yes" => "receiving streamed RDB from master with EOF to disk",
        _ => "bytes from master to disk",
    };
    assert!(log.contains(framing), "diskless {diskless}: {log}");
}

#[test]
fn a_redis_server_replica_syncs_from_our_master() {
    if !common::real_redis_present("replication interop", &["redis-server"]) {
        return;
    }
    for diskless in ["no", "yes"] {
        let master = Server::start(&master_args(diskless));
        let mut m = master.conn();
        fill(&mut m);
        let replica = RedisServer::start(&master.dir.join("redis-replica"), &[]);
        let replica_log = master.dir.join("redis-replica/redis.log");
        sync_and_check(
            &mut m,
            master.port,
            &mut replica.conn(),
            &replica_log,
            diskless,
        );
    }
}

#[test]
fn our_replica_syncs_from_a_redis_server_master() {
    if !common::real_redis_present("replication interop", &["redis-server"]) {
        return;
    }
    for diskless in ["no", "yes"] {
        let replica = Server::start(&[]);
        let master = RedisServer::start(&replica.dir.join("redis-master"), &master_args(diskless));
        let mut m = master.conn();
        fill(&mut m);
        let replica_log = replica.dir.join("server.log");
        sync_and_check(
            &mut m,
            master.port,
            &mut replica.conn(),
            &replica_log,
            diskless,
        );
    }
}
