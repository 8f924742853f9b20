//! The span-preserving document tree. Nodes live in one arena per document; aliases stay
//! references (never expanded), so an alias bomb costs one node per alias.

use std::sync::Arc;

use super::resolve::{Resolved, key_string};
use crate::source::Span;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NodeId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

/// A scalar's style and the value Kubernetes reads from it.
#[derive(Clone, Copy, Debug)]
pub struct Scalar {
    pub style: Style,
    pub value: Resolved,
}

/// A run of children in the document's shared `items` or `pairs` array (one allocation per
/// document, not per collection).
#[derive(Clone, Copy, Debug)]
pub struct Children {
    pub start: u32,
    pub len: u32,
}

#[derive(Clone, Copy, Debug)]
pub enum NodeKind {
    Scalar(Scalar),
    /// Items in `Document::items`.
    Seq(Children),
    /// Entries in `Document::pairs`, in source order; duplicate keys are kept.
    Map(Children),
    Alias(NodeId),
}

/// A node in 16 bytes: its span, what it is (`meta`), and one index (`a`): the first child,
/// the owned text, or the alias target. A scalar's value is read from its text when asked for,
/// and its text is the source under its span (inside the quotes) unless escapes or folding
/// made it differ, in which case it is in `Document::owned`.
#[derive(Clone, Copy, Debug)]
pub struct Node {
    pub span: Span,
    meta: u32,
    a: u32,
}

const KIND_MASK: u32 = 0b11;
const KIND_SCALAR: u32 = 0;
const KIND_SEQ: u32 = 1;
const KIND_MAP: u32 = 2;
const KIND_ALIAS: u32 = 3;
const STYLE_SHIFT: u32 = 2;
const VALUE_SHIFT: u32 = 4;
/// The value code of an integer kept in the node's index (a scalar whose text is the source).
const VALUE_SMALL_INT: u32 = 6;
const OWNED_BIT: u32 = 1 << 7;
/// On an owned scalar: its text is the source under its span (a copy kept by [`Document::retain`]).
const VERBATIM_BIT: u32 = 1 << 8;
/// On an owned scalar: its text is `Texts::shared[a]`, not in the document's buffer.
const SHARED_BIT: u32 = 1 << 9;
/// An owned scalar's text is `Texts::buf[a..a + length]`, the length in the meta's top bits
/// (or, if it does not fit, in `Texts::long`).
const TEXT_LEN_SHIFT: u32 = 10;
const TEXT_LEN_MAX: u32 = (1 << 22) - 1;
const LEN_SHIFT: u32 = 8;
/// The most children one collection can have (24 bits).
pub const MAX_CHILDREN: u32 = (1 << 24) - 1;

fn style_code(s: Style) -> u32 {
    match s {
        Style::Plain => 0,
        Style::Quoted => 1,
        Style::Block => 2,
    }
}

fn value_code(v: Resolved) -> u32 {
    match v {
        Resolved::Null => 0,
        Resolved::Bool(false) => 1,
        Resolved::Bool(true) => 2,
        Resolved::Int(_) => 3,
        Resolved::Float(_) => 4,
        Resolved::Str => 5,
    }
}

impl Node {
    /// `owned`: where the scalar's text is in `Document::owned`, when it is not the source.
    pub fn scalar(span: Span, style: Style, value: Resolved, owned: Option<Owned>) -> Node {
        let mut meta = KIND_SCALAR | style_code(style) << STYLE_SHIFT | value_code(value) << VALUE_SHIFT;
        let mut a = 0;
        if let Some(owned) = owned {
            meta |= OWNED_BIT | owned.bits;
            a = owned.a;
        } else if let Resolved::Int(i) = value
            && let Ok(small) = i32::try_from(i)
        {
            // The text is the source's: the free index holds the number, not read again.
            meta = (meta & !(0b111 << VALUE_SHIFT)) | VALUE_SMALL_INT << VALUE_SHIFT;
            a = small as u32;
        }
        Node { span, meta, a }
    }

    /// A sequence or mapping; `children.len` must not exceed [`MAX_CHILDREN`].
    pub fn collection(span: Span, map: bool, children: Children) -> Node {
        let kind = if map { KIND_MAP } else { KIND_SEQ };
        Node { span, meta: kind | children.len.min(MAX_CHILDREN) << LEN_SHIFT, a: children.start }
    }

    pub fn alias(span: Span, target: NodeId) -> Node {
        Node { span, meta: KIND_ALIAS, a: target.0 }
    }

    fn style(&self) -> Style {
        match (self.meta >> STYLE_SHIFT) & 0b11 {
            0 => Style::Plain,
            1 => Style::Quoted,
            _ => Style::Block,
        }
    }

    pub fn kind_of(&self, text: &str) -> NodeKind {
        match self.meta & KIND_MASK {
            KIND_SEQ | KIND_MAP => {
                let children = Children { start: self.a, len: self.meta >> LEN_SHIFT };
                if self.meta & KIND_MASK == KIND_MAP { NodeKind::Map(children) } else { NodeKind::Seq(children) }
            }
            KIND_ALIAS => NodeKind::Alias(NodeId(self.a)),
            _ => {
                let value = match (self.meta >> VALUE_SHIFT) & 0b111 {
                    VALUE_SMALL_INT => Resolved::Int(i64::from(self.a as i32)),
                    0 => Resolved::Null,
                    1 => Resolved::Bool(false),
                    2 => Resolved::Bool(true),
                    5 => Resolved::Str,
                    // Numbers are read again from the text, as they were first.
                    _ => match super::resolve::resolve_plain(text) {
                        n @ (Resolved::Int(_) | Resolved::Float(_)) => n,
                        _ => Resolved::Str,
                    },
                };
                NodeKind::Scalar(Scalar { style: self.style(), value })
            }
        }
    }

    fn is_scalar(&self) -> bool {
        self.meta & KIND_MASK == KIND_SCALAR
    }

    /// Whether a key is read as its text: a quoted scalar, or a plain one that is a string.
    fn is_text_key(&self) -> bool {
        self.is_scalar() && (self.style() != Style::Plain || (self.meta >> VALUE_SHIFT) & 0b111 == 5)
    }

    /// The key as `YAMLToJSON` prints it (numbers and booleans stringified), given the source
    /// and owned texts (see [`Node::text_from`]).
    pub(super) fn key_text_from<'t>(
        &self,
        source: &'t str,
        origin: u32,
        owned: &'t Texts,
    ) -> Option<std::borrow::Cow<'t, str>> {
        let text = self.text_from(source, origin, owned)?;
        // Most keys are read as their text: nothing to decode or build.
        if self.is_text_key() {
            return Some(text.into());
        }
        let NodeKind::Scalar(s) = self.kind_of(text) else { return None };
        Some(match (s.style, key_string(text, s.value)) {
            (Style::Plain, Some(k)) => k.into(),
            _ => text.into(),
        })
    }

    /// The source span holding a scalar's text when it is not owned.
    pub fn text_span(&self) -> Span {
        match self.style() {
            Style::Quoted if self.span.len() >= 2 => Span { start: self.span.start + 1, end: self.span.end - 1 },
            _ => self.span,
        }
    }

    /// A scalar's text, given the document's source and owned texts.
    pub fn text_in<'t>(&self, doc: &'t Document) -> Option<&'t str> {
        self.text_from(&doc.text, doc.origin, &doc.owned)
    }

    /// A scalar's text, given the source (which starts at byte `origin` of the file) and the
    /// owned texts.
    pub fn text_from<'t>(&self, source: &'t str, origin: u32, owned: &'t Texts) -> Option<&'t str> {
        if !self.is_scalar() {
            return None;
        }
        if self.meta & OWNED_BIT != 0 {
            return owned.get(self.a, self.meta);
        }
        let sp = self.text_span();
        let start = sp.start.checked_sub(origin)? as usize;
        source.get(start..start + sp.len())
    }

    /// The length of a scalar's text when the node says it without looking (not a shared or
    /// very long owned text).
    fn text_len(&self) -> Option<usize> {
        if !self.is_scalar() {
            return None;
        }
        if self.meta & OWNED_BIT == 0 {
            return Some(self.text_span().len());
        }
        let len = (self.meta >> TEXT_LEN_SHIFT) & TEXT_LEN_MAX;
        (self.meta & SHARED_BIT == 0 && len != TEXT_LEN_MAX).then_some(len as usize)
    }

    /// Whether the scalar's text is the source under [`Node::text_span`].
    fn is_verbatim(&self) -> bool {
        self.meta & OWNED_BIT == 0 || self.meta & VERBATIM_BIT != 0
    }
}

/// Strings that retained documents point at instead of copying them (property names).
#[derive(Debug)]
pub struct SharedStrings {
    list: &'static [&'static str],
    find: rustc_hash::FxHashMap<&'static str, u32>,
}

impl SharedStrings {
    pub fn new(list: &'static [&'static str]) -> SharedStrings {
        SharedStrings { list, find: list.iter().enumerate().map(|(i, s)| (*s, i as u32)).collect() }
    }

    fn none() -> &'static SharedStrings {
        static NONE: std::sync::LazyLock<SharedStrings> = std::sync::LazyLock::new(|| SharedStrings::new(&[]));
        &NONE
    }
}

/// Scalar texts in one buffer (one allocation per document, not one per scalar), and strings
/// shared by every document.
#[derive(Debug)]
pub struct Texts {
    buf: String,
    /// (offset, length) of texts longer than a node can say, by offset.
    long: Vec<(u32, u32)>,
    shared: &'static SharedStrings,
}

impl Default for Texts {
    fn default() -> Self {
        Texts { buf: String::new(), long: Vec::new(), shared: SharedStrings::none() }
    }
}

/// Where an owned scalar's text is: the node's `a` and its meta bits.
#[derive(Clone, Copy, Debug)]
pub struct Owned {
    a: u32,
    bits: u32,
}

impl Texts {
    pub fn push(&mut self, text: &str) -> Owned {
        let a = self.buf.len() as u32;
        self.buf.push_str(text);
        let len = text.len() as u32;
        if len >= TEXT_LEN_MAX {
            self.long.push((a, len));
        }
        Owned { a, bits: len.min(TEXT_LEN_MAX) << TEXT_LEN_SHIFT }
    }

    fn get(&self, a: u32, meta: u32) -> Option<&str> {
        if meta & SHARED_BIT != 0 {
            return self.shared.list.get(a as usize).copied();
        }
        let len = match (meta >> TEXT_LEN_SHIFT) & TEXT_LEN_MAX {
            TEXT_LEN_MAX => self.long.binary_search_by_key(&a, |(o, _)| *o).ok().map(|i| self.long[i].1)?,
            len => len,
        };
        self.buf.get(a as usize..(a + len) as usize)
    }

    pub fn shrink_to_fit(&mut self) {
        self.buf.shrink_to_fit();
        self.long.shrink_to_fit();
    }
}

/// One YAML document of a stream.
#[derive(Debug)]
pub struct Document {
    /// The text the document was parsed from (a piece of its file, from byte `origin`); empty
    /// for a retained copy, which owns its scalars' text.
    pub text: Arc<str>,
    pub origin: u32,
    pub nodes: Vec<Node>,
    /// Scalar texts that differ from the source (escapes, folding, block scalars); in a
    /// retained document, every scalar's text.
    pub owned: Texts,
    pub items: Vec<NodeId>,
    pub pairs: Vec<(NodeId, NodeId)>,
    pub root: Option<NodeId>,
    pub span: Span,
    /// The template path from Helm's `# Source:` comment.
    pub helm_source: Option<Arc<str>>,
    /// Every comment of the document (the `#` included).
    pub comments: Vec<Span>,
    /// Duplicate keys: (the repeated key, its first occurrence).
    pub duplicate_keys: Vec<(NodeId, NodeId)>,
}

/// Merge keys (`<<: *base`) nest at most this deep before lookups stop following them.
const MERGE_DEPTH: u8 = 8;

impl Document {
    pub fn root(&self) -> Option<NodeRef<'_>> {
        self.root.map(|id| self.node(id))
    }

    /// The source text under a span of the file, when this document still has it.
    pub fn source(&self, span: Span) -> Option<&str> {
        let start = span.start.checked_sub(self.origin)? as usize;
        self.text.get(start..start + span.len())
    }

    pub fn node(&self, id: NodeId) -> NodeRef<'_> {
        NodeRef { doc: self, id }.deref_alias()
    }

    fn pairs_of(&self, c: Children) -> &[(NodeId, NodeId)] {
        self.pairs.get(c.start as usize..(c.start + c.len) as usize).unwrap_or(&[])
    }

    fn items_of(&self, c: Children) -> &[NodeId] {
        self.items.get(c.start as usize..(c.start + c.len) as usize).unwrap_or(&[])
    }
}

/// The text of retained documents, shared (they own their scalars' text instead).
fn no_text() -> Arc<str> {
    static EMPTY: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| Arc::from("")).clone()
}

/// What [`Document::retain`] keeps of a node, asked with the path of keys that leads to it
/// (`-` for a sequence item).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// The node and everything below it.
    All,
    /// The node, and of its children those the function keeps.
    Part,
    Drop,
}

/// Retained copies of documents in one tree: one set of allocations for many small documents.
/// A copy owns its text, so the source can go; a text that several nodes hold (a namespace, a
/// name, a label value) is kept once, and texts found in the shared strings are not copied.
/// Spans are those of the originals; comments and duplicate keys, read as the documents were
/// loaded, are not kept.
pub struct Retained {
    doc: Document,
    /// The owned texts so far, by the hash of their text.
    texts: hashbrown::HashTable<Owned>,
    /// What the copied documents span.
    span: Option<Span>,
}

fn text_hash(text: &str) -> u64 {
    use std::hash::BuildHasher;
    rustc_hash::FxBuildHasher.hash_one(text)
}

impl Retained {
    pub fn new(shared: &'static SharedStrings) -> Retained {
        let doc = Document {
            text: no_text(),
            origin: 0,
            nodes: Vec::new(),
            owned: Texts { shared, ..Texts::default() },
            items: Vec::new(),
            pairs: Vec::new(),
            root: None,
            span: Span::default(),
            helm_source: None,
            comments: Vec::new(),
            duplicate_keys: Vec::new(),
        };
        Retained { doc, texts: hashbrown::HashTable::new(), span: None }
    }

    /// Copies the nodes of `doc` that `keep` asks for (given the path of keys, `-` for an item
    /// of a list); returns where its root now is.
    pub fn add(&mut self, doc: &Document, keep: &dyn Fn(&[&str]) -> Keep) -> Option<NodeId> {
        self.span = Some(self.span.map_or(doc.span, |s| s.cover(doc.span)));
        let root = doc.root.filter(|_| keep(&[]) != Keep::Drop)?;
        let targets =
            doc.nodes.iter().filter(|n| n.meta & KIND_MASK == KIND_ALIAS).map(|n| (NodeId(n.a), None)).collect();
        let mut r = Retainer { doc, keep, out: self, targets, items: Vec::new(), pairs: Vec::new() };
        let whole = keep(&[]) == Keep::All;
        Some(r.copy(root, &mut Vec::new(), whole))
    }

    /// The tree of every copy made.
    pub fn finish(self) -> Document {
        let mut out = self.doc;
        out.span = self.span.unwrap_or_default();
        out.nodes.shrink_to_fit();
        out.items.shrink_to_fit();
        out.pairs.shrink_to_fit();
        out.owned.shrink_to_fit();
        out
    }

    /// `text` kept once: shared, or found among the texts kept already, or added.
    fn own(&mut self, text: &str) -> Owned {
        if let Some(&i) = self.doc.owned.shared.find.get(text) {
            return Owned { a: i, bits: SHARED_BIT };
        }
        let hash = text_hash(text);
        let Retained { doc, texts, .. } = self;
        if let Some(&found) = texts.find(hash, |o| doc.owned.get(o.a, o.bits) == Some(text)) {
            return found;
        }
        let owned = doc.owned.push(text);
        texts.insert_unique(hash, owned, |o| text_hash(doc.owned.get(o.a, o.bits).unwrap_or_default()));
        owned
    }
}

struct Retainer<'d, 'k, 'o> {
    doc: &'d Document,
    keep: &'k dyn Fn(&[&str]) -> Keep,
    out: &'o mut Retained,
    /// Alias targets, and their copies once made: a target is always copied whole, once.
    targets: std::collections::HashMap<NodeId, Option<NodeId>>,
    /// The children copied so far of the collections being copied, innermost last.
    items: Vec<NodeId>,
    pairs: Vec<(NodeId, NodeId)>,
}

impl<'d> Retainer<'d, '_, '_> {
    fn copy(&mut self, id: NodeId, path: &mut Vec<&'d str>, whole: bool) -> NodeId {
        let target = self.targets.get(&id).copied();
        if let Some(Some(copy)) = target {
            return copy;
        }
        let whole = whole || target.is_some();
        let node = self.doc.nodes[id.0 as usize];
        let copied = match node.meta & KIND_MASK {
            KIND_ALIAS => {
                let target = self.copy(NodeId(node.a), path, true);
                Node::alias(node.span, target)
            }
            KIND_SCALAR => {
                let text = node.text_in(self.doc).unwrap_or_default();
                let verbatim = if node.is_verbatim() { VERBATIM_BIT } else { 0 };
                let owned = self.out.own(text);
                let mut meta = (node.meta & (OWNED_BIT - 1)) | OWNED_BIT | verbatim | owned.bits;
                if (meta >> VALUE_SHIFT) & 0b111 == VALUE_SMALL_INT {
                    // The index now holds the text: the number is read from it again.
                    meta = (meta & !(0b111 << VALUE_SHIFT)) | 3 << VALUE_SHIFT;
                }
                Node { span: node.span, meta, a: owned.a }
            }
            KIND_SEQ => {
                let c = Children { start: node.a, len: node.meta >> LEN_SHIFT };
                let first = self.items.len();
                for &item in self.doc.items_of(c) {
                    path.push("-");
                    let keep = if whole { Keep::All } else { (self.keep)(path) };
                    if keep != Keep::Drop {
                        let copy = self.copy(item, path, keep == Keep::All);
                        self.items.push(copy);
                    }
                    path.pop();
                }
                let start = self.out.doc.items.len() as u32;
                let len = (self.items.len() - first) as u32;
                self.out.doc.items.extend(self.items.drain(first..));
                Node::collection(node.span, false, Children { start, len })
            }
            _ => {
                let c = Children { start: node.a, len: node.meta >> LEN_SHIFT };
                let first = self.pairs.len();
                for &(k, v) in self.doc.pairs_of(c) {
                    let key = self.doc.nodes[k.0 as usize].text_in(self.doc).unwrap_or("?");
                    path.push(key);
                    // Merge keys stay whole: lookups read through them.
                    let keep = if whole || key == "<<" { Keep::All } else { (self.keep)(path) };
                    if keep != Keep::Drop {
                        let k = self.copy(k, path, true);
                        let v = self.copy(v, path, keep == Keep::All);
                        self.pairs.push((k, v));
                    }
                    path.pop();
                }
                let start = self.out.doc.pairs.len() as u32;
                let len = (self.pairs.len() - first) as u32;
                self.out.doc.pairs.extend(self.pairs.drain(first..));
                Node::collection(node.span, true, Children { start, len })
            }
        };
        let new = NodeId(self.out.doc.nodes.len() as u32);
        self.out.doc.nodes.push(copied);
        if target.is_some() {
            self.targets.insert(id, Some(new));
        }
        new
    }
}

/// A node and the document it lives in; every accessor follows aliases.
#[derive(Clone, Copy)]
pub struct NodeRef<'a> {
    pub doc: &'a Document,
    pub id: NodeId,
}

impl std::fmt::Debug for NodeRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeRef({:?} at {:?})", self.id, self.span())
    }
}

impl<'a> NodeRef<'a> {
    fn raw(&self) -> &'a Node {
        &self.doc.nodes[self.id.0 as usize]
    }

    fn deref_alias(self) -> NodeRef<'a> {
        let raw = self.raw();
        if raw.meta & KIND_MASK == KIND_ALIAS {
            // Aliases only point at completed earlier nodes, which are never aliases themselves.
            return NodeRef { doc: self.doc, id: NodeId(raw.a) };
        }
        self
    }

    pub fn kind(&self) -> NodeKind {
        let raw = self.raw();
        let numeric = raw.is_scalar() && matches!((raw.meta >> VALUE_SHIFT) & 0b111, 3 | 4);
        let text = if numeric { raw.text_in(self.doc).unwrap_or_default() } else { "" };
        raw.kind_of(text)
    }

    pub fn span(&self) -> Span {
        self.raw().span
    }

    pub fn scalar(&self) -> Option<Scalar> {
        match self.kind() {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a scalar, whatever its type.
    pub fn text(&self) -> Option<&'a str> {
        self.raw().text_in(self.doc)
    }

    /// The children of a collection of `kind`, read straight from the node.
    fn children(&self, kind: u32) -> Option<Children> {
        let raw = self.raw();
        (raw.meta & KIND_MASK == kind).then_some(Children { start: raw.a, len: raw.meta >> LEN_SHIFT })
    }

    /// The stored value code of a scalar (see `value_code`), without reading numbers.
    fn value_code(&self) -> Option<u32> {
        let raw = self.raw();
        raw.is_scalar().then_some((raw.meta >> VALUE_SHIFT) & 0b111)
    }

    /// A scalar that Kubernetes reads as a string.
    pub fn as_str(&self) -> Option<&'a str> {
        if self.value_code()? == 5 { self.text() } else { None }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.value_code()? {
            1 => Some(false),
            2 => Some(true),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        if !matches!(self.value_code()?, 3 | 4 | VALUE_SMALL_INT) {
            return None;
        }
        match self.scalar()?.value {
            Resolved::Int(i) => Some(i),
            Resolved::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        if !matches!(self.value_code()?, 3 | 4 | VALUE_SMALL_INT) {
            return None;
        }
        match self.scalar()?.value {
            Resolved::Int(i) => Some(i as f64),
            Resolved::Float(f) => Some(f),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        self.value_code() == Some(0)
    }

    pub fn is_map(&self) -> bool {
        self.raw().meta & KIND_MASK == KIND_MAP
    }

    pub fn is_seq(&self) -> bool {
        self.raw().meta & KIND_MASK == KIND_SEQ
    }

    /// The key as `YAMLToJSON` prints it (numbers and booleans stringified).
    pub fn key_text(&self) -> Option<std::borrow::Cow<'a, str>> {
        self.raw().key_text_from(&self.doc.text, self.doc.origin, &self.doc.owned)
    }

    /// Mapping entries in source order, merge keys (`<<`) left as they are.
    pub fn entries(self) -> impl Iterator<Item = (NodeRef<'a>, NodeRef<'a>)> + 'a {
        let doc = self.doc;
        let list: &'a [(NodeId, NodeId)] = match self.children(KIND_MAP) {
            Some(c) => doc.pairs_of(c),
            None => &[],
        };
        list.iter().map(move |&(k, v)| (doc.node(k), doc.node(v)))
    }

    /// Mapping entries as Kubernetes reads them: merge keys (`<<: *base`, or a list of
    /// aliases) applied, keys written in the mapping first, then those merged in that it does
    /// not have (from the first merged mapping first), as go-yaml does.
    pub fn merged_entries(self) -> Vec<(NodeRef<'a>, NodeRef<'a>)> {
        let mut out: Vec<(NodeRef<'a>, NodeRef<'a>)> = Vec::new();
        self.collect_merged(&mut out, 0);
        out
    }

    fn collect_merged(self, out: &mut Vec<(NodeRef<'a>, NodeRef<'a>)>, depth: u8) {
        let is_merge = |k: &NodeRef<'a>| k.raw().style() == Style::Plain && k.raw().text_in(k.doc) == Some("<<");
        let mut merges = Vec::new();
        for (k, v) in self.entries() {
            if is_merge(&k) {
                merges.push(v);
                continue;
            }
            let key = k.key_text();
            if !out.iter().any(|(o, _)| o.key_text() == key) {
                out.push((k, v));
            }
        }
        if depth >= MERGE_DEPTH {
            return;
        }
        for m in merges {
            match m.kind() {
                NodeKind::Map(_) => m.collect_merged(out, depth + 1),
                NodeKind::Seq(_) => {
                    for item in m.items() {
                        item.collect_merged(out, depth + 1);
                    }
                }
                _ => {}
            }
        }
    }

    pub fn items(self) -> impl Iterator<Item = NodeRef<'a>> + 'a {
        let doc = self.doc;
        let list: &'a [NodeId] = match self.children(KIND_SEQ) {
            Some(c) => doc.items_of(c),
            None => &[],
        };
        list.iter().map(move |&id| doc.node(id))
    }

    pub fn len(&self) -> usize {
        self.children(KIND_SEQ).or_else(|| self.children(KIND_MAP)).map_or(0, |c| c.len as usize)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entry for `key` (key node, value node); the last duplicate wins, then merge keys.
    pub fn entry(&self, key: &str) -> Option<(NodeRef<'a>, NodeRef<'a>)> {
        self.entry_at_depth(key, 0)
    }

    fn entry_at_depth(&self, key: &str, depth: u8) -> Option<(NodeRef<'a>, NodeRef<'a>)> {
        let c = self.children(KIND_MAP)?;
        let list = self.doc.pairs_of(c);
        let mut merges = None;
        for &(k, v) in list.iter().rev() {
            let k = self.doc.node(k);
            let raw = k.raw();
            let plain = raw.style() == Style::Plain;
            // A key read as written cannot be `key` at another length (2 may be `<<`).
            if (!plain || (raw.meta >> VALUE_SHIFT) & 0b111 == 5)
                && let Some(len) = raw.text_len()
                && len != key.len()
                && len != 2
            {
                continue;
            }
            let Some(text) = raw.text_in(self.doc) else { continue };
            // Most keys are plain strings: compare the text itself, without building a key.
            let matches = if plain && text == "<<" {
                merges = Some(v);
                false
            } else if !plain || (raw.meta >> VALUE_SHIFT) & 0b111 == 5 {
                text == key
            } else {
                k.key_text().as_deref() == Some(key)
            };
            if matches {
                return Some((k, self.doc.node(v)));
            }
        }
        if depth >= MERGE_DEPTH {
            return None;
        }
        let merged = self.doc.node(merges?);
        match merged.kind() {
            NodeKind::Map(_) => merged.entry_at_depth(key, depth + 1),
            NodeKind::Seq(_) => merged.items().find_map(|m| m.entry_at_depth(key, depth + 1)),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<NodeRef<'a>> {
        self.entry(key).map(|(_, v)| v)
    }

    /// Follows a path of keys; `None` on the first missing or non-mapping step.
    pub fn path(&self, keys: &[&str]) -> Option<NodeRef<'a>> {
        keys.iter().try_fold(*self, |node, key| node.get(key))
    }

    /// The value at `key` unless it is absent or null (Kubernetes treats both as unset).
    pub fn get_set(&self, key: &str) -> Option<NodeRef<'a>> {
        self.get(key).filter(|v| !v.is_null())
    }

    pub fn get_str(&self, key: &str) -> Option<&'a str> {
        self.get(key)?.as_str()
    }

    /// The source span of `range`, a byte range of this scalar's value. Exact when the value is
    /// the source text; for block, folded or escaped scalars the same occurrence of that text is
    /// found in the source, and the whole scalar is the fallback.
    pub fn value_span(&self, range: std::ops::Range<usize>) -> Span {
        let whole = self.span();
        let raw = self.raw();
        if !raw.is_scalar() {
            return whole;
        }
        let span = match raw.is_verbatim() {
            true => raw.text_span(),
            false => {
                let value = self.text().unwrap_or_default();
                let Some(needle) = value.get(range.clone()).filter(|n| !n.is_empty() && !n.contains('\n')) else {
                    return whole;
                };
                let nth = value[..range.start].matches(needle).count();
                let Some(source) = self.doc.source(whole) else { return whole };
                return match source.match_indices(needle).nth(nth) {
                    Some((at, _)) => Span::new(whole.start as usize + at, whole.start as usize + at + needle.len()),
                    None => whole,
                };
            }
        };
        let end = (span.start as usize + range.end).min(span.end as usize);
        Span::new((span.start as usize + range.start).min(end), end)
    }

    /// A short rendering of a scalar for messages.
    pub fn display(&self) -> String {
        match self.kind() {
            NodeKind::Scalar(_) => self.text().unwrap_or_default().to_string(),
            NodeKind::Seq(_) => "a list".into(),
            NodeKind::Map(_) => "a mapping".into(),
            NodeKind::Alias(_) => "an alias".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_keep_short_long_and_shared_strings_once() {
        let shared = Box::leak(Box::new(SharedStrings::new(&["name", "spec"])));
        let mut kept = Retained::new(shared);
        let long = "x".repeat(TEXT_LEN_MAX as usize + 10);
        let refs = [kept.own("a"), kept.own(&long), kept.own(""), kept.own("spec"), kept.own("b"), kept.own("a")];
        let got: Vec<&str> = refs.iter().map(|o| kept.doc.owned.get(o.a, o.bits).unwrap()).collect();
        assert_eq!(got, ["a", long.as_str(), "", "spec", "b", "a"]);
        assert!(refs[3].bits & SHARED_BIT != 0);
        assert_eq!(refs[5].a, refs[0].a, "a text is kept once");
        assert_eq!(kept.doc.owned.buf.len(), 1 + long.len() + 1);
    }

    #[test]
    fn a_retained_copy_reads_like_the_original() {
        let text = "a: &x {b: 'q', c: [1, 2]}\nd: *x\nlong: \"tab\\tbed\"\nspec: {name: n}\n";
        let stream = crate::yaml::parse_stream(Arc::from(text));
        let doc = &stream.documents[0];
        let mut retained = Retained::new(Box::leak(Box::new(SharedStrings::new(&["a", "b", "name"]))));
        let root = retained.add(doc, &|path| if path == ["spec"] { Keep::Drop } else { Keep::Part });
        let kept = retained.finish();
        let root = kept.node(root.unwrap());
        assert!(root.get("spec").is_none());
        assert_eq!(root.path(&["d", "c"]).map(|c| c.len()), Some(2));
        assert_eq!(root.path(&["a", "b"]).and_then(|b| b.as_str()), Some("q"));
        assert_eq!(root.path(&["a", "b"]).map(|b| b.span()), doc.root().unwrap().path(&["a", "b"]).map(|b| b.span()));
        assert_eq!(root.get_str("long"), Some("tab\tbed"));
        assert_eq!(root.path(&["a", "c"]).and_then(|c| c.items().nth(1)).and_then(|n| n.as_i64()), Some(2));
        assert_eq!(root.get("a").unwrap().value_span(0..0), doc.root().unwrap().get("a").unwrap().value_span(0..0));
    }

    #[test]
    fn copies_in_one_tree_read_like_their_originals() {
        let long = "y".repeat(TEXT_LEN_MAX as usize + 1);
        let texts =
            ["a: &x [1, {b: c}]\nd: *x\nname: n\n".to_string(), format!("e: [f, g]\nlong: {long}\nh: 'i'\nc: n\n")];
        let shared = Box::leak(Box::new(SharedStrings::new(&["b", "name"])));
        let docs: Vec<Document> =
            texts.iter().map(|t| crate::yaml::parse_stream(Arc::from(t.as_str())).documents.remove(0)).collect();
        let mut retained = Retained::new(shared);
        let roots: Vec<Option<NodeId>> = docs.iter().map(|d| retained.add(d, &|_| Keep::Part)).collect();
        let merged = retained.finish();
        let json = |d: &Document, root: Option<NodeId>| crate::yaml::to_json(d.node(root.unwrap()), 16);
        for (doc, root) in docs.iter().zip(&roots) {
            assert_eq!(json(&merged, *root), json(doc, doc.root));
        }
        let second = merged.node(roots[1].unwrap());
        assert_eq!(second.get_str("long").map(str::len), Some(long.len()));
        assert_eq!(second.get("h").map(|h| h.span()), docs[1].root().unwrap().get("h").map(|h| h.span()));
        assert_eq!(merged.span, docs[0].span.cover(docs[1].span));
    }
}
