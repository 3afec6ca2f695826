//! The append-only file: crash safety, truncation and corruption, rewrite
//! under load, and interoperability with a real Redis 7.0 in both
//! directions (redis-check-aof, redis-server on our directory, our server
//! on a directory Redis wrote: tests/fixtures/aof, made by make_fixtures.sh).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{bulk, wait_for, Conn, Reply, Server};

const AOF_ON: &[&str] = &["--appendonly", "yes"];

fn fresh_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ferredis-aof-{tag}-{}-{}",
        std::process::id(),
        common::free_port()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn info_field(c: &mut Conn, field: &str) -> String {
    let info = c.cmd(&["INFO", "persistence"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .unwrap_or("")
        .trim()
        .to_string()
}

fn wait_rewrite_done(c: &mut Conn) {
    assert!(wait_for(30, || info_field(c, "aof_rewrite_in_progress") == "0"));
}

fn incr_file(dir: &Path) -> PathBuf {
    let aof_dir = dir.join("appendonlydir");
    std::fs::read_dir(&aof_dir)
        .expect("appendonlydir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.to_string_lossy().ends_with(".incr.aof"))
        .expect("an incr file")
}

fn installed(bin: &str) -> bool {
    common::real_redis_present(bin, &[bin])
}

/// A bare client for writer threads: stops quietly when the server dies.
struct Writer {
    stream: TcpStream,
    reader: BufReader<TcpStream>,
}

impl Writer {
    fn connect(port: u16) -> Writer {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        let reader = BufReader::new(stream.try_clone().expect("clone"));
        Writer { stream, reader }
    }

    /// SET key value; true only when the server answered +OK.
    fn set(&mut self, key: &str, value: &str) -> bool {
        let req = Conn::encode(&[b"SET", key.as_bytes(), value.as_bytes()]);
        if self.stream.write_all(&req).is_err() {
            return false;
        }
        let mut line = String::new();
        matches!(self.reader.read_line(&mut line), Ok(n) if n > 0) && line == "+OK\r\n"
    }
}

#[test]
fn writes_are_logged_as_they_took_effect_and_survive_a_restart() {
    let dir = fresh_dir("basic");
    let mut s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "a", "1"]), Reply::Status("OK".into()));
    assert_eq!(
        c.cmd(&["SETEX", "b", "1000", "x"]),
        Reply::Status("OK".into())
    );
    assert_eq!(c.cmd(&["INCRBYFLOAT", "f", "1.5"]), bulk("1.5"));
    assert_eq!(c.cmd(&["EXPIRE", "a", "1000"]), Reply::Int(1));
    assert_eq!(c.cmd(&["SELECT", "2"]), Reply::Status("OK".into()));
    assert_eq!(c.cmd(&["SET", "in2", "yes"]), Reply::Status("OK".into()));
    assert_eq!(info_field(&mut c, "aof_enabled"), "1");
    let manifest = std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest"))
        .expect("manifest");
    assert_eq!(
        manifest,
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    let log = std::fs::read(incr_file(&dir)).expect("incr");
    let text = String::from_utf8_lossy(&log);
    assert!(text.contains("PEXPIREAT"), "{text}");
    assert!(text.contains("PXAT"), "{text}");
    assert!(text.contains("KEEPTTL"), "{text}");
    assert!(
        !text.contains("SETEX") && !text.contains("EXPIRE\r"),
        "{text}"
    );
    s.kill();

    let s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GET", "a"]), bulk("1"));
    assert!(matches!(c.cmd(&["TTL", "a"]), Reply::Int(t) if t > 990));
    assert!(matches!(c.cmd(&["TTL", "b"]), Reply::Int(t) if t > 990));
    assert_eq!(c.cmd(&["GET", "f"]), bulk("1.5"));
    c.cmd(&["SELECT", "2"]);
    assert_eq!(c.cmd(&["GET", "in2"]), bulk("yes"));
}

#[test]
fn kill_9_with_appendfsync_always_keeps_every_acknowledged_write() {
    let dir = fresh_dir("crash");
    let mut s = Server::start_in(&dir, &["--appendonly", "yes", "--appendfsync", "always"]);
    let port = s.port;
    let writers: Vec<_> = (0..6)
        .map(|t| {
            std::thread::spawn(move || {
                let mut w = Writer::connect(port);
                let mut acked = Vec::new();
                for n in 0.. {
                    let key = format!("w{t}:{n}");
                    if !w.set(&key, &n.to_string()) {
                        break;
                    }
                    acked.push(key);
                }
                acked
            })
        })
        .collect();
    // A "random" moment: derived from the clock, between 300 and 1000 ms.
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::thread::sleep(Duration::from_millis(300 + u64::from(nanos % 700)));
    s.kill();
    let acked: Vec<String> = writers
        .into_iter()
        .flat_map(|w| w.join().expect("writer"))
        .collect();
    assert!(acked.len() > 10, "too few writes: {}", acked.len());

    let s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    for key in &acked {
        let n = key.split(':').nth(1).unwrap_or("");
        assert_eq!(c.cmd(&["GET", key]), bulk(n), "acknowledged {key} lost");
    }
}

#[test]
fn a_truncated_last_command_is_cut_off_and_the_rest_loads() {
    let dir = fresh_dir("trunc");
    let mut s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["SET", "b", "2"]);
    s.kill();
    let incr = incr_file(&dir);
    let good_len = std::fs::metadata(&incr).expect("incr").len();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&incr)
        .expect("open");
    f.write_all(b"*3\r\n$3\r\nset\r\n$1\r\nc\r\n$5\r\nhel")
        .expect("append");
    drop(f);

    let mut s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GET", "a"]), bulk("1"));
    assert_eq!(c.cmd(&["GET", "b"]), bulk("2"));
    assert_eq!(c.cmd(&["GET", "c"]), Reply::Nil);
    assert_eq!(std::fs::metadata(&incr).expect("incr").len(), good_len);
    c.cmd(&["SET", "d", "4"]);
    s.kill();
    let s = Server::start_in(&dir, AOF_ON);
    assert_eq!(s.conn().cmd(&["GET", "d"]), bulk("4"));
}

#[test]
fn corruption_in_the_middle_stops_the_start_with_file_and_offset() {
    let dir = fresh_dir("corrupt");
    let mut s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["SET", "b", "2"]);
    s.kill();
    let incr = incr_file(&dir);
    let mut data = std::fs::read(&incr).expect("incr");
    let middle = data.len() / 2;
    data.splice(middle..middle, b"garbage!".iter().copied());
    std::fs::write(&incr, &data).expect("write");

    let out = Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .args([
            "--port",
            &common::free_port().to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .args(["--dir", &dir.display().to_string(), "--appendonly", "yes"])
        .output()
        .expect("run ferredis");
    assert!(!out.status.success());
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    // Redis's exact line, and the offset on a line of its own.
    assert!(
        log.contains(
            "Bad file format reading the append only file appendonly.aof.1.incr.aof: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"
        ),
        "{log}"
    );
    assert!(
        log.contains("AOF appendonly.aof.1.incr.aof: not a command at offset"),
        "{log}"
    );
}

#[test]
fn a_truncated_file_with_aof_load_truncated_no_stops_the_start() {
    let dir = fresh_dir("truncno");
    let aof_dir = dir.join("appendonlydir");
    std::fs::create_dir_all(&aof_dir).expect("aof dir");
    std::fs::write(
        aof_dir.join("appendonly.aof.1.incr.aof"),
        b"*3\r\n$3\r\nset\r\n$2\r\nk1\r\n$2\r\nv1\r\n*3\r\n$3\r\nset\r\n$2\r\nk2\r\n$2\r\nv",
    )
    .expect("incr");
    std::fs::write(
        aof_dir.join("appendonly.aof.manifest"),
        "file appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .expect("manifest");
    let out = Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .args([
            "--port",
            &common::free_port().to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .args(["--dir", &dir.display().to_string(), "--appendonly", "yes"])
        .args(["--aof-load-truncated", "no"])
        .output()
        .expect("run ferredis");
    assert_eq!(out.status.code(), Some(1));
    let log =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        log.contains("Unexpected end of file reading the append only file appendonly.aof.1.incr.aof. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."),
        "{log}"
    );
}

#[test]
fn rewrite_while_20_clients_write_loses_nothing() {
    let dir = fresh_dir("rewrite");
    let mut s = Server::start_in(&dir, AOF_ON);
    let port = s.port;
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..20)
        .map(|t| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut w = Writer::connect(port);
                let mut last = None;
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    assert!(w.set(&format!("k{t}"), &n.to_string()));
                    assert!(w.set(&format!("k{t}:{}", n % 50), &n.to_string()));
                    last = Some(n);
                    n += 1;
                }
                last
            })
        })
        .collect();
    let mut c = s.conn();
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(
            c.cmd(&["BGREWRITEAOF"]),
            Reply::Status("Background append only file rewriting started".into())
        );
        wait_rewrite_done(&mut c);
    }
    stop.store(true, Ordering::Relaxed);
    let told: Vec<Option<u64>> = writers
        .into_iter()
        .map(|w| w.join().expect("writer"))
        .collect();
    assert_eq!(info_field(&mut c, "aof_rewrites"), "3");
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");
    let files: Vec<String> = std::fs::read_dir(dir.join("appendonlydir"))
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    assert_eq!(files.len(), 3, "base, incr, manifest: {files:?}");
    s.kill();

    let s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    for (t, last) in told.iter().enumerate() {
        let last = last.expect("every writer wrote");
        assert_eq!(c.cmd(&["GET", &format!("k{t}")]), bulk(&last.to_string()));
        assert_eq!(
            c.cmd(&["GET", &format!("k{t}:{}", last % 50)]),
            bulk(&last.to_string())
        );
    }
}

#[test]
fn config_set_appendonly_yes_starts_the_aof_with_a_rewrite() {
    let dir = fresh_dir("enable");
    let mut s = Server::start_in(&dir, &[]);
    let mut c = s.conn();
    c.cmd(&["SET", "before", "1"]);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "appendonly", "yes"]),
        Reply::Status("OK".into())
    );
    wait_rewrite_done(&mut c);
    c.cmd(&["SET", "after", "2"]);
    s.kill();
    let s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GET", "before"]), bulk("1"));
    assert_eq!(c.cmd(&["GET", "after"]), bulk("2"));
}

#[test]
fn aof_format_base_with_rdb_preamble_off() {
    let dir = fresh_dir("nopreamble");
    let args = ["--appendonly", "yes", "--aof-use-rdb-preamble", "no"];
    let mut s = Server::start_in(&dir, &args);
    let mut c = s.conn();
    c.cmd(&["SET", "x", "1"]);
    c.cmd(&["PEXPIRE", "x", "100000000"]);
    c.cmd(&["BGREWRITEAOF"]);
    wait_rewrite_done(&mut c);
    assert!(dir
        .join("appendonlydir/appendonly.aof.2.base.aof")
        .is_file());
    s.kill();
    let s = Server::start_in(&dir, &args);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GET", "x"]), bulk("1"));
    assert!(matches!(c.cmd(&["TTL", "x"]), Reply::Int(t) if t > 99000));
}

/// The expected contents of the fixtures made by make_fixtures.sh.
fn assert_fixture_contents(c: &mut Conn) {
    assert_eq!(c.cmd(&["GET", "s1"]), bulk("hello"));
    assert_eq!(c.cmd(&["PEXPIRETIME", "s1"]), Reply::Int(4102444800000));
    assert_eq!(c.cmd(&["GET", "n1"]), Reply::Nil);
    assert_eq!(c.cmd(&["GET", "big"]), bulk(&"x".repeat(100)));
    assert_eq!(
        c.cmd(&["PEXPIRETIME", "ttl-key"]),
        Reply::Int(4102444800000)
    );
    assert_eq!(c.cmd(&["GET", "after-rewrite"]), bulk("1"));
    assert_eq!(c.cmd(&["GET", "f"]), bulk("2.5"));
    assert_eq!(c.cmd(&["GET", "tx1"]), bulk("a"));
    assert_eq!(c.cmd(&["GET", "tx2"]), bulk("b"));
    c.cmd(&["SELECT", "3"]);
    assert_eq!(c.cmd(&["GET", "other-db"]), bulk("yes"));
    assert_eq!(c.cmd(&["GET", "other-incr"]), bulk("2"));
    c.cmd(&["SELECT", "0"]);
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/aof")
        .join(name)
}

#[test]
fn an_appendonlydir_written_by_redis_7_loads() {
    let dir = fresh_dir("fixture");
    let aof_dir = dir.join("appendonlydir");
    std::fs::create_dir_all(&aof_dir).expect("dir");
    for e in std::fs::read_dir(fixture("redis7-dir")).expect("fixture") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), aof_dir.join(e.file_name())).expect("copy");
    }
    let s = Server::start_in(&dir, AOF_ON);
    assert_fixture_contents(&mut s.conn());
}

#[test]
fn a_legacy_single_file_with_rdb_preamble_loads_and_is_upgraded() {
    let dir = fresh_dir("legacy");
    std::fs::copy(fixture("legacy-preamble.aof"), dir.join("appendonly.aof")).expect("copy");
    let mut s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    assert_fixture_contents(&mut c);
    assert!(dir.join("appendonlydir/appendonly.aof").is_file());
    assert!(!dir.join("appendonly.aof").exists());
    c.cmd(&["SET", "new", "1"]);
    s.kill();
    let s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    assert_fixture_contents(&mut c);
    assert_eq!(c.cmd(&["GET", "new"]), bulk("1"));
}

/// Data our server wrote, for the interop tests: a base with data (after a
/// rewrite) and an incremental file with more.
fn write_sample(dir: &Path) {
    let mut s = Server::start_in(dir, AOF_ON);
    let mut c = s.conn();
    c.cmd(&["SET", "base-key", "v1"]);
    c.cmd(&["SET", "ttl", "t", "EX", "100000"]);
    c.cmd(&["SELECT", "5"]);
    c.cmd(&["SET", "db5", "five"]);
    c.cmd(&["BGREWRITEAOF"]);
    wait_rewrite_done(&mut c);
    c.cmd(&["SET", "incr-key", "v2"]);
    c.cmd(&["SELECT", "0"]);
    c.cmd(&["INCRBYFLOAT", "fl", "0.25"]);
    c.cmd(&["DEL", "base-key"]);
    s.kill();
}

#[test]
fn redis_check_aof_accepts_our_directory() {
    if !installed("redis-check-aof") {
        eprintln!("redis-check-aof not installed; skipped");
        return;
    }
    let dir = fresh_dir("check");
    write_sample(&dir);
    let out = Command::new("redis-check-aof")
        .arg(dir.join("appendonlydir/appendonly.aof.manifest"))
        .output()
        .expect("redis-check-aof");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("All AOF files and manifest are valid"),
        "{text}"
    );
}

#[test]
fn a_real_redis_server_serves_our_directory() {
    if !installed("redis-server") || !installed("redis-cli") {
        eprintln!("redis-server not installed; skipped");
        return;
    }
    let dir = fresh_dir("redis");
    write_sample(&dir);
    let port = common::free_port().to_string();
    let status = Command::new("redis-server")
        .args(["--port", &port, "--bind", "127.0.0.1", "--save", ""])
        .args(["--appendonly", "yes", "--daemonize", "yes"])
        .args(["--dir", &dir.display().to_string()])
        .args(["--logfile", &dir.join("redis.log").display().to_string()])
        .status()
        .expect("redis-server");
    assert!(status.success());
    let port: u16 = port.parse().expect("port");
    assert!(wait_for(10, || Conn::try_connect(port).is_ok()));
    let mut c = Conn::connect(port);
    assert!(wait_for(10, || c.cmd(&["PING"]) == Reply::Status("PONG".into())));
    let checks = [
        (c.cmd(&["GET", "base-key"]), Reply::Nil),
        (c.cmd(&["GET", "ttl"]), bulk("t")),
        (c.cmd(&["GET", "fl"]), bulk("0.25")),
        (c.cmd(&["GET", "incr-key"]), Reply::Nil),
    ];
    let ttl = c.cmd(&["TTL", "ttl"]);
    c.cmd(&["SELECT", "5"]);
    let db5 = (c.cmd(&["GET", "db5"]), c.cmd(&["GET", "incr-key"]));
    c.send(&["SHUTDOWN", "NOSAVE"]);
    for (got, want) in checks {
        assert_eq!(got, want);
    }
    assert!(matches!(ttl, Reply::Int(t) if t > 99000), "{ttl:?}");
    assert_eq!(db5, (bulk("five"), bulk("v2")));
}

#[test]
fn expired_keys_are_logged_as_del() {
    let dir = fresh_dir("expired");
    let s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    c.cmd(&["SET", "lazy", "v", "PX", "30"]);
    c.cmd(&["SET", "active", "v", "PX", "30"]);
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    std::thread::sleep(Duration::from_millis(60));
    // A write touching the expired key deletes it first (lazy expiry).
    assert_eq!(c.cmd(&["APPEND", "lazy", "x"]), Reply::Int(1));
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]);
    assert!(wait_for(10, || c.cmd(&["DBSIZE"]) == Reply::Int(1)));
    let text = String::from_utf8_lossy(&std::fs::read(incr_file(&dir)).expect("incr")).into_owned();
    let del_lazy = text.find("DEL\r\n$4\r\nlazy").expect("lazy DEL logged");
    let append = text.find("APPEND").expect("append logged");
    assert!(del_lazy < append, "{text}");
    assert!(wait_for(10, || String::from_utf8_lossy(
        &std::fs::read(incr_file(&dir)).unwrap_or_default()
    )
    .contains("DEL\r\n$6\r\nactive")));
}

#[test]
fn the_aof_is_rewritten_automatically_when_it_doubles() {
    let dir = fresh_dir("auto");
    let args = [
        "--appendonly",
        "yes",
        "--auto-aof-rewrite-min-size",
        "10kb",
        "--auto-aof-rewrite-percentage",
        "100",
    ];
    let mut s = Server::start_in(&dir, &args);
    let mut c = s.conn();
    let value = "v".repeat(100);
    for i in 0..300 {
        c.cmd(&["SET", &format!("key{}", i % 10), &value]);
    }
    assert!(wait_for(10, || info_field(&mut c, "aof_rewrites") != "0"));
    wait_rewrite_done(&mut c);
    let current: u64 = info_field(&mut c, "aof_current_size")
        .parse()
        .expect("size");
    // Without rewrites 300 SETs of 100 bytes would take about 40 KB.
    assert!(current < 30 * 1024, "rewritten AOF still {current} bytes");
    c.cmd(&["SET", "last", "1"]);
    s.kill();
    let s = Server::start_in(&dir, &args);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GET", "key9"]), bulk(&value));
    assert_eq!(c.cmd(&["GET", "last"]), bulk("1"));
}

fn manifest_text(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("appendonlydir/appendonly.aof.manifest")).unwrap_or_default()
}

fn ok() -> Reply {
    Reply::Status("OK".into())
}

#[test]
fn bgrewriteaof_during_bgsave_is_scheduled_and_runs_after_it() {
    let dir = fresh_dir("scheduled");
    let s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    c.cmd(&["SET", "k", "v"]);
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "10000000"]);
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Reply::Status("Background saving started".into())
    );
    assert_eq!(
        c.cmd(&["BGREWRITEAOF"]),
        Reply::Status("Background append only file rewriting scheduled".into())
    );
    assert_eq!(info_field(&mut c, "aof_rewrite_scheduled"), "1");
    assert_eq!(info_field(&mut c, "aof_rewrite_in_progress"), "0");
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    // Killing BGSAVE's child fails the save, as in Redis; the rewrite follows.
    common::kill_only_child(&mut c);
    assert!(wait_for(20, || info_field(
        &mut c,
        "rdb_bgsave_in_progress"
    ) == "0"));
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "err");
    assert!(wait_for(20, || info_field(&mut c, "aof_rewrite_scheduled") == "0"));
    wait_rewrite_done(&mut c);
    assert_eq!(
        manifest_text(&dir),
        "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    let stats = c.cmd(&["INFO", "stats"]).text();
    assert!(stats.contains("total_forks:2"), "{stats}");
}

#[test]
fn bgrewriteaof_inside_multi_is_scheduled() {
    let dir = fresh_dir("multi");
    let s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    c.cmd(&["MULTI"]);
    c.cmd(&["SET", "foo", "bar"]);
    c.cmd(&["BGREWRITEAOF"]);
    let res = c.cmd(&["EXEC"]);
    assert_eq!(
        res,
        Reply::Array(vec![
            ok(),
            Reply::Status("Background append only file rewriting scheduled".into())
        ])
    );
    assert!(wait_for(20, || info_field(&mut c, "aof_rewrites") == "1"));
    wait_rewrite_done(&mut c);
    assert!(manifest_text(&dir).contains("appendonly.aof.2.base.rdb"));
}

#[test]
fn killing_the_rewrite_child_fails_the_rewrite_and_loses_no_write() {
    let dir = fresh_dir("killed");
    let s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "10000000"]);
    assert_eq!(
        c.cmd(&["BGREWRITEAOF"]),
        Reply::Status("Background append only file rewriting started".into())
    );
    assert!(
        matches!(c.cmd(&["BGREWRITEAOF"]), Reply::Error(e) if e.contains("already in progress"))
    );
    c.cmd(&["SET", "b", "2"]);
    common::kill_only_child(&mut c);
    wait_rewrite_done(&mut c);
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "err");
    assert_eq!(info_field(&mut c, "aof_rewrites_consecutive_failures"), "1");
    // The failed rewrite leaves the old base and both incremental files.
    assert_eq!(
        manifest_text(&dir),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\nfile appendonly.aof.2.incr.aof seq 2 type i\n"
    );
    assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]), ok());
    assert_eq!(
        c.cmd(&["MGET", "a", "b"]),
        Reply::Array(vec![bulk("1"), bulk("2")])
    );
    // A successful rewrite turns all of them into history, deleted.
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    c.cmd(&["BGREWRITEAOF"]);
    wait_rewrite_done(&mut c);
    assert_eq!(
        manifest_text(&dir),
        "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n"
    );
    assert!(!dir.join("appendonlydir/appendonly.aof.1.incr.aof").exists());
    assert_eq!(info_field(&mut c, "aof_rewrites_consecutive_failures"), "0");
}

#[test]
fn enabling_the_aof_writes_a_temp_incr_file_until_a_rewrite_succeeds() {
    let dir = fresh_dir("waitrewrite");
    let s = Server::start_in(&dir, &[]);
    let mut c = s.conn();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "10000000"]);
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]), ok());
    assert_eq!(info_field(&mut c, "aof_rewrite_in_progress"), "1");
    assert!(dir.join("appendonlydir/temp-appendonly.aof.incr").is_file());
    common::kill_only_child(&mut c);
    // The failed first rewrite leaves nothing behind and is tried again.
    assert!(wait_for(10, || !dir
        .join("appendonlydir/temp-appendonly.aof.incr")
        .exists()
        || info_field(&mut c, "aof_rewrites") == "2"));
    assert!(!dir.join("appendonlydir/appendonly.aof.manifest").exists());
    assert!(wait_for(10, || info_field(&mut c, "aof_rewrites") == "2"));
    c.cmd(&["SET", "b", "2"]);
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "0"]);
    common::kill_only_child(&mut c);
    assert!(wait_for(10, || info_field(&mut c, "aof_rewrites") == "3"));
    wait_rewrite_done(&mut c);
    c.cmd(&["SET", "c", "3"]);
    assert_eq!(
        manifest_text(&dir),
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
    assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]), ok());
    assert_eq!(
        c.cmd(&["MGET", "a", "b", "c"]),
        Reply::Array(vec![bulk("1"), bulk("2"), bulk("3")])
    );
}

#[test]
fn history_files_are_kept_with_auto_gc_off_and_deleted_when_it_is_on() {
    let dir = fresh_dir("gc");
    let s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    c.cmd(&["CONFIG", "SET", "aof-disable-auto-gc", "yes"]);
    c.cmd(&["BGREWRITEAOF"]);
    wait_rewrite_done(&mut c);
    c.cmd(&["BGREWRITEAOF"]);
    wait_rewrite_done(&mut c);
    assert_eq!(
        manifest_text(&dir),
        "file appendonly.aof.3.base.rdb seq 3 type b\n\
         file appendonly.aof.2.incr.aof seq 2 type h\n\
         file appendonly.aof.2.base.rdb seq 2 type h\n\
         file appendonly.aof.1.incr.aof seq 1 type h\n\
         file appendonly.aof.1.base.rdb seq 1 type h\n\
         file appendonly.aof.3.incr.aof seq 3 type i\n"
    );
    assert!(dir.join("appendonlydir/appendonly.aof.1.base.rdb").exists());
    c.cmd(&["CONFIG", "SET", "aof-disable-auto-gc", "no"]);
    assert_eq!(
        manifest_text(&dir),
        "file appendonly.aof.3.base.rdb seq 3 type b\nfile appendonly.aof.3.incr.aof seq 3 type i\n"
    );
    assert!(!dir.join("appendonlydir/appendonly.aof.1.base.rdb").exists());
}

#[test]
fn a_rewrite_with_the_aof_off_writes_only_a_base_and_numbering_restarts_after_reload() {
    let dir = fresh_dir("offrewrite");
    let s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    c.cmd(&["SET", "a", "1"]);
    c.cmd(&["CONFIG", "SET", "appendonly", "no"]);
    c.cmd(&["BGREWRITEAOF"]);
    wait_rewrite_done(&mut c);
    assert_eq!(
        manifest_text(&dir),
        "file appendonly.aof.2.base.rdb seq 2 type b\n"
    );
    assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]), ok());
    assert_eq!(c.cmd(&["GET", "a"]), bulk("1"));
    c.cmd(&["CONFIG", "SET", "appendonly", "yes"]);
    wait_rewrite_done(&mut c);
    assert_eq!(
        manifest_text(&dir),
        "file appendonly.aof.3.base.rdb seq 3 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
    );
}

#[test]
fn an_expiry_in_the_past_applies_after_loading_not_during_it() {
    // Redis expires nothing while it loads: RPUSH after the PEXPIREAT
    // appends to the same (expired) list, which is gone once loaded.
    let dir = fresh_dir("pastexpire");
    let aof_dir = dir.join("appendonlydir");
    std::fs::create_dir_all(&aof_dir).expect("aof dir");
    let mut data = Vec::new();
    for cmd in [
        &["rpush", "list", "foo"][..],
        &["pexpireat", "list", "1000"],
        &["rpush", "list", "bar"],
        &["set", "s", "v", "pxat", "1000"],
        &["append", "s", "w"],
        &["rpush", "kept", "x"],
        &["expire", "kept", "-1"],
        &["persist", "kept"],
    ] {
        let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_bytes()).collect();
        data.extend(Conn::encode(&args));
    }
    std::fs::write(aof_dir.join("appendonly.aof.1.incr.aof"), data).expect("incr");
    std::fs::write(
        aof_dir.join("appendonly.aof.manifest"),
        "file appendonly.aof.1.incr.aof seq 1 type i\n",
    )
    .expect("manifest");
    let s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["LLEN", "list"]), Reply::Int(0));
    assert_eq!(c.cmd(&["GET", "s"]), Reply::Nil);
    assert_eq!(
        c.cmd(&["LRANGE", "kept", "0", "-1"]),
        Reply::Array(vec![bulk("x")])
    );
    assert_eq!(c.cmd(&["TTL", "kept"]), Reply::Int(-1));
}

#[test]
fn debug_aof_flush_sleep_is_accepted() {
    let dir = fresh_dir("flushsleep");
    let s = Server::start_in(&dir, &["--appendonly", "yes", "--appendfsync", "always"]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["DEBUG", "AOF-FLUSH-SLEEP", "1000"]), ok());
    let before = std::fs::metadata(incr_file(&dir)).expect("incr").len();
    assert_eq!(c.cmd(&["INCR", "n"]), Reply::Int(1));
    // appendfsync always: the reply comes after the write reached the file.
    assert!(std::fs::metadata(incr_file(&dir)).expect("incr").len() > before);
    assert_eq!(c.cmd(&["DEBUG", "AOF-FLUSH-SLEEP", "0"]), ok());
}

/// ZMPOP and BZMPOP are logged as the ZPOPMIN/ZPOPMAX they became, with
/// the number of members actually popped, as Redis replicates them.
#[test]
fn zmpop_is_logged_as_the_pop_it_became() {
    let dir = fresh_dir("zmpop");
    let s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    c.cmd(&["ZADD", "z2", "1", "a", "2", "b", "3", "c"]);
    c.cmd(&["ZMPOP", "2", "z1", "z2", "MIN", "COUNT", "10"]);
    c.cmd(&["ZADD", "z1", "1", "a", "2", "b"]);
    c.cmd(&["BZMPOP", "0", "1", "z1", "MAX"]);
    let log = String::from_utf8_lossy(&std::fs::read(incr_file(&dir)).expect("incr")).into_owned();
    let zpopmin = "*3\r\n$7\r\nZPOPMIN\r\n$2\r\nz2\r\n$1\r\n3\r\n";
    let zpopmax = "*3\r\n$7\r\nZPOPMAX\r\n$2\r\nz1\r\n$1\r\n1\r\n";
    assert!(log.contains(zpopmin) && log.contains(zpopmax), "{log}");
    assert!(!log.contains("ZMPOP"), "{log}");
}

/// Keys that SCAN, RANDOMKEY or a read command find expired are deleted
/// and logged as DEL at once, without waiting for a later write.
#[test]
fn lazy_expiry_by_reads_is_logged_at_once() {
    let dir = fresh_dir("lazy-expiry");
    let s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    for key in ["scanned", "read"] {
        c.cmd(&["SET", key, "v", "PX", "1"]);
    }
    c.cmd(&["SELECT", "1"]);
    c.cmd(&["SET", "drawn", "v", "PX", "1"]);
    c.cmd(&["SELECT", "0"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let del = |key: &str| format!("*2\r\n$3\r\nDEL\r\n${}\r\n{key}\r\n", key.len());
    let log =
        || String::from_utf8_lossy(&std::fs::read(incr_file(&dir)).expect("incr")).into_owned();
    assert_eq!(c.cmd(&["GET", "read"]), Reply::Nil);
    assert!(log().contains(&del("read")), "{}", log());
    c.cmd(&["SCAN", "0", "COUNT", "100"]);
    assert!(log().contains(&del("scanned")), "{}", log());
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(0));
    c.cmd(&["SELECT", "1"]);
    assert!(!log().contains(&del("drawn")), "{}", log());
    assert_eq!(c.cmd(&["RANDOMKEY"]), Reply::Nil);
    assert!(log().contains(&del("drawn")), "{}", log());
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(0));
}

/// A transaction is logged as MULTI ... EXEC only when it wrote more than
/// one command (Redis 7.0); EXEC is logged in the last write's database.
#[test]
fn transactions_are_wrapped_only_when_they_wrote_twice() {
    let dir = fresh_dir("multi-wrap");
    let s = Server::start_in(&dir, AOF_ON);
    let mut c = s.conn();
    for cmd in [
        &["MULTI"][..],
        &["SET", "one", "1"],
        &["GET", "one"],
        &["EXEC"],
    ] {
        c.cmd(cmd);
    }
    let log =
        || String::from_utf8_lossy(&std::fs::read(incr_file(&dir)).expect("incr")).into_owned();
    assert!(log().contains("$3\r\nSET\r\n$3\r\none\r\n"), "{}", log());
    assert!(!log().contains("MULTI"), "{}", log());
    for cmd in [
        &["MULTI"][..],
        &["SELECT", "1"],
        &["SET", "a", "1"],
        &["SELECT", "2"],
        &["SET", "b", "2"],
        &["EXEC"],
    ] {
        c.cmd(cmd);
    }
    let text = log();
    // MULTI in the first write's database, EXEC right after the last write.
    let at = text.find("*1\r\n$5\r\nMULTI").expect("MULTI logged");
    assert!(
        text[..at].ends_with("*2\r\n$6\r\nSELECT\r\n$1\r\n1\r\n"),
        "{text}"
    );
    let expected = "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n\
                    *2\r\n$6\r\nSELECT\r\n$1\r\n2\r\n*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$1\r\n2\r\n\
                    *1\r\n$4\r\nEXEC\r\n";
    assert_eq!(&text[at..], expected);
}

/// redis.set_repl(REPL_NONE) keeps a script's write out of the AOF, and
/// REPL_AOF keeps it in; a reload brings back only what was logged.
#[test]
fn set_repl_selects_what_a_script_logs() {
    let dir = fresh_dir("set-repl");
    let s = Server::start_in(
        &dir,
        &["--appendonly", "yes", "--enable-debug-command", "yes"],
    );
    let mut c = s.conn();
    let script = "redis.call('set','a','1') \
                  redis.set_repl(redis.REPL_NONE) redis.call('set','b','2') \
                  redis.set_repl(redis.REPL_AOF) redis.call('set','c','3') \
                  redis.set_repl(redis.REPL_REPLICA) redis.call('set','d','4')";
    c.cmd(&["EVAL", script, "0"]);
    assert_eq!(c.cmd(&["DEBUG", "LOADAOF"]), Reply::Status("OK".into()));
    assert_eq!(
        c.cmd(&["MGET", "a", "b", "c", "d"]),
        Reply::Array(vec![bulk("1"), Reply::Nil, bulk("3"), Reply::Nil])
    );
}

#[test]
fn debug_loadaof_answers_loading_to_others_and_logs_a_slow_script() {
    let dir = fresh_dir("loading");
    let s = Server::start_in(
        &dir,
        &["--appendonly", "yes", "--busy-reply-threshold", "10"],
    );
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SET", "x", "y"]), Reply::Status("OK".into()));
    // A slow script in the AOF, as a file that logged scripts verbatim
    // holds it: replaying it keeps the load going for a while.
    let script =
        "redis.call('set',KEYS[1],'z'); for i=1,1500000 do redis.call('ping') end return 'ok'";
    let mut file = std::fs::OpenOptions::new()
        .append(true)
        .open(incr_file(&dir))
        .expect("incr file");
    file.write_all(&Conn::encode(&[b"EVAL", script.as_bytes(), b"1", b"x"]))
        .expect("append");
    drop(file);
    let mut loader = s.conn();
    loader.send(&["DEBUG", "LOADAOF"]);
    let loading = Reply::Error("LOADING Redis is loading the dataset in memory".into());
    assert!(wait_for(10, || c.cmd(&["PING"]) == loading));
    assert_eq!(loader.read_reply(), Reply::Status("OK".into()));
    assert_eq!(c.cmd(&["PING"]), Reply::Status("PONG".into()));
    assert_eq!(c.cmd(&["GET", "x"]), bulk("z"));
    let log = std::fs::read_to_string(dir.join("server.log")).expect("server.log");
    assert!(
        log.contains("Slow script detected: still in execution after"),
        "{log}"
    );
}
