//! How much memory each client uses, and what happens when clients use
//! too much: output buffer limits and client eviction (`maxmemory-clients`).
//!
//! # Accounting
//!
//! Every connection publishes, in its [`ClientInfo`], the parts of its
//! memory Redis shows in CLIENT LIST:
//!
//! ```text
//! tot-mem = CLIENT_BASE_BYTES            the client itself and its reply buffer
//!         + qbuf                         unparsed input (a big argument's bytes)
//!         + argv-mem                     arguments already parsed of a partial request
//!         + multi-mem                    commands queued after MULTI
//!         + omem                         output queued and not yet sent
//!         + watched keys and subscriptions, a fixed cost each
//! ```
//!
//! The connection's thread recomputes its figure after every batch of
//! requests ([`update`]); the mailbox part (`omem`) also changes when other
//! threads publish to it or its writer drains it, so the `clients-cron`
//! thread refreshes every client ten times a second. The server keeps the
//! sum of the published figures in `clients_mem_bytes` by adding each
//! change, so checking the limit costs one atomic read.
//!
//! # Eviction
//!
//! When the sum passes `maxmemory-clients` (bytes, or a percentage of
//! `maxmemory`), the biggest clients are closed, largest first, until the
//! sum is back under the limit ([`evict_clients`]), as Redis's
//! `evictClients` does. Clients that ran `CLIENT NO-EVICT on` are never
//! chosen. Eviction runs after a batch of requests, after CONFIG SET and in
//! the cron; an evicted client is marked killed at once (CLIENT LIST stops
//! showing it) and its thread closes the socket.
//!
//! # Output buffer limits
//!
//! `client-output-buffer-limit <class> <hard> <soft> <seconds>`: a client
//! whose queued output passes the hard limit is closed at once (checked on
//! each push into its mailbox, pubsub.rs, and on the reply of each command,
//! client.rs); one that stays above the soft limit for `seconds` is closed
//! by the cron, even when no more output arrives.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::client::{ClientInfo, ClientState};
use crate::resp::ReplyBuf;
use crate::server::Server;
use crate::util::now_ms;

/// What an idle client costs: the client structure and its 16 KB reply
/// buffer, as Redis counts them.
pub const CLIENT_BASE_BYTES: usize = 20 * 1024;
/// What one WATCHed key adds (the watch list node and its key reference).
pub const WATCHED_KEY_BYTES: usize = 64;
/// What one subscription (channel, pattern or shard channel) adds.
pub const SUBSCRIPTION_BYTES: usize = 80;
/// What each queued MULTI command and argument adds beyond its bytes.
const MULTI_ARG_OVERHEAD_BYTES: usize = 16;
/// Arguments this big are read straight into their own buffer by Redis
/// (PROTO_MBULK_BIG_ARG), so the query buffer shows only their bytes.
const BIG_ARG_BYTES: usize = 32 * 1024;
/// How often the cron refreshes memory figures and checks soft limits.
const CRON_INTERVAL_MS: u64 = 100;

/// The per-client memory figures other threads read (CLIENT LIST).
#[derive(Debug, Default)]
pub struct ClientMemory {
    /// Unparsed input bytes left after the last batch (a partial request).
    pub qbuf_bytes: AtomicUsize,
    /// The query buffer's size: qbuf, or a big argument's whole length
    /// (CLIENT LIST qbuf-free is the difference).
    pub qbuf_alloc_bytes: AtomicUsize,
    /// While a command runs: the input from that command on, which CLIENT
    /// LIST shows as qbuf (not counted in tot-mem, so a client's figure
    /// does not depend on which command it is running).
    pub running_qbuf_bytes: AtomicUsize,
    /// Arguments of a partial request already parsed (argv-mem).
    pub argv_bytes: AtomicUsize,
    /// Commands queued in MULTI (multi-mem).
    pub multi_bytes: AtomicUsize,
    /// Watched keys and subscriptions.
    pub other_bytes: AtomicUsize,
    /// Replies of the running batch not yet written (counted only while
    /// maxmemory-clients is set, before each command).
    pub reply_bytes: AtomicUsize,
    /// The tot-mem last added to the server's sum.
    pub accounted_bytes: AtomicUsize,
    /// Output the writer thread took from the mailbox and is writing.
    pub writing_bytes: AtomicUsize,
    /// CLIENT NO-EVICT on.
    pub no_evict: AtomicBool,
    /// Between reading input and finishing the batch it held.
    pub busy: AtomicBool,
    /// When queued output first went over the soft limit, unix ms (0 = under).
    pub soft_since_ms: AtomicU64,
}

/// Queued output of a client: bytes and frames in its mailbox (omem, oll).
fn output_bytes(info: &ClientInfo) -> usize {
    info.output_queued().0
}

/// The client's tot-mem as CLIENT LIST shows it.
pub fn total_bytes(info: &ClientInfo) -> usize {
    let m = &info.memory;
    CLIENT_BASE_BYTES
        + m.qbuf_alloc_bytes.load(Ordering::Relaxed)
        + m.argv_bytes.load(Ordering::Relaxed)
        + m.multi_bytes.load(Ordering::Relaxed)
        + m.other_bytes.load(Ordering::Relaxed)
        + m.reply_bytes.load(Ordering::Relaxed)
        + output_bytes(info)
}

/// Before a command runs, with maxmemory-clients set: counts the request's
/// arguments and the replies built so far in this batch, and evicts if the
/// clients are over the limit (Redis evicts before executing a command).
/// True when this client was the one evicted.
pub fn check_before_command(
    server: &Server,
    info: &ClientInfo,
    request_bytes: usize,
    rest_bytes: usize,
    reply_bytes: usize,
) -> bool {
    if server.maxmemory_clients_bytes.load(Ordering::Relaxed) == 0 {
        return false;
    }
    let m = &info.memory;
    m.qbuf_bytes.store(rest_bytes, Ordering::Relaxed);
    m.qbuf_alloc_bytes.store(rest_bytes, Ordering::Relaxed);
    // Small requests are left out, so that a client's figure does not
    // depend on which small command it happens to be running.
    let argv = if request_bytes >= BIG_ARG_BYTES {
        request_bytes
    } else {
        0
    };
    m.argv_bytes.store(argv, Ordering::Relaxed);
    m.reply_bytes.store(reply_bytes, Ordering::Relaxed);
    account(server, info);
    if over_limit(server) {
        evict_clients(server);
    }
    info.killed.load(Ordering::Relaxed)
}

/// Publishes the client's current tot-mem into the server's sum. A killed
/// client counts for nothing: it is on its way out.
pub fn account(server: &Server, info: &ClientInfo) {
    let now = if info.killed.load(Ordering::Relaxed) {
        0
    } else {
        total_bytes(info)
    };
    let before = info.memory.accounted_bytes.swap(now, Ordering::Relaxed);
    if now >= before {
        server
            .clients_mem_bytes
            .fetch_add(now - before, Ordering::Relaxed);
    } else {
        server
            .clients_mem_bytes
            .fetch_sub(before - now, Ordering::Relaxed);
    }
}

/// How a partial request left in the read buffer is shown: (qbuf,
/// argv-mem, query buffer size). Complete arguments of a multibulk request
/// count as argv; of a big argument only its data so far counts as qbuf,
/// as in Redis, which trims the query buffer before reading a big
/// argument and sizes it for the whole argument at once (so the memory it
/// counts is the announced length from the start).
pub fn partial_request_usage(buf: &[u8]) -> (usize, usize, usize) {
    let (qbuf, argv, big) = partial_request_parts(buf);
    (qbuf, argv, big.map_or(qbuf, |len| len.max(qbuf)))
}

/// (qbuf, argv-mem, announced length of a big argument being read).
fn partial_request_parts(buf: &[u8]) -> (usize, usize, Option<usize>) {
    fn line(buf: &[u8], from: usize) -> Option<(i64, usize)> {
        let rest = buf.get(from..)?;
        let end = rest.windows(2).position(|w| w == b"\r\n")?;
        let n = crate::resp::parser::parse_i64(rest.get(1..end)?)?;
        Some((n, from + end + 2))
    }
    if buf.first() != Some(&b'*') {
        return (buf.len(), 0, None);
    }
    let Some((count, mut pos)) = line(buf, 0) else {
        return (buf.len(), 0, None);
    };
    let mut argv = 0usize;
    for _ in 0..count.max(0) {
        let Some((len, data)) = line(buf, pos) else {
            return (buf.len() - pos, argv, None);
        };
        let len = len.max(0) as usize;
        if buf.len() < data.saturating_add(len).saturating_add(2) {
            return if len >= BIG_ARG_BYTES {
                (buf.len().saturating_sub(data), argv, Some(len + 2))
            } else {
                (buf.len().saturating_sub(pos), argv, None)
            };
        }
        argv += len;
        pos = data + len + 2;
    }
    (buf.len().saturating_sub(pos), argv, None)
}

/// Recomputes the figures the connection's own thread knows (input,
/// MULTI queue, watches, subscriptions) after a batch, and publishes them.
pub fn update(server: &Server, state: &ClientState, unparsed: &[u8]) {
    let m = &state.info.memory;
    let (qbuf, argv, alloc) = if unparsed.is_empty() {
        (0, 0, 0)
    } else {
        partial_request_usage(unparsed)
    };
    m.qbuf_bytes.store(qbuf, Ordering::Relaxed);
    m.qbuf_alloc_bytes.store(alloc, Ordering::Relaxed);
    m.argv_bytes.store(argv, Ordering::Relaxed);
    m.reply_bytes.store(0, Ordering::Relaxed);
    let multi = state.tx.queue.as_ref().map_or(0, |q| {
        q.iter()
            .map(|cmd| {
                MULTI_ARG_OVERHEAD_BYTES
                    + cmd
                        .iter()
                        .map(|a| a.len() + MULTI_ARG_OVERHEAD_BYTES)
                        .sum::<usize>()
            })
            .sum()
    });
    m.multi_bytes.store(multi, Ordering::Relaxed);
    let p = &state.pubsub;
    let subs = p.channels.len() + p.patterns.len() + p.shard_channels.len();
    m.other_bytes.store(
        state.tx.watched.len() * WATCHED_KEY_BYTES
            + subs * SUBSCRIPTION_BYTES
            + state.info.tracking.prefix_bytes.load(Ordering::Relaxed),
        Ordering::Relaxed,
    );
    account(server, &state.info);
}

/// `maxmemory-clients` in bytes (0 = no limit): a plain amount, or a
/// percentage of `maxmemory`.
pub fn limit_from_config(config: &crate::config::Config) -> u64 {
    let value = config.get("maxmemory-clients").unwrap_or("0");
    match value.strip_suffix('%') {
        Some(perc) => {
            let perc: u64 = perc.parse().unwrap_or(0);
            (config.get_i64("maxmemory").max(0) as u64).saturating_mul(perc) / 100
        }
        None => value.parse().unwrap_or(0),
    }
}

/// True when the clients together use more than `maxmemory-clients`.
pub fn over_limit(server: &Server) -> bool {
    let limit = server.maxmemory_clients_bytes.load(Ordering::Relaxed);
    limit > 0 && server.clients_mem_bytes.load(Ordering::Relaxed) as u64 > limit
}

/// Closes the biggest evictable clients until the clients' memory is under
/// `maxmemory-clients`. Returns how many were evicted.
pub fn evict_clients(server: &Server) -> usize {
    let limit = server.maxmemory_clients_bytes.load(Ordering::Relaxed) as usize;
    if limit == 0 {
        return 0;
    }
    let clients = server.client_infos();
    // Refresh everyone's figure first (mailboxes change under us).
    for c in &clients {
        account(server, c);
    }
    if !over_limit(server) {
        return 0;
    }
    // A client whose peer hung up and that has nothing in flight is about
    // to go: its thread has not read the EOF yet. Let it go now rather than
    // evict someone else in its place (Redis would have seen the close
    // first, its event loop handles events in order).
    for c in &clients {
        if !c.memory.busy.load(Ordering::SeqCst) && output_bytes(c) == 0 && peer_closed(c) {
            c.kill();
            account(server, c);
        }
    }
    if !over_limit(server) {
        return 0;
    }
    let mut candidates: Vec<(usize, &Arc<ClientInfo>)> = clients
        .iter()
        .filter(|c| !c.memory.no_evict.load(Ordering::Relaxed))
        .filter(|c| !c.killed.load(Ordering::Relaxed))
        .map(|c| (c.memory.accounted_bytes.load(Ordering::Relaxed), c))
        .collect();
    candidates.sort_by_key(|c| std::cmp::Reverse(c.0));
    let mut evicted = 0;
    for (bytes, c) in candidates {
        if server.clients_mem_bytes.load(Ordering::Relaxed) <= limit {
            break;
        }
        let counted = || {
            server.stats.evicted_clients.fetch_add(1, Ordering::Relaxed);
        };
        if !c.kill_first_then(counted) {
            continue; // another thread evicted it meanwhile
        }
        log::info!(
            "Evicting client: id={} addr={} tot-mem={} (maxmemory-clients={})",
            c.id,
            c.addr,
            bytes,
            limit
        );
        account(server, c);
        evicted += 1;
    }
    evicted
}

/// The longest CLIENT LIST waits for other clients to catch up.
const SETTLE_MAX_MS: u64 = 20;

/// True when the client has input the kernel holds for it, or is still
/// running the batch it read.
fn has_pending_input(info: &ClientInfo) -> bool {
    use std::os::fd::AsRawFd;
    if info.killed.load(Ordering::Relaxed) {
        return false;
    }
    if info.memory.busy.load(Ordering::SeqCst) {
        return true;
    }
    let Some(stream) = &info.stream else {
        return false;
    };
    let mut unread: libc::c_int = 0;
    // SAFETY: the socket stays open while we hold its Arc, and FIONREAD
    // writes one int to the valid pointer we pass.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::FIONREAD, &mut unread) };
    rc == 0 && unread > 0
}

/// True when the client's peer closed the connection (poll reports a
/// hang-up) and no unread input is left.
fn peer_closed(info: &ClientInfo) -> bool {
    use std::os::fd::AsRawFd;
    let Some(stream) = &info.stream else {
        return false;
    };
    let mut pfd = libc::pollfd {
        fd: stream.as_raw_fd(),
        events: libc::POLLRDHUP,
        revents: 0,
    };
    // SAFETY: one valid pollfd for a socket kept open by our Arc; a zero
    // timeout never blocks.
    let rc = unsafe { libc::poll(&mut pfd, 1, 0) };
    rc == 1
        && pfd.revents & (libc::POLLRDHUP | libc::POLLHUP | libc::POLLERR) != 0
        && !has_pending_input(info)
}

/// Before CLIENT LIST reports the clients: waits a little (at most
/// `SETTLE_MAX_MS`) for requests that reached other clients before this
/// one to be processed. Redis's single event loop gives that order for
/// free; with a thread per client the other threads may still be running.
pub fn settle_other_clients(server: &Server, me: u64) {
    let clients: Vec<Arc<ClientInfo>> = server
        .clients
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .values()
        .filter(|c| c.id != me)
        .cloned()
        .collect();
    let deadline = std::time::Instant::now() + Duration::from_millis(SETTLE_MAX_MS);
    while clients.iter().any(|c| has_pending_input(c)) {
        if std::time::Instant::now() >= deadline {
            break;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
}

/// True when a reply being built already passes the normal class's hard
/// output limit: long-running handlers (HRANDFIELD with a huge count) stop
/// early, since the client will be closed and the reply dropped anyway.
pub fn reply_over_output_limit(server: &Server, reply: &ReplyBuf) -> bool {
    let hard = server
        .normal_output_limit
        .hard_bytes
        .load(Ordering::Relaxed);
    hard > 0 && reply.buf.len() as u64 > hard
}

/// The soft output limit check of one client, for the cron: true when its
/// queued output has stayed above the soft limit of its class for the
/// class's seconds.
fn soft_limit_reached(server: &Server, info: &ClientInfo, now: i64) -> bool {
    let subscribed = info
        .sub_counts
        .iter()
        .any(|c| c.load(Ordering::Relaxed) > 0);
    let limit = if subscribed {
        &server.pubsub.limit
    } else {
        &server.normal_output_limit
    };
    let soft = limit.soft_bytes.load(Ordering::Relaxed);
    let queued = output_bytes(info) as u64;
    let since = &info.memory.soft_since_ms;
    if soft == 0 || queued <= soft {
        since.store(0, Ordering::Relaxed);
        return false;
    }
    let first = since.load(Ordering::Relaxed);
    if first == 0 {
        since.store(now.max(1) as u64, Ordering::Relaxed);
        return false;
    }
    let secs = limit.soft_secs.load(Ordering::Relaxed);
    now.saturating_sub(first as i64) >= (secs as i64).saturating_mul(1000)
}

/// One pass of the cron: refresh every client's figure, close clients
/// over their soft output limit, evict if over `maxmemory-clients`.
pub fn clients_cron(server: &Server) {
    let clients = server.client_infos();
    let now = now_ms();
    for c in &clients {
        if c.mailbox.get().is_some() && soft_limit_reached(server, c, now) {
            log::warn!(
                "Client id={} addr={} closed for overcoming of output buffer limits.",
                c.id,
                c.addr
            );
            c.kill();
        }
        account(server, c);
    }
    evict_clients(server);
}

/// Starts the `clients-cron` thread, which runs [`clients_cron`] ten times
/// a second until shutdown.
pub fn start_cron(server: Arc<Server>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("clients-cron".into())
        .spawn(move || {
            while !server.shutdown.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(CRON_INTERVAL_MS));
                clients_cron(&server);
            }
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_requests() {
        assert_eq!(partial_request_usage(b"PING"), (4, 0, 4));
        assert_eq!(partial_request_usage(b"*2\r\n$3\r\nget\r\n$1"), (2, 3, 2));
        assert_eq!(
            partial_request_usage(b"*2\r\n$3\r\nget\r\n$1\r\n"),
            (4, 3, 4)
        );
        let mut big = b"*1\r\n$40000\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'v', 1000));
        assert_eq!(partial_request_usage(&big), (1000, 0, 40002));
    }
}
