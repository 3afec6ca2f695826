//! The stand-in for Redis's fork child during an AOF rewrite: a process
//! that lives exactly as long as the rewrite.
//!
//! Redis writes a rewrite's base file in a forked child, so the job is a
//! process: tools (and Redis's own test suite, through `pgrep -P <server
//! pid>`) find it, and `kill -9 <child>` makes the job fail. BGSAVE really
//! forks (see child.rs); the AOF rewrite still writes in a thread from a copy
//! of the store (see `snapshot.rs`), so it has no such process on its own.
//! To keep that behaviour observable, each rewrite starts one small child
//! process:
//!
//! ```text
//! server ──stdin pipe──> cat > /dev/null      (the child, pid visible)
//!   job thread: before each key, ForkChild::exit_signal()
//!     Some(9)   the child was killed: the job stops, as Redis's would
//!   job done:   ForkChild::finish() closes the pipe; cat sees EOF, exits 0
//! ```
//!
//! `cat` reading a pipe is the simplest process that waits without work and
//! goes away on its own when the server dies (the pipe closes). If it cannot
//! be started the job runs without a child, as before. Every child started
//! counts in INFO's `total_forks`.

use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Children started since the server started, forked or stand-in
/// (INFO `total_forks`).
pub static TOTAL_FORKS: AtomicU64 = AtomicU64::new(0);

/// INFO stats `total_forks`: background jobs started with a child.
pub fn total_forks() -> u64 {
    TOTAL_FORKS.load(Ordering::Relaxed)
}

/// How the child process ended, once it has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildExit {
    /// Still running.
    Running,
    /// Ended normally (we closed its pipe).
    Exited,
    /// Killed by this signal (`kill -9` gives 9).
    Signal(i32),
}

/// One background job's child process.
#[derive(Debug)]
pub struct ForkChild {
    pid: u32,
    process: Mutex<Child>,
}

impl ForkChild {
    /// Starts the child; None (logged) if no process could be started.
    pub fn spawn(job: &str) -> Option<ForkChild> {
        let spawned = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        match spawned {
            Ok(child) => {
                TOTAL_FORKS.fetch_add(1, Ordering::Relaxed);
                Some(ForkChild {
                    pid: child.id(),
                    process: Mutex::new(child),
                })
            }
            Err(e) => {
                log::warn!("{job}: could not start a child process ({e}); running without one");
                None
            }
        }
    }

    /// The child's process id (Redis names temp files after it).
    pub fn pid(&self) -> u32 {
        self.pid
    }

    fn process(&self) -> MutexGuard<'_, Child> {
        self.process.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the child still runs, and how it ended if not (never blocks).
    pub fn state(&self) -> ChildExit {
        match self.process().try_wait() {
            Ok(None) => ChildExit::Running,
            Ok(Some(status)) => match status.signal() {
                Some(sig) => ChildExit::Signal(sig),
                None => ChildExit::Exited,
            },
            Err(_) => ChildExit::Exited,
        }
    }

    /// The signal that killed the child, if one did.
    pub fn exit_signal(&self) -> Option<i32> {
        match self.state() {
            ChildExit::Signal(sig) => Some(sig),
            _ => None,
        }
    }

    /// Kills the child (a job stopped on purpose) and reaps it.
    pub fn kill(&self) {
        let mut p = self.process();
        let _ = p.kill();
        let _ = p.wait();
    }

    /// The job is over: close the pipe so the child exits, and reap it.
    /// Returns the signal that had killed it meanwhile, if any.
    pub fn finish(&self) -> Option<i32> {
        let mut p = self.process();
        drop(p.stdin.take());
        match p.wait() {
            Ok(status) => status.signal(),
            Err(_) => None,
        }
    }
}
