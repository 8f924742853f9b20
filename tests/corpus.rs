//! Every upstream example and real-world manifest lints without a crash, and every reported
//! position lies inside its file. Skipped when `../shared` is absent.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

mod common;

/// Lints with real helm and kustomize on PATH: charts and kustomizations are rendered.
fn lint(paths: &[String]) -> Value {
    let out = Command::cargo_bin("rollcheck")
        .unwrap()
        .env("PATH", common::path_with_tools())
        .timeout(Duration::from_secs(60))
        .args(paths)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{paths:?}: exit {:?}, stderr {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn lint_dir(dir: &str) -> Option<Value> {
    if !Path::new(dir).exists() {
        eprintln!("skipping: {dir} is not here");
        return None;
    }
    Some(lint(&[dir.to_string()]))
}

/// Errors in upstream examples that are true: (file, line, rule, why).
const TRUE_ERRORS: &[(&str, u64, &str, &str)] = &[
    (
        "traffic-management/rollout-linkerd.yaml",
        101,
        "yaml-syntax",
        "`linkerd.io/inject: {{args.linkerd-enabled}}` is unquoted, so YAML reads a flow mapping whose key is a mapping: kubectl 1.33 refuses the document (\"error converting YAML to JSON: yaml: invalid map key\"), after applying the two Services before it",
    ),
    (
        "helm-blue-green/templates/services.yaml",
        5,
        "render-failed",
        "the copy in ../shared has no templates/_helpers.tpl, so `helm-guestbook.fullname` is not defined: helm refuses the chart",
    ),
    (
        "notifications/kustomization.yaml",
        1,
        "render-failed",
        "its resource `../../manifests` (the controller's install) is not in ../shared: kustomize refuses the build",
    ),
];

static SEEN_TRUE_ERRORS: std::sync::Mutex<Vec<usize>> = std::sync::Mutex::new(Vec::new());

/// Errors, except the known true ones (which are recorded as seen).
fn errors(v: &Value) -> Vec<String> {
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .filter(|d| {
            let known = TRUE_ERRORS.iter().position(|(file, line, rule, _)| {
                d["file"].as_str().unwrap().ends_with(file) && d["line"] == *line && d["rule"] == *rule
            });
            if let Some(i) = known {
                SEEN_TRUE_ERRORS.lock().unwrap().push(i);
            }
            known.is_none()
        })
        .map(|d| format!("{}:{} {} {}", d["file"], d["line"], d["rule"], d["message"]))
        .collect()
}

fn positions_are_inside_their_files(v: &Value) {
    for d in v["diagnostics"].as_array().unwrap() {
        let text = std::fs::read_to_string(d["file"].as_str().unwrap()).unwrap_or_default();
        let lines = text.split('\n').count() as u64;
        for (l, c) in [("line", "column"), ("end_line", "end_column")] {
            let line = d[l].as_u64().unwrap();
            assert!(line >= 1 && line <= lines, "{d}");
            assert!(d[c].as_u64().unwrap() >= 1, "{d}");
        }
    }
}

/// Each example folder is one example; the top-level files share their analysis templates.
#[test]
fn upstream_examples_have_no_false_errors() {
    let root = Path::new("../shared/upstream/argo-rollouts/examples");
    if !root.exists() {
        return;
    }
    let mut top_level = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(root).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            let v = lint(&[path.display().to_string()]);
            positions_are_inside_their_files(&v);
            assert_eq!(errors(&v), Vec::<String>::new(), "{}", path.display());
        } else {
            top_level.push(path.display().to_string());
        }
    }
    let v = lint(&top_level);
    positions_are_inside_their_files(&v);
    assert_eq!(errors(&v), Vec::<String>::new());
    let seen = SEEN_TRUE_ERRORS.lock().unwrap();
    for (i, (file, line, rule, _)) in TRUE_ERRORS.iter().enumerate() {
        assert!(seen.contains(&i), "the known true error {rule} at {file}:{line} is no longer reported");
    }
}

#[test]
fn real_world_corpus() {
    let Some(v) = lint_dir("../shared/corpus/real-world") else { return };
    positions_are_inside_their_files(&v);
    assert!(v["summary"]["objects"].as_u64().unwrap() > 400);
}
