//! The block reader (`src/yaml/block.rs`) against granit-parser alone: on every file of
//! `../shared` (the corpus, the upstream trees, the YAML test suite), on the charts of the
//! corpus rendered by real helm, on a generated `helm template` stream, and on generated
//! documents, both readers must give the same trees (nodes, spans, resolved scalars, owned
//! texts, comments, `# Source:` paths, duplicate keys) and the same errors, as kubectl reads
//! manifests and as other YAML is read.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use proptest::prelude::*;
use rollcheck::yaml::{Reading, Stream, parse_stream_map, parse_stream_reference};

fn shared() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

/// Each document as its parts, and the errors.
fn describe(stream: &Stream) -> (Vec<Vec<String>>, Vec<String>) {
    let parts = |d: &rollcheck::yaml::Document| {
        let mut out = vec![
            format!("span {:?}", d.span),
            format!("root {:?}", d.root),
            format!("helm_source {:?}", d.helm_source),
            format!("comments {:?}", d.comments),
            format!("duplicate_keys {:?}", d.duplicate_keys),
            format!("owned {:?}", d.owned),
            format!("items {:?}", d.items),
            format!("pairs {:?}", d.pairs),
            format!("origin {}", d.origin),
        ];
        out.extend(d.nodes.iter().enumerate().map(|(i, n)| format!("node {i} {n:?}")));
        out
    };
    (
        stream.documents.iter().map(parts).collect(),
        stream.errors.iter().map(|e| format!("{:?} {}", e.span, e.message)).collect(),
    )
}

/// The first difference between the two readers on `text`, if any.
fn difference(text: &str) -> Option<String> {
    for reading in [Reading::Kubectl, Reading::Lenient] {
        let text: Arc<str> = Arc::from(text);
        let block = describe(&parse_stream_map(text.clone(), 0, reading, &|d| d));
        let parser = describe(&parse_stream_reference(text, reading));
        if block.1 != parser.1 {
            return Some(format!(
                "{reading:?}: errors differ:\nblock first: {:?}\nparser only: {:?}",
                block.1, parser.1
            ));
        }
        if block.0.len() != parser.0.len() {
            return Some(format!("{reading:?}: {} documents, parser alone {}", block.0.len(), parser.0.len()));
        }
        for (i, (a, b)) in block.0.iter().zip(&parser.0).enumerate() {
            if let Some((x, y)) = a.iter().zip(b).find(|(x, y)| x != y) {
                return Some(format!("{reading:?}: document {i} differs:\nblock first: {x}\nparser only: {y}"));
            }
            if a.len() != b.len() {
                return Some(format!("{reading:?}: document {i} has {} nodes, parser alone {}", a.len(), b.len()));
            }
        }
    }
    None
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn assert_same(label: &str, text: &str) {
    if let Some(d) = difference(text) {
        panic!("{label}: {d}");
    }
}

#[test]
fn every_file_of_shared_reads_the_same() {
    let mut all = Vec::new();
    files(&shared(), &mut all);
    all.sort();
    let mut read = 0;
    for path in all {
        let Ok(text) = std::fs::read_to_string(&path) else { continue };
        assert_same(&path.display().to_string(), &text);
        read += 1;
    }
    assert!(read > 1000, "only {read} files read under ../shared");
}

#[test]
fn rendered_charts_read_the_same() {
    let tools = common::k8s_tools();
    let mut rendered = 0;
    let mut charts = Vec::new();
    files(&shared().join("corpus/charts"), &mut charts);
    for chart in charts.iter().filter(|p| p.file_name().is_some_and(|n| n == "Chart.yaml")) {
        let dir = chart.parent().unwrap();
        let output = std::process::Command::new(tools.join("helm"))
            .args(["template", "release"])
            .arg(dir)
            .env("PATH", common::path_with_tools())
            .output()
            .expect("helm runs");
        if output.status.success() {
            assert_same(&dir.display().to_string(), &String::from_utf8_lossy(&output.stdout));
            rendered += 1;
        }
    }
    assert!(rendered >= 10, "only {rendered} charts rendered");
}

#[test]
fn a_generated_helm_stream_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new("python3")
        .arg(shared().join("bench/gen_corpus.py"))
        .arg(dir.path())
        .args(["--sizes", "200"])
        .status()
        .expect("python3 runs the generator");
    assert!(status.success());
    let mut made = Vec::new();
    files(dir.path(), &mut made);
    for path in made.iter().filter(|p| p.extension().is_some_and(|e| e == "yaml")) {
        let text = std::fs::read_to_string(path).unwrap();
        assert_same(&path.display().to_string(), &text);
        // `helm template` output is what the block reader is for: it reads every piece.
        let (read, pieces) = rollcheck::yaml::block_reader_share(&Arc::from(text.as_str()));
        assert_eq!(read, pieces, "{}: the block reader left pieces to the parser", path.display());
    }
}

/// Block YAML as manifests are written, with the variations the block reader must either
/// read exactly or leave to the parser.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9./-]{0,12}",
        "-?[0-9]{1,4}",
        Just("true".to_string()),
        Just("null".to_string()),
        Just("~".to_string()),
        Just("y".to_string()),
        Just("0x1F".to_string()),
        Just("1e3".to_string()),
        "\"[a-z :#{}\\[\\],'-]{0,10}\"",
        "'[a-z :#\"-]{0,8}'",
        Just("\"a\\\"b\"".to_string()),
        Just("'it''s'".to_string()),
        Just("a#b".to_string()),
        Just("a: b".to_string()),
        Just("http://x:80/y".to_string()),
        Just("[]".to_string()),
        Just("{}".to_string()),
        Just("[a, \"b\", 3]".to_string()),
        Just("[a,b]".to_string()),
        Just("{a: 1}".to_string()),
        Just("&x v".to_string()),
        Just("*x".to_string()),
        Just("!!str 1".to_string()),
        Just("--flag".to_string()),
        Just("".to_string()),
    ]
}

#[derive(Clone, Debug)]
enum Tree {
    Scalar(String),
    Literal(String, Vec<String>, usize),
    Map(Vec<(String, Tree)>),
    Seq(Vec<Tree>),
}

fn tree() -> impl Strategy<Value = Tree> {
    let leaf = prop_oneof![
        4 => scalar().prop_map(Tree::Scalar),
        1 => (prop_oneof![Just("|"), Just("|-"), Just("|+"), Just(">"), Just("|2")], prop::collection::vec("[a-z #:]{0,6}", 1..4), 0usize..3)
            .prop_map(|(h, lines, blank)| Tree::Literal(h.to_string(), lines, blank)),
    ];
    leaf.prop_recursive(5, 40, 5, |inner| {
        prop_oneof![
            prop::collection::vec(("[a-z][a-z0-9.]{0,6}|\"k[a-z ]{0,3}\"|y|null|~|x x|'q'", inner.clone()), 1..5)
                .prop_map(Tree::Map),
            prop::collection::vec(inner, 1..4).prop_map(Tree::Seq),
        ]
    })
}

/// Writes `tree` as block YAML at `indent`; `indentless` sequences put their dashes in the
/// parent's column.
fn write(tree: &Tree, indent: usize, step: usize, indentless: bool, comments: bool, out: &mut String) {
    let pad = " ".repeat(indent);
    match tree {
        Tree::Scalar(_) | Tree::Literal(..) => unreachable!("written inline"),
        Tree::Map(entries) => {
            for (k, v) in entries {
                if comments && k.len() % 3 == 0 {
                    out.push_str(&format!("{pad}# about {k}\n"));
                }
                out.push_str(&format!("{pad}{k}:"));
                inline_or_block(v, indent, step, indentless, comments, out);
            }
        }
        Tree::Seq(items) => {
            for item in items {
                out.push_str(&format!("{pad}-"));
                match item {
                    Tree::Map(entries) if !entries.is_empty() => {
                        // A compact mapping: its first key on the dash's line.
                        let mut inner = String::new();
                        write(item, indent + 2, step, indentless, comments, &mut inner);
                        out.push(' ');
                        out.push_str(inner.trim_start());
                    }
                    _ => inline_or_block(item, indent, step, indentless, comments, out),
                }
            }
        }
    }
}

fn inline_or_block(v: &Tree, indent: usize, step: usize, indentless: bool, comments: bool, out: &mut String) {
    match v {
        Tree::Scalar(s) => {
            if !s.is_empty() {
                out.push(' ');
                out.push_str(s);
            }
            if comments && s.len() % 2 == 1 {
                out.push_str("  # note");
            }
            out.push('\n');
        }
        Tree::Literal(header, lines, blank) => {
            out.push_str(&format!(" {header}\n"));
            let pad = " ".repeat(indent + step);
            for (i, line) in lines.iter().enumerate() {
                out.push_str(&format!("{pad}{line}\n"));
                if i == 0 {
                    out.push_str(&"\n".repeat(*blank));
                }
            }
        }
        Tree::Seq(_) if indentless => {
            out.push('\n');
            write(v, indent, step, indentless, comments, out);
        }
        _ => {
            out.push('\n');
            write(v, indent + step, step, indentless, comments, out);
        }
    }
}

fn document() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(("[a-z]{1,6}", tree()), 1..5),
        1usize..4,
        any::<bool>(),
        any::<bool>(),
        prop_oneof![Just(""), Just("---\n"), Just("---\n# Source: chart/templates/a.yaml\n"), Just("# c\n---\n")],
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                prop_oneof![Just("\t"), Just(" "), Just(":"), Just("- "), Just("\n"), Just("#"), Just("\"")],
            ),
            0..2,
        ),
    )
        .prop_map(|(entries, step, indentless, comments, head, edits)| {
            let mut out = head.to_string();
            write(&Tree::Map(entries), 0, step, indentless, comments, &mut out);
            // A few random edits, which the block reader must read exactly or leave alone.
            for (at, insert) in edits {
                let mut i = at.index(out.len() + 1);
                while !out.is_char_boundary(i) {
                    i -= 1;
                }
                out.insert_str(i, insert);
            }
            out
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn generated_documents_read_the_same(docs in prop::collection::vec(document(), 1..4)) {
        let text = docs.join("---\n");
        if let Some(d) = difference(&text) {
            prop_assert!(false, "{}\n--- text ---\n{}", d, text);
        }
    }
}
