//! Resync: the leader reconciles every follower against its sources at start and every
//! `--resync-period`, reading each distinct source once per pass, rate-limited. It repairs
//! what triggers missed (the webhook down, a full queue, a restart). A workload with no
//! recorded hash is never rolled by resync, so installing reloader restarts nothing.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::reload::engine::EngineHandle;
use crate::reload::token_bucket::TokenBucket;

/// Options of the resync loop.
#[derive(Clone, Debug)]
pub struct ResyncOptions {
    /// Zero: only at start.
    pub period: Duration,
    pub qps: f64,
    pub burst: u32,
}

/// One pass over every followed source. Returns how many sources were read.
pub async fn pass(handle: &EngineHandle, options: &ResyncOptions) -> usize {
    let mut bucket = TokenBucket::new(options.qps, options.burst, Instant::now());
    let sources = handle.followed_sources();
    let mut read = 0;
    for source in &sources {
        let wait = bucket.take(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        match handle.resync_source(source).await {
            Ok(()) => read += 1,
            Err(e) => tracing::debug!(%source, error = %e, "resync read failed"),
        }
    }
    let missing = handle.report_missing_targets();
    if missing > 0 {
        tracing::info!(targets = missing, "ReloaderConfig targets not found");
    }
    read
}

/// Runs passes while `leader` is true: at start (once the caches are filled) and then
/// every period.
pub async fn run(
    handle: EngineHandle,
    options: ResyncOptions,
    mut leader: watch::Receiver<bool>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|s| *s) => return,
            r = leader.wait_for(|l| *l) => if r.is_err() { return },
        }
        let read = pass(&handle, &options).await;
        tracing::info!(sources = read, "resync pass done");
        if options.period.is_zero() {
            // Only at start; wait for leadership to come back before passing again.
            tokio::select! {
                _ = shutdown.wait_for(|s| *s) => return,
                r = leader.wait_for(|l| !*l) => if r.is_err() { return },
            }
            continue;
        }
        tokio::select! {
            _ = shutdown.wait_for(|s| *s) => return,
            _ = tokio::time::sleep(options.period) => {}
        }
    }
}
