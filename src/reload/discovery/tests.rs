use super::*;

#[test]
fn flag_values_are_auto_or_go_booleans() {
    let cases = [
        ("auto", Ok(Detect::Auto)),
        ("", Ok(Detect::Auto)),
        ("true", Ok(Detect::On)),
        ("True", Ok(Detect::On)),
        ("1", Ok(Detect::On)),
        ("t", Ok(Detect::On)),
        ("false", Ok(Detect::Off)),
        ("FALSE", Ok(Detect::Off)),
        ("0", Ok(Detect::Off)),
        ("yes", Err(UnknownDetect("yes".into()))),
        ("Auto", Err(UnknownDetect("Auto".into()))),
    ];
    for (text, want) in cases {
        assert_eq!(text.parse::<Detect>(), want, "{text:?}");
    }
}

#[test]
fn a_kind_is_looked_up_unless_turned_off_or_ignored() {
    let cases = [
        (Detect::Auto, false, true),
        (Detect::On, false, true),
        (Detect::Off, false, false),
        (Detect::Auto, true, false),
        (Detect::On, true, false),
    ];
    for (detect, ignored, want) in cases {
        assert_eq!(wanted(detect, ignored), want, "{detect} ignored={ignored}");
    }
}

#[test]
fn a_served_api_is_watched_and_a_missing_one_warns_only_when_asked_for() {
    let cases = [
        (Detect::Auto, true, Found::Watch),
        (Detect::On, true, Found::Watch),
        (Detect::Auto, false, Found::AbsentQuietly),
        (Detect::On, false, Found::AbsentButAskedFor),
    ];
    for (detect, served, want) in cases {
        assert_eq!(found(detect, served), want, "{detect} served={served}");
    }
}

#[test]
fn failed_discovery_is_retried_for_about_fifteen_seconds() {
    let delays: Vec<Option<Duration>> = (1..=7).map(retry_delay).collect();
    let ms = |n| Some(Duration::from_millis(n));
    assert_eq!(
        delays,
        [ms(500), ms(1000), ms(2000), ms(4000), ms(8000), None, None]
    );
}
