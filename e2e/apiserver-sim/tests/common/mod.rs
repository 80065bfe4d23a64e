//! Shared setup for the simulator's integration tests.
#![allow(dead_code)]

use apiserver_sim::testing::{SimOptions, SimProcess};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, PostParams};
use serde_json::json;

pub fn options() -> SimOptions {
    SimOptions {
        binary: Some(env!("CARGO_BIN_EXE_apiserver-sim").into()),
        ..SimOptions::default()
    }
}

pub async fn start() -> (SimProcess, kube::Client) {
    start_with(options()).await
}

pub async fn start_with(options: SimOptions) -> (SimProcess, kube::Client) {
    let sim = SimProcess::start_with(options).expect("simulator starts");
    let client = sim.client().await.expect("client from kubeconfig");
    (sim, client)
}

pub async fn create_namespace(client: &kube::Client, name: &str) {
    let api: Api<Namespace> = Api::all(client.clone());
    let namespace = serde_json::from_value(json!({"metadata": {"name": name}})).expect("namespace");
    api.create(&PostParams::default(), &namespace)
        .await
        .expect("namespace created");
}

/// The HTTP status of a kube error, or panics with the error.
pub fn status_code(error: kube::Error) -> u16 {
    match error {
        kube::Error::Api(status) => status.code,
        other => panic!("expected an API error, got {other:?}"),
    }
}

pub fn api_error(error: kube::Error) -> (u16, String, String) {
    match error {
        kube::Error::Api(status) => (status.code, status.reason, status.message),
        other => panic!("expected an API error, got {other:?}"),
    }
}
