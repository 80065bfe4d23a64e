//! Go durations come from users (pause-period annotations, ReloaderConfig fields, flags),
//! and the webhook and the engine parse them on every write. This target checks that the
//! parser never panics (overflow checks are on), that what it accepts stays within Go's
//! i64 nanoseconds and prints back (`format_duration`) to the same duration, that it adds
//! up token by token (`1h` + `30m` = `1h30m`), and that every text the CRD's
//! `DURATION_PATTERN` admits parses, so the webhook never denies what the schema allows.
//!
//! Input: UTF-8 text; a `|` splits it into two durations for the token-by-token check.
#![no_main]

use std::sync::LazyLock;
use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use regex::Regex;
use reloader_core::crd::DURATION_PATTERN;
use reloader_core::duration::{DurationError, format_duration, parse_duration};

static PATTERN: LazyLock<Regex> = LazyLock::new(|| Regex::new(DURATION_PATTERN).unwrap());

fn check_one(text: &str) -> Result<Duration, DurationError> {
    let parsed = parse_duration(text);
    match &parsed {
        Ok(d) => {
            assert!(d.as_nanos() <= i64::MAX as u128, "{text:?} beyond Go's range");
            let printed = format_duration(*d);
            assert_eq!(parse_duration(&printed), Ok(*d), "{text:?} printed as {printed:?}");
            assert!(PATTERN.is_match(&printed), "the schema refuses {printed:?}");
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            match e {
                DurationError::Empty => assert!(text.is_empty()),
                DurationError::Negative(_) => assert!(text.starts_with('-')),
                _ => assert!(!text.is_empty() && !text.starts_with('-'), "{text:?}: {e:?}"),
            }
        }
    }
    if PATTERN.is_match(text) {
        assert!(
            matches!(parsed, Ok(_) | Err(DurationError::Overflow(_))),
            "the schema admits {text:?} but the parser says {parsed:?}"
        );
    }
    parsed
}

/// `a` then `b`, when neither is a bare `0` nor signed and `a` ends where `b` cannot
/// continue its unit, is the sum of the two.
fn check_sum(a: &str, b: &str) {
    let (Ok(x), Ok(y)) = (check_one(a), check_one(b)) else {
        return;
    };
    let joins = a != "0"
        && a.ends_with(|c: char| c.is_alphabetic())
        && b.starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && b != "0";
    if !joins {
        return;
    }
    let both = format!("{a}{b}");
    match x.checked_add(y).filter(|d| d.as_nanos() <= i64::MAX as u128) {
        Some(sum) => assert_eq!(parse_duration(&both), Ok(sum), "{a:?} + {b:?}"),
        None => assert!(
            matches!(parse_duration(&both), Err(DurationError::Overflow(_))),
            "{both:?} should overflow"
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.split_once('|') {
        Some((a, b)) => check_sum(a, b),
        None => {
            let _ = check_one(text);
        }
    }
});
