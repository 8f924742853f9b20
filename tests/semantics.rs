//! Objects read as Kubernetes and the Argo Rollouts controller treat them: each test is the
//! minimal reproduction of a false finding (or a missed one) that rollcheck gave before.

use rollcheck::diagnostic::Diagnostic;
use rollcheck::lint::{Options, lint_files};
use rollcheck::load::load_bytes;
use rollcheck::source::FileId;

fn lint(text: &str) -> Vec<Diagnostic> {
    let file = load_bytes(FileId(0), "case.yaml".into(), text.as_bytes().to_vec());
    lint_files(vec![file], &Options::default()).diagnostics
}

fn messages(text: &str, rule: &str) -> Vec<String> {
    lint(text).into_iter().filter(|d| d.rule == rule).map(|d| d.message).collect()
}

fn deployment(name: &str, labels: &str, ports: &str, annotations: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  annotations: {annotations}\nspec:\n  selector:\n    matchLabels: {labels}\n  template:\n    metadata:\n      labels: {labels}\n    spec:\n      containers:\n        - name: c\n          image: c:1\n          ports: {ports}\n"
    )
}

fn service(name: &str, selector: &str, target: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector: {selector}\n  ports:\n    - port: 80\n      targetPort: {target}\n"
    )
}

#[test]
fn a_named_target_port_is_an_error_only_when_no_selected_pod_declares_it() {
    let one_declares = service("web", "{app: web}", "http")
        + &deployment("a", "{app: web}", "[{name: http, containerPort: 8080}]", "{}")
        + &deployment("b", "{app: web}", "[{name: metrics, containerPort: 9090}]", "{}");
    assert!(messages(&one_declares, "port-mismatch").is_empty());
    let none = service("web", "{app: web}", "http")
        + &deployment("a", "{app: web}", "[{name: web, containerPort: 8080}]", "{}");
    let found = messages(&none, "port-mismatch");
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("no endpoints") && !found[0].contains("refused"), "{}", found[0]);
    let help = lint(&none).into_iter().find(|d| d.rule == "port-mismatch").unwrap().help.unwrap();
    assert!(!help.contains("refused"), "{help}");
}

#[test]
fn a_numeric_target_port_is_forwarded_whether_declared_or_not() {
    let text = service("web", "{app: web}", "8081") + &deployment("a", "{app: web}", "[{containerPort: 8080}]", "{}");
    assert!(messages(&text, "port-mismatch").is_empty());
}

#[test]
fn helm_test_hook_pods_are_not_endpoints() {
    let text = service("web", "{app: web}", "http")
        + &deployment("a", "{app: web}", "[{name: http, containerPort: 8080}]", "{}")
        + "---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web-test\n  labels: {app: web}\n  annotations: {helm.sh/hook: test}\nspec:\n  containers:\n    - name: t\n      image: busybox\n";
    assert!(messages(&text, "port-mismatch").is_empty());
}

#[test]
fn a_rollouts_own_service_selects_only_its_pods() {
    // The Experiment's pods carry the same labels but not the Rollout's pod-template-hash.
    let text = service("web-canary", "{app: web}", "http")
        + "---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: web\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n        - name: c\n          image: c:1\n          ports: [{name: http, containerPort: 8080}]\n  strategy:\n    canary:\n      canaryService: web-canary\n      stableService: web-canary\n"
        + &deployment("other", "{app: web}", "[{name: grpc, containerPort: 9090}]", "{}");
    assert!(messages(&text, "port-mismatch").is_empty());
}

const ALB: &str = "apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers: [{name: c, image: c:1}]
  strategy:
    canary:
      canaryService: web-canary
      stableService: web-stable
      trafficRouting:
        alb:
          ingress: web
          rootService: web-root
          servicePort: 80
      steps: [{setWeight: 20}, {pause: {}}]
";

#[test]
fn alb_root_service_is_an_action_name_not_a_service() {
    let found = messages(ALB, "unresolved-reference");
    assert!(found.iter().all(|m| !m.contains("web-root")), "{found:?}");
    assert!(found.iter().any(|m| m.contains("web-stable")), "{found:?}");
}

#[test]
fn controller_plugin_lists_are_read_as_yaml() {
    let text = "apiVersion: v1
kind: ConfigMap
metadata:
  name: argo-rollouts-config
data:
  stepPlugins: |
    # - name: \"old/plugin\"
    #   location: file:///old
    - name: \"acme/step\" # the one in use
      location: file:///plugin
  trafficRouterPlugins: |
    [{name: 'acme/router', location: 'file:///r'}]
---
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers: [{name: c, image: c:1}]
  strategy:
    canary:
      canaryService: web-canary
      stableService: web-stable
      trafficRouting:
        plugins:
          acme/router: {}
      steps:
        - plugin:
            name: acme/step
";
    let found: Vec<_> =
        lint(text).into_iter().filter(|d| d.message.contains("not configured")).map(|d| d.message).collect();
    assert!(found.is_empty(), "{found:?}");
    let missing = text.replace("name: acme/step", "name: acme/other");
    let found: Vec<_> =
        lint(&missing).into_iter().filter(|d| d.message.contains("not configured")).map(|d| d.message).collect();
    assert_eq!(found.len(), 1, "{found:?}");
}

fn template(provider: &str, conditions: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata:\n  name: t\nspec:\n  metrics:\n    - name: m\n      interval: 1m\n      count: 3\n      failureLimit: 1\n{conditions}      provider:\n{provider}"
    )
}

const WEB: &str = "        web:\n          url: http://web/health\n";
const PROM: &str = "        prometheus:\n          address: http://prometheus:9090\n          query: sum(rate(errors[5m])) / sum(rate(requests[5m]))\n";

#[test]
fn a_constant_condition_on_a_web_metric_is_a_reachability_check() {
    let web = template(WEB, "      successCondition: \"true\"\n");
    assert!(messages(&web, "analysis-invalid-condition").is_empty());
    let prom = template(PROM, "      successCondition: \"true\"\n");
    assert_eq!(messages(&prom, "analysis-invalid-condition").len(), 1);
}

#[test]
fn nan_guard_says_what_the_controller_does() {
    let failure_only = messages(&template(PROM, "      failureCondition: result[0] > 0.05\n"), "promql-nan-guard");
    assert_eq!(failure_only.len(), 1);
    assert!(failure_only[0].contains("counts as a success"), "{}", failure_only[0]);
    let success_only = messages(&template(PROM, "      successCondition: result[0] < 0.05\n"), "promql-nan-guard");
    assert!(success_only[0].contains("the measurement fails"), "{}", success_only[0]);
    let both = messages(
        &template(PROM, "      successCondition: result[0] < 0.05\n      failureCondition: result[0] > 0.1\n"),
        "promql-nan-guard",
    );
    assert!(both[0].contains("inconclusive"), "{}", both[0]);
    for guarded in [
        "      successCondition: len(result) > 0 && result[0] < 0.05\n",
        "      successCondition: isNaN(result[0]) || result[0] < 0.05\n",
        "      successCondition: default(result[0], 0) < 0.05\n",
    ] {
        assert!(messages(&template(PROM, guarded), "promql-nan-guard").is_empty(), "{guarded}");
    }
    let or_vector = PROM.replace("sum(rate(requests[5m]))", "sum(rate(requests[5m])) or vector(0)");
    assert!(
        messages(&template(&or_vector, "      successCondition: result[0] < 0.05\n"), "promql-nan-guard").is_empty()
    );
}

#[test]
fn canary_without_analysis_says_who_promotes() {
    let manual = messages(ALB, "canary-no-analysis");
    assert_eq!(manual.len(), 1);
    assert!(manual[0].contains("a person promotes it") && !manual[0].contains("on time alone"), "{}", manual[0]);
    let timed = ALB.replace("{pause: {}}", "{pause: {duration: 5m}}");
    assert!(messages(&timed, "canary-no-analysis")[0].contains("on time alone"));
}

const MERGED: &str = "apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  selector:
    matchLabels:
      <<: &labels {app: web, tier: front}
  template:
    metadata:
      labels:
        <<: *labels
        version: v1
    spec:
      containers: [{name: c, image: c:1}]
  strategy:
    canary:
      stableService: other
      steps: [{setWeight: 20}, {pause: {duration: 1m}}]
---
apiVersion: v1
kind: Service
metadata:
  name: other
spec:
  selector:
    <<: *labels
    tier: back
  ports: [{port: 80}]
";

#[test]
fn merge_keys_are_applied_to_labels_and_selectors() {
    // Anchors do not cross documents: the Service's alias is its own document's problem, so
    // give it its own anchor.
    let text = MERGED.replace("    <<: *labels\n    tier: back", "    <<: &l2 {app: web}\n    tier: back");
    let found = lint(&text);
    assert!(found.iter().all(|d| d.rule != "rollout-selector-mismatch"), "{found:?}");
    // The merged selector {app: web, tier: back} matches no pod template.
    assert!(found.iter().any(|d| d.rule == "service-selects-no-pods"), "{found:?}");
}
