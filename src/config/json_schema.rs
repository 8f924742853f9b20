//! The JSON schema of `.rollcheck.yaml`, for editor completion.

use crate::rules;

/// The JSON schema of the config file, for editor completion (`schemas/rollcheck-config.schema.json`).
pub fn json_schema() -> serde_json::Value {
    use serde_json::json;
    let level = json!({"enum": ["off", "info", "warning", "error"]});
    let mut rule_props = serde_json::Map::new();
    for rule in rules::ALL {
        let mut settings = serde_json::Map::new();
        settings.insert("level".into(), level.clone());
        for o in rule.options {
            settings.insert(
                o.name.into(),
                json!({"type": "integer", "minimum": o.min, "default": o.default, "description": o.summary}),
            );
        }
        rule_props.insert(
            rule.id.into(),
            json!({
                "description": format!("{} (default: {})", rule.summary, rule.severity.as_str()),
                "oneOf": [level, {"type": "object", "properties": settings, "additionalProperties": false}]
            }),
        );
    }
    let rules = json!({"type": "object", "properties": rule_props, "additionalProperties": false});
    let strings = json!({"type": "array", "items": {"type": "string"}});
    json!({
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "https://github.com/rollcheck/rollcheck/blob/main/schemas/rollcheck-config.schema.json",
        "title": "rollcheck configuration (.rollcheck.yaml)",
        "type": "object",
        "additionalProperties": false,
        "properties": {
            "rules": rules,
            "overrides": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["files"],
                    "additionalProperties": false,
                    "properties": {"files": strings, "rules": rules}
                }
            },
            "exclude": strings,
            "namespace": {"type": "string", "description": "namespace of objects that set none (default: `default`)"},
            "context": {"description": "files and directories loaded only to resolve references", "type": "array", "items": {"type": "string"}},
            "crds": {"description": "CRD files whose schemas check their custom resources", "type": "array", "items": {"type": "string"}},
            "external": {
                "description": "objects that exist in the cluster but not in the files",
                "type": "array",
                "items": {"oneOf": [
                    {"type": "string", "pattern": "^[^/]+/([^/]+/)?[^/]+$"},
                    {"type": "object", "required": ["kind", "name"], "additionalProperties": false,
                     "properties": {"kind": {"type": "string"}, "name": {"type": "string"}, "namespace": {"type": "string"}}}
                ]}
            },
            "fail-on": {"enum": ["info", "warning", "error"]},
            "tools": {
                "description": "the binaries that render charts and kustomizations",
                "type": "object",
                "additionalProperties": false,
                "properties": {"helm": {"type": "string"}, "kustomize": {"type": "string"}, "kubectl": {"type": "string"}}
            },
            "charts": {
                "description": "how to render the charts a path or glob matches: one unit per values set",
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["path"],
                    "additionalProperties": false,
                    "properties": {
                        "path": {"oneOf": [{"type": "string"}, strings]},
                        "release": {"type": "string"},
                        "namespace": {"type": "string"},
                        "values": {"type": "array", "items": {"oneOf": [{"type": "string"}, strings]}},
                        "set": strings,
                        "kube-version": {"type": "string"},
                        "api-versions": strings
                    }
                }
            },
            "render": {
                "type": "object",
                "additionalProperties": false,
                "properties": {"network": {"type": "boolean", "description": "let helm and kustomize use the network (default: false)"}}
            },
            "kube-version": {"type": ["string", "number"], "pattern": "^v?[0-9]+\\.[0-9]+(\\.[0-9]+)?$", "description": "the Kubernetes version manifests are applied to, e.g. \"1.33\" (default: 1.33): which API versions it serves"}
        }
    })
}
