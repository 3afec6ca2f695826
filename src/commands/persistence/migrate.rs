//! MIGRATE: DUMP here, RESTORE on another server, delete here.
//!
//! ```text
//! read lock: serialise the keys ─> (no lock) send AUTH? SELECT? RESTORE... ─> read replies
//!   ─> write lock: delete each key the target acknowledged (unless COPY)
//! ```
//!
//! Connections to targets are cached by "host:port" with the database last
//! selected on them, and closed after [`MIGRATE_SOCKET_IDLE`] unused
//! (Redis's `migrateGetSocket` / `migrateCloseTimedoutSockets`; INFO
//! migrate_cached_sockets counts them).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write as _};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::commands::Ctx;
use crate::error::{CmdError, CmdResult};
use crate::number::parse_i64;
use crate::persistence::{self as rdb_save, rdb};
use crate::store::NO_EXPIRE;

/// A cached connection to a MIGRATE target is closed after this long unused.
pub const MIGRATE_SOCKET_IDLE: Duration = Duration::from_secs(10);

/// One cached connection to a MIGRATE target.
struct MigrateSocket {
    reader: BufReader<TcpStream>,
    /// The database last SELECTed on it (-1: unknown).
    last_db: i64,
    last_use: Instant,
}

/// Cached MIGRATE connections by "host:port".
fn migrate_sockets() -> &'static Mutex<HashMap<String, MigrateSocket>> {
    static SOCKETS: OnceLock<Mutex<HashMap<String, MigrateSocket>>> = OnceLock::new();
    SOCKETS.get_or_init(|| Mutex::new(HashMap::new()))
}

/// Closes idle cached connections and returns how many remain (INFO
/// migrate_cached_sockets).
pub fn migrate_cached_sockets() -> usize {
    let mut sockets = migrate_sockets().lock().unwrap_or_else(|p| p.into_inner());
    sockets.retain(|_, s| s.last_use.elapsed() < MIGRATE_SOCKET_IDLE);
    sockets.len()
}

fn resp_command(out: &mut Vec<u8>, args: &[&[u8]]) {
    out.extend_from_slice(format!("*{}\r\n", args.len()).as_bytes());
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
}

/// Why a MIGRATE exchange failed, and the IOERR line to answer.
struct IoFailure {
    message: &'static str,
    timed_out: bool,
}

impl IoFailure {
    fn new(message: &'static str, e: &std::io::Error) -> Self {
        IoFailure {
            message,
            timed_out: matches!(
                e.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            ),
        }
    }
}

/// The replies to one batch: AUTH's, SELECT's, then one line per RESTORE.
type Replies = (Option<String>, Option<String>, Vec<String>);

/// Sends `request` and reads its replies.
fn exchange(
    socket: &mut MigrateSocket,
    request: &[u8],
    auth: bool,
    select: bool,
    restores: usize,
) -> Result<Replies, IoFailure> {
    const WRITE_ERR: &str = "IOERR error or timeout writing to target instance";
    const READ_ERR: &str = "IOERR error or timeout reading to target instance";
    socket
        .reader
        .get_mut()
        .write_all(request)
        .map_err(|e| IoFailure::new(WRITE_ERR, &e))?;
    let mut read = || read_reply_line(&mut socket.reader).map_err(|e| IoFailure::new(READ_ERR, &e));
    let auth_reply = if auth { Some(read()?) } else { None };
    let select_reply = if select { Some(read()?) } else { None };
    let lines = (0..restores)
        .map(|_| read())
        .collect::<Result<Vec<_>, _>>()?;
    Ok((auth_reply, select_reply, lines))
}

/// Opens a connection to `target` ("host:port") with `timeout`.
fn connect(target: &str, timeout: Duration) -> Result<MigrateSocket, CmdError> {
    let fail = || CmdError::Raw("IOERR error or timeout connecting to the client".into());
    let addr = target
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(fail)?;
    let stream = TcpStream::connect_timeout(&addr, timeout).map_err(|_| fail())?;
    let _ = stream.set_nodelay(true);
    let _ = stream.set_read_timeout(Some(timeout));
    let _ = stream.set_write_timeout(Some(timeout));
    let reader = stream.try_clone().map(BufReader::new).map_err(|_| fail())?;
    Ok(MigrateSocket {
        reader,
        last_db: -1,
        last_use: Instant::now(),
    })
}

fn read_reply_line(reader: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
/// [AUTH password] [AUTH2 username password] [KEYS key ...] — `+OK`, or
/// `+NOKEY` when none of the keys exists.
///
/// The keys are serialised under the read lock, sent as RESTORE commands
/// without any lock held (the store lock is never held across socket
/// I/O), and, without COPY, deleted here once the target acknowledged
/// them. Errors: "IOERR error or timeout connecting to the client",
/// "IOERR error or timeout writing/reading to target instance", "ERR
/// Target instance replied with error: ...".
pub(super) fn migrate_command(ctx: &mut Ctx, args: &[&[u8]]) -> CmdResult {
    let (mut copy, mut replace) = (false, false);
    let mut auth: Option<(Option<&[u8]>, &[u8])> = None;
    let mut keys: Vec<&[u8]> = vec![args[3]];
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        match args[j].to_ascii_lowercase().as_slice() {
            b"copy" => copy = true,
            b"replace" => replace = true,
            b"auth" if more >= 1 => {
                auth = Some((None, args[j + 1]));
                j += 1;
            }
            b"auth2" if more >= 2 => {
                auth = Some((Some(args[j + 1]), args[j + 2]));
                j += 2;
            }
            b"keys" => {
                if !args[3].is_empty() {
                    return Err(CmdError::err("When using MIGRATE KEYS option, the key argument must be set to the empty string"));
                }
                keys = args[j + 1..].to_vec();
                break;
            }
            _ => return Err(CmdError::Syntax),
        }
        j += 1;
    }
    let timeout_ms = parse_i64(args[5]).ok_or(CmdError::NotInteger)?;
    let db_index = parse_i64(args[4]).ok_or(CmdError::NotInteger)?;
    let timeout = Duration::from_millis(if timeout_ms <= 0 {
        1000
    } else {
        timeout_ms as u64
    });

    // Serialise what exists, under the read lock.
    let options = rdb_save::write_options(&ctx.server.config());
    let mut items: Vec<(Vec<u8>, i64, Vec<u8>)> = Vec::new();
    {
        let store = ctx.server.store.read().unwrap_or_else(|p| p.into_inner());
        let db = store.db(ctx.client.db);
        let now = crate::util::now_ms();
        for key in &keys {
            if let Some(entry) = db.get(key, now) {
                let expire_ms = db.expire_of(key, entry);
                let ttl = if expire_ms == NO_EXPIRE {
                    0
                } else {
                    (expire_ms - now).max(1)
                };
                let payload = rdb::encode_value(&rdb_save::to_rdb_value(&entry.value), &options);
                items.push((key.to_vec(), ttl, payload));
            }
        }
    }
    if items.is_empty() {
        ctx.reply.simple("NOKEY");
        return Ok(());
    }

    let target = format!(
        "{}:{}",
        String::from_utf8_lossy(args[1]),
        String::from_utf8_lossy(args[2])
    );
    let cached = migrate_sockets()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&target);
    let mut from_cache = cached.is_some();
    let mut socket = match cached {
        Some(s) => s,
        None => connect(&target, timeout)?,
    };
    let _ = socket.reader.get_ref().set_read_timeout(Some(timeout));
    let _ = socket.reader.get_ref().set_write_timeout(Some(timeout));
    let build = |select: bool| {
        let mut request = Vec::new();
        if let Some((user, password)) = auth {
            match user {
                Some(user) => resp_command(&mut request, &[b"AUTH", user, password]),
                None => resp_command(&mut request, &[b"AUTH", password]),
            }
        }
        if select {
            resp_command(&mut request, &[b"SELECT", args[4]]);
        }
        for (key, ttl, payload) in &items {
            let ttl = ttl.to_string();
            let mut restore: Vec<&[u8]> = vec![b"RESTORE", key, ttl.as_bytes(), payload];
            if replace {
                restore.push(b"REPLACE");
            }
            resp_command(&mut request, &restore);
        }
        request
    };
    let (auth_reply, select_reply, lines) = loop {
        let select = socket.last_db != db_index;
        match exchange(
            &mut socket,
            &build(select),
            auth.is_some(),
            select,
            items.len(),
        ) {
            Ok(replies) => break replies,
            // A cached connection may have been closed by the target since
            // its last use: reconnect once, unless the target was too slow.
            Err(failure) if from_cache && !failure.timed_out => {
                from_cache = false;
                socket = connect(&target, timeout)?;
            }
            Err(failure) => return Err(CmdError::Raw(failure.message.into())),
        }
    };
    let mut error: Option<String> = None;
    let mut acknowledged: Vec<&[u8]> = Vec::new();
    for ((key, _, _), line) in items.iter().zip(&lines) {
        let failed = [
            auth_reply.as_deref(),
            select_reply.as_deref(),
            Some(line.as_str()),
        ]
        .into_iter()
        .flatten()
        .find(|l| l.starts_with('-'));
        match failed {
            Some(e) => {
                if error.is_none() {
                    error = Some(e[1..].to_string());
                }
            }
            None => acknowledged.push(key),
        }
    }
    socket.last_db = if error.is_some() { -1 } else { db_index };
    socket.last_use = Instant::now();
    migrate_sockets()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(target, socket);

    if !copy && !acknowledged.is_empty() {
        let mut store = ctx.server.store.write().unwrap_or_else(|p| p.into_inner());
        let db = store.db_mut(ctx.client.db);
        for key in acknowledged {
            if db.remove(key).is_some() {
                ctx.notify('g', "del", key);
                ctx.dirty += 1;
            }
        }
    }
    match error {
        Some(e) => Err(CmdError::err(format!(
            "Target instance replied with error: {e}"
        ))),
        None => {
            ctx.reply.ok();
            Ok(())
        }
    }
}
