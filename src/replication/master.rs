//! The master side: PSYNC/SYNC, REPLCONF, WAIT, and the replicas' outboxes.
//!
//! # A replica's connection
//!
//! ```text
//! replica                          master (that connection's client thread)
//!   REPLCONF listening-port 6380 -> +OK   (port remembered by client id)
//!   REPLCONF capa eof capa psync2 -> +OK
//!   PSYNC <replid> <offset>      -> +CONTINUE <replid>  + backlog from offset
//!   PSYNC ? -1                   -> +FULLRESYNC <replid> <offset>
//!                                   $<len>\r\n<RDB bytes>   (no CRLF after)
//!                       or, diskless: $EOF:<40-byte mark>\r\n<RDB bytes><mark>
//!   ... the write stream ...     <- `replica-<id>` thread writes the outbox
//!   REPLCONF ACK <offset>        -> (no reply; the client thread reads it)
//! ```
//!
//! PSYNC never returns while the replica is connected: the client thread
//! becomes the reader of the replica's ACKs, and a second thread writes
//! what [`super::feed`] puts in the replica's outbox (so a slow replica
//! never blocks a writer holding the store lock). When either side of the
//! socket fails, both threads end and the replica is unregistered.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use super::{feed, lock};
use crate::commands::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::persistence::snapshot::{Snapshot, WriteControl};
use crate::resp::{parse_request, Request};
use crate::server::Server;
use crate::util::now_ms;

/// How often WAIT looks at the replicas' acknowledged offsets.
const WAIT_POLL_MS: u64 = 10;

/// One connected replica, as the master sees it.
pub struct ReplicaLink {
    /// The client id of the replica's connection.
    pub client_id: u64,
    /// The replica's IP address.
    pub ip: String,
    /// The port the replica listens on (REPLCONF listening-port).
    pub listening_port: AtomicI64,
    /// The last offset the replica acknowledged (REPLCONF ACK).
    pub ack_offset: AtomicU64,
    /// When the last ACK arrived, unix ms.
    pub last_ack_ms: AtomicI64,
    /// True once the RDB was sent (state=online).
    online: AtomicBool,
    /// Stream bytes waiting for the sender thread, and "closed".
    outbox: Mutex<(Vec<u8>, bool)>,
    wake: Condvar,
    /// Bytes the sender thread took from the outbox and is still writing.
    writing_bytes: AtomicU64,
    /// After a streamed RDB (`$EOF:<mark>`) the stream waits for the
    /// replica's first ACK, as Redis's does: a replica may look for the
    /// mark only at the end of what it has read, so nothing may follow
    /// the RDB until the replica has read it all.
    held_until_ack: AtomicBool,
}

impl ReplicaLink {
    /// Queues stream bytes for the sender thread (never blocks on I/O).
    pub fn push(&self, bytes: &[u8]) {
        let mut o = lock(&self.outbox);
        if !o.1 {
            o.0.extend_from_slice(bytes);
            self.wake.notify_one();
        }
    }

    /// Bytes queued or being written (INFO mem_total_replication_buffers).
    pub fn queued_bytes(&self) -> u64 {
        lock(&self.outbox).0.len() as u64 + self.writing_bytes.load(Ordering::Relaxed)
    }

    fn is_closed(&self) -> bool {
        lock(&self.outbox).1
    }

    fn close(&self) {
        lock(&self.outbox).1 = true;
        self.wake.notify_all();
    }

    /// INFO's state: wait_bgsave while the RDB is being sent, then online.
    /// True once the replica got its RDB and follows the stream.
    pub fn is_online(&self) -> bool {
        self.online.load(Ordering::Relaxed)
    }

    pub fn state_name(&self) -> &'static str {
        if self.online.load(Ordering::Relaxed) {
            "online"
        } else {
            "wait_bgsave"
        }
    }

    /// The sender thread: writes the outbox until the link closes.
    fn send_loop(&self, stream: &TcpStream) {
        let mut stream = stream;
        loop {
            let data = {
                let mut o = lock(&self.outbox);
                while (o.0.is_empty() || self.held_until_ack.load(Ordering::Relaxed)) && !o.1 {
                    o = self.wake.wait(o).unwrap_or_else(|p| p.into_inner());
                }
                if o.1 {
                    return;
                }
                let data = std::mem::take(&mut o.0);
                self.writing_bytes
                    .store(data.len() as u64, Ordering::Relaxed);
                data
            };
            let written = stream.write_all(&data);
            self.writing_bytes.store(0, Ordering::Relaxed);
            if written.is_err() {
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
        }
    }
}

/// REPLCONF option value [option value ...] — simple string OK; ACK and
/// GETACK get no reply. Options: listening-port, ip-address, capa,
/// rdb-only, ack, getack.
pub fn replconf_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    if args.len().is_multiple_of(2) {
        return Err(CmdError::Syntax);
    }
    let mut i = 1;
    while i + 1 < args.len() {
        let option = String::from_utf8_lossy(args[i]).to_ascii_lowercase();
        let value = args[i + 1];
        match option.as_str() {
            "listening-port" => {
                let port = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.parse::<i64>().ok())
                    .ok_or(CmdError::NotInteger)?;
                lock(&ctx.server.repl.handshakes)
                    .entry(ctx.client.id)
                    .or_default()
                    .listening_port = port;
            }
            // An ACK outside a replica link (the link reads its own): ignore.
            "ack" | "getack" => return Ok(()),
            "capa" => {
                if value.eq_ignore_ascii_case(b"eof") {
                    lock(&ctx.server.repl.handshakes)
                        .entry(ctx.client.id)
                        .or_default()
                        .capa_eof = true;
                }
            }
            "ip-address" | "rdb-only" | "rdb-filter-only" => {}
            _ => {
                return Err(CmdError::err(format!(
                    "Unrecognized REPLCONF option: {}",
                    String::from_utf8_lossy(args[i])
                )))
            }
        }
        i += 2;
    }
    ctx.reply.ok();
    Ok(())
}

/// PSYNC replicationid offset — +CONTINUE, or +FULLRESYNC and the RDB; the
/// connection then carries the replication stream until it closes.
pub fn psync_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let Some(offset) = std::str::from_utf8(args[2])
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
    else {
        let port = lock(&ctx.server.repl.handshakes)
            .get(&ctx.client.id)
            .map_or(0, |h| h.listening_port);
        let ip = peer_ip(&ctx.client.info.addr);
        log::warn!("Replica {ip}:{port} asks for synchronization but with a wrong offset");
        return Err(CmdError::NotInteger);
    };
    serve_replica(ctx, Some((args[1].to_vec(), offset)))
}

/// The IP part of a client's `ip:port` address, as the replica's name in
/// the log and in INFO.
fn peer_ip(addr: &str) -> &str {
    addr.rsplit_once(':').map_or("?", |(ip, _)| ip)
}

/// SYNC — the old protocol: the RDB without a +FULLRESYNC line, then the
/// stream.
pub fn sync_command(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    serve_replica(ctx, None)
}

/// The backlog bytes a partial resync from `offset` sends; when a full
/// resync is needed instead, why (Redis's log line for it; `replica` names
/// the replica in it).
fn partial_from(
    server: &Server,
    replid: &[u8],
    offset: i64,
    f: &super::FeedState,
    replica: &str,
) -> Result<Vec<u8>, String> {
    let (id, id2, second) = lock(&server.repl.ids).clone();
    let asked = String::from_utf8_lossy(replid);
    if replid != id.as_bytes() && (replid != id2.as_bytes() || offset > second) {
        return Err(if replid == b"?" {
            format!("Full resync requested by replica {replica}")
        } else if replid != id2.as_bytes() {
            format!("Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '{asked}', my replication IDs are '{id}' and '{id2}')")
        } else {
            format!("Partial resynchronization not accepted: Requested offset for second ID was {offset}, but I can reply up to {second}")
        });
    }
    let histlen = f.backlog.bytes.len() as u64;
    let first = f.offset + 1 - histlen;
    let usable = u64::try_from(offset)
        .ok()
        .filter(|&o| f.backlog.active && o >= first.max(1) && o <= f.offset + 1);
    let Some(from) = usable else {
        let mut why = format!(
            "Unable to partial resync with replica {replica} for lack of backlog (Replica request was: {offset})."
        );
        if offset > f.offset as i64 {
            why.push_str(&format!("\nWarning: replica {replica} tried to PSYNC with an offset that is greater than the master replication offset."));
        }
        return Err(why);
    };
    let skip = (from - first) as usize;
    Ok(f.backlog.bytes.iter().skip(skip).copied().collect())
}

fn serve_replica(ctx: &mut Ctx, psync: Option<(Vec<u8>, i64)>) -> CmdResult {
    let server = ctx.server;
    if ctx.client.tx.queue.is_some() {
        return Err(CmdError::err("Command not allowed inside a transaction"));
    }
    if server.repl.is_replica() && !server.repl.link_up.load(Ordering::Relaxed) {
        return Err(CmdError::Raw(
            "NOMASTERLINK Can't SYNC while not connected with my master".into(),
        ));
    }
    let Some(stream) = ctx.client.info.stream.clone() else {
        return Err(CmdError::err("Replication needs a socket"));
    };
    // Replies of commands pipelined before PSYNC go first.
    if !ctx.reply.buf.is_empty() {
        (&*stream)
            .write_all(&ctx.reply.buf)
            .map_err(|e| CmdError::err(e.to_string()))?;
        ctx.reply.buf.clear();
    }
    let handshake = lock(&server.repl.handshakes)
        .remove(&ctx.client.id)
        .unwrap_or_default();
    let port = handshake.listening_port;
    // repl-diskless-sync: the RDB goes to the replica as it is produced,
    // ended by a mark instead of preceded by its length (which only a
    // finished RDB has), when the replica can read that.
    let streamed = handshake.capa_eof && server.config().get("repl-diskless-sync") == Some("yes");
    let ip = peer_ip(&ctx.client.info.addr).to_string();
    let link = Arc::new(ReplicaLink {
        client_id: ctx.client.id,
        ip,
        listening_port: AtomicI64::new(port),
        ack_offset: AtomicU64::new(0),
        last_ack_ms: AtomicI64::new(now_ms()),
        online: AtomicBool::new(false),
        outbox: Mutex::new((Vec::new(), false)),
        wake: Condvar::new(),
        writing_bytes: AtomicU64::new(0),
        held_until_ack: AtomicBool::new(false),
    });
    wait_diskless_delay(server, &stream, psync.as_ref());
    let lru = server
        .config()
        .get("maxmemory-policy")
        .is_some_and(|p| p.contains("lru"));
    let (header, snapshot) = {
        let store = server.store.read().unwrap_or_else(|p| p.into_inner());
        let mut f = lock(&server.repl.feed);
        let replica = format!("{}:{port}", link.ip);
        let partial = match psync
            .as_ref()
            .map(|(id, off)| partial_from(server, id, *off, &f, &replica))
        {
            Some(Ok(bytes)) => Some(bytes),
            Some(Err(why)) => {
                for line in why.lines() {
                    if line.starts_with("Warning") {
                        log::warn!("{line}");
                    } else {
                        log::info!("{line}");
                    }
                }
                None
            }
            None => None,
        };
        let mut replid = lock(&server.repl.ids).0.clone();
        let result = match partial {
            Some(bytes) => {
                server.repl.sync_partial_ok.fetch_add(1, Ordering::Relaxed);
                link.push(&bytes);
                link.online.store(true, Ordering::Relaxed);
                (format!("+CONTINUE {replid}\r\n"), None)
            }
            None => {
                server.repl.sync_full.fetch_add(1, Ordering::Relaxed);
                if psync.as_ref().is_some_and(|(id, _)| id.as_slice() != b"?") {
                    server.repl.sync_partial_err.fetch_add(1, Ordering::Relaxed);
                }
                if !f.backlog.active {
                    f.backlog.active = true;
                    server.repl.backlog_active.store(true, Ordering::Relaxed);
                    f.backlog.bytes.clear();
                    // A backlog made from scratch starts a new history, as
                    // in Redis: nothing before it can be continued from.
                    if !server.repl.is_replica() {
                        let mut ids = lock(&server.repl.ids);
                        *ids = (super::random_replid(), "0".repeat(40), -1);
                        replid = ids.0.clone();
                        log::info!(
                            "Replication backlog created, my new replication IDs are '{}' and '{}'",
                            ids.0,
                            ids.1
                        );
                    }
                }
                // The replica's master client starts in db 0.
                f.last_db = None;
                let dirty = server.dirty.load(Ordering::Relaxed);
                let snapshot = Snapshot::take(&store, now_ms(), dirty, lru);
                let header = match psync {
                    Some(_) => format!("+FULLRESYNC {replid} {}\r\n", f.offset),
                    None => String::new(),
                };
                (header, Some(snapshot))
            }
        };
        f.replicas.push(Arc::clone(&link));
        super::mark_replica_client(link.client_id, true);
        result
    };
    log::info!(
        "Replica {}:{} asks for synchronization",
        link.ip,
        link.listening_port.load(Ordering::Relaxed)
    );
    let killed = &ctx.client.info.killed;
    let sent = send_sync(
        server,
        &stream,
        &header,
        snapshot.as_ref(),
        killed,
        streamed,
    );
    if sent.is_ok() {
        if streamed && snapshot.is_some() {
            link.held_until_ack.store(true, Ordering::Relaxed);
        }
        link.online.store(true, Ordering::Relaxed);
        log::info!("Synchronization with replica {} succeeded", link.ip);
        let sender = {
            let link = Arc::clone(&link);
            let stream = Arc::clone(&stream);
            std::thread::Builder::new()
                .name(format!("replica-{}", link.client_id))
                .spawn(move || link.send_loop(&stream))
        };
        read_acks(server, &link, &stream, &ctx.client.info);
        link.close();
        if let Ok(sender) = sender {
            let _ = sender.join();
        }
    }
    lock(&server.repl.feed)
        .replicas
        .retain(|r| !Arc::ptr_eq(r, &link));
    super::mark_replica_client(link.client_id, false);
    link.close();
    log::info!("Connection with replica {} lost", link.ip);
    ctx.client.close_after_reply = true;
    Ok(())
}

/// repl-diskless-sync with a delay: Redis waits that long for more
/// replicas before the transfer starts, sending "\n" every second so the
/// replica knows we are alive (not while the server is blocked: DEBUG
/// SLEEP holds the store lock this takes).
fn wait_diskless_delay(server: &Server, stream: &TcpStream, psync: Option<&(Vec<u8>, i64)>) {
    let (diskless, delay_s) = {
        let c = server.config();
        (
            c.get("repl-diskless-sync") == Some("yes"),
            c.get_i64("repl-diskless-sync-delay").max(0) as u64,
        )
    };
    if !diskless || delay_s == 0 {
        return;
    }
    if let Some((id, off)) = psync {
        let f = lock(&server.repl.feed);
        if partial_from(server, id, *off, &f, "").is_ok() {
            return;
        }
    }
    let started = Instant::now();
    let mut last_newline = Instant::now();
    let mut s = stream;
    while started.elapsed() < Duration::from_secs(delay_s) {
        std::thread::sleep(Duration::from_millis(100));
        let _store = server.store.read().unwrap_or_else(|p| p.into_inner());
        if last_newline.elapsed() >= Duration::from_secs(1) {
            last_newline = Instant::now();
            if s.write_all(b"\n").is_err() {
                return;
            }
        }
    }
}

/// Writes the +FULLRESYNC / +CONTINUE line and the RDB payload.
/// Sends `header` and the RDB of `snapshot`; stops producing it as soon
/// as the replica's client is killed (CLIENT KILL, or the link failed).
fn send_sync(
    server: &Server,
    stream: &TcpStream,
    header: &str,
    snapshot: Option<&Snapshot>,
    killed: &std::sync::atomic::AtomicBool,
    streamed: bool,
) -> std::io::Result<()> {
    let mut s = stream;
    s.write_all(header.as_bytes())?;
    if let Some(snapshot) = snapshot {
        let (options, key_delay_us) = {
            let c = server.config();
            (
                crate::persistence::write_options(&c),
                c.get_i64("rdb-key-save-delay").max(0) as u64,
            )
        };
        // Producing the RDB is Redis's BGSAVE for replication: INFO shows
        // rdb_bgsave_in_progress meanwhile (unless a BGSAVE already runs).
        let flagged = server
            .rdb
            .bgsave_in_progress
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        let control = WriteControl {
            key_delay_us,
            abort: Some(killed),
            ..Default::default()
        };
        let sent = if streamed {
            let mark = super::random_replid();
            s.write_all(format!("$EOF:{mark}\r\n").as_bytes())?;
            snapshot
                .write_to(
                    std::io::BufWriter::with_capacity(64 * 1024, s),
                    options,
                    control,
                )
                .and_then(|mut out| {
                    out.write_all(mark.as_bytes())?;
                    out.flush()
                })
        } else {
            snapshot
                .write_to(Vec::new(), options, control)
                .and_then(|rdb| {
                    s.write_all(format!("${}\r\n", rdb.len()).as_bytes())?;
                    s.write_all(&rdb)
                })
        };
        if flagged {
            server
                .rdb
                .bgsave_in_progress
                .store(false, Ordering::Release);
        }
        sent?;
    }
    Ok(())
}

/// Reads what the replica sends (REPLCONF ACK) until the link closes.
fn read_acks(
    server: &Server,
    link: &ReplicaLink,
    stream: &TcpStream,
    client: &crate::client::ClientInfo,
) {
    let mut s = stream;
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 4096];
    let mut request = Request::new();
    let max_bulk = server.proto_max_bulk_len.load(Ordering::Relaxed) as usize;
    loop {
        let n = match s.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => n,
            // The client loop's idle-check read timeout may be set: a
            // silent replica (stopped, or just busy) is not a dead one.
            Err(e)
                if matches!(
                    e.kind(),
                    ErrorKind::WouldBlock | ErrorKind::TimedOut | ErrorKind::Interrupted
                ) && !link.is_closed() =>
            {
                continue
            }
            Err(_) => return,
        };
        buf.extend_from_slice(&chunk[..n]);
        let mut consumed = 0;
        while consumed < buf.len() {
            match parse_request(&buf[consumed..], max_bulk, &mut request) {
                Ok(Some(len)) => {
                    let keep = request.with_args(&buf[consumed..], |argv| {
                        handle_from_replica(link, argv, client)
                    });
                    if !keep {
                        return;
                    }
                    consumed += len;
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
        buf.drain(..consumed);
    }
}

/// One command from a replica on its replication link; false when the
/// link must close. REPLCONF is all a replica sends there: anything else
/// would have a reply, which would land in the replica's replication
/// stream, so Redis disconnects it instead (and a command on keys also
/// gets the error a replica's keyspace access does, logged as CRITICAL).
fn handle_from_replica(
    link: &ReplicaLink,
    argv: &[&[u8]],
    client: &crate::client::ClientInfo,
) -> bool {
    let Some(name) = argv.first() else {
        return true;
    };
    if !name.eq_ignore_ascii_case(b"replconf") {
        let (full_name, has_keys) = match crate::commands::lookup(name) {
            Some((_, command)) => (
                crate::commands::acl::full_name(command, argv),
                command.first_key > 0,
            ),
            None => (String::from_utf8_lossy(name).to_lowercase(), false),
        };
        if has_keys {
            log::warn!(
                "== CRITICAL == This master is sending an error to its replica: 'Replica can't interact with the keyspace' after processing the command '{full_name}'"
            );
        }
        let info = crate::commands::connection::client_line(client, now_ms());
        log::warn!("Replica generated a reply to command '{full_name}', disconnecting it: {info}");
        link.close();
        return false;
    }
    if let [_, sub, offset, ..] = argv {
        if sub.eq_ignore_ascii_case(b"ack") {
            if let Some(o) = std::str::from_utf8(offset)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
            {
                link.ack_offset.fetch_max(o, Ordering::Relaxed);
                link.last_ack_ms.store(now_ms(), Ordering::Relaxed);
                if link.held_until_ack.load(Ordering::Relaxed) {
                    let _outbox = lock(&link.outbox);
                    link.held_until_ack.store(false, Ordering::Relaxed);
                    link.wake.notify_one();
                }
            }
        }
    }
    true
}

/// Feeds one command for every database (PING, REPLCONF GETACK) in order
/// with the writes: under the store write lock.
fn feed_global(server: &Server, args: &[&[u8]]) {
    let _store = server.store.write().unwrap_or_else(|p| p.into_inner());
    let args: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
    feed(server, &[(usize::MAX, args)]);
}

/// WAIT numreplicas timeout — integer reply: how many replicas acknowledged
/// every write made so far (waiting up to `timeout` ms, 0 = forever).
pub fn wait_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let parse = |a: &[u8]| {
        std::str::from_utf8(a)
            .ok()
            .and_then(|v| v.parse::<i64>().ok())
    };
    let wanted = parse(args[1]).ok_or(CmdError::NotInteger)?;
    let timeout_ms =
        parse(args[2]).ok_or_else(|| CmdError::err("timeout is not an integer or out of range"))?;
    if timeout_ms < 0 {
        return Err(CmdError::err("timeout is negative"));
    }
    let server = ctx.server;
    if server.repl.is_replica() {
        return Err(CmdError::err("WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated."));
    }
    let target = server.repl.offset();
    let count = || {
        server
            .repl
            .replicas()
            .iter()
            .filter(|r| r.ack_offset.load(Ordering::Relaxed) >= target)
            .count() as i64
    };
    let mut acked = count();
    if acked < wanted && !ctx.in_exec && !ctx.in_script {
        feed_global(server, &[b"REPLCONF", b"GETACK", b"*"]);
        let started = Instant::now();
        loop {
            acked = count();
            if acked >= wanted
                || (timeout_ms > 0 && started.elapsed() >= Duration::from_millis(timeout_ms as u64))
                || ctx.client.info.killed.load(Ordering::Relaxed)
                || server.shutdown.load(Ordering::Relaxed)
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(WAIT_POLL_MS));
        }
    }
    ctx.reply.integer(acked);
    Ok(())
}

/// The `repl-cron` thread: a PING to the replicas every
/// repl-ping-replica-period seconds, so they can tell a silent master from
/// a dead one.
pub fn cron(server: &Arc<Server>) {
    let mut last_ping = Instant::now();
    while !server.shutdown.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        let period_s = server.config().get_i64("repl-ping-replica-period").max(1) as u64;
        if last_ping.elapsed() < Duration::from_secs(period_s) {
            continue;
        }
        last_ping = Instant::now();
        if !server.repl.is_replica() && !server.repl.replicas().is_empty() {
            feed_global(server, &[b"PING"]);
        }
    }
}
