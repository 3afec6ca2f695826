//! Turning the AOF on and off while the server runs, and DEBUG LOADAOF.
//!
//! ```text
//!            CONFIG SET appendonly yes            first rewrite succeeds
//!   Off ─────────────────────────────> WaitRewrite ─────────────────> On
//!    ^   (a rewrite starts, or is scheduled     (its temp incr file      │
//!    │    while a BGSAVE runs / inside EXEC)     becomes the incr file)  │
//!    └──────────────── CONFIG SET appendonly no (kills a rewrite) ───────┘
//! ```
//!
//! Redis mirrors: `startAppendOnly`, `stopAppendOnly`, the `loadaof` branch
//! of `debugCommand`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use super::{in_exec, loader, lock, rewrite, start_fsync_thread, AofState};
use crate::server::Server;

/// Reads the AOF settings after a config change: CONFIG SET appendonly yes
/// starts the AOF with a rewrite, no stops it; aof-disable-auto-gc no
/// deletes the history files at once.
pub fn on_config_change(server: &Arc<Server>) {
    let (on, auto_gc) = {
        let c = server.config();
        server.aof.read_config(&c);
        (
            c.get("appendonly") == Some("yes"),
            !c.get_bool("aof-disable-auto-gc"),
        )
    };
    let aof = &server.aof;
    if on && aof.state() == AofState::Off {
        start_append_only(server);
    } else if !on && aof.state() != AofState::Off {
        stop(server);
    }
    if auto_gc {
        let mut p = lock(&aof.pending);
        rewrite::delete_history(&mut p);
    }
}

/// CONFIG SET appendonly yes (Redis's `startAppendOnly`): the AOF waits
/// for a first rewrite, started now or as soon as no other background
/// job runs.
fn start_append_only(server: &Arc<Server>) {
    let aof = &server.aof;
    aof.set_state(AofState::WaitRewrite);
    start_fsync_thread(server);
    if server.rdb.bgsave_in_progress.load(Ordering::Relaxed) {
        log::warn!("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
        rewrite::schedule(server);
        return;
    }
    if in_exec() {
        log::warn!("AOF was enabled during a transaction. An AOF background was scheduled to start when possible.");
        rewrite::schedule(server);
        return;
    }
    if aof.rewrite_in_progress.load(Ordering::Relaxed) {
        // A rewrite started with appendonly no does not collect the writes
        // made meanwhile: it cannot become the AOF.
        log::warn!("AOF was enabled but there is already an AOF rewriting in background. Stopping background AOF and starting a rewrite now.");
        rewrite::kill_running(aof);
        while aof.rewrite_in_progress.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    if rewrite::start(server).is_err() {
        aof.set_state(AofState::Off);
        log::warn!("Redis needs to enable the AOF but can't trigger a background AOF rewrite operation. Check the above logs for more info about the error.");
    }
}

/// Stops appending (CONFIG SET appendonly no): flush, fsync, close, and
/// kill a running rewrite.
pub fn stop(server: &Server) {
    // Held as a barrier: no write may be logged while feeding stops.
    let _store = server.store.write().unwrap_or_else(|p| p.into_inner());
    let aof = &server.aof;
    aof.flush_all();
    aof.feeding.store(false, Ordering::Relaxed);
    aof.set_state(AofState::Off);
    aof.rewrite_scheduled.store(false, Ordering::Relaxed);
    rewrite::kill_running(aof);
    let mut p = lock(&aof.pending);
    p.file = None;
    p.buf.clear();
    p.last_db = None;
    drop(p);
    log::info!("Append only file turned off");
}

/// DEBUG LOADAOF: flush the AOF, empty the keyspace and load it back from
/// the files (what a restart would see). The manifest is read from disk
/// again and history files are deleted, as in Redis.
pub fn debug_loadaof(server: &Arc<Server>) -> Result<(), String> {
    let aof = &server.aof;
    let was_feeding = aof.is_feeding();
    {
        let mut store = server.store.write().unwrap_or_else(|p| p.into_inner());
        aof.flush_all();
        aof.feeding.store(false, Ordering::Relaxed);
        for db in &mut store.dbs {
            db.clear();
        }
    }
    // Other clients get -LOADING meanwhile, as in Redis.
    server.loading.begin(0);
    let result = loader::load(server);
    server.loading.end();
    if let Ok(loaded) = &result {
        let mut p = lock(&aof.pending);
        let layout = loader::Layout::from_server(server);
        p.manifest = loaded.manifest.clone().unwrap_or_default();
        p.dir = layout.dir;
        p.filename = layout.filename;
        p.manifest_loaded = true;
        if !server.config().get_bool("aof-disable-auto-gc") {
            rewrite::delete_history(&mut p);
        }
    }
    {
        // Expiries during the reload are not logged: the files already
        // hold them.
        let _ = server
            .store
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .take_expired();
        if was_feeding {
            aof.feeding.store(true, Ordering::Relaxed);
        }
    }
    // Replaying is not a change to save or log (Redis resets server.dirty).
    server.dirty.store(0, Ordering::Relaxed);
    result.map(|_| log::warn!("Append Only File loaded by DEBUG LOADAOF"))
}
