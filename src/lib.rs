//! reloader: rolls Kubernetes workloads when a Secret or ConfigMap they depend on changes.
//!
//! Pure decisions (hashing, policy, references, planning, patch building, validation) are
//! plain functions over plain data; only the webhook server and the reload engine touch the
//! network. See `docs/` and DESIGN notes in the README.
#![forbid(unsafe_code)]

pub mod cli;
pub mod crd;
pub mod duration;
pub mod hash;
pub mod index;
pub mod patch;
pub mod planner;
pub mod policy;
pub mod refs;
pub mod source;
pub mod workload;
