//! Load against the real TLS server on 127.0.0.1: HTTP/1.1 keep-alive, bounded in count
//! and time. The server runs on a single-threaded runtime (one core); the clients run on
//! another thread. Prints requests/s, latency percentiles and the server thread's CPU
//! time per review.
//!
//! A second server, the same TLS and HTTP stack with a handler that only reads the body,
//! measures the floor the stack and the kernel's loopback path cost before any review
//! is looked at.
//!
//! `cargo bench --bench tls_load` (release build).

#[path = "../tests/webhook_harness/mod.rs"]
mod webhook_harness;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use reloader::cmd::certs::Ca;
use webhook_harness::tls::*;
use webhook_harness::*;

struct Scenario {
    name: &'static str,
    /// The server answering: the webhook, or the floor.
    server: Server,
    body: Bytes,
    connections: usize,
    requests: usize,
    time_limit: Duration,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Server {
    Webhook,
    Floor,
}

/// Reads the body and answers a fixed allowing review: the stack with no decision.
fn floor_router() -> axum::Router {
    const ALLOW: &str = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u","allowed":true}}"#;
    axum::Router::new().route(
        "/validate/sources",
        axum::routing::post(|body: Bytes| async move {
            std::hint::black_box(body.len());
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                ALLOW,
            )
        }),
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx]
}

async fn run(
    addr: std::net::SocketAddr,
    ca_pem: &str,
    s: &Scenario,
) -> (f64, Duration, Duration, usize, usize) {
    let issued = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let config = client_config(ca_pem, false, &[b"http/1.1"]);
    // Warm-up: open every connection first so handshakes are not measured.
    let mut clients = Vec::new();
    for _ in 0..s.connections {
        clients.push(Client::connect(addr, config.clone()).await.unwrap());
    }
    let deadline = Instant::now() + s.time_limit;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for mut client in clients {
        let (issued, failed, body, total) =
            (issued.clone(), failed.clone(), s.body.clone(), s.requests);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while issued.fetch_add(1, Ordering::Relaxed) < total && Instant::now() < deadline {
                let t = Instant::now();
                match client.post("/validate/sources", body.clone()).await {
                    Ok((status, _)) if status.is_success() => lat.push(t.elapsed()),
                    _ => {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    all.sort();
    let rps = all.len() as f64 / elapsed.as_secs_f64();
    (
        rps,
        percentile(&all, 0.50),
        percentile(&all, 0.99),
        all.len(),
        failed.load(Ordering::Relaxed),
    )
}

/// CPU time of the calling thread, user and system, from `/proc/thread-self/stat`.
#[derive(Clone, Copy, Default)]
struct Cpu {
    user: f64,
    system: f64,
}

impl std::ops::Sub for Cpu {
    type Output = Cpu;
    fn sub(self, rhs: Cpu) -> Cpu {
        Cpu {
            user: self.user - rhs.user,
            system: self.system - rhs.system,
        }
    }
}

fn thread_cpu() -> Cpu {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // USER_HZ is 100 on Linux.
    Cpu {
        user: ticks(11) / 100.0,
        system: ticks(12) / 100.0,
    }
}

fn main() {
    // `cargo bench` passes `--bench`; nothing to parse.
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::generate("bench CA", 1).unwrap();
    let paths = write_pair(&ca, dir.path());

    // The servers: one thread, current-thread runtime. It answers CPU-time queries about
    // itself so the run can report CPU per review, a figure that holds on a shared machine
    // where wall-clock throughput depends on the neighbours.
    let (addr_tx, addr_rx) = std::sync::mpsc::channel();
    let (cpu_tx, mut cpu_rx) =
        tokio::sync::mpsc::unbounded_channel::<std::sync::mpsc::Sender<Cpu>>();
    let server_paths = paths.clone();
    // Named, so profilers and `top -H` can tell the server thread from the clients.
    let server_thread = std::thread::Builder::new().name("webhook-server".into());
    server_thread
        .spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let mut h = harness_with(Default::default(), Default::default(), 4096);
                let webhook = TlsServer::start(&h, &server_paths).await;
                let floor = TlsServer::start_router(&h, &server_paths, floor_router()).await;
                addr_tx.send((webhook.addr, floor.addr)).unwrap();
                tokio::spawn(async move {
                    while let Some(reply) = cpu_rx.recv().await {
                        let _ = reply.send(thread_cpu());
                    }
                });
                // Consume triggers as the engine would.
                while h.triggers.recv().await.is_some() {}
            });
        })
        .unwrap();
    let (webhook_addr, floor_addr) = addr_rx.recv().unwrap();

    let small: Bytes = review_of_size(12_000).into();
    let big: Bytes = big_secret_update(1024 * 1024).into();
    let twelve_kb = |server| Scenario {
        name: "12 KB review",
        server,
        body: small.clone(),
        connections: 16,
        requests: 200_000,
        time_limit: Duration::from_secs(15),
    };
    let scenarios = [
        twelve_kb(Server::Webhook),
        twelve_kb(Server::Floor),
        Scenario {
            name: "2.7 MB review",
            server: Server::Webhook,
            body: big,
            connections: 1,
            requests: 300,
            time_limit: Duration::from_secs(20),
        },
    ];
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server_cpu = || {
        let (tx, rx) = std::sync::mpsc::channel();
        cpu_tx.send(tx).unwrap();
        rx.recv().unwrap()
    };
    println!(
        "| review | server | bytes | connections | requests | failed | requests/s (wall) | server CPU µs per review (user + system) | reviews per server CPU-second | p50 | p99 |"
    );
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for s in &scenarios {
        let addr = match s.server {
            Server::Webhook => webhook_addr,
            Server::Floor => floor_addr,
        };
        let cpu_before = server_cpu();
        let (rps, p50, p99, n, failed) = client_rt.block_on(run(addr, &ca.cert_pem, s));
        let cpu = server_cpu() - cpu_before;
        let per_review = |seconds: f64| seconds * 1e6 / n.max(1) as f64;
        println!(
            "| {} | {} | {} | {} | {} | {} | {:.0} | {:.0} ({:.0} + {:.0}) | {:.0} | {:.3} ms | {:.3} ms |",
            s.name,
            match s.server {
                Server::Webhook => "webhook",
                Server::Floor => "floor (body read only)",
            },
            s.body.len(),
            s.connections,
            n,
            failed,
            rps,
            per_review(cpu.user + cpu.system),
            per_review(cpu.user),
            per_review(cpu.system),
            n as f64 / (cpu.user + cpu.system).max(0.01),
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3
        );
    }
}
