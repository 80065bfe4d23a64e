//! reloader's pure decisions: plain functions over plain data, no network, no runtime.
//!
//! A crate of its own so that the promise is kept by the compiler: nothing here depends on
//! tokio or on kube's client. The webhook, the reload engine and the alert dispatcher in
//! the `reloader` crate are the edges that feed these functions and act on their answers.
#![forbid(unsafe_code)]

pub mod baseline;
pub mod crd;
pub mod csi;
pub mod duration;
pub mod existence;
pub mod hash;
pub mod index;
pub mod keys;
pub mod patch;
pub mod planner;
pub mod pod_template;
pub mod policy;
pub mod reconcile;
pub mod recreate;
pub mod refs;
pub mod run_now;
pub mod source;
pub mod validation;
pub mod workload;
