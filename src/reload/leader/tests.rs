use super::*;

fn at(secs: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + secs).unwrap()
}

fn held_by(holder: &str, renewed: i64) -> LeaseSpec {
    LeaseSpec {
        holder_identity: Some(holder.into()),
        lease_duration_seconds: Some(15),
        renew_time: Some(MicroTime(at(renewed))),
        ..LeaseSpec::default()
    }
}

#[test]
fn lease_decisions() {
    let cases = [
        ("no lease", None, Action::Acquire),
        ("released", Some(LeaseSpec::default()), Action::Acquire),
        ("ours", Some(held_by("me", 0)), Action::Renew),
        (
            "theirs and fresh",
            Some(held_by("other", 0)),
            Action::Follow {
                holder: "other".into(),
            },
        ),
    ];
    for (name, spec, want) in cases {
        assert_eq!(decide(spec.as_ref(), "me", at(10)), want, "{name}");
    }
    assert_eq!(
        decide(Some(&held_by("other", 0)), "me", at(16)),
        Action::Acquire,
        "expired"
    );
}

#[test]
fn taking_over_counts_a_transition_and_renewing_does_not() {
    let theirs = held_by("other", 0);
    let taken = claimed(Some(&theirs), "me", Duration::from_secs(15), at(20));
    assert_eq!(taken.lease_transitions, Some(1));
    assert_eq!(taken.acquire_time, Some(MicroTime(at(20))));
    let renewed = claimed(Some(&taken), "me", Duration::from_secs(15), at(25));
    assert_eq!(renewed.lease_transitions, Some(1));
    assert_eq!(renewed.acquire_time, Some(MicroTime(at(20))));
    assert_eq!(renewed.renew_time, Some(MicroTime(at(25))));
}
