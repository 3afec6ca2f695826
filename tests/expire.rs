//! Expiry against the real binary: EXPIRE and friends with NX/XX/GT/LT,
//! TTL/PTTL/EXPIRETIME, PERSIST, lazy expiry on reads, and active expiry
//! (a key nobody touches disappears on its own).

mod common;
use common::{bulk, wait_for, Reply, Server};

fn ok() -> Reply {
    Reply::Status("OK".into())
}

fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

#[test]
fn expire_family_and_ttl() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.cmd(&["TTL", "k"]), Reply::Int(-1));
    assert_eq!(c.cmd(&["TTL", "nokey"]), Reply::Int(-2));
    assert_eq!(c.cmd(&["PTTL", "nokey"]), Reply::Int(-2));
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), Reply::Int(-1));
    assert_eq!(c.cmd(&["EXPIRE", "nokey", "10"]), Reply::Int(0));
    assert_eq!(c.cmd(&["EXPIRE", "k", "100"]), Reply::Int(1));
    assert!(matches!(c.cmd(&["PTTL", "k"]), Reply::Int(t) if t > 99_000 && t <= 100_000));
    assert_eq!(c.cmd(&["EXPIRE", "k", "50", "NX"]), Reply::Int(0));
    assert_eq!(c.cmd(&["EXPIRE", "k", "50", "XX"]), Reply::Int(1));
    assert_eq!(c.cmd(&["EXPIRE", "k", "10", "GT"]), Reply::Int(0));
    assert_eq!(c.cmd(&["EXPIRE", "k", "200", "GT"]), Reply::Int(1));
    assert_eq!(c.cmd(&["EXPIRE", "k", "300", "LT"]), Reply::Int(0));
    assert_eq!(c.cmd(&["EXPIRE", "k", "20", "LT"]), Reply::Int(1));
    assert_eq!(
        c.cmd(&["EXPIRE", "k", "20", "NX", "XX"]),
        err("ERR NX and XX, GT or LT options at the same time are not compatible")
    );
    assert_eq!(
        c.cmd(&["EXPIRE", "k", "20", "GT", "LT"]),
        err("ERR GT and LT options at the same time are not compatible")
    );
    assert_eq!(
        c.cmd(&["EXPIRE", "k", "20", "FOO"]),
        err("ERR Unsupported option FOO")
    );
    assert_eq!(
        c.cmd(&["EXPIRE", "k", "abc"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["EXPIRE", "k", "9223372036854775807"]),
        err("ERR invalid expire time in 'expire' command")
    );
    assert_eq!(c.cmd(&["PEXPIRE", "k", "100000"]), Reply::Int(1));
    assert_eq!(c.cmd(&["EXPIREAT", "k", "4102444800"]), Reply::Int(1));
    assert_eq!(c.cmd(&["EXPIRETIME", "k"]), Reply::Int(4102444800));
    assert_eq!(c.cmd(&["PEXPIREAT", "k", "4102444800123"]), Reply::Int(1));
    assert_eq!(c.cmd(&["PEXPIRETIME", "k"]), Reply::Int(4102444800123));
    assert_eq!(c.cmd(&["PERSIST", "k"]), Reply::Int(1));
    assert_eq!(c.cmd(&["PERSIST", "k"]), Reply::Int(0));
    assert_eq!(c.cmd(&["PERSIST", "nokey"]), Reply::Int(0));
    // A time in the past deletes the key at once.
    assert_eq!(c.cmd(&["EXPIRE", "k", "-1"]), Reply::Int(1));
    assert_eq!(c.cmd(&["EXISTS", "k"]), Reply::Int(0));
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.cmd(&["PEXPIREAT", "k", "1"]), Reply::Int(1));
    assert_eq!(c.cmd(&["GET", "k"]), Reply::Nil);
}

#[test]
fn lazy_expiry_on_read_deletes_the_key() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]), ok());
    c.cmd(&["PSETEX", "a", "50", "x"]);
    c.cmd(&["PSETEX", "b", "50", "x"]);
    c.cmd(&["SET", "c", "x"]);
    // Past the TTL. Nothing reads the keys: any lookup would delete them.
    std::thread::sleep(std::time::Duration::from_millis(80));
    // DEBUG OBJECT still shows an expired key (it does not delete, as in Redis).
    assert!(
        matches!(c.cmd(&["DEBUG", "OBJECT", "b"]), Reply::Status(s) if s.starts_with("Value at:"))
    );
    // Expired but untouched keys are still counted, as in Redis.
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(3));
    assert_eq!(
        c.cmd(&["MGET", "a", "b", "c"]),
        Reply::Array(vec![Reply::Nil, Reply::Nil, bulk("x")])
    );
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(1));
    let stats = c.cmd(&["INFO", "stats"]).text();
    assert!(stats.contains("expired_keys:2"), "{stats}");
}

#[test]
fn active_expiry_removes_untouched_keys() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    for i in 0..100 {
        c.cmd(&["SET", &format!("k{i}"), "v", "PX", "100"]);
    }
    c.cmd(&["SET", "keep", "v"]);
    // Nothing reads the keys: only the background cycle can delete them.
    assert!(wait_for(10, || c.cmd(&["DBSIZE"]) == Reply::Int(1)));
    let keyspace = c.cmd(&["INFO", "keyspace"]).text();
    assert!(keyspace.contains("db0:keys=1,expires=0"), "{keyspace}");
}

#[test]
fn set_active_expire_off_keeps_keys_until_touched() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    c.cmd(&["SET", "k", "v", "PX", "10"]);
    // Past the TTL; the key stays, as nothing touches it.
    std::thread::sleep(std::time::Duration::from_millis(40));
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(1));
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    assert!(wait_for(10, || c.cmd(&["DBSIZE"]) == Reply::Int(0)));
}
