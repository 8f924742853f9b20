use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, Rule};
use crate::yaml::{NodeRef, Resolved, Style};

pub const RULE: Rule = Rule {
    id: "yaml-ambiguous-scalar",
    severity: Severity::Warning,
    summary: "an unquoted value that YAML 1.1 reads as a boolean or number where Kubernetes expects a string",
    kinds: &["*"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/yaml-ambiguous-scalar.md"),
};

/// Kinds whose `spec` holds pod templates, analysis args or other string-only places.
const SPEC_KINDS: &[&str] = &[
    "Rollout",
    "AnalysisTemplate",
    "ClusterAnalysisTemplate",
    "AnalysisRun",
    "Experiment",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Pod",
    "PodTemplate",
];

fn check(cx: &mut Cx<'_>) {
    let root = cx.obj.root();
    let mut found = Vec::new();
    if let Some(meta) = root.get("metadata") {
        string_map(meta.get("labels"), "a label value", &mut found);
        string_map(meta.get("annotations"), "an annotation value", &mut found);
    }
    match cx.obj.kind.as_str() {
        "Service" => string_map(root.path(&["spec", "selector"]), "a selector value", &mut found),
        "ConfigMap" => string_map(root.get("data"), "a ConfigMap value", &mut found),
        "Secret" => string_map(root.get("stringData"), "a Secret `stringData` value", &mut found),
        kind if SPEC_KINDS.contains(&kind) => {
            if let Some(spec) = root.get("spec") {
                walk(spec, &mut found);
            }
        }
        _ => {}
    }
    for (node, place) in found {
        let text = node.text().unwrap_or_default();
        let read_as = match node.scalar().map(|s| s.value) {
            Some(Resolved::Bool(b)) => format!("the boolean `{b}`"),
            Some(Resolved::Int(i)) if i.to_string() != text => format!("the number {i}"),
            Some(Resolved::Float(f)) if f.to_string() != text => format!("the number {f}"),
            _ => "a number".to_string(),
        };
        cx.report(node, format!("`{text}` is read as {read_as} (YAML 1.1), but {place} must be a string"))
            .help(format!("quote it: \"{text}\"; the API server rejects the object, or a tool that re-encodes it changes the value"));
    }
}

/// Places where Kubernetes expects strings, found by key inside a spec.
fn walk<'a>(node: NodeRef<'a>, found: &mut Vec<(NodeRef<'a>, &'static str)>) {
    if node.is_seq() {
        for item in node.items() {
            walk(item, found);
        }
        return;
    }
    for (key, value) in node.entries() {
        match key.key_text().as_deref() {
            Some("labels") => string_map(Some(value), "a label value", found),
            Some("annotations") => string_map(Some(value), "an annotation value", found),
            Some("matchLabels") => string_map(Some(value), "a selector value", found),
            Some("nodeSelector") => string_map(Some(value), "a node selector value", found),
            Some("env") => {
                for var in value.items() {
                    ambiguous(var.get("value"), "an env value", found);
                }
            }
            Some("args" | "command") => {
                for item in value.items() {
                    if item.is_map() {
                        ambiguous(item.get("value"), "an analysis arg value", found);
                    } else {
                        ambiguous(Some(item), "a container argument", found);
                    }
                }
            }
            _ if value.is_map() || value.is_seq() => walk(value, found),
            _ => {}
        }
    }
}

fn string_map<'a>(map: Option<NodeRef<'a>>, place: &'static str, found: &mut Vec<(NodeRef<'a>, &'static str)>) {
    for (_, value) in map.into_iter().flat_map(|m| m.entries()) {
        ambiguous(Some(value), place, found);
    }
}

fn ambiguous<'a>(node: Option<NodeRef<'a>>, place: &'static str, found: &mut Vec<(NodeRef<'a>, &'static str)>) {
    let Some(node) = node else { return };
    let Some(scalar) = node.scalar() else { return };
    if scalar.style == Style::Plain && matches!(scalar.value, Resolved::Bool(_) | Resolved::Int(_) | Resolved::Float(_))
    {
        found.push((node, place));
    }
}
