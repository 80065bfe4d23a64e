//! Resource requests: resolving the target, choosing the verb, applying faults,
//! and dispatching to the verb handlers.

pub mod admit;
mod delete;
mod effects;
pub mod fields;
pub mod prepare;
mod read;
mod write;

use crate::app::App;
use crate::hooks::RequestIdentity;
use crate::http::request::ApiRequest;
use crate::http::response::Reply;
use crate::http::route::ResourcePath;
use crate::resources::ResourceType;
use crate::status::{ApiError, reason_for_code};

/// The resolved target of a resource request.
#[derive(Debug, Clone)]
pub struct Target {
    pub resource: ResourceType,
    /// Empty for cluster-scoped resources and all-namespace lists.
    pub namespace: String,
    pub name: Option<String>,
    pub subresource: String,
}

fn page_not_found() -> ApiError {
    ApiError::Custom {
        code: 404,
        reason: "NotFound".into(),
        message: "the server could not find the requested resource".into(),
    }
}

pub fn resolve(app: &App, path: &ResourcePath) -> Result<Target, ApiError> {
    let resource = app
        .registry
        .find(&path.group, &path.version, &path.plural)
        .ok_or_else(page_not_found)?;
    let subresource = path.subresource.clone().unwrap_or_default();
    let served_subresource =
        subresource.is_empty() || (subresource == "status" && resource.has_status);
    if !served_subresource {
        return Err(page_not_found());
    }
    if resource.namespaced && path.name.is_some() && path.namespace.is_none() {
        return Err(page_not_found());
    }
    Ok(Target {
        resource,
        namespace: path.namespace.clone().unwrap_or_default(),
        name: path.name.clone(),
        subresource,
    })
}

/// The Kubernetes verb of a request.
pub fn verb_of(
    method: &http::Method,
    has_name: bool,
    request: &ApiRequest,
) -> Option<&'static str> {
    Some(match (method.as_str(), has_name) {
        ("GET", true) => "get",
        ("GET", false) if request.flag("watch") => "watch",
        ("GET", false) => "list",
        ("POST", false) => "create",
        ("PUT", true) => "update",
        ("PATCH", true) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => return None,
    })
}

pub async fn handle(
    app: &App,
    target: &Target,
    verb: &str,
    request: &ApiRequest,
) -> Result<Reply, ApiError> {
    let resource_label = if target.subresource.is_empty() {
        target.resource.plural.clone()
    } else {
        format!("{}/{}", target.resource.plural, target.subresource)
    };
    let identity = RequestIdentity {
        verb,
        group: &target.resource.group,
        resource: &resource_label,
        namespace: &target.namespace,
        name: target.name.as_deref().unwrap_or_default(),
    };
    if let Some(fault) = app.hooks.take_fault(&identity) {
        if let Some(hang) = fault.hang() {
            tokio::time::sleep(hang).await;
        }
        if let Some(code) = fault.status {
            return Err(ApiError::Custom {
                code,
                reason: reason_for_code(code).into(),
                message: fault
                    .message
                    .unwrap_or_else(|| format!("injected fault: {verb} {resource_label}")),
            });
        }
    }
    match verb {
        "get" => read::get(app, target, request),
        "list" => read::list(app, target, request),
        "watch" => read::watch(app, target, request),
        "create" => write::create(app, target, request).await,
        "update" => write::update(app, target, request).await,
        "patch" => write::patch(app, target, request).await,
        "delete" => delete::delete(app, target, request).await,
        "deletecollection" => delete::delete_collection(app, target, request).await,
        other => Err(ApiError::MethodNotSupported(format!(
            "verb {other} is not supported"
        ))),
    }
}
