//! The admission chain: mutating webhooks in order, then validating webhooks
//! concurrently, as kube-apiserver runs them.

pub mod cel;
pub mod client;
pub mod review;
pub mod rules;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use serde_json::Value;

use crate::object::new_uid;
use crate::status::ApiError;
use review::{Attributes, Verdict, denial, parse_response, review_request};
use rules::{RuleTarget, webhook_applies};

/// One webhook entry with the name of the configuration it came from.
#[derive(Debug, Clone)]
pub struct Webhook {
    pub spec: Value,
}

impl Webhook {
    pub fn name(&self) -> &str {
        self.spec["name"].as_str().unwrap_or_default()
    }

    fn timeout(&self) -> Duration {
        Duration::from_secs(
            self.spec["timeoutSeconds"]
                .as_u64()
                .unwrap_or(10)
                .clamp(1, 30),
        )
    }

    fn fails_closed(&self) -> bool {
        self.spec["failurePolicy"].as_str() != Some("Ignore")
    }

    /// All `matchConditions` true (none means true); an error wins only if no condition is false.
    fn match_conditions_hold(&self, attributes: &Attributes) -> Result<bool, String> {
        let Some(conditions) = self.spec["matchConditions"]
            .as_array()
            .filter(|c| !c.is_empty())
        else {
            return Ok(true);
        };
        let request = review_request("", attributes)["request"].clone();
        let variables = serde_json::json!({
            "object": request["object"],
            "oldObject": request["oldObject"],
            "request": request,
            "params": null,
        });
        let mut first_error = None;
        for condition in conditions {
            let name = condition["name"].as_str().unwrap_or_default();
            let expression = condition["expression"].as_str().unwrap_or_default();
            match cel::evaluate(expression, &variables) {
                Ok(true) => {}
                Ok(false) => return Ok(false),
                Err(e) => {
                    first_error
                        .get_or_insert_with(|| format!("matchCondition {name:?} error: {e}"));
                }
            }
        }
        first_error.map_or(Ok(true), Err)
    }

    fn safe_on_dry_run(&self) -> bool {
        matches!(
            self.spec["sideEffects"].as_str(),
            Some("None") | Some("NoneOnDryRun")
        )
    }
}

/// Webhooks of stored configurations, configurations sorted by name as the real server does.
pub fn webhooks_of(configurations: &[Value]) -> Vec<Webhook> {
    let mut sorted: Vec<&Value> = configurations.iter().collect();
    sorted.sort_by_key(|c| {
        c["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    });
    sorted
        .into_iter()
        .flat_map(|c| c["webhooks"].as_array().cloned().unwrap_or_default())
        .map(|spec| Webhook { spec })
        .collect()
}

pub struct AdmissionChain {
    pub service_endpoints: HashMap<String, String>,
}

/// What the request looks like to selectors.
pub struct Selection<'a> {
    /// Labels of the request's namespace (or of the namespace object itself);
    /// `None` for other cluster-scoped resources.
    pub namespace_labels: Option<&'a BTreeMap<String, String>>,
}

impl AdmissionChain {
    fn applicable(
        &self,
        webhooks: Vec<Webhook>,
        attributes: &Attributes,
        selection: &Selection<'_>,
    ) -> Vec<Webhook> {
        let r = &attributes.resource;
        // Webhook configurations are never subject to webhooks, so a bad one can be removed.
        if r.group == "admissionregistration.k8s.io" {
            return vec![];
        }
        let target = RuleTarget {
            operation: attributes.operation,
            group: &r.group,
            version: &r.version,
            resource: &r.plural,
            subresource: &attributes.subresource,
            namespaced: r.namespaced,
        };
        webhooks
            .into_iter()
            .filter(|w| {
                webhook_applies(
                    &w.spec,
                    &target,
                    selection.namespace_labels,
                    attributes.object.as_ref(),
                    attributes.old_object.as_ref(),
                )
            })
            .collect()
    }

    /// Calls one webhook; `Ok(None)` means it was skipped by its matchConditions, or
    /// failed and its policy says to ignore that.
    async fn call(
        &self,
        webhook: &Webhook,
        attributes: &Attributes,
    ) -> Result<Option<Verdict>, ApiError> {
        match webhook.match_conditions_hold(attributes) {
            Ok(true) => {}
            Ok(false) => return Ok(None),
            Err(e) if webhook.fails_closed() => {
                return Err(ApiError::InternalError(format!(
                    "failed calling webhook \"{}\": {e}",
                    webhook.name()
                )));
            }
            Err(_) => return Ok(None),
        }
        if attributes.dry_run && !webhook.safe_on_dry_run() {
            return Err(ApiError::BadRequest(format!(
                "admission webhook \"{}\" does not support dry run",
                webhook.name()
            )));
        }
        let uid = new_uid();
        let review = review_request(&uid, attributes);
        let client_config = &webhook.spec["clientConfig"];
        let outcome = async {
            let endpoint =
                client::resolve(client_config, &self.service_endpoints, webhook.timeout())?;
            let ca = client::decode_ca_bundle(client_config)?;
            let response = client::post_review(&endpoint, &ca, &review, webhook.timeout()).await?;
            parse_response(&uid, &response).map_err(client::CallError::BadResponse)
        }
        .await;
        match outcome {
            Ok(verdict) => Ok(Some(verdict)),
            Err(e) if webhook.fails_closed() => {
                let detail = match e {
                    client::CallError::BadResponse(_) => e.to_string(),
                    _ => format!("failed to call webhook: {e}"),
                };
                Err(ApiError::InternalError(format!(
                    "failed calling webhook \"{}\": {detail}",
                    webhook.name()
                )))
            }
            Err(e) => {
                tracing::warn!(webhook = webhook.name(), error = %e, "webhook failed, ignored by failurePolicy");
                Ok(None)
            }
        }
    }

    /// Runs mutating webhooks in order; returns the (possibly patched) object and warnings.
    pub async fn mutate(
        &self,
        configurations: &[Value],
        mut attributes: Attributes,
        selection: &Selection<'_>,
    ) -> Result<(Option<Value>, Vec<String>), ApiError> {
        let mut warnings = Vec::new();
        for webhook in self.applicable(webhooks_of(configurations), &attributes, selection) {
            let Some(verdict) = self.call(&webhook, &attributes).await? else {
                continue;
            };
            warnings.extend(verdict.warnings.iter().cloned());
            if !verdict.allowed {
                return Err(denied(&webhook, &verdict));
            }
            if let (Some(patch), Some(object)) = (&verdict.patch, attributes.object.as_mut()) {
                json_patch::patch(object, patch).map_err(|e| {
                    ApiError::InternalError(format!(
                        "failed calling webhook \"{}\": JSON patch could not be applied: {e}",
                        webhook.name()
                    ))
                })?;
            }
        }
        Ok((attributes.object, warnings))
    }

    /// Runs validating webhooks concurrently; the first denial (in order) wins.
    pub async fn validate(
        &self,
        configurations: &[Value],
        attributes: &Attributes,
        selection: &Selection<'_>,
    ) -> Result<Vec<String>, ApiError> {
        let webhooks = self.applicable(webhooks_of(configurations), attributes, selection);
        let results =
            futures::future::join_all(webhooks.iter().map(|w| self.call(w, attributes))).await;
        let mut warnings = Vec::new();
        for (webhook, result) in webhooks.iter().zip(results) {
            let Some(verdict) = result? else { continue };
            warnings.extend(verdict.warnings.iter().cloned());
            if !verdict.allowed {
                return Err(denied(webhook, &verdict));
            }
        }
        Ok(warnings)
    }
}

fn denied(webhook: &Webhook, verdict: &Verdict) -> ApiError {
    let (code, reason, message) = denial(webhook.name(), &verdict.status);
    ApiError::Custom {
        code,
        reason,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn webhooks_come_in_configuration_name_order() {
        let configurations = vec![
            json!({"metadata": {"name": "b"}, "webhooks": [{"name": "b1"}]}),
            json!({"metadata": {"name": "a"}, "webhooks": [{"name": "a1"}, {"name": "a2"}]}),
        ];
        let names: Vec<String> = webhooks_of(&configurations)
            .iter()
            .map(|w| w.name().to_string())
            .collect();
        assert_eq!(names, vec!["a1", "a2", "b1"]);
    }

    #[test]
    fn failure_policy_defaults_to_fail() {
        assert!(Webhook { spec: json!({}) }.fails_closed());
        assert!(
            !Webhook {
                spec: json!({"failurePolicy": "Ignore"})
            }
            .fails_closed()
        );
    }
}
