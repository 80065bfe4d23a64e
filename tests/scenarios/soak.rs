//! The soak: Secret and ConfigMap changes at a steady rate across a few hundred workloads
//! of every kind, two reloader replicas with leader election (each called by the API
//! server, as both would be behind their Service), one of them killed or stopped and
//! restarted at random moments, and on the simulator injected 409s, 5xx, slow answers,
//! dropped watches and compactions. After quiescence: every workload records the latest
//! data of every source it follows (nothing lost), it rolled at most once per coalescing
//! window of changes to those sources (nothing spurious), every write was admitted, and no
//! log holds a panic.
//!
//! Seeded and reproducible: the run prints its seed; `SOAK_SEED` replays one and
//! `SOAK_SECONDS` sets the length of the changing phase (`make soak SOAK_MINUTES=N`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use apiserver_sim::testing::{Fault, fault};
use base64::Engine as _;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Api;
use kube::api::{DynamicObject, ListParams, Patch, PatchParams};
use reloader::reload::cache::api_resource;
use reloader_core::hash::{hash_configmap, hash_secret};
use reloader_core::patch::env_var_name;
use reloader_core::workload::{KINDS, WorkloadKind};
use serde_json::{Value, json};

use crate::cluster_harness::fixtures::{documents, namespace};
use crate::cluster_harness::{Cluster, Reloader, free_port};

const NAMESPACES: usize = 4;
/// Per namespace: ten of each of the six kinds, so 240 workloads in all.
const WORKLOADS_PER_NAMESPACE: usize = 60;
/// Per namespace: this many Secrets and as many ConfigMaps.
const SOURCES_PER_KIND: usize = 5;
/// The replicas' `--coalesce-window`: the unit of "at most one rollout".
const COALESCE: Duration = Duration::from_millis(150);
/// How often a source changes.
const WRITE_EVERY: Duration = Duration::from_millis(250);
/// After the changes stop: the longest repair may take (a killed leader's Lease expires
/// after 15 s, then a resync every 5 s).
const QUIESCENCE: Duration = Duration::from_secs(120);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn soak_under_faults_with_two_replicas_loses_nothing_and_rolls_nothing_twice() {
    let run = Run::from_env(60);
    let cluster = Cluster::start_sim().await;
    soak(cluster, run, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn soak_on_the_real_control_plane_with_two_replicas_and_restarts() {
    let run = Run::from_env(40);
    let cluster = Cluster::start_real().await;
    soak(cluster, run, false).await;
}

/// A run's seed and length.
#[derive(Debug, Clone, Copy)]
struct Run {
    seed: u64,
    seconds: u64,
}

impl Run {
    fn from_env(default_seconds: u64) -> Run {
        let seed = std::env::var("SOAK_SEED")
            .ok()
            .map(|s| s.parse().expect("SOAK_SEED is a number"))
            .unwrap_or_else(|| fastrand::u64(..));
        let seconds = std::env::var("SOAK_SECONDS")
            .ok()
            .map(|s| s.parse().expect("SOAK_SECONDS is a number"))
            .unwrap_or(default_seconds);
        Run { seed, seconds }
    }
}

/// The kinds the soak changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Kind {
    Secret,
    ConfigMap,
}

impl From<Kind> for reloader_core::source::SourceKind {
    fn from(kind: Kind) -> Self {
        match kind {
            Kind::Secret => Self::Secret,
            Kind::ConfigMap => Self::ConfigMap,
        }
    }
}

/// A Secret or ConfigMap of the run.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SourceId {
    kind: Kind,
    namespace: String,
    name: String,
}

/// A workload of the run and the sources it follows.
#[derive(Debug)]
struct Follower {
    kind: WorkloadKind,
    namespace: String,
    name: String,
    follows: Vec<SourceId>,
}

fn namespace_name(i: usize) -> String {
    format!("soak-{i}")
}

fn sources() -> Vec<SourceId> {
    let mut out = Vec::new();
    for ns in (0..NAMESPACES).map(namespace_name) {
        for i in 0..SOURCES_PER_KIND {
            for (kind, prefix) in [(Kind::Secret, "s"), (Kind::ConfigMap, "c")] {
                out.push(SourceId {
                    kind,
                    namespace: ns.clone(),
                    name: format!("{prefix}{i}"),
                });
            }
        }
    }
    out
}

/// The kinds the soak rolls: every kind but those only reloaded when asked for (Jobs,
/// `--reload-jobs`, re-created rather than rolled; `tests/scenarios/jobs.rs`).
fn soak_kinds() -> Vec<&'static reloader_core::workload::KindSpec> {
    KINDS.iter().filter(|k| !k.opt_in).collect()
}

/// The workloads, each following one to three sources of its namespace, half of them by
/// `reloader.stakater.com/auto` and references, half by the named-reload annotations.
fn followers(rng: &mut fastrand::Rng, sources: &[SourceId]) -> Vec<(Follower, bool)> {
    let mut out = Vec::new();
    for ns in (0..NAMESPACES).map(namespace_name) {
        let mine: Vec<&SourceId> = sources.iter().filter(|s| s.namespace == ns).collect();
        for i in 0..WORKLOADS_PER_NAMESPACE {
            let kinds = soak_kinds();
            let kind = kinds[i % kinds.len()].kind;
            let mut follows: Vec<SourceId> = (0..rng.usize(1..=3))
                .map(|_| mine[rng.usize(..mine.len())].clone())
                .collect();
            follows.sort();
            follows.dedup();
            let by_reference = rng.bool();
            let name = format!("{}-{i}", kinds[i % kinds.len()].lower);
            out.push((
                Follower {
                    kind,
                    namespace: ns.clone(),
                    name,
                    follows,
                },
                by_reference,
            ));
        }
    }
    out
}

fn source_document(source: &SourceId) -> String {
    let (kind, data) = match source.kind {
        Kind::Secret => ("Secret", json!({"v": base64("0")})),
        Kind::ConfigMap => ("ConfigMap", json!({"v": "0"})),
    };
    json!({
        "apiVersion": "v1", "kind": kind,
        "metadata": {"name": source.name, "namespace": source.namespace},
        "data": data,
    })
    .to_string()
}

fn base64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn workload_document(follower: &Follower, by_reference: bool) -> String {
    let name = &follower.name;
    let mut container = json!({"name": "app", "image": "app"});
    let mut annotations = serde_json::Map::new();
    if by_reference {
        annotations.insert("reloader.stakater.com/auto".into(), json!("true"));
        let refs: Vec<Value> = follower
            .follows
            .iter()
            .map(|s| match s.kind {
                Kind::Secret => json!({"secretRef": {"name": s.name}}),
                Kind::ConfigMap => json!({"configMapRef": {"name": s.name}}),
            })
            .collect();
        container["envFrom"] = json!(refs);
    } else {
        for (kind, key) in [
            (Kind::Secret, "secret.reloader.stakater.com/reload"),
            (Kind::ConfigMap, "configmap.reloader.stakater.com/reload"),
        ] {
            let names: Vec<&str> = follower
                .follows
                .iter()
                .filter(|s| s.kind == kind)
                .map(|s| s.name.as_str())
                .collect();
            if !names.is_empty() {
                annotations.insert(key.into(), json!(names.join(",")));
            }
        }
    }
    let labels = json!({"app": name});
    let pod = json!({"metadata": {"labels": labels}, "spec": {"containers": [container]}});
    let spec = match follower.kind {
        WorkloadKind::CronJob => json!({
            "schedule": "0 0 1 1 *",
            "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never", "containers": pod["spec"]["containers"],
            }}}},
        }),
        WorkloadKind::DeploymentConfig => {
            json!({"replicas": 1, "selector": labels, "template": pod})
        }
        WorkloadKind::StatefulSet => {
            json!({"serviceName": name, "selector": {"matchLabels": labels}, "template": pod})
        }
        _ => json!({"selector": {"matchLabels": labels}, "template": pod}),
    };
    let spec_row = follower.kind.spec();
    json!({
        "apiVersion": follower.kind.api_version(),
        "kind": spec_row.name,
        "metadata": {"name": name, "namespace": follower.namespace, "annotations": annotations},
        "spec": spec,
    })
    .to_string()
}

/// A change the writer made: when, to what, and the data's value.
#[derive(Debug, Clone)]
struct Change {
    at: Instant,
    source: SourceId,
}

/// What the writer did, shared with the test.
#[derive(Default)]
struct WriterLog {
    changes: Mutex<Vec<Change>>,
    failed: Mutex<Vec<String>>,
}

/// Changes one source every [`WRITE_EVERY`] until `stop`, as a user would: a merge patch of
/// its data, through admission.
async fn write_changes(
    client: kube::Client,
    sources: Vec<SourceId>,
    seed: u64,
    stop: Arc<AtomicBool>,
    log: Arc<WriterLog>,
) {
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x5eed_0001);
    let mut version = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let source = sources[rng.usize(..sources.len())].clone();
        version += 1;
        let value = format!("{}-{version}", source.name);
        let at = Instant::now();
        let params = PatchParams::default();
        let result = match source.kind {
            Kind::Secret => {
                let api: Api<Secret> = Api::namespaced(client.clone(), &source.namespace);
                let patch = json!({"data": {"v": base64(&value)}});
                api.patch(&source.name, &params, &Patch::Merge(patch))
                    .await
                    .map(drop)
            }
            Kind::ConfigMap => {
                let api: Api<ConfigMap> = Api::namespaced(client.clone(), &source.namespace);
                let patch = json!({"data": {"v": value}});
                api.patch(&source.name, &params, &Patch::Merge(patch))
                    .await
                    .map(drop)
            }
        };
        match result {
            Ok(()) => log.changes.lock().unwrap().push(Change { at, source }),
            Err(e) => log
                .failed
                .lock()
                .unwrap()
                .push(format!("{}/{}: {e}", source.namespace, source.name)),
        }
        tokio::time::sleep(WRITE_EVERY).await;
    }
}

/// The two replicas: their webhook ports, the running process (or when it comes back),
/// and every log either ever wrote.
struct Replicas {
    ports: [u16; 2],
    running: [Option<Reloader>; 2],
    back_at: [Option<Instant>; 2],
    retired: Vec<Reloader>,
    kills: usize,
    stops: usize,
}

fn replica_flags() -> Vec<&'static str> {
    vec![
        "--leader-elect",
        "--leader-election-namespace",
        "reloader",
        "--resync-period",
        "5s",
        "--coalesce-window",
        "150ms",
    ]
}

impl Replicas {
    fn start(cluster: &mut Cluster) -> Replicas {
        let ports = [free_port(), free_port()];
        let running = ports.map(|port| Some(cluster.start_reloader_on(port, &replica_flags())));
        for (i, port) in ports.iter().enumerate() {
            cluster.register_webhook_named(&format!("reloader-{i}"), *port);
        }
        Replicas {
            ports,
            running,
            back_at: [None, None],
            retired: Vec::new(),
            kills: 0,
            stops: 0,
        }
    }

    /// Takes one replica down (never both): SIGKILL or SIGTERM, back in 0.5–4 s.
    fn take_one_down(&mut self, rng: &mut fastrand::Rng) {
        if self.running.iter().any(Option::is_none) {
            return;
        }
        let i = rng.usize(..2);
        let mut replica = self.running[i].take().expect("running");
        if rng.u8(..10) < 7 {
            replica.kill();
            self.kills += 1;
        } else {
            tokio::task::block_in_place(|| replica.terminate());
            self.stops += 1;
        }
        self.retired.push(replica);
        self.back_at[i] = Some(Instant::now() + Duration::from_millis(rng.u64(500..4000)));
    }

    /// Restarts a replica whose time has come (or every one that is down, with `all`).
    fn bring_back(&mut self, cluster: &mut Cluster, all: bool) {
        for i in 0..2 {
            let due = self.back_at[i].is_some_and(|t| all || Instant::now() >= t);
            if due {
                let port = self.ports[i];
                let replica = tokio::task::block_in_place(|| {
                    cluster.start_reloader_on(port, &replica_flags())
                });
                self.running[i] = Some(replica);
                self.back_at[i] = None;
            }
        }
    }

    fn logs(&self) -> Vec<String> {
        self.running
            .iter()
            .flatten()
            .chain(&self.retired)
            .map(Reloader::log_text)
            .collect()
    }
}

/// One fault for the simulator to inject, drawn from the run's generator.
fn draw_fault(rng: &mut fastrand::Rng) -> Option<Fault> {
    let kinds = soak_kinds();
    let workloads = kinds[rng.usize(..kinds.len())].plural;
    let count = rng.u32(1..4);
    Some(match rng.u8(..8) {
        0 => fault("patch", workloads, count, 409),
        1 => fault("patch", workloads, count, 500),
        2 => fault("patch", workloads, count, 503),
        3 => {
            let mut slow = fault("patch", workloads, count, 200);
            slow.status = None;
            slow.hang_ms = Some(rng.u64(500..2500));
            slow
        }
        4 => fault("list", workloads, 1, 500),
        5 => fault(
            "get",
            if rng.bool() { "secrets" } else { "configmaps" },
            count,
            503,
        ),
        6 => fault("update", "leases", 1, 500),
        _ => return None, // a dropped watch or a compaction instead
    })
}

async fn soak(mut cluster: Cluster, run: Run, faults: bool) {
    eprintln!(
        "soak: seed {} for {} s (replay with SOAK_SEED={} SOAK_SECONDS={})",
        run.seed, run.seconds, run.seed, run.seconds
    );
    let mut rng = fastrand::Rng::with_seed(run.seed);
    let sources = sources();
    let followers = followers(&mut rng, &sources);
    let mut docs: Vec<String> = (0..NAMESPACES)
        .map(namespace_name)
        .map(|n| namespace(&n))
        .collect();
    docs.push(namespace("reloader"));
    docs.extend(sources.iter().map(source_document));
    docs.push(crate::optional_kinds::CRDS.to_owned());
    cluster.apply(&documents(&docs));
    let workloads: Vec<String> = followers
        .iter()
        .map(|(f, by_reference)| workload_document(f, *by_reference))
        .collect();
    cluster.apply(&documents(&workloads));
    let followers: Vec<Follower> = followers.into_iter().map(|(f, _)| f).collect();

    let mut replicas = Replicas::start(&mut cluster);
    let stop = Arc::new(AtomicBool::new(false));
    let log = Arc::new(WriterLog::default());
    let writer = tokio::spawn(write_changes(
        cluster.client.clone(),
        sources.clone(),
        run.seed,
        stop.clone(),
        log.clone(),
    ));

    let started = Instant::now();
    let injected = AtomicUsize::new(0);
    let end = Instant::now() + Duration::from_secs(run.seconds);
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(rng.u64(300..1500))).await;
        replicas.bring_back(&mut cluster, false);
        if rng.u8(..10) < 3 {
            replicas.take_one_down(&mut rng);
        }
        if faults {
            let hooks = cluster.hooks();
            match draw_fault(&mut rng) {
                Some(f) => hooks.inject_fault(&f).await.expect("inject"),
                None if rng.bool() => drop(hooks.drop_watches().await.expect("drop watches")),
                None => drop(hooks.compact().await.expect("compact")),
            }
            injected.fetch_add(1, Ordering::Relaxed);
        }
    }
    stop.store(true, Ordering::Relaxed);
    writer.await.expect("writer");
    if faults {
        cluster.hooks().clear_faults().await.expect("clear faults");
    }
    replicas.bring_back(&mut cluster, true);

    let changes = log.changes.lock().unwrap().clone();
    let failed = log.failed.lock().unwrap().clone();
    assert!(failed.is_empty(), "writes refused or failed: {failed:#?}");
    assert!(
        changes.len() as u64 >= run.seconds * 2,
        "only {} changes in {} s",
        changes.len(),
        run.seconds
    );

    let stale = wait_all_recorded(&cluster, &followers, &changes).await;
    assert!(
        stale.is_empty(),
        "seed {}: {} of {} workloads never recorded the latest data of what they follow, e.g. {:#?}",
        run.seed,
        stale.len(),
        followers.len(),
        &stale[..stale.len().min(5)]
    );
    // A spurious rollout would show up after the repairs too: give one a resync to happen.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let generations = generations(&cluster).await;
    let mut over = Vec::new();
    let mut spurious = Vec::new();
    let mut rollouts = 0;
    let mut all_windows = 0;
    for f in &followers {
        let g = generations[&(f.kind, f.namespace.clone(), f.name.clone())];
        let rolled = (g - 1).max(0) as usize;
        rollouts += rolled;
        let windows = windows(&changes, &f.follows);
        all_windows += windows;
        if rolled > windows {
            over.push(format!(
                "{:?} {}/{}: {rolled} rollouts for {windows} windows of changes",
                f.kind, f.namespace, f.name
            ));
            spurious.push(f);
        }
    }
    let logs = replicas.logs();
    for f in &spurious {
        eprintln!("{}", history(f, &changes, started, &logs));
    }
    let panics: Vec<&String> = logs.iter().filter(|l| l.contains("panicked")).collect();
    eprintln!(
        "soak: seed {}: {} changes, {} faults, {} kills, {} stops, {} rollouts across {} workloads \
         (at most {} allowed: one per coalescing window of changes to what each follows)",
        run.seed,
        changes.len(),
        injected.load(Ordering::Relaxed),
        replicas.kills,
        replicas.stops,
        rollouts,
        followers.len(),
        all_windows
    );
    assert!(
        over.is_empty(),
        "seed {}: spurious rollouts: {over:#?}",
        run.seed
    );
    assert!(
        panics.is_empty(),
        "seed {}: a replica panicked:\n{}",
        run.seed,
        panics[0]
    );
    assert!(rollouts > 0, "nothing rolled at all");
}

/// What happened to one workload, for a failure: the changes to what it follows (seconds
/// into the run) and every replica's log line that names it.
fn history(f: &Follower, changes: &[Change], started: Instant, logs: &[String]) -> String {
    let mut out = format!("history of {:?} {}/{}:\n", f.kind, f.namespace, f.name);
    for c in changes.iter().filter(|c| f.follows.contains(&c.source)) {
        let at = c.at.saturating_duration_since(started).as_secs_f64();
        out += &format!(
            "  {at:8.3} s  wrote {:?} {}\n",
            c.source.kind, c.source.name
        );
    }
    let needle = format!("{}/{}/{}", f.namespace, f.kind, f.name);
    for (replica, log) in logs.iter().enumerate() {
        for line in log.lines().filter(|l| l.contains(&needle)) {
            out += &format!("  log {replica}: {line}\n");
        }
    }
    out
}

/// How many coalescing windows the changes to `follows` fall into: a window opens at a
/// change and holds every change within [`COALESCE`] of its opening.
fn windows(changes: &[Change], follows: &[SourceId]) -> usize {
    let mut times: Vec<Instant> = changes
        .iter()
        .filter(|c| follows.contains(&c.source))
        .map(|c| c.at)
        .collect();
    times.sort();
    let mut count = 0;
    let mut open: Option<Instant> = None;
    for t in times {
        if open.is_none_or(|o| t.duration_since(o) > COALESCE) {
            count += 1;
            open = Some(t);
        }
    }
    count
}

/// Waits until every workload records the hash of the current data of every source it
/// follows that changed during the run; returns those that never did.
async fn wait_all_recorded(
    cluster: &Cluster,
    followers: &[Follower],
    changes: &[Change],
) -> Vec<String> {
    let deadline = Instant::now() + QUIESCENCE;
    loop {
        let hashes = current_hashes(cluster).await;
        let templates = templates(cluster).await;
        let mut stale = Vec::new();
        for f in followers {
            let template = &templates[&(f.kind, f.namespace.clone(), f.name.clone())];
            for source in &f.follows {
                let var = env_var_name(source.kind.into(), &source.name);
                let recorded = recorded(template, &var);
                let want = &hashes[source];
                let changed = changes.iter().any(|c| &c.source == source);
                let ok = match &recorded {
                    Some(r) => r == want,
                    None => !changed,
                };
                if !ok {
                    stale.push(format!(
                        "{:?} {}/{} records {var}={recorded:?}, the data hashes to {want}",
                        f.kind, f.namespace, f.name
                    ));
                }
            }
        }
        if stale.is_empty() || Instant::now() >= deadline {
            return stale;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// The hash of each source's data as it is now (what a reload records, no key configured).
async fn current_hashes(cluster: &Cluster) -> BTreeMap<SourceId, String> {
    let id = |kind, meta: &ObjectMeta| SourceId {
        kind,
        namespace: meta.namespace.clone().unwrap_or_default(),
        name: meta.name.clone().unwrap_or_default(),
    };
    let all = ListParams::default();
    let secrets = Api::<Secret>::all(cluster.client.clone()).list(&all).await;
    let configmaps = Api::<ConfigMap>::all(cluster.client.clone())
        .list(&all)
        .await;
    let secrets = secrets.expect("secrets").into_iter();
    let configmaps = configmaps.expect("configmaps").into_iter();
    secrets
        .map(|s| (id(Kind::Secret, &s.metadata), hash_secret(&s).to_string()))
        .chain(configmaps.map(|c| {
            (
                id(Kind::ConfigMap, &c.metadata),
                hash_configmap(&c).to_string(),
            )
        }))
        .collect()
}

type WorkloadKey = (WorkloadKind, String, String);

async fn all_of(cluster: &Cluster) -> Vec<(WorkloadKind, DynamicObject)> {
    let mut out = Vec::new();
    for spec in soak_kinds() {
        let api: Api<DynamicObject> =
            Api::all_with(cluster.client.clone(), &api_resource(spec.kind));
        for obj in api
            .list(&ListParams::default())
            .await
            .expect("list workloads")
        {
            out.push((spec.kind, obj));
        }
    }
    out
}

fn key(kind: WorkloadKind, obj: &DynamicObject) -> WorkloadKey {
    (
        kind,
        obj.metadata.namespace.clone().unwrap_or_default(),
        obj.metadata.name.clone().unwrap_or_default(),
    )
}

/// Each workload's pod template, where its kind keeps it.
async fn templates(cluster: &Cluster) -> BTreeMap<WorkloadKey, Value> {
    all_of(cluster)
        .await
        .into_iter()
        .map(|(kind, obj)| {
            let template = obj
                .data
                .pointer(kind.spec().template)
                .cloned()
                .unwrap_or_default();
            (key(kind, &obj), template)
        })
        .collect()
}

async fn generations(cluster: &Cluster) -> BTreeMap<WorkloadKey, i64> {
    all_of(cluster)
        .await
        .into_iter()
        .map(|(kind, obj)| (key(kind, &obj), obj.metadata.generation.unwrap_or(1)))
        .collect()
}

/// The value of env var `var` in any container of the template.
fn recorded(template: &Value, var: &str) -> Option<String> {
    template["spec"]["containers"]
        .as_array()?
        .iter()
        .flat_map(|c| c["env"].as_array().into_iter().flatten())
        .find(|e| e["name"] == var)
        .and_then(|e| e["value"].as_str())
        .map(str::to_owned)
}
