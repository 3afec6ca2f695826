//! Hostile input: many connections sending garbage while well-behaved
//! clients keep working.
//!
//! Attackers send random bytes, truncated frames, oversized lengths, huge
//! inline lines and half-sent commands, then hang up (or not). Meanwhile
//! ordinary clients run SET/GET/INCR and must get exactly the right
//! replies; at the end the server still answers PING. The random bytes come
//! from a fixed-seed xorshift so a failure can be replayed.

mod common;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{bulk, Reply, Server};

/// A small deterministic PRNG (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
}

/// One hostile payload, chosen by `kind`.
fn payload(rng: &mut Rng, kind: u64) -> Vec<u8> {
    match kind {
        // Random binary garbage.
        0 => {
            let n = rng.below(4096) as usize + 1;
            rng.bytes(n)
        }
        // A truncated multibulk frame (waits for more bytes, then we hang up).
        1 => b"*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$100\r\nabc".to_vec(),
        // Oversized lengths.
        2 => b"*1\r\n$99999999999999999999\r\n".to_vec(),
        3 => b"*2147483648\r\n".to_vec(),
        4 => b"*1\r\n$-5\r\n".to_vec(),
        5 => b"*-1\r\n*0\r\n*1\r\n$4\r\nPING\r\n".to_vec(),
        // A huge inline line without newline (over the inline limit).
        6 => vec![b'a'; 70 * 1024],
        // Wrong type markers and bad CRLFs.
        7 => b"*1\r\n+PING\r\n".to_vec(),
        8 => b"*1\n$4\nPING\n".to_vec(),
        // Unbalanced quotes inline.
        9 => b"SET \"foo bar\r\n".to_vec(),
        // Valid commands with hostile arguments.
        10 => b"*3\r\n$6\r\nSETBIT\r\n$1\r\nb\r\n$20\r\n99999999999999999999\r\n".to_vec(),
        11 => b"*4\r\n$8\r\nSETRANGE\r\n$1\r\nr\r\n$10\r\n-100000000\r\n$1\r\nx\r\n".to_vec(),
        _ => {
            // Half-sent command from the tail of a valid frame.
            let frame = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n";
            frame[..rng.below(frame.len() as u64) as usize].to_vec()
        }
    }
}

fn attacker(port: u16, seed: u64, rounds: usize) {
    let mut rng = Rng(seed | 1);
    for _ in 0..rounds {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
            continue;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(50)));
        let kind = rng.below(13);
        let _ = s.write_all(&payload(&mut rng, kind));
        // Sometimes read what came back (an error), sometimes just leave.
        if rng.below(2) == 0 {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf);
        }
    }
}

/// True when the server closes `c` (EOF or reset) within `secs`, with
/// nothing sent before; false on a timeout.
fn closed_within(c: &mut common::Conn, secs: u64) -> bool {
    let _ = c.stream.set_read_timeout(Some(Duration::from_secs(secs)));
    let mut buf = [0u8; 1];
    match c.reader.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => !matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
    }
}

#[test]
fn garbage_never_disturbs_good_clients() {
    let server = Server::start(&[]);
    let port = server.port;
    let stop = Arc::new(AtomicBool::new(false));

    let attackers: Vec<_> = (0..8u64)
        .map(|i| std::thread::spawn(move || attacker(port, 0x9e37_79b9 * (i + 1), 60)))
        .collect();

    let good: Vec<_> = (0..4)
        .map(|i| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut c = common::Conn::connect(port);
                let key = format!("good:{i}");
                let counter = format!("counter:{i}");
                let mut n = 0i64;
                while !stop.load(Ordering::Relaxed) || n < 50 {
                    let value = format!("v{n}");
                    assert_eq!(c.cmd(&["SET", &key, &value]), Reply::Status("OK".into()));
                    assert_eq!(c.cmd(&["GET", &key]), bulk(&value));
                    n += 1;
                    assert_eq!(c.cmd(&["INCR", &counter]), Reply::Int(n));
                }
            })
        })
        .collect();

    for a in attackers {
        a.join().expect("attacker thread");
    }
    stop.store(true, Ordering::Relaxed);
    for g in good {
        g.join().expect("a well-behaved client got a wrong reply");
    }
    let mut c = server.conn();
    assert_eq!(c.cmd(&["PING"]), Reply::Status("PONG".into()));
}

#[test]
fn protocol_errors_close_only_that_connection() {
    let server = Server::start(&[]);
    let mut good = server.conn();
    assert_eq!(good.cmd(&["SET", "k", "v"]), Reply::Status("OK".into()));

    let mut bad = server.conn();
    bad.send_raw(b"*1\r\n$-5\r\n");
    assert_eq!(
        bad.read_reply(),
        Reply::Error("ERR Protocol error: invalid bulk length".into())
    );
    assert!(bad.is_closed());

    let mut bad = server.conn();
    bad.send_raw(b"*1\r\n+PING\r\n");
    assert_eq!(
        bad.read_reply(),
        Reply::Error("ERR Protocol error: expected '$', got '+'".into())
    );
    assert!(bad.is_closed());

    assert_eq!(good.cmd(&["GET", "k"]), bulk("v"));
}

#[test]
fn unauthenticated_clients_cannot_send_big_requests() {
    let server = Server::start(&["--requirepass", "pw"]);
    let mut c = server.conn();
    c.send_raw(b"*100\r\n");
    assert_eq!(
        c.read_reply(),
        Reply::Error("ERR Protocol error: unauthenticated multibulk length".into())
    );
    let mut c = server.conn();
    c.send_raw(b"*1\r\n$100000000\r\n");
    assert_eq!(
        c.read_reply(),
        Reply::Error("ERR Protocol error: unauthenticated bulk length".into())
    );
    let mut c = server.conn();
    assert_eq!(c.cmd(&["AUTH", "pw"]), Reply::Status("OK".into()));
    let big = "x".repeat(100_000);
    assert_eq!(c.cmd(&["SET", "k", &big]), Reply::Status("OK".into()));
}

#[test]
fn query_buffer_limit_closes_the_client() {
    let server = Server::start(&["--client-query-buffer-limit", "1mb"]);
    let mut c = server.conn();
    // A 2 MB argument announced but never finished: over the limit.
    c.send_raw(b"*2\r\n$3\r\nGET\r\n$3000000\r\n");
    // The server may hang up before taking it all.
    let _ = c.stream.write_all(&vec![b'x'; 1_100_000]);
    assert!(closed_within(&mut c, 10));
    let mut other = server.conn();
    assert_eq!(other.cmd(&["PING"]), Reply::Status("PONG".into()));
}

#[test]
fn idle_clients_are_closed_after_timeout() {
    let server = Server::start(&["--timeout", "1"]);
    let mut idle = server.conn();
    assert_eq!(idle.cmd(&["PING"]), Reply::Status("PONG".into()));
    assert!(closed_within(&mut idle, 10));
}

#[test]
fn output_buffer_hard_limit_closes_a_normal_client() {
    let server = Server::start(&["--client-output-buffer-limit", "normal 100kb 0 0"]);
    let mut c = server.conn();
    let big = "x".repeat(200_000);
    assert_eq!(c.cmd(&["SET", "big", &big]), Reply::Status("OK".into()));
    c.send(&["GET", "big"]);
    assert!(closed_within(&mut c, 10));
    let mut other = server.conn();
    assert_eq!(other.cmd(&["STRLEN", "big"]), Reply::Int(200_000));
}
