//! Generic webhooks: the change as structured JSON, for scripts and bridges, with the
//! title as `text` for receivers that only show one line.

use serde_json::{Value, json};

use super::{time, title};
use crate::alerts::batch::{ChangeAlert, Phase};
use crate::alerts::event::AlertResult;

pub fn body(alert: &ChangeAlert, info: Option<&str>) -> Value {
    let c = &alert.counts;
    let sources: Vec<Value> = alert
        .sources
        .iter()
        .map(|s| {
            json!({
                "kind": s.source.kind.as_str(),
                "namespace": s.source.namespace,
                "name": s.source.name,
                "hash": s.hash,
                "strategy": s.strategy,
            })
        })
        .collect();
    let workloads: Vec<Value> = alert
        .listed
        .iter()
        .map(|l| {
            let w = &l.workload;
            let mut entry = json!({
                "kind": w.kind.as_str(),
                "namespace": w.namespace,
                "name": w.name,
                "result": l.result.label(),
            });
            match &l.result {
                AlertResult::Failed { class, detail } => {
                    entry["reason"] = json!(class);
                    entry["error"] = json!(detail);
                }
                AlertResult::Deferred { until } => entry["until"] = json!(format!("{until:.0}")),
                AlertResult::Rolled | AlertResult::UpToDate => {}
            }
            entry
        })
        .collect();
    json!({
        "text": title(alert, info),
        "result": if c.failed > 0 { "failure" } else { "success" },
        "phase": match alert.phase { Phase::Change => "change", Phase::AfterPause => "after_pause" },
        "sources": sources,
        "counts": {
            "rolled": c.rolled,
            "upToDate": c.up_to_date,
            "deferred": c.deferred,
            "failed": c.failed,
        },
        "workloads": workloads,
        "unlisted": alert.unlisted,
        "time": time(alert),
        "additionalInfo": info,
    })
}
