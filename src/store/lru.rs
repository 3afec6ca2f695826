//! Access tracking for each key: the LRU clock and the LFU counter.
//!
//! Redis keeps 24 bits per object (`robj->lru`) that mean one of two things
//! depending on `maxmemory-policy`: the last access time (LRU policies, and
//! OBJECT IDLETIME), or a logarithmic access counter with the minute it was
//! last decremented (LFU policies, and OBJECT FREQ):
//!
//! ```text
//!  LFU:  | 16 bits: last decrement time, minutes | 8 bits: log counter |
//! ```
//!
//! We keep the same: one `u32` per key whose meaning follows the policy in
//! force (an LRU clock in whole unix seconds otherwise). Switching policy
//! at runtime leaves the old meaning in place until keys are touched again,
//! as in Redis, which OBJECT IDLETIME/FREQ's error text warns about. The
//! word is an atomic because readers touch keys while holding only the
//! store's read lock: [`Access::touch`] is `&self`.
//!
//! The counter is Redis's: a new key starts at [`LFU_INIT_VAL`]; each access
//! increments it with probability `1 / ((counter - LFU_INIT_VAL) *
//! lfu-log-factor + 1)`, so it grows logarithmically up to 255; it loses
//! one point per `lfu-decay-time` minutes without access (computed lazily
//! when read, as `LFUDecrAndReturn` does).
//!
//! Which policy is in force and its two tunables are server-wide settings
//! that a key cannot reach, so (like Redis's `server.maxmemory_policy`) they
//! live in process-wide atomics set by [`set_policy`] whenever the
//! configuration changes.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crate::util::random_u64;

/// Counter of a new key (LFU_INIT_VAL), so new keys are not evicted at once.
pub const LFU_INIT_VAL: u32 = 5;

static LFU_POLICY: AtomicBool = AtomicBool::new(false);
static LFU_LOG_FACTOR: AtomicU64 = AtomicU64::new(10);
static LFU_DECAY_TIME_MIN: AtomicU64 = AtomicU64::new(1);

/// Records the maxmemory-policy family and the LFU tunables
/// (called by the server after every configuration change).
pub fn set_policy(lfu: bool, log_factor: u64, decay_time_min: u64) {
    LFU_POLICY.store(lfu, Ordering::Relaxed);
    LFU_LOG_FACTOR.store(log_factor, Ordering::Relaxed);
    LFU_DECAY_TIME_MIN.store(decay_time_min, Ordering::Relaxed);
}

/// True when an LFU maxmemory policy is selected.
pub fn lfu_policy() -> bool {
    LFU_POLICY.load(Ordering::Relaxed)
}

/// Unix seconds as stored in [`Access`] (clamped to the `u32` range).
fn seconds(now_ms: i64) -> u32 {
    (now_ms / 1000).clamp(0, u32::MAX as i64) as u32
}

fn minutes(now_ms: i64) -> u32 {
    ((now_ms / 60_000) & 0xffff) as u32
}

/// Last access time or LFU counter of one key, by policy: 4 bytes, paid
/// by every key.
///
/// Under an LRU (or no) policy the word is the access time in whole unix
/// seconds (a `u32` lasts until 2106): Redis's LRU clock ticks once a
/// second too (LRU_CLOCK_RESOLUTION), and OBJECT IDLETIME answers in
/// seconds. Under an LFU policy it is `minutes << 8 | counter`.
#[derive(Debug)]
pub struct Access(AtomicU32);

impl Clone for Access {
    fn clone(&self) -> Self {
        Access(AtomicU32::new(self.0.load(Ordering::Relaxed)))
    }
}

impl Access {
    /// A key created now: accessed now, or [`LFU_INIT_VAL`] under LFU.
    pub fn new(now_ms: i64) -> Self {
        if lfu_policy() {
            Access(AtomicU32::new(lfu_pack(LFU_INIT_VAL, now_ms)))
        } else {
            Access(AtomicU32::new(seconds(now_ms)))
        }
    }

    /// Records an access: the LRU time, or under an LFU policy the counter
    /// (decayed, then maybe incremented), as Redis's `updateLFU`.
    pub fn touch(&self, now_ms: i64) {
        if lfu_policy() {
            let counter = lfu_incremented(self.freq(now_ms));
            self.0.store(lfu_pack(counter, now_ms), Ordering::Relaxed);
            return;
        }
        let now_s = seconds(now_ms);
        // Skip the store when the second has not changed: GETs of one hot
        // key from many threads then do not keep bouncing its cache line.
        if self.0.load(Ordering::Relaxed) != now_s {
            self.0.store(now_s, Ordering::Relaxed);
        }
    }

    /// The last access time, unix ms (whole seconds; LRU only).
    pub fn last_ms(&self) -> i64 {
        self.0.load(Ordering::Relaxed) as i64 * 1000
    }

    /// Milliseconds since the last access (OBJECT IDLETIME, in ms).
    pub fn idle_ms(&self, now_ms: i64) -> i64 {
        (now_ms - self.last_ms()).max(0)
    }

    /// Sets the idle time (RESTORE ... IDLETIME, RDB loading). Ignored under
    /// an LFU policy, as Redis's `objectSetLRUOrLFU` does.
    pub fn set_idle_ms(&self, idle_ms: i64, now_ms: i64) {
        if !lfu_policy() {
            let at = seconds(now_ms.saturating_sub(idle_ms));
            self.0.store(at, Ordering::Relaxed);
        }
    }

    /// The LFU counter after decay (OBJECT FREQ; Redis's `LFUDecrAndReturn`).
    pub fn freq(&self, now_ms: i64) -> u32 {
        lfu_decayed(self.0.load(Ordering::Relaxed), now_ms)
    }

    /// Sets the LFU counter (RESTORE ... FREQ, RDB loading). Ignored unless
    /// an LFU policy is in force, as in Redis.
    pub fn set_freq(&self, freq: u8, now_ms: i64) {
        if lfu_policy() {
            self.0
                .store(lfu_pack(freq as u32, now_ms), Ordering::Relaxed);
        }
    }
}

/// An LFU word: the counter with the current minute.
fn lfu_pack(counter: u32, now_ms: i64) -> u32 {
    minutes(now_ms) << 8 | counter
}

/// The counter of LFU word `packed` after one point of decay per
/// lfu-decay-time minutes since it was stored. The minute clock wraps at
/// 16 bits, as in Redis.
fn lfu_decayed(packed: u32, now_ms: i64) -> u32 {
    let counter = packed & 0xff;
    let last = packed >> 8;
    let now = minutes(now_ms);
    let elapsed = if now >= last {
        now - last
    } else {
        65535 - last + now
    };
    let decay = LFU_DECAY_TIME_MIN.load(Ordering::Relaxed) as u32;
    let periods = elapsed.checked_div(decay).unwrap_or(0);
    counter.saturating_sub(periods)
}

/// `counter` after one access: incremented with probability
/// `1 / ((counter - LFU_INIT_VAL) * lfu-log-factor + 1)`, saturating at 255.
fn lfu_incremented(counter: u32) -> u32 {
    if counter >= 255 {
        return counter;
    }
    let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
    let factor = LFU_LOG_FACTOR.load(Ordering::Relaxed) as f64;
    let p = 1.0 / (base * factor + 1.0);
    let r = (random_u64() >> 11) as f64 / (1u64 << 53) as f64;
    counter + u32::from(r < p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_time_follows_touches() {
        let a = Access::new(1_000);
        assert_eq!(a.idle_ms(4_000), 3_000);
        a.touch(4_000);
        assert_eq!(a.idle_ms(4_500), 500);
        a.set_idle_ms(10_000, 20_000);
        assert_eq!(a.idle_ms(20_000), 10_000);
    }

    #[test]
    fn lfu_counter_decays_one_per_period() {
        let now = 10 * 60_000;
        let packed = lfu_pack(10, now);
        assert_eq!(lfu_decayed(packed, now), 10);
        // lfu-decay-time defaults to 1 minute.
        assert_eq!(lfu_decayed(packed, now + 3 * 60_000), 7);
        assert_eq!(lfu_decayed(packed, now + 300 * 60_000), 0);
    }

    #[test]
    fn lfu_counter_grows_logarithmically() {
        let mut counter = LFU_INIT_VAL;
        for _ in 0..100 {
            counter = lfu_incremented(counter);
        }
        // Below the init value every access counts; above it, fewer do.
        assert!(counter > LFU_INIT_VAL && counter < 100, "counter {counter}");
        assert_eq!(lfu_incremented(255), 255);
    }
}
