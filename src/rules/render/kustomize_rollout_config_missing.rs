//! A kustomization that changes a Rollout in ways kustomize only knows for built-in kinds,
//! without Argo Rollouts' kustomize configuration. Run by the lint of units on each build.

use std::path::PathBuf;

use crate::diagnostic::{Diagnostic, Severity};
use crate::rules::Rule;
use crate::source::{FileId, Span};
use crate::unit::KustomizeUnit;
use crate::yaml::{NodeRef, Stream, parse_stream};

pub const RULE: Rule = Rule {
    id: "kustomize-rollout-config-missing",
    severity: Severity::Warning,
    summary: "a kustomization renames, labels, scales or patches a Rollout without Argo Rollouts' kustomize configuration",
    kinds: &[],
    check: None,
    options: &[],
    doc: include_str!("../../../rules/kustomize-rollout-config-missing.md"),
};

/// The findings on one build: each with the file and line it belongs on.
pub fn check(k: &KustomizeUnit, built: &Stream) -> Vec<(PathBuf, usize, Diagnostic)> {
    let mut out = Vec::new();
    if k.chain.iter().any(|c| c.schema_config) {
        return out;
    }
    let docs: Vec<NodeRef<'_>> = built.documents.iter().filter_map(|d| d.root()).collect();
    let named = |kind: &str| -> Vec<&str> {
        docs.iter()
            .filter(|d| d.get_str("kind") == Some(kind))
            .filter_map(|d| d.path(&["metadata", "name"]).and_then(|n| n.as_str()))
            .collect()
    };
    let (services, templates) = (named("Service"), named("AnalysisTemplate"));
    let rollouts: Vec<&NodeRef<'_>> = docs.iter().filter(|d| d.get_str("kind") == Some("Rollout")).collect();
    if rollouts.is_empty() {
        return out;
    }
    let mut report = |file: &PathBuf, line: usize, message: String, help: &'static str| {
        let mut d = Diagnostic::new(RULE.id, RULE.severity, FileId(0), Span::default(), message);
        d.help(help);
        out.push((file.clone(), line, d));
    };
    const HELP: &str = "add Argo Rollouts' kustomize configuration to the kustomization: `openapi: {path: https://github.com/argoproj/argo-schema/raw/main/schema.json}` (vendored) or `configurations: [rollout-transform.yaml]` from the Argo Rollouts docs";
    for kustomization in &k.chain {
        for (transform, line) in &kustomization.schema_transforms {
            for rollout in &rollouts {
                let name = rollout.path(&["metadata", "name"]).and_then(|n| n.as_str()).unwrap_or_default();
                let strategy = rollout.path(&["spec", "strategy"]);
                match *transform {
                    "namePrefix" | "nameSuffix" => {
                        let refs = [
                            ("canary", "canaryService"),
                            ("canary", "stableService"),
                            ("blueGreen", "activeService"),
                            ("blueGreen", "previewService"),
                        ];
                        for (s, field) in refs {
                            let Some(value) = strategy.and_then(|st| st.path(&[s, field])).and_then(|v| v.as_str())
                            else {
                                continue;
                            };
                            if services.contains(&value) {
                                continue;
                            }
                            if let Some(renamed) = services.iter().find(|svc| svc.contains(value)) {
                                report(
                                    &kustomization.file,
                                    *line,
                                    format!(
                                        "kustomize renamed Service `{value}` to `{renamed}`, but the built Rollout `{name}` still has `{field}: {value}`"
                                    ),
                                    HELP,
                                );
                            }
                        }
                        let steps = strategy.and_then(|st| st.path(&["canary", "steps"]));
                        for step in steps.into_iter().flat_map(|s| s.items()) {
                            for t in step.path(&["analysis", "templates"]).into_iter().flat_map(|t| t.items()) {
                                let Some(value) = t.get_str("templateName") else { continue };
                                if !templates.contains(&value)
                                    && let Some(renamed) = templates.iter().find(|n| n.contains(value))
                                {
                                    report(
                                        &kustomization.file,
                                        *line,
                                        format!(
                                            "kustomize renamed AnalysisTemplate `{value}` to `{renamed}`, but the built Rollout `{name}` still names `{value}`"
                                        ),
                                        HELP,
                                    );
                                }
                            }
                        }
                    }
                    "replicas" => {
                        let text = std::sync::Arc::from(kustomization.text.as_ref());
                        let own = parse_stream(text);
                        let wanted = own.documents.first().and_then(|d| d.root()).and_then(|r| r.get("replicas"));
                        for entry in wanted.into_iter().flat_map(|w| w.items()) {
                            let (Some(target), Some(count)) =
                                (entry.get_str("name"), entry.get("count").and_then(|c| c.as_i64()))
                            else {
                                continue;
                            };
                            let got = rollout.path(&["spec", "replicas"]).and_then(|r| r.as_i64());
                            if name.ends_with(target) && got != Some(count) {
                                let got = got.map_or("no `replicas`".to_string(), |g| format!("`replicas: {g}`"));
                                report(
                                    &kustomization.file,
                                    *line,
                                    format!(
                                        "`replicas` asks for {count} replicas of `{target}`, but kustomize does not know a Rollout's replicas: the built Rollout `{name}` has {got}"
                                    ),
                                    HELP,
                                );
                            }
                        }
                    }
                    _ => {
                        // commonLabels / labels with selectors: added to the Rollout's metadata but not
                        // to its selector and pod labels, while Services select on them.
                        let metadata = rollout.path(&["metadata", "labels"]);
                        let pods = rollout.path(&["spec", "template", "metadata", "labels"]);
                        for (key, value) in metadata.into_iter().flat_map(|m| m.entries()) {
                            let key = key.key_text().unwrap_or_default();
                            let in_pods = pods.and_then(|p| p.get(&key)).is_some();
                            let selected = docs.iter().any(|d| {
                                d.get_str("kind") == Some("Service") && d.path(&["spec", "selector", &key]).is_some()
                            });
                            if !in_pods && selected && kustomization.text.contains(key.as_ref()) {
                                report(
                                    &kustomization.file,
                                    *line,
                                    format!(
                                        "kustomize added the label `{key}: {}` to the Services' selectors, but not to the pod labels of the built Rollout `{name}`: the Services select none of its pods",
                                        value.text().unwrap_or_default()
                                    ),
                                    HELP,
                                );
                            }
                        }
                    }
                }
            }
        }
        // A strategic-merge patch of a list inside a Rollout replaces the list.
        for patch in &kustomization.patches {
            let Ok(text) = std::fs::read_to_string(patch) else { continue };
            let stream = parse_stream(std::sync::Arc::from(text.as_str()));
            for doc in stream.documents.iter().filter_map(|d| d.root()) {
                if doc.get_str("kind") != Some("Rollout") {
                    continue;
                }
                let Some(containers) = doc.path(&["spec", "template", "spec", "containers"]) else { continue };
                for c in containers.items() {
                    let Some(cname) = c.get_str("name") else { continue };
                    let lost = rollouts.iter().find_map(|r| {
                        let built = r
                            .path(&["spec", "template", "spec", "containers"])?
                            .items()
                            .find(|b| b.get_str("name") == Some(cname))?;
                        (built.get("image").is_none() && c.get("image").is_none()).then_some(())
                    });
                    if lost.is_some() {
                        let line = text[..containers.span().start as usize].matches('\n').count() + 1;
                        report(
                            patch,
                            line,
                            format!(
                                "this patch replaced the Rollout's whole `containers` list: the built container `{cname}` has no image (kustomize merges lists by name only for kinds it knows)"
                            ),
                            HELP,
                        );
                    }
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.0, a.1, &a.2.message).cmp(&(&b.0, b.1, &b.2.message)));
    out.dedup_by(|a, b| a.0 == b.0 && a.1 == b.1 && a.2.message == b.2.message);
    out
}
