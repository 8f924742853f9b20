use crate::diagnostic::Severity;
use crate::lang::duration::{go_duration_problem, parse_go_duration};
use crate::rules::{Check, Cx, Rule};
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "invalid-duration",
    severity: Severity::Error,
    summary: "a pause, interval or experiment duration the controller cannot parse",
    kinds: &["Rollout", "AnalysisTemplate", "ClusterAnalysisTemplate", "Experiment"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/invalid-duration.md"),
};

fn check(cx: &mut Cx<'_>) {
    let Some(spec) = cx.obj.spec() else { return };
    match cx.obj.kind.as_str() {
        "Rollout" => {
            for step in spec.path(&["strategy", "canary", "steps"]).into_iter().flat_map(|s| s.items()) {
                if let Some(d) = step.path(&["pause", "duration"]) {
                    pause_duration(cx, d);
                }
                if let Some(d) = step.path(&["experiment", "duration"]) {
                    go_duration(cx, d, "experiment duration");
                }
            }
        }
        "Experiment" => {
            if let Some(d) = spec.get("duration") {
                go_duration(cx, d, "experiment duration");
            }
        }
        _ => {
            for metric in spec.get("metrics").into_iter().flat_map(|m| m.items()) {
                for field in ["interval", "initialDelay"] {
                    if let Some(d) = metric.get(field) {
                        go_duration(cx, d, field);
                    }
                }
            }
        }
    }
}

/// `RolloutPause.DurationSeconds`: an integer or a string of digits is seconds; any other
/// string is a Go duration. Negative or unparsable values are rejected.
fn pause_duration(cx: &mut Cx<'_>, node: NodeRef<'_>) {
    if node.is_null() {
        return;
    }
    let seconds = match (node.as_i64(), node.as_str()) {
        (Some(i), _) => Some(i as f64),
        (None, Some(s)) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => s.parse::<f64>().ok(),
        (None, Some(s)) => parse_go_duration(s),
        _ => None,
    };
    match seconds {
        None => {
            cx.report(node, format!("pause duration `{}` cannot be parsed; the controller rejects the Rollout", node.display()))
                .help("use seconds (`duration: 30`) or a Go duration (`30s`, `5m`, `1h`); omit `duration` to pause until promoted");
        }
        Some(s) if s < 0.0 => {
            cx.report(node, format!("pause duration `{}` is negative", node.display()))
                .help("use a positive duration, or omit `duration` to pause until promoted");
        }
        Some(s) if s > 0.0 && s < 1.0 => {
            cx.report(
                node,
                format!(
                    "pause duration `{}` is shorter than one second and truncates to 0: no pause at all",
                    node.display()
                ),
            )
            .help("the controller counts pauses in whole seconds: use `1s` or more");
        }
        _ => {}
    }
}

/// Fields the controller reads with `time.ParseDuration`: a bare number has no unit and fails.
fn go_duration(cx: &mut Cx<'_>, node: NodeRef<'_>, what: &str) {
    if node.is_null() {
        return;
    }
    let text = node.text().unwrap_or_default();
    if text.contains("{{") {
        return;
    }
    let problem = match node.as_str() {
        Some(s) => go_duration_problem(s),
        None if node.scalar().is_some() => Some(format!("`{text}` is a number, not a duration string")),
        None => Some(format!("{what} must be a duration string")),
    };
    if let Some(problem) = problem {
        cx.report(node, format!("invalid {what}: {problem}")).help(format!(
            "write it as a quoted Go duration: `{what}: \"{}s\"`",
            text.trim_matches(|c: char| !c.is_ascii_digit())
        ));
    }
}
