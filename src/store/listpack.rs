//! `Listpack`: a sequence of short byte strings packed in one buffer.
//!
//! Small hashes are stored this way, as Redis stores them in its listpack
//! encoding: one heap block instead of one (or more) per field and value,
//! searched linearly, which for a few dozen short entries is as fast as
//! hashing and several times smaller.
//!
//! ```text
//! buf: | count: u32 LE | len | bytes ... | len | bytes ... | ...
//!                        └ LEB128 varint: 1 byte below 128, 2 below 16384
//! ```
//!
//! An empty listpack holds no buffer at all. Entries are addressed by their
//! byte offset in `buf` (from [`Listpack::iter_offsets`]), valid until the
//! next change. Redis's listpack also keeps each entry's length after it so
//! it can walk backwards; nothing here walks backwards, so we do not.

/// Bytes of the entry-count header.
const HEADER_BYTES: usize = 4;

/// A packed sequence of byte strings (see the module header).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listpack {
    buf: Vec<u8>,
}

/// Reads the varint at `buf[at..]`: (value, bytes it took).
pub(crate) fn read_varint(buf: &[u8], at: usize) -> (usize, usize) {
    let mut value = 0usize;
    let mut shift = 0;
    let mut i = at;
    while let Some(&b) = buf.get(i) {
        value |= ((b & 0x7f) as usize) << shift;
        i += 1;
        if b & 0x80 == 0 {
            break;
        }
        shift += 7;
    }
    (value, i - at)
}

pub(crate) fn push_varint(out: &mut Vec<u8>, mut value: usize) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn encoded(entry: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entry.len() + 2);
    push_varint(&mut out, entry.len());
    out.extend_from_slice(entry);
    out
}

impl Listpack {
    /// An empty listpack (no allocation).
    pub fn new() -> Self {
        Listpack::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        match self.buf.get(..HEADER_BYTES) {
            Some(h) => u32::from_le_bytes([h[0], h[1], h[2], h[3]]) as usize,
            None => 0,
        }
    }

    /// True when there are no entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn set_len(&mut self, n: usize) {
        if n == 0 {
            // Give the block back, as an empty listpack holds none.
            self.buf = Vec::new();
            return;
        }
        if self.buf.len() < HEADER_BYTES {
            self.buf.resize(HEADER_BYTES, 0);
        }
        self.buf[..HEADER_BYTES].copy_from_slice(&(n as u32).to_le_bytes());
    }

    /// Bytes of heap the listpack holds (MEMORY USAGE).
    pub fn heap_bytes(&self) -> usize {
        self.buf.capacity()
    }

    /// Appends `entry`.
    pub fn push(&mut self, entry: &[u8]) {
        let n = self.len();
        self.set_len(n + 1);
        // Grow by a quarter, not double: a small hash is written a few
        // fields at a time and then mostly read (Redis reallocates a
        // listpack to its exact size on every insert).
        let need = self.buf.len() + entry.len() + 2;
        if need > self.buf.capacity() {
            let extra = (need - self.buf.len()).max(self.buf.len() / 4);
            self.buf.reserve_exact(extra);
        }
        push_varint(&mut self.buf, entry.len());
        self.buf.extend_from_slice(entry);
    }

    /// Every entry with its offset, in order.
    pub fn iter_offsets(&self) -> IterOffsets<'_> {
        IterOffsets {
            buf: &self.buf,
            at: HEADER_BYTES.min(self.buf.len()),
        }
    }

    /// Every entry, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.iter_offsets().map(|(_, e)| e)
    }

    /// Bytes the entry at `offset` takes, its length prefix included.
    fn span(&self, offset: usize) -> usize {
        let (len, prefix) = read_varint(&self.buf, offset);
        prefix + len
    }

    /// Replaces the entry at `offset` (from [`Listpack::iter_offsets`]).
    pub fn replace(&mut self, offset: usize, entry: &[u8]) {
        let span = self.span(offset);
        self.buf.splice(offset..offset + span, encoded(entry));
    }

    /// Removes the entry at `offset` (from [`Listpack::iter_offsets`]).
    pub fn remove(&mut self, offset: usize) {
        let span = self.span(offset);
        self.buf.drain(offset..offset + span);
        let n = self.len();
        self.set_len(n - 1);
    }

    /// The entry at position `index` from the start (a linear walk).
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.iter().nth(index)
    }
}

/// Iterator over a [`Listpack`]'s (offset, entry) pairs.
pub struct IterOffsets<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Iterator for IterOffsets<'a> {
    type Item = (usize, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.buf.len() {
            return None;
        }
        let offset = self.at;
        let (len, prefix) = read_varint(self.buf, offset);
        let start = offset + prefix;
        let entry = self.buf.get(start..start + len)?;
        self.at = start + len;
        Some((offset, entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_iterate_replace_remove() {
        let mut lp = Listpack::new();
        assert!(lp.is_empty());
        let long = vec![b'x'; 300]; // a two-byte length prefix
        lp.push(b"a");
        lp.push(b"");
        lp.push(&long);
        lp.push(b"tail");
        assert_eq!(lp.len(), 4);
        let all: Vec<&[u8]> = lp.iter().collect();
        assert_eq!(all, vec![&b"a"[..], b"", &long[..], b"tail"]);
        let (off, _) = lp.iter_offsets().nth(2).unwrap();
        lp.replace(off, b"short");
        assert_eq!(lp.get(2), Some(&b"short"[..]));
        assert_eq!(lp.get(3), Some(&b"tail"[..]));
        let (off, _) = lp.iter_offsets().next().unwrap();
        lp.remove(off);
        assert_eq!(
            lp.iter().collect::<Vec<_>>(),
            vec![&b""[..], b"short", b"tail"]
        );
        for _ in 0..3 {
            let (off, _) = lp.iter_offsets().next().unwrap();
            lp.remove(off);
        }
        assert!(lp.is_empty());
        assert_eq!(lp.heap_bytes(), 0);
    }

    #[test]
    fn varints_round_trip() {
        for v in [0usize, 1, 127, 128, 16383, 16384, 1 << 30] {
            let mut b = Vec::new();
            push_varint(&mut b, v);
            assert_eq!(read_varint(&b, 0), (v, b.len()));
        }
    }
}
