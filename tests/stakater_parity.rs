//! The parity table is kept true: every name a stakater/Reloader user may rely on (its
//! flags, environment variables, annotation keys, Event reasons, metrics and Helm values,
//! checked in as `tests/parity/stakater-v1.4.21.txt`) has a row in
//! `docs/stakater-compatibility.md` saying `same`, `renamed (both work)` or
//! `not supported: why`; a `same` or `renamed` name must really be accepted by reloader.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use clap::CommandFactory;
use reloader::cmd::cli::Cli;

const LIST: &str = include_str!("parity/stakater-v1.4.21.txt");
const TABLE: &str = include_str!("../docs/stakater-compatibility.md");
const VALUES: &str = include_str!("../helm/reloader/values.yaml");
/// Read by kube-rs when `--kubeconfig` is not given (`kube::Config::infer`).
const READ_BY_KUBE_RS: [&str; 1] = ["KUBECONFIG"];

/// The table's sections, by heading, and the list's category each holds.
const SECTIONS: [(&str, &str); 6] = [
    ("### Flags", "flag"),
    ("### Environment variables", "env"),
    ("### Annotations", "annotation"),
    ("### Event reasons", "event"),
    ("### Metrics", "metric"),
    ("### Helm values", "values"),
];

/// (category, name) → status cell, from the parity section of the table.
fn table_rows() -> BTreeMap<(String, String), String> {
    let mut rows = BTreeMap::new();
    let mut category = None;
    for line in TABLE.lines() {
        if line.starts_with("## ") {
            category = None;
        }
        if let Some((_, c)) = SECTIONS.iter().find(|(h, _)| line.trim() == *h) {
            category = Some(*c);
            continue;
        }
        let Some(category) = category else { continue };
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        if cells.len() < 4 || !cells[1].starts_with('`') {
            continue;
        }
        let name = cells[1].trim_matches('`').to_owned();
        let previous = rows.insert((category.to_owned(), name.clone()), cells[2].to_owned());
        assert!(previous.is_none(), "{category} {name} has two rows");
    }
    rows
}

fn upstream() -> Vec<(String, String)> {
    LIST.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (c, n) = l.split_once(' ').expect("`category name`");
            (c.to_owned(), n.to_owned())
        })
        .collect()
}

/// Long names (with aliases) and environment variables of `serve` and the global flags.
fn serve_surface() -> (BTreeSet<String>, BTreeSet<String>) {
    let cli = Cli::command();
    let serve = cli.find_subcommand("serve").expect("serve").clone();
    let (mut flags, mut env) = (BTreeSet::new(), BTreeSet::new());
    for arg in cli.get_arguments().chain(serve.get_arguments()) {
        flags.extend(arg.get_long().map(|l| format!("--{l}")));
        for alias in arg.get_all_aliases().unwrap_or_default() {
            flags.insert(format!("--{alias}"));
        }
        env.extend(arg.get_env().and_then(|e| e.to_str()).map(str::to_owned));
    }
    (flags, env)
}

/// Every Rust source under `src/`, concatenated.
fn sources() -> String {
    fn walk(dir: &Path, out: &mut String) {
        for entry in std::fs::read_dir(dir).expect("src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push_str(&std::fs::read_to_string(&path).expect("source"));
            }
        }
    }
    let mut out = String::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out
}

/// Whether our values.yaml has `path`, or a free-form map on the way to it (an empty one,
/// such as `labels: {}`, takes any key).
fn values_has(path: &str) -> bool {
    let values: serde_yaml::Value = serde_yaml::from_str(VALUES).expect("values.yaml");
    let mut at = &values;
    for key in path.split('.') {
        match at.get(key) {
            Some(v) => at = v,
            None => return at.as_mapping().is_some_and(|m| m.is_empty()),
        }
    }
    true
}

#[test]
fn every_upstream_name_is_accepted_or_listed_as_not_supported() {
    let rows = table_rows();
    let (flags, env) = serve_surface();
    let src = sources();
    // Registered under the `reloader` prefix; a counter's `_total` is added by the
    // exposition. (tests/scenarios/stakater_modes.rs scrapes them after a reload.)
    let metrics_src = [
        include_str!("../src/metrics.rs"),
        include_str!("../src/metrics/stakater.rs"),
    ]
    .concat();
    let served = |metric: &str| {
        let name = metric.strip_prefix("reloader_").unwrap_or(metric);
        let counter = name.strip_suffix("_total").unwrap_or(name);
        [name, counter]
            .iter()
            .any(|n| metrics_src.contains(&format!("\"{n}\",")))
    };
    let accepted = |category: &str, name: &str| match category {
        "flag" => flags.contains(name),
        "env" => {
            env.contains(name)
                || READ_BY_KUBE_RS.contains(&name)
                || src.contains(&format!("\"{name}\""))
        }
        "annotation" => src.contains(&format!("\"{name}\"")),
        "event" => src.contains(&format!("\"{name}\"")),
        "metric" => served(name),
        "values" => values_has(name),
        other => panic!("unknown category {other}"),
    };
    let mut problems = Vec::new();
    let mut counts: BTreeMap<(String, &str), usize> = BTreeMap::new();
    let names = upstream();
    for (category, name) in &names {
        let Some(status) = rows.get(&(category.clone(), name.clone())) else {
            problems.push(format!("{category} {name}: no row in the parity table"));
            continue;
        };
        let kind = if status.starts_with("same") {
            "same"
        } else if status.starts_with("renamed (both work)") {
            "renamed"
        } else if let Some(why) = status.strip_prefix("not supported:") {
            if why.trim().is_empty() {
                problems.push(format!(
                    "{category} {name}: not supported, but no reason given"
                ));
            }
            "not supported"
        } else {
            problems.push(format!("{category} {name}: unknown status {status:?}"));
            continue;
        };
        if kind != "not supported" && !accepted(category, name) {
            problems.push(format!(
                "{category} {name}: the table says {kind}, reloader does not accept it"
            ));
        }
        *counts.entry((category.clone(), kind)).or_default() += 1;
    }
    let listed: BTreeSet<(String, String)> = names.iter().cloned().collect();
    for key in rows.keys().filter(|k| !listed.contains(*k)) {
        problems.push(format!(
            "{} {}: a row for a name upstream does not have",
            key.0, key.1
        ));
    }
    for ((category, status), n) in &counts {
        eprintln!("parity: {category:<10} {status:<14} {n}");
    }
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(names.len() > 150, "the list lost names: {}", names.len());
}
