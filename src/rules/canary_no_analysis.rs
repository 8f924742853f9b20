use super::{Check, Cx, Rule};
use crate::diagnostic::Severity;

pub const RULE: Rule = Rule {
    id: "canary-no-analysis",
    severity: Severity::Info,
    summary: "a canary with steps but no analysis: nothing but a human stops a bad version",
    kinds: &["Rollout"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../rules/canary-no-analysis.md"),
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
        cx.report(steps_key, "this canary has steps but no analysis: every step is promoted on time alone").help(
            "add a background `analysis` under `canary`, or an `analysis` step, that checks error rate or latency",
        );
    }
}
