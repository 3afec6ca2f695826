//! Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH,
//! PUBSUB, and the subscribed-mode rules of the dispatcher.
//!
//! The registry and the mailbox live in `src/pubsub.rs`, whose header
//! explains the writer thread a subscribed client gets. Replies are framed
//! as Redis frames them: each (un)subscribe confirmation is an array (RESP3:
//! a push) of `[kind, name, count]`, where `count` is the client's channels
//! plus patterns (shard channels alone for the sharded kind). UNSUBSCRIBE
//! without arguments confirms every subscription, or sends one
//! `[unsubscribe, nil, 0]` when there is none.
//!
//! In RESP2, a client with at least one subscription may only run
//! (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT and RESET, and its PING
//! answers `["pong", message]` ([`subscribed_mode_check`]).

use std::sync::Arc;

use super::{cmd, Command, Ctx, Group, Handler};
use crate::client::ClientState;
use crate::error::{CmdError, CmdResult};
use crate::pubsub::{Kind, Subscriber};
use crate::resp::ReplyBuf;
use crate::server::Server;

use Handler::Conn;

/// The pub/sub family's rows of the command table.
pub const COMMANDS: &[Command] = &[
    cmd(
        "subscribe",
        -2,
        "pubsub noscript loading stale",
        (0, 0, 0),
        Group::PubSub,
        "channel [channel ...]",
        "Listen for messages published to the given channels",
        Conn(subscribe_command),
    ),
    cmd(
        "unsubscribe",
        -1,
        "pubsub noscript loading stale",
        (0, 0, 0),
        Group::PubSub,
        "[channel [channel ...]]",
        "Stop listening for messages posted to the given channels",
        Conn(unsubscribe_command),
    ),
    cmd(
        "psubscribe",
        -2,
        "pubsub noscript loading stale",
        (0, 0, 0),
        Group::PubSub,
        "pattern [pattern ...]",
        "Listen for messages published to channels matching the given patterns",
        Conn(psubscribe_command),
    ),
    cmd(
        "punsubscribe",
        -1,
        "pubsub noscript loading stale",
        (0, 0, 0),
        Group::PubSub,
        "[pattern [pattern ...]]",
        "Stop listening for messages posted to channels matching the given patterns",
        Conn(punsubscribe_command),
    ),
    cmd(
        "ssubscribe",
        -2,
        "pubsub noscript loading stale",
        (1, -1, 1),
        Group::PubSub,
        "shardchannel [shardchannel ...]",
        "Listen for messages published to the given shard channels",
        Conn(ssubscribe_command),
    ),
    cmd(
        "sunsubscribe",
        -1,
        "pubsub noscript loading stale",
        (1, -1, 1),
        Group::PubSub,
        "[shardchannel [shardchannel ...]]",
        "Stop listening for messages posted to the given shard channels",
        Conn(sunsubscribe_command),
    ),
    cmd(
        "publish",
        3,
        "pubsub loading stale fast may_replicate",
        (0, 0, 0),
        Group::PubSub,
        "channel message",
        "Post a message to a channel",
        Conn(publish_command),
    ),
    cmd(
        "spublish",
        3,
        "pubsub loading stale fast may_replicate",
        (1, 1, 1),
        Group::PubSub,
        "shardchannel message",
        "Post a message to a shard channel",
        Conn(spublish_command),
    ),
    cmd(
        "pubsub",
        -2,
        "pubsub loading stale",
        (0, 0, 0),
        Group::PubSub,
        "CHANNELS|NUMSUB|NUMPAT|SHARDCHANNELS|SHARDNUMSUB|HELP [arguments]",
        "A container for Pub/Sub commands",
        Conn(pubsub_command),
    ),
];

/// Commands a RESP2 client may run while subscribed.
const SUBSCRIBED_MODE_ALLOWED: &[&str] = &[
    "subscribe",
    "ssubscribe",
    "psubscribe",
    "unsubscribe",
    "sunsubscribe",
    "punsubscribe",
    "ping",
    "quit",
    "reset",
];

/// The dispatcher's subscribed-mode rule (Redis's processCommand): for a
/// RESP2 client with subscriptions, refuses other commands with Redis's
/// error, and answers PING as `["pong", message]`. Returns None when the
/// command should run normally.
pub fn subscribed_mode_check(
    ctx: &mut Ctx,
    command: &Command,
    args: &[&[u8]],
) -> Option<CmdResult> {
    if ctx.reply.resp3() || !ctx.client.pubsub.is_subscribed() {
        return None;
    }
    if !SUBSCRIBED_MODE_ALLOWED.contains(&command.name) {
        return Some(Err(CmdError::err(format!(
            "Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context",
            command.name
        ))));
    }
    if command.name == "ping" {
        if args.len() > 2 {
            return Some(Err(CmdError::WrongArity("ping".into())));
        }
        ctx.reply.array(2);
        ctx.reply.bulk(b"pong");
        ctx.reply.bulk(args.get(1).copied().unwrap_or(b""));
        return Some(Ok(()));
    }
    None
}

/// Makes sure the client has a mailbox and a writer thread; moves the
/// replies built so far into the mailbox so they precede what follows.
pub(crate) fn ensure_subscriber(ctx: &mut Ctx) -> Result<Arc<Subscriber>, CmdError> {
    let sub = match &ctx.client.pubsub.subscriber {
        Some(sub) => Arc::clone(sub),
        None => {
            let stream = ctx
                .client
                .info
                .stream
                .as_ref()
                .and_then(|s| s.try_clone().ok())
                .ok_or_else(|| CmdError::err("cannot subscribe on this connection"))?;
            let mailbox = Arc::clone(ctx.client.info.mailbox.get_or_init(Default::default));
            let writer = crate::client::start_writer(
                ctx.server,
                &ctx.client.info,
                stream,
                Arc::clone(&mailbox),
            )
            .map_err(|e| CmdError::err(format!("cannot start the writer thread: {e}")))?;
            let sub = Arc::new(Subscriber {
                id: ctx.client.id,
                mailbox,
                info: Arc::clone(&ctx.client.info),
            });
            ctx.client.pubsub.subscriber = Some(Arc::clone(&sub));
            ctx.client.pubsub.writer = Some(writer);
            sub
        }
    };
    if !ctx.reply.buf.is_empty() {
        let earlier = std::mem::take(&mut ctx.reply.buf);
        let _ = sub.mailbox.push(Arc::new(earlier), None);
    }
    Ok(sub)
}

fn sync_counts(client: &ClientState) {
    use std::sync::atomic::Ordering::Relaxed;
    let p = &client.pubsub;
    client.info.sub_counts[0].store(p.channels.len(), Relaxed);
    client.info.sub_counts[1].store(p.patterns.len(), Relaxed);
    client.info.sub_counts[2].store(p.shard_channels.len(), Relaxed);
}

fn confirmation(proto: u8, kind: &[u8], name: Option<&[u8]>, count: usize) -> Vec<u8> {
    let mut r = ReplyBuf {
        buf: Vec::with_capacity(48),
        proto,
    };
    r.push(3);
    r.bulk(kind);
    match name {
        Some(n) => r.bulk(n),
        None => r.null(),
    }
    r.integer(count as i64);
    r.buf
}

fn subscribe_generic(ctx: &mut Ctx, kind: Kind, names: &[&[u8]]) -> CmdResult {
    let sub = ensure_subscriber(ctx)?;
    for name in names {
        ctx.client.pubsub.set(kind).insert(name.to_vec());
        sync_counts(ctx.client);
        let count = ctx.client.pubsub.reported_count(kind);
        let frame = confirmation(ctx.reply.proto, kind.subscribe_name(), Some(name), count);
        ctx.server
            .pubsub
            .subscribe(kind, name, &sub, Arc::new(frame));
    }
    Ok(())
}

fn unsubscribe_generic(ctx: &mut Ctx, kind: Kind, names: &[&[u8]]) -> CmdResult {
    let names: Vec<Vec<u8>> = if names.is_empty() {
        ctx.client.pubsub.set(kind).iter().cloned().collect()
    } else {
        names.iter().map(|n| n.to_vec()).collect()
    };
    if names.is_empty() {
        let count = ctx.client.pubsub.reported_count(kind);
        let frame = confirmation(ctx.reply.proto, kind.unsubscribe_name(), None, count);
        ctx.reply.buf.extend_from_slice(&frame);
        return Ok(());
    }
    for name in names {
        if ctx.client.pubsub.set(kind).remove(&name) {
            ctx.server.pubsub.unsubscribe(kind, &name, ctx.client.id);
        }
        sync_counts(ctx.client);
        let count = ctx.client.pubsub.reported_count(kind);
        let frame = confirmation(ctx.reply.proto, kind.unsubscribe_name(), Some(&name), count);
        ctx.reply.buf.extend_from_slice(&frame);
    }
    Ok(())
}

/// Drops every subscription of a client leaving (or RESET), without replies.
pub fn unsubscribe_all(server: &Server, client: &mut ClientState) {
    for kind in [Kind::Channel, Kind::Pattern, Kind::Shard] {
        for name in std::mem::take(client.pubsub.set(kind)) {
            server.pubsub.unsubscribe(kind, &name, client.id);
        }
    }
    sync_counts(client);
}

/// SUBSCRIBE channel [channel ...] — one `[subscribe, channel, count]`
/// push per channel; then messages arrive as `[message, channel, payload]`.
fn subscribe_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    subscribe_generic(ctx, Kind::Channel, &args[1..])
}

/// UNSUBSCRIBE [channel ...] — one `[unsubscribe, channel, count]` push per
/// channel (every subscribed channel when none is given).
fn unsubscribe_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(ctx, Kind::Channel, &args[1..])
}

/// PSUBSCRIBE pattern [pattern ...] — `[psubscribe, pattern, count]` per
/// pattern; messages arrive as `[pmessage, pattern, channel, payload]`.
fn psubscribe_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    subscribe_generic(ctx, Kind::Pattern, &args[1..])
}

/// PUNSUBSCRIBE [pattern ...] — `[punsubscribe, pattern, count]` per pattern.
fn punsubscribe_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(ctx, Kind::Pattern, &args[1..])
}

/// SSUBSCRIBE shardchannel [...] — `[ssubscribe, channel, count]` per
/// channel; messages arrive as `[smessage, channel, payload]`.
fn ssubscribe_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    subscribe_generic(ctx, Kind::Shard, &args[1..])
}

/// SUNSUBSCRIBE [shardchannel ...] — `[sunsubscribe, channel, count]` each.
fn sunsubscribe_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    unsubscribe_generic(ctx, Kind::Shard, &args[1..])
}

/// PUBLISH channel message — integer: the number of clients that received
/// it (channel subscribers plus matching pattern subscriptions).
fn publish_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let n = ctx.server.pubsub.publish(Kind::Channel, args[1], args[2]);
    crate::persistence::aof::propagate_to_replicas(ctx, args);
    ctx.reply.integer(n as i64);
    Ok(())
}

/// SPUBLISH shardchannel message — integer: the number of receivers.
fn spublish_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let n = ctx.server.pubsub.publish(Kind::Shard, args[1], args[2]);
    crate::persistence::aof::propagate_to_replicas(ctx, args);
    ctx.reply.integer(n as i64);
    Ok(())
}

const PUBSUB_HELP: &[&str] = &[
    "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
    "HELP",
    "    Print this help.",
];

/// PUBSUB CHANNELS [pattern] | NUMSUB [channel ...] | NUMPAT |
/// SHARDCHANNELS [pattern] | SHARDNUMSUB [channel ...] | HELP — arrays of
/// channel names, flat arrays of channel/count pairs, or an integer.
fn pubsub_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let sub = args[1].to_ascii_uppercase();
    let ps = &ctx.server.pubsub;
    match (sub.as_slice(), args.len()) {
        (b"CHANNELS", 2 | 3) | (b"SHARDCHANNELS", 2 | 3) => {
            let kind = if sub == b"CHANNELS" {
                Kind::Channel
            } else {
                Kind::Shard
            };
            let names = ps.channels(kind, args.get(2).copied());
            ctx.reply.bulk_array(names.iter().map(|n| n.as_slice()));
        }
        (b"NUMSUB", _) | (b"SHARDNUMSUB", _) => {
            let kind = if sub == b"NUMSUB" {
                Kind::Channel
            } else {
                Kind::Shard
            };
            ctx.reply.array(2 * (args.len() - 2));
            for ch in &args[2..] {
                ctx.reply.bulk(ch);
                ctx.reply.integer(ps.numsub(kind, ch) as i64);
            }
        }
        (b"NUMPAT", 2) => ctx.reply.integer(ps.count(Kind::Pattern) as i64),
        (b"HELP", 2) => {
            ctx.reply.array(PUBSUB_HELP.len());
            for line in PUBSUB_HELP {
                ctx.reply.simple(line);
            }
        }
        _ => {
            return Err(CmdError::err(format!(
                "unknown subcommand or wrong number of arguments for '{}'. Try PUBSUB HELP.",
                String::from_utf8_lossy(args[1])
            )))
        }
    }
    Ok(())
}
