//! The embedded schemas are generated from `../shared/upstream/` and must not drift.

use std::path::Path;

#[test]
fn schemas_are_generated_from_upstream() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let upstream = root.join("../shared/upstream");
    if !upstream.is_dir() {
        eprintln!("skipped: ../shared/upstream is not here");
        return;
    }
    let (files, sources) = rollcheck::schema::generate::generate(&upstream).expect("generation works");
    let mut expected: Vec<(String, String)> =
        files.iter().map(|f| (format!("schemas/{}", f.path), f.text.clone())).collect();
    expected.push(("schemas/SOURCES.md".into(), sources));
    expected.push(("src/schema/embedded.rs".into(), rollcheck::schema::generate::embedded_rs(&files)));
    let update = std::env::var_os("UPDATE_SCHEMAS").is_some();
    let mut stale = Vec::new();
    for (path, text) in &expected {
        let full = root.join(path);
        if update {
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(&full, text).unwrap();
        } else if std::fs::read_to_string(&full).ok().as_deref() != Some(text.as_str()) {
            stale.push(path.clone());
        }
    }
    assert!(stale.is_empty(), "stale, run UPDATE_SCHEMAS=1 cargo test --test schemas: {stale:?}");
    // No file in schemas/ that the generator does not write (README and the config schema aside).
    for entry in walk(&root.join("schemas")) {
        let rel = entry.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
        let known = expected.iter().any(|(p, _)| *p == rel)
            || rel == "schemas/rollcheck-config.schema.json"
            || rel == "schemas/README.md";
        assert!(known, "{rel} is not generated; remove it");
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(walk(&p)) } else { out.push(p) }
    }
    out
}
