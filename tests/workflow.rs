//! Living with rollcheck, through the real binary: config files, suppressions, baselines,
//! context paths, external objects and every output format.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

const ROLLOUT: &str = "\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: web:1
          ports:
            - containerPort: 8080
          readinessProbe:
            httpGet: {path: /, port: 8080}
  strategy:
    canary:
      canaryService: web-canary
      stableService: web-stable
      steps:
        - setWeight: 50
        - pause: {}
        - setWeight: 100
";

const SERVICES: &str = "\
apiVersion: v1
kind: Service
metadata:
  name: web-canary
spec:
  selector:
    app: web
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: web-stable
spec:
  selector:
    app: web
  ports:
    - port: 80
      targetPort: 8080
";

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn rollcheck(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("rollcheck").unwrap().current_dir(dir).args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    let (_, stdout, stderr) = rollcheck(dir, &all);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout} {stderr}"))
}

fn rules_of(v: &Value) -> Vec<String> {
    v["diagnostics"].as_array().unwrap().iter().map(|d| d["rule"].as_str().unwrap().to_string()).collect()
}

#[test]
fn config_turns_rules_off_changes_severity_and_options_by_path() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "apps/web.yaml", &format!("{ROLLOUT}---\n{SERVICES}"));
    write(d, "legacy/web.yaml", &format!("{ROLLOUT}---\n{SERVICES}"));
    // Defaults: no analysis is an info; the 50-point steps are within the default jump.
    let v = json(d, &["apps"]);
    assert_eq!(rules_of(&v), vec!["canary-no-analysis"]);

    write(
        d,
        ".rollcheck.yaml",
        "rules:\n  canary-no-analysis: off\n  canary-large-weight-jump:\n    level: error\n    max-jump: 60\noverrides:\n  - files: [legacy/**]\n    rules:\n      canary-large-weight-jump: {max-jump: 40}\n",
    );
    // max-jump 60 lets 50 points pass in apps/; legacy/ allows only 40, and the level is error.
    let v = json(d, &["apps", "legacy"]);
    let found: Vec<(String, String, String)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().into(),
                d["rule"].as_str().unwrap().into(),
                d["severity"].as_str().unwrap().into(),
            )
        })
        .collect();
    let jump = ("legacy/web.yaml".to_string(), "canary-large-weight-jump".to_string(), "error".to_string());
    assert_eq!(found, vec![jump.clone(), jump]);
    let (code, _, _) = rollcheck(d, &["legacy"]);
    assert_eq!(code, 1);

    // The config is found from a subdirectory too, and --no-config ignores it.
    let (_, out, _) = rollcheck(&d.join("apps"), &["web.yaml", "--format", "compact"]);
    assert_eq!(out, "");
    let (_, out, _) = rollcheck(&d.join("apps"), &["web.yaml", "--format", "compact", "--no-config"]);
    assert!(out.contains("canary-no-analysis"), "{out}");
}

#[test]
fn config_mistakes_are_located_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app.yaml", SERVICES);
    write(d, ".rollcheck.yaml", "rules:\n  canary-no-analysys: off\nnamespase: x\n");
    let (code, out, err) = rollcheck(d, &["app.yaml"]);
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert!(
        err.contains(".rollcheck.yaml:2:3: unknown rule `canary-no-analysys`; did you mean `canary-no-analysis`?"),
        "{err}"
    );
    assert!(err.contains(".rollcheck.yaml:3:1: unknown setting `namespase`; did you mean `namespace`?"), "{err}");
    let (code, _, err) = rollcheck(d, &["app.yaml", "--config", "missing.yaml"]);
    assert_eq!(code, 2);
    assert!(err.contains("missing.yaml"), "{err}");
}

#[test]
fn config_excludes_namespace_context_and_external_objects() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let analysis = ROLLOUT.replace(
        "        - setWeight: 50\n",
        "        - setWeight: 50\n        - analysis:\n            templates:\n              - templateName: success-rate\n                clusterScope: true\n",
    );
    write(d, "repo/apps/web.yaml", &analysis.replace("name: web\nspec", "name: web\n  namespace: shop\nspec"));
    write(d, "repo/apps/generated/broken.yaml", "key: [unclosed\n");
    write(
        d,
        "platform/services.yaml",
        &SERVICES
            .replace("  name: web-canary\n", "  name: web-canary\n  namespace: shop\n")
            .replace("  name: web-stable\n", "  name: web-stable\n  namespace: shop\n"),
    );
    let repo = d.join("repo");
    let v = json(&repo, &["apps"]);
    let mut rules = rules_of(&v);
    rules.sort();
    assert_eq!(
        rules,
        vec!["unresolved-reference", "unresolved-reference", "unresolved-reference", "yaml-syntax"],
        "{v}"
    );

    write(
        d,
        "repo/.rollcheck.yaml",
        "exclude: [generated]\ncontext: [../platform]\nexternal:\n  - ClusterAnalysisTemplate/success-rate\n",
    );
    let v = json(&repo, &["apps"]);
    assert_eq!(rules_of(&v), Vec::<String>::new(), "{v}");
    assert_eq!(v["summary"]["files"], 1);
    assert_eq!(v["summary"]["context_files"], 1);

    // The Services are in `shop`; a namespace default that differs leaves them unresolved.
    let rollout_without_ns = analysis.clone();
    write(d, "repo/apps/web.yaml", &rollout_without_ns);
    let v = json(&repo, &["apps"]);
    assert_eq!(rules_of(&v).len(), 2, "{v}");
    let v = json(&repo, &["apps", "--namespace", "shop"]);
    assert_eq!(rules_of(&v), Vec::<String>::new(), "{v}");
    write(
        d,
        "repo/.rollcheck.yaml",
        "namespace: shop\ncontext: [../platform]\nexclude: [generated]\nexternal: [ClusterAnalysisTemplate/success-rate]\n",
    );
    let v = json(&repo, &["apps"]);
    assert_eq!(rules_of(&v), Vec::<String>::new(), "{v}");
}

#[test]
fn pre_commit_passes_one_changed_file_and_context_resolves_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "deploy/rollout.yaml", ROLLOUT);
    write(d, "deploy/services.yaml", SERVICES);
    // What pre-commit runs when only the Rollout changed.
    let v = json(d, &["deploy/rollout.yaml"]);
    assert_eq!(rules_of(&v).iter().filter(|r| *r == "unresolved-reference").count(), 2);
    let v = json(d, &["--context", "deploy", "deploy/rollout.yaml"]);
    assert!(!rules_of(&v).contains(&"unresolved-reference".to_string()), "{v}");
    // A context file's own problems are not reported, unless the linted file takes part in
    // them: then they are, in the context file, naming the change.
    write(
        d,
        "deploy/services.yaml",
        &format!(
            "{SERVICES}---\napiVersion: v1\nkind: Service\nmetadata: {{name: x}}\nspec:\n  selector: {{app: web}}\n  ports: [{{port: 80, targetPort: metrics}}]\n"
        ),
    );
    let other = ROLLOUT.replace("name: web\n", "name: other\n").replace("app: web", "app: other");
    write(d, "deploy/other.yaml", &other.replace("web-canary", "nope"));
    let v = json(d, &["--context", "deploy", "deploy/rollout.yaml"]);
    let elsewhere: Vec<&Value> =
        v["diagnostics"].as_array().unwrap().iter().filter(|x| x["file"] != "deploy/rollout.yaml").collect();
    assert_eq!(elsewhere.len(), 1, "{v}");
    assert_eq!(elsewhere[0]["file"], "deploy/services.yaml");
    assert_eq!(elsewhere[0]["rule"], "port-mismatch");
    assert!(elsewhere[0]["message"].as_str().unwrap().ends_with("(after the change to `deploy/rollout.yaml`)"));
}

#[test]
fn every_suppression_form_and_unused_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: a
data:
  # rollcheck-ignore: yaml-ambiguous-scalar -- the app reads `on` itself
  ONE: on
  TWO: yes # rollcheck-ignore: yaml-ambiguous-scalar
  THREE: off # rollcheck-ignore: port-mismatch, yaml-ambigous-scalar
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: b
  annotations:
    rollcheck.io/ignore: \"yaml-ambiguous-scalar\"
data:
  FOUR: on
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
data:
  FIVE: on
";
    write(d, "maps.yaml", text);
    let v = json(d, &["maps.yaml"]);
    let found: Vec<(u64, String, String)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (x["line"].as_u64().unwrap(), x["rule"].as_str().unwrap().into(), x["message"].as_str().unwrap().into())
        })
        .collect();
    let at: Vec<(u64, &str)> = found.iter().map(|(l, r, _)| (*l, r.as_str())).collect();
    assert_eq!(
        at,
        vec![
            (9, "yaml-ambiguous-scalar"),
            (9, "unused-suppression"),
            (9, "unused-suppression"),
            (25, "yaml-ambiguous-scalar")
        ],
        "{found:?}"
    );
    assert!(found[1].2.contains("`port-mismatch` is suppressed here, but reports nothing"), "{found:?}");
    assert!(
        found[2].2.contains("unknown rule `yaml-ambigous-scalar`") && found[2].2.contains("did you mean"),
        "{found:?}"
    );
    assert_eq!(v["summary"]["suppressed"], 3);

    // A file-wide suppression; in `helm template` output it covers only its template's document.
    write(d, "file.yaml", &format!("# rollcheck-ignore-file: yaml-ambiguous-scalar\n{text}"));
    assert_eq!(rules_of(&json(d, &["file.yaml"])), vec!["unused-suppression", "unused-suppression"]);
    let helm = "---\n# Source: chart/templates/a.yaml\n# rollcheck-ignore-file: yaml-ambiguous-scalar\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: {A: on}\n---\n# Source: chart/templates/b.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {B: on}\n";
    write(d, "helm.yaml", helm);
    let v = json(d, &["helm.yaml"]);
    assert_eq!(rules_of(&v), vec!["yaml-ambiguous-scalar"]);
    assert_eq!(v["diagnostics"][0]["line"], 13);

    // Turning the rule off in the config silences suppressions of it too; the values are
    // still rejected by the API server, which the schema check reports.
    write(d, ".rollcheck.yaml", "rules: {yaml-ambiguous-scalar: off}\n");
    let v = json(d, &["maps.yaml"]);
    let rules = rules_of(&v);
    assert_eq!(rules.iter().filter(|r| *r == "unused-suppression").count(), 2, "{rules:?}");
    assert_eq!(rules.iter().filter(|r| *r == "schema-violation").count(), 5, "{rules:?}");
}

#[test]
fn baseline_round_trip_survives_edits_above() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "app.yaml", ROLLOUT);
    let (code, _, _) = rollcheck(d, &["app.yaml"]);
    assert_eq!(code, 1, "two unresolved Services");
    let (code, out, err) = rollcheck(d, &["app.yaml", "--write-baseline", "baseline.json"]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(err.contains("recorded 3 findings"), "{err}");
    let recorded: Value = serde_json::from_str(&fs::read_to_string(d.join("baseline.json")).unwrap()).unwrap();
    assert_eq!(recorded["findings"][0]["object"], "Rollout/default/web");

    let (code, out, _) = rollcheck(d, &["app.yaml", "--baseline", "baseline.json"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("No problems found") && out.contains("3 in the baseline"), "{out}");

    // Lines added above move every finding; the baseline still matches.
    write(
        d,
        "app.yaml",
        &format!(
            "# a comment\n# another\n{}",
            ROLLOUT.replace("metadata:\n  name: web\n", "metadata:\n  name: web\n  labels:\n    team: shop\n")
        ),
    );
    let v = json(d, &["app.yaml", "--baseline", "baseline.json"]);
    assert_eq!(rules_of(&v), Vec::<String>::new(), "{v}");
    assert_eq!(v["summary"]["baselined"], 3);

    // A new problem is reported.
    write(d, "app.yaml", &ROLLOUT.replace("- pause: {}", "- pause: {duration: 5 minutes}"));
    let v = json(d, &["app.yaml", "--baseline", "baseline.json"]);
    assert_eq!(rules_of(&v), vec!["invalid-duration"], "{v}");

    let (code, _, err) = rollcheck(d, &["app.yaml", "--baseline", "app.yaml"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a rollcheck baseline"), "{err}");
}

fn broken_app() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn sarif_validates_against_the_sarif_2_1_0_schema() {
    let root = broken_app();
    let schema: Value =
        serde_json::from_str(&fs::read_to_string(root.join("tests/fixtures/sarif/sarif-schema-2.1.0.json")).unwrap())
            .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for input in ["examples/broken-app/app.yaml", "examples/healthy-canary/app.yaml"] {
        let (_, out, _) = rollcheck(root, &[input, "--format", "sarif"]);
        let sarif: Value = serde_json::from_str(&out).unwrap();
        let errors: Vec<String> =
            validator.iter_errors(&sarif).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{input}: {errors:?}");
        let run = &sarif["runs"][0];
        let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
        assert!(
            rules
                .iter()
                .all(|r| r["helpUri"].as_str().unwrap().ends_with(&format!("rules/{}.md", r["id"].as_str().unwrap())))
        );
        for result in run["results"].as_array().unwrap() {
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(rules[index]["id"], result["ruleId"]);
            let region = &result["locations"][0]["physicalLocation"]["region"];
            assert!(region["startLine"].as_u64().unwrap() >= 1);
        }
    }
    let (_, out, _) = rollcheck(root, &["examples/broken-app/app.yaml", "--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&out).unwrap();
    let first = &sarif["runs"][0]["results"][0];
    assert_eq!(first["locations"][0]["physicalLocation"]["artifactLocation"]["uri"], "examples/broken-app/app.yaml");
    assert_eq!(first["locations"][0]["physicalLocation"]["region"]["startLine"], 7);

    // `helm template` output on stdin without `--chart-dir`: its `# Source:` paths name no file
    // here, so the stream is the location and the message names the template.
    let stream = fs::read(root.join("tests/fixtures/helm-stream.yaml")).unwrap();
    let out =
        Command::cargo_bin("rollcheck").unwrap().args(["-", "--format", "sarif"]).write_stdin(stream).output().unwrap();
    let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(validator.iter_errors(&sarif).next().is_none());
    let result = &sarif["runs"][0]["results"][0];
    let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
    assert_eq!(uri, "stdin");
    assert!(result["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().is_some());
}

#[test]
fn junit_parses_back_and_counts_failures() {
    let root = broken_app();
    let (_, out, _) = rollcheck(root, &["examples", "--format", "junit"]);
    let doc = roxmltree::Document::parse(&out).unwrap();
    let suites = doc.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    let files: Vec<&str> = suites.children().filter(|n| n.is_element()).map(|n| n.attribute("name").unwrap()).collect();
    assert_eq!(files, vec!["examples/broken-app/app.yaml", "examples/healthy-canary/app.yaml"]);
    let failures = doc.descendants().filter(|n| n.has_tag_name("failure")).count();
    assert_eq!(suites.attribute("failures").unwrap().parse::<usize>().unwrap(), failures);
    assert_eq!(failures, 12);
    let first = doc.descendants().find(|n| n.has_tag_name("failure")).unwrap();
    assert_eq!(first.attribute("type"), Some("info"));
    assert!(first.text().unwrap().starts_with("examples/broken-app/app.yaml:7:13: "));
    let healthy = suites.children().filter(|n| n.is_element()).nth(1).unwrap();
    assert_eq!(healthy.attribute("failures"), Some("0"));
    assert_eq!(healthy.children().filter(|n| n.has_tag_name("testcase")).count(), 1);
}

#[test]
fn compact_and_github_lines() {
    let root = broken_app();
    let (code, out, _) = rollcheck(root, &["examples/broken-app/app.yaml", "--format", "compact"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 12);
    assert_eq!(
        lines[3],
        "examples/broken-app/app.yaml:21:22: error[unresolved-reference] Service `payments-canry` not found in namespace `default`"
    );
    let (_, out, _) = rollcheck(root, &["examples/broken-app/app.yaml", "--format", "github"]);
    let line = out.lines().nth(3).unwrap();
    assert!(line.starts_with("::error file=examples/broken-app/app.yaml,line=21,endLine=21,col=22,endColumn=36,title=rollcheck unresolved-reference::Service `payments-canry` not found"), "{line}");
    assert!(line.contains("%0Ahelp: "), "{line}");
    assert!(out.lines().next().unwrap().starts_with("::notice "));
}

#[test]
fn several_formats_from_one_run() {
    let root = broken_app();
    let dir = tempfile::tempdir().unwrap();
    let sarif = dir.path().join("out.sarif");
    let junit = dir.path().join("out.xml");
    let (code, out, err) = rollcheck(
        root,
        &[
            "examples/broken-app/app.yaml",
            "--format",
            "compact",
            "--format",
            &format!("sarif={}", sarif.display()),
            "--format",
            &format!("junit={}", junit.display()),
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(out.lines().count(), 12);
    let sarif: Value = serde_json::from_str(&fs::read_to_string(&sarif).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), 12);
    assert!(roxmltree::Document::parse(&fs::read_to_string(&junit).unwrap()).is_ok());

    let json_file = dir.path().join("out.json");
    let (code, out, _) =
        rollcheck(root, &["examples/broken-app/app.yaml", "--format", "json", "-o", json_file.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (1, ""));
    assert!(fs::read_to_string(&json_file).unwrap().contains("\"version\": 1"));

    for bad in [&["--format", "xml"][..], &["--format", "json", "--format", "compact"], &["--format", "sarif="]] {
        let mut args = vec!["examples/broken-app/app.yaml"];
        args.extend(bad);
        let (code, _, err) = rollcheck(root, &args);
        assert_eq!(code, 2, "{bad:?}: {err}");
    }
}

#[test]
fn config_schema_is_current_and_accepts_the_documented_example() {
    let root = broken_app();
    let path = root.join("schemas/rollcheck-config.schema.json");
    let generated = serde_json::to_string_pretty(&rollcheck::config::json_schema()).unwrap() + "\n";
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        fs::write(&path, &generated).unwrap();
    }
    assert!(fs::read_to_string(&path).unwrap() == generated, "stale: run UPDATE_SCHEMAS=1 cargo test --test workflow");
    let schema: Value = serde_json::from_str(&generated).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let example = serde_json::json!({
        "rules": {"canary-no-analysis": "off", "canary-large-weight-jump": {"level": "warning", "max-jump": 30}},
        "overrides": [{"files": ["legacy/**"], "rules": {"missing-readiness-probe": "off"}}],
        "exclude": ["charts/"], "namespace": "apps", "context": ["../platform"],
        "external": ["ClusterAnalysisTemplate/success-rate", {"kind": "Service", "name": "gw", "namespace": "infra"}],
        "fail-on": "warning",
        "kube-version": "1.31"
    });
    assert!(validator.is_valid(&example));
    assert!(!validator.is_valid(&serde_json::json!({"kube-version": "latest"})));
    assert!(!validator.is_valid(&serde_json::json!({"rules": {"no-such-rule": "off"}})));
}

#[test]
fn readme_config_example_is_valid() {
    let readme = fs::read_to_string(broken_app().join("README.md")).unwrap();
    let section = &readme[readme.find("## Configuration").unwrap()..];
    let start = section.find("```yaml\n").unwrap() + 8;
    let end = section[start..].find("```").unwrap() + start;
    let config = rollcheck::config::parse(&section[start..end], "README.md", Path::new("/repo"))
        .unwrap_or_else(|e| panic!("{:?}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>()));
    assert_eq!(config.external.len(), 3);
}

#[test]
fn pre_commit_hook_definition() {
    let text = fs::read_to_string(broken_app().join(".pre-commit-hooks.yaml")).unwrap();
    let stream = rollcheck::yaml::parse_stream(text.into());
    assert!(stream.errors.is_empty());
    let hook = stream.documents[0].root().unwrap().items().next().unwrap();
    assert_eq!(hook.get_str("id"), Some("rollcheck"));
    assert_eq!(hook.get_str("language"), Some("rust"));
    assert_eq!(hook.get_str("entry"), Some("rollcheck"));
    let files = regex::Regex::new(hook.get_str("files").unwrap()).unwrap();
    for (name, matched) in
        [("a.yaml", true), ("b.yml", true), ("c.json", true), ("d.txt", false), ("e.yaml.bak", false)]
    {
        assert_eq!(files.is_match(name), matched, "{name}");
    }
    // The same hook, installed from the wheel (tests/distribution.rs runs it in pre-commit).
    let binary = stream.documents[0].root().unwrap().items().nth(1).unwrap();
    assert_eq!(binary.get_str("id"), Some("rollcheck-bin"));
    assert_eq!(binary.get_str("language"), Some("python"));
    for key in ["entry", "files"] {
        assert_eq!(binary.get_str(key), hook.get_str(key), "{key}");
    }
}

#[test]
fn crd_flag_checks_custom_resources_with_their_schema() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(
        d,
        "crd.yaml",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: mappings.getambassador.io}\nspec:\n  group: getambassador.io\n  names: {kind: Mapping, plural: mappings}\n  scope: Namespaced\n  versions:\n    - name: v2\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          properties:\n            spec:\n              type: object\n              required: [prefix]\n              properties:\n                prefix: {type: string}\n                service: {type: string}\n                weight: {type: integer, minimum: 0, maximum: 100}\n",
    );
    write(
        d,
        "mapping.yaml",
        "apiVersion: getambassador.io/v2\nkind: Mapping\nmetadata:\n  name: web\n  labels: {a: b}\nspec:\n  prefix: /\n  servce: web\n  weight: 120\n",
    );
    // Without the CRD, a custom kind is not checked.
    assert_eq!(rules_of(&json(d, &["mapping.yaml"])), Vec::<String>::new());
    let v = json(d, &["mapping.yaml", "--crd", "crd.yaml"]);
    let found: Vec<(u64, String)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["line"].as_u64().unwrap(), x["rule"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(found, vec![(8, "schema-unknown-field".into()), (9, "schema-violation".into())], "{v}");
    assert!(v["diagnostics"][0]["help"].as_str().unwrap().contains("did you mean `service`?"));
    // The config file can name CRDs too; a file without a CRD is a usage error.
    write(d, ".rollcheck.yaml", "crds: [crd.yaml]\n");
    assert_eq!(rules_of(&json(d, &["mapping.yaml"])).len(), 2);
    let (code, _, err) = rollcheck(d, &["mapping.yaml", "--crd", "mapping.yaml"]);
    assert_eq!(code, 2);
    assert!(err.contains("no CustomResourceDefinition"), "{err}");
}
