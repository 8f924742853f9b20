use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, Rule, RuleOption};

pub const RULE: Rule = Rule {
    id: "canary-large-weight-jump",
    severity: Severity::Info,
    summary: "a canary step that raises the weight by more than `max-jump` points (default 50) at once",
    kinds: &["Rollout"],
    check: Some(Check::Object(check)),
    options: &[RuleOption {
        name: "max-jump",
        default: 50,
        min: 1,
        summary: "the largest weight increase, in points, that one step may make",
    }],
    doc: include_str!("../../../rules/canary-large-weight-jump.md"),
};

fn check(cx: &mut Cx<'_>) {
    let Some(canary) = cx.obj.get(&["spec", "strategy", "canary"]) else { return };
    let max_jump = cx.option("max-jump");
    let max_weight = canary.path(&["trafficRouting", "maxTrafficWeight"]).and_then(|m| m.as_i64()).unwrap_or(100);
    let mut previous = 0;
    for (node, weight) in crate::rules::analysis::read::weight_steps(canary) {
        // A weight out of range is `canary-step-invalid`'s finding, not a jump.
        if (0..=max_weight).contains(&weight) && weight - previous > max_jump {
            cx.report(node, format!("the weight jumps from {previous}% to {weight}% in one step"))
                .help(format!("add intermediate steps (no more than {max_jump} points each) with a pause or an analysis, so a bad version meets less traffic"));
        }
        previous = weight;
    }
}
