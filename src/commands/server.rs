//! Server commands: COMMAND, INFO, CONFIG, TIME, DEBUG, MYHELP.
//!
//! COMMAND and MYHELP are rendered from the command table, so they can
//! never disagree with what the dispatcher runs. INFO reads the counters
//! in `server.rs` and the store; its text follows Redis's "# Section" then
//! "field:value" lines, which monitoring tools parse.

use std::sync::atomic::Ordering;

use super::{all_commands, cmd, lookup, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::number::{parse_f64, parse_i64};
use crate::store::Store;

use Handler::{Conn, Read};

/// The server family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd(
        "command",
        -1,
        "loading stale",
        (0, 0, 0),
        Group::Server,
        "[COUNT|INFO|DOCS|LIST|GETKEYS [arguments]]",
        "Get array of Redis command details",
        Conn(command_command),
    ),
    cmd(
        "info",
        -1,
        "loading stale",
        (0, 0, 0),
        Group::Server,
        "[section [section ...]]",
        "Get information and statistics about the server",
        Read(info_command),
    ),
    cmd(
        "config",
        -2,
        "admin noscript loading stale",
        (0, 0, 0),
        Group::Server,
        "GET parameter [parameter ...]|SET parameter value [parameter value ...]|RESETSTAT|REWRITE",
        "A container for server configuration commands",
        Conn(config_command),
    ),
    cmd(
        "time",
        1,
        "loading stale fast",
        (0, 0, 0),
        Group::Server,
        "",
        "Return the current server time",
        Conn(time_command),
    ),
    cmd(
        "debug",
        -2,
        "admin noscript loading stale",
        (0, 0, 0),
        Group::Server,
        "SLEEP seconds|SET-ACTIVE-EXPIRE 0|1|LOG message|ERROR message|OBJECT key|RELOAD|DIGEST|POPULATE count [prefix] [size]|HTSTATS dbid|REPLICATE command [arg ...]",
        "A container for debugging commands",
        Conn(debug_command),
    ),
    cmd(
        "myhelp",
        -1,
        "loading stale fast",
        (0, 0, 0),
        Group::Server,
        "[command]",
        "List every supported command with its arguments (ferredis)",
        Conn(myhelp_command),
    ),
];

/// Checks a container command's subcommand (CONFIG GET, CLIENT LIST ...)
/// against its table of (name, arity), with Redis 7's two errors: an
/// unknown subcommand, and a known one with the wrong argument count
/// ("wrong number of arguments for 'config|get' command"). Arity counts
/// the container's name, as Redis's subcommand table does.
pub fn check_subcommand(container: &str, table: &[(&str, i32)], args: &[&[u8]]) -> CmdResult {
    let Some(sub) = args.get(1) else {
        return Err(CmdError::WrongArity(container.to_string()));
    };
    let Some((name, arity)) = table
        .iter()
        .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(sub))
    else {
        let sub = String::from_utf8_lossy(sub);
        let sub: String = sub.chars().take(128).collect();
        return Err(CmdError::err(format!(
            "unknown subcommand '{sub}'. Try {} HELP.",
            container.to_ascii_uppercase()
        )));
    };
    if !super::arity_ok(*arity, args.len()) {
        return Err(CmdError::WrongArity(format!("{container}|{name}")));
    }
    Ok(())
}

/// A COMMAND LIST FILTERBY test on (full name, ACL category bits).
type NameFilter = dyn Fn(&str, u32) -> bool;

/// OBJECT's subcommands and their arities.
pub const OBJECT_SUBCOMMANDS: &[(&str, i32)] = &[
    ("encoding", 3),
    ("freq", 3),
    ("idletime", 3),
    ("refcount", 3),
    ("help", 2),
];

/// The subcommand table of a container command this family knows.
fn subcommands_of(name: &str) -> &'static [(&'static str, i32)] {
    match name {
        "config" => CONFIG_SUBCOMMANDS,
        "command" => COMMAND_SUBCOMMANDS,
        "client" => super::connection::CLIENT_SUBCOMMANDS,
        "object" => OBJECT_SUBCOMMANDS,
        _ => &[],
    }
}

/// CONFIG's subcommands and their arities.
const CONFIG_SUBCOMMANDS: &[(&str, i32)] = &[
    ("get", -3),
    ("set", -4),
    ("resetstat", 2),
    ("rewrite", 2),
    ("help", 2),
];

/// COMMAND's subcommands and their arities.
const COMMAND_SUBCOMMANDS: &[(&str, i32)] = &[
    ("count", 2),
    ("list", -2),
    ("info", -2),
    ("docs", -2),
    ("getkeys", -4),
    ("getkeysandflags", -4),
    ("help", 2),
];

/// COMMAND's ACL categories for a command, derived from its flags and group.
pub fn acl_categories(c: &Command) -> Vec<&'static str> {
    let mut cats = Vec::new();
    match c.group {
        Group::Generic => cats.push("@keyspace"),
        Group::String => cats.push("@string"),
        Group::List => cats.push("@list"),
        Group::Hash => cats.push("@hash"),
        Group::Set => cats.push("@set"),
        Group::SortedSet => cats.push("@sortedset"),
        Group::Stream => cats.push("@stream"),
        Group::PubSub => cats.push("@pubsub"),
        Group::Transactions => cats.push("@transaction"),
        Group::Connection => cats.push("@connection"),
        Group::Server => {}
        Group::Bitmap => cats.push("@bitmap"),
        Group::HyperLogLog => cats.push("@hyperloglog"),
        Group::Geo => cats.push("@geo"),
        Group::Scripting => cats.push("@scripting"),
    }
    if c.has_flag("write") {
        cats.push("@write");
    }
    if c.has_flag("readonly") {
        cats.push("@read");
    }
    if c.has_flag("admin") {
        cats.push("@admin");
        cats.push("@dangerous");
    }
    if c.has_flag("blocking") {
        cats.push("@blocking");
    }
    cats.push(if c.has_flag("fast") { "@fast" } else { "@slow" });
    cats
}

/// Flags Redis keeps to itself: COMMAND never shows them.
const HIDDEN_FLAGS: &[&str] = &["may_replicate", "sentinel", "only_sentinel", "protected"];

/// The order COMMAND lists flags in (Redis's flag table).
const FLAG_ORDER: &[&str] = &[
    "write",
    "readonly",
    "denyoom",
    "module",
    "admin",
    "pubsub",
    "noscript",
    "blocking",
    "loading",
    "stale",
    "skip_monitor",
    "skip_slowlog",
    "asking",
    "fast",
    "no_auth",
    "no_mandatory_keys",
    "no_async_loading",
    "no_multi",
    "movablekeys",
    "allow_busy",
];

/// The flags of `flags` that COMMAND shows, in Redis's order.
fn shown_flags(flags: &str) -> impl Iterator<Item = &str> {
    let mut shown: Vec<&str> = flags
        .split(' ')
        .filter(|f| !f.is_empty() && *f != "movablekeys" && !HIDDEN_FLAGS.contains(f))
        .collect();
    sort_flags(&mut shown);
    shown.into_iter()
}

/// Puts flags in [`FLAG_ORDER`].
fn sort_flags(flags: &mut [&str]) {
    flags.sort_by_key(|f| FLAG_ORDER.iter().position(|o| o == f).unwrap_or(usize::MAX));
}

/// COMMAND INFO's flags for a row: the row's own, with `movablekeys`
/// decided as Redis decides it, from the command's key specs.
fn info_flags(c: &Command) -> Vec<&'static str> {
    let mut flags: Vec<&str> = shown_flags(c.flags).collect();
    let meta = crate::acl::meta();
    let movable = match meta.id(c.name) {
        Some(id) => meta.movable_keys(id),
        None => c.has_flag("movablekeys"),
    };
    if movable {
        flags.push("movablekeys");
    }
    sort_flags(&mut flags);
    flags
}

/// COMMAND INFO's ACL categories: Redis's own for the command (from the
/// ACL table), else derived from the row's flags and group.
fn info_categories(c: &Command) -> Vec<String> {
    let meta = crate::acl::meta();
    match meta.id(c.name) {
        Some(id) => category_names(meta.cmds[id].categories),
        None => acl_categories(c).iter().map(|s| s.to_string()).collect(),
    }
}

/// `@name` for each ACL category bit set in `bits`.
fn category_names(bits: u32) -> Vec<String> {
    crate::acl::CATEGORIES
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, name)| format!("@{name}"))
        .collect()
}

fn reply_command_info(ctx: &mut Ctx, c: &Command) {
    ctx.reply.array(10);
    ctx.reply.bulk(c.name.as_bytes());
    ctx.reply.integer(c.arity as i64);
    // A container shows its own flags and key range from Redis's table
    // (mostly none: its subcommands carry them); our row's are for the
    // dispatcher.
    let meta = crate::acl::meta();
    let container = meta.id(c.name).filter(|_| c.is_container());
    let flags: Vec<&str> = match container {
        Some(id) => shown_flags(&meta.cmds[id].flags).collect(),
        None => info_flags(c),
    };
    reply_simple_set(ctx, &flags);
    let (first, last, step) = match container {
        Some(id) => meta.legacy_range(id),
        None => (c.first_key as i64, c.last_key as i64, c.key_step as i64),
    };
    ctx.reply.integer(first);
    ctx.reply.integer(last);
    ctx.reply.integer(step);
    let cats = info_categories(c);
    reply_simple_set(ctx, &cats);
    ctx.reply.set(0); // tips
    match meta.id(c.name) {
        Some(id) => {
            reply_key_specs(ctx, meta.specs(id));
            let subs = &meta.cmds[id].subcommands;
            ctx.reply.array(subs.len());
            for &sub in subs {
                reply_subcommand_info(ctx, sub);
            }
        }
        None => {
            ctx.reply.set(0);
            ctx.reply.array(0);
        }
    }
}

/// A set of simple strings (COMMAND INFO's flags and categories).
fn reply_simple_set<S: AsRef<str>>(ctx: &mut Ctx, items: &[S]) {
    ctx.reply.set(items.len());
    for item in items {
        ctx.reply.simple(item.as_ref());
    }
}

/// One subcommand's COMMAND INFO row (`config|get` ...), from Redis's
/// table: name, arity, flags, legacy key range, categories, tips, key
/// specs, and no subcommands of its own.
fn reply_subcommand_info(ctx: &mut Ctx, id: usize) {
    let meta = crate::acl::meta();
    let sub = &meta.cmds[id];
    ctx.reply.array(10);
    ctx.reply.bulk(sub.fullname.as_bytes());
    ctx.reply.integer(sub.arity as i64);
    let mut flags: Vec<&str> = shown_flags(&sub.flags).collect();
    if meta.movable_keys(id) {
        flags.push("movablekeys");
        sort_flags(&mut flags);
    }
    reply_simple_set(ctx, &flags);
    let (first, last, step) = meta.legacy_range(id);
    ctx.reply.integer(first);
    ctx.reply.integer(last);
    ctx.reply.integer(step);
    let cats = category_names(sub.categories);
    reply_simple_set(ctx, &cats);
    ctx.reply.set(0); // tips
    reply_key_specs(ctx, meta.specs(id));
    ctx.reply.array(0);
}

/// COMMAND INFO's key specs, as Redis 7.0 renders them: per spec a map of
/// flags, begin_search {type, spec} and find_keys {type, spec} (Redis's
/// free-text `notes` are not in our table).
fn reply_key_specs(ctx: &mut Ctx, specs: &[crate::acl::table::KeySpec]) {
    use crate::acl::table::{Begin, Find};
    ctx.reply.set(specs.len());
    for spec in specs {
        ctx.reply.map(3);
        ctx.reply.bulk(b"flags");
        let flags = key_flag_names(spec.flags);
        reply_simple_set(ctx, &flags);
        ctx.reply.bulk(b"begin_search");
        ctx.reply.map(2);
        ctx.reply.bulk(b"type");
        match &spec.begin {
            Begin::Index(pos) => {
                ctx.reply.bulk(b"index");
                ctx.reply.bulk(b"spec");
                ctx.reply.map(1);
                ctx.reply.bulk(b"index");
                ctx.reply.integer(*pos as i64);
            }
            Begin::Keyword(keyword, from) => {
                ctx.reply.bulk(b"keyword");
                ctx.reply.bulk(b"spec");
                ctx.reply.map(2);
                ctx.reply.bulk(b"keyword");
                ctx.reply.bulk(keyword.as_bytes());
                ctx.reply.bulk(b"startfrom");
                ctx.reply.integer(*from);
            }
            Begin::Unknown => {
                ctx.reply.bulk(b"unknown");
                ctx.reply.bulk(b"spec");
                ctx.reply.map(0);
            }
        }
        ctx.reply.bulk(b"find_keys");
        ctx.reply.map(2);
        ctx.reply.bulk(b"type");
        match &spec.find {
            Find::Range { last, step, limit } => {
                ctx.reply.bulk(b"range");
                ctx.reply.bulk(b"spec");
                ctx.reply.map(3);
                ctx.reply.bulk(b"lastkey");
                ctx.reply.integer(*last);
                ctx.reply.bulk(b"keystep");
                ctx.reply.integer(*step as i64);
                ctx.reply.bulk(b"limit");
                ctx.reply.integer(*limit);
            }
            Find::KeyNum { idx, first, step } => {
                ctx.reply.bulk(b"keynum");
                ctx.reply.bulk(b"spec");
                ctx.reply.map(3);
                ctx.reply.bulk(b"keynumidx");
                ctx.reply.integer(*idx as i64);
                ctx.reply.bulk(b"firstkey");
                ctx.reply.integer(*first as i64);
                ctx.reply.bulk(b"keystep");
                ctx.reply.integer(*step as i64);
            }
            Find::Unknown => {
                ctx.reply.bulk(b"unknown");
                ctx.reply.bulk(b"spec");
                ctx.reply.map(0);
            }
        }
    }
}

/// Key-spec flags ("RW,ACCESS,DELETE") as Redis names and orders them.
fn key_flag_names(flags: &str) -> Vec<&'static str> {
    KEY_FLAG_ORDER
        .iter()
        .filter(|(f, _)| flags.split(',').any(|x| x == *f))
        .map(|(_, shown)| *shown)
        .collect()
}

/// Key-spec flags in the order Redis replies them, with the spelling it
/// uses (the four access kinds upper case, the rest lower case).
const KEY_FLAG_ORDER: &[(&str, &str)] = &[
    ("RO", "RO"),
    ("RW", "RW"),
    ("OW", "OW"),
    ("RM", "RM"),
    ("ACCESS", "access"),
    ("UPDATE", "update"),
    ("INSERT", "insert"),
    ("DELETE", "delete"),
    ("NOT_KEY", "not_key"),
    ("INCOMPLETE", "incomplete"),
    ("VARIABLE_FLAGS", "variable_flags"),
];

/// COMMAND GETKEYS / GETKEYSANDFLAGS <full-command>: the keys Redis's key
/// specs find in the command (`with_flags`: each as [key, flags]).
fn getkeys_reply(ctx: &mut Ctx, args: &[&[u8]], with_flags: bool) -> CmdResult {
    let cmd_args = &args[2..];
    let meta = crate::acl::meta();
    // The command as Redis's lookupCommand finds it: a container needs a
    // known subcommand.
    let found = lookup(cmd_args[0]).and_then(|(_, c)| {
        let id = meta.id(c.name)?;
        if meta.cmds[id].subcommands.is_empty() || cmd_args.len() < 2 {
            return Some(id);
        }
        let sub = String::from_utf8_lossy(cmd_args[1]).to_ascii_lowercase();
        meta.id(&format!("{}|{sub}", c.name))
    });
    let Some(id) = found else {
        return Err(CmdError::err("Invalid command specified"));
    };
    let row = &meta.cmds[id];
    if !meta.has_keys(id) && !matches!(row.fullname.as_str(), "sort" | "sort_ro" | "migrate") {
        return Err(CmdError::err("The command has no key arguments"));
    }
    if !super::arity_ok(row.arity, cmd_args.len()) {
        return Err(CmdError::err(
            "Invalid number of arguments specified for command",
        ));
    }
    let keys = meta.keys_and_flags(id, cmd_args).unwrap_or_default();
    if keys.is_empty() {
        if row.no_mandatory_keys {
            ctx.reply.array(0);
            return Ok(());
        }
        return Err(CmdError::err("Invalid arguments specified for command"));
    }
    ctx.reply.array(keys.len());
    for (pos, _, flags) in keys {
        let key = cmd_args.get(pos).copied().unwrap_or_default();
        if !with_flags {
            ctx.reply.bulk(key);
            continue;
        }
        ctx.reply.array(2);
        ctx.reply.bulk(key);
        let names = key_flag_names(flags);
        ctx.reply.set(names.len());
        for n in names {
            ctx.reply.simple(n);
        }
    }
    Ok(())
}

/// COMMAND LIST's names: every command, and after each container the
/// subcommands Redis 7.0 has for it (from the ACL table), each with its
/// ACL categories.
fn command_list_names() -> Vec<(String, u32)> {
    let meta = crate::acl::meta();
    let mut names = Vec::new();
    for c in all_commands() {
        match meta.id(c.name) {
            Some(id) => {
                names.push((c.name.to_string(), meta.cmds[id].categories));
                for &sub in &meta.cmds[id].subcommands {
                    let s = &meta.cmds[sub];
                    names.push((s.fullname.clone(), s.categories));
                }
            }
            None => {
                let cats = acl_categories(c)
                    .iter()
                    .filter_map(|cat| crate::acl::table::Meta::category_bit(&cat[1..]))
                    .fold(0, |a, b| a | b);
                names.push((c.name.to_string(), cats));
                for (sub, _) in subcommands_of(c.name) {
                    names.push((format!("{}|{}", c.name, sub), cats));
                }
            }
        }
    }
    names
}

/// COMMAND [COUNT|INFO|DOCS|LIST|GETKEYS] — details of the command table.
fn command_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let Some(sub) = args.get(1).map(|s| s.to_ascii_uppercase()) else {
        let all: Vec<_> = all_commands().collect();
        ctx.reply.array(all.len());
        for c in all {
            reply_command_info(ctx, c);
        }
        return Ok(());
    };
    check_subcommand("command", COMMAND_SUBCOMMANDS, args)?;
    match sub.as_slice() {
        b"COUNT" if args.len() == 2 => ctx.reply.integer(all_commands().count() as i64),
        b"LIST" => {
            let names = command_list_names();
            let keep: Box<NameFilter> = match args.len() {
                2 => Box::new(|_, _| true),
                5 if args[2].eq_ignore_ascii_case(b"FILTERBY") => {
                    let value = String::from_utf8_lossy(args[4]).to_ascii_lowercase();
                    match args[3].to_ascii_uppercase().as_slice() {
                        b"MODULE" => Box::new(|_, _| false),
                        b"ACLCAT" => {
                            let bit = crate::acl::table::Meta::category_bit(&value);
                            Box::new(move |_, cats| bit.is_some_and(|b| cats & b != 0))
                        }
                        b"PATTERN" => Box::new(move |name, _| {
                            crate::store::glob::glob_match(value.as_bytes(), name.as_bytes(), true)
                        }),
                        _ => return Err(CmdError::Syntax),
                    }
                }
                _ => return Err(CmdError::Syntax),
            };
            let names: Vec<&String> = names
                .iter()
                .filter(|(n, cats)| keep(n, *cats))
                .map(|(n, _)| n)
                .collect();
            ctx.reply.array(names.len());
            for n in names {
                ctx.reply.bulk(n.as_bytes());
            }
        }
        b"INFO" => {
            let names: Vec<&[u8]> = if args.len() == 2 {
                all_commands().map(|c| c.name.as_bytes()).collect()
            } else {
                args[2..].to_vec()
            };
            ctx.reply.array(names.len());
            for n in names {
                match lookup(n) {
                    Some((_, c)) => reply_command_info(ctx, c),
                    None => ctx.reply.null_array(),
                }
            }
        }
        b"DOCS" => {
            let found: Vec<&Command> = if args.len() == 2 {
                all_commands().collect()
            } else {
                args[2..]
                    .iter()
                    .filter_map(|n| lookup(n).map(|(_, c)| c))
                    .collect()
            };
            ctx.reply.map(found.len());
            for c in found {
                ctx.reply.bulk(c.name.as_bytes());
                let args = doc_arguments(c.syntax);
                ctx.reply.map(if args.is_empty() { 3 } else { 4 });
                ctx.reply.bulk(b"summary");
                ctx.reply.bulk(c.summary.as_bytes());
                ctx.reply.bulk(b"since");
                ctx.reply.bulk(b"1.0.0");
                ctx.reply.bulk(b"group");
                ctx.reply.bulk(c.group.name().as_bytes());
                if !args.is_empty() {
                    ctx.reply.bulk(b"arguments");
                    ctx.reply.array(args.len());
                    for a in &args {
                        reply_doc_argument(ctx, a);
                    }
                }
            }
        }
        b"GETKEYS" => return getkeys_reply(ctx, args, false),
        b"GETKEYSANDFLAGS" => return getkeys_reply(ctx, args, true),
        b"HELP" => {
            let lines = [
                "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "(no subcommand)",
                "    Return details about all Redis commands.",
                "COUNT",
                "    Return the total number of commands in this Redis server.",
                "LIST",
                "    Return a list of all commands in this Redis server.",
                "INFO [<command-name> ...]",
                "    Return details about multiple Redis commands.",
                "DOCS [<command-name> ...]",
                "    Return documentation details about multiple Redis commands.",
                "GETKEYS <full-command>",
                "    Return the keys from a full Redis command.",
                "HELP",
                "    Print this help.",
            ];
            ctx.reply.array(lines.len());
            for l in lines {
                ctx.reply.simple(l);
            }
        }
        _ => {
            return Err(CmdError::err(format!(
                "unknown subcommand or wrong number of arguments for '{}'. Try COMMAND HELP.",
                String::from_utf8_lossy(args[1])
            )))
        }
    }
    Ok(())
}

/// Redis's human-readable byte counts: "919.05K", "1.50M", "0B".
pub fn bytes_human(n: u64) -> String {
    let f = n as f64;
    if n < 1024 {
        format!("{n}B")
    } else if n < 1024 * 1024 {
        format!("{:.2}K", f / 1024.0)
    } else if n < 1024 * 1024 * 1024 {
        format!("{:.2}M", f / 1048576.0)
    } else {
        format!("{:.2}G", f / 1073741824.0)
    }
}

/// One top-level argument of a command's syntax, for COMMAND DOCS.
#[derive(Debug, PartialEq)]
struct DocArg {
    name: String,
    kind: &'static str,
    token: Option<String>,
    optional: bool,
    multiple: bool,
}

/// Splits a table row's syntax line ("key value [NX|XX] [key ...]") into
/// COMMAND DOCS arguments: one per top-level element, `[...]` optional, a
/// repeated `[x ...]` folded into `x` as multiple, an upper-case word a
/// pure token. redis-cli 7 renders its hints from these, and gets back the
/// syntax line. (Alternatives inside one element stay as its name.)
fn doc_arguments(syntax: &str) -> Vec<DocArg> {
    let mut elements: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for ch in syntax.chars() {
        match ch {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if ch == ' ' && depth == 0 {
            if !current.is_empty() {
                elements.push(std::mem::take(&mut current));
            }
        } else {
            current.push(ch);
        }
    }
    if !current.is_empty() {
        elements.push(current);
    }
    let mut out: Vec<DocArg> = Vec::new();
    for e in elements {
        let optional = e.starts_with('[') && e.ends_with(']');
        let inner = if optional { &e[1..e.len() - 1] } else { &e[..] };
        if let Some(repeated) = inner.strip_suffix(" ...") {
            if let Some(prev) = out.last_mut().filter(|p| p.name == repeated) {
                prev.multiple = true;
                continue;
            }
        }
        let simple = !inner.contains([' ', '|', '[']);
        let upper = simple
            && inner.chars().any(|c| c.is_ascii_uppercase())
            && !inner.chars().any(|c| c.is_ascii_lowercase());
        let arg = if upper {
            DocArg {
                name: inner.to_ascii_lowercase(),
                kind: "pure-token",
                token: Some(inner.to_string()),
                optional,
                multiple: false,
            }
        } else {
            DocArg {
                name: inner.to_string(),
                kind: if simple && inner.contains("key") {
                    "key"
                } else {
                    "string"
                },
                token: None,
                optional,
                multiple: false,
            }
        };
        out.push(arg);
    }
    out
}

fn reply_doc_argument(ctx: &mut Ctx, a: &DocArg) {
    let flags: Vec<&str> = [("optional", a.optional), ("multiple", a.multiple)]
        .iter()
        .filter(|(_, on)| *on)
        .map(|(f, _)| *f)
        .collect();
    ctx.reply
        .map(2 + usize::from(a.token.is_some()) + usize::from(!flags.is_empty()));
    ctx.reply.bulk(b"name");
    ctx.reply.bulk(a.name.as_bytes());
    ctx.reply.bulk(b"type");
    ctx.reply.bulk(a.kind.as_bytes());
    if let Some(t) = &a.token {
        ctx.reply.bulk(b"token");
        ctx.reply.bulk(t.as_bytes());
    }
    if !flags.is_empty() {
        ctx.reply.bulk(b"flags");
        ctx.reply.array(flags.len());
        for f in flags {
            ctx.reply.simple(f);
        }
    }
}

/// Resident set size of this process in bytes (from /proc).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}

/// The largest number of bytes queued for any client (pub/sub mailboxes).
fn max_output_queued(ctx: &Ctx) -> usize {
    let clients = ctx.server.clients.lock().unwrap_or_else(|p| p.into_inner());
    clients
        .values()
        .map(|c| c.output_queued().0)
        .max()
        .unwrap_or(0)
}

fn info_section(ctx: &Ctx, store: &Store, name: &str, out: &mut String) {
    use std::fmt::Write as _;
    let s = &ctx.server.stats;
    let get = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    let config = ctx.server.config();
    let uptime = ctx.server.started.elapsed().as_secs();
    match name {
        "server" => {
            let port = config.get("port").unwrap_or("6379");
            let _ = write!(
                out,
                "# Server\r\nredis_version:{}\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\nredis_build_id:0\r\nredis_mode:standalone\r\nos:{} {}\r\narch_bits:{}\r\nmonotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:threads\r\natomicvar_api:c11-builtin\r\ngcc_version:0.0.0\r\nserver_name:ferredis\r\nferredis_version:{}\r\nprocess_id:{}\r\nprocess_supervised:no\r\nrun_id:{:040x}\r\ntcp_port:{}\r\nserver_time_usec:{}\r\nuptime_in_seconds:{}\r\nuptime_in_days:{}\r\nhz:{}\r\nconfigured_hz:{}\r\nlru_clock:{}\r\nexecutable:{}\r\nconfig_file:{}\r\nio_threads_active:0\r\n",
                super::connection::REDIS_VERSION,
                std::env::consts::OS,
                std::env::consts::ARCH,
                usize::BITS,
                env!("CARGO_PKG_VERSION"),
                std::process::id(),
                ctx.server.start_ms as u128 * 7919,
                port,
                crate::util::now_us(),
                uptime,
                uptime / 86400,
                config.get("hz").unwrap_or("10"),
                config.get("hz").unwrap_or("10"),
                (ctx.now_ms / 1000) & 0xff_ffff,
                std::env::current_exe().map(|p| p.display().to_string()).unwrap_or_default(),
                config.config_file.clone().unwrap_or_default(),
            );
            out.push_str(&crate::replication::shutdown_info_line(ctx.server));
        }
        "clients" => {
            let _ = write!(
                out,
                "# Clients\r\nconnected_clients:{}\r\ncluster_connections:0\r\nmaxclients:{}\r\nclient_recent_max_input_buffer:0\r\nclient_recent_max_output_buffer:{}\r\nblocked_clients:{}\r\ntracking_clients:{}\r\nclients_in_timeout_table:0\r\n",
                // As in Redis, replicas are not counted here.
                ctx.server.client_count().saturating_sub(ctx.server.repl.replicas().len()),
                config.get("maxclients").unwrap_or("10000"),
                max_output_queued(ctx),
                ctx.server.blocked_clients.load(Ordering::Relaxed),
                ctx.server.tracking.info().0,
            );
        }
        "memory" => {
            let start = out.len();
            super::info::memory_section(&config, out);
            // The replication buffers are known to replication/ alone.
            let (backlog, total) = crate::replication::buffer_bytes(ctx.server);
            let section = out.split_off(start).replacen(
                "mem_replication_backlog:0\r\nmem_total_replication_buffers:0\r\n",
                &format!("mem_replication_backlog:{backlog}\r\nmem_total_replication_buffers:{total}\r\n"),
                1,
            );
            out.push_str(&section);
        }
        "persistence" => {
            let rdb = &ctx.server.rdb;
            let bgsave_started_ms = rdb.bgsave_started_ms.load(Ordering::Relaxed);
            let in_progress = rdb.bgsave_in_progress.load(Ordering::Relaxed);
            let current_bgsave_s = if in_progress && bgsave_started_ms > 0 {
                (crate::util::now_ms() - bgsave_started_ms) / 1000
            } else {
                -1
            };
            // The child's copy-on-write sample and how far it got.
            let sampled_ms = rdb.cow_sampled_ms.load(Ordering::Relaxed);
            let cow_age_s = if sampled_ms > 0 {
                ((crate::util::now_ms() - sampled_ms) / 1000).max(0)
            } else {
                0
            };
            let total = rdb.save_keys_total.load(Ordering::Relaxed);
            let fork_perc = if in_progress && total > 0 {
                rdb.save_keys_processed.load(Ordering::Relaxed) as f64 * 100.0 / total as f64
            } else {
                0.0
            };
            let _ = write!(
                out,
                "# Persistence\r\nloading:{}\r\nasync_loading:{}\r\ncurrent_cow_peak:{}\r\ncurrent_cow_size:{}\r\ncurrent_cow_size_age:{}\r\ncurrent_fork_perc:{:.2}\r\ncurrent_save_keys_processed:{}\r\ncurrent_save_keys_total:{}\r\nrdb_changes_since_last_save:{}\r\nrdb_bgsave_in_progress:{}\r\nrdb_last_save_time:{}\r\nrdb_last_bgsave_status:{}\r\nrdb_last_bgsave_time_sec:{}\r\nrdb_current_bgsave_time_sec:{}\r\nrdb_saves:{}\r\nrdb_last_cow_size:{}\r\nrdb_last_load_keys_expired:{}\r\nrdb_last_load_keys_loaded:{}\r\n{}{}",
                ctx.server.loading.is_on() as u8,
                crate::replication::async_loading(ctx.server) as u8,
                rdb.cow_peak.load(Ordering::Relaxed),
                rdb.cow_size.load(Ordering::Relaxed),
                cow_age_s,
                fork_perc,
                if in_progress { rdb.save_keys_processed.load(Ordering::Relaxed) } else { 0 },
                if in_progress { rdb.save_keys_total.load(Ordering::Relaxed) } else { 0 },
                ctx.server.dirty.load(Ordering::Relaxed),
                in_progress as u8,
                ctx.server.last_save_s.load(Ordering::Relaxed),
                if rdb.last_save_failed.load(Ordering::Relaxed) { "err" } else { "ok" },
                rdb.last_bgsave_time_s.load(Ordering::Relaxed),
                current_bgsave_s,
                rdb.saves.load(Ordering::Relaxed),
                rdb.last_cow_size.load(Ordering::Relaxed),
                rdb.last_load_keys_expired.load(Ordering::Relaxed),
                rdb.last_load_keys_loaded.load(Ordering::Relaxed),
                ctx.server.aof.info_fields(config.get_bool("appendonly")),
                ctx.server.loading.info_lines(),
            );
        }
        "stats" => {
            let tracking = ctx.server.tracking.info();
            let _ = write!(
                out,
                "# Stats\r\ntotal_connections_received:{}\r\ntotal_commands_processed:{}\r\ninstantaneous_ops_per_sec:0\r\ntotal_net_input_bytes:{}\r\ntotal_net_output_bytes:{}\r\ntotal_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:0\r\ninstantaneous_input_kbps:0.00\r\ninstantaneous_output_kbps:0.00\r\ninstantaneous_input_repl_kbps:0.00\r\ninstantaneous_output_repl_kbps:0.00\r\nrejected_connections:{}\r\nsync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\nexpired_keys:{}\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:0\r\nexpire_cycle_cpu_milliseconds:0\r\nevicted_keys:{}\r\nevicted_clients:{}\r\ntotal_eviction_exceeded_time:0\r\ncurrent_eviction_exceeded_time:0\r\nkeyspace_hits:{}\r\nkeyspace_misses:{}\r\npubsub_channels:{}\r\npubsub_patterns:{}\r\npubsubshard_channels:0\r\nlatest_fork_usec:0\r\ntotal_forks:{}\r\nmigrate_cached_sockets:{}\r\nslave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\nactive_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\ncurrent_active_defrag_time:0\r\ntracking_total_keys:{}\r\ntracking_total_items:{}\r\ntracking_total_prefixes:{}\r\nunexpected_error_replies:{}\r\ntotal_error_replies:{}\r\ndump_payload_sanitizations:0\r\ntotal_reads_processed:{}\r\ntotal_writes_processed:{}\r\nio_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\nreply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\n",
                get(&s.total_connections_received),
                get(&s.total_commands_processed),
                get(&s.net_input_bytes),
                get(&s.net_output_bytes),
                get(&s.rejected_connections),
                store.expired_keys(),
                crate::evict::evicted_keys(),
                get(&s.evicted_clients),
                get(&s.keyspace_hits),
                get(&s.keyspace_misses),
                ctx.server.pubsub.count(crate::pubsub::Kind::Channel),
                ctx.server.pubsub.count(crate::pubsub::Kind::Pattern),
                crate::persistence::standin_child::total_forks(),
                super::persistence::migrate_cached_sockets(),
                tracking.1,
                tracking.2,
                tracking.3,
                get(&s.unexpected_error_replies),
                get(&s.total_error_replies),
                get(&s.total_commands_processed),
                get(&s.total_commands_processed),
            );
            // The sync counters are kept by replication/.
            let patched = out.replacen(
                "sync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\n",
                &crate::replication::sync_stats(ctx.server),
                1,
            );
            *out = patched;
        }
        "replication" => {
            out.push_str(&crate::replication::info_section(ctx.server));
        }
        "cpu" => super::info::cpu_section(out),
        "modules" => out.push_str("# Modules\r\n"),
        "cluster" => out.push_str("# Cluster\r\ncluster_enabled:0\r\n"),
        "errorstats" => {
            out.push_str("# Errorstats\r\n");
            for (code, n) in s.errors.lock().unwrap_or_else(|p| p.into_inner()).iter() {
                let _ = write!(out, "errorstat_{code}:count={n}\r\n");
            }
        }
        "commandstats" => {
            out.push_str("# Commandstats\r\n");
            let line = |out: &mut String, name: &str, stat: &crate::server::CommandStat| {
                let calls = get(&stat.calls);
                let rejected = get(&stat.rejected_calls);
                if calls == 0 && rejected == 0 && get(&stat.failed_calls) == 0 {
                    return;
                }
                let usec = get(&stat.usec);
                let _ = write!(
                    out,
                    "cmdstat_{}:calls={},usec={},usec_per_call={:.2},rejected_calls={rejected},failed_calls={}\r\n",
                    name,
                    calls,
                    usec,
                    if calls > 0 { usec as f64 / calls as f64 } else { 0.0 },
                    get(&stat.failed_calls)
                );
            };
            for (c, stat) in all_commands().zip(&s.commands) {
                line(out, c.name, stat);
            }
            // Subcommands ("config|set") after the commands, as their own lines.
            for (name, stat) in s
                .subcommands
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .iter()
            {
                line(out, name, stat);
            }
        }
        "latencystats" => super::info::latencystats_section(ctx.server, &config, out),
        "keyspace" => {
            out.push_str("# Keyspace\r\n");
            for (i, db) in store.dbs.iter().enumerate() {
                if !db.is_empty() {
                    let _ = write!(
                        out,
                        "db{}:keys={},expires={},avg_ttl=0\r\n",
                        i,
                        db.len(),
                        db.expires_len()
                    );
                }
            }
        }
        _ => {}
    }
}

/// Every section, in Redis's order ("INFO everything").
const ALL_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "commandstats",
    "errorstats",
    "latencystats",
    "cluster",
    "keyspace",
];

const DEFAULT_SECTIONS: &[&str] = &[
    "server",
    "clients",
    "memory",
    "persistence",
    "stats",
    "replication",
    "cpu",
    "modules",
    "errorstats",
    "cluster",
    "keyspace",
];

/// INFO [section ...] — Redis's "# Section / field:value" report.
fn info_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    let mut sections: Vec<String> = Vec::new();
    if args.len() == 1 {
        sections.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string()));
    }
    for a in &args[1..] {
        let name = String::from_utf8_lossy(a).to_ascii_lowercase();
        match name.as_str() {
            "all" | "everything" => sections.extend(ALL_SECTIONS.iter().map(|s| s.to_string())),
            "default" => sections.extend(DEFAULT_SECTIONS.iter().map(|s| s.to_string())),
            _ => sections.push(name),
        }
    }
    let mut out = String::new();
    let mut seen = std::collections::HashSet::new();
    for s in &sections {
        if seen.insert(s.clone()) {
            let before = out.len();
            info_section(ctx, store, s, &mut out);
            if out.len() > before {
                out.push_str("\r\n");
            }
        }
    }
    let text = out.trim_end_matches("\r\n").to_string() + "\r\n";
    ctx.reply
        .verbatim(if out.is_empty() { b"" } else { text.as_bytes() });
    Ok(())
}

/// A new maxmemory takes effect at once, as in Redis: a warning when it
/// is below the memory in use, and eviction now rather than at the next
/// command (subscribers see the `evicted` events without one). Not inside
/// MULTI or a script (the transaction's later commands still see their
/// keys, as in Redis), on a replica, or while clients are paused: there
/// the next command's check evicts, as before any command.
fn maxmemory_changed(ctx: &mut Ctx) {
    let max = ctx.server.config().get_i64("maxmemory");
    let used = crate::memory::used_memory();
    if max > 0 && (max as usize) < used {
        log::warn!(
            "WARNING: the new maxmemory value set via CONFIG SET ({max}) is smaller than the current memory usage ({used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy."
        );
    }
    let deferred = ctx.in_exec
        || ctx.in_script
        || ctx.server.repl.is_replica()
        || ctx.server.pause.mode().is_some();
    if !deferred {
        crate::evict::perform_evictions(ctx);
    }
}

/// CONFIG GET|SET|RESETSTAT|REWRITE|HELP.
fn config_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    check_subcommand("config", CONFIG_SUBCOMMANDS, args)?;
    let sub = args[1].to_ascii_uppercase();
    match sub.as_slice() {
        b"HELP" => {
            let lines = [
                "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET <pattern>",
                "    Return parameters matching the glob-like <pattern> and their values.",
                "SET <directive> <value>",
                "    Set the configuration <directive> to <value>.",
                "RESETSTAT",
                "    Reset statistics reported by the INFO command.",
                "REWRITE",
                "    Rewrite the configuration file.",
                "HELP",
                "    Print this help.",
            ];
            ctx.reply.array(lines.len());
            for l in lines {
                ctx.reply.simple(l);
            }
        }
        b"GET" => {
            let config = ctx.server.config();
            let mut pairs = Vec::new();
            for p in &args[2..] {
                for pair in config.matching(p) {
                    if !pairs.iter().any(|(n, _): &(&str, String)| *n == pair.0) {
                        pairs.push(pair);
                    }
                }
            }
            drop(config);
            ctx.reply.map(pairs.len());
            for (name, value) in pairs {
                ctx.reply.bulk(name.as_bytes());
                ctx.reply.bulk(value.as_bytes());
            }
        }
        b"SET" if args.len().is_multiple_of(2) => {
            let config = ctx.server.config.read().unwrap_or_else(|p| p.into_inner());
            // Validate every pair on a copy, then apply at once (atomic).
            let mut next = config.clone();
            let mut names = std::collections::HashSet::new();
            // Redis answers -LOADING before any other error here.
            if (ctx.server.loading.refuses_here() || crate::replication::async_loading(ctx.server))
                && args[2..].chunks(2).any(|pair| {
                    let name = String::from_utf8_lossy(pair[0]).to_ascii_lowercase();
                    crate::config::find_param(&name)
                        .is_some_and(|p| crate::config::DENY_LOADING.contains(&p.name))
                })
            {
                return Err(CmdError::Raw(crate::persistence::LOADING_ERROR.into()));
            }
            for pair in args[2..].chunks(2) {
                let name = String::from_utf8_lossy(pair[0]).to_ascii_lowercase();
                let value = String::from_utf8_lossy(pair[1]).into_owned();
                let Some(param) = crate::config::find_param(&name) else {
                    return Err(CmdError::err(format!(
                        "Unknown option or number of arguments for CONFIG SET - '{name}'"
                    )));
                };
                if !names.insert(param.name) {
                    return Err(CmdError::err(format!("CONFIG SET failed (possibly related to argument '{name}') - duplicate parameter")));
                }
                if crate::config::PROTECTED.contains(&param.name)
                    && !protected_action_allowed(ctx, "enable-protected-configs")
                {
                    return Err(CmdError::err(format!("CONFIG SET failed (possibly related to argument '{name}') - can't set protected config")));
                }
                next.set(&name, &value, false).map_err(|e| {
                    CmdError::err(format!(
                        "CONFIG SET failed (possibly related to argument '{name}') - {}",
                        e.0
                    ))
                })?;
            }
            // Port and bind take effect here; a failure leaves everything
            // as it was. (The lock is released first: accept threads read
            // the configuration while we wait for them to stop.)
            let old = config.clone();
            drop(config);
            apply_listen_change(ctx, &old, &next)?;
            *ctx.server.config.write().unwrap_or_else(|p| p.into_inner()) = next;
            ctx.server.refresh_hot_config();
            crate::persistence::aof::on_config_change(ctx.server);
            if names.contains("maxmemory") {
                maxmemory_changed(ctx);
            }
            if names.contains("oom-score-adj") || names.contains("oom-score-adj-values") {
                if let Err(e) = crate::oom::apply(ctx.server) {
                    // As Redis: the change is undone when the score cannot be set.
                    log::warn!("{e}");
                    *ctx.server.config.write().unwrap_or_else(|p| p.into_inner()) = old;
                    ctx.server.refresh_hot_config();
                    let _ = crate::oom::apply(ctx.server);
                    return Err(CmdError::err(
                        "CONFIG SET failed (possibly related to argument 'oom-score-adj') - Failed to set current oom_score_adj. Check server logs.",
                    ));
                }
            }
            ctx.reply.ok();
        }
        b"RESETSTAT" => {
            let s = &ctx.server.stats;
            for c in [
                &s.total_commands_processed,
                &s.total_error_replies,
                &s.unexpected_error_replies,
                &s.keyspace_hits,
                &s.keyspace_misses,
                &s.rejected_connections,
                &s.total_connections_received,
                &s.net_input_bytes,
                &s.net_output_bytes,
            ] {
                c.store(0, Ordering::Relaxed);
            }
            for c in &s.commands {
                c.calls.store(0, Ordering::Relaxed);
                c.usec.store(0, Ordering::Relaxed);
                c.failed_calls.store(0, Ordering::Relaxed);
                c.rejected_calls.store(0, Ordering::Relaxed);
            }
            s.errors.lock().unwrap_or_else(|p| p.into_inner()).clear();
            s.subcommands
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clear();
            super::info::reset_stats(ctx.server);
            ctx.reply.ok();
        }
        b"REWRITE" if args.len() == 2 => {
            crate::config_rewrite::rewrite(&ctx.server.config(), false).map_err(CmdError::err)?;
            ctx.reply.ok();
        }
        // CONFIG SET with a name and no value.
        _ => return Err(CmdError::Syntax),
    }
    Ok(())
}

/// Rebinds the listeners when CONFIG SET changes `port` or `bind`.
fn apply_listen_change(
    ctx: &Ctx,
    old: &crate::config::Config,
    next: &crate::config::Config,
) -> CmdResult {
    let (old_bind, new_bind) = (
        old.get("bind").unwrap_or(""),
        next.get("bind").unwrap_or(""),
    );
    let (old_port, new_port) = (old.get_i64("port"), next.get_i64("port"));
    if old_bind == new_bind && old_port == new_port {
        return Ok(());
    }
    let port_changed = old_port != new_port;
    crate::server::rebind(
        ctx.server,
        (old_bind, old_port),
        (new_bind, new_port),
        port_changed,
    )
    .map_err(|reason| {
        let name = if port_changed { "port" } else { "bind" };
        CmdError::err(format!(
            "CONFIG SET failed (possibly related to argument '{name}') - {reason}"
        ))
    })
}

/// TIME — [unix seconds, microseconds] as bulk strings.
fn time_command(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let us = crate::util::now_us();
    ctx.reply.array(2);
    ctx.reply.bulk((us / 1_000_000).to_string().as_bytes());
    ctx.reply.bulk((us % 1_000_000).to_string().as_bytes());
    Ok(())
}

/// True when a "protected" action (DEBUG, setting dir/dbfilename) is
/// allowed for this client: the setting `name` is yes, or local and the
/// client comes from loopback (Redis's `allowProtectedAction`).
fn protected_action_allowed(ctx: &Ctx, name: &str) -> bool {
    match ctx.server.config().get(name) {
        Some("yes") => true,
        Some("local") => {
            let addr = &ctx.client.info.addr;
            addr.starts_with("127.0.0.1:") || addr.starts_with("[::1]:")
        }
        _ => false,
    }
}

/// DEBUG SLEEP|SET-ACTIVE-EXPIRE|PAUSE-CRON|SEGFAULT|LOG|ERROR ... — only with
/// enable-debug-command.
fn debug_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if !protected_action_allowed(ctx, "enable-debug-command") {
        return Err(CmdError::err("DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."));
    }
    let sub = args[1].to_ascii_uppercase();
    match (sub.as_slice(), args.len()) {
        (b"SLEEP", 3) => {
            let secs = parse_f64(args[2]).ok_or(CmdError::NotFloat)?;
            // Redis stops the whole server: holding the keyspace write lock
            // makes every other client's data command wait, as there. Inside
            // EXEC the transaction already holds it.
            let pause = std::time::Duration::try_from_secs_f64(secs.max(0.0)).unwrap_or_default();
            // Commands that take no store lock (PING, CLIENT LIST) wait on
            // the freeze.
            if ctx.in_exec {
                ctx.server.freeze.sleep(ctx.client.id, pause);
            } else {
                let store = ctx.server.store.write().unwrap_or_else(|p| p.into_inner());
                ctx.server.freeze.sleep(ctx.client.id, pause);
                drop(store);
            }
            ctx.reply.ok();
        }
        (b"PAUSE-CRON", 3) => {
            let on = parse_i64(args[2]).ok_or(CmdError::NotInteger)? != 0;
            ctx.server.rdb.cron_paused.store(on, Ordering::Relaxed);
            ctx.reply.ok();
        }
        (b"SEGFAULT", 2) => crate::crash::segfault(),
        // Our reply buffers are not resized in the background, so
        // DEBUG REPLYBUFFER PEAK-RESET-TIME / RESIZING have nothing to change.
        (b"REPLYBUFFER", 4) => ctx.reply.ok(),
        (b"CONFIG-REWRITE-FORCE-ALL", 2) => {
            crate::config_rewrite::rewrite(&ctx.server.config(), true).map_err(CmdError::err)?;
            ctx.reply.ok();
        }
        (b"SET-DISABLE-DENY-SCRIPTS", 3) => {
            let on = parse_i64(args[2]).ok_or(CmdError::NotInteger)? != 0;
            ctx.server
                .scripting
                .allow_noscript
                .store(on, Ordering::Relaxed);
            ctx.reply.ok();
        }
        (b"SET-ACTIVE-EXPIRE", 3) => {
            let on = parse_i64(args[2]).ok_or(CmdError::NotInteger)? != 0;
            ctx.server
                .active_expire_enabled
                .store(on, Ordering::Relaxed);
            ctx.reply.ok();
        }
        (b"DIGEST", 2) => {
            let store = ctx.server.store.read().unwrap_or_else(|p| p.into_inner());
            let digest = crate::store::digest::dataset_digest(&store, crate::util::now_ms());
            drop(store);
            ctx.reply.simple(&digest);
        }
        (b"DIGEST-VALUE", _) => {
            // One digest per key, all zeros for a missing key.
            let store = ctx.server.store.read().unwrap_or_else(|p| p.into_inner());
            let digests: Vec<String> = args[2..]
                .iter()
                .map(|k| match store.db(ctx.client.db).peek(k, ctx.now_ms) {
                    Some(e) => crate::store::digest::value_digest_hex(&e.value),
                    None => "0".repeat(40),
                })
                .collect();
            drop(store);
            ctx.reply.array(digests.len());
            for d in digests {
                ctx.reply.simple(&d);
            }
        }
        (b"AOF-FLUSH-SLEEP", 3) => {
            let us = crate::number::parse_i64(args[2]).ok_or(CmdError::NotInteger)?;
            crate::persistence::aof::set_flush_sleep(ctx.server, us.max(0) as u64);
            ctx.reply.ok();
        }
        (b"LOADAOF", 2) => {
            crate::persistence::aof::debug_loadaof(ctx.server).map_err(CmdError::err)?;
            ctx.reply.ok();
        }
        (b"LOG", 3) => {
            log::warn!("DEBUG LOG: {}", String::from_utf8_lossy(args[2]));
            ctx.reply.ok();
        }
        (b"RELOAD", _) => return super::persistence::debug_reload(ctx, &args[2..]),
        (b"ERROR", 3) => return Err(CmdError::Raw(String::from_utf8_lossy(args[2]).into_owned())),
        (b"PROTOCOL", 3) => debug_protocol(ctx, args[2])?,
        (b"OBJECT", 3) => return super::persistence::debug_object(ctx, args[2]),
        (b"POPULATE", 3..=5) => {
            // DEBUG POPULATE count [prefix] [size]: keys "prefix:N" holding
            // "value:N" (cut or zero-padded to size); existing keys are kept.
            let count = parse_i64(args[2])
                .filter(|&n| n >= 0)
                .ok_or_else(|| CmdError::err("count is out of range"))?;
            let prefix = args.get(3).copied().unwrap_or(b"key");
            let size = match args.get(4) {
                Some(a) => Some(
                    parse_i64(a)
                        .filter(|&n| n >= 0)
                        .ok_or_else(|| CmdError::err("size is out of range"))?
                        as usize,
                ),
                None => None,
            };
            let mut store = ctx.server.store.write().unwrap_or_else(|p| p.into_inner());
            let db = store.db_mut(ctx.client.db);
            for j in 0..count {
                let mut key = prefix.to_vec();
                key.extend_from_slice(format!(":{j}").as_bytes());
                if db.contains(&key, ctx.now_ms) {
                    continue;
                }
                let mut value = format!("value:{j}").into_bytes();
                if let Some(size) = size {
                    value.resize(size, 0);
                }
                db.set(&key, crate::store::Value::string(value), ctx.now_ms);
            }
            drop(store);
            ctx.reply.ok();
        }
        (b"HTSTATS", 3) => {
            let db = parse_i64(args[2]).ok_or(CmdError::NotInteger)?;
            let store = ctx.server.store.read().unwrap_or_else(|p| p.into_inner());
            let db = usize::try_from(db)
                .ok()
                .filter(|&db| db < store.dbs.len())
                .ok_or_else(|| CmdError::err("Out of range database"))?;
            let stats = store.db(db).htstats();
            drop(store);
            ctx.reply.verbatim(stats.as_bytes());
        }
        (b"REPLICATE", 3..) => {
            // Sends the arguments to the replicas as a command, without
            // running it here (a way to make them diverge, for tests). The
            // write lock orders it in the stream, as every write is.
            let store = ctx.server.store_write();
            let command: Vec<Vec<u8>> = args[2..].iter().map(|a| a.to_vec()).collect();
            crate::replication::feed(ctx.server, &[(usize::MAX, command)]);
            drop(store);
            ctx.reply.ok();
        }
        (b"JMAP" | b"CHANGE-REPL-ID", 2) => ctx.reply.ok(),
        (b"SET-SKIP-CHECKSUM-VALIDATION", 3) => {
            let on = parse_i64(args[2]).ok_or(CmdError::NotInteger)? != 0;
            ctx.server
                .skip_checksum_validation
                .store(on, Ordering::Relaxed);
            ctx.reply.ok();
        }
        (b"QUICKLIST-PACKED-THRESHOLD" | b"REPLYBUFFER", _) => ctx.reply.ok(),
        (b"HELP", 2) => {
            let lines = [
                "DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "ERROR <string>",
                "    Return a Redis protocol error with <string> as message.",
                "HTSTATS <dbid>",
                "    Return hash table statistics of the specified Redis database.",
                "LOG <message>",
                "    Write <message> to the server log.",
                "OBJECT <key>",
                "    Show low level info about the `key` and associated value.",
                "PAUSE-CRON <0|1>",
                "    Stop periodic cron job processing.",
                "PROTOCOL <type>",
                "    Reply with a test value of the specified type.",
                "REPLICATE <string>",
                "    Replicates the provided string to replicas, allowing data divergence.",
                "SEGFAULT",
                "    Crash the server with sigsegv.",
                "SET-ACTIVE-EXPIRE <0|1>",
                "    Setting it to 0 disables expiring keys in background.",
                "SLEEP <seconds>",
                "    Stop the server for <seconds>. Decimals allowed.",
                "HELP",
                "    Print this help.",
            ];
            ctx.reply.array(lines.len());
            for l in lines {
                ctx.reply.simple(l);
            }
        }
        _ => {
            return Err(CmdError::err(format!(
                "unknown subcommand or wrong number of arguments for '{}'. Try DEBUG HELP.",
                String::from_utf8_lossy(args[1])
            )))
        }
    }
    Ok(())
}

/// DEBUG PROTOCOL type — one reply of each RESP3 type, for client tests;
/// on RESP2 each is sent as its RESP2 equivalent (attributes are dropped).
fn debug_protocol(ctx: &mut Ctx, kind: &[u8]) -> CmdResult {
    let resp3 = ctx.reply.resp3();
    match kind.to_ascii_lowercase().as_slice() {
        b"string" => ctx.reply.bulk(b"Hello World"),
        b"integer" => ctx.reply.integer(12345),
        #[allow(clippy::approx_constant)] // Redis's own test value
        b"double" => ctx.reply.double(3.141),
        b"bignum" => {
            let n = b"1234567999999999999999999999999999999";
            if resp3 {
                ctx.reply.buf.push(b'(');
                ctx.reply.buf.extend_from_slice(n);
                ctx.reply.buf.extend_from_slice(b"\r\n");
            } else {
                ctx.reply.bulk(n);
            }
        }
        b"null" => ctx.reply.null(),
        b"array" => {
            ctx.reply.array(3);
            (0..3).for_each(|i| ctx.reply.integer(i));
        }
        b"set" => {
            ctx.reply.set(3);
            (0..3).for_each(|i| ctx.reply.integer(i));
        }
        b"map" => {
            ctx.reply.map(3);
            for i in 0..3 {
                ctx.reply.integer(i);
                ctx.reply.boolean(i == 1);
            }
        }
        b"attrib" => {
            if resp3 {
                ctx.reply.buf.extend_from_slice(b"|1\r\n");
                ctx.reply.bulk(b"key-popularity");
                ctx.reply.array(2);
                ctx.reply.bulk(b"key:123");
                ctx.reply.integer(90);
            }
            ctx.reply.bulk(b"Some real reply following the attribute");
        }
        b"push" => {
            if !resp3 {
                return Err(CmdError::err("RESP2 is not supported by this command"));
            }
            ctx.reply.push(2);
            ctx.reply.bulk(b"server-cpu-usage");
            ctx.reply.integer(42);
            ctx.reply.bulk(b"Some real reply following the push reply");
        }
        b"true" => ctx.reply.boolean(true),
        b"false" => ctx.reply.boolean(false),
        b"verbatim" => ctx.reply.verbatim(b"This is a verbatim\nstring"),
        _ => return Err(CmdError::err("Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")),
    }
    Ok(())
}

/// MYHELP [command] — every supported command with its arguments and a
/// one-line summary, by family (the original design's built-in help).
fn myhelp_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let lines: Vec<String> = all_commands()
        .filter(|c| args.len() < 2 || args[1].eq_ignore_ascii_case(c.name.as_bytes()))
        .map(|c| {
            format!(
                "[{}] {} {} - {}",
                c.group.name(),
                c.name.to_ascii_uppercase(),
                c.syntax,
                c.summary
            )
        })
        .collect();
    if lines.is_empty() {
        return Err(CmdError::err(format!(
            "unknown command '{}'",
            String::from_utf8_lossy(args[1])
        )));
    }
    ctx.reply.array(lines.len());
    for l in lines {
        ctx.reply.bulk(l.as_bytes());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders arguments the way redis-cli 7 builds its hints.
    fn render(args: &[DocArg]) -> String {
        args.iter()
            .map(|a| {
                let body = match &a.token {
                    Some(t) => t.clone(),
                    None => a.name.clone(),
                };
                let body = if a.multiple {
                    format!("{body} [{body} ...]")
                } else {
                    body
                };
                if a.optional {
                    format!("[{body}]")
                } else {
                    body
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn doc_arguments_render_back_to_the_syntax_line() {
        for syntax in [
            "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
            "key [key ...]",
            "key value [key value ...]",
            "cursor [MATCH pattern] [COUNT count] [TYPE type]",
        ] {
            assert_eq!(render(&doc_arguments(syntax)), syntax);
        }
        let args = doc_arguments("key [key ...]");
        assert_eq!(args.len(), 1);
        assert_eq!(args[0].kind, "key");
        assert!(args[0].multiple);
        assert!(doc_arguments("").is_empty());
    }
}
