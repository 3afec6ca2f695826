//! The list type. (Placeholder representation: a deque of byte strings.)

use std::collections::VecDeque;

/// A Redis list.
pub type List = VecDeque<Vec<u8>>;
