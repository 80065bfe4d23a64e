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

#[test]
fn the_state_gauges_and_the_latency_histogram_appear_with_their_values() {
    let m = Metrics::new();
    m.trigger_queue_depth(3);
    m.write_to_patch(Duration::from_millis(700));
    m.cert_expiry(1_900_000_000);
    m.cache_objects("Deployment", 12);
    m.cache_objects("StatefulSet", 0);
    m.leader(true);
    assert!(
        m.encode().contains("reloader_caches_synced 0\n"),
        "0 before the caches are listed"
    );
    m.caches_synced(true);
    let text = m.encode();
    let cases = [
        ("queue depth", "reloader_trigger_queue_depth 3"),
        ("caches synced", "reloader_caches_synced 1"),
        (
            "certificate expiry",
            "reloader_tls_certificate_expiry_timestamp_seconds 1900000000",
        ),
        (
            "cache size",
            r#"reloader_workload_cache_objects{kind="Deployment"} 12"#,
        ),
        (
            "empty cache",
            r#"reloader_workload_cache_objects{kind="StatefulSet"} 0"#,
        ),
        ("leader", "reloader_is_leader 1"),
        (
            "latency count",
            "reloader_write_to_patch_duration_seconds_count 1",
        ),
        (
            "latency bucket below",
            r#"reloader_write_to_patch_duration_seconds_bucket{le="0.4"} 0"#,
        ),
        (
            "latency bucket above",
            r#"reloader_write_to_patch_duration_seconds_bucket{le="0.8"} 1"#,
        ),
    ];
    for (name, line) in cases {
        assert!(text.contains(line), "{name}: no {line:?} in\n{text}");
    }
}

#[test]
fn probes_run_before_every_exposition() {
    let m = Metrics::new();
    let depth = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(5));
    let read = depth.clone();
    m.on_scrape(move |m| m.trigger_queue_depth(read.load(std::sync::atomic::Ordering::Relaxed)));
    m.on_scrape(|m| m.leader(false));
    assert!(m.encode().contains("reloader_trigger_queue_depth 5"));
    depth.store(0, std::sync::atomic::Ordering::Relaxed);
    let text = m.encode();
    assert!(text.contains("reloader_trigger_queue_depth 0"), "{text}");
    assert!(text.contains("reloader_is_leader 0"), "{text}");
}

#[test]
fn families_with_fixed_labels_start_at_zero() {
    let text = Metrics::new().encode();
    let cases = [
        r#"reloader_triggers_dropped_total{reason="full"} 0"#,
        r#"reloader_triggers_dropped_total{reason="closed"} 0"#,
        r#"reloader_alerts_dropped_total{reason="queue_full"} 0"#,
        r#"reloader_alerts_dropped_total{reason="repeated_failure"} 0"#,
        r#"reloader_tls_certificate_reloads_total{result="success"} 0"#,
        r#"reloader_tls_certificate_reloads_total{result="failure"} 0"#,
        "reloader_write_to_patch_duration_seconds_count 0",
        "reloader_is_leader 0",
    ];
    for line in cases {
        assert!(text.contains(line), "no {line:?} in\n{text}");
    }
}

#[test]
fn reconciles_count_by_kind_and_by_namespace_only_when_asked() {
    for by_namespace in [false, true] {
        let m = Metrics::new();
        m.count_by_namespace(by_namespace);
        m.reconcile("Deployment", "team-a", "reloaded", "none");
        m.reconcile("StatefulSet", "team-b", "failed", "api");
        let text = m.encode();
        for want in [
            r#"reloader_reconciles_total{kind="Deployment",outcome="reloaded",reason="none"} 1"#,
            r#"reloader_reconciles_total{kind="StatefulSet",outcome="failed",reason="api"} 1"#,
            r#"reloader_reload_executed_total{success="true"} 1"#,
            r#"reloader_reload_executed_total{success="false"} 1"#,
        ] {
            assert!(text.contains(want), "{want}: {text}");
        }
        let namespaced = r#"reloader_reconciles_by_namespace_total{workload_namespace="team-a",kind="Deployment",outcome="reloaded"} 1"#;
        assert_eq!(text.contains(namespaced), by_namespace, "{text}");
        assert_eq!(
            text.contains("team-b"),
            by_namespace,
            "no namespace unless asked"
        );
    }
}

#[test]
fn stakaters_names_are_fed_beside_ours() {
    let m = Metrics::new();
    m.count_by_namespace(true);
    m.reconcile("Deployment", "shop", "reloaded", "none");
    m.reconcile("StatefulSet", "shop", "failed", "conflict");
    m.reconcile("Deployment", "shop", "up_to_date", "none");
    m.trigger_queued();
    m.trigger_queue_depth(2);
    let text = m.encode();
    for sample in [
        r#"reloader_reload_executed_total{success="true"} 1"#,
        r#"reloader_action_total{workload_kind="Deployment",result="success"} 1"#,
        r#"reloader_action_total{workload_kind="StatefulSet",result="error"} 1"#,
        r#"reloader_errors_total{type="handler_error"} 1"#,
        r#"reloader_skipped_total{reason="strategy_not_updated"} 1"#,
        r#"reloader_workqueue_adds_total 1"#,
        r#"reloader_workqueue_depth 2"#,
        r#"reloader_reload_executed_total_by_namespace{success="true",namespace="shop"} 1"#,
        r#"reloader_reload_executed_total_by_namespace{success="false",namespace="shop"} 1"#,
    ] {
        assert!(text.contains(sample), "{sample} not in:\n{text}");
    }
}

#[test]
fn the_kubernetes_clients_requests_carry_client_gos_names_without_our_prefix() {
    let m = Metrics::new();
    m.rest_request("200", "GET", "10.96.0.1:443", Duration::from_millis(3));
    m.rest_request("409", "PATCH", "10.96.0.1:443", Duration::from_millis(9));
    let text = m.encode();
    for sample in [
        r#"rest_client_requests_total{code="200",method="GET",host="10.96.0.1:443"} 1"#,
        r#"rest_client_requests_total{code="409",method="PATCH",host="10.96.0.1:443"} 1"#,
        r#"rest_client_request_duration_seconds_count{verb="PATCH",host="10.96.0.1:443"} 1"#,
        "reloader_triggers_queued_total 0",
    ] {
        assert!(text.contains(sample), "{sample} not in:\n{text}");
    }
    assert!(!text.contains("reloader_rest_client"), "{text}");
    assert_eq!(text.matches("# EOF").count(), 1, "{text}");
}
