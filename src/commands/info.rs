//! INFO sections that measure the process: memory and CPU.
//!
//! INFO itself (section selection, the other sections) is in server.rs;
//! these sections are here because their numbers come from outside the
//! server's own counters:
//!
//! - memory: `used_memory` is the live heap counted by our global allocator
//!   (memory.rs), the number maxmemory is compared with; `used_memory_rss`
//!   is the resident set from /proc/self/statm, larger because it adds the
//!   allocator's free lists, thread stacks and the binary itself. Their
//!   ratio is `mem_fragmentation_ratio`, as in Redis.
//! - cpu: user and system seconds from /proc/self/stat (the whole process)
//!   and /proc/thread-self/stat (the calling client thread, standing in for
//!   Redis's main thread), Redis's getrusage() numbers.
//!
//! Field names and order follow Redis 7.0's INFO; fields about machinery we
//! do not have (Lua VM, replication buffers, jemalloc) are present with the
//! values Redis reports when that machinery is idle, so parsers find them.

use std::fmt::Write as _;

use crate::config::Config;
use crate::memory::{peak_memory, rss_bytes, startup_memory, used_memory};

/// Redis's `bytesToHuman`: 1023B, 1.00K, 1.50M, 2.00G ...
pub fn bytes_to_human(n: u64) -> String {
    const K: f64 = 1024.0;
    let f = n as f64;
    if n < 1024 {
        format!("{n}B")
    } else if f < K * K {
        format!("{:.2}K", f / K)
    } else if f < K * K * K {
        format!("{:.2}M", f / (K * K))
    } else if f < K * K * K * K {
        format!("{:.2}G", f / (K * K * K))
    } else if f < K * K * K * K * K {
        format!("{:.2}T", f / (K * K * K * K))
    } else {
        format!("{:.2}P", f / (K * K * K * K * K))
    }
}

/// Total RAM of the machine, from /proc/meminfo (total_system_memory).
fn total_system_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Appends "# Memory".
pub fn memory_section(config: &Config, out: &mut String) {
    let used = used_memory() as u64;
    let rss = rss_bytes();
    let peak = (peak_memory() as u64).max(used);
    let startup = (startup_memory() as u64).min(used);
    let dataset = used - startup;
    let maxmemory = config.get_i64("maxmemory").max(0) as u64;
    let frag = if used > 0 {
        rss as f64 / used as f64
    } else {
        0.0
    };
    let system = total_system_memory();
    let (cached_scripts, n_functions, n_libraries) = crate::scripting::info_counts();
    let _ = write!(
        out,
        "# Memory\r\n\
         used_memory:{used}\r\n\
         used_memory_human:{}\r\n\
         used_memory_rss:{rss}\r\n\
         used_memory_rss_human:{}\r\n\
         used_memory_peak:{peak}\r\n\
         used_memory_peak_human:{}\r\n\
         used_memory_peak_perc:{:.2}%\r\n\
         used_memory_overhead:{startup}\r\n\
         used_memory_startup:{startup}\r\n\
         used_memory_dataset:{dataset}\r\n\
         used_memory_dataset_perc:{:.2}%\r\n\
         allocator_allocated:{used}\r\n\
         allocator_active:{rss}\r\n\
         allocator_resident:{rss}\r\n\
         total_system_memory:{system}\r\n\
         total_system_memory_human:{}\r\n\
         used_memory_lua:31744\r\n\
         used_memory_vm_eval:31744\r\n\
         used_memory_lua_human:31.00K\r\n\
         used_memory_scripts_eval:0\r\n\
         number_of_cached_scripts:{cached_scripts}\r\n\
         number_of_functions:{n_functions}\r\n\
         number_of_libraries:{n_libraries}\r\n\
         used_memory_vm_functions:32768\r\n\
         used_memory_vm_total:64512\r\n\
         used_memory_vm_total_human:63.00K\r\n\
         used_memory_functions:184\r\n\
         used_memory_scripts:184\r\n\
         used_memory_scripts_human:184B\r\n\
         maxmemory:{maxmemory}\r\n\
         maxmemory_human:{}\r\n\
         maxmemory_policy:{}\r\n\
         allocator_frag_ratio:1.00\r\n\
         allocator_frag_bytes:0\r\n\
         allocator_rss_ratio:{frag:.2}\r\n\
         allocator_rss_bytes:{}\r\n\
         rss_overhead_ratio:1.00\r\n\
         rss_overhead_bytes:0\r\n\
         mem_fragmentation_ratio:{frag:.2}\r\n\
         mem_fragmentation_bytes:{}\r\n\
         mem_not_counted_for_evict:0\r\n\
         mem_replication_backlog:0\r\n\
         mem_total_replication_buffers:0\r\n\
         mem_clients_slaves:0\r\n\
         mem_clients_normal:0\r\n\
         mem_cluster_links:0\r\n\
         mem_aof_buffer:0\r\n\
         mem_allocator:libc\r\n\
         active_defrag_running:0\r\n\
         lazyfree_pending_objects:{}\r\n\
         lazyfreed_objects:{}\r\n",
        bytes_to_human(used),
        bytes_to_human(rss),
        bytes_to_human(peak),
        if peak > 0 {
            used as f64 * 100.0 / peak as f64
        } else {
            0.0
        },
        if used > 0 {
            dataset as f64 * 100.0 / used as f64
        } else {
            0.0
        },
        bytes_to_human(system),
        bytes_to_human(maxmemory),
        config.get("maxmemory-policy").unwrap_or("noeviction"),
        rss as i64 - used as i64,
        rss as i64 - used as i64,
        crate::lazyfree::pending(),
        crate::lazyfree::freed(),
    );
}

/// Appends "# Latencystats": each command's latency percentiles (the
/// `latency-tracking-info-percentiles` ones) from its LATENCY HISTOGRAM
/// buckets, as `latency_percentiles_usec_<name>:p50=1.003,p99=...`.
pub fn latencystats_section(server: &crate::server::Server, config: &Config, out: &mut String) {
    out.push_str("# Latencystats\r\n");
    if !config.get_bool("latency-tracking") {
        return;
    }
    let percentiles: Vec<f64> = config
        .get("latency-tracking-info-percentiles")
        .unwrap_or("")
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    for (name, h) in &super::latency_histogram::snapshot(&server.monitoring) {
        let _ = write!(out, "latency_percentiles_usec_{name}:");
        for (i, p) in percentiles.iter().enumerate() {
            let sep = if i > 0 { "," } else { "" };
            let _ = write!(
                out,
                "{sep}p{}={:.3}",
                crate::config::percentile_text(*p),
                h.percentile(*p)
            );
        }
        out.push_str("\r\n");
    }
}

/// CONFIG RESETSTAT's part for counters kept outside `Stats`: expired and
/// evicted keys.
pub fn reset_stats(server: &crate::server::Server) {
    let mut store = server.store.write().unwrap_or_else(|p| p.into_inner());
    for db in &mut store.dbs {
        db.expired_keys = 0;
    }
    drop(store);
    crate::evict::reset_stats();
    crate::lazyfree::reset_stats();
    super::latency_histogram::reset(&server.monitoring);
}

/// (user, system, children user, children system) seconds from a
/// /proc/<...>/stat file; zeros when it cannot be read.
fn cpu_seconds(path: &str) -> [f64; 4] {
    // Fields after the ")" closing the command name start at field 3
    // (state); utime, stime, cutime, cstime are fields 14..17, in clock
    // ticks (USER_HZ, 100 on Linux).
    const TICKS_PER_S: f64 = 100.0;
    let Ok(text) = std::fs::read_to_string(path) else {
        return [0.0; 4];
    };
    let Some(rest) = text.rfind(')').and_then(|i| text.get(i + 1..)) else {
        return [0.0; 4];
    };
    let fields: Vec<f64> = rest
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|v| v.parse::<f64>().unwrap_or(0.0) / TICKS_PER_S)
        .collect();
    let mut out = [0.0; 4];
    for (o, f) in out.iter_mut().zip(fields) {
        *o = f;
    }
    out
}

/// Appends "# CPU".
pub fn cpu_section(out: &mut String) {
    let [user, sys, cuser, csys] = cpu_seconds("/proc/self/stat");
    let [tuser, tsys, _, _] = cpu_seconds("/proc/thread-self/stat");
    let _ = write!(
        out,
        "# CPU\r\nused_cpu_sys:{sys:.6}\r\nused_cpu_user:{user:.6}\r\nused_cpu_sys_children:{csys:.6}\r\nused_cpu_user_children:{cuser:.6}\r\nused_cpu_sys_main_thread:{tsys:.6}\r\nused_cpu_user_main_thread:{tuser:.6}\r\n"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_sizes_match_redis() {
        assert_eq!(bytes_to_human(0), "0B");
        assert_eq!(bytes_to_human(1023), "1023B");
        assert_eq!(bytes_to_human(1536), "1.50K");
        assert_eq!(bytes_to_human(100 * 1024 * 1024), "100.00M");
    }

    #[test]
    fn cpu_times_are_read() {
        let mut s = String::new();
        cpu_section(&mut s);
        assert!(s.starts_with("# CPU\r\nused_cpu_sys:"));
    }
}
