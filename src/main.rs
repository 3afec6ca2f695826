//! Start-up: read the configuration, set up logging, start the threads, serve.
//!
//! The command line works like redis-server's:
//!
//! ```text
//! ferredis [/path/to/redis.conf] [--port 7000] [--save ""] [--appendonly yes] ...
//! ```
//!
//! Every `--name value...` is one more redis.conf line after the file's own,
//! so it wins. `--help` and `--version` are answered by clap.
//!
//! Start-up order: block SIGINT/SIGTERM (every thread started later
//! inherits the mask, so only the `signals` thread ever sees them), read
//! the config, chdir to `dir`, load `dbfilename` (a bad file stops the
//! start), bind, start the background threads, serve.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use clap::{CommandFactory, Parser};

use ferredis::config::Config;
use ferredis::persistence::{self, ShutdownFlags};
use ferredis::server::{self, Server};
use ferredis::store::Store;
use ferredis::{expire, replication, util};

/// Every allocation is counted, for INFO used_memory and maxmemory.
#[global_allocator]
static ALLOCATOR: ferredis::memory::CountingAlloc = ferredis::memory::CountingAlloc;

/// A Redis-compatible in-memory data server.
#[derive(Parser)]
#[command(
    name = "ferredis",
    version,
    after_help = "Any redis.conf directive may be given as --name value (for example --save \"\" --appendonly yes);\nlater ones win over the config file."
)]
struct Cli {
    /// A redis.conf-style configuration file.
    config_file: Option<String>,
    /// TCP port to listen on.
    #[arg(long, default_value_t = 6379)]
    port: u16,
    /// Addresses to listen on.
    #[arg(long, default_value = "* -::*")]
    bind: String,
    /// Working directory: where dump.rdb and the AOF live.
    #[arg(long, default_value = ".")]
    dir: String,
    /// RDB file name.
    #[arg(long, default_value = "dump.rdb")]
    dbfilename: String,
    /// Password clients must AUTH with.
    #[arg(long)]
    requirepass: Option<String>,
    /// Number of databases.
    #[arg(long, default_value_t = 16)]
    databases: u32,
    /// Maximum number of connected clients.
    #[arg(long, default_value_t = 10000)]
    maxclients: u32,
    /// debug, verbose, notice or warning.
    #[arg(long, default_value = "notice")]
    loglevel: String,
}

/// Quotes a command-line value as a config-file argument.
fn quote(arg: &str) -> String {
    let escaped = arg.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

/// Turns redis-server style arguments into (config file, extra config text),
/// exactly as redis-server's `main` does: the first argument is the file
/// unless it starts with '-'; each `--name` starts a line and the argument
/// after a bare `--name` is always its value, even when it starts with
/// `--`; a bare `--save` followed by an option (or last) means `save ""`.
fn parse_args(args: &[String]) -> (Option<String>, String) {
    let mut file = None;
    let mut rest = args;
    if let Some(first) = args.first() {
        if !first.starts_with('-') || first == "-" {
            file = Some(first.clone());
            rest = &args[1..];
        }
    }
    let mut text = String::new();
    let mut value_pending = false;
    for (j, arg) in rest.iter().enumerate() {
        let next_is_option = rest.get(j + 1).is_some_and(|n| n.starts_with("--"));
        match arg.strip_prefix("--") {
            Some(name) if !value_pending => {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(name);
                text.push(' ');
                // "--port 6380" in one argument carries its own value.
                value_pending = !name.contains(' ');
                if value_pending
                    && arg.eq_ignore_ascii_case("--save")
                    && (next_is_option || j + 1 == rest.len())
                {
                    text.push_str("\"\"");
                    value_pending = false;
                }
            }
            _ => {
                text.push_str(&quote(arg));
                text.push(' ');
                value_pending = false;
            }
        }
    }
    text.push('\n');
    (file, text)
}

/// Formats unix ms like Redis's log lines: "25 Nov 2026 20:14:48.123".
fn log_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86400);
    let sod = secs.rem_euclid(86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{:02} {} {} {:02}:{:02}:{:02}.{:03}",
        day,
        MONTHS[(month - 1) as usize],
        year,
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        ms.rem_euclid(1000)
    )
}

/// Sets up env_logger to print Redis-shaped lines: "pid:M date * message"
/// (`S` instead of `M` on a replica).
fn init_logging(config: &Config) -> Result<(), String> {
    let level = match config.get("loglevel").unwrap_or("notice") {
        "debug" => log::LevelFilter::Debug,
        "verbose" => log::LevelFilter::Debug,
        "warning" => log::LevelFilter::Warn,
        _ => log::LevelFilter::Info,
    };
    let mut builder = env_logger::Builder::new();
    builder.filter_level(level);
    if let Ok(spec) = std::env::var("RUST_LOG") {
        builder.parse_filters(&spec);
    }
    let pid = std::process::id();
    builder.format(move |buf, record| {
        let mark = match record.level() {
            log::Level::Error | log::Level::Warn => '#',
            log::Level::Info => '*',
            log::Level::Debug => '-',
            log::Level::Trace => '.',
        };
        writeln!(
            buf,
            "{}:{} {} {} {}",
            pid,
            replication::log_role(),
            log_time(util::now_ms()),
            mark,
            record.args()
        )
    });
    let logfile = config.get("logfile").unwrap_or("");
    if logfile.is_empty() {
        builder.target(env_logger::Target::Stdout);
    } else {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(logfile)
            .map_err(|e| format!("Can't open the log file: {e}"))?;
        builder.target(env_logger::Target::Pipe(Box::new(file)));
    }
    builder.init();
    Ok(())
}

fn load_config(args: &[String]) -> Result<Config, String> {
    let (file, extra) = parse_args(args);
    let mut config = Config::new();
    // As redis-server does, the file's text and the command-line lines are
    // read as one text (file, a newline, options), so an error's line number
    // counts both.
    let mut text = String::new();
    if let Some(path) = &file {
        text = if path == "-" {
            std::io::read_to_string(std::io::stdin()).map_err(|e| e.to_string())?
        } else {
            std::fs::read_to_string(path)
                .map_err(|e| format!("Fatal error, can't open config file '{path}': {e}"))?
        };
        config.config_file = std::fs::canonicalize(path)
            .ok()
            .map(|p| p.display().to_string());
    }
    text.push('\n');
    text.push_str(&extra);
    config.load_text(&text)?;
    Ok(config)
}

/// Applies `user` lines from the config file and the aclfile, as Redis
/// does at start; a bad line stops the start.
fn load_users(server: &Server, user_lines: &[String], aclfile: &str) -> Result<(), String> {
    let mut acl = server.acl.write().unwrap_or_else(|p| p.into_inner());
    let mut seen = std::collections::HashSet::new();
    for line in user_lines {
        let mut words = line.split_whitespace();
        let name = words.next().ok_or("user line without a name")?;
        if !seen.insert(name.to_string()) {
            return Err(format!("Error in user declaration '{name}': Duplicate user found. A user can only be defined once in config files"));
        }
        // A configured user starts from scratch (Redis resets it first).
        let rules: Vec<String> = std::iter::once("reset")
            .chain(words)
            .map(String::from)
            .collect();
        acl.setuser(name, &rules)?;
    }
    if !aclfile.is_empty() {
        match std::fs::read_to_string(aclfile) {
            Ok(text) => {
                *acl = acl
                    .load_text(&text, aclfile)
                    .map_err(|e| format!("Aborting Redis startup because of ACL errors: {e}"))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("Error loading ACLs, opening file '{aclfile}': {e}")),
        }
    }
    drop(acl);
    server.refresh_acl_flags();
    Ok(())
}

/// Blocks SIGINT and SIGTERM in the calling thread, and so in every thread
/// it starts afterwards, and returns the set for [`wait_for_signal`].
fn block_shutdown_signals() -> libc::sigset_t {
    // SAFETY: sigset_t is plain data, initialised by sigemptyset before use;
    // these calls only touch the local set and this thread's signal mask,
    // and run before any other thread exists.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, libc::SIGINT);
        libc::sigaddset(&mut set, libc::SIGTERM);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    }
}

/// Waits until one of the blocked signals in `set` arrives; returns it.
fn wait_for_signal(set: &libc::sigset_t) -> i32 {
    let mut signal: libc::c_int = 0;
    // SAFETY: `set` is an initialised sigset_t and `signal` a valid out
    // pointer; sigwait is the synchronous way to take a blocked signal, so
    // no async-signal-safety rules apply to what we do next.
    let rc = unsafe { libc::sigwait(set, &mut signal) };
    if rc == 0 {
        signal
    } else {
        libc::SIGTERM
    }
}

/// The `signals` thread: SIGTERM (docker stop) and SIGINT (Ctrl-C) shut
/// down like SHUTDOWN with the flags from shutdown-on-sigterm /
/// shutdown-on-sigint ("default": save if save points are configured).
fn start_signal_thread(server: Arc<Server>, set: libc::sigset_t) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || loop {
            let signal = wait_for_signal(&set);
            if server.rdb.shutdown_in_progress.swap(true, Ordering::AcqRel) {
                // A second signal while the first one's save runs.
                persistence::exit_now(&server);
            }
            let (name, directive) = if signal == libc::SIGINT {
                ("SIGINT", "shutdown-on-sigint")
            } else {
                ("SIGTERM", "shutdown-on-sigterm")
            };
            log::warn!("Received {name} scheduling shutdown...");
            let mode = server.config().get(directive).unwrap_or("default").to_string();
            let flags = ShutdownFlags {
                save: mode.contains("save") && !mode.contains("nosave"),
                nosave: mode.contains("nosave"),
                now: mode.contains("now"),
                force: mode.contains("force"),
            };
            // Shut down in another thread so this one can see a second
            // signal while the save runs; until it begins, SHUTDOWN ABORT
            // can cancel it.
            server.rdb.shutdown_pending.store(true, Ordering::Release);
            let shutdown_server = Arc::clone(&server);
            let started = std::thread::Builder::new()
                .name("shutdown".into())
                .spawn(move || {
                    if persistence::pending_shutdown(&shutdown_server, flags).is_err() {
                        log::warn!("{name} received but errors trying to shut down the server, check the logs for more information");
                        shutdown_server
                            .rdb
                            .shutdown_in_progress
                            .store(false, Ordering::Release);
                    }
                });
            if started.is_err() {
                persistence::exit_now(&server);
            }
        })?;
    Ok(())
}

/// Loads the AOF, opens it for appending and starts the `aof-fsync` thread.
/// Loads the RDB file into a store of its own, then puts that store in
/// place: clients meanwhile get -LOADING, and INFO (which reads the store)
/// does not wait for the load.
fn load_rdb(
    server: &std::sync::Arc<Server>,
    path: &std::path::Path,
    databases: usize,
    verify_checksum: bool,
) -> Result<(), String> {
    let limits = persistence::write_options(&server.config()).limits;
    let mut store = Store::new(databases);
    let mut progress = |keys, bytes| server.loading.progress(keys, bytes);
    let loaded = persistence::load_observed(
        path,
        &mut store,
        util::now_ms(),
        verify_checksum,
        &limits,
        &mut progress,
    )
    .map_err(|e| e.to_string())?;
    let Some(report) = loaded else {
        log::info!("No RDB file '{}' found: starting empty", path.display());
        return Ok(());
    };
    *server.store.write().unwrap_or_else(|p| p.into_inner()) = store;
    persistence::record_load(server, path, &report);
    let is_replica = !server.config().get("replicaof").unwrap_or("").is_empty();
    if let (true, Some(position)) = (is_replica, report.repl.clone()) {
        replication::resume_from_rdb(server, position);
    }
    Ok(())
}

fn start_aof(server: &std::sync::Arc<Server>) -> Result<(), String> {
    use ferredis::persistence::aof;
    let loaded = aof::loader::load(server)?;
    aof::open_on_start(server, &loaded).map_err(|e| format!("Can't open the append-only file: {e}"))
}

fn main() -> ExitCode {
    let signal_set = block_shutdown_signals();
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args
        .iter()
        .any(|a| matches!(a.as_str(), "-h" | "--help" | "-v" | "--version"))
    {
        if args.iter().any(|a| a == "-v" || a == "--version") {
            println!(
                "ferredis {} (Redis 7.0.15 compatible)",
                env!("CARGO_PKG_VERSION")
            );
        } else {
            let _ = Cli::command().print_long_help();
        }
        return ExitCode::SUCCESS;
    }
    let config = match load_config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = init_logging(&config) {
        eprintln!("{e}");
        return ExitCode::FAILURE;
    }
    // From here a fatal signal leaves a crash report in the log.
    ferredis::crash::install();
    // Before any thread starts, so that they all inherit it.
    if let Err(e) = ferredis::scheduling::use_batch_policy() {
        log::warn!("could not switch to the SCHED_BATCH policy: {e}");
    }
    let dir = config.get("dir").unwrap_or(".").to_string();
    if let Err(e) = std::env::set_current_dir(&dir) {
        log::error!("Can't chdir to '{dir}': {e}");
        return ExitCode::FAILURE;
    }
    log::info!(
        "ferredis {} (Redis 7.0.15 compatible), PID: {}, port: {}, dir: {}",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        config.get("port").unwrap_or("6379"),
        std::env::current_dir()
            .map(|d| d.display().to_string())
            .unwrap_or(dir),
    );
    ferredis::commands::set_renames(config.renames.clone());
    for name in &config.unimplemented_seen {
        log::warn!("config directive '{name}' is accepted but not implemented yet");
    }
    let pidfile = config.get("pidfile").unwrap_or("").to_string();
    let databases = config.get_i64("databases").max(1) as usize;
    let user_lines = config.user_lines.clone();
    let aclfile = config.get("aclfile").unwrap_or("").to_string();
    let appendonly = config.get_bool("appendonly");
    let rdb_path = persistence::rdb_path(&config);
    let verify_checksum = config.get_bool("rdbchecksum");
    let server = Server::new(config, Store::new(databases));
    if let Err(e) = ferredis::oom::apply(&server) {
        log::warn!("{e}");
    }
    // Users first: no client may connect before the ACL rules are in force.
    if let Err(e) = load_users(&server, &user_lines, &aclfile) {
        log::error!("{e}");
        return ExitCode::FAILURE;
    }
    // Listen before loading, as Redis does: a client that connects while the
    // data loads gets -LOADING (see persistence/load.rs), and a SIGTERM
    // then exits without saving the part loaded so far.
    let listener = match server::bind(&server) {
        Ok(l) => l,
        Err(e) => {
            log::error!(
                "Failed listening on port {} (tcp): {e}",
                server.config().get("port").unwrap_or("?")
            );
            return ExitCode::FAILURE;
        }
    };
    let file_len = |path: &std::path::Path| std::fs::metadata(path).map_or(0, |m| m.len());
    server
        .loading
        .begin(if appendonly { 0 } else { file_len(&rdb_path) });
    if let Err(e) = start_signal_thread(server.clone(), signal_set) {
        log::error!("could not start the signals thread: {e}");
        return ExitCode::FAILURE;
    }
    if let Err(e) = server::start_serving(&server, listener) {
        log::error!("{e}");
        return ExitCode::FAILURE;
    }
    // With appendonly yes the AOF, not the RDB, is the data to load.
    let loaded = if appendonly {
        start_aof(&server)
    } else {
        load_rdb(&server, &rdb_path, databases, verify_checksum)
    };
    if let Err(e) = loaded {
        // Never start empty over a file we could not read: a save would
        // replace the user's data.
        log::error!("{e}");
        log::logger().flush();
        return ExitCode::FAILURE;
    }
    server.loading.end();
    if !pidfile.is_empty() {
        let _ = std::fs::write(&pidfile, format!("{}\n", std::process::id()));
    }
    if let Err(e) = expire::start(server.clone()) {
        log::error!("could not start the active expiry thread: {e}");
        return ExitCode::FAILURE;
    }
    if let Err(e) = persistence::start_save_points(server.clone()) {
        log::error!("could not start the save-points thread: {e}");
        return ExitCode::FAILURE;
    }
    if let Err(e) = replication::start(&server) {
        log::error!("could not start replication: {e}");
        return ExitCode::FAILURE;
    }
    log::info!("Ready to accept connections tcp");
    server::wait_for_shutdown(&server);
    ExitCode::SUCCESS
}
