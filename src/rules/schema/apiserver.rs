//! What the API server validates beyond the OpenAPI schema, in pod templates and Ingresses:
//! resource quantities (`resource.ParseQuantity`), DNS-1123 names and hosts, port numbers and
//! names (IANA_SVC_NAME), environment variable names, and pod templates without containers.
//! Each grammar follows k8s.io/apimachinery `pkg/api/resource` and `pkg/util/validation`, and
//! its use follows `pkg/apis/core/validation` and `pkg/apis/networking/validation`.

use crate::selector::{is_dns_subdomain as is_dns1123_subdomain, is_dns1123_label};
use crate::settings::KubeVersion;
use crate::yaml::{NodeRef, Resolved};

/// A value the API server refuses.
pub struct Refusal<'a> {
    pub at: NodeRef<'a>,
    pub message: String,
    pub help: &'static str,
}

/// Values filled in before the API server sees them: Argo Rollouts `{{args.x}}`
/// placeholders, Flux and envsubst `${VAR}`, Helm actions.
fn substituted(text: &str) -> bool {
    text.contains("{{") || text.contains("${")
}

/// `resource.ParseQuantity`: a signed decimal number (`1`, `0.5`, `.5`, `1.`), then a suffix:
/// binary (`Ki`...`Ei`), decimal SI (`n`, `u`, `m`, ``, `k`, `M`, `G`, `T`, `P`, `E`) or a
/// decimal exponent (`e3`, `E-2`).
pub fn is_quantity(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty() {
        return false;
    }
    let mut pos = usize::from(matches!(b[0], b'+' | b'-'));
    while pos < b.len() && b[pos].is_ascii_digit() {
        pos += 1;
    }
    if pos < b.len() && b[pos] == b'.' {
        pos += 1;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
    }
    let suffix = &s[pos..];
    if matches!(
        suffix,
        "" | "n" | "u" | "m" | "k" | "M" | "G" | "T" | "P" | "E" | "Ki" | "Mi" | "Gi" | "Ti" | "Pi" | "Ei"
    ) {
        return true;
    }
    // A decimal exponent: `e` or `E`, an optional sign, digits (`ParseInt` of what follows).
    match suffix.strip_prefix(['e', 'E']) {
        Some(exp) => {
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) && exp.parse::<i64>().is_ok()
        }
        None => false,
    }
}

/// `IsWildcardDNS1123Subdomain`: `*.` and a subdomain.
fn is_wildcard_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.strip_prefix("*.").is_some_and(is_dns1123_subdomain)
}

/// `IsValidPortName` (IANA_SVC_NAME): at most 15 lower case alphanumerics and `-`, at least
/// one letter, no `--`, no `-` at either end.
pub fn is_port_name(s: &str) -> bool {
    s.len() <= 15
        && !s.is_empty()
        && s.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
        && s.bytes().any(|c| c.is_ascii_lowercase())
        && !s.contains("--")
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// Environment variable names: from 1.32 (RelaxedEnvironmentVariableValidation, beta and on by
/// default; GA in 1.34) any printable ASCII but `=`; before, `IsEnvVarName`:
/// `[-._a-zA-Z][-._a-zA-Z0-9]*`, and not `.`, `..` or `..`-prefixed.
pub fn is_env_var_name(s: &str, target: KubeVersion) -> bool {
    if target >= (KubeVersion { major: 1, minor: 32 }) {
        return !s.is_empty() && s.bytes().all(|c| (0x20..0x7f).contains(&c) && c != b'=');
    }
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || matches!(b[0], b'-' | b'.' | b'_'))
        && b.iter().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_'))
        && s != "."
        && !s.starts_with("..")
}

const QUANTITY_HELP: &str = "a quantity is a number with an optional suffix: binary `Ki`, `Mi`, `Gi`, `Ti`, `Pi`, `Ei`; decimal `m`, `k`, `M`, `G`, `T`, `P`, `E`; or an exponent `e3`. For example `512Mi`, `1G`, `0.5`, `100m`";
const LABEL_HELP: &str =
    "use at most 63 lower case letters, digits and `-`, starting and ending with a letter or digit";
const SUBDOMAIN_HELP: &str = "use lower case letters, digits, `-` and `.`, each dot-separated part starting and ending with a letter or digit, at most 253 characters";
const PORT_NAME_HELP: &str = "a port name (IANA_SVC_NAME) has at most 15 lower case letters, digits and `-`, at least one letter, and no `-` at either end or twice in a row";
const PORT_HELP: &str = "a port number is between 1 and 65535";

/// Where the pod templates of a kind are (`-`: each item of a list).
fn pod_template_paths(kind: &str) -> &'static [&'static [&'static str]] {
    match kind {
        "Rollout" | "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" => &[&["spec", "template"]],
        "CronJob" => &[&["spec", "jobTemplate", "spec", "template"]],
        "PodTemplate" => &[&["template"]],
        "Experiment" => &[&["spec", "templates", "-", "template"]],
        "AnalysisTemplate" | "ClusterAnalysisTemplate" | "AnalysisRun" => {
            &[&["spec", "metrics", "-", "provider", "job", "spec", "template"]]
        }
        _ => &[],
    }
}

/// The values at `path`, each with its key (to point at, for a mapping that spans lines).
fn at_path<'a>(node: NodeRef<'a>, key: NodeRef<'a>, path: &[&str], out: &mut Vec<(NodeRef<'a>, NodeRef<'a>)>) {
    match path.split_first() {
        None => out.push((key, node)),
        Some((&"-", rest)) => {
            for item in node.items() {
                at_path(item, item, rest, out);
            }
        }
        Some((name, rest)) => {
            if let Some((k, child)) = node.entry(name).filter(|(_, v)| !v.is_null()) {
                at_path(child, k, rest, out);
            }
        }
    }
}

/// Every refusal in an object of `kind`.
pub fn check<'a>(kind: &str, root: NodeRef<'a>, target: KubeVersion) -> Vec<Refusal<'a>> {
    let mut out = Vec::new();
    if kind == "Pod" {
        pod_spec(root.get("spec"), root.entry("kind").map(|(k, _)| k), target, &mut out);
    }
    // A Rollout that takes its template from a `workloadRef` has none of its own.
    let workload_ref = kind == "Rollout" && root.path(&["spec", "workloadRef"]).is_some();
    for path in pod_template_paths(kind) {
        let mut templates = Vec::new();
        at_path(root, root, path, &mut templates);
        for (key, template) in templates.into_iter().filter(|(_, t)| t.is_map() && !workload_ref) {
            // `rollout-spec` reports a Rollout's template without spec or containers.
            let whole = if kind == "Rollout" { None } else { Some(key) };
            pod_spec(template.get_set("spec"), whole, target, &mut out);
        }
    }
    if kind == "Ingress" {
        ingress(root.get("spec"), &mut out);
    }
    out
}

/// `template`: where to report a template without containers (`None`: another rule does).
fn pod_spec<'a>(
    spec: Option<NodeRef<'a>>,
    template: Option<NodeRef<'a>>,
    target: KubeVersion,
    out: &mut Vec<Refusal<'a>>,
) {
    let Some(spec) = spec else {
        let Some(at) = template else { return };
        out.push(Refusal {
            at,
            message: "this pod template has no `spec`, so no containers: the API server refuses pods without one"
                .into(),
            help: "add `spec: {containers: [...]}` to the template",
        });
        return;
    };
    if let Some(containers) = spec.get("containers")
        && template.is_some()
        && containers.is_seq()
        && containers.is_empty()
    {
        out.push(Refusal {
            at: containers,
            message: "`containers` is empty: a pod needs at least one container".into(),
            help: "list the pod's containers under `containers`",
        });
    }
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        for c in spec.get(list).into_iter().flat_map(|l| l.items()) {
            container(c, target, out);
        }
    }
    for v in spec.get("volumes").into_iter().flat_map(|l| l.items()) {
        if let Some(size) = v.path(&["emptyDir", "sizeLimit"]) {
            quantity(size, "emptyDir.sizeLimit", out);
        }
    }
}

fn container<'a>(c: NodeRef<'a>, target: KubeVersion, out: &mut Vec<Refusal<'a>>) {
    if let Some(name) = c.get("name")
        && let Some(text) = name.as_str()
        && !substituted(text)
        && !is_dns1123_label(text)
    {
        out.push(Refusal {
            at: name,
            message: format!("container name `{text}` is not a DNS-1123 label: the API server refuses it"),
            help: LABEL_HELP,
        });
    }
    for group in ["limits", "requests"] {
        for (key, value) in c.path(&["resources", group]).into_iter().flat_map(|m| m.entries()) {
            let name = key.key_text().unwrap_or_default();
            quantity(value, &format!("{group}.{name}"), out);
        }
    }
    for port in c.get("ports").into_iter().flat_map(|p| p.items()) {
        if let Some(n) = port.get("containerPort") {
            port_number(n, "containerPort", false, out);
        }
        if let Some(n) = port.get("hostPort") {
            port_number(n, "hostPort", true, out);
        }
        if let Some(name) = port.get("name")
            && let Some(text) = name.as_str()
            && !text.is_empty()
            && !substituted(text)
            && !is_port_name(text)
        {
            out.push(Refusal {
                at: name,
                message: format!("port name `{text}` is not a valid port name: the API server refuses it"),
                help: PORT_NAME_HELP,
            });
        }
    }
    for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
        let Some(p) = c.get(probe) else { continue };
        for handler in ["httpGet", "tcpSocket"] {
            if let Some(port) = p.path(&[handler, "port"]) {
                named_or_numbered_port(port, out);
            }
        }
        if let Some(port) = p.path(&["grpc", "port"]) {
            port_number(port, "port", false, out);
        }
    }
    for env in c.get("env").into_iter().flat_map(|e| e.items()) {
        if let Some(name) = env.get("name")
            && let Some(text) = name.as_str()
            && !substituted(text)
            && !is_env_var_name(text, target)
        {
            let message = if target >= (KubeVersion { major: 1, minor: 32 }) {
                format!("environment variable name `{text}` must be printable ASCII without `=` (Kubernetes {target})")
            } else {
                format!(
                    "environment variable name `{text}` is not valid before Kubernetes 1.32: it must match `[-._a-zA-Z][-._a-zA-Z0-9]*` (the target is {target})"
                )
            };
            out.push(Refusal { at: name, message, help: "rename the variable; the API server refuses the object" });
        }
    }
}

fn quantity<'a>(value: NodeRef<'a>, what: &str, out: &mut Vec<Refusal<'a>>) {
    let Some(scalar) = value.scalar() else { return };
    let refused = match scalar.value {
        Resolved::Int(i) => (i < 0).then(|| format!("`{what}` must not be negative, it is {i}")),
        Resolved::Float(f) if f.is_finite() => (f < 0.0).then(|| format!("`{what}` must not be negative, it is {f}")),
        Resolved::Str => {
            let text = value.text().unwrap_or_default();
            if substituted(text) {
                None
            } else if !is_quantity(text) {
                Some(format!("`{text}` is not a quantity (`{what}`): the API server refuses it"))
            } else if text.starts_with('-')
                && text.trim_start_matches(['-', '0', '.']).chars().next().is_some_and(|c| c.is_ascii_digit())
            {
                Some(format!("`{what}` must not be negative, it is {text}"))
            } else {
                None
            }
        }
        _ => None,
    };
    if let Some(message) = refused {
        out.push(Refusal { at: value, message, help: QUANTITY_HELP });
    }
}

fn port_number<'a>(value: NodeRef<'a>, field: &str, zero_allowed: bool, out: &mut Vec<Refusal<'a>>) {
    let Some(n) = value.as_i64() else { return };
    // Beyond 32 bits the schema already refuses it (`format: int32`).
    if i32::try_from(n).is_err() || (zero_allowed && n == 0) || (1..=65535).contains(&n) {
        return;
    }
    out.push(Refusal { at: value, message: format!("`{field}: {n}` is outside 1-65535"), help: PORT_HELP });
}

/// A probe port: a number, or the name of one of the container's ports.
fn named_or_numbered_port<'a>(value: NodeRef<'a>, out: &mut Vec<Refusal<'a>>) {
    match value.as_str() {
        Some(text) if !substituted(text) && !is_port_name(text) => out.push(Refusal {
            at: value,
            message: format!("probe port `{text}` is neither a number nor a valid port name"),
            help: PORT_NAME_HELP,
        }),
        Some(_) => {}
        None => port_number(value, "port", false, out),
    }
}

fn ingress<'a>(spec: Option<NodeRef<'a>>, out: &mut Vec<Refusal<'a>>) {
    let Some(spec) = spec else { return };
    if let Some(class) = spec.get("ingressClassName")
        && let Some(text) = class.as_str()
        && !substituted(text)
        && !is_dns1123_subdomain(text)
    {
        out.push(Refusal {
            at: class,
            message: format!("`ingressClassName: {text}` is not a DNS-1123 subdomain: the API server refuses it"),
            help: SUBDOMAIN_HELP,
        });
    }
    for rule in spec.get("rules").into_iter().flat_map(|r| r.items()) {
        let Some(host) = rule.get("host") else { continue };
        let Some(text) = host.as_str() else { continue };
        if text.is_empty() || substituted(text) {
            continue;
        }
        let message = if text.parse::<std::net::IpAddr>().is_ok() {
            format!("host `{text}` is an IP address: an Ingress host must be a DNS name")
        } else if text.contains('*') {
            if is_wildcard_subdomain(text) {
                continue;
            }
            format!("host `{text}` is not a wildcard DNS-1123 subdomain (`*.example.com`): the API server refuses it")
        } else if is_dns1123_subdomain(text) {
            continue;
        } else {
            format!("host `{text}` is not a DNS-1123 subdomain: the API server refuses it")
        };
        out.push(Refusal { at: host, message, help: SUBDOMAIN_HELP });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_follow_parse_quantity() {
        // `Mi` alone parses too (as zero), as in Go.
        for ok in
            ["512Mi", "1G", "0.5", "100m", "1", "0", ".5", "1.", "1e3", "1E-2", "+1", "2Ei", "250u", "1.5Gi", "Mi"]
        {
            assert!(is_quantity(ok), "{ok}");
        }
        for bad in ["invalid", "512mb", "1GB", "", "1 Gi", "1m5", "1Kb", "e3x", "1gi", "1e", "1.2.3"] {
            assert!(!is_quantity(bad), "{bad}");
        }
    }

    #[test]
    fn names() {
        assert!(is_dns1123_label("web-1"));
        assert!(!is_dns1123_label("Web") && !is_dns1123_label("web_1") && !is_dns1123_label("-web"));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        assert!(is_dns1123_subdomain("nginx") && is_dns1123_subdomain("shop.example.com"));
        assert!(!is_dns1123_subdomain("<nginx>") && !is_dns1123_subdomain("<DOMAIN>") && !is_dns1123_subdomain("a..b"));
        assert!(is_wildcard_subdomain("*.example.com") && !is_wildcard_subdomain("a.*.com"));
        assert!(is_port_name("http") && is_port_name("http-metrics") && is_port_name("h2c"));
        assert!(!is_port_name("http-metrics-port") && !is_port_name("8080") && !is_port_name("HTTP"));
        assert!(!is_port_name("a--b") && !is_port_name("web_http"));
        let v = |minor| KubeVersion { major: 1, minor };
        assert!(is_env_var_name("MY_VAR.name-1", v(31)) && !is_env_var_name("1VAR", v(31)));
        assert!(!is_env_var_name("..x", v(31)) && !is_env_var_name("A B", v(31)));
        assert!(is_env_var_name("1VAR", v(33)) && is_env_var_name("A B", v(33)));
        assert!(!is_env_var_name("A=B", v(33)) && !is_env_var_name("", v(33)) && !is_env_var_name("é", v(33)));
    }
}
