//! Just enough Kubernetes protobuf decoding for the bodies kubectl's typed clients
//! send (`kubectl create namespace|secret|configmap|serviceaccount`): the `k8s\0`
//! envelope, `runtime.Unknown`, and the fields of those four kinds plus the
//! commonly set ObjectMeta fields. Everything else answers 415.

use base64::Engine;
use serde_json::{Map, Value, json};

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

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

/// Iterates (field number, value) over one message; fixed32/64 values are skipped.
fn fields(mut data: &[u8]) -> Result<Vec<(u64, Field<'_>)>, ProtobufError> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let key = varint(&mut data)?;
        let (number, wire_type) = (key >> 3, key & 7);
        match wire_type {
            0 => out.push((number, Field::Varint(varint(&mut data)?))),
            2 => {
                let len =
                    usize::try_from(varint(&mut data)?).map_err(|_| ProtobufError::Malformed)?;
                if data.len() < len {
                    return Err(ProtobufError::Malformed);
                }
                out.push((number, Field::Bytes(&data[..len])));
                data = &data[len..];
            }
            1 => data = data.get(8..).ok_or(ProtobufError::Malformed)?,
            5 => data = data.get(4..).ok_or(ProtobufError::Malformed)?,
            _ => return Err(ProtobufError::Malformed),
        }
    }
    Ok(out)
}

fn varint(data: &mut &[u8]) -> Result<u64, ProtobufError> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let (&byte, rest) = data.split_first().ok_or(ProtobufError::Malformed)?;
        *data = rest;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(ProtobufError::Malformed)
}

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

fn insert_string_entry(
    target: &mut Map<String, Value>,
    field: &str,
    bytes: &[u8],
) -> Result<(), ProtobufError> {
    let (key, value) = map_entry(bytes)?;
    let map = target.entry(field).or_insert_with(|| json!({}));
    map[key] = json!(text(&value));
    Ok(())
}

fn insert_bytes_entry(
    target: &mut Map<String, Value>,
    field: &str,
    bytes: &[u8],
) -> Result<(), ProtobufError> {
    let (key, value) = map_entry(bytes)?;
    let map = target.entry(field).or_insert_with(|| json!({}));
    map[key] = json!(base64::engine::general_purpose::STANDARD.encode(value));
    Ok(())
}

fn object_meta(bytes: &[u8]) -> Result<Value, ProtobufError> {
    let mut meta = Map::new();
    for (number, field) in fields(bytes)? {
        let Field::Bytes(b) = field else { continue };
        // gogo-protobuf writes empty strings; the JSON form omits them.
        if b.is_empty() {
            continue;
        }
        match number {
            1 => drop(meta.insert("name".into(), json!(text(b)))),
            2 => drop(meta.insert("generateName".into(), json!(text(b)))),
            3 => drop(meta.insert("namespace".into(), json!(text(b)))),
            11 => insert_string_entry(&mut meta, "labels", b)?,
            12 => insert_string_entry(&mut meta, "annotations", b)?,
            14 => meta
                .entry("finalizers")
                .or_insert_with(|| json!([]))
                .as_array_mut()
                .into_iter()
                .for_each(|a| a.push(json!(text(b)))),
            _ => {}
        }
    }
    Ok(Value::Object(meta))
}

fn object(kind: &str, bytes: &[u8]) -> Result<Value, ProtobufError> {
    let mut object = Map::new();
    for (number, field) in fields(bytes)? {
        match (kind, number, field) {
            (_, 1, Field::Bytes(b)) => drop(object.insert("metadata".into(), object_meta(b)?)),
            ("Secret", 2, Field::Bytes(b)) => insert_bytes_entry(&mut object, "data", b)?,
            ("Secret", 3, Field::Bytes(b)) => drop(object.insert("type".into(), json!(text(b)))),
            ("Secret", 4, Field::Bytes(b)) => insert_string_entry(&mut object, "stringData", b)?,
            ("Secret", 5, Field::Varint(v)) => {
                drop(object.insert("immutable".into(), json!(v != 0)))
            }
            ("ConfigMap", 2, Field::Bytes(b)) => insert_string_entry(&mut object, "data", b)?,
            ("ConfigMap", 3, Field::Bytes(b)) => insert_bytes_entry(&mut object, "binaryData", b)?,
            ("ConfigMap", 4, Field::Varint(v)) => {
                drop(object.insert("immutable".into(), json!(v != 0)))
            }
            _ => {}
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
    if api_version != "v1"
        || !matches!(
            kind.as_str(),
            "Namespace" | "Secret" | "ConfigMap" | "ServiceAccount"
        )
    {
        return Err(ProtobufError::UnsupportedKind(format!(
            "{api_version}/{kind}"
        )));
    }
    let mut decoded = object(&kind, raw)?;
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
