//! Linting what changed and publishing findings: the edited file and the files wired to it,
//! and units re-rendered in the background when one of their files is saved.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use lsp_server::Notification;
use lsp_types::{
    CodeDescription, DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    PublishDiagnosticsParams,
};

use super::position::{range, uri_from_path};
use super::{Server, UnitFindings};
use crate::diagnostic::{Diagnostic, Severity};
use crate::index::Index;
use crate::lint::{Options, lint_files_indexed};
use crate::load::{Role, build_excludes};
use crate::rules;
use crate::source::FileId;

impl Server {
    /// Lints `changed` and every file wired to them, and publishes their diagnostics.
    pub(super) fn lint(&mut self, changed: &[PathBuf]) {
        let mut files = self.files();
        let (index, index_diagnostics) = Index::build(&files, &self.options.namespace);
        let mut affected: HashSet<PathBuf> = HashSet::new();
        for path in changed {
            let Some(doc) = self.docs.get(path) else { continue };
            let wired = self.wired_to(&index, doc.id);
            let before = self.neighbours.insert(path.clone(), wired.clone()).unwrap_or_default();
            affected.insert(path.clone());
            affected.extend(wired.into_iter().chain(before).filter(|p| self.docs.contains_key(p)));
        }
        let ids: HashSet<FileId> = affected.iter().filter_map(|p| self.docs.get(p)).map(|d| d.id).collect();
        for f in &mut files {
            f.role = if ids.contains(&f.id) { Role::Lint } else { Role::Context };
        }
        let outcome = lint_files_indexed(files, Some((index, index_diagnostics)), &self.options);
        let mut by_file: HashMap<FileId, Vec<Diagnostic>> = HashMap::new();
        let ready = |d: &&Diagnostic| self.indexed || !reads_other_objects(d.rule);
        for d in outcome.diagnostics.iter().filter(|d| !is_noise(d, &outcome)).filter(ready) {
            by_file.entry(d.file).or_default().push(d.clone());
        }
        let mut affected: Vec<PathBuf> = affected.into_iter().collect();
        affected.sort();
        for path in affected {
            let Some(doc) = self.docs.get(&path) else { continue };
            let found = by_file.remove(&doc.id).unwrap_or_default();
            let lsp: Vec<lsp_types::Diagnostic> = found.iter().map(|d| self.to_lsp(d, &outcome)).collect();
            let version = doc.version;
            self.findings.insert(path.clone(), found);
            self.publish(&path, lsp, version);
        }
    }

    /// Renders (in the background, after a short pause that absorbs repeated saves) the units a
    /// saved template, values file, patch or kustomization belongs to.
    pub(super) fn render_units_of(&mut self, path: &Path) {
        use std::sync::atomic::Ordering;
        let generation = self.render_generation.entry(path.to_path_buf()).or_default().clone();
        let mine = generation.fetch_add(1, Ordering::SeqCst) + 1;
        let send = self.renders.0.clone();
        let config = self.options.config.clone();
        let schemas = self.options.schemas.clone();
        let namespace = self.options.namespace.clone();
        let path = path.to_path_buf();
        std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            if generation.load(Ordering::SeqCst) != mine {
                return;
            }
            let anchored: Vec<(String, PathBuf)> =
                config.exclude.iter().map(|g| (g.clone(), config.absolute_base())).collect();
            let Ok(excludes) = build_excludes(&[], &anchored) else { return };
            let (found, _, _) = crate::load::find(&[path.display().to_string()], &excludes, true);
            let settings = crate::unit::Settings {
                render: true,
                tools: config.tools.clone(),
                charts: config.charts.clone(),
                limits: crate::unit::Limits { network: config.render_network, ..Default::default() },
                ..Default::default()
            };
            let plan = crate::unit::plan(&found, &settings);
            if plan.units.is_empty() {
                return;
            }
            let options = Options { namespace, config, schemas, ..Options::default() };
            let outcome = crate::lint::lint_plan(&plan, &settings, &[], &options);
            let mut by_path: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
            // Related places in files of the repository (not in a render's output).
            let uri_of = |id: FileId| {
                let path = Path::new(&outcome.file(id).source.name);
                path.is_file().then(|| uri_from_path(path)).flatten()
            };
            for d in &outcome.diagnostics {
                let source = &outcome.file(d.file).source;
                let file = std::path::absolute(&source.name).unwrap_or_else(|_| PathBuf::from(&source.name));
                if !file.is_file() {
                    continue;
                }
                by_path.entry(file).or_default().push(lsp_diagnostic(d, &outcome, &uri_of));
            }
            let _ = send.send((path, mine, by_path.into_iter().collect()));
        });
    }

    /// Publishes what a unit render found, unless a newer render of the same fragment started.
    pub(super) fn unit_rendered(&mut self, (path, generation, found): UnitFindings) {
        let current = self.render_generation.get(&path).map(|g| g.load(std::sync::atomic::Ordering::SeqCst));
        if current != Some(generation) {
            return;
        }
        let files: Vec<PathBuf> = found.iter().map(|(f, _)| f.clone()).collect();
        for stale in self.unit_published.remove(&path).unwrap_or_default() {
            if !files.contains(&stale) {
                self.publish(&stale, Vec::new(), None);
            }
        }
        for (file, diagnostics) in found {
            let version = self.docs.get(&file).and_then(|d| d.version);
            self.publish(&file, diagnostics, version);
        }
        self.unit_published.insert(path, files);
    }

    /// Files of the objects that the objects of `file` reference or are referenced by.
    pub(super) fn wired_to(&self, index: &Index, file: FileId) -> HashSet<PathBuf> {
        let mut out = HashSet::new();
        for obj in index.objects.iter().filter(|o| o.file == file) {
            for (other, _) in index.referrers_of(obj) {
                out.insert(other.file);
            }
            for r in index.references_of(obj) {
                if let Some(target) = index.resolve(obj, r) {
                    out.insert(target.file);
                }
            }
        }
        out.remove(&file);
        out.into_iter().filter_map(|id| self.paths.get(&id).cloned()).collect()
    }

    pub(super) fn publish(&self, path: &Path, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) {
        let Some(uri) = uri_from_path(path) else { return };
        let params = PublishDiagnosticsParams { uri, diagnostics, version };
        self.send(Notification::new("textDocument/publishDiagnostics".into(), params));
    }

    pub(super) fn to_lsp(&self, d: &Diagnostic, outcome: &crate::lint::Outcome) -> lsp_types::Diagnostic {
        lsp_diagnostic(d, outcome, &|id| uri_from_path(self.paths.get(&id)?))
    }

    pub(super) fn to_lsp_plain(&self, d: &Diagnostic, source: &crate::source::SourceFile) -> lsp_types::Diagnostic {
        lsp_types::Diagnostic {
            range: range(source, d.span),
            code: Some(NumberOrString::String(d.rule.to_string())),
            source: Some("rollcheck".into()),
            message: d.message.clone(),
            ..Default::default()
        }
    }
}

/// A finding as the editor shows it, its help line under the message; `uri_of` names the files
/// its related places are in.
fn lsp_diagnostic(
    d: &Diagnostic,
    outcome: &crate::lint::Outcome,
    uri_of: &dyn Fn(FileId) -> Option<lsp_types::Uri>,
) -> lsp_types::Diagnostic {
    let source = &outcome.file(d.file).source;
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .related
        .iter()
        .filter_map(|r| {
            let range = range(&outcome.file(r.file).source, r.span);
            Some(DiagnosticRelatedInformation {
                location: Location::new(uri_of(r.file)?, range),
                message: r.message.clone(),
            })
        })
        .collect();
    lsp_types::Diagnostic {
        range: range(source, d.span),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Info => DiagnosticSeverity::INFORMATION,
        }),
        code: Some(NumberOrString::String(d.rule.to_string())),
        code_description: rules::doc_url(d.rule).parse().ok().map(|href| CodeDescription { href }),
        source: Some("rollcheck".into()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

/// Findings of rules that read other objects than the one they are about.
pub(super) fn reads_other_objects(rule: &str) -> bool {
    rules::find(rule).is_some_and(|r| matches!(r.check, Some(rules::Check::Index(_) | rules::Check::Both(..))))
}

/// Editors open every YAML file: Helm templates and files that are not Kubernetes manifests
/// get no findings about being what they are.
pub(super) fn is_noise(d: &Diagnostic, outcome: &crate::lint::Outcome) -> bool {
    match d.rule {
        "unrendered-template" => true,
        "yaml-syntax" => {
            let text = outcome.file(d.file).source.text();
            !(text.contains("apiVersion") || text.contains("kind:"))
        }
        _ => false,
    }
}
