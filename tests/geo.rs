//! Geo commands: GEOADD, GEODIST, GEOHASH, GEOPOS, GEOSEARCH(STORE),
//! GEORADIUS(BYMEMBER)[_RO]. Expected replies were taken from a real Redis
//! 7.0.15 given the same commands; a randomized side-by-side run compares
//! searches with a live redis-server when one is installed.

mod common;
mod side_by_side;

use common::{bulk, Reply, Server};
use side_by_side::Rng;

fn err(text: &str) -> Reply {
    Reply::Error(text.into())
}

fn strs(v: &[&str]) -> Reply {
    Reply::Array(v.iter().map(|s| bulk(s)).collect())
}

fn sicily(c: &mut common::Conn) {
    assert_eq!(
        c.cmd(&[
            "GEOADD",
            "Sicily",
            "13.361389",
            "38.115556",
            "Palermo",
            "15.087269",
            "37.502669",
            "Catania"
        ]),
        Reply::Int(2)
    );
}

#[test]
fn geoadd_options_and_errors() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    sicily(&mut c);
    assert_eq!(
        c.cmd(&[
            "GEOADD",
            "Sicily",
            "XX",
            "13.361389",
            "38.115556",
            "Palermo",
            "1",
            "1",
            "New"
        ]),
        Reply::Int(0)
    );
    assert_eq!(
        c.cmd(&["GEOADD", "Sicily", "NX", "CH", "13.4", "38.1", "Palermo", "1", "1", "New"]),
        Reply::Int(1)
    );
    assert_eq!(
        c.cmd(&["GEOADD", "Sicily", "CH", "13.4", "38.1", "Palermo", "2", "2", "New2"]),
        Reply::Int(2)
    );
    assert_eq!(
        c.cmd(&["GEOADD", "nokey", "XX", "1", "1", "x"]),
        Reply::Int(0)
    );
    assert_eq!(c.cmd(&["EXISTS", "nokey"]), Reply::Int(0));
    assert_eq!(
        c.cmd(&["GEOADD", "Sicily", "NX", "XX", "10", "10", "x"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["GEOADD", "Sicily", "FOO", "10", "10", "x"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["GEOADD", "Sicily", "10", "10", "x", "1"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["GEOADD", "Sicily", "200", "100", "x"]),
        err("ERR invalid longitude,latitude pair 200.000000,100.000000")
    );
    assert_eq!(
        c.cmd(&["GEOADD", "Sicily", "abc", "10", "x"]),
        err("ERR value is not a valid float")
    );
    c.cmd(&["SET", "str", "x"]);
    assert_eq!(
        c.cmd(&["GEOADD", "str", "1", "1", "x"]),
        err("WRONGTYPE Operation against a key holding the wrong kind of value")
    );
}

#[test]
fn positions_hashes_and_distances() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    sicily(&mut c);
    assert_eq!(
        c.cmd(&["GEOPOS", "Sicily", "Palermo", "nope"]),
        Reply::Array(vec![
            strs(&["13.36138933897018433", "38.11555639549629859"]),
            Reply::Nil,
        ])
    );
    assert_eq!(
        c.cmd(&["GEOHASH", "Sicily", "Palermo", "Catania", "nope"]),
        Reply::Array(vec![bulk("sqc8b49rny0"), bulk("sqdtr74hyu0"), Reply::Nil])
    );
    assert_eq!(
        c.cmd(&["GEODIST", "Sicily", "Palermo", "Catania"]),
        bulk("166274.1516")
    );
    assert_eq!(
        c.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "km"]),
        bulk("166.2742")
    );
    assert_eq!(
        c.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "mi"]),
        bulk("103.3182")
    );
    assert_eq!(c.cmd(&["GEODIST", "Sicily", "Palermo", "nope"]), Reply::Nil);
    assert_eq!(c.cmd(&["GEODIST", "nokey", "a", "b"]), Reply::Nil);
    assert_eq!(
        c.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "yd"]),
        err("ERR unsupported unit provided. please use M, KM, FT, MI")
    );
    assert_eq!(
        c.cmd(&["GEODIST", "Sicily", "Palermo", "Catania", "km", "x"]),
        err("ERR syntax error")
    );
}

#[test]
fn radius_and_search() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    sicily(&mut c);
    assert_eq!(
        c.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "ASC"]),
        strs(&["Catania", "Palermo"])
    );
    assert_eq!(
        c.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "WITHDIST",
            "WITHHASH",
            "WITHCOORD",
            "DESC"
        ]),
        Reply::Array(vec![
            Reply::Array(vec![
                bulk("Palermo"),
                bulk("190.4424"),
                Reply::Int(3479099956230698),
                strs(&["13.36138933897018433", "38.11555639549629859"]),
            ]),
            Reply::Array(vec![
                bulk("Catania"),
                bulk("56.4413"),
                Reply::Int(3479447370796909),
                strs(&["15.08726745843887329", "37.50266842333162032"]),
            ]),
        ])
    );
    assert_eq!(
        c.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "2000",
            "km",
            "COUNT",
            "1"
        ]),
        strs(&["Catania"])
    );
    assert_eq!(
        c.cmd(&["GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km"]),
        strs(&["Palermo", "Catania"])
    );
    assert_eq!(
        c.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "400",
            "400",
            "km",
            "ASC",
            "WITHDIST"
        ]),
        Reply::Array(vec![
            Reply::Array(vec![bulk("Catania"), bulk("56.4413")]),
            Reply::Array(vec![bulk("Palermo"), bulk("190.4424")]),
        ])
    );
    assert_eq!(
        c.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "FROMMEMBER",
            "Palermo",
            "BYRADIUS",
            "10",
            "km"
        ]),
        strs(&["Palermo"])
    );
    assert_eq!(
        c.cmd(&[
            "GEOSEARCH",
            "nokey",
            "FROMMEMBER",
            "x",
            "BYBOX",
            "1",
            "1",
            "km"
        ]),
        Reply::Array(vec![])
    );
}

#[test]
fn search_errors() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    sicily(&mut c);
    assert_eq!(
        c.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "ANY"]),
        err("ERR the ANY argument requires COUNT argument")
    );
    assert_eq!(
        c.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "0"]),
        err("ERR COUNT must be > 0")
    );
    assert_eq!(
        c.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT"]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["GEORADIUS", "Sicily", "15", "37", "-1", "km"]),
        err("ERR radius cannot be negative")
    );
    assert_eq!(
        c.cmd(&["GEORADIUS", "Sicily", "15", "37", "x", "km"]),
        err("ERR need numeric radius")
    );
    assert_eq!(
        c.cmd(&["GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "d", "WITHDIST"]),
        err("ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
    );
    assert_eq!(
        c.cmd(&[
            "GEORADIUS_RO",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "STORE",
            "d"
        ]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&["GEORADIUSBYMEMBER", "Sicily", "nope", "200", "km"]),
        err("ERR could not decode requested zset member")
    );
    assert_eq!(
        c.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "WITHDIST",
            "ASC"
        ]),
        err("ERR exactly one of BYRADIUS and BYBOX can be specified for GEOSEARCH")
    );
    assert_eq!(
        c.cmd(&[
            "geosearch",
            "Sicily",
            "BYRADIUS",
            "10",
            "km",
            "ASC",
            "WITHDIST"
        ]),
        err("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for geosearch")
    );
    assert_eq!(
        c.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "FROMMEMBER",
            "Palermo",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "1",
            "1",
            "km"
        ]),
        err("ERR syntax error")
    );
    assert_eq!(
        c.cmd(&[
            "GEOSEARCH",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYBOX",
            "-1",
            "2",
            "km"
        ]),
        err("ERR height or width cannot be negative")
    );
    assert_eq!(
        c.cmd(&[
            "GEOSEARCHSTORE",
            "d",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km",
            "WITHDIST"
        ]),
        err("ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
    );
}

#[test]
fn store_and_storedist() {
    let s = Server::start(&[]);
    let mut c = s.conn();
    sicily(&mut c);
    assert_eq!(
        c.cmd(&[
            "GEORADIUS",
            "Sicily",
            "15",
            "37",
            "200",
            "km",
            "STORE",
            "dst"
        ]),
        Reply::Int(2)
    );
    assert_eq!(
        c.cmd(&["GEOPOS", "dst", "Catania"]),
        c.cmd(&["GEOPOS", "Sicily", "Catania"])
    );
    assert_eq!(
        c.cmd(&[
            "GEOSEARCHSTORE",
            "dst",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "100",
            "km",
            "STOREDIST"
        ]),
        Reply::Int(1)
    );
    assert_eq!(c.cmd(&["TYPE", "dst"]), Reply::Status("zset".into()));
    assert_eq!(
        c.cmd(&[
            "GEOSEARCHSTORE",
            "dst",
            "Sicily",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "1",
            "m"
        ]),
        Reply::Int(0)
    );
    assert_eq!(c.cmd(&["EXISTS", "dst"]), Reply::Int(0));
    c.cmd(&["SET", "dst", "x"]);
    assert_eq!(
        c.cmd(&[
            "GEOSEARCHSTORE",
            "dst",
            "nokey",
            "FROMLONLAT",
            "15",
            "37",
            "BYRADIUS",
            "200",
            "km"
        ]),
        Reply::Int(0)
    );
    assert_eq!(c.cmd(&["EXISTS", "dst"]), Reply::Int(0));
}

#[test]
fn side_by_side_with_real_redis() {
    let Some(mut p) = side_by_side::Pair::start() else {
        return;
    };
    let mut rng = Rng(0x6e0_5eed_8765_4321);
    let mut args: Vec<String> = vec!["GEOADD".into(), "g".into()];
    for j in 0..3000 {
        args.push(rng.float(-180.0, 180.0).to_string());
        args.push(rng.float(-85.0, 85.0).to_string());
        args.push(format!("p{j}"));
    }
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    p.check_str(&a);
    let sorts: [&[&str]; 6] = [
        &[],
        &["ASC"],
        &["DESC"],
        &["COUNT", "5"],
        &["COUNT", "3", "DESC"],
        &["COUNT", "4", "ANY"],
    ];
    let withs: [&[&str]; 4] = [
        &[],
        &["WITHDIST"],
        &["WITHCOORD", "WITHHASH"],
        &["WITHDIST", "WITHCOORD", "WITHHASH"],
    ];
    for _ in 0..300 {
        let lon = rng.float(-180.0, 180.0).to_string();
        let lat = rng.float(-85.0, 85.0).to_string();
        let unit = ["m", "km", "mi", "ft"][rng.below(4) as usize];
        let mut r = [1.0, 50.0, 500.0, 3000.0, 10000.0][rng.below(5) as usize];
        if unit == "m" || unit == "ft" {
            r *= 1000.0;
        }
        let radius = r.to_string();
        let height = (r * rng.float(0.0, 2.0)).to_string();
        let sort = sorts[rng.below(6) as usize];
        let with = withs[rng.below(4) as usize];
        let member = format!("p{}", rng.below(3000));
        let other = format!("p{}", rng.below(3000));
        let mut cmds: Vec<Vec<&str>> = vec![
            vec!["GEORADIUS", "g", &lon, &lat, &radius, unit],
            vec![
                "GEOSEARCH",
                "g",
                "FROMLONLAT",
                &lon,
                &lat,
                "BYBOX",
                &radius,
                &height,
                unit,
            ],
            vec![
                "GEOSEARCH",
                "g",
                "FROMMEMBER",
                &member,
                "BYRADIUS",
                &radius,
                unit,
            ],
        ];
        for c in &mut cmds {
            c.extend_from_slice(sort);
            c.extend_from_slice(with);
        }
        let mut store = vec![
            "GEORADIUSBYMEMBER",
            "g",
            &member,
            &radius,
            unit,
            "STOREDIST",
            "st",
        ];
        store.extend_from_slice(sort);
        cmds.push(store);
        cmds.push(vec!["GEOPOS", "st", &member, &other]);
        cmds.push(vec!["GEODIST", "g", &member, &other, unit]);
        cmds.push(vec!["GEOHASH", "g", &member, &other]);
        for c in cmds {
            p.check_str(&c);
        }
    }
}
