//! The layering, checked: dependencies run `cmd → webhook, reload, alerts → core` and no
//! two modules import each other, directly or through others. Read from the source text,
//! so a new `webhook → reload` import (or any new cycle) fails `cargo test`; `core` is a
//! crate of its own, checked here to stay free of tokio and of kube's client.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each layer may not import.
const FORBIDDEN: &[(&str, &[&str])] = &[
    ("webhook", &["reload", "alerts", "cmd"]),
    ("reload", &["webhook", "cmd"]),
    ("alerts", &["webhook", "reload", "cmd"]),
    ("trigger", &["webhook", "reload", "alerts", "cmd"]),
    ("metrics", &["webhook", "reload", "alerts", "cmd"]),
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/reload/cache/tests.rs` → `reload::cache::tests`; test files
/// belong to their parent. `None` for the crate root and `main.rs`.
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).ok()?.with_extension("");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.first().is_some_and(|p| p == "core") || parts == ["main"] || parts == ["lib"] {
        return None;
    }
    if parts.last().is_some_and(|p| p == "tests") {
        parts.pop();
    }
    Some(parts.join("::"))
}

/// The code of a file, without its inline `#[cfg(test)] mod tests { … }` and comments.
fn code(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::a::b…` and `super::a` path in `code`, as module paths.
fn paths(module: &str, code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':';
    for (prefix, base) in [("crate::", String::new()), ("super::", parent(module))] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + prefix.len()..];
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let path: String = rest.chars().take_while(|&c| ident(c)).collect();
            let path = path.trim_end_matches(':');
            out.push(if base.is_empty() {
                path.to_owned()
            } else {
                format!("{base}::{path}")
            });
        }
    }
    out
}

fn parent(module: &str) -> String {
    module
        .rsplit_once("::")
        .map(|(p, _)| p.to_owned())
        .unwrap_or_default()
}

/// module → the other modules it imports (never its ancestors or descendants).
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeMap<PathBuf, String> = files
        .iter()
        .filter_map(|f| Some((f.clone(), module_of(&src, f)?)))
        .collect();
    let known: BTreeSet<&String> = modules.values().collect();
    let resolve = |path: &str| {
        let segs: Vec<&str> = path.split("::").collect();
        (1..=segs.len())
            .rev()
            .map(|i| segs[..i].join("::"))
            .find(|m| known.contains(m))
    };
    let related = |a: &str, b: &str| {
        a == b || a.starts_with(&format!("{b}::")) || b.starts_with(&format!("{a}::"))
    };
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, module) in &modules {
        let text = std::fs::read_to_string(file).unwrap();
        let edges = graph.entry(module.clone()).or_default();
        for path in paths(module, &code(&text)) {
            if let Some(target) = resolve(&path)
                && !related(module, &target)
            {
                edges.insert(target);
            }
        }
    }
    graph
}

#[test]
fn layers_import_only_downwards() {
    let mut wrong = Vec::new();
    for (module, imports) in graph() {
        let layer = module.split("::").next().unwrap_or_default();
        let Some((_, forbidden)) = FORBIDDEN.iter().find(|(l, _)| *l == layer) else {
            continue;
        };
        for import in imports {
            if forbidden.contains(&import.split("::").next().unwrap_or_default()) {
                wrong.push(format!("{module} imports {import}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layering: {wrong:#?}");
}

#[test]
fn no_two_modules_import_each_other() {
    let graph = graph();
    // Depth-first search for a back edge; reports the cycle it closes.
    fn visit<'a>(
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        node: &'a str,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| *n == node) {
            let mut cycle: Vec<String> = stack[at..].iter().map(|s| s.to_string()).collect();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if !done.insert(node) {
            return None;
        }
        stack.push(node);
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(graph, next, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(&graph, node, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn core_depends_on_neither_tokio_nor_the_kube_client() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core/Cargo.toml");
    let manifest = std::fs::read_to_string(manifest).unwrap();
    let deps = manifest
        .split("[dependencies]")
        .nth(1)
        .and_then(|d| d.split("\n[").next())
        .unwrap();
    assert!(!deps.contains("tokio"), "core must not depend on tokio");
    let kube = deps.lines().find(|l| l.starts_with("kube ")).unwrap();
    assert!(kube.contains("default-features = false"), "{kube}");
    for feature in ["client", "runtime", "rustls-tls", "ws"] {
        assert!(!kube.contains(&format!("\"{feature}\"")), "{kube}");
    }
}
