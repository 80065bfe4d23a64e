//! Discovery through kube-rs and the real kubectl.

mod common;

use common::{kubectl, start};
use kube::discovery::{Discovery, Scope};

#[tokio::test]
async fn kube_discovery_finds_groups_kinds_and_scopes() {
    let (_sim, client) = start().await;
    let version = client.apiserver_version().await.expect("version");
    assert_eq!(
        (version.major.as_str(), version.minor.as_str()),
        ("1", "33")
    );
    let discovery = Discovery::new(client).run().await.expect("discovery");
    let apps = discovery.get("apps").expect("apps group");
    let (deployments, caps) = apps
        .recommended_resources()
        .into_iter()
        .find(|(r, _)| r.plural == "deployments")
        .expect("deployments");
    assert_eq!(deployments.kind, "Deployment");
    assert_eq!(caps.scope, Scope::Namespaced);
    assert!(discovery.has_group("admissionregistration.k8s.io"));
    let core = discovery.get("").expect("core group");
    let (_, ns_caps) = core
        .recommended_resources()
        .into_iter()
        .find(|(r, _)| r.plural == "namespaces")
        .expect("namespaces");
    assert_eq!(ns_caps.scope, Scope::Cluster);
}

#[tokio::test]
async fn kubectl_lists_resources_with_short_names() {
    let (sim, _client) = start().await;
    let cache = tempfile::tempdir().expect("cache dir");
    let output = kubectl(&sim, cache.path())
        .args(["api-resources", "--no-headers"])
        .output()
        .expect("kubectl runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8_lossy(&output.stdout);
    let deploy = text
        .lines()
        .find(|l| l.starts_with("deployments "))
        .expect("deployments listed");
    assert!(
        deploy.contains("deploy") && deploy.contains("apps/v1") && deploy.contains("Deployment"),
        "{deploy}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("configmaps ") && l.contains(" cm "))
    );
}

#[tokio::test]
async fn aggregated_discovery_and_protobuf_accepts_get_plain_json() {
    let (_sim, client) = start().await;
    let cases = [
        (
            "/apis",
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json",
            "APIGroupList",
        ),
        (
            "/api/v1/namespaces/default",
            "application/vnd.kubernetes.protobuf,application/json",
            "Namespace",
        ),
    ];
    for (path, accept, kind) in cases {
        let request = http::Request::get(path)
            .header("accept", accept)
            .body(kube::client::Body::empty())
            .expect("request");
        let response = client.send(request).await.expect("sent");
        assert_eq!(
            response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok()),
            Some("application/json"),
            "{path}"
        );
        let body = http_body_util::BodyExt::collect(response.into_body())
            .await
            .expect("body")
            .to_bytes();
        let value: serde_json::Value = serde_json::from_slice(&body).expect("json");
        assert_eq!(value["kind"], kind, "{path}");
    }
}
