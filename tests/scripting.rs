//! Lua scripting: EVAL / EVALSHA / SCRIPT, the RESP <-> Lua conversions,
//! Redis 7.0's error shapes, global protection, busy scripts and SCRIPT
//! KILL, and functions (FUNCTION LOAD / FCALL / LIST / DUMP / RESTORE),
//! including their survival across an RDB save and restart.

mod common;

use common::{bulk, wait_for, Reply, Server};

fn ok() -> Reply {
    Reply::Status("OK".into())
}

fn err(s: &str) -> Reply {
    Reply::Error(s.into())
}

#[test]
fn eval_conversions_and_cache() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    assert_eq!(c.cmd(&["EVAL", "return 1", "0"]), Reply::Int(1));
    assert_eq!(c.cmd(&["EVAL", "return 3.99", "0"]), Reply::Int(3));
    assert_eq!(c.cmd(&["EVAL", "return 'x'", "0"]), bulk("x"));
    assert_eq!(c.cmd(&["EVAL", "return true", "0"]), Reply::Int(1));
    assert_eq!(c.cmd(&["EVAL", "return false", "0"]), Reply::Nil);
    assert_eq!(
        c.cmd(&["EVAL", "return {ok='fine'}", "0"]),
        Reply::Status("fine".into())
    );
    assert_eq!(
        c.cmd(&["EVAL", "return {err='My Error'}", "0"]),
        err("My Error")
    );
    assert_eq!(
        c.cmd(&["EVAL", "return {1,2,3,'ciao',{1,2}}", "0"]),
        Reply::Array(vec![
            Reply::Int(1),
            Reply::Int(2),
            Reply::Int(3),
            bulk("ciao"),
            Reply::Array(vec![Reply::Int(1), Reply::Int(2)]),
        ])
    );
    assert_eq!(
        c.cmd(&[
            "EVAL",
            "return {KEYS[1],KEYS[2],ARGV[1]}",
            "2",
            "a",
            "b",
            "c"
        ]),
        Reply::Array(vec![bulk("a"), bulk("b"), bulk("c")])
    );
    // EVAL caches the script under its SHA-1.
    let sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db";
    assert_eq!(c.cmd(&["EVALSHA", sha, "0"]), Reply::Int(1));
    assert_eq!(c.cmd(&["EVALSHA", &sha.to_uppercase(), "0"]), Reply::Int(1));
    assert_eq!(
        c.cmd(&[
            "SCRIPT",
            "EXISTS",
            sha,
            "ffffffffffffffffffffffffffffffffffffffff"
        ]),
        Reply::Array(vec![Reply::Int(1), Reply::Int(0)])
    );
    assert_eq!(c.cmd(&["SCRIPT", "FLUSH"]), ok());
    assert_eq!(
        c.cmd(&["EVALSHA", sha, "0"]),
        err("NOSCRIPT No matching script. Please use EVAL.")
    );
    assert_eq!(c.cmd(&["SCRIPT", "LOAD", "return 1"]), bulk(sha));
    assert_eq!(
        c.cmd(&["EVAL", "return 1", "2", "a"]),
        err("ERR Number of keys can't be greater than number of args")
    );
    assert_eq!(
        c.cmd(&["EVAL", "return 1", "-1"]),
        err("ERR Number of keys can't be negative")
    );
}

#[test]
fn redis_call_and_errors_match_redis() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    assert_eq!(
        c.cmd(&[
            "EVAL",
            "return redis.call('set', KEYS[1], ARGV[1])",
            "1",
            "k",
            "v"
        ]),
        ok()
    );
    assert_eq!(
        c.cmd(&["EVAL", "return redis.call('get', KEYS[1])", "1", "k"]),
        bulk("v")
    );
    assert_eq!(
        c.cmd(&["EVAL", "return redis.call('get', 'nokey')", "0"]),
        Reply::Nil
    );
    assert_eq!(
        c.cmd(&["EVAL", "redis.call('nosuch')", "0"]),
        err("ERR Unknown Redis command called from script script: 430a4c08007a56d804d36fb3892501d47c06f338, on @user_script:1.")
    );
    assert_eq!(
        c.cmd(&["EVAL", "return redis.call('incr','k')", "0"]),
        err("ERR value is not an integer or out of range script: 1f71dc1cd0b838440b29a02b9ecb8480e01af28a, on @user_script:1.")
    );
    assert_eq!(
        c.cmd(&["EVAL", "return redis.pcall('incr','k')", "0"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["EVAL", "return a", "0"]),
        err("ERR user_script:1: Script attempted to access nonexistent global variable 'a' script: bbfcd1ececc90deec823f7fb730e4bfb2a4ba625, on @user_script:1.")
    );
    assert_eq!(
        c.cmd(&["EVAL", "a=1", "0"]),
        err("ERR user_script:1: Attempt to modify a readonly table script: 86eda770a6060824b090dd4df091e3bd4121279c, on @user_script:1.")
    );
    assert!(c
        .cmd(&["EVAL", "redis.call = 1", "0"])
        .text()
        .contains("Attempt to modify a readonly table"));
    assert_eq!(
        c.cmd(&["EVAL", "return 1+", "0"]),
        err("ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'")
    );
    assert!(c
        .cmd(&["EVAL", "return redis.call('blpop','l',0)", "0"])
        .text()
        .starts_with("ERR This Redis command is not allowed from script"));
    assert!(c
        .cmd(&["EVAL_RO", "return redis.call('set','a',1)", "0"])
        .text()
        .starts_with("ERR Write commands are not allowed from read-only scripts."));
    assert_eq!(
        c.cmd(&[
            "EVAL",
            "#!lua flags=no-writes\nreturn redis.call('get','k')",
            "0"
        ]),
        bulk("v")
    );
    assert_eq!(
        c.cmd(&["EVAL_RO", "#!lua\nreturn 1", "0"]),
        err("ERR Can not execute a script with write flag using *_ro command.")
    );
    assert_eq!(
        c.cmd(&["EVAL", "#!lua flags=foo\nreturn 1", "0"]),
        err("ERR Unexpected flag in script shebang: foo")
    );
    // SELECT inside a script does not change the caller's database.
    c.cmd(&["SELECT", "9"]);
    c.cmd(&[
        "EVAL",
        "redis.call('select','10'); redis.call('set','x','y')",
        "0",
    ]);
    assert_eq!(c.cmd(&["GET", "x"]), Reply::Nil);
    c.cmd(&["SELECT", "10"]);
    assert_eq!(c.cmd(&["GET", "x"]), bulk("y"));
    // %.17g number arguments, cjson and bit.
    assert_eq!(
        c.cmd(&[
            "EVAL",
            "redis.call('set','n',9007199254740991); return redis.call('get','n')",
            "0"
        ]),
        bulk("9007199254740991")
    );
    assert_eq!(
        c.cmd(&[
            "EVAL",
            "return cjson.encode(cjson.decode('{\"a\":[1,2,\"x\"]}'))",
            "0"
        ]),
        bulk("{\"a\":[1,2,\"x\"]}")
    );
    assert_eq!(
        c.cmd(&["EVAL", "return bit.bor(1,2,4,8,16,32,64,128)", "0"]),
        Reply::Int(255)
    );
}

#[test]
fn busy_script_and_script_kill() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let mut runner = server.conn();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "busy-reply-threshold", "10"]),
        ok()
    );
    assert_eq!(
        c.cmd(&["SCRIPT", "KILL"]),
        err("NOTBUSY No scripts in execution right now.")
    );
    runner.send(&["EVAL", "while true do end", "0"]);
    assert!(wait_for(5, || c.cmd(&["PING"]).text().starts_with("BUSY")));
    assert_eq!(
        c.cmd(&["PING"]),
        err("BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.")
    );
    assert_eq!(c.cmd(&["SCRIPT", "KILL"]), ok());
    let reply = runner.read_reply().text();
    assert!(
        reply.contains("Script killed by user with SCRIPT KILL..."),
        "{reply}"
    );
    assert!(wait_for(5, || c.cmd(&["PING"]) == Reply::Status("PONG".into())));

    // A script that wrote cannot be killed.
    runner.send(&["EVAL", "redis.call('set','w','1') while true do end", "0"]);
    assert!(wait_for(5, || c.cmd(&["PING"]).text().starts_with("BUSY")));
    assert!(c.cmd(&["SCRIPT", "KILL"]).text().starts_with("UNKILLABLE"));
}

#[test]
fn functions_load_call_list_dump_and_persist() {
    let dir = std::env::temp_dir().join(format!("ferredis-scripting-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let code = "#!lua name=mylib\nredis.register_function('f', function(keys, args) return args[1] end)\nredis.register_function{function_name='g', callback=function(keys) return redis.call('get', keys[1]) end, flags={'no-writes'}}";
    {
        let server = Server::start_in(&dir, &[]);
        let mut c = server.conn();
        assert_eq!(c.cmd(&["FUNCTION", "LOAD", code]), bulk("mylib"));
        assert_eq!(
            c.cmd(&["FUNCTION", "LOAD", code]),
            err("ERR Library 'mylib' already exists")
        );
        assert_eq!(
            c.cmd(&["FUNCTION", "LOAD", "return 1"]),
            err("ERR Missing library metadata")
        );
        assert_eq!(c.cmd(&["FCALL", "f", "0", "hello"]), bulk("hello"));
        c.cmd(&["SET", "k", "v"]);
        assert_eq!(c.cmd(&["FCALL_RO", "g", "1", "k"]), bulk("v"));
        assert_eq!(
            c.cmd(&["FCALL_RO", "f", "0", "x"]),
            err("ERR Can not execute a script with write flag using *_ro command.")
        );
        assert_eq!(
            c.cmd(&["FCALL", "nosuch", "0"]),
            err("ERR Function not found")
        );
        let list = format!("{:?}", c.cmd(&["FUNCTION", "LIST"]));
        assert!(list.contains("Status(\"no-writes\")"), "{list}");
        assert!(list.contains(&format!("Bulk({:?})", b"mylib")), "{list}");
        let dump = match c.cmd(&["FUNCTION", "DUMP"]) {
            Reply::Bulk(b) => b,
            other => panic!("{other:?}"),
        };
        assert_eq!(c.cmd(&["FUNCTION", "FLUSH"]), ok());
        assert_eq!(
            c.cmd(&["FCALL", "f", "0", "x"]),
            err("ERR Function not found")
        );
        assert_eq!(c.cmd_bytes(&[b"FUNCTION", b"RESTORE", &dump]), ok());
        assert_eq!(c.cmd(&["FCALL", "f", "0", "back"]), bulk("back"));
        assert_eq!(c.cmd(&["SAVE"]), ok());
    }
    let server = Server::start_in(&dir, &[]);
    let mut c = server.conn();
    assert_eq!(c.cmd(&["FCALL", "f", "0", "again"]), bulk("again"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn monitor_shows_the_script_before_the_commands_it_runs() {
    let server = Server::start(&[]);
    let mut mon = server.conn();
    let mut c = server.conn();
    assert_eq!(mon.cmd(&["MONITOR"]), Reply::Status("OK".into()));
    c.cmd(&[
        "EVAL",
        "redis.call('set',KEYS[1],ARGV[1])",
        "1",
        "foo",
        "bar",
    ]);
    let first = mon.read_reply().text();
    let second = mon.read_reply().text();
    assert!(first.contains(r#""EVAL""#), "{first}");
    assert!(second.ends_with(r#"[0 lua] "set" "foo" "bar""#), "{second}");
}

/// cjson.decode_max_depth limits nesting as Redis's cjson does: the
/// second object of '{"obj": {...}}' is refused under a limit of 1.
#[test]
fn cjson_decode_max_depth_is_enforced() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let script = "cjson.decode_max_depth(1) \
                  local ok, err = pcall(cjson.decode, '{\"obj\": {\"array\": [1,2,3,4]}}') \
                  cjson.decode_max_depth(1000) \
                  return {tostring(ok), tostring(err)}";
    let Reply::Array(items) = c.cmd(&["EVAL", script, "0"]) else {
        panic!("array reply");
    };
    assert_eq!(items[0], bulk("false"));
    assert!(
        items[1]
            .text()
            .ends_with("Found too many nested data structures (2) at character 9"),
        "{:?}",
        items[1]
    );
    assert_eq!(
        c.cmd(&[
            "EVAL",
            "return cjson.encode(cjson.decode('[[1],{\"a\":[2]}]'))",
            "0"
        ]),
        bulk("[[1],{\"a\":[2]}]")
    );
}

/// Time stands still while a script runs: a key it set to expire in 1 ms
/// still exists after the script slept 10 ms; outside, it has expired.
/// DEBUG OBJECT still shows an expired key not yet deleted, as Redis does.
#[test]
fn a_script_sees_the_time_it_started_at() {
    let server = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = server.conn();
    c.cmd(&["DEBUG", "SET-DISABLE-DENY-SCRIPTS", "1"]);
    let script = "redis.call('SET', 'key', 'value', 'PX', '1') \
                  redis.call('DEBUG', 'SLEEP', '0.01') \
                  return redis.call('EXISTS', 'key')";
    assert_eq!(c.cmd(&["EVAL", script, "0"]), Reply::Int(1));
    assert_eq!(c.cmd(&["EXISTS", "key"]), Reply::Int(0));
    c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]);
    c.cmd(&["SET", "key", "value", "PX", "1"]);
    std::thread::sleep(std::time::Duration::from_millis(5));
    assert!(
        matches!(c.cmd(&["DEBUG", "OBJECT", "key"]), Reply::Status(s) if s.starts_with("Value at:"))
    );
    assert_eq!(
        c.cmd(&["EVAL", "return redis.call('EXISTS', 'key')", "0"]),
        Reply::Int(0)
    );
    assert_eq!(c.cmd(&["DBSIZE"]), Reply::Int(0));
}

/// DEBUG RELOAD empties the functions with the data: a library loaded
/// after the file was written is gone after the reload.
#[test]
fn debug_reload_replaces_the_functions_with_the_files() {
    let server = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = server.conn();
    let lib = |name: &str| {
        format!("#!lua name={name}\nredis.register_function('{name}', function() return 1 end)")
    };
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", &lib("kept")]), bulk("kept"));
    assert_eq!(c.cmd(&["SAVE"]), ok());
    assert_eq!(c.cmd(&["FUNCTION", "LOAD", &lib("later")]), bulk("later"));
    assert_eq!(c.cmd(&["DEBUG", "RELOAD", "NOSAVE"]), ok());
    let list = c.cmd(&["FUNCTION", "LIST"]);
    let Reply::Array(libs) = &list else {
        panic!("FUNCTION LIST: {list:?}");
    };
    assert_eq!(libs.len(), 1, "{list:?}");
    assert!(
        matches!(&libs[0], Reply::Array(fields) if fields.get(1) == Some(&bulk("kept"))),
        "{list:?}"
    );
}

/// cjson.encode_max_depth counts tables only: under a limit of 1 a flat
/// table of numbers encodes, a nested table does not.
#[test]
fn cjson_encode_max_depth_counts_tables() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let script = "cjson.encode_max_depth(1) \
                  local ok1, flat = pcall(cjson.encode, {1, 2}) \
                  local ok2 = pcall(cjson.encode, {a = {1}}) \
                  cjson.encode_max_depth(1000) \
                  return {tostring(ok1), flat, tostring(ok2)}";
    assert_eq!(
        c.cmd(&["EVAL", script, "0"]),
        Reply::Array(vec![bulk("true"), bulk("[1,2]"), bulk("false")])
    );
}

/// The status lines of a debugger answer.
fn ldb_lines(reply: Reply) -> Vec<String> {
    match reply {
        Reply::Array(items) => items
            .into_iter()
            .map(|i| match i {
                Reply::Status(s) => s,
                other => panic!("not a status line: {other:?}"),
            })
            .collect(),
        other => panic!("not a debugger answer: {other:?}"),
    }
}

const DEBUGGED: &str = "local a = 5\nredis.call('set','k','v')\nreturn a";

#[test]
fn script_debug_sync_steps_prints_and_keeps_the_writes() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SCRIPT", "DEBUG", "SYNC"]), ok());
    assert_eq!(
        ldb_lines(c.cmd(&["EVAL", DEBUGGED, "0"])),
        vec![
            "* Stopped at 1, stop reason = step over",
            "-> 1   local a = 5"
        ]
    );
    assert_eq!(
        ldb_lines(c.cmd(&["s"])),
        vec![
            "* Stopped at 2, stop reason = step over",
            "-> 2   redis.call('set','k','v')"
        ]
    );
    assert_eq!(ldb_lines(c.cmd(&["p"])), vec!["<value> a = 5"]);
    assert_eq!(
        ldb_lines(c.cmd(&["b", "3"])),
        vec!["-> 2   redis.call('set','k','v')", "  #3   return a"]
    );
    assert_eq!(
        ldb_lines(c.cmd(&["r", "get", "k"])),
        vec!["<redis> get k", "<reply> NULL"]
    );
    assert_eq!(
        ldb_lines(c.cmd(&["foo"])),
        vec!["<error> Unknown Redis Lua debugger command or wrong number of arguments."]
    );
    assert_eq!(
        ldb_lines(c.cmd(&["c"])),
        vec![
            "* Stopped at 3, stop reason = break point",
            "->#3   return a"
        ]
    );
    // The end of the session, the script's reply, and the connection closes.
    assert_eq!(ldb_lines(c.cmd(&["c"])), vec!["<endsession>"]);
    assert_eq!(c.read_reply(), Reply::Int(5));
    assert!(c.is_closed());
    assert_eq!(s.conn().cmd(&["GET", "k"]), bulk("v"));
}

#[test]
fn script_debug_yes_rolls_the_writes_back() {
    let s = Server::start(&["--appendonly", "yes"]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["SCRIPT", "DEBUG", "YES"]), ok());
    ldb_lines(c.cmd(&["EVAL", DEBUGGED, "0"]));
    // A Redis command with 100 arguments from the debugger: refused, and
    // the session goes on.
    let mut args = vec!["redis"];
    args.extend(std::iter::repeat_n("test", 100));
    let lines = ldb_lines(c.cmd(&args));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("Unknown Redis command called from script")),
        "{lines:?}"
    );
    assert_eq!(ldb_lines(c.cmd(&["c"])), vec!["<endsession>"]);
    assert_eq!(c.read_reply(), Reply::Int(5));
    let mut other = s.conn();
    assert_eq!(other.cmd(&["GET", "k"]), Reply::Nil);
    assert_eq!(other.cmd(&["DBSIZE"]), Reply::Int(0));
    // Nothing reached the AOF either.
    let aof_dir = s.dir.join("appendonlydir");
    for file in std::fs::read_dir(&aof_dir)
        .expect("appendonlydir")
        .flatten()
    {
        let bytes = std::fs::read(file.path()).expect("aof file");
        assert!(
            !bytes.windows(5).any(|w| w == b"\r\nk\r\n"),
            "{:?} logged the session's write",
            file.path()
        );
    }
    assert_eq!(
        other.cmd(&["SCRIPT", "DEBUG", "maybe"]),
        err("ERR Use SCRIPT DEBUG YES/SYNC/NO")
    );
}

#[test]
fn shebang_flags_decide_at_the_dispatcher_and_refusals_count() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    // A read-only replica (of a loopback port nobody listens on).
    let port = common::free_port().to_string();
    assert_eq!(c.cmd(&["REPLICAOF", "127.0.0.1", &port]), ok());
    // A script with flags that may write is a write: refused when queued,
    // so EXEC aborts. A script without flags is judged by its commands.
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(
        c.cmd(&["EVAL", "#!lua\nreturn 1", "0"]),
        err("READONLY You can't write against a read only replica.")
    );
    assert_eq!(
        c.cmd(&["EXEC"]),
        err("EXECABORT Transaction discarded because of previous errors.")
    );
    assert_eq!(
        c.cmd(&["EVAL", "#!lua flags=no-writes\nreturn 1", "0"]),
        Reply::Int(1)
    );
    assert_eq!(c.cmd(&["REPLICAOF", "NO", "ONE"]), ok());
    // Past maxmemory: a flagged script that may write is refused before it
    // runs; a command refused inside a script counts as rejected.
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "1"]), ok());
    assert!(c
        .cmd(&["EVAL", "#!lua\nreturn 1", "0"])
        .text()
        .starts_with("OOM command not allowed"));
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
    assert!(c
        .cmd(&["EVAL", "return redis.call('set','x','y')", "1", "x"])
        .text()
        .starts_with("OOM command not allowed"));
    let stats = c.cmd(&["INFO", "commandstats"]).text();
    let set = stats
        .lines()
        .find(|l| l.starts_with("cmdstat_set:"))
        .expect("cmdstat_set");
    assert!(
        set.contains("calls=0") && set.contains("rejected_calls=1"),
        "{set}"
    );
    let eval = stats
        .lines()
        .find(|l| l.starts_with("cmdstat_eval:"))
        .expect("cmdstat_eval");
    assert!(eval.contains("rejected_calls=0,failed_calls=1"), "{eval}");
    // The error counts once in errorstats: at the refused SET.
    let errors = |c: &mut common::Conn| c.info_field("stats", "total_error_replies");
    assert_eq!(errors(&mut c), "1");
    // Caught with redis.pcall: still counted once, and EVAL succeeded.
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
    assert_eq!(
        c.cmd(&[
            "EVAL",
            "local t = redis.pcall('set','x','y') return t['err'] ~= nil and 1 or 0",
            "1",
            "x"
        ]),
        Reply::Int(1)
    );
    assert_eq!(errors(&mut c), "1");
    // A script's own error counts at the EVAL.
    assert_eq!(c.cmd(&["CONFIG", "RESETSTAT"]), ok());
    assert!(c
        .cmd(&["EVAL", "error('mine')", "0"])
        .text()
        .contains("mine"));
    assert_eq!(errors(&mut c), "1");
    assert_eq!(c.cmd(&["CONFIG", "SET", "maxmemory", "0"]), ok());
}
