use crate::diagnostic::Severity;
use crate::lint::Outcome;

/// GitHub Actions workflow commands: each finding becomes an annotation on the file in the pull
/// request (`::error file=...,line=...,col=...,title=...::message`).
pub fn render_github(outcome: &Outcome) -> String {
    let mut out = String::new();
    for d in &outcome.diagnostics {
        let source = &outcome.file(d.file).source;
        let start = source.line_col(d.span.start);
        let end = source.line_col(d.span.end);
        let command = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut message = d.message.clone();
        if let Some(template) = &d.helm_source {
            message.push_str(&format!(" (rendered from {template})"));
        }
        if let Some(help) = &d.help {
            message.push_str(&format!("\nhelp: {help}"));
        }
        let path = source.name.strip_prefix("./").unwrap_or(&source.name);
        out.push_str(&format!(
            "::{command} file={},line={},endLine={},col={},endColumn={},title={}::{}\n",
            property(path),
            start.line,
            end.line,
            start.column,
            end.column,
            property(&format!("rollcheck {}", d.rule)),
            data(&message)
        ));
    }
    out
}

fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}
