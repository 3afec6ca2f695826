use super::*;

fn members<'a>(iter: impl Iterator<Item = (&'a [u8], f64)>) -> Vec<String> {
    iter.map(|(m, _)| String::from_utf8_lossy(m).into_owned())
        .collect()
}

fn set_of(pairs: &[(&str, f64)]) -> ZSet {
    let mut set = ZSet::new();
    for (member, score) in pairs {
        set.insert(member.as_bytes(), *score);
    }
    set
}

/// Checks the skip list's own invariants and that the index finds exactly
/// its elements; returns the number of skip list levels in use.
fn check_invariants(set: &ZSet) -> usize {
    let levels = set.list.check_invariants();
    assert_eq!(set.index.len(), set.len(), "index and list sizes");
    for (member, score) in set.iter() {
        assert_eq!(set.score(member), Some(score), "index disagrees");
    }
    levels
}

#[test]
fn orders_by_score_then_member_bytes() {
    let set = set_of(&[
        ("b", 2.0),
        ("a", 2.0),
        ("c", 1.0),
        ("\u{0}", 2.0),
        ("B", 2.0),
        ("z", f64::NEG_INFINITY),
    ]);
    assert_eq!(members(set.iter()), ["z", "c", "\u{0}", "B", "a", "b"]);
    assert_eq!(
        members(set.iter().rev()),
        ["b", "a", "B", "\u{0}", "c", "z"]
    );
    assert_eq!(set.rank(b"a"), Some(4));
    assert_eq!(set.rank(b"nope"), None);
    assert_eq!(set.get_by_rank(1), Some((&b"c"[..], 1.0)));
    assert_eq!(set.get_by_rank(6), None);
    check_invariants(&set);
}

#[test]
fn insert_updates_and_moves_members() {
    let mut set = set_of(&[("a", 1.0), ("b", 2.0), ("c", 3.0)]);
    assert!(!set.insert(b"a", 10.0));
    assert!(!set.insert(b"b", 2.5)); // stays in place
    assert!(set.insert(b"d", 0.0));
    assert_eq!(members(set.iter()), ["d", "b", "c", "a"]);
    assert_eq!(
        (set.score(b"a"), set.score(b"b"), set.len()),
        (Some(10.0), Some(2.5), 4)
    );
    assert!(!set.insert(b"d", -0.0));
    assert!(set.score(b"d").unwrap().is_sign_positive());
    assert_eq!(set.remove(b"b"), Some(2.5));
    assert_eq!(set.remove(b"b"), None);
    assert_eq!(members(set.iter()), ["d", "c", "a"]);
    check_invariants(&set);
}

#[test]
fn empty_set_answers_nothing() {
    let mut set = ZSet::new();
    let all = (
        ScoreBound::Inclusive(f64::NEG_INFINITY),
        ScoreBound::Inclusive(f64::INFINITY),
    );
    assert!(set.is_empty());
    assert_eq!(
        set.iter().count() + set.range_by_rank(0, usize::MAX).count(),
        0
    );
    assert_eq!(
        set.rev_range_by_rank(0, 5).count() + set.range_by_score(&all.0, &all.1).count(),
        0
    );
    assert_eq!(
        set.count_in_lex_range(&LexBound::NegInf, &LexBound::PosInf),
        0
    );
    assert_eq!(
        (set.pop_min(), set.pop_max(), set.rank(b"x")),
        (None, None, None)
    );
    check_invariants(&set);
}

#[test]
fn ranks_and_reverse_ranks() {
    let set = set_of(&[("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0), ("e", 5.0)]);
    assert_eq!(members(set.range_by_rank(1, 3)), ["b", "c", "d"]);
    assert_eq!(members(set.range_by_rank(3, 100)), ["d", "e"]);
    assert_eq!(members(set.range_by_rank(3, 1)), Vec::<String>::new());
    assert_eq!(members(set.range_by_rank(5, 9)), Vec::<String>::new());
    assert_eq!(members(set.rev_range_by_rank(0, 1)), ["e", "d"]);
    assert_eq!(members(set.rev_range_by_rank(3, 100)), ["b", "a"]);
    assert_eq!(members(set.rev_range_by_rank(5, 100)), Vec::<String>::new());
}

#[test]
fn score_ranges_honour_bounds() {
    use ScoreBound::*;
    let set = set_of(&[
        ("ninf", f64::NEG_INFINITY),
        ("one", 1.0),
        ("two", 2.0),
        ("2b", 2.0),
        ("pinf", f64::INFINITY),
    ]);
    let range = |min: ScoreBound, max: ScoreBound| members(set.range_by_score(&min, &max));
    assert_eq!(range(Inclusive(1.0), Inclusive(2.0)), ["one", "2b", "two"]);
    assert_eq!(range(Exclusive(1.0), Inclusive(2.0)), ["2b", "two"]);
    assert_eq!(range(Inclusive(1.0), Exclusive(2.0)), ["one"]);
    assert_eq!(range(Exclusive(2.0), Exclusive(2.0)), Vec::<String>::new());
    assert_eq!(range(Inclusive(2.0), Inclusive(1.0)), Vec::<String>::new());
    assert_eq!(
        range(Exclusive(f64::NEG_INFINITY), Exclusive(f64::INFINITY)),
        ["one", "2b", "two"]
    );
    assert_eq!(
        range(Inclusive(f64::INFINITY), Inclusive(f64::INFINITY)),
        ["pinf"]
    );
    assert_eq!(
        members(set.rev_range_by_score(&Inclusive(1.0), &Inclusive(2.0))),
        ["two", "2b", "one"]
    );
    assert_eq!(
        set.count_in_score_range(&Inclusive(f64::NEG_INFINITY), &Inclusive(f64::INFINITY)),
        5
    );
    assert_eq!(
        set.score_range_ranks(&Exclusive(1.0), &Inclusive(f64::INFINITY)),
        2..5
    );
}

#[test]
fn bounds_parse_like_redis() {
    // Observed with ZRANGEBYSCORE / ZRANGEBYLEX on redis-server 7.0.15.
    use ScoreBound::*;
    assert_eq!(ScoreBound::parse(b"(1"), Some(Exclusive(1.0)));
    assert_eq!(ScoreBound::parse(b"( 1"), Some(Exclusive(1.0)));
    assert_eq!(
        ScoreBound::parse(b"-inf"),
        Some(Inclusive(f64::NEG_INFINITY))
    );
    assert_eq!(ScoreBound::parse(b"(+inf"), Some(Exclusive(f64::INFINITY)));
    assert_eq!(ScoreBound::parse(b"("), Some(Exclusive(0.0)));
    assert_eq!(ScoreBound::parse(b"((1"), None);
    assert_eq!(ScoreBound::parse(b"[1"), None);
    assert_eq!(ScoreBound::parse(b"(nan"), None);
    assert_eq!(
        LexBound::parse(b"[a"),
        Some(LexBound::Inclusive(b"a".to_vec()))
    );
    assert_eq!(LexBound::parse(b"("), Some(LexBound::Exclusive(Vec::new())));
    assert_eq!(
        (LexBound::parse(b"-"), LexBound::parse(b"+")),
        (Some(LexBound::NegInf), Some(LexBound::PosInf))
    );
    for bad in [&b"a"[..], b"", b"-a", b"+a"] {
        assert_eq!(LexBound::parse(bad), None);
    }
}

#[test]
fn lex_ranges_on_equal_scores() {
    use LexBound::*;
    let set = set_of(&[("a", 0.0), ("b", 0.0), ("bb", 0.0), ("c", 0.0)]);
    let range = |min: LexBound, max: LexBound| members(set.range_by_lex(&min, &max));
    assert_eq!(range(NegInf, PosInf), ["a", "b", "bb", "c"]);
    assert_eq!(
        range(Inclusive(b"b".to_vec()), Exclusive(b"c".to_vec())),
        ["b", "bb"]
    );
    assert_eq!(range(Exclusive(b"b".to_vec()), PosInf), ["bb", "c"]);
    assert_eq!(range(PosInf, PosInf), Vec::<String>::new());
    assert_eq!(range(NegInf, NegInf), Vec::<String>::new());
    assert_eq!(
        members(set.rev_range_by_lex(&NegInf, &Inclusive(b"b".to_vec()))),
        ["b", "a"]
    );
    assert_eq!(
        set.count_in_lex_range(&Inclusive(Vec::new()), &Exclusive(b"bc".to_vec())),
        3
    );
}

#[test]
fn limit_is_rank_arithmetic() {
    // ZRANGEBYSCORE z (1 +inf LIMIT 1 2, and ZREVRANGEBYSCORE z +inf (1 LIMIT 1 2.
    let set = set_of(&[("a", 1.0), ("b", 2.0), ("c", 3.0), ("d", 4.0), ("e", 5.0)]);
    let ranks = set.score_range_ranks(
        &ScoreBound::Exclusive(1.0),
        &ScoreBound::Inclusive(f64::INFINITY),
    );
    let (offset, count) = (1, 2);
    let up = ranks.start + offset..(ranks.start + offset + count).min(ranks.end);
    assert_eq!(members(set.iter_ranks(up)), ["c", "d"]);
    let down = ranks.start.max(ranks.end - offset - count)..ranks.end - offset;
    assert_eq!(members(set.iter_ranks(down).rev()), ["d", "c"]);
}

#[test]
fn sets_can_be_shared_across_client_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<ZSet>();
}

#[test]
fn pops_take_the_ends() {
    let mut set = set_of(&[("a", 1.0), ("b", 2.0), ("c", 3.0)]);
    assert_eq!(set.pop_min(), Some((b"a".to_vec(), 1.0)));
    assert_eq!(set.pop_max(), Some((b"c".to_vec(), 3.0)));
    assert_eq!(set.pop_max(), Some((b"b".to_vec(), 2.0)));
    assert_eq!(set.pop_min(), None);
    assert!(set.insert(b"a", 5.0)); // reuses a freed arena slot
    assert_eq!(set.list.arena_len(), 4);
    check_invariants(&set);
}

/// xorshift64: a tiny deterministic generator, so failures replay.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// 20,000 random operations against a sorted Vec model, checking every query
/// after each batch. With `equal_scores` every score is 0, to test lex ranges.
fn random_against_model(seed: u64, equal_scores: bool) {
    let mut rng = Rng(seed);
    let mut set = ZSet::new();
    let mut model: Vec<(f64, Vec<u8>)> = Vec::new();
    const SCORES: [f64; 7] = [f64::NEG_INFINITY, -1.5, 0.0, 1.0, 2.0, 7.25, f64::INFINITY];
    let random_member = |rng: &mut Rng| {
        let (n, len) = (rng.below(400), rng.below(3));
        let mut member = vec![b'a' + (n % 26) as u8, (n / 26) as u8 * 17];
        member.truncate(len + 1);
        member
    };
    let random_score = |rng: &mut Rng| {
        if equal_scores {
            0.0
        } else {
            SCORES[rng.below(SCORES.len())]
        }
    };
    for batch in 0..200 {
        for _ in 0..100 {
            match rng.below(10) {
                0..=5 => {
                    let (member, score) = (random_member(&mut rng), random_score(&mut rng));
                    let old = model.iter().position(|(_, m)| *m == member);
                    assert_eq!(set.insert(&member, score), old.is_none());
                    if let Some(i) = old {
                        model.remove(i);
                    }
                    model.push((score, member));
                    model.sort_by(|a, b| a.partial_cmp(b).unwrap());
                }
                6 | 7 => {
                    let member = random_member(&mut rng);
                    let old = model
                        .iter()
                        .position(|(_, m)| *m == member)
                        .map(|i| model.remove(i).0);
                    assert_eq!(set.remove(&member), old);
                }
                8 => assert_eq!(
                    set.pop_min(),
                    (!model.is_empty())
                        .then(|| model.remove(0))
                        .map(|(s, m)| (m, s))
                ),
                _ => assert_eq!(set.pop_max(), model.pop().map(|(s, m)| (m, s))),
            }
        }
        check_invariants(&set);
        let as_model = |iter: &mut dyn Iterator<Item = (&[u8], f64)>| -> Vec<(f64, Vec<u8>)> {
            iter.map(|(m, s)| (s, m.to_vec())).collect()
        };
        assert_eq!(as_model(&mut set.iter()), model, "batch {batch}");
        for (rank, (_, member)) in model.iter().enumerate() {
            assert_eq!(set.rank(member), Some(rank));
        }
        for _ in 0..20 {
            let (a, b) = (rng.below(model.len() + 3), rng.below(model.len() + 3));
            let expect: Vec<_> = model
                .iter()
                .skip(a)
                .take((b + 1).saturating_sub(a))
                .cloned()
                .collect();
            assert_eq!(as_model(&mut set.range_by_rank(a, b)), expect);
            let mut expect_rev: Vec<_> = model
                .iter()
                .rev()
                .skip(a)
                .take((b + 1).saturating_sub(a))
                .cloned()
                .collect();
            assert_eq!(as_model(&mut set.rev_range_by_rank(a, b)), expect_rev);

            let mut bound = || {
                let score = SCORES[rng.below(SCORES.len())];
                if rng.below(2) == 0 {
                    ScoreBound::Inclusive(score)
                } else {
                    ScoreBound::Exclusive(score)
                }
            };
            let (min, max) = (bound(), bound());
            let expect: Vec<_> = model
                .iter()
                .filter(|(s, _)| !min.is_below_min(*s) && max.is_within_max(*s))
                .cloned()
                .collect();
            assert_eq!(as_model(&mut set.range_by_score(&min, &max)), expect);
            assert_eq!(set.count_in_score_range(&min, &max), expect.len());
            expect_rev = expect.into_iter().rev().collect();
            assert_eq!(
                as_model(&mut set.rev_range_by_score(&min, &max)),
                expect_rev
            );

            if equal_scores {
                let mut lex = || {
                    let member = random_member(&mut rng);
                    match rng.below(6) {
                        0 => LexBound::NegInf,
                        1 => LexBound::PosInf,
                        2 | 3 => LexBound::Inclusive(member),
                        _ => LexBound::Exclusive(member),
                    }
                };
                let (min, max) = (lex(), lex());
                let expect: Vec<_> = model
                    .iter()
                    .filter(|(_, m)| !min.is_below_min(m) && max.is_within_max(m))
                    .cloned()
                    .collect();
                assert_eq!(as_model(&mut set.range_by_lex(&min, &max)), expect);
                assert_eq!(set.count_in_lex_range(&min, &max), expect.len());
                expect_rev = expect.into_iter().rev().collect();
                assert_eq!(as_model(&mut set.rev_range_by_lex(&min, &max)), expect_rev);
            }
        }
    }
}

#[test]
fn random_operations_match_a_sorted_vec() {
    random_against_model(0x9e37_79b9_7f4a_7c15, false);
}

#[test]
fn random_lex_operations_match_a_sorted_vec() {
    random_against_model(0x2545_f491_4f6c_dd1d, true);
}

#[test]
fn many_members_keep_logarithmic_levels() {
    let mut set = ZSet::new();
    for i in 0..50_000u32 {
        set.insert(&i.to_be_bytes(), f64::from(i % 1000));
    }
    let levels = check_invariants(&set);
    assert!((6..=16).contains(&levels), "{levels} levels");
    assert_eq!(set.get_by_rank(49_999).map(|(_, s)| s), Some(999.0));
    for i in 0..50_000u32 {
        assert_eq!(set.remove(&i.to_be_bytes()), Some(f64::from(i % 1000)));
    }
    assert_eq!(check_invariants(&set), 1);
}

/// Resident memory per member for 1M 13-byte members. Run alone:
/// `cargo test --release --lib memory_per_member -- --ignored --nocapture`.
#[test]
#[ignore]
fn memory_per_member() {
    let resident_bytes = || {
        let statm = std::fs::read_to_string("/proc/self/statm").expect("Linux /proc");
        let pages: usize = statm
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .expect("statm field 2");
        pages * 4096
    };
    let before = resident_bytes();
    let mut set = ZSet::new();
    for i in 0..1_000_000u32 {
        set.insert(format!("member:{i:06}").as_bytes(), f64::from(i));
    }
    let per_member = (resident_bytes() - before) as f64 / 1e6;
    println!("{per_member:.1} bytes per member (13-byte members)");
    assert!(per_member < 160.0);
}
