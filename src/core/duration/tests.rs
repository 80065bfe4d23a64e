use super::*;
use proptest::prelude::*;

const S: u64 = 1_000_000_000;

#[test]
fn valid_go_durations_parse() {
    let cases: &[(&str, &str, u64)] = &[
        ("zero without unit", "0", 0),
        ("zero seconds", "0s", 0),
        ("seconds", "30s", 30 * S),
        ("minutes", "5m", 300 * S),
        ("hours and minutes", "1h30m", 5400 * S),
        ("fractional hours", "1.5h", 5400 * S),
        ("leading dot fraction", ".5s", S / 2),
        ("trailing dot", "1.s", S),
        ("milliseconds", "300ms", 300_000_000),
        ("microseconds ascii", "2us", 2_000),
        ("microseconds micro sign", "2µs", 2_000),
        ("microseconds greek mu", "2μs", 2_000),
        ("nanoseconds", "7ns", 7),
        ("explicit plus", "+10s", 10 * S),
        ("units in any order", "10s1h", 3610 * S),
        ("mixed", "1h2m3s4ms", 3723 * S + 4_000_000),
    ];
    for (name, text, nanos) in cases {
        assert_eq!(
            parse_duration(text),
            Ok(Duration::from_nanos(*nanos)),
            "case {name}: {text}"
        );
    }
}

type Check = fn(&DurationError) -> bool;

#[test]
fn bad_durations_are_typed_errors() {
    let cases: &[(&str, &str, Check)] = &[
        ("empty", "", |e| *e == DurationError::Empty),
        ("sign only", "+", |e| matches!(e, DurationError::Invalid(_))),
        ("number without unit", "30", |e| {
            matches!(e, DurationError::MissingUnit(_))
        }),
        (
            "unknown unit",
            "5d",
            |e| matches!(e, DurationError::UnknownUnit { unit, .. } if unit == "d"),
        ),
        ("negative", "-5s", |e| {
            matches!(e, DurationError::Negative(_))
        }),
        ("words", "five minutes", |e| {
            matches!(e, DurationError::Invalid(_))
        }),
        ("dot only", ".s", |e| matches!(e, DurationError::Invalid(_))),
        ("spaces", "5 m", |e| {
            matches!(e, DurationError::UnknownUnit { .. })
        }),
        ("overflow", "9999999999999999999999999h", |e| {
            matches!(e, DurationError::Overflow(_))
        }),
        ("beyond go's range", "3000000h", |e| {
            matches!(e, DurationError::Overflow(_))
        }),
    ];
    for (name, text, check) in cases {
        let err = parse_duration(text).expect_err(name);
        assert!(check(&err), "case {name}: {text} gave {err:?}");
        assert!(!err.to_string().is_empty());
    }
}

/// Inputs the fuzzer (`fuzz/fuzz_targets/duration.rs`) found, each once a panic in debug
/// builds and a wrong, tiny duration in release builds (the sum wrapped around).
#[test]
fn fuzzer_findings_are_overflow_errors() {
    let cases = [
        (
            "a fraction carries the largest whole seconds past u128",
            "340282366920938463463374607431.8s",
        ),
        ("the same for hours", "94522879700260684295381835.9999h"),
        (
            "the same for microseconds",
            "340282366920938463463374607431768211.5us",
        ),
    ];
    for (name, text) in cases {
        assert!(
            matches!(parse_duration(text), Err(DurationError::Overflow(_))),
            "case {name}: {text} gave {:?}",
            parse_duration(text)
        );
    }
}

#[test]
fn formatting_matches_go() {
    let cases = [
        (Duration::ZERO, "0s"),
        (Duration::from_secs(30), "30s"),
        (Duration::from_secs(300), "5m0s"),
        (Duration::from_secs(5400), "1h30m0s"),
        (Duration::from_millis(300), "300ms"),
        (Duration::from_millis(1500), "1.5s"),
    ];
    for (d, text) in cases {
        assert_eq!(format_duration(d), text);
    }
}

proptest! {
    #[test]
    fn never_panics_on_any_text(text in ".{0,40}") {
        let _ = parse_duration(&text);
    }

    #[test]
    fn formatted_durations_parse_back(nanos in 0u64..(i64::MAX as u64)) {
        let d = Duration::from_nanos(nanos);
        prop_assert_eq!(parse_duration(&format_duration(d)), Ok(d));
    }
}
