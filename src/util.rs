//! Small shared helpers: the clock, a fast random number source, and the
//! message padding and hex output that SHA-1 and SHA-256 share.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

/// Now, as unix milliseconds (how every absolute time is kept).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Now, as unix microseconds.
pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let t = now_us() as u64;
    let local = 0u8;
    let addr = &local as *const u8 as u64;
    (t ^ addr.rotate_left(32)) | 1
}

/// A pseudo-random u64 (xorshift64*, per thread). Not for cryptography.
pub fn random_u64() -> u64 {
    RNG.with(|state| {
        let mut x = state.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        state.set(x);
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    })
}

/// A pseudo-random index in `0..n` (n > 0).
pub fn random_below(n: usize) -> usize {
    (random_u64() % n as u64) as usize
}

/// Feeds `data` to `compress` in 64-byte blocks, followed by the padding
/// SHA-1 and SHA-256 both use: a 0x80 byte, zeros, and the message length
/// in bits as a big-endian u64 ending the last block.
pub fn sha_blocks(data: &[u8], mut compress: impl FnMut(&[u8])) {
    let mut blocks = data.chunks_exact(64);
    for block in &mut blocks {
        compress(block);
    }
    let rest = blocks.remainder();
    let mut tail = [0u8; 128];
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    let tail_len = if rest.len() < 56 { 64 } else { 128 };
    let bits = (data.len() as u64).wrapping_mul(8);
    tail[tail_len - 8..tail_len].copy_from_slice(&bits.to_be_bytes());
    for block in tail[..tail_len].chunks_exact(64) {
        compress(block);
    }
}

/// Big-endian bytes of a digest's state words.
pub fn be_words<const N: usize>(state: &[u32]) -> [u8; N] {
    let mut out = [0u8; N];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

/// Lowercase hex of `bytes` (digests as Redis prints them).
pub fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
