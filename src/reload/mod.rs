//! The reload engine: from an admitted change to rolled workloads, exactly once.
//!
//! `cache` keeps the follower index fed from watches of the workloads and ReloaderConfigs;
//! `source` reads a changed source until it shows the admitted data; `followers` turns a
//! source into the records its followers want; `queue` coalesces them per workload, within
//! the window `coalesce` chooses;
//! `apply` reconciles one workload; `engine` is the loop tying them together; `events`,
//! `status` and `alerting` (for `crate::alerts`) report what happened, and `observer`
//! (deciding with `observe`) gives a new or changed ReloaderConfig its status before any
//! reload.

pub mod alerting;
pub mod apply;
pub mod cache;
pub mod coalesce;
pub mod discovery;
pub mod engine;
pub mod events;
pub mod followers;
pub mod labels;
pub mod observe;
pub mod observer;
pub mod queue;
pub mod source;
pub mod start;
pub mod status;

pub use engine::{Engine, EngineOptions};
