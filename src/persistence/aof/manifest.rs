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
    /// History files (left over from a rewrite, to be deleted).
    pub history: Vec<AofFile>,
}

impl Manifest {
    /// Parses manifest text; the error says which line is wrong.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let mut m = Manifest::default();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            if !words.len().is_multiple_of(2) {
                return Err(format!("Invalid AOF manifest file format (line {})", n + 1));
            }
            let (mut name, mut seq, mut kind) = (None, None, None);
            for pair in words.chunks(2) {
                match pair[0] {
                    "file" => name = Some(pair[1].trim_matches('"').to_string()),
                    "seq" => seq = pair[1].parse::<u64>().ok(),
                    "type" => kind = Some(pair[1]),
                    _ => {} // unknown keys are skipped, as Redis does
                }
            }
            let (Some(name), Some(seq), Some(kind)) = (name, seq, kind) else {
                return Err(format!(
                    "Invalid AOF manifest file format (line {}): mismatched or missing fields",
                    n + 1
                ));
            };
            let file = AofFile { name, seq };
            match kind {
                "b" => {
                    if m.base.is_some() {
                        return Err("Found duplicate base file information".into());
                    }
                    m.base = Some(file);
                }
                "i" => m.incrs.push(file),
                "h" => m.history.push(file),
                _ => {
                    return Err(format!(
                        "Unknown AOF file type '{kind}' in the manifest (line {})",
                        n + 1
                    ))
                }
            }
        }
        Ok(m)
    }

    /// The manifest's text, as Redis writes it.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let mut line = |f: &AofFile, kind: char| {
            out.push_str(&format!("file {} seq {} type {kind}\n", f.name, f.seq));
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
        self.base.as_ref().map_or(0, |b| b.seq)
    }

    /// Highest incremental sequence number used so far.
    pub fn incr_seq(&self) -> u64 {
        self.incrs.iter().map(|f| f.seq).max().unwrap_or(0)
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
    }

    #[test]
    fn rejects_bad_lines() {
        assert!(Manifest::parse("file a seq 1\n").is_err());
        assert!(Manifest::parse("file a seq 1 type x\n").is_err());
        assert!(Manifest::parse("file a seq 1 type b\nfile b seq 2 type b\n").is_err());
    }
}
