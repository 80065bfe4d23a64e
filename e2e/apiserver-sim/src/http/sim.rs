//! `/_sim/…`: test hooks no real client uses.

use serde_json::json;

use super::request::ApiRequest;
use super::response::Reply;
use crate::app::App;
use crate::hooks::Fault;
use crate::status::ApiError;

pub fn handle(app: &App, hook: &str, request: &ApiRequest) -> Result<Reply, ApiError> {
    match (request.method.as_str(), hook) {
        ("POST", "faults") => {
            let fault: Fault = serde_json::from_slice(&request.body)
                .map_err(|e| ApiError::BadRequest(format!("invalid fault: {e}")))?;
            app.hooks.add_fault(fault);
            Ok(Reply::ok(json!({"faults": app.hooks.faults()})))
        }
        ("GET", "faults") => Ok(Reply::ok(json!({"faults": app.hooks.faults()}))),
        ("DELETE", "faults") => {
            app.hooks.clear_faults();
            Ok(Reply::ok(json!({"faults": []})))
        }
        ("POST", "drop-watches") => Ok(Reply::ok(json!({"dropped": app.store.drop_watches()}))),
        ("POST", "compact") => Ok(Reply::ok(
            json!({"compactedAt": app.store.compact().to_string()}),
        )),
        ("GET", "requests") => Ok(Reply::ok(json!({"requests": app.hooks.requests()}))),
        ("DELETE", "requests") => {
            app.hooks.clear_requests();
            Ok(Reply::ok(json!({"requests": []})))
        }
        _ => Err(ApiError::Custom {
            code: 404,
            reason: "NotFound".into(),
            message: format!("no simulator hook {} /_sim/{hook}", request.method),
        }),
    }
}
