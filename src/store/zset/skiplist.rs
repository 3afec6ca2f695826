//! The sorted set's order: a skip list with spans, Redis's `zskiplist`, in an arena.
//!
//! Every element sits on level 0, a sorted doubly linked list. Each element
//! also gets a random height: a quarter of them reach level 1, a sixteenth
//! level 2, and so on (Redis's `ZSKIPLIST_P = 0.25`). A higher level is an
//! express lane that skips many elements, so a search starts at the top of the
//! head node and drops down a level whenever the next hop would overshoot:
//! about log4(n) levels, a couple of hops each, O(log n) expected. Each link
//! also records its *span*, the number of level-0 steps it jumps; adding the
//! spans of the hops taken gives the rank of where the search stopped:
//!
//! ```text
//!   level 2   HEAD ---------- 3 ----------> c ----------------------------> NIL
//!   level 1   HEAD -- 1 --> a ---- 2 -----> c ---- 1 ---> d ---------------> NIL
//!   level 0   HEAD -- 1 --> a -1-> b -1---> c ---- 1 ---> d ---- 1 ---> e -> NIL
//!   backward          NIL <-a <--- b <----- c <-------- d <--------- e = tail
//!
//!   element (score):   a (1)   b (2)   c (2)   d (5)   e (9)
//!   rank:               0       1       2       3       4
//! ```
//!
//! Rank of d: from HEAD take the level-2 hop to c (span 3); c's level-2 link
//! goes to NIL, so drop to level 1 and hop to d (span 1): 3 + 1 = 4th element,
//! rank 3. Inserting finds, per level, the last node before the new element
//! (`update[i]`) and that node's position (`rank[i]`), splices the new node in
//! on its levels and fixes the spans around it; deleting is the reverse. A
//! link to NIL also keeps a span, to the virtual position `len` as in Redis,
//! so that the arithmetic stays the same when a later insert splits it.
//!
//! Nodes live in one `Vec<Node>` arena and point to each other with `u32`
//! indices instead of pointers: no `unsafe`, no `Rc` cycles, half a pointer's
//! size. Index 0 is the head, which holds no element and is as tall as the
//! tallest node. A freed slot is chained into a free list through its level-0
//! link and reused by the next insert, so a node's index never changes while it
//! is alive (the member index relies on that). A node is 40 bytes: the member
//! (`Box<[u8]>`, stored only here), the score, the backward and level-0 links,
//! and where its upper levels are. Level 0's span is always 1 (0 for the last
//! node, whose link is to NIL), so it is not stored.
//!
//! Levels 1 and up live in a second arena, `levels`: a node of height h owns
//! h - 1 consecutive slots there (three nodes in four own none). Each link
//! carries, besides the next node and the span, a copy of the next node's
//! score and where the next node's own levels start. So the upper part of a
//! search reads only the `levels` arena, one cache line per hop, as Redis's
//! search reads only the node it hops to (its levels are inline in the node);
//! it reads a node (and perhaps its member) only to break a tie of scores and
//! on level 0. Freed runs of slots are kept in one free list per run length.
//! Only the head's run ever moves, when the list grows taller; no link points
//! at the head, so nothing else needs fixing when it does.
//!
//! Invariant: elements are strictly increasing by (score, member bytes), and
//! every span equals the distance in elements between the two ends of its link.

/// A node's index in the arena.
pub(super) type NodeId = u32;

/// "No node": the end of a list, the backward link of the first element.
pub(super) const NIL: NodeId = u32::MAX;
/// The head node's index; it holds no element.
const HEAD: NodeId = 0;
/// Redis's `ZSKIPLIST_MAXLEVEL`, plenty for 2^32 elements at p = 1/4.
const MAX_LEVEL: usize = 32;

/// A link on levels 1 and up: the next node there, how many elements it
/// skips, and copies of two things of that node's: its score and where its
/// levels start. The copies let a search decide "hop or drop a level", and
/// hop, without reading the next node itself: one cache miss per hop on a
/// big set instead of two or three (ZADD spent most of its time there).
/// Both are 0 on a link to NIL, which no search reads.
#[derive(Clone, Copy)]
struct Level {
    next: NodeId,
    span: u32,
    /// `levels` index of `next`'s level-1 link.
    next_upper: u32,
    next_score: f64,
}

/// The value of a link slot that links nowhere yet.
const UNLINKED: Level = Level {
    next: NIL,
    span: 0,
    next_upper: 0,
    next_score: 0.0,
};

/// One element (or the head, or a free slot) in the arena.
#[derive(Clone)]
struct Node {
    member: Box<[u8]>,
    score: f64,
    /// The previous element on level 0; NIL for the first one.
    backward: NodeId,
    /// The next element on level 0; in a free slot, the next free slot.
    next0: NodeId,
    /// `levels` index of this node's level-1 link (meaningless without one).
    upper: u32,
    /// How many upper levels it has: its height is `upper_len + 1`.
    upper_len: u32,
}

/// Elements ordered by (score, member), with O(log n) rank and position search.
#[derive(Clone)]
pub(super) struct SkipList {
    /// The arena; `nodes[HEAD]` has at least `level - 1` upper links.
    nodes: Vec<Node>,
    /// First free arena slot, chained through `next0`.
    free: NodeId,
    /// Every node's upper links, each node's in one run of slots.
    levels: Vec<Level>,
    /// Per run length n, the first free run of n slots in `levels`, chained
    /// through the `next` of its first slot (NIL ends the chain).
    free_runs: [u32; MAX_LEVEL],
    /// The last element, NIL when empty.
    tail: NodeId,
    /// Levels in use (1 when empty), as Redis's `zsl->level`.
    level: usize,
    len: usize,
    /// xorshift64 state for node heights; never 0.
    rng: u64,
}

impl SkipList {
    /// An empty list; `seed` picks the node heights (any value).
    pub(super) fn new(seed: u64) -> SkipList {
        let head = Node {
            member: Box::default(),
            score: 0.0,
            backward: NIL,
            next0: NIL,
            upper: 0,
            upper_len: 0,
        };
        SkipList {
            nodes: vec![head],
            free: NIL,
            levels: Vec::new(),
            free_runs: [NIL; MAX_LEVEL],
            tail: NIL,
            level: 1,
            len: 0,
            rng: seed | 1,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn member(&self, x: NodeId) -> &[u8] {
        &self.nodes[x as usize].member
    }

    pub(super) fn score(&self, x: NodeId) -> f64 {
        self.nodes[x as usize].score
    }

    /// The first element, NIL when empty.
    pub(super) fn first(&self) -> NodeId {
        self.nodes[HEAD as usize].next0
    }

    /// The last element, NIL when empty.
    pub(super) fn last(&self) -> NodeId {
        self.tail
    }

    /// The element after `x`, NIL after the last.
    pub(super) fn after(&self, x: NodeId) -> NodeId {
        self.nodes[x as usize].next0
    }

    /// The element before `x`, NIL before the first.
    pub(super) fn before(&self, x: NodeId) -> NodeId {
        self.nodes[x as usize].backward
    }

    /// Adds a member known to be absent and returns its node.
    pub(super) fn insert(&mut self, member: Box<[u8]>, score: f64) -> NodeId {
        let height = self.random_level();
        let x = self.alloc_node(member, score, height);
        self.link(x);
        x
    }

    /// Gives element `x` a new score, moving it only if its neighbours are
    /// now out of order (Redis's `zslUpdateScore`). A node with upper levels
    /// always moves: links before it hold copies of its score.
    pub(super) fn set_score(&mut self, x: NodeId, score: f64) {
        let node = &self.nodes[x as usize];
        let stays = node.upper_len == 0
            && (node.backward == NIL || self.precedes(node.backward, score, &node.member))
            && (node.next0 == NIL || !self.precedes(node.next0, score, &node.member));
        if !stays {
            self.unlink(x);
        }
        self.nodes[x as usize].score = score;
        if !stays {
            self.link(x);
        }
    }

    /// Unlinks and frees element `x`, handing back its member and score.
    pub(super) fn remove(&mut self, x: NodeId) -> (Vec<u8>, f64) {
        self.unlink(x);
        let free = self.free;
        let node = &mut self.nodes[x as usize];
        let member = std::mem::take(&mut node.member);
        let (score, upper, upper_len) = (node.score, node.upper, node.upper_len);
        node.upper_len = 0;
        node.next0 = free;
        self.free = x;
        self.free_run(upper, upper_len as usize);
        (member.into_vec(), score)
    }

    /// How many leading elements satisfy `pred(score, member)`, which must be
    /// true for a prefix of the order and false after it: one top-down walk
    /// adding spans. Every rank and range query is one or two of these.
    pub(super) fn count_while(&self, pred: impl Fn(f64, &[u8]) -> bool) -> usize {
        let (mut x, mut rank) = (HEAD, 0);
        for level in (0..self.level).rev() {
            loop {
                let next = self.next(x, level);
                if next == NIL || !pred(self.score(next), self.member(next)) {
                    break;
                }
                rank += self.span(x, level);
                x = next;
            }
        }
        rank
    }

    /// The element at 0-based `rank`, like Redis's `zslGetElementByRank`.
    pub(super) fn node_at(&self, rank: usize) -> Option<NodeId> {
        if rank >= self.len {
            return None;
        }
        let (mut x, mut traversed) = (HEAD, 0);
        for level in (0..self.level).rev() {
            while self.next(x, level) != NIL && traversed + self.span(x, level) <= rank + 1 {
                traversed += self.span(x, level);
                x = self.next(x, level);
            }
            if traversed == rank + 1 {
                return Some(x);
            }
        }
        unreachable!("spans add up to len, so rank {rank} < len is reached")
    }

    /// `levels` index of `x`'s link on `level` (1 and up).
    fn slot(&self, x: NodeId, level: usize) -> usize {
        let node = &self.nodes[x as usize];
        debug_assert!(level >= 1 && level <= node.upper_len as usize);
        node.upper as usize + level - 1
    }

    fn next(&self, x: NodeId, level: usize) -> NodeId {
        if level == 0 {
            self.nodes[x as usize].next0
        } else {
            self.levels[self.slot(x, level)].next
        }
    }

    fn span(&self, x: NodeId, level: usize) -> usize {
        if level == 0 {
            usize::from(self.nodes[x as usize].next0 != NIL)
        } else {
            self.levels[self.slot(x, level)].span as usize
        }
    }

    /// Points `x`'s link on `level` at `next`; the span is implied on level 0.
    fn set_link(&mut self, x: NodeId, level: usize, next: NodeId, span: usize) {
        if level == 0 {
            self.nodes[x as usize].next0 = next;
            return;
        }
        let (next_score, next_upper) = match self.nodes.get(next as usize) {
            Some(node) if next != NIL => (node.score, node.upper),
            _ => (0.0, 0),
        };
        let slot = self.slot(x, level);
        // Fits: alloc_node keeps len below u32::MAX.
        self.levels[slot] = Level {
            next,
            span: span as u32,
            next_upper,
            next_score,
        };
    }

    /// Adds `delta` to the span of `x`'s link on `level` (1 and up), which
    /// keeps pointing where it did.
    fn add_to_span(&mut self, x: NodeId, level: usize, delta: i32) {
        let slot = self.slot(x, level);
        let link = &mut self.levels[slot];
        link.span = link.span.wrapping_add_signed(delta);
    }

    /// Is element `x` ordered before (score, member)?
    fn precedes(&self, x: NodeId, score: f64, member: &[u8]) -> bool {
        let node = &self.nodes[x as usize];
        node.score < score || (node.score == score && *node.member < *member)
    }

    /// Per level, the last node before (score, member) and its 1-based
    /// position (0 for the head): Redis's `update[]` and `rank[]`.
    fn find_update(&self, score: f64, member: &[u8]) -> ([NodeId; MAX_LEVEL], [usize; MAX_LEVEL]) {
        let mut update = [HEAD; MAX_LEVEL];
        let mut rank = [0; MAX_LEVEL];
        let mut x = HEAD;
        // Where x's levels start: the walk above level 0 reads only `levels`.
        let mut x_upper = self.nodes[HEAD as usize].upper as usize;
        for level in (1..self.level).rev() {
            rank[level] = rank.get(level + 1).copied().unwrap_or(0);
            loop {
                let link = self.levels[x_upper + level - 1];
                let before = link.next != NIL
                    && (link.next_score < score
                        || (link.next_score == score
                            && *self.nodes[link.next as usize].member < *member));
                if !before {
                    break;
                }
                rank[level] += link.span as usize;
                x = link.next;
                x_upper = link.next_upper as usize;
            }
            update[level] = x;
        }
        rank[0] = rank[1];
        loop {
            let next = self.nodes[x as usize].next0;
            if next == NIL || !self.precedes(next, score, member) {
                break;
            }
            rank[0] += 1;
            x = next;
        }
        update[0] = x;
        (update, rank)
    }

    /// Splices node `x` (member, score and height set, not linked) into its place.
    fn link(&mut self, x: NodeId) {
        let (update, rank) = {
            let node = &self.nodes[x as usize];
            self.find_update(node.score, &node.member)
        };
        let height = self.nodes[x as usize].upper_len as usize + 1;
        if height > self.level {
            if (self.nodes[HEAD as usize].upper_len as usize) < height - 1 {
                self.grow_head(height - 1);
            }
            // A new level starts as one head -> NIL link over the whole list.
            for level in self.level..height {
                self.set_link(HEAD, level, NIL, self.len);
            }
            self.level = height;
        }
        for level in 0..height {
            let before = update[level];
            let skipped = rank[0] - rank[level];
            self.set_link(
                x,
                level,
                self.next(before, level),
                self.span(before, level) - skipped,
            );
            self.set_link(before, level, x, skipped + 1);
        }
        // Links above x's height now jump over one more element.
        for (level, &before) in update.iter().enumerate().take(self.level).skip(height) {
            self.add_to_span(before, level, 1);
        }
        let next = self.nodes[x as usize].next0;
        self.nodes[x as usize].backward = if update[0] == HEAD { NIL } else { update[0] };
        if next == NIL {
            self.tail = x;
        } else {
            self.nodes[next as usize].backward = x;
        }
        self.len += 1;
    }

    /// Takes node `x` out of the lists; it stays in the arena.
    fn unlink(&mut self, x: NodeId) {
        let (update, _) = {
            let node = &self.nodes[x as usize];
            self.find_update(node.score, &node.member)
        };
        for (level, &before) in update.iter().enumerate().take(self.level) {
            if self.next(before, level) == x {
                let span = self.span(before, level) + self.span(x, level) - 1;
                self.set_link(before, level, self.next(x, level), span);
            } else {
                self.add_to_span(before, level, -1);
            }
        }
        let Node {
            backward, next0, ..
        } = self.nodes[x as usize];
        if next0 == NIL {
            self.tail = backward;
        } else {
            self.nodes[next0 as usize].backward = backward;
        }
        while self.level > 1 && self.next(HEAD, self.level - 1) == NIL {
            self.level -= 1;
        }
        self.len -= 1;
    }

    /// Moves the head's links to a longer run of `upper_len` slots; the
    /// new top ones are unlinked. Nothing links to the head, so no
    /// `next_upper` copy needs fixing.
    fn grow_head(&mut self, upper_len: usize) {
        let head = &self.nodes[HEAD as usize];
        let (old, old_len) = (head.upper as usize, head.upper_len as usize);
        let new = self.alloc_run(upper_len);
        for i in 0..old_len {
            self.levels[new as usize + i] = self.levels[old + i];
        }
        self.free_run(old as u32, old_len);
        let head = &mut self.nodes[HEAD as usize];
        head.upper = new;
        head.upper_len = upper_len as u32;
    }

    /// A run of `n` unlinked slots in `levels`: a freed one of that length
    /// if there is one, else new ones at the end. Nothing for `n == 0`.
    fn alloc_run(&mut self, n: usize) -> u32 {
        if n == 0 {
            return 0;
        }
        let at = self.free_runs[n];
        let at = if at == NIL {
            let at = u32::try_from(self.levels.len()).expect("fewer than 2^32 links");
            self.levels.resize(self.levels.len() + n, UNLINKED);
            at
        } else {
            self.free_runs[n] = self.levels[at as usize].next;
            at
        };
        self.levels[at as usize..at as usize + n].fill(UNLINKED);
        at
    }

    /// Puts the run of `n` slots at `at` on its free list.
    fn free_run(&mut self, at: u32, n: usize) {
        if n == 0 {
            return;
        }
        self.levels[at as usize].next = self.free_runs[n];
        self.free_runs[n] = at;
    }

    fn alloc_node(&mut self, member: Box<[u8]>, score: f64, height: usize) -> NodeId {
        let node = Node {
            member,
            score,
            backward: NIL,
            next0: NIL,
            upper: self.alloc_run(height - 1),
            upper_len: (height - 1) as u32,
        };
        if self.free != NIL {
            let x = self.free;
            self.free = self.nodes[x as usize].next0;
            self.nodes[x as usize] = node;
            return x;
        }
        let x = NodeId::try_from(self.nodes.len())
            .ok()
            .filter(|&x| x != NIL);
        self.nodes.push(node);
        x.expect("a sorted set holds fewer than 2^32 - 1 members")
    }

    /// A height of 1 + one per pair of low zero bits: P(height > k) = 4^-k.
    fn random_level(&mut self) -> usize {
        let mut x = self.rng;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.rng = x;
        (1 + x.trailing_zeros() as usize / 2).min(MAX_LEVEL)
    }

    /// Test support: arena slots in use or free (the head included).
    #[cfg(test)]
    pub(super) fn arena_len(&self) -> usize {
        self.nodes.len()
    }

    /// Test support: checks order, backward links, tail, len and every span
    /// on every level, and returns the number of levels in use.
    #[cfg(test)]
    pub(super) fn check_invariants(&self) -> usize {
        let mut position = std::collections::HashMap::from([(HEAD, 0)]);
        let (mut x, mut pos, mut prev) = (self.first(), 0, NIL);
        while x != NIL {
            pos += 1;
            position.insert(x, pos);
            assert_eq!(self.before(x), prev, "backward link");
            assert!(
                prev == NIL || self.precedes(prev, self.score(x), self.member(x)),
                "order"
            );
            (prev, x) = (x, self.after(x));
        }
        assert_eq!((pos, self.tail), (self.len, prev));
        assert!(
            self.level == 1 || self.next(HEAD, self.level - 1) != NIL,
            "level too high"
        );
        for level in 1..self.level {
            let mut x = HEAD;
            loop {
                let next = self.next(x, level);
                let to = if next == NIL {
                    self.len
                } else {
                    position[&next]
                };
                assert_eq!(
                    self.span(x, level),
                    to - position[&x],
                    "span at level {level}"
                );
                if next == NIL {
                    break;
                }
                assert!(
                    self.nodes[next as usize].upper_len as usize >= level,
                    "node too short"
                );
                let link = self.levels[self.slot(x, level)];
                assert_eq!(
                    link.next_score.to_bits(),
                    self.score(next).to_bits(),
                    "score copy at level {level}"
                );
                assert_eq!(
                    link.next_upper, self.nodes[next as usize].upper,
                    "levels copy at level {level}"
                );
                x = next;
            }
        }
        self.level
    }
}
