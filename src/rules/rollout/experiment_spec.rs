use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "experiment-spec",
    severity: Severity::Error,
    summary: "an Experiment the controller rejects: template selectors and names, minReadySeconds beyond the deadline",
    kinds: &["Experiment"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/experiment-spec.md"),
};

/// `VerifyExperimentSpec`; the controller reports only the first, rollcheck all of them.
fn check(cx: &mut Cx<'_>) {
    let Some(spec) = cx.obj.spec() else { return };
    let deadline = spec.get_set("progressDeadlineSeconds").and_then(|d| d.as_i64()).unwrap_or(600);
    let mut names: Vec<(&str, crate::source::Span)> = Vec::new();
    for (i, t) in spec.get("templates").into_iter().flat_map(|t| t.items()).enumerate() {
        match t.get_set("selector") {
            None => {
                cx.report(t.entry("name").map_or(t, |(k, _)| k), format!("template {i} has no `selector`"))
                    .help("add `selector.matchLabels` matching the template's pod labels");
            }
            Some(sel)
                if sel.get("matchLabels").is_none_or(|m| m.is_empty())
                    && sel.get("matchExpressions").is_none_or(|m| m.is_empty()) =>
            {
                cx.report(sel, format!("template {i} has an empty selector, which selects all pods"))
                    .help("select the template's own pod labels");
            }
            Some(_) => {}
        }
        if let Some(min_ready) = t.get_set("minReadySeconds")
            && let Some(n) = min_ready.as_i64().filter(|n| *n > deadline)
        {
            cx.report(
                min_ready,
                format!("template {i}: `minReadySeconds: {n}` is longer than `progressDeadlineSeconds` ({deadline})"),
            )
            .help("lower `minReadySeconds`, or raise the Experiment's `progressDeadlineSeconds`");
        }
        match t.get_str("name").filter(|n| !n.is_empty()) {
            None => {
                cx.report(t, format!("template {i} has no `name`")).help("name every template; analyses refer to it");
            }
            Some(name) => {
                let node = t.get("name").unwrap_or(t);
                if let Some((_, first)) = names.iter().find(|(n, _)| *n == name) {
                    let (file, first) = (cx.obj.file, *first);
                    cx.report(node, format!("template name `{name}` is used twice"))
                        .help("give each template its own name")
                        .related(file, first, "first used here");
                }
                names.push((name, node.span()));
            }
        }
    }
}
