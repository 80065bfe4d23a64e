//! Which webhooks a request goes to: rules (groups, versions, operations, resources
//! with subresources, scope), `namespaceSelector` and `objectSelector`.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::selectors::LabelSelector;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
        }
    }
}

/// The facts of a request that webhook rules look at.
#[derive(Debug, Clone)]
pub struct RuleTarget<'a> {
    pub operation: Operation,
    pub group: &'a str,
    pub version: &'a str,
    pub resource: &'a str,
    pub subresource: &'a str,
    pub namespaced: bool,
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn listed(list: &[&str], value: &str) -> bool {
    list.iter().any(|item| *item == "*" || *item == value)
}

fn resource_matches(pattern: &str, resource: &str, subresource: &str) -> bool {
    match pattern.split_once('/') {
        Some((r, s)) => (r == "*" || r == resource) && (s == "*" || s == subresource),
        None => (pattern == "*" || pattern == resource) && subresource.is_empty(),
    }
}

/// Whether one `rules[]` entry covers the request.
pub fn rule_matches(rule: &Value, target: &RuleTarget<'_>) -> bool {
    let scope_ok = match rule["scope"].as_str().unwrap_or("*") {
        "Cluster" => !target.namespaced,
        "Namespaced" => target.namespaced,
        _ => true,
    };
    let operation = target.operation.as_str();
    scope_ok
        && listed(&strings(&rule["operations"]), operation)
        && listed(&strings(&rule["apiGroups"]), target.group)
        && listed(&strings(&rule["apiVersions"]), target.version)
        && strings(&rule["resources"])
            .iter()
            .any(|p| resource_matches(p, target.resource, target.subresource))
}

/// Whether a webhook applies: some rule matches, and both selectors accept.
/// `namespace_labels` is `None` for cluster-scoped resources other than namespaces,
/// where the namespaceSelector does not apply.
pub fn webhook_applies(
    webhook: &Value,
    target: &RuleTarget<'_>,
    namespace_labels: Option<&BTreeMap<String, String>>,
    object: Option<&Value>,
    old_object: Option<&Value>,
) -> bool {
    let rules = webhook["rules"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    if !rules.iter().any(|rule| rule_matches(rule, target)) {
        return false;
    }
    let selector_accepts = |selector: &Value, labels: &BTreeMap<String, String>| {
        LabelSelector::from_json(selector)
            .map(|s| s.matches(labels))
            .unwrap_or(false)
    };
    if let Some(labels) = namespace_labels
        && !selector_accepts(&webhook["namespaceSelector"], labels)
    {
        return false;
    }
    let object_selector = &webhook["objectSelector"];
    let candidates: Vec<&Value> = object.into_iter().chain(old_object).collect();
    candidates.is_empty()
        || candidates
            .iter()
            .any(|o| selector_accepts(object_selector, &crate::selectors::labels_of(o)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target(
        operation: Operation,
        group: &'static str,
        resource: &'static str,
        subresource: &'static str,
    ) -> RuleTarget<'static> {
        RuleTarget {
            operation,
            group,
            version: "v1",
            resource,
            subresource,
            namespaced: true,
        }
    }

    fn rule(resources: Value) -> Value {
        json!({"apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": resources})
    }

    #[test]
    fn rule_matching_table() {
        let secrets = target(Operation::Create, "", "secrets", "");
        let cases = [
            (
                "exact resource",
                rule(json!(["secrets"])),
                secrets.clone(),
                true,
            ),
            (
                "other resource",
                rule(json!(["configmaps"])),
                secrets.clone(),
                false,
            ),
            (
                "star matches main resource",
                rule(json!(["*"])),
                secrets.clone(),
                true,
            ),
            (
                "star does not match subresource",
                rule(json!(["*"])),
                target(Operation::Update, "", "pods", "status"),
                false,
            ),
            (
                "star slash star matches subresource",
                rule(json!(["*/*"])),
                target(Operation::Update, "", "pods", "status"),
                true,
            ),
            (
                "named subresource",
                rule(json!(["pods/status"])),
                target(Operation::Update, "", "pods", "status"),
                true,
            ),
            (
                "plain resource excludes subresource",
                rule(json!(["pods"])),
                target(Operation::Update, "", "pods", "status"),
                false,
            ),
            (
                "operation not listed",
                rule(json!(["secrets"])),
                target(Operation::Delete, "", "secrets", ""),
                false,
            ),
            (
                "group mismatch",
                rule(json!(["secrets"])),
                target(Operation::Create, "apps", "secrets", ""),
                false,
            ),
        ];
        for (name, rule, target, expected) in cases {
            assert_eq!(rule_matches(&rule, &target), expected, "{name}");
        }
    }

    #[test]
    fn scope_is_honoured() {
        let mut namespaced_rule = rule(json!(["*"]));
        namespaced_rule["scope"] = json!("Namespaced");
        let mut cluster_target = target(Operation::Create, "", "namespaces", "");
        cluster_target.namespaced = false;
        assert!(!rule_matches(&namespaced_rule, &cluster_target));
        namespaced_rule["scope"] = json!("Cluster");
        assert!(rule_matches(&namespaced_rule, &cluster_target));
    }

    #[test]
    fn selectors_table() {
        let webhook = json!({
            "rules": [rule(json!(["secrets"]))],
            "namespaceSelector": {"matchLabels": {"team": "a"}},
            "objectSelector": {"matchExpressions": [{"key": "skip", "operator": "DoesNotExist"}]}
        });
        let team_a: BTreeMap<String, String> = [("team".to_string(), "a".to_string())].into();
        let team_b: BTreeMap<String, String> = [("team".to_string(), "b".to_string())].into();
        let plain = json!({"metadata": {"labels": {}}});
        let skipped = json!({"metadata": {"labels": {"skip": "yes"}}});
        let t = target(Operation::Create, "", "secrets", "");
        let cases = [
            (
                "namespace and object match",
                Some(&team_a),
                Some(&plain),
                None,
                true,
            ),
            (
                "namespace mismatch",
                Some(&team_b),
                Some(&plain),
                None,
                false,
            ),
            (
                "object selector excludes",
                Some(&team_a),
                Some(&skipped),
                None,
                false,
            ),
            (
                "old object can match",
                Some(&team_a),
                Some(&skipped),
                Some(&plain),
                true,
            ),
            (
                "cluster scope ignores namespace selector",
                None,
                Some(&plain),
                None,
                true,
            ),
        ];
        for (name, labels, object, old, expected) in cases {
            assert_eq!(
                webhook_applies(&webhook, &t, labels, object, old),
                expected,
                "{name}"
            );
        }
    }
}
