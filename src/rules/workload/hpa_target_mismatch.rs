use crate::diagnostic::{Severity, did_you_mean};
use crate::index::{Index, Object};
use crate::rules::{Check, IndexCx, Rule};
use crate::selector::Selector;

pub const RULE: Rule = Rule {
    id: "hpa-target-mismatch",
    severity: Severity::Error,
    summary: "an HPA or KEDA ScaledObject scales the Deployment a Rollout owns or replaced, a Rollout under the wrong API group, or nothing in the files",
    kinds: &["HorizontalPodAutoscaler", "ScaledObject"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/hpa-target-mismatch.md"),
};

/// The API group each workload kind an autoscaler can name is served under.
const GROUPS: &[(&str, &str)] =
    &[("Rollout", "argoproj.io"), ("Deployment", "apps"), ("StatefulSet", "apps"), ("ReplicaSet", "apps")];

/// The group of an `apiVersion` (`apps/v1` → `apps`; `v1` → the core group).
fn group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// What an autoscaler scales: `scaleTargetRef` with KEDA's defaults (`kind: Deployment`,
/// `apiVersion: apps/v1`).
pub struct Target<'a> {
    pub api_version: Option<&'a str>,
    pub kind: &'a str,
    pub name: &'a str,
}

pub fn target_of(obj: &Object) -> Option<Target<'_>> {
    let r = obj.get(&["spec", "scaleTargetRef"])?;
    let keda = obj.kind == "ScaledObject";
    let kind = r.get_str("kind").or(keda.then_some("Deployment"))?;
    // KEDA defaults `apiVersion` to `apps/v1` whatever the kind.
    let api_version = r.get_str("apiVersion").or(keda.then_some("apps/v1"));
    Some(Target { api_version, kind, name: r.get_str("name")? })
}

/// The workload an autoscaler scales, when it is a kind it can name and the files define it.
pub fn scaled<'a>(index: &'a Index, obj: &Object) -> Option<&'a Object> {
    let target = target_of(obj)?;
    let wanted = GROUPS.iter().find(|(k, _)| *k == target.kind)?.1;
    if target.api_version.is_some_and(|v| group(v) != wanted) {
        return None;
    }
    index.get_near(obj, target.kind, obj.namespace.as_deref(), target.name)
}

fn check(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    let Some(r) = obj.get(&["spec", "scaleTargetRef"]) else { return };
    let Some(target) = target_of(obj) else { return };
    if target.name.is_empty() || target.name.contains("{{") || target.name.contains("${") {
        return;
    }
    let Some(&(_, wanted)) = GROUPS.iter().find(|(k, _)| *k == target.kind) else { return };
    let name_node = r.get("name").unwrap_or(r);
    let namespace = obj.namespace.as_deref();
    if let Some(api_version) = target.api_version
        && group(api_version) != wanted
    {
        let want = if wanted == "argoproj.io" { "argoproj.io/v1alpha1" } else { "apps/v1" };
        let (at, given) = match r.get("apiVersion") {
            Some(node) => (node, format!("`{api_version}`")),
            None => (
                r.entry("kind").map_or(r, |(_, v)| v),
                format!("`{api_version}` (KEDA's default when `apiVersion` is unset)"),
            ),
        };
        cx.report(
            at,
            format!(
                "{} is served under `{want}`, not {given}: the autoscaler cannot find its scale subresource",
                target.kind
            ),
        )
        .help(format!("set `apiVersion: {want}` in `scaleTargetRef`"));
        return;
    }
    let Some(workload) = index.get_near(obj, target.kind, namespace, target.name) else {
        // Defined only where it is not applied with the autoscaler: as `unresolved-reference`.
        if index.all(target.kind, namespace, target.name).next().is_some() {
            return;
        }
        let names: Vec<&str> = index.of_kind(obj, target.kind, namespace).map(|o| o.name.as_str()).collect();
        let where_ = namespace.map(|ns| format!(" in namespace `{ns}`")).unwrap_or_default();
        let d = cx.report(name_node, format!("{} `{}` not found{where_}", target.kind, target.name));
        d.label(format!("the {} scales nothing the linted files define", obj.kind));
        match did_you_mean(target.name, names.iter().copied()) {
            Some(s) => {
                let t = index.get_near(obj, target.kind, namespace, s).expect("suggested from the index");
                if name_node.text() == Some(target.name) {
                    d.suggest(s);
                }
                d.help(format!("did you mean `{s}`?")).related(
                    t.file,
                    t.name_node().span(),
                    format!("{} `{s}` is defined here", target.kind),
                );
            }
            None => {
                d.help(format!(
                    "define the {} `{}`{where_}, fix the name, or lint it together with the files that define it",
                    target.kind, target.name
                ));
            }
        }
        return;
    };
    if workload.kind != "Deployment" || workload.external {
        return;
    }
    // The Deployment a Rollout runs through `workloadRef`: the Rollout owns the pods.
    if let Some((rollout, reference)) =
        index.referrers_of(workload).find(|(o, r)| o.kind == "Rollout" && r.role == "workloadRef")
    {
        cx.report(name_node, format!("Deployment `{}` is the `workloadRef` of {}: the Rollout runs the pods, so scaling the Deployment changes nothing the Rollout serves", workload.name, rollout.label()))
            .label("scale the Rollout instead")
            .help(format!("set `scaleTargetRef: {{apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: {}}}`", rollout.name))
            .related(rollout.file, rollout.doc.node(reference.at).span(), "the Rollout takes this Deployment's template");
        return;
    }
    // A Deployment left beside the Rollout that replaced it, with the same pods.
    let Some(template) = index.template_of(workload) else { return };
    for rollout in index.of_kind(obj, "Rollout", namespace) {
        let Some(selector_node) = rollout.get(&["spec", "selector"]).filter(|s| s.is_map()) else { continue };
        let mut errors = Vec::new();
        let selector = Selector::parse(selector_node, &mut errors);
        if !errors.is_empty() || selector.is_empty() || !selector.matches(&template.labels) {
            continue;
        }
        cx.report(name_node, format!("Deployment `{}` runs the same pods as {}: the autoscaler scales the Deployment the Rollout replaced, not the Rollout", workload.name, rollout.label()))
            .label("scale the Rollout instead")
            .help(format!("point `scaleTargetRef` at `kind: Rollout, name: {}` (`apiVersion: argoproj.io/v1alpha1`), and remove the old Deployment or scale it to 0", rollout.name))
            .related(rollout.file, selector_node.span(), format!("{} selects the Deployment's pods", rollout.label()))
            .related(workload.file, template.labels_span, format!("pod labels of {}", workload.label()));
        return;
    }
}
