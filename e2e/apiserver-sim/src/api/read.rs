//! get, list and watch.

use std::time::Duration;

use base64::Engine;
use serde_json::{Value, json};

use super::Target;
use crate::app::App;
use crate::http::request::ApiRequest;
use crate::http::response::Reply;
use crate::presentation::Presentation;
use crate::status::ApiError;
use crate::views::served;
use crate::watch::{self, StartAt, WatchRequest};

/// An object as served at the requested version.
pub fn present(target: &Target, mut object: Value) -> Value {
    object["apiVersion"] = json!(target.resource.api_version());
    object
}

fn presentation(request: &ApiRequest) -> Presentation {
    Presentation::from_accept(&request.accept, request.param("includeObject"))
}

pub fn get(app: &App, target: &Target, request: &ApiRequest) -> Result<Reply, ApiError> {
    let name = target.name.as_deref().unwrap_or_default();
    let object = app
        .store
        .get(&target.resource.storage_key(), &target.namespace, name)
        .ok_or_else(|| {
            ApiError::not_found(&target.resource.plural, &target.resource.group, name)
        })?;
    let object = present(target, served(&target.resource, object));
    Ok(Reply::ok(
        presentation(request).one(&target.resource, object),
    ))
}

#[derive(serde::Serialize, serde::Deserialize)]
struct ContinueToken {
    rv: u64,
    after: String,
}

fn object_key(object: &Value) -> String {
    format!(
        "{}/{}",
        crate::object::namespace_of(object),
        crate::object::name_of(object)
    )
}

pub fn list(app: &App, target: &Target, request: &ApiRequest) -> Result<Reply, ApiError> {
    let (labels, fields) = watch::parse_selectors(
        &target.resource,
        request.param("labelSelector"),
        request.param("fieldSelector"),
    )?;
    let namespace = (!target.namespace.is_empty()).then_some(target.namespace.as_str());
    let (items, current_rv) = app.store.list(&target.resource.storage_key(), namespace);
    let mut list_rv = current_rv;
    let mut after: Option<String> = None;
    if let Some(token) = request.param("continue").filter(|t| !t.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(token)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<ContinueToken>(&bytes).ok())
            .ok_or_else(|| ApiError::BadRequest("continue key is not valid".into()))?;
        if decoded.rv < app.store.compacted_at() {
            return Err(ApiError::Gone(
                "The provided continue parameter is too old to display a consistent list result. \
                 You can start a new list without the continue parameter."
                    .into(),
            ));
        }
        list_rv = decoded.rv;
        after = Some(decoded.after);
    }
    let selected: Vec<Value> = items
        .into_iter()
        .map(|o| served(&target.resource, o))
        .filter(|o| labels.matches_object(o) && fields.matches_object(o))
        .filter(|o| after.as_deref().is_none_or(|a| object_key(o).as_str() > a))
        .map(|o| present(target, o))
        .collect();
    let limit = request
        .param("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0);
    let mut metadata = json!({"resourceVersion": list_rv.to_string()});
    let page: Vec<Value> = match limit {
        Some(limit) if selected.len() > limit => {
            let page: Vec<Value> = selected[..limit].to_vec();
            let token = ContinueToken {
                rv: list_rv,
                after: object_key(&page[limit - 1]),
            };
            let encoded = base64::engine::general_purpose::STANDARD
                .encode(serde_json::to_vec(&token).unwrap_or_default());
            metadata["continue"] = json!(encoded);
            metadata["remainingItemCount"] = json!(selected.len() - limit);
            page
        }
        _ => selected,
    };
    Ok(Reply::ok(presentation(request).list(
        &target.resource,
        page,
        metadata,
    )))
}

pub fn watch(app: &App, target: &Target, request: &ApiRequest) -> Result<Reply, ApiError> {
    let (labels, fields) = watch::parse_selectors(
        &target.resource,
        request.param("labelSelector"),
        request.param("fieldSelector"),
    )?;
    let send_initial_events = request.param("sendInitialEvents");
    let start = match (
        request.param("resourceVersion").unwrap_or_default(),
        send_initial_events,
    ) {
        (_, Some("true")) => {
            if !request.flag("allowWatchBookmarks") {
                return Err(ApiError::invalid(
                    "ListOptions",
                    "meta.k8s.io",
                    "",
                    "allowWatchBookmarks",
                    "Required value: allowWatchBookmarks must be set to true when sendInitialEvents is set to true",
                ));
            }
            StartAt::InitialEventsThenBookmark
        }
        ("" | "0", Some("false")) => StartAt::After(app.store.current_resource_version()),
        ("" | "0", _) => StartAt::CurrentState,
        (rv, _) => StartAt::After(
            rv.parse()
                .map_err(|_| ApiError::BadRequest(format!("invalid resource version: {rv}")))?,
        ),
    };
    let timeout = request
        .param("timeoutSeconds")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(1800);
    let body = watch::start(
        &app.store,
        WatchRequest {
            resource: target.resource.clone(),
            namespace: (!target.namespace.is_empty()).then(|| target.namespace.clone()),
            labels,
            fields,
            start,
            bookmarks: request.flag("allowWatchBookmarks"),
            bookmark_interval: app.bookmark_interval,
            timeout: Duration::from_secs(timeout),
            presentation: presentation(request),
        },
    )?;
    Ok(Reply::Stream(body))
}
