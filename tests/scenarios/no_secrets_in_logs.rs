//! With the engine working on the real control plane, at trace level for every crate:
//! a Secret's value and an alert URL held in a Secret never reach reloader's log, its
//! metrics, the Kubernetes Events, the ReloaderConfig's status or the alerts it sends —
//! through a reload that succeeds, one that fails, and the alerts for both. The hash key
//! reloader creates is held to the same rule.
//! (`tests/no_secrets_in_logs.rs` does the same for malformed reviews, webhook alone.)

use crate::cluster_harness::alert_receiver::Receiver;
use crate::cluster_harness::fixtures::{
    FROZEN_POLICY, deployment, documents, namespace, reloader_config, secret,
};
use crate::cluster_harness::{Cluster, eventually, http_get};

const CANARY: &str = "canary-7d2e91-do-not-log";
/// The token part of the alert URL, a credential like a chat webhook's.
const URL_TOKEN: &str = "url-token-4f0a-do-not-log";

fn db(password: &str) -> String {
    secret("vault", "db", &[("password", password)])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_values_never_leave_the_engine_on_the_real_control_plane() {
    let (receiver, base) = Receiver::start(&[]).await;
    let mut cluster = Cluster::start_real().await;
    cluster.apply(FROZEN_POLICY);
    cluster.apply(&documents(&[
        namespace("vault"),
        db("first"),
        secret(
            "vault",
            "alert-urls",
            &[("webhook", &format!("{base}/hooks/{URL_TOKEN}"))],
        ),
        deployment("vault", "web").env_from_secret("db").yaml(),
        deployment("vault", "frozen")
            .object_label("frozen", "yes")
            .env_from_secret("db")
            .yaml(),
        reloader_config("vault", "db-followers")
            .secrets(&["db"])
            .target("Deployment", "web")
            .target("Deployment", "frozen")
            .webhook_alert_from_secret("alert-urls", "webhook")
            .yaml(),
    ]));
    let reloader = cluster.start_reloader(&[
        "--log-level",
        "trace",
        "--log-format",
        "json",
        "--allow-insecure-alert-urls",
        "--hash-key-secret",
        "hash-key",
        "--hash-key-namespace",
        "vault",
    ]);
    cluster.register_webhook();
    // The API server applies a new policy a moment after it is created.
    eventually(
        "the policy to deny template changes of the frozen Deployment",
        || async {
            let out = cluster.kubectl_raw(
                &[
                    "patch",
                    "deployment",
                    "frozen",
                    "-n",
                    "vault",
                    "--dry-run=server",
                    "-p",
                    r#"{"spec":{"template":{"metadata":{"annotations":{"probe":"1"}}}}}"#,
                ],
                None,
            );
            let stderr = String::from_utf8_lossy(&out.stderr);
            !out.status.success() && stderr.contains("frozen Deployments keep their pod template")
        },
    )
    .await;

    cluster.apply(&db(CANARY));
    cluster.wait_rolled("vault", "web", 2).await;
    eventually("the failed reload of the frozen Deployment", || async {
        reloader.log_text().contains("reload failed")
    })
    .await;
    eventually("alerts telling of both reloads", || async {
        let total = |count: &str| -> u64 {
            receiver
                .got()
                .iter()
                .map(|(_, body)| body["counts"][count].as_u64().unwrap_or_default())
                .sum()
        };
        total("rolled") == 1 && total("failed") == 1
    })
    .await;
    let denial = receiver
        .got()
        .iter()
        .flat_map(|(_, body)| body["workloads"].as_array().cloned().unwrap_or_default())
        .find(|w| w["result"] == "failed")
        .expect("the failed workload is named");
    assert_eq!(denial["name"], "frozen");
    assert!(
        denial["error"]
            .as_str()
            .is_some_and(|e| e.contains("frozen Deployments keep their pod template")),
        "the alert carries the policy's denial: {denial}"
    );
    assert_eq!(
        cluster.generation("vault", "frozen").await,
        1,
        "the policy held"
    );

    let log = reloader.log_text();
    assert!(log.contains(r#""level":"TRACE""#), "trace logging was on");
    assert!(
        log.lines()
            .any(|l| l.contains(r#""target":"kube"#) || l.contains(r#""target":"hyper"#)),
        "the Kubernetes client logged too"
    );
    let metrics = http_get(reloader.metrics_port, "/metrics").expect("metrics served");
    let events = cluster.kubectl(&["get", "events", "-n", "vault", "-o", "json"]);
    let status = cluster.kubectl(&["get", "reloaderconfigs", "-n", "vault", "-o", "json"]);
    let alerts: String = receiver
        .got()
        .iter()
        .map(|(path, body)| format!("{path} {body}\n"))
        .collect();
    let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, CANARY);
    // The hash key reloader made at start is as secret as the data.
    let key_json = cluster.kubectl(&[
        "get",
        "secret",
        "hash-key",
        "-n",
        "vault",
        "-o",
        "jsonpath={.data.key}",
    ]);
    let key_b64 = key_json.trim().to_owned();
    assert!(key_b64.len() >= 40, "a generated key: {key_b64:?}");
    let key_bytes = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, &key_b64)
        .expect("base64 key");
    let key_hex: String = key_bytes.iter().map(|b| format!("{b:02x}")).collect();
    for (place, text) in [
        ("the log", &log),
        ("the metrics", &metrics),
        ("the Events", &events),
        ("the ReloaderConfig status", &status),
    ] {
        for needle in [CANARY, encoded.as_str(), URL_TOKEN, &key_b64, &key_hex] {
            assert!(!text.contains(needle), "{needle:?} in {place}");
        }
    }
    for needle in [CANARY, encoded.as_str(), &key_b64, &key_hex] {
        assert!(!alerts.contains(needle), "{needle:?} in an alert");
    }
    assert!(
        events.contains("frozen"),
        "the Events name the failed workload (so the check above read real Events)"
    );
}
