//! `Value`: what a key holds, and the string type.
//!
//! Each Redis type is a variant; the collection types live in their own
//! files (list.rs, hash.rs, set.rs, zset.rs) behind small APIs so their
//! representation can change without touching the commands.
//!
//! Strings remember how Redis would encode them, because OBJECT ENCODING
//! shows it and tests read it: `int` for a canonical integer of up to 20
//! characters, `embstr` for up to 44 bytes, `raw` otherwise, and always
//! `raw` once modified in place (APPEND, SETRANGE, SETBIT).

use super::hash::Hash;
use super::list::List;
use super::set::Set;
use super::stream::Stream;
use super::zset::ZSet;
use crate::number::parse_i64;

/// Longest string Redis stores as `embstr` (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
pub const EMBSTR_MAX_BYTES: usize = 44;

/// A string value: the bytes and whether it was modified in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RString {
    /// The string's bytes.
    pub bytes: Vec<u8>,
    /// Set by in-place edits, which make Redis's encoding `raw`.
    pub raw: bool,
}

impl RString {
    /// A freshly set string.
    pub fn new(bytes: Vec<u8>) -> Self {
        RString { bytes, raw: false }
    }

    /// Redis's encoding name for this string.
    pub fn encoding(&self) -> &'static str {
        if !self.raw && self.bytes.len() <= 20 && parse_i64(&self.bytes).is_some() {
            "int"
        } else if !self.raw && self.bytes.len() <= EMBSTR_MAX_BYTES {
            "embstr"
        } else {
            "raw"
        }
    }
}

/// The value stored under a key.
#[derive(Debug, Clone)]
pub enum Value {
    /// A string (also integers and bitmaps).
    Str(RString),
    /// A list.
    List(List),
    /// A hash.
    Hash(Hash),
    /// A set.
    Set(Set),
    /// A sorted set.
    ZSet(Box<ZSet>),
    /// A stream.
    Stream(Box<Stream>),
}

impl Value {
    /// A string value from bytes.
    pub fn string(bytes: impl Into<Vec<u8>>) -> Self {
        Value::Str(RString::new(bytes.into()))
    }

    /// The name TYPE answers.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Hash(_) => "hash",
            Value::Set(_) => "set",
            Value::ZSet(_) => "zset",
            Value::Stream(_) => "stream",
        }
    }
}
