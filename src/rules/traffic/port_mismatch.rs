use crate::diagnostic::Severity;
use crate::index::PodTemplate;
use crate::rules::{Check, IndexCx, Rule};
use crate::selector::Selector;
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "port-mismatch",
    severity: Severity::Error,
    summary: "an Ingress backend port the Service does not expose, or a named Service `targetPort` no selected pod declares",
    kinds: &["Ingress", "Service"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/port-mismatch.md"),
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
    // A Rollout's own Services select only its pods: the controller adds
    // `rollouts-pod-template-hash` to their selectors.
    let namespace = obj.namespace.as_deref();
    // (Found through the reference index: a scan of the namespace's Rollouts per Service is
    // quadratic in one large namespace.)
    let owners: Vec<_> = index
        .referrers_of(obj)
        .filter(|(r, reference)| {
            r.kind == "Rollout" && crate::refs::SERVICE_ROLES.iter().any(|(role, _)| *role == reference.role)
        })
        .map(|(r, _)| r.id)
        .collect();
    let templates: Vec<&PodTemplate> = index
        .templates_matching(obj, namespace, &selector)
        .filter(|t| owners.is_empty() || owners.contains(&t.owner))
        .filter(|t| !is_helm_test_hook(index.object(t.owner)))
        .collect();
    if templates.is_empty() {
        return;
    }
    for port in obj.get(&["spec", "ports"]).into_iter().flat_map(|p| p.items()) {
        // A numeric targetPort is forwarded whether a container declares it or not: only a
        // name must be resolved, against each pod's declared port names.
        let Some(target_node) = port.get_set("targetPort") else { continue };
        let Some(Port::Name(name)) = port_of(target_node) else { continue };
        let declares = |t: &&PodTemplate| {
            let node = index.object(t.owner).doc.node(t.node);
            node.path(&["spec", "containers"])
                .into_iter()
                .flat_map(|c| c.items())
                .flat_map(|c| c.get("ports").into_iter().flat_map(|p| p.items()))
                .any(|p| p.get_str("name") == Some(name))
        };
        if templates.iter().any(declares) {
            continue;
        }
        let owner = index.object(templates[0].owner);
        let node = owner.doc.node(templates[0].node);
        let containers = node.path(&["spec", "containers"]).unwrap_or(node);
        let whose = if templates.len() == 1 {
            owner.label()
        } else {
            format!("{} and {} other workload(s)", owner.label(), templates.len() - 1)
        };
        cx.report(
            target_node,
            format!("targetPort `{name}` is not a container port name of any pod this Service selects ({whose}): the Service has no endpoints for this port"),
        )
        .help("name a container port `name` of the selected pods, or use the `containerPort` number; pods that do not declare a named targetPort are left out of the Service's endpoints for that port")
        .related(owner.file, containers.span(), format!("containers of {}", owner.label()));
    }
}

/// Pods of Helm test hooks are created by `helm test`, never by install or upgrade.
fn is_helm_test_hook(owner: &crate::index::Object) -> bool {
    owner
        .get(&["metadata", "annotations", "helm.sh/hook"])
        .and_then(|h| h.as_str())
        .is_some_and(|h| h.split(',').any(|h| h.trim().starts_with("test")))
}
