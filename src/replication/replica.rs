//! The replica side: REPLICAOF and the `replication` thread.
//!
//! ```text
//! REPLICAOF host port      -> generation += 1, spawn `replication`
//! replication thread (until its generation is outdated):
//!   connect (from bind-source-addr when set)
//!   PING                   <- +PONG (or -NOAUTH: fine, AUTH follows)
//!   AUTH [masteruser] masterauth           <- +OK
//!   REPLCONF listening-port <port>         <- +OK
//!   REPLCONF capa eof capa psync2          <- +OK
//!   PSYNC <replid> <offset+1>  (after a first sync) or PSYNC ? -1
//!     <- +CONTINUE [replid]                  keep our data, stream on
//!     <- +FULLRESYNC <replid> <offset>       then "\n" keep-alives and
//!        $<len>\r\n<RDB>  or  $EOF:<40-byte mark>\r\n<RDB><mark>
//!        RDB -> temp file (as it arrives) -> fresh Store -> swapped in
//!        under the write lock, with the master's function libraries;
//!        meanwhile clients get LOADING, or, under repl-diskless-load
//!        swapdb from the master already followed, the old data
//!        (async loading)
//!   stream: each command runs as the master client (replies dropped;
//!     an error is logged, see `error_from_master`);
//!     REPLCONF GETACK -> REPLCONF ACK <offset>; an ACK every second anyway
//!   on any error: link down, retry after a second
//! REPLICAOF NO ONE         -> generation += 1, socket closed, new replid
//! ```
//!
//! The replica's offset counts the stream bytes it applied; the same bytes
//! are forwarded to its own replicas (`feed_raw`), so replicas can chain.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{feed_raw, lock, random_replid, MasterAddr, APPLYING};
use crate::commands::{self, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::resp::{parse_request, ReplyBuf, Request};
use crate::server::Server;
use crate::store::Store;
use crate::util::now_ms;

/// How often the replica acknowledges its offset to the master.
const ACK_PERIOD_MS: u64 = 1000;
/// Wait between two connection attempts.
const RETRY_MS: u64 = 1000;

/// REPLICAOF host port | REPLICAOF NO ONE — simple string OK.
pub fn replicaof_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let server = ctx.server;
    if args[1].eq_ignore_ascii_case(b"no") && args[2].eq_ignore_ascii_case(b"one") {
        if server.repl.is_replica() {
            promote(server);
            log::info!(
                "MASTER MODE enabled (user request from 'id={}')",
                ctx.client.id
            );
        }
        ctx.reply.ok();
        return Ok(());
    }
    let port = std::str::from_utf8(args[2])
        .ok()
        .and_then(|p| p.parse::<i64>().ok())
        .filter(|p| (0..=65535).contains(p))
        .ok_or_else(|| CmdError::err("Invalid master port"))? as u16;
    let host = String::from_utf8_lossy(args[1]).to_string();
    let wanted = MasterAddr {
        host: host.clone(),
        port,
    };
    if server.repl.master().as_ref() == Some(&wanted) {
        ctx.reply.simple("OK Already connected to specified master");
        return Ok(());
    }
    become_replica(server, &host, port);
    log::info!(
        "REPLICAOF {host}:{port} enabled (user request from 'id={}')",
        ctx.client.id
    );
    ctx.reply.ok();
    Ok(())
}

/// Closes the link to the current master (if any) and stops its thread.
/// A command of the master's stream being applied right now is finished
/// first (counted in the offset and forwarded to our replicas), so a
/// promoted replica's history ends exactly where its data does; the
/// thread applies nothing after seeing the new generation. (The wait is
/// bounded: REPLICAOF inside EXEC holds the store lock that command may
/// be waiting for.)
fn drop_link(server: &Server) {
    server.repl.generation.fetch_add(1, Ordering::SeqCst);
    for _ in 0..500 {
        if !server.repl.applying_now.load(Ordering::SeqCst) {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    if let Some(s) = lock(&server.repl.master_stream).take() {
        let _ = s.shutdown(Shutdown::Both);
    }
    mark_link_down(server);
}

/// Records that the link to the master is down (INFO master_link_status,
/// master_link_down_since_seconds) and no sync is in progress.
fn mark_link_down(server: &Server) {
    if server.repl.link_up.swap(false, Ordering::Relaxed) {
        server
            .repl
            .link_down_since_ms
            .store(now_ms(), Ordering::Relaxed);
    }
    server.repl.sync_in_progress.store(false, Ordering::Relaxed);
}

/// Disconnects our own replicas (they resync after our data changed).
fn disconnect_replicas(server: &Server) {
    let ids: Vec<u64> = server.repl.replicas().iter().map(|r| r.client_id).collect();
    for info in server.client_infos() {
        if ids.contains(&info.id) {
            info.kill();
        }
    }
}

/// REPLICAOF NO ONE: keeps the data, starts a new replication history
/// (the old ID stays valid up to our offset, for our replicas' PSYNC).
pub fn promote(server: &Server) {
    // The link first: a command the replication thread applies while we
    // already count as a master would also be fed as our own write.
    drop_link(server);
    server.repl.set_master(None);
    record_master(server, "");
    if let Err(e) = crate::oom::apply(server) {
        log::warn!("{e}");
    }
    *lock(&server.repl.link_state) = "connect";
    let offset = server.repl.offset();
    {
        let mut ids = lock(&server.repl.ids);
        ids.1 = std::mem::replace(&mut ids.0, random_replid());
        ids.2 = offset as i64 + 1;
    }
    // Our replicas learn the new ID by reconnecting: a partial resync
    // (their ID is our second one) answers +CONTINUE <new ID>.
    disconnect_replicas(server);
}

/// Keeps the `replicaof` setting in step with REPLICAOF, so CONFIG
/// REWRITE writes the current master (none: no line), as Redis does.
fn record_master(server: &Server, master: &str) {
    let mut config = server.config.write().unwrap_or_else(|p| p.into_inner());
    if let Err(e) = config.set("replicaof", master, true) {
        log::warn!("replicaof not recorded in the configuration: {}", e.0);
    }
}

/// Starts replicating `host:port` in a new `replication` thread.
pub fn become_replica(server: &Arc<Server>, host: &str, port: u16) {
    record_master(server, &format!("{host} {port}"));
    server.repl.set_master(Some(MasterAddr {
        host: host.to_string(),
        port,
    }));
    if let Err(e) = crate::oom::apply(server) {
        log::warn!("{e}");
    }
    drop_link(server);
    // Our own replicas stay until a full sync replaces our data (Redis 7):
    // a partial resync keeps their history valid.
    // Redis unblocks clients blocked on keys: data now comes from the
    // master, and a pop served here would desynchronize us.
    for info in server.client_infos() {
        if server.blocking.is_blocked(info.id) {
            server.blocking.unblock(info.id, true);
        }
    }
    *lock(&server.repl.link_state) = "connect";
    server
        .repl
        .link_down_since_ms
        .store(now_ms(), Ordering::Relaxed);
    let generation = server.repl.generation.load(Ordering::SeqCst);
    let s = Arc::clone(server);
    let spawned = std::thread::Builder::new()
        .name("replication".into())
        .spawn(move || run(&s, generation));
    if let Err(e) = spawned {
        log::warn!("could not start the replication thread: {e}");
    }
}

fn current(server: &Server, generation: u64) -> bool {
    server.repl.generation.load(Ordering::SeqCst) == generation
}

/// The replication thread: sync, stream, and retry until REPLICAOF changes.
fn run(server: &Arc<Server>, generation: u64) {
    APPLYING.with(|a| a.set(true));
    // After a first full sync, reconnections try PSYNC from our offset.
    let mut synced_once = server.repl.resume_psync.swap(false, Ordering::Relaxed);
    while current(server, generation) && !server.shutdown.load(Ordering::Relaxed) {
        if let Err(e) = sync_once(server, generation, &mut synced_once) {
            if current(server, generation) {
                log::warn!("Replication with master failed: {e}");
            }
        }
        if !current(server, generation) {
            return;
        }
        *lock(&server.repl.master_stream) = None;
        mark_link_down(server);
        *lock(&server.repl.link_state) = "connect";
        std::thread::sleep(Duration::from_millis(RETRY_MS));
    }
}

/// Connects to the master, from `source` when bind-source-addr is set.
fn connect(addr: &MasterAddr, source: &str, timeout: Duration) -> std::io::Result<TcpStream> {
    let target = (addr.host.as_str(), addr.port)
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| std::io::Error::other("cannot resolve the master's address"))?;
    if source.is_empty() {
        return TcpStream::connect_timeout(&target, timeout);
    }
    let source: std::net::IpAddr = source
        .parse()
        .map_err(|_| std::io::Error::other("bad bind-source-addr"))?;
    connect_from(SocketAddr::new(source, 0), target)
}

/// A TCP connection bound to `source` first (std cannot bind before
/// connecting; IPv4 only).
fn connect_from(source: SocketAddr, target: SocketAddr) -> std::io::Result<TcpStream> {
    use std::os::fd::FromRawFd;
    let (SocketAddr::V4(src), SocketAddr::V4(dst)) = (source, target) else {
        return Err(std::io::Error::other("bind-source-addr supports IPv4 only"));
    };
    let sockaddr = |a: std::net::SocketAddrV4| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(a.ip().octets()),
        },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: a fresh socket owned by the TcpStream right away (closed on
    // drop); the sockaddr_in values live across the calls that read them.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let stream = TcpStream::from_raw_fd(fd);
        let s = sockaddr(src);
        if libc::bind(fd, &s as *const _ as *const libc::sockaddr, len) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let d = sockaddr(dst);
        if libc::connect(fd, &d as *const _ as *const libc::sockaddr, len) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(stream)
    }
}

/// Buffered reading from the master's socket.
struct Link {
    stream: Arc<TcpStream>,
    buf: Vec<u8>,
}

impl Link {
    fn send(&self, args: &[&[u8]]) -> std::io::Result<()> {
        let mut out = Vec::new();
        crate::persistence::aof::encode_command(&mut out, args);
        (&*self.stream).write_all(&out)
    }

    fn fill(&mut self) -> std::io::Result<usize> {
        let mut chunk = [0u8; 16 * 1024];
        let n = loop {
            // SIGSTOP/SIGCONT (the test suite pauses replicas) gives EINTR.
            match (&*self.stream).read(&mut chunk) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                other => break other?,
            }
        };
        if n == 0 {
            return Err(std::io::Error::other("connection closed by the master"));
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(n)
    }

    /// One line, without its CRLF (or LF).
    fn line(&mut self) -> std::io::Result<String> {
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.buf.drain(..=pos).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(String::from_utf8_lossy(&line).to_string());
            }
            self.fill()?;
        }
    }

    fn command(&mut self, args: &[&[u8]]) -> std::io::Result<String> {
        self.send(args)?;
        self.line()
    }
}

fn sync_once(server: &Arc<Server>, generation: u64, synced_once: &mut bool) -> std::io::Result<()> {
    let Some(addr) = server.repl.master() else {
        return Ok(());
    };
    *lock(&server.repl.link_state) = "connecting";
    log::info!("Connecting to MASTER {}:{}", addr.host, addr.port);
    let (source, timeout_s) = {
        let c = server.config();
        (
            c.get("bind-source-addr").unwrap_or("").to_string(),
            c.get_i64("repl-timeout").max(1) as u64,
        )
    };
    let stream = Arc::new(connect(&addr, &source, Duration::from_secs(timeout_s))?);
    let _ = stream.set_nodelay(true);
    stream.set_read_timeout(Some(Duration::from_secs(timeout_s)))?;
    *lock(&server.repl.master_stream) = Some(Arc::clone(&stream));
    if !current(server, generation) {
        return Ok(());
    }
    *lock(&server.repl.link_state) = "handshake";
    log::info!("MASTER <-> REPLICA sync started");
    let mut link = Link {
        stream,
        buf: Vec::new(),
    };
    handshake(server, generation, &mut link, synced_once, timeout_s).map_err(|e| {
        if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) {
            let state = *lock(&server.repl.link_state);
            let text = if state == "sync" {
                "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value."
            } else {
                "Timeout connecting to the MASTER..."
            };
            std::io::Error::other(text)
        } else {
            e
        }
    })?;
    server.repl.sync_in_progress.store(false, Ordering::Relaxed);
    server.repl.link_up.store(true, Ordering::Relaxed);
    server.repl.last_io_ms.store(now_ms(), Ordering::Relaxed);
    *lock(&server.repl.link_state) = "connected";
    stream_commands(server, generation, &mut link, timeout_s)
}

/// PING, AUTH, REPLCONF, PSYNC and (on a full resync) the RDB.
fn handshake(
    server: &Arc<Server>,
    generation: u64,
    link: &mut Link,
    synced_once: &mut bool,
    timeout_s: u64,
) -> std::io::Result<()> {
    let (auth, user, port) = {
        let c = server.config();
        (
            c.get("masterauth").unwrap_or("").to_string(),
            c.get("masteruser").unwrap_or("").to_string(),
            c.get_i64("port"),
        )
    };
    let pong = link.command(&[b"PING"])?;
    if pong.starts_with('-')
        && !pong.starts_with("-NOAUTH")
        && !pong.starts_with("-NOPERM")
        && !pong.starts_with("-ERR operation not permitted")
    {
        return Err(std::io::Error::other(format!(
            "Error reply to PING from master: '{pong}'"
        )));
    }
    if !auth.is_empty() {
        let reply = if user.is_empty() {
            link.command(&[b"AUTH", auth.as_bytes()])?
        } else {
            link.command(&[b"AUTH", user.as_bytes(), auth.as_bytes()])?
        };
        if reply.starts_with('-') {
            return Err(std::io::Error::other(format!(
                "Unable to AUTH to MASTER: {reply}"
            )));
        }
    }
    let port_text = port.to_string();
    link.command(&[b"REPLCONF", b"listening-port", port_text.as_bytes()])?;
    link.command(&[b"REPLCONF", b"capa", b"eof", b"capa", b"psync2"])?;
    let (replid, offset) = (lock(&server.repl.ids).0.clone(), server.repl.offset());
    // As Redis's PSYNC2: always offer our own history (a replica's is
    // its master's; a former master's its own); the master decides.
    let next = (offset + 1).to_string();
    link.send(&[b"PSYNC", replid.as_bytes(), next.as_bytes()])?;
    // A master preparing the RDB sends "\n" keep-alives first.
    let reply = loop {
        let line = link.line()?;
        if !line.is_empty() {
            break line;
        }
    };
    let _ = timeout_s;
    if let Some(rest) = reply.strip_prefix("+FULLRESYNC ") {
        let mut parts = rest.split_whitespace();
        let id = parts.next().unwrap_or("").to_string();
        let master_offset: u64 = parts.next().and_then(|o| o.parse().ok()).unwrap_or(0);
        log::info!("Full resync from master: {id}:{master_offset}");
        *lock(&server.repl.link_state) = "sync";
        server.repl.sync_in_progress.store(true, Ordering::Relaxed);
        // With repl-diskless-load, Redis loads straight from the socket, so
        // the replica is LOADING from +FULLRESYNC on (a master sends it when
        // the transfer starts, after repl-diskless-sync-delay); we still
        // receive it whole first, but answer as Redis does. If the transfer
        // fails, the old data is served again. Under swapdb, a sync from
        // the history the replica already follows loads in the background
        // instead (async loading): the old data, an earlier point of the
        // same history, stays served until the new is swapped in.
        let load_mode = server
            .config()
            .get("repl-diskless-load")
            .unwrap_or("disabled")
            .to_string();
        let in_background = load_mode == "swapdb" && id == lock(&server.repl.ids).0;
        let diskless_load = load_mode != "disabled" && !in_background;
        // Libraries staged by an earlier load belong to the current data:
        // compiled now, they stay apart from the ones this load stages.
        crate::scripting::function::apply_staged(server);
        let _async_loading = AsyncLoading::begin(server, in_background);
        if diskless_load {
            server.loading.begin(0);
        }
        // The RDB goes to a temporary file as it arrives (Redis's
        // disk-based load), never whole into memory.
        let temp = payload_path(server);
        let received =
            std::fs::File::create(&temp).and_then(|mut file| receive_payload(link, &mut file));
        if diskless_load && (received.is_err() || !current(server, generation)) {
            server.loading.end();
        }
        let size = match received {
            Ok(size) if current(server, generation) => size,
            other => {
                let _ = std::fs::remove_file(&temp);
                return other.map(|_| ());
            }
        };
        load_payload(server, &temp, size, in_background)?;
        {
            let mut f = lock(&server.repl.feed);
            f.offset = master_offset;
            f.backlog.active = true;
            server.repl.backlog_active.store(true, Ordering::Relaxed);
            f.backlog.bytes.clear();
            f.last_db = None;
        }
        // The master's stream for us begins with a SELECT.
        server.repl.master_db.store(0, Ordering::Relaxed);
        *lock(&server.repl.ids) = (id, "0".repeat(40), -1);
        disconnect_replicas(server);
        *synced_once = true;
        log::info!("MASTER <-> REPLICA sync: Finished with success");
    } else if let Some(rest) = reply.strip_prefix("+CONTINUE") {
        let new_id = rest.trim();
        let changed = {
            let mut ids = lock(&server.repl.ids);
            let changed = !new_id.is_empty() && new_id != ids.0;
            if changed {
                ids.1 = std::mem::replace(&mut ids.0, new_id.to_string());
                ids.2 = offset as i64 + 1;
            }
            changed
        };
        log::info!("Successful partial resynchronization with master.");
        if changed {
            // Our replicas must learn the new ID too, or they would go on
            // with the old one, which is valid only up to this offset.
            log::warn!("Master replication ID changed to {new_id}");
            disconnect_replicas(server);
        }
    } else {
        return Err(std::io::Error::other(format!(
            "Unexpected reply to PSYNC from master: {reply}"
        )));
    }
    Ok(())
}

/// Where the RDB from the master is received: a temporary file beside
/// the dump file, renamed over it once loaded.
fn payload_path(server: &Server) -> std::path::PathBuf {
    let path = crate::persistence::rdb_path(&server.config());
    path.with_file_name(format!("temp-{}-repl.rdb", std::process::id()))
}

/// Receives the RDB payload after +FULLRESYNC (skipping "\n" keep-alives)
/// into `file` as it arrives, and returns its size. Two framings:
/// `$<len>\r\n<RDB>`, and from a master streaming a diskless sync
/// `$EOF:<40-byte mark>\r\n<RDB><mark>`, whose end is found by looking
/// for the mark in what arrives.
fn receive_payload(link: &mut Link, file: &mut std::fs::File) -> std::io::Result<u64> {
    let header = loop {
        let line = link.line()?;
        if !line.is_empty() {
            break line;
        }
    };
    let Some(spec) = header.strip_prefix('$') else {
        return Err(std::io::Error::other(format!(
            "Bad protocol from MASTER: {header}"
        )));
    };
    if let Some(mark) = spec.strip_prefix("EOF:") {
        let mark = mark.as_bytes();
        if mark.len() != 40 {
            return Err(std::io::Error::other(format!(
                "Bad protocol from MASTER: {header}"
            )));
        }
        log::info!("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
        // Bytes written to the file so far; the last of them (fewer than
        // the mark's length) are kept in `tail`, where a mark split across
        // two reads begins.
        let mut size: u64 = 0;
        let mut tail: Vec<u8> = Vec::with_capacity(2 * mark.len());
        loop {
            if !link.buf.is_empty() {
                let carried = tail.len();
                tail.extend_from_slice(&link.buf);
                if let Some(at) = tail.windows(mark.len()).position(|w| w == mark) {
                    // The payload ends where the mark begins; anything after
                    // the mark is already the replication stream.
                    if at > carried {
                        file.write_all(&link.buf[..at - carried])?;
                    }
                    let payload = size + at as u64 - carried as u64;
                    file.set_len(payload)?;
                    link.buf.drain(..at + mark.len() - carried);
                    return Ok(payload);
                }
                file.write_all(&link.buf)?;
                size += link.buf.len() as u64;
                link.buf.clear();
                let keep_from = tail.len().saturating_sub(mark.len() - 1);
                tail.drain(..keep_from);
            }
            link.fill()?;
        }
    }
    let len: u64 = spec
        .parse()
        .map_err(|_| std::io::Error::other(format!("Bad payload length: {spec}")))?;
    log::info!("MASTER <-> REPLICA sync: receiving {len} bytes from master to disk");
    let mut left = len;
    loop {
        // Bytes after the payload are the replication stream: they stay.
        let take = link
            .buf
            .len()
            .min(usize::try_from(left).unwrap_or(usize::MAX));
        file.write_all(&link.buf[..take])?;
        link.buf.drain(..take);
        left -= take as u64;
        if left == 0 {
            return Ok(len);
        }
        link.fill()?;
    }
}

/// Loads the received RDB (`size` bytes at `temp`) into a fresh store and
/// swaps that in (Redis's disk-based load); the file then becomes the dump
/// file.
fn load_payload(
    server: &Server,
    temp: &std::path::Path,
    size: u64,
    in_background: bool,
) -> std::io::Result<()> {
    let (path, databases, verify, limits) = {
        let c = server.config();
        (
            crate::persistence::rdb_path(&c),
            c.get_i64("databases").max(1) as usize,
            c.get_bool("rdbchecksum"),
            crate::persistence::write_options(&c).limits,
        )
    };
    log::info!("MASTER <-> REPLICA sync: Flushing old data");
    log::info!("MASTER <-> REPLICA sync: Loading DB in memory");
    let mut store = Store::new(databases);
    // Clients get -LOADING until the new data is in, as from Redis's
    // disk-based load (INFO shows the progress; key-load-delay applies),
    // unless the old data stays served meanwhile.
    if !in_background {
        server.loading.begin(size);
    }
    let mut progress = |keys, bytes| server.loading.progress(keys, bytes);
    let loaded = crate::persistence::load_observed(
        temp,
        &mut store,
        now_ms(),
        verify,
        &limits,
        &mut progress,
    );
    if let Err(e) = loaded {
        crate::scripting::function::discard_staged();
        server.loading.end();
        let _ = std::fs::remove_file(temp);
        return Err(std::io::Error::other(e.to_string()));
    }
    let _ = std::fs::rename(temp, &path);
    {
        let mut live = server.store.write().unwrap_or_else(|p| p.into_inner());
        *live = store;
        crate::scripting::function::replace_all_with_staged(server);
    }
    server.loading.end();
    Ok(())
}

/// Sets [`Replication::async_loading`](super::Replication) for the life
/// of a full sync loaded in the background, whichever way the sync ends.
struct AsyncLoading<'a>(Option<&'a Server>);

impl<'a> AsyncLoading<'a> {
    fn begin(server: &'a Server, on: bool) -> Self {
        server.repl.async_loading.store(on, Ordering::Relaxed);
        AsyncLoading(on.then_some(server))
    }
}

impl Drop for AsyncLoading<'_> {
    fn drop(&mut self) {
        if let Some(server) = self.0 {
            server.repl.async_loading.store(false, Ordering::Relaxed);
        }
    }
}

/// The master link in the clients table while it streams: CLIENT LIST
/// shows it (flag M, the master's address), CLIENT KILL closes its socket,
/// which ends the stream; the replica then reconnects with PSYNC.
struct MasterClient<'a> {
    server: &'a Server,
    id: u64,
}

impl<'a> MasterClient<'a> {
    fn list(server: &'a Server, client: &crate::client::ClientState) -> Self {
        // Redis's master client has no ACL user: CLIENT LIST says so.
        *lock(&client.info.user) = "(superuser)".into();
        lock(&server.clients).insert(client.id, Arc::clone(&client.info));
        super::set_master_client(client.id);
        MasterClient {
            server,
            id: client.id,
        }
    }
}

impl Drop for MasterClient<'_> {
    fn drop(&mut self) {
        lock(&self.server.clients).remove(&self.id);
        super::clear_master_client(self.id);
    }
}

/// Applies the master's command stream until the link fails or REPLICAOF
/// changes.
fn stream_commands(
    server: &Arc<Server>,
    generation: u64,
    link: &mut Link,
    timeout_s: u64,
) -> std::io::Result<()> {
    link.stream
        .set_read_timeout(Some(Duration::from_millis(ACK_PERIOD_MS)))?;
    let address =
        |a: std::io::Result<SocketAddr>| a.map_or_else(|_| "?:0".into(), |a| a.to_string());
    let mut client = crate::client::client_without_thread(
        server,
        address(link.stream.peer_addr()),
        address(link.stream.local_addr()),
        Some(Arc::clone(&link.stream)),
    );
    let _listed = MasterClient::list(server, &client);
    client.select(server.repl.master_db.load(Ordering::Relaxed));
    let mut reply = ReplyBuf::new();
    let mut request = Request::new();
    let max_bulk = server.proto_max_bulk_len.load(Ordering::Relaxed) as usize;
    let mut last_ack = Instant::now() - Duration::from_secs(1);
    loop {
        if !current(server, generation) {
            return Ok(());
        }
        if client.info.killed.load(Ordering::Relaxed) {
            return Err(std::io::Error::other(
                "the master link was killed (CLIENT KILL)",
            ));
        }
        let mut consumed = 0;
        while consumed < link.buf.len() {
            let pending = &link.buf[consumed..];
            let len = match parse_request(pending, max_bulk, &mut request) {
                Ok(Some(len)) => len,
                Ok(None) => break,
                Err(e) => return Err(std::io::Error::other(format!("{e:?}"))),
            };
            let raw = &pending[..len];
            // See drop_link: either REPLICAOF sees this command in flight
            // and waits for it, or this thread sees REPLICAOF's generation.
            server.repl.applying_now.store(true, Ordering::SeqCst);
            if !current(server, generation) {
                server.repl.applying_now.store(false, Ordering::SeqCst);
                return Ok(());
            }
            let getack = request.with_args(pending, |argv| {
                let getack = matches!(argv, [n, s, ..] if n.eq_ignore_ascii_case(b"replconf")
                    && s.eq_ignore_ascii_case(b"getack"));
                if !getack && !argv.is_empty() {
                    let mut ctx = Ctx::new(server, &mut client, &mut reply);
                    commands::execute(&mut ctx, argv);
                }
                getack
            });
            reply.buf.clear();
            server.repl.master_db.store(client.db, Ordering::Relaxed);
            feed_raw(server, raw);
            server.repl.applying_now.store(false, Ordering::SeqCst);
            consumed += len;
            if getack {
                send_ack(server, link)?;
                last_ack = Instant::now();
            }
        }
        link.buf.drain(..consumed);
        if last_ack.elapsed() >= Duration::from_millis(ACK_PERIOD_MS) {
            send_ack(server, link)?;
            last_ack = Instant::now();
        }
        match link.fill() {
            Ok(_) => server.repl.last_io_ms.store(now_ms(), Ordering::Relaxed),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                let idle_ms = now_ms() - server.repl.last_io_ms.load(Ordering::Relaxed);
                if idle_ms > (timeout_s as i64) * 1000 {
                    return Err(std::io::Error::other(
                        "MASTER timeout: no data nor PING received",
                    ));
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// How much of the backlog's end the divergence report shows.
const BACKLOG_DUMP_BYTES: usize = 256;

/// A command from the master failed here (Redis's `afterErrorReply` for
/// the master client). The master's data and ours have diverged (DEBUG
/// REPLICATE, a write on a writable replica), and a replica sends its
/// master no replies, so it says so in its log, with the end of its
/// backlog (the commands before this one), and counts it in INFO's
/// `unexpected_error_replies`. Under `propagation-error-behavior panic`
/// or `panic-on-replicas` it stops the server instead of diverging further.
pub fn error_from_master(server: &Server, command: Option<&str>, error: &str) {
    server
        .stats
        .unexpected_error_replies
        .fetch_add(1, Ordering::Relaxed);
    // Redis shows a plain error without its "ERR" and any other with its
    // code, the way each reaches its reply code.
    let shown = match error.strip_prefix("ERR ") {
        Some(message) => message.to_string(),
        None => format!("-{error}"),
    };
    let name = command.unwrap_or("<unknown>");
    log::warn!(
        "== CRITICAL == This replica is sending an error to its master: '{shown}' after processing the command '{name}'"
    );
    let tail: Vec<u8> = {
        let feed = lock(&server.repl.feed);
        let bytes = &feed.backlog.bytes;
        let skip = bytes.len().saturating_sub(BACKLOG_DUMP_BYTES);
        bytes.iter().skip(skip).copied().collect()
    };
    if !tail.is_empty() {
        let mut dump = String::new();
        crate::monitor::push_repr(&mut dump, &tail);
        log::warn!("Latest backlog is: '{dump}'");
    }
    // Only a read-only replica panics: on a writable one the master's
    // command may fail for what the replica's own clients wrote (Redis).
    let panic = {
        let c = server.config();
        c.get("propagation-error-behavior").unwrap_or("ignore") != "ignore"
            && c.get_bool("replica-read-only")
    };
    if panic {
        log::error!(
            "This replica panicked sending an error to its master after processing the command '{name}'"
        );
        log::logger().flush();
        std::process::abort();
    }
}

fn send_ack(server: &Server, link: &Link) -> std::io::Result<()> {
    let offset = server.repl.offset().to_string();
    link.send(&[b"REPLCONF", b"ACK", offset.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// `sent` written to a loopback socket in the given pieces, a moment
    /// apart (so the reader tends to see them as separate reads); returns
    /// the file `receive_payload` wrote and what stayed in the link.
    fn receive(pieces: &[&[u8]]) -> (std::io::Result<u64>, Vec<u8>, Vec<u8>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let owned: Vec<Vec<u8>> = pieces.iter().map(|p| p.to_vec()).collect();
        let writer = std::thread::spawn(move || {
            let mut out = TcpStream::connect(addr).expect("connect");
            for piece in owned {
                out.write_all(&piece).expect("write");
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        let (stream, _) = listener.accept().expect("accept");
        let mut link = Link {
            stream: Arc::new(stream),
            buf: Vec::new(),
        };
        let path = std::env::temp_dir().join(format!(
            "ferredis-payload-{}-{:?}.rdb",
            std::process::id(),
            std::thread::current().id()
        ));
        let mut file = std::fs::File::create(&path).expect("file");
        let result = receive_payload(&mut link, &mut file);
        writer.join().expect("writer");
        let written = std::fs::read(&path).expect("read");
        let _ = std::fs::remove_file(&path);
        (result, written, link.buf)
    }

    const MARK: &[u8] = b"0123456789abcdef0123456789abcdef01234567";

    #[test]
    fn a_length_framed_payload_leaves_the_stream_after_it() {
        let (size, file, rest) = receive(&[b"\n\n$5\r\nhel", b"lo*1\r\n$4\r\nPING\r\n"]);
        assert_eq!(size.expect("payload"), 5);
        assert_eq!(file, b"hello");
        assert_eq!(rest, b"*1\r\n$4\r\nPING\r\n");
    }

    #[test]
    fn an_eof_framed_payload_ends_at_its_mark_even_split_across_reads() {
        let header = [b"$EOF:".as_slice(), MARK, b"\r\n"].concat();
        let payload = vec![b'x'; 40_000];
        // The mark split in two, and stream bytes right after it.
        let (first, second) = MARK.split_at(17);
        let after = [second, b"+PING\r\n"].concat();
        let body = [payload.as_slice(), first].concat();
        let (size, file, rest) = receive(&[&header, &body, &after]);
        assert_eq!(size.expect("payload"), 40_000);
        assert_eq!(file, payload);
        assert_eq!(rest, b"+PING\r\n");
        // The mark arriving whole, last.
        let all = [header.as_slice(), b"abc", MARK].concat();
        let (size, file, rest) = receive(&[&all]);
        assert_eq!(size.expect("payload"), 3);
        assert_eq!(file, b"abc");
        assert!(rest.is_empty());
    }

    #[test]
    fn a_short_mark_or_a_closed_link_is_an_error() {
        let (size, _, _) = receive(&[b"$EOF:short\r\nabc"]);
        assert!(size.is_err());
        let header = [b"$EOF:".as_slice(), MARK, b"\r\n"].concat();
        let (size, _, _) = receive(&[&header, b"no mark"]);
        assert!(size.is_err());
    }
}
