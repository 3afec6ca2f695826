//! What a write command is logged as: the command that redoes its effect.
//!
//! Most writes are logged as they were sent. The exceptions make a replay
//! give the same data whenever it happens:
//!
//! ```text
//! EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT k t   -> PEXPIREAT k <abs ms>   (DEL k if t was in the past)
//! SETEX/PSETEX k t v, SET k v EX/PX/EXAT  -> SET k v PXAT <abs ms>
//! GETEX k EX/PX/EXAT/PXAT t               -> PEXPIREAT k <abs ms>
//! GETEX k PERSIST                         -> PERSIST k
//! INCRBYFLOAT k n                         -> SET k <new value> KEEPTTL
//! RESTORE k <relative ttl> v              -> RESTORE k <abs ms> v ... ABSTTL
//! ```
//!
//! The absolute times are read back from the store after the command ran
//! (this runs under the same write lock), so the log holds what actually
//! took effect. Commands with random results are rewritten by their own
//! handler through `Ctx::propagate_override`.
//!
//! Redis mirrors: `rewriteClientCommandVector` calls in `expireGenericCommand`,
//! `setGenericCommand`, `getexCommand`, `incrbyfloatCommand`, `restoreCommand`.

use crate::store::{Db, Value, NO_EXPIRE};

/// The commands to log for `args`, which just ran successfully on `db`.
pub fn effect(db: &Db, args: &[&[u8]], now_ms: i64) -> Vec<Vec<Vec<u8>>> {
    let verbatim = || vec![args.iter().map(|a| a.to_vec()).collect::<Vec<_>>()];
    let Some(name) = args.first() else {
        return Vec::new();
    };
    let name = name.to_ascii_lowercase();
    let key = args.get(1).copied().unwrap_or_default();
    match name.as_slice() {
        b"expire" | b"pexpire" | b"expireat" | b"pexpireat" => expire_as_pexpireat(db, key, now_ms),
        b"setex" | b"psetex" => set_with_pxat(db, key, args.get(3).copied(), now_ms),
        b"set" => {
            let has_ttl_option = args.iter().skip(3).any(|a| {
                a.eq_ignore_ascii_case(b"ex")
                    || a.eq_ignore_ascii_case(b"px")
                    || a.eq_ignore_ascii_case(b"exat")
                    || a.eq_ignore_ascii_case(b"pxat")
            });
            if has_ttl_option {
                set_with_pxat(db, key, args.get(2).copied(), now_ms)
            } else {
                verbatim()
            }
        }
        b"getex" => {
            if args
                .iter()
                .skip(2)
                .any(|a| a.eq_ignore_ascii_case(b"persist"))
            {
                vec![vec![b"PERSIST".to_vec(), key.to_vec()]]
            } else {
                expire_as_pexpireat(db, key, now_ms)
            }
        }
        b"incrbyfloat" => match db.get(key, now_ms).map(|e| &e.value) {
            Some(Value::Str(s)) => vec![vec![
                b"SET".to_vec(),
                key.to_vec(),
                s.to_vec(),
                b"KEEPTTL".to_vec(),
            ]],
            _ => verbatim(),
        },
        b"restore" => restore_absolute(args, now_ms),
        // GETDEL deletes: replicas and the AOF get the DEL it is.
        b"getdel" => vec![vec![b"DEL".to_vec(), key.to_vec()]],
        // Redis propagates GETSET as the SET it is.
        b"getset" if args.len() == 3 => {
            vec![vec![b"SET".to_vec(), key.to_vec(), args[2].to_vec()]]
        }
        _ => verbatim(),
    }
}

/// Commands logged even when they changed nothing: FLUSHDB and FLUSHALL
/// on empty databases still reach the AOF, as in Redis.
pub fn always_logged(args: &[&[u8]]) -> bool {
    args.first()
        .is_some_and(|n| n.eq_ignore_ascii_case(b"flushdb") || n.eq_ignore_ascii_case(b"flushall"))
}

/// PEXPIREAT with the key's TTL as it now stands; DEL when the command
/// deleted the key (a time in the past).
fn expire_as_pexpireat(db: &Db, key: &[u8], now_ms: i64) -> Vec<Vec<Vec<u8>>> {
    match db.get(key, now_ms).map(|e| db.expire_of(key, e)) {
        Some(at) if at != NO_EXPIRE => vec![vec![
            b"PEXPIREAT".to_vec(),
            key.to_vec(),
            at.to_string().into_bytes(),
        ]],
        Some(_) => vec![vec![b"PERSIST".to_vec(), key.to_vec()]],
        None => vec![vec![b"DEL".to_vec(), key.to_vec()]],
    }
}

/// SET key value PXAT <abs ms>, as Redis 7.0 logs SET EX / SETEX.
fn set_with_pxat(db: &Db, key: &[u8], value: Option<&[u8]>, now_ms: i64) -> Vec<Vec<Vec<u8>>> {
    let Some(value) = value else {
        return Vec::new();
    };
    match db.get(key, now_ms).map(|e| db.expire_of(key, e)) {
        Some(at) if at != NO_EXPIRE => vec![vec![
            b"SET".to_vec(),
            key.to_vec(),
            value.to_vec(),
            b"PXAT".to_vec(),
            at.to_string().into_bytes(),
        ]],
        Some(_) => vec![vec![b"SET".to_vec(), key.to_vec(), value.to_vec()]],
        None => vec![vec![b"DEL".to_vec(), key.to_vec()]],
    }
}

/// RESTORE with a relative TTL becomes RESTORE ... ABSTTL.
fn restore_absolute(args: &[&[u8]], now_ms: i64) -> Vec<Vec<Vec<u8>>> {
    let mut out: Vec<Vec<u8>> = args.iter().map(|a| a.to_vec()).collect();
    let absttl = args
        .iter()
        .skip(4)
        .any(|a| a.eq_ignore_ascii_case(b"absttl"));
    let ttl = args
        .get(2)
        .and_then(|t| crate::number::parse_i64(t))
        .unwrap_or(0);
    if !absttl && ttl > 0 {
        if let Some(slot) = out.get_mut(2) {
            *slot = (now_ms + ttl).to_string().into_bytes();
        }
        out.push(b"ABSTTL".to_vec());
    }
    vec![out]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(v: &[&str]) -> Vec<Vec<u8>> {
        v.iter().map(|s| s.as_bytes().to_vec()).collect()
    }

    #[test]
    fn relative_expiry_is_logged_absolute() {
        let mut db = Db::new();
        db.set_with_expire(b"k", Value::string("v"), 5000, 1000);
        let out = effect(&db, &[b"EXPIRE", b"k", b"4"], 1000);
        assert_eq!(out, vec![args(&["PEXPIREAT", "k", "5000"])]);
        let out = effect(&db, &[b"setex", b"k", b"4", b"v"], 1000);
        assert_eq!(out, vec![args(&["SET", "k", "v", "PXAT", "5000"])]);
        let out = effect(&db, &[b"set", b"k", b"v", b"ex", b"4"], 1000);
        assert_eq!(out, vec![args(&["SET", "k", "v", "PXAT", "5000"])]);
    }

    #[test]
    fn expire_in_the_past_is_a_del_and_plain_writes_are_verbatim() {
        let db = Db::new();
        assert_eq!(
            effect(&db, &[b"expire", b"gone", b"-1"], 1000),
            vec![args(&["DEL", "gone"])]
        );
        assert_eq!(
            effect(&db, &[b"set", b"a", b"b"], 1000),
            vec![args(&["set", "a", "b"])]
        );
    }

    #[test]
    fn getdel_is_a_del() {
        let db = Db::new();
        assert_eq!(
            effect(&db, &[b"GETDEL", b"k"], 0),
            vec![vec![b"DEL".to_vec(), b"k".to_vec()]]
        );
    }

    #[test]
    fn incrbyfloat_is_a_set_keepttl() {
        let mut db = Db::new();
        db.set(b"f", Value::string("1.5"), 0);
        assert_eq!(
            effect(&db, &[b"incrbyfloat", b"f", b"0.5"], 0),
            vec![args(&["SET", "f", "1.5", "KEEPTTL"])]
        );
    }
}
