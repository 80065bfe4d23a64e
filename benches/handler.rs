//! Criterion: the sources decision (parse + decode + hash) and the whole router, for a
//! 12 KB and a 2.7 MB review. `cargo bench --bench handler`.

#[path = "../tests/webhook_harness/mod.rs"]
mod webhook_harness;

use std::hint::black_box;
use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::http::{Request, header};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use reloader::webhook::review;
use reloader::webhook::sources::{self, SourcesOptions};
use tower::ServiceExt;
use webhook_harness::*;

fn decide(c: &mut Criterion) {
    let opts = SourcesOptions::default();
    let mut group = c.benchmark_group("sources::decide");
    for (name, body) in [
        ("12KB", review_of_size(12_000)),
        ("2.7MB", big_secret_update(1024 * 1024)),
    ] {
        group.throughput(Throughput::Bytes(body.len() as u64));
        if body.len() > 1_000_000 {
            group
                .sample_size(20)
                .measurement_time(Duration::from_secs(5));
        }
        group.bench_function(format!("{name} envelope only (objects kept raw)"), |b| {
            b.iter(|| black_box(review::parse(black_box(&body)).unwrap().uid.len()))
        });
        group.bench_function(format!("{name} one-pass parse with objects"), |b| {
            b.iter(|| black_box(sources::parse(black_box(&body)).unwrap().uid.len()))
        });
        group.bench_function(name, |b| {
            b.iter(|| {
                let r = sources::parse(black_box(&body)).unwrap();
                black_box(sources::decide(&r, &opts, SystemTime::UNIX_EPOCH).unwrap())
            })
        });
    }
    group.finish();
}

fn router(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut h = harness_with(SourcesOptions::default(), Default::default(), 1 << 20);
    let app = h.router();
    let body = axum::body::Bytes::from(review_of_size(12_000));
    c.bench_function("router /validate/sources 12KB", |b| {
        b.iter(|| {
            let req = Request::post("/validate/sources")
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.clone()))
                .unwrap();
            let resp = rt.block_on(app.clone().oneshot(req)).unwrap();
            assert!(resp.status().is_success());
            h.drain();
        })
    });
}

criterion_group!(benches, decide, router);
criterion_main!(benches);
