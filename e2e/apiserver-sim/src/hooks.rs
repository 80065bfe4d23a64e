//! Test hooks served under `/_sim/`: fault injection and the request log.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A fault: the next `count` requests matching `verb`/`resource` (and optionally
/// `namespace`/`name`) hang for `hang_ms`, then answer `status` if given or proceed.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Fault {
    #[serde(default = "any")]
    pub verb: String,
    #[serde(default = "any")]
    pub resource: String,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub status: Option<u16>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub hang_ms: Option<u64>,
}

fn any() -> String {
    "*".into()
}

fn one() -> u32 {
    1
}

/// What a request is, for matching faults.
#[derive(Debug, Clone, Copy)]
pub struct RequestIdentity<'a> {
    pub verb: &'a str,
    pub group: &'a str,
    /// `deployments`, or `deployments/status` for a subresource.
    pub resource: &'a str,
    pub namespace: &'a str,
    pub name: &'a str,
}

impl Fault {
    pub fn matches(&self, request: &RequestIdentity<'_>) -> bool {
        let field = |pattern: &str, actual: &str| pattern == "*" || pattern == actual;
        field(&self.verb, request.verb)
            && field(&self.resource, request.resource)
            && self.group.as_deref().is_none_or(|g| g == request.group)
            && self
                .namespace
                .as_deref()
                .is_none_or(|n| n == request.namespace)
            && self.name.as_deref().is_none_or(|n| n == request.name)
    }

    pub fn hang(&self) -> Option<Duration> {
        self.hang_ms.map(Duration::from_millis)
    }
}

/// One served request, as tests see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LoggedRequest {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub query: String,
    pub content_type: String,
    pub status: u16,
    /// The Kubernetes verb (get, list, watch, create, update, patch, delete…), empty for non-resource paths.
    pub verb: String,
    pub resource: String,
}

const LOG_CAPACITY: usize = 10_000;

#[derive(Default)]
pub struct Hooks {
    faults: Mutex<Vec<Fault>>,
    log: Mutex<(u64, VecDeque<LoggedRequest>)>,
}

impl Hooks {
    pub fn add_fault(&self, fault: Fault) {
        self.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(fault);
    }

    pub fn clear_faults(&self) {
        self.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    pub fn faults(&self) -> Vec<Fault> {
        self.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Consumes one use of the first fault matching the request.
    pub fn take_fault(&self, request: &RequestIdentity<'_>) -> Option<Fault> {
        let mut faults = self.faults.lock().unwrap_or_else(|e| e.into_inner());
        let index = faults
            .iter()
            .position(|f| f.count > 0 && f.matches(request))?;
        let fault = faults[index].clone();
        faults[index].count -= 1;
        if faults[index].count == 0 {
            faults.remove(index);
        }
        Some(fault)
    }

    pub fn record(&self, mut entry: LoggedRequest) {
        let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.0 += 1;
        entry.seq = log.0;
        log.1.push_back(entry);
        while log.1.len() > LOG_CAPACITY {
            log.1.pop_front();
        }
    }

    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .1
            .iter()
            .cloned()
            .collect()
    }

    pub fn clear_requests(&self) {
        self.log.lock().unwrap_or_else(|e| e.into_inner()).1.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request<'a>(verb: &'a str, resource: &'a str) -> RequestIdentity<'a> {
        RequestIdentity {
            verb,
            group: "apps",
            resource,
            namespace: "ns",
            name: "web",
        }
    }

    fn fault(verb: &str, resource: &str, count: u32) -> Fault {
        serde_json::from_value(
            serde_json::json!({"verb": verb, "resource": resource, "count": count, "status": 500}),
        )
        .expect("fault parses")
    }

    #[test]
    fn fault_matching_table() {
        let cases = [
            (
                "exact",
                fault("patch", "deployments", 1),
                request("patch", "deployments"),
                true,
            ),
            (
                "wildcard verb",
                fault("*", "deployments", 1),
                request("get", "deployments"),
                true,
            ),
            (
                "wildcard resource",
                fault("patch", "*", 1),
                request("patch", "secrets"),
                true,
            ),
            (
                "other verb",
                fault("patch", "deployments", 1),
                request("get", "deployments"),
                false,
            ),
            (
                "other resource",
                fault("patch", "deployments", 1),
                request("patch", "secrets"),
                false,
            ),
        ];
        for (name, fault, request, expected) in cases {
            assert_eq!(fault.matches(&request), expected, "{name}");
        }
    }

    #[test]
    fn faults_are_consumed_count_times() {
        let hooks = Hooks::default();
        hooks.add_fault(fault("patch", "deployments", 2));
        let r = request("patch", "deployments");
        assert!(hooks.take_fault(&r).is_some());
        assert!(hooks.take_fault(&r).is_some());
        assert!(hooks.take_fault(&r).is_none());
    }

    #[test]
    fn request_log_numbers_entries() {
        let hooks = Hooks::default();
        for status in [200, 404] {
            hooks.record(LoggedRequest {
                seq: 0,
                method: "GET".into(),
                path: "/api".into(),
                query: String::new(),
                content_type: String::new(),
                status,
                verb: String::new(),
                resource: String::new(),
            });
        }
        let log = hooks.requests();
        assert_eq!(
            log.iter().map(|r| (r.seq, r.status)).collect::<Vec<_>>(),
            vec![(1, 200), (2, 404)]
        );
    }
}
