//! One lint run: load → index → rules → sorted diagnostics.

use rayon::prelude::*;

use crate::diagnostic::{Diagnostic, Severity};
use crate::index::Index;
use crate::load::{Input, IoError, LoadOptions, LoadedFile, load_all};
use crate::rules;

pub struct Options {
    pub namespace: String,
    pub load: LoadOptions,
}

impl Default for Options {
    fn default() -> Self {
        Options { namespace: "default".into(), load: LoadOptions::default() }
    }
}

#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Summary {
    pub files: usize,
    pub documents: usize,
    pub objects: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
}

pub struct Outcome {
    pub files: Vec<LoadedFile>,
    pub diagnostics: Vec<Diagnostic>,
    pub io_errors: Vec<IoError>,
    pub summary: Summary,
}

impl Outcome {
    pub fn file(&self, id: crate::source::FileId) -> &LoadedFile {
        &self.files[self.files.binary_search_by_key(&id, |f| f.id).expect("diagnostics point at loaded files")]
    }
}

pub fn lint_inputs(inputs: &[Input], options: &Options) -> Outcome {
    let (files, io_errors) = load_all(inputs, &options.load);
    let mut outcome = lint_files(files, &options.namespace);
    outcome.io_errors = io_errors;
    outcome
}

/// Indexes loaded files and runs every rule; diagnostics come back sorted and de-duplicated.
pub fn lint_files(files: Vec<LoadedFile>, namespace: &str) -> Outcome {
    let (index, index_diagnostics) = Index::build(&files, namespace);
    let rule_diagnostics: Vec<Diagnostic> = index
        .objects
        .par_iter()
        .fold(Vec::new, |mut out, obj| {
            rules::check_object(obj, &index, &mut out);
            out
        })
        .reduce(Vec::new, |mut a, mut b| {
            a.append(&mut b);
            a
        });
    let mut diagnostics: Vec<Diagnostic> = files.iter().flat_map(|f| f.diagnostics.iter().cloned()).collect();
    diagnostics.extend(index_diagnostics);
    diagnostics.extend(rule_diagnostics);
    diagnostics.sort_by(|a, b| {
        (a.file, a.span.start, a.rule, &a.message, a.span.end).cmp(&(
            b.file,
            b.span.start,
            b.rule,
            &b.message,
            b.span.end,
        ))
    });
    diagnostics.dedup_by(|a, b| a.file == b.file && a.span == b.span && a.rule == b.rule && a.message == b.message);
    let count = |s| diagnostics.iter().filter(|d| d.severity == s).count();
    let summary = Summary {
        files: files.len(),
        documents: files.iter().map(|f| f.documents.len()).sum(),
        objects: index.objects.len(),
        errors: count(Severity::Error),
        warnings: count(Severity::Warning),
        infos: count(Severity::Info),
    };
    Outcome { files, diagnostics, io_errors: Vec::new(), summary }
}
