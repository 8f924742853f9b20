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

#[derive(Debug)]
pub enum Text {
    /// The value is exactly the source text at this span.
    Source(Span),
    /// Escapes or folding made the value differ from the source.
    Owned(Box<str>),
}

#[derive(Debug)]
pub struct Scalar {
    pub text: Text,
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

#[derive(Debug)]
pub enum NodeKind {
    Scalar(Scalar),
    /// Items in `Document::items`.
    Seq(Children),
    /// Entries in `Document::pairs`, in source order; duplicate keys are kept.
    Map(Children),
    Alias(NodeId),
}

#[derive(Debug)]
pub struct Node {
    pub span: Span,
    pub kind: NodeKind,
}

/// One YAML document of a stream.
#[derive(Debug)]
pub struct Document {
    pub text: Arc<str>,
    pub nodes: Vec<Node>,
    pub items: Vec<NodeId>,
    pub pairs: Vec<(NodeId, NodeId)>,
    pub root: Option<NodeId>,
    pub span: Span,
    /// The template path from Helm's `# Source:` comment.
    pub helm_source: Option<String>,
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
        match self.raw().kind {
            // Aliases only point at completed earlier nodes, which are never aliases themselves.
            NodeKind::Alias(target) => NodeRef { doc: self.doc, id: target },
            _ => self,
        }
    }

    pub fn kind(&self) -> &'a NodeKind {
        &self.raw().kind
    }

    pub fn span(&self) -> Span {
        self.raw().span
    }

    pub fn scalar(&self) -> Option<&'a Scalar> {
        match self.kind() {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a scalar, whatever its type.
    pub fn text(&self) -> Option<&'a str> {
        let s = self.scalar()?;
        Some(match &s.text {
            Text::Source(span) => &self.doc.text[span.start as usize..span.end as usize],
            Text::Owned(t) => t,
        })
    }

    /// A scalar that Kubernetes reads as a string.
    pub fn as_str(&self) -> Option<&'a str> {
        match self.scalar()?.value {
            Resolved::Str => self.text(),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.scalar()?.value {
            Resolved::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.scalar()?.value {
            Resolved::Int(i) => Some(i),
            Resolved::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self.scalar()?.value {
            Resolved::Int(i) => Some(i as f64),
            Resolved::Float(f) => Some(f),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.scalar().map(|s| s.value), Some(Resolved::Null))
    }

    pub fn is_map(&self) -> bool {
        matches!(self.kind(), NodeKind::Map(_))
    }

    pub fn is_seq(&self) -> bool {
        matches!(self.kind(), NodeKind::Seq(_))
    }

    /// The key as `YAMLToJSON` prints it (numbers and booleans stringified).
    pub fn key_text(&self) -> Option<std::borrow::Cow<'a, str>> {
        let s = self.scalar()?;
        let text = self.text()?;
        Some(match (s.style, key_string(text, s.value)) {
            (Style::Plain, Some(k)) => k.into(),
            _ => text.into(),
        })
    }

    /// Mapping entries in source order, merge keys (`<<`) left as they are.
    pub fn entries(self) -> impl Iterator<Item = (NodeRef<'a>, NodeRef<'a>)> + 'a {
        let doc = self.doc;
        let list: &'a [(NodeId, NodeId)] = match self.kind() {
            NodeKind::Map(c) => doc.pairs_of(*c),
            _ => &[],
        };
        list.iter().map(move |&(k, v)| (doc.node(k), doc.node(v)))
    }

    pub fn items(self) -> impl Iterator<Item = NodeRef<'a>> + 'a {
        let doc = self.doc;
        let list: &'a [NodeId] = match self.kind() {
            NodeKind::Seq(c) => doc.items_of(*c),
            _ => &[],
        };
        list.iter().map(move |&id| doc.node(id))
    }

    pub fn len(&self) -> usize {
        match self.kind() {
            NodeKind::Seq(c) | NodeKind::Map(c) => c.len as usize,
            _ => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The entry for `key` (key node, value node); the last duplicate wins, then merge keys.
    pub fn entry(&self, key: &str) -> Option<(NodeRef<'a>, NodeRef<'a>)> {
        self.entry_at_depth(key, 0)
    }

    fn entry_at_depth(&self, key: &str, depth: u8) -> Option<(NodeRef<'a>, NodeRef<'a>)> {
        let NodeKind::Map(c) = self.kind() else { return None };
        let list = self.doc.pairs_of(*c);
        let mut merges = None;
        for &(k, v) in list.iter().rev() {
            let k = self.doc.node(k);
            let Some(s) = k.scalar() else { continue };
            let text = k.text().unwrap_or_default();
            // Most keys are plain strings: compare the text itself, without building a key.
            let matches = if s.style == Style::Plain && text == "<<" {
                merges = Some(v);
                false
            } else if s.style != Style::Plain || s.value == Resolved::Str {
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
        let Some(scalar) = self.scalar() else { return whole };
        let span = match &scalar.text {
            Text::Source(span) => *span,
            Text::Owned(value) => {
                let Some(needle) = value.get(range.clone()).filter(|n| !n.is_empty() && !n.contains('\n')) else {
                    return whole;
                };
                let nth = value[..range.start].matches(needle).count();
                let source = &self.doc.text[whole.start as usize..whole.end as usize];
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
