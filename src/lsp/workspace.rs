//! The document store: the workspace scan, open documents, the config file, and which files
//! are fragments of a chart or kustomization.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crossbeam_channel::unbounded;
use lsp_server::Notification;
use lsp_types::{DiagnosticSeverity, NumberOrString};

use super::{DiskFile, Doc, Server};
use crate::config;
use crate::config::Config;
use crate::load::{DEFAULT_MAX_FILE_SIZE, LoadedFile, build_excludes, discover, load_bytes};
use crate::source::FileId;

impl Server {
    /// Reads `.rollcheck.yaml` of the first workspace folder; a broken config is shown to the
    /// user (the defaults apply meanwhile), like a CRD that cannot be read.
    pub(super) fn reload_config_quietly(&mut self) {
        let mut problems = Vec::new();
        let path = self.roots.first().and_then(|r| config::discover(r));
        let config = match path.as_ref().map(|p| (p, config::load(p))) {
            Some((_, Ok(c))) => c,
            Some((path, Err(errors))) => {
                // On the config file itself, where the editor shows them beside the mistake.
                self.publish_config_errors(path, &errors);
                Config::default()
            }
            None => Config::default(),
        };
        if let Some(old) = self.broken_config.take_if(|old| path.as_ref() != Some(old) || config.path.is_some()) {
            self.publish(&old, Vec::new(), None);
        }
        let mut schemas = crate::schema::Registry::default();
        for crd in &config.crds {
            let added =
                std::fs::read_to_string(crd).map_err(|e| e.to_string()).and_then(|text| schemas.add_crds(&text));
            if let Err(e) = added {
                problems.push(format!("{}: {e}", crd.display()));
            }
        }
        if !problems.is_empty() {
            let params = lsp_types::ShowMessageParams {
                typ: lsp_types::MessageType::WARNING,
                message: format!("rollcheck: {}", problems.join("; ")),
            };
            self.send(Notification::new("window/showMessage".into(), params));
        }
        self.options.namespace = config.namespace.clone().unwrap_or_else(|| "default".into());
        self.options.schemas = Arc::new(schemas);
        self.options.config = Arc::new(config);
    }

    pub(super) fn reload_config(&mut self) {
        self.reload_config_quietly();
        let all: Vec<PathBuf> = self.docs.keys().cloned().collect();
        self.lint(&all);
    }

    pub(super) fn publish_config_errors(&mut self, path: &Path, errors: &[config::ConfigError]) {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        let diagnostics = errors
            .iter()
            .map(|e| {
                let line = e.line.saturating_sub(1);
                let content = text.lines().nth(line).unwrap_or_default();
                let start: usize = content.chars().take(e.column.saturating_sub(1)).map(char::len_utf16).sum();
                let end: usize = content.encode_utf16().count().max(start + 1);
                lsp_types::Diagnostic {
                    range: lsp_types::Range::new(
                        lsp_types::Position::new(line as u32, start as u32),
                        lsp_types::Position::new(line as u32, end as u32),
                    ),
                    severity: Some(DiagnosticSeverity::ERROR),
                    code: Some(NumberOrString::String("config".into())),
                    source: Some("rollcheck".into()),
                    message: format!("{} (the default settings apply until it is fixed)", e.message),
                    ..Default::default()
                }
            })
            .collect();
        self.publish(path, diagnostics, None);
        self.broken_config = Some(path.to_path_buf());
    }

    pub(super) fn in_workspace(&self, path: &Path) -> bool {
        self.roots.iter().any(|r| path.starts_with(r))
    }

    /// Reads every manifest under the workspace folders on a background thread.
    pub(super) fn start_workspace_scan(&mut self) {
        if self.roots.is_empty() {
            return;
        }
        let (send, receive) = unbounded();
        self.workspace = Some(receive);
        let roots: Vec<String> = self.roots.iter().map(|r| r.display().to_string()).collect();
        let config = self.options.config.clone();
        std::thread::spawn(move || {
            let anchored: Vec<(String, PathBuf)> =
                config.exclude.iter().map(|g| (g.clone(), config.absolute_base())).collect();
            let Ok(excludes) = build_excludes(&[], &anchored) else { return };
            let (inputs, _) = discover(&roots, &excludes);
            // Files a chart or kustomization only reads are not objects.
            let (found, _, _) = crate::load::find(&roots, &excludes, false);
            let settings = crate::unit::Settings { render: true, ..Default::default() };
            let plain: HashSet<PathBuf> = crate::unit::plan(&found, &settings)
                .plain
                .iter()
                .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
                .collect();
            let files: Vec<DiskFile> = inputs
                .into_iter()
                .filter_map(|i| match i {
                    crate::load::Input::File(p) => {
                        let path = std::path::absolute(&p).unwrap_or(p);
                        let absolute = crate::unit::normalize(&path);
                        if !plain.contains(&absolute) {
                            return Some((absolute, None));
                        }
                        let size = std::fs::metadata(&path).ok()?.len();
                        if size > DEFAULT_MAX_FILE_SIZE {
                            return None;
                        }
                        let bytes = std::fs::read(&path).ok()?;
                        Some((path, Some(bytes)))
                    }
                    crate::load::Input::Stdin => None,
                })
                .collect();
            let _ = send.send(files);
        });
    }

    pub(super) fn workspace_loaded(&mut self, files: Vec<DiskFile>) {
        self.indexed = true;
        let mut changed = Vec::new();
        for (path, bytes) in files {
            let Some(bytes) = bytes else {
                self.fragments.insert(path.clone());
                if self.docs.contains_key(&path) {
                    // Opened before the scan said what it is: its findings were a fragment's.
                    let text = self.docs[&path].loaded.source.text().to_string();
                    let version = self.docs[&path].version;
                    self.set_text(&path, text, version);
                    changed.push(path);
                }
                continue;
            };
            if self.docs.get(&path).is_some_and(|d| d.version.is_some()) {
                continue;
            }
            self.set_text(&path, String::from_utf8_lossy(&bytes).into_owned(), None);
            changed.push(path);
        }
        changed.extend(self.docs.iter().filter(|(_, d)| d.version.is_some()).map(|(p, _)| p.clone()));
        changed.sort();
        changed.dedup();
        self.lint(&changed);
    }

    pub(super) fn set_text(&mut self, path: &Path, text: String, version: Option<i32>) {
        let id = match self.docs.get(path) {
            Some(d) => d.id,
            None => {
                self.next_id += 1;
                FileId(self.next_id)
            }
        };
        // Before the workspace scan has said what each file is, ask for this one.
        if !self.indexed && !self.fragments.contains(path) && is_fragment(path) {
            self.fragments.insert(path.to_path_buf());
        }
        // A template, patch or values file is kept (for its text) but holds no objects.
        let bytes = if self.fragments.contains(path) { Vec::new() } else { text.into_bytes() };
        let mut loaded = load_bytes(id, path.display().to_string(), bytes);
        loaded.scope = crate::load::Scope::of_file(path);
        self.paths.insert(id, path.to_path_buf());
        self.docs.insert(path.to_path_buf(), Doc { id, version, loaded });
    }

    pub(super) fn remove(&mut self, path: &Path) {
        if let Some(doc) = self.docs.remove(path) {
            self.paths.remove(&doc.id);
        }
        self.findings.remove(path);
    }

    pub(super) fn files(&self) -> Vec<LoadedFile> {
        let mut files: Vec<LoadedFile> = self.docs.values().map(|d| d.loaded.clone()).collect();
        files.sort_by_key(|f| f.id);
        files
    }
}

/// The folder a file is an input of when it is rendered rather than read: a chart (its
/// `Chart.yaml`, values, templates and helpers) or a kustomization.
pub(super) fn render_root(path: &Path) -> Option<PathBuf> {
    let name = path.file_name()?.to_str()?;
    let parent = path.parent()?;
    if matches!(name, "kustomization.yaml" | "kustomization.yml" | "Kustomization" | "Chart.yaml" | "Chart.yml") {
        return Some(parent.to_path_buf());
    }
    let in_chart =
        name.ends_with(".tpl") || name.starts_with("values") || path.components().any(|c| c.as_os_str() == "templates");
    if !in_chart {
        return None;
    }
    parent.ancestors().find(|d| d.join("Chart.yaml").is_file()).map(Path::to_path_buf)
}

pub(super) fn is_config(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| config::FILE_NAMES.contains(&n))
}

pub(super) fn is_manifest(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
}

/// Whether a file only feeds a render (a chart's file, a kustomization's patch or input).
pub(super) fn is_fragment(path: &Path) -> bool {
    let Ok(excludes) = build_excludes(&[], &[]) else { return false };
    let (found, _, _) = crate::load::find(&[path.display().to_string()], &excludes, true);
    let settings = crate::unit::Settings { render: true, ..Default::default() };
    let plan = crate::unit::plan(&found, &settings);
    !plan.plain.iter().any(|p| crate::unit::normalize(p) == crate::unit::normalize(path))
}
