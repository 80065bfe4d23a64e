//! Scenarios with the real `reloader` binary and real kubectl, on the real control plane
//! (the simulator where a fault must be injected; `RELOADER_E2E_BACKEND=sim` for all).

#[path = "../cluster_harness/mod.rs"]
mod cluster_harness;

mod alerts;
mod baseline;
mod basics;
mod coalescing;
mod csi;
mod dashboard;
mod exactly_once;
mod faults;
mod from_stakater;
mod hash_key;
mod jobs;
mod kinds;
mod latency;
mod leader;
mod matrix;
mod no_secrets_in_logs;
mod optional_kinds;
mod original;
mod refused_targets;
mod scope;
mod soak;
mod stakater_modes;
mod status;
mod warnings;
