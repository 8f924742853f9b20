//! What outlives the object checks: the parts of each document that the index and the index
//! checks read. Object checks run while a document's whole tree exists; afterwards only this
//! is kept, so memory follows the objects rather than the text: identity and metadata (labels
//! aside), every spec but pod specs, of which only the containers' names, port names and whether
//! they have a readiness probe, and the data of the controller's own ConfigMap.
//!
//! `tests/retention.rs` lints every fixture and corpus file both with whole trees and with
//! these, and requires the same findings.

use std::sync::Arc;

use crate::index::CONTROLLER_CONFIG;
use crate::schema::KEYS;
use crate::yaml::{Document, Keep, NodeId, Retained, SharedStrings};

/// Property names: retained documents point at these rather than copy them.
static SHARED: std::sync::LazyLock<SharedStrings> = std::sync::LazyLock::new(|| SharedStrings::new(KEYS));

/// What the index checks read of `docs`, copied into one tree, and where each root now is.
pub fn facts(docs: &[Arc<Document>]) -> (Document, Vec<Option<NodeId>>) {
    let mut kept = Retained::new(&SHARED);
    let roots = docs.iter().map(|doc| facts_of(doc, &mut kept)).collect();
    (kept.finish(), roots)
}

fn facts_of(doc: &Document, kept: &mut Retained) -> Option<NodeId> {
    let Some(root) = doc.root() else { return kept.add(doc, &|_| Keep::Drop) };
    let kind = root.get_str("kind").unwrap_or_default();
    if kind == "List" {
        return kept.add(doc, &|_| Keep::All);
    }
    let controller_config =
        kind == "ConfigMap" && root.path(&["metadata", "name"]).and_then(|n| n.as_str()) == Some(CONTROLLER_CONFIG);
    kept.add(doc, &|path| keep(kind, controller_config, path))
}

/// Where pod specs sit in each kind that has them (`-`: any item of a list).
fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "Rollout" | "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" => &["spec", "template", "spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        "PodTemplate" => &["template", "spec"],
        "Pod" => &["spec"],
        "Experiment" => &["spec", "templates", "-", "template", "spec"],
        _ => return None,
    })
}

/// Of analysis templates, what merging them for a Rollout reads: args, nested templates, and of
/// each metric its name, how often it runs, and its plugin (the queries are checked already),
/// and the texts that can name a Service (a Prometheus query, a web URL).
fn analysis(path: &[&str]) -> Keep {
    match path {
        ["spec"] | ["spec", "metrics"] | ["spec", "metrics", "-"] | ["spec", "metrics", "-", "provider"] => Keep::Part,
        ["spec", "metrics", "-", "provider", "prometheus" | "web"] => Keep::Part,
        ["spec", "metrics", "-", "name" | "interval" | "count"]
        | ["spec", "metrics", "-", "provider", "plugin"]
        | ["spec", "metrics", "-", "provider", "prometheus", "query"]
        | ["spec", "metrics", "-", "provider", "web", "url"] => Keep::All,
        ["spec", "metrics", ..] => Keep::Drop,
        _ => Keep::All,
    }
}

/// Of Services, what selects pods and the ports.
fn service(path: &[&str]) -> Keep {
    match path {
        ["spec"] | ["spec", "ports"] | ["spec", "ports", "-"] => Keep::Part,
        ["spec", "selector"] | ["spec", "ports", "-", "name" | "port" | "targetPort"] => Keep::All,
        ["spec", ..] => Keep::Drop,
        _ => Keep::All,
    }
}

/// Of Ingresses, the hosts and backends (TLS settings and path matching aside).
fn ingress(path: &[&str]) -> Keep {
    match path {
        ["spec"]
        | ["spec", "rules"]
        | ["spec", "rules", "-"]
        | ["spec", "rules", "-", "http"]
        | ["spec", "rules", "-", "http", "paths"]
        | ["spec", "rules", "-", "http", "paths", "-"] => Keep::Part,
        ["spec", "tls"] | ["spec", "rules", "-", "http", "paths", "-", "path" | "pathType"] => Keep::Drop,
        _ => Keep::All,
    }
}

fn keep(kind: &str, controller_config: bool, path: &[&str]) -> Keep {
    let pod_spec = pod_spec_path(kind);
    // Where the pod template (`metadata` and `spec`) is: the object itself for a Pod.
    let template = pod_spec.map(|p| &p[..p.len() - 1]);
    if let Some(template) = template
        && path.len() > template.len()
        && path.starts_with(template)
        && path[template.len()] == "metadata"
    {
        // Pods are selected by their template's labels.
        return match &path[template.len() + 1..] {
            [] => Keep::Part,
            ["labels"] => Keep::All,
            [_, ..] if template.is_empty() => metadata(&path[1..]),
            _ => Keep::Drop,
        };
    }
    match path {
        [] => return Keep::Part,
        ["metadata", rest @ ..] => return metadata(rest),
        ["data" | "stringData" | "binaryData", ..] if matches!(kind, "ConfigMap" | "Secret") && !controller_config => {
            return Keep::Drop;
        }
        _ => {}
    }
    match kind {
        "AnalysisTemplate" | "ClusterAnalysisTemplate" | "AnalysisRun" => return analysis(path),
        "Service" => return service(path),
        "Ingress" => return ingress(path),
        _ => {}
    }
    if kind == "Rollout" {
        match path {
            ["spec"] | ["spec", "strategy"] | ["spec", "strategy", "canary"] => return Keep::Part,
            ["spec", "strategy", "canary", "steps"] | ["spec", "strategy", "canary", "steps", "-"] => {
                return Keep::Part;
            }
            // How long a step pauses matters to no check of other objects.
            ["spec", "strategy", "canary", "steps", "-", "pause"] => return Keep::Drop,
            _ => {}
        }
    }
    let Some(pod_spec) = pod_spec else { return Keep::All };
    let common = path.iter().zip(pod_spec).take_while(|(a, b)| a == b).count();
    if common < path.len().min(pod_spec.len()) {
        return Keep::All;
    }
    if path.len() <= pod_spec.len() {
        return Keep::Part;
    }
    // Index checks read a container's name, its ports' names (a Service's named targetPort)
    // and whether it has a readiness probe (a `workloadRef` Deployment's).
    match &path[pod_spec.len()..] {
        ["containers" | "initContainers"] | ["containers" | "initContainers", "-"] => Keep::Part,
        ["containers" | "initContainers", "-", "ports" | "readinessProbe"] => Keep::Part,
        ["containers" | "initContainers", "-", "ports", "-"] => Keep::Part,
        ["containers" | "initContainers", "-", "name"]
        | ["containers" | "initContainers", "-", "ports", "-", "name"] => Keep::All,
        _ => Keep::Drop,
    }
}

/// Of an object's metadata: its identity, owners, and the annotations rollcheck and the
/// controller read (suppressions, who manages a Service), Helm hooks and ingress-nginx canary
/// annotations (whatever their prefix), not its labels.
fn metadata(rest: &[&str]) -> Keep {
    match rest {
        [] | ["annotations"] => Keep::Part,
        ["annotations", key]
            if key.starts_with("rollcheck.io/")
                || key.starts_with("argo-rollouts.argoproj.io/")
                || *key == "helm.sh/hook"
                || key.split_once('/').is_some_and(|(_, name)| name.starts_with("canary")) =>
        {
            Keep::All
        }
        ["labels" | "managedFields" | "annotations", ..] => Keep::Drop,
        _ => Keep::All,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_what_index_checks_read() {
        let pod = ["spec", "template", "spec"];
        assert_eq!(keep("Rollout", false, &["spec", "strategy"]), Keep::Part);
        assert_eq!(keep("Rollout", false, &["spec", "strategy", "blueGreen"]), Keep::All);
        assert_eq!(keep("Rollout", false, &["spec", "template"]), Keep::Part);
        assert_eq!(keep("Rollout", false, &["spec", "template", "metadata"]), Keep::Part);
        assert_eq!(keep("Rollout", false, &["spec", "template", "metadata", "labels"]), Keep::All);
        assert_eq!(keep("Rollout", false, &["spec", "template", "metadata", "annotations"]), Keep::Drop);
        assert_eq!(keep("Pod", false, &["metadata", "labels"]), Keep::All);
        assert_eq!(keep("Pod", false, &["metadata", "name"]), Keep::All);
        assert_eq!(keep("Pod", false, &["spec", "containers", "-", "ports"]), Keep::Part);
        assert_eq!(keep("Service", false, &["spec", "ports", "-", "protocol"]), Keep::Drop);
        assert_eq!(keep("Service", false, &["spec", "selector"]), Keep::All);
        assert_eq!(keep("Rollout", false, &[&pod[..], &["containers", "-", "ports"]].concat()), Keep::Part);
        assert_eq!(keep("Rollout", false, &[&pod[..], &["containers", "-", "ports", "-", "name"]].concat()), Keep::All);
        assert_eq!(
            keep("Rollout", false, &[&pod[..], &["containers", "-", "ports", "-", "containerPort"]].concat()),
            Keep::Drop
        );
        assert_eq!(keep("Rollout", false, &[&pod[..], &["containers", "-", "env"]].concat()), Keep::Drop);
        assert_eq!(keep("Deployment", false, &[&pod[..], &["containers", "-", "readinessProbe"]].concat()), Keep::Part);
        assert_eq!(
            keep("Deployment", false, &[&pod[..], &["containers", "-", "readinessProbe", "httpGet"]].concat()),
            Keep::Drop
        );
        assert_eq!(keep("Rollout", false, &[&pod[..], &["volumes"]].concat()), Keep::Drop);
        assert_eq!(keep("Rollout", false, &["metadata", "labels"]), Keep::Drop);
        assert_eq!(keep("Rollout", false, &["metadata", "annotations"]), Keep::Part);
        assert_eq!(keep("Service", false, &["metadata", "annotations", "rollcheck.io/ignore"]), Keep::All);
        assert_eq!(keep("Service", false, &["metadata", "annotations", "cert-manager.io/issuer"]), Keep::Drop);
        assert_eq!(keep("Rollout", false, &["spec", "strategy", "canary", "steps", "-", "setWeight"]), Keep::All);
        assert_eq!(keep("Rollout", false, &["spec", "strategy", "canary", "steps", "-", "pause"]), Keep::Drop);
        assert_eq!(keep("Experiment", false, &["spec", "templates", "-", "template", "spec", "nodeName"]), Keep::Drop);
        assert_eq!(keep("ConfigMap", false, &["data"]), Keep::Drop);
        assert_eq!(keep("ConfigMap", true, &["data"]), Keep::All);
        assert_eq!(keep("Service", false, &["spec"]), Keep::Part);
        assert_eq!(keep("AnalysisTemplate", false, &["spec", "args"]), Keep::All);
        assert_eq!(keep("AnalysisTemplate", false, &["spec", "metrics", "-", "count"]), Keep::All);
        assert_eq!(keep("AnalysisTemplate", false, &["spec", "metrics", "-", "provider", "prometheus"]), Keep::Part);
        assert_eq!(
            keep("AnalysisTemplate", false, &["spec", "metrics", "-", "provider", "prometheus", "address"]),
            Keep::Drop
        );
        assert_eq!(keep("AnalysisTemplate", false, &["spec", "metrics", "-", "provider", "job"]), Keep::Drop);
        assert_eq!(
            keep("Ingress", false, &["metadata", "annotations", "nginx.ingress.kubernetes.io/canary"]),
            Keep::All
        );
        assert_eq!(keep("Service", false, &["metadata", "annotations", "helm.sh/hook"]), Keep::All);
        let path = ["spec", "rules", "-", "http", "paths", "-"];
        assert_eq!(keep("Ingress", false, &[&path[..], &["backend"]].concat()), Keep::All);
        assert_eq!(keep("Ingress", false, &[&path[..], &["pathType"]].concat()), Keep::Drop);
    }
}
