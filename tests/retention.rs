//! The index checks run on what `retain::facts` keeps of each document. Linting with whole
//! trees and with those facts must give the same findings on every fixture, example and
//! real-world manifest; a fact the index checks read but retention drops shows up here.

use std::path::{Path, PathBuf};

use rollcheck::lint::{Options, Retention, lint_files};
use rollcheck::load::load_bytes;
use rollcheck::source::FileId;

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json")) {
            out.push(path);
        }
    }
}

fn findings(files: &[PathBuf], retention: Retention) -> Vec<String> {
    let loaded = files
        .iter()
        .enumerate()
        .map(|(i, p)| load_bytes(FileId(i as u32), p.display().to_string(), std::fs::read(p).unwrap()))
        .collect();
    let outcome = lint_files(loaded, &Options { retention, ..Options::default() });
    outcome
        .diagnostics
        .iter()
        .map(|d| {
            format!(
                "{}:{:?} {} {:?} {} | {:?} | {:?} | {:?} | {:?}",
                files[d.file.0 as usize].display(),
                d.span,
                d.rule,
                d.severity,
                d.message,
                d.label,
                d.help,
                d.related.iter().map(|r| (r.file, r.span, &r.message)).collect::<Vec<_>>(),
                d.suggestion
            )
        })
        .collect()
}

/// Lints `dir` as one run (objects in it refer to each other) both ways; returns the number
/// of findings.
fn same_findings(dir: &Path) -> usize {
    let mut files = Vec::new();
    yaml_files(dir, &mut files);
    let whole = findings(&files, Retention::Whole);
    let facts = findings(&files, Retention::Facts);
    if whole != facts {
        let missing: Vec<_> = whole.iter().filter(|d| !facts.contains(d)).collect();
        let extra: Vec<_> = facts.iter().filter(|d| !whole.contains(d)).collect();
        panic!("{}: findings differ\nonly with whole trees: {missing:#?}\nonly with facts: {extra:#?}", dir.display());
    }
    whole.len()
}

#[test]
fn fixtures_and_examples() {
    let mut total = 0;
    for dir in ["tests/parity", "tests/fixtures", "examples"] {
        total += same_findings(Path::new(dir));
    }
    assert!(total > 200, "the fixtures have findings to compare ({total})");
}

#[test]
fn upstream_and_real_world() {
    let upstream = Path::new("../shared/upstream/argo-rollouts");
    let corpus = Path::new("../shared/corpus/real-world");
    if !upstream.exists() || !corpus.exists() {
        eprintln!("skipping: ../shared is not here");
        return;
    }
    let mut total = same_findings(&upstream.join("examples"));
    let mut lint_testdata = Vec::new();
    yaml_files(&upstream.join("lint-testdata"), &mut lint_testdata);
    for file in lint_testdata {
        let whole = findings(std::slice::from_ref(&file), Retention::Whole);
        assert_eq!(whole, findings(std::slice::from_ref(&file), Retention::Facts), "{}", file.display());
        total += whole.len();
    }
    let mut repos: Vec<PathBuf> = std::fs::read_dir(corpus).unwrap().flatten().map(|e| e.path()).collect();
    repos.sort();
    for repo in repos.iter().filter(|r| r.is_dir()) {
        total += same_findings(repo);
    }
    assert!(total > 500, "the corpus has findings to compare ({total})");
}
