//! Lua scripting: EVAL / EVALSHA / SCRIPT ([`eval`]) and functions
//! (FUNCTION / FCALL, [`function`]), on one shared Lua 5.1 VM ([`lua`]).
//! SCRIPT DEBUG's Lua debugger is [`ldb`].
//!
//! # How a script runs
//!
//! EVAL and FCALL are `Write` handlers, so the dispatcher (or EXEC) already
//! holds the store's write lock: the whole script is atomic, as in Redis.
//! [`run`] then
//!
//! ```text
//! marks "script running since T" (busy state, for other clients)
//! starts an AOF batch          (the script's writes go out as MULTI/EXEC)
//! installs impl.run            a Rust closure that is redis.call: checks
//!                              (unknown, arity, noscript, ACL, read-only),
//!                              then super::commands::run_with_store with a
//!                              scratch reply buffer, parsed back into Lua
//! calls the function under xpcall with the error handler
//!                              (a debugging session steps it line by line)
//! converts the result (lua.rs) into the caller's reply
//! clears the busy mark and wakes the clients waiting on it
//! ```
//!
//! # Busy scripts
//!
//! Redis is single-threaded: while a script runs, nobody else runs; after
//! `busy-reply-threshold` ms the script's loop serves other clients again,
//! answering `-BUSY` to all but SCRIPT KILL / FUNCTION KILL / SHUTDOWN
//! NOSAVE and a few connection commands. Here every client has its own
//! thread, so [`busy_check`] is called by the dispatcher before a command
//! takes any lock: when another client's script runs, it waits on a condvar
//! until the script ends or passes the threshold, then answers BUSY (so no
//! client sits blocked on the store lock behind a runaway script). SCRIPT
//! KILL sets a flag that a Lua count hook checks; a script that already
//! wrote cannot be killed (`-UNKILLABLE`).
//!
//! # Error statistics
//!
//! A refusal or failure of a command the script calls counts in errorstats
//! at that call (and in the command's rejected/failed calls). Its error
//! table carries `ignore_error_stats_update`, so if the script then fails
//! with it, the EVAL's reply does not count it again; a script's own
//! `error()` counts at the EVAL. This is Redis's accounting.
//!
//! Lock order: store lock, then the VM mutex; the busy mutex is only ever
//! held for a moment, and never while waiting for another lock.

pub mod eval;
pub mod function;
pub mod ldb;
pub mod libs;
pub mod lua;
pub mod sha1;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mlua::{Function, HookTriggers, Lua, MultiValue, Table, Value};

use crate::client::ClientState;
use crate::commands::{lookup, Command, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::resp::ReplyBuf;
use crate::server::Server;
use crate::store::Store;

/// Scripts in the EVAL cache, for INFO (which has no server at hand).
static CACHED_SCRIPTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// INFO memory's (number_of_cached_scripts, number_of_functions,
/// number_of_libraries).
pub fn info_counts() -> (usize, usize, usize) {
    let (functions, libraries) = function::counts();
    (CACHED_SCRIPTS.load(Ordering::Relaxed), functions, libraries)
}

/// Lua instructions between two checks of the kill flag.
const KILL_CHECK_INSTRUCTIONS: u32 = 1000;

/// `-BUSY` while an EVAL script runs.
pub const BUSY_EVAL: &str =
    "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.";
/// `-BUSY` while a function runs.
pub const BUSY_FUNCTION: &str =
    "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.";

/// Shebang / function flags (Redis's SCRIPT_FLAG_*).
pub mod flags {
    /// `no-writes`
    pub const NO_WRITES: u32 = 1 << 0;
    /// `allow-oom`
    pub const ALLOW_OOM: u32 = 1 << 1;
    /// `allow-stale`
    pub const ALLOW_STALE: u32 = 1 << 2;
    /// `no-cluster`
    pub const NO_CLUSTER: u32 = 1 << 3;
    /// `allow-cross-slot-keys`
    pub const ALLOW_CROSS_SLOT: u32 = 1 << 4;
    /// No shebang: an old-style EVAL script.
    pub const EVAL_COMPAT: u32 = 1 << 5;

    /// Flag names as scripts write them, with their bits.
    pub const NAMES: [(&str, u32); 5] = [
        ("no-writes", NO_WRITES),
        ("allow-oom", ALLOW_OOM),
        ("allow-stale", ALLOW_STALE),
        ("no-cluster", NO_CLUSTER),
        ("allow-cross-slot-keys", ALLOW_CROSS_SLOT),
    ];

    /// The bit of a flag name.
    pub fn by_name(name: &[u8]) -> Option<u32> {
        NAMES
            .iter()
            .find(|(n, _)| n.as_bytes() == name)
            .map(|(_, b)| *b)
    }
}

/// A script in the EVAL cache.
#[derive(Debug, Clone)]
pub struct CachedScript {
    /// The body as sent.
    pub body: Vec<u8>,
    /// Shebang flags ([`flags`]).
    pub flags: u32,
}

/// The VM and what lives in it.
pub struct Vm {
    /// The interpreter.
    pub interp: lua::Interpreter,
    /// EVAL scripts by lowercase SHA-1; the function is in the Lua
    /// registry as `f_<sha>`.
    pub scripts: HashMap<String, CachedScript>,
}

/// The script currently running.
#[derive(Debug, Clone)]
struct Running {
    started: Instant,
    name: String,
    command: Vec<Vec<u8>>,
    client_id: u64,
    eval: bool,
    wrote: bool,
}

/// Scripting state, one per server.
pub struct Scripting {
    vm: Mutex<Option<Vm>>,
    /// The functions VM (FCALL), apart from the EVAL one.
    fvm: Mutex<Option<Vm>>,
    running: Mutex<Option<Running>>,
    /// True while `running` is Some: every command checks this one atomic
    /// instead of taking the `running` mutex (the GET/SET path stays free
    /// of a global lock when no script runs).
    active: AtomicBool,
    running_done: Condvar,
    kill: Arc<AtomicBool>,
    /// Function libraries (FUNCTION LOAD); see [`function`].
    pub functions: Mutex<function::Libraries>,
    /// DEBUG SET-DISABLE-DENY-SCRIPTS: scripts may call `noscript`
    /// commands (a testing aid, as in Redis).
    pub allow_noscript: AtomicBool,
}

impl Default for Scripting {
    fn default() -> Self {
        Self::new()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Scripting {
    /// No VM yet (it is created on first use).
    pub fn new() -> Self {
        Scripting {
            vm: Mutex::new(None),
            fvm: Mutex::new(None),
            running: Mutex::new(None),
            active: AtomicBool::new(false),
            running_done: Condvar::new(),
            kill: Arc::new(AtomicBool::new(false)),
            functions: Mutex::new(function::Libraries::default()),
            allow_noscript: AtomicBool::new(false),
        }
    }

    /// The VM, created on first use. Lock order: store lock first.
    pub fn vm(&self) -> Result<MutexGuard<'_, Option<Vm>>, CmdError> {
        let mut guard = lock(&self.vm);
        if guard.is_none() {
            let interp = lua::Interpreter::new()
                .map_err(|e| CmdError::err(format!("Error creating the Lua VM: {e}")))?;
            *guard = Some(Vm {
                interp,
                scripts: HashMap::new(),
            });
        }
        Ok(guard)
    }

    /// SCRIPT FLUSH: a fresh VM and an empty script cache. Function
    /// libraries are compiled again into the new VM by their owner.
    pub fn reset_vm(&self) {
        *lock(&self.vm) = None;
        CACHED_SCRIPTS.store(0, Ordering::Relaxed);
    }

    /// True while some script runs.
    pub fn is_running(&self) -> bool {
        lock(&self.running).is_some()
    }
}

/// The dispatcher's check before a command takes any lock: when another
/// client's script is running, waits until it ends or passes
/// busy-reply-threshold, then refuses with `-BUSY` unless the command is
/// allowed during a busy script. Commands from a replica's master wait
/// for the script's end instead.
pub fn busy_check(ctx: &Ctx, command: &Command, args: &[&[u8]]) -> CmdResult {
    let scripting = &ctx.server.scripting;
    if !scripting.active.load(Ordering::SeqCst) {
        return Ok(());
    }
    let mut guard = lock(&scripting.running);
    loop {
        let Some(running) = guard.as_ref() else {
            return Ok(());
        };
        if running.client_id == ctx.client.id {
            return Ok(());
        }
        // A replica never refuses its master's stream: it waits for the
        // script to end, however long (Redis stops reading the master
        // while a script is busy and resumes after it). Refusing would
        // drop the master's write.
        if crate::replication::applying() {
            guard = scripting
                .running_done
                .wait_timeout(guard, Duration::from_millis(100))
                .unwrap_or_else(|p| p.into_inner())
                .0;
            continue;
        }
        let threshold_ms = ctx.server.config().get_i64("busy-reply-threshold");
        if threshold_ms <= 0 {
            return Ok(());
        }
        let threshold = Duration::from_millis(threshold_ms as u64);
        let elapsed = running.started.elapsed();
        if elapsed >= threshold {
            if allowed_when_busy(command, args) {
                return Ok(());
            }
            let text = if running.eval {
                BUSY_EVAL
            } else {
                BUSY_FUNCTION
            };
            return Err(CmdError::Raw(text.to_string()));
        }
        guard = scripting
            .running_done
            .wait_timeout(guard, threshold - elapsed)
            .unwrap_or_else(|p| p.into_inner())
            .0;
    }
}

/// Redis's `allow_busy` commands (and subcommands).
fn allowed_when_busy(command: &Command, args: &[&[u8]]) -> bool {
    if let Some(id) = crate::acl::table::meta().resolve(args) {
        if let Some(meta) = crate::acl::table::meta().cmds.get(id) {
            if meta.flags.split(' ').any(|f| f == "allow_busy") {
                return true;
            }
        }
    }
    command.name == "shutdown"
        && args
            .get(1)
            .is_some_and(|a| a.eq_ignore_ascii_case(b"nosave"))
}

/// The running script for FUNCTION STATS: (function name, command,
/// duration ms). EVAL scripts show no name.
pub fn running_info(server: &Server) -> Option<(String, Vec<Vec<u8>>, i64)> {
    let guard = lock(&server.scripting.running);
    let r = guard.as_ref()?;
    let name = if r.eval {
        String::new()
    } else {
        r.name.clone()
    };
    Some((
        name,
        r.command.clone(),
        r.started.elapsed().as_millis() as i64,
    ))
}

/// True when `args` run a script or function declared `no-writes`
/// (EVAL / EVALSHA / FCALL): CLIENT PAUSE WRITE lets it through.
/// SCRIPT and FUNCTION subcommands that neither write nor replicate
/// (SCRIPT LOAD, FUNCTION LIST ...) pass too.
pub fn declared_read_only(server: &Server, command: &Command, args: &[&[u8]]) -> bool {
    let Some(target) = args.get(1) else {
        return false;
    };
    if matches!(command.name, "script" | "function") {
        let meta = crate::acl::table::meta();
        return meta
            .resolve(args)
            .and_then(|id| meta.cmds.get(id))
            .is_some_and(|m| {
                m.parent.is_some()
                    && !m
                        .flags
                        .split(' ')
                        .any(|f| f == "write" || f == "may_replicate")
            });
    }
    let script_flags = match command.name {
        "eval" | "evalsha" => {
            let sha = if command.name == "eval" {
                sha1::sha1_hex(target)
            } else {
                String::from_utf8_lossy(target).to_ascii_lowercase()
            };
            let cached = lock(&server.scripting.vm)
                .as_ref()
                .and_then(|vm| vm.scripts.get(&sha).map(|s| s.flags));
            match cached {
                Some(f) => f,
                None if command.name == "eval" => parse_shebang(target).map_or(0, |(f, _)| f),
                None => return false,
            }
        }
        "fcall" => {
            let name = String::from_utf8_lossy(target);
            match lock(&server.scripting.functions).function_flags(&name) {
                Some(f) => f,
                None => return false,
            }
        }
        _ => return false,
    };
    script_flags & flags::EVAL_COMPAT == 0 && script_flags & flags::NO_WRITES != 0
}

/// SCRIPT KILL / FUNCTION KILL.
pub fn kill(server: &Server, eval: bool) -> CmdResult {
    let guard = lock(&server.scripting.running);
    let Some(running) = guard.as_ref() else {
        return Err(CmdError::Raw(
            "NOTBUSY No scripts in execution right now.".into(),
        ));
    };
    if running.wrote {
        return Err(CmdError::Raw("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.".into()));
    }
    if eval && !running.eval {
        return Err(CmdError::Raw(BUSY_FUNCTION.into()));
    }
    if !eval && running.eval {
        return Err(CmdError::Raw(BUSY_EVAL.into()));
    }
    server.scripting.kill.store(true, Ordering::SeqCst);
    Ok(())
}

/// The error a killed script dies with.
#[derive(Debug)]
struct Killed;

impl std::fmt::Display for Killed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ERR Script killed by user with SCRIPT KILL...")
    }
}

impl std::error::Error for Killed {}

/// What the instruction hook of a running script watches.
struct Watch {
    /// SCRIPT KILL / FUNCTION KILL's flag.
    kill: Arc<AtomicBool>,
    started: Instant,
    /// busy-reply-threshold: past it, others get -BUSY and the log says so.
    threshold: Duration,
    warned: AtomicBool,
    name: String,
    eval: bool,
}

/// Checks the kill flag every `every` instructions; once killed, every
/// instruction raises, so `pcall` loops cannot catch their way out. Logs
/// Redis's "Slow script detected" line once the script runs past
/// busy-reply-threshold.
fn install_kill_hook(lua: &Lua, watch: Arc<Watch>, every: u32) {
    lua.set_hook(
        HookTriggers::new().every_nth_instruction(every),
        move |lua, _| {
            if watch.kill.load(Ordering::Relaxed) {
                if every != 1 {
                    install_kill_hook(lua, watch.clone(), 1);
                }
                return Err(mlua::Error::external(Killed));
            }
            let elapsed = watch.started.elapsed();
            if elapsed >= watch.threshold && !watch.warned.swap(true, Ordering::Relaxed) {
                log::warn!(
                    "Slow script detected: still in execution after {} milliseconds. You can try killing the script using the {} command. Script name is: {}.",
                    elapsed.as_millis(),
                    if watch.eval { "SCRIPT KILL" } else { "FUNCTION KILL" },
                    watch.name
                );
            }
            Ok(())
        },
    );
}

/// Parses a `#!lua ...` first line. Returns (flags, length of the shebang
/// line to skip). No shebang: EVAL_COMPAT.
pub fn parse_shebang(body: &[u8]) -> Result<(u32, usize), CmdError> {
    if !body.starts_with(b"#!") {
        return Ok((flags::EVAL_COMPAT, 0));
    }
    let Some(end) = body.iter().position(|&b| b == b'\n') else {
        return Err(CmdError::err("Invalid script shebang"));
    };
    let line = String::from_utf8_lossy(&body[..end]).into_owned();
    let mut parts = line.split_whitespace();
    let engine = parts.next().unwrap_or("");
    if engine != "#!lua" {
        return Err(CmdError::err(format!(
            "Unexpected engine in script shebang: {engine}"
        )));
    }
    let mut bits = 0;
    for part in parts {
        let Some(list) = part.strip_prefix("flags=") else {
            return Err(CmdError::err(format!("Unknown lua shebang option: {part}")));
        };
        for f in list.split(',') {
            if f.is_empty() {
                continue;
            }
            match flags::by_name(f.as_bytes()) {
                Some(b) => bits |= b,
                None => {
                    return Err(CmdError::err(format!(
                        "Unexpected flag in script shebang: {f}"
                    )))
                }
            }
        }
    }
    Ok((bits, end))
}

/// Checks before a script with `script_flags` runs (Redis's
/// scriptPrepareForRun); `ro` for EVAL_RO / FCALL_RO.
pub fn prepare_checks(ctx: &Ctx, script_flags: u32, ro: bool) -> CmdResult {
    if script_flags & flags::EVAL_COMPAT != 0 {
        // A script without flags cannot say it tolerates stale data.
        if crate::replication::is_stale(ctx.server) && !crate::replication::applying() {
            return Err(CmdError::Raw(crate::replication::MASTERDOWN_ERROR.into()));
        }
        return Ok(());
    }
    if script_flags & flags::ALLOW_STALE == 0 && crate::replication::is_stale(ctx.server) {
        return Err(CmdError::Raw(crate::replication::MASTERDOWN_ERROR.into()));
    }
    if script_flags & flags::NO_WRITES == 0 {
        // A script that may write is refused by a read-only replica.
        crate::replication::check_write_allowed(ctx, true)?;
        if crate::persistence::writes_denied(ctx.server) {
            return Err(CmdError::Raw("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.".into()));
        }
        // A script that may write needs min-replicas-to-write's replicas.
        crate::replication::check_good_replicas(ctx, true)?;
        if ro {
            return Err(CmdError::err(
                "Can not execute a script with write flag using *_ro command.",
            ));
        }
        // Past maxmemory, a script that may write is refused at its start
        // unless flagged allow-oom (compatibility-mode scripts are judged
        // by each write instead).
        if script_flags & flags::ALLOW_OOM == 0
            && crate::evict::out_of_memory()
            && !crate::replication::applying()
            && !ctx.server.loading.is_on()
        {
            return Err(crate::evict::oom_error());
        }
    }
    Ok(())
}

/// The flags an EVAL's script declares in its shebang, which stand for
/// the command's own write/denyoom/stale flags at the dispatcher, as
/// Redis's `evalGetCommandFlags` does; None for a script without flags
/// (and for EVALSHA, whose body is in the script cache: its flags are
/// checked when it starts, see [`prepare_checks`]).
pub fn declared_flags(command: &crate::commands::Command, args: &[&[u8]]) -> Option<u32> {
    if !matches!(command.name, "eval" | "eval_ro") {
        return None;
    }
    let (bits, _) = parse_shebang(args.get(1)?).ok()?;
    (bits & flags::EVAL_COMPAT == 0).then_some(bits)
}

/// How the function is called.
pub enum CallShape {
    /// EVAL: KEYS and ARGV are globals; the chunk takes no arguments.
    Eval,
    /// FCALL: the function gets (keys, args).
    Function,
}

/// A keyspace event: (class letter, event name, key).
type Event = (char, &'static str, Vec<u8>);

/// What one script run needs; lives behind a mutex the redis.call closure
/// reaches.
struct RunState<'a> {
    server: &'a Arc<Server>,
    client: &'a mut ClientState,
    store: &'a mut Store,
    read_only: bool,
    allow_oom: bool,
    dirty: u64,
    /// Keyspace events raised, per database.
    events: Vec<(usize, Vec<Event>)>,
    /// The script's start time: every command it runs sees this time, so
    /// a key does not expire while a script runs (Redis).
    now_ms: i64,
}

/// Runs `func` for the client in `ctx` with `store` locked for writing,
/// and writes its result as the reply. `name` is the SHA (EVAL) or the
/// function name, for error messages.
#[allow(clippy::too_many_arguments)]
pub fn run(
    ctx: &mut Ctx,
    store: &mut Store,
    vm: &Vm,
    func: Function,
    shape: CallShape,
    keys: &[&[u8]],
    argv: &[&[u8]],
    script_flags: u32,
    ro: bool,
    name: &str,
    command: &[&[u8]],
) -> CmdResult {
    let server = ctx.server;
    let scripting = &server.scripting;
    let eval = matches!(shape, CallShape::Eval);
    scripting.kill.store(false, Ordering::SeqCst);
    *lock(&scripting.running) = Some(Running {
        started: Instant::now(),
        name: name.to_string(),
        command: command.iter().map(|a| a.to_vec()).collect(),
        client_id: ctx.client.id,
        eval,
        wrote: false,
    });
    scripting.active.store(true, Ordering::SeqCst);
    let batch = !ctx.in_exec;
    if batch {
        crate::persistence::aof::begin_batch();
    }
    // redis.set_repl lasts until the script ends.
    crate::persistence::aof::set_targets(crate::persistence::aof::TO_ALL);
    let lua = &vm.interp.lua;
    let caller_db = ctx.client.db;
    let read_only = ro || script_flags & flags::NO_WRITES != 0;
    let allow_oom = script_flags & (flags::ALLOW_OOM | flags::NO_WRITES) != 0;
    let outcome = {
        let state = Mutex::new(RunState {
            server,
            client: &mut *ctx.client,
            store,
            read_only,
            allow_oom,
            dirty: 0,
            events: Vec::new(),
            now_ms: ctx.now_ms,
        });
        let result = call_lua(lua, &state, func, shape, keys, argv);
        let state = state.into_inner().unwrap_or_else(|p| p.into_inner());
        (result, state.dirty, state.events)
    };
    let (result, dirty, events) = outcome;
    ctx.client.db = caller_db;
    lua.remove_hook();
    crate::persistence::aof::set_targets(crate::persistence::aof::TO_ALL);
    if batch {
        if ldb::rolls_back() {
            // A SCRIPT DEBUG YES session ran on a copy: nothing to log.
            crate::persistence::aof::drop_batch();
        } else {
            crate::persistence::aof::end_batch(server);
        }
    }
    // The script's own command is never logged: its effects were.
    ctx.propagate_override(Vec::new());
    ctx.dirty += dirty;
    for (db, list) in events {
        if db == caller_db {
            ctx.events.extend(list);
        } else {
            server.pubsub.publish_keyspace_events(db, &list);
        }
    }
    let imp = vm.interp.imp().ok();
    let resp = imp
        .as_ref()
        .and_then(|t| t.raw_get::<_, i64>("resp").ok())
        .unwrap_or(2);
    if let Some(imp) = &imp {
        let _ = imp.raw_set("run", Value::Nil);
        let _ = imp.raw_set("acl_check", Value::Nil);
        let _ = imp.raw_set("resp", 2);
    }
    let reply = match result {
        Err(e) => Err(CmdError::err(format!("Error running script {name}, {e}"))),
        Ok((true, value)) => {
            let counted = counted_error(&value);
            lua::lua_to_reply(ctx.reply, &value, resp)
                .map_err(|text| CmdError::Script { text, counted })
        }
        Ok((false, err)) => {
            // Raised by redis.call from a command's error: counted there.
            let raised = COUNTED_RAISE.with(|c| c.borrow_mut().take());
            let counted = matches!(&err, Value::Table(t)
                if raised.is_some() && t.raw_get::<_, String>("err").ok() == raised);
            Err(CmdError::Script {
                text: error_text(&err, name),
                counted,
            })
        }
    };
    *lock(&scripting.running) = None;
    scripting.active.store(false, Ordering::SeqCst);
    scripting.running_done.notify_all();
    reply
}

thread_local! {
    /// The text of the last error redis.call raised from a command's error
    /// (already counted in errorstats), to tell it from the script's own.
    pub(crate) static COUNTED_RAISE: std::cell::RefCell<Option<String>> =
        const { std::cell::RefCell::new(None) };
    /// Set by [`call_command`] when the error it returns was counted in
    /// errorstats (a refused or failed command, not a script-layer check).
    static ERROR_COUNTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The field redis.call/pcall's error tables carry when the command's
/// error was already counted in errorstats (Redis's
/// `ignore_error_stats_update`).
pub(crate) const COUNTED_FIELD: &str = "ignore_error_stats_update";

/// True for an error table from redis.pcall that a script returned as is.
fn counted_error(value: &Value) -> bool {
    matches!(value, Value::Table(t) if t.raw_get::<_, bool>(COUNTED_FIELD).unwrap_or(false))
}

/// The final error line of a script that raised: `<err> script: <name>,
/// on <source>:<line>.`
fn error_text(err: &Value, name: &str) -> String {
    let Value::Table(t) = err else {
        return "ERR Error running script (unknown error)".into();
    };
    let field = |k: &str| -> Option<String> {
        match t.raw_get::<_, Value>(k).ok()? {
            Value::String(s) => Some(String::from_utf8_lossy(s.as_bytes()).into_owned()),
            Value::Integer(n) => Some(n.to_string()),
            Value::Number(n) => Some((n as i64).to_string()),
            _ => None,
        }
    };
    let msg = field("err").unwrap_or_default();
    match (field("source"), field("line")) {
        (Some(source), Some(line)) => format!("{msg} script: {name}, on {source}:{line}."),
        _ => msg,
    }
}

/// Calls the script under the error handler, with `impl.run` (redis.call)
/// bound to `state` for the duration. Ok((true, value)) on success,
/// Ok((false, error table)) when the script raised.
fn call_lua<'l>(
    lua: &'l Lua,
    state: &Mutex<RunState>,
    func: Function<'l>,
    shape: CallShape,
    keys: &[&[u8]],
    argv: &[&[u8]],
) -> mlua::Result<(bool, Value<'l>)> {
    let imp: Table = lua.named_registry_value("redis_impl")?;
    let keys_t = lua.create_sequence_from(
        keys.iter()
            .map(|k| lua.create_string(k))
            .collect::<mlua::Result<Vec<_>>>()?,
    )?;
    let argv_t = lua.create_sequence_from(
        argv.iter()
            .map(|k| lua.create_string(k))
            .collect::<mlua::Result<Vec<_>>>()?,
    )?;
    imp.raw_set("resp", 2)?;
    let server = lock(state).server.clone();
    let threshold_ms = server.config().get_i64("busy-reply-threshold");
    if ldb::active() {
        // A debugging session steps line by line (see ldb.rs).
        lua.set_hook(HookTriggers::EVERY_LINE, |lua, debug| {
            if debug.source().source.as_deref() != Some("@user_script") {
                return Ok(());
            }
            ldb::on_line(lua, debug.curr_line().max(0) as usize)
        });
    } else if threshold_ms > 0 {
        let running = lock(&server.scripting.running);
        let (started, name, eval) = running
            .as_ref()
            .map_or((Instant::now(), String::new(), true), |r| {
                (r.started, r.name.clone(), r.eval)
            });
        drop(running);
        let watch = Watch {
            kill: server.scripting.kill.clone(),
            started,
            threshold: Duration::from_millis(threshold_ms as u64),
            warned: AtomicBool::new(false),
            name,
            eval,
        };
        install_kill_hook(lua, Arc::new(watch), KILL_CHECK_INSTRUCTIONS);
    }
    lua.scope(|scope| {
        let run_fn = scope.create_function(|lua, (resp, packed): (Value, Table)| {
            let resp = match resp {
                Value::Integer(n) => n,
                Value::Number(n) => n as i64,
                _ => 2,
            };
            let n: usize = packed.raw_get("n")?;
            let mut argv: Vec<Vec<u8>> = Vec::with_capacity(n);
            for i in 1..=n {
                let v: Value = packed.raw_get(i)?;
                match v {
                    Value::String(s) => argv.push(s.as_bytes().to_vec()),
                    // Not Lua's tostring (%.14g loses precision): Redis's %.17g.
                    Value::Integer(n) => argv.push(format_g17(n as f64).into_bytes()),
                    Value::Number(n) => argv.push(format_g17(n).into_bytes()),
                    _ => {
                        return error_pair(
                            lua,
                            "Lua redis lib command arguments must be strings or integers",
                        )
                    }
                }
            }
            if argv.is_empty() {
                return error_pair(
                    lua,
                    "Please specify at least one argument for this redis lib call",
                );
            }
            let mut st = lock(state);
            ldb::log_call(&argv);
            match call_command(&mut st, resp, &argv) {
                Ok(reply) => {
                    ldb::log_reply(&reply);
                    Ok((lua::reply_to_lua(lua, reply)?, false))
                }
                Err(text) => {
                    ldb::log_error_reply(&text);
                    let t = lua.create_table()?;
                    t.raw_set("err", lua.create_string(&text)?)?;
                    if ERROR_COUNTED.with(|c| c.replace(false)) {
                        t.raw_set(COUNTED_FIELD, true)?;
                    }
                    Ok((Value::Table(t), true))
                }
            }
        })?;
        imp.raw_set("run", run_fn)?;
        let acl_fn = scope.create_function(|lua, args: MultiValue| {
            let argv: Vec<Vec<u8>> = args
                .into_iter()
                .filter_map(|v| lua.coerce_string(v).ok().flatten())
                .map(|s| s.as_bytes().to_vec())
                .collect();
            let st = lock(state);
            let refs: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
            if refs.first().and_then(|n| lookup(n)).is_none() {
                return error_pair(lua, "Invalid command passed to redis.acl_check_cmd()");
            }
            let acl = st.server.acl.read().unwrap_or_else(|p| p.into_inner());
            let ok = acl
                .users
                .get(&st.client.user)
                .is_some_and(|u| u.check(&refs).is_ok());
            Ok((Value::Boolean(ok), false))
        })?;
        imp.raw_set("acl_check", acl_fn)?;
        let (runner, args): (Function, MultiValue) = match shape {
            CallShape::Eval => {
                let globals: Table = imp.raw_get("R")?;
                globals.raw_set("KEYS", keys_t)?;
                globals.raw_set("ARGV", argv_t)?;
                (
                    imp.raw_get("run_eval")?,
                    MultiValue::from_vec(vec![Value::Function(func)]),
                )
            }
            CallShape::Function => (
                imp.raw_get("run_fcall")?,
                MultiValue::from_vec(vec![
                    Value::Function(func),
                    Value::Table(keys_t),
                    Value::Table(argv_t),
                ]),
            ),
        };
        let (ok, value): (bool, Value) = runner.call(args)?;
        Ok((ok, value))
    })
}

/// C's `%.17g`: how Redis turns a Lua number argument into a string.
pub fn format_g17(x: f64) -> String {
    if x.is_nan() {
        return if x.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{x:.16e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let strip = |s: String| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s
        }
    };
    if (-4..17).contains(&exp) {
        let decimals = (16 - exp).max(0) as usize;
        strip(format!("{x:.decimals$}"))
    } else {
        let m = strip(mantissa.to_string());
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{m}e{sign}{:02}", exp.abs())
    }
}

/// `({err="ERR <text>"}, true)`: an error redis.call raises.
fn error_pair<'l>(lua: &'l Lua, text: &str) -> mlua::Result<(Value<'l>, bool)> {
    let t = lua.create_table()?;
    t.raw_set("err", format!("ERR {text}"))?;
    Ok((Value::Table(t), true))
}

/// The Redis-side checks of redis.call (Redis's scriptCall), then the
/// command under the lock the script holds. Err(text) is the error table's
/// message.
fn call_command(st: &mut RunState, resp: i64, argv: &[Vec<u8>]) -> Result<lua::Reply, String> {
    ERROR_COUNTED.with(|c| c.set(false));
    let args: Vec<&[u8]> = argv.iter().map(|a| a.as_slice()).collect();
    let found = args.first().and_then(|n| lookup(n));
    let server = st.server;
    // Every refusal counts in errorstats here, at the call, and a known
    // command's in its rejected_calls (Redis's scriptCall); the script's
    // own reply then does not count it again (see COUNTED_FIELD).
    let refuse = |index: Option<usize>, text: String| {
        let error = CmdError::Raw(text);
        server.stats.record_rejected(index, &args, &error);
        ERROR_COUNTED.with(|c| c.set(true));
        error.to_string()
    };
    let Some((index, command)) = found else {
        return Err(refuse(
            None,
            "ERR Unknown Redis command called from script".into(),
        ));
    };
    let rejected = |text: String| refuse(Some(index), text);
    if !crate::commands::arity_ok(command.arity, args.len()) {
        return Err(rejected(
            "ERR Wrong number of args calling Redis command from script".into(),
        ));
    }
    let meta = crate::acl::table::meta();
    let meta_flags = meta
        .resolve(&args)
        .and_then(|id| meta.cmds.get(id))
        .map(|m| m.flags.as_str())
        .unwrap_or(command.flags);
    let has = |f: &str| meta_flags.split(' ').any(|x| x == f) || command.has_flag(f);
    let noscript = meta_flags.split(' ').any(|x| x == "noscript") || command.has_flag("noscript");
    if noscript && !st.server.scripting.allow_noscript.load(Ordering::Relaxed) {
        return Err(rejected(
            "ERR This Redis command is not allowed from script".into(),
        ));
    }
    if matches!(command.name, "xread" | "xreadgroup")
        && args.iter().any(|a| a.eq_ignore_ascii_case(b"block"))
    {
        return Err(rejected(format!(
            "ERR {} command is not allowed with BLOCK option from scripts",
            String::from_utf8_lossy(args[0])
        )));
    }
    let mut scratch = ReplyBuf::new();
    scratch.proto = if resp == 3 { 3 } else { 2 };
    let mut ctx = Ctx::new(server, st.client, &mut scratch);
    ctx.now_ms = st.now_ms;
    ctx.in_exec = true;
    ctx.in_script = true;
    if ctx.client.user != "default" || server.acl_default_restricted.load(Ordering::Relaxed) {
        if let Err(e) = crate::commands::acl::check_permission(&mut ctx, index, command, &args) {
            let text = e.to_string();
            let why = if text.contains(" key ") || text.contains("keys") {
                "can't access at least one of the keys mentioned in the command"
            } else if text.contains("channel") {
                "can't publish to the channel mentioned in the command"
            } else {
                "can't run this command or subcommand"
            };
            return Err(rejected(format!("ERR The user executing the script {why}")));
        }
    }
    let is_write = command.is_write() || has("write");
    if st.read_only && (is_write || has("may_replicate")) {
        return Err(rejected(
            "ERR Write commands are not allowed from read-only scripts.".into(),
        ));
    }
    if command.denies_stale() && crate::replication::is_stale(server) {
        return Err(rejected(
            "ERR Can not execute the command on a stale replica".into(),
        ));
    }
    let wrote_before = lock(&server.scripting.running)
        .as_ref()
        .is_some_and(|r| r.wrote);
    if is_write && !wrote_before && crate::persistence::writes_denied(server) {
        return Err(rejected(CmdError::MisConf.to_string()));
    }
    if is_write {
        crate::replication::check_write_allowed(&ctx, true).map_err(|e| rejected(e.to_string()))?;
        // Once the script wrote, losing replicas mid-script does not stop
        // it half-way (Redis keeps the script atomic).
        if !wrote_before {
            crate::replication::check_good_replicas(&ctx, true)
                .map_err(|e| rejected(e.to_string()))?;
        }
    }
    if !st.allow_oom && !wrote_before && has("denyoom") {
        if let Err(e) = crate::evict::before_command(&mut ctx, command, &args) {
            return Err(rejected(e.to_string()));
        }
    }
    if is_write {
        if let Some(r) = lock(&server.scripting.running).as_mut() {
            r.wrote = true;
        }
    }
    let started = Instant::now();
    let db = ctx.client.db;
    // A read deletes the expired keys it names, as outside scripts (writes
    // do so in their own lookups).
    if matches!(command.handler, crate::commands::Handler::Read(_)) {
        crate::expire::prepare_read_locked(&mut ctx, command, &args, st.store);
    }
    let result = crate::commands::run_with_store(&mut ctx, command, &args, st.store);
    server.stats.record_command(
        Some(index),
        &args,
        started.elapsed().as_micros() as u64,
        result.as_ref().err(),
    );
    crate::commands::introspection::feed_monitors(&ctx, command, &args, &result, false);
    st.dirty += ctx.dirty;
    let events = std::mem::take(&mut ctx.events);
    if !events.is_empty() {
        st.events.push((db, events));
    }
    drop(ctx);
    if let Err(e) = result {
        ERROR_COUNTED.with(|c| c.set(true));
        return Err(e.to_string());
    }
    let mut pos = 0;
    match lua::parse_reply(&scratch.buf, &mut pos) {
        Some(lua::Reply::Error(e)) => Err(String::from_utf8_lossy(&e).into_owned()),
        Some(reply) => Ok(reply),
        None => Ok(lua::Reply::NullBulk),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g17_matches_c() {
        assert_eq!(format_g17(9007199254740991.0), "9007199254740991");
        assert_eq!(format_g17(1.0), "1");
        assert_eq!(format_g17(0.1), "0.10000000000000001");
        assert_eq!(format_g17(-2.5), "-2.5");
        assert_eq!(format_g17(1e20), "1e+20");
        assert_eq!(format_g17(1.5e-7), "1.4999999999999999e-07");
    }

    #[test]
    fn shebang_flags() {
        assert_eq!(parse_shebang(b"return 1").unwrap(), (flags::EVAL_COMPAT, 0));
        assert_eq!(
            parse_shebang(b"#!lua flags=no-writes,allow-oom\nreturn 1").unwrap(),
            (flags::NO_WRITES | flags::ALLOW_OOM, 31)
        );
        assert_eq!(
            parse_shebang(b"#!lua flags=foo\n").unwrap_err().to_string(),
            "ERR Unexpected flag in script shebang: foo"
        );
        assert_eq!(
            parse_shebang(b"#!lu\n").unwrap_err().to_string(),
            "ERR Unexpected engine in script shebang: #!lu"
        );
        assert_eq!(
            parse_shebang(b"#!lua x\n").unwrap_err().to_string(),
            "ERR Unknown lua shebang option: x"
        );
        assert_eq!(
            parse_shebang(b"#!lua").unwrap_err().to_string(),
            "ERR Invalid script shebang"
        );
    }
}
