//! Just enough Kubernetes protobuf decoding for the bodies kubectl's typed clients
//! send (`kubectl create namespace|secret|configmap|serviceaccount|deployment`): the
//! `k8s\0` envelope, `runtime.Unknown`, and the fields in [`schema`]. Other kinds
//! answer 415; unknown fields of known kinds are dropped.

mod schema;
mod wire;

use base64::Engine;
use serde_json::{Map, Value, json};

use schema::{FieldDef, Kind};
use wire::{Field, fields};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProtobufError {
    #[error("protobuf body lacks the k8s envelope")]
    NoEnvelope,
    #[error("truncated or malformed protobuf")]
    Malformed,
    #[error("protobuf bodies of kind {0} are not supported by the simulator; send JSON")]
    UnsupportedKind(String),
}

const MAGIC: &[u8] = b"k8s\0";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A map entry message (key = 1, value = 2).
fn map_entry(bytes: &[u8]) -> Result<(String, Vec<u8>), ProtobufError> {
    let (mut key, mut value) = (String::new(), Vec::new());
    for (number, field) in fields(bytes)? {
        match (number, field) {
            (1, Field::Bytes(b)) => key = text(b),
            (2, Field::Bytes(b)) => value = b.to_vec(),
            _ => {}
        }
    }
    Ok((key, value))
}

/// The JSON value of one field occurrence, or `None` when JSON would omit it.
fn field_value(def: &FieldDef, field: Field<'_>) -> Result<Option<Value>, ProtobufError> {
    Ok(match (def.kind, field) {
        // gogo-protobuf writes empty strings and zero ints; the JSON form omits them.
        (Kind::Str, Field::Bytes(b)) => (!b.is_empty()).then(|| json!(text(b))),
        (Kind::Int, Field::Varint(v)) => (v != 0).then(|| json!(v as i64 as i32)),
        (Kind::OptionalInt, Field::Varint(v)) => Some(json!(v as i64 as i32)),
        (Kind::Bool, Field::Varint(v)) => (v != 0).then_some(json!(true)),
        (Kind::OptionalBool, Field::Varint(v)) => Some(json!(v != 0)),
        (Kind::Message(name), Field::Bytes(b)) => Some(message(name, b)?),
        _ => return Err(ProtobufError::Malformed),
    })
}

fn message(name: &str, bytes: &[u8]) -> Result<Value, ProtobufError> {
    let defs = schema::fields_of(name);
    let mut object = Map::new();
    for (number, field) in fields(bytes)? {
        let Some(def) = defs.iter().find(|d| d.number == number) else {
            continue;
        };
        match (def.kind, field) {
            (Kind::StringMap | Kind::BytesMap, Field::Bytes(b)) => {
                let (key, value) = map_entry(b)?;
                let value = if def.kind == Kind::StringMap {
                    json!(text(&value))
                } else {
                    json!(base64::engine::general_purpose::STANDARD.encode(value))
                };
                let map = object.entry(def.json).or_insert_with(|| json!({}));
                map[key] = value;
            }
            (_, field) => {
                let Some(value) = field_value(def, field)? else {
                    continue;
                };
                if def.repeated {
                    if let Value::Array(items) = object.entry(def.json).or_insert_with(|| json!([]))
                    {
                        items.push(value);
                    }
                } else {
                    object.insert(def.json.to_string(), value);
                }
            }
        }
    }
    Ok(Value::Object(object))
}

/// Decodes a `application/vnd.kubernetes.protobuf` body into the JSON object it encodes.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    let envelope = body.strip_prefix(MAGIC).ok_or(ProtobufError::NoEnvelope)?;
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    for (number, field) in fields(envelope)? {
        match (number, field) {
            (1, Field::Bytes(type_meta)) => {
                for (n, f) in fields(type_meta)? {
                    match (n, f) {
                        (1, Field::Bytes(b)) => api_version = text(b),
                        (2, Field::Bytes(b)) => kind = text(b),
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    let name = schema::top_level(&api_version, &kind)
        .ok_or_else(|| ProtobufError::UnsupportedKind(format!("{api_version}/{kind}")))?;
    let mut decoded = message(name, raw)?;
    decoded["apiVersion"] = json!(api_version);
    decoded["kind"] = json!(kind);
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn length_delimited(number: u8, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![(number << 3) | 2, bytes.len() as u8];
        out.extend_from_slice(bytes);
        out
    }

    fn envelope(kind: &str, raw: &[u8]) -> Vec<u8> {
        let type_meta = [
            length_delimited(1, b"v1"),
            length_delimited(2, kind.as_bytes()),
        ]
        .concat();
        let unknown = [length_delimited(1, &type_meta), length_delimited(2, raw)].concat();
        [MAGIC.to_vec(), unknown].concat()
    }

    #[test]
    fn decodes_a_secret_with_data_and_labels() {
        let label = [length_delimited(1, b"app"), length_delimited(2, b"web")].concat();
        let meta = [length_delimited(1, b"s1"), length_delimited(11, &label)].concat();
        let entry = [length_delimited(1, b"a"), length_delimited(2, b"1")].concat();
        let raw = [
            length_delimited(1, &meta),
            length_delimited(2, &entry),
            length_delimited(3, b"Opaque"),
        ]
        .concat();
        let decoded = decode(&envelope("Secret", &raw)).expect("decodes");
        assert_eq!(decoded["metadata"]["name"], "s1");
        assert_eq!(decoded["metadata"]["labels"]["app"], "web");
        assert_eq!(decoded["data"]["a"], "MQ==");
        assert_eq!(decoded["type"], "Opaque");
        assert_eq!(decoded["kind"], "Secret");
    }

    fn varint_field(number: u8, value: u8) -> Vec<u8> {
        vec![number << 3, value]
    }

    fn deployment_envelope(raw: &[u8]) -> Vec<u8> {
        let type_meta = [
            length_delimited(1, b"apps/v1"),
            length_delimited(2, b"Deployment"),
        ]
        .concat();
        let unknown = [length_delimited(1, &type_meta), length_delimited(2, raw)].concat();
        [MAGIC.to_vec(), unknown].concat()
    }

    #[test]
    fn decodes_a_deployment_keeping_meaningful_zeros_only() {
        let container = [
            length_delimited(1, b"app"),
            length_delimited(2, b"nginx:1"),
            length_delimited(5, b""),
        ]
        .concat();
        let pod_spec = length_delimited(2, &container);
        let template = length_delimited(2, &pod_spec);
        let spec = [
            varint_field(1, 0),
            length_delimited(3, &template),
            varint_field(5, 0),
        ]
        .concat();
        let raw = [
            length_delimited(1, &length_delimited(1, b"web")),
            length_delimited(2, &spec),
        ]
        .concat();
        let decoded = decode(&deployment_envelope(&raw)).expect("decodes");
        assert_eq!(decoded["kind"], "Deployment");
        assert_eq!(decoded["spec"]["replicas"], 0, "pointer int kept at zero");
        assert!(
            decoded["spec"].get("minReadySeconds").is_none(),
            "plain zero int omitted"
        );
        assert_eq!(
            decoded["spec"]["template"]["spec"]["containers"],
            json!([{"name": "app", "image": "nginx:1"}])
        );
    }

    #[test]
    fn decodes_a_namespace() {
        let raw = length_delimited(1, &length_delimited(1, b"demo"));
        let decoded = decode(&envelope("Namespace", &raw)).expect("decodes");
        assert_eq!(decoded["metadata"]["name"], "demo");
    }

    #[test]
    fn other_kinds_and_garbage_are_errors() {
        assert!(matches!(
            decode(&envelope("Pod", &[])),
            Err(ProtobufError::UnsupportedKind(_))
        ));
        assert_eq!(decode(b"{}"), Err(ProtobufError::NoEnvelope));
        assert_eq!(decode(b"k8s\0\x0a\x05ab"), Err(ProtobufError::Malformed));
    }
}
