//! When to reload a workload that has pending changes: coalescing and pause periods as pure
//! time arithmetic.
//!
//! Pending changes are applied after the coalescing window (so a ConfigMap and a Secret
//! changed together roll once) and never inside a pause period: a change inside the window
//! is applied at its end (trailing edge), never dropped.

use std::time::Duration;

use k8s_openapi::jiff::{SignedDuration, Timestamp};

/// What to do with a workload now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Nothing is pending.
    Nothing,
    /// Patch now.
    ReloadNow,
    /// Patch at this time (end of the coalescing window or of the pause period).
    ReloadAt(Timestamp),
}

/// Everything the decision depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    pub now: Timestamp,
    /// When the first not-yet-applied change for this workload was admitted.
    pub first_pending: Option<Timestamp>,
    /// Triggers arriving within this window of the first are applied together.
    pub coalesce: Duration,
    /// When reloader last rolled the workload (from `keys::LAST_RELOAD_AT`).
    pub last_reload: Option<Timestamp>,
    /// Minimum time between two reloads.
    pub pause: Option<Duration>,
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    let signed = SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX);
    t.checked_add(signed).unwrap_or(Timestamp::MAX)
}

/// Decides when to reload. A recorded last reload in the future (clock skew, a hand-edited
/// annotation) counts as "now", so a workload can be delayed by at most one pause period and
/// is never stuck.
pub fn plan(t: Timing) -> Plan {
    let Some(first) = t.first_pending else {
        return Plan::Nothing;
    };
    let after_coalesce = plus(first, t.coalesce);
    let after_pause = match (t.last_reload, t.pause) {
        (Some(last), Some(pause)) if !pause.is_zero() => Some(plus(last.min(t.now), pause)),
        _ => None,
    };
    let due = after_pause.map_or(after_coalesce, |p| p.max(after_coalesce));
    if due <= t.now {
        Plan::ReloadNow
    } else {
        Plan::ReloadAt(due)
    }
}

/// Reads `keys::LAST_RELOAD_AT`; an unparseable value counts as absent (the worst case is one
/// reload inside a pause, never a stuck workload).
pub fn last_reload(value: Option<&str>) -> Option<Timestamp> {
    value.and_then(|v| v.parse().ok())
}

/// The value to write into `keys::LAST_RELOAD_AT`.
pub fn format_last_reload(t: Timestamp) -> String {
    // Whole seconds, RFC 3339, like every Kubernetes timestamp; rounded up, so a pause
    // measured from the recorded time never ends before the pause period has passed.
    let second = t.as_second() + i64::from(t.subsec_nanosecond() > 0);
    Timestamp::from_second(second).unwrap_or(t).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_second(1_700_000_000 + secs).unwrap()
    }

    fn timing(now: i64, first: Option<i64>, last: Option<i64>, pause: Option<u64>) -> Timing {
        Timing {
            now: at(now),
            first_pending: first.map(at),
            coalesce: Duration::from_secs(1),
            last_reload: last.map(at),
            pause: pause.map(Duration::from_secs),
        }
    }

    #[test]
    fn plans_follow_the_documented_rules() {
        let cases = [
            (
                "nothing pending",
                timing(100, None, Some(99), Some(60)),
                Plan::Nothing,
            ),
            (
                "fresh change waits for the coalescing window",
                timing(100, Some(100), None, None),
                Plan::ReloadAt(at(101)),
            ),
            (
                "window over, no pause: reload now",
                timing(101, Some(100), None, None),
                Plan::ReloadNow,
            ),
            (
                "pause long over: reload after the window",
                timing(200, Some(198), Some(10), Some(60)),
                Plan::ReloadNow,
            ),
            (
                "change inside the pause waits for its end",
                timing(100, Some(95), Some(90), Some(60)),
                Plan::ReloadAt(at(150)),
            ),
            (
                "pause ends before the window: the window wins",
                timing(100, Some(100), Some(40), Some(60)),
                Plan::ReloadAt(at(101)),
            ),
            (
                "zero pause means no pause",
                timing(100, Some(90), Some(99), Some(0)),
                Plan::ReloadNow,
            ),
            (
                "no recorded reload: no pause to honour",
                timing(100, Some(90), None, Some(60)),
                Plan::ReloadNow,
            ),
            (
                "a recorded reload in the future counts as now",
                timing(100, Some(90), Some(10_000), Some(60)),
                Plan::ReloadAt(at(160)),
            ),
            (
                "exactly at the end of the pause: reload now",
                timing(150, Some(95), Some(90), Some(60)),
                Plan::ReloadNow,
            ),
        ];
        for (name, input, expected) in cases {
            assert_eq!(plan(input), expected, "{name}");
        }
    }

    #[test]
    fn two_quick_changes_give_one_reload_now_and_one_at_the_window_end() {
        // First change: nothing recorded yet, reload once the coalescing window closes.
        assert_eq!(
            plan(timing(101, Some(100), None, Some(60))),
            Plan::ReloadNow
        );
        // Second change 5 s after that reload: delayed to the end of the pause, not dropped.
        assert_eq!(
            plan(timing(106, Some(106), Some(101), Some(60))),
            Plan::ReloadAt(at(161))
        );
        assert_eq!(
            plan(timing(161, Some(106), Some(101), Some(60))),
            Plan::ReloadNow
        );
    }

    #[test]
    fn huge_periods_saturate_instead_of_overflowing() {
        let t = Timing {
            now: at(0),
            first_pending: Some(at(0)),
            coalesce: Duration::from_secs(u64::MAX),
            last_reload: Some(at(0)),
            pause: Some(Duration::from_secs(u64::MAX)),
        };
        assert_eq!(plan(t), Plan::ReloadAt(Timestamp::MAX));
    }

    #[test]
    fn last_reload_annotation_round_trips_and_garbage_is_absent() {
        let t = at(42);
        assert_eq!(last_reload(Some(&format_last_reload(t))), Some(t));
        assert_eq!(format_last_reload(t), "2023-11-14T22:14:02Z");
        // A fraction of a second rounds up: the pause counts from no earlier than the reload.
        let later = t + SignedDuration::from_millis(1);
        assert_eq!(format_last_reload(later), "2023-11-14T22:14:03Z");
        assert!(last_reload(Some(&format_last_reload(later))).unwrap() >= later);
        assert_eq!(last_reload(Some("yesterday")), None);
        assert_eq!(last_reload(None), None);
    }
}
