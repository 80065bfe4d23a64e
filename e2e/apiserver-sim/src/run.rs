//! Starting the simulator: certificates, kubeconfig, listener.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::app::{App, Settings};
use crate::http::server;
use crate::kubeconfig;
use crate::object::new_uid;
use crate::tls::{self, CertificateAuthority};

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot listen on {address}: {source}")]
    Listen {
        address: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("cannot write kubeconfig {path}: {source}")]
    Kubeconfig {
        path: PathBuf,
        source: std::io::Error,
    },
}

pub struct ServeOptions {
    pub listen: String,
    pub kubeconfig_out: PathBuf,
    pub service_endpoints: HashMap<String, String>,
    pub watch_window: usize,
    pub bookmark_interval: Duration,
    pub simulate_rollouts: bool,
}

pub struct Running {
    pub address: SocketAddr,
    pub app: Arc<App>,
    pub server: tokio::task::JoinHandle<()>,
}

/// Binds, writes the kubeconfig, and starts serving in the background.
pub async fn start(options: ServeOptions) -> Result<Running, RunError> {
    let listener = TcpListener::bind(&options.listen)
        .await
        .map_err(|source| RunError::Listen {
            address: options.listen.clone(),
            source,
        })?;
    let address = listener.local_addr().map_err(|source| RunError::Listen {
        address: options.listen.clone(),
        source,
    })?;
    let ca = CertificateAuthority::generate("apiserver-sim-ca")?;
    let ip = address.ip().to_string();
    let serving = ca.issue(&[ip.as_str(), "localhost", "kubernetes.default.svc"])?;
    let tls_config = tls::server_config(&serving)?;
    let token = new_uid();
    let url = format!("https://{address}");
    let text = kubeconfig::render(&url, &ca.cert_pem, &token);
    std::fs::write(&options.kubeconfig_out, text).map_err(|source| RunError::Kubeconfig {
        path: options.kubeconfig_out.clone(),
        source,
    })?;
    let app = Arc::new(App::new(Settings {
        token,
        server_address: address.to_string(),
        watch_window: options.watch_window,
        bookmark_interval: options.bookmark_interval,
        service_endpoints: options.service_endpoints,
        simulate_rollouts: options.simulate_rollouts,
    }));
    let server = tokio::spawn(server::serve(listener, tls_config, app.clone()));
    Ok(Running {
        address,
        app,
        server,
    })
}
