use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, Rule};

pub const RULE: Rule = Rule {
    id: "missing-anti-affinity",
    severity: Severity::Info,
    summary: "a Rollout with several replicas and no `antiAffinity` in its strategy",
    kinds: &["Rollout"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/missing-anti-affinity.md"),
};

fn check(cx: &mut Cx<'_>) {
    let Some(spec) = cx.obj.spec() else { return };
    let Some(replicas) = spec.get("replicas").filter(|r| r.as_i64().is_some_and(|n| n > 1)) else { return };
    let Some(strategy) = spec.get("strategy") else { return };
    let strategy = strategy.get_set("canary").or_else(|| strategy.get_set("blueGreen"));
    if strategy.is_none_or(|s| s.get_set("antiAffinity").is_some()) {
        return;
    }
    cx.report(replicas, "several replicas, but the strategy sets no `antiAffinity`: old and new pods may share a node")
        .help("add `antiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: {weight: 1}}` to the strategy so a node failure cannot take out both versions");
}
