//! The append-only file family: BGREWRITEAOF.
//!
//! The AOF itself (feeding, fsync, loading, rewriting) lives in
//! `persistence/aof.rs` and its submodules; this file is only the commands
//! a client uses to drive it.

use super::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::persistence::aof::rewrite;

/// The AOF family's rows of the command table.
pub const COMMANDS: &[Command] = &[cmd(
    "bgrewriteaof",
    1,
    "admin noscript no_async_loading",
    (0, 0, 0),
    Group::Server,
    "",
    "Asynchronously rewrite the append-only file",
    Handler::Conn(bgrewriteaof_command),
)];

/// BGREWRITEAOF — simple string "Background append only file rewriting
/// started". Writes a new base file from the current data in the
/// background (with appendonly no too: then only a base file and
/// manifest). While a BGSAVE runs, or inside MULTI/EXEC, the rewrite is
/// scheduled instead: "Background append only file rewriting scheduled".
/// Errors while a rewrite already runs.
fn bgrewriteaof_command(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    match rewrite::request(ctx.server).map_err(CmdError::err)? {
        rewrite::Started::Now => ctx
            .reply
            .simple("Background append only file rewriting started"),
        rewrite::Started::Scheduled => ctx
            .reply
            .simple("Background append only file rewriting scheduled"),
    }
    Ok(())
}
