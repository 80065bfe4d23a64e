//! A Kubernetes API server simulator for end-to-end tests: real HTTPS, real
//! AdmissionReview calls, enough discovery for kubectl and kube-rs.
#![forbid(unsafe_code)]

pub mod admission;
pub mod api;
pub mod app;
pub mod bundle_verifier;
pub mod cert_validity;
pub mod cli;
pub mod crd;
pub mod discovery;
pub mod events;
pub mod generation;
pub mod hooks;
pub mod http;
pub mod kubeconfig;
pub mod object;
pub mod openapi;
pub mod patch;
pub mod presentation;
pub mod protobuf;
pub mod registry;
pub mod resources;
pub mod rollouts;
pub mod run;
pub mod selectors;
pub mod status;
pub mod store;
pub mod table;
pub mod testing;
pub mod tls;
pub mod views;
pub mod watch;
pub mod webhook_server;
