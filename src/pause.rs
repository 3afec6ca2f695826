//! CLIENT PAUSE / UNPAUSE: holding clients' commands for a while; and
//! [`Freeze`], DEBUG SLEEP's stop of the whole server.
//!
//! `CLIENT PAUSE ms [WRITE|ALL]` sets a deadline and a mode in [`Pause`].
//! Before a command runs (after its arity and authentication checks, and
//! after MULTI queuing, so queuing is never held), the dispatcher calls
//! [`wait_if_paused`]:
//!
//! ```text
//! mode ALL    every command waits
//! mode WRITE  write commands, the "may-replicate" ones (PUBLISH, PFCOUNT,
//!             EVAL ...) and an EXEC whose queue holds one of them wait
//! ```
//!
//! A waiting client sleeps on a condition variable until CLIENT UNPAUSE
//! or the deadline, counted in INFO `blocked_clients` meanwhile, as
//! Redis's BLOCKED_POSTPONE clients are. The store lock is not held while
//! waiting. A second PAUSE never shortens the current one nor weakens ALL
//! to WRITE. While writes are paused the active expiry cycle deletes
//! nothing (expire.rs asks [`Pause::writes_paused`]), so the dataset does
//! not change under a paused server.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::commands::{lookup, Command, Ctx};
use crate::util::now_ms;

/// What is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PauseMode {
    /// Write and may-replicate commands.
    Write,
    /// Every command.
    All,
}

#[derive(Debug, Default)]
struct PauseState {
    mode: Option<PauseMode>,
    end_ms: i64,
}

/// The server's pause state.
#[derive(Debug, Default)]
pub struct Pause {
    active: AtomicBool,
    state: Mutex<PauseState>,
    unpaused: Condvar,
}

/// Commands Redis flags "may-replicate" without "write": paused by WRITE.
const MAY_REPLICATE: &[&str] = &[
    "publish", "spublish", "pfcount", "eval", "evalsha", "fcall", "script", "function",
];

fn pausable_by_write(command: &Command) -> bool {
    command.is_write() || MAY_REPLICATE.contains(&command.name)
}

impl Pause {
    fn lock(&self) -> std::sync::MutexGuard<'_, PauseState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// CLIENT PAUSE: pause `mode` until `end_ms` (never shortening or
    /// weakening a pause in force).
    pub fn pause(&self, mode: PauseMode, end_ms: i64) {
        let mut st = self.lock();
        let live = st.mode.is_some() && st.end_ms > now_ms();
        st.mode = match (live, st.mode) {
            (true, Some(old)) => Some(old.max(mode)),
            _ => Some(mode),
        };
        st.end_ms = if live { st.end_ms.max(end_ms) } else { end_ms };
        self.active.store(true, Ordering::Relaxed);
    }

    /// CLIENT UNPAUSE: releases every waiting client.
    pub fn unpause(&self) {
        let mut st = self.lock();
        st.mode = None;
        self.active.store(false, Ordering::Relaxed);
        drop(st);
        self.unpaused.notify_all();
    }

    /// The mode in force now, if any.
    pub fn mode(&self) -> Option<PauseMode> {
        if !self.active.load(Ordering::Relaxed) {
            return None;
        }
        let st = self.lock();
        st.mode.filter(|_| st.end_ms > now_ms())
    }

    /// True while writes are paused (WRITE or ALL): expiry must not delete.
    pub fn writes_paused(&self) -> bool {
        self.mode().is_some()
    }

    /// Sleeps until the pause no longer covers a command of this kind.
    fn wait(&self, is_write: bool) {
        let mut st = self.lock();
        loop {
            let now = now_ms();
            let covered = match st.mode {
                Some(PauseMode::All) => true,
                Some(PauseMode::Write) => is_write,
                None => false,
            };
            if !covered || st.end_ms <= now {
                return;
            }
            let left = Duration::from_millis((st.end_ms - now) as u64);
            st = self
                .unpaused
                .wait_timeout(st, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

/// The dispatcher's hook: holds the command while the server is paused
/// for it. Free when no pause is in force (one atomic load).
pub fn wait_if_paused(ctx: &mut Ctx, command: &Command, args: &[&[u8]]) {
    let pause = &ctx.server.pause;
    let Some(mode) = pause.mode() else {
        return;
    };
    // A script declared `no-writes` is a read (Redis's evalGetCommandFlags).
    let script_reads = crate::scripting::declared_read_only(ctx.server, command, args);
    let is_write = (pausable_by_write(command) && !script_reads)
        || (command.name == "exec"
            && ctx.client.tx.queue.as_ref().is_some_and(|q| {
                q.iter().any(|argv| {
                    argv.first()
                        .and_then(|name| lookup(name))
                        .is_some_and(|(_, c)| pausable_by_write(c))
                })
            }));
    if mode == PauseMode::Write && !is_write {
        return;
    }
    let blocked = &ctx.server.blocked_clients;
    blocked.fetch_add(1, Ordering::Relaxed);
    // A paused client is not busy: CLIENT LIST need not wait for it.
    ctx.client.info.memory.busy.store(false, Ordering::SeqCst);
    pause.wait(is_write);
    blocked.fetch_sub(1, Ordering::Relaxed);
    ctx.now_ms = now_ms();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_extend_and_never_weaken() {
        let p = Pause::default();
        assert_eq!(p.mode(), None);
        p.pause(PauseMode::All, now_ms() + 60_000);
        p.pause(PauseMode::Write, now_ms() + 10);
        assert_eq!(p.mode(), Some(PauseMode::All));
        p.unpause();
        assert_eq!(p.mode(), None);
        p.pause(PauseMode::Write, now_ms() - 1);
        assert_eq!(p.mode(), None, "a deadline in the past is no pause");
    }
}

/// DEBUG SLEEP: Redis's single thread sleeps, so no other client gets any
/// reply (not even PING) until it wakes. Here the sleeping client marks the
/// server frozen; every other client's command waits in [`Freeze::wait`]
/// before it runs (one atomic load when nobody sleeps).
#[derive(Default)]
pub struct Freeze {
    /// The sleeping client's id; 0 when none sleeps.
    by: AtomicU64,
    lock: Mutex<()>,
    thawed: Condvar,
}

impl Freeze {
    /// Freezes the server for `duration`, on behalf of `client_id`.
    pub fn sleep(&self, client_id: u64, duration: std::time::Duration) {
        self.by.store(client_id, Ordering::SeqCst);
        std::thread::sleep(duration);
        let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.by.store(0, Ordering::SeqCst);
        self.thawed.notify_all();
    }

    /// Waits while another client's DEBUG SLEEP runs.
    pub fn wait(&self, client_id: u64) {
        if self.by.load(Ordering::SeqCst) == 0 {
            return;
        }
        let mut guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let by = self.by.load(Ordering::SeqCst);
            if by == 0 || by == client_id {
                return;
            }
            guard = self.thawed.wait(guard).unwrap_or_else(|p| p.into_inner());
        }
    }
}
