//! `CompactBytes`: a byte string that keeps short contents inline.
//!
//! Most keys and most string values are short (`user:1000`, a counter, a
//! 16-byte token). Stored as a `Vec<u8>` or a `Box<[u8]>`, each costs a
//! separate heap block of at least 32 bytes (glibc's smallest chunk) on top
//! of the pointer that refers to it. `CompactBytes` is 24 bytes, the size of
//! a `Vec`, and stores up to [`INLINE_MAX`] bytes in place:
//!
//! ```text
//! Inline    | tag | len | 22 bytes of data                 |   up to 22 bytes, no heap block
//! Boxed     | tag | ... | Box<[u8]> (pointer, length)       |   longer, exactly sized
//! Growable  | tag | ... | Box<Vec<u8>>                      |   edited in place (APPEND ...)
//! ```
//!
//! This is what Redis's `embstr` does for its string objects (the bytes
//! share the object's allocation) and what its `sds` headers do for keys
//! (one allocation, a 1-byte header for short strings).
//!
//! `Growable` exists for strings edited in place (APPEND, SETRANGE, SETBIT,
//! BITFIELD, PFADD): a `Vec` keeps spare capacity so a run of APPENDs costs
//! amortized O(1) per byte, as Redis's sds preallocation does. Redis calls
//! such a string `raw`, and so does [`super::RString::encoding`]: being
//! `Growable` is the "modified in place" flag.

use std::fmt;
use std::ops::Deref;

/// Longest content stored inline (24 bytes minus the tag and length bytes).
pub const INLINE_MAX: usize = 22;

// `Box<Vec>`, not `Vec`: a `Vec` (24 bytes) would make every
// `CompactBytes` 32 bytes; the extra indirection is paid only by strings
// edited in place.
#[allow(clippy::box_collection)]
#[derive(Clone)]
enum Repr {
    Inline { len: u8, buf: [u8; INLINE_MAX] },
    Boxed(Box<[u8]>),
    Growable(Box<Vec<u8>>),
}

/// A byte string, inline when short (see the module header).
#[derive(Clone)]
pub struct CompactBytes(Repr);

impl CompactBytes {
    /// The empty string.
    pub const fn new() -> Self {
        CompactBytes(Repr::Inline {
            len: 0,
            buf: [0; INLINE_MAX],
        })
    }

    /// A copy of `bytes`: inline when short, else one exactly sized block.
    pub fn from_slice(bytes: &[u8]) -> Self {
        if bytes.len() <= INLINE_MAX {
            let mut buf = [0; INLINE_MAX];
            buf[..bytes.len()].copy_from_slice(bytes);
            CompactBytes(Repr::Inline {
                len: bytes.len() as u8,
                buf,
            })
        } else {
            CompactBytes(Repr::Boxed(bytes.into()))
        }
    }

    /// Takes `bytes` over (copied inline when short, else its buffer is
    /// kept, shrunk to its length).
    pub fn from_vec(bytes: Vec<u8>) -> Self {
        if bytes.len() <= INLINE_MAX {
            Self::from_slice(&bytes)
        } else {
            CompactBytes(Repr::Boxed(bytes.into_boxed_slice()))
        }
    }

    /// A growable string holding `bytes` (see [`CompactBytes::is_growable`]).
    pub fn growable(bytes: Vec<u8>) -> Self {
        CompactBytes(Repr::Growable(Box::new(bytes)))
    }

    /// The contents.
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            Repr::Inline { len, buf } => &buf[..*len as usize],
            Repr::Boxed(b) => b,
            Repr::Growable(v) => v,
        }
    }

    /// True once the string was turned growable for an in-place edit.
    pub fn is_growable(&self) -> bool {
        matches!(self.0, Repr::Growable(_))
    }

    /// The contents as a `Vec` to edit in place; the string becomes (and
    /// stays) growable.
    pub fn make_growable(&mut self) -> &mut Vec<u8> {
        if !self.is_growable() {
            let v = self.as_slice().to_vec();
            self.0 = Repr::Growable(Box::new(v));
        }
        match &mut self.0 {
            Repr::Growable(v) => v,
            _ => unreachable!("converted just above"),
        }
    }

    /// Heap bytes held besides the 24 bytes of the value itself (MEMORY
    /// USAGE's estimate).
    pub fn heap_bytes(&self) -> usize {
        match &self.0 {
            Repr::Inline { .. } => 0,
            Repr::Boxed(b) => b.len(),
            Repr::Growable(v) => v.capacity() + std::mem::size_of::<Vec<u8>>(),
        }
    }

    /// The contents, moved out.
    pub fn into_vec(self) -> Vec<u8> {
        match self.0 {
            Repr::Inline { len, buf } => buf[..len as usize].to_vec(),
            Repr::Boxed(b) => b.into_vec(),
            Repr::Growable(v) => *v,
        }
    }
}

impl Default for CompactBytes {
    fn default() -> Self {
        Self::new()
    }
}

impl Deref for CompactBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl AsRef<[u8]> for CompactBytes {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for CompactBytes {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for CompactBytes {}

impl fmt::Debug for CompactBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.as_slice()))
    }
}

impl From<&[u8]> for CompactBytes {
    fn from(bytes: &[u8]) -> Self {
        Self::from_slice(bytes)
    }
}

impl From<Vec<u8>> for CompactBytes {
    fn from(bytes: Vec<u8>) -> Self {
        Self::from_vec(bytes)
    }
}

impl From<Box<[u8]>> for CompactBytes {
    fn from(bytes: Box<[u8]>) -> Self {
        if bytes.len() <= INLINE_MAX {
            Self::from_slice(&bytes)
        } else {
            CompactBytes(Repr::Boxed(bytes))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn is_as_small_as_a_vec() {
        assert_eq!(std::mem::size_of::<CompactBytes>(), 24);
    }

    #[test]
    fn round_trips_every_length_around_the_inline_limit() {
        for n in 0..=INLINE_MAX + 3 {
            let data: Vec<u8> = (0..n as u8).collect();
            let a = CompactBytes::from_slice(&data);
            let b = CompactBytes::from_vec(data.clone());
            assert_eq!(&*a, &data[..]);
            assert_eq!(a, b);
            assert_eq!(a.heap_bytes() == 0, n <= INLINE_MAX);
            assert_eq!(a.clone().into_vec(), data);
            assert!(!a.is_growable());
        }
    }

    #[test]
    fn growable_keeps_edits() {
        let mut s = CompactBytes::from_slice(b"abc");
        s.make_growable().extend_from_slice(b"def");
        assert!(s.is_growable());
        assert_eq!(&*s, b"abcdef");
        s.make_growable().push(b'g');
        assert_eq!(s.into_vec(), b"abcdefg");
    }
}
