//! OpenAPI, so that kubectl's default `--validate=strict` works: v3 documents for
//! every served group-version (kubectl reads them to learn that the server does
//! field validation itself) and an empty but well-formed v2 document (older kubectl
//! versions insist on parsing one). Also the schemas unknown-field pruning walks.

pub mod builtin;
pub mod document;
pub mod prune;
mod v2;

use bytes::Bytes;

use crate::http::response::Reply;
use crate::registry::Registry;
use crate::status::ApiError;

fn not_found() -> ApiError {
    ApiError::Custom {
        code: 404,
        reason: "NotFound".into(),
        message: "the server could not find the requested resource".into(),
    }
}

/// Answers `/openapi/...`; `rest` is the path after `openapi/`.
pub fn handle(registry: &Registry, rest: &str, accept: &str) -> Result<Reply, ApiError> {
    let segments: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        ["v2"] if accept.contains("protobuf") => Ok(Reply::Raw {
            content_type: v2::PROTOBUF_MEDIA_TYPE,
            body: Bytes::from(v2::protobuf_document()),
        }),
        ["v2"] => Ok(Reply::ok(v2::json_document())),
        ["v3"] => Ok(Reply::ok(document::root(registry))),
        ["v3", "api", version] => document::group_version(registry, "", version)
            .map(Reply::ok)
            .ok_or_else(not_found),
        ["v3", "apis", group, version] => document::group_version(registry, group, version)
            .map(Reply::ok)
            .ok_or_else(not_found),
        _ => Err(not_found()),
    }
}
