//! Client-side caching: CLIENT TRACKING, the tracking table, and the
//! invalidation messages it sends (Redis's tracking.c).
//!
//! # Two modes
//!
//! *Default mode*: every read-only command a tracking client runs adds the
//! client's id to the set of each key it read, in the **tracking table**
//! (`key -> {client ids}`, keyed by the key name alone, across databases,
//! as in Redis). When a key is modified (a write, expiry, eviction) its set
//! is taken out of the table and each client in it gets one invalidation
//! message naming the key. OPTIN / OPTOUT with CLIENT CACHING decide whether
//! the next command's keys are remembered; NOLOOP skips the client that
//! made the change itself.
//!
//! *BCAST mode*: nothing is remembered. The client registers prefixes (the
//! empty prefix matches everything); every modified key matching a prefix is
//! queued on that prefix, and at the end of the command (Redis does it in
//! `beforeSleep`) each prefix's queued keys go out as one message to each of
//! its clients.
//!
//! # Messages
//!
//! ```text
//! RESP3 client:            >2 $10 invalidate *<n> <key>...     (or _ on FLUSH*)
//! RESP2 REDIRECT target:   *3 $7 message $20 __redis__:invalidate *<n> <key>...
//! redirect client gone:    >2 $21 tracking-redir-broken :<id>  (to the tracker)
//! ```
//!
//! A message is pushed into the destination's pub/sub [`Mailbox`], so its
//! writer thread delivers it between reply batches (see pubsub.rs); CLIENT
//! TRACKING ON gives the client a mailbox. A message for the client whose
//! command caused it is not pushed: it waits in `pending_self` and is
//! appended to the client's reply buffer after the command's reply (or,
//! for eviction and table-limit invalidations, before it), as Redis 7.0
//! does with `tracking_pending_keys`.
//!
//! # Cost when nobody tracks
//!
//! [`Tracking::is_active`] is one atomic load: true while some client has
//! tracking on or the table still holds keys. Every hook returns at once
//! otherwise. All state is behind one mutex; hooks called with the store
//! lock held take it after the store lock, never the other way round.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::client::ClientInfo;
use crate::commands::{Command, Ctx};
use crate::error::{CmdError, CmdResult};
use crate::resp::ReplyBuf;
use crate::server::Server;

/// Bytes counted per BCAST prefix on top of its length (a radix tree node).
const PREFIX_OVERHEAD_BYTES: usize = 64;

/// Invalidations sent per round when the table is over
/// tracking-table-max-keys (Redis's starting effort; it grows each round).
const LIMIT_EFFORT_KEYS: usize = 100;

/// CLIENT LIST flag bits kept on [`ClientInfo`]: tracking on (`t`).
pub const FLAG_ON: u8 = 1;
/// Redirect client gone (`R`).
pub const FLAG_BROKEN: u8 = 2;
/// BCAST mode (`B`).
pub const FLAG_BCAST: u8 = 4;

/// What CLIENT LIST shows of a client's tracking (flags `t R B`, `redir=`).
#[derive(Debug)]
pub struct ClientTracking {
    /// [`FLAG_ON`] | [`FLAG_BROKEN`] | [`FLAG_BCAST`].
    pub flags: AtomicU8,
    /// The REDIRECT id (0 = none), or -1 with tracking off.
    pub redirect: AtomicI64,
    /// Set when another client redirects to this one: it takes a mailbox
    /// after its next command, so messages can reach it between replies.
    pub wants_mailbox: AtomicBool,
    /// Set once the client ran QUIT: as a redirect target it is gone.
    pub leaving: AtomicBool,
    /// Memory of its BCAST prefixes (counted in CLIENT LIST tot-mem and
    /// for maxmemory-clients, as Redis counts the prefix radix tree).
    pub prefix_bytes: AtomicUsize,
}

impl Default for ClientTracking {
    fn default() -> Self {
        ClientTracking {
            flags: AtomicU8::new(0),
            redirect: AtomicI64::new(-1),
            wants_mailbox: AtomicBool::new(false),
            leaving: AtomicBool::new(false),
            prefix_bytes: AtomicUsize::new(0),
        }
    }
}

/// One tracking client's options.
#[derive(Debug)]
struct Tracker {
    info: Arc<ClientInfo>,
    redirect: u64,
    bcast: bool,
    optin: bool,
    optout: bool,
    noloop: bool,
    /// CLIENT CACHING yes/no given for the next command.
    caching: bool,
    broken: bool,
    prefixes: BTreeSet<Vec<u8>>,
}

impl Tracker {
    fn publish_flags(&self) {
        let mut f = FLAG_ON;
        if self.broken {
            f |= FLAG_BROKEN;
        }
        if self.bcast {
            f |= FLAG_BCAST;
        }
        self.info.tracking.flags.store(f, Ordering::Relaxed);
        self.info
            .tracking
            .redirect
            .store(self.redirect as i64, Ordering::Relaxed);
        let prefix_bytes = self
            .prefixes
            .iter()
            .map(|p| p.len() + PREFIX_OVERHEAD_BYTES)
            .sum();
        self.info
            .tracking
            .prefix_bytes
            .store(prefix_bytes, Ordering::Relaxed);
    }
}

/// A BCAST prefix: its clients, and keys modified since the last flush
/// with the id of the client that modified each (for NOLOOP).
#[derive(Debug, Default)]
struct Prefix {
    clients: BTreeSet<u64>,
    keys: Vec<KeyOrigin>,
}

/// A modified key and the id of the client that modified it (0 = server).
type KeyOrigin = (Vec<u8>, u64);

#[derive(Debug, Default)]
struct State {
    trackers: HashMap<u64, Tracker>,
    table: HashMap<Vec<u8>, BTreeSet<u64>>,
    items: usize,
    prefixes: BTreeMap<Vec<u8>, Prefix>,
    /// Frames for a client caused by its own running command.
    pending_self: HashMap<u64, Vec<u8>>,
    /// Clients whose running script called a read-only command: the
    /// script's declared keys are remembered when it ends (Redis).
    script_read: BTreeSet<u64>,
}

/// The server-wide tracking state.
#[derive(Debug, Default)]
pub struct Tracking {
    /// Tracking clients plus table keys: nonzero means hooks have work.
    active: AtomicUsize,
    state: Mutex<State>,
}

impl Tracking {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// True when some client tracks or the table holds keys (one load).
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed) > 0
    }

    fn refresh(&self, st: &State) {
        self.active
            .store(st.trackers.len() + st.table.len(), Ordering::Relaxed);
    }

    /// INFO: (tracking_clients, tracking_total_keys, tracking_total_items,
    /// tracking_total_prefixes).
    pub fn info(&self) -> (usize, usize, usize, usize) {
        let st = self.lock();
        (
            st.trackers.len(),
            st.table.len(),
            st.items,
            st.prefixes.len(),
        )
    }
}

// ---- messages -------------------------------------------------------------

/// The invalidation frame for a client speaking `proto`, or None when it
/// cannot receive one (RESP2 and not subscribed).
fn invalidate_frame(
    info: &ClientInfo,
    keys: Option<&[Vec<u8>]>,
    redirected: bool,
) -> Option<Vec<u8>> {
    let proto = info.resp.load(Ordering::Relaxed);
    let mut r = ReplyBuf {
        buf: Vec::with_capacity(64),
        proto,
    };
    if proto >= 3 {
        r.push(2);
        r.bulk(b"invalidate");
    } else {
        let subscribed = info
            .sub_counts
            .iter()
            .any(|c| c.load(Ordering::Relaxed) > 0);
        if !(redirected && subscribed) {
            return None;
        }
        r.array(3);
        r.bulk(b"message");
        r.bulk(b"__redis__:invalidate");
    }
    match keys {
        Some(keys) => {
            r.array(keys.len());
            for k in keys {
                r.bulk(k);
            }
        }
        None => r.null(),
    }
    Some(r.buf)
}

fn lookup_client(server: &Server, id: u64) -> Option<Arc<ClientInfo>> {
    server
        .clients
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&id)
        .filter(|c| {
            !c.killed.load(Ordering::Relaxed) && !c.tracking.leaving.load(Ordering::Relaxed)
        })
        .cloned()
}

/// Delivers `frame` to client `to`: into the running client's pending
/// bytes when `to` is `current`, else into its mailbox. False when the
/// client cannot take it (gone, or no mailbox).
/// The target's output now counts in its tot-mem (maxmemory-clients
/// evicts it after the running command, as for a slow subscriber).
fn deliver(
    server: &Server,
    st: &mut State,
    info: &ClientInfo,
    current: u64,
    frame: Vec<u8>,
) -> bool {
    if info.id == current {
        st.pending_self.entry(current).or_default().extend(frame);
        return true;
    }
    let pushed = match info.mailbox.get() {
        Some(m) => m.push(Arc::new(frame), None).is_ok(),
        None => false,
    };
    if pushed {
        crate::client_memory::account(server, info);
    }
    pushed
}

/// Redis's sendTrackingMessage: invalidates `keys` (None = everything) for
/// tracking client `id`, through its redirect client if it has one.
fn send(server: &Server, st: &mut State, id: u64, keys: Option<&[Vec<u8>]>, current: u64) {
    let Some(t) = st.trackers.get(&id) else {
        return;
    };
    let tracker_info = Arc::clone(&t.info);
    let redirect = t.redirect;
    if redirect != 0 {
        let target = lookup_client(server, redirect);
        // A target without a mailbox yet (it gets one after its next
        // command) misses the message but is not gone.
        let delivered =
            target
                .as_ref()
                .is_some_and(|target| match invalidate_frame(target, keys, true) {
                    Some(frame) if target.mailbox.get().is_some() || target.id == current => {
                        deliver(server, st, target, current, frame)
                    }
                    _ => true,
                });
        if !delivered {
            if let Some(t) = st.trackers.get_mut(&id) {
                t.broken = true;
                t.publish_flags();
            }
            if tracker_info.resp.load(Ordering::Relaxed) >= 3 {
                let mut r = ReplyBuf {
                    buf: Vec::with_capacity(48),
                    proto: 3,
                };
                r.push(2);
                r.bulk(b"tracking-redir-broken");
                r.integer(redirect as i64);
                deliver(server, st, &tracker_info, current, r.buf);
            }
        }
        return;
    }
    if let Some(frame) = invalidate_frame(&tracker_info, keys, false) {
        deliver(server, st, &tracker_info, current, frame);
    }
}

// ---- hooks called by the dispatcher and the keyspace ----------------------

/// Redis's trackingInvalidateKey for each of `keys`, modified by client
/// `current` (0 = the server itself: expiry cycle, eviction).
pub fn invalidate_keys<'k>(
    server: &Server,
    keys: impl IntoIterator<Item = &'k [u8]>,
    current: u64,
) {
    let tracking = &server.tracking;
    if !tracking.is_active() {
        return;
    }
    let mut st = tracking.lock();
    for key in keys {
        invalidate_one(server, &mut st, key, current);
    }
    tracking.refresh(&st);
}

fn invalidate_one(server: &Server, st: &mut State, key: &[u8], current: u64) {
    if !st.prefixes.is_empty() {
        for (prefix, p) in st.prefixes.iter_mut() {
            if key.starts_with(prefix) {
                p.keys.push((key.to_vec(), current));
            }
        }
    }
    let Some(ids) = st.table.remove(key) else {
        return;
    };
    st.items -= ids.len();
    let keys = [key.to_vec()];
    for id in ids {
        let Some(t) = st.trackers.get(&id) else {
            continue;
        };
        // A client that turned tracking off and on again, or switched to
        // BCAST, gets nothing for keys it read before (Redis).
        if t.bcast || (t.noloop && id == current) {
            continue;
        }
        send(server, st, id, Some(&keys), current);
    }
}

/// FLUSHDB / FLUSHALL: a null invalidation to every tracking
/// client, and the table is emptied (Redis's trackingInvalidateKeysOnFlush).
pub fn invalidate_all(server: &Server, current: u64) {
    let tracking = &server.tracking;
    if !tracking.is_active() {
        return;
    }
    let mut st = tracking.lock();
    let ids: Vec<u64> = st.trackers.keys().copied().collect();
    for id in ids {
        send(server, &mut st, id, None, current);
    }
    st.table.clear();
    st.items = 0;
    tracking.refresh(&st);
}

/// After a read-only command: remembers its keys for a tracking client in
/// default mode (Redis's trackingRememberKeys).
pub fn remember_keys(ctx: &Ctx, command: &Command, args: &[&[u8]]) {
    let tracking = &ctx.server.tracking;
    if !tracking.is_active() || !command.is_readonly() {
        return;
    }
    let mut st = tracking.lock();
    let id = ctx.client.id;
    let Some(t) = st.trackers.get(&id) else {
        return;
    };
    if t.bcast || (t.optin && !t.caching) || (t.optout && t.caching) {
        return;
    }
    if ctx.in_script {
        st.script_read.insert(id);
        return;
    }
    remember(
        &mut st,
        id,
        command
            .key_positions(args.len())
            .filter_map(|i| args.get(i).copied()),
    );
    tracking.refresh(&st);
}

fn remember<'k>(st: &mut State, id: u64, keys: impl Iterator<Item = &'k [u8]>) {
    for key in keys {
        let ids = st.table.entry(key.to_vec()).or_default();
        if ids.insert(id) {
            st.items += 1;
        }
    }
}

/// The keys a script declared (EVAL* / FCALL*: `numkeys key ...`).
fn script_keys<'a>(args: &[&'a [u8]]) -> Vec<&'a [u8]> {
    let n = args
        .get(2)
        .and_then(|a| crate::number::parse_i64(a))
        .unwrap_or(0)
        .max(0) as usize;
    args.iter().skip(3).take(n).copied().collect()
}

/// Before a command runs: enforces tracking-table-max-keys, then writes
/// the messages this client caused itself so far (eviction) ahead of the
/// command's reply.
pub fn before_command(ctx: &mut Ctx) {
    if !ctx.server.tracking.is_active() {
        return;
    }
    limit_table(ctx.server, ctx.client.id);
    flush_pending(ctx);
}

/// After a command: sends BCAST messages, appends this client's own
/// invalidations after its reply, and drops CLIENT CACHING's one-command
/// flag (kept while queuing in MULTI and for CLIENT CACHING itself).
pub fn after_command(ctx: &mut Ctx, command: Option<&Command>, args: &[&[u8]]) {
    let tracking = &ctx.server.tracking;
    if !tracking.is_active() || ctx.in_exec {
        return;
    }
    if ctx.client.close_after_reply {
        let info = &ctx.client.info;
        info.tracking.leaving.store(true, Ordering::Relaxed);
    }
    broadcast(ctx.server, ctx.client.id);
    if ctx.client.pubsub.subscriber.is_none()
        && ctx
            .client
            .info
            .tracking
            .wants_mailbox
            .load(Ordering::Relaxed)
    {
        let _ = crate::commands::pubsub::ensure_subscriber(ctx);
    }
    let script = command.is_some_and(|c| c.name.starts_with("eval") || c.name.starts_with("fcall"));
    if script {
        let mut st = tracking.lock();
        if st.script_read.remove(&ctx.client.id) {
            remember(&mut st, ctx.client.id, script_keys(args).into_iter());
            tracking.refresh(&st);
        }
    }
    flush_pending(ctx);
    let keep = ctx.client.tx.queue.is_some()
        || (command.is_some_and(|c| c.name == "client")
            && args
                .get(1)
                .is_some_and(|a| a.eq_ignore_ascii_case(b"caching")));
    if !keep {
        let mut st = tracking.lock();
        if let Some(t) = st.trackers.get_mut(&ctx.client.id) {
            t.caching = false;
        }
    }
}

fn flush_pending(ctx: &mut Ctx) {
    let mut st = ctx.server.tracking.lock();
    if let Some(bytes) = st.pending_self.remove(&ctx.client.id) {
        ctx.reply.buf.extend_from_slice(&bytes);
    }
}

/// Redis's trackingBroadcastInvalidationMessages: each prefix's queued
/// keys, as one message per prefix and client.
pub fn broadcast(server: &Server, current: u64) {
    let tracking = &server.tracking;
    if !tracking.is_active() {
        return;
    }
    let mut st = tracking.lock();
    if st.prefixes.values().all(|p| p.keys.is_empty()) {
        return;
    }
    let mut jobs: Vec<(u64, Vec<KeyOrigin>)> = Vec::new();
    for p in st.prefixes.values_mut() {
        if p.keys.is_empty() {
            continue;
        }
        let keys = std::mem::take(&mut p.keys);
        for &id in &p.clients {
            jobs.push((id, keys.clone()));
        }
    }
    for (id, keys) in jobs {
        let noloop = st.trackers.get(&id).is_some_and(|t| t.noloop);
        let keys: Vec<Vec<u8>> = keys
            .into_iter()
            .filter(|(_, origin)| !(noloop && *origin == id))
            .map(|(k, _)| k)
            .collect();
        if !keys.is_empty() {
            send(server, &mut st, id, Some(&keys), current);
        }
    }
}

/// tracking-table-max-keys: invalidates keys until the table fits (called
/// before each command and by the expiry cycle).
pub fn limit_table(server: &Server, current: u64) {
    let tracking = &server.tracking;
    if !tracking.is_active() {
        return;
    }
    let max: usize = server
        .config()
        .get("tracking-table-max-keys")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut st = tracking.lock();
    if max == 0 || st.table.len() <= max {
        return;
    }
    let mut effort = LIMIT_EFFORT_KEYS;
    while st.table.len() > max {
        let victims: Vec<Vec<u8>> = st
            .table
            .keys()
            .take(effort.min(st.table.len() - max))
            .cloned()
            .collect();
        for key in victims {
            invalidate_one(server, &mut st, &key, current);
        }
        effort += LIMIT_EFFORT_KEYS;
    }
    tracking.refresh(&st);
}

/// A client leaves: its tracking is switched off.
pub fn client_gone(server: &Server, id: u64) {
    if server.tracking.is_active() {
        disable(server, id);
    }
}

fn disable(server: &Server, id: u64) {
    let tracking = &server.tracking;
    let mut st = tracking.lock();
    if let Some(t) = st.trackers.remove(&id) {
        for prefix in &t.prefixes {
            if let Some(p) = st.prefixes.get_mut(prefix) {
                p.clients.remove(&id);
                if p.clients.is_empty() {
                    st.prefixes.remove(prefix);
                }
            }
        }
        t.info.tracking.flags.store(0, Ordering::Relaxed);
        t.info.tracking.redirect.store(-1, Ordering::Relaxed);
        t.info.tracking.prefix_bytes.store(0, Ordering::Relaxed);
    }
    st.pending_self.remove(&id);
    tracking.refresh(&st);
}

// ---- CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO -------------------

/// True when one prefix starts the other (Redis's stringCheckPrefix).
fn overlaps(a: &[u8], b: &[u8]) -> bool {
    let n = a.len().min(b.len());
    a[..n] == b[..n]
}

/// CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN]
/// [OPTOUT] [NOLOOP] — `+OK`.
pub fn client_tracking(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut redirect: i64 = 0;
    let (mut bcast, mut optin, mut optout, mut noloop) = (false, false, false, false);
    let mut prefixes: Vec<&[u8]> = Vec::new();
    let mut j = 3;
    while j < args.len() {
        let opt = args[j].to_ascii_lowercase();
        let more = j + 1 < args.len();
        match opt.as_slice() {
            b"redirect" if more => {
                j += 1;
                if redirect != 0 {
                    return Err(CmdError::err(
                        "A client can only redirect to a single other client",
                    ));
                }
                redirect = crate::number::parse_i64(args[j]).ok_or(CmdError::NotInteger)?;
                let target = u64::try_from(redirect).ok().and_then(|id| {
                    if id == ctx.client.id {
                        Some(Arc::clone(&ctx.client.info))
                    } else {
                        lookup_client(ctx.server, id)
                    }
                });
                let exists = target.is_some();
                if let Some(target) = target {
                    target.tracking.wants_mailbox.store(true, Ordering::Relaxed);
                }
                if !exists {
                    return Err(CmdError::err(
                        "The client ID you want redirect to does not exist",
                    ));
                }
            }
            b"bcast" => bcast = true,
            b"optin" => optin = true,
            b"optout" => optout = true,
            b"noloop" => noloop = true,
            b"prefix" if more => {
                j += 1;
                prefixes.push(args[j]);
            }
            _ => return Err(CmdError::Syntax),
        }
        j += 1;
    }
    let on = match args[2].to_ascii_lowercase().as_slice() {
        b"on" => true,
        b"off" => false,
        _ => return Err(CmdError::Syntax),
    };
    let id = ctx.client.id;
    if !on {
        if ctx.server.tracking.is_active() {
            disable(ctx.server, id);
        }
        ctx.reply.ok();
        return Ok(());
    }
    if !bcast && !prefixes.is_empty() {
        return Err(CmdError::err(
            "PREFIX option requires BCAST mode to be enabled",
        ));
    }
    {
        let st = ctx.server.tracking.lock();
        let current = st.trackers.get(&id);
        if let Some(t) = current {
            if t.bcast != bcast {
                return Err(CmdError::err("You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode."));
            }
        }
        if bcast && (optin || optout) {
            return Err(CmdError::err(
                "OPTIN and OPTOUT are not compatible with BCAST",
            ));
        }
        if optin && optout {
            return Err(CmdError::err(
                "You can't specify both OPTIN mode and OPTOUT mode",
            ));
        }
        if current.is_some_and(|t| (optin && t.optout) || (optout && t.optin)) {
            return Err(CmdError::err("You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode."));
        }
        if bcast {
            let existing = current.map(|t| &t.prefixes);
            for (i, p) in prefixes.iter().enumerate() {
                if let Some(old) = existing.and_then(|e| e.iter().find(|o| overlaps(o, p))) {
                    return Err(CmdError::err(format!(
                        "Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap.",
                        String::from_utf8_lossy(p),
                        String::from_utf8_lossy(old)
                    )));
                }
                if let Some(other) = prefixes[i + 1..].iter().find(|o| overlaps(o, p)) {
                    return Err(CmdError::err(format!(
                        "Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap.",
                        String::from_utf8_lossy(p),
                        String::from_utf8_lossy(other)
                    )));
                }
            }
        }
    }
    // Invalidations arrive between replies: the client needs a mailbox.
    crate::commands::pubsub::ensure_subscriber(ctx)?;
    let tracking = &ctx.server.tracking;
    let mut st = tracking.lock();
    let info = Arc::clone(&ctx.client.info);
    let t = st.trackers.entry(id).or_insert_with(|| Tracker {
        info,
        redirect: 0,
        bcast: false,
        optin: false,
        optout: false,
        noloop: false,
        caching: false,
        broken: false,
        prefixes: BTreeSet::new(),
    });
    t.redirect = redirect as u64;
    t.bcast = bcast;
    t.optin = optin;
    t.optout = optout;
    t.noloop = noloop;
    t.broken = false;
    let mut added: Vec<Vec<u8>> = Vec::new();
    if bcast {
        if prefixes.is_empty() {
            prefixes.push(b"");
        }
        for p in prefixes {
            if t.prefixes.insert(p.to_vec()) {
                added.push(p.to_vec());
            }
        }
    }
    t.publish_flags();
    for p in added {
        st.prefixes.entry(p).or_default().clients.insert(id);
    }
    tracking.refresh(&st);
    drop(st);
    ctx.reply.ok();
    Ok(())
}

/// CLIENT CACHING YES|NO — `+OK`; applies to the next command only.
pub fn client_caching(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let mut st = ctx.server.tracking.lock();
    let Some(t) = st.trackers.get_mut(&ctx.client.id) else {
        return Err(CmdError::err("CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"));
    };
    match args[2].to_ascii_lowercase().as_slice() {
        b"yes" if t.optin => t.caching = true,
        b"yes" => {
            return Err(CmdError::err(
                "CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.",
            ))
        }
        b"no" if t.optout => t.caching = true,
        b"no" => {
            return Err(CmdError::err(
                "CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.",
            ))
        }
        _ => return Err(CmdError::Syntax),
    }
    drop(st);
    ctx.reply.ok();
    Ok(())
}

/// CLIENT GETREDIR — integer: the redirect id, 0 without one, -1 when
/// tracking is off.
pub fn client_getredir(ctx: &mut Ctx) -> CmdResult {
    let st = ctx.server.tracking.lock();
    let redir = st
        .trackers
        .get(&ctx.client.id)
        .map_or(-1, |t| t.redirect as i64);
    drop(st);
    ctx.reply.integer(redir);
    Ok(())
}

/// CLIENT TRACKINGINFO — map of `flags` (set), `redirect` (integer) and
/// `prefixes` (array).
pub fn client_trackinginfo(ctx: &mut Ctx) -> CmdResult {
    let st = ctx.server.tracking.lock();
    let t = st.trackers.get(&ctx.client.id);
    let mut flags: Vec<&str> = Vec::new();
    let (redirect, prefixes) = match t {
        None => {
            flags.push("off");
            (-1, Vec::new())
        }
        Some(t) => {
            flags.push("on");
            if t.bcast {
                flags.push("bcast");
            }
            if t.optin {
                flags.push("optin");
                if t.caching {
                    flags.push("caching-yes");
                }
            }
            if t.optout {
                flags.push("optout");
                if t.caching {
                    flags.push("caching-no");
                }
            }
            if t.noloop {
                flags.push("noloop");
            }
            if t.broken {
                flags.push("broken_redirect");
            }
            (t.redirect as i64, t.prefixes.iter().cloned().collect())
        }
    };
    drop(st);
    ctx.reply.map(3);
    ctx.reply.bulk(b"flags");
    ctx.reply.set(flags.len());
    for f in flags {
        ctx.reply.bulk(f.as_bytes());
    }
    ctx.reply.bulk(b"redirect");
    ctx.reply.integer(redirect);
    ctx.reply.bulk(b"prefixes");
    ctx.reply.array(prefixes.len());
    for p in prefixes {
        ctx.reply.bulk(&p);
    }
    Ok(())
}

/// RESET: tracking off.
pub fn reset(ctx: &mut Ctx) {
    if ctx.server.tracking.is_active() {
        disable(ctx.server, ctx.client.id);
    }
}
