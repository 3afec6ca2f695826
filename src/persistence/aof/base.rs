//! What a base file holds: the whole keyspace, written at start-up or by a
//! rewrite, in one of two formats.
//!
//! ```text
//! aof-use-rdb-preamble yes   appendonly.aof.<n>.base.rdb: an RDB file
//!                            (aux field aof-base 1), like dump.rdb
//! aof-use-rdb-preamble no    appendonly.aof.<n>.base.aof: commands, one
//!                            SELECT per database, then per key SET /
//!                            RPUSH / SADD / HMSET / ZADD (64 items per
//!                            command), XADD + XSETID + XGROUP for
//!                            streams, PEXPIREAT for a TTL
//! ```
//!
//! The same key-to-commands translation replays an RDB base when the AOF
//! is loaded ([`entry_commands`]).
//!
//! Redis mirrors: `rewriteAppendOnlyFileRio`, `rewriteListObject`,
//! `rewriteStreamObject` ... in `src/aof.c`.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::encode_command;
use crate::persistence::rdb::{RdbEntry, RdbValue, RdbWriter, WriteOptions};
use crate::store::{Store, Value, NO_EXPIRE};
use crate::util::now_ms;

/// Items per command when a collection is written as commands
/// (AOF_REWRITE_ITEMS_PER_CMD).
pub const ITEMS_PER_CMD: usize = 64;

/// Converts a store value to the RDB data model.
pub fn value_to_rdb(value: &Value) -> RdbValue {
    crate::persistence::to_rdb_value(value)
}

/// The commands that rebuild one key (no SELECT): how an AOF-format base
/// writes a key, and how an RDB base is replayed.
pub fn entry_commands(entry: &RdbEntry) -> Vec<Vec<Vec<u8>>> {
    let key = &entry.key;
    let mut out = Vec::new();
    let mut batched = |name: &[u8], items: Vec<Vec<u8>>, per_item: usize| {
        for chunk in items.chunks(ITEMS_PER_CMD * per_item) {
            let mut cmd = vec![name.to_vec(), key.clone()];
            cmd.extend(chunk.iter().cloned());
            out.push(cmd);
        }
    };
    match &entry.value {
        RdbValue::String(v) => batched(b"SET", vec![v.clone()], 1),
        RdbValue::List(items) => batched(b"RPUSH", items.clone(), 1),
        RdbValue::Set(items) => batched(b"SADD", items.clone(), 1),
        RdbValue::Hash(pairs) => batched(
            b"HMSET",
            pairs
                .iter()
                .flat_map(|(f, v)| [f.clone(), v.clone()])
                .collect(),
            2,
        ),
        RdbValue::Stream(stream) => out.extend(stream_commands(key, stream)),
        RdbValue::ZSet(pairs) => batched(
            b"ZADD",
            pairs
                .iter()
                .flat_map(|(m, s)| {
                    [
                        crate::store::number::format_double(*s).into_bytes(),
                        m.clone(),
                    ]
                })
                .collect(),
            2,
        ),
    }
    if let Some(at) = entry.expire_ms {
        out.push(vec![
            b"PEXPIREAT".to_vec(),
            key.clone(),
            at.to_string().into_bytes(),
        ]);
    }
    out
}

/// The commands that rebuild a stream with its groups, as Redis's AOF
/// rewrite emits them: XADD per entry (or an XADD MAXLEN 0 for an empty
/// stream), XSETID for the counters, XGROUP CREATE per group, XCLAIM ...
/// FORCE JUSTID per pending entry and CREATECONSUMER for idle consumers.
fn stream_commands(key: &[u8], s: &crate::store::stream::Stream) -> Vec<Vec<Vec<u8>>> {
    let b = |t: &str| t.as_bytes().to_vec();
    let mut out = Vec::new();
    for (id, fields) in &s.entries {
        let mut cmd = vec![b("XADD"), key.to_vec(), b(&id.to_string())];
        for (f, v) in fields {
            cmd.push(f.clone());
            cmd.push(v.clone());
        }
        out.push(cmd);
    }
    if s.entries.is_empty() {
        out.push(vec![
            b("XADD"),
            key.to_vec(),
            b("MAXLEN"),
            b("0"),
            // Any valid ID: XSETID below puts the real last ID back (it
            // may be 0-0, which XADD refuses), as Redis's rewrite does.
            b("0-1"),
            b("x"),
            b("y"),
        ]);
    }
    out.push(vec![
        b("XSETID"),
        key.to_vec(),
        b(&s.last_id.to_string()),
        b("ENTRIESADDED"),
        b(&s.entries_added.to_string()),
        b("MAXDELETEDID"),
        b(&s.max_deleted_id.to_string()),
    ]);
    for (name, g) in &s.groups {
        let read = g.entries_read.map_or(-1, |r| r as i64);
        out.push(vec![
            b("XGROUP"),
            b("CREATE"),
            key.to_vec(),
            name.clone(),
            b(&g.last_delivered.to_string()),
            b("ENTRIESREAD"),
            b(&read.to_string()),
        ]);
        for (id, p) in &g.pel {
            out.push(vec![
                b("XCLAIM"),
                key.to_vec(),
                name.clone(),
                p.consumer.clone(),
                b("0"),
                b(&id.to_string()),
                b("TIME"),
                b(&p.delivery_ms.to_string()),
                b("RETRYCOUNT"),
                b(&p.deliveries.to_string()),
                b("JUSTID"),
                b("FORCE"),
            ]);
        }
        for (cname, c) in &g.consumers {
            if c.pel.is_empty() {
                out.push(vec![
                    b("XGROUP"),
                    b("CREATECONSUMER"),
                    key.to_vec(),
                    name.clone(),
                    cname.clone(),
                ]);
            }
        }
    }
    out
}

/// Writes `store` as a base file at `path` (RDB when `rdb`), fsynced.
/// `keep_going` runs before each key (rdb-key-save-delay, abort checks);
/// when it answers false the write stops with an error.
pub fn write_base(
    store: &Store,
    path: &Path,
    rdb: bool,
    timestamp: bool,
    keep_going: &dyn Fn() -> bool,
) -> std::io::Result<u64> {
    let aborted = || std::io::Error::other("the rewrite was aborted");
    let file = File::create(path)?;
    let now = now_ms();
    let live = |db: &crate::store::Db| {
        db.iter()
            .filter(move |(k, e)| !db.is_expired(k, e, now))
            .map(|(k, e)| RdbEntry {
                db: 0,
                key: k.to_vec(),
                value: value_to_rdb(&e.value),
                expire_ms: Some(db.expire_of(k, e)).filter(|&t| t != NO_EXPIRE),
                idle_s: None,
                freq: None,
            })
            .filter(|entry| !entry.value.is_empty())
            .collect::<Vec<_>>()
    };
    let file = if rdb {
        let mut w = RdbWriter::new(file, WriteOptions::default())?;
        w.write_aux(b"redis-ver", b"7.0.15")?;
        w.write_aux(b"redis-bits", b"64")?;
        w.write_aux(b"ctime", (now / 1000).to_string().as_bytes())?;
        w.write_aux(b"used-mem", b"0")?;
        w.write_aux(b"aof-base", b"1")?;
        for code in crate::scripting::function::persisted_codes() {
            w.write_function(&code)?;
        }
        for (i, db) in store.dbs.iter().enumerate() {
            if db.is_empty() {
                continue;
            }
            w.select_db(i, db.len() as u64, db.expires_len() as u64)?;
            for mut entry in live(db) {
                if !keep_going() {
                    return Err(aborted());
                }
                entry.db = i;
                w.write_entry(&entry)?;
            }
        }
        w.finish()?
    } else {
        let mut w = BufWriter::new(file);
        let mut buf = Vec::new();
        if timestamp {
            // aof-timestamp-enabled: an AOF-format base starts annotated.
            buf.extend_from_slice(format!("#TS:{}\r\n", now / 1000).as_bytes());
        }
        for code in crate::scripting::function::persisted_codes() {
            encode_command(&mut buf, &[b"FUNCTION".to_vec(), b"LOAD".to_vec(), code]);
        }
        for (i, db) in store.dbs.iter().enumerate() {
            let entries = live(db);
            if entries.is_empty() {
                continue;
            }
            encode_command(&mut buf, &[b"SELECT".to_vec(), i.to_string().into_bytes()]);
            for entry in entries {
                if !keep_going() {
                    return Err(aborted());
                }
                for cmd in entry_commands(&entry) {
                    encode_command(&mut buf, &cmd);
                }
                if buf.len() > 64 * 1024 {
                    w.write_all(&buf)?;
                    buf.clear();
                }
            }
        }
        w.write_all(&buf)?;
        w.into_inner().map_err(|e| e.into_error())?
    };
    file.sync_all()?;
    Ok(file.metadata()?.len())
}
