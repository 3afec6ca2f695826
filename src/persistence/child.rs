//! BGSAVE's writer as a child process, as in Redis.
//!
//! The snapshot is taken in the parent (snapshot.rs, under the read lock);
//! then the `bgsave` thread forks. The child, which holds a copy-on-write
//! image of that snapshot, writes `temp-<child pid>.rdb`, fsyncs it and
//! exits 0 (1 on any error). The parent thread waits for it, then renames
//! the file over the RDB file itself, under `SaveState::sync_save` and after
//! a last look at `bgsave_abort`, so FLUSHALL's ordering guarantee is kept:
//!
//! ```text
//! bgsave thread (parent)                    child
//! fork ───────────────────────────────────> close inherited fds (sockets)
//! poll waitpid every 10 ms:                 write temp-<pid>.rdb (key by key,
//!   copy the shared progress counter          bumping the shared counter,
//!   abort set? -> SIGKILL the child           sleeping rdb-key-save-delay)
//! exit 0 -> rename under sync_save          fsync, _exit(0)
//! ```
//!
//! A real child process is what operators and Redis's tests expect to see
//! (`pgrep -P <server pid>`, `kill -9` it to make a save fail, the temp file
//! named after it); SHUTDOWN kills it and removes its file.
//!
//! What the child may do is restricted, because other threads of the parent
//! may have held locks at the moment of the fork: it never logs, never
//! takes a lock, and leaves through `_exit` (even on a panic), so no parent
//! code runs in it after the write. Allocation is fine (glibc's malloc is
//! reset for the forking thread). Progress crosses the process boundary
//! through one shared anonymous page.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use super::rdb::WriteOptions;
use super::snapshot::{Snapshot, WriteControl};
use super::SaveState;

/// How often the parent looks at the child (exit, abort, progress).
const CHILD_POLL: Duration = Duration::from_millis(10);

/// Descriptors the child closes above stdio (inherited listening and
/// client sockets must not outlive a parent that has exited).
const MAX_INHERITED_FD: i32 = 1 << 16;

/// One page shared between parent and child, holding the child's count of
/// keys written. Unmapped on drop.
struct SharedCounter {
    ptr: *mut libc::c_void,
}

impl SharedCounter {
    fn new() -> io::Result<SharedCounter> {
        // SAFETY: an anonymous shared mapping of one page, checked for
        // failure; it is only ever used as one AtomicU64 at its start.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                4096,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(SharedCounter { ptr })
    }

    fn counter(&self) -> &AtomicU64 {
        // SAFETY: the page is mapped, zero-filled, aligned and lives as
        // long as self; AtomicU64 has the layout of u64.
        unsafe { &*(self.ptr as *const AtomicU64) }
    }
}

impl Drop for SharedCounter {
    fn drop(&mut self) {
        // SAFETY: unmapping the page this value mapped, once.
        unsafe {
            libc::munmap(self.ptr, 4096);
        }
    }
}

/// The temporary file of the child `pid` in `dir`.
pub fn child_temp_path(dir: &Path, pid: i32) -> PathBuf {
    dir.join(format!("temp-{pid}.rdb"))
}

/// True from a BGSAVE's start until its child process is gone. The
/// keyspace's tables then do not grow (see `evict::expand_allowed`): a
/// rehash rewrites every page of the bucket array, and the kernel would
/// copy each one for the child (copy-on-write), as Redis avoids with
/// `dict_can_resize`.
static SAVE_RUNNING: AtomicBool = AtomicBool::new(false);

/// Whether a BGSAVE (and so, soon or now, its child) is running.
pub fn save_running() -> bool {
    SAVE_RUNNING.load(Ordering::Relaxed)
}

/// Marks a BGSAVE as started or finished (persistence::bgsave).
pub fn set_save_running(running: bool) {
    SAVE_RUNNING.store(running, Ordering::Relaxed);
}

/// Kills the running BGSAVE child, if any, and waits until it is gone, so
/// it cannot write after this returns (SHUTDOWN, "You insist").
pub fn kill_child(state: &SaveState) {
    let pid = state.bgsave_child_pid.load(Ordering::Acquire);
    if pid > 0 {
        // SAFETY: kill only sends a signal; the pid is our unreaped child,
        // so it cannot have been reused by another process. waitpid reaps
        // it (the bgsave thread then sees ECHILD: "killed").
        unsafe {
            libc::kill(pid, libc::SIGKILL);
            let mut status: libc::c_int = 0;
            libc::waitpid(pid, &mut status, 0);
        }
    }
}

/// Writes `snapshot` to `path` through a forked child (see the module
/// header) and returns the file size. Stops the child and fails when
/// `state.bgsave_abort` is set.
pub fn write_in_child(
    snapshot: &Snapshot,
    path: &Path,
    options: WriteOptions,
    key_delay_us: u64,
    state: &SaveState,
) -> io::Result<u64> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let progress = SharedCounter::new()?;
    // SAFETY: fork in a threaded process: the child only runs
    // `child_main`, which avoids locks and logging and ends with _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        crate::oom::set_in_child();
        child_main(snapshot, &dir, options, key_delay_us, progress.counter());
    }
    super::standin_child::TOTAL_FORKS.fetch_add(1, Ordering::Relaxed);
    let temp = child_temp_path(&dir, pid);
    state.bgsave_child_pid.store(pid, Ordering::Release);
    *state
        .bgsave_temp_file
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = Some(temp.clone());
    let status = wait_child(pid, state, progress.counter());
    state.bgsave_child_pid.store(0, Ordering::Release);
    // The child's copy-on-write becomes rdb_last_cow_size.
    let cow = state.cow_size.swap(0, Ordering::Relaxed);
    state.last_cow_size.store(cow, Ordering::Relaxed);
    state.cow_peak.store(0, Ordering::Relaxed);
    state.cow_sampled_ms.store(0, Ordering::Relaxed);
    let result = match status {
        Ok(0) => rename_into_place(&temp, path, &dir, state),
        Ok(code) => Err(io::Error::other(format!(
            "the child process {pid} failed (status {code})"
        ))),
        Err(signal) => Err(io::Error::other(KilledBy(signal))),
    };
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    *state
        .bgsave_temp_file
        .lock()
        .unwrap_or_else(|p| p.into_inner()) = None;
    result
}

/// The error of a save whose child a signal ended (`kill -9`, or SHUTDOWN).
#[derive(Debug)]
pub struct KilledBy(pub i32);

impl std::fmt::Display for KilledBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the child process was terminated by signal {}", self.0)
    }
}

impl std::error::Error for KilledBy {}

/// The signal that ended the child, when `error` says one did.
pub fn killed_by(error: &io::Error) -> Option<i32> {
    error
        .get_ref()
        .and_then(|e| e.downcast_ref::<KilledBy>())
        .map(|k| k.0)
}

/// Waits for the child, copying its progress and killing it on abort.
/// Returns its exit status, or the signal that ended it.
fn wait_child(pid: i32, state: &SaveState, progress: &AtomicU64) -> Result<i32, i32> {
    let mut next_sample = std::time::Instant::now();
    loop {
        // Copy-on-write, once a second as Redis's child reports it: the
        // child's private dirty memory is what the parent's writes since
        // the fork made it copy (plus its own buffers).
        if std::time::Instant::now() >= next_sample {
            if let Some(bytes) = private_dirty_bytes(pid) {
                state.cow_size.store(bytes, Ordering::Relaxed);
                state.cow_peak.fetch_max(bytes, Ordering::Relaxed);
                state
                    .cow_sampled_ms
                    .store(crate::util::now_ms(), Ordering::Relaxed);
            }
            next_sample += std::time::Duration::from_secs(1);
        }
        let mut status: libc::c_int = 0;
        // SAFETY: waitpid on our own child with a valid status pointer.
        let reaped = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        state
            .save_keys_processed
            .store(progress.load(Ordering::Relaxed), Ordering::Relaxed);
        if reaped == pid {
            return if libc::WIFEXITED(status) {
                Ok(libc::WEXITSTATUS(status))
            } else {
                Err(libc::WTERMSIG(status))
            };
        }
        if reaped < 0 {
            // Already reaped by kill_child (SHUTDOWN): it was SIGKILLed.
            return Err(libc::SIGKILL);
        }
        if state.bgsave_abort.load(Ordering::Relaxed) {
            // SAFETY: signalling our unreaped child.
            unsafe {
                libc::kill(pid, libc::SIGKILL);
            }
        }
        std::thread::sleep(CHILD_POLL);
    }
}

/// The Private_Dirty bytes of process `pid` (Linux's smaps_rollup), None
/// when it cannot be read.
pub fn private_dirty_bytes(pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let kb: u64 = text
        .lines()
        .filter_map(|l| l.strip_prefix("Private_Dirty:"))
        .filter_map(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .sum();
    Some(kb * 1024)
}

/// The parent's last step: the rename, under `sync_save` and after a last
/// abort check, then an fsync of the directory.
fn rename_into_place(temp: &Path, path: &Path, dir: &Path, state: &SaveState) -> io::Result<u64> {
    let size = std::fs::metadata(temp)?.len();
    let guard = state.sync_save.lock().unwrap_or_else(|p| p.into_inner());
    if state.bgsave_abort.load(Ordering::Relaxed) {
        return Err(io::Error::other("save aborted"));
    }
    std::fs::rename(temp, path)?;
    drop(guard);
    // Some filesystems refuse fsync on a directory; the save still stands.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(size)
}

/// The child: close inherited descriptors, write and fsync the temp file,
/// and leave with `_exit` whatever happens.
fn child_main(
    snapshot: &Snapshot,
    dir: &Path,
    options: WriteOptions,
    key_delay_us: u64,
    progress: &AtomicU64,
) -> ! {
    // SAFETY: closing descriptors this process will never use (sockets,
    // the AOF, the log file); prctl asks for SIGKILL if the parent dies.
    unsafe {
        // close_range (Linux 5.9) in one call; one close per number before.
        if libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) != 0 {
            for fd in 3..MAX_INHERITED_FD {
                libc::close(fd);
            }
        }
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
    }
    let written = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: getpid has no preconditions.
        let temp = child_temp_path(dir, unsafe { libc::getpid() });
        let control = WriteControl {
            key_delay_us,
            processed: Some(progress),
            ..WriteControl::default()
        };
        let file = File::create(&temp)?;
        let file = snapshot.write_to(file, options, control)?;
        file.sync_all()
    }));
    let code = match written {
        Ok(Ok(())) => 0,
        _ => 1,
    };
    // SAFETY: _exit ends the child without running the parent's atexit
    // handlers or destructors, which belong to the parent.
    unsafe { libc::_exit(code) }
}
