//! The Lua 5.1 interpreter scripts run in: its sandbox, the `redis` API,
//! and the conversions between Lua values and RESP replies.
//!
//! # The sandbox
//!
//! One VM serves every script (as in Redis). It loads only base, table,
//! string and math (plus `debug`, which the prelude keeps privately for
//! its error handler and then removes). The prelude (`PRELUDE`, run once)
//! then builds what Redis 7.0 gets from its patched Lua:
//!
//! ```text
//! real globals R  (KEYS, ARGV, libraries ...)       never seen by scripts
//! G = proxy of R  __index: R[k], or "Script attempted to access
//!                          nonexistent global variable 'k'"
//!                 __newindex: "Attempt to modify a readonly table"
//! string, math, table, redis, bit ...  read-only proxies the same way
//! ```
//!
//! Every compiled chunk gets G as its environment (`setfenv`), and
//! `setmetatable` / `rawset` refuse the protected proxies, so a script can
//! neither create globals nor patch the libraries. Stock Lua cannot make
//! an existing table read-only; proxies are how that is done here.
//!
//! # redis.call
//!
//! `redis.call` and `redis.pcall` are Lua wrappers around `impl.run`, a
//! Rust function installed for the duration of one script run (see
//! [`super::run`]), which answers `(value, is_error)`: `redis.call` raises
//! the error table, `redis.pcall` returns it. Errors are raised as tables
//! `{err="CODE message"}`; the error handler (`impl.err_handler`, run by
//! `xpcall`) adds the `source` and `line` of the script frame that failed,
//! from which the final `... script: <sha>, on @user_script:1.` is built.
//!
//! # Conversions (Redis's rules)
//!
//! ```text
//! RESP -> Lua                        Lua -> RESP
//! integer      number               number        integer (truncated)
//! bulk         string               string        bulk
//! null bulk    false                true / false  1 / null (RESP3: #t/#f)
//! null array   false                {ok=s}        status
//! status       {ok=s}               {err=s}       error
//! error        {err=s}              {double=n} {map=t} {set=t} ... RESP3
//! array        table                table         array up to the first nil
//! RESP3 (redis.setresp(3)): map {map=t}, set {set=t}, null nil,
//!   boolean true/false, double {double=n}, big number {big_number=s},
//!   verbatim {verbatim_string={format=, string=}}
//! ```

use mlua::{Function, Lua, LuaOptions, MultiValue, StdLib, Table, Value};

use crate::resp::ReplyBuf;

/// Lua code run once when the VM is created, with the real globals as its
/// environment. Receives `impl` (a private table shared with Rust) and the
/// `debug` library.
const PRELUDE: &str = r#"
local impl, dbg = ...
local R = _G
local raw_setmetatable, raw_rawset, raw_loadstring, raw_load = setmetatable, rawset, loadstring, load
local raw_setfenv, raw_pcall, raw_type, raw_tostring, raw_select, raw_unpack, raw_error =
    setfenv, pcall, type, tostring, select, unpack, error
local protected = raw_setmetatable({}, {__mode = 'k'})

local function readonly_error() raw_error('Attempt to modify a readonly table', 2) end

local function protect(t)
    local mt = {__index = t, __newindex = readonly_error}
    mt.__metatable = raw_setmetatable({}, {__index = mt, __newindex = readonly_error, __metatable = false})
    local p = raw_setmetatable({}, mt)
    protected[p] = true
    return p
end

-- Redis's luaPushErrorBuff: "-CODE msg" keeps CODE, anything else gets ERR.
local function error_table(s)
    local code, msg
    if s:sub(1, 1) == '-' then
        local sp = s:find(' ', 1, true)
        if sp then code, msg = s:sub(2, sp - 1), s:sub(sp + 1) else code, msg = 'ERR', s:sub(2) end
    else
        code, msg = 'ERR', s
    end
    msg = (msg:gsub('^[\r\n]+', ''))
    msg = (msg:gsub('[\r\n]+$', ''))
    return {err = code .. ' ' .. msg}
end
impl.error_table = error_table

function impl.err_handler(err)
    local level = 2
    local i = dbg.getinfo(level, 'nSl')
    while i and (i.what == 'C' or i.source == '=redis_api' or i.source == '=(tail call)') do
        level = level + 1
        i = dbg.getinfo(level, 'nSl')
    end
    if raw_type(err) == 'userdata' then
        -- An error raised by Rust (redis.call, the kill hook): its text
        -- already starts with the error code.
        local text = raw_tostring(err)
        local cut = text:find('\nstack traceback:', 1, true)
        if cut then text = text:sub(1, cut - 1) end
        if not text:find('^%u+ ') then text = 'ERR ' .. text end
        err = {err = text}
    elseif raw_type(err) ~= 'table' then
        err = {err = 'ERR ' .. raw_tostring(err)}
    end
    if i then
        err['source'] = i.source
        err['line'] = i.currentline
    end
    return err
end

function impl.run_eval(f)
    return xpcall(f, impl.err_handler)
end

function impl.run_fcall(f, keys, args)
    return xpcall(function() return f(keys, args) end, impl.err_handler)
end

-- What the globals proxy reads from: R, or while FUNCTION LOAD runs a
-- library's code, LOAD (only the load-time `redis` API).
local backing = R
local LOAD = {}
function impl.set_loading(on)
    if on then backing = LOAD else backing = R end
end

-- A read-only view of the table `source()` returns: reading a name it
-- lacks is Redis's "nonexistent global variable" error, and neither the
-- view nor its metatable can be changed.
local function strict_view(source)
    local view = {}
    raw_setmetatable(view, {
        __index = function(_, k)
            local v = source()[k]
            if v == nil then
                raw_error("Script attempted to access nonexistent global variable '" .. raw_tostring(k) .. "'", 2)
            end
            return v
        end,
        __newindex = readonly_error,
        __metatable = raw_setmetatable({}, {__newindex = readonly_error, __metatable = false}),
    })
    return view
end

local G = strict_view(function() return backing end)
protected[G] = true
impl.G = G
impl.R = R

function impl.setenv(f)
    raw_setfenv(f, G)
    return f
end

local function check_args(n, ...)
    return raw_select('#', ...) == n
end

local redis = {}
redis.call = impl.call
redis.pcall = impl.pcall
redis.sha1hex = function(...)
    if not check_args(1, ...) then raw_error(error_table('wrong number of arguments')) end
    return impl.sha1hex(...)
end
local function single_field(field, ...)
    local s = ...
    if not check_args(1, ...) or (raw_type(s) ~= 'string' and raw_type(s) ~= 'number') then
        raw_error(error_table('wrong number or type of arguments'))
    end
    return s
end
redis.error_reply = function(...)
    local s = raw_tostring(single_field('err', ...))
    if s:sub(1, 1) ~= '-' then s = '-' .. s end
    return error_table(s)
end
redis.status_reply = function(...)
    return {ok = raw_tostring(single_field('ok', ...))}
end
redis.log = function(...)
    local n = raw_select('#', ...)
    if n < 2 then raw_error(error_table('redis.log() requires two arguments or more.')) end
    local level = ...
    if raw_type(level) ~= 'number' then raw_error(error_table('First argument must be a number (log level).')) end
    if level < 0 or level > 3 then raw_error(error_table('Invalid debug level.')) end
    local parts = {}
    for j = 2, n do
        local v = raw_select(j, ...)
        local t = raw_type(v)
        if t == 'string' or t == 'number' then parts[#parts + 1] = raw_tostring(v) end
    end
    impl.log(level, table.concat(parts, ' '))
end
redis.setresp = function(...)
    if not impl.run then raw_error(error_table('redis.setresp can only be called inside a script invocation')) end
    if not check_args(1, ...) then raw_error(error_table('redis.setresp() requires one argument.')) end
    local v = ...
    if v ~= 2 and v ~= 3 then raw_error(error_table('RESP version must be 2 or 3.')) end
    impl.resp = v
end
redis.set_repl = function(...)
    if not impl.run then raw_error(error_table('redis.set_repl can only be called inside a script invocation')) end
    if not check_args(1, ...) then raw_error(error_table('redis.set_repl() requires two arguments.')) end
    local v = ...
    if raw_type(v) ~= 'number' or v < 0 or v > 3 or v ~= math.floor(v) then
        raw_error(error_table('Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.'))
    end
    impl.set_repl(v)
end
redis.replicate_commands = function() return true end
redis.breakpoint = function() return impl.ldb_breakpoint() end
redis.debug = function(...) impl.ldb_debug(...) end
-- The debugger's `print`: the locals of the function its line hook
-- stopped in (level 1 is this function; the hook itself adds no level).
function impl.ldb_locals()
    local out = {}
    local level = 2
    while dbg.getinfo(level, 'S') and dbg.getinfo(level, 'S').source ~= '@user_script' do
        level = level + 1
    end
    if not dbg.getinfo(level, 'S') then return out end
    local i = 1
    while true do
        local name, value = dbg.getlocal(level, i)
        if not name then break end
        if string.sub(name, 1, 1) ~= '(' then out[#out + 1] = {name, value} end
        i = i + 1
    end
    return out
end
redis.acl_check_cmd = function(...)
    if not impl.acl_check then raw_error(error_table('redis.acl_check_cmd can only be called inside a script invocation')) end
    if raw_select('#', ...) == 0 then raw_error(error_table('Please specify at least one argument for this redis lib call')) end
    local ok, is_err = impl.acl_check(...)
    if is_err then raw_error(ok) end
    return ok
end
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REDIS_VERSION = '7.0.15'
redis.REDIS_VERSION_NUM = 0x07000f
impl.redis_raw = redis

-- Redis 7 raises {err=...} tables; its pcall hands scripts the message.
R.pcall = function(...)
    local r = {n = 0}
    local function pack(...) r = {n = raw_select('#', ...), ...} end
    pack(raw_pcall(...))
    if not r[1] and raw_type(r[2]) == 'table' and raw_type(r[2].err) == 'string' then r[2] = r[2].err end
    if not r[1] and raw_type(r[2]) == 'userdata' then
        local text = raw_tostring(r[2])
        local cut = text:find('\nstack traceback:', 1, true)
        if cut then text = text:sub(1, cut - 1) end
        r[2] = text
    end
    return raw_unpack(r, 1, r.n)
end
R.setmetatable = function(t, mt)
    if protected[t] then raw_error('Attempt to modify a readonly table', 2) end
    return raw_setmetatable(t, mt)
end
R.rawset = function(t, k, v)
    if protected[t] then raw_error('Attempt to modify a readonly table', 2) end
    return raw_rawset(t, k, v)
end
R.loadstring = function(s, name)
    if raw_type(s) == 'string' and s:byte(1) == 27 then return nil, 'binary chunks are not allowed' end
    local f, e = raw_loadstring(s, name)
    if f then raw_setfenv(f, G) end
    return f, e
end
R.load = function(reader, name)
    local f, e = raw_load(reader, name)
    if f then raw_setfenv(f, G) end
    return f, e
end
R.dofile, R.loadfile, R.print, R.debug, R.module, R.require = nil, nil, nil, nil, nil, nil
R.redis = redis
for _, name in ipairs({'string', 'math', 'table', 'coroutine', 'bit', 'cjson', 'cmsgpack', 'struct', 'redis'}) do
    if raw_type(R[name]) == 'table' then R[name] = protect(R[name]) end
end
R._G = G
-- The load-time API: only what a library may use while registering.
local load_redis = {}
for _, name in ipairs({'log', 'LOG_DEBUG', 'LOG_VERBOSE', 'LOG_NOTICE',
                       'LOG_WARNING', 'REDIS_VERSION', 'REDIS_VERSION_NUM'}) do
    load_redis[name] = redis[name]
end
load_redis.register_function = function(...)
    local reg = impl.register
    if not reg then raw_error(error_table('redis.register_function can only be called on FUNCTION LOAD command')) end
    return reg(...)
end
local load_proxy = strict_view(function() return load_redis end)
protected[load_proxy] = true
LOAD.redis = load_proxy
impl.functions = {}
"#;

/// The interpreter and the private `impl` table the prelude shares with
/// Rust.
pub struct Interpreter {
    /// The Lua state.
    pub lua: Lua,
}

impl Interpreter {
    /// A fresh VM with the sandbox and the `redis` API installed.
    pub fn new() -> mlua::Result<Self> {
        // SAFETY: the debug library is only handed to the prelude, which
        // keeps it private for its error handler and removes the global;
        // scripts never see it. No C modules can be loaded (no `package`).
        let lua = unsafe {
            Lua::unsafe_new_with(
                StdLib::TABLE | StdLib::STRING | StdLib::MATH | StdLib::DEBUG,
                LuaOptions::default(),
            )
        };
        let imp = lua.create_table()?;
        imp.raw_set(
            "sha1hex",
            lua.create_function(|lua, s: mlua::String| {
                lua.create_string(super::sha1::sha1_hex(s.as_bytes()))
            })?,
        )?;
        imp.raw_set(
            "log",
            lua.create_function(|_, (level, text): (i64, mlua::String)| {
                let text = String::from_utf8_lossy(text.as_bytes()).into_owned();
                match level {
                    0 => log::debug!("{text}"),
                    1 | 2 => log::info!("{text}"),
                    _ => log::warn!("{text}"),
                }
                Ok(())
            })?,
        )?;
        imp.raw_set("resp", 2)?;
        imp.raw_set("ldb_debug", lua.create_function(super::ldb::debug)?)?;
        imp.raw_set(
            "ldb_breakpoint",
            lua.create_function(|_, ()| Ok(super::ldb::breakpoint()))?,
        )?;
        imp.raw_set(
            "set_repl",
            lua.create_function(|_, targets: u8| {
                crate::persistence::aof::set_targets(targets);
                Ok(())
            })?,
        )?;
        imp.raw_set(
            "call",
            lua.create_function(|lua, args: MultiValue| generic_call(lua, args, true))?,
        )?;
        imp.raw_set(
            "pcall",
            lua.create_function(|lua, args: MultiValue| generic_call(lua, args, false))?,
        )?;
        {
            let globals = lua.globals();
            globals.raw_set("bit", super::libs::bit_table(&lua)?)?;
            globals.raw_set("cjson", super::libs::cjson_table(&lua)?)?;
            globals.raw_set("cmsgpack", super::libs::cmsgpack_table(&lua)?)?;
            let debug: Value = globals.raw_get("debug")?;
            lua.set_named_registry_value("redis_impl", imp.clone())?;
            lua.load(PRELUDE)
                .set_name("=redis_api")
                .call::<_, ()>((imp, debug))?;
        }
        Ok(Interpreter { lua })
    }

    /// The private table shared with the prelude.
    pub fn imp(&self) -> mlua::Result<Table<'_>> {
        self.lua.named_registry_value("redis_impl")
    }

    /// Compiles `code` as a chunk named `name` (`@user_script`), with the
    /// sandboxed globals as its environment. The error is Lua's message.
    pub fn compile(&self, code: &[u8], name: &str) -> Result<Function<'_>, String> {
        let f = self
            .lua
            .load(code)
            .set_name(name)
            .set_mode(mlua::ChunkMode::Text)
            .into_function()
            .map_err(|e| match e {
                mlua::Error::SyntaxError { message, .. } => message,
                other => other.to_string(),
            })?;
        let imp = self.imp().map_err(|e| e.to_string())?;
        let setenv: Function = imp.raw_get("setenv").map_err(|e| e.to_string())?;
        setenv.call::<_, Function>(f).map_err(|e| e.to_string())
    }
}

/// An error raised to Lua from Rust whose text is the whole error line
/// (`ERR ...`, `WRONGTYPE ...`): the error handler turns it into
/// `{err=<text>}`.
#[derive(Debug)]
pub struct ScriptError(pub String);

impl std::fmt::Display for ScriptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScriptError {}

/// redis.call (`raise`) and redis.pcall: forwards to `impl.run`, the
/// closure bound to the running script (see `super::run`). A C function
/// rather than a Lua wrapper so that a `return redis.call(...)` tail call
/// keeps the script's frame for the error's line number.
fn generic_call<'l>(lua: &'l Lua, args: MultiValue<'l>, raise: bool) -> mlua::Result<Value<'l>> {
    let imp: Table = lua.named_registry_value("redis_impl")?;
    let Value::Function(run) = imp.raw_get::<_, Value>("run")? else {
        return Err(mlua::Error::external(ScriptError(
            "ERR redis.call/pcall can only be called inside a script invocation".into(),
        )));
    };
    let resp: Value = imp.raw_get("resp")?;
    // Packed in a table: a second call with 8000 arguments would overflow
    // the Lua stack (unpack of a large table into redis.call).
    let n = args.len();
    let packed = lua.create_table_with_capacity(n, 1)?;
    for (i, a) in args.into_iter().enumerate() {
        packed.raw_set(i + 1, a)?;
    }
    packed.raw_set("n", n)?;
    let (value, is_err): (Value, bool) = run.call((resp, packed))?;
    if is_err && raise {
        let (text, counted) = match &value {
            Value::Table(t) => (
                t.raw_get::<_, String>("err").unwrap_or_default(),
                t.raw_get::<_, bool>(super::COUNTED_FIELD).unwrap_or(false),
            ),
            _ => (String::new(), false),
        };
        if counted {
            super::COUNTED_RAISE.with(|c| *c.borrow_mut() = Some(text.clone()));
        }
        return Err(mlua::Error::external(ScriptError(text)));
    }
    Ok(value)
}

/// A reply as a command wrote it, parsed back (the input of RESP -> Lua).
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    /// `:n`
    Int(i64),
    /// `$n` bulk string.
    Bulk(Vec<u8>),
    /// `$-1` / `*-1` (RESP2 nulls: Lua false).
    NullBulk,
    /// `_` (RESP3 null: Lua nil).
    Null,
    /// `+s`
    Status(Vec<u8>),
    /// `-s`
    Error(Vec<u8>),
    /// `*n` (and RESP3 push `>n`).
    Array(Vec<Reply>),
    /// `%n`
    Map(Vec<(Reply, Reply)>),
    /// `~n`
    Set(Vec<Reply>),
    /// `,d`
    Double(f64),
    /// `#t` / `#f`
    Bool(bool),
    /// `(n`
    BigNumber(Vec<u8>),
    /// `=n` with its 3-letter format.
    Verbatim(Vec<u8>, Vec<u8>),
}

/// Parses one reply from `buf` at `*pos` (bytes our own writer produced).
pub fn parse_reply(buf: &[u8], pos: &mut usize) -> Option<Reply> {
    let line_end = buf.get(*pos..)?.windows(2).position(|w| w == b"\r\n")? + *pos;
    let kind = *buf.get(*pos)?;
    let line = buf.get(*pos + 1..line_end)?.to_vec();
    *pos = line_end + 2;
    let num = || crate::number::parse_i64(&line);
    let items = |n: i64, pos: &mut usize| -> Option<Vec<Reply>> {
        let mut v = Vec::with_capacity(n.clamp(0, 1024) as usize);
        for _ in 0..n {
            v.push(parse_reply(buf, pos)?);
        }
        Some(v)
    };
    Some(match kind {
        b':' => Reply::Int(num()?),
        b'+' => Reply::Status(line),
        b'-' => Reply::Error(line),
        b'_' => Reply::Null,
        b'#' => Reply::Bool(line == b"t"),
        b',' => Reply::Double(
            std::str::from_utf8(&line)
                .ok()
                .and_then(|s| match s {
                    "inf" => Some(f64::INFINITY),
                    "-inf" => Some(f64::NEG_INFINITY),
                    _ => s.parse().ok(),
                })
                .unwrap_or(0.0),
        ),
        b'(' => Reply::BigNumber(line),
        b'$' | b'=' => {
            let n = num()?;
            if n < 0 {
                return Some(Reply::NullBulk);
            }
            let data = buf.get(*pos..*pos + n as usize)?.to_vec();
            *pos += n as usize + 2;
            if kind == b'=' && data.len() >= 4 {
                Reply::Verbatim(data[..3].to_vec(), data[4..].to_vec())
            } else {
                Reply::Bulk(data)
            }
        }
        b'*' | b'>' => {
            let n = num()?;
            if n < 0 {
                return Some(Reply::NullBulk);
            }
            Reply::Array(items(n, pos)?)
        }
        b'~' => Reply::Set(items(num()?, pos)?),
        b'%' => {
            let flat = items(num()?.saturating_mul(2), pos)?;
            let mut pairs = Vec::with_capacity(flat.len() / 2);
            let mut it = flat.into_iter();
            while let (Some(k), Some(v)) = (it.next(), it.next()) {
                pairs.push((k, v));
            }
            Reply::Map(pairs)
        }
        b'|' => {
            // An attribute: skip it, the reply follows.
            items(num()?.saturating_mul(2), pos)?;
            return parse_reply(buf, pos);
        }
        _ => return None,
    })
}

/// Converts a command's reply to the Lua value `redis.call` returns.
pub fn reply_to_lua<'l>(lua: &'l Lua, reply: Reply) -> mlua::Result<Value<'l>> {
    let single = |field: &str, v: Value<'l>| -> mlua::Result<Value<'l>> {
        let t = lua.create_table()?;
        t.raw_set(field, v)?;
        Ok(Value::Table(t))
    };
    Ok(match reply {
        Reply::Int(n) => Value::Number(n as f64),
        Reply::Bulk(b) => Value::String(lua.create_string(&b)?),
        Reply::NullBulk => Value::Boolean(false),
        Reply::Null => Value::Nil,
        Reply::Status(s) => single("ok", Value::String(lua.create_string(&s)?))?,
        Reply::Error(s) => single("err", Value::String(lua.create_string(&s)?))?,
        Reply::Array(items) => {
            let t = lua.create_table_with_capacity(items.len(), 0)?;
            for (i, item) in items.into_iter().enumerate() {
                t.raw_set(i + 1, reply_to_lua(lua, item)?)?;
            }
            Value::Table(t)
        }
        Reply::Map(pairs) => {
            let t = lua.create_table()?;
            for (k, v) in pairs {
                t.raw_set(reply_to_lua(lua, k)?, reply_to_lua(lua, v)?)?;
            }
            single("map", Value::Table(t))?
        }
        Reply::Set(items) => {
            let t = lua.create_table()?;
            for item in items {
                t.raw_set(reply_to_lua(lua, item)?, true)?;
            }
            single("set", Value::Table(t))?
        }
        Reply::Double(d) => single("double", Value::Number(d))?,
        Reply::Bool(b) => Value::Boolean(b),
        Reply::BigNumber(s) => single("big_number", Value::String(lua.create_string(&s)?))?,
        Reply::Verbatim(format, s) => {
            let t = lua.create_table()?;
            t.raw_set("format", lua.create_string(&format)?)?;
            t.raw_set("string", lua.create_string(&s)?)?;
            single("verbatim_string", Value::Table(t))?
        }
    })
}

/// Deepest nesting of tables a script's reply may have.
const MAX_REPLY_DEPTH: usize = 200;

/// Writes a script's return value as the reply (Lua -> RESP). `resp` is
/// the protocol the script selected (booleans differ). A top-level
/// `{err=...}` is returned as Err(text) so the dispatcher counts it.
pub fn lua_to_reply(out: &mut ReplyBuf, value: &Value, resp: i64) -> Result<(), String> {
    if let Value::Table(t) = value {
        if let Ok(Value::String(e)) = t.raw_get::<_, Value>("err") {
            return Err(String::from_utf8_lossy(e.as_bytes()).into_owned());
        }
    }
    write_value(out, value, resp, 0);
    Ok(())
}

fn string_field<'l>(t: &Table<'l>, field: &str) -> Option<mlua::String<'l>> {
    match t.raw_get::<_, Value>(field) {
        Ok(Value::String(s)) => Some(s),
        _ => None,
    }
}

fn write_value(out: &mut ReplyBuf, value: &Value, resp: i64, depth: usize) {
    if depth > MAX_REPLY_DEPTH {
        out.error("ERR reached lua stack limit");
        return;
    }
    match value {
        Value::String(s) => out.bulk(s.as_bytes()),
        Value::Boolean(b) => {
            if resp == 2 {
                if *b {
                    out.integer(1)
                } else {
                    out.null()
                }
            } else {
                out.boolean(*b)
            }
        }
        Value::Integer(n) => out.integer(*n),
        Value::Number(n) => out.integer(*n as i64),
        Value::Table(t) => write_table(out, t, resp, depth),
        _ => out.null(),
    }
}

fn write_table(out: &mut ReplyBuf, t: &Table, resp: i64, depth: usize) {
    if let Some(e) = string_field(t, "err") {
        out.error(&String::from_utf8_lossy(e.as_bytes()));
        return;
    }
    if let Some(ok) = string_field(t, "ok") {
        let text = String::from_utf8_lossy(ok.as_bytes()).replace(['\r', '\n'], " ");
        out.simple(&text);
        return;
    }
    if let Ok(Value::Number(d)) = t.raw_get::<_, Value>("double") {
        out.double(d);
        return;
    }
    if let Ok(Value::Integer(d)) = t.raw_get::<_, Value>("double") {
        out.double(d as f64);
        return;
    }
    if let Some(n) = string_field(t, "big_number") {
        let text = String::from_utf8_lossy(n.as_bytes()).replace(['\r', '\n'], " ");
        if out.resp3() {
            out.buf.push(b'(');
            out.buf.extend_from_slice(text.as_bytes());
            out.buf.extend_from_slice(b"\r\n");
        } else {
            out.bulk(text.as_bytes());
        }
        return;
    }
    if let Ok(Value::Table(v)) = t.raw_get::<_, Value>("verbatim_string") {
        if let (Some(format), Some(s)) = (string_field(&v, "format"), string_field(&v, "string")) {
            if out.resp3() {
                let (f, s) = (format.as_bytes(), s.as_bytes());
                out.buf.push(b'=');
                crate::resp::writer::push_i64(&mut out.buf, (s.len() + 4) as i64);
                out.buf.extend_from_slice(b"\r\n");
                out.buf.extend_from_slice(f.get(..3).unwrap_or(b"txt"));
                out.buf.push(b':');
                out.buf.extend_from_slice(s);
                out.buf.extend_from_slice(b"\r\n");
            } else {
                out.bulk(s.as_bytes());
            }
            return;
        }
    }
    if let Ok(Value::Table(m)) = t.raw_get::<_, Value>("map") {
        let pairs: Vec<(Value, Value)> = m.pairs::<Value, Value>().filter_map(|p| p.ok()).collect();
        out.map(pairs.len());
        for (k, v) in &pairs {
            write_value(out, k, resp, depth + 1);
            write_value(out, v, resp, depth + 1);
        }
        return;
    }
    if let Ok(Value::Table(s)) = t.raw_get::<_, Value>("set") {
        let keys: Vec<Value> = s
            .pairs::<Value, Value>()
            .filter_map(|p| p.ok().map(|(k, _)| k))
            .collect();
        out.set(keys.len());
        for k in &keys {
            write_value(out, k, resp, depth + 1);
        }
        return;
    }
    let mut items = Vec::new();
    for i in 1.. {
        match t.raw_get::<_, Value>(i) {
            Ok(Value::Nil) | Err(_) => break,
            Ok(v) => items.push(v),
        }
    }
    out.array(items.len());
    for v in &items {
        write_value(out, v, resp, depth + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_resp2_and_resp3_replies() {
        let buf = b"*3\r\n:1\r\n$-1\r\n+OK\r\n%1\r\n$1\r\na\r\n,1.5\r\n";
        let mut pos = 0;
        assert_eq!(
            parse_reply(buf, &mut pos),
            Some(Reply::Array(vec![
                Reply::Int(1),
                Reply::NullBulk,
                Reply::Status(b"OK".to_vec())
            ]))
        );
        assert_eq!(
            parse_reply(buf, &mut pos),
            Some(Reply::Map(vec![(
                Reply::Bulk(b"a".to_vec()),
                Reply::Double(1.5)
            )]))
        );
        assert_eq!(pos, buf.len());
        assert_eq!(parse_reply(b"$5\r\nab", &mut 0), None);
    }
}
