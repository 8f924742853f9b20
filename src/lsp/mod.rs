//! `rollcheck lsp`: a language server over stdio on the same engine. Workspace manifests are
//! indexed in the background; every edit re-lints the edited file and the files wired to it
//! (objects it references or that reference it), and their diagnostics are republished.

mod position;
mod transport;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, select, unbounded};
use lsp_server::{Message, Notification, Request, Response};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeActionProviderCapability, CodeDescription,
    DiagnosticRelatedInformation, DiagnosticSeverity, DidChangeTextDocumentParams, DidChangeWatchedFilesParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams, GotoDefinitionParams,
    GotoDefinitionResponse, Hover, HoverContents, HoverParams, HoverProviderCapability, InitializeParams,
    InitializeResult, Location, MarkupContent, MarkupKind, NumberOrString, OneOf, PublishDiagnosticsParams,
    SaveOptions, ServerCapabilities, ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind,
    TextDocumentSyncOptions, TextDocumentSyncSaveOptions, TextEdit, Uri, WorkspaceEdit,
};
use serde_json::Value;

use crate::config::{self, Config};
use crate::diagnostic::{Diagnostic, Severity};
use crate::index::{Index, Object};
use crate::lint::{Options, lint_files_indexed};
use crate::load::{DEFAULT_MAX_FILE_SIZE, LoadedFile, Role, build_excludes, discover, load_bytes};
use crate::refs::Reference;
use crate::rules;
use crate::source::FileId;
use position::{offset, path_from_uri, range, uri_from_path};

pub fn run() -> ExitCode {
    let transport = transport::Transport::stdio();
    let clean = {
        let mut server = Server::new(transport.sender.clone());
        server.serve(&transport.receiver)
    };
    transport.finish();
    if clean { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

/// A workspace file read by the background scan: its absolute path and bytes; no bytes for a
/// file that only feeds a render (a template, values file, patch, kustomization).
type DiskFile = (PathBuf, Option<Vec<u8>>);

struct Doc {
    id: FileId,
    /// The editor's version while the file is open; `None` for a file read from disk.
    version: Option<i32>,
    loaded: LoadedFile,
}

struct Server {
    out: Sender<Message>,
    roots: Vec<PathBuf>,
    options: Options,
    docs: BTreeMap<PathBuf, Doc>,
    paths: HashMap<FileId, PathBuf>,
    next_id: u32,
    /// The last findings published per file, for hover and code actions.
    findings: HashMap<PathBuf, Vec<Diagnostic>>,
    /// Files wired to each file at its last lint, so a broken link still re-lints both ends.
    neighbours: HashMap<PathBuf, HashSet<PathBuf>>,
    initialized: bool,
    shutdown: bool,
    workspace: Option<Receiver<Vec<DiskFile>>>,
    /// Whether the workspace's files are all loaded: until then a reference to a file not yet
    /// read would look unresolved, so findings that read other objects wait.
    indexed: bool,
    /// The client lets the server register file watchers.
    can_watch: bool,
    /// The config file whose errors were last published, to clear them once it is fixed.
    broken_config: Option<PathBuf>,
    next_request: i32,
    /// Files of charts and kustomizations: fragments, never linted as objects.
    fragments: HashSet<PathBuf>,
    /// Renders of units started when one of their files was saved, and what they found.
    renders: (Sender<UnitFindings>, Receiver<UnitFindings>),
    /// The latest render asked for each saved fragment (older results are dropped).
    render_generation: HashMap<PathBuf, Arc<std::sync::atomic::AtomicU64>>,
    /// The files each fragment's last render published findings on.
    unit_published: HashMap<PathBuf, Vec<PathBuf>>,
}

/// What rendering the units of a saved fragment found: the fragment, the render's generation,
/// and the findings per repository file.
type UnitFindings = (PathBuf, u64, Vec<(PathBuf, Vec<lsp_types::Diagnostic>)>);

impl Server {
    fn new(out: Sender<Message>) -> Server {
        Server {
            out,
            roots: Vec::new(),
            options: Options::default(),
            docs: BTreeMap::new(),
            paths: HashMap::new(),
            next_id: 0,
            findings: HashMap::new(),
            neighbours: HashMap::new(),
            initialized: false,
            shutdown: false,
            workspace: None,
            indexed: false,
            can_watch: false,
            broken_config: None,
            next_request: 0,
            fragments: HashSet::new(),
            renders: unbounded(),
            render_generation: HashMap::new(),
            unit_published: HashMap::new(),
        }
    }

    /// The message loop; `true` when the client shut down before `exit`.
    fn serve(&mut self, incoming: &Receiver<Message>) -> bool {
        let never = crossbeam_channel::never();
        loop {
            let workspace = self.workspace.clone().unwrap_or_else(|| never.clone());
            let renders = self.renders.1.clone();
            select! {
                recv(renders) -> found => {
                    if let Ok(found) = found {
                        self.unit_rendered(found);
                    }
                }
                recv(incoming) -> message => {
                    let Ok(message) = message else { return self.shutdown };
                    match message {
                        Message::Request(req) => self.request(req),
                        Message::Notification(n) if n.method == "exit" => return self.shutdown,
                        Message::Notification(n) => self.notification(n),
                        Message::Response(_) => {}
                    }
                }
                recv(workspace) -> files => {
                    self.workspace = None;
                    if let Ok(files) = files {
                        self.workspace_loaded(files);
                    }
                }
            }
        }
    }

    fn send(&self, message: impl Into<Message>) {
        let _ = self.out.send(message.into());
    }

    fn request(&mut self, req: Request) {
        let id = req.id.clone();
        if !self.initialized && req.method != "initialize" {
            return self.send(Response::new_err(id, -32002, "the server is not initialized".into()));
        }
        if self.shutdown {
            return self.send(Response::new_err(id, -32600, "the server is shutting down".into()));
        }
        let method = req.method.clone();
        let result = catch_unwind(AssertUnwindSafe(|| self.dispatch(req)));
        let response = match result {
            Ok(Ok(value)) => Response::new_ok(id, value),
            Ok(Err((code, message))) => Response::new_err(id, code, message),
            Err(_) => Response::new_err(id, -32603, format!("internal error while handling `{method}`")),
        };
        self.send(response);
    }

    fn dispatch(&mut self, req: Request) -> Result<Value, (i32, String)> {
        fn json(v: impl serde::Serialize) -> Result<Value, (i32, String)> {
            serde_json::to_value(v).map_err(|e| (-32603, e.to_string()))
        }
        fn params<P: serde::de::DeserializeOwned>(req: Request) -> Result<P, (i32, String)> {
            serde_json::from_value(req.params).map_err(|e| (-32602, format!("invalid params: {e}")))
        }
        match req.method.as_str() {
            "initialize" => {
                let p: InitializeParams = params(req)?;
                self.initialize(p);
                json(initialize_result())
            }
            "shutdown" => {
                self.shutdown = true;
                Ok(Value::Null)
            }
            "textDocument/hover" => {
                let p: HoverParams = params(req)?;
                json(self.hover(p))
            }
            "textDocument/definition" => {
                let p: GotoDefinitionParams = params(req)?;
                json(self.definition(p))
            }
            "textDocument/codeAction" => {
                let p: CodeActionParams = params(req)?;
                json(self.code_actions(p))
            }
            other => Err((-32601, format!("method `{other}` is not supported"))),
        }
    }

    fn notification(&mut self, n: Notification) {
        if !self.initialized {
            return;
        }
        let _ = catch_unwind(AssertUnwindSafe(|| self.notify(n)));
    }

    fn notify(&mut self, n: Notification) {
        fn params<P: serde::de::DeserializeOwned>(n: Notification) -> Option<P> {
            serde_json::from_value(n.params).ok()
        }
        match n.method.as_str() {
            "initialized" => {
                self.register_watchers();
                self.start_workspace_scan();
            }
            "textDocument/didOpen" => {
                let Some(p) = params::<DidOpenTextDocumentParams>(n) else { return };
                let Some(path) = path_from_uri(&p.text_document.uri) else { return };
                self.set_text(&path, p.text_document.text, Some(p.text_document.version));
                self.lint(&[path]);
            }
            "textDocument/didChange" => {
                let Some(p) = params::<DidChangeTextDocumentParams>(n) else { return };
                let Some(path) = path_from_uri(&p.text_document.uri) else { return };
                let Some(doc) = self.docs.get(&path) else { return };
                let mut text = doc.loaded.source.text().to_string();
                for change in p.content_changes {
                    match change.range {
                        Some(r) => {
                            let start = offset(&text, r.start);
                            let end = offset(&text, r.end).max(start);
                            text.replace_range(start..end, &change.text);
                        }
                        None => text = change.text,
                    }
                }
                self.set_text(&path, text, Some(p.text_document.version));
                self.lint(&[path]);
            }
            "textDocument/didSave" => {
                let Some(p) = params::<DidSaveTextDocumentParams>(n) else { return };
                let Some(path) = path_from_uri(&p.text_document.uri) else { return };
                if is_config(&path) {
                    self.reload_config();
                } else {
                    if let Some(text) = p.text {
                        let version = self.docs.get(&path).and_then(|d| d.version);
                        self.set_text(&path, text, version);
                    }
                    if self.fragments.contains(&path) {
                        self.render_units_of(&path);
                    }
                    self.lint(&[path]);
                }
            }
            "textDocument/didClose" => {
                let Some(p) = params::<DidCloseTextDocumentParams>(n) else { return };
                let Some(path) = path_from_uri(&p.text_document.uri) else { return };
                // The file on disk (if any) takes the editor's place in the workspace.
                match std::fs::read(&path) {
                    Ok(bytes) if self.in_workspace(&path) => {
                        self.set_text(&path, String::from_utf8_lossy(&bytes).into_owned(), None);
                        self.lint(&[path]);
                    }
                    _ => {
                        self.remove(&path);
                        self.publish(&path, Vec::new(), None);
                    }
                }
            }
            "workspace/didChangeWatchedFiles" => {
                let Some(p) = params::<DidChangeWatchedFilesParams>(n) else { return };
                let mut changed = Vec::new();
                for event in p.changes {
                    let Some(path) = path_from_uri(&event.uri) else { continue };
                    if is_config(&path) {
                        self.reload_config();
                        continue;
                    }
                    // A chart's templates and values, a kustomization: re-check what they make.
                    if let Some(root) = render_root(&path) {
                        changed.extend(self.docs.keys().filter(|p| p.starts_with(&root) && **p != path).cloned());
                    }
                    if self.docs.get(&path).is_some_and(|d| d.version.is_some()) || !is_manifest(&path) {
                        continue;
                    }
                    match std::fs::read(&path) {
                        Ok(bytes) => {
                            self.set_text(&path, String::from_utf8_lossy(&bytes).into_owned(), None);
                            changed.push(path);
                        }
                        Err(_) => {
                            let wired = self.neighbours.remove(&path).unwrap_or_default();
                            self.remove(&path);
                            self.publish(&path, Vec::new(), None);
                            changed.extend(wired.into_iter().filter(|p| self.docs.contains_key(p)));
                        }
                    }
                }
                changed.sort();
                changed.dedup();
                if !changed.is_empty() {
                    self.lint(&changed);
                }
            }
            _ => {}
        }
    }

    fn initialize(&mut self, p: InitializeParams) {
        #[allow(deprecated)]
        let roots: Vec<PathBuf> = match (&p.workspace_folders, &p.root_uri) {
            (Some(folders), _) if !folders.is_empty() => folders.iter().filter_map(|f| path_from_uri(&f.uri)).collect(),
            (_, Some(uri)) => path_from_uri(uri).into_iter().collect(),
            _ => Vec::new(),
        };
        self.roots = roots;
        self.initialized = true;
        self.indexed = self.roots.is_empty();
        self.can_watch = p
            .capabilities
            .workspace
            .as_ref()
            .and_then(|w| w.did_change_watched_files)
            .and_then(|d| d.dynamic_registration)
            .unwrap_or(false);
        self.reload_config_quietly();
    }

    /// Asks the client to report changes on disk (a `git pull`, a branch switch, a generator)
    /// to manifests, the config, charts and kustomizations.
    fn register_watchers(&mut self) {
        if !self.can_watch {
            return;
        }
        let watchers: Vec<Value> = WATCHED.iter().map(|g| serde_json::json!({"globPattern": g})).collect();
        let params = serde_json::json!({"registrations": [{
            "id": "rollcheck-files",
            "method": "workspace/didChangeWatchedFiles",
            "registerOptions": {"watchers": watchers},
        }]});
        self.next_request += 1;
        let id = lsp_server::RequestId::from(format!("rollcheck-{}", self.next_request));
        self.send(Request::new(id, "client/registerCapability".into(), params));
    }

    /// Reads `.rollcheck.yaml` of the first workspace folder; a broken config is shown to the
    /// user (the defaults apply meanwhile), like a CRD that cannot be read.
    fn reload_config_quietly(&mut self) {
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

    fn reload_config(&mut self) {
        self.reload_config_quietly();
        let all: Vec<PathBuf> = self.docs.keys().cloned().collect();
        self.lint(&all);
    }

    fn publish_config_errors(&mut self, path: &Path, errors: &[config::ConfigError]) {
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

    fn in_workspace(&self, path: &Path) -> bool {
        self.roots.iter().any(|r| path.starts_with(r))
    }

    /// Reads every manifest under the workspace folders on a background thread.
    fn start_workspace_scan(&mut self) {
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

    fn workspace_loaded(&mut self, files: Vec<DiskFile>) {
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

    fn set_text(&mut self, path: &Path, text: String, version: Option<i32>) {
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

    fn remove(&mut self, path: &Path) {
        if let Some(doc) = self.docs.remove(path) {
            self.paths.remove(&doc.id);
        }
        self.findings.remove(path);
    }

    fn files(&self) -> Vec<LoadedFile> {
        let mut files: Vec<LoadedFile> = self.docs.values().map(|d| d.loaded.clone()).collect();
        files.sort_by_key(|f| f.id);
        files
    }

    /// Lints `changed` and every file wired to them, and publishes their diagnostics.
    fn lint(&mut self, changed: &[PathBuf]) {
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
    fn render_units_of(&mut self, path: &Path) {
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
            for d in &outcome.diagnostics {
                let source = &outcome.file(d.file).source;
                let file = std::path::absolute(&source.name).unwrap_or_else(|_| PathBuf::from(&source.name));
                if !file.is_file() {
                    continue;
                }
                let mut message = d.message.clone();
                if let Some(help) = &d.help {
                    message.push_str(&format!("\nhelp: {help}"));
                }
                by_path.entry(file).or_default().push(lsp_types::Diagnostic {
                    range: range(source, d.span),
                    severity: Some(match d.severity {
                        Severity::Error => DiagnosticSeverity::ERROR,
                        Severity::Warning => DiagnosticSeverity::WARNING,
                        Severity::Info => DiagnosticSeverity::INFORMATION,
                    }),
                    code: Some(NumberOrString::String(d.rule.to_string())),
                    source: Some("rollcheck".into()),
                    message,
                    ..Default::default()
                });
            }
            let _ = send.send((path, mine, by_path.into_iter().collect()));
        });
    }

    /// Publishes what a unit render found, unless a newer render of the same fragment started.
    fn unit_rendered(&mut self, (path, generation, found): UnitFindings) {
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
    fn wired_to(&self, index: &Index, file: FileId) -> HashSet<PathBuf> {
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

    fn publish(&self, path: &Path, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) {
        let Some(uri) = uri_from_path(path) else { return };
        let params = PublishDiagnosticsParams { uri, diagnostics, version };
        self.send(Notification::new("textDocument/publishDiagnostics".into(), params));
    }

    fn to_lsp(&self, d: &Diagnostic, outcome: &crate::lint::Outcome) -> lsp_types::Diagnostic {
        let source = &outcome.file(d.file).source;
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            message.push_str(&format!("\nhelp: {help}"));
        }
        let related: Vec<DiagnosticRelatedInformation> = d
            .related
            .iter()
            .filter_map(|r| {
                let uri = uri_from_path(self.paths.get(&r.file)?)?;
                let range = range(&outcome.file(r.file).source, r.span);
                Some(DiagnosticRelatedInformation { location: Location::new(uri, range), message: r.message.clone() })
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

    /// The object of an open file and the reference under a position, if any.
    fn reference_at<'i>(
        &self,
        index: &'i Index,
        uri: &Uri,
        pos: lsp_types::Position,
    ) -> Option<(&'i Object, &'i Reference)> {
        let path = path_from_uri(uri)?;
        let doc = self.docs.get(&path)?;
        let at = offset(doc.loaded.source.text(), pos) as u32;
        index.objects.iter().filter(|o| o.file == doc.id).find_map(|obj| {
            let span = obj.root().span();
            if at < span.start || at > span.end {
                return None;
            }
            index
                .references_of(obj)
                .iter()
                .find(|r| {
                    let s = obj.doc.node(r.at).span();
                    s.start <= at && at <= s.end
                })
                .map(|r| (obj, r))
        })
    }

    fn hover(&self, p: HoverParams) -> Option<Hover> {
        let tdp = p.text_document_position_params;
        let files = self.files();
        let (index, _) = Index::build(&files, &self.options.namespace);
        let markdown = match self.reference_at(&index, &tdp.text_document.uri, tdp.position) {
            Some((obj, r)) => Some(describe_reference(&index, obj, r, &self.paths)),
            None => self.finding_at(&tdp.text_document.uri, tdp.position).map(|d| describe_rule(d.rule)),
        }?;
        Some(Hover {
            contents: HoverContents::Markup(MarkupContent { kind: MarkupKind::Markdown, value: markdown }),
            range: None,
        })
    }

    fn finding_at(&self, uri: &Uri, pos: lsp_types::Position) -> Option<&Diagnostic> {
        let path = path_from_uri(uri)?;
        let doc = self.docs.get(&path)?;
        let at = offset(doc.loaded.source.text(), pos) as u32;
        self.findings.get(&path)?.iter().find(|d| d.span.start <= at && at <= d.span.end)
    }

    fn definition(&self, p: GotoDefinitionParams) -> Option<GotoDefinitionResponse> {
        let tdp = p.text_document_position_params;
        let files = self.files();
        let (index, _) = Index::build(&files, &self.options.namespace);
        let (obj, r) = self.reference_at(&index, &tdp.text_document.uri, tdp.position)?;
        let target = index.resolve(obj, r)?;
        let path = self.paths.get(&target.file)?;
        let source = &self.docs.get(path)?.loaded.source;
        Some(GotoDefinitionResponse::Scalar(Location::new(
            uri_from_path(path)?,
            range(source, target.name_node().span()),
        )))
    }

    fn code_actions(&self, p: CodeActionParams) -> Vec<CodeActionOrCommand> {
        let Some(path) = path_from_uri(&p.text_document.uri) else { return Vec::new() };
        let (Some(doc), Some(found)) = (self.docs.get(&path), self.findings.get(&path)) else { return Vec::new() };
        let source = &doc.loaded.source;
        let start = offset(source.text(), p.range.start) as u32;
        let end = offset(source.text(), p.range.end) as u32;
        let mut actions = Vec::new();
        let mut suppressed = HashSet::new();
        for d in found.iter().filter(|d| d.span.start <= end && start <= d.span.end.max(d.span.start)) {
            let lsp = self.to_lsp_plain(d, source);
            if let Some(replacement) = &d.suggestion {
                actions.push(action(
                    format!("Replace with `{replacement}`"),
                    &p.text_document.uri,
                    TextEdit::new(range(source, d.span), replacement.clone()),
                    lsp.clone(),
                    true,
                ));
            }
            let line = source.line_col(d.span.start).line - 1;
            if suppressed.insert((line, d.rule)) {
                let line_start = source.line_start(line);
                let indent: String = source.text()[line_start..].chars().take_while(|c| *c == ' ').collect();
                let at = position::position(source, line_start as u32);
                let comment = format!("{indent}# rollcheck-ignore: {} -- reason\n", d.rule);
                actions.push(action(
                    format!("Suppress `{}` on this line", d.rule),
                    &p.text_document.uri,
                    TextEdit::new(lsp_types::Range::new(at, at), comment),
                    lsp,
                    false,
                ));
            }
        }
        actions
    }

    fn to_lsp_plain(&self, d: &Diagnostic, source: &crate::source::SourceFile) -> lsp_types::Diagnostic {
        lsp_types::Diagnostic {
            range: range(source, d.span),
            code: Some(NumberOrString::String(d.rule.to_string())),
            source: Some("rollcheck".into()),
            message: d.message.clone(),
            ..Default::default()
        }
    }
}

fn action(
    title: String,
    uri: &Uri,
    edit: TextEdit,
    diagnostic: lsp_types::Diagnostic,
    preferred: bool,
) -> CodeActionOrCommand {
    CodeActionOrCommand::CodeAction(CodeAction {
        title,
        kind: Some(CodeActionKind::QUICKFIX),
        diagnostics: Some(vec![diagnostic]),
        edit: Some(WorkspaceEdit::new(HashMap::from([(uri.clone(), vec![edit])]))),
        is_preferred: Some(preferred),
        ..Default::default()
    })
}

fn initialize_result() -> InitializeResult {
    InitializeResult {
        capabilities: ServerCapabilities {
            text_document_sync: Some(TextDocumentSyncCapability::Options(TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions { include_text: Some(false) })),
                ..Default::default()
            })),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            definition_provider: Some(OneOf::Left(true)),
            code_action_provider: Some(CodeActionProviderCapability::Simple(true)),
            ..Default::default()
        },
        server_info: Some(ServerInfo { name: "rollcheck".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
    }
}

/// What the server asks the client to watch on disk.
const WATCHED: &[&str] = &["**/*.{yaml,yml,json}", "**/.rollcheck.{yaml,yml}", "**/*.tpl", "**/Kustomization"];

/// Findings of rules that read other objects than the one they are about.
fn reads_other_objects(rule: &str) -> bool {
    rules::find(rule).is_some_and(|r| matches!(r.check, Some(rules::Check::Index(_) | rules::Check::Both(..))))
}

/// The folder a file is an input of when it is rendered rather than read: a chart (its
/// `Chart.yaml`, values, templates and helpers) or a kustomization.
fn render_root(path: &Path) -> Option<PathBuf> {
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

fn is_config(path: &Path) -> bool {
    path.file_name().and_then(|n| n.to_str()).is_some_and(|n| config::FILE_NAMES.contains(&n))
}

fn is_manifest(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
}

/// Editors open every YAML file: Helm templates and files that are not Kubernetes manifests
/// get no findings about being what they are.
fn is_noise(d: &Diagnostic, outcome: &crate::lint::Outcome) -> bool {
    match d.rule {
        "unrendered-template" => true,
        "yaml-syntax" => {
            let text = outcome.file(d.file).source.text();
            !(text.contains("apiVersion") || text.contains("kind:"))
        }
        _ => false,
    }
}

fn describe_reference(index: &Index, obj: &Object, r: &Reference, paths: &HashMap<FileId, PathBuf>) -> String {
    let namespace = index.target_namespace(obj, r);
    let ns = namespace.map(|n| format!(" in namespace `{n}`")).unwrap_or_default();
    let Some(target) = index.resolve(obj, r) else {
        return format!(
            "**{} `{}`**{ns}: not defined in the workspace\n\n(`{}` of {})",
            r.kind,
            r.name,
            r.role,
            obj.label()
        );
    };
    let mut text = format!("**{} `{}`**{ns}, the `{}` of {}", target.kind, target.name, r.role, obj.label());
    if let Some(path) = paths.get(&target.file) {
        let line = target.name_node().span().start;
        let line = index.objects.iter().find(|o| o.id == target.id).map(|o| line_of(o, line)).unwrap_or(0);
        text.push_str(&format!("\n\nDefined in `{}:{line}`", path.display()));
    }
    match target.kind.as_str() {
        "Service" => {
            let spec = target.spec();
            if let Some(selector) = spec.and_then(|s| s.get("selector")) {
                let pairs: Vec<String> = selector
                    .entries()
                    .map(|(k, v)| format!("{}={}", k.key_text().unwrap_or_default(), v.display()))
                    .collect();
                text.push_str(&format!("\n\nselector: `{}`", pairs.join(",")));
            }
            let ports: Vec<String> = spec
                .and_then(|s| s.get("ports"))
                .into_iter()
                .flat_map(|p| p.items())
                .map(|p| {
                    let port = p.get("port").map(|v| v.display()).unwrap_or_default();
                    match p.get("targetPort") {
                        Some(t) => format!("{port}→{}", t.display()),
                        None => port,
                    }
                })
                .collect();
            if !ports.is_empty() {
                text.push_str(&format!("\n\nports: {}", ports.join(", ")));
            }
        }
        "AnalysisTemplate" | "ClusterAnalysisTemplate" => {
            let args: Vec<String> = target
                .spec()
                .and_then(|s| s.get("args"))
                .into_iter()
                .flat_map(|a| a.items())
                .filter_map(|a| {
                    let name = a.get_str("name")?;
                    let required = a.get_set("value").is_none() && a.get_set("valueFrom").is_none();
                    Some(if required { format!("`{name}` (required)") } else { format!("`{name}`") })
                })
                .collect();
            if !args.is_empty() {
                text.push_str(&format!("\n\nargs: {}", args.join(", ")));
            }
        }
        _ => {}
    }
    text
}

/// The line of an offset in the object's file (the server keeps whole files, from offset 0).
fn line_of(obj: &Object, offset: u32) -> usize {
    let text = &obj.doc.text;
    text[..(offset.saturating_sub(obj.doc.origin) as usize).min(text.len())].matches('\n').count() + 1
}

/// A rule's summary and its "Why it matters" section, for hovers on findings.
fn describe_rule(id: &str) -> String {
    let Some(rule) = rules::find(id) else { return format!("`{id}`") };
    let why = rule
        .doc
        .split("## Why it matters")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .map(str::trim)
        .unwrap_or_default();
    format!(
        "**{}** ({}): {}\n\n{why}\n\n[Documentation]({})",
        rule.id,
        rule.severity.as_str(),
        rule.summary,
        rules::doc_url(rule.id)
    )
}

/// Whether a file only feeds a render (a chart's file, a kustomization's patch or input).
fn is_fragment(path: &Path) -> bool {
    let Ok(excludes) = build_excludes(&[], &[]) else { return false };
    let (found, _, _) = crate::load::find(&[path.display().to_string()], &excludes, true);
    let settings = crate::unit::Settings { render: true, ..Default::default() };
    let plan = crate::unit::plan(&found, &settings);
    !plan.plain.iter().any(|p| crate::unit::normalize(p) == crate::unit::normalize(path))
}
