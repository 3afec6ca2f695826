//! THE command table, and the dispatcher that runs one command.
//!
//! Every command is one [`Command`] row in its family's `COMMANDS` slice
//! (strings.rs, keys.rs, ...). The row *is* the registration: lookup,
//! the arity check, COMMAND / COMMAND DOCS, MYHELP, ACL categories and the
//! README's supported-commands table all read it. Nothing else lists
//! commands.
//!
//! The life of a command in [`execute`]:
//!
//! ```text
//! args ─> lookup (unknown command?) ─> arity ─> auth ─> MULTI queueing?
//!      ─> take the lock the handler kind asks for, once:
//!           Read  -> store.read()    Write -> store.write()    Conn -> none
//!      ─> handler(ctx, store, args)  ── Ok: reply already in ctx.reply
//!                                    └─ Err(e): partial reply dropped, "-<e>" written
//!      ─> stats, dirty counter
//! ```
//!
//! Handlers validate every argument before touching the store, so an error
//! never leaves a half-done write behind. The lock is released before the
//! client loop writes the replies to the socket.

pub mod connection;
pub mod expire;
pub mod keys;
pub mod server;
pub mod strings;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Instant;

use crate::client::ClientState;
use crate::error::{CmdError, CmdResult};
use crate::resp::ReplyBuf;
use crate::server::Server;
use crate::store::{Db, Store};

/// A handler that only reads the store (runs under the read lock).
pub type ReadFn = fn(&mut Ctx, &Store, &[&[u8]]) -> CmdResult;
/// A handler that may modify the store (runs under the write lock).
pub type WriteFn = fn(&mut Ctx, &mut Store, &[&[u8]]) -> CmdResult;
/// A handler that does not touch the keyspace (or locks it itself).
pub type ConnFn = fn(&mut Ctx, &[&[u8]]) -> CmdResult;

/// How a handler is called, and so which lock the dispatcher takes.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Read lock.
    Read(ReadFn),
    /// Write lock.
    Write(WriteFn),
    /// No store lock.
    Conn(ConnFn),
}

/// Which family a command belongs to (COMMAND DOCS `group`, MYHELP sections).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Generic keyspace commands.
    Generic,
    /// Strings.
    String,
    /// Lists.
    List,
    /// Hashes.
    Hash,
    /// Sets.
    Set,
    /// Sorted sets.
    SortedSet,
    /// Publish/subscribe.
    PubSub,
    /// MULTI/EXEC.
    Transactions,
    /// Connection management.
    Connection,
    /// Server management.
    Server,
}

impl Group {
    /// The name Redis uses in COMMAND DOCS.
    pub fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::List => "list",
            Group::Hash => "hash",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::PubSub => "pubsub",
            Group::Transactions => "transactions",
            Group::Connection => "connection",
            Group::Server => "server",
        }
    }
}

/// One row of the command table.
pub struct Command {
    /// Lowercase name.
    pub name: &'static str,
    /// Redis arity: N = exactly N arguments (name included), -N = at least N.
    pub arity: i32,
    /// Space-separated Redis command flags ("write denyoom fast" ...).
    pub flags: &'static str,
    /// Position of the first key argument (0 = no keys).
    pub first_key: i32,
    /// Position of the last key (-1 = the last argument, -2 = the one before).
    pub last_key: i32,
    /// Step between keys.
    pub key_step: i32,
    /// The family.
    pub group: Group,
    /// Arguments, as the command's documentation writes them (MYHELP, hints).
    pub syntax: &'static str,
    /// One line of what it does.
    pub summary: &'static str,
    /// The code.
    pub handler: Handler,
}

impl Command {
    /// True when the flags contain `flag`.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.split(' ').any(|f| f == flag)
    }

    /// True for commands that may modify the keyspace.
    pub fn is_write(&self) -> bool {
        self.has_flag("write")
    }

    /// The positions of the key arguments in `args`.
    pub fn key_positions(&self, argc: usize) -> Vec<usize> {
        if self.first_key <= 0 {
            return Vec::new();
        }
        let last = if self.last_key < 0 {
            argc as i32 + self.last_key
        } else {
            self.last_key
        };
        let mut out = Vec::new();
        let mut i = self.first_key;
        while i <= last && (i as usize) < argc {
            out.push(i as usize);
            i += self.key_step.max(1);
        }
        out
    }
}

/// Builds a table row.
#[allow(clippy::too_many_arguments)]
pub const fn cmd(
    name: &'static str,
    arity: i32,
    flags: &'static str,
    keys: (i32, i32, i32),
    group: Group,
    syntax: &'static str,
    summary: &'static str,
    handler: Handler,
) -> Command {
    Command {
        name,
        arity,
        flags,
        first_key: keys.0,
        last_key: keys.1,
        key_step: keys.2,
        group,
        syntax,
        summary,
        handler,
    }
}

/// Every family's rows, in MYHELP order.
pub fn families() -> [&'static [Command]; 5] {
    [
        connection::COMMANDS,
        strings::COMMANDS,
        keys::COMMANDS,
        expire::COMMANDS,
        server::COMMANDS,
    ]
}

/// Every command, as an iterator over the family tables.
pub fn all_commands() -> impl Iterator<Item = &'static Command> {
    families().into_iter().flat_map(|f| f.iter())
}

fn table() -> &'static HashMap<&'static str, (usize, &'static Command)> {
    static TABLE: OnceLock<HashMap<&'static str, (usize, &'static Command)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        all_commands()
            .enumerate()
            .map(|(i, c)| (c.name, (i, c)))
            .collect()
    })
}

/// Number of commands in the table.
pub fn command_count() -> usize {
    table().len()
}

/// Finds a command by name, case-insensitively, without allocating for
/// ordinary names. Returns its index (for per-command statistics) too.
pub fn lookup(name: &[u8]) -> Option<(usize, &'static Command)> {
    let mut lower = [0u8; 32];
    if name.len() > lower.len() {
        return None;
    }
    for (dst, src) in lower.iter_mut().zip(name) {
        *dst = src.to_ascii_lowercase();
    }
    let key = std::str::from_utf8(&lower[..name.len()]).ok()?;
    table().get(key).copied()
}

/// What a handler may use while it runs.
pub struct Ctx<'a> {
    /// Shared server state.
    pub server: &'a Arc<Server>,
    /// This connection's state (selected db, protocol, auth, ...).
    pub client: &'a mut ClientState,
    /// Where the reply goes.
    pub reply: &'a mut ReplyBuf,
    /// The time this command runs at, unix ms (one clock read per command).
    pub now_ms: i64,
    /// Number of changes this command made to the keyspace.
    pub dirty: u64,
    /// True while EXEC runs queued commands: blocking commands must not block.
    pub in_exec: bool,
    /// Keyspace events raised by this command: (class letter, event, key).
    /// Published after the store lock is released (notify-keyspace-events).
    pub events: Vec<(char, &'static str, Vec<u8>)>,
}

impl Ctx<'_> {
    /// Records a keyspace event (Redis's `notifyKeyspaceEvent`): `class` is
    /// the notify-keyspace-events letter (g generic, $ string, l list, h
    /// hash, s set, z zset, x expired ...), `event` the event name.
    pub fn notify(&mut self, class: char, event: &'static str, key: &[u8]) {
        // Free when notify-keyspace-events is empty (the default).
        if !self
            .server
            .notify_enabled
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            return;
        }
        self.events.push((class, event, key.to_vec()));
    }

    /// The selected database.
    pub fn db<'s>(&self, store: &'s Store) -> &'s Db {
        store.db(self.client.db)
    }

    /// The selected database, mutably.
    pub fn db_mut<'s>(&self, store: &'s mut Store) -> &'s mut Db {
        store.db_mut(self.client.db)
    }
}

/// The "unknown command" error, as Redis formats it.
fn unknown_command(args: &[&[u8]]) -> CmdError {
    let name = String::from_utf8_lossy(args[0]);
    let name: String = name.chars().take(128).collect();
    let mut text = format!("unknown command '{name}', with args beginning with: ");
    for a in args.iter().skip(1) {
        let a = String::from_utf8_lossy(a);
        if text.len() + a.len() > 128 + 64 {
            break;
        }
        text.push_str(&format!("'{a}' "));
    }
    CmdError::Err(text)
}

/// CLIENT REPLY OFF / SKIP: drops this command's reply when asked.
fn apply_reply_mode(ctx: &mut Ctx, before: crate::client::ReplyMode, mark: usize) {
    use crate::client::ReplyMode;
    let after = ctx.client.reply_mode;
    let drop = (before == ReplyMode::Skip && after == ReplyMode::Skip)
        || matches!(after, ReplyMode::Off | ReplyMode::SkipNext);
    if drop {
        ctx.reply.buf.truncate(mark);
    }
    ctx.client.reply_mode = match after {
        ReplyMode::SkipNext => ReplyMode::Skip,
        ReplyMode::Skip => ReplyMode::On,
        m => m,
    };
}

/// True when `args` satisfy the arity `arity`.
pub fn arity_ok(arity: i32, argc: usize) -> bool {
    if arity >= 0 {
        argc == arity as usize
    } else {
        argc >= (-arity) as usize
    }
}

/// Runs one command and writes its reply (or error) to `ctx.reply`.
pub fn execute(ctx: &mut Ctx, args: &[&[u8]]) {
    let Some(&first) = args.first() else {
        return;
    };
    let reply_mark = ctx.reply.buf.len();
    let mode_before = ctx.client.reply_mode;
    let started = Instant::now();
    let found = lookup(first);
    // Refused before running (unknown, arity, auth): Redis's rejected calls.
    let mut rejected = false;
    let result = match found {
        None => {
            rejected = true;
            Err(unknown_command(args))
        }
        Some((_, command)) => {
            connection::record_last_command(&ctx.client.info, command.name, args);
            match precheck(ctx, command, args) {
                Err(e) => {
                    rejected = true;
                    Err(e)
                }
                Ok(()) => run_handler(ctx, command, args),
            }
        }
    };
    if let Err(e) = &result {
        ctx.reply.buf.truncate(reply_mark);
        ctx.reply.error(&e.to_string());
    }
    apply_reply_mode(ctx, mode_before, reply_mark);
    let elapsed_us = started.elapsed().as_micros() as u64;
    let index = found.map(|(i, _)| i);
    match result.as_ref().err() {
        Some(e) if rejected => ctx.server.stats.record_rejected(index, e),
        error => ctx.server.stats.record_command(index, elapsed_us, error),
    }
    if ctx.dirty > 0 {
        ctx.server.add_dirty(ctx.dirty);
        ctx.dirty = 0;
    }
}

/// The central checks before a command runs: arity, then authentication.
fn precheck(ctx: &Ctx, command: &Command, args: &[&[u8]]) -> CmdResult {
    if !arity_ok(command.arity, args.len()) {
        return Err(CmdError::WrongArity(command.name.to_string()));
    }
    if !ctx.client.authenticated && !command.has_flag("no_auth") && ctx.server.auth_required() {
        return Err(CmdError::NoAuth);
    }
    Ok(())
}

/// Checks, then runs the handler (with the lock its kind asks for).
#[allow(dead_code)]
fn run(ctx: &mut Ctx, command: &'static Command, args: &[&[u8]]) -> CmdResult {
    precheck(ctx, command, args)?;
    run_handler(ctx, command, args)
}

/// Runs the handler under the lock its kind asks for.
fn run_handler(ctx: &mut Ctx, command: &'static Command, args: &[&[u8]]) -> CmdResult {
    ctx.now_ms = crate::util::now_ms();
    match command.handler {
        Handler::Conn(f) => f(ctx, args),
        Handler::Read(f) => {
            // Lazy expiry and keyspace hit/miss counting (see expire.rs).
            let server = ctx.server;
            let store = crate::expire::lock_for_read(server, ctx, command, args);
            f(ctx, &store, args)
        }
        Handler::Write(f) => {
            let mut store = ctx.server.store.write().unwrap_or_else(|p| p.into_inner());
            f(ctx, &mut store, args)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_unique_lowercase_and_short() {
        let mut seen = std::collections::HashSet::new();
        for c in all_commands() {
            assert!(seen.insert(c.name), "duplicate {}", c.name);
            assert_eq!(c.name, c.name.to_ascii_lowercase());
            assert!(c.name.len() <= 32);
            assert!(c.arity != 0);
        }
    }

    #[test]
    fn lookup_is_case_insensitive() {
        assert_eq!(lookup(b"GeT").map(|(_, c)| c.name), Some("get"));
        assert!(lookup(b"nosuchcommand").is_none());
    }
}
