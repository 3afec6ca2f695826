//! Streaming RDB reader: turns a file (any `std::io::Read`) into a sequence of
//! [`RdbEvent`]s, one key at a time, so loading a file never holds more than
//! one decoded value besides what the loader keeps.
//!
//! How it works: `Input` wraps the source, counts the offset of every byte
//! (for error messages) and folds every byte into a running CRC-64. The
//! reader loop reads one opcode at a time (see the layout in [`super`]):
//! expiry, idle and frequency opcodes are remembered until the key they
//! precede; AUX and RESIZEDB are handed to the caller as events; a type byte
//! starts a key, decoded by `read_value`. At the EOF opcode the running CRC
//! is compared with the stored one (a stored zero means "saved with
//! rdbchecksum no" and is accepted, as Redis does).
//!
//! Hostile input: every length is checked before use and byte buffers grow
//! only as bytes actually arrive, so a header claiming a 4 GB string in a
//! 100-byte file fails with "unexpected end of file" instead of allocating.
//! Counts pre-size vectors only up to a small cap for the same reason. Empty
//! collections are skipped and logged ("rdbLoadObject skipping empty key:
//! KEY"), as Redis 7.0 does when loading.
//!
//! Validation is always deep (Redis's `sanitize-dump-payload yes`): every
//! compact blob is decoded whole, so a bad header, entry length, prevlen or
//! count fails here, worded as Redis logs it ("Zset ziplist integrity check
//! failed: ..."); sets, hashes and sorted sets may not repeat a member
//! ("Duplicate set members detected", "... listpack with dup elements");
//! zipmaps, intsets and quicklist nodes may not be empty; streams are
//! cross-checked (node counts, entry lengths, last ID, group and consumer
//! names, PEL ownership: "Duplicate stream consumer detected"). Nothing a
//! reader accepts can later break the store's invariants.
//!
//! Not supported: module keys (6, 7) stop the load with an error naming the
//! offset; module AUX data and function libraries are skipped with a
//! warning.
//! Redis mirrors: `rdbLoadRio`, `rdbLoadObject`, `rdbGenericLoadStringObject`.

use std::io::{BufReader, ErrorKind, Read};

use super::*;
use crate::persistence::crc64::crc64;
use crate::persistence::listpack::{self, PackedEntry};
use crate::persistence::{intset, lzf, ziplist, zipmap};

/// Upper bound on elements reserved up front from a count read in the file;
/// beyond it vectors grow as elements really arrive.
const MAX_PREALLOC_ITEMS: usize = 4096;
/// Read-buffer size for files.
const READ_BUFFER_BYTES: usize = 64 * 1024;

/// Settings for [`RdbReader`].
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// Compare the trailing CRC-64 with the data (Redis's `rdbchecksum`).
    pub verify_checksum: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            verify_checksum: true,
        }
    }
}

/// Something found in the file, in file order.
#[derive(Debug, Clone, PartialEq)]
pub enum RdbEvent {
    /// An AUX field such as `redis-ver` or `ctime`.
    Aux {
        /// Field name.
        key: Vec<u8>,
        /// Field value.
        value: Vec<u8>,
    },
    /// A RESIZEDB hint: how many keys (and keys with a TTL) database `db`
    /// holds, so the loader can pre-size its tables.
    ResizeDb {
        /// The database the hint is for (the current SELECTDB).
        db: usize,
        /// Number of keys.
        db_size: u64,
        /// Number of keys with an expiry.
        expires_size: u64,
    },
    /// One key.
    Entry(RdbEntry),
}

/// The byte source: counts offsets and keeps the running checksum.
pub(crate) struct Input<R: Read> {
    inner: R,
    offset: u64,
    crc: u64,
}

impl<R: Read> Input<R> {
    pub(crate) fn new(inner: R) -> Self {
        Input {
            inner,
            offset: 0,
            crc: 0,
        }
    }

    /// Bytes consumed so far.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    pub(crate) fn error(&self, message: impl Into<String>) -> RdbError {
        RdbError::new(self.offset, message)
    }

    fn io_error(&self, e: std::io::Error) -> RdbError {
        if e.kind() == ErrorKind::UnexpectedEof {
            self.error("unexpected end of file")
        } else {
            self.error(format!("read error: {e}"))
        }
    }

    pub(crate) fn read_array<const N: usize>(&mut self) -> Result<[u8; N], RdbError> {
        let mut buf = [0u8; N];
        self.inner
            .read_exact(&mut buf)
            .map_err(|e| self.io_error(e))?;
        self.crc = crc64(self.crc, &buf);
        self.offset += N as u64;
        Ok(buf)
    }

    pub(crate) fn read_u8(&mut self) -> Result<u8, RdbError> {
        Ok(self.read_array::<1>()?[0])
    }

    /// Reads exactly `len` bytes, growing the buffer only as data arrives.
    pub(crate) fn read_bytes(&mut self, len: u64) -> Result<Vec<u8>, RdbError> {
        let mut buf = Vec::with_capacity(len.min(READ_BUFFER_BYTES as u64) as usize);
        (&mut self.inner)
            .take(len)
            .read_to_end(&mut buf)
            .map_err(|e| self.io_error(e))?;
        self.crc = crc64(self.crc, &buf);
        self.offset += buf.len() as u64;
        if (buf.len() as u64) < len {
            return Err(self.error("unexpected end of file"));
        }
        Ok(buf)
    }

    /// Reads a length, or the special-encoding number after `11` bits.
    fn read_len_or_encoding(&mut self) -> Result<Result<u64, u8>, RdbError> {
        let first = self.read_u8()?;
        match first >> 6 {
            LEN_6BIT => Ok(Ok((first & 0x3f) as u64)),
            LEN_14BIT => {
                let second = self.read_u8()?;
                Ok(Ok(((first & 0x3f) as u64) << 8 | second as u64))
            }
            LEN_ENCVAL => Ok(Err(first & 0x3f)),
            _ => match first {
                LEN_32BIT => Ok(Ok(u32::from_be_bytes(self.read_array()?) as u64)),
                LEN_64BIT => Ok(Ok(u64::from_be_bytes(self.read_array()?))),
                _ => Err(self.error(format!("invalid length byte {first:#04x}"))),
            },
        }
    }

    /// Reads a plain length (a string encoding here is an error).
    pub(crate) fn read_len(&mut self) -> Result<u64, RdbError> {
        let at = self.offset;
        self.read_len_or_encoding()?
            .map_err(|_| RdbError::new(at, "expected a length, found a string encoding"))
    }

    /// Reads a length that counts things held in memory.
    fn read_count(&mut self) -> Result<usize, RdbError> {
        let at = self.offset;
        let n = self.read_len()?;
        usize::try_from(n).map_err(|_| RdbError::new(at, format!("length {n} is too large")))
    }

    /// Reads a string in any of its encodings.
    pub(crate) fn read_string(&mut self) -> Result<Vec<u8>, RdbError> {
        let at = self.offset;
        match self.read_len_or_encoding()? {
            Ok(len) => self.read_bytes(len),
            Err(ENC_INT8) => Ok((self.read_array::<1>()?[0] as i8).to_string().into_bytes()),
            Err(ENC_INT16) => Ok(i16::from_le_bytes(self.read_array()?)
                .to_string()
                .into_bytes()),
            Err(ENC_INT32) => Ok(i32::from_le_bytes(self.read_array()?)
                .to_string()
                .into_bytes()),
            Err(ENC_LZF) => {
                let compressed_len = self.read_len()?;
                let len = self.read_count()?;
                let compressed = self.read_bytes(compressed_len)?;
                lzf::decompress(&compressed, len).map_err(|e| RdbError::new(at, e.to_string()))
            }
            Err(other) => Err(RdbError::new(
                at,
                format!("unknown string encoding {other}"),
            )),
        }
    }

    /// Reads a string that holds a compact-encoding blob, returning it with
    /// its offset so blob errors can point at it.
    fn read_blob(&mut self) -> Result<(Vec<u8>, u64), RdbError> {
        let at = self.offset;
        Ok((self.read_string()?, at))
    }

    /// Reads a sorted-set score stored as text (type 3): a length byte, with
    /// 253/254/255 meaning NaN/+inf/-inf.
    fn read_text_score(&mut self) -> Result<f64, RdbError> {
        let at = self.offset;
        match self.read_u8()? {
            253 => Ok(f64::NAN),
            254 => Ok(f64::INFINITY),
            255 => Ok(f64::NEG_INFINITY),
            len => {
                let text = self.read_bytes(len as u64)?;
                parse_score(&text).ok_or_else(|| RdbError::new(at, "invalid score text"))
            }
        }
    }
}

/// Parses a score written as text (strtod's job in Redis).
fn parse_score(text: &[u8]) -> Option<f64> {
    std::str::from_utf8(text).ok()?.trim().parse::<f64>().ok()
}

/// A score from a listpack or ziplist entry.
fn packed_score(entry: &PackedEntry<'_>) -> Option<f64> {
    match entry {
        PackedEntry::Int(v) => Some(*v as f64),
        PackedEntry::Bytes(b) => parse_score(b),
    }
}

fn cap(count: usize) -> usize {
    count.min(MAX_PREALLOC_ITEMS)
}

/// A compact blob that failed validation, worded as Redis logs it
/// ("Zset ziplist integrity check failed."), followed by what was wrong.
fn integrity_error(at: u64, kind: &str, detail: String) -> RdbError {
    RdbError::new(at, format!("{kind} integrity check failed: {detail}"))
}

/// Fails when `items` holds the same bytes twice: a set, hash or sorted set
/// with duplicates would break the store's one-entry-per-member rule.
fn check_unique<'a>(
    items: impl Iterator<Item = &'a [u8]>,
    at: u64,
    kind: &str,
    container: &str,
) -> Result<(), RdbError> {
    let mut seen = std::collections::HashSet::new();
    for item in items {
        if !seen.insert(item) {
            return Err(integrity_error(
                at,
                kind,
                format!("{container} with dup elements"),
            ));
        }
    }
    Ok(())
}

/// Fails when a plain set, hash or sorted set repeats a member, with
/// Redis's words ("Duplicate set members detected").
fn check_plain_unique<'a>(
    items: impl Iterator<Item = &'a [u8]>,
    at: u64,
    what: &str,
) -> Result<(), RdbError> {
    let mut seen = std::collections::HashSet::new();
    for item in items {
        if !seen.insert(item) {
            return Err(RdbError::new(at, format!("Duplicate {what} detected")));
        }
    }
    Ok(())
}

/// Turns a decoded blob's elements into pairs (hashes, zsets).
fn pairs<'a>(
    entries: Vec<PackedEntry<'a>>,
    at: u64,
    kind: &str,
) -> Result<Vec<(PackedEntry<'a>, PackedEntry<'a>)>, RdbError> {
    if !entries.len().is_multiple_of(2) {
        return Err(integrity_error(at, kind, "odd number of elements".into()));
    }
    let mut iter = entries.into_iter();
    let mut out = Vec::new();
    while let (Some(a), Some(b)) = (iter.next(), iter.next()) {
        out.push((a, b));
    }
    Ok(out)
}

/// "Zset ziplist" -> "ziplist": the container named in a duplicate error.
fn container_of(kind: &str) -> &str {
    kind.rsplit(' ').next().unwrap_or(kind)
}

fn zset_from_packed(
    entries: Vec<PackedEntry<'_>>,
    at: u64,
    kind: &str,
) -> Result<RdbValue, RdbError> {
    let mut out = Vec::with_capacity(entries.len() / 2);
    for (member, score) in pairs(entries, at, kind)? {
        let score = packed_score(&score)
            .filter(|s| !s.is_nan())
            .ok_or_else(|| integrity_error(at, kind, "invalid score".into()))?;
        out.push((member.to_vec(), score));
    }
    check_unique(
        out.iter().map(|(m, _)| m.as_slice()),
        at,
        kind,
        container_of(kind),
    )?;
    Ok(RdbValue::ZSet(out))
}

fn hash_from_packed(
    entries: Vec<PackedEntry<'_>>,
    at: u64,
    kind: &str,
) -> Result<RdbValue, RdbError> {
    let pairs: Vec<(Vec<u8>, Vec<u8>)> = pairs(entries, at, kind)?
        .into_iter()
        .map(|(f, v)| (f.to_vec(), v.to_vec()))
        .collect();
    check_unique(
        pairs.iter().map(|(f, _)| f.as_slice()),
        at,
        kind,
        container_of(kind),
    )?;
    Ok(RdbValue::Hash(pairs))
}

/// Decodes the value that follows a type byte (found at offset `type_at`)
/// and the key. Returns `None` for an empty collection, which Redis skips on
/// load.
pub(crate) fn read_value<R: Read>(
    input: &mut Input<R>,
    type_byte: u8,
    type_at: u64,
) -> Result<Option<RdbValue>, RdbError> {
    let blob_error = |at: u64, kind: &str, e: String| integrity_error(at, kind, e);
    let value = match type_byte {
        TYPE_STRING => RdbValue::String(input.read_string()?),
        TYPE_LIST | TYPE_SET => {
            let count = input.read_count()?;
            let mut items = Vec::with_capacity(cap(count));
            for _ in 0..count {
                items.push(input.read_string()?);
            }
            if type_byte == TYPE_LIST {
                RdbValue::List(items)
            } else {
                check_plain_unique(items.iter().map(Vec::as_slice), type_at, "set members")?;
                RdbValue::Set(items)
            }
        }
        TYPE_ZSET | TYPE_ZSET_2 => {
            let count = input.read_count()?;
            let mut items = Vec::with_capacity(cap(count));
            for _ in 0..count {
                let member = input.read_string()?;
                let at = input.offset();
                let score = if type_byte == TYPE_ZSET_2 {
                    f64::from_le_bytes(input.read_array()?)
                } else {
                    input.read_text_score()?
                };
                if score.is_nan() {
                    return Err(RdbError::new(at, "sorted set score is NaN"));
                }
                items.push((member, score));
            }
            check_plain_unique(
                items.iter().map(|(m, _)| m.as_slice()),
                type_at,
                "zset fields",
            )?;
            RdbValue::ZSet(items)
        }
        TYPE_HASH => {
            let count = input.read_count()?;
            let mut items = Vec::with_capacity(cap(count));
            for _ in 0..count {
                let field = input.read_string()?;
                let value = input.read_string()?;
                items.push((field, value));
            }
            check_plain_unique(
                items.iter().map(|(f, _)| f.as_slice()),
                type_at,
                "hash fields",
            )?;
            RdbValue::Hash(items)
        }
        TYPE_HASH_ZIPMAP => {
            let (blob, at) = input.read_blob()?;
            let pairs = zipmap::parse(&blob).map_err(|e| blob_error(at, "Zipmap", e))?;
            if pairs.is_empty() {
                return Err(blob_error(at, "Zipmap", "empty zipmap".into()));
            }
            let fields = pairs.iter().map(|(f, _)| *f);
            check_unique(fields, at, "Zipmap", "zipmap")?;
            RdbValue::Hash(
                pairs
                    .into_iter()
                    .map(|(f, v)| (f.to_vec(), v.to_vec()))
                    .collect(),
            )
        }
        TYPE_LIST_ZIPLIST => {
            let (blob, at) = input.read_blob()?;
            let entries = ziplist::parse(&blob).map_err(|e| blob_error(at, "List ziplist", e))?;
            RdbValue::List(entries.iter().map(PackedEntry::to_vec).collect())
        }
        TYPE_SET_INTSET => {
            let (blob, at) = input.read_blob()?;
            let values = intset::parse(&blob).map_err(|e| blob_error(at, "Intset", e))?;
            if values.is_empty() {
                return Err(blob_error(at, "Intset", "empty intset".into()));
            }
            RdbValue::Set(values.iter().map(|v| v.to_string().into_bytes()).collect())
        }
        TYPE_SET_LISTPACK => {
            let (blob, at) = input.read_blob()?;
            let entries = listpack::parse(&blob).map_err(|e| blob_error(at, "Set listpack", e))?;
            let members: Vec<Vec<u8>> = entries.iter().map(PackedEntry::to_vec).collect();
            check_unique(
                members.iter().map(Vec::as_slice),
                at,
                "Set listpack",
                "listpack",
            )?;
            RdbValue::Set(members)
        }
        TYPE_ZSET_ZIPLIST | TYPE_ZSET_LISTPACK => {
            let (blob, at) = input.read_blob()?;
            let (kind, entries) = if type_byte == TYPE_ZSET_ZIPLIST {
                ("Zset ziplist", ziplist::parse(&blob))
            } else {
                ("Zset listpack", listpack::parse(&blob))
            };
            let entries = entries.map_err(|e| blob_error(at, kind, e))?;
            zset_from_packed(entries, at, kind)?
        }
        TYPE_HASH_ZIPLIST | TYPE_HASH_LISTPACK => {
            let (blob, at) = input.read_blob()?;
            let (kind, entries) = if type_byte == TYPE_HASH_ZIPLIST {
                ("Hash ziplist", ziplist::parse(&blob))
            } else {
                ("Hash listpack", listpack::parse(&blob))
            };
            let entries = entries.map_err(|e| blob_error(at, kind, e))?;
            hash_from_packed(entries, at, kind)?
        }
        TYPE_LIST_QUICKLIST | TYPE_LIST_QUICKLIST_2 => {
            let nodes = input.read_count()?;
            let mut items = Vec::new();
            for _ in 0..nodes {
                let container = if type_byte == TYPE_LIST_QUICKLIST_2 {
                    input.read_len()?
                } else {
                    QUICKLIST_NODE_PACKED
                };
                let (blob, at) = input.read_blob()?;
                let kind = if type_byte == TYPE_LIST_QUICKLIST {
                    "Quicklist ziplist"
                } else {
                    "Quicklist listpack"
                };
                if blob.is_empty() {
                    return Err(blob_error(at, kind, "empty node".into()));
                }
                match container {
                    QUICKLIST_NODE_PLAIN => items.push(blob),
                    QUICKLIST_NODE_PACKED => {
                        let entries = if type_byte == TYPE_LIST_QUICKLIST {
                            ziplist::parse(&blob).map_err(|e| blob_error(at, kind, e))?
                        } else {
                            listpack::parse(&blob).map_err(|e| blob_error(at, kind, e))?
                        };
                        // Redis skips empty nodes rather than failing.
                        items.extend(entries.iter().map(PackedEntry::to_vec));
                    }
                    other => {
                        return Err(RdbError::new(
                            at,
                            format!("unknown quicklist container {other}"),
                        ))
                    }
                }
            }
            RdbValue::List(items)
        }
        TYPE_STREAM_LISTPACKS | TYPE_STREAM_LISTPACKS_2 | TYPE_STREAM_LISTPACKS_3 => {
            RdbValue::Stream(Box::new(super::stream::read_stream(input, type_byte)?))
        }
        TYPE_MODULE_PRE_GA | TYPE_MODULE_2 => {
            return Err(RdbError::new(type_at, "module keys are not supported"))
        }
        other => {
            return Err(RdbError::new(
                type_at,
                format!("unknown value type {other}"),
            ))
        }
    };
    Ok((!value.is_empty()).then_some(value))
}

/// Streams the contents of an RDB file.
///
/// Use it as an iterator of `Result<RdbEvent, RdbError>` (it stops after the
/// first error or at EOF), or call [`RdbReader::next_entry`] to see only keys.
pub struct RdbReader<R: Read> {
    input: Input<BufReader<R>>,
    version: u32,
    verify_checksum: bool,
    db: usize,
    aux: Vec<(Vec<u8>, Vec<u8>)>,
    empty_keys_skipped: u64,
    finished: bool,
}

impl<R: Read> RdbReader<R> {
    /// Reads and checks the header (`REDIS` + version) with default options.
    pub fn new(source: R) -> Result<Self, RdbError> {
        Self::with_options(source, ReadOptions::default())
    }

    /// Reads and checks the header (`REDIS` + version).
    pub fn with_options(source: R, options: ReadOptions) -> Result<Self, RdbError> {
        let mut input = Input::new(BufReader::with_capacity(READ_BUFFER_BYTES, source));
        let header: [u8; 9] = input.read_array()?;
        if &header[..5] != b"REDIS" {
            return Err(RdbError::new(
                0,
                "wrong signature trying to load DB from file",
            ));
        }
        let version = std::str::from_utf8(&header[5..])
            .ok()
            .filter(|digits| digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse::<u32>().ok())
            .ok_or_else(|| RdbError::new(5, "invalid RDB version number"))?;
        if !(1..=RDB_VERSION).contains(&version) {
            return Err(RdbError::new(
                5,
                format!(
                    "can't handle RDB format version {version} (newest supported is {RDB_VERSION})"
                ),
            ));
        }
        Ok(RdbReader {
            input,
            version,
            verify_checksum: options.verify_checksum,
            db: 0,
            aux: Vec::new(),
            empty_keys_skipped: 0,
            finished: false,
        })
    }

    /// The file's RDB format version.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// Bytes consumed so far (useful for progress reports).
    pub fn offset(&self) -> u64 {
        self.input.offset()
    }

    /// Keys skipped so far because they held an empty collection.
    pub fn empty_keys_skipped(&self) -> u64 {
        self.empty_keys_skipped
    }

    /// Every AUX field seen so far, in file order.
    pub fn aux_fields(&self) -> &[(Vec<u8>, Vec<u8>)] {
        &self.aux
    }

    /// The next key, skipping (but recording) AUX fields and RESIZEDB hints;
    /// `None` after the EOF opcode and a good checksum.
    pub fn next_entry(&mut self) -> Result<Option<RdbEntry>, RdbError> {
        while let Some(event) = self.next_event()? {
            if let RdbEvent::Entry(entry) = event {
                return Ok(Some(entry));
            }
        }
        Ok(None)
    }

    /// The next event; `None` after the EOF opcode and a good checksum.
    pub fn next_event(&mut self) -> Result<Option<RdbEvent>, RdbError> {
        if self.finished {
            return Ok(None);
        }
        let result = self.read_event();
        if !matches!(result, Ok(Some(_))) {
            self.finished = true;
        }
        result
    }

    fn read_event(&mut self) -> Result<Option<RdbEvent>, RdbError> {
        let mut expire_ms = None;
        let mut idle_s = None;
        let mut freq = None;
        loop {
            let opcode_at = self.input.offset();
            let opcode = self.input.read_u8()?;
            match opcode {
                OP_EXPIRETIME_MS => expire_ms = Some(i64::from_le_bytes(self.input.read_array()?)),
                OP_EXPIRETIME => {
                    let seconds = i32::from_le_bytes(self.input.read_array()?);
                    expire_ms = Some(seconds as i64 * 1000);
                }
                OP_IDLE => idle_s = Some(self.input.read_len()?),
                OP_FREQ => freq = Some(self.input.read_u8()?),
                OP_SELECTDB => {
                    let at = self.input.offset();
                    let db = self.input.read_len()?;
                    self.db = usize::try_from(db)
                        .ok()
                        .filter(|&db| db <= i32::MAX as usize)
                        .ok_or_else(|| {
                            RdbError::new(at, format!("invalid database number {db}"))
                        })?;
                }
                OP_RESIZEDB => {
                    let db_size = self.input.read_len()?;
                    let expires_size = self.input.read_len()?;
                    return Ok(Some(RdbEvent::ResizeDb {
                        db: self.db,
                        db_size,
                        expires_size,
                    }));
                }
                OP_AUX => {
                    let key = self.input.read_string()?;
                    let value = self.input.read_string()?;
                    if key == b"redis-ver" {
                        log::info!(
                            "Loading RDB produced by version {}",
                            String::from_utf8_lossy(&value)
                        );
                    } else {
                        log::debug!(
                            "RDB aux field {}={}",
                            String::from_utf8_lossy(&key),
                            String::from_utf8_lossy(&value)
                        );
                    }
                    self.aux.push((key.clone(), value.clone()));
                    return Ok(Some(RdbEvent::Aux { key, value }));
                }
                OP_MODULE_AUX => self.skip_module_aux()?,
                OP_FUNCTION2 => {
                    // A function library: compiled when functions are next
                    // used (scripting/function.rs).
                    let code = self.input.read_string()?;
                    crate::scripting::function::stage_from_rdb(code);
                }
                OP_FUNCTION_PRE_GA => {
                    return Err(RdbError::new(
                        opcode_at,
                        "pre-GA function format not supported",
                    ))
                }
                OP_EOF => {
                    self.check_trailer()?;
                    return Ok(None);
                }
                type_byte => {
                    let key = self.input.read_string()?;
                    match read_value(&mut self.input, type_byte, opcode_at)? {
                        Some(value) => {
                            return Ok(Some(RdbEvent::Entry(RdbEntry {
                                db: self.db,
                                key,
                                value,
                                expire_ms,
                                idle_s,
                                freq,
                            })))
                        }
                        None => {
                            // Redis's words: tests and operators look for them.
                            self.empty_keys_skipped += 1;
                            log::info!(
                                "rdbLoadObject skipping empty key: {}",
                                String::from_utf8_lossy(&key)
                            );
                            expire_ms = None;
                            idle_s = None;
                            freq = None;
                        }
                    }
                }
            }
        }
    }

    /// Reads the checksum after the EOF opcode (version 5 and later).
    fn check_trailer(&mut self) -> Result<(), RdbError> {
        if self.version < 5 {
            return Ok(());
        }
        let expected = self.input.crc;
        let at = self.input.offset();
        let stored = u64::from_le_bytes(self.input.read_array()?);
        if !self.verify_checksum {
            return Ok(());
        }
        if stored == 0 {
            log::warn!("RDB file was saved with checksum disabled: no check performed.");
        } else if stored != expected {
            return Err(RdbError::new(
                at,
                format!("wrong RDB checksum: stored {stored:016x}, computed {expected:016x}"),
            ));
        }
        Ok(())
    }

    /// Skips a MODULE_AUX record: module id, "when" fields, then a value in
    /// the self-describing module opcode format, up to its EOF opcode.
    fn skip_module_aux(&mut self) -> Result<(), RdbError> {
        let at = self.input.offset() - 1;
        let module_id = self.input.read_len()?;
        let when_opcode = self.input.read_len()?;
        let _when = self.input.read_len()?;
        if when_opcode != MODULE_OPCODE_UINT {
            return Err(RdbError::new(at, "invalid module aux 'when' opcode"));
        }
        log::warn!(
            "Skipping aux data of module '{}' in the RDB at offset {at}: modules are not supported",
            module_name(module_id)
        );
        loop {
            let op_at = self.input.offset();
            match self.input.read_len()? {
                MODULE_OPCODE_EOF => return Ok(()),
                MODULE_OPCODE_SINT | MODULE_OPCODE_UINT => {
                    self.input.read_len()?;
                }
                MODULE_OPCODE_FLOAT => {
                    self.input.read_array::<4>()?;
                }
                MODULE_OPCODE_DOUBLE => {
                    self.input.read_array::<8>()?;
                }
                MODULE_OPCODE_STRING => {
                    self.input.read_string()?;
                }
                other => {
                    return Err(RdbError::new(
                        op_at,
                        format!("unknown module value opcode {other}"),
                    ))
                }
            }
        }
    }
}

// The self-describing format of module values (RDB_MODULE_OPCODE_*).
const MODULE_OPCODE_EOF: u64 = 0;
const MODULE_OPCODE_SINT: u64 = 1;
const MODULE_OPCODE_UINT: u64 = 2;
const MODULE_OPCODE_FLOAT: u64 = 3;
const MODULE_OPCODE_DOUBLE: u64 = 4;
const MODULE_OPCODE_STRING: u64 = 5;

/// A module id packs a 9-character name (6 bits per character) above a
/// 10-bit encoding version.
fn module_name(module_id: u64) -> String {
    const CHARSET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    (0..9)
        .map(|i| CHARSET[((module_id >> (64 - 6 * (i + 1))) & 63) as usize] as char)
        .collect()
}

impl<R: Read> Iterator for RdbReader<R> {
    type Item = Result<RdbEvent, RdbError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_event().transpose()
    }
}
