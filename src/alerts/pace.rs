//! Keeping to each receiver's rate limit: requests to one receiver leave at least a pace
//! apart (Slack takes about one message per second per webhook), and a receiver that
//! answers 429 with `Retry-After` is left alone that long, by every alert bound for it.
//!
//! Receivers are told apart by URL. The URLs stay in memory only, as the map's keys.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use reqwest::Url;
use tokio::time::Instant;

/// The longest `Retry-After` waited out; a receiver asking for more gets the alert dropped
/// (counted `rate_limited`) rather than the dispatcher held for minutes.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Receivers remembered before the ones with no wait left are forgotten.
const REMEMBERED: usize = 1024;

/// The next free moment of each receiver.
#[derive(Debug)]
pub struct Pace {
    interval: Duration,
    next: Mutex<HashMap<Url, Instant>>,
}

impl Pace {
    /// `interval` between requests to one receiver; zero paces nothing.
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            next: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for `url`'s next free moment and takes it.
    pub async fn turn(&self, url: &Url) {
        let slot = self.take_slot(url);
        tokio::time::sleep_until(slot).await;
    }

    fn take_slot(&self, url: &Url) -> Instant {
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if next.len() >= REMEMBERED {
            next.retain(|_, at| *at > now);
        }
        let slot = next.get(url).copied().unwrap_or(now).max(now);
        next.insert(url.clone(), slot + self.interval);
        slot
    }

    /// Keeps every request to `url` back for `wait` (a 429's `Retry-After`).
    pub fn hold(&self, url: &Url, wait: Duration) {
        let until = Instant::now() + wait;
        let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
        let at = next.entry(url.clone()).or_insert(until);
        *at = (*at).max(until);
    }
}

/// A `Retry-After` value: whole seconds, or an HTTP date (RFC 9110), as a wait from `now`.
pub fn retry_after(value: &str, now: Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = k8s_openapi::jiff::fmt::rfc2822::parse(value).ok()?;
    let ms = at.timestamp().duration_since(now).as_millis().max(0);
    Some(Duration::from_millis(ms as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now: Timestamp = "2026-11-26T01:02:03Z".parse().unwrap();
        let table = [
            ("2", Some(Duration::from_secs(2))),
            (" 120 ", Some(Duration::from_secs(120))),
            ("0", Some(Duration::ZERO)),
            (
                "Thu, 26 Nov 2026 01:02:08 GMT",
                Some(Duration::from_secs(5)),
            ),
            ("Thu, 26 Nov 2026 01:00:00 GMT", Some(Duration::ZERO)),
            ("-1", None),
            ("soon", None),
            ("", None),
        ];
        for (value, want) in table {
            assert_eq!(retry_after(value, now), want, "{value:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn requests_to_one_receiver_leave_a_pace_apart_and_others_do_not_wait() {
        let pace = Pace::new(Duration::from_secs(1));
        let a: Url = "https://hooks.example/a".parse().unwrap();
        let b: Url = "https://hooks.example/b".parse().unwrap();
        let start = tokio::time::Instant::now();
        pace.turn(&a).await;
        pace.turn(&b).await;
        assert_eq!(start.elapsed(), Duration::ZERO, "first requests go at once");
        pace.turn(&a).await;
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        // A 429 at 1 s asking for 5 s: the receiver's next request goes at 6 s.
        pace.hold(&b, Duration::from_secs(5));
        pace.turn(&b).await;
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(6),
            "a 429's wait holds the receiver"
        );
    }
}
