use crate::diagnostic::Severity;
use crate::rules::{Check, IndexCx, Rule};
use crate::selector::{Selector, labels_of};

pub const RULE: Rule = Rule {
    id: "rollout-selector-mismatch",
    severity: Severity::Error,
    summary: "a Rollout's `spec.selector` is missing, empty, invalid, or does not match its pod template labels",
    kinds: &["Rollout"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/rollout-selector-mismatch.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    let Some(spec) = cx.obj.spec() else { return };
    let file = cx.obj.file;
    let workload_ref = spec.get_set("workloadRef");
    let Some((selector_key, selector)) = spec.entry("selector").filter(|(_, v)| !v.is_null()) else {
        if workload_ref.is_none() {
            let at = cx.obj.root().entry("spec").map_or(spec, |(k, _)| k);
            cx.report(at, "Rollout has no `spec.selector`")
                .label("selector missing in this spec")
                .help("add `selector: {matchLabels: {...}}` with the labels of `spec.template.metadata.labels`");
        }
        return;
    };
    let mut errors = Vec::new();
    let parsed = Selector::parse(selector, &mut errors);
    let invalid = !errors.is_empty();
    for e in errors {
        cx.report(e.at, format!("invalid label selector: {}", e.message))
            .help("fix the selector; the controller rejects the Rollout with \"invalid label selector\"");
    }
    if invalid {
        return;
    }
    if parsed.is_empty() {
        cx.report(
            selector_key,
            "Rollout selector is empty; the controller rejects it (\"empty selector is invalid for deployment\")",
        )
        .help("select the pods by their labels: `selector: {matchLabels: {app: <name>}}`");
        return;
    }
    // The labels the pods get: the Rollout's own template, or the referenced workload's.
    let own_labels = spec.path(&["template", "metadata", "labels"]);
    let (labels, labels_span, labels_file, whose) = match (own_labels, workload_ref, cx.index.template_of(cx.obj)) {
        (Some(l), _, _) => (labels_of(Some(l)), l.span(), file, "the pod template".to_string()),
        (None, Some(_), Some(t)) => {
            let owner = cx.index.object(t.owner);
            (t.labels.clone(), t.labels_span, owner.file, format!("the pod template of {}", owner.label()))
        }
        (None, Some(_), None) => return,
        (None, None, _) => {
            (Vec::new(), spec.get("template").unwrap_or(spec).span(), file, "the pod template".to_string())
        }
    };
    if let Some(why) = parsed.first_mismatch(&labels) {
        cx.report(selector_key, format!("`spec.selector` does not match the labels of {whose}: {why}"))
            .label("this selector")
            .help("make `spec.selector.matchLabels` a subset of `spec.template.metadata.labels`; the controller rejects the Rollout otherwise")
            .related(labels_file, labels_span, "pod template labels");
    }
}
