//! The Grafana dashboard (`helm/reloader/dashboards/reloader.json`) asks only for what the
//! binary serves: every metric an `expr` queries is in `/metrics` after a Secret change
//! rolled a Deployment and its alert was delivered, and every label a query filters or
//! groups by shows on that metric's samples (or is one Prometheus gives every target).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use crate::cluster_harness::alert_receiver::Receiver;
use crate::cluster_harness::fixtures::{AUTO, deployment, documents, namespace, secret};
use crate::cluster_harness::{Cluster, eventually, http_get};

const DASHBOARD: &str = include_str!("../../helm/reloader/dashboards/reloader.json");

/// Labels Prometheus attaches to every series of a scrape target; the binary never serves
/// them, and the dashboard's variables filter on two of them.
const TARGET_LABELS: &[&str] = &["namespace", "instance", "job", "pod", "service", "endpoint"];

fn dashboard() -> Value {
    serde_json::from_str(DASHBOARD).expect("the dashboard is JSON")
}

/// Every panel, rows' collapsed panels included.
fn panels(dashboard: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for panel in dashboard["panels"].as_array().into_iter().flatten() {
        out.push(panel);
        out.extend(panel["panels"].as_array().into_iter().flatten());
    }
    out
}

/// (where, PromQL) of every panel target and every query variable.
fn queries(dashboard: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for panel in panels(dashboard) {
        for target in panel["targets"].as_array().into_iter().flatten() {
            if let Some(expr) = target["expr"].as_str() {
                let title = panel["title"].as_str().unwrap_or("?");
                out.push((format!("panel {title:?}"), expr.to_owned()));
            }
        }
    }
    for var in dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
    {
        if var["type"] == "query" {
            let query = var["query"]["query"].as_str().or(var["query"].as_str());
            let name = var["name"].as_str().unwrap_or("?");
            out.push((format!("variable ${name}"), query.unwrap_or("").to_owned()));
        }
    }
    out
}

static METRIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^a-zA-Z0-9_:])(reloader_[a-z0-9_]+)").unwrap());
static SELECTOR: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(reloader_[a-z0-9_]+)\s*\{([^}]*)\}").unwrap());
static MATCHER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*""#).unwrap());
static GROUPING: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:by|without)\s*\(([^)]*)\)").unwrap());

/// The series names an expression reads (`reloader_x_bucket`, `reloader_y_total`, ...).
fn metric_names(expr: &str) -> BTreeSet<String> {
    METRIC
        .captures_iter(expr)
        .map(|c| c[1].to_owned())
        .collect()
}

/// The family a series name belongs to: histograms' `_bucket`, `_count` and `_sum` and
/// counters' `_total` are suffixes of the family's `# TYPE` name.
fn family(name: &str) -> &str {
    ["_bucket", "_count", "_sum", "_total"]
        .iter()
        .find_map(|s| name.strip_suffix(s))
        .unwrap_or(name)
}

/// (series name, label) for every label a query filters or groups by. A grouping clause
/// applies to every series the expression reads (the dashboard reads one family per
/// expression).
fn labels_used(expr: &str) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for c in SELECTOR.captures_iter(expr) {
        for m in MATCHER.captures_iter(&c[2]) {
            out.insert((c[1].to_owned(), m[1].to_owned()));
        }
    }
    let names = metric_names(expr);
    for c in GROUPING.captures_iter(expr) {
        for label in c[1].split(',').map(str::trim).filter(|l| !l.is_empty()) {
            for name in &names {
                out.insert((name.clone(), label.to_owned()));
            }
        }
    }
    out
}

/// What one `/metrics` exposition holds.
#[derive(Debug, Default)]
struct Scrape {
    /// Families with a `# TYPE` line.
    typed: BTreeSet<String>,
    /// Label names seen per series name (empty set: samples without labels).
    samples: BTreeMap<String, BTreeSet<String>>,
}

impl Scrape {
    fn parse(text: &str) -> Scrape {
        static LABEL: LazyLock<Regex> =
            LazyLock::new(|| Regex::new(r#"([a-zA-Z_][a-zA-Z0-9_]*)=""#).unwrap());
        let mut scrape = Scrape::default();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                if let Some(name) = rest.split_whitespace().next() {
                    scrape.typed.insert(name.to_owned());
                }
                continue;
            }
            if line.starts_with('#') || !line.starts_with("reloader_") {
                continue;
            }
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            let labels = scrape.samples.entry(line[..end].to_owned()).or_default();
            if line[end..].starts_with('{') {
                let close = line.find('}').unwrap_or(line.len());
                labels.extend(
                    LABEL
                        .captures_iter(&line[end..close])
                        .map(|c| c[1].to_owned()),
                );
            }
        }
        scrape
    }

    /// What is wrong with `expr` against this scrape, one line per problem.
    fn problems(&self, place: &str, expr: &str) -> Vec<String> {
        let mut out = Vec::new();
        for name in metric_names(expr) {
            if !self.typed.contains(family(&name)) {
                out.push(format!("{place}: no `# TYPE {}` served", family(&name)));
            }
            if !self.samples.contains_key(&name) {
                out.push(format!("{place}: no sample of {name} served"));
            }
        }
        for (name, label) in labels_used(expr) {
            if TARGET_LABELS.contains(&label.as_str()) {
                continue;
            }
            if let Some(seen) = self.samples.get(&name)
                && !seen.contains(&label)
            {
                out.push(format!(
                    "{place}: {name} is never labelled {label:?} (served: {seen:?})"
                ));
            }
        }
        out
    }
}

/// Brackets, braces and parentheses of `expr` (outside strings) close in order.
fn balanced(expr: &str) -> bool {
    let mut open = Vec::new();
    let mut in_string = false;
    for c in expr.chars() {
        match c {
            '"' => in_string = !in_string,
            _ if in_string => {}
            '(' | '[' | '{' => open.push(c),
            ')' | ']' | '}' => {
                let want = match c {
                    ')' => '(',
                    ']' => '[',
                    _ => '{',
                };
                if open.pop() != Some(want) {
                    return false;
                }
            }
            _ => {}
        }
    }
    open.is_empty() && !in_string
}

#[test]
fn the_extractor_finds_series_families_and_labels() {
    // (expression, series it reads, (series, label) it filters or groups by)
    type Case = (
        &'static str,
        &'static [&'static str],
        &'static [(&'static str, &'static str)],
    );
    let cases: &[Case] = &[
        (
            r#"sum by (outcome) (rate(reloader_reconciles_total{outcome="failed", namespace=~"$namespace"}[5m]))"#,
            &["reloader_reconciles_total"],
            &[
                ("reloader_reconciles_total", "namespace"),
                ("reloader_reconciles_total", "outcome"),
            ],
        ),
        (
            "histogram_quantile(0.99, sum by (webhook, le) (rate(reloader_admission_review_duration_seconds_bucket[5m])))",
            &["reloader_admission_review_duration_seconds_bucket"],
            &[
                ("reloader_admission_review_duration_seconds_bucket", "le"),
                (
                    "reloader_admission_review_duration_seconds_bucket",
                    "webhook",
                ),
            ],
        ),
        (
            "sum(rate(reloader_x_sum[1m])) / sum(rate(reloader_x_count[1m]))",
            &["reloader_x_count", "reloader_x_sum"],
            &[],
        ),
        ("min(reloader_g) - time()", &["reloader_g"], &[]),
        ("not_reloader_total + up", &[], &[]),
    ];
    for (expr, names, labels) in cases {
        let got: Vec<String> = metric_names(expr).into_iter().collect();
        assert_eq!(got, *names, "{expr}");
        let got: Vec<(String, String)> = labels_used(expr).into_iter().collect();
        let want: Vec<(String, String)> = labels
            .iter()
            .map(|(n, l)| (n.to_string(), l.to_string()))
            .collect();
        assert_eq!(got, want, "{expr}");
    }
    let families = [
        ("reloader_x_bucket", "reloader_x"),
        ("reloader_x_count", "reloader_x"),
        ("reloader_x_sum", "reloader_x"),
        ("reloader_reconciles_total", "reloader_reconciles"),
        ("reloader_is_leader", "reloader_is_leader"),
    ];
    for (name, want) in families {
        assert_eq!(family(name), want, "{name}");
    }
}

#[test]
fn the_scrape_check_reports_missing_families_and_labels() {
    let scrape = Scrape::parse(concat!(
        "# TYPE reloader_reconciles counter\n",
        "reloader_reconciles_total{outcome=\"reloaded\",reason=\"none\"} 1\n",
        "# TYPE reloader_is_leader gauge\n",
        "reloader_is_leader 1\n",
        "# EOF\n",
    ));
    let cases: &[(&str, usize)] = &[
        ("sum by (outcome) (rate(reloader_reconciles_total[5m]))", 0),
        (
            r#"reloader_is_leader{instance=~"$instance", namespace=~"$namespace"}"#,
            0,
        ),
        ("sum by (kind) (rate(reloader_reconciles_total[5m]))", 1),
        ("reloader_bogus_total", 2),
        ("max by (instance) (reloader_is_leader)", 0),
    ];
    for (expr, problems) in cases {
        let got = scrape.problems("test", expr);
        assert_eq!(got.len(), *problems, "{expr}: {got:?}");
    }
}

#[test]
fn the_dashboard_is_a_grafana_dashboard_over_a_prometheus_variable() {
    let d = dashboard();
    assert!(d["title"].is_string() && d["uid"].is_string());
    assert!(d["schemaVersion"].as_u64().is_some_and(|v| v >= 36));
    let vars = d["templating"]["list"].as_array().expect("templating");
    let datasource = vars
        .iter()
        .find(|v| v["name"] == "datasource")
        .expect("a datasource variable");
    assert_eq!(datasource["type"], "datasource");
    assert_eq!(datasource["query"], "prometheus");
    assert!(vars.iter().any(|v| v["name"] == "namespace"));

    let panels = panels(&d);
    assert!(panels.len() > 10, "{} panels", panels.len());
    let mut ids = BTreeSet::new();
    for panel in &panels {
        let title = panel["title"].as_str().unwrap_or("?");
        assert!(ids.insert(panel["id"].as_u64().expect("id")), "{title}: id");
        let grid = &panel["gridPos"];
        let (x, w) = (grid["x"].as_u64().unwrap(), grid["w"].as_u64().unwrap());
        assert!(x + w <= 24, "{title}: wider than the grid");
        if panel["type"] == "row" {
            continue;
        }
        assert_eq!(panel["datasource"]["uid"], "${datasource}", "{title}");
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title}: no query");
        for target in targets {
            assert_eq!(target["datasource"]["uid"], "${datasource}", "{title}");
            let expr = target["expr"].as_str().expect("expr");
            assert!(balanced(expr), "{title}: unbalanced {expr}");
            assert!(!metric_names(expr).is_empty(), "{title}: {expr}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_the_dashboard_queries_is_served_after_a_reload() {
    let queries = queries(&dashboard());
    let (receiver, base) = Receiver::start(&[]).await;
    let mut cluster = Cluster::start_real().await;
    cluster.apply(&documents(&[
        namespace("dash"),
        secret("dash", "db", &[("password", "first")]),
        deployment("dash", "web")
            .annotation(AUTO, "true")
            .env_from_secret("db")
            .yaml(),
    ]));
    let url = format!("{base}/hook");
    let reloader = cluster.start_reloader(&[
        "--alert-on-reload",
        "--alert-sink",
        "webhook",
        "--alert-webhook-url",
        &url,
        "--allow-insecure-alert-urls",
        "--alert-group-wait",
        "500ms",
        // The dashboard's by-namespace panel reads the family this turns on.
        "--metrics-by-namespace",
    ]);
    cluster.register_webhook();

    cluster.apply(&secret("dash", "db", &[("password", "second")]));
    cluster.wait_rolled("dash", "web", 2).await;
    eventually("an alert at the receiver", || async {
        !receiver.got().is_empty()
    })
    .await;
    let sent = r#"reloader_alerts_sent_total{sink="webhook",result="success"} 1"#;
    eventually("the alert counted", || async {
        http_get(reloader.metrics_port, "/metrics").is_some_and(|m| m.contains(sent))
    })
    .await;

    let text = http_get(reloader.metrics_port, "/metrics").expect("metrics served");
    let scrape = Scrape::parse(&text);
    let problems: Vec<String> = queries
        .iter()
        .flat_map(|(place, expr)| scrape.problems(place, expr))
        .collect();
    assert!(
        problems.is_empty(),
        "the dashboard asks for what is not served:\n{}\n\n{text}",
        problems.join("\n")
    );

    // The new gauges and the latency say what happened.
    let value = |series: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let cases: &[(&str, &dyn Fn(f64) -> bool)] = &[
        ("reloader_write_to_patch_duration_seconds_count", &|v| {
            v >= 1.0
        }),
        ("reloader_write_to_patch_duration_seconds_sum", &|v| {
            v > 0.0 && v < 30.0
        }),
        ("reloader_trigger_queue_depth", &|v| v == 0.0),
        ("reloader_is_leader", &|v| v == 1.0),
        (
            r#"reloader_workload_cache_objects{kind="Deployment"}"#,
            &|v| v >= 1.0,
        ),
        ("reloader_tls_certificate_expiry_timestamp_seconds", &|v| {
            v > now
        }),
    ];
    for (series, ok) in cases {
        let v = value(series).unwrap_or_else(|| panic!("no {series} in\n{text}"));
        assert!(ok(v), "{series} is {v}");
    }
}
