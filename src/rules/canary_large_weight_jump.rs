use super::{Cx, Rule};
use crate::diagnostic::Severity;

pub const RULE: Rule = Rule {
    id: "canary-large-weight-jump",
    severity: Severity::Info,
    summary: "a canary step that raises the weight by more than 50 points at once",
    kinds: &["Rollout"],
    check: Some(check),
    doc: include_str!("../../rules/canary-large-weight-jump.md"),
};

/// The largest jump, in weight points, that is not reported.
const MAX_JUMP: i64 = 50;

fn check(cx: &mut Cx<'_>) {
    let Some(canary) = cx.obj.get(&["spec", "strategy", "canary"]) else { return };
    let mut previous = 0;
    for (node, weight) in super::analysis::weight_steps(canary) {
        if weight - previous > MAX_JUMP {
            cx.report(node, format!("the weight jumps from {previous}% to {weight}% in one step"))
                .help(format!("add intermediate steps (no more than {MAX_JUMP} points each) with a pause or an analysis, so a bad version meets less traffic"));
        }
        previous = weight;
    }
}
