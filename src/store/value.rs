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

use super::bytes::CompactBytes;
use super::hash::Hash;
use super::list::List;
use super::set::Set;
use super::stream::Stream;
use super::zset::ZSet;
use crate::number::parse_i64;

/// Longest string Redis stores as `embstr` (OBJ_ENCODING_EMBSTR_SIZE_LIMIT).
pub const EMBSTR_MAX_BYTES: usize = 44;

/// A string value. Short strings are stored inline ([`CompactBytes`]);
/// a string edited in place becomes growable, which is also how it
/// remembers that Redis would call it `raw`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RString {
    bytes: CompactBytes,
}

impl RString {
    /// A freshly set string.
    pub fn new(bytes: Vec<u8>) -> Self {
        RString {
            bytes: CompactBytes::from_vec(bytes),
        }
    }

    /// A freshly set string, copied from `bytes`.
    pub fn from_slice(bytes: &[u8]) -> Self {
        RString {
            bytes: CompactBytes::from_slice(bytes),
        }
    }

    /// A string that is already `raw` (built by an in-place edit).
    pub fn raw(bytes: Vec<u8>) -> Self {
        RString {
            bytes: CompactBytes::growable(bytes),
        }
    }

    /// The string's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.as_slice()
    }

    /// The bytes to edit in place (APPEND, SETRANGE, SETBIT, BITFIELD,
    /// PFADD); the string is `raw` from then on.
    pub fn make_raw(&mut self) -> &mut Vec<u8> {
        self.bytes.make_growable()
    }

    /// True once modified in place.
    pub fn is_raw(&self) -> bool {
        self.bytes.is_growable()
    }

    /// Replaces the contents with `n` in decimal (INCR and friends): like
    /// Redis's new integer object, the result is no longer `raw`.
    pub fn set_integer(&mut self, n: i64) {
        let mut buf = [0u8; 20];
        self.bytes = CompactBytes::from_slice(crate::number::i64_digits(n, &mut buf));
    }

    /// Heap bytes besides the value itself (MEMORY USAGE).
    pub fn heap_bytes(&self) -> usize {
        self.bytes.heap_bytes()
    }

    /// The bytes, moved out.
    pub fn into_vec(self) -> Vec<u8> {
        self.bytes.into_vec()
    }

    /// Redis's encoding name for this string.
    pub fn encoding(&self) -> &'static str {
        let raw = self.is_raw();
        if !raw && !self.is_empty() && self.len() <= 20 && parse_i64(self).is_some() {
            "int"
        } else if !raw && self.len() <= EMBSTR_MAX_BYTES {
            "embstr"
        } else {
            "raw"
        }
    }
}

impl std::ops::Deref for RString {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.bytes.as_slice()
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
