//! Reading an alert URL from a Secret: one GET of that Secret when an alert is sent.
//! Secrets are never listed, watched or cached, and the value never leaves this function
//! except as the URL posted to.

use k8s_openapi::api::core::v1::Secret;
use kube::Api;

use crate::alerts::error::AlertError;

/// The trimmed UTF-8 value of `key` in Secret `namespace/name`.
pub async fn read(
    client: Option<&kube::Client>,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<String, AlertError> {
    let Some(client) = client else {
        return Err(AlertError::NoKubernetesClient {
            namespace: namespace.into(),
            name: name.into(),
        });
    };
    let api: Api<Secret> = Api::namespaced(client.clone(), namespace);
    let secret = api
        .get_opt(name)
        .await
        .map_err(|source| AlertError::SecretRead {
            namespace: namespace.into(),
            name: name.into(),
            source,
        })?
        .ok_or_else(|| AlertError::SecretNotFound {
            namespace: namespace.into(),
            name: name.into(),
        })?;
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .and_then(|v| String::from_utf8(v.0.clone()).ok())
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or_else(|| AlertError::SecretKeyMissing {
            namespace: namespace.into(),
            name: name.into(),
            key: key.into(),
        })
}
