//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, and byte-level
//! compatibility with real Redis 7.0 (fixtures in tests/fixtures/hll, written
//! by redis-server 7.0.15; see the README there), and a side-by-side run
//! against a live redis-server when one is installed.

mod common;
mod side_by_side;

use std::path::Path;

use common::{Reply, Server};
use side_by_side::Rng;

fn fixture(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/hll")
        .join(name);
    std::fs::read(path).expect("fixture")
}

fn elements(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i}")).collect()
}

/// PFADD key elements..., in batches of 500 as the fixtures were made.
fn pfadd_all(c: &mut common::Conn, key: &str, els: &[String]) {
    for chunk in els.chunks(500) {
        let mut args = vec!["PFADD", key];
        args.extend(chunk.iter().map(String::as_str));
        c.cmd(&args);
    }
}

fn get_bytes(c: &mut common::Conn, key: &str) -> Vec<u8> {
    match c.cmd(&["GET", key]) {
        Reply::Bulk(b) => b,
        other => panic!("GET {key}: {other:?}"),
    }
}

#[test]
fn pfadd_and_pfcount_basics() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["PFADD", "hll"]), Reply::Int(1));
    assert_eq!(c.cmd(&["EXISTS", "hll"]), Reply::Int(1));
    assert_eq!(c.cmd(&["PFCOUNT", "hll"]), Reply::Int(0));
    assert_eq!(c.cmd(&["PFADD", "hll", "a", "b", "c"]), Reply::Int(1));
    assert_eq!(c.cmd(&["PFADD", "hll", "a", "b", "c"]), Reply::Int(0));
    assert_eq!(c.cmd(&["PFADD", "hll", ""]), Reply::Int(1));
    assert_eq!(c.cmd(&["PFCOUNT", "hll"]), Reply::Int(4));
    assert_eq!(c.cmd(&["PFCOUNT", "nokey"]), Reply::Int(0));
    assert_eq!(
        c.cmd(&["PFDEBUG", "ENCODING", "hll"]),
        Reply::Status("sparse".into())
    );
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "hll"]), common::bulk("raw"));
}

#[test]
fn cache_is_invalidated_and_refreshed() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["PFADD", "hll", "1", "2", "3", "4", "5"]);
    assert_eq!(c.cmd(&["PFCOUNT", "hll"]), Reply::Int(5));
    // The cache lives in header bytes 8..16; bit 63 set means stale.
    let cached = get_bytes(&mut c, "hll");
    assert_eq!(&cached[8..16], &5u64.to_le_bytes());
    c.cmd(&["PFADD", "hll", "6", "7", "8", "8", "9", "10"]);
    assert_eq!(get_bytes(&mut c, "hll")[15] & 0x80, 0x80);
    assert_eq!(c.cmd(&["PFCOUNT", "hll"]), Reply::Int(10));
}

#[test]
fn same_bytes_as_real_redis() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    pfadd_all(&mut c, "sparse", &elements("el:", 0..1000));
    assert_eq!(get_bytes(&mut c, "sparse"), fixture("sparse-1000.hll"));
    pfadd_all(&mut c, "dense", &elements("el:", 0..5000));
    assert_eq!(get_bytes(&mut c, "dense"), fixture("dense-5000.hll"));
    assert_eq!(
        c.cmd(&["PFDEBUG", "ENCODING", "dense"]),
        Reply::Status("dense".into())
    );

    pfadd_all(&mut c, "a", &elements("el:", 0..1000));
    pfadd_all(&mut c, "b", &elements("x:", 0..300));
    assert_eq!(
        c.cmd(&["PFMERGE", "m", "a", "b"]),
        Reply::Status("OK".into())
    );
    assert_eq!(get_bytes(&mut c, "m"), fixture("merged-1000-300.hll"));
    assert_eq!(c.cmd(&["PFCOUNT", "a", "b"]), Reply::Int(1301));
}

#[test]
fn counts_redis_values_like_redis() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    // Counts from tests/fixtures/hll/expected.txt.
    for (name, count) in [
        ("sparse-1000.hll", 999),
        ("dense-5000.hll", 4959),
        ("merged-1000-300.hll", 1301),
    ] {
        c.cmd_bytes(&[b"SET", b"k", &fixture(name)]);
        assert_eq!(c.cmd(&["PFCOUNT", "k"]), Reply::Int(count), "{name}");
    }
}

#[test]
fn corrupted_and_foreign_values() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let wrongtype = Reply::Error("WRONGTYPE Key is not a valid HyperLogLog string value.".into());
    let invalid = Reply::Error("INVALIDOBJ Corrupted HLL object detected".into());
    c.cmd(&["SET", "str", "bar"]);
    assert_eq!(c.cmd(&["PFADD", "str", "1"]), wrongtype);
    assert_eq!(c.cmd(&["PFCOUNT", "str"]), wrongtype);
    assert_eq!(c.cmd(&["PFMERGE", "dst", "str"]), wrongtype);
    assert_eq!(c.cmd(&["PFMERGE", "str", "dst"]), wrongtype);

    c.cmd(&["PFADD", "hll", "a", "b", "c"]);
    c.cmd(&["APPEND", "hll", "hello"]);
    assert_eq!(c.cmd(&["PFCOUNT", "hll"]), invalid);

    c.cmd(&["DEL", "hll"]);
    c.cmd(&["PFADD", "hll", "a", "b", "c"]);
    c.cmd(&["SETRANGE", "hll", "0", "0123"]);
    assert_eq!(c.cmd(&["PFCOUNT", "hll"]), wrongtype);

    c.cmd(&["DEL", "hll"]);
    c.cmd(&["PFADD", "hll", "a", "b", "c"]);
    // Claims to be dense but has the sparse length.
    c.cmd_bytes(&[b"SETRANGE", b"hll", b"4", b"\x00"]);
    assert_eq!(c.cmd(&["PFCOUNT", "hll"]), wrongtype);

    // Runs past the 16384th register are refused everywhere (Redis's fix
    // for CVE-2025-32023): an XZERO of 16384 followed by one more VAL, with
    // the cached count marked stale.
    let mut runs_past_end = b"HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80".to_vec();
    runs_past_end.extend_from_slice(&[0x7f, 0xff, 0xff]);
    c.cmd_bytes(&[b"SET", b"hll", &runs_past_end]);
    assert_eq!(c.cmd(&["PFCOUNT", "hll"]), invalid);
    assert_eq!(c.cmd(&["PFCOUNT", "hll", "hll"]), invalid);
    assert_eq!(c.cmd(&["PFDEBUG", "GETREG", "hll"]), invalid);
    assert_eq!(c.cmd(&["PFMERGE", "dst", "hll"]), invalid);

    // Random damage never crashes the server.
    let mut seed = 12345u64;
    for round in 0..200 {
        c.cmd(&["DEL", "hll"]);
        let n = (round * 17) % 3000;
        c.cmd(&["PFADD", "hll"]);
        pfadd_all(&mut c, "hll", &elements("r", 0..n));
        let len = get_bytes(&mut c, "hll").len() as u64;
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let pos = (seed >> 33) % len;
        let byte = [(seed >> 20) as u8];
        c.cmd_bytes(&[b"SETRANGE", b"hll", pos.to_string().as_bytes(), &byte]);
        let _ = c.cmd(&["PFCOUNT", "hll"]);
        let _ = c.cmd(&["PFADD", "hll", "x", "y", "z"]);
    }
    assert_eq!(c.cmd(&["PING"]), Reply::Status("PONG".into()));
}

#[test]
fn pfmerge_and_multi_key_pfcount() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["PFADD", "hll1", "a", "b", "c"]);
    c.cmd(&["PFADD", "hll2", "b", "c", "d"]);
    c.cmd(&["PFADD", "hll3", "c", "d", "e"]);
    assert_eq!(
        c.cmd(&["PFMERGE", "hll", "hll1", "hll2", "hll3"]),
        Reply::Status("OK".into())
    );
    assert_eq!(c.cmd(&["PFCOUNT", "hll"]), Reply::Int(5));
    assert_eq!(
        c.cmd(&["PFCOUNT", "hll1", "hll2", "hll3", "nokey"]),
        Reply::Int(5)
    );
    assert_eq!(c.cmd(&["PFMERGE", "empty"]), Reply::Status("OK".into()));
    assert_eq!(c.cmd(&["PFCOUNT", "empty"]), Reply::Int(0));
}

#[test]
fn pfdebug_subcommands() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["PFADD", "h", "a"]);
    match c.cmd(&["PFDEBUG", "DECODE", "h"]) {
        Reply::Bulk(b) => {
            let text = String::from_utf8(b).unwrap();
            assert!(text.contains("v:"), "{text}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.cmd(&["PFDEBUG", "TODENSE", "h"]), Reply::Int(1));
    assert_eq!(c.cmd(&["PFDEBUG", "TODENSE", "h"]), Reply::Int(0));
    assert_eq!(
        c.cmd(&["PFDEBUG", "DECODE", "h"]),
        Reply::Error("ERR HLL encoding is not sparse".into())
    );
    match c.cmd(&["PFDEBUG", "GETREG", "h"]) {
        Reply::Array(regs) => {
            assert_eq!(regs.len(), 16384);
            assert_eq!(regs.iter().filter(|r| **r != Reply::Int(0)).count(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c.cmd(&["PFCOUNT", "h"]), Reply::Int(1));
    assert_eq!(
        c.cmd(&["PFDEBUG", "FOO", "h"]),
        Reply::Error("ERR Unknown PFDEBUG subcommand 'FOO'".into())
    );
    assert_eq!(
        c.cmd(&["PFDEBUG", "ENCODING", "nokey"]),
        Reply::Error("ERR The specified key does not exist".into())
    );
}

#[test]
fn sparse_promotes_to_dense_at_the_configured_size() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["CONFIG", "SET", "hll-sparse-max-bytes", "200"]);
    pfadd_all(&mut c, "h", &elements("p", 0..40));
    assert_eq!(
        c.cmd(&["PFDEBUG", "ENCODING", "h"]),
        Reply::Status("sparse".into())
    );
    pfadd_all(&mut c, "h", &elements("p", 40..200));
    assert_eq!(
        c.cmd(&["PFDEBUG", "ENCODING", "h"]),
        Reply::Status("dense".into())
    );
}

#[test]
fn side_by_side_with_real_redis() {
    let Some(mut p) = side_by_side::Pair::start() else {
        return;
    };
    let mut rng = Rng(0x1234_5678_9abc_def1);
    for round in 0..40 {
        p.check_str(&["DEL", "h", "h2", "m"]);
        p.check_str(&["PFADD", "h"]);
        let n = [0, 1, 7, 60, 400, 1500, 3000][round % 7];
        let els: Vec<String> = (0..n).map(|_| rng.next().to_string()).collect();
        for chunk in els.chunks(300) {
            let mut args = vec!["PFADD", "h"];
            args.extend(chunk.iter().map(String::as_str));
            p.check_str(&args);
        }
        p.check_str(&["GET", "h"]);
        p.check_str(&["PFCOUNT", "h"]);
        p.check_str(&["GET", "h"]);
        let m = [1, 20, 300, 2500][round % 4];
        let others: Vec<String> = (0..m).map(|_| rng.next().to_string()).collect();
        let mut args = vec!["PFADD", "h2"];
        args.extend(others.iter().map(String::as_str));
        p.check_str(&args);
        if round % 3 == 0 {
            p.check_str(&["PFDEBUG", "TODENSE", "h2"]);
        }
        p.check_str(&["PFMERGE", "m", "h", "h2"]);
        p.check_str(&["GET", "m"]);
        p.check_str(&["PFCOUNT", "m"]);
        p.check_str(&["PFCOUNT", "h", "h2", "nokey"]);
        // Damage a few bytes: both must agree on the outcome.
        let Reply::Int(len) = p.check_str(&["STRLEN", "h"]) else {
            panic!("STRLEN");
        };
        for _ in 0..=rng.below(4) {
            let pos = rng.below(len as u64 + 1).to_string();
            let byte = [rng.next() as u8];
            p.check(&[b"SETRANGE", b"h", pos.as_bytes(), &byte]);
        }
        p.check_str(&["PFCOUNT", "h"]);
        p.check_str(&["PFADD", "h", "a", "b", "c", "d"]);
        p.check_str(&["GET", "h"]);
        p.check_str(&["PFCOUNT", "h", "h2"]);
        p.check_str(&["PFMERGE", "m", "h"]);
        p.check_str(&["GET", "m"]);
    }
}
