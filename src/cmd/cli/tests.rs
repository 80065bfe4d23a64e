use clap::Parser;

use super::*;

fn serve(flags: &[&str]) -> Result<(Cli, ServeArgs), clap::Error> {
    let cli = Cli::try_parse_from(["reloader", "serve"].iter().chain(flags))?;
    let Command::Serve(args) = &cli.command else {
        panic!("not serve");
    };
    let args = (**args).clone();
    Ok((cli, args))
}

#[test]
fn boolean_flags_take_stakaters_go_forms() {
    // (flags, auto_reload_all, reload_on_create, reload_on_delete)
    let cases: [(&[&str], bool, bool, bool); 9] = [
        (&[], false, false, false),
        (&["--auto-reload-all"], true, false, false),
        (&["--auto-reload-all=true"], true, false, false),
        (&["--auto-reload-all=false"], false, false, false),
        (
            &["--auto-reload-all=1", "--reload-on-create=t"],
            true,
            true,
            false,
        ),
        (
            &["--auto-reload-all=False", "--reload-on-delete=TRUE"],
            false,
            false,
            true,
        ),
        (
            &["--reload-on-create=true", "--reload-on-delete=true"],
            false,
            true,
            true,
        ),
        (
            &["--reload-on-create", "true", "--reload-on-delete", "false"],
            false,
            true,
            false,
        ),
        (
            &["--reload-on-create", "--auto-reload-all"],
            true,
            true,
            false,
        ),
    ];
    for (flags, auto, create, delete) in cases {
        let (_, args) = serve(flags).unwrap_or_else(|e| panic!("{flags:?}: {e}"));
        assert_eq!(
            (
                args.engine.auto_reload_all,
                args.reload_on_create,
                args.reload_on_delete
            ),
            (auto, create, delete),
            "{flags:?}"
        );
    }
}

#[test]
fn every_boolean_flag_takes_an_explicit_value() {
    let flags = [
        "--webhook-http2",
        "--log-only",
        "--log-level-endpoint",
        "--metrics-by-namespace",
        "--reload-on-create",
        "--reload-on-delete",
        "--allow-insecure-alert-urls",
        "--alert-on-reload",
        "--ignore-secrets",
        "--ignore-configmaps",
        "--auto-reload-all",
        "--leader-elect",
        "--sync-after-restart",
        "--enable-csi-integration",
        "--enable-pprof",
    ];
    for flag in flags {
        for (value, want) in [("true", true), ("false", false)] {
            let given = format!("{flag}={value}");
            let (_, args) = serve(&[&given]).unwrap_or_else(|e| panic!("{given}: {e}"));
            let got = match flag {
                "--webhook-http2" => args.webhook_http2,
                "--log-only" => args.log_only,
                "--log-level-endpoint" => args.log_level_endpoint,
                "--metrics-by-namespace" => args.metrics_by_namespace,
                "--reload-on-create" => args.reload_on_create,
                "--reload-on-delete" => args.reload_on_delete,
                "--allow-insecure-alert-urls" => args.allow_insecure_alert_urls,
                "--alert-on-reload" => args.alerts.alert_on_reload,
                "--ignore-secrets" => args.engine.ignore_secrets,
                "--ignore-configmaps" => args.engine.ignore_configmaps,
                "--auto-reload-all" => args.engine.auto_reload_all,
                "--sync-after-restart" => args.engine.sync_after_restart,
                "--enable-csi-integration" => args.engine.enable_csi_integration,
                "--enable-pprof" => args.go_only.enable_pprof,
                "--leader-elect" => args.engine.leader_elect,
                other => panic!("{other}: not in the table"),
            };
            assert_eq!(got, want, "{given}");
        }
    }
    let err = serve(&["--auto-reload-all=maybe"]).unwrap_err().to_string();
    assert!(err.contains("maybe"), "{err}");
}

#[test]
fn stakaters_log_and_strategy_spellings_parse() {
    let cases: [(&[&str], LogFormat, &str); 4] = [
        (&["--log-format="], LogFormat::Text, "info"),
        (
            &["--log-format", "json", "--log-level=warning"],
            LogFormat::Json,
            "warning",
        ),
        (&["--log-level=fatal"], LogFormat::Text, "fatal"),
        (
            &["--log-format=text", "--log-level", "panic"],
            LogFormat::Text,
            "panic",
        ),
    ];
    for (flags, format, level) in cases {
        let (cli, _) = serve(flags).unwrap_or_else(|e| panic!("{flags:?}: {e}"));
        assert_eq!(
            (cli.log_format, cli.log_level.as_str()),
            (format, level),
            "{flags:?}"
        );
    }
}

#[test]
fn selectors_are_repeatable_and_keep_set_terms_whole() {
    let (_, args) = serve(&[
        "--resource-label-selector=team:a",
        "--resource-label-selector",
        "env in (prod,staging)",
        "--namespace-selector=reloader:enabled",
    ])
    .unwrap();
    assert_eq!(
        args.engine.resource_label_selector,
        ["team:a", "env in (prod,staging)"]
    );
    assert_eq!(args.engine.namespace_selector, ["reloader:enabled"]);
}

/// What runs for a command line given to `reloader` as it is (no `serve` added by the test).
fn command_of(args: &[&str]) -> Result<&'static str, clap::error::ErrorKind> {
    let cli = Cli::try_parse_args(["reloader"].iter().chain(args)).map_err(|e| e.kind())?;
    Ok(match cli.command {
        Command::Crd => "crd",
        Command::Serve(_) => "serve",
        Command::Certs(_) => "certs",
        Command::WebhookConfig(_) => "webhook-config",
        Command::Version => "version",
    })
}

#[test]
fn stakaters_image_arguments_run_serve_without_a_subcommand() {
    use clap::error::ErrorKind;
    let cases: [(&str, &[&str], Result<&str, ErrorKind>); 9] = [
        (
            "the chart's default args",
            &["--log-level=info"],
            Ok("serve"),
        ),
        (
            "the chart with every switch on",
            &[
                "--log-format=json",
                "--log-level=info",
                "--resources-to-ignore=secrets",
                "--ignored-workload-types=jobs,cronjobs",
                "--namespaces=team-a,team-b",
                "--namespaces-to-ignore=kube-system",
                "--namespace-selector=\"team:a\"",
                "--resource-label-selector=app:x",
                "--enable-pprof",
                "--pprof-addr=:6060",
                "--configmap-annotation",
                "my.company.com/configmap",
                "--webhook-url",
                "https://ci.example/hook",
                "--is-Argo-Rollouts=true",
                "--reload-on-create=true",
                "--reload-on-delete=true",
                "--sync-after-restart=true",
                "--reload-strategy=annotations",
                "--enable-ha=true",
                "--auto-reload-all=true",
            ],
            Ok("serve"),
        ),
        (
            "a subcommand after a global flag",
            &["--log-level", "debug", "crd"],
            Ok("crd"),
        ),
        ("our own form", &["serve", "--log-level=info"], Ok("serve")),
        ("a subcommand alone", &["version"], Ok("version")),
        ("help", &["--help"], Err(ErrorKind::DisplayHelp)),
        ("version", &["--version"], Err(ErrorKind::DisplayVersion)),
        (
            "a flag nobody has",
            &["--no-such-flag"],
            Err(ErrorKind::UnknownArgument),
        ),
        (
            "no arguments: the image's CMD is serve",
            &[],
            Err(ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand),
        ),
    ];
    for (case, args, want) in cases {
        assert_eq!(command_of(args), want, "{case}: {args:?}");
    }
}

#[test]
fn enable_ha_is_leader_election() {
    for (flags, want) in [
        (&[][..], false),
        (&["--enable-ha"][..], true),
        (&["--enable-ha=true"][..], true),
        (&["--enable-ha=false"][..], false),
        (&["--leader-elect"][..], true),
    ] {
        let (_, args) = serve(flags).unwrap_or_else(|e| panic!("{flags:?}: {e}"));
        assert_eq!(args.engine.leader_elect, want, "{flags:?}");
    }
}
