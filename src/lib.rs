//! reloader: rolls Kubernetes workloads when a Secret or ConfigMap they depend on changes.
//!
//! The pure decisions (hashing, policy, references, planning, patch building, validation)
//! live in the `reloader-core` crate (`src/core/`) as plain functions over plain data. This
//! crate holds the edges that touch the network (`webhook`, `reload`, `alerts`) and the
//! commands (`cmd`). The map is `docs/architecture.md`.
#![forbid(unsafe_code)]

pub mod alerts;
pub mod cmd;
#[cfg(test)]
mod layers;
pub mod metrics;
pub mod reload;
pub mod trigger;
pub mod webhook;
