//! Configuration: Redis's directives, from redis.conf, the command line and CONFIG SET.
//!
//! Every directive of Redis 7.0's redis.conf is known here, in one table
//! ([`PARAMS`]) with its default and kind. The same names work in three
//! places, later ones winning:
//!
//! ```text
//! ferredis [/path/to/redis.conf] [--port 7000] [--save ""] [--appendonly yes] ...
//!           └ file, line by line  └ each "--name value..." is one more line
//! CONFIG SET port 7000 save ""       (at run time, for mutable parameters)
//! ```
//!
//! Values are kept as canonical strings (what CONFIG GET prints: memory in
//! bytes, booleans as yes/no); typed getters parse them. The hot paths
//! never look here per command: the server copies what it needs into
//! atomics when the value changes.
//!
//! Directives we accept but do not act on yet are listed at start-up with a
//! warning; a directive Redis does not know stops the start with Redis's
//! "FATAL CONFIG FILE ERROR" text.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::resp::parser::split_args;
use crate::store::glob::glob_match;

/// Size limits that data commands read on every call (ZADD, XADD, PFADD),
/// copied from the configuration after every change by
/// [`HotLimits::apply`]: searching the configuration by name cost ZADD
/// more than the insert itself.
pub struct HotLimits {
    /// zset-max-listpack-entries
    pub zset_entries: AtomicUsize,
    /// zset-max-listpack-value, in bytes
    pub zset_value_bytes: AtomicUsize,
    /// stream-node-max-entries
    pub stream_node_entries: AtomicUsize,
    /// stream-node-max-bytes
    pub stream_node_bytes: AtomicUsize,
    /// hll-sparse-max-bytes
    pub hll_sparse_bytes: AtomicUsize,
}

/// The one set of [`HotLimits`] (one server per process), at Redis's defaults
/// until the configuration is applied.
pub static HOT_LIMITS: HotLimits = HotLimits {
    zset_entries: AtomicUsize::new(128),
    zset_value_bytes: AtomicUsize::new(64),
    stream_node_entries: AtomicUsize::new(100),
    stream_node_bytes: AtomicUsize::new(4096),
    hll_sparse_bytes: AtomicUsize::new(3000),
};

impl HotLimits {
    /// Copies the limits from `config`.
    pub fn apply(&self, config: &Config) {
        let get = |name| config.get_i64(name).max(0) as usize;
        let pairs = [
            (&self.zset_entries, "zset-max-listpack-entries"),
            (&self.zset_value_bytes, "zset-max-listpack-value"),
            (&self.stream_node_entries, "stream-node-max-entries"),
            (&self.stream_node_bytes, "stream-node-max-bytes"),
            (&self.hll_sparse_bytes, "hll-sparse-max-bytes"),
        ];
        for (slot, name) in pairs {
            slot.store(get(name), Ordering::Relaxed);
        }
    }

    /// One limit's current value.
    pub fn get(slot: &AtomicUsize) -> usize {
        slot.load(Ordering::Relaxed)
    }
}

/// How a parameter's value is checked and normalized.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// yes / no
    Bool,
    /// An integer.
    Int,
    /// Bytes, accepting units such as 1gb / 100mb / 1k.
    Memory,
    /// One of the space-separated words.
    Enum(&'static str),
    /// Free text, or a special format checked in [`Config::set`].
    Str,
}

/// One configuration parameter.
#[derive(Debug)]
pub struct Param {
    /// Its name as in redis.conf.
    pub name: &'static str,
    /// Redis 7.0's default, as CONFIG GET prints it.
    pub default: &'static str,
    /// How values are validated.
    pub kind: ParamKind,
    /// False for parameters CONFIG SET refuses (start-up only).
    pub mutable: bool,
}

const fn p(name: &'static str, default: &'static str, kind: ParamKind, mutable: bool) -> Param {
    Param {
        name,
        default,
        kind,
        mutable,
    }
}

use ParamKind::*;

/// Every parameter Redis 7.0 knows, sorted by name.
pub const PARAMS: &[Param] = &[
    p("acl-pubsub-default", "resetchannels", Enum("allchannels resetchannels"), true),
    p("aclfile", "", Str, false),
    p("acllog-max-len", "128", Int, true),
    p("active-defrag-cycle-max", "25", Int, true),
    p("active-defrag-cycle-min", "1", Int, true),
    p("active-defrag-ignore-bytes", "104857600", Memory, true),
    p("active-defrag-max-scan-fields", "1000", Int, true),
    p("active-defrag-threshold-lower", "10", Int, true),
    p("active-defrag-threshold-upper", "100", Int, true),
    p("active-expire-effort", "1", Int, true),
    p("activedefrag", "no", Bool, true),
    p("activerehashing", "yes", Bool, true),
    p("always-show-logo", "no", Bool, false),
    p("aof-disable-auto-gc", "no", Bool, true),
    p("aof-load-truncated", "yes", Bool, true),
    p("aof-rewrite-incremental-fsync", "yes", Bool, true),
    p("aof-timestamp-enabled", "no", Bool, true),
    p("aof-use-rdb-preamble", "yes", Bool, true),
    p("aof_rewrite_cpulist", "", Str, false),
    p("appenddirname", "appendonlydir", Str, false),
    p("appendfilename", "appendonly.aof", Str, false),
    p("appendfsync", "everysec", Enum("always everysec no"), true),
    p("appendonly", "no", Bool, true),
    p("auto-aof-rewrite-min-size", "67108864", Memory, true),
    p("auto-aof-rewrite-percentage", "100", Int, true),
    p("bgsave_cpulist", "", Str, false),
    p("bind", "* -::*", Str, true),
    p("bind-source-addr", "", Str, true),
    p("bio_cpulist", "", Str, false),
    p("busy-reply-threshold", "5000", Int, true),
    p("client-output-buffer-limit", "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", Str, true),
    p("client-query-buffer-limit", "1073741824", Memory, true),
    p("cluster-allow-pubsubshard-when-down", "yes", Bool, true),
    p("cluster-allow-reads-when-down", "no", Bool, true),
    p("cluster-allow-replica-migration", "yes", Bool, true),
    p("cluster-announce-bus-port", "0", Int, true),
    p("cluster-announce-hostname", "", Str, true),
    p("cluster-announce-ip", "", Str, true),
    p("cluster-announce-port", "0", Int, true),
    p("cluster-announce-tls-port", "0", Int, true),
    p("cluster-config-file", "nodes.conf", Str, false),
    p("cluster-enabled", "no", Bool, false),
    p("cluster-link-sendbuf-limit", "0", Memory, true),
    p("cluster-migration-barrier", "1", Int, true),
    p("cluster-node-timeout", "15000", Int, true),
    p("cluster-port", "0", Int, false),
    p("cluster-preferred-endpoint-type", "ip", Enum("ip hostname unknown-endpoint"), true),
    p("cluster-replica-no-failover", "no", Bool, true),
    p("cluster-replica-validity-factor", "10", Int, true),
    p("cluster-require-full-coverage", "yes", Bool, true),
    p("crash-log-enabled", "yes", Bool, true),
    p("crash-memcheck-enabled", "yes", Bool, true),
    p("daemonize", "no", Bool, false),
    p("databases", "16", Int, false),
    p("dbfilename", "dump.rdb", Str, true),
    p("dir", ".", Str, true),
    p("disable-thp", "yes", Bool, false),
    p("dynamic-hz", "yes", Bool, true),
    p("enable-debug-command", "no", Enum("no yes local"), false),
    p("enable-module-command", "no", Enum("no yes local"), false),
    p("enable-protected-configs", "no", Enum("no yes local"), false),
    p("hash-max-listpack-entries", "512", Int, true),
    p("hash-max-listpack-value", "64", Memory, true),
    p("hll-sparse-max-bytes", "3000", Memory, true),
    p("hz", "10", Int, true),
    p("ignore-warnings", "", Str, true),
    p("io-threads", "1", Int, false),
    p("io-threads-do-reads", "no", Bool, false),
    p("jemalloc-bg-thread", "yes", Bool, true),
    p("latency-monitor-threshold", "0", Int, true),
    p("latency-tracking", "yes", Bool, true),
    p("latency-tracking-info-percentiles", "50 99 99.9", Str, true),
    p("lazyfree-lazy-eviction", "no", Bool, true),
    p("lazyfree-lazy-expire", "no", Bool, true),
    p("lazyfree-lazy-server-del", "no", Bool, true),
    p("lazyfree-lazy-user-del", "no", Bool, true),
    p("lazyfree-lazy-user-flush", "no", Bool, true),
    p("lfu-decay-time", "1", Int, true),
    p("lfu-log-factor", "10", Int, true),
    p("list-compress-depth", "0", Int, true),
    p("list-max-listpack-size", "-2", Int, true),
    p("logfile", "", Str, false),
    p("loglevel", "notice", Enum("debug verbose notice warning"), true),
    p("masterauth", "", Str, true),
    p("masteruser", "", Str, true),
    p("maxclients", "10000", Int, true),
    p("maxmemory", "0", Memory, true),
    p("maxmemory-clients", "0", Memory, true),
    p("maxmemory-eviction-tenacity", "10", Int, true),
    p("maxmemory-policy", "noeviction", Enum("volatile-lru volatile-lfu volatile-random volatile-ttl allkeys-lru allkeys-lfu allkeys-random noeviction"), true),
    p("maxmemory-samples", "5", Int, true),
    p("min-replicas-max-lag", "10", Int, true),
    p("min-replicas-to-write", "0", Int, true),
    p("no-appendfsync-on-rewrite", "no", Bool, true),
    p("notify-keyspace-events", "", Str, true),
    p("oom-score-adj", "no", Enum("no yes relative absolute"), true),
    p("oom-score-adj-values", "0 200 800", Str, true),
    p("pidfile", "", Str, false),
    p("port", "6379", Int, true),
    p("proc-title-template", "{title} {listen-addr} {server-mode}", Str, true),
    p("propagation-error-behavior", "ignore", Enum("ignore panic panic-on-replicas"), true),
    p("protected-mode", "yes", Bool, true),
    p("proto-max-bulk-len", "536870912", Memory, true),
    p("rdb-del-sync-files", "no", Bool, true),
    p("rdb-key-save-delay", "0", Int, true),
    p("rdb-save-incremental-fsync", "yes", Bool, true),
    p("rdbchecksum", "yes", Bool, false),
    p("rdbcompression", "yes", Bool, true),
    p("repl-backlog-size", "1048576", Memory, true),
    p("repl-backlog-ttl", "3600", Int, true),
    p("repl-disable-tcp-nodelay", "no", Bool, true),
    p("repl-diskless-load", "disabled", Enum("disabled on-empty-db swapdb"), true),
    p("repl-diskless-sync", "yes", Bool, true),
    p("repl-diskless-sync-delay", "5", Int, true),
    p("repl-diskless-sync-max-replicas", "0", Int, true),
    p("repl-ping-replica-period", "10", Int, true),
    p("repl-timeout", "60", Int, true),
    p("replica-announce-ip", "", Str, true),
    p("replica-announce-port", "0", Int, true),
    p("replica-announced", "yes", Bool, true),
    p("replica-ignore-disk-write-errors", "no", Bool, true),
    p("replica-ignore-maxmemory", "yes", Bool, true),
    p("replica-lazy-flush", "no", Bool, true),
    p("replica-priority", "100", Int, true),
    p("replica-read-only", "yes", Bool, true),
    p("replica-serve-stale-data", "yes", Bool, true),
    p("replicaof", "", Str, false),
    p("requirepass", "", Str, true),
    p("sanitize-dump-payload", "no", Enum("no yes clients"), true),
    p("save", "3600 1 300 100 60 10000", Str, true),
    p("server_cpulist", "", Str, false),
    p("set-max-intset-entries", "512", Int, true),
    p("set-proc-title", "yes", Bool, false),
    p("shutdown-on-sigint", "default", Enum("default save nosave now force"), true),
    p("shutdown-on-sigterm", "default", Enum("default save nosave now force"), true),
    p("shutdown-timeout", "10", Int, true),
    p("slowlog-log-slower-than", "10000", Int, true),
    p("slowlog-max-len", "128", Int, true),
    p("socket-mark-id", "0", Int, false),
    p("stop-writes-on-bgsave-error", "yes", Bool, true),
    p("stream-node-max-bytes", "4096", Memory, true),
    p("stream-node-max-entries", "100", Int, true),
    p("supervised", "no", Enum("upstart systemd auto no"), false),
    p("syslog-enabled", "no", Bool, false),
    p("syslog-facility", "local0", Enum("user local0 local1 local2 local3 local4 local5 local6 local7"), false),
    p("syslog-ident", "redis", Str, false),
    p("tcp-backlog", "511", Int, false),
    p("tcp-keepalive", "300", Int, true),
    p("timeout", "0", Int, true),
    p("tls-auth-clients", "yes", Bool, true),
    p("tls-ca-cert-dir", "", Str, true),
    p("tls-ca-cert-file", "", Str, true),
    p("tls-cert-file", "", Str, true),
    p("tls-ciphers", "", Str, true),
    p("tls-ciphersuites", "", Str, true),
    p("tls-client-cert-file", "", Str, true),
    p("tls-client-key-file", "", Str, true),
    p("tls-client-key-file-pass", "", Str, true),
    p("tls-cluster", "no", Bool, true),
    p("tls-dh-params-file", "", Str, true),
    p("tls-key-file", "", Str, true),
    p("tls-key-file-pass", "", Str, true),
    p("tls-port", "0", Int, true),
    p("tls-prefer-server-ciphers", "no", Bool, true),
    p("tls-protocols", "", Str, true),
    p("tls-replication", "no", Bool, true),
    p("tls-session-cache-size", "20480", Int, true),
    p("tls-session-cache-timeout", "300", Int, true),
    p("tls-session-caching", "yes", Bool, true),
    p("tracking-table-max-keys", "1000000", Int, true),
    p("unixsocket", "", Str, false),
    p("unixsocketperm", "0", Int, false),
    p("zset-max-listpack-entries", "128", Int, true),
    p("zset-max-listpack-value", "64", Memory, true),
    // Hidden (testing) parameters: CONFIG GET shows them only by exact name.
    p("key-load-delay", "0", Int, true),
    p("loading-process-events-interval-bytes", "2097152", Int, true),
    p("rdb-key-save-delay", "0", Int, true),
    p("use-exit-on-panic", "no", Bool, true),
    p("watchdog-period", "0", Int, true),
];

/// Parameters CONFIG GET lists only when asked by their exact name.
pub const HIDDEN: &[&str] = &[
    "key-load-delay",
    "loading-process-events-interval-bytes",
    "rdb-key-save-delay",
    "use-exit-on-panic",
    "watchdog-period",
];

/// Parameters that take several arguments on one line ("save 900 1 300 10");
/// every other directive takes exactly one.
pub const MULTI_ARG: &[&str] = &[
    "shutdown-on-sigint",
    "shutdown-on-sigterm",
    "save",
    "client-output-buffer-limit",
    "oom-score-adj-values",
    "bind",
    "replicaof",
    "latency-tracking-info-percentiles",
];

/// Range of each numeric parameter (lower, upper, inclusive), from Redis
/// 7.0's config.c; CONFIG SET and config files refuse values outside it.
pub const BOUNDS: &[(&str, i128, i128)] = &[
    ("acllog-max-len", 0, 9223372036854775807),
    ("active-defrag-cycle-max", 1, 99),
    ("active-defrag-cycle-min", 1, 99),
    ("active-defrag-ignore-bytes", 1, 9223372036854775807),
    ("active-defrag-max-scan-fields", 1, 9223372036854775807),
    ("active-defrag-threshold-lower", 0, 1000),
    ("active-defrag-threshold-upper", 0, 1000),
    ("active-expire-effort", 1, 10),
    ("auto-aof-rewrite-min-size", 0, 9223372036854775807),
    ("auto-aof-rewrite-percentage", 0, 2147483647),
    ("busy-reply-threshold", 0, 9223372036854775807),
    ("client-query-buffer-limit", 1048576, 9223372036854775807),
    ("cluster-announce-bus-port", 0, 65535),
    ("cluster-announce-port", 0, 65535),
    ("cluster-announce-tls-port", 0, 65535),
    ("cluster-link-sendbuf-limit", 0, 9223372036854775807),
    ("cluster-migration-barrier", 0, 2147483647),
    ("cluster-node-timeout", 0, 9223372036854775807),
    ("cluster-port", 0, 65535),
    ("cluster-replica-validity-factor", 0, 2147483647),
    ("databases", 1, 2147483647),
    ("hash-max-listpack-entries", 0, 9223372036854775807),
    ("hash-max-listpack-value", 0, 9223372036854775807),
    ("hll-sparse-max-bytes", 0, 9223372036854775807),
    ("hz", 0, 2147483647),
    ("io-threads", 1, 128),
    ("key-load-delay", -2147483648, 2147483647),
    ("latency-monitor-threshold", 0, 9223372036854775807),
    ("lfu-decay-time", 0, 2147483647),
    ("lfu-log-factor", 0, 2147483647),
    ("list-compress-depth", 0, 2147483647),
    ("list-max-listpack-size", -2147483648, 2147483647),
    ("loading-process-events-interval-bytes", 1024, 2147483647),
    ("maxclients", 1, 4294967295),
    ("maxmemory", 0, 9223372036854775807),
    ("maxmemory-clients", -100, 9223372036854775807),
    ("maxmemory-eviction-tenacity", 0, 100),
    ("maxmemory-samples", 1, 2147483647),
    ("min-replicas-max-lag", 0, 2147483647),
    ("min-replicas-to-write", 0, 2147483647),
    ("port", 0, 65535),
    ("proto-max-bulk-len", 1048576, 9223372036854775807),
    ("rdb-key-save-delay", -2147483648, 2147483647),
    ("repl-backlog-size", 1, 9223372036854775807),
    ("repl-backlog-ttl", 0, 9223372036854775807),
    ("repl-diskless-sync-delay", 0, 2147483647),
    ("repl-diskless-sync-max-replicas", 0, 2147483647),
    ("repl-ping-replica-period", 1, 2147483647),
    ("repl-timeout", 1, 2147483647),
    ("replica-announce-port", 0, 65535),
    ("replica-priority", 0, 2147483647),
    ("set-max-intset-entries", 0, 9223372036854775807),
    ("shutdown-timeout", 0, 2147483647),
    ("slowlog-log-slower-than", -1, 9223372036854775807),
    ("slowlog-max-len", 0, 9223372036854775807),
    ("socket-mark-id", 0, 4294967295),
    ("stream-node-max-bytes", 0, 9223372036854775807),
    ("stream-node-max-entries", 0, 9223372036854775807),
    ("tcp-backlog", 0, 2147483647),
    ("tcp-keepalive", 0, 2147483647),
    ("timeout", 0, 2147483647),
    ("tls-port", 0, 65535),
    ("tls-session-cache-size", 0, 2147483647),
    ("tls-session-cache-timeout", 0, 2147483647),
    ("tracking-table-max-keys", 0, 9223372036854775807),
    ("watchdog-period", 0, 2147483647),
    ("zset-max-listpack-entries", 0, 9223372036854775807),
    ("zset-max-listpack-value", 0, 9223372036854775807),
];

/// Parameters CONFIG SET changes only when enable-protected-configs allows.
pub const PROTECTED: &[&str] = &["dir", "dbfilename"];

/// Parameters CONFIG SET refuses with -LOADING while the data loads.
pub const DENY_LOADING: &[&str] = &["dir", "appendonly"];

/// Old names Redis still accepts, and the parameter each stands for.
pub const ALIASES: &[(&str, &str)] = &[
    ("hash-max-ziplist-entries", "hash-max-listpack-entries"),
    ("hash-max-ziplist-value", "hash-max-listpack-value"),
    ("list-max-ziplist-size", "list-max-listpack-size"),
    ("zset-max-ziplist-entries", "zset-max-listpack-entries"),
    ("zset-max-ziplist-value", "zset-max-listpack-value"),
    ("cluster-slave-no-failover", "cluster-replica-no-failover"),
    (
        "cluster-slave-validity-factor",
        "cluster-replica-validity-factor",
    ),
    ("min-slaves-max-lag", "min-replicas-max-lag"),
    ("min-slaves-to-write", "min-replicas-to-write"),
    ("repl-ping-slave-period", "repl-ping-replica-period"),
    ("slave-announce-ip", "replica-announce-ip"),
    ("slave-announce-port", "replica-announce-port"),
    ("slave-ignore-maxmemory", "replica-ignore-maxmemory"),
    ("slave-lazy-flush", "replica-lazy-flush"),
    ("slave-priority", "replica-priority"),
    ("slave-read-only", "replica-read-only"),
    ("slave-serve-stale-data", "replica-serve-stale-data"),
    ("slaveof", "replicaof"),
    ("lua-time-limit", "busy-reply-threshold"),
];

/// Parameters the server acts on. The others are accepted and shown by
/// CONFIG GET, and a config file setting them logs a warning.
pub const IMPLEMENTED: &[&str] = &[
    "bind",
    "port",
    "dir",
    "dbfilename",
    "requirepass",
    "databases",
    "maxclients",
    "loglevel",
    "logfile",
    "daemonize",
    "pidfile",
    "save",
    "proto-max-bulk-len",
    "client-query-buffer-limit",
    "hz",
    "timeout",
    "tcp-keepalive",
    "protected-mode",
    "enable-debug-command",
    "always-show-logo",
    "list-max-listpack-size",
    "hash-max-listpack-entries",
    "hash-max-listpack-value",
    "set-max-intset-entries",
    "zset-max-listpack-entries",
    "zset-max-listpack-value",
    "rdbcompression",
    "rdbchecksum",
    "stop-writes-on-bgsave-error",
    "appendonly",
    "appendfsync",
    "appendfilename",
    "appenddirname",
    "aof-use-rdb-preamble",
    "aof-load-truncated",
    "aof-timestamp-enabled",
    "rdb-key-save-delay",
    "auto-aof-rewrite-percentage",
    "auto-aof-rewrite-min-size",
    "notify-keyspace-events",
    "slowlog-log-slower-than",
    "slowlog-max-len",
    "latency-monitor-threshold",
    "lazyfree-lazy-user-del",
    "lazyfree-lazy-user-flush",
    "lazyfree-lazy-server-del",
    "lazyfree-lazy-expire",
    // lazyfree-lazy-eviction is not here: evicted keys are freed in place
    // (see lazyfree.rs), so setting it logs the not-implemented warning.
    "key-load-delay",
    "active-expire-effort",
    // evict.rs, commands/latency_histogram.rs
    "maxmemory",
    "maxmemory-policy",
    "maxmemory-samples",
    "lfu-log-factor",
    "lfu-decay-time",
    "latency-tracking",
    "latency-tracking-info-percentiles",
];

/// Resolves an alias to its parameter's canonical name.
pub fn canonical_name(name: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
        .map(|(_, canon)| *canon)
        .unwrap_or(name)
}

/// Looks a parameter up by name or alias (case-insensitive).
pub fn find_param(name: &str) -> Option<&'static Param> {
    let canon = canonical_name(name);
    PARAMS.iter().find(|p| p.name.eq_ignore_ascii_case(canon))
}

/// Parses a memory amount: an integer with an optional unit (k, kb, m, mb,
/// g, gb, case-insensitive; k = 1000, kb = 1024 as in redis.conf).
pub fn parse_memory(s: &str) -> Option<i64> {
    let lower = s.to_ascii_lowercase();
    let split = lower
        .find(|c: char| !(c.is_ascii_digit() || c == '-'))
        .unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    let mul: i64 = match unit {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => 1024,
        "m" => 1000 * 1000,
        "mb" => 1024 * 1024,
        "g" => 1000 * 1000 * 1000,
        "gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    num.parse::<i64>().ok()?.checked_mul(mul)
}

/// The whole configuration: every parameter's current value.
#[derive(Debug, Clone)]
pub struct Config {
    values: BTreeMap<&'static str, String>,
    /// The config file given at start, if any (CONFIG REWRITE, INFO config_file).
    pub config_file: Option<String>,
    /// `user ...` lines from the config file, for the ACL module.
    pub user_lines: Vec<String>,
    /// Directives set at start that we do not act on (logged once).
    pub unimplemented_seen: Vec<String>,
    /// `rename-command old new` lines: (old name lowercase, new name
    /// lowercase, empty to disable), applied to the command table at start.
    pub renames: Vec<(String, String)>,
}

impl Default for Config {
    fn default() -> Self {
        Self::new()
    }
}

/// A failed directive: Redis's reason text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl Config {
    /// Redis's defaults.
    pub fn new() -> Self {
        Config {
            values: PARAMS
                .iter()
                .map(|p| (p.name, p.default.to_string()))
                .collect(),
            config_file: None,
            user_lines: Vec::new(),
            unimplemented_seen: Vec::new(),
            renames: Vec::new(),
        }
    }

    /// The current value of a parameter (by name or alias).
    pub fn get(&self, name: &str) -> Option<&str> {
        let param = find_param(name)?;
        self.values.get(param.name).map(String::as_str)
    }

    /// A numeric parameter (Int or Memory), or 0 if absent.
    pub fn get_i64(&self, name: &str) -> i64 {
        self.get(name).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// A yes/no parameter.
    pub fn get_bool(&self, name: &str) -> bool {
        self.get(name) == Some("yes")
    }

    /// Every (name, value) whose name or alias matches the glob `pattern`,
    /// for CONFIG GET. Aliases are listed under their own name, as Redis does.
    pub fn matching(&self, pattern: &[u8]) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let exact = !pattern.iter().any(|b| matches!(b, b'*' | b'?' | b'['));
        for p in PARAMS {
            if HIDDEN.contains(&p.name) && !exact {
                continue;
            }
            if glob_match(pattern, p.name.as_bytes(), true) {
                out.push((p.name, self.values[p.name].clone()));
            }
        }
        for (alias, canon) in ALIASES {
            if glob_match(pattern, alias.as_bytes(), true) {
                out.push((*alias, self.values[canon].clone()));
            }
        }
        out
    }

    /// Validates and stores a value (CONFIG SET and config files).
    /// `startup` allows immutable parameters.
    pub fn set(&mut self, name: &str, value: &str, startup: bool) -> Result<(), ConfigError> {
        let param = find_param(name).ok_or_else(|| {
            ConfigError("Unknown option or number of arguments for CONFIG SET".into())
        })?;
        if !param.mutable && !startup {
            return Err(ConfigError("can't set immutable config".into()));
        }
        let normalized = if param.name == "client-output-buffer-limit" {
            merge_obuf_limit(&self.values[param.name], &normalize_obuf_limit(value)?)
        } else {
            normalize(param, value)?
        };
        self.values.insert(param.name, normalized);
        Ok(())
    }

    /// Applies the text of a redis.conf file (plus command-line lines).
    /// Errors carry Redis's fatal config message.
    pub fn load_text(&mut self, text: &str) -> Result<(), String> {
        let mut save_reset = false;
        for (lineno, raw_line) in text.lines().enumerate() {
            let line = raw_line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut scratch = Vec::new();
            let mut ranges = Vec::new();
            let fatal = |why: &str| {
                format!(
                    "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line {}\n>>> '{}'\n{}",
                    lineno + 1,
                    line,
                    why
                )
            };
            if !split_args(line.as_bytes(), &mut scratch, &mut ranges) {
                return Err(fatal("Unbalanced quotes in configuration line"));
            }
            let args: Vec<String> = ranges
                .iter()
                .map(|r| String::from_utf8_lossy(&scratch[r.clone()]).into_owned())
                .collect();
            let Some(name) = args.first().map(|s| s.to_ascii_lowercase()) else {
                continue;
            };
            let rest = &args[1..];
            match name.as_str() {
                "include" => {
                    let path = rest
                        .first()
                        .ok_or_else(|| fatal("Bad directive or wrong number of arguments"))?;
                    let text = std::fs::read_to_string(path)
                        .map_err(|e| fatal(&format!("Can't open the include file {path}: {e}")))?;
                    self.load_text(&text)?;
                    continue;
                }
                "user" => {
                    self.user_lines.push(rest.join(" "));
                    continue;
                }
                "rename-command" => {
                    let [old, new] = &args[1..] else {
                        return Err(fatal("Bad directive or wrong number of arguments"));
                    };
                    let old = old.to_ascii_lowercase();
                    if !crate::commands::all_commands().any(|c| c.name == old) {
                        return Err(fatal("No such command in rename-command"));
                    }
                    self.renames.push((old, new.to_ascii_lowercase()));
                    continue;
                }
                "loadmodule" | "sentinel" => {
                    self.unimplemented_seen.push(name.clone());
                    continue;
                }
                _ => {}
            }
            let Some(param) = find_param(&name) else {
                return Err(fatal("Bad directive or wrong number of arguments"));
            };
            let value = if param.name == "save" {
                // "save 900 1" lines accumulate; `save ""` clears.
                let joined = rest.join(" ");
                if !save_reset || joined.is_empty() {
                    save_reset = true;
                    joined
                } else {
                    format!("{} {}", self.values["save"], joined)
                }
            } else if param.name == "client-output-buffer-limit" {
                merge_obuf_limit(&self.values[param.name], &rest.join(" "))
            } else {
                rest.join(" ")
            };
            // `--replicaof "host port"` on the command line arrives as one
            // quoted argument; Redis takes it apart, as it does for no
            // other single-value directive.
            let split_address: Vec<String>;
            let rest = match rest {
                [one] if param.name == "replicaof" && one.contains(' ') => {
                    split_address = one.split_whitespace().map(String::from).collect();
                    &split_address[..]
                }
                _ => rest,
            };
            let multi_arg = MULTI_ARG.contains(&param.name);
            // Single-value directives take one argument; multi-argument
            // flag enums left empty fail on their own check below.
            let wrong_count = (!multi_arg && rest.len() != 1)
                || (rest.is_empty() && param.name != "save" && !matches!(param.kind, Enum(_)));
            if wrong_count || (param.name == "replicaof" && rest.len() != 2) {
                return Err(fatal("wrong number of arguments"));
            }
            if param.name == "replicaof"
                && !(rest[0].eq_ignore_ascii_case("no") && rest[1].eq_ignore_ascii_case("one"))
                && rest[1].parse::<u16>().is_err()
            {
                return Err(fatal("Invalid master port"));
            }
            self.set(param.name, &value, true)
                .map_err(|e| fatal(&e.0))?;
            if !IMPLEMENTED.contains(&param.name) && value != param.default {
                self.unimplemented_seen.push(param.name.to_string());
            }
        }
        Ok(())
    }
}

/// Checks a client-output-buffer-limit value (`<class> <hard> <soft>
/// <seconds>` groups) and returns it with bytes for memory units and
/// `slave` for the replica class, with Redis's error texts.
fn normalize_obuf_limit(value: &str) -> Result<String, ConfigError> {
    let words: Vec<&str> = value.split_whitespace().collect();
    if !words.len().is_multiple_of(4) {
        return Err(ConfigError(
            "Wrong number of arguments in buffer limit configuration.".into(),
        ));
    }
    let mut out = Vec::new();
    for group in words.chunks(4) {
        let class = match group[0].to_ascii_lowercase().as_str() {
            "normal" => "normal",
            "replica" | "slave" => "slave",
            "pubsub" => "pubsub",
            _ => {
                return Err(ConfigError(
                    "Invalid client class specified in buffer limit configuration.".into(),
                ))
            }
        };
        let bad = || {
            ConfigError(
                "Error in hard, soft or soft_seconds setting in buffer limit configuration.".into(),
            )
        };
        let hard = parse_memory(group[1]).filter(|v| *v >= 0).ok_or_else(bad)?;
        let soft = parse_memory(group[2]).filter(|v| *v >= 0).ok_or_else(bad)?;
        let secs = group[3]
            .parse::<i64>()
            .ok()
            .filter(|v| *v >= 0)
            .ok_or_else(bad)?;
        out.push(format!("{class} {hard} {soft} {secs}"));
    }
    Ok(out.join(" "))
}

/// Replaces one class of a client-output-buffer-limit value.
fn merge_obuf_limit(current: &str, update: &str) -> String {
    let new: Vec<&str> = update.split_whitespace().collect();
    let mut cur: Vec<String> = current.split_whitespace().map(String::from).collect();
    for chunk in new.chunks(4) {
        if let [class, ..] = chunk {
            let class = if *class == "slave" { "replica" } else { class };
            let pos = cur
                .chunks(4)
                .position(|c| c[0] == class || (class == "replica" && c[0] == "slave"));
            match pos {
                Some(i) => {
                    for (j, v) in chunk.iter().enumerate().skip(1) {
                        cur[i * 4 + j] = v.to_string();
                    }
                }
                None => cur.extend(chunk.iter().map(|s| s.to_string())),
            }
        }
    }
    cur.join(" ")
}

/// Refuses a value outside the parameter's range, with Redis's text.
fn check_bounds(name: &str, v: i64) -> Result<(), ConfigError> {
    match BOUNDS.iter().find(|(n, _, _)| *n == name) {
        Some(&(_, lo, hi)) if (v as i128) < lo || (v as i128) > hi => Err(ConfigError(format!(
            "argument must be between {lo} and {hi} inclusive"
        ))),
        _ => Ok(()),
    }
}

fn normalize(param: &Param, value: &str) -> Result<String, ConfigError> {
    let bad = || ConfigError("argument couldn't be parsed into an integer".into());
    match param.kind {
        Bool => match value.to_ascii_lowercase().as_str() {
            "yes" => Ok("yes".into()),
            "no" => Ok("no".into()),
            _ => Err(ConfigError("argument must be 'yes' or 'no'".into())),
        },
        Int => {
            let v = parse_memory(value).ok_or_else(bad)?;
            check_bounds(param.name, v)?;
            Ok(v.to_string())
        }
        Memory => {
            if let Some(perc) = value.strip_suffix('%') {
                // Only maxmemory-clients takes a percentage of maxmemory.
                let p = perc
                    .parse::<i64>()
                    .ok()
                    .filter(|_| param.name == "maxmemory-clients");
                return match p {
                    Some(p) if (0..=100).contains(&p) => Ok(value.to_string()),
                    Some(_) => Err(ConfigError(
                        "percentage argument must be less or equal to 100".into(),
                    )),
                    None => Err(ConfigError("argument must be a memory value".into())),
                };
            }
            let v = parse_memory(value)
                .ok_or_else(|| ConfigError("argument must be a memory value".into()))?;
            if v < 0 {
                return Err(ConfigError("argument must be a memory value".into()));
            }
            check_bounds(param.name, v)?;
            Ok(v.to_string())
        }
        Enum(words) => {
            let lower = value.to_ascii_lowercase();
            // shutdown-on-sig* take several flags ("nosave now force").
            let flags = MULTI_ARG.contains(&param.name)
                && !lower.is_empty()
                && lower
                    .split_whitespace()
                    .all(|v| words.split(' ').any(|w| w == v));
            if flags || words.split(' ').any(|w| w == lower) {
                // Flags print in the enum's own order, as Redis does.
                let given: Vec<&str> = lower.split_whitespace().collect();
                let ordered: Vec<&str> = words.split(' ').filter(|w| given.contains(w)).collect();
                Ok(ordered.join(" "))
            } else {
                Err(ConfigError(
                    "argument(s) must be one of the following: ".to_string()
                        + &words.replace(' ', ", "),
                ))
            }
        }
        Str => {
            if param.name == "oom-score-adj-values" {
                let v = crate::oom::parse_values(value).map_err(ConfigError)?;
                return Ok(format!("{} {} {}", v[0], v[1], v[2]));
            }
            if param.name == "latency-tracking-info-percentiles" {
                let mut shown = Vec::new();
                for v in value.split_whitespace() {
                    let p: f64 = v.parse().map_err(|_| {
                        ConfigError("Invalid latency-tracking-info-percentiles parameters".into())
                    })?;
                    if !(0.0..=100.0).contains(&p) {
                        return Err(ConfigError("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into()));
                    }
                    shown.push(percentile_text(p));
                }
                // Stored as Redis prints it back: "0.0 50.0 99.90" -> "0 50 99.9".
                return Ok(shown.join(" "));
            }
            if param.name == "save" {
                let parts: Vec<&str> = value.split_whitespace().collect();
                if !parts.len().is_multiple_of(2) || parts.iter().any(|p| p.parse::<i64>().is_err())
                {
                    return Err(ConfigError("Invalid save parameters".into()));
                }
                return Ok(parts.join(" "));
            }
            if param.name == "notify-keyspace-events" {
                return crate::pubsub::normalize_notify_flags(value).map_err(ConfigError);
            }
            Ok(value.to_string())
        }
    }
}

/// A percentile as Redis prints it (CONFIG GET, INFO latencystats): `%f`
/// with trailing zeros and a bare point removed, so 50.0 is "50" and 99.9
/// is "99.9".
pub fn percentile_text(p: f64) -> String {
    let text = format!("{p:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_aliases() {
        let c = Config::new();
        assert_eq!(c.get("port"), Some("6379"));
        assert_eq!(c.get("hash-max-ziplist-entries"), Some("512"));
        assert_eq!(c.get("save"), Some("3600 1 300 100 60 10000"));
    }

    #[test]
    fn file_lines_and_errors() {
        let mut c = Config::new();
        c.load_text(
            "# comment\nport 7000\nsave 900 1\nsave 60 100\nmaxmemory 1mb\nappendonly YES\n",
        )
        .unwrap();
        assert_eq!(c.get("port"), Some("7000"));
        assert_eq!(c.get("save"), Some("900 1 60 100"));
        assert_eq!(c.get("maxmemory"), Some("1048576"));
        assert_eq!(c.get("appendonly"), Some("yes"));
        let err = c.load_text("port 1\nfoo bar\n").unwrap_err();
        assert!(err.contains("at line 2"), "{err}");
        assert!(err.contains(">>> 'foo bar'"));
        assert!(err.contains("Bad directive or wrong number of arguments"));
        c.load_text("save \"\"\n").unwrap();
        assert_eq!(c.get("save"), Some(""));
        // The command line's --replicaof "host port" is one argument that
        // Redis splits; --requirepass "a b" stays one value.
        c.load_text("replicaof \"127.0.0.1 6380\"\nrequirepass \"a b\"\n")
            .unwrap();
        assert_eq!(c.get("replicaof"), Some("127.0.0.1 6380"));
        assert_eq!(c.get("requirepass"), Some("a b"));
        let err = c.load_text("replicaof \"127.0.0.1\"\n").unwrap_err();
        assert!(err.contains("wrong number of arguments"), "{err}");
    }

    #[test]
    fn config_set_validates() {
        let mut c = Config::new();
        assert!(c.set("maxmemory-policy", "allkeys-lru", false).is_ok());
        assert!(c.set("maxmemory-policy", "bogus", false).is_err());
        assert!(c.set("databases", "4", false).is_err());
        assert!(c.set("appendonly", "maybe", false).is_err());
        assert!(c.set("hz", "abc", false).is_err());
    }
}
