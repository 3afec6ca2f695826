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

use std::io::Write;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use ferredis::config::Config;
use ferredis::server::{self, Server};
use ferredis::store::Store;
use ferredis::{expire, util};

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

/// Sets up env_logger to print Redis-shaped lines: "pid:M date * message".
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
            "{}:M {} {} {}",
            pid,
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

fn main() -> ExitCode {
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
    for name in &config.unimplemented_seen {
        log::warn!("config directive '{name}' is accepted but not implemented yet");
    }
    let pidfile = config.get("pidfile").unwrap_or("").to_string();
    let databases = config.get_i64("databases").max(1) as usize;
    let server = Server::new(config, Store::new(databases));
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
    if !pidfile.is_empty() {
        let _ = std::fs::write(&pidfile, format!("{}\n", std::process::id()));
    }
    if let Err(e) = expire::start(server.clone()) {
        log::error!("could not start the active expiry thread: {e}");
        return ExitCode::FAILURE;
    }
    log::info!("Ready to accept connections tcp");
    server::serve(server, listener);
    ExitCode::SUCCESS
}
