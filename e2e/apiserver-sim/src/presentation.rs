//! How objects are rendered for a read: as themselves, as Table rows for kubectl, or
//! as `PartialObjectMetadata` for metadata-only clients (chosen by the Accept header).

use serde_json::{Value, json};

use crate::resources::ResourceType;
use crate::table;

#[derive(Debug, Clone, PartialEq)]
pub enum Presentation {
    Object,
    Table { include_object: String },
    PartialMetadata,
}

impl Presentation {
    /// Only the client's first choice counts; it always also accepts plain JSON.
    pub fn from_accept(accept: &str, include_object: Option<&str>) -> Presentation {
        let first = accept.split(',').next().unwrap_or_default();
        if first.contains("as=Table") {
            Presentation::Table {
                include_object: include_object.unwrap_or("Metadata").to_string(),
            }
        } else if first.contains("as=PartialObjectMetadata") {
            Presentation::PartialMetadata
        } else {
            Presentation::Object
        }
    }

    fn partial(object: &Value) -> Value {
        json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"]})
    }

    /// One object (a get, or a watch event's object).
    pub fn one(&self, resource: &ResourceType, object: Value) -> Value {
        match self {
            Presentation::Object => object,
            Presentation::Table { include_object } => {
                table::to_table(resource, &[object], include_object, json!({}))
            }
            Presentation::PartialMetadata => Self::partial(&object),
        }
    }

    /// A list answer with the given list metadata.
    pub fn list(&self, resource: &ResourceType, items: Vec<Value>, metadata: Value) -> Value {
        match self {
            Presentation::Object => json!({
                "kind": resource.list_kind,
                "apiVersion": resource.api_version(),
                "metadata": metadata,
                "items": items,
            }),
            Presentation::Table { include_object } => {
                table::to_table(resource, &items, include_object, metadata)
            }
            Presentation::PartialMetadata => json!({
                "kind": "PartialObjectMetadataList",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": metadata,
                "items": items.iter().map(Self::partial).collect::<Vec<_>>(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::builtin_resources;

    #[test]
    fn accept_header_table() {
        let cases = [
            ("application/json", Presentation::Object),
            (
                "application/vnd.kubernetes.protobuf,application/json",
                Presentation::Object,
            ),
            (
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
                Presentation::Table {
                    include_object: "Metadata".into(),
                },
            ),
            (
                "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1",
                Presentation::PartialMetadata,
            ),
            (
                "application/json,application/json;as=Table;v=v1;g=meta.k8s.io",
                Presentation::Object,
            ),
        ];
        for (accept, expected) in cases {
            assert_eq!(
                Presentation::from_accept(accept, None),
                expected,
                "{accept}"
            );
        }
    }

    #[test]
    fn partial_metadata_keeps_only_metadata() {
        let secrets = builtin_resources()
            .into_iter()
            .find(|r| r.plural == "secrets")
            .expect("secrets");
        let secret = json!({"kind": "Secret", "metadata": {"name": "s"}, "data": {"k": "djE="}});
        let list = Presentation::PartialMetadata.list(
            &secrets,
            vec![secret],
            json!({"resourceVersion": "3"}),
        );
        assert_eq!(list["kind"], "PartialObjectMetadataList");
        assert_eq!(
            list["items"][0],
            json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": {"name": "s"}})
        );
    }
}
