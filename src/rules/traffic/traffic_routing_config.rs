use crate::diagnostic::Severity;
use crate::index::Object;
use crate::rules::traffic::routers::{Routers, canary};
use crate::rules::{Check, IndexCx, Rule};
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "traffic-routing-config",
    severity: Severity::Error,
    summary: "traffic-routing configuration the controller rejects: exactly-one-of fields, routes and managedRoutes, features that need a router",
    kinds: &["Rollout"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/traffic-routing-config.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    let Some(canary) = canary(cx.obj.spec()) else { return };
    let r = Routers::of(canary);
    features_need_a_router(cx, canary, &r);
    steps(cx, canary, &r);
    exactly_one_of(cx, &r);
    if let Some(alb) = r.alb
        && let Some(stickiness) = alb.get_set("stickinessConfig")
        && stickiness.get("enabled").and_then(|e| e.as_bool()) == Some(true)
        && let Some(d) = stickiness.get_set("durationSeconds")
        && let Some(n) = d.as_i64().filter(|n| !(1..=604_800).contains(n))
    {
        cx.report(d, format!("ALB stickiness `durationSeconds: {n}` is outside 1..604800 (7 days); the controller fails every reconcile"))
            .help("use a duration between 1 second and 7 days");
    }
    owned_objects(cx, canary, &r);
    plugins_configured(cx, canary, &r);
    routed_objects(cx, canary, &r);
}

/// The objects other routers shift traffic in must name both Services (Traefik, APISIX) or
/// have routes with two weighted targets (App Mesh).
fn routed_objects(cx: &mut IndexCx<'_>, canary: NodeRef<'_>, r: &Routers<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    let ns = obj.namespace.as_deref();
    let services: Vec<&str> = ["canaryService", "stableService"].iter().filter_map(|f| canary.get_str(f)).collect();
    if let Some(t) = r.traefik
        && let Some(name_node) = t.get("weightedTraefikServiceName")
        && let Some(ts) =
            name_node.as_str().and_then(|n| index.get_near(obj, "TraefikService", ns, n)).filter(|o| !o.external)
    {
        let names: Vec<&str> = ts
            .get(&["spec", "weighted", "services"])
            .into_iter()
            .flat_map(|l| l.items())
            .filter_map(|s| s.get_str("name"))
            .collect();
        for service in &services {
            if !names.contains(service) {
                cx.report(name_node, format!("TraefikService `{}` has no weighted service `{service}`", ts.name))
                    .help("list both the canary and the stable Service under `spec.weighted.services`")
                    .related(ts.file, ts.name_node().span(), "the TraefikService");
            }
        }
    }
    if let Some(a) = r.apisix
        && let Some(name_node) = a.path(&["route", "name"])
        && let Some(route) =
            name_node.as_str().and_then(|n| index.get_near(obj, "ApisixRoute", ns, n)).filter(|o| !o.external)
    {
        let http: Vec<NodeRef<'_>> = route.get(&["spec", "http"]).into_iter().flat_map(|h| h.items()).collect();
        let rules: Vec<&str> = match a.path(&["route", "rules"]) {
            Some(list) => list.items().filter_map(|n| n.as_str()).collect(),
            None => vec![route.name.as_str()],
        };
        for rule in rules {
            match http.iter().find(|h| h.get_str("name") == Some(rule)) {
                None => {
                    cx.report(name_node, format!("ApisixRoute `{}` has no http rule `{rule}`", route.name))
                        .help("name the rule in `apisix.route.rules`, or add it to the ApisixRoute")
                        .related(route.file, route.name_node().span(), "the ApisixRoute");
                }
                Some(h) => {
                    let backends: Vec<&str> = h
                        .get("backends")
                        .into_iter()
                        .flat_map(|b| b.items())
                        .filter_map(|b| b.get_str("serviceName"))
                        .collect();
                    for service in &services {
                        if !backends.contains(service) {
                            cx.report(
                                name_node,
                                format!("ApisixRoute `{}` rule `{rule}` has no backend `{service}`", route.name),
                            )
                            .help("list both Services as backends of the rule")
                            .related(route.file, h.span(), "the rule");
                        }
                    }
                }
            }
        }
    }
    if let Some(mesh) = r.app_mesh
        && let Some(vs_node) = mesh.path(&["virtualService", "name"])
        && let Some(vs) = vs_node
            .as_str()
            .and_then(|n| index.get_near(obj, "VirtualService", ns, n))
            .filter(|o| !o.external && o.api_version.starts_with("appmesh.k8s.aws"))
    {
        let Some(router_name) =
            vs.get(&["spec", "provider", "virtualRouter", "virtualRouterRef", "name"]).and_then(|n| n.as_str())
        else {
            cx.report(
                vs_node,
                format!("App Mesh VirtualService `{}` is not associated with a virtual router", vs.name),
            )
            .help("set `spec.provider.virtualRouter.virtualRouterRef`")
            .related(vs.file, vs.name_node().span(), "the VirtualService");
            return;
        };
        let Some(router) = index.get_near(obj, "VirtualRouter", ns, router_name) else { return };
        let routes: Vec<NodeRef<'_>> = router.get(&["spec", "routes"]).into_iter().flat_map(|r| r.items()).collect();
        if routes.is_empty() {
            cx.report(vs_node, format!("App Mesh VirtualRouter `{router_name}` has no routes")).related(
                router.file,
                router.name_node().span(),
                "the VirtualRouter",
            );
        }
        for (i, route) in routes.iter().enumerate() {
            let typed = ["httpRoute", "tcpRoute", "http2Route", "grpcRoute"].iter().find_map(|t| route.get_set(t));
            let Some(typed) = typed else {
                cx.report(vs_node, format!("route {i} of App Mesh VirtualRouter `{router_name}` has no httpRoute, tcpRoute, http2Route or grpcRoute")).related(router.file, route.span(), "the route");
                continue;
            };
            let targets = typed.path(&["action", "weightedTargets"]).map_or(0, |t| t.len());
            if targets != 2 {
                cx.report(vs_node, format!("route {i} of App Mesh VirtualRouter `{router_name}` has {targets} weighted targets; the controller needs exactly 2 (canary and stable)"))
                    .help("give every route one weighted target for the canary virtual node and one for the stable")
                    .related(router.file, route.span(), "the route");
            }
        }
    }
}

fn features_need_a_router(cx: &mut IndexCx<'_>, canary: NodeRef<'_>, r: &Routers<'_>) {
    if let Some(pp) = canary.get_set("pingPong")
        && r.node.is_some()
        && r.alb.is_none()
        && r.istio.is_none()
        && r.plugins.is_none()
    {
        cx.report(pp, "ping-pong works with the ALB, Istio and plugin traffic routers only")
            .help("use `alb`, `istio` or a plugin, or drop `pingPong` and use `canaryService`/`stableService`");
    }
    let delay = canary.get_set("scaleDownDelaySeconds");
    let dynamic = canary.get_set("dynamicStableScale").filter(|d| d.as_bool() == Some(true));
    match r.node {
        None => {
            if let Some(d) = delay {
                cx.report(d, "a canary `scaleDownDelaySeconds` only works with traffic routing")
                    .help("remove it, or configure `trafficRouting`");
            }
            if let Some(d) = dynamic {
                cx.report(d, "`dynamicStableScale` only works with traffic routing")
                    .help("remove it, or configure `trafficRouting`");
            }
        }
        Some(_) => {
            if let (Some(d), Some(_)) = (dynamic, delay) {
                cx.report(d, "`dynamicStableScale` cannot be used with `scaleDownDelaySeconds`")
                    .help("keep one of the two");
            }
            if let Some(max) = r.node.and_then(|t| t.get_set("maxTrafficWeight"))
                && r.nginx.is_none()
                && r.plugins.is_none()
            {
                cx.report(max, "`maxTrafficWeight` is supported with the Nginx router and plugins only")
                    .help("remove it: other routers use weights out of 100");
            }
        }
    }
}

fn steps(cx: &mut IndexCx<'_>, canary: NodeRef<'_>, r: &Routers<'_>) {
    let managed: Option<Vec<&str>> =
        r.node.and_then(|t| t.get_set("managedRoutes")).map(|m| m.items().filter_map(|i| i.get_str("name")).collect());
    for (i, step) in canary.get("steps").into_iter().flat_map(|s| s.items()).enumerate() {
        let key = |name: &str| step.entry(name).map(|(k, _)| k);
        if let Some(scale) = key("setCanaryScale").filter(|_| step.get_set("setCanaryScale").is_some())
            && r.node.is_none()
        {
            cx.report(scale, format!("step {i}: `setCanaryScale` requires traffic routing"))
                .help("configure `trafficRouting`, or remove the step");
        }
        if let Some(route) = step.get_set("setHeaderRoute") {
            let at = key("setHeaderRoute").unwrap_or(route);
            if r.node.is_none() || (r.istio.is_none() && r.alb.is_none() && r.apisix.is_none() && r.plugins.is_none()) {
                cx.report(
                    at,
                    format!("step {i}: `setHeaderRoute` needs the Istio, ALB or APISIX router (or a plugin)"),
                )
                .help("configure one of those routers, or remove the step");
            }
            for (j, m) in route.get("match").into_iter().flat_map(|m| m.items()).enumerate() {
                let value = m.get_set("headerValue");
                if r.alb.is_some() {
                    let exact_only = value.is_some_and(|v| {
                        v.get_str("exact").is_some_and(|e| !e.is_empty())
                            && v.get_set("regex").is_none()
                            && v.get_set("prefix").is_none()
                    });
                    if !exact_only {
                        cx.report(
                            value.unwrap_or(m),
                            format!("step {i}: header match {j}: ALB supports only an `exact` header value"),
                        )
                        .help("write `headerValue: {exact: ...}`");
                    }
                } else {
                    string_match(cx, value, m, &format!("step {i}: header match {j}"));
                }
            }
            route_in_managed(cx, route, at, &managed, r, i, "setHeaderRoute");
        }
        if let Some(route) = step.get_set("setMirrorRoute") {
            let at = key("setMirrorRoute").unwrap_or(route);
            if r.node.is_none() || (r.istio.is_none() && r.plugins.is_none()) {
                cx.report(at, format!("step {i}: `setMirrorRoute` needs the Istio router (or a plugin)"))
                    .help("configure Istio routing, or remove the step");
            }
            for (j, m) in route.get("match").into_iter().flat_map(|m| m.items()).enumerate() {
                for field in ["method", "path"] {
                    if let Some(v) = m.get_set(field) {
                        string_match(cx, Some(v), m, &format!("step {i}: mirror match {j} `{field}`"));
                    }
                }
            }
            route_in_managed(cx, route, at, &managed, r, i, "setMirrorRoute");
        }
        let templates = step.path(&["experiment", "templates"]);
        for t in templates.into_iter().flat_map(|t| t.items()) {
            let Some(weight) = t.get_set("weight") else { continue };
            if r.node.is_none() {
                cx.report(weight, format!("step {i}: an experiment template `weight` needs traffic routing"))
                    .help("configure `trafficRouting`, or remove `weight` (pods then get traffic by replica count)");
            } else if r.alb.is_none() && r.smi.is_none() && r.istio.is_none() && r.plugins.is_none() {
                cx.report(weight, format!("step {i}: experiment template weights work only with the SMI, ALB and Istio routers (or a plugin)"))
                    .help("remove `weight`, or use one of those routers");
            }
        }
    }
}

/// A `StringMatch` must set exactly one of `exact`, `regex`, `prefix`.
fn string_match(cx: &mut IndexCx<'_>, value: Option<NodeRef<'_>>, parent: NodeRef<'_>, what: &str) {
    let set = value.map_or(0, |v| {
        ["exact", "regex", "prefix"].iter().filter(|k| v.get_str(k).is_some_and(|s| !s.is_empty())).count()
    });
    if set != 1 {
        let problem = if set == 0 { "sets none of" } else { "sets more than one of" };
        cx.report(
            value.unwrap_or(parent),
            format!("{what} {problem} `exact`, `regex`, `prefix`; exactly one is required"),
        )
        .help("keep one kind of match, e.g. `{exact: chrome}`");
    }
}

fn route_in_managed(
    cx: &mut IndexCx<'_>,
    route: NodeRef<'_>,
    key: NodeRef<'_>,
    managed: &Option<Vec<&str>>,
    r: &Routers<'_>,
    i: usize,
    kind: &str,
) {
    let Some(t) = r.node else { return };
    let name = route.get_str("name").unwrap_or("");
    match managed {
        None => {
            let file = cx.obj.file;
            cx.report(key, format!("step {i}: `{kind}` needs `trafficRouting.managedRoutes` listing route `{name}`"))
                .help(format!("add `managedRoutes: [{{name: {name}}}]` to `trafficRouting`, in the order the routes take precedence"))
                .related(file, t.span(), "trafficRouting");
        }
        Some(names) if !names.contains(&name) => {
            let at = route.get("name").unwrap_or(route);
            let close = crate::diagnostic::did_you_mean(name, names.iter().copied());
            let d = cx.report(at, format!("step {i}: route `{name}` is not in `trafficRouting.managedRoutes`"));
            match close {
                Some(close) => d.suggest(close).help(format!("did you mean `{close}`?")),
                None => d.help("add it to `managedRoutes`"),
            };
        }
        _ => {}
    }
}

fn exactly_one_of(cx: &mut IndexCx<'_>, r: &Routers<'_>) {
    let mut xor = |node: Option<NodeRef<'_>>, one: &str, many: &str, router: &str| {
        let Some(n) = node else { return };
        // A non-nil list counts as set, even when empty.
        let (a, b) = (n.get_set(one).is_some(), n.get_set(many).is_some() || n.get(many).is_some_and(|m| m.is_seq()));
        if a == b {
            let which = if a { "both are" } else { "neither is" };
            cx.report(n, format!("`{router}` needs exactly one of `{one}` and `{many}`; {which} set"))
                .help(format!("keep `{one}` for one, or `{many}` for several"));
        }
    };
    xor(r.nginx, "stableIngress", "stableIngresses", "nginx");
    xor(r.alb, "ingress", "ingresses", "alb");
    xor(r.istio, "virtualService", "virtualServices", "istio");
    if let Some(a) = r.ambassador
        && a.get("mappings").is_none_or(|m| m.is_empty())
    {
        cx.report(a, "`ambassador.mappings` is empty: the controller needs at least one mapping")
            .help("list the Mapping that routes to the stable Service");
    }
    if let Some(m) = r.app_mesh
        && m.get_set("virtualService").is_none()
    {
        cx.report(m, "`appMesh` needs `virtualService`")
            .help("name the App Mesh VirtualService (and its VirtualRouter)");
    }
}

/// Objects the controller creates and must own: the SMI TrafficSplit and the Nginx canary
/// Ingress. One written by hand (and not owned by the Rollout) makes every reconcile fail.
fn owned_objects(cx: &mut IndexCx<'_>, canary: NodeRef<'_>, r: &Routers<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    let owned_by_rollout = |o: &Object| {
        o.get(&["metadata", "ownerReferences"]).into_iter().flat_map(|refs| refs.items()).any(|owner| {
            owner.get_str("kind") == Some("Rollout")
                && owner.get_str("name") == Some(&obj.name)
                && owner.get("controller").and_then(|c| c.as_bool()) == Some(true)
        })
    };
    if let Some(smi) = r.smi {
        let name = smi.get_str("trafficSplitName").unwrap_or(&obj.name);
        if let Some(split) =
            index.get_near(obj, "TrafficSplit", obj.namespace.as_deref(), name).filter(|s| !owned_by_rollout(s))
        {
            let at = smi.get("trafficSplitName").unwrap_or(smi);
            cx.report(at, format!("TrafficSplit `{name}` is written by hand, but the controller creates and owns it: every weight change fails (\"Rollout does not own TrafficSplit\")"))
                .help("delete the hand-written TrafficSplit; the controller makes it from `smi.rootService` and the canary and stable Services")
                .related(split.file, split.name_node().span(), "the hand-written TrafficSplit");
        }
    }
    if let Some(nginx) = r.nginx {
        let stable: Vec<&str> = nginx
            .get_str("stableIngress")
            .into_iter()
            .chain(nginx.get("stableIngresses").into_iter().flat_map(|l| l.items()).filter_map(|i| i.as_str()))
            .collect();
        for ingress in stable {
            let canary_name = format!("{}-{ingress}-canary", obj.name);
            if let Some(existing) =
                index.get_near(obj, "Ingress", obj.namespace.as_deref(), &canary_name).filter(|o| !owned_by_rollout(o))
            {
                let at = canary.path(&["trafficRouting", "nginx"]).unwrap_or(canary);
                cx.report(at, format!("Ingress `{canary_name}` exists but the controller creates that canary Ingress itself: \"canary ingress controlled by different object\""))
                    .help("delete the hand-written canary Ingress")
                    .related(existing.file, existing.name_node().span(), "the hand-written canary Ingress");
            }
        }
    }
    if let Some(amb) = r.ambassador {
        for m in amb.get("mappings").into_iter().flat_map(|m| m.items()).filter_map(|m| m.as_str()) {
            let Some(mapping) = index.get_near(obj, "Mapping", obj.namespace.as_deref(), m) else { continue };
            if let Some(w) = mapping.get(&["spec", "weight"]).filter(|w| w.as_i64().is_some_and(|n| n != 0)) {
                let at = amb.get("mappings").unwrap_or(amb);
                cx.report(at, format!("Ambassador Mapping `{m}` sets a weight: the base mapping cannot define one"))
                    .help("remove `spec.weight` from the Mapping; the controller creates `<mapping>-canary` with the canary weight")
                    .related(mapping.file, w.span(), "the weight");
            }
        }
    }
}

/// Step and traffic-router plugins must be listed in the `argo-rollouts-config` ConfigMap,
/// when that ConfigMap is among the linted files.
fn plugins_configured(cx: &mut IndexCx<'_>, canary: NodeRef<'_>, r: &Routers<'_>) {
    let index = cx.index;
    let Some(config) = index.controller_config() else { return };
    let routers = index.controller_plugins("trafficRouterPlugins");
    for (k, _) in r.plugins.into_iter().flat_map(|p| p.entries()) {
        let name = k.key_text().unwrap_or_default();
        if !routers.iter().any(|n| *n == *name) {
            cx.report(k, format!("traffic router plugin `{name}` is not configured in ConfigMap `argo-rollouts-config` (`trafficRouterPlugins`)"))
                .help("add it to `trafficRouterPlugins` with its download location, or fix the name")
                .related(config.file, config.name_node().span(), "the controller's ConfigMap");
        }
    }
    let steps_listed = index.controller_plugins("stepPlugins");
    for step in canary.get("steps").into_iter().flat_map(|s| s.items()) {
        let Some(name_node) = step.path(&["plugin", "name"]) else { continue };
        let name = name_node.as_str().unwrap_or_default();
        if !steps_listed.iter().any(|n| n == name) {
            cx.report(
                name_node,
                format!("step plugin `{name}` is not configured in ConfigMap `argo-rollouts-config` (`stepPlugins`)"),
            )
            .help("add it to `stepPlugins`, or fix the name")
            .related(config.file, config.name_node().span(), "the controller's ConfigMap");
        }
    }
}
