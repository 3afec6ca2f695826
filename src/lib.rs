//! ferredis: a Redis-compatible in-memory data server, written to be read.
//!
//! # A tour for newcomers
//!
//! Read the modules in the order a request travels:
//!
//! 1. [`server`]: the listener; one OS thread per connected client.
//! 2. [`client`]: a client's loop: read bytes, parse every complete request,
//!    run each, write all the replies with one write (pipelining).
//!    [`client_memory`]: what each client's buffers cost (CLIENT LIST
//!    tot-mem), output buffer limits and client eviction (maxmemory-clients).
//! 3. [`resp`]: the protocol: [`resp::parser`] turns bytes into arguments,
//!    [`resp::writer`] turns replies into RESP2 or RESP3 bytes.
//! 4. [`commands`]: THE command table and the dispatcher (`commands/mod.rs`),
//!    then one file per family (strings.rs, keys.rs, expire.rs ...).
//! 5. [`store`]: the keyspace: databases, the hash table with SCAN
//!    ([`store::dict`]), values, glob patterns.
//! 6. [`expire`]: the background thread that deletes expired keys.
//!    [`lazyfree`]: the thread UNLINK hands big values to, so their free
//!    does not hold the store's lock.
//!    [`blocking`]: how BLPOP and friends wait for data without holding a
//!    lock, and how writers hand them the data in arrival order.
//! 7. [`config`]: every redis.conf directive, from file, command line or
//!    CONFIG SET.
//!
//! 8. [`pubsub`]: channels, patterns and each subscriber's mailbox (and
//!    the writer thread a subscribed client gets).
//!    [`tracking`]: client-side caching (CLIENT TRACKING): the tracking
//!    table and the invalidation messages sent through those mailboxes.
//!
//! 9. [`replication`]: REPLICAOF, PSYNC and the write stream to replicas.
//!
//! [`crash`] logs Redis's bug report when a fatal signal ends the process;
//! [`oom`] tells Linux's out-of-memory killer which process to prefer
//! (oom-score-adj); [`scheduling`] asks its scheduler not to let a woken
//! client thread preempt the running one.
//! [`error`] holds every error text a client can see; [`number`] is how Redis
//! reads and prints numbers.

pub mod acl;
pub mod blocking;
pub mod client;
pub mod client_memory;
pub mod commands;
pub mod config;
pub mod config_rewrite;
pub mod crash;
pub mod error;
pub mod evict;
pub mod expire;
pub mod lazyfree;
pub mod memory;
pub mod monitor;
pub mod number;
pub mod oom;
pub mod pause;
pub mod persistence;
pub mod pubsub;
pub mod replication;
pub mod resp;
pub mod scheduling;
pub mod scripting;
pub mod server;
pub mod store;
pub mod tracking;
pub mod util;
