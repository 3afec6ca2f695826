//! Lazy freeing: big values are dropped on a background thread.
//!
//! Freeing a value of a million elements takes a while, and DEL does it
//! under the store's write lock, so every other client waits. UNLINK (and
//! DEL under `lazyfree-lazy-user-del yes`) hands a value whose *free
//! effort* is over [`LAZYFREE_THRESHOLD`] to the `lazyfree` thread instead,
//! which drops it once the command has released the lock, as Redis's
//! `lazyfree.c` does. The effort counts the allocations a free walks:
//! list nodes, table entries, skip-list nodes, stream nodes and consumer
//! group entries; a compact encoding (listpack, intset, string) is one
//! block, freed at once, since handing it over would cost more than the
//! free.
//!
//! ```text
//! UNLINK big ──► Db::remove ──► free(value) ──channel──► lazyfree thread: drop
//!                                   │ effort <= 64
//!                                   └─► dropped here
//! ```
//!
//! lazyfree-lazy-expire and lazyfree-lazy-server-del send expired keys and
//! values a command replaces (SET over a big list) the same way.
//! lazyfree-lazy-eviction is accepted but evicts in place: eviction
//! measures what each key freed, which a deferred free would hide.
//!
//! FLUSHALL and FLUSHDB with ASYNC (or under `lazyfree-lazy-user-flush
//! yes`) hand over whole tables the same way: the databases are empty at
//! once, and their keys are freed behind the command's back.
//!
//! INFO memory shows `lazyfree_pending_objects` (handed over, not yet
//! dropped: values, or a flushed table's keys) and `lazyfreed_objects`
//! (dropped so far; CONFIG RESETSTAT zeroes it).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Sender};
use std::sync::OnceLock;

use crate::store::Value;

/// Above this free effort a value is freed in the background (Redis's
/// LAZYFREE_THRESHOLD).
pub const LAZYFREE_THRESHOLD: usize = 64;

static PENDING: AtomicU64 = AtomicU64::new(0);
static FREED: AtomicU64 = AtomicU64::new(0);
static QUEUE: OnceLock<Option<Sender<Job>>> = OnceLock::new();
/// lazyfree-lazy-user-del: DEL frees like UNLINK.
pub static USER_DEL: AtomicBool = AtomicBool::new(false);

/// lazyfree-lazy-user-flush: FLUSHALL/FLUSHDB without SYNC free lazily.
pub static USER_FLUSH: AtomicBool = AtomicBool::new(false);
/// lazyfree-lazy-expire: keys deleted by expiry free lazily.
pub static EXPIRE: AtomicBool = AtomicBool::new(false);
/// lazyfree-lazy-server-del: values a command replaces or deletes as a
/// side effect (SET over a list, RENAME over a key) free lazily.
pub static SERVER_DEL: AtomicBool = AtomicBool::new(false);

/// Frees `value` as [`free`] does when `setting` is on, else here.
pub fn free_if(setting: &AtomicBool, value: Value) {
    if setting.load(Ordering::Relaxed) {
        free(value);
    }
}

/// Something to drop on the lazyfree thread, and how many objects it
/// counts for in INFO.
struct Job {
    garbage: Box<dyn Send>,
    objects: u64,
}

/// How many allocations freeing `value` walks (Redis's
/// `lazyfreeGetFreeEffort`): 1 for a compact encoding.
pub fn free_effort(value: &Value) -> usize {
    match value {
        Value::Str(_) => 1,
        Value::List(list) => list.node_count(),
        Value::Hash(hash) if hash.encoding() == "hashtable" => hash.len(),
        Value::Set(set) if set.encoding() == "hashtable" => set.len(),
        Value::ZSet(zset) if zset.encoding() == "skiplist" => zset.len(),
        Value::Stream(stream) => {
            let groups: usize = stream
                .groups
                .values()
                .map(|g| 1 + g.pel.len() + g.consumers.len())
                .sum();
            stream.nodes.len() + groups
        }
        _ => 1,
    }
}

/// Frees `value`: on the lazyfree thread when its effort is over the
/// threshold, here otherwise (or if the thread could not be started).
pub fn free(value: Value) {
    if free_effort(&value) > LAZYFREE_THRESHOLD {
        hand_over(Box::new(value), 1);
    }
}

/// Frees a flushed database's tables (see [`crate::store::Db::take_tables`])
/// holding `keys` keys on the lazyfree thread.
pub fn free_tables(tables: Box<dyn Send>, keys: u64) {
    hand_over(tables, keys);
}

/// Queues `garbage` for the lazyfree thread (or drops it here when the
/// thread could not be started).
fn hand_over(garbage: Box<dyn Send>, objects: u64) {
    let Some(queue) = QUEUE.get_or_init(start).as_ref() else {
        return;
    };
    PENDING.fetch_add(objects, Ordering::Relaxed);
    if let Err(mpsc::SendError(job)) = queue.send(Job { garbage, objects }) {
        PENDING.fetch_sub(objects, Ordering::Relaxed);
        drop(job);
    }
}

/// Starts the lazyfree thread; None when the thread cannot be created.
fn start() -> Option<Sender<Job>> {
    let (tx, rx) = mpsc::channel::<Job>();
    let spawned = std::thread::Builder::new()
        .name("lazyfree".into())
        .spawn(move || {
            for job in rx {
                drop(job.garbage);
                FREED.fetch_add(job.objects, Ordering::Relaxed);
                PENDING.fetch_sub(job.objects, Ordering::Relaxed);
            }
        });
    match spawned {
        Ok(_) => Some(tx),
        Err(e) => {
            log::warn!("could not start the lazyfree thread, freeing in place: {e}");
            None
        }
    }
}

/// INFO memory's lazyfree_pending_objects.
pub fn pending() -> u64 {
    PENDING.load(Ordering::Relaxed)
}

/// INFO memory's lazyfreed_objects.
pub fn freed() -> u64 {
    FREED.load(Ordering::Relaxed)
}

/// CONFIG RESETSTAT.
pub fn reset_stats() {
    FREED.store(0, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::list::List;
    use crate::store::set::Set;

    #[test]
    fn compact_values_cost_one_and_tables_their_size() {
        assert_eq!(free_effort(&Value::string("x")), 1);
        let mut small = Set::new();
        let mut big = Set::new();
        for i in 0..1000 {
            small.insert_within(i.to_string().as_bytes(), 1000);
            big.insert_within(format!("m{i}").as_bytes(), 1000);
        }
        assert_eq!(free_effort(&Value::Set(small)), 1);
        assert_eq!(free_effort(&Value::Set(big)), 1000);
        let mut list = List::new();
        for i in 0..100_000 {
            list.push_back(format!("element-{i}").into_bytes());
        }
        assert!(free_effort(&Value::List(list)) > LAZYFREE_THRESHOLD);
    }

    #[test]
    fn a_big_value_is_freed_on_the_thread() {
        let mut set = Set::new();
        for i in 0..1000 {
            set.insert_within(format!("m{i}").as_bytes(), 512);
        }
        let before = freed();
        free(Value::Set(set));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while freed() == before && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert!(freed() > before);
    }
}
