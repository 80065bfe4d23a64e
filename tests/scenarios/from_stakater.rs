//! Taking over from stakater/Reloader: workloads it reloaded carry its SHA-1 record (in
//! `STAKATER_<NAME>_<KIND>`, or in `last-reloaded-from` with the annotations strategy).
//! reloader starting beside them rolls none whose record is of the current data, across
//! several resyncs, rolls once a workload whose record is of older data (the control that
//! resync ran), and rolls each exactly once at the next real change.
//!
//! Workload Events carry stakater's reasons, `Normal Reloaded` and `Warning ReloadFail`.
//!
//! stakater's annotation-key overrides (`--auto-annotation`, …) are honoured the same way:
//! the configured key is read, the default one no longer is.
//!
//! The expected records are SHA-1 of stakater's `key=value` text, worked out apart from
//! reloader's code (`python3 -c 'import hashlib; print(hashlib.sha1(b"password=one").hexdigest())'`).

use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use kube::Api;
use serde_json::json;

use crate::cluster_harness::fixtures::{
    AUTO, Deployment, Source, configmap, deployment, documents, namespace, secret,
};
use crate::cluster_harness::{Cluster, env_value, eventually};
use reloader_core::keys::LAST_RELOADED_FROM;

/// stakater's record of `{password: one}`, of `{password: zero}` and of `{mode: a}`.
const PASSWORD_ONE: &str = "0d1bde7b5b6c7333eb71e4b70d167540dbd2de8b";
const PASSWORD_ZERO: &str = "1777634fa8a73ec0c3da6122dccd25485efd541f";
const MODE_A: &str = "de2a4d67a41568fbbbad55d37702af99738703a4";
/// stakater's record of `{password: two}` and of `{mode: b}`.
const PASSWORD_TWO: &str = "1c3c5946f4c05f3b1d0c1ec784d46b6e0d3ee8ec";
const MODE_B: &str = "54d079f2fb29d3b6af68fd3c1d347d3d3f49fb36";
/// Several resync periods of the reloaders started below (`--resync-period 500ms`).
const HOLD: Duration = Duration::from_secs(3);
const FLAGS: [&str; 2] = ["--resync-period", "500ms"];

fn follows_creds(name: &str) -> Deployment {
    deployment("shop", name)
        .annotation(AUTO, "true")
        .env_from_secret("creds")
}

async fn sts_generation(cluster: &Cluster, name: &str) -> i64 {
    let api: Api<StatefulSet> = Api::namespaced(cluster.client.clone(), "shop");
    let sts = api.get(name).await.expect("statefulset");
    sts.metadata.generation.unwrap_or_default()
}

async fn sts_stays(cluster: &Cluster, name: &str, want: i64) {
    assert_eq!(
        sts_generation(cluster, name).await,
        want,
        "{name}: generation"
    );
}

async fn wait_sts(cluster: &Cluster, name: &str, want: i64) {
    eventually(&format!("{name} at generation {want}"), || async {
        let g = sts_generation(cluster, name).await;
        assert!(g <= want, "{name}: generation {g} went past {want}");
        g == want
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn env_var_records_of_the_current_data_are_adopted_without_a_rollout() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&documents(&[
        namespace("shop"),
        secret("shop", "creds", &[("password", "one")]),
        configmap("shop", "settings", &[("mode", "a")]),
        follows_creds("web")
            .env("STAKATER_CREDS_SECRET", PASSWORD_ONE)
            .yaml(),
        deployment("shop", "cfg")
            .annotation(AUTO, "true")
            .env_from_configmap("settings")
            .env("STAKATER_SETTINGS_CONFIGMAP", MODE_A)
            .yaml(),
        follows_creds("db")
            .env("STAKATER_CREDS_SECRET", PASSWORD_ONE)
            .statefulset_yaml(),
        // The control: stakater recorded older data than the Secret holds now.
        follows_creds("stale")
            .env("STAKATER_CREDS_SECRET", PASSWORD_ZERO)
            .yaml(),
    ]));
    for name in ["web", "cfg", "stale"] {
        cluster.wait_rolled("shop", name, 1).await;
    }

    let _reloader = cluster.start_reloader(&FLAGS);
    cluster.register_webhook();
    cluster.wait_rolled("shop", "stale", 2).await;
    cluster.stays_rolled("shop", "web", 1, HOLD).await;
    cluster.stays_rolled("shop", "cfg", 1, Duration::ZERO).await;
    sts_stays(&cluster, "db", 1).await;
    let web = cluster.deployment("shop", "web").await;
    assert_eq!(
        env_value(&web, "STAKATER_CREDS_SECRET").as_deref(),
        Some(PASSWORD_ONE),
        "adopted: the pod template is untouched"
    );
    let stale = cluster.deployment("shop", "stale").await;
    assert_eq!(
        env_value(&stale, "STAKATER_CREDS_SECRET").as_deref(),
        Some(PASSWORD_ONE),
        "the stale record was replaced, in stakater's format (--keep-stakater-records)"
    );

    // The next real change rolls each follower exactly once.
    cluster.apply(&secret("shop", "creds", &[("password", "two")]));
    cluster.wait_rolled("shop", "web", 2).await;
    cluster.wait_rolled("shop", "stale", 3).await;
    wait_sts(&cluster, "db", 2).await;
    cluster.stays_rolled("shop", "web", 2, HOLD).await;
    cluster
        .stays_rolled("shop", "stale", 3, Duration::ZERO)
        .await;
    cluster.stays_rolled("shop", "cfg", 1, Duration::ZERO).await;
    sts_stays(&cluster, "db", 2).await;
    // What stakater, still running beside, compares before it rolls: its own hash of the
    // new data is already there, so it rolls nothing more (one rollout per change).
    for name in ["web", "stale"] {
        let d = cluster.deployment("shop", name).await;
        assert_eq!(
            env_value(&d, "STAKATER_CREDS_SECRET").as_deref(),
            Some(PASSWORD_TWO),
            "{name}: stakater's record of the new data"
        );
    }

    cluster.apply(&configmap("shop", "settings", &[("mode", "b")]));
    cluster.wait_rolled("shop", "cfg", 2).await;
    cluster.stays_rolled("shop", "cfg", 2, HOLD).await;
    let cfg = cluster.deployment("shop", "cfg").await;
    assert_eq!(
        env_value(&cfg, "STAKATER_SETTINGS_CONFIGMAP").as_deref(),
        Some(MODE_B)
    );
}

/// Once stakater is gone, `--keep-stakater-records=false`: the next change writes
/// reloader's own hash where stakater's was, with the one rollout the change makes anyway.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_keep_stakater_records_the_next_change_writes_reloaders_own_hash() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&documents(&[
        namespace("shop"),
        secret("shop", "creds", &[("password", "one")]),
        follows_creds("web")
            .env("STAKATER_CREDS_SECRET", PASSWORD_ONE)
            .yaml(),
    ]));
    cluster.wait_rolled("shop", "web", 1).await;
    let _reloader = cluster.start_reloader(&[FLAGS[0], FLAGS[1], "--keep-stakater-records=false"]);
    cluster.register_webhook();
    cluster.stays_rolled("shop", "web", 1, HOLD).await;

    cluster.apply(&secret("shop", "creds", &[("password", "two")]));
    cluster.wait_rolled("shop", "web", 2).await;
    cluster.stays_rolled("shop", "web", 2, HOLD).await;
    let web = cluster.deployment("shop", "web").await;
    let now = env_value(&web, "STAKATER_CREDS_SECRET").expect("a record");
    assert!(
        now.parse::<reloader_core::hash::SourceHash>().is_ok(),
        "reloader's own hash: {now}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_reloaded_from_records_of_the_current_data_are_adopted_without_a_rollout() {
    let mut cluster = Cluster::start().await;
    // What stakater's annotations strategy writes on the pod template.
    let last = |hash: &str| {
        json!({"type": "SECRET", "name": "creds", "namespace": "shop", "hash": hash,
            "containerRefs": ["app"], "observedAt": 1_700_000_000})
        .to_string()
    };
    cluster.apply(&documents(&[
        namespace("shop"),
        secret("shop", "creds", &[("password", "one")]),
        follows_creds("web")
            .template_annotation(LAST_RELOADED_FROM, &last(PASSWORD_ONE))
            .yaml(),
        follows_creds("stale")
            .template_annotation(LAST_RELOADED_FROM, &last(PASSWORD_ZERO))
            .yaml(),
    ]));
    for name in ["web", "stale"] {
        cluster.wait_rolled("shop", name, 1).await;
    }

    let _reloader =
        cluster.start_reloader(&[FLAGS[0], FLAGS[1], "--reload-strategy", "annotations"]);
    cluster.register_webhook();
    cluster.wait_rolled("shop", "stale", 2).await;
    cluster.stays_rolled("shop", "web", 1, HOLD).await;

    cluster.apply(&secret("shop", "creds", &[("password", "two")]));
    cluster.wait_rolled("shop", "web", 2).await;
    cluster.wait_rolled("shop", "stale", 3).await;
    cluster.stays_rolled("shop", "web", 2, HOLD).await;
    cluster
        .stays_rolled("shop", "stale", 3, Duration::ZERO)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stakaters_annotation_key_overrides_are_the_only_keys_read() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&documents(&[
        namespace("shop"),
        secret("shop", "creds", &[("password", "one")]),
        Source::secret("shop", "quiet", &[("v", "1")])
            .annotation("acme.io/ignore", "true")
            .yaml(),
        deployment("shop", "custom")
            .annotation("acme.io/auto", "true")
            .env_from_secret("creds")
            .yaml(),
        follows_creds("default").yaml(),
        deployment("shop", "quiet-follower")
            .annotation("acme.io/auto", "true")
            .env_from_secret("quiet")
            .yaml(),
    ]));
    for name in ["custom", "default", "quiet-follower"] {
        cluster.wait_rolled("shop", name, 1).await;
    }
    let _reloader = cluster.start_reloader(&[
        "--auto-annotation=acme.io/auto",
        "--ignore-annotation",
        "acme.io/ignore",
    ]);
    cluster.register_webhook();

    cluster.apply(
        &Source::secret("shop", "quiet", &[("v", "2")])
            .annotation("acme.io/ignore", "true")
            .yaml(),
    );
    cluster.apply(&secret("shop", "creds", &[("password", "two")]));
    cluster.wait_rolled("shop", "custom", 2).await;
    cluster.stays_rolled("shop", "default", 1, HOLD).await;
    cluster
        .stays_rolled("shop", "quiet-follower", 1, Duration::ZERO)
        .await;
    cluster
        .stays_rolled("shop", "custom", 2, Duration::ZERO)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_carry_stakaters_reasons_reloaded_and_reload_fail() {
    use k8s_openapi::api::core::v1::Event;
    use kube::api::ListParams;

    let mut cluster = Cluster::start().await;
    if !cluster.is_real() {
        return; // the simulator has no admission policies
    }
    cluster.apply(&documents(&[
        namespace("shop"),
        secret("shop", "creds", &[("password", "one")]),
        follows_creds("open").yaml(),
        follows_creds("locked").object_label("frozen", "yes").yaml(),
    ]));
    for name in ["open", "locked"] {
        cluster.wait_rolled("shop", name, 1).await;
    }
    cluster.freeze("shop", "locked").await;
    let _reloader = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.apply(&secret("shop", "creds", &[("password", "two")]));
    cluster.wait_rolled("shop", "open", 2).await;

    let events: Api<Event> = Api::namespaced(cluster.client.clone(), "shop");
    let reasons = |name: &'static str| {
        let events = events.clone();
        async move {
            events
                .list(&ListParams::default())
                .await
                .map(|l| {
                    l.items
                        .into_iter()
                        .filter(|e| e.involved_object.name.as_deref() == Some(name))
                        .map(|e| (e.type_.unwrap_or_default(), e.reason.unwrap_or_default()))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        }
    };
    eventually(
        "Normal Reloaded on open, Warning ReloadFail on locked",
        || async {
            reasons("open")
                .await
                .contains(&("Normal".into(), "Reloaded".into()))
                && reasons("locked")
                    .await
                    .contains(&("Warning".into(), "ReloadFail".into()))
        },
    )
    .await;
    cluster
        .stays_rolled("shop", "locked", 1, Duration::ZERO)
        .await;
}
