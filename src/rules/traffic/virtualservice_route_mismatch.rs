use crate::diagnostic::Severity;
use crate::index::Object;
use crate::rules::traffic::routers::{Routers, canary, non_empty};
use crate::rules::{Check, Cx, IndexCx, Rule};
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "virtualservice-route-mismatch",
    severity: Severity::Error,
    summary: "an Istio VirtualService whose routes the controller cannot use: missing named routes, routes without both stable and canary, ambiguous unnamed routes",
    kinds: &["Rollout"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/virtualservice-route-mismatch.md"),
};

/// What the patched routes must send to: two hosts, or two subsets of a DestinationRule.
struct Targets<'a> {
    canary: &'a str,
    stable: &'a str,
    subsets: bool,
}

fn check(cx: &mut IndexCx<'_>) {
    let Some(canary) = canary(cx.obj.spec()) else { return };
    let Some(istio) = Routers::of(canary).istio else { return };
    let targets = match istio.get_set("destinationRule") {
        Some(dr) => Targets {
            canary: non_empty(dr, "canarySubsetName").unwrap_or(""),
            stable: non_empty(dr, "stableSubsetName").unwrap_or(""),
            subsets: true,
        },
        None => {
            let ping_pong = canary.get_set("pingPong");
            Targets {
                canary: non_empty(canary, "canaryService")
                    .or_else(|| ping_pong.and_then(|p| non_empty(p, "pingService")))
                    .unwrap_or(""),
                stable: non_empty(canary, "stableService")
                    .or_else(|| ping_pong.and_then(|p| non_empty(p, "pongService")))
                    .unwrap_or(""),
                subsets: false,
            }
        }
    };
    let managed: Vec<&str> = canary
        .path(&["trafficRouting", "managedRoutes"])
        .into_iter()
        .flat_map(|m| m.items())
        .filter_map(|m| m.get_str("name"))
        .collect();
    let entries: Vec<NodeRef<'_>> = istio
        .get_set("virtualService")
        .into_iter()
        .chain(istio.get("virtualServices").into_iter().flat_map(|l| l.items()))
        .collect();
    for entry in entries {
        let Some(name_node) = entry.get("name") else { continue };
        let Some(full) = name_node.as_str() else { continue };
        let (index, obj) = (cx.index, cx.obj);
        let (name, namespace) = split_name(full, obj.namespace.as_deref());
        let Some(vs) = index.get_near(obj, "VirtualService", namespace, name).filter(|v| !v.external) else { continue };
        check_virtual_service(cx, entry, name_node, vs, &targets, &managed);
    }
}

/// `name.namespace` (with `.svc.cluster.local` dropped) or a plain name in the Rollout's namespace.
fn split_name<'a>(full: &'a str, own: Option<&'a str>) -> (&'a str, Option<&'a str>) {
    let trimmed =
        full.strip_suffix(".svc.cluster.local").or_else(|| full.strip_suffix(".cluster.local")).unwrap_or(full);
    match trimmed.split_once('.') {
        Some((name, ns)) => (name, Some(ns.rsplit('.').next().unwrap_or(ns))),
        None => (trimmed, own),
    }
}

fn check_virtual_service(
    cx: &mut Cx<'_>,
    entry: NodeRef<'_>,
    at: NodeRef<'_>,
    vs: &Object,
    targets: &Targets<'_>,
    managed: &[&str],
) {
    let file = vs.file;
    let spec = vs.spec();
    let section = |k: &str| spec.and_then(|s| s.get_set(k));
    let (http, tls, tcp) = (section("http"), section("tls"), section("tcp"));
    if http.is_none() && tls.is_none() && tcp.is_none() {
        cx.report(at, format!("VirtualService `{}` has no `http`, `tls` or `tcp` routes", vs.name))
            .help("add the route the canary should shift, with both Services as destinations")
            .related(file, vs.name_node().span(), "the VirtualService");
        return;
    }
    for (kind, list) in [("http", http), ("tls", tls), ("tcp", tcp)] {
        if let Some(list) = list
            && (!list.is_seq() || list.items().any(|r| !r.is_map()))
        {
            cx.report(
                at,
                format!("the `{kind}` routes of VirtualService `{}` are not a list of route objects", vs.name),
            )
            .related(file, list.span(), "these routes");
            return;
        }
    }
    if let Some(http) = http {
        let routes: Vec<NodeRef<'_>> = http.items().collect();
        let wanted = entry.get_set("routes");
        let patched: Vec<NodeRef<'_>> = match wanted {
            Some(names) => {
                let mut found = Vec::new();
                for n in names.items() {
                    let Some(name) = n.as_str() else { continue };
                    match routes.iter().find(|r| r.get_str("name") == Some(name)) {
                        Some(r) => found.push(*r),
                        None => {
                            let known: Vec<&str> = routes.iter().filter_map(|r| r.get_str("name")).collect();
                            let close = crate::diagnostic::did_you_mean(name, known.iter().copied());
                            let d = cx.report(n, format!("HTTP route `{name}` is not in VirtualService `{}`", vs.name));
                            match close {
                                Some(c) => d.suggest(c).help(format!("did you mean `{c}`?")),
                                None => d.help(format!(
                                    "name one of its routes: {}",
                                    if known.is_empty() { "it has no named route".into() } else { known.join(", ") }
                                )),
                            }
                            .related(file, http.span(), "the VirtualService's HTTP routes");
                        }
                    }
                }
                found
            }
            None => {
                let unmanaged: Vec<NodeRef<'_>> = routes
                    .iter()
                    .copied()
                    .filter(|r| r.get_str("name").is_none_or(|n| !managed.contains(&n)))
                    .collect();
                if unmanaged.len() > 1 {
                    cx.report(at, format!("VirtualService `{}` has {} HTTP routes: name the one to shift in `virtualService.routes`", vs.name, unmanaged.len()))
                        .help("add `routes: [<route name>]` to the Rollout's virtualService, and name that route in the VirtualService")
                        .related(file, http.span(), "the HTTP routes");
                    Vec::new()
                } else {
                    unmanaged.into_iter().take(1).collect()
                }
            }
        };
        for route in patched {
            destinations(cx, at, vs, route, targets, "HTTP");
        }
    }
    for (kind, list, wanted, label) in
        [("tls", tls, entry.get_set("tlsRoutes"), "TLS"), ("tcp", tcp, entry.get_set("tcpRoutes"), "TCP")]
    {
        let Some(list) = list else { continue };
        let routes: Vec<NodeRef<'_>> = list.items().collect();
        match wanted {
            Some(wanted) => {
                for w in wanted.items() {
                    let port = w.get("port").and_then(|p| p.as_i64());
                    let sni: Vec<&str> =
                        w.get("sniHosts").into_iter().flat_map(|s| s.items()).filter_map(|h| h.as_str()).collect();
                    let matching: Vec<NodeRef<'_>> =
                        routes.iter().copied().filter(|r| tls_tcp_matches(*r, port, &sni, kind == "tls")).collect();
                    if matching.is_empty() {
                        cx.report(
                            w,
                            format!(
                                "no {label} route of VirtualService `{}` matches this {}",
                                vs.name,
                                if kind == "tls" { "port and SNI hosts" } else { "port" }
                            ),
                        )
                        .related(file, list.span(), format!("the {label} routes"));
                    }
                    for r in matching {
                        destinations(cx, w, vs, r, targets, label);
                    }
                }
            }
            None if routes.len() > 1 => {
                cx.report(
                    at,
                    format!(
                        "VirtualService `{}` has {} {label} routes: list the ones to shift in `{kind}Routes`",
                        vs.name,
                        routes.len()
                    ),
                )
                .related(file, list.span(), format!("the {label} routes"));
            }
            None => {
                if let Some(r) = routes.first() {
                    destinations(cx, at, vs, *r, targets, label);
                }
            }
        }
    }
}

/// A TLS/TCP route matches when its `match[]` ports are exactly one, equal to `port`, and (for
/// TLS) its SNI hosts are the same set.
fn tls_tcp_matches(route: NodeRef<'_>, port: Option<i64>, sni: &[&str], tls: bool) -> bool {
    let matches: Vec<NodeRef<'_>> = route.get("match").into_iter().flat_map(|m| m.items()).collect();
    let mut ports: Vec<i64> = matches.iter().filter_map(|m| m.get("port").and_then(|p| p.as_i64())).collect();
    ports.sort();
    ports.dedup();
    if ports != port.into_iter().collect::<Vec<_>>() {
        return false;
    }
    if !tls {
        return true;
    }
    let mut hosts: Vec<&str> = matches
        .iter()
        .flat_map(|m| m.get("sniHosts").into_iter().flat_map(|s| s.items()))
        .filter_map(|h| h.as_str())
        .collect();
    let mut want: Vec<&str> = sni.to_vec();
    hosts.sort();
    hosts.dedup();
    want.sort();
    want.dedup();
    hosts == want
}

/// The route's `route[].destination`s must name both the canary and the stable target.
fn destinations(cx: &mut Cx<'_>, at: NodeRef<'_>, vs: &Object, route: NodeRef<'_>, t: &Targets<'_>, label: &str) {
    let dests: Vec<NodeRef<'_>> =
        route.get("route").into_iter().flat_map(|r| r.items()).filter_map(|r| r.get("destination")).collect();
    let has = |target: &str| {
        dests.iter().any(|d| {
            if t.subsets {
                d.get_str("subset") == Some(target)
            } else {
                d.get_str("host").map(|h| h.split('.').next().unwrap_or(h)) == Some(target)
            }
        })
    };
    let what = if t.subsets { "DestinationRule subset" } else { "Service" };
    for (role, target) in [("canary", t.canary), ("stable", t.stable)] {
        if target.is_empty() || has(target) {
            continue;
        }
        let route_name = route.get_str("name").map(|n| format!(" `{n}`")).unwrap_or_default();
        cx.report(at, format!("{label} route{route_name} of VirtualService `{}` has no destination for the {role} {what} `{target}`", vs.name))
            .help(format!("add a `route` destination with {} `{target}` (weight 0 for canary, 100 for stable); the controller only changes weights of existing destinations", if t.subsets { "`subset:`" } else { "`host:`" }))
            .related(vs.file, first_line(route), "the route");
    }
}

/// The first key of a mapping (a short place to point at), or the whole node.
fn first_line(node: NodeRef<'_>) -> crate::source::Span {
    node.entries().next().map_or(node.span(), |(k, _)| k.span())
}
