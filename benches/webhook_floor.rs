//! The webhook against the floor, in one run: the webhook's TLS server (the same
//! `serve_tls` and router `reloader serve` runs) on one core, and the reference floor
//! server (`--mode read`: TLS, HTTP, read the body, answer a fixed review) and the naive
//! one (`--mode parse-hash`) on the same core in turn; wrk on the other core, 64
//! keep-alive TLS connections, 12 KB and 2.7 MB Secret UPDATE reviews. Absolute rates move
//! with the machine's neighbours; the ratio to the floor, measured minutes apart, much
//! less. Each server is measured twice, alternating, and the better run of each is kept.
//!
//! Needs `FLOOR_BIN` (the floor built from its source, `make bench` does it) and `wrk`
//! and `taskset` on `PATH`; without them it says what is missing and measures nothing.
//! `WRK_SECONDS` sets each run's length (default 10).

#[path = "../tests/webhook_harness/mod.rs"]
mod webhook_harness;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use reloader::cmd::certs::Ca;
use reloader::webhook::tls::CertPaths;
use webhook_harness::tls::*;
use webhook_harness::*;

/// The cores: the servers share the first, wrk has the second.
const SERVER_CORE: &str = "0";
const CLIENT_CORE: &str = "1";
const CONNECTIONS: &str = "64";

/// What one wrk run measured.
#[derive(Clone, Copy, Default)]
struct Run {
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

/// wrk's duration ("812.00us", "1.52ms", "2.01s") in milliseconds.
fn wrk_ms(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

fn parse_wrk(out: &str) -> Run {
    let mut run = Run::default();
    for line in out.lines().map(str::trim) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["Requests/sec:", v] => run.rps = v.parse().unwrap_or(0.0),
            ["50%", v] => run.p50_ms = wrk_ms(v).unwrap_or(f64::NAN),
            ["99%", v] => run.p99_ms = wrk_ms(v).unwrap_or(f64::NAN),
            ["Non-2xx", "or", "3xx", "responses:", n] => run.errors += n.parse().unwrap_or(0),
            [first, ..] if *first == "Socket" => {
                // "Socket errors: connect 0, read 0, write 0, timeout 0"
                run.errors += fields
                    .iter()
                    .filter_map(|f| f.trim_end_matches(',').parse::<u64>().ok())
                    .sum::<u64>();
            }
            _ => {}
        }
    }
    run
}

fn wrk(port: u16, script: &Path, seconds: u64) -> Run {
    let out = Command::new("taskset")
        .args([
            "-c",
            CLIENT_CORE,
            "wrk",
            "-t1",
            "-c",
            CONNECTIONS,
            "--latency",
        ])
        .arg(format!("-d{seconds}s"))
        .arg("-s")
        .arg(script)
        .arg(format!("https://127.0.0.1:{port}/validate/sources"))
        .output()
        .expect("wrk");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk failed: {text}");
    let run = parse_wrk(&text);
    assert!(run.rps > 0.0, "wrk measured nothing:\n{text}");
    run
}

/// A wrk script posting the file at `body` as the request body.
fn script_for(dir: &Path, name: &str, body: &[u8]) -> PathBuf {
    let data = dir.join(format!("{name}.json"));
    std::fs::write(&data, body).expect("body");
    let script = dir.join(format!("{name}.lua"));
    std::fs::write(
        &script,
        format!(
            "local f = io.open({:?}, \"rb\")\nwrk.method = \"POST\"\nwrk.body = f:read(\"*a\")\nf:close()\nwrk.headers[\"Content-Type\"] = \"application/json\"\n",
            data.display().to_string()
        ),
    )
    .expect("script");
    script
}

/// Starts the webhook's TLS server on a thread of its own, pinned to the server core.
fn start_webhook(paths: CertPaths) -> u16 {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("webhook-server".into())
        .spawn(move || {
            // "<pid>/task/<tid>": pin this thread alone.
            let me = std::fs::read_link("/proc/thread-self").expect("thread-self");
            let tid = me.file_name().expect("tid").to_string_lossy().into_owned();
            let pinned = Command::new("taskset")
                .args(["-p", "-c", SERVER_CORE, &tid])
                .stdout(Stdio::null())
                .status()
                .expect("taskset");
            assert!(pinned.success(), "taskset -p failed");
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let mut h = harness_with(Default::default(), Default::default(), 4096);
                let server = TlsServer::start(&h, &paths).await;
                tx.send(server.addr.port()).expect("port");
                // Consume triggers as the engine would.
                while h.triggers.recv().await.is_some() {}
            });
        })
        .expect("server thread");
    rx.recv().expect("webhook port")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port()
}

/// The floor binary in `mode`, pinned to the server core; killed on drop.
struct Floor(Child, u16);

impl Floor {
    fn start(bin: &Path, paths: &CertPaths, mode: &str) -> Floor {
        let port = free_port();
        let child = Command::new("taskset")
            .args(["-c", SERVER_CORE])
            .arg(bin)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--cert")
            .arg(&paths.cert)
            .arg("--key")
            .arg(&paths.key)
            .args(["--mode", mode])
            .stdout(Stdio::null())
            .spawn()
            .expect("floor");
        let floor = Floor(child, port);
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return floor;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        drop(floor);
        panic!("the floor server did not listen on {port}");
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn missing_tools() -> Option<String> {
    let Some(floor) = std::env::var_os("FLOOR_BIN") else {
        return Some("FLOOR_BIN is not set (make bench builds the floor and sets it)".into());
    };
    if !Path::new(&floor).is_file() {
        return Some(format!(
            "FLOOR_BIN={} is not a file",
            floor.to_string_lossy()
        ));
    }
    for tool in ["wrk", "taskset"] {
        let found = Command::new(tool)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok();
        if !found {
            return Some(format!("{tool} is not on PATH"));
        }
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    (cores < 2).then(|| format!("needs two cores, this machine has {cores}"))
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else is read from the command line.
    if let Some(why) = missing_tools() {
        eprintln!("webhook_floor: not measured: {why}");
        return;
    }
    let floor_bin = PathBuf::from(std::env::var_os("FLOOR_BIN").unwrap());
    let seconds = std::env::var("WRK_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10);
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = Ca::generate("bench CA", 1).expect("CA");
    let paths = write_pair(&ca, dir.path());
    let webhook = start_webhook(paths.clone());
    let bodies = [
        (
            "12 KB",
            script_for(dir.path(), "small", &review_of_size(12_000)),
        ),
        (
            "2.7 MB",
            script_for(dir.path(), "big", &big_secret_update(1024 * 1024)),
        ),
    ];

    println!("| review | server | requests/s | of the floor | p50 | p99 | errors |");
    println!("|---|---|---:|---:|---:|---:|---:|");
    for (size, script) in &bodies {
        let mut best: [Run; 3] = [Run::default(); 3];
        for _round in 0..2 {
            for (i, mode) in ["webhook", "read", "parse-hash"].iter().enumerate() {
                let run = if *mode == "webhook" {
                    wrk(webhook, script, seconds)
                } else {
                    let floor = Floor::start(&floor_bin, &paths, mode);
                    wrk(floor.1, script, seconds)
                };
                eprintln!(
                    "{size} {mode}: {:.0}/s p50 {:.3} ms p99 {:.3} ms",
                    run.rps, run.p50_ms, run.p99_ms
                );
                if run.rps > best[i].rps {
                    best[i] = run;
                }
            }
        }
        let floor = best[1].rps;
        for (run, name) in
            best.iter()
                .zip(["reloader webhook", "floor (read)", "naive (parse-hash)"])
        {
            println!(
                "| {size} | {name} | {:.0} | {:.2} | {:.3} ms | {:.3} ms | {} |",
                run.rps,
                run.rps / floor,
                run.p50_ms,
                run.p99_ms,
                run.errors
            );
        }
    }
}
