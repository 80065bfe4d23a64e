use super::*;

#[test]
fn the_checked_in_files_are_the_default_rendering() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("webhook-config");
    for (name, expected) in render(&RenderOptions::default()).unwrap() {
        let actual = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        assert!(
            actual == expected,
            "webhook-config/{name} differs from the rendering; run `make webhook-config`"
        );
    }
}

#[test]
fn the_ca_bundle_and_url_are_filled_in() {
    let opts = RenderOptions {
        ca_bundle: Some("LS0tLS1CRUdJTg==".into()),
        url: Some("https://127.0.0.1:9443/".into()),
        exclude_namespaces: vec!["kube-system".into()],
        ..RenderOptions::default()
    };
    let vwc = validating_webhook_configuration(&opts).unwrap();
    let hooks = vwc.webhooks.unwrap();
    assert_eq!(
        hooks[0].client_config.ca_bundle.as_ref().unwrap().0,
        b"-----BEGIN"
    );
    assert_eq!(
        hooks[1].client_config.url.as_deref(),
        Some("https://127.0.0.1:9443/validate/reloaderconfigs")
    );
    assert!(hooks[0].client_config.service.is_none());
    let files = render(&opts).unwrap();
    let (_, yaml) = files
        .iter()
        .find(|(name, _)| *name == "validating-webhook-configuration.yaml")
        .unwrap();
    assert!(yaml.contains("caBundle: LS0tLS1CRUdJTg=="), "{yaml}");
    assert!(yaml.contains("kube-system"), "{yaml}");
}

#[test]
fn the_service_path_is_used_without_a_url() {
    let opts = RenderOptions {
        namespace: "ops".into(),
        service_name: "rl".into(),
        ..RenderOptions::default()
    };
    let hooks = validating_webhook_configuration(&opts)
        .unwrap()
        .webhooks
        .unwrap();
    let svc = hooks[0].client_config.service.as_ref().unwrap();
    assert_eq!((svc.name.as_str(), svc.namespace.as_str()), ("rl", "ops"));
    assert_eq!(svc.path.as_deref(), Some("/validate/sources"));
    assert!(hooks[0].client_config.ca_bundle.is_none());
}

#[test]
fn bad_options_are_refused_with_the_flag_named() {
    let bad_ca = RenderOptions {
        ca_bundle: Some("%%%".into()),
        ..RenderOptions::default()
    };
    assert!(
        render(&bad_ca)
            .unwrap_err()
            .to_string()
            .contains("--ca-bundle")
    );
    let http = RenderOptions {
        url: Some("http://x".into()),
        ..RenderOptions::default()
    };
    assert!(render(&http).unwrap_err().to_string().contains("--url"));
}

#[test]
fn secrets_and_configmaps_are_never_listed_or_watched() {
    let (_, role, ..) = rbac(&RenderOptions::default());
    for rule in role.rules.unwrap() {
        let resources = rule.resources.unwrap_or_default();
        if resources
            .iter()
            .any(|r| r == "secrets" || r == "configmaps")
        {
            assert_eq!(rule.verbs, ["get"]);
        }
    }
}
