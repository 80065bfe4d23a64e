use clap::Parser;
use serde_json::Value;

use super::*;
use crate::cmd::cli::{Cli, Command};

fn serve(flags: &[&str]) -> ServeArgs {
    let cli = Cli::try_parse_from(["reloader", "serve"].iter().chain(flags)).expect("flags");
    match cli.command {
        Command::Serve(args) => *args,
        _ => unreachable!("serve"),
    }
}

fn at() -> Placement {
    Placement {
        namespace: "reloader".into(),
        deployment: "reloader-reloader".into(),
    }
}

fn logging() -> Logging {
    Logging {
        format: LogFormat::Text,
        level: "info".into(),
    }
}

fn data(cm: &ConfigMap, key: &str) -> Value {
    let text = &cm.data.as_ref().expect("data")[key];
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{key}: {e}: {text}"))
}

#[test]
fn it_has_stakaters_name_label_and_data_keys() {
    let cm = config_map(&serve(&[]), &logging(), &at());
    assert_eq!(cm.metadata.name.as_deref(), Some("reloader-meta-info"));
    assert_eq!(cm.metadata.namespace.as_deref(), Some("reloader"));
    assert_eq!(
        cm.metadata.labels.as_ref().expect("labels")["reloader.stakater.com/meta-info"],
        "reloader"
    );
    let keys: Vec<&String> = cm.data.as_ref().expect("data").keys().collect();
    assert_eq!(keys, ["buildInfo", "deploymentInfo", "reloaderOptions"]);
    assert_eq!(
        data(&cm, "deploymentInfo"),
        serde_json::json!({"name": "reloader-reloader", "namespace": "reloader"})
    );
    assert_eq!(
        data(&cm, "buildInfo")["releaseVersion"],
        env!("CARGO_PKG_VERSION")
    );
}

#[test]
fn the_options_say_how_this_instance_was_started() {
    let cases: [(&str, &[&str], &str, Value); 9] = [
        (
            "defaults: env-vars",
            &[],
            "reloadStrategy",
            "env-vars".into(),
        ),
        (
            "strategy",
            &["--reload-strategy", "annotations"],
            "reloadStrategy",
            "annotations".into(),
        ),
        (
            "auto reload all",
            &["--auto-reload-all=true"],
            "autoReloadAll",
            true.into(),
        ),
        (
            "reload on create",
            &["--reload-on-create"],
            "reloadOnCreate",
            true.into(),
        ),
        ("ha", &["--enable-ha"], "enableHA", true.into()),
        (
            "custom key",
            &["--auto-annotation", "example.com/auto"],
            "reloaderAutoAnnotation",
            "example.com/auto".into(),
        ),
        (
            "ignored secrets",
            &["--ignore-secrets"],
            "resourcesToIgnore",
            serde_json::json!(["secrets"]),
        ),
        (
            "argo off",
            &["--is-Argo-Rollouts=false"],
            "isArgoRollouts",
            false.into(),
        ),
        (
            "ignored namespaces",
            &["--namespaces-to-ignore", "kube-system,ops"],
            "namespacesToIgnore",
            serde_json::json!(["kube-system", "ops"]),
        ),
    ];
    for (name, flags, field, want) in cases {
        let cm = config_map(&serve(flags), &logging(), &at());
        assert_eq!(data(&cm, "reloaderOptions")[field], want, "{name}");
    }
}

#[test]
fn a_webhook_urls_token_is_never_published() {
    let cm = config_map(
        &serve(&[
            "--webhook-url",
            "https://hooks.example.com/services/T0/B0/S3CR3T?x=1",
        ]),
        &logging(),
        &at(),
    );
    let options = data(&cm, "reloaderOptions");
    assert_eq!(options["webhookUrl"], "https://hooks.example.com");
    let all = serde_json::to_string(&cm).expect("json");
    assert!(!all.contains("S3CR3T"), "{all}");
}

#[test]
fn the_log_format_is_stakaters_spelling() {
    let json = Logging {
        format: LogFormat::Json,
        level: "debug".into(),
    };
    let options = data(&config_map(&serve(&[]), &json, &at()), "reloaderOptions");
    assert_eq!(options["logFormat"], "json");
    assert_eq!(options["logLevel"], "debug");
    let text = data(
        &config_map(&serve(&[]), &logging(), &at()),
        "reloaderOptions",
    );
    assert_eq!(text["logFormat"], "", "stakater's empty value for text");
}
