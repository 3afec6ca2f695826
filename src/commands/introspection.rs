//! Introspection for operators: SLOWLOG, LATENCY, MEMORY, ROLE, LOLWUT.
//!
//! The dispatcher times every command; [`record_slow_command`] keeps the
//! ones slower than `slowlog-log-slower-than` microseconds in a bounded log
//! (SLOWLOG GET) and, above `latency-monitor-threshold` milliseconds, feeds
//! the latency monitor's "command" event ("fast-command" for a command
//! flagged fast; LATENCY LATEST / HISTORY); the active expiry cycle feeds
//! "expire-cycle" the same way. Both
//! are bounded: the slow log by `slowlog-max-len`, each latency event by
//! [`LATENCY_HISTORY_LEN`] samples, as in Redis.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::Ordering;

use super::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::store::{Store, Value};

use Handler::{Conn, Read};

/// Samples kept per latency event (LATENCY_TS_LEN).
pub const LATENCY_HISTORY_LEN: usize = 160;
/// Largest number of arguments a slow-log entry keeps (SLOWLOG_ENTRY_MAX_ARGC).
const SLOWLOG_MAX_ARGS: usize = 32;
/// Longest argument a slow-log entry keeps (SLOWLOG_ENTRY_MAX_STRING).
const SLOWLOG_MAX_ARG_BYTES: usize = 128;

/// One slow-log entry.
#[derive(Debug, Clone)]
pub struct SlowlogEntry {
    /// Increasing id.
    pub id: u64,
    /// Unix seconds when the command ran.
    pub time_s: i64,
    /// How long it took, microseconds.
    pub duration_us: u64,
    /// The arguments, shortened as Redis shortens them.
    pub args: Vec<Vec<u8>>,
    /// The client's address.
    pub addr: String,
    /// The client's name.
    pub name: Vec<u8>,
}

/// The slow log and the latency monitor's samples.
#[derive(Debug, Default)]
pub struct Monitoring {
    /// Newest first.
    pub slowlog: VecDeque<SlowlogEntry>,
    /// The next slow-log id.
    pub next_id: u64,
    /// Event name -> samples (unix s, latency ms), oldest first.
    pub latency: BTreeMap<String, VecDeque<(i64, u64)>>,
    /// Command name (or `name|sub`) -> latency histogram (LATENCY HISTOGRAM).
    pub histograms: BTreeMap<String, super::latency_histogram::Histogram>,
}

/// The introspection family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd(
        "slowlog",
        -2,
        "admin loading stale",
        (0, 0, 0),
        Group::Server,
        "GET [count]|LEN|RESET|HELP",
        "A container for slow log commands",
        Conn(slowlog_command),
    ),
    cmd(
        "latency",
        -2,
        "admin noscript loading stale",
        (0, 0, 0),
        Group::Server,
        "LATEST|HISTORY event|RESET [event ...]|HISTOGRAM [command ...]|DOCTOR|HELP",
        "A container for latency diagnostics commands",
        Conn(latency_command),
    ),
    cmd(
        "memory",
        -2,
        "readonly",
        (0, 0, 0),
        Group::Server,
        "USAGE key [SAMPLES count]|STATS|DOCTOR|PURGE|MALLOC-STATS|HELP",
        "A container for memory diagnostics commands",
        Read(memory_command),
    ),
    cmd(
        "monitor",
        1,
        "admin noscript loading stale",
        (0, 0, 0),
        Group::Server,
        "",
        "Listen for all requests received by the server in real time",
        Conn(monitor_command),
    ),
    cmd(
        "role",
        1,
        "noscript loading stale fast",
        (0, 0, 0),
        Group::Server,
        "",
        "Return the role of the instance in the context of replication",
        Conn(role_command),
    ),
    cmd(
        "cluster",
        -2,
        "",
        (0, 0, 0),
        Group::Server,
        "subcommand [argument ...]",
        "A container for cluster commands",
        Conn(cluster_command),
    ),
    cmd(
        "lolwut",
        -1,
        "readonly fast",
        (0, 0, 0),
        Group::Server,
        "[VERSION version]",
        "Display some computer art and the Redis version",
        Conn(lolwut_command),
    ),
];

/// MONITOR — `+OK`, then one status line per command the server runs
/// (monitor.rs). A second MONITOR on the same connection is ignored.
fn monitor_command(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    if ctx.server.monitors.contains(ctx.client.id) {
        return Ok(());
    }
    ctx.reply.ok();
    // From now on a writer thread owns the socket, as for a subscriber; the
    // +OK goes into the mailbox before any monitored command.
    let sub = super::pubsub::ensure_subscriber(ctx)?;
    ctx.server
        .monitors
        .add(ctx.client.id, std::sync::Arc::clone(&sub.mailbox));
    Ok(())
}

/// Called by the dispatcher (and EXEC, per queued command) after a command
/// ran: feeds it to the MONITOR clients, unless it is an admin command, was
/// only queued by MULTI, or was refused before running.
pub fn feed_monitors(
    ctx: &Ctx,
    command: &super::Command,
    args: &[&[u8]],
    result: &CmdResult,
    queued: bool,
) {
    if !ctx.server.monitors.is_active() || queued || command.has_flag("admin") {
        return;
    }
    if let Err(CmdError::WrongArity(_) | CmdError::NoAuth) = result {
        return;
    }
    if let Err(CmdError::Raw(text)) = result {
        if text.starts_with("NOPERM") || text.starts_with("OOM") {
            return;
        }
    }
    // Commands a script runs show "lua" where the client's address goes.
    let addr: &str = if ctx.in_script {
        "lua"
    } else {
        &ctx.client.info.addr
    };
    crate::monitor::feed(&ctx.server.monitors, ctx.client.db, addr, args);
}

/// Called by the dispatcher after every command with its duration.
pub fn record_slow_command(
    ctx: &Ctx,
    found: Option<(usize, &Command)>,
    args: &[&[u8]],
    duration_us: u64,
) {
    // Two atomic loads on the fast path; the config is read only for slow commands.
    let threshold_us = ctx.server.slowlog_threshold_us.load(Ordering::Relaxed);
    let latency_ms = ctx.server.latency_threshold_ms.load(Ordering::Relaxed);
    let slow = threshold_us >= 0 && duration_us as i64 >= threshold_us;
    let latent = latency_ms > 0 && (duration_us / 1000) as i64 >= latency_ms;
    if let Some((index, command)) = found {
        super::latency_histogram::record(&ctx.server.monitoring, index, command, args, duration_us);
        // EXEC: its commands are logged one by one instead (Redis).
        if command.has_flag("skip_slowlog") {
            return;
        }
    }
    if !slow && !latent {
        return;
    }
    let max_len = ctx.server.config().get_i64("slowlog-max-len").max(0) as usize;
    let mut mon = ctx
        .server
        .monitoring
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let now_s = ctx.now_ms / 1000;
    if slow && max_len > 0 {
        let mut kept: Vec<Vec<u8>> = Vec::new();
        let hide = crate::monitor::redacted(args);
        for (i, a) in args.iter().enumerate() {
            if i == SLOWLOG_MAX_ARGS - 1 && args.len() > SLOWLOG_MAX_ARGS {
                kept.push(format!("... ({} more arguments)", args.len() - i).into_bytes());
                break;
            }
            if hide.get(i) == Some(&true) {
                kept.push(b"(redacted)".to_vec());
            } else if a.len() > SLOWLOG_MAX_ARG_BYTES {
                let mut v = a[..SLOWLOG_MAX_ARG_BYTES].to_vec();
                v.extend_from_slice(
                    format!("... ({} more bytes)", a.len() - SLOWLOG_MAX_ARG_BYTES).as_bytes(),
                );
                kept.push(v);
            } else {
                kept.push(a.to_vec());
            }
        }
        let id = mon.next_id;
        mon.next_id += 1;
        mon.slowlog.push_front(SlowlogEntry {
            id,
            time_s: now_s,
            duration_us,
            args: kept,
            addr: ctx.client.info.addr.clone(),
            name: ctx
                .client
                .info
                .name
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        });
        mon.slowlog.truncate(max_len);
    }
    if latent {
        // Redis files fast commands that were slow under their own event.
        let fast = args
            .first()
            .and_then(|name| super::lookup(name))
            .is_some_and(|(_, c)| c.has_flag("fast"));
        let event = if fast { "fast-command" } else { "command" };
        add_latency_sample(&mut mon, event, now_s, duration_us / 1000);
    }
}

/// Records a latency sample for `event` when it lasted at least
/// `latency-monitor-threshold` ms (Redis's `latencyAddSampleIfNeeded`):
/// the background jobs' events such as "expire-cycle".
pub fn add_latency_sample_if_needed(server: &crate::server::Server, event: &str, ms: u64) {
    let threshold_ms = server.latency_threshold_ms.load(Ordering::Relaxed);
    if threshold_ms <= 0 || (ms as i64) < threshold_ms {
        return;
    }
    let now_s = crate::util::now_ms() / 1000;
    let mut mon = server.monitoring.lock().unwrap_or_else(|p| p.into_inner());
    add_latency_sample(&mut mon, event, now_s, ms);
}

/// Adds a latency sample for `event` (one per second, the max wins).
pub fn add_latency_sample(mon: &mut Monitoring, event: &str, now_s: i64, ms: u64) {
    let samples = mon.latency.entry(event.to_string()).or_default();
    match samples.back_mut() {
        Some((t, v)) if *t == now_s => *v = (*v).max(ms),
        _ => samples.push_back((now_s, ms)),
    }
    while samples.len() > LATENCY_HISTORY_LEN {
        samples.pop_front();
    }
}

fn help_reply(ctx: &mut Ctx, lines: &[&str]) {
    ctx.reply.array(lines.len());
    for l in lines {
        ctx.reply.simple(l);
    }
}

fn unknown_sub(cmd: &str, sub: &[u8]) -> CmdError {
    CmdError::err(format!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        String::from_utf8_lossy(sub),
        cmd
    ))
}

/// SLOWLOG GET [count] | LEN | RESET | HELP.
fn slowlog_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    check_subcommand("slowlog", args)?;
    let sub = args[1].to_ascii_uppercase();
    match (sub.as_slice(), args.len()) {
        (b"GET", 2 | 3) => {
            let count = match args.get(2) {
                None => 10,
                Some(a) => match parse_i64(a) {
                    Some(-1) => usize::MAX,
                    Some(n) if n >= 0 => n as usize,
                    _ => return Err(CmdError::err("count should be greater than or equal to -1")),
                },
            };
            let entries: Vec<SlowlogEntry> = ctx
                .server
                .monitoring
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .slowlog
                .iter()
                .take(count)
                .cloned()
                .collect();
            ctx.reply.array(entries.len());
            for e in entries {
                ctx.reply.array(6);
                ctx.reply.integer(e.id as i64);
                ctx.reply.integer(e.time_s);
                ctx.reply.integer(e.duration_us as i64);
                ctx.reply.array(e.args.len());
                for a in &e.args {
                    ctx.reply.bulk(a);
                }
                ctx.reply.bulk(e.addr.as_bytes());
                ctx.reply.bulk(&e.name);
            }
        }
        (b"LEN", 2) => {
            let n = ctx
                .server
                .monitoring
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .slowlog
                .len();
            ctx.reply.integer(n as i64);
        }
        (b"RESET", 2) => {
            ctx.server
                .monitoring
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .slowlog
                .clear();
            ctx.reply.ok();
        }
        (b"HELP", 2) => help_reply(
            ctx,
            &[
                "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET [<count>]",
                "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                "    Entries are made of:",
                "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                "    client name",
                "LEN",
                "    Return the length of the slowlog.",
                "RESET",
                "    Reset the slowlog.",
                "HELP",
                "    Prints this help.",
            ],
        ),
        _ => return Err(unknown_sub("SLOWLOG", args[1])),
    }
    Ok(())
}

/// LATENCY LATEST | HISTORY event | RESET [event ...] | DOCTOR | HELP.
fn latency_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    check_subcommand("latency", args)?;
    let sub = args[1].to_ascii_uppercase();
    let mut mon = ctx
        .server
        .monitoring
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    match (sub.as_slice(), args.len()) {
        (b"LATEST", 2) => {
            let rows: Vec<(String, i64, u64, u64)> = mon
                .latency
                .iter()
                .filter_map(|(name, s)| {
                    let (t, v) = *s.back()?;
                    Some((name.clone(), t, v, s.iter().map(|x| x.1).max().unwrap_or(0)))
                })
                .collect();
            drop(mon);
            ctx.reply.array(rows.len());
            for (name, t, v, max) in rows {
                ctx.reply.array(4);
                ctx.reply.bulk(name.as_bytes());
                ctx.reply.integer(t);
                ctx.reply.integer(v as i64);
                ctx.reply.integer(max as i64);
            }
        }
        (b"HISTORY", 3) => {
            let name = String::from_utf8_lossy(args[2]).into_owned();
            let samples: Vec<(i64, u64)> = mon
                .latency
                .get(&name)
                .map(|s| s.iter().copied().collect())
                .unwrap_or_default();
            drop(mon);
            ctx.reply.array(samples.len());
            for (t, v) in samples {
                ctx.reply.array(2);
                ctx.reply.integer(t);
                ctx.reply.integer(v as i64);
            }
        }
        (b"RESET", _) => {
            let n = if args.len() == 2 {
                let n = mon.latency.len();
                mon.latency.clear();
                n
            } else {
                args[2..]
                    .iter()
                    .filter(|a| mon.latency.remove(&*String::from_utf8_lossy(a)).is_some())
                    .count()
            };
            drop(mon);
            ctx.reply.integer(n as i64);
        }
        (b"DOCTOR", 2) => {
            let text = if mon.latency.is_empty() {
                "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sleep tonight.\n".to_string()
            } else {
                let mut t = String::from(
                    "Dave, I have observed latency spikes in this Redis instance.\n\n",
                );
                for (name, s) in mon.latency.iter() {
                    let max = s.iter().map(|x| x.1).max().unwrap_or(0);
                    t.push_str(&format!(
                        "{name}: {} latency spikes (max {max} milliseconds).\n",
                        s.len()
                    ));
                }
                t
            };
            drop(mon);
            ctx.reply.verbatim(text.as_bytes());
        }
        (b"HISTOGRAM", _) => {
            drop(mon);
            return super::latency_histogram::histogram_reply(ctx, &args[2..]);
        }
        (b"HELP", n) if n > 2 => {
            return Err(CmdError::WrongArity("latency|help".into()));
        }
        (b"HELP", 2) => {
            drop(mon);
            help_reply(
                ctx,
                &[
                    "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                    "DOCTOR",
                    "    Return a human readable latency analysis report.",
                    "HISTORY <event>",
                    "    Return time-latency samples for the <event> class.",
                    "LATEST",
                    "    Return the latest latency samples for all events.",
                    "RESET [<event> ...]",
                    "    Reset latency data of one or more <event> classes.",
                    "    (default: reset all data for all event classes)",
                    "HELP",
                    "    Prints this help.",
                ],
            );
        }
        _ => {
            drop(mon);
            return Err(unknown_sub("LATENCY", args[1]));
        }
    }
    Ok(())
}

/// An estimate of the memory a key and its value use, in bytes: the
/// payload plus the per-allocation and per-entry overheads of our
/// structures (a dict node and its boxed key, about 64 bytes per key).
pub fn estimate_entry_bytes(key: &[u8], value: &Value) -> usize {
    const ENTRY_OVERHEAD: usize = 64;
    let payload = match value {
        Value::Str(s) => s.heap_bytes() + 16,
        Value::List(l) => l.iter().map(|e| e.len() + 24).sum::<usize>() + 32,
        Value::Hash(h) => h.len() * 48 + 64,
        Value::Set(s) => s.len() * 32 + 64,
        Value::ZSet(z) => z.len() * 80 + 64,
        Value::Stream(st) => {
            st.entries
                .values()
                .map(|f| f.iter().map(|(k, v)| k.len() + v.len() + 48).sum::<usize>() + 48)
                .sum::<usize>()
                + 128
        }
    };
    key.len() + ENTRY_OVERHEAD + payload
}

/// Bytes a listpack spends on one element (Redis's listpack.c): small
/// integers are stored in 1 to 9 bytes, strings after a 1, 2 or 5 byte
/// header; then the back-length (1 to 5 bytes) that lets it walk backwards.
fn listpack_entry_bytes(element: &[u8]) -> usize {
    let encoded = match crate::number::parse_i64(element).filter(|_| element.len() <= 20) {
        Some(v) if (0..=127).contains(&v) => 1,
        Some(v) if (-4096..=4095).contains(&v) => 2,
        Some(v) if (-32768..=32767).contains(&v) => 3,
        Some(v) if (-8_388_608..=8_388_607).contains(&v) => 4,
        Some(v) if i32::try_from(v).is_ok() => 5,
        Some(_) => 9,
        None if element.len() < 64 => 1 + element.len(),
        None if element.len() < 4096 => 2 + element.len(),
        None => 5 + element.len(),
    };
    let backlen = match encoded {
        0..=127 => 1,
        128..=16382 => 2,
        16383..=2_097_150 => 3,
        2_097_151..=268_435_454 => 4,
        _ => 5,
    };
    encoded + backlen
}

/// Listpack header (total bytes, element count) and end marker.
const LISTPACK_EMPTY_BYTES: usize = 7;
/// quicklist's node size limits by negative `list-max-listpack-size`
/// (-1 = 4 KB ... -5 = 64 KB), and the limit a count-limited node obeys.
const QUICKLIST_SIZE_LIMITS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
const QUICKLIST_SAFETY_LIMIT: usize = 8192;
/// What quicklist adds to an element's length to estimate its listpack cost.
const QUICKLIST_ESTIMATE_OVERHEAD: usize = 8;

/// DEBUG OBJECT's quicklist fields for a list (every list is a quicklist
/// in Redis 7.0): the nodes Redis's `_quicklistNodeAllowInsert` would
/// have filled pushing the elements in order with `list-max-listpack-size`
/// `fill` (the setting now: Redis keeps the one in force when the list
/// was created), as ` ql_nodes:N ql_avg_node:F ql_listpack_max:fill
/// ql_compressed:0|1 ql_uncompressed_size:bytes`.
pub fn quicklist_debug_fields<'a>(
    elements: impl Iterator<Item = &'a [u8]>,
    fill: i64,
    compress_depth: i64,
) -> String {
    let (mut nodes, mut count, mut node_bytes, mut node_count) = (0usize, 0usize, 0usize, 0i64);
    let mut total_bytes = 0usize;
    for e in elements {
        // Redis's estimate of the node's size with this element added.
        let new_sz = node_bytes + e.len() + QUICKLIST_ESTIMATE_OVERHEAD;
        let fits = nodes > 0 && {
            let size_limit = usize::try_from(-1 - fill)
                .ok()
                .and_then(|level| QUICKLIST_SIZE_LIMITS.get(level));
            size_limit.is_some_and(|limit| new_sz <= *limit)
                || (new_sz <= QUICKLIST_SAFETY_LIMIT && node_count < fill)
        };
        if !fits {
            total_bytes += node_bytes;
            nodes += 1;
            node_bytes = LISTPACK_EMPTY_BYTES;
            node_count = 0;
        }
        node_bytes += listpack_entry_bytes(e);
        node_count += 1;
        count += 1;
    }
    total_bytes += node_bytes;
    let avg = if nodes == 0 {
        0.0
    } else {
        count as f64 / nodes as f64
    };
    format!(
        " ql_nodes:{nodes} ql_avg_node:{avg:.2} ql_listpack_max:{fill} ql_compressed:{} ql_uncompressed_size:{total_bytes}",
        i64::from(compress_depth != 0)
    )
}

/// MEMORY USAGE key [SAMPLES n] | STATS | DOCTOR | PURGE | MALLOC-STATS | HELP.
fn memory_command(ctx: &mut Ctx, store: &Store, args: &[&[u8]]) -> CmdResult {
    check_subcommand("memory", args)?;
    let sub = args[1].to_ascii_uppercase();
    match (sub.as_slice(), args.len()) {
        (b"USAGE", n) if n >= 3 => {
            // Any number of SAMPLES n pairs, as Redis parses them.
            let mut j = 3;
            while j < n {
                if !(args[j].eq_ignore_ascii_case(b"SAMPLES") && j + 1 < n) {
                    return Err(CmdError::Syntax);
                }
                let samples = parse_i64(args[j + 1]).ok_or(CmdError::NotInteger)?;
                if samples < 0 {
                    return Err(CmdError::Syntax);
                }
                j += 2;
            }
            match ctx.db(store).peek(args[2], ctx.now_ms).map(|e| &e.value) {
                Some(v) => ctx.reply.integer(estimate_entry_bytes(args[2], v) as i64),
                None => ctx.reply.null(),
            }
        }
        (b"STATS", 2) => {
            let rss = super::server::rss_bytes() as i64;
            let keys = store.total_keys() as i64;
            let fields: Vec<(&str, i64)> = vec![
                ("peak.allocated", rss),
                ("total.allocated", rss),
                ("startup.allocated", 0),
                ("replication.backlog", 0),
                ("clients.slaves", 0),
                ("clients.normal", 0),
                ("aof.buffer", 0),
                ("keys.count", keys),
            ];
            ctx.reply.map(fields.len());
            for (k, v) in fields {
                ctx.reply.bulk(k.as_bytes());
                ctx.reply.integer(v);
            }
        }
        (b"DOCTOR", 2) => ctx.reply.verbatim(b"Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base."),
        (b"PURGE", 2) => ctx.reply.ok(),
        (b"MALLOC-STATS", 2) => ctx.reply.verbatim(b"Stats not supported for the current allocator"),
        (b"HELP", 2) => help_reply(
            ctx,
            &[
                "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "DOCTOR",
                "    Return memory problems reports.",
                "MALLOC-STATS",
                "    Return internal statistics report from the memory allocator.",
                "PURGE",
                "    Attempt to purge dirty pages for reclamation by the allocator.",
                "STATS",
                "    Return information about the memory usage of the server.",
                "USAGE <key> [SAMPLES <count>]",
                "    Return memory in bytes used by <key> and its value. Nested values are",
                "    sampled up to <count> times (default: 5, 0 means sample all).",
                "HELP",
                "    Prints this help.",
            ],
        ),
        _ => return Err(unknown_sub("MEMORY", args[1])),
    }
    Ok(())
}

/// ROLE — array reply: this server's replication role (replication/).
fn role_command(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    crate::replication::role_reply(ctx)
}

/// CLUSTER subcommand [argument ...] — error: this server never runs in
/// cluster mode, and Redis answers every known CLUSTER subcommand of a
/// non-cluster instance with "This instance has cluster support disabled"
/// (after the usual unknown-subcommand and arity checks).
fn cluster_command(_ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    check_subcommand("cluster", args)?;
    Err(CmdError::err("This instance has cluster support disabled"))
}

/// Redis 7's dispatcher checks on a container's subcommand, against
/// Redis's own subcommand table (names and arities, from the ACL table):
/// "unknown subcommand 'x'. Try C HELP." and "wrong number of arguments
/// for 'c|x' command".
fn check_subcommand(container: &str, args: &[&[u8]]) -> CmdResult {
    let meta = crate::acl::meta();
    let subs: Vec<(&str, i32)> = meta
        .id(container)
        .map(|id| {
            meta.cmds[id]
                .subcommands
                .iter()
                .map(|&s| {
                    let sub = &meta.cmds[s];
                    let name = sub.fullname.split_once('|').map_or("", |(_, n)| n);
                    (name, sub.arity)
                })
                .collect()
        })
        .unwrap_or_default();
    super::server::check_subcommand(container, &subs, args)
}

/// LOLWUT [VERSION v] [args ...] — verbatim text: computer art for
/// versions 5 and 6, else the version line (lolwut.rs).
fn lolwut_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let text = super::lolwut::lolwut_text(&args[1..])?;
    ctx.reply.verbatim(text.as_bytes());
    Ok(())
}
