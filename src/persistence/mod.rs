//! Persistence: reading and writing Redis's on-disk formats.
//!
//! So far this is the RDB codec, independent of the store: [`rdb`] turns an
//! RDB file into a stream of plain decoded keys and back, using the blob
//! encodings in [`listpack`], [`ziplist`], [`intset`] and [`zipmap`], the
//! [`lzf`] string compression and the [`crc64`] checksum. The save/load
//! orchestration that connects it to the store comes on top of it.

pub mod aof;
pub mod crc64;
pub mod intset;
pub mod listpack;
pub mod lzf;
pub mod rdb;
pub mod ziplist;
pub mod zipmap;
