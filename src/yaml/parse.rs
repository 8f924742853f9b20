//! Events from granit-parser to [`Document`] trees, one per document of the stream.
//! A syntax error drops only its own document: parsing resumes at the next `---`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use granit_parser::{Event, Options, Parser, ScalarStyle};

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
enum Frame {
    Seq { start: usize, anchor: usize, flow: bool, first: usize },
    Map { start: usize, anchor: usize, flow: bool, first: usize, key: Option<NodeId> },
}

struct Builder {
    text: Arc<str>,
    /// Where `text` starts in the file: spans are file offsets.
    origin: usize,
    nodes: Vec<Node>,
    owned: Texts,
    items: Vec<NodeId>,
    pairs: Vec<(NodeId, NodeId)>,
    scratch_items: Vec<NodeId>,
    scratch_pairs: Vec<(NodeId, NodeId)>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, NodeId>,
    root: Option<NodeId>,
    start: usize,
    helm_source: Option<Arc<str>>,
    comments: Vec<Span>,
    duplicate_keys: Vec<(NodeId, NodeId)>,
}

impl Builder {
    fn new(text: Arc<str>, origin: usize, start: usize) -> Builder {
        Builder {
            text,
            origin,
            nodes: Vec::new(),
            owned: Texts::default(),
            items: Vec::new(),
            pairs: Vec::new(),
            scratch_items: Vec::new(),
            scratch_pairs: Vec::new(),
            stack: Vec::new(),
            anchors: HashMap::new(),
            root: None,
            start,
            helm_source: None,
            comments: Vec::new(),
            duplicate_keys: Vec::new(),
        }
    }

    fn push(&mut self, node: Node, anchor: usize) -> NodeId {
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

    /// YAML forbids flow content on a later line at or left of the enclosing block's
    /// indentation (`key: [a,\nb]` with `b` in column 0). Returns the offending offset.
    fn misindented_flow(&self, at: usize) -> Option<usize> {
        let outer_flow = self
            .stack
            .iter()
            .position(|f| matches!(f, Frame::Seq { flow: true, .. } | Frame::Map { flow: true, .. }))?;
        let flow_start = match &self.stack[outer_flow] {
            Frame::Seq { start, .. } | Frame::Map { start, .. } => *start,
        };
        let text: &str = &self.text;
        let origin = self.origin;
        let line_start =
            |o: usize| origin + text[..o.saturating_sub(origin).min(text.len())].rfind('\n').map_or(0, |i| i + 1);
        if line_start(at) == line_start(flow_start) {
            return None;
        }
        let indent = match self.stack[..outer_flow].last() {
            Some(Frame::Seq { start, .. } | Frame::Map { start, .. }) => start - line_start(*start),
            None => return None,
        };
        (at - line_start(at) <= indent).then_some(at)
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

    fn finish(mut self, end: usize) -> Document {
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
        let node = &self.nodes[id.0 as usize];
        let text = node.text_from(&self.text, self.origin as u32, &self.owned)?;
        let super::tree::NodeKind::Scalar(s) = node.kind_of(text) else { return None };
        Some(match (s.style, super::resolve::key_string(text, s.value)) {
            (Style::Plain, Some(k)) => Cow::Owned(k),
            _ => Cow::Borrowed(text),
        })
    }

    /// Records repeated keys of the mapping whose entries are `pairs[first..]`. Small mappings
    /// (nearly all) compare pairwise without allocating.
    fn record_duplicates(&mut self, first: usize) {
        let entries = &self.pairs[first..];
        let mut found = Vec::new();
        if entries.len() <= 16 {
            for (i, &(k, _)) in entries.iter().enumerate() {
                let Some(key) = self.key_text(k).filter(|k| k != "<<") else { continue };
                if let Some(&(f, _)) = entries[..i].iter().find(|(f, _)| self.key_text(*f).as_deref() == Some(&*key)) {
                    found.push((k, f));
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

fn byte_span(text: &str, span: &granit_parser::Span, base: usize) -> Span {
    match span.byte_range() {
        Some(r) => Span::new(base + r.start.min(text.len()), base + r.end.min(text.len())),
        None => Span::new(base + text.len(), base + text.len()),
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

fn helm_source_of(comment: &str) -> Option<Arc<str>> {
    let rest = comment.trim_start_matches('#').trim().strip_prefix("Source:")?;
    let path = rest.trim();
    (!path.is_empty()).then(|| Arc::from(path))
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

/// Streams at least this large are cut at document markers and parsed in parallel.
const PARALLEL_FROM: usize = 2 << 20;
/// The size of the pieces a large stream is cut into.
const PIECE_SIZE: usize = 1 << 20;

/// Parses a whole stream. Never panics; documents after a broken one are still returned.
/// A large stream is parsed in pieces, each starting at a `---` line (a document marker at
/// the start of a line cannot be part of any document's content), and the pieces joined.
pub fn parse_stream(text: Arc<str>) -> Stream {
    parse_stream_map(text, 0, &|doc| doc)
}

/// Like [`parse_stream`], but hands each document to `map` as soon as it is complete, on the
/// thread that parsed it, and keeps what `map` returns: a document's whole tree need not
/// outlive the work done on it. `text` starts at byte `origin` of its file (a piece of a
/// stream read in pieces); spans are file offsets.
pub fn parse_stream_map<T: Send>(text: Arc<str>, origin: usize, map: &(dyn Fn(Document) -> T + Sync)) -> Stream<T> {
    use rayon::prelude::*;
    // Small pieces: each is parsed and mapped in one go, so few whole trees exist at a time.
    let cuts = document_cuts(&text, (text.len() / PIECE_SIZE).max(rayon::current_num_threads() * 4));
    if cuts.len() <= 2 {
        return parse_range(&text, origin, 0, text.len(), map);
    }
    let pieces: Vec<Stream<T>> = cuts.par_windows(2).map(|w| parse_range(&text, origin, w[0], w[1], map)).collect();
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

/// Parses `text[start..end]`, with spans in `text`'s offsets.
fn parse_range<T>(
    text: &Arc<str>,
    origin: usize,
    start: usize,
    end: usize,
    map: &(dyn Fn(Document) -> T + Sync),
) -> Stream<T> {
    let full: &str = text;
    let src: &str = &full[start..end];
    let base = origin + start;
    let mut options = Options::default();
    options.flow_nesting_limit = MAX_DEPTH;
    options.block_nesting_limit = MAX_DEPTH;
    let mut parser = Parser::new_from_str_with_options(src, options);
    let mut out = Stream::default();
    let mut doc: Option<Builder> = None;
    // A `# Source:` comment seen between documents belongs to the next one.
    let mut pending_source: Option<Arc<str>> = None;
    let mut pending_comments: Vec<Span> = Vec::new();
    let mut last_error_at: Option<u32> = None;

    loop {
        let event = match parser.next_event() {
            None => break,
            Some(Ok(ev)) => ev,
            Some(Err(err)) => {
                let at = base + err.marker().byte_offset().unwrap_or(src.len()).min(src.len());
                let span = Span::new(at, (at + 1).min(base + src.len()).max(at));
                if last_error_at.is_some_and(|prev| prev >= span.start) {
                    break;
                }
                last_error_at = Some(span.start);
                out.errors.push(SyntaxError { span, message: err.info() });
                doc = None;
                pending_source = None;
                match parser.proceed_next_document() {
                    Ok(true) => continue,
                    _ => break,
                }
            }
        };
        let (event, span) = event;
        let sp = byte_span(src, &span, base);
        if matches!(event, Event::Scalar(..) | Event::SequenceStart(..) | Event::MappingStart(..) | Event::Alias(..))
            && let Some(at) = doc.as_ref().and_then(|b| b.misindented_flow(sp.start as usize))
        {
            out.errors.push(SyntaxError {
                span: Span::new(at, (at + 1).min(origin + full.len())),
                message: "flow collection content must be indented more than the line that opens it".into(),
            });
            doc = None;
            pending_source = None;
            match parser.proceed_next_document() {
                Ok(true) => continue,
                _ => break,
            }
        }
        match event {
            Event::StreamStart | Event::StreamEnd => {}
            Event::DocumentStart(..) => {
                let mut b = Builder::new(text.clone(), origin, sp.start as usize);
                b.helm_source = pending_source.take();
                b.comments = std::mem::take(&mut pending_comments);
                doc = Some(b);
            }
            Event::DocumentEnd => {
                if let Some(b) = doc.take() {
                    let end = b
                        .root
                        .map_or(sp.end as usize, |r| b.nodes[r.0 as usize].span.end as usize)
                        .max(sp.end as usize);
                    out.documents.push(map(b.finish(end)));
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
                        pending_comments.push(sp);
                        if source.is_some() {
                            pending_source = source;
                        }
                    }
                }
            }
            Event::Scalar(value, style, anchor, tag) => {
                let Some(b) = doc.as_mut() else { continue };
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
                let first = b.scratch_items.len();
                b.stack.push(Frame::Seq { start: sp.start as usize, anchor, flow, first });
            }
            Event::MappingStart(st, anchor, _) => {
                let Some(b) = doc.as_mut() else { continue };
                let flow = st == granit_parser::StructureStyle::Flow;
                let first = b.scratch_pairs.len();
                b.stack.push(Frame::Map { start: sp.start as usize, anchor, flow, first, key: None });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(b) = doc.as_mut() else { continue };
                let Some(frame) = b.stack.pop() else { continue };
                let (map, children, start, anchor, flow, last) = match frame {
                    Frame::Seq { start, anchor, flow, first } => {
                        let children =
                            Children { start: b.items.len() as u32, len: (b.scratch_items.len() - first) as u32 };
                        let last = b.scratch_items.last().copied().filter(|_| children.len > 0);
                        let Builder { items, scratch_items, .. } = &mut *b;
                        items.extend(scratch_items.drain(first..));
                        (false, children, start, anchor, flow, last)
                    }
                    Frame::Map { start, anchor, flow, first, .. } => {
                        let children =
                            Children { start: b.pairs.len() as u32, len: (b.scratch_pairs.len() - first) as u32 };
                        let last = b.scratch_pairs.last().map(|e| e.1).filter(|_| children.len > 0);
                        let Builder { pairs, scratch_pairs, .. } = &mut *b;
                        pairs.extend(scratch_pairs.drain(first..));
                        b.record_duplicates(children.start as usize);
                        (true, children, start, anchor, flow, last)
                    }
                };
                let span = b.end_span(start, flow, sp, last);
                if children.len > MAX_CHILDREN {
                    out.errors.push(SyntaxError {
                        span: Span::new(start, start + 1),
                        message: format!("a collection with more than {MAX_CHILDREN} entries"),
                    });
                    doc = None;
                    match parser.proceed_next_document() {
                        Ok(true) => continue,
                        _ => break,
                    }
                }
                b.push(Node::collection(span, map, children), anchor);
            }
            Event::Alias(anchor) => {
                let Some(b) = doc.as_mut() else { continue };
                match b.anchors.get(&anchor).copied() {
                    Some(target) => {
                        b.push(Node::alias(sp, target), 0);
                    }
                    None => {
                        out.errors.push(SyntaxError {
                            span: sp,
                            message: "alias refers to an anchor on a node that encloses it (a recursive alias)".into(),
                        });
                        doc = None;
                        match parser.proceed_next_document() {
                            Ok(true) => continue,
                            _ => break,
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out
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
        let whole = parse_range(&text, 0, 0, text.len(), &|d| d);
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
