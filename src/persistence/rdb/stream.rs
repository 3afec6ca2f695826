//! Streams in RDB files (types 15, 19 and 21), as Redis 7.0 writes them.
//!
//! ```text
//! <node count>
//!   per node:  <master ID: 16 raw bytes, ms and seq big-endian> <listpack>
//! <length> <last ID ms> <last ID seq>
//! [type >= 19] <first ID ms> <seq> <max deleted ID ms> <seq> <entries added>
//! <group count>
//!   per group: <name> <last delivered ms> <seq> [type >= 19] <entries read>
//!              <PEL size>  per entry: <16-byte ID> <delivery time: u64 LE ms> <delivery count>
//!              <consumer count>
//!                per consumer: <name> <seen time: u64 LE ms> [type 21: <active time>]
//!                              <PEL size> per entry: <16-byte ID>
//! ```
//!
//! A node's listpack holds a "master entry" (live count, deleted count, the
//! master field names, a 0) and then each entry as flags, ms and seq
//! relative to the master ID, then either only the values (flag SAMEFIELDS:
//! same field names as the master entry) or a field count and field/value
//! pairs, and finally the entry's element count (for reverse traversal).
//! We write live entries only, 100 per node, and type 19 (Redis 7.0's).

use std::io::{self, Read, Write};

use super::reader::Input;
use super::writer::Output;
use super::{RdbError, TYPE_STREAM_LISTPACKS, TYPE_STREAM_LISTPACKS_3};
use crate::persistence::listpack::{self, ListpackBuilder, PackedEntry};
use crate::store::stream::{Consumer, Fields, Group, NodeLimits, Pending, Stream, StreamId};

const FLAG_DELETED: i64 = 1;
const FLAG_SAMEFIELDS: i64 = 2;
/// Entries per node we write (stream-node-max-entries' default).
const NODE_ENTRIES: usize = 100;

fn raw_id(id: StreamId) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&id.ms.to_be_bytes());
    out[8..].copy_from_slice(&id.seq.to_be_bytes());
    out
}

fn num(v: impl ToString) -> Vec<u8> {
    v.to_string().into_bytes()
}

/// Builds one node's listpack for `entries` (non-empty), master ID `master`.
fn node_listpack(master: StreamId, entries: &[(&StreamId, &Fields)]) -> Vec<u8> {
    let mut lp = ListpackBuilder::new();
    let master_fields: Vec<&[u8]> = entries[0].1.iter().map(|(f, _)| f.as_slice()).collect();
    lp.push(&num(entries.len()));
    lp.push(b"0");
    lp.push(&num(master_fields.len()));
    for f in &master_fields {
        lp.push(f);
    }
    lp.push(b"0");
    for (id, fields) in entries {
        let same = fields.len() == master_fields.len()
            && fields
                .iter()
                .zip(&master_fields)
                .all(|((f, _), m)| f.as_slice() == *m);
        lp.push(&num(if same { FLAG_SAMEFIELDS } else { 0 }));
        lp.push(&num(id.ms - master.ms));
        lp.push(&num(id.seq.wrapping_sub(master.seq) as i64));
        if same {
            for (_, v) in fields.iter() {
                lp.push(v);
            }
            lp.push(&num(fields.len() + 3));
        } else {
            lp.push(&num(fields.len()));
            for (f, v) in fields.iter() {
                lp.push(f);
                lp.push(v);
            }
            lp.push(&num(fields.len() * 2 + 4));
        }
    }
    lp.finish()
}

/// Writes a stream's body (after its type byte and key), as type 19.
pub(crate) fn write_stream<W: Write>(
    out: &mut Output<W>,
    s: &Stream,
    compression: bool,
) -> io::Result<()> {
    let entries: Vec<(&StreamId, &Fields)> = s.entries.iter().collect();
    let chunks: Vec<&[(&StreamId, &Fields)]> = entries.chunks(NODE_ENTRIES).collect();
    out.write_len(chunks.len() as u64)?;
    for chunk in chunks {
        let master = *chunk[0].0;
        out.write_string(&raw_id(master), false)?;
        out.write_string(&node_listpack(master, chunk), compression)?;
    }
    out.write_len(s.len() as u64)?;
    out.write_len(s.last_id.ms)?;
    out.write_len(s.last_id.seq)?;
    let first = s.first_id();
    out.write_len(first.ms)?;
    out.write_len(first.seq)?;
    out.write_len(s.max_deleted_id.ms)?;
    out.write_len(s.max_deleted_id.seq)?;
    out.write_len(s.entries_added)?;
    out.write_len(s.groups.len() as u64)?;
    for (name, g) in &s.groups {
        out.write_string(name, false)?;
        out.write_len(g.last_delivered.ms)?;
        out.write_len(g.last_delivered.seq)?;
        // SCG_INVALID_ENTRIES_READ is -1, written as an unsigned length.
        out.write_len(g.entries_read.unwrap_or(u64::MAX))?;
        out.write_len(g.pel.len() as u64)?;
        for (id, p) in &g.pel {
            out.write(&raw_id(*id))?;
            out.write(&(p.delivery_ms as u64).to_le_bytes())?;
            out.write_len(p.deliveries)?;
        }
        out.write_len(g.consumers.len() as u64)?;
        for (cname, c) in &g.consumers {
            out.write_string(cname, false)?;
            out.write(&(c.seen_ms as u64).to_le_bytes())?;
            out.write_len(c.pel.len() as u64)?;
            for id in &c.pel {
                out.write(&raw_id(*id))?;
            }
        }
    }
    Ok(())
}

fn parse_raw_id(bytes: &[u8]) -> Option<StreamId> {
    let ms = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
    let seq = u64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?);
    Some(StreamId::new(ms, seq))
}

fn as_int(e: Option<&PackedEntry<'_>>) -> Option<i64> {
    match e? {
        PackedEntry::Int(v) => Some(*v),
        PackedEntry::Bytes(b) => std::str::from_utf8(b).ok()?.parse().ok(),
    }
}

/// Decodes one node's listpack into `stream`.
fn read_node(
    stream: &mut Stream,
    master: StreamId,
    blob: &[u8],
    limits: NodeLimits,
) -> Result<(), String> {
    let items = listpack::parse(blob)?;
    if items.is_empty() {
        return Err("empty listpack inside stream".into());
    }
    let mut it = items.iter();
    let bad = || "invalid stream listpack".to_string();
    let count = as_int(it.next()).ok_or_else(bad)?;
    let deleted = as_int(it.next()).ok_or_else(bad)?;
    let (mut live_seen, mut deleted_seen) = (0i64, 0i64);
    let nfields = as_int(it.next()).ok_or_else(bad)?;
    if nfields < 0 || nfields as usize > items.len() {
        return Err(bad());
    }
    let master_fields: Vec<Vec<u8>> = (0..nfields)
        .map(|_| it.next().map(PackedEntry::to_vec).ok_or_else(bad))
        .collect::<Result<_, _>>()?;
    if as_int(it.next()) != Some(0) {
        return Err(bad());
    }
    while let Some(flags) = it.next() {
        let before = it.len();
        let flags = as_int(Some(flags)).ok_or_else(bad)?;
        let ms = as_int(it.next()).ok_or_else(bad)?;
        let seq = as_int(it.next()).ok_or_else(bad)?;
        let id = StreamId::new(
            master.ms.wrapping_add(ms as u64),
            master.seq.wrapping_add(seq as u64),
        );
        let mut fields: Fields = Vec::new();
        if flags & FLAG_SAMEFIELDS != 0 {
            for f in &master_fields {
                let v = it.next().ok_or_else(bad)?.to_vec();
                fields.push((f.clone(), v));
            }
        } else {
            let n = as_int(it.next()).ok_or_else(bad)?;
            if n < 0 || n as usize > items.len() {
                return Err(bad());
            }
            for _ in 0..n {
                let f = it.next().ok_or_else(bad)?.to_vec();
                let v = it.next().ok_or_else(bad)?.to_vec();
                fields.push((f, v));
            }
        }
        // The entry's own element count, kept for backward iteration.
        let lp_count = as_int(it.next()).ok_or_else(bad)?;
        if lp_count < 0 || lp_count as usize != before - it.len() {
            return Err("entry element count does not match the entry".into());
        }
        if flags & FLAG_DELETED != 0 {
            deleted_seen += 1;
        } else {
            live_seen += 1;
            if stream
                .entries
                .keys()
                .next_back()
                .is_some_and(|last| *last >= id)
            {
                return Err("stream entries out of order".into());
            }
            stream.append(id, fields, limits);
        }
    }
    if live_seen != count || deleted_seen != deleted || live_seen + deleted_seen == 0 {
        return Err("master entry counts do not match the node's entries".into());
    }
    Ok(())
}

fn read_ms<R: Read>(input: &mut Input<R>) -> Result<i64, RdbError> {
    Ok(u64::from_le_bytes(input.read_array::<8>()?) as i64)
}

fn read_id<R: Read>(input: &mut Input<R>) -> Result<StreamId, RdbError> {
    let raw = input.read_array::<16>()?;
    parse_raw_id(&raw).ok_or_else(|| input.error("invalid stream ID"))
}

/// Reads a stream body of type 15, 19 or 21.
pub(crate) fn read_stream<R: Read>(
    input: &mut Input<R>,
    type_byte: u8,
) -> Result<Stream, RdbError> {
    let limits = NodeLimits {
        max_entries: 100,
        max_bytes: 4096,
    };
    let mut s = Stream::new();
    let nodes = input.read_len()?;
    for _ in 0..nodes {
        let key = input.read_string()?;
        let master = parse_raw_id(&key)
            .filter(|_| key.len() == 16)
            .ok_or_else(|| input.error("stream node key is not a 128 bit ID"))?;
        let at = input.offset();
        let blob = input.read_string()?;
        read_node(&mut s, master, &blob, limits).map_err(|e| {
            RdbError::new(at, format!("Stream listpack integrity check failed: {e}"))
        })?;
    }
    let length = input.read_len()?;
    let last = StreamId::new(input.read_len()?, input.read_len()?);
    if length != s.len() as u64 {
        return Err(input.error("stream length does not match its entries"));
    }
    if s.entries.keys().next_back().is_some_and(|id| *id > last) {
        return Err(input.error("stream last ID is smaller than its last entry"));
    }
    s.last_id = last;
    if type_byte != TYPE_STREAM_LISTPACKS {
        let _first = StreamId::new(input.read_len()?, input.read_len()?);
        s.max_deleted_id = StreamId::new(input.read_len()?, input.read_len()?);
        s.entries_added = input.read_len()?;
        if s.entries_added < length {
            // Every entry ever added counts: fewer than the live ones is
            // corrupt (and would underflow the lag arithmetic).
            return Err(input.error("stream entries_added is smaller than its length"));
        }
    } else {
        // Redis <= 6.2 kept no counters: as Redis 7.0 loads them, the
        // length stands for entries_added and no deletion is recorded.
        s.entries_added = length;
        s.max_deleted_id = StreamId::MIN;
    }
    let groups = input.read_len()?;
    for _ in 0..groups {
        let name = input.read_string()?;
        if s.groups.contains_key(&name) {
            return Err(input.error("Duplicated consumer group name"));
        }
        let mut g = Group {
            last_delivered: StreamId::new(input.read_len()?, input.read_len()?),
            ..Default::default()
        };
        if type_byte != TYPE_STREAM_LISTPACKS {
            let read = input.read_len()?;
            g.entries_read = (read != u64::MAX).then_some(read);
        } else {
            // No counter in the old format: estimated, as Redis 7.0 does.
            g.entries_read = s.estimate_entries_read(g.last_delivered);
        }
        let pel = input.read_len()?;
        for _ in 0..pel {
            let id = read_id(input)?;
            let delivery_ms = read_ms(input)?;
            let deliveries = input.read_len()?;
            let fresh = Pending {
                consumer: Vec::new(),
                delivery_ms,
                deliveries,
            };
            if g.pel.insert(id, fresh).is_some() {
                return Err(
                    input.error("Duplicated global PEL entry loading stream consumer group")
                );
            }
        }
        let consumers = input.read_len()?;
        for _ in 0..consumers {
            let cname = input.read_string()?;
            if g.consumers.contains_key(&cname) {
                return Err(input.error("Duplicate stream consumer detected"));
            }
            let seen_ms = read_ms(input)?;
            let active_ms = if type_byte == TYPE_STREAM_LISTPACKS_3 {
                read_ms(input)?
            } else {
                -1
            };
            let mut c = Consumer {
                seen_ms,
                active_ms,
                ..Default::default()
            };
            let owned = input.read_len()?;
            for _ in 0..owned {
                let id = read_id(input)?;
                let p = g
                    .pel
                    .get_mut(&id)
                    .ok_or_else(|| input.error("consumer PEL entry missing from the group PEL"))?;
                if !p.consumer.is_empty() {
                    return Err(input
                        .error("Duplicated consumer PEL entry loading a stream consumer group"));
                }
                p.consumer = cname.clone();
                c.pel.insert(id);
            }
            g.consumers.insert(cname, c);
        }
        if g.pel.values().any(|p| p.consumer.is_empty()) {
            return Err(input.error("group PEL entry without a consumer"));
        }
        s.groups.insert(name, g);
    }
    Ok(s)
}
