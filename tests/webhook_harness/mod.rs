//! For tests that call reloader's webhook inside the test process: builders for
//! AdmissionReview bodies, a router wired to an inspectable queue, and TLS material
//! (`tls`). Tests that run the binaries against an API server use `cluster_harness`.
#![allow(dead_code)]

pub mod logged;
pub mod tls;

use std::sync::Arc;

use base64::Engine;
use reloader::metrics::Metrics;
use reloader::trigger::{self, TriggerReceiver};
use reloader::webhook::sources::SourcesOptions;
use reloader::webhook::{AppState, Limits};
use serde_json::{Value, json};

pub const V1: &str = "admission.k8s.io/v1";
pub const V1BETA1: &str = "admission.k8s.io/v1beta1";

pub fn b64(s: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// A Secret object as the API server sends it.
pub fn secret(name: &str, data: &[(&str, &[u8])]) -> Value {
    let data: serde_json::Map<String, Value> = data
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(b64(v))))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name, "namespace": "team-a", "uid": "3f1c", "resourceVersion": "41"},
        "type": "Opaque",
        "data": data,
    })
}

pub fn configmap(name: &str, data: &[(&str, &str)], binary: &[(&str, &[u8])]) -> Value {
    let d: serde_json::Map<String, Value> = data
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect();
    let b: serde_json::Map<String, Value> = binary
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(b64(v))))
        .collect();
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "team-a"},
        "data": d,
        "binaryData": b,
    })
}

/// Sets `metadata.<field>.<key> = value` on an object.
pub fn with_meta(mut obj: Value, field: &str, key: &str, value: &str) -> Value {
    obj["metadata"][field][key] = Value::String(value.to_owned());
    obj
}

/// A review request for a Secret/ConfigMap (kind read from the object) write.
pub struct Review {
    pub api_version: &'static str,
    pub uid: String,
    pub group: String,
    pub kind: String,
    pub operation: &'static str,
    pub name: String,
    pub object: Value,
    pub old_object: Value,
    pub dry_run: bool,
}

impl Review {
    pub fn new(operation: &'static str, object: Option<Value>, old_object: Option<Value>) -> Self {
        let any = object.as_ref().or(old_object.as_ref()).expect("an object");
        Self {
            api_version: V1,
            uid: "705ab4f5-6393-11e8-b7cc-42010a800002".to_owned(),
            group: String::new(),
            kind: any["kind"].as_str().unwrap().to_owned(),
            operation,
            name: any["metadata"]["name"].as_str().unwrap().to_owned(),
            object: object.unwrap_or(Value::Null),
            old_object: old_object.unwrap_or(Value::Null),
            dry_run: false,
        }
    }

    pub fn update(old: Value, new: Value) -> Self {
        Self::new("UPDATE", Some(new), Some(old))
    }

    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }

    pub fn version(mut self, v: &'static str) -> Self {
        self.api_version = v;
        self
    }

    pub fn json(&self) -> Value {
        json!({
            "apiVersion": self.api_version,
            "kind": "AdmissionReview",
            "request": {
                "uid": self.uid,
                "kind": {"group": self.group, "version": "v1", "kind": self.kind},
                "resource": {"group": self.group, "version": "v1", "resource": format!("{}s", self.kind.to_lowercase())},
                "requestKind": {"group": self.group, "version": "v1", "kind": self.kind},
                "name": self.name,
                "namespace": "team-a",
                "operation": self.operation,
                "userInfo": {"username": "alice", "groups": ["system:authenticated"]},
                "object": self.object,
                "oldObject": self.old_object,
                "dryRun": self.dry_run,
                "options": {"apiVersion": "meta.k8s.io/v1", "kind": format!("{}Options", &self.operation[..1].to_uppercase())},
            }
        })
    }

    pub fn body(&self) -> Vec<u8> {
        serde_json::to_vec(&self.json()).unwrap()
    }
}

/// A value of `len` bytes that differs by `seed`.
pub fn blob(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// An UPDATE review of a Secret holding `len` bytes, old and new different.
pub fn big_secret_update(len: usize) -> Vec<u8> {
    Review::update(
        secret("big", &[("blob", &blob(len, 1))]),
        secret("big", &[("blob", &blob(len, 2))]),
    )
    .body()
}

/// An UPDATE review of a Secret with five keys, about `total` bytes long, old and new different.
pub fn review_of_size(total: usize) -> Vec<u8> {
    let per_key = ((total.saturating_sub(1100)) / 2 * 3 / 4 / 5).max(1);
    let object = |seed: u8| {
        let data: Vec<(String, Vec<u8>)> = (0..5)
            .map(|k| (format!("key-{k}"), blob(per_key, seed + k)))
            .collect();
        let pairs: Vec<(&str, &[u8])> = data
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
            .collect();
        secret("app", &pairs)
    };
    Review::update(object(1), object(2)).body()
}

pub struct Harness {
    pub state: Arc<AppState>,
    pub triggers: TriggerReceiver,
}

pub fn harness_with(sources: SourcesOptions, limits: Limits, capacity: usize) -> Harness {
    let (queue, triggers) = trigger::queue(capacity);
    Harness {
        state: Arc::new(AppState {
            sources,
            limits,
            ..AppState::new(Arc::new(Metrics::new()), queue)
        }),
        triggers,
    }
}

pub fn harness() -> Harness {
    harness_with(SourcesOptions::default(), Limits::default(), 64)
}

impl Harness {
    pub fn router(&self) -> axum::Router {
        reloader::webhook::server::router(self.state.clone())
    }

    pub fn drain(&mut self) -> Vec<reloader::trigger::Trigger> {
        let mut out = Vec::new();
        while let Ok(t) = self.triggers.try_recv() {
            out.push(t);
        }
        out
    }
}
