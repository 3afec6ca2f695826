//! Publish/subscribe: the channel and pattern registry, and the per-subscriber
//! [`Mailbox`] messages are queued in.
//!
//! # Threads
//!
//! A connection normally has one thread, `client-<id>` (client.rs), which
//! reads a batch of requests, runs them and writes the replies itself. The
//! first time the client subscribes to anything (SUBSCRIBE, PSUBSCRIBE,
//! SSUBSCRIBE) it gets a [`Mailbox`] and a second thread, `client-<id>-w`,
//! the *writer*, which owns a clone of the socket:
//!
//! ```text
//!  publisher threads ──push(message frame)──┐
//!  (any client running PUBLISH,             │
//!   keyspace events after a write)          v
//!                                     Mailbox: Mutex<VecDeque<frame>> + Condvar
//!  client-<id> (reads requests) ──push(reply batch)──^         │ pop (blocks)
//!                                                               v
//!                                         client-<id>-w: write_all(socket clone)
//! ```
//!
//! From then on the reading thread never writes to the socket: it pushes
//! each batch of replies into the same mailbox, so replies and messages are
//! serialized through one writer and frames never interleave. The writer
//! blocks on the condition variable while the mailbox is empty and, when it
//! wakes, takes everything queued (up to [`WRITE_BATCH_BYTES`]) and writes it
//! with one `write_all`. The reading thread stays free to read SUBSCRIBE,
//! UNSUBSCRIBE and PING while messages flow. When the connection ends the
//! reading thread closes the mailbox and joins the writer.
//!
//! # Ordering
//!
//! A subscribe confirmation is pushed into the mailbox while the registry's
//! write lock is held, after any replies produced earlier in the batch; a
//! publisher finds subscribers under the read lock and pushes while still
//! holding it. So a client always sees its `subscribe` confirmation before
//! the first message of that channel, never a message after its
//! `unsubscribe` confirmation, and messages of one publisher in publish order.
//!
//! # Output limits
//!
//! Every mailbox counts the bytes queued in it. `client-output-buffer-limit
//! pubsub <hard> <soft> <seconds>` (Redis's default 32mb 8mb 60) is checked on
//! each push: above the hard limit, or above the soft limit for longer than
//! `seconds`, the mailbox is emptied and closed and the client is killed, as
//! Redis does with a subscriber that stops reading. Memory for a slow
//! subscriber is therefore bounded by the hard limit plus one write batch.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::client::ClientInfo;
use crate::resp::ReplyBuf;
use crate::store::glob::glob_match;

/// The most bytes the writer thread takes from a mailbox for one write.
pub const WRITE_BATCH_BYTES: usize = 64 * 1024;

/// One encoded piece of output (a message, or a batch of replies).
pub type Frame = Arc<Vec<u8>>;

/// `client-output-buffer-limit pubsub`, read on every push.
#[derive(Debug, Default)]
pub struct OutputLimit {
    /// Hard limit in bytes (0 = none).
    pub hard_bytes: AtomicU64,
    /// Soft limit in bytes (0 = none).
    pub soft_bytes: AtomicU64,
    /// How long the soft limit may be exceeded, seconds.
    pub soft_secs: AtomicU64,
}

#[derive(Debug, Default)]
struct MailboxState {
    frames: VecDeque<Frame>,
    queued_bytes: usize,
    closed: bool,
    soft_since: Option<Instant>,
    /// Threads waiting in `pop`/`pop_timeout`. A push wakes one only when
    /// there is one: std's `notify_one` is a futex syscall even when nobody
    /// waits, and a busy writer (the usual case under load) needs no wake.
    waiters: usize,
}

/// A subscriber's queue: a `Mutex<VecDeque>` plus a `Condvar`, with
/// blocking [`Mailbox::pop`], [`Mailbox::try_pop`] and [`Mailbox::pop_timeout`].
#[derive(Debug, Default)]
pub struct Mailbox {
    state: Mutex<MailboxState>,
    ready: Condvar,
}

/// Why a push was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum PushError {
    /// The mailbox was closed (the client is leaving).
    Closed,
    /// The output limit was exceeded: the caller must kill the client.
    Overflow,
}

impl Mailbox {
    /// An empty, open mailbox.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MailboxState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a frame and wakes the writer. With `limit`, enforces the
    /// output buffer limit: on overflow the mailbox is emptied and closed.
    pub fn push(&self, frame: Frame, limit: Option<&OutputLimit>) -> Result<(), PushError> {
        let mut st = self.lock();
        if st.closed {
            return Err(PushError::Closed);
        }
        st.queued_bytes += frame.len();
        st.frames.push_back(frame);
        if let Some(limit) = limit {
            let queued = st.queued_bytes as u64;
            let hard = limit.hard_bytes.load(Ordering::Relaxed);
            let soft = limit.soft_bytes.load(Ordering::Relaxed);
            let mut over = hard > 0 && queued > hard;
            if soft > 0 && queued > soft {
                let since = *st.soft_since.get_or_insert_with(Instant::now);
                if since.elapsed() >= Duration::from_secs(limit.soft_secs.load(Ordering::Relaxed)) {
                    over = true;
                }
            } else {
                st.soft_since = None;
            }
            if over {
                st.frames.clear();
                st.queued_bytes = 0;
                st.closed = true;
                drop(st);
                self.ready.notify_all();
                return Err(PushError::Overflow);
            }
        }
        let wake = st.waiters > 0;
        drop(st);
        if wake {
            self.ready.notify_one();
        }
        Ok(())
    }

    fn take(st: &mut MailboxState) -> Option<Frame> {
        let f = st.frames.pop_front()?;
        st.queued_bytes -= f.len();
        Some(f)
    }

    /// Waits for a frame; None once the mailbox is closed and empty.
    pub fn pop(&self) -> Option<Frame> {
        let mut st = self.lock();
        loop {
            if let Some(f) = Self::take(&mut st) {
                return Some(f);
            }
            if st.closed {
                return None;
            }
            st.waiters += 1;
            st = self.ready.wait(st).unwrap_or_else(|p| p.into_inner());
            st.waiters -= 1;
        }
    }

    /// A frame if one is queued, without waiting.
    pub fn try_pop(&self) -> Option<Frame> {
        Self::take(&mut self.lock())
    }

    /// Waits at most `timeout` for a frame.
    pub fn pop_timeout(&self, timeout: Duration) -> Option<Frame> {
        let deadline = Instant::now() + timeout;
        let mut st = self.lock();
        loop {
            if let Some(f) = Self::take(&mut st) {
                return Some(f);
            }
            let now = Instant::now();
            if st.closed || now >= deadline {
                return None;
            }
            st.waiters += 1;
            st = self
                .ready
                .wait_timeout(st, deadline - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
            st.waiters -= 1;
        }
    }

    /// Refuses further pushes; `pop` returns what is left, then None.
    pub fn close(&self) {
        self.lock().closed = true;
        self.ready.notify_all();
    }

    /// Bytes queued and not yet taken by the writer (CLIENT LIST omem).
    pub fn queued_bytes(&self) -> usize {
        self.lock().queued_bytes
    }

    /// Frames queued (CLIENT LIST oll).
    pub fn queued_frames(&self) -> usize {
        self.lock().frames.len()
    }
}

/// A client registered in the pub/sub registry.
#[derive(Debug)]
pub struct Subscriber {
    /// CLIENT ID.
    pub id: u64,
    /// Where its messages go.
    pub mailbox: Arc<Mailbox>,
    /// Its shared view (protocol version; kill on overflow).
    pub info: Arc<ClientInfo>,
}

/// The three namespaces of subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// SUBSCRIBE / PUBLISH.
    Channel,
    /// PSUBSCRIBE (glob patterns).
    Pattern,
    /// SSUBSCRIBE / SPUBLISH.
    Shard,
}

impl Kind {
    /// The name of the subscribe confirmation.
    pub fn subscribe_name(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"subscribe",
            Kind::Pattern => b"psubscribe",
            Kind::Shard => b"ssubscribe",
        }
    }

    /// The name of the unsubscribe confirmation.
    pub fn unsubscribe_name(self) -> &'static [u8] {
        match self {
            Kind::Channel => b"unsubscribe",
            Kind::Pattern => b"punsubscribe",
            Kind::Shard => b"sunsubscribe",
        }
    }
}

type Subscribers = BTreeMap<u64, Arc<Subscriber>>;

#[derive(Debug, Default)]
struct Registry {
    channels: HashMap<Vec<u8>, Subscribers>,
    patterns: HashMap<Vec<u8>, Subscribers>,
    shard_channels: HashMap<Vec<u8>, Subscribers>,
}

impl Registry {
    fn map(&mut self, kind: Kind) -> &mut HashMap<Vec<u8>, Subscribers> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    fn map_ref(&self, kind: Kind) -> &HashMap<Vec<u8>, Subscribers> {
        match kind {
            Kind::Channel => &self.channels,
            Kind::Pattern => &self.patterns,
            Kind::Shard => &self.shard_channels,
        }
    }
}

/// The server-wide pub/sub state.
#[derive(Debug, Default)]
pub struct PubSub {
    registry: RwLock<Registry>,
    /// client-output-buffer-limit pubsub.
    pub limit: OutputLimit,
    /// notify-keyspace-events, parsed into `NOTIFY_*` bits.
    pub notify_flags: AtomicU32,
}

/// A message frame: `[kind, (pattern,) channel, message]` as a push.
pub fn message_frame(
    proto: u8,
    kind: &[u8],
    pattern: Option<&[u8]>,
    channel: &[u8],
    message: &[u8],
) -> Vec<u8> {
    let mut r = ReplyBuf {
        buf: Vec::with_capacity(32 + channel.len() + message.len()),
        proto,
    };
    r.push(if pattern.is_some() { 4 } else { 3 });
    r.bulk(kind);
    if let Some(p) = pattern {
        r.bulk(p);
    }
    r.bulk(channel);
    r.bulk(message);
    r.buf
}

impl PubSub {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Registry> {
        self.registry.write().unwrap_or_else(|p| p.into_inner())
    }

    fn deliver(&self, sub: &Subscriber, frame: Frame) {
        if sub.mailbox.push(frame, Some(&self.limit)) == Err(PushError::Overflow) {
            log::warn!(
                "client {} closed for overcoming of output buffer limits (pubsub)",
                sub.id
            );
            sub.info.kill();
        }
    }

    /// Adds `sub` to `name`; pushes `confirmation` to its mailbox while the
    /// registry is locked, so no message of `name` can precede it.
    pub fn subscribe(&self, kind: Kind, name: &[u8], sub: &Arc<Subscriber>, confirmation: Frame) {
        let mut reg = self.write();
        reg.map(kind)
            .entry(name.to_vec())
            .or_default()
            .insert(sub.id, Arc::clone(sub));
        let _ = sub.mailbox.push(confirmation, None);
    }

    /// Removes client `id` from `name`.
    pub fn unsubscribe(&self, kind: Kind, name: &[u8], id: u64) {
        let mut reg = self.write();
        let map = reg.map(kind);
        if let Some(subs) = map.get_mut(name) {
            subs.remove(&id);
            if subs.is_empty() {
                map.remove(name);
            }
        }
    }

    /// PUBLISH / SPUBLISH: delivers to the channel's subscribers (and, for
    /// [`Kind::Channel`], to every matching pattern); returns the number of
    /// receivers.
    pub fn publish(&self, kind: Kind, channel: &[u8], message: &[u8]) -> usize {
        let reg = self.read();
        let mut receivers = 0;
        let name: &[u8] = if kind == Kind::Shard {
            b"smessage"
        } else {
            b"message"
        };
        // One encoding per protocol version, shared by every subscriber.
        let mut frames: [Option<Frame>; 2] = [None, None];
        if let Some(subs) = reg.map_ref(kind).get(channel) {
            for sub in subs.values() {
                let proto = sub.info.resp.load(Ordering::Relaxed);
                let slot = &mut frames[(proto >= 3) as usize];
                let frame = slot
                    .get_or_insert_with(|| {
                        Arc::new(message_frame(proto, name, None, channel, message))
                    })
                    .clone();
                self.deliver(sub, frame);
                receivers += 1;
            }
        }
        if kind == Kind::Channel {
            for (pattern, subs) in &reg.patterns {
                if !glob_match(pattern, channel, false) {
                    continue;
                }
                let mut frames: [Option<Frame>; 2] = [None, None];
                for sub in subs.values() {
                    let proto = sub.info.resp.load(Ordering::Relaxed);
                    let frame = frames[(proto >= 3) as usize]
                        .get_or_insert_with(|| {
                            Arc::new(message_frame(
                                proto,
                                b"pmessage",
                                Some(pattern),
                                channel,
                                message,
                            ))
                        })
                        .clone();
                    self.deliver(sub, frame);
                    receivers += 1;
                }
            }
        }
        receivers
    }

    /// PUBSUB CHANNELS / SHARDCHANNELS: active channels matching `pattern`.
    pub fn channels(&self, kind: Kind, pattern: Option<&[u8]>) -> Vec<Vec<u8>> {
        let reg = self.read();
        let mut out: Vec<Vec<u8>> = reg
            .map_ref(kind)
            .keys()
            .filter(|c| pattern.is_none_or(|p| glob_match(p, c, false)))
            .cloned()
            .collect();
        out.sort();
        out
    }

    /// Number of subscribers of one channel (PUBSUB NUMSUB).
    pub fn numsub(&self, kind: Kind, channel: &[u8]) -> usize {
        self.read()
            .map_ref(kind)
            .get(channel)
            .map_or(0, |s| s.len())
    }

    /// Number of distinct names of a kind (PUBSUB NUMPAT, INFO stats).
    pub fn count(&self, kind: Kind) -> usize {
        self.read().map_ref(kind).len()
    }
}

/// One client's subscriptions, owned by its thread (lives in `ClientState`).
#[derive(Debug, Default)]
pub struct ClientPubSub {
    /// SUBSCRIBE channels.
    pub channels: BTreeSet<Vec<u8>>,
    /// PSUBSCRIBE patterns.
    pub patterns: BTreeSet<Vec<u8>>,
    /// SSUBSCRIBE channels.
    pub shard_channels: BTreeSet<Vec<u8>>,
    /// Set on the first subscription; from then on all output goes here.
    pub subscriber: Option<Arc<Subscriber>>,
    /// The writer thread draining the mailbox to the socket.
    pub writer: Option<JoinHandle<()>>,
}

impl ClientPubSub {
    /// The set of one kind.
    pub fn set(&mut self, kind: Kind) -> &mut BTreeSet<Vec<u8>> {
        match kind {
            Kind::Channel => &mut self.channels,
            Kind::Pattern => &mut self.patterns,
            Kind::Shard => &mut self.shard_channels,
        }
    }

    /// The count Redis reports in (un)subscribe confirmations: channels plus
    /// patterns for the classic kinds, shard channels for the sharded one.
    pub fn reported_count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Shard => self.shard_channels.len(),
            _ => self.channels.len() + self.patterns.len(),
        }
    }

    /// True while the client has any subscription (Redis's CLIENT_PUBSUB).
    pub fn is_subscribed(&self) -> bool {
        !(self.channels.is_empty() && self.patterns.is_empty() && self.shard_channels.is_empty())
    }
}

// ---- keyspace notifications --------------------------------------------

/// `K`: publish to `__keyspace@<db>__:<key>`.
pub const NOTIFY_KEYSPACE: u32 = 1 << 0;
/// `E`: publish to `__keyevent@<db>__:<event>`.
pub const NOTIFY_KEYEVENT: u32 = 1 << 1;
/// `g`: generic commands (DEL, EXPIRE, RENAME ...).
pub const NOTIFY_GENERIC: u32 = 1 << 2;
/// `$`: string commands.
pub const NOTIFY_STRING: u32 = 1 << 3;
/// `l`: list commands.
pub const NOTIFY_LIST: u32 = 1 << 4;
/// `s`: set commands.
pub const NOTIFY_SET: u32 = 1 << 5;
/// `h`: hash commands.
pub const NOTIFY_HASH: u32 = 1 << 6;
/// `z`: sorted set commands.
pub const NOTIFY_ZSET: u32 = 1 << 7;
/// `x`: expired events.
pub const NOTIFY_EXPIRED: u32 = 1 << 8;
/// `e`: evicted events.
pub const NOTIFY_EVICTED: u32 = 1 << 9;
/// `t`: stream commands.
pub const NOTIFY_STREAM: u32 = 1 << 10;
/// `m`: key miss (not part of `A`).
pub const NOTIFY_KEY_MISS: u32 = 1 << 11;
/// `d`: module events.
pub const NOTIFY_MODULE: u32 = 1 << 13;
/// `n`: new key (not part of `A`).
pub const NOTIFY_NEW: u32 = 1 << 14;
/// `A`: alias for `g$lshzxetd`.
pub const NOTIFY_ALL: u32 = NOTIFY_GENERIC
    | NOTIFY_STRING
    | NOTIFY_LIST
    | NOTIFY_SET
    | NOTIFY_HASH
    | NOTIFY_ZSET
    | NOTIFY_EXPIRED
    | NOTIFY_EVICTED
    | NOTIFY_STREAM
    | NOTIFY_MODULE;

/// The bit of one class letter.
pub fn notify_class_bit(c: char) -> Option<u32> {
    Some(match c {
        'A' => NOTIFY_ALL,
        'g' => NOTIFY_GENERIC,
        '$' => NOTIFY_STRING,
        'l' => NOTIFY_LIST,
        's' => NOTIFY_SET,
        'h' => NOTIFY_HASH,
        'z' => NOTIFY_ZSET,
        'x' => NOTIFY_EXPIRED,
        'e' => NOTIFY_EVICTED,
        'K' => NOTIFY_KEYSPACE,
        'E' => NOTIFY_KEYEVENT,
        't' => NOTIFY_STREAM,
        'm' => NOTIFY_KEY_MISS,
        'd' => NOTIFY_MODULE,
        'n' => NOTIFY_NEW,
        _ => return None,
    })
}

/// Parses notify-keyspace-events (Redis's `keyspaceEventsStringToFlags`).
pub fn parse_notify_flags(s: &str) -> Option<u32> {
    s.chars()
        .try_fold(0, |acc, c| Some(acc | notify_class_bit(c)?))
}

/// Prints flags as CONFIG GET shows them (`keyspaceEventsFlagsToString`).
pub fn notify_flags_string(flags: u32) -> String {
    let mut out = String::new();
    if flags & NOTIFY_ALL == NOTIFY_ALL {
        out.push('A');
    } else {
        for c in "g$lshzxetdn".chars() {
            if notify_class_bit(c).is_some_and(|b| flags & b != 0) {
                out.push(c);
            }
        }
    }
    for c in "KEm".chars() {
        if notify_class_bit(c).is_some_and(|b| flags & b != 0) {
            out.push(c);
        }
    }
    out
}

/// Validates and normalizes a notify-keyspace-events value (CONFIG SET,
/// config file); the error is Redis's.
pub fn normalize_notify_flags(value: &str) -> Result<String, String> {
    parse_notify_flags(value)
        .map(notify_flags_string)
        .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".to_string())
}

/// Parses `client-output-buffer-limit` and stores its pubsub class.
pub fn set_output_limit(limit: &OutputLimit, config_value: &str) {
    set_output_limit_of(limit, config_value, "pubsub");
}

/// Parses `client-output-buffer-limit` and stores the limits of `which`
/// class (normal, replica, pubsub).
pub fn set_output_limit_of(limit: &OutputLimit, config_value: &str, which: &str) {
    let words: Vec<&str> = config_value.split_whitespace().collect();
    for chunk in words.chunks(4) {
        if let [class, hard, soft, secs] = chunk {
            if *class == which {
                let num = |s: &str| crate::config::parse_memory(s).unwrap_or(0).max(0) as u64;
                limit.hard_bytes.store(num(hard), Ordering::Relaxed);
                limit.soft_bytes.store(num(soft), Ordering::Relaxed);
                limit
                    .soft_secs
                    .store(secs.parse().unwrap_or(0), Ordering::Relaxed);
            }
        }
    }
}

impl PubSub {
    /// Publishes keyspace events raised by one command in database `db`
    /// (Redis's `notifyKeyspaceEvent`). Called without the store lock.
    pub fn publish_keyspace_events(&self, db: usize, events: &[(char, &'static str, Vec<u8>)]) {
        let flags = self.notify_flags.load(Ordering::Relaxed);
        for (class, event, key) in events {
            let Some(bit) = notify_class_bit(*class) else {
                continue;
            };
            if flags & bit == 0 {
                continue;
            }
            if flags & NOTIFY_KEYSPACE != 0 {
                let mut channel = format!("__keyspace@{db}__:").into_bytes();
                channel.extend_from_slice(key);
                self.publish(Kind::Channel, &channel, event.as_bytes());
            }
            if flags & NOTIFY_KEYEVENT != 0 {
                let channel = format!("__keyevent@{db}__:{event}").into_bytes();
                self.publish(Kind::Channel, &channel, key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mailbox_pops_in_order_and_times_out() {
        let m = Mailbox::new();
        m.push(Arc::new(b"a".to_vec()), None).unwrap();
        m.push(Arc::new(b"bc".to_vec()), None).unwrap();
        assert_eq!(m.queued_bytes(), 3);
        assert_eq!(m.pop().as_deref().map(|v| v.as_slice()), Some(&b"a"[..]));
        assert_eq!(
            m.try_pop().as_deref().map(|v| v.as_slice()),
            Some(&b"bc"[..])
        );
        assert!(m.try_pop().is_none());
        assert!(m.pop_timeout(Duration::from_millis(5)).is_none());
        m.close();
        assert!(m.pop().is_none());
        assert_eq!(m.push(Arc::new(vec![1]), None), Err(PushError::Closed));
    }

    #[test]
    fn mailbox_wakes_a_waiting_popper() {
        let m = Arc::new(Mailbox::new());
        let m2 = Arc::clone(&m);
        let t = std::thread::spawn(move || m2.pop());
        m.push(Arc::new(b"x".to_vec()), None).unwrap();
        assert_eq!(t.join().unwrap().map(|f| f.to_vec()), Some(b"x".to_vec()));
    }

    #[test]
    fn hard_limit_closes_the_mailbox() {
        let limit = OutputLimit::default();
        limit.hard_bytes.store(10, Ordering::Relaxed);
        let m = Mailbox::new();
        assert!(m.push(Arc::new(vec![0; 8]), Some(&limit)).is_ok());
        assert_eq!(
            m.push(Arc::new(vec![0; 8]), Some(&limit)),
            Err(PushError::Overflow)
        );
        assert_eq!(m.queued_bytes(), 0);
        assert!(m.pop().is_none());
    }

    #[test]
    fn notify_flags_round_trip_like_redis() {
        let norm = |s| normalize_notify_flags(s).unwrap();
        assert_eq!(norm("gKE"), "gKE");
        assert_eq!(norm("$lshzxeKE"), "$lshzxeKE");
        assert_eq!(norm("KA"), "AK");
        assert_eq!(norm("EA"), "AE");
        assert_eq!(norm("KEAn"), "AKE");
        assert_eq!(norm("nd"), "dn");
        assert_eq!(norm(""), "");
        assert!(normalize_notify_flags("Kq").is_err());
    }

    #[test]
    fn frames_are_pushes() {
        assert_eq!(
            message_frame(2, b"message", None, b"c", b"hi"),
            b"*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n"
        );
        assert_eq!(
            message_frame(3, b"pmessage", Some(b"c*"), b"c", b"hi"),
            b">4\r\n$8\r\npmessage\r\n$2\r\nc*\r\n$1\r\nc\r\n$2\r\nhi\r\n"
        );
    }
}
