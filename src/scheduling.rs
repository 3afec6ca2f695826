//! How Linux schedules our threads: SCHED_BATCH instead of the default.
//!
//! With one thread per client, every request wakes a thread: the client's
//! bytes arrive, the kernel wakes the thread blocked in `read`, and picks a
//! CPU for it. Under the default policy (SCHED_OTHER) the woken thread may
//! *preempt* whatever runs on that CPU: often the very client that just
//! sent the request (redis-benchmark on the same machine was preempted
//! about once per 12 requests), or another of our threads in the middle
//! of a command, holding the store's lock, which every other client then
//! queues behind.
//!
//! SCHED_BATCH is the same fair scheduler with wake-up preemption off: a
//! woken thread waits for the running one to block or to use up its slice,
//! then gets its fair share as before. Redis, one thread on an event loop,
//! never preempts anyone this way; with this policy neither do we.
//!
//! Measured with redis-benchmark on a 2-core machine (ours, batch/default):
//! 50 clients 1.12-1.16x, 50 clients pipelining 16 1.09-1.17x, 1000 clients
//! 1.11-1.16x; 1 client unchanged. The price is tail latency when there are
//! far more runnable threads than CPUs (at 1000 clients p99 went from about
//! 12 ms to 18 ms), since a woken thread no longer jumps the queue.
//!
//! No privilege is needed; threads started later inherit the policy, so
//! `main` sets it before it starts any. `chrt --other -a -p 0 <pid>`
//! turns it back for a running server.

/// Puts the calling thread (and every thread it starts later) under
/// SCHED_BATCH.
pub fn use_batch_policy() -> std::io::Result<()> {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: pid 0 names the calling thread; `param` is a valid, live
    // struct that the call only reads; SCHED_BATCH requires priority 0.
    let rc = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}
