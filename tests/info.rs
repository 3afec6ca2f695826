//! INFO's counting sections, as Redis's unit/info checks them:
//! commandstats per subcommand, errorstats, latencystats and the
//! latency-tracking-info-percentiles setting.

mod common;

use common::{bulk, Reply, Server};

fn ok() -> Reply {
    Reply::Status("OK".into())
}

/// The INFO line starting with `prefix`, or "" when there is none.
fn info_line(conn: &mut common::Conn, section: &str, prefix: &str) -> String {
    let text = conn.cmd(&["INFO", section]).text();
    text.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or("")
        .to_string()
}

#[test]
fn percentiles_print_back_as_redis_formats_them() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "latency-tracking-info-percentiles",
            "0.0 50.0 99.90 100.0"
        ]),
        ok()
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "latency-tracking-info-percentiles"]),
        Reply::Array(vec![
            bulk("latency-tracking-info-percentiles"),
            bulk("0 50 99.9 100"),
        ])
    );
    c.cmd(&["SET", "a", "b"]);
    let line = info_line(&mut c, "latencystats", "latency_percentiles_usec_set:");
    assert!(line.contains(":p0=") && line.contains(",p50="), "{line}");
    assert!(
        line.contains(",p99.9=") && line.contains(",p100="),
        "{line}"
    );
    // Values carry three decimals, as Redis's "%.3f".
    assert!(line.split(',').all(|p| p.contains('.')), "{line}");
}

#[test]
fn debug_is_one_command_in_latencystats() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    assert_eq!(c.cmd(&["DEBUG", "SLEEP", "0"]), ok());
    let line = info_line(&mut c, "latencystats", "latency_percentiles_usec_debug");
    assert!(
        line.starts_with("latency_percentiles_usec_debug:p50="),
        "{line}"
    );
}

#[test]
fn subcommands_have_their_own_commandstats() {
    let server = Server::start(&[]);
    let mut c = server.conn();
    c.cmd(&["CONFIG", "RESETSTAT"]);
    c.cmd(&["XADD", "s", "*", "f", "v"]);
    let e = c.cmd(&["XGROUP", "CREATECONSUMER", "s", "g", "c"]);
    assert!(e.text().starts_with("NOGROUP"), "{e:?}");
    let line = info_line(&mut c, "commandstats", "cmdstat_xgroup");
    assert!(
        line.starts_with("cmdstat_xgroup|createconsumer:calls=1,")
            && line.ends_with(",rejected_calls=0,failed_calls=1"),
        "{line}"
    );
    assert_eq!(
        info_line(&mut c, "errorstats", "errorstat_NOGROUP"),
        "errorstat_NOGROUP:count=1"
    );
    c.cmd(&["CLIENT", "ID"]);
    let line = info_line(&mut c, "commandstats", "cmdstat_client");
    assert!(line.starts_with("cmdstat_client|id:calls=1,"), "{line}");
    // RESETSTAT clears subcommands too (its own call is counted after).
    c.cmd(&["CONFIG", "RESETSTAT"]);
    assert_eq!(info_line(&mut c, "commandstats", "cmdstat_xgroup"), "");
    assert_eq!(info_line(&mut c, "errorstats", "errorstat_NOGROUP"), "");
}
