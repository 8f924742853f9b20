//! A reader for the block YAML manifests are written in (`helm template`, kustomize and
//! `kubectl get -o yaml` output, most hand-written files): block mappings and sequences, plain
//! and quoted scalars on one line, literal block scalars, `[]` lists of scalars and `{}`,
//! comments. It reads a piece line by line and builds the tree directly, with no token or event
//! queue. It gives up on anything else (anchors, tags, multi-line plain or quoted scalars,
//! escapes, folded scalars, tabs, `?` keys, flow mappings...), and the piece is read by
//! granit-parser instead: every tree it builds is the one the parser's events build, spans,
//! comments and owned texts included (`tests/yaml_readers.rs` checks it on every file of
//! `../shared` and on generated documents).

use std::sync::Arc;

use super::parse::{Builder, Frame, Pending, helm_source_of};
use super::resolve::{Resolved, resolve_plain};
use super::tree::{Document, Node, Style};
use crate::source::Span;

/// Deeper documents are left to the parser, which enforces the nesting limit.
const MAX_NESTING: usize = 64;

/// Gives up: the piece is read by the parser.
struct GiveUp;

type Read<T> = Result<T, GiveUp>;

/// Reads the document of the piece `text[start..end]` (a piece kubectl cuts at `---` lines);
/// `pending` holds the comments read before it. `None` when the piece is outside the subset.
pub(super) fn read(
    text: &Arc<str>,
    origin: usize,
    start: usize,
    end: usize,
    strict: bool,
    pending: &Pending,
) -> Option<(Document, Pending)> {
    let piece = text.get(start..end)?;
    let bytes = piece.as_bytes();
    if !plain_bytes(bytes) {
        return None;
    }
    let mut builder = Builder::new(text.clone(), origin, origin + start);
    builder.plain_keys = true;
    let reader = Reader {
        t: piece,
        s: bytes,
        base: origin + start,
        i: 0,
        b: builder,
        strict,
        depth: 0,
        line_end: std::cell::Cell::new((usize::MAX, 0)),
    };
    reader.document(pending).ok()
}

/// No tab, carriage return, byte order mark or Unicode line break: what the reader never meets.
fn plain_bytes(bytes: &[u8]) -> bool {
    let mut from = 0;
    while let Some(at) = memchr::memchr3(b'\t', b'\r', 0xE2, &bytes[from..]) {
        let at = from + at;
        // U+2028 and U+2029 (E2 80 A8/A9) are line breaks to go-yaml.
        if bytes[at] != 0xE2 || matches!(bytes.get(at + 1..at + 3), Some([0x80, 0xA8 | 0xA9])) {
            return false;
        }
        from = at + 1;
    }
    // NEL (C2 85), and a byte order mark (EF BB BF) anywhere.
    memchr::memmem::find(bytes, b"\xC2\x85").is_none() && memchr::memmem::find(bytes, b"\xEF\xBB\xBF").is_none()
}

/// A line with content: where it starts and its indentation; `indent` is `None` at the end.
#[derive(Clone, Copy)]
struct Line {
    start: usize,
    indent: Option<usize>,
}

impl Line {
    /// Indented deeper than `column`.
    fn deeper(&self, column: usize) -> bool {
        self.indent.is_some_and(|i| i > column)
    }

    fn at(&self, column: usize) -> bool {
        self.indent == Some(column)
    }
}

struct Reader<'a> {
    /// The piece, and its bytes.
    t: &'a str,
    s: &'a [u8],
    /// The file offset of `s[0]`.
    base: usize,
    /// The cursor in `s`.
    i: usize,
    b: Builder,
    strict: bool,
    depth: usize,
    /// The last line end found, and where the search started: the reader asks for the end of
    /// the same line several times.
    line_end: std::cell::Cell<(usize, usize)>,
}

fn is_space(b: u8) -> bool {
    b == b' '
}

impl Reader<'_> {
    fn span(&self, start: usize, end: usize) -> Span {
        Span::new(self.base + start, self.base + end)
    }

    fn line_end(&self, from: usize) -> usize {
        // No line break lies between the last search's start and the end it found.
        let (searched_from, end) = self.line_end.get();
        if searched_from <= from && from <= end {
            return end;
        }
        let end = memchr::memchr(b'\n', &self.s[from..]).map_or(self.s.len(), |n| from + n);
        self.line_end.set((from, end));
        end
    }

    fn spaces(&self, from: usize) -> usize {
        self.s[from..].iter().take_while(|&&b| is_space(b)).count()
    }

    /// After the end of a line's content (`at`): spaces, then the line's end or a comment.
    /// Moves the cursor to the next line.
    fn end_of_line(&mut self, at: usize) -> Read<()> {
        let end = self.line_end(at);
        let rest = at + self.spaces(at);
        if rest < end {
            if self.s[rest] != b'#' || rest == at {
                return Err(GiveUp);
            }
            self.comment(rest, end)?;
        }
        self.i = (end + 1).min(self.s.len());
        Ok(())
    }

    fn comment(&mut self, start: usize, end: usize) -> Read<()> {
        let text = self.t.get(start..end).ok_or(GiveUp)?;
        if helm_source_of(text).is_some() {
            return Err(GiveUp);
        }
        let span = self.span(start, end);
        self.b.comments.push(span);
        Ok(())
    }

    /// Moves to the next line with content, recording the comments on the way.
    fn next_content(&mut self) -> Read<Line> {
        loop {
            if self.i >= self.s.len() {
                return Ok(Line { start: self.s.len(), indent: None });
            }
            let start = self.i;
            let indent = self.spaces(start);
            let end = self.line_end(start);
            let first = start + indent;
            if first == end {
                self.i = (end + 1).min(self.s.len());
                continue;
            }
            match self.s[first] {
                b'#' => {
                    self.comment(first, end)?;
                    self.i = (end + 1).min(self.s.len());
                }
                // A document end marker or a directive.
                b'.' | b'%' if indent == 0 => return Err(GiveUp),
                _ => return Ok(Line { start, indent: Some(indent) }),
            }
        }
    }

    fn document(mut self, pending: &Pending) -> Read<(Document, Pending)> {
        let explicit = self.s.starts_with(b"---");
        if explicit {
            let end = self.line_end(0);
            if self.spaces(3) != end - 3 {
                return Err(GiveUp);
            }
            self.i = (end + 1).min(self.s.len());
        }
        // Comments before the root: with `---`, the document has started and takes the
        // first `# Source:`; without, they wait for it and the last one counts.
        let mut before = Vec::new();
        let root = loop {
            if self.i >= self.s.len() {
                return Err(GiveUp);
            }
            let start = self.i;
            let end = self.line_end(start);
            let first = start + self.spaces(start);
            if first == end {
                self.i = (end + 1).min(self.s.len());
                continue;
            }
            if self.s[first] != b'#' {
                break start;
            }
            let text = self.t.get(first..end).ok_or(GiveUp)?;
            before.push((self.span(first, end), helm_source_of(text)));
            self.i = (end + 1).min(self.s.len());
        };
        if before.iter().filter(|(_, s)| s.is_some()).count() + usize::from(pending.source.is_some()) > 1 {
            return Err(GiveUp);
        }
        let mut helm_source = pending.source.clone();
        let mut comments = pending.comments.clone();
        for (span, source) in before {
            comments.push(span);
            if source.is_some() {
                helm_source = source;
            }
        }
        self.b.helm_source = helm_source;
        self.b.comments = comments;
        self.b.reserve(memchr::memchr_iter(b'\n', &self.s[root..]).count());
        if !explicit {
            self.b.start = self.base + root;
        }
        // The root: a block mapping at column 0.
        if matches!(self.s[root], b' ' | b'-' | b'.' | b'%' | b'[' | b'{') {
            return Err(GiveUp);
        }
        self.i = root;
        self.mapping(0)?;
        if self.i < self.s.len() || !self.b.stack.is_empty() {
            return Err(GiveUp);
        }
        // The document ends where the piece does (the parser's end event is there).
        let end = self.base + self.s.len();
        Ok((self.b.finish(end), Pending::default()))
    }

    fn enter(&mut self) -> Read<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING { Err(GiveUp) } else { Ok(()) }
    }

    /// Ends the innermost collection; a mapping kubectl refuses is left to the parser.
    fn close(&mut self, flow_end: Span) -> Read<()> {
        self.depth -= 1;
        self.b.end_collection(flow_end, self.strict).map_err(|_| GiveUp)
    }

    /// A block mapping whose first key is at the cursor, in column `column`.
    fn mapping(&mut self, column: usize) -> Read<()> {
        self.enter()?;
        let first = self.b.scratch_pairs.len();
        self.b.stack.push(Frame::Map { start: self.base + self.i, anchor: 0, flow: false, first, key: None });
        loop {
            let colon = self.key()?;
            self.value_after_colon(colon, column)?;
            let line = self.next_content()?;
            if line.at(column) {
                self.i = line.start + column;
                if self.s[self.i] == b'-' && matches!(self.s.get(self.i + 1), None | Some(b' ' | b'\n')) {
                    return Err(GiveUp);
                }
                continue;
            }
            if line.deeper(column) {
                return Err(GiveUp);
            }
            self.i = line.start;
            break;
        }
        self.close(Span::default())
    }

    /// Where a key ends (at its `:`) when the text at `at` is a key on one line; `None` when
    /// it is not a mapping entry.
    fn key_end(&self, at: usize) -> Read<Option<usize>> {
        let end = self.line_end(at);
        let line = &self.s[at..end];
        match line.first() {
            Some(b'"' | b'\'') => {
                let end = self.quoted_end(at)?;
                match self.s.get(end) {
                    Some(b':') if matches!(self.s.get(end + 1), None | Some(b' ' | b'\n')) => Ok(Some(end)),
                    _ => Ok(None),
                }
            }
            _ => {
                let mut from = 0;
                while let Some(n) = memchr::memchr2(b':', b'#', &line[from..]) {
                    let c = from + n;
                    if line[c] == b'#' {
                        if c > 0 && is_space(line[c - 1]) {
                            return Ok(None);
                        }
                    } else if matches!(line.get(c + 1), None | Some(b' ')) {
                        return Ok(Some(at + c));
                    }
                    from = c + 1;
                }
                Ok(None)
            }
        }
    }

    /// The key at the cursor: pushes it and returns where its `:` is.
    fn key(&mut self) -> Read<usize> {
        let at = self.i;
        let colon = self.key_end(at)?.ok_or(GiveUp)?;
        let node = match self.s[at] {
            b'"' | b'\'' => Node::scalar(self.span(at, colon), Style::Quoted, Resolved::Str, None),
            c => {
                if is_indicator(c) || is_space(self.s[colon - 1]) {
                    return Err(GiveUp);
                }
                let text = self.t.get(at..colon).ok_or(GiveUp)?;
                let value = resolve_plain(text);
                // A null key is kubectl's to refuse: left to the parser's path.
                if value == Resolved::Null {
                    return Err(GiveUp);
                }
                Node::scalar(self.span(at, colon), Style::Plain, value, None)
            }
        };
        self.b.push(node, 0);
        Ok(colon)
    }

    /// The value of the entry whose `:` is at `colon`, in a mapping at `column`.
    fn value_after_colon(&mut self, colon: usize, column: usize) -> Read<()> {
        let at = colon + 1 + self.spaces(colon + 1);
        let end = self.line_end(at);
        if at < end {
            if self.s[at] == b'#' {
                return Err(GiveUp);
            }
            return self.inline_value(at, column, true);
        }
        self.i = (end + 1).min(self.s.len());
        let line = self.next_content()?;
        if line.deeper(column) {
            let indent = line.indent.unwrap_or(0);
            self.i = line.start + indent;
            return self.block_node(indent);
        }
        if line.at(column) && self.is_dash(line.start + column) {
            self.i = line.start + column;
            return self.sequence(column, true);
        }
        // Nothing: an empty value, a null whose text the parser gives as `~`.
        let owned = self.b.owned.push("~");
        let node = Node::scalar(self.span(colon, colon), Style::Plain, Resolved::Null, Some(owned));
        self.b.push(node, 0);
        self.i = line.start;
        Ok(())
    }

    fn is_dash(&self, at: usize) -> bool {
        self.s.get(at) == Some(&b'-') && matches!(self.s.get(at + 1), Some(b' '))
    }

    /// A block collection starting at the cursor, in column `column`.
    fn block_node(&mut self, column: usize) -> Read<()> {
        if self.is_dash(self.i) {
            return self.sequence(column, false);
        }
        if self.key_end(self.i)?.is_none() {
            return Err(GiveUp);
        }
        self.mapping(column)
    }

    /// A block sequence whose first `-` is at the cursor, in column `column`; `indentless`
    /// when its dashes are in its parent mapping's column.
    fn sequence(&mut self, column: usize, indentless: bool) -> Read<()> {
        self.enter()?;
        let first = self.b.scratch_items.len();
        let first_item = self.i + 1 + self.spaces(self.i + 1);
        let start = if indentless { first_item } else { self.i };
        self.b.stack.push(Frame::Seq { start: self.base + start, anchor: 0, flow: false, first });
        loop {
            let at = self.i + 1 + self.spaces(self.i + 1);
            let end = self.line_end(at);
            if at == end || matches!(self.s[at], b'#' | b'|' | b'>') || self.is_dash(at) {
                return Err(GiveUp);
            }
            if self.key_end(at)?.is_some() {
                self.i = at;
                let line_start = self.s[..at].iter().rposition(|&b| b == b'\n').map_or(0, |n| n + 1);
                self.mapping(at - line_start)?;
            } else {
                self.inline_value(at, column, false)?;
            }
            let line = self.next_content()?;
            if line.at(column) && self.is_dash(line.start + column) {
                self.i = line.start + column;
                continue;
            }
            if line.deeper(column) || (line.at(column) && !indentless) {
                return Err(GiveUp);
            }
            self.i = line.start;
            break;
        }
        self.close(Span::default())
    }

    /// A value on the line at `at` (not a mapping entry) of a node in column `column`; block
    /// scalars only as mapping values (`in_mapping`). Moves the cursor past it.
    fn inline_value(&mut self, at: usize, column: usize, in_mapping: bool) -> Read<()> {
        match self.s[at] {
            b'"' | b'\'' => {
                let end = self.quoted(at)?;
                self.end_of_line(end)
            }
            b'|' if in_mapping => self.literal(at, column),
            b'[' => {
                let end = self.flow_sequence(at)?;
                self.end_of_line(end)
            }
            b'{' => {
                if self.s.get(at + 1) != Some(&b'}') {
                    return Err(GiveUp);
                }
                self.enter()?;
                let first = self.b.scratch_pairs.len();
                self.b.stack.push(Frame::Map { start: self.base + at, anchor: 0, flow: true, first, key: None });
                self.close(self.span(at + 1, at + 2))?;
                self.end_of_line(at + 2)
            }
            // `-` starts a plain scalar when no space follows (`--flag`, `-1`).
            b'-' if matches!(self.s.get(at + 1), Some(b' ' | b'\n') | None) => Err(GiveUp),
            c if c != b'-' && is_indicator(c) => Err(GiveUp),
            _ => {
                // The value ends at a comment; a `: ` or a last `:` would make it a mapping.
                let line_end = self.line_end(at);
                let mut end = line_end;
                let mut from = at;
                while let Some(n) = memchr::memchr2(b'#', b':', &self.s[from..line_end]) {
                    let c = from + n;
                    if self.s[c] == b':' {
                        if matches!(self.s.get(c + 1), None | Some(b' ' | b'\n')) {
                            return Err(GiveUp);
                        }
                    } else if is_space(self.s[c - 1]) {
                        end = c;
                        break;
                    }
                    from = c + 1;
                }
                while end > at && is_space(self.s[end - 1]) {
                    end -= 1;
                }
                let text = self.t.get(at..end).ok_or(GiveUp)?;
                let node = Node::scalar(self.span(at, end), Style::Plain, resolve_plain(text), None);
                self.b.push(node, 0);
                self.end_of_line(end)
            }
        }
    }

    /// A quoted scalar on one line, without escapes; returns where it ends.
    fn quoted(&mut self, at: usize) -> Read<usize> {
        let end = self.quoted_end(at)?;
        let node = Node::scalar(self.span(at, end), Style::Quoted, Resolved::Str, None);
        self.b.push(node, 0);
        Ok(end)
    }

    /// Where the quoted scalar at `at` ends (after its closing quote): on its line, and with no
    /// escape (`\\`, or a doubled `''`) to read.
    fn quoted_end(&self, at: usize) -> Read<usize> {
        let q = self.s[at];
        let line_end = self.line_end(at);
        let close = memchr::memchr(q, &self.s[at + 1..line_end]).map(|n| at + 1 + n).ok_or(GiveUp)?;
        if self.s[at + 1..close].contains(&b'\\') || self.s.get(close + 1) == Some(&q) {
            return Err(GiveUp);
        }
        Ok(close + 1)
    }

    /// `[a, "b"]` on one line, of scalars; returns where it ends.
    fn flow_sequence(&mut self, at: usize) -> Read<usize> {
        self.enter()?;
        let first = self.b.scratch_items.len();
        self.b.stack.push(Frame::Seq { start: self.base + at, anchor: 0, flow: true, first });
        let line_end = self.line_end(at);
        let mut i = at + 1;
        let mut items = 0;
        loop {
            i += self.spaces(i);
            match self.s.get(i) {
                Some(b']') if items == 0 => break,
                Some(b'"' | b'\'') => i = self.quoted(i)?,
                Some(&c) if !is_indicator(c) && c != b'\n' => {
                    let mut end = i;
                    while end < line_end
                        && !matches!(self.s[end], b',' | b']' | b'[' | b'{' | b'}' | b'#' | b':' | b'?')
                    {
                        end += 1;
                    }
                    if matches!(self.s.get(end), Some(b'[' | b'{' | b'}' | b'#' | b':' | b'?') | None) {
                        return Err(GiveUp);
                    }
                    let mut value_end = end;
                    while is_space(self.s[value_end - 1]) {
                        value_end -= 1;
                    }
                    let text = self.t.get(i..value_end).ok_or(GiveUp)?;
                    let node = Node::scalar(self.span(i, value_end), Style::Plain, resolve_plain(text), None);
                    self.b.push(node, 0);
                    i = end;
                }
                _ => return Err(GiveUp),
            }
            items += 1;
            i += self.spaces(i);
            match self.s.get(i) {
                Some(b',') => {
                    i += 1;
                    if self.s.get(i + self.spaces(i)) == Some(&b']') {
                        return Err(GiveUp);
                    }
                }
                Some(b']') => break,
                _ => return Err(GiveUp),
            }
        }
        self.close(self.span(i, i + 1))?;
        Ok(i + 1)
    }

    /// A literal block scalar (`|`, `|-`, `|+`) whose header is at `at`, the value of an entry
    /// of a mapping in column `column`.
    fn literal(&mut self, at: usize, column: usize) -> Read<()> {
        let header_end = self.line_end(at);
        let chomp = match self.s.get(at + 1) {
            Some(b'-') => Some(false),
            Some(b'+') => Some(true),
            _ => None,
        };
        let after = at + 1 + usize::from(chomp.is_some());
        if after + self.spaces(after) != header_end || header_end >= self.s.len() {
            return Err(GiveUp);
        }
        // Lines: (start, end, spaces) until the first line indented at most `column`.
        let mut line = header_end + 1;
        let mut indent = None;
        let mut content_start = 0;
        let mut value = String::new();
        let mut trailing = 0;
        let stop;
        loop {
            if line >= self.s.len() {
                stop = (self.s.len(), self.s.len());
                break;
            }
            let end = self.line_end(line);
            let spaces = self.spaces(line);
            if line + spaces == end {
                // An empty line: no more spaces than the indentation (that would be content),
                // none before the first line.
                if indent.map_or(spaces > 0, |i| spaces > i) {
                    return Err(GiveUp);
                }
                if end >= self.s.len() {
                    return Err(GiveUp);
                }
                trailing += 1;
                line = end + 1;
                continue;
            }
            let block = match indent {
                None if spaces > column => {
                    indent = Some(spaces);
                    content_start = line + spaces;
                    spaces
                }
                None => return Err(GiveUp),
                Some(i) => i,
            };
            if spaces < block {
                if spaces > column {
                    return Err(GiveUp);
                }
                stop = (line, line + spaces);
                break;
            }
            if end >= self.s.len() {
                // The last line has no line break: left to the parser.
                return Err(GiveUp);
            }
            for _ in 0..trailing {
                value.push('\n');
            }
            trailing = 0;
            value.push_str(self.t.get(line + block..end).ok_or(GiveUp)?);
            value.push('\n');
            line = end + 1;
        }
        if indent.is_none() {
            return Err(GiveUp);
        }
        match chomp {
            Some(false) => {
                value.pop();
            }
            Some(true) => value.extend(std::iter::repeat_n('\n', trailing)),
            None => {}
        }
        let owned = self.b.owned.push(&value);
        let node = Node::scalar(self.span(content_start, stop.1), Style::Block, Resolved::Str, Some(owned));
        self.b.push(node, 0);
        self.i = stop.0;
        Ok(())
    }
}

/// Characters that start something other than a plain scalar (or that the reader leaves to
/// the parser: `-`, `?` and `:` can start one, rarely).
fn is_indicator(c: u8) -> bool {
    matches!(
        c,
        b'-' | b'?'
            | b':'
            | b','
            | b'['
            | b']'
            | b'{'
            | b'}'
            | b'#'
            | b'&'
            | b'*'
            | b'!'
            | b'|'
            | b'>'
            | b'\''
            | b'"'
            | b'%'
            | b'@'
            | b'`'
            | b' '
    )
}
