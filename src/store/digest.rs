//! DEBUG DIGEST: a fingerprint of the whole keyspace, to compare the data
//! before and after a reload (the AOF and RDB tests' favourite check).
//!
//! Like Redis's `computeDatasetDigest`, it does not depend on the order of
//! keys (per-key digests are XORed together) nor on the order of set and
//! hash members (XORed too); list order and sorted-set scores count. It is
//! 160 bits printed as 40 hex digits, all zeros for an empty keyspace. The
//! bits are three seeded SipHash values, not Redis's SHA-1 mix, so they are
//! comparable only between runs of the same build.

use std::hash::{DefaultHasher, Hash, Hasher};

use super::{Store, Value, NO_EXPIRE};

/// Three 64-bit halves of a 160-bit digest (the last one uses 32 bits).
type Digest = [u64; 3];

fn hash_parts(parts: &[&[u8]]) -> Digest {
    let mut out = [0u64; 3];
    for (seed, slot) in out.iter_mut().enumerate() {
        let mut h = DefaultHasher::new();
        seed.hash(&mut h);
        for p in parts {
            p.hash(&mut h);
        }
        *slot = h.finish();
    }
    out[2] &= 0xffff_ffff;
    out
}

fn xor(a: &mut Digest, b: Digest) {
    for (x, y) in a.iter_mut().zip(b) {
        *x ^= y;
    }
}

/// The digest of one value (DEBUG DIGEST-VALUE), as three 64-bit parts.
fn value_digest(value: &Value) -> Digest {
    let mut value_digest = [0u64; 3];
    match value {
        Value::Str(s) => value_digest = hash_parts(&[b"string", s]),
        Value::List(l) => {
            let mut h = DefaultHasher::new();
            for item in l.iter() {
                item[..].hash(&mut h);
            }
            let n = h.finish().to_le_bytes();
            value_digest = hash_parts(&[b"list", &n]);
        }
        Value::Set(s) => {
            for m in s.iter() {
                xor(&mut value_digest, hash_parts(&[b"set", &m]));
            }
        }
        Value::Hash(h) => {
            for (f, v) in h.iter() {
                xor(&mut value_digest, hash_parts(&[b"hash", f, v]));
            }
        }
        Value::ZSet(z) => {
            for (m, score) in z.iter() {
                let s = score.to_bits().to_le_bytes();
                xor(&mut value_digest, hash_parts(&[b"zset", m, &s]));
            }
        }
        Value::Stream(st) => {
            for (id, fields) in &st.entries {
                let idb = id.to_string();
                for (f, v) in fields {
                    xor(
                        &mut value_digest,
                        hash_parts(&[b"stream", idb.as_bytes(), f, v]),
                    );
                }
            }
        }
    }
    value_digest
}

/// DEBUG DIGEST-VALUE: one value's digest as 40 hex digits.
pub fn value_digest_hex(value: &Value) -> String {
    let d = value_digest(value);
    format!("{:016x}{:016x}{:08x}", d[0], d[1], d[2])
}

/// The digest of every live key in every database, as 40 hex digits.
pub fn dataset_digest(store: &Store, now_ms: i64) -> String {
    let mut total = [0u64; 3];
    for (i, db) in store.dbs.iter().enumerate() {
        let db_tag = i.to_string();
        for (key, entry) in db.iter() {
            if db.is_expired(key, entry, now_ms) {
                continue;
            }
            let value_digest = value_digest(&entry.value);
            let mut v = Vec::with_capacity(24);
            for x in value_digest {
                v.extend_from_slice(&x.to_le_bytes());
            }
            let expire_ms = db.expire_of(key, entry);
            let expire = if expire_ms == NO_EXPIRE {
                Vec::new()
            } else {
                expire_ms.to_le_bytes().to_vec()
            };
            xor(
                &mut total,
                hash_parts(&[db_tag.as_bytes(), key, &v, &expire]),
            );
        }
    }
    if total == [0, 0, 0] {
        return "0".repeat(40);
    }
    format!("{:016x}{:016x}{:08x}", total[0], total[1], total[2])
}
