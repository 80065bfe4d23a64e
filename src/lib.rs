//! reloader: rolls Kubernetes workloads when a Secret or ConfigMap they depend on changes.
//!
//! Pure decisions (hashing, policy, references, planning, patch building, validation) are
//! plain functions over plain data; only the webhook server and the reload engine touch the
//! network. See `docs/` and DESIGN notes in the README.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod certs;
pub mod cli;
pub mod crd;
pub mod duration;
pub mod dynamic;
pub mod existence;
pub mod hash;
pub mod index;
pub mod leader;
pub mod metrics;
pub mod patch;
pub mod planner;
pub mod policy;
pub mod refs;
pub mod reload;
pub mod resync;
pub mod serve;
pub mod source;
pub mod telemetry;
pub mod tls;
pub mod trigger;
pub mod validation;
pub mod webhook;
pub mod webhook_config;
pub mod workload;
