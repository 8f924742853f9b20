//! OpenAPI v3 (CRD `openAPIV3Schema`) and Kubernetes JSON schemas to the JSON Schema subset
//! rollcheck embeds: descriptions and annotations stripped, `["string","null"]` types reduced
//! (null is always allowed: the API server prunes it), type-only `oneOf`s (IntOrString,
//! Quantity) turned into type lists, and `$ref`s pointing into `#/definitions`. Objects with
//! `properties` are closed explicitly (`additionalProperties: false`), since a structural CRD
//! schema prunes unknown fields silently, which is the mistake `schema-unknown-field` reports.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// Keywords kept from the input; everything else (descriptions, defaults, list and map types,
/// CEL validations) is dropped.
const KEPT: &[&str] = &[
    "type",
    "properties",
    "additionalProperties",
    "items",
    "required",
    "enum",
    "oneOf",
    "anyOf",
    "allOf",
    "not",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "format",
    "$ref",
    "x-kubernetes-int-or-string",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
];

/// Converts one schema node. `refs` collects the definitions it refers to.
pub fn convert(schema: &Value, refs: &mut BTreeSet<String>) -> Value {
    let Value::Object(input) = schema else { return json!({}) };
    let mut out = Map::new();
    for (key, value) in input {
        if !KEPT.contains(&key.as_str()) {
            continue;
        }
        let converted = match key.as_str() {
            "properties" => match value {
                Value::Object(props) => {
                    Value::Object(props.iter().map(|(k, v)| (k.clone(), convert(v, refs))).collect())
                }
                _ => continue,
            },
            "items" | "not" => convert(value, refs),
            "additionalProperties" => match value {
                Value::Bool(b) => Value::Bool(*b),
                other => convert(other, refs),
            },
            "oneOf" | "anyOf" | "allOf" => match value {
                Value::Array(branches) => Value::Array(branches.iter().map(|b| convert(b, refs)).collect()),
                _ => continue,
            },
            "type" => match value {
                Value::Array(types) => {
                    let kept: Vec<Value> = types.iter().filter(|t| t.as_str() != Some("null")).cloned().collect();
                    match kept.len() {
                        0 => continue,
                        1 => kept[0].clone(),
                        _ => Value::Array(kept),
                    }
                }
                other => other.clone(),
            },
            "$ref" => {
                match value.as_str().and_then(|r| r.rsplit_once("/$defs/").or_else(|| r.rsplit_once("/definitions/"))) {
                    Some((_, name)) => {
                        refs.insert(name.to_string());
                        Value::String(format!("#/definitions/{name}"))
                    }
                    None => continue,
                }
            }
            _ => value.clone(),
        };
        out.insert(key.clone(), converted);
    }
    simplify_type_unions(&mut out);
    if out.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true)) {
        // controller-gen writes `anyOf: [{type: integer}, {type: string}]` beside the flag.
        out.remove("anyOf");
        out.remove("type");
    }
    let preserve = out.get("x-kubernetes-preserve-unknown-fields") == Some(&Value::Bool(true));
    if out.contains_key("properties") && !out.contains_key("additionalProperties") && !preserve {
        out.insert("additionalProperties".into(), Value::Bool(false));
    }
    Value::Object(out)
}

/// `oneOf`/`anyOf` whose branches only name a type become a list of types.
fn simplify_type_unions(out: &mut Map<String, Value>) {
    for key in ["oneOf", "anyOf"] {
        let Some(Value::Array(branches)) = out.get(key) else { continue };
        let types: Option<Vec<Value>> = branches
            .iter()
            .map(|b| match b {
                Value::Object(m) if m.len() == 1 => m.get("type").filter(|t| t.is_string()).cloned(),
                Value::Object(m) if m.is_empty() => None,
                _ => None,
            })
            .collect();
        if let Some(types) = types
            && !out.contains_key("type")
        {
            out.remove(key);
            out.insert("type".into(), Value::Array(types));
        }
    }
}

/// Replaces the schema at `path` (property names; `[]` steps into `items`) with a `$ref`.
pub fn replace_at(schema: &mut Value, path: &[&str], reference: &str, refs: &mut BTreeSet<String>) -> bool {
    let mut node = schema;
    for step in path {
        node = match (*step, node) {
            ("[]", Value::Object(m)) => match m.get_mut("items") {
                Some(n) => n,
                None => return false,
            },
            (name, Value::Object(m)) => match m.get_mut("properties").and_then(|p| p.get_mut(name)) {
                Some(n) => n,
                None => return false,
            },
            _ => return false,
        };
    }
    refs.insert(reference.to_string());
    *node = json!({"$ref": format!("#/definitions/{reference}")});
    true
}

/// Every object has `apiVersion`, `kind` and Kubernetes' `metadata` at its root, whether the
/// CRD's schema lists them (Argo's do) or not (Istio's do not).
pub fn object_root(schema: &mut Value, refs: &mut BTreeSet<String>) {
    const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
    let Value::Object(root) = schema else { return };
    let props = root.entry("properties").or_insert_with(|| json!({}));
    if let Value::Object(props) = props {
        props.insert("apiVersion".into(), json!({"type": "string"}));
        props.insert("kind".into(), json!({"type": "string"}));
        props.insert("metadata".into(), json!({"$ref": format!("#/definitions/{OBJECT_META}")}));
        refs.insert(OBJECT_META.into());
    }
    root.entry("type").or_insert_with(|| json!("object"));
    if root.get("x-kubernetes-preserve-unknown-fields") != Some(&Value::Bool(true)) {
        root.entry("additionalProperties").or_insert(Value::Bool(false));
    }
}

/// The definitions `names` need, converted, following references transitively.
pub fn definitions_closure(all: &Map<String, Value>, names: BTreeSet<String>) -> Map<String, Value> {
    let mut out = Map::new();
    let mut todo: Vec<String> = names.into_iter().collect();
    while let Some(name) = todo.pop() {
        if out.contains_key(&name) {
            continue;
        }
        let Some(def) = all.get(&name) else { continue };
        let mut refs = BTreeSet::new();
        out.insert(name, convert(def, &mut refs));
        todo.extend(refs.into_iter().filter(|r| !out.contains_key(r)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_and_normalises() {
        let mut refs = BTreeSet::new();
        let out = convert(
            &json!({
                "description": "x", "type": ["object", "null"],
                "properties": {
                    "port": {"oneOf": [{"type": ["string", "null"]}, {"type": ["integer", "null"]}]},
                    "maxSurge": {"anyOf": [{"type": "integer"}, {"type": "string"}], "x-kubernetes-int-or-string": true},
                    "meta": {"$ref": "/api/_definitions.json#/$defs/io.k8s.ObjectMeta"},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                },
                "x-kubernetes-validations": [{"rule": "self.a"}]
            }),
            &mut refs,
        );
        assert_eq!(
            out,
            json!({
                "type": "object", "additionalProperties": false,
                "properties": {
                    "port": {"type": ["string", "integer"]},
                    "maxSurge": {"x-kubernetes-int-or-string": true},
                    "meta": {"$ref": "#/definitions/io.k8s.ObjectMeta"},
                    "free": {"type": "object", "x-kubernetes-preserve-unknown-fields": true}
                }
            })
        );
        assert_eq!(refs.into_iter().collect::<Vec<_>>(), vec!["io.k8s.ObjectMeta"]);
    }
}
