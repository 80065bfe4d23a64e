use super::*;
use serde_json::{Value, json};

fn schema() -> Value {
    let crd = ReloaderConfig::crd();
    let version = &crd.spec.versions[0];
    serde_json::to_value(
        version
            .schema
            .as_ref()
            .unwrap()
            .open_api_v3_schema
            .as_ref()
            .unwrap(),
    )
    .unwrap()
}

/// Runs the CRD's CEL rules (`x-kubernetes-validations`) the way the API server would.
fn cel_errors(spec: Value) -> Vec<String> {
    let object = json!({
        "apiVersion": "reloader.stakater.com/v1alpha1",
        "kind": "ReloaderConfig",
        "metadata": {"name": "rc", "namespace": "team-a"},
        "spec": spec,
    });
    match kube::core::cel::Validator::new().validate(&schema(), &object, None) {
        Ok(()) => vec![],
        Err(errors) => errors.to_string().lines().map(str::to_owned).collect(),
    }
}

#[test]
fn checked_in_crd_is_what_reloader_crd_prints() {
    let checked_in = include_str!("../../../webhook-config/crd.yaml");
    assert_eq!(
        crd_yaml().unwrap(),
        checked_in,
        "webhook-config/crd.yaml drifted: run `make crds`"
    );
}

#[test]
fn api_identity_is_stable() {
    let crd = ReloaderConfig::crd();
    assert_eq!(crd.spec.group, "reloader.stakater.com");
    assert_eq!(crd.spec.names.kind, "ReloaderConfig");
    assert_eq!(crd.spec.names.plural, "reloaderconfigs");
    assert_eq!(crd.spec.scope, "Namespaced");
    assert_eq!(crd.spec.versions[0].name, "v1alpha1");
    let status = crd.spec.versions[0]
        .subresources
        .as_ref()
        .unwrap()
        .status
        .as_ref();
    assert!(status.is_some(), "status must be a subresource");
}

#[test]
fn short_names_do_not_collide_with_built_in_resources() {
    // Short names and names that built-in kubectl resources already answer to.
    const BUILT_IN: &[&str] = &[
        "rc", "cm", "cs", "csr", "crd", "crds", "deploy", "ds", "ep", "ev", "hpa", "ing", "limits",
        "netpol", "no", "ns", "pdb", "po", "psp", "pv", "pvc", "quota", "rs", "sa", "sc", "sts",
        "svc", "cj", "pc", "ingclass", "vac", "rcs",
    ];
    let crd = ReloaderConfig::crd();
    let short = crd.spec.names.short_names.clone().unwrap();
    assert!(!short.is_empty());
    for name in short {
        assert!(
            !BUILT_IN.contains(&name.as_str()),
            "{name} is taken by a built-in resource"
        );
    }
}

#[test]
fn printer_columns_are_the_documented_ones() {
    let crd = ReloaderConfig::crd();
    let names: Vec<_> = crd.spec.versions[0]
        .additional_printer_columns
        .iter()
        .flatten()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Strategy",
            "Targets",
            "Reloads",
            "Last Reload",
            "Ready",
            "Age"
        ]
    );
}

#[test]
fn a_minimal_spec_gets_its_defaults() {
    let spec: ReloaderConfigSpec = serde_json::from_value(json!({
        "watchedResources": {"secrets": ["db"]},
        "targets": [{"kind": "Deployment", "name": "web"}],
    }))
    .unwrap();
    assert_eq!(spec.reload_strategy, "env-vars");
    assert!(!spec.auto_reload_all);
    assert!(spec.watched_resources.config_maps.is_empty());
    assert_eq!(spec.pause_period, None);
}

#[test]
fn cel_rules_accept_and_reject_as_documented() {
    let target = json!([{"kind": "Deployment", "name": "web"}]);
    let cases = [
        (
            "watching a secret is enough",
            json!({"watchedResources": {"secrets": ["db"]}, "targets": target}),
            None,
        ),
        (
            "autoReloadAll without watched resources is enough",
            json!({"autoReloadAll": true, "targets": target}),
            None,
        ),
        (
            "nothing watched and autoReloadAll off is refused",
            json!({"watchedResources": {"secrets": [], "configMaps": []}, "targets": target}),
            Some("must name at least one Secret or ConfigMap"),
        ),
        (
            "an alert with only a url is fine",
            json!({"autoReloadAll": true, "targets": target,
                   "alerts": {"slack": {"url": "https://hooks.example/x"}}}),
            None,
        ),
        (
            "an alert with both url and secretRef is refused",
            json!({"autoReloadAll": true, "targets": target,
                   "alerts": {"teams": {"url": "https://x", "secretRef": {"name": "s", "key": "k"}}}}),
            Some("exactly one of url or secretRef"),
        ),
        (
            "an alert with neither url nor secretRef is refused",
            json!({"autoReloadAll": true, "targets": target, "alerts": {"webhook": {}}}),
            Some("exactly one of url or secretRef"),
        ),
    ];
    for (name, spec, expected) in cases {
        let errors = cel_errors(spec);
        match expected {
            None => assert!(errors.is_empty(), "{name}: unexpected {errors:?}"),
            Some(text) => assert!(
                errors.iter().any(|e| e.contains(text)),
                "{name}: expected an error containing {text:?}, got {errors:?}"
            ),
        }
    }
}

#[test]
fn duration_pattern_agrees_with_the_parser() {
    let pattern = regex::Regex::new(DURATION_PATTERN).unwrap();
    for text in ["0", "30s", "5m", "1h30m", "1.5h", "300ms", "2µs", "10s1h"] {
        assert!(pattern.is_match(text), "{text} should match");
        assert!(
            crate::duration::parse_duration(text).is_ok(),
            "{text} should parse"
        );
    }
    for text in ["", "30", "5d", "-5s", "five", "1h 30m"] {
        assert!(!pattern.is_match(text), "{text} should not match");
        assert!(
            crate::duration::parse_duration(text).is_err(),
            "{text} should not parse"
        );
    }
}

#[test]
fn dns_pattern_accepts_names_and_refuses_others() {
    let pattern = regex::Regex::new(DNS1123_SUBDOMAIN_PATTERN).unwrap();
    for ok in ["web", "db-creds", "www.stakater.com", "a1"] {
        assert!(pattern.is_match(ok), "{ok}");
    }
    for bad in ["Web", "-web", "web-", "a_b", "", "a..b"] {
        assert!(!pattern.is_match(bad), "{bad}");
    }
}

#[test]
fn the_schema_pattern_and_the_webhook_agree_on_names() {
    // Two layers check names: the API server with the schema pattern, the webhook to say
    // precisely what is wrong. They must accept and refuse the same names.
    let pattern = regex::Regex::new(DNS1123_SUBDOMAIN_PATTERN).unwrap();
    let long = "a".repeat(254);
    for name in [
        "web",
        "a.b-c",
        "0",
        "Web",
        "-a",
        "a-",
        "a..b",
        "a_b",
        "",
        ".a",
        long.as_str(),
    ] {
        let schema_ok = pattern.is_match(name) && name.len() <= 253;
        let webhook_ok = crate::validation::dns1123_problem(name).is_none();
        assert_eq!(schema_ok, webhook_ok, "{name:?}");
    }
}

/// Every `(path, schema)` below `schema`, the root first.
fn subschemas<'a>(path: String, schema: &'a Value, out: &mut Vec<(String, &'a Value)>) {
    out.push((path.clone(), schema));
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, sub) in properties {
            subschemas(format!("{path}.{name}"), sub, out);
        }
    }
    if let Some(items) = schema.get("items") {
        subschemas(format!("{path}[]"), items, out);
    }
    if let Some(values) = schema.get("additionalProperties").filter(|v| v.is_object()) {
        subschemas(format!("{path}{{}}"), values, out);
    }
}

#[test]
fn no_enum_is_nullable() {
    // kube-apiserver checks an enum against the null of a nullable field and refuses it
    // ("Unsupported value: null"), but drops the null of a field that is not nullable, as
    // if it were absent. An optional enum must therefore not be nullable, or `null` (what
    // templating tools write for an unset value) is refused. tests/control_plane/crd.rs
    // shows both on the real API server.
    let schema = schema();
    let mut all = Vec::new();
    subschemas(String::new(), &schema, &mut all);
    let nullable_enums: Vec<&str> = all
        .iter()
        .filter(|(_, s)| s.get("enum").is_some() && s.get("nullable") == Some(&json!(true)))
        .map(|(path, _)| path.as_str())
        .collect();
    assert!(
        nullable_enums.is_empty(),
        "nullable enums: {nullable_enums:?}"
    );
    let target_strategy = &schema["properties"]["spec"]["properties"]["targets"]["items"]["properties"]
        ["reloadStrategy"];
    assert_eq!(target_strategy["enum"], json!(["env-vars", "annotations"]));
    assert_eq!(target_strategy["type"], json!("string"));
}
