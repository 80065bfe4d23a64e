//! Scenarios through the apiserver simulator, the real `reloader` binary and real kubectl.

#[path = "../support/mod.rs"]
mod support;

mod alerts;
mod baseline;
mod basics;
mod coalescing;
mod exactly_once;
mod faults;
mod kinds;
mod latency;
mod leader;
mod matrix;
mod optional_kinds;
mod original;
mod scope;
mod status;
