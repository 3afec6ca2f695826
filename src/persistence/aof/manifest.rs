//! The AOF manifest: which files make up the append-only file, in order.
//!
//! Redis 7.0 keeps the AOF as several files in `appenddirname`
//! (`appendonlydir` by default), named after `appendfilename`:
//!
//! ```text
//! appendonlydir/
//!   appendonly.aof.2.base.rdb     the data at the last rewrite (RDB, or
//!                                 AOF commands with aof-use-rdb-preamble no)
//!   appendonly.aof.2.incr.aof     every write since, as RESP commands
//!   appendonly.aof.manifest       the list below
//! ```
//!
//! The manifest is text, one file per line, `key value` pairs:
//!
//! ```text
//! file appendonly.aof.2.base.rdb seq 2 type b
//! file appendonly.aof.2.incr.aof seq 2 type i
//! ```
//!
//! `type b` is the base (at most one, always first), `i` an incremental
//! file (loaded in manifest order), `h` a history file waiting to be
//! deleted (not loaded). A manifest is replaced atomically: written to a
//! temporary file, fsynced, renamed over the old one.
//!
//! Redis mirrors: `aofInfo`, `aofManifest`, `aofLoadManifestFromFile`,
//! `getAofManifestAsString` in `src/aof.c`.

use std::io::Write;
use std::path::Path;

/// One file named in the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AofFile {
    /// File name, relative to the AOF directory.
    pub name: String,
    /// Sequence number (bases and incremental files count separately).
    pub seq: u64,
}

/// The parsed manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The base file, if any.
    pub base: Option<AofFile>,
    /// Incremental files, oldest first.
    pub incrs: Vec<AofFile>,
    /// History files (left over from a rewrite, to be deleted), newest
    /// first.
    pub history: Vec<AofFile>,
    /// Last base sequence number handed out (Redis's `curr_base_file_seq`).
    pub curr_base_seq: u64,
    /// Last incremental sequence number handed out (`curr_incr_file_seq`):
    /// a counter, so an incremental file moved to history keeps its number
    /// used until the manifest is read from disk again.
    pub curr_incr_seq: u64,
}

impl Manifest {
    /// Parses manifest text with Redis's rules and error texts (the loader
    /// logs them and stops the start).
    pub fn parse(text: &str) -> Result<Manifest, String> {
        const INVALID: &str = "Invalid AOF manifest file format";
        let mut m = Manifest::default();
        let mut max_incr_seq = 0;
        for raw in text.split_inclusive('\n') {
            if raw.starts_with('#') {
                continue;
            }
            if !raw.ends_with('\n') || raw.len() > MANIFEST_MAX_LINE {
                return Err("The AOF manifest file contains too long line".into());
            }
            let line = raw.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
            if line.is_empty() {
                return Err(INVALID.into());
            }
            let words = split_args(line).ok_or(INVALID)?;
            if words.len() < 6 || !words.len().is_multiple_of(2) {
                return Err(INVALID.into());
            }
            let (mut name, mut seq, mut kind) = (None, 0u64, None);
            for pair in words.chunks(2) {
                match pair[0].to_ascii_lowercase().as_str() {
                    "file" => {
                        if pair[1].contains('/') {
                            return Err("File can't be a path, just a filename".into());
                        }
                        name = Some(pair[1].clone());
                    }
                    "seq" => seq = pair[1].parse::<u64>().unwrap_or(0),
                    "type" => kind = pair[1].chars().next(),
                    _ => {} // unknown keys are skipped, for forward compatibility
                }
            }
            let (Some(name), true, Some(kind)) = (name, seq > 0, kind) else {
                return Err(INVALID.into());
            };
            let file = AofFile { name, seq };
            match kind {
                'b' => {
                    if m.base.is_some() {
                        return Err("Found duplicate base file information".into());
                    }
                    m.curr_base_seq = seq;
                    m.base = Some(file);
                }
                'h' => m.history.push(file),
                'i' => {
                    if seq <= max_incr_seq {
                        return Err("Found a non-monotonic sequence number".into());
                    }
                    max_incr_seq = seq;
                    m.curr_incr_seq = seq;
                    m.incrs.push(file);
                }
                _ => return Err("Unknown AOF file type".into()),
            }
        }
        if m.base.is_none() && m.incrs.is_empty() {
            return Err("Found an empty AOF manifest".into());
        }
        Ok(m)
    }

    /// The manifest's text, as Redis writes it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut line = |f: &AofFile, kind: char| {
            out.push_str(&format!(
                "file {} seq {} type {kind}\n",
                repr(&f.name),
                f.seq
            ));
        };
        if let Some(b) = &self.base {
            line(b, 'b');
        }
        for h in &self.history {
            line(h, 'h');
        }
        for i in &self.incrs {
            line(i, 'i');
        }
        out
    }

    /// Highest base sequence number used so far.
    pub fn base_seq(&self) -> u64 {
        self.curr_base_seq
    }

    /// Highest incremental sequence number used so far.
    pub fn incr_seq(&self) -> u64 {
        self.curr_incr_seq
    }

    /// Names a new base file: the current base becomes history (newest
    /// first), the new one gets the next sequence number (Redis's
    /// `getNewBaseFileNameAndMarkPreAsHistory`).
    pub fn new_base(&mut self, name_for: impl Fn(u64) -> String) -> AofFile {
        if let Some(old) = self.base.take() {
            self.history.insert(0, old);
        }
        self.curr_base_seq += 1;
        let f = AofFile {
            name: name_for(self.curr_base_seq),
            seq: self.curr_base_seq,
        };
        self.base = Some(f.clone());
        f
    }

    /// Names the next incremental file and appends it to the list.
    pub fn new_incr(&mut self, name_for: impl Fn(u64) -> String) -> AofFile {
        self.curr_incr_seq += 1;
        let f = AofFile {
            name: name_for(self.curr_incr_seq),
            seq: self.curr_incr_seq,
        };
        self.incrs.push(f.clone());
        f
    }

    /// After a successful rewrite the incremental files it covers become
    /// history; with `keep_last` (the AOF is on) the last one, which is
    /// being written, stays (Redis's `markRewrittenIncrAofAsHistory`).
    pub fn mark_rewritten_incrs_as_history(&mut self, keep_last: bool) {
        let keep = if keep_last { self.incrs.pop() } else { None };
        // Walked from the newest, each put at the head: oldest ends first.
        while let Some(f) = self.incrs.pop() {
            self.history.insert(0, f);
        }
        self.incrs.extend(keep);
    }

    /// Writes the manifest atomically to `dir/<name>`: temp file, fsync,
    /// rename, fsync of the directory.
    pub fn save(&self, dir: &Path, name: &str) -> std::io::Result<()> {
        let tmp = dir.join(format!("temp-{name}"));
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(self.render().as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, dir.join(name))?;
        sync_dir(dir);
        Ok(())
    }
}

/// Longest manifest line Redis accepts (MANIFEST_MAX_LINE).
pub const MANIFEST_MAX_LINE: usize = 1024;

/// A file name as the manifest writes it: quoted with escapes when it has
/// spaces, quotes or unprintable bytes (Redis's `sdscatrepr`).
fn repr(name: &str) -> String {
    let plain = name
        .bytes()
        .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\\' && b != b'\'');
    if plain {
        return name.to_string();
    }
    let mut out = String::from("\"");
    for b in name.bytes() {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b if b.is_ascii_graphic() || b == b' ' => out.push(b as char),
            b => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// Splits a line into words, honouring "double quotes" with escapes and
/// 'single quotes' (Redis's `sdssplitargs`); None when a quote is unclosed.
fn split_args(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            return Some(words);
        };
        let mut word = String::new();
        if first == '"' || first == '\'' {
            chars.next();
            loop {
                let c = chars.next()?;
                if c == first {
                    break;
                }
                if c == '\\' && first == '"' {
                    match chars.next()? {
                        'n' => word.push('\n'),
                        'r' => word.push('\r'),
                        't' => word.push('\t'),
                        'x' => {
                            let hex: String = [chars.next()?, chars.next()?].iter().collect();
                            word.push(u8::from_str_radix(&hex, 16).ok()? as char);
                        }
                        other => word.push(other),
                    }
                } else {
                    word.push(c);
                }
            }
            if chars.peek().is_some_and(|c| !c.is_whitespace()) {
                return None;
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                word.push(c);
                chars.next();
            }
        }
        words.push(word);
    }
}

/// fsyncs a directory so a rename in it is durable (best effort).
pub fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders_redis_manifest() {
        let text = "file appendonly.aof.2.base.rdb seq 2 type b\nfile appendonly.aof.2.incr.aof seq 2 type i\n";
        let m = Manifest::parse(text).expect("valid");
        assert_eq!(m.base.as_ref().map(|b| b.seq), Some(2));
        assert_eq!(m.incrs.len(), 1);
        assert_eq!(m.render(), text);
        let spaced = "file \"a b.aof.1.incr.aof\" seq 1 type i\n";
        let m = Manifest::parse(spaced).expect("quoted");
        assert_eq!(m.incrs[0].name, "a b.aof.1.incr.aof");
        assert_eq!(m.render(), spaced);
    }

    #[test]
    fn rejects_bad_lines() {
        assert!(Manifest::parse("file a seq 1\n").is_err());
        assert!(Manifest::parse("file a seq 1 type i\n\nfile b seq 2 type i\n").is_err());
        assert!(Manifest::parse("file a seq 2 type i\nfile b seq 1 type i\n").is_err());
        assert!(Manifest::parse("").is_err());
        assert!(Manifest::parse("file a seq 1 type x\n").is_err());
        assert!(Manifest::parse("file a seq 1 type b\nfile b seq 2 type b\n").is_err());
    }
}
