use serde::Serialize;

use crate::lint::{Outcome, Summary};

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    diagnostics: Vec<Entry<'a>>,
    summary: Summary,
}

#[derive(Serialize)]
struct Entry<'a> {
    rule: &'a str,
    severity: &'a str,
    /// The rule's documentation page.
    url: String,
    message: &'a str,
    help: Option<&'a str>,
    file: &'a str,
    line: usize,
    column: usize,
    end_line: usize,
    end_column: usize,
    helm_source: Option<&'a str>,
    object: Option<Object<'a>>,
    related: Vec<Related<'a>>,
}

#[derive(Serialize)]
struct Object<'a> {
    kind: &'a str,
    name: &'a str,
    namespace: Option<&'a str>,
}

#[derive(Serialize)]
struct Related<'a> {
    file: &'a str,
    line: usize,
    column: usize,
    message: &'a str,
}

pub fn render_json(outcome: &Outcome) -> String {
    let diagnostics = outcome
        .diagnostics
        .iter()
        .map(|d| {
            let source = &outcome.file(d.file).source;
            let start = source.line_col(d.span.start);
            let end = source.line_col(d.span.end);
            Entry {
                rule: d.rule,
                severity: d.severity.as_str(),
                url: crate::rules::doc_url(d.rule),
                message: &d.message,
                help: d.help.as_deref(),
                file: &source.name,
                line: start.line,
                column: start.column,
                end_line: end.line,
                end_column: end.column,
                helm_source: d.helm_source.as_deref(),
                object: d.object.as_ref().map(|o| Object {
                    kind: &o.kind,
                    name: &o.name,
                    namespace: o.namespace.as_deref(),
                }),
                related: d
                    .related
                    .iter()
                    .map(|r| {
                        let source = &outcome.file(r.file).source;
                        let at = source.line_col(r.span.start);
                        Related { file: &source.name, line: at.line, column: at.column, message: &r.message }
                    })
                    .collect(),
            }
        })
        .collect();
    let mut text = serde_json::to_string_pretty(&Output { version: 1, diagnostics, summary: outcome.summary })
        .expect("plain data serializes");
    text.push('\n');
    text
}
