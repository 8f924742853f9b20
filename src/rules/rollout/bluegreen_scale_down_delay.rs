use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "bluegreen-scale-down-delay",
    severity: Severity::Warning,
    summary: "a blue-green `scaleDownDelaySeconds` below 30 kills in-flight requests after the switch",
    kinds: &["Rollout"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/bluegreen-scale-down-delay.md"),
};

fn check(cx: &mut Cx<'_>) {
    let Some(delay) = cx.obj.get(&["spec", "strategy", "blueGreen", "scaleDownDelaySeconds"]) else { return };
    let Some(seconds) = delay.as_i64() else { return };
    if seconds < 30 {
        cx.report(delay, format!("the old version is scaled down {seconds}s after traffic switches"))
            .help("keep `scaleDownDelaySeconds` at 30 or more (the default is 30) so load balancers and clients have moved off the old pods first");
    }
}
