//! Operations: maxmemory and its eviction policies, OBJECT FREQ/IDLETIME,
//! MONITOR, INFO memory/stats/cpu fields.

mod common;

use common::{bulk, wait_for, Reply, Server};

#[test]
fn noeviction_refuses_writes_but_not_reads_or_deletes() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    assert_eq!(c.cmd(&["SET", "k", "v"]), Reply::Status("OK".into()));
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory", "1"]),
        Reply::Status("OK".into())
    );
    assert_eq!(
        c.cmd(&["SET", "a", "b"]),
        Reply::Error("OOM command not allowed when used memory > 'maxmemory'.".into())
    );
    assert_eq!(c.cmd(&["GET", "k"]), bulk("v"));
    assert_eq!(c.cmd(&["DEL", "k"]), Reply::Int(1));
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory", "0"]),
        Reply::Status("OK".into())
    );
    assert_eq!(c.cmd(&["SET", "a", "b"]), Reply::Status("OK".into()));
}

#[test]
fn volatile_policies_only_evict_keys_with_a_ttl() {
    for policy in [
        "volatile-lru",
        "volatile-lfu",
        "volatile-random",
        "volatile-ttl",
    ] {
        let server = Server::start(&[]);
        let mut c = server.conn();
        for i in 0..50 {
            c.cmd(&["SET", &format!("p{i}"), "x"]);
            c.cmd(&["SET", &format!("v{i}"), "x", "EX", "1000"]);
        }
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", policy]);
        c.cmd(&["CONFIG", "SET", "maxmemory", "1"]);
        // Every volatile key goes, then the write is refused.
        assert!(c.cmd(&["SET", "new", "x"]).text().starts_with("OOM"));
        c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
        assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(50), "{policy}");
        assert_eq!(c.info_field("stats", "evicted_keys"), "50");
    }
}

#[test]
fn allkeys_policies_evict_and_raise_events() {
    for policy in ["allkeys-lru", "allkeys-lfu", "allkeys-random"] {
        let server = Server::start(&[]);
        let mut c = server.conn();
        let mut sub = server.conn();
        c.cmd(&["CONFIG", "SET", "notify-keyspace-events", "Ee"]);
        sub.cmd(&["SUBSCRIBE", "__keyevent@0__:evicted"]);
        c.cmd(&["SET", "only", "x"]);
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", policy]);
        c.cmd(&["CONFIG", "SET", "maxmemory", "1"]);
        c.cmd(&["GET", "only"]);
        c.cmd(&["CONFIG", "SET", "maxmemory", "0"]);
        assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(0), "{policy}");
        assert_eq!(
            sub.read_reply(),
            Reply::Array(vec![
                bulk("message"),
                bulk("__keyevent@0__:evicted"),
                bulk("only")
            ])
        );
    }
}

#[test]
fn object_freq_and_idletime_follow_the_policy() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.cmd(&["OBJECT", "IDLETIME", "k"]), Reply::Int(0));
    assert!(c.cmd(&["OBJECT", "FREQ", "k"]).text().contains("LFU"));
    c.cmd(&["CONFIG", "SET", "maxmemory-policy", "allkeys-lfu"]);
    // A key created under an LFU policy starts at LFU_INIT_VAL, as in Redis.
    c.cmd(&["DEL", "k"]);
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.cmd(&["OBJECT", "FREQ", "k"]), Reply::Int(5));
    for _ in 0..200 {
        c.cmd(&["GET", "k"]);
    }
    let freq = c.cmd(&["OBJECT", "FREQ", "k"]);
    assert!(
        matches!(freq, Reply::Int(n) if n > 5 && n < 255),
        "{freq:?}"
    );
    assert!(c.cmd(&["OBJECT", "IDLETIME", "k"]).text().contains("LFU"));
}

#[test]
fn monitor_shows_each_command_as_redis_does() {
    let server = Server::start(&[]);
    let mut mon = server.conn();
    let mut c = server.conn();
    assert_eq!(mon.cmd(&["MONITOR"]), Reply::Status("OK".into()));
    c.cmd(&["SET", "foo", "a\"b"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["INCR", "n"]);
    c.cmd(&["EXEC"]);
    c.cmd(&["AUTH", "secret"]);
    let lines: Vec<String> = (0..5).map(|_| mon.read_reply().text()).collect();
    // +<s>.<us> [<db> <addr>] "arg" ...
    let first = &lines[0];
    let (stamp, rest) = first.split_once(' ').unwrap();
    assert!(stamp.split_once('.').is_some_and(|(_, us)| us.len() == 6));
    assert!(rest.starts_with("[0 127.0.0.1:"), "{first}");
    assert!(rest.ends_with(r#"] "SET" "foo" "a\"b""#), "{first}");
    assert!(lines[1].ends_with(r#""MULTI""#));
    assert!(lines[2].ends_with(r#""INCR" "n""#));
    assert!(lines[3].ends_with(r#""EXEC""#));
    assert!(lines[4].ends_with(r#""AUTH" "(redacted)""#), "{lines:?}");
}

#[test]
fn info_memory_reports_the_heap_and_rss() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let used: u64 = c.info_field("memory", "used_memory").parse().unwrap();
    let rss: u64 = c.info_field("memory", "used_memory_rss").parse().unwrap();
    assert!(used > 0 && rss > used);
    c.cmd(&["CONFIG", "SET", "maxmemory", "100mb"]);
    assert_eq!(c.info_field("memory", "maxmemory_human"), "100.00M");
    assert!(c.info_field("cpu", "used_cpu_user").contains('.'));
    assert!(wait_for(5, || c.info_field("stats", "evicted_keys") == "0"));
}

#[test]
fn client_pause_write_holds_writes_until_unpause() {
    let server = Server::start(&[]);
    let mut admin = server.conn();
    let mut writer = server.conn();
    let mut reader = server.conn();
    reader.cmd(&["SET", "k", "v"]);
    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "100000", "WRITE"]),
        Reply::Status("OK".into())
    );
    writer.send(&["SET", "k", "w"]);
    assert!(wait_for(5, || admin
        .info_field("clients", "blocked_clients")
        == "1"));
    assert_eq!(reader.cmd(&["GET", "k"]), bulk("v"));
    assert_eq!(
        admin.cmd(&["CLIENT", "UNPAUSE"]),
        Reply::Status("OK".into())
    );
    assert_eq!(writer.read_reply(), Reply::Status("OK".into()));
    assert_eq!(reader.cmd(&["GET", "k"]), bulk("w"));
    assert_eq!(
        admin.cmd(&["CLIENT", "PAUSE", "abc"]),
        Reply::Error("ERR timeout is not an integer or out of range".into())
    );
}

#[test]
fn latency_histogram_counts_commands_and_subcommands() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["CONFIG", "RESETSTAT"]);
    c.cmd(&["SET", "a", "b"]);
    c.cmd(&["SET", "c", "d"]);
    let Reply::Array(items) = c.cmd(&["LATENCY", "HISTOGRAM", "set", "config", "nosuch"]) else {
        panic!("array expected");
    };
    let names: Vec<String> = items.iter().step_by(2).map(Reply::text).collect();
    assert_eq!(names, ["config|resetstat", "set"]);
    let Reply::Array(set) = &items[3] else {
        panic!("map as array expected");
    };
    assert_eq!(set[0], bulk("calls"));
    assert_eq!(set[1], Reply::Int(2));
    assert_eq!(set[2], bulk("histogram_usec"));
}

#[test]
fn config_rewrite_keeps_comments_and_order() {
    let dir = std::env::temp_dir().join(format!("ferredis-rewrite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("redis.conf");
    std::fs::write(
        &conf,
        "# my settings\nhz 15\n\n# keep me\nmaxmemory-samples 7\n",
    )
    .unwrap();
    {
        let server = Server::start_in(&dir, &[]);
        assert_eq!(
            server.conn().cmd(&["CONFIG", "REWRITE"]),
            Reply::Error("ERR The server is running without a config file".into())
        );
    }
    // The config file comes first on the command line, as with redis-server.
    let port = common::free_port();
    let path = conf.display().to_string();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .args([path.as_str(), "--port", &port.to_string(), "--save", ""])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut conn = None;
    assert!(wait_for(10, || {
        conn = common::Conn::try_connect(port).ok();
        conn.is_some()
    }));
    let mut c = conn.unwrap();
    c.cmd(&["CONFIG", "SET", "maxmemory", "1mb", "hz", "20"]);
    let reply = c.cmd(&["CONFIG", "REWRITE"]);
    let _ = child.kill();
    let _ = child.wait();
    assert_eq!(reply, Reply::Status("OK".into()));
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        format!("# my settings\nhz 20\n\n# keep me\nmaxmemory-samples 7\n# Generated by CONFIG REWRITE\nmaxmemory 1mb\nport {port}\nsave \"\"\n")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn rejected_calls_and_latencystats_in_info() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["CONFIG", "RESETSTAT"]);
    assert!(c.cmd(&["SET"]).text().starts_with("ERR wrong number"));
    c.cmd(&["SET", "a", "b"]);
    let stats = c.cmd(&["INFO", "commandstats"]).text();
    assert!(
        stats.contains("cmdstat_set:calls=1,") && stats.contains("rejected_calls=1,failed_calls=0"),
        "{stats}"
    );
    let lat = c.cmd(&["INFO", "latencystats"]).text();
    assert!(lat.contains("latency_percentiles_usec_set:p50="), "{lat}");
    assert!(lat.contains(",p99.9="), "{lat}");
}

#[test]
fn client_pause_write_skips_active_and_lazy_expiry() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let expired = |c: &mut common::Conn| c.info_field("stats", "expired_keys");
    let before = expired(&mut c);
    c.cmd(&["SET", "foo", "bar", "PX", "10"]);
    c.cmd(&["SET", "bar", "foo", "PX", "10"]);
    c.cmd(&["CLIENT", "PAUSE", "50000", "WRITE"]);
    // Logically expired: reads see nothing ...
    assert!(wait_for(5, || c.cmd(&["GET", "foo"]) == Reply::Nil
        && c.cmd(&["GET", "bar"]) == Reply::Nil));
    // ... but neither the reads nor the active cycle deleted them.
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert_eq!(expired(&mut c), before);
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(2));
    c.cmd(&["CLIENT", "UNPAUSE"]);
    c.cmd(&["GET", "foo"]);
    c.cmd(&["GET", "bar"]);
    let after: u64 = expired(&mut c).parse().expect("expired_keys");
    assert_eq!(after, before.parse::<u64>().expect("expired_keys") + 2);
}

/// The scheduling policy of each of the server's threads, from field 41
/// of /proc/<pid>/task/<tid>/stat (see proc(5)).
fn thread_policies(pid: &str) -> Vec<u32> {
    let mut policies = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).expect("task dir") {
        let path = task.expect("task entry").path().join("stat");
        let Ok(stat) = std::fs::read_to_string(path) else {
            continue; // the thread ended meanwhile
        };
        // Fields after the ")" that closes the name start at field 3.
        let after_name = &stat[stat.rfind(')').expect("stat format") + 1..];
        let field = after_name.split_whitespace().nth(41 - 3).expect("policy");
        policies.push(field.parse().expect("number"));
    }
    policies
}

#[test]
fn every_thread_runs_under_sched_batch() {
    const SCHED_BATCH: u32 = 3;
    let server = Server::start(&[]);
    let mut clients: Vec<_> = (0..3).map(|_| server.conn()).collect();
    for c in &mut clients {
        assert_eq!(c.cmd(&["PING"]), Reply::Status("PONG".into()));
    }
    let pid = clients[0].info_field("server", "process_id");
    let policies = thread_policies(&pid);
    // The main thread, the background threads and one per client.
    assert!(policies.len() > 3, "{policies:?}");
    assert!(policies.iter().all(|&p| p == SCHED_BATCH), "{policies:?}");
}
