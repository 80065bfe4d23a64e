//! The process-wide alert flags (stakater's `ALERT_*` variables), checked at start.

use crate::alerts::batch::GroupWait;
use crate::alerts::delivery::DeliveryPolicy;
use crate::alerts::dispatcher::DispatcherOptions;
use crate::alerts::sink::{Route, SinkKind, SinkUrl};
use crate::alerts::url;
use crate::cmd::cli::AlertArgs;
use crate::cmd::engine_flags::duration;

/// Dispatcher options from `reloader serve`'s flags. A bad duration is an error; an
/// unknown `--alert-sink` means the plain webhook, as stakater falls back to its raw one
/// (a warning names the value); `--alert-on-reload` without a URL, or with one that will
/// be refused, is logged (never the URL itself) and the other sinks still work.
pub fn from_args(args: &AlertArgs, allow_insecure: bool) -> anyhow::Result<DispatcherOptions> {
    let kind: SinkKind = args.alert_sink.parse().unwrap_or_else(|e| {
        tracing::warn!(error = %e, "--alert-sink: posting plain webhook alerts instead");
        SinkKind::Webhook
    });
    let group_wait = GroupWait {
        quiet: duration("alert-group-wait", &args.alert_group_wait)?,
        ..GroupWait::default()
    };
    let pace = duration("alert-pace", &args.alert_pace)?;
    let text = args
        .alert_webhook_url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty());
    let global = match (args.alert_on_reload, text) {
        (false, _) => None,
        (true, None) => {
            tracing::warn!(
                "--alert-on-reload is set but --alert-webhook-url (ALERT_WEBHOOK_URL) is empty; no process-wide alerts"
            );
            None
        }
        (true, Some(text)) => {
            if let Err(e) = url::checked(text, allow_insecure) {
                tracing::warn!(sink = %kind, error = %e, "process-wide alerts will not be sent");
            }
            Some(Route {
                kind,
                url: SinkUrl::Inline(text.to_owned()),
            })
        }
    };
    Ok(DispatcherOptions {
        global,
        additional_info: args
            .alert_additional_info
            .as_deref()
            .map(str::trim)
            .filter(|i| !i.is_empty())
            .map(str::to_owned),
        allow_insecure,
        policy: DeliveryPolicy::default(),
        proxy: args.alert_webhook_proxy.clone(),
        group_wait,
        pace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(on: bool, sink: &str, url: Option<&str>) -> AlertArgs {
        AlertArgs {
            alert_on_reload: on,
            alert_sink: sink.into(),
            alert_webhook_url: url.map(Into::into),
            alert_additional_info: Some("  prod-eu ".into()),
            alert_webhook_proxy: None,
            alert_group_wait: "2s".into(),
            alert_pace: "1s".into(),
        }
    }

    #[test]
    fn the_process_wide_sink_follows_the_flags() {
        let hook = "https://hooks.slack.com/services/T/B/X";
        let table = [
            ("off: no sink", args(false, "slack", Some(hook)), None),
            ("on without a URL: no sink", args(true, "slack", None), None),
            (
                "on with a blank URL: no sink",
                args(true, "slack", Some("  ")),
                None,
            ),
            (
                "on: the named kind",
                args(true, "slack", Some(hook)),
                Some(Route {
                    kind: SinkKind::Slack,
                    url: SinkUrl::Inline(hook.into()),
                }),
            ),
            (
                "on, sink unset: stakater's default, the plain webhook",
                args(true, "", Some(hook)),
                Some(Route {
                    kind: SinkKind::Webhook,
                    url: SinkUrl::Inline(hook.into()),
                }),
            ),
            (
                "on, an unknown sink: stakater's fallback, the plain webhook",
                args(true, "pager", Some(hook)),
                Some(Route {
                    kind: SinkKind::Webhook,
                    url: SinkUrl::Inline(hook.into()),
                }),
            ),
        ];
        for (case, a, want) in table {
            let options = from_args(&a, false).expect("valid");
            assert_eq!(options.global, want, "{case}");
            assert_eq!(
                options.additional_info.as_deref(),
                Some("prod-eu"),
                "{case}"
            );
        }
    }

    #[test]
    fn bad_values_are_refused_with_the_flag_named() {
        let table = [
            ("slack", "soon", "1s", "--alert-group-wait"),
            ("slack", "2s", "-1s", "--alert-pace"),
        ];
        for (sink, wait, pace, want) in table {
            let a = AlertArgs {
                alert_group_wait: wait.into(),
                alert_pace: pace.into(),
                ..args(true, sink, None)
            };
            let err = format!("{:#}", from_args(&a, false).unwrap_err());
            assert!(err.contains(want), "{sink} {wait} {pace}: {err}");
        }
    }

    #[test]
    fn durations_reach_the_dispatcher() {
        let a = AlertArgs {
            alert_group_wait: "500ms".into(),
            alert_pace: "0".into(),
            ..args(true, "slack", None)
        };
        let options = from_args(&a, false).expect("valid");
        assert_eq!(
            options.group_wait.quiet,
            std::time::Duration::from_millis(500)
        );
        assert_eq!(options.group_wait.max, GroupWait::default().max);
        assert_eq!(options.pace, std::time::Duration::ZERO);
    }
}
