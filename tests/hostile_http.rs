//! Hostile HTTP against the real `reloader serve --log-only` on 127.0.0.1: HTTP/2 where it
//! is not served, slowloris, a connection flood, absurd headers, a body growing past the
//! limit, and TLS that is not acceptable. During every attack a prober posts a well-formed
//! review every 20 ms on a connection of its own: every one must be answered 200, each
//! within `PROBE_LATENCY`. At the end the server's peak memory (VmHWM) must stay below
//! `MEMORY_BOUND_KIB` and its log must not hold "panicked".

mod webhook_harness;

use std::convert::Infallible;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::pin::Pin;
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use http_body_util::BodyExt;
use hyper::StatusCode;
use hyper::body::{Frame, SizeHint};
use reloader::cmd::certs::Ca;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use webhook_harness::tls::{Client, client_config, serve_command, write_pair};
use webhook_harness::{Review, secret};

/// The webhook's body limit (3 MiB).
const LIMIT: usize = reloader::webhook::body::BODY_LIMIT;

/// Peak resident memory allowed. The debug binary idles at about 20 MiB; the worst case
/// here holds a few 3 MiB bodies, or a few hundred idle TLS connections (tens of KiB each),
/// at once. Unbounded buffering (a 64 MiB body kept, 10,000 connections held) passes it.
const MEMORY_BOUND_KIB: u64 = 100 * 1024;

/// Slowest answer a probe may get while an attack runs (debug build, two cores shared
/// with the attackers).
const PROBE_LATENCY: Duration = Duration::from_secs(2);

/// The server's fixed timeouts (`Limits::default()`): handshake, headers, body.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a connection ended when one of those timeouts should have ended it (less a
/// margin for when the client started counting, plus one for a loaded machine).
fn at_the_timeout(after: Duration) -> bool {
    after >= TIMEOUT - Duration::from_secs(1) && after < TIMEOUT + Duration::from_secs(5)
}

fn review() -> Bytes {
    Review::update(
        secret("db", &[("k", b"old")]),
        secret("db", &[("k", b"new")]),
    )
    .body()
    .into()
}

/// A running `reloader serve --log-only --log-format json` and what the tests read of it.
struct Served {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
    addr: SocketAddr,
    ca_pem: String,
    _dir: tempfile::TempDir,
}

impl Served {
    fn start(extra: &[&str]) -> Served {
        let dir = tempfile::tempdir().unwrap();
        let ca = Ca::generate("test CA", 1).unwrap();
        write_pair(&ca, dir.path());
        let mut child = serve_command(dir.path())
            .args(["--log-only", "--log-format", "json"])
            .args(extra)
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        let deadline = Instant::now() + Duration::from_secs(30);
        let addr = loop {
            let found = lines.lock().unwrap().iter().find_map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).ok()?;
                (v["message"] == "webhook server listening").then(|| v["addr"].to_string())
            });
            if let Some(addr) = found {
                break addr.trim_matches('"').parse().unwrap();
            }
            assert!(Instant::now() < deadline, "no listening line");
            std::thread::sleep(Duration::from_millis(20));
        };
        Served {
            child,
            lines,
            addr,
            ca_pem: ca.cert_pem,
            _dir: dir,
        }
    }

    /// (VmRSS, VmHWM) in KiB, from /proc/<pid>/status.
    fn memory(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap()
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    fn config(&self, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
        client_config(&self.ca_pem, false, alpn)
    }

    /// A TLS connection for `name` offering `alpn`.
    async fn tls(
        &self,
        name: &str,
        alpn: &[&[u8]],
    ) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(self.addr).await?;
        tcp.set_nodelay(true)?;
        tokio_rustls::TlsConnector::from(self.config(alpn))
            .connect(ServerName::try_from(name.to_owned()).unwrap(), tcp)
            .await
    }

    /// An HTTP/1.1 keep-alive client on a new connection.
    async fn client(&self) -> std::io::Result<Client> {
        Client::connect(self.addr, self.config(&[b"http/1.1"])).await
    }

    /// Checks the process is still up, stops it, and checks its log; prints and returns the
    /// peak memory in KiB.
    fn finish(mut self, case: &str) -> u64 {
        assert!(
            self.child.try_wait().unwrap().is_none(),
            "{case}: the server exited"
        );
        let (rss, hwm) = self.memory();
        let _ = std::process::Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline && self.child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::thread::sleep(Duration::from_millis(100));
        let log = self.lines.lock().unwrap().join("\n");
        assert!(
            !log.contains("panicked"),
            "{case}: a panic was logged:\n{log}"
        );
        println!("{case}: server VmRSS {} KiB, VmHWM {} KiB", rss, hwm);
        assert!(
            hwm < MEMORY_BOUND_KIB,
            "{case}: peak memory {hwm} KiB is over {MEMORY_BOUND_KIB} KiB"
        );
        hwm
    }
}

/// A test that failed before `finish` leaves no server behind.
impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Quick attacks are repeated for this long, so that the prober runs through them.
const SUSTAIN: Duration = Duration::from_secs(1);

/// Rounds of an attack: at least one, and more until `SUSTAIN` has passed.
struct Rounds {
    started: Instant,
    done: usize,
}

impl Rounds {
    fn new() -> Rounds {
        Rounds {
            started: Instant::now(),
            done: 0,
        }
    }

    /// The next round's number (0 first), or `None` once the attack has lasted long enough.
    fn next(&mut self) -> Option<usize> {
        if self.done > 0 && self.started.elapsed() >= SUSTAIN {
            return None;
        }
        self.done += 1;
        Some(self.done - 1)
    }
}

/// Posts a review every 20 ms on one keep-alive connection until stopped.
struct Prober {
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<(usize, Vec<Duration>, Vec<String>)>,
}

impl Prober {
    async fn start(served: &Served) -> Prober {
        let mut client = served.client().await.expect("the prober connects");
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let task = tokio::spawn(async move {
            let (mut sent, mut latencies, mut failures) = (0, Vec::new(), Vec::new());
            while !*stopped.borrow() {
                sent += 1;
                let started = Instant::now();
                match client.post("/validate/sources", review()).await {
                    Ok((StatusCode::OK, _)) => latencies.push(started.elapsed()),
                    Ok((status, body)) => {
                        failures.push(format!("{status}: {}", String::from_utf8_lossy(&body)))
                    }
                    Err(e) => {
                        failures.push(e.to_string());
                        break;
                    }
                }
                let _ = tokio::time::timeout(Duration::from_millis(20), stopped.changed()).await;
            }
            (sent, latencies, failures)
        });
        Prober { stop, task }
    }

    /// Stops, checks every probe was answered 200 in time, and prints the numbers.
    async fn finish(self, case: &str) {
        let _ = self.stop.send(true);
        let (sent, mut latencies, failures) = self.task.await.unwrap();
        assert!(failures.is_empty(), "{case}: probes failed: {failures:?}");
        assert!(sent >= 10, "{case}: only {sent} probes were sent");
        latencies.sort();
        let max = *latencies.last().unwrap();
        let median = latencies[latencies.len() / 2];
        println!(
            "{case}: {}/{sent} reviews answered 200 during the attack, median {median:?}, max {max:?}",
            latencies.len()
        );
        assert!(
            max < PROBE_LATENCY,
            "{case}: a review took {max:?} during the attack"
        );
    }
}

/// What a raw request got back.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    /// An HTTP/1.1 status line with this code.
    Status(u16),
    /// Closed (or reset) without a status line.
    Closed,
    /// Nothing within the time allowed, and still open.
    Silent,
}

/// Reads until the end of a response head, the end of the stream, or `within`.
async fn read_outcome(io: &mut (impl AsyncRead + Unpin), within: Duration) -> Outcome {
    let mut head = Vec::new();
    let read = tokio::time::timeout(within, async {
        let mut buf = [0u8; 4096];
        loop {
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
            if head.windows(4).any(|w| w == b"\r\n\r\n") {
                return;
            }
        }
    })
    .await;
    let text = String::from_utf8_lossy(&head);
    match text.strip_prefix("HTTP/1.1 ") {
        Some(rest) => Outcome::Status(rest[..3].parse().unwrap()),
        None if read.is_err() => Outcome::Silent,
        None => Outcome::Closed,
    }
}

/// Writes `bytes`, ignoring a server that closed first.
async fn send(io: &mut (impl AsyncWrite + Unpin), bytes: &[u8]) {
    let _ = io.write_all(bytes).await;
    let _ = io.flush().await;
}

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// An empty SETTINGS frame, as a client sends it after the preface.
const H2_SETTINGS: &[u8] = &[0, 0, 0, 4, 0, 0, 0, 0, 0];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http2_is_neither_offered_nor_served_by_default() {
    let served = Served::start(&[]);
    let prober = Prober::start(&served).await;

    let mut rounds = Rounds::new();
    while let Some(round) = rounds.next() {
        http2_refused_round(&served, round).await;
    }
    println!("HTTP/2 by default: {} rounds", rounds.done);
    prober.finish("HTTP/2 by default").await;
    served.finish("HTTP/2 by default");
}

async fn http2_refused_round(served: &Served, round: usize) {
    // ALPN: the server picks http/1.1 from a client that prefers h2, and refuses one that
    // speaks h2 alone.
    for (case, offer, chosen) in [
        (
            "ALPN h2 and http/1.1",
            &[&b"h2"[..], b"http/1.1"][..],
            Some(&b"http/1.1"[..]),
        ),
        ("ALPN h2 alone", &[&b"h2"[..]][..], None),
    ] {
        match served.tls("localhost", offer).await {
            Ok(tls) => {
                assert_eq!(tls.get_ref().1.alpn_protocol(), chosen, "{case}");
                let mut client = Client::connect(served.addr, served.config(offer))
                    .await
                    .unwrap();
                let (status, _) = client.post("/validate/sources", review()).await.unwrap();
                assert_eq!(status, StatusCode::OK, "{case}");
            }
            Err(e) => {
                assert_eq!(chosen, None, "{case}: handshake failed: {e}");
                if round == 0 {
                    println!("{case}: handshake refused: {e}");
                }
            }
        }
    }

    // Prior knowledge: an h2 preface on a TLS connection whose ALPN did not choose h2.
    for (case, offer) in [
        ("h2 preface without ALPN", &[][..]),
        ("h2 preface after ALPN http/1.1", &[&b"http/1.1"[..]][..]),
    ] {
        let mut tls = served.tls("localhost", offer).await.unwrap();
        send(&mut tls, &[H2_PREFACE, H2_SETTINGS].concat()).await;
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut answer)).await;
        assert!(read.is_ok(), "{case}: the connection stayed open");
        // An HTTP/2 server would answer with its SETTINGS frame (type 4 in byte 3).
        assert!(
            answer.is_empty()
                || answer.starts_with(b"HTTP/1.1 4")
                || answer.starts_with(b"HTTP/1.1 5"),
            "{case}: answered {:?}",
            String::from_utf8_lossy(&answer[..answer.len().min(64)])
        );
        if round == 0 {
            println!(
                "{case}: closed, answered {:?}",
                String::from_utf8_lossy(&answer[..answer.len().min(28)])
            );
        }
    }
}

/// A request body of `len` bytes of JSON whitespace that counts what hyper took of it: a
/// stream reset while uploading leaves part of it untaken.
struct Upload {
    left: usize,
    declared: bool,
    taken: Arc<AtomicUsize>,
}

impl hyper::body::Body for Upload {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        static CHUNK: [u8; 64 * 1024] = [b' '; 64 * 1024];
        if self.left == 0 {
            return Poll::Ready(None);
        }
        let n = self.left.min(CHUNK.len());
        self.left -= n;
        self.taken.fetch_add(n, Ordering::Relaxed);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&CHUNK[..n])))))
    }

    fn is_end_stream(&self) -> bool {
        self.left == 0
    }

    fn size_hint(&self) -> SizeHint {
        if self.declared {
            SizeHint::with_exact(self.left as u64)
        } else {
            SizeHint::default()
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_flag_http2_is_served_and_an_oversize_body_is_answered_413() {
    let served = Served::start(&["--webhook-http2"]);
    let prober = Prober::start(&served).await;
    let tls = served
        .tls("localhost", &[b"h2", b"http/1.1"])
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut sender, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tls),
    )
    .await
    .unwrap();
    tokio::spawn(conn);

    let request = |body| {
        hyper::Request::post("https://localhost/validate/sources")
            .header("content-type", "application/json")
            .body(body)
            .unwrap()
    };
    // (case, body length, Content-Length declared, whether the whole body must be taken:
    // the stream was not reset while the client was still sending)
    let mut rounds = Rounds::new();
    while let Some(round) = rounds.next() {
        for (case, len, declared, taken_whole) in [
            ("a review", 0, true, true),
            ("declared, one byte over", LIMIT + 1, true, true),
            ("declared, twice the limit", 2 * LIMIT, true, true),
            ("declared, 64 MiB", 64 << 20, true, false),
            ("not declared, one byte over", LIMIT + 1, false, true),
            ("not declared, 64 MiB", 64 << 20, false, false),
        ] {
            let taken = Arc::new(AtomicUsize::new(0));
            let started = Instant::now();
            let resp = if len == 0 {
                let body = http_body_util::Full::new(review())
                    .map_err(|e| match e {})
                    .boxed();
                sender.send_request(request(body)).await
            } else {
                let upload = Upload {
                    left: len,
                    declared,
                    taken: taken.clone(),
                };
                sender.send_request(request(upload.boxed())).await
            };
            let resp = resp.unwrap_or_else(|e| panic!("{case}: no answer: {e}"));
            let status = resp.status();
            let body = resp.into_body().collect().await.unwrap().to_bytes();
            let expected = if len == 0 {
                StatusCode::OK
            } else {
                StatusCode::PAYLOAD_TOO_LARGE
            };
            assert_eq!(
                status,
                expected,
                "{case}: {}",
                String::from_utf8_lossy(&body)
            );
            let taken = taken.load(Ordering::Relaxed);
            if round == 0 {
                println!(
                    "{case}: {status} in {:?}, {} of {len} body bytes sent",
                    started.elapsed(),
                    taken
                );
            }
            if taken_whole {
                assert_eq!(taken, len, "{case}: the stream was reset while sending");
            }
        }
    }
    println!("HTTP/2 with --webhook-http2: {} rounds", rounds.done);
    // The connection is still good.
    let body = http_body_util::Full::new(review())
        .map_err(|e| match e {})
        .boxed();
    let resp = sender.send_request(request(body)).await.unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    prober.finish("HTTP/2 with --webhook-http2").await;
    served.finish("HTTP/2 with --webhook-http2");
}

/// Trickles `head`, then `drip` one byte at a time every 100 ms, and returns how long the
/// server took to end it and what it answered.
async fn trickle(served: &Served, head: &[u8], drip: u8) -> (Duration, Outcome) {
    let started = Instant::now();
    let mut tls = served.tls("localhost", &[b"http/1.1"]).await.unwrap();
    send(&mut tls, head).await;
    let (mut read, mut write) = tokio::io::split(tls);
    let dripping = async {
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if write.write_all(&[drip]).await.is_err() || write.flush().await.is_err() {
                // Closed by the server: wait for the read side to see it.
                std::future::pending::<()>().await;
            }
        }
    };
    let outcome = tokio::select! {
        outcome = read_outcome(&mut read, TIMEOUT * 2) => outcome,
        () = dripping => unreachable!(),
    };
    let outcome = match outcome {
        // Read past the status line to the close.
        Outcome::Status(code) => {
            let mut rest = Vec::new();
            let closed = tokio::time::timeout(Duration::from_secs(2), read.read_to_end(&mut rest));
            assert!(
                closed.await.is_ok(),
                "the connection stayed open after {code}"
            );
            Outcome::Status(code)
        }
        other => other,
    };
    (started.elapsed(), outcome)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slowloris_is_cut_off_by_the_timeouts() {
    let limits = reloader::webhook::Limits::default();
    assert_eq!(
        [
            limits.handshake_timeout,
            limits.header_timeout,
            limits.body_timeout
        ],
        [TIMEOUT; 3]
    );
    let served = Served::start(&[]);
    let prober = Prober::start(&served).await;
    let headers = b"POST /validate/sources HTTP/1.1\r\nhost: localhost\r\nx-slow: ";
    let body = b"POST /validate/sources HTTP/1.1\r\nhost: localhost\r\n\
        content-type: application/json\r\ncontent-length: 100000\r\n\r\n";
    // (case, head, drip, what ends it): 20 attackers each, all at once.
    let cases: [(&str, &[u8], u8, &[Outcome]); 2] = [
        (
            "headers trickled, one byte per 100 ms",
            headers,
            b'a',
            // hyper closes at its header timeout (some versions answer 408 first).
            &[Outcome::Closed, Outcome::Status(408)],
        ),
        (
            "body trickled, one byte per 100 ms",
            body,
            b' ',
            &[Outcome::Status(408)],
        ),
    ];
    let attacks = cases.iter().flat_map(|&(case, head, drip, expected)| {
        let served = &served;
        (0..20).map(move |_| async move { (case, expected, trickle(served, head, drip).await) })
    });
    // A TCP connection that never sends a ClientHello, run alongside.
    let silent = async {
        let started = Instant::now();
        let mut tcp = TcpStream::connect(served.addr).await.unwrap();
        let outcome = read_outcome(&mut tcp, TIMEOUT * 2).await;
        (started.elapsed(), outcome)
    };
    // A keep-alive connection left idle after its answer, run alongside.
    let idle = async {
        let mut tls = served.tls("localhost", &[b"http/1.1"]).await.unwrap();
        send(
            &mut tls,
            b"GET /nowhere HTTP/1.1\r\nhost: localhost\r\n\r\n",
        )
        .await;
        assert_eq!(read_outcome(&mut tls, TIMEOUT).await, Outcome::Status(404));
        let answered = Instant::now();
        let outcome = read_outcome(&mut tls, TIMEOUT * 2).await;
        (answered.elapsed(), outcome)
    };
    let (results, (silent_after, silent_outcome), (idle_after, idle_outcome)) =
        tokio::join!(futures::future::join_all(attacks), silent, idle);
    for (case, expected, (after, outcome)) in &results {
        assert!(expected.contains(outcome), "{case}: {outcome:?}");
        assert!(at_the_timeout(*after), "{case}: ended after {after:?}");
    }
    for (case, ..) in cases {
        let afters: Vec<_> = results
            .iter()
            .filter(|r| r.0 == case)
            .map(|r| r.2.0)
            .collect();
        println!(
            "{case}: 20 connections ended after {:?} to {:?} with {:?}",
            afters.iter().min().unwrap(),
            afters.iter().max().unwrap(),
            results.iter().find(|r| r.0 == case).unwrap().2.1
        );
    }
    assert_eq!(silent_outcome, Outcome::Closed);
    assert!(at_the_timeout(silent_after), "{silent_after:?}");
    println!("TCP without a ClientHello: closed after {silent_after:?}");
    assert_eq!(idle_outcome, Outcome::Closed);
    assert!(at_the_timeout(idle_after), "{idle_after:?}");
    println!("keep-alive connection idle after its answer: closed after {idle_after:?}");
    prober.finish("slowloris").await;
    served.finish("slowloris");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_past_the_maximum_are_closed_and_service_resumes() {
    const MAX: usize = 256;
    let served = Served::start(&["--webhook-max-connections", &MAX.to_string()]);
    let prober = Prober::start(&served).await;
    let (rss_before, _) = served.memory();

    // 400 attackers that finish the handshake and then sit idle: the prober holds one
    // slot, so 255 get in and 145 are closed at once.
    let attackers = futures::future::join_all(
        (0..400).map(|_| async { served.tls("localhost", &[b"http/1.1"]).await.ok() }),
    )
    .await;
    let open: Vec<_> = attackers.into_iter().flatten().collect();
    assert_eq!(open.len(), MAX - 1, "connections held open");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (rss_full, _) = served.memory();
    println!(
        "connection flood: {} of 400 held, RSS {rss_before} -> {rss_full} KiB, about {} KiB per idle TLS connection",
        open.len(),
        (rss_full.saturating_sub(rss_before)) / open.len() as u64
    );

    // A newcomer is refused while the slots are full...
    assert!(
        served.client().await.is_err(),
        "a connection past the maximum was served"
    );
    // ...and served once the attackers leave.
    drop(open);
    let resumed = Instant::now();
    let mut client = loop {
        match served.client().await {
            Ok(c) => break c,
            Err(_) if resumed.elapsed() < Duration::from_secs(3) => {
                tokio::time::sleep(Duration::from_millis(20)).await
            }
            Err(e) => panic!("service did not resume: {e}"),
        }
    };
    let (status, _) = client.post("/validate/sources", review()).await.unwrap();
    assert_eq!(status, StatusCode::OK);
    println!(
        "connection flood: a new connection served {:?} after the attackers left",
        resumed.elapsed()
    );

    let warned = served.lines.lock().unwrap().iter().any(|l| {
        l.contains("webhook connections refused: too many open connections")
            && l.contains("\"max\":256")
    });
    assert!(warned, "no warning about the refused connections");

    prober.finish("connection flood").await;
    served.finish("connection flood");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn absurd_headers_are_refused() {
    let served = Served::start(&[]);
    let prober = Prober::start(&served).await;
    let start = "POST /validate/sources HTTP/1.1\r\nhost: localhost\r\n\
        content-type: application/json\r\ncontent-length: 2\r\n";
    let one_big = format!("{start}x-big: {}\r\n\r\n{{}}", "a".repeat(1 << 20));
    let many = format!(
        "{start}{}\r\n{{}}",
        (0..10_000)
            .map(|i| format!("x-h{i}: v\r\n"))
            .collect::<String>()
    );
    let long_uri = format!(
        "POST /validate/sources?{} HTTP/1.1\r\nhost: localhost\r\n\r\n",
        "a".repeat(1 << 20)
    );
    let cases = [
        ("one 1 MiB header", one_big),
        ("10,000 headers", many),
        ("a 1 MiB request target", long_uri),
    ];
    let mut rounds = Rounds::new();
    while let Some(round) = rounds.next() {
        for (case, request) in &cases {
            let mut tls = served.tls("localhost", &[b"http/1.1"]).await.unwrap();
            let (mut read, mut write) = tokio::io::split(&mut tls);
            let (_, outcome) = tokio::join!(
                send(&mut write, request.as_bytes()),
                read_outcome(&mut read, Duration::from_secs(5))
            );
            if round == 0 {
                println!("{case}: {outcome:?}");
            }
            assert!(
                matches!(outcome, Outcome::Status(400 | 414 | 431) | Outcome::Closed),
                "{case}: {outcome:?}"
            );
        }
    }
    println!("absurd headers: {} rounds", rounds.done);
    prober.finish("absurd headers").await;
    served.finish("absurd headers");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunked_body_growing_past_the_limit_is_refused_without_keeping_it() {
    let served = Served::start(&[]);
    let prober = Prober::start(&served).await;
    let (_, hwm_before) = served.memory();
    // Four at once, each offering 64 MiB in 64 KiB chunks.
    const OFFERED: usize = 64 << 20;
    let attack = |_| async {
        let mut tls = served.tls("localhost", &[b"http/1.1"]).await.unwrap();
        send(
            &mut tls,
            b"POST /validate/sources HTTP/1.1\r\nhost: localhost\r\n\
            content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
        )
        .await;
        let (mut read, mut write) = tokio::io::split(tls);
        let written = AtomicUsize::new(0);
        let writing = async {
            let chunk = [&b"10000\r\n"[..], &[b' '; 0x10000], b"\r\n"].concat();
            while written.load(Ordering::Relaxed) < OFFERED {
                if write.write_all(&chunk).await.is_err() {
                    break;
                }
                written.fetch_add(0x10000, Ordering::Relaxed);
            }
            std::future::pending::<()>().await;
        };
        let outcome = tokio::select! {
            outcome = read_outcome(&mut read, Duration::from_secs(20)) => outcome,
            () = writing => unreachable!(),
        };
        (outcome, written.load(Ordering::Relaxed))
    };
    let mut rounds = Rounds::new();
    let mut most = 0;
    while let Some(round) = rounds.next() {
        let results = futures::future::join_all((0..4).map(attack)).await;
        for (outcome, written) in &results {
            assert!(
                matches!(outcome, Outcome::Status(413) | Outcome::Closed),
                "{outcome:?}"
            );
            // The server reads the limit and as much again (thrown away), and the two
            // sockets buffer a few MiB on loopback: far from the 64 MiB offered.
            assert!(*written < OFFERED / 4, "{written} bytes accepted");
            most = most.max(*written);
        }
        if round == 0 {
            println!("chunked body past the limit: {results:?}");
        }
    }
    let (_, hwm_after) = served.memory();
    println!(
        "chunked body past the limit: {} rounds of 4, at most {most} of {OFFERED} bytes taken; \
         VmHWM {hwm_before} -> {hwm_after} KiB",
        rounds.done
    );
    // Four bodies held to the limit at once, with the JSON reader's copy: under 8 MiB each.
    assert!(
        hwm_after - hwm_before < 4 * 8 * 1024,
        "{} KiB more at peak",
        hwm_after - hwm_before
    );
    prober.finish("chunked body past the limit").await;
    served.finish("chunked body past the limit");
}

/// A minimal ClientHello record for a TLS version before 1.2: `version` in the record and
/// in the hello, no supported_versions extension, only CBC suites of that era, and the
/// server name `localhost`.
fn legacy_client_hello(version: u16) -> Vec<u8> {
    let sni = {
        let name = b"localhost";
        let mut list = vec![0u8];
        list.extend((name.len() as u16).to_be_bytes());
        list.extend(name);
        let mut ext = vec![0, 0];
        ext.extend(((list.len() + 2) as u16).to_be_bytes());
        ext.extend((list.len() as u16).to_be_bytes());
        ext.extend(list);
        ext
    };
    let mut hello = Vec::new();
    hello.extend(version.to_be_bytes());
    hello.extend([7u8; 32]); // random
    hello.push(0); // no session id
    let suites: [u16; 4] = [0xc013, 0xc014, 0x002f, 0x0035];
    hello.extend(((suites.len() * 2) as u16).to_be_bytes());
    suites.iter().for_each(|s| hello.extend(s.to_be_bytes()));
    hello.extend([1, 0]); // compression: null
    hello.extend((sni.len() as u16).to_be_bytes());
    hello.extend(sni);
    let mut handshake = vec![1u8]; // client_hello
    handshake.extend(&(hello.len() as u32).to_be_bytes()[1..]);
    handshake.extend(hello);
    let mut record = vec![0x16];
    record.extend(version.to_be_bytes());
    record.extend((handshake.len() as u16).to_be_bytes());
    record.extend(handshake);
    record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_that_is_not_acceptable_is_refused() {
    let served = Served::start(&[]);
    let prober = Prober::start(&served).await;
    let plaintext = b"POST /validate/sources HTTP/1.1\r\nhost: localhost\r\n\
        content-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
    let cases = [
        ("TLS 1.0 ClientHello", legacy_client_hello(0x0301)),
        ("TLS 1.1 ClientHello", legacy_client_hello(0x0302)),
        ("SSL 3.0 ClientHello", legacy_client_hello(0x0300)),
        ("plaintext HTTP on the TLS port", plaintext.to_vec()),
    ];
    let mut rounds = Rounds::new();
    while let Some(round) = rounds.next() {
        unacceptable_tls_round(&served, &cases, round).await;
    }
    println!("unacceptable TLS: {} rounds", rounds.done);
    prober.finish("unacceptable TLS").await;
    served.finish("unacceptable TLS");
}

async fn unacceptable_tls_round(served: &Served, cases: &[(&str, Vec<u8>)], round: usize) {
    for (case, bytes) in cases {
        let mut tcp = TcpStream::connect(served.addr).await.unwrap();
        send(&mut tcp, bytes).await;
        let mut answer = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer));
        let closed = read.await.is_ok();
        assert!(closed, "{case}: the connection stayed open");
        // At most an alert record (content type 21): never a ServerHello (22) or HTTP.
        assert!(
            answer.is_empty() || answer[0] == 21,
            "{case}: answered {answer:?}"
        );
        if round == 0 {
            println!(
                "{case}: closed, after {}",
                match answer.get(6) {
                    Some(desc) => format!("a fatal alert, description {desc}"),
                    None => "nothing".to_owned(),
                }
            );
        }
    }
    // A name the certificate does not hold: the server has one certificate for every name,
    // and the client refuses it.
    let Err(err) = served.tls("wrong.example.org", &[b"http/1.1"]).await else {
        panic!("a certificate for another name was accepted");
    };
    assert!(err.to_string().contains("certificate"), "{err}");
    if round == 0 {
        println!("a wrong SNI name: the client refused the handshake: {err}");
    }
}
