//! The JSON value of a YAML node, as `sigs.k8s.io/yaml` converts it: used to read CRD schemas.

use serde_json::{Map, Number, Value};

use super::resolve::Resolved;
use super::tree::{NodeKind, NodeRef};

/// Converts a node; nesting deeper than `depth` becomes `null`. Aliases are followed (their
/// targets are finished nodes, so this cannot loop), merge keys are applied.
pub fn to_json(node: NodeRef<'_>, depth: u32) -> Value {
    if depth == 0 {
        return Value::Null;
    }
    match node.kind() {
        NodeKind::Scalar(s) => match s.value {
            Resolved::Null => Value::Null,
            Resolved::Bool(b) => Value::Bool(b),
            Resolved::Int(i) => Value::Number(i.into()),
            Resolved::Float(f) => Number::from_f64(f).map_or(Value::Null, Value::Number),
            Resolved::Str => Value::String(node.text().unwrap_or_default().to_string()),
        },
        NodeKind::Seq(_) => Value::Array(node.items().map(|i| to_json(i, depth - 1)).collect()),
        NodeKind::Map(_) => {
            let mut map = Map::new();
            for (k, v) in node.entries() {
                let key = k.key_text().unwrap_or_default();
                if key == "<<" && k.scalar().is_some_and(|s| s.style == super::Style::Plain) {
                    let merged = match to_json(v, depth - 1) {
                        Value::Array(items) => items,
                        other => vec![other],
                    };
                    for m in merged {
                        if let Value::Object(m) = m {
                            for (mk, mv) in m {
                                map.entry(mk).or_insert(mv);
                            }
                        }
                    }
                    continue;
                }
                map.insert(key.into_owned(), to_json(v, depth - 1));
            }
            Value::Object(map)
        }
        NodeKind::Alias(_) => Value::Null,
    }
}
