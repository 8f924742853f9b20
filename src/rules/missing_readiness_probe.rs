use super::{Check, Cx, Rule};
use crate::diagnostic::Severity;

pub const RULE: Rule = Rule {
    id: "missing-readiness-probe",
    severity: Severity::Warning,
    summary: "a Rollout container without a readiness probe",
    kinds: &["Rollout"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../rules/missing-readiness-probe.md"),
};

fn check(cx: &mut Cx<'_>) {
    let Some(containers) = cx.obj.get(&["spec", "template", "spec", "containers"]) else { return };
    for container in containers.items() {
        if container.get_set("readinessProbe").is_some() {
            continue;
        }
        let name = container.get_str("name").unwrap_or("?");
        let at = container.get("name").unwrap_or(container);
        cx.report(at, format!("container `{name}` has no readiness probe"))
            .help("add a `readinessProbe`: without one a pod counts as ready as soon as it starts, so the canary takes traffic (and the rollout moves on) before the app can serve");
    }
}
