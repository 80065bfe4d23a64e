//! A webhook whose serving certificate is self-signed and is itself the caBundle
//! (what `openssl req -x509 …` gives) is called, as kube-apiserver calls it; a
//! certificate for another name, or one not in the bundle, is still refused.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};

use apiserver_sim::tls::ServingCertificate;
use apiserver_sim::webhook_server::{self, Decide, WebhookServer};
use base64::Engine;
use common::{api_error, create_namespace, start};
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams};
use serde_json::json;

/// `openssl req -x509` with a SAN for `ip`, plus `extra` arguments; returns (cert PEM, key DER).
fn openssl_self_signed(dir: &Path, ip: &str, extra: &[&str]) -> (String, Vec<u8>) {
    let (cert, key) = (dir.join("tls.crt"), dir.join("tls.key"));
    let status = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", &format!("/CN={ip}")])
        .args(["-addext", &format!("subjectAltName=IP:{ip}")])
        .args(extra)
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl runs");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    let key_pem = std::fs::read(&key).expect("key");
    let key_der = rustls_pemfile::private_key(&mut key_pem.as_slice())
        .expect("key parses")
        .expect("a key")
        .secret_der()
        .to_vec();
    (std::fs::read_to_string(&cert).expect("cert"), key_der)
}

/// A self-signed certificate from rcgen, without basicConstraints.
fn rcgen_self_signed() -> (String, Vec<u8>) {
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("params");
    let key = rcgen::KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("cert");
    (cert.pem(), key.serialize_der())
}

type Seen = Arc<Mutex<u32>>;

fn serve(cert_pem: &str, key_der: Vec<u8>) -> (WebhookServer, Seen) {
    let cert_der = rustls_pemfile::certs(&mut cert_pem.as_bytes())
        .next()
        .expect("a certificate")
        .expect("parses");
    let serving = ServingCertificate {
        cert_pem: cert_pem.to_string(),
        cert_der,
        key_der,
    };
    let seen: Seen = Arc::default();
    let count = seen.clone();
    let decide: Decide = Arc::new(move |_| {
        *count.lock().expect("lock") += 1;
        json!({"allowed": false, "status": {"code": 403, "reason": "Forbidden", "message": "self-signed says no"}})
    });
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let server =
        webhook_server::start_with_certificate(listener, &serving, cert_pem.to_string(), decide)
            .expect("webhook");
    (server, seen)
}

fn configuration(name: &str, url: &str, ca_bundle_pem: &str) -> ValidatingWebhookConfiguration {
    let ca_bundle = base64::engine::general_purpose::STANDARD.encode(ca_bundle_pem);
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "webhooks": [{
            "name": format!("{name}.example.com"),
            "clientConfig": {"url": url, "caBundle": ca_bundle},
            "rules": [{"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["configmaps"]}],
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}},
            "failurePolicy": "Fail",
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": 5
        }]
    }))
    .expect("configuration")
}

/// Registers a webhook for configmaps in namespace `name` and creates one there.
async fn create_configmap_through(
    client: &kube::Client,
    name: &str,
    url: &str,
    ca_bundle_pem: &str,
) -> (u16, String) {
    create_namespace(client, name).await;
    Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .create(
            &PostParams::default(),
            &configuration(name, url, ca_bundle_pem),
        )
        .await
        .expect("configuration created");
    let configmap: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "c"}})).expect("configmap");
    let error = Api::<ConfigMap>::namespaced(client.clone(), name)
        .create(&PostParams::default(), &configmap)
        .await
        .expect_err("the webhook denies or cannot be called");
    let (code, _, message) = api_error(error);
    (code, message)
}

fn url(server: &WebhookServer) -> String {
    format!("https://127.0.0.1:{}/validate", server.address.port())
}

#[tokio::test]
async fn a_self_signed_leaf_that_is_the_ca_bundle_is_called_and_can_deny() {
    let dir = tempfile::tempdir().expect("dir");
    let variants: Vec<(&str, (String, Vec<u8>))> = vec![
        (
            "openssl-ca-true",
            openssl_self_signed(dir.path(), "127.0.0.1", &[]),
        ),
        (
            "openssl-ca-false",
            openssl_self_signed(
                dir.path(),
                "127.0.0.1",
                &["-addext", "basicConstraints=critical,CA:FALSE"],
            ),
        ),
        ("rcgen-no-constraints", rcgen_self_signed()),
    ];
    let (_sim, client) = start().await;
    for (name, (cert_pem, key_der)) in variants {
        let (server, seen) = serve(&cert_pem, key_der);
        let (code, message) =
            create_configmap_through(&client, name, &url(&server), &cert_pem).await;
        assert_eq!(*seen.lock().expect("lock"), 1, "{name}: {message}");
        assert_eq!(code, 403, "{name}: {message}");
        assert_eq!(
            message,
            format!(
                "admission webhook \"{name}.example.com\" denied the request: self-signed says no"
            )
        );
    }
}

#[tokio::test]
async fn a_self_signed_leaf_is_still_checked_for_its_name_and_membership() {
    let dir = tempfile::tempdir().expect("dir");
    let (_sim, client) = start().await;
    // In the bundle, but issued for another address.
    let (wrong_name, key) = openssl_self_signed(dir.path(), "127.0.0.2", &[]);
    let (server, seen) = serve(&wrong_name, key);
    let (code, message) =
        create_configmap_through(&client, "wrong-name", &url(&server), &wrong_name).await;
    assert_eq!((code, *seen.lock().expect("lock")), (500, 0), "{message}");
    assert!(message.contains("failed calling webhook"), "{message}");
    // Self-signed and valid for the address, but the bundle holds another certificate.
    let (cert, key) = openssl_self_signed(dir.path(), "127.0.0.1", &[]);
    let (other, _) = rcgen_self_signed();
    let (server, seen) = serve(&cert, key);
    let (code, message) =
        create_configmap_through(&client, "not-in-bundle", &url(&server), &other).await;
    assert_eq!((code, *seen.lock().expect("lock")), (500, 0), "{message}");
}
