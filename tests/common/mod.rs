//! Test support: start the real `ferredis` binary on a free port and talk
//! RESP to it over TCP.
//!
//! [`Server::start`] picks a free port (bind port 0, read it, release it),
//! starts the binary with a fresh temporary data directory, waits until it
//! answers PING and kills it when dropped. [`Conn`] is a minimal RESP2/RESP3
//! client that sends commands and parses replies into [`Reply`] values.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// True when Debian's real Redis tools (`/usr/bin/<name>` for each name) are
/// installed, so an interoperability test can run. When they are missing the
/// test is skipped with a note, unless `FERREDIS_REQUIRE_REDIS` is set (as
/// `make test` does after installing them): then a missing tool fails the
/// test, so CI can never pass with the interoperability checks skipped.
pub fn real_redis_present(what: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools
        .iter()
        .copied()
        .filter(|t| !std::path::Path::new("/usr/bin").join(t).exists())
        .collect();
    if missing.is_empty() {
        return true;
    }
    if std::env::var_os("FERREDIS_REQUIRE_REDIS").is_some() {
        panic!("{what}: FERREDIS_REQUIRE_REDIS is set but {missing:?} is not installed");
    }
    eprintln!("note: skipping {what}: {missing:?} not installed");
    false
}

/// A parsed reply.
#[derive(Debug, Clone, PartialEq)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    Nil,
    Array(Vec<Reply>),
    Double(String),
    Bool(bool),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Push(Vec<Reply>),
}

impl Reply {
    /// The reply as text (bulk or status), for easy assertions.
    pub fn text(&self) -> String {
        match self {
            Reply::Status(s) | Reply::Error(s) | Reply::Double(s) => s.clone(),
            Reply::Bulk(b) => String::from_utf8_lossy(b).into_owned(),
            Reply::Int(i) => i.to_string(),
            other => format!("{other:?}"),
        }
    }
}

/// Shorthand for a bulk reply.
pub fn bulk(s: &str) -> Reply {
    Reply::Bulk(s.as_bytes().to_vec())
}

/// Held while a test process has a port-probing listener open and while it
/// spawns a server. A child forked by another thread inherits every open
/// descriptor until its exec closes them, so a probe listener that was
/// "released" could still be listening in a half-started child: our first
/// connection would queue there and be reset when the child's exec closed
/// it. That was the cause of rare ECONNRESETs at start-up when tests ran in
/// parallel.
static SPAWN_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A free TCP port on loopback.
pub fn free_port() -> u16 {
    let _guard = SPAWN_LOCK.lock().unwrap_or_else(|p| p.into_inner());
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind port 0")
}

/// True when a CONFIG GET dir reply names `dir`.
fn v_is_dir(v: &[Reply], dir: &std::path::Path) -> bool {
    let want = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    v.get(1).is_some_and(|d| {
        std::path::Path::new(&d.text()) == want || d.text() == dir.display().to_string()
    })
}

/// A new empty directory under the system temp dir, named `prefix`, this
/// process's id and a free port number (unique between tests).
pub fn fresh_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("{prefix}-{}-{}", std::process::id(), free_port()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// A running server process, killed on drop.
pub struct Server {
    pub port: u16,
    pub dir: PathBuf,
    child: Child,
}

impl Server {
    /// Starts the server with extra `--name value` arguments.
    pub fn start(extra: &[&str]) -> Server {
        Self::start_in(&fresh_dir("ferredis-test"), extra)
    }

    /// Starts the server with data directory `dir`.
    pub fn start_in(dir: &std::path::Path, extra: &[&str]) -> Server {
        Self::start_with_config(dir, None, extra)
    }

    /// [`Server::start_in`] reading the config file `conf` first, as
    /// redis-server takes it (the options given here override it).
    pub fn start_with_config(
        dir: &std::path::Path,
        conf: Option<&std::path::Path>,
        extra: &[&str],
    ) -> Server {
        Self::spawn(dir, conf, extra, false)
    }

    /// [`Server::start_in`] that returns as soon as the server accepts
    /// clients, while it may still be loading its data (PING answers
    /// -LOADING then).
    pub fn start_loading(dir: &std::path::Path, extra: &[&str]) -> Server {
        Self::spawn(dir, None, extra, true)
    }

    fn spawn(
        dir: &std::path::Path,
        conf: Option<&std::path::Path>,
        extra: &[&str],
        loading_is_up: bool,
    ) -> Server {
        for _ in 0..5 {
            let port = free_port();
            let mut args: Vec<String> = conf.map(|c| c.display().to_string()).into_iter().collect();
            args.extend([
                "--port".into(),
                port.to_string(),
                "--bind".into(),
                "127.0.0.1".into(),
                "--dir".into(),
                dir.display().to_string(),
                "--save".into(),
                "".into(),
                "--enable-debug-command".into(),
                "yes".into(),
            ]);
            args.extend(extra.iter().map(|s| s.to_string()));
            // The server's log goes to server.log in its data directory,
            // kept after the test for diagnosis.
            let log = std::fs::File::create(dir.join("server.log")).expect("server.log");
            let child = {
                let _guard = SPAWN_LOCK.lock().unwrap_or_else(|p| p.into_inner());
                Command::new(env!("CARGO_BIN_EXE_ferredis"))
                    .args(&args)
                    .stdout(log.try_clone().expect("server.log"))
                    .stderr(log)
                    .spawn()
                    .expect("spawn ferredis")
            };
            let mut server = Server {
                port,
                dir: dir.to_path_buf(),
                child,
            };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(mut c) = Conn::try_connect(port) {
                    // A child that another process forked may still hold a
                    // listener on this port for a moment (see SPAWN_LOCK):
                    // a reset or a close here means "not up yet", not failure.
                    c.send(&["PING"]);
                    let mut first = String::new();
                    if !matches!(c.reader.read_line(&mut first), Ok(n) if n > 0) {
                        if let Ok(Some(_)) = server.child.try_wait() {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(20));
                        continue;
                    }
                    let pong = match first.trim_end().split_at(1) {
                        ("+", status) => Reply::Status(status.into()),
                        ("-", error) => Reply::Error(error.into()),
                        _ => Reply::Nil,
                    };
                    // Another test's server may hold the port we picked:
                    // make sure the one answering is ours (its dir is ours).
                    let ours = match c.cmd(&["CONFIG", "GET", "dir"]) {
                        Reply::Array(v) => v_is_dir(&v, dir),
                        Reply::Map(m) => m
                            .first()
                            .is_some_and(|(_, d)| v_is_dir(&[Reply::Nil, d.clone()], dir)),
                        Reply::Error(e) => e.starts_with("NOAUTH"),
                        _ => false,
                    };
                    if ours
                        && (pong == Reply::Status("PONG".into())
                            || pong.text().starts_with("NOAUTH")
                            || (loading_is_up && pong.text().starts_with("LOADING")))
                    {
                        return server;
                    }
                    if !ours {
                        break;
                    }
                }
                if let Ok(Some(_)) = server.child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = server.child.kill();
        }
        panic!("ferredis did not start");
    }

    /// A new connection.
    pub fn conn(&self) -> Conn {
        Conn::connect(self.port)
    }

    /// Kills the process with SIGKILL and waits for it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A RESP connection.
pub struct Conn {
    pub reader: BufReader<TcpStream>,
    pub stream: TcpStream,
}

impl Conn {
    pub fn try_connect(port: u16) -> std::io::Result<Conn> {
        let stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(20)))?;
        let reader = BufReader::new(stream.try_clone()?);
        Ok(Conn { reader, stream })
    }

    pub fn connect(port: u16) -> Conn {
        Self::try_connect(port).expect("connect")
    }

    /// Encodes a command as a multibulk request.
    pub fn encode(args: &[&[u8]]) -> Vec<u8> {
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for a in args {
            out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
            out.extend_from_slice(a);
            out.extend_from_slice(b"\r\n");
        }
        out
    }

    /// Sends raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Sends a command without reading the reply.
    pub fn send(&mut self, args: &[&str]) {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.send_raw(&Self::encode(&a));
    }

    /// Sends a command and reads its reply.
    pub fn cmd(&mut self, args: &[&str]) -> Reply {
        self.send(args);
        self.read_reply()
    }

    /// Sends a binary command and reads its reply.
    pub fn cmd_bytes(&mut self, args: &[&[u8]]) -> Reply {
        self.send_raw(&Self::encode(args));
        self.read_reply()
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("read line");
        assert!(!line.is_empty(), "connection closed");
        line.trim_end_matches("\r\n").to_string()
    }

    /// Reads one reply; panics when the connection closed.
    pub fn read_reply(&mut self) -> Reply {
        let line = self.line();
        let (kind, rest) = line.split_at(1);
        let count = || rest.parse::<i64>().expect("count");
        match kind {
            "+" => Reply::Status(rest.into()),
            "-" => Reply::Error(rest.into()),
            ":" => Reply::Int(count()),
            "," => Reply::Double(rest.into()),
            "#" => Reply::Bool(rest == "t"),
            "_" => Reply::Nil,
            "$" | "=" => {
                let n = count();
                if n < 0 {
                    return Reply::Nil;
                }
                let mut buf = vec![0; n as usize + 2];
                self.reader.read_exact(&mut buf).expect("bulk");
                buf.truncate(n as usize);
                if kind == "=" {
                    buf.drain(..4);
                }
                Reply::Bulk(buf)
            }
            "*" | "~" | ">" => {
                let n = count();
                if n < 0 {
                    return Reply::Nil;
                }
                let items = (0..n).map(|_| self.read_reply()).collect();
                match kind {
                    "~" => Reply::Set(items),
                    ">" => Reply::Push(items),
                    _ => Reply::Array(items),
                }
            }
            "%" => {
                let n = count();
                Reply::Map(
                    (0..n)
                        .map(|_| (self.read_reply(), self.read_reply()))
                        .collect(),
                )
            }
            _ => panic!("bad reply line {line:?}"),
        }
    }

    /// True when the server closed the connection (reads EOF).
    /// The value of `field` in INFO `section` (panics when it is absent).
    #[allow(dead_code)] // not every test binary reads INFO
    pub fn info_field(&mut self, section: &str, field: &str) -> String {
        let info = self.cmd(&["INFO", section]).text();
        let prefix = format!("{field}:");
        info.lines()
            .find_map(|l| l.strip_prefix(prefix.as_str()))
            .unwrap_or_else(|| panic!("no {field} in INFO {section}"))
            .trim()
            .to_string()
    }

    pub fn is_closed(&mut self) -> bool {
        let mut buf = [0u8; 1];
        matches!(self.reader.read(&mut buf), Ok(0) | Err(_))
    }
}

/// Polls `f` until it returns true or `secs` pass.
pub fn wait_for(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

/// The server's child processes (BGSAVE's fork child, the AOF rewrite's
/// stand-in), read from /proc as `pgrep -P` does.
#[allow(dead_code)] // not every test binary has children
pub fn child_pids(c: &mut Conn) -> Vec<u32> {
    let pid = c.info_field("server", "process_id");
    let mut out = Vec::new();
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("tasks")
        .flatten()
    {
        let text = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        out.extend(
            text.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok()),
        );
    }
    out
}

/// kill -9 on the server's only child, as Redis's tests do with the fork child.
#[allow(dead_code)]
pub fn kill_only_child(c: &mut Conn) {
    let mut found = Vec::new();
    assert!(wait_for(10, || {
        found = child_pids(c);
        !found.is_empty()
    }));
    assert_eq!(found.len(), 1, "{found:?}");
    let status = Command::new("kill")
        .args(["-9", &found[0].to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
}
