//! The YAML test suite (`../shared/upstream/yaml-test-suite/data`, 402 cases) read as kubectl
//! reads it: no case panics, every case kubectl refuses is a located `yaml-syntax` finding, and
//! no case kubectl accepts is one. kubectl's verdicts were measured with the real tool and are
//! in `../shared/reference/kubectl-yaml-verdicts.tsv`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rollcheck::lint::{Options, lint_files};
use rollcheck::load::load_bytes;
use rollcheck::source::FileId;

fn cases(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            cases(&p, out);
        } else if p.file_name().is_some_and(|n| n == "in.yaml") {
            out.push(p.parent().unwrap().to_path_buf());
        }
    }
}

fn kubectl_verdicts() -> HashMap<String, bool> {
    let text = std::fs::read_to_string("../shared/reference/kubectl-yaml-verdicts.tsv").expect("the verdicts file");
    let mut out = HashMap::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.starts_with("case\t")) {
        let cols: Vec<_> = line.split('\t').collect();
        assert!(cols.len() >= 3, "bad line {line:?}");
        out.insert(cols[0].to_string(), cols[2] == "accept");
    }
    out
}

/// Cases where rollcheck and kubectl differ, and why that is acceptable. None of them can be
/// a Kubernetes object, so none changes what reaches a cluster.
const EXCEPTIONS: &[(&str, &str)] = &[
    // `[ a, b, c ] ]`: go-yaml stops after the first document's root and never sees the stray
    // bracket; the parser reports it before closing the root. A top-level sequence is not an object.
    ("4H7K", "a stray `]` after a top-level flow sequence"),
    // A top-level block scalar of blank lines followed by a less indented comment: the parser
    // refuses the comment's indentation. A top-level scalar is not an object.
    ("S98Z", "a top-level block scalar of blank lines, then a comment"),
    // `- !!str, xxx`: go-yaml takes `!!str,` as a tag; the parser refuses the comma in a tag.
    // A top-level sequence is not an object.
    ("U99R", "a comma glued to a tag"),
    // `{ foo : !!str, !!str : bar }`: go-yaml refuses `!!str,` (an unknown tag with a comma) on
    // an empty value; the parser reads an empty string. rollcheck accepts an empty tagged value.
    ("WZ62", "an empty value tagged `!!str,`"),
];

#[test]
fn yaml_test_suite() {
    let root = Path::new("../shared/upstream/yaml-test-suite/data");
    assert!(root.is_dir(), "{} is not here", root.display());
    let verdicts = kubectl_verdicts();
    let mut all = Vec::new();
    cases(root, &mut all);
    all.sort();
    assert_eq!(all.len(), 402, "the suite has 402 cases");
    let mut wrong = Vec::new();
    for case in &all {
        let bytes = std::fs::read(case.join("in.yaml")).unwrap();
        let len = bytes.len() as u32;
        let name = case.strip_prefix(root).unwrap().display().to_string();
        let accepts = *verdicts.get(&name).unwrap_or_else(|| panic!("{name} has no kubectl verdict"));
        let outcome = lint_files(vec![load_bytes(FileId(0), "in.yaml".into(), bytes)], &Options::default());
        let syntax: Vec<_> = outcome.diagnostics.iter().filter(|d| d.rule == "yaml-syntax").collect();
        for d in &outcome.diagnostics {
            assert!(
                d.span.start <= d.span.end && d.span.end <= len,
                "{}: span {:?} outside the file",
                case.display(),
                d.span
            );
        }
        if EXCEPTIONS.iter().any(|(case, _)| *case == name) {
            let agrees = accepts == syntax.is_empty();
            assert!(!agrees, "{name} is listed as an exception but rollcheck now agrees with kubectl: remove it");
            continue;
        }
        match (accepts, syntax.is_empty()) {
            (false, true) => wrong.push(format!("{name}: kubectl refuses it, rollcheck gave no yaml-syntax finding")),
            (true, false) => wrong.push(format!("{name}: kubectl accepts it, rollcheck gave `{}`", syntax[0].message)),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{} of {} cases are wrong:\n{}", wrong.len(), all.len(), wrong.join("\n"));
}
