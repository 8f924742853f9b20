use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::lint::Outcome;

/// The whole output; findings are serialized one at a time, as they are written.
struct Output<'a> {
    outcome: &'a Outcome,
}

impl Serialize for Output<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Findings<'a>(&'a Outcome);
        impl Serialize for Findings<'_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.diagnostics.iter().map(|d| entry(self.0, d)))
            }
        }
        let mut out = serializer.serialize_struct("Output", 3)?;
        out.serialize_field("version", &1)?;
        out.serialize_field("diagnostics", &Findings(self.outcome))?;
        out.serialize_field("summary", &self.outcome.summary)?;
        out.end()
    }
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
    /// Where a finding reported on a template or source file was in the render's output.
    #[serde(skip_serializing_if = "Option::is_none")]
    rendered: Option<RenderedAt<'a>>,
    object: Option<Object<'a>>,
    related: Vec<Related<'a>>,
}

#[derive(Serialize)]
struct RenderedAt<'a> {
    /// The render: `helm template charts/shop -f values-prod.yaml`, `kustomize build overlays/prod`.
    unit: &'a str,
    line: usize,
    column: usize,
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
    let mut out = Vec::new();
    write_json(outcome, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Writes the JSON report, serde_json's pretty layout. The findings are serialized in parallel,
/// a block at a time, and written in order: the report is never whole in memory.
pub fn write_json(outcome: &Outcome, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    use rayon::prelude::*;
    if outcome.diagnostics.is_empty() {
        serde_json::to_writer_pretty(&mut *out, &Output { outcome })?;
        return out.write_all(b"\n");
    }
    let mut quoted: Vec<_> = outcome
        .diagnostics
        .iter()
        .flat_map(|d| std::iter::once(d.file).chain(d.related.iter().map(|r| r.file)))
        .collect();
    quoted.sort_unstable();
    quoted.dedup();
    for file in quoted {
        outcome.file(file).source.index_lines();
    }
    const BLOCK: usize = 256;
    const BLOCKS_AT_ONCE: usize = 32;
    out.write_all(b"{\n  \"version\": 1,\n  \"diagnostics\": [\n")?;
    let mut first = true;
    for group in outcome.diagnostics.chunks(BLOCK * BLOCKS_AT_ONCE) {
        let blocks: Vec<Vec<u8>> = group
            .par_chunks(BLOCK)
            .map(|block| {
                let mut text = Vec::with_capacity(block.len() * 1024);
                for d in block {
                    let entry = serde_json::to_vec_pretty(&entry(outcome, d)).expect("findings serialize");
                    indented(&mut text, &entry, b"    ", true);
                    text.extend_from_slice(b",\n");
                }
                text
            })
            .collect();
        for block in blocks {
            if !first {
                out.write_all(b",\n")?;
            }
            first = false;
            // Each block ends with a separator the next one writes.
            out.write_all(&block[..block.len() - 2])?;
        }
    }
    out.write_all(b"\n  ],\n  \"summary\": ")?;
    let summary = serde_json::to_vec_pretty(&outcome.summary).expect("the summary serializes");
    let mut text = Vec::new();
    indented(&mut text, &summary, b"  ", false);
    out.write_all(&text)?;
    out.write_all(b"\n}\n")
}

/// Appends `json` (pretty, no raw line breaks inside strings) with every line, or every line
/// but the first, after `indent`.
fn indented(out: &mut Vec<u8>, json: &[u8], indent: &[u8], first_too: bool) {
    for (i, line) in json.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            out.push(b'\n');
        }
        if i > 0 || first_too {
            out.extend_from_slice(indent);
        }
        out.extend_from_slice(line);
    }
}

fn entry<'a>(outcome: &'a Outcome, d: &'a Diagnostic) -> Entry<'a> {
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
        rendered: d.rendered.map(|(file, span)| {
            let source = &outcome.file(file).source;
            let at = source.line_col(span.start);
            RenderedAt { unit: &source.name, line: at.line, column: at.column }
        }),
        object: d.object.as_ref().map(|o| Object { kind: &o.kind, name: &o.name, namespace: o.namespace.as_deref() }),
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
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The report written in blocks is serde_json's pretty output of the whole, byte for byte.
    #[test]
    fn blocks_give_the_pretty_layout() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/broken-app/app.yaml")).unwrap();
        let file = crate::load::load_bytes(crate::source::FileId(0), "app.yaml".into(), text.repeat(40).into_bytes());
        let outcome = crate::lint::lint_files(vec![file], &crate::lint::Options::default());
        assert!(outcome.diagnostics.len() > 300);
        let mut whole = Vec::new();
        serde_json::to_writer_pretty(&mut whole, &Output { outcome: &outcome }).unwrap();
        whole.push(b'\n');
        assert_eq!(String::from_utf8(render_json(&outcome).into_bytes()).unwrap(), String::from_utf8(whole).unwrap());
    }
}
