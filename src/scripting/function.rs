//! FUNCTION and FCALL (Redis 7.0's functions.c and function_lua.c).
//!
//! A library is Lua code that starts with `#!lua name=<lib>` and, when run
//! once at FUNCTION LOAD, registers its functions:
//!
//! ```text
//! #!lua name=mylib
//! redis.register_function('f', function(keys, args) return 1 end)
//! redis.register_function{function_name='g', callback=..., flags={'no-writes'}}
//! ```
//!
//! Functions live in their own Lua VM (as in Redis), kept apart from the
//! EVAL VM so SCRIPT FLUSH does not touch them. While a library's code
//! runs, the globals its chunk sees are only `redis` with the load-time
//! API (register_function, log ...); at call time the same functions see
//! the full sandbox (the prelude's switchable backing table). The compiled
//! callbacks are kept in the private `impl.functions` table by name.
//!
//! [`Libraries`] holds what the server must remember (name, code,
//! function names and flags) behind its own mutex, so FUNCTION LIST /
//! STATS / DUMP and the RDB writer never wait for a running function. The
//! code is what RDB (opcode FUNCTION2) and the AOF rewrite (FUNCTION LOAD)
//! carry; loading is running the code again.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use mlua::{Function, Table, Value};

use crate::commands::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::server::Server;
use crate::store::Store;

use super::{lock, CallShape};

/// One registered function.
#[derive(Debug, Clone)]
pub struct FunctionInfo {
    /// The name FCALL uses.
    pub name: String,
    /// `description` given to register_function.
    pub description: Option<Vec<u8>>,
    /// [`super::flags`] bits.
    pub flags: u32,
}

/// One library.
#[derive(Debug, Clone)]
pub struct Library {
    /// From the `#!lua name=` line.
    pub name: String,
    /// The whole code, shebang included (what FUNCTION LOAD got).
    pub code: Vec<u8>,
    /// Its functions, in registration order.
    pub functions: Vec<FunctionInfo>,
}

/// Every library, by name.
#[derive(Default)]
pub struct Libraries {
    /// By library name (sorted, for stable listings).
    pub libs: BTreeMap<String, Library>,
}

impl Libraries {
    /// The flags of a function, by name (case-insensitive).
    pub fn function_flags(&self, name: &str) -> Option<u32> {
        self.function(name).map(|(_, f)| f.flags)
    }

    fn function(&self, name: &str) -> Option<(&Library, &FunctionInfo)> {
        self.libs.values().find_map(|l| {
            l.functions
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name))
                .map(|f| (l, f))
        })
    }
}

/// Library codes read from an RDB file, compiled when functions are next
/// used (the RDB reader has no server at hand).
static STAGED: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());
/// A copy of every library's code for the RDB and AOF-rewrite writers,
/// which see only the store.
static CODES: Mutex<Vec<Vec<u8>>> = Mutex::new(Vec::new());

/// Called by the RDB reader for each FUNCTION2 record.
pub fn stage_from_rdb(code: Vec<u8>) {
    lock(&STAGED).push(code);
}

/// The libraries' code, for RDB files and AOF rewrites.
pub fn persisted_codes() -> Vec<Vec<u8>> {
    let staged = lock(&STAGED).clone();
    let mut codes = lock(&CODES).clone();
    codes.extend(staged);
    codes
}

/// Compiles libraries staged by an RDB load. Not while a replica loads its
/// master's RDB in the background: its libraries wait for the data.
pub fn apply_staged(server: &Server) {
    if crate::replication::async_loading(server) {
        return;
    }
    let staged = std::mem::take(&mut *lock(&STAGED));
    for code in staged {
        if let Err(e) = load_library(server, &code, true) {
            log::warn!("Failed loading a function library from the RDB: {e}");
        }
    }
}

/// A replica's full sync: the master's libraries, staged by the load,
/// replace all of its own, as the master's keys replace its keys.
pub fn replace_all_with_staged(server: &Server) {
    flush_libraries(server);
    let staged = std::mem::take(&mut *lock(&STAGED));
    for code in staged {
        if let Err(e) = load_library(server, &code, true) {
            log::warn!("Failed loading a function library from the master's RDB: {e}");
        }
    }
}

/// Forgets the libraries staged by a load that failed.
pub fn discard_staged() {
    lock(&STAGED).clear();
}

/// Compiles the libraries a DEBUG RELOAD NOFLUSH just read, next to the
/// ones already loaded: with `merge` a library of the same name is
/// replaced, without it that is an error and nothing more is loaded.
pub fn apply_staged_beside_loaded(server: &Server, merge: bool) -> Result<(), CmdError> {
    let staged = std::mem::take(&mut *lock(&STAGED));
    for code in staged {
        load_library(server, &code, merge)?;
    }
    Ok(())
}

/// Functions and libraries loaded, for INFO.
static COUNTS: Mutex<(usize, usize)> = Mutex::new((0, 0));

/// (number of functions, number of libraries).
pub fn counts() -> (usize, usize) {
    *lock(&COUNTS)
}

fn sync_codes(libs: &Libraries) {
    *lock(&CODES) = libs.libs.values().map(|l| l.code.clone()).collect();
    *lock(&COUNTS) = (
        libs.libs.values().map(|l| l.functions.len()).sum(),
        libs.libs.len(),
    );
}

/// The functions family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd(
        "fcall",
        -3,
        "noscript skip_monitor may_replicate no_mandatory_keys stale",
        (0, 0, 0),
        Group::Scripting,
        "function numkeys [key [key ...]] [arg [arg ...]]",
        "Invoke a function",
        Handler::Write(fcall_command),
    ),
    cmd(
        "fcall_ro",
        -3,
        "readonly noscript stale skip_monitor no_mandatory_keys",
        (0, 0, 0),
        Group::Scripting,
        "function numkeys [key [key ...]] [arg [arg ...]]",
        "Invoke a read-only function",
        Handler::Write(fcall_ro_command),
    ),
    cmd(
        "function",
        -2,
        "noscript",
        (0, 0, 0),
        Group::Scripting,
        "subcommand [argument ...]",
        "A container for function commands",
        Handler::Conn(function_command),
    ),
];

/// SCRIPT FLUSH: drops the EVAL VM and its cache.
pub fn flush_eval_scripts(server: &Server) -> CmdResult {
    server.scripting.reset_vm();
    Ok(())
}

/// The functions VM, created on first use (lock order: store, then this).
fn function_vm(server: &Server) -> Result<std::sync::MutexGuard<'_, Option<super::Vm>>, CmdError> {
    let mut guard = lock(&server.scripting.fvm);
    if guard.is_none() {
        let interp = super::lua::Interpreter::new()
            .map_err(|e| CmdError::err(format!("Error creating the Lua VM: {e}")))?;
        *guard = Some(super::Vm {
            interp,
            scripts: Default::default(),
        });
    }
    Ok(guard)
}

/// Reads `#!<engine> name=<lib>`: (library name, length of the line).
fn parse_metadata(code: &[u8]) -> Result<(String, usize), CmdError> {
    if !code.starts_with(b"#!") {
        return Err(CmdError::err("Missing library metadata"));
    }
    let Some(end) = code.iter().position(|&b| b == b'\n') else {
        return Err(CmdError::err("Invalid library metadata"));
    };
    let line = String::from_utf8_lossy(&code[2..end]).into_owned();
    // The engine is what directly follows `#!` (maybe nothing: `#! name=x`).
    let (engine, rest) = line.split_once(' ').unwrap_or((line.as_str(), ""));
    // Arguments split as Redis's sdssplitargs does, quotes removed.
    let unquoted: Vec<String> = rest
        .split_whitespace()
        .map(|p| p.replace('"', ""))
        .collect();
    let parts = unquoted.iter().map(|p| p.as_str());
    let mut name: Option<String> = None;
    for part in parts {
        if let Some(n) = part.strip_prefix("name=") {
            if name.is_some() {
                return Err(CmdError::err(
                    "Invalid metadata value, name argument was given multiple times",
                ));
            }
            name = Some(n.to_string());
        } else {
            return Err(CmdError::err(format!(
                "Invalid metadata value given: {part}"
            )));
        }
    }
    let Some(name) = name else {
        return Err(CmdError::err("Library name was not given"));
    };
    if !valid_name(&name) {
        return Err(CmdError::err(NAME_RULE));
    }
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(CmdError::err(format!("Engine '{engine}' not found")));
    }
    Ok((name, end))
}

const NAME_RULE: &str = "Library names can only contain letters, numbers, or underscores(_) and must be at least one character long";

fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A function registered while a library's code runs.
struct Registered<'l> {
    info: FunctionInfo,
    callback: Function<'l>,
}

/// The arguments of one redis.register_function call.
fn parse_register<'l>(args: mlua::MultiValue<'l>) -> Result<Registered<'l>, String> {
    let args: Vec<Value> = args.into_iter().collect();
    let (name, callback, description, flags) = match args.as_slice() {
        [Value::Table(t)] => {
            let (mut name, mut callback, mut description, mut flags) = (None, None, None, 0);
            for pair in t.clone().pairs::<Value, Value>() {
                let (k, v) = pair.map_err(|e| e.to_string())?;
                let Value::String(k) = k else {
                    return Err(
                        "named argument key given to redis.register_function is not a string"
                            .into(),
                    );
                };
                match k.to_str().unwrap_or("").to_ascii_lowercase().as_str() {
                    "function_name" => match v {
                        Value::String(s) => name = Some(s.to_str().unwrap_or("").to_string()),
                        _ => return Err("function_name argument given to redis.register_function must be a string".into()),
                    },
                    "description" => match v {
                        Value::String(s) => description = Some(s.as_bytes().to_vec()),
                        _ => return Err("description argument given to redis.register_function must be a string".into()),
                    },
                    "callback" => match v {
                        Value::Function(f) => callback = Some(f),
                        _ => return Err("callback argument given to redis.register_function must be a function".into()),
                    },
                    "flags" => {
                        let Value::Table(list) = v else {
                            return Err("flags argument to redis.register_function must be a table representing function flags".into());
                        };
                        for f in list.sequence_values::<Value>() {
                            let bit = match f.map_err(|e| e.to_string())? {
                                Value::String(s) => super::flags::by_name(s.as_bytes()),
                                _ => None,
                            };
                            match bit {
                                Some(b) => flags |= b,
                                None => return Err("unknown flag given".into()),
                            }
                        }
                    }
                    _ => return Err("unknown argument given to redis.register_function".into()),
                }
            }
            let Some(name) = name else {
                return Err("redis.register_function must get a function name argument".into());
            };
            let Some(callback) = callback else {
                return Err("redis.register_function must get a callback argument".into());
            };
            (name, callback, description, flags)
        }
        [_] => return Err("calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).".into()),
        [name, callback] => {
            let Value::String(name) = name else {
                return Err("first argument to redis.register_function must be a string".into());
            };
            let Value::Function(callback) = callback else {
                return Err("second argument to redis.register_function must be a function".into());
            };
            (name.to_str().unwrap_or("").to_string(), callback.clone(), None, 0)
        }
        _ => return Err("wrong number of arguments to redis.register_function".into()),
    };
    if !valid_name(&name) {
        return Err(NAME_RULE.into());
    }
    Ok(Registered {
        info: FunctionInfo {
            name,
            description,
            flags,
        },
        callback,
    })
}

/// Compiles and runs a library's code in the functions VM, then installs
/// it (replacing a library of the same name when `replace`). Returns the
/// library name. Call with the store write lock held (or at start-up).
pub fn load_library(server: &Server, code: &[u8], replace: bool) -> Result<String, CmdError> {
    let (name, skip) = parse_metadata(code)?;
    {
        let libs = lock(&server.scripting.functions);
        if libs.libs.contains_key(&name) && !replace {
            return Err(CmdError::err(format!("Library '{name}' already exists")));
        }
    }
    let guard = function_vm(server)?;
    let vm = guard.as_ref().expect("function_vm creates the VM");
    let lua = &vm.interp.lua;
    let imp = vm.interp.imp().map_err(lua_err)?;
    let chunk = vm
        .interp
        .compile(&code[skip..], "@user_function")
        .map_err(|e| CmdError::err(format!("Error compiling function: {e}")))?;
    let registered: std::cell::RefCell<Vec<FunctionInfo>> = std::cell::RefCell::new(Vec::new());
    let staging = lua.create_table().map_err(lua_err)?;
    let started = Instant::now();
    lua.set_hook(
        mlua::HookTriggers::new().every_nth_instruction(100_000),
        move |_, _| {
            if started.elapsed().as_millis() > 500 {
                return Err(mlua::Error::external(super::lua::ScriptError(
                    "ERR FUNCTION LOAD timeout".into(),
                )));
            }
            Ok(())
        },
    );
    let outcome: mlua::Result<(bool, Value)> = lua.scope(|scope| {
        let register =
            scope.create_function(|_, args: mlua::MultiValue| match parse_register(args) {
                Ok(r) => {
                    let mut list = registered.borrow_mut();
                    if list.iter().any(|x| x.name == r.info.name) {
                        return Err(mlua::Error::external(super::lua::ScriptError(
                            "ERR Function already exists in the library".into(),
                        )));
                    }
                    staging.raw_set(r.info.name.clone(), r.callback)?;
                    list.push(r.info);
                    Ok(())
                }
                Err(e) => Err(mlua::Error::external(super::lua::ScriptError(format!(
                    "ERR {e}"
                )))),
            })?;
        imp.raw_set("register", register)?;
        let set_loading: Function = imp.raw_get("set_loading")?;
        set_loading.call::<_, ()>(true)?;
        let runner: Function = imp.raw_get("run_eval")?;
        let result = runner.call::<_, (bool, Value)>(chunk);
        set_loading.call::<_, ()>(false)?;
        imp.raw_set("register", Value::Nil)?;
        result
    });
    lua.remove_hook();
    let (ok, err) = outcome.map_err(lua_err)?;
    if !ok {
        let msg = match &err {
            Value::Table(t) => t.raw_get::<_, String>("err").unwrap_or_default(),
            _ => String::new(),
        };
        return Err(CmdError::err(format!("Error registering functions: {msg}")));
    }
    let registered = registered.into_inner();
    if registered.is_empty() {
        return Err(CmdError::err("No functions registered"));
    }
    let mut libs = lock(&server.scripting.functions);
    for r in &registered {
        if let Some((lib, _)) = libs.function(&r.name) {
            if lib.name != name {
                return Err(CmdError::err(format!("Function {} already exists", r.name)));
            }
        }
    }
    let functions: Table = match imp.raw_get::<_, Value>("functions").map_err(lua_err)? {
        Value::Table(t) => t,
        _ => {
            let t = lua.create_table().map_err(lua_err)?;
            imp.raw_set("functions", t.clone()).map_err(lua_err)?;
            t
        }
    };
    if let Some(old) = libs.libs.remove(&name) {
        for f in old.functions {
            functions.raw_set(f.name, Value::Nil).map_err(lua_err)?;
        }
    }
    let mut infos = Vec::new();
    for r in registered {
        let callback: Value = staging.raw_get(r.name.as_str()).map_err(lua_err)?;
        functions
            .raw_set(r.name.clone(), callback)
            .map_err(lua_err)?;
        infos.push(r);
    }
    libs.libs.insert(
        name.clone(),
        Library {
            name: name.clone(),
            code: code.to_vec(),
            functions: infos,
        },
    );
    sync_codes(&libs);
    Ok(name)
}

fn lua_err(e: mlua::Error) -> CmdError {
    CmdError::err(e.to_string())
}

/// Drops every library (FUNCTION FLUSH, RESTORE FLUSH) and the VM.
pub fn flush_libraries(server: &Server) {
    let mut libs = lock(&server.scripting.functions);
    libs.libs.clear();
    sync_codes(&libs);
    drop(libs);
    *lock(&server.scripting.fvm) = None;
}

/// Every library's code, sorted by name (RDB, AOF rewrite, DUMP).
pub fn library_codes(server: &Server) -> Vec<Vec<u8>> {
    lock(&server.scripting.functions)
        .libs
        .values()
        .map(|l| l.code.clone())
        .collect()
}

/// Deletes one library; false when there is none of that name.
fn delete_library(server: &Server, name: &str) -> Result<bool, CmdError> {
    let lib = {
        let mut libs = lock(&server.scripting.functions);
        let Some(lib) = libs.libs.remove(name) else {
            return Ok(false);
        };
        sync_codes(&libs);
        lib
    };
    let guard = function_vm(server)?;
    let vm = guard.as_ref().expect("function_vm creates the VM");
    if let Ok(Value::Table(functions)) = vm.interp.imp().and_then(|t| t.raw_get("functions")) {
        for f in lib.functions {
            let _ = functions.raw_set(f.name, Value::Nil);
        }
    }
    Ok(true)
}

/// FCALL function numkeys [key ...] [arg ...] — the function's return
/// value; `ERR Function not found` for an unknown name.
fn fcall_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    fcall_generic(ctx, store, args, false)
}

/// FCALL_RO function numkeys [key ...] [arg ...] — as FCALL, for functions
/// flagged `no-writes`.
fn fcall_ro_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    fcall_generic(ctx, store, args, true)
}

fn fcall_generic(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]], ro: bool) -> CmdResult {
    apply_staged(ctx.server);
    let requested = String::from_utf8_lossy(args[1]).into_owned();
    let (name, flags) = {
        let libs = lock(&ctx.server.scripting.functions);
        match libs.function(&requested) {
            Some((_, f)) => (f.name.clone(), f.flags),
            None => return Err(CmdError::err("Function not found")),
        }
    };
    let numkeys = crate::number::parse_i64(args[2])
        .ok_or_else(|| CmdError::err("Bad number of keys provided"))?;
    if numkeys > (args.len() - 3) as i64 {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    if numkeys < 0 {
        return Err(CmdError::err("Number of keys can't be negative"));
    }
    let (keys, argv) = args[3..].split_at(numkeys as usize);
    super::prepare_checks(ctx, flags, ro)?;
    let server = ctx.server;
    let guard = function_vm(server)?;
    let vm = guard.as_ref().expect("function_vm creates the VM");
    let func: Function = vm
        .interp
        .imp()
        .and_then(|t| t.raw_get::<_, Table>("functions"))
        .and_then(|t| t.raw_get(name.as_str()))
        .map_err(|_| CmdError::err("Function not found"))?;
    super::run(
        ctx,
        store,
        vm,
        func,
        CallShape::Function,
        keys,
        argv,
        flags,
        ro,
        &name,
        args,
    )
}

const FUNCTION_HELP: &[&str] = &[
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of failure",
    "      in case of functions name collision with another library).",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "HELP",
    "    Prints this help.",
];

fn subcommand_error(args: &[&[u8]]) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try FUNCTION HELP.",
        String::from_utf8_lossy(args[1])
    ))
}

/// FUNCTION LOAD [REPLACE] code | DELETE lib | FLUSH [ASYNC|SYNC] | LIST
/// [LIBRARYNAME pattern] [WITHCODE] | DUMP | RESTORE payload
/// [FLUSH|APPEND|REPLACE] | STATS | KILL | HELP.
///
/// LOAD answers the library name; LIST an array of maps; DUMP a payload
/// in DUMP format (FUNCTION2 records); STATS a map.
///
/// A `Conn` handler: FUNCTION KILL and STATS must answer while a function
/// runs (holding the store lock). The writing subcommands take the write
/// lock themselves (so they wait for a running script, as in Redis) and log
/// themselves to the AOF.
fn function_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let sub = String::from_utf8_lossy(args[1]).to_ascii_lowercase();
    let writes = matches!(sub.as_str(), "load" | "delete" | "flush" | "restore");
    if !writes || ctx.in_exec {
        // Inside EXEC the transaction already holds the lock.
        return function_subcommand(ctx, &sub, args);
    }
    let server = ctx.server;
    let mut store = server.store.write().unwrap_or_else(|p| p.into_inner());
    let dirty_before = ctx.dirty;
    let result = function_subcommand(ctx, &sub, args);
    let changed = ctx.dirty > dirty_before;
    if changed {
        ctx.propagate_override(vec![args.iter().map(|a| a.to_vec()).collect()]);
    }
    crate::persistence::aof::propagate(ctx, &mut store, args, &result, changed, &[]);
    result
}

fn function_subcommand(ctx: &mut Ctx, sub: &str, args: &[&[u8]]) -> CmdResult {
    let server = ctx.server;
    apply_staged(server);
    match sub {
        "load" => {
            let mut replace = false;
            let mut i = 2;
            while i + 1 < args.len() {
                if args[i].eq_ignore_ascii_case(b"replace") {
                    replace = true;
                    i += 1;
                } else {
                    return Err(CmdError::err(format!(
                        "Unknown option given: {}",
                        String::from_utf8_lossy(args[i])
                    )));
                }
            }
            let Some(code) = args.get(i).filter(|_| i == args.len() - 1) else {
                return Err(CmdError::err("Function code is missing"));
            };
            let name = load_library(server, code, replace)?;
            ctx.dirty += 1;
            ctx.reply.bulk(name.as_bytes());
        }
        "delete" if args.len() == 3 => {
            let name = String::from_utf8_lossy(args[2]).into_owned();
            if !delete_library(server, &name)? {
                return Err(CmdError::err("Library not found"));
            }
            ctx.dirty += 1;
            ctx.reply.ok();
        }
        "flush" if args.len() <= 3 => {
            if let Some(mode) = args.get(2) {
                if !mode.eq_ignore_ascii_case(b"sync") && !mode.eq_ignore_ascii_case(b"async") {
                    return Err(CmdError::err(
                        "FUNCTION FLUSH only supports SYNC|ASYNC option",
                    ));
                }
            }
            flush_libraries(server);
            ctx.dirty += 1;
            ctx.reply.ok();
        }
        "list" => function_list(ctx, args)?,
        "dump" if args.len() == 2 => {
            let payload = dump_payload(&library_codes(server));
            ctx.reply.bulk(&payload);
        }
        "restore" if args.len() == 3 || args.len() == 4 => {
            function_restore(ctx, args)?;
        }
        "stats" if args.len() == 2 => function_stats(ctx),
        "kill" if args.len() == 2 => {
            super::kill(server, false)?;
            ctx.reply.ok();
        }
        "help" if args.len() == 2 => {
            ctx.reply.array(FUNCTION_HELP.len());
            for line in FUNCTION_HELP {
                ctx.reply.simple(line);
            }
        }
        _ => return Err(subcommand_error(args)),
    }
    Ok(())
}

fn function_list(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut with_code = false;
    let mut pattern: Option<&[u8]> = None;
    let mut i = 2;
    while i < args.len() {
        let a = args[i];
        if !with_code && a.eq_ignore_ascii_case(b"withcode") {
            with_code = true;
        } else if pattern.is_none() && a.eq_ignore_ascii_case(b"libraryname") {
            let Some(p) = args.get(i + 1) else {
                return Err(CmdError::err("library name argument was not given"));
            };
            pattern = Some(p);
            i += 1;
        } else {
            return Err(CmdError::err(format!(
                "Unknown argument {}",
                String::from_utf8_lossy(a)
            )));
        }
        i += 1;
    }
    let libs = lock(&ctx.server.scripting.functions);
    let selected: Vec<&Library> = libs
        .libs
        .values()
        .filter(|l| {
            pattern.is_none_or(|p| crate::store::glob::glob_match(p, l.name.as_bytes(), false))
        })
        .collect();
    let out = &mut *ctx.reply;
    out.array(selected.len());
    for lib in selected {
        out.map(if with_code { 4 } else { 3 });
        out.bulk(b"library_name");
        out.bulk(lib.name.as_bytes());
        out.bulk(b"engine");
        out.bulk(b"LUA");
        out.bulk(b"functions");
        out.array(lib.functions.len());
        for f in &lib.functions {
            out.map(3);
            out.bulk(b"name");
            out.bulk(f.name.as_bytes());
            out.bulk(b"description");
            match &f.description {
                Some(d) => out.bulk(d),
                None => out.null(),
            }
            out.bulk(b"flags");
            let names: Vec<&str> = super::flags::NAMES
                .iter()
                .filter(|(_, b)| f.flags & b != 0)
                .map(|(n, _)| *n)
                .collect();
            out.set(names.len());
            for n in names {
                out.simple(n);
            }
        }
        if with_code {
            out.bulk(b"library_code");
            out.bulk(&lib.code);
        }
    }
    Ok(())
}

fn function_stats(ctx: &mut Ctx) {
    let running = super::running_info(ctx.server);
    let (n_libs, n_functions) = {
        let libs = lock(&ctx.server.scripting.functions);
        (
            libs.libs.len(),
            libs.libs.values().map(|l| l.functions.len()).sum::<usize>(),
        )
    };
    let out = &mut *ctx.reply;
    out.map(2);
    out.bulk(b"running_script");
    match running {
        Some((name, command, duration_ms)) if !name.is_empty() => {
            out.map(3);
            out.bulk(b"name");
            out.bulk(name.as_bytes());
            out.bulk(b"command");
            out.array(command.len());
            for a in &command {
                out.bulk(a);
            }
            out.bulk(b"duration_ms");
            out.integer(duration_ms);
        }
        _ => out.null(),
    }
    out.bulk(b"engines");
    out.map(1);
    out.bulk(b"LUA");
    out.map(2);
    out.bulk(b"libraries_count");
    out.integer(n_libs as i64);
    out.bulk(b"functions_count");
    out.integer(n_functions as i64);
}

/// FUNCTION DUMP's payload: one FUNCTION2 record per library, then the RDB
/// version and CRC-64 footer (as DUMP).
pub fn dump_payload(codes: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    for code in codes {
        body.push(crate::persistence::rdb::OP_FUNCTION2);
        crate::persistence::rdb::append_plain_string(&mut body, code);
    }
    crate::persistence::rdb::append_footer(&mut body);
    body
}

fn function_restore(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    #[derive(PartialEq)]
    enum Policy {
        Flush,
        Append,
        Replace,
    }
    let policy = match args.get(3) {
        None => Policy::Append,
        Some(p) if p.eq_ignore_ascii_case(b"flush") => Policy::Flush,
        Some(p) if p.eq_ignore_ascii_case(b"append") => Policy::Append,
        Some(p) if p.eq_ignore_ascii_case(b"replace") => Policy::Replace,
        Some(_) => {
            return Err(CmdError::err(
                "Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.",
            ))
        }
    };
    let codes = crate::persistence::rdb::decode_function_payload(args[2]).map_err(CmdError::err)?;
    let server = ctx.server;
    // Validate against a copy first: a failure restores nothing.
    let saved: Vec<Vec<u8>> = library_codes(server);
    if policy == Policy::Flush {
        flush_libraries(server);
    }
    let mut failure = None;
    for code in &codes {
        if let Err(e) = load_library(server, code, policy == Policy::Replace) {
            failure = Some(e);
            break;
        }
    }
    if let Some(e) = failure {
        // RESTORE words a name clash without quotes.
        let e = match e {
            CmdError::Err(text) if text.starts_with("Library '") => {
                CmdError::Err(text.replacen('\'', "", 2))
            }
            other => other,
        };
        flush_libraries(server);
        for code in &saved {
            let _ = load_library(server, code, true);
        }
        return Err(e);
    }
    ctx.dirty += 1;
    ctx.reply.ok();
    Ok(())
}
