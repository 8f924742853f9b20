use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "canary-step-invalid",
    severity: Severity::Error,
    summary: "a canary step with no action or more than one, or a `setWeight` outside 0..100 (or `maxTrafficWeight`)",
    kinds: &["Rollout"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/canary-step-invalid.md"),
};

/// Step actions that exclude each other (`hasMultipleStepsType` in the controller).
const EXCLUSIVE: &[&str] = &["setWeight", "pause", "experiment", "analysis"];
/// Every action a step may have.
const ALL_ACTIONS: &[&str] =
    &["setWeight", "pause", "experiment", "analysis", "setCanaryScale", "setHeaderRoute", "setMirrorRoute", "plugin"];

fn check(cx: &mut Cx<'_>) {
    let Some(canary) = cx.obj.get(&["spec", "strategy", "canary"]) else { return };
    let Some(steps) = canary.get_set("steps") else { return };
    let max_node = canary.path(&["trafficRouting", "maxTrafficWeight"]);
    let max = max_node.and_then(|m| m.as_i64()).unwrap_or(100);
    let file = cx.obj.file;
    for (i, step) in steps.items().enumerate() {
        if !step.is_map() {
            cx.report(step, format!("step {i} is not a mapping"))
                .help("write each step as `- setWeight: 20` or `- pause: {duration: 1m}`");
            continue;
        }
        let exclusive: Vec<_> = step
            .entries()
            .filter(|(k, v)| !v.is_null() && k.key_text().is_some_and(|t| EXCLUSIVE.contains(&&*t)))
            .collect();
        if exclusive.len() > 1 {
            let names: Vec<String> = exclusive.iter().map(|(k, _)| format!("`{}`", k.display())).collect();
            let first_span = exclusive[0].0.span();
            cx.report(
                exclusive[1].0,
                format!("step {i} has more than one action ({}); the controller rejects it", names.join(", ")),
            )
            .label("second action")
            .help("split it into one step per action, in the order they should run")
            .related(file, first_span, "first action");
        } else if !step.entries().any(|(k, v)| !v.is_null() && k.key_text().is_some_and(|t| ALL_ACTIONS.contains(&&*t)))
        {
            cx.report(step, format!("step {i} has no action"))
                .help("give the step one of: setWeight, pause, experiment, analysis, setCanaryScale, setHeaderRoute, setMirrorRoute, plugin");
        }
        for t in step.path(&["experiment", "templates"]).into_iter().flat_map(|t| t.items()) {
            if let Some(spec_ref) = t.get_set("specRef").filter(|s| !matches!(s.as_str(), Some("canary" | "stable"))) {
                cx.report(
                    spec_ref,
                    format!(
                        "step {i}: experiment template `specRef: {}` must be `canary` or `stable`",
                        spec_ref.display()
                    ),
                )
                .help(
                    "`specRef` says which pod template the experiment copies: `canary` (the new version) or `stable`",
                );
            }
        }
        let args = step.path(&["analysis", "args"]).into_iter().chain(
            step.path(&["experiment", "analyses"]).into_iter().flat_map(|a| a.items()).filter_map(|a| a.get("args")),
        );
        for arg in args.flat_map(|a| a.items()) {
            let Some(path) = arg.path(&["valueFrom", "fieldRef", "fieldPath"]) else { continue };
            let Some(p) = path.as_str() else { continue };
            if p.starts_with("metadata") && !downward_api_path(p) {
                cx.report(path, format!("step {i}: `fieldPath: {p}` is not object metadata the downward API supports"))
                    .help("use metadata.name, metadata.namespace, metadata.uid, metadata.labels['key'] or metadata.annotations['key']");
            }
        }
        let Some(weight) = step.get_set("setWeight") else { continue };
        match weight.as_i64() {
            None => {
                cx.report(weight, format!("`setWeight` must be an integer percentage, not `{}`", weight.display()))
                    .help("write the weight as a bare number: `setWeight: 20`");
            }
            Some(w) if w < 0 || w > max => {
                let d = cx.report(weight, format!("`setWeight: {w}` is outside 0..{max}; the controller rejects it (\"SetWeight needs to be between 0 and {max}\")"));
                match max_node {
                    Some(m) => {
                        d.help(format!("use a weight between 0 and {max}")).related(
                            file,
                            m.span(),
                            "maxTrafficWeight sets the upper bound",
                        );
                    }
                    None => {
                        d.help("use a percentage between 0 and 100");
                    }
                }
            }
            _ => {}
        }
    }
}

/// k8s `fieldpath.ExtractFieldPathAsString` paths under `metadata`.
fn downward_api_path(p: &str) -> bool {
    if matches!(p, "metadata.name" | "metadata.namespace" | "metadata.uid" | "metadata.labels" | "metadata.annotations")
    {
        return true;
    }
    for prefix in ["metadata.labels['", "metadata.annotations['"] {
        if let Some(key) = p.strip_prefix(prefix).and_then(|k| k.strip_suffix("']")) {
            return !key.is_empty() && crate::selector::label_key_problem(key).is_none();
        }
    }
    false
}
