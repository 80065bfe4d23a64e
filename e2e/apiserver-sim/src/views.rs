//! Resources whose stored shape differs from the served one (events.k8s.io/v1 Events
//! are core/v1 Events in storage): the conversions at the storage boundary. For every
//! other resource both directions are the identity.

use serde_json::Value;

use crate::events;
use crate::resources::ResourceType;

/// A stored object as `resource` serves it.
pub fn served(resource: &ResourceType, stored: Value) -> Value {
    match (resource.group.as_str(), resource.plural.as_str()) {
        ("events.k8s.io", "events") => events::to_events_v1(stored),
        ("", "events") => events::core_view(stored),
        _ => stored,
    }
}

/// An object of `resource` in its stored shape.
pub fn stored(resource: &ResourceType, served: Value) -> Value {
    if events::is_events_view(&resource.group, &resource.plural) {
        events::to_core(served)
    } else {
        served
    }
}
