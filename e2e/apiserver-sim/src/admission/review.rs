//! AdmissionReview v1 requests and the parts of responses the chain acts on.

use base64::Engine;
use serde_json::{Value, json};

use super::rules::Operation;
use crate::resources::ResourceType;

/// Everything about a request that a webhook is told.
#[derive(Debug, Clone)]
pub struct Attributes {
    pub operation: Operation,
    pub resource: ResourceType,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
    pub object: Option<Value>,
    pub old_object: Option<Value>,
    pub dry_run: bool,
    pub options: Value,
    pub username: String,
    pub groups: Vec<String>,
}

pub fn review_request(uid: &str, attributes: &Attributes) -> Value {
    let r = &attributes.resource;
    let kind = json!({"group": r.group, "version": r.version, "kind": r.kind});
    let resource = json!({"group": r.group, "version": r.version, "resource": r.plural});
    let mut request = json!({
        "uid": uid,
        "kind": kind,
        "resource": resource,
        "requestKind": kind,
        "requestResource": resource,
        "name": attributes.name,
        "operation": attributes.operation.as_str(),
        "userInfo": {"username": attributes.username, "groups": attributes.groups},
        "object": attributes.object.clone().unwrap_or(Value::Null),
        "oldObject": attributes.old_object.clone().unwrap_or(Value::Null),
        "dryRun": attributes.dry_run,
        "options": attributes.options,
    });
    if !attributes.namespace.is_empty() {
        request["namespace"] = json!(attributes.namespace);
    }
    if !attributes.subresource.is_empty() {
        request["subResource"] = json!(attributes.subresource);
        request["requestSubResource"] = json!(attributes.subresource);
    }
    json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": request})
}

/// The decision of one webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub allowed: bool,
    pub status: Value,
    pub patch: Option<json_patch::Patch>,
    pub warnings: Vec<String>,
}

pub fn parse_response(uid: &str, review: &Value) -> Result<Verdict, String> {
    if review["apiVersion"].as_str() != Some("admission.k8s.io/v1")
        || review["kind"].as_str() != Some("AdmissionReview")
    {
        return Err(format!(
            "expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got {}, Kind={}",
            review["apiVersion"].as_str().unwrap_or_default(),
            review["kind"].as_str().unwrap_or_default()
        ));
    }
    let response = &review["response"];
    if !response.is_object() {
        return Err("webhook response was absent".into());
    }
    let got_uid = response["uid"].as_str().unwrap_or_default();
    if got_uid != uid {
        return Err(format!(
            "expected response.uid=\"{uid}\", got \"{got_uid}\""
        ));
    }
    let patch = match response["patch"].as_str() {
        None | Some("") => None,
        Some(encoded) => {
            if response["patchType"].as_str() != Some("JSONPatch") {
                return Err(format!(
                    "expected patchType JSONPatch, got {:?}",
                    response["patchType"]
                ));
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| format!("invalid patch encoding: {e}"))?;
            Some(serde_json::from_slice(&bytes).map_err(|e| format!("invalid JSON patch: {e}"))?)
        }
    };
    let warnings = response["warnings"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|w| w.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    Ok(Verdict {
        allowed: response["allowed"].as_bool().unwrap_or(false),
        status: response["status"].clone(),
        patch,
        warnings,
    })
}

/// The status a denial is reported with: the webhook's code (400 if unset) and a
/// message naming the webhook, as kube-apiserver words it.
pub fn denial(webhook_name: &str, status: &Value) -> (u16, String, String) {
    let code = status["code"]
        .as_u64()
        .filter(|c| (400..600).contains(c))
        .unwrap_or(400) as u16;
    let reason = status["reason"].as_str().unwrap_or_default().to_string();
    let denied_by = format!("admission webhook \"{webhook_name}\" denied the request");
    let message = match (status["message"].as_str(), reason.as_str()) {
        (Some(m), _) if !m.is_empty() => format!("{denied_by}: {m}"),
        (_, r) if !r.is_empty() => format!("{denied_by}: {r}"),
        _ => format!("{denied_by} without explanation"),
    };
    (code, reason, message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtin_resources;

    fn attributes() -> Attributes {
        Attributes {
            operation: Operation::Update,
            resource: builtin_resources()
                .into_iter()
                .find(|r| r.plural == "secrets")
                .expect("secrets"),
            subresource: String::new(),
            namespace: "ns".into(),
            name: "s".into(),
            object: Some(json!({"data": {}})),
            old_object: Some(json!({"data": {"a": "YQ=="}})),
            dry_run: true,
            options: json!({"kind": "UpdateOptions", "apiVersion": "meta.k8s.io/v1"}),
            username: "admin".into(),
            groups: vec!["system:masters".into()],
        }
    }

    #[test]
    fn review_carries_request_fields() {
        let review = review_request("u-1", &attributes());
        let request = &review["request"];
        assert_eq!(request["uid"], "u-1");
        assert_eq!(
            request["kind"],
            json!({"group": "", "version": "v1", "kind": "Secret"})
        );
        assert_eq!(request["resource"]["resource"], "secrets");
        assert_eq!(request["operation"], "UPDATE");
        assert_eq!(request["namespace"], "ns");
        assert_eq!(request["dryRun"], true);
        assert_eq!(request["oldObject"]["data"]["a"], "YQ==");
        assert!(request.get("subResource").is_none());
    }

    #[test]
    fn response_uid_must_match() {
        let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": {"uid": "x", "allowed": true}});
        assert!(parse_response("y", &review).is_err());
        assert!(parse_response("x", &review).expect("valid").allowed);
    }

    #[test]
    fn response_patch_is_decoded() {
        let patch = base64::engine::general_purpose::STANDARD
            .encode(r#"[{"op":"add","path":"/a","value":1}]"#);
        let review = json!({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "response": {"uid": "x", "allowed": true, "patchType": "JSONPatch", "patch": patch, "warnings": ["careful"]}});
        let verdict = parse_response("x", &review).expect("valid");
        assert!(verdict.patch.is_some());
        assert_eq!(verdict.warnings, vec!["careful".to_string()]);
    }

    #[test]
    fn denial_wording_table() {
        let cases = [
            (
                "message",
                json!({"code": 403, "message": "no"}),
                403,
                "admission webhook \"w\" denied the request: no",
            ),
            (
                "default code",
                json!({"message": "no"}),
                400,
                "admission webhook \"w\" denied the request: no",
            ),
            (
                "reason only",
                json!({"reason": "Because"}),
                400,
                "admission webhook \"w\" denied the request: Because",
            ),
            (
                "nothing",
                Value::Null,
                400,
                "admission webhook \"w\" denied the request without explanation",
            ),
        ];
        for (name, status, code, message) in cases {
            let (got_code, _, got_message) = denial("w", &status);
            assert_eq!((got_code, got_message.as_str()), (code, message), "{name}");
        }
    }
}
