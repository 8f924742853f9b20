//! Generates `schemas/` from the upstream data in `../shared/upstream/` (Argo Rollouts, Istio,
//! Gateway API and SMI CRDs; Kubernetes v1.33 JSON schemas). `tests/schemas.rs` runs it and
//! fails when the committed files differ; `UPDATE_SCHEMAS=1` rewrites them.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use super::convert::{convert, definitions_closure, object_root, replace_at};
use crate::yaml::{parse_stream, to_json};

const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
const POD_TEMPLATE: &str = "io.k8s.api.core.v1.PodTemplateSpec";
const JOB_SPEC: &str = "io.k8s.api.batch.v1.JobSpec";

/// Kubernetes kinds: (file in `kubernetes-json-schema/v1.33.0/`, apiVersion, kind).
const KUBERNETES: &[(&str, &str, &str)] = &[
    ("configmap-v1.json", "v1", "ConfigMap"),
    ("deployment-apps-v1.json", "apps/v1", "Deployment"),
    ("horizontalpodautoscaler-autoscaling-v2.json", "autoscaling/v2", "HorizontalPodAutoscaler"),
    ("ingress-networking-v1.json", "networking.k8s.io/v1", "Ingress"),
    ("networkpolicy-networking-v1.json", "networking.k8s.io/v1", "NetworkPolicy"),
    ("poddisruptionbudget-policy-v1.json", "policy/v1", "PodDisruptionBudget"),
    ("replicaset-apps-v1.json", "apps/v1", "ReplicaSet"),
    ("secret-v1.json", "v1", "Secret"),
    ("service-v1.json", "v1", "Service"),
    ("serviceaccount-v1.json", "v1", "ServiceAccount"),
];

/// CRD files: (folder, path under `upstream/`, what to describe it as in SOURCES.md).
const CRDS: &[(&str, &str)] = &[
    ("argo-rollouts", "argo-rollouts/crds/analysis-run-crd.yaml"),
    ("argo-rollouts", "argo-rollouts/crds/analysis-template-crd.yaml"),
    ("argo-rollouts", "argo-rollouts/crds/cluster-analysis-template-crd.yaml"),
    ("argo-rollouts", "argo-rollouts/crds/experiment-crd.yaml"),
    ("argo-rollouts", "argo-rollouts/crds/rollout-crd.yaml"),
    ("gateway-api", "gateway-api/v1.6.1/standard/gateway.networking.k8s.io_gateways.yaml"),
    ("gateway-api", "gateway-api/v1.6.1/standard/gateway.networking.k8s.io_grpcroutes.yaml"),
    ("gateway-api", "gateway-api/v1.6.1/standard/gateway.networking.k8s.io_httproutes.yaml"),
    ("gateway-api", "gateway-api/v1.6.1/standard/gateway.networking.k8s.io_tcproutes.yaml"),
    ("gateway-api", "gateway-api/v1.6.1/standard/gateway.networking.k8s.io_tlsroutes.yaml"),
    ("istio", "istio/destinationrules.networking.istio.io.yaml"),
    ("istio", "istio/virtualservices.networking.istio.io.yaml"),
    ("smi", "smi/split.yaml"),
    ("smi", "smi/split-v0.5.0-apiextensions-v1beta1.yaml"),
];

/// Parts of CRD schemas replaced by the full Kubernetes definition (the CRDs carry trimmed
/// copies, with volumes and resources left unchecked).
const REPLACED: &[(&str, &[&str], &str)] = &[
    ("Rollout", &["spec", "template"], POD_TEMPLATE),
    ("Experiment", &["spec", "templates", "[]", "template"], POD_TEMPLATE),
    ("AnalysisTemplate", &["spec", "metrics", "[]", "provider", "job", "spec"], JOB_SPEC),
    ("ClusterAnalysisTemplate", &["spec", "metrics", "[]", "provider", "job", "spec"], JOB_SPEC),
    ("AnalysisRun", &["spec", "metrics", "[]", "provider", "job", "spec"], JOB_SPEC),
];

/// One generated schema file.
pub struct Generated {
    /// Path under `schemas/`.
    pub path: String,
    pub api_versions: Vec<String>,
    pub kind: String,
    pub text: String,
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Every schema file, plus `SOURCES.md`'s text.
pub fn generate(upstream: &Path) -> Result<(Vec<Generated>, String), String> {
    let definitions_text = read(&upstream.join("kubernetes-json-schema/v1.33.0/_definitions.json"))?;
    let definitions: Value = serde_json::from_str(&definitions_text).map_err(|e| e.to_string())?;
    let all = definitions.get("$defs").and_then(Value::as_object).ok_or("_definitions.json has no $defs")?;
    let mut out = Vec::new();

    for (file, api_version, kind) in KUBERNETES {
        let text = read(&upstream.join("kubernetes-json-schema/v1.33.0").join(file))?;
        let schema: Value = serde_json::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
        let mut refs = BTreeSet::new();
        let root = convert(&schema, &mut refs);
        let source = format!("kubernetes-json-schema/v1.33.0/{file}");
        out.push(file_for("kubernetes", kind, &[api_version.to_string()], root, all, refs, &source));
    }

    let mut seen = BTreeSet::new();
    for (folder, path) in CRDS {
        let text = read(&upstream.join(path))?;
        let stream = parse_stream(Arc::from(text));
        for doc in &stream.documents {
            let Some(root) = doc.root() else { continue };
            let crd = to_json(root, 512);
            if crd.get("kind").and_then(Value::as_str) != Some("CustomResourceDefinition") {
                continue;
            }
            for (api_versions, kind, schema) in crd_versions(&crd) {
                // A version that an older CRD file also describes is taken from the first file.
                if !seen.insert((api_versions.clone(), kind.clone())) {
                    continue;
                }
                let mut refs = BTreeSet::new();
                let mut root = convert(&schema, &mut refs);
                object_root(&mut root, &mut refs);
                for (k, at, def) in REPLACED {
                    if *k == kind && !replace_at(&mut root, at, def, &mut refs) {
                        return Err(format!("{path}: {kind} has no {}", at.join(".")));
                    }
                }
                out.push(file_for(folder, &kind, &api_versions, root, all, refs, path));
            }
        }
    }
    // The same kind at several served versions with identical schemas shares one file; files
    // of a kind that differ by version get the version in their name.
    out.sort_by(|a, b| (&a.path, &a.api_versions).cmp(&(&b.path, &b.api_versions)));
    let mut merged: Vec<Generated> = Vec::new();
    for g in out {
        match merged.iter_mut().find(|m| m.path == g.path && m.text == g.text) {
            Some(m) => m.api_versions.extend(g.api_versions),
            None => merged.push(g),
        }
    }
    let mut counts = std::collections::HashMap::new();
    for g in &merged {
        *counts.entry(g.path.clone()).or_insert(0) += 1;
    }
    for g in &mut merged {
        g.api_versions.sort();
        g.api_versions.dedup();
        if counts[&g.path] > 1 {
            let version = g.api_versions[0].rsplit('/').next().unwrap_or_default().to_string();
            g.path = g.path.replace(".json", &format!("-{version}.json"));
        }
        g.text = g.text.replacen("\"x-rollcheck-api-versions\": []", &api_versions_json(&g.api_versions), 1);
    }
    merged.sort_by(|a, b| a.path.cmp(&b.path));

    // The metadata schema alone, for CRDs given with `--crd` at run time.
    let meta = definitions_closure(all, [OBJECT_META.to_string()].into());
    let meta_text = pretty(&json!({"definitions": meta}));
    merged.push(Generated {
        path: "kubernetes/_objectmeta.json".into(),
        api_versions: Vec::new(),
        kind: String::new(),
        text: meta_text,
    });
    Ok((merged, sources(&out_summary(upstream))))
}

fn api_versions_json(v: &[String]) -> String {
    format!("\"x-rollcheck-api-versions\": {}", serde_json::to_string(v).expect("strings"))
}

/// (apiVersions, kind, openAPIV3Schema) for each served version of a CRD.
fn crd_versions(crd: &Value) -> Vec<(Vec<String>, String, Value)> {
    let spec = &crd["spec"];
    let group = spec["group"].as_str().unwrap_or_default();
    let kind = spec["names"]["kind"].as_str().unwrap_or_default().to_string();
    let shared = spec.pointer("/validation/openAPIV3Schema");
    let mut out = Vec::new();
    for v in spec["versions"].as_array().into_iter().flatten() {
        let name = v["name"].as_str().unwrap_or_default();
        // A version's own schema describes it even when this CRD does not serve it (other
        // meshes serve older SMI versions); a shared schema describes only the served ones.
        let schema = match (v.pointer("/schema/openAPIV3Schema"), shared) {
            (Some(own), _) => own,
            (None, Some(shared)) if v["served"] != Value::Bool(false) => shared,
            _ => continue,
        };
        out.push((vec![format!("{group}/{name}")], kind.clone(), schema.clone()));
    }
    out
}

fn file_for(
    folder: &str,
    kind: &str,
    api_versions: &[String],
    root: Value,
    all: &Map<String, Value>,
    refs: BTreeSet<String>,
    source: &str,
) -> Generated {
    let Value::Object(mut schema) = root else { unreachable!("convert returns objects") };
    let definitions = definitions_closure(all, refs);
    schema.insert("$schema".into(), json!("http://json-schema.org/draft-07/schema#"));
    schema.insert("x-rollcheck-kind".into(), json!(kind));
    schema.insert("x-rollcheck-api-versions".into(), json!([]));
    schema.insert("x-rollcheck-source".into(), json!(source));
    if !definitions.is_empty() {
        schema.insert("definitions".into(), Value::Object(definitions));
    }
    Generated {
        path: format!("{folder}/{}.json", kind.to_lowercase()),
        api_versions: api_versions.to_vec(),
        kind: kind.to_string(),
        text: pretty(&Value::Object(schema)),
    }
}

fn pretty(v: &Value) -> String {
    use serde::Serialize;
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, serde_json::ser::PrettyFormatter::with_indent(b" "));
    v.serialize(&mut ser).expect("plain data");
    buf.push(b'\n');
    String::from_utf8(buf).expect("JSON is UTF-8")
}

/// The first line of each upstream SOURCE.md that names a version, for SOURCES.md.
fn out_summary(upstream: &Path) -> Vec<(String, String)> {
    ["argo-rollouts", "kubernetes-json-schema", "istio", "gateway-api", "smi"]
        .iter()
        .map(|folder| {
            let text = std::fs::read_to_string(upstream.join(folder).join("SOURCE.md")).unwrap_or_default();
            let title = text.lines().next().unwrap_or_default().trim_start_matches("# ").to_string();
            let version = text
                .lines()
                .find(|l| {
                    l.contains("Commit fetched")
                        || l.contains("**Version:**")
                        || l.contains("**Package:**")
                        || l.contains("Branch `main`")
                })
                .unwrap_or_default()
                .trim_start_matches("- ")
                .to_string();
            (title, version)
        })
        .collect()
}

fn sources(summary: &[(String, String)]) -> String {
    let mut text = String::from(
        "# Schema sources\n\nGenerated by `rollcheck::schema::generate` from `../shared/upstream/`; `tests/schemas.rs` regenerates\nthem and fails on any drift (`UPDATE_SCHEMAS=1 cargo test --test schemas` rewrites them).\nDescriptions, defaults, list/map annotations and CEL `x-kubernetes-validations` are stripped.\nThe Rollout's `spec.template`, the Experiment's `spec.templates[].template` and the analysis\nkinds' Job provider `spec` use the full Kubernetes v1.33 definitions instead of the trimmed\ncopies in the CRDs, and every kind's `metadata` is Kubernetes' ObjectMeta. Each file's\n`x-rollcheck-source` names the upstream file it comes from. A CRD version with its own schema\nis included even when the CRD does not serve it (SMI v1alpha2 and v1alpha3); SMI v1alpha1 has no\nschema of its own upstream, so it is not checked.\n\n",
    );
    for (title, version) in summary {
        text.push_str(&format!("- {title}: {version}\n"));
    }
    text
}

/// The text of `src/schema/embedded.rs`: every generated file, embedded.
pub fn embedded_rs(files: &[Generated]) -> String {
    let mut text = String::from(
        "//! Generated by `rollcheck::schema::generate::embedded_rs` (see `tests/schemas.rs`); do not edit.\n\n\
         /// An embedded schema file and the objects it applies to.\n\
         pub struct EmbeddedFile {\n    pub path: &'static str,\n    pub kind: &'static str,\n    pub api_versions: &'static [&'static str],\n    pub text: &'static str,\n}\n\n\
         /// Every embedded schema, sorted by path.\n\
         pub static FILES: &[EmbeddedFile] = &[\n",
    );
    for f in files.iter().filter(|f| !f.kind.is_empty()) {
        let versions: Vec<String> = f.api_versions.iter().map(|v| format!("{v:?}")).collect();
        text.push_str(&format!(
            "    EmbeddedFile {{\n        path: {:?},\n        kind: {:?},\n        api_versions: &[{}],\n        text: include_str!(\"../../schemas/{}\"),\n    }},\n",
            f.path,
            f.kind,
            versions.join(", "),
            f.path
        ));
    }
    text.push_str("];\n\n/// Kubernetes' ObjectMeta, for CRDs given at run time.\npub const OBJECT_META: &str = include_str!(\"../../schemas/kubernetes/_objectmeta.json\");\n");
    let keys = known_keys(files);
    text.push_str(&format!(
        "\n/// Every property name of the schemas and the recommended labels, sorted: documents kept\n/// after their checks share these strings instead of copying them.\npub static KEYS: &[&str] = &[\n{}];\n",
        keys.iter().map(|k| format!("    {k:?},\n")).collect::<String>()
    ));
    text
}

/// Labels Kubernetes recommends (and Helm charts set), found as keys in selectors and templates.
const RECOMMENDED_LABELS: &[&str] = &[
    "app",
    "app.kubernetes.io/component",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/name",
    "app.kubernetes.io/part-of",
    "app.kubernetes.io/version",
    "helm.sh/chart",
    "version",
];

fn known_keys(files: &[Generated]) -> Vec<String> {
    fn walk(v: &Value, out: &mut BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    out.extend(props.keys().cloned());
                }
                map.values().for_each(|v| walk(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut keys: BTreeSet<String> = RECOMMENDED_LABELS.iter().map(|s| s.to_string()).collect();
    for f in files {
        if let Ok(v) = serde_json::from_str::<Value>(&f.text) {
            walk(&v, &mut keys);
        }
    }
    keys.into_iter().collect()
}
