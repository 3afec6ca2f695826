//! LATENCY HISTOGRAM: each command's latency distribution.
//!
//! After every command the dispatcher's timing (introspection.rs) lands in
//! [`record`], which counts it in a histogram of power-of-two microsecond
//! buckets under the command's full name: `set`, or `config|resetstat` for
//! a container command's subcommand, as Redis names them. Redis keeps an
//! HDR histogram per command; buckets that double are what its reply shows
//! anyway (`hdr_iter_log_init(..., 1024 ns, 2)`):
//!
//! ```text
//! set => { calls => 2, histogram_usec => { 1 => 1, 4 => 2 } }
//!                                           └ upper bound (µs) => commands at or below it
//! ```
//!
//! Histograms live in the server's `Monitoring` (behind its mutex) and are
//! cleared by CONFIG RESETSTAT.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use super::{lookup, Ctx};
use crate::error::CmdResult;

/// Buckets: bucket i counts latencies in (2^(i-1), 2^i] µs; the last one
/// takes everything longer.
pub const BUCKETS: usize = 40;

/// One command's latency counts.
#[derive(Debug, Clone)]
pub struct Histogram {
    /// Commands counted.
    pub calls: u64,
    /// Counts per bucket (not cumulative).
    pub buckets: [u64; BUCKETS],
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            calls: 0,
            buckets: [0; BUCKETS],
        }
    }
}

/// Commands whose first argument is a subcommand with its own histogram.
const CONTAINERS: &[&str] = &[
    "acl", "client", "command", "config", "function", "latency", "memory", "module", "object",
    "pubsub", "script", "slowlog", "xgroup", "xinfo", "cluster",
];

/// The histogram name of a command line: `name` or `name|sub`; None for
/// an unknown command.
fn full_name(args: &[&[u8]]) -> Option<String> {
    let (_, command) = lookup(args.first()?)?;
    if CONTAINERS.contains(&command.name) {
        if let Some(sub) = args.get(1) {
            let sub = String::from_utf8_lossy(sub).to_ascii_lowercase();
            return Some(format!("{}|{}", command.name, sub));
        }
    }
    Some(command.name.to_string())
}

static TRACKING: AtomicBool = AtomicBool::new(true);

/// Copies `latency-tracking` from the configuration (after every change).
pub fn apply_config(config: &crate::config::Config) {
    TRACKING.store(config.get_bool("latency-tracking"), Ordering::Relaxed);
}

impl Histogram {
    /// The latency at or below which `perc` percent of the calls were, as
    /// the upper bound of the bucket that reaches it, in microseconds.
    pub fn percentile(&self, perc: f64) -> f64 {
        let target = ((perc / 100.0) * self.calls as f64).ceil().max(1.0) as u64;
        let mut cumulative = 0;
        for (i, n) in self.buckets.iter().enumerate() {
            cumulative += n;
            if cumulative >= target {
                return (1u64 << i) as f64;
            }
        }
        (1u64 << (BUCKETS - 1)) as f64
    }
}

/// Counts one command that took `duration_us` (when latency-tracking is on).
pub fn record(histograms: &mut BTreeMap<String, Histogram>, args: &[&[u8]], duration_us: u64) {
    if !TRACKING.load(Ordering::Relaxed) {
        return;
    }
    let Some(name) = full_name(args) else {
        return;
    };
    let bucket = (64 - duration_us.saturating_sub(1).leading_zeros() as usize).min(BUCKETS - 1);
    let h = histograms.entry(name).or_default();
    h.calls += 1;
    h.buckets[bucket] += 1;
}

/// LATENCY HISTOGRAM [command ...] — a map from command name to
/// `{calls, histogram_usec}`; a container's name selects all its
/// subcommands, unknown names are skipped.
pub fn histogram_reply(ctx: &mut Ctx, names: &[&[u8]]) -> CmdResult {
    let selected: Vec<(String, Histogram)> = {
        let mon = ctx
            .server
            .monitoring
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        let wanted: Vec<String> = names
            .iter()
            .map(|n| String::from_utf8_lossy(n).to_ascii_lowercase())
            .collect();
        mon.histograms
            .iter()
            .filter(|(name, _)| {
                wanted.is_empty()
                    || wanted.iter().any(|w| {
                        *name == w || name.split_once('|').is_some_and(|(parent, _)| parent == w)
                    })
            })
            .map(|(n, h)| (n.clone(), h.clone()))
            .collect()
    };
    ctx.reply.map(selected.len());
    for (name, h) in selected {
        ctx.reply.bulk(name.as_bytes());
        ctx.reply.map(2);
        ctx.reply.bulk(b"calls");
        ctx.reply.integer(h.calls as i64);
        ctx.reply.bulk(b"histogram_usec");
        let mut rows = Vec::new();
        let mut cumulative = 0;
        for (i, n) in h.buckets.iter().enumerate() {
            if *n > 0 {
                cumulative += n;
                rows.push((1i64 << i, cumulative));
            }
        }
        ctx.reply.map(rows.len());
        for (usec, count) in rows {
            ctx.reply.integer(usec);
            ctx.reply.integer(count as i64);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_double() {
        let mut h = BTreeMap::new();
        record(&mut h, &[b"SET", b"k", b"v"], 0);
        record(&mut h, &[b"set", b"k", b"v"], 1);
        record(&mut h, &[b"set", b"k", b"v"], 3);
        record(&mut h, &[b"CONFIG", b"RESETSTAT"], 100);
        record(&mut h, &[b"nosuchcommand"], 100);
        let set = &h["set"];
        assert_eq!(set.calls, 3);
        assert_eq!(set.buckets[0], 2); // <= 1 µs
        assert_eq!(set.buckets[2], 1); // (2, 4] µs
        assert_eq!(h["config|resetstat"].buckets[7], 1); // (64, 128] µs
        assert_eq!(h.len(), 2);
    }
}
