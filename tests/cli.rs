//! The real binary, end to end: formats, exit codes, inputs good and bad.

use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use serde_json::Value;

fn rollcheck() -> Command {
    let mut cmd = Command::cargo_bin("rollcheck").expect("binary builds");
    cmd.timeout(Duration::from_secs(20)).env("NO_COLOR", "1");
    cmd
}

fn json_of(output: &[u8]) -> Value {
    serde_json::from_slice(output).expect("valid JSON on stdout")
}

fn rules_of(v: &Value) -> Vec<String> {
    v["diagnostics"].as_array().unwrap().iter().map(|d| d["rule"].as_str().unwrap().to_string()).collect()
}

fn write(dir: &tempfile::TempDir, name: &str, content: impl AsRef<[u8]>) -> String {
    let path = dir.path().join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, content).unwrap();
    path.display().to_string()
}

#[test]
fn healthy_example_is_clean() {
    rollcheck()
        .arg("examples/healthy-canary")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("No problems found in 1 file"));
}

#[test]
fn broken_example_reports_every_mistake_at_its_node() {
    let out =
        rollcheck().args(["examples/broken-app", "--format", "json"]).assert().code(1).get_output().stdout.clone();
    let v = json_of(&out);
    assert_eq!(v["version"], 1);
    let errors: Vec<&Value> =
        v["diagnostics"].as_array().unwrap().iter().filter(|d| d["severity"] == "error").collect();
    let found: Vec<(String, u64, u64)> = errors
        .iter()
        .map(|d| (d["rule"].as_str().unwrap().to_string(), d["line"].as_u64().unwrap(), d["column"].as_u64().unwrap()))
        .collect();
    let expected = [
        ("rollout-selector-mismatch", 8, 3),
        ("unresolved-reference", 21, 22),
        ("canary-step-invalid", 25, 11),
        ("invalid-duration", 26, 29),
        ("analysis-missing-arg", 28, 13),
        ("canary-step-invalid", 30, 22),
        ("service-selects-no-pods", 48, 5),
        ("invalid-duration", 61, 17),
    ];
    let expected: Vec<(String, u64, u64)> = expected.iter().map(|(r, l, c)| (r.to_string(), *l, *c)).collect();
    assert_eq!(found, expected);
    let first = errors[1];
    assert_eq!(first["help"], "did you mean `payments-canary`?");
    assert_eq!(first["object"]["kind"], "Rollout");
    assert_eq!(first["object"]["namespace"], "default");
    assert_eq!(first["related"][0]["line"], 35);
    assert_eq!(first["end_column"], 36);
    assert_eq!(v["summary"]["errors"], 8);
    assert_eq!(v["summary"]["warnings"], 3);
    assert_eq!(v["summary"]["infos"], 1);
    assert_eq!(v["summary"]["objects"], 4);
}

#[test]
fn human_output_shows_snippet_help_and_related_places() {
    rollcheck()
        .arg("examples/broken-app")
        .assert()
        .code(1)
        .stdout(predicate::str::contains("unresolved-reference"))
        .stdout(predicate::str::contains("examples/broken-app/app.yaml:21:"))
        .stdout(predicate::str::contains("help: did you mean `payments-canary`?"))
        .stdout(predicate::str::contains("Service `payments-canary` is defined here"))
        .stdout(predicate::str::contains("Found 8 errors"));
}

#[test]
fn stdin_keeps_helm_source_paths() {
    let stream = std::fs::read_to_string("tests/fixtures/helm-stream.yaml").unwrap();
    let out = rollcheck()
        .args(["-", "--format", "json"])
        .write_stdin(stream.clone())
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let v = json_of(&out);
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "unresolved-reference")
        .expect("the missing canary Service");
    assert_eq!(d["file"], "-");
    assert_eq!(d["helm_source"], "shop/templates/rollout.yaml");
    rollcheck()
        .arg("-")
        .write_stdin(stream)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("- (from shop/templates/rollout.yaml)"));
}

#[test]
fn a_broken_document_does_not_hide_the_rest_of_the_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "stream.yaml",
        "apiVersion: v1\nkind: Service\nmetadata: {name: a\n---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: r\nspec:\n  selector: {matchLabels: {app: r}}\n  template:\n    metadata: {labels: {app: r}}\n    spec: {containers: [{name: r, image: r, readinessProbe: {tcpSocket: {port: 80}}}]}\n  strategy: {}\n",
    );
    let v = json_of(&rollcheck().args([&path, "--format", "json"]).assert().code(1).get_output().stdout);
    assert_eq!(rules_of(&v), ["yaml-syntax", "rollout-strategy"]);
    assert_eq!(v["diagnostics"][0]["line"], 3, "at the unclosed bracket");
}

#[test]
fn bad_inputs_are_located_errors_and_good_files_are_still_linted() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir, "a-binary.yaml", b"\x7fELF\x00\x01\x02garbage");
    write(&dir, "b-latin1.yaml", b"name: caf\xe9\n");
    write(&dir, "c-empty.yaml", "");
    write(&dir, "d-deep.yaml", "[".repeat(100_000));
    let mut bomb = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..12 {
        bomb.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 9].join(", ")));
    }
    write(&dir, "e-bomb.yaml", bomb);
    write(
        &dir,
        "f-good.yaml",
        "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  selector: {matchLabels: {app: r}}\n  template: {metadata: {labels: {app: r}}, spec: {containers: [{name: r, image: r, readinessProbe: {tcpSocket: {port: 80}}}]}}\n",
    );
    let started = std::time::Instant::now();
    let out = rollcheck()
        .args([dir.path().to_str().unwrap(), "--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    assert!(started.elapsed() < Duration::from_secs(10));
    let v = json_of(&out);
    let by_file: Vec<(String, String, u64)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let file = d["file"].as_str().unwrap();
            (
                file.rsplit('/').next().unwrap().to_string(),
                d["rule"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_file,
        [
            ("a-binary.yaml".to_string(), "yaml-syntax".to_string(), 1),
            ("b-latin1.yaml".into(), "yaml-syntax".into(), 1),
            ("d-deep.yaml".into(), "yaml-syntax".into(), 1),
            ("f-good.yaml".into(), "rollout-strategy".into(), 4),
        ]
    );
    assert!(v["diagnostics"][1]["message"].as_str().unwrap().contains("0xE9"));
    assert_eq!(v["summary"]["files"], 6);
}

#[test]
fn unreadable_paths_exit_2_after_linting_the_rest() {
    rollcheck()
        .args(["examples/broken-app", "no/such/file.yaml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/file.yaml"))
        .stdout(predicate::str::contains("Found 8 errors"));
}

#[test]
fn files_over_the_size_limit_are_refused_with_a_message() {
    rollcheck()
        .args(["examples/broken-app/app.yaml", "--max-file-size", "100"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than the 100-byte limit"));
}

#[test]
fn a_200_mb_file_is_refused_without_being_read() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("huge.yaml");
    // Sparse: 200 MB on paper, nothing on disk.
    std::fs::File::create(&big).unwrap().set_len(200 * 1024 * 1024).unwrap();
    write(&dir, "ok.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
    let out = rollcheck()
        .args([dir.path().to_str().unwrap(), "--format", "json"])
        .timeout(Duration::from_secs(20))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("huge.yaml: larger than the 134217728-byte limit"))
        .get_output()
        .stdout
        .clone();
    assert_eq!(json_of(&out)["summary"]["files"], 1, "the other file is still linted");
}

#[cfg(unix)]
#[test]
fn unreadable_and_dangling_paths_are_reported_with_the_path() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(dir.path().join("gone.yaml"), dir.path().join("dangling.yaml")).unwrap();
    let locked = write(&dir, "locked.yaml", "apiVersion: v1\n");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
    write(&dir, "ok.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
    let assert = rollcheck().args([dir.path().to_str().unwrap(), "--format", "json"]).assert().code(2);
    let stderr = String::from_utf8(assert.get_output().stderr.clone()).unwrap();
    assert!(stderr.contains("dangling.yaml"), "{stderr}");
    // root reads anything; elsewhere the locked file is an error with its path.
    let root = std::fs::read(&locked).is_ok();
    assert!(root || stderr.contains("locked.yaml"), "{stderr}");
    let v = json_of(&assert.get_output().stdout);
    assert!(v["summary"]["files"].as_u64().unwrap() >= 1);
}

#[cfg(unix)]
#[test]
fn fifos_and_symlink_loops_do_not_hang() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("pipe.yaml");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    rollcheck().arg(fifo.to_str().unwrap()).assert().code(2).stderr(predicate::str::contains("not a regular file"));
    rollcheck()
        .arg("/dev/zero")
        .timeout(Duration::from_secs(10))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("/dev/zero"));
    let looped = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(looped.path(), looped.path().join("loop")).unwrap();
    write(&looped, "ok.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
    rollcheck().arg(looped.path().to_str().unwrap()).assert().code(2).stderr(predicate::str::contains("loop"));
}

#[test]
fn fail_on_sets_the_threshold() {
    let dir = tempfile::tempdir().unwrap();
    let path =
        write(&dir, "templates/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n");
    rollcheck().arg(&path).assert().code(0).stdout(predicate::str::contains("unrendered-template"));
    rollcheck().args([&path, "--fail-on", "warning"]).assert().code(1);
}

#[test]
fn excludes_and_gitignore_skip_files() {
    let dir = tempfile::tempdir().unwrap();
    write(&dir, "chart/templates/svc.yaml", "name: {{ .Release.Name }}\n");
    write(&dir, "build/out.yaml", "a: [\n");
    write(&dir, ".gitignore", "build/\n");
    write(&dir, "ok.json", r#"{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}"#);
    let v = json_of(
        &rollcheck()
            .args([dir.path().to_str().unwrap(), "--exclude", "templates", "--format", "json"])
            .assert()
            .code(0)
            .get_output()
            .stdout,
    );
    assert_eq!(v["summary"]["files"], 1);
    assert_eq!(v["summary"]["objects"], 1);
}

#[test]
fn namespace_flag_sets_where_references_resolve() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "app.yaml",
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  maxReplicas: 3\n  scaleTargetRef: {apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: web}\n---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: web, namespace: prod}\nspec:\n  selector: {matchLabels: {app: web}}\n  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: web, readinessProbe: {tcpSocket: {port: 80}}}]}}\n  strategy: {canary: {}}\n",
    );
    rollcheck()
        .arg(&path)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("Rollout `web` not found in namespace `default`"));
    rollcheck().args([&path, "-n", "prod"]).assert().code(0);
}

#[test]
fn list_objects_and_json_files_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "list.json",
        r#"{"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout", "metadata": {"name": "r"}, "spec": {"selector": {"matchLabels": {"app": "r"}}, "template": {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "x", "image": "x", "readinessProbe": {"tcpSocket": {"port": 80}}}]}}, "strategy": {"canary": {}}}}]}"#,
    );
    let v = json_of(&rollcheck().args([&path, "--format", "json"]).assert().code(1).get_output().stdout);
    assert_eq!(rules_of(&v), ["rollout-selector-mismatch"]);
    assert_eq!(v["diagnostics"][0]["column"], 142);
}

#[test]
fn rules_and_explain() {
    rollcheck()
        .arg("rules")
        .assert()
        .code(0)
        .stdout(predicate::str::is_match(r"(?m)^service-selects-no-pods +error +a Service").unwrap());
    rollcheck()
        .args(["explain", "canary-step-invalid"])
        .assert()
        .code(0)
        .stdout(predicate::str::starts_with("# canary-step-invalid\n"));
    rollcheck()
        .args(["explain", "canary-step-invlid"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean `canary-step-invalid`?"));
}

#[test]
fn usage_errors_exit_2() {
    rollcheck().arg("--no-such-flag").assert().code(2);
    rollcheck().args(["--format", "xml", "examples"]).assert().code(2);
}

/// A file is read, parsed and checked in pieces of about 1 MB cut at document markers; stdin
/// is linted whole. Both must find the same things at the same places, suppressions and
/// syntax errors included, and the human report must quote the right lines.
#[test]
fn a_file_read_in_pieces_lints_like_the_same_stream_whole() {
    const APP: &str = "---
# Source: shop/templates/rollout.yaml
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: app-N
spec:
  replicas: 3
  selector:
    matchLabels: {app: app-N}
  template:
    metadata:
      labels: {app: app-N}
    spec:
      containers:
        - name: app
          image: app:1
          ports: [{name: http, containerPort: 8080}]
  strategy:
    canary:
      canaryService: app-N-canry
      stableService: app-N
      steps:
        # rollcheck-ignore: canary-weight-unachievable
        - setWeight: 20
        - pause: {duration: 5 minutes}
---
# Source: shop/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: app-N
spec:
  selector: {app: app-N}
  ports: [{name: http, port: 80, targetPort: htp}]
";
    let dir = tempfile::tempdir().unwrap();
    let mut stream = String::new();
    for i in 0..3000 {
        stream.push_str(&APP.replace("app-N", &format!("app-{i}")));
        match i % 1000 {
            7 => stream.push_str("---\n# Source: shop/templates/dup.yaml\n# rollcheck-ignore-file: yaml-duplicate-key\nkind: ConfigMap\napiVersion: v1\nmetadata: {name: dup}\ndata: {a: x, a: y}\n"),
            8 => stream.push_str("---\nkind: ConfigMap\napiVersion: v1\nmetadata: {name: cafe, annotations: {note: café}}\ndata: {a: [unclosed\n"),
            9 => stream.push_str("---\nkind: ConfigMap\napiVersion: v1\nmetadata:\n  name: dup2\ndata:\n  b: x\n  # rollcheck-ignore: yaml-duplicate-key\n  b: y\n  c: x\n  c: y\n"),
            _ => {}
        }
    }
    assert!(stream.len() > 2 << 20, "several pieces ({} bytes)", stream.len());
    let path = write(&dir, "stream.yaml", &stream);
    let lint = |args: &[&str], stdin: Option<&str>| {
        let mut cmd = rollcheck();
        cmd.timeout(Duration::from_secs(120)).args(["--no-config", "--format", "json"]).args(args);
        if let Some(s) = stdin {
            cmd.write_stdin(s.to_string());
        }
        let mut v = json_of(&cmd.assert().code(1).get_output().stdout);
        for d in v["diagnostics"].as_array_mut().unwrap() {
            d["file"] = Value::Null;
            for r in d["related"].as_array_mut().unwrap() {
                r["file"] = Value::Null;
            }
        }
        v
    };
    let from_file = lint(&[&path], None);
    let from_stdin = lint(&["-"], Some(&stream));
    let (a, b) = (from_file["diagnostics"].as_array().unwrap(), from_stdin["diagnostics"].as_array().unwrap());
    assert_eq!(a.len(), b.len());
    if let Some(i) = (0..a.len()).find(|&i| a[i] != b[i]) {
        panic!("finding {i} differs:\nfile:  {}\nstdin: {}", a[i], b[i]);
    }
    assert_eq!(from_file["summary"], from_stdin["summary"]);
    let count = |rule: &str| rules_of(&from_file).iter().filter(|r| *r == rule).count();
    assert_eq!(count("yaml-syntax"), 3);
    assert_eq!(count("yaml-duplicate-key"), 3, "only the unsuppressed `c` keys");
    assert_eq!(count("unresolved-reference"), 3000);
    assert_eq!(count("canary-weight-unachievable"), 0);
    assert_eq!(from_file["summary"]["suppressed"], 3000 + 6);
    // The last syntax error, and its line quoted from the file.
    let last = a.iter().rfind(|d| d["rule"] == "yaml-syntax").unwrap();
    let line = stream.lines().enumerate().filter(|(_, l)| l.contains("[unclosed")).last().unwrap().0 + 1;
    assert_eq!(last["line"].as_u64().unwrap() as usize, line);
    rollcheck()
        .timeout(Duration::from_secs(120))
        .args(["--no-config", &path])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("data: {a: [unclosed").and(predicate::str::contains("app-2999-canry")));
}

#[test]
fn kube_version_decides_removed_and_deprecated_apis() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        "hpa.yaml",
        "apiVersion: autoscaling/v2beta2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  minReplicas: 1\n  maxReplicas: 3\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template: {metadata: {labels: {app: web}}, spec: {containers: [{name: web, image: web}]}}\n",
    );
    rollcheck()
        .args([&path, "--format", "compact"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("1:13: error[removed-api-version] autoscaling/v2beta2 HorizontalPodAutoscaler is no longer served since Kubernetes 1.26 (the target is 1.33)"));
    rollcheck()
        .args([&path, "--format", "compact", "--kube-version", "1.24"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warning[removed-api-version] autoscaling/v2beta2 HorizontalPodAutoscaler is deprecated since Kubernetes 1.23 and no longer served from 1.26"));
    rollcheck()
        .args([&path, "--kube-version", "1.22"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("removed-api-version").not());
    let config = write(&dir, ".rollcheck.yaml", "kube-version: \"1.25\"\n");
    rollcheck()
        .args([&path, "--format", "compact", "--config", &config])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warning[removed-api-version]"));
    rollcheck().args([&path, "--kube-version", "latest"]).assert().code(2);
}
