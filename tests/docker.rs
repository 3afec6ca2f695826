//! The Docker image, tested without a Docker engine.
//!
//! No engine runs in CI, so this test checks what can be checked from the
//! Dockerfile itself: it parses the runtime stage's CMD, WORKDIR, VOLUME,
//! EXPOSE, USER and HEALTHCHECK, then starts the binary exactly as the
//! image would, with the CMD's own arguments, changing only what a test on
//! a shared machine must change: the port (a free one instead of the EXPOSEd
//! 6379), the bind address (loopback instead of 0.0.0.0) and the data
//! directory (a temporary stand-in for the `/data` volume). With a dump.rdb
//! "mounted" in that directory, the server must serve its data, answer the
//! HEALTHCHECK's inline PING with +PONG, and report the CMD's settings in
//! CONFIG GET.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{bulk, free_port, Conn, Reply};

/// The instructions of the Dockerfile's last (runtime) stage.
struct Runtime {
    cmd: Vec<String>,
    workdir: String,
    volume: String,
    expose: String,
    user: String,
    healthcheck: String,
    copies: Vec<String>,
}

/// Parses a JSON array of strings (exec-form CMD) without a JSON library:
/// the Dockerfile's CMD holds plain strings with `\\` and `\"` escapes only.
fn parse_exec_form(text: &str) -> Vec<String> {
    let inner = text
        .trim()
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .expect("CMD in exec form: [\"ferredis\", ...]");
    let mut out = Vec::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => s.extend(chars.next()),
                '"' => break,
                _ => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

fn parse_dockerfile() -> Runtime {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Dockerfile"))
        .expect("Dockerfile at the crate root");
    let stages: Vec<&str> = text.split("\nFROM ").collect();
    let last = stages.last().expect("a FROM line");
    let mut rt = Runtime {
        cmd: Vec::new(),
        workdir: String::new(),
        volume: String::new(),
        expose: String::new(),
        user: String::new(),
        healthcheck: String::new(),
        copies: Vec::new(),
    };
    for line in last.lines() {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        match word {
            "CMD" => rt.cmd = parse_exec_form(rest),
            "WORKDIR" => rt.workdir = rest.trim().to_string(),
            "VOLUME" => rt.volume = rest.trim().to_string(),
            "EXPOSE" => rt.expose = rest.trim().to_string(),
            "USER" => rt.user = rest.trim().to_string(),
            "HEALTHCHECK" => rt.healthcheck = rest.to_string(),
            "COPY" => rt.copies.push(rest.to_string()),
            _ => {}
        }
    }
    rt
}

/// The value following `--name` in `args`.
fn arg_value<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.windows(2)
        .find(|w| w[0] == name)
        .map(|w| w[1].as_str())
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the binary with `args`, waiting until it answers PING.
fn start(args: &[String], port: u16) -> Killed {
    let child = Command::new(env!("CARGO_BIN_EXE_ferredis"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn ferredis");
    let mut child = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(mut c) = Conn::try_connect(port) {
            if c.cmd(&["PING"]) == Reply::Status("PONG".into()) {
                return child;
            }
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            panic!("ferredis exited with {status} for arguments {args:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("ferredis did not answer PING");
}

#[test]
fn image_paths_and_ports_agree() {
    let rt = parse_dockerfile();
    assert_eq!(rt.cmd.first().map(String::as_str), Some("ferredis"));
    // The binary the CMD names is the one the build stage produced, on PATH.
    assert!(rt
        .copies
        .iter()
        .any(|c| c.contains("target/release/ferredis") && c.ends_with("/usr/local/bin/ferredis")));
    let port = arg_value(&rt.cmd, "--port").expect("CMD sets --port");
    let dir = arg_value(&rt.cmd, "--dir").expect("CMD sets --dir");
    assert_eq!(rt.expose, port, "EXPOSE matches --port");
    assert_eq!(rt.volume, dir, "VOLUME is the data directory");
    assert_eq!(rt.workdir, dir, "WORKDIR is the data directory");
    assert!(!rt.user.is_empty() && rt.user != "root", "runs as non-root");
    assert!(rt.healthcheck.contains("PING") && rt.healthcheck.contains(&format!("/{port}")));
}

#[test]
fn cmd_arguments_serve_a_mounted_dump() {
    let rt = parse_dockerfile();
    let data = std::env::temp_dir().join(format!("ferredis-docker-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).expect("temp data dir");
    let port = free_port();
    // The CMD's arguments, with only port, bind and dir substituted.
    let args: Vec<String> = rt.cmd[1..]
        .iter()
        .enumerate()
        .map(
            |(i, a)| match i.checked_sub(1).and_then(|p| rt.cmd[1..].get(p)) {
                Some(prev) if prev == "--port" => port.to_string(),
                Some(prev) if prev == "--bind" => "127.0.0.1".to_string(),
                Some(prev) if prev == "--dir" => data.display().to_string(),
                _ => a.clone(),
            },
        )
        .collect();

    // Make the dump.rdb a user would mount: write it with the same image
    // arguments, then start again from it.
    {
        let _server = start(&args, port);
        let mut c = Conn::connect(port);
        assert_eq!(
            c.cmd(&["SET", "mounted", "yes"]),
            Reply::Status("OK".into())
        );
        assert_eq!(c.cmd(&["SAVE"]), Reply::Status("OK".into()));
    }
    assert!(data.join("dump.rdb").exists(), "dump.rdb in the data dir");
    let _server = start(&args, port);
    let mut c = Conn::connect(port);
    assert_eq!(c.cmd(&["GET", "mounted"]), bulk("yes"));
    // The CMD's other settings took effect.
    if let Some(pm) = arg_value(&rt.cmd, "--protected-mode") {
        assert_eq!(
            c.cmd(&["CONFIG", "GET", "protected-mode"]),
            Reply::Array(vec![bulk("protected-mode"), bulk(pm)])
        );
    }
    let canonical = data.canonicalize().expect("data dir path");
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "dir"]),
        Reply::Array(vec![bulk("dir"), bulk(&canonical.display().to_string())])
    );

    // The HEALTHCHECK's exchange: an inline PING, the first 5 bytes are +PONG.
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.write_all(b"PING\r\n").expect("write");
    let mut first = [0u8; 5];
    s.read_exact(&mut first).expect("read");
    assert_eq!(&first, b"+PONG");
    let _ = std::fs::remove_dir_all(&data);
}
