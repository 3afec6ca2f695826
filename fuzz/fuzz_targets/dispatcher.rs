//! Fuzz target: any sequence of commands with any arguments, run through
//! the real dispatcher against a real store, must never panic.
//!
//! The input is split into commands at 0xFF bytes and into arguments at
//! 0xFE bytes; the first argument is mapped onto a real command name so
//! the fuzzer spends its time inside handlers, not on "unknown command".
#![no_main]

use std::sync::{Arc, OnceLock};

use ferredis::client::detached_client;
use ferredis::commands::{self, all_commands, Ctx};
use ferredis::config::Config;
use ferredis::resp::ReplyBuf;
use ferredis::server::Server;
use ferredis::store::Store;
use libfuzzer_sys::fuzz_target;

fn server() -> &'static Arc<Server> {
    static SERVER: OnceLock<Arc<Server>> = OnceLock::new();
    SERVER.get_or_init(|| {
        let mut config = Config::new();
        // Nothing the fuzzer runs may sleep, save, or shut the process down.
        for (k, v) in [("enable-debug-command", "no"), ("save", "")] {
            let _ = config.set(k, v, true);
        }
        Server::new(config, Store::new(16))
    })
}

const SKIP: &[&str] = &["debug", "shutdown", "save", "bgsave", "bgrewriteaof", "monitor", "subscribe", "psubscribe", "ssubscribe", "blpop", "brpop", "blmove", "brpoplpush", "blmpop", "bzpopmin", "bzpopmax", "bzmpop", "xread", "xreadgroup", "wait", "client", "acl", "config", "flushall", "keys", "pfselftest"];

fuzz_target!(|data: &[u8]| {
    let server = server();
    let names: Vec<&str> = all_commands().map(|c| c.name).filter(|n| !SKIP.contains(n)).collect();
    let mut client = detached_client(server);
    let mut reply = ReplyBuf::new();
    for command in data.split(|&b| b == 0xFF).take(32) {
        let mut args: Vec<&[u8]> = command.split(|&b| b == 0xFE).collect();
        let Some(first) = args.first().copied() else { continue };
        let pick = first.first().copied().unwrap_or(0) as usize % names.len();
        args[0] = names[pick].as_bytes();
        let mut ctx = Ctx::new(server, &mut client, &mut reply);
        commands::execute(&mut ctx, &args);
        reply.buf.clear();
    }
});
