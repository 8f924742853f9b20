//! Loading: paths to files, files to text, text to documents. Problems with the content are
//! findings on the file; problems reaching a file are I/O errors (exit code 2).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{Glob, GlobSet, GlobSetBuilder};
use rayon::prelude::*;

use crate::diagnostic::Diagnostic;
use crate::source::{FileId, SourceFile, Span};
use crate::yaml::{Document, NodeId, Reading, parse_stream_map};
use suppression::Suppression;

pub mod suppression;

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
    /// A repository file findings of a render point at; loaded only to be quoted.
    Source,
}

/// Which objects a file's objects are applied with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every unit (context files and external objects).
    Everywhere,
    /// The objects of one unit (a render, or an Application's folder).
    Unit(u32),
    /// A plain file, in this folder (absolute, normalised): it is applied with plain files whose
    /// folders are the same or one inside the other.
    Folder(PathBuf),
}

impl Scope {
    /// The scope of a plain file.
    pub fn of_file(path: &Path) -> Scope {
        let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        Scope::Folder(crate::unit::normalize(absolute.parent().unwrap_or(Path::new("/"))))
    }
}

/// Output of a unit's render: what it is, and where its documents came from.
#[derive(Debug)]
pub struct Rendered {
    pub unit: crate::unit::Unit,
    /// For kustomize, the file each document came from (in document order).
    pub origins: Vec<Option<PathBuf>>,
}

#[derive(Clone)]
pub struct LoadedFile {
    pub id: FileId,
    pub role: Role,
    pub scope: Scope,
    /// Namespace of objects that set none, when the file's unit says (else the run's).
    pub namespace: Option<Arc<str>>,
    /// Set on the output of a render.
    pub rendered: Option<Arc<Rendered>>,
    pub source: Arc<SourceFile>,
    pub documents: Vec<DocRef>,
    pub diagnostics: Vec<Diagnostic>,
    /// Suppression comments, read while the text was at hand.
    pub suppressions: Vec<Suppression>,
    /// Whether a [`DocumentPass`] has seen its documents (their findings are in `diagnostics`).
    pub checked: bool,
}

/// A document of a file: its tree, or, once its checks have run, what is kept of it, which
/// may share a tree with the other documents of its piece of the file.
#[derive(Clone, Debug)]
pub struct DocRef {
    pub tree: Arc<Document>,
    pub root: Option<NodeId>,
    /// The template path from Helm's `# Source:` comment.
    pub helm_source: Option<Arc<str>>,
}

impl DocRef {
    pub fn whole(tree: Arc<Document>) -> DocRef {
        DocRef { root: tree.root, helm_source: tree.helm_source.clone(), tree }
    }
}

/// Work done on each document as soon as it is parsed, on the thread that parsed it, while its
/// whole tree exists (lint runs its object checks here); then, for each piece of a file, what
/// to keep of its documents.
pub trait DocumentPass: Sync {
    fn document(&self, file: FileId, doc: &Arc<Document>, out: &mut Vec<Diagnostic>);

    /// What to keep of the documents of one piece of a file.
    fn piece(&self, docs: Vec<Arc<Document>>) -> Vec<DocRef> {
        docs.into_iter().map(DocRef::whole).collect()
    }
}

impl LoadedFile {
    /// A file that holds no objects, only text that findings point at and reports quote.
    pub fn quoted(id: FileId, role: Role, source: SourceFile) -> LoadedFile {
        let mut file = join(id, source, Vec::new(), true);
        file.role = role;
        file
    }

    /// The path the config's `overrides` are matched against: the file's, or for a render the
    /// file that defines the unit.
    pub fn settings_path(&self) -> String {
        match &self.rendered {
            Some(r) => r.unit.anchor.display().to_string(),
            None => self.source.name.clone(),
        }
    }
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
        || path.file_name().is_some_and(|n| n == "Kustomization")
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

/// The files a run lints, for the unit finder: what walking the directories found, the files
/// named one by one, whether stdin is read, and (when `around` is set) the charts and
/// kustomizations of the repositories around named files.
pub fn find(paths: &[String], excludes: &GlobSet, around: bool) -> (crate::unit::Found, bool, Vec<IoError>) {
    let mut found = crate::unit::Found::default();
    let mut errors = Vec::new();
    let mut stdin = false;
    for arg in paths {
        if arg == "-" {
            stdin = true;
            continue;
        }
        let path = PathBuf::from(arg);
        match std::fs::metadata(&path) {
            Err(e) => errors.push(IoError { path: arg.clone(), message: e.to_string() }),
            Ok(meta) if meta.is_dir() => {
                let mut inputs = Vec::new();
                walk(&path, excludes, &mut inputs, &mut errors);
                found.walked.extend(inputs.into_iter().filter_map(|i| match i {
                    Input::File(p) => Some(p),
                    Input::Stdin => None,
                }));
                found.roots.push(crate::unit::normalize(&path));
            }
            Ok(meta) if meta.is_file() => {
                if !excluded(excludes, &path) {
                    found.named.push(path);
                }
            }
            Ok(_) => errors.push(IoError {
                path: arg.clone(),
                message: "not a regular file (a FIFO, socket or device); pass files or directories".into(),
            }),
        }
    }
    if around && !found.named.is_empty() {
        let cwd = std::env::current_dir().unwrap_or_default();
        let absolute = found.named.iter().any(|p| p.is_absolute());
        let mut repositories: Vec<PathBuf> = found.named.iter().map(|f| crate::unit::repository_root(f)).collect();
        repositories.sort();
        repositories.dedup();
        for repo in repositories {
            let mut inputs = Vec::new();
            walk(&repo, excludes, &mut inputs, &mut Vec::new());
            found.around_named.extend(inputs.into_iter().filter_map(|i| match i {
                Input::File(p) if crate::unit::is_chart_file(&p) || crate::unit::is_kustomization(&p) => {
                    Some(if absolute { p } else { crate::unit::relative_to(&p, &cwd) })
                }
                _ => None,
            }));
        }
    }
    (found, stdin, errors)
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

/// Reads all of stdin, refusing more than `limit` bytes (when it cannot be spooled).
fn read_stdin(input: &Input, limit: u64) -> Result<Vec<u8>, IoError> {
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| IoError { path: input.display(), message: e.to_string() })?;
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
/// the order of `inputs`. Files are read in pieces, each parsed and passed while its text is
/// at hand; the text is not kept (reports read it again, if they quote it).
pub fn load_all(inputs: &[Input], options: &LoadOptions, pass: &dyn DocumentPass) -> (Vec<LoadedFile>, Vec<IoError>) {
    let results: Vec<Result<LoadedFile, IoError>> = inputs
        .par_iter()
        .enumerate()
        .map(|(i, input)| {
            let id = FileId(i as u32);
            match input {
                Input::Stdin => load_stdin(id, input, options.max_file_size, pass),
                Input::File(path) => load_file(id, input, path, options.max_file_size, pass),
            }
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

/// Pieces a file is read in: about this size, cut where a document starts.
const PIECE_SIZE: usize = 1 << 20;

fn load_file(
    id: FileId,
    input: &Input,
    path: &Path,
    limit: u64,
    pass: &dyn DocumentPass,
) -> Result<LoadedFile, IoError> {
    let io_err = |e: std::io::Error| IoError { path: input.display(), message: e.to_string() };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let meta = file.metadata().map_err(io_err)?;
    if !meta.is_file() {
        return Err(IoError { path: input.display(), message: "not a regular file".into() });
    }
    if meta.len() > limit {
        return Err(too_large(input, limit));
    }
    let source = SourceFile::on_disk(input.display(), path.to_path_buf());
    let mut loaded = load_stream(id, input, file.take(limit + 1), source, limit, pass)?;
    loaded.scope = Scope::of_file(path);
    Ok(loaded)
}

/// Stdin is read in pieces like a file, and copied to a temporary file that reports quote
/// from (`helm template | rollcheck -` should not hold the whole stream in memory). Without a
/// writable temporary directory, it is read whole.
fn load_stdin(id: FileId, input: &Input, limit: u64, pass: &dyn DocumentPass) -> Result<LoadedFile, IoError> {
    let Ok((spool, path)) = tempfile::NamedTempFile::new().map(|f| f.into_parts()) else {
        let bytes = read_stdin(input, limit)?;
        return Ok(load_bytes_with(id, input.display(), bytes, Some(pass)));
    };
    let io_err = |e: std::io::Error| IoError { path: input.display(), message: e.to_string() };
    let mut copy = std::io::BufWriter::new(spool);
    let reader = Tee { reader: std::io::stdin().take(limit + 1), copy: &mut copy };
    let source = SourceFile::spooled(input.display(), path);
    let file = load_stream(id, input, reader, source, limit, pass)?;
    copy.flush().map_err(io_err)?;
    Ok(file)
}

/// Reads `reader`, writing what it reads to `copy`.
struct Tee<'w, R> {
    reader: R,
    copy: &'w mut std::io::BufWriter<std::fs::File>,
}

impl<R: Read> Read for Tee<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.reader.read(buf)?;
        self.copy.write_all(&buf[..n])?;
        Ok(n)
    }
}

fn load_stream(
    id: FileId,
    input: &Input,
    reader: impl Read + Send,
    source: SourceFile,
    limit: u64,
    pass: &dyn DocumentPass,
) -> Result<LoadedFile, IoError> {
    let io_err = |e: std::io::Error| IoError { path: input.display(), message: e.to_string() };
    let reader = PieceReader { file: reader, carry: Vec::new(), origin: 0, done: false };
    let mut pieces: Vec<(usize, Result<Piece, std::io::Error>)> = reader
        .enumerate()
        .par_bridge()
        .map(|(i, piece)| (i, piece.map(|(origin, bytes)| load_piece(id, origin, bytes, Some(pass)))))
        .collect();
    pieces.sort_by_key(|(i, _)| *i);
    let pieces = pieces.into_iter().map(|(_, piece)| piece).collect::<Result<Vec<Piece>, _>>().map_err(io_err)?;
    if pieces.last().is_some_and(|p| p.end as u64 > limit) {
        return Err(too_large(input, limit));
    }
    Ok(join(id, source, pieces, true))
}

/// A file of its pieces, in order; a file refused whole (not UTF-8, binary, an unrendered
/// template) keeps only the first reason, by rank.
fn join(id: FileId, source: SourceFile, pieces: Vec<Piece>, checked: bool) -> LoadedFile {
    let mut file = LoadedFile {
        id,
        role: Role::Lint,
        // Streams and text in memory: in no folder, so applied with every plain file.
        scope: Scope::Folder(PathBuf::new()),
        namespace: None,
        rendered: None,
        source: Arc::new(source),
        documents: Vec::new(),
        diagnostics: Vec::new(),
        suppressions: Vec::new(),
        checked,
    };
    let mut refusal: Option<(u8, Diagnostic)> = None;
    for piece in pieces {
        if let Some((rank, d)) = piece.refusal
            && refusal.as_ref().is_none_or(|(r, _)| rank < *r)
        {
            refusal = Some((rank, d));
        }
        file.documents.extend(piece.documents);
        file.diagnostics.extend(piece.diagnostics);
        file.suppressions.extend(piece.suppressions);
    }
    if let Some((_, d)) = refusal {
        file.documents.clear();
        file.suppressions.clear();
        file.diagnostics = vec![d];
    }
    file
}

/// Reads a stream in pieces of about [`PIECE_SIZE`] bytes, each ending where a document
/// starts (so each parses alone), with the offset where it starts.
struct PieceReader<R> {
    file: R,
    carry: Vec<u8>,
    origin: usize,
    done: bool,
}

impl<R: Read> Iterator for PieceReader<R> {
    type Item = Result<(usize, Vec<u8>), std::io::Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done && self.carry.is_empty() {
            return None;
        }
        let mut want = PIECE_SIZE;
        loop {
            if !self.done && self.carry.len() < want {
                // Read into the spare capacity: no zeroing of a buffer about to be overwritten.
                let missing = want - self.carry.len();
                self.carry.reserve_exact(missing);
                match (&mut self.file).take(missing as u64).read_to_end(&mut self.carry) {
                    Ok(n) if n < missing => self.done = true,
                    Ok(_) => {}
                    Err(e) => {
                        self.done = true;
                        self.carry = Vec::new();
                        return Some(Err(e));
                    }
                }
            }
            if self.done && self.carry.is_empty() {
                return None;
            }
            let cut = match crate::yaml::last_cut_point(&self.carry, self.done) {
                Some(cut) => cut,
                None if self.done => self.carry.len(),
                // One document larger than a piece: read on until it ends.
                None => {
                    want = self.carry.len() * 2;
                    continue;
                }
            };
            let rest = self.carry.split_off(cut);
            let piece = std::mem::replace(&mut self.carry, rest);
            let origin = self.origin;
            self.origin += piece.len();
            return Some(Ok((origin, piece)));
        }
    }
}

/// What one piece of a file gave.
struct Piece {
    /// Where the piece ends in the file.
    end: usize,
    documents: Vec<DocRef>,
    diagnostics: Vec<Diagnostic>,
    suppressions: Vec<Suppression>,
    /// Why the whole file is not linted, ranked: not UTF-8, binary, an unrendered template.
    refusal: Option<(u8, Diagnostic)>,
}

fn syntax(id: FileId, span: Span, message: String, help: &'static str) -> Diagnostic {
    let mut d = Diagnostic::unrated("yaml-syntax", id, span, message);
    d.help(help);
    d
}

/// Parses a piece of a file (`bytes`, from `origin`) and passes its documents.
fn load_piece(id: FileId, origin: usize, bytes: Vec<u8>, pass: Option<&dyn DocumentPass>) -> Piece {
    let end = origin + bytes.len();
    match String::from_utf8(bytes) {
        Ok(text) => parse_piece(id, Arc::from(text), origin, pass),
        Err(e) => {
            let at = origin + e.utf8_error().valid_up_to();
            let refusal = not_utf8(id, at, e.as_bytes()[e.utf8_error().valid_up_to()]);
            Piece {
                end,
                documents: Vec::new(),
                diagnostics: Vec::new(),
                suppressions: Vec::new(),
                refusal: Some((0, refusal)),
            }
        }
    }
}

fn not_utf8(id: FileId, at: usize, bad: u8) -> Diagnostic {
    syntax(
        id,
        Span::new(at, at + 1),
        format!("not UTF-8 text: invalid byte 0x{bad:02X}"),
        "rollcheck reads YAML and JSON manifests, which must be UTF-8; is this a binary file?",
    )
}

fn parse_piece(id: FileId, text: Arc<str>, origin: usize, pass: Option<&dyn DocumentPass>) -> Piece {
    let mut piece = Piece {
        end: origin + text.len(),
        documents: Vec::new(),
        diagnostics: Vec::new(),
        suppressions: Vec::new(),
        refusal: None,
    };
    if origin == 0
        && let Some(at) = text.bytes().take(8192).position(|b| b == 0)
    {
        let d = syntax(
            id,
            Span::new(at, at + 1),
            "binary content: a NUL byte".into(),
            "rollcheck reads YAML and JSON manifests; exclude binary files with --exclude",
        );
        piece.refusal = Some((1, d));
        return piece;
    }
    if let Some(span) = find_helm_action(&text) {
        let span = Span::new(origin + span.start as usize, origin + span.end as usize);
        let mut d = Diagnostic::unrated(
            "unrendered-template",
            id,
            span,
            "this is an unrendered Helm template: its `{{ }}` actions are not YAML, so the file was not linted",
        );
        d.label("Helm action")
            .help("lint the rendered output instead: `helm template RELEASE CHART | rollcheck -`, and exclude the chart's templates (`--exclude 'templates/'`)");
        piece.refusal = Some((2, d));
        return piece;
    }
    let stream = parse_stream_map(text.clone(), origin, Reading::Kubectl, &|doc| {
        let mut found = Vec::new();
        duplicate_keys(id, &doc, &mut found);
        let suppressions = suppression::from_comments(id, &text, origin, &doc);
        let doc = Arc::new(doc);
        if let Some(pass) = pass {
            pass.document(id, &doc, &mut found);
        }
        (doc, found, suppressions)
    });
    piece.diagnostics.extend(stream.errors.into_iter().map(|e| {
        syntax(
            id,
            e.span,
            format!("invalid YAML: {}", e.message),
            "fix the YAML at this position: kubectl applies the documents before this one and stops here (rollcheck still linted the others)",
        )
    }));
    let mut documents = Vec::with_capacity(stream.documents.len());
    for (doc, found, suppressions) in stream.documents {
        documents.push(doc);
        piece.diagnostics.extend(found);
        piece.suppressions.extend(suppressions);
    }
    piece.documents = match pass {
        Some(pass) => pass.piece(documents),
        None => documents.into_iter().map(DocRef::whole).collect(),
    };
    piece
}

/// Turns the bytes of one input into documents and loader findings, keeping its text.
pub fn load_bytes(id: FileId, name: String, bytes: Vec<u8>) -> LoadedFile {
    load_bytes_with(id, name, bytes, None)
}

/// [`load_bytes`], handing each document to `pass` as soon as it is parsed.
pub fn load_bytes_with(id: FileId, name: String, bytes: Vec<u8>, pass: Option<&dyn DocumentPass>) -> LoadedFile {
    let (text, piece) = match String::from_utf8(bytes) {
        Ok(text) => {
            let text: Arc<str> = Arc::from(text);
            let piece = parse_piece(id, text.clone(), 0, pass);
            (text, piece)
        }
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            let refusal = not_utf8(id, at, e.as_bytes()[at]);
            let text = Arc::from(String::from_utf8_lossy(e.as_bytes()).into_owned());
            let piece = Piece {
                end: 0,
                documents: Vec::new(),
                diagnostics: Vec::new(),
                suppressions: Vec::new(),
                refusal: Some((0, refusal)),
            };
            (text, piece)
        }
    };
    join(id, SourceFile::new(name, text), vec![piece], pass.is_some())
}

fn duplicate_keys(id: FileId, doc: &Document, out: &mut Vec<Diagnostic>) {
    if doc.duplicate_keys.is_empty() {
        return;
    }
    // The object the mapping is in, for reports (JSON `object`).
    let object = doc.root().and_then(|root| {
        let kind = root.get_str("kind")?;
        let name = root.path(&["metadata", "name"]).and_then(|n| n.as_str())?;
        let namespace = root.path(&["metadata", "namespace"]).and_then(|n| n.as_str());
        Some(crate::diagnostic::ObjectName {
            kind: crate::intern::Shared::new(kind),
            name: name.to_string(),
            namespace: namespace.map(crate::intern::Shared::new),
        })
    });
    for &(dup, first) in &doc.duplicate_keys {
        let dup = doc.node(dup);
        let first = doc.node(first);
        let key = dup.key_text().unwrap_or_default();
        let mut d = Diagnostic::unrated(
            "yaml-duplicate-key",
            id,
            dup.span(),
            format!(
                "duplicate key `{key}`: kubectl and helm keep only this last value, and kustomize refuses the file"
            ),
        );
        d.object = object.clone();
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
/// placeholder (`{{args.x}}`, `{{templates.x}}`, `{{metrics.x}}`...) or data inside a block
/// scalar (Argo notification templates, scripts): `key: |` and the lines indented under it.
fn find_helm_action(text: &str) -> Option<Span> {
    const ARGO_PREFIXES: &[&str] =
        &["args.", "templates.", "metrics.", "inputs.", "workflow.", "experiment.", "steps.", "tasks."];
    let argo = |inner: &str| {
        let inner = inner.trim_start_matches('-').trim_start();
        ARGO_PREFIXES.iter().any(|p| inner.starts_with(p))
    };
    // Most texts have no `{{`, or only Argo's placeholders: no line needs reading.
    let bytes = text.as_bytes();
    let helm_like = memchr::memmem::find_iter(bytes, b"{{").any(|at| {
        let line_end = memchr::memchr(b'\n', &bytes[at..]).map_or(text.len(), |n| at + n);
        !text.get(at + 2..line_end).is_some_and(|rest| argo(rest.trim_end_matches('\r')))
    });
    if !helm_like {
        return None;
    }
    // Lines of a block scalar are indented more than the line that opens it.
    let mut block_indent: Option<usize> = None;
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let start = line_start;
        line_start += line.len();
        let content = line.trim_end_matches(['\n', '\r']);
        let indent = content.len() - content.trim_start_matches(' ').len();
        if let Some(block) = block_indent {
            if content.trim().is_empty() || indent > block {
                continue;
            }
            block_indent = None;
        }
        let mut from = 0;
        while let Some(pos) = content[from..].find("{{") {
            let at = from + pos;
            if !argo(&content[at + 2..]) {
                let end = content[at..].find("}}").map_or(content.len(), |e| at + e + 2);
                return Some(Span::new(start + at, start + end.max(at + 2)));
            }
            from = at + 2;
        }
        if opens_block_scalar(content) {
            block_indent = Some(indent);
        }
    }
    None
}

/// `key: |`, `- >-` and the like: a line whose value is a block scalar.
fn opens_block_scalar(line: &str) -> bool {
    let value = line.trim_end().trim_end_matches(|c: char| c == '+' || c == '-' || c.is_ascii_digit());
    let Some(before) = value.strip_suffix('|').or_else(|| value.strip_suffix('>')) else { return false };
    before.ends_with(": ") || before.ends_with("- ") || before.trim().is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces_of(text: &str) -> Vec<(usize, Vec<u8>)> {
        let reader = PieceReader { file: text.as_bytes(), carry: Vec::new(), origin: 0, done: false };
        reader.map(Result::unwrap).collect()
    }

    #[test]
    fn pieces_cover_the_stream_and_start_at_documents() {
        let doc = "---\n# Source: a.yaml\nkind: ConfigMap\ndata:\n  x: |\n    ---not a marker\n";
        let mut text = doc.repeat(PIECE_SIZE / doc.len() * 3);
        // One document larger than a piece, and a comment and a directive before markers.
        text.push_str(&format!(
            "---\nbig: {}\n# rollcheck-ignore-file\n---\n%YAML 1.2\n---\nz: 1\n",
            "x".repeat(PIECE_SIZE * 2)
        ));
        let pieces = pieces_of(&text);
        assert!(pieces.len() > 3);
        let mut joined = Vec::new();
        for (origin, bytes) in &pieces {
            assert_eq!(*origin, joined.len());
            assert!(bytes.starts_with(b"---\n"), "a piece starts at a document marker");
            joined.extend_from_slice(bytes);
        }
        assert_eq!(joined, text.as_bytes());
        assert!(pieces.iter().any(|(_, b)| b.len() > PIECE_SIZE * 2), "a large document stays whole");
        let last = &pieces.last().unwrap().1;
        assert!(last.starts_with(b"---\nbig:"), "no cut after a comment or a directive");
        assert!(pieces_of("").is_empty());
        assert_eq!(pieces_of("a: 1").len(), 1);
    }

    #[test]
    fn tells_helm_actions_from_argo_placeholders() {
        assert!(find_helm_action("q: '{{args.service-name}}'").is_none());
        assert!(find_helm_action("q: '{{ args.x }} {{templates.a}}'").is_none());
        assert!(find_helm_action("name: {{ .Values.name }}").is_some());
        assert!(find_helm_action("{{- if .Values.x }}").is_some());
        assert!(find_helm_action("{{ include \"x\" . }}").is_some());
        // Go templates of Argo notifications are data inside block scalars.
        let notifications =
            "data:\n  template.x: |\n    message: |\n      Rollout {{.rollout.metadata.name}}\n\n    body: x\n";
        assert!(find_helm_action(notifications).is_none());
        let after_block = "data:\n  a: |-\n    {{ .x }}\nmetadata:\n  name: {{ .Values.name }}\n";
        assert_eq!(find_helm_action(after_block).map(|s| (s.start, s.end)), Some((45, 63)));
        assert!(find_helm_action("a: |\n  x\n{{- if .Values.y }}\n").is_some());
    }
}
