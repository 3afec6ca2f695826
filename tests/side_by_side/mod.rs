//! Test support: run the same commands against ferredis and a real
//! redis-server 7.0 and compare every reply.
//!
//! [`RealRedis::start`] starts /usr/bin/redis-server on a free loopback port
//! with a fresh temporary directory (no persistence) and kills it on drop;
//! it returns None when Redis is not installed, so the tests print a note
//! and pass on machines without it. [`Pair`] sends each command to both
//! servers and asserts the replies are identical.

#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{free_port, Conn, Reply, Server};

const REDIS_SERVER: &str = "/usr/bin/redis-server";

/// A real redis-server child process.
pub struct RealRedis {
    pub port: u16,
    dir: PathBuf,
    child: Child,
}

impl RealRedis {
    /// Starts redis-server, or None when it is not installed.
    pub fn start() -> Option<RealRedis> {
        if !crate::common::real_redis_present("side-by-side check", &["redis-server"]) {
            return None;
        }
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("ferredis-real-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        let child = Command::new(REDIS_SERVER)
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let mut redis = RealRedis { port, dir, child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(mut c) = Conn::try_connect(port) {
                if c.cmd(&["PING"]) == Reply::Status("PONG".into()) {
                    return Some(redis);
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        redis.stop();
        None
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for RealRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Connections to ferredis and to real Redis, compared reply by reply.
pub struct Pair {
    pub ours: Conn,
    pub redis: Conn,
    _server: Server,
    _real: RealRedis,
}

impl Pair {
    /// Starts both servers, or None when Redis is not installed.
    pub fn start() -> Option<Pair> {
        let real = RealRedis::start()?;
        let server = Server::start(&[]);
        Some(Pair {
            ours: server.conn(),
            redis: Conn::connect(real.port),
            _server: server,
            _real: real,
        })
    }

    /// Sends `args` to both and asserts equal replies; returns Redis's.
    pub fn check(&mut self, args: &[&[u8]]) -> Reply {
        let theirs = self.redis.cmd_bytes(args);
        let ours = self.ours.cmd_bytes(args);
        assert_eq!(
            ours,
            theirs,
            "reply to {:?} differs from Redis's",
            args.iter()
                .take(8)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
        );
        theirs
    }

    /// [`Pair::check`] with text arguments.
    pub fn check_str(&mut self, args: &[&str]) -> Reply {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        self.check(&a)
    }
}

/// A small deterministic generator (xorshift64*), so failures replay.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// A float in `[lo, hi)`.
    pub fn float(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next() >> 11) as f64 / (1u64 << 53) as f64 * (hi - lo)
    }
}
