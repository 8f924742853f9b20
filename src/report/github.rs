use crate::diagnostic::Severity;
use crate::lint::Outcome;

/// GitHub Actions workflow commands: each finding becomes an annotation on the file in the pull
/// request (`::error file=...,line=...,col=...,title=...::message`).
pub fn render_github(outcome: &Outcome) -> String {
    let mut out = Vec::new();
    write_github(outcome, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("annotations are UTF-8")
}

/// Writes one annotation per finding.
pub fn write_github(outcome: &Outcome, out: &mut dyn std::io::Write) -> std::io::Result<()> {
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
        if let Some((file, span)) = d.rendered {
            let output = &outcome.file(file).source;
            message.push_str(&format!(" (line {} of `{}`)", output.line_col(span.start).line, output.name));
        } else if let Some(template) = &d.helm_source {
            message.push_str(&format!(" (rendered from {template})"));
        }
        if let Some(help) = &d.help {
            message.push_str(&format!("\nhelp: {help}"));
        }
        let path = source.name.strip_prefix("./").unwrap_or(&source.name);
        writeln!(
            out,
            "::{command} file={},line={},endLine={},col={},endColumn={},title={}::{}",
            property(path),
            start.line,
            end.line,
            start.column,
            end.column,
            property(&format!("rollcheck {}", d.rule)),
            data(&message)
        )?;
    }
    Ok(())
}

fn data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}
