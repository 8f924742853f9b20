use crate::diagnostic::Severity;
use crate::rules::traffic::routers::{Routers, canary, non_empty};
use crate::rules::{Check, IndexCx, Rule};
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "stable-ingress-no-stable-backend",
    severity: Severity::Error,
    summary: "the stable Ingress has no rule that sends traffic to `stableService` (ALB: `rootService`)",
    kinds: &["Rollout"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/stable-ingress-no-stable-backend.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    let Some(canary) = canary(cx.obj.spec()) else { return };
    let r = Routers::of(canary);
    let stable = non_empty(canary, "stableService");
    if let Some(nginx) = r.nginx
        && let Some(stable) = stable
    {
        for at in ingress_names(nginx, "stableIngress", "stableIngresses") {
            ingress_routes_to(cx, at, stable, "stableService");
        }
    }
    if let Some(alb) = r.alb {
        let (service, role) = match non_empty(alb, "rootService") {
            Some(root) => (Some(root), "alb.rootService"),
            None => (stable, "stableService"),
        };
        if let Some(service) = service {
            for at in ingress_names(alb, "ingress", "ingresses") {
                ingress_routes_to(cx, at, service, role);
            }
        }
    }
}

fn ingress_names<'a>(router: NodeRef<'a>, one: &str, many: &str) -> Vec<NodeRef<'a>> {
    router
        .get_set(one)
        .into_iter()
        .chain(router.get(many).into_iter().flat_map(|l| l.items()))
        .filter(|n| n.as_str().is_some())
        .collect()
}

/// `utils/ingress#HasRuleWithService`: some `rules[].http.paths[].backend` names the Service
/// (`service.name`, or the legacy `serviceName`); `defaultBackend` does not count.
fn ingress_routes_to(cx: &mut IndexCx<'_>, at: NodeRef<'_>, service: &str, role: &str) {
    let (index, obj) = (cx.index, cx.obj);
    let Some(name) = at.as_str() else { return };
    let Some(ingress) = index.get_near(obj, "Ingress", obj.namespace.as_deref(), name).filter(|i| !i.external) else {
        return;
    };
    let backends: Vec<&str> = ingress
        .get(&["spec", "rules"])
        .into_iter()
        .flat_map(|r| r.items())
        .flat_map(|rule| rule.path(&["http", "paths"]).into_iter().flat_map(|p| p.items()))
        .filter_map(|p| p.path(&["backend", "service", "name"]).or_else(|| p.path(&["backend", "serviceName"])))
        .filter_map(|n| n.as_str())
        .collect();
    if backends.contains(&service) {
        return;
    }
    let listed = if backends.is_empty() {
        "no Service at all".to_string()
    } else {
        backends.iter().map(|b| format!("`{b}`")).collect::<Vec<_>>().join(", ")
    };
    let rules_span = ingress.get(&["spec", "rules"]).map_or(ingress.name_node().span(), |r| r.span());
    cx.report(at, format!("Ingress `{name}` has no rule that sends traffic to `{service}` (the {role}): its rules name {listed}"))
        .help(format!("point a rule's `backend.service.name` at `{service}`: the controller copies the rules that use it into the canary Ingress, and rejects the Rollout otherwise"))
        .related(ingress.file, rules_span, "the Ingress rules");
}
