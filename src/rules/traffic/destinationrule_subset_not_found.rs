use crate::diagnostic::{Severity, did_you_mean};
use crate::rules::traffic::routers::{Routers, canary};
use crate::rules::{Check, IndexCx, Rule};

pub const RULE: Rule = Rule {
    id: "destinationrule-subset-not-found",
    severity: Severity::Error,
    summary: "the DestinationRule lacks the canary or stable subset the Rollout names (the controller ignores it; traffic never shifts)",
    kinds: &["Rollout"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/destinationrule-subset-not-found.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    let Some(canary) = canary(cx.obj.spec()) else { return };
    let Some(dr_ref) = Routers::of(canary).istio.and_then(|i| i.get_set("destinationRule")) else { return };
    let Some(name) = dr_ref.get_str("name") else { return };
    let (index, obj) = (cx.index, cx.obj);
    let Some(dr) = index.get_near(obj, "DestinationRule", obj.namespace.as_deref(), name).filter(|d| !d.external)
    else {
        return;
    };
    let subsets: Vec<&str> =
        dr.get(&["spec", "subsets"]).into_iter().flat_map(|s| s.items()).filter_map(|s| s.get_str("name")).collect();
    for field in ["canarySubsetName", "stableSubsetName"] {
        let Some(node) = dr_ref.get(field) else { continue };
        let Some(subset) = node.as_str() else { continue };
        if subsets.contains(&subset) {
            continue;
        }
        let close = did_you_mean(subset, subsets.iter().copied());
        let d = cx.report(node, format!("DestinationRule `{name}` has no subset `{subset}`: the controller silently skips it, so the {} pods never get their share of traffic", if field.starts_with("canary") { "canary" } else { "stable" }));
        match close {
            Some(c) => d.suggest(c).help(format!("did you mean `{c}`?")),
            None => d.help(format!(
                "add a subset named `{subset}` to the DestinationRule (its labels are managed by the controller)"
            )),
        }
        .related(
            dr.file,
            dr.get(&["spec", "subsets"]).map_or(dr.name_node().span(), |s| s.span()),
            if subsets.is_empty() {
                "the DestinationRule has no subsets".to_string()
            } else {
                format!("its subsets: {}", subsets.join(", "))
            },
        );
    }
}
