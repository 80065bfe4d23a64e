//! Reading a source as it is stored now: its hash, labels and annotations (a Secret or
//! ConfigMap by one GET; a SecretProviderClass from its CSI driver's statuses).
//!
//! The admission webhook only says a write was *admitted*; it may not be persisted yet, or
//! ever (another webhook denied it, a conflict, a dry run). So the engine reads the source
//! until it no longer shows the object before the write (its `resourceVersion`), for a
//! bounded time, and then reconciles against what is stored. The decision "is this what we were waiting for" is [`observe`], a pure
//! function; [`wait_for`] is the thin loop around GETs.

use std::time::Duration;

/// How long a read made for an admission answer may take: within the webhooks' own 5 s
/// timeout (`/mutate/workloads` baselines, `/validate/reloaderconfigs` warnings).
pub const WEBHOOK_READ_BUDGET: Duration = Duration::from_secs(2);

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{ApiResource, DynamicObject, ListParams};
use kube::{Api, Client};

use reloader_core::csi::{MountedVersions, agreed};
use reloader_core::hash::{Hasher, KeyRing, SourceHash, StakaterHash};
use reloader_core::policy::Annotations;
use reloader_core::source::{SourceKind, SourceRef};

use crate::trigger::{Admitted, Before};

/// A source as stored: never its data, only what the engine decides on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSource {
    /// Under the current hash key.
    pub hash: SourceHash,
    /// Under the other schemes the key ring knows (see `KeyRing::same_data`).
    pub same_data: Vec<SourceHash>,
    /// stakater/Reloader's hash of the same data, to recognise what it recorded.
    pub stakater: StakaterHash,
    pub labels: Annotations,
    pub annotations: Annotations,
    /// `metadata.resourceVersion` of a Secret or ConfigMap (a class has none of its own),
    /// to tell the object before an admitted write from the one after it.
    pub resource_version: Option<String>,
}

/// The hash a source has when it does not exist: that of empty data. Recording it on a
/// deleted source's followers rolls them once (`--reload-on-delete`), and again only when
/// the source comes back with different data.
pub fn absent_hash(hasher: &Hasher, kind: SourceKind) -> SourceHash {
    match kind {
        SourceKind::Secret => hasher.secret(&Secret::default()),
        SourceKind::ConfigMap => hasher.configmap(&ConfigMap::default()),
        SourceKind::SecretProviderClass => hasher.maps(None, None),
    }
}

/// What one read means for a trigger of `operation` that saw the source as `before` says
/// before the write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observation {
    /// The stored source shows the admitted change, or something newer: reconcile with it.
    Settled(Option<StoredSource>),
    /// The stored source still shows the state before the write: read again later.
    NotYet,
}

/// Classifies one read. Any source other than the one before the write shows the admitted
/// change or a later one (a later write already landed); either way it is what the
/// followers must record, and the engine hashes it itself.
pub fn observe(operation: Admitted, before: &Before, stored: Option<StoredSource>) -> Observation {
    let unchanged = |s: &StoredSource| match before {
        Before::Nothing => false,
        Before::Version(v) => s.resource_version.as_deref() == Some(v.as_str()),
        Before::Hash(h) => s.hash == *h,
    };
    match (operation, stored) {
        (Admitted::Delete, None) => Observation::Settled(None),
        (_, None) => Observation::NotYet,
        (_, Some(s)) if unchanged(&s) => Observation::NotYet,
        (_, Some(s)) => Observation::Settled(Some(s)),
    }
}

/// Why a source could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("reading {source_ref}: {error}")]
    Api {
        source_ref: SourceRef,
        #[source]
        error: kube::Error,
    },
    #[error("{source_ref} did not show the admitted change within {waited:?}")]
    NotPersisted {
        source_ref: SourceRef,
        waited: Duration,
    },
}

impl SourceError {
    /// Label for metrics.
    pub fn label(&self) -> &'static str {
        match self {
            SourceError::Api { .. } => "source_read",
            SourceError::NotPersisted { .. } => "not_persisted",
        }
    }
}

/// Reads a source once; `Ok(None)` when it does not exist (a SecretProviderClass: when
/// its statuses do not agree on one set of versions, see `csi::read_class`).
pub async fn read(
    client: &Client,
    ring: &KeyRing,
    source: &SourceRef,
) -> Result<Option<StoredSource>, SourceError> {
    let wrap = |error| SourceError::Api {
        source_ref: source.clone(),
        error,
    };
    let meta_of = |m: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        (
            m.labels.unwrap_or_default(),
            m.annotations.unwrap_or_default(),
            m.resource_version,
        )
    };
    match source.kind {
        SourceKind::SecretProviderClass => read_class(client, ring, source).await.map_err(wrap),
        SourceKind::Secret => {
            let api: Api<Secret> = Api::namespaced(client.clone(), &source.namespace);
            Ok(api.get_opt(&source.name).await.map_err(wrap)?.map(|s| {
                let hash = ring.current().secret(&s);
                let same_data = ring.same_data(|h| h.secret(&s));
                let stakater = StakaterHash::secret(&s);
                let (labels, annotations, resource_version) = meta_of(s.metadata);
                StoredSource {
                    hash,
                    same_data,
                    stakater,
                    labels,
                    annotations,
                    resource_version,
                }
            }))
        }
        SourceKind::ConfigMap => {
            let api: Api<ConfigMap> = Api::namespaced(client.clone(), &source.namespace);
            Ok(api.get_opt(&source.name).await.map_err(wrap)?.map(|c| {
                let hash = ring.current().configmap(&c);
                let same_data = ring.same_data(|h| h.configmap(&c));
                let stakater = StakaterHash::configmap(&c);
                let (labels, annotations, resource_version) = meta_of(c.metadata);
                StoredSource {
                    hash,
                    same_data,
                    stakater,
                    labels,
                    annotations,
                    resource_version,
                }
            }))
        }
    }
}

/// The Secrets Store CSI driver's API group (`--enable-csi-integration`, see `csi`).
const CSI_GROUP: &str = "secrets-store.csi.x-k8s.io";
const CSI_VERSION: &str = "v1";

fn csi_resource(kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: CSI_GROUP.into(),
        version: CSI_VERSION.into(),
        api_version: format!("{CSI_GROUP}/{CSI_VERSION}"),
        kind: kind.into(),
        plural: plural.into(),
    }
}

/// `secretproviderclasspodstatuses`: one per pod and mounted class, written by the driver.
pub fn status_resource() -> ApiResource {
    csi_resource(
        "SecretProviderClassPodStatus",
        "secretproviderclasspodstatuses",
    )
}

/// `secretproviderclasses`: read for their labels and annotations only.
pub fn class_resource() -> ApiResource {
    csi_resource("SecretProviderClass", "secretproviderclasses")
}

/// A class as stored now: the versions all its statuses agree on, or `None` when no pod
/// mounts it or a rotation is in progress (nothing to reconcile with yet).
pub async fn read_class(
    client: &Client,
    ring: &KeyRing,
    source: &SourceRef,
) -> Result<Option<StoredSource>, kube::Error> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &source.namespace, &status_resource());
    let statuses: Vec<MountedVersions> = api
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .filter_map(|o| MountedVersions::from_object(&o.data))
        .filter(|v| v.class == source.name)
        .collect();
    match agreed(statuses.iter()) {
        Some(versions) => Ok(Some(stored(client, ring, source, versions).await)),
        None => Ok(None),
    }
}

/// A SecretProviderClass's metadata (never more of it); `None` when it does not exist.
pub async fn class_metadata(
    client: &Client,
    source: &SourceRef,
) -> Result<Option<kube::api::ObjectMeta>, kube::Error> {
    let api: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), &source.namespace, &class_resource());
    Ok(api
        .get_metadata_opt(&source.name)
        .await?
        .map(|o| o.metadata))
}

/// The source as `versions` say, with the class's labels and annotations (for
/// `--resource-label-selector`, the ignore and match annotations). A class that cannot be
/// read counts as unlabelled, as stakater counts it.
pub async fn stored(
    client: &Client,
    ring: &KeyRing,
    source: &SourceRef,
    versions: &MountedVersions,
) -> StoredSource {
    let meta = match class_metadata(client, source).await {
        Ok(found) => found.unwrap_or_default(),
        Err(e) => {
            tracing::debug!(%source, error = %e, "SecretProviderClass read failed; no labels");
            Default::default()
        }
    };
    StoredSource {
        hash: versions.hash(ring.current()),
        same_data: ring.same_data(|h| versions.hash(h)),
        stakater: versions.stakater(),
        labels: meta.labels.unwrap_or_default(),
        annotations: meta.annotations.unwrap_or_default(),
        resource_version: None,
    }
}

/// Reads the source until it shows the admitted change (or a newer one), backing off from
/// 5 ms up to 500 ms between reads, for at most `wait`.
pub async fn wait_for(
    client: &Client,
    ring: &KeyRing,
    source: &SourceRef,
    operation: Admitted,
    before: &Before,
    wait: Duration,
) -> Result<Option<StoredSource>, SourceError> {
    let started = tokio::time::Instant::now();
    let mut delay = Duration::from_millis(5);
    loop {
        let stored = read(client, ring, source).await;
        let stored = match stored {
            Ok(s) => s,
            Err(e) if started.elapsed() >= wait => return Err(e),
            Err(e) => {
                tracing::debug!(error = %e, "source read failed; retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_millis(500));
                continue;
            }
        };
        if let Observation::Settled(s) = observe(operation, before, stored) {
            return Ok(s);
        }
        if started.elapsed() >= wait {
            return Err(SourceError::NotPersisted {
                source_ref: source.clone(),
                waited: wait,
            });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_millis(500));
    }
}

#[cfg(test)]
mod tests;
