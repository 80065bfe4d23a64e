//! A real TLS webhook server on 127.0.0.1 and a keep-alive TLS client for it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use reloader::cmd::certs::Ca;
use reloader::webhook::tls::{self, CertPaths, CertWatcher, ReloadingCert};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio_rustls::TlsConnector;

use super::Harness;

/// Writes a serving pair for 127.0.0.1/localhost signed by `ca` into `dir`.
pub fn write_pair(ca: &Ca, dir: &Path) -> CertPaths {
    let (cert, key) = ca
        .issue(&["localhost".to_owned(), "127.0.0.1".to_owned()], 1)
        .unwrap();
    let paths = CertPaths {
        cert: dir.join("tls.crt"),
        key: dir.join("tls.key"),
    };
    std::fs::write(&paths.cert, cert).unwrap();
    std::fs::write(&paths.key, key).unwrap();
    paths
}

pub struct TlsServer {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
    watcher: tokio::task::JoinHandle<()>,
}

impl TlsServer {
    /// Serves `harness`' router with the pair at `paths`, re-reading it every 50 ms.
    pub async fn start(harness: &Harness, paths: &CertPaths) -> Self {
        Self::start_router(harness, paths, harness.router()).await
    }

    /// Serves `router` (for benchmarks comparing handlers) with `harness`' limits.
    pub async fn start_router(harness: &Harness, paths: &CertPaths, router: axum::Router) -> Self {
        let (key, c, k) = tls::load(paths).unwrap();
        let resolver = ReloadingCert::new(key);
        let acceptor =
            tokio_rustls::TlsAcceptor::from(tls::server_config(resolver.clone()).unwrap());
        let watcher = CertWatcher::new(
            paths.clone(),
            resolver,
            harness.state.metrics.clone(),
            (c, k),
        );
        let watcher = tokio::spawn(watcher.run(Duration::from_millis(50)));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(reloader::webhook::server::serve_tls(
            listener,
            acceptor,
            router,
            harness.state.limits,
            async move {
                let _ = stopped.await;
            },
            Duration::from_secs(5),
        ));
        Self {
            addr,
            stop: Some(stop),
            task,
            watcher,
        }
    }

    pub async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let _ = self.task.await;
        self.watcher.abort();
    }
}

pub fn client_config(ca_pem: &str, tls12_only: bool, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let versions: &[&rustls::SupportedProtocolVersion] = if tls12_only {
        &[&rustls::version::TLS12]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Arc::new(config)
}

/// One TLS connection carrying HTTP/1.1 keep-alive requests.
pub struct Client {
    sender: http1::SendRequest<Full<Bytes>>,
    /// The leaf certificate the server presented on this connection.
    pub peer_cert: Vec<u8>,
    pub protocol: rustls::ProtocolVersion,
}

pub async fn tls_connect(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    TlsConnector::from(config)
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
}

impl Client {
    pub async fn connect(
        addr: SocketAddr,
        config: Arc<rustls::ClientConfig>,
    ) -> std::io::Result<Self> {
        let tls = tls_connect(addr, config).await?;
        let (_, session) = tls.get_ref();
        let peer_cert = session.peer_certificates().unwrap()[0].to_vec();
        let protocol = session.protocol_version().unwrap();
        let (sender, conn) = http1::handshake(TokioIo::new(tls))
            .await
            .map_err(std::io::Error::other)?;
        tokio::spawn(conn);
        Ok(Self {
            sender,
            peer_cert,
            protocol,
        })
    }

    pub async fn post(
        &mut self,
        path: &str,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), hyper::Error> {
        self.sender.ready().await?;
        let req = Request::post(path)
            .header("content-type", "application/json")
            .header("host", "localhost")
            .body(Full::new(body))
            .unwrap();
        let resp = self.sender.send_request(req).await?;
        let status = resp.status();
        let body = resp.into_body().collect().await?.to_bytes();
        Ok((status, body))
    }
}

/// `reloader serve` with the pair in `dir`, on loopback ports of the system's choosing,
/// and without API access: no in-cluster variables, a kubeconfig that does not exist.
/// Standard input and output are closed; standard error is piped.
pub fn serve_command(dir: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_reloader"));
    command
        .arg("serve")
        .arg("--tls-cert-file")
        .arg(dir.join("tls.crt"))
        .arg("--tls-key-file")
        .arg(dir.join("tls.key"))
        .args([
            "--webhook-addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
        ])
        .env("KUBECONFIG", dir.join("no-such-kubeconfig"))
        .env("RUST_BACKTRACE", "0")
        .env_remove("RUST_LOG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .env_remove("RELOADER_KUBECONFIG")
        .env_remove("RELOADER_LOG_ONLY")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    command
}

pub fn temp_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    (dir, path)
}
