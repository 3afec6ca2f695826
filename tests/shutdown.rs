//! Stopping: SHUTDOWN killing a BGSAVE child and removing its temp file,
//! SHUTDOWN ABORT cancelling a signal's pending shutdown (held
//! back by DEBUG PAUSE-CRON, as in Redis's unit/shutdown), and the crash
//! report a fatal signal leaves in the log (Redis's integration/logging).

mod common;

use common::{wait_for, Conn, Reply, Server};

/// Starts a server that logs to `server.log` in its data directory.
fn start_logging() -> (Server, std::path::PathBuf) {
    let dir = common::fresh_dir("ferredis-shutdown");
    let log = dir.join("server.log");
    let log_arg = log.display().to_string();
    let server = Server::start_in(&dir, &["--logfile", &log_arg]);
    (server, log)
}

fn log_has(log: &std::path::Path, text: &str) -> bool {
    std::fs::read_to_string(log).is_ok_and(|l| l.contains(text))
}

fn process_id(c: &mut Conn) -> String {
    let info = c.cmd(&["INFO", "server"]).text();
    info.lines()
        .find_map(|l| l.strip_prefix("process_id:"))
        .expect("process_id in INFO")
        .trim()
        .to_string()
}

fn send_signal(pid: &str, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, pid])
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[test]
fn shutdown_abort_cancels_a_pending_sigterm() {
    let (server, log) = start_logging();
    let mut c = server.conn();
    assert_eq!(
        c.cmd(&["SHUTDOWN", "ABORT"]),
        Reply::Error("ERR No shutdown in progress.".into())
    );
    assert_eq!(
        c.cmd(&["DEBUG", "PAUSE-CRON", "1"]),
        Reply::Status("OK".into())
    );
    send_signal(&process_id(&mut c), "-TERM");
    // The signal thread marks the shutdown pending; paused, it waits.
    assert!(wait_for(5, || c.cmd(&["SHUTDOWN", "ABORT"])
        == Reply::Status("OK".into())));
    assert!(wait_for(5, || log_has(&log, "Shutdown manually aborted")));
    assert_eq!(
        c.cmd(&["DEBUG", "PAUSE-CRON", "0"]),
        Reply::Status("OK".into())
    );
    assert_eq!(c.cmd(&["PING"]), Reply::Status("PONG".into()));
    assert_eq!(
        c.cmd(&["SHUTDOWN", "ABORT"]),
        Reply::Error("ERR No shutdown in progress.".into())
    );
}

#[test]
fn debug_segfault_logs_a_crash_report() {
    let (server, log) = start_logging();
    let mut c = server.conn();
    c.send(&["DEBUG", "SEGFAULT"]);
    assert!(wait_for(10, || log_has(&log, "=== REDIS BUG REPORT END")));
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.contains("crashed by signal: 11"), "{text}");
    assert!(text.contains("------ STACK TRACE ------"), "{text}");
    assert!(wait_for(10, || Conn::try_connect(server.port).is_err()));
}

#[test]
fn sigabrt_logs_a_crash_report() {
    let (server, log) = start_logging();
    let mut c = server.conn();
    send_signal(&process_id(&mut c), "-ABRT");
    assert!(wait_for(10, || log_has(&log, "=== REDIS BUG REPORT END")));
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.contains("crashed by signal: 6"), "{text}");
    assert!(wait_for(10, || Conn::try_connect(server.port).is_err()));
}

#[test]
fn bgsave_child_is_killed_and_its_temp_file_removed_on_shutdown() {
    let (server, _log) = start_logging();
    let mut c = server.conn();
    for i in 0..20 {
        let k = i.to_string();
        c.cmd(&["SET", &k, &k]);
    }
    // 100 ms per key: the child is still writing when SHUTDOWN comes.
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "100000"]);
    assert_eq!(
        c.cmd(&["BGSAVE"]),
        Reply::Status("Background saving started".into())
    );
    let pid = process_id(&mut c);
    let mut child = String::new();
    assert!(wait_for(5, || {
        let out = std::process::Command::new("pgrep")
            .args(["-P", &pid])
            .output()
            .expect("run pgrep");
        child = String::from_utf8_lossy(&out.stdout).trim().to_string();
        !child.is_empty()
    }));
    let temp = server.dir.join(format!("temp-{child}.rdb"));
    assert!(wait_for(5, || temp.exists()), "{}", temp.display());
    c.send(&["SHUTDOWN", "NOSAVE"]);
    assert!(wait_for(10, || Conn::try_connect(server.port).is_err()));
    assert!(!temp.exists());
    assert!(!std::path::Path::new(&format!("/proc/{child}")).exists());
}

#[test]
fn killing_the_bgsave_child_fails_the_save() {
    let (server, _log) = start_logging();
    let mut c = server.conn();
    for i in 0..20 {
        let k = i.to_string();
        c.cmd(&["SET", &k, &k]);
    }
    c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "100000"]);
    c.cmd(&["BGSAVE"]);
    let pid = process_id(&mut c);
    let mut child = String::new();
    assert!(wait_for(5, || {
        let out = std::process::Command::new("pgrep")
            .args(["-P", &pid])
            .output()
            .expect("run pgrep");
        child = String::from_utf8_lossy(&out.stdout).trim().to_string();
        !child.is_empty()
    }));
    // The child's progress shows in the parent's INFO.
    assert!(wait_for(5, || {
        let info = c.cmd(&["INFO", "persistence"]).text();
        info.lines()
            .find_map(|l| l.strip_prefix("current_save_keys_processed:"))
            .is_some_and(|v| v.trim() != "0")
    }));
    send_signal(&child, "-KILL");
    assert!(wait_for(10, || {
        let info = c.cmd(&["INFO", "persistence"]).text();
        info.contains("rdb_bgsave_in_progress:0") && info.contains("rdb_last_bgsave_status:err")
    }));
    assert!(!server.dir.join(format!("temp-{child}.rdb")).exists());
}

/// Redis 7's graceful shutdown on a master: SHUTDOWN waits (blocked) for a
/// lagging replica. SHUTDOWN ABORT fails every waiting SHUTDOWN, also one
/// whose replica catches up just after; later, a shutdown that finds the
/// first AOF still being written refuses to exit, since that data would
/// be in no AOF.
#[test]
fn waiting_shutdowns_fail_on_abort_and_while_the_first_aof_is_written() {
    let (master, log) = start_logging();
    let replica = Server::start(&[]);
    let mut m = master.conn();
    let mut r = replica.conn();
    let ok = Reply::Status("OK".into());
    assert_eq!(
        m.cmd(&["CONFIG", "SET", "repl-diskless-sync-delay", "0"]),
        ok
    );
    let port = master.port.to_string();
    assert_eq!(r.cmd(&["REPLICAOF", "127.0.0.1", &port]), ok);
    assert!(wait_for(10, || r
        .cmd(&["INFO", "replication"])
        .text()
        .contains("master_link_status:up")));
    let replica_pid = process_id(&mut r);
    let failed = Reply::Error("ERR Errors trying to SHUTDOWN. Check logs.".into());

    send_signal(&replica_pid, "-STOP");
    assert_eq!(m.cmd(&["INCR", "k"]), Reply::Int(1));
    let mut waiting: Vec<Conn> = (0..2).map(|_| master.conn()).collect();
    for w in &mut waiting {
        w.send(&["SHUTDOWN"]);
    }
    assert!(wait_for(10, || m.info_field("clients", "blocked_clients") == "2"));
    assert_eq!(m.cmd(&["SHUTDOWN", "ABORT"]), ok);
    send_signal(&replica_pid, "-CONT");
    for w in &mut waiting {
        assert_eq!(w.read_reply(), failed);
    }
    assert!(log_has(&log, "Shutdown manually aborted"));
    assert_eq!(m.cmd(&["PING"]), Reply::Status("PONG".into()));

    // 30 s per key: the first AOF rewrite is still running.
    assert_eq!(
        m.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "30000000"]),
        ok
    );
    assert_eq!(m.cmd(&["CONFIG", "SET", "appendonly", "yes"]), ok);
    assert_eq!(m.cmd(&["SHUTDOWN"]), failed);
    assert!(log_has(&log, "Writing initial AOF, can't exit."));
    assert!(log_has(&log, "Errors trying to shut down the server."));
    assert_eq!(m.cmd(&["PING"]), Reply::Status("PONG".into()));
}
