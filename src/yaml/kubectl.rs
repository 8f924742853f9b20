//! YAML as kubectl reads it, where that differs from the parser's YAML 1.2.
//!
//! kubectl (`apply`, `create`, `annotate --local`) cuts a stream at every line that starts with
//! `---` and decodes each piece with go-yaml v2 (through sigs.k8s.io/yaml), which reads the
//! piece's first document only and converts it to JSON. So:
//! - a `---` line followed by anything but a comment is refused ("invalid Yaml document
//!   separator"), and a `%YAML`/`%TAG` directive is left without its document;
//! - what follows the first document of a piece (after `...`) is never read;
//! - go-yaml is stricter than YAML 1.2 in some places (tabs, anchors, flow scalars, keys JSON
//!   cannot hold) and more lenient in others (indentation of quoted continuation lines, comments
//!   glued to a token, `\'` escapes, `-` in a flow sequence). The lenient places are handled by
//!   rewriting the construct into one both read the same way ([`fix_for`]); the strict ones are
//!   findings ([`tab_refusals`] and the checks in the parser adapter).

/// One piece of a stream as kubectl cuts it: `[start, end)` includes its `---` line, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    pub start: usize,
    /// Where the content after the `---` line starts.
    pub body: usize,
    pub end: usize,
}

/// Cuts `text[start..end]` at lines starting with `---`, as kubectl's YAML reader does.
pub fn pieces(text: &str, start: usize, end: usize) -> Vec<Piece> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut piece_start = start;
    let mut body = start;
    let mut line = start;
    while line < end {
        let line_end = memchr::memchr(b'\n', &bytes[line..end]).map_or(end, |i| line + i + 1);
        if bytes[line..line_end].starts_with(b"---") {
            if line > piece_start {
                out.push(Piece { start: piece_start, body, end: line });
            }
            piece_start = line;
            body = line_end;
        }
        line = line_end;
    }
    if end > piece_start || out.is_empty() {
        out.push(Piece { start: piece_start, body, end });
    }
    out
}

/// What kubectl refuses about a piece before reading its YAML: text after `---` that is not a
/// comment, a directive left without its document, or a `...` before any content.
/// Returns the offset and the message.
pub fn piece_refusal(text: &str, piece: Piece) -> Option<(usize, String)> {
    if piece.body > piece.start {
        let line = &text[piece.start..piece.body];
        let rest = line[3..].trim();
        if !rest.is_empty() && !rest.starts_with('#') {
            let at = piece.start + 3 + (line[3..].len() - line[3..].trim_start().len());
            return Some((
                at,
                format!(
                    "kubectl refuses `{rest}` after `---`: its reader cuts the stream at `---` lines and allows only a comment after one (invalid Yaml document separator)"
                ),
            ));
        }
    }
    let mut at = piece.body;
    for line in text[piece.body..piece.end].split_inclusive('\n') {
        let trimmed = line.trim_start_matches([' ', '\t']);
        let content = trimmed.trim_end();
        if content.is_empty() || content.starts_with('#') {
            at += line.len();
            continue;
        }
        if line.starts_with('%') {
            return Some((
                at,
                "kubectl refuses a `%YAML` or `%TAG` directive: its reader cuts the stream at the `---` line that follows, leaving the directive without a document (did not find expected <document start>)".into(),
            ));
        }
        if line.starts_with("...") && line[3..].trim_start().is_empty_or_comment() {
            return Some((
                at,
                "kubectl refuses `...` before any content in a document (did not find expected node content)".into(),
            ));
        }
        return None;
    }
    None
}

trait EmptyOrComment {
    fn is_empty_or_comment(&self) -> bool;
}

impl EmptyOrComment for str {
    fn is_empty_or_comment(&self) -> bool {
        let t = self.trim();
        t.is_empty() || t.starts_with('#')
    }
}

/// A change to a piece's text: replace `remove` bytes at `at` with `insert`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub at: usize,
    pub remove: usize,
    pub insert: String,
}

/// What the parser adapter knows where the parser gave up.
pub struct Context {
    /// Where the last complete event ended (a quoted scalar being read starts after it).
    pub last_event_end: usize,
    /// Whether the parser is inside a flow collection.
    pub in_flow: bool,
}

/// Edits that make the parser read a construct go-yaml v2 accepts and the parser refuses, in
/// the same way go-yaml does, for the parser's error `message` at `at` in `text`. `None` when
/// go-yaml refuses it too (or the error is not one of these).
pub fn fix_for(message: &str, text: &str, at: usize, cx: &Context) -> Option<Vec<Edit>> {
    let bytes = text.as_bytes();
    if message.starts_with("comments must be separated from other tokens by whitespace") {
        // `k: "v"# note`: go-yaml ends the token at the quote or bracket and reads a comment.
        return (bytes.get(at) == Some(&b'#')).then(|| vec![Edit { at, remove: 0, insert: " ".into() }]);
    }
    if message.starts_with("plain scalar cannot start with '-' followed by ,[]{}") {
        // `[-, -]`: go-yaml reads `-` as a plain scalar in a flow collection.
        return (cx.in_flow && bytes.get(at) == Some(&b'-'))
            .then(|| vec![Edit { at, remove: 1, insert: "\"-\"".into() }]);
    }
    if message.starts_with("tabs disallowed within this context") && cx.in_flow {
        // A tab before content inside a flow collection is whitespace to go-yaml.
        let line = line_start(text, at);
        let edits: Vec<Edit> = (line..at.min(text.len()))
            .filter(|&i| bytes[i] == b'\t')
            .map(|i| Edit { at: i, remove: 1, insert: " ".into() })
            .collect();
        return (!edits.is_empty()).then_some(edits);
    }
    let quoted = message.starts_with("invalid indentation in multiline quoted scalar")
        || message.starts_with("tab cannot be used as indentation")
        || message.starts_with("while parsing a quoted scalar, found unknown escape character");
    if !quoted {
        return None;
    }
    let open = cx.last_event_end + text.get(cx.last_event_end..)?.find(|c: char| !c.is_whitespace() && c != ':')?;
    let quote = *bytes.get(open)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let close = closing_quote(bytes, open)?;
    if at < open || at > close {
        return None;
    }
    let mut edits = Vec::new();
    if message.starts_with("while parsing a quoted scalar") {
        // go-yaml v2 reads `\'` in double quotes as `'`.
        let mut i = open + 1;
        while i < close {
            if bytes[i] == b'\\' {
                if bytes.get(i + 1) == Some(&b'\'') {
                    edits.push(Edit { at: i, remove: 1, insert: String::new() });
                }
                i += 2;
            } else {
                i += 1;
            }
        }
        return (!edits.is_empty()).then_some(edits);
    }
    // Continuation lines at or left of the key's column, or indented with tabs: go-yaml
    // strips a continuation line's leading white space whatever it is, so indent each line
    // with spaces past the opening quote.
    let want = open - line_start(text, open) + 1;
    let mut line = memchr::memchr(b'\n', &bytes[open..close]).map(|i| open + i + 1);
    while let Some(l) = line {
        if l > close {
            break;
        }
        let lead = bytes[l..].iter().take_while(|&&b| b == b' ' || b == b'\t').count();
        let blank = matches!(bytes.get(l + lead), Some(b'\n' | b'\r') | None);
        if !blank && (lead < want || bytes[l..l + lead].contains(&b'\t')) {
            edits.push(Edit { at: l, remove: lead, insert: " ".repeat(want.max(lead)) });
        }
        line = memchr::memchr(b'\n', &bytes[l..close]).map(|i| l + i + 1);
    }
    (!edits.is_empty()).then_some(edits)
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].rfind('\n').map_or(0, |i| i + 1)
}

/// The offset of the quote closing the scalar opened at `open`.
fn closing_quote(bytes: &[u8], open: usize) -> Option<usize> {
    let quote = bytes[open];
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Whether an anchor or alias name is one go-yaml v2 reads whole: letters, digits, `_`, `-`.
/// go-yaml reads the name up to the first other character, which must be a blank or one of
/// `?:,]}%@`; a name that ends in `:` is followed by a value indicator, a syntax error there.
pub fn anchor_name_ok(name: &str) -> bool {
    let prefix = name.bytes().take_while(|&b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-').count();
    let rest = &name[prefix..];
    prefix > 0 && rest != ":" && (rest.is_empty() || rest.starts_with(['?', ':', ',', ']', '}', '%', '@', '`']))
}

/// Whether a double-quoted scalar's source (with its quotes) has an escape go-yaml v2 does
/// not know (`\/` is the one YAML 1.2 added).
pub fn unknown_escape(source: &str) -> Option<usize> {
    let bytes = source.as_bytes();
    let mut i = 1;
    while i + 1 < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes[i + 1] == b'/' {
                return Some(i);
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    None
}

/// Where go-yaml v2 refuses a tab in `text[start..end]` outside `exempt` ranges (quoted and
/// multi-line plain scalars, flow collections) and `blocks` (block scalar bodies, as
/// (header line end, span end)): a tab at the start of a line in block context, and a tab in a
/// block scalar's indentation.
/// Blank lines right after a plain scalar are read by go-yaml's plain scalar scanner, which
/// refuses a tab there only left of the scalar's indentation (its parent's plus one).
/// `plains` are the plain scalars in block context, (start, end), sorted by end. The parent's
/// indentation is taken as that of the line the scalar starts on when something precedes it
/// there (`key: value`, `- value`), and as 0 otherwise: this errs on the side of accepting.
pub fn tab_refusals(
    text: &str,
    start: usize,
    end: usize,
    exempt: &[(usize, usize)],
    blocks: &[(usize, usize)],
    plains: &[(usize, usize)],
) -> Option<(usize, &'static str)> {
    let bytes = text.as_bytes();
    memchr::memchr(b'\t', &bytes[start..end])?;
    let inside = |ranges: &[(usize, usize)], at: usize| ranges.iter().any(|&(s, e)| s < at && at < e);
    let mut line = start;
    // After a plain scalar: the columns left of which a tab is refused.
    let mut after_plain: Option<usize> = None;
    while line < end {
        let line_end = memchr::memchr(b'\n', &bytes[line..end]).map_or(end, |i| line + i + 1);
        let spaces = bytes[line..line_end].iter().take_while(|&&b| b == b' ').count();
        let content = text[line..line_end].trim_end();
        let blank = content.trim_start().is_empty();
        if !blank {
            after_plain = plains.binary_search_by_key(&(line + content.len()), |p| p.1).ok().map(|i| {
                let start = plains[i].0;
                let first = text[..start].rfind('\n').map_or(0, |n| n + 1);
                let lead = bytes[first..start].iter().take_while(|&&b| b == b' ').count();
                if first + lead == start { 1 } else { lead + 1 }
            });
        }
        if bytes.get(line + spaces) == Some(&b'\t')
            && (!blank || after_plain.is_none_or(|limit| spaces < limit))
            && !inside(exempt, line + spaces)
            && !blocks.iter().any(|&(s, e)| s <= line && line < e)
        {
            return Some((
                line + spaces,
                "kubectl refuses a tab at the start of a line outside quotes and brackets: go-yaml allows only spaces there (found character that cannot start any token)",
            ));
        }
        line = line_end;
    }
    for &(body, block_end) in blocks {
        let mut indent: Option<usize> = None;
        let mut seen = 0;
        let mut line = body;
        while line < block_end.min(end) {
            let line_end = memchr::memchr(b'\n', &bytes[line..end]).map_or(end, |i| line + i + 1);
            let spaces = bytes[line..line_end].iter().take_while(|&&b| b == b' ').count();
            let limit = indent.unwrap_or(usize::MAX);
            if spaces < limit && bytes.get(line + spaces) == Some(&b'\t') {
                return Some((
                    line + spaces,
                    "kubectl refuses a tab in a block scalar's indentation: go-yaml allows only spaces there (found a tab character where an indentation space is expected)",
                ));
            }
            seen = seen.max(spaces);
            if indent.is_none() && !matches!(bytes.get(line + spaces), Some(b'\n' | b'\r') | None) {
                indent = Some(seen);
            }
            line = line_end;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cut_at_every_dash_line() {
        let t = "a: 1\n---\nb: 2\n--- |\nc\n---";
        let p = pieces(t, 0, t.len());
        assert_eq!(p.len(), 4);
        assert_eq!(&t[p[1].start..p[1].body], "---\n");
        assert!(piece_refusal(t, p[2]).unwrap().1.contains("`|` after `---`"));
        assert!(piece_refusal(t, p[1]).is_none());
        let t = "# c\n%YAML 1.1\n---\na: 1\n";
        assert!(piece_refusal(t, pieces(t, 0, t.len())[0]).unwrap().1.contains("directive"));
        let t = "---\n# empty\n...\n";
        assert!(piece_refusal(t, pieces(t, 0, t.len())[0]).is_some());
    }

    #[test]
    fn tabs() {
        assert!(tab_refusals("a:\n\t# c\n", 0, 8, &[], &[], &[]).is_some());
        assert!(tab_refusals("a: b\t# c\n", 0, 9, &[], &[], &[]).is_none());
        let t = "a: |\n  x\n\t\n  y\n";
        assert!(tab_refusals(t, 0, t.len(), &[], &[(5, t.len())], &[]).is_some());
        let t = "a: |\n  x\n  \t\n  y\n";
        assert!(tab_refusals(t, 0, t.len(), &[], &[(5, t.len())], &[]).is_none());
        // After a plain scalar, a tab right of the scalar's indentation is white space.
        let t = "a: 1\n \t\nb: 2\n";
        assert!(tab_refusals(t, 0, t.len(), &[], &[], &[(3, 4)]).is_none());
        let t = "a: 1\n\t\nb: 2\n";
        assert!(tab_refusals(t, 0, t.len(), &[], &[], &[(3, 4)]).is_some());
        let t = "x:\n  a: 1\n \t\n  b: 2\n";
        assert!(tab_refusals(t, 0, t.len(), &[], &[], &[(8, 9)]).is_some());
        let t = "x:\n  a: 1\n   \t\n  b: 2\n";
        assert!(tab_refusals(t, 0, t.len(), &[], &[], &[(8, 9)]).is_none());
        assert!(
            anchor_name_ok("an:chor") && !anchor_name_ok("a:") && !anchor_name_ok(":x") && anchor_name_ok("base-1")
        );
    }
}
