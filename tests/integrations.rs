//! What a new user hit wiring rollcheck into other tools, through the real binary: context
//! findings caused by the linted files (pre-commit), SARIF paths and fingerprints, baselines
//! from another directory, configured levels, output files, and the human report.

use std::collections::HashSet;
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
          readinessProbe:
            httpGet: {path: /, port: 8080}
  strategy:
    canary:
      canaryService: web-canary
      stableService: web-stable
      steps:
        - setWeight: 50
        - pause: {}
";

fn service(name: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector:\n    app: web\n  ports:\n    - port: 80\n"
    )
}

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn rollcheck(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out =
        Command::cargo_bin("rollcheck").unwrap().current_dir(dir).env("NO_COLOR", "1").args(args).output().unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

fn json(dir: &Path, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json", "--no-config"]);
    let (_, stdout, stderr) = rollcheck(dir, &all);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"))
}

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// pre-commit passes only `services.yaml`; the Rollout is context. Renaming the stable Service
/// must not pass: the dangling reference is reported in the Rollout's file, naming the change.
#[test]
fn a_context_finding_caused_by_a_linted_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "rollout.yaml", ROLLOUT);
    let services = format!("{}---\n{}", service("web-canary"), service("web-stable"));
    write(d, "services.yaml", &services);
    let v = json(d, &["services.yaml", "--context", "."]);
    assert_eq!(v["diagnostics"].as_array().unwrap().len(), 0, "{v}");

    // Renamed to a near name: the suggestion points into the changed file.
    write(d, "services.yaml", &format!("{}---\n{}", service("web-canary"), service("web-stabel")));
    let (code, _, _) = rollcheck(d, &["services.yaml", "--context", ".", "--no-config"]);
    assert_eq!(code, 1);
    let v = json(d, &["services.yaml", "--context", "."]);
    let found = &v["diagnostics"][0];
    assert_eq!(found["rule"], "unresolved-reference");
    assert_eq!(found["file"], "./rollout.yaml");
    assert_eq!((found["line"].as_u64(), found["column"].as_u64()), (Some(23), Some(22)));
    assert!(found["message"].as_str().unwrap().contains("after the change to `services.yaml`"), "{found}");

    // Renamed to something else entirely: the orphaned Service is the related place.
    write(d, "services.yaml", &format!("{}---\n{}", service("web-canary"), service("main")));
    let v = json(d, &["services.yaml", "--context", "."]);
    let found = &v["diagnostics"][0];
    assert_eq!(found["file"], "./rollout.yaml", "{v}");
    assert_eq!(found["related"][0]["file"], "services.yaml");
    assert!(found["related"][0]["message"].as_str().unwrap().contains("was it `web-stable`?"), "{found}");

    // A mistake that is only in the context, with nothing in the linted file behind it, is not
    // this commit's: not reported.
    write(d, "services.yaml", &service("web-canary"));
    write(d, "other.yaml", &ROLLOUT.replace("name: web\n", "name: other\n").replace("web-stable", "gone"));
    write(d, "stable.yaml", &service("web-stable"));
    let v = json(d, &["services.yaml", "--context", "."]);
    assert_eq!(v["diagnostics"].as_array().unwrap().len(), 0, "{v}");
}

#[test]
fn sarif_paths_are_repository_relative_and_every_result_has_a_region() {
    let root = repo_root();
    let absolute = root.join("examples/broken-app/app.yaml");
    let outside = tempfile::tempdir().unwrap();
    write(outside.path(), "x.yaml", &service("lonely"));
    let outside_file = outside.path().join("x.yaml");
    for (cwd, arg) in [
        (root.to_path_buf(), "examples/../examples/broken-app/app.yaml".to_string()),
        (root.join("examples"), "broken-app/app.yaml".to_string()),
        (root.join("src"), absolute.display().to_string()),
    ] {
        let (_, out, err) = rollcheck(&cwd, &[&arg, "--no-config", "--format", "sarif"]);
        let sarif: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
        let run = &sarif["runs"][0];
        assert!(run["originalUriBaseIds"]["%SRCROOT%"]["uri"].as_str().unwrap().ends_with('/'));
        for result in run["results"].as_array().unwrap() {
            let location = &result["locations"][0]["physicalLocation"];
            assert_eq!(location["artifactLocation"]["uri"], "examples/broken-app/app.yaml", "{arg} from {cwd:?}");
            assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
            assert!(location["region"]["startLine"].as_u64().unwrap() >= 1);
        }
    }
    // A file outside the repository is named by its absolute URI.
    let (_, out, _) = rollcheck(root, &[outside_file.to_str().unwrap(), "--no-config", "--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&out).unwrap();
    for result in sarif["runs"][0]["results"].as_array().unwrap() {
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
        assert!(uri.starts_with("file:///") && uri.ends_with("/x.yaml"), "{uri}");
    }
    // Standard input, plain and rendered by Helm: a region on every result.
    for input in ["examples/broken-app/app.yaml", "tests/fixtures/helm-stream.yaml"] {
        let out = Command::cargo_bin("rollcheck")
            .unwrap()
            .current_dir(root)
            .args(["-", "--no-config", "--format", "sarif"])
            .write_stdin(fs::read(root.join(input)).unwrap())
            .output()
            .unwrap();
        let sarif: Value = serde_json::from_slice(&out.stdout).unwrap();
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        assert!(!results.is_empty());
        for result in results {
            assert!(result["locations"][0]["physicalLocation"]["region"]["startLine"].as_u64().is_some(), "{result}");
        }
    }
}

fn fingerprints(dir: &Path, args: &[&str]) -> Vec<String> {
    let mut all = args.to_vec();
    all.extend(["--no-config", "--format", "sarif"]);
    let (_, out, _) = rollcheck(dir, &all);
    let sarif: Value = serde_json::from_str(&out).unwrap();
    sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["partialFingerprints"]["rollcheck/v2"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn sarif_fingerprints_are_unique_and_survive_unrelated_edits() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Two findings with the same rule, object and message.
    let twice = ROLLOUT.replace(
        "        - name: web\n          image: web:1\n          readinessProbe:\n            httpGet: {path: /, port: 8080}\n",
        "        - name: web\n          image: web:1\n        - name: side\n          image: side:1\n",
    );
    write(d, "app.yaml", &format!("{twice}---\n{}---\n{}", service("web-canary"), service("web-stable")));
    let before = fingerprints(d, &["app.yaml"]);
    assert!(before.len() >= 2);
    assert_eq!(before.iter().collect::<HashSet<_>>().len(), before.len(), "{before:?}");
    // Lines added above and an unrelated object changed: the same fingerprints.
    let edited = format!("# a comment\n# another\n{twice}---\n{}---\n{}", service("web-canary"), service("web-stable"))
        .replace("port: 80", "port: 81");
    write(d, "app.yaml", &edited);
    let mut after = fingerprints(d, &["app.yaml"]);
    let mut sorted = before.clone();
    sorted.sort();
    after.sort();
    assert_eq!(sorted, after);

    let corpus = repo_root().join("../shared/corpus/real-world");
    if corpus.is_dir() {
        let all = fingerprints(repo_root(), &[corpus.to_str().unwrap()]);
        let unique: HashSet<&String> = all.iter().collect();
        assert_eq!(unique.len(), all.len(), "{} results share a fingerprint", all.len() - unique.len());
    }
}

#[test]
fn baselines_match_from_any_directory_and_with_absolute_paths() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "deploy/app.yaml", &ROLLOUT.replace("web-canary", "web-canry"));
    write(d, "deploy/svc.yaml", &format!("{}---\n{}", service("web-canary"), service("web-stable")));
    fs::create_dir(d.join("ci")).unwrap();
    let (code, _, err) = rollcheck(d, &["deploy", "--no-config", "--write-baseline", "ci/baseline.json"]);
    assert_eq!(code, 0, "{err}");
    let recorded: Value = serde_json::from_str(&fs::read_to_string(d.join("ci/baseline.json")).unwrap()).unwrap();
    assert_eq!(recorded["findings"][0]["path"], "../deploy/app.yaml");
    let absolute = d.join("deploy").display().to_string();
    let baseline = d.join("ci/baseline.json").display().to_string();
    for (cwd, path) in [(d.to_path_buf(), "deploy"), (d.join("deploy"), "."), (d.join("ci"), absolute.as_str())] {
        let v = json(&cwd, &[path, "--baseline", &baseline]);
        assert_eq!(v["summary"]["baselined"], 2, "from {cwd:?} with {path}: {v}");
        assert_eq!(v["diagnostics"].as_array().unwrap().len(), 0);
    }
}

#[test]
fn configured_levels_win_over_every_default() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write(d, "cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: yes\n");
    let v = json(d, &["cm.yaml"]);
    let levels: Vec<(&str, &str)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["rule"].as_str().unwrap(), d["severity"].as_str().unwrap()))
        .collect();
    // The documented level, in place of the schema's finding at the same node.
    assert_eq!(levels, vec![("yaml-ambiguous-scalar", "warning")]);
    for (config, expected) in [
        ("yaml-ambiguous-scalar: error", vec![("yaml-ambiguous-scalar", "error")]),
        ("yaml-ambiguous-scalar: info\n  schema-violation: error", vec![("yaml-ambiguous-scalar", "info")]),
        ("schema-violation: off", vec![("yaml-ambiguous-scalar", "warning")]),
    ] {
        write(d, ".rollcheck.yaml", &format!("rules:\n  {config}\n"));
        let (_, out, err) = rollcheck(d, &["cm.yaml", "--format", "json"]);
        let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"));
        let levels: Vec<(&str, &str)> = v["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| (d["rule"].as_str().unwrap(), d["severity"].as_str().unwrap()))
            .collect();
        assert_eq!(levels, expected, "{config}");
    }
}

#[test]
fn one_file_per_format_and_empty_paths_are_said() {
    let root = repo_root();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("out");
    let f = file.to_str().unwrap();
    for args in [
        vec!["--format", &*format!("json={f}"), "--format", &*format!("compact={f}")],
        vec!["--format", "json", "-o", f, "--format", &*format!("sarif={f}")],
    ] {
        let mut all = vec!["examples/broken-app"];
        all.extend(args.iter().map(|s| &**s));
        let (code, _, err) = rollcheck(root, &all);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains("would both be written to"), "{err}");
    }
    let empty = tempfile::tempdir().unwrap();
    write(empty.path(), "notes.txt", "not a manifest");
    let (code, out, err) = rollcheck(root, &[empty.path().to_str().unwrap(), "examples/healthy-canary", "--no-config"]);
    assert_eq!(code, 0);
    assert!(err.contains("nothing to lint under") && err.contains(empty.path().to_str().unwrap()), "{err}");
    assert!(!err.contains("healthy-canary"), "{err}");
    assert!(out.contains("No problems found in 1 file"), "{out}");
}

#[test]
fn the_human_report_says_everything_in_plain_text() {
    let (_, out, _) = rollcheck(repo_root(), &["examples/broken-app", "--no-config", "--no-color"]);
    assert!(!out.contains('\u{1b}'), "no escape codes");
    // Every finding: severity in words, its page as text, the snippet at its line and column.
    assert_eq!(out.matches("  docs: https://").count(), 12, "{out}");
    assert!(out.contains("error[unresolved-reference]"), "{out}");
    assert!(out.contains("info[missing-anti-affinity]"), "{out}");
    assert!(out.contains("╭─[examples/broken-app/app.yaml:21:22]"), "{out}");
    assert!(out.contains("docs: https://github.com/rollcheck/rollcheck/blob/main/rules/unresolved-reference.md"));
    // Related places are headed as such; an info has its own mark.
    assert!(!out.contains("Advice"), "{out}");
    assert!(out.contains("Related place:\n  ☞ Service `payments-canary` is defined here"), "{out}");
    assert!(out.contains("  ℹ several replicas"), "{out}");
    assert!(!out.contains("☞ several replicas"), "{out}");
    // The summary stands apart from the last finding.
    let (last_finding, summary) = out.rsplit_once("\n\n").unwrap();
    assert!(summary.starts_with("Found 8 errors"), "{summary}");
    assert!(last_finding.ends_with(".md"), "{last_finding}");
}
