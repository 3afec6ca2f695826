//! The server: shared state, the listener and the accept loop.
//!
//! One [`Server`] value is shared by every thread through an `Arc`:
//!
//! ```text
//! main ──> accept loop (this file) ──spawn──> client-1, client-2, ... (client.rs)
//!      └─> active-expire (expire.rs)
//! all of them share Arc<Server> { store: RwLock<Store>, config, clients, stats }
//! ```
//!
//! Each listening socket (one per `bind` address, plus `unixsocket`) has an
//! accept thread. Each accepted socket gets its own named OS thread with a
//! small stack; the thread owns the socket until the client leaves. Above
//! `maxclients` connections the new socket is answered with Redis's error
//! and closed.
//!
//! CONFIG SET port / bind call [`rebind`]: the old listeners are closed
//! (shutdown(2) wakes their accept threads, which are joined so the port is
//! free), the new ones bound; if that fails the old ones are bound again and
//! CONFIG SET reports Redis's error with nothing changed.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use crate::acl::Acl;
use crate::client::{self, ClientInfo};
use crate::config::Config;
use crate::error::CmdError;
use crate::store::Store;
use crate::util::now_ms;

/// Stack size of a client thread: commands never recurse deeply.
pub const CLIENT_STACK_BYTES: usize = 256 * 1024;

/// Counters of one command (INFO commandstats).
#[derive(Default)]
pub struct CommandStat {
    /// Times called.
    pub calls: AtomicU64,
    /// Total time spent, microseconds.
    pub usec: AtomicU64,
    /// Calls that failed with an error reply.
    pub failed_calls: AtomicU64,
    /// Calls refused before running (arity, auth, ACL, OOM ...).
    pub rejected_calls: AtomicU64,
}

/// Server-wide counters (INFO stats).
#[derive(Default)]
pub struct Stats {
    /// Connections accepted since start.
    pub total_connections_received: AtomicU64,
    /// Connections refused by maxclients.
    pub rejected_connections: AtomicU64,
    /// Commands executed since start.
    pub total_commands_processed: AtomicU64,
    /// Error replies sent.
    pub total_error_replies: AtomicU64,
    /// Errors that commands from the master produced on this replica
    /// (INFO unexpected_error_replies; see replication::replica).
    pub unexpected_error_replies: AtomicU64,
    /// Successful key lookups.
    pub keyspace_hits: AtomicU64,
    /// Failed key lookups.
    pub keyspace_misses: AtomicU64,
    /// Bytes read from clients.
    pub net_input_bytes: AtomicU64,
    /// Bytes written to clients.
    pub net_output_bytes: AtomicU64,
    /// Clients closed by maxmemory-clients (INFO evicted_clients).
    pub evicted_clients: AtomicU64,
    /// Per-command counters, indexed like the command table.
    pub commands: Vec<CommandStat>,
    /// Per-subcommand counters of container commands ("config|set"), which
    /// Redis counts instead of the container.
    pub subcommands: Mutex<BTreeMap<String, CommandStat>>,
    /// By command-table index: whether the command has subcommands.
    has_subcommands: Vec<bool>,
    /// Error counts by error code (INFO errorstats).
    pub errors: Mutex<BTreeMap<String, u64>>,
}

impl Stats {
    fn new() -> Self {
        Stats {
            commands: (0..crate::commands::command_count())
                .map(|_| CommandStat::default())
                .collect(),
            has_subcommands: crate::commands::all_commands()
                .map(|c| {
                    let meta = crate::acl::meta();
                    meta.id(c.name)
                        .is_some_and(|id| !meta.cmds[id].subcommands.is_empty())
                })
                .collect(),
            ..Default::default()
        }
    }

    /// Runs `f` on the counters of the command at `index` run as `args`:
    /// its subcommand's for a container with a known subcommand.
    fn with_stat(&self, index: Option<usize>, args: &[&[u8]], f: impl FnOnce(&CommandStat)) {
        let Some(i) = index else { return };
        if args.len() > 1 && self.has_subcommands.get(i) == Some(&true) {
            let meta = crate::acl::meta();
            if let Some(id) = meta
                .resolve(args)
                .filter(|&id| meta.cmds[id].parent.is_some())
            {
                let mut subs = self.subcommands.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(stat) = subs.get(&meta.cmds[id].fullname) {
                    f(stat);
                } else {
                    let stat = CommandStat::default();
                    f(&stat);
                    subs.insert(meta.cmds[id].fullname.clone(), stat);
                }
                return;
            }
        }
        if let Some(stat) = self.commands.get(i) {
            f(stat);
        }
    }

    /// Counts one command refused before it ran (Redis's `rejectCommand`):
    /// an error reply, not an executed command.
    pub fn record_rejected(&self, index: Option<usize>, args: &[&[u8]], error: &CmdError) {
        self.with_stat(index, args, |stat| {
            stat.rejected_calls.fetch_add(1, Ordering::Relaxed);
        });
        self.total_error_replies.fetch_add(1, Ordering::Relaxed);
        let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        *errors.entry(error.code()).or_insert(0) += 1;
    }

    /// Counts one executed command.
    pub fn record_command(
        &self,
        index: Option<usize>,
        args: &[&[u8]],
        usec: u64,
        error: Option<&CmdError>,
    ) {
        self.total_commands_processed
            .fetch_add(1, Ordering::Relaxed);
        self.with_stat(index, args, |stat| {
            stat.calls.fetch_add(1, Ordering::Relaxed);
            stat.usec.fetch_add(usec, Ordering::Relaxed);
            if error.is_some() {
                stat.failed_calls.fetch_add(1, Ordering::Relaxed);
            }
        });
        // A script's error that a command inside it already counted is
        // not counted twice.
        if let Some(e) = error.filter(|e| !matches!(e, CmdError::Script { counted: true, .. })) {
            self.total_error_replies.fetch_add(1, Ordering::Relaxed);
            let mut errors = self.errors.lock().unwrap_or_else(|p| p.into_inner());
            *errors.entry(e.code()).or_insert(0) += 1;
        }
    }
}

/// Everything the threads share.
pub struct Server {
    /// The keyspace.
    pub store: RwLock<Store>,
    /// The configuration.
    pub config: RwLock<Config>,
    /// The slow log and latency samples.
    pub monitoring: Mutex<crate::commands::introspection::Monitoring>,
    /// ACL users and the denial log.
    pub acl: RwLock<Acl>,
    /// Connected clients by id (CLIENT LIST / KILL).
    pub clients: Mutex<BTreeMap<u64, Arc<ClientInfo>>>,
    /// The next client id.
    pub next_client_id: AtomicU64,
    /// Counters.
    pub stats: Stats,
    /// When the server started (uptime).
    pub started: Instant,
    /// Start time, unix ms.
    pub start_ms: i64,
    /// Set to stop the accept loop and background threads.
    pub shutdown: AtomicBool,
    /// Changes since the last save.
    pub dirty: AtomicU64,
    /// Unix time (s) of the last successful save.
    pub last_save_s: AtomicI64,
    /// Clients blocked in a blocking command (INFO blocked_clients); kept
    /// by `blocking`.
    pub blocked_clients: AtomicUsize,
    /// The clients blocked on keys (BLPOP ...), in arrival order.
    pub blocking: crate::blocking::Registry,
    /// proto-max-bulk-len, copied here because every request reads it.
    pub proto_max_bulk_len: AtomicU64,
    /// client-query-buffer-limit, bytes: a client whose unparsed input
    /// grows past it is closed.
    pub query_buf_limit: AtomicU64,
    /// The sum of every client's tot-mem (client_memory.rs).
    pub clients_mem_bytes: AtomicUsize,
    /// maxmemory-clients in bytes (0 = no limit).
    pub maxmemory_clients_bytes: AtomicU64,
    /// client-output-buffer-limit for normal clients.
    pub normal_output_limit: crate::pubsub::OutputLimit,
    /// `timeout`, seconds (0 = never): idle clients are closed.
    pub idle_timeout_s: AtomicU64,
    /// slowlog-log-slower-than, microseconds (read after every command).
    pub slowlog_threshold_us: AtomicI64,
    /// latency-monitor-threshold, milliseconds (0 = off).
    pub latency_threshold_ms: AtomicI64,
    /// True when the default user is not `on nopass ~* &* +@all`, so its
    /// commands must go through the ACL check too.
    pub acl_default_restricted: AtomicBool,
    /// The requirepass value last applied to the default user.
    applied_requirepass: Mutex<String>,
    /// True when requirepass is set (read by every command).
    pub requirepass_set: AtomicBool,
    /// True when notify-keyspace-events is not empty.
    pub notify_enabled: AtomicBool,
    /// DEBUG SET-ACTIVE-EXPIRE switch.
    pub active_expire_enabled: AtomicBool,
    /// DEBUG SET-SKIP-CHECKSUM-VALIDATION switch: RESTORE skips the CRC-64.
    pub skip_checksum_validation: AtomicBool,
    /// The TCP listeners (CONFIG SET port / bind replace them).
    pub listeners: Mutex<Vec<ListenerSlot>>,
    /// The address the first listener is bound to.
    pub local_addr: Mutex<Option<SocketAddr>>,
    /// Channels, patterns and subscribers' mailboxes (pubsub.rs).
    pub pubsub: crate::pubsub::PubSub,
    /// Versions of WATCHed keys (commands/multi.rs).
    pub watches: crate::commands::multi::WatchRegistry,
    /// RDB save state (INFO persistence, BGSAVE, MISCONF).
    pub rdb: crate::persistence::SaveState,
    /// The start-up load in progress, if any (persistence/load.rs).
    pub loading: crate::persistence::Loading,
    /// The append-only file (persistence/aof.rs).
    pub aof: crate::persistence::aof::Aof,
    /// Clients in MONITOR mode (monitor.rs).
    pub monitors: crate::monitor::Monitors,
    /// CLIENT PAUSE state (pause.rs).
    pub pause: crate::pause::Pause,
    /// DEBUG SLEEP's stop of every other client (pause.rs).
    pub freeze: crate::pause::Freeze,
    /// Lua scripting: the VM, script cache, functions, busy state.
    pub scripting: crate::scripting::Scripting,
    /// Client-side caching: CLIENT TRACKING and its table (tracking.rs).
    pub tracking: crate::tracking::Tracking,
    /// Master-replica replication (replication/).
    pub repl: crate::replication::Replication,
}

impl Server {
    /// A server with this configuration and an empty (or loaded) store.
    pub fn new(config: Config, store: Store) -> Arc<Self> {
        let acl = Acl::new(config.get("requirepass"));
        let server = Server {
            store: RwLock::new(store),
            acl: RwLock::new(acl),
            monitoring: Mutex::new(Default::default()),
            config: RwLock::new(config),
            clients: Mutex::new(BTreeMap::new()),
            next_client_id: AtomicU64::new(1),
            stats: Stats::new(),
            started: Instant::now(),
            start_ms: now_ms(),
            shutdown: AtomicBool::new(false),
            dirty: AtomicU64::new(0),
            last_save_s: AtomicI64::new(now_ms() / 1000),
            blocked_clients: AtomicUsize::new(0),
            blocking: crate::blocking::Registry::new(),
            proto_max_bulk_len: AtomicU64::new(512 * 1024 * 1024),
            query_buf_limit: AtomicU64::new(1024 * 1024 * 1024),
            idle_timeout_s: AtomicU64::new(0),
            normal_output_limit: Default::default(),
            clients_mem_bytes: AtomicUsize::new(0),
            maxmemory_clients_bytes: AtomicU64::new(0),
            requirepass_set: AtomicBool::new(false),
            acl_default_restricted: AtomicBool::new(false),
            applied_requirepass: Mutex::new(String::new()),
            slowlog_threshold_us: AtomicI64::new(10_000),
            latency_threshold_ms: AtomicI64::new(0),
            active_expire_enabled: AtomicBool::new(true),
            skip_checksum_validation: AtomicBool::new(false),
            notify_enabled: AtomicBool::new(false),
            local_addr: Mutex::new(None),
            listeners: Mutex::new(Vec::new()),
            pubsub: crate::pubsub::PubSub::new(),
            watches: Default::default(),
            rdb: crate::persistence::SaveState::new(),
            loading: Default::default(),
            aof: crate::persistence::aof::Aof::new(),
            monitors: Default::default(),
            pause: Default::default(),
            freeze: Default::default(),
            scripting: Default::default(),
            tracking: Default::default(),
            repl: Default::default(),
        };
        server.refresh_hot_config();
        Arc::new(server)
    }

    /// Copies the config values read on hot paths into atomics; called
    /// after every change of the configuration.
    pub fn refresh_hot_config(&self) {
        let config = self.config.read().unwrap_or_else(|p| p.into_inner());
        crate::evict::apply_config(&config);
        crate::commands::latency_histogram::apply_config(&config);
        crate::store::hash::apply_config(&config);
        crate::store::set::apply_config(&config);
        crate::config::HOT_LIMITS.apply(&config);
        crate::lazyfree::USER_DEL
            .store(config.get_bool("lazyfree-lazy-user-del"), Ordering::Relaxed);
        crate::lazyfree::USER_FLUSH.store(
            config.get_bool("lazyfree-lazy-user-flush"),
            Ordering::Relaxed,
        );
        crate::lazyfree::EXPIRE.store(config.get_bool("lazyfree-lazy-expire"), Ordering::Relaxed);
        crate::lazyfree::SERVER_DEL.store(
            config.get_bool("lazyfree-lazy-server-del"),
            Ordering::Relaxed,
        );
        self.loading
            .key_load_delay
            .store(config.get_i64("key-load-delay"), Ordering::Relaxed);
        self.proto_max_bulk_len.store(
            config.get_i64("proto-max-bulk-len") as u64,
            Ordering::Relaxed,
        );
        self.slowlog_threshold_us
            .store(config.get_i64("slowlog-log-slower-than"), Ordering::Relaxed);
        self.repl
            .min_replicas_to_write
            .store(config.get_i64("min-replicas-to-write"), Ordering::Relaxed);
        self.repl
            .min_replicas_max_lag
            .store(config.get_i64("min-replicas-max-lag"), Ordering::Relaxed);
        self.repl.serve_stale_data.store(
            config.get("replica-serve-stale-data") != Some("no"),
            Ordering::Relaxed,
        );
        self.latency_threshold_ms.store(
            config.get_i64("latency-monitor-threshold"),
            Ordering::Relaxed,
        );
        self.notify_enabled.store(
            !config
                .get("notify-keyspace-events")
                .unwrap_or("")
                .is_empty(),
            Ordering::Relaxed,
        );
        let notify = config.get("notify-keyspace-events").unwrap_or("");
        self.pubsub.notify_flags.store(
            crate::pubsub::parse_notify_flags(notify).unwrap_or(0),
            Ordering::Relaxed,
        );
        crate::pubsub::set_output_limit(
            &self.pubsub.limit,
            config.get("client-output-buffer-limit").unwrap_or(""),
        );
        self.query_buf_limit.store(
            config.get_i64("client-query-buffer-limit").max(0) as u64,
            Ordering::Relaxed,
        );
        crate::pubsub::set_output_limit_of(
            &self.normal_output_limit,
            config.get("client-output-buffer-limit").unwrap_or(""),
            "normal",
        );
        self.idle_timeout_s
            .store(config.get_i64("timeout").max(0) as u64, Ordering::Relaxed);
        self.maxmemory_clients_bytes.store(
            crate::client_memory::limit_from_config(&config),
            Ordering::Relaxed,
        );
        crate::acl::LOG_MAX_LEN.store(
            config.get_i64("acllog-max-len").max(0) as usize,
            Ordering::Relaxed,
        );
        crate::acl::PUBSUB_DEFAULT_ALL.store(
            config.get("acl-pubsub-default") == Some("allchannels"),
            Ordering::Relaxed,
        );
        crate::store::lru::set_policy(
            config.get("maxmemory-policy").unwrap_or("").contains("lfu"),
            config.get_i64("lfu-log-factor").max(0) as u64,
            config.get_i64("lfu-decay-time").max(0) as u64,
        );
        // requirepass is the default user's password, as in Redis.
        let pass = config.get("requirepass").unwrap_or("").to_string();
        drop(config);
        let mut applied = self
            .applied_requirepass
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if *applied != pass {
            let rules = if pass.is_empty() {
                vec!["nopass".to_string()]
            } else {
                vec!["resetpass".to_string(), format!(">{pass}")]
            };
            let _ = self
                .acl
                .write()
                .unwrap_or_else(|p| p.into_inner())
                .setuser("default", &rules);
            *applied = pass;
        }
        drop(applied);
        self.refresh_acl_flags();
        // A lower maxmemory-clients takes effect at once.
        crate::client_memory::evict_clients(self);
    }

    /// Recomputes the flags the dispatcher reads from the default user:
    /// call after every ACL change.
    pub fn refresh_acl_flags(&self) {
        let acl = self.acl.read().unwrap_or_else(|p| p.into_inner());
        let (open, needs_auth) = match acl.users.get("default") {
            Some(u) => (
                u.enabled
                    && u.describe_commands() == "+@all"
                    && u.describe_keys() == "~*"
                    && u.describe_channels() == "&*",
                !(u.enabled && u.nopass),
            ),
            None => (false, true),
        };
        self.acl_default_restricted.store(!open, Ordering::Relaxed);
        self.requirepass_set.store(needs_auth, Ordering::Relaxed);
    }

    /// A read lock on the configuration.
    pub fn config(&self) -> std::sync::RwLockReadGuard<'_, Config> {
        self.config.read().unwrap_or_else(|p| p.into_inner())
    }

    /// True when clients must AUTH before other commands.
    pub fn auth_required(&self) -> bool {
        self.requirepass_set.load(Ordering::Relaxed)
    }

    /// Adds to the changes-since-last-save counter.
    pub fn add_dirty(&self, n: u64) {
        self.dirty.fetch_add(n, Ordering::Relaxed);
    }

    /// Number of connected clients.
    /// A copy of the connected clients' shared records, taken under the
    /// clients lock and released at once, so the caller may take other locks.
    pub fn client_infos(&self) -> Vec<Arc<ClientInfo>> {
        self.clients
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// The store's write lock for a command. A write holds it for a
    /// microsecond or two, so a thread that finds it taken first retries
    /// for a moment (spinning, and now and then yielding its core to the
    /// holder) before it sleeps: with 50 busy clients, going to sleep and
    /// being woken for every command cost more than the commands
    /// themselves (measured with perf: ~40% of the time in the scheduler).
    /// The price is fairness: a thread that did go to sleep can lose the
    /// lock to newcomers for a while, so p99 latency under 50 pipelining
    /// clients is several times Redis's while p50 is lower. A ticket lock
    /// fixed the tail but cost two thirds of the throughput (the next
    /// ticket's thread was often not running).
    pub fn store_write(&self) -> std::sync::RwLockWriteGuard<'_, Store> {
        const TRIES: usize = 64;
        for attempt in 1..=TRIES {
            match self.store.try_write() {
                Ok(guard) => return guard,
                Err(std::sync::TryLockError::Poisoned(p)) => return p.into_inner(),
                Err(std::sync::TryLockError::WouldBlock) => {}
            }
            if attempt % 16 == 0 {
                std::thread::yield_now();
            } else {
                std::hint::spin_loop();
            }
        }
        self.store.write().unwrap_or_else(|p| p.into_inner())
    }

    pub fn client_count(&self) -> usize {
        self.clients.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Binds one listener per address of `bind` (space separated; `*` is
/// every IPv4 address, `::*` every IPv6 one; a leading `-` marks an
/// address that may be unavailable) on `port`. An empty `bind` means no
/// TCP listener at all. Fails if a required address cannot be bound.
pub fn bind_addresses(bind: &str, port: i64) -> std::io::Result<Vec<TcpListener>> {
    let mut listeners = Vec::new();
    let mut last_err = None;
    for addr in bind.split_whitespace() {
        let optional = addr.starts_with('-');
        let host = match addr.trim_start_matches('-') {
            "*" => "0.0.0.0",
            "::*" => "::",
            h => h,
        };
        let target = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        match TcpListener::bind(&target) {
            Ok(listener) => listeners.push(listener),
            // "::" fails where IPv4 "*" already took the port on a dual
            // stack host; an optional address may be missing.
            Err(e) if optional => last_err = Some(e),
            Err(e) => return Err(e),
        }
    }
    if listeners.is_empty() && !bind.trim().is_empty() {
        return Err(last_err.unwrap_or_else(|| std::io::Error::other("no bind address")));
    }
    Ok(listeners)
}

/// Binds the listeners on the configured addresses and port.
pub fn bind(server: &Server) -> std::io::Result<Vec<TcpListener>> {
    let (bind, port) = {
        let config = server.config();
        (
            config.get("bind").unwrap_or("*").to_string(),
            config.get_i64("port"),
        )
    };
    bind_addresses(&bind, port)
}

/// One listening socket and the thread accepting on it.
pub struct ListenerSlot {
    listener: Arc<TcpListener>,
    retired: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl ListenerSlot {
    /// Stops accepting and closes the socket before returning, so the
    /// port can be bound again at once.
    fn retire(mut self) {
        use std::os::fd::AsRawFd;
        self.retired.store(true, Ordering::SeqCst);
        // SAFETY: the listener is kept open by our Arc for the whole call;
        // shutdown(2) on a listening socket makes a blocked accept(2)
        // return, which is how its thread learns to stop.
        unsafe {
            libc::shutdown(self.listener.as_raw_fd(), libc::SHUT_RDWR);
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts an accept thread on each listener and records them as the
/// server's current listeners.
fn install_listeners(server: &Arc<Server>, listeners: Vec<TcpListener>) -> std::io::Result<()> {
    let mut slots = server.listeners.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(first) = listeners.first() {
        *server.local_addr.lock().unwrap_or_else(|p| p.into_inner()) = first.local_addr().ok();
    }
    for listener in listeners {
        let listener = Arc::new(listener);
        let retired = Arc::new(AtomicBool::new(false));
        let thread = {
            let (server, listener, retired) = (
                Arc::clone(server),
                Arc::clone(&listener),
                Arc::clone(&retired),
            );
            std::thread::Builder::new()
                .name("accept".into())
                .spawn(move || accept_loop(&server, &listener, &retired))?
        };
        slots.push(ListenerSlot {
            listener,
            retired,
            thread: Some(thread),
        });
    }
    Ok(())
}

/// CONFIG SET port / bind: closes the current listeners and opens the
/// new ones; if that fails, reopens the old ones (Redis's rollback) and
/// returns the reason CONFIG SET reports.
pub fn rebind(
    server: &Arc<Server>,
    old: (&str, i64),
    new: (&str, i64),
    port_changed: bool,
) -> Result<(), String> {
    let old_slots: Vec<ListenerSlot> =
        std::mem::take(&mut *server.listeners.lock().unwrap_or_else(|p| p.into_inner()));
    for slot in old_slots {
        slot.retire();
    }
    let reason = if port_changed {
        "Unable to listen on this port. Check server logs."
    } else {
        "Failed to bind to specified addresses."
    };
    match bind_addresses(new.0, new.1) {
        Ok(listeners) => {
            log::info!("Listening on '{}' port {}", new.0, new.1);
            install_listeners(server, listeners).map_err(|_| reason.to_string())
        }
        Err(e) => {
            log::warn!("Failed to bind '{}' port {}: {e}", new.0, new.1);
            if let Ok(listeners) = bind_addresses(old.0, old.1) {
                let _ = install_listeners(server, listeners);
            }
            Err(reason.to_string())
        }
    }
}

/// Listens on the `unixsocket` path, if one is configured: any stale
/// socket file is replaced, and `unixsocketperm` (octal) applied.
fn start_unix_listener(server: &Arc<Server>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let (path, perm) = {
        let config = server.config();
        (
            config.get("unixsocket").unwrap_or("").to_string(),
            config.get("unixsocketperm").unwrap_or("0").to_string(),
        )
    };
    if path.is_empty() {
        return Ok(());
    }
    let _ = std::fs::remove_file(&path);
    let listener = std::os::unix::net::UnixListener::bind(&path)?;
    // unixsocketperm is written in octal in redis.conf (700, 0770 ...).
    if let Ok(mode) = u32::from_str_radix(&perm, 8) {
        if mode != 0 {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
        }
    }
    log::info!("The server is now ready to accept connections at {path}");
    let server = Arc::clone(server);
    std::thread::Builder::new()
        .name("accept-unix".into())
        .spawn(move || {
            for stream in listener.incoming() {
                if server.shutdown.load(Ordering::Relaxed) {
                    break;
                }
                match stream {
                    Ok(stream) => {
                        use std::os::fd::{FromRawFd, IntoRawFd};
                        // SAFETY: the descriptor is a connected stream
                        // socket we own (into_raw_fd gave up the
                        // UnixStream's ownership). The client code uses
                        // only generic socket calls (read, write, shutdown,
                        // timeouts, peek), which work on a Unix socket too;
                        // the TCP-only ones (nodelay, addresses) fail
                        // harmlessly.
                        let stream = unsafe { TcpStream::from_raw_fd(stream.into_raw_fd()) };
                        accept(&server, stream);
                    }
                    Err(e) => {
                        log::warn!("accept failed: {e}");
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                }
            }
        })?;
    Ok(())
}

/// Starts accepting connections, one thread per client (and one accept
/// thread per listening address, plus the Unix socket's).
pub fn start_serving(server: &Arc<Server>, listeners: Vec<TcpListener>) -> Result<(), String> {
    if let Err(e) = crate::client_memory::start_cron(Arc::clone(server)) {
        log::warn!("could not start the clients-cron thread: {e}");
    }
    install_listeners(server, listeners)
        .map_err(|e| format!("could not start an accept thread: {e}"))?;
    start_unix_listener(server).map_err(|e| format!("Failed opening Unix socket: {e}"))
}

/// Waits for the end: the process ends with exit() on SHUTDOWN or a signal.
pub fn wait_for_shutdown(server: &Server) {
    while !server.shutdown.load(Ordering::Relaxed) {
        std::thread::park_timeout(std::time::Duration::from_secs(1));
    }
}

fn accept_loop(server: &Arc<Server>, listener: &TcpListener, retired: &AtomicBool) {
    for stream in listener.incoming() {
        if server.shutdown.load(Ordering::Relaxed) || retired.load(Ordering::SeqCst) {
            break;
        }
        let stream = match stream {
            Ok(stream) => stream,
            Err(e) => {
                // Out of descriptors (EMFILE) or memory: the pending
                // connection stays queued, so retrying at once would spin.
                log::warn!("accept failed: {e}");
                std::thread::sleep(std::time::Duration::from_millis(10));
                continue;
            }
        };
        accept(server, stream);
    }
}

fn accept(server: &Arc<Server>, mut stream: TcpStream) {
    server
        .stats
        .total_connections_received
        .fetch_add(1, Ordering::Relaxed);
    let maxclients = server.config().get_i64("maxclients") as usize;
    if server.client_count() >= maxclients {
        server
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = stream.write_all(b"-ERR max number of clients reached\r\n");
        return;
    }
    if protected_mode_denies(server, &stream) {
        server
            .stats
            .rejected_connections
            .fetch_add(1, Ordering::Relaxed);
        let _ = stream.write_all(PROTECTED_MODE_DENIED);
        return;
    }
    let id = server.next_client_id.fetch_add(1, Ordering::Relaxed);
    let server = Arc::clone(server);
    let spawned = std::thread::Builder::new()
        .name(format!("client-{id}"))
        .stack_size(CLIENT_STACK_BYTES)
        .spawn(move || client::serve_client(server, stream, id));
    if let Err(e) = spawned {
        log::warn!("could not start a thread for client {id}: {e}");
    }
}

/// What a non-loopback peer reads before it is disconnected in protected mode.
const PROTECTED_MODE_DENIED: &[u8] = b"-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";

/// Protected mode (Redis 7.0): with protected-mode on and a default user
/// without password, only loopback peers may connect.
fn protected_mode_denies(server: &Server, stream: &TcpStream) -> bool {
    if !server.config().get_bool("protected-mode") {
        return false;
    }
    let nopass = server
        .acl
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .users
        .get("default")
        .is_some_and(|u| u.nopass);
    nopass
        && stream
            .peer_addr()
            .is_ok_and(|a| !a.ip().is_loopback() && !is_mapped_loopback(a.ip()))
}

fn is_mapped_loopback(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        std::net::IpAddr::V4(_) => false,
    }
}
