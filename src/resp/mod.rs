//! RESP, the Redis serialization protocol: the request parser and the reply writer.
//!
//! Read [`parser`] to see how bytes from a socket become command arguments,
//! and [`writer`] to see how replies are encoded for RESP2 or RESP3 clients.

pub mod parser;
pub mod writer;

pub use parser::{parse_request, parse_request_unauthenticated, ProtocolError, Request};
pub use writer::ReplyBuf;
