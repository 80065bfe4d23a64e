//! A local HTTP alert receiver: records every post (and when it came) and answers with
//! scripted statuses, then 200.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::IntoResponse;
use serde_json::Value;

/// One scripted answer: a status, and a `Retry-After` header if given.
pub type Answer = (u16, Option<&'static str>);

/// Records what it is sent and answers with the scripted answers, then 200.
#[derive(Clone, Default)]
pub struct Receiver {
    got: Arc<Mutex<Vec<(String, Value)>>>,
    times: Arc<Mutex<Vec<Instant>>>,
    answers: Arc<Mutex<VecDeque<Answer>>>,
}

impl Receiver {
    /// Listens on 127.0.0.1; returns the receiver and its `http://127.0.0.1:PORT` base.
    pub async fn start(statuses: &[u16]) -> (Receiver, String) {
        let answers: Vec<Answer> = statuses.iter().map(|s| (*s, None)).collect();
        Self::answering(&answers).await
    }

    /// Like [`Receiver::start`], with `Retry-After` headers where given.
    pub async fn answering(answers: &[Answer]) -> (Receiver, String) {
        let receiver = Receiver {
            answers: Arc::new(Mutex::new(answers.iter().copied().collect())),
            ..Receiver::default()
        };
        let app = axum::Router::new()
            .fallback(axum::routing::post(hook))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, base)
    }

    /// Every post so far: (path, JSON body).
    pub fn got(&self) -> Vec<(String, Value)> {
        self.got.lock().unwrap().clone()
    }

    /// When each post arrived, in order.
    pub fn times(&self) -> Vec<Instant> {
        self.times.lock().unwrap().clone()
    }
}

async fn hook(State(r): State<Receiver>, uri: Uri, Json(body): Json<Value>) -> impl IntoResponse {
    r.times.lock().unwrap().push(Instant::now());
    r.got.lock().unwrap().push((uri.path().to_owned(), body));
    let (status, retry_after) = r.answers.lock().unwrap().pop_front().unwrap_or((200, None));
    let mut headers = HeaderMap::new();
    if let Some(value) = retry_after {
        headers.insert(header::RETRY_AFTER, value.parse().expect("header value"));
    }
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::OK),
        headers,
    )
}
