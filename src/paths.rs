//! Paths as reports and baselines store them: absolute and without `.`/`..`, or relative to a
//! folder with forward slashes, so that the same file reads the same from any working directory.

use std::path::{Component, Path, PathBuf};

/// The absolute form of `path`, with `.` and `..` removed without touching the file system.
pub fn absolute(path: &Path) -> PathBuf {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in absolute.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` relative to the folder `base` (both made absolute), with `..` where it lies outside,
/// and forward slashes. `None` when they share no root (two Windows drives).
pub fn relative(path: &Path, base: &Path) -> Option<String> {
    let path = absolute(path);
    let base = absolute(base);
    let mut p = path.components().peekable();
    let mut b = base.components().peekable();
    if p.peek() != b.peek() {
        return None;
    }
    while p.peek().is_some() && p.peek() == b.peek() {
        p.next();
        b.next();
    }
    let mut parts: Vec<String> = b.map(|_| "..".to_string()).collect();
    parts.extend(p.map(|c| c.as_os_str().to_string_lossy().into_owned()));
    Some(parts.join("/"))
}

/// The repository root of the working directory: the nearest folder with `.git`, else the
/// working directory itself.
pub fn repository_root() -> PathBuf {
    let cwd = absolute(Path::new("."));
    cwd.ancestors().find(|d| d.join(".git").exists()).map_or(cwd.clone(), Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_and_normalise() {
        let base = Path::new("/repo/deploy");
        assert_eq!(relative(Path::new("/repo/deploy/a/../b.yaml"), base).as_deref(), Some("b.yaml"));
        assert_eq!(relative(Path::new("/repo/other/./c.yaml"), base).as_deref(), Some("../other/c.yaml"));
        assert_eq!(relative(Path::new("/repo/deploy"), base).as_deref(), Some(""));
    }
}
