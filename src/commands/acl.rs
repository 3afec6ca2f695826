//! The ACL command: users, permissions, the denial log (Redis's acl.c).
//!
//! The rules themselves live in `src/acl/`; this file parses the command's
//! subcommands and formats replies. Permission checks of every other
//! command happen once, in the dispatcher, through [`check_permission`].

use super::{cmd, Command, Ctx, Group, Handler};
use crate::acl::{genpass, meta, password_hex, Denied, Selector, CATEGORIES};
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;

use Handler::Conn;

/// The ACL family's rows of the command table.
pub const COMMANDS: &[Command] = &[cmd(
    "acl",
    -2,
    "admin noscript loading stale",
    (0, 0, 0),
    Group::Server,
    "SETUSER|GETUSER|DELUSER|LIST|USERS|WHOAMI|CAT|GENPASS|LOG|DRYRUN|SAVE|LOAD|HELP [arguments]",
    "A container for Access List Control commands",
    Conn(acl_command),
)];

/// The NOPERM error for a denial, as Redis 7.0 words it.
pub fn noperm(denied: &Denied, command: &str) -> CmdError {
    CmdError::Raw(match denied {
        Denied::Command => {
            format!("NOPERM this user has no permissions to run the '{command}' command")
        }
        Denied::Key(_) => {
            "NOPERM this user has no permissions to access one of the keys used as arguments".into()
        }
        Denied::Channel(_) => {
            "NOPERM this user has no permissions to access one of the channels used as arguments"
                .into()
        }
    })
}

/// The full name Redis reports for `args`: `config|get` for a subcommand.
pub fn full_name(command: &Command, args: &[&[u8]]) -> String {
    let m = meta();
    m.resolve(args)
        .map(|id| m.cmds[id].fullname.clone())
        .unwrap_or_else(|| command.name.to_string())
}

/// Checks the client's user against `args`; logs and returns NOPERM when denied.
pub fn check_permission(
    ctx: &mut Ctx,
    _index: usize,
    command: &'static Command,
    args: &[&[u8]],
) -> CmdResult {
    let verdict = {
        let acl = ctx.server.acl.read().unwrap_or_else(|p| p.into_inner());
        match acl.users.get(&ctx.client.user) {
            Some(user) => user.check(args),
            None => Err(Denied::Command),
        }
    };
    let Err(denied) = verdict else {
        return Ok(());
    };
    let name = full_name(command, args);
    let arg = |i: usize| String::from_utf8_lossy(args.get(i).copied().unwrap_or(b"")).into_owned();
    let (reason, object) = match &denied {
        Denied::Command => ("command", name.clone()),
        Denied::Key(i) => ("key", arg(*i)),
        Denied::Channel(i) => ("channel", arg(*i)),
    };
    let context = if ctx.in_script {
        "lua"
    } else if ctx.client.tx.queue.is_some() || ctx.in_exec {
        "multi"
    } else {
        "toplevel"
    };
    let info = super::connection::client_line(&ctx.client.info, ctx.now_ms);
    ctx.server
        .acl
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .log_denial_in(
            reason,
            context,
            object,
            ctx.client.user.clone(),
            info,
            ctx.now_ms,
        );
    Err(noperm(&denied, &name))
}

/// Arity of each ACL subcommand (Redis 7.0's `acl|...` table rows).
const SUBCOMMAND_ARITY: &[(&str, i32)] = &[
    ("cat", -2),
    ("deluser", -3),
    ("dryrun", -4),
    ("genpass", -2),
    ("getuser", 3),
    ("help", 2),
    ("list", 2),
    ("load", 2),
    ("log", -2),
    ("save", 2),
    ("setuser", -3),
    ("users", 2),
    ("whoami", 2),
];

const ACL_HELP: &[&str] = &[
    "ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
    "HELP",
    "    Print this help.",
];

fn text(arg: &[u8]) -> String {
    String::from_utf8_lossy(arg).into_owned()
}

const NO_ACLFILE: &str = "This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";

/// Redis's addReplySubcommandSyntaxError.
fn subcommand_syntax(sub: &[u8]) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try ACL HELP.",
        text(sub)
    ))
}

fn reply_selector(ctx: &mut Ctx, s: &Selector) {
    ctx.reply.bulk(b"commands");
    ctx.reply.bulk(s.describe_commands().as_bytes());
    ctx.reply.bulk(b"keys");
    ctx.reply.bulk(s.describe_keys().as_bytes());
    ctx.reply.bulk(b"channels");
    ctx.reply.bulk(s.describe_channels().as_bytes());
}

/// Closes the connections of `names` users, except this one (DELUSER).
fn kill_users_clients(ctx: &mut Ctx, names: &[String], skip_self: bool) {
    let clients = ctx.server.client_infos();
    for c in clients {
        let user = c.user.lock().unwrap_or_else(|p| p.into_inner()).clone();
        if names.contains(&user) && !(skip_self && c.id == ctx.client.id) {
            c.kill();
        }
    }
}

/// ACL SETUSER|GETUSER|DELUSER|LIST|USERS|WHOAMI|CAT|GENPASS|LOG|DRYRUN|SAVE|LOAD|HELP.
fn acl_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let sub_lower = text(args[1]).to_ascii_lowercase();
    let argc = args.len();
    let Some(&(_, arity)) = SUBCOMMAND_ARITY.iter().find(|(n, _)| *n == sub_lower) else {
        return Err(CmdError::err(format!(
            "unknown subcommand '{}'. Try ACL HELP.",
            text(args[1])
        )));
    };
    if !super::arity_ok(arity, argc) {
        return Err(CmdError::WrongArity(format!("acl|{sub_lower}")));
    }
    match sub_lower.as_str() {
        "setuser" => {
            let name = text(args[2]);
            if args[2].iter().any(|b| b.is_ascii_whitespace() || *b == 0) {
                return Err(CmdError::err(
                    "Usernames can't contain spaces or null characters",
                ));
            }
            let rules: Vec<String> = args[3..].iter().map(|a| text(a)).collect();
            let mut acl = ctx.server.acl.write().unwrap_or_else(|p| p.into_inner());
            let old = acl.users.get(&name).cloned();
            acl.setuser(&name, &rules).map_err(CmdError::err)?;
            let new = acl.users.get(&name).cloned();
            drop(acl);
            // Subscribers that lost channel permissions are disconnected,
            // as Redis's ACLKillPubsubClientsIfNeeded.
            if let (Some(old), Some(new)) = (old, new) {
                if channels_shrunk(&old, &new) {
                    kill_pubsub_clients_of(ctx, &name);
                }
            }
            ctx.server.refresh_acl_flags();
            ctx.reply.ok();
        }
        "getuser" => {
            let acl = ctx.server.acl.read().unwrap_or_else(|p| p.into_inner());
            let Some(u) = acl.users.get(&text(args[2])).cloned() else {
                drop(acl);
                ctx.reply.null();
                return Ok(());
            };
            drop(acl);
            ctx.reply.map(6);
            ctx.reply.bulk(b"flags");
            let flags = u.flags();
            ctx.reply.set(flags.len());
            for f in flags {
                ctx.reply.bulk(f.as_bytes());
            }
            ctx.reply.bulk(b"passwords");
            ctx.reply.array(u.passwords.len());
            for p in &u.passwords {
                ctx.reply.bulk(password_hex(p).as_bytes());
            }
            reply_selector(ctx, u.root());
            ctx.reply.bulk(b"selectors");
            ctx.reply.array(u.selectors.len() - 1);
            for s in &u.selectors[1..] {
                ctx.reply.map(3);
                reply_selector(ctx, s);
            }
        }
        "deluser" => {
            let names: Vec<String> = args[2..].iter().map(|a| text(a)).collect();
            if names.iter().any(|n| n == "default") {
                return Err(CmdError::err("The 'default' user cannot be removed"));
            }
            let mut acl = ctx.server.acl.write().unwrap_or_else(|p| p.into_inner());
            let removed = names
                .iter()
                .filter(|n| acl.users.remove(*n).is_some())
                .count();
            drop(acl);
            // Connections authenticated as a removed user are closed, as in
            // Redis (this one after its reply).
            kill_users_clients(ctx, &names, true);
            if names.contains(&ctx.client.user) {
                ctx.client.close_after_reply = true;
            }
            ctx.reply.integer(removed as i64);
        }
        "list" | "users" => {
            let acl = ctx.server.acl.read().unwrap_or_else(|p| p.into_inner());
            let lines: Vec<String> = if sub_lower == "list" {
                acl.users.values().map(|u| u.describe()).collect()
            } else {
                acl.users.keys().cloned().collect()
            };
            drop(acl);
            ctx.reply.array(lines.len());
            for l in lines {
                ctx.reply.bulk(l.as_bytes());
            }
        }
        "whoami" => {
            let user = ctx.client.user.clone();
            ctx.reply.bulk(user.as_bytes());
        }
        "cat" if argc == 2 => {
            ctx.reply.array(CATEGORIES.len());
            for c in CATEGORIES {
                ctx.reply.bulk(c.as_bytes());
            }
        }
        "cat" => {
            if argc != 3 {
                return Err(subcommand_syntax(args[1]));
            }
            let Some(bit) = crate::acl::table::Meta::category_bit(&text(args[2])) else {
                return Err(CmdError::err(format!(
                    "Unknown category '{}'",
                    text(args[2])
                )));
            };
            let names: Vec<&str> = meta()
                .cmds
                .iter()
                .filter(|c| c.categories & bit != 0)
                .map(|c| c.fullname.as_str())
                .collect();
            ctx.reply.array(names.len());
            for n in names {
                ctx.reply.bulk(n.as_bytes());
            }
        }
        "genpass" => {
            if argc > 3 {
                return Err(subcommand_syntax(args[1]));
            }
            let bits = match args.get(2) {
                None => 256,
                Some(a) => match parse_i64(a) {
                    Some(n) if (1..=4096).contains(&n) => n as usize,
                    _ => return Err(CmdError::err("ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")),
                },
            };
            ctx.reply.bulk(genpass(bits).as_bytes());
        }
        "log" => acl_log(ctx, args)?,
        "dryrun" => {
            let user = text(args[2]);
            let acl = ctx.server.acl.read().unwrap_or_else(|p| p.into_inner());
            let Some(u) = acl.users.get(&user).cloned() else {
                return Err(CmdError::err(format!("User '{user}' not found")));
            };
            drop(acl);
            let m = meta();
            let cmd_args = &args[3..];
            let Some(id) = m.resolve(cmd_args) else {
                return Err(CmdError::err(format!(
                    "Command '{}' not found",
                    text(args[3])
                )));
            };
            let name = m.cmds[id].fullname.clone();
            if !super::arity_ok(m.cmds[id].arity, cmd_args.len()) {
                return Err(CmdError::WrongArity(name));
            }
            match u.check(cmd_args) {
                Ok(()) => ctx.reply.ok(),
                Err(denied) => {
                    let arg = |i: usize| text(cmd_args.get(i).copied().unwrap_or(b""));
                    let m = match denied {
                        Denied::Command => {
                            format!("This user has no permissions to run the '{name}' command")
                        }
                        Denied::Key(i) => format!(
                            "This user has no permissions to access the '{}' key",
                            arg(i)
                        ),
                        Denied::Channel(i) => format!(
                            "This user has no permissions to access the '{}' channel",
                            arg(i)
                        ),
                    };
                    ctx.reply.bulk(m.as_bytes());
                }
            }
        }
        "save" => {
            let path = ctx.server.config().get("aclfile").unwrap_or("").to_string();
            if path.is_empty() {
                return Err(CmdError::err(NO_ACLFILE));
            }
            let content = ctx
                .server
                .acl
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .to_text();
            let tmp = format!("{path}.tmp-{}", std::process::id());
            std::fs::write(&tmp, content)
                .and_then(|_| std::fs::rename(&tmp, &path))
                .map_err(|e| CmdError::err(format!("There was an error trying to save the ACLs. Please check the server logs for more information: {e}")))?;
            ctx.reply.ok();
        }
        "load" => {
            let path = ctx.server.config().get("aclfile").unwrap_or("").to_string();
            if path.is_empty() {
                return Err(CmdError::err(NO_ACLFILE));
            }
            let content = std::fs::read_to_string(&path).map_err(|e| {
                CmdError::err(format!("Error loading ACLs, opening file '{path}': {e}"))
            })?;
            let mut acl = ctx.server.acl.write().unwrap_or_else(|p| p.into_inner());
            let next = acl.load_text(&content, &path).map_err(CmdError::err)?;
            // Every user but default is recreated, and, as in Redis, the
            // clients authenticated as them are disconnected (this one
            // after its reply).
            let replaced: Vec<String> = acl
                .users
                .keys()
                .filter(|n| *n != "default")
                .cloned()
                .collect();
            *acl = next;
            drop(acl);
            kill_users_clients(ctx, &replaced, true);
            if replaced.contains(&ctx.client.user) {
                ctx.client.close_after_reply = true;
            }
            ctx.server.refresh_acl_flags();
            ctx.reply.ok();
        }
        _ => {
            ctx.reply.array(ACL_HELP.len());
            for l in ACL_HELP {
                ctx.reply.simple(l);
            }
        }
    }
    Ok(())
}

/// ACL LOG [count | RESET].
fn acl_log(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len() > 3 {
        return Err(subcommand_syntax(args[1]));
    }
    if let Some(a) = args.get(2) {
        if a.eq_ignore_ascii_case(b"RESET") {
            ctx.server
                .acl
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .log
                .clear();
            ctx.reply.ok();
            return Ok(());
        }
    }
    let count = match args.get(2) {
        None => 10,
        Some(a) => parse_i64(a)
            .filter(|n| *n >= 0)
            .ok_or(CmdError::NotInteger)? as usize,
    };
    let entries: Vec<_> = ctx
        .server
        .acl
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .log
        .iter()
        .take(count)
        .cloned()
        .collect();
    let now = crate::util::now_ms();
    ctx.reply.array(entries.len());
    for e in entries {
        ctx.reply.map(7);
        ctx.reply.bulk(b"count");
        ctx.reply.integer(e.count as i64);
        ctx.reply.bulk(b"reason");
        ctx.reply.bulk(e.reason.as_bytes());
        ctx.reply.bulk(b"context");
        ctx.reply.bulk(e.context.as_bytes());
        ctx.reply.bulk(b"object");
        ctx.reply.bulk(e.object.as_bytes());
        ctx.reply.bulk(b"username");
        ctx.reply.bulk(e.username.as_bytes());
        ctx.reply.bulk(b"age-seconds");
        ctx.reply.double((now - e.created_ms) as f64 / 1000.0);
        ctx.reply.bulk(b"client-info");
        ctx.reply.bulk(e.client_info.as_bytes());
    }
    Ok(())
}

/// True when `new` allows fewer channels than `old` (some old pattern is
/// gone, or all-channels was dropped).
fn channels_shrunk(old: &crate::acl::User, new: &crate::acl::User) -> bool {
    if new.all_channels() {
        return false;
    }
    if old.all_channels() {
        return true;
    }
    let upcoming: Vec<&Vec<u8>> = new.selectors.iter().flat_map(|s| &s.channels).collect();
    old.selectors
        .iter()
        .flat_map(|s| &s.channels)
        .any(|c| !upcoming.contains(&c))
}

/// Disconnects the subscribed clients of user `name` (their subscriptions
/// may no longer be allowed; Redis checks each one, we close them all).
fn kill_pubsub_clients_of(ctx: &mut Ctx, name: &str) {
    let clients = ctx.server.client_infos();
    for c in clients {
        let subscribed = c
            .sub_counts
            .iter()
            .any(|n| n.load(std::sync::atomic::Ordering::Relaxed) > 0);
        if subscribed && *c.user.lock().unwrap_or_else(|p| p.into_inner()) == name {
            if c.id == ctx.client.id {
                ctx.client.close_after_reply = true;
            } else {
                c.kill();
            }
        }
    }
}
