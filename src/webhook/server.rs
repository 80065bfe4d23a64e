//! HTTP plumbing: the webhook router (served over TLS) and the operations router
//! (`/healthz`, `/readyz`, `/metrics`, plain HTTP), with connection-level limits.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::routing::{get, post};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::{ApiError, AppState, Limits, reloaderconfig, sources, workloads};
use crate::metrics::Metrics;

/// The webhook routes.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/validate/sources", post(sources::handle))
        .route("/validate/reloaderconfigs", post(reloaderconfig::handle))
        .route("/mutate/workloads", post(workloads::handle))
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .fallback(|| async { ApiError::NotFound })
        .with_state(state)
}

/// Whether the process is ready to serve reviews (the serving certificate is loaded).
#[derive(Clone, Debug, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::Release);
    }
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The running log filter, as the command layer installed it: read and replaced by
/// `/log-level`.
pub trait LogControl: Send + Sync {
    fn get(&self) -> String;
    /// Replaces the filter; `Err` with the reason when `level` is not a valid filter.
    fn set(&self, level: &str) -> Result<(), String>;
}

#[derive(Clone)]
struct OpsState {
    metrics: Arc<Metrics>,
    ready: Readiness,
}

/// Longest `PUT /log-level` body: a filter is a line of directives.
const LOG_LEVEL_BODY: usize = 1024;

/// `GET /log-level` (the filter) and `PUT /log-level` (a new one, as the body), present only
/// when `--log-level-endpoint` is on: whoever reaches the ops port can then change it.
fn log_level_routes(log: &'static dyn LogControl) -> Router {
    Router::new()
        .route(
            "/log-level",
            get(move || async move { format!("{}\n", log.get()) }).put(
                move |body: String| async move {
                    match log.set(&body) {
                        Ok(()) => (StatusCode::OK, format!("{}\n", log.get())),
                        Err(reason) => (StatusCode::BAD_REQUEST, format!("{reason}\n")),
                    }
                },
            ),
        )
        .layer(axum::extract::DefaultBodyLimit::max(LOG_LEVEL_BODY))
}

/// `/healthz`, `/readyz` and `/metrics`; `/log-level` when `log` is given.
pub fn ops_router(
    metrics: Arc<Metrics>,
    ready: Readiness,
    log: Option<&'static dyn LogControl>,
) -> Router {
    let router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(|State(s): State<OpsState>| async move {
                if s.ready.get() {
                    (StatusCode::OK, "ok")
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, "not ready")
                }
            }),
        )
        .route(
            "/metrics",
            get(|State(s): State<OpsState>| async move {
                (
                    [(
                        header::CONTENT_TYPE,
                        "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    )],
                    s.metrics.encode(),
                )
            }),
        )
        .with_state(OpsState { metrics, ready });
    match log {
        Some(log) => router.merge(log_level_routes(log)),
        None => router,
    }
}

/// rustls reads the socket at most 4 KiB at a time, so a 12 KB review cost three or four
/// `recv` calls; a buffer that holds two full TLS records (16.6 KB at most each) takes a
/// typical review in one.
const SOCKET_READ_BUFFER: usize = 34 * 1024;

fn connection_builder(limits: &Limits) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(Duration::from_secs(30))
        .max_concurrent_streams(250);
    builder
}

/// Serves `app` over TLS on `listener` until `shutdown` resolves, then lets open
/// connections finish (up to `drain`).
pub async fn serve_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) {
    let graceful = GracefulShutdown::new();
    // Tells connections still in their TLS handshake to give up at shutdown.
    let (stopping_tx, stopping) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(
                limits.handshake_timeout,
                acceptor.accept(tokio::io::BufReader::with_capacity(SOCKET_READ_BUFFER, tcp)),
            );
            let tls = tokio::select! {
                done = handshake => match done {
                    Ok(Ok(tls)) => tls,
                    Ok(Err(e)) => {
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%peer, "TLS handshake timed out");
                        return;
                    }
                },
                _ = stopping.wait_for(|s| *s) => return,
            };
            let builder = connection_builder(&limits);
            let conn = builder.serve_connection(TokioIo::new(tls), TowerToHyperService::new(app));
            if let Err(e) = watcher.watch(conn.into_owned()).await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    let _ = stopping_tx.send(true);
    drain_connections(graceful, drain).await;
}

/// Serves `app` over plain HTTP until `shutdown` resolves.
pub async fn serve_plain(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn drain_connections(graceful: GracefulShutdown, drain: Duration) {
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(?drain, "connections still open after the drain period");
    }
}

/// Binds a listener, naming the address in the error.
pub async fn bind(addr: SocketAddr) -> Result<TcpListener, std::io::Error> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| std::io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))
}
