//! Watching only some namespaces (`--namespaces`), one watch each, into one store.
//!
//! A cluster-wide watch needs `list` and `watch` on the whole cluster; with `--namespaces`
//! reloader watches each namespace by itself, so Roles in those namespaces are all it
//! needs (the chart's `reloader.watchGlobally: false`). The caches keep one reflector
//! store per kind, and a reflector takes one stream of watcher events whose `InitDone`
//! replaces the whole store. [`merge`] turns the namespaces' streams into such a stream:
//!
//! - one `Init`, the first listing of every namespace as `InitApply`, and one `InitDone`
//!   once every namespace has listed (so the store is ready when all of them are);
//! - meanwhile, the events of a namespace that has listed already are held back, and
//!   passed on after that `InitDone`;
//! - afterwards, a namespace's relist becomes `Apply` for each object listed and, at its
//!   end, `Delete` for each object of that namespace the store holds but the relist did
//!   not list. Those are read from the store when they are due, once every earlier event
//!   has been applied to it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::Hash;

use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt};
use kube::runtime::reflector::Store;
use kube::runtime::watcher::{self, Event};
use kube::{Resource, ResourceExt};

/// What a watch stream yields.
pub type Item<K> = Result<Event<K>, watcher::Error>;

/// What `merge` reads of the store its stream feeds: the objects a namespace holds now
/// (a reflector `Store`, or the caches' compact `WorkloadStore`).
pub trait Holding<K>: Send + 'static {
    fn held_in(&self, namespace: &str) -> Vec<K>;
}

impl<K> Holding<K> for Store<K>
where
    K: Resource + Clone + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone + Send + Sync,
{
    fn held_in(&self, namespace: &str) -> Vec<K> {
        self.state()
            .into_iter()
            .filter(|o| o.namespace().as_deref() == Some(namespace))
            .map(|o| (*o).clone())
            .collect()
    }
}

/// One stream of all `streams` (each the watch of the namespace it is paired with) that a
/// single writer of `store` can consume.
pub fn merge<K>(
    streams: Vec<(String, BoxStream<'static, Item<K>>)>,
    store: impl Holding<K>,
) -> impl Stream<Item = Item<K>> + Send + 'static
where
    K: Resource + Clone + Send + Sync + 'static,
    K::DynamicType: Eq + Hash + Clone + Send + Sync,
{
    let listing: HashSet<String> = streams.iter().map(|(ns, _)| ns.clone()).collect();
    let upstream = stream::select_all(
        streams
            .into_iter()
            .map(|(ns, s)| s.map(move |item| (ns.clone(), item)).boxed()),
    )
    // No namespace (all of them ignored) or every watch ended: the store stays as it is.
    .chain(stream::pending());
    let mut merge = Merge {
        store: Box::new(store),
        ready: false,
        listing,
        held: VecDeque::new(),
        relisting: HashMap::new(),
        due: VecDeque::from([Due::Emit(Ok(Event::Init))]),
    };
    if merge.listing.is_empty() {
        merge.finish_init();
    }
    stream::unfold(
        (merge, upstream.boxed()),
        |(mut merge, mut upstream)| async move {
            loop {
                if let Some(item) = merge.next_due() {
                    return Some((item, (merge, upstream)));
                }
                let (ns, item) = upstream.next().await?;
                merge.on(ns, item);
            }
        },
    )
}

/// An event due to be passed on, or the deletions a finished relist implies (computed
/// from the store when it is its turn, not before).
enum Due<K> {
    Emit(Item<K>),
    DeleteUnlisted {
        namespace: String,
        listed: HashSet<String>,
    },
}

struct Merge<K: Resource + Clone + 'static>
where
    K::DynamicType: Eq + Hash + Clone,
{
    store: Box<dyn Holding<K>>,
    /// The one `InitDone` has been passed on.
    ready: bool,
    /// Namespaces whose first listing is not done yet.
    listing: HashSet<String>,
    /// Events of namespaces that listed while others were still listing.
    held: VecDeque<(String, Event<K>)>,
    /// Names listed so far by each namespace relisting after the first `InitDone`.
    relisting: HashMap<String, HashSet<String>>,
    due: VecDeque<Due<K>>,
}

impl<K> Merge<K>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    fn next_due(&mut self) -> Option<Item<K>> {
        loop {
            match self.due.pop_front()? {
                Due::Emit(item) => return Some(item),
                Due::DeleteUnlisted { namespace, listed } => {
                    let deletes: Vec<Due<K>> = self
                        .store
                        .held_in(&namespace)
                        .into_iter()
                        .filter(|o| !listed.contains(&o.name_any()))
                        .map(|o| Due::Emit(Ok(Event::Delete(o))))
                        .collect();
                    for d in deletes.into_iter().rev() {
                        self.due.push_front(d);
                    }
                }
            }
        }
    }

    fn emit(&mut self, event: Event<K>) {
        self.due.push_back(Due::Emit(Ok(event)));
    }

    fn on(&mut self, ns: String, item: Item<K>) {
        let event = match item {
            Ok(event) => event,
            Err(e) => {
                self.due.push_back(Due::Emit(Err(e)));
                return;
            }
        };
        if self.ready {
            return self.after_init(ns, event);
        }
        if !self.listing.contains(&ns) {
            self.held.push_back((ns, event));
            return;
        }
        match event {
            // A restarted first listing: what it listed before is still there.
            Event::Init => {}
            Event::InitApply(o) | Event::Apply(o) => self.emit(Event::InitApply(o)),
            Event::Delete(o) => self.held.push_back((ns, Event::Delete(o))),
            Event::InitDone => {
                self.listing.remove(&ns);
                if self.listing.is_empty() {
                    self.finish_init();
                }
            }
        }
    }

    fn finish_init(&mut self) {
        self.emit(Event::InitDone);
        self.ready = true;
        while let Some((ns, event)) = self.held.pop_front() {
            self.after_init(ns, event);
        }
    }

    fn after_init(&mut self, ns: String, event: Event<K>) {
        match event {
            Event::Init => {
                self.relisting.insert(ns, HashSet::new());
            }
            Event::InitApply(o) => {
                if let Some(listed) = self.relisting.get_mut(&ns) {
                    listed.insert(o.name_any());
                }
                self.emit(Event::Apply(o));
            }
            Event::InitDone => {
                if let Some(listed) = self.relisting.remove(&ns) {
                    self.due.push_back(Due::DeleteUnlisted {
                        namespace: ns,
                        listed,
                    });
                }
            }
            event @ (Event::Apply(_) | Event::Delete(_)) => self.emit(event),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;
    use kube::api::ObjectMeta;
    use kube::runtime::reflector;
    use tokio::sync::mpsc;

    fn cm(ns: &str, name: &str) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(ns.into()),
                ..ObjectMeta::default()
            },
            ..ConfigMap::default()
        }
    }

    type Tx = futures::channel::mpsc::UnboundedSender<Item<ConfigMap>>;

    /// Two namespaces' watches feeding one reflector; the senders, the store, and the
    /// merged stream's events as short strings.
    fn setup() -> (
        Tx,
        Tx,
        Store<ConfigMap>,
        mpsc::UnboundedReceiver<String>,
        tokio::task::JoinHandle<()>,
    ) {
        let (reader, writer) = reflector::store::<ConfigMap>();
        let (a, ra) = futures::channel::mpsc::unbounded();
        let (b, rb) = futures::channel::mpsc::unbounded();
        let merged = merge(
            vec![("a".into(), ra.boxed()), ("b".into(), rb.boxed())],
            reader.clone(),
        );
        let (seen_tx, seen) = mpsc::unbounded_channel();
        let task = tokio::spawn(async move {
            let mut s = std::pin::pin!(reflector::reflector(writer, merged));
            while let Some(Ok(event)) = s.next().await {
                let text = match event {
                    Event::Init => "Init".to_owned(),
                    Event::InitApply(o) => format!("InitApply {}", key(&o)),
                    Event::InitDone => "InitDone".to_owned(),
                    Event::Apply(o) => format!("Apply {}", key(&o)),
                    Event::Delete(o) => format!("Delete {}", key(&o)),
                };
                let _ = seen_tx.send(text);
            }
        });
        (a, b, reader, seen, task)
    }

    fn key(o: &ConfigMap) -> String {
        format!("{}/{}", o.namespace().unwrap_or_default(), o.name_any())
    }

    async fn take(seen: &mut mpsc::UnboundedReceiver<String>, n: usize) -> Vec<String> {
        let mut out = Vec::new();
        for _ in 0..n {
            let next = tokio::time::timeout(std::time::Duration::from_secs(5), seen.recv());
            out.push(next.await.expect("an event in time").expect("stream open"));
        }
        out
    }

    fn names(store: &Store<ConfigMap>) -> Vec<String> {
        let mut v: Vec<String> = store.state().iter().map(|o| key(o)).collect();
        v.sort();
        v
    }

    #[tokio::test]
    async fn the_store_is_ready_once_every_namespace_has_listed_and_holds_all_of_them() {
        let (a, b, store, mut seen, _task) = setup();
        for e in [
            Event::Init,
            Event::InitApply(cm("a", "one")),
            Event::InitDone,
            // Namespace a moves on while b is still listing: held back.
            Event::Apply(cm("a", "two")),
            Event::Delete(cm("a", "one")),
        ] {
            a.unbounded_send(Ok(e)).unwrap();
        }
        assert_eq!(take(&mut seen, 2).await, ["Init", "InitApply a/one"]);
        for e in [Event::Init, Event::InitApply(cm("b", "x")), Event::InitDone] {
            b.unbounded_send(Ok(e)).unwrap();
        }
        assert_eq!(
            take(&mut seen, 4).await,
            ["InitApply b/x", "InitDone", "Apply a/two", "Delete a/one"]
        );
        assert!(store.wait_until_ready().await.is_ok());
        assert_eq!(names(&store), ["a/two", "b/x"]);
    }

    #[tokio::test]
    async fn a_relist_of_one_namespace_removes_only_its_own_vanished_objects() {
        let (a, b, store, mut seen, _task) = setup();
        for (tx, ns) in [(&a, "a"), (&b, "b")] {
            for e in [
                Event::Init,
                Event::InitApply(cm(ns, "keep")),
                Event::InitApply(cm(ns, "gone")),
                Event::InitDone,
            ] {
                tx.unbounded_send(Ok(e)).unwrap();
            }
        }
        take(&mut seen, 6).await;
        assert_eq!(names(&store), ["a/gone", "a/keep", "b/gone", "b/keep"]);
        // Namespace a's watch expired and relists without `gone`.
        for e in [
            Event::Init,
            Event::InitApply(cm("a", "keep")),
            Event::InitDone,
        ] {
            a.unbounded_send(Ok(e)).unwrap();
        }
        assert_eq!(take(&mut seen, 2).await, ["Apply a/keep", "Delete a/gone"]);
        assert_eq!(names(&store), ["a/keep", "b/gone", "b/keep"]);
    }

    #[tokio::test]
    async fn with_no_namespace_to_watch_the_store_is_ready_and_empty() {
        let (reader, writer) = reflector::store::<ConfigMap>();
        let merged = merge(Vec::new(), reader.clone());
        let mut s = std::pin::pin!(reflector::reflector(writer, merged));
        assert!(matches!(s.next().await, Some(Ok(Event::Init))));
        assert!(matches!(s.next().await, Some(Ok(Event::InitDone))));
        assert!(reader.wait_until_ready().await.is_ok());
        assert!(reader.state().is_empty());
    }
}
