//! Connection commands: PING, ECHO, QUIT, SELECT, HELLO, AUTH, CLIENT, RESET.
//!
//! These change or describe the connection itself, not the keyspace, so
//! they run without the store lock. The per-connection state lives in
//! `ClientState` (this thread's) and `ClientInfo` (what CLIENT LIST shows).

use std::sync::atomic::Ordering;

use super::{cmd, Command, Ctx, Group, Handler};
use crate::client::{ClientInfo, ReplyMode};
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;

use Handler::Conn;

/// The version we report to clients (they read it to enable features).
pub const REDIS_VERSION: &str = "7.0.15";

/// The connection family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd("ping", -1, "fast", (0, 0, 0), Group::Connection, "[message]", "Ping the server", Conn(ping_command)),
    cmd("echo", 2, "loading stale fast", (0, 0, 0), Group::Connection, "message", "Echo the given string", Conn(echo_command)),
    cmd("quit", -1, "noscript loading stale fast no_auth allow_busy", (0, 0, 0), Group::Connection, "", "Close the connection", Conn(quit_command)),
    cmd("select", 2, "loading stale fast", (0, 0, 0), Group::Connection, "index", "Change the selected database for the current connection", Conn(select_command)),
    cmd("hello", -1, "noscript loading stale fast no_auth allow_busy", (0, 0, 0), Group::Connection, "[protover [AUTH username password] [SETNAME clientname]]", "Handshake with Redis", Conn(hello_command)),
    cmd("auth", -2, "noscript loading stale fast no_auth allow_busy", (0, 0, 0), Group::Connection, "[username] password", "Authenticate to the server", Conn(auth_command)),
    cmd("client", -2, "admin", (0, 0, 0), Group::Connection, "ID|SETNAME|GETNAME|LIST|INFO|SETINFO|KILL|NO-EVICT|REPLY|PAUSE|UNPAUSE|GETREDIR|HELP [arguments]", "A container for client connection commands", Conn(client_command)),
    cmd("reset", 1, "noscript loading stale fast no_auth allow_busy", (0, 0, 0), Group::Connection, "", "Reset the connection", Conn(reset_command)),
];

/// PING [message] — PONG, or the message as a bulk string.
fn ping_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    match args.len() {
        1 => ctx.reply.simple("PONG"),
        2 => ctx.reply.bulk(args[1]),
        _ => return Err(CmdError::WrongArity("ping".into())),
    }
    Ok(())
}

/// ECHO message — the message.
fn echo_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    ctx.reply.bulk(args[1]);
    Ok(())
}

/// QUIT — `+OK`, then the connection closes once the reply is sent.
fn quit_command(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    ctx.reply.ok();
    ctx.client.close_after_reply = true;
    Ok(())
}

/// SELECT index — `+OK`; later commands use that database.
fn select_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let n = parse_i64(args[1]).ok_or(CmdError::NotInteger)?;
    let databases = ctx.server.config().get_i64("databases");
    if n < 0 || n >= databases {
        return Err(CmdError::DbIndexOutOfRange);
    }
    ctx.client.select(n as usize);
    ctx.reply.ok();
    Ok(())
}

/// Checks a password for a user: the default user's is requirepass.
fn check_password(ctx: &Ctx, user: &[u8], password: &[u8]) -> bool {
    let acl = ctx.server.acl.read().unwrap_or_else(|p| p.into_inner());
    acl.authenticate(&String::from_utf8_lossy(user), password)
}

/// Records that the connection is now authenticated as `user`.
fn set_user(ctx: &mut Ctx, user: &[u8]) {
    ctx.client.authenticated = true;
    ctx.client.user = String::from_utf8_lossy(user).into_owned();
    *ctx.client
        .info
        .user
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = ctx.client.user.clone();
}

/// AUTH [username] password — `+OK`, or WRONGPASS.
fn auth_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(CmdError::Syntax);
    }
    if args.len() == 2
        && ctx
            .server
            .config()
            .get("requirepass")
            .unwrap_or("")
            .is_empty()
        && !ctx.server.auth_required()
    {
        return Err(CmdError::err("AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"));
    }
    let (user, password) = if args.len() == 3 {
        (args[1], args[2])
    } else {
        (&b"default"[..], args[1])
    };
    if !check_password(ctx, user, password) {
        log::warn!("AUTH failed for a client (password not logged)");
        let info = client_line(&ctx.client.info, ctx.now_ms);
        let name = String::from_utf8_lossy(user).into_owned();
        ctx.server
            .acl
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .log_denial("auth", "AUTH".into(), name, info, ctx.now_ms);
        return Err(CmdError::WrongPass);
    }
    set_user(ctx, user);
    ctx.reply.ok();
    Ok(())
}

/// HELLO [protover [AUTH user pass] [SETNAME name]] — a map describing the
/// server; switches the connection to RESP2 or RESP3.
fn hello_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut proto = ctx.reply.proto;
    if let Some(v) = args.get(1) {
        let v = parse_i64(v)
            .ok_or_else(|| CmdError::err("Protocol version is not an integer or out of range"))?;
        if !(2..=3).contains(&v) {
            return Err(CmdError::Raw("NOPROTO unsupported protocol version".into()));
        }
        proto = v as u8;
    }
    let mut name: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        match args[i].to_ascii_uppercase().as_slice() {
            b"AUTH" if i + 2 < args.len() => {
                if !check_password(ctx, args[i + 1], args[i + 2]) {
                    return Err(CmdError::WrongPass);
                }
                set_user(ctx, args[i + 1]);
                i += 3;
            }
            b"SETNAME" if i + 1 < args.len() => {
                validate_client_name(args[i + 1])?;
                name = Some(args[i + 1]);
                i += 2;
            }
            _ => {
                return Err(CmdError::err(format!(
                    "Syntax error in HELLO option '{}'",
                    String::from_utf8_lossy(args[i])
                )))
            }
        }
    }
    if !ctx.client.authenticated && ctx.server.auth_required() {
        return Err(CmdError::Raw("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time".into()));
    }
    if let Some(n) = name {
        *ctx.client
            .info
            .name
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = n.to_vec();
    }
    ctx.reply.proto = proto;
    ctx.client.info.resp.store(proto, Ordering::Relaxed);
    ctx.reply.map(7);
    ctx.reply.bulk(b"server");
    ctx.reply.bulk(b"redis");
    ctx.reply.bulk(b"version");
    ctx.reply.bulk(REDIS_VERSION.as_bytes());
    ctx.reply.bulk(b"proto");
    ctx.reply.integer(proto as i64);
    ctx.reply.bulk(b"id");
    ctx.reply.integer(ctx.client.id as i64);
    ctx.reply.bulk(b"mode");
    ctx.reply.bulk(b"standalone");
    ctx.reply.bulk(b"role");
    ctx.reply.bulk(b"master");
    ctx.reply.bulk(b"modules");
    ctx.reply.array(0);
    Ok(())
}

fn validate_client_name(name: &[u8]) -> CmdResult {
    if name.iter().any(|&b| !(b'!'..=b'~').contains(&b)) {
        return Err(CmdError::err(
            "Client names cannot contain spaces, newlines or special characters.",
        ));
    }
    Ok(())
}

/// Records the command a client ran last (CLIENT LIST `cmd=`): the
/// command at `index` of the table, or for a container command the
/// subcommand too ("config|get").
pub fn record_last_command(info: &ClientInfo, index: usize, command: &Command, args: &[&[u8]]) {
    match args.get(1).filter(|_| command.is_container()) {
        Some(sub) => info.last_cmd.set_text(format!(
            "{}|{}",
            command.name,
            String::from_utf8_lossy(sub).to_ascii_lowercase()
        )),
        None => info.last_cmd.set_index(index),
    }
}

/// One CLIENT LIST / CLIENT INFO line, with Redis's fields.
pub fn client_line(info: &ClientInfo, now_ms: i64) -> String {
    let (omem, oll) = info.output_queued();
    let mem = &info.memory;
    let qbuf = match mem.running_qbuf_bytes.load(Ordering::Relaxed) {
        0 => mem.qbuf_bytes.load(Ordering::Relaxed),
        running => running,
    };
    let name =
        String::from_utf8_lossy(&info.name.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    let (lib_name, lib_ver) = info.lib.lock().unwrap_or_else(|p| p.into_inner()).clone();
    let last_cmd = info.last_cmd.get();
    format!(
        "id={} addr={} laddr={} fd=8 name={} age={} idle={} flags={} db={} sub={} psub={} ssub={} multi={} qbuf={} qbuf-free={} argv-mem={} multi-mem={} rbs=16384 rbp=0 obl=0 oll={} omem={} tot-mem={} events=r cmd={} user={} redir={} resp={} lib-name={} lib-ver={}",
        info.id,
        info.addr,
        info.laddr,
        name,
        (now_ms - info.created_ms) / 1000,
        (now_ms - info.last_interaction_ms.load(Ordering::Relaxed)) / 1000,
        info.flags(),
        info.db.load(Ordering::Relaxed),
        info.sub_counts[0].load(Ordering::Relaxed),
        info.sub_counts[1].load(Ordering::Relaxed),
        info.sub_counts[2].load(Ordering::Relaxed),
        info.multi_len.load(Ordering::Relaxed),
        qbuf,
        mem.qbuf_alloc_bytes
            .load(Ordering::Relaxed)
            .saturating_sub(qbuf),
        mem.argv_bytes.load(Ordering::Relaxed),
        mem.multi_bytes.load(Ordering::Relaxed),
        oll,
        omem,
        crate::client_memory::total_bytes(info),
        last_cmd,
        info.user.lock().unwrap_or_else(|p| p.into_inner()),
        info.tracking.redirect.load(Ordering::Relaxed),
        info.resp.load(Ordering::Relaxed),
        lib_name,
        lib_ver,
    )
}

/// CLIENT's subcommands and their arities.
pub const CLIENT_SUBCOMMANDS: &[(&str, i32)] = &[
    ("id", 2),
    ("info", 2),
    ("list", -2),
    ("getname", 2),
    ("setname", 3),
    ("setinfo", 4),
    ("kill", -3),
    ("pause", -3),
    ("unpause", 2),
    ("reply", 3),
    ("no-evict", 3),
    ("getredir", 2),
    ("unblock", -3),
    ("tracking", -3),
    ("trackinginfo", 2),
    ("caching", 3),
    ("help", 2),
];

/// CLIENT HELP, Redis 7.0's text.
const CLIENT_HELP: &[&str] = &[
    "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
    "HELP",
    "    Prints this help.",
];

fn unknown_subcommand(cmd: &str, sub: &[u8]) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(sub),
        cmd.to_ascii_uppercase()
    ))
}

/// CLIENT <subcommand> ... — see CLIENT HELP.
fn client_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    super::server::check_subcommand("client", CLIENT_SUBCOMMANDS, args)?;
    let sub = args[1].to_ascii_uppercase();
    let argc = args.len();
    match (sub.as_slice(), argc) {
        (b"ID", 2) => ctx.reply.integer(ctx.client.id as i64),
        (b"GETNAME", 2) => {
            let name = ctx
                .client
                .info
                .name
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            if name.is_empty() {
                ctx.reply.null();
            } else {
                ctx.reply.bulk(&name);
            }
        }
        (b"SETNAME", 3) => {
            validate_client_name(args[2])?;
            *ctx.client
                .info
                .name
                .lock()
                .unwrap_or_else(|p| p.into_inner()) = args[2].to_vec();
            ctx.reply.ok();
        }
        (b"SETINFO", 4) => {
            let value = String::from_utf8_lossy(args[3]).into_owned();
            if value.contains([' ', '\n']) {
                return Err(CmdError::err(format!(
                    "{} cannot contain spaces, newlines or special characters.",
                    String::from_utf8_lossy(args[2])
                )));
            }
            let mut lib = ctx
                .client
                .info
                .lib
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            match args[2].to_ascii_uppercase().as_slice() {
                b"LIB-NAME" => lib.0 = value,
                b"LIB-VER" => lib.1 = value,
                _ => {
                    return Err(CmdError::err(format!(
                        "Unrecognized option '{}'",
                        String::from_utf8_lossy(args[2])
                    )))
                }
            }
            drop(lib);
            ctx.reply.ok();
        }
        (b"INFO", 2) => {
            let line = client_line(&ctx.client.info, ctx.now_ms) + "\n";
            ctx.reply.verbatim(line.as_bytes());
        }
        (b"LIST", _) => {
            let mut ids: Option<Vec<u64>> = None;
            let mut i = 2;
            while i < argc {
                match args[i].to_ascii_uppercase().as_slice() {
                    b"TYPE" if i + 1 < argc => {
                        let t = args[i + 1].to_ascii_lowercase();
                        if !matches!(
                            t.as_slice(),
                            b"normal" | b"master" | b"replica" | b"slave" | b"pubsub"
                        ) {
                            return Err(CmdError::err(format!(
                                "Unknown client type '{}'",
                                String::from_utf8_lossy(args[i + 1])
                            )));
                        }
                        if t != b"normal" {
                            ids = Some(Vec::new());
                        }
                        i += 2;
                    }
                    b"ID" if i + 1 < argc => {
                        let mut list = ids.take().unwrap_or_default();
                        for a in &args[i + 1..] {
                            let id =
                                parse_i64(a).ok_or_else(|| CmdError::err("Invalid client ID"))?;
                            // Redis accepts any integer here; 0 just matches nobody.
                            list.push(id.max(0) as u64);
                        }
                        ids = Some(list);
                        i = argc;
                    }
                    _ => return Err(CmdError::Syntax),
                }
            }
            crate::client_memory::settle_other_clients(ctx.server, ctx.client.id);
            let clients = ctx.server.client_infos();
            let mut text = String::new();
            for c in clients
                .iter()
                .filter(|c| ids.as_ref().is_none_or(|ids| ids.contains(&c.id)))
                // A killed client is gone for Redis even before its thread exits.
                .filter(|c| !c.killed.load(std::sync::atomic::Ordering::Relaxed))
            {
                text.push_str(&client_line(c, ctx.now_ms));
                text.push('\n');
            }
            ctx.reply.verbatim(text.as_bytes());
        }
        (b"UNBLOCK", 3 | 4) => {
            // CLIENT UNBLOCK id [TIMEOUT|ERROR]: 1 when the client was
            // blocked (see blocking.rs), 0 otherwise.
            let id = parse_i64(args[2]).ok_or(CmdError::NotInteger)?;
            let error = match args.get(3).map(|a| a.to_ascii_uppercase()) {
                None => false,
                Some(r) if r == b"TIMEOUT" => false,
                Some(r) if r == b"ERROR" => true,
                Some(_) => {
                    return Err(CmdError::err(
                        "CLIENT UNBLOCK reason should be TIMEOUT or ERROR",
                    ))
                }
            };
            let unblocked =
                u64::try_from(id).is_ok_and(|id| ctx.server.blocking.unblock(id, error));
            ctx.reply.integer(i64::from(unblocked));
        }
        (b"KILL", 3) => {
            // Old form: CLIENT KILL addr:port.
            let addr = String::from_utf8_lossy(args[2]).into_owned();
            let killed = kill_matching(ctx, |c| c.addr == addr, false);
            if killed == 0 {
                return Err(CmdError::err("No such client"));
            }
            ctx.reply.ok();
        }
        (b"KILL", n) if n >= 4 => {
            if !n.is_multiple_of(2) {
                return Err(CmdError::Syntax);
            }
            let mut filters: Vec<(Vec<u8>, String)> = Vec::new();
            let mut skipme = true;
            for pair in args[2..].chunks(2) {
                let key = pair[0].to_ascii_uppercase();
                let val = String::from_utf8_lossy(pair[1]).into_owned();
                match key.as_slice() {
                    b"ID" => {
                        parse_i64(pair[1])
                            .filter(|&n| n > 0)
                            .ok_or_else(|| CmdError::err("client-id should be greater than 0"))?;
                    }
                    b"USER" => {
                        let acl = ctx.server.acl.read().unwrap_or_else(|p| p.into_inner());
                        if !acl.users.contains_key(&val) {
                            return Err(CmdError::err(format!("No such user '{val}'")));
                        }
                    }
                    b"TYPE" => {
                        let known = ["normal", "master", "replica", "slave", "pubsub"];
                        if !known.contains(&val.to_ascii_lowercase().as_str()) {
                            return Err(CmdError::err(format!("Unknown client type '{val}'")));
                        }
                    }
                    b"ADDR" | b"LADDR" => {}
                    b"SKIPME" => match val.to_ascii_lowercase().as_str() {
                        "yes" => skipme = true,
                        "no" => skipme = false,
                        _ => return Err(CmdError::Syntax),
                    },
                    _ => return Err(CmdError::Syntax),
                }
                filters.push((key, val));
            }
            let killed = kill_matching(
                ctx,
                |c| {
                    filters.iter().all(|(k, v)| match k.as_slice() {
                        b"ID" => c.id.to_string() == *v,
                        b"ADDR" => c.addr == *v,
                        b"LADDR" => c.laddr == *v,
                        b"USER" => *c.user.lock().unwrap_or_else(|p| p.into_inner()) == *v,
                        b"TYPE" => {
                            let subscribed = c
                                .sub_counts
                                .iter()
                                .any(|n| n.load(std::sync::atomic::Ordering::Relaxed) > 0);
                            let replica = crate::replication::is_replica_client(c.id);
                            let master = crate::replication::is_master_client(c.id);
                            match v.to_ascii_lowercase().as_str() {
                                "normal" => !subscribed && !replica && !master,
                                "pubsub" => subscribed,
                                "replica" | "slave" => replica,
                                "master" => master,
                                _ => false,
                            }
                        }
                        _ => true,
                    })
                },
                skipme,
            );
            ctx.reply.integer(killed as i64);
        }
        (b"NO-EVICT", 3) => {
            let on = match args[2].to_ascii_lowercase().as_slice() {
                b"on" => true,
                b"off" => false,
                _ => return Err(CmdError::Syntax),
            };
            ctx.client.info.memory.no_evict.store(on, Ordering::Relaxed);
            ctx.reply.ok();
        }
        (b"REPLY", 3) => match args[2].to_ascii_lowercase().as_slice() {
            b"on" => {
                ctx.client.reply_mode = ReplyMode::On;
                ctx.reply.ok();
            }
            b"off" => ctx.client.reply_mode = ReplyMode::Off,
            b"skip" => {
                if ctx.client.reply_mode != ReplyMode::Off {
                    ctx.client.reply_mode = ReplyMode::SkipNext;
                }
            }
            _ => return Err(CmdError::Syntax),
        },
        (b"UNPAUSE", 2) => {
            ctx.server.pause.unpause();
            ctx.reply.ok();
        }
        (b"PAUSE", 3 | 4) => client_pause(ctx, args)?,
        (b"GETREDIR", 2) => crate::tracking::client_getredir(ctx)?,
        (b"TRACKING", _) => crate::tracking::client_tracking(ctx, args)?,
        (b"CACHING", 3) => crate::tracking::client_caching(ctx, args)?,
        (b"TRACKINGINFO", 2) => crate::tracking::client_trackinginfo(ctx)?,
        (b"HELP", 2) => {
            ctx.reply.array(CLIENT_HELP.len());
            for line in CLIENT_HELP {
                ctx.reply.simple(line);
            }
        }
        _ => return Err(unknown_subcommand("client", args[1])),
    }
    Ok(())
}

/// Kills every client `matches` accepts (not this one when `skip_self`);
/// returns how many. Our own connection closes after its reply.
fn kill_matching(ctx: &mut Ctx, matches: impl Fn(&ClientInfo) -> bool, skip_self: bool) -> usize {
    let clients = ctx.server.client_infos();
    let mut n = 0;
    for c in clients {
        if !matches(&c) {
            continue;
        }
        if c.id == ctx.client.id {
            if skip_self {
                continue;
            }
            ctx.client.close_after_reply = true;
        } else {
            c.kill();
        }
        n += 1;
    }
    n
}

/// RESET — `+RESET`; the connection returns to its just-connected state.
fn reset_command(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    crate::tracking::reset(ctx);
    ctx.client.select(0);
    ctx.reply.proto = 2;
    ctx.client.info.resp.store(2, Ordering::Relaxed);
    ctx.client
        .info
        .name
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clear();
    ctx.client.authenticated = !ctx.server.auth_required();
    ctx.client.user = "default".into();
    *ctx.client
        .info
        .user
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = "default".into();
    ctx.reply.simple("RESET");
    Ok(())
}

/// CLIENT PAUSE timeout-ms [WRITE|ALL] — `+OK`; see pause.rs.
fn client_pause(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    use crate::pause::PauseMode;
    let timeout_ms = crate::number::parse_i64(args[2])
        .filter(|t| *t >= 0)
        .ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
    let mode = match args.get(3).map(|m| m.to_ascii_uppercase()) {
        None => PauseMode::All,
        Some(m) if m == b"ALL" => PauseMode::All,
        Some(m) if m == b"WRITE" => PauseMode::Write,
        Some(_) => return Err(CmdError::Syntax),
    };
    ctx.server
        .pause
        .pause(mode, crate::util::now_ms().saturating_add(timeout_ms));
    ctx.reply.ok();
    Ok(())
}
