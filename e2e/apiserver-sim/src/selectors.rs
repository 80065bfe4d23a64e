//! Label and field selectors: the query-string forms (`labelSelector`, `fieldSelector`)
//! and the structured `metav1.LabelSelector` used by webhook configurations.

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SelectorError {
    #[error("unable to parse requirement: {0}")]
    Parse(String),
    #[error("field label not supported: {0}")]
    UnsupportedField(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Op {
    Equals(String),
    NotEquals(String),
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    DoesNotExist,
    GreaterThan(i64),
    LessThan(i64),
}

#[derive(Debug, Clone, PartialEq)]
struct Requirement {
    key: String,
    op: Op,
}

impl Requirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match &self.op {
            Op::Equals(v) => value == Some(v),
            Op::NotEquals(v) => value != Some(v),
            Op::In(vs) => value.is_some_and(|x| vs.contains(x)),
            Op::NotIn(vs) => !value.is_some_and(|x| vs.contains(x)),
            Op::Exists => value.is_some(),
            Op::DoesNotExist => value.is_none(),
            Op::GreaterThan(n) => value
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x > *n),
            Op::LessThan(n) => value
                .and_then(|x| x.parse::<i64>().ok())
                .is_some_and(|x| x < *n),
        }
    }
}

/// A parsed label selector; the empty selector matches everything.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    pub fn parse(text: &str) -> Result<Self, SelectorError> {
        let requirements = split_top_level(text)
            .into_iter()
            .map(|part| parse_requirement(part.trim()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LabelSelector { requirements })
    }

    /// From a structured `metav1.LabelSelector` (`matchLabels` + `matchExpressions`).
    /// A null selector matches everything, as webhook selectors do.
    pub fn from_json(selector: &Value) -> Result<Self, SelectorError> {
        let mut requirements = Vec::new();
        if let Some(labels) = selector["matchLabels"].as_object() {
            for (k, v) in labels {
                requirements.push(Requirement {
                    key: k.clone(),
                    op: Op::Equals(v.as_str().unwrap_or_default().into()),
                });
            }
        }
        for expr in selector["matchExpressions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let key = expr["key"].as_str().unwrap_or_default().to_string();
            let values: Vec<String> = expr["values"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            let op = match expr["operator"].as_str() {
                Some("In") => Op::In(values),
                Some("NotIn") => Op::NotIn(values),
                Some("Exists") => Op::Exists,
                Some("DoesNotExist") => Op::DoesNotExist,
                other => return Err(SelectorError::Parse(format!("operator {other:?}"))),
            };
            requirements.push(Requirement { key, op });
        }
        Ok(LabelSelector { requirements })
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    pub fn matches_object(&self, object: &Value) -> bool {
        self.matches(&labels_of(object))
    }
}

pub fn labels_of(object: &Value) -> BTreeMap<String, String> {
    object["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().into()))
                .collect()
        })
        .unwrap_or_default()
}

/// Splits on commas that are not inside `( … )`.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

fn parse_requirement(part: &str) -> Result<Requirement, SelectorError> {
    let err = || SelectorError::Parse(part.to_string());
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement {
            key: valid_key(key.trim(), part)?,
            op: Op::DoesNotExist,
        });
    }
    for (token, negate) in [(" notin ", true), (" in ", false)] {
        if let Some(index) = part.find(token) {
            let key = valid_key(part[..index].trim(), part)?;
            let list = part[index + token.len()..].trim();
            let inner = list
                .strip_prefix('(')
                .and_then(|l| l.strip_suffix(')'))
                .ok_or_else(err)?;
            let values: Vec<String> = inner.split(',').map(|v| v.trim().to_string()).collect();
            let op = if negate {
                Op::NotIn(values)
            } else {
                Op::In(values)
            };
            return Ok(Requirement { key, op });
        }
    }
    for (token, kind) in [("!=", 0), ("==", 1), ("=", 1), (">", 2), ("<", 3)] {
        if let Some(index) = part.find(token) {
            let key = valid_key(part[..index].trim(), part)?;
            let value = part[index + token.len()..].trim().to_string();
            let op = match kind {
                0 => Op::NotEquals(value),
                1 => Op::Equals(value),
                2 => Op::GreaterThan(value.parse().map_err(|_| err())?),
                _ => Op::LessThan(value.parse().map_err(|_| err())?),
            };
            return Ok(Requirement { key, op });
        }
    }
    Ok(Requirement {
        key: valid_key(part, part)?,
        op: Op::Exists,
    })
}

fn valid_key(key: &str, part: &str) -> Result<String, SelectorError> {
    let ok = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c));
    if ok {
        Ok(key.to_string())
    } else {
        Err(SelectorError::Parse(part.to_string()))
    }
}

/// A parsed field selector (`=`, `==`, `!=` on a few supported fields).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FieldSelector {
    terms: Vec<(String, bool, String)>,
}

impl FieldSelector {
    /// `extra_fields` are the type-specific fields this resource supports besides metadata.
    pub fn parse(text: &str, extra_fields: &[&str]) -> Result<Self, SelectorError> {
        let mut terms = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(SelectorError::Parse(part.to_string()));
            };
            let field = field.trim();
            let supported = matches!(field, "metadata.name" | "metadata.namespace")
                || extra_fields.contains(&field);
            if !supported {
                return Err(SelectorError::UnsupportedField(field.to_string()));
            }
            terms.push((field.to_string(), equal, value.trim().to_string()));
        }
        Ok(FieldSelector { terms })
    }

    pub fn matches_object(&self, object: &Value) -> bool {
        self.terms.iter().all(|(field, equal, expected)| {
            let actual = field
                .split('.')
                .try_fold(object, |v, k| v.get(k))
                .and_then(Value::as_str);
            (actual.unwrap_or_default() == expected) == *equal
        })
    }
}

/// Fields beyond metadata that the real server lets you select on, per resource.
pub fn extra_field_labels(group: &str, plural: &str) -> &'static [&'static str] {
    match (group, plural) {
        ("", "secrets") => &["type"],
        ("", "events") => &[
            "involvedObject.kind",
            "involvedObject.name",
            "involvedObject.namespace",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "type",
        ],
        ("events.k8s.io", "events") => &[
            "regarding.kind",
            "regarding.name",
            "regarding.namespace",
            "regarding.uid",
            "regarding.apiVersion",
            "regarding.resourceVersion",
            "regarding.fieldPath",
            "reason",
            "reportingController",
            "type",
        ],
        ("", "pods") => &["spec.nodeName", "status.phase"],
        ("", "namespaces") => &["status.phase"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selector_table() {
        let app_web = labels(&[("app", "web"), ("tier", "front")]);
        let none = labels(&[]);
        let cases = [
            ("empty matches all", "", &app_web, true),
            ("equality", "app=web", &app_web, true),
            ("double equals", "app==web", &app_web, true),
            ("equality mismatch", "app=db", &app_web, false),
            ("not equals on other value", "app!=db", &app_web, true),
            ("not equals matches missing key", "app!=db", &none, true),
            ("in", "tier in (front, back)", &app_web, true),
            ("in mismatch", "tier in (back)", &app_web, false),
            ("notin", "tier notin (back)", &app_web, true),
            (
                "notin matches missing key",
                "tier notin (front)",
                &none,
                true,
            ),
            ("exists", "app", &app_web, true),
            ("exists missing", "app", &none, false),
            ("does not exist", "!app", &none, true),
            (
                "conjunction",
                "app=web,tier in (front),!gone",
                &app_web,
                true,
            ),
            (
                "conjunction one fails",
                "app=web,tier=back",
                &app_web,
                false,
            ),
        ];
        for (name, text, labels, expected) in cases {
            let selector = LabelSelector::parse(text).expect(name);
            assert_eq!(selector.matches(labels), expected, "{name}");
        }
    }

    #[test]
    fn malformed_label_selectors_are_errors() {
        for text in ["app in front", "a b=c", "=x"] {
            assert!(LabelSelector::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn structured_selector_table() {
        let object = json!({"metadata": {"labels": {"env": "prod", "team": "a"}}});
        let cases = [
            ("null selector", json!(null), true),
            (
                "match labels",
                json!({"matchLabels": {"env": "prod"}}),
                true,
            ),
            (
                "match labels mismatch",
                json!({"matchLabels": {"env": "dev"}}),
                false,
            ),
            (
                "in",
                json!({"matchExpressions": [{"key": "team", "operator": "In", "values": ["a", "b"]}]}),
                true,
            ),
            (
                "does not exist",
                json!({"matchExpressions": [{"key": "skip", "operator": "DoesNotExist"}]}),
                true,
            ),
            (
                "exists fails",
                json!({"matchExpressions": [{"key": "skip", "operator": "Exists"}]}),
                false,
            ),
        ];
        for (name, selector, expected) in cases {
            let selector = LabelSelector::from_json(&selector).expect(name);
            assert_eq!(selector.matches_object(&object), expected, "{name}");
        }
    }

    #[test]
    fn field_selector_table() {
        let object = json!({"metadata": {"name": "a", "namespace": "ns1"}, "type": "Opaque"});
        let cases = [
            ("name equals", "metadata.name=a", true),
            ("name double equals", "metadata.name==a", true),
            ("name not equals", "metadata.name!=a", false),
            ("namespace", "metadata.namespace=ns1", true),
            ("both", "metadata.name=a,metadata.namespace=ns2", false),
            ("extra field", "type=Opaque", true),
        ];
        for (name, text, expected) in cases {
            let selector = FieldSelector::parse(text, &["type"]).expect(name);
            assert_eq!(selector.matches_object(&object), expected, "{name}");
        }
    }

    #[test]
    fn unsupported_field_is_rejected() {
        assert_eq!(
            FieldSelector::parse("spec.replicas=1", &[]),
            Err(SelectorError::UnsupportedField("spec.replicas".into()))
        );
    }
}
