//! Baselines: `--write-baseline FILE` records today's findings, `--baseline FILE` reports only
//! new ones. Findings match by rule, file path and object (then message), never by line, so
//! edits elsewhere in a file do not bring old findings back. Paths are stored relative to the
//! baseline file's folder, so a run from another directory, or with absolute paths, matches.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
use crate::load::LoadedFile;

const VERSION: u32 = 1;

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    findings: Vec<Finding>,
}

#[derive(Serialize, Deserialize, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Finding {
    rule: String,
    path: String,
    /// `Kind/namespace/name`, `Kind/name` for cluster-scoped objects, or empty.
    object: String,
    message: String,
}

#[derive(Default)]
pub struct Baseline {
    /// (rule, path, object) → the messages recorded for it.
    recorded: HashMap<(String, String, String), Vec<String>>,
    /// The baseline file's folder: stored paths are relative to it.
    dir: PathBuf,
}

fn finding(d: &Diagnostic, files: &[LoadedFile], dir: &Path) -> Finding {
    let name = crate::load::file_of(files, d.file).map_or("", |f| f.source.name.as_str());
    let path = match name {
        "" | "-" => name.to_string(),
        _ => crate::paths::relative(Path::new(name), dir).unwrap_or_else(|| name.to_string()),
    };
    let object = d.object.as_ref().map_or(String::new(), |o| match &o.namespace {
        Some(ns) => format!("{}/{}/{}", o.kind, ns, o.name),
        None => format!("{}/{}", o.kind, o.name),
    });
    Finding { rule: d.rule.to_string(), path: normalize(&path), object, message: d.message.clone() }
}

fn normalize(path: &str) -> String {
    path.strip_prefix("./").unwrap_or(path).replace('\\', "/")
}

/// The baseline file for these findings, to be written at `path`.
pub fn write(diagnostics: &[Diagnostic], files: &[LoadedFile], path: &Path) -> String {
    let dir = folder_of(path);
    let mut findings: Vec<Finding> = diagnostics.iter().map(|d| finding(d, files, &dir)).collect();
    findings.sort();
    let mut text = serde_json::to_string_pretty(&File { version: VERSION, findings }).expect("plain data");
    text.push('\n');
    text
}

fn folder_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

impl Baseline {
    /// Reads the baseline file `text` that was read from `path`.
    pub fn parse(text: &str, path: &Path) -> Result<Baseline, String> {
        let file: File = serde_json::from_str(text).map_err(|e| format!("not a rollcheck baseline: {e}"))?;
        if file.version != VERSION {
            return Err(format!("baseline version {} is not supported (expected {VERSION})", file.version));
        }
        let mut recorded: HashMap<_, Vec<String>> = HashMap::new();
        for f in file.findings {
            recorded.entry((f.rule, normalize(&f.path), f.object)).or_default().push(f.message);
        }
        Ok(Baseline { recorded, dir: folder_of(path) })
    }

    /// Removes the findings the baseline records; returns how many. A recorded finding matches
    /// one current finding: first one with the same message, then any of the same key.
    pub fn filter(&self, diagnostics: &mut Vec<Diagnostic>, files: &[LoadedFile]) -> usize {
        let mut left = self.recorded.clone();
        let keyed: Vec<Finding> = diagnostics.iter().map(|d| finding(d, files, &self.dir)).collect();
        let mut known = vec![false; diagnostics.len()];
        // Exact messages first, so a changed message does not steal an exact match.
        for (i, f) in keyed.iter().enumerate() {
            if let Some(messages) = left.get_mut(&(f.rule.clone(), f.path.clone(), f.object.clone()))
                && let Some(at) = messages.iter().position(|m| *m == f.message)
            {
                messages.swap_remove(at);
                known[i] = true;
            }
        }
        for (i, f) in keyed.iter().enumerate() {
            if known[i] {
                continue;
            }
            if let Some(messages) = left.get_mut(&(f.rule.clone(), f.path.clone(), f.object.clone()))
                && messages.pop().is_some()
            {
                known[i] = true;
            }
        }
        let mut i = 0;
        diagnostics.retain(|_| {
            i += 1;
            !known[i - 1]
        });
        known.iter().filter(|k| **k).count()
    }
}
