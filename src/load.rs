//! Loading: paths to files, files to text, text to documents. Problems with the content are
//! findings on the file; problems reaching a file are I/O errors (exit code 2).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::{FileId, SourceFile, Span};
use crate::yaml::{Document, parse_stream_map};

/// Files larger than this are refused unless `--max-file-size` says otherwise.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 128 * 1024 * 1024;

/// Where an input comes from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    pub fn display(&self) -> String {
        match self {
            Input::Stdin => "-".to_string(),
            Input::File(p) => p.display().to_string(),
        }
    }
}

/// A path that could not be read; reported on stderr, exit code 2.
#[derive(Debug, Clone)]
pub struct IoError {
    pub path: String,
    pub message: String,
}

/// Why a file was loaded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Linted and reported on.
    Lint,
    /// Loaded only to resolve references (`--context`); nothing in it is reported.
    Context,
    /// Objects the config file says exist in the cluster (`external:`), written as stubs.
    External,
}

#[derive(Clone)]
pub struct LoadedFile {
    pub id: FileId,
    pub role: Role,
    pub source: Arc<SourceFile>,
    pub documents: Vec<Arc<Document>>,
    pub diagnostics: Vec<Diagnostic>,
    /// Whether a [`DocumentPass`] has seen its documents (their findings are in `diagnostics`).
    pub checked: bool,
}

/// Work done on each document as soon as it is parsed, on the thread that parsed it, while its
/// whole tree exists; returns what to keep of the document. Lint runs its object checks here.
pub trait DocumentPass: Sync {
    fn document(&self, file: FileId, doc: Arc<Document>, out: &mut Vec<Diagnostic>) -> Arc<Document>;
}

/// The file with this id in a list sorted by id (as loading and linting keep them).
pub fn file_of(files: &[LoadedFile], id: FileId) -> Option<&LoadedFile> {
    files.binary_search_by_key(&id, |f| f.id).ok().map(|i| &files[i])
}

pub struct LoadOptions {
    pub max_file_size: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions { max_file_size: DEFAULT_MAX_FILE_SIZE }
    }
}

fn is_manifest_name(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml" | "json"))
}

/// `globs` from the command line match paths as given; `anchored` globs (from the config file)
/// match below their directory, which must be absolute.
pub fn build_excludes(globs: &[String], anchored: &[(String, PathBuf)]) -> Result<GlobSet, String> {
    let mut builder = GlobSetBuilder::new();
    for (g, base) in anchored {
        let g = g.strip_prefix("./").unwrap_or(g).trim_end_matches('/');
        let glob = |p: PathBuf| Glob::new(&p.to_string_lossy()).map_err(|e| format!("invalid exclude glob `{g}`: {e}"));
        builder.add(glob(base.join(g))?);
        builder.add(glob(base.join(g).join("**"))?);
        if !g.contains('/') {
            builder.add(glob(base.join("**").join(g))?);
            builder.add(glob(base.join("**").join(g).join("**"))?);
        }
    }
    for g in globs {
        let glob = Glob::new(g).map_err(|e| format!("invalid --exclude glob `{g}`: {e}"))?;
        builder.add(glob);
        // A bare pattern also matches anywhere below, as in .gitignore.
        if !g.contains('/') {
            builder.add(Glob::new(&format!("**/{g}")).map_err(|e| e.to_string())?);
        }
    }
    builder.build().map_err(|e| e.to_string())
}

fn excluded(set: &GlobSet, path: &Path) -> bool {
    let stripped = path.strip_prefix("./").unwrap_or(path);
    set.is_match(stripped) || std::path::absolute(path).is_ok_and(|p| set.is_match(p))
}

/// Expands the paths given on the command line into inputs, sorted for stable output.
/// Directories are walked recursively, honouring `.gitignore`; explicit files are always read.
pub fn discover(paths: &[String], excludes: &GlobSet) -> (Vec<Input>, Vec<IoError>) {
    let mut inputs = Vec::new();
    let mut errors = Vec::new();
    for arg in paths {
        if arg == "-" {
            inputs.push(Input::Stdin);
            continue;
        }
        let path = PathBuf::from(arg);
        match std::fs::metadata(&path) {
            Err(e) => errors.push(IoError { path: arg.clone(), message: e.to_string() }),
            Ok(meta) if meta.is_dir() => walk(&path, excludes, &mut inputs, &mut errors),
            Ok(meta) if meta.is_file() => {
                if !excluded(excludes, &path) {
                    inputs.push(Input::File(path));
                }
            }
            Ok(_) => errors.push(IoError {
                path: arg.clone(),
                message: "not a regular file (a FIFO, socket or device); pass files or directories".into(),
            }),
        }
    }
    let stdin = inputs.contains(&Input::Stdin);
    let mut files: Vec<Input> = inputs.into_iter().filter(|i| *i != Input::Stdin).collect();
    files.sort();
    files.dedup();
    if stdin {
        files.insert(0, Input::Stdin);
    }
    (files, errors)
}

fn walk(root: &Path, excludes: &GlobSet, inputs: &mut Vec<Input>, errors: &mut Vec<IoError>) {
    let excludes_for_filter = excludes.clone();
    let walker = ignore::WalkBuilder::new(root)
        .require_git(false)
        .follow_links(true)
        .filter_entry(move |e| !excluded(&excludes_for_filter, e.path()))
        .build();
    for entry in walker {
        match entry {
            Ok(e) => {
                if e.file_type().is_some_and(|t| t.is_file()) && is_manifest_name(e.path()) {
                    inputs.push(Input::File(e.into_path()));
                }
            }
            Err(err) => errors.push(IoError { path: root.display().to_string(), message: err.to_string() }),
        }
    }
}

/// Reads the bytes of an input, refusing more than `limit` bytes.
fn read_input(input: &Input, limit: u64) -> Result<Vec<u8>, IoError> {
    let io_err = |e: std::io::Error| IoError { path: input.display(), message: e.to_string() };
    let mut buf = Vec::new();
    match input {
        Input::Stdin => {
            std::io::stdin().lock().take(limit + 1).read_to_end(&mut buf).map_err(io_err)?;
        }
        Input::File(path) => {
            let file = std::fs::File::open(path).map_err(io_err)?;
            let meta = file.metadata().map_err(io_err)?;
            if !meta.is_file() {
                return Err(IoError { path: input.display(), message: "not a regular file".into() });
            }
            if meta.len() > limit {
                return Err(too_large(input, limit));
            }
            file.take(limit + 1).read_to_end(&mut buf).map_err(io_err)?;
        }
    }
    if buf.len() as u64 > limit {
        return Err(too_large(input, limit));
    }
    Ok(buf)
}

fn too_large(input: &Input, limit: u64) -> IoError {
    IoError {
        path: input.display(),
        message: format!("larger than the {limit}-byte limit; raise it with --max-file-size if this is intended"),
    }
}

/// Reads and parses every input in parallel, handing each document to `pass`. File ids follow
/// the order of `inputs`.
pub fn load_all(inputs: &[Input], options: &LoadOptions, pass: &dyn DocumentPass) -> (Vec<LoadedFile>, Vec<IoError>) {
    let results: Vec<Result<LoadedFile, IoError>> = inputs
        .par_iter()
        .enumerate()
        .map(|(i, input)| {
            let bytes = read_input(input, options.max_file_size)?;
            Ok(load_bytes_with(FileId(i as u32), input.display(), bytes, Some(pass)))
        })
        .collect();
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for r in results {
        match r {
            Ok(f) => files.push(f),
            Err(e) => errors.push(e),
        }
    }
    (files, errors)
}

/// Turns the bytes of one input into documents and loader findings.
pub fn load_bytes(id: FileId, name: String, bytes: Vec<u8>) -> LoadedFile {
    load_bytes_with(id, name, bytes, None)
}

/// [`load_bytes`], handing each document to `pass` as soon as it is parsed.
pub fn load_bytes_with(id: FileId, name: String, bytes: Vec<u8>, pass: Option<&dyn DocumentPass>) -> LoadedFile {
    let checked = pass.is_some();
    let syntax = |span: Span, message: String, help: &str| {
        let mut d = Diagnostic::new("yaml-syntax", Severity::Error, id, span, message);
        d.help(help);
        d
    };
    let text: Arc<str> = match String::from_utf8(bytes) {
        Ok(s) => Arc::from(s),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let bad = e.as_bytes()[at];
            let source = Arc::new(SourceFile::new(name, Arc::from(String::from_utf8_lossy(e.as_bytes()).into_owned())));
            let d = syntax(
                Span::new(at, at + 1),
                format!("not UTF-8 text: invalid byte 0x{bad:02X}"),
                "rollcheck reads YAML and JSON manifests, which must be UTF-8; is this a binary file?",
            );
            return LoadedFile { id, role: Role::Lint, source, documents: Vec::new(), diagnostics: vec![d], checked };
        }
    };
    let source = Arc::new(SourceFile::new(name, text.clone()));
    if let Some(at) = text.bytes().take(8192).position(|b| b == 0) {
        let d = syntax(
            Span::new(at, at + 1),
            "binary content: a NUL byte".into(),
            "rollcheck reads YAML and JSON manifests; exclude binary files with --exclude",
        );
        return LoadedFile { id, role: Role::Lint, source, documents: Vec::new(), diagnostics: vec![d], checked };
    }
    if let Some(span) = find_helm_action(&text) {
        let mut d = Diagnostic::new(
            "unrendered-template",
            Severity::Warning,
            id,
            span,
            "this is an unrendered Helm template: its `{{ }}` actions are not YAML, so the file was not linted",
        );
        d.label("Helm action")
            .help("lint the rendered output instead: `helm template RELEASE CHART | rollcheck -`, and exclude the chart's templates (`--exclude 'templates/'`)");
        return LoadedFile { id, role: Role::Lint, source, documents: Vec::new(), diagnostics: vec![d], checked };
    }
    let stream = parse_stream_map(text, &|doc| {
        let mut found = Vec::new();
        duplicate_keys(id, &doc, &mut found);
        let doc = Arc::new(doc);
        let doc = match pass {
            Some(pass) => pass.document(id, doc, &mut found),
            None => doc,
        };
        (doc, found)
    });
    let mut diagnostics: Vec<Diagnostic> = stream
        .errors
        .into_iter()
        .map(|e| {
            syntax(
                e.span,
                format!("invalid YAML: {}", e.message),
                "fix the YAML at this position; the other documents of the stream were still linted",
            )
        })
        .collect();
    let mut documents = Vec::with_capacity(stream.documents.len());
    for (doc, found) in stream.documents {
        documents.push(doc);
        diagnostics.extend(found);
    }
    LoadedFile { id, role: Role::Lint, source, documents, diagnostics, checked }
}

fn duplicate_keys(id: FileId, doc: &Document, out: &mut Vec<Diagnostic>) {
    for &(dup, first) in &doc.duplicate_keys {
        let dup = doc.node(dup);
        let first = doc.node(first);
        let key = dup.key_text().unwrap_or_default();
        let mut d = Diagnostic::new(
            "yaml-duplicate-key",
            Severity::Error,
            id,
            dup.span(),
            format!("duplicate key `{key}`: Kubernetes keeps only this last value"),
        );
        d.label("repeated here").help(format!("remove one of the two `{key}` entries, or merge them")).related(
            id,
            first.span(),
            "first defined here",
        );
        d.helm_source = doc.helm_source.clone();
        out.push(d);
    }
}

/// The first `{{ ... }}` that is a Helm/Go-template action rather than an Argo Rollouts
/// placeholder (`{{args.x}}`, `{{templates.x}}`, `{{metrics.x}}`...).
fn find_helm_action(text: &str) -> Option<Span> {
    const ARGO_PREFIXES: &[&str] =
        &["args.", "templates.", "metrics.", "inputs.", "workflow.", "experiment.", "steps.", "tasks."];
    let mut from = 0;
    while let Some(pos) = text[from..].find("{{") {
        let start = from + pos;
        let inner = text[start + 2..].trim_start_matches('-').trim_start();
        let end = text[start..].find("}}").map_or(start + 2, |e| start + e + 2);
        let line_end = text[start..].find('\n').map_or(text.len(), |e| start + e);
        if !ARGO_PREFIXES.iter().any(|p| inner.starts_with(p)) {
            return Some(Span::new(start, end.min(line_end.max(start + 2))));
        }
        from = start + 2;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::find_helm_action;

    #[test]
    fn tells_helm_actions_from_argo_placeholders() {
        assert!(find_helm_action("q: '{{args.service-name}}'").is_none());
        assert!(find_helm_action("q: '{{ args.x }} {{templates.a}}'").is_none());
        assert!(find_helm_action("name: {{ .Values.name }}").is_some());
        assert!(find_helm_action("{{- if .Values.x }}").is_some());
        assert!(find_helm_action("{{ include \"x\" . }}").is_some());
    }
}
