//! Which namespaces reloader acts in: `--namespaces`, `--namespaces-to-ignore`, and
//! `--namespace-selector`, whose matching namespaces a watch keeps current.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, RwLock};

use futures::StreamExt;
use kube::runtime::WatchStreamExt;
use kube::runtime::watcher::{self, Event};
use kube::{Api, Client, ResourceExt};

/// Namespaces whose labels match `--namespace-selector`, kept current by a watch.
#[derive(Clone, Debug, Default)]
pub struct NamespaceSet(Arc<RwLock<HashSet<String>>>);

impl NamespaceSet {
    pub fn contains(&self, namespace: &str) -> bool {
        self.0
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains(namespace)
    }

    fn replace(&self, names: HashSet<String>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = names;
    }

    fn set(&self, name: String, present: bool) {
        let mut set = self.0.write().unwrap_or_else(|e| e.into_inner());
        if present {
            set.insert(name);
        } else {
            set.remove(&name);
        }
    }
}

/// Which namespaces reloader acts in (`--namespaces`, `--namespaces-to-ignore`,
/// `--namespace-selector`).
#[derive(Clone, Debug, Default)]
pub struct Scope {
    /// Empty: every namespace.
    pub only: HashSet<String>,
    pub ignore: HashSet<String>,
    /// `None`: no selector.
    pub selected: Option<NamespaceSet>,
}

impl Scope {
    /// The fixed part: workloads outside it are never indexed.
    pub fn includes_static(&self, namespace: &str) -> bool {
        (self.only.is_empty() || self.only.contains(namespace)) && !self.ignore.contains(namespace)
    }

    /// The namespaces to watch one by one (`--namespaces` without those also in
    /// `--namespaces-to-ignore`), sorted; `None` when reloader acts in every namespace and
    /// one cluster-wide watch per kind serves.
    pub fn watched_namespaces(&self) -> Option<Vec<String>> {
        if self.only.is_empty() {
            return None;
        }
        let mut namespaces: Vec<String> = self.only.difference(&self.ignore).cloned().collect();
        namespaces.sort();
        Some(namespaces)
    }

    /// Everything, including namespace labels as they are now (checked when acting, since
    /// labels can change after a workload was indexed).
    pub fn includes(&self, namespace: &str) -> bool {
        self.includes_static(namespace)
            && self.selected.as_ref().is_none_or(|s| s.contains(namespace))
    }
}

/// stakater's legacy `k:v` (and `k:*` for "exists") entries become a label selector
/// (`k=v`, `k`); a selector already in Kubernetes syntax is kept.
pub fn namespace_selector(flag: &str) -> String {
    flag.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| match t.split_once(':') {
            Some((k, "*")) => k.to_owned(),
            Some((k, v)) if !t.contains('=') => format!("{k}={v}"),
            _ => t.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Keeps `set` equal to the namespaces matching `selector`.
pub fn namespace_watch(
    client: Client,
    selector: String,
    set: NamespaceSet,
) -> impl Future<Output = ()> + Send {
    use k8s_openapi::api::core::v1::Namespace;
    let api: Api<Namespace> = Api::all(client);
    let stream =
        watcher::watcher(api, watcher::Config::default().labels(&selector)).default_backoff();
    async move {
        let mut stream = std::pin::pin!(stream);
        let mut listing: Option<HashSet<String>> = None;
        while let Some(event) = stream.next().await {
            match event {
                Ok(Event::Apply(ns)) => set.set(ns.name_any(), true),
                Ok(Event::Delete(ns)) => set.set(ns.name_any(), false),
                Ok(Event::Init) => listing = Some(HashSet::new()),
                Ok(Event::InitApply(ns)) => {
                    if let Some(l) = listing.as_mut() {
                        l.insert(ns.name_any());
                    }
                }
                Ok(Event::InitDone) => {
                    if let Some(l) = listing.take() {
                        tracing::info!(namespaces = l.len(), "namespace selector listed");
                        set.replace(l);
                    }
                }
                Err(e) => tracing::warn!(error = %e, "namespace watch failed; retrying"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_namespace_selectors_become_label_selectors() {
        let cases = [
            ("team:a", "team=a"),
            ("team:*", "team"),
            ("team:a,env:*", "team=a,env"),
            ("team=a", "team=a"),
            ("", ""),
        ];
        for (flag, want) in cases {
            assert_eq!(namespace_selector(flag), want, "{flag}");
        }
    }

    #[test]
    fn only_listed_namespaces_not_ignored_are_watched_one_by_one() {
        let set = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
        let all = Scope {
            ignore: set(&["kube-system"]),
            ..Scope::default()
        };
        assert_eq!(all.watched_namespaces(), None, "one cluster-wide watch");
        let some = Scope {
            only: set(&["b", "a", "c"]),
            ignore: set(&["c"]),
            ..Scope::default()
        };
        assert_eq!(
            some.watched_namespaces(),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
    }

    #[test]
    fn a_namespace_selector_narrows_the_scope_as_labels_change() {
        let selected = NamespaceSet::default();
        let scope = Scope {
            selected: Some(selected.clone()),
            ..Scope::default()
        };
        assert!(!scope.includes("team-a"));
        assert!(
            scope.includes_static("team-a"),
            "indexing does not depend on labels"
        );
        selected.set("team-a".into(), true);
        assert!(scope.includes("team-a"));
        selected.replace(HashSet::new());
        assert!(!scope.includes("team-a"));
    }
}
