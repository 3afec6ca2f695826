//! Fuzz target: the RESP request parser must never panic, and whatever it
//! accepts must be consistent (consumed bytes within the input, argument
//! ranges within the buffer they index).
#![no_main]

use ferredis::resp::parser::{parse_request, ArgSource, Request};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut req = Request::new();
    let mut rest = data;
    // Parse every request in the input, as the client loop does.
    while !rest.is_empty() {
        match parse_request(rest, 1 << 20, &mut req) {
            Ok(Some(n)) => {
                assert!(n > 0 && n <= rest.len());
                let base_len = match req.source {
                    ArgSource::ReadBuffer => rest.len(),
                    ArgSource::Inline => req.inline.len(),
                };
                for r in &req.ranges {
                    assert!(r.start <= r.end && r.end <= base_len);
                }
                rest = &rest[n..];
            }
            Ok(None) | Err(_) => break,
        }
    }
});
