//! Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD,
//! BITFIELD_RO, with Redis 7.0's replies and error texts, and a randomized
//! side-by-side run against a live redis-server when one is installed.

mod common;
mod side_by_side;

use common::{bulk, Reply, Server};
use side_by_side::Rng;

fn err(text: &str) -> Reply {
    Reply::Error(text.into())
}

fn ints(v: &[i64]) -> Reply {
    Reply::Array(v.iter().map(|&i| Reply::Int(i)).collect())
}

const OFFSET_ERR: &str = "ERR bit offset is not an integer or out of range";

#[test]
fn setbit_and_getbit() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SETBIT", "b", "7", "1"]), Reply::Int(0));
    assert_eq!(c.cmd(&["SETBIT", "b", "7", "1"]), Reply::Int(1));
    assert_eq!(c.cmd(&["GET", "b"]), bulk("\x01"));
    assert_eq!(c.cmd(&["SETBIT", "b", "17", "1"]), Reply::Int(0));
    assert_eq!(c.cmd(&["STRLEN", "b"]), Reply::Int(3));
    assert_eq!(c.cmd(&["GETBIT", "b", "17"]), Reply::Int(1));
    assert_eq!(c.cmd(&["GETBIT", "b", "1000"]), Reply::Int(0));
    assert_eq!(c.cmd(&["GETBIT", "nokey", "0"]), Reply::Int(0));
    assert_eq!(c.cmd(&["OBJECT", "ENCODING", "b"]), bulk("raw"));

    assert_eq!(c.cmd(&["SETBIT", "b", "-1", "1"]), err(OFFSET_ERR));
    assert_eq!(c.cmd(&["SETBIT", "b", "4294967296", "1"]), err(OFFSET_ERR));
    assert_eq!(c.cmd(&["SETBIT", "b", "x", "1"]), err(OFFSET_ERR));
    assert_eq!(c.cmd(&["GETBIT", "b", "x"]), err(OFFSET_ERR));
    let bit_err = err("ERR bit is not an integer or out of range");
    assert_eq!(c.cmd(&["SETBIT", "b", "1", "2"]), bit_err);
    assert_eq!(c.cmd(&["SETBIT", "b", "1", "-1"]), bit_err);
    assert_eq!(c.cmd(&["SETBIT", "b", "1", "x"]), bit_err);
    // A smaller proto-max-bulk-len lowers the offset limit.
    c.cmd(&["CONFIG", "SET", "proto-max-bulk-len", "1048576"]);
    assert_eq!(c.cmd(&["SETBIT", "b", "8388608", "1"]), err(OFFSET_ERR));
}

#[test]
fn bitcount_ranges() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd(&["SET", "s", "foobar"]);
    assert_eq!(c.cmd(&["BITCOUNT", "s"]), Reply::Int(26));
    assert_eq!(c.cmd(&["BITCOUNT", "s", "0", "0"]), Reply::Int(4));
    assert_eq!(c.cmd(&["BITCOUNT", "s", "1", "1"]), Reply::Int(6));
    assert_eq!(c.cmd(&["BITCOUNT", "s", "1", "1", "BYTE"]), Reply::Int(6));
    assert_eq!(c.cmd(&["BITCOUNT", "s", "5", "30", "BIT"]), Reply::Int(17));
    assert_eq!(c.cmd(&["BITCOUNT", "s", "-1", "-5"]), Reply::Int(0));
    assert_eq!(c.cmd(&["BITCOUNT", "s", "0", "1000"]), Reply::Int(26));
    assert_eq!(c.cmd(&["BITCOUNT", "nokey"]), Reply::Int(0));
    assert_eq!(c.cmd(&["BITCOUNT", "s", "0"]), err("ERR syntax error"));
    assert_eq!(
        c.cmd(&["BITCOUNT", "s", "0", "1", "BITS"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["BITCOUNT", "s", "a", "1"]),
        err("ERR value is not an integer or out of range")
    );
}

#[test]
fn bitpos_searches() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd_bytes(&[b"SET", b"z", b"\xff\xf0\x00"]);
    assert_eq!(c.cmd(&["BITPOS", "z", "0"]), Reply::Int(12));
    assert_eq!(c.cmd(&["BITPOS", "z", "1", "2"]), Reply::Int(-1));
    assert_eq!(c.cmd(&["BITPOS", "z", "0", "0", "0"]), Reply::Int(-1));
    assert_eq!(
        c.cmd(&["BITPOS", "z", "0", "2", "-1", "BIT"]),
        Reply::Int(12)
    );
    assert_eq!(
        c.cmd(&["BITPOS", "z", "1", "7", "15", "BIT"]),
        Reply::Int(7)
    );
    assert_eq!(
        c.cmd(&["BITPOS", "z", "0", "7", "11", "BIT"]),
        Reply::Int(-1)
    );
    c.cmd_bytes(&[b"SET", b"ones", b"\xff\xff"]);
    assert_eq!(c.cmd(&["BITPOS", "ones", "0"]), Reply::Int(16));
    assert_eq!(c.cmd(&["BITPOS", "ones", "0", "0"]), Reply::Int(16));
    assert_eq!(c.cmd(&["BITPOS", "ones", "0", "0", "-1"]), Reply::Int(-1));
    assert_eq!(c.cmd(&["BITPOS", "nokey", "0"]), Reply::Int(0));
    assert_eq!(c.cmd(&["BITPOS", "nokey", "1"]), Reply::Int(-1));
    assert_eq!(
        c.cmd(&["BITPOS", "z", "2"]),
        err("ERR The bit argument must be 1 or 0.")
    );
    assert_eq!(
        c.cmd(&["BITPOS", "z", "0", "0", "1", "X"]),
        err("ERR syntax error")
    );
}

#[test]
fn bitop_operations() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    c.cmd_bytes(&[b"SET", b"a", b"\x0f\xaa"]);
    c.cmd_bytes(&[b"SET", b"b", b"\xf0"]);
    assert_eq!(c.cmd(&["BITOP", "AND", "d", "a", "b"]), Reply::Int(2));
    assert_eq!(c.cmd(&["GET", "d"]), Reply::Bulk(vec![0, 0]));
    assert_eq!(c.cmd(&["BITOP", "or", "d", "a", "b"]), Reply::Int(2));
    assert_eq!(c.cmd(&["GET", "d"]), Reply::Bulk(vec![0xff, 0xaa]));
    assert_eq!(
        c.cmd(&["BITOP", "XOR", "d", "a", "b", "nokey"]),
        Reply::Int(2)
    );
    assert_eq!(c.cmd(&["GET", "d"]), Reply::Bulk(vec![0xff, 0xaa]));
    assert_eq!(c.cmd(&["BITOP", "NOT", "d", "a"]), Reply::Int(2));
    assert_eq!(c.cmd(&["GET", "d"]), Reply::Bulk(vec![0xf0, 0x55]));
    assert_eq!(c.cmd(&["BITOP", "AND", "d", "nokey"]), Reply::Int(0));
    assert_eq!(c.cmd(&["EXISTS", "d"]), Reply::Int(0));
    assert_eq!(
        c.cmd(&["BITOP", "NOT", "d", "a", "b"]),
        err("ERR BITOP NOT must be called with a single source key.")
    );
    assert_eq!(c.cmd(&["BITOP", "NAND", "d", "a"]), err("ERR syntax error"));
    c.cmd(&["GEOADD", "geo", "1", "1", "m"]);
    assert_eq!(
        c.cmd(&["BITOP", "AND", "d", "a", "geo"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
}

#[test]
fn bitfield_get_set_incrby() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&[
            "BITFIELD", "bf", "SET", "i8", "0", "100", "GET", "i8", "0", "INCRBY", "i8", "0",
            "100", "GET", "u4", "0"
        ]),
        ints(&[0, 100, -56, 12])
    );
    assert_eq!(
        c.cmd(&[
            "BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", "0", "-100", "OVERFLOW", "FAIL",
            "INCRBY", "i8", "0", "-100", "OVERFLOW", "WRAP", "INCRBY", "i8", "0", "-100"
        ]),
        Reply::Array(vec![Reply::Int(-128), Reply::Nil, Reply::Int(28)])
    );
    assert_eq!(
        c.cmd(&["BITFIELD", "bf", "SET", "u8", "#1", "255", "GET", "u8", "#1", "GET", "u16", "0"]),
        ints(&[0, 255, 7423])
    );
    assert_eq!(
        c.cmd(&[
            "BITFIELD",
            "bf",
            "SET",
            "i64",
            "0",
            "9223372036854775807",
            "INCRBY",
            "i64",
            "0",
            "1"
        ]),
        ints(&[2089388752123199488, i64::MIN])
    );
    assert_eq!(c.cmd(&["BITFIELD", "nokey", "GET", "u8", "0"]), ints(&[0]));
    assert_eq!(c.cmd(&["BITFIELD", "bf"]), Reply::Array(vec![]));
    assert_eq!(
        c.cmd(&["BITFIELD_RO", "bf", "GET", "i8", "0"]),
        ints(&[-128])
    );

    let type_err = err("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.");
    assert_eq!(c.cmd(&["BITFIELD", "bf", "SET", "u64", "0", "1"]), type_err);
    assert_eq!(c.cmd(&["BITFIELD", "bf", "GET", "i65", "0"]), type_err);
    assert_eq!(c.cmd(&["BITFIELD", "bf", "GET", "x8", "0"]), type_err);
    assert_eq!(
        c.cmd(&["BITFIELD", "bf", "GET", "i8", "-1"]),
        err(OFFSET_ERR)
    );
    assert_eq!(
        c.cmd(&["BITFIELD", "bf", "OVERFLOW", "FOO"]),
        err("ERR Invalid OVERFLOW type specified")
    );
    assert_eq!(
        c.cmd(&["BITFIELD", "bf", "GET", "i8"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["BITFIELD", "bf", "SET", "i8", "0", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["BITFIELD_RO", "bf", "SET", "i8", "0", "1"]),
        err("ERR BITFIELD_RO only supports the GET subcommand")
    );
}

#[test]
fn bitfield_unsigned_overflow() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["BITFIELD", "u", "SET", "u8", "0", "255", "INCRBY", "u8", "0", "10"]),
        ints(&[0, 9])
    );
    assert_eq!(
        c.cmd(&[
            "BITFIELD", "u", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "1000", "INCRBY", "u8", "0",
            "-1000"
        ]),
        ints(&[255, 0])
    );
    assert_eq!(
        c.cmd(&["BITFIELD", "u", "OVERFLOW", "SAT", "SET", "u8", "0", "-1", "GET", "u8", "0"]),
        ints(&[0, 255])
    );
}

#[test]
fn side_by_side_with_real_redis() {
    let Some(mut p) = side_by_side::Pair::start() else {
        return;
    };
    let mut rng = Rng(0x0bad_5eed_1234_5678);
    for round in 0..600 {
        let n = rng.below(13) as usize;
        let value: Vec<u8> = (0..n)
            .map(|_| match rng.below(3) {
                0 => 0,
                1 => 0xff,
                _ => rng.next() as u8,
            })
            .collect();
        p.check(&[b"SET", b"s", &value]);
        let a = (rng.below(261) as i64 - 130).to_string();
        let b = (rng.below(261) as i64 - 130).to_string();
        let unit = ["BIT", "BYTE", "bit"][rng.below(3) as usize];
        p.check_str(&["BITCOUNT", "s", &a, &b]);
        p.check_str(&["BITCOUNT", "s", &a, &b, unit]);
        let bit = rng.below(2).to_string();
        p.check_str(&["BITPOS", "s", &bit]);
        p.check_str(&["BITPOS", "s", &bit, &a]);
        p.check_str(&["BITPOS", "s", &bit, &a, &b]);
        p.check_str(&["BITPOS", "s", &bit, &a, &b, unit]);
        // A random BITFIELD with every kind of sub-command.
        let mut args: Vec<String> = vec!["BITFIELD".into(), "s".into()];
        for _ in 0..=rng.below(4) {
            match rng.below(4) {
                0 => {
                    args.push("OVERFLOW".into());
                    args.push(["WRAP", "SAT", "FAIL"][rng.below(3) as usize].into());
                }
                kind => {
                    let signed = rng.below(2) == 0;
                    let bits = 1 + rng.below(if signed { 64 } else { 63 });
                    args.push(["GET", "SET", "INCRBY"][kind as usize - 1].into());
                    args.push(format!("{}{bits}", if signed { 'i' } else { 'u' }));
                    args.push(if rng.below(3) == 0 {
                        format!("#{}", rng.below(6))
                    } else {
                        rng.below(100).to_string()
                    });
                    if kind > 1 {
                        args.push(match rng.below(4) {
                            0 => (rng.next() as i64).to_string(),
                            1 => i64::MIN.to_string(),
                            2 => i64::MAX.to_string(),
                            _ => (rng.below(601) as i64 - 300).to_string(),
                        });
                    }
                }
            }
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        p.check_str(&args);
        p.check_str(&["GET", "s"]);
        if round % 10 == 0 {
            for key in ["x", "y", "z"] {
                let len = rng.below(41) as usize;
                let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
                p.check(&[b"SET", key.as_bytes(), &bytes]);
            }
            let op = ["AND", "OR", "XOR"][rng.below(3) as usize];
            p.check_str(&["BITOP", op, "d", "x", "y", "z", "nokey"]);
            p.check_str(&["GET", "d"]);
            p.check_str(&["BITOP", "NOT", "d", "x"]);
            p.check_str(&["GET", "d"]);
        }
    }
}
