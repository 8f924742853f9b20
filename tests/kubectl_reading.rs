//! YAML read as kubectl reads it. Each case is a minimal reproduction of one class where
//! go-yaml (kubectl) and YAML 1.2 differ. `cases_match_real_kubectl` runs real kubectl 1.33
//! (installed by `../shared/tools/k8s-tools.sh`) on every case and requires rollcheck's
//! verdict to be kubectl's; the other tests check rollcheck alone, with the verdict kubectl gave.

use std::path::{Path, PathBuf};
use std::process::Command;

use rollcheck::diagnostic::Diagnostic;
use rollcheck::lint::{Options, lint_files};
use rollcheck::load::load_bytes;
use rollcheck::source::FileId;

const HEAD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n";

/// (name, YAML, whether kubectl accepts it).
fn cases() -> Vec<(&'static str, String, bool)> {
    let cm = |body: &str| format!("{HEAD}{body}");
    vec![
        // Accepted by go-yaml, refused by YAML 1.2 parsers.
        (
            "quoted continuation at the key's column",
            cm("spec:\n  list:\n  - description: 'a\n  b\n  c'\n    type: x\n"),
            true,
        ),
        ("quoted continuation at column 0", cm("data:\n  a: \"one\ntwo\"\n"), true),
        ("comment glued to a closing quote", cm("data:\n  a: \"v\"# note\n"), true),
        ("comment glued to a closing bracket", cm("spec:\n  a: [x, y]# note\n"), true),
        ("comment glued to a block indicator", cm("data:\n  a: |# note\n    text\n"), true),
        ("flow sequence continued at column 0", cm("spec:\n  a: [x,\ny]\n"), true),
        ("escaped single quote in double quotes", cm("data:\n  a: \"it\\'s\"\n"), true),
        ("dash scalars in a flow sequence", cm("spec:\n  a: [-, -]\n"), true),
        ("tab-indented quoted continuation", cm("data:\n  a: \"x\n\ty\"\n"), true),
        ("tab before a comment after a value", cm("data:\n  a: b\t# c\n"), true),
        ("tab right of a plain value's indentation", cm("data:\n  a: b\n   \t\n  c: d\n"), true),
        ("document after ... without ---", cm("data:\n  a: b\n...\nkind: Foo\nbroken: [\n"), true),
        ("anchor name followed by a colon", cm("data:\n  a: &an:chor value\n"), true),
        (
            "JSON document",
            "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\",\n \"metadata\": {\"name\": \"x\"}}\n".into(),
            true,
        ),
        ("merge key", cm("base: &b {k: v}\ndata:\n  <<: *b\n  a: b\n"), true),
        // Refused by go-yaml, accepted by YAML 1.2 parsers.
        ("tab-only line after a value", cm("data:\n  a: b\n\t\n  c: d\n"), false),
        ("tab left of a plain value's indentation", cm("data:\n  a: b\n \t\n  c: d\n"), false),
        ("tab-indented comment line", cm("data:\n\t# c\n  a: b\n"), false),
        ("block scalar line starting with a tab", cm("data:\n  a: |\n\tx\n"), false),
        ("tab in a block scalar's indentation", cm("data:\n  a: |\n    x\n\t\n    y\n"), false),
        ("dash followed by a tab", cm("spec:\n  a:\n  -\tb\n"), false),
        ("U+2028 in a plain scalar", cm("data:\n  a: b\u{2028}c\n"), false),
        ("NEL in a plain scalar", cm("data:\n  a: b\u{85}c\n"), false),
        ("anchor ending in a colon", cm("data:\n  a: &x: y\n"), false),
        ("question mark in a flow plain scalar", cm("spec:\n  a: [http://x/y?z=1]\n"), false),
        ("escaped slash", cm("data:\n  a: \"x\\/y\"\n"), false),
        ("key spanning lines", cm("data:\n  this\n   is: x\n"), false),
        ("null key", cm("spec:\n  ~: x\n"), false),
        ("sequence key", cm("spec:\n  ? [a]\n  : b\n"), false),
        ("YAML directive", format!("%YAML 1.1\n---\n{}", cm("data:\n  a: b\n")), false),
        ("TAG directive", format!("%TAG !e! tag:example.com,2000:\n---\n{}", cm("data:\n  a: b\n")), false),
        ("block scalar on the --- line", "--- |\n  text\n".into(), false),
        ("tag on the --- line", format!("--- !!map\n{}", cm("data:\n  a: b\n")), false),
        ("... before any content", format!("# c\n...\n---\n{}", cm("data:\n  a: b\n")), false),
    ]
}

fn lint(text: &str) -> Vec<Diagnostic> {
    let file = load_bytes(FileId(0), "case.yaml".into(), text.as_bytes().to_vec());
    lint_files(vec![file], &Options::default()).diagnostics
}

fn syntax(text: &str) -> Vec<Diagnostic> {
    lint(text).into_iter().filter(|d| d.rule == "yaml-syntax").collect()
}

#[test]
fn each_class_gets_kubectl_verdict() {
    let mut wrong = Vec::new();
    for (name, text, accepts) in cases() {
        let found = syntax(&text);
        if found.is_empty() != accepts {
            wrong.push(format!(
                "{name}: kubectl {}, rollcheck {:?}",
                if accepts { "accepts" } else { "refuses" },
                found.first().map(|d| &d.message)
            ));
        }
        for d in &found {
            assert!(
                d.message.contains("kubectl") || !accepts,
                "{name}: `{}` does not say why in kubectl's terms",
                d.message
            );
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// kubectl's verdict on `path`: `true` when it reads the YAML (a later error that is not about
/// YAML still counts as read).
fn kubectl_reads(kubectl: &Path, path: &Path) -> (bool, String) {
    let out = Command::new(kubectl)
        .args(["annotate", "--local", "-f"])
        .arg(path)
        .args(["x=y", "-o", "name"])
        .output()
        .expect("kubectl runs");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let yaml_error = stderr.contains("error converting YAML to JSON")
        || stderr.contains("invalid Yaml document separator")
        || stderr.contains("yaml:")
        || stderr.contains("json: offset");
    (out.status.success() || !yaml_error, stderr)
}

fn install_kubectl() -> PathBuf {
    let out = Command::new("bash")
        .args(["../shared/tools/k8s-tools.sh", "target/k8s-tools"])
        .output()
        .expect("the k8s-tools installer runs");
    assert!(out.status.success(), "installing kubectl failed: {}", String::from_utf8_lossy(&out.stderr));
    let dir = String::from_utf8_lossy(&out.stdout).trim().lines().last().unwrap_or_default().to_string();
    let kubectl = Path::new(&dir).join("kubectl");
    assert!(kubectl.is_file(), "no kubectl at {}", kubectl.display());
    kubectl
}

#[test]
fn cases_match_real_kubectl() {
    let kubectl = install_kubectl();
    let dir = tempfile::tempdir().unwrap();
    let mut wrong = Vec::new();
    for (i, (name, text, expected)) in cases().into_iter().enumerate() {
        let path = dir.path().join(format!("case{i}.yaml"));
        std::fs::write(&path, &text).unwrap();
        let (accepts, stderr) = kubectl_reads(&kubectl, &path);
        let ours = syntax(&text);
        if accepts != ours.is_empty() {
            wrong.push(format!(
                "{name}: kubectl {} ({}), rollcheck {:?}",
                if accepts { "accepts" } else { "refuses" },
                stderr.trim(),
                ours.first().map(|d| &d.message)
            ));
        }
        assert_eq!(accepts, expected, "{name}: kubectl's verdict changed ({})", stderr.trim());
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_document_after_dots_is_not_linted() {
    // kubectl reads the first document of each `---` piece only.
    let text = format!(
        "{HEAD}data:\n  a: b\n...\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: r\nspec: {{}}\n"
    );
    let found = lint(&text);
    assert!(found.iter().all(|d| d.rule != "yaml-syntax" && !d.message.contains("Rollout")), "{found:?}");
}

#[test]
fn documents_after_a_false_error_are_linted() {
    // The Istio CRD shape: before, the quoted continuation was an error and the next
    // document's real finding was lost.
    let text = format!(
        "{HEAD}spec:\n  list:\n  - description: 'a\n  b'\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: s\nspec:\n  selector: {{app: a}}\n  ports: [{{port: 80, port: 81}}]\n"
    );
    let found = lint(&text);
    assert!(found.iter().all(|d| d.rule != "yaml-syntax"), "{found:?}");
    assert!(found.iter().any(|d| d.rule == "yaml-duplicate-key"), "{found:?}");
}

#[test]
fn duplicate_keys_name_the_tools_and_the_object() {
    let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  namespace: ns\nspec:\n  type: NotAType\n  type: ClusterIP\n  ports: [{port: 80}]\n";
    let found = lint(text);
    let dup: Vec<_> = found.iter().filter(|d| d.rule == "yaml-duplicate-key").collect();
    assert_eq!(dup.len(), 1, "{found:?}");
    assert!(dup[0].message.contains("kubectl and helm keep only this last value, and kustomize refuses the file"));
    let object = dup[0].object.as_ref().expect("the object");
    assert_eq!((&*object.kind, object.name.as_str(), object.namespace.as_deref()), ("Service", "s", Some("ns")));
    // The discarded first value is never read by kubectl: no schema finding on it.
    assert!(found.iter().all(|d| !d.message.contains("NotAType")), "{found:?}");
}

#[test]
fn errors_say_kubectl_stops_there() {
    let found = syntax(&format!("{HEAD}data: {{a: [b\n"));
    assert_eq!(found.len(), 1);
    assert!(
        found[0]
            .help
            .as_deref()
            .unwrap_or_default()
            .contains("kubectl applies the documents before this one and stops here")
    );
}
