//! Property tests: whatever the input (arbitrary bytes, YAML built from a grammar, mutations
//! of real manifests), rollcheck does not panic, its JSON output parses, and every reported
//! span lies inside its file; and the index checks find the same on the facts rollcheck keeps
//! as on whole trees.

use proptest::prelude::*;
use rollcheck::lint::{Options, Outcome, Retention, lint_files};
use rollcheck::load::load_bytes;
use rollcheck::report::render_json;
use rollcheck::source::FileId;

fn check(bytes: Vec<u8>) -> Outcome {
    let len = bytes.len() as u32;
    let facts = Options { retention: Retention::Facts, ..Options::default() };
    let kept = lint_files(vec![load_bytes(FileId(0), "input.yaml".into(), bytes.clone())], &facts);
    let outcome = lint_files(vec![load_bytes(FileId(0), "input.yaml".into(), bytes)], &Options::default());
    let brief = |o: &Outcome| o.diagnostics.iter().map(|d| (d.rule, d.span, d.message.clone())).collect::<Vec<_>>();
    assert_eq!(brief(&kept), brief(&outcome), "facts and whole trees disagree");
    for d in &outcome.diagnostics {
        assert!(d.span.start <= d.span.end && d.span.end <= len, "{} span {:?} outside {len} bytes", d.rule, d.span);
        for r in &d.related {
            assert!(r.span.end <= len, "related span outside the file");
        }
    }
    let json: serde_json::Value = serde_json::from_str(&render_json(&outcome)).expect("JSON output parses");
    assert_eq!(json["version"], 1);
    outcome
}

/// Keys and scalars that make the rules run: Kubernetes and Argo Rollouts vocabulary.
const WORDS: &[&str] = &[
    "apiVersion",
    "kind",
    "metadata",
    "name",
    "namespace",
    "labels",
    "spec",
    "selector",
    "matchLabels",
    "template",
    "strategy",
    "canary",
    "blueGreen",
    "steps",
    "setWeight",
    "pause",
    "duration",
    "analysis",
    "templates",
    "templateName",
    "args",
    "value",
    "canaryService",
    "stableService",
    "activeService",
    "trafficRouting",
    "nginx",
    "stableIngress",
    "istio",
    "virtualService",
    "routes",
    "replicas",
    "containers",
    "ports",
    "containerPort",
    "targetPort",
    "port",
    "metrics",
    "interval",
    "count",
    "failureLimit",
    "successCondition",
    "provider",
    "prometheus",
    "query",
    "workloadRef",
    "argoproj.io/v1alpha1",
    "v1",
    "Rollout",
    "Service",
    "AnalysisTemplate",
    "Ingress",
    "Deployment",
    "Experiment",
    "app",
    "web",
    "10",
    "-1",
    "120",
    "5m",
    "yes",
    "result[0] > 1",
    "{{args.x}}",
    "sum(rate(x[1m])) / sum(rate(y[1m]))",
    "",
    "~",
    "*a",
    "&a",
    "<<",
];

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(WORDS).prop_map(str::to_string),
        any::<i32>().prop_map(|n| n.to_string()),
        "[a-z0-9 :#'\"{}\\[\\],&*!|>-]{0,12}".prop_map(|s| format!("{s:?}")),
    ]
}

#[derive(Debug, Clone)]
enum Yaml {
    Scalar(String),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
}

fn yaml() -> impl Strategy<Value = Yaml> {
    let leaf = scalar().prop_map(Yaml::Scalar);
    leaf.prop_recursive(6, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Yaml::Seq),
            prop::collection::vec((prop::sample::select(WORDS).prop_map(str::to_string), inner), 0..6)
                .prop_map(Yaml::Map),
        ]
    })
}

fn render(y: &Yaml, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match y {
        Yaml::Scalar(s) => {
            out.push(' ');
            out.push_str(s);
            out.push('\n');
        }
        Yaml::Seq(items) if items.is_empty() => out.push_str(" []\n"),
        Yaml::Map(entries) if entries.is_empty() => out.push_str(" {}\n"),
        Yaml::Seq(items) => {
            out.push('\n');
            for item in items {
                out.push_str(&format!("{pad}-"));
                render(item, indent + 2, out);
            }
        }
        Yaml::Map(entries) => {
            out.push('\n');
            for (k, v) in entries {
                out.push_str(&format!("{pad}{k}:"));
                render(v, indent + 2, out);
            }
        }
    }
}

fn document(y: &Yaml) -> String {
    let mut out = String::from("apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:");
    render(y, 2, &mut out);
    out
}

fn corpus_files() -> &'static [Vec<u8>] {
    static FILES: std::sync::LazyLock<Vec<Vec<u8>>> = std::sync::LazyLock::new(read_corpus);
    &FILES
}

fn read_corpus() -> Vec<Vec<u8>> {
    let root = std::path::Path::new("../shared/corpus/real-world");
    let mut files = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "yaml" || x == "yml") {
                files.push(std::fs::read(&p).unwrap_or_default());
            }
        }
    }
    files.sort();
    files.truncate(64);
    if files.is_empty() {
        files.push(std::fs::read("examples/broken-app/app.yaml").unwrap());
    }
    files
}

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    DuplicateLine(usize),
    Replace(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0..64usize).prop_map(|(a, n)| Mutation::Delete(a, n)),
        (
            any::<usize>(),
            prop::collection::vec(
                prop_oneof![
                    Just(b':'),
                    Just(b'-'),
                    Just(b' '),
                    Just(b'\n'),
                    Just(b'['),
                    Just(b'{'),
                    Just(b'&'),
                    Just(b'*'),
                    Just(b'"'),
                    any::<u8>()
                ],
                1..8
            )
        )
            .prop_map(|(a, b)| Mutation::Insert(a, b)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::Replace(a, b)),
    ]
}

fn apply(mut bytes: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let len = bytes.len().max(1);
        match m {
            Mutation::Delete(at, n) => {
                let at = at % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Mutation::Insert(at, b) => {
                let at = at % (bytes.len() + 1);
                bytes.splice(at..at, b.iter().copied());
            }
            Mutation::DuplicateLine(at) => {
                let lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
                let i = at % lines.len();
                let mut out = Vec::new();
                for (j, l) in lines.iter().enumerate() {
                    out.extend_from_slice(l);
                    out.push(b'\n');
                    if j == i {
                        out.extend_from_slice(l);
                        out.push(b'\n');
                    }
                }
                bytes = out;
            }
            Mutation::Replace(at, b) => {
                if !bytes.is_empty() {
                    let i = at % bytes.len();
                    bytes[i] = *b;
                }
            }
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        check(bytes);
    }

    #[test]
    fn arbitrary_yaml_from_a_grammar(y in yaml()) {
        check(document(&y).into_bytes());
    }

    #[test]
    fn mutated_real_manifests(file in any::<prop::sample::Index>(), mutations in prop::collection::vec(mutation(), 1..6)) {
        let files = corpus_files();
        let original = files[file.index(files.len())].clone();
        check(apply(original, &mutations));
    }
}
