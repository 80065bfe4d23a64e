//! In-memory object storage with one global, monotonically increasing resourceVersion
//! and a bounded history of changes that watches replay from.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};
use tokio::sync::{broadcast, watch};

use crate::object::set_meta;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Added,
    Modified,
    Deleted,
}

impl EventType {
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Added => "ADDED",
            EventType::Modified => "MODIFIED",
            EventType::Deleted => "DELETED",
        }
    }
}

/// One committed change.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub resource_version: u64,
    pub event_type: EventType,
    pub storage_key: String,
    pub object: Value,
    /// The object before the change, so selector-filtered watches can turn
    /// "moved out of the selection" into a DELETED.
    pub previous: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("already exists")]
    AlreadyExists,
    #[error("resource version conflict")]
    Conflict,
    #[error("too old resource version: {requested} ({oldest})")]
    TooOld { requested: u64, oldest: u64 },
}

type ObjectKey = (String, String, String);

struct State {
    resource_version: u64,
    objects: BTreeMap<ObjectKey, Value>,
    history: VecDeque<Arc<StoredEvent>>,
    /// Watches must start at or after this version; older ones get 410 Gone.
    compacted_at: u64,
}

pub struct Store {
    state: Mutex<State>,
    events: broadcast::Sender<Arc<StoredEvent>>,
    window: usize,
    drop_epoch: watch::Sender<u64>,
}

/// What a new watch starts with: the replayed backlog, then the live feed.
pub struct WatchStart {
    pub backlog: Vec<Arc<StoredEvent>>,
    pub live: broadcast::Receiver<Arc<StoredEvent>>,
    pub dropped: watch::Receiver<u64>,
}

fn key(storage_key: &str, namespace: &str, name: &str) -> ObjectKey {
    (
        storage_key.to_string(),
        namespace.to_string(),
        name.to_string(),
    )
}

pub fn resource_version_of(object: &Value) -> Option<u64> {
    object["metadata"]["resourceVersion"]
        .as_str()
        .and_then(|rv| rv.parse().ok())
}

impl Store {
    /// `window` is how many past changes watches can resume from.
    pub fn new(window: usize) -> Self {
        let (events, _) = broadcast::channel(8192);
        let (drop_epoch, _) = watch::channel(0);
        Store {
            state: Mutex::new(State {
                resource_version: 0,
                objects: BTreeMap::new(),
                history: VecDeque::new(),
                compacted_at: 0,
            }),
            events,
            window: window.max(1),
            drop_epoch,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn current_resource_version(&self) -> u64 {
        self.lock().resource_version
    }

    pub fn get(&self, storage_key: &str, namespace: &str, name: &str) -> Option<Value> {
        self.lock()
            .objects
            .get(&key(storage_key, namespace, name))
            .cloned()
    }

    /// Objects of one resource (in one namespace, or all), in key order, with the
    /// resourceVersion the list is consistent with.
    pub fn list(&self, storage_key: &str, namespace: Option<&str>) -> (Vec<Value>, u64) {
        let state = self.lock();
        let items = state
            .objects
            .iter()
            .filter(|((k, ns, _), _)| k == storage_key && namespace.is_none_or(|n| n == ns))
            .map(|(_, v)| v.clone())
            .collect();
        (items, state.resource_version)
    }

    pub fn create(
        &self,
        storage_key: &str,
        namespace: &str,
        mut object: Value,
    ) -> Result<Value, StoreError> {
        let mut state = self.lock();
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let k = key(storage_key, namespace, &name);
        if state.objects.contains_key(&k) {
            return Err(StoreError::AlreadyExists);
        }
        let rv = self.commit_version(&mut state, &mut object);
        state.objects.insert(k, object.clone());
        self.record(&mut state, rv, EventType::Added, storage_key, &object, None);
        Ok(object)
    }

    /// Replaces an object if its stored version is still `expected_version` (when given).
    pub fn update(
        &self,
        storage_key: &str,
        namespace: &str,
        mut object: Value,
        expected_version: Option<u64>,
    ) -> Result<Value, StoreError> {
        let mut state = self.lock();
        let name = object["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let k = key(storage_key, namespace, &name);
        let previous = state.objects.get(&k).cloned().ok_or(StoreError::NotFound)?;
        if expected_version.is_some_and(|v| Some(v) != resource_version_of(&previous)) {
            return Err(StoreError::Conflict);
        }
        let rv = self.commit_version(&mut state, &mut object);
        state.objects.insert(k, object.clone());
        self.record(
            &mut state,
            rv,
            EventType::Modified,
            storage_key,
            &object,
            Some(previous),
        );
        Ok(object)
    }

    /// Removes an object; the returned copy carries the deletion's resourceVersion.
    pub fn delete(
        &self,
        storage_key: &str,
        namespace: &str,
        name: &str,
        expected_version: Option<u64>,
    ) -> Result<Value, StoreError> {
        let mut state = self.lock();
        let k = key(storage_key, namespace, name);
        let current = state.objects.get(&k).cloned().ok_or(StoreError::NotFound)?;
        if expected_version.is_some_and(|v| Some(v) != resource_version_of(&current)) {
            return Err(StoreError::Conflict);
        }
        state.objects.remove(&k);
        let mut object = current.clone();
        let rv = self.commit_version(&mut state, &mut object);
        self.record(
            &mut state,
            rv,
            EventType::Deleted,
            storage_key,
            &object,
            Some(current),
        );
        Ok(object)
    }

    /// Every stored object in a namespace, as (storage key, name).
    pub fn keys_in_namespace(&self, namespace: &str) -> Vec<(String, String)> {
        self.lock()
            .objects
            .keys()
            .filter(|(_, ns, _)| ns == namespace)
            .map(|(k, _, name)| (k.clone(), name.clone()))
            .collect()
    }

    fn commit_version(&self, state: &mut State, object: &mut Value) -> u64 {
        state.resource_version += 1;
        set_meta(
            object,
            "resourceVersion",
            json!(state.resource_version.to_string()),
        );
        state.resource_version
    }

    fn record(
        &self,
        state: &mut State,
        resource_version: u64,
        event_type: EventType,
        storage_key: &str,
        object: &Value,
        previous: Option<Value>,
    ) {
        let event = Arc::new(StoredEvent {
            resource_version,
            event_type,
            storage_key: storage_key.to_string(),
            object: object.clone(),
            previous,
        });
        state.history.push_back(event.clone());
        while state.history.len() > self.window {
            if let Some(old) = state.history.pop_front() {
                state.compacted_at = old.resource_version;
            }
        }
        // Sent under the lock so subscribers see events in version order.
        let _ = self.events.send(event);
    }

    /// Starts a watch on all changes after `since`; fails with `TooOld` when the
    /// history no longer reaches back that far.
    pub fn watch_from(&self, since: u64) -> Result<WatchStart, StoreError> {
        let state = self.lock();
        if since < state.compacted_at {
            return Err(StoreError::TooOld {
                requested: since,
                oldest: state.compacted_at + 1,
            });
        }
        let backlog = state
            .history
            .iter()
            .filter(|e| e.resource_version > since)
            .cloned()
            .collect();
        Ok(WatchStart {
            backlog,
            live: self.events.subscribe(),
            dropped: self.drop_epoch.subscribe(),
        })
    }

    /// A consistent snapshot of one resource plus a live feed from that point.
    pub fn snapshot_and_watch(
        &self,
        storage_key: &str,
        namespace: Option<&str>,
    ) -> (Vec<Value>, u64, WatchStart) {
        let state = self.lock();
        let items = state
            .objects
            .iter()
            .filter(|((k, ns, _), _)| k == storage_key && namespace.is_none_or(|n| n == ns))
            .map(|(_, v)| v.clone())
            .collect();
        let start = WatchStart {
            backlog: vec![],
            live: self.events.subscribe(),
            dropped: self.drop_epoch.subscribe(),
        };
        (items, state.resource_version, start)
    }

    /// Forgets all history: every watch or continue token from before now is too old.
    pub fn compact(&self) -> u64 {
        let mut state = self.lock();
        state.history.clear();
        state.compacted_at = state.resource_version;
        state.resource_version
    }

    pub fn compacted_at(&self) -> u64 {
        self.lock().compacted_at
    }

    /// Ends every open watch stream; returns how many were open.
    pub fn drop_watches(&self) -> usize {
        let open = self.drop_epoch.receiver_count();
        self.drop_epoch.send_modify(|epoch| *epoch += 1);
        open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cm(name: &str) -> Value {
        json!({"metadata": {"name": name, "namespace": "ns"}})
    }

    #[test]
    fn versions_increase_globally() {
        let store = Store::new(10);
        let a = store
            .create("/configmaps", "ns", cm("a"))
            .expect("create a");
        let b = store.create("/secrets", "ns", cm("b")).expect("create b");
        assert_eq!(resource_version_of(&a), Some(1));
        assert_eq!(resource_version_of(&b), Some(2));
        assert_eq!(store.current_resource_version(), 2);
    }

    #[test]
    fn duplicate_create_fails() {
        let store = Store::new(10);
        store.create("/configmaps", "ns", cm("a")).expect("first");
        assert_eq!(
            store.create("/configmaps", "ns", cm("a")),
            Err(StoreError::AlreadyExists)
        );
    }

    #[test]
    fn stale_update_conflicts() {
        let store = Store::new(10);
        store.create("/configmaps", "ns", cm("a")).expect("create");
        store
            .update("/configmaps", "ns", cm("a"), Some(1))
            .expect("fresh update");
        assert_eq!(
            store.update("/configmaps", "ns", cm("a"), Some(1)),
            Err(StoreError::Conflict)
        );
    }

    #[test]
    fn watch_replays_only_later_events_and_expires_with_window() {
        let store = Store::new(2);
        for name in ["a", "b", "c"] {
            store.create("/configmaps", "ns", cm(name)).expect("create");
        }
        let start = store.watch_from(1).expect("within window");
        let versions: Vec<u64> = start.backlog.iter().map(|e| e.resource_version).collect();
        assert_eq!(versions, vec![2, 3]);
        assert!(matches!(
            store.watch_from(0),
            Err(StoreError::TooOld { .. })
        ));
    }

    #[test]
    fn compaction_expires_everything_before_now() {
        let store = Store::new(100);
        store.create("/configmaps", "ns", cm("a")).expect("create");
        store.create("/configmaps", "ns", cm("b")).expect("create");
        assert_eq!(store.compact(), 2);
        assert!(store.watch_from(1).is_err());
        assert!(store.watch_from(2).is_ok());
    }

    #[test]
    fn delete_event_carries_new_version() {
        let store = Store::new(10);
        store.create("/configmaps", "ns", cm("a")).expect("create");
        let deleted = store
            .delete("/configmaps", "ns", "a", None)
            .expect("delete");
        assert_eq!(resource_version_of(&deleted), Some(2));
        assert!(store.get("/configmaps", "ns", "a").is_none());
    }
}
