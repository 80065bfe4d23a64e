use super::*;
use reloader_core::crd::SecretKeyRef;

fn inline(url: &str) -> AlertSink {
    AlertSink {
        url: Some(url.into()),
        secret_ref: None,
    }
}

fn secret(name: &str, key: &str) -> AlertSink {
    AlertSink {
        url: None,
        secret_ref: Some(SecretKeyRef {
            name: name.into(),
            key: key.into(),
        }),
    }
}

fn config(name: &str, alerts: Alerts) -> ConfigSinks {
    ConfigSinks {
        config: ConfigId::new("team-a", name),
        alerts,
    }
}

fn global(url: &str) -> Route {
    Route {
        kind: SinkKind::Webhook,
        url: SinkUrl::Inline(url.into()),
    }
}

#[test]
fn alert_sink_names_parse_like_stakaters() {
    let table = [
        ("slack", Ok(SinkKind::Slack)),
        (" Slack ", Ok(SinkKind::Slack)),
        ("teams", Ok(SinkKind::Teams)),
        ("gchat", Ok(SinkKind::GoogleChat)),
        ("webhook", Ok(SinkKind::Webhook)),
        ("raw", Ok(SinkKind::Webhook)),
        ("", Ok(SinkKind::Webhook)),
        ("email", Err(UnknownSink("email".into()))),
    ];
    for (text, want) in table {
        assert_eq!(text.parse::<SinkKind>(), want, "{text:?}");
    }
}

#[test]
fn which_receivers_hear_of_a_reload() {
    let slack_and_webhook = Alerts {
        slack: Some(inline("https://hooks.slack.com/services/T/B/X")),
        webhook: Some(secret("alert-urls", "webhook")),
        ..Alerts::default()
    };
    let slack_and_webhook_routes = vec![
        Route {
            kind: SinkKind::Slack,
            url: SinkUrl::Inline("https://hooks.slack.com/services/T/B/X".into()),
        },
        Route {
            kind: SinkKind::Webhook,
            url: SinkUrl::Secret {
                namespace: "team-a".into(),
                name: "alert-urls".into(),
                key: "webhook".into(),
            },
        },
    ];
    // (case, ReloaderConfig sinks, process-wide sink, receivers)
    type Case = (&'static str, Vec<ConfigSinks>, Option<Route>, Vec<Route>);
    let table: Vec<Case> = vec![
        (
            "no config sinks, no global sink: nobody",
            vec![],
            None,
            vec![],
        ),
        (
            "no config sinks: the global sink only",
            vec![],
            Some(global("https://example.com/all")),
            vec![global("https://example.com/all")],
        ),
        (
            "a config's sinks in spec order, the Secret read in the config's namespace",
            vec![config("web", slack_and_webhook.clone())],
            None,
            slack_and_webhook_routes.clone(),
        ),
        (
            "a config's sinks and the global sink",
            vec![config(
                "web",
                Alerts {
                    google_chat: Some(inline("https://chat.googleapis.com/v1/x")),
                    ..Alerts::default()
                },
            )],
            Some(global("https://example.com/all")),
            vec![
                Route {
                    kind: SinkKind::GoogleChat,
                    url: SinkUrl::Inline("https://chat.googleapis.com/v1/x".into()),
                },
                global("https://example.com/all"),
            ],
        ),
        (
            "two configs naming the same receiver: one alert",
            vec![
                config("web", slack_and_webhook.clone()),
                config("api", slack_and_webhook),
            ],
            None,
            slack_and_webhook_routes.clone(),
        ),
        (
            "a sink with neither url nor secretRef is skipped",
            vec![config(
                "web",
                Alerts {
                    teams: Some(AlertSink::default()),
                    ..Alerts::default()
                },
            )],
            None,
            vec![],
        ),
    ];
    for (case, configs, global, want) in table {
        assert_eq!(routes(&configs, global.as_ref()), want, "{case}");
    }
}

#[test]
fn debug_output_never_shows_an_inline_url() {
    let r = global("https://hooks.slack.com/services/T/B/SECRET");
    assert!(!format!("{r:?}").contains("SECRET"));
}
