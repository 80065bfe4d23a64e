//! Field tables of the Kubernetes messages the simulator decodes (from the
//! `generated.proto` field numbers of k8s.io/api).

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Omitted when empty, as the JSON encoding omits it.
    Str,
    /// Omitted when zero (a non-pointer Go int).
    Int,
    /// Kept even when zero (a pointer Go int).
    OptionalInt,
    /// Omitted when false.
    Bool,
    /// Kept even when false.
    OptionalBool,
    Message(&'static str),
    StringMap,
    /// map<string, bytes>, base64 in JSON.
    BytesMap,
}

#[derive(Debug, Clone, Copy)]
pub struct FieldDef {
    pub number: u64,
    pub json: &'static str,
    pub kind: Kind,
    pub repeated: bool,
}

const fn one(number: u64, json: &'static str, kind: Kind) -> FieldDef {
    FieldDef {
        number,
        json,
        kind,
        repeated: false,
    }
}

const fn many(number: u64, json: &'static str, kind: Kind) -> FieldDef {
    FieldDef {
        number,
        json,
        kind,
        repeated: true,
    }
}

use Kind::*;

/// The message type carried by a top-level `apiVersion`/`kind`.
pub fn top_level(api_version: &str, kind: &str) -> Option<&'static str> {
    match (api_version, kind) {
        ("v1", "Namespace") => Some("Namespace"),
        ("v1", "Secret") => Some("Secret"),
        ("v1", "ConfigMap") => Some("ConfigMap"),
        ("v1", "ServiceAccount") => Some("ServiceAccount"),
        ("apps/v1", "Deployment") => Some("Deployment"),
        _ => None,
    }
}

pub fn fields_of(message: &str) -> &'static [FieldDef] {
    match message {
        "ObjectMeta" => {
            const {
                &[
                    one(1, "name", Str),
                    one(2, "generateName", Str),
                    one(3, "namespace", Str),
                    one(11, "labels", StringMap),
                    one(12, "annotations", StringMap),
                    many(14, "finalizers", Str),
                ]
            }
        }
        "Namespace" => {
            const {
                &[
                    one(1, "metadata", Message("ObjectMeta")),
                    one(2, "spec", Message("NamespaceSpec")),
                ]
            }
        }
        "NamespaceSpec" => const { &[many(1, "finalizers", Str)] },
        "Secret" => {
            const {
                &[
                    one(1, "metadata", Message("ObjectMeta")),
                    one(2, "data", BytesMap),
                    one(3, "type", Str),
                    one(4, "stringData", StringMap),
                    one(5, "immutable", OptionalBool),
                ]
            }
        }
        "ConfigMap" => {
            const {
                &[
                    one(1, "metadata", Message("ObjectMeta")),
                    one(2, "data", StringMap),
                    one(3, "binaryData", BytesMap),
                    one(4, "immutable", OptionalBool),
                ]
            }
        }
        "ServiceAccount" => const { &[one(1, "metadata", Message("ObjectMeta"))] },
        "Deployment" => {
            const {
                &[
                    one(1, "metadata", Message("ObjectMeta")),
                    one(2, "spec", Message("DeploymentSpec")),
                ]
            }
        }
        "DeploymentSpec" => {
            const {
                &[
                    one(1, "replicas", OptionalInt),
                    one(2, "selector", Message("LabelSelector")),
                    one(3, "template", Message("PodTemplateSpec")),
                    one(4, "strategy", Message("DeploymentStrategy")),
                    one(5, "minReadySeconds", Int),
                    one(6, "revisionHistoryLimit", OptionalInt),
                    one(7, "paused", Bool),
                    one(9, "progressDeadlineSeconds", OptionalInt),
                ]
            }
        }
        "DeploymentStrategy" => const { &[one(1, "type", Str)] },
        "LabelSelector" => {
            const {
                &[
                    one(1, "matchLabels", StringMap),
                    many(2, "matchExpressions", Message("LabelSelectorRequirement")),
                ]
            }
        }
        "LabelSelectorRequirement" => {
            const {
                &[
                    one(1, "key", Str),
                    one(2, "operator", Str),
                    many(3, "values", Str),
                ]
            }
        }
        "PodTemplateSpec" => {
            const {
                &[
                    one(1, "metadata", Message("ObjectMeta")),
                    one(2, "spec", Message("PodSpec")),
                ]
            }
        }
        "PodSpec" => {
            const {
                &[
                    many(2, "containers", Message("Container")),
                    one(3, "restartPolicy", Str),
                    one(7, "nodeSelector", StringMap),
                    one(8, "serviceAccountName", Str),
                    many(20, "initContainers", Message("Container")),
                ]
            }
        }
        "Container" => {
            const {
                &[
                    one(1, "name", Str),
                    one(2, "image", Str),
                    many(3, "command", Str),
                    many(4, "args", Str),
                    one(5, "workingDir", Str),
                    many(6, "ports", Message("ContainerPort")),
                    many(7, "env", Message("EnvVar")),
                    one(8, "resources", Message("Empty")),
                    one(14, "imagePullPolicy", Str),
                ]
            }
        }
        "ContainerPort" => {
            const {
                &[
                    one(1, "name", Str),
                    one(2, "hostPort", Int),
                    one(3, "containerPort", Int),
                    one(4, "protocol", Str),
                ]
            }
        }
        "EnvVar" => const { &[one(1, "name", Str), one(2, "value", Str)] },
        _ => const { &[] },
    }
}
