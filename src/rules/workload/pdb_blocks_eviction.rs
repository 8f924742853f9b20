use crate::diagnostic::Severity;
use crate::index::{Index, Object};
use crate::rules::{Check, IndexCx, Rule};
use crate::selector::Selector;
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "pdb-blocks-eviction",
    severity: Severity::Warning,
    summary: "a PodDisruptionBudget that lets no pod of a Rollout or Deployment be evicted, or selects no pods",
    kinds: &["PodDisruptionBudget"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/pdb-blocks-eviction.md"),
};

/// A percentage (`50%`) or a count.
enum Amount {
    Count(i64),
    Percent(i64),
}

fn amount(node: NodeRef<'_>) -> Option<Amount> {
    if let Some(n) = node.as_i64() {
        return Some(Amount::Count(n));
    }
    let p = node.as_str()?.strip_suffix('%')?.parse().ok()?;
    Some(Amount::Percent(p))
}

fn check(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    let namespace = obj.namespace.as_deref();
    let Some(spec) = obj.spec() else { return };
    let Some(selector_node) = spec.get("selector").filter(|s| !s.is_null()) else {
        let at = obj.root().entry("spec").map_or(obj.name_node(), |(k, _)| k);
        cx.report(at, "this PodDisruptionBudget has no `selector`, so it selects no pods and protects nothing")
            .help("select the pods of the workload it protects: `selector: {matchLabels: ...}` with the pod template's labels");
        return;
    };
    if !selector_node.is_map() {
        return;
    }
    let mut errors = Vec::new();
    let selector = Selector::parse(selector_node, &mut errors);
    if !errors.is_empty() || selector_has_placeholders(selector_node) {
        return;
    }
    let matched: Vec<_> = index.templates_matching(obj, namespace, &selector).collect();
    if matched.is_empty() {
        // Silent when the namespace's workloads are not in the files.
        if let Some(t) = index.templates_in(obj, namespace).next() {
            let owner = index.object(t.owner);
            let d = cx.report(selector_node, format!("PodDisruptionBudget `{}` selects no pods: no pod template in the linted files of its namespace has these labels", obj.name));
            d.help("make the selector match the pod template labels of the workload it protects");
            d.related(owner.file, t.labels_span, format!("pod labels of {}", owner.label()));
        }
        return;
    }
    let blocking = match (spec.get_set("minAvailable"), spec.get_set("maxUnavailable")) {
        (_, Some(max)) => match amount(max) {
            Some(Amount::Count(0) | Amount::Percent(0)) => Some((max, None)),
            _ => None,
        },
        (Some(min), None) => amount(min).map(|a| (min, Some(a))),
        (None, None) => None,
    };
    let Some((at, min_available)) = blocking else { return };
    // The pods the budget covers, by the workloads that run them.
    let mut workloads: Vec<&Object> = Vec::new();
    for t in &matched {
        let owner = index.object(t.owner);
        let owner = rollout_of(index, owner).unwrap_or(owner);
        match owner.kind.as_str() {
            "Rollout" | "Deployment" | "StatefulSet" | "ReplicaSet" => {
                if !workloads.iter().any(|w| w.id == owner.id) {
                    workloads.push(owner);
                }
            }
            // Drains skip DaemonSet pods; other owners' pod counts are not known here.
            "DaemonSet" => {}
            _ => return,
        }
    }
    let Some(first) = workloads.first().copied() else { return };
    let names = workloads.iter().map(|w| w.label()).collect::<Vec<_>>().join(", ");
    let Some(min_available) = min_available else {
        // Workloads scaled to zero have no pods to evict.
        let scaled_to_zero =
            |w: &&Object| !autoscaled(index, w) && w.get(&["spec", "replicas"]).and_then(|r| r.as_i64()) == Some(0);
        if workloads.iter().all(scaled_to_zero) {
            return;
        }
        cx.report(at, format!("`maxUnavailable: {}` lets no pod of {names} be evicted: node drains and cluster upgrades block until someone deletes the budget", at.display()))
            .help("allow at least one disruption (`maxUnavailable: 1`), and run enough replicas to stay available while one pod moves")
            .related(first.file, first.name_node().span(), "selected pods");
        return;
    };
    let mut total: i64 = 0;
    for w in &workloads {
        if autoscaled(index, w) {
            return;
        }
        match w.get(&["spec", "replicas"]).filter(|r| !r.is_null()) {
            None => total = total.saturating_add(1),
            Some(r) => match r.as_i64() {
                Some(n) if n >= 0 => total = total.saturating_add(n),
                _ => return,
            },
        }
    }
    if total == 0 {
        return;
    }
    let required = match min_available {
        Amount::Count(n) => n,
        // The disruption controller rounds a percentage of pods up.
        Amount::Percent(p) => p.saturating_mul(total).saturating_add(99) / 100,
    };
    if required < total {
        return;
    }
    let pods = if total == 1 { "1 pod".to_string() } else { format!("{total} pods") };
    let run = if workloads.len() == 1 { "runs" } else { "run" };
    let d = cx.report(at, format!("`minAvailable: {}` keeps {required} of {pods} available, and {names} {run} no more: no pod can be evicted, so node drains and cluster upgrades block", at.display()));
    d.help("lower `minAvailable` below the replicas (or use `maxUnavailable: 1`), or run more replicas");
    for w in &workloads {
        let span = w.get(&["spec", "replicas"]).map_or(w.name_node().span(), |r| r.span());
        d.related(w.file, span, format!("replicas of {}", w.label()));
    }
}

/// The Rollout that runs a Deployment's pods through `workloadRef`.
fn rollout_of<'a>(index: &'a Index, owner: &'a Object) -> Option<&'a Object> {
    if owner.kind != "Deployment" {
        return None;
    }
    index.referrers_of(owner).find(|(o, r)| o.kind == "Rollout" && r.role == "workloadRef").map(|(o, _)| o)
}

/// Whether an HPA or ScaledObject sets the workload's replicas (then the count is not known).
fn autoscaled(index: &Index, w: &Object) -> bool {
    index.referrers_of(w).any(|(o, r)| r.role == "scaleTargetRef" && o.kind != "Rollout")
}

fn selector_has_placeholders(node: NodeRef<'_>) -> bool {
    node.path(&["matchLabels"])
        .into_iter()
        .flat_map(|m| m.entries())
        .any(|(_, v)| v.text().is_some_and(|t| t.contains("{{") || t.contains("${")))
}
