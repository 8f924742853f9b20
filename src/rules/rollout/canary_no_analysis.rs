use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "canary-no-analysis",
    severity: Severity::Info,
    summary: "a canary with steps but no analysis: nothing but a human stops a bad version",
    kinds: &["Rollout"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/canary-no-analysis.md"),
};

fn check(cx: &mut Cx<'_>) {
    let Some(canary) = cx.obj.get(&["spec", "strategy", "canary"]) else { return };
    let Some((steps_key, steps)) = canary.entry("steps").filter(|(_, s)| !s.is_empty()) else { return };
    if canary.get_set("analysis").is_some() {
        return;
    }
    let analysed = steps
        .items()
        .any(|s| s.get_set("analysis").is_some() || s.path(&["experiment", "analyses"]).is_some_and(|a| !a.is_empty()));
    if !analysed {
        // A `pause: {}` without a duration waits for a person to promote; timed pauses and
        // weight steps go on by themselves.
        let manual = steps.items().any(|s| s.get("pause").is_some_and(|p| p.get("duration").is_none()));
        let message = if manual {
            "this canary has steps but no analysis: a person promotes it at its indefinite pauses, and nothing checks the new version's metrics before or between them"
        } else {
            "this canary has steps but no analysis: every step is promoted on time alone"
        };
        cx.report(steps_key, message).help(
            "add a background `analysis` under `canary`, or an `analysis` step, that checks error rate or latency",
        );
    }
}
