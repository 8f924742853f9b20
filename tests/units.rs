//! Units on a real repository layout: Helm charts rendered with real helm, kustomize roots built
//! with real kustomize, Argo CD Applications, and sibling apps with same-named objects. Every
//! finding must be on a real file of the repository, at an existing line, in every format.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// A copy of the fixture repository (with its own `.git`, so Application paths resolve in it).
fn repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy(Path::new("tests/fixtures/repos/gitops"), dir.path());
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    dir
}

fn copy(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn run(dir: &Path, args: &[&str], path: &std::ffi::OsStr) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rollcheck"))
        .current_dir(dir)
        .args(args)
        .env("PATH", path)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn lines_of(path: &Path) -> usize {
    std::fs::read_to_string(path).unwrap_or_else(|_| panic!("{} exists", path.display())).lines().count()
}

fn diagnostics(json: &Value) -> &Vec<Value> {
    json["diagnostics"].as_array().unwrap()
}

fn find<'a>(json: &'a Value, rule: &str, file: &str) -> Vec<&'a Value> {
    diagnostics(json).iter().filter(|d| d["rule"] == rule && d["file"] == file).collect()
}

#[test]
fn a_gitops_repository_is_linted_unit_by_unit() {
    let repo = repository();
    let (code, json) = common::rollcheck_json(repo.path(), &["."], &common::path_with_tools());
    assert_eq!(code, 1, "{json:#}");
    let all = diagnostics(&json);
    // Every finding is on a real file, at a line it has.
    for d in all {
        let file = repo.path().join(d["file"].as_str().unwrap());
        assert!(d["line"].as_u64().unwrap() as usize <= lines_of(&file).max(1), "{d:#}");
        for r in d["related"].as_array().unwrap() {
            assert!(repo.path().join(r["file"].as_str().unwrap()).is_file(), "{r:#}");
        }
    }
    // The only errors are the two units that do not render: no patch or template is linted as an
    // object, and no app is checked against its neighbour's objects.
    let errors: Vec<(&str, &str, u64)> = all
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| (d["rule"].as_str().unwrap(), d["file"].as_str().unwrap(), d["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        errors,
        vec![
            ("render-failed", "charts/broken/templates/configmap.yaml", 4),
            ("render-failed", "kustomize/web/overlays/broken/kustomization.yaml", 5),
        ],
        "{json:#}"
    );
    let chart = &find(&json, "render-failed", "charts/broken/templates/configmap.yaml")[0];
    assert!(chart["message"].as_str().unwrap().contains("a release domain is required"), "{chart:#}");
    let overlay = &find(&json, "render-failed", "kustomize/web/overlays/broken/kustomization.yaml")[0];
    assert!(overlay["message"].as_str().unwrap().contains("does-not-exist.yaml"), "{overlay:#}");
    // A mistake only the staging values make, on the template line that renders it.
    let decreases = find(&json, "canary-weight-decreases", "charts/shop/templates/rollout.yaml");
    assert_eq!(decreases.len(), 1, "{json:#}");
    assert_eq!(decreases[0]["line"], 42);
    assert!(decreases[0]["rendered"]["unit"].as_str().unwrap().contains("values-staging.yaml"));
    assert_eq!(decreases[0]["helm_source"], "shop-app/templates/rollout.yaml");
    // The prod overlay's patch sets the replicas the finding is about.
    let prod = find(&json, "canary-weight-unachievable", "kustomize/web/base/rollout.yaml");
    assert!(prod.iter().any(|d| d["message"].as_str().unwrap().contains("10 replica(s)")), "{json:#}");
    // Nothing is reported on patch files, values files or kustomizations but what they cause.
    for d in all {
        let file = d["file"].as_str().unwrap();
        if file.ends_with("kustomization.yaml") || file.contains("values") || file.contains("patch") {
            assert_eq!(d["rule"], "render-failed", "{d:#}");
        }
    }
}

#[test]
fn sarif_and_github_locations_are_repository_files() {
    let repo = repository();
    let (_, sarif, _) = run(repo.path(), &["--no-config", "--format", "sarif", "."], &common::path_with_tools());
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(results.len() > 10);
    for r in results {
        for loc in
            r["locations"].as_array().unwrap().iter().chain(r["relatedLocations"].as_array().into_iter().flatten())
        {
            let uri = loc["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap();
            let file = repo.path().join(uri);
            assert!(file.is_file(), "{uri}");
            let line = loc["physicalLocation"]["region"]["startLine"].as_u64().unwrap();
            assert!(line as usize <= lines_of(&file).max(1), "{uri}:{line}");
        }
    }
    let (_, github, _) = run(repo.path(), &["--no-config", "--format", "github", "."], &common::path_with_tools());
    let mut count = 0;
    for line in github.lines().filter(|l| l.starts_with("::")) {
        let file = line.split("file=").nth(1).unwrap().split(',').next().unwrap();
        let at: usize = line.split("line=").nth(1).unwrap().split(',').next().unwrap().parse().unwrap();
        let path = repo.path().join(file);
        assert!(path.is_file() && at <= lines_of(&path).max(1), "{line}");
        count += 1;
    }
    assert!(count > 10);
}

#[test]
fn a_named_file_of_a_chart_or_kustomization_selects_its_unit() {
    let repo = repository();
    // pre-commit passes a changed values file alone: the chart is rendered with it.
    let (_, json) =
        common::rollcheck_json(repo.path(), &["charts/shop/values-staging.yaml"], &common::path_with_tools());
    assert_eq!(find(&json, "canary-weight-decreases", "charts/shop/templates/rollout.yaml").len(), 1, "{json:#}");
    // A changed patch: every overlay using it is built; nothing else is linted.
    let (_, json) =
        common::rollcheck_json(repo.path(), &["kustomize/web/overlays/prod/replicas.yaml"], &common::path_with_tools());
    let files: Vec<&str> = diagnostics(&json).iter().map(|d| d["file"].as_str().unwrap()).collect();
    assert!(!files.is_empty() && files.iter().all(|f| f.starts_with("kustomize/web/")), "{files:?}");
}

#[test]
fn without_helm_or_kustomize_each_unit_says_so() {
    let repo = repository();
    let empty = repo.path().join("no-tools");
    let (code, json) = common::rollcheck_json(repo.path(), &["."], empty.as_os_str());
    assert_eq!(code, 0, "warnings only: {json:#}");
    let missing: Vec<&str> = diagnostics(&json)
        .iter()
        .filter(|d| d["rule"] == "render-tool-missing")
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert!(missing.contains(&"charts/shop/Chart.yaml"), "{missing:?}");
    assert!(missing.contains(&"kustomize/web/overlays/prod/kustomization.yaml"), "{missing:?}");
    // The base's objects are still linted as plain files; its patches are not.
    assert!(diagnostics(&json).iter().any(|d| d["file"].as_str().unwrap().starts_with("kustomize/web/base/")));
    assert!(diagnostics(&json).iter().all(|d| !d["file"].as_str().unwrap().contains("overlays/prod/replicas")));
}

#[test]
fn a_helm_stream_on_stdin_maps_to_the_chart_with_chart_dir() {
    let repo = repository();
    let tools = common::k8s_tools();
    let rendered = Command::new(tools.join("helm"))
        .current_dir(repo.path())
        .args(["template", "shop", "charts/shop", "-f", "charts/shop/values-staging.yaml"])
        .output()
        .unwrap();
    assert!(rendered.status.success());
    let run_stdin = |args: &[&str]| -> Value {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rollcheck"))
            .current_dir(repo.path())
            .args(["--no-config", "--format", "json", "-"])
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), &rendered.stdout).unwrap();
        drop(child.stdin.take());
        serde_json::from_slice(&child.wait_with_output().unwrap().stdout).unwrap()
    };
    let mapped = run_stdin(&["--chart-dir", "charts/shop"]);
    let d = &find(&mapped, "canary-weight-decreases", "charts/shop/templates/rollout.yaml");
    assert_eq!(d.len(), 1, "{mapped:#}");
    assert_eq!(d[0]["line"], 42);
    // Without it, the stream is the file: `# Source:` paths are not presented as files.
    let plain = run_stdin(&[]);
    assert_eq!(find(&plain, "canary-weight-decreases", "-").len(), 1, "{plain:#}");
    let _ = PathBuf::new();
}
