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
//! args ─> lookup (unknown command?) ─> arity ─> auth
//!      ─> session rules (subscribed mode, no-multi, MULTI queueing: +QUEUED)
//!      ─> take the lock the handler kind asks for, once:
//!           Read  -> store.read()    Write -> store.write()    Conn -> none
//!      ─> handler(ctx, store, args)  ── Ok: reply already in ctx.reply
//!                                    └─ Err(e): partial reply dropped, "-<e>" written
//!      ─> stats, dirty counter
//! ```
//!
//! After a write, [`run_with_store`] touches WATCHed keys and turns lazily
//! expired and newly created keys into keyspace events; `ctx.events` are
//! published (pubsub.rs) after the lock is released. EXEC runs a whole
//! transaction through [`run_with_store`] under one write lock. The plain
//! data commands of a pipelined batch share one write lock too: the client
//! loop takes it and passes it in `ctx.held` ([`may_keep_lock`] says which
//! requests qualify).
//!
//! Handlers validate every argument before touching the store, so an error
//! never leaves a half-done write behind. The lock is released before the
//! client loop writes the replies to the socket.

pub mod acl;
pub mod aof;
pub mod bitops;
pub mod connection;
pub mod expire;
pub mod geo;
pub mod hashes;
pub mod hyperloglog;
pub mod info;
pub mod introspection;
pub mod keys;
pub mod latency_histogram;
pub mod lists;
pub mod lolwut;
pub mod multi;
pub mod persistence;
pub mod pubsub;
pub mod server;
pub mod sets;
pub mod sort;
pub mod streams;
pub mod strings;
pub mod zsets;

use std::collections::HashMap;
use std::hash::BuildHasherDefault;
use std::sync::{Arc, OnceLock};

use crate::blocking::{self, BlockRequest};
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
    /// Streams.
    Stream,
    /// Publish/subscribe.
    PubSub,
    /// MULTI/EXEC.
    Transactions,
    /// Connection management.
    Connection,
    /// Server management.
    Server,
    /// Bitmaps (bit operations on strings).
    Bitmap,
    /// HyperLogLog.
    HyperLogLog,
    /// Geospatial indexes.
    Geo,
    /// Lua scripts and functions.
    Scripting,
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
            Group::Stream => "stream",
            Group::PubSub => "pubsub",
            Group::Transactions => "transactions",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::Bitmap => "bitmap",
            Group::HyperLogLog => "hyperloglog",
            Group::Geo => "geo",
            Group::Scripting => "scripting",
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
    /// The flags the dispatcher tests on every call, as [`FLAG_BITS`] bits,
    /// parsed from `flags` once at compile time by [`cmd`].
    pub flag_bits: u32,
}

/// Flags the dispatcher checks per command, each with its bit in
/// [`Command::flag_bits`] (index = bit number). Testing a bit instead of
/// splitting the flag string saves ~200 instructions per command.
pub const FLAG_BITS: [&str; 10] = [
    "write",
    "readonly",
    "no_auth",
    "fast",
    "blocking",
    "skip_slowlog",
    "stale",
    "denyoom",
    "loading",
    "no_async_loading",
];
const FLAG_WRITE: u32 = 1 << 0;
const FLAG_READONLY: u32 = 1 << 1;
const FLAG_NO_AUTH: u32 = 1 << 2;
const FLAG_BLOCKING: u32 = 1 << 4;
const FLAG_STALE: u32 = 1 << 6;
const FLAG_DENYOOM: u32 = 1 << 7;
const FLAG_LOADING: u32 = 1 << 8;
const FLAG_NO_ASYNC_LOADING: u32 = 1 << 9;
/// Set by [`cmd`] for the names in [`CONTAINERS`].
const FLAG_CONTAINER: u32 = 1 << 31;

/// Commands whose first argument is a subcommand with its own flags, key
/// positions and statistics (CONFIG GET, FUNCTION LOAD ...).
pub const CONTAINERS: &[&str] = &[
    "acl", "client", "cluster", "command", "config", "function", "latency", "memory", "module",
    "object", "pubsub", "script", "slowlog", "xgroup", "xinfo",
];

/// True when `name` is in [`CONTAINERS`], at compile time.
const fn is_container_name(name: &str) -> bool {
    let name = name.as_bytes();
    let mut i = 0;
    while i < CONTAINERS.len() {
        let c = CONTAINERS[i].as_bytes();
        if c.len() == name.len() {
            let mut j = 0;
            while j < c.len() && c[j] == name[j] {
                j += 1;
            }
            if j == c.len() {
                return true;
            }
        }
        i += 1;
    }
    false
}

/// `flags` ("write denyoom fast") as [`FLAG_BITS`] bits, at compile time.
const fn parse_flag_bits(flags: &str) -> u32 {
    let f = flags.as_bytes();
    let mut bits = 0;
    let mut start = 0;
    while start < f.len() {
        let mut end = start;
        while end < f.len() && f[end] != b' ' {
            end += 1;
        }
        let mut i = 0;
        while i < FLAG_BITS.len() {
            let name = FLAG_BITS[i].as_bytes();
            if name.len() == end - start {
                let mut j = 0;
                while j < name.len() && name[j] == f[start + j] {
                    j += 1;
                }
                if j == name.len() {
                    bits |= 1 << i;
                }
            }
            i += 1;
        }
        start = end + 1;
    }
    bits
}

impl Command {
    /// True when the flags contain `flag`.
    pub fn has_flag(&self, flag: &str) -> bool {
        match FLAG_BITS.iter().position(|f| *f == flag) {
            Some(bit) => self.flag_bits & (1 << bit) != 0,
            None => self.flags.split(' ').any(|f| f == flag),
        }
    }

    /// True for commands that may modify the keyspace.
    pub fn is_write(&self) -> bool {
        self.flag_bits & FLAG_WRITE != 0
    }

    /// True for commands flagged `readonly`.
    pub fn is_readonly(&self) -> bool {
        self.flag_bits & FLAG_READONLY != 0
    }

    /// The positions of the key arguments in `args` (no allocation: the
    /// dispatcher asks this for every command).
    pub fn key_positions(&self, argc: usize) -> std::iter::StepBy<std::ops::Range<usize>> {
        if self.first_key <= 0 {
            return (0..0).step_by(1);
        }
        let last = if self.last_key < 0 {
            argc as i32 + self.last_key
        } else {
            self.last_key
        };
        let end = (last.max(0) as usize).saturating_add(1).min(argc);
        let first = (self.first_key as usize).min(end);
        (first..end).step_by(self.key_step.max(1) as usize)
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
        flag_bits: parse_flag_bits(flags)
            | if is_container_name(name) {
                FLAG_CONTAINER
            } else {
                0
            },
    }
}

/// Every family's rows, in MYHELP order.
pub fn families() -> [&'static [Command]; 23] {
    [
        acl::COMMANDS,
        aof::COMMANDS,
        connection::COMMANDS,
        strings::COMMANDS,
        lists::COMMANDS,
        keys::COMMANDS,
        expire::COMMANDS,
        pubsub::COMMANDS,
        multi::COMMANDS,
        server::COMMANDS,
        introspection::COMMANDS,
        hashes::COMMANDS,
        sets::COMMANDS,
        streams::COMMANDS,
        persistence::COMMANDS,
        bitops::COMMANDS,
        hyperloglog::COMMANDS,
        geo::COMMANDS,
        zsets::COMMANDS,
        sort::COMMANDS,
        crate::scripting::eval::COMMANDS,
        crate::scripting::function::COMMANDS,
        crate::replication::COMMANDS,
    ]
}

/// Every command, as an iterator over the family tables.
pub fn all_commands() -> impl Iterator<Item = &'static Command> {
    families().into_iter().flat_map(|f| f.iter())
}

/// FNV-1a, for the command table only: its keys are our own command names,
/// so the flooding resistance of the default SipHash buys nothing there, and
/// FNV hashes a short name in a fraction of SipHash's instructions.
#[derive(Default, Clone, Copy)]
struct NameHasher(u64);

impl std::hash::Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for b in bytes {
            h = (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

type NameTable = HashMap<&'static [u8], (usize, &'static Command), BuildHasherDefault<NameHasher>>;

/// The config file's `rename-command` lines, set once at start before the
/// first lookup (see [`set_renames`]).
static RENAMES: OnceLock<Vec<(String, String)>> = OnceLock::new();

/// Applies `rename-command old new` (an empty new name disables the
/// command): called at start, before any command is looked up.
pub fn set_renames(renames: Vec<(String, String)>) {
    let _ = RENAMES.set(renames);
}

fn table() -> &'static NameTable {
    static TABLE: OnceLock<NameTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut table: NameTable = all_commands()
            .enumerate()
            .map(|(i, c)| (c.name.as_bytes(), (i, c)))
            .collect();
        for (old, new) in RENAMES.get().into_iter().flatten() {
            if let Some(entry) = table.remove(old.as_bytes()) {
                if !new.is_empty() {
                    // Leaked once at start: the table's keys live forever.
                    let name: &'static str = Box::leak(new.clone().into_boxed_str());
                    table.insert(name.as_bytes(), entry);
                }
            }
        }
        table
    })
}

/// The command at `index` of the table (the index [`lookup`] gives).
pub fn command_at(index: usize) -> Option<&'static Command> {
    static BY_INDEX: OnceLock<Vec<&'static Command>> = OnceLock::new();
    BY_INDEX
        .get_or_init(|| all_commands().collect())
        .get(index)
        .copied()
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
    table().get(&lower[..name.len()]).copied()
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
    /// True for a command a Lua script runs (redis.call).
    pub in_script: bool,
    /// Keyspace events raised by this command: (class letter, event, key).
    /// Published after the store lock is released (notify-keyspace-events).
    pub events: Vec<(char, &'static str, Vec<u8>)>,
    /// Set by a blocking command that found nothing to serve (BLPOP ...):
    /// the dispatcher then waits for its keys (see blocking.rs).
    pub block: Option<BlockRequest>,
    /// While a blocked command runs again after a wake-up: the request it
    /// blocked with (XREAD finds there the IDs its `$` stood for).
    pub resumed: Option<BlockRequest>,
    /// The store's write lock, when the connection keeps it across the
    /// commands of a pipelined batch (see client.rs): the command runs on
    /// it instead of locking, and waits nothing out under it.
    pub held: Option<&'a mut Store>,
    /// A clock reading (unix µs) taken a moment ago, at the end of the
    /// previous command of the same pipelined batch: `execute` starts from
    /// it instead of reading the clock again, and leaves its own end
    /// reading here. A clock read is one of the costlier steps of a cheap
    /// command; the caller clears this whenever it may have waited.
    pub clock_us: Option<i64>,
}

impl<'a> Ctx<'a> {
    /// A context for running one command for `client`.
    pub fn new(
        server: &'a Arc<Server>,
        client: &'a mut ClientState,
        reply: &'a mut ReplyBuf,
    ) -> Self {
        Ctx {
            server,
            client,
            reply,
            now_ms: 0,
            dirty: 0,
            in_exec: false,
            in_script: false,
            events: Vec::new(),
            block: None,
            resumed: None,
            held: None,
            clock_us: None,
        }
    }

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
    // One clock read gives the command's time (expiry) and the start of
    // its duration (INFO commandstats, SLOWLOG), in µs like Redis's ustime().
    let started_us = ctx.clock_us.take().unwrap_or_else(crate::util::now_us);
    ctx.now_ms = started_us / 1000;
    let found = lookup(first);
    // Refused before running (unknown, arity, auth): Redis's rejected calls.
    let mut rejected = false;
    let in_multi_before = ctx.client.tx.queue.is_some();
    let result = match found {
        None => {
            rejected = true;
            Err(multi::reject(ctx, None, unknown_command(args)))
        }
        Some((index, command)) => {
            connection::record_last_command(&ctx.client.info, index, command, args);
            match precheck(ctx, command, args) {
                Err(e) => {
                    rejected = true;
                    Err(multi::reject(ctx, Some(command), e))
                }
                Ok(()) => {
                    // A script is shown before the commands it runs, as Redis.
                    if !in_multi_before && command.group == Group::Scripting {
                        introspection::feed_monitors(ctx, command, args, &Ok(()), false);
                    }
                    run_handler(ctx, index, command, args)
                }
            }
        }
    };
    // A command MULTI only queued is counted and monitored when EXEC runs it.
    let queued = in_multi_before && ctx.client.tx.queue.is_some() && result.is_ok();
    if let Some((_, command)) = found {
        let fed_before = !in_multi_before && command.group == Group::Scripting && !rejected;
        if !fed_before {
            introspection::feed_monitors(ctx, command, args, &result, queued);
        }
    }
    // AOF: with the lock released, wait for the write (and fsync) to land
    // (a batch on a kept lock waits once, at its end: see client.rs).
    if ctx.held.is_none() {
        crate::persistence::aof::wait_written(ctx.server);
    }
    if let Err(e) = &result {
        ctx.reply.buf.truncate(reply_mark);
        let text = e.to_string();
        if crate::replication::applying() && !queued {
            let name = found.map(|(_, c)| acl::full_name(c, args));
            crate::replication::replica::error_from_master(ctx.server, name.as_deref(), &text);
        }
        ctx.reply.error(&text);
    }
    let ended_us = crate::util::now_us();
    ctx.clock_us = Some(ended_us);
    // A wall clock set back during the command reads as zero time.
    let elapsed_us = ended_us.saturating_sub(started_us).max(0) as u64;
    // Redis neither times nor slow-logs a call it refused before running
    // (its dispatcher also refuses unknown subcommands).
    let refused = result.as_ref().err().is_some_and(|e| {
        !queued
            && (rejected
                || e.is_rejection()
                || matches!(e, CmdError::Err(t) if t.starts_with("unknown subcommand '")))
    });
    if !refused {
        introspection::record_slow_command(ctx, found, args, elapsed_us);
    }
    let index = found.map(|(i, _)| i);
    match result.as_ref().err() {
        _ if queued => {}
        Some(e) if rejected || e.is_rejection() => ctx.server.stats.record_rejected(index, args, e),
        error => ctx
            .server
            .stats
            .record_command(index, args, elapsed_us, error),
    }
    if ctx.dirty > 0 {
        ctx.server.add_dirty(ctx.dirty);
        ctx.dirty = 0;
    }
    // Serve clients blocked on keys this command may have filled (inside
    // EXEC this waits for the end of the whole transaction). Read-only and
    // connection/server commands cannot fill a key; anything else (writes,
    // EXEC, scripts) may.
    if !ctx.in_exec && ctx.held.is_none() && !ctx.server.blocking.is_empty() {
        let may_fill = found.is_some_and(|(_, c)| {
            c.is_write()
                || !(c.is_readonly() || matches!(c.group, Group::Connection | Group::Server))
        });
        if may_fill {
            blocking::serve_ready(ctx.server);
        }
    }
    apply_reply_mode(ctx, found.map(|(_, c)| c), reply_mark);
    crate::tracking::after_command(ctx, found.map(|(_, c)| c), args);
    publish_events(ctx);
}

/// CLIENT REPLY OFF / SKIP: drops this command's reply, except pub/sub
/// confirmations, which Redis always sends (they are pushes).
fn apply_reply_mode(ctx: &mut Ctx, command: Option<&Command>, reply_mark: usize) {
    use crate::client::ReplyMode;
    let is_pubsub = command.is_some_and(|c| c.name.ends_with("subscribe"));
    match ctx.client.reply_mode {
        ReplyMode::On => {}
        ReplyMode::Off => {
            if !is_pubsub {
                ctx.reply.buf.truncate(reply_mark);
            }
        }
        ReplyMode::SkipNext => ctx.client.reply_mode = ReplyMode::Skip,
        ReplyMode::Skip => {
            if !is_pubsub {
                ctx.reply.buf.truncate(reply_mark);
            }
            ctx.client.reply_mode = ReplyMode::On;
        }
    }
}

/// The central checks before a command runs: arity, authentication, and
/// MISCONF (Redis refuses writes, and PING, while RDB saving is failing and
/// stop-writes-on-bgsave-error is on).
fn precheck(ctx: &Ctx, command: &Command, args: &[&[u8]]) -> CmdResult {
    if !arity_ok(command.arity, args.len()) {
        return Err(CmdError::WrongArity(command.name.to_string()));
    }
    if !ctx.client.authenticated
        && command.flag_bits & FLAG_NO_AUTH == 0
        && ctx.server.auth_required()
    {
        return Err(CmdError::NoAuth);
    }
    let kinds = CallKinds::of(ctx, command, args);
    crate::replication::check_write_allowed(ctx, kinds.write)?;
    if (kinds.write || command.name == "ping") && crate::persistence::writes_denied(ctx.server) {
        return Err(CmdError::MisConf);
    }
    crate::replication::check_good_replicas(ctx, kinds.write)?;
    crate::replication::check_stale(ctx, kinds.deny_stale)?;
    if kinds.deny_loading && ctx.server.loading.refuses_here() {
        return Err(CmdError::Raw(crate::persistence::LOADING_ERROR.into()));
    }
    if kinds.deny_async_loading && crate::replication::async_loading(ctx.server) {
        return Err(CmdError::Raw(crate::persistence::LOADING_ERROR.into()));
    }
    Ok(())
}

/// The flags the checks before a command look at, for the command as
/// called (Redis's processCommand): a container's subcommand has flags of
/// its own (FUNCTION LOAD writes, FUNCTION LIST does not), and EXEC is
/// judged by the commands it would run.
#[derive(Default)]
pub struct CallKinds {
    /// It writes (READONLY, MISCONF, NOREPLICAS).
    pub write: bool,
    /// It is not flagged `stale` (MASTERDOWN).
    pub deny_stale: bool,
    /// It is flagged `denyoom` (OOM).
    pub denyoom: bool,
    /// It is not flagged `loading` (LOADING).
    pub deny_loading: bool,
    /// It is flagged `no_async_loading` (LOADING while a replica loads
    /// its master's data in the background).
    pub deny_async_loading: bool,
}

impl CallKinds {
    pub fn of(ctx: &Ctx, command: &Command, args: &[&[u8]]) -> CallKinds {
        if let Some(queue) = ctx
            .client
            .tx
            .queue
            .as_ref()
            .filter(|_| command.name == "exec")
        {
            let mut all = CallKinds::default();
            for argv in queue {
                let args: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
                if let Some((_, queued)) = args.first().and_then(|name| lookup(name)) {
                    let k = CallKinds::of_command(queued, &args);
                    all.write |= k.write;
                    all.deny_stale |= k.deny_stale;
                    all.denyoom |= k.denyoom;
                    all.deny_loading |= k.deny_loading;
                    all.deny_async_loading |= k.deny_async_loading;
                }
            }
            return all;
        }
        CallKinds::of_command(command, args)
    }

    fn of_command(command: &Command, args: &[&[u8]]) -> CallKinds {
        if command.group == Group::Scripting {
            if let Some(bits) = crate::scripting::declared_flags(command, args) {
                use crate::scripting::flags::{ALLOW_OOM, ALLOW_STALE, NO_WRITES};
                return CallKinds {
                    write: bits & NO_WRITES == 0,
                    deny_stale: bits & ALLOW_STALE == 0,
                    denyoom: bits & (ALLOW_OOM | NO_WRITES) == 0,
                    deny_loading: command.flag_bits & FLAG_LOADING == 0,
                    deny_async_loading: command.flag_bits & FLAG_NO_ASYNC_LOADING != 0,
                };
            }
        }
        if command.is_container() && args.len() >= 2 {
            let meta = crate::acl::table::meta();
            if let Some(sub) = meta.resolve(args).and_then(|id| meta.cmds.get(id)) {
                let has = |flag: &str| sub.flags.split(' ').any(|f| f == flag);
                return CallKinds {
                    write: has("write"),
                    deny_stale: !has("stale"),
                    denyoom: has("denyoom"),
                    deny_loading: !has("loading"),
                    deny_async_loading: has("no_async_loading"),
                };
            }
        }
        CallKinds {
            write: command.is_write(),
            deny_stale: command.flag_bits & FLAG_STALE == 0,
            denyoom: command.flag_bits & FLAG_DENYOOM != 0,
            deny_loading: command.flag_bits & FLAG_LOADING == 0,
            deny_async_loading: command.flag_bits & FLAG_NO_ASYNC_LOADING != 0,
        }
    }
}

impl Command {
    /// One of the [`CONTAINERS`].
    pub fn is_container(&self) -> bool {
        self.flag_bits & FLAG_CONTAINER != 0
    }

    /// Not flagged `stale`: refused by a replica serving no stale data.
    pub fn denies_stale(&self) -> bool {
        self.flag_bits & FLAG_STALE == 0
    }
}

/// Whether this request may run on a store write lock kept from the
/// previous request of the same pipelined batch (see client.rs). Only plain
/// data commands qualify, and only while nothing that needs the lock
/// between commands (eviction, blocked clients, MONITOR, tracking, keyspace
/// events, a pause, ACL rules, a transaction) is in play.
pub fn may_keep_lock(server: &Server, client: &ClientState, args: &[&[u8]]) -> bool {
    use std::sync::atomic::Ordering::Relaxed;
    let Some((_, command)) = args.first().and_then(|name| lookup(name)) else {
        return false;
    };
    matches!(command.handler, Handler::Read(_) | Handler::Write(_))
        && command.flag_bits & FLAG_BLOCKING == 0
        && command.group != Group::Scripting
        && client.tx.queue.is_none()
        && client.pubsub.subscriber.is_none()
        && client.user == "default"
        && !server.acl_default_restricted.load(Relaxed)
        && !server.notify_enabled.load(Relaxed)
        && server.blocking.is_empty()
        && !server.monitors.is_active()
        && !server.tracking.is_active()
        && server.pause.mode().is_none()
        && !crate::evict::maxmemory_set()
}

/// ACL and session rules, then the handler under the lock its kind asks for.
fn run_handler(
    ctx: &mut Ctx,
    index: usize,
    command: &'static Command,
    args: &[&[u8]],
) -> CmdResult {
    // ACL: free for the unrestricted default user, checked for everyone else.
    if ctx.client.user != "default"
        || ctx
            .server
            .acl_default_restricted
            .load(std::sync::atomic::Ordering::Relaxed)
    {
        if let Err(e) = acl::check_permission(ctx, index, command, args) {
            return Err(multi::reject(ctx, Some(command), e));
        }
    }
    // maxmemory: evict, or refuse a denyoom command with the OOM error.
    // (A batch on a kept lock started with maxmemory off: it runs as if
    // before any CONFIG SET that came meanwhile, as it would in Redis.)
    if ctx.held.is_none() {
        if let Err(e) = crate::evict::before_command(ctx, command, args) {
            return Err(multi::reject(ctx, Some(command), e));
        }
    }
    crate::tracking::before_command(ctx);
    // A script of another client running past busy-reply-threshold: -BUSY.
    if let Err(e) = crate::scripting::busy_check(ctx, command, args) {
        return Err(multi::reject(ctx, Some(command), e));
    }
    if let Some(result) = session_rules(ctx, command, args) {
        return result;
    }
    if let Some(store) = ctx.held.take() {
        // Nothing waits under a kept lock: a pause or freeze that began
        // during the batch applies from its next read on.
        let result = match command.handler {
            Handler::Read(_) => {
                crate::expire::prepare_read_locked(ctx, command, args, store);
                run_with_store(ctx, command, args, store)
            }
            _ => run_with_store(ctx, command, args, store),
        };
        debug_assert!(
            ctx.block.is_none(),
            "blocking commands never run on a kept lock"
        );
        ctx.held = Some(store);
        return result;
    }
    crate::pause::wait_if_paused(ctx, command, args);
    ctx.server.freeze.wait(ctx.client.id);
    match command.handler {
        Handler::Conn(f) => f(ctx, args),
        Handler::Read(f) => {
            // Lazy expiry and keyspace hit/miss counting (see expire.rs).
            let server = ctx.server;
            let store = crate::expire::lock_for_read(server, ctx, command, args);
            let result = f(ctx, &store, args);
            if result.is_ok() {
                crate::tracking::remember_keys(ctx, command, args);
            }
            result
        }
        Handler::Write(_) => {
            let waiter = {
                let mut store = ctx.server.store_write();
                run_with_store(ctx, command, args, &mut store)?;
                match ctx.block.take() {
                    None => return Ok(()),
                    // Registered under the write lock: no push can be missed.
                    Some(request) => blocking::register(ctx, request),
                }
            };
            blocking::wait(ctx, waiter, |ctx| {
                ctx.now_ms = crate::util::now_ms();
                let mut store = ctx.server.store.write().unwrap_or_else(|p| p.into_inner());
                run_with_store(ctx, command, args, &mut store)
            })
        }
    }
}

// ---- pub/sub, MULTI and keyspace-event parts of the dispatcher ----------

/// The connection-mode rules checked before a command runs: subscribed
/// mode (RESP2), commands refused inside MULTI, RESET's cleanup, and MULTI
/// queuing. Some(result) means the command was answered here.
fn session_rules(ctx: &mut Ctx, command: &'static Command, args: &[&[u8]]) -> Option<CmdResult> {
    if let Some(result) = pubsub::subscribed_mode_check(ctx, command, args) {
        return Some(result.map_err(|e| multi::reject(ctx, Some(command), e)));
    }
    if let Some(e) = multi::refuse_in_multi(ctx, command) {
        return Some(Err(multi::reject(ctx, Some(command), e)));
    }
    if command.name == "reset" {
        ctx.server.monitors.remove(ctx.client.id);
        pubsub::unsubscribe_all(ctx.server, ctx.client);
        multi::reset(ctx.server, ctx.client);
    }
    if multi::queue_if_in_multi(ctx, command, args) {
        return Some(Ok(()));
    }
    None
}

/// Runs a command with the store lock already held (by the dispatcher, or
/// by EXEC for a whole transaction). Read handlers get the store shared,
/// Conn handlers run as usual (they must not lock the store). After a
/// write: WATCHed keys are touched, keys deleted by lazy expiry become
/// `expired` events, and created keys `new` events.
pub fn run_with_store(
    ctx: &mut Ctx,
    command: &'static Command,
    args: &[&[u8]],
    store: &mut Store,
) -> CmdResult {
    match command.handler {
        Handler::Conn(f) => f(ctx, args),
        Handler::Read(f) => {
            let result = f(ctx, store, args);
            if result.is_ok() {
                crate::tracking::remember_keys(ctx, command, args);
            }
            result
        }
        Handler::Write(f) => {
            let dirty_before = ctx.dirty;
            let events_mark = ctx.events.len();
            let absent = absent_keys_for_new_events(ctx, command, args, store);
            let result = f(ctx, store, args);
            after_write(ctx, command, args, store, result.is_ok(), dirty_before);
            let expired = store.take_expired();
            if ctx.server.tracking.is_active() {
                invalidate_tracked(ctx, command, args, &expired, result.is_ok(), dirty_before);
            }
            // AOF: log what the write did, in order (still under the lock).
            let changed = ctx.dirty > dirty_before;
            crate::persistence::aof::propagate(ctx, store, args, &result, changed, &expired);
            let mut before: Vec<(char, &'static str, Vec<u8>)> = Vec::new();
            for (db, key) in expired {
                if db == ctx.client.db {
                    before.push(('x', "expired", key));
                }
            }
            if result.is_ok() {
                for key in absent {
                    if ctx.db(store).contains(&key, ctx.now_ms) {
                        before.push(('n', "new", key));
                    }
                }
            }
            if !before.is_empty() && notify_on(ctx) {
                ctx.events.splice(events_mark..events_mark, before);
            }
            result
        }
    }
}

fn notify_on(ctx: &Ctx) -> bool {
    ctx.server
        .notify_enabled
        .load(std::sync::atomic::Ordering::Relaxed)
}

/// The command's keys that do not exist yet, when `new` events are on.
fn absent_keys_for_new_events(
    ctx: &Ctx,
    command: &Command,
    args: &[&[u8]],
    store: &Store,
) -> Vec<Vec<u8>> {
    let flags = ctx
        .server
        .pubsub
        .notify_flags
        .load(std::sync::atomic::Ordering::Relaxed);
    if !notify_on(ctx) || flags & crate::pubsub::NOTIFY_NEW == 0 {
        return Vec::new();
    }
    let db = ctx.db(store);
    command
        .key_positions(args.len())
        .filter_map(|i| args.get(i))
        .filter(|k| !db.contains(k, ctx.now_ms))
        .map(|k| k.to_vec())
        .collect()
}

/// Signals WATCHers after a successful write (Redis's signalModifiedKey).
fn after_write(
    ctx: &mut Ctx,
    command: &Command,
    args: &[&[u8]],
    store: &Store,
    ok: bool,
    dirty_before: u64,
) {
    let watches = &ctx.server.watches;
    if !ok || !watches.is_active() {
        return;
    }
    match command.name {
        "flushdb" => watches.touch_db(ctx.client.db),
        "flushall" => (0..store.dbs.len()).for_each(|db| watches.touch_db(db)),
        "swapdb" => {
            for arg in &args[1..] {
                if let Some(db) = crate::number::parse_i64(arg) {
                    watches.touch_db(db as usize);
                }
            }
        }
        // Touches only the keys it changed itself (sets.rs).
        "smove" => {}
        _ if ctx.dirty > dirty_before => {
            for i in command.key_positions(args.len()) {
                if let Some(key) = args.get(i) {
                    watches.touch(ctx.client.db, key);
                }
            }
            for (db, key) in keys_outside_key_spec(ctx.client.db, command, args) {
                watches.touch(db, key);
            }
        }
        // SORT ... STORE dst touches dst even when the result is empty.
        _ if command.name == "sort" => {
            for (db, key) in keys_outside_key_spec(ctx.client.db, command, args) {
                watches.touch(db, key);
            }
        }
        _ => {}
    }
}

/// Client-side caching: sends invalidations for the keys a write changed
/// and the keys it found expired (tracking.rs), as `after_write` touches
/// WATCHers.
fn invalidate_tracked(
    ctx: &Ctx,
    command: &Command,
    args: &[&[u8]],
    expired: &[(usize, Vec<u8>)],
    ok: bool,
    dirty_before: u64,
) {
    let server: &Server = ctx.server;
    let me = ctx.client.id;
    crate::tracking::invalidate_keys(server, expired.iter().map(|(_, k)| k.as_slice()), me);
    if !ok {
        return;
    }
    match command.name {
        // Redis 7.0 sends nothing on SWAPDB.
        "flushdb" | "flushall" => crate::tracking::invalidate_all(server, me),
        "swapdb" => {}
        _ if ctx.dirty > dirty_before || command.name == "sort" => {
            let keys = command
                .key_positions(args.len())
                .filter_map(|i| args.get(i).copied())
                .chain(
                    keys_outside_key_spec(ctx.client.db, command, args)
                        .into_iter()
                        .map(|(_, k)| k),
                );
            crate::tracking::invalidate_keys(server, keys, me);
        }
        _ => {}
    }
}

/// Keys a write touches that its table row's key positions do not list:
/// SORT / GEORADIUS* `STORE`/`STOREDIST` destinations, and the target
/// database of MOVE and COPY ... DB.
fn keys_outside_key_spec<'a>(
    db: usize,
    command: &Command,
    args: &[&'a [u8]],
) -> Vec<(usize, &'a [u8])> {
    let mut out = Vec::new();
    let parse_db = |a: &[u8]| crate::number::parse_i64(a).map(|n| n.max(0) as usize);
    match command.name {
        "move" => {
            if let (Some(key), Some(target)) = (args.get(1), args.get(2).and_then(|a| parse_db(a)))
            {
                out.push((target, *key));
            }
        }
        "copy" => {
            let target = args
                .windows(2)
                .skip(3)
                .find(|w| w[0].eq_ignore_ascii_case(b"db"))
                .and_then(|w| parse_db(w[1]));
            if let (Some(t), Some(key)) = (target, args.get(2)) {
                out.push((t, *key));
            }
        }
        "sort" | "georadius" | "georadiusbymember" => {
            for w in args.windows(2) {
                if w[0].eq_ignore_ascii_case(b"store") || w[0].eq_ignore_ascii_case(b"storedist") {
                    out.push((db, w[1]));
                }
            }
        }
        _ => {}
    }
    out
}

/// Publishes the keyspace events the command raised, now that the store
/// lock is released.
fn publish_events(ctx: &mut Ctx) {
    if ctx.events.is_empty() {
        return;
    }
    let events = std::mem::take(&mut ctx.events);
    ctx.server
        .pubsub
        .publish_keyspace_events(ctx.client.db, &events);
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
