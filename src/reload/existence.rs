//! The engine's answer to the ReloaderConfig webhook (`reloader_core::existence::Existence`):
//! a target exists when the workload caches hold it, and a watched source when a bounded
//! metadata read finds it (its data is never fetched). While a cache is still listing, for a
//! kind not watched, or when the read fails or runs out of time, the answer is `Unknown`.

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client};
use serde::de::DeserializeOwned;

use crate::reload::cache::WorkloadStores;
use crate::reload::source_read::WEBHOOK_READ_BUDGET;
use reloader_core::existence::{Existence, Presence, PresenceFuture, Subject};
use reloader_core::source::{SourceKind, SourceRef};

/// What `/validate/reloaderconfigs` asks of the engine.
#[derive(Clone)]
pub struct Presences {
    pub client: Client,
    pub workloads: WorkloadStores,
}

impl std::fmt::Debug for Presences {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presences")
            .field("kinds", &self.workloads.0.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Existence for Presences {
    fn presence<'a>(&'a self, subject: &'a Subject) -> PresenceFuture<'a> {
        Box::pin(async move {
            match subject {
                Subject::Workload(w) => self.workloads.presence(w),
                Subject::Source(s) => source_presence(&self.client, s).await,
            }
        })
    }
}

/// Whether `source` exists, by a metadata-only GET bounded by
/// [`WEBHOOK_READ_BUDGET`]; past it, the answer is `Unknown`.
async fn source_presence(client: &Client, source: &SourceRef) -> Presence {
    async fn exists<K>(client: &Client, source: &SourceRef) -> Result<bool, kube::Error>
    where
        K: kube::Resource<Scope = NamespaceResourceScope, DynamicType = ()>
            + Clone
            + DeserializeOwned
            + std::fmt::Debug,
    {
        let api = Api::<K>::namespaced(client.clone(), &source.namespace);
        Ok(api.get_metadata_opt(&source.name).await?.is_some())
    }
    let read = async {
        match source.kind {
            SourceKind::Secret => exists::<Secret>(client, source).await,
            SourceKind::ConfigMap => exists::<ConfigMap>(client, source).await,
            SourceKind::SecretProviderClass => {
                Ok(crate::reload::source_read::class_metadata(client, source)
                    .await?
                    .is_some())
            }
        }
    };
    match tokio::time::timeout(WEBHOOK_READ_BUDGET, read).await {
        Ok(Ok(true)) => Presence::Exists,
        Ok(Ok(false)) => Presence::Missing,
        Ok(Err(e)) => {
            tracing::debug!(%source, error = %e, "existence read failed");
            Presence::Unknown
        }
        Err(_) => Presence::Unknown,
    }
}
