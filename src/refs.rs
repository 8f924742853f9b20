//! What each object names by reference: the edges of the object graph. Extracted once while
//! indexing; rules resolve them through the index.

use crate::yaml::{NodeId, NodeRef};

/// A name in one object that should be another object.
#[derive(Clone, Debug)]
pub struct Reference {
    /// The kind the name must resolve to.
    pub kind: &'static str,
    pub name: Box<str>,
    /// An explicit namespace (`name.namespace` for Istio); otherwise the referrer's.
    pub namespace: Option<Box<str>>,
    /// The value node holding the name.
    pub at: NodeId,
    /// The field, for messages: `canaryService`, `stableIngress`...
    pub role: &'static str,
}

fn push(out: &mut Vec<Reference>, kind: &'static str, role: &'static str, node: Option<NodeRef<'_>>) {
    if let Some(node) = node
        && let Some(name) = node.as_str()
        && !name.is_empty()
    {
        out.push(Reference { kind, name: name.into(), namespace: None, at: node.id, role });
    }
}

/// The Service roles a Rollout can name, with their paths under `spec.strategy`.
pub const SERVICE_ROLES: &[(&str, &[&str])] = &[
    ("stableService", &["canary", "stableService"]),
    ("canaryService", &["canary", "canaryService"]),
    ("pingService", &["canary", "pingPong", "pingService"]),
    ("pongService", &["canary", "pingPong", "pongService"]),
    ("activeService", &["blueGreen", "activeService"]),
    ("previewService", &["blueGreen", "previewService"]),
];

pub fn references(kind: &str, root: NodeRef<'_>) -> Vec<Reference> {
    let mut out = Vec::new();
    let spec = root.get("spec");
    match kind {
        "Rollout" => rollout(spec, &mut out),
        "Ingress" => ingress(spec, &mut out),
        "AnalysisTemplate" | "ClusterAnalysisTemplate" => {
            for t in spec.and_then(|s| s.get("templates")).into_iter().flat_map(|t| t.items()) {
                template_ref(t, &mut out);
            }
        }
        "Experiment" => {
            for a in spec.and_then(|s| s.get("analyses")).into_iter().flat_map(|a| a.items()) {
                template_ref(a, &mut out);
            }
        }
        "HorizontalPodAutoscaler" | "ScaledObject" => {
            if let Some(target) = spec.and_then(|s| s.get("scaleTargetRef")) {
                // KEDA defaults the target to a Deployment.
                let default = if kind == "ScaledObject" { Some("Deployment") } else { None };
                let kind = match target.get_str("kind").or(default) {
                    Some("Rollout") => Some("Rollout"),
                    Some("Deployment") => Some("Deployment"),
                    Some("StatefulSet") => Some("StatefulSet"),
                    Some("ReplicaSet") => Some("ReplicaSet"),
                    _ => None,
                };
                if let Some(kind) = kind {
                    push(&mut out, kind, "scaleTargetRef", target.get("name"));
                }
            }
        }
        _ => {}
    }
    out
}

/// An analysis template reference: `templateName` plus `clusterScope`.
fn template_ref(node: NodeRef<'_>, out: &mut Vec<Reference>) {
    let cluster = node.get("clusterScope").and_then(|c| c.as_bool()).unwrap_or(false);
    let kind = if cluster { "ClusterAnalysisTemplate" } else { "AnalysisTemplate" };
    push(out, kind, "templateName", node.get("templateName"));
}

/// Every analysis block of a Rollout: background, steps, blue-green promotions, experiment steps.
pub fn rollout_analyses<'a>(spec: Option<NodeRef<'a>>) -> Vec<(&'static str, NodeRef<'a>)> {
    let mut out = Vec::new();
    let Some(strategy) = spec.and_then(|s| s.get("strategy")) else { return out };
    if let Some(canary) = strategy.get("canary") {
        if let Some(a) = canary.get_set("analysis") {
            out.push(("background analysis", a));
        }
        for step in canary.get("steps").into_iter().flat_map(|s| s.items()) {
            if let Some(a) = step.get_set("analysis") {
                out.push(("analysis step", a));
            }
            for a in step.path(&["experiment", "analyses"]).into_iter().flat_map(|a| a.items()) {
                out.push(("experiment analysis", a));
            }
        }
    }
    if let Some(bg) = strategy.get("blueGreen") {
        if let Some(a) = bg.get_set("prePromotionAnalysis") {
            out.push(("prePromotionAnalysis", a));
        }
        if let Some(a) = bg.get_set("postPromotionAnalysis") {
            out.push(("postPromotionAnalysis", a));
        }
    }
    out
}

/// The template references of one analysis block: a `templates` list, or for experiment
/// analyses a single `templateName`.
pub fn analysis_template_nodes<'a>(analysis: NodeRef<'a>) -> Vec<NodeRef<'a>> {
    match analysis.get("templates") {
        Some(list) => list.items().collect(),
        None if analysis.get("templateName").is_some() => vec![analysis],
        None => Vec::new(),
    }
}

fn rollout(spec: Option<NodeRef<'_>>, out: &mut Vec<Reference>) {
    let Some(spec) = spec else { return };
    if let Some(w) = spec.get("workloadRef") {
        let kind = match w.get_str("kind") {
            Some("ReplicaSet") => "ReplicaSet",
            Some("PodTemplate") => "PodTemplate",
            _ => "Deployment",
        };
        push(out, kind, "workloadRef", w.get("name"));
    }
    let Some(strategy) = spec.get("strategy") else { return };
    for (role, path) in SERVICE_ROLES {
        push(out, "Service", role, strategy.path(path));
    }
    for (_, analysis) in rollout_analyses(Some(spec)) {
        for t in analysis_template_nodes(analysis) {
            template_ref(t, out);
        }
    }
    let Some(routing) = strategy.path(&["canary", "trafficRouting"]) else { return };
    if let Some(nginx) = routing.get("nginx") {
        push(out, "Ingress", "stableIngress", nginx.get("stableIngress"));
        for list in ["stableIngresses", "additionalStableIngresses"] {
            for i in nginx.get(list).into_iter().flat_map(|l| l.items()) {
                push(out, "Ingress", "stableIngress", Some(i));
            }
        }
    }
    if let Some(alb) = routing.get("alb") {
        push(out, "Ingress", "ingress", alb.get("ingress"));
        for i in alb.get("ingresses").into_iter().flat_map(|l| l.items()) {
            push(out, "Ingress", "ingress", Some(i));
        }
        // `rootService` names the ALB action on the Ingress backend (`port.name: use-annotation`,
        // annotation `alb.ingress.kubernetes.io/actions.<rootService>`); the controller never
        // fetches a Service by that name.
    }
    if let Some(istio) = routing.get("istio") {
        let vss = istio
            .get("virtualService")
            .into_iter()
            .chain(istio.get("virtualServices").into_iter().flat_map(|l| l.items()));
        for vs in vss {
            if let Some(name) = vs.get("name")
                && let Some(full) = name.as_str()
                && !full.is_empty()
            {
                // The controller accepts `name.namespace`.
                let (name_part, ns) = match full.split_once('.') {
                    Some((n, ns)) => (n.to_string(), Some(ns.to_string())),
                    None => (full.to_string(), None),
                };
                out.push(Reference {
                    kind: "VirtualService",
                    name: name_part.into(),
                    namespace: ns.map(String::into_boxed_str),
                    at: name.id,
                    role: "virtualService",
                });
            }
        }
        push(out, "DestinationRule", "destinationRule", istio.path(&["destinationRule", "name"]));
    }
    for m in routing.path(&["ambassador", "mappings"]).into_iter().flat_map(|l| l.items()) {
        push(out, "Mapping", "ambassador mapping", Some(m));
    }
    if let Some(mesh) = routing.get("appMesh") {
        push(out, "VirtualService", "appMesh virtualService", mesh.path(&["virtualService", "name"]));
        push(
            out,
            "VirtualNode",
            "canaryVirtualNodeRef",
            mesh.path(&["virtualNodeGroup", "canaryVirtualNodeRef", "name"]),
        );
        push(
            out,
            "VirtualNode",
            "stableVirtualNodeRef",
            mesh.path(&["virtualNodeGroup", "stableVirtualNodeRef", "name"]),
        );
    }
    push(out, "TraefikService", "weightedTraefikServiceName", routing.path(&["traefik", "weightedTraefikServiceName"]));
    push(out, "ApisixRoute", "apisix route", routing.path(&["apisix", "route", "name"]));
}

fn ingress(spec: Option<NodeRef<'_>>, out: &mut Vec<Reference>) {
    let Some(spec) = spec else { return };
    let mut backend = |b: NodeRef<'_>| {
        // networking.k8s.io/v1 `service.name`, or the v1beta1 `serviceName`.
        let (name, port) = match b.get("service") {
            Some(s) => (s.get("name"), s.path(&["port", "name"])),
            None => (b.get("serviceName"), b.get("servicePort")),
        };
        // ALB `use-annotation` backends name an action annotation, not a Service.
        if port.and_then(|p| p.as_str()) == Some("use-annotation") {
            return;
        }
        push(out, "Service", "backend", name);
    };
    if let Some(b) = spec.get("defaultBackend").or_else(|| spec.get("backend")) {
        backend(b);
    }
    for rule in spec.get("rules").into_iter().flat_map(|r| r.items()) {
        for path in rule.path(&["http", "paths"]).into_iter().flat_map(|p| p.items()) {
            if let Some(b) = path.get("backend") {
                backend(b);
            }
        }
    }
}
