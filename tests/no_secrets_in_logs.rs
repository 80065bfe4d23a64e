//! Runs the real binary at trace level (every crate) with `--log-only` (the webhook alone)
//! and checks that Secret values never reach its log output or its metrics, whatever path
//! a review takes, malformed ones included. The same with the engine working on the real
//! control plane is `tests/scenarios/no_secrets_in_logs.rs`.

mod webhook_harness;

use reloader::cmd::certs::Ca;
use serde_json::Value;
use webhook_harness::logged::{Server, addr, http1};
use webhook_harness::tls::*;
use webhook_harness::*;

const CANARY: &str = "canary-5e1f0c2b9d7a-do-not-log";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_values_never_appear_in_trace_logs_or_metrics() {
    let (_keep, dir) = temp_dir();
    let ca = Ca::generate("test CA", 1).unwrap();
    write_pair(&ca, &dir);
    let server = Server::start(
        &dir,
        &[
            "--log-level",
            "trace",
            "--log-format",
            "json",
            "--reload-on-create",
            "--reload-on-delete",
            "--log-only",
        ],
    );
    let webhook = addr(&server.wait_for("webhook server listening"));
    let metrics = addr(&server.wait_for("metrics server listening"));

    let plain = secret("db", &[("password", CANARY.as_bytes())]);
    let other = secret("db", &[("password", b"rotated")]);
    let mut string_data = other.clone();
    string_data["stringData"] = serde_json::json!({"password": CANARY});
    let cm = configmap(
        "settings",
        &[("token", CANARY)],
        &[("bin", CANARY.as_bytes())],
    );
    let mut not_base64 = Review::update(other.clone(), plain.clone()).json();
    not_base64["request"]["object"]["data"]["password"] = Value::String(format!("{CANARY}!"));
    let mut wrong_type = Review::update(other.clone(), plain.clone()).json();
    wrong_type["request"]["object"]["data"] = Value::String(CANARY.into());
    let mut bad_uid = Review::update(other.clone(), plain.clone()).json();
    bad_uid["request"]["uid"] = Value::String(CANARY.into());
    bad_uid["request"]["kind"]["kind"] = Value::String("Pod".into());

    let bodies: Vec<Vec<u8>> = vec![
        Review::update(other.clone(), plain.clone()).body(),
        Review::update(plain.clone(), other.clone()).body(),
        Review::update(other.clone(), string_data).body(),
        Review::new("CREATE", Some(plain.clone()), None).body(),
        Review::new("DELETE", None, Some(plain.clone())).body(),
        Review::update(plain.clone(), plain.clone()).body(),
        Review::update(other.clone(), plain.clone()).dry_run().body(),
        Review::update(configmap("settings", &[], &[]), cm).body(),
        serde_json::to_vec(&not_base64).unwrap(),
        serde_json::to_vec(&wrong_type).unwrap(),
        format!("{{\"kind\": \"{CANARY}\"").into_bytes(),
        format!("{{\"apiVersion\":\"admission.k8s.io/v1\",\"kind\":\"AdmissionReview\",\"request\":{{\"uid\":{CANARY}}}}}").into_bytes(),
    ];
    let mut client = Client::connect(webhook, client_config(&ca.cert_pem, false, &[]))
        .await
        .unwrap();
    let mut statuses = Vec::new();
    for body in bodies {
        let (status, _) = client.post("/validate/sources", body.into()).await.unwrap();
        statuses.push(status.as_u16());
    }
    assert_eq!(
        statuses,
        [200, 200, 200, 200, 200, 200, 200, 200, 400, 400, 400, 400]
    );
    let (status, exposition) = http1(metrics, "GET", "/metrics", "").await;
    assert_eq!(status, 200);
    assert_eq!(
        http1(metrics, "GET", "/healthz", "").await,
        (200, "ok".into())
    );
    assert_eq!(
        http1(metrics, "GET", "/readyz", "").await,
        (200, "ok".into())
    );
    assert!(
        exposition.contains("reloader_admission_reviews_total"),
        "{exposition}"
    );

    let lines = server.stop();
    let trace_lines = lines
        .iter()
        .filter(|l| l.contains(r#""level":"TRACE""#))
        .count();
    assert!(
        trace_lines > 0,
        "trace logging was not on:\n{}",
        lines.join("\n")
    );
    // Dependencies log too: rustls through the `log` bridge.
    assert!(
        lines.iter().any(|l| l.contains(r#""target":"rustls"#)),
        "no dependency logged:\n{}",
        lines.join("\n")
    );
    assert!(
        lines.iter().any(|l| l.contains("source data changed")),
        "the triggers were not logged:\n{}",
        lines.join("\n")
    );
    let encoded = b64(CANARY.as_bytes());
    for needle in [CANARY, encoded.as_str()] {
        for line in &lines {
            assert!(!line.contains(needle), "secret value in a log line: {line}");
        }
        assert!(!exposition.contains(needle), "secret value in metrics");
    }
}
