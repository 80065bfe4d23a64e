//! The alert dispatcher against a local HTTP receiver: one post per change and receiver,
//! what is retried and when, the pace per receiver, what is dropped, each receiver's
//! payload on the wire, and a URL read from a Secret in the API simulator.

mod cluster_harness;

use std::sync::Arc;
use std::time::Duration;

use cluster_harness::alert_receiver::{Answer, Receiver};
use k8s_openapi::jiff::Timestamp;
use reloader::alerts::batch::{GroupWait, MAX_OPEN};
use reloader::alerts::delivery::DeliveryPolicy;
use reloader::alerts::dispatcher::{self, Dispatcher};
use reloader::alerts::{
    AlertEvent, AlertResult, ChangedSource, ConfigSinks, DispatcherOptions, Route, SinkKind,
    SinkUrl,
};
use reloader::metrics::Metrics;
use reloader_core::crd::{AlertSink, Alerts, SecretKeyRef};
use reloader_core::index::ConfigId;
use reloader_core::source::{SourceKind, SourceRef};
use reloader_core::workload::{WorkloadKind, WorkloadRef};

fn report(name: &str, hash: &str, result: AlertResult) -> AlertEvent {
    AlertEvent {
        workload: WorkloadRef::new("team-a", WorkloadKind::Deployment, name),
        sources: vec![ChangedSource {
            source: SourceRef::new("team-a", SourceKind::Secret, "db-creds"),
            hash: hash.into(),
            strategy: "env-vars",
        }],
        result,
        after_pause: false,
        time: Timestamp::UNIX_EPOCH,
    }
}

fn rolled(name: &str, hash: &str) -> AlertEvent {
    report(name, hash, AlertResult::Rolled)
}

fn options_for(kind: SinkKind, global: Option<String>, allow_insecure: bool) -> DispatcherOptions {
    DispatcherOptions {
        global: global.map(|url| Route {
            kind,
            url: SinkUrl::Inline(url),
        }),
        allow_insecure,
        // Short pauses keep the test quick; how long they are is not what is tested here.
        policy: DeliveryPolicy {
            timeout: Duration::from_secs(5),
            attempts: 4,
            backoff: Duration::from_millis(10),
        },
        group_wait: GroupWait {
            quiet: Duration::from_millis(50),
            max: Duration::from_secs(5),
        },
        pace: Duration::ZERO,
        ..DispatcherOptions::default()
    }
}

fn options(global: Option<String>, allow_insecure: bool) -> DispatcherOptions {
    options_for(SinkKind::Webhook, global, allow_insecure)
}

/// Reports `events` (with `configs` each), then runs the dispatcher until it has sent them.
async fn dispatch(
    options: DispatcherOptions,
    kube: Option<kube::Client>,
    events: Vec<(AlertEvent, Vec<ConfigSinks>)>,
) -> Arc<Metrics> {
    let metrics = Arc::new(Metrics::new());
    let (sender, rx) = dispatcher::channel(&options, metrics.clone());
    for (e, configs) in events {
        sender.send(e, configs);
    }
    drop(sender);
    let dispatcher = Dispatcher::new(options, kube, metrics.clone()).expect("client");
    tokio::time::timeout(Duration::from_secs(60), dispatcher.run(rx))
        .await
        .expect("dispatcher finishes once everything is sent");
    metrics
}

fn counter(metrics: &Metrics, series: &str) -> u64 {
    let text = metrics.encode();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or(0)
}

const SENT_OK: &str = r#"reloader_alerts_sent_total{sink="webhook",result="success"}"#;

#[tokio::test]
async fn the_workloads_of_one_change_are_one_post_and_another_change_another() {
    let (receiver, base) = Receiver::start(&[]).await;
    let events = vec![
        (rolled("web", "h1"), vec![]),
        (rolled("api", "h1"), vec![]),
        (report("db", "h1", AlertResult::UpToDate), vec![]),
        (rolled("web", "h2"), vec![]),
    ];
    let metrics = dispatch(options(Some(format!("{base}/all")), true), None, events).await;

    let mut posts: Vec<(String, u64, u64, Vec<String>)> = receiver
        .got()
        .iter()
        .map(|(path, body)| {
            assert_eq!(path, "/all");
            assert_eq!(body["result"], "success");
            let names = body["workloads"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| w["name"].as_str().unwrap().to_owned())
                .collect();
            (
                body["sources"][0]["hash"].as_str().unwrap().to_owned(),
                body["counts"]["rolled"].as_u64().unwrap(),
                body["counts"]["upToDate"].as_u64().unwrap(),
                names,
            )
        })
        .collect();
    posts.sort();
    assert_eq!(
        posts,
        [
            ("h1".into(), 2, 1, vec!["api".into(), "web".into()]),
            ("h2".into(), 1, 0, vec!["web".into()]),
        ]
    );
    assert_eq!(counter(&metrics, SENT_OK), 2);
}

#[tokio::test]
async fn each_receiver_gets_its_own_shape_on_the_wire() {
    // (sink, a pointer into the body, what it holds for one change rolled by two workloads)
    let table = [
        (SinkKind::Slack, "/attachments/0/fields/3/value", "2"),
        (SinkKind::Slack, "/attachments/0/color", "#2EB886"),
        (
            SinkKind::Teams,
            "/attachments/0/content/body/1/facts/3/value",
            "2",
        ),
        (
            SinkKind::Teams,
            "/attachments/0/contentType",
            "application/vnd.microsoft.card.adaptive",
        ),
        (
            SinkKind::GoogleChat,
            "/cardsV2/0/card/sections/1/widgets/0/decoratedText/text",
            "2",
        ),
        (
            SinkKind::Webhook,
            "/text",
            "Reloaded 2 workloads after a change to Secret db-creds",
        ),
    ];
    for (kind, pointer, want) in table {
        let (receiver, base) = Receiver::start(&[]).await;
        let events = vec![(rolled("web", "h1"), vec![]), (rolled("api", "h1"), vec![])];
        dispatch(
            options_for(kind, Some(format!("{base}/{kind}")), true),
            None,
            events,
        )
        .await;
        let got = receiver.got();
        assert_eq!(got.len(), 1, "{kind}: one post");
        assert_eq!(
            got[0].1.pointer(pointer).and_then(|v| v.as_str()),
            Some(want),
            "{kind} {pointer}: {}",
            got[0].1
        );
    }
}

#[tokio::test]
async fn what_is_retried_and_how_it_is_counted() {
    // (the receiver's answers before it accepts, posts made, the result counted)
    let table: [(&[Answer], usize, &str); 4] = [
        (&[], 1, "success"),
        (&[(503, None), (503, None)], 3, "success"),
        (&[(400, None)], 1, "http_error"),
        // A receiver asking for an hour is not waited for.
        (&[(429, Some("3600"))], 1, "rate_limited"),
    ];
    for (answers, posts, result) in table {
        let (receiver, base) = Receiver::answering(answers).await;
        let metrics = dispatch(
            options(Some(format!("{base}/all")), true),
            None,
            vec![(rolled("web", "h1"), vec![])],
        )
        .await;
        assert_eq!(receiver.got().len(), posts, "{answers:?}");
        let series = format!(r#"reloader_alerts_sent_total{{sink="webhook",result="{result}"}}"#);
        assert_eq!(counter(&metrics, &series), 1, "{answers:?}");
    }
}

#[tokio::test]
async fn a_429_is_retried_no_sooner_than_its_retry_after() {
    let (receiver, base) = Receiver::answering(&[(429, Some("2"))]).await;
    let metrics = dispatch(
        options(Some(format!("{base}/all")), true),
        None,
        vec![(rolled("web", "h1"), vec![])],
    )
    .await;
    let times = receiver.times();
    assert_eq!(times.len(), 2, "the 429, then the retry");
    let waited = times[1] - times[0];
    assert!(
        waited >= Duration::from_secs(2),
        "retried after {waited:?}, asked for 2 s"
    );
    eprintln!("retry came {waited:?} after the 429 (Retry-After: 2)");
    assert_eq!(counter(&metrics, SENT_OK), 1);
}

#[tokio::test]
async fn posts_to_one_receiver_keep_its_pace() {
    let (receiver, base) = Receiver::start(&[]).await;
    let pace = Duration::from_millis(300);
    let events = ["h1", "h2", "h3"]
        .map(|h| (rolled("web", h), vec![]))
        .to_vec();
    let options = DispatcherOptions {
        pace,
        ..options(Some(format!("{base}/all")), true)
    };
    dispatch(options, None, events).await;
    let times = receiver.times();
    assert_eq!(times.len(), 3);
    for pair in times.windows(2) {
        let gap = pair[1] - pair[0];
        // The pace is measured from when each request left; arrival may differ by a little.
        assert!(
            gap >= pace - Duration::from_millis(20),
            "posts {gap:?} apart"
        );
    }
}

#[tokio::test]
async fn past_the_bound_of_waiting_changes_reports_are_dropped_and_counted() {
    let (receiver, base) = Receiver::start(&[]).await;
    let events = (0..=MAX_OPEN)
        .map(|i| (rolled("web", &format!("h{i}")), vec![]))
        .collect();
    let metrics = dispatch(options(Some(format!("{base}/all")), true), None, events).await;
    assert_eq!(
        counter(
            &metrics,
            r#"reloader_alerts_dropped_total{reason="queue_full"}"#
        ),
        1
    );
    assert_eq!(receiver.got().len(), MAX_OPEN);
}

#[tokio::test]
async fn an_http_url_is_refused_without_the_insecure_flag() {
    let (receiver, base) = Receiver::start(&[]).await;
    let metrics = dispatch(
        options(Some(format!("{base}/all")), false),
        None,
        vec![(rolled("web", "h1"), vec![])],
    )
    .await;
    assert!(receiver.got().is_empty());
    assert_eq!(
        counter(
            &metrics,
            r#"reloader_alerts_sent_total{sink="webhook",result="insecure_url"}"#
        ),
        1
    );
}

#[tokio::test]
async fn a_failure_retried_by_the_engine_is_announced_once_with_its_reason() {
    let (receiver, base) = Receiver::start(&[]).await;
    let failed = report(
        "web",
        "h1",
        AlertResult::Failed {
            class: "api",
            detail: "403 Forbidden: cannot patch resource \"deployments\"".into(),
        },
    );
    let events = vec![(failed.clone(), vec![]), (failed, vec![])];
    let metrics = dispatch(options(Some(format!("{base}/all")), true), None, events).await;
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].1["result"], "failure");
    assert_eq!(got[0].1["counts"]["failed"], 1);
    assert_eq!(
        got[0].1["workloads"][0]["error"],
        "403 Forbidden: cannot patch resource \"deployments\""
    );
    assert_eq!(
        counter(
            &metrics,
            r#"reloader_alerts_dropped_total{reason="repeated_failure"}"#
        ),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_url_held_in_a_secret_is_read_in_the_configs_namespace_and_used() {
    use k8s_openapi::api::core::v1::Secret;
    use kube::api::{Api, PostParams};

    let (receiver, base) = Receiver::start(&[]).await;
    let sim = apiserver_sim::testing::SimProcess::start_with(apiserver_sim::testing::SimOptions {
        binary: Some(cluster_harness::sim_binary()),
        ..Default::default()
    })
    .expect("simulator starts");
    let client = sim.client().await.expect("client");
    let secret: Secret = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "alert-urls", "namespace": "default"},
        "stringData": {"webhook": format!("{base}/from-secret")},
    }))
    .unwrap();
    Api::<Secret>::namespaced(client.clone(), "default")
        .create(&PostParams::default(), &secret)
        .await
        .expect("secret created");
    let config = ConfigSinks {
        config: ConfigId::new("default", "web"),
        alerts: Alerts {
            webhook: Some(AlertSink {
                url: None,
                secret_ref: Some(SecretKeyRef {
                    name: "alert-urls".into(),
                    key: "webhook".into(),
                }),
            }),
            ..Alerts::default()
        },
    };
    let metrics = dispatch(
        options(None, true),
        Some(client),
        vec![(rolled("web", "h1"), vec![config])],
    )
    .await;
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "/from-secret");
    assert_eq!(got[0].1["workloads"][0]["name"], "web");
    assert_eq!(counter(&metrics, SENT_OK), 1);
}
