//! Listening sockets against the real binary, after Redis's
//! unit/networking: CONFIG SET port and bind rebind at run time and roll
//! back on failure, an empty bind closes TCP, and the unixsocket listener.

mod common;
use common::{free_port, Conn, Reply, Server};

fn ok() -> Reply {
    Reply::Status("OK".into())
}

#[test]
fn config_set_port_moves_the_listener() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    let new_port = free_port();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "port", &new_port.to_string()]),
        ok()
    );
    let mut moved = Conn::connect(new_port);
    assert_eq!(moved.cmd(&["PING"]), Reply::Status("PONG".into()));
    assert!(Conn::try_connect(s.port).is_err());
    // A port in use fails, and the server keeps the one it had.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let busy_port = busy.local_addr().unwrap().port().to_string();
    assert_eq!(
        moved.cmd(&["CONFIG", "SET", "port", &busy_port]),
        Reply::Error("ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs.".into())
    );
    let mut again = Conn::connect(new_port);
    assert_eq!(again.cmd(&["PING"]), Reply::Status("PONG".into()));
    assert_eq!(
        again.cmd(&["CONFIG", "GET", "port"]),
        Reply::Array(vec![
            common::bulk("port"),
            common::bulk(&new_port.to_string())
        ])
    );
}

#[test]
fn config_set_bind_fails_atomically_and_empty_bind_closes_tcp() {
    let dir = std::env::temp_dir().join(format!("ferredis-net-{}", free_port()));
    std::fs::create_dir_all(&dir).unwrap();
    let sock = dir.join("ferredis.sock");
    let sock_arg = sock.display().to_string();
    let s = Server::start_in(&dir, &["--unixsocket", &sock_arg]);
    let mut c = s.conn();
    assert_eq!(
        c.cmd(&["CONFIG", "SET", "bind", "999.999.999.999"]),
        Reply::Error("ERR CONFIG SET failed (possibly related to argument 'bind') - Failed to bind to specified addresses.".into())
    );
    assert_eq!(s.conn().cmd(&["PING"]), Reply::Status("PONG".into()));
    assert_eq!(
        c.cmd(&["CONFIG", "GET", "bind"]),
        Reply::Array(vec![common::bulk("bind"), common::bulk("127.0.0.1")])
    );
    // No TCP address at all: only the Unix socket is left.
    assert_eq!(c.cmd(&["CONFIG", "SET", "bind", ""]), ok());
    assert!(Conn::try_connect(s.port).is_err());
    let mut unix = std::os::unix::net::UnixStream::connect(&sock).expect("unix socket");
    use std::io::{Read, Write};
    unix.write_all(b"*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$4\r\nbind\r\n$9\r\n127.0.0.1\r\n")
        .unwrap();
    let mut reply = [0u8; 5];
    unix.read_exact(&mut reply).unwrap();
    assert_eq!(&reply, b"+OK\r\n");
    assert_eq!(s.conn().cmd(&["PING"]), Reply::Status("PONG".into()));
    let _ = std::fs::remove_dir_all(&dir);
}
