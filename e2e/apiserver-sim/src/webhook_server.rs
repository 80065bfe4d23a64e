//! A minimal HTTPS admission webhook server: the `deny-webhook` mode and tests use it.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use crate::tls::{self, CertificateAuthority, ServingCertificate, TlsError};

/// Decides an AdmissionReview request; returns the `response` object (uid is filled in).
pub type Decide = Arc<dyn Fn(&Value) -> Value + Send + Sync>;

pub struct WebhookServer {
    pub address: SocketAddr,
    /// PEM of the CA that signed the serving certificate.
    pub ca_pem: String,
    pub task: tokio::task::JoinHandle<()>,
}

impl WebhookServer {
    /// The `caBundle` value for a webhook configuration.
    pub fn ca_bundle(&self) -> String {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(&self.ca_pem)
    }
}

impl Drop for WebhookServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves TLS (certificate for `dns_names`) on `listener`, answering every POST with `decide`.
pub fn start(
    listener: std::net::TcpListener,
    dns_names: &[&str],
    decide: Decide,
) -> Result<WebhookServer, TlsError> {
    let ca = CertificateAuthority::generate("webhook-ca")?;
    let serving = ca.issue(dns_names)?;
    start_with_certificate(listener, &serving, ca.cert_pem, decide)
}

/// Like `start`, serving a given certificate; `ca_pem` is what `ca_bundle` reports
/// (for a self-signed certificate, the certificate itself).
pub fn start_with_certificate(
    listener: std::net::TcpListener,
    serving: &ServingCertificate,
    ca_pem: String,
    decide: Decide,
) -> Result<WebhookServer, TlsError> {
    let acceptor = TlsAcceptor::from(tls::server_config(serving)?);
    let address = listener
        .local_addr()
        .map_err(|e| TlsError::BadBundle(e.to_string()))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| TlsError::BadBundle(e.to_string()))?;
    let listener =
        TcpListener::from_std(listener).map_err(|e| TlsError::BadBundle(e.to_string()))?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let acceptor = acceptor.clone();
            let decide = decide.clone();
            tokio::spawn(async move {
                let Ok(stream) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let decide = decide.clone();
                    async move {
                        let body = request
                            .into_body()
                            .collect()
                            .await
                            .map(|c| c.to_bytes())
                            .unwrap_or_default();
                        let review: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let mut response = decide(&review["request"]);
                        response["uid"] = review["request"]["uid"].clone();
                        let answer = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": response});
                        let mut reply = http::Response::new(Full::new(Bytes::from(
                            serde_json::to_vec(&answer).unwrap_or_default(),
                        )));
                        reply.headers_mut().insert(
                            http::header::CONTENT_TYPE,
                            http::HeaderValue::from_static("application/json"),
                        );
                        Ok::<_, std::convert::Infallible>(reply)
                    }
                });
                let _ = auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(WebhookServer {
        address,
        ca_pem,
        task,
    })
}

/// A decision that denies with `message` (code 403).
pub fn deny_with(message: String) -> Decide {
    Arc::new(
        move |_| json!({"allowed": false, "status": {"code": 403, "reason": "Forbidden", "message": message}}),
    )
}
