//! A local HTTP alert receiver: records every post and answers with scripted statuses.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use serde_json::Value;

/// Records what it is sent and answers with the scripted statuses, then 200.
#[derive(Clone, Default)]
pub struct Receiver {
    got: Arc<Mutex<Vec<(String, Value)>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl Receiver {
    /// Listens on 127.0.0.1; returns the receiver and its `http://127.0.0.1:PORT` base.
    pub async fn start(answers: &[u16]) -> (Receiver, String) {
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
}

async fn hook(State(r): State<Receiver>, uri: Uri, Json(body): Json<Value>) -> StatusCode {
    r.got.lock().unwrap().push((uri.path().to_owned(), body));
    let status = r.answers.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap_or(StatusCode::OK)
}
