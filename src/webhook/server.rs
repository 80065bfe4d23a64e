//! HTTP plumbing: the webhook router (served over TLS) and the operations router
//! (`/healthz`, `/readyz`, `/metrics`, plain HTTP), with connection-level limits.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::routing::{get, post};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
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

/// The server side of one connection, for the protocol its handshake agreed on: HTTP/2
/// only when ALPN chose `h2` (offered only with `limits.http2`), else HTTP/1.1 only. An
/// HTTP/2 preface without ALPN (prior knowledge) is then an HTTP/1.1 parse error and the
/// connection is closed: over TLS, HTTP/2 is chosen by ALPN alone (RFC 9113, 3.2).
fn connection_builder(limits: &Limits, h2: bool) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    if h2 {
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(Duration::from_secs(30))
            .max_concurrent_streams(250);
        builder.http2_only()
    } else {
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .keep_alive(true);
        builder.http1_only()
    }
}

/// `acceptor` with the ALPN offer `limits` allow, so that what the handshake offers is
/// always what `connection_builder` serves.
fn offering(acceptor: &TlsAcceptor, limits: &Limits) -> TlsAcceptor {
    let mut config = (**acceptor.config()).clone();
    config.alpn_protocols = super::tls::alpn_protocols(limits.http2);
    TlsAcceptor::from(Arc::new(config))
}

/// How often, at most, refused connections are logged at warn level during a flood.
const REFUSED_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Serves `app` over TLS on `listener` until `shutdown` resolves, then lets open
/// connections finish (up to `drain`). At most `limits.max_connections` are open at once:
/// one more is closed as soon as it is accepted, before any TLS work is spent on it.
pub async fn serve_tls(
    listener: TcpListener,
    acceptor: TlsAcceptor,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
    drain: Duration,
) {
    let acceptor = offering(&acceptor, &limits);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let mut refused = 0u64;
    let mut refused_logged: Option<Instant> = None;
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
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            drop(tcp);
            refused += 1;
            tracing::debug!(%peer, "connection refused: too many open connections");
            if refused_logged.is_none_or(|at| at.elapsed() >= REFUSED_LOG_INTERVAL) {
                tracing::warn!(
                    max = limits.max_connections,
                    refused,
                    "webhook connections refused: too many open connections"
                );
                refused_logged = Some(Instant::now());
                refused = 0;
            }
            continue;
        };
        let acceptor = acceptor.clone();
        let app = app.clone();
        let watcher = graceful.watcher();
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let _slot = slot;
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
            let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
            let builder = connection_builder(&limits, h2);
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
