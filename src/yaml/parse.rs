//! Events from granit-parser to [`Document`] trees, one per document of the stream.
//! A syntax error drops only its own document: parsing resumes at the next `---`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use granit_parser::{Event, Options, Parser, ScalarStyle};

use super::kubectl;
use super::resolve::{Resolved, resolve_plain};
use super::tree::{Children, Document, MAX_CHILDREN, Node, NodeId, Style, Texts};
use crate::source::Span;

/// An error that made a document unreadable.
#[derive(Debug, Clone)]
pub struct SyntaxError {
    pub span: Span,
    pub message: String,
}

pub struct Stream<T = Document> {
    pub documents: Vec<T>,
    pub errors: Vec<SyntaxError>,
}

impl<T> Default for Stream<T> {
    fn default() -> Self {
        Stream { documents: Vec::new(), errors: Vec::new() }
    }
}

/// Collections nested deeper than this are a syntax error (the parser enforces it).
pub const MAX_DEPTH: usize = 200;

/// An open collection; its children so far are `scratch_items[first..]` or
/// `scratch_pairs[first..]`.
pub(super) enum Frame {
    Seq { start: usize, anchor: usize, flow: bool, first: usize },
    Map { start: usize, anchor: usize, flow: bool, first: usize, key: Option<NodeId> },
}

impl Frame {
    fn flow(&self) -> bool {
        match self {
            Frame::Seq { flow, .. } | Frame::Map { flow, .. } => *flow,
        }
    }
}

type Scratch = (Vec<NodeId>, Vec<(NodeId, NodeId)>, Vec<Frame>);

thread_local! {
    /// A builder's working lists, kept for the next document read on the thread.
    static SCRATCH: std::cell::Cell<Scratch> = const { std::cell::Cell::new((Vec::new(), Vec::new(), Vec::new())) };
}

pub(super) struct Builder {
    text: Arc<str>,
    /// Where `text` starts in the file: spans are file offsets.
    origin: usize,
    pub(super) nodes: Vec<Node>,
    pub(super) owned: Texts,
    items: Vec<NodeId>,
    pairs: Vec<(NodeId, NodeId)>,
    pub(super) scratch_items: Vec<NodeId>,
    pub(super) scratch_pairs: Vec<(NodeId, NodeId)>,
    pub(super) stack: Vec<Frame>,
    anchors: HashMap<usize, NodeId>,
    pub(super) root: Option<NodeId>,
    pub(super) start: usize,
    pub(super) helm_source: Option<Arc<str>>,
    pub(super) comments: Vec<Span>,
    duplicate_keys: Vec<(NodeId, NodeId)>,
    /// Every key is a one-line scalar that is not null (the block reader's): none for kubectl
    /// to refuse.
    pub(super) plain_keys: bool,
}

impl Builder {
    pub(super) fn new(text: Arc<str>, origin: usize, start: usize) -> Builder {
        let (scratch_items, scratch_pairs, stack) = SCRATCH.take();
        Builder {
            text,
            origin,
            nodes: Vec::new(),
            owned: Texts::default(),
            items: Vec::new(),
            pairs: Vec::new(),
            scratch_items,
            scratch_pairs,
            stack,
            anchors: HashMap::new(),
            root: None,
            start,
            helm_source: None,
            comments: Vec::new(),
            duplicate_keys: Vec::new(),
            plain_keys: false,
        }
    }

    pub(super) fn push(&mut self, node: Node, anchor: usize) -> NodeId {
        let id = NodeId(self.nodes.len() as u32);
        self.nodes.push(node);
        if anchor != 0 {
            self.anchors.insert(anchor, id);
        }
        self.attach(id);
        id
    }

    fn attach(&mut self, id: NodeId) {
        match self.stack.last_mut() {
            None => self.root = Some(id),
            Some(Frame::Seq { .. }) => self.scratch_items.push(id),
            Some(Frame::Map { key, .. }) => match key.take() {
                None => *key = Some(id),
                Some(k) => self.scratch_pairs.push((k, id)),
            },
        }
    }

    /// Block collections end at their last child (their end event sits past trailing blank
    /// lines); flow collections end at their closing bracket.
    fn end_span(&self, start: usize, flow: bool, end_event: Span, last: Option<NodeId>) -> Span {
        let end = match (flow, last) {
            (false, Some(id)) => self.nodes[id.0 as usize].span.end as usize,
            (false, None) => start,
            (true, _) => end_event.end as usize,
        };
        Span::new(start, end.max(start))
    }

    /// Room for a document of about `lines` lines with content.
    pub(super) fn reserve(&mut self, lines: usize) {
        self.nodes.reserve(lines * 2);
        self.pairs.reserve(lines);
    }

    pub(super) fn finish(mut self, end: usize) -> Document {
        // The scratch lists are empty now; the next document of this thread uses them.
        let (mut items, mut pairs, mut stack) = (
            std::mem::take(&mut self.scratch_items),
            std::mem::take(&mut self.scratch_pairs),
            std::mem::take(&mut self.stack),
        );
        items.clear();
        pairs.clear();
        stack.clear();
        SCRATCH.set((items, pairs, stack));
        self.nodes.shrink_to_fit();
        self.items.shrink_to_fit();
        self.pairs.shrink_to_fit();
        self.owned.shrink_to_fit();
        Document {
            text: self.text,
            origin: self.origin as u32,
            nodes: self.nodes,
            owned: self.owned,
            items: self.items,
            pairs: self.pairs,
            root: self.root,
            span: Span::new(self.start, end.max(self.start)),
            helm_source: self.helm_source,
            comments: self.comments,
            duplicate_keys: self.duplicate_keys,
        }
    }

    fn key_text(&self, id: NodeId) -> Option<Cow<'_, str>> {
        self.nodes[id.0 as usize].key_text_from(&self.text, self.origin as u32, &self.owned)
    }

    /// Ends the innermost open collection (its end event at `sp`).
    pub(super) fn end_collection(&mut self, sp: Span, strict: bool) -> Result<(), SyntaxError> {
        let Some(frame) = self.stack.pop() else { return Ok(()) };
        let file_end = self.origin + self.text.len();
        let (map, children, start, anchor, flow, last) = match frame {
            Frame::Seq { start, anchor, flow, first } => {
                let children =
                    Children { start: self.items.len() as u32, len: (self.scratch_items.len() - first) as u32 };
                let last = self.scratch_items.last().copied().filter(|_| children.len > 0);
                let Builder { items, scratch_items, .. } = self;
                items.extend(scratch_items.drain(first..));
                (false, children, start, anchor, flow, last)
            }
            Frame::Map { start, anchor, flow, first, .. } => {
                let children =
                    Children { start: self.pairs.len() as u32, len: (self.scratch_pairs.len() - first) as u32 };
                let last = self.scratch_pairs.last().map(|e| e.1).filter(|_| children.len > 0);
                let Builder { pairs, scratch_pairs, .. } = self;
                pairs.extend(scratch_pairs.drain(first..));
                if strict
                    && !self.plain_keys
                    && let Some((at, message)) = self.key_refusal(children.start as usize, flow)
                {
                    return Err(SyntaxError {
                        span: Span::new(at, (at + 1).min(file_end).max(at)),
                        message: message.into(),
                    });
                }
                let before = self.duplicate_keys.len();
                self.record_duplicates(children.start as usize);
                let mut children = children;
                if self.duplicate_keys.len() > before {
                    children.len = self.drop_overridden(children.start as usize) as u32;
                }
                (true, children, start, anchor, flow, last)
            }
        };
        let span = self.end_span(start, flow, sp, last);
        if children.len > MAX_CHILDREN {
            return Err(SyntaxError {
                span: Span::new(start, start + 1),
                message: format!("a collection with more than {MAX_CHILDREN} entries"),
            });
        }
        self.push(Node::collection(span, map, children), anchor);
        Ok(())
    }

    /// A key of the mapping whose entries are `pairs[first..]` that kubectl refuses: one JSON
    /// cannot hold (null, a sequence or a mapping), or in a flow mapping one that spans lines
    /// or whose `:` is on a later line. Returns its file offset and why.
    fn key_refusal(&self, first: usize, flow: bool) -> Option<(usize, &'static str)> {
        let text: &str = &self.text;
        for &(k, _) in &self.pairs[first..] {
            let mut node = &self.nodes[k.0 as usize];
            if let super::tree::NodeKind::Alias(target) = node.kind_of("") {
                node = &self.nodes[target.0 as usize];
            }
            let key_text = node.text_from(text, self.origin as u32, &self.owned);
            match node.kind_of(key_text.unwrap_or("")) {
                super::tree::NodeKind::Seq(_) | super::tree::NodeKind::Map(_) => {
                    return Some((
                        node.span.start as usize,
                        "kubectl refuses a mapping key that is a sequence or a mapping: it converts YAML to JSON, whose keys are strings (invalid map key)",
                    ));
                }
                super::tree::NodeKind::Scalar(s) if s.style == Style::Plain && s.value == Resolved::Null => {
                    return Some((
                        node.span.start as usize,
                        "kubectl refuses an empty or null mapping key: it converts YAML to JSON, whose keys are strings (unsupported map key of type nil)",
                    ));
                }
                _ => {}
            }
            // An implicit key (no `?`) is read on one line by go-yaml, with its `:` on it.
            let start = (node.span.start as usize).saturating_sub(self.origin).min(text.len());
            let end = (node.span.end as usize).saturating_sub(self.origin).min(text.len()).max(start);
            let block = matches!(node.kind_of(""), super::tree::NodeKind::Scalar(s) if s.style == Style::Block);
            let explicit = block || text[..start].trim_end().ends_with('?');
            if !explicit && !flow && text[start..end].contains('\n') {
                return Some((
                    node.span.start as usize,
                    "kubectl refuses a key that spans lines: go-yaml reads a key without `?` on one line (could not find expected ':')",
                ));
            }
            if flow && !explicit {
                let mut spans_lines = text[start..end].contains('\n');
                let mut rest = text[end..].chars();
                let mut colon = false;
                while let Some(c) = rest.next() {
                    match c {
                        ':' => {
                            colon = true;
                            break;
                        }
                        '\n' => spans_lines = true,
                        '#' => {
                            rest.by_ref().find(|&c| c == '\n');
                            spans_lines = true;
                        }
                        c if c.is_whitespace() => {}
                        _ => break,
                    }
                }
                if spans_lines && colon {
                    return Some((
                        node.span.start as usize,
                        "kubectl refuses a key inside `{}` that spans lines or whose `:` is on a later line: go-yaml reads keys on one line (did not find expected ',' or '}')",
                    ));
                }
            }
        }
        None
    }

    /// Drops the entries of the mapping at `pairs[first..]` whose key is repeated later: kubectl
    /// keeps the last value, and nothing should be checked in a value it discards. Returns the
    /// number of entries left.
    fn drop_overridden(&mut self, first: usize) -> usize {
        let keys: Vec<Option<String>> =
            self.pairs[first..].iter().map(|&(k, _)| self.key_text(k).map(|t| t.into_owned())).collect();
        let keep: Vec<bool> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| {
                k.as_deref().is_none_or(|k| k == "<<" || !keys[i + 1..].iter().any(|l| l.as_deref() == Some(k)))
            })
            .collect();
        let mut i = 0;
        self.pairs.retain(|_| {
            let idx = i;
            i += 1;
            idx < first || keep[idx - first]
        });
        self.pairs.len() - first
    }

    /// Records repeated keys of the mapping whose entries are `pairs[first..]`. Small mappings
    /// (nearly all) compare pairwise without allocating.
    fn record_duplicates(&mut self, first: usize) {
        let entries = &self.pairs[first..];
        let mut found = Vec::new();
        if entries.len() <= 16 {
            // Each key read once, then compared pairwise.
            let mut keys: [Option<Cow<'_, str>>; 16] = Default::default();
            for (slot, &(k, _)) in keys.iter_mut().zip(entries) {
                *slot = self.key_text(k).filter(|k| k != "<<");
            }
            for (i, &(k, _)) in entries.iter().enumerate() {
                let Some(key) = &keys[i] else { continue };
                if let Some(j) = keys[..i].iter().position(|f| f.as_deref() == Some(&**key)) {
                    found.push((k, entries[j].0));
                }
            }
        } else {
            let mut seen: HashMap<Cow<'_, str>, NodeId> = HashMap::with_capacity(entries.len());
            for &(k, _) in entries {
                let Some(key) = self.key_text(k).filter(|k| k != "<<") else { continue };
                match seen.get(&key) {
                    Some(&f) => found.push((k, f)),
                    None => {
                        seen.insert(key, k);
                    }
                }
            }
        }
        self.duplicate_keys.extend(found);
    }
}

/// Where a borrowed value sits in the source, when it is a plain slice of it.
fn source_slice(text: &str, value: &str) -> Option<Span> {
    let base = text.as_ptr() as usize;
    let ptr = value.as_ptr() as usize;
    (ptr >= base && ptr + value.len() <= base + text.len()).then(|| Span::new(ptr - base, ptr - base + value.len()))
}

fn scalar_value(value: &str, style: Style, tag: Option<&granit_parser::Tag>) -> Resolved {
    if let Some(tag) = tag
        && tag.is_yaml_core_schema()
    {
        return match tag.suffix() {
            "str" | "binary" | "timestamp" => Resolved::Str,
            "null" => Resolved::Null,
            "bool" | "int" | "float" => match resolve_plain(value) {
                Resolved::Str => Resolved::Str,
                r => r,
            },
            _ => Resolved::Str,
        };
    }
    if tag.is_some() || style != Style::Plain { Resolved::Str } else { resolve_plain(value) }
}

pub(super) fn helm_source_of(comment: &str) -> Option<Arc<str>> {
    let rest = comment.trim_start_matches('#').trim().strip_prefix("Source:")?;
    let path = rest.trim();
    (!path.is_empty()).then(|| shared_source(path))
}

/// A chart has a few templates and a stream repeats their paths: documents share one copy of
/// each recent path.
fn shared_source(path: &str) -> Arc<str> {
    thread_local! {
        static SOURCES: std::cell::RefCell<Vec<Arc<str>>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    SOURCES.with_borrow_mut(|list| crate::intern::recent(list, path, |s| s, |s| Arc::from(s)))
}

/// The number of parser events in `text`, with nothing built: the benchmark baseline.
pub fn count_events(text: &str) -> usize {
    let mut options = Options::default();
    options.flow_nesting_limit = MAX_DEPTH;
    options.block_nesting_limit = MAX_DEPTH;
    let mut parser = Parser::new_from_str_with_options(text, options);
    let mut n = 0;
    while let Some(event) = parser.next_event() {
        n += 1;
        if event.is_err() && !matches!(parser.proceed_next_document(), Ok(true)) {
            break;
        }
    }
    n
}

/// The nodes of every document of `text` read as manifests, on this thread: the benchmark
/// baseline of the YAML front end.
pub fn count_nodes(text: Arc<str>) -> usize {
    let stream = parse_range(&text, 0, 0, text.len(), Reading::Kubectl, Readers::BlockFirst, &|d| d.nodes.len());
    stream.documents.iter().sum()
}

/// Streams at least this large are cut at document markers and parsed in parallel.
const PARALLEL_FROM: usize = 2 << 20;
/// The size of the pieces a large stream is cut into.
const PIECE_SIZE: usize = 1 << 20;

/// Parses a whole stream. Never panics; documents after a broken one are still returned.
/// A large stream is parsed in pieces, each starting at a `---` line (a document marker at
/// the start of a line cannot be part of any document's content), and the pieces joined.
pub fn parse_stream(text: Arc<str>) -> Stream {
    parse_stream_map(text, 0, Reading::Lenient, &|doc| doc)
}

/// Which YAML a stream is read as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Manifests, as kubectl reads them: what go-yaml v2 refuses is a syntax error.
    Kubectl,
    /// Other YAML (configuration, kustomizations, Chart.yaml, YAML inside strings), read by
    /// other decoders: go-yaml's leniencies apply, its refusals do not.
    Lenient,
}

/// Like [`parse_stream`], but hands each document to `map` as soon as it is complete, on the
/// thread that parsed it, and keeps what `map` returns: a document's whole tree need not
/// outlive the work done on it. `text` starts at byte `origin` of its file (a piece of a
/// stream read in pieces); spans are file offsets.
pub fn parse_stream_map<T: Send>(
    text: Arc<str>,
    origin: usize,
    reading: Reading,
    map: &(dyn Fn(Document) -> T + Sync),
) -> Stream<T> {
    parse_with(text, origin, reading, Readers::BlockFirst, map)
}

/// [`parse_stream`] with granit-parser alone: the reference the block reader is checked
/// against (`tests/yaml_readers.rs`).
pub fn parse_stream_reference(text: Arc<str>, reading: Reading) -> Stream {
    parse_with(text, 0, reading, Readers::ParserOnly, &|doc| doc)
}

/// How many of the pieces kubectl cuts `text` into the block reader reads, of how many:
/// its share of a stream (the rest is read by the parser).
pub fn block_reader_share(text: &Arc<str>) -> (usize, usize) {
    let pieces = kubectl::pieces(text, 0, text.len());
    let read = pieces
        .iter()
        .filter(|p| super::block::read(text, 0, p.start, p.end, true, &Pending::default()).is_some())
        .count();
    (read, pieces.len())
}

/// Which readers read a piece.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Readers {
    /// The block reader, and the parser where it gives up.
    BlockFirst,
    ParserOnly,
}

fn parse_with<T: Send>(
    text: Arc<str>,
    origin: usize,
    reading: Reading,
    readers: Readers,
    map: &(dyn Fn(Document) -> T + Sync),
) -> Stream<T> {
    use rayon::prelude::*;
    // Small pieces: each is parsed and mapped in one go, so few whole trees exist at a time.
    let cuts = document_cuts(&text, (text.len() / PIECE_SIZE).max(rayon::current_num_threads() * 4));
    if cuts.len() <= 2 {
        return parse_range(&text, origin, 0, text.len(), reading, readers, map);
    }
    let pieces: Vec<Stream<T>> =
        cuts.par_windows(2).map(|w| parse_range(&text, origin, w[0], w[1], reading, readers, map)).collect();
    let mut out = Stream::default();
    for piece in pieces {
        out.documents.extend(piece.documents);
        out.errors.extend(piece.errors);
    }
    out
}

/// Offsets that cut `text` into about `pieces` parts at lines starting with `---`, with 0 and
/// the end included.
fn document_cuts(text: &str, pieces: usize) -> Vec<usize> {
    let mut cuts = vec![0];
    if text.len() >= PARALLEL_FROM && pieces > 1 {
        let step = text.len() / pieces;
        for i in 1..pieces {
            let from = (i * step).max(*cuts.last().unwrap_or(&0));
            let Some(at) = next_document_marker(text, from) else { break };
            if at > *cuts.last().unwrap_or(&0) {
                cuts.push(at);
            }
        }
    }
    cuts.push(text.len());
    cuts.dedup();
    cuts
}

fn next_document_marker(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = from;
    while let Some(pos) = text.get(i..)?.find("\n---") {
        let at = i + pos + 1;
        if is_cut_point(bytes, at, true) {
            return Some(at);
        }
        i = at;
    }
    None
}

/// The last offset in `bytes` where a stream can be cut into independent parts, after 0:
/// `bytes` may continue unless `complete`.
pub fn last_cut_point(bytes: &[u8], complete: bool) -> Option<usize> {
    let mut end = bytes.len();
    while let Some(newline) = bytes[..end].iter().rposition(|&b| b == b'\n') {
        if is_cut_point(bytes, newline + 1, complete) {
            return Some(newline + 1);
        }
        end = newline;
    }
    None
}

/// Whether a stream can be cut at `at` (the start of a line): a `---` document marker there
/// cannot be part of any document's content. Not after a comment or a directive, which
/// belong to the document that follows.
fn is_cut_point(bytes: &[u8], at: usize, complete: bool) -> bool {
    if !bytes[at..].starts_with(b"---") {
        return false;
    }
    let blank_after = match bytes.get(at + 3) {
        Some(b' ' | b'\t' | b'\n' | b'\r') => true,
        None => complete,
        _ => false,
    };
    let before = &bytes[..at.saturating_sub(1)];
    let previous_line = &before[before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)..];
    blank_after && at > 0 && !matches!(previous_line.first(), Some(b'#' | b'%'))
}

/// Parses `text[start..end]`, with spans in `text`'s offsets: each piece kubectl cuts the
/// stream into (at `---` lines), and of each piece its first document, as kubectl reads it.
fn parse_range<T>(
    text: &Arc<str>,
    origin: usize,
    start: usize,
    end: usize,
    reading: Reading,
    readers: Readers,
    map: &(dyn Fn(Document) -> T + Sync),
) -> Stream<T> {
    let full: &str = text;
    let mut out = Stream::default();
    let mut pending = Pending::default();
    let kubectl = reading == Reading::Kubectl;
    for piece in kubectl::pieces(full, start, end) {
        if let Some((at, message)) = kubectl::piece_refusal(full, piece).filter(|_| kubectl) {
            let at = origin + at;
            out.errors.push(SyntaxError { span: Span::new(at, (at + 1).min(origin + full.len())), message });
            pending = Pending::default();
            continue;
        }
        if readers == Readers::BlockFirst
            && let Some((document, next)) = super::block::read(text, origin, piece.start, piece.end, kubectl, &pending)
        {
            pending = next;
            out.documents.push(map(document));
            continue;
        }
        parse_piece(text, origin, piece, kubectl, map, &mut out, &mut pending);
    }
    out
}

/// A `# Source:` comment and other comments seen between documents belong to the next one.
#[derive(Default, Clone)]
pub(super) struct Pending {
    pub(super) source: Option<Arc<str>>,
    pub(super) comments: Vec<Span>,
}

/// How many constructs of one piece are rewritten for the parser before giving up.
const MAX_FIXES: usize = 256;

/// Parses the first document of one piece. Constructs go-yaml accepts and the parser refuses
/// are rewritten (`kubectl::fix_for`) and the piece parsed again, spans mapped back.
fn parse_piece<T>(
    text: &Arc<str>,
    origin: usize,
    piece: kubectl::Piece,
    kubectl: bool,
    map: &(dyn Fn(Document) -> T + Sync),
    out: &mut Stream<T>,
    pending: &mut Pending,
) {
    let full: &str = text;
    let mut cur: Cow<'_, str> = Cow::Borrowed(&full[piece.start..piece.end]);
    // For rewritten text: the offset in the piece of each byte of `cur`.
    let mut offsets: Option<Vec<u32>> = None;
    for _ in 0..MAX_FIXES {
        match read_first_document(text, origin, piece.start, &cur, offsets.as_deref(), kubectl, pending.clone()) {
            Read::Done { document, error, pending: next } => {
                *pending = next;
                if let Some(e) = error {
                    out.errors.push(e);
                }
                if let Some(doc) = document {
                    out.documents.push(map(*doc));
                }
                return;
            }
            Read::Fix(mut edits) => {
                edits.sort_by_key(|e| e.at);
                let old_offsets = offsets.take().unwrap_or_else(|| (0..=cur.len() as u32).collect());
                let mut text = String::with_capacity(cur.len() + 16);
                let mut new_offsets = Vec::with_capacity(old_offsets.len() + 16);
                let mut at = 0;
                for e in &edits {
                    if e.at < at || e.at + e.remove > cur.len() {
                        continue;
                    }
                    text.push_str(&cur[at..e.at]);
                    new_offsets.extend_from_slice(&old_offsets[at..e.at]);
                    text.push_str(&e.insert);
                    new_offsets.extend(std::iter::repeat_n(old_offsets[e.at], e.insert.len()));
                    at = e.at + e.remove;
                }
                text.push_str(&cur[at..]);
                new_offsets.extend_from_slice(&old_offsets[at..]);
                cur = Cow::Owned(text);
                offsets = Some(new_offsets);
            }
        }
    }
    let at = origin + piece.start;
    out.errors.push(SyntaxError {
        span: Span::new(at, at + 1),
        message: format!("more than {MAX_FIXES} constructs to read leniently in one document"),
    });
}

enum Read {
    Done { document: Option<Box<Document>>, error: Option<SyntaxError>, pending: Pending },
    Fix(Vec<kubectl::Edit>),
}

/// Reads the first document of `cur` (a piece starting at `piece_start` of `text`, perhaps
/// rewritten: `offsets` maps its bytes back).
fn read_first_document(
    text: &Arc<str>,
    origin: usize,
    piece_start: usize,
    cur: &str,
    offsets: Option<&[u32]>,
    kubectl: bool,
    mut pending: Pending,
) -> Read {
    let full: &str = text;
    let file_end = origin + full.len();
    let pos = |i: usize| -> usize {
        let i = i.min(cur.len());
        origin + piece_start + offsets.map_or(i, |m| m[i] as usize)
    };
    let cur_range = |span: &granit_parser::Span| match span.byte_range() {
        Some(r) => (r.start.min(cur.len()), r.end.min(cur.len())),
        None => (cur.len(), cur.len()),
    };
    let to_span = |(s, e): (usize, usize)| Span::new(pos(s), pos(e).max(pos(s)));
    let error_at = |at: usize, message: String, pending: Pending| {
        let at = pos(at);
        Read::Done {
            document: None,
            error: Some(SyntaxError { span: Span::new(at, (at + 1).min(file_end).max(at)), message }),
            pending,
        }
    };
    let mut options = Options::default();
    options.flow_nesting_limit = MAX_DEPTH;
    options.block_nesting_limit = MAX_DEPTH;
    options.emit_anchor_events = true;
    let mut parser = Parser::new_from_str_with_options(cur, options);
    let mut doc: Option<Builder> = None;
    let mut last_event_end = 0;
    // Where go-yaml does not look for tabs in the indentation (cur offsets): quoted and
    // multi-line plain scalars, flow collections; block scalar bodies have their own rule.
    let mut exempt: Vec<(usize, usize)> = Vec::new();
    let mut blocks: Vec<(usize, usize)> = Vec::new();
    let mut flow_open: Vec<usize> = Vec::new();
    let mut plains: Vec<(usize, usize)> = Vec::new();
    // A piece that is JSON is read as JSON by kubectl: go-yaml's strictness does not apply.
    let strict = kubectl && !is_json(cur);

    // Ends the piece with its document (go-yaml reads nothing after it), after the tab check.
    let finish = |b: Builder, end: usize, scan_end: usize, seen: Seen<'_>, pending: Pending| {
        if let Some((at, message)) =
            kubectl::tab_refusals(cur, 0, scan_end.min(cur.len()), seen.exempt, seen.blocks, seen.plains)
                .filter(|_| strict)
        {
            return error_at(at, message.into(), pending);
        }
        Read::Done { document: Some(Box::new(b.finish(end))), error: None, pending }
    };

    loop {
        let event = match parser.next_event() {
            None => break,
            Some(Ok(ev)) => ev,
            Some(Err(err)) => {
                let at = err.marker().byte_offset().unwrap_or(cur.len()).min(cur.len());
                if let Some(mut b) = doc.take() {
                    // go-yaml reads nothing after `...`: close what is open before it.
                    if b.root.is_none() && after_document_end(cur, at) && b.stack.iter().all(|f| !f.flow()) {
                        while !b.stack.is_empty() {
                            let end = pos(at);
                            if let Err(error) = b.end_collection(Span::new(end, end), strict) {
                                return Read::Done { document: None, error: Some(error), pending: Pending::default() };
                            }
                        }
                    }
                    if let Some(root) = b.root.filter(|_| b.stack.is_empty() && !err.info().contains("mapping values"))
                    {
                        // go-yaml stops after the first document: what follows is not read.
                        let end = b.nodes[root.0 as usize].span.end as usize;
                        return finish(b, end, at, Seen { exempt: &exempt, blocks: &blocks, plains: &plains }, pending);
                    }
                    doc = Some(b);
                }
                let cx = kubectl::Context {
                    last_event_end,
                    in_flow: doc.as_ref().is_some_and(|b| b.stack.iter().any(Frame::flow))
                        || flow_context_before(cur, at),
                };
                if let Some(edits) = kubectl::fix_for(&err.info(), cur, at, &cx) {
                    return Read::Fix(edits);
                }
                return error_at(at, err.info(), Pending::default());
            }
        };
        let (event, span) = event;
        let range = cur_range(&span);
        let sp = to_span(range);
        if matches!(event, Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..) | Event::Alias(..))
            && let Some(b) = doc.as_ref()
            && let Some(Frame::Seq { flow: false, .. }) = b.stack.last()
            && strict
            && let Some(at) = tab_after_dash(cur, range.0)
        {
            return error_at(
                at,
                "kubectl refuses a tab after `-`: go-yaml allows only spaces there (found character that cannot start any token)".into(),
                Pending::default(),
            );
        }
        match event {
            Event::StreamStart | Event::StreamEnd => {}
            Event::DocumentStart(..) => {
                if doc.is_some() {
                    break;
                }
                let mut b = Builder::new(text.clone(), origin, sp.start as usize);
                b.helm_source = pending.source.take();
                b.comments = std::mem::take(&mut pending.comments);
                doc = Some(b);
            }
            Event::DocumentEnd => {
                if let Some(b) = doc.take() {
                    let end = b
                        .root
                        .map_or(sp.end as usize, |r| b.nodes[r.0 as usize].span.end as usize)
                        .max(sp.end as usize);
                    // After an explicit `...` go-yaml reads nothing more.
                    let scan_end = if range.1 > range.0 { range.0 } else { cur.len() };
                    return finish(
                        b,
                        end,
                        scan_end,
                        Seen { exempt: &exempt, blocks: &blocks, plains: &plains },
                        pending,
                    );
                }
            }
            Event::Comment(comment, _) => {
                let source = helm_source_of(&comment);
                match doc.as_mut() {
                    Some(b) if b.root.is_none() || !b.stack.is_empty() => {
                        b.comments.push(sp);
                        if b.helm_source.is_none() && b.root.is_none() && b.stack.is_empty() {
                            b.helm_source = source;
                        }
                    }
                    Some(b) if source.is_none() => b.comments.push(sp),
                    _ => {
                        pending.comments.push(sp);
                        if source.is_some() {
                            pending.source = source;
                        }
                    }
                }
            }
            Event::Anchor(_, name) if strict && !kubectl::anchor_name_ok(&name) => {
                return error_at(
                    range.0,
                    format!(
                        "kubectl refuses the anchor `&{name}`: go-yaml reads only letters, digits, `_` and `-` in an anchor name"
                    ),
                    Pending::default(),
                );
            }
            Event::Scalar(value, style, anchor, tag) => {
                let Some(b) = doc.as_mut() else { continue };
                let in_flow = !flow_open.is_empty();
                if strict && let Some(refusal) = scalar_refusal(&value, style, in_flow, &cur[range.0..range.1]) {
                    return error_at(range.0, refusal.into(), Pending::default());
                }
                match style {
                    ScalarStyle::Literal | ScalarStyle::Folded => {
                        blocks.push((block_body_start(cur, range.0), range.1));
                    }
                    _ if flow_open.is_empty() && cur[range.0..range.1].contains('\n') => exempt.push(range),
                    _ => {}
                }
                if style == ScalarStyle::Plain && flow_open.is_empty() {
                    plains.push(range);
                }
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Style::Quoted,
                    _ => Style::Block,
                };
                let resolved = scalar_value(&value, style, tag.as_deref());
                let node = Node::scalar(sp, style, resolved, None);
                // The text is read back from the source under the span when it is there.
                let in_source = match &value {
                    Cow::Borrowed(v) => source_slice(full, v).is_some_and(|at| {
                        Span::new(origin + at.start as usize, origin + at.end as usize) == node.text_span()
                    }),
                    Cow::Owned(_) => false,
                };
                let node = if in_source {
                    node
                } else {
                    let owned = b.owned.push(&value);
                    Node::scalar(sp, style, resolved, Some(owned))
                };
                b.push(node, anchor);
            }
            Event::SequenceStart(st, anchor, _) => {
                let Some(b) = doc.as_mut() else { continue };
                let flow = st == granit_parser::StructureStyle::Flow;
                if flow {
                    flow_open.push(range.0);
                }
                let first = b.scratch_items.len();
                b.stack.push(Frame::Seq { start: sp.start as usize, anchor, flow, first });
            }
            Event::MappingStart(st, anchor, _) => {
                let Some(b) = doc.as_mut() else { continue };
                let flow = st == granit_parser::StructureStyle::Flow;
                if flow {
                    flow_open.push(range.0);
                }
                let first = b.scratch_pairs.len();
                b.stack.push(Frame::Map { start: sp.start as usize, anchor, flow, first, key: None });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(b) = doc.as_mut() else { continue };
                let Some(flow) = b.stack.last().map(Frame::flow) else { continue };
                if let Err(error) = b.end_collection(sp, strict) {
                    return Read::Done { document: None, error: Some(error), pending: Pending::default() };
                }
                if flow
                    && let Some(open) = flow_open.pop()
                    && flow_open.is_empty()
                {
                    exempt.push((open, range.1));
                }
            }
            Event::Alias(anchor) => {
                let Some(b) = doc.as_mut() else { continue };
                let name = cur[range.0..range.1].trim_start_matches('*');
                if !kubectl::anchor_name_ok(name) && strict {
                    return error_at(
                        range.0,
                        format!(
                            "kubectl refuses the alias `*{name}`: go-yaml reads only letters, digits, `_` and `-` in an anchor name"
                        ),
                        Pending::default(),
                    );
                }
                match b.anchors.get(&anchor).copied() {
                    Some(target) => {
                        b.push(Node::alias(sp, target), 0);
                    }
                    None => {
                        return error_at(
                            range.0,
                            "alias refers to an anchor on a node that encloses it (a recursive alias)".into(),
                            Pending::default(),
                        );
                    }
                }
            }
            _ => {}
        }
        last_event_end = range.1.max(last_event_end);
    }
    match doc {
        Some(b) if b.root.is_some() && b.stack.is_empty() => {
            let end = b.root.map_or(0, |r| b.nodes[r.0 as usize].span.end as usize);
            finish(b, end, cur.len(), Seen { exempt: &exempt, blocks: &blocks, plains: &plains }, pending)
        }
        _ => Read::Done { document: None, error: None, pending },
    }
}

/// What the tab check needs to know of a document (offsets in the piece's text).
struct Seen<'a> {
    exempt: &'a [(usize, usize)],
    blocks: &'a [(usize, usize)],
    plains: &'a [(usize, usize)],
}

/// Whether the piece is JSON (kubectl tries JSON first for text starting with `{`).
fn is_json(cur: &str) -> bool {
    let body = cur.strip_prefix("---").map_or(cur, |rest| rest.split_once('\n').map_or("", |(_, b)| b));
    body.trim_start().starts_with('{') && serde_json::from_str::<serde::de::IgnoredAny>(body).is_ok()
}

/// Whether `at` is on or after a `...` line (a document end marker).
fn after_document_end(cur: &str, at: usize) -> bool {
    let at = at.min(cur.len());
    cur[..at]
        .split_inclusive('\n')
        .chain(std::iter::once(&cur[line_start(cur, at)..at]))
        .any(|l| l.starts_with("...") && matches!(l.as_bytes().get(3), None | Some(b' ' | b'\t' | b'\n' | b'\r')))
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1)
}

/// Whether the last non-blank character before `at` opens or continues a flow collection.
fn flow_context_before(cur: &str, at: usize) -> bool {
    cur[..at.min(cur.len())].trim_end().ends_with(['[', '{', ','])
}

/// Where a block scalar's body starts: after its header line (the scalar's span starts at its
/// first content).
fn block_body_start(cur: &str, content: usize) -> usize {
    let mut line = line_start(cur, content);
    while line > 0 {
        let previous = line_start(cur, line - 1);
        if !cur[previous..line].trim().is_empty() {
            return line;
        }
        line = previous;
    }
    line
}

/// Where a tab sits between a block sequence's `-` and its item on the same line.
fn tab_after_dash(cur: &str, item: usize) -> Option<usize> {
    let bytes = cur.as_bytes();
    let mut i = item.min(bytes.len());
    let mut tab = None;
    while i > 0 && matches!(bytes[i - 1], b' ' | b'\t') {
        if bytes[i - 1] == b'\t' {
            tab = Some(i - 1);
        }
        i -= 1;
    }
    (i > 0 && bytes[i - 1] == b'-').then_some(tab).flatten()
}

/// What go-yaml refuses in a scalar the parser accepts. `source` is the scalar's text in
/// the source, with its quotes.
fn scalar_refusal(value: &str, style: ScalarStyle, in_flow: bool, source: &str) -> Option<&'static str> {
    match style {
        ScalarStyle::Plain => {
            if value.contains(['\u{2028}', '\u{2029}', '\u{85}']) {
                return Some(
                    "kubectl refuses U+2028, U+2029 or NEL (U+0085) inside an unquoted scalar: go-yaml reads them as line breaks; quote the scalar",
                );
            }
            if in_flow && (value.starts_with(':') || value.get(1..).is_some_and(|v| v.contains('?'))) {
                return Some(
                    "kubectl refuses `?` in, or `:` at the start of, an unquoted scalar inside `[]` or `{}`: go-yaml reads them as indicators there; quote the scalar",
                );
            }
            None
        }
        ScalarStyle::DoubleQuoted if source.contains("\\/") && kubectl::unknown_escape(source).is_some() => Some(
            "kubectl refuses the escape `\\/`: go-yaml does not know it (found unknown escape character); write `/`",
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Stream {
        parse_stream(Arc::from(s))
    }

    #[test]
    fn keeps_spans_of_keys_and_values() {
        let s = parse("a:\n  b: café-svc\n  c: 'x'\n");
        let doc = &s.documents[0];
        let root = doc.root().unwrap();
        let (k, v) = root.get("a").unwrap().entry("b").unwrap();
        assert_eq!(&doc.text[k.span().start as usize..k.span().end as usize], "b");
        assert_eq!(&doc.text[v.span().start as usize..v.span().end as usize], "café-svc");
        assert_eq!(root.path(&["a", "c"]).unwrap().as_str(), Some("x"));
    }

    #[test]
    fn a_broken_document_does_not_hide_the_next() {
        let s = parse("a: 1\n---\nb: [1, 2\n---\nc: 3\n");
        assert_eq!(s.errors.len(), 1);
        let keys: Vec<_> = s
            .documents
            .iter()
            .filter_map(|d| d.root())
            .flat_map(|r| r.entries().map(|(k, _)| k.text().unwrap().to_string()).collect::<Vec<_>>())
            .collect();
        assert_eq!(keys, ["a", "c"]);
    }

    #[test]
    fn helm_source_comment_is_kept() {
        let s = parse(
            "---\n# Source: chart/templates/svc.yaml\napiVersion: v1\n---\n# Source: chart/templates/ro.yaml\nkind: Rollout\n",
        );
        let sources: Vec<_> = s.documents.iter().map(|d| d.helm_source.clone()).collect();
        assert_eq!(sources, [Some("chart/templates/svc.yaml".into()), Some("chart/templates/ro.yaml".into())]);
    }

    #[test]
    fn duplicate_keys_and_merges() {
        let s = parse("base: &b {x: 1}\nm:\n  <<: *b\n  port: 2\n  port: 3\n");
        let doc = &s.documents[0];
        assert_eq!(doc.duplicate_keys.len(), 1);
        let m = doc.root().unwrap().get("m").unwrap();
        assert_eq!(m.get("x").unwrap().as_i64(), Some(1));
        assert_eq!(m.get("port").unwrap().as_i64(), Some(3));
        // YAML 1.1: a plain `y` key is the boolean true, as Kubernetes reads it.
        let s = parse("y: 1\n");
        assert!(s.documents[0].root().unwrap().get("true").is_some());
    }

    #[test]
    fn duplicate_keys_as_written_and_as_resolved() {
        let count = |text: &str| parse(text).documents[0].duplicate_keys.len();
        // Keys read as their text: plain and quoted spellings of one string are one key.
        assert_eq!(count("a: 1\n\"a\": 2\nb: 3\n'b': 4\nc: 5\n"), 2);
        assert_eq!(count("a: 1\nab: 2\nb: 3\n"), 0);
        assert_eq!(count("\"<<\": 1\n'<<': 2\n"), 0);
        // Keys resolved first: `y` and `true` are the boolean true, `0x1` and `1` the number 1.
        assert_eq!(count("y: 1\ntrue: 2\n"), 1);
        assert_eq!(count("0x1: a\n1: b\nx: c\n"), 1);
        assert_eq!(count("1: a\n\"1\": b\n"), 1);
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let s = parse(&"[".repeat(100_000));
        assert!(!s.errors.is_empty());
        let s = parse(&"- ".repeat(20_000));
        assert!(!s.errors.is_empty());
    }

    #[test]
    fn alias_bomb_is_cheap() {
        let mut y = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            y.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 9].join(", ")));
        }
        let s = parse(&y);
        assert!(s.errors.is_empty());
        assert!(s.documents[0].nodes.len() < 200);
    }
}

#[cfg(test)]
mod chunk_tests {
    use super::*;

    /// A stream parsed in parallel pieces gives the same documents, spans and errors as one
    /// sequential parse.
    #[test]
    fn pieces_match_a_sequential_parse() {
        let mut text = String::new();
        for i in 0..40_000 {
            text.push_str(&format!("---\n# Source: chart/templates/t{i}.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\ndata:\n  k: |\n    --- not a marker\n    v{i}\n"));
            if i % 9_999 == 0 {
                text.push_str("bad: [unclosed\n");
            }
        }
        let text: Arc<str> = Arc::from(text);
        assert!(document_cuts(&text, 8).len() > 2);
        let whole = parse_range(&text, 0, 0, text.len(), Reading::Lenient, Readers::ParserOnly, &|d| d);
        let pieces = parse_stream(text.clone());
        assert_eq!(whole.documents.len(), pieces.documents.len());
        assert_eq!(
            whole.errors.iter().map(|e| e.span).collect::<Vec<_>>(),
            pieces.errors.iter().map(|e| e.span).collect::<Vec<_>>()
        );
        for (a, b) in whole.documents.iter().zip(&pieces.documents) {
            assert_eq!(a.span, b.span);
            assert_eq!(a.helm_source, b.helm_source);
            assert_eq!(a.nodes.len(), b.nodes.len());
            assert_eq!(a.nodes.last().map(|n| n.span), b.nodes.last().map(|n| n.span));
        }
    }
}
