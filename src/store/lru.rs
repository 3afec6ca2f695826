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
//! We keep both halves apart, in atomics, because readers touch keys while
//! holding only the store's read lock: [`Access::touch`] is `&self`.
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

/// Last access time and LFU counter of one key: 8 bytes, paid by every key.
///
/// The access time is kept in whole unix seconds (a `u32` lasts until
/// 2106): Redis's LRU clock ticks once a second too (LRU_CLOCK_RESOLUTION),
/// and OBJECT IDLETIME answers in seconds.
#[derive(Debug)]
pub struct Access {
    access_s: AtomicU32,
    /// (minutes << 8) | counter, as Redis packs it.
    lfu: AtomicU32,
}

impl Clone for Access {
    fn clone(&self) -> Self {
        Access {
            access_s: AtomicU32::new(self.access_s.load(Ordering::Relaxed)),
            lfu: AtomicU32::new(self.lfu.load(Ordering::Relaxed)),
        }
    }
}

impl Access {
    /// A key created now.
    pub fn new(now_ms: i64) -> Self {
        Access {
            access_s: AtomicU32::new(seconds(now_ms)),
            lfu: AtomicU32::new(minutes(now_ms) << 8 | LFU_INIT_VAL),
        }
    }

    /// Records an access: the LRU time, and under an LFU policy the counter
    /// (decayed, then maybe incremented), as Redis's `updateLFU`.
    pub fn touch(&self, now_ms: i64) {
        let now_s = seconds(now_ms);
        // Skip the store when the second has not changed: GETs of one hot
        // key from many threads then do not keep bouncing its cache line.
        if self.access_s.load(Ordering::Relaxed) != now_s {
            self.access_s.store(now_s, Ordering::Relaxed);
        }
        if lfu_policy() {
            let mut counter = self.freq(now_ms);
            if counter < 255 {
                let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
                let factor = LFU_LOG_FACTOR.load(Ordering::Relaxed) as f64;
                let p = 1.0 / (base * factor + 1.0);
                let r = (random_u64() >> 11) as f64 / (1u64 << 53) as f64;
                if r < p {
                    counter += 1;
                }
            }
            self.lfu
                .store(minutes(now_ms) << 8 | counter, Ordering::Relaxed);
        }
    }

    /// The last access time, unix ms (whole seconds).
    pub fn last_ms(&self) -> i64 {
        self.access_s.load(Ordering::Relaxed) as i64 * 1000
    }

    /// Milliseconds since the last access (OBJECT IDLETIME, in ms).
    pub fn idle_ms(&self, now_ms: i64) -> i64 {
        (now_ms - self.last_ms()).max(0)
    }

    /// Sets the idle time (RESTORE ... IDLETIME, RDB loading).
    pub fn set_idle_ms(&self, idle_ms: i64, now_ms: i64) {
        self.access_s
            .store(seconds(now_ms.saturating_sub(idle_ms)), Ordering::Relaxed);
    }

    /// The LFU counter after decay (OBJECT FREQ; Redis's `LFUDecrAndReturn`).
    pub fn freq(&self, now_ms: i64) -> u32 {
        let packed = self.lfu.load(Ordering::Relaxed);
        let counter = packed & 0xff;
        let last = packed >> 8;
        let now = minutes(now_ms);
        // The minute clock wraps at 16 bits, as in Redis.
        let elapsed = if now >= last {
            now - last
        } else {
            65535 - last + now
        };
        let decay = LFU_DECAY_TIME_MIN.load(Ordering::Relaxed) as u32;
        let periods = elapsed.checked_div(decay).unwrap_or(0);
        counter.saturating_sub(periods)
    }

    /// Sets the LFU counter (RESTORE ... FREQ, RDB loading).
    pub fn set_freq(&self, freq: u8, now_ms: i64) {
        self.lfu
            .store(minutes(now_ms) << 8 | freq as u32, Ordering::Relaxed);
    }
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
    fn frequency_starts_at_init_and_decays_per_minute() {
        let a = Access::new(0);
        assert_eq!(a.freq(0), LFU_INIT_VAL);
        assert_eq!(a.freq(3 * 60_000), LFU_INIT_VAL - 3);
        a.set_freq(100, 0);
        assert_eq!(a.freq(0), 100);
        assert_eq!(a.freq(200 * 60_000), 0);
    }
}
