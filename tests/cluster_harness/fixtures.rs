//! The objects the scenarios apply, built by functions instead of copied YAML: Namespaces,
//! Secrets and ConfigMaps, Deployments that follow them, and ReloaderConfigs. A scenario
//! says only what sets its objects apart. What is the point of a test (a CRD, a malformed
//! object, a kind built nowhere else) stays written out in the test.
//!
//! Each object is a JSON value, printed as JSON: YAML that kubectl reads with every string
//! quoted. (YAML printed by serde_yaml is YAML 1.2, where `yes` is a string; kubectl reads
//! YAML 1.1, where it is a boolean.)

use std::sync::LazyLock;

use serde_json::{Value, json};

/// stakater's annotation for following every source a workload references.
pub use reloader_core::keys::AUTO;

/// A namespace, a Secret and a Deployment that follows it (stakater's `auto` annotation).
pub static SHOP: LazyLock<String> = LazyLock::new(|| {
    documents(&[
        namespace("shop"),
        secret("shop", "app-creds", &[("password", "one")]),
        deployment("shop", "web")
            .annotation(AUTO, "true")
            .env_secret_key("PASSWORD", "app-creds", "password")
            .yaml(),
    ])
});

/// Documents as one `kubectl apply -f -` input, in order. Each opens with `---`: a stream
/// that opened with `{` would be read as JSON only, where `---` is an error.
pub fn documents(docs: &[String]) -> String {
    let mut out = String::new();
    for doc in docs {
        out.push_str("---\n");
        out.push_str(doc);
        if !doc.ends_with('\n') {
            out.push('\n');
        }
    }
    out
}

fn yaml(object: &Value) -> String {
    let mut text = serde_json::to_string_pretty(object).expect("a JSON value prints");
    text.push('\n');
    text
}

fn map(pairs: &[(&str, &str)]) -> Value {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), json!(v)))
        .collect()
}

/// Appends `item` to the array at `at`, making the array if there is none yet.
fn push(at: &mut Value, item: Value) {
    if at.is_null() {
        *at = json!([]);
    }
    at.as_array_mut().expect("an array").push(item);
}

pub fn namespace(name: &str) -> String {
    yaml(&json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
}

pub fn namespace_labelled(name: &str, labels: &[(&str, &str)]) -> String {
    yaml(&json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": map(labels)},
    }))
}

/// A Secret with `data` as its `stringData`.
pub fn secret(ns: &str, name: &str, data: &[(&str, &str)]) -> String {
    Source::secret(ns, name, data).yaml()
}

pub fn configmap(ns: &str, name: &str, data: &[(&str, &str)]) -> String {
    Source::configmap(ns, name, data).yaml()
}

/// A Secret or ConfigMap with labels or annotations of its own; [`secret`] and
/// [`configmap`] are the plain ones.
#[derive(Clone)]
pub struct Source(Value);

impl Source {
    fn new(kind: &str, ns: &str, name: &str, field: &str, data: &[(&str, &str)]) -> Source {
        let mut object = json!({
            "apiVersion": "v1",
            "kind": kind,
            "metadata": {"name": name, "namespace": ns},
        });
        object[field] = map(data);
        Source(object)
    }

    /// `data` as `stringData`.
    pub fn secret(ns: &str, name: &str, data: &[(&str, &str)]) -> Source {
        Source::new("Secret", ns, name, "stringData", data)
    }

    pub fn configmap(ns: &str, name: &str, data: &[(&str, &str)]) -> Source {
        Source::new("ConfigMap", ns, name, "data", data)
    }

    /// A ConfigMap whose `data` values are base64, as `binaryData`.
    pub fn binary_configmap(ns: &str, name: &str, data: &[(&str, &str)]) -> Source {
        Source::new("ConfigMap", ns, name, "binaryData", data)
    }

    pub fn label(mut self, key: &str, value: &str) -> Source {
        self.0["metadata"]["labels"][key] = json!(value);
        self
    }

    pub fn annotation(mut self, key: &str, value: &str) -> Source {
        self.0["metadata"]["annotations"][key] = json!(value);
        self
    }

    pub fn yaml(&self) -> String {
        yaml(&self.0)
    }
}

/// A Deployment with one container `app` (nginx), selected by `app: <name>`; see
/// [`deployment`].
pub struct Deployment(Value);

/// The Deployment `ns/name`, to be given annotations, references and volumes.
pub fn deployment(ns: &str, name: &str) -> Deployment {
    Deployment(json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": ns},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "nginx"}]},
            },
        },
    }))
}

impl Deployment {
    fn pod(&mut self) -> &mut Value {
        &mut self.0["spec"]["template"]["spec"]
    }

    fn container(&mut self) -> &mut Value {
        &mut self.pod()["containers"][0]
    }

    pub fn annotation(mut self, key: &str, value: &str) -> Deployment {
        self.0["metadata"]["annotations"][key] = json!(value);
        self
    }

    /// An annotation on the pod template rather than on the Deployment.
    pub fn template_annotation(mut self, key: &str, value: &str) -> Deployment {
        self.0["spec"]["template"]["metadata"]["annotations"][key] = json!(value);
        self
    }

    /// A label on the Deployment itself (what object selectors match).
    pub fn object_label(mut self, key: &str, value: &str) -> Deployment {
        self.0["metadata"]["labels"][key] = json!(value);
        self
    }

    /// A pod label, in the selector too (`app` replaces the default `app: <name>`).
    pub fn label(mut self, key: &str, value: &str) -> Deployment {
        self.0["spec"]["selector"]["matchLabels"][key] = json!(value);
        self.0["spec"]["template"]["metadata"]["labels"][key] = json!(value);
        self
    }

    pub fn replicas(mut self, replicas: i32) -> Deployment {
        self.0["spec"]["replicas"] = json!(replicas);
        self
    }

    pub fn image(mut self, image: &str) -> Deployment {
        self.container()["image"] = json!(image);
        self
    }

    pub fn env_from_secret(mut self, secret: &str) -> Deployment {
        push(
            &mut self.container()["envFrom"],
            json!({"secretRef": {"name": secret}}),
        );
        self
    }

    pub fn env_from_configmap(mut self, configmap: &str) -> Deployment {
        push(
            &mut self.container()["envFrom"],
            json!({"configMapRef": {"name": configmap}}),
        );
        self
    }

    /// The plain variable `var=value` on the container (what stakater records).
    pub fn env(mut self, var: &str, value: &str) -> Deployment {
        push(
            &mut self.container()["env"],
            json!({"name": var, "value": value}),
        );
        self
    }

    /// The same workload as a StatefulSet (`serviceName` the workload's name).
    pub fn statefulset_yaml(&self) -> String {
        let mut sts = self.0.clone();
        sts["kind"] = json!("StatefulSet");
        sts["spec"]["serviceName"] = sts["metadata"]["name"].clone();
        yaml(&sts)
    }

    /// The variable `var` set from one key of a Secret.
    pub fn env_secret_key(mut self, var: &str, secret: &str, key: &str) -> Deployment {
        push(
            &mut self.container()["env"],
            secret_key_env(var, secret, key),
        );
        self
    }

    /// An init container `init` (busybox) before `app`, its variable `var` set from one key
    /// of a Secret.
    pub fn init_env_secret_key(mut self, var: &str, secret: &str, key: &str) -> Deployment {
        let init =
            json!({"name": "init", "image": "busybox", "env": [secret_key_env(var, secret, key)]});
        push(&mut self.pod()["initContainers"], init);
        self
    }

    /// The Secret mounted as the volume `volume`, at `/<volume>`.
    pub fn secret_volume(self, volume: &str, secret: &str) -> Deployment {
        self.volume(volume, json!({"secret": {"secretName": secret}}))
    }

    /// The ConfigMap mounted as the volume `volume`, at `/<volume>`.
    pub fn configmap_volume(self, volume: &str, configmap: &str) -> Deployment {
        self.volume(volume, json!({"configMap": {"name": configmap}}))
    }

    /// A Secrets Store CSI volume `volume` naming the SecretProviderClass `class`.
    pub fn csi_volume(self, volume: &str, class: &str) -> Deployment {
        let csi = json!({"driver": "secrets-store.csi.k8s.io", "readOnly": true,
                         "volumeAttributes": {"secretProviderClass": class}});
        self.volume(volume, json!({ "csi": csi }))
    }

    /// The ConfigMap as the one source of a projected volume `volume`, at `/<volume>`.
    pub fn projected_configmap_volume(self, volume: &str, configmap: &str) -> Deployment {
        let sources = json!([{"configMap": {"name": configmap}}]);
        self.volume(volume, json!({"projected": {"sources": sources}}))
    }

    fn volume(mut self, volume: &str, mut source: Value) -> Deployment {
        source["name"] = json!(volume);
        push(&mut self.pod()["volumes"], source);
        let mount = json!({"name": volume, "mountPath": format!("/{volume}")});
        push(&mut self.container()["volumeMounts"], mount);
        self
    }

    pub fn yaml(&self) -> String {
        yaml(&self.0)
    }
}

fn secret_key_env(var: &str, secret: &str, key: &str) -> Value {
    json!({"name": var, "valueFrom": {"secretKeyRef": {"name": secret, "key": key}}})
}

/// A ReloaderConfig; see [`reloader_config`].
pub struct ReloaderConfig(Value);

/// The ReloaderConfig `ns/name`, to be given watched sources and targets.
pub fn reloader_config(ns: &str, name: &str) -> ReloaderConfig {
    ReloaderConfig(json!({
        "apiVersion": "reloader.stakater.com/v1alpha1",
        "kind": "ReloaderConfig",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"targets": []},
    }))
}

impl ReloaderConfig {
    pub fn secrets(mut self, names: &[&str]) -> ReloaderConfig {
        self.0["spec"]["watchedResources"]["secrets"] = json!(names);
        self
    }

    pub fn configmaps(mut self, names: &[&str]) -> ReloaderConfig {
        self.0["spec"]["watchedResources"]["configMaps"] = json!(names);
        self
    }

    /// A target in the ReloaderConfig's namespace: `kind` is `Deployment`, `Rollout`, …
    pub fn target(mut self, kind: &str, name: &str) -> ReloaderConfig {
        push(
            &mut self.0["spec"]["targets"],
            json!({"kind": kind, "name": name}),
        );
        self
    }

    /// `reloadStrategy`: `env-vars` or `annotations`.
    pub fn strategy(mut self, strategy: &str) -> ReloaderConfig {
        self.0["spec"]["reloadStrategy"] = json!(strategy);
        self
    }

    pub fn coalesce_window(mut self, window: &str) -> ReloaderConfig {
        self.0["spec"]["coalesceWindow"] = json!(window);
        self
    }

    /// A webhook alert sink whose URL is the key `key` of the Secret `secret`.
    pub fn webhook_alert_from_secret(mut self, secret: &str, key: &str) -> ReloaderConfig {
        self.0["spec"]["alerts"]["webhook"] = json!({"secretRef": {"name": secret, "key": key}});
        self
    }

    pub fn yaml(&self) -> String {
        yaml(&self.0)
    }
}

/// Denies any change to the pod template of a Deployment labelled `frozen: "yes"`: a
/// reload of it fails on the real API server's own admission.
pub const FROZEN_POLICY: &str = r#"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: frozen}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [apps], apiVersions: [v1], operations: [UPDATE], resources: [deployments]}
  validations:
  - expression: "object.spec.template == oldObject.spec.template"
    message: "frozen Deployments keep their pod template"
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: frozen}
spec:
  policyName: frozen
  validationActions: [Deny]
  matchResources:
    objectSelector: {matchLabels: {frozen: "yes"}}
"#;
