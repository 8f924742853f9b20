use crate::diagnostic::Severity;
use crate::rules::{Check, IndexCx, Rule};

pub const RULE: Rule = Rule {
    id: "workload-ref-not-scaled-down",
    severity: Severity::Warning,
    summary: "the Deployment behind `workloadRef` still runs pods and the Rollout does not scale it down",
    kinds: &["Rollout"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/workload-ref-not-scaled-down.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    let Some(workload_ref) = obj.get(&["spec", "workloadRef"]) else { return };
    if workload_ref.get_set("scaleDown").is_some() {
        return;
    }
    let Some(r) = index.references_of(obj).iter().find(|r| r.role == "workloadRef" && r.kind == "Deployment") else {
        return;
    };
    let Some(deployment) = index.resolve(obj, r).filter(|d| !d.external) else { return };
    let replicas = deployment.get(&["spec", "replicas"]);
    let count = replicas.and_then(|r| r.as_i64());
    if count == Some(0) || (replicas.is_some() && count.is_none()) {
        return;
    }
    let shown = count.map_or("unset, so 1".to_string(), |n| n.to_string());
    let related_span = replicas.map_or(deployment.name_node().span(), |r| r.span());
    cx.report(obj.doc.node(r.at), format!("Deployment `{}` still runs pods (replicas: {shown}) and this Rollout does not scale it down: both run the app", deployment.name))
        .help("set `workloadRef.scaleDown: progressively` (or `onsuccess`), or set the Deployment's `replicas: 0`")
        .related(deployment.file, related_span, "Deployment replicas");
}
