//! Loading the install's hash key from its Secret, once at start.
//!
//! The Secret holds `key` (new records are made under it) and any number of entries named
//! `previous…` (records made under them are still recognised, so a rotation rolls
//! nothing). When the Secret does not exist, the first replica to start creates it with 32
//! random bytes; a replica that loses that race reads the winner's. Key bytes never leave
//! this module except inside a `HashKey`, whose `Debug` shows only the key id.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::PostParams;
use kube::{Api, Client};
use ring::rand::{SecureRandom, SystemRandom};

use reloader_core::hash::{HashKey, KeyError, KeyRing};

/// The entry of the current key.
pub const CURRENT: &str = "key";
/// Entries whose names start with this hold previous keys.
pub const PREVIOUS_PREFIX: &str = "previous";
/// Bytes of a key reloader makes itself.
const GENERATED_BYTES: usize = 32;

/// Why the hash key could not be loaded. Names the Secret and entry, never key bytes.
#[derive(Debug, thiserror::Error)]
pub enum HashKeyError {
    #[error("reading hash key Secret {namespace}/{name}: {error}")]
    Read {
        namespace: String,
        name: String,
        #[source]
        error: kube::Error,
    },
    #[error(
        "hash key Secret {namespace}/{name} does not exist and could not be created ({error}); create it with an entry `key` of at least 16 random bytes, or allow reloader to create Secrets in {namespace}"
    )]
    Create {
        namespace: String,
        name: String,
        #[source]
        error: kube::Error,
    },
    #[error("hash key Secret {namespace}/{name} has no entry `key`")]
    NoCurrent { namespace: String, name: String },
    #[error("hash key Secret {namespace}/{name}, entry `{entry}`: {error}")]
    Bad {
        namespace: String,
        name: String,
        entry: String,
        #[source]
        error: KeyError,
    },
    #[error("no random bytes for a new hash key")]
    Random,
}

/// The key ring from a hash key Secret's entries.
pub fn ring_from(
    namespace: &str,
    name: &str,
    data: &BTreeMap<String, ByteString>,
) -> Result<KeyRing, HashKeyError> {
    let key = |entry: &str, bytes: &ByteString| {
        HashKey::new(&bytes.0).map_err(|error| HashKeyError::Bad {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            entry: entry.to_owned(),
            error,
        })
    };
    let current = data.get(CURRENT).ok_or_else(|| HashKeyError::NoCurrent {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
    })?;
    let current = key(CURRENT, current)?;
    let previous = data
        .iter()
        .filter(|(entry, _)| entry.starts_with(PREVIOUS_PREFIX))
        .map(|(entry, bytes)| key(entry, bytes))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(KeyRing::new(Some(current), previous))
}

/// Reads the hash key Secret `namespace/name`, creating it first when it does not exist.
pub async fn load(client: &Client, namespace: &str, name: &str) -> Result<KeyRing, HashKeyError> {
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let read_error = |error| HashKeyError::Read {
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        error,
    };
    let secret = match api.get_opt(name).await.map_err(read_error)? {
        Some(secret) => secret,
        None => create(&api, namespace, name).await?,
    };
    let ring = ring_from(namespace, name, &secret.data.unwrap_or_default())?;
    if let Some(id) = ring.current().key_id() {
        tracing::info!(secret = %format!("{namespace}/{name}"), key_id = %id, "hash key loaded");
    }
    Ok(ring)
}

async fn create(api: &Api<Secret>, namespace: &str, name: &str) -> Result<Secret, HashKeyError> {
    let mut bytes = vec![0u8; GENERATED_BYTES];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| HashKeyError::Random)?;
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(namespace.to_owned()),
            labels: Some(BTreeMap::from([(
                "app.kubernetes.io/managed-by".to_owned(),
                "reloader".to_owned(),
            )])),
            ..ObjectMeta::default()
        },
        data: Some(BTreeMap::from([(CURRENT.to_owned(), ByteString(bytes))])),
        type_: Some("Opaque".to_owned()),
        ..Secret::default()
    };
    match api.create(&PostParams::default(), &secret).await {
        Ok(created) => {
            tracing::info!(secret = %format!("{namespace}/{name}"), "hash key created");
            Ok(created)
        }
        // Another replica created it first: use theirs.
        Err(kube::Error::Api(status)) if status.code == 409 => {
            api.get(name).await.map_err(|error| HashKeyError::Read {
                namespace: namespace.to_owned(),
                name: name.to_owned(),
                error,
            })
        }
        Err(error) => Err(HashKeyError::Create {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            error,
        }),
    }
}

#[cfg(test)]
mod tests;
