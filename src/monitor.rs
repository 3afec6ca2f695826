//! MONITOR: a live feed of every command the server runs.
//!
//! A client that sends MONITOR gets a mailbox and a writer thread, the same
//! machinery a pub/sub subscriber uses (pubsub.rs, client.rs), and its
//! mailbox is registered in [`Monitors`]. After each command runs, the
//! dispatcher calls [`feed`], which formats one line as Redis's
//! `replicationFeedMonitors` does and pushes it to every monitor:
//!
//! ```text
//! +1339518083.107412 [0 127.0.0.1:60866] "keys" "*"
//!  └ unix s.µs        └ db └ client addr  └ arguments, quoted and escaped
//! ```
//!
//! As in Redis 7.0 a command is fed after it ran (so EXEC follows the
//! commands of its transaction), commands refused before running (unknown,
//! arity, authentication) and `admin` commands are not fed, and passwords
//! are shown as `(redacted)`. A monitor that disconnected has its mailbox
//! closed; the next feed drops it. [`Monitors::is_active`] is one atomic
//! load, so the feed costs nothing while nobody monitors.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use crate::pubsub::Mailbox;

/// The clients in MONITOR mode.
#[derive(Default)]
pub struct Monitors {
    active: AtomicBool,
    mailboxes: Mutex<Vec<(u64, Arc<Mailbox>)>>,
}

impl Monitors {
    /// True when at least one client monitors.
    pub fn is_active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    /// Adds a client's mailbox (MONITOR); a second MONITOR is a no-op.
    pub fn add(&self, client_id: u64, mailbox: Arc<Mailbox>) {
        let mut list = self.mailboxes.lock().unwrap_or_else(|p| p.into_inner());
        if !list.iter().any(|(id, _)| *id == client_id) {
            list.push((client_id, mailbox));
        }
        self.active.store(true, Ordering::Relaxed);
    }

    /// Ends MONITOR mode for a client (RESET).
    pub fn remove(&self, client_id: u64) {
        let mut list = self.mailboxes.lock().unwrap_or_else(|p| p.into_inner());
        list.retain(|(id, _)| *id != client_id);
        self.active.store(!list.is_empty(), Ordering::Relaxed);
    }

    /// Number of monitors (INFO, CLIENT LIST flags).
    pub fn len(&self) -> usize {
        self.mailboxes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .len()
    }

    /// True when nobody monitors.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True when `client_id` is a monitor.
    pub fn contains(&self, client_id: u64) -> bool {
        self.mailboxes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|(id, _)| *id == client_id)
    }

    fn push(&self, line: Vec<u8>) {
        let frame = Arc::new(line);
        let mut list = self.mailboxes.lock().unwrap_or_else(|p| p.into_inner());
        list.retain(|(_, mailbox)| mailbox.push(Arc::clone(&frame), None).is_ok());
        if list.is_empty() {
            self.active.store(false, Ordering::Relaxed);
        }
    }
}

/// Appends `arg` quoted the way Redis's `sdscatrepr` quotes (MONITOR's
/// arguments, the Lua debugger's values).
pub fn push_repr(out: &mut String, arg: &[u8]) {
    out.push('"');
    for &b in arg {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            7 => out.push_str("\\a"),
            8 => out.push_str("\\b"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\x{b:02x}");
            }
        }
    }
    out.push('"');
}

/// Configuration parameters whose values CONFIG SET hides (Redis's
/// sensitive configs).
const SECRET_CONFIGS: [&[u8]; 2] = [b"masterauth", b"requirepass"];

/// Which arguments of a command hold secrets, shown as `(redacted)` by
/// MONITOR and SLOWLOG (Redis's `redactClientCommandArgument` calls):
/// AUTH's, HELLO ... AUTH user pass, MIGRATE ... AUTH pass / AUTH2 user
/// pass, everything after ACL SETUSER, and CONFIG SET's value for
/// masterauth or requirepass.
pub fn redacted(args: &[&[u8]]) -> Vec<bool> {
    let mut hide = vec![false; args.len()];
    let name = args
        .first()
        .map(|a| a.to_ascii_lowercase())
        .unwrap_or_default();
    let mut mark = |from: usize, n: usize| {
        for h in hide.iter_mut().skip(from).take(n) {
            *h = true;
        }
    };
    match name.as_slice() {
        b"auth" => mark(1, args.len()),
        b"acl"
            if args
                .get(1)
                .is_some_and(|a| a.eq_ignore_ascii_case(b"setuser")) =>
        {
            mark(2, args.len())
        }
        b"config" if args.get(1).is_some_and(|a| a.eq_ignore_ascii_case(b"set")) => {
            for (i, pair) in args.chunks(2).enumerate().skip(1) {
                if SECRET_CONFIGS
                    .iter()
                    .any(|c| pair[0].eq_ignore_ascii_case(c))
                {
                    mark(2 * i + 1, 1);
                }
            }
        }
        b"hello" | b"migrate" => {
            for (i, a) in args.iter().enumerate().skip(1) {
                if a.eq_ignore_ascii_case(b"auth") {
                    mark(i + 1, if name == b"hello" { 2 } else { 1 });
                } else if name == b"migrate" && a.eq_ignore_ascii_case(b"auth2") {
                    mark(i + 1, 2);
                }
            }
        }
        _ => {}
    }
    hide
}

/// Formats one monitor line (without pushing it).
pub fn format_line(now_us: i64, db: usize, addr: &str, args: &[&[u8]]) -> Vec<u8> {
    let mut out = format!(
        "+{}.{:06} [{} {}]",
        now_us / 1_000_000,
        now_us % 1_000_000,
        db,
        addr
    );
    let hide = redacted(args);
    for (arg, hidden) in args.iter().zip(hide) {
        out.push(' ');
        if hidden {
            out.push_str("\"(redacted)\"");
        } else {
            push_repr(&mut out, arg);
        }
    }
    out.push_str("\r\n");
    out.into_bytes()
}

/// The dispatcher's hook after a command ran: sends it to every monitor.
pub fn feed(monitors: &Monitors, db: usize, addr: &str, args: &[&[u8]]) {
    if !monitors.is_active() {
        return;
    }
    monitors.push(format_line(crate::util::now_us(), db, addr, args));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_look_like_redis() {
        let line = format_line(
            1_339_518_083_107_412,
            0,
            "127.0.0.1:60866",
            &[b"keys", b"*"],
        );
        assert_eq!(
            line,
            b"+1339518083.107412 [0 127.0.0.1:60866] \"keys\" \"*\"\r\n".to_vec()
        );
        let line = format_line(1_000_000, 3, "a:1", &[b"set", b"k", b"a\"b\n\x01"]);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "+1.000000 [3 a:1] \"set\" \"k\" \"a\\\"b\\n\\x01\"\r\n"
        );
    }

    #[test]
    fn passwords_are_redacted() {
        let line = format_line(0, 0, "a:1", &[b"hello", b"2", b"AUTH", b"u", b"p"]);
        assert!(String::from_utf8(line)
            .unwrap()
            .ends_with("\"hello\" \"2\" \"AUTH\" \"(redacted)\" \"(redacted)\"\r\n"));
        let line = format_line(0, 0, "a:1", &[b"auth", b"secret"]);
        assert!(!String::from_utf8(line).unwrap().contains("secret"));
    }

    #[test]
    fn acl_setuser_and_secret_configs_are_redacted() {
        let hide = |args: &[&[u8]]| redacted(args);
        assert_eq!(
            hide(&[b"ACL", b"SETUSER", b"bob", b">pw", b"+get"]),
            [false, false, true, true, true]
        );
        assert_eq!(hide(&[b"acl", b"getuser", b"bob"]), [false; 3]);
        assert_eq!(
            hide(&[
                b"config",
                b"set",
                b"maxmemory",
                b"1",
                b"MasterAuth",
                b"pw",
                b"requirepass"
            ]),
            [false, false, false, false, false, true, false]
        );
    }
}
