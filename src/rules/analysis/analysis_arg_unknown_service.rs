use std::ops::Range;

use crate::diagnostic::{Severity, did_you_mean};
use crate::index::Object;
use crate::lang::promql::{Tok, tokens};
use crate::refs::{SERVICE_ROLES, analysis_template_nodes, rollout_analyses};
use crate::rules::analysis::read::{metrics, resolve_template};
use crate::rules::{Check, IndexCx, Rule};
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "analysis-arg-unknown-service",
    severity: Severity::Warning,
    summary: "an analysis arg used as a Service name in a query label or a `*.svc.cluster.local` host names no Service of the files",
    kinds: &["Rollout"],
    check: Some(Check::Index(check)),
    options: &[],
    doc: include_str!("../../../rules/analysis-arg-unknown-service.md"),
};

/// Prometheus labels whose value is a Kubernetes Service name (Prometheus Operator and
/// ingress-nginx `service`, Istio `destination_service_name` and `destination_service`,
/// Linkerd `dst_service`, the Kubernetes service discovery relabelings).
const SERVICE_LABELS: &[&str] = &[
    "service",
    "exported_service",
    "destination_service_name",
    "destination_service",
    "dst_service",
    "kubernetes_service",
    "kubernetes_service_name",
];

/// Where a template uses an arg as a Service name: the arg, the text node and the byte range.
struct Use<'a> {
    arg: String,
    node: NodeRef<'a>,
    range: Range<usize>,
    what: &'static str,
}

fn check(cx: &mut IndexCx<'_>) {
    let (index, rollout) = (cx.index, cx.obj);
    let Some(namespace) = rollout.namespace.as_deref() else { return };
    // Only when this Rollout's Services are in the files: then the namespace's Services are.
    let strategy = rollout.get(&["spec", "strategy"]);
    let roles: Vec<&str> =
        SERVICE_ROLES.iter().filter_map(|(_, path)| strategy.and_then(|s| s.path(path))?.as_str()).collect();
    if roles.is_empty()
        || roles.iter().any(|r| index.get_near(rollout, "Service", Some(namespace), r).is_none_or(|s| s.external))
    {
        return;
    }
    for (what, analysis) in rollout_analyses(rollout.spec()) {
        for reference in analysis_template_nodes(analysis) {
            let Some(template) = resolve_template(index, rollout, reference).filter(|t| !t.external) else { continue };
            let mut seen: Vec<String> = Vec::new();
            for u in uses(template) {
                // One finding per arg: its first use.
                if seen.contains(&u.arg) {
                    continue;
                }
                seen.push(u.arg.clone());
                let passed = analysis
                    .get("args")
                    .into_iter()
                    .flat_map(|a| a.items())
                    .find(|a| a.get_str("name") == Some(u.arg.as_str()));
                let (value_node, at) = match passed {
                    Some(a) => match a.get_set("value") {
                        Some(v) => (v, v),
                        None => continue,
                    },
                    None => {
                        let declared = template
                            .get(&["spec", "args"])
                            .into_iter()
                            .flat_map(|a| a.items())
                            .find(|a| a.get_str("name") == Some(u.arg.as_str()));
                        match declared.and_then(|d| d.get_set("value")) {
                            Some(v) => (v, reference.get("templateName").unwrap_or(reference)),
                            None => continue,
                        }
                    }
                };
                let Some(value) = value_node.as_str() else { continue };
                if value.is_empty() || value.contains("{{") || value.contains(|c: char| "*|[]()^$+?\\ ".contains(c)) {
                    continue;
                }
                // `name.namespace.svc.cluster.local` or `name.namespace`.
                let mut parts = value.split('.');
                let name = parts.next().unwrap_or(value);
                let ns = parts.next().unwrap_or(namespace);
                if index.get_near(rollout, "Service", Some(ns), name).is_some() {
                    continue;
                }
                let services: Vec<&str> = index
                    .of_kind(rollout, "Service", Some(ns))
                    .filter(|s| !s.external)
                    .map(|s| s.name.as_str())
                    .collect();
                if services.is_empty() {
                    continue;
                }
                let close = closest(name, &services, &roles);
                let message = format!(
                    "arg `{}` is `{value}`, used as a Service name in the {} of {} `{}`, but namespace `{ns}` has no Service `{name}`: the {what} measures traffic that does not exist and its result is empty",
                    u.arg, u.what, template.kind, template.name
                );
                let (file, span) = (template.file, u.node.value_span(u.range.clone()));
                let default_span = (value_node.id != at.id).then(|| value_node.span());
                let d = cx.report(at, message);
                d.help(match close {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!("name one of the Services of `{ns}`: {}", services.join(", ")),
                });
                d.related(file, span, "used as a Service name here");
                if let Some(default) = default_span {
                    d.related(file, default, "the template's default value");
                }
            }
        }
    }
}

/// A Service that contains the name (`canary` for `shop-canary`), preferring the Rollout's own,
/// or one a few edits away.
fn closest<'a>(name: &str, services: &[&'a str], roles: &[&str]) -> Option<&'a str> {
    let containing: Vec<&'a str> = services.iter().copied().filter(|s| s.contains(name) || name.contains(*s)).collect();
    let own: Vec<&'a str> = containing.iter().copied().filter(|s| roles.contains(s)).collect();
    match (own.as_slice(), containing.as_slice()) {
        ([one], _) | ([], [one]) => Some(one),
        _ => did_you_mean(name, services.iter().copied()),
    }
}

/// The args a template uses as a Service name: the whole value of a Service label matcher
/// (`service="{{args.x}}"`, or `{{args.x}}.` followed by more for `destination_service`), and the
/// first label of a `*.svc` host (`http://{{args.x}}.{{args.ns}}.svc.cluster.local`).
fn uses(template: &Object) -> Vec<Use<'_>> {
    let mut out = Vec::new();
    for metric in metrics(template.spec()) {
        if let Some(node) = metric.path(&["provider", "prometheus", "query"])
            && let Some(query) = node.text()
        {
            for t in tokens(query) {
                if t.tok == Tok::Matchers {
                    matchers(query, t.range.clone(), node, &mut out);
                }
            }
            let labels = out.len();
            hosts(query, node, &mut out);
            // A host inside a label matcher already found is one use.
            let found: Vec<usize> = out[..labels].iter().map(|u| u.range.start).collect();
            let mut k = labels;
            while k < out.len() {
                if found.contains(&out[k].range.start) {
                    out.remove(k);
                } else {
                    k += 1;
                }
            }
        }
        if let Some(node) = metric.path(&["provider", "web", "url"])
            && let Some(url) = node.text()
        {
            hosts(url, node, &mut out);
        }
    }
    out
}

fn matchers<'a>(query: &str, range: Range<usize>, node: NodeRef<'a>, out: &mut Vec<Use<'a>>) {
    let inner = &query[range.start + 1..range.end.saturating_sub(1).max(range.start + 1)];
    let base = range.start + 1;
    let bytes = inner.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        // label
        while i < bytes.len() && (bytes[i] == b',' || bytes[i].is_ascii_whitespace()) {
            i += 1;
        }
        let label_start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        let label = &inner[label_start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let op_start = i;
        while i < bytes.len() && matches!(bytes[i], b'=' | b'!' | b'~') {
            i += 1;
        }
        let op = &inner[op_start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let Some(&quote) = bytes.get(i).filter(|q| matches!(q, b'"' | b'\'' | b'`')) else {
            // Not a matcher this reader understands: stop rather than guess.
            return;
        };
        let value_start = i + 1;
        let mut j = value_start;
        while j < bytes.len() && bytes[j] != quote {
            j += if bytes[j] == b'\\' { 2 } else { 1 };
        }
        let value = inner.get(value_start..j.min(inner.len())).unwrap_or("");
        i = j + 1;
        if !(op == "=" || op == "=~") || !SERVICE_LABELS.contains(&label) {
            continue;
        }
        if let Some(arg) = leading_arg(value)
            && (arg.1 == value.len() || value[arg.1..].starts_with('.'))
        {
            out.push(Use {
                arg: arg.0,
                node,
                range: base + value_start..base + value_start + arg.1,
                what: "label matcher",
            });
        }
    }
}

/// `{{args.x}}.` ... `.svc` anywhere in a text: a Service host.
fn hosts<'a>(text: &str, node: NodeRef<'a>, out: &mut Vec<Use<'a>>) {
    let mut from = 0;
    while let Some(start) = text[from..].find("{{").map(|s| s + from) {
        let Some((arg, len)) = leading_arg(&text[start..]) else {
            from = start + 2;
            continue;
        };
        let rest = &text[start + len..];
        let host_end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || "-.{}_ ".contains(c))).unwrap_or(rest.len());
        let host = &rest[..host_end];
        let preceded =
            text[..start].ends_with("://") || text[..start].ends_with(['"', '\'', '/', ' ', '@']) || start == 0;
        if preceded && host.starts_with('.') && (host.contains(".svc.") || host.ends_with(".svc")) {
            out.push(Use { arg, node, range: start..start + len, what: "host" });
        }
        from = start + len;
    }
}

/// The arg of a `{{args.x}}` placeholder at the start of `text`, and the placeholder's length.
fn leading_arg(text: &str) -> Option<(String, usize)> {
    let rest = text.strip_prefix("{{")?;
    let end = rest.find("}}")?;
    let arg = rest[..end].trim().strip_prefix("args.")?;
    Some((arg.to_string(), end + 4))
}

#[cfg(test)]
mod tests {
    use crate::lint::{Options, lint_files};
    use crate::load::load_bytes;
    use crate::source::FileId;

    const SERVICES: &str = "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: shop-stable\nspec:\n  selector:\n    app: shop\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: shop-canary\nspec:\n  selector:\n    app: shop\n";

    fn found(value: &str, query: &str, services: &str) -> Vec<(String, String)> {
        let text = format!(
            "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: shop\nspec:\n  selector:\n    matchLabels:\n      app: shop\n  template:\n    metadata:\n      labels:\n        app: shop\n    spec:\n      containers:\n        - name: shop\n          image: shop:1\n  strategy:\n    canary:\n      stableService: shop-stable\n      canaryService: shop-canary\n      steps:\n        - setWeight: 20\n        - analysis:\n            templates:\n              - templateName: errors\n            args:\n              - name: svc\n                value: {value}\n---\napiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n  name: errors\nspec:\n  args:\n    - name: svc\n  metrics:\n    - name: errors\n      interval: 1m\n      count: 3\n      failureLimit: 1\n      successCondition: result[0] < 1\n      provider:\n        prometheus:\n          address: http://prometheus:9090\n          query: '{}'\n{services}",
            query.replace('\'', "''")
        );
        let out = lint_files(vec![load_bytes(FileId(0), "t.yaml".into(), text.into_bytes())], &Options::default());
        out.diagnostics
            .iter()
            .filter(|d| d.rule == "analysis-arg-unknown-service")
            .map(|d| (d.message.clone(), d.help.clone().unwrap_or_default().to_string()))
            .collect()
    }

    const ISTIO: &str =
        r#"sum(rate(istio_requests_total{destination_service_name="{{args.svc}}",response_code=~"5.*"}[2m]))"#;

    #[test]
    fn service_labels_and_hosts_naming_no_service() {
        let f = found("canary", ISTIO, SERVICES);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(f[0].0.contains("no Service `canary`"), "{f:?}");
        assert_eq!(f[0].1, "did you mean `shop-canary`?");
        let fqdn =
            r#"sum(rate(istio_requests_total{destination_service=~"{{args.svc}}.default.svc.cluster.local"}[2m]))"#;
        assert_eq!(found("shop-canry", fqdn, SERVICES).len(), 1);
        let host = r#"sum(rate(probe_success{target="http://{{args.svc}}.default.svc.cluster.local:8080"}[1m]))"#;
        assert_eq!(found("shop", host, SERVICES).len(), 1);
    }

    #[test]
    fn silent_when_the_service_exists_or_services_are_not_in_the_files() {
        assert!(found("shop-canary", ISTIO, SERVICES).is_empty());
        assert!(found("shop-canary.default.svc.cluster.local", ISTIO, SERVICES).is_empty());
        // The Rollout's own Services are not in the files.
        assert!(found("canary", ISTIO, "").is_empty());
        // Not a Service label; a regex value.
        assert!(found("canary", r#"sum(rate(x{app="{{args.svc}}"}[1m]))"#, SERVICES).is_empty());
        assert!(found("canary.*", ISTIO, SERVICES).is_empty());
    }
}
