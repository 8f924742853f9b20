use crate::diagnostic::Severity;
use crate::rules::{Check, IndexCx, Rule};
use crate::selector::{Selector, label_value};

pub const RULE: Rule = Rule {
    id: "service-selects-no-pods",
    severity: Severity::Error,
    summary: "a Service that a Rollout or Ingress uses selects no pods, or not the Rollout's pods",
    kinds: &["Service", "Rollout"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/service-selects-no-pods.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    if cx.obj.kind == "Service" { check_service(cx) } else { check_rollout(cx) }
}

/// A used Service whose selector matches no pod template at all: no endpoints.
fn check_service(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    let Some((node, selector)) = Selector::of_service(obj.root()) else { return };
    if selector.is_empty() {
        return;
    }
    let users: Vec<_> =
        index.referrers_of(obj).filter(|(o, _)| matches!(o.kind.as_str(), "Rollout" | "Ingress")).collect();
    let Some(&(user, reference)) = users.first() else { return };
    if index.templates_matching(obj, cx.namespace(), &selector).next().is_some() {
        return;
    }
    let wanted: Vec<String> = selector.match_labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let d = cx.report(
        node,
        format!(
            "Service `{}` selects no pods: no pod template in the linted files has the labels {}",
            obj.name,
            wanted.join(", ")
        ),
    );
    d.label("this selector matches nothing")
        .help("make the selector a subset of the pod template labels of the workload it should serve; without endpoints the Service (and any Ingress in front of it) answers 503")
        .related(user.file, user.doc.node(reference.at).span(), format!("used by {} as {}", user.label(), reference.role));
    // Show the labels of the pods it was most likely meant for.
    let closest = if user.kind == "Rollout" { index.template_of(user) } else { None }.or_else(|| {
        index
            .templates_in(obj, obj.namespace.as_deref())
            .max_by_key(|t| selector.match_labels.iter().filter(|(k, v)| label_value(&t.labels, k) == Some(v)).count())
    });
    if let Some(t) = closest {
        let owner = index.object(t.owner);
        d.related(owner.file, t.labels_span, format!("pod labels of {}", owner.label()));
    }
}

/// A Service the Rollout names in a role whose selector misses the Rollout's pod labels. The
/// controller refuses it (`Service "x" has unmatch label "k" in rollout`).
fn check_rollout(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    let Some(template) = index.template_of(obj) else { return };
    for r in index.references_of(obj).iter().filter(|r| r.kind == "Service" && r.role != "rootService") {
        let Some(service) = index.resolve(obj, r).filter(|s| !s.external) else { continue };
        let Some((node, selector)) = Selector::of_service(service.root()) else { continue };
        // A Service that matches nothing at all is reported on the Service itself.
        if index.templates_matching(service, service.namespace.as_deref(), &selector).next().is_none() {
            continue;
        }
        let Some(why) = selector.first_mismatch(&template.labels) else { continue };
        let (sfile, sspan, tspan) = (service.file, node.span(), template.labels_span);
        cx.report(obj.doc.node(r.at), format!("{} `{}` does not select this Rollout's pods: {why}", r.role, service.name))
            .label("the controller rejects this Service")
            .help("make the Service selector a subset of `spec.template.metadata.labels`; the controller adds `rollouts-pod-template-hash` itself")
            .related(sfile, sspan, "Service selector")
            .related(obj.file, tspan, "Rollout pod labels");
    }
}
