//! Suppressions: `# rollcheck-ignore: rule-a, rule-b -- reason` on the line before a finding or
//! at the end of its line, `# rollcheck-ignore-file: ...` for a whole file (for a document of a
//! `helm template` stream), and the `rollcheck.io/ignore: "rule-a,rule-b"` annotation for a
//! whole object, which survives `helm template`. A suppression that hides nothing is reported.

use std::collections::HashMap;

use crate::diagnostic::{Diagnostic, did_you_mean};
use crate::index::Index;
use crate::load::LoadedFile;
use crate::rules;
use crate::source::{FileId, Span};
use crate::yaml::Document;

pub const ANNOTATION: &str = "rollcheck.io/ignore";
const LINE_DIRECTIVE: &str = "rollcheck-ignore";
const FILE_DIRECTIVE: &str = "rollcheck-ignore-file";

/// The bytes of the file a suppression covers: its line, the next line with content, a
/// document or the whole file.
#[derive(Debug, Clone, Copy)]
struct Scope(Span);

#[derive(Debug, Clone)]
struct Entry {
    /// A rule id, or `all`.
    id: String,
    span: Span,
    used: bool,
}

#[derive(Debug, Clone)]
pub struct Suppression {
    file: FileId,
    scope: Scope,
    entries: Vec<Entry>,
}

/// Every suppression of `files` (those `lint` accepts): their comments, read as they were
/// loaded, and their objects' annotations.
pub fn collect(files: &[LoadedFile], index: &Index, lint: impl Fn(FileId) -> bool) -> Vec<Suppression> {
    let mut out: Vec<Suppression> =
        files.iter().filter(|f| lint(f.id)).flat_map(|f| f.suppressions.iter().cloned()).collect();
    for obj in index.objects.iter().filter(|o| lint(o.file)) {
        let Some(value) = obj.get(&["metadata", "annotations", ANNOTATION]) else { continue };
        let Some(text) = value.text() else { continue };
        let entries =
            parse_list(text, 0).into_iter().map(|(range, id)| Entry { id, span: value.value_span(range), used: false });
        out.push(Suppression { file: obj.file, scope: Scope(obj.root().span()), entries: entries.collect() });
    }
    out
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

/// Removes suppressed findings; returns how many were removed.
pub fn apply(diagnostics: &mut Vec<Diagnostic>, suppressions: &mut [Suppression]) -> usize {
    if suppressions.is_empty() {
        return 0;
    }
    let mut by_file: HashMap<FileId, Vec<usize>> = HashMap::new();
    for (i, s) in suppressions.iter().enumerate() {
        by_file.entry(s.file).or_default().push(i);
    }
    let before = diagnostics.len();
    diagnostics.retain(|d| {
        let Some(candidates) = by_file.get(&d.file) else { return true };
        let mut hidden = false;
        for &i in candidates {
            let s = &mut suppressions[i];
            let Scope(r) = s.scope;
            let in_scope = r.start <= d.span.start && d.span.start < r.end.max(r.start + 1);
            if !in_scope {
                continue;
            }
            for e in s.entries.iter_mut().filter(|e| e.id == d.rule || e.id == "all") {
                e.used = true;
                hidden = true;
            }
        }
        !hidden
    });
    before - diagnostics.len()
}

/// Findings for suppressions that hid nothing, or name no rule. `enabled` tells whether a rule
/// is on for a file: a suppression of a rule that is off is not reported.
pub fn unused(suppressions: &[Suppression], enabled: impl Fn(FileId, &str) -> bool) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for s in suppressions {
        for e in s.entries.iter().filter(|e| !e.used) {
            let rule = rules::find(&e.id);
            let message = match rule {
                None if e.id == "all" => "this suppression hides no finding".to_string(),
                None => {
                    let hint = did_you_mean(&e.id, rules::ALL.iter().map(|r| r.id))
                        .map(|s| format!("; did you mean `{s}`?"))
                        .unwrap_or_default();
                    format!("unknown rule `{}` in a suppression{hint}", e.id)
                }
                Some(r) if !enabled(s.file, r.id) => continue,
                Some(r) => format!("`{}` is suppressed here, but reports nothing here", r.id),
            };
            let mut d =
                Diagnostic::new("unused-suppression", rules::UNUSED_SUPPRESSION.severity, s.file, e.span, message);
            d.help("remove it, so that suppressions keep meaning something");
            out.push(d);
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
