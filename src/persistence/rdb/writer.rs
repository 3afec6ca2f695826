//! RDB writer: produces version-10 files that Redis 7.0 loads, choosing for
//! each value the encoding Redis 7.0 itself would have used.
//!
//! How it works: `Output` wraps the destination in a buffer and folds
//! every byte into a running CRC-64. [`RdbWriter`] writes the header and AUX
//! fields, then for each database a SELECTDB and a RESIZEDB hint, then the
//! keys, and [`RdbWriter::finish`] closes with the EOF opcode and checksum.
//!
//! Encoding choices (thresholds from [`EncodingLimits`], Redis's defaults):
//! - string: as an integer (INT8/16/32) when it is the canonical text of a
//!   number in i32 range; LZF when longer than 20 bytes and compression
//!   saves at least 4 bytes; otherwise raw.
//! - list: always QUICKLIST_2 (18), elements packed into listpack nodes of at
//!   most 8 KB (`list-max-listpack-size -2`); an element of 1 GB or more gets
//!   a PLAIN node of its own, as Redis does.
//! - set: INTSET (11) when every member is a canonical integer and there are
//!   at most `set-max-intset-entries`; else a plain SET (2).
//! - hash: LISTPACK (16) when small (entries and every field/value length
//!   within limits); else a plain HASH (4).
//! - sorted set: LISTPACK (17), sorted by score then member, when small;
//!   else ZSET_2 (5) with binary little-endian doubles.
//!
//! Redis mirrors: `rdbSaveRio`, `rdbSaveObject`, `rdbSaveRawString`.

use std::io::{self, BufWriter, Write};

use super::*;
use crate::persistence::crc64::crc64;
use crate::persistence::listpack::{self, ListpackBuilder};
use crate::persistence::{intset, lzf};

/// Quicklist node size limits for negative `list-max-listpack-size`
/// values -1..=-5 (Redis's `optimization_level`).
const QUICKLIST_NODE_LIMIT_BYTES: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// Largest node a positive (count-based) `list-max-listpack-size` may build.
const QUICKLIST_SAFETY_LIMIT_BYTES: usize = 8192;
/// Elements at least this big get a PLAIN quicklist node (`packed_threshold`).
const QUICKLIST_PLAIN_THRESHOLD_BYTES: usize = 1 << 30;
/// Strings up to this length are tried as integers (`rdbTryIntegerEncoding`).
const INT_ENCODING_MAX_BYTES: usize = 11;
/// Strings longer than this are tried with LZF.
const LZF_MIN_BYTES: usize = 20;

/// The `*-max-listpack-*` / `*-max-intset-*` thresholds that decide between
/// compact and plain encodings, named as in redis.conf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodingLimits {
    /// `hash-max-listpack-entries`.
    pub hash_max_listpack_entries: usize,
    /// `hash-max-listpack-value`: longest field or value, in bytes.
    pub hash_max_listpack_value_bytes: usize,
    /// `zset-max-listpack-entries`.
    pub zset_max_listpack_entries: usize,
    /// `zset-max-listpack-value`: longest member, in bytes.
    pub zset_max_listpack_value_bytes: usize,
    /// `set-max-intset-entries`.
    pub set_max_intset_entries: usize,
    /// `list-max-listpack-size`: negative for a node size class (-2 = 8 KB),
    /// positive for a maximum element count per node.
    pub list_max_listpack_size: i64,
}

impl Default for EncodingLimits {
    fn default() -> Self {
        EncodingLimits {
            // Redis 7.0's real default (redis.conf and config.c), unlike
            // the zset limit of 128.
            hash_max_listpack_entries: 512,
            hash_max_listpack_value_bytes: 64,
            zset_max_listpack_entries: 128,
            zset_max_listpack_value_bytes: 64,
            set_max_intset_entries: 512,
            list_max_listpack_size: -2,
        }
    }
}

/// Settings for [`RdbWriter`] and [`encode_value`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriteOptions {
    /// LZF-compress long strings (`rdbcompression`).
    pub compression: bool,
    /// Write a real CRC-64 at the end, else zeros (`rdbchecksum`).
    pub checksum: bool,
    /// Encoding thresholds.
    pub limits: EncodingLimits,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            compression: true,
            checksum: true,
            limits: EncodingLimits::default(),
        }
    }
}

/// The byte sink: buffers and keeps the running checksum.
pub(crate) struct Output<W: Write> {
    inner: BufWriter<W>,
    crc: u64,
}

impl<W: Write> Output<W> {
    pub(crate) fn new(inner: W) -> Self {
        Output {
            inner: BufWriter::with_capacity(64 * 1024, inner),
            crc: 0,
        }
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.crc = crc64(self.crc, bytes);
        self.inner.write_all(bytes)
    }

    pub(crate) fn write_u8(&mut self, byte: u8) -> io::Result<()> {
        self.write(&[byte])
    }

    pub(crate) fn write_len(&mut self, len: u64) -> io::Result<()> {
        if len < 1 << 6 {
            self.write_u8((LEN_6BIT << 6) | len as u8)
        } else if len < 1 << 14 {
            self.write(&[(LEN_14BIT << 6) | (len >> 8) as u8, len as u8])
        } else if len <= u32::MAX as u64 {
            self.write_u8(LEN_32BIT)?;
            self.write(&(len as u32).to_be_bytes())
        } else {
            self.write_u8(LEN_64BIT)?;
            self.write(&len.to_be_bytes())
        }
    }

    /// Writes a string the way `rdbSaveRawString` does: integer, LZF or raw.
    pub(crate) fn write_string(&mut self, s: &[u8], compression: bool) -> io::Result<()> {
        if s.len() <= INT_ENCODING_MAX_BYTES {
            if let Some(v) = parse_canonical_int(s) {
                let special = |enc: u8| (LEN_ENCVAL << 6) | enc;
                if let Ok(v) = i8::try_from(v) {
                    return self.write(&[special(ENC_INT8), v as u8]);
                } else if let Ok(v) = i16::try_from(v) {
                    self.write_u8(special(ENC_INT16))?;
                    return self.write(&v.to_le_bytes());
                } else if let Ok(v) = i32::try_from(v) {
                    self.write_u8(special(ENC_INT32))?;
                    return self.write(&v.to_le_bytes());
                }
            }
        }
        if compression && s.len() > LZF_MIN_BYTES {
            // Keep the compressed form only if it saves at least 4 bytes.
            if let Some(compressed) = lzf::compress(s, s.len() - 4) {
                self.write_u8((LEN_ENCVAL << 6) | ENC_LZF)?;
                self.write_len(compressed.len() as u64)?;
                self.write_len(s.len() as u64)?;
                return self.write(&compressed);
            }
        }
        self.write_len(s.len() as u64)?;
        self.write(s)
    }

    pub(crate) fn into_inner(self) -> io::Result<W> {
        self.inner.into_inner().map_err(|e| e.into_error())
    }
}

/// The text Redis stores for a score inside a listpack (`d2string`):
/// integers in plain form, infinities as `inf`/`-inf`, anything else in the
/// shortest form that reads back to the same double.
fn score_text(score: f64) -> String {
    // Redis prints integral values within +-2^52 as integers.
    const INTEGRAL_LIMIT: f64 = 4_503_599_627_370_496.0;
    if score.is_infinite() {
        if score > 0.0 { "inf" } else { "-inf" }.to_string()
    } else if score == 0.0 && score.is_sign_negative() {
        "-0".to_string()
    } else if score.fract() == 0.0 && score.abs() < INTEGRAL_LIMIT {
        (score as i64).to_string()
    } else {
        format!("{score:?}")
    }
}

/// The quicklist node limits: (max bytes, max elements) per node.
fn quicklist_node_limits(list_max_listpack_size: i64) -> (usize, usize) {
    if list_max_listpack_size < 0 {
        let class = (-list_max_listpack_size - 1).min(4) as usize;
        (QUICKLIST_NODE_LIMIT_BYTES[class], usize::MAX)
    } else {
        let count = (list_max_listpack_size as usize).max(1);
        (QUICKLIST_SAFETY_LIMIT_BYTES, count)
    }
}

/// Writes a list as QUICKLIST_2: a node count, then per node its container
/// kind and blob.
fn write_quicklist<W: Write>(
    out: &mut Output<W>,
    items: &[Vec<u8>],
    options: &WriteOptions,
) -> io::Result<()> {
    let (max_node_bytes, max_node_items) =
        quicklist_node_limits(options.limits.list_max_listpack_size);
    // Nodes are built first because the count comes before them; each node
    // is at most a few KB, so this holds the list roughly once more at worst.
    let mut nodes: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut current = ListpackBuilder::new();
    for item in items {
        if item.len() >= QUICKLIST_PLAIN_THRESHOLD_BYTES {
            if !current.is_empty() {
                nodes.push((QUICKLIST_NODE_PACKED, std::mem::take(&mut current).finish()));
            }
            nodes.push((QUICKLIST_NODE_PLAIN, item.clone()));
            continue;
        }
        let new_size = current.size_bytes() + listpack::entry_size(item);
        if !current.is_empty() && (new_size > max_node_bytes || current.len() >= max_node_items) {
            nodes.push((QUICKLIST_NODE_PACKED, std::mem::take(&mut current).finish()));
        }
        current.push(item);
    }
    if !current.is_empty() {
        nodes.push((QUICKLIST_NODE_PACKED, current.finish()));
    }
    out.write_len(nodes.len() as u64)?;
    for (container, blob) in &nodes {
        out.write_len(*container)?;
        out.write_string(blob, options.compression)?;
    }
    Ok(())
}

/// The type byte Redis 7.0 would use for `value` under `limits`.
fn choose_type(value: &RdbValue, limits: &EncodingLimits) -> u8 {
    match value {
        RdbValue::String(_) => TYPE_STRING,
        RdbValue::Stream(_) => TYPE_STREAM_LISTPACKS_2,
        RdbValue::List(_) => TYPE_LIST_QUICKLIST_2,
        RdbValue::Set(members) => {
            if members.len() <= limits.set_max_intset_entries
                && members.iter().all(|m| parse_canonical_int(m).is_some())
            {
                TYPE_SET_INTSET
            } else {
                TYPE_SET
            }
        }
        RdbValue::Hash(pairs) => {
            let max = limits.hash_max_listpack_value_bytes;
            if pairs.len() <= limits.hash_max_listpack_entries
                && pairs.iter().all(|(f, v)| f.len() <= max && v.len() <= max)
            {
                TYPE_HASH_LISTPACK
            } else {
                TYPE_HASH
            }
        }
        RdbValue::ZSet(pairs) => {
            if pairs.len() <= limits.zset_max_listpack_entries
                && pairs
                    .iter()
                    .all(|(m, _)| m.len() <= limits.zset_max_listpack_value_bytes)
            {
                TYPE_ZSET_LISTPACK
            } else {
                TYPE_ZSET_2
            }
        }
    }
}

/// Writes a value's type byte and body (no key): the shared core of a file
/// entry and a DUMP payload.
pub(crate) fn write_typed_value<W: Write>(
    out: &mut Output<W>,
    value: &RdbValue,
    options: &WriteOptions,
) -> io::Result<()> {
    let type_byte = choose_type(value, &options.limits);
    out.write_u8(type_byte)?;
    write_value_body(out, type_byte, value, options)
}

fn write_value_body<W: Write>(
    out: &mut Output<W>,
    type_byte: u8,
    value: &RdbValue,
    options: &WriteOptions,
) -> io::Result<()> {
    let compression = options.compression;
    match value {
        RdbValue::String(s) => out.write_string(s, compression),
        RdbValue::Stream(stream) => super::stream::write_stream(out, stream, compression),
        RdbValue::List(items) => write_quicklist(out, items, options),
        RdbValue::Set(members) if type_byte == TYPE_SET_INTSET => {
            let ints: Vec<i64> = members
                .iter()
                .filter_map(|m| parse_canonical_int(m))
                .collect();
            out.write_string(&intset::build(&ints), compression)
        }
        RdbValue::Set(members) => {
            out.write_len(members.len() as u64)?;
            for m in members {
                out.write_string(m, compression)?;
            }
            Ok(())
        }
        RdbValue::Hash(pairs) if type_byte == TYPE_HASH_LISTPACK => {
            let mut lp = ListpackBuilder::new();
            for (field, value) in pairs {
                lp.push(field);
                lp.push(value);
            }
            out.write_string(&lp.finish(), compression)
        }
        RdbValue::Hash(pairs) => {
            out.write_len(pairs.len() as u64)?;
            for (field, value) in pairs {
                out.write_string(field, compression)?;
                out.write_string(value, compression)?;
            }
            Ok(())
        }
        RdbValue::ZSet(pairs) if type_byte == TYPE_ZSET_LISTPACK => {
            // A listpack zset must be in (score, member) order: Redis walks
            // it assuming so.
            let mut sorted: Vec<&(Vec<u8>, f64)> = pairs.iter().collect();
            sorted.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(&b.0)));
            let mut lp = ListpackBuilder::new();
            for (member, score) in sorted {
                lp.push(member);
                lp.push(score_text(*score).as_bytes());
            }
            out.write_string(&lp.finish(), compression)
        }
        RdbValue::ZSet(pairs) => {
            out.write_len(pairs.len() as u64)?;
            for (member, score) in pairs {
                out.write_string(member, compression)?;
                out.write(&score.to_le_bytes())?;
            }
            Ok(())
        }
    }
}

/// Writes an RDB file: `new`, optionally `write_default_aux` / `write_aux`,
/// then per database `select_db` and `write_entry` for each key, then
/// `finish`.
pub struct RdbWriter<W: Write> {
    out: Output<W>,
    options: WriteOptions,
    current_db: Option<usize>,
}

impl<W: Write> RdbWriter<W> {
    /// Starts a file: writes the `REDIS0010` header.
    pub fn new(destination: W, options: WriteOptions) -> io::Result<Self> {
        let mut out = Output::new(destination);
        out.write(format!("REDIS{RDB_VERSION:04}").as_bytes())?;
        Ok(RdbWriter {
            out,
            options,
            current_db: None,
        })
    }

    /// Writes the AUX fields Redis 7.0 writes: `redis-ver`, `redis-bits`,
    /// `ctime` (unix seconds), `used-mem` and `aof-base` (0: not an AOF
    /// preamble).
    pub fn write_default_aux(&mut self, ctime_s: i64, used_mem_bytes: u64) -> io::Result<()> {
        self.write_aux(b"redis-ver", b"7.0.15")?;
        self.write_aux(b"redis-bits", b"64")?;
        self.write_aux(b"ctime", ctime_s.to_string().as_bytes())?;
        self.write_aux(b"used-mem", used_mem_bytes.to_string().as_bytes())?;
        self.write_aux(b"aof-base", b"0")
    }

    /// Writes one AUX field.
    pub fn write_aux(&mut self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.out.write_u8(OP_AUX)?;
        self.out.write_string(key, self.options.compression)?;
        self.out.write_string(value, self.options.compression)
    }

    /// Starts database `db`: SELECTDB, then a RESIZEDB hint with its number
    /// of keys and of keys with an expiry.
    /// Writes one function library (opcode FUNCTION2 and its code).
    pub fn write_function(&mut self, code: &[u8]) -> io::Result<()> {
        self.out.write_u8(super::OP_FUNCTION2)?;
        self.out.write_string(code, false)
    }

    pub fn select_db(&mut self, db: usize, db_size: u64, expires_size: u64) -> io::Result<()> {
        self.out.write_u8(OP_SELECTDB)?;
        self.out.write_len(db as u64)?;
        self.out.write_u8(OP_RESIZEDB)?;
        self.out.write_len(db_size)?;
        self.out.write_len(expires_size)?;
        self.current_db = Some(db);
        Ok(())
    }

    /// Writes one key: expiry, idle/frequency, type, key, value. A SELECTDB
    /// (without size hints) is emitted first if `entry.db` is not the
    /// current database.
    pub fn write_entry(&mut self, entry: &RdbEntry) -> io::Result<()> {
        if self.current_db != Some(entry.db) {
            self.out.write_u8(OP_SELECTDB)?;
            self.out.write_len(entry.db as u64)?;
            self.current_db = Some(entry.db);
        }
        if let Some(expire_ms) = entry.expire_ms {
            self.out.write_u8(OP_EXPIRETIME_MS)?;
            self.out.write(&expire_ms.to_le_bytes())?;
        }
        if let Some(idle_s) = entry.idle_s {
            self.out.write_u8(OP_IDLE)?;
            self.out.write_len(idle_s)?;
        }
        if let Some(freq) = entry.freq {
            self.out.write_u8(OP_FREQ)?;
            self.out.write_u8(freq)?;
        }
        let type_byte = choose_type(&entry.value, &self.options.limits);
        self.out.write_u8(type_byte)?;
        self.out
            .write_string(&entry.key, self.options.compression)?;
        write_value_body(&mut self.out, type_byte, &entry.value, &self.options)
    }

    /// Ends the file (EOF opcode and checksum), flushes, and hands back the
    /// destination. The caller still has to fsync a file.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.write_u8(OP_EOF)?;
        let crc = if self.options.checksum {
            self.out.crc
        } else {
            0
        };
        self.out.inner.write_all(&crc.to_le_bytes())?;
        let mut inner = self.out.into_inner()?;
        inner.flush()?;
        Ok(inner)
    }
}
