use crate::diagnostic::{Severity, did_you_mean};
use crate::index::Object;
use crate::rules::{Check, IndexCx, Rule};
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "unresolved-reference",
    severity: Severity::Error,
    summary: "a Service, Ingress, analysis template, VirtualService, DestinationRule, workload or Istio destination host named by reference does not exist",
    kinds: &[
        "Rollout",
        "Ingress",
        "AnalysisTemplate",
        "ClusterAnalysisTemplate",
        "Experiment",
        "VirtualService",
        "DestinationRule",
    ],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/unresolved-reference.md"),
};

fn check(cx: &mut IndexCx<'_>) {
    let (index, obj) = (cx.index, cx.obj);
    if matches!(obj.kind.as_str(), "VirtualService" | "DestinationRule")
        && obj.api_version.starts_with("networking.istio.io/")
    {
        istio_hosts(cx);
    }
    for r in index.references_of(cx.obj) {
        let namespace = index.target_namespace(cx.obj, r);
        // Autoscaler targets are `hpa-target-mismatch`'s. Defined only where it is not applied
        // with this object (a sibling folder, another unit): maybe applied with it some other
        // way, so not an error; but not used either.
        if r.role == "scaleTargetRef"
            || index.resolve(cx.obj, r).is_some()
            || index.all(r.kind, namespace, &r.name).next().is_some()
        {
            continue;
        }
        let names: Vec<&str> = index.of_kind(cx.obj, r.kind, namespace).map(|o| o.name.as_str()).collect();
        let suggestion = did_you_mean(&r.name, names.iter().copied());
        let where_ = match namespace {
            Some(ns) => format!(" in namespace `{ns}`"),
            None => String::new(),
        };
        let node = cx.obj.doc.node(r.at);
        let d = cx.report(node, format!("{} `{}` not found{where_}", r.kind, r.name));
        d.label(format!("{} names {} {} that the linted files do not define", r.role, article(r.kind), r.kind));
        match suggestion {
            Some(s) => {
                let target = index.get_near(obj, r.kind, namespace, s).expect("suggested from the index");
                if node.text() == Some(&*r.name) {
                    d.suggest(s);
                }
                d.help(format!("did you mean `{s}`?")).related(
                    target.file,
                    target.name_node().span(),
                    format!("{} `{s}` is defined here", r.kind),
                );
            }
            None if r.kind == "AnalysisTemplate"
                && index.get_near(obj, "ClusterAnalysisTemplate", None, &r.name).is_some() =>
            {
                d.help("a ClusterAnalysisTemplate has this name: add `clusterScope: true` to the reference");
            }
            None => {
                d.help(format!(
                    "define the {} `{}`{where_}, fix the name, or lint it together with the files that define it",
                    r.kind, r.name
                ));
            }
        }
    }
}

fn article(kind: &str) -> &'static str {
    if kind.starts_with(['A', 'E', 'I', 'O', 'U']) { "an" } else { "a" }
}

/// The destination hosts of an Istio VirtualService (`http`, `tls`, `tcp` routes, mirrors) or
/// the `host` of a DestinationRule.
fn istio_host_nodes(obj: &Object) -> Vec<NodeRef<'_>> {
    let mut out = Vec::new();
    let Some(spec) = obj.spec() else { return out };
    if obj.kind == "DestinationRule" {
        out.extend(spec.get("host"));
        return out;
    }
    for protocol in ["http", "tls", "tcp"] {
        for route in spec.get(protocol).into_iter().flat_map(|l| l.items()) {
            for dest in route.get("route").into_iter().flat_map(|l| l.items()) {
                out.extend(dest.path(&["destination", "host"]));
            }
            out.extend(route.path(&["mirror", "host"]));
            for m in route.get("mirrors").into_iter().flat_map(|l| l.items()) {
                out.extend(m.path(&["destination", "host"]));
            }
        }
    }
    out
}

/// Istio reads a host without a dot as a Service of the rule's namespace, and
/// `name.namespace.svc.cluster.local` as that Service; either must be a Service or a
/// ServiceEntry host. Other names are outside the cluster (or another registry), and a
/// namespace without Services in the files is not linted here: both are silent.
fn istio_hosts(cx: &mut IndexCx<'_>) {
    let index = cx.index;
    let obj = cx.obj;
    for node in istio_host_nodes(obj) {
        let Some(host) = node.as_str() else { continue };
        if host.contains("{{") || host.contains("${") || host.contains('*') {
            continue;
        }
        let (name, namespace) = if !host.contains('.') {
            (host, obj.namespace.as_deref())
        } else if let Some(rest) = host.strip_suffix(".svc.cluster.local")
            && let Some((name, ns)) = rest.split_once('.')
            && !ns.contains('.')
        {
            (name, Some(ns))
        } else {
            continue;
        };
        let Some(namespace) = namespace else { continue };
        // Defined, even where it is not applied with this object: as for other references.
        if index.all("Service", Some(namespace), name).next().is_some() {
            continue;
        }
        if index.of_kind(obj, "Service", Some(namespace)).next().is_none() {
            continue;
        }
        let fqdn = format!("{name}.{namespace}.svc.cluster.local");
        let entry = index.objects.iter().any(|o| {
            o.kind == "ServiceEntry"
                && o.get(&["spec", "hosts"])
                    .into_iter()
                    .flat_map(|h| h.items())
                    .filter_map(|h| h.as_str())
                    .any(|h| h == host || h == fqdn)
        });
        if entry {
            continue;
        }
        let names: Vec<&str> = index.of_kind(obj, "Service", Some(namespace)).map(|o| o.name.as_str()).collect();
        let d = cx.report(node, format!("host `{host}`: Service `{name}` not found in namespace `{namespace}`"));
        d.label("Istio resolves this host to a Service of the cluster");
        match did_you_mean(name, names.iter().copied()) {
            Some(s) => {
                let target = index.get_near(obj, "Service", Some(namespace), s).expect("suggested from the index");
                if !host.contains('.') && node.text() == Some(host) {
                    d.suggest(s);
                }
                d.help(format!("did you mean `{s}`?")).related(
                    target.file,
                    target.name_node().span(),
                    format!("Service `{s}` is defined here"),
                );
            }
            None => {
                d.help(format!("define the Service `{name}` in namespace `{namespace}` (or a ServiceEntry for the host), or fix the host"));
            }
        }
    }
}
