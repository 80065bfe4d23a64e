//! Calling one webhook: resolving `clientConfig` to an address, verifying the serving
//! certificate against `caBundle`, and posting the AdmissionReview.

use std::collections::HashMap;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::tls;

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("{0}")]
    Config(String),
    #[error("Post \"{url}\": {reason}")]
    Transport { url: String, reason: String },
    #[error("Post \"{url}\": context deadline exceeded")]
    Timeout { url: String },
    #[error("received invalid webhook response: {0}")]
    BadResponse(String),
}

/// Where and how to reach a webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// host:port to open the TCP connection to.
    pub connect_to: String,
    /// Name the serving certificate must be valid for.
    pub server_name: String,
    /// Host header value.
    pub authority: String,
    pub path_and_query: String,
    /// The URL as the real server would name it in error messages.
    pub display_url: String,
}

/// Resolves `clientConfig.url` or `clientConfig.service` (through the simulator's
/// `--service-endpoint` table, keyed `namespace/name`).
pub fn resolve(
    client_config: &Value,
    service_endpoints: &HashMap<String, String>,
    timeout: Duration,
) -> Result<Endpoint, CallError> {
    let timeout_query = format!("timeout={}s", timeout.as_secs());
    if let Some(url) = client_config["url"].as_str() {
        let rest = url
            .strip_prefix("https://")
            .ok_or_else(|| CallError::Config(format!("webhook URL {url:?} must use https")))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let host = match authority.rsplit_once(':') {
            Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
            _ => authority,
        };
        let connect_to = if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:443")
        };
        let separator = if path.contains('?') { '&' } else { '?' };
        let path_and_query = format!("{path}{separator}{timeout_query}");
        return Ok(Endpoint {
            connect_to,
            server_name: host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string(),
            authority: authority.to_string(),
            display_url: format!("https://{authority}{path_and_query}"),
            path_and_query,
        });
    }
    let service = &client_config["service"];
    let (Some(namespace), Some(name)) = (service["namespace"].as_str(), service["name"].as_str())
    else {
        return Err(CallError::Config(
            "webhook clientConfig has neither url nor service".into(),
        ));
    };
    let port = service["port"].as_i64().unwrap_or(443);
    let path = service["path"].as_str().unwrap_or("/");
    let server_name = format!("{name}.{namespace}.svc");
    let path_and_query = format!("{path}?{timeout_query}");
    let display_url = format!("https://{server_name}:{port}{path_and_query}");
    let connect_to = service_endpoints
        .get(&format!("{namespace}/{name}"))
        .cloned()
        .ok_or_else(|| CallError::Transport {
            url: display_url.clone(),
            reason: format!("no endpoints available for service \"{namespace}/{name}\""),
        })?;
    Ok(Endpoint {
        connect_to,
        authority: format!("{server_name}:{port}"),
        server_name,
        path_and_query,
        display_url,
    })
}

/// Decodes `caBundle` (base64 of PEM, as stored in the configuration).
pub fn decode_ca_bundle(client_config: &Value) -> Result<Vec<u8>, CallError> {
    let encoded = client_config["caBundle"].as_str().unwrap_or_default();
    base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .map_err(|e| CallError::Config(format!("invalid caBundle: {e}")))
}

/// Posts a review and returns the parsed response body.
pub async fn post_review(
    endpoint: &Endpoint,
    ca_bundle: &[u8],
    review: &Value,
    timeout: Duration,
) -> Result<Value, CallError> {
    let url = endpoint.display_url.clone();
    match tokio::time::timeout(timeout, post(endpoint, ca_bundle, review)).await {
        Ok(result) => result,
        Err(_) => Err(CallError::Timeout { url }),
    }
}

async fn post(endpoint: &Endpoint, ca_bundle: &[u8], review: &Value) -> Result<Value, CallError> {
    let transport = |reason: String| CallError::Transport {
        url: endpoint.display_url.clone(),
        reason,
    };
    let config = tls::client_config_trusting(ca_bundle).map_err(|e| transport(e.to_string()))?;
    let mut config = (*config).clone();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let server_name =
        ServerName::try_from(endpoint.server_name.clone()).map_err(|e| transport(e.to_string()))?;
    let tcp = TcpStream::connect(&endpoint.connect_to)
        .await
        .map_err(|e| transport(format!("dial tcp {}: {e}", endpoint.connect_to)))?;
    let stream = TlsConnector::from(std::sync::Arc::new(config))
        .connect(server_name, tcp)
        .await
        .map_err(|e| transport(format!("tls: {e}")))?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| transport(e.to_string()))?;
    tokio::spawn(connection);
    let body = serde_json::to_vec(review).map_err(|e| transport(e.to_string()))?;
    let request = http::Request::post(endpoint.path_and_query.as_str())
        .header(http::header::HOST, endpoint.authority.as_str())
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::ACCEPT, "application/json, */*")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| transport(e.to_string()))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| transport(e.to_string()))?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|e| transport(e.to_string()))?
        .to_bytes();
    if !status.is_success() {
        return Err(CallError::BadResponse(format!(
            "the server responded with status {}: {}",
            status.as_u16(),
            String::from_utf8_lossy(&bytes)
        )));
    }
    serde_json::from_slice(&bytes).map_err(|e| CallError::BadResponse(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn service_reference_resolves_through_endpoint_table() {
        let table: HashMap<String, String> =
            [("sys/hook".to_string(), "127.0.0.1:9443".to_string())].into();
        let config =
            json!({"service": {"namespace": "sys", "name": "hook", "path": "/validate/sources"}});
        let endpoint = resolve(&config, &table, Duration::from_secs(10)).expect("resolves");
        assert_eq!(endpoint.connect_to, "127.0.0.1:9443");
        assert_eq!(endpoint.server_name, "hook.sys.svc");
        assert_eq!(endpoint.path_and_query, "/validate/sources?timeout=10s");
        assert_eq!(
            endpoint.display_url,
            "https://hook.sys.svc:443/validate/sources?timeout=10s"
        );
    }

    #[test]
    fn unknown_service_is_a_transport_error() {
        let config = json!({"service": {"namespace": "sys", "name": "missing"}});
        assert!(matches!(
            resolve(&config, &HashMap::new(), Duration::from_secs(1)),
            Err(CallError::Transport { .. })
        ));
    }

    #[test]
    fn url_reference_keeps_host_and_port() {
        let config = json!({"url": "https://127.0.0.1:8443/deny"});
        let endpoint = resolve(&config, &HashMap::new(), Duration::from_secs(5)).expect("resolves");
        assert_eq!(
            (endpoint.connect_to.as_str(), endpoint.server_name.as_str()),
            ("127.0.0.1:8443", "127.0.0.1")
        );
        assert_eq!(endpoint.path_and_query, "/deny?timeout=5s");
    }

    #[test]
    fn plain_http_url_is_rejected() {
        assert!(
            resolve(
                &json!({"url": "http://x/y"}),
                &HashMap::new(),
                Duration::from_secs(1)
            )
            .is_err()
        );
    }
}
