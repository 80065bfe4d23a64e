//! Resync: the leader reconciles every follower against its sources at start and every
//! `--resync-period`, reading each distinct source once per pass, rate-limited. It repairs
//! what triggers missed (the webhook down, a full queue, a restart). A workload with no
//! recorded hash is never rolled by resync, so installing reloader restarts nothing; only
//! `--sync-after-restart` asks for that on the first pass after a start.

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
    /// `--sync-after-restart` (with `--reload-on-create`): the first pass of this process
    /// also rolls followers that record no hash, as stakater does after a restart.
    pub sync_after_restart: bool,
}

/// One pass over every followed source (see [`EngineHandle::resync_source`] for
/// `baseline_required`). Returns how many sources were read.
pub async fn pass(
    handle: &EngineHandle,
    options: &ResyncOptions,
    baseline_required: bool,
) -> usize {
    let mut bucket = TokenBucket::new(options.qps, options.burst, Instant::now());
    let sources = handle.followed_sources();
    let mut read = 0;
    for source in &sources {
        // The engine is working through earlier followers: let it, before queueing more.
        while handle.busy() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let wait = bucket.take(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        match handle.resync_source(source, baseline_required).await {
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
    let mut first = true;
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|s| *s) => return,
            r = leader.wait_for(|l| *l) => if r.is_err() { return },
        }
        let baseline_required = !(first && options.sync_after_restart);
        first = false;
        let read = pass(&handle, &options, baseline_required).await;
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
