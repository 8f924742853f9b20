//! The YAML test suite (`../shared/upstream/yaml-test-suite/data`, 402 cases): no case panics,
//! every error case is a located `yaml-syntax` finding, and no valid case is one.

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

#[test]
fn yaml_test_suite() {
    let root = Path::new("../shared/upstream/yaml-test-suite/data");
    if !root.is_dir() {
        eprintln!("skipped: {} is not here", root.display());
        return;
    }
    let mut all = Vec::new();
    cases(root, &mut all);
    all.sort();
    assert_eq!(all.len(), 402, "the suite has 402 cases");
    let mut wrong = Vec::new();
    for case in &all {
        let bytes = std::fs::read(case.join("in.yaml")).unwrap();
        let len = bytes.len() as u32;
        let must_fail = case.join("error").exists();
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
        let name = case.strip_prefix(root).unwrap().display().to_string();
        match (must_fail, syntax.is_empty()) {
            (true, true) => wrong.push(format!("{name}: an error case gave no yaml-syntax finding")),
            (false, false) => wrong.push(format!("{name}: a valid case gave `{}`", syntax[0].message)),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{} of {} cases are wrong:\n{}", wrong.len(), all.len(), wrong.join("\n"));
}
