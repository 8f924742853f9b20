use crate::diagnostic::Severity;
use crate::rules::{Check, IndexCx, Rule};
use crate::selector::Selector;

pub const RULE: Rule = Rule {
    id: "workload-conflict",
    severity: Severity::Error,
    summary: "another Deployment, ReplicaSet, StatefulSet or Rollout selects this Rollout's pods",
    kinds: &["Deployment", "ReplicaSet", "StatefulSet", "Rollout"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/workload-conflict.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    let Some(selector_node) = obj.get(&["spec", "selector"]).filter(|s| s.is_map()) else { return };
    let mut errors = Vec::new();
    let selector = Selector::parse(selector_node, &mut errors);
    if !errors.is_empty() || selector.is_empty() {
        return;
    }
    for template in index.templates_matching(obj, obj.namespace.as_deref(), &selector) {
        let owner = index.object(template.owner);
        // The same object defined twice (two versions of one manifest) is not a second controller.
        let same_object = owner.kind == obj.kind && owner.name == obj.name && owner.namespace == obj.namespace;
        if owner.id == obj.id || owner.kind != "Rollout" || same_object {
            continue;
        }
        // The Deployment a Rollout takes over through `workloadRef` is meant to share its pods.
        let adopted = index
            .references_of(owner)
            .iter()
            .any(|r| r.role == "workloadRef" && index.resolve(owner, r).is_some_and(|t| t.id == obj.id));
        if adopted {
            continue;
        }
        let at = obj.root().path(&["spec"]).and_then(|s| s.entry("selector")).map_or(selector_node, |(k, _)| k);
        cx.report(at, format!("this {} selector also selects the pods of {}: two controllers fight over the same pods", obj.kind, owner.label()))
            .help("give the workloads disjoint labels, delete the old workload, or let the Rollout adopt it with `workloadRef`")
            .related(owner.file, template.labels_span, format!("pod labels of {}", owner.label()));
    }
}
