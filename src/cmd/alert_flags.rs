//! The process-wide alert flags (stakater's `ALERT_*` variables), checked at start.

use crate::alerts::delivery::DeliveryPolicy;
use crate::alerts::dispatcher::DispatcherOptions;
use crate::alerts::sink::{Route, SinkKind, SinkUrl, UnknownSink};
use crate::alerts::url;
use crate::cmd::cli::AlertArgs;

/// Dispatcher options from `reloader serve`'s flags. An unknown `--alert-sink` is an
/// error; `--alert-on-reload` without a URL, or with one that will be refused, is logged
/// (never the URL itself) and the other sinks still work.
pub fn from_args(args: &AlertArgs, allow_insecure: bool) -> Result<DispatcherOptions, UnknownSink> {
    let kind: SinkKind = args.alert_sink.parse()?;
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
    fn an_unknown_sink_is_refused() {
        assert_eq!(
            from_args(&args(true, "pager", None), false).unwrap_err(),
            UnknownSink("pager".into())
        );
    }
}
