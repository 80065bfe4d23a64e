//! The simulator's shared state: storage, served types, admission and test hooks.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;

use crate::admission::AdmissionChain;
use crate::hooks::Hooks;
use crate::object::{new_uid, now_timestamp};
use crate::registry::Registry;
use crate::store::Store;

pub struct Settings {
    pub token: String,
    pub server_address: String,
    pub watch_window: usize,
    pub bookmark_interval: Duration,
    pub service_endpoints: HashMap<String, String>,
    pub simulate_rollouts: bool,
}

pub struct App {
    pub store: Store,
    pub registry: Registry,
    pub hooks: Hooks,
    pub admission: AdmissionChain,
    pub token: String,
    pub server_address: String,
    pub bookmark_interval: Duration,
    pub simulate_rollouts: bool,
}

/// Namespaces every cluster starts with.
const INITIAL_NAMESPACES: &[&str] = &["default", "kube-system", "kube-public", "kube-node-lease"];

impl App {
    pub fn new(settings: Settings) -> Self {
        let app = App {
            store: Store::new(settings.watch_window),
            registry: Registry::new(),
            hooks: Hooks::default(),
            admission: AdmissionChain {
                service_endpoints: settings.service_endpoints,
            },
            token: settings.token,
            server_address: settings.server_address,
            bookmark_interval: settings.bookmark_interval,
            simulate_rollouts: settings.simulate_rollouts,
        };
        for name in INITIAL_NAMESPACES {
            let namespace = json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": name,
                    "uid": new_uid(),
                    "creationTimestamp": now_timestamp(),
                    "labels": {"kubernetes.io/metadata.name": name}
                },
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"}
            });
            let _ = app.store.create("/namespaces", "", namespace);
        }
        app
    }
}
