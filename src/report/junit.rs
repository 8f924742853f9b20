use crate::lint::Outcome;

/// JUnit XML for CI test reports (GitLab, Jenkins): one test suite per linted file, one failed
/// test case per finding, and one passing case for a clean file.
pub fn render_junit(outcome: &Outcome) -> String {
    let mut out = Vec::new();
    write_junit(outcome, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("XML is UTF-8")
}

/// Writes the report a test suite at a time.
pub fn write_junit(outcome: &Outcome, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let linted = || outcome.files.iter().filter(|f| f.role == crate::load::Role::Lint);
    // Findings are sorted by file: each file's are one run.
    let findings_of = |id| {
        let all = &outcome.diagnostics;
        let start = all.partition_point(|d| d.file < id);
        &all[start..start + all[start..].partition_point(|d| d.file == id)]
    };
    let failures: usize = linted().map(|f| findings_of(f.id).len()).sum();
    let tests: usize = linted().map(|f| findings_of(f.id).len().max(1)).sum();
    write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"rollcheck\" tests=\"{tests}\" failures=\"{failures}\">\n"
    )?;
    for file in linted() {
        let name = escape(&file.source.name);
        let findings = findings_of(file.id);
        writeln!(
            out,
            "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{}\">",
            findings.len().max(1),
            findings.len()
        )?;
        if findings.is_empty() {
            writeln!(out, "    <testcase name=\"rollcheck\" classname=\"{name}\"/>")?;
        }
        for d in findings {
            let at = file.source.line_col(d.span.start);
            let object = d.object.as_ref().map(|o| format!(" {}/{}", o.kind, o.name)).unwrap_or_default();
            let mut body = format!("{}:{}:{}: {}", file.source.name, at.line, at.column, d.message);
            if let Some(help) = &d.help {
                body.push_str(&format!("\nhelp: {help}"));
            }
            write!(
                out,
                "    <testcase name=\"{}{} at line {}\" classname=\"{name}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                d.rule,
                escape(&object),
                at.line,
                d.severity.as_str(),
                escape(&d.message),
                escape(&body)
            )?;
        }
        writeln!(out, "  </testsuite>")?;
    }
    writeln!(out, "</testsuites>")
}

/// XML text and attribute escaping; characters XML 1.0 cannot carry become U+FFFD.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}
