use std::fmt;

use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents, SourceCode, SourceSpan,
    SpanContents,
};
use rayon::prelude::*;

use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Outcome;
use crate::source::{SourceFile, Span};

/// The lines a report quotes around one span, shown under a name (the file's, or the Helm
/// template a document came from). Only these lines are read: a file's text is not kept.
struct Named<'a> {
    lines: SourceFile,
    /// Where `lines` starts in the file, and its first line (0-based).
    start: usize,
    first_line: usize,
    name: &'a str,
}

/// Lines quoted on each side of a span (miette shows fewer).
const CONTEXT: usize = 3;

impl<'a> Named<'a> {
    fn new(file: &SourceFile, span: Span, name: &'a str) -> Named<'a> {
        let (text, start, first_line) = file.excerpt(span, CONTEXT);
        Named { lines: SourceFile::new(String::new(), text.into()), start, first_line, name }
    }
}

impl SourceCode for Named<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let local =
            SourceSpan::from((span.offset().checked_sub(self.start).ok_or(MietteError::OutOfBounds)?, span.len()));
        let inner = self.lines.read_span(&local, before, after)?;
        // miette reads the span alone for the snippet header's line:column: give the span's
        // own column, not its line's first.
        let column = if before == 0 && after == 0 {
            let len = local.offset() - inner.span().offset().min(local.offset());
            let start = inner.span().offset();
            self.lines
                .text()
                .get(start..start + len)
                .map_or(inner.column(), |t| t.rsplit('\n').next().map_or(0, |l| l.chars().count()))
        } else {
            inner.column()
        };
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            SourceSpan::from((inner.span().offset() + self.start, inner.span().len())),
            inner.line() + self.first_line,
            column,
            inner.line_count(),
        )))
    }
}

fn source_span(span: Span) -> SourceSpan {
    SourceSpan::from((span.start as usize, span.len()))
}

/// A related place rendered as a nested note with its own snippet.
struct Note<'a> {
    message: std::borrow::Cow<'a, str>,
    span: Span,
    source: Named<'a>,
}

struct Report<'a> {
    d: &'a Diagnostic,
    source: Named<'a>,
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}
impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}
impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(format!("{}[{}]", self.d.severity.as_str(), self.d.rule)))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.d.help.as_deref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let label =
            LabeledSpan::new_primary_with_span(self.d.label.as_deref().map(str::to_string), source_span(self.d.span));
        Some(Box::new(std::iter::once(label)))
    }
}

impl fmt::Display for Note<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl fmt::Debug for Note<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
impl std::error::Error for Note<'_> {}

impl miette::Diagnostic for Note<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(miette::Severity::Advice)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_primary_with_span(None, source_span(self.span)))))
    }
}

fn display_name(file: &SourceFile, helm_source: Option<&str>) -> String {
    match helm_source {
        Some(template) => format!("{} (from {template})", file.name),
        None => file.name.clone(),
    }
}

pub fn render_human(outcome: &Outcome, color: bool) -> String {
    let mut out = Vec::new();
    write_human(outcome, color, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("reports are UTF-8")
}

/// Writes every diagnostic and a summary line: rendered in parallel a batch at a time, written
/// in order, so a large report is never held in memory whole.
pub fn write_human(outcome: &Outcome, color: bool, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let handlers = Handlers::new(color);
    for batch in outcome.diagnostics.chunks(512) {
        let rendered: Vec<String> = batch.par_iter().map(|d| render_one(outcome, &handlers, d)).collect();
        for text in rendered {
            out.write_all(text.as_bytes())?;
        }
    }
    out.write_all(b"\n")?;
    out.write_all(summary(&outcome.summary).as_bytes())
}

/// One renderer for findings, where an info is marked `ℹ`, and one for related places, marked
/// `☞` (miette draws both with its "advice" mark).
struct Handlers {
    finding: GraphicalReportHandler,
    related: GraphicalReportHandler,
}

impl Handlers {
    fn new(color: bool) -> Handlers {
        let theme = |advice: &str| {
            let mut theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
            theme.characters.advice = advice.to_string();
            GraphicalReportHandler::new_themed(theme).with_width(110).with_links(false)
        };
        Handlers { finding: theme("ℹ"), related: theme("☞") }
    }
}

fn render_one(outcome: &Outcome, handlers: &Handlers, d: &crate::diagnostic::Diagnostic) -> String {
    let file = &outcome.file(d.file).source;
    let name = display_name(file, d.helm_source.as_deref().filter(|_| d.rendered.is_none()));
    let report = Report { d, source: Named::new(file, d.span, &name) };
    let mut out = String::from("\n");
    if handlers.finding.render_report(&mut out, &report).is_err() {
        out = format!("\n{}: {}[{}] {}\n", file.name, d.severity.as_str(), d.rule, d.message);
    }
    // The rule's page, as text: CI logs and plain terminals show no hyperlinks.
    out.push_str(&format!("  docs: {}\n", crate::rules::doc_url(d.rule)));
    // A finding on rendered output is reported at its template or source file; the rendered
    // lines show what is wrong once values and patches are applied.
    let rendered = d.rendered.map(|(file, span)| {
        let rfile = &outcome.file(file).source;
        let message = format!("as rendered by `{}`", rfile.name).into();
        ("Rendered output:", Note { message, span, source: Named::new(rfile, span, &rfile.name) })
    });
    let related = d.related.iter().map(|r| {
        let rfile = &outcome.file(r.file).source;
        let note =
            Note { message: r.message.as_str().into(), span: r.span, source: Named::new(rfile, r.span, &rfile.name) };
        ("Related place:", note)
    });
    for (heading, note) in rendered.into_iter().chain(related) {
        out.push_str(&format!("\n{heading}\n"));
        let mut text = String::new();
        if handlers.related.render_report(&mut text, &note).is_err() {
            text = format!("  {}: {}\n", note.source.name, note.message);
        }
        out.push_str(&text);
    }
    out
}

fn summary(s: &crate::lint::Summary) -> String {
    let mut text = String::new();
    let mut files = plural(s.files, "file");
    if s.context_files > 0 {
        files.push_str(&format!(" and {} of context", plural(s.context_files, "file")));
    }
    let mut hidden = Vec::new();
    if s.suppressed > 0 {
        hidden.push(format!("{} suppressed", s.suppressed));
    }
    if s.baselined > 0 {
        hidden.push(format!("{} in the baseline", s.baselined));
    }
    let hidden = if hidden.is_empty() { String::new() } else { format!(" Not shown: {}.", hidden.join(", ")) };
    if s.errors + s.warnings + s.infos == 0 {
        text.push_str(&format!(
            "No problems found in {files} ({}, {}).{hidden}\n",
            plural(s.documents, "document"),
            plural(s.objects, "object")
        ));
    } else {
        text.push_str(&format!(
            "Found {}, {} and {} in {files} ({}, {}).{hidden}\n",
            plural(s.errors, "error"),
            plural(s.warnings, "warning"),
            plural(s.infos, "info"),
            plural(s.documents, "document"),
            plural(s.objects, "object")
        ));
    }
    text
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 { format!("1 {word}") } else { format!("{n} {word}s") }
}
