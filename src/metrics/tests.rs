use super::*;

#[test]
fn counters_appear_in_the_exposition_with_their_labels() {
    let m = Metrics::new();
    m.review("sources", "triggered", Duration::from_micros(80));
    m.trigger_dropped("full");
    let text = m.encode();
    assert!(
        text.contains(
            r#"reloader_admission_reviews_total{webhook="sources",result="triggered"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"reloader_triggers_dropped_total{reason="full"} 1"#),
        "{text}"
    );
}
