//! Label selectors (`--resource-label-selector`), in Kubernetes syntax and stakater's:
//! `k=v`, `k==v`, `k!=v`, `k` (exists), `!k` (does not exist), `k in (a,b)`,
//! `k notin (a,b)`, and stakater's legacy `k:v` and `k:*` (exists); comma-separated, ANDed.

use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    NotExists(String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
}

impl Requirement {
    fn key(&self) -> &str {
        match self {
            Requirement::Equals(k, _)
            | Requirement::NotEquals(k, _)
            | Requirement::Exists(k)
            | Requirement::NotExists(k)
            | Requirement::In(k, _)
            | Requirement::NotIn(k, _) => k,
        }
    }
}

/// A parsed selector; the empty selector matches everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<Requirement>);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid label selector term {0:?}: expected k=v, k!=v, k, !k, k in (a,b), k notin (a,b), or stakater's k:v, k:*"
)]
pub struct BadSelector(pub String);

/// The terms of a selector: split at commas outside parentheses.
fn terms(s: &str) -> Result<Vec<&str>, BadSelector> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.checked_sub(1).ok_or_else(|| BadSelector(s.into()))?,
            ',' if depth == 0 => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(BadSelector(s.into()));
    }
    out.push(s[start..].trim());
    Ok(out.into_iter().filter(|t| !t.is_empty()).collect())
}

/// `k in (a,b)` / `k notin (a,b)`, if `term` is one.
fn set_term(term: &str) -> Option<Result<Requirement, BadSelector>> {
    let open = term.find('(')?;
    let head = term[..open].trim();
    let (key, negated) = if let Some(k) = head.strip_suffix(" notin") {
        (k, true)
    } else if let Some(k) = head.strip_suffix(" in") {
        (k, false)
    } else {
        return Some(Err(BadSelector(term.into())));
    };
    let Some(list) = term[open + 1..].strip_suffix(')') else {
        return Some(Err(BadSelector(term.into())));
    };
    let values: Vec<String> = list.split(',').map(|v| v.trim().to_owned()).collect();
    let key = key.trim().to_owned();
    Some(Ok(if negated {
        Requirement::NotIn(key, values)
    } else {
        Requirement::In(key, values)
    }))
}

impl std::str::FromStr for LabelSelector {
    type Err = BadSelector;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut out = Vec::new();
        for term in terms(s)? {
            let valid = |k: &str| {
                !k.is_empty()
                    && k.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
            };
            let req = if let Some(set) = set_term(term) {
                set?
            } else if let Some((k, v)) = term.split_once("!=") {
                Requirement::NotEquals(k.trim().into(), v.trim().into())
            } else if let Some((k, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                Requirement::Equals(k.trim().into(), v.trim().into())
            } else if let Some(k) = term.strip_prefix('!') {
                Requirement::NotExists(k.trim().into())
            } else if let Some((k, v)) = term.split_once(':') {
                match v.trim() {
                    "*" => Requirement::Exists(k.trim().into()),
                    v => Requirement::Equals(k.trim().into(), v.into()),
                }
            } else {
                Requirement::Exists(term.into())
            };
            if !valid(req.key()) {
                return Err(BadSelector(term.into()));
            }
            out.push(req);
        }
        Ok(LabelSelector(out))
    }
}

impl LabelSelector {
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
            Requirement::In(k, values) => labels.get(k).is_some_and(|v| values.contains(v)),
            Requirement::NotIn(k, values) => labels.get(k).is_none_or(|v| !values.contains(v)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_match_like_kubectl() {
        let labels: BTreeMap<String, String> = [
            ("app".to_string(), "web".to_string()),
            ("tier".into(), "x".into()),
        ]
        .into();
        let cases = [
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app=db", false),
            ("app!=db", true),
            ("app", true),
            ("!app", false),
            ("missing", false),
            ("!missing", true),
            ("app=web, tier=x", true),
            ("app=web,tier=y", false),
            ("app in (web,db)", true),
            ("app in (db, cache)", false),
            ("app notin (db)", true),
            ("app notin (web,db)", false),
            ("missing notin (a)", true),
            ("app in (web,db),tier=x", true),
            ("app:web", true),
            ("app:db", false),
            ("tier:*", true),
            ("missing:*", false),
            ("app:web,tier:*", true),
        ];
        for (selector, want) in cases {
            let s: LabelSelector = selector.parse().unwrap();
            assert_eq!(s.matches(&labels), want, "{selector}");
        }
    }

    #[test]
    fn malformed_terms_are_rejected() {
        assert!("a b=c".parse::<LabelSelector>().is_err());
        assert!("=x".parse::<LabelSelector>().is_err());
        for bad in ["app in (web", "app in web)", "app within (a)", "(a)", ":v"] {
            assert!(bad.parse::<LabelSelector>().is_err(), "{bad}");
        }
    }
}
