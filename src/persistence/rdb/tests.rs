//! Unit tests of the RDB reader and writer: round trips of every value in
//! its compact and plain encodings, the encoding thresholds, byte-exact
//! agreement with payloads real Redis 7.0 produced, hand-made files in the
//! older encodings, and hostile input (every truncation, byte flips).

use super::*;
use crate::persistence::listpack::PackedEntry;
use crate::persistence::{crc64::crc64, ziplist};

fn b(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

fn entry(db: usize, key: &str, value: RdbValue, expire_ms: Option<i64>) -> RdbEntry {
    RdbEntry {
        db,
        key: b(key),
        value,
        expire_ms,
        idle_s: None,
        freq: None,
    }
}

fn write_file(entries: &[RdbEntry], options: WriteOptions) -> Vec<u8> {
    let mut w = RdbWriter::new(Vec::new(), options).unwrap();
    w.write_default_aux(1_700_000_000, 123_456).unwrap();
    let mut dbs: Vec<usize> = entries.iter().map(|e| e.db).collect();
    dbs.dedup();
    for db in dbs {
        let keys: Vec<&RdbEntry> = entries.iter().filter(|e| e.db == db).collect();
        let expires = keys.iter().filter(|e| e.expire_ms.is_some()).count();
        w.select_db(db, keys.len() as u64, expires as u64).unwrap();
        for e in keys {
            w.write_entry(e).unwrap();
        }
    }
    w.finish().unwrap()
}

fn read_all(data: &[u8], options: ReadOptions) -> Result<Vec<RdbEvent>, RdbError> {
    let reader = RdbReader::with_options(data, options)?;
    reader.collect()
}

fn read_entries(data: &[u8]) -> Vec<RdbEntry> {
    read_all(data, ReadOptions::default())
        .unwrap()
        .into_iter()
        .filter_map(|e| match e {
            RdbEvent::Entry(e) => Some(e),
            _ => None,
        })
        .collect()
}

/// Compares values, treating sets, hashes and zsets as unordered.
fn normalized(v: &RdbValue) -> RdbValue {
    let mut v = v.clone();
    match &mut v {
        RdbValue::Set(m) => m.sort(),
        RdbValue::Hash(p) => p.sort(),
        RdbValue::ZSet(p) => p.sort_by(|a, b| a.0.cmp(&b.0)),
        _ => {}
    }
    v
}

fn ints(range: std::ops::Range<i64>) -> Vec<Vec<u8>> {
    range.map(|i| i.to_string().into_bytes()).collect()
}

/// Every kind of value, each in its compact and its plain encoding, with the
/// type byte Redis 7.0 would pick.
fn sample_values() -> Vec<(RdbValue, u8)> {
    let long = "x".repeat(65);
    let hash_small: Vec<(Vec<u8>, Vec<u8>)> = (0..512)
        .map(|i| (b(&format!("f{i}")), b(&"v".repeat(64))))
        .collect();
    let mut hash_513 = hash_small.clone();
    hash_513.push((b("f512"), b("v")));
    let zset_small: Vec<(Vec<u8>, f64)> = (0..128)
        .map(|i| (b(&format!("m{i}")), i as f64 * 1.5 - 20.0))
        .collect();
    let mut zset_129 = zset_small.clone();
    zset_129.push((b("m128"), 0.1));
    vec![
        (RdbValue::String(b("hello")), TYPE_STRING),
        (RdbValue::String(b("12345")), TYPE_STRING),
        (RdbValue::String(b("-2147483648")), TYPE_STRING),
        (RdbValue::String(b("2147483648")), TYPE_STRING),
        (RdbValue::String(b("0123")), TYPE_STRING),
        (RdbValue::String(b("")), TYPE_STRING),
        (RdbValue::String(vec![b'z'; 10_000]), TYPE_STRING),
        (RdbValue::String((0..=255u8).collect()), TYPE_STRING),
        (
            RdbValue::List(vec![b("a"), b("1"), b("-5"), b(""), b(&long)]),
            TYPE_LIST_QUICKLIST_2,
        ),
        (
            RdbValue::List((0..5000).map(|i| b(&format!("element-{i}"))).collect()),
            TYPE_LIST_QUICKLIST_2,
        ),
        (
            RdbValue::List(vec![vec![b'q'; 20_000], b("tail")]),
            TYPE_LIST_QUICKLIST_2,
        ),
        (RdbValue::Set(ints(-3..509)), TYPE_SET_INTSET),
        (RdbValue::Set(ints(0..512)), TYPE_SET_INTSET),
        (RdbValue::Set(ints(0..513)), TYPE_SET),
        (RdbValue::Set(vec![b("1"), b("2"), b("x")]), TYPE_SET),
        (RdbValue::Set(vec![b("1"), b("01")]), TYPE_SET),
        (
            RdbValue::Set(vec![
                b("-9223372036854775808"),
                b("9223372036854775807"),
                b("0"),
            ]),
            TYPE_SET_INTSET,
        ),
        (RdbValue::Hash(hash_small), TYPE_HASH_LISTPACK),
        (RdbValue::Hash(hash_513), TYPE_HASH),
        (RdbValue::Hash(vec![(b("f"), b(&long))]), TYPE_HASH),
        (RdbValue::Hash(vec![(b(&long), b("v"))]), TYPE_HASH),
        (
            RdbValue::Hash(vec![(b("n"), b("-7")), (b("1"), b("2"))]),
            TYPE_HASH_LISTPACK,
        ),
        (RdbValue::ZSet(zset_small), TYPE_ZSET_LISTPACK),
        (RdbValue::ZSet(zset_129), TYPE_ZSET_2),
        (
            RdbValue::ZSet(vec![
                (b("pinf"), f64::INFINITY),
                (b("ninf"), f64::NEG_INFINITY),
                (b("tiny"), 1e-300),
                (b("big"), 1e300),
                (b("third"), 1.0 / 3.0),
                (b("negzero"), -0.0),
                (b("int"), 42.0),
                (b("huge-int"), 9_007_199_254_740_993.0),
            ]),
            TYPE_ZSET_LISTPACK,
        ),
        (
            RdbValue::ZSet(vec![(b(&long), f64::INFINITY), (b("a"), f64::NEG_INFINITY)]),
            TYPE_ZSET_2,
        ),
    ]
}

#[test]
fn every_value_round_trips_through_a_file_and_dump() {
    for compression in [true, false] {
        let options = WriteOptions {
            compression,
            ..WriteOptions::default()
        };
        let samples = sample_values();
        let entries: Vec<RdbEntry> = samples
            .iter()
            .enumerate()
            .map(|(i, (v, _))| entry(i % 3, &format!("key:{i}"), v.clone(), None))
            .collect();
        let mut sorted = entries.clone();
        sorted.sort_by_key(|e| e.db);
        let data = write_file(&sorted, options);
        let read = read_entries(&data);
        assert_eq!(read.len(), sorted.len());
        for (got, want) in read.iter().zip(&sorted) {
            assert_eq!(got.key, want.key);
            assert_eq!(got.db, want.db);
            assert_eq!(
                normalized(&got.value),
                normalized(&want.value),
                "key {:?}",
                want.key
            );
        }
        for (value, type_byte) in &samples {
            let payload = encode_value(value, &options);
            assert_eq!(payload[0], *type_byte, "type of {value:?}");
            let decoded = decode_value(&payload).unwrap();
            assert_eq!(normalized(&decoded), normalized(value));
        }
    }
}

#[test]
fn limits_come_from_the_options() {
    let options = WriteOptions {
        limits: EncodingLimits {
            hash_max_listpack_entries: 128,
            set_max_intset_entries: 2,
            zset_max_listpack_value_bytes: 3,
            ..EncodingLimits::default()
        },
        ..WriteOptions::default()
    };
    let hash = |n: usize| RdbValue::Hash((0..n).map(|i| (b(&i.to_string()), b("v"))).collect());
    assert_eq!(encode_value(&hash(128), &options)[0], TYPE_HASH_LISTPACK);
    assert_eq!(encode_value(&hash(129), &options)[0], TYPE_HASH);
    assert_eq!(
        encode_value(&RdbValue::Set(ints(0..2)), &options)[0],
        TYPE_SET_INTSET
    );
    assert_eq!(
        encode_value(&RdbValue::Set(ints(0..3)), &options)[0],
        TYPE_SET
    );
    let zset = |m: &str| RdbValue::ZSet(vec![(b(m), 1.0)]);
    assert_eq!(encode_value(&zset("abc"), &options)[0], TYPE_ZSET_LISTPACK);
    assert_eq!(encode_value(&zset("abcd"), &options)[0], TYPE_ZSET_2);
}

#[test]
fn negative_zero_score_keeps_its_sign() {
    let payload = encode_value(
        &RdbValue::ZSet(vec![(b("z"), -0.0)]),
        &WriteOptions::default(),
    );
    let RdbValue::ZSet(pairs) = decode_value(&payload).unwrap() else {
        panic!("not a zset")
    };
    assert!(pairs[0].1 == 0.0 && pairs[0].1.is_sign_negative());
}

#[test]
fn metadata_round_trips() {
    let mut e = entry(5, "k", RdbValue::String(b("v")), Some(1_900_000_000_123));
    e.idle_s = Some(300);
    e.freq = Some(7);
    let data = write_file(std::slice::from_ref(&e), WriteOptions::default());
    let events = read_all(&data, ReadOptions::default()).unwrap();
    assert!(events.contains(&RdbEvent::Aux {
        key: b("redis-ver"),
        value: b("7.0.15")
    }));
    assert!(events.contains(&RdbEvent::Aux {
        key: b("redis-bits"),
        value: b("64")
    }));
    assert!(events.contains(&RdbEvent::ResizeDb {
        db: 5,
        db_size: 1,
        expires_size: 1
    }));
    assert_eq!(events.last(), Some(&RdbEvent::Entry(e)));
}

#[test]
fn small_values_match_redis_bytes() {
    // DUMP of RPUSH l a b 1 -5 1000, taken from Redis 7.0.15.
    let redis = b"\x12\x01\x02\x15\x15\x00\x00\x00\x05\x00\x81a\x02\x81b\x02\x01\x01\xdf\xfb\x02\xc3\xe8\x02\xff\n\x00'\x00\n8\x86\x8fS@";
    let list = RdbValue::List(vec![b("a"), b("b"), b("1"), b("-5"), b("1000")]);
    assert_eq!(encode_value(&list, &WriteOptions::default()), redis);
    assert_eq!(decode_value(redis).unwrap(), list);
    // DUMP of SET k ("a" x 30): LZF-compressed by liblzf.
    let redis = b"\x00\xc3\t\x1e\x01aa\xe0\x11\x00\x01aa\n\x00Es|\xbb+d{\xbb";
    assert_eq!(
        decode_value(redis).unwrap(),
        RdbValue::String(vec![b'a'; 30])
    );
}

#[test]
fn dump_payload_is_verified() {
    let mut payload = encode_value(&RdbValue::String(b("value")), &WriteOptions::default());
    assert!(decode_value(&payload).is_ok());
    let last = payload.len() - 1;
    payload[last] ^= 1;
    assert!(decode_value(&payload).is_err());
    assert!(decode_value(b"short").is_err());
    // A newer RDB version in the footer is refused even with a good CRC.
    let mut newer = encode_value(&RdbValue::String(b("v")), &WriteOptions::default());
    let n = newer.len();
    newer[n - 10] = 11;
    let crc = crc64(0, &newer[..n - 8]);
    newer[n - 8..].copy_from_slice(&crc.to_le_bytes());
    assert!(decode_value(&newer).is_err());
}

/// Builds a file by hand: header, body, EOF and checksum.
fn raw_file(version: u32, body: &[u8]) -> Vec<u8> {
    let mut data = format!("REDIS{version:04}").into_bytes();
    data.extend_from_slice(body);
    data.push(OP_EOF);
    if version >= 5 {
        let crc = crc64(0, &data);
        data.extend_from_slice(&crc.to_le_bytes());
    }
    data
}

/// A raw string: length byte (under 64) and bytes.
fn s6(s: &[u8]) -> Vec<u8> {
    let mut v = vec![s.len() as u8];
    v.extend_from_slice(s);
    v
}

#[test]
fn reads_old_encodings() {
    let mut body = Vec::new();
    // Plain list (1) with an old seconds expiry.
    body.push(OP_EXPIRETIME);
    body.extend_from_slice(&1_500_000_000i32.to_le_bytes());
    body.push(TYPE_LIST);
    body.extend(s6(b"list"));
    body.push(3);
    body.extend(s6(b"a"));
    body.extend([0xc0, 0xf6]); // INT8 -10
    body.extend([0xc1, 0x10, 0x27]); // INT16 10000
                                     // Zset (3) with text scores and the NaN/inf markers.
    body.push(TYPE_ZSET);
    body.extend(s6(b"zset"));
    body.push(3);
    body.extend(s6(b"m1"));
    body.extend(s6(b"2.5"));
    body.extend(s6(b"m2"));
    body.push(254);
    body.extend(s6(b"m3"));
    body.push(255);
    // Zipmap hash (9).
    body.push(TYPE_HASH_ZIPMAP);
    body.extend(s6(b"zm"));
    body.extend(s6(
        b"\x02\x03foo\x03\x00bar\x05hello\x05\x02world\x00\x00\xff",
    ));
    // Ziplist list (10), ziplist zset (12), ziplist hash (13), quicklist (14).
    let zl = ziplist::build(&[PackedEntry::Bytes(b"x"), PackedEntry::Int(-3)]);
    body.push(TYPE_LIST_ZIPLIST);
    body.extend(s6(b"zl"));
    body.extend(s6(&zl));
    let zz = ziplist::build(&[
        PackedEntry::Bytes(b"a"),
        PackedEntry::Int(1),
        PackedEntry::Bytes(b"b"),
        PackedEntry::Bytes(b"1.5"),
    ]);
    body.push(TYPE_ZSET_ZIPLIST);
    body.extend(s6(b"zz"));
    body.extend(s6(&zz));
    let zh = ziplist::build(&[PackedEntry::Bytes(b"f"), PackedEntry::Int(300)]);
    body.push(TYPE_HASH_ZIPLIST);
    body.extend(s6(b"zh"));
    body.extend(s6(&zh));
    body.push(TYPE_LIST_QUICKLIST);
    body.extend(s6(b"ql"));
    body.push(2);
    body.extend(s6(&zl));
    body.extend(s6(&zl));
    // An empty plain set is skipped, as Redis does.
    body.push(TYPE_SET);
    body.extend(s6(b"empty"));
    body.push(0);
    let data = raw_file(6, &body);
    let got = read_entries(&data);
    let values: Vec<(Vec<u8>, RdbValue)> = got.into_iter().map(|e| (e.key, e.value)).collect();
    assert_eq!(
        values,
        vec![
            (
                b("list"),
                RdbValue::List(vec![b("a"), b("-10"), b("10000")])
            ),
            (
                b("zset"),
                RdbValue::ZSet(vec![
                    (b("m1"), 2.5),
                    (b("m2"), f64::INFINITY),
                    (b("m3"), f64::NEG_INFINITY)
                ])
            ),
            (
                b("zm"),
                RdbValue::Hash(vec![(b("foo"), b("bar")), (b("hello"), b("world"))])
            ),
            (b("zl"), RdbValue::List(vec![b("x"), b("-3")])),
            (b("zz"), RdbValue::ZSet(vec![(b("a"), 1.0), (b("b"), 1.5)])),
            (b("zh"), RdbValue::Hash(vec![(b("f"), b("300"))])),
            (
                b("ql"),
                RdbValue::List(vec![b("x"), b("-3"), b("x"), b("-3")])
            ),
        ]
    );
    let first = read_entries(&data).remove(0);
    assert_eq!(first.expire_ms, Some(1_500_000_000_000));
    // Version 4 and older have no checksum.
    assert_eq!(read_entries(&raw_file(4, &body)).len(), 7);
}

#[test]
fn reads_set_listpack_and_plain_quicklist_nodes() {
    let mut lp = crate::persistence::listpack::ListpackBuilder::new();
    for m in [&b"a"[..], b"17", b"-3"] {
        lp.push(m);
    }
    let lp = lp.finish();
    let mut body = vec![TYPE_SET_LISTPACK];
    body.extend(s6(b"set"));
    body.extend(s6(&lp));
    // Quicklist 2: a PLAIN node (one raw element) then a PACKED node.
    body.push(TYPE_LIST_QUICKLIST_2);
    body.extend(s6(b"list"));
    body.push(2);
    body.push(QUICKLIST_NODE_PLAIN as u8);
    body.extend(s6(b"plain element"));
    body.push(QUICKLIST_NODE_PACKED as u8);
    body.extend(s6(&lp));
    let got = read_entries(&raw_file(10, &body));
    assert_eq!(got[0].value, RdbValue::Set(vec![b("a"), b("17"), b("-3")]));
    assert_eq!(
        got[1].value,
        RdbValue::List(vec![b("plain element"), b("a"), b("17"), b("-3")])
    );
}

#[test]
fn version_and_signature_are_checked() {
    assert!(RdbReader::new(&raw_file(10, &[])[..]).is_ok());
    assert!(RdbReader::new(&raw_file(1, &[])[..]).is_ok());
    let err = RdbReader::new(&raw_file(11, &[])[..]).err().unwrap();
    assert!(err.message.contains("version 11"), "{err}");
    assert!(RdbReader::new(&b"REDIX0009\xff"[..]).is_err());
    assert!(RdbReader::new(&b"REDIS00a9\xff"[..]).is_err());
}

#[test]
fn checksum_is_verified() {
    let data = write_file(
        &[entry(0, "k", RdbValue::String(b("v")), None)],
        WriteOptions::default(),
    );
    let mut bad = data.clone();
    let n = bad.len();
    bad[n - 1] ^= 0x40;
    let err = read_all(&bad, ReadOptions::default()).unwrap_err();
    assert!(err.message.contains("checksum"), "{err}");
    assert!(read_all(
        &bad,
        ReadOptions {
            verify_checksum: false
        }
    )
    .is_ok());
    // rdbchecksum no: zeros, accepted.
    let unchecked = write_file(
        &[entry(0, "k", RdbValue::String(b("v")), None)],
        WriteOptions {
            checksum: false,
            ..WriteOptions::default()
        },
    );
    assert_eq!(&unchecked[unchecked.len() - 8..], &[0; 8]);
    assert!(read_all(&unchecked, ReadOptions::default()).is_ok());
}

#[test]
fn unsupported_types_name_the_offset() {
    // Streams are supported: one without entries or groups (all counters
    // zero) is kept, as Redis keeps empty streams.
    let mut body = vec![TYPE_STREAM_LISTPACKS_2];
    body.extend(s6(b"stream"));
    body.extend([0; 10]);
    let entries = read_entries(&raw_file(10, &body));
    assert_eq!(entries.len(), 1);
    assert!(matches!(&entries[0].value, RdbValue::Stream(s) if s.is_empty()));
    let mut body = vec![TYPE_MODULE_2];
    body.extend(s6(b"m"));
    assert!(read_all(&raw_file(10, &body), ReadOptions::default()).is_err());
    assert!(read_all(&raw_file(10, &[8, 1, b'k']), ReadOptions::default()).is_err());
}

#[test]
fn module_aux_and_functions_are_skipped() {
    let mut body = vec![OP_MODULE_AUX];
    body.extend([0x81, 1, 2, 3, 4, 5, 6, 7, 8]); // module id, 64-bit length
    body.extend([2, 2]); // when_opcode UINT, when
    body.extend([2, 7, 1, 5, 3, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
    body.extend(s6(b"data"));
    body.push(0); // module EOF
    body.push(OP_FUNCTION2);
    body.extend(s6(
        b"#!lua name=lib\nredis.register_function('f', function() end)",
    ));
    body.push(TYPE_STRING);
    body.extend(s6(b"k"));
    body.extend(s6(b"v"));
    let got = read_entries(&raw_file(10, &body));
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].value, RdbValue::String(b("v")));
}

/// A small file with one key of each kind, compact and plain.
fn small_valid_file() -> Vec<u8> {
    let entries = vec![
        entry(
            0,
            "s",
            RdbValue::String(b("hello world hello world hello")),
            Some(42),
        ),
        entry(0, "i", RdbValue::String(b("-300")), None),
        entry(0, "l", RdbValue::List(vec![b("a"), b("77")]), None),
        entry(1, "is", RdbValue::Set(vec![b("1"), b("-70000")]), None),
        entry(1, "ps", RdbValue::Set(vec![b("x"), b("y")]), None),
        entry(1, "h", RdbValue::Hash(vec![(b("f"), b("v"))]), None),
        entry(
            2,
            "z",
            RdbValue::ZSet(vec![(b("m"), 1.5), (b("n"), f64::INFINITY)]),
            None,
        ),
        entry(
            2,
            "bigz",
            RdbValue::ZSet(vec![(b(&"m".repeat(70)), 2.0)]),
            None,
        ),
        entry(
            2,
            "bigh",
            RdbValue::Hash(vec![(b("f"), b(&"v".repeat(70)))]),
            None,
        ),
    ];
    write_file(&entries, WriteOptions::default())
}

#[test]
fn every_truncation_is_an_error() {
    let data = small_valid_file();
    assert_eq!(read_entries(&data).len(), 9);
    for cut in 0..data.len() {
        for verify_checksum in [true, false] {
            let result = read_all(&data[..cut], ReadOptions { verify_checksum });
            assert!(
                result.is_err(),
                "truncated at {cut} of {} was accepted",
                data.len()
            );
        }
    }
    let err = read_all(&data[..data.len() - 3], ReadOptions::default()).unwrap_err();
    assert!(err.message.contains("unexpected end of file"), "{err}");
}

#[test]
fn byte_flips_never_panic() {
    let data = small_valid_file();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for i in 0..data.len() {
        for bit in 0..8 {
            let mut bad = data.clone();
            bad[i] ^= 1 << bit;
            let _ = read_all(
                &bad,
                ReadOptions {
                    verify_checksum: false,
                },
            );
        }
    }
    for _ in 0..3000 {
        let mut bad = data.clone();
        for _ in 0..(next() % 4 + 1) {
            let i = (next() as usize) % bad.len();
            bad[i] = next() as u8;
        }
        let _ = read_all(
            &bad,
            ReadOptions {
                verify_checksum: false,
            },
        );
    }
}

#[test]
fn hostile_lengths_do_not_allocate() {
    // A string claiming 2^63 bytes, a list claiming 2^60 elements.
    let mut body = vec![TYPE_STRING];
    body.extend(s6(b"k"));
    body.push(LEN_64BIT);
    body.extend((1u64 << 63).to_be_bytes());
    assert!(read_all(&raw_file(10, &body), ReadOptions::default()).is_err());
    let mut body = vec![TYPE_LIST];
    body.extend(s6(b"k"));
    body.push(LEN_64BIT);
    body.extend((1u64 << 60).to_be_bytes());
    assert!(read_all(&raw_file(10, &body), ReadOptions::default()).is_err());
    // An LZF string claiming a huge original length.
    let mut body = vec![TYPE_STRING];
    body.extend(s6(b"k"));
    body.extend([0xc3, 2, LEN_32BIT, 0x7f, 0xff, 0xff, 0xff, 0, b'a']);
    assert!(read_all(&raw_file(10, &body), ReadOptions::default()).is_err());
}

#[test]
fn canonical_ints() {
    for (text, want) in [
        ("0", Some(0)),
        ("-1", Some(-1)),
        ("123", Some(123)),
        ("9223372036854775807", Some(i64::MAX)),
        ("-9223372036854775808", Some(i64::MIN)),
        ("9223372036854775808", None),
        ("-0", None),
        ("01", None),
        ("+1", None),
        ("", None),
        ("-", None),
        (" 1", None),
        ("1a", None),
    ] {
        assert_eq!(parse_canonical_int(text.as_bytes()), want, "{text}");
    }
}

#[test]
fn list_nodes_respect_the_size_limit() {
    let items: Vec<Vec<u8>> = (0..3000)
        .map(|i| b(&format!("value-number-{i:06}")))
        .collect();
    let options = WriteOptions {
        compression: false,
        ..WriteOptions::default()
    };
    let payload = encode_value(&RdbValue::List(items.clone()), &options);
    let mut input = reader::Input::new(&payload[1..]);
    let nodes = input.read_len().unwrap();
    assert!(nodes > 1);
    for _ in 0..nodes {
        assert_eq!(input.read_len().unwrap(), QUICKLIST_NODE_PACKED);
        let blob = input.read_string().unwrap();
        assert!(blob.len() <= 8192, "node of {} bytes", blob.len());
    }
    assert_eq!(decode_value(&payload).unwrap(), RdbValue::List(items));
}

/// A DUMP payload for `type_byte` + `body` with a correct footer.
fn payload(type_byte: u8, body: &[u8]) -> Vec<u8> {
    let mut p = vec![type_byte];
    p.extend_from_slice(body);
    p.extend_from_slice(&(RDB_VERSION as u16).to_le_bytes());
    let crc = crc64(0, &p);
    p.extend_from_slice(&crc.to_le_bytes());
    p
}

fn decode_error(type_byte: u8, body: &[u8]) -> String {
    decode_value(&payload(type_byte, body))
        .expect_err("corrupt value accepted")
        .message
}

#[test]
fn duplicates_are_refused_with_redis_words() {
    let dup_set = [vec![2], s6(b"a"), s6(b"a")].concat();
    assert_eq!(
        decode_error(TYPE_SET, &dup_set),
        "Duplicate set members detected"
    );
    let dup_hash = [vec![2], s6(b"f"), s6(b"1"), s6(b"f"), s6(b"2")].concat();
    assert_eq!(
        decode_error(TYPE_HASH, &dup_hash),
        "Duplicate hash fields detected"
    );
    let mut dup_zset = vec![2];
    for _ in 0..2 {
        dup_zset.extend(s6(b"m"));
        dup_zset.extend(1.0f64.to_le_bytes());
    }
    assert_eq!(
        decode_error(TYPE_ZSET_2, &dup_zset),
        "Duplicate zset fields detected"
    );
    // A hash listpack (via the zset listpack's builder) with field "a" twice.
    let mut lp = crate::persistence::listpack::ListpackBuilder::new();
    for item in [&b"a"[..], b"1", b"a", b"2"] {
        lp.push(item);
    }
    let blob = lp.finish();
    let body = [s6(&blob)].concat();
    let message = decode_error(TYPE_HASH_LISTPACK, &body);
    assert!(
        message.starts_with("Hash listpack integrity check failed")
            && message.contains("listpack with dup elements"),
        "{message}"
    );
}

#[test]
fn blob_errors_name_the_encoding_as_redis_does() {
    // Three elements: odd for a hash or a sorted set.
    let mut lp = crate::persistence::listpack::ListpackBuilder::new();
    for item in [&b"a"[..], b"1", b"b"] {
        lp.push(item);
    }
    let blob = s6(&lp.finish());
    for (type_byte, kind) in [
        (TYPE_HASH_LISTPACK, "Hash listpack"),
        (TYPE_ZSET_LISTPACK, "Zset listpack"),
    ] {
        let message = decode_error(type_byte, &blob);
        assert!(
            message.starts_with(&format!("{kind} integrity check failed")),
            "{message}"
        );
    }
    // An empty zipmap and an empty intset are corrupt, not empty keys.
    assert!(decode_error(TYPE_HASH_ZIPMAP, &s6(b"\x00\xff")).starts_with("Zipmap integrity"));
    let empty_intset = [2u8, 0, 0, 0, 0, 0, 0, 0];
    assert!(decode_error(TYPE_SET_INTSET, &s6(&empty_intset)).starts_with("Intset integrity"));
    // A quicklist 2 node of zero bytes.
    let node = [vec![1, QUICKLIST_NODE_PLAIN as u8], s6(b"")].concat();
    assert!(decode_error(TYPE_LIST_QUICKLIST_2, &node).starts_with("Quicklist listpack"));
}

#[test]
fn streams_are_cross_checked() {
    use crate::store::stream::{NodeLimits, Stream, StreamId};
    let mut s = Stream::new();
    let limits = NodeLimits {
        max_entries: 100,
        max_bytes: 4096,
    };
    s.append(StreamId::new(1, 1), vec![(b("f"), b("v"))], limits);
    s.last_id = StreamId::new(1, 1);
    s.entries_added = 1;
    let good = encode_value(&RdbValue::Stream(Box::new(s)), &WriteOptions::default());
    assert!(decode_value(&good).is_ok());
    // entries_added (the last length before the group count, here 0
    // groups) rewritten to 0: fewer additions than entries.
    let mut bad = good[..good.len() - 10].to_vec();
    let n = bad.len();
    assert_eq!(&bad[n - 2..], &[1, 0], "entries_added 1, then 0 groups");
    bad[n - 2] = 0;
    let message = decode_error(bad[0], &bad[1..]);
    assert!(message.contains("entries_added"), "{message}");
}
