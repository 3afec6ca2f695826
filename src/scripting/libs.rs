//! The extra Lua libraries Redis gives scripts: `bit` (LuaBitOp) and
//! `cjson`, written in Rust on mlua.

use mlua::{Lua, Table};

/// The `bit` library (placeholder).
pub fn bit_table(lua: &Lua) -> mlua::Result<Table<'_>> {
    lua.create_table()
}

/// The `cjson` library (placeholder).
pub fn cjson_table(lua: &Lua) -> mlua::Result<Table<'_>> {
    lua.create_table()
}
