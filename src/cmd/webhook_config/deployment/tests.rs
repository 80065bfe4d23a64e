use super::*;
use crate::cmd::cli::Cli;
use clap::Parser;

#[test]
fn serve_accepts_every_argument_the_deployment_passes() {
    let mut argv = vec!["reloader".to_owned()];
    argv.extend(serve_args());
    let parsed = Cli::try_parse_from(&argv);
    assert!(parsed.is_ok(), "{argv:?}: {:?}", parsed.err());
}

#[test]
fn the_pods_match_the_service_and_mount_the_tls_secret() {
    let opts = RenderOptions {
        tls_secret: "serving-pair".to_owned(),
        image: "registry.example/reloader:1.2.3".to_owned(),
        ..RenderOptions::default()
    };
    let d = deployment(&opts);
    let spec = d.spec.unwrap();
    let pod = spec.template.spec.unwrap();
    let service_selector = super::super::service(&opts).spec.unwrap().selector.unwrap();
    let pod_labels = spec.template.metadata.unwrap().labels.unwrap();
    for (k, v) in &service_selector {
        assert_eq!(pod_labels.get(k), Some(v), "service selector {k}");
    }
    assert_eq!(spec.selector.match_labels.unwrap(), service_selector);
    assert_eq!(
        pod.volumes.unwrap()[0]
            .secret
            .as_ref()
            .unwrap()
            .secret_name
            .as_deref(),
        Some("serving-pair")
    );
    assert_eq!(
        pod.containers[0].image.as_deref(),
        Some("registry.example/reloader:1.2.3")
    );
    assert_eq!(pod.service_account_name.as_deref(), Some("reloader"));
}
