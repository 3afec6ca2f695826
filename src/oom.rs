//! oom-score-adj: asking Linux's out-of-memory killer to prefer some of our
//! processes over others, as Redis does.
//!
//! `oom-score-adj-values` holds three values, for a master, a replica and
//! a background child (the forked BGSAVE). With `oom-score-adj yes` (or
//! `relative`) the process's `/proc/self/oom_score_adj` becomes the value
//! of its class plus the score it had when we first took control (the
//! base); with `absolute`, the value alone. Turning it back to `no`
//! restores the base. The result is clamped to the kernel's -1000..1000.
//! [`apply`] runs at start, after CONFIG SET of either parameter, and when
//! the role changes (REPLICAOF); the BGSAVE child sets its own score
//! right after the fork with [`set_in_child`], from a value the parent
//! prepared (a forked child of a threaded process must not allocate).

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Mutex;

use crate::config::Config;
use crate::server::Server;

const PROC_FILE: &str = "/proc/self/oom_score_adj";

/// The score before we first changed it; None while we have not.
static BASE: Mutex<Option<i32>> = Mutex::new(None);

/// The score the next BGSAVE child sets, or [`NO_CHILD_SCORE`].
static CHILD_SCORE: AtomicI32 = AtomicI32::new(NO_CHILD_SCORE);
const NO_CHILD_SCORE: i32 = i32::MIN;

/// Parses `oom-score-adj-values` ("master replica child"), each within
/// -2000..2000 as Redis requires.
pub fn parse_values(text: &str) -> Result<[i32; 3], String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let [a, b, c] = words[..] else {
        return Err("Invalid oom-score-adj-values: three values are required".into());
    };
    let mut out = [0; 3];
    for (slot, word) in out.iter_mut().zip([a, b, c]) {
        let v: i32 = word
            .parse()
            .map_err(|_| "Invalid oom-score-adj-values: not an integer".to_string())?;
        if !(-2000..=2000).contains(&v) {
            return Err(
                "Invalid oom-score-adj-values: values must be between -2000 and 2000".into(),
            );
        }
        *slot = v;
    }
    Ok(out)
}

/// The score for `class` (0 master, 1 replica, 2 child) under `config`,
/// given the base; None when oom-score-adj is no.
fn score(config: &Config, class: usize, base: i32) -> Option<i32> {
    let mode = config.get("oom-score-adj").unwrap_or("no");
    if mode == "no" {
        return None;
    }
    let values = parse_values(config.get("oom-score-adj-values").unwrap_or("")).ok()?;
    let value = values[class];
    let value = if mode == "absolute" {
        value
    } else {
        value + base
    };
    Some(value.clamp(-1000, 1000))
}

fn read_score() -> Result<i32, String> {
    let text = std::fs::read_to_string(PROC_FILE).map_err(|e| format!("{PROC_FILE}: {e}"))?;
    text.trim()
        .parse()
        .map_err(|_| format!("{PROC_FILE}: unexpected contents {text:?}"))
}

fn write_score(score: i32) -> Result<(), String> {
    std::fs::write(PROC_FILE, format!("{score}\n")).map_err(|e| {
        let why = format!("Unable to write oom_score_adj: {e}");
        log::warn!("{why}");
        why
    })
}

/// Sets this process's score for its role (see the module header).
pub fn apply(server: &Server) -> Result<(), String> {
    let class = usize::from(server.repl.is_replica());
    let config = server.config().clone();
    let mut base = BASE.lock().unwrap_or_else(|p| p.into_inner());
    if config.get("oom-score-adj").unwrap_or("no") == "no" {
        CHILD_SCORE.store(NO_CHILD_SCORE, Ordering::Relaxed);
        return match base.take() {
            Some(b) => write_score(b),
            None => Ok(()),
        };
    }
    let b = match *base {
        Some(b) => b,
        None => read_score()?,
    };
    *base = Some(b);
    CHILD_SCORE.store(
        score(&config, 2, b).unwrap_or(NO_CHILD_SCORE),
        Ordering::Relaxed,
    );
    match score(&config, class, b) {
        Some(s) => write_score(s),
        None => Ok(()),
    }
}

/// In a freshly forked BGSAVE child: sets the child's score, if any.
/// Uses only stack memory and raw syscalls (no allocation, no locks).
pub fn set_in_child() {
    let score = CHILD_SCORE.load(Ordering::Relaxed);
    if score == NO_CHILD_SCORE {
        return;
    }
    let mut buf = [0u8; 20];
    let digits = crate::number::i64_digits(i64::from(score), &mut buf);
    // SAFETY: the path is a NUL-terminated literal; `digits` is a valid,
    // live buffer of the length passed; the descriptor is closed once.
    unsafe {
        let fd = libc::open(c"/proc/self/oom_score_adj".as_ptr(), libc::O_WRONLY);
        if fd >= 0 {
            let _ = libc::write(fd, digits.as_ptr().cast(), digits.len());
            libc::close(fd);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_within_bounds() {
        assert_eq!(parse_values("0 200 800"), Ok([0, 200, 800]));
        assert_eq!(parse_values("-2000 2000 0"), Ok([-2000, 2000, 0]));
        assert!(parse_values("-2001 0 0")
            .unwrap_err()
            .contains("between -2000 and 2000"));
        assert!(parse_values("1 2").is_err());
        assert!(parse_values("a b c").is_err());
    }

    #[test]
    fn scores_are_relative_or_absolute_and_clamped() {
        let mut c = Config::new();
        c.set("oom-score-adj-values", "10 20 1500", false).unwrap();
        assert_eq!(score(&c, 0, 5), None);
        c.set("oom-score-adj", "yes", false).unwrap();
        assert_eq!(score(&c, 0, 5), Some(15));
        assert_eq!(score(&c, 1, 5), Some(25));
        assert_eq!(score(&c, 2, 5), Some(1000));
        c.set("oom-score-adj", "absolute", false).unwrap();
        assert_eq!(score(&c, 0, 5), Some(10));
    }
}
