//! Alerts on the control plane: a reload through a ReloaderConfig with a webhook sink is
//! announced once, to the URL held in a Secret, naming the workload and never the Secret's
//! data; a Secret followed by 200 Deployments is one Slack message counting 200 rollouts;
//! a reload the API refuses (RBAC without `patch`) is announced with the API's 403; an
//! `ALERT_SINK` stakater does not know falls back to the plain webhook, as stakater's does.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, ListParams};
use serde_json::Value;

use crate::cluster_harness::alert_receiver::Receiver;
use crate::cluster_harness::fixtures::{
    AUTO, deployment, documents, namespace, reloader_config, secret,
};
use crate::cluster_harness::{Cluster, Launch, eventually, http_get, reloader_cmd};

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
    let reloader =
        cluster.start_reloader(&["--allow-insecure-alert-urls", "--alert-group-wait", "500ms"]);
    cluster.register_webhook();

    cluster.apply(&db(PASSWORD));
    cluster.wait_rolled("alerting", "web", 2).await;
    eventually("an alert at the receiver", || async {
        !receiver.got().is_empty()
    })
    .await;
    // Long enough for a duplicate to arrive (twice the alert group wait).
    tokio::time::sleep(Duration::from_millis(1000)).await;

    let got = receiver.got();
    assert_eq!(got.len(), 1, "exactly one alert: {got:?}");
    let (path, body) = &got[0];
    assert_eq!(path, &format!("/hooks/{TOKEN}"));
    assert_eq!(body["result"], "success");
    assert_eq!(body["counts"]["rolled"], 1);
    assert_eq!(body["workloads"][0]["kind"], "Deployment");
    assert_eq!(body["workloads"][0]["namespace"], "alerting");
    assert_eq!(body["workloads"][0]["name"], "web");
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_alert_sink_posts_to_the_plain_webhook_as_stakaters_raw_fallback() {
    let (receiver, base) = Receiver::start(&[]).await;
    let mut cluster = Cluster::start().await;
    cluster.apply(&documents(&[
        namespace("alerting"),
        db("first"),
        deployment("alerting", "web")
            .annotation(AUTO, "true")
            .env_from_secret("db")
            .yaml(),
    ]));
    cluster.wait_rolled("alerting", "web", 1).await;
    // stakater's environment, as its chart's `reloader.deployment.env` would set it.
    let env = [
        ("ALERT_ON_RELOAD", "true".to_owned()),
        ("ALERT_SINK", "Discord".to_owned()),
        ("ALERT_WEBHOOK_URL", format!("{base}/hooks/{TOKEN}")),
    ];
    let reloader = cluster.launch(&Launch {
        kubeconfig: cluster.kubeconfig().to_path_buf(),
        webhook_port: cluster.webhook_port,
        flags: ["--allow-insecure-alert-urls", "--alert-group-wait", "500ms"]
            .map(str::to_owned)
            .to_vec(),
        pod_name: "reloader".into(),
        pod_namespace: None,
        without_subcommand: false,
        env: env.map(|(k, v)| (k.to_owned(), v)).to_vec(),
    });
    cluster.register_webhook();
    cluster.apply(&db(PASSWORD));
    cluster.wait_rolled("alerting", "web", 2).await;
    eventually("an alert at the receiver", || async {
        !receiver.got().is_empty()
    })
    .await;
    let got = receiver.got();
    let (path, body) = &got[0];
    assert_eq!(path, &format!("/hooks/{TOKEN}"));
    assert_eq!(
        body["workloads"][0]["name"], "web",
        "the plain webhook's body: {body}"
    );
    assert!(!body.to_string().contains(PASSWORD));
    let metrics = http_get(reloader.metrics_port, "/metrics").expect("metrics served");
    assert!(
        metrics.contains(r#"reloader_alerts_sent_total{sink="webhook",result="success"} 1"#),
        "{metrics}"
    );
}

/// The process-wide Slack sink of stakater's flags, posting to `url`.
fn slack_flags(url: &str) -> Vec<String> {
    [
        "--alert-on-reload",
        "--alert-sink",
        "slack",
        "--alert-webhook-url",
        url,
        "--allow-insecure-alert-urls",
        "--alert-group-wait",
        "1s",
    ]
    .map(str::to_owned)
    .to_vec()
}

/// A Slack attachment's field by title.
fn field<'a>(message: &'a Value, title: &str) -> &'a str {
    message["attachments"][0]["fields"]
        .as_array()
        .expect("fields")
        .iter()
        .find(|f| f["title"] == title)
        .and_then(|f| f["value"].as_str())
        .unwrap_or_else(|| panic!("no field {title:?} in {message}"))
}

const FOLLOWERS: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_followed_by_two_hundred_deployments_is_one_slack_message() {
    let (slack, base) = Receiver::start(&[]).await;
    let mut cluster = Cluster::start_real().await;
    let mut docs = vec![
        namespace("fanout"),
        secret("fanout", "shared", &[("password", "first")]),
    ];
    docs.extend((0..FOLLOWERS).map(|i| {
        deployment("fanout", &format!("w{i:03}"))
            .replicas(0)
            .annotation(AUTO, "true")
            .env_from_secret("shared")
            .yaml()
    }));
    cluster.apply(&documents(&docs));
    let flags = slack_flags(&format!("{base}/services/T0/B0/{TOKEN}"));
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let reloader = cluster.start_reloader(&flags);
    cluster.register_webhook();

    cluster.apply(&secret("fanout", "shared", &[("password", PASSWORD)]));
    let deployments: Api<Deployment> = Api::namespaced(cluster.client.clone(), "fanout");
    eventually("every follower patched", || async {
        let list = deployments
            .list(&ListParams::default())
            .await
            .expect("list");
        list.items
            .iter()
            .filter(|d| d.metadata.generation == Some(2))
            .count()
            == FOLLOWERS
    })
    .await;
    eventually("a Slack message", || async { !slack.got().is_empty() }).await;
    // Twice the group wait: a second message for the same change would be here by now.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let got = slack.got();
    assert_eq!(got.len(), 1, "exactly one Slack message: {got:?}");
    let (path, message) = &got[0];
    assert_eq!(path, &format!("/services/T0/B0/{TOKEN}"));
    assert_eq!(field(message, "Rolled"), FOLLOWERS.to_string());
    assert_eq!(field(message, "Failed"), "0");
    assert_eq!(field(message, "Already up to date"), "0");
    assert!(field(message, "Source").starts_with("Secret fanout/shared (hash "));
    assert!(field(message, "Workloads").ends_with(&format!("and {} more", FOLLOWERS - 20)));
    assert_eq!(message["attachments"][0]["color"], "#2EB886");
    assert!(
        !message.to_string().contains(PASSWORD),
        "no Secret data in the message"
    );
    let metrics = http_get(reloader.metrics_port, "/metrics").expect("metrics");
    assert!(
        metrics.contains(r#"reloader_alerts_sent_total{sink="slack",result="success"} 1"#),
        "{metrics}"
    );
}

/// The ServiceAccount reloader runs as in the RBAC scenario.
const OPS: &str = "ops";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_denied_by_rbac_is_announced_with_the_apis_403() {
    let (slack, base) = Receiver::start(&[]).await;
    let mut cluster = Cluster::start_real().await;
    // reloader's own RBAC, as `webhook-config` renders it, without `patch` on Deployments.
    let out = cluster.dir.path().join("rbac");
    std::fs::create_dir_all(&out).expect("dir");
    reloader_cmd(&[
        "webhook-config",
        "--namespace",
        OPS,
        "--url",
        "https://127.0.0.1:1",
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    let rbac = std::fs::read_to_string(out.join("rbac.yaml")).expect("rbac.yaml");
    let apps = "  - deployments\n  - statefulsets\n  - daemonsets\n  verbs:\n  - get\n  - list\n  - watch\n  - patch\n";
    assert!(rbac.contains(apps), "the rendered apps rule:\n{rbac}");
    let no_patch = rbac.replace(apps, &apps.replace("  - patch\n", ""));
    cluster.kubectl(&["create", "namespace", OPS]);
    cluster.apply(&no_patch);
    cluster.apply(&documents(&[
        namespace("locked"),
        secret("locked", "db", &[("password", "first")]),
        deployment("locked", "web")
            .annotation(AUTO, "true")
            .env_from_secret("db")
            .yaml(),
    ]));
    let user = "system:serviceaccount:ops:reloader";
    assert_eq!(cluster.can_i(user, "patch", "deployments", "locked"), "no");
    assert_eq!(cluster.can_i(user, "patch", "statefulsets", "locked"), "no");

    let mut flags = slack_flags(&format!("{base}/services/T0/B0/{TOKEN}"));
    flags.extend(["--coalesce-window", "150ms", "--source-wait", "2s"].map(str::to_owned));
    let launch = Launch {
        kubeconfig: cluster.service_account_kubeconfig(OPS, "reloader"),
        webhook_port: cluster.webhook_port,
        flags,
        pod_name: "reloader".into(),
        pod_namespace: Some(OPS.into()),
        without_subcommand: false,
        env: Vec::new(),
    };
    let reloader = cluster.launch(&launch);
    cluster.register_webhook();

    cluster.apply(&secret("locked", "db", &[("password", PASSWORD)]));
    eventually("a Slack message", || async { !slack.got().is_empty() }).await;
    let got = slack.got();
    let message = &got[0].1;
    assert_eq!(field(message, "Failed"), "1", "{message}");
    assert_eq!(field(message, "Rolled"), "0");
    assert_eq!(message["attachments"][0]["color"], "#D40E0D");
    let workloads = field(message, "Workloads");
    for want in [
        "Deployment locked/web: failed: 403 Forbidden: ",
        r#"User "system:serviceaccount:ops:reloader" cannot patch resource "deployments" in API group "apps" in the namespace "locked""#,
    ] {
        assert!(workloads.contains(want), "{want:?} in {workloads:?}");
    }
    let text = message.to_string();
    assert!(!text.contains(PASSWORD), "no Secret data in the message");
    assert!(!text.contains(TOKEN), "no alert URL in the message");
    assert_eq!(cluster.generation("locked", "web").await, 1, "RBAC held");
    assert!(!reloader.log_text().contains(PASSWORD));
}
