//! Applying suppressions: hiding the findings they cover, and reporting those that hide nothing.

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::index::Index;
use crate::load::LoadedFile;
use crate::load::suppression::{ANNOTATION, Scope, Suppression, from_annotation};
use crate::rules;
use crate::source::FileId;

/// Every suppression of `files` (those `lint` accepts): their comments, read as they were
/// loaded, and their objects' annotations.
pub fn collect(files: &[LoadedFile], index: &Index, lint: impl Fn(FileId) -> bool) -> Vec<Suppression> {
    let mut out: Vec<Suppression> =
        files.iter().filter(|f| lint(f.id)).flat_map(|f| f.suppressions.iter().cloned()).collect();
    for obj in index.objects.iter().filter(|o| lint(o.file)) {
        let Some(value) = obj.get(&["metadata", "annotations", ANNOTATION]) else { continue };
        out.extend(from_annotation(obj.file, obj.root().span(), value));
    }
    out
}

/// Removes suppressed findings; returns how many were removed.
pub fn apply(diagnostics: &mut Vec<Diagnostic>, suppressions: &mut [Suppression]) -> usize {
    if suppressions.is_empty() {
        return 0;
    }
    let mut by_file: HashMap<FileId, Vec<usize>> = HashMap::new();
    for (i, s) in suppressions.iter().enumerate() {
        by_file.entry(s.file).or_default().push(i);
    }
    let before = diagnostics.len();
    diagnostics.retain(|d| {
        let Some(candidates) = by_file.get(&d.file) else { return true };
        let mut hidden = false;
        for &i in candidates {
            let s = &mut suppressions[i];
            let Scope(r) = s.scope;
            let in_scope = r.start <= d.span.start && d.span.start < r.end.max(r.start + 1);
            if !in_scope {
                continue;
            }
            for e in s.entries.iter_mut().filter(|e| e.id == d.rule || e.id == "all") {
                e.used = true;
                hidden = true;
            }
        }
        !hidden
    });
    before - diagnostics.len()
}

/// Findings for suppressions that hid nothing, or name no rule. `enabled` tells whether a rule
/// is on for a file: a suppression of a rule that is off is not reported.
pub fn unused(suppressions: &[Suppression], enabled: impl Fn(FileId, &str) -> bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for s in suppressions {
        for e in s.entries.iter().filter(|e| !e.used) {
            let rule = rules::find(&e.id);
            let message = match rule {
                None if e.id == "all" => "this suppression hides no finding".to_string(),
                None => {
                    let hint = did_you_mean(&e.id, rules::ALL.iter().map(|r| r.id))
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    format!("unknown rule `{}` in a suppression{hint}", e.id)
                }
                Some(r) if !enabled(s.file, r.id) => continue,
                Some(r) => format!("`{}` is suppressed here, but reports nothing here", r.id),
            };
            let mut d =
                Diagnostic::new("unused-suppression", rules::UNUSED_SUPPRESSION.severity, s.file, e.span, message);
            d.help("remove it, so that suppressions keep meaning something");
            out.push(d);
        }
    }
    out
}
