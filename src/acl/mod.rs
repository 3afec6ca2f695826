//! Access control lists: users, their passwords and what they may run.
//!
//! A user is a set of rules, applied left to right as ACL SETUSER gives them:
//!
//! ```text
//! ACL SETUSER alice on >secret ~cache:* &news.* -@all +get +set
//!                   │  │       │        │       └ commands: start from none, allow two
//!                   │  │       │        └ channels she may (P)SUBSCRIBE / PUBLISH to
//!                   │  │       └ keys she may touch (%R~ read-only, %W~ write-only)
//!                   │  └ a password, stored as its SHA-256
//!                   └ enabled
//! ```
//!
//! Commands are checked against a per-user allow-list indexed like the
//! command table; subcommands (`+config|get`) against a set of names. The
//! categories (`@read`, `@string`, ...) come from the command table too
//! (`commands::server::acl_categories`), so ACL CAT can never drift from
//! what the dispatcher runs.
//!
//! Passwords are never kept or logged in clear: only their SHA-256, compared
//! in constant time. The `default` user starts as `on nopass ~* &* +@all`,
//! or with requirepass's hash when one is configured, as in Redis.

pub mod sha256;

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::commands::{all_commands, server::acl_categories, Command};
use crate::store::glob::glob_match;
use sha256::{constant_time_eq, sha256};

/// Every ACL category Redis 7.0 has (ACL CAT).
pub const CATEGORIES: &[&str] = &[
    "keyspace",
    "read",
    "write",
    "set",
    "sortedset",
    "list",
    "hash",
    "string",
    "bitmap",
    "hyperloglog",
    "geo",
    "stream",
    "pubsub",
    "admin",
    "fast",
    "slow",
    "blocking",
    "dangerous",
    "connection",
    "transaction",
    "scripting",
];

/// Largest number of entries ACL LOG keeps (acllog-max-len default).
pub const LOG_MAX_ENTRIES: usize = 128;

/// What a key pattern allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPerm {
    /// `~pattern` or `%RW~pattern`
    ReadWrite,
    /// `%R~pattern`
    Read,
    /// `%W~pattern`
    Write,
}

/// One ACL user.
#[derive(Debug, Clone)]
pub struct User {
    /// The user name.
    pub name: String,
    /// `on` / `off`.
    pub enabled: bool,
    /// `nopass`: any password works.
    pub nopass: bool,
    /// SHA-256 of each accepted password.
    pub passwords: Vec<[u8; 32]>,
    /// Allowed commands, indexed like the command table.
    allowed: Vec<bool>,
    /// Allowed `command|subcommand` names when the command itself is not allowed.
    allowed_subcommands: BTreeSet<String>,
    /// The command rules as given, for ACL GETUSER / LIST.
    command_rules: Vec<String>,
    /// Key patterns.
    pub keys: Vec<(KeyPerm, Vec<u8>)>,
    /// Channel patterns.
    pub channels: Vec<Vec<u8>>,
}

/// Why a check failed (for NOPERM texts and ACL LOG).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// The command is not allowed.
    Command,
    /// A key is outside the user's patterns.
    Key(Vec<u8>),
    /// A channel is outside the user's patterns.
    Channel(Vec<u8>),
}

fn commands_vec() -> Vec<&'static Command> {
    all_commands().collect()
}

impl User {
    /// A new user: off, no passwords, no commands, no keys, no channels.
    pub fn new(name: &str) -> Self {
        User {
            name: name.to_string(),
            enabled: false,
            nopass: false,
            passwords: Vec::new(),
            allowed: vec![false; commands_vec().len()],
            allowed_subcommands: BTreeSet::new(),
            command_rules: vec!["-@all".into()],
            keys: Vec::new(),
            channels: Vec::new(),
        }
    }

    /// The default user: `on nopass ~* &* +@all`.
    pub fn default_user() -> Self {
        let mut u = User::new("default");
        for rule in ["on", "nopass", "~*", "&*", "+@all"] {
            let _ = u.apply(rule);
        }
        u
    }

    /// True when `password` opens this user.
    pub fn check_password(&self, password: &[u8]) -> bool {
        if self.nopass {
            return true;
        }
        let digest = sha256(password);
        // Compare against every hash without stopping early.
        self.passwords
            .iter()
            .fold(false, |ok, p| constant_time_eq(p, &digest) | ok)
    }

    fn set_commands(&mut self, pred: impl Fn(&Command) -> bool, allow: bool) {
        for (slot, c) in self.allowed.iter_mut().zip(commands_vec()) {
            if pred(c) {
                *slot = allow;
            }
        }
    }

    /// Applies one rule (an ACL SETUSER argument); Err carries Redis's reason.
    pub fn apply(&mut self, rule: &str) -> Result<(), String> {
        let lower = rule.to_ascii_lowercase();
        match lower.as_str() {
            "on" => self.enabled = true,
            "off" => self.enabled = false,
            "nopass" => {
                self.nopass = true;
                self.passwords.clear();
            }
            "resetpass" => {
                self.nopass = false;
                self.passwords.clear();
            }
            "allkeys" => self.keys = vec![(KeyPerm::ReadWrite, b"*".to_vec())],
            "resetkeys" => self.keys.clear(),
            "allchannels" => self.channels = vec![b"*".to_vec()],
            "resetchannels" => self.channels.clear(),
            "allcommands" => return self.apply("+@all"),
            "nocommands" => return self.apply("-@all"),
            "reset" => {
                let name = self.name.clone();
                *self = User::new(&name);
                self.apply("resetchannels")?;
            }
            "sanitize-payload" | "skip-sanitize-payload" => {}
            _ => return self.apply_prefixed(rule),
        }
        Ok(())
    }

    fn apply_prefixed(&mut self, rule: &str) -> Result<(), String> {
        let bytes = rule.as_bytes();
        match bytes.first() {
            Some(b'>') => {
                let hash = sha256(&bytes[1..]);
                if !self.passwords.contains(&hash) {
                    self.passwords.push(hash);
                }
                self.nopass = false;
            }
            Some(b'<') => {
                let hash = sha256(&bytes[1..]);
                let before = self.passwords.len();
                self.passwords.retain(|p| *p != hash);
                if self.passwords.len() == before {
                    return Err("no such password".into());
                }
            }
            Some(b'#') => {
                let hash = parse_hex_hash(&rule[1..]).ok_or("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")?;
                if !self.passwords.contains(&hash) {
                    self.passwords.push(hash);
                }
                self.nopass = false;
            }
            Some(b'!') => {
                let hash = parse_hex_hash(&rule[1..]).ok_or("The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters")?;
                let before = self.passwords.len();
                self.passwords.retain(|p| *p != hash);
                if self.passwords.len() == before {
                    return Err("no such password".into());
                }
            }
            Some(b'~') => self.add_key_pattern(KeyPerm::ReadWrite, &bytes[1..])?,
            Some(b'%') => {
                let (perm_text, pattern) = rule[1..].split_once('~').ok_or("Syntax error")?;
                let perm = match perm_text.to_ascii_uppercase().as_str() {
                    "R" => KeyPerm::Read,
                    "W" => KeyPerm::Write,
                    "RW" | "WR" => KeyPerm::ReadWrite,
                    _ => return Err("Syntax error".into()),
                };
                self.add_key_pattern(perm, pattern.as_bytes())?;
            }
            Some(b'&') => {
                if self.channels.iter().any(|c| c == b"*") {
                    return Ok(());
                }
                if &bytes[1..] == b"*" {
                    self.channels = vec![b"*".to_vec()];
                } else {
                    self.channels.push(bytes[1..].to_vec());
                }
            }
            Some(b'+') | Some(b'-') => self.apply_command_rule(rule)?,
            _ => return Err("Syntax error".into()),
        }
        Ok(())
    }

    fn add_key_pattern(&mut self, perm: KeyPerm, pattern: &[u8]) -> Result<(), String> {
        if self
            .keys
            .iter()
            .any(|(p, k)| *p == KeyPerm::ReadWrite && k == b"*")
        {
            return Ok(());
        }
        if pattern == b"*" && perm == KeyPerm::ReadWrite {
            self.keys = vec![(perm, b"*".to_vec())];
        } else {
            self.keys.push((perm, pattern.to_vec()));
        }
        Ok(())
    }

    fn apply_command_rule(&mut self, rule: &str) -> Result<(), String> {
        let allow = rule.starts_with('+');
        let body = rule[1..].to_ascii_lowercase();
        if let Some(cat) = body.strip_prefix('@') {
            if cat == "all" {
                self.set_commands(|_| true, allow);
                self.allowed_subcommands.clear();
                self.command_rules = vec![if allow { "+@all" } else { "-@all" }.into()];
                return Ok(());
            }
            if !CATEGORIES.contains(&cat) {
                return Err("Unknown command or category name in ACL".into());
            }
            let tag = format!("@{cat}");
            self.set_commands(|c| acl_categories(c).contains(&tag.as_str()), allow);
        } else if let Some((cmd, sub)) = body.split_once('|') {
            if !commands_vec().iter().any(|c| c.name == cmd) || sub.is_empty() {
                return Err("Unknown command or category name in ACL".into());
            }
            if allow {
                self.allowed_subcommands.insert(body.clone());
            } else {
                return Err("Allowing first-arg of a subcommand is not supported".into());
            }
        } else {
            if !commands_vec().iter().any(|c| c.name == body) {
                return Err("Unknown command or category name in ACL".into());
            }
            self.set_commands(|c| c.name == body, allow);
            self.allowed_subcommands
                .retain(|s| !s.starts_with(&format!("{body}|")));
        }
        self.command_rules.push(format!("{}{}", &rule[..1], body));
        Ok(())
    }

    /// The command rules as ACL GETUSER shows them.
    pub fn describe_commands(&self) -> String {
        let mut parts = self.command_rules.clone();
        parts.extend(self.allowed_subcommands.iter().map(|s| format!("+{s}")));
        parts.join(" ")
    }

    /// The key patterns as ACL GETUSER shows them.
    pub fn describe_keys(&self) -> String {
        self.keys
            .iter()
            .map(|(perm, k)| {
                let prefix = match perm {
                    KeyPerm::ReadWrite => "~",
                    KeyPerm::Read => "%R~",
                    KeyPerm::Write => "%W~",
                };
                format!("{prefix}{}", String::from_utf8_lossy(k))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The channel patterns as ACL GETUSER shows them.
    pub fn describe_channels(&self) -> String {
        self.channels
            .iter()
            .map(|c| format!("&{}", String::from_utf8_lossy(c)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The user as one ACL LIST / aclfile line.
    pub fn describe(&self) -> String {
        let mut parts = vec![
            format!("user {}", self.name),
            if self.enabled { "on" } else { "off" }.to_string(),
        ];
        if self.nopass {
            parts.push("nopass".into());
        }
        parts.push("sanitize-payload".into());
        for p in &self.passwords {
            parts.push(format!("#{}", hex(p)));
        }
        for s in [
            self.describe_keys(),
            self.describe_channels(),
            self.describe_commands(),
        ] {
            if !s.is_empty() {
                parts.push(s);
            }
        }
        parts.join(" ")
    }

    /// Checks whether this user may run `command` with `args` (args[0] is
    /// the name); `keys` are the positions of key arguments.
    pub fn check(
        &self,
        index: usize,
        command: &Command,
        args: &[&[u8]],
        keys: &[usize],
    ) -> Result<(), Denied> {
        let allowed = self.allowed.get(index).copied().unwrap_or(false)
            || args.get(1).is_some_and(|sub| {
                let name = format!(
                    "{}|{}",
                    command.name,
                    String::from_utf8_lossy(sub).to_ascii_lowercase()
                );
                self.allowed_subcommands.contains(&name)
            });
        if !allowed {
            return Err(Denied::Command);
        }
        let write = command.is_write();
        for &pos in keys {
            let Some(key) = args.get(pos) else { continue };
            let ok = self.keys.iter().any(|(perm, pattern)| {
                let perm_ok = match perm {
                    KeyPerm::ReadWrite => true,
                    KeyPerm::Read => !write,
                    KeyPerm::Write => write,
                };
                perm_ok && glob_match(pattern, key, false)
            });
            if !ok {
                return Err(Denied::Key(key.to_vec()));
            }
        }
        Ok(())
    }

    /// True when this user may use `channel` (PUBLISH, SUBSCRIBE) or, for
    /// `is_pattern`, subscribe to that exact pattern.
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.channels.iter().any(|p| {
            if is_pattern {
                p == b"*" || p == channel
            } else {
                glob_match(p, channel, false)
            }
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex_hash(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// One ACL LOG entry.
#[derive(Debug, Clone)]
pub struct LogEntry {
    /// How many times the same failure repeated.
    pub count: u64,
    /// "command", "key", "channel" or "auth".
    pub reason: &'static str,
    /// "toplevel" (or "multi").
    pub context: &'static str,
    /// The denied object (command name, key, channel, user).
    pub object: String,
    /// The user name.
    pub username: String,
    /// When it was first seen, unix ms.
    pub created_ms: i64,
    /// When it was last seen, unix ms.
    pub updated_ms: i64,
    /// The client's description.
    pub client_info: String,
}

/// Every user, and the ACL LOG.
#[derive(Debug, Clone)]
pub struct Acl {
    /// Users by name.
    pub users: BTreeMap<String, User>,
    /// Most recent denials first.
    pub log: VecDeque<LogEntry>,
}

impl Default for Acl {
    fn default() -> Self {
        Self::new(None)
    }
}

impl Acl {
    /// The initial ACL: the default user, with requirepass's hash if set.
    pub fn new(requirepass: Option<&str>) -> Self {
        let mut users = BTreeMap::new();
        let mut default = User::default_user();
        if let Some(pass) = requirepass.filter(|p| !p.is_empty()) {
            let _ = default.apply("resetpass");
            let _ = default.apply(&format!(">{pass}"));
        }
        users.insert("default".to_string(), default);
        Acl {
            users,
            log: VecDeque::new(),
        }
    }

    /// Applies a sequence of rules to a user, creating it if needed; all or
    /// nothing. Err carries Redis's error text.
    pub fn setuser(&mut self, name: &str, rules: &[String]) -> Result<(), String> {
        let mut user = self
            .users
            .get(name)
            .cloned()
            .unwrap_or_else(|| User::new(name));
        for rule in rules {
            user.apply(rule)
                .map_err(|why| format!("Error in ACL SETUSER modifier '{rule}': {why}"))?;
        }
        self.users.insert(name.to_string(), user);
        Ok(())
    }

    /// Authenticates; returns the user name on success.
    pub fn authenticate(&self, name: &str, password: &[u8]) -> bool {
        self.users
            .get(name)
            .is_some_and(|u| u.enabled && u.check_password(password))
    }

    /// Records a denial in the ACL LOG, merging with an identical recent one.
    pub fn log_denial(
        &mut self,
        reason: &'static str,
        object: String,
        username: String,
        client_info: String,
        now_ms: i64,
    ) {
        if let Some(e) = self
            .log
            .iter_mut()
            .find(|e| e.reason == reason && e.object == object && e.username == username)
        {
            e.count += 1;
            e.updated_ms = now_ms;
            e.client_info = client_info;
            return;
        }
        self.log.push_front(LogEntry {
            count: 1,
            reason,
            context: "toplevel",
            object,
            username,
            created_ms: now_ms,
            updated_ms: now_ms,
            client_info,
        });
        self.log.truncate(LOG_MAX_ENTRIES);
    }

    /// Parses aclfile text (one `user ...` line each); all or nothing.
    pub fn load_text(&self, text: &str) -> Result<Acl, String> {
        let mut next = Acl {
            users: BTreeMap::new(),
            log: self.log.clone(),
        };
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut words = line.split_whitespace();
            if words.next() != Some("user") {
                return Err(format!("/line {}: should start with user keyword", i + 1));
            }
            let name = words
                .next()
                .ok_or(format!("/line {}: missing user name", i + 1))?;
            let rules: Vec<String> = words.map(String::from).collect();
            next.setuser(name, &rules)
                .map_err(|e| format!("/line {}: {e}", i + 1))?;
        }
        next.users
            .entry("default".into())
            .or_insert_with(User::default_user);
        Ok(next)
    }

    /// The whole ACL as aclfile text.
    pub fn to_text(&self) -> String {
        self.users.values().map(|u| u.describe() + "\n").collect()
    }
}

/// A random password of `bits` bits as hex (ACL GENPASS), from the OS.
pub fn genpass(bits: usize) -> String {
    let bytes = bits.div_ceil(8);
    let mut buf = vec![0u8; bytes];
    let filled = std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut buf))
        .is_ok();
    if !filled {
        for b in buf.iter_mut() {
            *b = crate::util::random_u64() as u8;
        }
    }
    let mut text = hex(&buf);
    text.truncate(bits.div_ceil(4));
    text
}

/// sha256_hex re-exported for ACL GETUSER's password list.
pub fn password_hex(hash: &[u8; 32]) -> String {
    hex(hash)
}

/// True when `s` is a valid hex SHA-256 (for `#hash` rules).
pub fn is_hash(s: &str) -> bool {
    parse_hex_hash(s).is_some()
}

#[cfg(test)]
mod tests {
    use super::sha256::sha256_hex;
    use super::*;

    #[test]
    fn default_user_allows_everything() {
        let acl = Acl::new(None);
        let u = &acl.users["default"];
        assert!(u.enabled && u.nopass);
        assert_eq!(
            u.describe(),
            "user default on nopass sanitize-payload ~* &* +@all"
        );
        assert!(acl.authenticate("default", b"anything"));
    }

    #[test]
    fn requirepass_sets_a_hash() {
        let acl = Acl::new(Some("foobar"));
        assert!(acl.authenticate("default", b"foobar"));
        assert!(!acl.authenticate("default", b"wrong"));
        assert!(acl.users["default"]
            .describe()
            .contains(&sha256_hex(b"foobar")));
    }

    #[test]
    fn rules_apply_in_order() {
        let mut acl = Acl::new(None);
        let rules: Vec<String> = ["on", ">pw", "~cache:*", "-@all", "+get"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        acl.setuser("alice", &rules).unwrap();
        let alice = &acl.users["alice"];
        assert!(acl.authenticate("alice", b"pw"));
        let all: Vec<_> = commands_vec();
        let (gi, get) = all
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == "get")
            .unwrap();
        let (si, set) = all
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == "set")
            .unwrap();
        assert!(alice.check(gi, get, &[b"get", b"cache:1"], &[1]).is_ok());
        assert_eq!(
            alice.check(gi, get, &[b"get", b"other"], &[1]),
            Err(Denied::Key(b"other".to_vec()))
        );
        assert_eq!(
            alice.check(si, set, &[b"set", b"cache:1", b"v"], &[1]),
            Err(Denied::Command)
        );
        assert!(acl
            .setuser("alice", &["+nosuchcommand".to_string()])
            .is_err());
    }
}
