//! Introspection commands against Redis 7.0.15's replies: COMMAND GETKEYS /
//! GETKEYSANDFLAGS / LIST / INFO flags, CLUSTER on a non-cluster server,
//! CLIENT KILL argument errors, the latency monitor's events, ROLE.

mod common;

use common::{bulk, Reply, Server};

fn err(text: &str) -> Reply {
    Reply::Error(text.into())
}

fn bulks(items: &[&str]) -> Reply {
    Reply::Array(items.iter().map(|s| bulk(s)).collect())
}

/// [key, [flag ...]] as COMMAND GETKEYSANDFLAGS replies it (RESP2).
fn key_flags(key: &str, flags: &[&str]) -> Reply {
    Reply::Array(vec![
        bulk(key),
        Reply::Array(flags.iter().map(|f| Reply::Status(f.to_string())).collect()),
    ])
}

fn names(reply: Reply) -> Vec<String> {
    match reply {
        Reply::Array(items) => items.iter().map(Reply::text).collect(),
        other => panic!("array expected, got {other:?}"),
    }
}

#[test]
fn command_getkeysandflags_gives_key_spec_flags() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1"]),
        Reply::Array(vec![key_flags("k1", &["OW", "update"])])
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYSANDFLAGS", "set", "k1", "v1", "GET"]),
        Reply::Array(vec![key_flags("k1", &["RW", "access", "update"])])
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYSANDFLAGS", "mset", "k1", "v1", "k2", "v2"]),
        Reply::Array(vec![
            key_flags("k1", &["OW", "update"]),
            key_flags("k2", &["OW", "update"])
        ])
    );
    assert_eq!(
        c.cmd(&[
            "COMMAND",
            "GETKEYSANDFLAGS",
            "LMOVE",
            "k1",
            "k2",
            "left",
            "right"
        ]),
        Reply::Array(vec![
            key_flags("k1", &["RW", "access", "delete"]),
            key_flags("k2", &["RW", "insert"])
        ])
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYSANDFLAGS", "sort", "k1", "store", "k2"]),
        Reply::Array(vec![
            key_flags("k1", &["RO", "access"]),
            key_flags("k2", &["OW", "update"])
        ])
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYSANDFLAGS", "hexists", "k", "f"]),
        Reply::Array(vec![key_flags("k", &["RO"])])
    );
}

#[test]
fn command_getkeys_follows_key_specs_and_subcommands() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "memory", "usage", "key"]),
        bulks(&["key"])
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "sort", "abc", "store", "invalid", "store", "def"]),
        bulks(&["abc", "def"])
    );
    let mut args = vec!["COMMAND", "GETKEYS", "ZUNIONSTORE", "target", "260"];
    let keys: Vec<String> = (1..=260).map(|i| format!("key{i}")).collect();
    args.extend(keys.iter().map(String::as_str));
    let mut want = vec!["target".to_string()];
    want.extend(keys.iter().cloned());
    assert_eq!(names(c.cmd(&args)), want);
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "zunionstore", "d", "5", "a"]),
        err("ERR Invalid arguments specified for command")
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "memory", "doctor"]),
        err("ERR The command has no key arguments")
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "config", "nosuch", "x"]),
        err("ERR Invalid command specified")
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "nosuch", "x"]),
        err("ERR Invalid command specified")
    );
    assert_eq!(
        c.cmd(&["COMMAND", "GETKEYS", "memory", "usage"]),
        err("ERR Invalid number of arguments specified for command")
    );
}

#[test]
fn command_list_filters_commands_and_subcommands() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let all = names(c.cmd(&["COMMAND", "LIST"]));
    assert!(all.contains(&"set".to_string()));
    assert!(all.contains(&"client|list".to_string()));
    assert_eq!(
        c.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "set"]),
        bulks(&["set"])
    );
    let mut help = names(c.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "cl*help"]));
    help.sort();
    assert_eq!(help, ["client|help", "cluster|help"]);
    let re = names(c.cmd(&["COMMAND", "LIST", "FILTERBY", "PATTERN", "config|*re*"]));
    assert!(re.contains(&"config|resetstat".to_string()));
    assert!(re.contains(&"config|rewrite".to_string()));
    let admin = names(c.cmd(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "admin"]));
    assert!(admin.contains(&"config|set".to_string()));
    assert!(!admin.contains(&"get".to_string()));
    assert_eq!(
        c.cmd(&["COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"]),
        Reply::Array(vec![])
    );
}

/// The flags of COMMAND INFO's first entry.
fn info_flags(c: &mut common::Conn, name: &str) -> Vec<String> {
    match c.cmd(&["COMMAND", "INFO", name]) {
        Reply::Array(rows) => match &rows[0] {
            Reply::Array(row) => names(row[2].clone()),
            other => panic!("row expected, got {other:?}"),
        },
        other => panic!("array expected, got {other:?}"),
    }
}

#[test]
fn command_info_marks_movablekeys_from_key_specs() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    for name in [
        "zunionstore",
        "xread",
        "sort",
        "sort_ro",
        "migrate",
        "georadius",
    ] {
        assert!(
            info_flags(&mut c, name).contains(&"movablekeys".to_string()),
            "{name}"
        );
    }
    for name in [
        "set",
        "get",
        "mset",
        "bitfield",
        "lmove",
        "blpop",
        "georadius_ro",
    ] {
        assert!(
            !info_flags(&mut c, name).contains(&"movablekeys".to_string()),
            "{name}"
        );
    }
    assert_eq!(
        info_flags(&mut c, "xread"),
        ["readonly", "blocking", "movablekeys"]
    );
}

#[test]
fn command_info_lists_subcommands_and_hides_internal_flags() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    // A container shows Redis's own (empty) flags and key range; its
    // subcommands come as full rows of their own.
    let Reply::Array(rows) = c.cmd(&["COMMAND", "INFO", "object"]) else {
        panic!("rows");
    };
    let Reply::Array(row) = &rows[0] else {
        panic!("row");
    };
    assert!(names(row[2].clone()).is_empty());
    assert_eq!(&row[3..6], &[Reply::Int(0), Reply::Int(0), Reply::Int(0)]);
    let Reply::Array(subs) = &row[9] else {
        panic!("subcommands");
    };
    let encoding = subs
        .iter()
        .find_map(|s| match s {
            Reply::Array(sub) if sub[0] == bulk("object|encoding") => Some(sub.clone()),
            _ => None,
        })
        .expect("object|encoding");
    assert_eq!(encoding[1], Reply::Int(3));
    assert_eq!(names(encoding[2].clone()), ["readonly"]);
    assert_eq!(
        &encoding[3..6],
        &[Reply::Int(2), Reply::Int(2), Reply::Int(1)]
    );
    // may_replicate and sentinel are Redis's internal flags.
    assert_eq!(
        info_flags(&mut c, "eval"),
        [
            "noscript",
            "stale",
            "skip_monitor",
            "no_mandatory_keys",
            "movablekeys"
        ]
    );
    assert!(info_flags(&mut c, "auth").contains(&"loading".to_string()));
}

#[test]
fn cluster_is_disabled_as_on_a_standalone_redis() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let disabled = err("ERR This instance has cluster support disabled");
    assert_eq!(c.cmd(&["CLUSTER", "INFO"]), disabled);
    assert_eq!(c.cmd(&["CLUSTER", "HELP"]), disabled);
    assert_eq!(
        c.cmd(&["CLUSTER", "INFO", "x"]),
        err("ERR wrong number of arguments for 'cluster|info' command")
    );
    assert_eq!(
        c.cmd(&["CLUSTER", "foo"]),
        err("ERR unknown subcommand 'foo'. Try CLUSTER HELP.")
    );
}

#[test]
fn client_kill_with_illegal_arguments() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    assert_eq!(
        c.cmd(&["CLIENT", "KILL"]),
        err("ERR wrong number of arguments for 'client|kill' command")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "id", "10", "wrong_arg"]),
        err("ERR syntax error")
    );
    for id in ["str", "-1", "0"] {
        assert_eq!(
            c.cmd(&["CLIENT", "KILL", "id", id]),
            err("ERR client-id should be greater than 0")
        );
    }
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "type", "wrong_type"]),
        err("ERR Unknown client type 'wrong_type'")
    );
    assert_eq!(c.cmd(&["CLIENT", "KILL", "type", "master"]), Reply::Int(0));
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "user", "wrong_user"]),
        err("ERR No such user 'wrong_user'")
    );
    assert_eq!(
        c.cmd(&["CLIENT", "KILL", "skipme", "yes_or_no"]),
        err("ERR syntax error")
    );
}

#[test]
fn client_no_touch_is_unknown_in_redis_7_0() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    assert_eq!(
        c.cmd(&["CLIENT", "NO-TOUCH", "on"]),
        err("ERR unknown subcommand 'NO-TOUCH'. Try CLIENT HELP.")
    );
}

#[test]
fn slow_commands_become_latency_events_and_reset_counts_them() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["CONFIG", "SET", "latency-monitor-threshold", "1"]);
    assert_eq!(
        c.cmd(&["DEBUG", "SLEEP", "0.01"]),
        Reply::Status("OK".into())
    );
    let latest = c.cmd(&["LATENCY", "LATEST"]);
    let Reply::Array(rows) = latest else {
        panic!("array expected");
    };
    let events: Vec<String> = rows
        .iter()
        .map(|r| match r {
            Reply::Array(f) => f[0].text(),
            other => panic!("row expected, got {other:?}"),
        })
        .collect();
    assert_eq!(events, ["command"]);
    assert_eq!(c.cmd(&["LATENCY", "RESET"]), Reply::Int(1));
    assert_eq!(c.cmd(&["LATENCY", "LATEST"]), Reply::Array(vec![]));
}

#[test]
fn role_is_a_master_without_replicas() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    assert_eq!(
        c.cmd(&["ROLE"]),
        Reply::Array(vec![bulk("master"), Reply::Int(0), Reply::Array(vec![])])
    );
}

/// DEBUG OBJECT's line after the address.
fn debug_object_fields(c: &mut common::Conn, key: &str) -> String {
    let line = c.cmd(&["DEBUG", "OBJECT", key]).text();
    let (_, rest) = line.split_once(" refcount:").expect("refcount field");
    let rest = rest.replace(" lru_seconds_idle:0", "");
    // Drop lru:<clock>, which moves with time.
    rest.split(' ')
        .filter(|f| !f.starts_with("lru:"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn debug_object_describes_values_as_redis_7_0() {
    let server = Server::start(&["--enable-debug-command", "yes"]);
    let mut c = server.conn();
    c.cmd(&["SET", "s", "hello"]);
    c.cmd(&["SET", "n", "12345"]);
    c.cmd(&["SADD", "st", "1", "2"]);
    c.cmd(&["RPUSH", "l", "a", "b", "1", "300", "-5", "70000"]);
    let mut big = vec!["RPUSH".to_string(), "big".to_string()];
    big.extend((0..3000).map(|i| format!("element-{i}")));
    let big: Vec<&str> = big.iter().map(String::as_str).collect();
    c.cmd(&big);
    assert_eq!(
        debug_object_fields(&mut c, "s"),
        "1 encoding:embstr serializedlength:6"
    );
    assert_eq!(
        debug_object_fields(&mut c, "n"),
        "1 encoding:int serializedlength:3"
    );
    assert_eq!(
        debug_object_fields(&mut c, "st"),
        "1 encoding:intset serializedlength:13"
    );
    assert_eq!(
        debug_object_fields(&mut c, "l"),
        "1 encoding:quicklist serializedlength:29 ql_nodes:1 ql_avg_node:6.00 \
         ql_listpack_max:-2 ql_compressed:0 ql_uncompressed_size:26"
    );
    let fields = debug_object_fields(&mut c, "big");
    assert!(
        fields.ends_with(
            "ql_nodes:6 ql_avg_node:500.00 ql_listpack_max:-2 ql_compressed:0 \
             ql_uncompressed_size:40932"
        ),
        "{fields}"
    );
    assert_eq!(c.cmd(&["DEBUG", "OBJECT", "nokey"]), err("ERR no such key"));
    assert_eq!(c.cmd(&["DEBUG", "ERROR", "foo"]), err("foo"));
    assert_eq!(
        c.cmd(&["DEBUG", "ERROR", "foo", "bar"]),
        err("ERR unknown subcommand or wrong number of arguments for 'ERROR'. Try DEBUG HELP.")
    );
}

#[test]
fn lolwut_prints_the_version_or_art_by_version() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    assert_eq!(c.cmd(&["LOLWUT"]), bulk("Redis ver. 7.0.15\n"));
    assert_eq!(
        c.cmd(&["LOLWUT", "VERSION", "7"]),
        bulk("Redis ver. 7.0.15\n")
    );
    assert_eq!(
        c.cmd(&["LOLWUT", "VERSION", "5", "1", "1", "1"]),
        bulk("\u{280b}\n\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n")
    );
    assert_eq!(
        c.cmd(&["LOLWUT", "VERSION", "x"]),
        err("ERR value is not an integer or out of range")
    );
    assert_eq!(
        c.cmd(&["LOLWUT", "VERSION", "6", "x"]),
        err("ERR value is not an integer or out of range")
    );
}

#[test]
fn memory_usage_parses_samples_as_redis_does() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["SET", "s", "hello"]);
    assert!(matches!(c.cmd(&["MEMORY", "USAGE", "s"]), Reply::Int(n) if n > 0));
    assert!(matches!(
        c.cmd(&["MEMORY", "USAGE", "s", "SAMPLES", "0", "SAMPLES", "5"]),
        Reply::Int(n) if n > 0
    ));
    assert_eq!(c.cmd(&["MEMORY", "USAGE", "nokey"]), Reply::Nil);
    assert_eq!(
        c.cmd(&["MEMORY", "USAGE", "s", "SAMPLES", "x"]),
        err("ERR value is not an integer or out of range")
    );
    for bad in [
        &["SAMPLES", "-1"][..],
        &["foo", "1"],
        &["foo"],
        &["SAMPLES"],
    ] {
        let mut args = vec!["MEMORY", "USAGE", "s"];
        args.extend_from_slice(bad);
        assert_eq!(c.cmd(&args), err("ERR syntax error"), "{bad:?}");
    }
}

#[test]
fn container_subcommands_are_checked_as_redis_7_does() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    assert_eq!(
        c.cmd(&["MEMORY", "USAGE"]),
        err("ERR wrong number of arguments for 'memory|usage' command")
    );
    assert_eq!(
        c.cmd(&["LATENCY", "HISTORY"]),
        err("ERR wrong number of arguments for 'latency|history' command")
    );
    assert_eq!(
        c.cmd(&["SLOWLOG", "LEN", "x"]),
        err("ERR wrong number of arguments for 'slowlog|len' command")
    );
    assert_eq!(
        c.cmd(&["MEMORY", "foo"]),
        err("ERR unknown subcommand 'foo'. Try MEMORY HELP.")
    );
    // Refused calls are not timed.
    c.cmd(&["CONFIG", "RESETSTAT"]);
    c.cmd(&["LATENCY", "foo"]);
    c.cmd(&["MEMORY", "USAGE"]);
    let names = names(c.cmd(&["LATENCY", "HISTOGRAM"]));
    assert_eq!(
        names.iter().step_by(2).collect::<Vec<_>>(),
        ["config|resetstat"]
    );
}

#[test]
fn command_info_shows_key_specs() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    let Reply::Array(rows) = c.cmd(&["COMMAND", "INFO", "xread"]) else {
        panic!("array expected");
    };
    let Reply::Array(row) = &rows[0] else {
        panic!("row expected");
    };
    let status = |s: &str| Reply::Status(s.into());
    let spec = Reply::Array(vec![
        bulk("flags"),
        Reply::Array(vec![status("RO"), status("access")]),
        bulk("begin_search"),
        Reply::Array(vec![
            bulk("type"),
            bulk("keyword"),
            bulk("spec"),
            Reply::Array(vec![
                bulk("keyword"),
                bulk("STREAMS"),
                bulk("startfrom"),
                Reply::Int(1),
            ]),
        ]),
        bulk("find_keys"),
        Reply::Array(vec![
            bulk("type"),
            bulk("range"),
            bulk("spec"),
            Reply::Array(vec![
                bulk("lastkey"),
                Reply::Int(-1),
                bulk("keystep"),
                Reply::Int(1),
                bulk("limit"),
                Reply::Int(2),
            ]),
        ]),
    ]);
    assert_eq!(row[8], Reply::Array(vec![spec]));
    assert_eq!(row[9], Reply::Array(vec![]));
}

/// The arguments of each SLOWLOG entry (its fourth field), newest first.
fn slowlog_args(c: &mut common::Conn) -> Vec<Reply> {
    let Reply::Array(entries) = c.cmd(&["SLOWLOG", "GET"]) else {
        panic!("SLOWLOG GET is an array");
    };
    entries
        .into_iter()
        .map(|e| match e {
            Reply::Array(fields) => fields[3].clone(),
            other => panic!("entry {other:?}"),
        })
        .collect()
}

/// SLOWLOG hides secrets as Redis does: everything after ACL SETUSER,
/// CONFIG SET's masterauth value, MIGRATE's AUTH password.
#[test]
fn slowlog_redacts_secrets() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    c.cmd(&["SLOWLOG", "RESET"]);
    c.cmd(&["ACL", "SETUSER", "someone", ">secret", "+get"]);
    c.cmd(&["CONFIG", "SET", "masterauth", "secret"]);
    c.cmd(&[
        "MIGRATE",
        "127.0.0.1",
        "1",
        "nokey",
        "0",
        "10",
        "AUTH",
        "secret",
    ]);
    c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    let logged = slowlog_args(&mut c);
    assert_eq!(
        logged[..3],
        [
            bulks(&[
                "MIGRATE",
                "127.0.0.1",
                "1",
                "nokey",
                "0",
                "10",
                "AUTH",
                "(redacted)"
            ]),
            bulks(&["CONFIG", "SET", "masterauth", "(redacted)"]),
            bulks(&["ACL", "SETUSER", "(redacted)", "(redacted)", "(redacted)"]),
        ]
    );
}

/// EXEC itself is not slow-logged; the commands it ran are, one by one.
#[test]
fn slowlog_logs_the_commands_exec_ran() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["CONFIG", "SET", "slowlog-log-slower-than", "100000"]);
    c.cmd(&["SLOWLOG", "RESET"]);
    c.cmd(&["MULTI"]);
    c.cmd(&["DEBUG", "SLEEP", "0.2"]);
    c.cmd(&["EXEC"]);
    assert_eq!(slowlog_args(&mut c), [bulks(&["DEBUG", "SLEEP", "0.2"])]);
}
