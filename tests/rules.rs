//! Rule findings at exact positions, on fixtures that mix many cases in one file.

use assert_cmd::Command;
use serde_json::Value;

fn findings(path: &str, rule: &str) -> Vec<(u64, u64, String)> {
    let out = Command::cargo_bin("rollcheck").unwrap().args([path, "--format", "json"]).output().unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["rule"] == rule)
        .map(|d| {
            (d["line"].as_u64().unwrap(), d["column"].as_u64().unwrap(), d["message"].as_str().unwrap().to_string())
        })
        .collect()
}

const FIXTURE: &str = "tests/fixtures/rules/conditions-and-queries.yaml";

#[test]
fn invalid_conditions_point_inside_the_expression() {
    let found = findings(FIXTURE, "analysis-invalid-condition");
    let at: Vec<_> = found.iter().map(|(l, c, _)| (*l, *c)).collect();
    // `treshold` inside a double-quoted scalar, `=<` inside a plain one, and the numeric condition.
    assert_eq!(at, vec![(13, 59), (14, 35), (26, 25)], "{found:?}");
    assert!(found[0].2.contains("`treshold`"));
    assert!(found[2].2.contains("a number"));
}

#[test]
fn ratio_queries_without_guard_point_at_the_division() {
    let found = findings(FIXTURE, "promql-nan-guard");
    // The `/` on its own line of the block scalar; not `/ 3`, not the guarded query, not `a/b`.
    assert_eq!(found.iter().map(|(l, c, _)| (*l, *c)).collect::<Vec<_>>(), vec![(20, 13)], "{found:?}");
}

#[test]
fn short_rate_windows_point_at_the_range() {
    let found = findings(FIXTURE, "promql-rate-window");
    assert_eq!(found.iter().map(|(l, c, _)| (*l, *c)).collect::<Vec<_>>(), vec![(19, 81)], "{found:?}");
    assert!(found[0].2.contains("looks back 1m") && found[0].2.contains("every 5m"));
}

#[test]
fn ambiguous_scalars_in_string_places() {
    let found = findings(FIXTURE, "yaml-ambiguous-scalar");
    let at: Vec<_> = found.iter().map(|(l, c, _)| (*l, *c)).collect();
    assert_eq!(at, vec![(46, 11), (48, 27), (57, 17), (62, 28), (67, 22)], "{found:?}");
    assert!(found[0].2.contains("the number 1.1"), "{}", found[0].2);
    assert!(found[1].2.contains("the boolean `true`"));
    assert!(found[4].2.contains("an env value"));
}

/// Schema fixtures mark each expected finding with `# expect: rule` at the end of its line.
#[test]
fn schema_fixtures_report_exactly_what_they_expect() {
    for fixture in ["argo-rollouts", "kubernetes", "mesh"] {
        let path = format!("tests/fixtures/schemas/{fixture}.yaml");
        let text = std::fs::read_to_string(&path).unwrap();
        let mut expected: Vec<(u64, String)> = text
            .lines()
            .enumerate()
            .filter_map(|(i, l)| l.split_once("# expect: ").map(|(_, r)| (i as u64 + 1, r)))
            .flat_map(|(line, rules)| rules.split(',').map(move |r| (line, r.trim().to_string())))
            .collect();
        let mut found: Vec<(u64, String)> = ["schema-unknown-field", "schema-violation"]
            .iter()
            .flat_map(|rule| findings(&path, rule).into_iter().map(move |(l, _, _)| (l, rule.to_string())))
            .collect();
        expected.sort();
        found.sort();
        assert_eq!(found, expected, "{path}");
    }
}

/// The analysis and traffic rules of issue 15, each at its node, through the binary (which keeps
/// only the facts index checks read: annotations, queries and routes must survive).
#[test]
fn analysis_and_traffic_findings_point_at_their_nodes() {
    const FIXTURE: &str = "tests/fixtures/rules/analysis-and-traffic.yaml";
    let at = |rule: &str| -> Vec<(u64, u64)> { findings(FIXTURE, rule).iter().map(|(l, c, _)| (*l, *c)).collect() };
    // The arg value `canary` in the Rollout, not the template's matcher.
    assert_eq!(at("analysis-arg-unknown-service"), vec![(39, 24)]);
    assert!(findings(FIXTURE, "analysis-arg-unknown-service")[0].2.contains("no Service `canary`"));
    // The annotation's value on the stable Ingress.
    assert_eq!(at("stable-ingress-canary-annotation"), vec![(47, 41)]);
    // The hook on the canary Service (the Rollout itself is no hook).
    assert_eq!(at("helm-hook-rollout"), vec![(78, 19)]);
    // The canary's weight in the VirtualService and in the TrafficSplit.
    assert_eq!(at("static-traffic-split"), vec![(100, 19), (112, 15)]);
    let split = findings(FIXTURE, "static-traffic-split");
    assert!(split[0].2.contains("fixed 10%") && split[1].2.contains("fixed 25%"), "{split:?}");
    assert_eq!(at("analysis-unused-arg"), vec![(121, 13)]);
    assert_eq!(at("analysis-never-fails"), vec![(126, 21)]);
    // Inside the queries: the raw counter, the unaggregated selector.
    assert_eq!(at("promql-raw-counter"), vec![(131, 22)]);
    assert_eq!(at("promql-unaggregated"), vec![(140, 23)]);
    assert_eq!(at("analysis-condition-ignored"), vec![(142, 25)]);
}

const POINTING: &str = "tests/fixtures/rules/what-points-at-a-rollout.yaml";

fn at(found: &[(u64, u64, String)]) -> Vec<(u64, u64)> {
    found.iter().map(|(l, c, _)| (*l, *c)).collect()
}

#[test]
fn autoscalers_that_miss_the_rollout() {
    let found = findings(POINTING, "hpa-target-mismatch");
    // The wrong group, the misspelt name, and the Deployment the Rollout replaced (KEDA's default kind).
    // And a ScaledObject naming a Rollout without `apiVersion` (KEDA reads `apps/v1`).
    assert_eq!(at(&found), vec![(34, 32), (41, 75), (62, 26), (273, 26)], "{found:?}");
    assert!(found[3].2.contains("KEDA's default"));
    assert!(found[0].2.contains("`argoproj.io/v1alpha1`, not `apps/v1`"));
    assert!(found[1].2.contains("Rollout `apy` not found in namespace `scale`"));
    assert!(found[2].2.contains("Deployment `legacy` runs the same pods as Rollout/api"));
}

#[test]
fn replicas_beside_an_autoscaler() {
    let found = findings(POINTING, "hpa-replicas-conflict");
    // `api` and `cart`: the `cart` Application ignores every Rollout's replicas without
    // RespectIgnoreDifferences; `shop` is ignored with it, `legacy` sets no replicas.
    assert_eq!(at(&found), vec![(7, 13), (97, 13)], "{found:?}");
    assert!(found.iter().all(|(_, _, m)| m.contains("Application/cart ignores the `replicas` difference")));
}

#[test]
fn budgets_that_block_drains() {
    let found = findings(POINTING, "pdb-blocks-eviction");
    // maxUnavailable 0; minAvailable 1 of 1; a selector matching nothing. Not 50% of 3, not an
    // autoscaled Rollout at 100%.
    assert_eq!(at(&found), vec![(169, 19), (177, 17), (203, 5)], "{found:?}");
    assert!(found[1].2.contains("keeps 1 of 1 pod available"));
    assert!(found[2].2.contains("selects no pods"));
}

#[test]
fn readiness_follows_workload_ref_and_istio_hosts_resolve() {
    let probes = findings(POINTING, "missing-readiness-probe");
    assert_eq!(at(&probes), vec![(227, 62)], "{probes:?}");
    assert!(probes[0].2.contains("container `front` of Deployment/front"));
    let hosts = findings(POINTING, "unresolved-reference");
    // `reviws`, `ratings.mesh.svc.cluster.local`, the DestinationRule's `reviewz`; not the
    // ServiceEntry host, an external host, or a namespace without Services in the files.
    assert_eq!(at(&hosts), vec![(255, 31), (258, 31), (266, 9)], "{hosts:?}");
}
