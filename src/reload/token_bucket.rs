//! Pacing for bursts of API calls (resync reads, status writes): a token bucket, as plain
//! arithmetic over instants so it is tested without sleeping.

use std::time::Duration;

use tokio::time::Instant;

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
