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
//! Recording happens after every command on every client thread, so the
//! common case takes no lock and allocates nothing: a plain command (not a
//! container) counts in a table of atomic histograms indexed like the
//! command table ([`FAST`]). Only a container's subcommands (`config|get`,
//! named at run time) go to the map in the server's `Monitoring`, behind
//! its mutex. [`snapshot`] merges the two for LATENCY HISTOGRAM and INFO
//! latencystats; CONFIG RESETSTAT clears both ([`reset`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use super::{all_commands, Command, Ctx};
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

/// The histogram name of a container command's subcommand (`name|sub`);
/// None for a plain command, or a container called without a subcommand.
fn container_name(command: &Command, args: &[&[u8]]) -> Option<String> {
    if !command.is_container() {
        return None;
    }
    let sub = String::from_utf8_lossy(args.get(1)?).to_ascii_lowercase();
    Some(format!("{}|{}", command.name, sub))
}

/// A histogram that client threads update without a lock.
struct AtomicHistogram {
    calls: AtomicU64,
    buckets: [AtomicU64; BUCKETS],
}

/// One [`AtomicHistogram`] per command-table row (plain commands).
fn fast() -> &'static [AtomicHistogram] {
    static FAST: OnceLock<Vec<AtomicHistogram>> = OnceLock::new();
    FAST.get_or_init(|| {
        all_commands()
            .map(|_| AtomicHistogram {
                calls: AtomicU64::new(0),
                buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            })
            .collect()
    })
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

/// Counts one command that took `duration_us` (when latency-tracking is
/// on): `index` and `command` are its command-table row, `args` its line
/// (for a container's subcommand name).
pub fn record(
    monitoring: &Mutex<super::introspection::Monitoring>,
    index: usize,
    command: &Command,
    args: &[&[u8]],
    duration_us: u64,
) {
    if !TRACKING.load(Ordering::Relaxed) {
        return;
    }
    let bucket = (64 - duration_us.saturating_sub(1).leading_zeros() as usize).min(BUCKETS - 1);
    match container_name(command, args) {
        None => {
            if let Some(h) = fast().get(index) {
                h.calls.fetch_add(1, Ordering::Relaxed);
                h.buckets[bucket].fetch_add(1, Ordering::Relaxed);
            }
        }
        Some(name) => {
            let mut mon = monitoring.lock().unwrap_or_else(|p| p.into_inner());
            let h = mon.histograms.entry(name).or_default();
            h.calls += 1;
            h.buckets[bucket] += 1;
        }
    }
}

/// Every histogram with at least one call, by full name: the plain
/// commands' atomic ones merged with the subcommands' map.
pub fn snapshot(
    monitoring: &Mutex<super::introspection::Monitoring>,
) -> BTreeMap<String, Histogram> {
    let mut out = monitoring
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .histograms
        .clone();
    for (command, h) in all_commands().zip(fast()) {
        let calls = h.calls.load(Ordering::Relaxed);
        if calls > 0 {
            let buckets = std::array::from_fn(|i| h.buckets[i].load(Ordering::Relaxed));
            out.insert(command.name.to_string(), Histogram { calls, buckets });
        }
    }
    out
}

/// Clears every histogram (CONFIG RESETSTAT).
pub fn reset(monitoring: &Mutex<super::introspection::Monitoring>) {
    monitoring
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .histograms
        .clear();
    for h in fast() {
        h.calls.store(0, Ordering::Relaxed);
        for b in &h.buckets {
            b.store(0, Ordering::Relaxed);
        }
    }
}

/// LATENCY HISTOGRAM [command ...] — a map from command name to
/// `{calls, histogram_usec}`; a container's name selects all its
/// subcommands, unknown names are skipped.
pub fn histogram_reply(ctx: &mut Ctx, names: &[&[u8]]) -> CmdResult {
    let selected: Vec<(String, Histogram)> = {
        let all = snapshot(&ctx.server.monitoring);
        let wanted: Vec<String> = names
            .iter()
            .map(|n| String::from_utf8_lossy(n).to_ascii_lowercase())
            .collect();
        all.into_iter()
            .filter(|(name, _)| {
                wanted.is_empty()
                    || wanted.iter().any(|w| {
                        name == w || name.split_once('|').is_some_and(|(parent, _)| parent == w)
                    })
            })
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
        let mon = Mutex::new(super::super::introspection::Monitoring::default());
        let rec = |args: &[&[u8]], us| {
            let (i, c) = super::super::lookup(args[0]).unwrap();
            record(&mon, i, c, args, us);
        };
        rec(&[b"SET", b"k", b"v"], 0);
        rec(&[b"set", b"k", b"v"], 1);
        rec(&[b"set", b"k", b"v"], 3);
        rec(&[b"CONFIG", b"RESETSTAT"], 100);
        let h = snapshot(&mon);
        let set = &h["set"];
        assert!(set.calls >= 3); // other tests in this process may add SETs
        assert!(set.buckets[0] >= 2); // <= 1 µs
        assert!(set.buckets[2] >= 1); // (2, 4] µs
        assert_eq!(h["config|resetstat"].buckets[7], 1); // (64, 128] µs
    }
}
