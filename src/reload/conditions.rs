//! ReloaderConfig status conditions: the `Ready` condition and how a new condition
//! replaces an old one. Shared by the first status (`first_status`) and the reload
//! status (`status`), so neither imports the other for it.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

/// The condition telling whether every target exists and could be reloaded.
pub const READY: &str = "Ready";
/// A target's `lastError` when it does not exist.
pub const NOT_FOUND: &str = "not found";

pub(crate) fn condition(
    type_: &str,
    ok: bool,
    reason: &str,
    message: String,
    now: Timestamp,
    generation: Option<i64>,
) -> Condition {
    Condition {
        type_: type_.into(),
        status: if ok { "True" } else { "False" }.into(),
        reason: reason.into(),
        message,
        last_transition_time: Time(now),
        observed_generation: generation,
    }
}

pub(crate) fn set_condition(conditions: &mut Vec<Condition>, new: Condition) {
    match conditions.iter_mut().find(|c| c.type_ == new.type_) {
        // The transition time moves only when the status does.
        Some(old) if old.status == new.status => {
            old.reason = new.reason;
            old.message = new.message;
            old.observed_generation = new.observed_generation;
        }
        Some(old) => *old = new,
        None => conditions.push(new),
    }
}
