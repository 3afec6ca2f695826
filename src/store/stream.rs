//! The stream type: an append-only log of field/value entries with
//! consumer groups (Redis's t_stream.c data model).
//!
//! ```text
//! Stream
//! ├─ entries:  BTreeMap<StreamId, fields>      ordered by ID = ms-seq
//! ├─ last_id, first_id, entries_added, max_deleted_id
//! └─ groups:   name -> Group
//!              ├─ last_delivered: StreamId       what ">" reads after
//!              ├─ entries_read:   Option<u64>    for the lag in XINFO
//!              ├─ pel: BTreeMap<StreamId, Pending { consumer, delivery_ms, deliveries }>
//!              └─ consumers: name -> Consumer { seen_ms, active_ms, pel: BTreeSet<StreamId> }
//! ```
//!
//! Redis keeps entries in a radix tree of listpacks; a B-tree map gives the
//! same O(log n) lookups and ordered range scans, which is all the commands
//! need. Every pending entry is owned by exactly one consumer: it appears in
//! the group's PEL and in that consumer's PEL, and both are updated
//! together.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A stream entry ID: milliseconds and a sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId {
    /// Milliseconds part.
    pub ms: u64,
    /// Sequence part.
    pub seq: u64,
}

impl StreamId {
    /// The smallest ID.
    pub const MIN: StreamId = StreamId { ms: 0, seq: 0 };
    /// The largest ID.
    pub const MAX: StreamId = StreamId {
        ms: u64::MAX,
        seq: u64::MAX,
    };

    /// Builds an ID.
    pub fn new(ms: u64, seq: u64) -> Self {
        StreamId { ms, seq }
    }

    /// The next ID in order, or None after MAX.
    pub fn next(self) -> Option<StreamId> {
        if self.seq < u64::MAX {
            Some(StreamId::new(self.ms, self.seq + 1))
        } else if self.ms < u64::MAX {
            Some(StreamId::new(self.ms + 1, 0))
        } else {
            None
        }
    }

    /// The previous ID in order, or None before MIN.
    pub fn prev(self) -> Option<StreamId> {
        if self.seq > 0 {
            Some(StreamId::new(self.ms, self.seq - 1))
        } else if self.ms > 0 {
            Some(StreamId::new(self.ms - 1, u64::MAX))
        } else {
            None
        }
    }

    /// Parses "`<ms>-<seq>`" or "`<ms>`" (the sequence then being
    /// `missing_seq`). Returns None on anything else.
    pub fn parse(s: &[u8], missing_seq: u64) -> Option<StreamId> {
        let text = std::str::from_utf8(s).ok()?;
        let (ms, seq) = match text.split_once('-') {
            Some((ms, seq)) => (ms, Some(seq)),
            None => (text, None),
        };
        let ms = parse_u64(ms)?;
        let seq = match seq {
            Some(seq) => parse_u64(seq)?,
            None => missing_seq,
        };
        Some(StreamId::new(ms, seq))
    }
}

impl StreamId {
    /// Like [`StreamId::parse`], also accepting `-` (0-0) and `+` (the
    /// largest ID), as the non-strict ID arguments of Redis do (XGROUP
    /// CREATE/SETID, XACK, XREAD).
    pub fn parse_loose(s: &[u8], missing_seq: u64) -> Option<StreamId> {
        match s {
            b"-" => Some(StreamId::MIN),
            b"+" => Some(StreamId::MAX),
            _ => StreamId::parse(s, missing_seq),
        }
    }
}

fn parse_u64(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.ms, self.seq)
    }
}

/// The fields of one entry, in the order given to XADD.
pub type Fields = Vec<(Vec<u8>, Vec<u8>)>;

/// A delivered but not yet acknowledged entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// The consumer that owns it.
    pub consumer: Vec<u8>,
    /// When it was last delivered, unix ms.
    pub delivery_ms: i64,
    /// How many times it was delivered.
    pub deliveries: u64,
}

/// A consumer of a group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Consumer {
    /// Last time it read or claimed anything, unix ms.
    pub seen_ms: i64,
    /// Last time it got entries, unix ms (-1 never).
    pub active_ms: i64,
    /// The IDs it owns in the group's PEL.
    pub pel: BTreeSet<StreamId>,
}

/// A consumer group.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Group {
    /// Entries after this one are new for ">".
    pub last_delivered: StreamId,
    /// Logical count of entries read, for the lag (None when unknown).
    pub entries_read: Option<u64>,
    /// Pending entries of all consumers.
    pub pel: BTreeMap<StreamId, Pending>,
    /// Consumers by name.
    pub consumers: BTreeMap<Vec<u8>, Consumer>,
}

impl Group {
    /// The consumer `name`, created if needed (returns whether it was created).
    pub fn consumer(&mut self, name: &[u8], now_ms: i64) -> (&mut Consumer, bool) {
        let created = !self.consumers.contains_key(name);
        let c = self
            .consumers
            .entry(name.to_vec())
            .or_insert_with(|| Consumer {
                seen_ms: now_ms,
                active_ms: -1,
                pel: BTreeSet::new(),
            });
        (c, created)
    }

    /// Removes `id` from the PEL and from its owner's PEL; true if it was pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(p) => {
                if let Some(c) = self.consumers.get_mut(&p.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Gives pending entry `id` to `consumer` (XCLAIM), creating the entry when absent.
    pub fn assign(&mut self, id: StreamId, consumer: &[u8], delivery_ms: i64, deliveries: u64) {
        if let Some(old) = self.pel.get(&id) {
            let owner = old.consumer.clone();
            if let Some(c) = self.consumers.get_mut(&owner) {
                c.pel.remove(&id);
            }
        }
        self.pel.insert(
            id,
            Pending {
                consumer: consumer.to_vec(),
                delivery_ms,
                deliveries,
            },
        );
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }
}

/// One of Redis's listpack nodes, tracked so approximate trimming (`~`)
/// removes exactly the entries Redis would: only whole nodes.
#[derive(Debug, Clone, Default)]
pub struct Node {
    /// Entries still present.
    pub live: u64,
    /// Entries ever appended to this node.
    pub inserted: u64,
    /// Bytes of field names and values appended (stream-node-max-bytes).
    pub bytes: u64,
    /// The last ID appended to this node.
    pub last: StreamId,
}

/// Limits that decide when a new node starts (stream-node-max-*).
#[derive(Debug, Clone, Copy)]
pub struct NodeLimits {
    /// stream-node-max-entries (0 = unlimited).
    pub max_entries: u64,
    /// stream-node-max-bytes (0 = unlimited).
    pub max_bytes: u64,
}

/// How a trim is bounded.
#[derive(Debug, Clone, Copy)]
pub enum TrimBy {
    /// Keep at most this many entries.
    MaxLen(u64),
    /// Remove entries with IDs below this one.
    MinId(StreamId),
}

/// A Redis stream.
#[derive(Debug, Clone, Default)]
pub struct Stream {
    /// Nodes by their first ID (see [`Node`]).
    pub nodes: BTreeMap<StreamId, Node>,
    /// The entries by ID.
    pub entries: BTreeMap<StreamId, Fields>,
    /// The greatest ID ever added (also after deletions).
    pub last_id: StreamId,
    /// Entries ever added (XINFO entries-added).
    pub entries_added: u64,
    /// The greatest ID ever deleted.
    pub max_deleted_id: StreamId,
    /// Consumer groups by name.
    pub groups: BTreeMap<Vec<u8>, Group>,
}

/// Two streams are equal when their content is: entries, IDs, counters
/// and groups (node boundaries are a storage detail).
impl PartialEq for Stream {
    fn eq(&self, other: &Self) -> bool {
        self.entries == other.entries
            && self.last_id == other.last_id
            && self.entries_added == other.entries_added
            && self.max_deleted_id == other.max_deleted_id
            && self.groups == other.groups
    }
}

impl Stream {
    /// An empty stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first entry's ID (0-0 when empty).
    pub fn first_id(&self) -> StreamId {
        self.entries.keys().next().copied().unwrap_or_default()
    }

    /// Appends an entry with an ID already validated to be > last_id.
    pub fn append(&mut self, id: StreamId, fields: Fields, limits: NodeLimits) {
        let bytes: u64 = fields.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum();
        let start_new = match self.nodes.iter_mut().next_back() {
            None => true,
            Some((_, node)) => {
                (limits.max_entries > 0 && node.inserted >= limits.max_entries)
                    || (limits.max_bytes > 0
                        && node.bytes + bytes >= limits.max_bytes
                        && node.inserted > 0)
            }
        };
        if start_new {
            self.nodes.insert(id, Node::default());
        }
        if let Some((_, node)) = self.nodes.iter_mut().next_back() {
            node.live += 1;
            node.inserted += 1;
            node.bytes += bytes;
            node.last = id;
        }
        self.entries.insert(id, fields);
        self.last_id = id;
        self.entries_added += 1;
    }

    /// Deletes one entry (XDEL); true when it existed. Records it as the
    /// greatest deleted ID when it is.
    pub fn delete(&mut self, id: StreamId) -> bool {
        if !self.remove(id) {
            return false;
        }
        if id > self.max_deleted_id {
            self.max_deleted_id = id;
        }
        true
    }

    /// Removes one entry without recording a deletion: trimming, which in
    /// Redis leaves max-deleted-entry-id alone.
    fn remove(&mut self, id: StreamId) -> bool {
        if self.entries.remove(&id).is_none() {
            return false;
        }
        let node_key = self.nodes.range(..=id).next_back().map(|(k, _)| *k);
        if let Some(k) = node_key {
            let empty = self.nodes.get_mut(&k).is_some_and(|n| {
                n.live = n.live.saturating_sub(1);
                n.live == 0
            });
            if empty {
                self.nodes.remove(&k);
            }
        }
        true
    }

    /// Trims as Redis's streamTrim does: whole nodes while they fit in the
    /// excess, then (only when not `approx`) single entries of the next
    /// node. `limit` caps the entries removed (0 = none). Returns how many
    /// entries were removed.
    pub fn trim(&mut self, by: TrimBy, approx: bool, limit: u64) -> u64 {
        let mut removed = 0;
        while let Some((&first_key, node)) = self.nodes.iter().next() {
            let (live, last) = (node.live, node.last);
            if limit > 0 && removed + live > limit {
                break;
            }
            let whole = match by {
                TrimBy::MaxLen(max) => self.len() as u64 - live >= max,
                TrimBy::MinId(min) => last < min,
            };
            if whole {
                let next = self.nodes.range(first_key..).nth(1).map(|(k, _)| *k);
                let doomed: Vec<StreamId> = match next {
                    Some(n) => self.entries.range(first_key..n).map(|(k, _)| *k).collect(),
                    None => self.entries.keys().copied().collect(),
                };
                for id in doomed {
                    self.remove(id);
                    removed += 1;
                }
                self.nodes.remove(&first_key);
                continue;
            }
            if approx {
                break;
            }
            while let Some(&first) = self.entries.keys().next() {
                let over = match by {
                    TrimBy::MaxLen(max) => self.len() as u64 > max,
                    TrimBy::MinId(min) => first < min,
                };
                if !over || (limit > 0 && removed >= limit) {
                    break;
                }
                self.remove(first);
                removed += 1;
            }
            break;
        }
        removed
    }

    /// True when a deleted entry may lie between `start` and the end.
    pub fn has_tombstones_from(&self, start: StreamId) -> bool {
        if self.is_empty() || self.max_deleted_id == StreamId::MIN {
            return false;
        }
        start.max(self.first_id()) <= self.max_deleted_id
    }

    /// How many entries were ever added up to `id`, when that can be known
    /// (Redis's streamEstimateDistanceFromFirstEverEntry); None otherwise.
    pub fn estimate_entries_read(&self, id: StreamId) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if self.is_empty() && id <= self.last_id {
            return Some(self.entries_added);
        }
        if id == self.last_id {
            return Some(self.entries_added);
        }
        if id > self.last_id {
            return None;
        }
        let first = self.first_id();
        if self.max_deleted_id == StreamId::MIN || self.max_deleted_id < first {
            if id < first {
                return Some(self.entries_added - self.len() as u64);
            }
            if id == first {
                return Some(self.entries_added - self.len() as u64 + 1);
            }
        }
        None
    }

    /// The lag of a group: entries not yet read by it (None when unknown).
    pub fn group_lag(&self, group: &Group) -> Option<u64> {
        if self.entries_added == 0 {
            return Some(0);
        }
        if let Some(read) = group.entries_read {
            if !self.has_tombstones_from(group.last_delivered) {
                return Some(self.entries_added.saturating_sub(read));
            }
        }
        let read = self.estimate_entries_read(group.last_delivered)?;
        Some(self.entries_added.saturating_sub(read))
    }
}

/// What a blocked XREAD or XREADGROUP waits for (carried in its
/// `BlockRequest`, see blocking.rs): XREAD resolves `$` when it blocks, so
/// a later XADD is compared with the ID of that moment, not of the wake-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamWait {
    /// XREAD: per key, in the command's order, the ID after which entries
    /// are wanted. Unused by XREADGROUP (it reads after its group's ID).
    pub after: Vec<StreamId>,
    /// XREADGROUP: the group blocked on.
    pub group: Option<Vec<u8>>,
}

impl StreamWait {
    /// True when key number `key_index`, now holding `value`, can answer
    /// the waiter: an entry after its ID (XREAD) or after the group's
    /// last-delivered ID (XREADGROUP). For XREADGROUP a key that is gone,
    /// holds another type or lost the group answers too, with an error
    /// (Redis's unblockDeletedStreamReadgroupClients, and -NOGROUP).
    pub fn ready(&self, key_index: usize, value: Option<&crate::store::Value>) -> bool {
        use crate::store::Value;
        let has_after = |s: &Stream, id: StreamId| {
            id.next()
                .is_some_and(|from| s.entries.range(from..).next().is_some())
        };
        match (&self.group, value) {
            (None, Some(Value::Stream(s))) => self
                .after
                .get(key_index)
                .is_some_and(|id| has_after(s, *id)),
            (None, _) => false,
            (Some(g), Some(Value::Stream(s))) => s
                .groups
                .get(g)
                .is_none_or(|group| has_after(s, group.last_delivered)),
            (Some(_), _) => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_and_order() {
        assert_eq!(StreamId::parse(b"5-3", 0), Some(StreamId::new(5, 3)));
        assert_eq!(
            StreamId::parse(b"5", u64::MAX),
            Some(StreamId::new(5, u64::MAX))
        );
        assert_eq!(StreamId::parse(b"-1", 0), None);
        assert_eq!(StreamId::parse(b"1-x", 0), None);
        assert!(StreamId::new(1, 9) < StreamId::new(2, 0));
        assert_eq!(StreamId::new(1, u64::MAX).next(), Some(StreamId::new(2, 0)));
        assert_eq!(StreamId::MIN.prev(), None);
    }

    #[test]
    fn trim_and_pending() {
        let mut s = Stream::new();
        let limits = NodeLimits {
            max_entries: 100,
            max_bytes: 4096,
        };
        for i in 1..=1000 {
            s.append(
                StreamId::new(i, 0),
                vec![(b"f".to_vec(), b"v".to_vec())],
                limits,
            );
        }
        // Redis's own sequence (unit/type/stream "XTRIM with MAXLEN option basic test").
        s.trim(TrimBy::MaxLen(666), false, 0);
        assert_eq!(s.len(), 666);
        s.trim(TrimBy::MaxLen(555), false, 0);
        assert_eq!(s.len(), 555);
        s.trim(TrimBy::MaxLen(444), true, 0);
        assert_eq!(s.len(), 500);
        s.trim(TrimBy::MaxLen(400), true, 0);
        assert_eq!(s.len(), 400);
        assert_eq!(s.trim(TrimBy::MinId(StreamId::new(650, 0)), false, 0), 49);
        let mut g = Group::default();
        g.consumer(b"alice", 0);
        g.assign(StreamId::new(7, 0), b"alice", 1, 1);
        assert!(g.consumers[&b"alice".to_vec()]
            .pel
            .contains(&StreamId::new(7, 0)));
        assert!(g.ack(StreamId::new(7, 0)));
        assert!(g.pel.is_empty() && g.consumers[&b"alice".to_vec()].pel.is_empty());
    }
}
