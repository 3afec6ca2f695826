//! Master-replica replication (Redis 7.0's PSYNC protocol) on plain TCP.
//!
//! # Roles and threads
//!
//! ```text
//!   master                                        replica
//!   ------                                        -------
//!   client thread of the replica's connection     `replication` thread
//!     PSYNC: +FULLRESYNC <replid> <offset>   <--  PING, AUTH, REPLCONF
//!            $<len>\r\n<RDB bytes>                listening-port / capa,
//!            (or +CONTINUE from the backlog)      PSYNC <replid> <off>|? -1
//!     then reads REPLCONF ACK <offset>       <--  ACK every second
//!   `replica-<id>` sender thread                  loads the RDB into a fresh
//!     writes the replica's outbox            -->  store, swaps it in, then
//!   writers (store write lock held)               runs the command stream as
//!     feed(): the AOF's commands, SELECT          the master client (no
//!     when the db changes, appended to the        replies; REPLCONF GETACK
//!     backlog and every replica's outbox          answered with an ACK)
//!   `repl-cron` thread: PING every
//!     repl-ping-replica-period seconds
//! ```
//!
//! The write stream is exactly what the AOF logs (see
//! `persistence/aof.rs`, whose `propagate` calls [`feed`]), so a replica
//! redoes the master's effects rather than its commands. The master's
//! replication offset (`master_repl_offset`) counts the bytes of that
//! stream; a replica's offset counts the bytes it applied, so the two meet
//! when the replica has caught up (WAIT and INFO's `lag` read them).
//!
//! The snapshot for a full resync is taken under the store read lock, and
//! the replica registered for the stream under that same lock: every write
//! is either in the RDB or in the stream, never both, never neither.
//! Under repl-diskless-sync (the default) the RDB is written to the
//! replica's socket as it is produced from the snapshot, framed as
//! `$EOF:<mark>...<mark>` since its length is not known in advance;
//! otherwise it is produced whole first and sent as `$<len>`. The replica
//! writes either to a temporary file as it arrives.
//!
//! Files: [`master`] (PSYNC/SYNC, REPLCONF, WAIT, the backlog and the
//! replicas' outboxes), [`replica`] (REPLICAOF and the replication thread).
//! Partial resynchronization from the backlog is supported; a replica
//! forwards the raw stream it applies to its own replicas (chaining).
//! A replica's stream is only its master's: writes its own clients make
//! on a writable replica stay local (`feed` skips them), and it leaves
//! expiring the master's keys to the master (see `store/mod.rs`).
//! Diskless loading is not supported: the replica always goes through a
//! file, though it answers LOADING during the transfer as a diskless
//! replica would (or, under swapdb from the same master, keeps serving its
//! old data: Redis's async loading).
//!
//! Redis mirrors: `replication.c` (`replicationFeedSlaves`, `syncCommand`,
//! `readSyncBulkPayload`, `replicationCron`, `waitCommand`).

pub mod master;
pub mod replica;

use std::cell::Cell;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::commands::Group::Server as ServerGroup;
use crate::commands::Handler::Conn;
use crate::commands::{cmd, Command, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::server::Server;

pub use master::ReplicaLink;

/// The error a read-only replica answers writes with.
pub const READONLY_ERROR: &str = "READONLY You can't write against a read only replica.";

/// The replication commands' table rows.
pub const COMMANDS: &[Command] = &[
    cmd(
        "replconf",
        -1,
        "admin noscript loading stale allow_busy",
        (0, 0, 0),
        ServerGroup,
        "",
        "An internal command for configuring the replication stream",
        Conn(master::replconf_command),
    ),
    cmd(
        "psync",
        -3,
        "admin noscript no_async_loading no_multi",
        (0, 0, 0),
        ServerGroup,
        "replicationid offset",
        "Internal command used for replication",
        Conn(master::psync_command),
    ),
    cmd(
        "sync",
        1,
        "admin noscript no_async_loading no_multi",
        (0, 0, 0),
        ServerGroup,
        "",
        "Internal command used for replication",
        Conn(master::sync_command),
    ),
    cmd(
        "replicaof",
        3,
        "admin noscript stale no_async_loading",
        (0, 0, 0),
        ServerGroup,
        "host port",
        "Make the server a replica of another instance, or promote it as master.",
        Conn(replica::replicaof_command),
    ),
    cmd(
        "slaveof",
        3,
        "admin noscript stale no_async_loading",
        (0, 0, 0),
        ServerGroup,
        "host port",
        "Make the server a replica of another instance, or promote it as master.",
        Conn(replica::replicaof_command),
    ),
    cmd(
        "wait",
        3,
        "noscript",
        (0, 0, 0),
        crate::commands::Group::Generic,
        "numreplicas timeout",
        "Wait for the synchronous replication of all the write commands sent in the context of the current connection",
        Conn(master::wait_command),
    ),
];

/// Whether this server is a replica, for code that has no `Server` at
/// hand: the role letter of log lines, and the keyspace's expiry rules
/// (store/mod.rs: a replica leaves expiring its master's keys to the master).
static IS_REPLICA: AtomicBool = AtomicBool::new(false);

/// True while this server replicates a master ([`Replication::is_replica`]
/// without the server).
pub fn is_replica_process() -> bool {
    IS_REPLICA.load(Ordering::Relaxed)
}

/// The role letter Redis puts after the pid in each log line: `S` on a
/// replica, `M` on a master (a BGSAVE child never logs here).
pub fn log_role() -> char {
    if is_replica_process() {
        'S'
    } else {
        'M'
    }
}

/// The replication stream kept for partial resynchronization.
#[derive(Default)]
pub struct Backlog {
    /// The last `repl-backlog-size` bytes of the stream.
    pub bytes: VecDeque<u8>,
    /// Whether a backlog exists (created with the first replica).
    pub active: bool,
}

/// What the write path updates under `Replication::feed` (with the store
/// write lock held, which orders the stream).
#[derive(Default)]
pub struct FeedState {
    /// master_repl_offset: bytes of stream ever produced.
    pub offset: u64,
    /// The database the last fed command ran in (SELECT when it changes).
    pub last_db: Option<usize>,
    /// The backlog.
    pub backlog: Backlog,
    /// The connected replicas.
    pub replicas: Vec<Arc<ReplicaLink>>,
}

/// The replica side's view of its master (REPLICAOF host port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MasterAddr {
    /// The master's host.
    pub host: String,
    /// The master's port.
    pub port: u16,
}

/// Replication state shared by every thread (in [`Server`]).
pub struct Replication {
    /// The stream, its offset, backlog and replicas.
    pub feed: Mutex<FeedState>,
    /// (master_replid, master_replid2, second_repl_offset).
    pub ids: Mutex<(String, String, i64)>,
    /// Some(master) while this server is a replica; set through
    /// [`Replication::set_master`] so `is_replica` stays in step.
    master: Mutex<Option<MasterAddr>>,
    /// `master.is_some()`, for the per-write "are we a replica?" check
    /// (one atomic load instead of a lock every client thread contends on).
    replica: AtomicBool,
    /// Bumped by every REPLICAOF: a replication thread of an older
    /// generation stops.
    pub generation: AtomicU64,
    /// The replica's link to its master is up (streaming).
    pub link_up: AtomicBool,
    /// The replication thread is applying one command of its master's
    /// stream (executing it, then counting and forwarding its bytes).
    /// REPLICAOF waits for that to end, so the offset it takes over covers
    /// exactly the commands applied.
    pub applying_now: AtomicBool,
    /// Set at start-up from the RDB's replication position: the first
    /// sync tries PSYNC from it instead of asking for a full one.
    pub resume_psync: AtomicBool,
    /// A full sync from the master the replica already follows, under
    /// repl-diskless-load swapdb, is in progress: the old data stays served
    /// until the new is loaded (INFO's async_loading; commands flagged
    /// `no_async_loading` are refused with LOADING meanwhile).
    pub async_loading: AtomicBool,
    /// min-replicas-to-write and min-replicas-max-lag (config copies).
    pub min_replicas_to_write: AtomicI64,
    pub min_replicas_max_lag: AtomicI64,
    /// replica-serve-stale-data (config copy).
    pub serve_stale_data: AtomicBool,
    /// A full resync is being received.
    pub sync_in_progress: AtomicBool,
    /// Unix ms of the last byte from the master.
    pub last_io_ms: AtomicI64,
    /// Unix ms the link went down (0: never up).
    pub link_down_since_ms: AtomicI64,
    /// The handshake state ROLE shows: connect, connecting, sync, connected.
    pub link_state: Mutex<&'static str>,
    /// The socket to the master, so REPLICAOF can close it.
    pub master_stream: Mutex<Option<Arc<std::net::TcpStream>>>,
    /// What a connection's REPLCONF said before its PSYNC, by client id.
    pub handshakes: Mutex<std::collections::HashMap<u64, Handshake>>,
    /// Unix ms a shutdown waiting for replicas gives up (0: none waits).
    pub shutdown_deadline_ms: AtomicI64,
    /// Shutdowns waiting for replicas right now.
    pub shutdown_waiters: std::sync::atomic::AtomicUsize,
    /// SHUTDOWN ABORT asked the waiting shutdowns to give up.
    pub shutdown_abort: AtomicBool,
    /// INFO stats: full resyncs served, partial resyncs accepted, refused.
    pub sync_full: AtomicU64,
    /// See `sync_full`.
    pub sync_partial_ok: AtomicU64,
    /// See `sync_full`.
    pub sync_partial_err: AtomicU64,
    /// Mirrors `feed.backlog.active`, so writes check it without a lock.
    pub backlog_active: AtomicBool,
    /// On a replica: the database the master's stream last selected. A
    /// partial resync continues the stream where it broke, without a new
    /// SELECT, so the next link starts there (Redis keeps the master
    /// client itself across the reconnection).
    pub master_db: std::sync::atomic::AtomicUsize,
}

impl Default for Replication {
    fn default() -> Self {
        Self::new()
    }
}

thread_local! {
    /// True on the replication thread while it applies the master's stream:
    /// those writes are allowed on a read-only replica and are not fed again
    /// (the raw stream is forwarded instead).
    static APPLYING: Cell<bool> = const { Cell::new(false) };
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Where our replication stream stands, saved in RDB files (aux fields
/// repl-id, repl-offset, repl-stream-db) so that a replica restarted from
/// the file can continue with PSYNC. None for a master without a backlog
/// (no history anyone could continue).
pub fn rdb_position(server: &Server) -> Option<crate::persistence::load::ReplPosition> {
    let is_replica = server.repl.is_replica();
    let f = lock(&server.repl.feed);
    if !is_replica && !f.backlog.active {
        return None;
    }
    let id = lock(&server.repl.ids).0.clone();
    let db = if is_replica {
        server.repl.master_db.load(Ordering::Relaxed)
    } else {
        f.last_db.unwrap_or(0)
    };
    Some(crate::persistence::load::ReplPosition {
        id,
        offset: f.offset,
        db,
    })
}

/// A replica restarted from an RDB with a replication position takes it
/// over (ID, offset, selected database), so its first sync asks PSYNC to
/// continue from there, as Redis's does.
pub fn resume_from_rdb(server: &Server, position: crate::persistence::load::ReplPosition) {
    {
        let mut f = lock(&server.repl.feed);
        f.offset = position.offset;
        f.backlog.active = true;
        f.backlog.bytes.clear();
        f.last_db = None;
    }
    server.repl.backlog_active.store(true, Ordering::Relaxed);
    *lock(&server.repl.ids) = (position.id, "0".repeat(40), -1);
    server.repl.master_db.store(position.db, Ordering::Relaxed);
    server.repl.resume_psync.store(true, Ordering::Relaxed);
}

/// True while the replica loads its master's data in the background
/// (see [`Replication::async_loading`]).
pub fn async_loading(server: &Server) -> bool {
    server.repl.async_loading.load(Ordering::Relaxed)
}

/// What a replica announced with REPLCONF before its PSYNC.
#[derive(Debug, Default)]
pub struct Handshake {
    /// `listening-port`: the port INFO and ROLE show for the replica.
    pub listening_port: i64,
    /// `capa eof`: it can read an RDB of unknown length, ended by a mark,
    /// so a diskless sync may stream the RDB as it is produced.
    pub capa_eof: bool,
}

/// A fresh random 40-hex-digit replication ID.
pub fn random_replid() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut out = String::with_capacity(40);
    while out.len() < 40 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_nanos()));
        out.push_str(&format!("{:016x}", h.finish()));
    }
    out.truncate(40);
    out
}

impl Replication {
    /// A master with no replicas and a fresh replication ID.
    pub fn new() -> Self {
        Replication {
            feed: Mutex::new(FeedState::default()),
            ids: Mutex::new((random_replid(), "0".repeat(40), -1)),
            master: Mutex::new(None),
            replica: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            link_up: AtomicBool::new(false),
            applying_now: AtomicBool::new(false),
            resume_psync: AtomicBool::new(false),
            async_loading: AtomicBool::new(false),
            min_replicas_to_write: AtomicI64::new(0),
            min_replicas_max_lag: AtomicI64::new(10),
            serve_stale_data: AtomicBool::new(true),
            sync_in_progress: AtomicBool::new(false),
            last_io_ms: AtomicI64::new(0),
            link_down_since_ms: AtomicI64::new(0),
            link_state: Mutex::new("connect"),
            master_stream: Mutex::new(None),
            handshakes: Mutex::new(std::collections::HashMap::new()),
            shutdown_deadline_ms: AtomicI64::new(0),
            shutdown_waiters: Default::default(),
            shutdown_abort: AtomicBool::new(false),
            sync_full: AtomicU64::new(0),
            sync_partial_ok: AtomicU64::new(0),
            sync_partial_err: AtomicU64::new(0),
            backlog_active: AtomicBool::new(false),
            master_db: Default::default(),
        }
    }

    /// True while this server replicates a master.
    pub fn is_replica(&self) -> bool {
        self.replica.load(Ordering::SeqCst)
    }

    /// The master this server replicates, if any.
    pub fn master(&self) -> Option<MasterAddr> {
        lock(&self.master).clone()
    }

    /// Makes this server a replica of `master`, or a master (None).
    pub fn set_master(&self, master: Option<MasterAddr>) {
        let mut slot = lock(&self.master);
        self.replica.store(master.is_some(), Ordering::SeqCst);
        IS_REPLICA.store(master.is_some(), Ordering::Relaxed);
        *slot = master;
    }

    /// master_repl_offset.
    pub fn offset(&self) -> u64 {
        lock(&self.feed).offset
    }

    /// The connected replicas.
    pub fn replicas(&self) -> Vec<Arc<ReplicaLink>> {
        lock(&self.feed).replicas.clone()
    }
}

/// Appends `bytes` to the stream: backlog, offset and every replica's
/// outbox. Called with the store write lock held (or by the replication
/// thread, the only writer of a replica).
pub fn feed_raw(server: &Server, bytes: &[u8]) {
    let mut f = lock(&server.repl.feed);
    push_locked(server, &mut f, bytes);
}

fn push_locked(server: &Server, f: &mut FeedState, bytes: &[u8]) {
    if !f.backlog.active || bytes.is_empty() {
        return;
    }
    f.offset += bytes.len() as u64;
    let limit = (server.config().get_i64("repl-backlog-size").max(16 * 1024)) as usize;
    f.backlog.bytes.extend(bytes.iter().copied());
    let excess = f.backlog.bytes.len().saturating_sub(limit);
    if excess > 0 {
        f.backlog.bytes.drain(..excess);
    }
    for r in &f.replicas {
        r.push(bytes);
    }
}

/// The write path's hook (called from the AOF's propagate with the store
/// write lock held): each (db, command) goes to the stream as RESP, with a
/// SELECT first when the database changes. `usize::MAX` as db means "any
/// database" (PING, REPLCONF GETACK).
pub fn feed(server: &Server, cmds: &[(usize, Vec<Vec<u8>>)]) {
    // A replica's stream is its master's, byte for byte (fed by the
    // replication thread through `feed_raw`): writes its own clients make
    // on a writable replica stay local, or its offset would run ahead of
    // the master's and partial resyncs and WAIT would go wrong.
    if APPLYING.with(|a| a.get()) || cmds.is_empty() || server.repl.is_replica() {
        return;
    }
    let mut f = lock(&server.repl.feed);
    if !f.backlog.active {
        return;
    }
    let mut out = Vec::new();
    for (db, args) in cmds {
        if *db != usize::MAX && f.last_db != Some(*db) {
            let text = db.to_string();
            crate::persistence::aof::encode_command(
                &mut out,
                &[b"SELECT".as_slice(), text.as_bytes()],
            );
            f.last_db = Some(*db);
        }
        crate::persistence::aof::encode_command(&mut out, args);
    }
    push_locked(server, &mut f, &out);
}

/// True when `feed` has somewhere to send commands (a backlog exists).
pub fn feeding(server: &Server) -> bool {
    server.repl.backlog_active.load(Ordering::Relaxed)
}

/// The dispatcher's check before a command runs: a read-only replica
/// refuses writes from its clients (never from its master).
pub fn check_write_allowed(ctx: &Ctx, is_write: bool) -> CmdResult {
    if is_write
        && !APPLYING.with(|a| a.get())
        && ctx.server.repl.is_replica()
        && ctx.server.config().get("replica-read-only") != Some("no")
    {
        return Err(CmdError::Raw(READONLY_ERROR.into()));
    }
    Ok(())
}

/// NOREPLICAS: with min-replicas-to-write N and min-replicas-max-lag S
/// (both non-zero), a master refuses writes unless N replicas are online
/// and acknowledged the stream within the last S seconds.
pub fn check_good_replicas(ctx: &Ctx, is_write: bool) -> CmdResult {
    let repl = &ctx.server.repl;
    let need = repl.min_replicas_to_write.load(Ordering::Relaxed);
    let max_lag_s = repl.min_replicas_max_lag.load(Ordering::Relaxed);
    if !is_write || need <= 0 || max_lag_s <= 0 || repl.is_replica() {
        return Ok(());
    }
    let now = crate::util::now_ms();
    let good = repl
        .replicas()
        .iter()
        .filter(|r| {
            r.is_online() && (now - r.last_ack_ms.load(Ordering::Relaxed)) / 1000 <= max_lag_s
        })
        .count();
    if (good as i64) < need {
        return Err(CmdError::Raw(
            "NOREPLICAS Not enough good replicas to write.".into(),
        ));
    }
    Ok(())
}

/// The error of a command refused by a stale replica.
pub const MASTERDOWN_ERROR: &str =
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";

/// True on a replica whose link to its master is down while
/// replica-serve-stale-data is no: it serves only commands flagged `stale`
/// (and scripts flagged `allow-stale`).
pub fn is_stale(server: &Server) -> bool {
    let repl = &server.repl;
    repl.is_replica()
        && !repl.link_up.load(Ordering::Relaxed)
        && !repl.serve_stale_data.load(Ordering::Relaxed)
}

/// MASTERDOWN for a command not flagged `stale` on a stale replica.
/// True on the thread that applies the master's stream (Redis's
/// `mustObeyClient`): its writes are never refused.
pub fn applying() -> bool {
    APPLYING.with(|a| a.get())
}

pub fn check_stale(ctx: &Ctx, deny_stale: bool) -> CmdResult {
    if deny_stale && is_stale(ctx.server) && !APPLYING.with(|a| a.get()) {
        return Err(CmdError::Raw(MASTERDOWN_ERROR.into()));
    }
    Ok(())
}

/// Client ids of the connections that are replicas of this server (one
/// server per process; read by CLIENT LIST's flags, which has no server).
static REPLICA_CLIENTS: Mutex<Vec<u64>> = Mutex::new(Vec::new());

/// True when client `id` is a replica connected to us (CLIENT LIST flag S).
/// The client id of a replica's link to its master (0: none), which
/// CLIENT LIST shows with flag M and CLIENT KILL TYPE master closes.
static MASTER_CLIENT: AtomicU64 = AtomicU64::new(0);

/// True for the client that is this replica's link to its master.
pub fn is_master_client(id: u64) -> bool {
    id != 0 && MASTER_CLIENT.load(Ordering::Relaxed) == id
}

/// Records the master link's client id.
fn set_master_client(id: u64) {
    MASTER_CLIENT.store(id, Ordering::Relaxed);
}

/// Forgets the master link's client id, if `id` is still the one recorded
/// (a newer link after REPLICAOF may have replaced it).
fn clear_master_client(id: u64) {
    let _ = MASTER_CLIENT.compare_exchange(id, 0, Ordering::Relaxed, Ordering::Relaxed);
}

pub fn is_replica_client(id: u64) -> bool {
    lock(&REPLICA_CLIENTS).contains(&id)
}

fn mark_replica_client(id: u64, on: bool) {
    let mut ids = lock(&REPLICA_CLIENTS);
    ids.retain(|&i| i != id);
    if on {
        ids.push(id);
    }
}

/// The `# Replication` section of INFO.
pub fn info_section(server: &Server) -> String {
    let repl = &server.repl;
    let now = crate::util::now_ms();
    let mut out = String::from("# Replication\r\n");
    let master = repl.master();
    let offset = repl.offset();
    if let Some(m) = &master {
        let up = repl.link_up.load(Ordering::Relaxed);
        out.push_str("role:slave\r\n");
        out.push_str(&format!(
            "master_host:{}\r\nmaster_port:{}\r\n",
            m.host, m.port
        ));
        out.push_str(&format!(
            "master_link_status:{}\r\n",
            if up { "up" } else { "down" }
        ));
        let last_io = repl.last_io_ms.load(Ordering::Relaxed);
        let ago = if last_io == 0 {
            -1
        } else {
            (now - last_io) / 1000
        };
        out.push_str(&format!("master_last_io_seconds_ago:{ago}\r\n"));
        let syncing = repl.sync_in_progress.load(Ordering::Relaxed);
        out.push_str(&format!(
            "master_sync_in_progress:{}\r\n",
            u8::from(syncing)
        ));
        out.push_str(&format!(
            "slave_read_repl_offset:{offset}\r\nslave_repl_offset:{offset}\r\n"
        ));
        if !up {
            let since = repl.link_down_since_ms.load(Ordering::Relaxed);
            let secs = if since == 0 { -1 } else { (now - since) / 1000 };
            out.push_str(&format!("master_link_down_since_seconds:{secs}\r\n"));
        }
        let read_only = server.config().get("replica-read-only") != Some("no");
        out.push_str(&format!(
            "slave_priority:100\r\nslave_read_only:{}\r\nreplica_announced:1\r\n",
            u8::from(read_only)
        ));
    } else {
        out.push_str("role:master\r\n");
    }
    let replicas = repl.replicas();
    out.push_str(&format!("connected_slaves:{}\r\n", replicas.len()));
    for (i, r) in replicas.iter().enumerate() {
        out.push_str(&format!(
            "slave{i}:ip={},port={},state={},offset={},lag={}\r\n",
            r.ip,
            r.listening_port.load(Ordering::Relaxed),
            r.state_name(),
            r.ack_offset.load(Ordering::Relaxed),
            (now - r.last_ack_ms.load(Ordering::Relaxed)).max(0) / 1000
        ));
    }
    let (replid, replid2, second) = lock(&repl.ids).clone();
    let f = lock(&repl.feed);
    let histlen = f.backlog.bytes.len() as u64;
    let first = if f.backlog.active {
        f.offset + 1 - histlen
    } else {
        0
    };
    let size = server.config().get_i64("repl-backlog-size");
    out.push_str(&format!(
        "master_failover_state:no-failover\r\nmaster_replid:{replid}\r\nmaster_replid2:{replid2}\r\n\
         master_repl_offset:{}\r\nsecond_repl_offset:{second}\r\nrepl_backlog_active:{}\r\n\
         repl_backlog_size:{size}\r\nrepl_backlog_first_byte_offset:{first}\r\nrepl_backlog_histlen:{histlen}\r\n",
        f.offset,
        u8::from(f.backlog.active)
    ));
    out
}

/// ROLE — array reply: `master <offset> [[ip port offset] ...]` or
/// `slave <host> <port> <state> <offset>`.
pub fn role_reply(ctx: &mut Ctx) -> CmdResult {
    let repl = &ctx.server.repl;
    let master = repl.master();
    let offset = repl.offset() as i64;
    match master {
        Some(m) => {
            ctx.reply.array(5);
            ctx.reply.bulk(b"slave");
            ctx.reply.bulk(m.host.as_bytes());
            ctx.reply.integer(i64::from(m.port));
            let state = *lock(&repl.link_state);
            ctx.reply.bulk(state.as_bytes());
            ctx.reply.integer(offset);
        }
        None => {
            let replicas = repl.replicas();
            ctx.reply.array(3);
            ctx.reply.bulk(b"master");
            ctx.reply.integer(offset);
            ctx.reply.array(replicas.len());
            for r in replicas {
                ctx.reply.array(3);
                ctx.reply.bulk(r.ip.as_bytes());
                ctx.reply.bulk(
                    r.listening_port
                        .load(Ordering::Relaxed)
                        .to_string()
                        .as_bytes(),
                );
                ctx.reply
                    .bulk(r.ack_offset.load(Ordering::Relaxed).to_string().as_bytes());
            }
        }
    }
    Ok(())
}

/// Starts the `repl-cron` thread (pings to replicas) and, with `replicaof`
/// in the configuration, the replication of that master.
pub fn start(server: &Arc<Server>) -> std::io::Result<()> {
    let s = Arc::clone(server);
    std::thread::Builder::new()
        .name("repl-cron".into())
        .spawn(move || master::cron(&s))?;
    let configured = server.config().get("replicaof").unwrap_or("").to_string();
    let mut parts = configured.split_whitespace();
    if let (Some(host), Some(port)) = (parts.next(), parts.next()) {
        if let Ok(port) = port.parse::<u16>() {
            replica::become_replica(server, host, port);
        }
    }
    Ok(())
}

/// SHUTDOWN and SIGTERM on a master with replicas (Redis 7's graceful
/// shutdown): asks every replica for an ACK and waits up to
/// `shutdown-timeout` seconds until all of them reached our offset, then
/// logs which lagged. False when SHUTDOWN ABORT cancelled the wait.
pub fn wait_before_shutdown(server: &Server, now: bool) -> bool {
    let timeout_s = server.config().get_i64("shutdown-timeout").max(0);
    let repl = &server.repl;
    if now || timeout_s == 0 || repl.replicas().is_empty() {
        return true;
    }
    log::info!("Waiting for replicas before shutting down.");
    let deadline = crate::util::now_ms() + timeout_s * 1000;
    repl.shutdown_deadline_ms.store(deadline, Ordering::Relaxed);
    repl.shutdown_waiters.fetch_add(1, Ordering::SeqCst);
    server.blocked_clients.fetch_add(1, Ordering::Relaxed);
    {
        let _store = server.store.write().unwrap_or_else(|p| p.into_inner());
        feed(
            server,
            &[(
                usize::MAX,
                vec![b"REPLCONF".to_vec(), b"GETACK".to_vec(), b"*".to_vec()],
            )],
        );
    }
    let mut aborted = false;
    // Only replicas past their initial sync can be waited for, as in
    // Redis: one still receiving its RDB could take any time.
    let online = |repl: &Replication| -> Vec<Arc<ReplicaLink>> {
        repl.replicas()
            .into_iter()
            .filter(|r| r.is_online())
            .collect()
    };
    loop {
        let offset = repl.offset();
        let replicas = online(repl);
        if replicas
            .iter()
            .all(|r| r.ack_offset.load(Ordering::Relaxed) >= offset)
            || crate::util::now_ms() >= deadline
        {
            break;
        }
        if repl.shutdown_abort.load(Ordering::SeqCst) {
            aborted = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    server.blocked_clients.fetch_sub(1, Ordering::Relaxed);
    // An abort counts for every shutdown waiting when it came, also one
    // that saw its replicas catch up meanwhile; the last to leave clears it.
    let aborted = aborted || repl.shutdown_abort.load(Ordering::SeqCst);
    if repl.shutdown_waiters.fetch_sub(1, Ordering::SeqCst) == 1 {
        repl.shutdown_abort.store(false, Ordering::SeqCst);
        repl.shutdown_deadline_ms.store(0, Ordering::Relaxed);
    }
    if aborted {
        return false;
    }
    let offset = repl.offset();
    let replicas = online(repl);
    let mut in_sync = 0;
    for r in &replicas {
        let acked = r.ack_offset.load(Ordering::Relaxed);
        if acked >= offset {
            in_sync += 1;
        } else {
            log::warn!(
                "Lagging replica {}:{} reported offset {} behind master, lag={}, state={}.",
                r.ip,
                r.listening_port.load(Ordering::Relaxed),
                offset - acked,
                (crate::util::now_ms() - r.last_ack_ms.load(Ordering::Relaxed)) / 1000,
                r.state_name()
            );
        }
    }
    log::info!(
        "{in_sync} of {} replicas are in sync when shutting down.",
        replicas.len()
    );
    true
}

/// SHUTDOWN ABORT during the wait for replicas: true when one was waiting.
pub fn abort_shutdown_wait(server: &Server) -> bool {
    if server.repl.shutdown_waiters.load(Ordering::SeqCst) == 0 {
        return false;
    }
    server.repl.shutdown_abort.store(true, Ordering::SeqCst);
    log::info!("Shutdown manually aborted.");
    true
}

/// INFO server's `shutdown_in_milliseconds` line, while a shutdown waits
/// for replicas ("" otherwise).
pub fn shutdown_info_line(server: &Server) -> String {
    let deadline = server.repl.shutdown_deadline_ms.load(Ordering::Relaxed);
    if deadline == 0 {
        return String::new();
    }
    let left = (deadline - crate::util::now_ms()).max(0);
    format!("shutdown_in_milliseconds:{left}\r\n")
}

/// INFO memory's replication buffers: (backlog bytes, backlog plus what
/// waits in the replicas' outboxes).
pub fn buffer_bytes(server: &Server) -> (u64, u64) {
    let f = lock(&server.repl.feed);
    let backlog = f.backlog.bytes.len() as u64;
    let queued: u64 = f.replicas.iter().map(|r| r.queued_bytes()).sum();
    (backlog, backlog + queued)
}

/// INFO stats' sync_full, sync_partial_ok and sync_partial_err lines.
pub fn sync_stats(server: &Server) -> String {
    let r = &server.repl;
    format!(
        "sync_full:{}\r\nsync_partial_ok:{}\r\nsync_partial_err:{}\r\n",
        r.sync_full.load(Ordering::Relaxed),
        r.sync_partial_ok.load(Ordering::Relaxed),
        r.sync_partial_err.load(Ordering::Relaxed)
    )
}
