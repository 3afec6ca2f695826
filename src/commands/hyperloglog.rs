//! HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
//!
//! The values are ordinary strings holding Redis's HLL bytes; the
//! representation and the estimator live in `store/hll.rs`. These handlers
//! check the type (a string that is not an HLL answers Redis's special
//! WRONGTYPE line, a damaged one INVALIDOBJ), keep the cached cardinality
//! in the header up to date, and count changes as Redis does: PFCOUNT with
//! one key rewrites a stale cache, so it runs under the write lock although
//! it is flagged read-only.

use super::{cmd, Command, Ctx, Group, Handler};
use crate::error::{CmdError, CmdResult};
use crate::store::hll::{self, HllError, HLL_REGISTERS};
use crate::store::{Db, RString, Store, Value};

use Handler::Write;

/// The HyperLogLog family's rows of the command table.
#[rustfmt::skip]
pub const COMMANDS: &[Command] = &[
    cmd("pfadd", -2, "write denyoom fast", (1, 1, 1), Group::HyperLogLog, "key [element [element ...]]", "Adds the specified elements to the specified HyperLogLog.", Write(pfadd_command)),
    cmd("pfcount", -2, "readonly may_replicate", (1, -1, 1), Group::HyperLogLog, "key [key ...]", "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).", Write(pfcount_command)),
    cmd("pfmerge", -2, "write denyoom", (1, -1, 1), Group::HyperLogLog, "destkey [sourcekey [sourcekey ...]]", "Merge N different HyperLogLogs into a single one.", Write(pfmerge_command)),
    cmd("pfdebug", 3, "write denyoom admin", (2, 2, 1), Group::HyperLogLog, "subcommand key", "Internal commands for debugging HyperLogLog values", Write(pfdebug_command)),
    cmd("pfselftest", 1, "admin", (0, 0, 0), Group::HyperLogLog, "", "An internal command for testing HyperLogLog values", Handler::Conn(pfselftest_command)),
];

/// The error for a damaged HLL.
fn invalid_obj() -> CmdError {
    CmdError::Raw("INVALIDOBJ Corrupted HLL object detected".into())
}

/// Maps a representation error to the reply Redis sends.
fn hll_error(e: HllError) -> CmdError {
    match e {
        HllError::NotHll => {
            CmdError::Raw("WRONGTYPE Key is not a valid HyperLogLog string value.".into())
        }
        HllError::Corrupt => invalid_obj(),
    }
}

/// hll-sparse-max-bytes, as configured (see [`crate::config::HotLimits`]).
fn sparse_max_bytes(_ctx: &Ctx) -> usize {
    crate::config::HotLimits::get(&crate::config::HOT_LIMITS.hll_sparse_bytes)
}

/// The HLL string at `key` for reading: None when absent, WRONGTYPE for
/// other types and for strings that are not HLLs.
fn read_hll<'a>(db: &'a Db, key: &[u8], now_ms: i64) -> Result<Option<&'a [u8]>, CmdError> {
    match db.get_value(key, now_ms) {
        None => Ok(None),
        Some(Value::Str(s)) => {
            hll::validate(s.as_bytes()).map_err(hll_error)?;
            Ok(Some(s.as_bytes()))
        }
        Some(_) => Err(CmdError::WrongType),
    }
}

/// The HLL string at `key` for writing (validated), created empty when
/// absent; the flag says whether it was created.
fn write_hll<'a>(
    db: &'a mut Db,
    key: &[u8],
    now_ms: i64,
) -> Result<(&'a mut RString, bool), CmdError> {
    let created = read_hll(db, key, now_ms)?.is_none();
    if created {
        let value = Value::Str(RString::raw(hll::new_sparse()));
        db.set(key, value, now_ms);
    }
    match db.get_value_mut(key, now_ms) {
        Some(Value::Str(s)) => {
            s.make_raw();
            Ok((s, created))
        }
        _ => Err(CmdError::WrongType),
    }
}

/// PFADD key [element ...] — integer: 1 when the key was created or an
/// estimate register changed, else 0.
fn pfadd_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let max_bytes = sparse_max_bytes(ctx);
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let (s, created) = write_hll(db, args[1], now)?;
    let mut updated = created as u64;
    for element in &args[2..] {
        if hll::add(s.make_raw(), element, max_bytes).map_err(|_| invalid_obj())? {
            updated += 1;
        }
    }
    if updated > 0 {
        hll::invalidate_cache(s.make_raw());
        ctx.dirty += updated;
        ctx.notify('$', "pfadd", args[1]);
    }
    ctx.reply.integer((updated > 0) as i64);
    Ok(())
}

/// PFCOUNT key [key ...] — integer: the estimated cardinality of one HLL
/// (from its cache when valid, refreshing it otherwise), or of the union
/// of several (missing keys count as empty).
fn pfcount_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    if args.len() > 2 {
        let mut max = [0u8; HLL_REGISTERS];
        for key in &args[1..] {
            if let Some(bytes) = read_hll(db, key, now)? {
                hll::merge_into(&mut max, bytes).map_err(|_| invalid_obj())?;
            }
        }
        ctx.reply.integer(hll::count_registers(&max) as i64);
        return Ok(());
    }
    if read_hll(db, args[1], now)?.is_none() {
        ctx.reply.integer(0);
        return Ok(());
    }
    let Some(Value::Str(s)) = db.get_value_mut(args[1], now) else {
        return Err(CmdError::WrongType);
    };
    let card = match hll::cached_count(s.as_bytes()) {
        Some(card) => card,
        None => {
            let card = hll::count(s.as_bytes()).map_err(|_| invalid_obj())?;
            hll::set_cached_count(s.make_raw(), card);
            ctx.dirty += 1;
            card
        }
    };
    ctx.reply.integer(card as i64);
    Ok(())
}

/// PFMERGE destkey [sourcekey ...] — `+OK`: destkey becomes the union of
/// itself and the sources (dense if any input is dense).
fn pfmerge_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let max_bytes = sparse_max_bytes(ctx);
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    let mut max = [0u8; HLL_REGISTERS];
    let mut use_dense = false;
    for key in &args[1..] {
        if let Some(bytes) = read_hll(db, key, now)? {
            use_dense |= !hll::is_sparse(bytes);
            hll::merge_into(&mut max, bytes).map_err(|_| invalid_obj())?;
        }
    }
    let (s, _) = write_hll(db, args[1], now)?;
    if use_dense {
        hll::sparse_to_dense(s.make_raw()).map_err(|_| invalid_obj())?;
    }
    for (index, &value) in max.iter().enumerate() {
        if value != 0 {
            // As in Redis, a damaged destination is not reported here.
            let _ = hll::raise_register(s.make_raw(), index, value, max_bytes);
        }
    }
    hll::invalidate_cache(s.make_raw());
    ctx.dirty += 1;
    ctx.notify('$', "pfadd", args[1]);
    ctx.reply.ok();
    Ok(())
}

/// PFDEBUG GETREG|DECODE|ENCODING|TODENSE key — GETREG: array of the 16384
/// registers (converting to dense); DECODE: the sparse opcodes as text;
/// ENCODING: "sparse" or "dense"; TODENSE: 1 when it converted, else 0.
fn pfdebug_command(ctx: &mut Ctx, store: &mut Store, args: &[&[u8]]) -> CmdResult {
    let now = ctx.now_ms;
    let db = ctx.db_mut(store);
    if read_hll(db, args[2], now)?.is_none() {
        return Err(CmdError::err("The specified key does not exist"));
    }
    let Some(Value::Str(s)) = db.get_value_mut(args[2], now) else {
        return Err(CmdError::WrongType);
    };
    match args[1].to_ascii_lowercase().as_slice() {
        b"getreg" => {
            if hll::sparse_to_dense(s.make_raw()).map_err(|_| invalid_obj())? {
                ctx.dirty += 1;
            }
            let regs = hll::dense_registers(s.as_bytes());
            ctx.reply.array(regs.len());
            for r in regs {
                ctx.reply.integer(r as i64);
            }
        }
        b"decode" => {
            if !hll::is_sparse(s.as_bytes()) {
                return Err(CmdError::err("HLL encoding is not sparse"));
            }
            ctx.reply.bulk(hll::decode_sparse(s.as_bytes()).as_bytes());
        }
        b"encoding" => {
            let name = if hll::is_sparse(s.as_bytes()) {
                "sparse"
            } else {
                "dense"
            };
            ctx.reply.simple(name);
        }
        b"todense" => {
            let converted = hll::sparse_to_dense(s.make_raw()).map_err(|_| invalid_obj())?;
            if converted {
                ctx.dirty += 1;
            }
            ctx.reply.integer(converted as i64);
        }
        _ => {
            return Err(CmdError::err(format!(
                "Unknown PFDEBUG subcommand '{}'",
                String::from_utf8_lossy(args[1])
            )))
        }
    }
    Ok(())
}

/// PFSELFTEST — `+OK`, or a TESTFAILED error naming what went wrong.
fn pfselftest_command(ctx: &mut Ctx, _args: &[&[u8]]) -> CmdResult {
    let max_bytes = sparse_max_bytes(ctx);
    hll::self_test(max_bytes).map_err(CmdError::err)?;
    ctx.reply.ok();
    Ok(())
}
