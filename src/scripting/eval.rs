//! EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (Redis's eval.c).
//!
//! A script body is compiled once into a Lua function, kept in the Lua
//! registry as `f_<sha1 of the body>` and in the script cache (body and
//! shebang flags) under its SHA-1; EVAL caches what it compiles, so a later
//! EVALSHA finds it. The shebang line (`#!lua flags=no-writes`) is cut off
//! before compiling but its line feed is kept, so line numbers in errors
//! stay the user's. Running is shared with FCALL: see [`super::run`].

use crate::commands::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::store::Store;

use super::{ldb, parse_shebang, prepare_checks, CachedScript, CallShape, Vm};

/// The scripting family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd(
        "eval",
        -3,
        "noscript skip_monitor may_replicate no_mandatory_keys stale",
        (0, 0, 0),
        Group::Scripting,
        "script numkeys [key [key ...]] [arg [arg ...]]",
        "Execute a Lua script server side",
        Handler::Write(eval_command),
    ),
    cmd(
        "evalsha",
        -3,
        "noscript skip_monitor may_replicate no_mandatory_keys stale",
        (0, 0, 0),
        Group::Scripting,
        "sha1 numkeys [key [key ...]] [arg [arg ...]]",
        "Execute a Lua script server side",
        Handler::Write(evalsha_command),
    ),
    cmd(
        "eval_ro",
        -3,
        "readonly noscript stale skip_monitor no_mandatory_keys",
        (0, 0, 0),
        Group::Scripting,
        "script numkeys [key [key ...]] [arg [arg ...]]",
        "Execute a read-only Lua script server side",
        Handler::Write(eval_ro_command),
    ),
    cmd(
        "evalsha_ro",
        -3,
        "readonly noscript stale skip_monitor no_mandatory_keys",
        (0, 0, 0),
        Group::Scripting,
        "sha1 numkeys [key [key ...]] [arg [arg ...]]",
        "Execute a read-only Lua script server side",
        Handler::Write(evalsha_ro_command),
    ),
    cmd(
        "script",
        -2,
        "noscript",
        (0, 0, 0),
        Group::Scripting,
        "subcommand [argument ...]",
        "A container for Lua scripts management commands",
        Handler::Conn(script_command),
    ),
];

const NOSCRIPT: &str = "NOSCRIPT No matching script. Please use EVAL.";

/// Compiles `body` into the cache (if new) and returns its SHA.
pub fn create_script(vm: &mut Vm, body: &[u8]) -> Result<String, CmdError> {
    let sha = super::sha1::sha1_hex(body);
    if vm.scripts.contains_key(&sha) {
        return Ok(sha);
    }
    let (flags, skip) = parse_shebang(body)?;
    let func = vm
        .interp
        .compile(&body[skip..], "@user_script")
        .map_err(|e| CmdError::err(format!("Error compiling script (new function): {e}")))?;
    vm.interp
        .lua
        .set_named_registry_value(&format!("f_{sha}"), func)
        .map_err(|e| CmdError::err(e.to_string()))?;
    vm.scripts.insert(
        sha.clone(),
        CachedScript {
            body: body.to_vec(),
            flags,
        },
    );
    super::CACHED_SCRIPTS.store(vm.scripts.len(), std::sync::atomic::Ordering::Relaxed);
    Ok(sha)
}

/// EVAL script numkeys [key ...] [arg ...] — the script's return value,
/// converted to RESP (see lua.rs); errors as `ERR ... script: <sha>, on
/// @user_script:<line>.`
fn eval_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    eval_generic(ctx, store, args, false, false)
}

/// EVALSHA sha1 numkeys [key ...] [arg ...] — as EVAL, for a cached
/// script; `NOSCRIPT` when it is not cached.
fn evalsha_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    eval_generic(ctx, store, args, true, false)
}

/// EVAL_RO script numkeys [key ...] [arg ...] — as EVAL; writes refused.
fn eval_ro_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    eval_generic(ctx, store, args, false, true)
}

/// EVALSHA_RO sha1 numkeys [key ...] [arg ...] — as EVALSHA; writes refused.
fn evalsha_ro_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    eval_generic(ctx, store, args, true, true)
}

/// A script's KEYS and ARGV.
pub type KeysAndArgs<'a> = (Vec<&'a [u8]>, Vec<&'a [u8]>);

/// Splits `numkeys key... arg...` (args[2..]) into keys and arguments.
pub fn split_keys<'a>(args: &[&'a [u8]]) -> Result<KeysAndArgs<'a>, CmdError> {
    let numkeys = parse_i64(args[2]).ok_or(CmdError::NotInteger)?;
    let rest = &args[3..];
    if numkeys > rest.len() as i64 {
        return Err(CmdError::err(
            "Number of keys can't be greater than number of args",
        ));
    }
    if numkeys < 0 {
        return Err(CmdError::err("Number of keys can't be negative"));
    }
    let (keys, argv) = rest.split_at(numkeys as usize);
    Ok((keys.to_vec(), argv.to_vec()))
}

fn eval_generic(
    ctx: &mut Ctx,
    store: &mut Store,
    args: &[&[u8]],
    evalsha: bool,
    ro: bool,
) -> CmdResult {
    let (keys, argv) = split_keys(args)?;
    let server = ctx.server;
    let mut guard = server.scripting.vm()?;
    let vm = guard.as_mut().expect("vm() creates the VM");
    let sha = if evalsha {
        if args[1].len() != 40 {
            return Err(CmdError::Raw(NOSCRIPT.into()));
        }
        let sha = String::from_utf8_lossy(args[1]).to_ascii_lowercase();
        if !vm.scripts.contains_key(&sha) {
            return Err(CmdError::Raw(NOSCRIPT.into()));
        }
        sha
    } else {
        create_script(vm, args[1])?
    };
    let flags = vm.scripts.get(&sha).map_or(0, |s| s.flags);
    prepare_checks(ctx, flags, ro)?;
    let func: mlua::Function = vm
        .interp
        .lua
        .named_registry_value(&format!("f_{sha}"))
        .map_err(|_| CmdError::Raw(NOSCRIPT.into()))?;
    // SCRIPT DEBUG: this EVAL is a debugging session (see ldb.rs).
    let mode = ctx.client.ldb;
    let stream = ctx.client.info.stream.clone();
    let debugging = mode != ldb::Mode::Off && !ctx.in_exec && !ctx.in_script;
    let (mut copy, store) = match (debugging, stream) {
        (true, Some(stream)) => {
            let body = vm
                .scripts
                .get(&sha)
                .map(|s| s.body.clone())
                .unwrap_or_default();
            ldb::start(stream, &body, mode, &ctx.reply.buf);
            ctx.reply.buf.clear();
            // YES: the script runs on a copy of the data, dropped after.
            let copy = (mode == ldb::Mode::Async).then(|| store.clone());
            (copy, store)
        }
        _ => (None, store),
    };
    let target = match copy.as_mut() {
        Some(copy) => copy,
        None => store,
    };
    let result = super::run(
        ctx,
        target,
        vm,
        func,
        CallShape::Eval,
        &keys,
        &argv,
        flags,
        ro,
        &sha,
        args,
    );
    if ldb::active() {
        ldb::finish();
        // As in Redis, the connection ends with the session.
        ctx.client.ldb = ldb::Mode::Off;
        ctx.client.close_after_reply = true;
    }
    result
}

const SCRIPT_HELP: &[&str] = &[
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Prints this help.",
];

/// SCRIPT LOAD script | EXISTS sha1 [sha1 ...] | FLUSH [ASYNC|SYNC] | KILL
/// | HELP — bulk SHA / array of 0|1 / `+OK` / help lines.
fn script_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let sub = String::from_utf8_lossy(args[1]).to_ascii_lowercase();
    let server = ctx.server;
    match (sub.as_str(), args.len()) {
        ("help", 2) => {
            ctx.reply.array(SCRIPT_HELP.len());
            for line in SCRIPT_HELP {
                ctx.reply.simple(line);
            }
        }
        ("flush", 2 | 3) => {
            if let Some(mode) = args.get(2) {
                if !mode.eq_ignore_ascii_case(b"sync") && !mode.eq_ignore_ascii_case(b"async") {
                    return Err(CmdError::err("SCRIPT FLUSH only support SYNC|ASYNC option"));
                }
            }
            super::function::flush_eval_scripts(server)?;
            ctx.reply.ok();
        }
        ("exists", n) if n >= 3 => {
            let guard = server.scripting.vm()?;
            let vm = guard.as_ref().expect("vm() creates the VM");
            ctx.reply.array(n - 2);
            for sha in &args[2..] {
                let sha = String::from_utf8_lossy(sha).to_ascii_lowercase();
                ctx.reply.integer(vm.scripts.contains_key(&sha) as i64);
            }
        }
        ("load", 3) => {
            let mut guard = server.scripting.vm()?;
            let vm = guard.as_mut().expect("vm() creates the VM");
            let sha = create_script(vm, args[2])?;
            ctx.reply.bulk(sha.as_bytes());
        }
        ("kill", 2) => {
            super::kill(server, true)?;
            ctx.reply.ok();
        }
        ("debug", 3) => {
            let mode = args[2];
            let mode = if mode.eq_ignore_ascii_case(b"no") {
                ldb::Mode::Off
            } else if mode.eq_ignore_ascii_case(b"yes") {
                ldb::Mode::Async
            } else if mode.eq_ignore_ascii_case(b"sync") {
                ldb::Mode::Sync
            } else {
                return Err(CmdError::err("Use SCRIPT DEBUG YES/SYNC/NO"));
            };
            if ctx.in_exec || ctx.client.tx.queue.is_some() {
                return Err(CmdError::err(
                    "SCRIPT DEBUG must be called outside a pipeline",
                ));
            }
            ctx.client.ldb = mode;
            ctx.reply.ok();
        }
        _ => {
            return Err(CmdError::err(format!(
                "unknown subcommand or wrong number of arguments for '{}'. Try SCRIPT HELP.",
                String::from_utf8_lossy(args[1])
            )))
        }
    }
    Ok(())
}
