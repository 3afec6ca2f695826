//! The RDB file format: Redis's point-in-time snapshot, and the DUMP/RESTORE
//! payload, decoded into a plain data model that knows nothing of the store.
//!
//! This module holds what the reader ([`reader`]) and writer ([`writer`])
//! share: the data model ([`RdbValue`], [`RdbEntry`]), the error type, the
//! opcode and type numbers, and the single-value DUMP codec
//! ([`encode_value`], [`decode_value`]).
//!
//! ## File layout
//!
//! ```text
//! "REDIS" <4 ASCII digits: version>            e.g. REDIS0010
//! 0xFA <aux key> <aux value>                   AUX: redis-ver, ctime, ... (any number)
//! 0xFE <db number>                             SELECTDB
//! 0xFB <db size> <expires size>                RESIZEDB: hints to pre-size tables
//! [0xFC <i64 LE unix ms>]                      EXPIRETIME_MS (0xFD <i32 LE s>: old form)
//! [0xF8 <idle seconds>] [0xF9 <u8 freq>]       IDLE (LRU) / FREQ (LFU)
//! <type byte> <key string> <value>             one key; repeat
//! ...                                          more SELECTDB sections
//! 0xFF <crc64 LE: 8 bytes>                     EOF, checksum of all previous bytes
//! ```
//!
//! Also found between keys: 0xF7 MODULE_AUX (module data, skipped) and 0xF5
//! FUNCTION2 (a Redis Functions library, skipped with a warning).
//!
//! ## Lengths and strings
//!
//! Lengths are variable-size, the two top bits of the first byte choosing:
//!
//! ```text
//! 00LLLLLL                  6-bit length
//! 01LLLLLL LLLLLLLL         14-bit length (big-endian)
//! 10000000 <u32 BE>         32-bit length
//! 10000001 <u64 BE>         64-bit length
//! 11EEEEEE                  not a length: a special string encoding E
//! ```
//!
//! A string is a length and that many bytes, or one of the special encodings:
//! E=0 INT8, E=1 INT16, E=2 INT32 (little-endian integers to be rendered as
//! decimal text), E=3 LZF (`<compressed len> <original len> <lzf data>`).
//!
//! ## Values
//!
//! The type byte says how the value is laid out: plain types (0 string,
//! 1 list, 2 set, 3/5 sorted set, 4 hash) are a count then strings (and
//! scores); the compact types (9-14, 16-18, 20) are one string holding a blob
//! in the in-memory encodings of [`super::listpack`], [`super::ziplist`],
//! [`super::intset`] or [`super::zipmap`]. Redis 7.0 writes version 10 with
//! types 0, 2, 4, 5, 11, 16, 17, 18 and 19 (streams).
//!
//! ## DUMP payloads
//!
//! `<type byte> <value> <RDB version: u16 LE> <crc64 LE of all before>`.
//!
//! Redis mirrors: `src/rdb.c`, `src/rdb.h`, `dumpCommand`/`restoreCommand`.

pub mod reader;
mod stream;
pub mod writer;

use std::fmt;

pub use reader::{RdbEvent, RdbReader, ReadOptions};
pub use writer::{EncodingLimits, RdbWriter, WriteOptions};

use super::crc64::crc64;

/// The RDB version this crate writes, the one Redis 7.0 writes.
pub const RDB_VERSION: u32 = 10;

// Opcodes that may appear where a type byte is expected.
pub(crate) const OP_FUNCTION2: u8 = 0xf5;
pub(crate) const OP_FUNCTION_PRE_GA: u8 = 0xf6;
pub(crate) const OP_MODULE_AUX: u8 = 0xf7;
pub(crate) const OP_IDLE: u8 = 0xf8;
pub(crate) const OP_FREQ: u8 = 0xf9;
pub(crate) const OP_AUX: u8 = 0xfa;
pub(crate) const OP_RESIZEDB: u8 = 0xfb;
pub(crate) const OP_EXPIRETIME_MS: u8 = 0xfc;
pub(crate) const OP_EXPIRETIME: u8 = 0xfd;
pub(crate) const OP_SELECTDB: u8 = 0xfe;
pub(crate) const OP_EOF: u8 = 0xff;

// Value type bytes.
pub(crate) const TYPE_STRING: u8 = 0;
pub(crate) const TYPE_LIST: u8 = 1;
pub(crate) const TYPE_SET: u8 = 2;
pub(crate) const TYPE_ZSET: u8 = 3;
pub(crate) const TYPE_HASH: u8 = 4;
pub(crate) const TYPE_ZSET_2: u8 = 5;
pub(crate) const TYPE_MODULE_PRE_GA: u8 = 6;
pub(crate) const TYPE_MODULE_2: u8 = 7;
pub(crate) const TYPE_HASH_ZIPMAP: u8 = 9;
pub(crate) const TYPE_LIST_ZIPLIST: u8 = 10;
pub(crate) const TYPE_SET_INTSET: u8 = 11;
pub(crate) const TYPE_ZSET_ZIPLIST: u8 = 12;
pub(crate) const TYPE_HASH_ZIPLIST: u8 = 13;
pub(crate) const TYPE_LIST_QUICKLIST: u8 = 14;
pub(crate) const TYPE_STREAM_LISTPACKS: u8 = 15;
pub(crate) const TYPE_HASH_LISTPACK: u8 = 16;
pub(crate) const TYPE_ZSET_LISTPACK: u8 = 17;
pub(crate) const TYPE_LIST_QUICKLIST_2: u8 = 18;
pub(crate) const TYPE_STREAM_LISTPACKS_2: u8 = 19;
pub(crate) const TYPE_SET_LISTPACK: u8 = 20;
pub(crate) const TYPE_STREAM_LISTPACKS_3: u8 = 21;

// First bytes of a length (top two bits) and the special string encodings.
pub(crate) const LEN_6BIT: u8 = 0;
pub(crate) const LEN_14BIT: u8 = 1;
pub(crate) const LEN_32BIT: u8 = 0x80;
pub(crate) const LEN_64BIT: u8 = 0x81;
pub(crate) const LEN_ENCVAL: u8 = 3;
pub(crate) const ENC_INT8: u8 = 0;
pub(crate) const ENC_INT16: u8 = 1;
pub(crate) const ENC_INT32: u8 = 2;
pub(crate) const ENC_LZF: u8 = 3;

// Quicklist 2 node containers.
pub(crate) const QUICKLIST_NODE_PLAIN: u64 = 1;
pub(crate) const QUICKLIST_NODE_PACKED: u64 = 2;

/// One value, decoded from whatever encoding the file used.
#[derive(Debug, Clone, PartialEq)]
pub enum RdbValue {
    /// A string (binary-safe).
    String(Vec<u8>),
    /// A list, head first.
    List(Vec<Vec<u8>>),
    /// A set's members, in file order.
    Set(Vec<Vec<u8>>),
    /// A hash's (field, value) pairs, in file order.
    Hash(Vec<(Vec<u8>, Vec<u8>)>),
    /// A sorted set's (member, score) pairs, in file order (listpacks are in
    /// score order, skiplist dumps usually highest first).
    ZSet(Vec<(Vec<u8>, f64)>),
    /// A stream with its consumer groups (the store's own model: see
    /// rdb/stream.rs for its encoding).
    Stream(Box<crate::store::stream::Stream>),
}

impl RdbValue {
    /// Number of elements (1 for a string). Redis never keeps an empty
    /// collection: the reader skips any it finds, and callers should not ask
    /// the writer to save one.
    pub fn len(&self) -> usize {
        match self {
            RdbValue::String(_) => 1,
            RdbValue::List(v) | RdbValue::Set(v) => v.len(),
            RdbValue::Hash(v) => v.len(),
            RdbValue::ZSet(v) => v.len(),
            RdbValue::Stream(s) => s.len(),
        }
    }

    /// True for a collection with no elements. Never for a stream: Redis
    /// keeps, saves and loads streams without entries (their last ID and
    /// groups still matter).
    pub fn is_empty(&self) -> bool {
        !matches!(self, RdbValue::Stream(_)) && self.len() == 0
    }
}

/// One key as stored in an RDB file.
#[derive(Debug, Clone, PartialEq)]
pub struct RdbEntry {
    /// Database number from the last SELECTDB (0 when none).
    pub db: usize,
    /// The key name.
    pub key: Vec<u8>,
    /// The value.
    pub value: RdbValue,
    /// Absolute expiry time in unix milliseconds, if the key has a TTL. The
    /// reader returns already-expired keys too: whether to drop them is the
    /// loader's decision (Redis keeps them on a replica).
    pub expire_ms: Option<i64>,
    /// Seconds since last access (the LRU clock), when saved under an LRU
    /// maxmemory policy.
    pub idle_s: Option<u64>,
    /// The LFU counter, when saved under an LFU maxmemory policy.
    pub freq: Option<u8>,
}

/// Why an RDB file or DUMP payload could not be read. The offset is in bytes
/// from the start of the file (or payload); the loader adds the file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdbError {
    /// Byte offset at which the problem was found.
    pub offset: u64,
    /// What was wrong, in words.
    pub message: String,
}

impl RdbError {
    /// An error at `offset`.
    pub fn new(offset: u64, message: impl Into<String>) -> Self {
        RdbError {
            offset,
            message: message.into(),
        }
    }
}

impl fmt::Display for RdbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Bad file format reading the RDB at offset {}: {}",
            self.offset, self.message
        )
    }
}

impl std::error::Error for RdbError {}

/// Parses `s` as an i64 only when `s` is exactly the canonical decimal text
/// of that number (no sign `+`, no leading zeros, no `-0`), like Redis's
/// `string2ll`. Only such strings may be stored as integers, because the
/// integer is turned back into text on load and must give the same bytes.
pub fn parse_canonical_int(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 20 {
        return None;
    }
    if s == b"0" {
        return Some(0);
    }
    let (negative, digits) = match s[0] {
        b'-' => (true, &s[1..]),
        _ => (false, s),
    };
    match digits.first() {
        Some(b'1'..=b'9') => {}
        _ => return None,
    }
    let mut magnitude: u64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        magnitude = magnitude.checked_mul(10)?.checked_add((d - b'0') as u64)?;
    }
    if negative {
        // -2^63 is representable, +2^63 is not.
        (magnitude <= 1 << 63).then(|| (magnitude as i64).wrapping_neg())
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Serialises one value as a DUMP payload: type byte, value, RDB version
/// (2 bytes little-endian) and the CRC-64 of all that (8 bytes LE).
pub fn encode_value(value: &RdbValue, options: &WriteOptions) -> Vec<u8> {
    let mut out = writer::Output::new(Vec::new());
    writer::write_typed_value(&mut out, value, options).expect("writing to a Vec cannot fail");
    let mut payload = out.into_inner().expect("flushing a Vec cannot fail");
    payload.extend_from_slice(&(RDB_VERSION as u16).to_le_bytes());
    let crc = crc64(0, &payload);
    payload.extend_from_slice(&crc.to_le_bytes());
    payload
}

/// Decodes a DUMP payload, checking its version footer and CRC-64 first (as
/// RESTORE does) and that the value uses every byte.
pub fn decode_value(payload: &[u8]) -> Result<RdbValue, RdbError> {
    decode_value_with(payload, true)
}

/// [`decode_value`], with the CRC-64 check optional (DEBUG
/// SET-SKIP-CHECKSUM-VALIDATION). The value itself is always fully
/// validated: every blob, count, duplicate and stream cross-reference.
pub fn decode_value_with(payload: &[u8], verify_checksum: bool) -> Result<RdbValue, RdbError> {
    let Some(body_len) = payload.len().checked_sub(10) else {
        return Err(RdbError::new(0, "DUMP payload is too short"));
    };
    let version = u16::from_le_bytes([payload[body_len], payload[body_len + 1]]);
    if version as u32 > RDB_VERSION {
        return Err(RdbError::new(
            body_len as u64,
            format!("DUMP payload RDB version {version} is newer than {RDB_VERSION}"),
        ));
    }
    let stored_crc = u64::from_le_bytes(
        payload[body_len + 2..]
            .try_into()
            .expect("the last 8 bytes are 8 bytes"),
    );
    if verify_checksum && crc64(0, &payload[..body_len + 2]) != stored_crc {
        return Err(RdbError::new(
            body_len as u64 + 2,
            "DUMP payload checksum mismatch",
        ));
    }
    let body = &payload[..body_len];
    let mut input = reader::Input::new(body);
    let type_byte = input.read_u8()?;
    let value = reader::read_value(&mut input, type_byte, 0)?
        .ok_or_else(|| RdbError::new(0, "DUMP payload holds an empty collection"))?;
    if input.offset() != body_len as u64 {
        return Err(RdbError::new(
            input.offset(),
            "trailing bytes after the value",
        ));
    }
    Ok(value)
}

/// Appends `s` as an RDB string (length-prefixed, never compressed).
pub fn append_plain_string(out: &mut Vec<u8>, s: &[u8]) {
    let mut w = writer::Output::new(Vec::new());
    w.write_string(s, false)
        .expect("writing to a Vec cannot fail");
    out.extend_from_slice(&w.into_inner().expect("flushing a Vec cannot fail"));
}

/// Appends the DUMP footer: RDB version (2 bytes LE) and the CRC-64 of
/// everything before it (8 bytes LE).
pub fn append_footer(payload: &mut Vec<u8>) {
    payload.extend_from_slice(&(RDB_VERSION as u16).to_le_bytes());
    let crc = crc64(0, payload);
    payload.extend_from_slice(&crc.to_le_bytes());
}

/// The library codes of a FUNCTION DUMP payload (FUNCTION2 records), with
/// FUNCTION RESTORE's error texts.
pub fn decode_function_payload(payload: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    let bad = || "DUMP payload version or checksum are wrong".to_string();
    let body_len = payload.len().checked_sub(10).ok_or_else(bad)?;
    let version = u16::from_le_bytes([payload[body_len], payload[body_len + 1]]);
    let stored = u64::from_le_bytes(
        payload[body_len + 2..]
            .try_into()
            .expect("the last 8 bytes are 8 bytes"),
    );
    if version as u32 > RDB_VERSION || crc64(0, &payload[..body_len + 2]) != stored {
        return Err(bad());
    }
    let mut input = reader::Input::new(&payload[..body_len]);
    let mut codes = Vec::new();
    while input.offset() < body_len as u64 {
        let op = input
            .read_u8()
            .map_err(|_| "can not read data type".to_string())?;
        if op != OP_FUNCTION2 {
            return Err("given type is not a function".into());
        }
        let code = input
            .read_string()
            .map_err(|_| "failed loading the given functions payload".to_string())?;
        codes.push(code);
    }
    Ok(codes)
}

#[cfg(test)]
mod tests;
