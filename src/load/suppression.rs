//! Reading suppressions: `# rollcheck-ignore: rule-a, rule-b -- reason` on the line before a
//! finding or at the end of its line, `# rollcheck-ignore-file: ...` for a whole file (for a
//! document of a `helm template` stream), and the `rollcheck.io/ignore: "rule-a,rule-b"`
//! annotation for a whole object, which survives `helm template`. Applying them is the lint's.

use crate::source::{FileId, Span};
use crate::yaml::{Document, NodeRef};

pub const ANNOTATION: &str = "rollcheck.io/ignore";
const LINE_DIRECTIVE: &str = "rollcheck-ignore";
const FILE_DIRECTIVE: &str = "rollcheck-ignore-file";

/// The bytes of the file a suppression covers: its line, the next line with content, a
/// document or the whole file.
#[derive(Debug, Clone, Copy)]
pub struct Scope(pub Span);

#[derive(Debug, Clone)]
pub struct Entry {
    /// A rule id, or `all`.
    pub id: String,
    pub span: Span,
    pub used: bool,
}

#[derive(Debug, Clone)]
pub struct Suppression {
    pub file: FileId,
    pub scope: Scope,
    pub entries: Vec<Entry>,
}

/// The suppression an object's `rollcheck.io/ignore` annotation makes, covering `object`.
pub fn from_annotation(file: FileId, object: Span, value: NodeRef<'_>) -> Option<Suppression> {
    let text = value.text()?;
    let entries =
        parse_list(text, 0).into_iter().map(|(range, id)| Entry { id, span: value.value_span(range), used: false });
    Some(Suppression { file, scope: Scope(object), entries: entries.collect() })
}

/// The suppression comments of a document, while its text is at hand: `text` is the part of
/// the file that starts at byte `origin` and holds the document.
pub fn from_comments(file: FileId, text: &str, origin: usize, doc: &Document) -> Vec<Suppression> {
    doc.comments.iter().filter_map(|&c| from_comment(file, text, origin, doc, c)).collect()
}

fn from_comment(file: FileId, text: &str, origin: usize, doc: &Document, comment: Span) -> Option<Suppression> {
    let local = |offset: u32| (offset as usize).saturating_sub(origin);
    let raw = text.get(local(comment.start)..local(comment.end))?;
    let body = raw.trim_start_matches('#');
    let lead = raw.len() - body.trim_start().len();
    let body = body.trim_start();
    let (directive, is_file) = if body.starts_with(FILE_DIRECTIVE) {
        (FILE_DIRECTIVE, true)
    } else if body.starts_with(LINE_DIRECTIVE) {
        (LINE_DIRECTIVE, false)
    } else {
        return None;
    };
    let rest = &body[directive.len()..];
    if !(rest.is_empty() || rest.starts_with(':') || rest.starts_with(char::is_whitespace)) {
        return None;
    }
    let list_offset = lead + directive.len() + usize::from(rest.starts_with(':'));
    let list = rest.strip_prefix(':').unwrap_or(rest);
    let list = list.split("--").next().unwrap_or_default();
    let mut entries: Vec<Entry> = parse_list(list, list_offset)
        .into_iter()
        .map(|(r, id)| Entry {
            id,
            span: Span::new(comment.start as usize + r.start, comment.start as usize + r.end),
            used: false,
        })
        .collect();
    if entries.is_empty() {
        // A bare directive suppresses every rule.
        entries.push(Entry { id: "all".into(), span: comment, used: false });
    }
    let scope = match (is_file, &doc.helm_source) {
        (true, Some(_)) => doc.span.cover(comment),
        (true, None) => Span { start: 0, end: u32::MAX },
        (false, _) => target_line(text, origin, local(comment.start)),
    };
    Some(Suppression { file, scope: Scope(scope), entries })
}

/// The line a line suppression covers (the comment starts at `at` in `text`): its own when
/// code precedes it, otherwise the next line with content (so several suppression comments
/// can stack above one line). Past the end of `text` comes a `---` line, or nothing.
fn target_line(text: &str, origin: usize, at: usize) -> Span {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    // Past the line break; past the end for the last line (a finding at the very end is on it).
    let line_end = |start: usize| text[start..].find('\n').map_or(text.len() + 1, |i| start + i + 1);
    let whole = |start: usize, end: usize| Span::new(origin + start, origin + end);
    if !text[line_start..at].trim().is_empty() {
        return whole(line_start, line_end(line_start));
    }
    let mut start = line_end(line_start);
    while start < text.len() {
        let end = line_end(start);
        let line = text[start..end.min(text.len())].trim();
        if !line.is_empty() && !line.starts_with('#') {
            return whole(start, end);
        }
        start = end;
    }
    whole(text.len(), text.len())
}

/// Rule ids separated by commas or spaces, with their byte ranges (shifted by `offset`).
fn parse_list(text: &str, offset: usize) -> Vec<(std::ops::Range<usize>, String)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ','))) {
        let separator = c == ',' || c.is_whitespace();
        match (start, separator) {
            (None, false) => start = Some(i),
            (Some(s), true) => {
                out.push((offset + s..offset + i, text[s..i].to_string()));
                start = None;
            }
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::parse_list;

    #[test]
    fn lists_split_on_commas_and_spaces() {
        let got = parse_list(" a-b, c  d,", 10);
        assert_eq!(got, vec![(11..14, "a-b".into()), (16..17, "c".into()), (19..20, "d".into())]);
        assert!(parse_list("  ", 0).is_empty());
    }
}
