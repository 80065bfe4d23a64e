//! The reload engine: from an admitted change to rolled workloads, exactly once.
//!
//! `cache` keeps the follower index fed from watches of the workloads and ReloaderConfigs
//! (and `csi`, with `--enable-csi-integration`, turns the CSI driver's rotations into changes);
//! `source` reads a changed source until it shows the admitted data; `followers` turns a
//! source into the records its followers want; `queue` coalesces them per workload, within
//! the window `coalesce` chooses;
//! `apply` reconciles one workload; `engine` is the loop tying them together; `events`,
//! `status` and `alerting` (for `crate::alerts`) report what happened, and `observer`
//! (deciding with `observe`) gives a new or changed ReloaderConfig its status before any
//! reload.

pub mod alerting;
pub mod apply;
pub mod baseline;
pub mod cache;
pub mod coalesce;
pub mod conditions;
pub mod csi;
pub mod discovery;
pub mod engine;
pub mod events;
pub mod existence;
pub mod first_status;
pub mod followers;
pub mod hash_key;
pub mod labels;
pub mod leader;
pub mod notify_only;
pub mod queue;
pub mod recreate_job;
pub mod resync;
pub mod retry;
pub mod scope;
pub mod source_read;
pub mod start;
pub mod status;
pub mod status_scan;
pub mod token_bucket;

pub use engine::{Engine, EngineOptions};
