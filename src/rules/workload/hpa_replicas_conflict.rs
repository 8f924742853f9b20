use crate::diagnostic::Severity;
use crate::index::Object;
use crate::rules::{Check, IndexCx, Rule};
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "hpa-replicas-conflict",
    severity: Severity::Warning,
    summary: "a Rollout or Deployment scaled by an HPA or KEDA also sets `spec.replicas`, which every apply resets",
    kinds: &["Rollout", "Deployment"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/hpa-replicas-conflict.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    let Some(replicas) = obj.get(&["spec", "replicas"]).filter(|r| !r.is_null()) else { return };
    let Some(scaler) = index.referrers_of(obj).map(|(o, _)| o).find(|o| {
        matches!(o.kind.as_str(), "HorizontalPodAutoscaler" | "ScaledObject")
            && super::hpa_target_mismatch::scaled(index, o).is_some_and(|t| t.id == obj.id)
    }) else {
        return;
    };
    // Scaling the Deployment behind a Rollout's `workloadRef` is `hpa-target-mismatch`'s finding.
    if obj.kind == "Deployment" && index.referrers_of(obj).any(|(o, r)| o.kind == "Rollout" && r.role == "workloadRef")
    {
        return;
    }
    let group = if obj.kind == "Rollout" { "argoproj.io" } else { "apps" };
    let mut ignored_by = None;
    for app in index.objects.iter().filter(|o| matches!(o.kind.as_str(), "Application" | "ApplicationSet")) {
        let spec = if app.kind == "ApplicationSet" { app.get(&["spec", "template", "spec"]) } else { app.spec() };
        let Some(spec) = spec else { continue };
        if ignores_replicas(spec, group, obj) {
            ignored_by = Some((app, respects_ignored(spec)));
            if respects_ignored(spec) {
                break;
            }
        }
    }
    let scaler_at = scaler.get(&["spec", "scaleTargetRef"]).map_or(scaler.name_node().span(), |n| n.span());
    match ignored_by {
        Some((_, true)) => {}
        Some((app, false)) => {
            cx.report(replicas, format!("{} scales this {}, and {} ignores the `replicas` difference but still applies it on every sync", scaler.label(), obj.kind, app.label()))
                .label("reset to this count on each sync")
                .help("add `RespectIgnoreDifferences=true` to the Application's `syncPolicy.syncOptions` (Argo CD applies ignored fields otherwise), or remove `replicas`")
                .related(scaler.file, scaler_at, "the autoscaler")
                .related(app.file, app.name_node().span(), "the Application");
        }
        None => {
            cx.report(replicas, format!("{} scales this {}, which also sets `replicas`: every `kubectl apply` and every Argo CD sync resets the count the autoscaler chose", scaler.label(), obj.kind))
                .label("overrides the autoscaler")
                .help("remove `spec.replicas` (the autoscaler sets it), or have the Argo CD Application ignore `/spec/replicas` with `RespectIgnoreDifferences=true`")
                .related(scaler.file, scaler_at, "the autoscaler");
        }
    }
}

/// Whether an Application's `ignoreDifferences` covers `/spec/replicas` of `obj`: by JSON
/// pointer, jq path, or the managers that write it (the HPA controller in
/// kube-controller-manager, KEDA's operator).
fn ignores_replicas(spec: NodeRef<'_>, group: &str, obj: &Object) -> bool {
    let matches = |value: Option<&str>, want: &str| value.is_none_or(|v| v.is_empty() || v == "*" || v == want);
    spec.get("ignoreDifferences").into_iter().flat_map(|l| l.items()).any(|entry| {
        let kind_ok = entry.get_str("kind").is_some_and(|k| k == "*" || k == obj.kind.as_str());
        let lists = |key: &str| entry.get(key).into_iter().flat_map(|l| l.items()).filter_map(|i| i.as_str());
        kind_ok
            && matches(entry.get_str("group"), group)
            && matches(entry.get_str("name"), &obj.name)
            && matches(entry.get_str("namespace"), obj.namespace.as_deref().unwrap_or_default())
            && (lists("jsonPointers").any(|p| p == "/spec/replicas")
                || lists("jqPathExpressions").any(|p| p.trim() == ".spec.replicas")
                || lists("managedFieldsManagers").any(|m| m == "kube-controller-manager" || m.starts_with("keda")))
    })
}

/// `RespectIgnoreDifferences=true`: Argo CD then leaves ignored fields alone when it syncs.
fn respects_ignored(spec: NodeRef<'_>) -> bool {
    spec.path(&["syncPolicy", "syncOptions"])
        .into_iter()
        .flat_map(|l| l.items())
        .filter_map(|o| o.as_str())
        .any(|o| o.replace(' ', "") == "RespectIgnoreDifferences=true")
}
