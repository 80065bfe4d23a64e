//! Watch streams: newline-delimited JSON events, replay from a resourceVersion,
//! bookmarks, timeouts, selector transitions and 410 for expired versions.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use crate::http::response::Body;
use crate::presentation::Presentation;
use crate::resources::ResourceType;
use crate::selectors::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::store::{EventType, Store, StoreError, StoredEvent, WatchStart};

/// Where a watch starts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StartAt {
    /// Synthetic ADDED events for the current state, then changes (unset or "0").
    CurrentState,
    /// Like `CurrentState`, then a bookmark marking the end of initial events.
    InitialEventsThenBookmark,
    /// Changes strictly after this version.
    After(u64),
}

pub struct WatchRequest {
    pub resource: ResourceType,
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    pub start: StartAt,
    pub bookmarks: bool,
    pub bookmark_interval: Duration,
    pub timeout: Duration,
    pub presentation: Presentation,
}

impl WatchRequest {
    fn selects(&self, object: &Value) -> bool {
        let namespace_ok = self
            .namespace
            .as_deref()
            .is_none_or(|ns| object["metadata"]["namespace"].as_str() == Some(ns));
        namespace_ok && self.labels.matches_object(object) && self.fields.matches_object(object)
    }

    /// `selects` for an object in its stored shape.
    fn selects_stored(&self, object: &Value) -> bool {
        self.selects(&crate::views::served(&self.resource, object.clone()))
    }

    fn present(&self, object: &Value) -> Value {
        let mut object = crate::views::served(&self.resource, object.clone());
        object["apiVersion"] = json!(self.resource.api_version());
        self.presentation.one(&self.resource, object)
    }

    /// The event this watcher should see for a stored change, if any.
    fn translate(&self, event: &StoredEvent) -> Option<(&'static str, Value)> {
        if event.storage_key != self.resource.storage_key() {
            return None;
        }
        let now = self.selects_stored(&event.object);
        let before = event
            .previous
            .as_ref()
            .is_some_and(|p| self.selects_stored(p));
        let kind = match (event.event_type, before, now) {
            (EventType::Added, _, true) => "ADDED",
            (EventType::Deleted, true, _) => "DELETED",
            (EventType::Modified, true, true) => "MODIFIED",
            (EventType::Modified, false, true) => "ADDED",
            (EventType::Modified, true, false) => "DELETED",
            _ => return None,
        };
        Some((kind, self.present(&event.object)))
    }

    fn bookmark(&self, resource_version: u64, initial_events_end: bool) -> Value {
        let mut metadata = json!({"resourceVersion": resource_version.to_string()});
        if initial_events_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        json!({"kind": self.resource.kind, "apiVersion": self.resource.api_version(), "metadata": metadata})
    }
}

fn line(event_type: &str, object: Value) -> Bytes {
    let mut bytes =
        serde_json::to_vec(&json!({"type": event_type, "object": object})).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// Validates the request and starts streaming; too-old versions become a single
/// ERROR event with a 410 Status, as the watch cache reports them.
pub fn start(store: &Store, request: WatchRequest) -> Result<Body, ApiError> {
    let (sender, receiver) = mpsc::channel::<Bytes>(256);
    let mut preamble: Vec<Bytes> = Vec::new();
    let storage_key = request.resource.storage_key();
    let outcome = match request.start {
        StartAt::CurrentState | StartAt::InitialEventsThenBookmark => {
            let (items, rv, start) =
                store.snapshot_and_watch(&storage_key, request.namespace.as_deref());
            for item in items.iter().filter(|i| request.selects_stored(i)) {
                preamble.push(line("ADDED", request.present(item)));
            }
            if request.start == StartAt::InitialEventsThenBookmark {
                preamble.push(line("BOOKMARK", request.bookmark(rv, true)));
            }
            Some((start, rv))
        }
        StartAt::After(since) => match store.watch_from(since) {
            Ok(start) => {
                let mut last = since;
                for event in &start.backlog {
                    if let Some((kind, object)) = request.translate(event) {
                        preamble.push(line(kind, object));
                    }
                    last = last.max(event.resource_version);
                }
                Some((start, last))
            }
            Err(StoreError::TooOld { requested, oldest }) => {
                let status =
                    ApiError::Gone(format!("too old resource version: {requested} ({oldest})"))
                        .to_status();
                preamble.push(line("ERROR", status));
                None
            }
            Err(other) => return Err(ApiError::InternalError(other.to_string())),
        },
    };
    tokio::spawn(async move {
        for bytes in preamble {
            if sender.send(bytes).await.is_err() {
                return;
            }
        }
        if let Some((start, last)) = outcome {
            follow(request, start, last, sender).await;
        }
    });
    let frames = futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|bytes| {
            (
                Ok::<_, std::convert::Infallible>(Frame::data(bytes)),
                receiver,
            )
        })
    });
    Ok(StreamBody::new(frames).boxed_unsync())
}

/// Streams live changes until timeout, client disconnect or a drop-watches hook.
async fn follow(
    request: WatchRequest,
    start: WatchStart,
    mut last_seen: u64,
    sender: mpsc::Sender<Bytes>,
) {
    let WatchStart {
        mut live,
        mut dropped,
        ..
    } = start;
    let deadline = tokio::time::sleep(request.timeout);
    tokio::pin!(deadline);
    let mut ticker = tokio::time::interval(request.bookmark_interval);
    ticker.reset();
    loop {
        let outgoing = tokio::select! {
            _ = &mut deadline => return,
            _ = dropped.changed() => return,
            _ = sender.closed() => return,
            received = live.recv() => match received {
                Ok(event) => {
                    if event.resource_version <= last_seen {
                        continue;
                    }
                    last_seen = event.resource_version;
                    match request.translate(&event) {
                        Some((kind, object)) => line(kind, object),
                        None => continue,
                    }
                }
                // A watcher this far behind is closed; the client resumes from its last version.
                Err(broadcast::error::RecvError::Lagged(_)) | Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = ticker.tick(), if request.bookmarks => line("BOOKMARK", request.bookmark(last_seen, false)),
        };
        if sender.send(outgoing).await.is_err() {
            return;
        }
    }
}

/// Shared by list and watch: parses the selectors of a request.
pub fn parse_selectors(
    resource: &ResourceType,
    label: Option<&str>,
    field: Option<&str>,
) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(label.unwrap_or_default())
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let extra = crate::selectors::extra_field_labels(&resource.group, &resource.plural);
    let fields = FieldSelector::parse(field.unwrap_or_default(), extra)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok((labels, fields))
}
