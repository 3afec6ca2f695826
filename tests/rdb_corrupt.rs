//! Corrupt RDB data: RESTORE payloads and files that must be refused with
//! Redis's reply ("ERR Bad data format") and Redis's log words ("... integrity
//! check failed", "Duplicate stream consumer detected", "skipping empty key"),
//! never a crash, and the server must keep answering afterwards.
//!
//! The payloads come from Redis 7.0's own corrupt-dump tests (DUMP payloads
//! of type byte, value, RDB version and CRC-64). Those whose CRC was never
//! fixed up run after DEBUG SET-SKIP-CHECKSUM-VALIDATION 1, as Redis's tests
//! do. Log lines are read from `--logfile`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{free_port, wait_for, Reply, Server};

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ferredis-rdbcorrupt-{name}-{}-{}",
        std::process::id(),
        free_port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Starts a server logging to `dir/server.log`, returns it and the log path.
fn start_logging(name: &str) -> (Server, PathBuf) {
    let dir = fresh_dir(name);
    let log = dir.join("server.log");
    let server = Server::start_in(
        &dir,
        &[
            "--logfile",
            &log.display().to_string(),
            "--loglevel",
            "verbose",
        ],
    );
    (server, log)
}

fn log_text(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn bad_data() -> Reply {
    Reply::Error("ERR Bad data format".into())
}

/// (name, payload, whether its CRC is valid, words the log must show).
const PAYLOADS: &[(&str, &[u8], bool, &str)] = &[
    (
        "hash ziplist with an entry length past its end",
        b"\x0D\x1B\x1B\x00\x00\x00\x16\x00\x00\x00\x04\x00\x00\x02\x61\x00\x04\x02\x62\x00\x04\x14\x63\x00\x04\x02\x64\x00\xFF\x09\x00\xD9\x10\x54\x92\x15\xF5\x5F\x52",
        true,
        "Hash ziplist integrity check failed",
    ),
    (
        "hash ziplist with a wrong zlbytes header",
        b"\x0D\x1B\x25\x00\x00\x00\x16\x00\x00\x00\x04\x00\x00\x02\x61\x00\x04\x02\x62\x00\x04\x02\x63\x00\x04\x02\x64\x00\xFF\x09\x00\xB7\xF7\x6E\x9F\x43\x43\x14\xC6",
        true,
        "integrity check failed",
    ),
    (
        "hash ziplist with a duplicate field",
        b"\x0D\x1B\x1B\x00\x00\x00\x16\x00\x00\x00\x04\x00\x00\x02\x61\x00\x04\x02\x62\x00\x04\x02\x61\x00\x04\x02\x64\x00\xFF\x09\x00\xA1\x98\x36\x78\xCC\x8E\x93\x2E",
        true,
        "ziplist with dup elements",
    ),
    (
        "quicklist ziplist with a big prevlen",
        b"\x0E\x01\x13\x13\x00\x00\x00\x0E\x00\x00\x00\x02\x00\x00\x02\x61\x00\x0E\x02\x62\x00\xFF\x09\x00\x49\x97\x30\xB2\x0D\xA1\xED\xAA",
        true,
        "Quicklist ziplist integrity check failed",
    ),
    (
        "quicklist ziplist with a wrong count",
        b"\x0E\x01\x13\x13\x00\x00\x00\x0E\x00\x00\x00\x03\x00\x00\x02\x61\x00\x04\x02\x62\x00\xFF\x09\x00\x4D\xE2\x0A\x2F\x08\x25\xDF\x91",
        true,
        "integrity check failed",
    ),
    (
        "hash listpack with a duplicate field",
        b"\x10\x17\x17\x00\x00\x00\x04\x00\x82\x61\x00\x03\x82\x62\x00\x03\x82\x61\x00\x03\x82\x64\x00\x03\xff\x0a\x00\xc0\xcf\xa6\x87\xe5\xa7\xc5\xbe",
        true,
        "listpack with dup elements",
    ),
    (
        "empty zipmap",
        b"\x09\x02\x00\xFF\x09\x00\xC0\xF1\xB8\x67\x4C\x16\xAC\xE3",
        true,
        "Zipmap integrity check failed",
    ),
    (
        "stream with a duplicate consumer",
        b"\x0F\x00\x00\x00\x00\x01\x07\x6D\x79\x67\x72\x6F\x75\x70\x00\x00\x00\x02\x04\x6E\x61\x6D\x65\x2A\x4C\xAA\x9A\x7D\x01\x00\x00\x00\x04\x6E\x61\x6D\x65\x2B\x4C\xAA\x9A\x7D\x01\x00\x00\x00\x0A\x00\xCC\xED\x8C\xA7\x62\xEE\xC7\xC8",
        true,
        "Duplicate stream consumer detected",
    ),
    (
        "stream listpack with a bad size header",
        b"\x0F\x01\x10\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00\x00\x00\x00\x02\x40\x55\x5F\x00\x00\x00\x0F\x00\x01\x01\x00\x01\x02\x01\x88\x31\x00\x00\x00\x00\x00\x00\x00\x09\x88\x32\x00\x00\x00\x00\x00\x00\x00\x09\x00\x01\x00\x01\x00\x01\x00\x01\x02\x02\x88\x31\x00\x00\x00\x00\x00\x00\x00\x09\x88\x61\x00\x00\x00\x00\x00\x00\x00\x09\x88\x32\x00\x00\x00\x00\x00\x00\x00\x09\x88\x62\x00\x00\x00\x00\x00\x00\x00\x09\x08\x01\xFF\x0A\x01\x00\x00\x09\x00\x45\x91\x0A\x87\x2F\xA5\xF9\x2E",
        true,
        "Stream listpack integrity check failed",
    ),
    (
        "intset with no members",
        b"\x0B\x08\x02\x00\x00\x00\x00\x00\x00\x00\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        false,
        "Intset integrity check failed",
    ),
    (
        "plain set with a duplicate member",
        b"\x02\x02\x01a\x01a\x09\x00\x00\x00\x00\x00\x00\x00\x00\x00",
        false,
        "Duplicate set members detected",
    ),
    (
        "quicklist 2 with a zero-length plain node",
        b"\x12\x01\x01\x00\x0a\x00\x8f\xc6\xc0\x57\x1c\x0a\xb3\x3c",
        true,
        "Quicklist listpack integrity check failed",
    ),
];

#[test]
fn corrupt_payloads_are_bad_data_format_with_redis_log_words() {
    let (server, log) = start_logging("payloads");
    let mut c = server.conn();
    for &(name, payload, crc_ok, words) in PAYLOADS {
        if !crc_ok {
            // Without the switch the footer check answers first.
            assert_eq!(
                c.cmd(&["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0"]),
                Reply::Status("OK".into())
            );
            assert_eq!(
                c.cmd_bytes(&[b"RESTORE", b"key", b"0", payload, b"REPLACE"]),
                Reply::Error("ERR DUMP payload version or checksum are wrong".into()),
                "{name}"
            );
        }
        let skip: &str = if crc_ok { "0" } else { "1" };
        c.cmd(&["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", skip]);
        assert_eq!(
            c.cmd_bytes(&[b"RESTORE", b"key", b"0", payload, b"REPLACE"]),
            bad_data(),
            "{name}"
        );
        assert!(
            wait_for(5, || log_text(&log).contains(words)),
            "{name}: log lacks {words:?}:\n{}",
            log_text(&log)
        );
        assert_eq!(c.cmd(&["PING"]), Reply::Status("PONG".into()), "{name}");
        assert_eq!(c.cmd(&["EXISTS", "key"]), Reply::Int(0), "{name}");
    }
}

#[test]
fn every_truncation_and_bit_flip_of_good_dumps_is_answered() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1"]);
    c.cmd(&["RPUSH", "l", "a", "bb", "1", "-7"]);
    c.cmd(&["HSET", "h", "f", "v", "g", "123"]);
    c.cmd(&["ZADD", "z", "1", "a", "2.5", "b"]);
    c.cmd(&["SADD", "s", "1", "2", "3"]);
    c.cmd(&["SADD", "sl", "a", "b"]);
    c.cmd(&["XADD", "x", "1-1", "f", "v"]);
    c.cmd(&["XGROUP", "CREATE", "x", "g", "0"]);
    c.cmd(&["XREADGROUP", "GROUP", "g", "alice", "STREAMS", "x", ">"]);
    for key in ["l", "h", "z", "s", "sl", "x"] {
        let Reply::Bulk(dump) = c.cmd(&["DUMP", key]) else {
            panic!("DUMP {key}");
        };
        let body = dump.len() - 10;
        let mut variants: Vec<Vec<u8>> = Vec::new();
        for i in 1..body {
            // Truncated value, footer kept.
            let mut cut = dump[..i].to_vec();
            cut.extend_from_slice(&dump[body..]);
            variants.push(cut);
            for mask in [0x01u8, 0x80, 0xff] {
                let mut flipped = dump.clone();
                flipped[i] ^= mask;
                variants.push(flipped);
            }
        }
        for v in variants {
            match c.cmd_bytes(&[b"RESTORE", b"copy", b"0", &v, b"REPLACE"]) {
                Reply::Status(s) if s == "OK" => {
                    // Accepted: the value must be usable.
                    let t = c.cmd(&["TYPE", "copy"]);
                    assert!(matches!(t, Reply::Status(_)), "{key}: {t:?}");
                    c.cmd(&["DUMP", "copy"]);
                    c.cmd(&["DEL", "copy"]);
                }
                Reply::Error(e) => assert!(
                    e == "ERR Bad data format"
                        || e == "ERR DUMP payload version or checksum are wrong",
                    "{key}: {e}"
                ),
                other => panic!("{key}: {other:?}"),
            }
        }
        assert_eq!(c.cmd(&["PING"]), Reply::Status("PONG".into()));
    }
}

/// An RDB file by hand: header, SELECTDB 0, the given records, EOF and a
/// zero checksum ("saved with rdbchecksum no").
fn rdb_file(records: &[u8]) -> Vec<u8> {
    let mut f = b"REDIS0010\xfe\x00".to_vec();
    f.extend_from_slice(records);
    f.push(0xff);
    f.extend_from_slice(&[0; 8]);
    f
}

#[test]
fn empty_keys_in_a_file_are_skipped_and_logged() {
    let dir = fresh_dir("emptykeys");
    // A plain set "set" with no members, a plain hash "hash" with no
    // fields, then a good string.
    let file = rdb_file(b"\x02\x03set\x00\x04\x04hash\x00\x00\x02ok\x01v");
    std::fs::write(dir.join("dump.rdb"), file).expect("write");
    let log = dir.join("server.log");
    let server = Server::start_in(&dir, &["--logfile", &log.display().to_string()]);
    let mut c = server.conn();
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(1));
    let text = log_text(&log);
    assert!(text.contains("skipping empty key: set"), "{text}");
    assert!(text.contains("skipping empty key: hash"), "{text}");
    assert!(text.contains("empty keys skipped: 2"), "{text}");
}

#[test]
fn a_corrupt_blob_in_the_file_stops_the_start_with_redis_words() {
    let dir = fresh_dir("badfile");
    // A hash ziplist whose third entry claims 20 bytes.
    let mut records = b"\x0D\x01h\x1B".to_vec();
    records.extend_from_slice(
        b"\x1B\x00\x00\x00\x16\x00\x00\x00\x04\x00\x00\x02\x61\x00\x04\x02\x62\x00\x04\x14\x63\x00\x04\x02\x64\x00\xFF",
    );
    std::fs::write(dir.join("dump.rdb"), rdb_file(&records)).expect("write");
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--dir",
            &dir.display().to_string(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut child = child;
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert_eq!(
        text.matches("Terminating server after rdb file reading failure.")
            .count(),
        1,
        "{text}"
    );
    assert!(
        text.matches("Hash ziplist integrity check failed").count() >= 2,
        "{text}"
    );
}
