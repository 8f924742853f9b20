use crate::lint::Outcome;

/// `file:line:col: severity[rule] message`, one finding per line, for editors' problem matchers
/// and pre-commit logs.
pub fn render_compact(outcome: &Outcome) -> String {
    let mut out = String::new();
    for d in &outcome.diagnostics {
        let source = &outcome.file(d.file).source;
        let at = source.line_col(d.span.start);
        let message = d.message.replace('\n', " ");
        out.push_str(&format!(
            "{}:{}:{}: {}[{}] {message}\n",
            source.name,
            at.line,
            at.column,
            d.severity.as_str(),
            d.rule
        ));
    }
    out
}
