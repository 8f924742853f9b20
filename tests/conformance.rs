//! The `kubectl argo rollouts lint` fixtures (`../shared/upstream/argo-rollouts/lint-testdata`,
//! 23 files) as conformance cases: every `invalid-*` file gets an error of the right rule at the
//! right node; every `valid-*` file gets no error, except where upstream's fixture is wrong.

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const DIR: &str = "../shared/upstream/argo-rollouts/lint-testdata";

/// Upstream's lint never checks that referenced objects exist; these fixtures name objects
/// they do not define, so the run declares them as existing in the cluster.
const EXTERNAL: &str = "external:
  - AnalysisTemplate/integrationtests
  - Service/nginx-rollout-canary
  - Service/nginx-rollout-stable
  - Service/istio-host-split-stable
  - Service/istio-host-split-canary
  - Ingress/nginx-rollout-ingress
  - Deployment/rollout-ref-deployment
";

/// (rule, line, column) of a finding.
type At = (&'static str, u64, u64);

/// Invalid fixtures: the error upstream expects, as (rule, line, column) of its node.
const INVALID: &[(&str, &[At])] = &[
    // maxSurge and maxUnavailable both 0 (check 20), at `maxSurge`.
    ("invalid.yml", &[("rollout-spec", 12, 17)]),
    ("invalid.json", &[("rollout-spec", 13, 21)]),
    ("invalid-multiple-docs.yml", &[("rollout-spec", 25, 17)]),
    // An object without metadata cannot be created at all; rollcheck says so at its `kind`
    // instead of listing the spec errors of an object the API server would not accept.
    ("invalid-empty-rollout-vsvc.yml", &[("invalid-object", 2, 1), ("invalid-object", 5, 1)]),
    // Services whose selectors miss the Rollout's pod labels (check 90): reported on each
    // Service's selector, with the Rollout as a related place.
    ("invalid-ingress-smi-multi.yml", &[("service-selects-no-pods", 12, 5), ("service-selects-no-pods", 25, 5)]),
    ("invalid-ping-pong.yml", &[("service-selects-no-pods", 56, 5), ("service-selects-no-pods", 69, 5)]),
    ("invalid-service-labels.yml", &[("service-selects-no-pods", 55, 5), ("service-selects-no-pods", 69, 5)]),
    // Experiment weight without an SMI, ALB or Istio router (check 48), at the weight.
    ("invalid-nginx-canary.yml", &[("traffic-routing-config", 98, 25)]),
    // The unknown field, at its key (upstream: "unknown field \"unknown-strategy\"").
    ("invalid-unknown-field.yml", &[("schema-unknown-field", 9, 5)]),
];

/// Errors in `valid-*` fixtures that are true: (file, rule, line, why upstream's fixture is wrong).
const UPSTREAM_WRONG: &[(&str, &str, u64, &str)] = &[
    (
        "valid-nginx-canary.yml",
        "stable-ingress-no-stable-backend",
        89,
        "the Ingress routes to the root Service, not the stable one: the controller rejects it (check 54); upstream's lint cannot see it (argo-validation.md §11)",
    ),
    (
        "valid-ingress-smi.yml",
        "traffic-routing-config",
        93,
        "a hand-written TrafficSplit the controller will not own (check 71; argo-validation.md §11.1)",
    ),
    ("valid-ingress-smi-multi.yml", "traffic-routing-config", 93, "a hand-written TrafficSplit (check 71)"),
    ("valid-ingress-smi-multi.yml", "traffic-routing-config", 222, "a hand-written TrafficSplit (check 71)"),
    (
        "valid-ingress-smi-multi.yml",
        "schema-violation",
        194,
        "networking.k8s.io/v1 Ingress paths require `pathType`; the API server rejects the Ingress",
    ),
    ("valid-ingress-smi-multi.yml", "schema-violation", 203, "the same, on the second rule"),
];

fn errors(file: &str, config: &Path) -> Vec<(String, u64, u64)> {
    let out = Command::cargo_bin("rollcheck")
        .unwrap()
        .args([&format!("{DIR}/{file}"), "--format", "json", "--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| (d["rule"].as_str().unwrap().to_string(), d["line"].as_u64().unwrap(), d["column"].as_u64().unwrap()))
        .collect()
}

#[test]
fn lint_testdata() {
    if !Path::new(DIR).is_dir() {
        eprintln!("skipped: {DIR} is not here");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("rollcheck.yaml");
    std::fs::write(&config, EXTERNAL).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("valid") || n.starts_with("invalid"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 23);
    for file in &files {
        let found = errors(file, &config);
        if file.starts_with("invalid") {
            let (_, expected) =
                INVALID.iter().find(|(f, _)| f == file).unwrap_or_else(|| panic!("{file} has no expectation"));
            for (rule, line, column) in *expected {
                assert!(
                    found.iter().any(|(r, l, c)| r == rule && l == line && c == column),
                    "{file}: expected {rule} at {line}:{column}, got {found:?}"
                );
            }
        } else {
            let unexpected: Vec<_> = found
                .iter()
                .filter(|(r, l, _)| {
                    !UPSTREAM_WRONG.iter().any(|(f, rule, line, _)| f == file && rule == r && line == l)
                })
                .collect();
            assert!(unexpected.is_empty(), "{file}: unexpected errors {unexpected:?}");
        }
    }
    for (file, rule, line, _) in UPSTREAM_WRONG {
        assert!(
            errors(file, &config).iter().any(|(r, l, _)| r == rule && l == line),
            "{file}:{line} {rule} is no longer reported"
        );
    }
}
