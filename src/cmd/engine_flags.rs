//! `reloader serve`'s engine flags turned into the engine's plain settings, once: kinds by
//! their flag spellings, durations, selectors, scope, lease. The engine never sees clap.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use crate::cmd::cli::{AnnotationArgs, EngineArgs};
use crate::reload::EngineOptions;
use crate::reload::leader::LeaseOptions;
use crate::reload::notify_only::NotifyOnly;
use crate::reload::resync::ResyncOptions;
use crate::reload::scope::{NamespaceSet, Scope};
use crate::reload::start::{HashKeySecret, Settings};
use reloader_core::duration::parse_duration;
use reloader_core::hash::KeyRing;
use reloader_core::patch::ReloadStrategy;
use reloader_core::policy::{AnnotationKeys, GlobalOptions, PauseKey};
use reloader_core::workload::WorkloadKind;

/// `cronjobs`, `CronJob`, `cronjob` → CronJob; kinds we never roll (`jobs`) → None.
pub fn workload_type(name: &str) -> Option<WorkloadKind> {
    let lower = name.trim().to_ascii_lowercase();
    let singular = lower.strip_suffix('s').unwrap_or(&lower);
    WorkloadKind::ALL
        .into_iter()
        .find(|k| k.lower() == singular)
}

/// A Go-style duration flag, the flag named in the error.
pub fn duration(flag: &str, value: &str) -> anyhow::Result<Duration> {
    parse_duration(value).with_context(|| format!("--{flag} {value:?}"))
}

/// The annotation keys, stakater's overrides applied. Excludes have no override upstream
/// and keep their keys.
pub fn annotation_keys(args: &AnnotationArgs) -> anyhow::Result<AnnotationKeys> {
    let key = |flag: &str, value: &str| -> anyhow::Result<String> {
        let value = value.trim();
        anyhow::ensure!(
            !value.is_empty(),
            "--{flag}: an annotation key cannot be empty"
        );
        anyhow::ensure!(
            !value.contains(char::is_whitespace),
            "--{flag} {value:?}: an annotation key has no spaces"
        );
        Ok(value.to_owned())
    };
    let pause = key(
        "pause-deployment-annotation",
        &args.pause_deployment_annotation,
    )?;
    anyhow::ensure!(
        pause != "deployment.",
        "--pause-deployment-annotation {pause:?}: nothing after `deployment.`"
    );
    key(
        "pause-deployment-time-annotation",
        &args.pause_deployment_time_annotation,
    )?;
    Ok(AnnotationKeys {
        auto: key("auto-annotation", &args.auto_annotation)?,
        secret_auto: key("secret-auto-annotation", &args.secret_auto_annotation)?,
        configmap_auto: key("configmap-auto-annotation", &args.configmap_auto_annotation)?,
        secret_reload: key("secret-annotation", &args.secret_annotation)?,
        configmap_reload: key("configmap-annotation", &args.configmap_annotation)?,
        search: key("auto-search-annotation", &args.auto_search_annotation)?,
        search_match: key("search-match-annotation", &args.search_match_annotation)?,
        ignore: key("ignore-annotation", &args.ignore_annotation)?,
        pause_period: PauseKey::from_deployment_key(&pause),
        ..AnnotationKeys::default()
    })
}

/// `--reload-strategy`: `env-vars` or `annotations`; stakater's chart value `default` is
/// env-vars, its default.
fn reload_strategy(value: &str) -> anyhow::Result<ReloadStrategy> {
    match value.trim() {
        "default" => Ok(ReloadStrategy::EnvVars),
        other => other
            .parse()
            .with_context(|| format!("--reload-strategy {value:?}")),
    }
}

/// `"text"` → `text`; anything else as it is (trimmed).
fn unquoted(value: &str) -> &str {
    let v = value.trim();
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v)
}

/// Which of Secrets and ConfigMaps `--resources-to-ignore` names (stakater's rules: either,
/// any case, never both).
fn resources_to_ignore(values: &[String]) -> anyhow::Result<(bool, bool)> {
    let (mut secrets, mut configmaps) = (false, false);
    for value in values.iter().map(|v| v.trim()).filter(|v| !v.is_empty()) {
        match value.to_ascii_lowercase().as_str() {
            "secrets" => secrets = true,
            "configmaps" => configmaps = true,
            _ => anyhow::bail!(
                "--resources-to-ignore takes `configmaps` or `secrets`, not {value:?}"
            ),
        }
    }
    anyhow::ensure!(
        !(secrets && configmaps),
        "--resources-to-ignore takes `configmaps` or `secrets`, not both: nothing would be followed"
    );
    Ok((secrets, configmaps))
}

/// The namespaces to act in: `--namespaces`, else stakater's single-namespace mode
/// (`KUBERNETES_NAMESPACE`, which its chart sets when `watchGlobally` is false).
fn only_namespaces(flag: &[String], kubernetes_namespace: Option<String>) -> Vec<String> {
    let listed: Vec<String> = flag.iter().filter(|n| !n.is_empty()).cloned().collect();
    if !listed.is_empty() {
        return listed;
    }
    kubernetes_namespace
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .into_iter()
        .collect()
}

/// The engine's settings from `reloader serve`'s flags, checked once. `instance` is this
/// replica's name (`POD_NAME`), `drain` how long shutdown waits for in-flight reloads.
pub fn settings(
    args: &EngineArgs,
    instance: Option<String>,
    drain: Duration,
) -> anyhow::Result<Settings> {
    let ignored = resources_to_ignore(&args.resources_to_ignore)?;
    let notify_only = match args.webhook_url.as_deref().map(str::trim) {
        Some(url) if !url.is_empty() => Some(NotifyOnly::new(url)?),
        _ => None,
    };
    let global = GlobalOptions {
        // Jobs are re-created, not rolled: only with --reload-jobs.
        ignored_workload_types: args
            .ignored_workload_types
            .iter()
            .filter_map(|t| workload_type(t))
            .chain(
                WorkloadKind::ALL
                    .into_iter()
                    .filter(|k| k.spec().opt_in && !args.reload_jobs),
            )
            .collect(),
        ignore_secrets: args.ignore_secrets || ignored.0,
        ignore_configmaps: args.ignore_configmaps || ignored.1,
        auto_reload_all: args.auto_reload_all,
        csi: args.enable_csi_integration,
    };
    // stakater's chart writes `--namespace-selector="k:v"`, the quotes part of the value.
    let namespace_selector = args
        .namespace_selector
        .iter()
        .map(|s| unquoted(s))
        .collect::<Vec<_>>()
        .join(",");
    let engine = EngineOptions {
        strategy: reload_strategy(&args.reload_strategy)?,
        coalesce: duration("coalesce-window", &args.coalesce_window)?,
        source_wait: duration("source-wait", &args.source_wait)?,
        resource_selector: args
            .resource_label_selector
            .join(",")
            .parse()
            .context("--resource-label-selector")?,
        scope: Scope {
            only: only_namespaces(&args.namespaces, std::env::var("KUBERNETES_NAMESPACE").ok())
                .into_iter()
                .collect(),
            ignore: args
                .namespaces_to_ignore
                .iter()
                .filter(|n| !n.is_empty())
                .cloned()
                .collect(),
            selected: (!namespace_selector.trim().is_empty()).then(NamespaceSet::default),
        },
        instance: instance.clone(),
        drain,
        // Loaded once API access exists (`hash_key`); plain SHA-256 until then.
        hash_keys: Arc::new(KeyRing::plain()),
        notify_only,
        run_cronjobs: args.run_cronjobs_on_reload,
        max_concurrent: usize::from(args.max_concurrent_reloads),
        keep_stakater: args.keep_stakater_records,
    };
    let resync = ResyncOptions {
        period: duration("resync-period", &args.resync_period)?,
        qps: args.kube_api_qps,
        burst: args.kube_api_burst,
        // Only with --reload-on-create, as upstream; `serve` turns it on.
        sync_after_restart: false,
    };
    Ok(Settings {
        detect: [(
            WorkloadKind::Rollout,
            args.is_argo_rollouts
                .parse()
                .context("--is-argo-rollouts")?,
        )]
        .into(),
        engine,
        global,
        resync,
        namespace_selector,
        keys: annotation_keys(&args.annotations)?,
        hash_key: (!args.hash_key_secret.trim().is_empty()).then(|| HashKeySecret {
            namespace: args
                .hash_key_namespace
                .clone()
                .or_else(|| std::env::var("POD_NAMESPACE").ok())
                .unwrap_or_else(|| "reloader".into()),
            name: args.hash_key_secret.trim().to_owned(),
        }),
        lease: args.leader_elect.then(|| LeaseOptions {
            namespace: args
                .leader_election_namespace
                .clone()
                .or_else(|| std::env::var("POD_NAMESPACE").ok())
                .unwrap_or_else(|| "reloader".into()),
            name: args.leader_election_id.clone(),
            identity: instance.unwrap_or_else(|| {
                format!("reloader-{}-{:08x}", std::process::id(), fastrand::u32(..))
            }),
            duration: Duration::from_secs(15),
            retry: Duration::from_secs(2),
        }),
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cmd::cli::{Cli, Command};
    use crate::reload::discovery::Detect;

    fn argo(flags: &[&str]) -> anyhow::Result<Detect> {
        let args = ["reloader", "serve"].iter().chain(flags);
        let Command::Serve(serve) = Cli::try_parse_from(args)?.command else {
            anyhow::bail!("not serve");
        };
        Ok(settings(&serve.engine, None, Duration::from_secs(10))?.detect[&WorkloadKind::Rollout])
    }

    #[test]
    fn the_argo_rollouts_flag_keeps_stakaters_spellings() {
        let cases = [
            (&[][..], Detect::Auto),
            (&["--is-argo-rollouts"][..], Detect::On),
            (&["--is-argo-rollouts=false"][..], Detect::Off),
            (&["--is-Argo-Rollouts=true"][..], Detect::On),
            (&["--is-argo-rollouts=auto"][..], Detect::Auto),
        ];
        for (flags, want) in cases {
            assert_eq!(argo(flags).unwrap(), want, "{flags:?}");
        }
        let err = argo(&["--is-argo-rollouts=maybe"]).unwrap_err();
        assert!(format!("{err:#}").contains("--is-argo-rollouts"), "{err:#}");
    }

    #[test]
    fn resources_to_ignore_takes_stakaters_values() {
        // (flags, ignore secrets, ignore configmaps) or the error
        type Ignored = Result<(bool, bool), &'static str>;
        let cases: [(&[&str], Ignored); 7] = [
            (&[], Ok((false, false))),
            (&["--resources-to-ignore=secrets"], Ok((true, false))),
            (&["--resources-to-ignore=ConfigMaps"], Ok((false, true))),
            (&["--resources-to-ignore", "sEcrets"], Ok((true, false))),
            (
                &["--ignore-configmaps", "--resources-to-ignore=configmaps"],
                Ok((false, true)),
            ),
            (
                &["--resources-to-ignore=secrets,configmaps"],
                Err("not both"),
            ),
            (&["--resources-to-ignore=pods"], Err("not \"pods\"")),
        ];
        for (flags, want) in cases {
            let got = engine(flags)
                .map(|s| (s.global.ignore_secrets, s.global.ignore_configmaps))
                .map_err(|e| format!("{e:#}"));
            match (want, got) {
                (Ok(want), Ok(got)) => assert_eq!(got, want, "{flags:?}"),
                (Err(want), Err(got)) => assert!(got.contains(want), "{flags:?}: {got}"),
                (want, got) => panic!("{flags:?}: wanted {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn kubernetes_namespace_is_the_single_namespace_mode_unless_namespaces_are_listed() {
        let owned = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        let cases = [
            ("neither: every namespace", &[][..], None, &[][..]),
            (
                "KUBERNETES_NAMESPACE alone",
                &[],
                Some("apps"),
                &["apps"][..],
            ),
            ("blank KUBERNETES_NAMESPACE", &[], Some(" "), &[]),
            ("--namespaces wins", &["a", "b"], Some("apps"), &["a", "b"]),
            (
                "empty entries of --namespaces",
                &[""],
                Some("apps"),
                &["apps"],
            ),
        ];
        for (case, flag, env, want) in cases {
            let got = only_namespaces(&owned(flag), env.map(str::to_owned));
            assert_eq!(got, owned(want), "{case}");
        }
    }

    #[test]
    fn unsupported_or_unusable_stakater_flags_stop_the_start_with_a_reason() {
        let cases = [
            (
                &["--webhook-url", "ftp://x.example/hook"][..],
                "--webhook-url must be http",
            ),
            (
                &["--webhook-url=not a url"][..],
                "--webhook-url is not a URL",
            ),
        ];
        for (flags, want) in cases {
            let Err(err) = engine(flags) else {
                panic!("{flags:?} started");
            };
            assert!(format!("{err:#}").contains(want), "{flags:?}: {err:#}");
        }
        for flags in [
            &["--enable-csi-integration=false"][..],
            &["--enable-csi-integration"],
            &["--webhook-url", "https://ci.example/hook"],
            &["--webhook-url="],
        ] {
            let s = engine(flags).unwrap_or_else(|e| panic!("{flags:?}: {e:#}"));
            assert_eq!(
                s.engine.notify_only.is_some(),
                flags[0] == "--webhook-url",
                "{flags:?}"
            );
        }
    }

    fn engine(flags: &[&str]) -> anyhow::Result<Settings> {
        let args = ["reloader", "serve"].iter().chain(flags);
        let Command::Serve(serve) = Cli::try_parse_from(args)?.command else {
            anyhow::bail!("not serve");
        };
        settings(&serve.engine, None, Duration::from_secs(10))
    }

    #[test]
    fn stakaters_strategy_and_selector_spellings_are_accepted() {
        let cases = [
            (&["--reload-strategy=default"][..], ReloadStrategy::EnvVars),
            (&["--reload-strategy=env-vars"][..], ReloadStrategy::EnvVars),
            (
                &["--reload-strategy", "annotations"][..],
                ReloadStrategy::Annotations,
            ),
        ];
        for (flags, want) in cases {
            assert_eq!(engine(flags).unwrap().engine.strategy, want, "{flags:?}");
        }
        let Err(err) = engine(&["--reload-strategy=restart"]) else {
            panic!("restart is not a reload strategy");
        };
        assert!(format!("{err:#}").contains("--reload-strategy"), "{err:#}");

        let s = engine(&[
            "--resource-label-selector=team:a,tier:*",
            "--resource-label-selector=env in (prod,staging)",
        ])
        .unwrap();
        let labels = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<std::collections::BTreeMap<_, _>>()
        };
        let selector = &s.engine.resource_selector;
        assert!(selector.matches(&labels(&[("team", "a"), ("tier", "x"), ("env", "prod")])));
        assert!(!selector.matches(&labels(&[("team", "a"), ("tier", "x"), ("env", "dev")])));
        assert!(!selector.matches(&labels(&[("team", "a"), ("env", "prod")])));
        assert_eq!(
            engine(&["--namespace-selector=a:b", "--namespace-selector=c:*"])
                .unwrap()
                .namespace_selector,
            "a:b,c:*"
        );
    }

    #[test]
    fn stakaters_annotation_key_overrides_replace_the_defaults() {
        let keys = engine(&[]).unwrap().keys;
        assert_eq!(keys, AnnotationKeys::default(), "no flag: the default keys");

        let keys = engine(&[
            "--auto-annotation=acme.io/auto",
            "--secret-auto-annotation=acme.io/secret-auto",
            "--configmap-auto-annotation=acme.io/configmap-auto",
            "--secret-annotation=acme.io/secrets",
            "--configmap-annotation=acme.io/configmaps",
            "--auto-search-annotation=acme.io/search",
            "--search-match-annotation=acme.io/match",
            "--ignore-annotation=acme.io/ignore",
            "--pause-deployment-annotation=deployment.acme.io/pause",
            "--pause-deployment-time-annotation=deployment.acme.io/paused-at",
        ])
        .unwrap()
        .keys;
        let want = AnnotationKeys {
            auto: "acme.io/auto".into(),
            secret_auto: "acme.io/secret-auto".into(),
            configmap_auto: "acme.io/configmap-auto".into(),
            secret_reload: "acme.io/secrets".into(),
            configmap_reload: "acme.io/configmaps".into(),
            search: "acme.io/search".into(),
            search_match: "acme.io/match".into(),
            ignore: "acme.io/ignore".into(),
            pause_period: PauseKey::EveryKind("acme.io/pause".into()),
            ..AnnotationKeys::default()
        };
        assert_eq!(keys, want);
        assert_eq!(
            keys.pause_period_key(WorkloadKind::StatefulSet).as_deref(),
            Some("statefulset.acme.io/pause")
        );

        let refused = [
            ("--pause-deployment-annotation=deployment.", "nothing after"),
            ("--auto-annotation=", "cannot be empty"),
            ("--ignore-annotation=a b", "no spaces"),
        ];
        for (flag, says) in refused {
            let Err(err) = engine(&[flag]) else {
                panic!("{flag}: accepted");
            };
            let text = format!("{err:#}");
            assert!(
                text.contains(says) && text.contains(&flag[..flag.find('=').unwrap()]),
                "{flag}: {text}"
            );
        }
    }
}
