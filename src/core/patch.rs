//! Building the JSON Patch (RFC 6902) that records source hashes on a workload's pod template.
//!
//! The patch is the only thing that rolls a workload, so it is built to be idempotent (a hash
//! already recorded produces no operation) and guarded (`test` operations pin what it relies
//! on, so a concurrent edit makes the API server refuse it instead of being clobbered).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, Patch, PatchOperation, ReplaceOperation, TestOperation};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::hash::{SourceHash, StakaterHash};
use crate::keys::{LAST_RELOADED_FROM, SOURCE_HASHES};
use crate::source::{SourceKind, SourceRef};
use crate::workload::WorkloadKind;

/// How a reload is recorded on the pod template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum ReloadStrategy {
    /// An env var `STAKATER_<NAME>_<KIND>` holding the hash, in one container.
    #[default]
    #[serde(rename = "env-vars")]
    EnvVars,
    /// Pod-template annotations holding the hashes.
    #[serde(rename = "annotations")]
    Annotations,
}

impl ReloadStrategy {
    pub fn as_str(self) -> &'static str {
        match self {
            ReloadStrategy::EnvVars => "env-vars",
            ReloadStrategy::Annotations => "annotations",
        }
    }
}

impl fmt::Display for ReloadStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A strategy name that is neither `env-vars` nor `annotations`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown reload strategy {0:?}: expected env-vars or annotations")]
pub struct UnknownStrategy(pub String);

impl FromStr for ReloadStrategy {
    type Err = UnknownStrategy;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "env-vars" => Ok(ReloadStrategy::EnvVars),
            "annotations" => Ok(ReloadStrategy::Annotations),
            other => Err(UnknownStrategy(other.to_owned())),
        }
    }
}

/// The env var stakater/Reloader uses for a source: `STAKATER_` + the name upper-cased with
/// every run of other characters turned into one `_` (leading ones dropped) + `_SECRET` or
/// `_CONFIGMAP`. `www.stakater.com` → `STAKATER_WWW_STAKATER_COM_CONFIGMAP`.
pub fn env_var_name(kind: SourceKind, name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 20);
    out.push_str("STAKATER_");
    let mut last_kept = false;
    for c in name.bytes().map(|b| b.to_ascii_uppercase()) {
        if c.is_ascii_uppercase() || c.is_ascii_digit() {
            out.push(c as char);
            last_kept = true;
        } else {
            if last_kept {
                out.push('_');
            }
            last_kept = false;
        }
    }
    out.push('_');
    out.push_str(kind.upper());
    out
}

/// One source whose current hash must be recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub source: SourceRef,
    pub hash: SourceHash,
    /// Index into `spec.containers` that should carry the env var (see
    /// `refs::PodRefs::container_for`); `None` when no container should (env-vars strategy
    /// then records nothing for this source).
    pub container: Option<usize>,
    /// Written into the env var instead of `hash`: stakater's record of the same data,
    /// when the record it replaces is stakater's and stakater may still be running beside
    /// (`--keep-stakater-records`), so stakater finds its own value and rolls nothing more.
    pub stakater: Option<StakaterHash>,
}

impl Record {
    /// The text the env-vars strategy writes for this record.
    pub fn env_value(&self) -> String {
        match self.stakater {
            Some(h) => h.to_string(),
            None => self.hash.to_string(),
        }
    }
}

/// Why a patch could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatchError {
    #[error("the {kind} has no pod template at {pointer}")]
    NoTemplate {
        kind: WorkloadKind,
        pointer: &'static str,
    },
    #[error("the {kind} has no container at index {index}")]
    NoContainer { kind: WorkloadKind, index: usize },
}

fn pointer(base: &str, tokens: &[&str]) -> PointerBuf {
    let mut p = PointerBuf::parse(base).unwrap_or_default();
    for t in tokens {
        p.push_back(*t);
    }
    p
}

fn test(path: PointerBuf, value: Value) -> PatchOperation {
    PatchOperation::Test(TestOperation { path, value })
}
fn add(path: PointerBuf, value: Value) -> PatchOperation {
    PatchOperation::Add(AddOperation { path, value })
}
fn replace(path: PointerBuf, value: Value) -> PatchOperation {
    PatchOperation::Replace(ReplaceOperation { path, value })
}

/// The hash recorded for `source` on the workload, if any.
pub fn recorded_hash(
    kind: WorkloadKind,
    object: &Value,
    strategy: ReloadStrategy,
    source: &SourceRef,
) -> Option<String> {
    let template = object.pointer(kind.template_pointer())?;
    match strategy {
        ReloadStrategy::EnvVars => {
            let var = env_var_name(source.kind, &source.name);
            containers(template)
                .iter()
                .flat_map(|c| c.get("env").and_then(Value::as_array).into_iter().flatten())
                .find(|e| e.get("name").and_then(Value::as_str) == Some(var.as_str()))
                .and_then(|e| e.get("value").and_then(Value::as_str))
                .map(str::to_owned)
        }
        ReloadStrategy::Annotations => {
            let hashes = source_hashes(template);
            if hashes.contains_key(&hash_key(source)) {
                recorded_entry(hashes, source)
            } else {
                last_reloaded_from(template, source)
            }
        }
    }
}

fn containers(template: &Value) -> &[Value] {
    template
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn hash_key(source: &SourceRef) -> String {
    format!("{}/{}", source.kind, source.name)
}

fn annotation<'a>(template: &'a Value, key: &str) -> Option<&'a str> {
    template
        .get("metadata")?
        .get("annotations")?
        .get(key)?
        .as_str()
}

/// The entries of the hashes annotation, each kept as the text it was written in: an entry
/// reloader does not rewrite goes back byte for byte (parsing a number and writing it again
/// can change it).
fn source_hashes(template: &Value) -> BTreeMap<String, String> {
    annotation(template, SOURCE_HASHES)
        .and_then(|text| serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(text).ok())
        .map(|entries| {
            entries
                .into_iter()
                .map(|(k, v)| (k, v.get().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The hash recorded for `source` among `hashes` entries; `None` unless a JSON string.
fn recorded_entry(mut hashes: BTreeMap<String, String>, source: &SourceRef) -> Option<String> {
    serde_json::from_str(&hashes.remove(&hash_key(source))?).ok()
}

/// The hash in `last-reloaded-from` when it names `source`: all stakater's annotations
/// strategy records (of the last source it reloaded for), read when the hashes annotation
/// has no entry for the source.
fn last_reloaded_from(template: &Value, source: &SourceRef) -> Option<String> {
    let last: Value = serde_json::from_str(annotation(template, LAST_RELOADED_FROM)?).ok()?;
    let names = |field: &str, want: &str| last.get(field).and_then(Value::as_str) == Some(want);
    (names("type", source.kind.upper())
        && names("name", &source.name)
        && names("namespace", &source.namespace))
    .then(|| last.get("hash").and_then(Value::as_str).map(str::to_owned))
    .flatten()
}

/// The hashes annotation's text: a JSON object of the entries, each as written.
fn hashes_text(hashes: &BTreeMap<String, String>) -> String {
    let entries: Vec<String> = hashes
        .iter()
        .map(|(key, entry)| format!("{}:{entry}", Value::String(key.clone())))
        .collect();
    format!("{{{}}}", entries.join(","))
}

/// The JSON Patch that records every `records` hash not yet recorded. Empty when all are.
pub fn build_patch(
    kind: WorkloadKind,
    object: &Value,
    strategy: ReloadStrategy,
    records: &[Record],
) -> Result<Patch, PatchError> {
    let base = kind.template_pointer();
    let template = object.pointer(base).ok_or(PatchError::NoTemplate {
        kind,
        pointer: base,
    })?;
    let pending: Vec<&Record> = records
        .iter()
        .filter(|r| {
            let written = match strategy {
                ReloadStrategy::EnvVars => r.env_value(),
                ReloadStrategy::Annotations => r.hash.to_string(),
            };
            recorded_hash(kind, object, strategy, &r.source).as_deref() != Some(written.as_str())
        })
        .collect();
    if pending.is_empty() {
        return Ok(Patch(vec![]));
    }
    let ops = match strategy {
        ReloadStrategy::EnvVars => env_var_ops(kind, base, template, &pending)?,
        ReloadStrategy::Annotations => annotation_ops(base, template, &pending),
    };
    Ok(Patch(ops))
}

fn env_var_ops(
    kind: WorkloadKind,
    base: &str,
    template: &Value,
    pending: &[&Record],
) -> Result<Vec<PatchOperation>, PatchError> {
    let containers = containers(template);
    // Work on a copy of each touched container's env, then emit one guarded replace per
    // container: the `test` on the old env makes concurrent env edits fail the patch.
    let mut envs: BTreeMap<usize, Vec<Value>> = BTreeMap::new();
    for record in pending {
        let var = env_var_name(record.source.kind, &record.source.name);
        let value = Value::String(record.env_value());
        // A var already present anywhere is updated where it is, never duplicated.
        let holder = containers.iter().position(|c| {
            c.get("env")
                .and_then(Value::as_array)
                .is_some_and(|env| env.iter().any(|e| e.get("name") == Some(&json!(var))))
        });
        let Some(index) = holder.or(record.container) else {
            continue;
        };
        let container = containers
            .get(index)
            .ok_or(PatchError::NoContainer { kind, index })?;
        let env = envs.entry(index).or_insert_with(|| {
            container
                .get("env")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        });
        match env.iter_mut().find(|e| e.get("name") == Some(&json!(var))) {
            Some(entry) => *entry = json!({"name": var, "value": value}),
            None => env.push(json!({"name": var, "value": value})),
        }
    }
    let mut ops = Vec::new();
    for (index, env) in envs {
        let container = &containers[index];
        let at = index.to_string();
        let env_path = pointer(base, &["spec", "containers", &at, "env"]);
        match container.get("env") {
            Some(old) => {
                ops.push(test(
                    pointer(base, &["spec", "containers", &at, "name"]),
                    container.get("name").cloned().unwrap_or(Value::Null),
                ));
                ops.push(test(env_path.clone(), old.clone()));
                ops.push(replace(env_path, Value::Array(env)));
            }
            // No env to test: the whole container as read, so a writer who added one
            // meanwhile (another replica's reload) makes this patch fail, not clobber it.
            None => {
                ops.push(test(
                    pointer(base, &["spec", "containers", &at]),
                    container.clone(),
                ));
                ops.push(add(env_path, Value::Array(env)));
            }
        }
    }
    Ok(ops)
}

fn annotation_ops(base: &str, template: &Value, pending: &[&Record]) -> Vec<PatchOperation> {
    let mut hashes = source_hashes(template);
    for record in pending {
        let entry = Value::String(record.hash.to_string()).to_string();
        hashes.insert(hash_key(&record.source), entry);
    }
    // The stakater-shaped annotation names the last source; with several, the last given.
    let last = pending[pending.len() - 1];
    let last_from = json!({
        "type": last.source.kind.upper(),
        "name": last.source.name,
        "namespace": last.source.namespace,
        "hash": last.hash.to_string(),
        "containerRefs": [],
    });
    let values = [
        (SOURCE_HASHES, Value::String(hashes_text(&hashes))),
        (LAST_RELOADED_FROM, Value::String(last_from.to_string())),
    ];
    // Each `add` below is guarded by a `test` of what it adds into, as read: a concurrent
    // writer (another replica's reload) makes the patch fail instead of being clobbered.
    let mut ops = Vec::new();
    let metadata = template.get("metadata");
    let annotations = metadata.and_then(|m| m.get("annotations"));
    match (metadata, annotations) {
        (None, _) => {
            ops.push(test(pointer(base, &[]), template.clone()));
            ops.push(add(
                pointer(base, &["metadata"]),
                json!({"annotations": Value::Object(values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())}),
            ));
        }
        (Some(m), None) => {
            ops.push(test(pointer(base, &["metadata"]), m.clone()));
            ops.push(add(
                pointer(base, &["metadata", "annotations"]),
                Value::Object(values.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()),
            ));
        }
        (Some(_), Some(existing)) => {
            ops.push(test(
                pointer(base, &["metadata", "annotations"]),
                existing.clone(),
            ));
            for (key, value) in values {
                let path = pointer(base, &["metadata", "annotations", key]);
                match existing.get(key) {
                    Some(old) => {
                        ops.push(test(path.clone(), old.clone()));
                        ops.push(replace(path, value));
                    }
                    None => ops.push(add(path, value)),
                }
            }
        }
    }
    ops
}

pub mod restart;

#[cfg(test)]
mod tests;
