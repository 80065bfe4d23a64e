//! A reload through a ReloaderConfig with a webhook alert sink is announced once, to the
//! URL held in a Secret, naming the workload and never the Secret's data.

use std::time::Duration;

use crate::cluster_harness::alert_receiver::Receiver;
use crate::cluster_harness::fixtures::{deployment, documents, namespace, reloader_config, secret};
use crate::cluster_harness::{Cluster, eventually, http_get};

const PASSWORD: &str = "s3cr3t-value-never-in-alerts";
/// The path part of the alert URL stands for a chat webhook's token.
const TOKEN: &str = "T0KEN-9f3a";

fn setup(alert_url: &str) -> String {
    documents(&[
        namespace("alerting"),
        db("first"),
        secret("alerting", "alert-urls", &[("webhook", alert_url)]),
        deployment("alerting", "web").env_from_secret("db").yaml(),
        reloader_config("alerting", "web")
            .secrets(&["db"])
            .target("Deployment", "web")
            .webhook_alert_from_secret("alert-urls", "webhook")
            .yaml(),
    ])
}

/// The Secret the Deployment reads.
fn db(password: &str) -> String {
    secret("alerting", "db", &[("password", password)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_change_rolls_the_followed_deployment_and_sends_one_alert() {
    let (receiver, base) = Receiver::start(&[]).await;
    let mut cluster = Cluster::start().await;
    cluster.apply(&setup(&format!("{base}/hooks/{TOKEN}")));
    let reloader = cluster.start_reloader(&["--allow-insecure-alert-urls"]);
    cluster.register_webhook();

    cluster.apply(&db(PASSWORD));
    cluster.wait_rolled("alerting", "web", 2).await;
    eventually("an alert at the receiver", || async {
        !receiver.got().is_empty()
    })
    .await;
    // Long enough for a duplicate to arrive (coalescing window plus source wait).
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let got = receiver.got();
    assert_eq!(got.len(), 1, "exactly one alert: {got:?}");
    let (path, body) = &got[0];
    assert_eq!(path, &format!("/hooks/{TOKEN}"));
    assert_eq!(body["result"], "success");
    assert_eq!(body["workload"]["kind"], "Deployment");
    assert_eq!(body["workload"]["namespace"], "alerting");
    assert_eq!(body["workload"]["name"], "web");
    assert_eq!(body["sources"][0]["name"], "db");
    assert_eq!(body["sources"][0]["kind"], "Secret");
    let text = body.to_string();
    assert!(
        !text.contains(PASSWORD),
        "no Secret data in the alert: {text}"
    );

    let metrics = http_get(reloader.metrics_port, "/metrics").expect("metrics served");
    assert!(
        metrics.contains(r#"reloader_alerts_sent_total{sink="webhook",result="success"} 1"#),
        "{metrics}"
    );
    let log = reloader.log_text();
    assert!(!log.contains(PASSWORD), "no Secret data in the log");
    assert!(!log.contains(TOKEN), "no alert URL path in the log");
}
