//! LDB, the Lua debugger: `SCRIPT DEBUG SYNC|YES`, then the client's next
//! EVAL runs line by line under its control, as in Redis 3.2 and later.
//!
//! The session happens inside the EVAL, on the client's own thread. A line
//! hook ([`on_line`]) stops the script on the first line, at breakpoints,
//! after `step` and after `redis.breakpoint()`; while stopped it reads the
//! debugger's commands straight from the client's socket and answers each
//! with the lines logged since the last answer, as one array of status
//! replies (Redis's wire protocol for LDB, which `redis-cli --ldb` speaks):
//!
//! ```text
//! client                      server
//! SCRIPT DEBUG SYNC     ->    +OK
//! EVAL "..." 0          ->    *2 +* Stopped at 1, stop reason = step over
//!                                +-> 1   local a = 5
//! s                     ->    *2 +* Stopped at 2, ...   (the script ran a line)
//! p                     ->    *1 +<value> a = 5
//! c                     ->    *1 +<endsession>          then the EVAL's reply,
//!                                                       and the connection closes
//! ```
//!
//! `SYNC` keeps what the script wrote and holds the store's lock for the
//! whole session (Redis blocks the server the same way). `YES` is Redis's
//! forked session: the script runs on a copy of the data that is dropped at
//! the end, and nothing it writes reaches the AOF or replicas. The session
//! state lives in a thread-local, so `redis.call` can log each command and
//! its reply (`<redis>` / `<reply>` lines) without being told.
//!
//! Commands sent before a debugged EVAL in the same pipelined batch get
//! their replies first; commands pipelined after it are read as debugger
//! commands, as they would be by Redis.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use mlua::{Lua, Value};

use super::libs::number_text;
use super::lua::Reply;

/// A client's SCRIPT DEBUG setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// No debugging (SCRIPT DEBUG NO).
    #[default]
    Off,
    /// SCRIPT DEBUG SYNC: changes are kept.
    Sync,
    /// SCRIPT DEBUG YES: changes are rolled back.
    Async,
}

/// Default maxlen: logged values are cut to this many bytes.
const DEFAULT_MAXLEN: usize = 256;
/// The smallest maxlen Redis accepts (smaller values are raised to it).
const MIN_MAXLEN: usize = 60;
/// Lines `list` shows around its line by default.
const LIST_CONTEXT: i64 = 5;

const HELP: &[&str] = &[
    "Redis Lua debugger help:",
    "[h]elp               Show this help.",
    "[s]tep               Run current line and stop again.",
    "[n]ext               Alias for step.",
    "[c]ontinue           Run till next breakpoint.",
    "[l]ist               List source code around current line.",
    "[l]ist [line]        List source code around [line].",
    "                     line = 0 means: current position.",
    "[l]ist [line] [ctx]  In this form [ctx] specifies how many lines",
    "                     to show before/after [line].",
    "[w]hole              List all source code. Alias for 'list 1 1000000'.",
    "[p]rint              Show all the local variables.",
    "[p]rint <var>        Show the value of the specified variable.",
    "                     Can also show global vars KEYS and ARGV.",
    "[b]reak              Show all breakpoints.",
    "[b]reak <line>       Add a breakpoint to the specified line.",
    "[b]reak -<line>      Remove breakpoint from the specified line.",
    "[b]reak 0            Remove all breakpoints.",
    "[t]race              Show a backtrace.",
    "[e]val <code>        Execute some Lua code (in a different callframe).",
    "[r]edis <cmd>        Execute a Redis command.",
    "[m]axlen [len]       Trim logged Redis replies and Lua var dumps to len.",
    "                     Specifying zero as <len> means unlimited.",
    "[a]bort              Stop the execution of the script. In sync",
    "                     mode dataset changes will be retained.",
    "",
    "Debugger functions you can call from Lua scripts:",
    "redis.debug()        Produce logs in the debugger console.",
    "redis.breakpoint()   Stop execution like if there was a breakpoint in the",
    "                     next line of code.",
];

/// The error a script dies with when the debugger aborts it (or when the
/// client goes away mid-session).
pub const ABORTED: &str = "ERR script aborted for user request";

/// One debugging session.
struct Session {
    stream: Arc<TcpStream>,
    /// Bytes read from the socket, not yet parsed into a command.
    input: Vec<u8>,
    lines: Vec<String>,
    breakpoints: BTreeSet<usize>,
    /// Stop at the next line (step, and the session's start).
    step: bool,
    /// Stop at the next line because the script called redis.breakpoint().
    breakpoint_called: bool,
    maxlen: usize,
    logs: Vec<String>,
    current: usize,
    /// The script must stop: `abort`, or the client went away.
    aborted: bool,
    /// Stopped, running the debugger's commands.
    in_repl: bool,
    rollback: bool,
}

thread_local! {
    static ACTIVE: RefCell<Option<Session>> = const { RefCell::new(None) };
}

/// Starts a session for a script with source `body` on the client behind
/// `stream`; `pending` (replies already due, earlier in the batch) goes out
/// first.
pub fn start(stream: Arc<TcpStream>, body: &[u8], mode: Mode, pending: &[u8]) {
    let _ = (&*stream).write_all(pending);
    let text = String::from_utf8_lossy(body);
    let session = Session {
        stream,
        input: Vec::new(),
        lines: text.lines().map(str::to_string).collect(),
        breakpoints: BTreeSet::new(),
        step: true,
        breakpoint_called: false,
        maxlen: DEFAULT_MAXLEN,
        logs: Vec::new(),
        current: 0,
        aborted: false,
        in_repl: false,
        rollback: mode == Mode::Async,
    };
    ACTIVE.with(|a| *a.borrow_mut() = Some(session));
}

/// True while this thread runs a debugging session.
pub fn active() -> bool {
    ACTIVE.with(|a| a.borrow().is_some())
}

/// True when the running session's changes are to be dropped (YES mode):
/// nothing the script writes is propagated.
pub fn rolls_back() -> bool {
    ACTIVE.with(|a| a.borrow().as_ref().is_some_and(|s| s.rollback))
}

/// Ends the session: the lines logged since the last answer and
/// `<endsession>` go out now, before the EVAL's own reply.
pub fn finish() {
    if let Some(mut s) = ACTIVE.with(|a| a.borrow_mut().take()) {
        s.log("<endsession>".into());
        s.send_logs();
    }
}

/// Logs a command the script is about to run (`<redis> set k v`): while
/// stepping, or run by the debugger's `redis` command, as Redis does.
pub fn log_call(argv: &[Vec<u8>]) {
    with_session(|s| {
        if !s.logs_calls() {
            return;
        }
        let words: Vec<String> = argv
            .iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        s.log(format!("<redis> {}", words.join(" ")));
    });
}

/// Logs the reply a command gave the script.
pub fn log_reply(reply: &Reply) {
    with_session(|s| {
        if !s.logs_calls() {
            return;
        }
        let line = format!("<reply> {}", human_reply(reply));
        s.log_trimmed(line);
    });
}

/// Logs the error a command gave the script. Errors of the script layer
/// itself (unknown command, wrong number of arguments: "... from script")
/// come before any command ran, and Redis logs no reply for them.
pub fn log_error_reply(text: &str) {
    with_session(|s| {
        if !s.logs_calls() || text.contains("from script") {
            return;
        }
        let line = format!("<reply> {}", repr(format!("-{text}").as_bytes()));
        s.log_trimmed(line);
    });
}

fn with_session(f: impl FnOnce(&mut Session)) {
    ACTIVE.with(|a| {
        if let Some(s) = a.borrow_mut().as_mut() {
            f(s);
        }
    });
}

/// redis.debug(...): logs its arguments (`<debug> line 4: "hi", 5`).
pub fn debug(lua: &Lua, args: mlua::MultiValue) -> mlua::Result<()> {
    let line = current_line(lua);
    let parts: Vec<String> = args.iter().map(value_repr).collect();
    with_session(|s| s.log_trimmed(format!("<debug> line {line}: {}", parts.join(", "))));
    Ok(())
}

/// redis.breakpoint(): stop at the next line; true inside a session.
pub fn breakpoint() -> bool {
    let mut inside = false;
    with_session(|s| {
        s.breakpoint_called = true;
        inside = true;
    });
    inside
}

/// The line hook: stops where the session says and runs the debugger's
/// commands until one lets the script go on.
pub fn on_line(lua: &Lua, line: usize) -> mlua::Result<()> {
    let stop = ACTIVE.with(|a| {
        let mut guard = a.borrow_mut();
        let s = guard.as_mut()?;
        s.current = line;
        if s.aborted {
            return Some(Err(()));
        }
        let reason = if s.step {
            "step over"
        } else if s.breakpoint_called {
            "redis.breakpoint() called"
        } else if s.breakpoints.contains(&line) {
            "break point"
        } else {
            return None;
        };
        s.step = false;
        s.breakpoint_called = false;
        s.log(format!("* Stopped at {line}, stop reason = {reason}"));
        s.log_source_line(line);
        s.send_logs();
        Some(Ok(()))
    });
    match stop {
        None => Ok(()),
        Some(Err(())) => Err(aborted()),
        Some(Ok(())) => repl(lua),
    }
}

fn aborted() -> mlua::Error {
    mlua::Error::external(super::lua::ScriptError(ABORTED.into()))
}

/// What the debugger does after one command.
enum Next {
    /// Keep reading commands.
    Stay,
    /// Let the script run (step or continue).
    Run,
    /// Stop the script.
    Abort,
}

/// Reads and runs debugger commands until one lets the script go on.
fn repl(lua: &Lua) -> mlua::Result<()> {
    with_session(|s| s.in_repl = true);
    let outcome = repl_loop(lua);
    with_session(|s| s.in_repl = false);
    outcome
}

fn repl_loop(lua: &Lua) -> mlua::Result<()> {
    loop {
        let Some(argv) = ACTIVE.with(|a| a.borrow_mut().as_mut().and_then(Session::read_command))
        else {
            // The client went away: nobody can continue the script.
            with_session(|s| s.aborted = true);
            return Err(aborted());
        };
        match run_command(lua, &argv) {
            Next::Stay => with_session(Session::send_logs),
            Next::Run => return Ok(()),
            Next::Abort => {
                with_session(|s| s.aborted = true);
                return Err(aborted());
            }
        }
    }
}

fn arg_str(argv: &[Vec<u8>], i: usize) -> String {
    argv.get(i)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .unwrap_or_default()
}

/// C's atoi: leading digits (with a sign), 0 when there are none.
fn atoi(text: &str) -> i64 {
    let t = text.trim_start();
    let (sign, digits) = match t.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, t.strip_prefix('+').unwrap_or(t)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    sign * digits[..end].parse::<i64>().unwrap_or(0)
}

fn run_command(lua: &Lua, argv: &[Vec<u8>]) -> Next {
    let name = arg_str(argv, 0).to_ascii_lowercase();
    let argc = argv.len();
    let unknown = || {
        with_session(|s| {
            s.log("<error> Unknown Redis Lua debugger command or wrong number of arguments.".into())
        });
        Next::Stay
    };
    match name.as_str() {
        "h" | "help" => with_session(|s| HELP.iter().for_each(|l| s.log((*l).into()))),
        "s" | "step" | "n" | "next" => {
            with_session(|s| s.step = true);
            return Next::Run;
        }
        "c" | "continue" => return Next::Run,
        "a" | "abort" => return Next::Abort,
        "l" | "list" => {
            let around = if argc > 1 { atoi(&arg_str(argv, 1)) } else { 0 };
            let context = if argc > 2 {
                atoi(&arg_str(argv, 2))
            } else {
                LIST_CONTEXT
            };
            with_session(|s| s.list(around, context));
        }
        "w" | "whole" => with_session(|s| s.list(1, 1_000_000)),
        "p" | "print" => print(lua, argv.get(1)),
        "b" | "break" => with_session(|s| s.breakpoint_command(&argv[1..])),
        "t" | "trace" => trace(lua),
        "m" | "maxlen" => with_session(|s| {
            if argc > 1 {
                let len = atoi(&arg_str(argv, 1)).max(0) as usize;
                s.maxlen = if len == 0 { 0 } else { len.max(MIN_MAXLEN) };
            }
            let line = if s.maxlen == 0 {
                "<value> replies are unlimited.".to_string()
            } else {
                format!("<value> replies are truncated at {} bytes.", s.maxlen)
            };
            s.log(line);
        }),
        "e" | "eval" => eval(lua, &argv[1..]),
        "r" | "redis" if argc > 1 => redis(lua, &argv[1..]),
        _ => return unknown(),
    }
    Next::Stay
}

/// `print [var]`: the current function's locals, or one variable (a local,
/// else a global such as KEYS or ARGV).
fn print(lua: &Lua, var: Option<&Vec<u8>>) {
    let locals = locals(lua);
    let lines: Vec<String> = match var {
        None if locals.is_empty() => vec!["No local variables in the current context.".into()],
        None => locals
            .iter()
            .map(|(name, v)| format!("<value> {name} = {v}"))
            .collect(),
        Some(var) => {
            let var = String::from_utf8_lossy(var).into_owned();
            match locals.iter().rev().find(|(name, _)| *name == var) {
                Some((_, v)) => vec![format!("<value> {v}")],
                None => match global(lua, &var) {
                    Some(v) => vec![format!("<value> {v}")],
                    None => vec!["No such variable.".into()],
                },
            }
        }
    };
    with_session(|s| lines.into_iter().for_each(|l| s.log_trimmed(l)));
}

/// The hooked function's local variables, formatted, in declaration order.
fn locals(lua: &Lua) -> Vec<(String, String)> {
    let Ok(imp) = lua.named_registry_value::<mlua::Table>("redis_impl") else {
        return Vec::new();
    };
    let Ok(getter) = imp.raw_get::<_, mlua::Function>("ldb_locals") else {
        return Vec::new();
    };
    let Ok(list) = getter.call::<_, mlua::Table>(()) else {
        return Vec::new();
    };
    list.sequence_values::<mlua::Table>()
        .flatten()
        .map(|pair| {
            let name: String = pair.raw_get(1).unwrap_or_default();
            let value: Value = pair.raw_get(2).unwrap_or(Value::Nil);
            (name, value_repr(&value))
        })
        .collect()
}

fn global(lua: &Lua, name: &str) -> Option<String> {
    let imp: mlua::Table = lua.named_registry_value("redis_impl").ok()?;
    let globals: mlua::Table = imp.raw_get("R").ok()?;
    match globals.raw_get::<_, Value>(name).ok()? {
        Value::Nil => None,
        v => Some(value_repr(&v)),
    }
}

/// `trace`: the script's frames, innermost first.
fn trace(lua: &Lua) {
    let mut out = Vec::new();
    let mut level = 0;
    while let Some(frame) = lua.inspect_stack(level) {
        let source = frame.source();
        if source.source.is_some_and(|s| s.contains("user_script")) {
            let name = frame
                .names()
                .name
                .map(|n| n.to_string())
                .unwrap_or_else(|| "top level".into());
            let word = if out.is_empty() { "In" } else { "From" };
            out.push((format!("{word} {name}:"), frame.curr_line()));
        }
        level += 1;
    }
    with_session(|s| {
        for (title, line) in out {
            s.log(title);
            if line > 0 {
                s.log_source_line(line as usize);
            }
        }
    });
}

/// `eval <code>`: runs code in a frame of its own and logs the result.
fn eval(lua: &Lua, words: &[Vec<u8>]) {
    let code: Vec<u8> = words.join(&b' ');
    let result = lua
        .load(&code[..])
        .set_name("@ldb_eval")
        .call::<_, mlua::MultiValue>(());
    let line = match result {
        Ok(values) => format!(
            "<retval> {}",
            values.iter().next().map_or("nil".into(), value_repr)
        ),
        Err(e) => format!("<error> {}", lua_error_text(&e)),
    };
    with_session(|s| s.log_trimmed(line));
}

/// `redis <cmd>`: runs a command through redis.call, which logs it.
fn redis(lua: &Lua, argv: &[Vec<u8>]) {
    let call = lua
        .named_registry_value::<mlua::Table>("redis_impl")
        .and_then(|imp| imp.raw_get::<_, mlua::Table>("G"))
        .and_then(|g| g.get::<_, mlua::Table>("redis"))
        .and_then(|r| r.get::<_, mlua::Function>("call"));
    let args: mlua::Result<Vec<mlua::String>> = argv.iter().map(|a| lua.create_string(a)).collect();
    let outcome = match (call, args) {
        (Ok(call), Ok(args)) => call.call::<_, Value>(mlua::MultiValue::from_vec(
            args.into_iter().map(Value::String).collect(),
        )),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    if let Err(e) = outcome {
        with_session(|s| {
            // A command's own error was logged as its reply: Redis shows
            // the error (with its '-') just before that reply line.
            match s.logs.last() {
                Some(last) if last.starts_with("<reply> \"-") => {
                    let at = s.logs.len() - 1;
                    s.logs
                        .insert(at, format!("<error> -{}", raw_error_text(&e)));
                }
                _ => s.log(format!("<error> {}", lua_error_text(&e))),
            }
        });
    }
}

/// The first line of a Lua error's message, as raised.
fn raw_error_text(e: &mlua::Error) -> String {
    match e {
        mlua::Error::CallbackError { cause, .. } => raw_error_text(cause),
        other => other.to_string().lines().next().unwrap_or("").to_string(),
    }
}

/// The message of a Lua error, without mlua's stack traceback.
fn lua_error_text(e: &mlua::Error) -> String {
    let text = match e {
        mlua::Error::RuntimeError(t) | mlua::Error::SyntaxError { message: t, .. } => t.clone(),
        other => raw_error_text(other),
    };
    let text = text.lines().next().unwrap_or("").to_string();
    text.strip_prefix("ERR ")
        .map(str::to_string)
        .unwrap_or(text)
}

fn current_line(lua: &Lua) -> i64 {
    let mut level = 0;
    while let Some(frame) = lua.inspect_stack(level) {
        if frame
            .source()
            .source
            .is_some_and(|s| s.contains("user_script"))
        {
            return frame.curr_line() as i64;
        }
        level += 1;
    }
    0
}

/// A Lua value as the debugger shows it: strings quoted, tables as
/// `{1; 2}` (a sequence) or `{["k"]=v; ...}`.
pub fn value_repr(value: &Value) -> String {
    value_repr_at(value, 0)
}

/// How deep nested tables are shown: a table that contains itself must
/// not recurse forever.
const MAX_DEPTH: usize = 16;

fn value_repr_at(value: &Value, depth: usize) -> String {
    match value {
        Value::Table(_) if depth >= MAX_DEPTH => "{...}".into(),
        Value::Nil => "nil".into(),
        Value::Boolean(b) => b.to_string(),
        Value::Integer(n) => n.to_string(),
        Value::Number(n) => number_text(*n),
        Value::String(s) => repr(s.as_bytes()),
        Value::Table(t) => {
            let len = t.raw_len();
            let pairs: Vec<(Value, Value)> = t.clone().pairs::<Value, Value>().flatten().collect();
            if pairs.len() == len {
                let items: Vec<String> = (1..=len)
                    .map(|i| {
                        value_repr_at(&t.raw_get::<_, Value>(i).unwrap_or(Value::Nil), depth + 1)
                    })
                    .collect();
                format!("{{{}}}", items.join("; "))
            } else {
                let items: Vec<String> = pairs
                    .iter()
                    .map(|(k, v)| {
                        format!(
                            "[{}]={}",
                            value_repr_at(k, depth + 1),
                            value_repr_at(v, depth + 1)
                        )
                    })
                    .collect();
                format!("{{{}}}", items.join("; "))
            }
        }
        Value::Function(f) => format!("\"function@{:?}\"", f.to_pointer()),
        other => format!("\"{}@{:?}\"", other.type_name(), other.to_pointer()),
    }
}

/// Bytes quoted and escaped as Redis's `sdscatrepr` does (`"a\nb"`).
fn repr(bytes: &[u8]) -> String {
    let mut out = String::new();
    crate::monitor::push_repr(&mut out, bytes);
    out
}

/// A command's reply as the debugger shows it: `"+OK"`, `"value"`, `2`,
/// `NULL`, `["a","b"]`.
fn human_reply(reply: &Reply) -> String {
    let list = |items: &[Reply]| -> String {
        let parts: Vec<String> = items.iter().map(human_reply).collect();
        format!("[{}]", parts.join(","))
    };
    match reply {
        Reply::Int(n) => n.to_string(),
        Reply::Bulk(b) => repr(b),
        Reply::NullBulk | Reply::Null => "NULL".into(),
        Reply::Status(s) => repr(&[b"+", &s[..]].concat()),
        Reply::Error(e) => repr(&[b"-", &e[..]].concat()),
        Reply::Array(items) => list(items),
        Reply::Set(items) => format!("~{}", list(items)),
        Reply::Map(pairs) => {
            let parts: Vec<String> = pairs
                .iter()
                .map(|(k, v)| format!("{} => {}", human_reply(k), human_reply(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        Reply::Double(d) => number_text(*d),
        Reply::Bool(b) => if *b { "#true" } else { "#false" }.into(),
        Reply::BigNumber(n) => String::from_utf8_lossy(n).into_owned(),
        Reply::Verbatim(_, text) => repr(text),
    }
}

impl Session {
    fn logs_calls(&self) -> bool {
        self.step || self.in_repl
    }

    fn log(&mut self, line: String) {
        self.logs.push(line);
    }

    /// Logs `line` cut to maxlen bytes, with " ..." when cut.
    fn log_trimmed(&mut self, mut line: String) {
        if self.maxlen > 0 && line.len() > self.maxlen {
            let mut end = self.maxlen;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line.truncate(end);
            line.push_str(" ...");
        }
        self.log(line);
    }

    /// Sends the logged lines as one array of status replies.
    fn send_logs(&mut self) {
        let mut out = format!("*{}\r\n", self.logs.len()).into_bytes();
        for line in self.logs.drain(..) {
            out.push(b'+');
            // A status line cannot hold a line break.
            out.extend(
                line.bytes()
                    .map(|b| if b == b'\r' || b == b'\n' { b' ' } else { b }),
            );
            out.extend_from_slice(b"\r\n");
        }
        if (&*self.stream).write_all(&out).is_err() {
            self.aborted = true;
        }
    }

    /// Reads one command (an array of bulk strings, or an inline line);
    /// None once the client has gone.
    fn read_command(&mut self) -> Option<Vec<Vec<u8>>> {
        let mut request = crate::resp::Request::new();
        loop {
            if !self.input.is_empty() {
                match crate::resp::parse_request(&self.input, usize::MAX, &mut request) {
                    Ok(Some(len)) => {
                        let mut argv = Vec::new();
                        request.with_args(&self.input[..len], |args| {
                            argv = args.iter().map(|a| a.to_vec()).collect();
                        });
                        self.input.drain(..len);
                        if argv.is_empty() {
                            continue;
                        }
                        return Some(argv);
                    }
                    Ok(None) => {}
                    Err(_) => return None,
                }
            }
            let mut buf = [0u8; 4096];
            match (&*self.stream).read(&mut buf) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.input.extend_from_slice(&buf[..n]),
            }
        }
    }

    /// One source line with its markers: `->` for the current line, `#`
    /// for a breakpoint.
    fn log_source_line(&mut self, line: usize) {
        let text = self
            .lines
            .get(line.wrapping_sub(1))
            .cloned()
            .unwrap_or_else(|| "<out of range source code line>".into());
        let prefix = match (line == self.current, self.breakpoints.contains(&line)) {
            (true, true) => "->#",
            (true, false) => "-> ",
            (false, true) => "  #",
            (false, false) => "   ",
        };
        self.log(format!("{prefix}{line:<3} {text}"));
    }

    /// `list`: the lines within `context` of `around` (0: the current line).
    fn list(&mut self, around: i64, context: i64) {
        let around = if around <= 0 {
            self.current as i64
        } else {
            around
        };
        for line in around.saturating_sub(context).max(1)..=around.saturating_add(context) {
            if line as usize > self.lines.len() {
                break;
            }
            self.log_source_line(line as usize);
        }
    }

    /// `break`, `break <line>`, `break -<line>`, `break 0`.
    fn breakpoint_command(&mut self, args: &[Vec<u8>]) {
        if args.is_empty() {
            let set: Vec<usize> = self.breakpoints.iter().copied().collect();
            if set.is_empty() {
                self.log("No breakpoints set. Use 'b <line>' to add one.".into());
            } else {
                self.log(format!("{} breakpoints set:", set.len()));
                for line in set {
                    self.log_source_line(line);
                }
            }
            return;
        }
        for arg in args {
            let text = String::from_utf8_lossy(arg).into_owned();
            let Ok(line) = text.trim().parse::<i64>() else {
                self.log(format!("Invalid argument:'{text}'"));
                continue;
            };
            if line == 0 {
                self.breakpoints.clear();
                self.log("All breakpoints removed.".into());
            } else if line > 0 {
                if line as usize > self.lines.len() {
                    self.log("Wrong line number.".into());
                } else {
                    self.breakpoints.insert(line as usize);
                    self.list(line, 1);
                }
            } else if self.breakpoints.remove(&(line.unsigned_abs() as usize)) {
                self.log("Breakpoint removed.".into());
            } else {
                self.log("No breakpoint in the specified line.".into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_replies_print_as_redis_shows_them() {
        assert_eq!(repr(b"a\nb\"c"), "\"a\\nb\\\"c\"");
        assert_eq!(number_text(1.5), "1.5");
        assert_eq!(number_text(5.0), "5");
        assert_eq!(
            human_reply(&Reply::Array(vec![
                Reply::Bulk(b"a".to_vec()),
                Reply::Int(2),
                Reply::NullBulk,
                Reply::Status(b"OK".to_vec()),
            ])),
            "[\"a\",2,NULL,\"+OK\"]"
        );
        assert_eq!(atoi("12x"), 12);
        assert_eq!(atoi("x"), 0);
        assert_eq!(atoi("-3"), -3);
    }

    #[test]
    fn a_table_that_contains_itself_prints_without_end() {
        let lua = Lua::new();
        let t = lua.create_table().unwrap();
        t.raw_set("self", t.clone()).unwrap();
        let shown = value_repr(&Value::Table(t));
        assert!(shown.contains("{...}"), "{shown}");
    }
}
