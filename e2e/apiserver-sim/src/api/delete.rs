//! delete and deletecollection, with finalizers and preconditions.

use serde_json::{Value, json};

use super::Target;
use super::admit::Admission;
use super::effects;
use super::read::present;
use crate::admission::rules::Operation;
use crate::app::App;
use crate::http::request::ApiRequest;
use crate::http::response::Reply;
use crate::object::{finalizers_of, now_timestamp, set_meta};
use crate::status::{ApiError, StatusTarget, success_status};
use crate::store::resource_version_of;
use crate::views;

fn delete_options(request: &ApiRequest) -> Result<Value, ApiError> {
    let mut options = if request.body.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&request.body)
            .map_err(|e| ApiError::BadRequest(format!("invalid DeleteOptions: {e}")))?
    };
    if !options.is_object() {
        return Err(ApiError::BadRequest(
            "DeleteOptions must be an object".into(),
        ));
    }
    options["kind"] = json!("DeleteOptions");
    options["apiVersion"] = json!("meta.k8s.io/v1");
    if let Some(policy) = request.param("propagationPolicy") {
        options["propagationPolicy"] = json!(policy);
    }
    if request.dry_run()? {
        options["dryRun"] = json!(["All"]);
    }
    Ok(options)
}

pub async fn delete(app: &App, target: &Target, request: &ApiRequest) -> Result<Reply, ApiError> {
    let name = target.name.clone().unwrap_or_default();
    let options = delete_options(request)?;
    delete_one(app, target, &name, options).await
}

async fn delete_one(
    app: &App,
    target: &Target,
    name: &str,
    options: Value,
) -> Result<Reply, ApiError> {
    let resource = &target.resource;
    let (plural, group) = (&resource.plural, &resource.group);
    let current = app
        .store
        .get(&resource.storage_key(), &target.namespace, name)
        .map(|current| views::served(resource, current))
        .ok_or_else(|| ApiError::not_found(plural, group, name))?;
    let preconditions = &options["preconditions"];
    if let Some(uid) = preconditions["uid"].as_str()
        && current["metadata"]["uid"].as_str() != Some(uid)
    {
        let why = format!(
            "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
            current["metadata"]["uid"].as_str().unwrap_or_default()
        );
        return Err(ApiError::conflict_with(plural, group, name, &why));
    }
    if let Some(rv) = preconditions["resourceVersion"].as_str()
        && current["metadata"]["resourceVersion"].as_str() != Some(rv)
    {
        let why = format!(
            "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
            current["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or_default()
        );
        return Err(ApiError::conflict_with(plural, group, name, &why));
    }
    let dry_run = options["dryRun"].is_array();
    let admission = Admission {
        app,
        resource,
        subresource: "",
        namespace: &target.namespace,
        dry_run,
        options: options.clone(),
    };
    let (_, mut warnings) = admission
        .mutate(Operation::Delete, name, None, Some(current.clone()))
        .await?;
    warnings.extend(
        admission
            .validate(Operation::Delete, name, None, Some(current.clone()))
            .await?,
    );
    let version = resource_version_of(&current);
    if !finalizers_of(&current).is_empty() {
        let mut marked = current.clone();
        if !current["metadata"]["deletionTimestamp"].is_string() {
            set_meta(&mut marked, "deletionTimestamp", json!(now_timestamp()));
            set_meta(&mut marked, "deletionGracePeriodSeconds", json!(0));
            if let Some(generation) = current["metadata"]["generation"].as_i64() {
                set_meta(&mut marked, "generation", json!(generation + 1));
            }
        }
        if dry_run || marked == current {
            return Ok(Reply::with_status(200, present(target, marked), warnings));
        }
        let stored = app
            .store
            .update(
                &resource.storage_key(),
                &target.namespace,
                views::stored(resource, marked),
                version,
            )
            .map_err(|_| ApiError::conflict(plural, group, name))
            .map(|stored| views::served(resource, stored))?;
        return Ok(Reply::with_status(200, present(target, stored), warnings));
    }
    let deleted = if dry_run {
        current
    } else {
        let deleted = app
            .store
            .delete(&resource.storage_key(), &target.namespace, name, version)
            .map_err(|_| ApiError::conflict(plural, group, name))
            .map(|deleted| views::served(resource, deleted))?;
        effects::after_delete(app, resource, &deleted);
        deleted
    };
    // Custom resources answer with the object, built-ins with a Status.
    let body = if resource.custom {
        present(target, deleted)
    } else {
        let status_target = StatusTarget {
            group: group.clone(),
            kind: plural.clone(),
            name: name.to_string(),
        };
        success_status(
            &status_target,
            deleted["metadata"]["uid"].as_str().unwrap_or_default(),
        )
    };
    Ok(Reply::with_status(200, body, warnings))
}

pub async fn delete_collection(
    app: &App,
    target: &Target,
    request: &ApiRequest,
) -> Result<Reply, ApiError> {
    let options = delete_options(request)?;
    let (labels, fields) = crate::watch::parse_selectors(
        &target.resource,
        request.param("labelSelector"),
        request.param("fieldSelector"),
    )?;
    let namespace = (!target.namespace.is_empty()).then_some(target.namespace.as_str());
    let (items, _) = app.store.list(&target.resource.storage_key(), namespace);
    let items: Vec<Value> = items
        .into_iter()
        .map(|item| views::served(&target.resource, item))
        .collect();
    let mut deleted = Vec::new();
    for item in items
        .iter()
        .filter(|o| labels.matches_object(o) && fields.matches_object(o))
    {
        let item_target = Target {
            namespace: item["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            ..target.clone()
        };
        let name = crate::object::name_of(item).to_string();
        delete_one(app, &item_target, &name, options.clone()).await?;
        deleted.push(present(target, item.clone()));
    }
    Ok(Reply::ok(json!({
        "kind": target.resource.list_kind,
        "apiVersion": target.resource.api_version(),
        "metadata": {"resourceVersion": app.store.current_resource_version().to_string()},
        "items": deleted,
    })))
}
