//! RDB persistence through the real binary: SAVE, BGSAVE, restart, SHUTDOWN,
//! signals, DUMP/RESTORE, refusal of bad files, and interoperability with
//! a real Redis 7.0 (skipped with a note when it is not installed).
//!
//! Collections are created with RESTORE of payloads built by our codec (so
//! these tests do not depend on the list/hash/set commands) and read back
//! with DUMP, decoded and compared in a canonical form (sets and hashes
//! sorted, sorted sets by score).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{bulk, free_port, wait_for, Conn, Reply, Server};
use ferredis::persistence::rdb::{decode_value, encode_value, RdbReader, RdbValue, WriteOptions};

const REDIS_SERVER: &str = "/usr/bin/redis-server";
const REDIS_CHECK_RDB: &str = "/usr/bin/redis-check-rdb";

fn redis_installed(what: &str) -> bool {
    common::real_redis_present(what, &["redis-server", "redis-check-rdb"])
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ferredis-rdb-{name}-{}-{}",
        std::process::id(),
        free_port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// One sample value of every type, in compact and large encodings.
fn samples() -> Vec<(&'static str, RdbValue)> {
    let many = |n: usize| {
        (0..n)
            .map(|i| format!("m{i}").into_bytes())
            .collect::<Vec<_>>()
    };
    vec![
        ("str", RdbValue::String(b("hello"))),
        ("int", RdbValue::String(b("12345"))),
        ("long", RdbValue::String(b("x").repeat(1000))),
        ("list", RdbValue::List(vec![b("a"), b("b"), b("a"), b("1")])),
        ("biglist", RdbValue::List(many(3000))),
        ("intset", RdbValue::Set(vec![b("1"), b("2"), b("-3")])),
        ("set", RdbValue::Set(many(600))),
        (
            "hash",
            RdbValue::Hash(vec![(b("f"), b("v")), (b("g"), b("7"))]),
        ),
        (
            "bighash",
            RdbValue::Hash(many(600).into_iter().map(|m| (m.clone(), m)).collect()),
        ),
        ("zset", RdbValue::ZSet(vec![(b("a"), 1.5), (b("b"), -2.0)])),
        (
            "bigzset",
            RdbValue::ZSet(
                many(300)
                    .into_iter()
                    .enumerate()
                    .map(|(i, m)| (m, i as f64 / 3.0))
                    .collect(),
            ),
        ),
    ]
}

/// A value with sets and hashes sorted and sorted sets in score order.
fn canonical(value: RdbValue) -> RdbValue {
    match value {
        RdbValue::Set(mut m) => {
            m.sort();
            RdbValue::Set(m)
        }
        RdbValue::Hash(mut h) => {
            h.sort();
            RdbValue::Hash(h)
        }
        RdbValue::ZSet(mut z) => {
            z.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            RdbValue::ZSet(z)
        }
        other => other,
    }
}

fn restore(c: &mut Conn, key: &str, value: &RdbValue, ttl_ms: i64) {
    let payload = encode_value(value, &WriteOptions::default());
    let ttl = ttl_ms.to_string();
    let reply = c.cmd_bytes(&[b"RESTORE", key.as_bytes(), ttl.as_bytes(), &payload]);
    assert_eq!(reply, Reply::Status("OK".into()), "RESTORE {key}");
}

fn dumped(c: &mut Conn, key: &str) -> RdbValue {
    match c.cmd(&["DUMP", key]) {
        Reply::Bulk(payload) => canonical(decode_value(&payload).expect("our DUMP decodes")),
        other => panic!("DUMP {key}: {other:?}"),
    }
}

/// Fills dbs 0 and 5 with every sample, some with a TTL.
fn fill(c: &mut Conn) {
    for db in ["0", "5"] {
        assert_eq!(c.cmd(&["SELECT", db]), Reply::Status("OK".into()));
        for (i, (key, value)) in samples().iter().enumerate() {
            let ttl = if i % 3 == 0 { 3_600_000 } else { 0 };
            restore(c, key, value, ttl);
        }
    }
    c.cmd(&["SELECT", "0"]);
}

/// Asserts the contents written by [`fill`].
fn check_filled(c: &mut Conn) {
    for db in ["0", "5"] {
        c.cmd(&["SELECT", db]);
        for (i, (key, value)) in samples().into_iter().enumerate() {
            assert_eq!(dumped(c, key), canonical(value), "db {db} key {key}");
            let ttl = c.cmd(&["PTTL", key]);
            if i % 3 == 0 {
                assert!(
                    matches!(ttl, Reply::Int(t) if t > 3_500_000),
                    "{key} {ttl:?}"
                );
            } else {
                assert_eq!(ttl, Reply::Int(-1), "{key}");
            }
        }
        assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(samples().len() as i64));
    }
    c.cmd(&["SELECT", "0"]);
}

/// Starts the binary directly (for exit status and log output).
fn spawn_ferredis(dir: &Path, port: u16, extra: &[&str]) -> Child {
    let mut args: Vec<String> = vec![
        "--port".into(),
        port.to_string(),
        "--bind".into(),
        "127.0.0.1".into(),
        "--dir".into(),
        dir.display().to_string(),
        "--enable-debug-command".into(),
        "yes".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn ferredis")
}

/// Waits (bounded) for a child to exit and returns its status and output.
fn wait_exit(mut child: Child, secs: u64) -> (Option<i32>, String) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            let out = child.wait_with_output().expect("output");
            let text = String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr);
            return (out.status.code(), text);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    (None, "did not exit".into())
}

fn wait_ping(port: u16) -> Conn {
    let mut conn = None;
    let ready = wait_for(10, || {
        if let Ok(mut c) = Conn::try_connect(port) {
            if c.cmd(&["PING"]) == Reply::Status("PONG".into()) {
                conn = Some(c);
                return true;
            }
        }
        false
    });
    assert!(ready, "server did not answer PING");
    conn.expect("connected")
}

fn info_field(c: &mut Conn, field: &str) -> String {
    let text = c.cmd(&["INFO", "persistence"]).text();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or_else(|| panic!("no {field} in INFO"))
        .trim()
        .to_string()
}

#[test]
fn every_type_ttl_and_db_survive_save_and_restart() {
    let dir = fresh_dir("roundtrip");
    let mut server = Server::start_in(&dir, &[]);
    let mut c = server.conn();
    fill(&mut c);
    c.cmd(&["SET", "gone", "x", "PX", "1"]);
    assert_eq!(c.cmd(&["SAVE"]), Reply::Status("OK".into()));
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    server.kill();
    let server = Server::start_in(&dir, &[]);
    let mut c = server.conn();
    check_filled(&mut c);
    assert_eq!(c.cmd(&["EXISTS", "gone"]), Reply::Int(0));
}

#[test]
fn bgsave_writes_in_the_background_and_reports_in_info() {
    let dir = fresh_dir("bgsave");
    let mut server = Server::start_in(&dir, &[]);
    let mut c = server.conn();
    fill(&mut c);
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "2000"]);
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Reply::Status("Background saving started".into())
    );
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Reply::Error("ERR Background save already in progress".into())
    );
    assert_eq!(
        c.cmd(&["BGSAVE", "SCHEDULE"]),
        Reply::Status("Background saving scheduled".into())
    );
    // Clients are served while the save runs.
    assert_eq!(c.cmd(&["SET", "during", "1"]), Reply::Status("OK".into()));
    assert_eq!(info_field(&mut c, "rdb_bgsave_in_progress"), "1");
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    assert!(wait_for(30, || {
        info_field(&mut c, "rdb_bgsave_in_progress") == "0"
            && info_field(&mut c, "rdb_saves") == "2"
    }));
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    let lastsave = c.cmd(&["LASTSAVE"]);
    assert!(matches!(lastsave, Reply::Int(t) if t > 1_600_000_000));
    server.kill();
    let server = Server::start_in(&dir, &[]);
    let mut c = server.conn();
    // The scheduled save ran after the first and saw the later write.
    assert_eq!(c.cmd(&["DEL", "during"]), Reply::Int(1));
    check_filled(&mut c);
}

#[test]
fn save_points_trigger_a_background_save() {
    let dir = fresh_dir("savepoints");
    let server = Server::start_in(&dir, &["--save", "1 1"]);
    let mut c = server.conn();
    c.cmd(&["SET", "k", "v"]);
    assert!(wait_for(10, || dir.join("dump.rdb").exists()));
    assert!(wait_for(10, || info_field(
        &mut c,
        "rdb_changes_since_last_save"
    ) == "0"));
}

#[test]
fn shutdown_saves_and_nosave_does_not() {
    let dir = fresh_dir("shutdown");
    let port = free_port();
    let child = spawn_ferredis(&dir, port, &["--save", "3600 1"]);
    let mut c = wait_ping(port);
    c.cmd(&["SET", "k", "v1"]);
    c.send(&["SHUTDOWN"]);
    assert!(c.is_closed());
    let (code, _) = wait_exit(child, 10);
    assert_eq!(code, Some(0));
    let child = spawn_ferredis(&dir, port, &["--save", "3600 1"]);
    let mut c = wait_ping(port);
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v1"));
    c.cmd(&["SET", "k", "v2"]);
    assert_eq!(
        c.cmd(&["SHUTDOWN", "NOSAVE", "SAVE"]),
        Reply::Error("ERR syntax error".into())
    );
    c.send(&["SHUTDOWN", "NOSAVE"]);
    assert!(c.is_closed());
    assert_eq!(wait_exit(child, 10).0, Some(0));
    let mut server = Server::start_in(&dir, &[]);
    assert_eq!(server.conn().cmd(&["GET", "k"]), bulk("v1"));
    server.kill();
}

#[test]
fn sigterm_saves_and_exits_zero() {
    let dir = fresh_dir("sigterm");
    let port = free_port();
    let child = spawn_ferredis(&dir, port, &["--save", "3600 1"]);
    let mut c = wait_ping(port);
    c.cmd(&["SET", "k", "signal"]);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let (code, log) = wait_exit(child, 10);
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("Received SIGTERM"), "{log}");
    let server = Server::start_in(&dir, &[]);
    assert_eq!(server.conn().cmd(&["GET", "k"]), bulk("signal"));
}

/// Writes a valid dump.rdb with a few keys through a server and returns
/// its bytes.
fn valid_file(dir: &Path) -> Vec<u8> {
    let mut server = Server::start_in(dir, &[]);
    let mut c = server.conn();
    for i in 0..50 {
        c.cmd(&["SET", &format!("key{i}"), &"v".repeat(i)]);
    }
    assert_eq!(c.cmd(&["SAVE"]), Reply::Status("OK".into()));
    server.kill();
    std::fs::read(dir.join("dump.rdb")).expect("dump.rdb")
}

#[test]
fn corrupt_truncated_and_bad_checksum_files_stop_the_start() {
    let dir = fresh_dir("corrupt");
    let good = valid_file(&dir);
    let mut bad_crc = good.clone();
    let n = bad_crc.len();
    bad_crc[n - 1] ^= 0xff;
    let truncated = good[..good.len() / 2].to_vec();
    let mut bad_type = good.clone();
    // The first key's type byte follows the RESIZEDB hint; flip every
    // string type byte into an unknown type.
    let pos = good
        .windows(4)
        .position(|w| w == b"key0")
        .expect("key0 in file")
        - 2;
    bad_type[pos] = 0x42;
    for (name, bytes, words) in [
        ("checksum", bad_crc, "CRC error"),
        ("truncated", truncated, "offset"),
        ("type", bad_type, "offset"),
    ] {
        std::fs::write(dir.join("dump.rdb"), &bytes).expect("write");
        let port = free_port();
        let child = spawn_ferredis(&dir, port, &["--save", "3600 1"]);
        let (code, log) = wait_exit(child, 10);
        assert_ne!(code, Some(0), "{name}: started anyway");
        assert!(code.is_some(), "{name}: still running");
        assert!(
            log.contains("dump.rdb") && log.contains(words),
            "{name}: {log}"
        );
        // Never replaced by an empty save.
        assert_eq!(std::fs::read(dir.join("dump.rdb")).expect("read"), bytes);
    }
}

#[test]
fn kill_during_bgsave_leaves_the_previous_file_loadable() {
    let dir = fresh_dir("kill9");
    let mut server = Server::start_in(&dir, &[]);
    let mut c = server.conn();
    c.cmd(&["SET", "old", "1"]);
    assert_eq!(c.cmd(&["SAVE"]), Reply::Status("OK".into()));
    let before = std::fs::read(dir.join("dump.rdb")).expect("dump.rdb");
    c.cmd(&["DEBUG", "POPULATE", "2000"]);
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "5000"]);
    c.cmd(&["BGSAVE"]);
    assert!(wait_for(10, || std::fs::read_dir(&dir).expect("dir").any(
        |e| e
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .starts_with("temp-")
    )));
    server.kill();
    assert_eq!(
        std::fs::read(dir.join("dump.rdb")).expect("dump.rdb"),
        before
    );
    let server = Server::start_in(&dir, &[]);
    let mut c = server.conn();
    assert_eq!(c.cmd(&["GET", "old"]), bulk("1"));
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(1));
}

#[test]
fn failed_bgsave_turns_writes_into_misconf() {
    let dir = fresh_dir("misconf");
    let server = Server::start_in(&dir, &["--save", "3600 1"]);
    let mut c = server.conn();
    // A directory where the file should be makes the rename fail.
    std::fs::create_dir_all(dir.join("dump.rdb").join("in-the-way")).expect("dir");
    c.cmd(&["BGSAVE"]);
    assert!(wait_for(10, || info_field(
        &mut c,
        "rdb_last_bgsave_status"
    ) == "err"));
    let Reply::Error(e) = c.cmd(&["SET", "k", "v"]) else {
        panic!("SET should fail")
    };
    assert!(e.starts_with("MISCONF Redis is configured to save RDB snapshots"));
    assert_eq!(c.cmd(&["GET", "k"]), Reply::Nil);
    c.cmd(&["CONFIG", "SET", "stop-writes-on-bgsave-error", "no"]);
    assert_eq!(c.cmd(&["SET", "k", "v"]), Reply::Status("OK".into()));
    assert_eq!(c.cmd(&["SAVE"]), Reply::Error("ERR".into()));
}

#[test]
fn dump_restore_options_and_errors() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    assert_eq!(c.cmd(&["DUMP", "nokey"]), Reply::Nil);
    c.cmd(&["SET", "k", "value"]);
    let Reply::Bulk(payload) = c.cmd(&["DUMP", "k"]) else {
        panic!("DUMP")
    };
    let restore = |c: &mut Conn, args: &[&[u8]]| {
        let mut all: Vec<&[u8]> = vec![b"RESTORE"];
        all.extend_from_slice(args);
        c.cmd_bytes(&all)
    };
    assert_eq!(
        restore(&mut c, &[b"k", b"0", &payload]),
        Reply::Error("BUSYKEY Target key name already exists.".into())
    );
    assert_eq!(
        restore(&mut c, &[b"k2", b"-1", &payload]),
        Reply::Error("ERR Invalid TTL value, must be >= 0".into())
    );
    let mut bad = payload.clone();
    bad[0] ^= 1;
    assert_eq!(
        restore(&mut c, &[b"k2", b"0", &bad]),
        Reply::Error("ERR DUMP payload version or checksum are wrong".into())
    );
    assert_eq!(
        restore(&mut c, &[b"k2", b"0", &payload, b"bogus"]),
        Reply::Error("ERR syntax error".into())
    );
    assert_eq!(
        restore(
            &mut c,
            &[b"k", b"5000", &payload, b"REPLACE", b"IDLETIME", b"100"]
        ),
        Reply::Status("OK".into())
    );
    assert!(matches!(c.cmd(&["PTTL", "k"]), Reply::Int(t) if t > 4000 && t <= 5000));
    assert!(matches!(c.cmd(&["OBJECT", "IDLETIME", "k"]), Reply::Int(t) if t >= 100));
    assert_eq!(
        restore(&mut c, &[b"k", b"1000", &payload, b"REPLACE", b"ABSTTL"]),
        Reply::Status("OK".into())
    );
    assert_eq!(c.cmd(&["EXISTS", "k"]), Reply::Int(0));
    assert_eq!(
        restore(&mut c, &[b"k3", b"0", &payload, b"FREQ", b"300"]),
        Reply::Error("ERR Invalid FREQ value, must be >= 0 and <= 255".into())
    );
    assert_eq!(c.cmd(&["DEBUG", "RELOAD"]), Reply::Status("OK".into()));
}

/// A running real redis-server, shut down on drop.
struct RealRedis {
    port: u16,
    child: Child,
}

impl RealRedis {
    fn start(dir: &Path, dbfilename: &str) -> RealRedis {
        let port = free_port();
        let child = Command::new(REDIS_SERVER)
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--dir",
                &dir.display().to_string(),
                "--dbfilename",
                dbfilename,
                "--sanitize-dump-payload",
                "yes",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        let server = RealRedis { port, child };
        let mut ready = false;
        wait_for(10, || {
            ready = Conn::try_connect(port)
                .map(|mut c| c.cmd(&["PING"]) == Reply::Status("PONG".into()))
                .unwrap_or(false);
            ready
        });
        assert!(ready, "redis-server did not start");
        server
    }
}

impl Drop for RealRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn our_file_passes_redis_check_rdb_and_loads_in_redis() {
    if !redis_installed("our_file_passes_redis_check_rdb_and_loads_in_redis") {
        return;
    }
    let dir = fresh_dir("toredis");
    let mut server = Server::start_in(&dir, &[]);
    let mut c = server.conn();
    fill(&mut c);
    assert_eq!(c.cmd(&["SAVE"]), Reply::Status("OK".into()));
    server.kill();
    let check = Command::new(REDIS_CHECK_RDB)
        .arg(dir.join("dump.rdb"))
        .output()
        .expect("redis-check-rdb");
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.status.success() && text.contains("RDB looks OK"),
        "{text}"
    );
    let redis = RealRedis::start(&dir, "dump.rdb");
    let mut c = Conn::connect(redis.port);
    check_filled(&mut c);
}

#[test]
fn redis_fixture_loads_with_identical_content() {
    let dir = fresh_dir("fromredis");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rdb/redis7-all-types.rdb");
    std::fs::copy(&fixture, dir.join("dump.rdb")).expect("copy fixture");
    let server = Server::start_in(&dir, &[]);
    let mut c = server.conn();
    let now_ms = ferredis::util::now_ms();
    let mut reader =
        RdbReader::new(std::fs::File::open(&fixture).expect("fixture")).expect("header");
    let mut count = 0;
    while let Some(entry) = reader.next_entry().expect("fixture reads") {
        if entry.expire_ms.is_some_and(|t| t <= now_ms) {
            continue;
        }
        count += 1;
        c.cmd(&["SELECT", &entry.db.to_string()]);
        let key = String::from_utf8_lossy(&entry.key).into_owned();
        let Reply::Bulk(payload) = c.cmd_bytes(&[b"DUMP", &entry.key]) else {
            panic!("key {key} missing in db {}", entry.db)
        };
        let ours = canonical(decode_value(&payload).expect("decodes"));
        assert_eq!(ours, canonical(entry.value), "db {} key {key}", entry.db);
        let ttl = c.cmd_bytes(&[b"PEXPIRETIME", &entry.key]);
        assert_eq!(ttl, Reply::Int(entry.expire_ms.unwrap_or(-1)), "{key}");
    }
    assert!(count > 10);
}

#[test]
fn dump_payloads_move_between_redis_and_us() {
    if !redis_installed("dump_payloads_move_between_redis_and_us") {
        return;
    }
    let dir = fresh_dir("dumpinterop");
    let redis = RealRedis::start(&dir, "redis.rdb");
    let mut theirs = Conn::connect(redis.port);
    let server = Server::start_in(&dir, &[]);
    let mut ours = server.conn();
    // Ours -> Redis -> ours.
    fill(&mut ours);
    for (key, value) in samples() {
        let Reply::Bulk(payload) = ours.cmd(&["DUMP", key]) else {
            panic!("DUMP {key}")
        };
        let r = theirs.cmd_bytes(&[b"RESTORE", key.as_bytes(), b"0", &payload]);
        assert_eq!(r, Reply::Status("OK".into()), "Redis RESTORE {key}");
        let Reply::Bulk(back) = theirs.cmd(&["DUMP", key]) else {
            panic!("Redis DUMP {key}")
        };
        let r = ours.cmd_bytes(&[b"RESTORE", key.as_bytes(), b"0", &back, b"REPLACE"]);
        assert_eq!(
            r,
            Reply::Status("OK".into()),
            "our RESTORE of Redis's {key}"
        );
        assert_eq!(dumped(&mut ours, key), canonical(value), "{key}");
    }
}

#[test]
fn migrate_moves_copies_and_reports_missing_keys() {
    let source = Server::start(&[]);
    let target = Server::start(&[]);
    let mut t = target.conn();
    t.cmd(&["CONFIG", "SET", "requirepass", "secret"]);
    let mut c = source.conn();
    let port = target.port.to_string();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["SET", "b", "2", "EX", "100"]);
    c.cmd(&["SET", "c", "3"]);
    assert_eq!(
        c.cmd(&[
            "MIGRATE",
            "127.0.0.1",
            &port,
            "a",
            "3",
            "5000",
            "AUTH",
            "secret"
        ]),
        Reply::Status("OK".into())
    );
    assert_eq!(c.cmd(&["EXISTS", "a"]), Reply::Int(0));
    assert_eq!(
        c.cmd(&[
            "MIGRATE",
            "127.0.0.1",
            &port,
            "",
            "3",
            "5000",
            "COPY",
            "AUTH",
            "secret",
            "KEYS",
            "b",
            "c",
            "zz"
        ]),
        Reply::Status("OK".into())
    );
    assert_eq!(c.cmd(&["EXISTS", "b", "c"]), Reply::Int(2));
    assert_eq!(
        c.cmd(&["MIGRATE", "127.0.0.1", &port, "zz", "3", "5000"]),
        Reply::Status("NOKEY".into())
    );
    assert_eq!(
        c.cmd(&["MIGRATE", "127.0.0.1", &port, "c", "3", "5000", "AUTH", "wrong"]),
        Reply::Error(
            "ERR Target instance replied with error: WRONGPASS invalid username-password pair or user is disabled."
                .into()
        )
    );
    assert_eq!(
        c.cmd(&["MIGRATE", "127.0.0.1", &port, "x", "3", "5000", "KEYS", "c"]),
        Reply::Error(
            "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
                .into()
        )
    );
    t.cmd(&["AUTH", "secret"]);
    t.cmd(&["SELECT", "3"]);
    assert_eq!(
        t.cmd(&["MGET", "a", "b", "c"]),
        Reply::Array(vec![bulk("1"), bulk("2"), bulk("3")])
    );
    assert!(matches!(t.cmd(&["TTL", "b"]), Reply::Int(t) if t > 90));
}

/// With save points set, FLUSHALL saves the empty dataset and leaves the
/// changes-since-save counter at 0 (Redis 7.0.15).
#[test]
fn flushall_with_save_points_leaves_nothing_to_save() {
    let dir = fresh_dir("flushall-dirty");
    let server = Server::start_in(&dir, &["--save", "3600 1"]);
    let mut c = server.conn();
    c.cmd(&["SET", "key", "value"]);
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "1");
    c.cmd(&["FLUSHALL"]);
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    assert!(dir.join("dump.rdb").exists());
}

/// Saves `n` keys `k0..` into `dir`'s dump.rdb and stops that server.
fn save_keys(dir: &Path, n: usize) -> Vec<u8> {
    let mut server = Server::start_in(dir, &[]);
    let mut c = server.conn();
    for i in 0..n {
        c.cmd(&["SET", &format!("k{i}"), &format!("v{i}")]);
    }
    assert_eq!(c.cmd(&["SAVE"]), Reply::Status("OK".into()));
    server.kill();
    std::fs::read(dir.join("dump.rdb")).expect("dump.rdb")
}

/// A connection to a server that may still be loading: the first one that
/// answers PING at all (PONG or -LOADING).
fn connect_loading(port: u16) -> (Conn, Reply) {
    let mut conn = None;
    let up = wait_for(10, || {
        if let Ok(mut c) = Conn::try_connect(port) {
            let pong = c.cmd(&["PING"]);
            conn = Some((c, pong));
            return true;
        }
        false
    });
    assert!(up, "server did not accept");
    conn.expect("connected")
}

#[test]
fn clients_get_loading_until_the_data_is_in() {
    let dir = fresh_dir("loading");
    let dump = save_keys(&dir, 20);
    // A second per key: the load cannot end before CONFIG SET below.
    let server = Server::start_loading(&dir, &["--key-load-delay", "1000000"]);
    let mut c = server.conn();
    let refused = |c: &mut Conn| {
        let stats = c.cmd(&["INFO", "errorstats"]).text();
        stats
            .lines()
            .find_map(|l| l.strip_prefix("errorstat_LOADING:count="))
            .map_or(0, |n| n.trim().parse::<u64>().expect("a count"))
    };
    let before = refused(&mut c);
    let loading = Reply::Error("LOADING Redis is loading the dataset in memory".into());
    assert_eq!(c.cmd(&["PING"]), loading);
    assert_eq!(c.cmd(&["GET", "k1"]), loading);
    assert_eq!(c.cmd(&["SET", "k1", "x"]), loading);
    // Commands flagged `loading` run: INFO shows the progress.
    assert_eq!(info_field(&mut c, "loading"), "1");
    assert_eq!(
        info_field(&mut c, "loading_total_bytes"),
        dump.len().to_string()
    );
    assert_eq!(refused(&mut c), before + 3);
    // Connection commands are flagged `loading`, as in Redis.
    assert_eq!(c.cmd(&["ECHO", "hi"]), bulk("hi"));
    assert_eq!(
        c.cmd(&["AUTH", "nopass"]),
        Reply::Error(
            "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?".into()
        )
    );
    // CONFIG runs, but not for the settings a load depends on.
    assert_eq!(c.cmd(&["CONFIG", "SET", "dir", "/tmp"]), loading);
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]), loading);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "loglevel", "debug"]),
        Reply::Status("OK".into())
    );
    // key-load-delay is read as the load goes, as in Redis.
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "key-load-delay", "0"]),
        Reply::Status("OK".into())
    );
    assert!(wait_for(10, || info_field(&mut c, "loading") == "0"));
    assert_eq!(c.cmd(&["PING"]), Reply::Status("PONG".into()));
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(20));
    assert_eq!(c.cmd(&["GET", "k19"]), bulk("v19"));
    let persistence = c.cmd(&["INFO", "persistence"]).text();
    assert!(
        !persistence.contains("loading_total_bytes"),
        "{persistence}"
    );
}

#[test]
fn shutdown_while_loading_does_not_save_over_the_file() {
    let dir = fresh_dir("loading-shutdown");
    let dump = save_keys(&dir, 20);
    let port = free_port();
    // Save points are set, so a SHUTDOWN would normally save: while loading,
    // that save would write the keys loaded so far over the file.
    let child = spawn_ferredis(
        &dir,
        port,
        &["--save", "3600 1", "--key-load-delay", "1000000"],
    );
    let (mut c, pong) = connect_loading(port);
    assert_eq!(
        pong,
        Reply::Error("LOADING Redis is loading the dataset in memory".into())
    );
    c.send(&["SHUTDOWN"]);
    assert!(c.is_closed());
    assert_eq!(wait_exit(child, 10).0, Some(0));
    assert_eq!(std::fs::read(dir.join("dump.rdb")).expect("dump.rdb"), dump);
    let server = Server::start_in(&dir, &[]);
    assert_eq!(server.conn().cmd(&["DBSIZE"]), Reply::Int(20));
}

#[test]
fn info_reports_the_bgsave_childs_copy_on_write() {
    let dir = fresh_dir("cow");
    let server = Server::start_in(&dir, &[]);
    let mut c = server.conn();
    let value = "A".repeat(100_000);
    for i in 0..10 {
        c.cmd(&["SET", &format!("k{i}"), &value]);
    }
    assert_eq!(info_field(&mut c, "current_cow_size"), "0");
    // A second per key: the child is still writing while we look.
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "1000000"]);
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Reply::Status("Background saving started".into())
    );
    // Writing every value makes the child keep its own copies of them.
    for i in 0..10 {
        c.cmd(&["SETRANGE", &format!("k{i}"), "0", &"B".repeat(100_000)]);
    }
    assert!(wait_for(10, || {
        info_field(&mut c, "current_cow_size")
            .parse::<u64>()
            .unwrap_or(0)
            >= 500_000
            && info_field(&mut c, "current_fork_perc") != "0.00"
    }));
    assert_eq!(info_field(&mut c, "rdb_bgsave_in_progress"), "1");
    // FLUSHALL stops the child; its copy-on-write becomes the last one.
    c.cmd(&["FLUSHALL"]);
    assert!(wait_for(10, || info_field(
        &mut c,
        "rdb_bgsave_in_progress"
    ) == "0"));
    assert!(
        info_field(&mut c, "rdb_last_cow_size")
            .parse::<u64>()
            .unwrap_or(0)
            >= 500_000
    );
    assert_eq!(info_field(&mut c, "current_cow_size"), "0");
}

/// Redis's "Don't rehash if redis has child process": while a BGSAVE child
/// runs, the keyspace table stays at its size (a rehash would make the
/// kernel copy it for the child); once the child is gone, the next write
/// doubles it. DEBUG HTSTATS shows the table in Redis's words.
#[test]
fn the_keyspace_does_not_rehash_while_a_bgsave_child_runs() {
    let dir = fresh_dir("norehash");
    let server = Server::start_in(&dir, &[]);
    let mut c = server.conn();
    assert_eq!(
        c.cmd(&["DEBUG", "POPULATE", "4096"]),
        Reply::Status("OK".into())
    );
    let stats = c.cmd(&["DEBUG", "HTSTATS", "0"]).text();
    assert!(stats.starts_with("[Dictionary HT]\nHash table 0 stats (main hash table):\n table size: 4096\n number of elements: 4096\n"), "{stats}");
    assert!(
        stats.ends_with("[Expires HT]\nHash table 0 stats (main hash table):\nNo stats available for empty dictionaries\n"),
        "{stats}"
    );

    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "1000000"]);
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Reply::Status("Background saving started".into())
    );
    assert!(wait_for(10, || info_field(
        &mut c,
        "rdb_bgsave_in_progress"
    ) == "1"));
    c.cmd(&["MSET", "k1", "v1", "k2", "v2"]);
    let stats = c.cmd(&["DEBUG", "HTSTATS", "0"]).text();
    assert!(
        stats.contains(" table size: 4096\n number of elements: 4098\n"),
        "{stats}"
    );

    common::kill_only_child(&mut c);
    assert!(wait_for(10, || info_field(
        &mut c,
        "rdb_bgsave_in_progress"
    ) == "0"));
    c.cmd(&["SET", "k3", "v3"]);
    let stats = c.cmd(&["DEBUG", "HTSTATS", "0"]).text();
    assert!(
        stats.contains(" table size: 8192\n number of elements: 4099\n"),
        "{stats}"
    );
    assert_eq!(
        c.cmd(&["DEBUG", "HTSTATS", "16"]),
        Reply::Error("ERR Out of range database".into())
    );
}
