use crate::diagnostic::Severity;
use crate::rules::traffic::routers::{Routers, canary, non_empty};
use crate::rules::{Check, IndexCx, Rule};

pub const RULE: Rule = Rule {
    id: "traffic-routing-missing-services",
    severity: Severity::Error,
    summary: "a traffic router that needs `stableService` and `canaryService` (or ping/pong, or an ALB `rootService`) without them",
    kinds: &["Rollout"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/traffic-routing-missing-services.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    let Some(canary) = canary(cx.obj.spec()) else { return };
    let routers = Routers::of(canary);
    let ping_pong = canary.get_set("pingPong");
    if let Some(pp) = ping_pong {
        for field in ["pingService", "pongService"] {
            if non_empty(pp, field).is_none() {
                let at = pp.get(field).unwrap_or(pp);
                cx.report(at, format!("`pingPong.{field}` is not set: ping-pong needs both services (\"Ping service and Pong service must to be set to use Ping-Pong feature\")"))
                    .help("name the two Services that take turns as stable and canary");
            }
        }
        if let Some(alb) = routers.alb
            && non_empty(alb, "rootService").is_none()
        {
            cx.report(alb, "ALB ping-pong needs `alb.rootService` (\"Root service field is required for the configuration with ALB and ping-pong feature enabled\")")
                .help("set `rootService` to the Service the Ingress sends traffic to");
        }
    }
    // `requireCanaryStableServices`: which routers need both Services.
    let istio_by_service = routers.istio.is_some_and(|i| i.get_set("destinationRule").is_none());
    let needs = (routers.alb.is_some() && ping_pong.is_none())
        || (istio_by_service && ping_pong.is_none())
        || routers.smi.is_some()
        || routers.apisix.is_some()
        || routers.ambassador.is_some()
        || routers.nginx.is_some()
        || routers.app_mesh.is_some()
        || routers.traefik.is_some();
    if !needs {
        return;
    }
    let router = routers.names().first().copied().unwrap_or("trafficRouting");
    for field in ["stableService", "canaryService"] {
        if non_empty(canary, field).is_none() {
            let at = canary.get(field).or_else(|| canary.entry("trafficRouting").map(|(k, _)| k)).unwrap_or(canary);
            cx.report(at, format!("the `{router}` traffic router needs `{field}`, which is not set (\"Canary service and Stable service must to be set to use Traffic Routing\")"))
                .help("name the stable and canary Services: the router shifts traffic between them");
        }
    }
}
