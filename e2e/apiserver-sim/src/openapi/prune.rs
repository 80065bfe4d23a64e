//! Unknown fields: walking an object along its schema, dropping every field the
//! schema does not declare and naming it the way kube-apiserver's strict decoding does
//! (`spec.replicass`, `spec.template.spec.containers[0].imagee`).

use serde_json::{Map, Value};

/// How schema nodes without declared properties are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// Built-in types: `type: object` without properties is free-form
    /// (RawExtension, FieldsV1, JSON).
    Builtin,
    /// CRD structural schemas: only declared properties survive unless
    /// `x-kubernetes-preserve-unknown-fields` says otherwise.
    Structural,
}

pub struct Walker<'a> {
    pub definitions: &'a Map<String, Value>,
    pub dialect: Dialect,
}

enum Shape<'a> {
    Any,
    Object {
        properties: Vec<&'a Map<String, Value>>,
        additional: Option<&'a Value>,
        preserve: bool,
        embedded: bool,
    },
    Array(&'a Value),
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

impl<'a> Walker<'a> {
    fn deref(&self, schema: &'a Value) -> &'a Value {
        let mut node = schema;
        for _ in 0..32 {
            match node["$ref"].as_str() {
                Some(r) => match self
                    .definitions
                    .get(r.trim_start_matches("#/components/schemas/"))
                {
                    Some(target) => node = target,
                    None => return node,
                },
                // `allOf: [{$ref}]` is how a described reference is written.
                None => match node["allOf"].as_array().map(Vec::as_slice) {
                    Some([only]) if node.get("properties").is_none() => node = only,
                    _ => return node,
                },
            }
        }
        node
    }

    fn shape(&self, schema: &'a Value) -> Shape<'a> {
        let node = self.deref(schema);
        if node["x-kubernetes-int-or-string"].as_bool() == Some(true) {
            return Shape::Any;
        }
        let mut properties = Vec::new();
        let mut pending = vec![node];
        while let Some(n) = pending.pop() {
            if let Some(p) = n["properties"].as_object() {
                properties.push(p);
            }
            for combinator in ["allOf", "anyOf", "oneOf"] {
                for sub in n[combinator].as_array().into_iter().flatten() {
                    pending.push(self.deref(sub));
                }
            }
        }
        let additional = node.get("additionalProperties").filter(|a| a.is_object());
        let preserve = node["x-kubernetes-preserve-unknown-fields"].as_bool() == Some(true);
        let embedded = node["x-kubernetes-embedded-resource"].as_bool() == Some(true);
        if let Some(items) = node.get("items").filter(|i| i.is_object()) {
            return Shape::Array(items);
        }
        let is_object = node["type"].as_str() == Some("object");
        let declares = !properties.is_empty() || additional.is_some();
        match self.dialect {
            Dialect::Builtin if !declares => Shape::Any,
            Dialect::Structural if !declares && !is_object && !embedded => Shape::Any,
            _ => Shape::Object {
                properties,
                additional,
                preserve,
                embedded,
            },
        }
    }

    /// Removes undeclared fields below `value`, appending their paths to `unknown`.
    pub fn prune(
        &self,
        schema: &'a Value,
        value: &mut Value,
        path: &str,
        unknown: &mut Vec<String>,
    ) {
        match (self.shape(schema), value) {
            (
                Shape::Object {
                    properties,
                    additional,
                    preserve,
                    embedded,
                },
                Value::Object(map),
            ) => {
                let keys: Vec<String> = map.keys().cloned().collect();
                for key in keys {
                    let child = join(path, &key);
                    let declared = properties.iter().find_map(|p| p.get(&key));
                    match (declared, additional) {
                        (Some(sub), _) | (None, Some(sub)) => {
                            if let Some(v) = map.get_mut(&key) {
                                self.prune(sub, v, &child, unknown);
                            }
                        }
                        (None, None) if preserve => {}
                        (None, None)
                            if embedded
                                && matches!(key.as_str(), "apiVersion" | "kind" | "metadata") => {}
                        (None, None) => {
                            map.remove(&key);
                            unknown.push(child);
                        }
                    }
                }
            }
            (Shape::Array(items), Value::Array(list)) => {
                for (i, item) in list.iter_mut().enumerate() {
                    self.prune(items, item, &format!("{path}[{i}]"), unknown);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prune(dialect: Dialect, schema: Value, mut object: Value) -> (Value, Vec<String>) {
        let definitions = Map::new();
        let walker = Walker {
            definitions: &definitions,
            dialect,
        };
        let mut unknown = Vec::new();
        walker.prune(&schema, &mut object, "", &mut unknown);
        (object, unknown)
    }

    #[test]
    fn unknown_fields_are_named_and_dropped() {
        let schema = json!({"type": "object", "properties": {
            "spec": {"type": "object", "properties": {
                "items": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
                "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "raw": {"type": "object"}
            }}
        }});
        let object = json!({"spec": {"items": [{"a": "x", "b": 1}], "free": {"z": 1}, "labels": {"k": "v"}, "raw": {"q": 1}, "extra": true}});
        let (pruned, unknown) = prune(Dialect::Structural, schema.clone(), object.clone());
        assert_eq!(unknown, vec!["spec.extra", "spec.items[0].b", "spec.raw.q"]);
        assert_eq!(pruned["spec"]["free"]["z"], 1);
        assert!(pruned["spec"]["items"][0].get("b").is_none());
        let (_, unknown) = prune(Dialect::Builtin, schema, object);
        assert_eq!(unknown, vec!["spec.extra", "spec.items[0].b"]);
    }
}
