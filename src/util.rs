//! Small shared helpers: the clock and a fast random number source.

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
