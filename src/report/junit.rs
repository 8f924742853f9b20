use crate::lint::Outcome;

/// JUnit XML for CI test reports (GitLab, Jenkins): one test suite per linted file, one failed
/// test case per finding, and one passing case for a clean file.
pub fn render_junit(outcome: &Outcome) -> String {
    let mut out = String::new();
    let (mut tests, mut failures) = (0, 0);
    for file in outcome.files.iter().filter(|f| f.role == crate::load::Role::Lint) {
        let name = escape(&file.source.name);
        let findings: Vec<_> = outcome.diagnostics.iter().filter(|d| d.file == file.id).collect();
        tests += findings.len().max(1);
        failures += findings.len();
        out.push_str(&format!(
            "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{}\">\n",
            findings.len().max(1),
            findings.len()
        ));
        if findings.is_empty() {
            out.push_str(&format!("    <testcase name=\"rollcheck\" classname=\"{name}\"/>\n"));
        }
        for d in findings {
            let at = file.source.line_col(d.span.start);
            let object = d.object.as_ref().map(|o| format!(" {}/{}", o.kind, o.name)).unwrap_or_default();
            let mut body = format!("{}:{}:{}: {}", file.source.name, at.line, at.column, d.message);
            if let Some(help) = &d.help {
                body.push_str(&format!("\nhelp: {help}"));
            }
            out.push_str(&format!(
                "    <testcase name=\"{}{} at line {}\" classname=\"{name}\">\n      <failure type=\"{}\" message=\"{}\">{}</failure>\n    </testcase>\n",
                d.rule,
                escape(&object),
                at.line,
                d.severity.as_str(),
                escape(&d.message),
                escape(&body)
            ));
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"rollcheck\" tests=\"{tests}\" failures=\"{failures}\">\n{out}"
    )
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
