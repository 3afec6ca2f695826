//! An ACL selector: which commands, keys and channels one set of rules
//! allows (Redis 7.0's `aclSelector`).
//!
//! A user has a root selector (the rules written outside parentheses) and
//! any number of extra selectors (`(~temp:* +get)`); a command is allowed
//! when one selector allows all of it: the command, every key with the
//! permission it needs, every channel.
//!
//! Commands are a bitmap over Redis's command table ([`super::table`]),
//! subcommands included, plus one extra bit that only `+@all` sets: it
//! says "commands added in the future too", and decides whether the rules
//! are described starting from `+@all` or from `-@all`. The description is
//! recomputed from the bitmap the way Redis does it (best-fitting
//! categories first, then single commands), so ACL LIST shows what Redis
//! shows for the same rules.

use super::table::{meta, Meta, CATEGORIES, PERM_ALL, PERM_READ, PERM_WRITE};
use crate::store::glob::glob_match;

/// Why a rule was rejected (Redis's errno values in ACLSetUser).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    /// ENOENT
    UnknownCommand,
    /// EINVAL
    Syntax,
    /// EEXIST
    KeyAfterAll,
    /// EISDIR
    ChannelAfterAll,
    /// ENODEV
    NoSuchPassword,
    /// EBADMSG
    BadHash,
    /// ECHILD
    FirstArgOfSubcommand,
}

impl RuleError {
    /// Redis's text (ACLSetUserStringError).
    pub fn text(self) -> &'static str {
        match self {
            RuleError::UnknownCommand => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeyAfterAll => "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
            RuleError::ChannelAfterAll => "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels",
            RuleError::NoSuchPassword => "The password you are trying to remove from the user does not exist",
            RuleError::BadHash => "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
            RuleError::FirstArgOfSubcommand => "Allowing first-arg of a subcommand is not supported",
        }
    }
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// The command (or subcommand) is not allowed.
    Command,
    /// The key at this argument position is not allowed.
    Key(usize),
    /// The channel at this argument position is not allowed.
    Channel(usize),
}

/// One selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// One bit per command id, plus the "future commands" bit at the end.
    allowed: Vec<bool>,
    /// `+@all` was the last word on commands: skip the bitmap.
    all_commands: bool,
    /// `+select|0`: first arguments allowed for an otherwise denied command.
    firstargs: Vec<(usize, Vec<String>)>,
    /// Key patterns with their PERM_* flags.
    pub patterns: Vec<(u8, Vec<u8>)>,
    /// `allkeys` / `~*`.
    pub all_keys: bool,
    /// Channel patterns.
    pub channels: Vec<Vec<u8>>,
    /// `allchannels` / `&*`.
    pub all_channels: bool,
}

fn has_spaces(s: &[u8]) -> bool {
    s.iter().any(|&b| b.is_ascii_whitespace() || b == 0)
}

impl Selector {
    /// An empty selector; `all_channels` from acl-pubsub-default.
    pub fn new(all_channels: bool) -> Self {
        Selector {
            allowed: vec![false; meta().cmds.len() + 1],
            all_commands: false,
            firstargs: Vec::new(),
            patterns: Vec::new(),
            all_keys: false,
            channels: Vec::new(),
            all_channels,
        }
    }

    /// True after `+@all` with nothing taken away since.
    pub fn allows_all_commands(&self) -> bool {
        self.all_commands
    }

    fn future_bit(&self) -> bool {
        self.allowed.last().copied().unwrap_or(false)
    }

    fn set_bit(&mut self, id: usize, value: bool) {
        if let Some(b) = self.allowed.get_mut(id) {
            *b = value;
        }
        if !value {
            self.all_commands = false;
        }
    }

    fn change_perm(&mut self, m: &Meta, id: usize, allow: bool) {
        self.set_bit(id, allow);
        self.firstargs.retain(|(i, _)| *i != id);
        for &sub in &m.cmds[id].subcommands {
            self.set_bit(sub, allow);
        }
    }

    fn set_category(&mut self, m: &Meta, bit: u32, allow: bool) {
        for id in 0..m.cmds.len() {
            if m.cmds[id].categories & bit != 0 {
                self.change_perm(m, id, allow);
            }
        }
    }

    fn count_category(&self, m: &Meta, bit: u32) -> (usize, usize) {
        let (mut on, mut off) = (0, 0);
        for (id, c) in m.cmds.iter().enumerate() {
            if c.categories & bit != 0 {
                if self.allowed[id] {
                    on += 1;
                } else {
                    off += 1;
                }
            }
        }
        (on, off)
    }

    /// Applies one selector rule (ACLSetSelector).
    pub fn apply(&mut self, op: &[u8]) -> Result<(), RuleError> {
        let m = meta();
        let lower = op.to_ascii_lowercase();
        match lower.as_slice() {
            b"allkeys" | b"~*" => {
                self.all_keys = true;
                self.patterns.clear();
            }
            b"resetkeys" => {
                self.all_keys = false;
                self.patterns.clear();
            }
            b"allchannels" | b"&*" => {
                self.all_channels = true;
                self.channels.clear();
            }
            b"resetchannels" => {
                self.all_channels = false;
                self.channels.clear();
            }
            b"allcommands" | b"+@all" => {
                self.allowed.iter_mut().for_each(|b| *b = true);
                self.all_commands = true;
                self.firstargs.clear();
            }
            b"nocommands" | b"-@all" => {
                self.allowed.iter_mut().for_each(|b| *b = false);
                self.all_commands = false;
                self.firstargs.clear();
            }
            _ => return self.apply_prefixed(m, op, &lower),
        }
        Ok(())
    }

    fn apply_prefixed(&mut self, m: &Meta, op: &[u8], lower: &[u8]) -> Result<(), RuleError> {
        match op.first() {
            Some(b'~') | Some(b'%') => {
                if self.all_keys {
                    return Err(RuleError::KeyAfterAll);
                }
                let (flags, pattern) = if op[0] == b'%' {
                    let mut flags = 0u8;
                    let mut offset = 1;
                    loop {
                        match op.get(offset).map(|b| b.to_ascii_uppercase()) {
                            Some(b'R') if flags & PERM_READ == 0 => flags |= PERM_READ,
                            Some(b'W') if flags & PERM_WRITE == 0 => flags |= PERM_WRITE,
                            Some(b'~') => {
                                offset += 1;
                                break;
                            }
                            None => break,
                            _ => return Err(RuleError::Syntax),
                        }
                        offset += 1;
                    }
                    (flags, &op[offset.min(op.len())..])
                } else {
                    (PERM_ALL, &op[1..])
                };
                if has_spaces(pattern) {
                    return Err(RuleError::Syntax);
                }
                match self.patterns.iter_mut().find(|(_, p)| p == pattern) {
                    Some((f, _)) => *f |= flags,
                    None => self.patterns.push((flags, pattern.to_vec())),
                }
                self.all_keys = false;
            }
            Some(b'&') => {
                if self.all_channels {
                    return Err(RuleError::ChannelAfterAll);
                }
                let pattern = &op[1..];
                if has_spaces(pattern) {
                    return Err(RuleError::Syntax);
                }
                if !self.channels.iter().any(|c| c == pattern) {
                    self.channels.push(pattern.to_vec());
                }
            }
            Some(b'+') | Some(b'-') if lower.get(1) == Some(&b'@') => {
                let name = String::from_utf8_lossy(&lower[2..]);
                let bit = Meta::category_bit(&name).ok_or(RuleError::UnknownCommand)?;
                self.set_category(m, bit, op[0] == b'+');
            }
            Some(b'+') => {
                let body = String::from_utf8_lossy(&lower[1..]).into_owned();
                match body.rsplit_once('|') {
                    None => {
                        let id = m.id(&body).ok_or(RuleError::UnknownCommand)?;
                        self.change_perm(m, id, true);
                    }
                    Some((cmd, sub)) => {
                        let id = m.id(cmd).ok_or(RuleError::UnknownCommand)?;
                        if m.cmds[id].parent.is_some() {
                            return Err(RuleError::FirstArgOfSubcommand);
                        }
                        if sub.is_empty() {
                            return Err(RuleError::Syntax);
                        }
                        if !m.cmds[id].subcommands.is_empty() {
                            let sid = m.id(&body).ok_or(RuleError::UnknownCommand)?;
                            self.change_perm(m, sid, true);
                        } else {
                            match self.firstargs.iter_mut().find(|(i, _)| *i == id) {
                                Some((_, list)) => {
                                    if !list.iter().any(|s| s.eq_ignore_ascii_case(sub)) {
                                        list.push(sub.to_string());
                                    }
                                }
                                None => self.firstargs.push((id, vec![sub.to_string()])),
                            }
                        }
                    }
                }
            }
            Some(b'-') => {
                let body = String::from_utf8_lossy(&lower[1..]).into_owned();
                let id = m.id(&body).ok_or(RuleError::UnknownCommand)?;
                self.change_perm(m, id, false);
            }
            _ => return Err(RuleError::Syntax),
        }
        Ok(())
    }

    /// Checks the command `id` with `args` against this selector.
    pub fn check(&self, m: &Meta, id: usize, args: &[&[u8]]) -> Result<(), Denied> {
        let c = &m.cmds[id];
        if !self.all_commands && !c.no_auth && !self.allowed[id] {
            let idx = if c.parent.is_some() { 2 } else { 1 };
            let ok = args.get(idx).is_some_and(|a| {
                self.firstargs
                    .iter()
                    .find(|(i, _)| *i == id)
                    .is_some_and(|(_, l)| l.iter().any(|s| s.as_bytes().eq_ignore_ascii_case(a)))
            });
            if !ok {
                return Err(Denied::Command);
            }
        }
        if !self.all_keys {
            for (pos, need) in m.keys(id, args) {
                let Some(key) = args.get(pos) else { continue };
                if !self.key_allowed(key, need) {
                    return Err(Denied::Key(pos));
                }
            }
        }
        if !self.all_channels {
            for (pos, is_pattern) in m.channels(id, args) {
                let Some(ch) = args.get(pos) else { continue };
                if !self.channel_allowed(ch, is_pattern) {
                    return Err(Denied::Channel(pos));
                }
            }
        }
        Ok(())
    }

    /// True when `key` matches a pattern granting at least `need`.
    pub fn key_allowed(&self, key: &[u8], need: u8) -> bool {
        self.all_keys
            || self
                .patterns
                .iter()
                .any(|(f, p)| f & need == need && glob_match(p, key, false))
    }

    /// Channels match patterns; a subscribed pattern must equal one literally.
    pub fn channel_allowed(&self, channel: &[u8], is_pattern: bool) -> bool {
        self.all_channels
            || self.channels.iter().any(|p| {
                if is_pattern {
                    p == channel
                } else {
                    glob_match(p, channel, false)
                }
            })
    }

    /// The command rules as ACL GETUSER / LIST show them
    /// (ACLDescribeSelectorCommandRules).
    pub fn describe_commands(&self) -> String {
        let m = meta();
        let additive = !self.future_bit();
        let mut rules = String::new();
        let mut fake = Selector::new(false);
        if additive {
            rules.push_str("-@all ");
            let _ = fake.apply(b"-@all");
        } else {
            rules.push_str("+@all ");
            let _ = fake.apply(b"+@all");
        }
        let mut temp = self.clone();
        let mut applied = [false; 21];
        loop {
            let mut best = None;
            let (mut mindiff, mut maxsame) = (usize::MAX, 0);
            for (j, done) in applied.iter().enumerate() {
                if *done {
                    continue;
                }
                let (on, off) = temp.count_category(m, 1 << j);
                let (diff, same) = if additive { (off, on) } else { (on, off) };
                if same > diff && (diff < mindiff || (diff == mindiff && same > maxsame)) {
                    best = Some(j);
                    mindiff = diff;
                    maxsame = same;
                }
            }
            let Some(j) = best else { break };
            let (sign, inv) = if additive { ('+', '-') } else { ('-', '+') };
            let name = CATEGORIES[j];
            fake.set_category(m, 1 << j, sign == '+');
            temp.set_category(m, 1 << j, inv == '+');
            rules.push_str(&format!("{sign}@{name} "));
            applied[j] = true;
        }
        // Single commands and first-args, containers before their subcommands.
        for id in 0..m.cmds.len() {
            if m.cmds[id].parent.is_some() {
                continue;
            }
            self.describe_single(m, &mut fake, &mut rules, id);
            for &sub in &m.cmds[id].subcommands {
                self.describe_single(m, &mut fake, &mut rules, sub);
            }
            if !self.allowed[id] {
                if let Some((_, list)) = self.firstargs.iter().find(|(i, _)| *i == id) {
                    for a in list {
                        rules.push_str(&format!("+{}|{a} ", m.cmds[id].fullname));
                    }
                }
            }
        }
        rules.pop();
        rules
    }

    fn describe_single(&self, m: &Meta, fake: &mut Selector, rules: &mut String, id: usize) {
        let user = self.allowed[id];
        if user != fake.allowed[id] {
            rules.push(if user { '+' } else { '-' });
            rules.push_str(&m.cmds[id].fullname);
            rules.push(' ');
            fake.change_perm(m, id, user);
        }
    }

    /// The key patterns, space separated (`~*` for allkeys).
    pub fn describe_keys(&self) -> String {
        if self.all_keys {
            return "~*".into();
        }
        self.patterns
            .iter()
            .map(|(f, p)| {
                let prefix = match *f {
                    PERM_ALL => "~",
                    PERM_READ => "%R~",
                    PERM_WRITE => "%W~",
                    _ => "%~",
                };
                format!("{prefix}{}", String::from_utf8_lossy(p))
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The channel patterns, space separated (`&*` for allchannels).
    pub fn describe_channels(&self) -> String {
        if self.all_channels {
            return "&*".into();
        }
        self.channels
            .iter()
            .map(|c| format!("&{}", String::from_utf8_lossy(c)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The whole selector as rules (ACLDescribeSelector).
    pub fn describe(&self) -> String {
        let mut out = String::new();
        let keys = self.describe_keys();
        if !keys.is_empty() {
            out.push_str(&keys);
            out.push(' ');
        }
        if self.all_channels {
            out.push_str("&* ");
        } else {
            out.push_str("resetchannels ");
            for c in &self.channels {
                out.push_str(&format!("&{} ", String::from_utf8_lossy(c)));
            }
        }
        out.push_str(&self.describe_commands());
        out
    }
}
