//! The sorted set type. (Placeholder until the real structure lands.)

/// A Redis sorted set.
#[derive(Debug, Clone, Default)]
pub struct ZSet {}
