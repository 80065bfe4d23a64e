//! The OpenAPI v2 document: empty (no paths, no definitions) but well-formed, in
//! JSON or in the gnostic protobuf encoding kubectl asks for. kubectl falls back to
//! it only where the v3 documents do not answer.

use serde_json::{Value, json};

pub const PROTOBUF_MEDIA_TYPE: &str = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf";

const TITLE: &str = "Kubernetes";

fn version() -> String {
    crate::discovery::version_info()["gitVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

pub fn json_document() -> Value {
    json!({"swagger": "2.0", "info": {"title": TITLE, "version": version()}, "paths": {}, "definitions": {}})
}

fn varint(mut value: usize, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// A length-delimited field.
fn field(number: u8, bytes: &[u8], out: &mut Vec<u8>) {
    out.push(number << 3 | 2);
    varint(bytes.len(), out);
    out.extend_from_slice(bytes);
}

/// `Document{swagger: "2.0" (1), info: Info{title (1), version (2)} (2)}`.
pub fn protobuf_document() -> Vec<u8> {
    let mut info = Vec::new();
    field(1, TITLE.as_bytes(), &mut info);
    field(2, version().as_bytes(), &mut info);
    let mut document = Vec::new();
    field(1, b"2.0", &mut document);
    field(2, &info, &mut document);
    document
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protobuf_document_starts_with_the_swagger_version() {
        let document = protobuf_document();
        assert_eq!(&document[..5], &[0x0a, 3, b'2', b'.', b'0']);
        assert_eq!(document[5], 0x12);
        assert_eq!(usize::from(document[6]), document.len() - 7);
    }
}
