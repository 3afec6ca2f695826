//! FUNCTION and FCALL (Redis 7.0's functions.c and function_lua.c).
//!
//! Placeholder while the EVAL side is built.

use crate::commands::Command;
use crate::error::CmdResult;
use crate::server::Server;

/// The function libraries.
#[derive(Default)]
pub struct Libraries {}

/// The functions family's rows of the command table.
pub const COMMANDS: &[Command] = &[];

/// SCRIPT FLUSH: drops the EVAL VM and its cache.
pub fn flush_eval_scripts(server: &Server) -> CmdResult {
    server.scripting.reset_vm();
    Ok(())
}
