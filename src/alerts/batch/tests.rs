use super::*;
use crate::alerts::sink::{SinkKind, SinkUrl};
use reloader_core::source::{SourceKind, SourceRef};
use reloader_core::workload::WorkloadKind;

const WAIT: GroupWait = GroupWait {
    quiet: Duration::from_secs(2),
    max: Duration::from_secs(30),
};

fn route(url: &str) -> Route {
    Route {
        kind: SinkKind::Slack,
        url: SinkUrl::Inline(url.into()),
    }
}

fn sources(hash: &str) -> Vec<ChangedSource> {
    vec![ChangedSource {
        source: SourceRef::new("team-a", SourceKind::Secret, "db-creds"),
        hash: hash.into(),
        strategy: "env-vars",
    }]
}

fn report(name: &str, hash: &str, result: AlertResult) -> AlertEvent {
    AlertEvent {
        workload: WorkloadRef::new("team-a", WorkloadKind::Deployment, name),
        sources: sources(hash),
        result,
        after_pause: false,
        time: Timestamp::UNIX_EPOCH,
    }
}

fn failed(detail: &str) -> AlertResult {
    AlertResult::Failed {
        class: "api",
        detail: detail.into(),
    }
}

fn deferred() -> AlertResult {
    AlertResult::Deferred {
        until: Timestamp::UNIX_EPOCH,
    }
}

fn names(alert: &ChangeAlert) -> Vec<(String, &'static str)> {
    alert
        .listed
        .iter()
        .map(|l| (l.workload.name.clone(), l.result.label()))
        .collect()
}

#[test]
fn a_change_rolled_by_two_hundred_workloads_is_one_alert_per_receiver() {
    let t0 = Instant::now();
    let mut batcher = Batcher::new(WAIT);
    let routes = [route("https://a"), route("https://b")];
    for i in 0..200 {
        let at = t0 + Duration::from_millis(i * 5);
        let admitted = batcher.add(
            report(&format!("w{i:03}"), "h1", AlertResult::Rolled),
            &routes,
            at,
        );
        assert_eq!(admitted, Admission::Queued);
    }
    let alerts = batcher.take_due(t0 + Duration::from_secs(10));
    assert_eq!(alerts.len(), 2, "one per receiver");
    for (r, alert) in &alerts {
        assert!(routes.contains(r));
        assert_eq!(alert.counts.rolled, 200);
        assert_eq!(alert.counts.attempted(), 200);
        assert_eq!(alert.listed.len(), LIST_BOUND);
        assert_eq!(alert.unlisted, 200 - LIST_BOUND as u64);
        assert_eq!(alert.sources, sources("h1"));
        assert_eq!(alert.phase, Phase::Change);
        assert_eq!(alert.tone(), Tone::Success);
    }
    assert!(batcher.take_all().is_empty(), "nothing left");
}

#[test]
fn a_change_is_sent_once_quiet_or_once_old_enough() {
    let t0 = Instant::now();
    let secs = Duration::from_secs;
    // (report times in seconds after t0, moment asked, alerts due then)
    let table: [(&[u64], u64, usize); 5] = [
        (&[0], 1, 0),
        (&[0], 2, 1),
        (&[0, 1], 2, 0),
        (&[0, 1], 3, 1),
        // Reports every second never go quiet; the change is sent 30 s after its first.
        (
            &[
                0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                23, 24, 25, 26, 27, 28, 29,
            ],
            30,
            1,
        ),
    ];
    for (times, asked, want) in table {
        let mut batcher = Batcher::new(WAIT);
        for (i, t) in times.iter().enumerate() {
            let r = report(&format!("w{i}"), "h1", AlertResult::Rolled);
            batcher.add(r, &[route("https://a")], t0 + secs(*t));
        }
        let due = batcher.take_due(t0 + secs(asked));
        assert_eq!(due.len(), want, "reports at {times:?}, asked at {asked} s");
        if want == 0 {
            assert!(batcher.next_due().unwrap() > t0 + secs(asked));
        }
    }
}

#[test]
fn counts_name_failures_first_and_leave_up_to_date_workloads_unnamed() {
    let t0 = Instant::now();
    let mut batcher = Batcher::new(WAIT);
    let r = [route("https://a")];
    batcher.add(report("a-rolled", "h1", AlertResult::Rolled), &r, t0);
    batcher.add(report("b-current", "h1", AlertResult::UpToDate), &r, t0);
    batcher.add(report("c-paused", "h1", deferred()), &r, t0);
    batcher.add(
        report("d-denied", "h1", failed("403 Forbidden: no patch")),
        &r,
        t0,
    );
    let alerts = batcher.take_all();
    assert_eq!(alerts.len(), 1);
    let alert = &alerts[0].1;
    assert_eq!(
        alert.counts,
        Counts {
            rolled: 1,
            up_to_date: 1,
            deferred: 1,
            failed: 1
        }
    );
    assert_eq!(
        names(alert),
        [
            ("d-denied".to_owned(), "failed"),
            ("c-paused".to_owned(), "deferred"),
            ("a-rolled".to_owned(), "rolled"),
        ]
    );
    assert_eq!(alert.unlisted, 0);
    assert_eq!(alert.tone(), Tone::Failure);
}

#[test]
fn what_is_announced_for_each_mix_of_results() {
    // (results of one change, alert sent?, tone)
    let table: [(Vec<AlertResult>, bool, Option<Tone>); 4] = [
        (
            vec![AlertResult::UpToDate, AlertResult::UpToDate],
            false,
            None,
        ),
        (
            vec![AlertResult::UpToDate, AlertResult::Rolled],
            true,
            Some(Tone::Success),
        ),
        (vec![deferred()], true, Some(Tone::Waiting)),
        (
            vec![AlertResult::Rolled, failed("409 Conflict")],
            true,
            Some(Tone::Failure),
        ),
    ];
    for (results, sent, tone) in table {
        let mut batcher = Batcher::new(WAIT);
        for (i, result) in results.iter().enumerate() {
            batcher.add(
                report(&format!("w{i}"), "h1", result.clone()),
                &[route("https://a")],
                Instant::now(),
            );
        }
        let alerts = batcher.take_all();
        assert_eq!(alerts.len(), usize::from(sent), "{results:?}");
        assert_eq!(alerts.first().map(|(_, a)| a.tone()), tone, "{results:?}");
    }
}

#[test]
fn another_version_of_the_source_is_another_change() {
    let mut batcher = Batcher::new(WAIT);
    let r = [route("https://a")];
    batcher.add(report("web", "h1", AlertResult::Rolled), &r, Instant::now());
    batcher.add(report("web", "h2", AlertResult::Rolled), &r, Instant::now());
    let hashes: Vec<String> = batcher
        .take_all()
        .iter()
        .map(|(_, a)| a.sources[0].hash.clone())
        .collect();
    assert_eq!(hashes.len(), 2);
    assert!(hashes.contains(&"h1".into()) && hashes.contains(&"h2".into()));
}

#[test]
fn a_failure_retried_then_settled_counts_once_as_rolled() {
    let mut batcher = Batcher::new(WAIT);
    let r = [route("https://a")];
    let t = Instant::now();
    assert_eq!(
        batcher.add(report("web", "h1", failed("503")), &r, t),
        Admission::Queued
    );
    assert_eq!(
        batcher.add(report("web", "h1", failed("503")), &r, t),
        Admission::Repeated
    );
    assert_eq!(
        batcher.add(report("web", "h1", AlertResult::Rolled), &r, t),
        Admission::Queued
    );
    let alerts = batcher.take_all();
    assert_eq!(alerts[0].1.counts.rolled, 1);
    assert_eq!(alerts[0].1.counts.failed, 0);
}

#[test]
fn a_rollout_a_pause_held_back_settles_its_change_or_follows_it_up() {
    let t0 = Instant::now();
    let r = [route("https://a")];
    let after_pause = |name: &str| AlertEvent {
        after_pause: true,
        ..report(name, "h1", AlertResult::Rolled)
    };

    // The pause ends while the change is still being gathered: one alert, rolled.
    let mut batcher = Batcher::new(WAIT);
    batcher.add(report("web", "h1", deferred()), &r, t0);
    batcher.add(after_pause("web"), &r, t0 + Duration::from_secs(1));
    let alerts = batcher.take_all();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (
            alerts[0].1.phase,
            alerts[0].1.counts.rolled,
            alerts[0].1.counts.deferred
        ),
        (Phase::Change, 1, 0)
    );

    // The pause ends after the change was announced: a follow-up alert.
    let mut batcher = Batcher::new(WAIT);
    batcher.add(report("web", "h1", deferred()), &r, t0);
    let first = batcher.take_due(t0 + Duration::from_secs(3));
    assert_eq!(first[0].1.counts.deferred, 1);
    batcher.add(after_pause("web"), &r, t0 + Duration::from_secs(60));
    let follow_up = batcher.take_all();
    assert_eq!(follow_up.len(), 1);
    assert_eq!(
        (follow_up[0].1.phase, follow_up[0].1.counts.rolled),
        (Phase::AfterPause, 1)
    );
}

#[test]
fn past_the_bound_of_waiting_changes_reports_are_dropped() {
    let mut batcher = Batcher::new(WAIT);
    let r = [route("https://a")];
    for i in 0..MAX_OPEN {
        let admitted = batcher.add(
            report("web", &format!("h{i}"), AlertResult::Rolled),
            &r,
            Instant::now(),
        );
        assert_eq!(admitted, Admission::Queued);
    }
    let more = batcher.add(
        report("web", "another", AlertResult::Rolled),
        &r,
        Instant::now(),
    );
    assert_eq!(more, Admission::Full);
    // A report of a change already waiting still fits.
    let same = batcher.add(report("api", "h0", AlertResult::Rolled), &r, Instant::now());
    assert_eq!(same, Admission::Queued);
    assert_eq!(batcher.take_all().len(), MAX_OPEN);
}

#[test]
fn past_the_bound_of_named_workloads_a_change_still_counts_them() {
    let mut batcher = Batcher::new(WAIT);
    let r = [route("https://a")];
    let total = ENTRY_BOUND + 50;
    for i in 0..total {
        batcher.add(
            report(&format!("w{i:05}"), "h1", AlertResult::Rolled),
            &r,
            Instant::now(),
        );
    }
    let alert = &batcher.take_all()[0].1;
    assert_eq!(alert.counts.rolled, total as u64);
    assert_eq!(alert.unlisted, (total - LIST_BOUND) as u64);
}

#[test]
fn up_to_date_reports_wait_for_a_rollout_without_filling_the_bound() {
    let t0 = Instant::now();
    let r = [route("https://a")];
    let mut batcher = Batcher::new(WAIT);
    // A resync finds every follower of many sources up to date: nothing opens.
    for i in 0..(MAX_OPEN * 4) {
        let admitted = batcher.add(
            report("web", &format!("h{i}"), AlertResult::UpToDate),
            &r,
            t0,
        );
        assert_eq!(admitted, Admission::Queued);
    }
    assert_eq!(batcher.next_due(), None, "nothing to announce");
    // Two more up-to-date followers of h1, then one of them rolls: all are counted.
    batcher.add(report("api", "h1", AlertResult::UpToDate), &r, t0);
    let rolled = batcher.add(report("db", "h1", AlertResult::Rolled), &r, t0);
    assert_eq!(rolled, Admission::Queued, "the bound still has room");
    let alerts = batcher.take_all();
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        (alerts[0].1.counts.rolled, alerts[0].1.counts.up_to_date),
        (1, 2)
    );
    // Counts of changes that never roll are forgotten after the longest wait.
    batcher.add(report("web", "h9", AlertResult::UpToDate), &r, t0);
    batcher.take_due(t0 + WAIT.max);
    batcher.add(report("web", "h9", AlertResult::Rolled), &r, t0 + WAIT.max);
    assert_eq!(batcher.take_all()[0].1.counts.up_to_date, 0);
}
