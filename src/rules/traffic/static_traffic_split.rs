use crate::diagnostic::Severity;
use crate::index::{Index, Object};
use crate::rules::traffic::routers::{Routers, non_empty};
use crate::rules::{Check, IndexCx, Rule};
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "static-traffic-split",
    severity: Severity::Error,
    summary: "a VirtualService, route, TrafficSplit or canary Ingress the Rollout does not manage sends a fixed share of traffic to its canary or preview Service",
    kinds: &["VirtualService", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute", "TrafficSplit", "Ingress"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/static-traffic-split.md"),
};

/// One backend of a route: the node to point at, the Service (name, namespace), the Istio
/// subset, and its weight (`None`: unset, no share of a split).
struct Backend<'a> {
    at: NodeRef<'a>,
    service: (&'a str, String),
    subset: Option<&'a str>,
    weight: Option<i64>,
}

/// What a Rollout's traffic must not be split to from outside: its canary and preview Services.
struct Target<'a> {
    rollout: &'a Object,
    role: &'static str,
    service: &'a str,
    node: NodeRef<'a>,
    /// The host and subset of a DestinationRule the Rollout shifts (Istio subset routing).
    subset: Option<(String, &'a str)>,
}

fn check(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    if obj.external {
        return;
    }
    let ns = obj.namespace.as_deref();
    // Most routes send everything to one backend: only a split can be static (and only then is
    // it worth looking at every Rollout of the namespace).
    let groups = splits(obj);
    let split = |group: &Vec<Backend<'_>>| group.iter().filter(|b| b.weight.is_some_and(|w| w > 0)).count() > 1;
    if !groups.iter().any(|(group, _)| split(group)) {
        return;
    }
    let rollouts: Vec<&Object> = index.of_kind(obj, "Rollout", ns).filter(|r| !r.external).collect();
    if rollouts.is_empty() || rollouts.iter().any(|r| manages(index, r, obj)) {
        return;
    }
    let mut targets = Vec::new();
    for r in &rollouts {
        let strategy = r.get(&["spec", "strategy"]);
        if let Some(canary) = strategy.and_then(|s| s.get_set("canary")) {
            if let Some(node) = canary.get("canaryService").filter(|n| n.as_str().is_some_and(|s| !s.is_empty())) {
                targets.push(Target {
                    rollout: r,
                    role: "canary",
                    service: node.as_str().unwrap_or(""),
                    node,
                    subset: None,
                });
            }
            if let Some(dr) = Routers::of(canary).istio.and_then(|i| i.get_set("destinationRule"))
                && let (Some(name), Some(subset)) = (non_empty(dr, "name"), dr.get("canarySubsetName"))
                && let Some(host) = index
                    .get_near(r, "DestinationRule", r.namespace.as_deref(), name)
                    .and_then(|d| d.get(&["spec", "host"]))
                    .and_then(|h| h.as_str())
                && let Some(subset_name) = subset.as_str().filter(|s| !s.is_empty())
            {
                let host = normalise(host, r.namespace.as_deref());
                targets.push(Target {
                    rollout: r,
                    role: "canary subset",
                    service: subset_name,
                    node: subset,
                    subset: Some((host.0.to_string(), subset_name)),
                });
            }
        }
        if let Some(node) = strategy
            .and_then(|s| s.path(&["blueGreen", "previewService"]))
            .filter(|n| n.as_str().is_some_and(|s| !s.is_empty()))
        {
            targets.push(Target {
                rollout: r,
                role: "preview",
                service: node.as_str().unwrap_or(""),
                node,
                subset: None,
            });
        }
    }
    if targets.is_empty() {
        return;
    }
    for (group, unit) in groups {
        let shares: i64 = group.iter().filter_map(|b| b.weight).filter(|w| *w > 0).sum();
        for b in &group {
            let Some(weight) = b.weight.filter(|w| *w > 0 && *w < shares) else { continue };
            let Some(t) = targets.iter().find(|t| matches(t, b, ns)) else { continue };
            let percent = weight as f64 * 100.0 / shares as f64;
            let what = match t.role {
                "preview" => "users reach the version under test before it is promoted, whatever the analysis says",
                _ => "that share ignores `setWeight`, pauses and aborts",
            };
            let (file, span) = (t.rollout.file, t.node.span());
            let field = match (t.role, &t.subset) {
                (_, Some(_)) => "canarySubsetName",
                ("preview", _) => "previewService",
                _ => "canaryService",
            };
            cx.report(
                b.at,
                format!(
                    "{} `{}` sends a fixed {}% of a route's traffic ({unit} {weight} of {shares}) to `{}`, the {} of Rollout `{}`, which does not manage this {}: {what}",
                    obj.kind, obj.name, format_percent(percent), t.service, if t.subset.is_some() { "canary subset".to_string() } else { format!("{} Service", t.role) }, t.rollout.name, obj.kind
                ),
            )
            .help(match t.role {
                "preview" => "send the preview Service traffic only on a separate host or header for testers, and let the promotion switch the active Service".to_string(),
                _ => format!("let the Rollout shift this traffic (name this {} in its `trafficRouting`), or route only to the stable Service here", obj.kind),
            })
            .related(file, span, format!("the {} of Rollout `{}`", field, t.rollout.name));
        }
    }
}

fn format_percent(p: f64) -> String {
    if p.fract().abs() < 0.05 { format!("{}", p.round()) } else { format!("{p:.1}") }
}

fn matches(t: &Target<'_>, b: &Backend<'_>, ns: Option<&str>) -> bool {
    match &t.subset {
        Some((host, subset)) => {
            b.subset == Some(*subset)
                && b.service.0 == host.as_str()
                && Some(b.service.1.as_str()) == t.rollout.namespace.as_deref()
        }
        None => b.service.0 == t.service && Some(b.service.1.as_str()) == t.rollout.namespace.as_deref().or(ns),
    }
}

/// `name`, `name.ns`, `name.ns.svc`, `name.ns.svc.cluster.local`: (name, namespace).
fn normalise<'a>(host: &'a str, own: Option<&str>) -> (&'a str, String) {
    let trimmed = host.strip_suffix(".cluster.local").unwrap_or(host);
    let trimmed = trimmed.strip_suffix(".svc").unwrap_or(trimmed);
    match trimmed.split_once('.') {
        Some((name, ns)) if !ns.contains('.') => (name, ns.to_string()),
        Some(_) => ("", String::new()),
        None => (trimmed, own.unwrap_or_default().to_string()),
    }
}

/// Whether the Rollout's traffic routing names this object (then the controller sets its weights).
fn manages(index: &Index, rollout: &Object, obj: &Object) -> bool {
    let Some(canary) = rollout.get(&["spec", "strategy", "canary"]) else { return false };
    let routers = Routers::of(canary);
    let own_ns = rollout.namespace.as_deref();
    let same = |name: &str, ns: Option<&str>| name == obj.name && ns == obj.namespace.as_deref();
    index.references_of(rollout).iter().any(|r| r.kind == obj.kind.as_str() && same(&r.name, index.target_namespace(rollout, r)))
        // Plugins (Gateway API and others) name their routes in their own configuration.
        || routers.node.is_some_and(|n| strings(n).contains(&obj.name.as_str()))
        || match obj.kind.as_str() {
            "TrafficSplit" => {
                routers.smi.is_some_and(|smi| same(non_empty(smi, "trafficSplitName").unwrap_or(&rollout.name), own_ns))
            }
            // The canary Ingress the controller creates: `<rollout>-<stable ingress>-canary`.
            "Ingress" => {
                routers.nginx.is_some()
                    && obj.name.starts_with(&format!("{}-", rollout.name))
                    && obj.name.ends_with("-canary")
            }
            _ => false,
        }
}

/// Every string under a node.
fn strings(node: NodeRef<'_>) -> Vec<&str> {
    let mut out = Vec::new();
    let mut stack = vec![(node, 0)];
    while let Some((n, depth)) = stack.pop() {
        if depth > 16 {
            continue;
        }
        if n.is_map() {
            stack.extend(n.entries().map(|(_, v)| (v, depth + 1)));
        } else if n.is_seq() {
            stack.extend(n.items().map(|v| (v, depth + 1)));
        } else if let Some(s) = n.as_str() {
            out.push(s);
        }
    }
    out
}

/// The groups of backends that share traffic, and what the weights are called.
fn splits(obj: &Object) -> Vec<(Vec<Backend<'_>>, &'static str)> {
    let Some(spec) = obj.spec() else { return Vec::new() };
    let ns = obj.namespace.as_deref();
    let mut out = Vec::new();
    match obj.kind.as_str() {
        "VirtualService" => {
            for section in ["http", "tls", "tcp"] {
                for rule in spec.get(section).into_iter().flat_map(|r| r.items()) {
                    let group: Vec<Backend<'_>> = rule
                        .get("route")
                        .into_iter()
                        .flat_map(|r| r.items())
                        .filter_map(|route| {
                            let dest = route.get("destination")?;
                            let host = dest.get_str("host")?;
                            let weight = route.get_set("weight").and_then(|w| w.as_i64());
                            Some(Backend {
                                at: route.get("weight").unwrap_or(dest),
                                service: normalise(host, ns),
                                subset: dest.get_str("subset"),
                                weight,
                            })
                        })
                        .collect();
                    out.push((group, "weight"));
                }
            }
        }
        "HTTPRoute" | "GRPCRoute" | "TCPRoute" | "TLSRoute" => {
            for rule in spec.get("rules").into_iter().flat_map(|r| r.items()) {
                let group: Vec<Backend<'_>> = rule
                    .get("backendRefs")
                    .into_iter()
                    .flat_map(|r| r.items())
                    .filter(|b| {
                        b.get_str("kind").is_none_or(|k| k == "Service") && b.get_str("group").is_none_or(str::is_empty)
                    })
                    .filter_map(|b| {
                        let name = b.get_str("name")?;
                        // The Gateway API default weight is 1.
                        let weight = match b.get_set("weight") {
                            Some(w) => w.as_i64(),
                            None => Some(1),
                        };
                        let namespace = b.get_str("namespace").or(ns).unwrap_or_default().to_string();
                        Some(Backend {
                            at: b.get("weight").unwrap_or(b),
                            service: (name, namespace),
                            subset: None,
                            weight,
                        })
                    })
                    .collect();
                out.push((group, "weight"));
            }
        }
        "TrafficSplit" => {
            let group = spec
                .get("backends")
                .into_iter()
                .flat_map(|b| b.items())
                .filter_map(|b| {
                    let name = b.get_str("service")?;
                    let w = b.get_set("weight")?;
                    let weight = w.as_i64().or_else(|| w.as_str().and_then(|s| s.parse().ok()));
                    Some(Backend { at: w, service: (name, ns.unwrap_or_default().to_string()), subset: None, weight })
                })
                .collect();
            out.push((group, "weight"));
        }
        "Ingress" => {
            // An ingress-nginx canary Ingress: `canary-weight` of the traffic of the Ingress
            // with the same host and path goes to its backends.
            let annotations = obj.get(&["metadata", "annotations"]);
            let entry = |suffix: &str| {
                annotations.into_iter().flat_map(|a| a.entries()).find(|(k, _)| {
                    k.as_str()
                        .and_then(|k| k.split_once('/'))
                        .is_some_and(|(prefix, name)| name == suffix && prefix.contains("nginx"))
                })
            };
            let canary = entry("canary")
                .and_then(|(_, v)| v.as_str())
                .is_some_and(|v| matches!(v, "1" | "t" | "T" | "TRUE" | "true" | "True"));
            let Some((_, weight_node)) = entry("canary-weight").filter(|_| canary) else { return out };
            let Some(weight) = weight_node.as_str().and_then(|w| w.trim().parse::<i64>().ok()) else { return out };
            let total =
                entry("canary-weight-total").and_then(|(_, v)| v.as_str()?.trim().parse::<i64>().ok()).unwrap_or(100);
            let backends = spec
                .get("rules")
                .into_iter()
                .flat_map(|r| r.items())
                .flat_map(|rule| rule.path(&["http", "paths"]).into_iter().flat_map(|p| p.items()))
                .filter_map(|p| p.path(&["backend", "service", "name"]).or_else(|| p.path(&["backend", "serviceName"])))
                .chain(spec.path(&["defaultBackend", "service", "name"]));
            let mut names: Vec<&str> = backends.filter_map(|b| b.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            for name in names {
                let ingress_ns = ns.unwrap_or_default().to_string();
                out.push((
                    vec![
                        Backend {
                            at: weight_node,
                            service: (name, ingress_ns),
                            subset: None,
                            weight: Some(weight.min(total)),
                        },
                        Backend {
                            at: weight_node,
                            service: ("", String::new()),
                            subset: None,
                            weight: Some((total - weight).max(0)),
                        },
                    ],
                    "canary-weight",
                ));
            }
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::lint::{Options, lint_files};
    use crate::load::load_bytes;
    use crate::source::FileId;

    const ROLLOUT: &str = "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: shop\nspec:\n  selector:\n    matchLabels:\n      app: shop\n  template:\n    metadata:\n      labels:\n        app: shop\n    spec:\n      containers:\n        - name: shop\n          image: shop:1\n  strategy:\n";

    fn found(strategy: &str, others: &str) -> Vec<String> {
        let text = format!("{ROLLOUT}{strategy}---\n{others}");
        let out = lint_files(vec![load_bytes(FileId(0), "t.yaml".into(), text.into_bytes())], &Options::default());
        out.diagnostics.iter().filter(|d| d.rule == "static-traffic-split").map(|d| d.message.clone()).collect()
    }

    const CANARY: &str = "    canary:\n      stableService: shop-stable\n      canaryService: shop-canary\n      steps:\n        - setWeight: 10\n";
    const VS: &str = "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata:\n  name: shop\nspec:\n  hosts: [shop]\n  http:\n    - route:\n        - destination:\n            host: shop-stable\n          weight: 50\n        - destination:\n            host: shop-canary.default.svc.cluster.local\n          weight: 50\n";

    #[test]
    fn unmanaged_splits_to_the_canary() {
        let f = found(CANARY, VS);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].contains("fixed 50% of a route") && f[0].contains("canary Service of Rollout `shop`"), "{f:?}");
        let route = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: shop\nspec:\n  rules:\n    - backendRefs:\n        - name: shop-stable\n          port: 80\n        - name: shop-canary\n          port: 80\n";
        assert!(found(CANARY, route)[0].contains("fixed 50% of a route's traffic (weight 1 of 2)"));
        let bg = "    blueGreen:\n      activeService: shop-stable\n      previewService: shop-canary\n";
        assert!(found(bg, VS)[0].contains("preview Service"));
    }

    #[test]
    fn managed_routes_single_backends_and_zero_weights() {
        let managed = format!(
            "{CANARY}      trafficRouting:\n        istio:\n          virtualService:\n            name: shop\n"
        );
        assert!(found(&managed, VS).is_empty());
        let whole = VS.replace("weight: 50\n        - destination:\n            host: shop-canary.default.svc.cluster.local\n          weight: 50\n", "weight: 100\n        - destination:\n            host: shop-canary\n          weight: 0\n");
        assert!(found(CANARY, &whole).is_empty(), "{whole}");
        let preview_host = "apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\nmetadata:\n  name: preview\nspec:\n  http:\n    - route:\n        - destination:\n            host: shop-canary\n";
        assert!(found(CANARY, preview_host).is_empty());
    }
}
