//! Alerts on reloads: Slack, Microsoft Teams, Google Chat and generic webhooks.
//!
//! `event` is what happened; `sink` decides who hears of it; `payload` formats it per
//! receiver; `url` checks and names URLs without showing their secret parts; `repeat`
//! keeps a lasting failure from paging again and again.

pub mod error;
pub mod event;
pub mod payload;
pub mod repeat;
pub mod sink;
pub mod url;

pub use error::AlertError;
pub use event::{AlertEvent, AlertResult, ChangedSource};
pub use sink::{ConfigSinks, Route, SinkKind, SinkUrl};
