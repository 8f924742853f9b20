use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, IndexCx, Rule};

pub const RULE: Rule = Rule {
    id: "missing-readiness-probe",
    severity: Severity::Warning,
    summary: "a Rollout container without a readiness probe",
    kinds: &["Rollout"],
    check: Some(Check::Both(check, check_workload_ref)),
    options: &[],
    doc: include_str!("../../../rules/missing-readiness-probe.md"),
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

/// A Rollout with `workloadRef` runs the referenced Deployment's containers.
fn check_workload_ref(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    if obj.get(&["spec", "template"]).is_some() {
        return;
    }
    let Some(r) = index.references_of(obj).iter().find(|r| r.role == "workloadRef") else { return };
    let Some(workload) = index.resolve(obj, r).filter(|w| !w.external) else { return };
    let Some(template) = index.template_of(workload) else { return };
    let containers = workload.doc.node(template.node).path(&["spec", "containers"]);
    for container in containers.into_iter().flat_map(|c| c.items()) {
        if container.get_set("readinessProbe").is_some() {
            continue;
        }
        let name = container.get_str("name").unwrap_or("?");
        let at = container.get("name").unwrap_or(container);
        cx.report(obj.doc.node(r.at), format!("container `{name}` of {} (this Rollout's `workloadRef`) has no readiness probe", workload.label()))
            .help("add a `readinessProbe` to the Deployment's container: without one a pod counts as ready as soon as it starts, so the canary takes traffic (and the rollout moves on) before the app can serve")
            .related(workload.file, at.span(), "container without a readiness probe");
    }
}
