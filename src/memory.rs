//! Memory accounting: how many heap bytes the server holds right now.
//!
//! Redis asks its allocator (jemalloc) for `used_memory`. We do the same
//! with a counting wrapper around the system allocator: every allocation
//! adds its size to one atomic counter and every free subtracts it, so
//! [`used_memory`] is the live heap in bytes (keys, values, buffers,
//! everything), which is what maxmemory is compared with. RSS is larger:
//! it adds the allocator's free lists, fragmentation, thread stacks and the
//! binary itself (INFO shows both, and their ratio as
//! mem_fragmentation_ratio).
//!
//! The counter is updated with relaxed atomics: a few nanoseconds per
//! allocation, and no allocation happens on the GET path.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The system allocator, counting live bytes.
pub struct CountingAlloc;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees (alignment, size, validity of the
// returned pointer) are exactly what we return; the only addition is
// arithmetic on an atomic counter, which cannot affect memory safety.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to System (see the impl comment).
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to System (see the impl comment).
        unsafe { System.dealloc(ptr, layout) };
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to System (see the impl comment).
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            let now = ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged to System (see the impl comment).
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = ALLOCATED.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + new_size
                    - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                ALLOCATED.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

/// Live heap bytes (INFO memory used_memory).
pub fn used_memory() -> usize {
    ALLOCATED.load(Ordering::Relaxed)
}

static STARTUP: AtomicUsize = AtomicUsize::new(0);

/// Records `used_memory` as the start-up baseline the first time it is
/// called (INFO used_memory_startup; the server calls it once it is built).
pub fn mark_startup() {
    let _ = STARTUP.compare_exchange(0, used_memory(), Ordering::Relaxed, Ordering::Relaxed);
}

/// `used_memory` right after start-up, before any data or client.
pub fn startup_memory() -> usize {
    STARTUP.load(Ordering::Relaxed)
}

/// The highest `used_memory` seen (used_memory_peak).
pub fn peak_memory() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Resident set size of this process in bytes, from /proc (used_memory_rss).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map_or(0, |pages| pages * 4096)
}
