//! OpenAPI and server-side field validation: kubectl's default `--validate=strict`
//! works (apply, create, replace), unknown fields are rejected with the real
//! server's messages, or dropped with a warning when validation is not strict.

mod common;

use common::{run_kubectl, start};
use serde_json::{Value, json};

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  REPLICAS
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: app, image: IMAGE}]}
"#;

fn deployment(replicas_line: &str, image: &str) -> String {
    DEPLOYMENT
        .replace("REPLICAS", replicas_line)
        .replace("IMAGE", image)
}

const CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              size: {type: integer}
              free: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#;

#[tokio::test]
async fn kubectl_apply_create_and_replace_validate_by_default() {
    let (sim, _client) = start().await;
    let cache = tempfile::tempdir().expect("cache");
    let k = |args: &[&str], stdin: &str| run_kubectl(&sim, cache.path(), args, stdin);
    let good = deployment("replicas: 1", "nginx:1.27");
    let (ok, out, err) = k(&["apply", "-f", "-"], &good);
    assert!(
        ok && out.contains("deployment.apps/web created"),
        "{out}{err}"
    );
    let (ok, out, err) = k(&["apply", "-f", "-"], &good);
    assert!(
        ok && out.contains("deployment.apps/web unchanged"),
        "{out}{err}"
    );
    let (ok, out, err) = k(
        &["replace", "-f", "-"],
        &deployment("replicas: 2", "nginx:1.28"),
    );
    assert!(
        ok && out.contains("deployment.apps/web replaced"),
        "{out}{err}"
    );
    let (ok, out, err) = k(
        &["create", "-f", "-"],
        &good.replace("name: web,", "name: web2,"),
    );
    assert!(
        ok && out.contains("deployment.apps/web2 created"),
        "{out}{err}"
    );
    let (ok, out, err) = k(&["apply", "-f", "-"], CRD);
    assert!(ok, "{out}{err}");
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: default}\nspec: {size: 1, free: {any: thing}}\n";
    let (ok, out, err) = k(&["apply", "-f", "-"], widget);
    assert!(
        ok && out.contains("widget.example.com/w created"),
        "{out}{err}"
    );
    let (ok, out, err) = k(
        &["get", "widget", "w", "-o", "jsonpath={.spec.free.any}"],
        "",
    );
    assert!(ok && out == "thing", "{out}{err}");
}

#[tokio::test]
async fn unknown_fields_are_rejected_naming_the_field() {
    let (sim, _client) = start().await;
    let cache = tempfile::tempdir().expect("cache");
    let k = |args: &[&str], stdin: &str| run_kubectl(&sim, cache.path(), args, stdin);
    let typo = deployment("replicass: 1", "nginx");
    let create_error = "Deployment in version \"v1\" cannot be handled as a Deployment: strict decoding error: unknown field \"spec.replicass\"";
    for verb in ["apply", "create"] {
        let (ok, _, err) = k(&[verb, "-f", "-"], &typo);
        assert!(!ok, "{verb} accepted an unknown field");
        assert!(
            err.contains("Error from server (BadRequest)") && err.contains(create_error),
            "{verb}: {err}"
        );
    }
    let (ok, _, err) = k(&["apply", "-f", "-"], &deployment("replicas: 1", "nginx"));
    assert!(ok, "{err}");
    // Applying to an existing object sends a patch: the real server answers 422.
    let (ok, _, err) = k(&["apply", "-f", "-"], &typo);
    assert!(
        !ok && err.contains("The request is invalid: patch: Invalid value: "),
        "{err}"
    );
    assert!(
        err.contains("strict decoding error: unknown field \"spec.replicass\""),
        "{err}"
    );
    let (ok, _, err) = k(&["replace", "-f", "-"], &typo);
    assert!(!ok && err.contains(create_error), "{err}");
    let nested = deployment("replicas: 1", "nginx, imagee: x");
    let (ok, _, err) = k(&["apply", "-f", "-"], &nested);
    assert!(
        !ok && err.contains("unknown field \"spec.template.spec.containers[0].imagee\""),
        "{err}"
    );
    let (ok, _, err) = k(&["apply", "-f", "-"], CRD);
    assert!(ok, "{err}");
    let widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: default, labelz: {}}\nspec: {size: 1, sizee: 2}\n";
    let (ok, _, err) = k(&["create", "-f", "-"], widget);
    assert!(!ok, "a widget with unknown fields was accepted");
    assert!(err.contains("Widget in version \"v1\" cannot be handled as a Widget: strict decoding error: unknown field \"metadata.labelz\", unknown field \"spec.sizee\""), "{err}");
    // --validate=warn: accepted, the fields are named in warnings and dropped.
    let (ok, _, err) = k(&["create", "--validate=warn", "-f", "-"], widget);
    assert!(
        ok && err.contains("Warning: unknown field \"spec.sizee\""),
        "{err}"
    );
    let (_, out, _) = k(&["get", "widget", "w", "-o", "jsonpath={.spec}"], "");
    assert_eq!(
        serde_json::from_str::<Value>(&out).expect("spec"),
        json!({"size": 1})
    );
}

async fn raw(
    client: &kube::Client,
    method: &str,
    path: &str,
    content_type: &str,
    body: Value,
) -> (u16, Vec<String>, Value) {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", content_type)
        .body(serde_json::to_vec(&body).expect("body"))
        .expect("request");
    let response = client
        .send(request.map(kube::client::Body::from))
        .await
        .expect("sent");
    let status = response.status().as_u16();
    let warnings = response
        .headers()
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().unwrap_or_default().to_string())
        .collect();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .expect("body")
        .to_bytes();
    (
        status,
        warnings,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

#[tokio::test]
async fn field_validation_directives_on_the_raw_api() {
    let (_sim, client) = start().await;
    let configmaps = "/api/v1/namespaces/default/configmaps";
    let body = json!({"metadata": {"name": "a"}, "dataa": {}, "data": {"k": "v"}});
    // Unset means Warn: stored without the field, one warning per field.
    let (status, warnings, created) = raw(
        &client,
        "POST",
        configmaps,
        "application/json",
        body.clone(),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(
        warnings,
        vec!["299 - \"unknown field \\\"dataa\\\"\"".to_string()]
    );
    assert!(created.get("dataa").is_none() && created["data"]["k"] == "v");
    let mut ignored = body.clone();
    ignored["metadata"]["name"] = json!("b");
    let (status, warnings, _) = raw(
        &client,
        "POST",
        &format!("{configmaps}?fieldValidation=Ignore"),
        "application/json",
        ignored,
    )
    .await;
    assert_eq!((status, warnings.len()), (201, 0));
    let (status, _, answer) = raw(
        &client,
        "POST",
        &format!("{configmaps}?fieldValidation=Bogus"),
        "application/json",
        body.clone(),
    )
    .await;
    assert_eq!(status, 422);
    assert_eq!(
        answer["message"],
        "CreateOptions.meta.k8s.io \"\" is invalid: fieldValidation: Unsupported value: \"Bogus\": supported values: \"\", \"Ignore\", \"Strict\", \"Warn\""
    );
    let (status, _, answer) = raw(
        &client,
        "PATCH",
        &format!("{configmaps}/a?fieldValidation=Strict"),
        "application/merge-patch+json",
        json!({"dataa": {"x": "y"}}),
    )
    .await;
    assert_eq!((status, answer["reason"].as_str()), (422, Some("Invalid")));
    assert_eq!(answer["details"]["causes"][0]["field"], "patch");
    let (status, _, answer) = raw(
        &client,
        "PATCH",
        &format!("{configmaps}/a?fieldManager=t"),
        "application/apply-patch+yaml",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "dataa": {}}),
    )
    .await;
    assert_eq!(status, 500);
    assert_eq!(
        answer["message"],
        "failed to create typed patch object (/a; v1, Kind=ConfigMap): .dataa: field not declared in schema"
    );
}

#[tokio::test]
async fn openapi_v3_documents_advertise_field_validation_for_built_ins_and_crds() {
    let (_sim, client) = start().await;
    let root: Value = client
        .request(
            http::Request::get("/openapi/v3")
                .body(vec![])
                .expect("request"),
        )
        .await
        .expect("root");
    let url = root["paths"]["apis/apps/v1"]["serverRelativeURL"]
        .as_str()
        .expect("apps/v1 listed")
        .to_string();
    assert!(url.starts_with("/openapi/v3/apis/apps/v1?hash="), "{url}");
    assert!(root["paths"]["api/v1"].is_object());
    let apps: Value = client
        .request(http::Request::get(url).body(vec![]).expect("request"))
        .await
        .expect("apps doc");
    let patch = &apps["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"];
    assert_eq!(
        patch["x-kubernetes-group-version-kind"],
        json!({"group": "apps", "version": "v1", "kind": "Deployment"})
    );
    assert!(
        patch["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .any(|p| p["name"] == "fieldValidation")
    );
    let deployment = &apps["components"]["schemas"]["io.k8s.api.apps.v1.Deployment"];
    assert_eq!(
        deployment["x-kubernetes-group-version-kind"][0]["kind"],
        "Deployment"
    );
    assert!(apps["components"]["schemas"]["io.k8s.api.apps.v1.DeploymentSpec"]["properties"]["replicas"].is_object());
    let crd: k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition =
        serde_yaml::from_str(CRD).expect("crd");
    kube::Api::all(client.clone())
        .create(&Default::default(), &crd)
        .await
        .expect("crd created");
    let root: Value = client
        .request(
            http::Request::get("/openapi/v3")
                .body(vec![])
                .expect("request"),
        )
        .await
        .expect("root");
    let url = root["paths"]["apis/example.com/v1"]["serverRelativeURL"]
        .as_str()
        .expect("CRD group listed")
        .to_string();
    let widgets: Value = client
        .request(http::Request::get(url).body(vec![]).expect("request"))
        .await
        .expect("widget doc");
    let schema = &widgets["components"]["schemas"]["com.example.v1.Widget"];
    assert!(schema["properties"]["spec"]["properties"]["size"].is_object());
    assert!(widgets["paths"]["/apis/example.com/v1/namespaces/{namespace}/widgets/{name}"]["patch"]["parameters"].is_array());
}
