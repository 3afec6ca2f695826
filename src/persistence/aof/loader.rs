//! Loading the AOF at start-up: replay every file the manifest names.
//!
//! ```text
//! appendonlydir/appendonly.aof.manifest exists?
//!   yes: base file (RDB if it starts with "REDIS", else commands),
//!        then each incremental file, in manifest order
//!   no:  a legacy single ./appendonly.aof (maybe with an RDB preamble),
//!        as Redis 7.0 finds it after an upgrade from 6.x
//!   neither: nothing to load
//! ```
//!
//! Commands are replayed through `commands::execute` with an internal
//! client, exactly as if a client had sent them (the AOF is not fed while
//! loading). RDB keys become the commands that rebuild them (SET, RPUSH,
//! SADD, HSET, ZADD, PEXPIREAT).
//!
//! A file may end in the middle of a command: the last thing Redis (or we)
//! did before a crash was a partial write. In the last file, with
//! aof-load-truncated yes, that tail (or an unfinished MULTI block) is cut
//! off the file with a warning and the start goes on. Anything else that is
//! not a well-formed command is corruption: the start stops with the file
//! name, the byte offset and a pointer to redis-check-aof.
//!
//! Nothing expires while loading (Redis's `keyIsExpired` answers no while
//! `server.loading`): `RPUSH l a; PEXPIREAT l 1000; RPUSH l b` must leave a
//! list with two items and a TTL in the past, which then expires, not a
//! fresh list `b` without TTL. So an expiry time already past is replayed
//! shifted by [`LOADING_EXPIRED_OFFSET_MS`] (far in the future, order
//! kept) and shifted back once every file is loaded.
//!
//! Redis mirrors: `loadAppendOnlyFiles`, `loadSingleAppendOnlyFile`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use super::base::entry_commands;
use super::manifest::Manifest;
use crate::client::ClientState;
use crate::commands::{self, Ctx};
use crate::persistence::rdb::RdbReader;
use crate::resp::ReplyBuf;
use crate::server::Server;
use crate::util::now_ms;

/// What the load found on disk, for opening the AOF afterwards.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The manifest read from the AOF directory, if there was one.
    pub manifest: Option<Manifest>,
    /// A legacy single file was loaded (to be moved into the directory).
    pub legacy: bool,
    /// Bytes of the base file.
    pub base_size: u64,
    /// Bytes of all the files loaded.
    pub total_size: u64,
}

/// The paths and settings loading needs.
pub struct Layout {
    /// appenddirname.
    pub dir: PathBuf,
    /// appendfilename.
    pub filename: String,
}

impl Layout {
    /// From the server's configuration.
    pub fn from_server(server: &Server) -> Layout {
        let c = server.config();
        Layout {
            dir: PathBuf::from(c.get("appenddirname").unwrap_or("appendonlydir")),
            filename: c
                .get("appendfilename")
                .unwrap_or("appendonly.aof")
                .to_string(),
        }
    }

    /// The manifest's path.
    pub fn manifest_path(&self) -> PathBuf {
        self.dir.join(format!("{}.manifest", self.filename))
    }

    /// Reads the manifest if it exists.
    pub fn read_manifest(&self) -> Result<Option<Manifest>, String> {
        let path = self.manifest_path();
        match std::fs::read_to_string(&path) {
            Ok(text) => Manifest::parse(&text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(format!(
                "Can't open the AOF manifest {}: {e}",
                path.display()
            )),
        }
    }
}

/// Loads the AOF into the (empty) store. Errors are the whole message to
/// log before exiting.
pub fn load(server: &Arc<Server>) -> Result<Loaded, String> {
    let layout = Layout::from_server(server);
    let truncated_ok = server.config().get("aof-load-truncated") != Some("no");
    let started = Instant::now();
    let mut loaded = Loaded::default();
    let mut replayer = Replayer::new(server);
    if let Some(manifest) = layout.read_manifest()? {
        continue_upgrade(&layout, &manifest)?;
        let mut files: Vec<(&str, &str)> = Vec::new();
        if let Some(b) = &manifest.base {
            files.push((b.name.as_str(), "base"));
        }
        files.extend(manifest.incrs.iter().map(|f| (f.name.as_str(), "incr")));
        for (i, (name, kind)) in files.iter().enumerate() {
            let path = layout.dir.join(name);
            let t = Instant::now();
            let (size, truncated) = load_file(&mut replayer, &path, name, truncated_ok)?;
            if truncated && i + 1 != files.len() {
                // Redis cuts the file, then refuses: only the last file
                // may end early.
                return Err("Fatal error: the truncated file is not the last file".into());
            }
            if *kind == "base" {
                loaded.base_size = size;
            }
            loaded.total_size += size;
            log::info!(
                "DB loaded from {kind} file {name}: {:.3} seconds",
                t.elapsed().as_secs_f64()
            );
        }
        if !files.is_empty() {
            log::info!(
                "DB loaded from append only file: {:.3} seconds",
                started.elapsed().as_secs_f64()
            );
        }
        loaded.manifest = Some(manifest);
    } else {
        let legacy = PathBuf::from(&layout.filename);
        if legacy.is_file() {
            let (size, _) = load_file(&mut replayer, &legacy, &layout.filename, truncated_ok)?;
            loaded.legacy = true;
            loaded.base_size = size;
            loaded.total_size = size;
            log::info!(
                "DB loaded from append only file: {:.3} seconds",
                started.elapsed().as_secs_f64()
            );
        }
    }
    replayer.restore_past_expiries();
    Ok(loaded)
}

/// Added to expiry times already past while loading: far beyond any real
/// time (2^60 ms is some 36 million years), far below i64::MAX.
pub const LOADING_EXPIRED_OFFSET_MS: i64 = 1 << 60;

/// The command with an absolute expiry time that is already past shifted
/// by [`LOADING_EXPIRED_OFFSET_MS`], or None when it has none.
fn shift_past_expiry(args: &[Vec<u8>], now: i64) -> Option<Vec<Vec<u8>>> {
    let name = args.first()?.to_ascii_lowercase();
    let num = |i: usize| args.get(i).and_then(|a| crate::number::parse_i64(a));
    let shifted = |at_ms: i64| (LOADING_EXPIRED_OFFSET_MS + at_ms).to_string().into_bytes();
    match name.as_slice() {
        b"expire" | b"pexpire" | b"expireat" | b"pexpireat" => {
            let t = num(2)?;
            let at_ms = match name.as_slice() {
                b"expire" => now.checked_add(t.checked_mul(1000)?)?,
                b"pexpire" => now.checked_add(t)?,
                b"expireat" => t.checked_mul(1000)?,
                _ => t,
            };
            if at_ms > now || at_ms <= -LOADING_EXPIRED_OFFSET_MS {
                return None;
            }
            let mut out = args.to_vec();
            out[0] = b"PEXPIREAT".to_vec();
            out[2] = shifted(at_ms);
            Some(out)
        }
        b"set" | b"getex" => {
            let first_opt = if name == b"set" { 3 } else { 2 };
            let i = (first_opt..args.len()).find(|&i| {
                args[i].eq_ignore_ascii_case(b"exat") || args[i].eq_ignore_ascii_case(b"pxat")
            })?;
            let t = num(i + 1)?;
            let at_ms = if args[i].eq_ignore_ascii_case(b"exat") {
                t.checked_mul(1000)?
            } else {
                t
            };
            if at_ms > now || at_ms <= 0 {
                return None;
            }
            let mut out = args.to_vec();
            out[i] = b"PXAT".to_vec();
            out[i + 1] = shifted(at_ms);
            Some(out)
        }
        _ => None,
    }
}

/// An upgrade interrupted between writing the manifest and moving the old
/// single file into the directory: finish the move (Redis does the same).
fn continue_upgrade(layout: &Layout, manifest: &Manifest) -> Result<(), String> {
    let Some(base) = &manifest.base else {
        return Ok(());
    };
    let old = PathBuf::from(&layout.filename);
    let new = layout.dir.join(&base.name);
    if base.name == layout.filename && !new.exists() && old.is_file() {
        std::fs::rename(&old, &new).map_err(|e| {
            format!(
                "Error moving {} into the AOF directory: {e}",
                layout.filename
            )
        })?;
        log::info!("Successfully migrated an old-style AOF into the AOF directory");
    }
    Ok(())
}

/// Replays one file; returns its size (after any truncation) and whether
/// its incomplete tail was cut off.
fn load_file(
    replayer: &mut Replayer,
    path: &Path,
    name: &str,
    may_truncate: bool,
) -> Result<(u64, bool), String> {
    let data = std::fs::read(path).map_err(|e| {
        format!("Fatal error: can't open the append log file {name} for reading: {e}")
    })?;
    let mut pos = 0usize;
    if data.starts_with(b"REDIS") {
        log::info!("Reading RDB base file on AOF loading...");
        pos = replay_rdb(replayer, &data, name)?;
        log::info!("Reading the remaining AOF tail...");
    }
    // Commands after an RDB preamble start in database 0, like any file.
    replayer.select(0);
    let mut multi_start: Option<usize> = None;
    let mut queued: Vec<Vec<Vec<u8>>> = Vec::new();
    loop {
        match parse_command(&data, pos) {
            Parsed::End => break,
            Parsed::Comment(next) => pos = next,
            Parsed::Command(args, next) => {
                let first = args
                    .first()
                    .map(|a| a.to_ascii_lowercase())
                    .unwrap_or_default();
                match first.as_slice() {
                    b"multi" => {
                        multi_start = Some(pos);
                        queued.clear();
                    }
                    b"exec" if multi_start.is_some() => {
                        multi_start = None;
                        for cmd in queued.drain(..) {
                            replayer.run(&cmd, name)?;
                        }
                    }
                    _ if multi_start.is_some() => queued.push(args),
                    _ => replayer.run(&args, name)?,
                }
                pos = next;
            }
            Parsed::Incomplete => {
                return truncate_tail(path, name, pos, may_truncate, data.len()).map(|n| (n, true));
            }
            Parsed::Bad(at) => {
                // Redis's line names no offset; ours goes on its own line.
                log::warn!("AOF {name}: not a command at offset {at}");
                return Err(format!(
                    "Bad file format reading the append only file {name}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>"
                ));
            }
        }
    }
    if let Some(start) = multi_start {
        log::warn!("Revert incomplete MULTI/EXEC transaction in AOF file {name}");
        return truncate_tail(path, name, start, may_truncate, data.len()).map(|n| (n, true));
    }
    Ok((data.len() as u64, false))
}

/// Handles a file that ends inside a command at `valid_up_to`.
fn truncate_tail(
    path: &Path,
    name: &str,
    valid_up_to: usize,
    may_truncate: bool,
    len: usize,
) -> Result<u64, String> {
    if !may_truncate {
        log::warn!(
            "AOF {name}: the last command, at offset {valid_up_to} of {len} bytes, is incomplete"
        );
        return Err(format!(
            "Unexpected end of file reading the append only file {name}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server."
        ));
    }
    log::warn!("!!! Warning: short read while loading the AOF file {name}!!!");
    log::warn!("!!! Truncating the AOF {name} at offset {valid_up_to} !!!");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.set_len(valid_up_to as u64).and_then(|_| f.sync_all()));
    if let Err(e) = file {
        return Err(format!("Error truncating the AOF file {name}: {e}"));
    }
    log::warn!("AOF {name} loaded anyway because aof-load-truncated is enabled");
    Ok(valid_up_to as u64)
}

/// Replays an RDB (base file or preamble); returns where it ended.
fn replay_rdb(replayer: &mut Replayer, data: &[u8], name: &str) -> Result<usize, String> {
    let err = |e: crate::persistence::rdb::RdbError| {
        format!("Error reading the RDB base file {name}, AOF loading aborted: {e}")
    };
    let mut reader = RdbReader::new(data).map_err(err)?;
    let now = now_ms();
    let mut db = None;
    while let Some(entry) = reader.next_entry().map_err(err)? {
        if entry.expire_ms.is_some_and(|t| t <= now) {
            continue; // a master drops keys that expired while it was down
        }
        if db != Some(entry.db) {
            replayer.select(entry.db);
            db = Some(entry.db);
        }
        for cmd in entry_commands(&entry) {
            replayer.run(&cmd, name)?;
        }
    }
    Ok(reader.offset() as usize)
}

/// One step of parsing the AOF text.
enum Parsed {
    /// A whole command, and where the next one starts.
    Command(Vec<Vec<u8>>, usize),
    /// A `#...` annotation line (timestamps), skipped.
    Comment(usize),
    /// Clean end of the data.
    End,
    /// The data ends inside a command.
    Incomplete,
    /// Not a command: corruption at this offset.
    Bad(usize),
}

/// Reads a `\r\n`-terminated line starting at `pos`: (line, next pos).
fn line_at(data: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = data.get(pos..)?;
    let nl = rest.iter().position(|&b| b == b'\n')?;
    let line = &rest[..nl];
    Some((line.strip_suffix(b"\r").unwrap_or(line), pos + nl + 1))
}

fn parse_count(digits: &[u8]) -> Option<usize> {
    if digits.is_empty() || digits.len() > 18 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// Parses one command at `pos` (`*<argc>` then `$<len>` + bytes per arg).
fn parse_command(data: &[u8], pos: usize) -> Parsed {
    if pos >= data.len() {
        return Parsed::End;
    }
    if data[pos] == b'#' {
        return match line_at(data, pos) {
            Some((_, next)) => Parsed::Comment(next),
            None => Parsed::Incomplete,
        };
    }
    if data[pos] != b'*' {
        return Parsed::Bad(pos);
    }
    let Some((line, mut at)) = line_at(data, pos) else {
        return Parsed::Incomplete;
    };
    let Some(argc) = parse_count(&line[1..]).filter(|&n| n >= 1) else {
        return Parsed::Bad(pos);
    };
    let mut args = Vec::with_capacity(argc.min(1024));
    for _ in 0..argc {
        if at >= data.len() {
            return Parsed::Incomplete;
        }
        if data[at] != b'$' {
            return Parsed::Bad(at);
        }
        let Some((line, body)) = line_at(data, at) else {
            return Parsed::Incomplete;
        };
        let Some(len) = parse_count(&line[1..]) else {
            return Parsed::Bad(at);
        };
        let end = body.saturating_add(len);
        if end.saturating_add(2) > data.len() {
            return Parsed::Incomplete;
        }
        if &data[end..end + 2] != b"\r\n" {
            return Parsed::Bad(end);
        }
        args.push(data[body..end].to_vec());
        at = end + 2;
    }
    Parsed::Command(args, at)
}

/// Runs commands as an internal client (Redis's fake AOF client).
struct Replayer<'a> {
    server: &'a Arc<Server>,
    state: ClientState,
    reply: ReplyBuf,
}

impl<'a> Replayer<'a> {
    fn new(server: &'a Arc<Server>) -> Self {
        Replayer {
            server,
            state: crate::client::detached_client(server),
            reply: ReplyBuf::new(),
        }
    }

    fn select(&mut self, db: usize) {
        self.state.select(db);
    }

    fn run(&mut self, args: &[Vec<u8>], file: &str) -> Result<(), String> {
        let Some(name) = args.first() else {
            return Ok(());
        };
        if commands::lookup(name).is_none() {
            return Err(format!(
                "Unknown command '{}' reading the append only file {file}",
                String::from_utf8_lossy(name)
            ));
        }
        let shifted = shift_past_expiry(args, now_ms());
        let args = shifted.as_deref().unwrap_or(args);
        let argv: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        self.reply.buf.clear();
        let mut ctx = Ctx::new(self.server, &mut self.state, &mut self.reply);
        commands::execute(&mut ctx, &argv);
        Ok(())
    }

    /// Puts back the expiry times shifted while loading: those keys are
    /// now simply expired.
    fn restore_past_expiries(&mut self) {
        let mut store = self.server.store.write().unwrap_or_else(|p| p.into_inner());
        for db in &mut store.dbs {
            let shifted: Vec<(Vec<u8>, i64)> = db
                .expires()
                .filter(|(_, &t)| t >= LOADING_EXPIRED_OFFSET_MS / 2)
                .map(|(k, &t)| (k.to_vec(), t - LOADING_EXPIRED_OFFSET_MS))
                .collect();
            for (key, at_ms) in shifted {
                db.set_expire(&key, at_ms, 0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_commands_and_finds_truncation_and_corruption() {
        let data = b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nset\r\n$1\r\na\r\n$1\r\n1\r\n";
        let Parsed::Command(args, next) = parse_command(data, 0) else {
            panic!("first command");
        };
        assert_eq!(args, vec![b"SELECT".to_vec(), b"0".to_vec()]);
        assert!(matches!(parse_command(data, next), Parsed::Command(_, n) if n == data.len()));
        assert!(matches!(parse_command(data, data.len()), Parsed::End));
        // Every cut inside the second command is a truncation, never corruption.
        for cut in next + 1..data.len() {
            assert!(
                matches!(parse_command(&data[..cut], next), Parsed::Incomplete),
                "cut at {cut}"
            );
        }
        assert!(matches!(parse_command(b"+OK\r\n", 0), Parsed::Bad(0)));
        assert!(matches!(
            parse_command(b"*1\r\n$3\r\nabcd\r\n", 0),
            Parsed::Bad(11)
        ));
        assert!(matches!(parse_command(b"#TS:1\r\n", 0), Parsed::Comment(7)));
    }
}
