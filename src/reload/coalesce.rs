//! Which coalescing window a change for a workload opens.
//!
//! Precedence: a ReloaderConfig target's `coalesceWindow`, then its ReloaderConfig's
//! `spec.coalesceWindow`, then the workload's `reloader.stakater.com/coalesce-window`
//! annotation, then `--coalesce-window`. The ReloaderConfig comes first because it is
//! written for exactly the changes it asks for, while the annotation speaks for every
//! follower of the workload. A value that does not parse (admission refuses those, but an
//! object may predate it) is skipped, never fatal.

use std::time::Duration;

use reloader_core::duration::parse_duration;

fn parsed(text: Option<&str>) -> Option<Duration> {
    text.and_then(|t| parse_duration(t).ok())
}

/// The window a ReloaderConfig gives one of its targets, if it gives one.
pub fn config_window(target: Option<&str>, spec: Option<&str>) -> Option<Duration> {
    parsed(target).or_else(|| parsed(spec))
}

/// The window a change opens: the ReloaderConfig's, else the workload annotation's, else
/// the flag's.
pub fn window(config: Option<Duration>, annotation: Option<&str>, flag: Duration) -> Duration {
    config.or_else(|| parsed(annotation)).unwrap_or(flag)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FLAG: Duration = Duration::from_secs(1);

    #[test]
    fn a_target_window_beats_its_reloaderconfig_window() {
        assert_eq!(
            config_window(Some("500ms"), Some("3s")),
            Some(Duration::from_millis(500))
        );
        assert_eq!(
            config_window(None, Some("3s")),
            Some(Duration::from_secs(3))
        );
        assert_eq!(config_window(None, None), None);
    }

    #[test]
    fn a_reloaderconfig_window_beats_the_annotation_and_the_flag() {
        let config = config_window(None, Some("3s"));
        assert_eq!(window(config, Some("50ms"), FLAG), Duration::from_secs(3));
    }

    #[test]
    fn without_a_reloaderconfig_window_the_annotation_beats_the_flag() {
        assert_eq!(window(None, Some("50ms"), FLAG), Duration::from_millis(50));
        assert_eq!(window(None, None, FLAG), FLAG);
    }

    #[test]
    fn a_zero_window_is_a_choice_not_an_absence() {
        assert_eq!(config_window(Some("0"), Some("3s")), Some(Duration::ZERO));
        assert_eq!(window(None, Some("0"), FLAG), Duration::ZERO);
    }

    #[test]
    fn values_that_do_not_parse_fall_through_to_the_next_level() {
        assert_eq!(
            config_window(Some("soon"), Some("3s")),
            Some(Duration::from_secs(3))
        );
        assert_eq!(config_window(Some("soon"), Some("-1s")), None);
        assert_eq!(window(None, Some("later"), FLAG), FLAG);
    }
}
