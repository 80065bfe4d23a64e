//! The alert dispatcher against a local HTTP receiver: what is posted, how often, what
//! is retried, what is dropped, and a URL read from a Secret in the API simulator.

mod cluster_harness;

use std::sync::Arc;
use std::time::Duration;

use cluster_harness::alert_receiver::Receiver;
use k8s_openapi::jiff::Timestamp;
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

fn event(name: &str) -> AlertEvent {
    AlertEvent {
        workload: WorkloadRef::new("team-a", WorkloadKind::Deployment, name),
        sources: vec![ChangedSource {
            source: SourceRef::new("team-a", SourceKind::Secret, "db-creds"),
            hash: "0123456789ab".into(),
            strategy: "env-vars",
        }],
        result: AlertResult::Success,
        time: Timestamp::UNIX_EPOCH,
    }
}

fn options(global: Option<String>, allow_insecure: bool) -> DispatcherOptions {
    DispatcherOptions {
        global: global.map(|url| Route {
            kind: SinkKind::Webhook,
            url: SinkUrl::Inline(url),
        }),
        allow_insecure,
        // Short pauses keep the test quick; how long they are is not what is tested.
        policy: DeliveryPolicy {
            timeout: Duration::from_secs(5),
            attempts: 4,
            backoff: Duration::from_millis(10),
        },
        ..DispatcherOptions::default()
    }
}

/// Queues `events` (with `configs` each), then runs the dispatcher until it has sent them.
async fn dispatch(
    options: DispatcherOptions,
    kube: Option<kube::Client>,
    capacity: usize,
    events: Vec<(AlertEvent, Vec<ConfigSinks>)>,
) -> Arc<Metrics> {
    let metrics = Arc::new(Metrics::new());
    let (sender, rx) = dispatcher::channel(capacity, &options, metrics.clone());
    for (e, configs) in events {
        sender.send(e, configs);
    }
    drop(sender);
    let dispatcher = Dispatcher::new(options, kube, metrics.clone()).expect("client");
    tokio::time::timeout(Duration::from_secs(30), dispatcher.run(rx))
        .await
        .expect("dispatcher finishes once its queue is empty");
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
async fn each_reload_is_posted_once_with_its_workload() {
    let (receiver, base) = Receiver::start(&[]).await;
    let events = vec![(event("web"), vec![]), (event("api"), vec![])];
    let metrics = dispatch(options(Some(format!("{base}/all")), true), None, 8, events).await;

    let mut names: Vec<String> = receiver
        .got()
        .iter()
        .map(|(path, body)| {
            assert_eq!(path, "/all");
            assert_eq!(body["result"], "success");
            body["workload"]["name"].as_str().unwrap().to_owned()
        })
        .collect();
    names.sort();
    assert_eq!(names, ["api", "web"]);
    assert_eq!(counter(&metrics, SENT_OK), 2);
}

#[tokio::test]
async fn a_503_is_retried_until_the_receiver_accepts() {
    let (receiver, base) = Receiver::start(&[503, 503]).await;
    let metrics = dispatch(
        options(Some(format!("{base}/all")), true),
        None,
        8,
        vec![(event("web"), vec![])],
    )
    .await;
    assert_eq!(
        receiver.got().len(),
        3,
        "two refusals, then the accepted one"
    );
    assert_eq!(counter(&metrics, SENT_OK), 1);
}

#[tokio::test]
async fn a_4xx_is_not_retried_and_is_counted() {
    let (receiver, base) = Receiver::start(&[400]).await;
    let metrics = dispatch(
        options(Some(format!("{base}/all")), true),
        None,
        8,
        vec![(event("web"), vec![])],
    )
    .await;
    assert_eq!(receiver.got().len(), 1);
    assert_eq!(
        counter(
            &metrics,
            r#"reloader_alerts_sent_total{sink="webhook",result="http_error"}"#
        ),
        1
    );
    assert_eq!(counter(&metrics, SENT_OK), 0);
}

#[tokio::test]
async fn a_full_queue_drops_and_counts_what_does_not_fit() {
    let (receiver, base) = Receiver::start(&[]).await;
    let events = ["a", "b", "c"].map(|n| (event(n), vec![])).to_vec();
    let metrics = dispatch(options(Some(format!("{base}/all")), true), None, 2, events).await;
    assert_eq!(
        counter(
            &metrics,
            r#"reloader_alerts_dropped_total{reason="queue_full"}"#
        ),
        1
    );
    assert_eq!(receiver.got().len(), 2);
}

#[tokio::test]
async fn an_http_url_is_refused_without_the_insecure_flag() {
    let (receiver, base) = Receiver::start(&[]).await;
    let metrics = dispatch(
        options(Some(format!("{base}/all")), false),
        None,
        8,
        vec![(event("web"), vec![])],
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
async fn a_failure_retried_by_the_engine_is_announced_once() {
    let (receiver, base) = Receiver::start(&[]).await;
    let failed = AlertEvent {
        result: AlertResult::Failure { reason: "api" },
        ..event("web")
    };
    let events = vec![(failed.clone(), vec![]), (failed, vec![])];
    let metrics = dispatch(options(Some(format!("{base}/all")), true), None, 8, events).await;
    assert_eq!(receiver.got().len(), 1);
    assert_eq!(receiver.got()[0].1["result"], "failure");
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
        8,
        vec![(event("web"), vec![config])],
    )
    .await;
    let got = receiver.got();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0, "/from-secret");
    assert_eq!(got[0].1["workload"]["name"], "web");
    assert_eq!(counter(&metrics, SENT_OK), 1);
}
