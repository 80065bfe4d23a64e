//! The Helm chart installed for real: `helm install` of helm/reloader on kube-apiserver
//! creates every object it renders (the CRD from crds/ included), its webhooks call the
//! out-of-cluster `webhook.url`, and the `reloader serve` binary, run here as the chart's
//! ServiceAccount with the chart Deployment's flags, rolls a Deployment on a Secret change
//! with no more than the chart's RBAC.

use crate::cluster_harness::Cluster;
use crate::{
    SHOP, a_secret_change_rolls_the_deployment, every_webhook_calls,
    the_local_reloader_holds_the_lease, the_meta_info_configmap_is_published,
    the_service_account_has_exactly_the_intended_permissions,
};

const NAMESPACE: &str = "platform";
const RELEASE: &str = "rel";
/// The chart's full name for release `rel`: every object it makes is called this.
const FULLNAME: &str = "rel-reloader";
const CRD: &str = "reloaderconfigs.reloader.stakater.com";

/// Every object `helm install` must create: `(kind, namespace or "", name)`.
fn installed_objects() -> Vec<(&'static str, &'static str, String)> {
    let name = FULLNAME.to_owned();
    vec![
        (
            "customresourcedefinition.apiextensions.k8s.io",
            "",
            CRD.to_owned(),
        ),
        ("clusterrole.rbac.authorization.k8s.io", "", name.clone()),
        (
            "clusterrolebinding.rbac.authorization.k8s.io",
            "",
            name.clone(),
        ),
        (
            "role.rbac.authorization.k8s.io",
            NAMESPACE,
            format!("{FULLNAME}-leader-election"),
        ),
        (
            "rolebinding.rbac.authorization.k8s.io",
            NAMESPACE,
            format!("{FULLNAME}-leader-election"),
        ),
        ("serviceaccount", NAMESPACE, name.clone()),
        ("service", NAMESPACE, name.clone()),
        ("deployment.apps", NAMESPACE, name.clone()),
        (
            "validatingwebhookconfiguration.admissionregistration.k8s.io",
            "",
            name.clone(),
        ),
        (
            "mutatingwebhookconfiguration.admissionregistration.k8s.io",
            "",
            name,
        ),
    ]
}

fn values(cluster: &Cluster) -> String {
    format!(
        r#"# As docs/webhook.md suggests for a reloader running outside the cluster.
replicas: 0
certManager: {{enabled: false}}
tls:
  secretName: reloader-tls
  caBundle: "{ca}"
webhook:
  url: "https://127.0.0.1:{port}"
"#,
        ca = cluster.ca_bundle(),
        port = cluster.webhook_port,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helm_install_creates_the_chart_and_reloader_as_its_service_account_rolls_a_deployment() {
    let mut cluster = Cluster::start_real().await;
    // The harness installs the CRD; remove it so the chart's crds/ has to.
    cluster.kubectl(&["delete", "crd", CRD, "--wait"]);

    cluster.create_serving_secret(NAMESPACE);
    let values_file = cluster.dir.path().join("values.yaml");
    std::fs::write(&values_file, values(&cluster)).expect("values file");
    let chart = crate::cluster_harness::control_plane::repo_root().join("helm/reloader");
    let out = cluster.helm(&[
        "install",
        RELEASE,
        chart.to_str().unwrap(),
        "--namespace",
        NAMESPACE,
        "--values",
        values_file.to_str().unwrap(),
    ]);
    assert!(out.contains("STATUS: deployed"), "{out}");

    for (kind, namespace, name) in installed_objects() {
        let mut args = vec!["get", kind, name.as_str(), "-o", "name"];
        if !namespace.is_empty() {
            args.extend(["-n", namespace]);
        }
        let got = cluster.kubectl_raw(&args, None);
        assert_eq!(
            String::from_utf8_lossy(&got.stdout).trim(),
            format!("{kind}/{name}"),
            "helm install created {kind} {namespace}/{name}: {}",
            String::from_utf8_lossy(&got.stderr)
        );
    }
    cluster.kubectl(&[
        "wait",
        "--for=condition=Established",
        "--timeout=60s",
        "crd",
        CRD,
    ]);

    // webhook.url: every webhook calls the URL plus its path, none the Service.
    let base = format!("https://127.0.0.1:{}", cluster.webhook_port);
    every_webhook_calls(&cluster, FULLNAME, &base);

    cluster.apply(&SHOP);
    let kubeconfig = cluster.service_account_kubeconfig(NAMESPACE, FULLNAME);
    let args = cluster.deployment_args(NAMESPACE, FULLNAME);
    assert!(
        args.iter().any(|a| a == "--leader-elect"),
        "the chart's Deployment elects a leader: {args:?}"
    );
    let reloader = cluster.start_installed_reloader(NAMESPACE, FULLNAME, &kubeconfig);

    a_secret_change_rolls_the_deployment(&cluster, &reloader, NAMESPACE, FULLNAME).await;
    the_local_reloader_holds_the_lease(&cluster, NAMESPACE).await;
    the_service_account_has_exactly_the_intended_permissions(&cluster, NAMESPACE, FULLNAME);
    the_meta_info_configmap_is_published(&cluster, NAMESPACE, FULLNAME).await;
}
