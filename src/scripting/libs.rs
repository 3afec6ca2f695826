//! The extra Lua libraries Redis gives scripts, written in Rust on mlua:
//! `bit` (LuaBitOp's API), `cjson` (lua-cjson's encode / decode) and
//! `cmsgpack` (lua-cmsgpack).
//!
//! `bit` works on 32-bit two's complement integers: every argument is
//! first reduced modulo 2^32 (`tobit`), every result is a signed 32-bit
//! value, as LuaBitOp does.
//!
//! `cjson.encode` turns a Lua value into JSON: a table whose keys are
//! exactly 1..n is an array, any other table an object (its keys must be
//! strings or numbers); numbers print as `%.14g`, like Lua's tostring.
//! `cjson.decode` parses JSON into tables, strings, numbers, booleans and
//! `cjson.null` (a light userdata NULL). Nesting is limited to
//! [`MAX_DEPTH`] both ways, as lua-cjson limits it.
//!
//! `cmsgpack` packs the smallest MessagePack encoding of each value
//! (tables deeper than 16 levels become nil, as lua-cmsgpack does).
//! (`struct` is not provided.)

use mlua::{LightUserData, Lua, MultiValue, Table, Value};

/// Deepest nesting cjson encodes or decodes by default.
pub const MAX_DEPTH: usize = 1000;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// cjson.encode_max_depth / decode_max_depth / encode_invalid_numbers.
static ENCODE_MAX_DEPTH: AtomicUsize = AtomicUsize::new(MAX_DEPTH);
static DECODE_MAX_DEPTH: AtomicUsize = AtomicUsize::new(MAX_DEPTH);
static INVALID_NUMBERS: AtomicBool = AtomicBool::new(false);

fn tobit(v: f64) -> i32 {
    (v.rem_euclid(4_294_967_296.0) as u64 as u32) as i32
}

fn int_args(args: &MultiValue) -> mlua::Result<Vec<i32>> {
    args.iter()
        .map(|v| match v {
            Value::Integer(n) => Ok(tobit(*n as f64)),
            Value::Number(n) => Ok(tobit(*n)),
            Value::String(s) => s
                .to_str()
                .ok()
                .and_then(|t| t.trim().parse::<f64>().ok())
                .map(tobit)
                .ok_or_else(|| mlua::Error::runtime("bad argument (number expected)")),
            _ => Err(mlua::Error::runtime("bad argument (number expected)")),
        })
        .collect()
}

/// The `bit` library.
pub fn bit_table(lua: &Lua) -> mlua::Result<Table<'_>> {
    let t = lua.create_table()?;
    fn fold(lua: &Lua, f: fn(i32, i32) -> i32) -> mlua::Result<mlua::Function<'_>> {
        lua.create_function(move |_, args: MultiValue| {
            let v = int_args(&args)?;
            let first = *v
                .first()
                .ok_or_else(|| mlua::Error::runtime("bad argument #1 (number expected)"))?;
            Ok(v[1..].iter().fold(first, |a, b| f(a, *b)) as f64)
        })
    }
    t.raw_set("band", fold(lua, |a, b| a & b)?)?;
    t.raw_set("bor", fold(lua, |a, b| a | b)?)?;
    t.raw_set("bxor", fold(lua, |a, b| a ^ b)?)?;
    t.raw_set("tobit", fold(lua, |a, _| a)?)?;
    t.raw_set("bnot", fold(lua, |a, _| !a)?)?;
    t.raw_set("bswap", fold(lua, |a, _| a.swap_bytes())?)?;
    fn shift(lua: &Lua, f: fn(i32, u32) -> i32) -> mlua::Result<mlua::Function<'_>> {
        lua.create_function(move |_, args: MultiValue| {
            let v = int_args(&args)?;
            match v.as_slice() {
                [x, n, ..] => Ok(f(*x, (*n as u32) & 31) as f64),
                _ => Err(mlua::Error::runtime("bad argument #2 (number expected)")),
            }
        })
    }
    t.raw_set("lshift", shift(lua, |x, n| ((x as u32) << n) as i32)?)?;
    t.raw_set("rshift", shift(lua, |x, n| ((x as u32) >> n) as i32)?)?;
    t.raw_set("arshift", shift(lua, |x, n| x >> n)?)?;
    t.raw_set("rol", shift(lua, |x, n| (x as u32).rotate_left(n) as i32)?)?;
    t.raw_set("ror", shift(lua, |x, n| (x as u32).rotate_right(n) as i32)?)?;
    t.raw_set(
        "tohex",
        lua.create_function(|_, args: MultiValue| {
            let v = int_args(&args)?;
            let x = *v.first().unwrap_or(&0) as u32;
            let n = *v.get(1).unwrap_or(&8);
            let digits = n.unsigned_abs().min(8) as usize;
            let hex = if n < 0 {
                format!("{x:08X}")
            } else {
                format!("{x:08x}")
            };
            Ok(hex[8 - digits..].to_string())
        })?,
    )?;
    Ok(t)
}

/// `cjson.null`.
fn null() -> Value<'static> {
    Value::LightUserData(LightUserData(std::ptr::null_mut()))
}

/// Lua's `%.14g` (tostring): numbers in JSON and in the debugger's output.
pub(crate) fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        return format!("{}", n as i64);
    }
    let g = super::format_g17(n);
    // Round to 14 significant digits as %.14g does.
    match g.parse::<f64>() {
        Ok(v) => {
            let s = format!("{v:.13e}");
            let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
            let e: i32 = e.parse().unwrap_or(0);
            let m = m.trim_end_matches('0').trim_end_matches('.');
            if (-4..14).contains(&e) {
                let decimals = (13 - e).max(0) as usize;
                let f = format!("{v:.decimals$}");
                if f.contains('.') {
                    f.trim_end_matches('0').trim_end_matches('.').to_string()
                } else {
                    f
                }
            } else {
                format!("{m}e{}{:02}", if e < 0 { '-' } else { '+' }, e.abs())
            }
        }
        Err(_) => g,
    }
}

fn encode_string(out: &mut Vec<u8>, s: &[u8]) {
    out.push(b'"');
    for &b in s {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'/' => out.extend_from_slice(b"\\/"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b if b < 0x20 || b == 0x7f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            b => out.push(b),
        }
    }
    out.push(b'"');
}

/// Encodes `v`, which sits inside `depth - 1` tables; only a table counts
/// against cjson.encode_max_depth (a number inside the deepest allowed
/// table is fine), as in cjson.
fn encode(out: &mut Vec<u8>, v: &Value, depth: usize) -> Result<(), String> {
    if matches!(v, Value::Table(_)) && depth > ENCODE_MAX_DEPTH.load(Ordering::Relaxed) {
        return Err(format!("Cannot serialise, excessive nesting ({depth})"));
    }
    match v {
        Value::Nil => out.extend_from_slice(b"null"),
        Value::LightUserData(p) if p.0.is_null() => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(n) => out.extend_from_slice(n.to_string().as_bytes()),
        Value::Number(n) => {
            if !n.is_finite() {
                if !INVALID_NUMBERS.load(Ordering::Relaxed) {
                    return Err("Cannot serialise number: must not be NaN or Inf".into());
                }
                let text: &[u8] = if n.is_nan() {
                    b"nan"
                } else if *n > 0.0 {
                    b"inf"
                } else {
                    b"-inf"
                };
                out.extend_from_slice(text);
                return Ok(());
            }
            out.extend_from_slice(number_text(*n).as_bytes())
        }
        Value::String(s) => encode_string(out, s.as_bytes()),
        Value::Table(t) => {
            let pairs: Vec<(Value, Value)> = t
                .clone()
                .pairs::<Value, Value>()
                .collect::<mlua::Result<_>>()
                .map_err(|e| e.to_string())?;
            let n = t.raw_len();
            let is_array = !pairs.is_empty()
                && pairs.len() == n
                && pairs.iter().all(|(k, _)| match k {
                    Value::Integer(i) => *i >= 1 && (*i as usize) <= n,
                    Value::Number(f) => f.fract() == 0.0 && *f >= 1.0 && (*f as usize) <= n,
                    _ => false,
                });
            if is_array {
                out.push(b'[');
                for i in 1..=n {
                    if i > 1 {
                        out.push(b',');
                    }
                    let item: Value = t.raw_get(i).map_err(|e| e.to_string())?;
                    encode(out, &item, depth + 1)?;
                }
                out.push(b']');
            } else {
                out.push(b'{');
                for (i, (k, val)) in pairs.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    match k {
                        Value::String(s) => encode_string(out, s.as_bytes()),
                        Value::Integer(n) => encode_string(out, n.to_string().as_bytes()),
                        Value::Number(n) => encode_string(out, number_text(*n).as_bytes()),
                        _ => {
                            return Err(
                                "Cannot serialise table: table key must be a number or string"
                                    .into(),
                            )
                        }
                    }
                    out.push(b':');
                    encode(out, val, depth + 1)?;
                }
                out.push(b'}');
            }
        }
        other => {
            return Err(format!(
                "Cannot serialise {}: type not supported",
                other.type_name()
            ))
        }
    }
    Ok(())
}

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn ws(&mut self) {
        while self
            .s
            .get(self.pos)
            .is_some_and(|b| b.is_ascii_whitespace())
        {
            self.pos += 1;
        }
    }

    fn err(&self, what: &str) -> String {
        format!(
            "Expected {what} but found invalid token at character {}",
            self.pos + 1
        )
    }

    /// The object or array opening at `pos` nests `depth` levels deep:
    /// refused past cjson.decode_max_depth, with cjson's message.
    fn descend(&self, depth: usize) -> Result<(), String> {
        if depth > DECODE_MAX_DEPTH.load(Ordering::Relaxed) {
            return Err(format!(
                "Found too many nested data structures ({depth}) at character {}",
                self.pos + 1
            ));
        }
        Ok(())
    }

    /// The value at `pos`, inside `depth` enclosing objects and arrays.
    fn value<'l>(&mut self, lua: &'l Lua, depth: usize) -> Result<Value<'l>, String> {
        self.ws();
        let rest = &self.s[self.pos.min(self.s.len())..];
        match rest.first() {
            Some(b'{') => {
                self.descend(depth + 1)?;
                self.pos += 1;
                let t = lua.create_table().map_err(|e| e.to_string())?;
                self.ws();
                if self.s.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(Value::Table(t));
                }
                loop {
                    self.ws();
                    if self.s.get(self.pos) != Some(&b'"') {
                        return Err(self.err("object key string"));
                    }
                    let k = self.string()?;
                    self.ws();
                    if self.s.get(self.pos) != Some(&b':') {
                        return Err(self.err("colon"));
                    }
                    self.pos += 1;
                    let v = self.value(lua, depth + 1)?;
                    t.raw_set(lua.create_string(&k).map_err(|e| e.to_string())?, v)
                        .map_err(|e| e.to_string())?;
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Value::Table(t));
                        }
                        _ => return Err(self.err("comma or object end")),
                    }
                }
            }
            Some(b'[') => {
                self.descend(depth + 1)?;
                self.pos += 1;
                let t = lua.create_table().map_err(|e| e.to_string())?;
                self.ws();
                if self.s.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(Value::Table(t));
                }
                let mut i = 1;
                loop {
                    let v = self.value(lua, depth + 1)?;
                    t.raw_set(i, v).map_err(|e| e.to_string())?;
                    i += 1;
                    self.ws();
                    match self.s.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Value::Table(t));
                        }
                        _ => return Err(self.err("comma or array end")),
                    }
                }
            }
            Some(b'"') => {
                let s = self.string()?;
                Ok(Value::String(
                    lua.create_string(&s).map_err(|e| e.to_string())?,
                ))
            }
            _ if rest.starts_with(b"true") => {
                self.pos += 4;
                Ok(Value::Boolean(true))
            }
            _ if rest.starts_with(b"false") => {
                self.pos += 5;
                Ok(Value::Boolean(false))
            }
            _ if rest.starts_with(b"null") => {
                self.pos += 4;
                Ok(null())
            }
            Some(b'-' | b'0'..=b'9') => {
                let len = rest
                    .iter()
                    .position(|b| !matches!(b, b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9'))
                    .unwrap_or(rest.len());
                let text = std::str::from_utf8(&rest[..len]).unwrap_or("");
                let n: f64 = text.parse().map_err(|_| self.err("value"))?;
                self.pos += len;
                Ok(Value::Number(n))
            }
            _ => Err(self.err("value")),
        }
    }

    fn string(&mut self) -> Result<Vec<u8>, String> {
        self.pos += 1;
        let mut out = Vec::new();
        loop {
            let Some(&b) = self.s.get(self.pos) else {
                return Err(self.err("string end"));
            };
            self.pos += 1;
            match b {
                b'"' => return Ok(out),
                b'\\' => {
                    let Some(&e) = self.s.get(self.pos) else {
                        return Err(self.err("escape"));
                    };
                    self.pos += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(0x08),
                        b'f' => out.push(0x0c),
                        b'u' => {
                            let hex = self
                                .s
                                .get(self.pos..self.pos + 4)
                                .and_then(|h| std::str::from_utf8(h).ok())
                                .and_then(|h| u32::from_str_radix(h, 16).ok())
                                .ok_or_else(|| self.err("unicode escape"))?;
                            self.pos += 4;
                            let c = char::from_u32(hex).unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                b => out.push(b),
            }
        }
    }
}

/// The `cjson` library.
pub fn cjson_table(lua: &Lua) -> mlua::Result<Table<'_>> {
    let t = lua.create_table()?;
    t.raw_set(
        "encode",
        lua.create_function(|lua, v: Value| {
            let mut out = Vec::new();
            encode(&mut out, &v, 1).map_err(mlua::Error::runtime)?;
            lua.create_string(&out)
        })?,
    )?;
    t.raw_set(
        "decode",
        lua.create_function(|lua, s: mlua::String| {
            let mut p = Parser {
                s: s.as_bytes(),
                pos: 0,
            };
            let v = p.value(lua, 0).map_err(mlua::Error::runtime)?;
            p.ws();
            if p.pos < p.s.len() {
                return Err(mlua::Error::runtime(p.err("the end")));
            }
            Ok(v)
        })?,
    )?;
    t.raw_set(
        "encode_keep_buffer",
        lua.create_function(|_, _: MultiValue| Ok(()))?,
    )?;
    t.raw_set(
        "encode_max_depth",
        lua.create_function(|_, n: usize| {
            ENCODE_MAX_DEPTH.store(n, Ordering::Relaxed);
            Ok(n)
        })?,
    )?;
    t.raw_set(
        "decode_max_depth",
        lua.create_function(|_, n: usize| {
            DECODE_MAX_DEPTH.store(n, Ordering::Relaxed);
            Ok(n)
        })?,
    )?;
    t.raw_set(
        "encode_invalid_numbers",
        lua.create_function(|_, on: bool| {
            INVALID_NUMBERS.store(on, Ordering::Relaxed);
            Ok(on)
        })?,
    )?;
    t.raw_set("null", null())?;
    Ok(t)
}

/// lua-cmsgpack's nesting limit: deeper tables are packed as nil.
const MSGPACK_MAX_NESTING: usize = 16;

fn mp_pack(out: &mut Vec<u8>, v: &Value, level: usize) -> mlua::Result<()> {
    match v {
        Value::Nil => out.push(0xc0),
        Value::Boolean(b) => out.push(if *b { 0xc3 } else { 0xc2 }),
        Value::Integer(n) => mp_int(out, *n),
        Value::Number(n) => {
            if n.fract() == 0.0 && n.abs() < 9.2e18 {
                mp_int(out, *n as i64)
            } else if (*n as f32) as f64 == *n {
                out.push(0xca);
                out.extend_from_slice(&(*n as f32).to_be_bytes());
            } else {
                out.push(0xcb);
                out.extend_from_slice(&n.to_be_bytes());
            }
        }
        Value::String(s) => {
            let b = s.as_bytes();
            let n = b.len();
            if n < 32 {
                out.push(0xa0 | n as u8);
            } else if n <= 0xff {
                out.extend_from_slice(&[0xd9, n as u8]);
            } else if n <= 0xffff {
                out.push(0xda);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            } else {
                out.push(0xdb);
                out.extend_from_slice(&(n as u32).to_be_bytes());
            }
            out.extend_from_slice(b);
        }
        Value::Table(t) if level < MSGPACK_MAX_NESTING => {
            // Two passes over the pairs, holding one at a time: a table of
            // 100,000 entries must not pin 100,000 Lua references.
            let (mut n, mut max, mut is_array) = (0usize, 0f64, true);
            for pair in t.clone().pairs::<Value, Value>() {
                let (k, _) = pair?;
                n += 1;
                match k {
                    Value::Integer(i) if i >= 1 => max = max.max(i as f64),
                    Value::Number(f) if f >= 1.0 && f.fract() == 0.0 => max = max.max(f),
                    _ => is_array = false,
                }
            }
            if is_array && max as usize == n {
                if n < 16 {
                    out.push(0x90 | n as u8);
                } else if n <= 0xffff {
                    out.push(0xdc);
                    out.extend_from_slice(&(n as u16).to_be_bytes());
                } else {
                    out.push(0xdd);
                    out.extend_from_slice(&(n as u32).to_be_bytes());
                }
                for i in 1..=n {
                    let item: Value = t.raw_get(i)?;
                    mp_pack(out, &item, level + 1)?;
                }
            } else {
                if n < 16 {
                    out.push(0x80 | n as u8);
                } else if n <= 0xffff {
                    out.push(0xde);
                    out.extend_from_slice(&(n as u16).to_be_bytes());
                } else {
                    out.push(0xdf);
                    out.extend_from_slice(&(n as u32).to_be_bytes());
                }
                for pair in t.clone().pairs::<Value, Value>() {
                    let (k, val) = pair?;
                    mp_pack(out, &k, level + 1)?;
                    mp_pack(out, &val, level + 1)?;
                }
            }
        }
        _ => out.push(0xc0),
    }
    Ok(())
}

fn mp_int(out: &mut Vec<u8>, n: i64) {
    if n >= 0 {
        if n < 128 {
            out.push(n as u8);
        } else if n < 256 {
            out.extend_from_slice(&[0xcc, n as u8]);
        } else if n < 65536 {
            out.push(0xcd);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        } else if n < 1 << 32 {
            out.push(0xce);
            out.extend_from_slice(&(n as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    } else if n >= -32 {
        out.push(n as i8 as u8);
    } else if n >= -128 {
        out.extend_from_slice(&[0xd0, n as i8 as u8]);
    } else if n >= -32768 {
        out.push(0xd1);
        out.extend_from_slice(&(n as i16).to_be_bytes());
    } else if n >= -(1 << 31) {
        out.push(0xd2);
        out.extend_from_slice(&(n as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

fn mp_take<'a>(s: &'a [u8], pos: &mut usize, n: usize) -> mlua::Result<&'a [u8]> {
    let end = pos
        .checked_add(n)
        .filter(|e| *e <= s.len())
        .ok_or_else(|| mlua::Error::runtime("Missing bytes in input."))?;
    let out = &s[*pos..end];
    *pos = end;
    Ok(out)
}

fn mp_be(s: &[u8], pos: &mut usize, n: usize) -> mlua::Result<u64> {
    Ok(mp_take(s, pos, n)?
        .iter()
        .fold(0u64, |a, b| (a << 8) | u64::from(*b)))
}

fn mp_unpack<'l>(lua: &'l Lua, s: &[u8], pos: &mut usize) -> mlua::Result<Value<'l>> {
    let tag = mp_be(s, pos, 1)? as u8;
    let num = |v: f64| Ok(Value::Number(v));
    let str_of = |lua: &'l Lua, pos: &mut usize, n: usize| -> mlua::Result<Value<'l>> {
        Ok(Value::String(lua.create_string(mp_take(s, pos, n)?)?))
    };
    let array = |lua: &'l Lua, pos: &mut usize, n: usize| -> mlua::Result<Value<'l>> {
        let t = lua.create_table()?;
        for i in 1..=n {
            t.raw_set(i, mp_unpack(lua, s, pos)?)?;
        }
        Ok(Value::Table(t))
    };
    let map = |lua: &'l Lua, pos: &mut usize, n: usize| -> mlua::Result<Value<'l>> {
        let t = lua.create_table()?;
        for _ in 0..n {
            let k = mp_unpack(lua, s, pos)?;
            let v = mp_unpack(lua, s, pos)?;
            if k != Value::Nil {
                t.raw_set(k, v)?;
            }
        }
        Ok(Value::Table(t))
    };
    match tag {
        0x00..=0x7f => num(f64::from(tag)),
        0x80..=0x8f => map(lua, pos, (tag & 0x0f) as usize),
        0x90..=0x9f => array(lua, pos, (tag & 0x0f) as usize),
        0xa0..=0xbf => str_of(lua, pos, (tag & 0x1f) as usize),
        0xc0 => Ok(Value::Nil),
        0xc2 => Ok(Value::Boolean(false)),
        0xc3 => Ok(Value::Boolean(true)),
        0xca => num(f64::from(f32::from_bits(mp_be(s, pos, 4)? as u32))),
        0xcb => num(f64::from_bits(mp_be(s, pos, 8)?)),
        0xcc => num(mp_be(s, pos, 1)? as f64),
        0xcd => num(mp_be(s, pos, 2)? as f64),
        0xce => num(mp_be(s, pos, 4)? as f64),
        0xcf => num(mp_be(s, pos, 8)? as f64),
        0xd0 => num(f64::from(mp_be(s, pos, 1)? as u8 as i8)),
        0xd1 => num(f64::from(mp_be(s, pos, 2)? as u16 as i16)),
        0xd2 => num(f64::from(mp_be(s, pos, 4)? as u32 as i32)),
        0xd3 => num(mp_be(s, pos, 8)? as i64 as f64),
        0xc4 | 0xd9 => {
            let n = mp_be(s, pos, 1)? as usize;
            str_of(lua, pos, n)
        }
        0xc5 | 0xda => {
            let n = mp_be(s, pos, 2)? as usize;
            str_of(lua, pos, n)
        }
        0xc6 | 0xdb => {
            let n = mp_be(s, pos, 4)? as usize;
            str_of(lua, pos, n)
        }
        0xdc => {
            let n = mp_be(s, pos, 2)? as usize;
            array(lua, pos, n)
        }
        0xdd => {
            let n = mp_be(s, pos, 4)? as usize;
            array(lua, pos, n)
        }
        0xde => {
            let n = mp_be(s, pos, 2)? as usize;
            map(lua, pos, n)
        }
        0xdf => {
            let n = mp_be(s, pos, 4)? as usize;
            map(lua, pos, n)
        }
        0xe0..=0xff => num(f64::from(tag as i8)),
        _ => Err(mlua::Error::runtime("Bad data format in input.")),
    }
}

/// Decodes up to `limit` objects (0: all) from `offset`: (next offset or
/// -1 at the end, objects).
fn mp_unpack_many<'l>(
    lua: &'l Lua,
    s: &[u8],
    limit: usize,
    offset: usize,
) -> mlua::Result<(i64, Vec<Value<'l>>)> {
    let mut pos = offset;
    let mut out = Vec::new();
    while pos < s.len() && (limit == 0 || out.len() < limit) {
        out.push(mp_unpack(lua, s, &mut pos)?);
    }
    let next = if pos >= s.len() { -1 } else { pos as i64 };
    Ok((next, out))
}

/// The `cmsgpack` library (lua-cmsgpack's pack / unpack / unpack_one /
/// unpack_limit).
pub fn cmsgpack_table(lua: &Lua) -> mlua::Result<Table<'_>> {
    let t = lua.create_table()?;
    t.raw_set(
        "pack",
        lua.create_function(|lua, args: MultiValue| {
            if args.is_empty() {
                return Err(mlua::Error::runtime("MessagePack pack needs input."));
            }
            let mut out = Vec::new();
            for a in args.iter() {
                mp_pack(&mut out, a, 0)?;
            }
            lua.create_string(&out)
        })?,
    )?;
    t.raw_set(
        "unpack",
        lua.create_function(|lua, s: mlua::String| {
            let (_, values) = mp_unpack_many(lua, s.as_bytes(), 0, 0)?;
            Ok(MultiValue::from_vec(values))
        })?,
    )?;
    t.raw_set(
        "unpack_one",
        lua.create_function(|lua, (s, offset): (mlua::String, Option<i64>)| {
            let (next, mut values) =
                mp_unpack_many(lua, s.as_bytes(), 1, offset.unwrap_or(0).max(0) as usize)?;
            values.insert(0, Value::Number(next as f64));
            Ok(MultiValue::from_vec(values))
        })?,
    )?;
    t.raw_set(
        "unpack_limit",
        lua.create_function(
            |lua, (s, limit, offset): (mlua::String, i64, Option<i64>)| {
                let (next, mut values) = mp_unpack_many(
                    lua,
                    s.as_bytes(),
                    limit.max(0) as usize,
                    offset.unwrap_or(0).max(0) as usize,
                )?;
                values.insert(0, Value::Number(next as f64));
                Ok(MultiValue::from_vec(values))
            },
        )?,
    )?;
    Ok(t)
}
