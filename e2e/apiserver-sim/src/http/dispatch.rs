//! One request, end to end: authentication, routing, the request log.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;

use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use super::request::{ApiRequest, parse_query};
use super::response::{Body, Reply, error_reply, into_response};
use super::route::{self, Route};
use super::sim;
use crate::api;
use crate::app::App;
use crate::discovery;
use crate::hooks::LoggedRequest;
use crate::status::ApiError;

/// Bodies above this are refused, like the real server's 3 MiB limit.
const MAX_BODY: usize = 3 * 1024 * 1024;

pub async fn handle(app: Arc<App>, request: Request<Incoming>) -> Response<Body> {
    let (parts, body) = request.into_parts();
    let header = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let body: Bytes = match http_body_util::Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => Bytes::new(),
    };
    let raw_query = parts.uri.query().unwrap_or_default().to_string();
    let api_request = ApiRequest {
        method: parts.method.clone(),
        path: parts.uri.path().to_string(),
        query: parse_query(&raw_query),
        raw_query,
        content_type: header(header::CONTENT_TYPE),
        accept: header(header::ACCEPT),
        body,
    };
    let authorized = header(header::AUTHORIZATION) == format!("Bearer {}", app.token);
    let (reply, verb, resource) = if authorized {
        // Like the real server, a handler panic becomes a 500, never a dropped connection.
        match AssertUnwindSafe(route_request(&app, &api_request))
            .catch_unwind()
            .await
        {
            Ok(routed) => routed,
            Err(_) => (
                error_reply(&ApiError::InternalError(
                    "the server panicked handling the request".into(),
                )),
                String::new(),
                String::new(),
            ),
        }
    } else {
        (
            error_reply(&ApiError::Unauthorized("Unauthorized".into())),
            String::new(),
            String::new(),
        )
    };
    let response = into_response(reply);
    tracing::debug!(method = %api_request.method, path = %api_request.path, query = %api_request.raw_query, status = response.status().as_u16(), "request");
    app.hooks.record(LoggedRequest {
        seq: 0,
        method: api_request.method.to_string(),
        path: api_request.path.clone(),
        query: api_request.raw_query.clone(),
        content_type: api_request.content_type.clone(),
        status: response.status().as_u16(),
        verb,
        resource,
    });
    response
}

/// Routes a request; also returns the verb and resource for the request log.
async fn route_request(app: &App, request: &ApiRequest) -> (Reply, String, String) {
    let not_found = || {
        error_reply(&ApiError::Custom {
            code: 404,
            reason: "NotFound".into(),
            message: "the server could not find the requested resource".into(),
        })
    };
    let is_namespaced =
        |g: &str, v: &str, p: &str| app.registry.find(g, v, p).is_some_and(|r| r.namespaced);
    let reply = match route::parse(&request.path, is_namespaced) {
        Route::Version => Reply::ok(discovery::version_info()),
        Route::Health => {
            return (
                Reply::with_status(200, serde_json::json!("ok"), vec![]),
                String::new(),
                String::new(),
            );
        }
        Route::OpenApi(rest) => crate::openapi::handle(&app.registry, &rest, &request.accept)
            .unwrap_or_else(|e| error_reply(&e)),
        Route::CoreVersions => Reply::ok(discovery::core_api_versions(&app.server_address)),
        Route::GroupList => Reply::ok(discovery::api_group_list(&app.registry)),
        Route::Group(group) => discovery::api_group(&app.registry, &group)
            .map(Reply::ok)
            .unwrap_or_else(not_found),
        Route::ResourceList { group, version } => {
            discovery::api_resource_list(&app.registry, &group, &version)
                .map(Reply::ok)
                .unwrap_or_else(not_found)
        }
        Route::SimHook(hook) => {
            sim::handle(app, &hook, request).unwrap_or_else(|e| error_reply(&e))
        }
        Route::NotFound => not_found(),
        Route::Resource(path) => {
            let target = match api::resolve(app, &path) {
                Ok(target) => target,
                Err(e) => return (error_reply(&e), String::new(), path.plural),
            };
            let Some(verb) = api::verb_of(&request.method, target.name.is_some(), request) else {
                let e = ApiError::MethodNotSupported(
                    "the server does not allow this method on the requested resource".into(),
                );
                return (error_reply(&e), String::new(), path.plural);
            };
            let resource = if target.subresource.is_empty() {
                path.plural.clone()
            } else {
                format!("{}/{}", path.plural, target.subresource)
            };
            let reply = api::handle(app, &target, verb, request)
                .await
                .unwrap_or_else(|e| error_reply(&e));
            return (reply, verb.to_string(), resource);
        }
    };
    (reply, String::new(), String::new())
}
