//! The crash report: what the log says when the process dies of a fatal
//! signal (a segfault, DEBUG SEGFAULT, an abort, `kill -SIGABRT`).
//!
//! Like Redis's `sigsegvHandler`, [`install`] sets a handler for SIGSEGV,
//! SIGBUS, SIGFPE, SIGILL and SIGABRT that logs a bug report framed the
//! way Redis frames it, so operators and Redis's own tests find the same
//! lines:
//!
//! ```text
//! === REDIS BUG REPORT START: Cut & paste starting from here ===
//! ferredis 0.1.0 (Redis 7.0.15 compatible) crashed by signal: 11, si_code: 1
//! Accessing address: 0x0
//!
//! ------ STACK TRACE ------
//! <the crashing thread's backtrace>
//! === REDIS BUG REPORT END. Make sure to include from START to END. ===
//! ```
//!
//! then puts the default action back and raises the signal again, so the
//! process still dies of it (exit status, core dump) as it would have.
//!
//! Caveat, shared with Redis: logging and capturing a backtrace are not
//! async-signal-safe. A crash inside the allocator or while the logger
//! holds its lock can hang the report instead of finishing it; the first
//! line is written (and flushed) before anything heavier is attempted.
//! The handler runs on the crashing thread's own stack (not the small
//! alternate stack), so a stack overflow is not reported: its handler
//! faults again and the kernel ends the process.

use std::sync::atomic::{AtomicBool, Ordering};

/// The signals that end the process with a report.
const FATAL_SIGNALS: [libc::c_int; 5] = [
    libc::SIGSEGV,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGILL,
    libc::SIGABRT,
];

/// Set by the first thread that reports; a second crashing thread waits
/// for the first one to end the process.
static REPORTING: AtomicBool = AtomicBool::new(false);

/// Installs the crash handler for every fatal signal (call once, early).
pub fn install() {
    for signal in FATAL_SIGNALS {
        // SAFETY: `action` is fully initialised (zeroed, then the handler,
        // flags and an empty mask set) before sigaction reads it; the
        // handler has the three-argument form SA_SIGINFO requires.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_fatal_signal as *const () as libc::sighandler_t;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESETHAND;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

/// DEBUG SEGFAULT: crashes the server with SIGSEGV, through the report.
pub fn segfault() -> ! {
    // SAFETY: raise only delivers a signal to this thread; the handler
    // reports and ends the process.
    unsafe {
        libc::raise(libc::SIGSEGV);
    }
    std::process::abort()
}

/// The signal handler: logs the report, then dies of the same signal.
extern "C" fn on_fatal_signal(
    signal: libc::c_int,
    info: *mut libc::siginfo_t,
    _context: *mut libc::c_void,
) {
    if REPORTING.swap(true, Ordering::AcqRel) {
        // Another thread is reporting and will end the process.
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
    // SAFETY: the kernel passes a valid siginfo_t for SA_SIGINFO handlers;
    // it is only read, and only the fields valid for this signal.
    let (code, address, sender) = unsafe {
        match info.as_ref() {
            Some(i) => {
                let fault = matches!(
                    signal,
                    libc::SIGSEGV | libc::SIGBUS | libc::SIGFPE | libc::SIGILL
                ) && i.si_code > 0;
                let sender = (i.si_code == libc::SI_USER || i.si_code == libc::SI_TKILL)
                    .then(|| (i.si_pid(), i.si_uid()));
                (i.si_code, fault.then(|| i.si_addr()), sender)
            }
            None => (0, None, None),
        }
    };
    log::warn!("\n\n=== REDIS BUG REPORT START: Cut & paste starting from here ===");
    log::warn!(
        "ferredis {} (Redis 7.0.15 compatible) crashed by signal: {signal}, si_code: {code}",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(address) = address {
        log::warn!("Accessing address: {address:p}");
    }
    if let Some((pid, uid)) = sender {
        log::warn!("Killed by PID: {pid}, UID: {uid}");
    }
    log::logger().flush();
    let trace = std::backtrace::Backtrace::force_capture();
    log::warn!("\n------ STACK TRACE ------\n{trace}");
    log::warn!("\n=== REDIS BUG REPORT END. Make sure to include from START to END. ===\n");
    log::logger().flush();
    // SAFETY: SA_RESETHAND already restored the default action; setting it
    // again covers a handler entered another way, then the signal is
    // raised again so the process ends the way it would have without us.
    unsafe {
        libc::signal(signal, libc::SIG_DFL);
        libc::raise(signal);
    }
}
