//! The parts of an HTTP request the API handlers use.

use bytes::Bytes;
use serde_json::Value;

use crate::status::ApiError;

#[derive(Debug, Clone)]
pub struct ApiRequest {
    pub method: http::Method,
    pub path: String,
    pub raw_query: String,
    pub query: Vec<(String, String)>,
    pub content_type: String,
    pub accept: String,
    pub body: Bytes,
}

impl ApiRequest {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn flag(&self, name: &str) -> bool {
        matches!(self.param(name), Some("true" | "1"))
    }

    /// `?dryRun=All`, the only value the API accepts.
    pub fn dry_run(&self) -> Result<bool, ApiError> {
        match self.param("dryRun") {
            None | Some("") => Ok(false),
            Some("All") => Ok(true),
            Some(other) => Err(ApiError::BadRequest(format!(
                "Invalid dryRun value: {other}: supported values: \"All\""
            ))),
        }
    }

    /// The body as an object: JSON, or YAML when the client says so.
    pub fn body_object(&self) -> Result<Value, ApiError> {
        if self.body.is_empty() {
            return Err(ApiError::BadRequest(
                "request body must not be empty".into(),
            ));
        }
        let media = self
            .content_type
            .split(';')
            .next()
            .unwrap_or_default()
            .trim();
        if media == "application/vnd.kubernetes.protobuf" {
            return crate::protobuf::decode(&self.body)
                .map_err(|e| ApiError::UnsupportedMediaType(e.to_string()));
        }
        let parsed: Result<Value, String> = if media.contains("yaml") {
            serde_yaml::from_slice(&self.body).map_err(|e| e.to_string())
        } else {
            serde_json::from_slice(&self.body).map_err(|e| e.to_string())
        };
        let value = parsed.map_err(|e| {
            ApiError::BadRequest(format!("the object provided is unrecognized: {e}"))
        })?;
        if !value.is_object() {
            return Err(ApiError::BadRequest(
                "the object provided is not a JSON object".into(),
            ));
        }
        Ok(value)
    }
}

pub fn parse_query(raw: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
