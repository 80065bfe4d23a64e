//! Kubernetes Events on the workloads we roll, through kube-runtime's recorder:
//! `Normal Reloaded` naming the changed sources with short hashes, `Warning ReloadFail`
//! with the error; and on a ReloaderConfig, `Warning TargetRefused` naming its targets in
//! another namespace. Hashes and names only; never data.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::Client;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};

use crate::reload::cache::api_resource;
use reloader_core::reconcile::Change;
use reloader_core::workload::WorkloadRef;

/// Events are at most 1 kB; long lists of sources are cut.
const MAX_NOTE: usize = 1000;

/// The note of a `Reloaded` event.
pub fn reloaded_note(changes: &[Change]) -> String {
    let mut note = format!(
        "Reloaded for {}",
        changes
            .iter()
            .map(Change::describe)
            .collect::<Vec<_>>()
            .join(", ")
    );
    truncate(&mut note);
    note
}

fn truncate(note: &mut String) {
    if note.len() > MAX_NOTE {
        let mut at = MAX_NOTE - 3;
        while !note.is_char_boundary(at) {
            at -= 1;
        }
        note.truncate(at);
        note.push('…');
    }
}

pub fn reference(workload: &WorkloadRef) -> ObjectReference {
    let resource = api_resource(workload.kind);
    ObjectReference {
        api_version: Some(resource.api_version),
        kind: Some(resource.kind),
        name: Some(workload.name.clone()),
        namespace: Some(workload.namespace.clone()),
        ..ObjectReference::default()
    }
}

/// Publishes events; failures are logged, never retried (an Event is best effort).
#[derive(Clone)]
pub struct Events {
    recorder: Recorder,
}

impl Events {
    pub fn new(client: Client, instance: Option<String>) -> Self {
        let reporter = Reporter {
            controller: "reloader".into(),
            instance,
        };
        Self {
            recorder: Recorder::new(client, reporter),
        }
    }

    pub async fn reloaded(&self, workload: &WorkloadRef, changes: &[Change]) {
        self.publish(
            workload,
            EventType::Normal,
            "Reloaded",
            reloaded_note(changes),
        )
        .await;
    }

    pub async fn failed(&self, workload: &WorkloadRef, error: &str) {
        let mut note = format!("Reload failed: {error}");
        truncate(&mut note);
        self.publish(workload, EventType::Warning, "ReloadFail", note)
            .await;
    }

    /// `Warning TargetRefused` on a ReloaderConfig naming a target in another namespace
    /// (`why` names the targets, never data).
    pub async fn refused(&self, config: &ObjectReference, why: &str) {
        let mut note = why.to_owned();
        truncate(&mut note);
        let event = Event {
            type_: EventType::Warning,
            reason: "TargetRefused".into(),
            note: Some(note),
            action: "Reload".into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&event, config).await {
            tracing::warn!(config = ?config.name, error = %e, "cannot publish event");
        }
    }

    async fn publish(&self, workload: &WorkloadRef, type_: EventType, reason: &str, note: String) {
        let event = Event {
            type_,
            reason: reason.into(),
            note: Some(note),
            action: "Reload".into(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&event, &reference(workload)).await {
            tracing::warn!(%workload, error = %e, "cannot publish event");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::Secret;
    use reloader_core::hash::hash_secret;
    use reloader_core::source::{SourceKind, SourceRef};

    #[test]
    fn the_note_names_each_source_with_short_hashes() {
        let new = hash_secret(&Secret::default());
        let changes = [Change {
            source: SourceRef::new("ns", SourceKind::Secret, "creds"),
            old: Some("0123456789abcdef".into()),
            new,
        }];
        assert_eq!(
            reloaded_note(&changes),
            format!("Reloaded for Secret creds: 0123456789ab→{}", new.short())
        );
    }

    #[test]
    fn a_long_note_is_cut_to_the_event_limit() {
        let new = hash_secret(&Secret::default());
        let changes: Vec<Change> = (0..100)
            .map(|i| Change {
                source: SourceRef::new("ns", SourceKind::ConfigMap, format!("config-{i}")),
                old: None,
                new,
            })
            .collect();
        assert!(reloaded_note(&changes).len() <= MAX_NOTE);
    }
}
