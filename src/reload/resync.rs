//! Resync: the leader reconciles every follower against its sources at start and every
//! `--resync-period`, reading each distinct source once per pass, rate-limited. It repairs
//! what triggers missed (the webhook down, a full queue, a restart). A workload with no
//! recorded hash is never rolled by resync, so installing reloader restarts nothing.

use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::reload::engine::Resolver;

/// A token bucket: `burst` reads at once, then `qps` per second.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    qps: f64,
    burst: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    pub fn new(qps: f64, burst: u32, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            qps: if qps > 0.0 { qps } else { f64::INFINITY },
            burst,
            tokens: burst,
            last: now,
        }
    }

    /// Takes one token; returns how long to wait first (zero when one was available).
    pub fn take(&mut self, now: Instant) -> Duration {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.qps).min(self.burst);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 || self.qps.is_infinite() {
            self.tokens = self.tokens.max(0.0);
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.qps)
        }
    }
}

/// Options of the resync loop.
#[derive(Clone, Debug)]
pub struct ResyncOptions {
    /// Zero: only at start.
    pub period: Duration,
    pub qps: f64,
    pub burst: u32,
}

/// One pass over every followed source. Returns how many sources were read.
pub async fn pass(resolver: &Resolver, options: &ResyncOptions) -> usize {
    let mut bucket = TokenBucket::new(options.qps, options.burst, Instant::now());
    let sources = resolver.followed_sources();
    let mut read = 0;
    for source in &sources {
        let wait = bucket.take(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        match resolver.resync_source(source).await {
            Ok(()) => read += 1,
            Err(e) => tracing::debug!(%source, error = %e, "resync read failed"),
        }
    }
    let missing = resolver.report_missing_targets();
    if missing > 0 {
        tracing::info!(targets = missing, "ReloaderConfig targets not found");
    }
    read
}

/// Runs passes while `leader` is true: at start (once the caches are filled) and then
/// every period.
pub async fn run(
    resolver: Resolver,
    options: ResyncOptions,
    mut leader: watch::Receiver<bool>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|s| *s) => return,
            r = leader.wait_for(|l| *l) => if r.is_err() { return },
        }
        let read = pass(&resolver, &options).await;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_allows_a_burst_then_paces_reads() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(10.0, 3, start);
        let waits: Vec<Duration> = (0..5).map(|_| bucket.take(start)).collect();
        assert_eq!(&waits[..3], &[Duration::ZERO; 3]);
        assert!(waits[3] > Duration::ZERO && waits[3] <= Duration::from_millis(100));
        assert!(waits[4] > waits[3]);
    }

    #[test]
    fn tokens_come_back_with_time_up_to_the_burst() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(10.0, 2, start);
        bucket.take(start);
        bucket.take(start);
        let later = start + Duration::from_secs(60);
        assert_eq!(bucket.take(later), Duration::ZERO);
        assert_eq!(bucket.take(later), Duration::ZERO);
        assert!(
            bucket.take(later) > Duration::ZERO,
            "never more than the burst"
        );
    }

    #[test]
    fn zero_qps_means_unlimited() {
        let start = Instant::now();
        let mut bucket = TokenBucket::new(0.0, 1, start);
        for _ in 0..10 {
            assert_eq!(bucket.take(start), Duration::ZERO);
        }
    }
}
