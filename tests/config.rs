//! Configuration against the real binary: a redis.conf-style file, command
//! line options that override it, CONFIG GET/SET/RESETSTAT, and the fatal
//! error (Redis's text, non-zero exit) for a directive Redis does not know.

mod common;
use common::{bulk, free_port, Reply, Server};

use std::process::Command;

fn ok() -> Reply {
    Reply::Status("OK".into())
}

fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "ferredis-config-{tag}-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

#[test]
fn file_values_and_command_line_override() {
    let dir = temp_dir("file");
    let conf = dir.join("redis.conf");
    std::fs::write(
        &conf,
        "# test config\nmaxmemory 1mb\nhash-max-ziplist-entries 64\ndatabases 4\nsave 900 1\nappendfsync always\nlist-max-ziplist-size -3\ntimeout 300\n",
    )
    .expect("write config");
    // The file comes first, options after it override it (redis-server's
    // order): the harness gives `--save ""`, and this test `--timeout 600`.
    let server = Server::start_with_config(&dir, Some(&conf), &["--timeout", "600"]);
    let mut c = server.conn();
    let get = |c: &mut common::Conn, name: &str| match c.cmd(&["CONFIG", "GET", name]) {
        Reply::Array(v) if v.len() == 2 => v[1].text(),
        other => panic!("CONFIG GET {name}: {other:?}"),
    };
    assert_eq!(get(&mut c, "maxmemory"), "1048576");
    assert_eq!(get(&mut c, "hash-max-listpack-entries"), "64");
    assert_eq!(get(&mut c, "hash-max-ziplist-entries"), "64");
    assert_eq!(get(&mut c, "databases"), "4");
    assert_eq!(get(&mut c, "appendfsync"), "always");
    assert_eq!(get(&mut c, "list-max-listpack-size"), "-3");
    assert_eq!(get(&mut c, "timeout"), "600");
    // `--save ""` from the harness wins over the file's save line.
    assert_eq!(get(&mut c, "save"), "");
    assert_eq!(c.cmd(&["SELECT", "4"]), err("ERR DB index is out of range"));
    let info = c.cmd(&["INFO", "server"]).text();
    assert!(info.contains("config_file:/"), "{info}");
}

#[test]
fn unknown_directive_is_fatal() {
    let dir = temp_dir("bad");
    let conf = dir.join("bad.conf");
    std::fs::write(&conf, "port 7777\nno-such-directive yes\n").expect("write config");
    let out = Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .arg(&conf)
        .output()
        .expect("run ferredis");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim(),
        "*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line 2\n>>> 'no-such-directive yes'\nBad directive or wrong number of arguments"
    );
    // Command-line options are more lines of the same text, as in Redis.
    let out = Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .args(["--port", "1", "--foo"])
        .output()
        .expect("run ferredis");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("at line 3\n>>> 'foo'\n"), "{stderr}");
    // After a bare --name the next argument is its value, as redis-server reads it.
    for (args, expect) in [
        (
            &["--port", "6379", "6380"][..],
            ">>> 'port \"6379\" \"6380\"'\nwrong number of arguments",
        ),
        (
            &["--port", "--bla", "--loglevel", "verbose"],
            ">>> 'port \"--bla\"'\nargument couldn't be parsed into an integer",
        ),
        (&["--port"], ">>> 'port'\nwrong number of arguments"),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ferredis"))
            .args(args)
            .output()
            .expect("run ferredis");
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expect), "{args:?}: {stderr}");
    }
    // A bad value is fatal too, with the parameter's reason.
    let out = Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .args(["--port", "1", "--maxclients", "0"])
        .output()
        .expect("run ferredis");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("argument must be between 1 and 4294967295 inclusive"),
        "{stderr}"
    );
}

#[test]
fn config_get_set_resetstat() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxmemory"]),
        Reply::Array(vec![bulk("maxmemory"), bulk("0")])
    );
    let Reply::Array(many) = c.cmd(&["CONFIG", "GET", "max*", "port"]) else {
        panic!("config get");
    };
    assert!(many.len() > 8 && many.len() % 2 == 0);
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory", "2mb", "hz", "20"]),
        ok()
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "maxmemory"]),
        Reply::Array(vec![bulk("maxmemory"), bulk("2097152")])
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "foo", "bar"]),
        err("ERR Unknown option or number of arguments for CONFIG SET - 'foo'")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "databases", "3"]),
        err("ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory", "10", "maxmemory", "20"]),
        err("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "timeout", "-1"]),
        err("ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be between 0 and 2147483647 inclusive")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "appendonly", "maybe"]),
        err("ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "maxmemory-policy", "bogus"]),
        err("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction")
    );
    // A failed multi-parameter SET changes nothing.
    assert!(c
        .cmd(&["CONFIG", "SET", "hz", "30", "appendonly", "maybe"])
        .text()
        .starts_with("ERR"));
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "hz"]),
        Reply::Array(vec![bulk("hz"), bulk("20")])
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET"]),
        err("ERR wrong number of arguments for 'config|get' command")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "hz"]),
        err("ERR wrong number of arguments for 'config|set' command")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "FOO"]),
        err("ERR unknown subcommand 'FOO'. Try CONFIG HELP.")
    );
    c.cmd(&["SET", "k", "v"]);
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
    let stats = c.cmd(&["INFO", "stats"]).text();
    assert!(
        stats.contains("total_commands_processed:0")
            || stats.contains("total_commands_processed:1")
    );
    assert_eq!(
        c.cmd(&["CONFIG", "REWRITE"]),
        err("ERR The server is running without a config file")
    );
}

/// `rename-command old new` gives a command a new name (the old one is
/// unknown); an empty new name disables it; CONFIG REWRITE keeps the lines.
#[test]
fn rename_command_renames_and_disables() {
    let dir = temp_dir("rename");
    let conf = dir.join("redis.conf");
    std::fs::write(
        &conf,
        "rename-command flushdb badger\nrename-command keys \"\"\n",
    )
    .expect("write config");
    let server = Server::start_with_config(&dir, Some(&conf), &[]);
    let mut c = server.conn();
    c.cmd(&["SET", "k", "v"]);
    assert!(
        matches!(c.cmd(&["FLUSHDB"]), Reply::Error(e) if e.starts_with("ERR unknown command 'FLUSHDB'"))
    );
    assert!(
        matches!(c.cmd(&["KEYS", "*"]), Reply::Error(e) if e.starts_with("ERR unknown command 'KEYS'"))
    );
    assert_eq!(c.cmd(&["BADGER"]), ok());
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(0));
    assert_eq!(c.cmd(&["CONFIG", "REWRITE"]), ok());
    let text = std::fs::read_to_string(&conf).expect("config file");
    assert!(text.contains("rename-command flushdb badger"), "{text}");
}

/// A rename of a command that does not exist stops the start.
#[test]
fn rename_of_an_unknown_command_is_fatal() {
    let dir = temp_dir("rename-bad");
    let conf = dir.join("redis.conf");
    std::fs::write(&conf, "rename-command nosuchcommand x\n").expect("write config");
    let out = Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .arg(&conf)
        .args(["--port", &free_port().to_string()])
        .output()
        .expect("run ferredis");
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("No such command in rename-command"), "{text}");
}

/// oom-score-adj sets the process's /proc oom_score_adj from the class
/// values (master, replica), relative to the score it had, and `no`
/// restores that score; out-of-range values are refused.
#[test]
fn oom_score_adj_follows_the_role() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let pid = c.info_field("server", "process_id");
    let score = || -> i64 {
        std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj"))
            .expect("oom_score_adj")
            .trim()
            .parse()
            .expect("a number")
    };
    let base = score();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "oom-score-adj-values", "10 20 30"]),
        ok()
    );
    assert_eq!(score(), base, "untouched while oom-score-adj is no");
    assert_eq!(c.cmd(&["CONFIG", "SET", "oom-score-adj", "yes"]), ok());
    assert_eq!(score(), base + 10);
    // Nothing listens on this loopback port: the replica role is enough.
    let port = free_port().to_string();
    assert_eq!(c.cmd(&["REPLICAOF", "127.0.0.1", &port]), ok());
    assert_eq!(score(), base + 20);
    assert_eq!(c.cmd(&["REPLICAOF", "NO", "ONE"]), ok());
    assert_eq!(score(), base + 10);
    assert_eq!(c.cmd(&["CONFIG", "SET", "oom-score-adj", "no"]), ok());
    assert_eq!(score(), base);
    assert!(matches!(
        c.cmd(&["CONFIG", "SET", "oom-score-adj-values", "-2001 0 0"]),
        Reply::Error(e) if e.contains("must be between -2000 and 2000")
    ));
}
