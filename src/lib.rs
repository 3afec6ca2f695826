//! ferredis: a Redis-compatible server. (Tour written as the crate grows.)

pub mod persistence;
