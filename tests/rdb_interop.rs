//! Compatibility of our RDB codec with real Redis 7.0, both directions.
//!
//! - Reading: `tests/fixtures/rdb/*.rdb` were written by a real redis-server
//!   (see `make_fixtures.sh` there), with `expected.txt` holding the same
//!   content as read back over the protocol. We decode the files and compare.
//! - Writing: we write a file covering every encoding and have the real
//!   `redis-check-rdb` validate it, then load it into a real `redis-server`
//!   (with `sanitize-dump-payload yes`, so every listpack and intset is
//!   deep-checked), query a few values, make Redis SAVE it again and decode
//!   that file with our reader. DUMP payloads go through RESTORE and back.
//!
//! The writing tests print a note and pass when Redis is not installed
//! (under `make test`, which sets FERREDIS_REQUIRE_REDIS, they fail instead). They
//! use a free loopback port and a fresh temporary directory each, and a
//! guard kills the server on drop.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use ferredis::persistence::rdb::{
    decode_value, encode_value, RdbEntry, RdbEvent, RdbReader, RdbValue, RdbWriter, ReadOptions,
    WriteOptions,
};

const REDIS_SERVER: &str = "/usr/bin/redis-server";
const REDIS_CHECK_RDB: &str = "/usr/bin/redis-check-rdb";
/// A fixed far-future expiry (2100-01-01) so expectations are stable.
const FUTURE_MS: i64 = 4_102_444_800_000;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/rdb")
        .join(name)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_file(path: &Path) -> Result<Vec<RdbEvent>, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let reader =
        RdbReader::with_options(file, ReadOptions::default()).map_err(|e| e.to_string())?;
    reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

fn entries_of(events: Vec<RdbEvent>) -> Vec<RdbEntry> {
    events
        .into_iter()
        .filter_map(|e| match e {
            RdbEvent::Entry(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// A value in the shape of `expected.txt`: type name and elements, with sets
/// and hashes sorted and sorted sets in ZRANGE order (score, then member).
fn canonical(value: &RdbValue) -> (&'static str, Vec<String>) {
    match value {
        RdbValue::String(s) => ("string", vec![hex(s)]),
        RdbValue::List(items) => ("list", items.iter().map(|i| hex(i)).collect()),
        RdbValue::Set(members) => {
            let mut m: Vec<String> = members.iter().map(|i| hex(i)).collect();
            m.sort();
            ("set", m)
        }
        RdbValue::Hash(pairs) => {
            let mut p = pairs.clone();
            p.sort();
            (
                "hash",
                p.iter().flat_map(|(f, v)| [hex(f), hex(v)]).collect(),
            )
        }
        RdbValue::ZSet(pairs) => {
            let mut p = pairs.clone();
            p.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            (
                "zset",
                p.iter()
                    .flat_map(|(m, s)| [hex(m), score_text(*s)])
                    .collect(),
            )
        }
        RdbValue::Stream(s) => (
            "stream",
            s.entries
                .iter()
                .flat_map(|(id, fields)| {
                    std::iter::once(id.to_string())
                        .chain(fields.iter().flat_map(|(f, v)| [hex(f), hex(v)]))
                })
                .collect(),
        ),
    }
}

/// Scores compared as numbers: print the parsed value in one fixed form.
fn score_text(score: f64) -> String {
    format!("{score:?}")
}

#[test]
fn redis_fixture_matches_expected_content() {
    let events = read_file(&fixture("redis7-all-types.rdb")).unwrap();
    assert!(events.contains(&RdbEvent::Aux {
        key: b"redis-ver".to_vec(),
        value: b"7.0.15".to_vec()
    }));
    let resized: Vec<usize> = events
        .iter()
        .filter_map(|e| match e {
            RdbEvent::ResizeDb { db, .. } => Some(*db),
            _ => None,
        })
        .collect();
    assert_eq!(resized, vec![0, 1, 7]);

    let mut ours: BTreeMap<(usize, String), RdbEntry> = BTreeMap::new();
    for entry in entries_of(events) {
        ours.insert((entry.db, hex(&entry.key)), entry);
    }
    let expected = std::fs::read_to_string(fixture("expected.txt")).unwrap();
    let mut checked = 0;
    for line in expected.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        let (db, kind, encoding, expire, key) =
            (fields[0], fields[1], fields[2], fields[3], fields[4]);
        let db: usize = db.parse().unwrap();
        let entry = ours
            .get(&(db, key.to_string()))
            .unwrap_or_else(|| panic!("key {key} of db {db} ({kind}/{encoding}) not read"));
        let want_expire: i64 = expire.parse().unwrap();
        assert_eq!(
            entry.expire_ms,
            (want_expire >= 0).then_some(want_expire),
            "{key}"
        );
        let (our_kind, our_elems) = canonical(&entry.value);
        assert_eq!(our_kind, kind, "type of {key} ({encoding})");
        let mut want_elems: Vec<String> = fields[5..].iter().map(|s| s.to_string()).collect();
        if kind == "zset" {
            for score in want_elems.iter_mut().skip(1).step_by(2) {
                *score = score_text(score.parse::<f64>().unwrap());
            }
        }
        assert_eq!(our_elems, want_elems, "elements of {key} ({encoding})");
        checked += 1;
    }
    assert_eq!(
        checked,
        ours.len(),
        "the file holds keys expected.txt lacks"
    );
}

#[test]
fn redis_fixture_with_lfu_has_frequencies() {
    let entries = entries_of(read_file(&fixture("redis7-lfu.rdb")).unwrap());
    assert_eq!(entries.len(), 2);
    assert!(entries
        .iter()
        .all(|e| e.freq.is_some() && e.idle_s.is_none()));
}

#[test]
fn redis_fixture_with_a_stream_loads() {
    let entries = entries_of(read_file(&fixture("redis7-stream.rdb")).unwrap());
    let stream = entries
        .iter()
        .find(|e| e.key == b"stream:s")
        .expect("the stream key");
    match &stream.value {
        RdbValue::Stream(s) => {
            assert_eq!(s.len(), 1);
            let (id, fields) = s.entries.iter().next().unwrap();
            assert_eq!(id.to_string(), "1-1");
            assert_eq!(fields, &vec![(b"field".to_vec(), b"value".to_vec())]);
        }
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------
// Against a live redis-server.

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let path = std::env::temp_dir().join(format!("ferredis-rdb-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A redis-server child on a free loopback port; killed on drop.
struct RedisServer {
    child: Child,
    conn: TcpStream,
    reader: BufReader<TcpStream>,
}

/// A RESP reply, just enough for these checks.
#[derive(Debug, PartialEq)]
enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

impl RedisServer {
    fn start(dir: &Path, dbfilename: &str) -> RedisServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.join("redis.log");
        let child = Command::new(REDIS_SERVER)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
            ])
            .args(["--appendonly", "no", "--sanitize-dump-payload", "yes"])
            .arg("--dir")
            .arg(dir)
            .args(["--dbfilename", dbfilename])
            .arg("--logfile")
            .arg(&log)
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        let conn = loop {
            if let Ok(conn) = TcpStream::connect(("127.0.0.1", port)) {
                break conn;
            }
            if Instant::now() > deadline {
                let log = std::fs::read_to_string(&log).unwrap_or_default();
                panic!("redis-server did not start; its log:\n{log}");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let reader = BufReader::new(conn.try_clone().unwrap());
        let mut server = RedisServer {
            child,
            conn,
            reader,
        };
        // Accepting connections can precede the end of loading: poll PING.
        loop {
            match server.call(&[b"PING"]) {
                Reply::Status(s) if s == "PONG" => break,
                _ if Instant::now() > deadline => panic!("redis-server never answered PING"),
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        server
    }

    fn call(&mut self, args: &[&[u8]]) -> Reply {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        self.conn.write_all(&out).unwrap();
        self.read_reply()
    }

    fn read_reply(&mut self) -> Reply {
        let mut line = Vec::new();
        self.reader.read_until(b'\n', &mut line).unwrap();
        let text = String::from_utf8_lossy(&line[1..line.len() - 2]).to_string();
        match line[0] {
            b'+' => Reply::Status(text),
            b'-' => Reply::Error(text),
            b':' => Reply::Int(text.parse().unwrap()),
            b'$' => {
                let len: i64 = text.parse().unwrap();
                if len < 0 {
                    return Reply::Bulk(None);
                }
                let mut data = vec![0u8; len as usize + 2];
                self.reader.read_exact(&mut data).unwrap();
                data.truncate(len as usize);
                Reply::Bulk(Some(data))
            }
            b'*' => Reply::Array(
                (0..text.parse::<usize>().unwrap())
                    .map(|_| self.read_reply())
                    .collect(),
            ),
            other => panic!("unexpected reply type {other}"),
        }
    }

    fn bulk(&mut self, args: &[&[u8]]) -> Vec<u8> {
        match self.call(args) {
            Reply::Bulk(Some(b)) => b,
            other => panic!("{args:?} gave {other:?}"),
        }
    }

    fn int(&mut self, args: &[&[u8]]) -> i64 {
        match self.call(args) {
            Reply::Int(i) => i,
            other => panic!("{args:?} gave {other:?}"),
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn redis_installed(what: &str) -> bool {
    common::real_redis_present(what, &["redis-server", "redis-check-rdb"])
}

fn s(text: &str) -> Vec<u8> {
    text.as_bytes().to_vec()
}

/// Keys covering every encoding our writer produces.
fn sample_entries() -> Vec<RdbEntry> {
    let long = "L".repeat(65);
    let mk = |db: usize, key: &str, value: RdbValue| RdbEntry {
        db,
        key: s(key),
        value,
        expire_ms: None,
        idle_s: None,
        freq: None,
    };
    let mut entries = vec![
        mk(0, "str:raw", RdbValue::String(s("hello world"))),
        mk(0, "str:int8", RdbValue::String(s("-100"))),
        mk(0, "str:int16", RdbValue::String(s("30000"))),
        mk(0, "str:int32", RdbValue::String(s("-2000000000"))),
        mk(0, "str:int64", RdbValue::String(s("9223372036854775807"))),
        mk(0, "str:zero-padded", RdbValue::String(s("007"))),
        mk(0, "str:empty", RdbValue::String(Vec::new())),
        mk(
            0,
            "str:binary",
            RdbValue::String(vec![0, 255, 13, 10, 0x80]),
        ),
        mk(0, "str:lzf", RdbValue::String(s(&"abcdefgh".repeat(500)))),
        mk(
            0,
            "list:small",
            RdbValue::List(vec![
                s("a"),
                s("1"),
                s("-5"),
                s(""),
                s("-9223372036854775808"),
            ]),
        ),
        mk(
            0,
            "list:big",
            RdbValue::List((1..=5000).map(|i| s(&format!("item:{i}"))).collect()),
        ),
        mk(
            0,
            "list:huge-element",
            RdbValue::List(vec![s("head"), vec![b'x'; 20_000], s("tail")]),
        ),
        mk(
            0,
            "set:intset",
            RdbValue::Set(vec![s("1"), s("-4"), s("32767"), s("-9223372036854775808")]),
        ),
        mk(
            0,
            "set:strings",
            RdbValue::Set(vec![s("apple"), s("banana"), s("1")]),
        ),
        mk(
            0,
            "set:many-ints",
            RdbValue::Set((1..=600).map(|i| s(&i.to_string())).collect()),
        ),
        mk(
            0,
            "hash:small",
            RdbValue::Hash(vec![
                (s("name"), s("redis")),
                (s("n"), s("-12")),
                (s("e"), s("")),
            ]),
        ),
        mk(
            0,
            "hash:big",
            RdbValue::Hash(
                (1..=600)
                    .map(|i| (s(&format!("f{i}")), s(&format!("v{i}"))))
                    .collect(),
            ),
        ),
        mk(
            0,
            "hash:long",
            RdbValue::Hash(vec![(s("short"), s("v")), (s("long"), s(&long))]),
        ),
        mk(
            0,
            "zset:small",
            RdbValue::ZSet(vec![
                (s("one"), 1.0),
                (s("third"), 1.0 / 3.0),
                (s("top"), f64::INFINITY),
                (s("bottom"), f64::NEG_INFINITY),
                (s("minus"), -3.0),
                (s("tie-b"), 7.0),
                (s("tie-a"), 7.0),
                (s("googol"), 1e100),
            ]),
        ),
        mk(
            0,
            "zset:big",
            RdbValue::ZSet(
                (1..=200)
                    .map(|i| (s(&format!("m{i}")), i as f64 / 3.0))
                    .collect(),
            ),
        ),
        mk(
            0,
            "zset:long",
            RdbValue::ZSet(vec![(s(&long), 5.0), (s("short"), f64::INFINITY)]),
        ),
        mk(2, "db2:string", RdbValue::String(s("in db 2"))),
        mk(2, "db2:hash", RdbValue::Hash(vec![(s("f"), s("v"))])),
    ];
    entries[0].expire_ms = Some(FUTURE_MS);
    entries[9].expire_ms = Some(FUTURE_MS + 1);
    entries[1].idle_s = Some(100);
    entries[2].freq = Some(9);
    entries.last_mut().unwrap().expire_ms = Some(FUTURE_MS);
    entries
}

fn write_rdb(path: &Path, entries: &[RdbEntry], options: WriteOptions) {
    let file = std::fs::File::create(path).unwrap();
    let mut writer = RdbWriter::new(file, options).unwrap();
    writer.write_default_aux(1_700_000_000, 1_000_000).unwrap();
    for db in [0, 2] {
        let keys: Vec<&RdbEntry> = entries.iter().filter(|e| e.db == db).collect();
        let expires = keys.iter().filter(|e| e.expire_ms.is_some()).count() as u64;
        writer.select_db(db, keys.len() as u64, expires).unwrap();
        for e in keys {
            writer.write_entry(e).unwrap();
        }
    }
    writer.finish().unwrap().sync_all().unwrap();
}

/// (db, key) -> (expiry, canonical value), for comparing whole keyspaces.
type Keyspace = BTreeMap<(usize, Vec<u8>), (Option<i64>, (&'static str, Vec<String>))>;

fn by_key(entries: Vec<RdbEntry>) -> Keyspace {
    entries
        .into_iter()
        .map(|e| ((e.db, e.key), (e.expire_ms, canonical(&e.value))))
        .collect()
}

#[test]
fn redis_check_rdb_accepts_our_files() {
    if !redis_installed("redis-check-rdb test") {
        return;
    }
    let dir = TempDir::new();
    for (name, compression, checksum) in [("a.rdb", true, true), ("b.rdb", false, false)] {
        let path = dir.0.join(name);
        let options = WriteOptions {
            compression,
            checksum,
            ..WriteOptions::default()
        };
        write_rdb(&path, &sample_entries(), options);
        let output = Command::new(REDIS_CHECK_RDB).arg(&path).output().unwrap();
        let text = String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success() && text.contains("RDB looks OK"),
            "{name}:\n{text}"
        );
    }
}

#[test]
fn redis_server_loads_our_file_and_saves_the_same_data() {
    if !redis_installed("redis-server load test") {
        return;
    }
    let dir = TempDir::new();
    let entries = sample_entries();
    write_rdb(&dir.0.join("ours.rdb"), &entries, WriteOptions::default());
    let mut redis = RedisServer::start(&dir.0, "ours.rdb");

    assert_eq!(redis.int(&[b"DBSIZE"]), 21);
    assert_eq!(
        redis.bulk(&[b"GET", b"str:binary"]),
        vec![0, 255, 13, 10, 0x80]
    );
    assert_eq!(redis.bulk(&[b"GET", b"str:int32"]), b"-2000000000");
    assert_eq!(redis.int(&[b"PEXPIRETIME", b"str:raw"]), FUTURE_MS);
    assert_eq!(redis.int(&[b"LLEN", b"list:big"]), 5000);
    assert_eq!(redis.bulk(&[b"LINDEX", b"list:big", b"4999"]), b"item:5000");
    assert_eq!(
        redis.int(&[b"SISMEMBER", b"set:intset", b"-9223372036854775808"]),
        1
    );
    assert_eq!(redis.bulk(&[b"HGET", b"hash:big", b"f600"]), b"v600");
    assert_eq!(redis.bulk(&[b"ZSCORE", b"zset:small", b"top"]), b"inf");
    assert_eq!(redis.int(&[b"ZRANK", b"zset:small", b"tie-b"]), 5);
    for (key, encoding) in [
        ("str:int16", "int"),
        ("list:small", "quicklist"),
        ("set:intset", "intset"),
        ("set:strings", "hashtable"),
        ("hash:small", "listpack"),
        ("hash:big", "hashtable"),
        ("zset:small", "listpack"),
        ("zset:big", "skiplist"),
    ] {
        let got = redis.bulk(&[b"OBJECT", b"ENCODING", key.as_bytes()]);
        assert_eq!(String::from_utf8_lossy(&got), encoding, "{key}");
    }
    assert_eq!(redis.call(&[b"SELECT", b"2"]), Reply::Status("OK".into()));
    assert_eq!(redis.bulk(&[b"GET", b"db2:string"]), b"in db 2");

    // Redis saves it again (over our file: dbfilename is a protected
    // config); our reader must find exactly what we wrote.
    assert_eq!(redis.call(&[b"SAVE"]), Reply::Status("OK".into()));
    let events = read_file(&dir.0.join("ours.rdb")).unwrap();
    let ctime = events.iter().find_map(|e| match e {
        RdbEvent::Aux { key, value } if key == b"ctime" => Some(value.clone()),
        _ => None,
    });
    assert_ne!(
        ctime,
        Some(b"1700000000".to_vec()),
        "the file was not rewritten by Redis"
    );
    let resaved = entries_of(events);
    assert_eq!(by_key(resaved), by_key(entries));
}

#[test]
fn dump_payloads_restore_in_redis_and_back() {
    if !redis_installed("DUMP/RESTORE test") {
        return;
    }
    let dir = TempDir::new();
    let mut redis = RedisServer::start(&dir.0, "none.rdb");
    for entry in sample_entries() {
        let payload = encode_value(&entry.value, &WriteOptions::default());
        let reply = redis.call(&[b"RESTORE", &entry.key, b"0", &payload]);
        assert_eq!(
            reply,
            Reply::Status("OK".into()),
            "RESTORE {:?}",
            String::from_utf8_lossy(&entry.key)
        );
        let theirs = redis.bulk(&[b"DUMP", &entry.key]);
        let decoded = decode_value(&theirs).unwrap();
        assert_eq!(canonical(&decoded), canonical(&entry.value));
    }
}
