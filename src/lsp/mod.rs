//! `rollcheck lsp`: a language server over stdio on the same engine. Workspace manifests are
//! indexed in the background; every edit re-lints the edited file and the files wired to it
//! (objects it references or that reference it), and their diagnostics are republished.

mod position;
mod publish;
mod requests;
mod transport;
mod workspace;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, select, unbounded};
use lsp_server::{Message, Notification, Request, Response};
use lsp_types::{
    CodeActionParams, CodeActionProviderCapability, DidChangeTextDocumentParams, DidChangeWatchedFilesParams,
    DidCloseTextDocumentParams, DidOpenTextDocumentParams, DidSaveTextDocumentParams, GotoDefinitionParams,
    HoverParams, HoverProviderCapability, InitializeParams, InitializeResult, OneOf, SaveOptions, ServerCapabilities,
    ServerInfo, TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions,
};
use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::lint::Options;
use crate::load::LoadedFile;
use crate::source::FileId;
use position::{offset, path_from_uri};
use workspace::{is_config, is_manifest, render_root};

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
