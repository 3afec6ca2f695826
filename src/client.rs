//! One client's life: read, parse every complete request, run it, write
//! all the replies back in one go.
//!
//! Each connection is served by its own thread running [`serve_client`]:
//!
//! ```text
//! loop {
//!     read whatever the socket has into `input`           (blocks)
//!     while a complete request is at the front:           (resp/parser.rs)
//!         execute it, appending its reply to `reply`      (commands/mod.rs)
//!     drop the consumed bytes, keep a partial request
//!     write `reply` with one write_all                    (pipelining)
//! }
//! ```
//!
//! A pipelined batch therefore costs one read and one write however many
//! commands it holds, and its run of plain data commands takes the store's
//! write lock once, not once per command. A protocol error gets its reply and closes only this
//! connection. The per-connection state other threads may look at (CLIENT
//! LIST, CLIENT KILL) is in [`ClientInfo`], registered in the server's
//! client map for the life of the connection; the rest is [`ClientState`],
//! owned by this thread alone.
//!
//! Once the client subscribes to a channel (pubsub.rs) a second thread, the
//! writer, owns the socket's output: from then on each batch of replies is
//! pushed into the client's [`Mailbox`], where
//! published messages arrive too, and the writer writes them in order. See
//! the header of pubsub.rs for the threads involved.
//!
//! Replies are written without waiting (`MSG_DONTWAIT`). When the socket
//! cannot take a whole batch (the client is not reading), the rest goes to
//! a writer thread the same way, and the client keeps being served: its
//! pending output is then Redis's output buffer, shown as `omem` and held
//! to `client-output-buffer-limit` and `maxmemory-clients`
//! (client_memory.rs). After each batch the connection publishes its
//! memory figures and evicts clients if the total is over the limit.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::client_memory::{self, ClientMemory};
use crate::commands::multi::TxState;
use crate::commands::{self, Ctx};
use crate::pubsub::{ClientPubSub, Mailbox, WRITE_BATCH_BYTES};
use crate::resp::{parse_request, parse_request_unauthenticated, ReplyBuf, Request};
use crate::server::Server;
use crate::util::now_ms;

/// A reply buffer larger than this is freed once written.
const REPLY_KEEP_BYTES: usize = 4 * 1024;

/// Size of the read buffer after a large request shrinks it back.
const READ_CHUNK_BYTES: usize = 16 * 1024;
/// Size of a connection's first read buffer; it doubles whenever a read
/// fills it, so pipelined clients quickly get a large one.
const READ_FIRST_BYTES: usize = 1024;

/// With `timeout` set, how often a waiting read wakes up to check idleness.
const IDLE_CHECK_MS: u64 = 1000;

/// What other threads may see of a connection.
#[derive(Debug)]
pub struct ClientInfo {
    /// CLIENT ID.
    pub id: u64,
    /// The peer address.
    pub addr: String,
    /// Our address.
    pub laddr: String,
    /// Connection time, unix ms.
    pub created_ms: i64,
    /// Last command time, unix ms (idle time).
    pub last_interaction_ms: AtomicI64,
    /// CLIENT SETNAME.
    pub name: Mutex<Vec<u8>>,
    /// CLIENT SETINFO lib-name / lib-ver.
    pub lib: Mutex<(String, String)>,
    /// Selected database.
    pub db: AtomicUsize,
    /// Protocol version.
    pub resp: AtomicU8,
    /// The last command run (CLIENT LIST `cmd=`).
    pub last_cmd: LastCommand,
    /// The ACL user this connection is authenticated as.
    pub user: Mutex<String>,
    /// Memory figures (CLIENT LIST qbuf, argv-mem, multi-mem, tot-mem)
    /// and CLIENT NO-EVICT; see client_memory.rs.
    pub memory: ClientMemory,
    /// Set by CLIENT KILL; the thread closes the connection when it sees it.
    pub killed: AtomicBool,
    /// The socket, shared with the connection's thread (which reads and
    /// writes through `&TcpStream`), so CLIENT KILL can wake a blocked
    /// read. Shared rather than `try_clone`d: one descriptor per client,
    /// as in Redis, so 10,000 clients fit under a 20,000 fd limit.
    pub stream: Option<Arc<TcpStream>>,
    /// Subscribed channels, patterns and shard channels (CLIENT LIST).
    pub sub_counts: [AtomicUsize; 3],
    /// Commands queued after MULTI, or -1 outside MULTI (CLIENT LIST multi).
    pub multi_len: AtomicI64,
    /// Blocked in BLPOP, XREAD BLOCK ... (CLIENT LIST flag `b`).
    pub blocked: AtomicBool,
    /// The pub/sub mailbox, once the client has subscribed (CLIENT LIST omem).
    pub mailbox: std::sync::OnceLock<Arc<Mailbox>>,
    /// CLIENT TRACKING's flags and redirect, for CLIENT LIST (tracking.rs).
    pub tracking: crate::tracking::ClientTracking,
}

impl ClientInfo {
    /// Bytes and frames waiting in this client's mailbox (omem, oll).
    /// Counts what the writer thread took from the mailbox and is still
    /// writing, as Redis's output buffer still holds it.
    pub fn output_queued(&self) -> (usize, usize) {
        let writing = self.memory.writing_bytes.load(Ordering::Relaxed);
        let (bytes, frames) = self
            .mailbox
            .get()
            .map_or((0, 0), |m| (m.queued_bytes(), m.queued_frames()));
        (bytes + writing, frames + usize::from(writing > 0))
    }

    /// Redis's CLIENT LIST flags letters for this client.
    pub fn flags(&self) -> String {
        let mut f = String::new();
        if crate::replication::is_replica_client(self.id) {
            f.push('S');
        }
        if crate::replication::is_master_client(self.id) {
            f.push('M');
        }
        if self
            .sub_counts
            .iter()
            .any(|c| c.load(Ordering::Relaxed) > 0)
        {
            f.push('P');
        }
        if self.multi_len.load(Ordering::Relaxed) >= 0 {
            f.push('x');
        }
        if self.blocked.load(Ordering::Relaxed) {
            f.push('b');
        }
        let tracking = self.tracking.flags.load(Ordering::Relaxed);
        for (bit, letter) in [
            (crate::tracking::FLAG_ON, 't'),
            (crate::tracking::FLAG_BROKEN, 'R'),
            (crate::tracking::FLAG_BCAST, 'B'),
        ] {
            if tracking & bit != 0 {
                f.push(letter);
            }
        }
        if f.is_empty() {
            f.push('N');
        }
        f
    }

    /// Closes the connection from another thread.
    pub fn kill(&self) {
        self.kill_first();
    }

    /// Kills the client; true only for the call that killed it, so two
    /// threads evicting at once count one eviction.
    pub fn kill_first(&self) -> bool {
        self.kill_first_then(|| {})
    }

    /// As [`Self::kill_first`], running `count` (only for the call that
    /// killed it) before the socket closes, so a statistic such as
    /// evicted_clients is up to date by the time the peer sees the close.
    pub fn kill_first_then(&self, count: impl FnOnce()) -> bool {
        let first = !self.killed.swap(true, Ordering::SeqCst);
        if first {
            count();
        }
        if let Some(s) = &self.stream {
            let _ = s.shutdown(Shutdown::Both);
        }
        first
    }
}

/// The command a client ran last, as CLIENT LIST shows it (`cmd=get`,
/// `cmd=config|get`, `cmd=NULL` before the first). Recording it is the
/// dispatcher's job on every command, so a plain command is one atomic
/// store of its table index; only a container command with its
/// subcommand ("config|get") takes the lock to store text.
#[derive(Debug)]
pub struct LastCommand {
    /// 1 + the command's index in the command table, or 0 when `text`
    /// holds the name.
    index: AtomicUsize,
    text: Mutex<String>,
}

impl Default for LastCommand {
    fn default() -> Self {
        LastCommand {
            index: AtomicUsize::new(0),
            text: Mutex::new("NULL".into()),
        }
    }
}

impl LastCommand {
    /// Records the command at `index` of the command table.
    pub fn set_index(&self, index: usize) {
        self.index.store(index + 1, Ordering::Release);
    }

    /// Records a name the table cannot give ("config|get").
    pub fn set_text(&self, name: String) {
        *self.text.lock().unwrap_or_else(|p| p.into_inner()) = name;
        self.index.store(0, Ordering::Release);
    }

    /// The name, as CLIENT LIST shows it.
    pub fn get(&self) -> String {
        match self.index.load(Ordering::Acquire) {
            0 => self.text.lock().unwrap_or_else(|p| p.into_inner()).clone(),
            i => self.table_name(i).to_string(),
        }
    }

    /// True when the last command was the plain command `name` (no lock,
    /// no allocation).
    pub fn is(&self, name: &str) -> bool {
        match self.index.load(Ordering::Acquire) {
            0 => false,
            i => self.table_name(i) == name,
        }
    }

    fn table_name(&self, index_plus_one: usize) -> &'static str {
        crate::commands::command_at(index_plus_one - 1).map_or("NULL", |c| c.name)
    }
}

/// CLIENT REPLY: whether this client's replies are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ReplyMode {
    /// Replies are sent (the default).
    #[default]
    On,
    /// CLIENT REPLY OFF: no reply is sent (pub/sub pushes still are).
    Off,
    /// CLIENT REPLY SKIP was just run: the next command's reply is dropped.
    SkipNext,
    /// This command's reply is dropped.
    Skip,
}

/// The state of one connection, owned by its thread.
#[derive(Debug)]
pub struct ClientState {
    /// CLIENT ID.
    pub id: u64,
    /// The selected database.
    pub db: usize,
    /// True once AUTH succeeded (or when no password is set).
    pub authenticated: bool,
    /// The ACL user name.
    pub user: String,
    /// Set by QUIT: close after sending the replies.
    pub close_after_reply: bool,
    /// CLIENT REPLY ON / OFF / SKIP.
    pub reply_mode: ReplyMode,
    /// Shared view of this client.
    pub info: Arc<ClientInfo>,
    /// Bytes read from the socket while a blocking command waited (see
    /// blocking.rs); parsed before the next read.
    pub pending_input: Vec<u8>,
    /// SCRIPT DEBUG: whether the next EVAL runs under the Lua debugger.
    pub ldb: crate::scripting::ldb::Mode,
    /// Pub/sub subscriptions and the writer thread (pubsub.rs).
    pub pubsub: ClientPubSub,
    /// MULTI queue and WATCHed keys (commands/multi.rs).
    pub tx: TxState,
}

impl ClientState {
    /// Switches database, keeping the shared view in step.
    pub fn select(&mut self, db: usize) {
        self.db = db;
        self.info.db.store(db, Ordering::Relaxed);
    }
}

fn addr_string(a: std::io::Result<SocketAddr>) -> String {
    a.map(|a| a.to_string()).unwrap_or_else(|_| "?:0".into())
}

/// A client state not bound to any socket: for replaying the AOF at start,
/// for tests and for the fuzzer. It is authenticated as the default user.
pub fn detached_client(server: &Server) -> ClientState {
    client_without_thread(server, "internal:0".into(), "internal:0".into(), None)
}

/// A client whose requests come from somewhere other than its own
/// connection thread: the detached one above, or a replica's link to its
/// master (`addr` the master's address, `stream` the link, so CLIENT KILL
/// can close it).
pub fn client_without_thread(
    server: &Server,
    addr: String,
    laddr: String,
    stream: Option<Arc<TcpStream>>,
) -> ClientState {
    let id = server.next_client_id.fetch_add(1, Ordering::Relaxed);
    ClientState {
        id,
        db: 0,
        authenticated: true,
        user: "default".into(),
        close_after_reply: false,
        pending_input: Vec::new(),
        ldb: Default::default(),
        pubsub: ClientPubSub::default(),
        tx: TxState::default(),
        reply_mode: ReplyMode::On,
        info: Arc::new(ClientInfo {
            id,
            addr,
            laddr,
            created_ms: now_ms(),
            last_interaction_ms: AtomicI64::new(now_ms()),
            name: Mutex::new(Vec::new()),
            lib: Mutex::new((String::new(), String::new())),
            db: AtomicUsize::new(0),
            resp: AtomicU8::new(2),
            last_cmd: LastCommand::default(),
            user: Mutex::new("default".into()),
            memory: ClientMemory::default(),
            killed: AtomicBool::new(false),
            stream,
            sub_counts: Default::default(),
            multi_len: AtomicI64::new(-1),
            blocked: AtomicBool::new(false),
            mailbox: std::sync::OnceLock::new(),
            tracking: Default::default(),
        }),
    }
}

/// Registers the client, serves it until it leaves, then unregisters it.
pub fn serve_client(server: Arc<Server>, stream: TcpStream, id: u64) {
    let _ = stream.set_nodelay(true);
    let stream = Arc::new(stream);
    // A Unix socket client has no IP address: Redis shows the socket path.
    let unix_path = || format!("{}:0", server.config().get("unixsocket").unwrap_or(""));
    let (addr, laddr) = match (stream.peer_addr(), stream.local_addr()) {
        (Err(_), Err(_)) => (unix_path(), unix_path()),
        (peer, local) => (addr_string(peer), addr_string(local)),
    };
    let info = Arc::new(ClientInfo {
        id,
        addr,
        laddr,
        created_ms: now_ms(),
        last_interaction_ms: AtomicI64::new(now_ms()),
        name: Mutex::new(Vec::new()),
        lib: Mutex::new((String::new(), String::new())),
        db: AtomicUsize::new(0),
        resp: AtomicU8::new(2),
        last_cmd: LastCommand::default(),
        user: Mutex::new("default".into()),
        memory: ClientMemory::default(),
        killed: AtomicBool::new(false),
        stream: Some(Arc::clone(&stream)),
        sub_counts: Default::default(),
        multi_len: AtomicI64::new(-1),
        blocked: AtomicBool::new(false),
        mailbox: std::sync::OnceLock::new(),
        tracking: Default::default(),
    });
    log::debug!("accepted client {} from {}", id, info.addr);
    server
        .clients
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, Arc::clone(&info));
    let mut state = ClientState {
        id,
        db: 0,
        authenticated: !server.auth_required(),
        user: "default".into(),
        close_after_reply: false,
        reply_mode: ReplyMode::On,
        info,
        pending_input: Vec::new(),
        ldb: Default::default(),
        pubsub: ClientPubSub::default(),
        tx: TxState::default(),
    };
    if let Err(e) = connection_loop(&server, &stream, &mut state) {
        log::debug!("client {id} closed: {e}");
    }
    commands::pubsub::unsubscribe_all(&server, &mut state);
    commands::multi::unwatch_all(&server, &mut state);
    crate::tracking::client_gone(&server, id);
    if let Some(sub) = state.pubsub.subscriber.take() {
        sub.mailbox.close();
        if let Some(writer) = state.pubsub.writer.take() {
            let _ = writer.join();
        }
    }
    server
        .clients
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&id);
    // Its memory leaves the clients' sum with it.
    state.info.killed.store(true, Ordering::Relaxed);
    client_memory::account(&server, &state.info);
    log::debug!("client {id} disconnected");
}

fn connection_loop(
    server: &Arc<Server>,
    mut stream: &TcpStream,
    state: &mut ClientState,
) -> std::io::Result<()> {
    // `input[..filled]` holds unparsed bytes; `input[filled..]` is spare
    // room the next read fills. The buffer's bytes stay initialised, so a
    // read never has to zero 16 KB first (that memset was 80% of the
    // per-request instructions at 50 clients). It starts small, so an idle
    // connection costs little, and doubles whenever a read fills it.
    let mut input: Vec<u8> = Vec::new();
    let mut filled = 0;
    let mut last_read_full = false;
    let mut request = Request::new();
    let mut reply = ReplyBuf::new();
    let mut read_timeout_s = 0;
    loop {
        // Read whatever has arrived, after any partial request kept from before.
        let n = if !state.pending_input.is_empty() {
            // Input that arrived while a blocking command waited.
            input.truncate(filled);
            input.append(&mut state.pending_input);
            let n = input.len() - filled;
            filled = input.len();
            n
        } else {
            // Grow when a request does not fit, or when the last read
            // filled the buffer (up to Redis's 16 KB reads).
            if filled == input.len() || (last_read_full && input.len() < READ_CHUNK_BYTES) {
                input.resize((input.len() * 2).max(READ_FIRST_BYTES), 0);
            }
            let spare = input.len() - filled;
            let timeout_s = server.idle_timeout_s.load(Ordering::Relaxed);
            if timeout_s != read_timeout_s {
                // `timeout`: wake up now and then to see whether we idled too long.
                let tick = (timeout_s > 0).then(|| Duration::from_millis(IDLE_CHECK_MS));
                stream.set_read_timeout(tick)?;
                read_timeout_s = timeout_s;
            }
            let n = match stream.read(&mut input[filled..]) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::Interrupted => 0,
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                    let idle_ms = now_ms() - state.info.last_interaction_ms.load(Ordering::Relaxed);
                    // Like Redis, subscribers are never closed for idling.
                    if timeout_s > 0
                        && idle_ms > (timeout_s as i64) * 1000
                        && !state.pubsub.is_subscribed()
                    {
                        log::debug!("closing idle client {}", state.id);
                        return Ok(());
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            last_read_full = n == spare;
            filled += n;
            n
        };
        state.info.memory.busy.store(true, Ordering::SeqCst);
        let read_buf = &input[..filled];
        if state.info.killed.load(Ordering::Relaxed) {
            return Ok(());
        }
        server
            .stats
            .net_input_bytes
            .fetch_add(n as u64, Ordering::Relaxed);

        // Run every complete request in the buffer. Consecutive plain data
        // commands of a pipelined batch run on one store write lock, taken
        // by the first and released after the last (or before any other
        // command): one lock hand-over per batch instead of one per
        // command, which is what 50 pipelining clients queue on. The lock
        // is never held across socket I/O.
        let mut kept: Option<std::sync::RwLockWriteGuard<'_, crate::store::Store>> = None;
        let mut ran_on_kept = false;
        // The previous command's end time, handed to the next (see Ctx::clock_us).
        let mut clock_us = None;
        let mut consumed = 0;
        let mut protocol_error = false;
        let max_bulk = server.proto_max_bulk_len.load(Ordering::Relaxed) as usize;
        while consumed < read_buf.len() && !state.close_after_reply {
            let pending = &read_buf[consumed..];
            // Until it authenticates, a client may only send small requests.
            let parsed = if !state.authenticated && server.auth_required() {
                parse_request_unauthenticated(pending, &mut request)
            } else {
                parse_request(pending, max_bulk, &mut request)
            };
            match parsed {
                Ok(Some(len)) => {
                    consumed += len;
                    if request.is_empty() {
                        continue;
                    }
                    state
                        .info
                        .memory
                        .running_qbuf_bytes
                        .store(pending.len(), Ordering::Relaxed);
                    if client_memory::check_before_command(
                        server,
                        &state.info,
                        len,
                        pending.len() - len,
                        reply.buf.len(),
                    ) {
                        return Ok(());
                    }
                    // A lone request (nothing after it, no lock kept) skips
                    // the check: keeping the lock could not help it.
                    let batching = consumed < read_buf.len() || kept.is_some();
                    if batching
                        && request
                            .with_args(pending, |argv| commands::may_keep_lock(server, state, argv))
                    {
                        if kept.is_none() {
                            kept = Some(server.store_write());
                            clock_us = None; // it may have waited
                        }
                        ran_on_kept = true;
                    } else {
                        kept = None;
                    }
                    let mut ctx = Ctx::new(server, state, &mut reply);
                    ctx.held = kept.as_deref_mut();
                    ctx.clock_us = clock_us;
                    request.with_args(pending, |argv| commands::execute(&mut ctx, argv));
                    clock_us = ctx.clock_us;
                    // client-output-buffer-limit normal: replies piling up
                    // past the hard limit close the client, unsent (Redis).
                    // Queued output counts too once a writer thread sends it.
                    let queued = state.info.output_queued().0;
                    if state.pubsub.subscriber.is_none() || !state.pubsub.is_subscribed() {
                        let hard = server
                            .normal_output_limit
                            .hard_bytes
                            .load(Ordering::Relaxed);
                        if hard > 0 && (reply.buf.len() + queued) as u64 > hard {
                            close_over_output_limit(server, state);
                            return Ok(());
                        }
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    reply.error(&e.0);
                    protocol_error = true;
                    break;
                }
            }
        }
        drop(kept);
        if ran_on_kept {
            // What the batch's commands left for after the lock: the AOF
            // write (and fsync) their replies wait for, and clients blocked
            // on keys they may have filled.
            crate::persistence::aof::wait_written(server);
            if !server.blocking.is_empty() {
                crate::blocking::serve_ready(server);
            }
        }
        // Keep the partial request (if any) at the front for the next read.
        input.copy_within(consumed..filled, 0);
        filled -= consumed;
        state
            .info
            .memory
            .running_qbuf_bytes
            .store(0, Ordering::Relaxed);
        // client-query-buffer-limit: unparsed input past it closes the client.
        if filled as u64 > server.query_buf_limit.load(Ordering::Relaxed) {
            log::warn!(
                "closing client {}: query buffer of {} bytes over client-query-buffer-limit",
                state.id,
                filled
            );
            return Ok(());
        }
        state
            .info
            .last_interaction_ms
            .store(now_ms(), Ordering::Relaxed);

        // One write for the whole batch; once subscribed (or once the
        // socket could not take a batch), the writer thread does the
        // writing (see pubsub.rs).
        if let Some(sub) = &state.pubsub.subscriber {
            if !reply.buf.is_empty() {
                let batch = std::mem::replace(&mut reply.buf, Vec::with_capacity(256));
                // A subscribed client is in the pubsub class of
                // client-output-buffer-limit, any other in the normal one.
                let limit = if state.pubsub.is_subscribed() {
                    &server.pubsub.limit
                } else {
                    &server.normal_output_limit
                };
                if sub.mailbox.push(Arc::new(batch), Some(limit)).is_err() {
                    close_over_output_limit(server, state);
                    return Ok(());
                }
            }
        } else if !reply.buf.is_empty() {
            let sent = send_nonblocking(stream, &reply.buf)?;
            server
                .stats
                .net_output_bytes
                .fetch_add(sent as u64, Ordering::Relaxed);
            if sent < reply.buf.len() {
                // The client is not reading: keep serving its requests and
                // queue the rest of the output for a writer thread, so the
                // output shows in omem and the limits apply (Redis's
                // output buffer).
                hand_over_output(server, stream, state, reply.buf.split_off(sent))?;
            }
            reply.buf.clear();
            // Give back the memory of a big reply, so idle clients stay
            // small and used_memory does not keep the last INFO's bytes
            // (maxmemory compares with it after every write).
            if reply.buf.capacity() > REPLY_KEEP_BYTES {
                reply.buf = Vec::new();
            }
        }
        client_memory::update(server, state, &input[..filled]);
        if client_memory::over_limit(server) {
            client_memory::evict_clients(server);
        }
        state.info.memory.busy.store(false, Ordering::SeqCst);
        if state.info.killed.load(Ordering::Relaxed) {
            return Ok(());
        }
        // After a large request, give its memory back (it counts in
        // used_memory, as Redis's query buffer does until clientsCron
        // shrinks it).
        if input.len() > 4 * READ_CHUNK_BYTES && filled < READ_CHUNK_BYTES {
            input.truncate(READ_CHUNK_BYTES);
            input.shrink_to_fit();
        }
        request.shrink();
        if protocol_error || state.close_after_reply {
            // A subscriber's last replies are still in its mailbox: let the
            // writer send them before the socket closes.
            if let Some(sub) = state.pubsub.subscriber.take() {
                sub.mailbox.close();
                if let Some(writer) = state.pubsub.writer.take() {
                    let _ = writer.join();
                }
            }
            let _ = stream.shutdown(Shutdown::Both);
            return Ok(());
        }
    }
}

/// Writes as much of `buf` as the socket takes without waiting; returns
/// how many bytes were sent.
fn send_nonblocking(stream: &TcpStream, buf: &[u8]) -> std::io::Result<usize> {
    use std::os::fd::AsRawFd;
    let fd = stream.as_raw_fd();
    let mut sent = 0;
    while sent < buf.len() {
        let rest = &buf[sent..];
        // SAFETY: `fd` is this connection's open socket for the duration of
        // the call and `rest` a valid readable slice of `rest.len()` bytes.
        let n = unsafe {
            libc::send(
                fd,
                rest.as_ptr().cast(),
                rest.len(),
                libc::MSG_DONTWAIT | libc::MSG_NOSIGNAL,
            )
        };
        if n >= 0 {
            sent += n as usize;
            continue;
        }
        let e = std::io::Error::last_os_error();
        match e.kind() {
            ErrorKind::Interrupted => continue,
            ErrorKind::WouldBlock => break,
            _ => return Err(e),
        }
    }
    Ok(sent)
}

/// Gives the connection's output to a writer thread, as a subscriber has,
/// starting with `rest`: the part of a batch the socket did not take.
fn hand_over_output(
    server: &Arc<Server>,
    stream: &TcpStream,
    state: &mut ClientState,
    rest: Vec<u8>,
) -> std::io::Result<()> {
    let mailbox = Arc::clone(state.info.mailbox.get_or_init(Default::default));
    let writer = start_writer(
        server,
        &state.info,
        stream.try_clone()?,
        Arc::clone(&mailbox),
    )?;
    let sub = Arc::new(crate::pubsub::Subscriber {
        id: state.id,
        mailbox,
        info: Arc::clone(&state.info),
    });
    let _ = sub.mailbox.push(Arc::new(rest), None);
    state.pubsub.subscriber = Some(sub);
    state.pubsub.writer = Some(writer);
    Ok(())
}

/// Starts the writer thread of a client that just subscribed: it drains
/// `mailbox` to `stream` until the mailbox is closed and empty, or the
/// socket fails (then it kills the client so its reader stops too).
pub fn start_writer(
    server: &Arc<Server>,
    info: &Arc<ClientInfo>,
    mut stream: TcpStream,
    mailbox: Arc<Mailbox>,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let server = Arc::clone(server);
    let info = Arc::clone(info);
    std::thread::Builder::new()
        .name(format!("client-{}-w", info.id))
        .stack_size(crate::server::CLIENT_STACK_BYTES)
        .spawn(move || {
            let mut out: Vec<u8> = Vec::with_capacity(WRITE_BATCH_BYTES);
            // An empty mailbox gets one yield of the core before the writer
            // sleeps: publishers that were about to push then do, and one
            // write carries their messages, instead of a futex wake-up and
            // a write per message (Redis gets the same batching from writing
            // once per event-loop pass).
            let next = |mailbox: &Mailbox| {
                mailbox.try_pop().or_else(|| {
                    std::thread::yield_now();
                    mailbox.pop()
                })
            };
            while let Some(first) = next(&mailbox) {
                out.extend_from_slice(&first);
                while out.len() < WRITE_BATCH_BYTES {
                    match mailbox.try_pop() {
                        Some(f) => out.extend_from_slice(&f),
                        None => break,
                    }
                }
                info.memory
                    .writing_bytes
                    .store(out.len(), Ordering::Relaxed);
                let written = stream.write_all(&out);
                info.memory.writing_bytes.store(0, Ordering::Relaxed);
                if written.is_err() {
                    mailbox.close();
                    info.kill();
                    return;
                }
                server
                    .stats
                    .net_output_bytes
                    .fetch_add(out.len() as u64, Ordering::Relaxed);
                out.clear();
                if out.capacity() > 4 * WRITE_BATCH_BYTES {
                    out.shrink_to(WRITE_BATCH_BYTES);
                }
            }
        })
}

/// Closes a client whose output went over its hard limit, with Redis's log
/// line, and updates its memory figure.
fn close_over_output_limit(server: &Server, state: &ClientState) {
    log::warn!(
        "Client id={} addr={} closed for overcoming of output buffer limits.",
        state.id,
        state.info.addr
    );
    state.info.kill();
    client_memory::account(server, &state.info);
}
