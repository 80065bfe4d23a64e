//! `--enable-csi-integration`: the Secrets Store CSI driver's SecretProviderClassPodStatuses
//! as triggers, and SecretProviderClasses as sources (see `reloader_core::csi`).
//!
//! Reading a class as stored now is `source_read`'s, as for any source. Unlike Secrets,
//! statuses are watched: the driver writes them, not a user, so no admission
//! call would reach us for a write we did not already see, and they hold object versions,
//! never secret values, so caching what they say keeps the promise of never caching
//! Secrets. Per status only the last hash seen is kept, to tell a rotation (the versions
//! changed) from a new pod's first mount or a write of its other fields, which roll nothing.

use std::collections::HashMap;

use futures::StreamExt;
use kube::api::DynamicObject;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client};

use crate::reload::discovery;
use crate::reload::engine::EngineHandle;
use crate::reload::scope::Scope;
use crate::reload::source_read::{status_resource, stored};
use reloader_core::csi::MountedVersions;
use reloader_core::hash::StakaterHash;
use reloader_core::source::{SourceKind, SourceRef};

/// What one status event means, given the hash last seen for that status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seen {
    /// Its versions changed: the class holds these now.
    Rotated(SourceRef, MountedVersions),
    /// First seen, or unchanged: nothing to do.
    Nothing,
}

/// The statuses seen, by namespace and name: the last hash of each.
#[derive(Debug, Default)]
pub struct StatusLog {
    last: HashMap<(String, String), StakaterHash>,
}

impl StatusLog {
    /// Records a status as applied (or listed again) and says whether it rotated.
    pub fn applied(&mut self, namespace: &str, name: &str, object: &serde_json::Value) -> Seen {
        let Some(versions) = MountedVersions::from_object(object) else {
            return Seen::Nothing;
        };
        let hash = versions.stakater();
        let before = self
            .last
            .insert((namespace.to_owned(), name.to_owned()), hash);
        match before {
            Some(before) if before != hash => Seen::Rotated(
                SourceRef::new(namespace, SourceKind::SecretProviderClass, &versions.class),
                versions,
            ),
            _ => Seen::Nothing,
        }
    }

    /// Forgets a deleted status (its pod is gone: nothing rolls).
    pub fn deleted(&mut self, namespace: &str, name: &str) {
        self.last.remove(&(namespace.to_owned(), name.to_owned()));
    }

    pub fn len(&self) -> usize {
        self.last.len()
    }

    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }
}

/// Whether the driver's API is served, asked again while discovery fails (about 15 s).
async fn served(client: &Client) -> bool {
    let mut attempt = 0u32;
    loop {
        match discovery::served(client, &status_resource()).await {
            Ok(served) => return served,
            Err(e) => {
                attempt += 1;
                let Some(delay) = discovery::retry_delay(attempt) else {
                    tracing::warn!(error = %e, "cannot tell whether the Secrets Store CSI API is served; running without CSI integration until restart");
                    return false;
                };
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// Watches the statuses in scope and hands each rotation to the engine; runs until the
/// process stops. Without the driver's CRDs it says so and ends, as stakater does.
pub async fn watch_statuses(client: Client, handle: EngineHandle, scope: Scope) {
    if !served(&client).await {
        tracing::warn!(
            api = %status_resource().api_version,
            "--enable-csi-integration: SecretProviderClassPodStatus is not served (are the Secrets Store CSI driver's CRDs installed?); running without CSI integration"
        );
        return;
    }
    tracing::info!("watching SecretProviderClassPodStatuses");
    let resource = status_resource();
    let watch = |api: Api<DynamicObject>| {
        watcher::watcher(api, watcher::Config::default())
            .default_backoff()
            .boxed()
    };
    let mut events = match scope.watched_namespaces() {
        None => watch(Api::all_with(client.clone(), &resource)),
        Some(namespaces) => futures::stream::select_all(
            namespaces
                .into_iter()
                .map(|ns| watch(Api::namespaced_with(client.clone(), &ns, &resource))),
        )
        .boxed(),
    };
    let mut log = StatusLog::default();
    while let Some(event) = events.next().await {
        let object = match event {
            Ok(Event::Apply(o) | Event::InitApply(o)) => o,
            Ok(Event::Delete(o)) => {
                if let (Some(ns), Some(name)) = (&o.metadata.namespace, &o.metadata.name) {
                    log.deleted(ns, name);
                }
                continue;
            }
            Ok(Event::Init | Event::InitDone) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "SecretProviderClassPodStatus watch failed; retrying");
                continue;
            }
        };
        let (Some(ns), Some(name)) = (&object.metadata.namespace, &object.metadata.name) else {
            continue;
        };
        if let Seen::Rotated(source, versions) = log.applied(ns, name, &object.data) {
            tracing::debug!(%source, status = %name, "mounted versions changed");
            let handle = handle.clone();
            let client = client.clone();
            tokio::spawn(async move {
                if !handle.follows(&source) {
                    return;
                }
                let stored = stored(&client, handle.hash_keys(), &source, &versions).await;
                handle.resolve_observed(source, stored).await;
            });
        }
    }
}

#[cfg(test)]
mod tests;
