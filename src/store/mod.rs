//! The keyspace and its value types. For now only the sorted set lives here.

pub mod number;
pub mod zset;
