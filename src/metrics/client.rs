//! The Kubernetes client's requests, counted as client-go counts them
//! (`rest_client_requests_total{code,method,host}`,
//! `rest_client_request_duration_seconds{verb,host}`), so the API load reloader makes can
//! be read as stakater's is. A tower layer around kube's HTTP stack; `host` is the API
//! server's address, one value per process.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use hyper::{Method, Request, Response};
use tower::{Layer, Service};

use crate::metrics::Metrics;

/// Wraps kube's service stack (`kube::client::ClientBuilder::with_layer`).
#[derive(Clone)]
pub struct CountRequests {
    metrics: Arc<Metrics>,
    host: Arc<str>,
}

impl CountRequests {
    /// `host`: the API server's `host:port`, as client-go labels it.
    pub fn new(metrics: Arc<Metrics>, host: &str) -> Self {
        Self {
            metrics,
            host: host.into(),
        }
    }
}

impl<S> Layer<S> for CountRequests {
    type Service = Counted<S>;

    fn layer(&self, inner: S) -> Counted<S> {
        Counted {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Counted<S> {
    inner: S,
    layer: CountRequests,
}

/// client-go's method names; anything else is `other`, so the label stays bounded.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        _ => "other",
    }
}

impl<S, B, R> Service<Request<B>> for Counted<S>
where
    S: Service<Request<B>, Response = Response<R>>,
    S::Future: Send + 'static,
    S::Error: 'static,
    R: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let method = method_label(request.method());
        let layer = self.layer.clone();
        let started = Instant::now();
        let response = self.inner.call(request);
        Box::pin(async move {
            let result = response.await;
            // A watch answers once its stream starts: the time is to the first byte.
            let code = match &result {
                Ok(r) => r.status().as_u16().to_string(),
                Err(_) => "<error>".to_owned(),
            };
            layer
                .metrics
                .rest_request(&code, method, &layer.host, started.elapsed());
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower::ServiceExt;

    #[tokio::test]
    async fn each_request_is_counted_with_its_status_method_and_host() {
        let metrics = Arc::new(Metrics::new());
        let answer = tower::service_fn(|req: Request<()>| async move {
            let status = if req.method() == Method::PATCH {
                409
            } else {
                200
            };
            Ok::<_, std::convert::Infallible>(Response::builder().status(status).body(()).unwrap())
        });
        let service = CountRequests::new(metrics.clone(), "10.0.0.1:6443").layer(answer);
        for method in [Method::GET, Method::GET, Method::PATCH, Method::OPTIONS] {
            let request = Request::builder().method(method).body(()).unwrap();
            service.clone().oneshot(request).await.unwrap();
        }
        let text = metrics.encode();
        for (sample, count) in [
            (
                r#"rest_client_requests_total{code="200",method="GET",host="10.0.0.1:6443"}"#,
                2,
            ),
            (
                r#"rest_client_requests_total{code="409",method="PATCH",host="10.0.0.1:6443"}"#,
                1,
            ),
            (
                r#"rest_client_requests_total{code="200",method="other",host="10.0.0.1:6443"}"#,
                1,
            ),
        ] {
            assert!(
                text.contains(&format!("{sample} {count}")),
                "{sample} {count}:\n{text}"
            );
        }
    }
}
