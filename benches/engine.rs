//! In-process benchmarks of the engine's stages on a generated `helm template` stream of 1,000
//! apps (9.9 MB, 7,000 documents; `../shared/bench/gen_corpus.py`), and on one small file.
//! `cargo bench --bench engine`. Whole-process runs, side by side with other tools, are in
//! `benches/compare.py`.

use std::path::PathBuf;
use std::sync::{Arc, LazyLock};

use rollcheck::lint::{Options, Retention, lint_files};
use rollcheck::load::load_bytes;
use rollcheck::source::FileId;

fn main() {
    divan::main();
}

/// The generated stream (made on first use under `target/bench-data/`).
static STREAM: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    let file = dir.join("apps-1000.yaml");
    if !file.exists() {
        let status = std::process::Command::new("python3")
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/gen_corpus.py"))
            .arg(&dir)
            .args(["--sizes", "1000"])
            .status()
            .expect("python3 runs the generator");
        assert!(status.success());
    }
    std::fs::read(file).expect("generated stream")
});

static SMALL: &[u8] = include_bytes!("../examples/broken-app/app.yaml");

#[divan::bench(sample_count = 10)]
fn stream_yaml_events_only() -> usize {
    rollcheck::yaml::count_events(std::str::from_utf8(&STREAM).unwrap())
}

#[divan::bench(sample_count = 10)]
fn stream_parse_to_trees() -> usize {
    let text: Arc<str> = Arc::from(std::str::from_utf8(&STREAM).unwrap());
    rollcheck::yaml::parse_stream(text).documents.len()
}

/// As the command line runs: index checks on the retained facts.
fn options() -> Options {
    Options { retention: Retention::Facts, ..Options::default() }
}

#[divan::bench(sample_count = 10)]
fn stream_lint_every_rule() -> usize {
    lint_files(vec![load_bytes(FileId(0), "apps.yaml".into(), STREAM.clone())], &options()).diagnostics.len()
}

/// As the language server runs: whole trees kept for hovers and definitions.
#[divan::bench(sample_count = 10)]
fn stream_lint_every_rule_whole_trees() -> usize {
    lint_files(vec![load_bytes(FileId(0), "apps.yaml".into(), STREAM.clone())], &Options::default()).diagnostics.len()
}

#[divan::bench(sample_count = 10)]
fn stream_lint_without_schemas() -> usize {
    let config =
        rollcheck::config::parse("rules: {schema-unknown-field: off, schema-violation: off}\n", "c", "".as_ref())
            .unwrap();
    let options = Options { config: Arc::new(config), ..options() };
    lint_files(vec![load_bytes(FileId(0), "apps.yaml".into(), STREAM.clone())], &options).diagnostics.len()
}

#[divan::bench]
fn small_file_lint() -> usize {
    lint_files(vec![load_bytes(FileId(0), "app.yaml".into(), SMALL.to_vec())], &options()).diagnostics.len()
}
