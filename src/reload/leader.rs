//! Lease-based leader election over `coordination.k8s.io/v1` (kube-runtime has none).
//!
//! Only leader-only work (resync) follows the lease; the webhook and trigger-driven reloads
//! run on every replica, because reconciling is idempotent. Every write is guarded by the
//! Lease's resourceVersion, so two replicas can never both believe they took it.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::Client;
use kube::api::{Api, PostParams};
use tokio::sync::watch;

/// What to do with the Lease as read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Nobody holds it, or the holder stopped renewing: take it.
    Acquire,
    /// We hold it: renew it.
    Renew,
    /// Someone else holds it and renews it.
    Follow { holder: String },
}

/// Decides from the Lease's spec (None: no Lease yet).
pub fn decide(spec: Option<&LeaseSpec>, identity: &str, now: Timestamp) -> Action {
    let Some(spec) = spec else {
        return Action::Acquire;
    };
    let holder = spec.holder_identity.as_deref().unwrap_or_default();
    if holder.is_empty() {
        return Action::Acquire;
    }
    if holder == identity {
        return Action::Renew;
    }
    let duration = i64::from(spec.lease_duration_seconds.unwrap_or(15).max(1));
    let renewed = spec
        .renew_time
        .as_ref()
        .or(spec.acquire_time.as_ref())
        .map(|t| t.0);
    let expired = renewed.is_none_or(|t| {
        t.checked_add(SignedDuration::from_secs(duration))
            .is_ok_and(|end| end < now)
    });
    if expired {
        Action::Acquire
    } else {
        Action::Follow {
            holder: holder.to_owned(),
        }
    }
}

/// The spec after acquiring or renewing.
pub fn claimed(
    old: Option<&LeaseSpec>,
    identity: &str,
    duration: Duration,
    now: Timestamp,
) -> LeaseSpec {
    let ours = old.and_then(|s| s.holder_identity.as_deref()) == Some(identity);
    let transitions = old.and_then(|s| s.lease_transitions).unwrap_or(0);
    LeaseSpec {
        holder_identity: Some(identity.to_owned()),
        lease_duration_seconds: Some(duration.as_secs().max(1) as i32),
        acquire_time: if ours {
            old.and_then(|s| s.acquire_time.clone())
        } else {
            Some(MicroTime(now))
        },
        renew_time: Some(MicroTime(now)),
        lease_transitions: Some(if ours || old.is_none() {
            transitions
        } else {
            transitions + 1
        }),
        ..LeaseSpec::default()
    }
}

#[derive(Clone, Debug)]
pub struct LeaseOptions {
    pub namespace: String,
    pub name: String,
    pub identity: String,
    /// How long a lease holds without renewal.
    pub duration: Duration,
    /// How often the holder renews (and others retry).
    pub retry: Duration,
}

/// Tries once to acquire or renew; returns whether we hold the lease afterwards.
pub async fn try_once(api: &Api<Lease>, options: &LeaseOptions) -> Result<bool, kube::Error> {
    let now = Timestamp::now();
    let current = api.get_opt(&options.name).await?;
    let spec = current.as_ref().and_then(|l| l.spec.as_ref());
    match decide(spec, &options.identity, now) {
        Action::Follow { .. } => Ok(false),
        Action::Acquire | Action::Renew => {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(options.name.clone()),
                    namespace: Some(options.namespace.clone()),
                    // The guard: a concurrent writer makes this a 409.
                    resource_version: current
                        .as_ref()
                        .and_then(|l| l.metadata.resource_version.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(claimed(spec, &options.identity, options.duration, now)),
            };
            let written = match current {
                Some(_) => {
                    api.replace(&options.name, &PostParams::default(), &lease)
                        .await
                }
                None => api.create(&PostParams::default(), &lease).await,
            };
            match written {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(e),
            }
        }
    }
}

/// Gives the lease up if we hold it, so another replica takes over at once.
pub async fn release(api: &Api<Lease>, options: &LeaseOptions) -> Result<(), kube::Error> {
    let Some(mut lease) = api.get_opt(&options.name).await? else {
        return Ok(());
    };
    let Some(spec) = lease.spec.as_mut() else {
        return Ok(());
    };
    if spec.holder_identity.as_deref() != Some(options.identity.as_str()) {
        return Ok(());
    }
    spec.holder_identity = None;
    spec.renew_time = None;
    spec.acquire_time = None;
    api.replace(&options.name, &PostParams::default(), &lease)
        .await?;
    Ok(())
}

/// Keeps `leader` up to date until shutdown, then releases the lease.
pub async fn run(
    client: Client,
    options: LeaseOptions,
    leader: watch::Sender<bool>,
    mut shutdown: watch::Receiver<bool>,
) {
    let api: Api<Lease> = Api::namespaced(client, &options.namespace);
    let mut last_renewed = tokio::time::Instant::now();
    loop {
        match try_once(&api, &options).await {
            Ok(held) => {
                if held {
                    last_renewed = tokio::time::Instant::now();
                }
                if *leader.borrow() != held {
                    tracing::info!(identity = %options.identity, leader = held, "leadership changed");
                }
                leader.send_replace(held);
            }
            Err(e) => {
                tracing::warn!(error = %e, "lease update failed");
                // Without a renewal for a whole lease duration, stop leader-only work.
                if last_renewed.elapsed() >= options.duration {
                    leader.send_replace(false);
                }
            }
        }
        tokio::select! {
            _ = shutdown.wait_for(|s| *s) => break,
            _ = tokio::time::sleep(options.retry) => {}
        }
    }
    leader.send_replace(false);
    if let Err(e) = release(&api, &options).await {
        tracing::warn!(error = %e, "cannot release the lease");
    }
}

#[cfg(test)]
mod tests;
