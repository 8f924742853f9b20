use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Value, json};

use crate::diagnostic::{Diagnostic, Severity};
use crate::lint::Outcome;
use crate::rules::{self, Rule};
use crate::source::SourceFile;

/// SARIF 2.1.0 as GitHub code scanning ingests it: every rule with its help, every finding with
/// its region. Findings in `helm template` output are located at their template, with the
/// rendered place as a related location.
pub fn render_sarif(outcome: &Outcome) -> String {
    let mut out = Vec::new();
    write_sarif(outcome, &mut out).expect("writing to memory does not fail");
    String::from_utf8(out).expect("JSON is UTF-8")
}

/// Writes the SARIF log as it is serialized, one result at a time.
pub fn write_sarif(outcome: &Outcome, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &Log(outcome))?;
    out.write_all(b"\n")
}

/// The log; its keys in the order `serde_json` sorts object keys.
struct Log<'a>(&'a Outcome);
struct Run<'a>(&'a Outcome);

impl Serialize for Log<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("$schema", "https://json.schemastore.org/sarif-2.1.0.json")?;
        map.serialize_entry("runs", &[Run(self.0)])?;
        map.serialize_entry("version", "2.1.0")?;
        map.end()
    }
}

impl Serialize for Run<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let tool = json!({"driver": {
            "name": "rollcheck",
            "version": env!("CARGO_PKG_VERSION"),
            "informationUri": "https://github.com/rollcheck/rollcheck",
            "rules": rules::ALL.iter().map(|r| rule(r)).collect::<Vec<_>>(),
        }});
        let root = crate::paths::repository_root();
        let mut root_uri = file_uri(&root);
        if !root_uri.ends_with('/') {
            root_uri.push('/');
        }
        let base = json!({SRCROOT: {"uri": root_uri}});
        let mut map = serializer.serialize_map(Some(4))?;
        map.serialize_entry("columnKind", "unicodeCodePoints")?;
        map.serialize_entry("originalUriBaseIds", &base)?;
        map.serialize_entry("results", &Results { outcome: self.0, root })?;
        map.serialize_entry("tool", &tool)?;
        map.end()
    }
}

/// The base of relative artifact locations: the repository root (GitHub code scanning
/// resolves it to the checkout).
const SRCROOT: &str = "%SRCROOT%";

struct Results<'a> {
    outcome: &'a Outcome,
    root: PathBuf,
}

impl Serialize for Results<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let fingerprints = fingerprints(self);
        let results = self.outcome.diagnostics.iter().zip(fingerprints).map(|(d, f)| result(self, d, f));
        serializer.collect_seq(results)
    }
}

fn rule(r: &Rule) -> Value {
    json!({
        "id": r.id,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": first_paragraph(r.doc)},
        "helpUri": rules::doc_url(r.id),
        "help": {"text": format!("{}\n\nSee {}", r.summary, rules::doc_url(r.id)), "markdown": r.doc},
        "defaultConfiguration": {"level": level(r.severity)},
        "properties": {"tags": ["argo-rollouts", "kubernetes"]},
    })
}

/// The paragraph under the page's severity line: what the rule is about.
fn first_paragraph(doc: &str) -> &str {
    doc.split("\n\n").nth(2).map(str::trim).unwrap_or_default()
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

fn result(results: &Results<'_>, d: &Diagnostic, fingerprint: String) -> Value {
    let outcome = results.outcome;
    let source = &outcome.file(d.file).source;
    let mut text = d.message.clone();
    if let Some(help) = &d.help {
        text.push_str(&format!("\nhelp: {help}"));
    }
    let rendered = location(results, source, d.span, None);
    if let Some((file, span)) = d.rendered {
        let output = &outcome.file(file).source;
        text.push_str(&format!("\n(line {} of the output of `{}`)", output.line_col(span.start).line, output.name));
    }
    let (primary, mut related) = match &d.helm_source {
        // A template path that names a file of the repository (else it is not presented as one).
        Some(template) if d.rendered.is_none() && std::path::Path::new(template.as_ref()).is_file() => {
            let at = source.line_col(d.span.start);
            text.push_str(&format!("\n(line {} of the rendered `helm template` output)", at.line));
            // The line in the template is not known: the region is the template's first line.
            let mut template_location = json!({"physicalLocation": {
                "artifactLocation": artifact(&results.root, template),
                "region": {"startLine": 1},
            }});
            template_location["message"] = json!({"text": "the template this was rendered from"});
            let mut rendered = rendered;
            rendered["message"] = json!({"text": "where `helm template` rendered it"});
            (template_location, vec![rendered])
        }
        _ => (rendered, Vec::new()),
    };
    for r in &d.related {
        related.push(location(results, &outcome.file(r.file).source, r.span, Some(&r.message)));
    }
    for (i, r) in related.iter_mut().enumerate() {
        r["id"] = json!(i);
    }
    let rule_index = rules::ALL.iter().position(|r| r.id == d.rule);
    let mut result = json!({
        "ruleId": d.rule,
        "level": level(d.severity),
        "message": {"text": text},
        "locations": [primary],
        "partialFingerprints": {"rollcheck/v2": fingerprint},
    });
    if let Some(i) = rule_index {
        result["ruleIndex"] = json!(i);
    }
    if !related.is_empty() {
        result["relatedLocations"] = json!(related);
    }
    result
}

fn location(results: &Results<'_>, source: &SourceFile, span: crate::source::Span, message: Option<&str>) -> Value {
    let start = source.line_col(span.start);
    let end = source.line_col(span.end.max(span.start));
    let mut loc = json!({"physicalLocation": {
        "artifactLocation": artifact(&results.root, &source.name),
        "region": {
            "startLine": start.line,
            "startColumn": start.column,
            "endLine": end.line,
            "endColumn": end.column.max(if end.line == start.line { start.column + 1 } else { 1 }),
        }
    }});
    if let Some(m) = message {
        loc["message"] = json!({"text": m});
    }
    loc
}

/// Where a file is: relative to the repository root (`%SRCROOT%`), normalised; a file
/// outside it by its absolute `file:` URI; standard input as `stdin`.
fn artifact(root: &Path, name: &str) -> Value {
    if name == "-" {
        return json!({"uri": "stdin", "uriBaseId": SRCROOT});
    }
    let path = Path::new(name);
    let absolute = crate::paths::absolute(path);
    match absolute.strip_prefix(root) {
        Ok(_) => {
            let relative = crate::paths::relative(&absolute, root).unwrap_or_default();
            json!({"uri": encode(&relative), "uriBaseId": SRCROOT})
        }
        Err(_) if path.is_absolute() || name.starts_with("..") || name.contains("/../") => {
            json!({"uri": file_uri(&absolute)})
        }
        // A name that is not a path on this machine (a Helm template's `# Source:`).
        Err(_) => json!({"uri": encode(name.strip_prefix("./").unwrap_or(name)), "uriBaseId": SRCROOT}),
    }
}

/// An absolute path as a `file:` URI.
fn file_uri(path: &Path) -> String {
    let text = path.to_string_lossy().replace('\\', "/");
    let text = if text.starts_with('/') { text } else { format!("/{text}") };
    format!("file://{}", encode(&text))
}

/// A URI path: forward slashes, reserved characters percent-encoded.
fn encode(path: &str) -> String {
    let mut out = String::new();
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One per result, unique in the log and stable across edits that do not touch the finding:
/// rule, repository-relative path, object and message, and, for findings that share all of
/// these, which of them it is in file order (FNV-1a, 64 bits). Lines take no part.
fn fingerprints(results: &Results<'_>) -> Vec<String> {
    let mut seen: HashMap<u64, u32> = HashMap::new();
    results
        .outcome
        .diagnostics
        .iter()
        .map(|d| {
            let name = match &d.helm_source {
                Some(template) => template.to_string(),
                None => results.outcome.file(d.file).source.name.clone(),
            };
            let path = artifact(&results.root, &name)["uri"].as_str().unwrap_or_default().to_string();
            let object =
                d.object.as_ref().map(|o| format!("{}/{:?}/{}", o.kind, o.namespace, o.name)).unwrap_or_default();
            let key = fnv(&[d.rule, &path, &object, &d.message].join("\u{0}"));
            let n = seen.entry(key).or_default();
            *n += 1;
            format!("{:016x}", fnv(&format!("{key:016x}\u{0}{n}")))
        })
        .collect()
}

fn fnv(text: &str) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}
