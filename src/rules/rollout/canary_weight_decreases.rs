use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "canary-weight-decreases",
    severity: Severity::Warning,
    summary: "a `setWeight` lower than an earlier one moves traffic back to the old version",
    kinds: &["Rollout"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/canary-weight-decreases.md"),
};

fn check(cx: &mut Cx<'_>) {
    let Some(canary) = cx.obj.get(&["spec", "strategy", "canary"]) else { return };
    let file = cx.obj.file;
    let mut highest: Option<(crate::yaml::NodeRef<'_>, i64)> = None;
    for (node, weight) in crate::rules::analysis::read::weight_steps(canary) {
        match highest {
            Some((prev, max)) if weight < max => {
                cx.report(node, format!("`setWeight: {weight}` is lower than the earlier `setWeight: {max}`: traffic moves back to the stable version"))
                    .help("keep weights non-decreasing; to roll back, abort the rollout instead")
                    .related(file, prev.span(), "earlier, higher weight");
            }
            Some((_, max)) if weight <= max => {}
            _ => highest = Some((node, weight)),
        }
    }
}
