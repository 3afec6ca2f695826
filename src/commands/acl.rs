//! The ACL command: users, permissions, the denial log (Redis's acl.c).
//!
//! The rules themselves live in `src/acl/`; this file parses the command's
//! subcommands and formats replies. Permission checks of every other
//! command happen once, in the dispatcher, through [`check_permission`].

use super::{cmd, Command, Ctx, Group, Handler};
use crate::acl::{genpass, password_hex, Denied, CATEGORIES};
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

/// Checks the client's user against `command`; logs and returns NOPERM when denied.
pub fn check_permission(
    ctx: &mut Ctx,
    index: usize,
    command: &'static Command,
    args: &[&[u8]],
) -> CmdResult {
    let keys = command.key_positions(args.len());
    let verdict = {
        let acl = ctx.server.acl.read().unwrap_or_else(|p| p.into_inner());
        match acl.users.get(&ctx.client.user) {
            Some(user) => user.check(index, command, args, &keys),
            None => Err(Denied::Command),
        }
    };
    let Err(denied) = verdict else {
        return Ok(());
    };
    let (reason, object) = match &denied {
        Denied::Command => ("command", command.name.to_string()),
        Denied::Key(k) => ("key", String::from_utf8_lossy(k).into_owned()),
        Denied::Channel(c) => ("channel", String::from_utf8_lossy(c).into_owned()),
    };
    let info = super::connection::client_line(&ctx.client.info, ctx.now_ms);
    ctx.server
        .acl
        .write()
        .unwrap_or_else(|p| p.into_inner())
        .log_denial(reason, object, ctx.client.user.clone(), info, ctx.now_ms);
    Err(noperm(&denied, command.name))
}

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

/// ACL SETUSER|GETUSER|DELUSER|LIST|USERS|WHOAMI|CAT|GENPASS|LOG|DRYRUN|SAVE|LOAD|HELP.
fn acl_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let sub = args[1].to_ascii_uppercase();
    let argc = args.len();
    match (sub.as_slice(), argc) {
        (b"SETUSER", n) if n >= 3 => {
            let rules: Vec<String> = args[3..].iter().map(|a| text(a)).collect();
            let mut acl = ctx.server.acl.write().unwrap_or_else(|p| p.into_inner());
            acl.setuser(&text(args[2]), &rules).map_err(CmdError::err)?;
            drop(acl);
            ctx.server.refresh_acl_flags();
            ctx.reply.ok();
        }
        (b"GETUSER", 3) => {
            let acl = ctx.server.acl.read().unwrap_or_else(|p| p.into_inner());
            let Some(u) = acl.users.get(&text(args[2])).cloned() else {
                drop(acl);
                ctx.reply.null();
                return Ok(());
            };
            drop(acl);
            ctx.reply.map(6);
            ctx.reply.bulk(b"flags");
            let mut flags = vec![if u.enabled { "on" } else { "off" }];
            if u.nopass {
                flags.push("nopass");
            }
            flags.push("sanitize-payload");
            ctx.reply.array(flags.len());
            for f in flags {
                ctx.reply.bulk(f.as_bytes());
            }
            ctx.reply.bulk(b"passwords");
            ctx.reply.array(u.passwords.len());
            for p in &u.passwords {
                ctx.reply.bulk(password_hex(p).as_bytes());
            }
            ctx.reply.bulk(b"commands");
            ctx.reply.bulk(u.describe_commands().as_bytes());
            ctx.reply.bulk(b"keys");
            ctx.reply.bulk(u.describe_keys().as_bytes());
            ctx.reply.bulk(b"channels");
            ctx.reply.bulk(u.describe_channels().as_bytes());
            ctx.reply.bulk(b"selectors");
            ctx.reply.array(0);
        }
        (b"DELUSER", n) if n >= 3 => {
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
            // Connections authenticated as a removed user are closed, as in Redis.
            let clients: Vec<_> = ctx
                .server
                .clients
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .values()
                .cloned()
                .collect();
            for c in clients {
                if names.contains(&c.user.lock().unwrap_or_else(|p| p.into_inner()).clone())
                    && c.id != ctx.client.id
                {
                    c.kill();
                }
            }
            ctx.reply.integer(removed as i64);
        }
        (b"LIST", 2) => {
            let lines: Vec<String> = ctx
                .server
                .acl
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .users
                .values()
                .map(|u| u.describe())
                .collect();
            ctx.reply.array(lines.len());
            for l in lines {
                ctx.reply.bulk(l.as_bytes());
            }
        }
        (b"USERS", 2) => {
            let names: Vec<String> = ctx
                .server
                .acl
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .users
                .keys()
                .cloned()
                .collect();
            ctx.reply.array(names.len());
            for n in names {
                ctx.reply.bulk(n.as_bytes());
            }
        }
        (b"WHOAMI", 2) => {
            let user = ctx.client.user.clone();
            ctx.reply.bulk(user.as_bytes());
        }
        (b"CAT", 2) => {
            ctx.reply.array(CATEGORIES.len());
            for c in CATEGORIES {
                ctx.reply.bulk(c.as_bytes());
            }
        }
        (b"CAT", 3) => {
            let cat = text(args[2]).to_ascii_lowercase();
            if !CATEGORIES.contains(&cat.as_str()) {
                return Err(CmdError::err(format!(
                    "Unknown category '{}'",
                    text(args[2])
                )));
            }
            let tag = format!("@{cat}");
            let names: Vec<&str> = super::all_commands()
                .filter(|c| super::server::acl_categories(c).contains(&tag.as_str()))
                .map(|c| c.name)
                .collect();
            ctx.reply.array(names.len());
            for n in names {
                ctx.reply.bulk(n.as_bytes());
            }
        }
        (b"GENPASS", 2 | 3) => {
            let bits = match args.get(2) {
                None => 256,
                Some(a) => match parse_i64(a) {
                    Some(n) if (1..=4096).contains(&n) => n as usize,
                    _ => return Err(CmdError::err("ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")),
                },
            };
            ctx.reply.bulk(genpass(bits).as_bytes());
        }
        (b"LOG", 2 | 3) => {
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
                ctx.reply
                    .double((ctx.now_ms - e.created_ms) as f64 / 1000.0);
                ctx.reply.bulk(b"client-info");
                ctx.reply.bulk(e.client_info.as_bytes());
            }
        }
        (b"DRYRUN", n) if n >= 4 => {
            let user = text(args[2]);
            let Some((index, command)) = super::lookup(args[3]) else {
                return Err(CmdError::err(format!(
                    "Command '{}' not found",
                    text(args[3])
                )));
            };
            let cmd_args = &args[3..];
            if !super::arity_ok(command.arity, cmd_args.len()) {
                return Err(CmdError::WrongArity(command.name.to_string()));
            }
            let acl = ctx.server.acl.read().unwrap_or_else(|p| p.into_inner());
            let Some(u) = acl.users.get(&user) else {
                return Err(CmdError::err(format!("User '{user}' not found")));
            };
            let verdict = u.check(
                index,
                command,
                cmd_args,
                &command.key_positions(cmd_args.len()),
            );
            drop(acl);
            match verdict {
                Ok(()) => ctx.reply.ok(),
                Err(denied) => {
                    let line = noperm(&denied, command.name).to_string();
                    let msg = line.trim_start_matches("NOPERM ");
                    let mut m = msg.to_string();
                    if let Some(first) = m.get(..1) {
                        m = first.to_uppercase() + &m[1..];
                    }
                    ctx.reply.bulk(m.as_bytes());
                }
            }
        }
        (b"SAVE", 2) => {
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
        (b"LOAD", 2) => {
            let path = ctx.server.config().get("aclfile").unwrap_or("").to_string();
            if path.is_empty() {
                return Err(CmdError::err(NO_ACLFILE));
            }
            let content = std::fs::read_to_string(&path).map_err(|e| {
                CmdError::err(format!("Error loading ACLs, opening file '{path}': {e}"))
            })?;
            let mut acl = ctx.server.acl.write().unwrap_or_else(|p| p.into_inner());
            let next = acl
                .load_text(&content)
                .map_err(|e| CmdError::err(format!("{path}{e}")))?;
            *acl = next;
            drop(acl);
            ctx.server.refresh_acl_flags();
            ctx.reply.ok();
        }
        (b"HELP", 2) => {
            ctx.reply.array(ACL_HELP.len());
            for l in ACL_HELP {
                ctx.reply.simple(l);
            }
        }
        _ => {
            return Err(CmdError::err(format!(
                "unknown subcommand or wrong number of arguments for '{}'. Try ACL HELP.",
                text(args[1])
            )))
        }
    }
    Ok(())
}
