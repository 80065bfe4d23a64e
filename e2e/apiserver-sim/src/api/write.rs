//! create, update (PUT) and patch, through admission into storage.

use serde_json::{Value, json};

use super::Target;
use super::admit::{Admission, options};
use super::effects;
use super::fields;
use super::prepare::{self, assign_name, check_namespace, check_type_meta};
use super::read::present;
use crate::admission::rules::Operation;
use crate::app::App;
use crate::http::request::ApiRequest;
use crate::http::response::Reply;
use crate::object::{finalizers_of, name_of};
use crate::patch::{self, PatchError, PatchType};
use crate::status::ApiError;
use crate::store::{StoreError, resource_version_of};
use crate::views;

fn admission<'a>(app: &'a App, target: &'a Target, dry_run: bool, options: Value) -> Admission<'a> {
    Admission {
        app,
        resource: &target.resource,
        subresource: &target.subresource,
        namespace: &target.namespace,
        dry_run,
        options,
    }
}

fn store_error(target: &Target, name: &str, error: StoreError) -> ApiError {
    let (plural, group) = (&target.resource.plural, &target.resource.group);
    match error {
        StoreError::NotFound => ApiError::not_found(plural, group, name),
        StoreError::AlreadyExists => ApiError::already_exists(plural, group, name),
        StoreError::Conflict => ApiError::conflict(plural, group, name),
        StoreError::TooOld { .. } => ApiError::Gone(error.to_string()),
    }
}

fn mutated_to_non_object() -> ApiError {
    ApiError::InternalError(
        "a mutating webhook turned the object into something that is not an object".into(),
    )
}

fn require_namespace(app: &App, target: &Target) -> Result<(), ApiError> {
    if target.resource.namespaced
        && app
            .store
            .get("/namespaces", "", &target.namespace)
            .is_none()
    {
        return Err(ApiError::not_found("namespaces", "", &target.namespace));
    }
    Ok(())
}

pub async fn create(app: &App, target: &Target, request: &ApiRequest) -> Result<Reply, ApiError> {
    let object = request.body_object()?;
    create_object(app, target, request, object).await
}

async fn create_object(
    app: &App,
    target: &Target,
    request: &ApiRequest,
    mut object: Value,
) -> Result<Reply, ApiError> {
    if !target.subresource.is_empty() {
        return Err(ApiError::MethodNotSupported(format!(
            "create is not supported on {}/{}",
            target.resource.plural, target.subresource
        )));
    }
    let dry_run = request.dry_run()?;
    let resource = &target.resource;
    if object["metadata"]["resourceVersion"]
        .as_str()
        .is_some_and(|v| !v.is_empty())
    {
        return Err(ApiError::BadRequest(
            "resourceVersion should not be set on objects to be created".into(),
        ));
    }
    check_type_meta(resource, &mut object)?;
    prepare::check_decodable(resource, &object)?;
    let directive = fields::directive(request.param("fieldValidation"), "CreateOptions")?;
    let field_warnings = fields::check_body(resource, &mut object, directive)?;
    check_namespace(resource, &mut object, &target.namespace)?;
    require_namespace(app, target)?;
    let admission = admission(
        app,
        target,
        dry_run,
        options("CreateOptions", dry_run, request.param("fieldManager")),
    );
    let requested_name = name_of(&object).to_string();
    let (mutated, admission_warnings) = admission
        .mutate(Operation::Create, &requested_name, Some(object), None)
        .await?;
    let mut warnings = field_warnings;
    warnings.extend(admission_warnings);
    let mut object = mutated
        .filter(Value::is_object)
        .ok_or_else(mutated_to_non_object)?;
    check_type_meta(resource, &mut object)?;
    prepare::check_decodable(resource, &object)?;
    check_namespace(resource, &mut object, &target.namespace)?;
    let name = assign_name(resource, &mut object)?;
    prepare::prepare_create(resource, &mut object);
    prepare::validate(resource, &object, None)?;
    // As in kube-apiserver, webhooks see a create before storage finds a duplicate.
    warnings.extend(
        admission
            .validate(Operation::Create, &name, Some(object.clone()), None)
            .await?,
    );
    if dry_run {
        let exists = app
            .store
            .get(&resource.storage_key(), &target.namespace, &name)
            .is_some();
        if exists {
            return Err(ApiError::already_exists(
                &resource.plural,
                &resource.group,
                &name,
            ));
        }
        return Ok(Reply::with_status(201, present(target, object), warnings));
    }
    let stored = app
        .store
        .create(
            &resource.storage_key(),
            &target.namespace,
            views::stored(resource, object),
        )
        .map_err(|e| store_error(target, &name, e))
        .map(|stored| views::served(resource, stored))?;
    effects::after_write(app, resource, &stored);
    Ok(Reply::with_status(201, present(target, stored), warnings))
}

pub async fn update(app: &App, target: &Target, request: &ApiRequest) -> Result<Reply, ApiError> {
    let mut candidate = request.body_object()?;
    let name = target.name.clone().unwrap_or_default();
    check_type_meta(&target.resource, &mut candidate)?;
    let directive = fields::directive(request.param("fieldValidation"), "UpdateOptions")?;
    let warnings = fields::check_body(&target.resource, &mut candidate, directive)?;
    match candidate["metadata"]["name"].as_str() {
        Some(body_name) if body_name != name => {
            return Err(ApiError::BadRequest(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        _ => crate::object::set_meta(&mut candidate, "name", json!(name)),
    }
    check_namespace(&target.resource, &mut candidate, &target.namespace)?;
    let old = app
        .store
        .get(&target.resource.storage_key(), &target.namespace, &name)
        .map(|old| views::served(&target.resource, old))
        .ok_or_else(|| {
            ApiError::not_found(&target.resource.plural, &target.resource.group, &name)
        })?;
    if target.resource.custom
        && candidate["metadata"]["resourceVersion"]
            .as_str()
            .is_none_or(str::is_empty)
    {
        return Err(ApiError::invalid(
            &target.resource.kind,
            &target.resource.group,
            &name,
            "metadata.resourceVersion",
            "Invalid value: 0x0: must be specified for an update",
        ));
    }
    let dry_run = request.dry_run()?;
    let options = options("UpdateOptions", dry_run, request.param("fieldManager"));
    update_object(app, target, old, candidate, dry_run, options, warnings).await
}

/// The shared update path of PUT and PATCH: admission, optimistic concurrency,
/// server-side preparation, validation and the commit.
async fn update_object(
    app: &App,
    target: &Target,
    old: Value,
    candidate: Value,
    dry_run: bool,
    options: Value,
    mut warnings: Vec<String>,
) -> Result<Reply, ApiError> {
    let resource = &target.resource;
    let name = name_of(&old).to_string();
    let admission = admission(app, target, dry_run, options);
    let (mutated, admission_warnings) = admission
        .mutate(Operation::Update, &name, Some(candidate), Some(old.clone()))
        .await?;
    warnings.extend(admission_warnings);
    let candidate = mutated
        .filter(Value::is_object)
        .ok_or_else(mutated_to_non_object)?;
    prepare::check_decodable(resource, &candidate)?;
    let old_version = resource_version_of(&old);
    if let Some(requested) = candidate["metadata"]["resourceVersion"]
        .as_str()
        .filter(|v| !v.is_empty())
        && requested.parse::<u64>().ok() != old_version
    {
        return Err(ApiError::conflict(&resource.plural, &resource.group, &name));
    }
    let new = prepare::prepare_update(resource, &old, candidate, &target.subresource);
    prepare::validate(resource, &new, Some(&old))?;
    warnings.extend(
        admission
            .validate(
                Operation::Update,
                &name,
                Some(new.clone()),
                Some(old.clone()),
            )
            .await?,
    );
    if dry_run || new == old {
        return Ok(Reply::with_status(
            200,
            present(target, if dry_run { new } else { old }),
            warnings,
        ));
    }
    let finished_deleting =
        new["metadata"]["deletionTimestamp"].is_string() && finalizers_of(&new).is_empty();
    if finished_deleting {
        app.store
            .delete(
                &resource.storage_key(),
                &target.namespace,
                &name,
                old_version,
            )
            .map_err(|e| store_error(target, &name, e))?;
        effects::after_delete(app, resource, &new);
        return Ok(Reply::with_status(200, present(target, new), warnings));
    }
    let stored = app
        .store
        .update(
            &resource.storage_key(),
            &target.namespace,
            views::stored(resource, new),
            old_version,
        )
        .map_err(|e| store_error(target, &name, e))
        .map(|stored| views::served(resource, stored))?;
    effects::after_write(app, resource, &stored);
    Ok(Reply::with_status(200, present(target, stored), warnings))
}

fn patch_error(error: PatchError) -> ApiError {
    match error {
        PatchError::Malformed(m) => ApiError::BadRequest(m),
        PatchError::NotApplicable(m) => ApiError::Custom {
            code: 422,
            reason: "Invalid".into(),
            message: m,
        },
        PatchError::UnsupportedMediaType(m) => ApiError::UnsupportedMediaType(m),
    }
}

/// How often a patch is retried when a concurrent write lands between read and commit.
const PATCH_ATTEMPTS: usize = 5;

pub async fn patch(app: &App, target: &Target, request: &ApiRequest) -> Result<Reply, ApiError> {
    let patch_type = PatchType::from_content_type(&request.content_type).ok_or_else(|| {
        ApiError::UnsupportedMediaType(format!(
            "the body of the request was in an unknown format - accepted media types include: {}",
            patch::ACCEPTED_PATCH_TYPES
        ))
    })?;
    let resource = &target.resource;
    let name = target.name.clone().unwrap_or_default();
    let dry_run = request.dry_run()?;
    let field_manager = request.param("fieldManager");
    if patch_type == PatchType::Apply && field_manager.is_none_or(str::is_empty) {
        return Err(ApiError::invalid(
            "PatchOptions",
            "meta.k8s.io",
            "",
            "fieldManager",
            "Required value: is required for apply patch",
        ));
    }
    let directive = fields::directive(request.param("fieldValidation"), "PatchOptions")?;
    if patch_type == PatchType::Apply {
        let body = patch::parse_apply_body(&request.body).map_err(patch_error)?;
        fields::check_apply(resource, &name, &body)?;
    }
    let mut last_error = None;
    for _ in 0..PATCH_ATTEMPTS {
        let Some(old) = app
            .store
            .get(&resource.storage_key(), &target.namespace, &name)
            .map(|old| views::served(resource, old))
        else {
            if patch_type == PatchType::Apply {
                let mut object = patch::parse_apply_body(&request.body).map_err(patch_error)?;
                crate::object::set_meta(&mut object, "name", json!(name));
                return create_object(app, target, request, object).await;
            }
            return Err(ApiError::not_found(
                &resource.plural,
                &resource.group,
                &name,
            ));
        };
        let mut patched = patch::apply_patch(patch_type, &old, &request.body, resource.custom)
            .map_err(patch_error)?;
        if !patched.is_object() {
            return Err(ApiError::BadRequest(
                "the patch did not produce an object".into(),
            ));
        }
        // Name and namespace come from the URL whatever the patch said.
        crate::object::set_meta(&mut patched, "name", json!(name));
        let warnings = fields::check_patched(resource, &mut patched, directive)?;
        let options = options("UpdateOptions", dry_run, field_manager);
        match update_object(app, target, old, patched, dry_run, options, warnings).await {
            Err(ApiError::Conflict { .. }) if !patch_sets_version(patch_type, &request.body) => {
                last_error = Some(ApiError::conflict(&resource.plural, &resource.group, &name));
            }
            other => return other,
        }
    }
    Err(last_error.unwrap_or_else(|| ApiError::conflict(&resource.plural, &resource.group, &name)))
}

/// A patch that names a resourceVersion is a precondition and must not be retried.
fn patch_sets_version(patch_type: PatchType, body: &[u8]) -> bool {
    match patch_type {
        PatchType::Json => String::from_utf8_lossy(body).contains("/metadata/resourceVersion"),
        _ => serde_json::from_slice::<Value>(body)
            .ok()
            .or_else(|| serde_yaml::from_slice::<Value>(body).ok())
            .is_some_and(|v| v["metadata"]["resourceVersion"].is_string()),
    }
}
