//! The admission chain against real TLS webhooks.

mod common;

use std::sync::{Arc, Mutex};

use apiserver_sim::testing::SimOptions;
use apiserver_sim::webhook_server::{self, Decide, WebhookServer};
use common::{api_error, create_namespace, options, start_with};
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Namespace, Secret};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};

type Seen = Arc<Mutex<Vec<Value>>>;

/// A webhook on 127.0.0.1 with a certificate for `hook.sys.svc`, recording each request.
fn webhook(decide: impl Fn(&Value) -> Value + Send + Sync + 'static) -> (WebhookServer, Seen) {
    let seen: Seen = Arc::default();
    let record = seen.clone();
    let decide: Decide = Arc::new(move |request| {
        record.lock().expect("lock").push(request.clone());
        decide(request)
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    (
        webhook_server::start(listener, &["hook.sys.svc"], decide).expect("webhook"),
        seen,
    )
}

fn sim_options(server: &WebhookServer) -> SimOptions {
    SimOptions {
        service_endpoints: vec![("sys/hook".into(), server.address.to_string())],
        ..options()
    }
}

fn validating(
    name: &str,
    ca_bundle: &str,
    resources: Value,
    extra: Value,
) -> ValidatingWebhookConfiguration {
    let mut hook = json!({
        "name": name,
        "clientConfig": {"service": {"namespace": "sys", "name": "hook", "path": "/validate/sources"}, "caBundle": ca_bundle},
        "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE", "DELETE"], "resources": resources}],
        "sideEffects": "None",
        "admissionReviewVersions": ["v1"],
        "timeoutSeconds": 2
    });
    if let (Some(hook), Some(extra)) = (hook.as_object_mut(), extra.as_object()) {
        hook.extend(extra.clone());
    }
    serde_json::from_value(json!({"metadata": {"name": name}, "webhooks": [hook]}))
        .expect("configuration")
}

fn secret(name: &str, value: &str) -> Secret {
    serde_json::from_value(json!({"metadata": {"name": name}, "stringData": {"k": value}}))
        .expect("secret")
}

async fn register(client: &kube::Client, configuration: ValidatingWebhookConfiguration) {
    Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .create(&PostParams::default(), &configuration)
        .await
        .expect("configuration created");
}

#[tokio::test]
async fn validating_webhook_sees_create_update_delete_and_dry_run() {
    let (server, seen) = webhook(|_| json!({"allowed": true}));
    let (_sim, client) = start_with(sim_options(&server)).await;
    create_namespace(&client, "ns").await;
    register(
        &client,
        validating(
            "sources.example.com",
            &server.ca_bundle(),
            json!(["secrets", "configmaps"]),
            json!({}),
        ),
    )
    .await;
    let api: Api<Secret> = Api::namespaced(client, "ns");
    api.create(
        &PostParams {
            dry_run: true,
            ..PostParams::default()
        },
        &secret("s", "0"),
    )
    .await
    .expect("dry-run create");
    api.create(&PostParams::default(), &secret("s", "1"))
        .await
        .expect("create");
    api.patch(
        "s",
        &PatchParams::default(),
        &Patch::Merge(&json!({"stringData": {"k": "2"}})),
    )
    .await
    .expect("update");
    api.delete("s", &DeleteParams::default())
        .await
        .expect("delete");
    let seen = seen.lock().expect("lock").clone();
    let summary: Vec<(String, bool)> = seen
        .iter()
        .map(|r| {
            (
                r["operation"].as_str().unwrap_or_default().to_string(),
                r["dryRun"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("CREATE".into(), true),
            ("CREATE".into(), false),
            ("UPDATE".into(), false),
            ("DELETE".into(), false)
        ]
    );
    let create = &seen[1];
    assert_eq!(
        create["kind"],
        json!({"group": "", "version": "v1", "kind": "Secret"})
    );
    assert_eq!(
        create["resource"],
        json!({"group": "", "version": "v1", "resource": "secrets"})
    );
    assert_eq!(
        (create["namespace"].as_str(), create["name"].as_str()),
        (Some("ns"), Some("s"))
    );
    assert_eq!(create["options"]["kind"], "CreateOptions");
    assert!(create["userInfo"]["username"].is_string());
    assert_eq!(create["object"]["data"]["k"], "MQ==");
    assert!(create["oldObject"].is_null());
    let update = &seen[2];
    assert_eq!(
        (
            update["oldObject"]["data"]["k"].as_str(),
            update["object"]["data"]["k"].as_str()
        ),
        (Some("MQ=="), Some("Mg=="))
    );
    assert_eq!(update["options"]["kind"], "UpdateOptions");
    let delete = &seen[3];
    assert!(delete["object"].is_null());
    assert_eq!(delete["oldObject"]["metadata"]["name"], "s");
    assert_eq!(delete["options"]["kind"], "DeleteOptions");
}

#[tokio::test]
async fn denial_is_reported_with_the_webhook_name_and_nothing_is_stored() {
    let (server, _seen) = webhook(
        |_| json!({"allowed": false, "status": {"code": 403, "reason": "Forbidden", "message": "no secrets today"}}),
    );
    let (_sim, client) = start_with(sim_options(&server)).await;
    create_namespace(&client, "ns").await;
    register(
        &client,
        validating(
            "deny.example.com",
            &server.ca_bundle(),
            json!(["secrets"]),
            json!({}),
        ),
    )
    .await;
    let api: Api<Secret> = Api::namespaced(client, "ns");
    let (code, _, message) = api_error(
        api.create(&PostParams::default(), &secret("s", "1"))
            .await
            .expect_err("denied"),
    );
    assert_eq!(code, 403);
    assert_eq!(
        message,
        "admission webhook \"deny.example.com\" denied the request: no secrets today"
    );
    assert_eq!(
        api_error(api.get("s").await.expect_err("not stored")).0,
        404
    );
}

#[tokio::test]
async fn mutating_webhook_patches_before_validation_and_warnings_become_headers() {
    let (mutator, _) = webhook(|request| {
        let patch =
            json!([{"op": "add", "path": "/metadata/annotations", "value": {"mutated": "yes"}}]);
        let encoded = base64_encode(&serde_json::to_vec(&patch).expect("patch"));
        assert_eq!(request["kind"]["kind"], "Deployment");
        json!({"allowed": true, "patchType": "JSONPatch", "patch": encoded, "warnings": ["workload mutated"]})
    });
    let (_sim, client) = start_with(sim_options(&mutator)).await;
    create_namespace(&client, "ns").await;
    let configuration: MutatingWebhookConfiguration = serde_json::from_value(json!({
        "metadata": {"name": "workloads"},
        "webhooks": [{
            "name": "workloads.example.com",
            "clientConfig": {"service": {"namespace": "sys", "name": "hook", "path": "/mutate/workloads"}, "caBundle": mutator.ca_bundle()},
            "rules": [{"apiGroups": ["apps"], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["deployments"]}],
            "sideEffects": "None", "admissionReviewVersions": ["v1"]
        }]
    }))
    .expect("configuration");
    Api::<MutatingWebhookConfiguration>::all(client.clone())
        .create(&PostParams::default(), &configuration)
        .await
        .expect("registered");
    let body = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {
        "selector": {"matchLabels": {"app": "web"}},
        "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
    let request = http::Request::post("/apis/apps/v1/namespaces/ns/deployments")
        .header("content-type", "application/json")
        .body(serde_json::to_vec(&body).expect("body"))
        .expect("request");
    let response = client
        .send(request.map(kube::client::Body::from))
        .await
        .expect("sent");
    assert_eq!(response.status().as_u16(), 201);
    let warning = response
        .headers()
        .get("warning")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert_eq!(warning, "299 - \"workload mutated\"");
    let stored = Api::<Deployment>::namespaced(client, "ns")
        .get("web")
        .await
        .expect("stored");
    assert_eq!(
        stored
            .metadata
            .annotations
            .and_then(|a| a.get("mutated").cloned())
            .as_deref(),
        Some("yes")
    );
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn failure_policy_decides_when_the_webhook_is_unreachable_or_untrusted() {
    let (server, _) = webhook(|_| json!({"allowed": true}));
    let (other_ca, _) = webhook(|_| json!({"allowed": true}));
    let (_sim, client) = start_with(sim_options(&server)).await;
    create_namespace(&client, "ns").await;
    let unreachable = json!({"clientConfig": {"service": {"namespace": "sys", "name": "gone"}, "caBundle": server.ca_bundle()}});
    let mut ignore = unreachable.clone();
    ignore["failurePolicy"] = json!("Ignore");
    register(
        &client,
        validating(
            "ignore.example.com",
            &server.ca_bundle(),
            json!(["secrets"]),
            ignore,
        ),
    )
    .await;
    let api: Api<Secret> = Api::namespaced(client.clone(), "ns");
    api.create(&PostParams::default(), &secret("a", "1"))
        .await
        .expect("ignored failure lets the request through");

    let mut wrong_ca = json!({"failurePolicy": "Fail"});
    wrong_ca["clientConfig"] =
        json!({"service": {"namespace": "sys", "name": "hook"}, "caBundle": other_ca.ca_bundle()});
    register(
        &client,
        validating(
            "untrusted.example.com",
            &server.ca_bundle(),
            json!(["secrets"]),
            wrong_ca,
        ),
    )
    .await;
    let (code, reason, message) = api_error(
        api.create(&PostParams::default(), &secret("b", "1"))
            .await
            .expect_err("untrusted"),
    );
    assert_eq!((code, reason.as_str()), (500, "InternalError"));
    assert!(message.starts_with("Internal error occurred: failed calling webhook \"untrusted.example.com\": failed to call webhook: Post \"https://hook.sys.svc:443/?timeout=2s\""), "{message}");
}

#[tokio::test]
async fn webhook_timeout_fails_closed() {
    // Accepts TCP connections but never answers the TLS handshake.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let (server, _) = webhook(|_| json!({"allowed": true}));
    let options = SimOptions {
        service_endpoints: vec![(
            "sys/hook".into(),
            silent.local_addr().expect("addr").to_string(),
        )],
        ..options()
    };
    let (_sim, client) = start_with(options).await;
    create_namespace(&client, "ns").await;
    register(
        &client,
        validating(
            "slow.example.com",
            &server.ca_bundle(),
            json!(["secrets"]),
            json!({"timeoutSeconds": 1}),
        ),
    )
    .await;
    let started = std::time::Instant::now();
    let (code, _, message) = api_error(
        Api::<Secret>::namespaced(client, "ns")
            .create(&PostParams::default(), &secret("s", "1"))
            .await
            .expect_err("timeout"),
    );
    assert_eq!(code, 500);
    assert!(message.ends_with("context deadline exceeded"), "{message}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[tokio::test]
async fn selectors_limit_which_requests_are_sent() {
    let (server, seen) = webhook(|_| json!({"allowed": true}));
    let (_sim, client) = start_with(sim_options(&server)).await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    for (name, team) in [("team-a", "a"), ("team-b", "b")] {
        let namespace =
            serde_json::from_value(json!({"metadata": {"name": name, "labels": {"team": team}}}))
                .expect("ns");
        namespaces
            .create(&PostParams::default(), &namespace)
            .await
            .expect("namespace");
    }
    let selectors = json!({
        "namespaceSelector": {"matchLabels": {"team": "a"}},
        "objectSelector": {"matchExpressions": [{"key": "skip", "operator": "DoesNotExist"}]}
    });
    register(
        &client,
        validating(
            "selective.example.com",
            &server.ca_bundle(),
            json!(["secrets"]),
            selectors,
        ),
    )
    .await;
    Api::<Secret>::namespaced(client.clone(), "team-b")
        .create(&PostParams::default(), &secret("s", "1"))
        .await
        .expect("b");
    let mut skipped = secret("skipped", "1");
    skipped.metadata.labels = Some([("skip".to_string(), "yes".to_string())].into());
    Api::<Secret>::namespaced(client.clone(), "team-a")
        .create(&PostParams::default(), &skipped)
        .await
        .expect("skipped");
    Api::<Secret>::namespaced(client, "team-a")
        .create(&PostParams::default(), &secret("s", "1"))
        .await
        .expect("a");
    let seen: Vec<(String, String)> = seen
        .lock()
        .expect("lock")
        .iter()
        .map(|r| {
            (
                r["namespace"].as_str().unwrap_or_default().into(),
                r["name"].as_str().unwrap_or_default().into(),
            )
        })
        .collect();
    assert_eq!(seen, vec![("team-a".to_string(), "s".to_string())]);
}

#[tokio::test]
async fn dry_run_is_refused_for_webhooks_with_side_effects() {
    let (server, seen) = webhook(|_| json!({"allowed": true}));
    let (_sim, client) = start_with(sim_options(&server)).await;
    create_namespace(&client, "ns").await;
    register(
        &client,
        validating(
            "effects.example.com",
            &server.ca_bundle(),
            json!(["secrets"]),
            json!({"sideEffects": "Some"}),
        ),
    )
    .await;
    let api: Api<Secret> = Api::namespaced(client, "ns");
    let (code, _, message) = api_error(
        api.create(
            &PostParams {
                dry_run: true,
                ..PostParams::default()
            },
            &secret("s", "1"),
        )
        .await
        .expect_err("refused"),
    );
    assert_eq!(
        (code, message.as_str()),
        (
            400,
            "admission webhook \"effects.example.com\" does not support dry run"
        )
    );
    assert!(seen.lock().expect("lock").is_empty());
}

#[tokio::test]
async fn match_conditions_skip_requests_they_exclude() {
    let (server, seen) = webhook(|_| json!({"allowed": true}));
    let (_sim, client) = start_with(sim_options(&server)).await;
    create_namespace(&client, "ns").await;
    let conditions = json!({"matchConditions": [
        {"name": "not-dry-run", "expression": "!request.dryRun"},
        {"name": "not-skipped", "expression": "!(has(object.metadata.labels) && 'skip' in object.metadata.labels)"}
    ]});
    register(
        &client,
        validating(
            "conditional.example.com",
            &server.ca_bundle(),
            json!(["secrets"]),
            conditions,
        ),
    )
    .await;
    let api: Api<Secret> = Api::namespaced(client, "ns");
    api.create(
        &PostParams {
            dry_run: true,
            ..PostParams::default()
        },
        &secret("dry", "1"),
    )
    .await
    .expect("dry run");
    let mut skipped = secret("skipped", "1");
    skipped.metadata.labels = Some([("skip".to_string(), "yes".to_string())].into());
    api.create(&PostParams::default(), &skipped)
        .await
        .expect("skipped");
    api.create(&PostParams::default(), &secret("called", "1"))
        .await
        .expect("called");
    let names: Vec<String> = seen
        .lock()
        .expect("lock")
        .iter()
        .map(|r| r["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(names, vec!["called"]);
}

#[tokio::test]
async fn match_condition_errors_follow_the_failure_policy() {
    let (server, seen) = webhook(|_| json!({"allowed": true}));
    let (_sim, client) = start_with(sim_options(&server)).await;
    create_namespace(&client, "ns").await;
    let broken = json!({"failurePolicy": "Fail", "matchConditions": [{"name": "broken", "expression": "object.no.such.field == 1"}]});
    register(
        &client,
        validating(
            "broken.example.com",
            &server.ca_bundle(),
            json!(["secrets"]),
            broken,
        ),
    )
    .await;
    let api: Api<Secret> = Api::namespaced(client, "ns");
    let (code, _, message) = api_error(
        api.create(&PostParams::default(), &secret("s", "1"))
            .await
            .expect_err("fails closed"),
    );
    assert_eq!(code, 500);
    assert!(
        message.contains("matchCondition \"broken\" error"),
        "{message}"
    );
    assert!(seen.lock().expect("lock").is_empty());
}
