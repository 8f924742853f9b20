use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, IndexCx, Rule};
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "service-role-conflict",
    severity: Severity::Error,
    summary: "one Service in two roles: `canaryService` = `stableService`, `activeService` = `previewService`, ping = pong",
    kinds: &["Rollout"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/service-role-conflict.md"),
};

/// The annotation the controller puts on the Services it manages.
const MANAGED_BY: &str = "argo-rollouts.argoproj.io/managed-by-rollouts";

fn check(cx: &mut IndexCx<'_>) {
    managed_by_another(cx);
    let Some(strategy) = cx.obj.get(&["spec", "strategy"]) else { return };
    if let Some(canary) = strategy.get_set("canary") {
        pair(cx, canary, "stableService", "canaryService", "stable and canary");
        if let Some(pp) = canary.get_set("pingPong") {
            pair(cx, pp, "pingService", "pongService", "ping and pong");
        }
    }
    if let Some(bg) = strategy.get_set("blueGreen") {
        let active = bg.get_str("activeService").unwrap_or_default();
        let preview = bg.get_str("previewService").unwrap_or_default();
        if active.is_empty() && preview.is_empty() {
            let at = strategy.entry("blueGreen").map_or(bg, |(k, _)| k);
            cx.report(at, "blueGreen has no `activeService`; the controller rejects it (active and preview are both empty, so \"the same service\")")
                .help("set `activeService` to the Service that receives production traffic");
        } else {
            pair(cx, bg, "activeService", "previewService", "active and preview");
        }
    }
}

fn pair(cx: &mut Cx<'_>, parent: NodeRef<'_>, first: &str, second: &str, roles: &str) {
    let (Some(a), Some((b_key, b))) = (parent.get(first), parent.entry(second)) else { return };
    let (Some(x), Some(y)) = (a.as_str(), b.as_str()) else { return };
    if x.is_empty() || x != y {
        return;
    }
    let (file, first_span) = (cx.obj.file, a.span());
    cx.report(b, format!("`{second}` and `{first}` are the same Service `{x}`; the {roles} roles need two different Services"))
        .label(format!("{} is also {first}", b_key.display()))
        .help(format!("create a second Service with the same selector and name it in `{second}`; the controller points each one at a different ReplicaSet"))
        .related(file, first_span, format!("{first} is `{x}` here"));
}

/// A Service another Rollout already manages (its `managed-by-rollouts` annotation names
/// that Rollout) cannot be used by this one.
fn managed_by_another(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    for r in index.references_of(obj).iter().filter(|r| r.kind == "Service" && r.role != "rootService") {
        let Some(service) = index.resolve(obj, r) else { continue };
        let Some(owner) = service.get(&["metadata", "annotations", MANAGED_BY]).and_then(|a| a.as_str()) else {
            continue;
        };
        if owner != obj.name {
            let at = obj.doc.node(r.at);
            cx.report(
                at,
                format!(
                    "Service `{}` is managed by another Rollout (`{owner}`): the controller rejects this one",
                    service.name
                ),
            )
            .help("give each Rollout its own Services")
            .related(
                service.file,
                service.get(&["metadata", "annotations", MANAGED_BY]).map_or(service.name_node().span(), |a| a.span()),
                "the managed-by annotation",
            );
        }
    }
}
