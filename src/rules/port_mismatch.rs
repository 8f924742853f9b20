use super::{Check, IndexCx, Rule};
use crate::diagnostic::Severity;
use crate::index::PodTemplate;
use crate::selector::Selector;
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "port-mismatch",
    severity: Severity::Error,
    summary: "an Ingress backend port the Service does not expose, or a Service `targetPort` no selected container declares",
    kinds: &["Ingress", "Service"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../rules/port-mismatch.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    if cx.obj.kind == "Ingress" { check_ingress(cx) } else { check_service(cx) }
}

/// A port reference: a number or a name.
enum Port<'a> {
    Number(i64),
    Name(&'a str),
}

fn port_of(node: NodeRef<'_>) -> Option<Port<'_>> {
    match (node.as_i64(), node.as_str()) {
        (Some(n), _) => Some(Port::Number(n)),
        (None, Some(s)) => Some(s.parse().map(Port::Number).unwrap_or(Port::Name(s))),
        _ => None,
    }
}

fn check_ingress(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    let Some(spec) = obj.spec() else { return };
    let rules = spec.get("rules").into_iter().flat_map(|r| r.items());
    let backends = spec.get("defaultBackend").or_else(|| spec.get("backend")).into_iter().chain(
        rules
            .flat_map(|r| r.path(&["http", "paths"]).into_iter().flat_map(|p| p.items()))
            .filter_map(|p| p.get("backend")),
    );
    for backend in backends {
        let (name, port_node) = match backend.get("service") {
            Some(s) => (s.get_str("name"), s.path(&["port", "number"]).or_else(|| s.path(&["port", "name"]))),
            None => (backend.get_str("serviceName"), backend.get("servicePort")),
        };
        let (Some(name), Some(port_node)) = (name, port_node) else { continue };
        let Some(port) = port_of(port_node) else { continue };
        if matches!(port, Port::Name("use-annotation")) {
            continue;
        }
        let Some(service) = index.get_near(obj, "Service", obj.namespace.as_deref(), name).filter(|s| !s.external)
        else {
            continue;
        };
        let ports = service.get(&["spec", "ports"]);
        let exposed = ports.into_iter().flat_map(|p| p.items()).any(|p| match port {
            Port::Number(n) => p.get("port").and_then(|v| v.as_i64()) == Some(n),
            Port::Name(want) => p.get_str("name") == Some(want),
        });
        if exposed {
            continue;
        }
        let list: Vec<String> = ports
            .into_iter()
            .flat_map(|p| p.items())
            .map(|p| match p.get_str("name") {
                Some(n) => format!("{} ({n})", p.get("port").map(|v| v.display()).unwrap_or_default()),
                None => p.get("port").map(|v| v.display()).unwrap_or_default(),
            })
            .collect();
        let span = ports.map_or(service.name_node().span(), |p| p.span());
        cx.report(
            port_node,
            format!(
                "Service `{name}` does not expose port `{}`; it exposes {}",
                port_node.display(),
                if list.is_empty() { "no ports".into() } else { list.join(", ") }
            ),
        )
        .help("point the backend at one of the Service's `port` numbers or port names (not the container's port)")
        .related(service.file, span, "Service ports");
    }
}

fn check_service(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    let Some((_, selector)) = Selector::of_service(obj.root()) else { return };
    let templates: Vec<&PodTemplate> = index.templates_matching(obj, obj.namespace.as_deref(), &selector).collect();
    if templates.is_empty() {
        return;
    }
    for port in obj.get(&["spec", "ports"]).into_iter().flat_map(|p| p.items()) {
        let Some(target_node) = port.get_set("targetPort").or_else(|| port.get_set("port")) else { continue };
        let Some(target) = port_of(target_node) else { continue };
        for template in &templates {
            let owner = index.object(template.owner);
            let node = owner.doc.node(template.node);
            let container_ports: Vec<NodeRef<'_>> = node
                .path(&["spec", "containers"])
                .into_iter()
                .flat_map(|c| c.items())
                .flat_map(|c| c.get("ports").into_iter().flat_map(|p| p.items()))
                .collect();
            let declared = match target {
                Port::Number(n) => {
                    container_ports.is_empty()
                        || container_ports.iter().any(|p| p.get("containerPort").and_then(|v| v.as_i64()) == Some(n))
                }
                Port::Name(name) => container_ports.iter().any(|p| p.get_str("name") == Some(name)),
            };
            if declared {
                continue;
            }
            let what = if port.get_set("targetPort").is_some() { "targetPort" } else { "port (used as targetPort)" };
            let containers = node.path(&["spec", "containers"]).unwrap_or(node);
            cx.report(target_node, format!("{what} `{}` is not a container port of {}, whose pods this Service selects", target_node.display(), owner.label()))
                .help("set `targetPort` to a `containerPort` number or a container port `name` of the selected pods; traffic to this port is refused")
                .related(owner.file, containers.span(), format!("containers of {}", owner.label()));
            break;
        }
    }
}
