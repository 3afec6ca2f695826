//! Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, the
//! sorted-set BZPOPMIN, BZPOPMAX, BZMPOP, and the streams' XREAD and
//! XREADGROUP with BLOCK): clients that wait for a key to receive data, and
//! the hand-off that serves them in arrival order.
//!
//! Redis keeps, per database, a map from key to the queue of clients
//! blocked on it; a write that adds data to such a key marks it "ready",
//! and after the command Redis serves the queued clients, oldest first.
//! We do the same with threads:
//!
//! ```text
//!  blocked client thread (W)                  writing client thread (P)
//!  ─────────────────────────                  ─────────────────────────
//!  handler finds nothing, not in EXEC:
//!    ctx.block = Some(BlockRequest)
//!  dispatcher, still holding the write lock:
//!    register(W)  (blocked_clients += 1)
//!  release the lock, wait on W's Condvar      LPUSH ... (write lock), release
//!                                             serve_ready(): a key some waiter
//!                                             wants now holds its type ->
//!            <────────── Woken ────────────── pick the oldest such waiter
//!  take the write lock, re-run the handler    wait on W's Condvar
//!  served: unregister, serve_ready() for
//!  our own writes (BLMOVE target), then
//!            ─────────── Answered ─────────>  look again for ready keys, until
//!  reply                                      none is left; then reply
//! ```
//!
//! Properties this gives:
//!
//! - **First come, first served.** Waiters are kept in arrival order and
//!   the oldest waiter on a ready key is woken first. A woken waiter that
//!   finds its data already gone (another client took it in between) keeps
//!   its place in the queue.
//! - **No lost wake-up.** A waiter registers while its handler still holds
//!   the write lock, so any push after its look at the keys sees it.
//! - **The pusher's reply comes last.** P waits for each woken waiter's
//!   answer (and W for its own cascade, e.g. BLMOVE into a list another
//!   client waits on) before replying, so a client that pushes and then
//!   reads sees the blocked clients already served, as in Redis. The wait
//!   graph is a chain (only a waiting thread can be woken, and it is out of
//!   the queue while it runs), so it cannot deadlock.
//! - **Readiness is looked up, not signalled.** After every command that
//!   may write (not read-only, not a connection or server command) and
//!   runs outside EXEC, while somebody is blocked, [`serve_ready`] checks
//!   the keys the waiters want. So RENAME, SORT ... STORE, SWAPDB, RESTORE,
//!   MOVE or an EXEC that pushes all wake waiters without calling anything
//!   here; a key pushed and deleted inside one EXEC wakes no one.
//! - **Locks.** The store lock is never held while waiting; the registry
//!   mutex is taken after the store lock, never before it.
//!
//! A blocked thread sleeps on its Condvar, never polling. To notice at
//! once that its client went away (Redis forgets a blocked client the
//! moment its socket closes), a small watcher thread peeks at the socket
//! and pokes the waiter when input arrives or the socket closes. Input
//! sent while blocked is read into `ClientState::pending_input` and parsed
//! after the blocked command's reply, as Redis queues it, so a close
//! behind it is still seen. Replies of commands pipelined before the
//! blocking one are sent before the wait starts.
//!
//! INFO `blocked_clients` is [`crate::server::Server::blocked_clients`],
//! kept exact by [`Registry`] (incremented on register, decremented on
//! unregister).
//!
//! Inside MULTI/EXEC (and scripts) a blocking command must not block: the
//! handler calls [`block_or_timeout`], which replies the timeout reply
//! instead of blocking when `ctx.in_exec` is set. Whoever runs commands
//! with `in_exec` set (EXEC, scripts) gets no [`serve_ready`] per inner
//! command; the outer command's own dispatch serves waiters once at the end.
//!
//! # Making a command block (BZPOPMIN, BZMPOP ...)
//!
//! 1. Make it a `Handler::Write` command that, like its non-blocking form,
//!    serves the client when one of its keys holds data.
//! 2. Parse the timeout with [`parse_timeout`] (after the other arguments,
//!    in Redis's order).
//! 3. When every key is empty, call [`block_or_timeout`] with a
//!    [`BlockRequest`] naming the keys, the deadline, the value type that
//!    can serve it ([`wants_zset`]) and [`TimeoutReply::NullArray`], write
//!    nothing else and return `Ok(())`.
//!
//! A command whose readiness depends on more than the key's type (XREAD
//! waits for an entry after a given ID, XREADGROUP also for its key or
//! group to disappear) sets [`BlockRequest::stream`]; [`BlockRequest::key_ready`]
//! then decides. When the handler runs again after a wake-up,
//! `ctx.resumed` holds the request it blocked with.
//!
//! The dispatcher does the rest: it waits, runs the handler again when a
//! key holds a value of the wanted type (the handler then finds data and
//! replies, or blocks again and keeps its place), and writes the timeout
//! reply when the deadline passes. Nothing is needed in the commands that
//! add data (ZADD, ZUNIONSTORE ...).

use std::collections::{BTreeMap, HashMap};
use std::io::{ErrorKind, Read, Write};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::commands::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::number::parse_f64;
use crate::server::Server;
use crate::store::stream::StreamWait;
use crate::store::Value;
use crate::util::now_ms;

/// How often a blocked thread re-checks CLIENT KILL when no socket watcher
/// could be started (with one, disconnects are noticed at once).
pub const DISCONNECT_CHECK_MS: u64 = 100;

/// Stack of a socket watcher thread: it only peeks one byte.
const WATCHER_STACK_BYTES: usize = 32 * 1024;

/// After this many fruitless wake-ups of one waiter within one
/// [`serve_ready`] pass, that pass stops trying it (guards against a
/// waiter that cannot be served by data its key holds).
const MAX_FRUITLESS_WAKEUPS: u32 = 3;

/// What a blocking handler asks for when it finds nothing to serve:
/// stored in `ctx.block`, turned into a wait by the dispatcher.
#[derive(Debug, Clone)]
pub struct BlockRequest {
    /// The database of the keys.
    pub db: usize,
    /// The keys waited on, in the command's order.
    pub keys: Vec<Vec<u8>>,
    /// Absolute unix ms when the wait times out; 0 = never.
    pub deadline_ms: i64,
    /// True for a value that can serve this client (a list for BLPOP, a
    /// sorted set for BZPOPMIN ...).
    pub wants: fn(&Value) -> bool,
    /// What the client receives on timeout.
    pub on_timeout: TimeoutReply,
    /// XREAD / XREADGROUP: what they wait for, which depends on IDs and
    /// groups, not only on the key's type (`wants` is then unused).
    pub stream: Option<StreamWait>,
}

impl BlockRequest {
    /// True when key number `key_index` of the request, now holding
    /// `value`, can serve the waiter.
    pub fn key_ready(&self, key_index: usize, value: Option<&Value>) -> bool {
        match &self.stream {
            Some(wait) => wait.ready(key_index, value),
            None => value.is_some_and(self.wants),
        }
    }
}

/// The reply a blocked client gets when its timeout passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutReply {
    /// The null array (`*-1`, RESP3 `_`): BLPOP, BLMOVE, BZPOPMIN, every
    /// blocking command in Redis 7.0.
    NullArray,
    /// The null bulk string (`$-1`, RESP3 `_`).
    Null,
}

impl TimeoutReply {
    /// Writes this reply.
    pub fn write(self, ctx: &mut Ctx) {
        match self {
            TimeoutReply::NullArray => ctx.reply.null_array(),
            TimeoutReply::Null => ctx.reply.null(),
        }
    }
}

/// True for a list value (BLPOP and family).
pub fn wants_list(v: &Value) -> bool {
    matches!(v, Value::List(_))
}

/// Deletes keys that blocked clients wait on but whose TTL has passed, as
/// Redis's attempt to serve them would (a DEL for the AOF and replicas, an
/// `expired` event): SWAPDB can bring in such a key. Not while writes are
/// paused: then an expired key only reads as absent.
fn expire_waited_keys(server: &Server) {
    if server.pause.writes_paused() {
        return;
    }
    let now = now_ms();
    let stale: Vec<(usize, Vec<u8>)> = {
        let store = server.store.read().unwrap_or_else(|p| p.into_inner());
        server
            .blocking
            .idle_waiters()
            .iter()
            .flat_map(|w| w.request.keys.iter().map(move |k| (w.request.db, k)))
            .filter(|(db, k)| store.dbs.get(*db).is_some_and(|d| d.is_stale(k, now)))
            .map(|(db, k)| (db, k.clone()))
            .collect()
    };
    if stale.is_empty() {
        return;
    }
    let expired = {
        let mut store = server.store_write();
        for (db, key) in &stale {
            if let Some(d) = store.dbs.get_mut(*db) {
                d.expire_if_needed(key, now);
            }
        }
        let expired = store.take_expired();
        crate::persistence::aof::feed_expired(server, &expired);
        expired
    };
    for (db, key) in expired {
        server
            .pubsub
            .publish_keyspace_events(db, &[('x', "expired", key)]);
    }
}

/// True for a stream value (XREAD, XREADGROUP).
pub fn wants_stream(v: &Value) -> bool {
    matches!(v, Value::Stream(_))
}

/// True for a sorted-set value (BZPOPMIN and family).
pub fn wants_zset(v: &Value) -> bool {
    matches!(v, Value::ZSet(_))
}

/// Parses a blocking command's timeout in seconds (a float, 0 = forever)
/// into an absolute deadline in unix ms (0 = never), as Redis's
/// `getTimeoutFromObjectOrReply`: the seconds are multiplied by 1000 and
/// rounded up.
pub fn parse_timeout(arg: &[u8], now_ms: i64) -> Result<i64, CmdError> {
    let secs = parse_f64(arg)
        .filter(|s| !s.is_nan())
        .ok_or_else(|| CmdError::err("timeout is not a float or out of range"))?;
    let ms = (secs * 1000.0).ceil();
    // Redis casts to a signed 64-bit integer: infinity and anything past
    // i64::MAX ms come out negative there, and so "negative" here.
    if ms < 0.0 || ms >= i64::MAX as f64 {
        return Err(CmdError::err("timeout is negative"));
    }
    if ms == 0.0 {
        return Ok(0);
    }
    Ok(now_ms.saturating_add(ms as i64))
}

/// Called by a blocking handler that found nothing: inside EXEC (or a
/// script) it writes the timeout reply at once, as Redis does for a client
/// that may not block; otherwise it records the request in `ctx.block`
/// and writes nothing (the dispatcher will wait and run the handler again).
pub fn block_or_timeout(ctx: &mut Ctx, request: BlockRequest) {
    if ctx.in_exec {
        request.on_timeout.write(ctx);
    } else {
        ctx.block = Some(request);
    }
}

/// Where a waiter is in the hand-off with a waking thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    /// Waiting for data.
    Idle,
    /// A writer woke it: it must try its command again and answer.
    Woken,
    /// It tried and answered; the writer puts it back to Idle.
    Answered,
    /// CLIENT UNBLOCK: stop waiting; true = with an error.
    Unblocked(bool),
}

/// One blocked client.
#[derive(Debug)]
pub struct Waiter {
    /// Arrival order (smaller = older).
    seq: u64,
    /// The client's id (CLIENT UNBLOCK).
    client_id: u64,
    /// What it waits for.
    request: BlockRequest,
    signal: Mutex<Signal>,
    cv: Condvar,
    /// Set by the socket watcher: WATCH_INPUT or WATCH_CLOSED.
    watch: AtomicU8,
}

impl Waiter {
    fn signal(&self) -> MutexGuard<'_, Signal> {
        self.signal.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set(&self, s: Signal) {
        *self.signal() = s;
        self.cv.notify_all();
    }
}

/// Every blocked client, in arrival order (the server's
/// `blocking` field).
#[derive(Debug, Default)]
pub struct Registry {
    inner: Mutex<RegistryInner>,
    /// `inner.waiters.len()`, kept beside the map so the dispatcher's
    /// per-command "is anyone blocked?" is one atomic load, not a lock
    /// every client thread contends on.
    waiting: AtomicUsize,
}

#[derive(Debug, Default)]
struct RegistryInner {
    next_seq: u64,
    waiters: BTreeMap<u64, Arc<Waiter>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn inner(&self) -> MutexGuard<'_, RegistryInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of blocked clients.
    pub fn len(&self) -> usize {
        self.inner().waiters.len()
    }

    /// True when no client is blocked.
    pub fn is_empty(&self) -> bool {
        self.waiting.load(Ordering::SeqCst) == 0
    }

    /// True when client `client_id` is blocked (CLIENT LIST flags=b).
    pub fn is_blocked(&self, client_id: u64) -> bool {
        self.inner()
            .waiters
            .values()
            .any(|w| w.client_id == client_id)
    }

    /// Queues a new waiter (called with the store's write lock held, so no
    /// write can slip in between the handler's look and the registration).
    fn register(&self, server: &Server, client_id: u64, request: BlockRequest) -> Arc<Waiter> {
        let mut inner = self.inner();
        let seq = inner.next_seq;
        inner.next_seq += 1;
        let waiter = Arc::new(Waiter {
            seq,
            client_id,
            request,
            signal: Mutex::new(Signal::Idle),
            cv: Condvar::new(),
            watch: AtomicU8::new(WATCH_NOTHING),
        });
        inner.waiters.insert(seq, Arc::clone(&waiter));
        self.waiting.store(inner.waiters.len(), Ordering::SeqCst);
        server.blocked_clients.fetch_add(1, Ordering::SeqCst);
        waiter
    }

    /// Removes a waiter; idempotent.
    fn unregister(&self, server: &Server, waiter: &Waiter) {
        let mut inner = self.inner();
        if inner.waiters.remove(&waiter.seq).is_some() {
            self.waiting.store(inner.waiters.len(), Ordering::SeqCst);
            server.blocked_clients.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// CLIENT UNBLOCK id [TIMEOUT|ERROR]: makes a blocked client stop
    /// waiting, replying its timeout reply (`error` false) or the
    /// UNBLOCKED error. False when the client is not blocked.
    pub fn unblock(&self, client_id: u64, error: bool) -> bool {
        let inner = self.inner();
        for w in inner.waiters.values() {
            if w.client_id == client_id {
                let mut s = w.signal();
                if *s == Signal::Idle {
                    *s = Signal::Unblocked(error);
                    w.cv.notify_all();
                    return true;
                }
            }
        }
        false
    }

    /// Marks `waiter` woken if it is still queued and idle.
    fn wake(&self, waiter: &Waiter) -> bool {
        let inner = self.inner();
        if !inner.waiters.contains_key(&waiter.seq) {
            return false;
        }
        let mut s = waiter.signal();
        if *s != Signal::Idle {
            return false;
        }
        *s = Signal::Woken;
        waiter.cv.notify_all();
        true
    }

    /// The idle waiters, oldest first.
    fn idle_waiters(&self) -> Vec<Arc<Waiter>> {
        self.inner()
            .waiters
            .values()
            .filter(|w| *w.signal() == Signal::Idle)
            .cloned()
            .collect()
    }
}

/// Serves blocked clients whose keys now hold data, oldest first, until no
/// idle waiter has a ready key. Called by the dispatcher after each command
/// run outside EXEC while any client is blocked; returns once every client
/// it woke has answered. Takes no lock on entry and holds none on return.
pub fn serve_ready(server: &Server) {
    expire_waited_keys(server);
    let mut fruitless: HashMap<u64, u32> = HashMap::new();
    loop {
        let candidates = server.blocking.idle_waiters();
        if candidates.is_empty() {
            return;
        }
        let now = now_ms();
        let pick = {
            let store = server.store.read().unwrap_or_else(|p| p.into_inner());
            candidates.into_iter().find(|w| {
                fruitless.get(&w.seq).copied().unwrap_or(0) < MAX_FRUITLESS_WAKEUPS
                    && store.dbs.get(w.request.db).is_some_and(|db| {
                        w.request
                            .keys
                            .iter()
                            .enumerate()
                            .any(|(i, k)| w.request.key_ready(i, db.get_value(k, now)))
                    })
            })
        };
        let Some(waiter) = pick else {
            return;
        };
        if !server.blocking.wake(&waiter) {
            continue;
        }
        // Wait for its answer, then put it back to Idle (it either left the
        // queue, served, or keeps its place).
        let mut s = waiter.signal();
        while *s == Signal::Woken {
            s = waiter.cv.wait(s).unwrap_or_else(|p| p.into_inner());
        }
        if *s == Signal::Answered {
            *s = Signal::Idle;
        }
        drop(s);
        let still_queued = server.blocking.inner().waiters.contains_key(&waiter.seq);
        if still_queued {
            *fruitless.entry(waiter.seq).or_insert(0) += 1;
        }
    }
}

/// How a wait ended.
enum WaitEnd {
    /// A writer woke us: try again.
    Woken,
    /// The deadline passed.
    Timeout,
    /// CLIENT UNBLOCK.
    Unblocked(bool),
    /// The client went away.
    Disconnected,
}

/// What the socket watcher saw.
const WATCH_NOTHING: u8 = 0;
const WATCH_INPUT: u8 = 1;
const WATCH_CLOSED: u8 = 2;

/// Starts a short-lived thread that waits, without consuming anything,
/// until the client's socket has input or is closed, then pokes the
/// waiter. It ends at that first event (if the command is served before
/// that, it ends at the client's next command). False when no watcher
/// could be started.
fn watch_socket(ctx: &Ctx, waiter: &Arc<Waiter>) -> bool {
    let Some(stream) = ctx
        .client
        .info
        .stream
        .as_ref()
        .and_then(|s| s.try_clone().ok())
    else {
        return false;
    };
    let waiter = Arc::clone(waiter);
    std::thread::Builder::new()
        .name(format!("block-watch-{}", ctx.client.id))
        .stack_size(WATCHER_STACK_BYTES)
        .spawn(move || {
            let mut byte = [0u8; 1];
            let seen = match stream.peek(&mut byte) {
                Ok(n) if n > 0 => WATCH_INPUT,
                _ => WATCH_CLOSED,
            };
            // Under the signal mutex, so the waiter cannot miss the poke.
            let _s = waiter.signal();
            waiter.watch.store(seen, Ordering::SeqCst);
            waiter.cv.notify_all();
        })
        .is_ok()
}

/// Handles a poke from the watcher. Input that arrives while blocked is
/// read into `pending_input` (the connection parses it after the reply),
/// so a close behind it is still noticed; returns true when the client is
/// gone. Called only after the watcher saw input, so the read returns at
/// once.
fn drain_or_gone(ctx: &mut Ctx, seen: u8) -> bool {
    if seen == WATCH_CLOSED || ctx.client.info.killed.load(Ordering::Relaxed) {
        return true;
    }
    let Some(mut stream) = ctx.client.info.stream.as_deref() else {
        return false;
    };
    let mut buf = [0u8; 16 * 1024];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(n) => {
            ctx.client.pending_input.extend_from_slice(&buf[..n]);
            false
        }
        Err(e) => e.kind() != ErrorKind::Interrupted,
    }
}

/// Waits until woken, timed out, unblocked or disconnected. Handles the
/// race with a waking writer: a waiter that is woken just as its deadline
/// passes still takes its turn.
fn wait_once(server: &Server, ctx: &mut Ctx, waiter: &Arc<Waiter>, watched: &mut bool) -> WaitEnd {
    let deadline = waiter.request.deadline_ms;
    loop {
        if !*watched {
            *watched = watch_socket(ctx, waiter);
        }
        let s = waiter.signal();
        match *s {
            Signal::Woken => return WaitEnd::Woken,
            Signal::Unblocked(error) => return WaitEnd::Unblocked(error),
            Signal::Idle | Signal::Answered => {}
        }
        let seen = waiter.watch.swap(WATCH_NOTHING, Ordering::SeqCst);
        let now = now_ms();
        let timed_out = deadline != 0 && now >= deadline;
        if !timed_out && seen == WATCH_NOTHING {
            // Nothing happened yet: sleep until a writer, the watcher or
            // the deadline wakes us. Without a watcher, wake up now and
            // then to notice CLIENT KILL.
            let until_deadline_ms = (deadline != 0).then(|| (deadline - now).max(1) as u64);
            let period_ms = match (*watched, until_deadline_ms) {
                (true, None) => None,
                (true, Some(ms)) => Some(ms),
                (false, ms) => Some(ms.unwrap_or(u64::MAX).min(DISCONNECT_CHECK_MS)),
            };
            drop(match period_ms {
                None => waiter.cv.wait(s).unwrap_or_else(|p| p.into_inner()),
                Some(ms) => {
                    waiter
                        .cv
                        .wait_timeout(s, Duration::from_millis(ms))
                        .unwrap_or_else(|p| p.into_inner())
                        .0
                }
            });
            if !*watched && ctx.client.info.killed.load(Ordering::Relaxed) {
                waiter.watch.store(WATCH_CLOSED, Ordering::SeqCst);
            }
            continue;
        }
        drop(s);
        let gone = !timed_out && {
            *watched = false;
            drain_or_gone(ctx, seen)
        };
        if !timed_out && !gone {
            continue;
        }
        // Leave the queue unless a writer has just woken us; both under
        // the registry lock, so no writer can wake us after we decide.
        let mut inner = server.blocking.inner();
        let signal = *waiter.signal();
        if signal == Signal::Woken {
            return WaitEnd::Woken;
        }
        if let Signal::Unblocked(error) = signal {
            return WaitEnd::Unblocked(error);
        }
        if inner.waiters.remove(&waiter.seq).is_some() {
            server
                .blocking
                .waiting
                .store(inner.waiters.len(), Ordering::SeqCst);
            server.blocked_clients.fetch_sub(1, Ordering::SeqCst);
        }
        return if timed_out {
            WaitEnd::Timeout
        } else {
            WaitEnd::Disconnected
        };
    }
}

/// Sends now the replies of the commands before this one in a pipelined
/// batch, as Redis does, instead of holding them until this command is
/// served. (The blocked command itself has written nothing yet.)
fn flush_earlier_replies(ctx: &mut Ctx) {
    // Once a writer thread owns the output, the replies go with the rest.
    if ctx.reply.buf.is_empty() || ctx.client.pubsub.subscriber.is_some() {
        return;
    }
    let Some(mut stream) = ctx.client.info.stream.as_deref() else {
        return;
    };
    if stream.write_all(&ctx.reply.buf).is_ok() {
        ctx.server
            .stats
            .net_output_bytes
            .fetch_add(ctx.reply.buf.len() as u64, Ordering::Relaxed);
        ctx.reply.buf.clear();
    }
}

/// The dispatcher's side of a blocked command: registers the waiter
/// (the caller holds the write lock), to be followed by [`wait`].
pub fn register(ctx: &Ctx, request: BlockRequest) -> Arc<Waiter> {
    // Shown (CLIENT LIST `b`) from here, under the write lock, until
    // `wait` returns.
    ctx.client
        .info
        .blocked
        .store(true, std::sync::atomic::Ordering::Relaxed);
    ctx.server
        .blocking
        .register(ctx.server, ctx.client.id, request)
}

/// Waits for data and runs `attempt` (the command's handler under the
/// write lock) each time a writer wakes us, until it serves the client
/// (no new `ctx.block`), the deadline passes (timeout reply), CLIENT
/// UNBLOCK, or the client disconnects (no reply). Returns the command's
/// result. Called without any lock held.
pub fn wait(
    ctx: &mut Ctx,
    waiter: Arc<Waiter>,
    mut attempt: impl FnMut(&mut Ctx) -> CmdResult,
) -> CmdResult {
    let server = Arc::clone(ctx.server);
    let mut watched = false;
    let result = wait_until_served(ctx, &server, waiter, &mut watched, &mut attempt);
    ctx.client
        .info
        .blocked
        .store(false, std::sync::atomic::Ordering::Relaxed);
    result
}

/// The body of [`wait`].
fn wait_until_served(
    ctx: &mut Ctx,
    server: &Arc<Server>,
    waiter: Arc<Waiter>,
    watched: &mut bool,
    attempt: &mut impl FnMut(&mut Ctx) -> CmdResult,
) -> CmdResult {
    flush_earlier_replies(ctx);
    // A blocked client is not busy: CLIENT LIST need not wait for it.
    ctx.client
        .info
        .memory
        .busy
        .store(false, std::sync::atomic::Ordering::SeqCst);
    loop {
        match wait_once(server, ctx, &waiter, watched) {
            WaitEnd::Woken => {
                let mark = ctx.reply.buf.len();
                ctx.block = None;
                ctx.resumed = Some(waiter.request.clone());
                let result = attempt(ctx);
                ctx.resumed = None;
                let served = result.is_err() || ctx.block.is_none();
                ctx.block = None;
                if !served {
                    ctx.reply.buf.truncate(mark);
                    waiter.set(Signal::Answered);
                    continue;
                }
                if result.is_err() {
                    // The dispatcher drops a partial reply from its own
                    // mark, which the flush above may have moved past.
                    ctx.reply.buf.truncate(mark);
                }
                server.blocking.unregister(server, &waiter);
                if !server.blocking.is_empty() {
                    // Our own writes (BLMOVE's push) may serve others, who
                    // must be served before the writer that woke us replies.
                    serve_ready(server);
                }
                waiter.set(Signal::Answered);
                return result;
            }
            WaitEnd::Timeout => {
                server.blocking.unregister(server, &waiter);
                waiter.request.on_timeout.write(ctx);
                return Ok(());
            }
            WaitEnd::Unblocked(error) => {
                server.blocking.unregister(server, &waiter);
                if error {
                    return Err(CmdError::Raw(
                        "UNBLOCKED client unblocked via CLIENT UNBLOCK".into(),
                    ));
                }
                waiter.request.on_timeout.write(ctx);
                return Ok(());
            }
            WaitEnd::Disconnected => {
                server.blocking.unregister(server, &waiter);
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_parse_like_redis() {
        assert_eq!(parse_timeout(b"0", 1000), Ok(0));
        assert_eq!(parse_timeout(b"1", 1000), Ok(2000));
        assert_eq!(parse_timeout(b"0.001", 1000), Ok(1001));
        assert_eq!(parse_timeout(b"0.0001", 1000), Ok(1001));
        assert_eq!(
            parse_timeout(b"-1", 1000).unwrap_err().to_string(),
            "ERR timeout is negative"
        );
        assert_eq!(
            parse_timeout(b"abc", 1000).unwrap_err().to_string(),
            "ERR timeout is not a float or out of range"
        );
    }
}
