//! Optional APIs: Argo Rollouts (`argoproj.io/v1alpha1`) and OpenShift DeploymentConfigs
//! (`apps.openshift.io/v1`) exist only where someone installed them. Whether to watch them
//! is decided once, at start: a watch on an API that is not served would fail forever, and
//! an API installed later is picked up by the next restart of reloader.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use kube::Client;
use kube::api::ApiResource;

use reloader_core::workload::WorkloadKind;

/// `--is-argo-rollouts`: `auto` (watch Rollouts when the API is served), `true`, `false`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Detect {
    #[default]
    Auto,
    /// Asked for: watch when served, and warn when it is not.
    On,
    /// Never watch, never ask.
    Off,
}

impl fmt::Display for Detect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Detect::Auto => "auto",
            Detect::On => "true",
            Detect::Off => "false",
        })
    }
}

/// A value that is neither `auto` nor a Go boolean.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?}: expected auto, true or false")]
pub struct UnknownDetect(pub String);

impl FromStr for Detect {
    type Err = UnknownDetect;

    /// `auto`, or what Go's `strconv.ParseBool` accepts (stakater's flag is a Go bool).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" | "" => Ok(Detect::Auto),
            "1" | "t" | "T" | "true" | "TRUE" | "True" => Ok(Detect::On),
            "0" | "f" | "F" | "false" | "FALSE" | "False" => Ok(Detect::Off),
            other => Err(UnknownDetect(other.to_owned())),
        }
    }
}

/// Whether start-up starts a kind's cache at all: not when turned off (`false`) or listed
/// in `--ignored-workload-types`; then an optional API is not even asked about.
pub fn wanted(detect: Detect, ignored: bool) -> bool {
    !ignored && detect != Detect::Off
}

/// The answer to discovery, and how loudly to tell it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Found {
    Watch,
    /// Not served and not asked for: an ordinary cluster without the API.
    AbsentQuietly,
    /// Not served although `true` asked for it: probably a mistake worth a warning.
    AbsentButAskedFor,
}

pub fn found(detect: Detect, served: bool) -> Found {
    match (served, detect) {
        (true, _) => Found::Watch,
        (false, Detect::On) => Found::AbsentButAskedFor,
        (false, _) => Found::AbsentQuietly,
    }
}

/// Whether the API server serves `resource` (404 on its group version: no).
pub async fn served(client: &Client, resource: &ApiResource) -> Result<bool, kube::Error> {
    match client.list_api_group_resources(&resource.api_version).await {
        Ok(list) => Ok(list.resources.iter().any(|r| r.name == resource.plural)),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
        Err(e) => Err(e),
    }
}

/// How long to wait before asking again after the `attempt`-th failed discovery request;
/// `None`: stop asking. About 15 s in all, so that resync, which waits for this
/// answer, is never held up for long by an API that fails (an unavailable aggregated API
/// answers 503 for as long as it is down).
pub fn retry_delay(attempt: u32) -> Option<Duration> {
    const ATTEMPTS: u32 = 6;
    (attempt < ATTEMPTS).then(|| Duration::from_millis(500) * 2u32.pow(attempt.saturating_sub(1)))
}

/// Decides whether to watch `kind`, asking the API server again while it fails (a failure
/// says nothing about whether the API exists), for about 15 s at most. Logs the
/// outcome once.
pub async fn should_watch(
    client: &Client,
    kind: WorkloadKind,
    resource: &ApiResource,
    detect: Detect,
) -> bool {
    let api = resource.api_version.as_str();
    let mut attempt = 0u32;
    let served = loop {
        match served(client, resource).await {
            Ok(served) => break served,
            Err(e) => {
                attempt += 1;
                let Some(delay) = retry_delay(attempt) else {
                    tracing::warn!(%kind, api, error = %e, "cannot tell whether the API is served; running without this kind until restart");
                    return false;
                };
                tracing::debug!(%kind, api, attempt, error = %e, "discovery failed; asking again");
                tokio::time::sleep(delay).await;
            }
        }
    };
    match found(detect, served) {
        Found::Watch => tracing::info!(%kind, api, "API served; watching"),
        Found::AbsentQuietly => {
            tracing::info!(%kind, api, "API not served; running without this kind")
        }
        Found::AbsentButAskedFor => {
            tracing::warn!(%kind, api, %detect, "API not served although asked for; running without this kind")
        }
    }
    served
}

#[cfg(test)]
mod tests;
