//! reloader: rolls Kubernetes workloads when a Secret or ConfigMap they depend on changes.
//!
//! Pure decisions (hashing, policy, references, planning, patch building, validation) are
//! plain functions over plain data; only the webhook server and the reload engine touch the
//! network. See `docs/` and DESIGN notes in the README.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod cmd;
#[cfg(test)]
mod layers;
pub mod metrics;
pub mod reload;
pub mod trigger;
pub mod webhook;
