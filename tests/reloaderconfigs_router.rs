//! `/validate/reloaderconfigs` through the router, in process.

mod webhook_harness;

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use reloader::webhook::AppState;
use reloader_core::existence::{Existence, Presence, PresenceFuture, Subject};
use serde_json::{Value, json};
use tower::ServiceExt;
use webhook_harness::*;

fn config(spec: Value) -> Value {
    json!({
        "apiVersion": "reloader.stakater.com/v1alpha1",
        "kind": "ReloaderConfig",
        "metadata": {"name": "api-reload", "namespace": "team-a"},
        "spec": spec,
    })
}

fn valid_spec() -> Value {
    json!({
        "watchedResources": {"secrets": ["db"], "configMaps": ["settings"]},
        "targets": [{"kind": "Deployment", "name": "api"}],
        "reloadStrategy": "env-vars",
        "pausePeriod": "30s",
        "alerts": {"slack": {"url": "https://hooks.slack.com/services/x"}},
    })
}

fn review(version: &'static str, operation: &'static str, object: Value) -> Vec<u8> {
    let mut r = Review::new(operation, Some(object), None).version(version);
    r.group = "reloader.stakater.com".into();
    r.json_with_version("v1alpha1")
}

trait WithVersion {
    fn json_with_version(&self, v: &str) -> Vec<u8>;
}

impl WithVersion for Review {
    fn json_with_version(&self, v: &str) -> Vec<u8> {
        let mut j = self.json();
        j["request"]["kind"]["version"] = Value::String(v.into());
        j["request"]["resource"] =
            json!({"group": "reloader.stakater.com", "version": v, "resource": "reloaderconfigs"});
        serde_json::to_vec(&j).unwrap()
    }
}

async fn post(state: Arc<AppState>, body: Vec<u8>) -> (StatusCode, Value) {
    let req = Request::post("/validate/reloaderconfigs")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .unwrap();
    let resp = reloader::webhook::server::router(state)
        .oneshot(req)
        .await
        .unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap())
}

#[tokio::test]
async fn a_valid_reloaderconfig_is_allowed_without_warnings() {
    let h = harness();
    let (status, answer) = post(h.state.clone(), review(V1, "CREATE", config(valid_spec()))).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert!(answer["response"].get("warnings").is_none(), "{answer}");
}

#[tokio::test]
async fn each_rule_denies_with_its_specific_message() {
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "unknown kind",
            json!({"targets": [{"kind": "Pod", "name": "api"}]}),
            "spec.targets[0].kind: unknown workload kind \"Pod\": expected one of Deployment",
        ),
        (
            "bad name",
            json!({"targets": [{"kind": "Deployment", "name": "API"}]}),
            "spec.targets[0].name: \"API\" is not a valid DNS-1123 name",
        ),
        (
            "bad watched name",
            json!({"watchedResources": {"secrets": ["db_pass"]}}),
            "spec.watchedResources.secrets[0]: \"db_pass\" is not a valid DNS-1123 name",
        ),
        (
            "cross-namespace target",
            json!({"targets": [{"kind": "Deployment", "name": "api", "namespace": "team-b"}]}),
            "spec.targets[0].namespace: \"team-b\" is not this ReloaderConfig's namespace \"team-a\"",
        ),
        (
            "duplicated targets",
            json!({"targets": [{"kind": "Deployment", "name": "api"}, {"kind": "Deployment", "name": "api"}]}),
            "spec.targets[1]: duplicates spec.targets[0]",
        ),
        (
            "bad duration",
            json!({"pausePeriod": "5 minutes"}),
            "spec.pausePeriod: invalid duration \"5 minutes\"",
        ),
        (
            "bad target duration",
            json!({"targets": [{"kind": "Deployment", "name": "api", "pausePeriod": "1d"}]}),
            "spec.targets[0].pausePeriod: invalid duration \"1d\"",
        ),
        (
            "unknown strategy",
            json!({"reloadStrategy": "restart"}),
            "spec.reloadStrategy: unknown reload strategy \"restart\"; allowed: env-vars, annotations",
        ),
        (
            "alert with both",
            json!({"alerts": {"teams": {"url": "https://x.example.com", "secretRef": {"name": "t", "key": "url"}}}}),
            "spec.alerts.teams: both url and secretRef are set",
        ),
        (
            "alert with neither",
            json!({"alerts": {"webhook": {}}}),
            "spec.alerts.webhook: neither url nor secretRef is set",
        ),
        (
            "http alert",
            json!({"alerts": {"slack": {"url": "http://hooks.example.com/x"}}}),
            "spec.alerts.slack.url: an http:// URL sends the alert unencrypted",
        ),
        (
            "nothing watched",
            json!({"watchedResources": {"secrets": [], "configMaps": []}, "autoReloadAll": false}),
            "spec.watchedResources: names no Secret or ConfigMap and spec.autoReloadAll is false",
        ),
    ];
    for (name, patch, expected) in cases {
        let mut spec = valid_spec();
        for (k, v) in patch.as_object().unwrap() {
            spec[k] = v.clone();
        }
        for version in [V1, V1BETA1] {
            let h = harness();
            let (status, answer) = post(
                h.state.clone(),
                review(version, "UPDATE", config(spec.clone())),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{name}: {answer}");
            assert_eq!(answer["apiVersion"], version, "{name}");
            let response = &answer["response"];
            assert_eq!(response["allowed"], false, "{name}: {answer}");
            assert_eq!(response["status"]["code"], 422, "{name}");
            let message = response["status"]["message"].as_str().unwrap();
            assert!(
                message.starts_with("ReloaderConfig team-a/api-reload is invalid: "),
                "{name}: {message}"
            );
            assert!(message.contains(expected), "{name}: {message}");
        }
    }
}

#[tokio::test]
async fn http_alerts_pass_with_allow_insecure_alert_urls() {
    let h = harness();
    let state = Arc::new(AppState {
        reloaderconfigs: reloader_core::validation::ValidationOptions {
            allow_insecure_alert_urls: true,
        },
        ..(*h.state).clone()
    });
    let mut spec = valid_spec();
    spec["alerts"] = json!({"slack": {"url": "http://alerts.monitoring.svc/hook"}});
    let (_, answer) = post(state, review(V1, "CREATE", config(spec))).await;
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
}

#[derive(Debug)]
struct NothingExists;

impl Existence for NothingExists {
    fn presence<'a>(&'a self, _: &'a Subject) -> PresenceFuture<'a> {
        Box::pin(std::future::ready(Presence::Missing))
    }
}

#[tokio::test]
async fn missing_targets_and_sources_are_allowed_with_warnings() {
    let h = harness();
    let state = Arc::new(AppState {
        existence: Arc::new(NothingExists),
        ..(*h.state).clone()
    });
    let (_, answer) = post(state, review(V1, "CREATE", config(valid_spec()))).await;
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert_eq!(
        answer["response"]["warnings"],
        json!([
            "spec.targets[0]: Deployment team-a/api does not exist yet; it will be rolled once it does",
            "spec.watchedResources.secrets[0]: Secret team-a/db does not exist yet",
            "spec.watchedResources.configMaps[0]: ConfigMap team-a/settings does not exist yet",
        ])
    );
}

#[tokio::test]
async fn a_secret_sent_here_is_a_400_naming_the_path() {
    let h = harness();
    let body = Review::new("CREATE", Some(secret("s", &[])), None).body();
    let (status, body) = post(h.state.clone(), body).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "wrong_kind");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("/validate/reloaderconfigs"),
        "{body}"
    );
}

#[tokio::test]
async fn an_undecodable_reloaderconfig_is_a_400() {
    let h = harness();
    let mut spec = valid_spec();
    spec["targets"] = json!("not a list");
    let (status, body) = post(h.state.clone(), review(V1, "CREATE", config(spec))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["error"], "bad_object");
    assert!(
        body["message"].as_str().unwrap().contains("spec.targets"),
        "{body}"
    );
}
