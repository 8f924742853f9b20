//! Every upstream example and real-world manifest lints without a crash, and every reported
//! position lies inside its file. Skipped when `../shared` is absent.

use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use serde_json::Value;

fn lint_dir(dir: &str) -> Option<Value> {
    if !Path::new(dir).exists() {
        eprintln!("skipping: {dir} is not here");
        return None;
    }
    let out = Command::cargo_bin("rollcheck")
        .unwrap()
        .timeout(Duration::from_secs(60))
        .args([dir, "--format", "json"])
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{dir}: exit {:?}, stderr {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("valid JSON"))
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

#[test]
fn upstream_examples() {
    let Some(v) = lint_dir("../shared/upstream/argo-rollouts/examples") else { return };
    positions_are_inside_their_files(&v);
    // The only findings are the Helm chart's unrendered templates.
    let rules: Vec<_> = v["diagnostics"].as_array().unwrap().iter().map(|d| d["rule"].as_str().unwrap()).collect();
    assert!(rules.iter().all(|r| *r == "unrendered-template"), "{rules:?}");
}

#[test]
fn real_world_corpus() {
    let Some(v) = lint_dir("../shared/corpus/real-world") else { return };
    positions_are_inside_their_files(&v);
    assert!(v["summary"]["objects"].as_u64().unwrap() > 400);
}
