//! Redis 7.0's command metadata as ACL sees it: categories, subcommands,
//! key specs and channel arguments.
//!
//! ACL rules speak about Redis's whole command table (`+config|get`,
//! `-@dangerous`, `%R~pattern`), so the rules must be judged against that
//! table, not against whatever subset this server implements. The table is
//! `commands.txt`, generated from Redis 7.0.15's `src/commands/*.json` by
//! `tools/gen_acl_commands.py`, one line per command or subcommand:
//!
//! ```text
//! fullname|arity|categories|command flags|key specs
//! get|2|string read fast|readonly fast|RO,ACCESS/i:1/r:0:1:0
//! config|get|-3|admin dangerous slow|admin noscript loading stale|
//! ```
//!
//! A key spec is `FLAGS/begin_search/find_keys`, begin `i:POS` (index) or
//! `k:KEYWORD:STARTFROM`, find `r:LASTKEY:STEP:LIMIT` (range) or
//! `n:KEYNUMIDX:FIRSTKEY:STEP` (keynum), `u` when the JSON has none. Key
//! extraction follows Redis's `getKeysUsingKeySpecs`, with Redis's own
//! hand-written extractors for the commands whose specs are incomplete or
//! whose flags depend on the arguments (SET ... GET, BITFIELD, SORT,
//! MIGRATE). Each key comes out with the permission it needs: read when
//! the spec says ACCESS, write when it says INSERT, DELETE or UPDATE.

use std::collections::HashMap;
use std::sync::OnceLock;

/// Every ACL category, in Redis's order (ACL CAT lists them this way).
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

/// A key needs read permission (`%R~`).
pub const PERM_READ: u8 = 1;
/// A key needs write permission (`%W~`).
pub const PERM_WRITE: u8 = 2;
/// Both.
pub const PERM_ALL: u8 = 3;

const RAW: &str = include_str!("commands.txt");

/// A key found in a command's arguments: its position, the permission it
/// needs ([`PERM_READ`] ...) and its key-spec flags ("RW,ACCESS,DELETE").
pub type KeyFound = (usize, u8, &'static str);

/// Where a key spec starts looking for keys (Redis's begin_search).
pub enum Begin {
    /// At this argument.
    Index(usize),
    /// After this keyword, searched from this argument (negative: from the
    /// end, backwards).
    Keyword(String, i64),
    /// Only the command's own extractor knows.
    Unknown,
}

/// How a key spec finds the keys from there (Redis's find_keys).
pub enum Find {
    /// A range: up to `last` (relative; negative counts from the end),
    /// every `step` arguments, `limit` dividing what is left.
    Range {
        /// Last key, relative to the first.
        last: i64,
        /// Step between keys.
        step: usize,
        /// With a negative `last`: use 1/limit of the remaining arguments.
        limit: i64,
    },
    /// A key count at `idx`, the first key `first` after it, every `step`.
    KeyNum {
        /// Where the count is, relative to the begin.
        idx: usize,
        /// Where the first key is, relative to the begin.
        first: usize,
        /// Step between keys.
        step: usize,
    },
    /// Only the command's own extractor knows.
    Unknown,
}

/// One key spec of a command (COMMAND INFO shows them).
pub struct KeySpec {
    /// The spec's flags as commands.txt writes them ("RW,ACCESS,DELETE").
    pub flags: &'static str,
    perm: u8,
    not_key: bool,
    incomplete: bool,
    /// Where the search starts.
    pub begin: Begin,
    /// How keys are found from there.
    pub find: Find,
}

/// One command or subcommand of Redis's table.
pub struct CmdMeta {
    /// `get`, `config|get`.
    pub fullname: String,
    /// Redis arity (ACL DRYRUN checks it).
    pub arity: i32,
    /// Bit j set = in category `CATEGORIES[j]`.
    pub categories: u32,
    /// `no_auth`: AUTH and HELLO, which ACL never blocks.
    pub no_auth: bool,
    /// `no_mandatory_keys`: EVAL and friends may name no key at all.
    pub no_mandatory_keys: bool,
    /// Redis's command flags (`write noscript allow_busy ...`).
    pub flags: String,
    /// Index of the container (CONFIG for CONFIG GET).
    pub parent: Option<usize>,
    /// Indexes of the subcommands, sorted by name.
    pub subcommands: Vec<usize>,
    specs: Vec<KeySpec>,
}

/// The whole table.
pub struct Meta {
    /// Commands and subcommands, sorted by full name; the index is the id.
    pub cmds: Vec<CmdMeta>,
    by_name: HashMap<String, usize>,
}

fn parse_spec(text: &'static str) -> Option<KeySpec> {
    let mut parts = text.split('/');
    let flags = parts.next()?;
    let begin = parts.next()?;
    let find = parts.next()?;
    let mut perm = 0;
    let (mut not_key, mut incomplete) = (false, false);
    for f in flags.split(',') {
        match f {
            "ACCESS" => perm |= PERM_READ,
            "INSERT" | "DELETE" | "UPDATE" => perm |= PERM_WRITE,
            "NOT_KEY" => not_key = true,
            "INCOMPLETE" => incomplete = true,
            _ => {}
        }
    }
    let b: Vec<&str> = begin.split(':').collect();
    let begin = match b.as_slice() {
        ["i", pos] => Begin::Index(pos.parse().ok()?),
        ["k", kw, from] => Begin::Keyword(kw.to_string(), from.parse().ok()?),
        _ => Begin::Unknown,
    };
    let f: Vec<&str> = find.split(':').collect();
    let find = match f.as_slice() {
        ["r", last, step, limit] => Find::Range {
            last: last.parse().ok()?,
            step: step.parse().ok()?,
            limit: limit.parse().ok()?,
        },
        ["n", idx, first, step] => Find::KeyNum {
            idx: idx.parse().ok()?,
            first: first.parse().ok()?,
            step: step.parse().ok()?,
        },
        _ => Find::Unknown,
    };
    Some(KeySpec {
        flags,
        perm,
        not_key,
        incomplete,
        begin,
        find,
    })
}

/// The table, parsed once.
pub fn meta() -> &'static Meta {
    static META: OnceLock<Meta> = OnceLock::new();
    META.get_or_init(|| {
        let mut cmds = Vec::new();
        for line in RAW.lines() {
            let mut f = line.split('|');
            let Some(first) = f.next() else { continue };
            let rest: Vec<&str> = f.collect();
            // Subcommand lines have one more `|` in the name.
            let (fullname, rest) = if rest.len() == 5 {
                (format!("{first}|{}", rest[0]), &rest[1..])
            } else {
                (first.to_string(), &rest[..])
            };
            let [arity, cats, flags, specs] = rest else {
                continue;
            };
            let mut categories = 0u32;
            for c in cats.split(' ') {
                if let Some(i) = CATEGORIES.iter().position(|k| *k == c) {
                    categories |= 1 << i;
                }
            }
            cmds.push(CmdMeta {
                fullname,
                arity: arity.parse().unwrap_or(-1),
                categories,
                no_auth: flags.split(' ').any(|x| x == "no_auth"),
                no_mandatory_keys: flags.split(' ').any(|x| x == "no_mandatory_keys"),
                flags: flags.to_string(),
                parent: None,
                subcommands: Vec::new(),
                specs: specs
                    .split(';')
                    .filter(|s| !s.is_empty())
                    .filter_map(parse_spec)
                    .collect(),
            });
        }
        cmds.sort_by(|a, b| a.fullname.cmp(&b.fullname));
        let by_name: HashMap<String, usize> = cmds
            .iter()
            .enumerate()
            .map(|(i, c)| (c.fullname.clone(), i))
            .collect();
        for i in 0..cmds.len() {
            if let Some((parent, _)) = cmds[i].fullname.split_once('|') {
                if let Some(&p) = by_name.get(parent) {
                    cmds[i].parent = Some(p);
                    cmds[p].subcommands.push(i);
                }
            }
        }
        Meta { cmds, by_name }
    })
}

impl Meta {
    /// The id of a command or `container|subcommand` by (lowercase) name.
    pub fn id(&self, fullname: &str) -> Option<usize> {
        self.by_name.get(fullname).copied()
    }

    /// The id of the command `args` runs: the subcommand for a container
    /// with a known subcommand, else the command itself.
    pub fn resolve(&self, args: &[&[u8]]) -> Option<usize> {
        let name = String::from_utf8_lossy(args.first()?).to_ascii_lowercase();
        let id = self.id(&name)?;
        if self.cmds[id].subcommands.is_empty() {
            return Some(id);
        }
        let Some(sub) = args.get(1) else {
            return Some(id);
        };
        let full = format!(
            "{name}|{}",
            String::from_utf8_lossy(sub).to_ascii_lowercase()
        );
        Some(self.id(&full).unwrap_or(id))
    }

    /// Category bit for a name, if it is one.
    pub fn category_bit(name: &str) -> Option<u32> {
        CATEGORIES
            .iter()
            .position(|c| c.eq_ignore_ascii_case(name))
            .map(|i| 1 << i)
    }

    /// The key arguments of `args` (run as command `id`) and the
    /// permission each needs, in Redis's order.
    pub fn keys(&self, id: usize, args: &[&[u8]]) -> Vec<(usize, u8)> {
        self.extract(id, args)
            .0
            .into_iter()
            .map(|(pos, perm, _)| (pos, perm))
            .collect()
    }

    /// True when Redis marks command `id` `movablekeys`: its keys are not
    /// all at fixed positions (a keyword or a key count finds them, or a
    /// hand-written extractor does), as `populateCommandMovableKeys` decides.
    pub fn movable_keys(&self, id: usize) -> bool {
        let c = &self.cmds[id];
        matches!(c.fullname.as_str(), "sort" | "sort_ro" | "migrate")
            || c.specs.iter().any(|s| {
                !matches!(s.begin, Begin::Index(_)) || !matches!(s.find, Find::Range { .. })
            })
    }

    /// The legacy (first key, last key, step) of command `id`, from its key
    /// specs as Redis's `populateCommandLegacyRangeSpec` derives it: the
    /// range covered by the index-and-range specs, (0, 0, 0) without one.
    pub fn legacy_range(&self, id: usize) -> (i64, i64, i64) {
        let mut range: Option<(i64, i64, i64)> = None;
        for spec in &self.cmds[id].specs {
            let (Begin::Index(first), Find::Range { last, step, .. }) = (&spec.begin, &spec.find)
            else {
                continue;
            };
            let first = *first as i64;
            let last = if *last < 0 { *last } else { first + last };
            range = Some(match range {
                None => (first, last, *step as i64),
                Some((f, l, s)) => (
                    f.min(first),
                    if l < 0 || last < 0 {
                        l.min(last)
                    } else {
                        l.max(last)
                    },
                    s.min(*step as i64),
                ),
            });
        }
        range.unwrap_or((0, 0, 0))
    }

    /// The key specs of command `id`, in Redis's order.
    pub fn specs(&self, id: usize) -> &[KeySpec] {
        &self.cmds[id].specs
    }

    /// True when command `id` has key arguments at all (a spec that is not
    /// `NOT_KEY`), Redis's `doesCommandHaveKeys`.
    pub fn has_keys(&self, id: usize) -> bool {
        self.cmds[id].specs.iter().any(|s| !s.not_key)
    }

    /// Like [`Meta::keys`], with each key's spec flags as commands.txt
    /// writes them ("RW,ACCESS,DELETE"): COMMAND GETKEYSANDFLAGS. The
    /// commands whose flags depend on the arguments get the flags Redis's
    /// own extractors give (SET ... GET reads, BITFIELD GET only reads).
    /// None when a spec does not fit the arguments (a key count past the
    /// end, or zero), where Redis's COMMAND GETKEYS finds no keys at all.
    pub fn keys_and_flags(&self, id: usize, args: &[&[u8]]) -> Option<Vec<KeyFound>> {
        let (keys, complete) = self.extract(id, args);
        complete.then_some(keys)
    }

    /// The keys the specs find, and false when a spec did not fit the
    /// arguments (the keys found until then are kept: ACL checks them and
    /// the command itself reports the syntax error).
    fn extract(&self, id: usize, args: &[&[u8]]) -> (Vec<KeyFound>, bool) {
        let c = &self.cmds[id];
        let eq = |i: usize, s: &str| {
            args.get(i)
                .is_some_and(|a| a.eq_ignore_ascii_case(s.as_bytes()))
        };
        match c.fullname.as_str() {
            "set" => {
                let get = (3..args.len()).any(|i| eq(i, "get"));
                let key = if get {
                    (1, PERM_ALL, "RW,ACCESS,UPDATE")
                } else {
                    (1, PERM_WRITE, "OW,UPDATE")
                };
                return (vec![key], true);
            }
            "bitfield" => {
                let perm = bitfield_perm(args);
                let flags = if perm == PERM_READ {
                    "RO,ACCESS"
                } else {
                    "RW,ACCESS,UPDATE"
                };
                return (vec![(1, perm, flags)], true);
            }
            "sort" | "sort_ro" => return (sort_keys(args), true),
            "migrate" => return (migrate_keys(args), true),
            _ => {}
        }
        let argc = args.len() as i64;
        let mut out = Vec::new();
        let mut complete = true;
        for spec in &c.specs {
            if spec.not_key {
                continue;
            }
            let first: i64 = match &spec.begin {
                Begin::Index(p) => *p as i64,
                Begin::Keyword(kw, from) => {
                    let (start, end) = if *from > 0 {
                        (*from, argc - 1)
                    } else {
                        (argc + from, 1)
                    };
                    let mut i = start;
                    let mut found = 0;
                    loop {
                        if i >= argc || i < 1 {
                            break;
                        }
                        if eq(i as usize, kw) {
                            found = i + 1;
                            break;
                        }
                        if i == end {
                            break;
                        }
                        i += if start <= end { 1 } else { -1 };
                    }
                    if found == 0 {
                        continue;
                    }
                    found
                }
                Begin::Unknown => return (out, false),
            };
            let (first, last, step) = match spec.find {
                Find::Range { last, step, limit } => {
                    let l = if last >= 0 {
                        first + last
                    } else if limit == 0 {
                        argc + last
                    } else {
                        first + ((argc - first) / limit + last)
                    };
                    (first, l, step.max(1) as i64)
                }
                Find::KeyNum {
                    idx,
                    first: fk,
                    step,
                } => {
                    let Some(n) = args
                        .get((first as usize) + idx)
                        .and_then(|a| crate::number::parse_i64(a))
                        .filter(|n| *n >= 0)
                    else {
                        return (out, false);
                    };
                    let f = first + fk as i64;
                    (f, f + n - 1, step.max(1) as i64)
                }
                Find::Unknown => return (out, false),
            };
            if last >= argc || last < first || first >= argc {
                // Out of bounds: a syntax error the command will report.
                if last < first {
                    complete = false;
                    continue;
                }
                return (out, false);
            }
            let mut i = first;
            while i <= last {
                out.push((i as usize, spec.perm, spec.flags));
                i += step;
            }
            if spec.incomplete {
                break;
            }
        }
        (out, complete)
    }

    /// Channel arguments checked by ACL: (position, is_pattern).
    /// UNSUBSCRIBE and friends are never checked.
    pub fn channels(&self, id: usize, args: &[&[u8]]) -> Vec<(usize, bool)> {
        match self.cmds[id].fullname.as_str() {
            "subscribe" | "ssubscribe" => (1..args.len()).map(|i| (i, false)).collect(),
            "psubscribe" => (1..args.len()).map(|i| (i, true)).collect(),
            "publish" | "spublish" if args.len() > 1 => vec![(1, false)],
            _ => Vec::new(),
        }
    }
}

fn bitfield_perm(args: &[&[u8]]) -> u8 {
    let mut i = 2;
    while i < args.len() {
        let rem = args.len() - i - 1;
        let a = args[i];
        if a.eq_ignore_ascii_case(b"get") && rem >= 2 {
            i += 3;
        } else if a.eq_ignore_ascii_case(b"overflow") && rem >= 1 {
            i += 2;
        } else {
            // A write (or a syntax error, assumed to be one) reads too.
            return PERM_ALL;
        }
    }
    PERM_READ
}

fn sort_keys(args: &[&[u8]]) -> Vec<KeyFound> {
    let mut out = vec![(1, PERM_READ, "RO,ACCESS")];
    let mut store = None;
    let mut i = 2;
    while i < args.len() {
        let a = args[i];
        if a.eq_ignore_ascii_case(b"limit") {
            i += 2;
        } else if a.eq_ignore_ascii_case(b"get") || a.eq_ignore_ascii_case(b"by") {
            i += 1;
        } else if a.eq_ignore_ascii_case(b"store") && i + 1 < args.len() {
            store = Some(i + 1);
        }
        i += 1;
    }
    if let Some(s) = store {
        out.push((s, PERM_WRITE, "OW,UPDATE"));
    }
    out
}

fn migrate_keys(args: &[&[u8]]) -> Vec<KeyFound> {
    let (mut first, mut num) = (3usize, 1usize);
    if args.len() > 6 {
        let mut i = 6;
        while i < args.len() {
            let a = args[i];
            if a.eq_ignore_ascii_case(b"keys") {
                if args.get(3).is_some_and(|k| !k.is_empty()) {
                    num = 0;
                } else {
                    first = i + 1;
                    num = args.len() - first;
                }
                break;
            }
            if a.eq_ignore_ascii_case(b"auth") {
                i += 1;
            } else if a.eq_ignore_ascii_case(b"auth2") {
                i += 2;
            }
            i += 1;
        }
    }
    (first..first + num)
        .filter(|i| *i < args.len())
        .map(|i| (i, PERM_ALL, "RW,ACCESS,DELETE"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(args: &[&[u8]]) -> Vec<(usize, u8)> {
        let m = meta();
        m.keys(m.resolve(args).unwrap(), args)
    }

    #[test]
    fn table_loads_with_subcommands() {
        let m = meta();
        assert!(m.cmds.len() > 300);
        let cfg = m.id("config").unwrap();
        assert!(m.cmds[cfg]
            .subcommands
            .contains(&m.id("config|get").unwrap()));
        assert!(m.cmds[m.id("auth").unwrap()].no_auth);
        assert_eq!(m.resolve(&[b"CONFIG", b"Get", b"x"]), m.id("config|get"));
    }

    #[test]
    fn key_specs_give_positions_and_permissions() {
        assert_eq!(keys(&[b"get", b"k"]), vec![(1, PERM_READ)]);
        assert_eq!(keys(&[b"set", b"k", b"v"]), vec![(1, PERM_WRITE)]);
        assert_eq!(keys(&[b"set", b"k", b"v", b"GET"]), vec![(1, PERM_ALL)]);
        assert_eq!(keys(&[b"hexists", b"k", b"f"]), vec![(1, 0)]);
        assert_eq!(
            keys(&[b"sintercard", b"2", b"a", b"b"]),
            vec![(2, PERM_READ), (3, PERM_READ)]
        );
        assert_eq!(
            keys(&[b"sort", b"a", b"STORE", b"b"]),
            vec![(1, PERM_READ), (3, PERM_WRITE)]
        );
        assert_eq!(keys(&[b"mset", b"a", b"1", b"b", b"2"]).len(), 2);
        // A bad numkeys yields no keys (the command reports the error).
        assert!(keys(&[b"sintercard", b"x", b"a"]).is_empty());
        assert!(keys(&[b"eval", b"", b"-1", b"a"]).is_empty());
    }
}
