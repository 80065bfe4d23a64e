//! The hash key: records are HMAC-SHA256 under a per-install key that reloader creates at
//! first start, and turning keys on, rotating the key or losing it never rolls a workload
//! by itself; the next real change rolls it once, under the key in use.

use std::time::Duration;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use reloader_core::hash::HashKey;

use crate::cluster_harness::fixtures::{AUTO, deployment, documents, namespace, secret};
use crate::cluster_harness::{Cluster, env_value};

const VAR: &str = "STAKATER_CREDS_SECRET";
/// Several resync periods of the reloaders started below.
const HOLD: Duration = Duration::from_secs(3);

fn creds(password: &str) -> String {
    secret("shop", "creds", &[("password", password)])
}

fn keyed_flags() -> [&'static str; 6] {
    [
        "--hash-key-secret",
        "hash-key",
        "--hash-key-namespace",
        "reloader",
        "--resync-period",
        "500ms",
    ]
}

async fn key_secret(cluster: &Cluster) -> Api<Secret> {
    Api::namespaced(cluster.client.clone(), "reloader")
}

/// The id of the current key in the hash key Secret.
async fn current_key_id(cluster: &Cluster) -> String {
    let secret = key_secret(cluster)
        .await
        .get("hash-key")
        .await
        .expect("hash key Secret");
    let bytes = &secret.data.expect("data")["key"].0;
    assert!(
        bytes.len() >= 32,
        "a generated key has 32 bytes, got {}",
        bytes.len()
    );
    HashKey::new(bytes).expect("a valid key").id().to_string()
}

async fn record(cluster: &Cluster) -> String {
    env_value(&cluster.deployment("shop", "web").await, VAR).expect("a record")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn turning_keys_on_rotating_and_losing_the_key_roll_nothing_by_themselves() {
    let mut cluster = Cluster::start().await;
    cluster.apply(&documents(&[
        namespace("reloader"),
        namespace("shop"),
        creds("one"),
    ]));

    // Without a key: a plain SHA-256 record, stamped at creation.
    let mut plain = cluster.start_reloader(&[]);
    cluster.register_webhook();
    cluster.apply(
        &deployment("shop", "web")
            .annotation(AUTO, "true")
            .env_from_secret("creds")
            .yaml(),
    );
    cluster.wait_rolled("shop", "web", 1).await;
    let first = record(&cluster).await;
    assert!(!first.contains(':'), "no key, no key id: {first}");
    plain.kill();

    // Keys on: the Secret is created, the plain record is recognised, nothing rolls.
    let mut keyed = cluster.start_reloader(&keyed_flags());
    let k1 = {
        let mut id = None;
        for _ in 0..200 {
            if key_secret(&cluster)
                .await
                .get_opt("hash-key")
                .await
                .ok()
                .flatten()
                .is_some()
            {
                id = Some(current_key_id(&cluster).await);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        id.expect("reloader creates the hash key Secret")
    };
    cluster.stays_rolled("shop", "web", 1, HOLD).await;
    assert_eq!(record(&cluster).await, first, "left as it was");
    cluster.apply(&creds("two"));
    cluster.wait_rolled("shop", "web", 2).await;
    let second = record(&cluster).await;
    assert!(
        second.starts_with(&format!("{k1}:")),
        "under the new key: {second}"
    );
    keyed.kill();

    // Rotation: the old key moves to `previous`, a new one becomes current.
    let new_key = b"a rotated key, thirty-two bytes!".to_vec();
    let old_key = key_secret(&cluster)
        .await
        .get("hash-key")
        .await
        .unwrap()
        .data
        .unwrap()["key"]
        .clone();
    let rotate = serde_json::json!({"data": {
        "key": ByteString(new_key.clone()),
        "previous": old_key,
    }});
    key_secret(&cluster)
        .await
        .patch("hash-key", &PatchParams::default(), &Patch::Merge(&rotate))
        .await
        .expect("rotate the key");
    let k2 = HashKey::new(&new_key).unwrap().id().to_string();
    assert_ne!(k1, k2);
    let mut rotated = cluster.start_reloader(&keyed_flags());
    cluster.stays_rolled("shop", "web", 2, HOLD).await;
    assert_eq!(
        record(&cluster).await,
        second,
        "a previous key's record is up to date"
    );
    cluster.apply(&creds("three"));
    cluster.wait_rolled("shop", "web", 3).await;
    let third = record(&cluster).await;
    assert!(
        third.starts_with(&format!("{k2}:")),
        "under the rotated key: {third}"
    );
    rotated.kill();

    // Loss: the Secret is deleted; a new key is made; the old record has no baseline.
    key_secret(&cluster)
        .await
        .delete("hash-key", &DeleteParams::default())
        .await
        .expect("delete the key");
    let lost = cluster.start_reloader(&keyed_flags());
    cluster.stays_rolled("shop", "web", 3, HOLD).await;
    assert_eq!(record(&cluster).await, third, "no baseline: left alone");
    let k3 = current_key_id(&cluster).await;
    assert!(k3 != k1 && k3 != k2, "a fresh random key");
    cluster.apply(&creds("four"));
    cluster.wait_rolled("shop", "web", 4).await;
    let fourth = record(&cluster).await;
    assert!(
        fourth.starts_with(&format!("{k3}:")),
        "under the new key: {fourth}"
    );
    cluster.stays_rolled("shop", "web", 4, HOLD).await;
    for line in lost.log_text().lines() {
        assert!(!line.contains("panicked"), "{line}");
    }
}
