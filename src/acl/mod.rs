//! Access control lists: users, their passwords and what they may run.
//!
//! A user is a set of rules, applied left to right as ACL SETUSER gives them:
//!
//! ```text
//! ACL SETUSER alice on >secret ~cache:* &news.* -@all +get (%R~log:* +xrange)
//!                   │  │       │        │       │          └ a selector: another
//!                   │  │       │        │       │            set of rules, any one may allow
//!                   │  │       │        │       └ commands: start from none, allow one
//!                   │  │       │        └ channels she may (P)SUBSCRIBE / PUBLISH to
//!                   │  │       └ keys she may touch (%R~ read-only, %W~ write-only)
//!                   │  └ a password, stored as its SHA-256
//!                   └ enabled
//! ```
//!
//! The rules are judged against Redis 7.0's own command table ([`table`]),
//! so categories, subcommands and key permissions are Redis's; the root
//! selector and the `(...)` selectors are [`selector::Selector`]s.
//!
//! Passwords are never kept or logged in clear: only their SHA-256, compared
//! in constant time. The `default` user starts as `on nopass ~* &* +@all`,
//! or with requirepass's hash when one is configured, as in Redis.

pub mod selector;
pub mod sha256;
pub mod table;

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

pub use selector::{Denied, RuleError, Selector};
use sha256::{constant_time_eq, sha256};
pub use table::{meta, CATEGORIES};

/// Default largest number of entries ACL LOG keeps (acllog-max-len).
pub const LOG_MAX_ENTRIES: usize = 128;

/// acllog-max-len, set from the config.
pub static LOG_MAX_LEN: AtomicUsize = AtomicUsize::new(LOG_MAX_ENTRIES);

/// acl-pubsub-default: true for `allchannels`, false for `resetchannels`.
pub static PUBSUB_DEFAULT_ALL: AtomicBool = AtomicBool::new(false);

/// Two denials this close (ms) with the same fields are one LOG entry.
const LOG_GROUPING_MAX_TIME_DELTA_MS: i64 = 60_000;

/// One ACL user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The user name.
    pub name: String,
    /// `on` / `off`.
    pub enabled: bool,
    /// `nopass`: any password works.
    pub nopass: bool,
    /// `sanitize-payload` (Some(true)), `skip-sanitize-payload` (Some(false)).
    pub sanitize: Option<bool>,
    /// SHA-256 of each accepted password.
    pub passwords: Vec<[u8; 32]>,
    /// The root selector first, then the `(...)` ones.
    pub selectors: Vec<Selector>,
}

fn pubsub_default() -> bool {
    PUBSUB_DEFAULT_ALL.load(Ordering::Relaxed)
}

/// Joins `(`...`)` arguments split by spaces back into one selector rule
/// (ACLMergeSelectorArguments); Err(index) of an unclosed one.
pub fn merge_selector_args(args: &[String]) -> Result<Vec<String>, usize> {
    let mut out = Vec::new();
    let mut open: Option<(usize, String)> = None;
    for (i, a) in args.iter().enumerate() {
        if let Some((start, mut acc)) = open.take() {
            acc.push(' ');
            acc.push_str(a);
            if a.ends_with(')') {
                out.push(acc);
            } else {
                open = Some((start, acc));
            }
            continue;
        }
        if a.starts_with('(') && !a.ends_with(')') {
            open = Some((i, a.clone()));
            continue;
        }
        out.push(a.clone());
    }
    match open {
        Some((start, _)) => Err(start),
        None => Ok(out),
    }
}

impl User {
    /// A new user: off, no passwords, no commands, no keys, channels as
    /// acl-pubsub-default says.
    pub fn new(name: &str) -> Self {
        User {
            name: name.to_string(),
            enabled: false,
            nopass: false,
            sanitize: None,
            passwords: Vec::new(),
            selectors: vec![Selector::new(pubsub_default())],
        }
    }

    /// The default user: `on nopass ~* &* +@all`.
    pub fn default_user() -> Self {
        let mut u = User::new("default");
        for rule in ["+@all", "~*", "&*", "on", "nopass"] {
            let _ = u.apply(rule.as_bytes());
        }
        u
    }

    /// The root selector.
    pub fn root(&self) -> &Selector {
        &self.selectors[0]
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

    /// Applies one rule (ACLSetUser).
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        if op.is_empty() {
            return Ok(());
        }
        let lower = op.to_ascii_lowercase();
        match lower.as_slice() {
            b"on" => self.enabled = true,
            b"off" => self.enabled = false,
            b"skip-sanitize-payload" => self.sanitize = Some(false),
            b"sanitize-payload" => self.sanitize = Some(true),
            b"nopass" => {
                self.nopass = true;
                self.passwords.clear();
            }
            b"resetpass" => {
                self.nopass = false;
                self.passwords.clear();
            }
            b"clearselectors" => self.selectors.truncate(1),
            b"reset" => {
                for r in ["resetpass", "resetkeys", "resetchannels"] {
                    self.apply(r.as_bytes())?;
                }
                if pubsub_default() {
                    self.apply(b"allchannels")?;
                }
                for r in ["off", "sanitize-payload", "clearselectors", "-@all"] {
                    self.apply(r.as_bytes())?;
                }
            }
            _ => match op[0] {
                b'>' | b'#' => {
                    let hash = if op[0] == b'>' {
                        sha256(&op[1..])
                    } else {
                        parse_hex_hash(&op[1..]).ok_or(RuleError::BadHash)?
                    };
                    if !self.passwords.contains(&hash) {
                        self.passwords.push(hash);
                    }
                    self.nopass = false;
                }
                b'<' | b'!' => {
                    let hash = if op[0] == b'<' {
                        sha256(&op[1..])
                    } else {
                        parse_hex_hash(&op[1..]).ok_or(RuleError::BadHash)?
                    };
                    let before = self.passwords.len();
                    self.passwords.retain(|p| *p != hash);
                    if self.passwords.len() == before {
                        return Err(RuleError::NoSuchPassword);
                    }
                }
                b'(' if op.ends_with(b")") => {
                    let mut s = Selector::new(pubsub_default());
                    let inner = &op[1..op.len() - 1];
                    for rule in inner.split(|b| *b == b' ').filter(|r| !r.is_empty()) {
                        s.apply(rule)?;
                    }
                    self.selectors.push(s);
                }
                _ => self.selectors[0].apply(op)?,
            },
        }
        Ok(())
    }

    /// The root's command rules as ACL GETUSER shows them.
    pub fn describe_commands(&self) -> String {
        self.root().describe_commands()
    }

    /// The root's key patterns as ACL GETUSER shows them.
    pub fn describe_keys(&self) -> String {
        self.root().describe_keys()
    }

    /// The root's channel patterns as ACL GETUSER shows them.
    pub fn describe_channels(&self) -> String {
        self.root().describe_channels()
    }

    /// The flags, in Redis's order (on, off, nopass, skip-sanitize-payload,
    /// sanitize-payload).
    pub fn flags(&self) -> Vec<&'static str> {
        let mut f = vec![if self.enabled { "on" } else { "off" }];
        if self.nopass {
            f.push("nopass");
        }
        match self.sanitize {
            Some(false) => f.push("skip-sanitize-payload"),
            Some(true) => f.push("sanitize-payload"),
            None => {}
        }
        f
    }

    /// The user as one ACL LIST / aclfile line.
    pub fn describe(&self) -> String {
        let mut out = format!("user {}", self.name);
        for f in self.flags() {
            out.push(' ');
            out.push_str(f);
        }
        for p in &self.passwords {
            out.push_str(&format!(" #{}", hex(p)));
        }
        for (i, s) in self.selectors.iter().enumerate() {
            if i == 0 {
                out.push(' ');
                out.push_str(&s.describe());
            } else {
                out.push_str(&format!(" ({})", s.describe()));
            }
        }
        out
    }

    /// Checks whether this user may run `args`: Ok when any selector
    /// allows it; else the first key or channel denial (more telling than
    /// a command denial), as Redis reports it.
    pub fn check(&self, args: &[&[u8]]) -> Result<(), Denied> {
        let m = meta();
        let Some(id) = m.resolve(args) else {
            return if self.selectors.iter().any(|s| s.allows_all_commands()) {
                Ok(())
            } else {
                Err(Denied::Command)
            };
        };
        // Redis reports the most telling denial of all selectors: a
        // channel over a key over a command, and between two of the same
        // kind the later argument (the selector that got further).
        fn rank(d: &Denied) -> (u8, usize) {
            match d {
                Denied::Command => (1, 0),
                Denied::Key(i) => (2, *i),
                Denied::Channel(i) => (4, *i),
            }
        }
        let mut relevant = Denied::Command;
        for s in &self.selectors {
            match s.check(m, id, args) {
                Ok(()) => return Ok(()),
                Err(d) => {
                    if rank(&d) > rank(&relevant) {
                        relevant = d;
                    }
                }
            }
        }
        Err(relevant)
    }

    /// True when a selector that allows `args` also reads every key
    /// (`allkeys`, `~*` or `%R~*`): what SORT's BY and GET options need,
    /// since the keys they read are not known in advance.
    pub fn reads_all_keys(&self, args: &[&[u8]]) -> bool {
        let m = meta();
        let Some(id) = m.resolve(args) else {
            return false;
        };
        self.selectors.iter().any(|s| {
            s.check(m, id, args).is_ok()
                && (s.all_keys
                    || s.patterns
                        .iter()
                        .any(|(flags, p)| flags & table::PERM_READ != 0 && p.as_slice() == b"*"))
        })
    }

    /// True when some selector lets this user use `channel` (or subscribe
    /// to the pattern `channel`).
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.selectors
            .iter()
            .any(|s| s.channel_allowed(channel, is_pattern))
    }

    /// True when every selector allows every channel.
    pub fn all_channels(&self) -> bool {
        self.selectors.iter().any(|s| s.all_channels)
    }
}

fn hex(bytes: &[u8]) -> String {
    crate::util::hex_lower(bytes)
}

fn parse_hex_hash(s: &[u8]) -> Option<[u8; 32]> {
    if s.len() != 64
        || !s
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
    {
        return None;
    }
    let text = std::str::from_utf8(s).ok()?;
    let mut out = [0u8; 32];
    for (i, slot) in out.iter_mut().enumerate() {
        *slot = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
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
    /// "toplevel", "multi" or "lua".
    pub context: &'static str,
    /// The denied object (command name, key, channel, "AUTH").
    pub object: String,
    /// The user name.
    pub username: String,
    /// When it was last seen, unix ms (age-seconds counts from it).
    pub created_ms: i64,
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
            let _ = default.apply(b"resetpass");
            let _ = default.apply(format!(">{pass}").as_bytes());
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
        let user = self.staged(name, rules)?;
        self.users.insert(name.to_string(), user);
        Ok(())
    }

    /// The user `name` would become after `rules`, without storing it.
    pub fn staged(&self, name: &str, rules: &[String]) -> Result<User, String> {
        let merged = merge_selector_args(rules).map_err(|i| {
            format!(
                "Unmatched parenthesis in acl selector starting at '{}'.",
                rules.get(i).map(String::as_str).unwrap_or("")
            )
        })?;
        let mut user = self
            .users
            .get(name)
            .cloned()
            .unwrap_or_else(|| User::new(name));
        for rule in &merged {
            user.apply(rule.as_bytes())
                .map_err(|why| format!("Error in ACL SETUSER modifier '{rule}': {}", why.text()))?;
        }
        Ok(user)
    }

    /// Authenticates; true on success.
    pub fn authenticate(&self, name: &str, password: &[u8]) -> bool {
        self.users
            .get(name)
            .is_some_and(|u| u.enabled && u.check_password(password))
    }

    /// Records a denial in the ACL LOG (context "toplevel").
    pub fn log_denial(
        &mut self,
        reason: &'static str,
        object: String,
        username: String,
        client_info: String,
        now_ms: i64,
    ) {
        self.log_denial_in(reason, "toplevel", object, username, client_info, now_ms)
    }

    /// Records a denial, merging with a matching one among the 10 most
    /// recent (Redis's addACLLogEntry).
    pub fn log_denial_in(
        &mut self,
        reason: &'static str,
        context: &'static str,
        object: String,
        username: String,
        client_info: String,
        now_ms: i64,
    ) {
        let found = self.log.iter().take(10).position(|e| {
            e.reason == reason
                && e.context == context
                && (e.created_ms - now_ms).abs() <= LOG_GROUPING_MAX_TIME_DELTA_MS
                && e.object == object
                && e.username == username
        });
        if let Some(i) = found {
            if let Some(mut e) = self.log.remove(i) {
                e.count += 1;
                e.created_ms = now_ms;
                e.client_info = client_info;
                self.log.push_front(e);
            }
            return;
        }
        self.log.push_front(LogEntry {
            count: 1,
            reason,
            context,
            object,
            username,
            created_ms: now_ms,
            client_info,
        });
        self.log.truncate(LOG_MAX_LEN.load(Ordering::Relaxed));
    }

    /// Parses aclfile text (one `user ...` line each); all or nothing.
    /// Errors are worded as Redis's ACLLoadFromFile, naming `filename`.
    pub fn load_text(&self, text: &str, filename: &str) -> Result<Acl, String> {
        let mut next = Acl {
            users: BTreeMap::new(),
            log: self.log.clone(),
        };
        let mut errors = String::new();
        for (i, line) in text.split('\n').enumerate() {
            let linenum = i + 1;
            let line = line.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split(' ').filter(|w| !w.is_empty()).collect();
            if words.first() != Some(&"user") || words.len() < 2 {
                errors.push_str(&format!(
                    "{filename}:{linenum} should start with user keyword followed by the username. "
                ));
                continue;
            }
            let name = words[1];
            if next.users.contains_key(name) {
                errors.push_str(&format!(
                    "WARNING: Duplicate user '{name}' found on line {linenum}. "
                ));
                continue;
            }
            let rules: Vec<String> = words[2..].iter().map(|w| w.to_string()).collect();
            let Ok(merged) = merge_selector_args(&rules) else {
                errors.push_str(&format!(
                    "{filename}:{linenum}: Unmatched parenthesis in selector definition."
                ));
                continue;
            };
            let mut user = User::new(name);
            let mut syntax_error = false;
            for rule in &merged {
                if let Err(e) = user.apply(rule.as_bytes()) {
                    if e == RuleError::UnknownCommand {
                        errors.push_str(&format!(
                            "{filename}:{linenum}: Error in applying operation '{rule}': {}. ",
                            e.text()
                        ));
                    } else if !syntax_error {
                        errors.push_str(&format!("{filename}:{linenum}: {}. ", e.text()));
                        syntax_error = true;
                    }
                }
            }
            next.users.insert(name.to_string(), user);
        }
        if !errors.is_empty() {
            errors.push_str(
                "WARNING: ACL errors detected, no change to the previously active ACL rules was performed",
            );
            return Err(errors);
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
    parse_hex_hash(s.as_bytes()).is_some()
}

#[cfg(test)]
mod tests {
    use super::sha256::sha256_hex;
    use super::*;

    fn rules(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn default_user_allows_everything() {
        let acl = Acl::new(None);
        let u = &acl.users["default"];
        assert!(u.enabled && u.nopass);
        assert_eq!(u.describe(), "user default on nopass ~* &* +@all");
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
        acl.setuser("alice", &rules(&["on", ">pw", "~cache:*", "-@all", "+get"]))
            .unwrap();
        let alice = &acl.users["alice"];
        assert!(acl.authenticate("alice", b"pw"));
        assert!(alice.check(&[b"get", b"cache:1"]).is_ok());
        assert_eq!(alice.check(&[b"get", b"other"]), Err(Denied::Key(1)));
        assert_eq!(
            alice.check(&[b"set", b"cache:1", b"v"]),
            Err(Denied::Command)
        );
        // AUTH and HELLO are never refused.
        assert!(alice.check(&[b"auth", b"x"]).is_ok());
        assert!(acl.setuser("alice", &rules(&["+nosuchcommand"])).is_err());
    }

    #[test]
    fn descriptions_match_redis() {
        let mut acl = Acl::new(None);
        acl.setuser("u", &rules(&["on", "nopass", "&foo", "+@all"]))
            .unwrap();
        assert_eq!(
            acl.users["u"].describe(),
            "user u on nopass resetchannels &foo +@all"
        );
        acl.setuser("v", &rules(&["-@all", "+@set", "+acl"]))
            .unwrap();
        assert_eq!(acl.users["v"].describe_commands(), "-@all +@set +acl");
        acl.setuser(
            "w",
            &rules(&["%R~foo", "%W~foo", "%RW~bar", "(~x -@all", "+get)"]),
        )
        .unwrap();
        assert_eq!(acl.users["w"].describe_keys(), "~foo ~bar");
        assert_eq!(
            acl.users["w"].describe(),
            "user w off ~foo ~bar resetchannels -@all (~x resetchannels -@all +get)"
        );
        let e = acl.setuser("w", &rules(&["(&* &x)"])).unwrap_err();
        assert!(e.contains("start with an empty list of channels"), "{e}");
    }
}
