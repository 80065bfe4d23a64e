use super::*;
use k8s_openapi::api::core::v1::ConfigMap;
use reloader_core::hash::{SourceHash, hash_configmap};
use reloader_core::patch::{Record, ReloadStrategy};
use reloader_core::source::SourceKind;
use reloader_core::workload::WorkloadKind;

fn at(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(1_700_000_000_000 + ms).unwrap()
}

fn hash(v: &str) -> SourceHash {
    hash_configmap(&ConfigMap {
        data: Some([("k".to_string(), v.to_string())].into()),
        ..Default::default()
    })
}

fn entry(kind: SourceKind, name: &str, v: &str, seq: u64) -> Entry {
    Entry {
        wanted: Wanted {
            record: Record {
                source: SourceRef::new("ns", kind, name),
                hash: hash(v),
                container: Some(0),
                stakater: None,
            },
            strategy: ReloadStrategy::EnvVars,
            baseline_required: false,
            same_data: Vec::new(),
            keep_stakater: false,
            stakater: None,
        },
        seq,
        config: None,
        pause: None,
        coalesce: None,
        admitted: None,
    }
}

fn web() -> WorkloadRef {
    WorkloadRef::new("ns", WorkloadKind::Deployment, "web")
}

const WINDOW: Duration = Duration::from_millis(100);

#[test]
fn changes_within_the_window_are_applied_together() {
    let mut set = PendingSet::default();
    set.add(
        web(),
        entry(SourceKind::ConfigMap, "cfg", "1", 1),
        at(0),
        WINDOW,
    );
    set.add(
        web(),
        entry(SourceKind::Secret, "creds", "1", 2),
        at(50),
        WINDOW,
    );
    assert!(
        set.take_due(at(99), |_| false, usize::MAX).is_empty(),
        "window still open"
    );
    let due = set.take_due(at(100), |_| false, usize::MAX);
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].1.entries.len(), 2);
    assert!(set.is_empty());
}

#[test]
fn a_longer_window_joining_a_pending_workload_extends_it() {
    let cases = [
        (
            "the shorter first",
            Duration::from_millis(100),
            Duration::from_millis(3000),
            3000,
        ),
        (
            "the longer first",
            Duration::from_millis(3000),
            Duration::from_millis(100),
            3000,
        ),
        ("equal", WINDOW, WINDOW, 100),
    ];
    for (name, first, second, due_ms) in cases {
        let mut set = PendingSet::default();
        set.add(
            web(),
            entry(SourceKind::ConfigMap, "cfg", "1", 1),
            at(0),
            first,
        );
        set.add(
            web(),
            entry(SourceKind::Secret, "creds", "1", 2),
            at(50),
            second,
        );
        assert!(
            set.take_due(at(due_ms - 1), |_| false, usize::MAX)
                .is_empty(),
            "{name}: still open"
        );
        let due = set.take_due(at(due_ms), |_| false, usize::MAX);
        assert_eq!(due.len(), 1, "{name}");
        assert_eq!(
            due[0].1.entries.len(),
            2,
            "{name}: both changes in one patch"
        );
    }
}

#[test]
fn a_triggers_first_record_survives_a_later_resync_read_of_the_same_hash() {
    let mut set = PendingSet::default();
    let mut resync = entry(SourceKind::Secret, "creds", "2", 10);
    resync.wanted.baseline_required = true;
    set.add(web(), resync, at(0), WINDOW);
    // The trigger's read finished later but was numbered earlier.
    set.add(
        web(),
        entry(SourceKind::Secret, "creds", "2", 9),
        at(10),
        WINDOW,
    );
    let due = set.take_due(at(100), |_| false, usize::MAX);
    let wanted = due[0].1.wanted();
    assert_eq!(wanted.len(), 1);
    assert!(
        !wanted[0].baseline_required,
        "the trigger may make the first record"
    );
}

#[test]
fn the_latest_arrival_wins_for_the_same_source() {
    let mut set = PendingSet::default();
    set.add(
        web(),
        entry(SourceKind::ConfigMap, "cfg", "new", 2),
        at(0),
        WINDOW,
    );
    set.add(
        web(),
        entry(SourceKind::ConfigMap, "cfg", "old", 1),
        at(10),
        WINDOW,
    );
    let due = set.take_due(at(100), |_| false, usize::MAX);
    let wanted = due[0].1.wanted();
    assert_eq!(wanted.len(), 1);
    assert_eq!(wanted[0].record.hash, hash("new"));
}

#[test]
fn a_busy_workload_waits_and_keeps_collecting() {
    let mut set = PendingSet::default();
    set.add(
        web(),
        entry(SourceKind::ConfigMap, "cfg", "1", 1),
        at(0),
        WINDOW,
    );
    assert!(set.take_due(at(200), |_| true, usize::MAX).is_empty());
    assert_eq!(set.next_due(|_| true), None);
    assert_eq!(set.next_due(|_| false), Some(at(100)));
}

#[test]
fn restored_changes_merge_with_newer_ones_and_wait_for_the_pause() {
    let mut set = PendingSet::default();
    set.add(
        web(),
        entry(SourceKind::ConfigMap, "cfg", "1", 1),
        at(0),
        WINDOW,
    );
    let (_, pending) = set.take_due(at(100), |_| false, usize::MAX).remove(0);
    set.add(
        web(),
        entry(SourceKind::ConfigMap, "cfg", "2", 2),
        at(150),
        WINDOW,
    );
    set.restore(web(), pending, at(5_000));
    assert!(set.take_due(at(4_999), |_| false, usize::MAX).is_empty());
    let due = set.take_due(at(5_000), |_| false, usize::MAX);
    assert_eq!(due[0].1.wanted()[0].record.hash, hash("2"));
}

#[test]
fn a_forgotten_workload_has_nothing_due() {
    let mut set = PendingSet::default();
    set.add(
        web(),
        entry(SourceKind::ConfigMap, "cfg", "1", 1),
        at(0),
        WINDOW,
    );
    set.forget(&web());
    assert!(set.take_due(at(1_000), |_| false, usize::MAX).is_empty());
}

fn admitted_at(secs: u64) -> Option<std::time::SystemTime> {
    Some(std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

#[test]
fn the_latency_counts_from_the_earliest_write_the_patch_answers() {
    // (name, entries as (source, value, seq, admitted at), patched sources, wanted)
    type Case = (
        &'static str,
        &'static [(&'static str, &'static str, u64, Option<u64>)],
        &'static [&'static str],
        Option<u64>,
    );
    let cases: &[Case] = &[
        ("one write", &[("a", "1", 1, Some(10))], &["a"], Some(10)),
        ("resync only", &[("a", "1", 1, None)], &["a"], None),
        (
            "a newer write of the same source keeps the first admission",
            &[("a", "1", 1, Some(10)), ("a", "2", 2, Some(12))],
            &["a"],
            Some(10),
        ),
        (
            "an older write resolved late still counts",
            &[("a", "2", 2, Some(12)), ("a", "1", 1, Some(10))],
            &["a"],
            Some(10),
        ),
        (
            "a resync read after a trigger keeps the trigger's admission",
            &[("a", "1", 1, Some(10)), ("a", "1", 5, None)],
            &["a"],
            Some(10),
        ),
        (
            "two sources: the earlier",
            &[("a", "1", 1, Some(12)), ("b", "1", 2, Some(11))],
            &["a", "b"],
            Some(11),
        ),
        (
            "a source the patch did not change is left out",
            &[("a", "1", 1, Some(12)), ("b", "1", 2, Some(11))],
            &["a"],
            Some(12),
        ),
        ("nothing patched", &[("a", "1", 1, Some(10))], &[], None),
    ];
    for (name, entries, patched, want) in cases {
        let mut set = PendingSet::default();
        for (source, v, seq, admitted) in *entries {
            let mut e = entry(SourceKind::Secret, source, v, *seq);
            e.admitted = admitted.and_then(admitted_at);
            set.add(web(), e, at(0), WINDOW);
        }
        let (_, pending) = set.take_due(at(100), |_| false, usize::MAX).remove(0);
        let got = pending.first_admitted(|s| patched.contains(&s.name.as_str()));
        assert_eq!(got, want.and_then(admitted_at), "{name}");
    }
}

#[test]
fn a_restored_change_keeps_its_admission_when_newer_writes_join() {
    let mut set = PendingSet::default();
    let mut first = entry(SourceKind::Secret, "a", "1", 1);
    first.admitted = admitted_at(10);
    set.add(web(), first, at(0), WINDOW);
    let (_, pending) = set.take_due(at(100), |_| false, usize::MAX).remove(0);
    let mut newer = entry(SourceKind::Secret, "a", "2", 2);
    newer.admitted = admitted_at(20);
    set.add(web(), newer, at(150), WINDOW);
    set.restore(web(), pending, at(5_000));
    let (_, pending) = set.take_due(at(5_000), |_| false, usize::MAX).remove(0);
    assert_eq!(pending.wanted()[0].record.hash, hash("2"));
    assert_eq!(pending.first_admitted(|_| true), admitted_at(10));
}

/// `--max-concurrent-reloads`: a fan-out is handed out a few at a time, earliest change
/// first; the rest stay pending, nothing is dropped.
#[test]
fn a_limit_hands_out_the_earliest_due_and_keeps_the_rest() {
    let mut set = PendingSet::default();
    for (i, name) in ["d", "b", "e", "a", "c"].iter().enumerate() {
        set.add(
            WorkloadRef::new("ns", WorkloadKind::Deployment, *name),
            entry(SourceKind::ConfigMap, "cfg", "1", i as u64),
            at(i as i64 * 10),
            WINDOW,
        );
    }
    let names = |due: Vec<(WorkloadRef, Pending)>| -> Vec<String> {
        due.into_iter().map(|(w, _)| w.name).collect()
    };
    assert_eq!(names(set.take_due(at(1_000), |_| false, 2)), ["d", "b"]);
    assert_eq!(
        names(set.take_due(at(1_000), |_| false, 0)),
        Vec::<String>::new()
    );
    assert_eq!(names(set.take_due(at(1_000), |_| false, 2)), ["e", "a"]);
    assert_eq!(names(set.take_due(at(1_000), |_| false, 2)), ["c"]);
    assert!(set.is_empty());
}

#[test]
fn only_changes_due_soon_count_as_waiting() {
    let now = Timestamp::now();
    let mut set = PendingSet::default();
    let minute = Duration::from_secs(60);
    for (name, coalesce) in [
        ("soon", Duration::from_secs(1)),
        ("later", Duration::from_secs(3600)),
    ] {
        let w = WorkloadRef::new("ns", WorkloadKind::Deployment, name);
        set.add(w, entry(SourceKind::Secret, name, "v1", 1), now, coalesce);
    }
    assert_eq!(set.len(), 2);
    assert_eq!(
        set.due_within(now, minute),
        1,
        "the one due in an hour waits"
    );
    assert_eq!(set.due_within(now, Duration::from_secs(7200)), 2);
}
