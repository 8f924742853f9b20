//! The controller's other Rollout spec checks (`ValidateRolloutSpec`, `ValidateRolloutStrategy*`
//! and the workloadRef resolver): counts and deadlines, maxSurge/maxUnavailable, anti-affinity,
//! the pod template, workloadRef, blue-green scale-down limits.

use crate::diagnostic::Severity;
use crate::rules::{Check, Cx, Rule};
use crate::selector::is_dns1123_label;
use crate::yaml::NodeRef;

pub const RULE: Rule = Rule {
    id: "rollout-spec",
    severity: Severity::Error,
    summary: "a Rollout spec the controller rejects: negative counts, deadlines, maxSurge/maxUnavailable both 0, anti-affinity, pod template, workloadRef",
    kinds: &["Rollout"],
    check: Some(Check::Object(check)),
    options: &[],
    doc: include_str!("../../../rules/rollout-spec.md"),
};

fn check(cx: &mut Cx<'_>) {
    let Some(spec) = cx.obj.spec() else { return };
    counts_and_deadlines(cx, spec);
    workload_ref(cx, spec);
    pod_template(cx, spec);
    let strategy = spec.get("strategy");
    if let Some(canary) = strategy.and_then(|s| s.get_set("canary")) {
        surge_and_unavailable(cx, canary);
        anti_affinity(cx, canary);
    }
    if let Some(blue_green) = strategy.and_then(|s| s.get_set("blueGreen")) {
        anti_affinity(cx, blue_green);
        if let Some(limit) = blue_green.get_set("scaleDownDelayRevisionLimit")
            && let Some(n) = limit.as_i64()
        {
            let history = spec.get_set("revisionHistoryLimit").and_then(|h| h.as_i64()).unwrap_or(10);
            if n > history {
                cx.report(limit, format!("`scaleDownDelayRevisionLimit: {n}` is above `revisionHistoryLimit` ({history}{}): the controller rejects it", if spec.get_set("revisionHistoryLimit").is_none() { ", the default" } else { "" }))
                    .help(format!("lower it to {history} or less, or raise `revisionHistoryLimit`"));
            }
        }
    }
}

fn counts_and_deadlines(cx: &mut Cx<'_>, spec: NodeRef<'_>) {
    for field in ["replicas", "minReadySeconds", "revisionHistoryLimit", "progressDeadlineSeconds"] {
        if let Some(node) = spec.get_set(field)
            && let Some(n) = node.as_i64().filter(|n| *n < 0)
        {
            cx.report(
                node,
                format!(
                    "`{field}: {n}` is negative; the controller rejects it (\"must be greater than or equal to 0\")"
                ),
            )
            .help("use 0 or more");
        }
    }
    let min_ready = spec.get_set("minReadySeconds").and_then(|n| n.as_i64()).unwrap_or(0);
    let deadline_node = spec.get_set("progressDeadlineSeconds");
    let deadline = deadline_node.and_then(|n| n.as_i64()).unwrap_or(600);
    if deadline >= 0 && deadline <= min_ready {
        let at = deadline_node.or_else(|| spec.get("minReadySeconds")).unwrap_or(spec);
        cx.report(
            at,
            format!(
                "`progressDeadlineSeconds` ({deadline}{}) must be greater than `minReadySeconds` ({min_ready})",
                if deadline_node.is_none() { ", the default" } else { "" }
            ),
        )
        .help("a pod must be able to become ready before the rollout counts as stuck: raise `progressDeadlineSeconds`");
    }
}

fn workload_ref(cx: &mut Cx<'_>, spec: NodeRef<'_>) {
    let Some(wref) = spec.get_set("workloadRef") else { return };
    let api_version = wref.get_str("apiVersion").unwrap_or("");
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    let kind = wref.get_str("kind").unwrap_or("");
    let supported = matches!((group, kind), ("", "PodTemplate") | ("apps", "Deployment") | ("apps", "ReplicaSet"));
    if !supported && !kind.is_empty() {
        let at = wref.get("kind").unwrap_or(wref);
        cx.report(at, format!("workload of type {group}/{kind} is not supported: `workloadRef` can name a Deployment, a ReplicaSet (apps/v1) or a PodTemplate (v1)"))
            .help("point `workloadRef` at the Deployment (`apiVersion: apps/v1`, `kind: Deployment`)");
    }
    // `EmptyTemplate` only looks at the template's labels and annotations.
    let meta = spec.path(&["template", "metadata"]);
    for field in ["labels", "annotations"] {
        if let Some(node) = meta.and_then(|m| m.get_set(field)).filter(|n| !n.is_empty()) {
            let file = cx.obj.file;
            cx.report(node, format!("`spec.template` must be empty when `workloadRef` is set, but it has {field}"))
                .help("remove `spec.template`: the pods come from the referenced workload's template")
                .related(file, wref.span(), "workloadRef is set here");
        }
    }
}

fn pod_template(cx: &mut Cx<'_>, spec: NodeRef<'_>) {
    if spec.get_set("workloadRef").is_some() {
        return;
    }
    let Some(template) = spec.get_set("template") else { return };
    let Some(pod) = template.get_set("spec") else {
        cx.report(template, "the pod template has no `spec`: the controller rejects it (`spec.template.spec.containers: Required value`)")
            .help("add `spec.containers` with at least one container");
        return;
    };
    match pod.get_set("containers") {
        None => {
            cx.report(pod, "the pod template has no containers (`spec.template.spec.containers: Required value`)")
                .help("add at least one container with a `name` and an `image`");
        }
        Some(list) if list.is_seq() && list.is_empty() => {
            cx.report(list, "the pod template has no containers (`spec.template.spec.containers: Required value`)")
                .help("add at least one container with a `name` and an `image`");
        }
        Some(_) => {}
    }
    let mut names: Vec<(String, crate::source::Span)> = Vec::new();
    for list in ["initContainers", "containers"] {
        for c in pod.get(list).into_iter().flat_map(|l| l.items()).filter(|c| c.is_map()) {
            match c.get_set("name").and_then(|n| n.as_str().map(|s| (n, s))) {
                None => {
                    cx.report(c, format!("a container in `{list}` has no `name`")).help("name every container");
                }
                Some((node, name)) => {
                    if !is_dns1123_label(name) {
                        cx.report(node, format!("container name `{name}` is not a valid DNS-1123 label (lower-case letters, digits and `-`, at most 63)"))
                            .help("rename it, e.g. `web`");
                    }
                    if let Some((_, first)) = names.iter().find(|(n, _)| n == name) {
                        let (file, first) = (cx.obj.file, *first);
                        cx.report(node, format!("container name `{name}` is used twice"))
                            .help("give each container its own name")
                            .related(file, first, "first used here");
                    }
                    names.push((name.to_string(), node.span()));
                }
            }
            if c.get_set("image").and_then(|i| i.as_str()).is_none_or(str::is_empty) {
                let at = c.entry("name").map_or(c, |(k, _)| k);
                cx.report(at, format!("container `{}` has no `image`", c.get_str("name").unwrap_or("?")))
                    .help("set `image`; the API server rejects a Rollout's pods without one (`image: Required value`)");
            }
            for port in c.get("ports").into_iter().flat_map(|p| p.items()) {
                if let Some(p) = port.get_set("containerPort")
                    && let Some(n) = p.as_i64().filter(|n| !(1..=65535).contains(n))
                {
                    cx.report(p, format!("`containerPort: {n}` is outside 1..65535")).help("use a valid port number");
                }
                if let Some(name) = port.get_str("name").filter(|n| !valid_port_name(n)) {
                    let at = port.get("name").unwrap_or(port);
                    cx.report(at, format!("port name `{name}` is not a valid IANA service name (at most 15 lower-case letters, digits and `-`, with a letter)"))
                        .help("use a short name such as `http` or `metrics`");
                }
            }
        }
    }
    if let Some(policy) = pod.get_set("restartPolicy").filter(|p| p.as_str() != Some("Always")) {
        cx.report(
            policy,
            format!("`restartPolicy: {}` is not supported in a Rollout: only `Always` is", policy.display()),
        )
        .help("remove `restartPolicy` (it defaults to `Always`); for run-to-completion work use a Job");
    }
    if let Some(deadline) = pod.get_set("activeDeadlineSeconds") {
        cx.report(deadline, "`activeDeadlineSeconds` is forbidden in a Rollout's pod template (\"activeDeadlineSeconds in ReplicaSet is not Supported\")")
            .help("remove it: it would kill long-running pods");
    }
}

/// k8s `IsValidPortName`: 1-15 characters of `[a-z0-9-]`, at least one letter, no leading,
/// trailing or doubled `-`.
fn valid_port_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 15
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && name.bytes().any(|b| b.is_ascii_lowercase())
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// The value the controller reads from an int-or-string: `N%` is N, another string is Atoi
/// (0 when not a number), an int is itself; absent is "25".
fn surge_value(node: Option<NodeRef<'_>>) -> i64 {
    match node {
        None => 25,
        Some(n) => match n.as_i64() {
            Some(i) if n.as_str().is_none() => i,
            _ => {
                let text = n.text().unwrap_or_default();
                text.strip_suffix('%').unwrap_or(text).parse().unwrap_or(0)
            }
        },
    }
}

fn surge_and_unavailable(cx: &mut Cx<'_>, canary: NodeRef<'_>) {
    let surge = canary.get_set("maxSurge");
    let unavailable = canary.get_set("maxUnavailable");
    if surge.is_none() && unavailable.is_none() {
        return;
    }
    for node in [surge, unavailable].into_iter().flatten() {
        if let Some(text) = node.as_str()
            && !text.ends_with('%')
        {
            let n = text.parse::<i64>().map_or("0 (not a number)".to_string(), |n| format!("{n}%"));
            cx.report(node, format!("`\"{text}\"` is a string without `%`: the controller reads it as {n}, a percentage, not a pod count"))
                .help(format!("write `{text}` without quotes for a pod count, or `\"{text}%\"` for a percentage"));
        }
    }
    if surge_value(surge) == 0 && surge_value(unavailable) == 0 {
        let at = surge.or(unavailable).unwrap_or(canary);
        cx.report(at, "`maxSurge` and `maxUnavailable` are both 0: the controller rejects it (\"MaxSurge and MaxUnavailable both can not be zero\")")
            .help("allow at least one: `maxSurge: 1` (an extra pod during the update) or `maxUnavailable: 1`");
    }
}

fn anti_affinity(cx: &mut Cx<'_>, strategy: NodeRef<'_>) {
    let Some(aa) = strategy.get_set("antiAffinity") else { return };
    let preferred = aa.get_set("preferredDuringSchedulingIgnoredDuringExecution");
    let required = aa.get_set("requiredDuringSchedulingIgnoredDuringExecution");
    if preferred.is_some() == required.is_some() {
        let how = if preferred.is_some() { "both" } else { "neither" };
        cx.report(aa, format!("`antiAffinity` sets {how} of `preferredDuringSchedulingIgnoredDuringExecution` and `requiredDuringSchedulingIgnoredDuringExecution`: exactly one is required"))
            .help("keep one, e.g. `antiAffinity: {preferredDuringSchedulingIgnoredDuringExecution: {weight: 1}}`");
    }
    if let Some(weight) = preferred.and_then(|p| p.get_set("weight"))
        && let Some(w) = weight.as_i64().filter(|w| !(1..=100).contains(w))
    {
        cx.report(weight, format!("anti-affinity `weight: {w}` is outside 1..100"))
            .help("use a weight between 1 and 100");
    }
}
