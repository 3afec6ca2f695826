//! Client memory and its limits against the real binary, after Redis's
//! unit/client-eviction and unit/obuf-limits: CLIENT LIST memory fields,
//! maxmemory-clients eviction (query buffer, MULTI queue, output, lowering
//! the limit, largest first), CLIENT NO-EVICT, INFO evicted_clients, and
//! client-output-buffer-limit (CONFIG SET checks, hard and soft limits).

mod common;
use common::{wait_for, Conn, Reply, Server};

fn ok() -> Reply {
    Reply::Status("OK".into())
}

/// The CLIENT LIST line of the client named `name`, if connected.
fn client_line(c: &mut Conn, name: &str) -> Option<String> {
    let list = c.cmd(&["CLIENT", "LIST"]).text();
    let needle = format!(" name={name} ");
    list.lines().find(|l| l.contains(&needle)).map(String::from)
}

/// A numeric field of a CLIENT LIST line.
fn field(line: &str, name: &str) -> u64 {
    let key = format!(" {name}=");
    let start = line.find(&key).expect("field present") + key.len();
    line[start..]
        .split(' ')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("numeric field")
}

fn named_client(s: &Server, name: &str) -> Conn {
    let mut c = s.conn();
    assert_eq!(c.cmd(&["CLIENT", "SETNAME", name]), ok());
    c
}

/// Sends a request whose last argument is announced but never completed.
fn send_partial_bulk(c: &mut Conn, len: usize, sent: usize) {
    let mut req = format!("*2\r\n$3\r\nset\r\n${len}\r\n").into_bytes();
    req.extend(std::iter::repeat_n(b'v', sent));
    c.send_raw(&req);
}

#[test]
fn client_list_shows_query_buffer_and_memory() {
    let s = Server::start(&[]);
    let mut control = s.conn();
    let mut c = named_client(&s, "big");
    send_partial_bulk(&mut c, 100_000, 60_000);
    assert!(wait_for(10, || {
        client_line(&mut control, "big").is_some_and(|l| field(&l, "qbuf") == 60_000)
    }));
    let line = client_line(&mut control, "big").expect("connected");
    // Redis sizes the query buffer for the whole big argument at once.
    assert_eq!(field(&line, "qbuf-free"), 100_002 - 60_000);
    assert!(field(&line, "tot-mem") > 100_000, "{line}");
    // Our own line shows the running command as qbuf (26 bytes for CLIENT LIST).
    let me = control.cmd(&["CLIENT", "INFO"]).text();
    assert!(me.contains(" qbuf=26 "), "{me}");
}

#[test]
fn query_buffer_over_maxmemory_clients_evicts_the_client() {
    let s = Server::start(&[]);
    let mut control = s.conn();
    assert_eq!(control.cmd(&["CLIENT", "NO-EVICT", "on"]), ok());
    assert_eq!(
        control.cmd(&["CONFIG", "SET", "maxmemory-clients", "1mb"]),
        ok()
    );
    let mut c = named_client(&s, "victim");
    send_partial_bulk(&mut c, 2_000_000, 10);
    assert!(wait_for(10, || client_line(&mut control, "victim").is_none()));
    assert!(c.is_closed());
    let info = control.cmd(&["INFO", "stats"]).text();
    assert!(info.contains("evicted_clients:1\r\n"), "{info}");
}

#[test]
fn no_evict_clients_are_kept() {
    let s = Server::start(&[]);
    let mut control = s.conn();
    assert_eq!(control.cmd(&["CLIENT", "NO-EVICT", "on"]), ok());
    assert_eq!(
        control.cmd(&["CONFIG", "SET", "maxmemory-clients", "200000"]),
        ok()
    );
    let mut c = named_client(&s, "kept");
    assert_eq!(c.cmd(&["CLIENT", "NO-EVICT", "on"]), ok());
    send_partial_bulk(&mut c, 300_000, 300_000);
    assert!(wait_for(10, || {
        client_line(&mut control, "kept").is_some_and(|l| field(&l, "qbuf") == 300_000)
    }));
    assert!(field(&client_line(&mut control, "kept").unwrap(), "tot-mem") > 200_000);
    assert_eq!(
        control.cmd(&["CLIENT", "NO-EVICT", "maybe"]),
        Reply::Error("ERR syntax error".into())
    );
}

#[test]
fn lowering_the_limit_evicts_largest_first() {
    let s = Server::start(&[]);
    let mut control = s.conn();
    assert_eq!(control.cmd(&["CLIENT", "NO-EVICT", "on"]), ok());
    let mut clients = Vec::new();
    for (name, size) in [("small", 50_000), ("large", 400_000)] {
        let mut c = named_client(&s, name);
        send_partial_bulk(&mut c, size, size);
        clients.push(c);
    }
    assert!(wait_for(10, || {
        client_line(&mut control, "large").is_some_and(|l| field(&l, "qbuf") == 400_000)
    }));
    // Room for everything but the large client.
    assert_eq!(
        control.cmd(&["CONFIG", "SET", "maxmemory-clients", "300000"]),
        ok()
    );
    assert!(client_line(&mut control, "large").is_none());
    assert!(client_line(&mut control, "small").is_some());
}

#[test]
fn multi_queue_counts_and_evicts() {
    let s = Server::start(&[]);
    let mut control = s.conn();
    assert_eq!(control.cmd(&["CLIENT", "NO-EVICT", "on"]), ok());
    assert_eq!(
        control.cmd(&["CONFIG", "SET", "maxmemory-clients", "500000"]),
        ok()
    );
    let mut c = named_client(&s, "tx");
    let value = "v".repeat(100_000);
    assert_eq!(c.cmd(&["MULTI"]), ok());
    assert_eq!(c.cmd(&["SET", "k", &value]), Reply::Status("QUEUED".into()));
    let line = client_line(&mut control, "tx").unwrap();
    assert!(field(&line, "multi-mem") > 100_000, "{line}");
    for _ in 0..10 {
        // The server may evict it mid-way and close the socket: a failed
        // write is expected then.
        let frame = common::Conn::encode(&[b"SET", b"k", value.as_bytes()]);
        if std::io::Write::write_all(&mut c.stream, &frame).is_err() {
            break;
        }
    }
    assert!(wait_for(10, || client_line(&mut control, "tx").is_none()));
}

#[test]
fn unread_output_is_queued_and_evicted() {
    let s = Server::start(&[]);
    let mut control = s.conn();
    assert_eq!(control.cmd(&["CLIENT", "NO-EVICT", "on"]), ok());
    assert_eq!(
        control.cmd(&["SETRANGE", "k", "1000000", "v"]),
        Reply::Int(1_000_001)
    );
    let mut c = named_client(&s, "reader");
    // Never read: once the socket buffers are full, the output waits in
    // the server (omem) and the client keeps being served.
    let mut grew = false;
    for _ in 0..200 {
        for _ in 0..4 {
            c.send(&["GET", "k"]);
        }
        if wait_for(1, || {
            client_line(&mut control, "reader").is_some_and(|l| field(&l, "omem") > 0)
        }) {
            grew = true;
            break;
        }
    }
    assert!(grew, "output never queued");
    assert_eq!(
        control.cmd(&["CONFIG", "SET", "maxmemory-clients", "100000"]),
        ok()
    );
    // It keeps asking and never reads, so its output keeps growing past
    // the limit even if the kernel has taken some of it meanwhile.
    assert!(wait_for(10, || {
        let frame = common::Conn::encode(&[b"GET", b"k"]);
        let _ = std::io::Write::write_all(&mut c.stream, &frame);
        client_line(&mut control, "reader").is_none()
    }));
}

#[test]
fn output_buffer_limit_config_is_checked() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let set = |c: &mut Conn, v: &str| {
        c.cmd(&["CONFIG", "SET", "client-output-buffer-limit", v])
            .text()
    };
    let prefix =
        "ERR CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - ";
    assert_eq!(
        set(&mut c, "wrong number"),
        format!("{prefix}Wrong number of arguments in buffer limit configuration.")
    );
    assert_eq!(
        set(&mut c, "master 10mb 10mb 60"),
        format!("{prefix}Invalid client class specified in buffer limit configuration.")
    );
    assert_eq!(
        set(&mut c, "pubsub 10mb 10mb 60s"),
        format!(
            "{prefix}Error in hard, soft or soft_seconds setting in buffer limit configuration."
        )
    );
    assert_eq!(
        set(
            &mut c,
            "normal 1mb 2mb 60 replica 3mb 4mb 70 pubsub 5mb 6mb 80"
        ),
        "OK"
    );
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "client-output-buffer-limit"]),
        Reply::Array(vec![
            common::bulk("client-output-buffer-limit"),
            common::bulk(
                "normal 1048576 2097152 60 slave 3145728 4194304 70 pubsub 5242880 6291456 80"
            ),
        ])
    );
}

#[test]
fn hard_output_limit_closes_without_reply() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "normal 100000 0 0"
        ]),
        ok()
    );
    assert_eq!(c.cmd(&["HSET", "h", "a", "b"]), Reply::Int(1));
    // A huge HRANDFIELD stops early instead of building gigabytes.
    c.send(&["HRANDFIELD", "h", "-999999999"]);
    assert!(c.is_closed());
}

#[test]
fn soft_output_limit_closes_an_idle_subscriber() {
    let s = Server::start(&[]);
    let mut control = s.conn();
    assert_eq!(
        control.cmd(&[
            "CONFIG",
            "SET",
            "client-output-buffer-limit",
            "pubsub 0 100000 1"
        ]),
        ok()
    );
    let mut sub = named_client(&s, "slowsub");
    sub.send(&["SUBSCRIBE", "ch"]);
    let _ = sub.read_reply();
    let message = "x".repeat(100_000);
    // Publish until the subscriber's queued output is over the soft limit,
    // then stop: the cron closes it a second later without more traffic.
    assert!(wait_for(30, || {
        control.cmd(&["PUBLISH", "ch", &message]);
        // Well past the limit: a few messages queued behind the one the
        // kernel buffers may still swallow.
        client_line(&mut control, "slowsub").is_none_or(|l| field(&l, "omem") > 400_000)
    }));
    assert!(wait_for(10, || client_line(&mut control, "slowsub").is_none()));
}
