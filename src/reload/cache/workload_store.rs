//! What the caches keep of each workload besides its entry in the follower index: its
//! identity and the one metadata value the engine reads later (the coalescing-window
//! annotation). Everything else of the object is read once, when its event is indexed, and
//! dropped, so a cached workload costs its index entry and a few dozen bytes here, not a
//! JSON tree (a kube-runtime reflector store would keep every object whole).
//!
//! It follows a watch the way a reflector store does: a listing (`Init` … `InitDone`)
//! replaces the whole store at its end, and the store is ready once one listing is done
//! (or once its writer is gone, for an API that is not served).

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use kube::api::{ApiResource, DynamicObject, ObjectMeta};
use kube::runtime::watcher::Event;
use tokio::sync::watch;

use crate::reload::cache::namespaced::Holding;
use reloader_core::keys::COALESCE_WINDOW;

/// What is kept of one workload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Kept {
    coalesce_window: Option<Box<str>>,
}

impl Kept {
    fn of(meta: &ObjectMeta) -> Kept {
        Kept {
            coalesce_window: meta
                .annotations
                .as_ref()
                .and_then(|a| a.get(COALESCE_WINDOW))
                .map(|v| v.as_str().into()),
        }
    }
}

type Objects = HashMap<(String, String), Kept>;

/// The read side, cheap to clone.
#[derive(Clone, Debug)]
pub struct WorkloadStore {
    objects: Arc<RwLock<Objects>>,
    ready: watch::Receiver<bool>,
    resource: Arc<ApiResource>,
}

/// The write side, owned by the cache task; dropping it makes the store ready for good.
#[derive(Debug)]
pub struct StoreWriter {
    objects: Arc<RwLock<Objects>>,
    ready: watch::Sender<bool>,
    /// A listing in progress.
    listing: Option<Objects>,
}

/// A new, empty store of objects of `resource`, not ready yet.
pub fn store(resource: ApiResource) -> (WorkloadStore, StoreWriter) {
    let objects = Arc::new(RwLock::new(Objects::new()));
    let (tx, rx) = watch::channel(false);
    (
        WorkloadStore {
            objects: objects.clone(),
            ready: rx,
            resource: Arc::new(resource),
        },
        StoreWriter {
            objects,
            ready: tx,
            listing: None,
        },
    )
}

fn key(meta: &ObjectMeta) -> Option<(String, String)> {
    Some((meta.namespace.clone()?, meta.name.clone()?))
}

impl StoreWriter {
    /// Applies one watcher event, as a reflector store would.
    pub fn apply(&mut self, event: &Event<DynamicObject>) {
        let mut objects = self.objects.write().unwrap_or_else(|e| e.into_inner());
        match event {
            Event::Apply(o) => {
                if let Some(k) = key(&o.metadata) {
                    objects.insert(k, Kept::of(&o.metadata));
                }
            }
            Event::Delete(o) => {
                if let Some(k) = key(&o.metadata) {
                    objects.remove(&k);
                }
            }
            Event::Init => self.listing = Some(Objects::new()),
            Event::InitApply(o) => {
                if let (Some(k), Some(listing)) = (key(&o.metadata), self.listing.as_mut()) {
                    listing.insert(k, Kept::of(&o.metadata));
                }
            }
            Event::InitDone => {
                if let Some(listing) = self.listing.take() {
                    *objects = listing;
                }
                drop(objects);
                self.ready.send_replace(true);
            }
        }
    }
}

impl WorkloadStore {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Objects> {
        self.objects.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether one listing is done (or the writer is gone).
    pub fn is_ready(&self) -> bool {
        *self.ready.borrow() || self.ready.has_changed().is_err()
    }

    /// Waits until one listing is done, or the writer is gone.
    pub async fn wait_until_ready(&self) {
        let mut ready = self.ready.clone();
        let _ = ready.wait_for(|r| *r).await;
    }

    pub fn contains(&self, namespace: &str, name: &str) -> bool {
        self.read()
            .contains_key(&(namespace.to_owned(), name.to_owned()))
    }

    /// The `reloader.stakater.com/coalesce-window` annotation of a cached workload.
    pub fn coalesce_window(&self, namespace: &str, name: &str) -> Option<String> {
        self.read()
            .get(&(namespace.to_owned(), name.to_owned()))?
            .coalesce_window
            .as_deref()
            .map(str::to_owned)
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }
}

impl Holding<DynamicObject> for WorkloadStore {
    /// The objects of `namespace`, as bare identities (`namespaced::merge` turns those a
    /// relist no longer lists into deletions, and only their identity is read).
    fn held_in(&self, namespace: &str) -> Vec<DynamicObject> {
        self.read()
            .keys()
            .filter(|(ns, _)| ns == namespace)
            .map(|(ns, name)| DynamicObject::new(name, &self.resource).within(ns))
            .collect()
    }
}

#[cfg(test)]
mod tests;
