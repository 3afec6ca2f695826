//! ACL and AUTH through a real connection.

mod common;
use common::{bulk, Reply, Server};

fn err(s: &str) -> Reply {
    Reply::Error(s.to_string())
}

#[test]
fn requirepass_and_auth() {
    let s = Server::start(&["--requirepass", "secret"]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["GET", "k"]), err("NOAUTH Authentication required."));
    assert_eq!(
        c.cmd(&["AUTH", "wrong"]),
        err("WRONGPASS invalid username-password pair or user is disabled.")
    );
    assert_eq!(c.cmd(&["AUTH", "secret"]), Reply::Status("OK".into()));
    assert_eq!(c.cmd(&["GET", "k"]), Reply::Nil);
    let mut c2 = s.conn();
    assert_eq!(
        c2.cmd(&["AUTH", "default", "secret"]),
        Reply::Status("OK".into())
    );
    assert_eq!(c2.cmd(&["ACL", "WHOAMI"]), bulk("default"));
}

#[test]
fn auth_without_password_configured() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["AUTH", "x"]),
        err("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
    );
}

#[test]
fn users_commands_and_keys() {
    let s = Server::start(&[]);
    let mut admin = s.conn();
    assert_eq!(
        admin.cmd(&["ACL", "SETUSER", "alice", "on", ">pw", "~cache:*", "-@all", "+get", "+set"]),
        Reply::Status("OK".into())
    );
    let mut alice = s.conn();
    assert_eq!(
        alice.cmd(&["AUTH", "alice", "pw"]),
        Reply::Status("OK".into())
    );
    assert_eq!(
        alice.cmd(&["SET", "cache:1", "v"]),
        Reply::Status("OK".into())
    );
    assert_eq!(alice.cmd(&["GET", "cache:1"]), bulk("v"));
    assert_eq!(
        alice.cmd(&["GET", "other"]),
        err("NOPERM this user has no permissions to access one of the keys used as arguments")
    );
    assert_eq!(
        alice.cmd(&["DEL", "cache:1"]),
        err("NOPERM this user has no permissions to run the 'del' command")
    );
    // The denials are in the ACL LOG, newest first.
    match admin.cmd(&["ACL", "LOG"]) {
        Reply::Array(entries) => assert_eq!(entries.len(), 2),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        admin.cmd(&["ACL", "DRYRUN", "alice", "del", "x"]),
        bulk("This user has no permissions to run the 'del' command")
    );
    assert_eq!(
        admin.cmd(&["ACL", "DRYRUN", "alice", "get", "cache:x"]),
        Reply::Status("OK".into())
    );
    match admin.cmd(&["ACL", "LIST"]) {
        Reply::Array(lines) => {
            assert_eq!(lines.len(), 2);
            // Exactly what Redis 7.0.15 prints for the same rules.
            assert!(lines[0].text().starts_with("user alice on #"));
            assert!(lines[0]
                .text()
                .ends_with("~cache:* resetchannels -@all +get +set"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        admin.cmd(&["ACL", "DELUSER", "default"]),
        err("ERR The 'default' user cannot be removed")
    );
    assert_eq!(
        admin.cmd(&["ACL", "DELUSER", "alice", "nobody"]),
        Reply::Int(1)
    );
    assert_eq!(
        admin.cmd(&["ACL", "SETUSER", "bob", "+nosuch"]),
        err("ERR Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL")
    );
}

#[test]
fn acl_cat_and_genpass() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    match c.cmd(&["ACL", "CAT"]) {
        Reply::Array(cats) => {
            assert!(cats.contains(&bulk("keyspace")) && cats.contains(&bulk("string")))
        }
        other => panic!("{other:?}"),
    }
    match c.cmd(&["ACL", "CAT", "string"]) {
        Reply::Array(cmds) => assert!(cmds.contains(&bulk("get")) && !cmds.contains(&bulk("del"))),
        other => panic!("{other:?}"),
    }
    assert_eq!(c.cmd(&["ACL", "GENPASS"]).text().len(), 64);
    assert_eq!(c.cmd(&["ACL", "GENPASS", "5"]).text().len(), 2);
    assert_eq!(
        c.cmd(&["ACL", "CAT", "nope"]),
        err("ERR Unknown category 'nope'")
    );
}

#[test]
fn acl_save_and_load_with_an_aclfile() {
    let dir = std::env::temp_dir().join(format!("ferredis-acl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let aclfile = dir.join("users.acl");
    std::fs::write(
        &aclfile,
        "user default on nopass ~* &* +@all\nuser carol on >pw ~* +@read\n",
    )
    .unwrap();
    let s = Server::start_in(&dir, &["--aclfile", aclfile.to_str().unwrap()]);
    let mut c = s.conn();
    assert_eq!(c.cmd(&["ACL", "LOAD"]), Reply::Status("OK".into()));
    assert_eq!(
        c.cmd(&["ACL", "USERS"]),
        Reply::Array(vec![bulk("carol"), bulk("default")])
    );
    assert_eq!(
        c.cmd(&["ACL", "SETUSER", "dave", "on", ">x"]),
        Reply::Status("OK".into())
    );
    assert_eq!(c.cmd(&["ACL", "SAVE"]), Reply::Status("OK".into()));
    let saved = std::fs::read_to_string(&aclfile).unwrap();
    assert!(saved.contains("user dave on"), "{saved}");
}

#[test]
fn selectors_channels_and_dryrun() {
    let s = Server::start(&[]);
    let mut admin = s.conn();
    let ok = Reply::Status("OK".into());
    assert_eq!(
        admin.cmd(&["ACL", "SETUSER", "w", "%R~foo", "%W~foo", "%RW~bar", "(~x", "-@all", "+get)"]),
        ok
    );
    match admin.cmd(&["ACL", "LIST"]) {
        Reply::Array(lines) => assert_eq!(
            lines[1].text(),
            "user w off ~foo ~bar resetchannels -@all (~x resetchannels -@all +get)"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        admin.cmd(&["ACL", "SETUSER", "r", "on", "nopass", "%R~read*", "&news", "+@all"]),
        ok
    );
    assert_eq!(admin.cmd(&["ACL", "DRYRUN", "r", "GET", "read1"]), ok);
    assert_eq!(
        admin.cmd(&["ACL", "DRYRUN", "r", "SET", "read1", "v"]),
        bulk("This user has no permissions to access the 'read1' key")
    );
    assert_eq!(
        admin.cmd(&["ACL", "DRYRUN", "r", "PUBLISH", "sport", "x"]),
        bulk("This user has no permissions to access the 'sport' channel")
    );
    let mut r = s.conn();
    assert_eq!(r.cmd(&["AUTH", "r", "x"]), ok);
    assert_eq!(r.cmd(&["PUBLISH", "news", "hi"]), Reply::Int(0));
    assert_eq!(
        r.cmd(&["PUBLISH", "sport", "hi"]),
        err("NOPERM this user has no permissions to access one of the channels used as arguments")
    );
}

#[test]
fn sort_patterns_need_read_access_to_every_key() {
    let s = Server::start(&[]);
    let mut admin = s.conn();
    assert_eq!(admin.cmd(&["SET", "v1", "1"]), Reply::Status("OK".into()));
    assert_eq!(admin.cmd(&["LPUSH", "mylist", "1"]), Reply::Int(1));
    let setuser = |admin: &mut common::Conn, rule: &str| {
        assert_eq!(
            admin.cmd(&["ACL", "SETUSER", "sorter", "reset", "on", "nopass", rule]),
            Reply::Status("OK".into())
        );
    };
    setuser(&mut admin, "(+sort ~mylist %W~*)");
    let mut c = s.conn();
    assert_eq!(c.cmd(&["AUTH", "sorter", "x"]), Reply::Status("OK".into()));
    assert_eq!(
        c.cmd(&["SORT", "mylist", "BY", "v*"]),
        err("ERR BY option of SORT denied due to insufficient ACL permissions.")
    );
    assert_eq!(
        c.cmd(&["SORT", "mylist", "GET", "v*"]),
        err("ERR GET option of SORT denied due to insufficient ACL permissions.")
    );
    // BY without '*' reads no key: allowed.
    assert_eq!(
        c.cmd(&["SORT", "mylist", "BY", "nosort"]),
        Reply::Array(vec![bulk("1")])
    );
    setuser(&mut admin, "(+sort ~mylist %R~*)");
    assert_eq!(
        c.cmd(&["SORT", "mylist", "BY", "v*"]),
        Reply::Array(vec![bulk("1")])
    );
}

#[test]
fn acl_log_names_the_key_of_the_selector_that_got_furthest() {
    let s = Server::start(&[]);
    let mut admin = s.conn();
    assert_eq!(
        admin.cmd(&[
            "ACL",
            "SETUSER",
            "sel",
            "on",
            "nopass",
            "+mget",
            "~key",
            "(+mget ~key ~otherkey)"
        ]),
        Reply::Status("OK".into())
    );
    let mut c = s.conn();
    assert_eq!(c.cmd(&["AUTH", "sel", "x"]), Reply::Status("OK".into()));
    assert!(c
        .cmd(&["MGET", "otherkey", "someotherkey"])
        .text()
        .starts_with("NOPERM"));
    let log = admin.cmd(&["ACL", "LOG", "1"]);
    let Reply::Array(entries) = log else {
        panic!("{log:?}")
    };
    let Some(Reply::Array(entry)) = entries.first() else {
        panic!("no entry")
    };
    let object = entry
        .chunks(2)
        .find(|kv| kv[0].text() == "object")
        .map(|kv| kv[1].text());
    assert_eq!(object.as_deref(), Some("someotherkey"));
}

/// A denial inside a script is logged with context `lua` (ACL LOG).
#[test]
fn acl_log_context_of_a_denial_in_a_script_is_lua() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&[
        "ACL", "SETUSER", "scripter", "on", ">pw", "~*", "+eval", "+auth",
    ]);
    assert_eq!(
        c.cmd(&["AUTH", "scripter", "pw"]),
        Reply::Status("OK".into())
    );
    assert!(matches!(
        c.cmd(&["EVAL", "redis.call('incr','foo')", "0"]),
        Reply::Error(_)
    ));
    assert_eq!(c.cmd(&["AUTH", "default", ""]), Reply::Status("OK".into()));
    let log = c.cmd(&["ACL", "LOG", "1"]);
    let Reply::Array(entries) = log else {
        panic!("ACL LOG: {log:?}");
    };
    let Some(Reply::Array(fields)) = entries.first() else {
        panic!("one entry");
    };
    let field = |name: &str| {
        fields
            .chunks(2)
            .find(|kv| kv[0] == bulk(name))
            .map(|kv| kv[1].clone())
    };
    assert_eq!(field("context"), Some(bulk("lua")));
    assert_eq!(field("object"), Some(bulk("incr")));
}
