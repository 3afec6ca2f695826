//! HyperLogLog: Redis's byte-exact representation, kept inside an ordinary string.
//!
//! A HyperLogLog estimates how many distinct elements were added, in at
//! most 12KB. Each element is hashed (MurmurHash64A, seed 0xadc83b19); the
//! low 14 bits choose one of 16384 registers, and the register keeps the
//! longest run "0...01" seen in the remaining 50 bits (1..=51). Because the
//! value is a plain string, GET/SET, DUMP/RESTORE and APPEND all work on it,
//! so every function here must survive arbitrary (corrupted) bytes.
//!
//! ```text
//! offset 0    4     5          8              16
//!        "HYLL" enc  0 0 0      card (u64 LE)  registers...
//!                │              └ cached cardinality; bit 63 set = stale
//!                └ 0 dense: 16384 x 6 bits, LSB first, 12288 bytes
//!                  1 sparse: run-length opcodes:
//!                      00xxxxxx           ZERO:  x+1 zero registers (1..64)
//!                      01xxxxxx yyyyyyyy  XZERO: xy+1 zero registers (1..16384)
//!                      1vvvvvxx           VAL:   x+1 registers of value v+1 (1..32)
//! ```
//!
//! New values start sparse (two XZERO opcodes); a register above 32, or a
//! sparse string that would grow past `hll-sparse-max-bytes`, converts the
//! value to dense for good. Sparse edits split and re-merge opcodes exactly
//! as Redis's hyperloglog.c does, so the bytes (and therefore GET, DUMP and
//! the cached cardinality) match a real server given the same inputs.
//!
//! The estimate is Otmar Ertl's improved estimator ("New cardinality
//! estimation algorithms for HyperLogLog sketches", arXiv:1702.01284), the
//! one Redis 7.0 uses, computed from the histogram of register values.

/// Bits of the hash that choose the register.
const HLL_P: u32 = 14;
/// Bits left for the run of zeros.
const HLL_Q: u32 = 64 - HLL_P;
/// Number of registers.
pub const HLL_REGISTERS: usize = 1 << HLL_P;
/// Bits per dense register.
const HLL_BITS: usize = 6;
/// Largest register value.
const HLL_REGISTER_MAX: u8 = (1 << HLL_BITS) - 1;
/// Header size in bytes.
pub const HLL_HDR_SIZE: usize = 16;
/// Size of a dense value in bytes.
pub const HLL_DENSE_SIZE: usize = HLL_HDR_SIZE + (HLL_REGISTERS * HLL_BITS).div_ceil(8);
/// The header's encoding byte for dense values.
pub const HLL_DENSE: u8 = 0;
/// The header's encoding byte for sparse values.
pub const HLL_SPARSE: u8 = 1;
/// Offset of the encoding byte.
const ENCODING_AT: usize = 4;
/// Offset of the cached cardinality.
const CARD_AT: usize = 8;

const SPARSE_VAL_MAX_VALUE: u8 = 32;
const SPARSE_VAL_MAX_LEN: usize = 4;
const SPARSE_ZERO_MAX_LEN: usize = 64;
const SPARSE_XZERO_MAX_LEN: usize = 16384;
/// 0.5 / ln(2), the estimator's constant for m -> infinity.
const HLL_ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// Why a value cannot be used as a HyperLogLog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HllError {
    /// Not an HLL at all (bad magic, encoding or dense length): WRONGTYPE.
    NotHll,
    /// Looks like an HLL but the sparse opcodes do not add up: INVALIDOBJ.
    Corrupt,
}

/// One sparse opcode, decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `len` zero registers (ZERO or XZERO).
    Zero { len: usize, xzero: bool },
    /// `len` registers holding `value`.
    Val { value: u8, len: usize },
}

impl Op {
    /// The opcode at `p` (a truncated XZERO reads its missing byte as 0).
    fn at(bytes: &[u8], p: usize) -> Op {
        let b = bytes.get(p).copied().unwrap_or(0);
        if b & 0x80 != 0 {
            Op::Val {
                value: ((b >> 2) & 0x1f) + 1,
                len: (b & 0x3) as usize + 1,
            }
        } else if b & 0xc0 == 0x40 {
            let low = bytes.get(p + 1).copied().unwrap_or(0) as usize;
            Op::Zero {
                len: (((b & 0x3f) as usize) << 8 | low) + 1,
                xzero: true,
            }
        } else {
            Op::Zero {
                len: (b & 0x3f) as usize + 1,
                xzero: false,
            }
        }
    }

    /// Bytes the opcode takes.
    fn size(self) -> usize {
        match self {
            Op::Zero { xzero: true, .. } => 2,
            _ => 1,
        }
    }

    /// Registers it covers.
    fn span(self) -> usize {
        match self {
            Op::Zero { len, .. } | Op::Val { len, .. } => len,
        }
    }
}

fn push_val(out: &mut Vec<u8>, value: u8, len: usize) {
    out.push(0x80 | ((value - 1) << 2) | (len as u8 - 1));
}

fn push_zeros(out: &mut Vec<u8>, len: usize) {
    if len > SPARSE_ZERO_MAX_LEN {
        let l = len - 1;
        out.push(0x40 | (l >> 8) as u8);
        out.push((l & 0xff) as u8);
    } else {
        out.push((len - 1) as u8);
    }
}

/// Walks the opcodes of a sparse value, calling `f(first_register, value,
/// run_length)` for each run (value 0 for ZERO/XZERO). Corrupt when the
/// runs do not add up to exactly 16384 registers; a run that would pass the
/// end stops the walk first (the overflow checks of Redis's fix for
/// CVE-2025-32023, which Redis 7.0.15 as shipped by Debian carries).
fn walk_sparse(bytes: &[u8], mut f: impl FnMut(usize, u8, usize)) -> Result<(), HllError> {
    let mut idx = 0;
    let mut p = HLL_HDR_SIZE;
    while p < bytes.len() {
        let op = Op::at(bytes, p);
        let (value, len) = match op {
            Op::Zero { len, .. } => (0, len),
            Op::Val { value, len } => (value, len),
        };
        if idx + len > HLL_REGISTERS {
            return Err(HllError::Corrupt);
        }
        f(idx, value, len);
        idx += len;
        p += op.size();
    }
    if idx != HLL_REGISTERS {
        return Err(HllError::Corrupt);
    }
    Ok(())
}

/// MurmurHash2, 64-bit version (MurmurHash64A), reading 8-byte blocks as
/// little-endian words as Redis does on every platform.
pub fn murmurhash64a(key: &[u8], seed: u64) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = seed ^ (key.len() as u64).wrapping_mul(M);
    let mut chunks = key.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let mut k = u64::from_le_bytes(word).wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= (b as u64) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element goes to and the length of its "0...01" run.
pub fn pattern_len(element: &[u8]) -> (usize, u8) {
    let hash = murmurhash64a(element, 0xadc8_3b19);
    let index = (hash as usize) & (HLL_REGISTERS - 1);
    // The sentinel bit caps the run at Q+1.
    let rest = (hash >> HLL_P) | (1u64 << HLL_Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// A new, empty HyperLogLog: sparse, every register zero, cached count 0.
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HLL_HDR_SIZE + 2);
    v.extend_from_slice(b"HYLL");
    v.push(HLL_SPARSE);
    v.extend_from_slice(&[0; 11]);
    let mut left = HLL_REGISTERS;
    while left > 0 {
        let n = left.min(SPARSE_XZERO_MAX_LEN);
        push_zeros(&mut v, n);
        left -= n;
    }
    v
}

/// Checks that `bytes` is a HyperLogLog: magic, a known encoding, and the
/// exact size for dense values (Redis's `isHLLObjectOrReply`).
pub fn validate(bytes: &[u8]) -> Result<(), HllError> {
    if bytes.len() < HLL_HDR_SIZE || &bytes[..4] != b"HYLL" {
        return Err(HllError::NotHll);
    }
    match bytes[ENCODING_AT] {
        HLL_DENSE if bytes.len() == HLL_DENSE_SIZE => Ok(()),
        HLL_SPARSE => Ok(()),
        _ => Err(HllError::NotHll),
    }
}

/// True when the value is sparse (call after [`validate`]).
pub fn is_sparse(bytes: &[u8]) -> bool {
    bytes.get(ENCODING_AT) == Some(&HLL_SPARSE)
}

/// The cached cardinality, when still valid.
pub fn cached_count(bytes: &[u8]) -> Option<u64> {
    let card: [u8; 8] = bytes.get(CARD_AT..CARD_AT + 8)?.try_into().ok()?;
    if card[7] & 0x80 != 0 {
        return None;
    }
    Some(u64::from_le_bytes(card))
}

/// Stores a freshly computed cardinality in the header.
pub fn set_cached_count(bytes: &mut [u8], count: u64) {
    if let Some(card) = bytes.get_mut(CARD_AT..CARD_AT + 8) {
        card.copy_from_slice(&count.to_le_bytes());
    }
}

/// Marks the cached cardinality stale.
pub fn invalidate_cache(bytes: &mut [u8]) {
    if let Some(b) = bytes.get_mut(CARD_AT + 7) {
        *b |= 0x80;
    }
}

/// Dense register `index` (`regs` starts after the header).
fn dense_get(regs: &[u8], index: usize) -> u8 {
    let byte = index * HLL_BITS / 8;
    let fb = (index * HLL_BITS) & 7;
    let b0 = regs.get(byte).copied().unwrap_or(0) as u16;
    let b1 = regs.get(byte + 1).copied().unwrap_or(0) as u16;
    (((b0 >> fb) | (b1 << (8 - fb))) as u8) & HLL_REGISTER_MAX
}

/// Sets dense register `index` to `value`.
fn dense_set(regs: &mut [u8], index: usize, value: u8) {
    let byte = index * HLL_BITS / 8;
    let fb = (index * HLL_BITS) & 7;
    let v = value as u16;
    if let Some(b) = regs.get_mut(byte) {
        *b &= !((HLL_REGISTER_MAX as u16) << fb) as u8;
        *b |= (v << fb) as u8;
    }
    if let Some(b) = regs.get_mut(byte + 1) {
        *b &= !((HLL_REGISTER_MAX as u16) >> (8 - fb)) as u8;
        *b |= (v >> (8 - fb)) as u8;
    }
}

/// Raises dense register `index` to `count`; true when it changed.
fn dense_raise(regs: &mut [u8], index: usize, count: u8) -> bool {
    if count > dense_get(regs, index) {
        dense_set(regs, index, count);
        true
    } else {
        false
    }
}

/// Converts a sparse value to dense in place (the header, cached count
/// included, is kept). Ok(false) when it was already dense.
pub fn sparse_to_dense(bytes: &mut Vec<u8>) -> Result<bool, HllError> {
    if !is_sparse(bytes) {
        return Ok(false);
    }
    if bytes.len() < HLL_HDR_SIZE {
        return Err(HllError::Corrupt);
    }
    let mut dense = vec![0u8; HLL_DENSE_SIZE];
    dense[..HLL_HDR_SIZE].copy_from_slice(&bytes[..HLL_HDR_SIZE]);
    dense[ENCODING_AT] = HLL_DENSE;
    walk_sparse(bytes, |first, value, len| {
        if value > 0 {
            for i in first..first + len {
                dense_set(&mut dense[HLL_HDR_SIZE..], i, value);
            }
        }
    })?;
    *bytes = dense;
    Ok(true)
}

/// Raises register `index` to `count` in a sparse value, splitting and
/// re-merging opcodes as Redis does; converts to dense when the value does
/// not fit the sparse form or would pass `sparse_max_bytes`. True when a
/// register changed.
fn sparse_raise(
    bytes: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max_bytes: usize,
) -> Result<bool, HllError> {
    if count > SPARSE_VAL_MAX_VALUE {
        return promote(bytes, index, count);
    }
    // Step 1: find the opcode covering `index`.
    let mut p = HLL_HDR_SIZE;
    let mut first = 0;
    let mut prev: Option<usize> = None;
    let mut op = None;
    while p < bytes.len() {
        let this = Op::at(bytes, p);
        if index < first + this.span() {
            op = Some(this);
            break;
        }
        prev = Some(p);
        p += this.size();
        first += this.span();
    }
    let Some(op) = op else {
        return Err(HllError::Corrupt);
    };
    // Step 2: the trivial in-place cases, else the split sequence.
    let last = first + op.span() - 1;
    let mut seq = Vec::with_capacity(5);
    match op {
        Op::Val { value, .. } if value >= count => return Ok(false),
        Op::Val { len: 1, .. }
        | Op::Zero {
            len: 1,
            xzero: false,
        } => {
            seq.clear();
            push_val(&mut seq, count, 1);
            bytes[p] = seq[0];
            sparse_merge_from(bytes, prev.unwrap_or(HLL_HDR_SIZE));
            invalidate_cache(bytes);
            return Ok(true);
        }
        Op::Zero { .. } => {
            if index != first {
                push_zeros(&mut seq, index - first);
            }
            push_val(&mut seq, count, 1);
            if index != last {
                push_zeros(&mut seq, last - index);
            }
        }
        Op::Val { value, .. } => {
            if index != first {
                push_val(&mut seq, value, index - first);
            }
            push_val(&mut seq, count, 1);
            if index != last {
                push_val(&mut seq, value, last - index);
            }
        }
    }
    // Step 3: put the sequence in place of the opcode.
    let old_len = op.size();
    if seq.len() > old_len && bytes.len() + seq.len() - old_len > sparse_max_bytes {
        return promote(bytes, index, count);
    }
    let end = (p + old_len).min(bytes.len());
    bytes.splice(p..end, seq);
    // Step 4: merge adjacent equal VAL opcodes.
    sparse_merge_from(bytes, prev.unwrap_or(HLL_HDR_SIZE));
    invalidate_cache(bytes);
    Ok(true)
}

/// Merges adjacent VAL opcodes of equal value (up to the VAL length
/// limit), scanning at most five opcodes from `p`.
fn sparse_merge_from(bytes: &mut Vec<u8>, mut p: usize) {
    let mut scan = 5;
    while p < bytes.len() && scan > 0 {
        scan -= 1;
        let op = Op::at(bytes, p);
        let Op::Val { value: v1, len: l1 } = op else {
            p += op.size();
            continue;
        };
        if p + 1 < bytes.len() {
            if let Op::Val { value: v2, len: l2 } = Op::at(bytes, p + 1) {
                if v1 == v2 && l1 + l2 <= SPARSE_VAL_MAX_LEN {
                    let mut merged = Vec::with_capacity(1);
                    push_val(&mut merged, v1, l1 + l2);
                    bytes[p + 1] = merged[0];
                    bytes.remove(p);
                    continue;
                }
            }
        }
        p += 1;
    }
}

/// Converts to dense and sets the register there.
fn promote(bytes: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, HllError> {
    sparse_to_dense(bytes)?;
    let regs = bytes.get_mut(HLL_HDR_SIZE..).ok_or(HllError::Corrupt)?;
    let changed = dense_raise(regs, index, count);
    invalidate_cache(bytes);
    Ok(changed)
}

/// Raises register `index` to `count` in either encoding; true when it
/// changed (the cached count is then stale).
pub fn raise_register(
    bytes: &mut Vec<u8>,
    index: usize,
    count: u8,
    sparse_max_bytes: usize,
) -> Result<bool, HllError> {
    match bytes.get(ENCODING_AT) {
        Some(&HLL_DENSE) => {
            let regs = bytes.get_mut(HLL_HDR_SIZE..).ok_or(HllError::Corrupt)?;
            Ok(dense_raise(regs, index, count))
        }
        Some(&HLL_SPARSE) => sparse_raise(bytes, index, count, sparse_max_bytes),
        _ => Err(HllError::Corrupt),
    }
}

/// Adds one element (PFADD); true when a register changed.
pub fn add(bytes: &mut Vec<u8>, element: &[u8], sparse_max_bytes: usize) -> Result<bool, HllError> {
    let (index, count) = pattern_len(element);
    raise_register(bytes, index, count, sparse_max_bytes)
}

/// Folds the value's registers into `max` (one byte per register), as
/// PFMERGE and PFCOUNT with several keys do.
pub fn merge_into(max: &mut [u8; HLL_REGISTERS], bytes: &[u8]) -> Result<(), HllError> {
    let regs = bytes.get(HLL_HDR_SIZE..).unwrap_or_default();
    if !is_sparse(bytes) {
        for (i, m) in max.iter_mut().enumerate() {
            *m = (*m).max(dense_get(regs, i));
        }
        return Ok(());
    }
    walk_sparse(bytes, |first, value, len| {
        for m in &mut max[first..first + len] {
            *m = (*m).max(value);
        }
    })
}

/// Every register of a dense value (PFDEBUG GETREG).
pub fn dense_registers(bytes: &[u8]) -> Vec<u8> {
    let regs = bytes.get(HLL_HDR_SIZE..).unwrap_or_default();
    (0..HLL_REGISTERS).map(|i| dense_get(regs, i)).collect()
}

/// The opcodes of a sparse value as PFDEBUG DECODE prints them
/// ("z:N", "Z:N", "v:value,len", space separated).
pub fn decode_sparse(bytes: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut p = HLL_HDR_SIZE;
    while p < bytes.len() {
        let op = Op::at(bytes, p);
        parts.push(match op {
            Op::Zero { len, xzero: false } => format!("z:{len}"),
            Op::Zero { len, xzero: true } => format!("Z:{len}"),
            Op::Val { value, len } => format!("v:{value},{len}"),
        });
        p += op.size();
    }
    parts.join(" ")
}

/// Ertl's sigma function.
fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prev = z;
        z += x * y;
        y += y;
        if z_prev == z {
            return z;
        }
    }
}

/// Ertl's tau function.
fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_prev = z;
        y *= 0.5;
        z -= (1.0 - x) * (1.0 - x) * y;
        if z_prev == z {
            return z / 3.0;
        }
    }
}

/// The estimate from a histogram of register values.
fn estimate(histogram: &[u32; 64]) -> u64 {
    let m = HLL_REGISTERS as f64;
    let q = HLL_Q as usize;
    let mut z = m * tau((m - histogram[q + 1] as f64) / m);
    for j in (1..=q).rev() {
        z += histogram[j] as f64;
        z *= 0.5;
    }
    z += m * sigma(histogram[0] as f64 / m);
    (HLL_ALPHA_INF * m * m / z).round() as u64
}

/// The estimated cardinality of a value (ignores the cache); Corrupt when
/// sparse opcodes do not cover exactly 16384 registers.
pub fn count(bytes: &[u8]) -> Result<u64, HllError> {
    let mut histogram = [0u32; 64];
    let regs = bytes.get(HLL_HDR_SIZE..).unwrap_or_default();
    if !is_sparse(bytes) {
        for i in 0..HLL_REGISTERS {
            histogram[dense_get(regs, i) as usize] += 1;
        }
        return Ok(estimate(&histogram));
    }
    walk_sparse(bytes, |_, value, len| {
        histogram[value as usize] += len as u32
    })?;
    Ok(estimate(&histogram))
}

/// The estimated cardinality of plain byte registers (several-key PFCOUNT).
pub fn count_registers(max: &[u8; HLL_REGISTERS]) -> u64 {
    let mut histogram = [0u32; 64];
    for &r in max.iter() {
        histogram[(r & 63) as usize] += 1;
    }
    estimate(&histogram)
}

/// PFSELFTEST: checks dense register access with random values, then adds
/// ten million distinct elements to a dense and a sparse value side by
/// side, checking at each power of ten that they agree and that the error
/// stays within six standard errors. Err carries the TESTFAILED text.
pub fn self_test(sparse_max_bytes: usize) -> Result<(), String> {
    let mut rng = 0x2545_f491_4f6c_dd1du64 ^ crate::util::now_ms() as u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut dense = vec![0u8; HLL_DENSE_SIZE];
    dense[..4].copy_from_slice(b"HYLL");
    let mut expected = vec![0u8; HLL_REGISTERS];
    for _ in 0..1000 {
        for (i, e) in expected.iter_mut().enumerate() {
            *e = (next() & HLL_REGISTER_MAX as u64) as u8;
            dense_set(&mut dense[HLL_HDR_SIZE..], i, *e);
        }
        for (i, &e) in expected.iter().enumerate() {
            let got = dense_get(&dense[HLL_HDR_SIZE..], i);
            if got != e {
                return Err(format!(
                    "TESTFAILED Register {i} should be {e} but is {got}"
                ));
            }
        }
    }
    dense[HLL_HDR_SIZE..].fill(0);
    let mut sparse = new_sparse();
    let relerr = 1.04 / (HLL_REGISTERS as f64).sqrt();
    let seed = next();
    let mut checkpoint: u64 = 1;
    for j in 1..=10_000_000u64 {
        let ele = (j ^ seed).to_le_bytes();
        let (index, cnt) = pattern_len(&ele);
        dense_raise(&mut dense[HLL_HDR_SIZE..], index, cnt);
        raise_register(&mut sparse, index, cnt, sparse_max_bytes)
            .map_err(|_| "TESTFAILED corrupted sparse value".to_string())?;
        if j != checkpoint {
            continue;
        }
        if (j as usize) < sparse_max_bytes / 2 && !is_sparse(&sparse) {
            return Err("TESTFAILED sparse encoding not used".into());
        }
        let dense_count = count(&dense).unwrap_or(0);
        if count(&sparse).ok() != Some(dense_count) {
            return Err("TESTFAILED dense/sparse disagree".into());
        }
        let abserr = (checkpoint as i64 - dense_count as i64).unsigned_abs();
        let maxerr = if j == 10 {
            1
        } else {
            (relerr * 6.0 * checkpoint as f64).ceil() as u64
        };
        if abserr > maxerr {
            return Err(format!(
                "TESTFAILED Too big error. card:{checkpoint} abserr:{abserr}"
            ));
        }
        checkpoint *= 10;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_value_is_two_xzeros() {
        let v = new_sparse();
        assert_eq!(v.len(), HLL_HDR_SIZE + 2);
        assert_eq!(decode_sparse(&v), "Z:16384");
        assert_eq!(count(&v), Ok(0));
        assert_eq!(cached_count(&v), Some(0));
    }

    #[test]
    fn dense_registers_round_trip() {
        let mut regs = vec![0u8; HLL_DENSE_SIZE - HLL_HDR_SIZE];
        for i in 0..HLL_REGISTERS {
            dense_set(&mut regs, i, (i % 64) as u8);
        }
        for i in 0..HLL_REGISTERS {
            assert_eq!(dense_get(&regs, i), (i % 64) as u8);
        }
    }

    #[test]
    fn sparse_and_dense_agree() {
        let mut sparse = new_sparse();
        let mut dense = new_sparse();
        sparse_to_dense(&mut dense).unwrap();
        for i in 0..2000u32 {
            let e = i.to_string();
            add(&mut sparse, e.as_bytes(), 3000).unwrap();
            add(&mut dense, e.as_bytes(), 3000).unwrap();
        }
        assert_eq!(count(&sparse), count(&dense));
        let c = count(&dense).unwrap();
        assert!((1900..2100).contains(&c), "{c}");
    }

    #[test]
    fn corrupt_sparse_is_detected_without_panic() {
        let mut v = new_sparse();
        add(&mut v, b"a", 3000).unwrap();
        v.extend_from_slice(b"hello");
        assert_eq!(count(&v), Err(HllError::Corrupt));
        let mut t = new_sparse();
        t.truncate(HLL_HDR_SIZE + 1);
        assert!(add(&mut t, b"x", 3000).is_err() || count(&t).is_err());
    }

    #[test]
    fn murmur_known_value() {
        // Register and run for "a" as computed by Redis (PFDEBUG GETREG).
        let (index, run) = pattern_len(b"a");
        assert!(index < HLL_REGISTERS);
        assert!((1..=51).contains(&run));
    }
}
